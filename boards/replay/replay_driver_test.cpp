#include "meter/boards/replay/replay_driver.h"

#include <date/date.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "meter/kernel/meter.h"

namespace meter::boards::replay {
namespace {

using kernel::EnergyRegister;
using kernel::index_of;
using kernel::Milliseconds;
using kernel::UtcTime;
using std::chrono::seconds;

// A CSV written into a directory of its own, removed with the test.
class Csv {
 public:
  explicit Csv(const std::string& text) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("meter-replay-{}-{}", ::getpid(), info->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "load.csv").string();
    std::ofstream(path_) << text;
  }
  ~Csv() { std::filesystem::remove_all(dir_); }
  const std::string& path() const { return path_; }

 private:
  std::filesystem::path dir_;
  std::string path_;
};

ReplayConfig config_for(const std::string& path, const char* service = "1e2w") {
  ReplayConfig c;
  c.path = path;
  c.service = *kernel::find_service(service);
  return c;
}

struct Rig {
  Rig(const ReplayConfig& c, UtcTime start) : time(start) {
    auto d = make_replay_driver(c);
    if (!d) ADD_FAILURE() << d.error().message;
    driver = std::move(*d);
    kernel::MeterConfig mc;
    mc.metrology.service = c.service;
    mc.metrology.channel_count = c.service->channels();
    mc.metrology.volts_per_code.fill(0.02);
    mc.metrology.amps_per_code.fill(0.01);
    mc.metrology.energy_nwh_per_lsb = c.energy_nwh_per_lsb;
    meter = std::move(kernel::Meter::create(mc, time).value());
  }
  // One tick; what the import register moved, nWh.
  std::int64_t tick(Milliseconds length = seconds{1}) {
    const auto before = meter->registers().exact_nwh(EnergyRegister::import_active);
    driver->feed(*meter, time.utc(), length);
    time.advance(length);
    meter->tick();
    return meter->registers().exact_nwh(EnergyRegister::import_active) - before;
  }
  kernel::VirtualTimeSource time;
  std::unique_ptr<Driver> driver;
  std::unique_ptr<kernel::Meter> meter;
};

std::string error_of(const std::string& text, const char* service = "1e2w") {
  Csv csv(text);
  auto d = make_replay_driver(config_for(csv.path(), service));
  if (d) return "no error";
  const std::string& m = d.error().message;
  return m.substr(m.find("load.csv"));  // without the temp directory
}

constexpr double kNwhPerWs = 1e9 / 3600.0;

TEST(ReplayDriver, EachRowsEnergyIsSpreadEvenlyAndExactlyOverItsTicks) {
  // A 15-minute row, a 1-minute row and 1-second rows, with awkward powers.
  Csv csv(
      "timestamp,p1_w,q1_var\n"
      "2026-06-01T00:00:00Z,1234.5678,-17.3\n"
      "2026-06-01T00:15:00Z,333.3333,10\n"
      "2026-06-01T00:16:00Z,77.7,1\n"
      "2026-06-01T00:16:01Z,12,1\n");
  Rig r(config_for(csv.path()), UtcTime{date::sys_days{date::year{2026} / 6 / 1}});
  const std::int64_t row0 = std::llround(1234.5678 * 900 * kNwhPerWs / 1000) * 1000;
  std::int64_t sum = 0, low = INT64_MAX, high = 0;
  for (int k = 0; k < 900; ++k) {
    const std::int64_t d = r.tick();
    sum += d;
    low = std::min(low, d);
    high = std::max(high, d);
  }
  EXPECT_EQ(sum, row0);
  EXPECT_LE(high - low, 1000) << "each tick gets its share, to one LSB";
  for (int k = 0; k < 62; ++k) r.tick();
  const std::int64_t all = row0 + std::llround(333.3333 * 60 * kNwhPerWs / 1000) * 1000 +
                           std::llround(77.7 * kNwhPerWs / 1000) * 1000 +
                           std::llround(12 * kNwhPerWs / 1000) * 1000;
  EXPECT_EQ(r.driver->fed().nwh[index_of(EnergyRegister::import_active)], all);
  EXPECT_EQ(r.meter->registers().exact_nwh(EnergyRegister::import_active), all);
  EXPECT_EQ(r.tick(), 0) << "after the recording's end nothing is fed";
  EXPECT_EQ(r.driver->ends(), r.time.utc() - seconds{1});
}

TEST(ReplayDriver, TicksThatStraddleRowsAddUpToTheRowsExactly) {
  std::string text = "timestamp,p1_w,q1_var\n";
  const std::int64_t t0 = 1'780'000'000;
  std::int64_t expected_active = 0;
  for (int k = 0; k < 50; ++k) {
    const double p = 100.0 + 37.31 * k;
    text += fmt::format("{},{},{}\n", t0 + 7 * k, p, 0.25 * p);
    expected_active += std::llround(p * 7 * kNwhPerWs / 1000) * 1000;
  }
  Csv csv(text);
  Rig r(config_for(csv.path()), UtcTime{seconds{t0}} - Milliseconds{300});
  for (int k = 0; k < 400; ++k) r.tick(Milliseconds{900});
  for (const auto reg : {EnergyRegister::import_active, EnergyRegister::reactive_q1}) {
    EXPECT_EQ(r.meter->registers().exact_nwh(reg), r.driver->fed().nwh[index_of(reg)]);
  }
  EXPECT_EQ(r.driver->fed().nwh[index_of(EnergyRegister::import_active)], expected_active);
}

TEST(ReplayDriver, IsoTimesWithOffsetsAndEpochSecondsAreTheSameInstants) {
  Csv iso("timestamp,p1_w\n2026-06-01T08:00:00-04:00,500\n2026-06-01 12:00:30.5Z,400\n");
  const date::sys_seconds start = date::sys_days{date::year{2026} / 6 / 1} + std::chrono::hours{12};
  Csv epoch(fmt::format("p1_w,timestamp\n500,{}\n400,{}.5\n",
                        start.time_since_epoch().count(), start.time_since_epoch().count() + 30));
  auto a = make_replay_driver(config_for(iso.path()));
  auto b = make_replay_driver(config_for(epoch.path()));
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ((*a)->begins(), UtcTime{start});
  EXPECT_EQ((*b)->begins(), UtcTime{start});
  EXPECT_EQ((*a)->ends(), UtcTime{start} + seconds{61});
  EXPECT_EQ((*b)->ends(), (*a)->ends());
}

TEST(ReplayDriver, BadRowsAreReportedWithFileLineAndColumn) {
  EXPECT_EQ(error_of("timestamp,p1_w,p2_w\n1000,1,2\n1060,3,abc\n", "2e3w-1ph"),
            "load.csv:3: column p2_w: 'abc' is not a number");
  EXPECT_EQ(error_of("timestamp,p1_w,q1_var\n1000,1,2\n1060,3\n"),
            "load.csv:3: column q1_var is missing (the row has 2 of 3 columns)");
  EXPECT_EQ(error_of("# comment\n\ntimestamp,p1_w\n1000,1\n1000,2\n"),
            "load.csv:5: column timestamp: 1000 is not after the previous row's "
            "1970-01-01T00:16:40.000Z");
  EXPECT_EQ(error_of("timestamp,p1_w\n2026-13-01T00:00:00Z,1\n"),
            "load.csv:2: column timestamp: '2026-13-01T00:00:00Z' is neither ISO 8601 nor epoch "
            "seconds");
  EXPECT_EQ(error_of("timestamp,p1_w,watts\n"),
            "load.csv:1: column 'watts' is unknown; expected timestamp, pN_w, qN_var, vN_v, iN_a "
            "with N 1..3");
  EXPECT_EQ(error_of("timestamp,p1_w\n1000,1\n1060,2\n", "3e4w-wye"),
            "load.csv:1: the recording has 1 element(s) (p1_w..p1_w) but service 3e4w-wye has 3");
  EXPECT_EQ(error_of("timestamp,p1_w\n1000,1\n"),
            "load.csv: needs at least two rows (a row lasts until the next)");
  EXPECT_EQ(error_of("timestamp,p1_w,q2_var\n"),
            "load.csv:1: column q2_var has no p2_w (elements are p1_w..p1_w)");
}

TEST(ReplayDriver, APowerFailureFeedsNothingAndTheRestIsUnchanged) {
  Csv csv("timestamp,p1_w\n0,3600\n60,3600\n");
  auto c = config_for(csv.path());
  c.happenings = {{Happening::Kind::power_failure, UtcTime{seconds{10}}, seconds{20}}};
  Rig r(c, UtcTime{});
  for (int k = 0; k < 120; ++k) r.tick();
  // 3600 W is 1 Wh a second: 120 s less the 20 s outage.
  EXPECT_EQ(r.driver->fed().nwh[index_of(EnergyRegister::import_active)], 100'000'000'000);
  EXPECT_EQ(r.driver->fed().ticks, 100u);
}

TEST(ReplayDriver, SealSwitchesReadTheSiteStateAndChangeAtTheirHappenings) {
  Csv csv("timestamp,p1_w\n0,3600\n60,3600\n");
  auto c = config_for(csv.path());
  c.seal_switches = {kernel::SealKind::cover};
  Happening applied;
  applied.kind = Happening::Kind::seal_applied;
  applied.seal = kernel::SealKind::cover;
  applied.at = UtcTime{seconds{30}};
  c.happenings = {applied};
  auto d = make_replay_driver(c);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ((*d)->seal_switches(UtcTime{seconds{29}}).sealed, 0);
  EXPECT_EQ((*d)->seal_switches(UtcTime{seconds{30}}).sealed, seal_bit(kernel::SealKind::cover));
  c.sealed = {kernel::SealKind::programming_jumper};
  auto refused = make_replay_driver(c);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("replay: "), std::string::npos);
}

TEST(ReplayDriver, TheSampleDayImportsInTheEveningAndExportsAtNoon) {
  auto c = config_for(METER_REPLAY_SAMPLES "/house_pv_15min.csv", "2e3w-1ph");
  c.nominal_voltage_v = 120;
  auto probe = make_replay_driver(c);
  ASSERT_TRUE(probe) << probe.error().message;
  Rig r(c, *(*probe)->begins());
  for (int k = 0; k < 86400; ++k) r.tick();
  const auto& fed = r.driver->fed().nwh;
  EXPECT_GT(fed[index_of(EnergyRegister::import_active)], 5'000'000'000'000);  // > 5 kWh
  EXPECT_GT(fed[index_of(EnergyRegister::export_active)], 10'000'000'000'000);
  EXPECT_GT(fed[index_of(EnergyRegister::reactive_q2)], 0);
  for (std::size_t k = 0; k < kernel::kEnergyRegisterCount; ++k) {
    EXPECT_EQ(r.meter->registers().exact_nwh(static_cast<EnergyRegister>(k + 1)), fed[k]);
  }
  EXPECT_EQ(r.driver->fed().ticks, 86400u);
  EXPECT_NEAR(r.meter->last_measurements().voltage_v[0], 120.9, 0.3);
}

}  // namespace
}  // namespace meter::boards::replay
