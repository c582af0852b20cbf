// JSON helpers of the rf_mqtt plugin.
#include "payloads.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>

namespace meter::plugins::rf_mqtt {

std::string utc_text(std::int64_t ms) {
  const std::int64_t s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(static_cast<std::time_t>(s)));
}

std::string_view unit_symbol(std::uint8_t unit) {
  switch (unit) {
    case 27: return "W";
    case 28: return "VA";
    case 29: return "var";
    case 30: return "Wh";
    case 31: return "VAh";
    case 32: return "varh";
    case 33: return "A";
    case 35: return "V";
    case 44: return "Hz";
    default: return {};
  }
}

std::string hex(const std::uint8_t* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0x0F];
  }
  return out;
}

Json value_json(const sdk::Value& value, const std::optional<meter_object_info>& info) {
  Json out = Json::object();
  bool number = false;
  switch (value.index()) {
    case 0: out["value"] = std::get<bool>(value); break;
    case 1:
      out["value"] = std::get<std::int64_t>(value);
      number = true;
      break;
    case 2:
      out["value"] = std::get<std::uint64_t>(value);
      number = true;
      break;
    case 3:
      out["value"] = std::get<double>(value);
      number = true;
      break;
    case 4: out["value"] = std::get<std::string>(value); break;
    default: {
      const auto& bytes = std::get<std::vector<std::uint8_t>>(value);
      out["value"] = hex(bytes.data(), bytes.size());
      out["type"] = "octets";
      break;
    }
  }
  if (number && info) {
    if (info->scaler != 0) out["scaler"] = info->scaler;
    if (const auto symbol = unit_symbol(info->unit); !symbol.empty()) {
      out["unit"] = std::string(symbol);
    }
  }
  return out;
}

std::string_view status_token(sdk::Status status) {
  using sdk::Status;
  switch (status) {
    case Status::ok: return "ok";
    case Status::denied: return "denied";
    case Status::sealed: return "sealed";
    case Status::locked: return "locked";
    case Status::not_found: return "not-found";
    case Status::invalid_argument: return "invalid";
    case Status::type_mismatch: return "type-mismatch";
    case Status::unavailable: return "unavailable";
    default: return "error";
  }
}

std::string dump(const Json& body) {
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace meter::plugins::rf_mqtt
