// Tokens: what a vending station makes a meter decodes; a changed digit, another meter's key, a
// reserved class or a malformed entry is refused; and the prepaid-token tool makes real tokens.
#include <array>
#include <cstdio>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "money.h"
#include "rig.h"
#include "token.h"

namespace meter::plugins::prepaid {
namespace {

using testing::key;
using testing::kKeyHex;
using testing::kOtherKeyHex;

__extension__ using U128 = unsigned __int128;

/// Digits of an arbitrary 66-bit value whose MAC is right for `key`: how a key holder would
/// make a token the vending tool refuses to make.
std::string authentic_digits(const MeterKey& k, std::uint8_t token_class, std::uint32_t id,
                             std::uint32_t amount) {
  TokenFields f;
  f.token_class = static_cast<TokenClass>(token_class);
  f.id = id;
  f.amount_minor = amount;
  const std::uint64_t payload =
      (std::uint64_t{token_class} << 42) | (std::uint64_t{id} << 18) | amount;
  U128 n = (U128{payload} << kMacBits) | token_mac(k, f);
  std::string digits(kTokenDigits, '0');
  for (std::size_t i = kTokenDigits; i-- > 0;) {
    digits[i] = static_cast<char>('0' + static_cast<int>(n % 10));
    n /= 10;
  }
  return digits;
}

TEST(Token, WhatTheVendingStationMakesTheMeterDecodes) {
  const TokenFields f{TokenClass::credit, 3'176'340, 2'000};
  const auto digits = make_token(key(), f);
  ASSERT_TRUE(digits);
  EXPECT_EQ(digits->size(), 20u);
  const TokenDecode d = decode_token(key(), *digits);
  ASSERT_TRUE(d.fields);
  EXPECT_EQ(d.fields->id, 3'176'340u);
  EXPECT_EQ(d.fields->amount_minor, 2'000u);
  EXPECT_EQ(d.fields->token_class, TokenClass::credit);
  // As printed on a receipt, or typed with dashes.
  EXPECT_TRUE(decode_token(key(), group_digits(*digits)).fields);
  std::string dashed = group_digits(*digits);
  for (char& c : dashed) c = c == ' ' ? '-' : c;
  EXPECT_TRUE(decode_token(key(), dashed).fields);
}

TEST(Token, EveryChangeOfOneDigitIsRefused) {
  const auto digits = *make_token(key(), {TokenClass::credit, 3'176'340, 2'000});
  int refused = 0;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    for (char c = '0'; c <= '9'; ++c) {
      if (c == digits[i]) continue;
      std::string forged = digits;
      forged[i] = c;
      const TokenDecode d = decode_token(key(), forged);
      EXPECT_FALSE(d.fields) << forged;
      refused += d.fields ? 0 : 1;
    }
  }
  EXPECT_EQ(refused, 180);
}

TEST(Token, AnotherMetersKeyRefusesTheToken) {
  const auto digits = *make_token(key(), {TokenClass::credit, 3'176'340, 2'000});
  const TokenDecode d = decode_token(key(kOtherKeyHex), digits);
  EXPECT_FALSE(d.fields);
  EXPECT_EQ(d.defect, TokenDefect::bad_mac);
}

TEST(Token, MalformedEntriesAreRefusedAsMalformed) {
  const auto digits = *make_token(key(), {TokenClass::credit, 3'176'340, 2'000});
  for (const std::string& bad :
       {digits.substr(1), digits + "1", digits.substr(0, 19) + "x", std::string{},
        std::string("99999999999999999999"),  // above 2^66 - 1
        std::string("73786976294838206464")}) {  // exactly 2^66
    const TokenDecode d = decode_token(key(), bad);
    EXPECT_FALSE(d.fields) << bad;
    EXPECT_EQ(d.defect, TokenDefect::malformed) << bad;
  }
}

TEST(Token, AReservedClassOrAZeroAmountIsRefusedEvenWithAnAuthenticMac) {
  const TokenDecode reserved = decode_token(key(), authentic_digits(key(), 2, 3'176'340, 2'000));
  EXPECT_FALSE(reserved.fields);
  EXPECT_EQ(reserved.defect, TokenDefect::unknown_class);
  const TokenDecode zero = decode_token(key(), authentic_digits(key(), 1, 3'176'340, 0));
  EXPECT_FALSE(zero.fields);
  EXPECT_EQ(zero.defect, TokenDefect::zero_amount);
  EXPECT_TRUE(decode_token(key(), authentic_digits(key(), 1, 3'176'340, 1)).fields);
}

TEST(Token, FieldsOutOfRangeMakeNoToken) {
  EXPECT_FALSE(make_token(key(), {TokenClass::credit, kMaxTokenId + 1, 1}));
  EXPECT_FALSE(make_token(key(), {TokenClass::credit, 1, 0}));
  EXPECT_FALSE(make_token(key(), {TokenClass::credit, 1, kMaxTokenAmount + 1}));
  EXPECT_TRUE(make_token(key(), {TokenClass::credit, kMaxTokenId, kMaxTokenAmount}));
}

TEST(Token, AKeyIsExactly64HexDigitsAndIdsCountMinutesFrom2020) {
  EXPECT_TRUE(parse_meter_key(kKeyHex));
  EXPECT_FALSE(parse_meter_key(kKeyHex.substr(1)));
  EXPECT_FALSE(parse_meter_key(std::string(kKeyHex.substr(1)) + "g"));
  EXPECT_EQ(token_id_at(kTokenEpochUtcMs), 0u);
  EXPECT_EQ(token_id_at(kTokenEpochUtcMs + 119'999), 1u);
  EXPECT_FALSE(token_id_at(kTokenEpochUtcMs - 1));
  EXPECT_EQ(token_id_at(token_id_time_ms(kMaxTokenId)), kMaxTokenId);
  EXPECT_FALSE(token_id_at(token_id_time_ms(kMaxTokenId) + 60'000));
}

TEST(Money, AmountsReadAndShowExactly) {
  EXPECT_EQ(money_text(2'512'345, 2), "25.12345");
  EXPECT_EQ(money_text(-150'000, 2), "-1.50000");
  EXPECT_EQ(money_text(-5, 2), "-0.00005");
  EXPECT_EQ(minor_text(2'000, 2), "20.00");
  EXPECT_EQ(parse_minor("20", 2, 100'000), 2'000u);
  EXPECT_EQ(parse_minor("20.5", 2, 100'000), 2'050u);
  EXPECT_EQ(parse_minor("0.07", 2, 100'000), 7u);
  EXPECT_FALSE(parse_minor("20.505", 2, 100'000));
  EXPECT_FALSE(parse_minor("2000", 2, 100'000));
  EXPECT_FALSE(parse_minor("1.2.3", 2, 100'000));
  EXPECT_FALSE(parse_minor("", 2, 100'000));
  EXPECT_FALSE(parse_minor("-1", 2, 100'000));
}

/// Runs the vending tool; its standard output.
std::string run_tool(const std::string& arguments) {
  const std::string command =
      std::string(METER_PREPAID_TOKEN_TOOL) + " " + arguments + " 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  std::string out;
  if (!pipe) return out;
  std::array<char, 256> buffer{};
  while (fgets(buffer.data(), static_cast<int>(buffer.size()), pipe.get()) != nullptr) {
    out += buffer.data();
  }
  return out;
}

TEST(TokenTool, MakesTokensTheMeterAcceptsAndReadsThemBack) {
  const std::string made = run_tool("make --key " + std::string(kKeyHex) +
                                    " --amount 25.50 --issued 2026-01-14T19:00:00Z");
  ASSERT_EQ(made.size(), 25u) << made;  // 5 groups of 4 digits and a newline
  const std::string digits = made.substr(0, 24);
  const TokenDecode d = decode_token(key(), digits);
  ASSERT_TRUE(d.fields) << made;
  EXPECT_EQ(d.fields->amount_minor, 2'550u);
  EXPECT_EQ(d.fields->id, *token_id_at(testing::kT0Ms));
  EXPECT_EQ(run_tool("check --key " + std::string(kKeyHex) + " '" + digits + "'"),
            "credit token: id 3176340 (issued 2026-01-14T19:00Z), amount 25.50\n");
  EXPECT_EQ(run_tool("check --key " + std::string(kOtherKeyHex) + " '" + digits + "'"),
            "refused: its MAC is wrong for this key\n");
  EXPECT_EQ(run_tool("make --key " + std::string(kKeyHex) + " --amount 0"), "");
  EXPECT_EQ(run_tool("make --key 1234 --amount 1"), "");
  EXPECT_EQ(run_tool("keygen").size(), 65u);
}

}  // namespace
}  // namespace meter::plugins::prepaid
