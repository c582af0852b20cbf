// The load profile engine: interval boundaries, splits on clock changes, outage records, pulse
// arithmetic with carried remainders, and the serialised state.
#include "engine.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <type_traits>

#include <meter/sdk/plugin.h>

namespace meter::plugins::load_profile {
namespace {

constexpr std::int64_t kNwhPerMwh = 1'000'000;
constexpr std::int64_t kMaxKhNwh = 1'000'000'000'000;  // 1000 Wh, the kernel's upper bound
constexpr std::uint32_t kMaxPulseDivisor = 65'535;
constexpr std::uint8_t kStateVersion = 1;
constexpr std::int64_t kClockLost = std::numeric_limits<std::int64_t>::max();

constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Writes over a buffer already of the state's size: stores only, so the state can be written in
// every tick. Integers little-endian, as the rest of the profile's encoding (memcpy where that
// is the native order).
class Writer {
 public:
  explicit Writer(std::uint8_t* out) noexcept : at_(out) {}
  template <class T>
  void put(T v) noexcept {
    static_assert(std::is_integral_v<T>);
    const auto u = static_cast<std::make_unsigned_t<T>>(v);
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(at_, &u, sizeof u);
    } else {
      for (std::size_t i = 0; i < sizeof u; ++i) at_[i] = static_cast<std::uint8_t>(u >> (8 * i));
    }
    at_ += sizeof u;
  }

 private:
  std::uint8_t* at_;
};

// Counts what a Writer would write: the sizes, once, at construction.
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

}  // namespace

ChannelsParse parse_channels(std::string_view text) {
  ChannelsParse out;
  std::string_view rest = text;
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = trim(rest.substr(0, comma));
    const auto parsed = sdk::parse_obis(item);
    if (!parsed) {
      out.error = "channels: \"" + std::string(item) + "\" is not an OBIS code (like 1-0:1.8.0)";
      return out;
    }
    const ObisBytes bytes{parsed->a, parsed->b, parsed->c, parsed->d, parsed->e, parsed->f};
    const auto reg = std::find(kTickRegisters.begin(), kTickRegisters.end(), bytes);
    if (reg == kTickRegisters.end()) {
      out.error = "channels: " + std::string(item) +
                  " is not an energy register of the meter's tick (1-0:1.8.0, 1-0:2.8.0, "
                  "1-0:5.8.0, 1-0:6.8.0, 1-0:7.8.0, 1-0:8.8.0)";
      return out;
    }
    const auto index = static_cast<std::size_t>(reg - kTickRegisters.begin());
    for (const auto& c : out.channels) {
      if (c.register_index == index) {
        out.error = "channels: " + std::string(item) + " is listed twice";
        return out;
      }
    }
    out.channels.push_back({bytes, index});
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

std::string check_config(const EngineConfig& config) {
  if (std::find(kIntervalsMin.begin(), kIntervalsMin.end(), config.interval_min) ==
      kIntervalsMin.end()) {
    return "interval_min: " + std::to_string(config.interval_min) +
           " min is not one of 1, 5, 10, 15, 30, 60";
  }
  if (config.capacity_records == 0) return "capacity_records: must be at least 1";
  if (config.pulse_divisor == 0 || config.pulse_divisor > kMaxPulseDivisor) {
    return "pulse_divisor: must be 1..65535";
  }
  if (config.kh_nwh == 0 || config.kh_nwh > static_cast<std::uint64_t>(kMaxKhNwh)) {
    return "Kh must be more than 0 and at most 1000 Wh";
  }
  if (config.channels.empty() || config.channels.size() > kMaxChannels) {
    return "channels: 1.." + std::to_string(kMaxChannels) + " energy registers";
  }
  return {};
}

Engine::Engine(const EngineConfig& config)
    : config_(config),
      interval_ms_(std::int64_t{config.interval_min} * 60'000),
      capacity_(config.capacity_records),
      unit_nwh_(static_cast<std::int64_t>(config.kh_nwh) * config.pulse_divisor),
      channel_count_(config.channels.size()),
      ring_(config.capacity_records) {
  for (std::size_t c = 0; c < channel_count_; ++c) register_[c] = config.channels[c].register_index;
  fingerprint_size_ = put_fingerprint(Counter{}).size();
  state_size_ = put_state(Counter{}).size();
}

std::int64_t Engine::slot_after(std::int64_t t_ms) const noexcept {
  return floor_div(t_ms, interval_ms_) * interval_ms_ + interval_ms_;
}

std::int64_t Engine::slot_ending(std::int64_t t_ms) const noexcept {
  return -floor_div(-t_ms, interval_ms_) * interval_ms_;
}

std::uint16_t Engine::partial_if_off_boundary(std::int64_t t_ms) const noexcept {
  return floor_div(t_ms, interval_ms_) * interval_ms_ == t_ms ? 0 : kFlagPartial;
}

void Engine::close_open() noexcept {
  Record& r = ring_[next_sequence_ % capacity_];
  r.sequence = next_sequence_;
  r.end_utc_s = floor_div(open_end_ms_, 1000);
  std::uint16_t flags = open_flags_;
  if (r.end_utc_s <= max_end_s_) {
    flags |= kFlagRepeatedTime;
  } else {
    max_end_s_ = r.end_utc_s;
  }
  for (std::size_t c = 0; c < channel_count_; ++c) {
    const std::int64_t total_nwh = carry_nwh_[c] + accum_mwh_[c] * kNwhPerMwh;
    std::int64_t pulses = total_nwh / unit_nwh_;
    if (pulses > std::int64_t{std::numeric_limits<std::uint32_t>::max()}) {
      pulses = std::numeric_limits<std::uint32_t>::max();
      flags |= kFlagOverflow;
    }
    carry_nwh_[c] = total_nwh - pulses * unit_nwh_;
    r.pulses[c] = static_cast<std::uint32_t>(pulses);
    accum_mwh_[c] = 0;
  }
  r.flags = flags;
  ++next_sequence_;
  open_flags_ = 0;
}

void Engine::reopen(std::int64_t slot_end_ms, std::uint16_t new_flags) noexcept {
  close_open();
  open_end_ms_ = slot_end_ms;
  open_flags_ = new_flags;
}

void Engine::advance(std::int64_t slot_end_ms, std::uint16_t gap_flags,
                     std::uint16_t new_flags) noexcept {
  close_open();
  std::int64_t next_end = open_end_ms_ + interval_ms_;
  std::int64_t empties = (slot_end_ms - next_end) / interval_ms_;
  // Records older than the ring's capacity would be overwritten at once: skip them.
  if (empties > std::int64_t{capacity_}) {
    next_end += (empties - capacity_) * interval_ms_;
    empties = capacity_;
  }
  for (std::int64_t i = 0; i < empties; ++i) {
    open_end_ms_ = next_end;
    open_flags_ = gap_flags;
    close_open();
    next_end += interval_ms_;
  }
  open_end_ms_ = slot_end_ms;
  open_flags_ = new_flags;
}

void Engine::roll_to(std::int64_t slot_end_ms) noexcept {
  if (slot_end_ms > open_end_ms_) advance(slot_end_ms, 0, 0);
}

void Engine::outage(std::int64_t lost_ms, std::int64_t back_ms) noexcept {
  roll_to(slot_after(lost_ms));
  open_flags_ |= static_cast<std::uint16_t>(kFlagPowerFailure | partial_if_off_boundary(lost_ms));
  if (back_ms > open_end_ms_) {
    const std::uint16_t off = partial_if_off_boundary(back_ms);
    advance(slot_after(back_ms), kFlagPowerFailure,
            off != 0 ? static_cast<std::uint16_t>(kFlagPowerFailure | off) : std::uint16_t{0});
  }
  last_ms_ = back_ms;
}

void Engine::place_tick(const meter_energy_tick& tick) noexcept {
  const std::int64_t t_ms = tick.time_utc_ms;
  if (tick.time_valid == 0) {
    open_flags_ |= kFlagClockInvalid;
    clock_lost_ = true;
    last_ms_ = kClockLost;  // forces the next valid tick through here
    return;
  }
  const std::int64_t start_ms = t_ms - std::max<std::int64_t>(tick.duration_ms, 0);
  if (!open_slot_known() || clock_lost_) {
    // Energy metered while the time was unknown stays in the open interval, which now
    // learns (or re-learns) where it is.
    const std::int64_t end_ms = slot_ending(t_ms);
    const std::uint16_t partial = start_ms == end_ms - interval_ms_ ? 0 : kFlagPartial;
    const std::uint16_t invalid = clock_lost_ ? kFlagClockInvalid : 0;
    clock_lost_ = false;
    if (!open_slot_known()) {
      open_end_ms_ = end_ms;
      open_flags_ |= partial | invalid;
    } else if (end_ms != open_end_ms_) {
      reopen(end_ms, static_cast<std::uint16_t>(partial | invalid));
    }
    last_ms_ = t_ms;
    return;
  }
  if (t_ms < last_ms_) on_time_changed(last_ms_, start_ms, true);  // set back, no event
  if (t_ms > open_end_ms_) {
    if (start_ms > last_ms_ + (t_ms - start_ms)) outage(last_ms_, start_ms);  // ticks missed
    roll_to(slot_ending(t_ms));
  }
  last_ms_ = t_ms;
}

void Engine::on_power_fail(std::int64_t time_utc_ms) {
  if (!open_slot_known() || clock_lost_) {
    open_flags_ |= kFlagPowerFailure | kFlagPartial;
    return;
  }
  roll_to(slot_after(time_utc_ms));
  open_flags_ |= static_cast<std::uint16_t>(kFlagPowerFailure | partial_if_off_boundary(time_utc_ms));
  last_ms_ = std::max(last_ms_, time_utc_ms);
}

void Engine::on_power_restore(std::int64_t time_utc_ms, std::int64_t outage_ms, bool time_valid) {
  if (!time_valid || !open_slot_known() || clock_lost_) {
    open_flags_ |= kFlagPowerFailure | kFlagPartial;
    if (!time_valid) {
      open_flags_ |= kFlagClockInvalid;
      clock_lost_ = true;
      last_ms_ = kClockLost;
    }
    return;
  }
  outage(time_utc_ms - std::max<std::int64_t>(outage_ms, 0), time_utc_ms);
}

void Engine::on_time_changed(std::int64_t old_utc_ms, std::int64_t new_utc_ms, bool was_valid) {
  // Without a known old time the next valid tick places the interval (see place_tick).
  if (!was_valid || !open_slot_known() || clock_lost_ || new_utc_ms == old_utc_ms) return;
  roll_to(slot_ending(old_utc_ms));
  const std::uint16_t direction = new_utc_ms > old_utc_ms ? kFlagTimeForward : kFlagTimeBack;
  open_flags_ |= direction;
  const std::int64_t end_ms = slot_after(new_utc_ms);
  if (end_ms != open_end_ms_) {
    if (old_utc_ms != open_end_ms_) open_flags_ |= kFlagPartial;
    reopen(end_ms, static_cast<std::uint16_t>(direction | partial_if_off_boundary(new_utc_ms)));
  }
  last_ms_ = new_utc_ms;
}

Profile Engine::header() const {
  Profile p;
  p.interval_min = static_cast<std::uint8_t>(config_.interval_min);
  for (const auto& c : config_.channels) p.channels.push_back(c.obis);
  p.pulse_divisor = config_.pulse_divisor;
  p.kh_nwh = config_.kh_nwh;
  p.records_stored = static_cast<std::uint32_t>(size());
  return p;
}

// The writers are taken and given back by value: a local, the cursor stays in a register that
// the byte stores through it could otherwise alias.
template <class W>
W Engine::put_fingerprint(W w) const noexcept {
  w.put(kStateVersion);
  w.put(static_cast<std::uint8_t>(config_.interval_min));
  w.put(static_cast<std::uint8_t>(channel_count_));
  for (std::size_t c = 0; c < channel_count_; ++c) w.put(static_cast<std::uint8_t>(register_[c]));
  w.put(config_.pulse_divisor);
  w.put(capacity_);
  w.put(config_.kh_nwh);
  return w;
}

template <class W>
W Engine::put_state(W w) const noexcept {
  w = put_fingerprint(w);
  w.put(next_sequence_);
  w.put(max_end_s_);
  w.put(open_end_ms_);
  w.put(open_flags_);
  w.put(std::uint8_t{clock_lost_ ? std::uint8_t{1} : std::uint8_t{0}});
  w.put(last_ms_);
  for (std::size_t c = 0; c < channel_count_; ++c) w.put(accum_mwh_[c]);
  for (std::size_t c = 0; c < channel_count_; ++c) w.put(carry_nwh_[c]);
  return w;
}

std::vector<std::uint8_t> Engine::state() const {
  std::vector<std::uint8_t> out;
  write_state(out);
  return out;
}

void Engine::write_state(std::vector<std::uint8_t>& out) const {
  out.resize(state_size_);
  put_state(Writer(out.data()));
}

bool Engine::restore_state(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> expected(fingerprint_size_);
  put_fingerprint(Writer(expected.data()));
  if (size < expected.size() || !std::equal(expected.begin(), expected.end(), data)) return false;
  detail::ByteReader in(data + expected.size(), size - expected.size());
  std::uint32_t next = 0;
  std::int64_t max_end = 0, open_end = 0, last = 0;
  std::uint16_t flags = 0;
  std::uint8_t lost = 0;
  std::array<std::int64_t, kMaxChannels> accum{}, carry{};
  bool ok = in.u32(next) && in.i64(max_end) && in.i64(open_end) && in.u16(flags) &&
            in.u8(lost) && in.i64(last);
  for (std::size_t c = 0; ok && c < channel_count_; ++c) ok = in.i64(accum[c]);
  for (std::size_t c = 0; ok && c < channel_count_; ++c) ok = in.i64(carry[c]);
  if (!ok || in.remaining() != 0) return false;
  next_sequence_ = next;
  saved_sequence_ = next;
  max_end_s_ = max_end;
  open_end_ms_ = open_end;
  open_flags_ = flags;
  clock_lost_ = lost != 0;
  last_ms_ = last;
  accum_mwh_ = accum;
  carry_nwh_ = carry;
  // A record whose NVM key is missing keeps a sequence no selection matches.
  for (auto& r : ring_) r = Record{.sequence = std::numeric_limits<std::uint32_t>::max()};
  return true;
}

bool Engine::restore_record(const Record& record) noexcept {
  if (record.sequence < oldest_sequence() || record.sequence >= next_sequence_) return false;
  ring_[record.sequence % capacity_] = record;
  return true;
}

}  // namespace meter::plugins::load_profile
