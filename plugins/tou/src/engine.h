// The time-of-use engine: which rate is active and why, the rate registers, and the billing
// self-reads. Host-free, so the plugin, its tests and the benchmark drive the same code.
//
// Per tick it compares the tick's time with the bounds of the current segment (two integer
// compares); only when a bound is crossed — a switch point, a local midnight, a DST change, an
// override's start or stop, a passive calendar's activation — does it convert time zones and
// look the rate up again.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <date/tz.h>

#include "meter/plugins/tou/events.h"
#include "tariff.h"

namespace meter::plugins::tou {

inline constexpr std::size_t kBillingSets = 12;

/// Why the active rate is what it is (the values of METER_TOU_REASON_*).
enum class Reason : std::uint8_t {
  schedule = METER_TOU_REASON_SCHEDULE,
  invalid = METER_TOU_REASON_INVALID,
  time_unknown = METER_TOU_REASON_TIME_UNKNOWN,
  override_ = METER_TOU_REASON_OVERRIDE,
};

/// What the site file fixes.
struct Settings {
  const date::time_zone* zone = nullptr;
  Rate default_rate = Rate::c;
  bool keep_switch_points_on_season_change = false;
  unsigned billing_day = 1;  ///< 1..28: the self-read is at local midnight starting this day
};

/// Energy per rate, mWh.
using RateRegisters = std::array<std::int64_t, kRates>;

/// One billing self-read: the registers at the local midnight starting `day`.
struct BillingRecord {
  date::local_days day{};
  RateRegisters import_mwh{};
  RateRegisters export_mwh{};
};

/// Bits of what a tick or an evaluation changed, for the plugin to publish or persist.
enum Change : unsigned {
  kRateChanged = 1,   ///< publish RateChanged
  kTablesChanged = 2, ///< calendar, validity, override or passive changed: persist them
  kBilled = 4,        ///< a billing self-read was taken: persist history and registers
};

class Engine {
 public:
  Engine(Settings settings, Calendar calendar, std::vector<Holiday> holidays);

  /// Meters one tick ending at `time_utc_ms`. Never allocates unless a bound is crossed.
  unsigned tick(std::int64_t time_utc_ms, bool time_valid, std::int64_t import_mwh,
                std::int64_t export_mwh) noexcept {
    unsigned changes = 0;
    if (!time_valid) [[unlikely]] {
      if (reason_ != Reason::time_unknown) changes = enter_time_unknown();
    } else {
      // A tick ending on a boundary belongs to the segment that ends there.
      const std::int64_t at = time_utc_ms - 1;
      if (at >= segment_end_ || at < segment_start_) [[unlikely]] changes = evaluate(at);
    }
    import_mwh_[rate_index_] += import_mwh;
    export_mwh_[rate_index_] += export_mwh;
    return changes;
  }

  /// Looks the rate up for instant `at_utc_ms` (time known). Returns Change bits.
  unsigned evaluate(std::int64_t at_utc_ms);
  /// The time is not known: the default tier until it is.
  unsigned enter_time_unknown() noexcept;
  /// Forces a look-up at the next tick (time changed, tables changed).
  void invalidate() noexcept { segment_end_ = std::numeric_limits<std::int64_t>::min(); }

  // Downloads: each checks the whole table against the rest and, on error, changes nothing.
  /// Empty on success, else the reason.
  std::string download_switch_points(const SwitchPointDownload& d, std::int64_t now_utc_ms,
                                     bool time_valid);
  std::string set_passive(std::optional<PassiveCalendar> passive);
  void set_day_calendar(DayCalendar calendar);
  std::string set_override(std::optional<Override> o, std::int64_t now_utc_ms);

  // Restoring state saved in NVM.
  void restore_registers(const RateRegisters& import_mwh, const RateRegisters& export_mwh) {
    import_mwh_ = import_mwh;
    export_mwh_ = export_mwh;
  }
  void restore_calendar(Calendar calendar) {
    active_ = std::move(calendar);
    invalidate();
  }
  /// `season` is an occurrence key (season_key()); a store written before keys held the bare
  /// name, taken for the occurrence in force at `now_utc_ms` when that season is in force.
  void restore_valid_season(std::string season, std::int64_t now_utc_ms, bool time_valid);
  /// A download kept for a season's next occurrence (empty: none).
  void restore_pending_season(std::string key) { pending_season_ = std::move(key); }
  void restore_billing(std::deque<BillingRecord> history, std::optional<date::local_days> last) {
    history_ = std::move(history);
    last_billed_ = last;
  }

  Rate rate() const noexcept { return rate_; }
  Reason reason() const noexcept { return reason_; }
  std::optional<DayType> day_type() const noexcept { return day_type_; }
  const RateRegisters& import_mwh() const noexcept { return import_mwh_; }
  const RateRegisters& export_mwh() const noexcept { return export_mwh_; }
  const Calendar& calendar() const noexcept { return active_; }
  const std::optional<PassiveCalendar>& passive() const noexcept { return passive_; }
  const std::optional<DayCalendar>& day_calendar() const noexcept { return day_calendar_; }
  const std::optional<Override>& override_table() const noexcept { return override_; }
  /// Which occurrence of a season the switch points are valid for: "winter@2026-11-01" (the
  /// season's name and the local date it started), or the bare name for a calendar of one
  /// season, which never changes season.
  const std::string& valid_season() const noexcept { return valid_season_; }
  /// The occurrence a download for a season not in force was kept for, applied at its start.
  const std::string& pending_season() const noexcept { return pending_season_; }
  /// The key of the occurrence of season `index` that is in force on `day`, or (next = true)
  /// of its first occurrence that starts after `day`.
  std::string season_key(std::size_t index, date::local_days day, bool next = false) const;
  /// The key of the occurrence in force at `at_utc_ms`.
  std::string season_key_at(std::int64_t at_utc_ms) const;
  const std::deque<BillingRecord>& billing() const noexcept { return history_; }
  std::optional<date::local_days> last_billed() const noexcept { return last_billed_; }
  /// The season in force at `at_utc_ms`.
  const Season& season_at(std::int64_t at_utc_ms) const;
  DayType day_type_of(date::local_days day) const noexcept;
  const Settings& settings() const noexcept { return settings_; }

 private:
  unsigned bill_if_due(date::local_days today);

  Settings settings_;
  Calendar active_;
  std::vector<Holiday> holidays_;
  std::optional<PassiveCalendar> passive_;
  std::optional<DayCalendar> day_calendar_;
  std::optional<Override> override_;
  std::string valid_season_;
  std::string pending_season_;
  std::deque<BillingRecord> history_;
  std::optional<date::local_days> last_billed_;

  RateRegisters import_mwh_{};
  RateRegisters export_mwh_{};
  Rate rate_;
  std::size_t rate_index_;
  Reason reason_ = Reason::time_unknown;
  std::optional<DayType> day_type_;
  std::int64_t segment_start_ = std::numeric_limits<std::int64_t>::max();
  std::int64_t segment_end_ = std::numeric_limits<std::int64_t>::min();
};

}  // namespace meter::plugins::tou
