// The manifest and configuration schema: what a vendor writes, and the errors an OEM reads.
#include <gtest/gtest.h>

#include "meter/sdk/manifest.h"

namespace {

using meter::sdk::LegalClass;
using meter::sdk::parse_manifest;
using meter::sdk::validate_config;

toml::table parse(std::string_view text, std::string_view source = "meter.toml") {
  std::string error;
  auto table = meter::sdk::parse_toml(text, source, error);
  if (!table) throw std::runtime_error(error);
  return std::move(*table);
}

constexpr const char* kRfModule = R"([plugin]
id = "rf-mqtt"
version = "2.1.0"
vendor = "Radio Co"
abi = "1.0"
legal_class = "not-relevant"
capabilities = ["relay", "write:tariff-registers"]
provides = ["head-end"]
requires = ["tou"]

[[objects]]
obis = "0-0:25.1.0"
name = "link_state"
type = "text"

[config.interval_s]
type = "integer"
min = 60
max = 86400
unit = "s"
default = 900

[config.broker]
type = "text"
required = true

[config.mode]
type = "text"
allowed = ["push", "poll"]
default = "push"

[comms]
type = "rf"
functions = ["energy", "remote-disconnect"]
burden_w = 1.5

[[comms.constraints]]
key = "display.scroll_time_s"
op = ">="
value = 10
)";

TEST(Manifest, ParsesEveryField) {
  auto parsed = parse_manifest(kRfModule, "rf/plugin.toml");
  ASSERT_TRUE(parsed.manifest) << (parsed.errors.empty() ? "" : parsed.errors[0]);
  const auto& m = *parsed.manifest;
  EXPECT_EQ(m.id, "rf-mqtt");
  EXPECT_EQ(m.abi_major, 1);
  EXPECT_EQ(m.abi_minor, 0);
  EXPECT_EQ(m.legal_class, LegalClass::not_relevant);
  EXPECT_TRUE(m.has_capability("write:tariff-registers"));
  EXPECT_EQ(m.requires_.at(0), "tou");
  EXPECT_EQ(m.objects.at(0).obis, "0-0:25.1.0");
  ASSERT_TRUE(m.comms);
  EXPECT_EQ(m.comms->type, "rf");
  EXPECT_DOUBLE_EQ(m.comms->burden_w, 1.5);
  EXPECT_EQ(m.comms->constraints.at(0).key, "display.scroll_time_s");
}

TEST(Manifest, ErrorsNameLineColumnKeyAndRule) {
  auto parsed = parse_manifest("[plugin]\nid = \"Bad Id\"\nversion = \"1.0\"\nvendor = \"x\"\n"
                               "abi = \"1.0\"\nlegal_class = \"maybe\"\n",
                               "bad.toml");
  EXPECT_FALSE(parsed.manifest);
  ASSERT_EQ(parsed.errors.size(), 3u);
  EXPECT_EQ(parsed.errors[0].rfind("bad.toml:2:6: plugin.id: must be", 0), 0u) << parsed.errors[0];
  EXPECT_EQ(parsed.errors[1], "bad.toml:3:11: plugin.version: must be MAJOR.MINOR.PATCH");
  EXPECT_NE(parsed.errors[2].find("plugin.legal_class"), std::string::npos);
}

TEST(Manifest, UnknownCapabilityAndMissingDefaultAreRefused) {
  auto parsed = parse_manifest("[plugin]\nid = \"x\"\nversion = \"1.0.0\"\nvendor = \"x\"\n"
                               "abi = \"1.0\"\nlegal_class = \"not-relevant\"\n"
                               "capabilities = [\"root\"]\n[config.k]\ntype = \"integer\"\n",
                               "m.toml");
  EXPECT_FALSE(parsed.manifest);
  ASSERT_EQ(parsed.errors.size(), 2u);
  EXPECT_NE(parsed.errors[0].find("unknown capability \"root\""), std::string::npos);
  EXPECT_NE(parsed.errors[1].find("config.k: needs a default or required = true"),
            std::string::npos);
}

TEST(Manifest, ConfigIsValidatedWithDefaultsFilledIn) {
  const auto m = *parse_manifest(kRfModule, "rf/plugin.toml").manifest;
  auto config = parse("broker = \"mqtt://head-end\"\n", "site.toml");
  auto check = validate_config(m, config, "site.toml");
  ASSERT_TRUE(check.ok()) << check.errors[0];
  EXPECT_EQ(check.values["interval_s"].value<std::int64_t>(), 900);
  EXPECT_EQ(check.values["mode"].value<std::string>(), "push");
  EXPECT_EQ(check.values["broker"].value<std::string>(), "mqtt://head-end");
}

TEST(Manifest, ConfigErrorsNameFileLineKeyAndRule) {
  const auto m = *parse_manifest(kRfModule, "rf/plugin.toml").manifest;
  auto config = parse("interval_s = 30\nmode = \"pull\"\ncolour = 3\n", "site.toml");
  auto check = validate_config(m, config, "site.toml");
  ASSERT_EQ(check.errors.size(), 4u);
  EXPECT_EQ(check.errors[0], "site.toml:3:10: colour: is not a configuration key of plugin rf-mqtt");
  EXPECT_EQ(check.errors[1], "site.toml:1:14: interval_s: 30 s is below the minimum 60 s");
  EXPECT_EQ(check.errors[2], "site.toml:2:8: mode: \"pull\" is not one of: push, poll");
  EXPECT_NE(check.errors[3].find("broker: is required (text) and not set"), std::string::npos);
}

TEST(Manifest, ConfigOfTheWrongTypeIsRefused) {
  const auto m = *parse_manifest(kRfModule, "rf/plugin.toml").manifest;
  auto config = parse("broker = 5\n", "site.toml");
  auto check = validate_config(m, config, "site.toml");
  ASSERT_EQ(check.errors.size(), 1u);
  EXPECT_EQ(check.errors[0], "site.toml:1:10: broker: must be of type text");
}

TEST(Manifest, CommsConstraintsAreCheckedAgainstTheMeter) {
  const auto m = *parse_manifest(kRfModule, "rf/plugin.toml").manifest;
  auto fine = parse("[display]\nscroll_time_s = 12\n");
  EXPECT_TRUE(meter::sdk::check_constraints(m, fine).empty());
  auto too_fast = parse("[display]\nscroll_time_s = 6\n");
  const auto broken = meter::sdk::check_constraints(m, too_fast);
  ASSERT_EQ(broken.size(), 1u);
  EXPECT_EQ(broken[0], "rf-mqtt requires display.scroll_time_s >= 10, the meter has 6");
  auto unset = toml::table{};
  EXPECT_EQ(meter::sdk::check_constraints(m, unset).size(), 1u);
}


constexpr const char* kMinutePlugin = R"([plugin]
id = "minutes"
version = "1.0.0"
vendor = "Test"
abi = "1.0"
legal_class = "legally-relevant"

[[constraints]]
key = "metrology.tick_s"
op = "divides"
value = 60
reason = "its intervals end on whole minutes"
)";

TEST(Manifest, AnyPluginMayConstrainTheMetersSettings) {
  auto parsed = parse_manifest(kMinutePlugin, "minutes/plugin.toml");
  ASSERT_TRUE(parsed.manifest) << parsed.errors.at(0);
  const auto& m = *parsed.manifest;
  EXPECT_FALSE(m.comms);
  ASSERT_EQ(m.constraints.size(), 1u);
  EXPECT_EQ(m.constraints[0].op, "divides");
  EXPECT_EQ(m.constraints[0].reason, "its intervals end on whole minutes");
  for (int tick : {1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60}) {
    auto meter = parse("[metrology]\ntick_s = " + std::to_string(tick) + "\n");
    EXPECT_TRUE(meter::sdk::check_constraints(m, meter).empty()) << tick;
  }
  auto seven = parse("[metrology]\ntick_s = 7\n");
  const auto broken = meter::sdk::broken_constraints(m, seven);
  ASSERT_EQ(broken.size(), 1u);
  EXPECT_EQ(broken[0].key, "metrology.tick_s");
  EXPECT_EQ(broken[0].message, "minutes requires metrology.tick_s to divide 60 exactly, the meter "
                               "has 7 (its intervals end on whole minutes)");
  EXPECT_EQ(meter::sdk::check_constraints(m, parse("[metrology]\ntick_s = 0\n")).size(), 1u)
      << "nothing is divided by 0";
  EXPECT_EQ(meter::sdk::check_constraints(m, parse("[metrology]\ntick_s = 120\n")).size(), 1u);
  EXPECT_EQ(meter::sdk::check_constraints(m, toml::table{}).at(0),
            "minutes requires metrology.tick_s to divide 60 exactly but the meter does not set "
            "metrology.tick_s (its intervals end on whole minutes)");
}

TEST(Manifest, TopLevelAndCommsConstraintsAreBothChecked) {
  const std::string text = std::string(kRfModule) +
                           "\n[[constraints]]\nkey = \"metrology.tick_s\"\nop = \"divides\"\nvalue = 60\n";
  const auto m = *parse_manifest(text, "rf/plugin.toml").manifest;
  const auto broken = meter::sdk::check_constraints(
      m, parse("[display]\nscroll_time_s = 6\n[metrology]\ntick_s = 7\n"));
  ASSERT_EQ(broken.size(), 2u);
  EXPECT_EQ(broken[0], "rf-mqtt requires metrology.tick_s to divide 60 exactly, the meter has 7");
  EXPECT_EQ(broken[1], "rf-mqtt requires display.scroll_time_s >= 10, the meter has 6");
}

TEST(Manifest, AConstraintNeedsAKnownOperatorAndANumber) {
  const std::string base = "[plugin]\nid = \"x\"\nversion = \"1.0.0\"\nvendor = \"T\"\nabi = \"1.0\"\n"
                           "legal_class = \"not-relevant\"\n\n[[constraints]]\nkey = \"metrology.tick_s\"\n";
  auto op = parse_manifest(base + "op = \"modulo\"\nvalue = 60\n", "x.toml");
  ASSERT_EQ(op.errors.size(), 1u);
  EXPECT_EQ(op.errors[0], "x.toml:10:6: constraints.op: must be >= <= > < == != or divides");
  auto missing = parse_manifest(base + "op = \"divides\"\n", "x.toml");
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0], "x.toml:8:1: constraints.value: is required (a number)");
  auto text = parse_manifest(base + "op = \"divides\"\nvalue = \"60\"\n", "x.toml");
  ASSERT_EQ(text.errors.size(), 1u) << "one error for a value that is not a number";
  EXPECT_EQ(text.errors[0], "x.toml:11:9: constraints.value: must be a number");
}

}  // namespace
