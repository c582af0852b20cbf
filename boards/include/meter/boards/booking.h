// Books one tick's energy into LoadTotals exactly the way the kernel's registers book it, so a
// driver's fed() can be compared with the registers to the nWh.
#pragma once

#include <cstdint>

#include "meter/boards/driver.h"

namespace meter::boards {

/// Adds one tick: the elements' signed active energy summed (+import), then import or export by
/// its sign; the reactive energy to the quadrant given by the signs of both (as
/// kernel::EnergyRegisters::apply does).
inline void book_tick(LoadTotals& totals, std::int64_t active_nwh,
                      std::int64_t reactive_nvarh) noexcept {
  using kernel::EnergyRegister;
  const bool importing = active_nwh >= 0;
  const bool lagging = reactive_nvarh >= 0;
  const auto active = importing ? EnergyRegister::import_active : EnergyRegister::export_active;
  const auto quadrant = importing ? (lagging ? EnergyRegister::reactive_q1 : EnergyRegister::reactive_q4)
                                  : (lagging ? EnergyRegister::reactive_q2 : EnergyRegister::reactive_q3);
  totals.nwh[kernel::index_of(active)] += importing ? active_nwh : -active_nwh;
  totals.nwh[kernel::index_of(quadrant)] += lagging ? reactive_nvarh : -reactive_nvarh;
  ++totals.ticks;
}

}  // namespace meter::boards
