// Pins abi.h: any change to the plugin boundary fails here until someone decides it on purpose.
// To change the ABI: append fields only and bump METER_ABI_MINOR, or bump METER_ABI_MAJOR for
// anything else (see docs/sdk.md, "ABI rules"); then update kAbiSha256 and kAbiVersion below.
#include <gtest/gtest.h>
#include <sodium.h>

#include <cstddef>
#include <fstream>
#include <iterator>
#include <string>

#include "meter/sdk/abi.h"

namespace {

constexpr const char* kAbiSha256 =
    "4945939c3ba808cb0da9adc257b4f893f0881518a7b550897796341ab7334b85";
constexpr int kAbiMajor = 1;
constexpr int kAbiMinor = 4;

std::string sha256_hex(const std::string& bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

TEST(AbiPin, HeaderHashIsPinned) {
  std::ifstream in(METER_SDK_ABI_HEADER, std::ios::binary);
  ASSERT_TRUE(in) << "cannot read " << METER_SDK_ABI_HEADER;
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  EXPECT_EQ(sha256_hex(text), kAbiSha256)
      << "sdk/include/meter/sdk/abi.h changed. If on purpose: append-only changes bump "
         "METER_ABI_MINOR, anything else METER_ABI_MAJOR; then update the pin in this test.";
}

TEST(AbiPin, VersionMatchesThePin) {
  EXPECT_EQ(METER_ABI_MAJOR, kAbiMajor);
  EXPECT_EQ(METER_ABI_MINOR, kAbiMinor);
}

TEST(AbiPin, LayoutOfTheDescriptorIsStable) {
  // A reordering that keeps the text hash-identical is impossible; these document the layout
  // old plugins rely on, on the 64-bit targets the meter ships on.
  static_assert(sizeof(void*) == 8);
  EXPECT_EQ(offsetof(meter_plugin_descriptor, abi_major), 0u);
  EXPECT_EQ(offsetof(meter_plugin_descriptor, abi_minor), 2u);
  EXPECT_EQ(offsetof(meter_plugin_descriptor, struct_size), 4u);
  EXPECT_EQ(offsetof(meter_plugin_descriptor, id), 8u);
  EXPECT_EQ(offsetof(meter_plugin_descriptor, create), 32u);
  EXPECT_EQ(METER_DESCRIPTOR_MIN_SIZE, 64u);
  EXPECT_EQ(sizeof(meter_plugin_descriptor), 72u);
}

TEST(AbiPin, OptionalFieldsAreFoundByStructSize) {
  EXPECT_FALSE(METER_HAS_FIELD(meter_plugin_descriptor, METER_DESCRIPTOR_MIN_SIZE, self_test));
  EXPECT_TRUE(METER_HAS_FIELD(meter_plugin_descriptor, sizeof(meter_plugin_descriptor), self_test));
  EXPECT_TRUE(METER_HAS_FIELD(meter_plugin_descriptor, METER_DESCRIPTOR_MIN_SIZE, stop));
}

}  // namespace

TEST(AbiPin, ParameterChangedKeepsItsLayoutAndAppendsTheAuditFields) {
  // ABI 1.1 appended via, role, parameter_class and the counter after `who`; a 1.0 plugin
  // reads the fields before them where they always were.
  EXPECT_EQ(offsetof(meter_parameter_changed, old_value), 16u);
  EXPECT_EQ(offsetof(meter_parameter_changed, who), 32u);
  EXPECT_EQ(offsetof(meter_parameter_changed, via), 40u);
  EXPECT_EQ(offsetof(meter_parameter_changed, counter_value), 56u);
}

TEST(AbiPin, HostApiAppendsTheIoAndPortFunctionsAfterTheRelay) {
  // ABI 1.2 appended file-descriptor watches, timers and port logons after trip_relay; a 1.1
  // plugin sees the table it knew, and a 1.2 plugin finds the new functions by struct_size.
  EXPECT_LT(offsetof(meter_host_api, trip_relay), offsetof(meter_host_api, watch_fd));
  EXPECT_EQ(offsetof(meter_host_api, watch_fd),
            offsetof(meter_host_api, trip_relay) + sizeof(void*));
  EXPECT_FALSE(METER_HAS_FIELD(meter_host_api, offsetof(meter_host_api, watch_fd), watch_fd));
  EXPECT_TRUE(METER_HAS_FIELD(meter_host_api, sizeof(meter_host_api), list_objects));
  EXPECT_EQ(METER_STATUS_SEALED, 11);
  EXPECT_EQ(METER_STATUS_LOCKED, 12);
}
