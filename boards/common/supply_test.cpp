#include "meter/boards/supply.h"

#include <gtest/gtest.h>

namespace meter::boards {
namespace {

using kernel::Milliseconds;
using kernel::UtcTime;

Happening failure(std::int64_t at_ms, std::int64_t length_ms) {
  return {Happening::Kind::power_failure, UtcTime{Milliseconds{at_ms}}, Milliseconds{length_ms}};
}

Happening sag(std::int64_t at_ms, std::int64_t length_ms, double fraction) {
  return {Happening::Kind::voltage_sag, UtcTime{Milliseconds{at_ms}}, Milliseconds{length_ms},
          fraction};
}

TEST(Supply, PartOfATickInAFailureIsUnpoweredAndASagLowersTheVoltageIntegral) {
  auto s = Supply::create({sag(20'000, 1'500, 0.5), failure(10'500, 2'000)});
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_EQ(s->happenings().size(), 2u);
  EXPECT_EQ(s->happenings()[0].kind, Happening::Kind::power_failure) << "sorted by time";
  auto t = s->at(0, 1'000);
  EXPECT_EQ(t.powered_ms, 1'000);
  EXPECT_DOUBLE_EQ(t.volt_ms, 1'000);
  t = s->at(10'000, 11'000);
  EXPECT_EQ(t.powered_ms, 500);
  EXPECT_DOUBLE_EQ(t.volt_ms, 500);
  EXPECT_EQ(s->at(11'000, 12'000).powered_ms, 0);
  t = s->at(21'000, 22'000);
  EXPECT_EQ(t.powered_ms, 1'000);
  EXPECT_DOUBLE_EQ(t.volt_ms, 500 * 0.5 + 500);
  // Going back in time (a restarted run) finds the windows again.
  EXPECT_EQ(s->at(11'000, 12'000).powered_ms, 0);
  EXPECT_EQ(s->at(30'000, 31'000).powered_ms, 1'000);
}

TEST(Supply, ErrorsNameTheHappeningAndTheValue) {
  auto s = Supply::create({failure(0, 1'000), sag(500, 1'000, 0.8)});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("happening 1 (voltage_sag at 1970-01-01T00:00:00.500Z) "
                                   "overlaps happening 0"),
            std::string::npos)
      << s.error().message;
  s = Supply::create({sag(0, 1'000, 1.5)});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("sag_fraction must be within 0..1, got 1.5"), std::string::npos);
  s = Supply::create({failure(0, 0)});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("length must be positive, got 0 ms"), std::string::npos);
}

}  // namespace
}  // namespace meter::boards
