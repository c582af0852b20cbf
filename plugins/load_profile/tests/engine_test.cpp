// The engine alone: cases the fake host's events cannot reach easily (pulse overflow, a clock
// set back without an event, outages longer than the ring) and its saved state.
#include <gtest/gtest.h>

#include "engine.h"

namespace meter::plugins::load_profile {
namespace {

constexpr std::int64_t kT0Ms = 1'699'999'200'000;  // 2023-11-14T22:00:00Z
constexpr std::int64_t kMinMs = 60'000;

EngineConfig config(std::uint32_t interval_min = 15, std::uint32_t capacity = 480,
                    std::uint64_t kh_nwh = 1'000'000'000) {
  EngineConfig c;
  c.interval_min = interval_min;
  c.capacity_records = capacity;
  c.kh_nwh = kh_nwh;
  c.channels = parse_channels("1-0:1.8.0,1-0:8.8.0").channels;
  return c;
}

meter_energy_tick tick_at(std::int64_t t_ms, std::int64_t import_mwh, std::int64_t q4_mvarh = 0) {
  meter_energy_tick t{};
  t.time_utc_ms = t_ms;
  t.time_valid = 1;
  t.duration_ms = 1000;
  t.delta_mwh[0] = import_mwh;
  t.delta_mwh[5] = q4_mvarh;
  return t;
}

TEST(LoadProfileEngine, MapsEachChannelToItsTickRegister) {
  Engine e(config());
  for (std::int64_t s = 1; s <= 900; ++s) e.on_tick(tick_at(kT0Ms + s * 1000, 10, 20));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e.record(0).pulses[0], 9u);
  EXPECT_EQ(e.record(0).pulses[1], 18u);
}

TEST(LoadProfileEngine, PulsesAboveTheRecordRangeSaturateAndCarryTheExcess) {
  Engine e(config(15, 480, 1000));  // Kh 1 uWh: 1 mWh is 1000 pulses
  e.on_tick(tick_at(kT0Ms + 1000, 5'000'000));  // 5e9 pulses
  e.on_tick(tick_at(kT0Ms + 15 * kMinMs, 0));
  for (std::int64_t s = 1; s <= 900; ++s) e.on_tick(tick_at(kT0Ms + 15 * kMinMs + s * 1000, 0));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e.record(0).pulses[0], 4'294'967'295u);
  EXPECT_EQ(e.record(0).flags & kFlagOverflow, kFlagOverflow);
  EXPECT_EQ(e.record(1).pulses[0], 5'000'000'000u - 4'294'967'295u);
  EXPECT_EQ(e.record(1).flags, 0);
}

TEST(LoadProfileEngine, AClockSetBackWithoutAnEventIsStillFlagged) {
  Engine e(config());
  for (std::int64_t s = 1; s <= 1200; ++s) e.on_tick(tick_at(kT0Ms + s * 1000, 100));
  for (std::int64_t s = 1; s <= 600; ++s) e.on_tick(tick_at(kT0Ms - 10 * kMinMs + s * 1000, 100));
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e.record(1).flags, kFlagTimeBack | kFlagPartial);
  EXPECT_EQ(e.record(2).flags, kFlagTimeBack | kFlagPartial | kFlagRepeatedTime);
}

TEST(LoadProfileEngine, AnOutageLongerThanTheRingWritesAtMostOneRingOfRecords) {
  Engine e(config(1, 16));
  for (std::int64_t s = 1; s <= 30; ++s) e.on_tick(tick_at(kT0Ms + s * 1000, 100));
  e.on_power_fail(kT0Ms + 30'000);
  e.on_power_restore(kT0Ms + 1000 * kMinMs + 30'000, 1000 * kMinMs, true);
  EXPECT_EQ(e.size(), 16u);
  EXPECT_EQ(e.next_sequence(), 17u);  // the interrupted one, then one ring of outage records
  const Record& newest = e.record(16);
  EXPECT_EQ(newest.end_utc_s * 1000, kT0Ms + 1000 * kMinMs);
  EXPECT_EQ(newest.flags, kFlagPowerFailure);
  EXPECT_EQ(e.open_flags(), kFlagPowerFailure | kFlagPartial);
}

TEST(LoadProfileEngine, StateRoundTripsAndRefusesAnotherConfiguration) {
  Engine e(config());
  for (std::int64_t s = 1; s <= 1000; ++s) e.on_tick(tick_at(kT0Ms + s * 1000, 7));
  const auto state = e.state();
  Engine same(config());
  ASSERT_TRUE(same.restore_state(state.data(), state.size()));
  EXPECT_EQ(same.next_sequence(), 1u);
  EXPECT_EQ(same.open_end_ms(), kT0Ms + 30 * kMinMs);
  EXPECT_EQ(same.open_energy_mwh(0), 700);
  EXPECT_FALSE(same.has_unsaved());
  EXPECT_TRUE(same.restore_record(e.record(0)));
  EXPECT_EQ(same.state(), state);

  Engine other(config(15, 480, 2'000'000'000));
  EXPECT_FALSE(other.restore_state(state.data(), state.size()));
  Engine truncated(config());
  EXPECT_FALSE(truncated.restore_state(state.data(), state.size() - 1));
}

TEST(LoadProfileEngine, ChecksItsConfiguration) {
  EXPECT_EQ(check_config(config()), "");
  EXPECT_NE(check_config(config(20)), "");
  EXPECT_NE(check_config(config(15, 0)), "");
  EXPECT_NE(check_config(config(15, 480, 0)), "");
  auto none = config();
  none.channels.clear();
  EXPECT_NE(check_config(none), "");
  EXPECT_EQ(parse_channels(" 1-0:5.8.0 ,1-0:6.8.0,1-0:7.8.0").channels.size(), 3u);
  EXPECT_EQ(parse_channels("1-0:7.8.0").channels[0].register_index, 4u);
}

}  // namespace
}  // namespace meter::plugins::load_profile
