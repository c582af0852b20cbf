// Turns a tick's energy into whole nWh (or nvarh), carrying the fraction to the next tick so
// that rounding never accumulates. Only the carry, always under one unit, crosses ticks.
#pragma once

#include <cmath>
#include <cstdint>

namespace meter::kernel::detail {

class EnergyCarry {
 public:
  /// Whole units of `energy` plus what earlier ticks left over; the new fraction is kept.
  std::int64_t take(double energy) noexcept {
    const double exact = energy + carry_;
    const double whole = std::nearbyint(exact);
    carry_ = exact - whole;
    return static_cast<std::int64_t>(whole);
  }

  double carry() const noexcept { return carry_; }

 private:
  double carry_ = 0;
};

}  // namespace meter::kernel::detail
