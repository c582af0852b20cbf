// The JSON the rf_mqtt plugin puts on the wire (README.md, "Topics and payloads"): times,
// object values with their scaler and unit, the reply statuses, and the events' bodies.
// nlohmann::json writes and parses; nothing here talks to the broker.
#pragma once

#include <meter/sdk/plugin.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace meter::plugins::rf_mqtt {

using Json = nlohmann::json;

/// "2026-01-05T17:15:00Z" (UTC, whole seconds, rounded down).
std::string utc_text(std::int64_t ms);

/// A DLMS/COSEM unit's symbol ("Wh", "W", "V"); empty for 255 (none) and units it does not know.
std::string_view unit_symbol(std::uint8_t unit);

/// An object's value as the head-end receives it: {"value": v} plus "scaler" and "unit" for
/// numbers whose description has them, and "type": "octets" with a hex string for octets.
Json value_json(const sdk::Value& value, const std::optional<meter_object_info>& info);

/// The short token a reply carries for a host status: ok, denied, sealed, locked, not-found,
/// invalid, type-mismatch, unavailable, error.
std::string_view status_token(sdk::Status status);

/// The body serialised for the wire: compact, invalid UTF-8 replaced rather than thrown on.
std::string dump(const Json& body);

/// Lower-case hex of bytes.
std::string hex(const std::uint8_t* data, std::size_t size);

}  // namespace meter::plugins::rf_mqtt
