// The seal switches of a simulated board, and the call that hands what a board's switches read
// to the parameter gate.
//
// A simulated board (sim, replay) has the switches its descriptor lists
// (`hardware.seal_switches`); the site file says which read sealed when the run starts
// (`[simulation.seals]`) and when one is broken or applied (`[[simulation.happenings]]` of kind
// seal-broken or seal-applied). A real board reads the same bits from its hardware.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "meter/boards/driver.h"
#include "meter/kernel/gate.h"
#include "meter/kernel/result.h"

namespace meter::boards {

/// What a simulated board's seal switches read at any time of a run.
class SealSchedule {
 public:
  /// `fitted`: the board's switches; `sealed`: those that read sealed from the start; the
  /// seal_broken and seal_applied happenings change one switch each from their time on (the
  /// others are ignored). Refused, naming the switch, when a sealed switch or a happening's
  /// switch is not fitted, or when the electronic seal is named (it is no switch).
  static kernel::Result<SealSchedule> create(const std::vector<kernel::SealKind>& fitted,
                                             const std::vector<kernel::SealKind>& sealed,
                                             const std::vector<Happening>& happenings);

  /// The switches at `at`: a binary search over the changes, no allocation.
  SealSwitches at(kernel::UtcTime at) const noexcept;

 private:
  std::uint8_t fitted_ = 0;
  std::uint8_t initial_ = 0;
  std::vector<std::pair<kernel::UtcTime, std::uint8_t>> changes_;  // time order; sealed bits
};

/// Hands the switches to the gate: each fitted switch as it reads and each switch the board
/// does not have as broken, so that a seal the store kept from another board cannot linger.
/// The gate publishes SealChanged (and keeps the state in NVM) only for a switch that changed.
void apply_seal_switches(const SealSwitches& switches, kernel::ParameterGate& gate);

/// "cover", "programming-jumper", "optical-plug", "electronic": as configuration spells them.
const char* seal_switch_name(kernel::SealKind kind) noexcept;

}  // namespace meter::boards
