// Metrology behaviour beyond accuracy: configuration checks, refused samples, no-load and
// starting current, calibration, chip readings and the remainders carried between ticks.
#include "meter/kernel/metrology.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "detail/energy_carry.h"
#include "detail/synthetic.h"

namespace meter::kernel {
namespace {

using detail::Wave;

constexpr double kVoltsPerCode = 200.0 / 32767;
constexpr double kAmpsPerCode = 40.0 / 32767;
constexpr double kNwhPerWs = 1e9 / 3600.0;

MetrologyConfig config_for(const char* id) {
  MetrologyConfig c;
  c.service = find_service(id).value();
  c.channel_count = c.service->channels();
  c.volts_per_code = {kVoltsPerCode, kVoltsPerCode, kVoltsPerCode};
  c.amps_per_code = {kAmpsPerCode, kAmpsPerCode, kAmpsPerCode};
  return c;
}

std::unique_ptr<Metrology> make(const MetrologyConfig& c) {
  auto created = Metrology::create(c);
  EXPECT_TRUE(created.ok()) << (created.ok() ? "" : created.error().message);
  return std::move(created.value());
}

std::vector<Wave> three_phase(double v, double i, double lag_deg) {
  std::vector<Wave> w;
  for (double a : {0.0, -120.0, 120.0}) w.push_back(Wave::sine(v, a));
  for (double a : {0.0, -120.0, 120.0}) w.push_back(Wave::sine(i, a - lag_deg));
  return w;
}

// --- configuration ---------------------------------------------------------------------------

TEST(MetrologyCreate, ChannelCountErrorNamesCountAndService) {
  MetrologyConfig c = config_for("3e4w-wye");
  c.channel_count = 4;
  const auto created = Metrology::create(c);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().message,
            "channel count 4 does not match service 3e4w-wye, which needs 6 channels "
            "(3 voltage, 3 current)");
}

struct BadConfig {
  const char* name;
  std::function<void(MetrologyConfig&)> spoil;
  std::vector<std::string> named;  // what the message must contain
};

TEST(MetrologyCreate, RefusesBadValuesAndNamesThem) {
  static const ServiceConfiguration kUnknown = [] {
    ServiceConfiguration s = *find_service("1e2w").value();
    s.id = "7e9w";
    return s;
  }();
  const std::vector<BadConfig> cases{
      {"null service", [](MetrologyConfig& c) { c.service = nullptr; }, {"null", "3e4w-wye"}},
      {"unknown service", [](MetrologyConfig& c) { c.service = &kUnknown; }, {"7e9w", "1e2w"}},
      {"zero scale",
       [](MetrologyConfig& c) { c.volts_per_code[1] = 0; },
       {"volts_per_code[1]", "0"}},
      {"negative scale",
       [](MetrologyConfig& c) { c.amps_per_code[2] = -1; },
       {"amps_per_code[2]", "-1"}},
      {"nan scale",
       [](MetrologyConfig& c) { c.amps_per_code[0] = NAN; },
       {"amps_per_code[0]", "nan"}},
      {"nominal 40 Hz",
       [](MetrologyConfig& c) { c.nominal_frequency_hz = 40; },
       {"nominal frequency 40 Hz"}},
      {"nominal inf",
       [](MetrologyConfig& c) { c.nominal_frequency_hz = INFINITY; },
       {"nominal frequency inf"}},
      {"gain nan",
       [](MetrologyConfig& c) { c.calibration[2].voltage_gain = NAN; },
       {"calibration[2].voltage_gain", "nan"}},
      {"gain zero",
       [](MetrologyConfig& c) { c.calibration[1].current_gain = 0; },
       {"calibration[1].current_gain", "0"}},
      {"phase 90",
       [](MetrologyConfig& c) { c.calibration[0].phase_deg = 90; },
       {"calibration[0].phase_deg", "90"}},
      {"offset inf",
       [](MetrologyConfig& c) { c.calibration[0].power_offset_w = INFINITY; },
       {"power_offset_w", "inf"}},
      {"voltage limit",
       [](MetrologyConfig& c) { c.voltage_limit_v = -5; },
       {"voltage_limit_v", "-5"}},
      {"current limit",
       [](MetrologyConfig& c) { c.current_limit_a = 0; },
       {"current_limit_a", "0"}},
      {"negative creep",
       [](MetrologyConfig& c) { c.creep_current_a = -0.5; },
       {"creep_current_a", "-0.5"}},
      {"lsb weight",
       [](MetrologyConfig& c) { c.energy_nwh_per_lsb = 0; },
       {"energy_nwh_per_lsb", "0"}},
  };
  for (const BadConfig& bad : cases) {
    MetrologyConfig c = config_for("3e4w-wye");
    bad.spoil(c);
    if (c.service == &kUnknown) c.channel_count = 2;
    const auto created = Metrology::create(c);
    ASSERT_FALSE(created.ok()) << bad.name;
    for (const std::string& word : bad.named) {
      EXPECT_NE(created.error().message.find(word), std::string::npos)
          << bad.name << ": \"" << created.error().message << "\" does not name " << word;
    }
  }
  EXPECT_TRUE(Metrology::create(config_for("3e4w-wye")).ok());
}

// --- block shape -----------------------------------------------------------------------------

TEST(MetrologyAdd, RefusesBlocksThatDoNotFitAndChangesNothing) {
  auto m = make(config_for("3e4w-wye"));
  const auto planes = detail::sample_float(three_phase(120, 5, 0), 60, 4000, 400);
  auto block = planes.block(0, 400);

  auto wrong_count = block;
  wrong_count.channel_count = 4;
  EXPECT_FALSE(m->add(wrong_count));
  auto too_slow = block;
  too_slow.sample_rate_hz = 1999;
  EXPECT_FALSE(m->add(too_slow));
  auto too_fast = block;
  too_fast.sample_rate_hz = 32001;
  EXPECT_FALSE(m->add(too_fast));
  auto missing = block;
  missing.channel[5] = nullptr;
  EXPECT_FALSE(m->add(missing));

  const TickMetrology empty = m->close_tick();
  EXPECT_EQ(empty.samples, 0u);
  EXPECT_EQ(empty.refused, 0u);
  EXPECT_EQ(empty.active_nwh, 0);
  EXPECT_EQ(empty.duration_s, 0.0);
  EXPECT_TRUE(empty.no_load);
  EXPECT_EQ(empty.measurements.total_power_factor, 1.0);  // documented: no S, PF 1
  EXPECT_DOUBLE_EQ(empty.measurements.frequency_hz, 60.0);

  EXPECT_TRUE(m->add(block));
  EXPECT_EQ(m->close_tick().samples, 400u);
}

TEST(MetrologyAdd, SampleRateMayChangeWithinATick) {
  auto m = make(config_for("1e2w"));
  const std::vector<Wave> w{Wave::sine(120, 0), Wave::sine(10, -60)};
  const auto slow = detail::sample_float(w, 60, 4000, 8000);
  const auto fast = detail::sample_float(w, 60, 8000, 16000);
  ASSERT_TRUE(detail::feed(*m, slow, 1000, 0, 4000));  // warm-up tick
  (void)m->close_tick();
  ASSERT_TRUE(detail::feed(*m, slow, 1000, 4000, 2000));   // [1.0, 1.5) s at 4 kHz
  ASSERT_TRUE(detail::feed(*m, fast, 1000, 12000, 4000));  // [1.5, 2.0) s at 8 kHz
  const TickMetrology t = m->close_tick();
  EXPECT_NEAR(t.duration_s, 1.0, 1e-12);
  EXPECT_EQ(t.samples, 6000u);
  const double p = 120 * 10 * 0.5;
  const double q = 120 * 10 * std::sin(std::numbers::pi / 3);
  EXPECT_NEAR(static_cast<double>(t.active_nwh), p * kNwhPerWs, 1e-3 * p * kNwhPerWs);
  EXPECT_NEAR(t.measurements.reactive_power_var[0], q, 5e-3 * 1200);
  EXPECT_NEAR(t.measurements.frequency_hz, 60, 0.01);
}

// --- refused samples -------------------------------------------------------------------------

double valid_energy_ws(const detail::Planes<float>& p, const std::vector<bool>& refused) {
  double ws = 0;
  for (std::size_t n = 0; n < p.size(); ++n) {
    if (refused[n]) continue;
    for (std::size_t ph = 0; ph < 3; ++ph) {
      ws += double{p.channels[ph][n]} * double{p.channels[3 + ph][n]} / p.rate_hz;
    }
  }
  return ws;
}

TEST(MetrologyRefusal, BadFloatSamplesAreRefusedAndTheRestStillCounts) {
  auto m = make(config_for("3e4w-wye"));
  auto planes = detail::sample_float(three_phase(120, 10, 25), 60, 4000, 4000);
  std::vector<bool> refused(4000, false);
  const double clean_ws = valid_energy_ws(planes, refused);
  const auto spoil = [&](std::size_t channel, std::size_t n, float x) {
    planes.channels[channel][n] = x;
    refused[n] = true;
  };
  spoil(0, 100, std::numeric_limits<float>::quiet_NaN());
  spoil(4, 200, std::numeric_limits<float>::infinity());
  spoil(2, 300, 1500.0f);                                   // beyond voltage_limit_v
  spoil(3, 400, -500.0f);                                   // beyond current_limit_a
  spoil(0, 1999, std::numeric_limits<float>::quiet_NaN());  // two bad channels, one instant
  spoil(5, 1999, -std::numeric_limits<float>::infinity());
  spoil(1, 3999, std::numeric_limits<float>::quiet_NaN());  // last sample of the tick
  const double expected_ws = valid_energy_ws(planes, refused);

  ASSERT_TRUE(detail::feed(*m, planes, 1000));
  const TickMetrology t = m->close_tick();
  EXPECT_EQ(t.refused, 6u);
  EXPECT_EQ(t.samples, 4000u - 6u);
  EXPECT_EQ(m->refused_total(), 6u);
  // Six instants in 4000 are 0.15 % of the energy: the tolerance tells them apart.
  ASSERT_GT(std::fabs(clean_ws - expected_ws), 1e-3 * expected_ws);
  EXPECT_NEAR(static_cast<double>(t.active_nwh), expected_ws * kNwhPerWs,
              2e-5 * expected_ws * kNwhPerWs);
  EXPECT_TRUE(std::isfinite(t.measurements.total_active_power_w));
  EXPECT_NEAR(t.measurements.voltage_v[0], 120, 0.1);

  auto more = detail::sample_float(three_phase(120, 10, 25), 60, 4000, 4000);
  more.channels[3][10] = std::numeric_limits<float>::quiet_NaN();
  ASSERT_TRUE(detail::feed(*m, more, 4000));
  EXPECT_EQ(m->close_tick().refused, 1u);
  EXPECT_EQ(m->refused_total(), 7u);
}

TEST(MetrologyRefusal, ClippedAdcCodesAreRefused) {
  auto m = make(config_for("1e2w"));
  const std::vector<Wave> w{Wave::sine(120, 0), Wave::sine(5, 0)};
  auto planes = detail::sample_int16(w, 50, 4000, 4000, {kVoltsPerCode, kAmpsPerCode});
  planes.channels[0][123] = std::numeric_limits<std::int16_t>::max();
  planes.channels[1][2345] = std::numeric_limits<std::int16_t>::min();
  ASSERT_TRUE(detail::feed(*m, planes, 4000));
  const TickMetrology t = m->close_tick();
  EXPECT_EQ(t.refused, 2u);
  EXPECT_EQ(m->refused_total(), 2u);
  EXPECT_NEAR(static_cast<double>(t.active_nwh), 600.0 * 3998 / 4000 * kNwhPerWs,
              1e-3 * 600 * kNwhPerWs);
}

// --- no-load and starting current ------------------------------------------------------------

constexpr double kIn = 5.0;

MetrologyConfig creep_config() {
  MetrologyConfig c = config_for("1e2w");
  c.creep_current_a = 0.0005 * kIn;
  return c;
}

TEST(MetrologyNoLoad, CurrentNoiseBelowCreepRegistersNothing) {
  auto m = make(creep_config());
  auto planes = detail::sample_int16({Wave::sine(120, 0), Wave{}}, 60, 4000, 4000,
                                     {kVoltsPerCode, kAmpsPerCode});
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0.0, 0.001 / kAmpsPerCode);  // 1 mA rms
  for (auto& code : planes.channels[1]) code = static_cast<std::int16_t>(std::lround(noise(rng)));
  for (int tick = 0; tick < 5; ++tick) {
    ASSERT_TRUE(detail::feed(*m, planes, 1000));
    const TickMetrology t = m->close_tick();
    EXPECT_TRUE(t.no_load);
    EXPECT_EQ(t.active_nwh, 0);
    EXPECT_EQ(t.reactive_nvarh, 0);
    EXPECT_EQ(t.active_power_w, 0.0);
    EXPECT_NEAR(t.measurements.current_a[0], 0.001, 0.0003);
    EXPECT_NEAR(t.measurements.voltage_v[0], 120, 0.1);
    EXPECT_EQ(t.measurements.active_power_w[0], 0.0);
  }
}

TEST(MetrologyNoLoad, StartingCurrentRegisters) {
  auto m = make(creep_config());
  const double i = 0.001 * kIn;
  const auto planes = detail::sample_int16({Wave::sine(120, 0), Wave::sine(i, 0)}, 60, 4000, 4000,
                                           {kVoltsPerCode, kAmpsPerCode});
  ASSERT_TRUE(detail::feed(*m, planes, 1000));
  const TickMetrology t = m->close_tick();
  EXPECT_FALSE(t.no_load);
  const double expected = 120 * i * kNwhPerWs;
  EXPECT_GT(t.active_nwh, 0);
  EXPECT_NEAR(static_cast<double>(t.active_nwh), expected, 0.03 * expected);
}

// --- calibration -----------------------------------------------------------------------------

double metered_nwh(const MetrologyConfig& c, const std::vector<Wave>& w, double f_hz = 60) {
  auto m = make(c);
  const auto planes = detail::sample_float(w, f_hz, 4000, 4000);
  EXPECT_TRUE(detail::feed(*m, planes, 1000));
  return static_cast<double>(m->close_tick().active_nwh);
}

TEST(MetrologyCalibration, PhaseCalibrationRemovesSensorLag) {
  const double p = 120 * 10 * 0.5;
  const std::vector<Wave> w{Wave::sine(120, 0), Wave::sine(10, -60 - 0.6)};  // sensor lags 0.6 deg
  MetrologyConfig c = config_for("1e2w");
  EXPECT_GT(std::fabs(metered_nwh(c, w) - p * kNwhPerWs), 1e-2 * p * kNwhPerWs);
  c.calibration[0].phase_deg = 0.6;
  EXPECT_NEAR(metered_nwh(c, w), p * kNwhPerWs, 2e-4 * p * kNwhPerWs);
}

TEST(MetrologyCalibration, GainsAndOffsetCalibrate) {
  const std::vector<Wave> w{Wave::sine(120 * 0.98, 0), Wave::sine(10 * 1.03, -30)};
  MetrologyConfig c = config_for("1e2w");
  c.calibration[0].voltage_gain = 1 / 0.98;
  c.calibration[0].current_gain = 1 / 1.03;
  const double p = 1200 * std::cos(std::numbers::pi / 6);
  EXPECT_NEAR(metered_nwh(c, w), p * kNwhPerWs, 1e-5 * p * kNwhPerWs);

  auto m = make(c);
  ASSERT_TRUE(detail::feed(*m, detail::sample_float(w, 60, 4000, 4000), 4000));
  const Measurements meas = m->close_tick().measurements;
  EXPECT_NEAR(meas.voltage_v[0], 120, 1e-4);
  EXPECT_NEAR(meas.current_a[0], 10, 1e-5);

  c.calibration[0].power_offset_w = 2.5;
  EXPECT_NEAR(metered_nwh(c, w), (p - 2.5) * kNwhPerWs, 1e-5 * p * kNwhPerWs);
}

TEST(MetrologyCalibration, DcOffsetsOnTheInputsDoNotChangeEnergy) {
  const MetrologyConfig c = config_for("1e2w");
  const std::vector<Wave> clean{Wave::sine(120, 0), Wave::sine(10, -37)};
  std::vector<Wave> offset = clean;
  offset[0].offset(3.0);
  offset[1].offset(0.25);
  const double with_dc = metered_nwh(c, offset, 57);  // 57 cycles: offsets fill the whole tick
  EXPECT_NEAR(with_dc, metered_nwh(c, clean, 57), 1e-5 * with_dc);
  EXPECT_NEAR(with_dc, 1200 * std::cos(37 * std::numbers::pi / 180) * kNwhPerWs, 1e-4 * with_dc);
}

TEST(MetrologyFrequency, KeepsTheLastGoodValueWithoutTwoCrossings) {
  auto m = make(config_for("1e2w"));
  const std::vector<Wave> w{Wave::sine(120, 0), Wave::sine(1, 0)};
  const auto planes = detail::sample_float(w, 59.3, 8000, 8040);
  ASSERT_TRUE(detail::feed(*m, planes, 8000, 0, 8000));
  EXPECT_NEAR(m->close_tick().measurements.frequency_hz, 59.3, 0.01);
  ASSERT_TRUE(detail::feed(*m, planes, 8000, 8000, 40));  // 5 ms: at most one crossing
  EXPECT_NEAR(m->close_tick().measurements.frequency_hz, 59.3, 0.01);
}

// --- chip fidelity ---------------------------------------------------------------------------

AccumulatorReading reading(std::int64_t a0, std::int64_t a1, std::int64_t a2, std::int64_t r0) {
  AccumulatorReading r;
  r.interval = Milliseconds{500};
  r.elements = 3;
  r.active_energy_lsb = {a0, a1, a2};
  r.reactive_energy_lsb = {r0, 0, 0};
  r.voltage_v = {120, 121, 119};
  r.current_a = {5, 6, 7};
  r.frequency_hz = 60.02;
  return r;
}

TEST(MetrologyChip, ReadingsConvertExactlyOverManyTicks) {
  for (double nwh_per_lsb : {4.0, 0.25, 0.3}) {
    MetrologyConfig c = config_for("3e4w-wye");
    c.energy_nwh_per_lsb = nwh_per_lsb;
    auto m = make(c);
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<std::int64_t> lsb(-50, 4000);
    std::int64_t total_lsb = 0;
    std::int64_t total_nwh = 0;
    for (int tick = 0; tick < 20000; ++tick) {
      for (int part = 0; part < 2; ++part) {
        const auto r = reading(lsb(rng), lsb(rng), lsb(rng), lsb(rng));
        ASSERT_TRUE(m->add(r));
        total_lsb += r.active_energy_lsb[0] + r.active_energy_lsb[1] + r.active_energy_lsb[2];
      }
      total_nwh += m->close_tick().active_nwh;
    }
    const double exact = static_cast<double>(total_lsb) * nwh_per_lsb;
    if (nwh_per_lsb == 4.0) {
      EXPECT_EQ(total_nwh, total_lsb * 4);
    } else {
      EXPECT_LE(std::fabs(static_cast<double>(total_nwh) - exact), 0.5 + 1e-6) << nwh_per_lsb;
    }
  }
}

TEST(MetrologyChip, ReadingsGiveMeasurements) {
  MetrologyConfig c = config_for("3e4w-wye");
  c.energy_nwh_per_lsb = 10;
  auto m = make(c);
  AccumulatorReading wrong = reading(1, 1, 1, 1);
  wrong.elements = 2;
  EXPECT_FALSE(m->add(wrong));
  ASSERT_TRUE(m->add(reading(1000, 2000, 0, 500)));
  ASSERT_TRUE(m->add(reading(1000, 2000, 0, 500)));
  const TickMetrology t = m->close_tick();
  EXPECT_EQ(t.active_nwh, 60000);
  EXPECT_EQ(t.reactive_nvarh, 10000);
  EXPECT_DOUBLE_EQ(t.duration_s, 1.0);
  EXPECT_FALSE(t.no_load);
  const Measurements& meas = t.measurements;
  EXPECT_NEAR(meas.active_power_w[0], 20000 * 3.6e-6, 1e-12);  // 20000 nWh in 1 s
  EXPECT_NEAR(meas.active_power_w[1], 40000 * 3.6e-6, 1e-12);
  EXPECT_EQ(meas.voltage_v[2], 119);
  EXPECT_EQ(meas.current_a[1], 6);
  EXPECT_DOUBLE_EQ(meas.frequency_hz, 60.02);
  EXPECT_NEAR(t.active_power_w, 60000 * 3.6e-6, 1e-12);

  ASSERT_TRUE(m->add(reading(0, 0, 0, 0)));
  EXPECT_TRUE(m->close_tick().no_load);
}

// --- remainders ------------------------------------------------------------------------------

TEST(MetrologyRemainder, FractionalTickEnergiesSumToTheExactTotal) {
  // 1.2345679 W for 0.1 s ticks is 34.29 nWh a tick: dropping the fraction would lose 0.29 each.
  auto m = make(config_for("1e2w"));
  const double i = 1.2345679 / 120;
  const auto planes = detail::sample_float({Wave::sine(120, 0), Wave::sine(i, 0)}, 60, 6000, 600);
  constexpr int kTicks = 3000;
  std::int64_t total = 0;
  for (int tick = 0; tick < kTicks; ++tick) {
    ASSERT_TRUE(detail::feed(*m, planes, 600));
    total += m->close_tick().active_nwh;
  }
  const double exact = kTicks * 120 * i * 0.1 * kNwhPerWs;
  EXPECT_LE(std::fabs(static_cast<double>(total) - exact), 1.0);
}

TEST(MetrologyEnergyCarry, CarriesTheFractionBothWays) {
  detail::EnergyCarry carry;
  std::int64_t total = 0;
  for (int n = 0; n < 1000; ++n) total += carry.take(n % 2 == 0 ? 0.7 : -0.2);
  EXPECT_EQ(total, 250);
  EXPECT_LT(std::fabs(carry.carry()), 0.5 + 1e-9);
}

}  // namespace
}  // namespace meter::kernel
