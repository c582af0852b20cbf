// Board drivers in chip fidelity: the cost of one simulated second, feed() alone and
// feed() + Meter::tick(), for the sim load models and for replay of a 1-minute recording.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "meter/boards/replay/replay_driver.h"
#include "meter/boards/sim/sim_driver.h"
#include "meter/kernel/meter.h"

namespace {

using namespace meter;
using std::chrono::seconds;

const kernel::UtcTime kStart{seconds{1'780'000'000}};

boards::sim::SimConfig sim_config(boards::sim::LoadModelKind kind) {
  boards::sim::SimConfig c;
  c.model = kind;
  if (kind == boards::sim::LoadModelKind::commercial) {
    c.service = *kernel::find_service("3e4w-wye");
    c.nominal_voltage_v = 277;
  } else {
    c.service = *kernel::find_service("2e3w-1ph");
    c.nominal_voltage_v = 120;
    c.pv_peak_w = 6000;
  }
  c.utc_offset = std::chrono::minutes{-300};
  return c;
}

std::unique_ptr<kernel::Meter> make_meter(const kernel::MetrologyConfig& m,
                                          const kernel::TimeSource& time) {
  kernel::MeterConfig c;
  c.metrology = m;
  return std::move(kernel::Meter::create(c, time).value());
}

// `wrap_s`: a recording is fed over and over (the meter's clock runs on), so that every second
// measured has a signal.
void run(benchmark::State& state, boards::Driver& driver, const kernel::MetrologyConfig& m,
         bool tick, std::int64_t wrap_s = 0) {
  kernel::VirtualTimeSource time{kStart};
  auto meter = make_meter(m, time);
  std::int64_t at_s = 0;
  for (auto _ : state) {
    driver.feed(*meter, kStart + seconds{at_s}, seconds{1});
    at_s = at_s + 1 == wrap_s ? 0 : at_s + 1;
    time.advance(seconds{1});
    if (tick) benchmark::DoNotOptimize(meter->tick());
  }
  benchmark::DoNotOptimize(driver.fed());
  state.SetItemsProcessed(state.iterations());  // simulated seconds
}

void BM_SimChip(benchmark::State& state, boards::sim::LoadModelKind kind, bool tick) {
  const auto c = sim_config(kind);
  auto driver = std::move(boards::sim::make_sim_driver(c).value());
  run(state, *driver, boards::sim::metrology_config(c), tick);
}

void BM_ReplayChip(benchmark::State& state, bool tick) {
  const auto path = std::filesystem::temp_directory_path() /
                    fmt::format("meter-board-bench-{}.csv", ::getpid());
  {
    std::ofstream out(path);
    out << "timestamp,p1_w,q1_var,p2_w,q2_var\n";
    for (int k = 0; k < 60 * 24 * 30; ++k) {  // 30 days of 1-minute rows
      const double p = 800 + 600 * std::sin(k / 97.0);
      out << fmt::format("{},{:.1f},{:.1f},{:.1f},{:.1f}\n", 1'780'000'000 + 60LL * k, p, p / 4,
                         p - 900, 40.0);
    }
  }
  boards::replay::ReplayConfig c;
  c.path = path.string();
  c.service = *kernel::find_service("2e3w-1ph");
  auto driver = std::move(boards::replay::make_replay_driver(c).value());
  std::filesystem::remove(path);
  kernel::MetrologyConfig m;
  m.service = c.service;
  m.channel_count = c.service->channels();
  m.volts_per_code.fill(0.02);
  m.amps_per_code.fill(0.01);
  m.energy_nwh_per_lsb = c.energy_nwh_per_lsb;
  run(state, *driver, m, tick, 30LL * 86400);
}

using boards::sim::LoadModelKind;
BENCHMARK_CAPTURE(BM_SimChip, residential_pv_feed, LoadModelKind::residential, false);
BENCHMARK_CAPTURE(BM_SimChip, residential_pv_feed_tick, LoadModelKind::residential, true);
BENCHMARK_CAPTURE(BM_SimChip, commercial_feed, LoadModelKind::commercial, false);
BENCHMARK_CAPTURE(BM_SimChip, commercial_feed_tick, LoadModelKind::commercial, true);
BENCHMARK_CAPTURE(BM_ReplayChip, one_minute_rows_feed, false);
BENCHMARK_CAPTURE(BM_ReplayChip, one_minute_rows_feed_tick, true);

}  // namespace

BENCHMARK_MAIN();
