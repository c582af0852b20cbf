// Friendly-credit periods in local time. See friendly.h.
#include "friendly.h"

#include <algorithm>
#include <array>
#include <chrono>

namespace meter::plugins::prepaid {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;

constexpr std::int32_t kMinutesPerDay = 24 * 60;

bool two_digits(std::string_view t, std::size_t at, int& out) {
  if (at + 2 > t.size() || t[at] < '0' || t[at] > '9' || t[at + 1] < '0' || t[at + 1] > '9') {
    return false;
  }
  out = (t[at] - '0') * 10 + (t[at + 1] - '0');
  return true;
}

bool hh_mm(std::string_view t, std::size_t at, std::int32_t& minutes_out) {
  int h = 0, m = 0;
  if (!two_digits(t, at, h) || at + 2 >= t.size() || t[at + 2] != ':' ||
      !two_digits(t, at + 3, m)) {
    return false;
  }
  // 24:00 ends a span at midnight.
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return false;
  minutes_out = h * 60 + m;
  return true;
}

std::int64_t to_utc_ms(const date::time_zone& zone, date::local_time<minutes> local) {
  // A local time that does not exist (a DST gap) maps to the transition.
  const auto sys = zone.to_sys(local, date::choose::earliest);
  return std::chrono::duration_cast<milliseconds>(sys.time_since_epoch()).count();
}

}  // namespace

SpanParse parse_span(std::string_view text) {
  SpanParse out;
  if (text.size() != 11 || text[5] != '-' || !hh_mm(text, 0, out.span.begin_min) ||
      !hh_mm(text, 6, out.span.end_min)) {
    out.error = "\"" + std::string(text) + "\" is not HH:MM-HH:MM";
    return out;
  }
  if (out.span.begin_min == kMinutesPerDay) {
    out.error = "\"" + std::string(text) + "\" begins at 24:00 (use 00:00)";
    return out;
  }
  if (out.span.end_min == kMinutesPerDay) out.span.end_min = 0;
  if (out.span.begin_min == out.span.end_min) {
    out.error = "\"" + std::string(text) + "\" is empty (a whole day is a friendly weekday)";
  }
  return out;
}

std::uint8_t weekday_bit(std::string_view name) {
  static constexpr std::array<std::string_view, 7> kNames = {"sun", "mon", "tue", "wed",
                                                             "thu", "fri", "sat"};
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<std::uint8_t>(1u << i);
  }
  return 0;
}

bool parse_date(std::string_view text, date::sys_days& out) {
  int y1 = 0, y2 = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !two_digits(text, 0, y1) ||
      !two_digits(text, 2, y2) || !two_digits(text, 5, m) || !two_digits(text, 8, d)) {
    return false;
  }
  const date::year_month_day ymd{date::year{y1 * 100 + y2}, date::month{static_cast<unsigned>(m)},
                                 date::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return false;
  out = date::sys_days{ymd};
  return true;
}

FriendlyAt FriendlyCalendar::at(std::int64_t utc_ms) const {
  const date::sys_time<milliseconds> now{milliseconds{utc_ms}};
  const auto local = settings_.zone->to_local(now);
  const auto today = date::floor<date::days>(local);
  const auto minute_of_day = static_cast<std::int32_t>(
      date::floor<minutes>(local - today).count());
  const auto midnight = date::local_time<minutes>{today + date::days{1}};

  FriendlyAt out;
  const date::weekday wd{today};
  const bool whole_day = ((settings_.weekdays >> wd.c_encoding()) & 1u) != 0 ||
                         settings_.holidays.count(date::sys_days{today.time_since_epoch()}) != 0;
  std::int32_t next = kMinutesPerDay;
  if (whole_day) {
    out.friendly = true;
  } else {
    for (const DailySpan& s : settings_.hours) {
      const bool inside = s.begin_min < s.end_min
                              ? minute_of_day >= s.begin_min && minute_of_day < s.end_min
                              : minute_of_day >= s.begin_min || minute_of_day < s.end_min;
      out.friendly = out.friendly || inside;
      for (const std::int32_t edge : {s.begin_min, s.end_min}) {
        if (edge > minute_of_day) next = std::min(next, edge);
      }
    }
  }
  out.until_utc_ms = next == kMinutesPerDay
                         ? to_utc_ms(*settings_.zone, midnight)
                         : to_utc_ms(*settings_.zone, date::local_time<minutes>{today} +
                                                          minutes{next});
  // In the hour a DST change repeats, a local edge may map before now: look again in a minute.
  if (out.until_utc_ms <= utc_ms) out.until_utc_ms = (utc_ms / 60'000 + 1) * 60'000;
  return out;
}

}  // namespace meter::plugins::prepaid
