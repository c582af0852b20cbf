// The kernel as a whole: a Meter fed by the sim board's waveforms.
#include "meter/kernel/meter.h"

#include <date/date.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "meter/boards/sim/waveform.h"
#include "meter/kernel/display.h"
#include "meter/kernel/nvm.h"
#include "meter/kernel/persistence.h"

namespace meter {
namespace {

using boards::sim::PhaseLoad;
using boards::sim::Waveform;
using boards::sim::WaveformSpec;
using kernel::EnergyRegister;
using kernel::Meter;
using kernel::MeterConfig;
using std::chrono::hours;
using std::chrono::seconds;

MeterConfig config_for(const WaveformSpec& spec, const char* service = "1e2w") {
  MeterConfig c;
  c.metrology.service = *kernel::find_service(service);
  c.metrology.channel_count = c.metrology.service->channels();
  c.metrology.nominal_frequency_hz = spec.frequency_hz;
  c.metrology.volts_per_code.fill(spec.volts_per_code);
  c.metrology.amps_per_code.fill(spec.amps_per_code);
  c.metrology.creep_current_a = 0.02;  // starting current of the tests below is 0.05 A
  c.kh_wh = 1.0;
  c.time_zone = "America/Toronto";
  return c;
}

struct Rig {
  explicit Rig(WaveformSpec spec, const char* service = "1e2w")
      : wave(spec), meter(std::move(Meter::create(config_for(spec, service), time).value())) {}
  const kernel::EnergyTick& second() {
    meter->add(wave.next16(wave.spec().sample_rate_hz));
    time.advance(seconds{1});
    return meter->tick();
  }
  kernel::VirtualTimeSource time{kernel::UtcTime{seconds{1'780'000'000}}};
  Waveform wave;
  std::unique_ptr<Meter> meter;
};

WaveformSpec single(double volts, double amps, double lag_deg = 0) {
  WaveformSpec s;
  s.load[0] = PhaseLoad{volts, amps, lag_deg};
  return s;
}

TEST(Meter, StartUpErrorsNameTheValue) {
  kernel::VirtualTimeSource time{kernel::UtcTime{}};
  auto c = config_for(single(120, 1));
  c.kh_wh = -7.2;
  auto m = Meter::create(c, time);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("-7.2"), std::string::npos);

  c = config_for(single(120, 1));
  c.time_zone = "Atlantis/Capital";
  m = Meter::create(c, time);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("Atlantis/Capital"), std::string::npos);

  c = config_for(single(120, 1));
  c.metrology.channel_count = 6;
  m = Meter::create(c, time);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("6"), std::string::npos);

  c = config_for(single(120, 1));
  c.metrology.service = nullptr;
  EXPECT_FALSE(Meter::create(c, time));

  c = config_for(single(120, 1));
  c.tick = kernel::Milliseconds{5};
  m = Meter::create(c, time);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("5 ms"), std::string::npos);
}

TEST(Meter, OneEnergyTickPerTickWhoseDeltasAreTheRegistersMovement) {
  Rig r(single(120, 15, 30));
  std::vector<kernel::EnergyTick> ticks;
  r.meter->bus().subscribe<kernel::EnergyTick>([&](const kernel::EnergyTick& t) { ticks.push_back(t); });
  int measurements = 0;
  r.meter->bus().subscribe<kernel::Measurements>([&](const kernel::Measurements&) { ++measurements; });
  kernel::RegisterValues sum{};
  for (int i = 0; i < 60; ++i) r.second();
  ASSERT_EQ(ticks.size(), 60u);
  for (const auto& t : ticks) {
    for (std::size_t k = 0; k < sum.size(); ++k) sum[k] += t.delta_mwh[k];
  }
  EXPECT_EQ(sum, r.meter->registers().totals_mwh());
  EXPECT_EQ(ticks.back().sequence, 60u);
  EXPECT_EQ(ticks.back().total_mwh, r.meter->registers().totals_mwh());
  EXPECT_EQ(measurements, 1 + 60 / 5) << "the first tick, then every fifth";
  // 120 V x 15 A x cos 30 deg for a minute, within 0.1 %.
  const double exact_mwh = 120 * 15 * std::cos(30 * 3.14159265358979 / 180) / 60 * 1000;
  EXPECT_NEAR(double(r.meter->registers().mwh(EnergyRegister::import_active)), exact_mwh,
              exact_mwh * 1e-3);
  EXPECT_GT(r.meter->registers().mwh(EnergyRegister::reactive_q1), 0);
}

TEST(Meter, ExportIsBookedToTheExportRegister) {
  Rig r(single(240, 20, 180));  // current in antiphase: rooftop PV feeding the grid
  for (int i = 0; i < 30; ++i) r.second();
  EXPECT_EQ(r.meter->registers().mwh(EnergyRegister::import_active), 0);
  EXPECT_NEAR(double(r.meter->registers().mwh(EnergyRegister::export_active)),
              240.0 * 20 * 30 / 3.6, 240.0 * 20 * 30 / 3.6 * 1e-3);
}

TEST(Meter, NoLoadMakesAtMostOneTestLedPulse) {
  auto spec = single(132, 0);  // 110 % voltage, no load current
  spec.current_dc_a = 0.004;   // a sensor offset well under the creep threshold
  Rig r(spec);
  std::uint64_t pulses = 0;
  for (int i = 0; i < 600; ++i) {
    r.second();
    pulses += r.meter->last_led_pulses().count;
  }
  EXPECT_LE(pulses, 1u);
  EXPECT_EQ(r.meter->registers().mwh(EnergyRegister::import_active), 0);
}

TEST(Meter, RegistersFromTheStartingCurrent) {
  Rig r(single(120, 0.05));  // the starting current
  for (int i = 0; i < 300; ++i) r.second();
  const double exact_mwh = 120 * 0.05 * 300 / 3.6;  // 500 mWh
  EXPECT_NEAR(double(r.meter->registers().mwh(EnergyRegister::import_active)), exact_mwh,
              exact_mwh * 0.02);
}

TEST(Meter, TestLedPulsesStablyWithinFiveSecondsOfPowerUp) {
  Rig r(single(120, 30));  // 3.6 kW, Kh 1 Wh: one pulse a second
  std::vector<double> pulse_times_s;
  for (int s = 0; s < 10; ++s) {
    r.second();
    const auto& p = r.meter->last_led_pulses();
    for (std::uint32_t k = 0; k < p.count; ++k) {
      pulse_times_s.push_back(s + (double(p.first.count()) + double(k) * double(p.period.count())) / 1e6);
    }
  }
  ASSERT_GE(pulse_times_s.size(), 9u);
  EXPECT_LE(pulse_times_s.front(), 5.0);
  for (std::size_t i = 1; i < pulse_times_s.size(); ++i) {
    EXPECT_NEAR(pulse_times_s[i] - pulse_times_s[i - 1], 1.0, 1e-3) << "pulse " << i;
  }
}

TEST(Meter, TestLedIsReactivatedThroughTheGate) {
  Rig r(single(120, 30));  // 1 Wh a second, Kh 1 Wh
  r.time.advance(hours{25});
  EXPECT_FALSE(r.meter->test_led().active(r.meter->clock().uptime()));
  std::uint32_t dark = 0;
  for (int i = 0; i < 3; ++i) dark += (r.second(), r.meter->last_led_pulses().count);
  EXPECT_EQ(dark, 0u);
  kernel::Requester reader{kernel::Interface::optical_port, kernel::Role::reader, "optical"};
  EXPECT_FALSE(r.meter->gate().write(kernel::obis("0-0:128.1.3"), kernel::Value{true}, reader));
  kernel::Requester shop{kernel::Interface::optical_port, kernel::Role::configurator, "optical"};
  ASSERT_TRUE(r.meter->gate().write(kernel::obis("0-0:128.1.3"), kernel::Value{true}, shop));
  EXPECT_TRUE(r.meter->test_led().active(r.meter->clock().uptime()));
  std::uint32_t lit = 0;
  for (int i = 0; i < 3; ++i) lit += (r.second(), r.meter->last_led_pulses().count);
  EXPECT_GE(lit, 2u);
  EXPECT_LE(lit, 3u);
  auto active = r.meter->objects().read(kernel::obis("0-0:128.1.0"), kernel::Role::public_read);
  ASSERT_TRUE(active);
  EXPECT_TRUE(std::get<bool>(*active));
}

TEST(Meter, BadSamplesRaiseAFaultAndAreNeverBooked) {
  auto spec = single(120, 10);
  Rig r(spec);
  std::vector<kernel::Fault> raised, cleared;
  r.meter->bus().subscribe<kernel::FaultRaised>([&](const kernel::FaultRaised& e) { raised.push_back(e.fault); });
  r.meter->bus().subscribe<kernel::FaultCleared>([&](const kernel::FaultCleared& e) { cleared.push_back(e.fault); });
  for (int i = 0; i < 10; ++i) r.second();
  const auto before = r.meter->registers().exact_nwh(EnergyRegister::import_active);

  // A second of float samples, a tenth of them NaN, infinite or beyond the current limit.
  const auto& b = r.wave.next_float(4000);
  std::vector<float> v(b.channel[0], b.channel[0] + 4000), i(b.channel[1], b.channel[1] + 4000);
  for (std::size_t k = 0; k < 4000; k += 10) {
    (k % 30 == 0 ? v : i)[k] = k % 20 == 0 ? std::numeric_limits<float>::quiet_NaN()
                                           : (k % 3 ? std::numeric_limits<float>::infinity() : 1e6f);
  }
  kernel::SampleBlockF bad = b;
  bad.channel[0] = v.data();
  bad.channel[1] = i.data();
  ASSERT_TRUE(r.meter->add(bad));
  r.time.advance(seconds{1});
  const auto& t = r.meter->tick();
  EXPECT_TRUE(t.measurement_fault);
  EXPECT_EQ(r.meter->refused_samples(), 400u);
  const auto booked = r.meter->registers().exact_nwh(EnergyRegister::import_active) - before;
  // 90 % of a second of 1200 W, never more.
  EXPECT_NEAR(double(booked), 1200.0 * 0.9 / 3600 * 1e9, 1200.0 / 3600 * 1e9 * 1e-3);
  ASSERT_EQ(raised, std::vector<kernel::Fault>{kernel::Fault::measurement});
  auto err = r.meter->objects().read(kernel::obis("0-0:97.97.0"), kernel::Role::public_read);
  EXPECT_EQ(std::get<std::uint64_t>(*err) & 1u, 1u);

  r.second();
  EXPECT_FALSE(r.meter->measurement_fault());
  EXPECT_EQ(cleared, std::vector<kernel::Fault>{kernel::Fault::measurement});
}

TEST(Meter, KernelObjectsAreReadableWithUnitsAndScalers) {
  WaveformSpec spec;
  spec.phases = 3;
  spec.load = {PhaseLoad{120, 10, 0}, PhaseLoad{120, 10, 0}, PhaseLoad{120, 10, 0}};
  Rig r(spec, "3e4w-wye");
  for (int i = 0; i < 5; ++i) r.second();
  auto& reg = r.meter->objects();
  const auto* info = reg.find(kernel::obis("1-0:1.8.0"));
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->unit, kernel::Unit::watt_hour);
  EXPECT_EQ(info->scaler, -3);
  EXPECT_TRUE(info->legally_relevant);
  auto energy = reg.read(kernel::obis("1-0:1.8.0"), kernel::Role::public_read);
  EXPECT_EQ(std::get<std::int64_t>(*energy), r.meter->registers().mwh(EnergyRegister::import_active));
  auto v2 = reg.read(kernel::obis("1-0:52.7.0"), kernel::Role::public_read);
  ASSERT_TRUE(v2);
  EXPECT_NEAR(std::get<double>(*v2), 120.0, 0.1);
  auto v12 = reg.read(kernel::obis("1-0:124.7.0"), kernel::Role::public_read);
  ASSERT_TRUE(v12);
  EXPECT_NEAR(std::get<double>(*v12), 120.0 * std::sqrt(3.0), 0.2);
  auto f = reg.read(kernel::obis("1-0:14.7.0"), kernel::Role::public_read);
  EXPECT_NEAR(std::get<double>(*f), 60.0, 0.01);
  EXPECT_EQ(kernel::to_display_string(*info, kernel::Value{std::int64_t{1234567}}), "1234.567 Wh");
  // 41 + the gate's 9 (seal, counters, RC mode, electronic seal, plugin settings ...) + 2
  // billing presets + the display multiplier
  EXPECT_EQ(reg.size(), 53u);
}

TEST(Meter, MidnightIsPublishedAfterTheTickThatEndsTheDay) {
  Rig r(single(120, 10));
  // Start 10 s before local midnight in Toronto.
  const auto midnight = r.meter->clock().next_local_midnight(r.meter->clock().now());
  r.meter->clock().set_time(midnight - seconds{10});
  std::vector<std::string> order;
  r.meter->bus().subscribe<kernel::EnergyTick>([&](const kernel::EnergyTick& t) {
    order.push_back(t.time == midnight ? "tick@midnight" : "tick");
  });
  r.meter->bus().subscribe<kernel::MidnightCrossed>(
      [&](const kernel::MidnightCrossed&) { order.push_back("midnight"); });
  for (int i = 0; i < 12; ++i) r.second();
  ASSERT_EQ(order.size(), 13u);
  EXPECT_EQ(order[9], "tick@midnight");
  EXPECT_EQ(order[10], "midnight");
}


// ---- the meter shop's kernel parameters: display multiplier and clock ---------------------

const kernel::Requester kConfigurator{kernel::Interface::optical_port, kernel::Role::configurator,
                                      "shop"};
const kernel::Requester kReader{kernel::Interface::optical_port, kernel::Role::reader, "shop"};

kernel::DisplaySettings energy_display() {
  kernel::DisplaySettings s;
  s.items = {{kernel::DisplayItem::Kind::object, kernel::obis("1-0:1.8.0"), "1-0:1.8.0"}};
  s.multiplier = 1;
  return s;
}

TEST(Meter, TheDisplayMultiplierIsAConfigurationParameterTheDisplayShowsAtOnce) {
  Rig r(single(120, 10));
  for (int i = 0; i < 3600; ++i) r.second();  // 1.2 kWh
  auto& gate = r.meter->gate();
  kernel::Display display(r.meter->objects(), energy_display(), "test");
  // Shown to 0.1 kWh, truncated: mWh x N / 10^5 tenths of a kWh.
  const auto mwh = r.meter->registers().mwh(EnergyRegister::import_active);
  auto shown = [mwh](std::int64_t n) {
    const auto tenths = mwh * n / 100'000;
    return std::to_string(100'000 + tenths / 10).substr(1) + "." + std::to_string(tenths % 10);
  };
  EXPECT_GT(mwh, 1'190'000);
  EXPECT_EQ(display.render(0).value, shown(1));
  std::vector<kernel::ParameterChanged> changes;
  r.meter->bus().subscribe<kernel::ParameterChanged>(
      [&](const kernel::ParameterChanged& e) { changes.push_back(e); });

  EXPECT_FALSE(gate.write(Meter::kDisplayMultiplier, kernel::Value{std::int64_t{10}}, kReader));
  ASSERT_TRUE(
      gate.write(Meter::kDisplayMultiplier, kernel::Value{std::int64_t{10}}, kConfigurator));
  EXPECT_EQ(r.meter->display_multiplier(), 10);
  const auto after = display.render(0);
  EXPECT_EQ(after.value, shown(10));
  EXPECT_NE(shown(10), shown(1));
  ASSERT_FALSE(after.annunciators.empty());
  EXPECT_EQ(after.annunciators[0], "x10");
  EXPECT_EQ(display.multiplier(), 10);
  EXPECT_EQ(r.meter->registers().mwh(EnergyRegister::import_active), mwh)
      << "the register is untouched";
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].old_value, "1");
  EXPECT_EQ(changes[0].new_value, "10");
  EXPECT_EQ(changes[0].counter, kernel::EventCounter::configuration);
  EXPECT_EQ(gate.counter(kernel::EventCounter::configuration), 1);

  for (std::int64_t bad : {0, 241, -3}) {
    auto refused = gate.write(Meter::kDisplayMultiplier, kernel::Value{bad}, kConfigurator);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("N is an integer from 1 to 240"), std::string::npos)
        << refused.error().message;
  }
  EXPECT_FALSE(gate.write(Meter::kDisplayMultiplier, kernel::Value{10.0}, kConfigurator));
  gate.set_sealed(true, kernel::SealKind::cover);
  EXPECT_FALSE(
      gate.write(Meter::kDisplayMultiplier, kernel::Value{std::int64_t{2}}, kConfigurator));
  EXPECT_EQ(r.meter->display_multiplier(), 10);
  EXPECT_EQ(changes.size(), 1u);
  EXPECT_EQ(gate.counter(kernel::EventCounter::configuration), 1);
}

TEST(Meter, TheDisplayMultiplierOutOfRangeInTheConfigurationIsAStartUpError) {
  kernel::VirtualTimeSource time{kernel::UtcTime{}};
  auto c = config_for(single(120, 1));
  c.display_multiplier = 241;
  auto m = Meter::create(c, time);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("display multiplier 241"), std::string::npos);
}

TEST(Meter, TheDisplayMultiplierSurvivesAPowerCycleAndOutranksTheFactoryValue) {
  kernel::RamNvmStore store;
  kernel::VirtualTimeSource time{kernel::UtcTime{seconds{1'780'000'000}}};
  auto c = config_for(single(120, 1));
  c.display_multiplier = 2;  // the SKU's
  {
    auto m = std::move(Meter::create(c, time).value());
    auto p = std::move(kernel::Persistence::attach(*m, store).value());
    EXPECT_EQ(m->display_multiplier(), 2);
    ASSERT_TRUE(m->gate().write(Meter::kDisplayMultiplier, kernel::Value{std::int64_t{120}},
                                kConfigurator));
    // The power goes without warning: the value was kept with its counter step.
  }
  time.advance(hours{1});
  auto m = std::move(Meter::create(c, time).value());
  auto p = std::move(kernel::Persistence::attach(*m, store).value());
  EXPECT_EQ(p->restored().state, kernel::NvmState::intact) << p->restored().detail;
  EXPECT_EQ(m->display_multiplier(), 120);
  EXPECT_EQ(m->gate().counter(kernel::EventCounter::configuration), 1);
  kernel::Display display(m->objects(), energy_display(), "test");
  EXPECT_EQ(display.multiplier(), 120);
}

TEST(Meter, WritingTheClockSetsLocalOrUtcTimeThroughTheClock) {
  Rig r(single(120, 1));  // America/Toronto
  std::vector<kernel::TimeChanged> jumps;
  std::vector<kernel::ParameterChanged> changes;
  r.meter->bus().subscribe<kernel::TimeChanged>(
      [&](const kernel::TimeChanged& e) { jumps.push_back(e); });
  r.meter->bus().subscribe<kernel::ParameterChanged>(
      [&](const kernel::ParameterChanged& e) { changes.push_back(e); });
  auto& gate = r.meter->gate();
  const auto utc = [](int y, unsigned mo, unsigned d, int h, int mi, int s) {
    return kernel::UtcTime{date::sys_days{date::year{y} / mo / d} + hours{h} +
                           std::chrono::minutes{mi} + seconds{s}};
  };
  const auto old_time = r.meter->clock().now();

  ASSERT_TRUE(gate.write(Meter::kClock, kernel::Value{std::string("2026-07-01 12:00:00")},
                         kConfigurator));
  EXPECT_EQ(r.meter->clock().now(), utc(2026, 7, 1, 16, 0, 0)) << "EDT is UTC-4";
  ASSERT_EQ(jumps.size(), 1u);
  EXPECT_EQ(jumps[0].old_time, old_time);
  EXPECT_EQ(jumps[0].new_time, utc(2026, 7, 1, 16, 0, 0));
  EXPECT_TRUE(*r.meter->objects().read(Meter::kClock, kernel::Role::public_read) ==
              kernel::Value{std::string("2026-07-01 12:00:00 EDT")});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].new_value, "2026-07-01 12:00:00");
  // The clock decides which TOU register a tick's energy goes to: a tariff parameter.
  EXPECT_TRUE(changes[0].counter) << "tariff: the configuration counter steps";

  ASSERT_TRUE(gate.write(Meter::kClock, kernel::Value{std::string("2026-01-15T09:30:00Z")},
                         kernel::Requester{kernel::Interface::comms, kernel::Role::calibrator,
                                           "rf"}));
  EXPECT_EQ(r.meter->clock().now(), utc(2026, 1, 15, 9, 30, 0));
  EXPECT_EQ(jumps.size(), 2u);

  // Operational: a sealed meter's clock is still set, and only by a configurator or calibrator.
  gate.set_sealed(true, kernel::SealKind::cover);
  EXPECT_TRUE(gate.write(Meter::kClock, kernel::Value{std::string("2026-01-15 05:00:00")},
                         kConfigurator));
  EXPECT_EQ(r.meter->clock().now(), utc(2026, 1, 15, 10, 0, 0)) << "EST is UTC-5";
  EXPECT_FALSE(
      gate.write(Meter::kClock, kernel::Value{std::string("2026-01-15 06:00:00")}, kReader));
  EXPECT_FALSE(gate.write(Meter::kClock, kernel::Value{std::string("2026-01-15 06:00:00")},
                          kernel::Requester{kernel::Interface::optical_port,
                                            kernel::Role::public_read, "anyone"}));
  EXPECT_EQ(jumps.size(), 3u);
}

TEST(Meter, MalformedOrImpossibleClockTextIsRefusedWithAReason) {
  Rig r(single(120, 1));  // America/Toronto
  auto& gate = r.meter->gate();
  std::vector<kernel::TimeChanged> jumps;
  r.meter->bus().subscribe<kernel::TimeChanged>(
      [&](const kernel::TimeChanged& e) { jumps.push_back(e); });
  const auto now = r.meter->clock().now();
  const std::vector<std::pair<std::string, std::string>> cases{
      {"2026-07-01 12:00",
       "is not a time: write YYYY-MM-DD HH:MM:SS (local time, America/Toronto)"},
      {"01/07/2026 12:00:00", "is not a time"},
      {"2026-07-01 12:00:00 EDT", "is not a time"},
      {"2026-07-01T12:00:00", "is not a time"},
      {"2026-07-01T12:00:00+02:00", "is not a time"},
      {"", "is not a time"},
      {"2026-02-30 00:00:00", "is not a date and time of the calendar"},
      {"2026-07-01 24:00:00", "is not a date and time of the calendar"},
      {"1999-12-31 23:59:59", "in the years 2000 to 2099"},
      {"2026-03-08 02:30:00", "does not exist in America/Toronto"},
      {"2026-11-01 01:30:00", "happens twice in America/Toronto"},
  };
  for (const auto& [text, reason] : cases) {
    auto refused = gate.write(Meter::kClock, kernel::Value{text}, kConfigurator);
    ASSERT_FALSE(refused) << text;
    EXPECT_NE(refused.error().message.find(reason), std::string::npos)
        << text << ": " << refused.error().message;
  }
  EXPECT_FALSE(
      gate.write(Meter::kClock, kernel::Value{std::int64_t{1'780'000'000}}, kConfigurator));
  EXPECT_EQ(r.meter->clock().now(), now);
  EXPECT_TRUE(jumps.empty());
}

TEST(Meter, WritingTheClockMakesAnUnknownTimeValid) {
  kernel::VirtualTimeSource time{kernel::UtcTime{seconds{1'780'000'000}}};
  auto c = config_for(single(120, 1));
  c.time_valid = false;
  auto m = std::move(Meter::create(c, time).value());
  auto error_bits = [&] {
    return std::get<std::uint64_t>(*m->objects().read(kernel::obis("0-0:97.97.0"),
                                                      kernel::Role::public_read));
  };
  EXPECT_TRUE(*m->objects().read(Meter::kClock, kernel::Role::public_read) ==
              kernel::Value{std::string("time unknown")});
  EXPECT_EQ(error_bits() & 2u, 2u);
  std::vector<kernel::Fault> cleared;
  std::vector<kernel::TimeChanged> jumps;
  m->bus().subscribe<kernel::FaultCleared>(
      [&](const kernel::FaultCleared& e) { cleared.push_back(e.fault); });
  m->bus().subscribe<kernel::TimeChanged>(
      [&](const kernel::TimeChanged& e) { jumps.push_back(e); });
  ASSERT_TRUE(m->gate().write(Meter::kClock, kernel::Value{std::string("2026-05-04T03:02:01Z")},
                              kConfigurator));
  EXPECT_TRUE(m->clock().valid());
  EXPECT_EQ(error_bits() & 2u, 0u);
  EXPECT_EQ(cleared, std::vector<kernel::Fault>{kernel::Fault::clock_invalid});
  ASSERT_EQ(jumps.size(), 1u);
  EXPECT_FALSE(jumps[0].was_valid);
}

}  // namespace
}  // namespace meter
