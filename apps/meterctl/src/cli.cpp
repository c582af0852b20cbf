#include "cli.h"

#include <CLI/CLI.hpp>

#include <charconv>
#include <chrono>
#include <ostream>

#include <fmt/format.h>
#include <meter/c1218/transport.h>
#include <meter/c1219/tables.h>

#include "commands.h"
#include "session.h"
#include "values.h"

namespace meter::apps::meterctl {

namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(5);
constexpr unsigned kProbeBaud = 9600;
constexpr int kMaxMultiplier = 240;

template <class Int>
bool whole_number(std::string_view text, Int& out) {
  if (text.empty() || text.front() < '0' || text.front() > '9') return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Two or four digits at `at`.
bool digits(std::string_view text, std::size_t at, std::size_t n, int& out) {
  if (at + n > text.size()) return false;
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    v = v * 10 + (text[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

std::string exit_code_table() {
  return "Exit codes:\n"
         "  0   done\n"
         "  1   the meter refused the request (a value, its setup, not now)\n"
         "  2   bad command line (usage)\n"
         "  3   cannot connect to the meter (TCP, device)\n"
         "  4   link failure: no answer in time, link lost, garbled answers\n"
         "  5   wrong password (security answered isc)\n"
         "  6   the optical port is locked after failed logons (bsy)\n"
         "  7   the optical port is disabled (onp)\n"
         "  8   the session's role may not do this (isc)\n"
         "  9   the meter is sealed (dlk)\n"
         "  10  no such object or table\n";
}

Outcome<Target> parse_connect(std::string_view text) {
  const auto refuse = [&text](std::string_view why) {
    return usage_error(fmt::format("--connect {}: {}; write tcp://HOST:PORT", text, why));
  };
  constexpr std::string_view kScheme = "tcp://";
  if (text.substr(0, kScheme.size()) != kScheme) return refuse("not a tcp:// address");
  std::string_view rest = text.substr(kScheme.size());
  Target t;
  t.kind = Target::Kind::tcp;
  t.text = std::string(text);
  std::size_t colon = 0;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return refuse("an IPv6 address without its ]");
    t.host = std::string(rest.substr(1, close - 1));
    colon = close + 1;
    if (colon >= rest.size() || rest[colon] != ':') return refuse("no port");
  } else {
    colon = rest.rfind(':');
    if (colon == std::string_view::npos) return refuse("no port");
    t.host = std::string(rest.substr(0, colon));
  }
  unsigned port = 0;
  if (t.host.empty()) return refuse("no host");
  if (!whole_number(rest.substr(colon + 1), port) || port == 0 || port > 65535) {
    return refuse("the port is not a number from 1 to 65535");
  }
  t.port = static_cast<std::uint16_t>(port);
  return t;
}

Outcome<std::uint16_t> parse_table(std::string_view text) {
  std::uint16_t base = 0;
  std::string_view number = text;
  if (text.substr(0, 3) == "ST-" || text.substr(0, 3) == "st-") {
    number = text.substr(3);
  } else if (text.substr(0, 3) == "MT-" || text.substr(0, 3) == "mt-") {
    number = text.substr(3);
    base = c1219::table::kManufacturer;
  }
  unsigned n = 0;
  if (!whole_number(number, n) || n + base > 0xFFFF || (base != 0 && n >= base)) {
    return usage_error(fmt::format(
        "\"{}\" is not a table: write a number (0..65535), ST-n or MT-n (MT-n is 2048 + n)",
        text));
  }
  return static_cast<std::uint16_t>(n + base);
}

Outcome<ClockSetting> parse_clock_setting(std::string_view text) {
  const auto refuse = [&text](std::string_view why) {
    return usage_error(fmt::format(
        "\"{}\" is not a time to set: {}; write \"YYYY-MM-DD HH:MM:SS\" (the meter's local "
        "time) or \"YYYY-MM-DDTHH:MM:SSZ\" (UTC), or --now",
        text, why));
  };
  ClockSetting c;
  const bool local = text.size() == 19 && text[10] == ' ';
  c.utc = text.size() == 20 && text[10] == 'T' && text[19] == 'Z';
  if (!local && !c.utc) return refuse("not in the form");
  if (!digits(text, 0, 4, c.year) || text[4] != '-' || !digits(text, 5, 2, c.month) ||
      text[7] != '-' || !digits(text, 8, 2, c.day) || !digits(text, 11, 2, c.hour) ||
      text[13] != ':' || !digits(text, 14, 2, c.minute) || text[16] != ':' ||
      !digits(text, 17, 2, c.second)) {
    return refuse("not in the form");
  }
  if (c.year < 2000 || c.year > 2099) return refuse("the meter keeps years 2000 to 2099");
  const std::chrono::year_month_day date{std::chrono::year{c.year},
                                         std::chrono::month{static_cast<unsigned>(c.month)},
                                         std::chrono::day{static_cast<unsigned>(c.day)}};
  if (!date.ok()) return refuse("no such date");
  if (c.hour > 23 || c.minute > 59 || c.second > 59) return refuse("no such time of day");
  return c;
}

Outcome<BillingRegister> parse_register(std::string_view text) {
  if (text == "+A" || text == "import" || text == "A+") return BillingRegister::import;
  if (text == "-A" || text == "export" || text == "A-") return BillingRegister::exported;
  return usage_error(fmt::format(
      "\"{}\" is not a billing register: write +A (import) or -A (export)", text));
}

Outcome<meter::sdk::Obis> parse_obis_argument(std::string_view text) {
  auto id = meter::sdk::parse_obis(text);
  if (!id) {
    return usage_error(
        fmt::format("\"{}\" is not an OBIS code: write A-B:C.D.E such as 1-0:1.8.0", text));
  }
  return *id;
}

Outcome<int> parse_multiplier(std::string_view text) {
  int n = 0;
  if (!whole_number(text, n) || n < 1 || n > kMaxMultiplier) {
    return usage_error(fmt::format(
        "\"{}\" is not a display multiplier: N is a whole number from 1 to 240", text));
  }
  return n;
}

Parsed parse_arguments(std::vector<std::string> args, std::ostream& out, std::ostream& err) {
  // "-A" (the export register) reads like an option to CLI11: after "reset" or "preset" it is
  // the register ("--" works as well).
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "-A" && (args[i - 1] == "reset" || args[i - 1] == "preset")) args[i] = "export";
  }

  Options o;
  std::string connect_text;
  std::string device;
  std::string password;
  std::vector<std::string> codes;
  std::string table_text;
  std::string time_text;
  bool now = false;
  std::string register_text;
  std::string kwh_text;
  std::string multiplier_text;
  std::string write_obis;
  std::string write_type;

  CLI::App app{
      "meterctl: the meter shop's client for the optical port (ANSI C12.18 PSEM, C12.19 "
      "tables).\nEvery command connects, identifies, negotiates, logs on (with the password "
      "when one is given), does its work, logs off and terminates.",
      "meterctl"};
  app.footer(exit_code_table());
  app.require_subcommand(1, 1);
  app.fallthrough();
  auto* connect_option = app.add_option("--connect", connect_text,
                                        "the meter over TCP: tcp://HOST:PORT (meterd's optical "
                                        "port, 0-0:128.40.0)");
  auto* device_option = app.add_option(
      "--device", device, "the optical probe's serial device or a pty: /dev/ttyUSB0, /dev/pts/N");
  connect_option->excludes(device_option);
  app.add_option("--password", password,
                 "the password (up to 20 characters) that gives the session its role; default: "
                 "$METER_PASSWORD; none: the public role")
      ->envname("METER_PASSWORD");
  app.add_option("--user", o.user, "the user name the logon sends, up to 10 characters")
      ->capture_default_str();

  auto* identify = app.add_subcommand(
      "identify", "the meter's identification: ST-1 (manufacturer, model, firmware, serial), "
                  "ST-5, the seal and the session's role");
  auto* read = app.add_subcommand(
      "read", "objects by OBIS with their units (MP-5 and MT-2; units from MT-0)");
  read->add_option("OBIS", codes, "OBIS codes such as 1-0:1.8.0")->required();
  auto* objects = app.add_subcommand(
      "objects", "the object directory (MT-0): OBIS, type, unit, class, roles");
  auto* table = app.add_subcommand(
      "table", "a table as hex, decoded for ST-1, ST-3, ST-5, ST-23 and ST-52");
  table->add_option("TABLE", table_text, "a table number, ST-n or MT-n")->required();
  auto* offset_option = table->add_option("--offset", o.offset, "first octet of a partial read");
  auto* count_option = table->add_option("--count", o.count, "octets of a partial read");
  offset_option->needs(count_option);
  auto* set_time = app.add_subcommand(
      "set-time", "set the meter's clock (SP-10): --now (this computer's clock, as UTC) or "
                  "\"YYYY-MM-DD HH:MM:SS\" in the meter's local time");
  auto* now_flag = set_time->add_flag("--now", now, "this computer's clock, sent as UTC");
  auto* time_option = set_time->add_option("TIME", time_text,
                                           "\"YYYY-MM-DD HH:MM:SS\" local, or "
                                           "\"YYYY-MM-DDTHH:MM:SSZ\" UTC");
  now_flag->excludes(time_option);
  auto* billing = app.add_subcommand("billing", "billing reset or preset (MP-2)");
  billing->require_subcommand(1, 1);
  auto* reset = billing->add_subcommand("reset", "clear a register: billing reset +A|-A");
  reset->add_option("REGISTER", register_text, "+A (import) or -A (export)")->required();
  auto* preset = billing->add_subcommand(
      "preset", "preload a register: billing preset +A|-A KWH (decimal kWh, exact to the mWh)");
  preset->add_option("REGISTER", register_text, "+A (import) or -A (export)")->required();
  preset->add_option("KWH", kwh_text, "the reading in kWh, such as 12.5")->required();
  auto* multiplier = app.add_subcommand("multiplier", "the display multiplier N (MP-4)");
  multiplier->add_option("N", multiplier_text, "1 to 240")->required();
  auto* led = app.add_subcommand("led", "re-activate the test LED for 24 h (MP-1)");
  auto* demand_reset = app.add_subcommand("demand-reset", "demand reset (SP-9)");
  auto* seal = app.add_subcommand("seal", "set the electronic seal (MP-3)");
  auto* unseal = app.add_subcommand("unseal", "break the electronic seal (MP-3; a calibrator)");
  auto* write = app.add_subcommand("write", "write an object through the meter's gate (MP-6)");
  write->add_option("OBIS", write_obis, "the object")->required();
  write->add_option("TYPE", write_type, "bool, int, uint, real or text")->required();
  write->add_option("VALUE", o.write_text, "the value")->required();
  auto* audit = app.add_subcommand(
      "audit", "print the audit trail 0-0:99.98.0 as a report (the printable copy on site)");

  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    return {std::nullopt, app.exit(e, out, err)};
  } catch (const CLI::CallForAllHelp& e) {
    return {std::nullopt, app.exit(e, out, err)};
  } catch (const CLI::ParseError& e) {
    // An unknown command is left over rather than matched: say so, not "subcommand required".
    if (const auto left = app.remaining(); !left.empty() && app.get_subcommands().empty()) {
      err << "meterctl: \"" << left.front() << "\" is not a command (see meterctl --help)\n";
      return {std::nullopt, code(Exit::usage)};
    }
    err << "meterctl: " << e.what() << " (see meterctl --help)\n";
    return {std::nullopt, code(Exit::usage)};
  }

  std::optional<Failure> failure;
  const auto take = [&failure](auto outcome, auto& into) {
    if (failure) return;
    if (!outcome) {
      failure = outcome.failure();
    } else {
      into = *outcome;
    }
  };

  if (!connect_text.empty()) {
    take(parse_connect(connect_text), o.target);
  } else if (!device.empty()) {
    o.target.kind = Target::Kind::device;
    o.target.path = device;
    o.target.text = device;
  } else {
    failure = usage_error("say where the meter is: --connect tcp://HOST:PORT or --device PATH");
  }
  if (!app.get_option("--password")->empty()) o.password = password;
  if (o.password && o.password->size() > c1218::kPasswordLength) {
    failure = usage_error("a C12.18 password is at most 20 characters");
  }
  if (o.user.size() > c1218::kUserNameLength) {
    failure = usage_error("a C12.18 user name is at most 10 characters");
  }

  if (identify->parsed()) o.command = Command::identify;
  if (read->parsed()) {
    o.command = Command::read;
    for (const auto& c : codes) {
      meter::sdk::Obis id{};
      take(parse_obis_argument(c), id);
      o.objects.push_back(id);
    }
  }
  if (objects->parsed()) o.command = Command::objects;
  if (table->parsed()) {
    o.command = Command::table;
    take(parse_table(table_text), o.table);
    if (o.count && *o.count == 0) failure = usage_error("--count must be at least 1");
    if (o.count && !o.offset) o.offset = 0;
  }
  if (set_time->parsed()) {
    o.command = Command::set_time;
    if (!now && time_text.empty()) {
      failure = usage_error(
          "set-time needs --now or a time: \"YYYY-MM-DD HH:MM:SS\" (the meter's local time)");
    }
    if (!now && !failure) {
      ClockSetting c;
      take(parse_clock_setting(time_text), c);
      o.time = c;
    }
  }
  if (reset->parsed() || preset->parsed()) {
    o.command = reset->parsed() ? Command::billing_reset : Command::billing_preset;
    take(parse_register(register_text), o.billing);
    if (preset->parsed()) take(parse_kwh(kwh_text), o.reading_mwh);
  }
  if (multiplier->parsed()) {
    o.command = Command::multiplier;
    take(parse_multiplier(multiplier_text), o.multiplier);
  }
  if (led->parsed()) o.command = Command::led;
  if (demand_reset->parsed()) o.command = Command::demand_reset;
  if (seal->parsed()) o.command = Command::seal;
  if (unseal->parsed()) o.command = Command::unseal;
  if (write->parsed()) {
    o.command = Command::write;
    take(parse_obis_argument(write_obis), o.write_id);
    take(parse_type(write_type), o.write_type);
    if (!failure) {
      Value checked;
      take(parse_value(o.write_type, o.write_text), checked);
    }
  }
  if (audit->parsed()) o.command = Command::audit;

  if (failure) {
    err << "meterctl: " << failure->message << "\n";
    return {std::nullopt, code(failure->exit)};
  }
  return {std::move(o), 0};
}

Outcome<std::unique_ptr<c1218::Transport>> connect(const Target& target) {
  if (target.kind == Target::Kind::device) {
    auto device = c1218::FdTransport::open_device(target.path, kProbeBaud);
    if (!device) {
      return Failure{Exit::connect, "the optical probe cannot be used: " + device.error().message};
    }
    return std::unique_ptr<c1218::Transport>(
        std::make_unique<c1218::FdTransport>(std::move(*device)));
  }
  auto socket = c1218::tcp_connect(target.host, target.port,
                                   c1218::Clock::now() + kConnectTimeout);
  if (!socket) {
    return Failure{Exit::connect, "no link to the meter: " + socket.error().message};
  }
  return std::unique_ptr<c1218::Transport>(
      std::make_unique<c1218::FdTransport>(std::move(*socket)));
}

int run(const Options& options, const Connector& connector, std::ostream& out,
        std::ostream& err) {
  auto link = connector(options.target);
  if (!link) {
    err << "meterctl: " << link.failure().message << "\n";
    return code(link.failure().exit);
  }
  SessionOptions session_options;
  session_options.user = options.user;
  session_options.password = options.password;
  MeterSession session(**link, session_options);
  Outcome<void> work = session.open();
  if (work) work = run_command(session, options, out, err);
  session.close(err);
  if (!work) {
    if (!work.failure().message.empty()) err << "meterctl: " << work.failure().message << "\n";
    return code(work.failure().exit);
  }
  return code(Exit::ok);
}

int meterctl_main(std::vector<std::string> args, const Connector& connector, std::ostream& out,
                  std::ostream& err) {
  auto parsed = parse_arguments(std::move(args), out, err);
  if (!parsed.options) return parsed.exit;
  return run(*parsed.options, connector, out, err);
}

}  // namespace meter::apps::meterctl
