// A minimal meter process for the crash test: kernel::Meter fed by deterministic chip readings,
// with Persistence on a SQLite store in --state DIR, run as fast as the CPU allows.
//
// Tick k (1, 2, ...) books energy that depends on k alone, and the clock resumes from the last
// stored meter time, so a restarted run retraces the reference run exactly. Output, one line
// each, written unbuffered so that a SIGKILL loses no line already printed:
//   start <fresh|intact|damaged> <k> <orderly 0|1> <outage_ms> <6 x mWh> <6 x remainder nWh>
//   tick <k> <registers>       printed before the tick's commit
//   stopped <k> <registers>    SIGTERM or SIGINT: PowerFail published and flushed
//   done <k> <registers>       --ticks reached
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <filesystem>

#include "meter/kernel/persistence.h"
#include "meter/kernel/sqlite_nvm.h"

namespace {

using namespace meter::kernel;
using std::chrono::seconds;

constexpr UtcTime kStart{seconds{1'780'000'000}};
volatile std::sig_atomic_t g_power_fail = 0;

void on_signal(int) { g_power_fail = 1; }

void emit(const std::string& line) {
  std::size_t done = 0;
  while (done < line.size()) {
    const auto n = ::write(STDOUT_FILENO, line.data() + done, line.size() - done);
    if (n <= 0) std::_Exit(3);
    done += static_cast<std::size_t>(n);
  }
}

std::string registers(const Meter& m) {
  const auto& s = m.registers().snapshot();
  return fmt::format("{} {}", fmt::join(s.mwh, " "), fmt::join(s.remainder_nwh, " "));
}

AccumulatorReading reading(std::int64_t k) {
  AccumulatorReading r;
  r.interval = std::chrono::milliseconds{1000};
  r.elements = 1;
  const std::int64_t active = 277'777'778 + (k * 7919 % 1000) * 1'001;
  r.active_energy_lsb[0] = (k % 11 == 0) ? -active / 3 : active;  // some export too
  r.reactive_energy_lsb[0] = (k % 5 == 0) ? -55'555'557 : 33'333'331;
  r.voltage_v[0] = 240;
  r.current_a[0] = 4.2;
  r.frequency_hz = 60;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"crash-test meter: Meter + Persistence on a SQLite store, accelerated"};
  std::string state_dir;
  std::int64_t ticks = 0;
  std::int64_t flush_period_s = 900;
  app.add_option("--state", state_dir, "directory of the NVM store")->required();
  app.add_option("--ticks", ticks, "stop once tick k reaches this")->required();
  app.add_option("--flush-period", flush_period_s, "durable flush period, s (0: every tick)");
  CLI11_PARSE(app, argc, argv);

  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);

  auto store = SqliteNvmStore::open(std::filesystem::path(state_dir) / "meter.db");
  if (!store) {
    fmt::print(stderr, "{}\n", store.error().message);
    return 2;
  }
  // The board's RTC would give the time; here the clock resumes where the stored time left off.
  UtcTime resume = kStart;
  if (auto t = (*store)->get(Persistence::kNamespace, "clock.utc_ms"); t && *t) {
    if (const auto* ms = std::get_if<std::int64_t>(&**t)) resume = UtcTime{Milliseconds{*ms}};
  }
  VirtualTimeSource time(resume);
  MeterConfig config;
  config.metrology.service = *find_service("1e2w");
  config.metrology.channel_count = config.metrology.service->channels();
  config.metrology.volts_per_code.fill(0.02);
  config.metrology.amps_per_code.fill(0.01);
  auto meter = Meter::create(config, time);
  if (!meter) {
    fmt::print(stderr, "{}\n", meter.error().message);
    return 2;
  }
  Meter& m = **meter;
  auto k_of = [&] { return (m.clock().now() - kStart) / seconds{1}; };
  // Subscribed before Persistence: the line goes out before the tick is committed, so a kill in
  // between is the one tick a crash may lose.
  m.bus().subscribe<EnergyTick>(
      [&](const EnergyTick&) { emit(fmt::format("tick {} {}\n", k_of(), registers(m))); });

  auto persistence = Persistence::attach(m, **store, PersistenceConfig{seconds{flush_period_s}});
  if (!persistence) {
    fmt::print(stderr, "{}\n", persistence.error().message);
    return 2;
  }
  const auto& report = (*persistence)->restored();
  const char* state = report.state == NvmState::fresh    ? "fresh"
                      : report.state == NvmState::intact ? "intact"
                                                         : "damaged";
  const auto outage = report.power_restore ? report.power_restore->outage.count() : 0;
  emit(fmt::format("start {} {} {} {} {}\n", state, k_of(), report.orderly_power_down ? 1 : 0,
                   outage, registers(m)));
  (*persistence)->publish_power_restore();

  while (k_of() < ticks) {
    if (g_power_fail) {
      m.bus().publish(PowerFail{m.clock().now()});
      emit(fmt::format("stopped {} {}\n", k_of(), registers(m)));
      return 0;
    }
    m.add(reading(k_of() + 1));
    time.advance(seconds{1});
    m.tick();
  }
  emit(fmt::format("done {} {}\n", k_of(), registers(m)));
  return 0;
}
