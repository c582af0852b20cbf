// Per-tick cost of demand: the engine alone (block and sliding window, four quantities), and the
// plugin as the fake host calls it (minus the fake host's own publish cost, measured by
// BM_FakeHostPublishBaseline). The budget: at most 50 ns per tick added by the plugin.
#include <benchmark/benchmark.h>

#include <meter/sdk/testing/fake_host.h>

#include "engine.h"

extern "C" const meter_plugin_descriptor* meter_plugin_entry(void);

namespace {

using meter::plugins::demand::Engine;
using meter::plugins::demand::Register;
using meter::plugins::demand::Settings;

constexpr std::int64_t kT0Ms = 1'699'999'200'000;  // 2023-11-14T22:00:00Z

meter_energy_tick make_tick() {
  meter_energy_tick t{};
  t.time_valid = 1;
  t.duration_ms = 1000;
  t.delta_mwh[0] = 517;
  t.delta_mwh[1] = 3;
  return t;
}

// One tick a second through 15 min intervals; every 900th (block) or 300th (sliding, 3
// subintervals) tick closes a subinterval.
void BM_EngineTick(benchmark::State& state) {
  Settings s;
  s.interval_s = 900;
  s.subintervals = static_cast<std::uint32_t>(state.range(0));
  s.quantities = {{Register::import_active, 0}, {Register::import_active, 3},
                  {Register::export_active, 0}, {Register::import_active, 1}};
  Engine engine(s);
  engine.resume(kT0Ms, true);
  engine.on_rate_changed(3, 0);
  meter_energy_tick tick = make_tick();
  tick.time_utc_ms = kT0Ms;
  for (auto _ : state) {
    tick.time_utc_ms += 1000;
    engine.on_tick(tick);
    benchmark::DoNotOptimize(engine);
  }
}
BENCHMARK(BM_EngineTick)->Arg(1)->Arg(3);

meter::sdk::testing::FakeHostOptions plugin_options() {
  meter::sdk::testing::FakeHostOptions o;
  o.start_time_utc_ms = kT0Ms;
  return o;
}

// The plugin (default settings: import and export totals, block 15 min) behind its C handler,
// the NVM transaction at each closed interval included.
void BM_PluginTickThroughFakeHost(benchmark::State& state) {
  meter::sdk::testing::FakeHost host(meter_plugin_entry(), plugin_options());
  if (host.create() != meter::sdk::Status::ok || host.start() != meter::sdk::Status::ok) {
    state.SkipWithError("the plugin did not start");
    return;
  }
  meter_energy_tick tick = make_tick();
  tick.time_utc_ms = kT0Ms;
  for (auto _ : state) {
    tick.time_utc_ms += 1000;
    benchmark::DoNotOptimize(host.publish(tick));
  }
}
BENCHMARK(BM_PluginTickThroughFakeHost);

// The fake host's publish of an event the plugin does not subscribe to: its own overhead.
void BM_FakeHostPublishBaseline(benchmark::State& state) {
  meter::sdk::testing::FakeHost host(meter_plugin_entry(), plugin_options());
  if (host.create() != meter::sdk::Status::ok || host.start() != meter::sdk::Status::ok) {
    state.SkipWithError("the plugin did not start");
    return;
  }
  const meter_measurements m{};
  for (auto _ : state) benchmark::DoNotOptimize(host.publish(m));
}
BENCHMARK(BM_FakeHostPublishBaseline);

}  // namespace
BENCHMARK_MAIN();
