// meterd: runs a meter. Today it runs the kernel on the sim board's synthetic waveform, in real
// time or as fast as the CPU allows (--simulate), and prints the registers at the end.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <map>
#include <thread>

#include "meter/boards/sim/waveform.h"
#include "meter/kernel/meter.h"

namespace {

using namespace meter;

std::atomic<bool> g_power_fail{false};
extern "C" void on_power_fail(int) { g_power_fail = true; }

struct Options {
  std::string service = "1e2w";
  std::size_t simulate_s = 0;
  double voltage_v = 120;
  double current_a = 10;
  double lag_deg = 25;
  double kh_wh = 1.0;
  std::uint32_t sample_rate_hz = 4000;
  std::string zone = "America/Toronto";
};

void print_objects(kernel::Meter& m) {
  fmt::print("\n{:<14} {:>20}  {}\n", "object", "value", "description");
  for (const auto* info : m.objects().list()) {
    auto v = m.objects().read(info->id, kernel::Role::public_read);
    if (!v) continue;
    fmt::print("{:<14} {:>20}  {}\n", info->id.to_string(), kernel::to_display_string(*info, *v),
               info->description);
  }
}

int run(const Options& o) {
  auto service = kernel::find_service(o.service);
  if (!service) {
    spdlog::error("{}", service.error().message);
    return 2;
  }
  const auto* svc = *service;
  boards::sim::WaveformSpec spec;
  spec.sample_rate_hz = o.sample_rate_hz;
  spec.phases = svc->voltage_inputs;
  for (auto& l : spec.load) l = {o.voltage_v, o.current_a, o.lag_deg};
  spec.harmonics = {{3, 0.02, 0.08, 0}, {5, 0.01, 0.04, 0}};

  kernel::MeterConfig config;
  config.metrology.service = svc;
  config.metrology.channel_count = svc->channels();
  config.metrology.nominal_frequency_hz = spec.frequency_hz;
  config.metrology.volts_per_code.fill(spec.volts_per_code);
  config.metrology.amps_per_code.fill(spec.amps_per_code);
  config.metrology.creep_current_a = 0.005;
  config.kh_wh = o.kh_wh;
  config.time_zone = o.zone;

  if (spec.phases != svc->current_inputs) {
    spdlog::error("the synthetic waveform needs a service with as many voltage as current inputs; "
                  "{} has {} and {}", svc->id, svc->voltage_inputs, svc->current_inputs);
    return 2;
  }

  kernel::SystemTimeSource system_time;
  kernel::VirtualTimeSource virtual_time{system_time.utc()};
  const bool simulate = o.simulate_s > 0;
  const kernel::TimeSource& time =
      simulate ? static_cast<const kernel::TimeSource&>(virtual_time) : system_time;
  auto meter = kernel::Meter::create(config, time);
  if (!meter) {
    spdlog::error("{}", meter.error().message);
    return 2;
  }
  auto& m = **meter;
  boards::sim::Waveform wave(spec);
  const std::size_t block = o.sample_rate_hz;  // one second of signal per tick

  std::signal(SIGTERM, on_power_fail);
  std::signal(SIGINT, on_power_fail);
  spdlog::info("meterd: service {} ({}), {} V, {} A, lag {}°, Kh {} Wh, {}", svc->id,
               svc->description, o.voltage_v, o.current_a, o.lag_deg, o.kh_wh,
               simulate ? fmt::format("simulating {} s", o.simulate_s) : "real time");

  for (std::size_t s = 0; !g_power_fail && (!simulate || s < o.simulate_s); ++s) {
    m.add(wave.next16(block));
    if (simulate) {
      virtual_time.advance(m.tick_length());
    } else {
      std::this_thread::sleep_for(m.tick_length());
    }
    const auto& t = m.tick();
    if (!simulate) {
      fmt::print("{}  +A {} mWh  P {:.1f} W\n", t.sequence, t.total_mwh[0], t.active_power_w);
    }
  }
  if (g_power_fail) m.bus().publish(kernel::PowerFail{m.clock().now()});

  print_objects(m);
  const double exact_wh = boards::sim::exact_active_power_w(spec) *
                          static_cast<double>(m.last_tick().sequence) / 3600.0;
  fmt::print("\nexact energy of the synthetic load: {:.3f} Wh; test LED pulses: {}\n", exact_wh,
             m.test_led().pulses_total());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"meterd: a meter on the simulated board"};
  app.add_option("--simulate", o.simulate_s,
                 "run this long on a virtual clock as fast as the CPU allows (90s, 15m, 1h, 30d)")
      ->transform(CLI::AsNumberWithUnit(std::map<std::string, std::size_t>{
          {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}}));
  app.add_option("--service", o.service, "service configuration, e.g. 1e2w, 3e4w-wye");
  app.add_option("--voltage", o.voltage_v, "RMS voltage per phase, V")->check(CLI::Range(1.0, 600.0));
  app.add_option("--current", o.current_a, "RMS current per phase, A")->check(CLI::Range(0.0, 300.0));
  app.add_option("--lag", o.lag_deg, "current lag behind voltage, degrees")->check(CLI::Range(-90.0, 90.0));
  app.add_option("--kh", o.kh_wh, "test LED constant Kh, Wh per pulse");
  app.add_option("--sample-rate", o.sample_rate_hz, "ADC sample rate, Hz");
  app.add_option("--zone", o.zone, "IANA time zone of the site");
  CLI11_PARSE(app, argc, argv);
  return run(o);
}
