// Head-end commands, parsed: what is accepted, and every way a command is refused.
#include "commands.h"

#include <gtest/gtest.h>

namespace meter::plugins::rf_mqtt {
namespace {

TEST(RfMqttCommandParse, Ping) {
  const auto p = parse_command(R"({"id":"p1","action":"ping"})");
  ASSERT_TRUE(p.command) << p.error;
  EXPECT_EQ(p.command->action, Action::ping);
  EXPECT_EQ(p.command->id, "p1");
  EXPECT_FALSE(p.command->password);
}

TEST(RfMqttCommandParse, DemandResetWithPasswordAndIntegerId) {
  const auto p = parse_command(R"({"id":42,"password":"s3cret","action":"demand-reset"})");
  ASSERT_TRUE(p.command) << p.error;
  EXPECT_EQ(p.command->action, Action::demand_reset);
  EXPECT_EQ(p.command->id, 42);
  EXPECT_EQ(p.command->password, "s3cret");
}

TEST(RfMqttCommandParse, ReadAndWrite) {
  const auto r = parse_command(R"({"action":"read","obis":"1-0:1.8.0"})");
  ASSERT_TRUE(r.command) << r.error;
  EXPECT_TRUE(r.command->id.is_null());
  EXPECT_EQ(sdk::to_string(*r.command->obis), "1-0:1.8.0");
  const auto w = parse_command(
      R"({"id":"w","password":"x","action":"write","obis":"0-0:128.1.3","type":"boolean","value":true})");
  ASSERT_TRUE(w.command) << w.error;
  EXPECT_EQ(w.command->type, METER_VALUE_BOOLEAN);
  EXPECT_EQ(w.command->value, true);
  const auto untyped = parse_command(R"({"action":"write","obis":"1-0:0.4.2","value":5})");
  ASSERT_TRUE(untyped.command) << untyped.error;
  EXPECT_FALSE(untyped.command->type);
}

struct Refusal {
  const char* name;
  const char* payload;
  const char* error_contains;
};
void PrintTo(const Refusal& r, std::ostream* out) {
  *out << r.name;
}

class RfMqttCommandRefused : public ::testing::TestWithParam<Refusal> {};

TEST_P(RfMqttCommandRefused, WithAReason) {
  const auto p = parse_command(GetParam().payload);
  EXPECT_FALSE(p.command);
  EXPECT_NE(p.error.find(GetParam().error_contains), std::string::npos) << p.error;
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, RfMqttCommandRefused,
    ::testing::Values(
        Refusal{"empty", "", "not JSON"}, Refusal{"bare_word", "demand-reset", "not JSON"},
        Refusal{"truncated", R"({"action":"ping")", "not JSON"},
        Refusal{"array", "[1,2]", "not a JSON object"},
        Refusal{"string", R"("ping")", "not a JSON object"},
        Refusal{"no_action", "{}", "action is required"},
        Refusal{"action_not_text", R"({"action":7})", "action is required"},
        Refusal{"unknown_action", R"({"action":"reboot"})", "unknown action"},
        Refusal{"unknown_key", R"({"action":"ping","colour":"red"})", "unknown key"},
        Refusal{"id_object", R"({"id":{"a":1},"action":"ping"})", "id must be"},
        Refusal{"id_empty", R"({"id":"","action":"ping"})", "id must be"},
        Refusal{"id_real", R"({"id":1.5,"action":"ping"})", "id must be"},
        Refusal{"password_number", R"({"action":"ping","password":5})", "password must be"},
        Refusal{"read_without_obis", R"({"action":"read"})", "needs an obis"},
        Refusal{"obis_short", R"({"action":"read","obis":"1-0:1.8"})", "OBIS code"},
        Refusal{"obis_number", R"({"action":"read","obis":18})", "OBIS code"},
        Refusal{"read_with_value", R"({"action":"read","obis":"1-0:1.8.0","value":1})",
                "takes no value"},
        Refusal{"ping_with_obis", R"({"action":"ping","obis":"1-0:1.8.0"})", "takes no obis"},
        Refusal{"reset_with_value", R"({"action":"demand-reset","value":true})", "takes no value"},
        Refusal{"write_without_value", R"({"action":"write","obis":"1-0:0.4.2"})", "needs a value"},
        Refusal{"unknown_type", R"({"action":"write","obis":"1-0:0.4.2","type":"float","value":1})",
                "type must be"},
        Refusal{"integer_as_text",
                R"({"action":"write","obis":"1-0:0.4.2","type":"integer","value":"5"})",
                "whole number"},
        Refusal{"negative_unsigned",
                R"({"action":"write","obis":"1-0:0.4.2","type":"unsigned","value":-1})",
                "at least 0"},
        Refusal{"fraction_as_integer",
                R"({"action":"write","obis":"1-0:0.4.2","type":"integer","value":1.5})",
                "whole number"},
        Refusal{"number_as_boolean",
                R"({"action":"write","obis":"1-0:0.4.2","type":"boolean","value":1})",
                "true or false"},
        Refusal{"odd_hex", R"({"action":"write","obis":"1-0:0.4.2","type":"octets","value":"abc"})",
                "hex digit pairs"},
        Refusal{"not_hex", R"({"action":"write","obis":"1-0:0.4.2","type":"octets","value":"zz"})",
                "hex digit pairs"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(RfMqttCommandParse, OversizedCommandsAreRefusedUnread) {
  const std::string big = R"({"action":"ping","id":")" + std::string(kMaxCommandBytes, 'x') + "\"}";
  const auto p = parse_command(big);
  EXPECT_FALSE(p.command);
  EXPECT_NE(p.error.find("more than 4096"), std::string::npos) << p.error;
}

TEST(RfMqttCommandParse, DeepNestingIsRefusedWithoutHarm) {
  const std::string deep =
      "{\"action\":\"ping\",\"id\":" + std::string(2000, '[') + std::string(2000, ']') + "}";
  const auto p = parse_command(deep);
  EXPECT_FALSE(p.command);
}

TEST(RfMqttCommandParse, TheIdOfARefusedCommandIsKeptForTheReply) {
  const auto p = parse_command(R"({"id":"c-9","action":"reboot"})");
  EXPECT_FALSE(p.command);
  EXPECT_EQ(p.id, "c-9");
}

TEST(RfMqttTypedValue, RangesAndKinds) {
  std::string error;
  EXPECT_EQ(typed_value(Json(-5), METER_VALUE_INTEGER, error), sdk::Value{std::int64_t{-5}});
  EXPECT_EQ(typed_value(Json(7), METER_VALUE_UNSIGNED, error), sdk::Value{std::uint64_t{7}});
  EXPECT_EQ(typed_value(Json(2), METER_VALUE_REAL, error), sdk::Value{2.0});
  EXPECT_EQ(typed_value(Json("hi"), METER_VALUE_TEXT, error), sdk::Value{std::string("hi")});
  EXPECT_EQ(typed_value(Json("0aFF"), METER_VALUE_OCTETS, error),
            (sdk::Value{std::vector<std::uint8_t>{0x0A, 0xFF}}));
  EXPECT_FALSE(typed_value(Json(18'446'744'073'709'551'615ULL), METER_VALUE_INTEGER, error));
  EXPECT_EQ(typed_value(Json(18'446'744'073'709'551'615ULL), METER_VALUE_UNSIGNED, error),
            sdk::Value{std::uint64_t{18'446'744'073'709'551'615ULL}});
}

}  // namespace
}  // namespace meter::plugins::rf_mqtt
