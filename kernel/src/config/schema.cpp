// The schema walker and the reference generator.
#include "meter/kernel/schema.h"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace meter::kernel::config {

std::string Diagnostic::to_string() const {
  if (file.empty()) return message;
  if (line == 0) return fmt::format("{}: {}", file, message);
  return fmt::format("{}:{}:{}: {}", file, line, column, message);
}

void Diagnostics::add(std::string_view file, const toml::source_region& where,
                      std::string message) {
  list_.push_back({std::string(file), where.begin.line, where.begin.column, std::move(message)});
}

void Diagnostics::add(std::string_view file, const toml::node* where, std::string message) {
  if (where == nullptr) {
    add(file, std::move(message));
  } else {
    add(file, where->source(), std::move(message));
  }
}

void Diagnostics::add(std::string_view file, std::string message) {
  list_.push_back({std::string(file), 0, 0, std::move(message)});
}

void Diagnostics::add_located(std::string message) {
  list_.push_back({std::string(), 0, 0, std::move(message)});
}

std::string Diagnostics::to_string() const {
  std::string out;
  for (const auto& d : list_) out += d.to_string() + "\n";
  return out;
}

const Field* Schema::find(std::string_view key) const noexcept {
  for (const auto& f : fields) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

namespace {

std::string_view type_name(FieldType t) {
  switch (t) {
    case FieldType::integer: return "an integer";
    case FieldType::real: return "a number";
    case FieldType::boolean: return "true or false";
    case FieldType::text: return "a string";
    case FieldType::text_array: return "an array of strings";
    case FieldType::table: return "a table";
    case FieldType::table_array: return "an array of tables";
    case FieldType::table_map: return "a table of named tables";
    case FieldType::any_table: return "a table";
    case FieldType::date: return "a date (YYYY-MM-DD)";
    case FieldType::date_time: return "a date and time with offset (2026-01-01T00:00:00Z)";
  }
  return "a value";
}

std::string join(const std::vector<std::string_view>& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    out += i == 0 ? "" : (i + 1 == v.size() ? " or " : ", ");
    out += fmt::format("\"{}\"", v[i]);
  }
  return out;
}

std::string qualified(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

void check_range(const Field& f, double v, const toml::node& node, std::string_view file,
                 const std::string& name, Diagnostics& out) {
  const bool low = f.min && v < *f.min;
  const bool high = f.max && v > *f.max;
  if (!low && !high) return;
  const auto unit = f.unit.empty() ? std::string() : fmt::format(" {}", f.unit);
  if (f.min && f.max) {
    out.add(file, &node, fmt::format("'{}' is {}{}; it must be from {} to {}{}", name, v, unit,
                                     *f.min, *f.max, unit));
  } else if (low) {
    out.add(file, &node, fmt::format("'{}' is {}{}; it must be at least {}{}", name, v, unit,
                                     *f.min, unit));
  } else {
    out.add(file, &node, fmt::format("'{}' is {}{}; it must be at most {}{}", name, v, unit,
                                     *f.max, unit));
  }
}

void check_value(const Field& f, const toml::node& node, std::string_view file,
                 const std::string& name, Diagnostics& out) {
  auto wrong_type = [&] {
    out.add(file, &node, fmt::format("'{}' must be {}", name, type_name(f.type)));
  };
  switch (f.type) {
    case FieldType::integer:
      if (!node.is_integer()) return wrong_type();
      check_range(f, static_cast<double>(*node.value<std::int64_t>()), node, file, name, out);
      return;
    case FieldType::real: {
      if (!node.is_number()) return wrong_type();
      const double v = *node.value<double>();
      if (!std::isfinite(v)) {
        out.add(file, &node, fmt::format("'{}' must be a finite number", name));
        return;
      }
      check_range(f, v, node, file, name, out);
      return;
    }
    case FieldType::boolean:
      if (!node.is_boolean()) wrong_type();
      return;
    case FieldType::text: {
      if (!node.is_string()) return wrong_type();
      const auto& s = *node.as_string();
      if (!f.allowed.empty()) {
        bool ok = false;
        for (auto a : f.allowed) ok = ok || a == s.get();
        if (!ok) {
          out.add(file, &node, fmt::format("'{}' is \"{}\"; it must be {}", name, s.get(),
                                           join(f.allowed)));
        }
      }
      if (f.min && static_cast<double>(s.get().size()) < *f.min) {
        out.add(file, &node, fmt::format("'{}' must not be empty", name));
      }
      if (f.max && static_cast<double>(s.get().size()) > *f.max) {
        out.add(file, &node, fmt::format("'{}' is \"{}\", {} characters; at most {} are allowed",
                                         name, s.get(), s.get().size(), *f.max));
      }
      return;
    }
    case FieldType::text_array: {
      const auto* a = node.as_array();
      if (a == nullptr) return wrong_type();
      for (const auto& e : *a) {
        if (!e.is_string()) {
          out.add(file, &e, fmt::format("'{}' must hold only strings", name));
        } else if (!f.allowed.empty()) {
          bool ok = false;
          for (auto v : f.allowed) ok = ok || v == e.as_string()->get();
          if (!ok) {
            out.add(file, &e, fmt::format("'{}' holds \"{}\"; each must be {}", name,
                                          e.as_string()->get(), join(f.allowed)));
          }
        }
      }
      if (f.max && static_cast<double>(a->size()) > *f.max) {
        out.add(file, &node, fmt::format("'{}' has {} entries; at most {} are allowed", name,
                                         a->size(), *f.max));
      }
      if (f.min && static_cast<double>(a->size()) < *f.min) {
        out.add(file, &node, fmt::format("'{}' has {} entries; at least {} are needed", name,
                                         a->size(), *f.min));
      }
      return;
    }
    case FieldType::table:
      if (!node.is_table()) return wrong_type();
      check(*node.as_table(), *f.nested, file, name, out);
      return;
    case FieldType::any_table:
      if (!node.is_table()) wrong_type();
      return;
    case FieldType::table_array: {
      const auto* a = node.as_array();
      if (a == nullptr || !a->is_array_of_tables()) return wrong_type();
      if (f.max && static_cast<double>(a->size()) > *f.max) {
        out.add(file, &node, fmt::format("'{}' has {} entries; at most {} are allowed", name,
                                         a->size(), *f.max));
      }
      for (std::size_t i = 0; i < a->size(); ++i) {
        check(*a->get(i)->as_table(), *f.nested, file, fmt::format("{}[{}]", name, i), out);
      }
      return;
    }
    case FieldType::table_map: {
      if (!node.is_table()) return wrong_type();
      for (const auto& [k, v] : *node.as_table()) {
        const auto entry = qualified(name, k.str());
        if (!v.is_table()) {
          out.add(file, &v, fmt::format("'{}' must be a table", entry));
        } else {
          check(*v.as_table(), *f.nested, file, entry, out);
        }
      }
      return;
    }
    case FieldType::date:
      if (!node.is_date()) wrong_type();
      return;
    case FieldType::date_time:
      if (!node.is_date_time() || !node.as_date_time()->get().offset) wrong_type();
      return;
  }
}

}  // namespace

void check(const toml::table& table, const Schema& schema, std::string_view file,
           std::string_view path, Diagnostics& out) {
  for (const auto& [key, node] : table) {
    const auto name = qualified(path, key.str());
    const auto* f = schema.find(key.str());
    if (f == nullptr) {
      std::vector<std::string_view> known;
      for (const auto& k : schema.fields) known.push_back(k.key);
      out.add(file, key.source(),
              fmt::format("unknown key '{}' in the {}{}; known keys: {}", name, schema.name,
                          path.empty() ? "" : fmt::format(" table [{}]", path),
                          known.empty() ? std::string("none") : join(known)));
      continue;
    }
    check_value(*f, node, file, name, out);
  }
  for (const auto& f : schema.fields) {
    if (f.required && !table.contains(f.key)) {
      out.add(file, table.source(),
              fmt::format("missing required key '{}' ({})", qualified(path, f.key), f.description));
    }
  }
}

namespace {

std::string unreadable(int error) {
  switch (error) {
    case ENOENT: return "no such file";
    case EISDIR: return "is a directory";
    case EACCES:
    case EPERM: return "permission denied";
    default: break;
  }
  auto reason = std::generic_category().message(error);
  if (!reason.empty()) reason[0] = static_cast<char>(std::tolower(reason[0]));
  return reason;
}

}  // namespace

std::optional<toml::table> parse_file(const std::string& path, Diagnostics& out) {
  // std::ifstream opens a directory on Linux without failing, so its type is asked first.
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  int error = 0;
  if (status.type() == std::filesystem::file_type::not_found) {
    error = ENOENT;
  } else if (ec) {
    error = ec.value();
  } else if (status.type() == std::filesystem::file_type::directory) {
    error = EISDIR;
  }
  // Only a regular file: /dev/zero would be read for ever, a FIFO would wait for a writer.
  if (error == 0 && status.type() != std::filesystem::file_type::regular) {
    out.add(path, "cannot be read: not a regular file (a device, a pipe or a socket)");
    return std::nullopt;
  }
  std::ifstream in;
  if (error == 0) {
    errno = 0;
    in.open(path, std::ios::binary);
    if (!in) error = errno != 0 ? errno : EACCES;
  }
  if (error != 0) {
    out.add(path, fmt::format("cannot be read: {}", unreadable(error)));
    return std::nullopt;
  }
  // And of a sane size.
  constexpr std::uintmax_t kMaxConfigBytes = 4 * 1024 * 1024;
  if (const auto size = std::filesystem::file_size(path, ec); !ec && size > kMaxConfigBytes) {
    out.add(path, fmt::format("cannot be read: {} bytes; a configuration file is at most {} MiB",
                              size, kMaxConfigBytes / (1024 * 1024)));
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  try {
    return toml::parse(text.str(), path);
  } catch (const toml::parse_error& e) {
    out.add(path, e.source(), fmt::format("TOML syntax: {}", e.description()));
    return std::nullopt;
  }
}

namespace {

void markdown_table(const Schema& schema, std::string_view path, std::string& out,
                    std::vector<std::pair<std::string, const Schema*>>& nested) {
  out += fmt::format("| key | type | required | range or values | unit | default | meaning |\n");
  out += "| --- | --- | --- | --- | --- | --- | --- |\n";
  for (const auto& f : schema.fields) {
    std::string range;
    if (!f.allowed.empty()) {
      range = join(f.allowed);
    } else if (f.min && f.max) {
      range = fmt::format("{} … {}", *f.min, *f.max);
    } else if (f.min) {
      range = fmt::format("≥ {}", *f.min);
    } else if (f.max) {
      range = fmt::format("≤ {}", *f.max);
    }
    out += fmt::format("| `{}` | {} | {} | {} | {} | {} | {} |\n", f.key, type_name(f.type),
                       f.required ? "yes" : "no", range, f.unit,
                       f.default_text.empty() ? "" : fmt::format("`{}`", f.default_text),
                       f.description);
    if (f.nested != nullptr) {
      const auto sub = qualified(path, f.key);
      nested.emplace_back(f.type == FieldType::table_map ? sub + ".<name>"
                          : f.type == FieldType::table_array ? "[" + sub + "]"
                                                             : sub,
                          f.nested);
    }
  }
}

}  // namespace

std::string to_markdown(const Schema& schema) {
  std::string out = fmt::format("## {}\n\n{}\n\n", schema.name, schema.description);
  std::vector<std::pair<std::string, const Schema*>> todo{{"", &schema}};
  for (std::size_t i = 0; i < todo.size(); ++i) {
    const auto [path, s] = todo[i];
    if (!path.empty()) out += fmt::format("### [{}]\n\n{}\n\n", path, s->description);
    std::vector<std::pair<std::string, const Schema*>> nested;
    markdown_table(*s, path, out, nested);
    out += "\n";
    todo.insert(todo.end(), nested.begin(), nested.end());
  }
  return out;
}

}  // namespace meter::kernel::config
