// meterctl's command line and the run of one command: parse and check the arguments, connect,
// open the session, do the work, close the session, and turn the outcome into a one-line
// message and an exit code. The link is made by a Connector so tests can put an in-process
// meter behind it.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <meter/c1218/client.h>

#include "options.h"
#include "outcome.h"

namespace meter::apps::meterctl {

/// The exit codes as --help and README.md list them.
std::string exit_code_table();

/// "tcp://HOST:PORT" (HOST may be [IPv6]).
Outcome<Target> parse_connect(std::string_view text);
/// "ST-23", "MT-0", "23", "2048".
Outcome<std::uint16_t> parse_table(std::string_view text);
/// "YYYY-MM-DD HH:MM:SS" (the meter's local time) or "YYYY-MM-DDTHH:MM:SSZ" (UTC), a real date
/// in 2000..2099.
Outcome<ClockSetting> parse_clock_setting(std::string_view text);
/// "+A" or "import", "-A" or "export".
Outcome<BillingRegister> parse_register(std::string_view text);
/// An OBIS code as meterd writes them: "1-0:1.8.0".
Outcome<meter::sdk::Obis> parse_obis_argument(std::string_view text);
/// The display multiplier N, 1..240.
Outcome<int> parse_multiplier(std::string_view text);

/// The parsed command line, or the exit code when there is nothing to run (help: 0; a usage
/// error, already printed on `err`: 2).
struct Parsed {
  std::optional<Options> options;
  int exit = 0;
};
/// Parses the arguments after the program name.
Parsed parse_arguments(std::vector<std::string> args, std::ostream& out, std::ostream& err);

using Connector =
    std::function<Outcome<std::unique_ptr<c1218::Transport>>(const Target& target)>;
/// The real link: TCP (5 s to connect) or a serial device at 9600 baud.
Outcome<std::unique_ptr<c1218::Transport>> connect(const Target& target);

/// Connects, opens the session, runs the command and closes; returns the exit code.
int run(const Options& options, const Connector& connector, std::ostream& out, std::ostream& err);

/// parse_arguments, then run.
int meterctl_main(std::vector<std::string> args, const Connector& connector, std::ostream& out,
                  std::ostream& err);

}  // namespace meter::apps::meterctl
