// A synthetic polyphase waveform: sinusoidal voltages and currents per phase, with harmonics,
// an arbitrary frequency and ADC quantisation. It feeds the kernel's waveform fidelity exactly
// as an ADC's DMA would, and it knows its own exact energy for tests to check against.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "meter/kernel/metrology.h"

namespace meter::boards::sim {

struct Harmonic {
  int order = 3;
  double voltage_fraction = 0;  ///< of the fundamental's RMS
  double current_fraction = 0;
  double current_phase_deg = 0;  ///< current lag behind the voltage harmonic
};

struct PhaseLoad {
  double voltage_v = 120;   ///< RMS of the fundamental
  double current_a = 0;     ///< RMS of the fundamental
  double lag_deg = 0;       ///< current lags voltage (inductive) by this angle; negative leads
};

struct WaveformSpec {
  std::uint32_t sample_rate_hz = 4000;
  double frequency_hz = 60;
  std::uint8_t phases = 1;
  std::array<PhaseLoad, 3> load{};
  std::vector<Harmonic> harmonics;
  double volts_per_code = 0.02;  ///< ADC scale for int16 output
  double amps_per_code = 0.01;
  double voltage_dc_v = 0;       ///< sensor offsets, to be removed by the metrology
  double current_dc_a = 0;
};

/// Exact mean active power of a spec over whole cycles, W (all phases, all harmonics).
double exact_active_power_w(const WaveformSpec& spec);

/// Generates consecutive blocks. The phase of the signal is continuous across blocks.
class Waveform {
 public:
  explicit Waveform(WaveformSpec spec);

  /// The next `samples` sample sets as int16 codes (clipped at the ADC's range).
  const kernel::SampleBlock16& next16(std::size_t samples);
  /// The next `samples` sample sets in volts and amperes.
  const kernel::SampleBlockF& next_float(std::size_t samples);

  const WaveformSpec& spec() const noexcept { return spec_; }
  /// Changes the load from the next block on; the signal's phase stays continuous.
  void set_load(const std::array<PhaseLoad, 3>& load) noexcept;

 private:
  double value(std::size_t channel, double t) const;
  /// A block holding a whole number of cycles, starting at a cycle boundary, repeats exactly.
  bool repeats(std::size_t samples, std::size_t previous) const;
  WaveformSpec spec_;
  std::uint64_t n_ = 0;
  std::size_t last16_ = 0;  ///< samples in the last int16 block, 0 if none
  std::size_t last_f_ = 0;
  std::vector<std::vector<std::int16_t>> planes16_;
  std::vector<std::vector<float>> planes_f_;
  kernel::SampleBlock16 block16_{};
  kernel::SampleBlockF block_f_{};
};

}  // namespace meter::boards::sim
