// A test rig for the demand plugin: the SDK's fake host, ticks with import and export, power,
// clock and rate events, and the demand objects read back.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include <meter/plugins/tou/events.h>
#include <meter/sdk/testing/fake_host.h>

extern "C" const meter_plugin_descriptor* meter_plugin_entry(void);

namespace meter::plugins::demand::testing {

/// 2023-11-14T22:00:00Z, an hour boundary.
inline constexpr std::int64_t kT0Ms = 1'699'999'200'000;
inline constexpr std::int64_t kMinMs = 60'000;
inline constexpr std::int64_t kHourMs = 3'600'000;

inline constexpr sdk::Obis kPresent = sdk::obis("1-0:1.4.0");
inline constexpr sdk::Obis kPrevious = sdk::obis("1-0:1.5.0");
inline constexpr sdk::Obis kMaximum = sdk::obis("1-0:1.6.0");
inline constexpr sdk::Obis kMaximumTime = sdk::obis("1-0:1.128.0");
inline constexpr sdk::Obis kCumulative = sdk::obis("1-0:1.2.0");
inline constexpr sdk::Obis kContinuous = sdk::obis("1-0:1.3.0");
inline constexpr sdk::Obis kReset = sdk::obis("0-0:10.0.1");
inline constexpr sdk::Obis kResetCount = sdk::obis("1-0:0.1.0");
inline constexpr sdk::Obis kResetTime = sdk::obis("1-0:0.1.2");
inline constexpr sdk::Obis kStatus = sdk::obis("0-0:128.20.0");
inline constexpr sdk::Obis kLockout = sdk::obis("0-0:128.20.1");

/// Settings: `quantities` is TOML for the table-array, e.g. R"([{ rate = "total" }])".
inline sdk::testing::FakeHostOptions options(std::int64_t interval_min = 15,
                                             std::int64_t subintervals = 1,
                                             std::string_view quantities = {},
                                             std::int64_t lockout_min = 60,
                                             std::int64_t cold_load = 0) {
  sdk::testing::FakeHostOptions o;
  o.config.insert("interval_min", interval_min);
  o.config.insert("subintervals", subintervals);
  o.config.insert("reset_lockout_min", lockout_min);
  o.config.insert("cold_load_pickup_intervals", cold_load);
  if (!quantities.empty()) {
    const std::string doc = "q = " + std::string(quantities);
    toml::table parsed = toml::parse(doc);
    o.config.insert("quantities", *parsed["q"].as_array());
  }
  o.start_time_utc_ms = kT0Ms;
  return o;
}

class Rig {
 public:
  explicit Rig(sdk::testing::FakeHostOptions o = options()) : host(meter_plugin_entry(), std::move(o)) {}

  void start() {
    ASSERT_EQ(host.create(), sdk::Status::ok);
    ASSERT_EQ(host.start(), sdk::Status::ok);
  }
  void restart() {
    ASSERT_EQ(host.stop(), sdk::Status::ok);
    host.destroy();
    start();
  }

  /// One tick of 1 s moving +A and -A.
  void tick(std::int64_t import_mwh, std::int64_t export_mwh = 0, std::int64_t duration_ms = 1000) {
    ASSERT_EQ(host.tick(duration_ms, import_mwh, export_mwh), 0u);
  }
  /// 1 s ticks of a constant load until the clock reads `until_ms`.
  void run_until(std::int64_t until_ms, std::int64_t import_mwh, std::int64_t export_mwh = 0) {
    while (host.now_utc_ms() < until_ms) tick(import_mwh, export_mwh);
  }
  void power_fail() { ASSERT_EQ(host.power_fail(), 0u); }
  void power_restore(std::int64_t outage_ms) { ASSERT_EQ(host.power_restore(outage_ms), 0u); }
  void set_time(std::int64_t new_ms) { ASSERT_EQ(host.change_time(new_ms), 0u); }
  /// The TOU plugin's RateChanged (rate 1..4 for A..D) at `time_ms` (default: now).
  void rate_changed(std::int32_t rate, std::int32_t previous, std::int64_t time_ms = 0) {
    meter_tou_rate_changed rc{};
    rc.struct_size = sizeof rc;
    rc.rate = rate;
    rc.previous_rate = previous;
    rc.reason = METER_TOU_REASON_SCHEDULE;
    rc.day_type = 1;
    rc.time_utc_ms = time_ms != 0 ? time_ms : host.now_utc_ms();
    ASSERT_EQ(host.publish_topic(METER_TOU_RATE_CHANGED_TOPIC,
                                 std::string_view(reinterpret_cast<const char*>(&rc), sizeof rc)),
              0u);
  }

  std::int64_t integer(const sdk::Obis& id) {
    const auto v = host.read(id);
    if (!v || !std::holds_alternative<std::int64_t>(*v)) {
      ADD_FAILURE() << "no integer at " << sdk::to_string(id);
      return -1;
    }
    return std::get<std::int64_t>(*v);
  }
  std::uint64_t unsigned_value(const sdk::Obis& id) {
    const auto v = host.read(id);
    if (!v || !std::holds_alternative<std::uint64_t>(*v)) {
      ADD_FAILURE() << "no unsigned at " << sdk::to_string(id);
      return 0;
    }
    return std::get<std::uint64_t>(*v);
  }
  std::string text(const sdk::Obis& id) {
    const auto v = host.read(id);
    if (!v || !std::holds_alternative<std::string>(*v)) {
      ADD_FAILURE() << "no text at " << sdk::to_string(id);
      return {};
    }
    return std::get<std::string>(*v);
  }

  sdk::testing::FakeHost host;
};

}  // namespace meter::plugins::demand::testing
