// The sim board's driver: per tick, the load model's minute times the second's jitter, scaled
// by the supply, as integer LSBs (chip) or as a synthetic waveform.
#include "meter/boards/sim/sim_driver.h"

#include <fmt/format.h>

#include <cmath>
#include <numbers>

#include "detail/hash.h"
#include "meter/boards/booking.h"
#include "meter/boards/seals.h"
#include "meter/boards/sim/waveform.h"
#include "meter/boards/supply.h"

namespace meter::boards::sim {
namespace {

constexpr double kNwhPerWms = 1e9 / 3600.0 / 1000.0;
constexpr std::int64_t kMinuteMs = 60'000;

std::int64_t round_half_away(double x) noexcept {
  return static_cast<std::int64_t>(x + (x >= 0 ? 0.5 : -0.5));
}

bool positive_finite(double x) { return std::isfinite(x) && x > 0; }

// Waveform fidelity synthesises one signal per input: each element must be one voltage input
// times one current input.
bool one_input_per_element(const kernel::ServiceConfiguration& s) {
  if (s.voltage_inputs != s.elements || s.current_inputs != s.elements) return false;
  for (std::size_t e = 0; e < s.elements; ++e) {
    for (std::size_t k = 0; k < kernel::kMaxInputs; ++k) {
      const double want = k == e ? 1.0 : 0.0;
      if (s.wiring[e].voltage_weights[k] != want || s.wiring[e].current_weights[k] != want) {
        return false;
      }
    }
  }
  return true;
}

kernel::Result<void> check(const SimConfig& c) {
  using kernel::fail;
  if (c.fidelity != Fidelity::chip && c.fidelity != Fidelity::waveform) {
    return fail(fmt::format("sim: fidelity {} is unknown (waveform or chip)",
                            static_cast<int>(c.fidelity)));
  }
  if (c.model != LoadModelKind::residential && c.model != LoadModelKind::commercial) {
    return fail(fmt::format("sim: load model {} is unknown (residential or commercial)",
                            static_cast<int>(c.model)));
  }
  if (c.service == nullptr) return fail("sim: service is not set");
  if (!positive_finite(c.nominal_voltage_v) || c.nominal_voltage_v > 1000) {
    return fail(fmt::format("sim: nominal_voltage_v must be within 0..1000 V, got {}",
                            c.nominal_voltage_v));
  }
  if (!(c.frequency_hz >= 45 && c.frequency_hz <= 65)) {
    return fail(fmt::format("sim: frequency_hz must be within 45..65 Hz, got {}", c.frequency_hz));
  }
  if (!positive_finite(c.load_scale)) {
    return fail(fmt::format("sim: load_scale must be positive, got {}", c.load_scale));
  }
  if (!(std::isfinite(c.pv_peak_w) && c.pv_peak_w >= 0)) {
    return fail(fmt::format("sim: pv_peak_w must be zero or positive, got {}", c.pv_peak_w));
  }
  if (!positive_finite(c.max_current_a)) {
    return fail(fmt::format("sim: max_current_a must be positive, got {}", c.max_current_a));
  }
  if (c.energy_nwh_per_lsb == 0) return fail("sim: energy_nwh_per_lsb must be at least 1, got 0");
  if (std::chrono::abs(c.utc_offset) > std::chrono::hours{18}) {
    return fail(fmt::format("sim: utc_offset must be within +-18 h, got {} min",
                            c.utc_offset.count()));
  }
  if (c.fidelity == Fidelity::waveform) {
    if (c.sample_rate_hz < 2000 || c.sample_rate_hz > 32000) {
      return fail(fmt::format("sim: sample_rate_hz must be within 2000..32000 Hz, got {}",
                              c.sample_rate_hz));
    }
    if (!positive_finite(c.volts_per_code)) {
      return fail(fmt::format("sim: volts_per_code must be positive, got {}", c.volts_per_code));
    }
    if (!positive_finite(c.amps_per_code)) {
      return fail(fmt::format("sim: amps_per_code must be positive, got {}", c.amps_per_code));
    }
    if (!one_input_per_element(*c.service)) {
      return fail(fmt::format("sim: waveform fidelity needs a service whose elements are one "
                              "voltage and one current input each; {} is not (use chip fidelity)",
                              c.service->id));
    }
  }
  return {};
}

LoadModelConfig model_config(const SimConfig& c) {
  LoadModelConfig m;
  m.kind = c.model;
  m.seed = c.seed;
  m.elements = c.service->elements;
  m.nominal_voltage_v = c.nominal_voltage_v;
  m.load_scale = c.load_scale;
  m.pv_peak_w = c.pv_peak_w;
  m.max_current_a = c.max_current_a;
  m.zone = c.zone;
  m.utc_offset = c.utc_offset;
  return m;
}

class SimDriver final : public Driver {
 public:
  SimDriver(const SimConfig& c, Supply supply, SealSchedule seals)
      : supply_(std::move(supply)),
        seals_(std::move(seals)),
        model_(model_config(c)),
        fidelity_(c.fidelity),
        elements_(c.service->elements),
        nominal_v_(c.nominal_voltage_v),
        nwh_per_lsb_(c.energy_nwh_per_lsb) {
    reading_.elements = elements_;
    reading_.frequency_hz = c.frequency_hz;
    if (fidelity_ == Fidelity::waveform) {
      WaveformSpec spec;
      spec.sample_rate_hz = c.sample_rate_hz;
      spec.frequency_hz = c.frequency_hz;
      spec.phases = elements_;
      spec.volts_per_code = c.volts_per_code;
      spec.amps_per_code = c.amps_per_code;
      wave_ = std::make_unique<Waveform>(spec);
    }
  }

  void feed(kernel::Meter& meter, kernel::UtcTime start, kernel::Milliseconds length) override {
    const std::int64_t start_ms = start.time_since_epoch().count();
    const std::int64_t length_ms = length.count();
    if (length_ms <= 0) return;
    const TickSupply supply = supply_.at(start_ms, start_ms + length_ms);
    if (supply.powered_ms <= 0) return;
    if (start_ms < minute_ms_ || start_ms >= minute_ms_ + kMinuteMs) load_minute(start_ms);
    const auto jitter = model_.jitter(detail::floor_div(start_ms, 1000));
    if (fidelity_ == Fidelity::chip) {
      feed_chip(meter, supply, jitter);
    } else {
      feed_waveform(meter, supply, jitter);
    }
  }

  const LoadTotals& fed() const noexcept override { return totals_; }
  const std::vector<Happening>& happenings() const noexcept override {
    return supply_.happenings();
  }
  Fidelity fidelity() const noexcept override { return fidelity_; }
  SealSwitches seal_switches(kernel::UtcTime at) const noexcept override { return seals_.at(at); }
  void set_load_connected(bool connected) noexcept override { load_ = connected ? 1.0 : 0.0; }

 private:
  void load_minute(std::int64_t start_ms) {
    const std::int64_t minute = detail::floor_div(start_ms, kMinuteMs);
    minute_ms_ = minute * kMinuteMs;
    const LoadPoint p = model_.minute(minute);
    const double lsb_per_wms = kNwhPerWms / static_cast<double>(nwh_per_lsb_);
    for (std::size_t e = 0; e < elements_; ++e) {
      active_w_[e] = p.active_w[e];
      reactive_var_[e] = p.reactive_var[e];
      active_lsb_per_ms_[e] = p.active_w[e] * lsb_per_wms;
      reactive_lsb_per_ms_[e] = p.reactive_var[e] * lsb_per_wms;
      current_a_[e] = p.current_a[e];
      lag_deg_[e] = std::atan2(p.reactive_var[e], p.active_w[e]) * 180.0 / std::numbers::pi;
    }
  }

  void feed_chip(kernel::Meter& meter, const TickSupply& supply,
                 const std::array<double, kernel::kMaxElements>& jitter) noexcept {
    const double volts = nominal_v_ * supply.volt_ms / static_cast<double>(supply.powered_ms);
    std::int64_t active = 0;
    std::int64_t reactive = 0;
    reading_.interval = kernel::Milliseconds{supply.powered_ms};
    for (std::size_t e = 0; e < elements_; ++e) {
      // Constant-current loads: energy follows the voltage, so a sag scales it.
      const double load = load_ * jitter[e];
      const std::int64_t a = round_half_away(active_lsb_per_ms_[e] * load * supply.volt_ms);
      const std::int64_t r = round_half_away(reactive_lsb_per_ms_[e] * load * supply.volt_ms);
      reading_.active_energy_lsb[e] = a;
      reading_.reactive_energy_lsb[e] = r;
      reading_.voltage_v[e] = volts;
      reading_.current_a[e] = current_a_[e] * load;
      active += a;
      reactive += r;
    }
    if (meter.add(reading_)) {
      book_tick(totals_, active * nwh_per_lsb_, reactive * nwh_per_lsb_);
    }
  }

  void feed_waveform(kernel::Meter& meter, const TickSupply& supply,
                     const std::array<double, kernel::kMaxElements>& jitter) {
    const double fraction = supply.volt_ms / static_cast<double>(supply.powered_ms);
    std::array<PhaseLoad, 3> load{};
    double active_nwh = 0;
    double reactive_nvarh = 0;
    for (std::size_t e = 0; e < elements_; ++e) {
      const double scale = load_ * jitter[e];
      load[e] = PhaseLoad{nominal_v_ * fraction, current_a_[e] * scale, lag_deg_[e]};
      active_nwh += active_w_[e] * scale * supply.volt_ms * kNwhPerWms;
      reactive_nvarh += reactive_var_[e] * scale * supply.volt_ms * kNwhPerWms;
    }
    wave_->set_load(load);
    const auto samples = static_cast<std::size_t>(
        static_cast<std::int64_t>(wave_->spec().sample_rate_hz) * supply.powered_ms / 1000);
    if (meter.add(wave_->next16(samples))) {
      book_tick(totals_, round_half_away(active_nwh), round_half_away(reactive_nvarh));
    }
  }

  Supply supply_;
  SealSchedule seals_;
  LoadModel model_;
  Fidelity fidelity_;
  std::uint8_t elements_;
  double nominal_v_;
  std::int64_t nwh_per_lsb_;
  std::int64_t minute_ms_ = INT64_MIN / 2;  // the cached minute; none yet
  double load_ = 1.0;  // 0 while the service disconnect is open
  std::array<double, kernel::kMaxElements> active_w_{};
  std::array<double, kernel::kMaxElements> reactive_var_{};
  std::array<double, kernel::kMaxElements> active_lsb_per_ms_{};
  std::array<double, kernel::kMaxElements> reactive_lsb_per_ms_{};
  std::array<double, kernel::kMaxElements> current_a_{};
  std::array<double, kernel::kMaxElements> lag_deg_{};
  kernel::AccumulatorReading reading_{};
  std::unique_ptr<Waveform> wave_;
  LoadTotals totals_{};
};

}  // namespace

kernel::Result<std::unique_ptr<Driver>> make_sim_driver(const SimConfig& config) {
  if (auto checked = check(config); !checked) return checked.error();
  auto supply = Supply::create(config.happenings);
  if (!supply) return kernel::fail("sim: " + supply.error().message);
  auto seals = SealSchedule::create(config.seal_switches, config.sealed, config.happenings);
  if (!seals) return kernel::fail("sim: " + seals.error().message);
  return std::unique_ptr<Driver>(
      std::make_unique<SimDriver>(config, std::move(*supply), std::move(*seals)));
}

kernel::MetrologyConfig metrology_config(const SimConfig& config) {
  kernel::MetrologyConfig m;
  m.service = config.service;
  m.channel_count = config.service != nullptr ? config.service->channels() : 0;
  m.nominal_frequency_hz = config.frequency_hz;
  m.volts_per_code.fill(config.volts_per_code);
  m.amps_per_code.fill(config.amps_per_code);
  m.energy_nwh_per_lsb = static_cast<double>(config.energy_nwh_per_lsb);
  return m;
}

}  // namespace meter::boards::sim
