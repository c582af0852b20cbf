// Head-end commands of the rf_mqtt plugin: a JSON command on <prefix>/<id>/cmd is parsed
// strictly (a malformed one is refused and changes nothing) and executed as the comms port,
// through the host's logon and parameter gate; the reply carries the gate's status.
#pragma once

#include <meter/sdk/plugin.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "payloads.h"

namespace meter::plugins::rf_mqtt {

/// The demand plugin's reset object: write `true` (configurator; operational).
inline constexpr sdk::Obis kDemandReset = sdk::obis("0-0:10.0.1");

/// Commands longer than this are refused unread.
inline constexpr std::size_t kMaxCommandBytes = 4096;

enum class Action : std::uint8_t { ping = 1, read, write, demand_reset };

/// "ping", "read", "write", "demand-reset".
std::string_view to_string(Action action);

/// A well-formed command.
struct Command {
  Json id;  ///< the correlation id: a string, an integer, or null when the command had none
  Action action = Action::ping;
  std::optional<std::string> password;   ///< the head-end's comms credential; none: public role
  std::optional<sdk::Obis> obis;         ///< read and write
  Json value;                            ///< write: the value as JSON
  std::optional<meter_value_type> type;  ///< write: the value's type; none: the object's own
};

/// A command, or why it was refused (and the correlation id when one could be read).
struct ParsedCommand {
  std::optional<Command> command;
  Json id;
  std::string error;
};

/// Parses a command's payload. Refuses anything but one JSON object of at most
/// kMaxCommandBytes with the keys id, password, action, obis, value and type as README.md
/// describes them: unknown keys, keys the action does not take and wrong types included.
ParsedCommand parse_command(std::string_view payload);

/// "integer", "unsigned", "real", "boolean", "text", "octets" as a meter_value_type.
std::optional<meter_value_type> type_from_name(std::string_view name);

/// The JSON `value` as a value of `type`; nullopt with `error` set when it is not one.
std::optional<sdk::Value> typed_value(const Json& value, meter_value_type type, std::string& error);

/// Executes `command` as the comms port: logs on with its password (when it has one), reads or
/// writes through the gate with that logon's role, logs off, and returns the reply's body:
/// {"id", "action", "status", ...}. Kernel thread, inside a host callback.
Json execute(sdk::Host& host, const Command& command);

}  // namespace meter::plugins::rf_mqtt
