// The replay board: a recorded CSV of per-element power fed to the kernel as chip readings.
//
// The file has a header row naming its columns, in any order:
//   timestamp        ISO 8601 (2026-06-01T00:15:00Z, an offset such as -05:00, or a space for
//                    the T; no zone means UTC) or epoch seconds; strictly increasing
//   pN_w             mean active power of element N (1..3) over the row, W, +import
//   qN_var           optional: mean reactive power, var, +lagging (0 when absent)
//   vN_v, iN_a       optional: RMS voltage and current (nominal voltage and S/V when absent)
// A row covers the time from its timestamp to the next row's; the last row lasts as long as
// the one before it. Blank lines and lines starting with '#' are skipped.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "meter/boards/driver.h"
#include "meter/kernel/result.h"
#include "meter/kernel/service.h"

namespace meter::boards::replay {

struct ReplayConfig {
  std::string path;                                       ///< the CSV file
  const kernel::ServiceConfiguration* service = nullptr;  ///< required; its element count must
                                                          ///< match the file's pN_w columns
  double nominal_voltage_v = 240;  ///< reported voltage when the file has no vN_v column
  double frequency_hz = 60;
  /// nWh per LSB of the readings; must equal the metrology's energy_nwh_per_lsb.
  std::uint32_t energy_nwh_per_lsb = 1000;
  std::vector<Happening> happenings;  ///< supply, clock and seal happenings
  /// The board's seal switches and those that read sealed when the run starts, as for the sim
  /// board (seals.h); seal happenings change them.
  std::vector<kernel::SealKind> seal_switches;
  std::vector<kernel::SealKind> sealed;
};

/// Reads and checks the whole file. Errors name the file, the line and the column ("day.csv:14:
/// column p2_w: 'abc' is not a number").
kernel::Result<std::unique_ptr<Driver>> make_replay_driver(const ReplayConfig& config);

}  // namespace meter::boards::replay
