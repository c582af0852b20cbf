// Per-tick cost of the load profile: the engine alone, and the plugin as the fake host calls
// it (minus the fake host's own publish cost, measured by BM_FakeHostPublishBaseline).
// The budget: at most 50 ns per tick added by the plugin.
#include <benchmark/benchmark.h>

#include <meter/sdk/testing/fake_host.h>

#include "engine.h"

extern "C" const meter_plugin_descriptor* meter_plugin_entry(void);

namespace {

using meter::plugins::load_profile::Engine;
using meter::plugins::load_profile::EngineConfig;
using meter::plugins::load_profile::parse_channels;

constexpr std::int64_t kT0Ms = 1'699'999'200'000;  // 2023-11-14T22:00:00Z

meter_energy_tick make_tick() {
  meter_energy_tick t{};
  t.time_valid = 1;
  t.duration_ms = 1000;
  t.delta_mwh[0] = 517;
  t.delta_mwh[1] = 3;
  return t;
}

// One tick a second through intervals of 15 min; every 900th tick closes a record.
void BM_EngineTick(benchmark::State& state) {
  EngineConfig config;
  config.interval_min = 15;
  config.capacity_records = 480;
  config.kh_nwh = 7'200'000'000;
  config.channels = parse_channels("1-0:1.8.0, 1-0:2.8.0").channels;
  Engine engine(config);
  meter_energy_tick tick = make_tick();
  tick.time_utc_ms = kT0Ms;
  for (auto _ : state) {
    tick.time_utc_ms += 1000;
    engine.on_tick(tick);
    benchmark::DoNotOptimize(engine);
  }
}
BENCHMARK(BM_EngineTick);

meter::sdk::testing::FakeHostOptions plugin_options() {
  meter::sdk::testing::FakeHostOptions o;
  o.start_time_utc_ms = kT0Ms;
  return o;
}

// The plugin behind its C handler, NVM writes at each closed interval included.
void BM_PluginTickThroughFakeHost(benchmark::State& state) {
  meter::sdk::testing::FakeHost host(meter_plugin_entry(), plugin_options());
  host.set_object(meter::sdk::obis("1-0:0.3.0"), meter::sdk::Value{1000.0 / 7.2});
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
  host.set_object(meter::sdk::obis("1-0:0.3.0"), meter::sdk::Value{1000.0 / 7.2});
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
