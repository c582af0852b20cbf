// A test rig for the prepaid plugin: the SDK's fake host with a two-source site in Phoenix
// (grid and generator, two relays), real tokens made with the meter's key, ticks that keep the
// kernel's import register, measurements, and the objects read back.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include <meter/sdk/testing/fake_host.h>

#include "objects.h"
#include "token.h"

extern "C" const meter_plugin_descriptor* meter_plugin_entry(void);

namespace meter::plugins::prepaid::testing {

/// 2026-01-14T19:00:00Z: noon of a Wednesday in Phoenix (MST, UTC-7, no DST).
inline constexpr std::int64_t kT0Ms = 1'768'417'200'000;
inline constexpr std::int64_t kMinMs = 60'000;
inline constexpr std::int64_t kHourMs = 3'600'000;
inline constexpr sdk::Obis kImport = sdk::obis("1-0:1.8.0");

inline constexpr std::string_view kKeyHex =
    "8f3c2a61d07b44e9a5c1f2e3d4b5a69788796a5b4c3d2e1f00112233445566aa";
inline constexpr std::string_view kOtherKeyHex =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// The rig's settings as TOML; `overrides` (TOML too) replaces keys of the same name.
inline toml::table config(std::string_view overrides = {}) {
  toml::table base = toml::parse(R"(
time_zone = "America/Phoenix"
meter_key = "8f3c2a61d07b44e9a5c1f2e3d4b5a69788796a5b4c3d2e1f00112233445566aa"
sources = [
  { name = "grid", price_per_kwh = 13217, relay = 0, current_limit_a = 60.0 },
  { name = "generator", price_per_kwh = 31500, relay = 1, current_limit_a = 20.0 },
]
initial_credit = 1000
emergency_credit_initial_limit = 500
emergency_credit_limit = 300
emergency_credit_threshold = 200
)");
  const toml::table extra = toml::parse(overrides);
  for (const auto& [key, value] : extra) base.insert_or_assign(key, value);
  return base;
}

inline sdk::testing::FakeHostOptions options(std::string_view overrides = {}) {
  sdk::testing::FakeHostOptions o;
  o.config = config(overrides);
  o.granted = {"relay"};
  o.relays = 2;
  o.start_time_utc_ms = kT0Ms;
  return o;
}

inline MeterKey key(std::string_view hex = kKeyHex) { return *parse_meter_key(hex); }

/// A real token for `amount_minor` issued at `issued_ms` (the rig's meter key by default).
inline std::string token(std::uint32_t amount_minor, std::int64_t issued_ms,
                         std::string_view key_hex = kKeyHex) {
  TokenFields f;
  f.id = *token_id_at(issued_ms);
  f.amount_minor = amount_minor;
  return *make_token(key(key_hex), f);
}

class Rig {
 public:
  explicit Rig(sdk::testing::FakeHostOptions o = options())
      : host(meter_plugin_entry(), std::move(o)) {}

  void start() {
    ASSERT_EQ(host.create(), sdk::Status::ok) << last_log();
    ASSERT_EQ(host.start(), sdk::Status::ok) << last_log();
  }
  /// An orderly restart on the same NVM (power down and up).
  void restart() {
    ASSERT_EQ(host.stop(), sdk::Status::ok);
    host.destroy();
    start();
  }
  /// One tick of `duration_ms` importing `mwh`; the kernel's import register follows.
  void tick(std::int64_t mwh, std::int64_t duration_ms = 1000) {
    import_mwh += mwh;
    ASSERT_EQ(host.tick(duration_ms, mwh), 0u) << last_log();
    host.set_object(kImport, sdk::Value{import_mwh});
  }
  /// 1 s ticks of `mwh` until the clock reads `until_ms`.
  void run_until(std::int64_t until_ms, std::int64_t mwh) {
    while (host.now_utc_ms() < until_ms) tick(mwh);
  }
  void measure(double current_a, double voltage_v = 240.0) {
    meter_measurements m{};
    m.time_utc_ms = host.now_utc_ms();
    m.phases = 1;
    m.current_a[0] = current_a;
    m.voltage_v[0] = voltage_v;
    ASSERT_EQ(host.publish(m), 0u);
  }
  sdk::Status enter(const std::string& digits) {
    return host.write(kTokenEntry, sdk::Value{digits});
  }

  std::int64_t integer(sdk::Obis id) { return std::get<std::int64_t>(value(id)); }
  std::uint64_t unsigned_value(sdk::Obis id) { return std::get<std::uint64_t>(value(id)); }
  bool boolean(sdk::Obis id) { return std::get<bool>(value(id)); }
  std::string text(sdk::Obis id) { return std::get<std::string>(value(id)); }
  std::int64_t credit() { return integer(kAvailableCredit); }
  /// The relay operations since the last call, as "0:open 1:close".
  std::string relay_operations() {
    std::string out;
    const auto& trips = host.relay_trips();
    for (; seen_trips < trips.size(); ++seen_trips) {
      if (!out.empty()) out += ' ';
      const auto& trip = trips[seen_trips];
      out += std::to_string(trip.relay) + (trip.open ? ":open" : ":close");
    }
    return out;
  }
  /// Plugin events on `topic` so far.
  std::size_t published(std::string_view topic) const {
    std::size_t n = 0;
    for (const auto& [t, payload] : host.published()) n += t == topic ? 1 : 0;
    return n;
  }
  std::string last_log() const {
    return host.log().empty() ? std::string("(no log)") : host.log().back().message;
  }
  bool logged(std::string_view part) const { return log_lines(part) != 0; }
  std::size_t log_lines(std::string_view part) const {
    std::size_t n = 0;
    for (const auto& line : host.log()) n += line.message.find(part) != std::string::npos ? 1 : 0;
    return n;
  }

  sdk::testing::FakeHost host;
  std::int64_t import_mwh = 0;
  std::size_t seen_trips = 0;

 private:
  sdk::Value value(sdk::Obis id) {
    auto v = host.read(id);
    if (!v) {
      ADD_FAILURE() << "object " << sdk::to_string(id) << " cannot be read";
      return sdk::Value{std::int64_t{0}};
    }
    return *v;
  }
};

}  // namespace meter::plugins::prepaid::testing
