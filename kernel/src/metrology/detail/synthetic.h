// Test support: synthetic waveforms made of harmonics, their exact integrals in closed form,
// and sampling into float or dithered int16 blocks.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <vector>

#include "meter/kernel/metrology.h"

namespace meter::kernel::detail {

/// x(t) = dc + sum of sqrt(2) rms sin(order w t + phase).
class Wave {
 public:
  struct Tone {
    int order = 1;
    double rms = 0;
    double phase_rad = 0;
  };

  static Wave sine(double rms, double phase_deg) { return Wave{}.tone(1, rms, phase_deg); }

  Wave& tone(int order, double rms, double phase_deg) {
    tones_.push_back({order, rms, phase_deg * std::numbers::pi / 180.0});
    return *this;
  }
  Wave& offset(double dc) {
    dc_ += dc;
    return *this;
  }

  double at(double t_s, double f_hz) const {
    double x = dc_;
    for (const Tone& h : tones_) {
      x += std::sqrt(2.0) * h.rms *
           std::sin(h.order * 2 * std::numbers::pi * f_hz * t_s + h.phase_rad);
    }
    return x;
  }

  Wave scaled(double k) const {
    Wave w = *this;
    w.dc_ *= k;
    for (Tone& h : w.tones_) h.rms *= k;
    return w;
  }
  friend Wave operator+(const Wave& a, const Wave& b) {
    Wave w = a;
    w.dc_ += b.dc_;
    w.tones_.insert(w.tones_.end(), b.tones_.begin(), b.tones_.end());
    return w;
  }
  friend Wave operator-(const Wave& a, const Wave& b) { return a + b.scaled(-1); }

  double dc() const { return dc_; }
  const std::vector<Tone>& tones() const { return tones_; }

 private:
  double dc_ = 0;
  std::vector<Tone> tones_;
};

/// Integral over [0, T) of cos(m w t + d).
inline double integral_cos(int m, double d, double omega, double t_s) {
  if (m == 0) return t_s * std::cos(d);
  return (std::sin(m * omega * t_s + d) - std::sin(d)) / (m * omega);
}

/// Integral over [0, T) of a(t).
inline double integral(const Wave& a, double f_hz, double t_s) {
  const double omega = 2 * std::numbers::pi * f_hz;
  double sum = a.dc() * t_s;
  for (const auto& h : a.tones()) {
    // sin(x) = cos(x - pi/2)
    sum += std::sqrt(2.0) * h.rms *
           integral_cos(h.order, h.phase_rad - std::numbers::pi / 2, omega, t_s);
  }
  return sum;
}

/// Integral over [0, T) of a(t) b(t), exact.
inline double integral_product(const Wave& a, const Wave& b, double f_hz, double t_s) {
  const double omega = 2 * std::numbers::pi * f_hz;
  double sum =
      a.dc() * integral(b, f_hz, t_s) + b.dc() * integral(a, f_hz, t_s) - a.dc() * b.dc() * t_s;
  for (const auto& x : a.tones()) {
    for (const auto& y : b.tones()) {
      // 2 rms_x rms_y sin X sin Y = rms_x rms_y (cos(X - Y) - cos(X + Y))
      sum += x.rms * y.rms *
             (integral_cos(x.order - y.order, x.phase_rad - y.phase_rad, omega, t_s) -
              integral_cos(x.order + y.order, x.phase_rad + y.phase_rad, omega, t_s));
    }
  }
  return sum;
}

/// RMS of a over [0, T) with its mean removed, exact.
inline double rms_of(const Wave& a, double f_hz, double t_s) {
  const double mean = integral(a, f_hz, t_s) / t_s;
  return std::sqrt(integral_product(a, a, f_hz, t_s) / t_s - mean * mean);
}

/// Channel planes of samples n = 0 .. count-1 at t = n / rate.
template <class Sample>
struct Planes {
  std::uint32_t rate_hz = 0;
  std::vector<std::vector<Sample>> channels;

  std::size_t size() const { return channels.empty() ? 0 : channels[0].size(); }

  SampleBlock<Sample> block(std::size_t offset, std::size_t count) const {
    SampleBlock<Sample> b;
    b.sample_rate_hz = rate_hz;
    b.samples = count;
    b.channel_count = static_cast<std::uint8_t>(channels.size());
    for (std::size_t c = 0; c < channels.size(); ++c) b.channel[c] = channels[c].data() + offset;
    return b;
  }
};

inline Planes<float> sample_float(const std::vector<Wave>& waves, double f_hz,
                                  std::uint32_t rate_hz, std::size_t count) {
  Planes<float> p{rate_hz, {}};
  for (const Wave& w : waves) {
    auto& plane = p.channels.emplace_back(count);
    for (std::size_t n = 0; n < count; ++n) {
      plane[n] = static_cast<float>(w.at(static_cast<double>(n) / rate_hz, f_hz));
    }
  }
  return p;
}

/// ADC codes with triangular dither of one code peak, as a real converter's noise gives;
/// without it a waveform locked to the sample rate quantises into a systematic error.
inline Planes<std::int16_t> sample_int16(const std::vector<Wave>& waves, double f_hz,
                                         std::uint32_t rate_hz, std::size_t count,
                                         const std::vector<double>& units_per_code,
                                         std::uint32_t seed = 12345) {
  Planes<std::int16_t> p{rate_hz, {}};
  std::uint64_t state = seed;
  const auto uniform = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / 9007199254740992.0 - 0.5;
  };
  for (std::size_t c = 0; c < waves.size(); ++c) {
    auto& plane = p.channels.emplace_back(count);
    for (std::size_t n = 0; n < count; ++n) {
      const double code = waves[c].at(static_cast<double>(n) / rate_hz, f_hz) / units_per_code[c] +
                          uniform() + uniform();
      plane[n] = static_cast<std::int16_t>(std::clamp(std::lround(code), -32767L, 32766L));
    }
  }
  return p;
}

/// Adds samples [first, first + count) of the planes to `m` in blocks of `block_samples`;
/// false if any block was refused.
template <class Sample>
bool feed(Metrology& m, const Planes<Sample>& planes, std::size_t block_samples,
          std::size_t first = 0, std::size_t count = SIZE_MAX) {
  const std::size_t end = std::min(planes.size(), count == SIZE_MAX ? SIZE_MAX : first + count);
  for (std::size_t offset = first; offset < end; offset += block_samples) {
    const std::size_t n = std::min(block_samples, end - offset);
    if (!m.add(planes.block(offset, n))) return false;
  }
  return true;
}

}  // namespace meter::kernel::detail
