// The legal energy registers and the unit they count in.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace meter::kernel {

/// Energy registers in milliwatt-hours (or mvarh). They only ever move forward.
enum class EnergyRegister : std::uint8_t {
  import_active = 1,  ///< +A, delivered to the customer (1-0:1.8.0)
  export_active,      ///< -A, received from the customer (1-0:2.8.0)
  reactive_q1,        ///< +Ri, quadrant I   (1-0:5.8.0)
  reactive_q2,        ///< +Rc, quadrant II  (1-0:6.8.0)
  reactive_q3,        ///< -Ri, quadrant III (1-0:7.8.0)
  reactive_q4,        ///< -Rc, quadrant IV  (1-0:8.8.0)
};
inline constexpr std::size_t kEnergyRegisterCount = 6;

/// Index of a register in the arrays below (import_active is 0).
constexpr std::size_t index_of(EnergyRegister r) noexcept { return static_cast<std::size_t>(r) - 1; }

/// One value per register, in register order.
using RegisterValues = std::array<std::int64_t, kEnergyRegisterCount>;

inline constexpr std::int64_t kNanoPerMilli = 1'000'000;  ///< nWh in one mWh

}  // namespace meter::kernel
