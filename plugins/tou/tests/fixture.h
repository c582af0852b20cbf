// Test helpers for the time-of-use plugin: the Toronto site's tariff as the plugin's settings,
// a fake meter that feeds import and export ticks, and readers for registers and events.
#pragma once

#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <date/tz.h>
#include <gtest/gtest.h>

#include <meter/sdk/testing/fake_host.h>

#include "meter/plugins/tou/events.h"
#include "objects.h"

extern "C" const meter_plugin_descriptor* meter_plugin_entry(void);

namespace meter::plugins::tou::testing {

using sdk::Value;
using sdk::testing::FakeHost;
using sdk::testing::FakeHostOptions;

inline toml::table parse(std::string_view text) {
  std::string error;
  auto t = sdk::parse_toml(text, "test", error);
  if (!t) throw std::runtime_error(error);
  return std::move(*t);
}

/// The [plugins.tou] table of config/sites/toronto-tou.toml.
inline toml::table toronto_settings() {
  std::ifstream in(METER_TOU_SITE_FILE);
  std::stringstream text;
  text << in.rdbuf();
  std::string error;
  auto site = sdk::parse_toml(text.str(), METER_TOU_SITE_FILE, error);
  if (!site) throw std::runtime_error(error);
  return *(*site)["plugins"]["tou"].as_table();
}

/// UTC instant of a local wall time in Toronto.
inline std::int64_t toronto_ms(int y, unsigned m, unsigned d, int h = 0, int mi = 0) {
  const auto* zone = date::locate_zone("America/Toronto");
  const date::local_seconds local = date::local_days{date::year{y} / m / d} +
                                    std::chrono::hours(h) + std::chrono::minutes(mi);
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             zone->to_sys(local, date::choose::earliest).time_since_epoch())
      .count();
}

/// A fake meter around the plugin: ticks carry import and export; totals are kept like the
/// kernel's registers.
class Meter {
 public:
  explicit Meter(toml::table config, std::int64_t start_utc_ms, bool time_valid = true)
      : host_(meter_plugin_entry(), FakeHostOptions{.config = std::move(config),
                                                    .granted = {"write:tariff-registers"},
                                                    .start_time_utc_ms = start_utc_ms,
                                                    .time_valid = time_valid}) {}

  FakeHost& host() { return host_; }
  sdk::Status boot() {
    const auto created = host_.create();
    if (created != sdk::Status::ok) return created;
    return host_.start();
  }
  /// Power fails: the kernel announces it, the plugin stops; power returns: a new instance
  /// starts on the same NVM.
  void power_cycle(std::int64_t outage_ms, bool time_valid_after) {
    meter_time_event fail{host_.now_utc_ms()};
    host_.publish(fail);
    host_.stop();
    host_.destroy();
    host_.advance_ms(outage_ms);
    host_.set_time_valid(time_valid_after);
    ASSERT_EQ(host_.create(), sdk::Status::ok);
    ASSERT_EQ(host_.start(), sdk::Status::ok);
    meter_power_restore restore{host_.now_utc_ms(), outage_ms, time_valid_after ? 1 : 0};
    host_.publish(restore);
  }
  void tick(std::int64_t duration_ms, std::int64_t import_mwh, std::int64_t export_mwh = 0) {
    host_.advance_ms(duration_ms);
    meter_energy_tick t{};
    t.sequence = ++sequence_;
    t.time_utc_ms = host_.now_utc_ms();
    int32_t valid = 0;
    host_.api()->now_utc_ms(host_.api()->context, &valid);
    t.time_valid = valid;
    t.duration_ms = duration_ms;
    t.delta_mwh[0] = import_mwh;
    t.delta_mwh[1] = export_mwh;
    total_import_mwh_ += import_mwh;
    total_export_mwh_ += export_mwh;
    t.total_mwh[0] = total_import_mwh_;
    t.total_mwh[1] = total_export_mwh_;
    ASSERT_EQ(host_.publish(t), 0u) << "tick handler failed";
  }
  /// Ticks of 1 s with 1 mWh each until `until_utc_ms`.
  void run_until(std::int64_t until_utc_ms, std::int64_t step_ms = 1000) {
    while (host_.now_utc_ms() < until_utc_ms) tick(step_ms, 1);
  }
  std::int64_t import_of(std::size_t rate) { return integer(kImportRegisters[rate - 1]); }
  std::int64_t export_of(std::size_t rate) { return integer(kExportRegisters[rate - 1]); }
  std::int64_t integer(const sdk::Obis& id) {
    auto v = host_.read(id);
    return v ? std::get<std::int64_t>(*v) : -1;
  }
  std::uint64_t rate() {
    auto v = host_.read(kCurrentRate);
    return v ? std::get<std::uint64_t>(*v) : 0;
  }
  std::string text(const sdk::Obis& id) {
    auto v = host_.read(id);
    return v ? std::get<std::string>(*v) : std::string("<unreadable>");
  }
  std::vector<meter_tou_rate_changed> rate_events() const {
    std::vector<meter_tou_rate_changed> out;
    for (const auto& [topic, payload] : host_.published()) {
      if (topic != METER_TOU_RATE_CHANGED_TOPIC) continue;
      meter_tou_rate_changed e{};
      EXPECT_EQ(payload.size(), sizeof e);
      std::memcpy(&e, payload.data(), std::min(payload.size(), sizeof e));
      out.push_back(e);
    }
    return out;
  }
  std::int64_t total_import_mwh() const { return total_import_mwh_; }
  std::int64_t total_export_mwh() const { return total_export_mwh_; }

 private:
  FakeHost host_;
  std::uint64_t sequence_ = 0;
  std::int64_t total_import_mwh_ = 0;
  std::int64_t total_export_mwh_ = 0;
};

}  // namespace meter::plugins::tou::testing
