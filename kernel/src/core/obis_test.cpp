#include "meter/kernel/obis.h"

#include <gtest/gtest.h>

#include <unordered_set>

namespace meter::kernel {
namespace {

TEST(Obis, ParsesShortAndFullForms) {
  auto o = Obis::parse("1-0:1.8.0");
  ASSERT_TRUE(o);
  EXPECT_EQ(*o, (Obis{1, 0, 1, 8, 0, 255}));
  EXPECT_EQ(Obis::parse("1-0:1.8.0*255"), o);
  EXPECT_EQ(Obis::parse("0-0:96.1.0*3"), (Obis{0, 0, 96, 1, 0, 3}));
}

TEST(Obis, RefusesMalformedCodes) {
  for (const char* bad : {"", "1-0:1.8", "1-0:1.8.0*", "1-0:1.8.0x", "1:0-1.8.0", "1-0:256.8.0",
                          "a-0:1.8.0", "1-0:1..0", "1-0:1.8.0*1*2"}) {
    EXPECT_FALSE(Obis::parse(bad)) << bad;
  }
}

TEST(Obis, FormatsRoundTrip) {
  EXPECT_EQ(obis("1-0:32.7.0").to_string(), "1-0:32.7.0");
  EXPECT_EQ(obis("1-0:1.8.1*12").to_string(), "1-0:1.8.1*12");
}

TEST(Obis, OrdersAndHashesByEveryGroup) {
  EXPECT_LT(obis("1-0:1.8.0"), obis("1-0:1.8.1"));
  EXPECT_LT(obis("1-0:1.8.9"), obis("1-0:2.8.0"));
  std::unordered_set<Obis> set{obis("1-0:1.8.0"), obis("1-0:1.8.1"), obis("1-0:1.8.0")};
  EXPECT_EQ(set.size(), 2u);
}

}  // namespace
}  // namespace meter::kernel
