// The Meter: the kernel's tick.
#include "meter/kernel/meter.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace meter::kernel {

Result<std::unique_ptr<Meter>> Meter::create(const MeterConfig& config, const TimeSource& time) {
  if (config.tick < Milliseconds{100} || config.tick > Milliseconds{60'000}) {
    return fail(fmt::format("tick length {} ms is invalid: it must be 100 ms to 60 s",
                            config.tick.count()));
  }
  if (config.measurements_every == 0) return fail("measurements_every must be at least 1 tick");
  if (config.display_multiplier < 1 || config.display_multiplier > kMaxDisplayMultiplier) {
    return fail(fmt::format("display multiplier {} is invalid: it must be 1 to {}",
                            config.display_multiplier, kMaxDisplayMultiplier));
  }
  auto zone = Clock::locate_zone(config.time_zone);
  if (!zone) return zone.error();
  auto led = TestLed::create(config.kh_wh);
  if (!led) return led.error();
  auto metrology = Metrology::create(config.metrology);
  if (!metrology) return metrology.error();
  auto meter = std::unique_ptr<Meter>(
      new Meter(config, std::move(*metrology), *zone, time, std::move(*led)));
  if (auto security = meter->gate_.configure(config.security); !security) return security.error();
  // Seed 000: billing reset and preset are a meter shop's work at the optical port, and a port
  // disabled on site comes back only on site, with the seal broken.
  if (!config.security.remote_billing_reset) {
    meter->gate_.restrict_to_site(kImportPreset);
    meter->gate_.restrict_to_site(kExportPreset);
  }
  meter->gate_.restrict_to_site(ParameterGate::kOpticalPortEnabled);
  return meter;
}

Meter::Meter(const MeterConfig& config, std::unique_ptr<Metrology> metrology,
             const date::time_zone* zone, const TimeSource& time, TestLed led)
    : clock_(time, bus_, zone, config.time_valid),
      gate_(objects_, bus_, clock_),
      metrology_(std::move(metrology)),
      led_(led),
      tick_(config.tick),
      measurements_every_(config.measurements_every),
      phases_(config.metrology.service->elements),
      polyphase_(config.metrology.service->polyphase),
      display_multiplier_(config.display_multiplier) {
  led_.power_up(clock_.uptime());
  register_objects();
}

Meter::~Meter() = default;

void Meter::update_fault(const TickMetrology& m) {
  if (m.refused > 0 && !measurement_fault_) {
    measurement_fault_ = true;
    bus_.publish(FaultRaised{clock_.now(), Fault::measurement, "samples refused"});
  } else if (m.refused == 0 && m.samples > 0 && measurement_fault_) {
    measurement_fault_ = false;
    bus_.publish(FaultCleared{clock_.now(), Fault::measurement});
  }
}

void Meter::raise_storage_fault(std::string detail) {
  if (storage_fault_) return;
  storage_fault_ = true;
  bus_.publish(FaultRaised{clock_.now(), Fault::storage, std::move(detail)});
}

void Meter::raise_legal_fault(std::string detail) {
  if (legal_fault_) return;
  legal_fault_ = true;
  bus_.publish(FaultRaised{clock_.now(), Fault::plugin, std::move(detail)});
}

const EnergyTick& Meter::tick() noexcept {
  const auto m = metrology_->close_tick();
  const auto moved = registers_.apply(m.active_nwh, m.reactive_nvarh);
  const auto duration =
      m.duration_s > 0 ? Milliseconds{std::llround(m.duration_s * 1000.0)} : tick_;
  last_led_ = led_.on_tick(std::llabs(m.active_nwh), clock_.uptime(), duration);
  update_fault(m);

  auto& t = last_tick_;
  ++t.sequence;
  t.time = clock_.now();
  t.time_valid = clock_.valid();
  t.duration = duration;
  t.delta_mwh = moved;
  t.total_mwh = registers_.totals_mwh();
  t.active_power_w = m.active_power_w;
  t.reactive_power_var = m.reactive_power_var;
  t.measurement_fault = m.refused > 0;
  auto& c = t.abi;
  c.sequence = t.sequence;
  c.time_utc_ms = t.time.time_since_epoch().count();
  c.time_valid = t.time_valid ? 1 : 0;
  c.measurement_fault = t.measurement_fault ? 1 : 0;
  c.duration_ms = t.duration.count();
  std::copy(t.delta_mwh.begin(), t.delta_mwh.end(), c.delta_mwh);
  std::copy(t.total_mwh.begin(), t.total_mwh.end(), c.total_mwh);
  c.active_power_w = t.active_power_w;
  c.reactive_power_var = t.reactive_power_var;
  bus_.publish(t);

  if (t.sequence % measurements_every_ == 0 || t.sequence == 1) {
    last_measurements_ = m.measurements;
    last_measurements_.time = t.time;
    bus_.publish(last_measurements_);
  }
  // After the tick: energy of a tick ending at midnight belongs to the day that ended.
  clock_.poll();
  bus_.publish(TickClosed{t.sequence});
  return t;
}

}  // namespace meter::kernel
