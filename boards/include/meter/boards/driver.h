// A board driver: what feeds the kernel its signal, tick by tick. On real hardware it reads
// the ADC or the metering chip; `sim` synthesises a load model; `replay` reads a recorded CSV.
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

/// Something that happens to the supply or the clock during a run.
struct Happening {
  enum class Kind : std::uint8_t { power_failure = 1, voltage_sag, time_jump };
  Kind kind = Kind::power_failure;
  kernel::UtcTime at{};          ///< when it starts (true time, not the meter's)
  kernel::Milliseconds length{};  ///< outage or sag length
  double sag_fraction = 1.0;      ///< voltage during a sag, as a fraction of nominal
  kernel::Milliseconds jump{};    ///< time jump: how far the meter's clock is moved (+/-)
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
};

}  // namespace meter::boards
