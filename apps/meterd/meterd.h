// meterd's run: a meter assembled from a board, an SKU and a site, run in real time or on a
// virtual clock as fast as the CPU allows. Benchmarks drive the same MeterRun as the binary.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "meter/kernel/plugin_host.h"
#include "meter/kernel/result.h"
#include "meter/kernel/time.h"

namespace meter::kernel {
class Meter;
}

namespace meter::apps {

struct Supervision;

struct MeterdOptions {
  std::filesystem::path sku;
  std::filesystem::path site;
  std::optional<std::filesystem::path> state_dir;  ///< SQLite store; none: RAM (lost at exit)
  std::uint64_t simulate_s = 0;                    ///< 0: real time
  std::vector<std::filesystem::path> board_dirs;
  std::vector<std::filesystem::path> plugin_dirs;
  /// The OEM's Ed25519 public key as 64 hex digits (main reads a key file into this).
  std::optional<std::string> oem_key_hex;
  /// Module vendors' keys beside the OEM's, each for the plugins it may sign (--key-ring).
  std::vector<kernel::TrustedKey> vendor_keys;
  /// Shared with the supervisor (supervisor.h): the host marks its calls into plugins there,
  /// and the plugins that crashed or hung the meter before are refused. Null: unsupervised.
  Supervision* supervision = nullptr;
  bool progress = false;                           ///< show progress on a terminal
  /// Load and check the configuration, board and plugins (each plugin created, so that it
  /// checks its own settings), then stop: no store is opened, no plugin started, so no socket,
  /// relay, broker or clock is touched.
  bool check_only = false;
  /// Stop at this instant (UTC) rather than after simulate_s: a restarted meter ends where the
  /// first run would have.
  std::optional<kernel::UtcTime> until;
  /// One line per event on stdout, written unbuffered, instead of the report: "start", "tick"
  /// (before the tick's commit), "stopped", "done"; each with the tick number k since the
  /// site's simulation start and the registers (6 x mWh, 6 x remainder nWh).
  bool trace = false;
  /// At the end, the load profile (object 1-0:99.1.0) as CSV into this file.
  std::optional<std::filesystem::path> export_profile;
  /// At the end, print the audit trail (object 0-0:99.98.0 of plugin sealing_audit).
  bool print_audit = false;
  /// How often the store is made durable (fsync), in real time; a killed process loses nothing
  /// in between (the tick journal), a power cut without warning at most this.
  kernel::Milliseconds flush_period = std::chrono::minutes(15);
};

/// Exit statuses: 0 success, 2 configuration refused, 1 anything else.
inline constexpr int kExitConfig = 2;
inline constexpr int kExitFailure = 1;

/// One run of a meter: configuration checked, board driver, and the meter powered.
class MeterRun {
 public:
  /// Loads and checks the configuration and powers the meter up. On failure writes the
  /// diagnostics to `err`, sets `exit_code` and returns null.
  static std::unique_ptr<MeterRun> start(const MeterdOptions& options, std::ostream& err,
                                         int& exit_code);
  ~MeterRun();

  /// Runs ticks until the simulated span is over (real time: until a power failure signal).
  void run();
  /// Runs one tick (and any happening that is due before it). False when the run is over.
  bool step();
  /// The display sequence, registers, plugins, software identification and load totals.
  void report(std::ostream& out);
  /// An orderly power failure: PowerFail on the bus, a durable flush of the store.
  void power_fail();
  /// Writes the load profile plugin's records as CSV. An error when there is no profile.
  bool export_profile(const std::filesystem::path& file, std::ostream& err);
  /// Prints the audit trail as the on-site printed copy. An error when there is no event logger.
  bool print_audit(std::ostream& out, std::ostream& err);

  kernel::Meter& meter();
  std::uint64_t ticks() const noexcept;

  struct State;

 private:
  explicit MeterRun(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

/// The OEM key an --oem-key argument names: the argument itself when it is 64 hex digits, else
/// the contents of the file it names (trailing white space dropped). An error says which was
/// tried and why neither works.
kernel::Result<std::string> oem_key_text(const std::string& argument);

/// Reads a key ring: `[[key]]` tables with `name`, `public_key` (64 hex digits) and `plugins`
/// (the ids it may sign; absent or empty: every plugin). Errors name file, line and column.
kernel::Result<std::vector<kernel::TrustedKey>> load_key_ring(const std::filesystem::path& file);

/// Runs a meter; reports go to `out`, diagnostics to `err`. Returns the exit status.
int run_meterd(const MeterdOptions& options, std::ostream& out, std::ostream& err);

}  // namespace meter::apps
