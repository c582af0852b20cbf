// The supply as the happenings shape it: which part of a tick has power, and at what voltage.
// Shared by every driver so that power failures and sags mean the same thing on every board.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "meter/boards/driver.h"
#include "meter/kernel/result.h"

namespace meter::boards {

/// The supply during one tick.
struct TickSupply {
  std::int64_t powered_ms = 0;  ///< how much of the tick had power
  double volt_ms = 0;           ///< integral of the voltage (fraction of nominal) over the tick, ms
};

/// Happenings validated and sorted, with a per-tick lookup that costs one comparison while no
/// happening is near.
class Supply {
 public:
  /// Sorts the happenings by time; the error names the happening (by its position in the
  /// list given) and the offending value: a non-positive length, a sag fraction outside
  /// [0, 1], power failures or sags that overlap.
  static kernel::Result<Supply> create(std::vector<Happening> happenings);

  /// The supply over [start_ms, end_ms), times in ms since the epoch.
  TickSupply at(std::int64_t start_ms, std::int64_t end_ms) noexcept;

  const std::vector<Happening>& happenings() const noexcept { return happenings_; }

 private:
  struct Window {
    std::int64_t begin_ms = 0;
    std::int64_t end_ms = 0;
    double voltage_fraction = 0;  // 0: power failure
  };
  std::vector<Happening> happenings_;
  std::vector<Window> windows_;  // power failures and sags, sorted, disjoint
  std::int64_t quiet_begin_ms_ = 0;  // a span known to touch no window
  std::int64_t quiet_end_ms_ = 0;
};

}  // namespace meter::boards
