// Structured configuration keys (array, table-array): the schema a tariff plugin declares, the
// errors a utility reads when a site file breaks it, and the text a plugin reads back.
#include <gtest/gtest.h>

#include "meter/sdk/config.h"
#include "meter/sdk/manifest.h"

namespace {

using meter::sdk::ConfigType;
using meter::sdk::parse_manifest;
using meter::sdk::validate_config;

toml::table parse(std::string_view text, std::string_view source = "site.toml") {
  std::string error;
  auto table = meter::sdk::parse_toml(text, source, error);
  if (!table) throw std::runtime_error(error);
  return std::move(*table);
}

constexpr const char* kTariff = R"([plugin]
id = "tariff"
version = "1.0.0"
vendor = "V"
abi = "1.0"
legal_class = "not-relevant"

[config.holidays]
type = "array"
items = "text"
pattern = '^\d{4}-\d{2}-\d{2}$'
increasing = true
max_items = 3
default = []

[config.seasons]
type = "table-array"
required = true
min_items = 1
max_items = 2

[config.seasons.fields.name]
type = "text"
required = true

[config.seasons.fields.level]
type = "integer"
min = 1
max = 4
)";

const meter::sdk::Manifest& manifest() {
  static const auto m = [] {
    auto parsed = parse_manifest(kTariff, "tariff/plugin.toml");
    if (!parsed.manifest) throw std::runtime_error(parsed.errors.at(0));
    return *parsed.manifest;
  }();
  return m;
}

TEST(StructuredConfig, ManifestDeclaresArraysAndTableArrays) {
  const auto& m = manifest();
  ASSERT_NE(m.field("holidays"), nullptr);
  EXPECT_EQ(m.field("holidays")->type, ConfigType::array);
  EXPECT_EQ(m.field("holidays")->items, ConfigType::text);
  EXPECT_TRUE(m.field("holidays")->increasing);
  const auto* seasons = m.field("seasons");
  ASSERT_NE(seasons, nullptr);
  EXPECT_EQ(seasons->type, ConfigType::table_array);
  ASSERT_EQ(seasons->fields.size(), 2u);
  EXPECT_EQ(seasons->max_items, 2u);
}

TEST(StructuredConfig, AValidTableIsAccepted) {
  auto config = parse(R"(holidays = ["2026-01-01", "2026-12-25"]
[[seasons]]
name = "winter"
level = 2
[[seasons]]
name = "summer"
)");
  const auto check = validate_config(manifest(), config, "site.toml");
  ASSERT_TRUE(check.ok()) << check.errors[0];
  EXPECT_EQ(check.values["seasons"].as_array()->size(), 2u);
}

TEST(StructuredConfig, ANestedErrorNamesTheItemKeyLineAndColumn) {
  auto config = parse("[[seasons]]\nname = \"winter\"\nlevel = 9\n");
  const auto check = validate_config(manifest(), config, "site.toml");
  ASSERT_EQ(check.errors.size(), 1u);
  EXPECT_EQ(check.errors[0],
            "site.toml:1:1: seasons: item 1, level (line 3, column 9): 9 is above the maximum 4");
}

TEST(StructuredConfig, ItemsBreakingPatternOrderOrCountAreRefused) {
  auto bad_pattern = parse("holidays = [\"2026-1-1\"]\nseasons = [{name = \"a\"}]\n");
  auto check = validate_config(manifest(), bad_pattern, "site.toml");
  ASSERT_EQ(check.errors.size(), 1u);
  EXPECT_NE(check.errors[0].find("holidays: item 1 (line 1, column 13): \"2026-1-1\" does not match"),
            std::string::npos)
      << check.errors[0];

  auto out_of_order = parse("holidays = [\"2026-12-25\", \"2026-01-01\"]\nseasons = [{name = \"a\"}]\n");
  check = validate_config(manifest(), out_of_order, "site.toml");
  ASSERT_EQ(check.errors.size(), 1u);
  EXPECT_NE(check.errors[0].find("item 2 (line 1, column 27): must be greater than the item before"),
            std::string::npos)
      << check.errors[0];

  auto too_many = parse("seasons = [{name = \"a\"}, {name = \"b\"}, {name = \"c\"}]\n");
  check = validate_config(manifest(), too_many, "site.toml");
  ASSERT_EQ(check.errors.size(), 1u);
  EXPECT_NE(check.errors[0].find("seasons: has 3 items, more than the maximum 2"), std::string::npos);
}

TEST(StructuredConfig, UnknownAndMissingNestedKeysAreRefused) {
  auto unknown = parse("[[seasons]]\nname = \"a\"\ncolour = 1\n");
  auto check = validate_config(manifest(), unknown, "site.toml");
  ASSERT_EQ(check.errors.size(), 1u);
  EXPECT_NE(check.errors[0].find("item 1, colour (line 3, column 10): is not a key of seasons"),
            std::string::npos)
      << check.errors[0];

  auto missing = parse("[[seasons]]\nlevel = 1\n");
  check = validate_config(manifest(), missing, "site.toml");
  ASSERT_EQ(check.errors.size(), 1u);
  EXPECT_NE(check.errors[0].find("name is required (text) and not set"), std::string::npos);
}

TEST(StructuredConfig, ATableArrayWithoutFieldsOrAnArrayWithoutItemsIsRefused) {
  const auto parsed = parse_manifest(R"([plugin]
id = "x"
version = "1.0.0"
vendor = "V"
abi = "1.0"
legal_class = "not-relevant"
[config.a]
type = "table-array"
default = []
[config.b]
type = "array"
default = []
)", "x/plugin.toml");
  ASSERT_FALSE(parsed.manifest);
  ASSERT_EQ(parsed.errors.size(), 2u);
  EXPECT_NE(parsed.errors[0].find("config.a.fields: is required"), std::string::npos);
  EXPECT_NE(parsed.errors[1].find("config.b.items: is required"), std::string::npos);
}

TEST(StructuredConfig, ConfigTextRoundTripsThroughToml) {
  auto config = parse("[[seasons]]\nname = \"winter\"\nlevel = 2\n");
  const std::string text = meter::sdk::config_text(*config.get("seasons"));
  std::string error;
  auto back = meter::sdk::parse_toml(text, "text", error);
  ASSERT_TRUE(back) << error;
  const auto* seasons = back->get_as<toml::array>("value");
  ASSERT_NE(seasons, nullptr);
  ASSERT_EQ(seasons->size(), 1u);
  EXPECT_EQ((*seasons->get(0)->as_table())["name"].value<std::string>(), "winter");
  EXPECT_EQ((*seasons->get(0)->as_table())["level"].value<std::int64_t>(), 2);
}

}  // namespace
