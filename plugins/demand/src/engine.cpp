// The demand engine: interval placement and closing, window sums, maxima, reset, and the state
// layout kept in NVM.
#include "engine.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <type_traits>

namespace meter::plugins::demand {
namespace {

constexpr std::uint32_t kStateMagic = 0x444D4431;  // "DMD1"

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Integers are stored little-endian: as they are in memory on the targets we build for, and
// byte by byte on any other.
template <class T>
void store_le(std::uint8_t* p, T v) noexcept {
  static_assert(std::is_integral_v<T>);
  const auto u = static_cast<std::make_unsigned_t<T>>(v);
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &u, sizeof u);
  } else {
    for (std::size_t i = 0; i < sizeof u; ++i) p[i] = static_cast<std::uint8_t>(u >> (8 * i));
  }
}

template <class T>
T load_le(const std::uint8_t* p) noexcept {
  static_assert(std::is_integral_v<T>);
  using U = std::make_unsigned_t<T>;
  U u = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&u, p, sizeof u);
  } else {
    for (std::size_t i = 0; i < sizeof u; ++i) u = static_cast<U>(u | U(p[i]) << (8 * i));
  }
  return static_cast<T>(u);
}

// Writes over a buffer already of the state's size, so the per-tick save is stores only.
class Writer {
 public:
  explicit Writer(std::uint8_t* out) noexcept : at_(out) {}
  template <class T>
  void put(T v) noexcept {
    store_le(at_, v);
    at_ += sizeof(T);
  }

 private:
  std::uint8_t* at_;
};

// Counts what a Writer would write: the state's size, once, at construction.
class Counter {
 public:
  template <class T>
  void put(T) noexcept {
    size_ += sizeof(T);
  }
  std::size_t size() const noexcept { return size_; }

 private:
  std::size_t size_ = 0;
};

class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  template <class T>
  bool get(T& v) {
    if (size_ - pos_ < sizeof(T)) return false;
    v = load_le<T>(data_ + pos_);
    pos_ += sizeof(T);
    return true;
  }
  bool done() const { return pos_ == size_; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string check_settings(const Settings& s) {
  if (s.interval_s <= 0 || 3600 % s.interval_s != 0) {
    return "interval: the demand interval must divide an hour (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, "
           "30 or 60 min)";
  }
  if (s.subintervals < 1 || s.subintervals > kMaxSubintervals) {
    return "subintervals: 1 (block interval) to 15 (sliding window)";
  }
  if (s.interval_s % s.subintervals != 0) {
    return "subintervals: the interval must divide into whole-second subintervals";
  }
  if (s.quantities.empty() || s.quantities.size() > kMaxQuantities) {
    return "quantities: 1 to 4 demand quantities";
  }
  for (std::size_t i = 0; i < s.quantities.size(); ++i) {
    const Quantity& q = s.quantities[i];
    if (q.reg != Register::import_active && q.reg != Register::export_active) {
      return "quantities: the register is 1-0:1.8.0 or 1-0:2.8.0";
    }
    if (q.rate > kRates) return "quantities: the rate is total or A..D";
    for (std::size_t j = 0; j < i; ++j) {
      if (s.quantities[j].reg == q.reg && s.quantities[j].rate == q.rate) {
        return "quantities: quantity " + std::to_string(i + 1) + " repeats quantity " +
               std::to_string(j + 1);
      }
    }
  }
  if (s.sync_outage_ms < 0 || s.reset_lockout_ms < 0) return "negative time setting";
  return {};
}

Engine::Engine(const Settings& settings)
    : settings_(settings),
      count_(settings.quantities.size()),
      sub_ms_(settings.interval_s * 1000 / settings.subintervals),
      n_(settings.subintervals) {
  for (std::size_t q = 0; q < count_; ++q) {
    rate_[q] = settings.quantities[q].rate;
    reg_index_[q] = static_cast<std::uint8_t>(settings.quantities[q].reg) - 1;
  }
  state_size_ = serialise(Counter{}).size();
}

std::int64_t Engine::aligned_end(std::int64_t at_ms) const noexcept {
  return floor_div(at_ms, sub_ms_) * sub_ms_ + sub_ms_;
}

bool Engine::open_counts() const noexcept {
  return (open_flags_ & (kFlagPartial | kFlagTimeUnknown | kFlagTimeChanged)) == 0 &&
         !awaiting_sync_ && !time_unknown_ && cold_load_remaining_ == 0;
}

void Engine::align(std::int64_t at_ms, bool partial) noexcept {
  open_end_ms_ = aligned_end(at_ms);
  open_mwh_.fill(0);
  open_flags_ = partial ? kFlagPartial : 0u;
  if (partial) ring_valid_ = 0;
  last_ms_ = at_ms;
  last_in_open_ = false;
}

void Engine::resume(std::int64_t now_ms, bool time_valid) noexcept {
  if (!time_valid) {
    time_unknown_ = true;
    open_flags_ |= kFlagTimeUnknown;
    placed_ = true;
    return;
  }
  if (!placed_) {
    placed_ = true;
    align(now_ms, floor_div(now_ms, sub_ms_) * sub_ms_ != now_ms);
    return;
  }
  catch_up(now_ms);
}

void Engine::catch_up(std::int64_t now_ms) noexcept {
  if (time_unknown_) return;
  if (now_ms < last_ms_) {
    last_flags_ = open_flags_ | kFlagTimeChanged;
    align(now_ms, true);
    return;
  }
  if (now_ms > last_ms_ + kGapToleranceMs) {
    open_flags_ |= kFlagPowerFail;
    if (now_ms >= open_end_ms_) advance_to(aligned_end(now_ms), true);
  }
  last_ms_ = now_ms;
}

bool Engine::place_tick(const meter_energy_tick& t) noexcept {
  const std::int64_t at = t.time_utc_ms;
  if (t.time_valid == 0) {
    time_unknown_ = true;
    open_flags_ |= kFlagTimeUnknown;
    return false;
  }
  if (time_unknown_ || !placed_) {
    // The time is known again (or for the first time): intervals start from here.
    const std::uint32_t carried = open_flags_ & kFlagTimeUnknown;
    time_unknown_ = false;
    placed_ = true;
    align(at - t.duration_ms, true);
    open_flags_ |= carried;
    return true;
  }
  if (at <= last_ms_) {
    // The clock went back without a TimeChanged: like one, and no demand from the interval.
    last_flags_ = open_flags_ | kFlagTimeChanged;
    align(at - t.duration_ms, true);
    return true;
  }
  const bool gap = at - t.duration_ms > last_ms_ + kGapToleranceMs;
  if (gap) open_flags_ |= kFlagPowerFail;
  if (at > open_end_ms_) advance_to(aligned_end(at - 1), gap);
  return true;
}

void Engine::advance_to(std::int64_t target_end_ms, bool dark) noexcept {
  std::int64_t steps = (target_end_ms - open_end_ms_) / sub_ms_;
  close_subinterval();
  // Subintervals wholly without power hold no energy; a window of them is enough.
  for (std::int64_t i = 1; i < steps && i <= static_cast<std::int64_t>(n_); ++i) {
    if (dark) open_flags_ |= kFlagPowerFail;
    close_subinterval();
  }
  open_end_ms_ = target_end_ms;
  if (dark) open_flags_ |= kFlagPowerFail;
}

void Engine::close_subinterval() noexcept {
  const bool counted = open_counts();
  std::uint32_t flags = open_flags_;
  if (awaiting_sync_) flags |= kFlagAwaitingSync;
  if (time_unknown_) flags |= kFlagTimeUnknown;
  if (cold_load_remaining_ > 0) {
    flags |= kFlagColdLoad;
    --cold_load_remaining_;
  }
  for (std::size_t q = 0; q < count_; ++q) {
    ring_mwh_[q][ring_pos_] = open_mwh_[q];
    open_mwh_[q] = 0;
  }
  ring_flags_[ring_pos_] = flags;
  ring_pos_ = (ring_pos_ + 1) % n_;
  ring_valid_ = counted ? std::min(ring_valid_ + 1, n_) : 0;
  if (ring_valid_ == n_) {
    std::uint32_t window_flags = 0;
    for (std::uint32_t i = 0; i < n_; ++i) window_flags |= ring_flags_[i];
    for (std::size_t q = 0; q < count_; ++q) {
      std::int64_t energy_mwh = 0;
      for (std::uint32_t i = 0; i < n_; ++i) energy_mwh += ring_mwh_[q][i];
      const std::int64_t d = demand_mw(energy_mwh, settings_.interval_s);
      previous_mw_[q] = d;
      if (d > maximum_mw_[q]) {
        maximum_mw_[q] = d;
        maximum_time_ms_[q] = open_end_ms_;
      }
    }
    last_flags_ = window_flags;
  } else {
    last_flags_ = flags | (counted ? kFlagPartial : 0u);
  }
  open_flags_ = 0;
  open_end_ms_ += sub_ms_;
  last_in_open_ = false;
  ++closures_;
}

void Engine::on_power_restore(std::int64_t restore_ms, std::int64_t outage_ms) noexcept {
  // Intervals that passed in the dark close first, so they do not use up the deferral.
  if (placed_) catch_up(restore_ms);
  open_flags_ |= kFlagPowerFail;
  if (outage_ms > settings_.sync_outage_ms) awaiting_sync_ = true;
  cold_load_remaining_ = settings_.cold_load_intervals * n_;
}

void Engine::on_time_changed(std::int64_t new_ms, bool time_valid) noexcept {
  awaiting_sync_ = false;
  if (!time_valid) {
    time_unknown_ = true;
    open_flags_ |= kFlagTimeUnknown;
    return;
  }
  time_unknown_ = false;
  placed_ = true;
  last_flags_ = open_flags_ | kFlagTimeChanged;
  align(new_ms, floor_div(new_ms, sub_ms_) * sub_ms_ != new_ms);
  ring_valid_ = 0;
}

void Engine::on_rate_changed(std::int32_t rate, std::int64_t time_ms) noexcept {
  if (rate < 1 || rate > static_cast<std::int32_t>(kRates) || rate == current_rate_) return;
  if (last_in_open_ && time_ms == last_ms_) {
    for (std::size_t q = 0; q < count_; ++q) {
      const std::int64_t d = last_delta_mwh_[reg_index_[q]];
      if (rate_[q] != 0 && rate_[q] == current_rate_) open_mwh_[q] -= d;
      if (rate_[q] == rate) open_mwh_[q] += d;
    }
  }
  current_rate_ = rate;
}

bool Engine::reset(std::int64_t now_ms) noexcept {
  if (lockout_remaining_ms_ > 0) return false;
  for (std::size_t q = 0; q < count_; ++q) {
    cumulative_mw_[q] += maximum_mw_[q];
    maximum_mw_[q] = 0;
    maximum_time_ms_[q] = 0;
  }
  ++reset_count_;
  last_reset_ms_ = now_ms;
  lockout_remaining_ms_ = settings_.reset_lockout_ms;
  return true;
}

QuantityValues Engine::values(std::size_t q) const noexcept {
  QuantityValues v;
  if (q >= count_) return v;
  if (open_counts() && ring_valid_ + 1 >= n_) {
    std::int64_t energy_mwh = open_mwh_[q];
    for (std::uint32_t i = 1; i < n_; ++i) energy_mwh += ring_mwh_[q][(ring_pos_ + n_ - i) % n_];
    v.present_mw = demand_mw(energy_mwh, settings_.interval_s);
  }
  v.previous_mw = previous_mw_[q];
  v.maximum_mw = maximum_mw_[q];
  v.maximum_time_ms = maximum_time_ms_[q];
  v.cumulative_mw = cumulative_mw_[q];
  v.continuous_cumulative_mw = cumulative_mw_[q] + maximum_mw_[q];
  return v;
}

std::uint32_t Engine::status() const noexcept {
  std::uint32_t s = last_flags_;
  if (awaiting_sync_) s |= kFlagAwaitingSync;
  if (time_unknown_) s |= kFlagTimeUnknown;
  if (cold_load_remaining_ > 0) s |= kFlagColdLoad;
  if (lockout_remaining_ms_ > 0) s |= kFlagLockout;
  return s;
}

// ----- state --------------------------------------------------------------------------------

std::vector<std::uint8_t> Engine::state() const {
  std::vector<std::uint8_t> out;
  write_state(out);
  return out;
}

void Engine::write_state(std::vector<std::uint8_t>& out) const {
  out.resize(state_size_);
  serialise(Writer(out.data()));
}

// By value, and given back: a writer that is a local keeps its cursor in a register, which the
// byte stores through it could otherwise alias.
template <class W>
W Engine::serialise(W w) const noexcept {
  w.put(kStateMagic);
  w.put(settings_.interval_s);
  w.put(n_);
  w.put(static_cast<std::uint32_t>(count_));
  for (std::size_t q = 0; q < count_; ++q) {
    w.put(static_cast<std::uint8_t>(settings_.quantities[q].reg));
    w.put(settings_.quantities[q].rate);
    w.put(maximum_mw_[q]);
    w.put(maximum_time_ms_[q]);
    w.put(cumulative_mw_[q]);
    w.put(previous_mw_[q]);
    w.put(open_mwh_[q]);
    for (std::uint32_t i = 0; i < n_; ++i) w.put(ring_mwh_[q][i]);
  }
  for (std::uint32_t i = 0; i < n_; ++i) w.put(ring_flags_[i]);
  w.put(ring_pos_);
  w.put(ring_valid_);
  w.put(open_end_ms_);
  w.put(last_ms_);
  w.put(open_flags_);
  w.put(static_cast<std::uint8_t>(placed_));
  w.put(static_cast<std::uint8_t>(time_unknown_));
  w.put(static_cast<std::uint8_t>(awaiting_sync_));
  w.put(cold_load_remaining_);
  w.put(current_rate_);
  w.put(last_flags_);
  w.put(reset_count_);
  w.put(last_reset_ms_);
  w.put(lockout_remaining_ms_);
  return w;
}

bool Engine::restore_state(const std::uint8_t* data, std::size_t size) {
  Reader r(data, size);
  std::uint32_t magic = 0, n = 0, count = 0;
  std::int64_t interval_s = 0;
  if (!r.get(magic) || magic != kStateMagic || !r.get(interval_s) || !r.get(n) ||
      !r.get(count) || n < 1 || n > kMaxSubintervals || count > kMaxQuantities) {
    return false;
  }
  struct Stored {
    std::uint8_t reg = 0, rate = 0;
    std::int64_t maximum_mw = 0, maximum_time_ms = 0, cumulative_mw = 0, previous_mw = 0;
    std::int64_t open_mwh = 0;
    std::array<std::int64_t, kMaxSubintervals> ring{};
  };
  std::array<Stored, kMaxQuantities> stored{};
  for (std::uint32_t q = 0; q < count; ++q) {
    Stored& s = stored[q];
    if (!r.get(s.reg) || !r.get(s.rate) || !r.get(s.maximum_mw) || !r.get(s.maximum_time_ms) ||
        !r.get(s.cumulative_mw) || !r.get(s.previous_mw) || !r.get(s.open_mwh)) {
      return false;
    }
    for (std::uint32_t i = 0; i < n; ++i) {
      if (!r.get(s.ring[i])) return false;
    }
  }
  std::array<std::uint32_t, kMaxSubintervals> ring_flags{};
  for (std::uint32_t i = 0; i < n; ++i) {
    if (!r.get(ring_flags[i])) return false;
  }
  std::uint32_t ring_pos = 0, ring_valid = 0, open_flags = 0, cold = 0, last_flags = 0;
  std::int64_t open_end = 0, last = 0, last_reset = 0, lockout = 0;
  std::uint8_t placed = 0, unknown = 0, awaiting = 0;
  std::int32_t rate = 0;
  std::uint64_t resets = 0;
  if (!r.get(ring_pos) || !r.get(ring_valid) || !r.get(open_end) || !r.get(last) ||
      !r.get(open_flags) || !r.get(placed) || !r.get(unknown) || !r.get(awaiting) ||
      !r.get(cold) || !r.get(rate) || !r.get(last_flags) || !r.get(resets) ||
      !r.get(last_reset) || !r.get(lockout) || !r.done() || ring_pos >= n || ring_valid > n) {
    return false;
  }

  // Kept whatever the settings: billing values by quantity, resets and their lockout, the
  // 24 h rule and the rate.
  const bool same_intervals = interval_s == settings_.interval_s && n == n_;
  bool same_quantities = count == count_;
  for (std::size_t q = 0; same_quantities && q < count_; ++q) {
    same_quantities = stored[q].reg == static_cast<std::uint8_t>(settings_.quantities[q].reg) &&
                      stored[q].rate == settings_.quantities[q].rate;
  }
  for (std::size_t q = 0; q < count_; ++q) {
    for (std::uint32_t j = 0; j < count; ++j) {
      const Stored& s = stored[j];
      if (s.reg != static_cast<std::uint8_t>(settings_.quantities[q].reg) ||
          s.rate != settings_.quantities[q].rate) {
        continue;
      }
      maximum_mw_[q] = s.maximum_mw;
      maximum_time_ms_[q] = s.maximum_time_ms;
      cumulative_mw_[q] = s.cumulative_mw;
      if (same_intervals) {
        previous_mw_[q] = s.previous_mw;
        open_mwh_[q] = s.open_mwh;
        ring_mwh_[q] = s.ring;
      }
    }
  }
  awaiting_sync_ = awaiting != 0;
  current_rate_ = rate;
  reset_count_ = resets;
  last_reset_ms_ = last_reset;
  lockout_remaining_ms_ = lockout;
  cold_load_remaining_ = std::min(cold, settings_.cold_load_intervals * n_);
  if (same_intervals && placed != 0) {
    ring_flags_ = ring_flags;
    ring_pos_ = ring_pos;
    ring_valid_ = ring_valid;
    open_end_ms_ = open_end;
    last_ms_ = last;
    open_flags_ = open_flags;
    time_unknown_ = unknown != 0;
    last_flags_ = last_flags;
    placed_ = true;
    if (!same_quantities) {
      // A new quantity has no energy for the open window yet: no demand from it.
      open_flags_ |= kFlagPartial;
      ring_valid_ = 0;
    }
  }
  return true;
}

}  // namespace meter::plugins::demand
