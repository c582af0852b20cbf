// The tariff tables: what a utility may write, what is refused and why, and the encodings.
#include <gtest/gtest.h>

#include "tariff.h"

namespace meter::plugins::tou {
namespace {

constexpr const char* kTwoSeasons = R"(
[[seasons]]
name = "winter"
start = "11-01"
end = "04-30"
weekday = ["00:00 A", "07:00 C", "11:00 B", "17:00 C", "19:00 A"]
weekend = ["00:00 A"]
[[seasons]]
name = "summer"
start = "05-01"
weekday = ["00:00 A", "07:30 B", "11:15 C", "23:59 D"]
weekend = ["00:00 A"]
holiday2 = ["00:00 D"]
)";

std::string error_of(std::string_view calendar) {
  auto r = parse_calendar_text(calendar);
  return r ? std::string("accepted") : r.error();
}

TEST(Tariff, SwitchPointsAtAnyMinuteGiveTheRateInForce) {
  auto c = parse_calendar_text(kTwoSeasons);
  ASSERT_TRUE(c) << c.error();
  ASSERT_NE(c.value().find("summer"), nullptr);
  const Season& summer = *c.value().find("summer");
  const DaySchedule& weekday = summer.days[index_of(DayType::weekday)];
  EXPECT_EQ(rate_at(weekday, 7 * 60 + 29), Rate::a);
  EXPECT_EQ(rate_at(weekday, 7 * 60 + 30), Rate::b);
  EXPECT_EQ(rate_at(weekday, 11 * 60 + 15), Rate::c);
  EXPECT_EQ(rate_at(weekday, 23 * 60 + 59), Rate::d);
  // Holiday 1 without its own switch points is a weekend; holiday 2 has its own.
  EXPECT_EQ(summer.days[index_of(DayType::holiday1)], summer.days[index_of(DayType::weekend)]);
  EXPECT_EQ(rate_at(summer.days[index_of(DayType::holiday2)], 600), Rate::d);
}

TEST(Tariff, SeasonsAreFoundByDateAcrossNewYear) {
  const Calendar c = parse_calendar_text(kTwoSeasons).value();
  using namespace date::literals;
  EXPECT_EQ(c.seasons[c.season_of(date::January / 15)].name, "winter");
  EXPECT_EQ(c.seasons[c.season_of(date::April / 30)].name, "winter");
  EXPECT_EQ(c.seasons[c.season_of(date::May / 1)].name, "summer");
  EXPECT_EQ(c.seasons[c.season_of(date::October / 31)].name, "summer");
  EXPECT_EQ(c.seasons[c.season_of(date::November / 1)].name, "winter");
  EXPECT_EQ(c.seasons[c.season_of(date::February / 29)].name, "winter");
}

TEST(Tariff, SwitchPointsOutOfOrderAreRefused) {
  EXPECT_EQ(error_of(R"([[seasons]]
name = "all"
start = "01-01"
weekday = ["00:00 A", "11:00 B", "07:00 C"]
weekend = ["00:00 A"])"),
            "seasons[1].weekday[3]: 07:00 is not after the switch point before it (out of order)");
  EXPECT_EQ(error_of(R"([[seasons]]
name = "all"
start = "01-01"
weekday = ["00:00 A", "07:00 B", "07:00 C"]
weekend = ["00:00 A"])"),
            "seasons[1].weekday[3]: 07:00 is not after the switch point before it (out of order)");
}

TEST(Tariff, SwitchPointsOutOfRangeAreRefused) {
  EXPECT_EQ(error_of(R"([[seasons]]
name = "all"
start = "01-01"
weekday = ["00:00 A", "24:00 B"]
weekend = ["00:00 A"])"),
            "seasons[1].weekday[2]: 24:00 is out of range (00:00 to 23:59)");
  EXPECT_EQ(error_of(R"([[seasons]]
name = "all"
start = "01-01"
weekday = ["00:00 A", "07:60 B"]
weekend = ["00:00 A"])"),
            "seasons[1].weekday[2]: 07:60 is out of range (00:00 to 23:59)");
  EXPECT_EQ(error_of(R"([[seasons]]
name = "all"
start = "01-01"
weekday = ["00:00 E"]
weekend = ["00:00 A"])"),
            "seasons[1].weekday[1]: \"E\" is not a rate (A, B, C or D)");
  EXPECT_EQ(error_of(R"([[seasons]]
name = "all"
start = "01-01"
weekday = ["06:00 A"]
weekend = ["00:00 A"])"),
            "seasons[1].weekday[1]: the first switch point must be at 00:00");
}

TEST(Tariff, OverlappingSeasonsAreRefused) {
  EXPECT_EQ(error_of(R"([[seasons]]
name = "winter"
start = "11-01"
end = "05-15"
weekday = ["00:00 A"]
weekend = ["00:00 A"]
[[seasons]]
name = "summer"
start = "05-01"
weekday = ["00:00 B"]
weekend = ["00:00 B"])"),
            "seasons[1].end: season \"winter\" ends on 05-15 but \"summer\" starts on 05-01: seasons overlap");
  EXPECT_EQ(error_of(R"([[seasons]]
name = "a"
start = "05-01"
weekday = ["00:00 A"]
weekend = ["00:00 A"]
[[seasons]]
name = "b"
start = "05-01"
weekday = ["00:00 B"]
weekend = ["00:00 B"])"),
            "seasons[2].start: seasons \"a\" and \"b\" both start on 05-01: seasons overlap");
}

TEST(Tariff, ASeasonEndingBeforeTheNextStartsLeavesAGap) {
  EXPECT_EQ(error_of(R"([[seasons]]
name = "winter"
start = "11-01"
end = "04-15"
weekday = ["00:00 A"]
weekend = ["00:00 A"]
[[seasons]]
name = "summer"
start = "05-01"
weekday = ["00:00 B"]
weekend = ["00:00 B"])"),
            "seasons[1].end: season \"winter\" ends on 04-15 but \"summer\" starts on 05-01: seasons leave a gap "
            "(end it on 04-30)");
}

TEST(Tariff, ACalendarLongerThan32DaysIsRefused) {
  std::string days = "start = 2026-07-01\ndays = [";
  for (int i = 0; i < 33; ++i) days += std::string(i ? ", " : "") + "\"weekday\"";
  auto r = parse_day_calendar_text(days + "]\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "days: has 33 days; the calendar holds 1 to 32");
}

TEST(Tariff, AnUnknownDayTypeIsRefused) {
  auto r = parse_day_calendar_text("start = 2026-07-01\ndays = [\"weekday\", \"holiday3\"]\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(),
            "days[2]: unknown day type \"holiday3\" (weekday, weekend, holiday1 or holiday2)");
}

TEST(Tariff, OverridesNeedAnOffsetAndAStopAfterTheStart) {
  auto no_offset = parse_override_text(
      "start = 2026-07-15T14:00:00\nstop = 2026-07-15T18:00:00\npoints = [\"00:00 D\"]\n");
  ASSERT_FALSE(no_offset);
  EXPECT_NE(no_offset.error().find("start: must be a date-time with an offset"), std::string::npos);
  auto backwards = parse_override_text(
      "start = 2026-07-15T14:00:00Z\nstop = 2026-07-15T13:00:00Z\npoints = [\"00:00 D\"]\n");
  ASSERT_FALSE(backwards);
  EXPECT_EQ(backwards.error(), "stop: must be after start");
}

TEST(Tariff, HolidaysAreDatesOfHoliday1Or2) {
  toml::array list{"2026-12-25", "2026-12-26 holiday2"};
  auto h = parse_holidays(list);
  ASSERT_TRUE(h) << h.error();
  ASSERT_EQ(h.value().size(), 2u);
  EXPECT_EQ(h.value()[1].type, DayType::holiday2);
  toml::array bad{"2026-02-30"};
  EXPECT_EQ(parse_holidays(bad).error(), "holidays[1]: \"2026-02-30\" is not a date");
}

TEST(Tariff, EncodingsReadBackToTheSameTables) {
  const Calendar c = parse_calendar_text(kTwoSeasons).value();
  auto again = parse_calendar_text(to_text(c));
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(again.value(), c);

  auto o = parse_override_text(
      "start = 2026-07-15T14:00:00-04:00\nstop = 2026-07-15T19:00:00-04:00\npoints = [\"00:00 D\"]\n");
  ASSERT_TRUE(o) << o.error();
  EXPECT_EQ(o.value().stop_utc_ms - o.value().start_utc_ms, 5 * 3'600'000);
  auto o2 = parse_override_text(to_text(o.value()));
  ASSERT_TRUE(o2) << o2.error();
  EXPECT_EQ(o2.value().start_utc_ms, o.value().start_utc_ms);
  EXPECT_EQ(to_text(o2.value().points), "[\"00:00 D\"]");

  auto d = parse_day_calendar_text("start = 2026-07-01\ndays = [\"weekday\", \"holiday2\"]\n");
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(to_text(d.value()), "start = 2026-07-01\ndays = [\"weekday\", \"holiday2\"]\n");
}

}  // namespace
}  // namespace meter::plugins::tou
