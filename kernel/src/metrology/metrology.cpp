// Metrology: sample blocks and chip readings in, one tick's energy and measurements out.
//
// Per sample the only work is converting and summing (detail/chunk_kernels); DC removal,
// calibration, element combination and reactive power are all exact functions of those sums
// and run once per tick. Tick sums are time integrals (physical units times seconds), so
// blocks of different sample rates and sample types add up directly.
//
// Conventions: power factor is P/S, signed like P, and 1 when S is 0. An element under the
// creep current reports P = Q = S = 0. Chip readings are taken as the chip reports them (the
// chip applies its own no-load threshold); no_load then means every element read zero.
#include "meter/kernel/metrology.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <string>

#include "detail/chunk_kernels.h"
#include "detail/energy_carry.h"

namespace meter::kernel {
namespace {

using detail::ChunkPlanes;
using detail::ChunkShape;
using detail::ChunkSums;
using detail::kChunk;
using detail::kMaxLag;

constexpr std::uint32_t kMinSampleRateHz = 2000;
constexpr std::uint32_t kMaxSampleRateHz = 32000;
constexpr double kMinNominalHz = 45.0;
constexpr double kMaxNominalHz = 65.0;
// A measured frequency outside this band is a miscount (noise, missing signal): keep the last.
constexpr double kMinPlausibleHz = 40.0;
constexpr double kMaxPlausibleHz = 70.0;
constexpr double kMaxPhaseDeg = 45.0;
constexpr double kNwhPerWs = 1e9 / 3600.0;
constexpr std::size_t kMaxLagSegments = 4;

bool positive_finite(double x) {
  return std::isfinite(x) && x > 0;
}

ChunkShape shape_of(const ServiceConfiguration& s) {
  ChunkShape shape;
  shape.voltages = s.voltage_inputs;
  shape.currents = s.current_inputs;
  for (std::uint8_t j = 0; j < s.voltage_inputs; ++j) {
    for (std::uint8_t k = 0; k < s.current_inputs; ++k) {
      const bool used =
          std::any_of(s.wiring.begin(), s.wiring.begin() + s.elements, [&](const ElementWiring& w) {
            return w.voltage_weights[j] != 0 && w.current_weights[k] != 0;
          });
      if (used) shape.vi[shape.vi_count++] = {j, k};
    }
  }
  // Every voltage cross product: element voltages and line voltages both need them.
  for (std::uint8_t j = 0; j < s.voltage_inputs; ++j) {
    for (std::uint8_t l = j + 1; l < s.voltage_inputs; ++l) shape.vv[shape.vv_count++] = {j, l};
  }
  for (std::uint8_t k = 0; k < s.current_inputs; ++k) {
    for (std::uint8_t m = k + 1; m < s.current_inputs; ++m) {
      const bool used =
          std::any_of(s.wiring.begin(), s.wiring.begin() + s.elements, [&](const ElementWiring& w) {
            return w.current_weights[k] != 0 && w.current_weights[m] != 0;
          });
      if (used) shape.ii[shape.ii_count++] = {k, m};
    }
  }
  return shape;
}

Result<void> check_config(const MetrologyConfig& c) {
  if (c.service == nullptr) {
    std::string known;
    for (const auto& s : service_configurations()) known += fmt::format(" {}", s.id);
    return fail(fmt::format("service configuration is null; known:{}", known));
  }
  const auto found = find_service(c.service->id);
  if (!found) return found.error();
  const ServiceConfiguration& s = *c.service;
  if (s.voltage_inputs == 0 || s.voltage_inputs > kMaxInputs || s.current_inputs == 0 ||
      s.current_inputs > kMaxInputs || s.elements == 0 || s.elements > kMaxElements ||
      s.line_voltages > kMaxPhaseLines) {
    return fail(
        fmt::format("service {} has an impossible shape ({} voltage, {} current inputs, "
                    "{} elements)",
                    s.id, s.voltage_inputs, s.current_inputs, s.elements));
  }
  if (c.channel_count != s.channels()) {
    return fail(
        fmt::format("channel count {} does not match service {}, which needs {} channels "
                    "({} voltage, {} current)",
                    c.channel_count, s.id, s.channels(), s.voltage_inputs, s.current_inputs));
  }
  if (!std::isfinite(c.nominal_frequency_hz) || c.nominal_frequency_hz < kMinNominalHz ||
      c.nominal_frequency_hz > kMaxNominalHz) {
    return fail(fmt::format("nominal frequency {} Hz is outside {}..{} Hz", c.nominal_frequency_hz,
                            kMinNominalHz, kMaxNominalHz));
  }
  for (std::size_t j = 0; j < s.voltage_inputs; ++j) {
    if (!positive_finite(c.volts_per_code[j])) {
      return fail(fmt::format("volts_per_code[{}] must be positive and finite, got {}", j,
                              c.volts_per_code[j]));
    }
  }
  for (std::size_t k = 0; k < s.current_inputs; ++k) {
    if (!positive_finite(c.amps_per_code[k])) {
      return fail(fmt::format("amps_per_code[{}] must be positive and finite, got {}", k,
                              c.amps_per_code[k]));
    }
  }
  for (std::size_t e = 0; e < s.elements; ++e) {
    const ElementCalibration& cal = c.calibration[e];
    if (!positive_finite(cal.voltage_gain)) {
      return fail(fmt::format("calibration[{}].voltage_gain must be positive and finite, got {}", e,
                              cal.voltage_gain));
    }
    if (!positive_finite(cal.current_gain)) {
      return fail(fmt::format("calibration[{}].current_gain must be positive and finite, got {}", e,
                              cal.current_gain));
    }
    if (!std::isfinite(cal.phase_deg) || std::fabs(cal.phase_deg) > kMaxPhaseDeg) {
      return fail(fmt::format("calibration[{}].phase_deg must be within +-{} degrees, got {}", e,
                              kMaxPhaseDeg, cal.phase_deg));
    }
    if (!std::isfinite(cal.power_offset_w)) {
      return fail(fmt::format("calibration[{}].power_offset_w must be finite, got {}", e,
                              cal.power_offset_w));
    }
  }
  if (!positive_finite(c.voltage_limit_v)) {
    return fail(
        fmt::format("voltage_limit_v must be positive and finite, got {}", c.voltage_limit_v));
  }
  if (!positive_finite(c.current_limit_a)) {
    return fail(
        fmt::format("current_limit_a must be positive and finite, got {}", c.current_limit_a));
  }
  if (!std::isfinite(c.creep_current_a) || c.creep_current_a < 0) {
    return fail(fmt::format("creep_current_a must be zero or positive, got {}", c.creep_current_a));
  }
  if (!positive_finite(c.energy_nwh_per_lsb)) {
    return fail(fmt::format("energy_nwh_per_lsb must be positive and finite, got {}",
                            c.energy_nwh_per_lsb));
  }
  return {};
}

// The voltage lag of one sample rate: over that stretch of signal the mean lagged product is
// X = P cos(w tau) + Q sin(w tau), which gives Q once the tick's frequency is known.
struct LagSegment {
  std::uint32_t rate_hz = 0;
  double tau_s = 0;
  double pairs_s = 0;
};

struct TickSums {
  double duration_s = 0;  // all signal, refused included
  double valid_s = 0;
  double pairs_s = 0;
  std::uint64_t samples = 0;
  std::uint64_t refused = 0;
  std::array<double, kMaxInputs> v_sum{};
  std::array<double, kMaxInputs> i_sum{};
  std::array<std::array<double, kMaxInputs>, kMaxInputs> vv{};  // upper triangle used
  std::array<std::array<double, kMaxInputs>, kMaxInputs> ii{};
  std::array<std::array<double, kMaxInputs>, kMaxInputs> vi{};
  std::array<std::array<double, kMaxInputs>, kMaxInputs> vi_lag{};
  std::array<LagSegment, kMaxLagSegments> segments{};
  std::size_t segment_count = 0;
  std::uint64_t crossings = 0;
  bool has_crossing = false;
  double first_crossing_s = 0;
  double last_crossing_s = 0;
  // Chip fidelity.
  std::size_t readings = 0;
  double reading_s = 0;
  std::array<std::int64_t, kMaxElements> active_lsb{};
  std::array<std::int64_t, kMaxElements> reactive_lsb{};
  AccumulatorReading last_reading{};
};

double sym(const std::array<std::array<double, kMaxInputs>, kMaxInputs>& m, std::size_t a,
           std::size_t b) {
  return a <= b ? m[a][b] : m[b][a];
}

class MetrologyImpl final : public Metrology {
 public:
  explicit MetrologyImpl(const MetrologyConfig& config)
      : config_(config), service_(*config.service), shape_(shape_of(service_)) {
    frequency_hz_ = config_.nominal_frequency_hz;
    for (std::size_t j = 0; j < kMaxInputs; ++j) planes_.v[j] = v_buf_[j].data() + kMaxLag;
    for (std::size_t k = 0; k < kMaxInputs; ++k) planes_.i[k] = i_buf_[k].data();
    forget_history();
    // Line voltages are made of inputs, but gains belong to elements: an input takes the gain
    // of the element that measures it alone, else of the first element that uses it.
    for (std::size_t j = 0; j < service_.voltage_inputs; ++j) {
      int chosen = -1;
      for (std::size_t e = 0; e < service_.elements; ++e) {
        const auto& w = service_.wiring[e].voltage_weights;
        if (w[j] == 0) continue;
        const bool alone =
            static_cast<std::size_t>(std::count(w.begin(), w.end(), 0.0)) == kMaxInputs - 1;
        if (alone || chosen < 0) chosen = static_cast<int>(e);
        if (alone) break;
      }
      input_voltage_gain_[j] = chosen < 0 ? 1.0 : config_.calibration[chosen].voltage_gain;
    }
  }

  bool add(const SampleBlock16& block) noexcept override {
    if (!fits(block)) return false;
    if (block.samples == 0) return true;
    const std::array<double, kMaxInputs>& sv = config_.volts_per_code;
    const std::array<double, kMaxInputs>& si = config_.amps_per_code;
    const auto is_bad = [](double x, bool) {
      return x == std::numeric_limits<std::int16_t>::min() ||
             x == std::numeric_limits<std::int16_t>::max();
    };
    add_samples(block, sv, si, is_bad, [&](std::size_t offset, std::size_t n) {
      return detail::convert_chunk(block.channel.data(), offset, n, shape_, planes_);
    });
    return true;
  }

  bool add(const SampleBlockF& block) noexcept override {
    if (!fits(block)) return false;
    if (block.samples == 0) return true;
    constexpr std::array<double, kMaxInputs> kUnit{1.0, 1.0, 1.0};
    const double v_limit = config_.voltage_limit_v;
    const double i_limit = config_.current_limit_a;
    const auto is_bad = [v_limit, i_limit](double x, bool voltage) {
      return !(std::fabs(x) <= (voltage ? v_limit : i_limit));
    };
    add_samples(block, kUnit, kUnit, is_bad, [&](std::size_t offset, std::size_t n) {
      return detail::convert_chunk(block.channel.data(), offset, n, shape_, planes_, v_limit,
                                   i_limit);
    });
    return true;
  }

  bool add(const AccumulatorReading& r) noexcept override {
    if (r.elements != service_.elements || r.interval.count() <= 0) return false;
    if (!std::isfinite(r.frequency_hz)) return false;
    for (std::size_t e = 0; e < r.elements; ++e) {
      if (!std::isfinite(r.voltage_v[e]) || !std::isfinite(r.current_a[e])) return false;
    }
    ++tick_.readings;
    tick_.reading_s += std::chrono::duration<double>(r.interval).count();
    for (std::size_t e = 0; e < r.elements; ++e) {
      tick_.active_lsb[e] += r.active_energy_lsb[e];
      tick_.reactive_lsb[e] += r.reactive_energy_lsb[e];
    }
    tick_.last_reading = r;
    return true;
  }

  TickMetrology close_tick() noexcept override {
    TickMetrology out;
    out.duration_s = tick_.duration_s + tick_.reading_s;
    out.samples = tick_.samples;
    out.refused = tick_.refused;
    update_frequency();

    Measurements& m = out.measurements;
    m.phases = service_.elements;
    m.frequency_hz = frequency_hz_;
    double wave_active_ws = 0;
    double wave_reactive_vars = 0;
    bool all_creep = true;
    if (tick_.valid_s > 0) {
      waveform_elements(m, wave_active_ws, wave_reactive_vars, all_creep);
      line_voltages(m);
      level_v_ = tick_.v_sum[0] / tick_.valid_s;
    }
    std::int64_t active_lsb = 0;
    std::int64_t reactive_lsb = 0;
    for (std::size_t e = 0; e < service_.elements; ++e) {
      active_lsb += tick_.active_lsb[e];
      reactive_lsb += tick_.reactive_lsb[e];
    }
    if (tick_.readings > 0 && tick_.valid_s <= 0) chip_elements(m, all_creep);
    const double chip_active_nwh = static_cast<double>(active_lsb) * config_.energy_nwh_per_lsb;
    const double chip_reactive_nvarh =
        static_cast<double>(reactive_lsb) * config_.energy_nwh_per_lsb;
    out.active_nwh = active_carry_.take(wave_active_ws * kNwhPerWs + chip_active_nwh);
    out.reactive_nvarh = reactive_carry_.take(wave_reactive_vars * kNwhPerWs + chip_reactive_nvarh);
    const double active_ws = wave_active_ws + chip_active_nwh / kNwhPerWs;
    const double reactive_vars = wave_reactive_vars + chip_reactive_nvarh / kNwhPerWs;
    if (out.duration_s > 0) {
      out.active_power_w = active_ws / out.duration_s;
      out.reactive_power_var = reactive_vars / out.duration_s;
    }
    for (std::size_t e = 0; e < service_.elements; ++e) {
      m.total_active_power_w += m.active_power_w[e];
      m.total_reactive_power_var += m.reactive_power_var[e];
      m.total_apparent_power_va += m.apparent_power_va[e];
    }
    m.total_power_factor = power_factor(m.total_active_power_w, m.total_apparent_power_va);
    out.no_load = all_creep;
    tick_ = TickSums{};
    return out;
  }

  std::uint64_t refused_total() const noexcept override { return refused_total_; }

 private:
  // Power factor P/S, signed like P; 1 when there is no apparent power (nothing flows).
  static double power_factor(double p, double s) { return s > 0 ? p / s : 1.0; }

  template <class Sample>
  bool fits(const SampleBlock<Sample>& b) const noexcept {
    if (b.channel_count != config_.channel_count) return false;
    if (b.sample_rate_hz < kMinSampleRateHz || b.sample_rate_hz > kMaxSampleRateHz) return false;
    if (b.samples == 0) return true;
    for (std::size_t c = 0; c < b.channel_count; ++c) {
      if (b.channel[c] == nullptr) return false;
    }
    return true;
  }

  void forget_history() noexcept {
    for (auto& plane : v_buf_) std::fill(plane.begin(), plane.begin() + kMaxLag, 0.0);
    std::fill(valid_.begin(), valid_.begin() + kMaxLag, std::uint8_t{0});
    history_clean_ = false;
  }

  template <class Sample, class IsBad, class Convert>
  void add_samples(const SampleBlock<Sample>& block, const std::array<double, kMaxInputs>& sv,
                   const std::array<double, kMaxInputs>& si, IsBad is_bad,
                   Convert convert) noexcept {
    if (block.sample_rate_hz != rate_hz_) {
      // The voltage history is from another rate: its lag is not this rate's lag.
      if (rate_hz_ != 0) forget_history();
      rate_hz_ = block.sample_rate_hz;
      lag_ = std::clamp<std::size_t>(
          static_cast<std::size_t>(std::lround(rate_hz_ / (4.0 * config_.nominal_frequency_hz))), 1,
          kMaxLag);
    }
    const double dt = 1.0 / rate_hz_;
    const double level = level_v_ / sv[0];
    for (std::size_t offset = 0; offset < block.samples; offset += kChunk) {
      const std::size_t n = std::min(kChunk, block.samples - offset);
      const double t0 = tick_.duration_s + static_cast<double>(offset) * dt;
      const std::size_t bad = convert(offset, n);
      std::size_t accepted = n;
      std::size_t pairs = n;
      if (bad == 0 && history_clean_) {
        const std::size_t c = detail::count_rising(planes_.v[0], n, level);
        if (c > 0) note_crossings(c, n, level, t0, dt);
      } else {
        accepted = mask_chunk(n, is_bad);
        pairs = masked_pairs_and_crossings(n, level, t0, dt);
      }
      ChunkSums s;
      detail::sum_chunk(shape_, planes_, n, lag_, s);
      add_sums(s, sv, si, dt);
      tick_.samples += accepted;
      tick_.refused += n - accepted;
      refused_total_ += n - accepted;
      tick_.valid_s += static_cast<double>(accepted) * dt;
      add_pairs(static_cast<double>(pairs) * dt, dt);
      for (std::size_t j = 0; j < shape_.voltages; ++j) {
        std::memmove(v_buf_[j].data(), v_buf_[j].data() + n, kMaxLag * sizeof(double));
      }
    }
    tick_.duration_s += static_cast<double>(block.samples) * dt;
  }

  // Zeroes every channel of the refused instants so that they add nothing to any sum.
  template <class IsBad>
  std::size_t mask_chunk(std::size_t n, IsBad is_bad) noexcept {
    std::uint8_t* valid = valid_.data() + kMaxLag;
    std::size_t accepted = 0;
    for (std::size_t t = 0; t < n; ++t) {
      bool ok = true;
      for (std::size_t j = 0; j < shape_.voltages; ++j) ok = ok && !is_bad(planes_.v[j][t], true);
      for (std::size_t k = 0; k < shape_.currents; ++k) ok = ok && !is_bad(planes_.i[k][t], false);
      valid[t] = ok ? 1 : 0;
      accepted += ok ? 1 : 0;
      if (!ok) {
        for (std::size_t j = 0; j < shape_.voltages; ++j) planes_.v[j][t] = 0;
        for (std::size_t k = 0; k < shape_.currents; ++k) planes_.i[k][t] = 0;
      }
    }
    return accepted;
  }

  std::size_t masked_pairs_and_crossings(std::size_t n, double level, double t0,
                                         double dt) noexcept {
    const std::uint8_t* valid = valid_.data() + kMaxLag;
    const double* x = planes_.v[0];
    std::size_t pairs = 0;
    for (std::size_t t = 0; t < n; ++t) {
      pairs += (valid[t] & valid[t - lag_]);
      if (valid[t] && valid[t - 1] && x[t - 1] < level && x[t] >= level) {
        record_crossing(t, level, t0, dt);
        ++tick_.crossings;
      }
    }
    std::memmove(valid_.data(), valid_.data() + n, kMaxLag);
    history_clean_ = std::all_of(valid_.begin(), valid_.begin() + kMaxLag,
                                 [](std::uint8_t v) { return v != 0; });
    return pairs;
  }

  void note_crossings(std::size_t count, std::size_t n, double level, double t0,
                      double dt) noexcept {
    const double* x = planes_.v[0];
    if (!tick_.has_crossing) {
      for (std::size_t t = 0; t < n; ++t) {
        if (x[t - 1] < level && x[t] >= level) {
          record_crossing(t, level, t0, dt);
          break;
        }
      }
    }
    for (std::size_t t = n; t-- > 0;) {
      if (x[t - 1] < level && x[t] >= level) {
        record_crossing(t, level, t0, dt);
        break;
      }
    }
    tick_.crossings += count;
  }

  void record_crossing(std::size_t t, double level, double t0, double dt) noexcept {
    const double* x = planes_.v[0];
    const double fraction = (level - x[t - 1]) / (x[t] - x[t - 1]);
    const double at_s = t0 + (static_cast<double>(t) - 1.0 + fraction) * dt;
    if (!tick_.has_crossing) {
      tick_.first_crossing_s = at_s;
      tick_.has_crossing = true;
    }
    tick_.last_crossing_s = at_s;
  }

  void add_sums(const ChunkSums& s, const std::array<double, kMaxInputs>& sv,
                const std::array<double, kMaxInputs>& si, double dt) noexcept {
    for (std::size_t j = 0; j < shape_.voltages; ++j) {
      tick_.v_sum[j] += s.v_sum[j] * sv[j] * dt;
      tick_.vv[j][j] += s.v_sq[j] * sv[j] * sv[j] * dt;
    }
    for (std::size_t k = 0; k < shape_.currents; ++k) {
      tick_.i_sum[k] += s.i_sum[k] * si[k] * dt;
      tick_.ii[k][k] += s.i_sq[k] * si[k] * si[k] * dt;
    }
    for (std::size_t p = 0; p < shape_.vi_count; ++p) {
      const auto [j, k] = shape_.vi[p];
      tick_.vi[j][k] += s.vi[p] * sv[j] * si[k] * dt;
      tick_.vi_lag[j][k] += s.vi_lag[p] * sv[j] * si[k] * dt;
    }
    for (std::size_t p = 0; p < shape_.vv_count; ++p) {
      const auto [j, l] = shape_.vv[p];
      tick_.vv[j][l] += s.vv[p] * sv[j] * sv[l] * dt;
    }
    for (std::size_t p = 0; p < shape_.ii_count; ++p) {
      const auto [k, m] = shape_.ii[p];
      tick_.ii[k][m] += s.ii[p] * si[k] * si[m] * dt;
    }
  }

  void add_pairs(double pairs_s, double dt) noexcept {
    tick_.pairs_s += pairs_s;
    auto* seg = std::find_if(tick_.segments.begin(), tick_.segments.begin() + tick_.segment_count,
                             [&](const LagSegment& s) { return s.rate_hz == rate_hz_; });
    if (seg == tick_.segments.begin() + tick_.segment_count) {
      // More rates in one tick than segments: the last segment absorbs the rest.
      if (tick_.segment_count == kMaxLagSegments) {
        seg = &tick_.segments[kMaxLagSegments - 1];
      } else {
        ++tick_.segment_count;
        *seg = LagSegment{rate_hz_, static_cast<double>(lag_) * dt, 0};
      }
    }
    seg->pairs_s += pairs_s;
  }

  void update_frequency() noexcept {
    if (tick_.crossings < 2) return;
    const double span_s = tick_.last_crossing_s - tick_.first_crossing_s;
    if (span_s <= 0) return;
    const double f = static_cast<double>(tick_.crossings - 1) / span_s;
    if (f >= kMinPlausibleHz && f <= kMaxPlausibleHz) frequency_hz_ = f;
  }

  void waveform_elements(Measurements& m, double& active_ws, double& reactive_vars,
                         bool& all_creep) noexcept {
    const TickSums& t = tick_;
    const double time_s = t.valid_s;
    const double omega = 2.0 * std::numbers::pi * frequency_hz_;
    double lag_cos_s = 0;
    double lag_sin_s = 0;
    for (std::size_t g = 0; g < t.segment_count; ++g) {
      lag_cos_s += t.segments[g].pairs_s * std::cos(omega * t.segments[g].tau_s);
      lag_sin_s += t.segments[g].pairs_s * std::sin(omega * t.segments[g].tau_s);
    }
    for (std::size_t e = 0; e < service_.elements; ++e) {
      const auto& w = service_.wiring[e].voltage_weights;
      const auto& u = service_.wiring[e].current_weights;
      double v_int = 0, i_int = 0, vv_int = 0, ii_int = 0, vi_int = 0, lag_int = 0;
      for (std::size_t j = 0; j < service_.voltage_inputs; ++j) {
        v_int += w[j] * t.v_sum[j];
        for (std::size_t l = 0; l < service_.voltage_inputs; ++l) {
          vv_int += w[j] * w[l] * sym(t.vv, j, l);
        }
        for (std::size_t k = 0; k < service_.current_inputs; ++k) {
          vi_int += w[j] * u[k] * t.vi[j][k];
          lag_int += w[j] * u[k] * t.vi_lag[j][k];
        }
      }
      for (std::size_t k = 0; k < service_.current_inputs; ++k) {
        i_int += u[k] * t.i_sum[k];
        for (std::size_t l = 0; l < service_.current_inputs; ++l) {
          ii_int += u[k] * u[l] * sym(t.ii, k, l);
        }
      }
      const double v_mean = v_int / time_s;
      const double i_mean = i_int / time_s;
      const ElementCalibration& cal = config_.calibration[e];
      const double vrms =
          std::sqrt(std::max(0.0, vv_int / time_s - v_mean * v_mean)) * cal.voltage_gain;
      const double irms =
          std::sqrt(std::max(0.0, ii_int / time_s - i_mean * i_mean)) * cal.current_gain;
      // DC removal is exact on the sums: integral of (v - mean)(i - mean).
      const double p_raw = (vi_int - v_int * i_int / time_s) / time_s;
      double q_raw = 0;
      if (std::fabs(lag_sin_s) > 1e-9 * time_s) {
        const double x_int = lag_int - t.pairs_s * v_mean * i_mean;
        q_raw = (x_int - p_raw * lag_cos_s) / lag_sin_s;
      }
      const double gain = cal.voltage_gain * cal.current_gain;
      const double phase = cal.phase_deg * std::numbers::pi / 180.0;
      double p = gain * (p_raw * std::cos(phase) + q_raw * std::sin(phase)) - cal.power_offset_w;
      double q = gain * (q_raw * std::cos(phase) - p_raw * std::sin(phase));
      double s = vrms * irms;
      const bool creep = irms <= 0 || irms < config_.creep_current_a;
      if (creep) {
        p = 0;
        q = 0;
        s = 0;
      } else {
        all_creep = false;
      }
      m.voltage_v[e] = vrms;
      m.current_a[e] = irms;
      m.active_power_w[e] = p;
      m.reactive_power_var[e] = q;
      m.apparent_power_va[e] = s;
      m.power_factor[e] = power_factor(p, s);
      active_ws += p * time_s;
      reactive_vars += q * time_s;
    }
  }

  void line_voltages(Measurements& m) const noexcept {
    const TickSums& t = tick_;
    for (std::size_t line = 0; line < service_.line_voltages; ++line) {
      const auto& a = service_.line_voltage_weights[line];
      double sq = 0;
      for (std::size_t j = 0; j < service_.voltage_inputs; ++j) {
        for (std::size_t l = 0; l < service_.voltage_inputs; ++l) {
          const double mean_jl = t.v_sum[j] * t.v_sum[l] / (t.valid_s * t.valid_s);
          sq += a[j] * a[l] * input_voltage_gain_[j] * input_voltage_gain_[l] *
                (sym(t.vv, j, l) / t.valid_s - mean_jl);
        }
      }
      m.line_voltage_v[line] = std::sqrt(std::max(0.0, sq));
    }
  }

  void chip_elements(Measurements& m, bool& all_creep) noexcept {
    const AccumulatorReading& r = tick_.last_reading;
    const double ws_per_lsb = config_.energy_nwh_per_lsb / kNwhPerWs;
    for (std::size_t e = 0; e < service_.elements; ++e) {
      const double p = static_cast<double>(tick_.active_lsb[e]) * ws_per_lsb / tick_.reading_s;
      const double q = static_cast<double>(tick_.reactive_lsb[e]) * ws_per_lsb / tick_.reading_s;
      m.voltage_v[e] = r.voltage_v[e];
      m.current_a[e] = r.current_a[e];
      m.active_power_w[e] = p;
      m.reactive_power_var[e] = q;
      m.apparent_power_va[e] = r.voltage_v[e] * r.current_a[e];
      m.power_factor[e] = power_factor(p, m.apparent_power_va[e]);
      if (tick_.active_lsb[e] != 0 || tick_.reactive_lsb[e] != 0) all_creep = false;
    }
    if (r.frequency_hz > 0) {
      frequency_hz_ = r.frequency_hz;
      m.frequency_hz = r.frequency_hz;
    }
  }

  MetrologyConfig config_;
  const ServiceConfiguration& service_;
  ChunkShape shape_;
  std::array<double, kMaxInputs> input_voltage_gain_{1.0, 1.0, 1.0};

  alignas(64) std::array<std::array<double, kMaxLag + kChunk>, kMaxInputs> v_buf_{};
  alignas(64) std::array<std::array<double, kChunk>, kMaxInputs> i_buf_{};
  std::array<std::uint8_t, kMaxLag + kChunk> valid_{};
  ChunkPlanes planes_;
  bool history_clean_ = false;
  std::uint32_t rate_hz_ = 0;
  std::size_t lag_ = 1;

  TickSums tick_;
  double level_v_ = 0;  // mean of the first voltage input last tick: the zero-crossing level
  double frequency_hz_ = 0;
  detail::EnergyCarry active_carry_;
  detail::EnergyCarry reactive_carry_;
  std::uint64_t refused_total_ = 0;
};

}  // namespace

Result<std::unique_ptr<Metrology>> Metrology::create(const MetrologyConfig& config) {
  if (auto checked = check_config(config); !checked) return checked.error();
  return std::unique_ptr<Metrology>(std::make_unique<MetrologyImpl>(config));
}

}  // namespace meter::kernel
