// The events the kernel publishes on its bus. Each is a plain struct with no heap data on the
// per-tick path (EnergyTick, Measurements); rarer events may carry text.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "meter/kernel/energy.h"
#include "meter/kernel/obis.h"
#include "meter/kernel/result.h"
#include "meter/kernel/time.h"
#include "meter/sdk/abi.h"

namespace meter::kernel {

inline constexpr std::size_t kMaxPhases = 3;

/// Published last in every tick, after EnergyTick and what followed it (measurements, midnight):
/// what was written while the tick was delivered is committed now, as one unit. The kernel's;
/// plugins do not see it.
struct TickClosed {
  std::uint64_t sequence = 0;
};

/// Published once per metrology tick (default 1 s), never per sample.
struct EnergyTick {
  std::uint64_t sequence = 0;           ///< 1 for the first tick after power-up
  UtcTime time{};                       ///< end of the tick
  bool time_valid = false;              ///< false while the clock does not know the time
  Milliseconds duration{};              ///< length of the tick
  RegisterValues delta_mwh{};           ///< how far each register moved this tick
  RegisterValues total_mwh{};           ///< each register after the tick
  double active_power_w = 0;            ///< mean total active power over the tick (+import)
  double reactive_power_var = 0;        ///< mean total reactive power over the tick
  bool measurement_fault = false;       ///< some samples of this tick were refused
  /// The same tick as the C ABI carries it to plugins: made once per tick by the Meter, so a
  /// delivery to each subscribing plugin copies nothing.
  meter_energy_tick abi{};
};

/// Instantaneous values, published at a lower rate than ticks.
struct Measurements {
  UtcTime time{};
  std::uint8_t phases = 0;  ///< how many of the per-phase entries are in use
  std::array<double, kMaxPhases> voltage_v{};        ///< line-to-neutral (or element) RMS
  std::array<double, kMaxPhases> current_a{};
  std::array<double, kMaxPhases> active_power_w{};
  std::array<double, kMaxPhases> reactive_power_var{};
  std::array<double, kMaxPhases> apparent_power_va{};
  std::array<double, kMaxPhases> power_factor{};
  std::array<double, kMaxPhases> line_voltage_v{};   ///< V12, V23, V31 for polyphase services
  double frequency_hz = 0;
  double total_active_power_w = 0;
  double total_reactive_power_var = 0;
  double total_apparent_power_va = 0;
  double total_power_factor = 0;
};

struct PowerFail {
  UtcTime time{};
};

struct PowerRestore {
  UtcTime time{};
  Milliseconds outage{};  ///< how long the meter was without power
  bool time_valid = false;
};

struct TimeChanged {
  UtcTime old_time{};
  UtcTime new_time{};
  bool was_valid = false;
};

/// A local midnight has passed (in the site's time zone). One event per midnight crossed.
struct MidnightCrossed {
  UtcTime time{};         ///< the instant of local midnight, UTC
  std::int32_t year = 0;  ///< the local date that has just begun
  std::uint8_t month = 0;
  std::uint8_t day = 0;
  std::uint8_t weekday = 0;  ///< 0 Sunday .. 6 Saturday
};

/// Which interface changed a parameter.
enum class Interface : std::uint8_t { kernel = 1, optical_port, comms, plugin, local_button };

/// A sealable parameter's event counter: which of the two counters (4 CCR 4027.2 table S.3.1).
enum class EventCounter : std::uint8_t { calibration = 1, configuration };

struct ParameterChanged {
  UtcTime time{};
  Obis id{};
  std::string old_value;
  std::string new_value;
  Interface via = Interface::kernel;
  std::string who;  ///< role or plugin id
  // Appended for the audit trail.
  std::uint8_t role = 0;  ///< the Role (registry.h) the change was made with; 0 when unknown
  std::uint8_t parameter_class = 0;  ///< its ParameterClass (registry.h)
  /// For a sealable parameter: the counter that stepped and its reading after the step
  /// (0..999); 0 and no counter for an operational one.
  std::optional<EventCounter> counter;
  std::uint16_t counter_value = 0;
};

enum class SealKind : std::uint8_t { cover = 1, programming_jumper, optical_plug, electronic };

struct SealChanged {
  UtcTime time{};
  SealKind kind = SealKind::electronic;
  bool sealed = false;
};

enum class Fault : std::uint8_t {
  measurement = 1,   ///< samples refused (NaN, infinite, out of range)
  clock_invalid,     ///< the clock does not know the time
  storage,           ///< nonvolatile store damaged or missing
  plugin,            ///< a plugin failed and was isolated
};

struct FaultRaised {
  UtcTime time{};
  Fault fault = Fault::measurement;
  std::string detail;
};

struct FaultCleared {
  UtcTime time{};
  Fault fault = Fault::measurement;
};

/// The test LED's activation window opened (power-up or re-activation) or closed.
struct TestLedChanged {
  UtcTime time{};
  bool active = false;
};

/// An event a plugin published through the SDK (e.g. "tou.rate_changed"). Rare; may allocate.
struct PluginEvent {
  UtcTime time{};
  std::string source;  ///< the publishing plugin's id
  std::string topic;
  std::vector<std::uint8_t> payload;
};

/// A plugin was loaded and created; `sha256` is its binary's hash (hex).
struct PluginLoaded {
  UtcTime time{};
  std::string id;
  std::string version;
  std::string sha256;
  bool legally_relevant = false;
};

/// A plugin was refused (at load or start) or disabled after faults; the meter kept metering.
struct PluginRefused {
  UtcTime time{};
  std::string id;      ///< the plugin's id, or the path when no id could be read
  std::string reason;  ///< a short reason code ("abi-major", "bad-signature", "fault-limit")
  std::string detail;  ///< the whole explanation
};

/// A plugin was stopped and its library closed.
struct PluginUnloaded {
  UtcTime time{};
  std::string id;
};

/// A logon through a port failed: a wrong password, a locked port or a disabled port.
struct LogonFailed {
  UtcTime time{};
  Interface via = Interface::optical_port;
  std::string reason;            ///< "wrong-password", "locked", "port-disabled"
  std::uint32_t failures = 0;    ///< consecutive failures on this interface, this one included
};

/// A port locked itself after too many failed logons; every logon is refused for `lockout`.
struct PortLocked {
  UtcTime time{};
  Interface via = Interface::optical_port;
  Milliseconds lockout{};
};

/// The parameter gate refused a write: every refusal, whoever asked, so the event logger can
/// record who tried to change what and why it was not done.
struct WriteRefused {
  UtcTime time{};
  Obis id{};
  Interface via = Interface::kernel;
  std::uint8_t role = 0;     ///< the role's bit (as ParameterChanged::role)
  ErrorKind kind = ErrorKind::failed;
  std::string who;           ///< the port's name or the plugin's id
  std::string reason;        ///< the refusal's message
};

}  // namespace meter::kernel
