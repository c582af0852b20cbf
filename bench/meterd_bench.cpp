// meterd end to end: accelerated simulation of the demo SKU (target: at least 3 million
// meter-seconds per CPU-second), cold start to the first tick (target: at most 50 ms), and the
// peak resident memory of the real meterd process over a simulated month (target: 16 MiB).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "meter/kernel/journaled_nvm.h"
#include "meter/kernel/meter.h"
#include "meterd.h"

namespace {

namespace fs = std::filesystem;
using meter::apps::MeterdOptions;
using meter::apps::MeterRun;

const fs::path kSource = METER_SOURCE_DIR;

// The demo: the TOU SKU and site when they exist, else the basic kWh meter.
MeterdOptions demo(std::uint64_t simulate_s) {
  MeterdOptions o;
  const bool tou = fs::exists(kSource / "config/skus/tou.toml");
  o.sku = kSource / (tou ? "config/skus/tou.toml" : "config/skus/basic-kwh.toml");
  o.site = kSource / (tou ? "config/sites/toronto-tou.toml" : "config/sites/plain-toronto.toml");
  o.simulate_s = simulate_s;
  o.board_dirs = {kSource / "boards/descriptors"};
  o.plugin_dirs = {METER_PLUGIN_DIR};
  if (fs::exists(METER_OEM_PUBLIC_KEY)) {
    if (auto key = meter::apps::oem_key_text(METER_OEM_PUBLIC_KEY)) o.oem_key_hex = *key;
  }
  return o;
}

void BM_SimulateDemoDay(benchmark::State& state) {
  constexpr std::uint64_t kDay = 86400;
  std::ostringstream err;
  int status = 0;
  auto run = MeterRun::start(demo(kDay * 400), err, status);
  if (!run) {
    state.SkipWithError(err.str().c_str());
    return;
  }
  for (auto _ : state) {
    for (std::uint64_t s = 0; s < kDay; ++s) run->step();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kDay));
  state.SetLabel("items = meter-seconds");
}
BENCHMARK(BM_SimulateDemoDay)->Unit(benchmark::kMillisecond);

// The same with a state folder: the store, the board's copy and the tick journal in the loop,
// every tick committed (target: the same 3 million meter-seconds per CPU-second).
void BM_SimulateDemoDayWithState(benchmark::State& state) {
  constexpr std::uint64_t kDay = 86400;
  const auto dir = fs::temp_directory_path() / ("meterd-bench-state-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    auto o = demo(kDay * 400);
    o.state_dir = dir;
    std::ostringstream err;
    int status = 0;
    auto run = MeterRun::start(o, err, status);
    if (!run) {
      state.SkipWithError(err.str().c_str());
      return;
    }
    for (auto _ : state) {
      for (std::uint64_t s = 0; s < kDay; ++s) run->step();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kDay));
    state.SetLabel("items = meter-seconds");
  }
  meter::kernel::JournaledNvmStore::remove_new(dir);
  fs::remove_all(dir);
}
BENCHMARK(BM_SimulateDemoDayWithState)->Unit(benchmark::kMillisecond);

void BM_ColdStartToFirstTick(benchmark::State& state) {
  std::ostringstream err;
  for (auto _ : state) {
    int status = 0;
    auto run = MeterRun::start(demo(60), err, status);
    if (!run || !run->step()) {
      state.SkipWithError(err.str().c_str());
      return;
    }
    benchmark::DoNotOptimize(run->ticks());
  }
}
BENCHMARK(BM_ColdStartToFirstTick)->Unit(benchmark::kMillisecond);

// The real meterd binary for a simulated month, as a child process: its peak resident set.
void BM_MeterdPeakResidentMemory(benchmark::State& state) {
  const auto o = demo(30 * 86400);
  double peak_kib = 0;
  for (auto _ : state) {
    const pid_t child = fork();
    if (child == 0) {
      const int devnull = ::open("/dev/null", O_WRONLY);
      dup2(devnull, STDOUT_FILENO);
      std::vector<std::string> args{METER_MeterD_PATH, "--sku", o.sku.string(), "--site", o.site.string(),
                                    "--simulate", "30d"};
      if (o.oem_key_hex) {
        args.emplace_back("--oem-key");
        args.push_back(*o.oem_key_hex);
      }
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    int status = 0;
    rusage usage{};
    wait4(child, &status, 0, &usage);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      state.SkipWithError("meterd failed");
      return;
    }
    peak_kib = static_cast<double>(usage.ru_maxrss);
  }
  state.counters["peak_rss_MiB"] = peak_kib / 1024.0;
}
BENCHMARK(BM_MeterdPeakResidentMemory)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
