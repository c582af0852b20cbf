// Civil dates and times for the tables: the clock object's text, the demand plugin's UTC
// texts, UTC seconds, and the time zone facts of ST-52, ST-53 (from date/tz).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace meter::c1219::detail {

struct Civil {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
};

/// The clock object 0-0:1.0.0: "YYYY-MM-DD HH:MM:SS ZONE" (local); nullopt for "time unknown"
/// or anything else. `zone` receives the abbreviation ("EST") when given.
std::optional<Civil> parse_clock_text(std::string_view text, std::string* zone = nullptr);
/// "YYYY-MM-DDTHH:MM:SSZ" (the demand plugin's times) as seconds since the Unix epoch.
std::optional<std::int64_t> parse_utc_text(std::string_view text);
/// UTC seconds since the Unix epoch as a civil date and time.
Civil civil_from_utc(std::int64_t utc_s);
/// Days since 1970-01-01 of a civil date; the time of day is ignored.
std::int64_t days_from_civil(const Civil& c);
/// 0 Sunday .. 6 Saturday.
int weekday(const Civil& c);
/// "YYYY-MM-DD HH:MM:SS", the clock object's write form.
std::string clock_write_text(const Civil& c);
/// True for a real date and time of day (month 1..12, the day in its month, 00:00:00..23:59:59).
bool valid_civil(const Civil& c);

/// What the time zone says about a local time (ST-52 DST_FLAG, ST-53).
struct ZoneFacts {
  bool dst = false;             ///< daylight saving time in force at that local time
  int standard_offset_min = 0;  ///< the zone's standard offset from UTC, minutes (east +)
  int dst_amount_min = 0;       ///< how far daylight saving time moves the clock, minutes
  int dst_change_h = 0, dst_change_m = 0, dst_change_s = 0;  ///< local standard time of day
};
/// Facts of the IANA zone `zone_name` at local time `local` (abbreviation `abbrev` settles the
/// repeated hour); nullopt when the zone is not in the tz database.
std::optional<ZoneFacts> zone_facts(const std::string& zone_name, const Civil& local,
                                    const std::string& abbrev);

}  // namespace meter::c1219::detail
