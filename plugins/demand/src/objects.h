// The OBIS codes of the objects the demand plugin provides (all listed in plugin.toml): per
// quantity 1-0:C.D.E with C the register (1 import, 2 export), E the rate (0 total, 1..4 A..D)
// and D the kind; and the reset objects.
#pragma once

#include <cstdint>

#include <meter/sdk/plugin.h>

#include "engine.h"

namespace meter::plugins::demand {

using sdk::obis;

/// The value group D of each per-quantity object.
enum class Kind : std::uint8_t {
  cumulative = 2,             ///< 1-0:C.2.E cumulative maximum demand
  continuous_cumulative = 3,  ///< 1-0:C.3.E continuously cumulative demand
  present = 4,                ///< 1-0:C.4.E current average demand
  previous = 5,               ///< 1-0:C.5.E last average demand (previous interval)
  maximum = 6,                ///< 1-0:C.6.E maximum demand
  maximum_time = 128,         ///< 1-0:C.128.E time of the maximum (manufacturer-specific D)
};

/// The code of `kind` for quantity `q`.
constexpr sdk::Obis quantity_obis(const Quantity& q, Kind kind) noexcept {
  return sdk::Obis{1, 0, static_cast<std::uint8_t>(q.reg), static_cast<std::uint8_t>(kind),
                   q.rate, 255};
}

inline constexpr sdk::Obis kResetObject = obis("0-0:10.0.1");
inline constexpr sdk::Obis kResetCount = obis("1-0:0.1.0");
inline constexpr sdk::Obis kResetTime = obis("1-0:0.1.2");
inline constexpr sdk::Obis kStatus = obis("0-0:128.20.0");
inline constexpr sdk::Obis kLockoutRemaining = obis("0-0:128.20.1");

}  // namespace meter::plugins::demand
