#include "meter/kernel/clock.h"

#include <date/date.h>
#include <gtest/gtest.h>

#include <vector>

namespace meter::kernel {
namespace {

using namespace date::literals;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

UtcTime utc(date::year_month_day d, hours h = hours{0}, minutes m = minutes{0}) {
  return UtcTime{date::sys_days{d} + h + m};
}

struct ClockFixture {
  explicit ClockFixture(UtcTime start, const char* zone, bool valid = true)
      : time(start), clock(*Clock::create(time, bus, zone, valid)) {
    bus.subscribe<MidnightCrossed>([this](const MidnightCrossed& e) { midnights.push_back(e); });
  }
  // Runs the clock second by second, as the meter's tick does.
  void run(Milliseconds span) {
    for (Milliseconds t{0}; t < span; t += seconds{1}) {
      time.advance(seconds{1});
      clock.poll();
    }
  }
  VirtualTimeSource time;
  EventBus bus;
  Clock clock;
  std::vector<MidnightCrossed> midnights;
};

TEST(Clock, UnknownZoneIsNamed) {
  VirtualTimeSource time{UtcTime{}};
  EventBus bus;
  auto c = Clock::create(time, bus, "Mars/Olympus_Mons", true);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("Mars/Olympus_Mons"), std::string::npos);
}

TEST(Clock, MidnightsFollowLocalTimeAcrossSpringForward) {
  // Toronto springs forward on 2026-03-08: midnight is 05:00 UTC before, 04:00 UTC after.
  ClockFixture f(utc(2026_y / 3 / 6, hours{12}), "America/Toronto");
  f.run(hours{72});
  ASSERT_EQ(f.midnights.size(), 3u);
  EXPECT_EQ(f.midnights[0].time, utc(2026_y / 3 / 7, hours{5}));
  EXPECT_EQ(f.midnights[1].time, utc(2026_y / 3 / 8, hours{5}));
  EXPECT_EQ(f.midnights[2].time, utc(2026_y / 3 / 9, hours{4}));
  EXPECT_EQ(f.midnights[2].day, 9);
  EXPECT_EQ(f.midnights[2].month, 3);
  EXPECT_EQ(f.midnights[2].weekday, 1);  // Monday
}

TEST(Clock, MidnightsFollowLocalTimeAcrossFallBack) {
  ClockFixture f(utc(2026_y / 10 / 31, hours{12}), "America/Toronto");
  f.run(hours{48});
  ASSERT_EQ(f.midnights.size(), 2u);
  EXPECT_EQ(f.midnights[0].time, utc(2026_y / 11 / 1, hours{4}));
  EXPECT_EQ(f.midnights[1].time, utc(2026_y / 11 / 2, hours{5}));
}

TEST(Clock, MissingMidnightFiresAtTheTransition) {
  // Chile springs forward at 24:00 on 2026-09-05: local 00:00 on the 6th never happens.
  ClockFixture f(utc(2026_y / 9 / 5, hours{12}), "America/Santiago");
  f.run(hours{24});
  ASSERT_EQ(f.midnights.size(), 1u);
  EXPECT_EQ(f.midnights[0].time, utc(2026_y / 9 / 6, hours{4}));
  EXPECT_EQ(f.midnights[0].day, 6);
}

TEST(Clock, LocalMinuteOfDayAndDate) {
  ClockFixture f(utc(2024_y / 2 / 29, hours{17}, minutes{30}), "America/Toronto");
  EXPECT_EQ(f.clock.local_minute_of_day(f.clock.now()), 12 * 60 + 30);
  const auto d = f.clock.local_date(f.clock.now());
  EXPECT_EQ(d, (LocalDate{2024, 2, 29, 4}));
}

TEST(Clock, SetTimePublishesOldAndNewAndRearmsMidnight) {
  ClockFixture f(utc(2026_y / 1 / 1, hours{12}), "UTC", false);
  std::vector<TimeChanged> changes;
  std::vector<FaultCleared> cleared;
  f.bus.subscribe<TimeChanged>([&](const TimeChanged& e) { changes.push_back(e); });
  f.bus.subscribe<FaultCleared>([&](const FaultCleared& e) { cleared.push_back(e); });
  f.run(hours{24});
  EXPECT_TRUE(f.midnights.empty()) << "no midnights while the time is unknown";

  const auto before = f.clock.now();
  f.clock.set_time(utc(2026_y / 6 / 1, hours{23}, minutes{59}));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].old_time, before);
  EXPECT_EQ(changes[0].new_time, utc(2026_y / 6 / 1, hours{23}, minutes{59}));
  EXPECT_FALSE(changes[0].was_valid);
  EXPECT_TRUE(f.clock.valid());
  ASSERT_EQ(cleared.size(), 1u);
  EXPECT_EQ(cleared[0].fault, Fault::clock_invalid);

  f.run(minutes{2});
  ASSERT_EQ(f.midnights.size(), 1u);
  EXPECT_EQ(f.midnights[0].time, utc(2026_y / 6 / 2));
  EXPECT_EQ(f.clock.uptime(), hours{24} + minutes{2}) << "uptime never jumps";
}

TEST(Clock, InvalidateRaisesAFaultOnce) {
  ClockFixture f(utc(2026_y / 1 / 1), "UTC");
  int raised = 0;
  f.bus.subscribe<FaultRaised>([&](const FaultRaised& e) { raised += e.fault == Fault::clock_invalid; });
  f.clock.invalidate();
  f.clock.invalidate();
  EXPECT_EQ(raised, 1);
  EXPECT_FALSE(f.clock.valid());
}

TEST(Clock, TimeSetYearsAheadDoesNotFloodTheBus) {
  ClockFixture f(utc(2026_y / 1 / 1, hours{12}), "UTC");
  f.time.advance(hours{24 * 800});  // a host clock jump, not a set_time
  f.clock.poll();
  EXPECT_EQ(f.midnights.size(), 366u);
  f.run(hours{12});
  EXPECT_EQ(f.midnights.size(), 367u) << "detection re-armed at the present day";
}

TEST(Clock, UptimeCountsFromThisPowerUpNotFromTheSourcesOrigin) {
  // A real-time meter's source is the machine's monotonic clock, which counts from its boot; a
  // simulated meter's source keeps running across its simulated power cycles.
  VirtualTimeSource time(utc(2026_y / 1 / 1));
  EventBus bus;
  time.advance(hours{3});
  Clock clock = *Clock::create(time, bus, "UTC", true);
  EXPECT_EQ(clock.uptime(), Milliseconds{0});
  time.advance(minutes{5});
  EXPECT_EQ(clock.uptime(), minutes{5});
}

}  // namespace
}  // namespace meter::kernel
