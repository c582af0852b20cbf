#include "meter/kernel/schema.h"

#include <gtest/gtest.h>

namespace meter::kernel::config {
namespace {

const Schema kInner{"inner", "", {{.key = "n", .type = FieldType::integer, .description = "n", .min = 1, .max = 3}}};
const Schema kOuter{
    "test file",
    "",
    {{.key = "name", .type = FieldType::text, .description = "a name", .required = true},
     {.key = "mode", .type = FieldType::text, .description = "mode", .allowed = {"a", "b"}},
     {.key = "ratio", .type = FieldType::real, .description = "ratio", .min = 0, .max = 1},
     {.key = "inner", .type = FieldType::table, .description = "inner", .nested = &kInner},
     {.key = "list", .type = FieldType::table_array, .description = "list", .nested = &kInner}}};

Diagnostics check_text(std::string_view text) {
  Diagnostics out;
  check(toml::parse(text, std::string_view("t.toml")), kOuter, "t.toml", "", out);
  return out;
}

TEST(Schema, AcceptsAValidTableAndIntegersWhereRealsAreExpected) {
  EXPECT_TRUE(check_text("name = \"x\"\nmode = \"b\"\nratio = 1\n[inner]\nn = 2\n").empty());
}

TEST(Schema, CollectsEveryErrorWithItsLocation) {
  auto out = check_text("ratio = 1.5\nmode = \"c\"\nnmae = \"x\"\n[inner]\nn = 7\n[[list]]\nn = 0\n");
  ASSERT_EQ(out.size(), 6u) << out.to_string();
  const auto text = out.to_string();
  EXPECT_NE(text.find("t.toml:1:9: 'ratio' is 1.5; it must be from 0 to 1"), std::string::npos) << text;
  EXPECT_NE(text.find("t.toml:2:8: 'mode' is \"c\"; it must be \"a\" or \"b\""), std::string::npos) << text;
  EXPECT_NE(text.find("t.toml:3:1: unknown key 'nmae'"), std::string::npos) << text;
  EXPECT_NE(text.find("t.toml:5:5: 'inner.n' is 7; it must be from 1 to 3"), std::string::npos) << text;
  EXPECT_NE(text.find("'list[0].n' is 0"), std::string::npos) << text;
  EXPECT_NE(text.find("missing required key 'name'"), std::string::npos) << text;
}

TEST(Schema, WrongTypesAreNamed) {
  auto out = check_text("name = 3\ninner = 1\n");
  const auto text = out.to_string();
  EXPECT_NE(text.find("'name' must be a string"), std::string::npos) << text;
  EXPECT_NE(text.find("'inner' must be a table"), std::string::npos) << text;
}

TEST(Schema, SyntaxErrorsAndMissingFilesAreReported) {
  Diagnostics out;
  EXPECT_FALSE(parse_file("/nonexistent/x.toml", out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out.to_string().find("/nonexistent/x.toml: cannot be read"), std::string::npos);
}

TEST(Schema, ReferenceListsEveryKeyOfEveryTable) {
  const auto md = to_markdown(kOuter);
  for (const char* s : {"## test file", "| `name` |", "| `ratio` |", "### [inner]", "### [[list]]", "| `n` |"}) {
    EXPECT_NE(md.find(s), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace meter::kernel::config
