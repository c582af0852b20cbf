#include "commands.h"

#include <algorithm>
#include <chrono>
#include <ostream>

#include <fmt/format.h>
#include <meter/c1219/objects.h>
#include <meter/c1219/procedures.h>
#include <meter/c1219/tables.h>
#include <meter/plugins/sealing_audit/audit_format.h>

#include "decode.h"
#include "values.h"

namespace meter::apps::meterctl {

namespace {

namespace table = c1219::table;
namespace procedure = c1219::procedure;
namespace objects = c1219::objects;

constexpr int kWattHour = 30;
constexpr std::uint8_t kSetTime = 1U << 0;
constexpr std::uint8_t kSetDate = 1U << 1;
constexpr std::uint8_t kSetQualifier = 1U << 2;
constexpr std::uint8_t kGmt = 1U << 4;
constexpr std::uint8_t kDemandReset = 1U << 0;

std::string register_name(BillingRegister r) {
  return r == BillingRegister::import ? "+A (1-0:1.8.0)" : "-A (1-0:2.8.0)";
}

std::string register_short(BillingRegister r) {
  return r == BillingRegister::import ? "+A" : "-A";
}

std::string protocol_name(std::uint8_t standard) {
  switch (standard) {
    case 0: return "ANSI C12.18";
    case 1: return "Industry Canada";
    case 2: return "ANSI C12.21";
    case 3: return "ANSI C12.22";
    default: return fmt::format("standard {}", standard);
  }
}

std::string roles(int mask) {
  if (mask == 0) return "-";
  if ((mask & 0x0F) == 0x0F) return "all";
  static constexpr std::array<const char*, 4> kRoles = {"public", "reader", "configurator",
                                                        "calibrator"};
  std::string out;
  for (std::size_t bit = 0; bit < kRoles.size(); ++bit) {
    if ((mask >> bit) & 1) out += (out.empty() ? "" : ",") + std::string(kRoles[bit]);
  }
  return out;
}

std::string class_name(int c) {
  switch (c) {
    case 1: return "read-only";
    case 2: return "operational";
    case 3: return "configuration";
    case 4: return "calibration";
    default: return fmt::format("class {}", c);
  }
}

// Columns padded to their widest cell, two spaces apart, trailing spaces removed.
void print_columns(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(width[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }
}

std::string table_title(std::uint16_t t) {
  switch (t) {
    case table::kGeneralConfiguration: return "GEN_CONFIG_TBL";
    case table::kManufacturerIdentification: return "GENERAL_MFG_ID_TBL";
    case table::kModeStatus: return "ED_MODE_STATUS_TBL";
    case table::kDeviceIdentification: return "DEVICE_IDENT_TBL";
    case table::kProcedureResponse: return "PROC_RESPONSE_TBL";
    case table::kActualRegister: return "ACT_REGS_TBL";
    case table::kDataSelection: return "DATA_SELECTION_TBL";
    case table::kCurrentRegisterData: return "CURRENT_REG_DATA_TBL";
    case table::kActualTimeTou: return "ACT_TIME_TOU_TBL";
    case table::kClock: return "CLOCK_TBL";
    case table::kTimeOffset: return "TIME_OFFSET_TBL";
    case table::kClockState: return "CLOCK_STATE_TBL";
    case table::kActualLoadProfile: return "ACT_LP_TBL";
    case table::kLoadProfileControl: return "LP_CTRL_TBL";
    case table::kLoadProfileStatus: return "LP_STATUS_TBL";
    case table::kLoadProfileDataSet1: return "LP_DATA_SET1_TBL";
    case table::kActualLog: return "ACT_LOG_TBL";
    case table::kEventsIdentification: return "EVENTS_ID_TBL";
    case table::kHistoryLogControl: return "HIST_LOG_CTRL_TBL";
    case table::kHistoryLogData: return "HIST_LOG_DATA_TBL";
    case table::kEventLogControl: return "EVENT_LOG_CTRL_TBL";
    case table::kEventLogData: return "EVENT_LOG_DATA_TBL";
    case table::kObjectDirectory: return "object directory";
    case table::kSources: return "sources";
    case table::kObjectValue: return "object value";
    case table::kLoadProfileScaling: return "load profile scaling";
    case table::kNameplate: return "nameplate";
    default: return "";
  }
}

Outcome<ManufacturerIdentification> manufacturer_identification(MeterSession& s) {
  auto st1 = s.read_table(table::kManufacturerIdentification);
  if (!st1) return st1.failure();
  auto id = decode_manufacturer_identification(*st1);
  if (!id) {
    return Failure{Exit::link, fmt::format("the meter's ST-1 has {} octets, not 32", st1->size())};
  }
  return *id;
}

// A table identify shows but can do without: its refusal is shown in its place; a link
// failure still ends the command.
Outcome<std::optional<Bytes>> optional_table(MeterSession& s, std::uint16_t t, std::string& why) {
  auto data = s.read_table(t);
  if (data) return std::optional<Bytes>(std::move(*data));
  if (data.failure().exit == Exit::link) return data.failure();
  why = "(" + data.failure().message + ")";
  return std::optional<Bytes>{};
}

constexpr Obis kRefusedPlugins = meter::sdk::obis("0-0:128.9.0");

Outcome<void> identify(MeterSession& s, std::ostream& out) {
  auto id = manufacturer_identification(s);
  if (!id) return id.failure();
  std::string device = "(ST-5 of another size)";
  std::string seal = "(ST-3 of another size)";
  auto st5 = optional_table(s, table::kDeviceIdentification, device);
  if (!st5) return st5.failure();
  if (*st5) {
    if (auto text = decode_device_identification(**st5)) device = *text;
  }
  auto st3 = optional_table(s, table::kModeStatus, seal);
  if (!st3) return st3.failure();
  if (*st3) {
    if (auto text = describe_seal(**st3)) seal = *text;
  }
  // The plugins the meter runs without (a product's plugin refused, one that crashed the
  // meter): object 0-0:128.9.0, on meters that have it.
  std::string refused = "(not provided by this meter)";
  if (auto entry = s.object(kRefusedPlugins); entry) {
    auto value = s.read_object(kRefusedPlugins);
    if (!value && value.failure().exit == Exit::link) return value.failure();
    const auto* text = value ? std::get_if<std::string>(&*value) : nullptr;
    refused = text == nullptr ? "(" + value.failure().message + ")" : text->empty() ? "none" : *text;
  } else if (entry.failure().exit == Exit::link) {
    return entry.failure();
  }
  const auto& identity = s.identity();
  std::vector<std::vector<std::string>> rows = {
      {"protocol:", fmt::format("{}, version {}.{}", protocol_name(identity.standard),
                                identity.version, identity.revision)},
      {"manufacturer:", id->manufacturer},
      {"model:", id->model},
      {"hardware:", fmt::format("{}.{}", id->hw_version, id->hw_revision)},
      {"firmware:", fmt::format("{}.{}", id->fw_version, id->fw_revision)},
      {"serial number:", id->serial_number},
      {"device id:", device},
      {"seal:", seal},
      {"plugins off:", refused},
      {"role:", s.password_given()
                    ? "the password's: reader, configurator or calibrator (C12.18 does not "
                      "say which)"
                    : "public (no password)"},
      {"link:", fmt::format("{}-octet packets, {} per message", s.link().packet_size,
                            s.link().nbr_packets)}};
  print_columns(out, rows);
  return {};
}

void print_value(std::ostream& out, const std::string& name, std::size_t width,
                 const std::string& text) {
  std::string line = name;
  line.append(width - name.size() + 2, ' ');
  // A text of several lines continues under the first one.
  std::string indent(width + 2, ' ');
  for (std::size_t at = 0; at <= text.size();) {
    const auto end = text.find('\n', at);
    line += text.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (end == std::string::npos || end + 1 == text.size()) break;
    out << line << "\n";
    line = indent;
    at = end + 1;
  }
  out << line << "\n";
}

Outcome<void> read(MeterSession& s, const Options& o, std::ostream& out, std::ostream& err) {
  std::size_t width = 0;
  for (const auto& id : o.objects) width = std::max(width, meter::sdk::to_string(id).size());
  std::optional<Failure> first;
  for (const auto& id : o.objects) {
    const std::string name = meter::sdk::to_string(id);
    auto entry = s.object(id);
    Outcome<Value> value = entry ? s.read_object(id) : Outcome<Value>(entry.failure());
    if (!value) {
      if (value.failure().exit == Exit::link) return value.failure();
      err << "meterctl: " << value.failure().message << "\n";
      if (!first) first = Failure{value.failure().exit, ""};
      continue;
    }
    print_value(out, name, width, format_value(*value, entry->unit, entry->scaler));
  }
  if (first) return *first;
  return {};
}

Outcome<void> list_objects(MeterSession& s, std::ostream& out) {
  auto all = s.directory();
  if (!all) return all.failure();
  std::vector<std::vector<std::string>> rows = {
      {"OBIS", "type", "unit", "scaler", "class", "read", "write", "legal"}};
  for (const auto& e : *all) {
    const auto unit = unit_symbol(e.unit);
    rows.push_back({meter::sdk::to_string(e.id), std::string(type_name(e.type)),
                    unit.empty() ? "-" : unit, std::to_string(e.scaler),
                    class_name(e.parameter_class), roles(e.read_roles), roles(e.write_roles),
                    e.legally_relevant ? "yes" : "no"});
  }
  print_columns(out, rows);
  out << all->size() << " objects\n";
  return {};
}

Outcome<void> show_table(MeterSession& s, const Options& o, std::ostream& out) {
  const std::string name = table_name(o.table);
  const std::string title = table_title(o.table);
  Outcome<Bytes> data = o.offset ? s.read_table(o.table, *o.offset, *o.count)
                                 : s.read_table(o.table);
  if (!data) return data.failure();
  if (o.offset) {
    out << fmt::format("{}{}{}: octets {} to {} ({} octets)\n", name, title.empty() ? "" : " ",
                       title, *o.offset, *o.offset + data->size() - 1, data->size());
  } else {
    out << fmt::format("{}{}{}: {} octets\n", name, title.empty() ? "" : " ", title,
                       data->size());
  }
  for (const auto& line : hex_dump(*data, o.offset.value_or(0))) out << line << "\n";
  if (o.offset) return {};

  std::optional<Lines> decoded;
  switch (o.table) {
    case table::kManufacturerIdentification:
      if (auto id = decode_manufacturer_identification(*data)) {
        decoded = Lines{"manufacturer: " + id->manufacturer, "model: " + id->model,
                        fmt::format("hardware: {}.{}", id->hw_version, id->hw_revision),
                        fmt::format("firmware: {}.{}", id->fw_version, id->fw_revision),
                        "serial number: " + id->serial_number};
      }
      break;
    case table::kModeStatus: decoded = describe_mode_status(*data); break;
    case table::kDeviceIdentification:
      if (auto id = decode_device_identification(*data)) decoded = Lines{"identification: " + *id};
      break;
    case table::kClock:
    case table::kClockState:
      if (auto clock = describe_clock(*data)) decoded = Lines{"clock: " + *clock};
      break;
    case table::kCurrentRegisterData: {
      auto st21 = s.read_table(table::kActualRegister);
      if (!st21) return st21.failure();
      auto st22 = s.read_table(table::kDataSelection);
      if (!st22) return st22.failure();
      decoded = describe_register_data(*st21, *st22, *data);
      if (!decoded) decoded = Lines{"(does not match the layout ST-21 and ST-22 give)"};
      break;
    }
    default: break;
  }
  if (decoded) {
    out << "decoded:\n";
    for (const auto& line : *decoded) out << "  " << line << "\n";
  }
  return {};
}

Outcome<void> procedure_done(MeterSession& s, std::uint16_t number, const Bytes& parameters,
                             const std::string& what, std::ostream& out,
                             const std::string& done) {
  auto r = s.run_procedure(number, parameters, what);
  if (!r) return r.failure();
  out << done << "\n";
  return {};
}

Outcome<void> set_time(MeterSession& s, const Options& o, std::ostream& out) {
  const ClockSetting setting = o.time ? *o.time : utc_now();
  auto r = s.run_procedure(procedure::kSetDateTime, set_time_parameters(setting),
                           "setting the time");
  if (!r) return r.failure();
  out << fmt::format("clock set to {:04}-{:02}-{:02} {:02}:{:02}:{:02} {}\n", setting.year,
                     setting.month, setting.day, setting.hour, setting.minute, setting.second,
                     setting.utc ? "UTC" : "local time");
  auto st52 = s.read_table(table::kClock);
  if (!st52) return st52.failure();
  if (auto clock = describe_clock(*st52)) out << "meter clock now: " << *clock << "\n";
  return {};
}

Outcome<void> billing(MeterSession& s, const Options& o, std::ostream& out) {
  const bool reset = o.command == Command::billing_reset;
  const std::string what = fmt::format("billing {} of {}", reset ? "reset" : "preset",
                                       register_short(o.billing));
  const std::string done =
      reset ? fmt::format("billing reset: {} cleared", register_name(o.billing))
            : fmt::format("billing preset: {} set to {}", register_name(o.billing),
                          format_value(Value{o.reading_mwh}, kWattHour, -3));
  return procedure_done(s, procedure::kBillingPreset, billing_parameters(o.billing, o.reading_mwh),
                        what, out, done);
}

Outcome<void> write(MeterSession& s, const Options& o, std::ostream& out) {
  const std::string name = meter::sdk::to_string(o.write_id);
  auto entry = s.object(o.write_id);
  if (!entry) return entry.failure();
  if (entry->type != o.write_type) {
    return usage_error(fmt::format("{} takes a {} value, not {}", name, type_name(entry->type),
                                   type_name(o.write_type)));
  }
  auto value = parse_value(o.write_type, o.write_text);
  if (!value) return value.failure();
  if (auto done = s.write_object(o.write_id, *value, "writing " + name); !done) {
    return done.failure();
  }
  out << fmt::format("{} written: {}\n", name, format_value(*value, entry->unit, entry->scaler));
  return {};
}

Outcome<void> audit(MeterSession& s, std::ostream& out) {
  const std::string name = meter::sdk::to_string(objects::kAuditLog);
  auto entry = s.object(objects::kAuditLog);
  if (!entry) {
    if (entry.failure().exit != Exit::no_such_object) return entry.failure();
    return Failure{Exit::no_such_object,
                   fmt::format("this meter keeps no audit trail (no object {}: its product "
                               "has no sealing_audit plugin)",
                               name)};
  }
  auto id = manufacturer_identification(s);
  if (!id) return id.failure();
  auto value = s.read_object(objects::kAuditLog);
  if (!value) return value.failure();
  const auto* octets = std::get_if<std::vector<std::uint8_t>>(&*value);
  if (octets == nullptr) {
    return Failure{Exit::refused, fmt::format("{} is not an audit log (not octets)", name)};
  }
  std::string report;
  std::string error;
  if (!meter::plugins::sealing_audit::log_octets_to_report(
          octets->data(), octets->size(), report, error,
          fmt::format("{} {} {}", id->manufacturer, id->model, id->serial_number))) {
    return Failure{Exit::refused, fmt::format("the audit trail cannot be read: {}", error)};
  }
  out << report;
  return {};
}

}  // namespace

std::vector<std::uint8_t> set_time_parameters(const ClockSetting& c) {
  const auto mask = static_cast<std::uint8_t>(kSetTime | kSetDate | (c.utc ? kSetQualifier : 0));
  return {mask,
          static_cast<std::uint8_t>(c.year - 2000),
          static_cast<std::uint8_t>(c.month),
          static_cast<std::uint8_t>(c.day),
          static_cast<std::uint8_t>(c.hour),
          static_cast<std::uint8_t>(c.minute),
          static_cast<std::uint8_t>(c.second),
          static_cast<std::uint8_t>(c.utc ? kGmt : 0)};
}

std::vector<std::uint8_t> billing_parameters(BillingRegister which, std::int64_t mwh) {
  std::vector<std::uint8_t> out{static_cast<std::uint8_t>(which)};
  const auto bits = static_cast<std::uint64_t>(mwh);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(bits >> (8 * i)));
  return out;
}

ClockSetting utc_now() {
  using namespace std::chrono;
  const auto now = floor<seconds>(system_clock::now());
  const auto day = floor<days>(now);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> hms{now - day};
  ClockSetting c;
  c.year = static_cast<int>(ymd.year());
  c.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  c.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  c.hour = static_cast<int>(hms.hours().count());
  c.minute = static_cast<int>(hms.minutes().count());
  c.second = static_cast<int>(hms.seconds().count());
  c.utc = true;
  return c;
}

Outcome<void> run_command(MeterSession& s, const Options& o, std::ostream& out,
                          std::ostream& err) {
  switch (o.command) {
    case Command::identify: return identify(s, out);
    case Command::read: return read(s, o, out, err);
    case Command::objects: return list_objects(s, out);
    case Command::table: return show_table(s, o, out);
    case Command::set_time: return set_time(s, o, out);
    case Command::billing_reset:
    case Command::billing_preset: return billing(s, o, out);
    case Command::multiplier:
      return procedure_done(s, procedure::kDisplayMultiplier,
                            {static_cast<std::uint8_t>(o.multiplier)},
                            "setting the display multiplier", out,
                            fmt::format("display multiplier set to {}", o.multiplier));
    case Command::led:
      return procedure_done(s, procedure::kReactivateTestLed, {}, "re-activating the test LED",
                            out, "test LED re-activated for 24 h");
    case Command::demand_reset:
      return procedure_done(s, procedure::kRemoteReset, {kDemandReset}, "the demand reset", out,
                            "demand reset done");
    case Command::seal:
      return procedure_done(s, procedure::kElectronicSeal, {1}, "setting the electronic seal",
                            out, "electronic seal set: the meter is sealed");
    case Command::unseal:
      return procedure_done(s, procedure::kElectronicSeal, {0}, "breaking the electronic seal",
                            out, "electronic seal broken");
    case Command::write: return write(s, o, out);
    case Command::audit: return audit(s, out);
  }
  return usage_error("no command");
}

}  // namespace meter::apps::meterctl
