// The plugin host's costs: loading and starting plugins, and delivering an event through the C
// ABI compared with a direct Boost.Signals2 slot doing the same work.
#include <benchmark/benchmark.h>

#include <chrono>
#include <filesystem>
#include <memory>

#include "meter/kernel/config.h"
#include "meter/kernel/meter.h"
#include "meter/kernel/plugin_host.h"
#include "meter/kernel/software_id.h"

namespace {

using namespace meter::kernel;

struct Rig {
  Rig() {
    MeterConfig c;
    c.metrology.service = *find_service("1e2w");
    c.metrology.channel_count = c.metrology.service->channels();
    c.metrology.volts_per_code.fill(0.01);
    c.metrology.amps_per_code.fill(0.001);
    meter = std::move(Meter::create(c, time).value());
  }
  std::unique_ptr<PluginHost> host(std::optional<PublicKey> oem_key = std::nullopt,
                                   toml::table meter_settings = {},
                                   CallBreadcrumb* breadcrumb = nullptr) {
    PluginHostConfig config;
    config.breadcrumb = breadcrumb;
    config.plugin_dirs = {METER_BENCH_PLUGIN_DIR, METER_PLUGIN_DIR};
    config.kernel_binary = "/dev/null";  // hashing the benchmark binary is not what is measured
    config.oem_public_key = oem_key;
    config.meter_settings = std::move(meter_settings);
    return std::make_unique<PluginHost>(
        PluginHostDeps{meter->bus(), meter->objects(), meter->gate(), meter->clock(), nvm, nullptr},
        std::move(config));
  }
  VirtualTimeSource time{UtcTime{std::chrono::seconds{1'780'000'000}}};
  std::unique_ptr<Meter> meter;
  RamNvmStore nvm;
};

/// Load and start the plugins the demo SKU names (config/skus/tou.toml with its site: tou,
/// demand, load_profile, sealing_audit, each signed and checked), then stop and unload them
/// outside the timing.
void BM_LoadAndStartPlugins(benchmark::State& state) {
  Rig rig;
  const std::filesystem::path source = METER_SOURCE_DIR;
  auto setup = config::load(source / "config/skus/tou.toml", source / "config/sites/toronto-tou.toml",
                            config::Paths{{source / "boards/descriptors"}, {METER_PLUGIN_DIR}});
  if (!setup.setup) {
    state.SkipWithError(setup.errors.to_string().c_str());
    return;
  }
  std::vector<PluginSpec> specs;
  for (const auto& p : setup.setup->sku.plugins) {
    PluginSpec spec;
    spec.id = p.id;
    spec.version = p.version;
    spec.granted = {p.grants.begin(), p.grants.end()};
    spec.config = p.settings;
    specs.push_back(std::move(spec));
  }
  auto key_text = read_binary(METER_OEM_PUBLIC_KEY);
  auto key = key_text ? from_hex<32>(std::string(key_text->begin(), key_text->end()))
                      : Result<PublicKey>(fail("no development OEM key"));
  if (!key) {
    state.SkipWithError(key.error().message.c_str());
    return;
  }
  for (auto _ : state) {
    auto host = rig.host(*key, setup.setup->meter_settings);
    if (host->load_all(specs) != specs.size() || host->start_all() != specs.size()) {
      state.SkipWithError("the demo SKU's plugins did not all load and start");
      break;
    }
    state.PauseTiming();
    host.reset();
    state.ResumeTiming();
  }
  state.counters["plugins"] = static_cast<double>(specs.size());
}
BENCHMARK(BM_LoadAndStartPlugins)->Unit(benchmark::kMillisecond)->Repetitions(10)->ReportAggregatesOnly(true);

void BM_DeliverTickDirectSlot(benchmark::State& state) {
  Rig rig;
  std::uint64_t sum = 0;
  auto connection = rig.meter->bus().subscribe<EnergyTick>([&sum](const EnergyTick& t) { sum += t.sequence; });
  EnergyTick tick{};
  for (auto _ : state) {
    ++tick.sequence;
    tick.abi.sequence = tick.sequence;  // as the Meter makes it, once per tick
    rig.meter->bus().publish(tick);
    benchmark::DoNotOptimize(sum);
  }
  connection.disconnect();
}
BENCHMARK(BM_DeliverTickDirectSlot)->Repetitions(10)->ReportAggregatesOnly(true);

/// A tick through the C ABI to one plugin; `supervised` as meterd makes it with a store, each
/// call into the plugin marked in the breadcrumb the watchdog and the supervisor read (docs/
/// architecture.md, "Containment"): the difference between the two is the containment's cost.
void BM_DeliverTickThroughCAbi(benchmark::State& state, bool supervised) {
  Rig rig;
  CallBreadcrumb breadcrumb;
  auto host = rig.host(std::nullopt, {}, supervised ? &breadcrumb : nullptr);
  PluginSpec sink;
  sink.id = "bench-sink";
  if (!host->load(sink) || host->start_all() != 1) {
    state.SkipWithError("bench-sink did not load");
    return;
  }
  EnergyTick tick{};
  for (auto _ : state) {
    ++tick.sequence;
    tick.abi.sequence = tick.sequence;  // as the Meter makes it, once per tick
    rig.meter->bus().publish(tick);
  }
  benchmark::DoNotOptimize(rig.meter->objects().read(meter::kernel::obis("0-0:96.201.0"), Role::reader));
  benchmark::DoNotOptimize(breadcrumb.since_ms.load());
}
BENCHMARK_CAPTURE(BM_DeliverTickThroughCAbi, unsupervised, false)
    ->Repetitions(10)->ReportAggregatesOnly(true);
BENCHMARK_CAPTURE(BM_DeliverTickThroughCAbi, supervised, true)
    ->Repetitions(10)->ReportAggregatesOnly(true);

}  // namespace
BENCHMARK_MAIN();
