// Reading and checking the rf_mqtt settings. The host has checked each key against the
// manifest's schema (types, ranges, patterns); what is left is how keys fit together.
#include "settings.h"

#include <meter/sdk/config.h>

namespace meter::plugins::rf_mqtt {

std::optional<ObisPattern> parse_pattern(std::string_view text) {
  ObisPattern p;
  std::string code(text);
  if (code.size() > 2 && code.compare(code.size() - 2, 2, ".*") == 0) {
    p.any_e = true;
    code.replace(code.size() - 1, 1, "0");
  }
  const auto id = sdk::parse_obis(code);
  if (!id) return std::nullopt;
  p.id = *id;
  return p;
}

bool valid_meter_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Settings read_settings(const sdk::Host& host) {
  Settings s;
  s.broker_host = host.config<std::string>("broker_host");
  s.broker_port = host.config<int>("broker_port");
  if (auto id = host.config_or<std::string>("meter_id", {}); !id.empty()) s.meter_id = id;
  s.topic_prefix = host.config<std::string>("topic_prefix");
  s.reading_interval_ms = host.config<std::int64_t>("reading_interval_min") * 60'000;
  for (const auto& node : sdk::config_array(host, "reading_objects")) {
    const auto pattern = parse_pattern(node.value_or(std::string{}));
    if (!pattern) {
      throw sdk::ConfigError("reading_objects", "\"" + node.value_or(std::string{}) +
                                                    "\" is not an OBIS code (1-0:1.8.0)");
    }
    s.reading_objects.push_back(*pattern);
  }
  s.keepalive_s = host.config<int>("keepalive_s");
  s.connect_timeout = std::chrono::seconds(host.config<std::int64_t>("connect_timeout_s"));
  s.reconnect_min = std::chrono::seconds(host.config<std::int64_t>("reconnect_min_s"));
  s.reconnect_max = std::chrono::seconds(host.config<std::int64_t>("reconnect_max_s"));
  s.outbox_messages = host.config<std::size_t>("outbox_messages");
  s.username = host.config_or<std::string>("username", {});
  s.password = host.config_or<std::string>("password", {});
  s.events = host.config<bool>("events");
  s.simulation_link = host.config<bool>("simulation_link");
  if (s.reconnect_min > s.reconnect_max) {
    const std::string why = "reconnect_min_s (" + std::to_string(s.reconnect_min.count() / 1000) +
                            " s) is above reconnect_max_s (" +
                            std::to_string(s.reconnect_max.count() / 1000) + " s)";
    throw sdk::ConfigError("reconnect_min_s", why);
  }
  if (!s.password.empty() && s.username.empty()) {
    throw sdk::ConfigError("password", "a broker password is set without a username");
  }
  return s;
}

}  // namespace meter::plugins::rf_mqtt
