// The demand engine: block-interval and sliding-window demand for up to four quantities (an
// energy register, total or one TOU rate), maxima with their times, cumulative demand, demand
// reset with a lockout, the 24 h rule and cold-load pickup. No host in sight, so the plugin,
// its tests and the benchmark drive the same code; persistence is the plugin's, the engine
// only serialises its state.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <meter/sdk/abi.h>

namespace meter::plugins::demand {

inline constexpr std::size_t kMaxQuantities = 4;
inline constexpr std::size_t kMaxSubintervals = 15;
inline constexpr std::size_t kRates = 4;

/// The energy register a quantity integrates; the value is its OBIS C field. Zero is invalid.
enum class Register : std::uint8_t { import_active = 1, export_active = 2 };

/// One demand quantity: a register, total (rate 0, OBIS E = 0) or rate 1..4 (A..D, E = rate).
struct Quantity {
  Register reg = Register::import_active;
  std::uint8_t rate = 0;
};

/// Bits of an interval's (or the engine's) status, object 0-0:128.20.0.
enum : std::uint32_t {
  kFlagPowerFail = 1u << 0,       ///< a power failure (or a stretch without ticks) in the interval
  kFlagTimeChanged = 1u << 1,     ///< a time change ended the interval early; no demand from it
  kFlagPartial = 1u << 2,         ///< began after its aligned start (start-up, re-alignment)
  kFlagTimeUnknown = 1u << 3,     ///< the clock did not know the time during the interval
  kFlagAwaitingSync = 1u << 4,    ///< 24 h rule: no demand until a time synchronisation
  kFlagColdLoad = 1u << 5,        ///< cold-load pickup deferral after a power restore
  kFlagLockout = 1u << 6,         ///< state only: a demand reset is locked out now
};

/// What the engine computes.
struct Settings {
  std::int64_t interval_s = 900;      ///< demand interval (the window, when sliding)
  std::uint32_t subintervals = 1;     ///< 1: block interval; n > 1: sliding window of n
  std::int64_t sync_outage_ms = 86'400'000;  ///< a longer outage needs a time sync
  std::uint32_t cold_load_intervals = 0;     ///< demand intervals deferred after a restore
  std::int64_t reset_lockout_ms = 3'600'000; ///< metered time after a reset that refuses another
  std::vector<Quantity> quantities;
};

/// Empty when `s` is usable, else what is wrong with it.
std::string check_settings(const Settings& s);

/// The values of one quantity, milliwatts; times in ms since the epoch (0: none).
struct QuantityValues {
  std::int64_t present_mw = 0;
  std::int64_t previous_mw = 0;
  std::int64_t maximum_mw = 0;
  std::int64_t maximum_time_ms = 0;
  std::int64_t cumulative_mw = 0;
  std::int64_t continuous_cumulative_mw = 0;
};

/// Average demand in mW of `energy_mwh` over `interval_s` (rounded toward zero).
constexpr std::int64_t demand_mw(std::int64_t energy_mwh, std::int64_t interval_s) noexcept {
  return energy_mwh * 3600 / interval_s;
}

/// The demand calculator. Single-threaded; the tick path never allocates or throws.
class Engine {
 public:
  /// `settings` must pass check_settings. The open interval is unplaced until resume().
  explicit Engine(const Settings& settings);

  /// Places the open interval at `now_ms` when the meter (or the plugin) starts: after a
  /// restored state it closes what ended while it was off (flagged power failure); otherwise
  /// the first interval is partial and gives no demand.
  void resume(std::int64_t now_ms, bool time_valid) noexcept;

  /// Adds one tick's energy; closes the subinterval that ends at or before the tick's end.
  void on_tick(const meter_energy_tick& t) noexcept {
    const std::int64_t at = t.time_utc_ms;
    if (t.time_valid == 0 || at > open_end_ms_ || at <= last_ms_ ||
        at - t.duration_ms > last_ms_ + kGapToleranceMs) [[unlikely]] {
      if (!place_tick(t)) return;
    }
    last_ms_ = at;
    last_delta_mwh_[0] = t.delta_mwh[0];
    last_delta_mwh_[1] = t.delta_mwh[1];
    last_in_open_ = true;
    for (std::size_t q = 0; q < count_; ++q) {
      if (rate_[q] == 0 || rate_[q] == current_rate_) open_mwh_[q] += t.delta_mwh[reg_index_[q]];
    }
    if (lockout_remaining_ms_ > 0) [[unlikely]] lockout_remaining_ms_ -= t.duration_ms;
    if (at == open_end_ms_) [[unlikely]] close_subinterval();
  }

  /// A power failure: the open interval is flagged.
  void on_power_fail() noexcept { open_flags_ |= kFlagPowerFail; }
  /// Power is back after `outage_ms`: flags the interval, starts the cold-load deferral, and
  /// after a long outage stops demand until a time synchronisation.
  void on_power_restore(std::int64_t restore_ms, std::int64_t outage_ms) noexcept;
  /// The clock was set: the open interval is dropped (no demand from it), intervals re-align
  /// to the new time, and a pending 24 h rule is lifted.
  void on_time_changed(std::int64_t new_ms, bool time_valid) noexcept;
  /// The TOU rate now in force (1..4); when `time_ms` is the end of the last tick (the tick
  /// the publisher metered in the new rate) and that tick is still open, it moves too.
  void on_rate_changed(std::int32_t rate, std::int64_t time_ms) noexcept;

  /// Demand reset: maxima fold into cumulative demand and clear. False (and nothing changes)
  /// during the lockout.
  bool reset(std::int64_t now_ms) noexcept;

  QuantityValues values(std::size_t q) const noexcept;
  const Settings& settings() const noexcept { return settings_; }
  std::size_t quantities() const noexcept { return count_; }
  /// Flags of the last closed interval (window) plus the state bits in force now.
  std::uint32_t status() const noexcept;
  std::uint64_t reset_count() const noexcept { return reset_count_; }
  std::int64_t last_reset_ms() const noexcept { return last_reset_ms_; }
  std::int64_t lockout_remaining_ms() const noexcept {
    return lockout_remaining_ms_ > 0 ? lockout_remaining_ms_ : 0;
  }
  bool awaiting_time_sync() const noexcept { return awaiting_sync_; }
  std::int32_t current_rate() const noexcept { return current_rate_; }
  /// End of the open subinterval, ms since the epoch.
  std::int64_t open_end_ms() const noexcept { return open_end_ms_; }
  /// Subintervals closed since construction: the plugin saves when it moves.
  std::uint64_t closures() const noexcept { return closures_; }

  /// The whole state as bytes, and back. restore_state keeps what still fits when the
  /// interval settings or the quantity list changed (maxima and cumulative values by
  /// quantity, the reset count and lockout); false when the bytes are not a state at all.
  std::vector<std::uint8_t> state() const;
  /// The same bytes over `out`, resized to state_size() (which allocates only when it was
  /// smaller): the per-tick save, from one reused buffer, with stores only.
  void write_state(std::vector<std::uint8_t>& out) const;
  /// Bytes of the state; fixed by the settings.
  std::size_t state_size() const noexcept { return state_size_; }
  bool restore_state(const std::uint8_t* data, std::size_t size);

 private:
  static constexpr std::int64_t kGapToleranceMs = 1500;

  template <class W>
  W serialise(W w) const noexcept;
  bool place_tick(const meter_energy_tick& t) noexcept;
  void close_subinterval() noexcept;
  void advance_to(std::int64_t target_end_ms, bool dark) noexcept;
  void catch_up(std::int64_t now_ms) noexcept;
  void align(std::int64_t at_ms, bool partial) noexcept;
  bool open_counts() const noexcept;
  std::int64_t aligned_end(std::int64_t at_ms) const noexcept;

  Settings settings_;
  std::size_t count_ = 0;
  std::int64_t sub_ms_ = 0;
  std::uint32_t n_ = 1;
  std::array<std::uint8_t, kMaxQuantities> rate_{};
  std::array<std::uint8_t, kMaxQuantities> reg_index_{};

  // The open subinterval and the window.
  std::array<std::int64_t, kMaxQuantities> open_mwh_{};
  std::array<std::array<std::int64_t, kMaxSubintervals>, kMaxQuantities> ring_mwh_{};
  std::array<std::uint32_t, kMaxSubintervals> ring_flags_{};
  std::uint32_t ring_pos_ = 0;
  std::uint32_t ring_valid_ = 0;
  std::int64_t open_end_ms_ = 0;
  std::int64_t last_ms_ = 0;
  std::uint32_t open_flags_ = kFlagPartial;
  bool placed_ = false;
  bool time_unknown_ = false;
  bool awaiting_sync_ = false;
  std::uint32_t cold_load_remaining_ = 0;
  std::int32_t current_rate_ = 0;
  std::array<std::int64_t, 2> last_delta_mwh_{};
  bool last_in_open_ = false;

  // Results.
  std::array<std::int64_t, kMaxQuantities> previous_mw_{};
  std::array<std::int64_t, kMaxQuantities> maximum_mw_{};
  std::array<std::int64_t, kMaxQuantities> maximum_time_ms_{};
  std::array<std::int64_t, kMaxQuantities> cumulative_mw_{};
  std::uint32_t last_flags_ = 0;
  std::uint64_t reset_count_ = 0;
  std::int64_t last_reset_ms_ = 0;
  std::int64_t lockout_remaining_ms_ = 0;
  std::uint64_t closures_ = 0;
  std::size_t state_size_ = 0;
};

}  // namespace meter::plugins::demand
