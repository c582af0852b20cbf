// Decade 5: ST-51 actual time and TOU, ST-52 clock, ST-53 time offset, ST-55 clock state,
// from the kernel's clock and time zone and the tou plugin's objects.
#include <exception>
#include <sstream>

#include <toml++/toml.h>

#include "encode.h"
#include "meter_view.h"

namespace meter::c1219::detail {
namespace {

constexpr unsigned kCapDstAuto = 1U << 0;
constexpr unsigned kCapTimeZoneOffset = 1U << 4;
constexpr unsigned kDayOfWeekUnknown = 7;
constexpr unsigned kDstFlag = 1U << 3;
constexpr unsigned kTimeZoneApplied = 1U << 5;
constexpr unsigned kDstApplied = 1U << 6;
constexpr std::size_t kMaxSeasons = 15;

std::optional<toml::table> parse(const std::string& text) {
  try {
    return toml::parse(text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// Season names of the tou plugin's active calendar, in their order.
std::vector<std::string> seasons(MeterView& m) {
  std::vector<std::string> names;
  auto text = m.text(objects::kActiveCalendar);
  if (!text) return names;
  auto doc = parse(*text);
  if (!doc) return names;
  if (const auto* list = (*doc)["seasons"].as_array()) {
    for (const auto& s : *list) {
      if (const auto* t = s.as_table()) names.push_back((*t)["name"].value_or(std::string{}));
    }
  }
  return names;
}

// The season in force now (the tou plugin's switch points object names it).
std::optional<std::size_t> current_season(MeterView& m) {
  auto text = m.text(objects::kSwitchPoints);
  if (!text || text->empty()) return std::nullopt;
  auto doc = parse(*text);
  if (!doc) return std::nullopt;
  const std::string name = (*doc)["season"].value_or(std::string{});
  const auto names = seasons(m);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return i;
  }
  return std::nullopt;
}

// CLOCK_CALENDAR and TIME_DATE_QUAL, shared by ST-52 and ST-55.
void clock_record(MeterView& m, Writer& w) {
  std::string abbrev;
  const auto local = m.local_time(&abbrev);
  w.ltime(local);
  if (!local) {
    w.u8(kDayOfWeekUnknown);
    return;
  }
  unsigned qual = static_cast<unsigned>(weekday(*local)) | kTimeZoneApplied;
  if (auto zone = m.text(objects::kTimeZone)) {
    if (auto facts = zone_facts(*zone, *local, abbrev); facts && facts->dst) {
      qual |= kDstFlag | kDstApplied;
    }
  }
  w.u8(qual);
}

}  // namespace

TableBytes actual_time_tou(MeterView& m) {
  unsigned flags2 = kCapTimeZoneOffset;
  if (auto zone = m.text(objects::kTimeZone); zone && zone_facts(*zone, Civil{2000, 1, 1}, "")) {
    flags2 |= kCapDstAuto;
  }
  const auto n = std::min(seasons(m).size(), kMaxSeasons);
  Writer w;
  w.u8(0);       // TIME_FUNC_FLAG1
  w.u8(flags2);  // TIME_FUNC_FLAG2
  w.u8(n);       // CALENDAR_FUNC: NBR_SEASONS, no special schedules
  w.u8(0);       // NBR_NON_RECURR_DATES
  w.u8(0);       // NBR_RECURR_DATES
  w.u16(0);      // NBR_TIER_SWITCHES
  w.u16(0);      // CALENDAR_TBL_SIZE
  return {ResponseCode::ok, w.take()};
}

TableBytes clock(MeterView& m) {
  Writer w;
  clock_record(m, w);
  return {ResponseCode::ok, w.take()};
}

TableBytes time_offset(MeterView& m) {
  std::string abbrev;
  const Civil at = m.local_time(&abbrev).value_or(Civil{2000, 1, 1});
  std::optional<ZoneFacts> facts;
  if (auto zone = m.text(objects::kTimeZone)) facts = zone_facts(*zone, at, abbrev);
  const ZoneFacts f = facts.value_or(ZoneFacts{});
  Writer w;
  w.time_of_day(f.dst_change_h, f.dst_change_m, f.dst_change_s);  // DST_TIME_EFF
  w.u8(static_cast<unsigned>(f.dst_amount_min));                   // DST_TIME_AMT
  w.i16(f.standard_offset_min);                                    // TIME_ZONE_OFFSET
  return {ResponseCode::ok, w.take()};
}

TableBytes clock_state(MeterView& m) {
  Writer w;
  clock_record(m, w);
  unsigned status = 0;
  if (auto rate = m.integer(objects::kCurrentRate); rate && *rate >= 1 && *rate <= 8) {
    status |= static_cast<unsigned>(*rate - 1);  // CURR_TIER: rate A is tier 0
  }
  if (auto season = current_season(m); season && *season < kMaxSeasons) {
    status |= static_cast<unsigned>(*season) << 12;
  }
  w.u16(status);
  return {ResponseCode::ok, w.take()};
}

}  // namespace meter::c1219::detail
