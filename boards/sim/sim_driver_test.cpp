#include "meter/boards/sim/sim_driver.h"

#include <date/date.h>
#include <gtest/gtest.h>

#include <cmath>

#include "meter/boards/relays.h"
#include "meter/kernel/meter.h"

namespace meter::boards::sim {
namespace {

using kernel::EnergyRegister;
using kernel::index_of;
using kernel::Meter;
using kernel::UtcTime;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const UtcTime kJune{date::sys_days{date::year{2026} / 6 / 1}};

SimConfig residential_pv(std::uint64_t seed = 3) {
  SimConfig c;
  c.seed = seed;
  c.service = *kernel::find_service("2e3w-1ph");
  c.nominal_voltage_v = 120;
  c.pv_peak_w = 6000;
  c.utc_offset = minutes{-300};
  return c;
}

// A driver and a meter on a virtual clock: each second the driver feeds, then the meter ticks.
struct Rig {
  explicit Rig(const SimConfig& c, UtcTime start = kJune) : time(start) {
    auto d = make_sim_driver(c);
    if (!d) ADD_FAILURE() << d.error().message;
    driver = std::move(*d);
    kernel::MeterConfig mc;
    mc.metrology = metrology_config(c);
    meter = std::move(Meter::create(mc, time).value());
  }
  void run(seconds span) {
    for (std::int64_t s = 0; s < span.count(); ++s) {
      driver->feed(*meter, time.utc(), seconds{1});
      time.advance(seconds{1});
      meter->tick();
    }
  }
  void skip(seconds span) { time.advance(span); }
  std::int64_t fed(EnergyRegister r) const { return driver->fed().nwh[index_of(r)]; }

  kernel::VirtualTimeSource time;
  std::unique_ptr<Driver> driver;
  std::unique_ptr<Meter> meter;
};

TEST(SimDriver, ConfigurationErrorsNameTheValue) {
  auto c = residential_pv();
  c.service = nullptr;
  auto d = make_sim_driver(c);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("service"), std::string::npos);
  c = residential_pv();
  c.nominal_voltage_v = -120;
  d = make_sim_driver(c);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("nominal_voltage_v must be within 0..1000 V, got -120"),
            std::string::npos);
  c = residential_pv();
  c.energy_nwh_per_lsb = 0;
  EXPECT_FALSE(make_sim_driver(c));
  c = residential_pv();
  c.fidelity = Fidelity::waveform;
  c.service = *kernel::find_service("2e4w-wye");
  d = make_sim_driver(c);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("2e4w-wye"), std::string::npos);
  c = residential_pv();
  c.happenings = {{Happening::Kind::voltage_sag, kJune, hours{1}, -0.2}};
  d = make_sim_driver(c);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("happening 0 (voltage_sag at 2026-06-01T00:00:00.000Z)"),
            std::string::npos)
      << d.error().message;
}

TEST(SimDriver, SealSwitchesReadTheSiteStateAndChangeAtTheirHappenings) {
  auto c = residential_pv();
  c.seal_switches = {kernel::SealKind::cover, kernel::SealKind::optical_plug};
  c.sealed = {kernel::SealKind::cover, kernel::SealKind::optical_plug};
  Happening broken;
  broken.kind = Happening::Kind::seal_broken;
  broken.seal = kernel::SealKind::cover;
  broken.at = kJune + hours{2};
  c.happenings = {broken};
  auto d = make_sim_driver(c);
  ASSERT_TRUE(d) << d.error().message;
  const std::uint8_t both = seal_bit(kernel::SealKind::cover) | seal_bit(kernel::SealKind::optical_plug);
  EXPECT_EQ((*d)->seal_switches(kJune), (SealSwitches{both, both}));
  EXPECT_EQ((*d)->seal_switches(kJune + hours{2}).sealed, seal_bit(kernel::SealKind::optical_plug));
  EXPECT_EQ((*d)->happenings().size(), 1u) << "the run still lists the happening";

  c.seal_switches = {kernel::SealKind::cover};
  d = make_sim_driver(c);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("sim: the initial seal state names the optical-plug seal "
                                   "switch, which the board does not have"),
            std::string::npos)
      << d.error().message;
}

TEST(SimDriver, SameSeedFeedsTheSameEnergyAndAnotherSeedOther) {
  Rig a(residential_pv(3)), b(residential_pv(3)), c(residential_pv(4));
  for (Rig* r : {&a, &b, &c}) r->run(hours{6});
  EXPECT_EQ(a.driver->fed().nwh, b.driver->fed().nwh);
  EXPECT_EQ(a.meter->registers().totals_mwh(), b.meter->registers().totals_mwh());
  EXPECT_NE(a.driver->fed().nwh, c.driver->fed().nwh);
  EXPECT_EQ(a.driver->fed().ticks, 6u * 3600);
}

TEST(SimDriver, FeedingTwoPiecesWithAGapIsTheWholeMinusTheGap) {
  const auto c = residential_pv();
  Rig whole(c);
  whole.run(hours{3});
  Rig first(c);
  first.run(hours{1});
  first.skip(hours{1});
  first.run(minutes{30});
  Rig restarted(c, kJune + minutes{150});  // a fresh driver, as after meterd recreates the kernel
  restarted.run(minutes{30});
  Rig gap(c, kJune + hours{1});
  gap.run(hours{1});
  for (std::size_t r = 0; r < kernel::kEnergyRegisterCount; ++r) {
    EXPECT_EQ(whole.driver->fed().nwh[r],
              first.driver->fed().nwh[r] + restarted.driver->fed().nwh[r] + gap.driver->fed().nwh[r])
        << "register " << r + 1;
  }
}

TEST(SimDriver, NothingIsFedDuringAPowerFailure) {
  auto c = residential_pv();
  c.happenings = {{Happening::Kind::power_failure, kJune + minutes{30}, minutes{20}},
                  {Happening::Kind::time_jump, kJune + hours{2}, {}, 1.0, minutes{-5}}};
  Rig failing(c);
  ASSERT_EQ(failing.driver->happenings().size(), 2u);
  EXPECT_EQ(failing.driver->happenings()[1].jump, minutes{-5}) << "time jumps are carried";
  failing.run(minutes{30});
  const auto before = failing.meter->registers().snapshot();
  const auto fed_before = failing.driver->fed();
  failing.run(minutes{20});
  EXPECT_EQ(failing.driver->fed().nwh, fed_before.nwh);
  EXPECT_EQ(failing.driver->fed().ticks, fed_before.ticks);
  EXPECT_EQ(failing.meter->registers().snapshot().remainder_nwh, before.remainder_nwh);
  failing.run(minutes{10});

  auto no_failure = residential_pv();
  Rig steady(no_failure);
  steady.run(hours{1});
  Rig outage(no_failure, kJune + minutes{30});
  outage.run(minutes{20});
  for (std::size_t r = 0; r < kernel::kEnergyRegisterCount; ++r) {
    EXPECT_EQ(failing.driver->fed().nwh[r], steady.driver->fed().nwh[r] - outage.driver->fed().nwh[r]);
  }
  EXPECT_EQ(failing.driver->fed().ticks, 40u * 60);
}

TEST(SimDriver, ASagLowersTheEnergyInProportion) {
  auto c = residential_pv();
  c.pv_peak_w = 0;
  c.happenings = {{Happening::Kind::voltage_sag, kJune + hours{1}, hours{1}, 0.8}};
  Rig sagged(c, kJune + hours{1});
  sagged.run(hours{1});
  c.happenings.clear();
  Rig normal(c, kJune + hours{1});
  normal.run(hours{1});
  const auto sag_nwh = static_cast<double>(sagged.fed(EnergyRegister::import_active));
  const auto normal_nwh = static_cast<double>(normal.fed(EnergyRegister::import_active));
  EXPECT_GT(normal_nwh, 1e9) << "at least 1 Wh";
  EXPECT_NEAR(sag_nwh / normal_nwh, 0.8, 1e-5);
  EXPECT_NEAR(sagged.meter->last_measurements().voltage_v[0], 0.8 * 120, 1e-9);
}

TEST(SimDriver, ChipRegistersEqualWhatWasFedOverAWeekExactly) {
  // A PV site: import, export and reactive energy in more than one quadrant.
  auto c = residential_pv(11);
  c.happenings = {{Happening::Kind::power_failure, kJune + hours{50}, minutes{90}},
                  {Happening::Kind::voltage_sag, kJune + hours{80} + seconds{1} / 2, minutes{7}, 0.7}};
  Rig r(c);
  r.run(hours{24 * 7});
  const auto& regs = r.meter->registers();
  for (const auto reg : {EnergyRegister::import_active, EnergyRegister::export_active,
                         EnergyRegister::reactive_q1, EnergyRegister::reactive_q2,
                         EnergyRegister::reactive_q3, EnergyRegister::reactive_q4}) {
    EXPECT_EQ(regs.exact_nwh(reg), r.fed(reg)) << "register " << static_cast<int>(reg);
  }
  EXPECT_GT(r.fed(EnergyRegister::import_active), 0);
  EXPECT_GT(r.fed(EnergyRegister::export_active), 0);
  EXPECT_GT(r.fed(EnergyRegister::reactive_q1), 0);
  EXPECT_GT(r.fed(EnergyRegister::reactive_q2), 0);
  EXPECT_EQ(r.driver->fed().ticks, 7u * 86400 - 90 * 60);
}

TEST(SimDriver, CommercialChipRegistersEqualWhatWasFedOnThreePhases) {
  SimConfig c;
  c.model = LoadModelKind::commercial;
  c.service = *kernel::find_service("3e4w-wye");
  c.nominal_voltage_v = 277;
  c.seed = 5;
  Rig r(c);
  r.run(hours{24});
  for (std::size_t k = 0; k < kernel::kEnergyRegisterCount; ++k) {
    EXPECT_EQ(r.meter->registers().exact_nwh(static_cast<EnergyRegister>(k + 1)),
              r.driver->fed().nwh[k]);
  }
  EXPECT_GT(r.fed(EnergyRegister::reactive_q1), r.fed(EnergyRegister::import_active) / 3)
      << "motors make the load lag";
  EXPECT_EQ(r.fed(EnergyRegister::export_active), 0);
}

TEST(SimDriver, WaveformFidelityMetersWhatTheModelDrew) {
  auto c = residential_pv();
  c.fidelity = Fidelity::waveform;
  c.service = *kernel::find_service("1e2w");
  c.nominal_voltage_v = 240;
  c.volts_per_code = 0.02;
  c.amps_per_code = 0.005;
  Rig night(c, kJune + hours{23});  // 18:00 local: import
  night.run(minutes{3});
  Rig noon(c, kJune + hours{17});   // 12:00 local: export
  noon.run(minutes{3});
  for (Rig* r : {&night, &noon}) {
    for (const auto reg : {EnergyRegister::import_active, EnergyRegister::export_active}) {
      const auto fed = static_cast<double>(r->fed(reg));
      EXPECT_NEAR(static_cast<double>(r->meter->registers().exact_nwh(reg)), fed, fed * 2e-3 + 1e6);
    }
  }
  EXPECT_GT(night.fed(EnergyRegister::import_active), 1e9);
  EXPECT_GT(noon.fed(EnergyRegister::export_active), 1e9);
}

TEST(SimDriver, AnOpenServiceRelayDisconnectsTheLoadButTheVoltageIsStillMeasured) {
  for (const Fidelity fidelity : {Fidelity::chip, Fidelity::waveform}) {
    auto c = residential_pv();
    c.fidelity = fidelity;
    Rig rig(c);  // 19:00 local: the household draws, the PV hardly gives
    Relays relays(2, *rig.driver);
    EXPECT_EQ(relays.relays(), 2u);
    rig.run(minutes{10});
    const std::int64_t before = rig.fed(EnergyRegister::import_active);
    ASSERT_GT(before, 0);
    ASSERT_TRUE(relays.set_open(1, true));
    EXPECT_FALSE(relays.load_connected());
    const auto registers = rig.meter->registers().totals_mwh();
    rig.run(minutes{10});
    EXPECT_EQ(rig.fed(EnergyRegister::import_active), before);
    EXPECT_EQ(rig.meter->registers().totals_mwh(), registers);
    const auto volts = rig.meter->objects().read(kernel::obis("1-0:32.7.0"), kernel::Role::public_read);
    ASSERT_TRUE(volts);
    EXPECT_NEAR(std::get<double>(*volts), 120.0, 1.0);
    const auto amps = rig.meter->objects().read(kernel::obis("1-0:31.7.0"), kernel::Role::public_read);
    ASSERT_TRUE(amps);
    EXPECT_NEAR(std::get<double>(*amps), 0.0, 0.05);
    ASSERT_TRUE(relays.set_open(1, false));
    EXPECT_TRUE(relays.load_connected());
    rig.run(minutes{10});
    EXPECT_GT(rig.fed(EnergyRegister::import_active), before);
    EXPECT_FALSE(relays.set_open(2, true));  // no such relay
    EXPECT_EQ(relays.operations(), 2u);
  }
}

}  // namespace
}  // namespace meter::boards::sim
