// The reader's side: the profile object's encoding, decoding and CSV.
#include <gtest/gtest.h>

#include <meter/plugins/load_profile/profile_format.h>

namespace meter::plugins::load_profile {
namespace {

Profile sample() {
  Profile p;
  p.interval_min = 15;
  p.channels = {{1, 0, 1, 8, 0, 255}, {1, 0, 2, 8, 0, 255}};
  p.pulse_divisor = 3;
  p.kh_nwh = 7'200'000'000;
  p.records_stored = 2;
  p.records.push_back({.sequence = 16, .end_utc_s = 1'700'000'100, .flags = 0,
                       .pulses = {120, 0}});
  p.records.push_back({.sequence = 17, .end_utc_s = 1'700'001'000,
                       .flags = kFlagPowerFailure | kFlagPartial, .pulses = {5, 1}});
  return p;
}

TEST(LoadProfileFormat, EncodesTheDocumentedLayoutAndDecodesIt) {
  const auto bytes = encode_profile(sample());
  // "LP", 1, 15 min, 2 channels, 12 OBIS bytes, divisor, Kh, stored, selected; 2 x 22 bytes.
  ASSERT_EQ(bytes.size(), 5u + 12 + 4 + 8 + 4 + 4 + 2 * 22);
  EXPECT_EQ(bytes[0], 'L');
  EXPECT_EQ(bytes[2], 1);
  EXPECT_EQ(bytes[3], 15);
  EXPECT_EQ(bytes[17], 3);  // pulse divisor, little-endian
  const ProfileDecode d = decode_profile(bytes.data(), bytes.size());
  ASSERT_TRUE(d.profile) << d.error;
  EXPECT_EQ(d.profile->records.size(), 2u);
  EXPECT_EQ(d.profile->records[1].flags, kFlagPowerFailure | kFlagPartial);
  EXPECT_EQ(d.profile->records[1].end_utc_s, 1'700'001'000);
  EXPECT_EQ(d.profile->kh_nwh, 7'200'000'000u);
}

TEST(LoadProfileFormat, TurnsTheObjectIntoCsvWithExactEnergy) {
  const auto bytes = encode_profile(sample());
  std::string csv, error;
  ASSERT_TRUE(profile_octets_to_csv(bytes.data(), bytes.size(), csv, error)) << error;
  EXPECT_EQ(csv,
            "sequence,end_utc,flags,1-0:1.8.0_pulses,1-0:2.8.0_pulses,1-0:1.8.0_wh,1-0:2.8.0_wh\n"
            "16,2023-11-14T22:15:00Z,,120,0,2592,0\n"
            "17,2023-11-14T22:30:00Z,PF|PI,5,1,108,21.6\n");
}

TEST(LoadProfileFormat, RefusesBytesThatAreNotAProfile) {
  auto bytes = encode_profile(sample());
  std::string csv = "untouched", error;
  bytes.pop_back();
  EXPECT_FALSE(profile_octets_to_csv(bytes.data(), bytes.size(), csv, error));
  EXPECT_NE(error.find("2 records"), std::string::npos) << error;
  EXPECT_EQ(csv, "untouched");
  const std::uint8_t junk[] = {'X', 'Y', 1};
  EXPECT_FALSE(decode_profile(junk, sizeof junk).profile);
}

TEST(LoadProfileFormat, NamesEveryFlag) {
  EXPECT_EQ(flags_text(0xFF), "PF|TF|TB|PI|CI|MF|RT|OV");
  EXPECT_EQ(utc_text(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(utc_text(951'782'400), "2000-02-29T00:00:00Z");
}

}  // namespace
}  // namespace meter::plugins::load_profile
