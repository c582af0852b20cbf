// The prepaid plugin through the SDK's fake host: exact debits per source, tokens accepted and
// refused (forged, replayed, expired, another meter's, malformed, too early, locked out),
// emergency credit, the low-credit warning, relay trips and closes, friendly-credit periods,
// over-current and over-voltage, power failures and crashes, and bad settings.
#include <array>
#include <cstring>
#include <memory>

#include <gtest/gtest.h>

#include "meter/plugins/prepaid/events.h"
#include "meter/plugins/prepaid/history_format.h"
#include "rig.h"
#include "state.h"

namespace meter::plugins::prepaid::testing {
namespace {

using sdk::Status;
using sdk::Value;

constexpr std::int64_t kDayMs = 24 * kHourMs;

template <class Payload>
Payload last_payload(const Rig& rig, std::string_view topic) {
  Payload p{};
  for (const auto& [t, bytes] : rig.host.published()) {
    if (t == topic && bytes.size() >= sizeof p) std::memcpy(&p, bytes.data(), sizeof p);
  }
  return p;
}

TEST(PrepaidPlugin, EachTickIsDebitedAtTheActiveSourcesPriceExactly) {
  Rig rig(options("initial_credit = 100000"));  // 1 000.00
  rig.start();
  for (int i = 0; i < 86'400; ++i) rig.tick(333);  // a day at 1.2 kW on the grid
  const std::int64_t grid = 86'400LL * 333 * 13'217 / 1'000'000;
  EXPECT_EQ(rig.integer(source_obis(SourceObject::debited, 0)), grid);
  EXPECT_EQ(rig.integer(source_obis(SourceObject::energy, 0)), 86'400LL * 333);
  ASSERT_EQ(rig.host.write(kActiveSource, Value{std::uint64_t{2}}), Status::ok);
  for (int i = 0; i < 3'600; ++i) rig.tick(1'111);  // an hour at 4 kW on the generator
  const std::int64_t generator = 3'600LL * 1'111 * 31'500 / 1'000'000;
  EXPECT_EQ(rig.integer(source_obis(SourceObject::debited, 1)), generator);
  EXPECT_EQ(rig.integer(source_obis(SourceObject::energy, 1)), 3'600LL * 1'111);
  EXPECT_EQ(rig.integer(kTotalDebited), grid + generator);
  EXPECT_EQ(rig.credit(), 100'000'000 - grid - generator);
  EXPECT_EQ(rig.integer(source_obis(SourceObject::price, 1)), 31'500);
  EXPECT_EQ(rig.host.object_info(kAvailableCredit)->scaler, -5);  // milli-cents of a dollar
  EXPECT_EQ(rig.host.object_info(kAvailableCredit)->unit, 10);    // currency
  EXPECT_EQ(rig.host.write(kActiveSource, Value{std::uint64_t{3}}), Status::invalid_argument);
  EXPECT_EQ(rig.unsigned_value(kActiveSource), 2u);
  EXPECT_FALSE(rig.host.has_object(source_obis(SourceObject::price, 2)));
  EXPECT_EQ(rig.host.self_test(), Status::ok);
  EXPECT_EQ(rig.host.faults(), 0u);
}

TEST(PrepaidPlugin, ATokenAddsToTheCreditAndTheTotalPurchaseAndIsRecorded) {
  Rig rig;
  rig.start();
  const std::string t = token(2'000, kT0Ms - 5 * kMinMs);
  ASSERT_EQ(rig.enter(group_digits(t)), Status::ok) << rig.last_log();
  EXPECT_EQ(rig.credit(), 3'000'000);
  EXPECT_EQ(rig.integer(kTotalPurchase), 2'000'000);
  EXPECT_EQ(rig.unsigned_value(kTokensAccepted), 1u);
  EXPECT_EQ(rig.unsigned_value(kLastTokenResult), unsigned{METER_PREPAID_TOKEN_ACCEPTED});
  EXPECT_EQ(rig.text(kTokenEntry), "accepted");
  const auto octets = std::get<std::vector<std::uint8_t>>(*rig.host.read(kRechargeHistory));
  const auto history = decode_history(octets.data(), octets.size());
  ASSERT_TRUE(history);
  ASSERT_EQ(history->newest_first.size(), 1u);
  EXPECT_EQ(history->newest_first[0],
            (Purchase{kT0Ms, 2'000'000, 3'000'000, *token_id_at(kT0Ms - 5 * kMinMs)}));
  const auto e = last_payload<meter_prepaid_token>(rig, METER_PREPAID_TOKEN_TOPIC);
  EXPECT_EQ(e.result, METER_PREPAID_TOKEN_ACCEPTED);
  EXPECT_EQ(e.amount_milli, 2'000'000);
  // Persisted in the purchase's own transaction.
  EXPECT_TRUE(rig.host.nvm("used_ids"));
  EXPECT_TRUE(rig.host.nvm("history"));
  rig.restart();
  EXPECT_EQ(rig.credit(), 3'000'000);
  EXPECT_EQ(rig.enter(t), Status::invalid_argument);  // and a replay after a restart too
  EXPECT_EQ(rig.unsigned_value(kLastTokenResult), unsigned{METER_PREPAID_TOKEN_USED});
}

TEST(PrepaidPlugin, RefusedTokensAreCountedLoggedAndNeverChangeTheCredit) {
  Rig rig(options("token_lockout_after = 0\nmaximum_credit = 1000000"));  // 10 000.00
  rig.start();
  const std::string good = token(1'500, kT0Ms);
  std::string forged = good;
  forged[19] = forged[19] == '9' ? '0' : static_cast<char>(forged[19] + 1);
  std::string inflated = good;  // more money in the amount's digits, the MAC left alone
  inflated[12] = inflated[12] == '9' ? '8' : static_cast<char>(inflated[12] + 1);
  ASSERT_EQ(rig.enter(good), Status::ok);
  const std::int64_t credit = rig.credit();
  struct Case {
    std::string digits;
    int result;
  };
  const Case cases[] = {
      {forged, METER_PREPAID_TOKEN_BAD_MAC},
      {inflated, METER_PREPAID_TOKEN_BAD_MAC},
      {token(1'500, kT0Ms + kMinMs, kOtherKeyHex), METER_PREPAID_TOKEN_BAD_MAC},
      {good, METER_PREPAID_TOKEN_USED},
      {token(1'500, kT0Ms - 91 * kDayMs), METER_PREPAID_TOKEN_EXPIRED},
      {token(1'500, kT0Ms + 25 * kHourMs), METER_PREPAID_TOKEN_NOT_YET_VALID},
      {"1234 5678", METER_PREPAID_TOKEN_MALFORMED},
      {good + "0", METER_PREPAID_TOKEN_MALFORMED},
      {"99999999999999999999", METER_PREPAID_TOKEN_MALFORMED},
      {token(200'000, kT0Ms + 2 * kMinMs), METER_PREPAID_TOKEN_ACCEPTED},
      {token(200'000, kT0Ms + 3 * kMinMs), METER_PREPAID_TOKEN_ACCEPTED},
      {token(200'000, kT0Ms + 4 * kMinMs), METER_PREPAID_TOKEN_ACCEPTED},
      {token(200'000, kT0Ms + 5 * kMinMs), METER_PREPAID_TOKEN_ACCEPTED},
      {token(200'000, kT0Ms + 6 * kMinMs), METER_PREPAID_TOKEN_OVER_MAXIMUM},  // 10 025.00
  };
  std::uint64_t refused = 0;
  std::int64_t expected_credit = credit;
  for (const Case& c : cases) {
    const Status s = rig.enter(c.digits);
    EXPECT_EQ(rig.unsigned_value(kLastTokenResult), static_cast<unsigned>(c.result)) << c.digits;
    if (c.result == METER_PREPAID_TOKEN_ACCEPTED) {
      EXPECT_EQ(s, Status::ok);
      expected_credit += 200'000'000;
    } else {
      EXPECT_EQ(s, Status::invalid_argument) << c.digits;
      ++refused;
    }
    EXPECT_EQ(rig.credit(), expected_credit) << c.digits;
    EXPECT_EQ(rig.unsigned_value(kTokensRefused), refused);
  }
  EXPECT_TRUE(rig.logged("token refused at 2026-01-14T19:00:00Z: bad-mac"));
  EXPECT_TRUE(rig.logged("expired (token id"));
  rig.restart();
  EXPECT_EQ(rig.unsigned_value(kTokensRefused), refused);
  EXPECT_EQ(rig.credit(), expected_credit);
}

TEST(PrepaidPlugin, RefusedTokensInARowLockTokenEntryForMeteredTime) {
  Rig rig;  // 5 in a row lock entry for 60 min
  rig.start();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(rig.enter(token(100, kT0Ms, kOtherKeyHex)), Status::invalid_argument);
  }
  EXPECT_EQ(rig.unsigned_value(kTokenLockout), 3'600u);
  const std::string good = token(100, kT0Ms);
  EXPECT_EQ(rig.enter(good), Status::invalid_argument);
  EXPECT_EQ(rig.unsigned_value(kLastTokenResult), unsigned{METER_PREPAID_TOKEN_LOCKED_OUT});
  EXPECT_EQ(rig.credit(), 1'000'000);
  rig.restart();  // a power cycle does not open it
  EXPECT_EQ(rig.enter(good), Status::invalid_argument);
  for (int i = 0; i < 3'599; ++i) rig.tick(0);
  EXPECT_EQ(rig.enter(good), Status::invalid_argument);
  rig.tick(0);
  EXPECT_EQ(rig.unsigned_value(kTokenLockout), 0u);
  EXPECT_EQ(rig.enter(good), Status::ok);
  EXPECT_EQ(rig.credit(), 1'100'000);
  EXPECT_EQ(rig.unsigned_value(kTokensRefused), 8u);
}

TEST(PrepaidPlugin, ATokenOlderThanEveryIdRememberedIsRefused) {
  Rig rig(options("used_token_window = 8"));
  rig.start();
  for (int i = 9; i >= 1; --i) ASSERT_EQ(rig.enter(token(100, kT0Ms - i * kMinMs)), Status::ok);
  // The window keeps the 8 newest ids; the oldest (9 minutes ago) was dropped, and so anything
  // before the oldest kept (8 minutes ago) cannot be told from a replay.
  EXPECT_EQ(rig.enter(token(100, kT0Ms - 9 * kMinMs)), Status::invalid_argument);
  EXPECT_EQ(rig.unsigned_value(kLastTokenResult), unsigned{METER_PREPAID_TOKEN_TOO_OLD});
  EXPECT_EQ(rig.enter(token(100, kT0Ms - 10 * kMinMs)), Status::invalid_argument);
  EXPECT_EQ(rig.unsigned_value(kLastTokenResult), unsigned{METER_PREPAID_TOKEN_TOO_OLD});
  EXPECT_EQ(rig.enter(token(100, kT0Ms)), Status::ok);  // newer than every id kept
}

TEST(PrepaidPlugin, WhenTheStoredIdsAreLostOlderTokensAreStillRefusedAfterARestart) {
  Rig rig;
  rig.start();
  const std::string older = token(100, kT0Ms - 20 * kMinMs);
  const std::string newer = token(100, kT0Ms - 10 * kMinMs);
  ASSERT_EQ(rig.enter(older), Status::ok);
  ASSERT_EQ(rig.enter(newer), Status::ok);
  rig.host.set_nvm("used_ids", Value{std::string("damaged")});
  rig.restart();
  EXPECT_TRUE(rig.logged("the stored token ids are damaged: tokens issued up to the newest "
                         "purchase known (token id"));
  EXPECT_EQ(rig.enter(newer), Status::invalid_argument);
  EXPECT_EQ(rig.enter(older), Status::invalid_argument);
  EXPECT_EQ(rig.enter(token(100, kT0Ms - 15 * kMinMs)), Status::invalid_argument);
  EXPECT_EQ(rig.credit(), 1'200'000);
  ASSERT_EQ(rig.enter(token(100, kT0Ms)), Status::ok);
  rig.restart();  // the refusal holds in the ids stored with that purchase
  EXPECT_EQ(rig.enter(older), Status::invalid_argument);
  EXPECT_EQ(rig.credit(), 1'300'000);
}

TEST(PrepaidPlugin, TheRelaysTripWhenTheCreditRunsOutAndCloseOnAPurchase) {
  Rig rig(options("emergency_credit_initial_limit = 0\nemergency_credit_limit = 0"));
  rig.start();
  EXPECT_EQ(rig.relay_operations(), "0:close 1:close");  // asserted at start
  std::int64_t ticks = 0;
  while (rig.credit() > 0 && ticks < 2'000) {
    rig.tick(60'000, 60'000);  // 3.6 kW: 793.02 milli-cents a minute
    ++ticks;
  }
  // The first minute whose energy x price reaches the 10.00 of credit.
  const std::int64_t per_tick_charge = 60'000LL * 13'217;
  EXPECT_EQ(ticks, (1'000'000LL * 1'000'000 + per_tick_charge - 1) / per_tick_charge);
  EXPECT_EQ(rig.relay_operations(), "0:open 1:open");
  EXPECT_EQ(rig.unsigned_value(source_obis(SourceObject::relay_state, 0)),
            unsigned{METER_PREPAID_RELAY_CREDIT});
  EXPECT_EQ(rig.unsigned_value(source_obis(SourceObject::relay_state, 1)),
            unsigned{METER_PREPAID_RELAY_CREDIT});
  EXPECT_EQ(rig.credit(), 1'000'000 - ticks * per_tick_charge / 1'000'000);
  EXPECT_LT(rig.credit(), 0);  // the last minute's energy is owed
  EXPECT_TRUE(rig.logged("credit exhausted at"));
  const auto relay = last_payload<meter_prepaid_relay>(rig, METER_PREPAID_RELAY_TOPIC);
  EXPECT_EQ(relay.reasons, METER_PREPAID_RELAY_CREDIT);
  rig.tick(0, 60'000);
  EXPECT_EQ(rig.relay_operations(), "");
  ASSERT_EQ(rig.enter(token(500, kT0Ms)), Status::ok);
  EXPECT_EQ(rig.relay_operations(), "0:close 1:close");
  EXPECT_EQ(rig.unsigned_value(source_obis(SourceObject::relay_state, 0)), 0u);
  rig.restart();
  EXPECT_EQ(rig.relay_operations(), "0:close 1:close");
}

TEST(PrepaidPlugin, EmergencyCreditFollowsTheManual) {
  Rig rig(options("initial_credit = 0"));
  rig.start();
  // A new meter at zero: disconnected, the initial limit (5.00) on offer.
  EXPECT_EQ(rig.relay_operations(), "0:open 1:open");
  EXPECT_EQ(rig.unsigned_value(kEmergencyState), 2u);
  EXPECT_EQ(rig.integer(kEmergencyLimitOffered), 500'000);
  EXPECT_TRUE(rig.boolean(kEmergencySelect));
  ASSERT_EQ(rig.host.write(kEmergencySelect, Value{true}), Status::ok);
  EXPECT_EQ(rig.unsigned_value(kEmergencyState), 3u);
  EXPECT_EQ(rig.integer(kEmergencyBalance), 500'000);
  EXPECT_EQ(rig.relay_operations(), "0:close 1:close");
  EXPECT_EQ(rig.host.write(kEmergencySelect, Value{true}), Status::unavailable);
  while (rig.integer(kEmergencyBalance) > 0) rig.tick(60'000, 60'000);
  EXPECT_EQ(rig.unsigned_value(kEmergencyState), 4u);
  EXPECT_EQ(rig.integer(kEmergencyUsed), 500'000);
  EXPECT_EQ(rig.relay_operations(), "0:open 1:open");
  EXPECT_EQ(rig.host.write(kEmergencySelect, Value{true}), Status::unavailable);
  const std::int64_t debt = rig.credit();
  EXPECT_LE(debt, 0);
  // 3.00 repays part of the emergency credit used: still exhausted, still off.
  ASSERT_EQ(rig.enter(token(300, kT0Ms)), Status::ok);
  EXPECT_EQ(rig.integer(kEmergencyUsed), 200'000);
  EXPECT_EQ(rig.unsigned_value(kEmergencyState), 4u);
  EXPECT_EQ(rig.relay_operations(), "");
  // 10.00 repays the rest, then the debt; the remainder is credit.
  ASSERT_EQ(rig.enter(token(1'000, kT0Ms + kMinMs)), Status::ok);
  EXPECT_EQ(rig.unsigned_value(kEmergencyState), 1u);
  EXPECT_EQ(rig.integer(kEmergencyUsed), 0);
  EXPECT_EQ(rig.credit(), 1'000'000 - 200'000 + debt);
  EXPECT_EQ(rig.integer(kTotalPurchase), 1'300'000);
  EXPECT_EQ(rig.relay_operations(), "0:close 1:close");
  // At zero again, the limit (3.00), not the initial limit.
  while (rig.credit() > 0) rig.tick(60'000, 60'000);
  EXPECT_EQ(rig.integer(kEmergencyLimitOffered), 300'000);
  ASSERT_EQ(rig.host.write(kEmergencySelect, Value{true}), Status::ok);
  EXPECT_EQ(rig.integer(kEmergencyBalance), 300'000);
  EXPECT_EQ(rig.host.write(kEmergencySelect, Value{false}), Status::invalid_argument);
}

TEST(PrepaidPlugin, BelowTheThresholdTheMeterWarnsThatTheCreditWillExpire) {
  Rig rig;  // 10.00 of credit, threshold 2.00
  rig.start();
  EXPECT_FALSE(rig.boolean(kLowCredit));
  ASSERT_EQ(rig.published(METER_PREPAID_LOW_CREDIT_TOPIC), 1u);  // the state at start
  EXPECT_EQ(last_payload<meter_prepaid_low_credit>(rig, METER_PREPAID_LOW_CREDIT_TOPIC).warning, 0);
  while (!rig.boolean(kLowCredit)) rig.tick(60'000, 60'000);
  EXPECT_LT(rig.credit(), 200'000);
  EXPECT_GT(rig.credit(), 199'000);
  EXPECT_EQ(rig.published(METER_PREPAID_LOW_CREDIT_TOPIC), 2u);
  const auto w = last_payload<meter_prepaid_low_credit>(rig, METER_PREPAID_LOW_CREDIT_TOPIC);
  EXPECT_EQ(w.warning, 1);
  EXPECT_EQ(w.threshold_milli, 200'000);
  EXPECT_EQ(w.credit_milli, rig.credit());
  EXPECT_EQ(rig.log_lines("low credit at"), 1u);
  EXPECT_EQ(rig.relay_operations(), "0:close 1:close");  // a warning, not a trip
  rig.restart();  // the state is published again at start, and not logged again
  EXPECT_TRUE(rig.boolean(kLowCredit));
  EXPECT_EQ(rig.published(METER_PREPAID_LOW_CREDIT_TOPIC), 3u);
  EXPECT_EQ(last_payload<meter_prepaid_low_credit>(rig, METER_PREPAID_LOW_CREDIT_TOPIC).warning, 1);
  EXPECT_EQ(rig.log_lines("low credit at"), 1u);
  rig.relay_operations();
  ASSERT_EQ(rig.enter(token(500, kT0Ms)), Status::ok);
  EXPECT_FALSE(rig.boolean(kLowCredit));
  EXPECT_EQ(last_payload<meter_prepaid_low_credit>(rig, METER_PREPAID_LOW_CREDIT_TOPIC).warning, 0);
}

TEST(PrepaidPlugin, NoDisconnectionDuringFriendlyHoursTheTripWaitsForTheirEnd) {
  Rig rig(options(R"(initial_credit = 300
emergency_credit_initial_limit = 0
friendly_hours = ["18:00-08:00"])"));
  rig.start();
  rig.relay_operations();
  EXPECT_FALSE(rig.boolean(kFriendlyPeriod));
  while (rig.credit() > 0) rig.tick(60'000, 60'000);  // runs out at 18:19 local
  EXPECT_GT(rig.host.now_utc_ms(), kT0Ms + 6 * kHourMs);
  EXPECT_TRUE(rig.boolean(kFriendlyPeriod));
  EXPECT_EQ(rig.relay_operations(), "");
  EXPECT_TRUE(rig.logged("during a friendly-credit period"));
  rig.run_until(kT0Ms + 20 * kHourMs - 1'000, 1'000);  // through the night to 07:59:59
  EXPECT_EQ(rig.relay_operations(), "");
  const std::int64_t debt = rig.credit();
  EXPECT_LT(debt, -400'000);  // the night's energy is owed
  rig.tick(1'000);            // 08:00: the period ends
  EXPECT_FALSE(rig.boolean(kFriendlyPeriod));
  EXPECT_EQ(rig.relay_operations(), "0:open 1:open");
}

TEST(PrepaidPlugin, WhileTheTimeIsUnknownTheSettingDecidesAboutDisconnection) {
  Rig rig(options("initial_credit = 1\nemergency_credit_initial_limit = 0"));
  rig.host.set_time_valid(false);
  rig.start();
  EXPECT_TRUE(rig.boolean(kFriendlyPeriod));
  rig.relay_operations();
  rig.tick(100'000);
  EXPECT_LT(rig.credit(), 0);
  EXPECT_EQ(rig.relay_operations(), "");
  rig.host.set_time_valid(true);
  rig.tick(0);
  EXPECT_EQ(rig.relay_operations(), "0:open 1:open");

  Rig strict(options(R"(initial_credit = 1
emergency_credit_initial_limit = 0
friendly_when_time_unknown = false)"));
  strict.host.set_time_valid(false);
  strict.start();
  strict.relay_operations();
  strict.tick(100'000);
  EXPECT_EQ(strict.relay_operations(), "0:open 1:open");
}

TEST(PrepaidPlugin, APowerFailureMidwayKeepsTheCreditToTheMilliCent) {
  Rig steady;
  Rig cycled;
  steady.start();
  cycled.start();
  for (int i = 0; i < 5'000; ++i) {
    steady.tick(517);
    cycled.tick(517);
  }
  const std::int64_t before = cycled.credit();
  ASSERT_EQ(cycled.host.power_fail(), 0u);
  cycled.restart();
  EXPECT_EQ(cycled.credit(), before);
  ASSERT_EQ(cycled.host.power_restore(600'000), 0u);
  for (int i = 0; i < 5'000; ++i) {
    steady.tick(517);
    cycled.tick(517);
  }
  // The sub-milli-cent remainder was kept too: the two meters agree exactly.
  EXPECT_EQ(cycled.credit(), steady.credit());
  EXPECT_EQ(cycled.integer(kTotalDebited), steady.integer(kTotalDebited));
  EXPECT_EQ(cycled.integer(source_obis(SourceObject::energy, 0)), 10'000 * 517);
}

/// A killed process: no PowerFail, no stop. A new instance gets the records `running`
/// committed and the kernel's import register as committed with them, at the same meter time.
void start_after_a_kill(Rig& running, Rig& after, std::int64_t import_mwh) {
  for (const char* key : {"account", "used_ids", "history"}) {
    if (auto v = running.host.nvm(key)) after.host.set_nvm(key, *v);
  }
  after.host.advance_ms(running.host.now_utc_ms() - after.host.now_utc_ms());
  after.host.set_object(kImport, Value{import_mwh});
  after.start();
}

/// A 1 s tick whose totals carry on from the rig's import register (FakeHost::tick counts from
/// zero in each new host; a meter's register does not restart with the plugin).
void tick_on_register(Rig& rig, std::int64_t mwh) {
  rig.host.advance_ms(1000);
  meter_energy_tick t{};
  t.time_utc_ms = rig.host.now_utc_ms();
  t.time_valid = 1;
  t.duration_ms = 1000;
  t.delta_mwh[0] = mwh;
  rig.import_mwh += mwh;
  t.total_mwh[0] = rig.import_mwh;
  ASSERT_EQ(rig.host.publish(t), 0u) << rig.last_log();
  rig.host.set_object(kImport, Value{rig.import_mwh});
}

// The account is stored in every tick, with the kernel's registers: killed after any tick, the
// meter restarts with the balance and the totals of that tick, nothing to make up, and carries
// on exactly as one that was never killed.
TEST(PrepaidPlugin, AKillAtAnyTickRestoresTheAccountOfThatTick) {
  const std::array ids{kAvailableCredit, kTotalDebited, kTotalPurchase,
                       source_obis(SourceObject::energy, 0), source_obis(SourceObject::debited, 0)};
  Rig steady;
  steady.start();
  auto killed = std::make_unique<Rig>();
  killed->start();
  std::size_t kills = 0;
  for (int i = 1; i <= 7'200; ++i) {
    tick_on_register(steady, 417 + i % 11);
    tick_on_register(*killed, 417 + i % 11);
    if (i % 599 != 0) continue;
    auto after = std::make_unique<Rig>();
    start_after_a_kill(*killed, *after, killed->import_mwh);
    after->import_mwh = killed->import_mwh;
    for (const auto& id : ids) {
      ASSERT_EQ(after->integer(id), killed->integer(id)) << sdk::to_string(id) << ", tick " << i;
    }
    EXPECT_FALSE(after->logged("debited now")) << "nothing to make up after tick " << i;
    killed = std::move(after);
    ++kills;
  }
  EXPECT_EQ(kills, 12u);
  // Twelve kills later, the same to the milli-cent: the sub-milli-cent remainders were kept.
  for (const auto& id : ids) EXPECT_EQ(killed->integer(id), steady.integer(id)) << sdk::to_string(id);
}

// A kill right after a measurement tripped the relay for over-current keeps the trip: the
// measurement is delivered in the tick, and the account is stored with it.
TEST(PrepaidPlugin, AKillRightAfterAnOverCurrentTripKeepsTheTrip) {
  Rig killed;
  killed.start();
  killed.tick(500);
  killed.measure(200.0);  // far above the grid's limit
  ASSERT_NE(killed.unsigned_value(source_obis(SourceObject::relay_state, 0)), 0u);
  Rig after;
  start_after_a_kill(killed, after, killed.import_mwh);
  EXPECT_EQ(after.unsigned_value(source_obis(SourceObject::relay_state, 0)),
            killed.unsigned_value(source_obis(SourceObject::relay_state, 0)));
  EXPECT_EQ(after.unsigned_value(kOverCurrentTrips), 1u);
}

// The account record in NVM after each tick is the account the meter shows.
TEST(PrepaidPlugin, TheAccountIsStoredInEveryTick) {
  Rig rig;
  rig.start();
  for (int i = 1; i <= 300; ++i) {
    rig.tick(900 + i);
    const auto stored = rig.host.nvm("account");
    ASSERT_TRUE(stored);
    const auto& bytes = std::get<std::vector<std::uint8_t>>(*stored);
    const auto account = decode_account(bytes.data(), bytes.size());
    ASSERT_TRUE(account) << "tick " << i;
    ASSERT_EQ(account->ledger.credit_milli, rig.credit()) << "tick " << i;
    ASSERT_EQ(account->ledger.total_debited_milli, rig.integer(kTotalDebited)) << "tick " << i;
    ASSERT_EQ(account->register_mwh, rig.import_mwh) << "tick " << i;
  }
}

// A store whose account lags the import register (written by the earlier version, which saved
// the account every 15 min, or after writes that failed): the energy in between is debited at
// start, at the price of the source active then.
TEST(PrepaidPlugin, AnAccountBehindTheImportRegisterIsMadeUpFromItAtStart) {
  Rig first;
  first.start();
  for (int i = 0; i < 100; ++i) first.tick(417);
  const auto lagging = first.host.nvm("account");
  ASSERT_TRUE(lagging);
  for (int i = 0; i < 7'100; ++i) first.tick(417);
  Rig second;
  second.host.set_nvm("account", *lagging);
  second.host.set_object(kImport, Value{first.import_mwh});
  second.start();
  EXPECT_EQ(second.credit(), first.credit());
  EXPECT_EQ(second.integer(source_obis(SourceObject::energy, 0)), 7'200 * 417);
  EXPECT_TRUE(second.logged("mWh metered after the last save debited now"));
}

TEST(PrepaidPlugin, AResetOrPresetOfTheImportRegisterIsNotDebited) {
  Rig rig;
  rig.start();
  rig.tick(1'000);
  const std::int64_t credit = rig.credit();
  meter_energy_tick t{};
  t.sequence = 99;
  t.time_valid = 1;
  t.time_utc_ms = rig.host.now_utc_ms() + 1'000;
  t.duration_ms = 1'000;
  t.delta_mwh[0] = 1'000'000;
  t.total_mwh[0] = 50'000'000;  // preset to 50 kWh since the last tick
  ASSERT_EQ(rig.host.publish(t), 0u);
  EXPECT_EQ(rig.credit(), credit - 13'217);
  EXPECT_TRUE(rig.logged("outside the ticks"));
}

TEST(PrepaidPlugin, OverCurrentTripsTheActiveSourceAndClosesAfterTheRestoreDelay) {
  Rig rig;  // grid limit 60 A on relay 0, generator 20 A on relay 1, restore after 60 s
  rig.start();
  rig.relay_operations();
  rig.measure(59.0);
  EXPECT_EQ(rig.relay_operations(), "");
  rig.measure(61.0);
  EXPECT_EQ(rig.relay_operations(), "0:open");
  EXPECT_EQ(rig.unsigned_value(source_obis(SourceObject::relay_state, 0)),
            unsigned{METER_PREPAID_RELAY_OVER_CURRENT});
  EXPECT_EQ(rig.unsigned_value(kOverCurrentTrips), 1u);
  EXPECT_TRUE(rig.logged("grid current 61.0 A is above its limit 60.0 A"));
  for (int i = 0; i < 59; ++i) rig.tick(0);
  EXPECT_EQ(rig.relay_operations(), "");
  rig.tick(0);
  EXPECT_EQ(rig.relay_operations(), "0:close");
  // The generator's own limit, on its own relay.
  ASSERT_EQ(rig.host.write(kActiveSource, Value{std::uint64_t{2}}), Status::ok);
  rig.measure(25.0);
  EXPECT_EQ(rig.relay_operations(), "1:open");
  EXPECT_EQ(rig.unsigned_value(source_obis(SourceObject::relay_state, 1)),
            unsigned{METER_PREPAID_RELAY_OVER_CURRENT});
  EXPECT_EQ(rig.unsigned_value(source_obis(SourceObject::relay_state, 0)), 0u);
}

TEST(PrepaidPlugin, OverVoltageTripsAndClosesOnlyAfterTheVoltageWasNormalForTheDelay) {
  Rig rig(options("over_voltage_v = 264.0\nprotection_restore_s = 30"));
  rig.start();
  rig.relay_operations();
  rig.measure(10.0, 270.0);
  EXPECT_EQ(rig.relay_operations(), "0:open");
  EXPECT_EQ(rig.unsigned_value(kOverVoltageTrips), 1u);
  for (int i = 0; i < 20; ++i) rig.tick(0);
  rig.measure(0.0, 268.0);  // still high: the delay starts again
  for (int i = 0; i < 29; ++i) rig.tick(0);
  EXPECT_EQ(rig.relay_operations(), "");
  rig.measure(0.0, 240.0);
  rig.tick(0);
  EXPECT_EQ(rig.relay_operations(), "0:close");
  EXPECT_EQ(rig.unsigned_value(kOverVoltageTrips), 1u);
  // Protection state survives a restart: a trip restarted mid-delay stays open.
  rig.measure(10.0, 270.0);
  EXPECT_EQ(rig.relay_operations(), "0:open");
  rig.restart();
  EXPECT_EQ(rig.relay_operations(), "0:open 1:close");
  for (int i = 0; i < 30; ++i) rig.tick(0);
  EXPECT_EQ(rig.relay_operations(), "0:close");
}

TEST(PrepaidPlugin, ADailyStatementIsLoggedAtMidnight) {
  Rig rig;
  rig.start();
  for (int i = 0; i < 60; ++i) rig.tick(60'000, 60'000);
  const meter_midnight m{rig.host.now_utc_ms(), 2026, 1, 15, 4};
  ASSERT_EQ(rig.host.publish(m), 0u);
  // 60 min at 3.6 kW: 3.6 kWh x 13.217 cents = 47.5812 cents.
  EXPECT_TRUE(rig.logged("prepaid: 2026-01-15 00:00: credit 9.52419 USD, debited since the last "
                         "statement 0.47581 USD"));
}

TEST(PrepaidPlugin, BadSettingsAreRefusedWithTheReason) {
  const auto refused = [](std::string_view overrides) {
    sdk::testing::FakeHost host(meter_plugin_entry(), options(overrides));
    return host.create() != Status::ok;
  };
  EXPECT_TRUE(refused(R"(meter_key = "1234")"));
  EXPECT_TRUE(refused(R"(time_zone = "Mars/Olympus_Mons")"));
  EXPECT_TRUE(refused(R"(active_source = "wind")"));
  EXPECT_TRUE(refused(R"(sources = [{ name = "grid", price_per_kwh = 1 },
                                     { name = "grid", price_per_kwh = 2 }])"));
  EXPECT_TRUE(refused(R"(sources = [{ name = "grid" }])"));
  EXPECT_TRUE(refused(R"(friendly_hours = ["08:00-08:00"])"));
  EXPECT_TRUE(refused(R"(friendly_days = ["saturday"])"));
  EXPECT_TRUE(refused(R"(friendly_holidays = ["2026-02-30"])"));
  EXPECT_FALSE(refused(R"(active_source = "generator")"));
  sdk::testing::FakeHost missing(meter_plugin_entry(), [] {
    auto o = options();
    o.config.erase("meter_key");
    return o;
  }());
  EXPECT_EQ(missing.create(), Status::invalid_argument);
  EXPECT_FALSE(missing.config_errors().empty());
}

TEST(PrepaidPlugin, WithoutTheRelayCapabilityTheTripIsLoggedAsAFailure) {
  auto o = options("initial_credit = 0\nemergency_credit_initial_limit = 0");
  o.granted.clear();
  Rig rig(std::move(o));
  rig.start();
  EXPECT_EQ(rig.relay_operations(), "");
  EXPECT_TRUE(rig.logged("relay 0 could not be opened: denied"));
  EXPECT_EQ(rig.unsigned_value(source_obis(SourceObject::relay_state, 0)),
            unsigned{METER_PREPAID_RELAY_CREDIT});
}

}  // namespace
}  // namespace meter::plugins::prepaid::testing
