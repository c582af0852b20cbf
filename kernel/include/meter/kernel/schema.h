// Configuration schemas: what a board descriptor, an SKU file and a site file may hold.
//
// A schema is data (keys, types, ranges, units, defaults, descriptions), so one walker checks
// every file the same way and collects every error, toml++-style, with file, line and column;
// and the configuration reference (docs/configuration.md) is generated from the same data, so
// it cannot drift from what the meter accepts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

namespace meter::kernel::config {

/// One configuration error, located.
struct Diagnostic {
  std::string file;
  std::uint32_t line = 0;  ///< 0 when the error has no place in a file (a missing file)
  std::uint32_t column = 0;
  std::string message;
  std::string to_string() const;  ///< "file:line:column: message"
};

class Diagnostics {
 public:
  void add(std::string_view file, const toml::source_region& where, std::string message);
  void add(std::string_view file, const toml::node* where, std::string message);
  void add(std::string_view file, std::string message);  ///< no location (missing file)
  /// A message already located by another checker ("file:line:column: ...").
  void add_located(std::string message);
  bool empty() const noexcept { return list_.empty(); }
  std::size_t size() const noexcept { return list_.size(); }
  const std::vector<Diagnostic>& list() const noexcept { return list_; }
  std::string to_string() const;  ///< one per line

 private:
  std::vector<Diagnostic> list_;
};

enum class FieldType : std::uint8_t {
  integer = 1,
  real,        ///< an integer is accepted where a real is expected
  boolean,
  text,
  text_array,
  table,        ///< a nested table with its own schema
  table_array,  ///< [[array]] of tables, each with the nested schema
  table_map,    ///< a table whose keys are names (ids) and whose values follow the nested schema
  any_table,    ///< a table checked elsewhere (a plugin's settings, against its manifest)
  date,         ///< a TOML local date, 2026-11-21
  date_time,    ///< a TOML date-time with offset, 2026-01-01T00:00:00Z
};

struct Schema;

struct Field {
  std::string_view key;
  FieldType type = FieldType::text;
  std::string_view description;
  bool required = false;
  std::optional<double> min{};  ///< inclusive; for integer, real and array lengths
  std::optional<double> max{};
  std::vector<std::string_view> allowed{};  ///< text: the accepted values; empty means any
  std::string_view unit{};
  std::string_view default_text{};  ///< shown in the reference
  const Schema* nested = nullptr;   ///< table, table_array, table_map
};

struct Schema {
  std::string_view name;  ///< "board descriptor", "SKU file", "site file"
  std::string_view description;
  std::vector<Field> fields;
  const Field* find(std::string_view key) const noexcept;
};

/// Checks `table` against `schema`: types, ranges, allowed values, required keys, and unknown
/// keys (a typo is an error, never ignored). `path` prefixes key names in messages ("display").
void check(const toml::table& table, const Schema& schema, std::string_view file,
           std::string_view path, Diagnostics& out);

/// Parses a TOML file; a syntax error, or a file that cannot be read ("<path>: cannot be read:
/// no such file", "... is a directory", "... permission denied"), is reported and nullopt returned.
std::optional<toml::table> parse_file(const std::string& path, Diagnostics& out);

/// The reference of a schema as Markdown: one table of keys per TOML table.
std::string to_markdown(const Schema& schema);

}  // namespace meter::kernel::config
