// Why each source's relay is open: no credit (all sources: one pool pays for them all), the
// active source's current limit, or over-voltage. Over-current and over-voltage close again
// after a restore delay of metered time in which the condition was not seen. Sources may share a
// relay (a board with one disconnect relay): a relay is open while any of its sources says so.
#pragma once

#include <array>
#include <cstdint>

#include "ledger.h"
#include "meter/plugins/prepaid/events.h"

namespace meter::plugins::prepaid {

inline constexpr std::uint8_t kReasonCredit = METER_PREPAID_RELAY_CREDIT;
inline constexpr std::uint8_t kReasonOverCurrent = METER_PREPAID_RELAY_OVER_CURRENT;
inline constexpr std::uint8_t kReasonOverVoltage = METER_PREPAID_RELAY_OVER_VOLTAGE;
inline constexpr std::uint32_t kMaxRelays = 4;

struct ProtectionSettings {
  std::size_t sources = 1;
  std::array<std::uint32_t, kMaxSources> relay{};         ///< the board's relay per source
  std::array<double, kMaxSources> current_limit_a{};      ///< 0: no limit
  double over_voltage_v = 0;                              ///< 0: no over-voltage trip
  std::int64_t restore_ms = 60'000;
};

/// What protection keeps; persisted as is (state.h).
struct ProtectionValues {
  std::array<std::uint8_t, kMaxSources> reasons{};
  std::array<std::int64_t, kMaxSources> over_current_wait_ms{};  ///< left before it closes
  std::array<std::int64_t, kMaxSources> over_voltage_wait_ms{};
  std::uint64_t over_current_trips = 0;
  std::uint64_t over_voltage_trips = 0;
};

class Protection {
 public:
  explicit Protection(const ProtectionSettings& settings) : settings_(settings) {}

  /// Sets or clears the credit reason on every source; true when anything changed.
  bool set_credit(bool open) noexcept;
  /// A Measurements event while `source` supplies the load, with its largest phase current and
  /// voltage. Trips the source (or keeps it tripped and restarts the delay); true on a change.
  bool on_measurements(std::size_t source, double current_a, double voltage_v) noexcept;
  /// `ms` of metered time passed; delays that run out clear their reason. True on a change.
  bool elapse(std::int64_t ms) noexcept;
  /// True while some delay runs (elapse() has work to do).
  bool waiting() const noexcept { return waiting_; }

  std::uint8_t reasons(std::size_t source) const noexcept { return values_.reasons[source]; }
  /// Whether relay `relay` should be open: some source on it has a reason.
  bool relay_open(std::uint32_t relay) const noexcept;
  const ProtectionSettings& settings() const noexcept { return settings_; }
  const ProtectionValues& values() const noexcept { return values_; }
  void restore(const ProtectionValues& v) noexcept;

 private:
  void update_waiting() noexcept;

  ProtectionSettings settings_;
  ProtectionValues values_;
  bool waiting_ = false;
};

}  // namespace meter::plugins::prepaid
