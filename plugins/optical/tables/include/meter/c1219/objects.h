// The OBIS codes the table layer reads and writes: one place for every code, so that a change
// of the kernel's or a plugin's object list is one edit here.
#pragma once

#include <meter/sdk/obis.h>

namespace meter::c1219::objects {

using meter::sdk::obis;

// Kernel registers and state (docs/objects.md).
inline constexpr auto kImport = obis("1-0:1.8.0");
inline constexpr auto kExport = obis("1-0:2.8.0");
inline constexpr auto kNet = obis("1-0:16.8.0");
inline constexpr auto kReactiveQ1 = obis("1-0:5.8.0");
inline constexpr auto kReactiveQ2 = obis("1-0:6.8.0");
inline constexpr auto kReactiveQ3 = obis("1-0:7.8.0");
inline constexpr auto kReactiveQ4 = obis("1-0:8.8.0");
inline constexpr auto kExportPower = obis("1-0:2.7.0");
inline constexpr auto kErrorRegister = obis("0-0:97.97.0");
inline constexpr auto kClock = obis("0-0:1.0.0");
inline constexpr auto kTimeZone = obis("0-0:128.3.0");
inline constexpr auto kTestLedActive = obis("0-0:128.1.0");
inline constexpr auto kTestLedReactivate = obis("0-0:128.1.3");
inline constexpr auto kRemoteConfiguration = obis("0-0:128.5.0");
inline constexpr auto kSealState = obis("0-0:128.6.0");
inline constexpr auto kBillingImport = obis("0-0:128.7.1");
inline constexpr auto kBillingExport = obis("0-0:128.7.2");

// Error register bits (0-0:97.97.0).
inline constexpr unsigned kErrorMeasurement = 1U << 0;
inline constexpr unsigned kErrorTimeUnknown = 1U << 1;
inline constexpr unsigned kErrorStorage = 1U << 2;

// The kernel's settable parameters (docs/objects.md): the clock is set by writing local text
// "YYYY-MM-DD HH:MM:SS" (or UTC "YYYY-MM-DDTHH:MM:SSZ") to the clock object; the electronic
// seal is a boolean (true sealed); the display multiplier an integer 1..240.
inline constexpr auto kClockWrite = kClock;
inline constexpr auto kElectronicSeal = obis("0-0:128.6.7");
inline constexpr auto kDisplayMultiplier = obis("0-0:128.8.0");

/// The utility's meter id (ST-5), when the registry has it (a text, DLMS device ID 9; the
/// kernel's nameplate objects use 0-0:96.1.0..6 and 9).
inline constexpr auto kMeterIdObject = obis("0-0:96.1.8");

// Plugin tou.
inline constexpr auto kCurrentRate = obis("0-0:96.14.0");
inline constexpr auto kActiveCalendar = obis("0-0:13.0.0");
inline constexpr auto kSwitchPoints = obis("0-0:13.0.1");

// Plugin demand.
inline constexpr auto kDemandReset = obis("0-0:10.0.1");
inline constexpr auto kDemandResetCount = obis("1-0:0.1.0");
inline constexpr auto kDemandStatus = obis("0-0:128.20.0");
inline constexpr auto kDemandLockout = obis("0-0:128.20.1");

// Plugin load_profile.
inline constexpr auto kLoadProfile = obis("1-0:99.1.0");

// Plugin sealing_audit.
inline constexpr auto kAuditLog = obis("0-0:99.98.0");
inline constexpr auto kAuditStatus = obis("0-0:99.98.1");
inline constexpr auto kAuditFill = obis("0-0:99.98.2");
/// From this fill (%) ST-3 sets its "log nearly full" manufacturer bit.
inline constexpr std::uint64_t kAuditWarnPercent = 90;
inline constexpr auto kEventLoggerReady = obis("0-0:128.6.6");

}  // namespace meter::c1219::objects
