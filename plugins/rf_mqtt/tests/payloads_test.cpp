// The JSON the head-end receives: times, values with scaler and unit, reply statuses, and the
// OBIS patterns of a reading.
#include "payloads.h"

#include <gtest/gtest.h>

#include "settings.h"

namespace meter::plugins::rf_mqtt {
namespace {

TEST(RfMqttPayloads, TimesAreUtcWholeSeconds) {
  EXPECT_EQ(utc_text(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(utc_text(1'767'243'600'999), "2026-01-01T05:00:00Z");
  EXPECT_EQ(utc_text(-1), "1969-12-31T23:59:59Z");
}

TEST(RfMqttPayloads, AnEnergyRegisterCarriesItsScalerAndUnit) {
  meter_object_info info{};
  info.unit = 30;
  info.scaler = -3;
  const Json v = value_json(sdk::Value{std::int64_t{1'234'567}}, info);
  EXPECT_EQ(v, Json::parse(R"({"value":1234567,"scaler":-3,"unit":"Wh"})"));
}

TEST(RfMqttPayloads, TextBooleansAndOctetsHaveNoScaler) {
  meter_object_info info{};
  info.unit = 30;
  info.scaler = -3;
  EXPECT_EQ(value_json(sdk::Value{std::string("2026-01-05T17:15:00Z")}, info),
            Json::parse(R"({"value":"2026-01-05T17:15:00Z"})"));
  EXPECT_EQ(value_json(sdk::Value{true}, std::nullopt), Json::parse(R"({"value":true})"));
  EXPECT_EQ(value_json(sdk::Value{std::vector<std::uint8_t>{0x01, 0xAB}}, std::nullopt),
            Json::parse(R"({"value":"01ab","type":"octets"})"));
}

TEST(RfMqttPayloads, AUnitlessNumberHasNoUnitKey) {
  meter_object_info info{};
  info.unit = 255;
  EXPECT_EQ(value_json(sdk::Value{std::uint64_t{7}}, info), Json::parse(R"({"value":7})"));
}

TEST(RfMqttPayloads, StatusTokens) {
  EXPECT_EQ(status_token(sdk::Status::ok), "ok");
  EXPECT_EQ(status_token(sdk::Status::denied), "denied");
  EXPECT_EQ(status_token(sdk::Status::sealed), "sealed");
  EXPECT_EQ(status_token(sdk::Status::locked), "locked");
  EXPECT_EQ(status_token(sdk::Status::not_found), "not-found");
  EXPECT_EQ(status_token(sdk::Status::invalid_argument), "invalid");
  EXPECT_EQ(status_token(sdk::Status::type_mismatch), "type-mismatch");
  EXPECT_EQ(status_token(sdk::Status::unavailable), "unavailable");
  EXPECT_EQ(status_token(sdk::Status::exception), "error");
}

TEST(RfMqttPayloads, InvalidUtf8IsReplacedNotThrown) {
  const Json body = {{"value", std::string("a\xff"
                                           "b")}};
  EXPECT_EQ(dump(body),
            "{\"value\":\"a\xEF\xBF\xBD"
            "b\"}");
}

TEST(RfMqttSettings, ReadingPatterns) {
  const auto exact = parse_pattern("1-0:16.8.0");
  ASSERT_TRUE(exact);
  EXPECT_FALSE(exact->any_e);
  EXPECT_TRUE(exact->matches(sdk::obis("1-0:16.8.0")));
  EXPECT_FALSE(exact->matches(sdk::obis("1-0:16.8.1")));
  const auto family = parse_pattern("1-0:1.8.*");
  ASSERT_TRUE(family);
  EXPECT_TRUE(family->any_e);
  EXPECT_TRUE(family->matches(sdk::obis("1-0:1.8.0")));
  EXPECT_TRUE(family->matches(sdk::obis("1-0:1.8.3")));
  EXPECT_FALSE(family->matches(sdk::obis("1-0:2.8.3")));
  EXPECT_FALSE(parse_pattern("1-0:1.*.0"));
  EXPECT_FALSE(parse_pattern("meters"));
}

TEST(RfMqttSettings, MeterIdsFitTopics) {
  EXPECT_TRUE(valid_meter_id("MPR2S-000001"));
  EXPECT_TRUE(valid_meter_id("a.b_c-9"));
  EXPECT_FALSE(valid_meter_id(""));
  EXPECT_FALSE(valid_meter_id("a/b"));
  EXPECT_FALSE(valid_meter_id("a+b"));
  EXPECT_FALSE(valid_meter_id("a#"));
  EXPECT_FALSE(valid_meter_id(std::string(65, 'x')));
}

}  // namespace
}  // namespace meter::plugins::rf_mqtt
