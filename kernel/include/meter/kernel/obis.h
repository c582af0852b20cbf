// OBIS codes (IEC 62056-61): the identifiers every readable object in the meter is keyed by.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace meter::kernel {

/// An OBIS code A-B:C.D.E*F. F defaults to 255 ("not used"), as in the standard's short form.
struct Obis {
  std::uint8_t a = 0, b = 0, c = 0, d = 0, e = 0, f = 255;

  /// Parses "1-0:1.8.0" or "1-0:1.8.0*255"; nullopt when it is not an OBIS code.
  static constexpr std::optional<Obis> parse(std::string_view text) noexcept;

  std::string to_string() const;  ///< "1-0:1.8.0", with "*F" only when F is not 255.

  friend constexpr auto operator<=>(const Obis&, const Obis&) = default;
};

namespace detail {
constexpr bool parse_group(std::string_view& text, char separator, std::uint8_t& out) noexcept {
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

constexpr std::optional<Obis> Obis::parse(std::string_view text) noexcept {
  Obis o;
  if (!detail::parse_group(text, '-', o.a) || !detail::parse_group(text, ':', o.b) ||
      !detail::parse_group(text, '.', o.c) || !detail::parse_group(text, '.', o.d) ||
      !detail::parse_group(text, '\0', o.e)) {
    return std::nullopt;
  }
  if (text.empty()) return o;
  if (text.front() != '*') return std::nullopt;
  text.remove_prefix(1);
  if (!detail::parse_group(text, '\0', o.f) || !text.empty()) return std::nullopt;
  return o;
}

/// A compile-time OBIS code: `obis("1-0:1.8.0")`; a malformed literal does not compile.
consteval Obis obis(std::string_view text) {
  auto parsed = Obis::parse(text);
  if (!parsed) throw "malformed OBIS code";  // NOLINT: consteval diagnostic only
  return *parsed;
}

}  // namespace meter::kernel

template <>
struct std::hash<meter::kernel::Obis> {
  std::size_t operator()(const meter::kernel::Obis& o) const noexcept {
    std::uint64_t packed = (std::uint64_t{o.a} << 40) | (std::uint64_t{o.b} << 32) |
                           (std::uint64_t{o.c} << 24) | (std::uint64_t{o.d} << 16) |
                           (std::uint64_t{o.e} << 8) | o.f;
    return std::hash<std::uint64_t>{}(packed);
  }
};
