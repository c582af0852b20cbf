// The friendly-credit periods: local hours of each day, whole weekdays and holidays during which
// the meter never disconnects for lack of credit (a utility's rule against disconnections at
// night, at weekends and on holidays). Local time from the site's IANA zone with date/tz.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <date/date.h>
#include <date/tz.h>

namespace meter::plugins::prepaid {

/// One span of local time of day, [begin, end) in minutes; begin > end wraps over midnight.
struct DailySpan {
  std::int32_t begin_min = 0;
  std::int32_t end_min = 0;
};

struct FriendlySettings {
  const date::time_zone* zone = nullptr;
  std::vector<DailySpan> hours;    ///< every day
  std::uint8_t weekdays = 0;       ///< bit 0 Sunday .. bit 6 Saturday: the whole day
  std::set<date::sys_days> holidays;  ///< local dates, the whole day
};

/// Whether an instant is friendly, and until when that holds.
struct FriendlyAt {
  bool friendly = false;
  std::int64_t until_utc_ms = 0;  ///< the next instant at which it may change
};

/// "18:00-08:00" -> {1080, 480}; an error text when malformed or empty (begin == end).
struct SpanParse {
  DailySpan span;
  std::string error;
};
SpanParse parse_span(std::string_view text);
/// "sat" -> bit 6; 0 for anything else (sun mon tue wed thu fri sat).
std::uint8_t weekday_bit(std::string_view name);
/// "2026-12-25" -> the date; false when malformed or not a calendar date.
bool parse_date(std::string_view text, date::sys_days& out);

class FriendlyCalendar {
 public:
  explicit FriendlyCalendar(FriendlySettings settings) : settings_(std::move(settings)) {}

  /// Friendly or not at `utc_ms`, and the next instant (always later) at which to ask again: a
  /// span's begin or end, or the next local midnight. Converts time zones: call it only when
  /// `until_utc_ms` has passed or the clock was set, never per tick.
  FriendlyAt at(std::int64_t utc_ms) const;

  bool any() const noexcept {
    return !settings_.hours.empty() || settings_.weekdays != 0 || !settings_.holidays.empty();
  }

 private:
  FriendlySettings settings_;
};

}  // namespace meter::plugins::prepaid
