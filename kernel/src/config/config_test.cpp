#include "meter/kernel/config.h"

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "meter/sdk/manifest.h"

namespace meter::kernel::config {
namespace {

const std::filesystem::path kSource = METER_SOURCE_DIR;

Paths repo_paths() {
  return Paths{{kSource / "boards/descriptors"}, {kSource / "tests/config/plugins"}};
}

std::string read(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// `text` with every `from` replaced by `to`; fails the test when `from` is not there.
std::string with(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "no \"" << from << "\" to replace";
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// "file:line:column: " of the first `needle` in `text` (1-based, as toml++ counts), or of `value`
// within the first `needle` ("decimals = 3", "3").
std::string at(const std::filesystem::path& file, const std::string& text,
               const std::string& needle, const std::string& value = {}) {
  auto pos = text.find(needle);
  EXPECT_NE(pos, std::string::npos) << needle;
  if (pos == std::string::npos) return {};
  pos += value.empty() ? 0 : needle.find(value);
  const auto line_start = text.rfind('\n', pos);
  const auto line = std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n') + 1;
  const auto column = pos - (line_start == std::string::npos ? 0 : line_start + 1) + 1;
  return fmt::format("{}:{}:{}: ", file.string(), line, column);
}

// A directory of its own for one test, removed after it.
class Scratch {
 public:
  Scratch()
      : dir_(std::filesystem::temp_directory_path() /
             fmt::format("meter-config-{}-{}", ::getpid(),
                         ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~Scratch() { std::filesystem::remove_all(dir_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    const auto file = dir_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << text;
    return file;
  }

 private:
  std::filesystem::path dir_;
};

// The shipped plugins' manifests, each as <id>.toml, as the build installs them beside the
// libraries.
void install_shipped_manifests(const std::filesystem::path& into) {
  std::filesystem::create_directories(into);
  for (const auto& e : std::filesystem::recursive_directory_iterator(kSource / "plugins")) {
    if (e.path().filename() != "plugin.toml") continue;
    const auto parsed = sdk::parse_manifest(read(e.path()), e.path().string());
    ASSERT_TRUE(parsed.manifest) << parsed.errors.front();
    std::filesystem::copy_file(e.path(), into / (parsed.manifest->id + ".toml"),
                               std::filesystem::copy_options::overwrite_existing);
  }
}

Paths shipped_paths(const std::filesystem::path& plugin_dir) {
  return Paths{{kSource / "boards/descriptors"}, {plugin_dir}};
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


// ---- every shipped SKU, with the sites it runs with --------------------------------------

TEST(Config, EveryShippedSkuLoadsWithTheSitesItRunsWith) {
  Scratch scratch;
  install_shipped_manifests(scratch.dir() / "plugins");
  const std::vector<std::pair<std::string, std::string>> pairs{
      {"config/skus/basic-kwh.toml", "config/sites/plain-toronto.toml"},
      {"config/skus/basic-kwh.toml", "tests/persistence/crash-site.toml"},
      {"config/skus/basic-kwh-audited.toml", "tests/sealing/audited-site.toml"},
      {"config/skus/basic-kwh-audited.toml", "tests/sealing/sealed-site.toml"},
      {"config/skus/prepaid.toml", "config/sites/prepaid-phoenix.toml"},
      {"config/skus/prepaid.toml", "tests/prepaid/restart-site.toml"},
      {"config/skus/tou.toml", "config/sites/toronto-tou.toml"},
      {"config/skus/tou-demand-rf.toml", "config/sites/toronto-tou-rf.toml"},
      {"tests/meterd/profile-sku.toml", "config/sites/plain-toronto.toml"},
  };
  for (const auto& [sku, site] : pairs) {
    auto r = load(kSource / sku, kSource / site, shipped_paths(scratch.dir() / "plugins"));
    EXPECT_TRUE(r.setup) << sku << " with " << site << ":\n" << r.errors.to_string();
  }
  for (const auto& e : std::filesystem::directory_iterator(kSource / "config/skus")) {
    const auto name = "config/skus/" + e.path().filename().string();
    EXPECT_TRUE(std::any_of(pairs.begin(), pairs.end(), [&](const auto& p) { return p.first == name; }))
        << name << " is shipped but not loaded here: pair it with its site";
  }
}

// ---- grants --------------------------------------------------------------------------------

TEST(Config, AGrantTheManifestDoesNotAskForIsRefusedWhereItIsWritten) {
  Scratch scratch;
  const auto base = read(kSource / "tests/config/good/sku.toml");
  const auto site = kSource / "tests/config/good/site.toml";
  const auto fine = scratch.write("fine.toml", base + "\n[plugins.disconnect]\ngrants = [\"relay\"]\n");
  EXPECT_TRUE(load(fine, site, repo_paths()).setup);

  const auto text = base + "\n[plugins.disconnect]\ngrants = [\"relay\", \"io\"]\n";
  const auto extra = scratch.write("extra.toml", text);
  auto r = load(extra, site, repo_paths());
  ASSERT_EQ(r.errors.size(), 1u) << r.errors.to_string();
  EXPECT_EQ(r.errors.to_string(),
            at(extra, text, "\"io\"") +
                "plugin 'disconnect' is granted 'io', which its manifest does not ask for (it asks "
                "for: relay)\n");

  // A plugin that asks for nothing says so.
  const auto none_text = with(base, "version = \"2.1.0\"", "version = \"2.1.0\"\ngrants = [\"relay\"]");
  auto none = load(scratch.write("none.toml", none_text), site, repo_paths());
  EXPECT_NE(none.errors.to_string().find(
                "plugin 'rf-mesh' is granted 'relay', which its manifest does not ask for (it asks "
                "for: none)"),
            std::string::npos)
      << none.errors.to_string();
}

TEST(Config, TheKernelsRegistersAreNeverGrantedEvenWhenAManifestAsksForThem) {
  Scratch scratch;
  scratch.write("plugins/greedy.toml",
                "[plugin]\nid = \"greedy\"\nversion = \"1.0.0\"\nvendor = \"Test\"\nabi = \"1.0\"\n"
                "legal_class = \"not-relevant\"\ncapabilities = [\"nvm:kernel\"]\n");
  Paths paths{{kSource / "boards/descriptors"}, {scratch.dir() / "plugins", kSource / "tests/config/plugins"}};
  const auto base = read(kSource / "tests/config/good/sku.toml");
  const auto site = kSource / "tests/config/good/site.toml";

  const auto granted_text = base + "\n[plugins.greedy]\ngrants = [\"nvm:kernel\"]\n";
  const auto granted = scratch.write("granted.toml", granted_text);
  auto r = load(granted, site, paths);
  EXPECT_FALSE(r.setup);
  EXPECT_EQ(r.errors.to_string(),
            at(granted, granted_text, "\"nvm:kernel\"") +
                "plugin 'greedy' is granted 'nvm:kernel': the kernel's registers (its own NVM "
                "namespace) are never granted to a plugin\n");

  // Not granted: refused all the same, without advice to grant it.
  const auto asked_text = base + "\n[plugins.greedy]\n";
  const auto asked = scratch.write("asked.toml", asked_text);
  auto a = load(asked, site, paths);
  EXPECT_EQ(a.errors.to_string(),
            at(asked, asked_text, "[plugins.greedy]") +
                "plugin 'greedy' asks for 'nvm:kernel', which is never granted: the kernel's "
                "registers (its own NVM namespace) are never granted to a plugin\n");
}

// ---- board descriptors --------------------------------------------------------------------

TEST(Config, NameplateElementsAreThoseOfAServiceConfiguration) {
  Scratch scratch;
  const auto base = read(kSource / "boards/descriptors/focus-1s-120v.toml");
  for (const char* ok : {"1", "1.5", "2", "2.5", "3", "2.0"}) {
    Diagnostics out;
    const auto file = scratch.write("focus-1s-120v.toml", with(base, "elements = 1\n", fmt::format("elements = {}\n", ok)));
    EXPECT_TRUE(load_board(file, out)) << ok << ": " << out.to_string();
  }
  for (const char* bad : {"1.2", "2.7", "1.25"}) {
    Diagnostics out;
    const auto text = with(base, "elements = 1\n", fmt::format("elements = {}\n", bad));
    const auto file = scratch.write("focus-1s-120v.toml", text);
    EXPECT_FALSE(load_board(file, out));
    EXPECT_EQ(out.to_string(), at(file, text, bad) +
                                   fmt::format("'nameplate.elements' is {}; it must be 1, 1.5, 2, "
                                               "2.5 or 3\n", bad));
  }
}

TEST(Config, ABoardDescriptorIsNamedAfterItsId) {
  Scratch scratch;
  const auto text = read(kSource / "boards/descriptors/focus-1s-120v.toml");
  Diagnostics out;
  const auto file = scratch.write("focus-1s-120v-copy.toml", text);
  EXPECT_FALSE(load_board(file, out));
  EXPECT_EQ(out.to_string(),
            at(file, text, "\"focus-1s-120v\"") +
                "'board.id' is \"focus-1s-120v\" but the file is focus-1s-120v-copy.toml: a board "
                "descriptor is named after its id (focus-1s-120v.toml), which is how SKUs find it\n");
}

TEST(Config, TheLowestOperatingTemperatureIsNotAboveTheHighest) {
  Scratch scratch;
  const auto base = read(kSource / "boards/descriptors/focus-1s-120v.toml");
  auto board = [&](const std::string& temperatures, Diagnostics& out) {
    const auto text = with(base, "max_current_a = 20\n", "max_current_a = 20\n" + temperatures);
    return load_board(scratch.write("focus-1s-120v.toml", text), out);
  };
  Diagnostics equal;
  EXPECT_TRUE(board("temperature_min_c = 20\ntemperature_max_c = 20\n", equal)) << equal.to_string();
  Diagnostics only_max;
  EXPECT_TRUE(board("temperature_max_c = -20\n", only_max)) << only_max.to_string();
  Diagnostics above;
  EXPECT_FALSE(board("temperature_max_c = 20\ntemperature_min_c = 20.5\n", above));
  const auto text = read(scratch.dir() / "focus-1s-120v.toml");
  EXPECT_EQ(above.to_string(),
            at(scratch.dir() / "focus-1s-120v.toml", text, "temperature_min_c = 20.5", "20.5") +
                "'ratings.temperature_min_c' (20.5 °C) must not be above "
                "'ratings.temperature_max_c' (20 °C)\n");
}

// ---- constraints on meter settings ----------------------------------------------------------

TEST(Config, TouAndDemandNeedATickThatDividesAMinute) {
  Scratch scratch;
  install_shipped_manifests(scratch.dir() / "plugins");
  const auto paths = shipped_paths(scratch.dir() / "plugins");
  const auto base = read(kSource / "config/skus/tou.toml");
  const auto site = kSource / "config/sites/toronto-tou.toml";
  for (int tick : {1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60}) {
    auto r = load(scratch.write("tou.toml", with(base, "tick_s = 1\n", fmt::format("tick_s = {}\n", tick))),
                  site, paths);
    EXPECT_TRUE(r.setup) << tick << ": " << r.errors.to_string();
    if (r.setup) {
      EXPECT_EQ(r.setup->meter_settings.at_path("metrology.tick_s").value_or(0), tick);
    }
  }
  for (int tick : {7, 8, 45}) {
    const auto text = with(base, "tick_s = 1\n", fmt::format("tick_s = {}\n", tick));
    const auto file = scratch.write("tou.toml", text);
    auto r = load(file, site, paths);
    EXPECT_FALSE(r.setup);
    const auto where = at(file, text, fmt::format("tick_s = {}", tick), std::to_string(tick));
    // One error per plugin that needs it, in the SKU's (alphabetical) order of plugins.
    EXPECT_EQ(r.errors.to_string(),
              fmt::format("{0}constraint broken: demand requires metrology.tick_s to divide 60 "
                          "exactly, the meter has {1} (demand intervals end on whole minutes, and a "
                          "tick that straddles an interval's end is charged to a single interval)\n"
                          "{0}constraint broken: tou requires metrology.tick_s to divide 60 exactly, "
                          "the meter has {1} (time of use switch points fall on whole minutes, and a "
                          "tick that straddles one is charged to a single rate)\n",
                          where, tick));
  }
  // A meter without them may tick as it likes.
  const auto basic = read(kSource / "config/skus/basic-kwh.toml");
  auto plain = load(scratch.write("basic.toml", with(basic, "tick_s = 1\n", "tick_s = 7\n")),
                    kSource / "config/sites/plain-toronto.toml", paths);
  EXPECT_TRUE(plain.setup) << plain.errors.to_string();
}

TEST(Config, AConstraintOnASettingTheSkuLeavesAtItsDefaultIsReportedAtThePlugin) {
  Scratch scratch;
  // rf-mesh needs a scroll time of 10 s or more; the default is 6 s.
  const auto text = with(read(kSource / "tests/config/good/sku.toml"), "scroll_time_s = 10\n", "");
  const auto file = scratch.write("sku.toml", text);
  auto r = load(file, kSource / "tests/config/good/site.toml", repo_paths());
  EXPECT_EQ(r.errors.to_string(),
            at(file, text, "[plugins.rf-mesh]\n") +
                "constraint broken: rf-mesh requires display.scroll_time_s >= 10, the meter has 6\n");
}

// ---- the display's rollover -----------------------------------------------------------------

// A 1-element board of voltage_v x max_current_a, with an 8-digit LCD.
std::filesystem::path power_board(const Scratch& scratch, const std::string& id, int volts, int amps) {
  auto text = read(kSource / "boards/descriptors/focus-1s-120v.toml");
  text = with(text, "id = \"focus-1s-120v\"", fmt::format("id = \"{}\"", id));
  text = with(text, "voltage_v = 120\n", fmt::format("voltage_v = {}\n", volts));
  text = with(text, "max_current_a = 20\n", fmt::format("max_current_a = {}\n", amps));
  text = with(text, "lcd_digits = 6\n", "lcd_digits = 8\n");
  return scratch.write(fmt::format("boards/{}.toml", id), text);
}

TEST(Config, TheDisplayTakesAtLeastAThousandHoursATurnAtMaximumLoad) {
  Scratch scratch;
  power_board(scratch, "ten-kw", 100, 100);  // 10 kW
  Paths paths{{scratch.dir() / "boards"}, {kSource / "tests/config/plugins"}};
  const auto base = with(read(kSource / "tests/config/good/sku.toml"), "board = \"focus-1s-120v\"",
                         "board = \"ten-kw\"");
  const auto site = kSource / "tests/config/good/site.toml";
  auto sku = [&](const std::string& display) {
    return scratch.write("sku.toml", with(base, "scroll_time_s = 10\n", "scroll_time_s = 10\n" + display));
  };
  // 10 kW x 10 = 100 kW: 100000 kWh a turn in exactly 1000 hours.
  auto exactly = load(sku("multiplier = 10\n"), site, paths);
  EXPECT_TRUE(exactly.setup) << exactly.errors.to_string();
  auto seven = load(sku("multiplier = 11\ndigits = 7\n"), site, paths);
  EXPECT_TRUE(seven.setup) << seven.errors.to_string();
  auto none = load(sku("multiplier = 11\ndigits = 7\ndecimals = 0\n"), site, paths);
  EXPECT_TRUE(none.setup) << none.errors.to_string();

  // 110 kW: 909.1 hours; it needs 7 digits, which the 8-digit LCD has.
  const auto text = with(base, "scroll_time_s = 10\n", "scroll_time_s = 10\nmultiplier = 11\n");
  const auto file = scratch.write("sku.toml", text);
  auto r = load(file, site, paths);
  EXPECT_EQ(r.errors.to_string(),
            at(file, text, "multiplier = 11", "11") +
                "'display.multiplier' is 11: 6 digits with 1 decimal turn over every 100000 kWh "
                "shown, which at board 'ten-kw''s maximum load (100 V × 100 A × 1 element = 10 kW) "
                "× multiplier 11 takes 909.1 hours; a monthly reading cannot tell how many times "
                "the display rolled over unless a turn takes at least 1000 hours: it needs 7 "
                "digits\n");
  // Three decimals on six digits: at the decimals, the key the SKU wrote.
  const auto dec_text = with(base, "scroll_time_s = 10\n", "scroll_time_s = 10\ndecimals = 3\n");
  const auto dec_file = scratch.write("decimals.toml", dec_text);
  auto d = load(dec_file, site, paths);
  EXPECT_EQ(d.errors.to_string().rfind(at(dec_file, dec_text, "decimals = 3", "3") + "'display.decimals' is 3: ", 0), 0u)
      << d.errors.to_string();
  EXPECT_NE(d.errors.to_string().find("takes 100.0 hours"), std::string::npos) << d.errors.to_string();
}

TEST(Config, AHalfElementCountsAsAWholeOneAtMaximumLoad) {
  Scratch scratch;
  // focus-2s-240v: 240 V x 200 A x 2 (1.5 rounded up) = 96 kW; 6 digits, 1 decimal: 1041.7 h.
  const auto base = with(read(kSource / "tests/config/good/sku.toml"), "board = \"focus-1s-120v\"",
                         "board = \"focus-2s-240v\"");
  const auto site = kSource / "tests/config/good/site.toml";
  auto one = load(scratch.write("one.toml", base), site, repo_paths());
  EXPECT_TRUE(one.setup) << one.errors.to_string();
  auto two = load(scratch.write("two.toml", with(base, "scroll_time_s = 10\n", "scroll_time_s = 10\nmultiplier = 2\n")),
                  site, repo_paths());
  EXPECT_NE(two.errors.to_string().find("(240 V × 200 A × 2 elements = 96 kW) × multiplier 2 takes "
                                        "520.8 hours"),
            std::string::npos)
      << two.errors.to_string();
}

TEST(Config, AnSkuWithoutDisplaySettingsIsRefusedAtItsDisplayOrItsBoard) {
  Scratch scratch;
  power_board(scratch, "big", 480, 400);  // 192 kW: 520.8 hours on the default 6 digits
  Paths paths{{scratch.dir() / "boards"}, {kSource / "tests/config/plugins"}};
  const auto base = with(read(kSource / "tests/config/good/sku.toml"), "board = \"focus-1s-120v\"",
                         "board = \"big\"");
  const auto site = kSource / "tests/config/good/site.toml";
  const auto file = scratch.write("sku.toml", base);
  auto r = load(file, site, paths);
  EXPECT_EQ(r.errors.to_string().rfind(at(file, base, "[display]") + "the display: 6 digits", 0), 0u)
      << r.errors.to_string();
}

// ---- errors inside arrays of tables -------------------------------------------------------

TEST(Config, AnErrorInAnArrayOfTablesIsReportedAtTheItemNotTheArray) {
  Scratch scratch;
  const auto sku = kSource / "tests/config/good/sku.toml";
  const auto base = read(kSource / "tests/config/good/site.toml");
  // A missing key: at the item's own [[...]].
  const auto missing = base + "\n[[simulation.happenings]]\nkind = \"time-jump\"\njump_s = 60\n";
  const auto missing_file = scratch.write("missing.toml", missing);
  auto m = load(sku, missing_file, repo_paths());
  EXPECT_EQ(m.errors.to_string(),
            at(missing_file, missing, "[[simulation.happenings]]\nkind = \"time-jump\"") +
                "missing required key 'simulation.happenings[1].at' (when it starts)\n");
  // A wrong value: at the value.
  const auto wrong = base + "\n[[simulation.happenings]]\nkind = \"time-jump\"\nat = 2026-06-03T00:00:00Z\njump_s = 0.5\n";
  const auto wrong_file = scratch.write("wrong.toml", wrong);
  auto w = load(sku, wrong_file, repo_paths());
  EXPECT_EQ(w.errors.to_string(), at(wrong_file, wrong, "0.5") +
                                      "'simulation.happenings[1].jump_s' must be an integer\n");
}

TEST(Config, APluginSettingInAnInlineArrayOfTablesIsReportedAtTheItemsValue) {
  Scratch scratch;
  install_shipped_manifests(scratch.dir() / "plugins");
  const auto paths = shipped_paths(scratch.dir() / "plugins");
  const auto sku = kSource / "config/skus/tou.toml";
  const auto base = read(kSource / "config/sites/toronto-tou.toml");
  const auto text = with(base, "quantities = [{ rate = \"total\" }, { rate = \"C\" }]",
                         "quantities = [{ rate = \"total\" }, { rate = \"E\" }]");
  const auto file = scratch.write("site.toml", text);
  auto r = load(sku, file, paths);
  const auto where = at(file, text, "\"E\"");
  EXPECT_EQ(r.errors.to_string().rfind(where + "quantities: item 2, rate", 0), 0u) << r.errors.to_string();
  // An unknown key of an item: at the key.
  const auto key_text = with(base, "{ rate = \"C\" }", "{ rate = \"C\", colour = 1 }");
  const auto key_file = scratch.write("key.toml", key_text);
  auto k = load(sku, key_file, paths);
  EXPECT_EQ(k.errors.to_string().rfind(at(key_file, key_text, "colour") + "quantities: item 2, colour", 0), 0u)
      << k.errors.to_string();
  // Too many items is the array's fault: at the array.
  const auto many = with(base, "{ rate = \"C\" }",
                         "{ rate = \"C\" }, { rate = \"A\" }, { rate = \"B\" }, { rate = \"D\" }");
  const auto many_file = scratch.write("many.toml", many);
  auto n = load(sku, many_file, paths);
  EXPECT_EQ(n.errors.to_string().rfind(at(many_file, many, "[{ rate") + "quantities: has 5 items", 0), 0u)
      << n.errors.to_string();
}

// ---- files that cannot be read ------------------------------------------------------------

TEST(Config, AFileThatCannotBeReadSaysWhy) {
  Scratch scratch;
  const auto sku = kSource / "tests/config/good/sku.toml";
  const auto site = kSource / "tests/config/good/site.toml";
  const auto nothing = scratch.dir() / "nothing.toml";
  EXPECT_EQ(load(nothing, site, repo_paths()).errors.to_string(),
            nothing.string() + ": cannot be read: no such file\n");
  std::filesystem::create_directories(scratch.dir() / "site.toml");
  EXPECT_EQ(load(sku, scratch.dir() / "site.toml", repo_paths()).errors.to_string(),
            (scratch.dir() / "site.toml").string() + ": cannot be read: is a directory\n");
  // Both: one error each.
  EXPECT_EQ(load(nothing, scratch.dir(), repo_paths()).errors.size(), 2u);
}

TEST(Config, AFileWithoutReadPermissionSaysSo) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every file: no permission to deny";
  Scratch scratch;
  const auto sku = kSource / "tests/config/good/sku.toml";
  const auto site = kSource / "tests/config/good/site.toml";
  const auto locked = scratch.write("locked.toml", read(sku));
  std::filesystem::permissions(locked, std::filesystem::perms::none);
  EXPECT_EQ(load(locked, site, repo_paths()).errors.to_string(),
            locked.string() + ": cannot be read: permission denied\n");
}

}  // namespace
}  // namespace meter::kernel::config
