// The time-of-use plugin in the SDK's fake host: rates at switch points, DST, time changes,
// leap years, seasons and downloads, overrides, power failures, unknown time, the passive
// calendar, billing self-reads, bad input, and what survives a restart.
#include <array>
#include <set>

#include "fixture.h"

namespace meter::plugins::tou::testing {
namespace {

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kHour = 3'600'000;

toml::table with(toml::table config, std::string_view key, toml::node&& value) {
  config.insert_or_assign(key, std::move(value));
  return config;
}

using sdk::testing::LogLine;

std::size_t count(const std::vector<LogLine>& log, std::string_view text) {
  std::size_t n = 0;
  for (const auto& l : log) n += l.message.find(text) != std::string::npos;
  return n;
}

TEST(TouPlugin, TheTorontoSiteFileIsAValidConfiguration) {
  Meter m(toronto_settings(), toronto_ms(2026, 7, 15, 12));
  EXPECT_TRUE(m.host().manifest_errors().empty()) << m.host().manifest_errors()[0];
  EXPECT_TRUE(m.host().config_errors().empty()) << m.host().config_errors()[0];
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  EXPECT_EQ(m.host().self_test(), sdk::Status::ok);
}

TEST(TouPlugin, ABadSwitchPointInTheSiteFileIsRefusedWithLineAndColumn) {
  Meter m(toronto_settings(), 0);
  auto config = parse(R"(time_zone = "America/Toronto"
[[seasons]]
name = "all"
start = "01-01"
weekday = ["00:00 A", "25:00 B"]
weekend = ["00:00 A"]
)");
  const auto check = sdk::validate_config(*m.host().manifest(), config, "site.toml");
  ASSERT_EQ(check.errors.size(), 1u);
  EXPECT_NE(check.errors[0].find("test:2:1: seasons: item 1, weekday (line 5, column 11): "
                                 "item 2 (line 5, column 23): \"25:00 B\" does not match"),
            std::string::npos)
      << check.errors[0];
}

TEST(TouPlugin, AnUnknownTimeZoneRefusesToCreate) {
  Meter m(with(toronto_settings(), "time_zone", toml::value<std::string>("Mars/Olympus_Mons")), 0);
  EXPECT_EQ(m.host().create(), sdk::Status::invalid_argument);
  const auto& reported = m.host().reported_config_errors();
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0].key, "time_zone");
  EXPECT_NE(reported[0].message.find("\"Mars/Olympus_Mons\" is not a time zone"), std::string::npos);
}

TEST(TouPlugin, ATariffRuleBrokenAtCreateNamesTheSettingItBreaks) {
  auto seasons = parse(R"(value = [
  { name = "summer", start = "05-01", weekday = ["00:00 A"], weekend = ["00:00 A"] },
  { name = "winter", start = "05-01", weekday = ["00:00 B"], weekend = ["00:00 B"] },
])");
  Meter m(with(toronto_settings(), "seasons", toml::array(*seasons["value"].as_array())), 0);
  EXPECT_EQ(m.host().create(), sdk::Status::invalid_argument);
  const auto& reported = m.host().reported_config_errors();
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0].key, "seasons[2].start");
  EXPECT_EQ(reported[0].message,
            "seasons \"summer\" and \"winter\" both start on 05-01: seasons overlap");
}

TEST(TouPlugin, PublishesTheRateAtStartAndAtEverySwitchPoint) {
  Meter m(toronto_settings(), toronto_ms(2026, 7, 15, 6, 58));  // a Wednesday in summer
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  m.run_until(toronto_ms(2026, 7, 15, 11, 1));
  const auto events = m.rate_events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].rate, 1);  // A at start
  EXPECT_EQ(events[0].previous_rate, 0);
  EXPECT_EQ(events[0].reason, METER_TOU_REASON_SCHEDULE);
  EXPECT_EQ(events[0].day_type, 1);
  EXPECT_EQ(events[1].rate, 2);  // B from 07:00
  EXPECT_EQ(events[1].previous_rate, 1);
  EXPECT_EQ(events[1].time_utc_ms, toronto_ms(2026, 7, 15, 7) + 1000);
  EXPECT_EQ(events[2].rate, 3);  // C from 11:00
  EXPECT_EQ(events[2].time_utc_ms, toronto_ms(2026, 7, 15, 11) + 1000);
  EXPECT_EQ(m.rate(), 3u);
  EXPECT_EQ(m.import_of(1), 2 * 60);
  EXPECT_EQ(m.import_of(2), 4 * 3600);
  EXPECT_EQ(m.import_of(3), 60);
}

TEST(TouPlugin, SwitchPointsAtAnyMinute) {
  auto config = toronto_settings();
  auto& seasons = *config["seasons"].as_array();
  auto& summer = *seasons.get(1)->as_table();
  summer.insert_or_assign("weekday", toml::array{"00:00 A", "07:13 D"});
  Meter m(config, toronto_ms(2026, 7, 15, 7, 12));
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  m.run_until(toronto_ms(2026, 7, 15, 7, 13));
  EXPECT_EQ(m.rate(), 1u);
  m.tick(1000, 1);
  EXPECT_EQ(m.rate(), 4u);
  EXPECT_EQ(m.import_of(1), 60);
  EXPECT_EQ(m.import_of(4), 1);
}

TEST(TouPlugin, SpringForwardShortensTheWeekendAndMovesSwitchPointsInUtc) {
  Meter m(toronto_settings(), toronto_ms(2026, 3, 6, 18));  // Friday before DST starts
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  m.run_until(toronto_ms(2026, 3, 9, 7, 1));
  const auto events = m.rate_events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].rate, 1);
  EXPECT_EQ(events[1].time_utc_ms, toronto_ms(2026, 3, 6, 19) + 1000);
  EXPECT_EQ(events[2].rate, 3);
  // 07:00 EDT is 11:00 UTC; the Friday before, 07:00 EST was 12:00 UTC.
  EXPECT_EQ(events[2].time_utc_ms % (24 * kHour), 11 * kHour + 1000);
  EXPECT_EQ(toronto_ms(2026, 3, 6, 7) % (24 * kHour), 12 * kHour);
  // Off-peak from Friday 19:00 EST to Monday 07:00 EDT: 59 hours, not 60.
  EXPECT_EQ(m.import_of(1), 59 * 3600);
}

TEST(TouPlugin, FallBackLengthensTheWeekend) {
  Meter m(toronto_settings(), toronto_ms(2026, 10, 30, 18));  // Friday; Sunday DST ends
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  m.run_until(toronto_ms(2026, 11, 2, 7, 1));
  const auto events = m.rate_events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].rate, 3);  // winter on-peak from Monday 07:00 EST = 12:00 UTC
  EXPECT_EQ(events[2].time_utc_ms % (24 * kHour), 12 * kHour + 1000);
  EXPECT_EQ(m.import_of(1), 61 * 3600);
  EXPECT_EQ(m.import_of(2), 3600);  // summer mid-peak Friday 18:00-19:00
}

TEST(TouPlugin, SettingTheClockBackOrForwardReevaluatesTheRate) {
  Meter m(toronto_settings(), toronto_ms(2026, 3, 9, 10));  // Monday, winter on-peak
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  m.tick(1000, 1);
  EXPECT_EQ(m.rate(), 3u);
  const std::int64_t before = m.host().now_utc_ms();
  m.host().set_time_utc_ms(toronto_ms(2026, 3, 9, 6));
  meter_time_changed back{before, m.host().now_utc_ms(), 1};
  m.host().publish(back);
  EXPECT_EQ(m.rate(), 1u);
  EXPECT_EQ(m.rate_events().back().rate, 1);
  m.tick(1000, 1);
  EXPECT_EQ(m.import_of(1), 1);
  // Forward without an event: the next tick sees the new time and re-evaluates.
  m.host().set_time_utc_ms(toronto_ms(2026, 3, 9, 12));
  m.tick(1000, 1);
  EXPECT_EQ(m.rate(), 2u);
  EXPECT_EQ(m.import_of(2), 1);
}

TEST(TouPlugin, ALeapDayHasItsDayTypeAndSeason) {
  auto config = parse(R"(time_zone = "UTC"
holidays = ["2028-02-29 holiday2"]
[[seasons]]
name = "winter"
start = "11-01"
weekday = ["00:00 A"]
weekend = ["00:00 A"]
holiday2 = ["00:00 D"]
[[seasons]]
name = "spring"
start = "03-01"
weekday = ["00:00 B"]
weekend = ["00:00 B"]
)");
  config.insert_or_assign("keep_switch_points_on_season_change", true);
  using namespace std::chrono;
  const auto start = duration_cast<milliseconds>(
      date::sys_days{date::year{2028} / 2 / 28}.time_since_epoch()).count();
  Meter m(config, start);
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  m.run_until(start + 3 * 24 * kHour, kMinute);
  EXPECT_EQ(m.import_of(1), 24 * 60);  // 28 February
  EXPECT_EQ(m.import_of(4), 24 * 60);  // 29 February: holiday 2
  EXPECT_EQ(m.import_of(2), 24 * 60);  // 1 March: spring
}

TEST(TouPlugin, ASeasonChangeWithoutADownloadUsesTheDefaultTierUntilOne) {
  auto config = with(toronto_settings(), "keep_switch_points_on_season_change", toml::value<bool>(false));
  Meter m(config, toronto_ms(2026, 4, 30, 20));  // Thursday, winter, off-peak
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  m.run_until(toronto_ms(2026, 5, 1, 9), kMinute);  // Friday 1 May: summer
  const auto events = m.rate_events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].rate, 3);
  EXPECT_EQ(events[1].reason, METER_TOU_REASON_INVALID);
  EXPECT_EQ(events[1].time_utc_ms, toronto_ms(2026, 5, 1) + kMinute);
  EXPECT_EQ(m.import_of(3), 9 * 60);  // the default tier since midnight
  EXPECT_NE(m.text(kSwitchPoints).find("season = \"summer\"\nvalid = false"), std::string::npos);

  ASSERT_EQ(m.host().write(kSwitchPoints, Value{std::string(
                R"(weekday = ["00:00 A", "07:00 B", "11:00 C", "17:00 B", "19:00 A"]
weekend = ["00:00 A"])")}),
            sdk::Status::ok);
  EXPECT_EQ(m.rate(), 2u);
  EXPECT_EQ(m.rate_events().back().reason, METER_TOU_REASON_SCHEDULE);
  EXPECT_NE(m.text(kSwitchPoints).find("valid = true"), std::string::npos);
  m.tick(kMinute, 1);
  EXPECT_EQ(m.import_of(2), 1);
}

// Validity is for one occurrence of a season: the winter switch points of last winter do not
// become valid again when winter comes back on 1 November.
TEST(TouPlugin, LastWintersSwitchPointsAreNotValidNextWinter) {
  auto config = with(toronto_settings(), "keep_switch_points_on_season_change", toml::value<bool>(false));
  Meter m(config, toronto_ms(2026, 4, 30, 20));
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  EXPECT_NE(m.text(kActiveCalendar).find("valid_season = \"winter@2025-11-01\""), std::string::npos)
      << m.text(kActiveCalendar);
  m.run_until(toronto_ms(2026, 11, 2, 9), kHour);  // Monday 2 November, winter again
  EXPECT_EQ(m.rate(), 3u);
  EXPECT_EQ(m.rate_events().back().reason, METER_TOU_REASON_INVALID);
  EXPECT_NE(m.text(kSwitchPoints).find("season = \"winter\"\nvalid = false"), std::string::npos);
  const auto billed_by_schedule = m.import_of(1) + m.import_of(2) + m.import_of(4);
  m.run_until(toronto_ms(2026, 11, 3, 9), kHour);
  EXPECT_EQ(m.import_of(1) + m.import_of(2) + m.import_of(4), billed_by_schedule);  // all in C
}

// A download for a season not yet in force is kept for that season's next start, through a
// power cycle, and makes it valid then; the season in force stays as it was.
TEST(TouPlugin, SwitchPointsDownloadedForTheNextSeasonAreValidFromItsStart) {
  auto config = with(toronto_settings(), "keep_switch_points_on_season_change", toml::value<bool>(false));
  Meter m(config, toronto_ms(2026, 4, 20, 20));  // winter
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  ASSERT_EQ(m.host().write(kSwitchPoints, Value{std::string(
                R"(season = "summer"
weekday = ["00:00 A", "07:00 B", "11:00 C", "17:00 B", "19:00 A"]
weekend = ["00:00 A"])")}),
            sdk::Status::ok);
  EXPECT_NE(m.text(kActiveCalendar).find("pending_season = \"summer@2026-05-01\""), std::string::npos)
      << m.text(kActiveCalendar);
  EXPECT_NE(m.text(kSwitchPoints).find("season = \"winter\"\nvalid = true"), std::string::npos);
  m.power_cycle(kHour, true);
  m.run_until(toronto_ms(2026, 5, 1, 8), kMinute);  // Friday 1 May, 08:00: summer, rate B
  EXPECT_EQ(m.rate(), 2u);
  EXPECT_EQ(m.rate_events().back().reason, METER_TOU_REASON_SCHEDULE);
  EXPECT_EQ(m.text(kActiveCalendar).find("pending_season"), std::string::npos);
  EXPECT_NE(m.text(kActiveCalendar).find("valid_season = \"summer@2026-05-01\""), std::string::npos);
}

TEST(TouPlugin, ASwitchPointDownloadNeedsTheTime) {
  Meter m(toronto_settings(), toronto_ms(2026, 4, 20, 20), false);
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  EXPECT_EQ(m.host().write(kSwitchPoints, Value{std::string(
                "season = \"summer\"\nweekday = [\"00:00 B\"]\nweekend = [\"00:00 A\"]\n")}),
            sdk::Status::invalid_argument);
  EXPECT_EQ(count(m.host().log(), "the meter does not know the time: set it first"), 1u);
}

TEST(TouPlugin, TheKeepSettingKeepsSwitchPointsValidAcrossSeasons) {
  Meter m(toronto_settings(), toronto_ms(2026, 4, 30, 20));
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  m.run_until(toronto_ms(2026, 5, 1, 9), kMinute);
  EXPECT_EQ(m.rate(), 2u);
  EXPECT_EQ(m.import_of(3), 0);
}

TEST(TouPlugin, TheDownloadedCalendarSetsTheDayTypeAtMidnight) {
  Meter m(toronto_settings(), toronto_ms(2026, 7, 14, 12));  // Tuesday on-peak
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  ASSERT_EQ(m.host().write(kDayCalendar, Value{std::string(
                "start = 2026-07-15\ndays = [\"holiday2\", \"weekday\"]\n")}),
            sdk::Status::ok);
  EXPECT_EQ(m.rate(), 3u);  // today is not in the calendar: still a weekday
  m.run_until(toronto_ms(2026, 7, 15, 12), kMinute);
  EXPECT_EQ(m.rate(), 1u);  // holiday 2: off-peak all day
  EXPECT_EQ(m.import_of(3), 5 * 60);  // only Tuesday's on-peak hours
  m.run_until(toronto_ms(2026, 7, 16, 12), kMinute);
  EXPECT_EQ(m.rate(), 3u);
  m.run_until(toronto_ms(2026, 7, 18, 12), kMinute);  // Saturday, past the calendar: holidays/weekend
  EXPECT_EQ(m.rate(), 1u);
  EXPECT_EQ(m.import_of(3), 5 * 60 + 6 * 60 + 6 * 60);  // Tuesday, Thursday, Friday
}

TEST(TouPlugin, AnOverrideAcrossMidnightRevertsAtItsStop) {
  Meter m(toronto_settings(), toronto_ms(2026, 7, 15, 21));
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  ASSERT_EQ(m.host().write(kOverride, Value{std::string(
                "start = 2026-07-15T22:00:00-04:00\nstop = 2026-07-16T02:00:00-04:00\n"
                "points = [\"00:00 D\"]\n")}),
            sdk::Status::ok);
  m.run_until(toronto_ms(2026, 7, 16, 1), kMinute);
  EXPECT_EQ(m.rate(), 4u);
  EXPECT_EQ(m.rate_events().back().reason, METER_TOU_REASON_OVERRIDE);
  m.run_until(toronto_ms(2026, 7, 16, 3), kMinute);
  EXPECT_EQ(m.rate(), 1u);
  EXPECT_EQ(m.import_of(4), 4 * 60);
  EXPECT_EQ(m.import_of(1), 2 * 60);
  EXPECT_EQ(m.text(kOverride), "");
  EXPECT_EQ(std::get<std::string>(*m.host().nvm("override")), "");
}

TEST(TouPlugin, AnOverrideSurvivesAPowerFailure) {
  Meter m(toronto_settings(), toronto_ms(2026, 7, 15, 13));
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  ASSERT_EQ(m.host().write(kOverride, Value{std::string(
                "start = 2026-07-15T14:00:00-04:00\nstop = 2026-07-15T18:00:00-04:00\n"
                "points = [\"00:00 D\", \"16:00 B\"]\n")}),
            sdk::Status::ok);
  m.run_until(toronto_ms(2026, 7, 15, 15), kMinute);
  EXPECT_EQ(m.rate(), 4u);
  m.power_cycle(30 * kMinute, true);
  EXPECT_EQ(m.rate(), 4u);
  EXPECT_NE(m.text(kOverride).find("stop = 2026-07-15T22:00:00Z"), std::string::npos);
  m.run_until(toronto_ms(2026, 7, 15, 19), kMinute);
  EXPECT_EQ(m.import_of(3), 60);            // 13:00-14:00 on-peak
  EXPECT_EQ(m.import_of(4), 60 + 30);       // 14:00-15:00, 15:30-16:00 override D
  EXPECT_EQ(m.import_of(2), 120 + 60);      // 16:00-18:00 override B, 18:00-19:00 mid-peak
  EXPECT_EQ(m.rate(), 2u);
  EXPECT_EQ(m.import_of(1) + m.import_of(2) + m.import_of(3) + m.import_of(4),
            m.total_import_mwh());
}

TEST(TouPlugin, TimeUnknownAfterALongOutageUsesTheDefaultTier) {
  Meter m(toronto_settings(), toronto_ms(2026, 7, 15, 20));
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  m.run_until(toronto_ms(2026, 7, 15, 21), kMinute);
  m.power_cycle(3 * 24 * kHour, false);
  EXPECT_EQ(m.rate(), 3u);
  EXPECT_EQ(m.rate_events().back().reason, METER_TOU_REASON_TIME_UNKNOWN);
  EXPECT_EQ(m.rate_events().back().day_type, 0);
  for (int i = 0; i < 30; ++i) m.tick(kMinute, 1);
  EXPECT_EQ(m.import_of(3), 30);
  m.host().set_time_valid(true);
  meter_time_changed sync{m.host().now_utc_ms(), m.host().now_utc_ms(), 0};
  m.host().publish(sync);
  EXPECT_EQ(m.rate(), 1u);  // Saturday night
  EXPECT_EQ(m.import_of(1), 60);
}

TEST(TouPlugin, APassiveCalendarBecomesActiveAtItsActivationTime) {
  Meter m(toronto_settings(), toronto_ms(2026, 7, 15, 12));
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  ASSERT_EQ(m.host().write(kPassiveCalendar, Value{std::string(R"(activation = 2026-07-16T00:00:00-04:00
[[seasons]]
name = "flat"
start = "01-01"
weekday = ["00:00 D"]
weekend = ["00:00 D"]
)")}),
            sdk::Status::ok);
  EXPECT_EQ(m.rate(), 3u);
  EXPECT_NE(m.text(kPassiveCalendar).find("activation = 2026-07-16T04:00:00Z"), std::string::npos);
  m.run_until(toronto_ms(2026, 7, 16, 0, 1), kMinute);
  EXPECT_EQ(m.rate(), 4u);
  EXPECT_EQ(m.text(kPassiveCalendar), "");
  EXPECT_NE(m.text(kActiveCalendar).find("valid_season = \"flat\""), std::string::npos);
  EXPECT_EQ(m.import_of(4), 1);
}

TEST(TouPlugin, BillingKeepsTheLast12SelfReadsWithTheirDates) {
  const std::int64_t start = toronto_ms(2026, 1, 15);
  Meter m(toronto_settings(), start);
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  m.run_until(toronto_ms(2027, 3, 15), kMinute);
  const std::string history = m.text(kBillingHistory);
  std::string error;
  auto doc = sdk::parse_toml(history, "billing", error);
  ASSERT_TRUE(doc) << error;
  const auto& list = *(*doc)["billing"].as_array();
  ASSERT_EQ(list.size(), 12u);
  EXPECT_EQ((*list.get(0)->as_table())["date"].value<toml::date>(), (toml::date{2026, 4, 1}));
  const auto& last = *list.get(11)->as_table();
  EXPECT_EQ(last["date"].value<toml::date>(), (toml::date{2027, 3, 1}));
  std::int64_t sum = 0;
  for (int i = 0; i < 4; ++i) sum += last["import_mwh"][i].value_or(std::int64_t{-1});
  EXPECT_EQ(sum, (toronto_ms(2027, 3, 1) - start) / kMinute);
}

TEST(TouPlugin, BadDownloadsAreRefusedAndChangeNothing) {
  Meter m(toronto_settings(), toronto_ms(2026, 7, 15, 12));
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  ASSERT_EQ(m.host().write(kDayCalendar, Value{std::string("start = 2026-07-20\ndays = [\"weekend\"]\n")}),
            sdk::Status::ok);
  const std::vector<std::pair<sdk::Obis, std::string>> bad = {
      {kSwitchPoints, "weekday = [\"00:00 A\", \"11:00 B\", \"07:00 C\"]\nweekend = [\"00:00 A\"]\n"},
      {kSwitchPoints, "weekday = [\"00:00 A\", \"24:30 B\"]\nweekend = [\"00:00 A\"]\n"},
      {kSwitchPoints, "season = \"autumn\"\nweekday = [\"00:00 A\"]\nweekend = [\"00:00 A\"]\n"},
      {kDayCalendar, "start = 2026-07-16\ndays = [\"weekday\", \"holiday9\"]\n"},
      {kDayCalendar, [] {
         std::string s = "start = 2026-07-16\ndays = [";
         for (int i = 0; i < 40; ++i) s += "\"weekday\", ";
         return s + "]\n";
       }()},
      {kPassiveCalendar, "activation = 2026-08-01T00:00:00Z\n[[seasons]]\nname = \"a\"\nstart = \"01-01\"\n"
                         "weekday = [\"00:00 A\"]\nweekend = [\"00:00 A\"]\n[[seasons]]\nname = \"b\"\n"
                         "start = \"01-01\"\nweekday = [\"00:00 B\"]\nweekend = [\"00:00 B\"]\n"},
      {kOverride, "start = 2026-07-15T14:00:00Z\nstop = 2026-07-15T13:00:00Z\npoints = [\"00:00 D\"]\n"},
      {kOverride, "start = 2026-07-01T14:00:00Z\nstop = 2026-07-01T15:00:00Z\npoints = [\"00:00 D\"]\n"},
      {kOverride, "this is not toml"},
  };
  std::map<std::string, std::string> objects_before;
  for (auto id : {kSwitchPoints, kDayCalendar, kPassiveCalendar, kOverride, kActiveCalendar}) {
    objects_before[sdk::to_string(id)] = m.text(id);
  }
  const auto nvm_before = m.host().nvm("calendar");
  const auto day_calendar_before = m.host().nvm("day_calendar");
  const auto events_before = m.rate_events().size();
  for (const auto& [id, text] : bad) {
    EXPECT_EQ(m.host().write(id, Value{text}), sdk::Status::invalid_argument) << text;
  }
  EXPECT_EQ(m.host().write(kOverride, Value{std::int64_t{3}}), sdk::Status::type_mismatch);
  for (const auto& [id, before] : objects_before) {
    EXPECT_EQ(m.text(*sdk::parse_obis(id)), before) << id;
  }
  EXPECT_EQ(m.host().nvm("calendar"), nvm_before);
  EXPECT_EQ(m.host().nvm("day_calendar"), day_calendar_before);
  EXPECT_EQ(m.rate_events().size(), events_before);
  EXPECT_EQ(m.rate(), 3u);
  const auto& log = m.host().log();
  EXPECT_EQ(count(log, "switch points refused: switch points.weekday[3]: 07:00 is not after"), 1u);
  EXPECT_EQ(count(log, "24:30 is out of range (00:00 to 23:59)"), 1u);
  EXPECT_EQ(count(log, "\"autumn\" is not a season of the active calendar"), 1u);
  EXPECT_EQ(count(log, "unknown day type \"holiday9\""), 1u);
  EXPECT_EQ(count(log, "days: has 40 days; the calendar holds 1 to 32"), 1u);
  EXPECT_EQ(count(log, "seasons \"a\" and \"b\" both start on 01-01: seasons overlap"), 1u);
  EXPECT_EQ(count(log, "stop: must be after start"), 1u);
  EXPECT_EQ(count(log, "is already past"), 1u);
}

TEST(TouPlugin, RegistersTablesAndBillingSurviveARestart) {
  Meter m(toronto_settings(), toronto_ms(2026, 7, 15, 12));
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  ASSERT_EQ(m.host().write(kDayCalendar, Value{std::string("start = 2026-07-20\ndays = [\"holiday1\"]\n")}),
            sdk::Status::ok);
  ASSERT_EQ(m.host().write(kSwitchPoints, Value{std::string(
                "season = \"summer\"\nweekday = [\"00:00 A\", \"12:30 D\"]\nweekend = [\"00:00 A\"]\n")}),
            sdk::Status::ok);
  m.run_until(toronto_ms(2026, 8, 1, 13), kMinute);
  std::array<std::int64_t, 8> before{};
  for (std::size_t r = 1; r <= 4; ++r) {
    before[r - 1] = m.import_of(r);
    before[r + 3] = m.export_of(r);
  }
  const std::string calendar = m.text(kActiveCalendar);
  const std::string days = m.text(kDayCalendar);
  const std::string billing = m.text(kBillingHistory);
  EXPECT_NE(billing.find("date = 2026-08-01"), std::string::npos);
  m.host().stop();
  m.host().destroy();
  ASSERT_EQ(m.host().create(), sdk::Status::ok);
  ASSERT_EQ(m.host().start(), sdk::Status::ok);
  for (std::size_t r = 1; r <= 4; ++r) {
    EXPECT_EQ(m.import_of(r), before[r - 1]);
    EXPECT_EQ(m.export_of(r), before[r + 3]);
  }
  EXPECT_EQ(m.text(kActiveCalendar), calendar);
  EXPECT_EQ(m.text(kDayCalendar), days);
  EXPECT_EQ(m.text(kBillingHistory), billing);
  EXPECT_EQ(m.rate(), 1u);  // Saturday
}

TEST(TouPlugin, DownloadsStandAcrossRestartsUntilTheSiteFileChangesTheTariff) {
  Meter m(toronto_settings(), toronto_ms(2026, 7, 15, 12));
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  ASSERT_EQ(m.host().write(kSwitchPoints, Value{std::string(
                "weekday = [\"00:00 D\"]\nweekend = [\"00:00 D\"]\n")}),
            sdk::Status::ok);
  EXPECT_EQ(m.rate(), 4u);
  m.host().stop();
  m.host().destroy();
  ASSERT_EQ(m.host().create(), sdk::Status::ok);
  ASSERT_EQ(m.host().start(), sdk::Status::ok);
  EXPECT_EQ(m.rate(), 4u);  // same site file: the download stands

  auto config = toronto_settings();
  auto& summer = *(*config["seasons"].as_array()).get(1)->as_table();
  summer.insert_or_assign("weekday", toml::array{"00:00 B"});
  Meter reprovisioned(config, m.host().now_utc_ms());
  for (const char* key : {"config", "calendar", "valid_season", "pending_season", "passive", "day_calendar",
                          "override", "registers"}) {
    if (auto v = m.host().nvm(key)) reprovisioned.host().set_nvm(key, *v);
  }
  ASSERT_EQ(reprovisioned.boot(), sdk::Status::ok);
  EXPECT_EQ(reprovisioned.rate(), 2u);  // the new site tariff, not the old download
}

}  // namespace
}  // namespace meter::plugins::tou::testing

namespace meter::plugins::tou::testing {
namespace {

std::int64_t packed(const sdk::Value& v, std::size_t at) {
  const auto& b = std::get<std::vector<std::uint8_t>>(v);
  std::uint64_t x = 0;
  for (std::size_t i = 0; i < 8; ++i) x |= std::uint64_t{b.at(8 * at + i)} << (8 * i);
  return static_cast<std::int64_t>(x);
}

// The rate registers are in NVM after every tick, not every save period: a meter killed at any
// tick restores rates that sum to the kernel's total of that tick.
TEST(TouPlugin, TheRateRegistersAreStoredInEveryTick) {
  Meter m(toronto_settings(), toronto_ms(2026, 7, 15, 6, 58));
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  for (int i = 0; i < 200; ++i) {
    m.tick(1000, 3, 1);
    const auto record = m.host().nvm("registers");
    ASSERT_TRUE(record) << "tick " << i;
    std::int64_t imported = 0, exported = 0;
    for (std::size_t r = 0; r < 4; ++r) {
      imported += packed(*record, r);
      exported += packed(*record, 4 + r);
    }
    ASSERT_EQ(imported, m.total_import_mwh()) << "tick " << i;
    ASSERT_EQ(exported, m.total_export_mwh()) << "tick " << i;
  }
}

constexpr std::array<const char*, 10> kStoredKeys{"registers", "config", "calendar", "valid_season",
                                                 "pending_season", "passive", "day_calendar", "override", "billing",
                                                 "last_billed"};

/// Import 1..4 then export 1..4 as the plugin's objects read.
std::array<std::int64_t, 8> registers_of(Meter& m) {
  std::array<std::int64_t, 8> out{};
  for (std::size_t r = 1; r <= 4; ++r) {
    out[r - 1] = m.import_of(r);
    out[r + 3] = m.export_of(r);
  }
  return out;
}

// A killed process: no PowerFail, no stop. What the running plugin committed in its last tick
// is all a new instance gets, at the same meter time.
std::array<std::int64_t, 8> registers_after_a_kill(Meter& running) {
  Meter after(toronto_settings(), running.host().now_utc_ms());
  for (const char* key : kStoredKeys) {
    if (auto v = running.host().nvm(key)) after.host().set_nvm(key, *v);
  }
  EXPECT_EQ(after.boot(), sdk::Status::ok);
  return registers_of(after);
}

// Killed at any tick, between switch points or on one, in any rate: a new instance restores
// the registers the running one had after that tick, none lagging, and they sum to the total.
TEST(TouPlugin, AKillAtAnyTickRestoresTheRegistersOfThatTick) {
  Meter m(toronto_settings(), toronto_ms(2026, 7, 15, 6, 58));  // a summer Wednesday
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  std::size_t kills = 0;
  std::set<std::uint64_t> rates;
  for (int i = 1; m.host().now_utc_ms() < toronto_ms(2026, 7, 15, 19, 3); ++i) {
    m.tick(kMinute, 7 + i % 5, i % 3);
    rates.insert(m.rate());
    if (i % 61 != 0 && m.host().now_utc_ms() != toronto_ms(2026, 7, 15, 7)) continue;
    const auto running = registers_of(m);
    ASSERT_EQ(registers_after_a_kill(m), running) << "killed after tick " << i;
    std::int64_t imported = 0, exported = 0;
    for (std::size_t r = 0; r < 4; ++r) {
      imported += running[r];
      exported += running[4 + r];
    }
    EXPECT_EQ(imported, m.total_import_mwh());
    EXPECT_EQ(exported, m.total_export_mwh());
    ++kills;
  }
  EXPECT_GE(kills, 12u);
  EXPECT_GE(rates.size(), 2u) << "the run should cross switch points";
}

TEST(TouPlugin, TheRegistersRecordWinsOverTheEarlierLayoutWhichTheFirstSaveRemoves) {
  Meter m(toronto_settings(), toronto_ms(2026, 7, 15, 6, 58));
  std::vector<std::uint8_t> record(64);
  for (std::size_t r = 0; r < 8; ++r) record[8 * r] = static_cast<std::uint8_t>(r + 1);
  m.host().set_nvm("registers", Value{record});
  for (int r = 1; r <= 4; ++r) {
    m.host().set_nvm("import." + std::to_string(r), sdk::Value{std::int64_t{100 * r}});
    m.host().set_nvm("export." + std::to_string(r), sdk::Value{std::int64_t{10 * r}});
  }
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  EXPECT_EQ(registers_of(m), (std::array<std::int64_t, 8>{1, 2, 3, 4, 5, 6, 7, 8}));

  Meter old(toronto_settings(), toronto_ms(2026, 7, 15, 6, 58));
  for (int r = 1; r <= 4; ++r) {
    old.host().set_nvm("import." + std::to_string(r), sdk::Value{std::int64_t{100 * r}});
    old.host().set_nvm("export." + std::to_string(r), sdk::Value{std::int64_t{10 * r}});
  }
  ASSERT_EQ(old.boot(), sdk::Status::ok);
  EXPECT_EQ(registers_of(old), (std::array<std::int64_t, 8>{100, 200, 300, 400, 10, 20, 30, 40}));
  for (int r = 1; r <= 4; ++r) {
    EXPECT_FALSE(old.host().nvm("import." + std::to_string(r))) << r;
    EXPECT_FALSE(old.host().nvm("export." + std::to_string(r))) << r;
  }
  const auto record_now = old.host().nvm("registers");
  ASSERT_TRUE(record_now);
  EXPECT_EQ(packed(*record_now, 2), 300);
  EXPECT_EQ(packed(*record_now, 7), 40);
}

TEST(TouPlugin, ADamagedRegistersRecordIsReportedAndTheEarlierLayoutIsUsed) {
  Meter m(toronto_settings(), toronto_ms(2026, 7, 15, 6, 58));
  m.host().set_nvm("registers", Value{std::vector<std::uint8_t>(63, 0xFF)});
  m.host().set_nvm("import.2", sdk::Value{std::int64_t{222}});
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  EXPECT_EQ(count(m.host().log(), "the stored rate registers are damaged"), 1u);
  EXPECT_EQ(registers_of(m), (std::array<std::int64_t, 8>{0, 222, 0, 0, 0, 0, 0, 0}));
}

TEST(TouPlugin, RestoresFromTheRecordsOfTheEarlierLayout) {
  Meter m(toronto_settings(), toronto_ms(2026, 7, 15, 6, 58));
  for (int r = 1; r <= 4; ++r) {
    m.host().set_nvm("import." + std::to_string(r), sdk::Value{std::int64_t{100 * r}});
    m.host().set_nvm("export." + std::to_string(r), sdk::Value{std::int64_t{10 * r}});
  }
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  EXPECT_EQ(m.import_of(3), 300);
  EXPECT_EQ(m.export_of(4), 40);
}

}  // namespace
}  // namespace meter::plugins::tou::testing
