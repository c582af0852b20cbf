// The credit ledger alone: exact debits over many ticks, the order money is taken in, and the
// emergency credit rules of the manual (initial limit once before the first purchase, limit
// after zero, threshold, repayment from the next purchase).
#include <gtest/gtest.h>

#include "ledger.h"

namespace meter::plugins::prepaid {
namespace {

LedgerSettings settings() {
  LedgerSettings s;
  s.sources = 2;
  s.price_milli_per_kwh = {13'217, 31'500, 0, 0};  // 13.217 and 31.5 cents per kWh
  s.emergency_initial_limit_milli = 500'000;        // 5.00
  s.emergency_limit_milli = 300'000;                // 3.00
  s.emergency_threshold_milli = 200'000;            // 2.00
  return s;
}

TEST(Ledger, TheDebitOfManyTicksIsTheirEnergyTimesThePriceToTheMilliCent) {
  Ledger ledger(settings());
  ledger.commission(10'000'000'000);
  constexpr std::int64_t kTicks = 864'000;  // ten days of 1 s ticks
  constexpr std::int64_t kMwh = 333;        // 1.2 kW
  for (std::int64_t i = 0; i < kTicks; ++i) ledger.debit(0, kMwh);
  // 333 mWh x 13 217 milli-cent/kWh = 4.401 261 milli-cents a tick: rounding each tick would
  // lose 0.4 of a milli-cent every second; the carried remainder loses nothing.
  const std::int64_t exact = kTicks * kMwh * 13'217 / 1'000'000;
  EXPECT_EQ(ledger.values().total_debited_milli, exact);
  EXPECT_EQ(ledger.values().debited_milli[0], exact);
  EXPECT_EQ(ledger.values().energy_mwh[0], kTicks * kMwh);
  EXPECT_EQ(ledger.values().credit_milli, 10'000'000'000 - exact);
  EXPECT_EQ(ledger.values().remainder_charge[0], kTicks * kMwh * 13'217 % 1'000'000);
  EXPECT_NE(exact, kTicks * 4);  // what rounding each tick down would have debited
}

TEST(Ledger, EachSourceIsDebitedAtItsOwnPriceFromTheOnePool) {
  Ledger ledger(settings());
  ledger.commission(1'000'000);
  ledger.debit(0, 1'000'000);  // 1 kWh of grid
  ledger.debit(1, 2'000'000);  // 2 kWh of generator
  EXPECT_EQ(ledger.values().debited_milli[0], 13'217);
  EXPECT_EQ(ledger.values().debited_milli[1], 63'000);
  EXPECT_EQ(ledger.values().credit_milli, 1'000'000 - 13'217 - 63'000);
  EXPECT_EQ(ledger.debit(2, 1'000), 0);  // no such source
  EXPECT_EQ(ledger.debit(0, -5), 0);
}

TEST(Ledger, ALongCatchUpIsExactIn128Bits) {
  LedgerSettings s = settings();
  s.price_milli_per_kwh[0] = 100'000'000;  // 100 000 cents per kWh: the schema's maximum
  Ledger ledger(s);
  ledger.commission(0);
  const std::int64_t mwh = 4'000'000'000'000;  // 4 GWh: far beyond int64 once priced
  ledger.debit(0, mwh);
  EXPECT_EQ(ledger.values().total_debited_milli, 400'000'000'000'000);
}

TEST(Ledger, MoneyComesFromCreditThenEmergencyCreditThenBecomesDebt) {
  Ledger ledger(settings());
  ledger.commission(10'000);
  EXPECT_TRUE(ledger.supply_paid());
  ledger.debit(0, 1'000'000);  // 13 217 milli-cents
  EXPECT_EQ(ledger.values().credit_milli, -3'217);
  EXPECT_FALSE(ledger.supply_paid());
  EXPECT_EQ(ledger.emergency_state(), EmergencyState::selectable);
  ASSERT_EQ(ledger.select_emergency(), std::nullopt);
  EXPECT_EQ(ledger.emergency_state(), EmergencyState::in_use);
  EXPECT_TRUE(ledger.supply_paid());
  ledger.debit(0, 1'000'000);
  EXPECT_EQ(ledger.values().credit_milli, -3'217);  // the debt stays; emergency credit pays
  EXPECT_EQ(ledger.values().emergency_used_milli, 13'217);
  EXPECT_EQ(ledger.emergency_balance_milli(), 500'000 - 13'217);
  ledger.debit(0, 40'000'000);  // 528 680 milli-cents: more than the balance
  EXPECT_EQ(ledger.emergency_state(), EmergencyState::exhausted);
  EXPECT_EQ(ledger.values().emergency_used_milli, 500'000);
  EXPECT_EQ(ledger.values().credit_milli, -3'217 - (528'680 - 486'783));
  EXPECT_FALSE(ledger.supply_paid());
}

TEST(Ledger, TheInitialLimitIsGrantedOnceAndTheLimitAfterwards) {
  Ledger ledger(settings());
  ledger.commission(0);
  EXPECT_EQ(ledger.applicable_limit_milli(), 500'000);
  ASSERT_EQ(ledger.select_emergency(), std::nullopt);
  EXPECT_EQ(ledger.emergency_balance_milli(), 500'000);
  EXPECT_EQ(ledger.select_emergency(), SelectRefusal::already_granted);
  ledger.debit(0, 10'000'000);  // 132 170
  ledger.purchase(2'000'000);
  EXPECT_EQ(ledger.emergency_state(), EmergencyState::off);
  EXPECT_EQ(ledger.values().credit_milli, 2'000'000 - 132'170);
  ledger.debit(1, 100'000'000);  // 3 150 000: beyond the credit
  EXPECT_EQ(ledger.applicable_limit_milli(), 300'000);
  ASSERT_EQ(ledger.select_emergency(), std::nullopt);
  EXPECT_EQ(ledger.emergency_balance_milli(), 300'000);
}

TEST(Ledger, APurchaseBeforeAnySelectionForfeitsTheInitialLimit) {
  Ledger ledger(settings());
  ledger.commission(0);
  ledger.purchase(1'000);
  ledger.debit(0, 1'000'000);
  EXPECT_EQ(ledger.applicable_limit_milli(), 300'000);
  ASSERT_EQ(ledger.select_emergency(), std::nullopt);
  EXPECT_EQ(ledger.emergency_balance_milli(), 300'000);
}

TEST(Ledger, EmergencyCreditIsSelectableOnlyAfterTheCreditReachedZeroAndWhenOffered) {
  Ledger ledger(settings());
  ledger.commission(1);
  EXPECT_EQ(ledger.emergency_state(), EmergencyState::off);
  EXPECT_EQ(ledger.select_emergency(), SelectRefusal::credit_left);
  LedgerSettings none = settings();
  none.emergency_initial_limit_milli = 0;
  Ledger without(none);
  without.commission(0);
  EXPECT_EQ(without.emergency_state(), EmergencyState::not_offered);
  EXPECT_EQ(without.select_emergency(), SelectRefusal::not_offered);
}

TEST(Ledger, APurchaseRepaysEmergencyCreditFirstAndTheGrantNeverRevolves) {
  Ledger ledger(settings());
  ledger.commission(0);
  ASSERT_EQ(ledger.select_emergency(), std::nullopt);
  ledger.debit(1, 10'000'000);  // 315 000 of the 500 000
  ledger.purchase(100'000);     // repays 100 000 of the 315 000 used
  EXPECT_EQ(ledger.values().emergency_used_milli, 215'000);
  EXPECT_EQ(ledger.emergency_balance_milli(), 185'000);  // unchanged: nothing revolves
  EXPECT_EQ(ledger.values().credit_milli, 0);
  EXPECT_EQ(ledger.values().total_purchase_milli, 100'000);
  ledger.debit(1, 100'000'000);  // uses the rest and goes into debt
  EXPECT_EQ(ledger.emergency_state(), EmergencyState::exhausted);
  EXPECT_EQ(ledger.values().credit_milli, -(3'150'000 - 185'000));
  ledger.purchase(100'000);  // still owes: stays exhausted, no supply
  EXPECT_EQ(ledger.emergency_state(), EmergencyState::exhausted);
  EXPECT_FALSE(ledger.supply_paid());
  ledger.purchase(10'000'000);  // repays the 300 000 still owed, then the debt
  EXPECT_EQ(ledger.emergency_state(), EmergencyState::off);
  EXPECT_EQ(ledger.values().emergency_used_milli, 0);
  EXPECT_EQ(ledger.values().credit_milli, 10'000'000 - 300'000 - 2'965'000);
  EXPECT_EQ(ledger.values().total_purchase_milli, 10'200'000);
  EXPECT_TRUE(ledger.supply_paid());
}

TEST(Ledger, TheWarningStartsBelowTheThreshold) {
  Ledger ledger(settings());
  ledger.commission(200'000);
  EXPECT_FALSE(ledger.low_credit());
  ledger.debit(0, 1'000);  // 13 milli-cents
  EXPECT_TRUE(ledger.low_credit());
  ledger.purchase(1'000'000);
  EXPECT_FALSE(ledger.low_credit());
}

}  // namespace
}  // namespace meter::plugins::prepaid
