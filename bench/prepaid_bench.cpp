// Per-tick cost of prepaid: the ledger's exact debit alone, and the plugin as the fake host calls
// it (friendly hours set, the periodic save included; minus the fake host's own publish cost,
// measured by BM_FakeHostPublishBaseline). Budget: at most 50 ns per tick added by the plugin,
// like the other metering plugins. And what one token costs to judge (BLAKE2b), for scale.
#include <benchmark/benchmark.h>

#include <meter/sdk/testing/fake_host.h>

#include "ledger.h"
#include "token.h"

extern "C" const meter_plugin_descriptor* meter_plugin_entry(void);

namespace {

using meter::plugins::prepaid::Ledger;
using meter::plugins::prepaid::LedgerSettings;

constexpr std::int64_t kT0Ms = 1'768'417'200'000;  // 2026-01-14T19:00:00Z, noon in Phoenix
constexpr const char* kKeyHex = "8f3c2a61d07b44e9a5c1f2e3d4b5a69788796a5b4c3d2e1f00112233445566aa";

void BM_LedgerDebit(benchmark::State& state) {
  LedgerSettings s;
  s.sources = 2;
  s.price_milli_per_kwh = {13'217, 31'500, 0, 0};
  Ledger ledger(s);
  ledger.commission(std::int64_t{1} << 60);
  for (auto _ : state) {
    benchmark::DoNotOptimize(ledger.debit(0, 517));
  }
}
BENCHMARK(BM_LedgerDebit);

meter::sdk::testing::FakeHostOptions plugin_options() {
  meter::sdk::testing::FakeHostOptions o;
  o.config = toml::parse(R"(
time_zone = "America/Phoenix"
meter_key = "8f3c2a61d07b44e9a5c1f2e3d4b5a69788796a5b4c3d2e1f00112233445566aa"
sources = [{ name = "grid", price_per_kwh = 13217, current_limit_a = 60.0 }]
initial_credit = 100000000
maximum_credit = 100000000
emergency_credit_threshold = 200
friendly_hours = ["18:00-08:00"]
friendly_days = ["sat", "sun"]
)");
  o.granted = {"relay"};
  o.start_time_utc_ms = kT0Ms;
  return o;
}

// A tick a second at 1.86 kW: the debit, the friendly period's check, the save every 900 s.
void BM_PluginTickThroughFakeHost(benchmark::State& state) {
  meter::sdk::testing::FakeHost host(meter_plugin_entry(), plugin_options());
  if (host.create() != meter::sdk::Status::ok || host.start() != meter::sdk::Status::ok) {
    state.SkipWithError("the plugin did not start");
    return;
  }
  meter_energy_tick tick{};
  tick.time_valid = 1;
  tick.duration_ms = 1000;
  tick.time_utc_ms = kT0Ms;
  tick.delta_mwh[0] = 517;
  for (auto _ : state) {
    tick.time_utc_ms += 1000;
    tick.total_mwh[0] += tick.delta_mwh[0];
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
  const meter_seal_changed e{};
  for (auto _ : state) benchmark::DoNotOptimize(host.publish(e));
}
BENCHMARK(BM_FakeHostPublishBaseline);

// Judging a typed token: digits to number, then the keyed BLAKE2b MAC.
void BM_TokenDecode(benchmark::State& state) {
  const auto key = *meter::plugins::prepaid::parse_meter_key(kKeyHex);
  const auto digits = *meter::plugins::prepaid::make_token(
      key, {meter::plugins::prepaid::TokenClass::credit, 3'176'340, 2'000});
  for (auto _ : state) {
    benchmark::DoNotOptimize(meter::plugins::prepaid::decode_token(key, digits));
  }
}
BENCHMARK(BM_TokenDecode);

}  // namespace
BENCHMARK_MAIN();
