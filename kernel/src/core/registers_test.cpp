#include "meter/kernel/registers.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>

namespace meter::kernel {
namespace {

__extension__ using Int128 = __int128;

TEST(EnergyRegisters, CarriesRemaindersInsteadOfRounding) {
  EnergyRegisters r;
  for (int i = 0; i < 3; ++i) r.apply(400'000, 0);  // 0.4 mWh a tick
  EXPECT_EQ(r.mwh(EnergyRegister::import_active), 1);
  EXPECT_EQ(r.exact_nwh(EnergyRegister::import_active), 1'200'000);
}

TEST(EnergyRegisters, BooksByDirectionAndQuadrant) {
  EnergyRegisters r;
  r.apply(5'000'000, 1'000'000);    // import, lagging: Q1
  r.apply(-7'000'000, 2'000'000);   // export, lagging: Q2
  r.apply(-1'000'000, -3'000'000);  // export, leading: Q3
  r.apply(2'000'000, -4'000'000);   // import, leading: Q4
  EXPECT_EQ(r.mwh(EnergyRegister::import_active), 7);
  EXPECT_EQ(r.mwh(EnergyRegister::export_active), 8);
  EXPECT_EQ(r.net_mwh(), -1);
  EXPECT_EQ(r.mwh(EnergyRegister::reactive_q1), 1);
  EXPECT_EQ(r.mwh(EnergyRegister::reactive_q2), 2);
  EXPECT_EQ(r.mwh(EnergyRegister::reactive_q3), 3);
  EXPECT_EQ(r.mwh(EnergyRegister::reactive_q4), 4);
}

// A simulated year of one-second ticks with random loads, import and export, lagging and
// leading: every register equals the exact sum of what was booked to it, and none ever moved
// backwards.
TEST(EnergyRegisters, AYearOfTicksSumsExactly) {
  constexpr std::int64_t kTicks = 365LL * 24 * 3600;
  std::mt19937_64 rng(2026);
  // Up to +-20 kW and +-10 kvar for one second, in nWh.
  std::uniform_int_distribution<std::int64_t> active(-5'555'555, 5'555'555);
  std::uniform_int_distribution<std::int64_t> reactive(-2'777'777, 2'777'777);
  EnergyRegisters r;
  std::array<Int128, kEnergyRegisterCount> expected_nwh{};
  std::array<std::int64_t, kEnergyRegisterCount> moved_sum{};
  auto previous = r.totals_mwh();
  bool monotonic = true;
  for (std::int64_t t = 0; t < kTicks; ++t) {
    const auto a = active(rng);
    const auto q = a == 0 ? 0 : reactive(rng);
    const auto moved = r.apply(a, q);
    const auto ai = index_of(a >= 0 ? EnergyRegister::import_active : EnergyRegister::export_active);
    const auto qi = index_of(a >= 0 ? (q >= 0 ? EnergyRegister::reactive_q1 : EnergyRegister::reactive_q4)
                                    : (q >= 0 ? EnergyRegister::reactive_q2 : EnergyRegister::reactive_q3));
    expected_nwh[ai] += a >= 0 ? a : -a;
    expected_nwh[qi] += q >= 0 ? q : -q;
    for (std::size_t i = 0; i < kEnergyRegisterCount; ++i) {
      moved_sum[i] += moved[i];
      monotonic = monotonic && r.totals_mwh()[i] >= previous[i];
    }
    previous = r.totals_mwh();
  }
  EXPECT_TRUE(monotonic);
  for (std::size_t i = 0; i < kEnergyRegisterCount; ++i) {
    const auto reg = static_cast<EnergyRegister>(i + 1);
    EXPECT_EQ(static_cast<Int128>(r.exact_nwh(reg)), expected_nwh[i]) << "register " << i;
    EXPECT_EQ(moved_sum[i], r.mwh(reg)) << "the deltas published add up to the register";
  }
  EXPECT_GT(r.mwh(EnergyRegister::import_active), 0);
  EXPECT_GT(r.mwh(EnergyRegister::reactive_q3), 0);
}

TEST(EnergyRegisters, RestoreRefusesDamagedValues) {
  EnergyRegisters r;
  EnergyRegisters::Snapshot s;
  s.mwh[0] = 123;
  s.remainder_nwh[0] = 999'999;
  ASSERT_TRUE(r.restore(s));
  EXPECT_EQ(r.exact_nwh(EnergyRegister::import_active), 123'999'999);
  auto negative = s;
  negative.mwh[2] = -1;
  EXPECT_FALSE(r.restore(negative));
  auto remainder = s;
  remainder.remainder_nwh[1] = 1'000'000;
  EXPECT_FALSE(r.restore(remainder));
  EXPECT_EQ(r.mwh(EnergyRegister::import_active), 123) << "a refused restore changes nothing";
}

TEST(EnergyRegisters, PresetOnlyTheActiveRegistersAndNeverNegative) {
  EnergyRegisters r;
  r.apply(1'500'000, 0);
  ASSERT_TRUE(r.preset(EnergyRegister::import_active, 5000));
  EXPECT_EQ(r.exact_nwh(EnergyRegister::import_active), 5'000'000'000);
  ASSERT_TRUE(r.preset(EnergyRegister::export_active, 0));
  EXPECT_FALSE(r.preset(EnergyRegister::reactive_q1, 0));
  EXPECT_FALSE(r.preset(EnergyRegister::import_active, -1));
  EXPECT_EQ(r.mwh(EnergyRegister::import_active), 5000);
}

TEST(EnergyRegisters, APresetBeyondTheLargestReadingIsRefusedAndChangesNothing) {
  EnergyRegisters regs;
  ASSERT_TRUE(regs.preset(EnergyRegister::import_active, 5));
  EXPECT_FALSE(regs.preset(EnergyRegister::import_active, EnergyRegisters::kMaxPresetMwh + 1));
  EXPECT_FALSE(regs.preset(EnergyRegister::import_active, INT64_MAX));
  EXPECT_EQ(regs.mwh(EnergyRegister::import_active), 5);
  EXPECT_TRUE(regs.preset(EnergyRegister::import_active, EnergyRegisters::kMaxPresetMwh));
}

}  // namespace
}  // namespace meter::kernel
