// What the command line asks for, checked before anything is sent to the meter: where the meter
// is, who logs on, and the command with its arguments already parsed (OBIS codes, kWh as mWh,
// the time, the value to write).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <meter/sdk/abi.h>
#include <meter/sdk/obis.h>

namespace meter::apps::meterctl {

/// Where the meter is. Zero is never a kind.
struct Target {
  enum class Kind : std::uint8_t { tcp = 1, device } kind = Kind::tcp;
  std::string host;         ///< tcp
  std::uint16_t port = 0;   ///< tcp
  std::string path;         ///< device: a serial line or a pty
  std::string text;         ///< as given, for messages
};

enum class Command : std::uint8_t {
  identify = 1,
  read,
  objects,
  table,
  set_time,
  billing_reset,
  billing_preset,
  multiplier,
  led,
  demand_reset,
  seal,
  unseal,
  write,
  audit,
};

/// A date and time for SP-10, as typed: local time in the meter's zone, or UTC.
struct ClockSetting {
  int year = 2000;
  int month = 1;
  int day = 1;
  int hour = 0;
  int minute = 0;
  int second = 0;
  bool utc = false;
};

/// Billing registers of MP-2. Zero is never a register.
enum class BillingRegister : std::uint8_t { import = 1, exported = 2 };

struct Options {
  Target target;
  std::optional<std::string> password;  ///< --password or METER_PASSWORD
  std::string user = "meterctl";
  Command command = Command::identify;

  std::vector<meter::sdk::Obis> objects;  ///< read
  std::uint16_t table = 0;                ///< table
  std::optional<std::uint32_t> offset;    ///< table --offset
  std::optional<std::uint32_t> count;     ///< table --count
  std::optional<ClockSetting> time;       ///< set-time; none: --now
  BillingRegister billing = BillingRegister::import;  ///< billing reset, preset
  std::int64_t reading_mwh = 0;           ///< billing preset (0 for reset)
  int multiplier = 1;                     ///< multiplier
  meter::sdk::Obis write_id{};            ///< write
  meter_value_type write_type = METER_VALUE_TEXT;
  std::string write_text;
};

}  // namespace meter::apps::meterctl
