// The demand plugin through the SDK's fake host, with known loads: block and sliding averages,
// maxima and their times, the 24 h rule, cold-load pickup, power failures and time changes,
// reset and its lockout, per-rate demand following RateChanged, restarts on the same NVM.
#include <array>
#include <cstring>

#include <gtest/gtest.h>

#include <meter/plugins/demand/events.h>

#include "engine.h"
#include "rig.h"

namespace meter::plugins::demand::testing {
namespace {

using sdk::Status;
using sdk::Value;

TEST(DemandPlugin, BlockDemandIsTheExactAverageOfTheIntervalAndTheMaximumCarriesItsEnd) {
  Rig rig;
  rig.start();
  rig.run_until(kT0Ms + 5 * kMinMs, 300);   // 300 s at 1.08 kW
  rig.run_until(kT0Ms + 15 * kMinMs, 600);  // 600 s at 2.16 kW
  // (300 s x 300 mWh + 600 s x 600 mWh) x 3600 / 900 s
  EXPECT_EQ(rig.integer(kPrevious), 1'800'000);
  EXPECT_EQ(rig.integer(kMaximum), 1'800'000);
  EXPECT_EQ(rig.text(kMaximumTime), "2023-11-14T22:15:00Z");
  rig.run_until(kT0Ms + 20 * kMinMs, 300);
  EXPECT_EQ(rig.integer(kPresent), 360'000);  // 300 s x 300 mWh over the whole 900 s
  rig.run_until(kT0Ms + 30 * kMinMs, 100);
  EXPECT_EQ(rig.integer(kPrevious), (300 * 300 + 600 * 100) * 4);
  EXPECT_EQ(rig.integer(kMaximum), 1'800'000);
  EXPECT_EQ(rig.text(kMaximumTime), "2023-11-14T22:15:00Z");
  EXPECT_EQ(rig.unsigned_value(kStatus), 0u);
  EXPECT_EQ(rig.host.faults(), 0u);
}

TEST(DemandPlugin, SlidingWindowDemandIsTheAverageOfTheLastSubintervalsAtEachSubintervalEnd) {
  Rig rig(options(15, 3));  // 15 min window of three 5 min subintervals
  rig.start();
  rig.run_until(kT0Ms + 5 * kMinMs, 100);
  rig.run_until(kT0Ms + 10 * kMinMs, 200);
  EXPECT_EQ(rig.integer(kPrevious), 0);  // the window is not full yet
  EXPECT_EQ(rig.integer(kMaximum), 0);
  EXPECT_EQ(rig.integer(kPresent), (30'000 + 60'000) * 4);
  rig.run_until(kT0Ms + 15 * kMinMs, 300);
  EXPECT_EQ(rig.integer(kPrevious), (30'000 + 60'000 + 90'000) * 4);
  rig.run_until(kT0Ms + 20 * kMinMs, 600);
  EXPECT_EQ(rig.integer(kPrevious), (60'000 + 90'000 + 180'000) * 4);
  EXPECT_EQ(rig.integer(kMaximum), 1'320'000);
  EXPECT_EQ(rig.text(kMaximumTime), "2023-11-14T22:20:00Z");
  rig.run_until(kT0Ms + 25 * kMinMs, 0);
  EXPECT_EQ(rig.integer(kPrevious), (90'000 + 180'000) * 4);
  EXPECT_EQ(rig.integer(kMaximum), 1'320'000);
}

TEST(DemandPlugin, AFirstIntervalThatStartsLateGivesNoDemandAndTheNextAlignsToTheClock) {
  Rig rig;
  rig.host.set_time_utc_ms(kT0Ms + 7 * kMinMs);
  rig.start();
  EXPECT_EQ(rig.integer(kPresent), 0);
  rig.run_until(kT0Ms + 15 * kMinMs, 1000);
  EXPECT_EQ(rig.integer(kMaximum), 0);
  EXPECT_NE(rig.unsigned_value(kStatus) & kFlagPartial, 0u);
  rig.run_until(kT0Ms + 30 * kMinMs, 1000);
  EXPECT_EQ(rig.integer(kMaximum), 3'600'000);
  EXPECT_EQ(rig.text(kMaximumTime), "2023-11-14T22:30:00Z");
}

TEST(DemandPlugin, ExportAndPerRateQuantitiesUseTheirOwnObisCodes) {
  Rig rig(options(15, 1, R"([{ rate = "total" }, { rate = "C" }, { register = "1-0:2.8.0", rate = "total" }])"));
  rig.start();
  for (const auto& id : {kMaximum, sdk::obis("1-0:1.6.3"), sdk::obis("1-0:2.6.0"),
                         sdk::obis("1-0:2.4.0"), sdk::obis("1-0:1.128.3"), sdk::obis("1-0:2.3.0")}) {
    EXPECT_TRUE(rig.host.has_object(id)) << sdk::to_string(id);
  }
  EXPECT_FALSE(rig.host.has_object(sdk::obis("1-0:1.6.1")));
  const meter_object_info* info = rig.host.object_info(kMaximum);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->unit, 27);  // W
  EXPECT_EQ(info->scaler, -3);
  EXPECT_EQ(info->legally_relevant, 1);
  rig.run_until(kT0Ms + 15 * kMinMs, 1000, 250);
  EXPECT_EQ(rig.integer(sdk::obis("1-0:2.6.0")), 900'000);
  EXPECT_EQ(rig.integer(sdk::obis("1-0:1.6.3")), 0);  // no rate known: rate C saw nothing
}

TEST(DemandPlugin, PerRateDemandFollowsRateChangedIncludingTheTickThePublisherMeteredInTheNewRate) {
  Rig rig(options(15, 1, R"([{ rate = "total" }, { rate = "A" }, { rate = "B" }])"));
  rig.start();
  rig.rate_changed(1, 0);
  rig.run_until(kT0Ms + 450'000, 1000);  // 450 ticks in rate A...
  // ...then the TOU plugin meters the 451st tick in rate B and says so after demand saw it.
  rig.tick(1000);
  rig.rate_changed(2, 1, rig.host.now_utc_ms());
  rig.run_until(kT0Ms + 15 * kMinMs, 1000);
  EXPECT_EQ(rig.integer(kMaximum), 3'600'000);
  EXPECT_EQ(rig.integer(sdk::obis("1-0:1.6.1")), 450'000 * 4);
  EXPECT_EQ(rig.integer(sdk::obis("1-0:1.6.2")), 450'000 * 4);
  // A change announced apart from a tick (a clock change) moves nothing already metered.
  rig.run_until(kT0Ms + 20 * kMinMs, 1000);
  rig.rate_changed(1, 2, rig.host.now_utc_ms() + 1);
  rig.run_until(kT0Ms + 30 * kMinMs, 2000);
  EXPECT_EQ(rig.integer(sdk::obis("1-0:1.5.2")), 300'000 * 4);
  EXPECT_EQ(rig.integer(sdk::obis("1-0:1.5.1")), 1'200'000 * 4);
  EXPECT_EQ(rig.integer(kPrevious), 1'500'000 * 4);
}

TEST(DemandPlugin, ARateQuantityStartsFromTheCurrentRateObjectWhenTouStartedFirst) {
  Rig rig(options(15, 1, R"([{ rate = "C" }])"));
  rig.host.set_object(sdk::obis("0-0:96.14.0"), Value{std::uint64_t{3}});
  rig.start();
  rig.run_until(kT0Ms + 15 * kMinMs, 500);
  EXPECT_EQ(rig.integer(sdk::obis("1-0:1.6.3")), 1'800'000);
}

TEST(DemandPlugin, APowerFailureInsideAnIntervalIsFlaggedAndTheAverageCountsTheOutageAsZero) {
  Rig rig;
  rig.start();
  rig.run_until(kT0Ms + 5 * kMinMs, 1000);
  rig.power_fail();
  rig.power_restore(2 * kMinMs);
  rig.run_until(kT0Ms + 15 * kMinMs, 1000);
  EXPECT_EQ(rig.integer(kMaximum), (300'000 + 480'000) * 4);
  EXPECT_NE(rig.unsigned_value(kStatus) & kFlagPowerFail, 0u);
  rig.run_until(kT0Ms + 30 * kMinMs, 1000);
  EXPECT_EQ(rig.unsigned_value(kStatus) & kFlagPowerFail, 0u);
  EXPECT_EQ(rig.integer(kMaximum), 3'600'000);
}

TEST(DemandPlugin, AfterAnOutageOfMoreThan24HoursNoDemandUntilATimeSynchronisation) {
  Rig rig;
  rig.start();
  rig.run_until(kT0Ms + 15 * kMinMs, 1000);
  ASSERT_EQ(rig.integer(kMaximum), 3'600'000);
  rig.power_fail();
  rig.power_restore(24 * kHourMs + 1000);
  const std::int64_t back = rig.host.now_utc_ms();
  rig.run_until(back + 2 * kHourMs, 2000);
  EXPECT_EQ(rig.integer(kMaximum), 3'600'000);
  EXPECT_EQ(rig.integer(kPresent), 0);
  EXPECT_NE(rig.unsigned_value(kStatus) & kFlagAwaitingSync, 0u);
  // The head-end synchronises the clock: demand resumes at the next aligned interval.
  const std::int64_t synced = kT0Ms + 27 * kHourMs + 5 * kMinMs;
  rig.set_time(synced);
  EXPECT_EQ(rig.unsigned_value(kStatus) & kFlagAwaitingSync, 0u);
  rig.run_until(synced + 10 * kMinMs, 2000);
  EXPECT_EQ(rig.integer(kMaximum), 3'600'000);  // the re-aligned partial interval gives none
  rig.run_until(synced + 25 * kMinMs, 2000);
  EXPECT_EQ(rig.integer(kMaximum), 7'200'000);
  EXPECT_EQ(rig.text(kMaximumTime), "2023-11-16T01:30:00Z");
}

TEST(DemandPlugin, AnOutageOfExactly24HoursNeedsNoTimeSynchronisation) {
  Rig rig;
  rig.start();
  rig.run_until(kT0Ms + 15 * kMinMs, 1000);
  rig.power_fail();
  rig.power_restore(24 * kHourMs);
  rig.run_until(kT0Ms + 24 * kHourMs + 30 * kMinMs, 2000);
  EXPECT_EQ(rig.integer(kMaximum), 7'200'000);
  EXPECT_EQ(rig.text(kMaximumTime), "2023-11-15T22:30:00Z");
  EXPECT_EQ(rig.unsigned_value(kStatus) & kFlagAwaitingSync, 0u);
}

TEST(DemandPlugin, ColdLoadPickupDefersTheConfiguredIntervalsAfterARestore) {
  Rig rig(options(15, 1, {}, 60, 2));
  rig.start();
  rig.run_until(kT0Ms + 15 * kMinMs, 1000);
  rig.power_fail();
  rig.power_restore(3 * kHourMs + 7 * kMinMs);  // back at 01:22
  rig.run_until(kT0Ms + 3 * kHourMs + 45 * kMinMs, 4000);  // the 01:30 and 01:45 intervals
  EXPECT_EQ(rig.integer(kMaximum), 3'600'000);
  EXPECT_NE(rig.unsigned_value(kStatus) & kFlagColdLoad, 0u);
  rig.run_until(kT0Ms + 4 * kHourMs, 2000);
  EXPECT_EQ(rig.integer(kMaximum), 7'200'000);
  EXPECT_EQ(rig.unsigned_value(kStatus) & kFlagColdLoad, 0u);
}

TEST(DemandPlugin, ATimeChangeDropsTheOpenIntervalAndReAlignsWithoutInventingDemand) {
  Rig rig;
  rig.start();
  rig.run_until(kT0Ms + 15 * kMinMs, 1000);
  rig.run_until(kT0Ms + 20 * kMinMs, 4000);
  rig.set_time(kT0Ms + 10 * kMinMs);  // back 10 min: 22:20 -> 22:10
  EXPECT_NE(rig.unsigned_value(kStatus) & kFlagTimeChanged, 0u);
  rig.run_until(kT0Ms + 15 * kMinMs, 4000);  // 5 min, partial: no demand
  EXPECT_EQ(rig.integer(kMaximum), 3'600'000);
  EXPECT_EQ(rig.integer(kPrevious), 3'600'000);
  rig.set_time(kT0Ms + 45 * kMinMs);  // forward to an interval start
  rig.run_until(kT0Ms + 60 * kMinMs, 2000);
  EXPECT_EQ(rig.integer(kMaximum), 7'200'000);
  EXPECT_EQ(rig.text(kMaximumTime), "2023-11-14T23:00:00Z");
}

TEST(DemandPlugin, ResetFoldsMaximaIntoCumulativeRecordsItAndPublishesDemandReset) {
  Rig rig;
  rig.start();
  rig.run_until(kT0Ms + 15 * kMinMs, 1000);
  EXPECT_EQ(rig.host.read(kReset), Value{true});
  ASSERT_EQ(rig.host.write(kReset, Value{true}), Status::ok);
  EXPECT_EQ(rig.integer(kMaximum), 0);
  EXPECT_EQ(rig.text(kMaximumTime), "");
  EXPECT_EQ(rig.integer(kCumulative), 3'600'000);
  EXPECT_EQ(rig.integer(kContinuous), 3'600'000);
  EXPECT_EQ(rig.unsigned_value(kResetCount), 1u);
  EXPECT_EQ(rig.text(kResetTime), "2023-11-14T22:15:00Z");
  ASSERT_EQ(rig.host.published().size(), 1u);
  EXPECT_EQ(rig.host.published()[0].first, METER_DEMAND_RESET_TOPIC);
  meter_demand_reset e{};
  ASSERT_EQ(rig.host.published()[0].second.size(), sizeof e);
  std::memcpy(&e, rig.host.published()[0].second.data(), sizeof e);
  EXPECT_EQ(e.reset_count, 1u);
  EXPECT_EQ(e.quantities, 2u);
  EXPECT_EQ(e.maximum_mw[0], 3'600'000);
  EXPECT_EQ(e.maximum_time_utc_ms[0], kT0Ms + 15 * kMinMs);
  EXPECT_EQ(e.cumulative_mw[0], 3'600'000);
  EXPECT_EQ(e.obis[0][2], 1);
  EXPECT_EQ(e.obis[0][3], 6);
  EXPECT_EQ(e.obis[1][2], 2);
  EXPECT_EQ(e.time_utc_ms, kT0Ms + 15 * kMinMs);
  // Continuously cumulative = cumulative + the maximum since the reset.
  rig.run_until(kT0Ms + 30 * kMinMs, 500);
  EXPECT_EQ(rig.integer(kContinuous), 3'600'000 + 1'800'000);
  EXPECT_EQ(rig.host.write(kReset, Value{false}), Status::invalid_argument);
}

TEST(DemandPlugin, AResetDuringTheLockoutIsRefusedWithAClearErrorAndChangesNothing) {
  Rig rig(options(15, 1, {}, 60));
  rig.start();
  rig.run_until(kT0Ms + 15 * kMinMs, 1000);
  ASSERT_EQ(rig.host.write(kReset, Value{true}), Status::ok);
  rig.run_until(kT0Ms + 45 * kMinMs, 2000);
  EXPECT_EQ(rig.unsigned_value(kLockout), 1800u);
  EXPECT_EQ(rig.host.read(kReset), Value{false});
  EXPECT_NE(rig.unsigned_value(kStatus) & kFlagLockout, 0u);
  EXPECT_EQ(rig.host.write(kReset, Value{true}), Status::unavailable);
  EXPECT_EQ(rig.host.log().back().level, METER_LOG_WARNING);
  EXPECT_NE(rig.host.log().back().message.find("locked out for another 1800 s"), std::string::npos)
      << rig.host.log().back().message;
  // The reason travels with the status to whoever wrote (ABI 1.3 write_refused).
  EXPECT_NE(rig.host.last_write_refusal().find("locked out for another 1800 s"), std::string::npos)
      << rig.host.last_write_refusal();
  EXPECT_EQ(rig.unsigned_value(kResetCount), 1u);
  EXPECT_EQ(rig.integer(kMaximum), 7'200'000);
  EXPECT_EQ(rig.host.published().size(), 1u);
  rig.run_until(kT0Ms + 75 * kMinMs, 1000);
  EXPECT_EQ(rig.unsigned_value(kLockout), 0u);
  ASSERT_EQ(rig.host.write(kReset, Value{true}), Status::ok);
  EXPECT_EQ(rig.unsigned_value(kResetCount), 2u);
  EXPECT_EQ(rig.integer(kCumulative), 3'600'000 + 7'200'000);
}

TEST(DemandPlugin, ARestartOnTheSameNvmKeepsMaximaCumulativeLockoutAndTheOpenInterval) {
  Rig rig;
  rig.start();
  rig.run_until(kT0Ms + 15 * kMinMs, 1000);
  ASSERT_EQ(rig.host.write(kReset, Value{true}), Status::ok);
  rig.run_until(kT0Ms + 30 * kMinMs, 500);
  rig.run_until(kT0Ms + 35 * kMinMs, 2000);
  rig.restart();
  EXPECT_EQ(rig.integer(kCumulative), 3'600'000);
  EXPECT_EQ(rig.integer(kMaximum), 1'800'000);
  EXPECT_EQ(rig.text(kMaximumTime), "2023-11-14T22:30:00Z");
  EXPECT_EQ(rig.unsigned_value(kResetCount), 1u);
  EXPECT_EQ(rig.host.write(kReset, Value{true}), Status::unavailable);
  rig.run_until(kT0Ms + 45 * kMinMs, 2000);
  EXPECT_EQ(rig.integer(kPrevious), 7'200'000);  // the open interval went on across the restart
  EXPECT_EQ(rig.unsigned_value(kStatus) & kFlagPowerFail, 0u);
}

TEST(DemandPlugin, AMeterOffAcrossIntervalsRestartsWithThePowerFailureFlagged) {
  Rig rig;
  rig.start();
  rig.run_until(kT0Ms + 20 * kMinMs, 1000);
  ASSERT_EQ(rig.host.stop(), Status::ok);
  rig.host.destroy();
  rig.host.advance_ms(17 * kMinMs);  // off from 22:20 to 22:37
  rig.start();
  EXPECT_EQ(rig.integer(kPrevious), 300 * 1000 * 4);  // 22:15-22:30: 5 min of load, then dark
  EXPECT_EQ(rig.integer(kMaximum), 3'600'000);
  rig.run_until(kT0Ms + 45 * kMinMs, 3000);
  EXPECT_EQ(rig.integer(kPrevious), 480 * 3000 * 4);
  EXPECT_NE(rig.unsigned_value(kStatus) & kFlagPowerFail, 0u);
}

TEST(DemandPlugin, SettingsThatCannotAlignOrRepeatAQuantityAreRefused) {
  Rig odd(options(7));
  EXPECT_EQ(odd.host.create(), Status::invalid_argument);
  Rig uneven(options(10, 7));
  EXPECT_EQ(uneven.host.create(), Status::invalid_argument);
  Rig twice(options(15, 1, R"([{ rate = "A" }, { rate = "A", register = "1-0:1.8.0" }])"));
  EXPECT_EQ(twice.host.create(), Status::invalid_argument);
  Rig five(options(15, 1, R"([{ rate = "total" }, { rate = "A" }, { rate = "B" }, { rate = "C" }, { rate = "D" }])"));
  EXPECT_EQ(five.host.create(), Status::invalid_argument);
  Rig fine(options(10, 5));
  EXPECT_EQ(fine.host.create(), Status::ok);
}

}  // namespace
}  // namespace meter::plugins::demand::testing

namespace meter::plugins::demand::testing {
namespace {

// A meter killed in the middle of a subinterval: its state is saved in every tick, so a meter
// that carries on from what was committed computes the same demand as one never killed.
TEST(DemandPlugin, AKillInTheMiddleOfASubintervalLosesNoneOfItsEnergy) {
  Rig steady;
  Rig killed;
  steady.start();
  killed.start();
  steady.run_until(kT0Ms + 22 * kMinMs, 1000);
  killed.run_until(kT0Ms + 22 * kMinMs, 1000);
  // No stop, no power fail: a new instance on what was committed, at the same meter time.
  Rig after(options());
  after.host.advance_ms(killed.host.now_utc_ms() - after.host.now_utc_ms());
  auto state = killed.host.nvm("state");
  ASSERT_TRUE(state);
  after.host.set_nvm("state", *state);
  after.start();
  EXPECT_EQ(after.integer(kPresent), steady.integer(kPresent));  // the open interval's 7 min
  steady.run_until(kT0Ms + 45 * kMinMs, 3000);
  after.run_until(kT0Ms + 45 * kMinMs, 3000);
  EXPECT_EQ(after.integer(kPrevious), steady.integer(kPrevious));
  EXPECT_EQ(after.integer(kMaximum), steady.integer(kMaximum));
  EXPECT_EQ(after.integer(kCumulative), steady.integer(kCumulative));
}

}  // namespace
}  // namespace meter::plugins::demand::testing

namespace meter::plugins::demand::testing {
namespace {

constexpr std::array<sdk::Obis, 4> kValues{kPresent, kPrevious, kMaximum, kCumulative};

// A killed process: no stop, no PowerFail. A new instance gets what `running` committed, at the
// same meter time.
void start_after_a_kill(Rig& running, Rig& after) {
  after.host.advance_ms(running.host.now_utc_ms() - after.host.now_utc_ms());
  const auto state = running.host.nvm("state");
  ASSERT_TRUE(state);
  after.host.set_nvm("state", *state);
  after.start();
}

// Killed at any tick, the open subinterval and the window restore as they were after that
// tick: present demand reads the same at once, and the interval the kill fell in closes with
// its whole energy, so its demand, the maximum it sets and the cumulative at a reset agree.
TEST(DemandPlugin, AKillAtAnyTickRestoresTheOpenSubintervalOfThatTick) {
  for (const std::int64_t subintervals : {1, 3}) {
    for (const std::int64_t kill_s : {15 * 60 + 1, 22 * 60 + 17, 29 * 60 + 59}) {
      SCOPED_TRACE("subintervals " + std::to_string(subintervals) + ", killed at " +
                   std::to_string(kill_s) + " s");
      Rig steady(options(15, subintervals));
      Rig killed(options(15, subintervals));
      steady.start();
      killed.start();
      for (Rig* rig : {&steady, &killed}) {
        rig->run_until(kT0Ms + 15 * kMinMs, 1000);
        rig->run_until(kT0Ms + kill_s * 1000, 3000);
      }
      Rig after(options(15, subintervals));
      start_after_a_kill(killed, after);
      for (const auto& id : kValues) EXPECT_EQ(after.integer(id), steady.integer(id)) << sdk::to_string(id);
      for (Rig* rig : {&steady, &after}) {
        rig->run_until(kT0Ms + 30 * kMinMs, 3000);
        rig->run_until(kT0Ms + 45 * kMinMs, 500);
      }
      ASSERT_EQ(steady.host.write(kReset, Value{true}), Status::ok);
      ASSERT_EQ(after.host.write(kReset, Value{true}), Status::ok);
      for (const auto& id : kValues) EXPECT_EQ(after.integer(id), steady.integer(id)) << sdk::to_string(id);
      EXPECT_EQ(after.integer(kCumulative), 3000 * 3600);  // 15-30 min: 3000 mWh a second
    }
  }
}

// TOU meters a tick in the new rate and says so after demand stored the tick: the tick's energy
// moves to the new rate's quantity, and a kill right after that tick keeps it there.
TEST(DemandPlugin, AKillRightAfterARateChangeKeepsTheTickInTheNewRate) {
  const auto quantities = R"([{ rate = "A" }, { rate = "B" }])";
  Rig killed(options(15, 1, quantities));
  Rig steady(options(15, 1, quantities));
  for (Rig* rig : {&killed, &steady}) {
    rig->start();
    rig->rate_changed(1, 0);
    rig->run_until(kT0Ms + 450'000, 1000);
    rig->tick(1000);
    rig->rate_changed(2, 1, rig->host.now_utc_ms());
  }
  Rig after(options(15, 1, quantities));
  after.host.set_object(sdk::obis("0-0:96.14.0"), Value{std::uint64_t{2}});
  start_after_a_kill(killed, after);
  for (Rig* rig : {&steady, &after}) rig->run_until(kT0Ms + 15 * kMinMs, 1000);
  EXPECT_EQ(after.integer(sdk::obis("1-0:1.6.1")), steady.integer(sdk::obis("1-0:1.6.1")));
  EXPECT_EQ(after.integer(sdk::obis("1-0:1.6.2")), steady.integer(sdk::obis("1-0:1.6.2")));
  EXPECT_EQ(after.integer(sdk::obis("1-0:1.6.2")), 450'000 * 4);
}

// Whatever tick the process is killed after, what it stored restores the demand it showed; and
// the restored instance stores the same bytes again (the record is the whole state).
TEST(DemandPlugin, TheStateStoredInEveryTickRestoresTheDemandOfThatTick) {
  Rig rig(options(15, 3));
  rig.start();
  for (int i = 1; i <= 2000; ++i) {
    rig.tick(700 + i % 13, i % 5);
    if (i % 37 != 0) continue;
    const auto stored = rig.host.nvm("state");
    ASSERT_TRUE(stored);
    Rig copy(options(15, 3));
    start_after_a_kill(rig, copy);
    for (const auto& id : kValues) {
      ASSERT_EQ(copy.integer(id), rig.integer(id)) << sdk::to_string(id) << ", tick " << i;
    }
    ASSERT_EQ(copy.host.nvm("state"), stored) << "tick " << i;
  }
}

}  // namespace
}  // namespace meter::plugins::demand::testing
