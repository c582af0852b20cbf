// The bad-configuration corpus: each folder under bad/ is an SKU and a site file (and perhaps a
// board) that must be refused with the message and location in its `expect` file.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "meter/kernel/config.h"

namespace meter::kernel::config {
namespace {

const std::filesystem::path kHere = std::filesystem::path(METER_SOURCE_DIR) / "tests/config";

std::vector<std::string> cases() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(kHere / "bad")) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class BadConfiguration : public ::testing::TestWithParam<std::string> {};

/// Where a case's error is found (its `stage` file; see meterd_corpus.sh): "config" when the
/// loader finds it, else by meterd once the plugins are created or the meter starts.
std::string stage_of(const std::filesystem::path& dir) {
  std::ifstream in(dir / "stage");
  std::string stage;
  std::getline(in, stage);
  return stage.empty() ? "config" : stage;
}

TEST_P(BadConfiguration, IsRefusedWithItsMessageAndLocation) {
  const auto dir = kHere / "bad" / GetParam();
  if (stage_of(dir) != "config") {
    GTEST_SKIP() << "found by meterd (" << stage_of(dir) << "): config_corpus_through_meterd";
  }
  std::ifstream in(dir / "expect");
  std::string expect;
  std::getline(in, expect);
  ASSERT_FALSE(expect.empty());
  // "sku.toml:4:1: ..." names a file of the case: match it with the case's path.
  for (const char* file : {"sku.toml", "site.toml", "board.toml"}) {
    if (expect.rfind(file, 0) == 0) {
      const auto real = std::string(file) == "board.toml" ? "case-board.toml" : file;
      expect = (dir / real).string() + expect.substr(std::string(file).size());
    }
  }
  Paths paths{{dir, std::filesystem::path(METER_SOURCE_DIR) / "boards/descriptors"},
              {kHere / "plugins"}};
  const auto r = load(dir / "sku.toml", dir / "site.toml", paths);
  EXPECT_FALSE(r.setup);
  const auto text = r.errors.to_string();
  EXPECT_NE(text.find(expect), std::string::npos) << "expected: " << expect << "\ngot:\n" << text;
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadConfiguration, ::testing::ValuesIn(cases()),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(BadConfiguration, CorpusHasAtLeastThirtyCases) { EXPECT_GE(cases().size(), 30u); }

TEST(GoodConfiguration, TheCorpusBaseLoads) {
  Paths paths{{std::filesystem::path(METER_SOURCE_DIR) / "boards/descriptors"}, {kHere / "plugins"}};
  const auto r = load(kHere / "good/sku.toml", kHere / "good/site.toml", paths);
  EXPECT_TRUE(r.setup) << r.errors.to_string();
}

}  // namespace
}  // namespace meter::kernel::config
