// Per-tick cost of the time-of-use plugin (budget: 50 ns per tick). TouEngineTick times the
// engine alone; TouPluginTick times the whole plugin as the kernel calls it — the C event
// callback, the SDK trampoline, the engine and the save counter — with the host's bus left out
// (its cost is plugin_host_bench's). Both run 1 s ticks through days of the Toronto tariff, so
// switch points, midnights and the DST change are included at their real frequency.
#include <fstream>
#include <sstream>

#include <benchmark/benchmark.h>

#include <meter/sdk/config.h>
#include <meter/sdk/testing/fake_host.h>

#include "engine.h"

extern "C" const meter_plugin_descriptor* meter_plugin_entry(void);

namespace {

using namespace meter::plugins::tou;

toml::table toronto_settings() {
  std::ifstream in(METER_TOU_SITE_FILE);
  std::stringstream text;
  text << in.rdbuf();
  std::string error;
  auto site = meter::sdk::parse_toml(text.str(), METER_TOU_SITE_FILE, error);
  if (!site) throw std::runtime_error(error);
  return *(*site)["plugins"]["tou"].as_table();
}

constexpr std::int64_t kStart_ms = 1'772'600'400'000;  // 2026-03-04T05:00:00Z, before DST

void TouEngineTick(benchmark::State& state) {
  auto settings = toronto_settings();
  Settings s;
  s.zone = date::locate_zone("America/Toronto");
  Engine engine(s, parse_calendar(*settings["seasons"].as_array()).value(),
                parse_holidays(*settings["holidays"].as_array()).value());
  std::int64_t t = kStart_ms;
  for (auto _ : state) {
    t += 1000;
    benchmark::DoNotOptimize(engine.tick(t, true, 250, 0));
  }
  benchmark::DoNotOptimize(engine.import_mwh());
}
BENCHMARK(TouEngineTick);

// The plugin behind the ABI: a fake host whose subscribe hands the tick handler to the
// benchmark, which then calls it exactly as the kernel's bus trampoline does.
meter_event_fn g_handler = nullptr;
void* g_user_data = nullptr;
meter_status capture(meter_host_context*, meter_event_type type, const char*, meter_event_fn handler,
                     void* user_data, std::uint64_t* id) {
  if (type == METER_EVENT_ENERGY_TICK) {
    g_handler = handler;
    g_user_data = user_data;
  }
  if (id != nullptr) *id = 1;
  return METER_STATUS_OK;
}
meter_status drop(meter_host_context*, const char*, const void*, std::size_t) {
  return METER_STATUS_OK;
}

void TouPluginTick(benchmark::State& state) {
  meter::sdk::testing::FakeHost fake(
      meter_plugin_entry(), {.config = toronto_settings(), .granted = {}, .start_time_utc_ms = kStart_ms});
  meter_host_api api = *fake.api();
  api.subscribe = &capture;
  api.publish = &drop;
  const meter_plugin_descriptor* d = meter_plugin_entry();
  meter_plugin_instance* instance = nullptr;
  if (d->create(&api, &instance) != METER_STATUS_OK || d->start(instance) != METER_STATUS_OK ||
      g_handler == nullptr) {
    state.SkipWithError("the plugin did not start");
    return;
  }
  meter_energy_tick tick{};
  tick.time_valid = 1;
  tick.duration_ms = 1000;
  tick.delta_mwh[0] = 250;
  tick.time_utc_ms = kStart_ms;
  const meter_event event{METER_EVENT_ENERGY_TICK, &tick};
  for (auto _ : state) {
    tick.time_utc_ms += 1000;
    ++tick.sequence;
    benchmark::DoNotOptimize(g_handler(g_user_data, &event));
  }
  d->stop(instance);
  d->destroy(instance);
}
BENCHMARK(TouPluginTick);

}  // namespace

BENCHMARK_MAIN();
