// A simulated year on the Toronto site's Ontario-style tariff: a household with rooftop PV,
// one tick a minute through 2026. Per-rate energy must equal what this test computes on its
// own from the OEB periods (written out here, not read from the plugin's tables) with date/tz,
// and the rate registers must sum to the meter's totals exactly.
#include <array>
#include <set>

#include "fixture.h"

namespace meter::plugins::tou::testing {
namespace {

using namespace std::chrono;

/// Ontario TOU: 1 off-peak, 2 mid-peak, 3 on-peak at the instant `at` (UTC ms).
int ontario_rate(const date::time_zone* zone, std::int64_t at) {
  static const std::set<date::local_days> kHolidays = [] {
    std::set<date::local_days> s;
    for (auto [m, d] : std::initializer_list<std::pair<unsigned, unsigned>>{
             {1, 1}, {2, 16}, {4, 3}, {5, 18}, {7, 1}, {8, 3}, {9, 7}, {10, 12}, {12, 25}, {12, 28}}) {
      s.insert(date::local_days{date::year{2026} / m / d});
    }
    return s;
  }();
  const auto local = date::make_zoned(zone, date::sys_time<milliseconds>(milliseconds(at)))
                         .get_local_time();
  const auto day = date::floor<date::days>(local);
  const date::year_month_day ymd{day};
  const date::weekday wd{day};
  if (wd == date::Saturday || wd == date::Sunday || kHolidays.count(day)) return 1;
  const auto hour = duration_cast<hours>(local - day).count();
  const bool summer = ymd.month() >= date::May && ymd.month() <= date::October;
  if (hour < 7 || hour >= 19) return 1;
  if (hour < 11 || hour >= 17) return summer ? 2 : 3;
  return summer ? 3 : 2;
}

/// A household: a base load with a morning and evening peak and noise; PV from sunrise to
/// sunset that exports what the house does not use. mWh per minute.
struct LoadModel {
  std::uint64_t state = 12345;
  std::uint64_t next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
  }
  std::pair<std::int64_t, std::int64_t> minute(std::int64_t at_ms) {
    const std::int64_t minute_of_day = (at_ms / 60'000 + 19 * 60) % 1440;  // ~EST
    std::int64_t load_mw = 400'000 + static_cast<std::int64_t>(next() % 300'000);
    if (minute_of_day >= 6 * 60 && minute_of_day < 9 * 60) load_mw += 1'200'000;
    if (minute_of_day >= 17 * 60 && minute_of_day < 22 * 60) load_mw += 1'800'000;
    std::int64_t pv_mw = 0;
    if (minute_of_day >= 7 * 60 && minute_of_day < 19 * 60) {
      const std::int64_t x = minute_of_day - 13 * 60;  // parabola peaking at 13:00, 5 kW
      pv_mw = std::max<std::int64_t>(0, 5'000'000 - x * x * 5'000'000 / (360 * 360));
    }
    const std::int64_t net_mw = load_mw - pv_mw;
    const std::int64_t mwh = std::abs(net_mw) / 60;  // one minute
    return net_mw >= 0 ? std::pair{mwh, std::int64_t{0}} : std::pair{std::int64_t{0}, mwh};
  }
};

TEST(TouYear, ASimulatedYearMatchesTheTariffComputedIndependently) {
  const auto* zone = date::locate_zone("America/Toronto");
  const std::int64_t start = duration_cast<milliseconds>(
      date::sys_days{date::year{2026} / 1 / 1}.time_since_epoch() + hours(5)).count();
  const std::int64_t end = duration_cast<milliseconds>(
      date::sys_days{date::year{2027} / 1 / 1}.time_since_epoch() + hours(5)).count();
  Meter m(toronto_settings(), start);
  ASSERT_EQ(m.boot(), sdk::Status::ok);
  LoadModel load;
  std::array<std::int64_t, 4> want_import{}, want_export{};
  for (std::int64_t t = start + 60'000; t <= end; t += 60'000) {
    const auto [imp, exp] = load.minute(t);
    const int rate = ontario_rate(zone, t - 1);
    want_import[rate - 1] += imp;
    want_export[rate - 1] += exp;
    m.tick(60'000, imp, exp);
  }
  std::int64_t sum_import = 0, sum_export = 0;
  for (std::size_t r = 1; r <= 4; ++r) {
    EXPECT_EQ(m.import_of(r), want_import[r - 1]) << "rate " << r;
    EXPECT_EQ(m.export_of(r), want_export[r - 1]) << "rate " << r;
    sum_import += m.import_of(r);
    sum_export += m.export_of(r);
  }
  EXPECT_EQ(sum_import, m.total_import_mwh());
  EXPECT_EQ(sum_export, m.total_export_mwh());
  EXPECT_GT(want_import[0], 0);
  EXPECT_GT(want_import[1], 0);
  EXPECT_GT(want_import[2], 0);
  EXPECT_GT(want_export[1] + want_export[2], 0);
  EXPECT_EQ(m.import_of(4), 0);
  // Twelve monthly self-reads, the last at midnight starting 1 January 2027, taken by the
  // first tick of the new year (the tick ending at midnight belongs to the old one).
  EXPECT_EQ(m.text(kBillingHistory).find("date = 2027-01-01"), std::string::npos);
  m.tick(60'000, 0, 0);
  EXPECT_NE(m.text(kBillingHistory).find("date = 2026-12-01"), std::string::npos);
  EXPECT_NE(m.text(kBillingHistory).find("date = 2026-02-01"), std::string::npos);
  EXPECT_NE(m.text(kBillingHistory).find("date = 2027-01-01"), std::string::npos);
  EXPECT_EQ(m.text(kBillingHistory).find("date = 2026-01-01"), std::string::npos);
}

}  // namespace
}  // namespace meter::plugins::tou::testing
