// The plugin manifest (plugin.toml): what a plugin is, what it may do, what it provides and
// how it is configured. Parsed with toml++; the host, the validator and the fake host all read
// manifests and check configurations with this one header, so they cannot disagree.
//
// Header-only and independent of the kernel. Errors read like toml++'s: source, line, column,
// the key and the rule broken.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

namespace meter::sdk {

/// Whether a plugin is part of the meter's legal metrology (and so signed and identified).
enum class LegalClass : std::uint8_t { legally_relevant = 1, not_relevant };

/// The type of a configuration key. `array` holds scalars of the field's `items` type;
/// `table_array` holds tables whose keys are the field's nested `fields` (TOML [[key]] or an
/// inline array of tables). Both reach the plugin through config_get as TEXT (see
/// config_toml() in meter/sdk/config.h).
enum class ConfigType : std::uint8_t { integer = 1, real, boolean, text, array, table_array };

/// One key of a plugin's configuration schema.
struct ConfigField {
  std::string key;
  ConfigType type = ConfigType::integer;
  std::optional<double> min;  ///< inclusive, for integer and real
  std::optional<double> max;  ///< inclusive, for integer and real
  std::string unit;           ///< "s", "Wh", "" when dimensionless
  toml::table default_holder;  ///< holds the default under key "value", when there is one
  bool required = false;       ///< a required key has no default and must be set
  std::vector<std::string> allowed;  ///< for text: the values accepted; empty means any
  std::string description;
  // Appended for structured keys; scalar fields leave them empty.
  std::optional<ConfigType> items;  ///< array: the scalar type of every item
  std::string pattern;              ///< text and text items: ECMAScript regex the whole value matches
  std::optional<std::size_t> min_items;  ///< array, table_array: at least this many items
  std::optional<std::size_t> max_items;  ///< array, table_array: at most this many items
  bool increasing = false;               ///< array: each item strictly greater than the one before
  std::vector<ConfigField> fields;  ///< table_array: the keys of each table (nested, no defaults)
};

/// An object the plugin registers (checked when it registers: an unlisted id is refused).
struct ProvidedObject {
  std::string obis;  ///< "1-0:1.8.1"
  std::string name;
  std::string type;  ///< integer | unsigned | real | boolean | text | octets
  std::string unit;
};

/// A constraint a plugin puts on the meter's settings, e.g. display.scroll_time_s >= 10 (a comms
/// module's approval) or metrology.tick_s divides 60 (a plugin whose intervals fall on minutes).
struct MeterConstraint {
  std::string key;  ///< a meter setting, "display.scroll_time_s", "metrology.tick_s"
  std::string op;   ///< one of >= <= > < == != divides (the setting divides `value` exactly)
  double value = 0;
  std::string reason;  ///< why the plugin needs it, said when it is broken; may be empty
};

/// The approval's fields for a communication module (Measurement Canada AE-1559 style).
struct CommsApproval {
  std::string type;                    ///< rf | plc | modem | other
  std::vector<std::string> functions;  ///< energy | demand | pulse-recorder | tou | remote-disconnect | other
  double burden_w = 0;                 ///< the module's burden on the meter, watts
  std::vector<MeterConstraint> constraints;
};

/// A parsed plugin.toml.
struct Manifest {
  std::string id;
  std::string version;  ///< semantic version "MAJOR.MINOR.PATCH"
  std::string vendor;
  std::string description;
  std::uint16_t abi_major = 0;
  std::uint16_t abi_minor = 0;
  LegalClass legal_class = LegalClass::not_relevant;
  /// "relay", "io" (file-descriptor watches and timers), "port:optical" and "port:comms" (port
  /// logons), "write:tariff-registers", "nvm:<id>"
  std::vector<std::string> capabilities;
  std::vector<std::string> provides;      ///< services other plugins may require
  std::vector<std::string> requires_;     ///< services (or plugin ids) that must start first
  std::vector<ProvidedObject> objects;
  std::vector<ConfigField> config;
  std::optional<CommsApproval> comms;
  /// [[constraints]]: what any plugin needs of the meter's settings (a comms module's approval
  /// constraints stay in comms.constraints; check_constraints checks both).
  std::vector<MeterConstraint> constraints;

  bool has_capability(std::string_view name) const {
    for (const auto& c : capabilities) {
      if (c == name) return true;
    }
    return false;
  }
  const ConfigField* field(std::string_view key) const {
    for (const auto& f : config) {
      if (f.key == key) return &f;
    }
    return nullptr;
  }
};

/// A manifest, or the reasons it was refused (never both).
struct ManifestParse {
  std::optional<Manifest> manifest;
  std::vector<std::string> errors;
};

/// A configuration after validation: every schema key with its value or default, or errors.
struct ConfigCheck {
  toml::table values;
  std::vector<std::string> errors;
  bool ok() const noexcept { return errors.empty(); }
};

namespace detail {

inline std::string where(std::string_view source, const toml::source_region& region) {
  std::ostringstream out;
  // A node knows the file it was parsed from; settings merged from an SKU and a site file
  // are then each reported in their own file.
  if (region.path && !region.path->empty()) {
    out << *region.path;
  } else {
    out << source;
  }
  if (region.begin.line != 0) out << ':' << region.begin.line << ':' << region.begin.column;
  return out.str();
}

inline std::string where(std::string_view source, const toml::node* node) {
  return node ? where(source, node->source()) : std::string(source);
}

inline bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                    c == '.';
    if (!ok) return false;
  }
  return id.front() != '.' && id.front() != '-';
}

inline bool valid_semver(std::string_view v) {
  int dots = 0;
  bool digit = false;
  for (char c : v) {
    if (c == '.') {
      if (!digit) return false;
      ++dots;
      digit = false;
    } else if (c >= '0' && c <= '9') {
      digit = true;
    } else {
      return false;
    }
  }
  return dots == 2 && digit;
}

inline bool is_one_of(std::string_view value, std::initializer_list<std::string_view> options) {
  for (auto o : options) {
    if (o == value) return true;
  }
  return false;
}

class Reader {
 public:
  Reader(std::string_view source, std::vector<std::string>& errors)
      : source_(source), errors_(errors) {}

  void error(const toml::node* node, std::string_view key, std::string_view rule) {
    errors_.push_back(where(source_, node) + ": " + std::string(key) + ": " + std::string(rule));
  }

  std::string text(const toml::table& t, std::string_view key, std::string_view path,
                   bool required) {
    const toml::node* node = t.get(key);
    if (node == nullptr) {
      if (required) error(&t, path, "is required (a string)");
      return {};
    }
    if (auto v = node->value<std::string>()) return *v;
    error(node, path, "must be a string");
    return {};
  }

  std::vector<std::string> strings(const toml::table& t, std::string_view key,
                                   std::string_view path) {
    std::vector<std::string> out;
    const toml::node* node = t.get(key);
    if (node == nullptr) return out;
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      error(node, path, "must be an array of strings");
      return out;
    }
    for (const auto& item : *array) {
      if (auto v = item.value<std::string>()) {
        out.push_back(*v);
      } else {
        error(&item, path, "must be an array of strings");
      }
    }
    return out;
  }

  std::optional<double> number(const toml::table& t, std::string_view key, std::string_view path) {
    const toml::node* node = t.get(key);
    if (node == nullptr) return std::nullopt;
    if (auto v = node->value<double>()) return *v;
    error(node, path, "must be a number");
    return std::nullopt;
  }

 private:
  std::string_view source_;
  std::vector<std::string>& errors_;
};

inline std::optional<ConfigType> config_type(std::string_view name) {
  if (name == "integer") return ConfigType::integer;
  if (name == "real") return ConfigType::real;
  if (name == "boolean") return ConfigType::boolean;
  if (name == "text") return ConfigType::text;
  if (name == "array") return ConfigType::array;
  if (name == "table-array") return ConfigType::table_array;
  return std::nullopt;
}

inline std::string_view name_of(ConfigType t) {
  switch (t) {
    case ConfigType::integer: return "integer";
    case ConfigType::real: return "real";
    case ConfigType::boolean: return "boolean";
    case ConfigType::text: return "text";
    case ConfigType::array: return "array";
    case ConfigType::table_array: return "table-array";
  }
  return "unknown";
}

inline bool node_has_type(const toml::node& node, ConfigType type) {
  switch (type) {
    case ConfigType::integer: return node.is_integer();
    case ConfigType::real: return node.is_floating_point() || node.is_integer();
    case ConfigType::boolean: return node.is_boolean();
    case ConfigType::text: return node.is_string();
    case ConfigType::array: return node.is_array();
    case ConfigType::table_array: return node.is_array_of_tables();
  }
  return false;
}

inline std::string format_number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

/// Checks a scalar value (or one item of an array) against its field's rules.
inline std::string scalar_rule_broken(const ConfigField& f, ConfigType type,
                                      const toml::node& node) {
  if (!node_has_type(node, type)) return "must be of type " + std::string(name_of(type));
  const std::string unit = f.unit.empty() ? "" : " " + f.unit;
  if (type == ConfigType::integer || type == ConfigType::real) {
    const double v = *node.value<double>();
    if (f.min && v < *f.min) {
      return format_number(v) + unit + " is below the minimum " + format_number(*f.min) + unit;
    }
    if (f.max && v > *f.max) {
      return format_number(v) + unit + " is above the maximum " + format_number(*f.max) + unit;
    }
  }
  if (type == ConfigType::text && !f.allowed.empty()) {
    const std::string v = *node.value<std::string>();
    bool found = false;
    std::string options;
    for (const auto& a : f.allowed) {
      found = found || a == v;
      options += (options.empty() ? "" : ", ") + a;
    }
    if (!found) return "\"" + v + "\" is not one of: " + options;
  }
  if (type == ConfigType::text && !f.pattern.empty()) {
    const std::string v = *node.value<std::string>();
    if (!std::regex_match(v, std::regex(f.pattern, std::regex::ECMAScript))) {
      return "\"" + v + "\" does not match the pattern " + f.pattern;
    }
  }
  return {};
}

/// "item 3 (line 41, column 18): " naming a nested node inside a structured value.
inline std::string nested(std::string_view what, const toml::node& node) {
  std::ostringstream out;
  out << what;
  if (node.source().begin.line != 0) {
    out << " (line " << node.source().begin.line << ", column " << node.source().begin.column
        << ')';
  }
  out << ": ";
  return out.str();
}

inline bool less_than(const toml::node& a, const toml::node& b) {
  if (auto x = a.value<std::string>()) return *x < b.value_or(std::string{});
  if (auto x = a.value<double>()) return *x < b.value_or(0.0);
  return false;
}

/// Checks one value against its field; returns the rule it breaks, or empty. A rule broken
/// inside an array or table-array names the item (1-based), nested key and its line and column.
inline std::string rule_broken(const ConfigField& f, const toml::node& node) {
  if (f.type != ConfigType::array && f.type != ConfigType::table_array) {
    return scalar_rule_broken(f, f.type, node);
  }
  const toml::array* array = node.as_array();
  if (array == nullptr) {
    return f.type == ConfigType::array ? "must be an array"
                                       : "must be an array of tables ([[key]] or [{...}, ...])";
  }
  if (f.min_items && array->size() < *f.min_items) {
    return "has " + std::to_string(array->size()) + " items, fewer than the minimum " +
           std::to_string(*f.min_items);
  }
  if (f.max_items && array->size() > *f.max_items) {
    return "has " + std::to_string(array->size()) + " items, more than the maximum " +
           std::to_string(*f.max_items);
  }
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& item = *array->get(i);
    const std::string label = "item " + std::to_string(i + 1);
    if (f.type == ConfigType::array) {
      const std::string broken = scalar_rule_broken(f, f.items.value_or(ConfigType::text), item);
      if (!broken.empty()) return nested(label, item) + broken;
      if (f.increasing && i > 0 && !less_than(*array->get(i - 1), item)) {
        return nested(label, item) + "must be greater than the item before it";
      }
      continue;
    }
    const toml::table* table = item.as_table();
    if (table == nullptr) return nested(label, item) + "must be a table";
    for (const auto& [key, value] : *table) {
      const auto known = std::find_if(f.fields.begin(), f.fields.end(),
                                      [&](const ConfigField& n) { return n.key == key.str(); });
      if (known == f.fields.end()) {
        return nested(label + ", " + std::string(key.str()), value) + "is not a key of " + f.key;
      }
      const std::string broken = rule_broken(*known, value);
      if (!broken.empty()) {
        return nested(label + ", " + known->key, value) + broken;
      }
    }
    for (const auto& n : f.fields) {
      if (n.required && !table->contains(n.key)) {
        return nested(label, item) + n.key + " is required (" + std::string(name_of(n.type)) +
               ") and not set";
      }
    }
  }
  return {};
}

/// Parses one [config.<key>] table (or, when `nested`, one key of a table-array's `fields`,
/// which may be optional without a default: the plugin reads what is there).
inline std::optional<ConfigField> parse_field(Reader& r, const std::string& key,
                                              const toml::node& node, const std::string& path,
                                              bool nested) {
  const toml::table* t = node.as_table();
  if (t == nullptr) {
    r.error(&node, path, "must be a table (type, min, max, unit, default, required)");
    return std::nullopt;
  }
  ConfigField f;
  f.key = key;
  const std::string type = r.text(*t, "type", path + ".type", true);
  if (auto ct = config_type(type)) {
    f.type = *ct;
  } else if (!type.empty()) {
    r.error(t->get("type"), path + ".type",
            "must be integer, real, boolean, text, array or table-array");
    return std::nullopt;
  } else {
    return std::nullopt;
  }
  f.min = r.number(*t, "min", path + ".min");
  f.max = r.number(*t, "max", path + ".max");
  if (f.min && f.max && *f.min > *f.max) r.error(t, path, "min is greater than max");
  f.unit = r.text(*t, "unit", path + ".unit", false);
  f.description = r.text(*t, "description", path + ".description", false);
  f.allowed = r.strings(*t, "allowed", path + ".allowed");
  f.pattern = r.text(*t, "pattern", path + ".pattern", false);
  if (!f.pattern.empty()) {
    try {
      (void)std::regex(f.pattern, std::regex::ECMAScript);
    } catch (const std::regex_error&) {
      r.error(t->get("pattern"), path + ".pattern", "is not a valid regular expression");
    }
  }
  for (const char* bound : {"min_items", "max_items"}) {
    if (const toml::node* n = t->get(bound)) {
      const auto v = n->value<std::int64_t>();
      if (!v || *v < 0) {
        r.error(n, path + "." + bound, "must be a non-negative integer");
      } else {
        (std::string_view(bound) == "min_items" ? f.min_items : f.max_items) =
            static_cast<std::size_t>(*v);
      }
    }
  }
  if (const toml::node* n = t->get("increasing")) {
    if (auto b = n->value<bool>()) {
      f.increasing = *b;
    } else {
      r.error(n, path + ".increasing", "must be true or false");
    }
  }
  if (f.type == ConfigType::array) {
    const std::string items = r.text(*t, "items", path + ".items", true);
    const auto it = config_type(items);
    if (!items.empty() && (!it || *it == ConfigType::array || *it == ConfigType::table_array)) {
      r.error(t->get("items"), path + ".items", "must be integer, real, boolean or text");
    }
    f.items = it.value_or(ConfigType::text);
  }
  if (f.type == ConfigType::table_array) {
    const toml::table* fields = t->get_as<toml::table>("fields");
    if (fields == nullptr) {
      r.error(t, path + ".fields", "is required (a table of keys) for a table-array");
    } else {
      for (const auto& [name, sub] : *fields) {
        if (auto nf = parse_field(r, std::string(name.str()), sub,
                                  path + ".fields." + std::string(name.str()), true)) {
          f.fields.push_back(std::move(*nf));
        }
      }
    }
  }
  if (const toml::node* req = t->get("required")) {
    if (auto b = req->value<bool>()) {
      f.required = *b;
    } else {
      r.error(req, path + ".required", "must be true or false");
    }
  }
  if (const toml::node* def = t->get("default")) {
    if (nested) r.error(def, path + ".default", "a nested key has no default");
    if (f.required) r.error(def, path + ".default", "a required key has no default");
    const std::string broken = rule_broken(f, *def);
    if (!broken.empty()) {
      r.error(def, path + ".default", broken);
    } else {
      f.default_holder.insert("value", *def);
    }
  } else if (!f.required && !nested) {
    r.error(t, path, "needs a default or required = true");
  }
  return f;
}

/// Parses an array of constraint tables (`[[constraints]]`, `[[comms.constraints]]`) at `path`.
inline void parse_constraints(Reader& r, const toml::node& node, const std::string& path,
                              std::vector<MeterConstraint>& out) {
  const toml::array* array = node.as_array();
  if (array == nullptr) {
    r.error(&node, path, "must be an array of tables");
    return;
  }
  for (const auto& item : *array) {
    const toml::table* ct = item.as_table();
    if (ct == nullptr) {
      r.error(&item, path, "must be an array of tables");
      continue;
    }
    MeterConstraint mc;
    mc.key = r.text(*ct, "key", path + ".key", true);
    mc.op = r.text(*ct, "op", path + ".op", true);
    if (!mc.op.empty() && !is_one_of(mc.op, {">=", "<=", ">", "<", "==", "!=", "divides"})) {
      r.error(ct->get("op"), path + ".op", "must be >= <= > < == != or divides");
    }
    if (auto v = r.number(*ct, "value", path + ".value")) {
      mc.value = *v;
    } else if (!ct->contains("value")) {
      r.error(ct, path + ".value", "is required (a number)");
    }
    mc.reason = r.text(*ct, "reason", path + ".reason", false);
    out.push_back(std::move(mc));
  }
}

}  // namespace detail

/// Parses TOML text whether toml++ was built with exceptions or without; on a syntax error
/// returns nullopt and sets `error` to "source:line:column: what".
inline std::optional<toml::table> parse_toml(std::string_view text, std::string_view source,
                                             std::string& error) {
#if TOML_EXCEPTIONS
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    error = detail::where(source, e.source()) + ": " + std::string(e.description());
    return std::nullopt;
  }
#else
  toml::parse_result parsed = toml::parse(text, source);
  if (!parsed) {
    error = detail::where(source, parsed.error().source()) + ": " +
            std::string(parsed.error().description());
    return std::nullopt;
  }
  return std::move(parsed).table();
#endif
}

/// Parses a manifest. `source` names it in errors ("plugins/tou/plugin.toml").
inline ManifestParse parse_manifest(std::string_view text, std::string_view source) {
  ManifestParse out;
  std::string syntax_error;
  const std::optional<toml::table> parsed = parse_toml(text, source, syntax_error);
  if (!parsed) {
    out.errors.push_back(syntax_error);
    return out;
  }
  const toml::table& root = *parsed;
  detail::Reader r(source, out.errors);
  Manifest m;

  const toml::table* plugin = root["plugin"].as_table();
  if (plugin == nullptr) {
    r.error(&root, "plugin", "is required (a table)");
    return out;
  }
  m.id = r.text(*plugin, "id", "plugin.id", true);
  if (!m.id.empty() && !detail::valid_id(m.id)) {
    r.error(plugin->get("id"), "plugin.id", "must be 1..64 of a-z 0-9 . _ - (got \"" + m.id + "\")");
  }
  m.version = r.text(*plugin, "version", "plugin.version", true);
  if (!m.version.empty() && !detail::valid_semver(m.version)) {
    r.error(plugin->get("version"), "plugin.version", "must be MAJOR.MINOR.PATCH");
  }
  m.vendor = r.text(*plugin, "vendor", "plugin.vendor", true);
  m.description = r.text(*plugin, "description", "plugin.description", false);
  const std::string abi = r.text(*plugin, "abi", "plugin.abi", true);
  if (!abi.empty()) {
    unsigned major = 0, minor = 0;
    char dot = 0;
    std::istringstream in(abi);
    if (!(in >> major >> dot >> minor) || dot != '.' || !in.eof() || major > 65535 ||
        minor > 65535) {
      r.error(plugin->get("abi"), "plugin.abi", "must be \"MAJOR.MINOR\"");
    } else {
      m.abi_major = static_cast<std::uint16_t>(major);
      m.abi_minor = static_cast<std::uint16_t>(minor);
    }
  }
  const std::string legal = r.text(*plugin, "legal_class", "plugin.legal_class", true);
  if (legal == "legally-relevant") {
    m.legal_class = LegalClass::legally_relevant;
  } else if (legal == "not-relevant") {
    m.legal_class = LegalClass::not_relevant;
  } else if (!legal.empty()) {
    r.error(plugin->get("legal_class"), "plugin.legal_class",
            "must be \"legally-relevant\" or \"not-relevant\"");
  }
  m.capabilities = r.strings(*plugin, "capabilities", "plugin.capabilities");
  for (const auto& c : m.capabilities) {
    const bool known = c == "relay" || c == "io" || c == "port:optical" || c == "port:comms" ||
                       c.rfind("write:", 0) == 0 || c.rfind("nvm:", 0) == 0;
    if (!known || c == "write:" || c == "nvm:") {
      r.error(plugin->get("capabilities"), "plugin.capabilities",
              "unknown capability \"" + c +
                  "\" (relay, io, port:optical, port:comms, write:<group or OBIS>, nvm:<plugin id>)");
    }
  }
  m.provides = r.strings(*plugin, "provides", "plugin.provides");
  m.requires_ = r.strings(*plugin, "requires", "plugin.requires");

  if (const toml::node* objects = root.get("objects")) {
    const toml::array* array = objects->as_array();
    if (array == nullptr) {
      r.error(objects, "objects", "must be an array of tables ([[objects]])");
    } else {
      for (const auto& item : *array) {
        const toml::table* t = item.as_table();
        if (t == nullptr) {
          r.error(&item, "objects", "must be an array of tables ([[objects]])");
          continue;
        }
        ProvidedObject o;
        o.obis = r.text(*t, "obis", "objects.obis", true);
        o.name = r.text(*t, "name", "objects.name", true);
        o.type = r.text(*t, "type", "objects.type", true);
        o.unit = r.text(*t, "unit", "objects.unit", false);
        if (!o.type.empty() &&
            !detail::is_one_of(o.type, {"integer", "unsigned", "real", "boolean", "text", "octets"})) {
          r.error(t->get("type"), "objects.type",
                  "must be integer, unsigned, real, boolean, text or octets");
        }
        m.objects.push_back(std::move(o));
      }
    }
  }

  if (const toml::node* config = root.get("config")) {
    const toml::table* table = config->as_table();
    if (table == nullptr) {
      r.error(config, "config", "must be a table of keys");
    } else {
      for (const auto& [key, node] : *table) {
        const std::string path = "config." + std::string(key.str());
        if (auto f = detail::parse_field(r, std::string(key.str()), node, path, false)) {
          m.config.push_back(std::move(*f));
        }
      }
    }
  }

  if (const toml::node* comms = root.get("comms")) {
    const toml::table* t = comms->as_table();
    if (t == nullptr) {
      r.error(comms, "comms", "must be a table");
    } else {
      CommsApproval c;
      c.type = r.text(*t, "type", "comms.type", true);
      if (!c.type.empty() && !detail::is_one_of(c.type, {"rf", "plc", "modem", "other"})) {
        r.error(t->get("type"), "comms.type", "must be rf, plc, modem or other");
      }
      c.functions = r.strings(*t, "functions", "comms.functions");
      for (const auto& f : c.functions) {
        if (!detail::is_one_of(f, {"energy", "demand", "pulse-recorder", "tou",
                                   "remote-disconnect", "outage-notification", "relay-readings",
                                   "other"})) {
          r.error(t->get("functions"), "comms.functions", "unknown function \"" + f + "\"");
        }
      }
      if (auto b = r.number(*t, "burden_w", "comms.burden_w")) c.burden_w = *b;
      if (const toml::node* cs = t->get("constraints")) {
        detail::parse_constraints(r, *cs, "comms.constraints", c.constraints);
      }
      m.comms = std::move(c);
    }
  }

  if (const toml::node* cs = root.get("constraints")) {
    detail::parse_constraints(r, *cs, "constraints", m.constraints);
  }

  if (out.errors.empty()) out.manifest = std::move(m);
  return out;
}

/// Validates a plugin's configuration table against its manifest's schema. The result holds
/// every schema key, set or defaulted; errors name the source position, the key and the rule.
inline ConfigCheck validate_config(const Manifest& manifest, const toml::table& config,
                                   std::string_view source) {
  ConfigCheck out;
  for (const auto& [key, node] : config) {
    const ConfigField* f = manifest.field(key.str());
    if (f == nullptr) {
      out.errors.push_back(detail::where(source, &node) + ": " + std::string(key.str()) +
                           ": is not a configuration key of plugin " + manifest.id);
      continue;
    }
    const std::string broken = detail::rule_broken(*f, node);
    if (!broken.empty()) {
      out.errors.push_back(detail::where(source, &node) + ": " + f->key + ": " + broken);
      continue;
    }
    out.values.insert(f->key, node);
  }
  for (const auto& f : manifest.config) {
    if (config.contains(f.key)) continue;  // set: valid, or already reported
    if (f.required) {
      out.errors.push_back(detail::where(source, &config) + ": " + f.key +
                           ": is required (" + std::string(detail::name_of(f.type)) +
                           (f.unit.empty() ? "" : ", " + f.unit) + ") and not set");
    } else if (const toml::node* def = f.default_holder.get("value")) {
      out.values.insert(f.key, *def);
    }
  }
  return out;
}

/// A constraint the meter's settings break: the setting it is on, and what to tell the user.
struct BrokenConstraint {
  std::string key;      ///< the meter setting, "metrology.tick_s"
  std::string message;  ///< "tou requires metrology.tick_s to divide 60 exactly, the meter has 7 (...)"
};

/// Checks a plugin's constraints ([[constraints]] and a comms module's comms.constraints)
/// against the meter's settings (e.g. display.scroll_time_s from the SKU). Returns one entry per
/// broken or unset constraint, in the manifest's order.
inline std::vector<BrokenConstraint> broken_constraints(const Manifest& manifest,
                                                        const toml::table& meter_settings) {
  std::vector<BrokenConstraint> broken;
  std::vector<const MeterConstraint*> all;
  for (const auto& c : manifest.constraints) all.push_back(&c);
  if (manifest.comms) {
    for (const auto& c : manifest.comms->constraints) all.push_back(&c);
  }
  for (const auto* c : all) {
    const std::string rule =
        c->op == "divides"
            ? c->key + " to divide " + detail::format_number(c->value) + " exactly"
            : c->key + " " + c->op + " " + detail::format_number(c->value);
    const std::string why = c->reason.empty() ? "" : " (" + c->reason + ")";
    const auto value = meter_settings.at_path(c->key).value<double>();
    if (!value) {
      broken.push_back({c->key, manifest.id + " requires " + rule +
                                    " but the meter does not set " + c->key + why});
      continue;
    }
    const double v = *value;
    const bool ok = (c->op == ">=" && v >= c->value) || (c->op == "<=" && v <= c->value) ||
                    (c->op == ">" && v > c->value) || (c->op == "<" && v < c->value) ||
                    (c->op == "==" && v == c->value) || (c->op == "!=" && v != c->value) ||
                    (c->op == "divides" && v != 0 && std::fmod(c->value, v) == 0);
    if (!ok) {
      broken.push_back({c->key, manifest.id + " requires " + rule + ", the meter has " +
                                    detail::format_number(v) + why});
    }
  }
  return broken;
}

/// The messages of broken_constraints(): one per broken or unset constraint.
inline std::vector<std::string> check_constraints(const Manifest& manifest,
                                                  const toml::table& meter_settings) {
  std::vector<std::string> messages;
  for (auto& b : broken_constraints(manifest, meter_settings)) messages.push_back(std::move(b.message));
  return messages;
}

}  // namespace meter::sdk
