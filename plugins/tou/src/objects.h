// The OBIS codes of the objects the time-of-use plugin provides (listed in plugin.toml).
#pragma once

#include <array>

#include <meter/sdk/plugin.h>

namespace meter::plugins::tou {

using sdk::obis;

inline constexpr std::array<sdk::Obis, 4> kImportRegisters = {
    obis("1-0:1.8.1"), obis("1-0:1.8.2"), obis("1-0:1.8.3"), obis("1-0:1.8.4")};
inline constexpr std::array<sdk::Obis, 4> kExportRegisters = {
    obis("1-0:2.8.1"), obis("1-0:2.8.2"), obis("1-0:2.8.3"), obis("1-0:2.8.4")};
inline constexpr sdk::Obis kCurrentRate = obis("0-0:96.14.0");
inline constexpr sdk::Obis kOverride = obis("0-0:96.14.1");
inline constexpr sdk::Obis kActiveCalendar = obis("0-0:13.0.0");
inline constexpr sdk::Obis kSwitchPoints = obis("0-0:13.0.1");
inline constexpr sdk::Obis kPassiveCalendar = obis("0-0:13.0.2");
inline constexpr sdk::Obis kDayCalendar = obis("0-0:11.0.0");
inline constexpr sdk::Obis kBillingHistory = obis("0-0:98.1.0");

}  // namespace meter::plugins::tou
