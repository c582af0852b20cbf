// The energy registers.
#include "meter/kernel/registers.h"

#include <fmt/format.h>

namespace meter::kernel {

std::int64_t EnergyRegisters::book(EnergyRegister r, std::int64_t nwh) noexcept {
  const auto i = index_of(r);
  const auto total = state_.remainder_nwh[i] + nwh;
  const auto whole = total / kNanoPerMilli;
  state_.remainder_nwh[i] = total % kNanoPerMilli;
  state_.mwh[i] += whole;
  return whole;
}

RegisterValues EnergyRegisters::apply(std::int64_t active_nwh,
                                      std::int64_t reactive_nvarh) noexcept {
  RegisterValues moved{};
  const bool importing = active_nwh >= 0;
  const bool lagging = reactive_nvarh >= 0;
  const auto active_abs = importing ? active_nwh : -active_nwh;
  const auto reactive_abs = lagging ? reactive_nvarh : -reactive_nvarh;
  const auto active_reg = importing ? EnergyRegister::import_active : EnergyRegister::export_active;
  const auto quadrant = importing ? (lagging ? EnergyRegister::reactive_q1 : EnergyRegister::reactive_q4)
                                  : (lagging ? EnergyRegister::reactive_q2 : EnergyRegister::reactive_q3);
  moved[index_of(active_reg)] = book(active_reg, active_abs);
  moved[index_of(quadrant)] = book(quadrant, reactive_abs);
  return moved;
}

Result<void> EnergyRegisters::restore(const Snapshot& stored) {
  for (std::size_t i = 0; i < kEnergyRegisterCount; ++i) {
    if (stored.mwh[i] < 0) {
      return fail(fmt::format("stored register {} is negative ({} mWh)", i + 1, stored.mwh[i]));
    }
    if (stored.remainder_nwh[i] < 0 || stored.remainder_nwh[i] >= kNanoPerMilli) {
      return fail(fmt::format("stored remainder of register {} is out of range ({} nWh)", i + 1,
                              stored.remainder_nwh[i]));
    }
  }
  state_ = stored;
  return {};
}

Result<void> EnergyRegisters::preset(EnergyRegister r, std::int64_t value_mwh) {
  if (r != EnergyRegister::import_active && r != EnergyRegister::export_active) {
    return fail("only the +kWh and -kWh registers can be reset or preset");
  }
  if (value_mwh < 0) return fail(fmt::format("a register cannot be set negative ({} mWh)", value_mwh));
  if (value_mwh > kMaxPresetMwh) {
    return fail(fmt::format("a preset of {} mWh is beyond the largest reading, {} mWh", value_mwh,
                            kMaxPresetMwh));
  }
  state_.mwh[index_of(r)] = value_mwh;
  state_.remainder_nwh[index_of(r)] = 0;
  return {};
}

}  // namespace meter::kernel
