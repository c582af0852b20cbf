#include "meter/boards/sim/load_model.h"

#include <date/date.h>
#include <date/tz.h>
#include <gtest/gtest.h>

#include <cmath>

namespace meter::boards::sim {
namespace {

using std::chrono::minutes;

std::int64_t minute_of(date::sys_days day, int hour, int minute = 0) {
  return std::chrono::floor<minutes>(day.time_since_epoch()).count() + hour * 60 + minute;
}

double total_w(const LoadPoint& p) {
  double w = 0;
  for (std::uint8_t e = 0; e < p.elements; ++e) w += p.active_w[e];
  return w;
}

LoadModelConfig residential(std::uint64_t seed = 7) {
  LoadModelConfig c;
  c.seed = seed;
  c.elements = 2;
  c.utc_offset = minutes{-300};
  return c;
}

// Mean power over [hour_from, hour_to) local, over the first day of every month of 2026.
double mean_w(LoadModel& m, double hour_from, double hour_to, int utc_offset_min) {
  double sum = 0;
  int n = 0;
  for (unsigned month = 1; month <= 12; ++month) {
    for (unsigned day = 1; day <= 28; day += 9) {
      const date::sys_days d{date::year{2026} / month / day};
      for (int t = static_cast<int>(hour_from * 60); t < static_cast<int>(hour_to * 60); ++t) {
        sum += total_w(m.minute(minute_of(d, 0, t - utc_offset_min)));
        ++n;
      }
    }
  }
  return sum / n;
}

TEST(LoadModel, ResidentialEveningPeakIsAboveTheSmallHours) {
  LoadModel m(residential());
  const double evening = mean_w(m, 18, 21, -300);
  const double small_hours = mean_w(m, 2.5, 3.5, -300);
  EXPECT_GT(small_hours, 50.0) << "standby and the fridge never stop";
  EXPECT_GT(evening, 2.0 * small_hours);
}

TEST(LoadModel, TheSameMinuteGivesTheSameLoadWhateverCameBefore) {
  LoadModel a(residential(7));
  LoadModel b(residential(7));
  LoadModel other(residential(8));
  const std::int64_t t = minute_of(date::sys_days{date::year{2026} / 1 / 15}, 23, 30);
  b.minute(t - 5000);  // a different history: other cached day and zone offset
  int differ = 0;
  for (std::int64_t k = 0; k < 1440; ++k) {
    const LoadPoint pa = a.minute(t + k);
    const LoadPoint pb = b.minute(t + k);
    EXPECT_EQ(pa.active_w, pb.active_w);
    EXPECT_EQ(pa.reactive_var, pb.reactive_var);
    differ += pa.active_w != other.minute(t + k).active_w ? 1 : 0;
  }
  EXPECT_GT(differ, 100) << "another seed is another day";
  EXPECT_EQ(a.jitter(1'780'000'000), b.jitter(1'780'000'000));
  EXPECT_NE(a.jitter(1'780'000'000), a.jitter(1'780'000'001));
  for (const double j : a.jitter(1'780'000'123)) {
    EXPECT_GE(j, 1 - LoadModel::kJitter);
    EXPECT_LE(j, 1 + LoadModel::kJitter);
  }
}

TEST(LoadModel, PvGeneratesOnlyInDaylightAndAPvSiteExportsAtNoon) {
  auto c = residential();
  c.pv_peak_w = 5000;
  LoadModel m(c);
  double noon_w = 0;
  for (unsigned day = 1; day <= 30; ++day) {
    const date::sys_days d{date::year{2026} / 6 / day};
    for (int local = 0; local < 1440; ++local) {
      const LoadPoint p = m.minute(minute_of(d, 0, local + 300));
      if (local < 4 * 60 || local >= 21 * 60) {
        EXPECT_EQ(p.pv_w, 0.0) << "night, minute " << local;
      }
      if (local >= 11 * 60 + 30 && local < 12 * 60 + 30) {
        EXPECT_GT(p.pv_w, 0.0);
        noon_w += total_w(p);
      }
    }
  }
  EXPECT_LT(noon_w, 0.0) << "the site exports around noon";
  // In December the sun rises later and sets earlier.
  const date::sys_days winter{date::year{2026} / 12 / 21};
  EXPECT_EQ(m.minute(minute_of(winter, 0, 6 * 60 + 300)).pv_w, 0.0);
  EXPECT_EQ(m.minute(minute_of(winter, 0, 18 * 60 + 300)).pv_w, 0.0);
  EXPECT_GT(m.minute(minute_of(winter, 0, 12 * 60 + 300)).pv_w, 0.0);
}

TEST(LoadModel, CommercialLoadLagsOnEveryPhaseAndFollowsBusinessHours) {
  LoadModelConfig c;
  c.kind = LoadModelKind::commercial;
  c.elements = 3;
  c.nominal_voltage_v = 120;
  c.utc_offset = minutes{-300};
  LoadModel m(c);
  const date::sys_days wednesday{date::year{2026} / 3 / 11};
  const date::sys_days sunday{date::year{2026} / 3 / 15};
  double p = 0, q = 0, s = 0, night = 0, weekend = 0;
  for (int local = 9 * 60; local < 17 * 60; ++local) {
    const LoadPoint pt = m.minute(minute_of(wednesday, 0, local + 300));
    for (std::size_t e = 0; e < 3; ++e) {
      EXPECT_GT(pt.reactive_var[e], 0.0) << "lagging on element " << e;
      p += pt.active_w[e];
      q += pt.reactive_var[e];
      s += pt.current_a[e] * c.nominal_voltage_v;
    }
    night += total_w(m.minute(minute_of(wednesday, 0, local + 300 - 9 * 60)));
    weekend += total_w(m.minute(minute_of(sunday, 0, local + 300)));
  }
  const double pf = p / std::hypot(p, q);
  EXPECT_GT(pf, 0.75);
  EXPECT_LT(pf, 0.95);
  EXPECT_NEAR(p / s, pf, 0.05) << "currents agree with P and Q";
  EXPECT_GT(p, 1.8 * night);
  EXPECT_GT(p, 1.8 * weekend);
}

TEST(LoadModel, LocalHoursFollowTheZoneAcrossDaylightSaving) {
  const auto* toronto = date::locate_zone("America/Toronto");
  auto zoned = residential();
  zoned.zone = toronto;
  auto winter_fixed = residential();  // EST
  auto summer_fixed = residential();
  summer_fixed.utc_offset = minutes{-240};  // EDT
  LoadModel z(zoned), w(winter_fixed), s(summer_fixed);
  const std::int64_t january = minute_of(date::sys_days{date::year{2026} / 1 / 10}, 0);
  const std::int64_t july = minute_of(date::sys_days{date::year{2026} / 7 / 10}, 0);
  int july_differs = 0;
  for (std::int64_t k = 0; k < 1440; ++k) {
    EXPECT_EQ(z.minute(january + k).active_w, w.minute(january + k).active_w);
    EXPECT_EQ(z.minute(july + k).active_w, s.minute(july + k).active_w);
    july_differs += z.minute(july + k).active_w != w.minute(july + k).active_w ? 1 : 0;
  }
  EXPECT_GT(july_differs, 30);
}

TEST(LoadModel, NoElementExceedsTheMaximumCurrent) {
  auto c = residential();
  c.elements = 1;
  c.nominal_voltage_v = 120;
  c.max_current_a = 20;
  LoadModel m(c);
  const std::int64_t t = minute_of(date::sys_days{date::year{2026} / 1 / 20}, 22);
  double peak = 0;
  for (std::int64_t k = 0; k < 1440; ++k) {
    const LoadPoint p = m.minute(t + k);
    peak = std::max(peak, p.current_a[0]);
    EXPECT_NEAR(std::hypot(p.active_w[0], p.reactive_var[0]) / 120, p.current_a[0], 1e-9);
  }
  EXPECT_DOUBLE_EQ(peak, 20.0) << "a winter evening at 120 V needs more than 20 A";
}

}  // namespace
}  // namespace meter::boards::sim
