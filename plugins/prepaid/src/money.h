// Money as text, exactly: milli-minor units shown in the currency's major unit with every digit
// ("25.12345" for 2 512 345 milli-cents), and amounts read from text the same way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace meter::plugins::prepaid {

/// The decimal places of a milli-minor amount in major units: the currency's decimals + 3.
constexpr int milli_places(int currency_decimals) noexcept { return currency_decimals + 3; }

/// "-1.50000" for -150 000 milli-cents (decimals 2). No floating point.
inline std::string money_text(std::int64_t milli, int currency_decimals) {
  const int places = milli_places(currency_decimals);
  std::uint64_t scale = 1;
  for (int i = 0; i < places; ++i) scale *= 10;
  const bool negative = milli < 0;
  const std::uint64_t magnitude =
      negative ? static_cast<std::uint64_t>(-(milli + 1)) + 1 : static_cast<std::uint64_t>(milli);
  std::string fraction = std::to_string(magnitude % scale);
  fraction.insert(0, static_cast<std::size_t>(places) - fraction.size(), '0');
  return (negative ? "-" : "") + std::to_string(magnitude / scale) + "." + fraction;
}

/// "20.00" for 2000 minor units (decimals 2).
inline std::string minor_text(std::uint64_t minor, int currency_decimals) {
  if (currency_decimals == 0) return std::to_string(minor);
  std::uint64_t scale = 1;
  for (int i = 0; i < currency_decimals; ++i) scale *= 10;
  std::string fraction = std::to_string(minor % scale);
  fraction.insert(0, static_cast<std::size_t>(currency_decimals) - fraction.size(), '0');
  return std::to_string(minor / scale) + "." + fraction;
}

/// Reads "20", "20.5" or "20.50" (major units, at most `currency_decimals` decimals) as minor
/// units; nullopt for anything else or above `max_minor`.
inline std::optional<std::uint64_t> parse_minor(std::string_view text, int currency_decimals,
                                                std::uint64_t max_minor) {
  std::uint64_t minor = 0;
  int decimals = -1;  // -1: before the point
  bool digit = false;
  for (const char c : text) {
    if (c == '.' && decimals < 0) {
      decimals = 0;
      continue;
    }
    if (c < '0' || c > '9' || decimals == currency_decimals) return std::nullopt;
    if (decimals >= 0) ++decimals;
    minor = minor * 10 + static_cast<std::uint64_t>(c - '0');
    digit = true;
    if (minor > max_minor * 1000) return std::nullopt;  // stops any overflow early
  }
  if (!digit) return std::nullopt;
  for (int i = decimals < 0 ? 0 : decimals; i < currency_decimals; ++i) minor *= 10;
  if (minor > max_minor) return std::nullopt;
  return minor;
}

}  // namespace meter::plugins::prepaid
