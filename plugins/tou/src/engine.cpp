// Rate look-up, segment bounds, season validity, day types, downloads and billing self-reads.
#include "engine.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

namespace meter::plugins::tou {
namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/// The zone's offset at `at` and the instant it next changes (ms).
struct LocalFrame {
  std::int64_t offset_ms = 0;
  std::int64_t until_utc_ms = 0;
};

LocalFrame frame_at(const date::time_zone& zone, std::int64_t at_utc_ms) {
  const date::sys_seconds s{std::chrono::seconds(floor_div(at_utc_ms, 1000))};
  const date::sys_info info = zone.get_info(s);
  constexpr std::int64_t kFarFuture_s = 1LL << 40;  // far past any real transition
  const std::int64_t end_s = info.end.time_since_epoch().count();
  return {info.offset.count() * 1000,
          end_s >= kFarFuture_s ? std::numeric_limits<std::int64_t>::max() : end_s * 1000};
}

}  // namespace

Engine::Engine(Settings settings, Calendar calendar, std::vector<Holiday> holidays)
    : settings_(settings),
      active_(std::move(calendar)),
      holidays_(std::move(holidays)),
      rate_(settings.default_rate),
      rate_index_(index_of(settings.default_rate)) {}

unsigned Engine::enter_time_unknown() noexcept {
  const Rate old = rate_;
  rate_ = settings_.default_rate;
  rate_index_ = index_of(rate_);
  reason_ = Reason::time_unknown;
  day_type_.reset();
  segment_start_ = std::numeric_limits<std::int64_t>::max();
  invalidate();
  return rate_ != old ? kRateChanged : 0u;
}

DayType Engine::day_type_of(date::local_days day) const noexcept {
  if (day_calendar_) {
    if (auto t = day_calendar_->type_of(day)) return *t;
  }
  for (const auto& h : holidays_) {
    if (h.day == day) return h.type;
  }
  const date::weekday wd{day};
  return wd == date::Saturday || wd == date::Sunday ? DayType::weekend : DayType::weekday;
}

const Season& Engine::season_at(std::int64_t at_utc_ms) const {
  const LocalFrame f = frame_at(*settings_.zone, at_utc_ms);
  const date::local_days today{date::days(floor_div(at_utc_ms + f.offset_ms, kMsPerDay))};
  const date::year_month_day ymd{today};
  return active_.seasons[active_.season_of(ymd.month() / ymd.day())];
}

namespace {
/// The season's start in `year`; a start on 29 February is 28 February in other years.
date::local_days start_in(const Season& season, date::year year) {
  const date::month month{season.start.month};
  const date::year_month_day ymd = year / month / date::day{season.start.day};
  if (ymd.ok()) return date::local_days{ymd};
  return date::local_days{date::year_month_day_last{year / month / date::last}};
}

/// Whether occurrence `a` starts on or before occurrence `b` (ISO dates compare as text).
bool starts_by(const std::string& a, const std::string& b) {
  const auto at_a = a.find('@');
  const auto at_b = b.find('@');
  if (at_a == std::string::npos || at_b == std::string::npos) return a == b;
  return a.compare(at_a + 1, std::string::npos, b, at_b + 1, std::string::npos) <= 0;
}
}  // namespace

std::string Engine::season_key(std::size_t index, date::local_days day, bool next) const {
  const Season& season = active_.seasons.at(index);
  // One season all year: it never changes, so it has no occurrences to tell apart.
  if (active_.seasons.size() == 1) return season.name;
  const date::year year = date::year_month_day{day}.year();
  date::local_days start = start_in(season, year);
  if (next) {
    if (start <= day) start = start_in(season, year + date::years{1});
  } else if (start > day) {
    start = start_in(season, year - date::years{1});
  }
  return fmt::format("{}@{}", season.name, date::format("%F", start));
}

std::string Engine::season_key_at(std::int64_t at_utc_ms) const {
  const LocalFrame f = frame_at(*settings_.zone, at_utc_ms);
  const date::local_days today{date::days(floor_div(at_utc_ms + f.offset_ms, kMsPerDay))};
  const date::year_month_day ymd{today};
  return season_key(active_.season_of(ymd.month() / ymd.day()), today);
}

void Engine::restore_valid_season(std::string season, std::int64_t now_utc_ms, bool time_valid) {
  valid_season_ = std::move(season);
  if (valid_season_.find('@') != std::string::npos || active_.seasons.size() < 2 || !time_valid) {
    return;
  }
  const LocalFrame f = frame_at(*settings_.zone, now_utc_ms);
  const date::local_days today{date::days(floor_div(now_utc_ms + f.offset_ms, kMsPerDay))};
  const std::size_t index = active_.season_of(date::year_month_day{today}.month() /
                                              date::year_month_day{today}.day());
  if (active_.seasons[index].name == valid_season_) valid_season_ = season_key(index, today);
}

unsigned Engine::bill_if_due(date::local_days today) {
  const date::year_month_day ymd{today};
  date::year_month month = ymd.year() / ymd.month();
  if (ymd.day() < date::day{settings_.billing_day}) month -= date::months{1};
  const date::year_month_day due = month / date::day{settings_.billing_day};
  const date::local_days due_day{due};
  if (!last_billed_) {
    last_billed_ = due_day;  // a new meter starts its first billing period now
    return kBilled;
  }
  if (*last_billed_ >= due_day) return 0;
  history_.push_back({due_day, import_mwh_, export_mwh_});
  while (history_.size() > kBillingSets) history_.pop_front();
  last_billed_ = due_day;
  return kBilled;
}

unsigned Engine::evaluate(std::int64_t at) {
  unsigned changes = 0;
  const Rate old = rate_;
  const Reason old_reason = reason_;
  bool adopt_season = false;
  if (passive_ && at >= passive_->activation_utc_ms) {
    active_ = std::move(passive_->calendar);
    passive_.reset();
    adopt_season = true;  // a new calendar's switch points are valid for the season it starts in
    changes |= kTablesChanged;
  }
  if (override_ && at >= override_->stop_utc_ms) {
    override_.reset();
    changes |= kTablesChanged;
  }

  const LocalFrame frame = frame_at(*settings_.zone, at);
  const std::int64_t local_ms = at + frame.offset_ms;
  const std::int64_t day_index = floor_div(local_ms, kMsPerDay);
  const std::int64_t day_start_local_ms = day_index * kMsPerDay;
  const date::local_days today{date::days(day_index)};
  const auto minute = static_cast<unsigned>((local_ms - day_start_local_ms) / kMsPerMinute);

  changes |= bill_if_due(today);

  const date::year_month_day ymd{today};
  const std::size_t season_index = active_.season_of(ymd.month() / ymd.day());
  const Season& season = active_.seasons[season_index];
  // Validity is for one occurrence of a season, not its name: last winter's switch points are
  // not this winter's. A download kept for this occurrence makes it valid at its start.
  const std::string key = season_key(season_index, today);
  if (key != valid_season_ &&
      (adopt_season || settings_.keep_switch_points_on_season_change || valid_season_.empty() ||
       key == pending_season_)) {
    valid_season_ = key;
    changes |= kTablesChanged;
  }
  if (!pending_season_.empty() && starts_by(pending_season_, key)) {
    pending_season_.clear();  // applied, or (the time set past it) its occurrence is gone
    changes |= kTablesChanged;
  }
  const bool valid = key == valid_season_;
  day_type_ = day_type_of(today);

  const DaySchedule* schedule = nullptr;
  if (override_ && at >= override_->start_utc_ms) {
    schedule = &override_->points;
    reason_ = Reason::override_;
  } else if (valid) {
    schedule = &season.days[index_of(*day_type_)];
    reason_ = Reason::schedule;
  } else {
    reason_ = Reason::invalid;
  }
  std::size_t point = 0;
  rate_ = schedule ? rate_at(*schedule, minute, &point) : settings_.default_rate;
  rate_index_ = index_of(rate_);

  std::int64_t end = std::min(day_start_local_ms + kMsPerDay - frame.offset_ms, frame.until_utc_ms);
  if (schedule && point + 1 < schedule->size()) {
    end = std::min(end, day_start_local_ms + (*schedule)[point + 1].minute * kMsPerMinute -
                            frame.offset_ms);
  }
  if (override_) end = std::min(end, at < override_->start_utc_ms ? override_->start_utc_ms
                                                                   : override_->stop_utc_ms);
  if (passive_) end = std::min(end, passive_->activation_utc_ms);
  segment_start_ = at;
  segment_end_ = std::max(end, at + 1);
  if (rate_ != old || old_reason == Reason::time_unknown) changes |= kRateChanged;
  return changes;
}

std::string Engine::download_switch_points(const SwitchPointDownload& d, std::int64_t now_utc_ms,
                                           bool time_valid) {
  // Switch points are valid for one occurrence of a season: which one needs the date.
  if (!time_valid) {
    return "the meter does not know the time: set it first (switch points are valid for the "
           "season in force or the next one, by date)";
  }
  std::string name = d.season;
  if (name.empty()) name = season_at(now_utc_ms).name;
  auto it = std::find_if(active_.seasons.begin(), active_.seasons.end(),
                         [&](const Season& s) { return s.name == name; });
  if (it == active_.seasons.end()) {
    return fmt::format("season: \"{}\" is not a season of the active calendar", name);
  }
  it->days = d.days;
  const LocalFrame f = frame_at(*settings_.zone, now_utc_ms);
  const date::local_days today{date::days(floor_div(now_utc_ms + f.offset_ms, kMsPerDay))};
  const auto index = static_cast<std::size_t>(it - active_.seasons.begin());
  if (season_at(now_utc_ms).name == name) {
    valid_season_ = season_key(index, today);
  } else {
    pending_season_ = season_key(index, today, true);  // valid from that season's next start
  }
  invalidate();
  return {};
}

std::string Engine::set_passive(std::optional<PassiveCalendar> passive) {
  passive_ = std::move(passive);
  invalidate();
  return {};
}

void Engine::set_day_calendar(DayCalendar calendar) {
  day_calendar_ = std::move(calendar);
  invalidate();
}

std::string Engine::set_override(std::optional<Override> o, std::int64_t now_utc_ms) {
  if (o && o->stop_utc_ms <= now_utc_ms) {
    return fmt::format("stop: {} is already past", format_utc(o->stop_utc_ms));
  }
  override_ = std::move(o);
  invalidate();
  return {};
}

}  // namespace meter::plugins::tou
