// The kernel clock. Local dates and midnights come from date/tz and the system's IANA database.
#include "meter/kernel/clock.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <ctime>
#include <stdexcept>

namespace meter::kernel {

namespace {
// A time set forward by years must not flood the bus: past this many midnights in one poll,
// the rest are skipped and the detection re-armed at the present time.
constexpr int kMaxMidnightsPerPoll = 366;

Milliseconds since_epoch(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return Milliseconds{static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000};
}
}  // namespace

UtcTime SystemTimeSource::utc() const { return UtcTime{since_epoch(CLOCK_REALTIME)}; }
Uptime SystemTimeSource::monotonic() const { return since_epoch(CLOCK_MONOTONIC); }

Result<const date::time_zone*> Clock::locate_zone(std::string_view zone) {
  try {
    return date::locate_zone(zone);
  } catch (const std::runtime_error&) {
    return fail(fmt::format("unknown time zone '{}'", zone));
  }
}

Result<Clock> Clock::create(const TimeSource& source, EventBus& bus, std::string_view zone,
                            bool time_valid) {
  auto tz = locate_zone(zone);
  if (!tz) return tz.error();
  return Clock(source, bus, *tz, time_valid);
}

Clock::Clock(const TimeSource& source, EventBus& bus, const date::time_zone* zone, bool valid)
    : source_(&source), bus_(&bus), zone_(zone), powered_up_(source.monotonic()), valid_(valid) {
  arm();
}

void Clock::arm() { next_midnight_ = next_local_midnight(now()); }

void Clock::set_time(UtcTime new_time) {
  const auto old_time = now();
  const bool was_valid = valid_;
  offset_ = new_time - source_->utc();
  valid_ = true;
  arm();
  bus_->publish(TimeChanged{old_time, new_time, was_valid});
  if (!was_valid) bus_->publish(FaultCleared{new_time, Fault::clock_invalid});
}

void Clock::resume(Milliseconds offset) noexcept {
  offset_ = offset;
  arm();
}

void Clock::invalidate() {
  if (!valid_) return;
  valid_ = false;
  bus_->publish(FaultRaised{now(), Fault::clock_invalid, "time unknown"});
}

void Clock::poll() {
  if (!valid_) return;
  const auto t = now();
  for (int n = 0; t >= next_midnight_; ++n) {
    if (n == kMaxMidnightsPerPoll) {
      arm();
      return;
    }
    const auto d = local_date(next_midnight_);
    bus_->publish(MidnightCrossed{next_midnight_, d.year, d.month, d.day, d.weekday});
    next_midnight_ = next_local_midnight(next_midnight_);
  }
}

LocalDate Clock::local_date(UtcTime t) const {
  const auto local = zone_->to_local(t);
  const auto day = date::floor<date::days>(local);
  const date::year_month_day ymd{day};
  const date::weekday wd{day};
  return LocalDate{static_cast<int>(ymd.year()), static_cast<std::uint8_t>(unsigned(ymd.month())),
                   static_cast<std::uint8_t>(unsigned(ymd.day())),
                   static_cast<std::uint8_t>(wd.c_encoding())};
}

std::int32_t Clock::local_minute_of_day(UtcTime t) const {
  const auto local = zone_->to_local(t);
  const auto since_midnight = local - date::floor<date::days>(local);
  return static_cast<std::int32_t>(
      std::chrono::duration_cast<std::chrono::minutes>(since_midnight).count());
}

UtcTime Clock::next_local_midnight(UtcTime t) const {
  const auto local = zone_->to_local(t);
  const auto next = date::floor<date::days>(local) + date::days{1};
  // A midnight that does not exist (a DST gap at 00:00) maps to the instant of the transition.
  return date::floor<Milliseconds>(zone_->to_sys(next, date::choose::earliest));
}

std::string_view Clock::zone_name() const noexcept { return zone_->name(); }

}  // namespace meter::kernel
