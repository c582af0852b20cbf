// The NVM store on a real file: the per-tick commit (a Meter tick with Persistence attached, one
// SQLite transaction without fsync), and the bytes the store writes to the device per simulated
// day at the default flush period and at the most durable setting (a flush every tick).
//
// Device bytes come from the store's write-counting VFS: each 4 KiB block the store dirties is
// counted once per fsync of its file, or once per OS write-back when one is simulated
// (writeback_s > 0; Linux's default dirty_expire_centisecs is 30 s). writeback_s = 0 models a
// board that holds dirty pages until the store syncs (vm.dirty_expire_centisecs and
// dirty_writeback_centisecs at or above the flush period).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <vector>

#include "meter/kernel/persistence.h"
#include "meter/kernel/sqlite_nvm.h"

namespace {

namespace fs = std::filesystem;
using namespace meter::kernel;
using std::chrono::seconds;

constexpr std::int64_t kTicksPerDay = 86'400;

MeterConfig chip_config() {
  MeterConfig c;
  c.metrology.service = *find_service("1e2w");
  c.metrology.channel_count = c.metrology.service->channels();
  c.metrology.volts_per_code.fill(0.02);
  c.metrology.amps_per_code.fill(0.01);
  return c;
}

AccumulatorReading one_second(std::int64_t n) {
  AccumulatorReading r;
  r.interval = std::chrono::milliseconds{1000};
  r.elements = 1;
  r.active_energy_lsb[0] = 277'777'778 + (n % 97) * 1'000'003;  // about 1 kW, varying
  r.reactive_energy_lsb[0] = 55'555'555;
  r.voltage_v[0] = 240;
  r.current_a[0] = 4.2;
  r.frequency_hz = 60;
  return r;
}

struct Bench {
  explicit Bench(PersistenceConfig config, bool count_writes) : time(UtcTime{seconds{1'780'000'000}}) {
    dir = fs::temp_directory_path() / ("nvm-bench-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    store = SqliteNvmStore::open(dir / "meter.db", {.count_writes = count_writes}).value();
    meter = Meter::create(chip_config(), time).value();
    persistence = Persistence::attach(*meter, *store, config).value();
  }
  ~Bench() {
    persistence.reset();
    meter.reset();
    store.reset();
    fs::remove_all(dir);
  }
  void tick() {
    meter->add(one_second(n++));
    time.advance(seconds{1});
    meter->tick();
  }
  fs::path dir;
  VirtualTimeSource time;
  std::int64_t n = 0;
  std::unique_ptr<SqliteNvmStore> store;
  std::unique_ptr<Meter> meter;
  std::unique_ptr<Persistence> persistence;
};

// One tick of the meter with its kernel records committed (default flush period of 15 min, so
// almost every tick is a commit without fsync; the median shows the per-tick commit).
void BM_TickWithCommit(benchmark::State& state) {
  Bench b(PersistenceConfig{}, false);
  std::vector<double> us;
  us.reserve(1 << 20);
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    b.tick();
    const auto t1 = std::chrono::steady_clock::now();
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::sort(us.begin(), us.end());
  state.counters["median_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[us.size() * 99 / 100];
  state.counters["durable_flushes"] = static_cast<double>(b.persistence->durable_flushes());
}
BENCHMARK(BM_TickWithCommit)->Iterations(20'000)->Unit(benchmark::kMicrosecond);

// The store alone: the kernel's four records as one transaction, no fsync.
void BM_StoreApplyKernelBatch(benchmark::State& state) {
  Bench b(PersistenceConfig{}, false);
  std::vector<NvmWrite> batch{
      {"kernel", "registers", Value{std::vector<std::uint8_t>(96, 7)}},
      {"kernel", "clock.utc_ms", Value{std::int64_t{1'780'000'000'000}}},
      {"kernel", "clock.valid", Value{true}},
      {"kernel", "led.remaining_ms", Value{std::int64_t{86'000'000}}}};
  std::int64_t i = 0;
  for (auto _ : state) {
    *batch[1].value = Value{++i};
    if (!b.store->apply(batch)) state.SkipWithError("apply failed");
  }
}
BENCHMARK(BM_StoreApplyKernelBatch)->Unit(benchmark::kMicrosecond);

// Bytes to the device per simulated day. Args: flush period s (0 = every tick), simulated OS
// write-back period s (0 = none), ticks simulated (scaled to a day; the pattern repeats every
// flush period, so a whole number of periods is exact).
void BM_WriteVolumePerDay(benchmark::State& state) {
  const auto flush_s = state.range(0);
  const auto writeback_s = state.range(1);
  const auto ticks = state.range(2);
  for (auto _ : state) {
    Bench b(PersistenceConfig{seconds{flush_s}}, true);
    const auto start = b.store->write_stats();
    for (std::int64_t t = 1; t <= ticks; ++t) {
      b.tick();
      if (writeback_s > 0 && t % writeback_s == 0) b.store->simulate_writeback();
    }
    const auto end = b.store->write_stats();
    const double scale = static_cast<double>(kTicksPerDay) / static_cast<double>(ticks);
    constexpr double kMiB = 1024.0 * 1024.0;
    state.counters["device_MiB_per_day"] =
        static_cast<double>(end.device_bytes - start.device_bytes) * scale / kMiB;
    state.counters["written_MiB_per_day"] =
        static_cast<double>(end.logical_bytes - start.logical_bytes) * scale / kMiB;
    state.counters["fsyncs_per_day"] = static_cast<double>(end.syncs - start.syncs) * scale;
    state.counters["flushes_per_day"] =
        static_cast<double>(end.durable_commits - start.durable_commits) * scale;
  }
}
BENCHMARK(BM_WriteVolumePerDay)
    ->ArgNames({"flush_s", "writeback_s", "ticks"})
    ->Args({900, 0, kTicksPerDay})     // default, board holds dirty pages until a sync
    ->Args({900, 30, kTicksPerDay})    // default, stock Linux write-back every 30 s
    ->Args({0, 0, 600})                // most durable: a flush every tick
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
