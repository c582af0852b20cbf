// A test rig for the load profile plugin: the SDK's fake host, a meter constant, ticks with
// import and export, and the profile object decoded.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include <meter/plugins/load_profile/profile_format.h>
#include <meter/sdk/testing/fake_host.h>

extern "C" const meter_plugin_descriptor* meter_plugin_entry(void);

namespace meter::plugins::load_profile::testing {

inline constexpr sdk::Obis kProfile = sdk::obis("1-0:99.1.0");
inline constexpr sdk::Obis kSelector = sdk::obis("1-0:99.1.1");
inline constexpr sdk::Obis kMeterConstant = sdk::obis("1-0:0.3.0");

/// 2023-11-14T22:00:00Z, an hour boundary.
inline constexpr std::int64_t kT0Ms = 1'699'999'200'000;
inline constexpr std::int64_t kT0S = kT0Ms / 1000;
inline constexpr std::int64_t kMinS = 60;

inline sdk::testing::FakeHostOptions options(std::int64_t interval_min = 15,
                                             std::int64_t capacity = 480,
                                             std::int64_t divisor = 1,
                                             std::string channels = "1-0:1.8.0, 1-0:2.8.0") {
  sdk::testing::FakeHostOptions o;
  o.config.insert("interval_min", interval_min);
  o.config.insert("capacity_records", capacity);
  o.config.insert("pulse_divisor", divisor);
  o.config.insert("channels", channels);
  o.start_time_utc_ms = kT0Ms;
  return o;
}

/// The fake host with a meter whose Kh is `kh_wh` (pulses per kWh = 1000 / Kh).
class Rig {
 public:
  explicit Rig(sdk::testing::FakeHostOptions o = options(), double kh_wh = 1.0)
      : host(meter_plugin_entry(), std::move(o)) {
    if (kh_wh > 0) host.set_object(kMeterConstant, sdk::Value{1000.0 / kh_wh});
  }

  void start() {
    ASSERT_EQ(host.create(), sdk::Status::ok);
    ASSERT_EQ(host.start(), sdk::Status::ok);
  }
  void restart() {
    ASSERT_EQ(host.stop(), sdk::Status::ok);
    host.destroy();
    start();
  }

  /// One tick of `duration_ms` ending `duration_ms` later, moving +A and -A.
  void tick(std::int64_t import_mwh, std::int64_t export_mwh = 0, bool fault = false,
            std::int64_t duration_ms = 1000) {
    host.set_time_valid(time_valid);
    moved_mwh[0] += import_mwh;
    moved_mwh[1] += export_mwh;
    ASSERT_EQ(host.tick(duration_ms, import_mwh, export_mwh, fault), 0u);
  }
  /// Ticks of 1 s with a constant load until the clock reads `until_ms`.
  void run_until(std::int64_t until_ms, std::int64_t import_mwh = 100,
                 std::int64_t export_mwh = 0) {
    while (host.now_utc_ms() < until_ms) tick(import_mwh, export_mwh);
  }
  void power_fail() { ASSERT_EQ(host.power_fail(), 0u); }
  void power_restore(std::int64_t outage_ms) { ASSERT_EQ(host.power_restore(outage_ms), 0u); }
  void set_time(std::int64_t new_ms) { ASSERT_EQ(host.change_time(new_ms), 0u); }

  /// The profile object, with `selector` written first.
  Profile profile(const std::string& selector = "all") {
    EXPECT_EQ(host.write(kSelector, sdk::Value{selector}), sdk::Status::ok) << selector;
    const auto value = host.read(kProfile);
    if (!value) {
      ADD_FAILURE() << "the profile object cannot be read";
      return {};
    }
    const auto& bytes = std::get<std::vector<std::uint8_t>>(*value);
    ProfileDecode decoded = decode_profile(bytes.data(), bytes.size());
    if (!decoded.profile) {
      ADD_FAILURE() << decoded.error;
      return {};
    }
    return *decoded.profile;
  }

  sdk::testing::FakeHost host;
  bool time_valid = true;  ///< the clock's validity for the next ticks
  std::array<std::int64_t, 2> moved_mwh{};
};

}  // namespace meter::plugins::load_profile::testing
