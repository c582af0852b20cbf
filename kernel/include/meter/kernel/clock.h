// The kernel clock: one notion of "now" for the whole meter, real or virtual.
//
// Wall time comes from a TimeSource plus an offset set through set_time(), so setting the meter's
// time never touches the host's clock. Uptime is monotonic and never jumps. Local dates and
// midnights come from the IANA database through date/tz; there are no hand-written DST rules.
#pragma once

#include <cstdint>
#include <string_view>

#include "meter/kernel/bus.h"
#include "meter/kernel/result.h"
#include "meter/kernel/time.h"

namespace date {
class time_zone;
}

namespace meter::kernel {

/// Where time comes from: the system's clocks, or a virtual clock the simulation drives.
class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual UtcTime utc() const = 0;
  virtual Uptime monotonic() const = 0;
};

/// The host's CLOCK_REALTIME and CLOCK_MONOTONIC.
class SystemTimeSource final : public TimeSource {
 public:
  UtcTime utc() const override;
  Uptime monotonic() const override;
};

/// A clock that moves only when told to: deterministic, and as fast as the CPU allows.
class VirtualTimeSource final : public TimeSource {
 public:
  explicit VirtualTimeSource(UtcTime start) : utc_(start) {}
  UtcTime utc() const override { return utc_; }
  Uptime monotonic() const override { return monotonic_; }
  void advance(Milliseconds step) noexcept {
    utc_ += step;
    monotonic_ += step;
  }
  /// The simulated board clock is off by `error` from here on (+/-); uptime does not move.
  void skew(Milliseconds error) noexcept { utc_ += error; }

 private:
  UtcTime utc_;
  Uptime monotonic_{0};
};

struct LocalDate {
  std::int32_t year = 0;
  std::uint8_t month = 0;    ///< 1..12
  std::uint8_t day = 0;      ///< 1..31
  std::uint8_t weekday = 0;  ///< 0 Sunday .. 6 Saturday
  friend bool operator==(const LocalDate&, const LocalDate&) = default;
};

class Clock {
 public:
  /// `zone` is an IANA name ("America/Toronto"); an unknown one is an error naming it.
  static Result<Clock> create(const TimeSource& source, EventBus& bus, std::string_view zone,
                              bool time_valid);
  /// Finds an IANA zone; the error names it.
  static Result<const date::time_zone*> locate_zone(std::string_view zone);
  /// `zone` must not be null (see locate_zone).
  Clock(const TimeSource& source, EventBus& bus, const date::time_zone* zone, bool time_valid);

  /// Meter time, UTC. Only meaningful while valid().
  UtcTime now() const noexcept { return source_->utc() + offset_; }
  /// Time since this power-up (since the clock was made), whatever the source's origin: the
  /// system's monotonic clock counts from the machine's boot, not from the meter's power-up.
  Uptime uptime() const noexcept { return source_->monotonic() - powered_up_; }
  bool valid() const noexcept { return valid_; }

  /// Sets the meter's time (a time sync, a meter-shop command); publishes TimeChanged with the
  /// old and new time, makes the time valid and re-arms the midnight detection.
  void set_time(UtcTime new_time);

  /// At power-up: the offset from the time source that the store kept (a time set through a
  /// port before the outage). Publishes nothing: the time was set when it was set.
  void resume(Milliseconds offset) noexcept;
  /// Meter time minus the source's time: what resume() takes back after a restart.
  Milliseconds offset() const noexcept { return offset_; }

  /// The time is no longer known (a long outage with a drained RTC); publishes FaultRaised.
  void invalidate();

  /// Called once per tick: publishes MidnightCrossed for each local midnight passed since the
  /// last poll (none while the time is invalid). Cost per call is one comparison.
  void poll();

  LocalDate local_date(UtcTime t) const;
  /// Local wall time as minutes since local midnight (0..1439) and the local date.
  std::int32_t local_minute_of_day(UtcTime t) const;
  /// The UTC instant of the first local midnight strictly after `t`.
  UtcTime next_local_midnight(UtcTime t) const;
  std::string_view zone_name() const noexcept;
  const date::time_zone* zone() const noexcept { return zone_; }

 private:
  void arm();

  const TimeSource* source_;
  EventBus* bus_;
  const date::time_zone* zone_;
  Uptime powered_up_;  // the source's monotonic time when this clock was made
  Milliseconds offset_{0};
  UtcTime next_midnight_{};
  bool valid_;
};

}  // namespace meter::kernel
