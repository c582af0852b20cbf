// Decade 6: ST-61..ST-64 and MT-3 from a profile encoded the way the load_profile plugin
// encodes 1-0:99.1.0 (its own encoder, profile_format.h).
#include <gtest/gtest.h>

#include <meter/c1219/objects.h>
#include <meter/c1219/tables.h>

#include "fake_source.h"

namespace meter::c1219 {
namespace {

using namespace testing;
using Bytes = std::vector<std::uint8_t>;
namespace lp = meter::plugins::load_profile;

class C1219Decade6 : public ::testing::Test {
 protected:
  void SetUp() override { fill_meter(source); }
  FakeSource source;
  Tables tables{source, test_identification()};
};

TEST_F(C1219Decade6, ActualLoadProfileHasOneBlockPerRecord) {
  // 3 blocks of 15 octets; scalars and divisors, extended status; UINT32; 1 interval a block.
  EXPECT_EQ(tables.read(table::kActualLoadProfile).data,
            (Bytes{45, 0, 0, 0, 0x40, 0x04, 0x04, 3, 0, 1, 0, 2, 15}));
}

TEST_F(C1219Decade6, ControlNamesChannelSourcesAndThePulseDivisor) {
  EXPECT_EQ(tables.read(table::kLoadProfileControl).data,
            (Bytes{0, 0, 0xFF, 0, 1, 0xFF, 4, 1, 0, 1, 0, 2, 0, 2, 0}));
}

TEST_F(C1219Decade6, StatusCountsValidBlocksAndNamesTheNewest) {
  EXPECT_EQ(tables.read(table::kLoadProfileStatus).data,
            (Bytes{0x24, 3, 0, 2, 0, 9, 0, 0, 0, 3, 0, 1, 0}));
}

TEST_F(C1219Decade6, DataCarriesEndTimesStatusAndPulses) {
  const Bytes expected = cat({
      {26, 7, 15, 18, 0}, {0x00, 0x00}, le(120, 4), le(0, 4),
      {26, 7, 15, 18, 15}, {0x22, 0x20}, le(5, 4), le(1, 4),          // PF, partial
      {26, 7, 15, 18, 30}, {0x41, 0x10}, le(0xFFFFFFFF, 4), le(7, 4),  // clock forward, overflow
  });
  EXPECT_EQ(tables.read(table::kLoadProfileDataSet1).data, expected);
}

TEST_F(C1219Decade6, ThreeChannelsUseTwoChannelStatusOctets) {
  lp::Profile p = test_profile();
  p.channels.push_back({1, 0, 5, 8, 0, 255});
  p.records.resize(1);
  p.records[0].flags = lp::kFlagPartial;
  p.records[0].pulses[2] = 3;
  source.set(objects::kLoadProfile, Value{lp::encode_profile(p)});
  EXPECT_EQ(tables.read(table::kLoadProfileDataSet1).data,
            cat({{26, 7, 15, 18, 0}, {0x02, 0x22}, le(120, 4), le(0, 4), le(3, 4)}));
  EXPECT_EQ(tables.read(table::kLoadProfileControl).data[7], 3);  // Q1 is source 3
}

TEST_F(C1219Decade6, ScalingGivesKhDivisorAndChannels) {
  EXPECT_EQ(tables.read(table::kLoadProfileScaling).data,
            cat({{15, 2, 1, 0, 1, 8, 0, 255, 1, 0, 2, 8, 0, 255}, le(2, 4), le(1'000'000'000, 8),
                 le(3, 4)}));
}

TEST_F(C1219Decade6, AnEmptyProfileHasNoBlocks) {
  lp::Profile p = test_profile();
  p.records.clear();
  source.set(objects::kLoadProfile, Value{lp::encode_profile(p)});
  EXPECT_EQ(tables.read(table::kLoadProfileStatus).data,
            (Bytes{0x24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  const ReadResult data = tables.read(table::kLoadProfileDataSet1);
  EXPECT_EQ(data.code, ResponseCode::ok);
  EXPECT_TRUE(data.data.empty());
}

TEST_F(C1219Decade6, UnreadableOrMalformedProfiles) {
  ObjectMeta m = *source.meta(objects::kLoadProfile);
  m.read_roles = kConfigurator;
  source.add(m, Value{lp::encode_profile(test_profile())});
  source.role = kPublic;
  EXPECT_EQ(tables.read(table::kLoadProfileDataSet1).code, ResponseCode::isc);
  source.role = kConfigurator;
  source.set(objects::kLoadProfile, Value{Bytes{'L', 'P', 9}});
  EXPECT_EQ(tables.read(table::kActualLoadProfile).code, ResponseCode::err);
}

}  // namespace
}  // namespace meter::c1219
