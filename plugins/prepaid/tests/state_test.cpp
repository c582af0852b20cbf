// The NVM records and the history object: what is written reads back the same, and anything
// damaged or impossible reads as nothing rather than as money.
#include <gtest/gtest.h>

#include "meter/plugins/prepaid/history_format.h"
#include "state.h"
#include "used_tokens.h"

namespace meter::plugins::prepaid {
namespace {

AccountState sample() {
  AccountState s;
  s.ledger.credit_milli = -12'345;
  s.ledger.total_purchase_milli = 7'000'000;
  s.ledger.total_debited_milli = 7'012'345;
  s.ledger.emergency_granted_milli = 300'000;
  s.ledger.emergency_used_milli = 120'000;
  s.ledger.purchases = 3;
  s.ledger.initial_limit_available = false;
  s.ledger.energy_mwh = {1, 2, 3, 4};
  s.ledger.debited_milli = {5, 6, 7, 8};
  s.ledger.remainder_charge = {999'999, 0, 1, 2};
  s.protection.reasons = {kReasonCredit, kReasonCredit | kReasonOverCurrent, 0, 0};
  s.protection.over_current_wait_ms = {0, 30'000, 0, 0};
  s.protection.over_current_trips = 2;
  s.protection.over_voltage_trips = 1;
  s.active_source = 1;
  s.register_known = true;
  s.register_mwh = 123'456'789;
  s.tokens_accepted = 3;
  s.tokens_refused = 4;
  s.refusals_in_a_row = 2;
  s.lockout_ms = 0;
  s.last_result = METER_PREPAID_TOKEN_USED;
  s.last_token_id = 3'176'340;
  return s;
}

TEST(AccountRecord, ReadsBackWhatWasWritten) {
  const auto bytes = encode_account(sample());
  const auto back = decode_account(bytes.data(), bytes.size());
  ASSERT_TRUE(back);
  EXPECT_EQ(encode_account(*back), bytes);
  EXPECT_EQ(back->ledger.credit_milli, -12'345);
  EXPECT_EQ(back->ledger.remainder_charge[0], 999'999);
  EXPECT_EQ(back->protection.reasons[1], kReasonCredit | kReasonOverCurrent);
  EXPECT_EQ(back->register_mwh, 123'456'789);
  EXPECT_EQ(back->last_token_id, 3'176'340u);
}

TEST(AccountRecord, ADamagedOrImpossibleRecordIsRefused) {
  const auto bytes = encode_account(sample());
  EXPECT_FALSE(decode_account(bytes.data(), bytes.size() - 1));
  auto longer = bytes;
  longer.push_back(0);
  EXPECT_FALSE(decode_account(longer.data(), longer.size()));
  auto format = bytes;
  format[0] = 2;
  EXPECT_FALSE(decode_account(format.data(), format.size()));
  AccountState bad = sample();
  bad.ledger.emergency_used_milli = bad.ledger.emergency_granted_milli + 1;
  auto b = encode_account(bad);
  EXPECT_FALSE(decode_account(b.data(), b.size()));
  bad = sample();
  bad.ledger.remainder_charge[2] = kChargePerMilli;
  b = encode_account(bad);
  EXPECT_FALSE(decode_account(b.data(), b.size()));
  bad = sample();
  bad.active_source = 4;
  b = encode_account(bad);
  EXPECT_FALSE(decode_account(b.data(), b.size()));
}

TEST(UsedIds, ReadBackAndRefuseATruncatedRecord) {
  const std::vector<std::uint32_t> ids = {1, 70'000, 16'777'215};
  const auto bytes = encode_ids(ids);
  EXPECT_EQ(decode_ids(bytes.data(), bytes.size()), ids);
  EXPECT_FALSE(decode_ids(bytes.data(), bytes.size() - 1));
}

TEST(UsedTokens, AUsedIdIsRefusedAndSoIsOneOlderThanAFullWindow) {
  UsedTokens used(3);
  EXPECT_EQ(used.check(10), IdVerdict::fresh);
  used.add(10);
  used.add(30);
  EXPECT_EQ(used.check(10), IdVerdict::used);
  EXPECT_EQ(used.check(5), IdVerdict::fresh);  // the window is not full: nothing was dropped
  used.add(20);
  used.add(40);  // drops 10, the lowest
  EXPECT_EQ(used.ids(), (std::vector<std::uint32_t>{20, 30, 40}));
  EXPECT_EQ(used.check(10), IdVerdict::too_old);
  EXPECT_EQ(used.check(25), IdVerdict::fresh);
  used.restore({50, 5, 50, 60, 70});
  EXPECT_EQ(used.ids(), (std::vector<std::uint32_t>{50, 60, 70}));
}

TEST(UsedTokens, AfterTheIdsWereLostEverythingUpToTheNewestPurchaseIsRefused) {
  UsedTokens used(3);
  used.refuse_up_to(10);
  EXPECT_EQ(used.ids(), (std::vector<std::uint32_t>{8, 9, 10}));
  EXPECT_EQ(used.check(10), IdVerdict::used);
  EXPECT_EQ(used.check(7), IdVerdict::too_old);
  EXPECT_EQ(used.check(11), IdVerdict::fresh);
  used.refuse_up_to(1);
  EXPECT_EQ(used.ids(), (std::vector<std::uint32_t>{0, 1}));
}

TEST(HistoryFormat, EncodesNewestFirstAndRefusesAWrongLength) {
  const std::vector<Purchase> purchases = {{1'768'417'200'000, 2'000'000, 2'500'000, 3'176'340},
                                           {0, 1'000, -5, 7}};
  std::vector<std::uint8_t> bytes;
  encode_history(purchases, 2, bytes);
  ASSERT_EQ(bytes.size(), kHistoryHeaderBytes + 2 * kPurchaseBytes);
  const auto h = decode_history(bytes.data(), bytes.size());
  ASSERT_TRUE(h);
  EXPECT_EQ(h->currency_decimals, 2);
  EXPECT_EQ(h->newest_first, purchases);
  EXPECT_FALSE(decode_history(bytes.data(), bytes.size() - 1));
  bytes[0] = 9;
  EXPECT_FALSE(decode_history(bytes.data(), bytes.size()));
}

}  // namespace
}  // namespace meter::plugins::prepaid
