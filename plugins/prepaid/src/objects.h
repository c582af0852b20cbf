// The OBIS codes of the objects the prepaid plugin provides (all listed in plugin.toml), in the
// manufacturer-specific range 0-0:128.30.x (the account) and 0-0:128.31..34.e (per source e,
// 1..4). README.md lists them with their units and roles.
#pragma once

#include <cstdint>

#include <meter/sdk/obis.h>

namespace meter::plugins::prepaid {

using sdk::obis;

inline constexpr sdk::Obis kAvailableCredit = obis("0-0:128.30.0");
inline constexpr sdk::Obis kTotalPurchase = obis("0-0:128.30.1");
inline constexpr sdk::Obis kEmergencyState = obis("0-0:128.30.2");
inline constexpr sdk::Obis kEmergencySelect = obis("0-0:128.30.3");
inline constexpr sdk::Obis kEmergencyBalance = obis("0-0:128.30.4");
inline constexpr sdk::Obis kEmergencyUsed = obis("0-0:128.30.5");
inline constexpr sdk::Obis kLowCredit = obis("0-0:128.30.6");
inline constexpr sdk::Obis kTokenEntry = obis("0-0:128.30.7");
inline constexpr sdk::Obis kLastTokenResult = obis("0-0:128.30.8");
inline constexpr sdk::Obis kTokensAccepted = obis("0-0:128.30.9");
inline constexpr sdk::Obis kTokensRefused = obis("0-0:128.30.10");
inline constexpr sdk::Obis kRechargeHistory = obis("0-0:128.30.11");
inline constexpr sdk::Obis kActiveSource = obis("0-0:128.30.12");
inline constexpr sdk::Obis kFriendlyPeriod = obis("0-0:128.30.13");
inline constexpr sdk::Obis kTotalDebited = obis("0-0:128.30.14");
inline constexpr sdk::Obis kEmergencyLimitOffered = obis("0-0:128.30.15");
inline constexpr sdk::Obis kEmergencyThreshold = obis("0-0:128.30.16");
inline constexpr sdk::Obis kTokenLockout = obis("0-0:128.30.17");
inline constexpr sdk::Obis kOverCurrentTrips = obis("0-0:128.30.18");
inline constexpr sdk::Obis kOverVoltageTrips = obis("0-0:128.30.19");

/// Per source: D = 31 price, 32 energy, 33 relay state, 34 money debited; E = source 1..4.
enum class SourceObject : std::uint8_t { price = 31, energy = 32, relay_state = 33, debited = 34 };

constexpr sdk::Obis source_obis(SourceObject what, std::size_t source) noexcept {
  return sdk::Obis{0, 0, 128, static_cast<std::uint8_t>(what),
                   static_cast<std::uint8_t>(source + 1), 255};
}

}  // namespace meter::plugins::prepaid
