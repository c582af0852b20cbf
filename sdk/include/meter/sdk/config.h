// Structured configuration for plugins: reads an `array` or `table-array` key (see manifest.h)
// back into toml++ nodes. The host delivers such a key through config_get as TEXT holding the
// TOML document `value = <the key's value>`; this header turns it back into the array.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "meter/sdk/manifest.h"
#include "meter/sdk/plugin.h"

namespace meter::sdk {

/// The TEXT a host delivers for a structured configuration value: `value = <node>` as TOML.
inline std::string config_text(const toml::node& node) {
  toml::table document;
  document.insert("value", node);
  std::ostringstream out;
  out << toml::toml_formatter(document);
  return out.str();
}

/// Reads the array under configuration key `key` (type `array` or `table-array`). Throws Error
/// (type_mismatch) when the key holds something else, (not_found) when it is not set.
inline toml::array config_array(const Host& host, std::string_view key) {
  const std::string text = host.config<std::string>(key);
  std::string error;
  auto document = parse_toml(text, std::string("config ") + std::string(key), error);
  const toml::array* array = document ? document->get_as<toml::array>("value") : nullptr;
  if (array == nullptr) {
    throw Error(Status::type_mismatch, "config " + std::string(key) + ": not a structured value");
  }
  return *array;
}

}  // namespace meter::sdk
