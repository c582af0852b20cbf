// The rf_mqtt plugin's settings, read once from the host's validated configuration, and the
// OBIS patterns of a reading ("1-0:1.8.*": every 1-0:1.8.E the meter has).
#pragma once

#include <meter/sdk/plugin.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meter::plugins::rf_mqtt {

/// An OBIS code, or a family of them with any value of group E.
struct ObisPattern {
  sdk::Obis id{};
  bool any_e = false;

  bool matches(const sdk::Obis& o) const noexcept {
    return o.a == id.a && o.b == id.b && o.c == id.c && o.d == id.d && (any_e || o.e == id.e) &&
           o.f == id.f;
  }
};

/// "1-0:1.8.0" or "1-0:1.8.*"; nullopt when neither.
std::optional<ObisPattern> parse_pattern(std::string_view text);

struct Settings {
  std::string broker_host;
  int broker_port = 1883;
  std::optional<std::string> meter_id;  ///< unset: read object 0-0:96.1.0 at start
  std::string topic_prefix;
  std::int64_t reading_interval_ms = 0;
  std::vector<ObisPattern> reading_objects;
  int keepalive_s = 60;
  std::chrono::milliseconds connect_timeout{0};
  std::chrono::milliseconds reconnect_min{0};
  std::chrono::milliseconds reconnect_max{0};
  std::size_t outbox_messages = 0;
  std::string username;  ///< empty: none
  std::string password;
  bool events = true;
  bool simulation_link = false;  ///< a simulation connects to the broker only when set
};

/// Reads the settings; throws sdk::Error(invalid_argument), after logging why, when they do not
/// fit together (reconnect_min_s above reconnect_max_s, a password without a user name).
Settings read_settings(const sdk::Host& host);

/// True when `id` may stand in a topic and as a client id: 1..64 of A-Z a-z 0-9 . _ -
bool valid_meter_id(std::string_view id);

}  // namespace meter::plugins::rf_mqtt
