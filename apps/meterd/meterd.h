// meterd's run: a meter assembled from a board, an SKU and a site, run in real time or on a
// virtual clock as fast as the CPU allows.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace meter::apps {

struct MeterdOptions {
  std::filesystem::path sku;
  std::filesystem::path site;
  std::optional<std::filesystem::path> state_dir;  ///< SQLite store; none: RAM (lost at exit)
  std::uint64_t simulate_s = 0;                    ///< 0: real time
  std::vector<std::filesystem::path> board_dirs;
  std::vector<std::filesystem::path> plugin_dirs;
  std::optional<std::filesystem::path> oem_key;    ///< hex Ed25519 public key file
  bool progress = false;                           ///< show progress on a terminal
  bool check_only = false;                         ///< load and check the configuration, then stop
};

/// Exit statuses: 0 success, 2 configuration refused, 1 anything else.
inline constexpr int kExitConfig = 2;

/// Runs a meter; reports go to `out`, diagnostics to `err`.
int run_meterd(const MeterdOptions& options, std::ostream& out, std::ostream& err);

}  // namespace meter::apps
