// The legal energy registers: integer milliwatt-hours with sub-unit remainders carried, so that
// the registers are always the exact sum of what metrology measured. They only move forward.
#pragma once

#include <cstdint>

#include "meter/kernel/energy.h"
#include "meter/kernel/result.h"

namespace meter::kernel {

class EnergyRegisters {
 public:
  /// Everything needed to restore the registers after a power failure.
  struct Snapshot {
    RegisterValues mwh{};
    RegisterValues remainder_nwh{};  ///< 0 <= r < 1 000 000
  };

  /// Books one tick: active energy (signed, +import) to import or export, reactive energy to
  /// the quadrant given by the signs of both. Returns how far each register moved, in mWh.
  RegisterValues apply(std::int64_t active_nwh, std::int64_t reactive_nvarh) noexcept;

  std::int64_t mwh(EnergyRegister r) const noexcept { return state_.mwh[index_of(r)]; }
  const RegisterValues& totals_mwh() const noexcept { return state_.mwh; }
  /// Net active energy, import minus export. Derived, so it may go down.
  std::int64_t net_mwh() const noexcept {
    return mwh(EnergyRegister::import_active) - mwh(EnergyRegister::export_active);
  }
  /// Energy including the sub-mWh remainder, in nWh.
  std::int64_t exact_nwh(EnergyRegister r) const noexcept {
    return state_.mwh[index_of(r)] * kNanoPerMilli + state_.remainder_nwh[index_of(r)];
  }

  const Snapshot& snapshot() const noexcept { return state_; }
  /// Restores stored registers at start-up. Refused when a value is negative or a remainder out
  /// of range: a damaged store must never become a meter reading.
  Result<void> restore(const Snapshot& stored);

  /// The largest reading a preset may set: 999 999 999.999 kWh. A meter booking 100 kW for a
  /// century from there stays nine thousand times below the int64 register's limit.
  static constexpr std::int64_t kMaxPresetMwh = 999'999'999'999'999;

  /// Billing reset or preset (meter shop, through the parameter gate only): sets an active
  /// register to `value_mwh`, clearing its remainder. Refused for negative values and above
  /// kMaxPresetMwh.
  Result<void> preset(EnergyRegister r, std::int64_t value_mwh);

 private:
  std::int64_t book(EnergyRegister r, std::int64_t nwh) noexcept;
  Snapshot state_;
};

}  // namespace meter::kernel
