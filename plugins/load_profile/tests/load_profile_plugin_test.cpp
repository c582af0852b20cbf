// The load profile plugin through the SDK's fake host: records, every flag, the ring buffer,
// restarts, the selector, settings and the day's pulse balance.
#include <gtest/gtest.h>

#include "rig.h"

namespace meter::plugins::load_profile::testing {
namespace {

using sdk::Status;

constexpr std::int64_t kMinMs = 60'000;

TEST(LoadProfilePlugin, RecordsPulsesPerChannelAtEachUtcAlignedIntervalEnd) {
  Rig rig;
  rig.start();
  rig.run_until(kT0Ms + 30 * kMinMs, 500, 200);  // 0.5 Wh and 0.2 Wh a second
  const Profile p = rig.profile();
  ASSERT_EQ(p.records.size(), 2u);
  EXPECT_EQ(p.interval_min, 15);
  EXPECT_EQ(p.kh_nwh, 1'000'000'000u);
  ASSERT_EQ(p.channels.size(), 2u);
  EXPECT_EQ(obis_text(p.channels[0]), "1-0:1.8.0");
  EXPECT_EQ(obis_text(p.channels[1]), "1-0:2.8.0");
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(p.records[i].sequence, i);
    EXPECT_EQ(p.records[i].end_utc_s, kT0S + static_cast<std::int64_t>(i + 1) * 15 * kMinS);
    EXPECT_EQ(p.records[i].flags, 0) << flags_text(p.records[i].flags);
    EXPECT_EQ(p.records[i].pulses[0], 450u);  // 900 s x 0.5 Wh / 1 Wh
    EXPECT_EQ(p.records[i].pulses[1], 180u);
  }
}

TEST(LoadProfilePlugin, ADaysPulsesTimesDivisorTimesKhMatchTheRegistersWithinOnePulse) {
  // Kh 7.2 Wh, divisor 3: one record pulse is 21.6 Wh; loads that never divide evenly.
  Rig rig(options(15, 480, 3), 7.2);
  rig.start();
  std::int64_t second = 0;
  while (rig.host.now_utc_ms() < kT0Ms + 86'400'000) {
    ++second;
    rig.tick(1'000 + (second * 7919) % 3'333, (second * 104'729) % 917);
  }
  const Profile p = rig.profile();
  ASSERT_EQ(p.records.size(), 96u);
  const std::int64_t unit_nwh = 3 * 7'200'000'000;
  for (std::size_t c = 0; c < 2; ++c) {
    std::int64_t pulses = 0;
    for (const auto& r : p.records) pulses += r.pulses[c];
    const std::int64_t moved_nwh = rig.moved_mwh[c] * 1'000'000;
    EXPECT_LE(pulses * unit_nwh, moved_nwh) << "channel " << c;
    EXPECT_LT(moved_nwh - pulses * unit_nwh, unit_nwh) << "channel " << c;
  }
}

TEST(LoadProfilePlugin, APartialFirstIntervalIsFlaggedAndAnAlignedOneIsNot) {
  Rig rig;
  rig.host.set_time_utc_ms(kT0Ms + 7 * kMinMs);
  rig.start();
  rig.run_until(kT0Ms + 30 * kMinMs);
  const Profile p = rig.profile();
  ASSERT_EQ(p.records.size(), 2u);
  EXPECT_EQ(p.records[0].flags, kFlagPartial);
  EXPECT_EQ(p.records[0].pulses[0], 48u);  // 480 s x 0.1 Wh
  EXPECT_EQ(p.records[1].flags, 0);
}

TEST(LoadProfilePlugin, APowerFailureAcrossIntervalsLeavesFlaggedRecordsNotGaps) {
  Rig rig;
  rig.start();
  rig.run_until(kT0Ms + 7 * kMinMs + 30'000);
  rig.power_fail();
  rig.power_restore(57 * kMinMs + 40'000);  // back at 23:05:10
  rig.run_until(kT0Ms + 75 * kMinMs);
  const Profile p = rig.profile();
  ASSERT_EQ(p.records.size(), 5u);
  EXPECT_EQ(p.records[0].end_utc_s, kT0S + 15 * kMinS);
  EXPECT_EQ(p.records[0].flags, kFlagPowerFailure | kFlagPartial);
  EXPECT_EQ(p.records[0].pulses[0], 45u);  // 450 s before the failure
  for (std::size_t i = 1; i <= 3; ++i) {
    EXPECT_EQ(p.records[i].end_utc_s, kT0S + static_cast<std::int64_t>(15 + 15 * i) * kMinS);
    EXPECT_EQ(p.records[i].flags, kFlagPowerFailure) << i;
    EXPECT_EQ(p.records[i].pulses[0], 0u);
  }
  EXPECT_EQ(p.records[4].end_utc_s, kT0S + 75 * kMinS);
  EXPECT_EQ(p.records[4].flags, kFlagPowerFailure | kFlagPartial);
  EXPECT_EQ(p.records[4].pulses[0], 59u);  // 590 s after the restore
}

TEST(LoadProfilePlugin, AMissedStretchOfTicksCountsAsAnOutage) {
  Rig rig;
  rig.start();
  rig.run_until(kT0Ms + 10 * kMinMs);
  rig.host.advance_ms(30 * kMinMs);  // no ticks, no events: the meter was not running
  rig.run_until(kT0Ms + 60 * kMinMs);
  const Profile p = rig.profile();
  ASSERT_EQ(p.records.size(), 4u);
  EXPECT_EQ(p.records[0].flags, kFlagPowerFailure | kFlagPartial);
  EXPECT_EQ(p.records[1].flags, kFlagPowerFailure);
  EXPECT_EQ(p.records[1].pulses[0], 0u);
  EXPECT_EQ(p.records[2].flags, kFlagPowerFailure | kFlagPartial);
  EXPECT_EQ(p.records[3].flags, 0);
}

TEST(LoadProfilePlugin, ForwardTimeChangeAcrossABoundarySplitsAndFlagsBothParts) {
  Rig rig;
  rig.start();
  rig.run_until(kT0Ms + 5 * kMinMs);
  rig.set_time(kT0Ms + 40 * kMinMs);  // 22:05 -> 22:40
  rig.run_until(kT0Ms + 45 * kMinMs);
  const Profile p = rig.profile();
  ASSERT_EQ(p.records.size(), 2u);
  EXPECT_EQ(p.records[0].end_utc_s, kT0S + 15 * kMinS);
  EXPECT_EQ(p.records[0].flags, kFlagTimeForward | kFlagPartial);
  EXPECT_EQ(p.records[0].pulses[0], 30u);
  EXPECT_EQ(p.records[1].end_utc_s, kT0S + 45 * kMinS);  // 22:30 never happened
  EXPECT_EQ(p.records[1].flags, kFlagTimeForward | kFlagPartial);
  EXPECT_EQ(p.records[1].pulses[0], 30u);
}

TEST(LoadProfilePlugin, ATimeChangeWithinAnIntervalFlagsItWithoutSplitting) {
  Rig rig;
  rig.start();
  rig.run_until(kT0Ms + 5 * kMinMs);
  rig.set_time(kT0Ms + 3 * kMinMs);
  rig.run_until(kT0Ms + 10 * kMinMs);
  rig.set_time(kT0Ms + 12 * kMinMs);
  rig.run_until(kT0Ms + 15 * kMinMs);
  const Profile p = rig.profile();
  ASSERT_EQ(p.records.size(), 1u);
  EXPECT_EQ(p.records[0].flags, kFlagTimeBack | kFlagTimeForward);
  EXPECT_EQ(p.records[0].pulses[0], 90u);  // 300 + 420 + 180 s
}

TEST(LoadProfilePlugin, ABackwardChangeThatRepeatsEndTimesIsFlaggedAndSequenced) {
  Rig rig;
  rig.start();
  rig.run_until(kT0Ms + 20 * kMinMs);
  rig.set_time(kT0Ms - 10 * kMinMs);  // 22:20 -> 21:50
  rig.run_until(kT0Ms + 45 * kMinMs);
  const Profile p = rig.profile();
  ASSERT_EQ(p.records.size(), 6u);
  const std::int64_t ends[] = {15, 30, 0, 15, 30, 45};
  const std::uint16_t flags[] = {0,
                                 kFlagTimeBack | kFlagPartial,
                                 kFlagTimeBack | kFlagPartial | kFlagRepeatedTime,
                                 kFlagRepeatedTime,
                                 kFlagRepeatedTime,
                                 0};
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(p.records[i].sequence, i);
    EXPECT_EQ(p.records[i].end_utc_s, kT0S + ends[i] * kMinS) << i;
    EXPECT_EQ(p.records[i].flags, flags[i]) << i << ": " << flags_text(p.records[i].flags);
  }
  EXPECT_EQ(p.records[1].pulses[0], 30u);  // 22:15 .. 22:20
  EXPECT_EQ(p.records[2].pulses[0], 60u);  // 21:50 .. 22:00
}

TEST(LoadProfilePlugin, EnergyMeteredWithoutAKnownTimeIsFlaggedClockInvalid) {
  Rig rig;
  rig.time_valid = false;
  rig.start();
  for (int i = 0; i < 120; ++i) rig.tick(100);
  rig.time_valid = true;
  rig.run_until(kT0Ms + 15 * kMinMs);
  rig.run_until(kT0Ms + 30 * kMinMs);
  const Profile p = rig.profile();
  ASSERT_EQ(p.records.size(), 2u);
  EXPECT_EQ(p.records[0].flags, kFlagClockInvalid | kFlagPartial);
  EXPECT_EQ(p.records[0].pulses[0], 90u);  // every tick of the interval, before and after
  EXPECT_EQ(p.records[1].flags, 0);
}

TEST(LoadProfilePlugin, AMeasurementFaultInATickFlagsItsInterval) {
  Rig rig;
  rig.start();
  rig.run_until(kT0Ms + 20 * kMinMs);
  rig.tick(100, 0, true);
  rig.run_until(kT0Ms + 45 * kMinMs);
  const Profile p = rig.profile();
  ASSERT_EQ(p.records.size(), 3u);
  EXPECT_EQ(p.records[0].flags, 0);
  EXPECT_EQ(p.records[1].flags, kFlagMeasurementFault);
  EXPECT_EQ(p.records[2].flags, 0);
}

TEST(LoadProfilePlugin, TheRingBufferOverwritesTheOldestRecords) {
  Rig rig(options(1, 16));
  rig.start();
  rig.run_until(kT0Ms + 20 * kMinMs);
  const Profile p = rig.profile();
  EXPECT_EQ(p.records_stored, 16u);
  ASSERT_EQ(p.records.size(), 16u);
  EXPECT_EQ(p.records.front().sequence, 4u);
  EXPECT_EQ(p.records.front().end_utc_s, kT0S + 5 * kMinS);
  EXPECT_EQ(p.records.back().sequence, 19u);
  EXPECT_EQ(p.records.back().end_utc_s, kT0S + 20 * kMinS);
}

TEST(LoadProfilePlugin, ARestartAcrossAnIntervalBoundaryKeepsRecordsAndTheOpenInterval) {
  Rig rig;
  rig.start();
  rig.run_until(kT0Ms + 22 * kMinMs);  // one record, 7 min open
  rig.power_fail();
  ASSERT_EQ(rig.host.stop(), Status::ok);
  rig.host.destroy();
  rig.host.advance_ms(13 * kMinMs + 30'000);  // off until 22:35:30
  rig.start();
  rig.run_until(kT0Ms + 60 * kMinMs);
  const Profile p = rig.profile();
  ASSERT_EQ(p.records.size(), 4u);
  EXPECT_EQ(p.records[0].flags, 0);
  EXPECT_EQ(p.records[0].pulses[0], 90u);
  EXPECT_EQ(p.records[1].end_utc_s, kT0S + 30 * kMinS);
  EXPECT_EQ(p.records[1].flags, kFlagPowerFailure | kFlagPartial);
  EXPECT_EQ(p.records[1].pulses[0], 42u);  // the 7 min before the failure survived
  EXPECT_EQ(p.records[2].end_utc_s, kT0S + 45 * kMinS);
  EXPECT_EQ(p.records[2].flags, kFlagPowerFailure | kFlagPartial);
  EXPECT_EQ(p.records[2].pulses[0], 57u);
  EXPECT_EQ(p.records[3].flags, 0);
}

TEST(LoadProfilePlugin, AStopAndStartInsideAnIntervalLosesNoEnergy) {
  Rig rig;
  rig.start();
  rig.run_until(kT0Ms + 5 * kMinMs);
  rig.restart();
  rig.run_until(kT0Ms + 15 * kMinMs);
  const Profile p = rig.profile();
  ASSERT_EQ(p.records.size(), 1u);
  EXPECT_EQ(p.records[0].flags, 0);
  EXPECT_EQ(p.records[0].pulses[0], 90u);
}

// A closed record is written once, when its interval closes; the open interval's state in
// every tick, so it commits with the kernel's registers.
TEST(LoadProfilePlugin, WritesEachRecordOnceAndTheOpenIntervalInEveryTick) {
  Rig rig;
  rig.start();
  rig.run_until(kT0Ms + 15 * kMinMs + 1000);
  const auto record = rig.host.nvm("r0");
  ASSERT_TRUE(record);
  auto state = rig.host.nvm("state");
  ASSERT_TRUE(state);
  while (rig.host.now_utc_ms() < kT0Ms + 29 * kMinMs) {
    rig.tick(100);
    const auto now = rig.host.nvm("state");
    ASSERT_TRUE(now);
    ASSERT_NE(*now, *state) << "the state was not written at " << rig.host.now_utc_ms();
    state = now;
  }
  EXPECT_EQ(*rig.host.nvm("r0"), *record);
  EXPECT_FALSE(rig.host.nvm("r1"));
  rig.run_until(kT0Ms + 30 * kMinMs);
  EXPECT_TRUE(rig.host.nvm("r1"));
}

/// A killed process: no PowerFail, no stop. A new instance gets what `running` committed, at
/// the same meter time.
void start_after_a_kill(Rig& running, Rig& after) {
  after.host.advance_ms(running.host.now_utc_ms() - after.host.now_utc_ms());
  if (auto v = running.host.nvm("state")) after.host.set_nvm("state", *v);
  for (int slot = 0; slot < 480; ++slot) {
    const std::string key = "r" + std::to_string(slot);
    if (auto v = running.host.nvm(key)) after.host.set_nvm(key, *v);
  }
  after.start();
}

// Killed after any tick, the interval the kill fell in closes with the energy of every tick
// before the kill, and no outage: the profile is the one a meter never killed records.
TEST(LoadProfilePlugin, AKillAtAnyTickKeepsTheOpenIntervalsEnergy) {
  for (const std::int64_t kill_s : {15 * 60 + 1, 22 * 60 + 17, 29 * 60 + 59, 30 * 60}) {
    SCOPED_TRACE("killed at " + std::to_string(kill_s) + " s");
    Rig steady;
    Rig killed;
    steady.start();
    killed.start();
    for (Rig* rig : {&steady, &killed}) rig->run_until(kT0Ms + kill_s * 1000, 100 + kill_s % 7, 3);
    Rig after;
    start_after_a_kill(killed, after);
    for (Rig* rig : {&steady, &after}) rig->run_until(kT0Ms + 60 * kMinMs, 250, 1);
    const Profile want = steady.profile();
    const Profile got = after.profile();
    ASSERT_EQ(got.records.size(), want.records.size());
    for (std::size_t i = 0; i < want.records.size(); ++i) {
      EXPECT_EQ(got.records[i].sequence, want.records[i].sequence) << i;
      EXPECT_EQ(got.records[i].end_utc_s, want.records[i].end_utc_s) << i;
      EXPECT_EQ(got.records[i].flags, want.records[i].flags) << i;
      EXPECT_EQ(got.records[i].pulses, want.records[i].pulses) << i;
    }
  }
}

TEST(LoadProfilePlugin, AChangedConfigurationStartsANewProfile) {
  {
    Rig first;
    first.start();
    first.run_until(kT0Ms + 30 * kMinMs);
    ASSERT_EQ(first.profile().records.size(), 2u);
    ASSERT_EQ(first.host.stop(), Status::ok);
    Rig second(options(5));
    for (const char* key : {"state", "r0", "r1"}) second.host.set_nvm(key, *first.host.nvm(key));
    second.start();
    EXPECT_TRUE(second.profile().records.empty());
    EXPECT_FALSE(second.host.nvm("r0"));
    bool warned = false;
    for (const auto& line : second.host.log()) {
      warned = warned || line.message.find("cleared") != std::string::npos;
    }
    EXPECT_TRUE(warned);
  }
}

TEST(LoadProfilePlugin, SelectsRecordsByIndexTimeAndCount) {
  Rig rig;
  rig.start();
  rig.run_until(kT0Ms + 120 * kMinMs);  // 8 records, 22:15 .. 00:00
  EXPECT_EQ(rig.profile().records.size(), 8u);
  const Profile by_index = rig.profile("index:2-4");
  ASSERT_EQ(by_index.records.size(), 3u);
  EXPECT_EQ(by_index.records_stored, 8u);
  EXPECT_EQ(by_index.records[0].sequence, 2u);
  EXPECT_EQ(rig.profile("index:6-").records.size(), 2u);
  const Profile by_time = rig.profile("time:2023-11-14T22:30:00Z/2023-11-14T23:30:00Z");
  ASSERT_EQ(by_time.records.size(), 4u);  // intervals ending 22:45 .. 23:30
  EXPECT_EQ(by_time.records.front().end_utc_s, kT0S + 45 * kMinS);
  EXPECT_EQ(by_time.records.back().end_utc_s, kT0S + 90 * kMinS);
  EXPECT_EQ(rig.profile("time:" + std::to_string(kT0S) + "/" + std::to_string(kT0S + 900))
                .records.size(),
            1u);
  const Profile last = rig.profile("last:3");
  ASSERT_EQ(last.records.size(), 3u);
  EXPECT_EQ(last.records.back().sequence, 7u);
  EXPECT_EQ(std::get<std::string>(*rig.host.read(kSelector)), "last:3");
}

TEST(LoadProfilePlugin, RefusesAMalformedSelector) {
  Rig rig;
  rig.start();
  for (const char* bad : {"", "index:5", "index:9-2", "time:2023-11-14/2023-11-15", "last:x",
                          "time:2023-02-29T00:00:00Z/2023-03-01T00:00:00Z", "some"}) {
    EXPECT_EQ(rig.host.write(kSelector, sdk::Value{std::string(bad)}),
              Status::invalid_argument)
        << bad;
  }
  EXPECT_EQ(rig.host.write(kSelector, sdk::Value{std::int64_t{3}}), Status::type_mismatch);
  EXPECT_EQ(std::get<std::string>(*rig.host.read(kSelector)), "all");
}

TEST(LoadProfilePlugin, RefusesAChannelThatIsNotATickRegisterAtCreate) {
  Rig rig(options(15, 480, 1, "1-0:1.8.0, 1-0:16.8.0"));
  EXPECT_EQ(rig.host.create(), Status::invalid_argument);
  const auto& reported = rig.host.reported_config_errors();
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0].key, "channels");
  EXPECT_NE(reported[0].message.find("1-0:16.8.0 is not an energy register"), std::string::npos)
      << reported[0].message;
  Rig twice(options(15, 480, 1, "1-0:1.8.0,1-0:1.8.0"));
  EXPECT_EQ(twice.host.create(), Status::invalid_argument);
  Rig junk(options(15, 480, 1, "plus A"));
  EXPECT_EQ(junk.host.create(), Status::invalid_argument);
}

TEST(LoadProfilePlugin, RefusesAnIntervalThatIsNotOneOfTheAllowedLengths) {
  Rig rig(options(7));
  EXPECT_EQ(rig.host.create(), Status::invalid_argument);
  const auto& reported = rig.host.reported_config_errors();
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0].key, "interval_min");
  EXPECT_NE(reported[0].message.find("7 min is not one of 1, 5, 10, 15, 30, 60"), std::string::npos);
  for (std::int64_t ok : {1, 5, 10, 15, 30, 60}) {
    Rig fine(options(ok));
    EXPECT_EQ(fine.host.create(), Status::ok) << ok;
  }
}

TEST(LoadProfilePlugin, TakesKhFromTheMeterOrElseFromTheSetting) {
  Rig from_meter(options(), 7.2);
  from_meter.start();
  EXPECT_EQ(from_meter.profile().kh_nwh, 7'200'000'000u);

  auto o = options();
  o.config.insert("kh_wh", 1.8);
  Rig from_setting(std::move(o), 0.0);
  from_setting.start();
  EXPECT_EQ(from_setting.profile().kh_nwh, 1'800'000'000u);

  Rig unknown(options(), 0.0);
  ASSERT_EQ(unknown.host.create(), Status::ok);
  EXPECT_EQ(unknown.host.start(), Status::invalid_argument);
}

TEST(LoadProfilePlugin, SelfTestPassesWhileRunning) {
  Rig rig;
  rig.start();
  EXPECT_EQ(rig.host.self_test(), Status::ok);
}

}  // namespace
}  // namespace meter::plugins::load_profile::testing
