// Civil dates and times: parsing the objects' texts, UTC conversions (std::chrono calendar)
// and the time zone facts from the tz database (date/tz).
#include "civil_time.h"

#include <charconv>
#include <chrono>
#include <exception>

#include <date/tz.h>
#include <fmt/format.h>

namespace meter::c1219::detail {
namespace {

bool number(std::string_view text, std::size_t at, std::size_t digits, int& out) {
  if (text.size() < at + digits) return false;
  for (std::size_t i = at; i < at + digits; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  std::from_chars(text.data() + at, text.data() + at + digits, out);
  return true;
}

// "YYYY-MM-DD?HH:MM:SS" with any separator character at position 10.
std::optional<Civil> parse_civil(std::string_view text) {
  Civil c;
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  if (!number(text, 0, 4, c.year) || !number(text, 5, 2, c.month) || !number(text, 8, 2, c.day) ||
      !number(text, 11, 2, c.hour) || !number(text, 14, 2, c.minute) ||
      !number(text, 17, 2, c.second) || !valid_civil(c)) {
    return std::nullopt;
  }
  return c;
}

date::local_seconds local_seconds_of(const Civil& c) {
  return date::local_seconds{std::chrono::seconds{days_from_civil(c) * 86400 + c.hour * 3600 +
                                                  c.minute * 60 + c.second}};
}

}  // namespace

bool valid_civil(const Civil& c) {
  using namespace std::chrono;
  const year_month_day ymd{year{c.year}, month{static_cast<unsigned>(c.month)},
                           day{static_cast<unsigned>(c.day)}};
  return ymd.ok() && c.hour >= 0 && c.hour < 24 && c.minute >= 0 && c.minute < 60 &&
         c.second >= 0 && c.second < 60;
}

std::optional<Civil> parse_clock_text(std::string_view text, std::string* zone) {
  auto c = parse_civil(text);
  if (!c || text[10] != ' ') return std::nullopt;
  if (zone != nullptr) {
    zone->assign(text.size() > 20 ? text.substr(20) : std::string_view{});
  }
  return c;
}

std::optional<std::int64_t> parse_utc_text(std::string_view text) {
  auto c = parse_civil(text);
  if (!c || text[10] != 'T' || text.size() != 20 || text[19] != 'Z') return std::nullopt;
  return days_from_civil(*c) * 86400 + c->hour * 3600 + c->minute * 60 + c->second;
}

std::int64_t days_from_civil(const Civil& c) {
  using namespace std::chrono;
  const sys_days d{year{c.year} / month{static_cast<unsigned>(c.month)} /
                   day{static_cast<unsigned>(c.day)}};
  return d.time_since_epoch().count();
}

Civil civil_from_utc(std::int64_t utc_s) {
  using namespace std::chrono;
  const sys_seconds t{seconds{utc_s}};
  const auto d = floor<days>(t);
  const year_month_day ymd{d};
  const hh_mm_ss hms{t - d};
  return Civil{static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
               static_cast<int>(static_cast<unsigned>(ymd.day())),
               static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
               static_cast<int>(hms.seconds().count())};
}

int weekday(const Civil& c) {
  using namespace std::chrono;
  return static_cast<int>(
      std::chrono::weekday{sys_days{days{days_from_civil(c)}}}.c_encoding());
}

std::string clock_write_text(const Civil& c) {
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", c.year, c.month, c.day, c.hour,
                     c.minute, c.second);
}

std::optional<ZoneFacts> zone_facts(const std::string& zone_name, const Civil& local,
                                    const std::string& abbrev) {
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(zone_name);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  const auto li = zone->get_info(local_seconds_of(local));
  date::sys_info info = li.first;
  if (li.result == date::local_info::ambiguous && li.second.abbrev == abbrev) info = li.second;
  // With the system's tz database, `save` only tells whether daylight saving time is in force
  // (its amount is not in the binary files), so amounts come from the offsets of the periods.
  auto in_dst = [](const date::sys_info& i) { return i.save != std::chrono::minutes{0}; };
  auto minutes = [](std::chrono::seconds s) {
    return static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(s).count());
  };
  ZoneFacts f;
  f.dst = in_dst(info);
  std::optional<date::sys_info> standard = f.dst ? std::nullopt : std::optional{info};
  std::optional<date::sys_info> daylight;
  const date::sys_seconds horizon = date::sys_days{date::year{2200} / 1 / 1};
  date::sys_info next = info;
  for (int i = 0; i < 4 && !(standard && daylight) && next.end < horizon; ++i) {
    next = zone->get_info(next.end);
    if (!standard && !in_dst(next)) standard = next;
    if (!daylight && in_dst(next)) daylight = next;
  }
  f.standard_offset_min = minutes(standard ? standard->offset : info.offset);
  if (f.dst) f.dst_amount_min = minutes(info.offset) - f.standard_offset_min;
  if (daylight) {
    f.dst_amount_min = minutes(daylight->offset) - f.standard_offset_min;
    const auto local_standard = daylight->begin + std::chrono::minutes{f.standard_offset_min};
    const std::chrono::hh_mm_ss hms{local_standard -
                                    std::chrono::floor<std::chrono::days>(local_standard)};
    f.dst_change_h = static_cast<int>(hms.hours().count());
    f.dst_change_m = static_cast<int>(hms.minutes().count());
    f.dst_change_s = static_cast<int>(hms.seconds().count());
  }
  return f;
}

}  // namespace meter::c1219::detail
