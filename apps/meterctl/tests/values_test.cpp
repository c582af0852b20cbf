// kWh typed by a meter shop become exact mWh; registers print exactly with their unit; values
// for MP-6 parse from text.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "values.h"

namespace meter::apps::meterctl {
namespace {

std::int64_t kwh(std::string_view text) {
  auto r = parse_kwh(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.failure().message);
  return r.ok() ? *r : -1;
}

void refused_kwh(std::string_view text) {
  auto r = parse_kwh(text);
  ASSERT_FALSE(r.ok()) << text << " was taken as " << *r;
  EXPECT_EQ(r.failure().exit, Exit::usage);
  EXPECT_NE(r.failure().message.find("is not a reading in kWh"), std::string::npos);
}

TEST(MeterctlKwh, DecimalKwhBecomeExactMilliwattHours) {
  EXPECT_EQ(kwh("12.5"), 12'500'000);
  EXPECT_EQ(kwh("0"), 0);
  EXPECT_EQ(kwh("0.000001"), 1);
  EXPECT_EQ(kwh("1234.567"), 1'234'567'000);
  EXPECT_EQ(kwh("007.25"), 7'250'000);
  // 0.1 has no exact binary form; through a double, 0.1 * 1e6 may not be 100000.
  EXPECT_EQ(kwh("0.1"), 100'000);
  EXPECT_EQ(kwh("4503599627.370497"), 4'503'599'627'370'497);  // beyond a double's 53 bits
  EXPECT_EQ(kwh("9223372036854.775807"), std::numeric_limits<std::int64_t>::max());
}

TEST(MeterctlKwh, DecimalsBeyondTheMilliwattHourMustBeZeros) {
  EXPECT_EQ(kwh("12.5000000000"), 12'500'000);
  refused_kwh("12.5000001");
  refused_kwh("0.0000005");
}

TEST(MeterctlKwh, AnythingButDigitsAndOnePointIsRefused) {
  for (const char* text : {"", ".", ".5", "12.", "-1", "+1", "1e3", "1,5", " 1", "1 ", "1.2.3",
                           "0x10", "twelve", "9223372036854.775808", "99999999999999999999"}) {
    refused_kwh(text);
  }
}

TEST(MeterctlValues, ScaledIntegersAreExactDecimals) {
  EXPECT_EQ(scaled_decimal(false, 12500, -3), "12.500");
  EXPECT_EQ(scaled_decimal(true, 5, -3), "-0.005");
  EXPECT_EQ(scaled_decimal(false, 7, 2), "700");
  EXPECT_EQ(scaled_decimal(false, 0, 2), "0");
  EXPECT_EQ(scaled_decimal(true, 0, -1), "0.0");
  EXPECT_EQ(scaled_decimal(false, std::numeric_limits<std::uint64_t>::max(), -19),
            "1.8446744073709551615");
}

TEST(MeterctlValues, EnergyReadsInKilowattHoursExactly) {
  EXPECT_EQ(format_value(Value{std::int64_t{12'500'000}}, 30, -3), "12.500 kWh");
  EXPECT_EQ(format_value(Value{std::int64_t{123'456'789}}, 30, -3), "123.456789 kWh");
  EXPECT_EQ(format_value(Value{std::int64_t{1'234'567'000}}, 30, -3), "1234.567 kWh");
  EXPECT_EQ(format_value(Value{std::int64_t{0}}, 30, -3), "0.000 kWh");
  EXPECT_EQ(format_value(Value{std::int64_t{-5}}, 30, -3), "-0.000005 kWh");
  EXPECT_EQ(format_value(Value{std::int64_t{1'234'567}}, 30, 0), "1234.567 kWh");  // Wh
  EXPECT_EQ(format_value(Value{std::int64_t{12}}, 30, 3), "12.000 kWh");           // kWh
  EXPECT_EQ(format_value(Value{std::int64_t{2'000'000}}, 32, -3), "2.000 kvarh");
  EXPECT_EQ(format_value(Value{std::uint64_t{1'500'000}}, 31, -3), "1.500 kVAh");
  EXPECT_EQ(format_value(Value{std::numeric_limits<std::int64_t>::min()}, 30, -3),
            "-9223372036854.775808 kWh");
}

TEST(MeterctlValues, OtherValuesReadInTheirUnit) {
  EXPECT_EQ(format_value(Value{std::int64_t{5'000'003}}, 27, -3), "5000.003 W");
  EXPECT_EQ(format_value(Value{std::uint64_t{7}}, 255, 0), "7");
  EXPECT_EQ(format_value(Value{230.1234}, 35, 0), "230.123 V");
  EXPECT_EQ(format_value(Value{6.0}, 44, 1), "60.000 Hz");
  EXPECT_EQ(format_value(Value{true}, 255, 0), "true");
  EXPECT_EQ(format_value(Value{std::string("2026-07-15 14:30:05 EDT")}, 255, 0),
            "2026-07-15 14:30:05 EDT");
  EXPECT_EQ(format_value(Value{std::vector<std::uint8_t>{0x53, 0x41, 0x0f}}, 255, 0), "53410f");
  std::string first_32;
  for (int i = 0; i < 32; ++i) first_32 += "ab";
  EXPECT_EQ(format_value(Value{std::vector<std::uint8_t>(40, 0xAB)}, 255, 0),
            first_32 + "... (40 octets)");
  EXPECT_EQ(unit_symbol(45), "1/Wh");
  EXPECT_EQ(unit_symbol(200), "unit 200");
  EXPECT_EQ(unit_symbol(255), "");
}

TEST(MeterctlValues, WriteValuesParseByType) {
  EXPECT_EQ(*parse_value(METER_VALUE_INTEGER, "-5"), Value{std::int64_t{-5}});
  EXPECT_EQ(*parse_value(METER_VALUE_INTEGER, "+7"), Value{std::int64_t{7}});
  EXPECT_EQ(*parse_value(METER_VALUE_UNSIGNED, "18446744073709551615"),
            Value{std::numeric_limits<std::uint64_t>::max()});
  EXPECT_EQ(*parse_value(METER_VALUE_REAL, "-2e3"), Value{-2000.0});
  EXPECT_EQ(*parse_value(METER_VALUE_BOOLEAN, "true"), Value{true});
  EXPECT_EQ(*parse_value(METER_VALUE_BOOLEAN, "0"), Value{false});
  EXPECT_EQ(*parse_value(METER_VALUE_TEXT, "a b"), Value{std::string("a b")});
  for (auto [type, text] : std::vector<std::pair<meter_value_type, const char*>>{
           {METER_VALUE_INTEGER, "5x"}, {METER_VALUE_INTEGER, ""}, {METER_VALUE_INTEGER, "1.0"},
           {METER_VALUE_INTEGER, "9223372036854775808"}, {METER_VALUE_UNSIGNED, "-1"},
           {METER_VALUE_REAL, "inf"}, {METER_VALUE_REAL, "nan"}, {METER_VALUE_REAL, "1.5 "},
           {METER_VALUE_BOOLEAN, "yes"}, {METER_VALUE_OCTETS, "00"}}) {
    auto r = parse_value(type, text);
    EXPECT_FALSE(r.ok()) << type_name(type) << " " << text;
    if (!r.ok()) {
      EXPECT_EQ(r.failure().exit, Exit::usage);
    }
  }
  EXPECT_EQ(*parse_type("uint"), METER_VALUE_UNSIGNED);
  EXPECT_FALSE(parse_type("octets").ok());
  EXPECT_FALSE(parse_type("integer").ok());
}

}  // namespace
}  // namespace meter::apps::meterctl
