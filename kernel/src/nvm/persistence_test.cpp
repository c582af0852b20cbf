// The persistence service: what survives a restart, the outage, and what a damaged store does.
#include "meter/kernel/persistence.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <random>

#include "meter/kernel/journaled_nvm.h"
#include "meter/kernel/sqlite_nvm.h"

namespace meter::kernel {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::seconds;

constexpr UtcTime kStart{seconds{1'780'000'000}};

MeterConfig chip_config() {
  MeterConfig c;
  c.metrology.service = *find_service("1e2w");
  c.metrology.channel_count = c.metrology.service->channels();
  c.metrology.volts_per_code.fill(0.02);
  c.metrology.amps_per_code.fill(0.01);
  c.metrology.energy_nwh_per_lsb = 1.0;
  return c;
}

/// One power-up of the meter: a store on the file, a meter, and (once attached) persistence.
struct Rig {
  Rig(const fs::path& path, UtcTime now) : time(now) {
    auto s = SqliteNvmStore::open(path);
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    store = std::move(*s);
    meter = Meter::create(chip_config(), time).value();
  }
  Persistence& attach(PersistenceConfig config = {}) {
    auto p = Persistence::attach(*meter, *store, config);
    EXPECT_TRUE(p) << (p ? "" : p.error().message);
    persistence = std::move(*p);
    return *persistence;
  }
  /// `n` one-second ticks of 1 kW import with some reactive energy; the last tick's energy
  /// varies with `salt` so remainders differ between runs.
  void run(int n, std::int64_t salt = 0) {
    for (int i = 0; i < n; ++i) {
      AccumulatorReading r;
      r.interval = Milliseconds{1000};
      r.elements = 1;
      r.active_energy_lsb[0] = 277'777'778 + salt;
      r.reactive_energy_lsb[0] = -55'555'555;
      r.voltage_v[0] = 240;
      r.current_a[0] = 4.17;
      r.frequency_hz = 60;
      meter->add(r);
      time.advance(seconds{1});
      meter->tick();
    }
  }
  std::uint64_t error_register() {
    return std::get<std::uint64_t>(*meter->objects().read(obis("0-0:97.97.0"), Role::public_read));
  }
  std::string store_status() {
    return std::get<std::string>(*meter->objects().read(obis("0-0:128.4.0"), Role::public_read));
  }

  VirtualTimeSource time;
  std::unique_ptr<SqliteNvmStore> store;  // destroyed last
  std::unique_ptr<Meter> meter;
  std::unique_ptr<Persistence> persistence;
};

class PersistenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("persistence-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = dir_ / "meter.db";
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// Runs SQL on the closed store, as a meter-shop tool or a damaged medium would change it.
  void tamper(const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    EXPECT_GE(sqlite3_changes(db), 1);
    sqlite3_close(db);
  }

  fs::path dir_;
  fs::path path_;
};

TEST_F(PersistenceTest, AFreshMeterStartsAtZeroWithoutAFault) {
  Rig a(path_, kStart);
  std::vector<Fault> faults;
  a.meter->bus().subscribe<FaultRaised>([&](const FaultRaised& f) { faults.push_back(f.fault); });
  std::vector<PowerRestore> restores;
  a.meter->bus().subscribe<PowerRestore>([&](const PowerRestore& e) { restores.push_back(e); });
  auto& p = a.attach();
  EXPECT_EQ(p.restored().state, NvmState::fresh);
  EXPECT_FALSE(p.restored().power_restore);
  a.run(3);
  EXPECT_TRUE(faults.empty());
  EXPECT_TRUE(restores.empty());
  EXPECT_EQ(a.error_register() & 4u, 0u);
  EXPECT_EQ(a.store_status(), "fresh");
}

TEST_F(PersistenceTest, RegistersAndTheLedWindowSurviveACrashRestart) {
  EnergyRegisters::Snapshot before;
  Milliseconds led_left{};
  {
    Rig a(path_, kStart);
    a.attach();
    a.run(100, 3);
    before = a.meter->registers().snapshot();
    led_left = a.meter->test_led().remaining(a.meter->clock().uptime());
    ASSERT_EQ(led_left, TestLed::kActiveWindow - seconds{100});
  }  // killed: no PowerFail
  ASSERT_GT(before.mwh[index_of(EnergyRegister::import_active)], 0);
  ASSERT_GT(before.mwh[index_of(EnergyRegister::reactive_q4)], 0);

  Rig b(path_, kStart + seconds{100} + seconds{10});
  std::vector<PowerRestore> restores;
  b.meter->bus().subscribe<PowerRestore>([&](const PowerRestore& e) { restores.push_back(e); });
  auto& p = b.attach();
  EXPECT_EQ(p.restored().state, NvmState::intact);
  EXPECT_TRUE(p.restored().registers_restored);
  EXPECT_FALSE(p.restored().orderly_power_down);
  EXPECT_EQ(b.meter->registers().snapshot().mwh, before.mwh);
  EXPECT_EQ(b.meter->registers().snapshot().remainder_nwh, before.remainder_nwh);
  // A crash is not a power cycle: the LED's window carries on, less the time the meter was down.
  EXPECT_EQ(b.meter->test_led().remaining(b.meter->clock().uptime()), led_left - seconds{10});
  EXPECT_EQ(b.store_status(), "intact");

  b.run(1, 3);
  ASSERT_EQ(restores.size(), 1u);
  EXPECT_EQ(restores[0].outage, seconds{10});
  EXPECT_TRUE(restores[0].time_valid);
  b.run(1, 3);
  EXPECT_EQ(restores.size(), 1u);  // once per power-up
}

TEST_F(PersistenceTest, AnOrderlyPowerFailLosesNothingAndTheOutageIsPublished) {
  RegisterValues before{};
  {
    Rig a(path_, kStart);
    a.attach(PersistenceConfig{hours{24}});
    a.run(50);
    a.meter->bus().publish(PowerFail{a.meter->clock().now()});
    before = a.meter->registers().totals_mwh();
    EXPECT_EQ(a.persistence->durable_flushes(), 2u);  // at attach and at PowerFail
  }
  Rig b(path_, kStart + seconds{50} + hours{3});
  std::vector<PowerRestore> restores;
  b.meter->bus().subscribe<PowerRestore>([&](const PowerRestore& e) { restores.push_back(e); });
  auto& p = b.attach();
  EXPECT_TRUE(p.restored().orderly_power_down);
  EXPECT_EQ(b.meter->registers().totals_mwh(), before);
  p.publish_power_restore();
  ASSERT_EQ(restores.size(), 1u);
  EXPECT_EQ(restores[0].outage, hours{3});
  EXPECT_EQ(restores[0].time, kStart + seconds{50} + hours{3});
  // A real power cycle: the LED's window opens for 24 h from this power-up (seed 000).
  EXPECT_EQ(b.meter->test_led().remaining(b.meter->clock().uptime()), TestLed::kActiveWindow);

  // After the restart, a crash is again told apart from an orderly power-down.
  b.run(2);
  b.persistence.reset();
  b.meter.reset();
  b.store.reset();
  Rig c(path_, kStart + seconds{52} + hours{3});
  EXPECT_FALSE(c.attach().restored().orderly_power_down);
}

TEST_F(PersistenceTest, TheOutageIsUnknownWhenTheTimeIsNot) {
  {
    Rig a(path_, kStart);
    a.attach();
    a.run(5);
  }
  Rig b(path_, kStart + hours{1});
  b.meter->clock().invalidate();
  auto& p = b.attach();
  ASSERT_TRUE(p.restored().power_restore);
  EXPECT_FALSE(p.restored().power_restore->time_valid);
  EXPECT_EQ(p.restored().power_restore->outage, Milliseconds{0});
}

// A time set through a port is the meter's time, not the host's: it survives the restart on
// the board's clock as it kept running, and a simulated source resumes where it stood.
TEST_F(PersistenceTest, ATimeSetBeforeTheRestartIsTheTimeAfterIt) {
  const UtcTime set_to = kStart + hours{24 * 150};
  {
    Rig a(path_, kStart);
    a.attach();
    a.meter->clock().set_time(set_to);
    a.run(5);
  }
  EXPECT_EQ(Persistence::stored_time(*SqliteNvmStore::open(path_).value()), kStart + seconds{5});
  Rig b(path_, kStart + seconds{65});
  std::vector<TimeChanged> changes;
  b.meter->bus().subscribe<TimeChanged>([&](const TimeChanged& e) { changes.push_back(e); });
  auto& p = b.attach();
  EXPECT_TRUE(b.meter->clock().valid());
  EXPECT_EQ(b.meter->clock().now(), set_to + seconds{65});
  EXPECT_TRUE(changes.empty());  // the time was set when it was set, not again at power-up
  EXPECT_EQ(p.restored().power_restore->outage, seconds{60});
}

// A meter that did not know the time when the power went does not know it when it comes back,
// however well the board's clock ran; only setting it makes it known.
TEST_F(PersistenceTest, AnUnknownTimeStaysUnknownAcrossARestart) {
  {
    Rig a(path_, kStart);
    a.attach();
    a.meter->clock().invalidate();
    a.run(5);
  }
  Rig b(path_, kStart + seconds{65});
  b.attach();
  EXPECT_FALSE(b.meter->clock().valid());
  b.meter->clock().set_time(kStart + seconds{65});
  b.run(1);
  b.persistence.reset();
  b.meter.reset();
  b.store.reset();
  Rig c(path_, kStart + seconds{70});
  c.attach();
  EXPECT_TRUE(c.meter->clock().valid());
}

// A board clock behind the time last stored went backwards in the outage: time unknown, and
// the outage is unknown too. A minute's trim of the host's clock is not taken for one.
TEST_F(PersistenceTest, ABoardClockBehindTheStoredTimeMakesTheTimeUnknown) {
  {
    Rig a(path_, kStart);
    a.attach();
    a.run(5);
  }
  {
    Rig b(path_, kStart + seconds{5} - seconds{30});
    auto& p = b.attach();
    EXPECT_TRUE(b.meter->clock().valid());
    EXPECT_FALSE(p.restored().power_restore->time_valid);
  }
  Rig c(path_, kStart - hours{2});
  std::vector<FaultRaised> faults;
  c.meter->bus().subscribe<FaultRaised>([&](const FaultRaised& e) { faults.push_back(e); });
  auto& p = c.attach();
  EXPECT_FALSE(c.meter->clock().valid());
  EXPECT_FALSE(p.restored().power_restore->time_valid);
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_EQ(faults[0].fault, Fault::clock_invalid);
}

TEST_F(PersistenceTest, RegistersNeverGoBackwardsAcrossRestarts) {
  std::mt19937 rng(42);
  RegisterValues last{};
  auto now = kStart;
  for (int restart = 0; restart < 20; ++restart) {
    Rig r(path_, now);
    r.attach(PersistenceConfig{seconds{7}});
    const auto restored = r.meter->registers().totals_mwh();
    for (std::size_t i = 0; i < restored.size(); ++i) {
      EXPECT_EQ(restored[i], last[i]) << "restart " << restart << " register " << i;
    }
    const int ticks = static_cast<int>(rng() % 30);
    r.run(ticks, static_cast<std::int64_t>(rng() % 1000));
    last = r.meter->registers().totals_mwh();
    now = r.meter->clock().now() + seconds{static_cast<int>(rng() % 100)};
  }
  EXPECT_GT(last[index_of(EnergyRegister::import_active)], 0);
}

TEST_F(PersistenceTest, DurableFlushesFollowThePeriodAndTheRequests) {
  Rig a(path_, kStart);
  auto& p = a.attach(PersistenceConfig{seconds{10}});
  EXPECT_EQ(p.durable_flushes(), 1u);
  a.run(35);
  EXPECT_EQ(p.durable_flushes(), 4u);  // at 10, 20 and 30 s
  ASSERT_TRUE(p.flush());               // a tariff or billing event
  EXPECT_EQ(p.durable_flushes(), 5u);

  Rig b(dir_ / "durable.db", kStart);
  auto& every_tick = b.attach(PersistenceConfig{Milliseconds{0}});
  b.run(5);
  EXPECT_EQ(every_tick.durable_flushes(), 6u);
}

TEST_F(PersistenceTest, ADamagedRecordRaisesTheStorageFaultAndKeepsTheRegisters) {
  RegisterValues before{};
  {
    Rig a(path_, kStart);
    a.attach();
    a.run(20);
    before = a.meter->registers().totals_mwh();
    ASSERT_TRUE(a.store->apply({{"prepaid", "credit_milli", Value{std::int64_t{50'000}}}}));
  }
  tamper("UPDATE record SET value = X'50C3000000000100' WHERE ns = 'prepaid'");

  Rig b(path_, kStart + seconds{30});
  std::vector<FaultRaised> faults;
  b.meter->bus().subscribe<FaultRaised>([&](const FaultRaised& f) { faults.push_back(f); });
  auto& p = b.attach();
  EXPECT_EQ(p.restored().state, NvmState::damaged);
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_EQ(faults[0].fault, Fault::storage);
  EXPECT_NE(faults[0].detail.find("prepaid/credit_milli"), std::string::npos);
  EXPECT_EQ(b.error_register() & 4u, 4u);
  EXPECT_EQ(b.store_status().rfind("damaged: ", 0), 0u);
  // The kernel's own records still verify: the registers carry on from them, never from zero.
  EXPECT_TRUE(p.restored().registers_restored);
  EXPECT_EQ(b.meter->registers().totals_mwh(), before);
  EXPECT_FALSE(p.writing());
  b.run(10);
  EXPECT_FALSE(p.flush());
  b.persistence.reset();
  b.meter.reset();
  b.store.reset();

  // The store was not overwritten: the next start finds the same damage and the same registers.
  Rig c(path_, kStart + seconds{60});
  auto& again = c.attach();
  EXPECT_EQ(again.restored().state, NvmState::damaged);
  EXPECT_EQ(c.meter->registers().totals_mwh(), before);
}

TEST_F(PersistenceTest, DamagedRegistersAreNeverTakenForANewMeter) {
  {
    Rig a(path_, kStart);
    a.attach();
    a.run(20);
  }
  tamper("UPDATE record SET value = zeroblob(96) WHERE ns = 'kernel' AND key = 'registers'");
  for (int start = 0; start < 2; ++start) {
    Rig b(path_, kStart + hours{1 + start});
    auto& p = b.attach();
    EXPECT_EQ(p.restored().state, NvmState::damaged) << start;
    EXPECT_FALSE(p.restored().registers_restored);
    EXPECT_TRUE(b.meter->storage_fault());
    EXPECT_EQ(b.error_register() & 4u, 4u);
    b.run(3);  // it keeps metering, flagged, and writes nothing over the evidence
  }
}

TEST_F(PersistenceTest, KernelRecordsMissingFromAStoreWithOthersIsDamage) {
  {
    auto store = SqliteNvmStore::open(path_).value();
    ASSERT_TRUE(store->apply({{"tou", "season", Value{std::string("summer")}}}));
  }
  Rig b(path_, kStart);
  auto& p = b.attach();
  EXPECT_EQ(p.restored().state, NvmState::damaged);
  EXPECT_NE(p.restored().detail.find("missing"), std::string::npos);
  EXPECT_TRUE(b.meter->storage_fault());
}

TEST_F(PersistenceTest, WorksOnTheRamMediumToo) {
  RamNvmStore ram;
  VirtualTimeSource time(kStart);
  auto meter = Meter::create(chip_config(), time).value();
  auto p = Persistence::attach(*meter, ram);
  ASSERT_TRUE(p);
  EXPECT_EQ((*p)->restored().state, NvmState::fresh);
  EXPECT_FALSE(ram.keys(Persistence::kNamespace).empty());
  auto meter2 = Meter::create(chip_config(), time).value();
  auto p2 = Persistence::attach(*meter2, ram);
  ASSERT_TRUE(p2);
  EXPECT_EQ((*p2)->restored().state, NvmState::intact);
}

// A RAM medium dies with the process, so committing it every tick protects nothing: it gets
// the periodic writes and the power-fail write, and an orderly power failure loses nothing.
TEST_F(PersistenceTest, TheRamMediumIsWrittenPeriodicallyAndAtPowerFailNotEveryTick) {
  RamNvmStore ram;
  VirtualTimeSource time(kStart);
  auto meter = Meter::create(chip_config(), time).value();
  auto p = Persistence::attach(*meter, ram, PersistenceConfig{seconds{60}}).value();
  const auto after_attach = ram.batches();
  auto tick = [&](int n) {
    for (int i = 0; i < n; ++i) {
      AccumulatorReading r;
      r.interval = Milliseconds{1000};
      r.elements = 1;
      r.active_energy_lsb[0] = 277'777'778;
      r.voltage_v[0] = 240;
      r.current_a[0] = 4.17;
      r.frequency_hz = 60;
      meter->add(r);
      time.advance(seconds{1});
      meter->tick();
    }
  };
  tick(59);
  EXPECT_EQ(ram.batches(), after_attach) << "no write before the period is over";
  tick(1);
  EXPECT_EQ(ram.batches(), after_attach + 1) << "the periodic write";
  tick(30);
  const auto registers = meter->registers().snapshot().mwh;
  meter->bus().publish(PowerFail{meter->clock().now()});
  p.reset();
  meter.reset();
  auto meter2 = Meter::create(chip_config(), time).value();
  auto p2 = Persistence::attach(*meter2, ram).value();
  EXPECT_TRUE(p2->restored().orderly_power_down);
  EXPECT_EQ(meter2->registers().snapshot().mwh, registers) << "the power-fail write lost nothing";
}

}  // namespace
}  // namespace meter::kernel

namespace meter::kernel {
namespace {

// With the state folder's store, what a plugin writes in its tick handler is committed with the
// kernel's registers: after a process that never flushed goes, both are of the last tick.
TEST(PersistenceJournal, APluginsTickRecordCommitsWithTheKernelsRegisters) {
  const auto dir = fs::temp_directory_path() / ("persistence-journal-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  VirtualTimeSource time(kStart);
  std::int64_t total = 0;
  {
    auto store = JournaledNvmStore::open(dir, {.count_writes = false, .reserve_bytes = 0}).value();
    auto meter = Meter::create(chip_config(), time).value();
    PersistenceConfig config;
    config.period_in_real_time = true;  // no periodic flush within the test
    auto p = Persistence::attach(*meter, *store, config).value();
    // A plugin: subscribed after Persistence, as the host's plugins are.
    auto plugin = meter->bus().subscribe<EnergyTick>([&](const EnergyTick& t) {
      ASSERT_TRUE(store->put("tou", "total", Value{t.total_mwh[0]}));
    });
    for (int i = 0; i < 300; ++i) {
      AccumulatorReading r;
      r.interval = Milliseconds{1000};
      r.elements = 1;
      r.active_energy_lsb[0] = 277'777'778;
      r.voltage_v[0] = 240;
      r.current_a[0] = 4.17;
      r.frequency_hz = 60;
      meter->add(r);
      time.advance(seconds{1});
      meter->tick();
    }
    total = meter->registers().snapshot().mwh[0];
    ASSERT_GT(total, 0);
    // The process goes without a flush: only the journal holds the 300 ticks.
  }
  {
    auto store = JournaledNvmStore::open(dir).value();
    auto meter = Meter::create(chip_config(), time).value();
    auto p = Persistence::attach(*meter, *store).value();
    EXPECT_EQ(meter->registers().snapshot().mwh[0], total);
    auto rates = store->get("tou", "total");
    ASSERT_TRUE(rates && *rates);
    EXPECT_EQ(std::get<std::int64_t>(**rates), total);
  }
  JournaledNvmStore::remove_new(dir);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace meter::kernel
