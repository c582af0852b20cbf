// OBIS codes (IEC 62056-61): the identifiers every readable object in the meter is keyed by.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "meter/sdk/obis.h"

namespace meter::kernel {

/// An OBIS code A-B:C.D.E*F. F defaults to 255 ("not used"), as in the standard's short form.
struct Obis {
  std::uint8_t a = 0, b = 0, c = 0, d = 0, e = 0, f = 255;

  /// Parses "1-0:1.8.0" or "1-0:1.8.0*255"; nullopt when it is not an OBIS code.
  static constexpr std::optional<Obis> parse(std::string_view text) noexcept;

  std::string to_string() const;  ///< "1-0:1.8.0", with "*F" only when F is not 255.

  friend constexpr auto operator<=>(const Obis&, const Obis&) = default;
};

// The one parser is the SDK's, so plugins and the kernel read codes the same way.
constexpr std::optional<Obis> Obis::parse(std::string_view text) noexcept {
  const auto c = sdk::parse_obis(text);
  if (!c) return std::nullopt;
  return Obis{c->a, c->b, c->c, c->d, c->e, c->f};
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
