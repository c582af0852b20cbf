// Class 0.2S accuracy on synthetic waveforms: every test point is its own case, energy within
// 0.1 % of the exact integral of v*i, and the measurements against their closed forms.
//
// Board: 120 V, In = 5 A, Imax = 20 A. int16 full scale is 200 V and 40 A peak, so 0.01 In is
// about 58 codes peak; samples carry one code of triangular dither.
#include <gtest/gtest.h>

#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "detail/synthetic.h"
#include "meter/kernel/metrology.h"

namespace meter::kernel {
namespace {

using detail::Wave;

constexpr double kNominalV = 120.0;
constexpr double kIn = 5.0;
constexpr double kImax = 20.0;
constexpr double kVoltsPerCode = 200.0 / 32767;
constexpr double kAmpsPerCode = 40.0 / 32767;
constexpr double kNwhPerWs = 1e9 / 3600.0;

enum class Pf { unity, half_inductive, capacitive_08 };
enum class Type { int16, float32 };

struct Point {
  const char* service;
  Type type;
  std::uint32_t rate_hz;
  double f_hz;
  double current_in;  // multiple of In
  Pf pf;
  bool harmonics;
};

double lag_deg(Pf pf) {
  switch (pf) {
    case Pf::unity:
      return 0;
    case Pf::half_inductive:
      return 60;
    case Pf::capacitive_08:
      return -std::acos(0.8) * 180 / std::numbers::pi;
  }
  return 0;
}

std::string name_of(const Point& p) {
  std::string s = p.service[0] == '1' ? "w1" : "w3";
  s += p.type == Type::int16 ? "_i16" : "_f32";
  s += "_" + std::to_string(p.rate_hz / 1000) + "k";
  s += "_" + std::to_string(static_cast<int>(p.f_hz * 10)) + "dHz";
  s += "_I" + std::to_string(static_cast<int>(p.current_in * 100)) + "pct";
  s += p.pf == Pf::unity ? "_pf1" : p.pf == Pf::half_inductive ? "_pf05L" : "_pf08C";
  if (p.harmonics) s += "_h35";
  return s;
}

void PrintTo(const Point& p, std::ostream* os) {
  *os << name_of(p);
}

std::vector<Point> points() {
  std::vector<Point> out;
  // Every current and power factor, with and without harmonics, at nominal frequency.
  for (const char* service : {"1e2w", "3e4w-wye"}) {
    for (Type type : {Type::int16, Type::float32}) {
      for (double current : {0.01, 0.05, 0.1, 1.0, kImax / kIn}) {
        for (Pf pf : {Pf::unity, Pf::half_inductive, Pf::capacitive_08}) {
          for (bool harmonics : {false, true}) {
            out.push_back({service, type, 4000, 60.0, current, pf, harmonics});
          }
        }
      }
    }
  }
  // Frequency +-5 % of 50 and 60 Hz at several sample rates.
  for (const char* service : {"1e2w", "3e4w-wye"}) {
    for (double f : {47.5, 50.0, 52.5, 57.0, 60.0, 63.0}) {
      for (std::uint32_t rate : {2000u, 8000u, 32000u}) {
        for (Pf pf : {Pf::unity, Pf::half_inductive}) {
          out.push_back({service, Type::int16, rate, f, 1.0, pf, pf == Pf::unity});
        }
      }
      for (std::uint32_t rate : {2000u, 32000u}) {
        out.push_back({service, Type::float32, rate, f, 0.1, Pf::capacitive_08, false});
      }
    }
  }
  return out;
}

class MetrologyAccuracy : public ::testing::TestWithParam<Point> {};

TEST_P(MetrologyAccuracy, EnergyAndMeasurementsMatchAnalyticValues) {
  const Point& p = GetParam();
  const ServiceConfiguration* service = find_service(p.service).value();
  const std::size_t phases = service->elements;
  const double nominal_hz = p.f_hz < 55 ? 50.0 : 60.0;
  const double irms = p.current_in * kIn;
  const double lag = lag_deg(p.pf);

  std::vector<Wave> v(phases);
  std::vector<Wave> i(phases);
  for (std::size_t ph = 0; ph < phases; ++ph) {
    const double angle = -120.0 * static_cast<double>(ph);
    v[ph] = Wave::sine(kNominalV, angle);
    i[ph] = Wave::sine(irms, angle - lag);
    if (p.harmonics) {
      v[ph].tone(3, 0.05 * kNominalV, 3 * angle + 10).tone(5, 0.03 * kNominalV, 5 * angle - 20);
      i[ph].tone(3, 0.20 * irms, 3 * angle + 40).tone(5, 0.10 * irms, 5 * angle - 70);
    }
  }
  std::vector<Wave> channels = v;
  channels.insert(channels.end(), i.begin(), i.end());

  MetrologyConfig config;
  config.service = service;
  config.channel_count = service->channels();
  config.nominal_frequency_hz = nominal_hz;
  config.volts_per_code = {kVoltsPerCode, kVoltsPerCode, kVoltsPerCode};
  config.amps_per_code = {kAmpsPerCode, kAmpsPerCode, kAmpsPerCode};
  auto metrology = std::move(Metrology::create(config).value());

  // Two one-second ticks; the second is checked, as in a meter that has been running.
  const double t_s = 1.0;
  const std::size_t count = p.rate_hz;
  const std::size_t block = p.rate_hz / 5;  // 200 ms blocks: chunks straddle block joins
  TickMetrology tick;
  if (p.type == Type::int16) {
    std::vector<double> units(phases, kVoltsPerCode);
    units.insert(units.end(), phases, kAmpsPerCode);
    const auto planes = detail::sample_int16(channels, p.f_hz, p.rate_hz, 2 * count, units);
    ASSERT_TRUE(detail::feed(*metrology, planes, block, 0, count));
    (void)metrology->close_tick();
    ASSERT_TRUE(detail::feed(*metrology, planes, block, count, count));
    tick = metrology->close_tick();
  } else {
    const auto planes = detail::sample_float(channels, p.f_hz, p.rate_hz, 2 * count);
    ASSERT_TRUE(detail::feed(*metrology, planes, block, 0, count));
    (void)metrology->close_tick();
    ASSERT_TRUE(detail::feed(*metrology, planes, block, count, count));
    tick = metrology->close_tick();
  }
  const auto second = [&](const Wave& a, const Wave& b) {
    return detail::integral_product(a, b, p.f_hz, 2 * t_s) -
           detail::integral_product(a, b, p.f_hz, t_s);
  };
  const auto rms = [&](const Wave& a) {
    const double mean =
        (detail::integral(a, p.f_hz, 2 * t_s) - detail::integral(a, p.f_hz, t_s)) / t_s;
    return std::sqrt(second(a, a) / t_s - mean * mean);
  };

  double energy_ws = 0;
  double reactive_var = 0;
  double apparent_va = 0;
  for (std::size_t ph = 0; ph < phases; ++ph) {
    energy_ws += second(v[ph], i[ph]);
    reactive_var += kNominalV * irms * std::sin(lag * std::numbers::pi / 180);
    apparent_va += rms(v[ph]) * rms(i[ph]);
  }
  const double expected_nwh = energy_ws * kNwhPerWs;
  EXPECT_NEAR(static_cast<double>(tick.active_nwh), expected_nwh, 1e-3 * std::fabs(expected_nwh));
  EXPECT_EQ(tick.samples, count);
  EXPECT_EQ(tick.refused, 0u);
  EXPECT_FALSE(tick.no_load);
  EXPECT_NEAR(tick.duration_s, t_s, 1e-9);

  const Measurements& m = tick.measurements;
  ASSERT_EQ(m.phases, phases);
  EXPECT_NEAR(m.frequency_hz, p.f_hz, 0.01);
  for (std::size_t ph = 0; ph < phases; ++ph) {
    const double vrms = rms(v[ph]);
    const double i_rms = rms(i[ph]);
    EXPECT_NEAR(m.voltage_v[ph], vrms, 1e-3 * vrms) << "phase " << ph;
    EXPECT_NEAR(m.current_a[ph], i_rms, 1e-3 * i_rms) << "phase " << ph;
    EXPECT_NEAR(m.apparent_power_va[ph], vrms * i_rms, 2e-3 * vrms * i_rms) << "phase " << ph;
  }
  EXPECT_NEAR(m.total_active_power_w, energy_ws / t_s, 1e-3 * apparent_va);
  EXPECT_NEAR(m.total_power_factor, energy_ws / t_s / apparent_va, 2e-3);
  if (!p.harmonics) {
    // Reactive power of sinusoids; with harmonics it has no single definition.
    EXPECT_NEAR(m.total_reactive_power_var, reactive_var, 2e-3 * apparent_va);
    const double expected_nvarh = reactive_var * t_s * kNwhPerWs;
    EXPECT_NEAR(static_cast<double>(tick.reactive_nvarh), expected_nvarh,
                2e-3 * apparent_va * t_s * kNwhPerWs);
    EXPECT_NEAR(m.power_factor[0], std::cos(lag * std::numbers::pi / 180), 2e-3);
  }
  if (phases == 3) {
    for (std::size_t line = 0; line < 3; ++line) {
      const double expected = rms(v[line] - v[(line + 1) % 3]);
      EXPECT_NEAR(m.line_voltage_v[line], expected, 1e-3 * expected) << "line " << line;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Class02S, MetrologyAccuracy, ::testing::ValuesIn(points()),
                         [](const ::testing::TestParamInfo<Point>& point) {
                           return name_of(point.param);
                         });

}  // namespace
}  // namespace meter::kernel
