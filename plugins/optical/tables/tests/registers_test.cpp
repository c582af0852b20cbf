// Decade 2: ST-21, ST-22, ST-23 from the kernel's registers and the tou and demand plugins'
// objects, and the source list MT-1.
#include <gtest/gtest.h>

#include <meter/c1219/objects.h>
#include <meter/c1219/tables.h>

#include "fake_source.h"

namespace meter::c1219 {
namespace {

using namespace testing;
using meter::sdk::obis;
using Bytes = std::vector<std::uint8_t>;

class C1219Decade2 : public ::testing::Test {
 protected:
  void SetUp() override { fill_meter(source); }
  FakeSource source;
  Tables tables{source, test_identification()};
};

Bytes tier(std::int64_t e, bool demand) {
  return cat({le(1'000'000 * e, 8), le(100'000 * e, 8), le(900'000 * e, 8), Bytes(5, 0),
              demand ? le(9'000'003, 8) : le(0, 8), demand ? le(14'000'003, 8) : le(0, 8),
              demand ? le(5'000'003, 8) : le(0, 8)});
}

TEST_F(C1219Decade2, ActualRegisterDescribesSummationsTiersAndDemands) {
  // date and time, reset counter, reset lock, cumulative, continuously cumulative
  EXPECT_EQ(tables.read(table::kActualRegister).data,
            (Bytes{0x3E, 0x00, 0x00, 3, 1, 0, 1, 4, 0, 0}));
}

TEST_F(C1219Decade2, DataSelectionPointsIntoTheSourceList) {
  EXPECT_EQ(tables.read(table::kDataSelection).data, (Bytes{0, 1, 2, 7, 0x01}));
}

TEST_F(C1219Decade2, CurrentRegisterDataHoldsRegistersAndDemands) {
  const Bytes expected = cat({{259 % 256},
                              le(123'456'789, 8), le(2'000'000, 8), le(121'456'789, 8),
                              {26, 7, 10, 18, 15}, le(9'000'000, 8), le(14'000'000, 8),
                              le(5'000'000, 8),
                              tier(1, false), tier(2, false), tier(3, true), tier(4, false)});
  EXPECT_EQ(tables.read(table::kCurrentRegisterData).data, expected);
}

TEST_F(C1219Decade2, AMeterWithoutTouOrDemandHasSummationsOnly) {
  for (const auto& id : source.objects()) {
    if (id.c <= 2 && (id.e != 0 || id.d != 8)) source.remove(id);
  }
  source.remove(objects::kDemandResetCount);
  source.remove(objects::kDemandLockout);
  EXPECT_EQ(tables.read(table::kActualRegister).data, (Bytes{0, 0, 0, 3, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(tables.read(table::kDataSelection).data, (Bytes{0, 1, 2}));
  EXPECT_EQ(tables.read(table::kCurrentRegisterData).data,
            cat({le(123'456'789, 8), le(2'000'000, 8), le(121'456'789, 8)}));
}

TEST_F(C1219Decade2, ReadsFollowTheRegistersLive) {
  source.set(objects::kImport, Value{std::int64_t{123'456'790}});
  EXPECT_EQ(tables.read(table::kCurrentRegisterData, 1, 8).data, le(123'456'790, 8));
}

TEST_F(C1219Decade2, SourceListNamesEachSourceWithUnitScalerAndPresence) {
  const Bytes expected = cat({{9},
                              {1, 0, 1, 8, 0, 255, 30, 0xFD, 1},
                              {1, 0, 2, 8, 0, 255, 30, 0xFD, 1},
                              {1, 0, 16, 8, 0, 255, 30, 0xFD, 1},
                              {1, 0, 5, 8, 0, 255, 32, 0xFD, 0},
                              {1, 0, 6, 8, 0, 255, 32, 0xFD, 0},
                              {1, 0, 7, 8, 0, 255, 32, 0xFD, 0},
                              {1, 0, 8, 8, 0, 255, 32, 0xFD, 0},
                              {1, 0, 1, 6, 0, 255, 27, 0xFD, 1},
                              {1, 0, 2, 6, 0, 255, 27, 0xFD, 0}});
  EXPECT_EQ(tables.read(table::kSources).data, expected);
}

}  // namespace
}  // namespace meter::c1219
