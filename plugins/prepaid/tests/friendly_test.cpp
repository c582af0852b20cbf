// Friendly-credit periods in local time: daily spans across midnight, whole weekdays and
// holidays, the next instant to look again, and a DST change that removes an hour.
#include <gtest/gtest.h>

#include "friendly.h"
#include "rig.h"

namespace meter::plugins::prepaid {
namespace {

using testing::kHourMs;
using testing::kMinMs;
using testing::kT0Ms;  // Wednesday 2026-01-14 12:00 MST

FriendlySettings phoenix() {
  FriendlySettings s;
  s.zone = date::locate_zone("America/Phoenix");
  s.hours.push_back(parse_span("18:00-08:00").span);
  s.weekdays = static_cast<std::uint8_t>(weekday_bit("sat") | weekday_bit("sun"));
  date::sys_days holiday;
  EXPECT_TRUE(parse_date("2026-01-16", holiday));  // a Friday
  s.holidays.insert(holiday);
  return s;
}

TEST(Friendly, ASpanAcrossMidnightIsFriendlyInTheEveningAndTheMorning) {
  const FriendlyCalendar c(phoenix());
  FriendlyAt at = c.at(kT0Ms);  // 12:00
  EXPECT_FALSE(at.friendly);
  EXPECT_EQ(at.until_utc_ms, kT0Ms + 6 * kHourMs);  // 18:00
  at = c.at(kT0Ms + 6 * kHourMs);
  EXPECT_TRUE(at.friendly);
  EXPECT_EQ(at.until_utc_ms, kT0Ms + 12 * kHourMs);  // midnight: look again
  at = c.at(kT0Ms + 12 * kHourMs);                   // Thursday 00:00
  EXPECT_TRUE(at.friendly);
  EXPECT_EQ(at.until_utc_ms, kT0Ms + 20 * kHourMs);  // 08:00
  at = c.at(kT0Ms + 20 * kHourMs);
  EXPECT_FALSE(at.friendly);
  EXPECT_EQ(at.until_utc_ms, kT0Ms + 30 * kHourMs);  // 18:00
  EXPECT_FALSE(c.at(kT0Ms + 30 * kHourMs - 1).friendly);
}

TEST(Friendly, WeekendsAndHolidaysAreFriendlyAllDay) {
  const FriendlyCalendar c(phoenix());
  const std::int64_t friday_noon = kT0Ms + 48 * kHourMs;
  FriendlyAt at = c.at(friday_noon);
  EXPECT_TRUE(at.friendly);
  EXPECT_EQ(at.until_utc_ms, friday_noon + 12 * kHourMs);
  EXPECT_TRUE(c.at(friday_noon + 24 * kHourMs).friendly);  // Saturday
  EXPECT_TRUE(c.at(friday_noon + 48 * kHourMs).friendly);  // Sunday
  EXPECT_FALSE(c.at(friday_noon + 72 * kHourMs).friendly);  // Monday noon
  EXPECT_FALSE(c.at(kT0Ms + 24 * kHourMs).friendly);        // Thursday noon
}

TEST(Friendly, NothingConfiguredIsNeverFriendly) {
  FriendlySettings s;
  s.zone = date::locate_zone("UTC");
  const FriendlyCalendar c(s);
  EXPECT_FALSE(c.any());
  EXPECT_FALSE(c.at(kT0Ms).friendly);
  EXPECT_TRUE(FriendlyCalendar(phoenix()).any());
}

TEST(Friendly, ADstGapInsideASpanIsCrossedWithTheNextInstantAlwaysLater) {
  FriendlySettings s;
  s.zone = date::locate_zone("America/New_York");
  s.hours.push_back(parse_span("01:30-02:30").span);  // 02:00-03:00 does not exist on 8 March
  const FriendlyCalendar c(s);
  const std::int64_t start = 1'772'946'000'000;  // 2026-03-08T05:00:00Z, 00:00 EST
  std::int64_t t = start;
  int friendly_minutes = 0;
  int steps = 0;
  while (t < start + 24 * kHourMs && steps < 100) {
    const FriendlyAt at = c.at(t);
    ASSERT_GT(at.until_utc_ms, t);
    if (at.friendly) friendly_minutes += static_cast<int>((at.until_utc_ms - t) / kMinMs);
    t = at.until_utc_ms;
    ++steps;
  }
  EXPECT_LT(steps, 100);
  // 01:30 EST to the jump at 02:00 EST (07:00Z): 30 minutes; 02:30 EDT does not exist, and
  // 03:00 EDT is already past the span's end.
  EXPECT_EQ(friendly_minutes, 30);
}

TEST(Friendly, SpansWeekdaysAndDatesAreReadStrictly) {
  EXPECT_EQ(parse_span("18:00-24:00").span.end_min, 0);
  EXPECT_TRUE(parse_span("18:00-24:00").error.empty());
  EXPECT_FALSE(parse_span("08:00-08:00").error.empty());
  EXPECT_FALSE(parse_span("8:00-09:00").error.empty());
  EXPECT_FALSE(parse_span("24:00-01:00").error.empty());
  EXPECT_FALSE(parse_span("10:60-11:00").error.empty());
  EXPECT_EQ(weekday_bit("sun"), 1);
  EXPECT_EQ(weekday_bit("sat"), 64);
  EXPECT_EQ(weekday_bit("Sat"), 0);
  date::sys_days d;
  EXPECT_TRUE(parse_date("2028-02-29", d));
  EXPECT_FALSE(parse_date("2026-02-29", d));
  EXPECT_FALSE(parse_date("2026-1-01", d));
}

}  // namespace
}  // namespace meter::plugins::prepaid
