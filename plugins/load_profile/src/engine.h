// The load profile's engine: it turns energy ticks, power and clock events into interval
// records in a ring buffer, with no host in sight, so that the plugin, its tests and the
// benchmark drive the same code. Persistence is the plugin's: the engine only says which
// records are not saved yet and serialises its open interval.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <meter/sdk/abi.h>

#include "meter/plugins/load_profile/profile_format.h"

namespace meter::plugins::load_profile {

/// One column of the profile: the energy object it records and the tick register feeding it.
struct Channel {
  ObisBytes obis{};
  std::size_t register_index = 0;  ///< index into meter_energy_tick::delta_mwh
};

/// The OBIS code of each register of a tick, in delta_mwh order (see abi.h).
inline constexpr std::array<ObisBytes, METER_ENERGY_REGISTERS> kTickRegisters{{
    {1, 0, 1, 8, 0, 255},  // +A, import active
    {1, 0, 2, 8, 0, 255},  // -A, export active
    {1, 0, 5, 8, 0, 255},  // reactive Q1
    {1, 0, 6, 8, 0, 255},  // reactive Q2
    {1, 0, 7, 8, 0, 255},  // reactive Q3
    {1, 0, 8, 8, 0, 255},  // reactive Q4
}};

/// The interval lengths a profile accepts, minutes.
inline constexpr std::array<std::uint32_t, 6> kIntervalsMin{1, 5, 10, 15, 30, 60};

/// Channels parsed from the `channels` setting, or why they were refused.
struct ChannelsParse {
  std::vector<Channel> channels;
  std::string error;
};

/// Parses a comma-separated list of OBIS codes ("1-0:1.8.0, 1-0:2.8.0"). Each must be one of
/// the registers a tick carries, at most once; 1..kMaxChannels of them.
ChannelsParse parse_channels(std::string_view text);

/// What an engine records.
struct EngineConfig {
  std::uint32_t interval_min = 15;
  std::uint32_t capacity_records = 480;
  std::uint32_t pulse_divisor = 1;
  std::uint64_t kh_nwh = 1'000'000'000;  ///< Kh, nanowatt-hours per pulse
  std::vector<Channel> channels;
};

/// Empty when `config` is usable, else what is wrong with it.
std::string check_config(const EngineConfig& config);

/// The interval recorder. Single-threaded; never allocates or throws on the tick path.
class Engine {
 public:
  /// `config` must pass check_config.
  explicit Engine(const EngineConfig& config);

  /// Adds a tick's energy to the open interval, closing intervals the tick's time has passed.
  void on_tick(const meter_energy_tick& tick) noexcept {
    const std::int64_t t_ms = tick.time_utc_ms;
    if (tick.time_valid == 0 || t_ms > open_end_ms_ || t_ms < last_ms_) [[unlikely]] {
      place_tick(tick);
    } else {
      last_ms_ = t_ms;
    }
    for (std::size_t c = 0; c < channel_count_; ++c) {
      accum_mwh_[c] += tick.delta_mwh[register_[c]];
    }
    if (tick.measurement_fault != 0) [[unlikely]] {
      open_flags_ |= kFlagMeasurementFault;
    }
    // A tick that ends on the boundary completes the interval: close it now, not a tick late.
    if (t_ms == open_end_ms_ && tick.time_valid != 0) [[unlikely]] {
      roll_to(open_end_ms_ + interval_ms_);
    }
  }

  /// The power failed at `time_utc_ms`: the open interval is flagged at once, so a state
  /// saved now is right even if no restore event ever reaches this instance.
  void on_power_fail(std::int64_t time_utc_ms);

  /// Power came back at `time_utc_ms` after `outage_ms`; intervals wholly inside the outage get
  /// empty records flagged power failure.
  void on_power_restore(std::int64_t time_utc_ms, std::int64_t outage_ms, bool time_valid);

  /// The clock was set from `old_utc_ms` to `new_utc_ms`.
  void on_time_changed(std::int64_t old_utc_ms, std::int64_t new_utc_ms, bool was_valid);

  /// Records held (at most the capacity).
  std::size_t size() const noexcept {
    return next_sequence_ < capacity_ ? next_sequence_ : capacity_;
  }
  /// The sequence number the next record will get.
  std::uint32_t next_sequence() const noexcept { return next_sequence_; }
  /// The oldest record's sequence number (== next_sequence() when empty).
  std::uint32_t oldest_sequence() const noexcept {
    return next_sequence_ - static_cast<std::uint32_t>(size());
  }
  /// The record with sequence `s`, which must be in [oldest_sequence(), next_sequence()).
  const Record& record(std::uint32_t s) const noexcept { return ring_[s % capacity_]; }
  /// The ring slot (0..capacity-1) of sequence `s`; the plugin's NVM key for it.
  std::uint32_t slot_of(std::uint32_t s) const noexcept { return s % capacity_; }

  /// True when records were closed since mark_saved().
  bool has_unsaved() const noexcept { return saved_sequence_ != next_sequence_; }
  /// The first record not saved yet (never older than the oldest held).
  std::uint32_t first_unsaved() const noexcept {
    return saved_sequence_ > oldest_sequence() ? saved_sequence_ : oldest_sequence();
  }
  void mark_saved() noexcept { saved_sequence_ = next_sequence_; }

  /// The open interval's end, ms UTC; unknown (no time yet) when open_slot_known() is false.
  std::int64_t open_end_ms() const noexcept { return open_end_ms_; }
  bool open_slot_known() const noexcept { return open_end_ms_ != kUnknown; }
  std::uint16_t open_flags() const noexcept { return open_flags_; }
  /// Energy in the open interval so far, mWh, per channel.
  std::int64_t open_energy_mwh(std::size_t channel) const noexcept { return accum_mwh_[channel]; }

  /// The engine's state (configuration fingerprint, counters, open interval, carries) as
  /// bytes for NVM; records are saved separately.
  std::vector<std::uint8_t> state() const;
  /// The same bytes over `out`, resized to the state's size (which allocates only when it was
  /// smaller; the size is fixed by the configuration): the per-tick save, from one reused
  /// buffer, with stores only.
  void write_state(std::vector<std::uint8_t>& out) const;
  /// Restores a state from state(); false (and nothing changed) when the bytes are malformed
  /// or were written under another configuration.
  bool restore_state(const std::uint8_t* data, std::size_t size);
  /// Puts a record read back from NVM into its ring slot; false when its sequence is not one
  /// the restored state holds.
  bool restore_record(const Record& record) noexcept;

  /// The profile object's header fields (records left empty).
  Profile header() const;
  const EngineConfig& config() const noexcept { return config_; }

 private:
  static constexpr std::int64_t kUnknown = std::numeric_limits<std::int64_t>::min();

  void place_tick(const meter_energy_tick& tick) noexcept;
  void outage(std::int64_t lost_ms, std::int64_t back_ms) noexcept;
  void roll_to(std::int64_t slot_end_ms) noexcept;
  void advance(std::int64_t slot_end_ms, std::uint16_t gap_flags,
               std::uint16_t new_flags) noexcept;
  void reopen(std::int64_t slot_end_ms, std::uint16_t new_flags) noexcept;
  void close_open() noexcept;
  template <class W>
  W put_fingerprint(W w) const noexcept;
  template <class W>
  W put_state(W w) const noexcept;

  /// End of the interval that contains instant `t` when metering begins at `t`.
  std::int64_t slot_after(std::int64_t t_ms) const noexcept;
  /// End of the interval that a tick ending at `t` belongs to.
  std::int64_t slot_ending(std::int64_t t_ms) const noexcept;
  std::uint16_t partial_if_off_boundary(std::int64_t t_ms) const noexcept;

  EngineConfig config_;
  std::int64_t interval_ms_;
  std::uint32_t capacity_;
  std::int64_t unit_nwh_;  // one record pulse: divisor x Kh
  std::size_t channel_count_;
  std::array<std::size_t, kMaxChannels> register_{};

  std::vector<Record> ring_;
  std::uint32_t next_sequence_ = 0;
  std::uint32_t saved_sequence_ = 0;
  std::int64_t max_end_s_ = std::numeric_limits<std::int64_t>::min();

  std::int64_t open_end_ms_ = kUnknown;
  std::uint16_t open_flags_ = 0;
  bool clock_lost_ = false;
  std::int64_t last_ms_ = kUnknown;  // meter time metering is known to have reached
  std::array<std::int64_t, kMaxChannels> accum_mwh_{};
  std::array<std::int64_t, kMaxChannels> carry_nwh_{};
  std::size_t fingerprint_size_ = 0;
  std::size_t state_size_ = 0;
};

}  // namespace meter::plugins::load_profile
