// OBIS codes (IEC 62056-61) for plugins and the kernel alike: parsing, formatting and
// comparing the ABI's meter_obis. Header-only; depends on the C ABI alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "meter/sdk/abi.h"

namespace meter::sdk {

/// An OBIS code; `obis("1-0:1.8.0")` makes one at compile time.
using Obis = meter_obis;

namespace detail {
constexpr bool parse_obis_group(std::string_view& text, char separator, std::uint8_t& out) {
  unsigned value = 0;
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    value = value * 10 + static_cast<unsigned>(text[digits] - '0');
    if (value > 255) return false;
    ++digits;
  }
  if (digits == 0) return false;
  text.remove_prefix(digits);
  if (separator != '\0') {
    if (text.empty() || text.front() != separator) return false;
    text.remove_prefix(1);
  }
  out = static_cast<std::uint8_t>(value);
  return true;
}
}  // namespace detail

/// Parses "1-0:1.8.0" or "1-0:1.8.0*255"; nullopt when the text is not an OBIS code.
constexpr std::optional<Obis> parse_obis(std::string_view text) {
  Obis o{0, 0, 0, 0, 0, 255};
  if (!detail::parse_obis_group(text, '-', o.a) || !detail::parse_obis_group(text, ':', o.b) ||
      !detail::parse_obis_group(text, '.', o.c) || !detail::parse_obis_group(text, '.', o.d) ||
      !detail::parse_obis_group(text, '\0', o.e)) {
    return std::nullopt;
  }
  if (text.empty()) return o;
  if (text.front() != '*') return std::nullopt;
  text.remove_prefix(1);
  if (!detail::parse_obis_group(text, '\0', o.f) || !text.empty()) return std::nullopt;
  return o;
}

/// A compile-time OBIS code; a malformed literal does not compile.
consteval Obis obis(std::string_view text) {
  auto parsed = parse_obis(text);
  if (!parsed) throw "malformed OBIS code";  // NOLINT: consteval diagnostic only
  return *parsed;
}

constexpr bool operator==(const Obis& x, const Obis& y) noexcept {
  return x.a == y.a && x.b == y.b && x.c == y.c && x.d == y.d && x.e == y.e && x.f == y.f;
}

/// "1-0:1.8.0", with "*F" only when F is not 255.
inline std::string to_string(const Obis& o) {
  std::string s = std::to_string(o.a) + '-' + std::to_string(o.b) + ':' + std::to_string(o.c) +
                  '.' + std::to_string(o.d) + '.' + std::to_string(o.e);
  if (o.f != 255) s += '*' + std::to_string(o.f);
  return s;
}

}  // namespace meter::sdk
