// The tariff tables of the time-of-use plugin: seasons with switch points per day type, the
// 32-day calendar of day types, holidays, the tier override and the passive calendar; how each
// is read from TOML (site file, object downloads, NVM) and written back, with every rule a
// utility can break checked before anything is used.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <date/date.h>
#include <toml++/toml.h>

namespace meter::plugins::tou {

inline constexpr std::size_t kRates = 4;
inline constexpr std::size_t kDayTypes = 4;
inline constexpr std::size_t kMaxSwitchPoints = 16;
inline constexpr std::size_t kMaxSeasons = 8;
inline constexpr std::size_t kCalendarDays = 32;
inline constexpr std::int64_t kMsPerMinute = 60'000;
inline constexpr std::int64_t kMsPerDay = 86'400'000;

/// A rate (tier); A..D are 1..4, zero is never valid.
enum class Rate : std::uint8_t { a = 1, b, c, d };
/// A day type (REX: weekday, weekend, special day 1, special day 2); zero is never valid.
enum class DayType : std::uint8_t { weekday = 1, weekend, holiday1, holiday2 };

constexpr std::size_t index_of(Rate r) noexcept { return static_cast<std::size_t>(r) - 1; }
constexpr std::size_t index_of(DayType d) noexcept { return static_cast<std::size_t>(d) - 1; }
char letter(Rate r) noexcept;
std::string_view name_of(DayType d) noexcept;

/// A result or the reason it could not be made (the message a utility reads).
template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit, like expected
  static Result failure(std::string error) { return Result(std::in_place_index<1>, std::move(error)); }
  bool ok() const noexcept { return value_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() { return std::get<0>(value_); }
  const T& value() const { return std::get<0>(value_); }
  const std::string& error() const { return std::get<1>(value_); }

 private:
  template <std::size_t I>
  Result(std::in_place_index_t<I> i, std::string error) : value_(i, std::move(error)) {}
  std::variant<T, std::string> value_;
};

/// From minute `minute` of the local day on, `rate` applies (until the next switch point).
struct SwitchPoint {
  std::uint16_t minute = 0;  ///< 0..1439
  Rate rate = Rate::c;
  bool operator==(const SwitchPoint&) const = default;
};
/// A day's switch points: the first at 00:00, in strictly increasing order.
using DaySchedule = std::vector<SwitchPoint>;

/// The rate of `schedule` at `minute`; the index of that switch point in `*at` (may be null).
Rate rate_at(const DaySchedule& schedule, unsigned minute, std::size_t* at = nullptr) noexcept;

/// A month and day of any year ("11-01").
struct MonthDay {
  unsigned month = 1;
  unsigned day = 1;
  unsigned key() const noexcept { return month * 100 + day; }
  bool operator==(const MonthDay&) const = default;
};

/// A season: from `start` (each year) until the next season's start.
struct Season {
  std::string name;
  MonthDay start;
  std::optional<MonthDay> end;  ///< inclusive; when given, checked against the next start
  std::array<DaySchedule, kDayTypes> days;  ///< by DayType index
  bool operator==(const Season&) const = default;
};

/// The seasons of a tariff, sorted by start.
struct Calendar {
  std::vector<Season> seasons;
  /// The season `day` falls in (the latest start on or before it, wrapping over new year).
  std::size_t season_of(date::month_day day) const noexcept;
  const Season* find(std::string_view name) const noexcept;
  bool operator==(const Calendar&) const = default;
};

/// A calendar to become active at `activation_utc_ms`, all at once.
struct PassiveCalendar {
  Calendar calendar;
  std::int64_t activation_utc_ms = 0;
};

/// Up to 32 consecutive days' types, as a head-end downloads them.
struct DayCalendar {
  date::local_days first{};
  std::vector<DayType> days;
  std::optional<DayType> type_of(date::local_days day) const noexcept;
};

/// A date the site file names as holiday 1 or holiday 2.
struct Holiday {
  date::local_days day{};
  DayType type = DayType::holiday1;
};

/// Critical-peak pricing: from start to stop, `points` replace the day's switch points.
struct Override {
  std::int64_t start_utc_ms = 0;
  std::int64_t stop_utc_ms = 0;
  DaySchedule points;
};

/// Switch points downloaded for one season.
struct SwitchPointDownload {
  std::string season;  ///< empty: the season in force now
  std::array<DaySchedule, kDayTypes> days;
};

Result<Rate> parse_rate(std::string_view text);
Result<DayType> parse_day_type(std::string_view text);
Result<DaySchedule> parse_schedule(const toml::node& node, std::string_view what);
Result<Calendar> parse_calendar(const toml::array& seasons);
Result<std::vector<Holiday>> parse_holidays(const toml::array& holidays);
/// Parses a TOML document of the given shape (the encodings in README.md).
Result<Calendar> parse_calendar_text(std::string_view text);
Result<PassiveCalendar> parse_passive_text(std::string_view text);
Result<DayCalendar> parse_day_calendar_text(std::string_view text);
Result<Override> parse_override_text(std::string_view text);
Result<SwitchPointDownload> parse_switch_points_text(std::string_view text);

std::string to_text(const DaySchedule& schedule);  ///< TOML array: ["00:00 A", "07:00 C"]
std::string to_text(const Calendar& calendar);
std::string to_text(const PassiveCalendar& passive);
std::string to_text(const DayCalendar& calendar);
std::string to_text(const Override& override_);
std::string format_utc(std::int64_t utc_ms);  ///< TOML offset date-time, "2026-07-15T18:00:00Z"

}  // namespace meter::plugins::tou
