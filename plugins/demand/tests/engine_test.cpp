// The demand engine on its own: the average, the settings it refuses, and its stored state
// (kept across a change of interval settings, refused when it is not a state).
#include <gtest/gtest.h>

#include "engine.h"

namespace meter::plugins::demand {
namespace {

constexpr std::int64_t kT0Ms = 1'699'999'200'000;  // 2023-11-14T22:00:00Z

Settings block(std::int64_t interval_s = 900, std::uint32_t subintervals = 1) {
  Settings s;
  s.interval_s = interval_s;
  s.subintervals = subintervals;
  s.quantities = {{Register::import_active, 0}, {Register::import_active, 2}};
  return s;
}

void run(Engine& e, std::int64_t from_ms, std::int64_t to_ms, std::int64_t mwh_per_s) {
  meter_energy_tick t{};
  t.time_valid = 1;
  t.duration_ms = 1000;
  t.delta_mwh[0] = mwh_per_s;
  for (std::int64_t at = from_ms + 1000; at <= to_ms; at += 1000) {
    t.time_utc_ms = at;
    e.on_tick(t);
  }
}

TEST(DemandEngine, DemandIsEnergyTimes3600OverTheIntervalInMilliwatts) {
  EXPECT_EQ(demand_mw(900'000, 900), 3'600'000);  // 0.9 kWh in 15 min is 3.6 kW
  EXPECT_EQ(demand_mw(1, 900), 4);
  EXPECT_EQ(demand_mw(1, 3600), 1);
  EXPECT_EQ(demand_mw(1, 1800), 2);
}

TEST(DemandEngine, RefusesIntervalsThatDoNotDivideAnHourAndRepeatedQuantities) {
  EXPECT_EQ(check_settings(block()), "");
  EXPECT_NE(check_settings(block(420)), "");
  EXPECT_NE(check_settings(block(900, 16)), "");
  EXPECT_NE(check_settings(block(600, 7)), "");
  Settings twice = block();
  twice.quantities.push_back({Register::import_active, 2});
  EXPECT_NE(check_settings(twice), "");
  Settings none = block();
  none.quantities.clear();
  EXPECT_NE(check_settings(none), "");
}

TEST(DemandEngine, StateRoundTripsAndKeepsMaximaWhenTheIntervalSettingsChange) {
  Engine a(block());
  a.resume(kT0Ms, true);
  a.on_rate_changed(2, 0);
  run(a, kT0Ms, kT0Ms + 900'000, 1000);
  ASSERT_TRUE(a.reset(kT0Ms + 900'000));
  run(a, kT0Ms + 900'000, kT0Ms + 1'800'000, 500);
  const auto bytes = a.state();

  Engine same(block());
  ASSERT_TRUE(same.restore_state(bytes.data(), bytes.size()));
  EXPECT_EQ(same.state(), bytes);

  Engine other(block(1800, 2));
  ASSERT_TRUE(other.restore_state(bytes.data(), bytes.size()));
  EXPECT_EQ(other.values(0).maximum_mw, 1'800'000);
  EXPECT_EQ(other.values(0).cumulative_mw, 3'600'000);
  EXPECT_EQ(other.values(1).maximum_mw, 1'800'000);
  EXPECT_EQ(other.values(0).previous_mw, 0);  // intervals of another length are not carried
  EXPECT_EQ(other.reset_count(), 1u);
  EXPECT_GT(other.lockout_remaining_ms(), 0);

  Engine damaged(block());
  EXPECT_FALSE(damaged.restore_state(bytes.data(), bytes.size() - 1));
  const std::vector<std::uint8_t> junk(bytes.size(), 0xA5);
  EXPECT_FALSE(damaged.restore_state(junk.data(), junk.size()));
}

TEST(DemandEngine, TicksWithoutAKnownTimeGiveNoDemandAndTheFirstKnownOneRealigns) {
  Engine e(block());
  e.resume(0, false);
  meter_energy_tick t{};
  t.duration_ms = 1000;
  t.delta_mwh[0] = 1000;
  for (int i = 0; i < 1000; ++i) e.on_tick(t);
  EXPECT_EQ(e.values(0).present_mw, 0);
  EXPECT_NE(e.status() & kFlagTimeUnknown, 0u);
  run(e, kT0Ms + 600'000, kT0Ms + 2'700'000, 1000);
  EXPECT_EQ(e.values(0).maximum_mw, 3'600'000);
  EXPECT_EQ(e.values(0).maximum_time_ms, kT0Ms + 1'800'000);
}

}  // namespace
}  // namespace meter::plugins::demand
