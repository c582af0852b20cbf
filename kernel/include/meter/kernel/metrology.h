// Metrology: turns sample blocks (waveform fidelity) or chip accumulator readings (chip
// fidelity) into the energy of one tick and the measurements of its elements.
//
// Thread: the kernel thread. The metering path never allocates and never throws.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "meter/kernel/events.h"
#include "meter/kernel/result.h"
#include "meter/kernel/service.h"

namespace meter::kernel {

inline constexpr std::size_t kMaxChannels = 2 * kMaxInputs;

/// A block of simultaneous samples, one plane per channel: the service's voltage inputs first
/// (V1, V2, ...), then its current inputs (I1, I2, ...). Planes hold `samples` values each.
template <class Sample>
struct SampleBlock {
  std::uint32_t sample_rate_hz = 0;
  std::size_t samples = 0;
  std::uint8_t channel_count = 0;
  std::array<const Sample*, kMaxChannels> channel{};
};
using SampleBlock16 = SampleBlock<std::int16_t>;  ///< raw ADC codes, scaled by the calibration
using SampleBlockF = SampleBlock<float>;          ///< volts and amperes, before calibration gain

/// What a metering chip (ATM90E32, ADE7953 style) reports for one interval, per element.
struct AccumulatorReading {
  Milliseconds interval{};
  std::uint8_t elements = 0;
  std::array<std::int64_t, kMaxElements> active_energy_lsb{};    ///< signed, +import
  std::array<std::int64_t, kMaxElements> reactive_energy_lsb{};  ///< signed, +lagging
  std::array<double, kMaxElements> voltage_v{};
  std::array<double, kMaxElements> current_a{};
  double frequency_hz = 0;
};

/// Per-element calibration: applied to every sample block before anything is summed.
struct ElementCalibration {
  double voltage_gain = 1.0;
  double current_gain = 1.0;
  double phase_deg = 0.0;       ///< current lags voltage by this much in the sensors; removed
  double power_offset_w = 0.0;  ///< subtracted from the element's active power
};

struct MetrologyConfig {
  const ServiceConfiguration* service = nullptr;
  std::uint8_t channel_count = 0;       ///< what the board delivers; must match the service
  double nominal_frequency_hz = 60.0;
  /// int16 samples: volts and amperes per ADC code, per input. float samples: ignored.
  std::array<double, kMaxInputs> volts_per_code{};
  std::array<double, kMaxInputs> amps_per_code{};
  std::array<ElementCalibration, kMaxElements> calibration{};
  double voltage_limit_v = 1000.0;  ///< |sample| above this is out of range (float samples)
  double current_limit_a = 400.0;
  /// An element whose RMS current is below this registers nothing (anti-creep, no-load).
  double creep_current_a = 0.0;
  /// Chip fidelity: nWh per active energy LSB and nvarh per reactive LSB.
  double energy_nwh_per_lsb = 1.0;
};

/// The result of one metrology tick.
struct TickMetrology {
  double duration_s = 0;          ///< how much signal the tick covered
  std::int64_t active_nwh = 0;    ///< signed total active energy, +import; remainders carried
  std::int64_t reactive_nvarh = 0;
  double active_power_w = 0;      ///< mean over the tick, after no-load suppression
  double reactive_power_var = 0;
  Measurements measurements{};    ///< instantaneous values over the tick (time left unset)
  std::uint64_t samples = 0;      ///< sample sets accepted this tick
  std::uint64_t refused = 0;      ///< sample sets refused this tick (NaN, inf, out of range)
  bool no_load = false;           ///< every element was under the creep current
};

class Metrology {
 public:
  /// Checks the configuration; the error names the offending value (unknown service, channel
  /// count that does not match the elements, non-positive scale, ...).
  static Result<std::unique_ptr<Metrology>> create(const MetrologyConfig& config);
  virtual ~Metrology() = default;

  /// Waveform fidelity: adds a block to the present tick. Refused sample sets are counted.
  /// Returns false (and adds nothing) when the block's shape does not match the configuration.
  virtual bool add(const SampleBlock16& block) noexcept = 0;
  virtual bool add(const SampleBlockF& block) noexcept = 0;
  /// Chip fidelity: adds one accumulator reading to the present tick.
  virtual bool add(const AccumulatorReading& reading) noexcept = 0;

  /// Closes the present tick and starts the next one.
  virtual TickMetrology close_tick() noexcept = 0;

  /// Sample sets refused since power-up.
  virtual std::uint64_t refused_total() const noexcept = 0;
};

}  // namespace meter::kernel
