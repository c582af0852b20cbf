// Synthetic waveforms.
#include "meter/boards/sim/waveform.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace meter::boards::sim {

namespace {
constexpr double kDeg = std::numbers::pi / 180.0;
}

double exact_active_power_w(const WaveformSpec& spec) {
  double p = 0;
  for (std::uint8_t ph = 0; ph < spec.phases; ++ph) {
    const auto& l = spec.load[ph];
    p += l.voltage_v * l.current_a * std::cos(l.lag_deg * kDeg);
    for (const auto& h : spec.harmonics) {
      p += l.voltage_v * h.voltage_fraction * l.current_a * h.current_fraction *
           std::cos((h.order * l.lag_deg + h.current_phase_deg) * kDeg);
    }
  }
  return p;
}

Waveform::Waveform(WaveformSpec spec) : spec_(std::move(spec)) {
  const std::size_t channels = 2u * spec_.phases;
  planes16_.resize(channels);
  planes_f_.resize(channels);
}

// Channel order: voltages of every phase, then currents (the kernel's plane order).
double Waveform::value(std::size_t channel, double t) const {
  const bool current = channel >= spec_.phases;
  const std::size_t ph = current ? channel - spec_.phases : channel;
  const auto& l = spec_.load[ph];
  const double offset = -120.0 * static_cast<double>(ph) * kDeg;  // A, B, C
  const double w = 2 * std::numbers::pi * spec_.frequency_hz;
  const double rms = current ? l.current_a : l.voltage_v;
  const double lag = current ? l.lag_deg * kDeg : 0.0;
  double v = std::sqrt(2.0) * rms * std::sin(w * t + offset - lag);
  for (const auto& h : spec_.harmonics) {
    const double frac = current ? h.current_fraction : h.voltage_fraction;
    const double hlag = current ? (h.order * l.lag_deg + h.current_phase_deg) * kDeg : 0.0;
    v += std::sqrt(2.0) * rms * frac * std::sin(h.order * (w * t + offset) - hlag);
  }
  return v + (current ? spec_.current_dc_a : spec_.voltage_dc_v);
}

void Waveform::set_load(const std::array<PhaseLoad, 3>& load) noexcept {
  for (std::size_t ph = 0; ph < load.size(); ++ph) {
    const PhaseLoad& a = spec_.load[ph];
    const PhaseLoad& b = load[ph];
    if (a.voltage_v != b.voltage_v || a.current_a != b.current_a || a.lag_deg != b.lag_deg) {
      spec_.load = load;
      last16_ = 0;  // the last block was of the old load: never serve it again
      last_f_ = 0;
      return;
    }
  }
}

bool Waveform::repeats(std::size_t samples, std::size_t previous) const {
  if (samples != previous || spec_.harmonics.size() > 8) return false;
  const double cycles = static_cast<double>(samples) * spec_.frequency_hz / spec_.sample_rate_hz;
  const double start = static_cast<double>(n_) * spec_.frequency_hz / spec_.sample_rate_hz;
  return cycles == std::floor(cycles) && start == std::floor(start);
}

const kernel::SampleBlockF& Waveform::next_float(std::size_t samples) {
  const std::size_t channels = 2u * spec_.phases;
  if (repeats(samples, last_f_)) {
    n_ += samples;
    return block_f_;
  }
  last_f_ = samples;
  last16_ = 0;
  block_f_ = {spec_.sample_rate_hz, samples, static_cast<std::uint8_t>(channels), {}};
  for (std::size_t c = 0; c < channels; ++c) {
    auto& plane = planes_f_[c];
    plane.resize(samples);
    for (std::size_t i = 0; i < samples; ++i) {
      plane[i] = static_cast<float>(value(c, static_cast<double>(n_ + i) / spec_.sample_rate_hz));
    }
    block_f_.channel[c] = plane.data();
  }
  n_ += samples;
  return block_f_;
}

const kernel::SampleBlock16& Waveform::next16(std::size_t samples) {
  const std::size_t channels = 2u * spec_.phases;
  if (repeats(samples, last16_)) {
    n_ += samples;
    return block16_;
  }
  last16_ = samples;
  last_f_ = 0;
  block16_ = {spec_.sample_rate_hz, samples, static_cast<std::uint8_t>(channels), {}};
  for (std::size_t c = 0; c < channels; ++c) {
    const double scale = c >= spec_.phases ? spec_.amps_per_code : spec_.volts_per_code;
    auto& plane = planes16_[c];
    plane.resize(samples);
    for (std::size_t i = 0; i < samples; ++i) {
      const double code =
          std::round(value(c, static_cast<double>(n_ + i) / spec_.sample_rate_hz) / scale);
      plane[i] = static_cast<std::int16_t>(std::clamp(code, -32768.0, 32767.0));
    }
    block16_.channel[c] = plane.data();
  }
  n_ += samples;
  return block16_;
}

}  // namespace meter::boards::sim
