#include "meter/kernel/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace meter::kernel::config {
namespace {

const std::filesystem::path kSource = METER_SOURCE_DIR;

Paths repo_paths() {
  return Paths{{kSource / "boards/descriptors"}, {kSource / "tests/config/plugins"}};
}

TEST(Config, EveryShippedBoardDescriptorLoads) {
  int boards = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kSource / "boards/descriptors")) {
    Diagnostics out;
    auto board = load_board(entry.path(), out);
    EXPECT_TRUE(board) << out.to_string();
    if (board) {
      EXPECT_EQ(board->id + ".toml", entry.path().filename().string());
      EXPECT_NE(board->service, nullptr);
    }
    ++boards;
  }
  EXPECT_GE(boards, 4);
}

TEST(Config, BoardDescriptorGivesNameplateServiceAndMetrology) {
  Diagnostics out;
  auto b = load_board(kSource / "boards/descriptors/poly-9s-wye.toml", out);
  ASSERT_TRUE(b) << out.to_string();
  EXPECT_EQ(b->nameplate.form, "9S");
  EXPECT_EQ(b->nameplate.transformer_ratio, "400:5");
  EXPECT_DOUBLE_EQ(b->nameplate.kh_wh, 1.8);
  EXPECT_DOUBLE_EQ(b->nameplate.kt_wh, 1.8) << "Kt defaults to Kh";
  EXPECT_EQ(b->service->id, "3e4w-wye");
  EXPECT_EQ(b->metrology.channel_count, 6);
  EXPECT_EQ(b->sample_rate_hz, 8000u);
  EXPECT_EQ(b->hardware.seal_switches.size(), 3u);
  EXPECT_EQ(b->hardware.lcd_digits, 8);
}

TEST(Config, ShippedSkuAndSiteMakeAMeter) {
  Paths p = repo_paths();
  auto r = load(kSource / "config/skus/basic-kwh.toml", kSource / "config/sites/plain-toronto.toml", p);
  ASSERT_TRUE(r.setup) << r.errors.to_string();
  const auto& s = *r.setup;
  EXPECT_EQ(s.board.id, "focus-1s-120v");
  EXPECT_EQ(s.meter.time_zone, "America/Toronto");
  EXPECT_DOUBLE_EQ(s.meter.kh_wh, 0.3);
  EXPECT_EQ(s.sku.display.items.size(), 6u);
  EXPECT_EQ(s.sku.display.items[4].kind, DisplayItem::Kind::segment_test);
  VirtualTimeSource time{s.site.simulation.start};
  auto meter = Meter::create(s.meter, time);
  EXPECT_TRUE(meter) << (meter ? "" : meter.error().message);
}

TEST(Config, PluginSettingsLayerSiteOverSkuAndGetDefaults) {
  auto r = load(kSource / "tests/config/good/sku.toml", kSource / "tests/config/good/site.toml",
                repo_paths());
  ASSERT_TRUE(r.setup) << r.errors.to_string();
  ASSERT_EQ(r.setup->sku.plugins.size(), 1u);
  const auto& rf = r.setup->sku.plugins[0];
  EXPECT_EQ(rf.settings["head_end"].value_or(std::string()), "he.example.net:8883");
  EXPECT_EQ(rf.settings["report_interval_s"].value_or(0), 3600) << "the SKU's factory setting";
  const auto& sim = r.setup->site.simulation;
  EXPECT_EQ(sim.model, "residential-pv");
  ASSERT_EQ(sim.happenings.size(), 1u);
  EXPECT_EQ(sim.happenings[0].length, std::chrono::seconds{600});
  EXPECT_EQ(r.setup->meter_settings.at_path("display.scroll_time_s").value_or(0), 10);
}

TEST(Config, SiteSetsTheSimulatedBoardsSealSwitchesAndSealHappenings) {
  auto r = load(kSource / "tests/config/good/sku.toml",
                kSource / "tests/config/good/sealed-site.toml", repo_paths());
  ASSERT_TRUE(r.setup) << r.errors.to_string();
  const auto& sim = r.setup->site.simulation;
  EXPECT_EQ(sim.sealed, (std::vector<SealKind>{SealKind::cover, SealKind::optical_plug}));
  ASSERT_EQ(sim.happenings.size(), 2u);
  EXPECT_EQ(sim.happenings[0].kind, Happening::Kind::seal_broken);
  EXPECT_EQ(sim.happenings[0].seal, SealKind::cover);
  EXPECT_EQ(sim.happenings[1].kind, Happening::Kind::seal_applied);
  EXPECT_EQ(r.setup->board.hardware.seal_switches,
            (std::vector<SealKind>{SealKind::cover, SealKind::optical_plug}));
  // Without [simulation.seals] every switch reads broken.
  auto plain = load(kSource / "tests/config/good/sku.toml", kSource / "tests/config/good/site.toml",
                    repo_paths());
  ASSERT_TRUE(plain.setup);
  EXPECT_TRUE(plain.setup->site.simulation.sealed.empty());
}

TEST(Config, TheSkusDisplayMultiplierIsTheMetersFactoryValue) {
  auto r = load(kSource / "tests/config/good/multiplier-sku.toml",
                kSource / "tests/config/good/site.toml", repo_paths());
  ASSERT_TRUE(r.setup) << r.errors.to_string();
  EXPECT_EQ(r.setup->sku.display.multiplier, 12);
  EXPECT_EQ(r.setup->meter.display_multiplier, 12);
}

TEST(Config, ReferenceDocumentMatchesTheSchemas) {
  std::ifstream in(kSource / "docs/configuration.md");
  ASSERT_TRUE(in) << "docs/configuration.md is missing: meterd --config-reference > docs/configuration.md";
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), reference_markdown())
      << "docs/configuration.md has drifted: regenerate it with meterd --config-reference";
}

}  // namespace
}  // namespace meter::kernel::config
