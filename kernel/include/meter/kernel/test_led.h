// The test (calibration) LED: one pulse per Kh watt-hours of registered active energy.
//
// Pulses are counted from the registered energy itself, with the remainder carried, so pulses x
// Kh equals the energy within one pulse over any period: the LED cannot drift from the
// registers. Within a tick the power is taken as constant, so the tick's pulses are evenly
// spaced and the board's LED driver can time them with a hardware timer.
//
// Seed 000: the LED goes dark 24 h after power-up, can be re-activated for another 24 h without
// a power cycle, and pulses stably within 5 s of power-up (from the first 1 s tick).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "meter/kernel/result.h"
#include "meter/kernel/time.h"

namespace meter::kernel {

using Microseconds = std::chrono::microseconds;

/// The pulses of one tick, timed from the start of the tick.
struct LedPulses {
  std::uint32_t count = 0;
  Microseconds first{};   ///< offset of the first pulse from the start of the tick
  Microseconds period{};  ///< spacing of the following pulses
};

class TestLed {
 public:
  static constexpr Milliseconds kActiveWindow = std::chrono::hours(24);

  /// Kh in Wh per pulse; refused (naming the value) unless finite and in (0, 1000] Wh.
  static Result<TestLed> create(double kh_wh);

  /// Power-up at `now` (uptime): the LED is active for the next 24 h, counting from zero.
  void power_up(Uptime now) noexcept { activate(now); }
  /// Re-activation without a power cycle: another 24 h from `now`.
  void reactivate(Uptime now) noexcept { activate(now); }
  bool active(Uptime now) const noexcept { return now < active_until_; }
  Uptime active_until() const noexcept { return active_until_; }

  /// Books a tick of `energy_nwh` (absolute registered active energy) that ended at `tick_end`
  /// and lasted `duration`. Returns the pulses to emit; only pulses inside the window count.
  LedPulses on_tick(std::int64_t energy_nwh, Uptime tick_end, Milliseconds duration) noexcept;

  /// What is left of the window at `now`; zero once the LED is dark.
  Milliseconds remaining(Uptime now) const noexcept {
    return active(now) ? active_until_ - now : Milliseconds{0};
  }
  /// After a restart that was not a power cycle (a crash): the window continues with what was
  /// left of it (at most 24 h) instead of opening anew.
  void restore(Uptime now, Milliseconds remaining) noexcept {
    active_until_ = now + std::clamp(remaining, Milliseconds{0}, kActiveWindow);
    residual_nwh_ = 0;
  }

  std::int64_t kh_nwh() const noexcept { return kh_nwh_; }
  std::uint64_t pulses_total() const noexcept { return pulses_total_; }
  /// Energy booked since activation that has not yet made a pulse (0 <= r < Kh).
  std::int64_t residual_nwh() const noexcept { return residual_nwh_; }

 private:
  explicit TestLed(std::int64_t kh_nwh) : kh_nwh_(kh_nwh) {}
  void activate(Uptime now) noexcept {
    active_until_ = now + kActiveWindow;
    residual_nwh_ = 0;
  }

  std::int64_t kh_nwh_;
  std::int64_t residual_nwh_ = 0;
  Uptime active_until_{0};
  std::uint64_t pulses_total_ = 0;
};

}  // namespace meter::kernel
