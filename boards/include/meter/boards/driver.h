// A board driver: what feeds the kernel its signal, tick by tick. On real hardware it reads
// the ADC or the metering chip; `sim` synthesises a load model; `replay` reads a recorded CSV.
//
// It also reads the board's seal switches (cover, programming jumper, optical port sealing plug).
//
// Thread: the kernel thread; feed() is called once per tick, just before Meter::tick().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "meter/kernel/meter.h"

namespace meter::boards {

/// How the signal reaches the kernel.
enum class Fidelity : std::uint8_t {
  waveform = 1,  ///< sample blocks (accuracy tests, real-time runs)
  chip,          ///< accumulator readings per tick (fast simulation)
};

/// Something that happens to the supply, the clock or a seal switch during a run.
struct Happening {
  enum class Kind : std::uint8_t {
    power_failure = 1,
    voltage_sag,
    time_jump,
    seal_broken,   ///< a seal switch reads broken from `at` on
    seal_applied,  ///< a seal switch reads sealed from `at` on
    optical_port_button,  ///< the local button under the cover is held (meterd: the gate)
  };
  Kind kind = Kind::power_failure;
  kernel::UtcTime at{};          ///< when it starts (true time, not the meter's)
  kernel::Milliseconds length{};  ///< outage or sag length
  double sag_fraction = 1.0;      ///< voltage during a sag, as a fraction of nominal
  kernel::Milliseconds jump{};    ///< time jump: how far the meter's clock is moved (+/-)
  /// Power failure: the board's RTC lost the time in the outage (a drained battery); the meter
  /// powers up not knowing the time.
  bool rtc_lost = false;
  /// Power failure: how far the board's RTC is off when the power comes back (negative: behind,
  /// a clock that went backwards).
  kernel::Milliseconds rtc_error{};
  kernel::SealKind seal = kernel::SealKind::cover;  ///< seal_broken, seal_applied: which switch
};

/// A seal switch's bit, as the gate's seal state (0-0:128.6.0) counts them: 1 cover,
/// 2 programming jumper, 4 optical port sealing plug (8, the electronic seal, is no switch).
constexpr std::uint8_t seal_bit(kernel::SealKind kind) noexcept {
  return static_cast<std::uint8_t>(1u << (static_cast<unsigned>(kind) - 1));
}

/// What the board's seal switches read, a bit each (seal_bit).
struct SealSwitches {
  std::uint8_t fitted = 0;  ///< the switches the board has
  std::uint8_t sealed = 0;  ///< those that read sealed; never a switch that is not fitted
  friend bool operator==(const SealSwitches&, const SealSwitches&) = default;
};

/// The energy the load model drew, exactly as fed to the kernel, booked the way the kernel
/// books a tick (its elements summed, then import or export by sign; reactive by quadrant).
struct LoadTotals {
  kernel::RegisterValues nwh{};  ///< per EnergyRegister, nWh (nvarh for the quadrants)
  std::uint64_t ticks = 0;
};

class Driver {
 public:
  virtual ~Driver() = default;
  /// Adds the signal of the tick that starts at `start` and lasts `length` to the meter.
  /// During a power failure nothing is fed (the meter is off; the caller does not tick it).
  virtual void feed(kernel::Meter& meter, kernel::UtcTime start, kernel::Milliseconds length) = 0;
  /// What the model fed so far.
  virtual const LoadTotals& fed() const noexcept = 0;
  /// The happenings of the run, in time order.
  virtual const std::vector<Happening>& happenings() const noexcept = 0;
  virtual Fidelity fidelity() const noexcept = 0;
  /// The span the driver has a signal for, when it is bounded (a recording): before `begins`
  /// and from `ends` on, feed() adds nothing. A synthetic model is unbounded (nullopt).
  virtual std::optional<kernel::UtcTime> begins() const noexcept { return std::nullopt; }
  virtual std::optional<kernel::UtcTime> ends() const noexcept { return std::nullopt; }
  /// The seal switches at `at` (true time). Cheap and allocation-free: meterd asks once per
  /// tick and passes them to the gate (apply_seal_switches, seals.h). A board without seal
  /// switches has none fitted.
  virtual SealSwitches seal_switches(kernel::UtcTime /*at*/) const noexcept { return {}; }
  /// The board's service disconnect (Relays, relays.h) connects or disconnects the premises:
  /// while disconnected, the load and any generation behind the meter feed nothing and the
  /// voltage is still measured (line side). A recording plays what it recorded and ignores it.
  virtual void set_load_connected(bool /*connected*/) noexcept {}
};

}  // namespace meter::boards
