// Reading, checking and writing the tariff tables (see tariff.h and README.md for encodings).
#include "tariff.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <sstream>

#include <fmt/format.h>

#include <meter/sdk/manifest.h>

namespace meter::plugins::tou {
namespace {

constexpr std::array<std::string_view, kDayTypes> kDayTypeNames = {"weekday", "weekend",
                                                                   "holiday1", "holiday2"};

template <class T>
Result<T> fail(std::string message) {
  return Result<T>::failure(std::move(message));
}

bool digits(std::string_view text, unsigned& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

Result<toml::table> parse_document(std::string_view text, std::string_view what) {
  std::string error;
  auto table = sdk::parse_toml(text, what, error);
  if (!table) return fail<toml::table>(error);
  return std::move(*table);
}

Result<MonthDay> parse_month_day(const toml::node* node, std::string_view what) {
  const auto text = node ? node->value<std::string>() : std::nullopt;
  if (!text) return fail<MonthDay>(fmt::format("{}: must be a text \"MM-DD\"", what));
  unsigned month = 0, day = 0;
  if (text->size() != 5 || (*text)[2] != '-' || !digits(text->substr(0, 2), month) ||
      !digits(text->substr(3, 2), day)) {
    return fail<MonthDay>(fmt::format("{}: \"{}\" is not MM-DD", what, *text));
  }
  const date::month_day md{date::month{month}, date::day{day}};
  if (!md.ok()) return fail<MonthDay>(fmt::format("{}: \"{}\" is not a date", what, *text));
  if (month == 2 && day == 29) {
    return fail<MonthDay>(fmt::format("{}: 02-29 is not in every year", what));
  }
  return MonthDay{month, day};
}

Result<date::local_days> parse_date(std::string_view text, std::string_view what) {
  unsigned y = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !digits(text.substr(0, 4), y) ||
      !digits(text.substr(5, 2), m) || !digits(text.substr(8, 2), d)) {
    return fail<date::local_days>(fmt::format("{}: \"{}\" is not YYYY-MM-DD", what, text));
  }
  const date::year_month_day ymd{date::year{static_cast<int>(y)}, date::month{m}, date::day{d}};
  if (!ymd.ok()) return fail<date::local_days>(fmt::format("{}: \"{}\" is not a date", what, text));
  return date::local_days{ymd};
}

Result<date::local_days> toml_date(const toml::node* node, std::string_view what) {
  if (node == nullptr) return fail<date::local_days>(fmt::format("{}: is required (a date)", what));
  if (auto d = node->value<toml::date>()) {
    const date::year_month_day ymd{date::year{d->year}, date::month{d->month}, date::day{d->day}};
    if (ymd.ok()) return date::local_days{ymd};
  }
  if (auto s = node->value<std::string>()) return parse_date(*s, what);
  return fail<date::local_days>(fmt::format("{}: must be a date (YYYY-MM-DD)", what));
}

/// An instant: a TOML offset date-time ("2026-07-15T14:00:00-04:00" or "...Z").
Result<std::int64_t> toml_instant(const toml::node* node, std::string_view what) {
  if (node == nullptr) return fail<std::int64_t>(fmt::format("{}: is required (a date-time)", what));
  const auto dt = node->value<toml::date_time>();
  if (!dt || !dt->offset) {
    return fail<std::int64_t>(
        fmt::format("{}: must be a date-time with an offset, e.g. 2026-07-15T14:00:00-04:00", what));
  }
  const date::year_month_day ymd{date::year{dt->date.year}, date::month{dt->date.month},
                                 date::day{dt->date.day}};
  if (!ymd.ok()) return fail<std::int64_t>(fmt::format("{}: not a date", what));
  const auto local_ms = std::chrono::milliseconds(date::sys_days{ymd}.time_since_epoch()).count() +
                        ((dt->time.hour * 60 + dt->time.minute) * 60 + dt->time.second) * 1000LL +
                        dt->time.nanosecond / 1'000'000;
  return local_ms - dt->offset->minutes * kMsPerMinute;
}

Result<std::array<DaySchedule, kDayTypes>> parse_days(const toml::table& t, std::string_view what) {
  std::array<DaySchedule, kDayTypes> days;
  for (std::size_t i = 0; i < kDayTypes; ++i) {
    const toml::node* node = t.get(kDayTypeNames[i]);
    if (node == nullptr) {
      if (i < 2) {
        return fail<std::array<DaySchedule, kDayTypes>>(
            fmt::format("{}: {} switch points are required", what, kDayTypeNames[i]));
      }
      days[i] = days[index_of(DayType::weekend)];  // a holiday without its own is a weekend
      continue;
    }
    auto schedule = parse_schedule(*node, fmt::format("{}.{}", what, kDayTypeNames[i]));
    if (!schedule) return fail<std::array<DaySchedule, kDayTypes>>(schedule.error());
    days[i] = std::move(schedule.value());
  }
  return days;
}

std::string date_text(date::local_days day) {
  return date::format("%Y-%m-%d", day);
}

std::string month_day_text(MonthDay md) { return fmt::format("{:02}-{:02}", md.month, md.day); }

}  // namespace

char letter(Rate r) noexcept { return static_cast<char>('A' + index_of(r)); }

std::string_view name_of(DayType d) noexcept { return kDayTypeNames[index_of(d)]; }

Rate rate_at(const DaySchedule& schedule, unsigned minute, std::size_t* at) noexcept {
  std::size_t i = 0;
  while (i + 1 < schedule.size() && schedule[i + 1].minute <= minute) ++i;
  if (at != nullptr) *at = i;
  return schedule.empty() ? Rate::c : schedule[i].rate;
}

std::size_t Calendar::season_of(date::month_day day) const noexcept {
  const unsigned key = static_cast<unsigned>(day.month()) * 100 + static_cast<unsigned>(day.day());
  std::size_t found = seasons.size() - 1;  // before the first start: the last season, from last year
  for (std::size_t i = 0; i < seasons.size(); ++i) {
    if (seasons[i].start.key() <= key) found = i;
  }
  return found;
}

const Season* Calendar::find(std::string_view name) const noexcept {
  for (const auto& s : seasons) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::optional<DayType> DayCalendar::type_of(date::local_days day) const noexcept {
  if (day < first) return std::nullopt;
  const auto offset = static_cast<std::size_t>((day - first).count());
  if (offset >= days.size()) return std::nullopt;
  return days[offset];
}

Result<Rate> parse_rate(std::string_view text) {
  if (text.size() == 1 && text[0] >= 'A' && text[0] <= 'D') {
    return static_cast<Rate>(text[0] - 'A' + 1);
  }
  return fail<Rate>(fmt::format("\"{}\" is not a rate (A, B, C or D)", text));
}

Result<DayType> parse_day_type(std::string_view text) {
  for (std::size_t i = 0; i < kDayTypes; ++i) {
    if (kDayTypeNames[i] == text) return static_cast<DayType>(i + 1);
  }
  return fail<DayType>(
      fmt::format("unknown day type \"{}\" (weekday, weekend, holiday1 or holiday2)", text));
}

Result<DaySchedule> parse_schedule(const toml::node& node, std::string_view what) {
  const toml::array* array = node.as_array();
  if (array == nullptr) {
    return fail<DaySchedule>(fmt::format("{}: must be an array of \"HH:MM R\" switch points", what));
  }
  if (array->empty() || array->size() > kMaxSwitchPoints) {
    return fail<DaySchedule>(fmt::format("{}: has {} switch points; 1 to {} are allowed", what,
                                         array->size(), kMaxSwitchPoints));
  }
  DaySchedule out;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const auto text = array->get(i)->value<std::string>();
    const std::string item = fmt::format("{}[{}]", what, i + 1);
    unsigned hour = 0, minute = 0;
    if (!text || text->size() != 7 || (*text)[2] != ':' || (*text)[5] != ' ' ||
        !digits(text->substr(0, 2), hour) || !digits(text->substr(3, 2), minute)) {
      return fail<DaySchedule>(fmt::format("{}: must be \"HH:MM R\" (e.g. \"07:00 B\")", item));
    }
    if (hour > 23 || minute > 59) {
      return fail<DaySchedule>(
          fmt::format("{}: {} is out of range (00:00 to 23:59)", item, text->substr(0, 5)));
    }
    auto rate = parse_rate(text->substr(6));
    if (!rate) return fail<DaySchedule>(fmt::format("{}: {}", item, rate.error()));
    const auto at = static_cast<std::uint16_t>(hour * 60 + minute);
    if (out.empty() && at != 0) {
      return fail<DaySchedule>(fmt::format("{}: the first switch point must be at 00:00", item));
    }
    if (!out.empty() && at <= out.back().minute) {
      return fail<DaySchedule>(
          fmt::format("{}: {} is not after the switch point before it (out of order)", item,
                      text->substr(0, 5)));
    }
    out.push_back({at, rate.value()});
  }
  return out;
}

Result<Calendar> parse_calendar(const toml::array& seasons) {
  if (seasons.empty() || seasons.size() > kMaxSeasons) {
    return fail<Calendar>(
        fmt::format("seasons: has {}; 1 to {} are allowed", seasons.size(), kMaxSeasons));
  }
  Calendar out;
  for (std::size_t i = 0; i < seasons.size(); ++i) {
    const toml::table* t = seasons.get(i)->as_table();
    const std::string what = fmt::format("seasons[{}]", i + 1);
    if (t == nullptr) return fail<Calendar>(what + ": must be a table");
    Season s;
    const auto name = (*t)["name"].value<std::string>();
    if (!name || name->empty()) return fail<Calendar>(what + ".name: is required (text)");
    s.name = *name;
    auto start = parse_month_day(t->get("start"), what + ".start");
    if (!start) return fail<Calendar>(start.error());
    s.start = start.value();
    if (t->contains("end")) {
      auto end = parse_month_day(t->get("end"), what + ".end");
      if (!end) return fail<Calendar>(end.error());
      s.end = end.value();
    }
    auto days = parse_days(*t, what);
    if (!days) return fail<Calendar>(days.error());
    s.days = std::move(days.value());
    if (out.find(s.name) != nullptr) {
      return fail<Calendar>(fmt::format("{}.name: season \"{}\" is named twice", what, s.name));
    }
    out.seasons.push_back(std::move(s));
  }
  // Checked in order of their starts; a message names a season by its place in the settings.
  std::vector<std::size_t> order(out.seasons.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    return out.seasons[x].start.key() < out.seasons[y].start.key();
  });
  auto place = [](std::size_t index, const char* key) {
    return fmt::format("seasons[{}].{}", index + 1, key);
  };
  for (std::size_t i = 0; i < order.size(); ++i) {
    const Season& s = out.seasons[order[i]];
    const std::size_t next_index = order[(i + 1) % order.size()];
    const Season& next = out.seasons[next_index];
    if (i + 1 < order.size() && s.start == next.start) {
      return fail<Calendar>(fmt::format("{}: seasons \"{}\" and \"{}\" both start on {}: seasons "
                                        "overlap", place(next_index, "start"), s.name, next.name,
                                        month_day_text(s.start)));
    }
    if (!s.end) continue;
    // The day before the next season starts, in a year without 29 February.
    const auto next_start = date::local_days{date::year{2027} / date::month{next.start.month} /
                                             date::day{next.start.day}};
    const date::month_day expected{date::year_month_day{next_start - date::days{1}}.month(),
                                   date::year_month_day{next_start - date::days{1}}.day()};
    const MonthDay want{static_cast<unsigned>(expected.month()),
                        static_cast<unsigned>(expected.day())};
    if (*s.end == want) continue;
    const bool overlaps = out.seasons.size() > 1 && [&] {
      // The end lies inside the next season when it is on or after the next start, counting
      // forward from this season's start.
      auto span = [&](MonthDay md) {
        return (md.key() + 1300 - s.start.key()) % 1300;
      };
      return span(*s.end) >= span(next.start);
    }();
    return fail<Calendar>(fmt::format(
        "{}: season \"{}\" ends on {} but \"{}\" starts on {}: seasons {}", place(order[i], "end"), s.name,
        month_day_text(*s.end), next.name, month_day_text(next.start),
        overlaps ? "overlap" : "leave a gap (end it on " + month_day_text(want) + ")"));
  }
  std::vector<Season> sorted;
  for (const std::size_t i : order) sorted.push_back(std::move(out.seasons[i]));
  out.seasons = std::move(sorted);
  return out;
}

Result<std::vector<Holiday>> parse_holidays(const toml::array& holidays) {
  std::vector<Holiday> out;
  for (std::size_t i = 0; i < holidays.size(); ++i) {
    const std::string what = fmt::format("holidays[{}]", i + 1);
    const auto text = holidays.get(i)->value<std::string>();
    if (!text) return fail<std::vector<Holiday>>(what + ": must be \"YYYY-MM-DD [holiday1|holiday2]\"");
    std::string_view rest(*text);
    auto day = parse_date(rest.substr(0, std::min<std::size_t>(10, rest.size())), what);
    if (!day) return fail<std::vector<Holiday>>(day.error());
    Holiday h{day.value(), DayType::holiday1};
    if (rest.size() > 10) {
      if (rest[10] != ' ') return fail<std::vector<Holiday>>(what + ": must be \"YYYY-MM-DD [holiday1|holiday2]\"");
      auto type = parse_day_type(rest.substr(11));
      if (!type) return fail<std::vector<Holiday>>(what + ": " + type.error());
      if (type.value() != DayType::holiday1 && type.value() != DayType::holiday2) {
        return fail<std::vector<Holiday>>(what + ": a holiday is holiday1 or holiday2");
      }
      h.type = type.value();
    }
    for (const auto& other : out) {
      if (other.day == h.day) return fail<std::vector<Holiday>>(what + ": " + date_text(h.day) + " is listed twice");
    }
    out.push_back(h);
  }
  return out;
}

Result<Calendar> parse_calendar_text(std::string_view text) {
  auto doc = parse_document(text, "calendar");
  if (!doc) return fail<Calendar>(doc.error());
  const toml::array* seasons = doc.value().get_as<toml::array>("seasons");
  if (seasons == nullptr) return fail<Calendar>("seasons: is required ([[seasons]] tables)");
  return parse_calendar(*seasons);
}

Result<PassiveCalendar> parse_passive_text(std::string_view text) {
  auto doc = parse_document(text, "passive calendar");
  if (!doc) return fail<PassiveCalendar>(doc.error());
  auto activation = toml_instant(doc.value().get("activation"), "activation");
  if (!activation) return fail<PassiveCalendar>(activation.error());
  const toml::array* seasons = doc.value().get_as<toml::array>("seasons");
  if (seasons == nullptr) return fail<PassiveCalendar>("seasons: is required ([[seasons]] tables)");
  auto calendar = parse_calendar(*seasons);
  if (!calendar) return fail<PassiveCalendar>(calendar.error());
  return PassiveCalendar{std::move(calendar.value()), activation.value()};
}

Result<DayCalendar> parse_day_calendar_text(std::string_view text) {
  auto doc = parse_document(text, "day calendar");
  if (!doc) return fail<DayCalendar>(doc.error());
  auto first = toml_date(doc.value().get("start"), "start");
  if (!first) return fail<DayCalendar>(first.error());
  const toml::array* days = doc.value().get_as<toml::array>("days");
  if (days == nullptr) return fail<DayCalendar>("days: is required (an array of day types)");
  if (days->empty() || days->size() > kCalendarDays) {
    return fail<DayCalendar>(fmt::format("days: has {} days; the calendar holds 1 to {}",
                                         days->size(), kCalendarDays));
  }
  DayCalendar out{first.value(), {}};
  for (std::size_t i = 0; i < days->size(); ++i) {
    const auto name = days->get(i)->value<std::string>();
    auto type = parse_day_type(name.value_or(""));
    if (!type) return fail<DayCalendar>(fmt::format("days[{}]: {}", i + 1, type.error()));
    out.days.push_back(type.value());
  }
  return out;
}

Result<Override> parse_override_text(std::string_view text) {
  auto doc = parse_document(text, "override");
  if (!doc) return fail<Override>(doc.error());
  auto start = toml_instant(doc.value().get("start"), "start");
  if (!start) return fail<Override>(start.error());
  auto stop = toml_instant(doc.value().get("stop"), "stop");
  if (!stop) return fail<Override>(stop.error());
  if (stop.value() <= start.value()) return fail<Override>("stop: must be after start");
  const toml::node* points = doc.value().get("points");
  if (points == nullptr) return fail<Override>("points: is required (override switch points)");
  auto schedule = parse_schedule(*points, "points");
  if (!schedule) return fail<Override>(schedule.error());
  return Override{start.value(), stop.value(), std::move(schedule.value())};
}

Result<SwitchPointDownload> parse_switch_points_text(std::string_view text) {
  auto doc = parse_document(text, "switch points");
  if (!doc) return fail<SwitchPointDownload>(doc.error());
  SwitchPointDownload out;
  if (const toml::node* season = doc.value().get("season")) {
    const auto name = season->value<std::string>();
    if (!name || name->empty()) return fail<SwitchPointDownload>("season: must be a season's name");
    out.season = *name;
  }
  for (const auto& [key, node] : doc.value()) {
    const bool known = key.str() == "season" ||
                       std::find(kDayTypeNames.begin(), kDayTypeNames.end(), key.str()) !=
                           kDayTypeNames.end();
    if (!known) {
      return fail<SwitchPointDownload>(fmt::format(
          "{}: unknown key (season, weekday, weekend, holiday1, holiday2)", key.str()));
    }
  }
  auto days = parse_days(doc.value(), "switch points");
  if (!days) return fail<SwitchPointDownload>(days.error());
  out.days = std::move(days.value());
  return out;
}

std::string to_text(const DaySchedule& schedule) {
  std::string out = "[";
  for (const auto& p : schedule) {
    out += fmt::format("{}\"{:02}:{:02} {}\"", out.size() > 1 ? ", " : "", p.minute / 60,
                       p.minute % 60, letter(p.rate));
  }
  return out + "]";
}

namespace {
std::string season_body(const Season& s) {
  std::string out = fmt::format("name = \"{}\"\nstart = \"{}\"\n", s.name, month_day_text(s.start));
  if (s.end) out += fmt::format("end = \"{}\"\n", month_day_text(*s.end));
  for (std::size_t i = 0; i < kDayTypes; ++i) {
    out += fmt::format("{} = {}\n", kDayTypeNames[i], to_text(s.days[i]));
  }
  return out;
}
}  // namespace

std::string to_text(const Calendar& calendar) {
  std::string out;
  for (const auto& s : calendar.seasons) out += "\n[[seasons]]\n" + season_body(s);
  return out;
}

std::string to_text(const PassiveCalendar& passive) {
  return fmt::format("activation = {}\n{}", format_utc(passive.activation_utc_ms),
                     to_text(passive.calendar));
}

std::string to_text(const DayCalendar& calendar) {
  std::string out = fmt::format("start = {}\ndays = [", date_text(calendar.first));
  for (std::size_t i = 0; i < calendar.days.size(); ++i) {
    out += fmt::format("{}\"{}\"", i ? ", " : "", name_of(calendar.days[i]));
  }
  return out + "]\n";
}

std::string to_text(const Override& o) {
  return fmt::format("start = {}\nstop = {}\npoints = {}\n", format_utc(o.start_utc_ms),
                     format_utc(o.stop_utc_ms), to_text(o.points));
}

std::string format_utc(std::int64_t utc_ms) {
  const date::sys_time<std::chrono::milliseconds> t{std::chrono::milliseconds(utc_ms)};
  return date::format("%Y-%m-%dT%H:%M:%SZ", date::floor<std::chrono::seconds>(t));
}

}  // namespace meter::plugins::tou
