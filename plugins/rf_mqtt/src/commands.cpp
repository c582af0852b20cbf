// Parsing and executing head-end commands.
#include "commands.h"

#include <cmath>
#include <limits>

namespace meter::plugins::rf_mqtt {

namespace {

constexpr std::size_t kMaxIdChars = 64;
constexpr std::size_t kMaxPasswordChars = 256;

std::optional<Action> action_from_name(std::string_view name) {
  if (name == "ping") return Action::ping;
  if (name == "read") return Action::read;
  if (name == "write") return Action::write;
  if (name == "demand-reset") return Action::demand_reset;
  return std::nullopt;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

ParsedCommand refuse(Json id, std::string error) {
  ParsedCommand out;
  out.id = std::move(id);
  out.error = std::move(error);
  return out;
}

}  // namespace

std::string_view to_string(Action action) {
  switch (action) {
    case Action::ping: return "ping";
    case Action::read: return "read";
    case Action::write: return "write";
    case Action::demand_reset: return "demand-reset";
  }
  return "unknown";
}

std::optional<meter_value_type> type_from_name(std::string_view name) {
  if (name == "boolean") return METER_VALUE_BOOLEAN;
  if (name == "integer") return METER_VALUE_INTEGER;
  if (name == "unsigned") return METER_VALUE_UNSIGNED;
  if (name == "real") return METER_VALUE_REAL;
  if (name == "text") return METER_VALUE_TEXT;
  if (name == "octets") return METER_VALUE_OCTETS;
  return std::nullopt;
}

ParsedCommand parse_command(std::string_view payload) {
  if (payload.size() > kMaxCommandBytes) {
    return refuse(nullptr, "the command is " + std::to_string(payload.size()) +
                               " bytes, more than " + std::to_string(kMaxCommandBytes));
  }
  Json body = Json::parse(payload.begin(), payload.end(), nullptr, false);
  if (body.is_discarded()) return refuse(nullptr, "the command is not JSON");
  if (!body.is_object()) return refuse(nullptr, "the command is not a JSON object");

  Json id = nullptr;
  if (auto it = body.find("id"); it != body.end()) {
    const bool text = it->is_string() && !it->get_ref<const std::string&>().empty() &&
                      it->get_ref<const std::string&>().size() <= kMaxIdChars;
    if (!text && !it->is_number_integer()) {
      return refuse(nullptr, "id must be a string of 1 to 64 characters or an integer");
    }
    id = *it;
  }
  for (const auto& [key, value] : body.items()) {
    if (key != "id" && key != "password" && key != "action" && key != "obis" && key != "value" &&
        key != "type") {
      return refuse(id, "unknown key \"" + key + "\"");
    }
  }
  const auto action_node = body.find("action");
  if (action_node == body.end() || !action_node->is_string()) {
    return refuse(id, "action is required: ping, read, write or demand-reset");
  }
  const auto action = action_from_name(action_node->get_ref<const std::string&>());
  if (!action) {
    return refuse(id, "unknown action \"" + action_node->get<std::string>() +
                          "\" (ping, read, write, demand-reset)");
  }
  Command c;
  c.id = id;
  c.action = *action;
  if (auto it = body.find("password"); it != body.end()) {
    if (!it->is_string() || it->get_ref<const std::string&>().size() > kMaxPasswordChars) {
      return refuse(id, "password must be a string of at most 256 characters");
    }
    c.password = it->get<std::string>();
  }
  const bool takes_obis = c.action == Action::read || c.action == Action::write;
  if (auto it = body.find("obis"); it != body.end()) {
    if (!takes_obis) return refuse(id, std::string(to_string(c.action)) + " takes no obis");
    const auto parsed =
        it->is_string() ? sdk::parse_obis(it->get_ref<const std::string&>()) : std::nullopt;
    if (!parsed) return refuse(id, "obis must be an OBIS code like \"1-0:1.8.0\"");
    c.obis = *parsed;
  } else if (takes_obis) {
    return refuse(id, std::string(to_string(c.action)) + " needs an obis");
  }
  const bool has_value = body.contains("value");
  const bool has_type = body.contains("type");
  if (c.action != Action::write && (has_value || has_type)) {
    return refuse(id, std::string(to_string(c.action)) + " takes no value or type");
  }
  if (c.action == Action::write) {
    if (!has_value) return refuse(id, "write needs a value");
    c.value = body["value"];
    if (has_type) {
      const Json& t = body["type"];
      const auto type =
          t.is_string() ? type_from_name(t.get_ref<const std::string&>()) : std::nullopt;
      if (!type) {
        return refuse(id, "type must be integer, unsigned, real, boolean, text or octets");
      }
      c.type = *type;
      std::string error;
      if (!typed_value(c.value, *type, error)) return refuse(id, error);
    }
  }
  ParsedCommand out;
  out.id = id;
  out.command = std::move(c);
  return out;
}

std::optional<sdk::Value> typed_value(const Json& value, meter_value_type type,
                                      std::string& error) {
  switch (type) {
    case METER_VALUE_BOOLEAN:
      if (value.is_boolean()) return sdk::Value{value.get<bool>()};
      error = "the value must be true or false";
      return std::nullopt;
    case METER_VALUE_INTEGER:
      if (value.is_number_unsigned()) {
        const auto u = value.get<std::uint64_t>();
        if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          return sdk::Value{static_cast<std::int64_t>(u)};
        }
      } else if (value.is_number_integer()) {
        return sdk::Value{value.get<std::int64_t>()};
      }
      error = "the value must be a whole number from -2^63 to 2^63-1";
      return std::nullopt;
    case METER_VALUE_UNSIGNED:
      if (value.is_number_unsigned()) return sdk::Value{value.get<std::uint64_t>()};
      if (value.is_number_integer() && value.get<std::int64_t>() >= 0) {
        return sdk::Value{static_cast<std::uint64_t>(value.get<std::int64_t>())};
      }
      error = "the value must be a whole number of at least 0";
      return std::nullopt;
    case METER_VALUE_REAL:
      if (value.is_number() && std::isfinite(value.get<double>())) {
        return sdk::Value{value.get<double>()};
      }
      error = "the value must be a number";
      return std::nullopt;
    case METER_VALUE_TEXT:
      if (value.is_string()) return sdk::Value{value.get<std::string>()};
      error = "the value must be a string";
      return std::nullopt;
    case METER_VALUE_OCTETS: {
      if (value.is_string()) {
        const auto& text = value.get_ref<const std::string&>();
        std::vector<std::uint8_t> bytes;
        bool ok = text.size() % 2 == 0;
        for (std::size_t i = 0; ok && i < text.size(); i += 2) {
          const int hi = hex_digit(text[i]);
          const int lo = hex_digit(text[i + 1]);
          ok = hi >= 0 && lo >= 0;
          if (ok) bytes.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
        }
        if (ok) return sdk::Value{std::move(bytes)};
      }
      error = "the value must be a string of hex digit pairs";
      return std::nullopt;
    }
    default: error = "the object's type cannot be written"; return std::nullopt;
  }
}

Json execute(sdk::Host& host, const Command& command) {
  using sdk::Status;
  Json reply = {{"id", command.id}, {"action", std::string(to_string(command.action))}};
  if (command.obis) reply["obis"] = sdk::to_string(*command.obis);
  const auto answer = [&reply](Status status, std::string error = {}) {
    reply["status"] = std::string(status_token(status));
    if (!error.empty()) reply["error"] = std::move(error);
    return reply;
  };
  if (command.action == Action::ping) {
    const auto now = host.now().time_since_epoch().count();
    reply["time"] = utc_text(now);
    reply["time_valid"] = host.time_valid();
    reply["uptime_s"] = host.uptime().count() / 1000;
    return answer(Status::ok);
  }

  std::uint64_t session = 0;
  if (command.password) {
    sdk::Host::Logon logon;
    const Status status = host.logon(METER_INTERFACE_COMMS, *command.password, logon);
    if (status != Status::ok) return answer(status, "logon refused");
    session = logon.session;
  }
  // The logon lasts for this command only.
  struct Logoff {
    sdk::Host& host;
    std::uint64_t session;
    ~Logoff() {
      if (session != 0) host.logoff(session);
    }
  } logoff{host, session};

  switch (command.action) {
    case Action::read: {
      sdk::Value value;
      const Status status = host.read_as(session, *command.obis, value);
      if (status != Status::ok) return answer(status);
      const auto described = host.describe(*command.obis);
      std::optional<meter_object_info> info;
      if (described) info = described->info;
      reply.update(value_json(value, info));
      return answer(Status::ok);
    }
    case Action::write: {
      meter_value_type type = 0;
      if (command.type) {
        type = *command.type;
      } else if (const auto described = host.describe(*command.obis)) {
        type = described->info.type;
      } else {
        return answer(Status::not_found);
      }
      std::string error;
      const auto value = typed_value(command.value, type, error);
      if (!value) return answer(Status::type_mismatch, error);
      const Status status = host.write_as(session, *command.obis, *value);
      return answer(status, status == Status::ok ? std::string() : host.last_refusal());
    }
    case Action::demand_reset: {
      const Status status = host.write_as(session, kDemandReset, sdk::Value{true});
      return answer(status, status == Status::ok ? std::string() : host.last_refusal());
    }
    case Action::ping: break;
  }
  return answer(Status::error);
}

}  // namespace meter::plugins::rf_mqtt
