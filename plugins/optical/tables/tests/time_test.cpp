// Decade 5: ST-51, ST-52, ST-53, ST-55 from the clock, the time zone and the tou plugin.
#include <gtest/gtest.h>

#include <meter/c1219/objects.h>
#include <meter/c1219/tables.h>

#include "fake_source.h"

namespace meter::c1219 {
namespace {

using namespace testing;
using Bytes = std::vector<std::uint8_t>;

class C1219Decade5 : public ::testing::Test {
 protected:
  void SetUp() override { fill_meter(source); }
  FakeSource source;
  Tables tables{source, test_identification()};
};

TEST_F(C1219Decade5, ClockIsLocalTimeWithWeekdayAndDst) {
  // Wednesday (3), DST in force (0x08), time zone applied (0x20), DST applied (0x40).
  EXPECT_EQ(tables.read(table::kClock).data, (Bytes{26, 7, 15, 14, 30, 5, 0x6B}));
}

TEST_F(C1219Decade5, ClockInWinterHasNoDstFlag) {
  source.set(objects::kClock, Value{std::string("2026-01-04 00:00:59 EST")});
  EXPECT_EQ(tables.read(table::kClock).data, (Bytes{26, 1, 4, 0, 0, 59, 0x20}));  // Sunday
}

TEST_F(C1219Decade5, RepeatedHourTakesTheAbbreviationsSide) {
  source.set(objects::kClock, Value{std::string("2026-11-01 01:30:00 EDT")});
  EXPECT_EQ(tables.read(table::kClock).data.back(), 0x68);  // Sunday, DST
  source.set(objects::kClock, Value{std::string("2026-11-01 01:30:00 EST")});
  EXPECT_EQ(tables.read(table::kClock).data.back(), 0x20);
}

TEST_F(C1219Decade5, UnknownTimeIsZerosAndAnUndefinedWeekday) {
  source.set(objects::kClock, Value{std::string("time unknown")});
  EXPECT_EQ(tables.read(table::kClock).data, (Bytes{0, 0, 0, 0, 0, 0, 7}));
  EXPECT_EQ(tables.read(table::kModeStatus).data[1] & 0x40, 0x40);  // clock error
}

TEST_F(C1219Decade5, TimeOffsetIsTheZonesStandardOffsetAndDstRule) {
  // DST begins at 02:00:00 standard time, moves the clock 60 min; UTC-5 h = -300 min.
  EXPECT_EQ(tables.read(table::kTimeOffset).data, (Bytes{2, 0, 0, 60, 0xD4, 0xFE}));
  source.set(objects::kTimeZone, Value{std::string("Asia/Kolkata")});
  EXPECT_EQ(tables.read(table::kTimeOffset).data, (Bytes{0, 0, 0, 0, 0x4A, 0x01}));  // +330
}

TEST_F(C1219Decade5, ActualTimeTouCountsTheSeasons) {
  // CAP_DST_AUTO, CAP_TM_ZN_OFFSET; 2 seasons; no calendar dates or tier switches in ST-54.
  EXPECT_EQ(tables.read(table::kActualTimeTou).data, (Bytes{0, 0x11, 2, 0, 0, 0, 0, 0, 0}));
}

TEST_F(C1219Decade5, ClockStateCarriesTierAndSeason) {
  // Rate B is tier 1; the season in force, "summer", is the second.
  EXPECT_EQ(tables.read(table::kClockState).data, (Bytes{26, 7, 15, 14, 30, 5, 0x6B, 0x01, 0x10}));
  source.remove(objects::kCurrentRate);
  source.remove(objects::kSwitchPoints);
  source.remove(objects::kActiveCalendar);
  EXPECT_EQ(tables.read(table::kClockState).data, (Bytes{26, 7, 15, 14, 30, 5, 0x6B, 0, 0}));
  EXPECT_EQ(tables.read(table::kActualTimeTou).data[2], 0);
}

}  // namespace
}  // namespace meter::c1219
