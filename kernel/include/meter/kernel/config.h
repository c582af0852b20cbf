// The meter's configuration: a board descriptor (the hardware), an SKU file (the OEM's product,
// fixed at the factory and sealed) and a site file (the utility's settings for one meter),
// layered and checked as a whole before anything starts.
//
//   board descriptor   boards/descriptors/<id>.toml   nameplate, ratings, service, hardware
//   SKU file           config/skus/<id>.toml          board, plugins and grants, display, legal
//   site file          config/sites/<id>.toml         time zone, each plugin's settings, simulation
//                                                     (the load, happenings, the seal switches)
//
// Every error is collected with file, line, column and the rule broken; unknown keys are
// errors. Plugin settings are checked against each plugin's manifest (<id>.toml beside its
// library), with the SKU's settings as defaults that the site's override key by key.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "meter/kernel/display.h"
#include "meter/kernel/events.h"
#include "meter/kernel/meter.h"
#include "meter/kernel/schema.h"

namespace meter::kernel::config {

const Schema& board_schema();
const Schema& sku_schema();
const Schema& site_schema();

/// Nameplate data (California 4 CCR 4027.2 S.4), readable as objects.
struct Nameplate {
  std::string manufacturer;
  std::string manufacturer_code;  ///< up to 4 characters (C12.19 ST-0/ST-1 MANUFACTURER)
  std::string type;
  std::string serial_number;
  double voltage_v = 0;
  double test_amperes_a = 0;
  std::string meter_class;     ///< "CL20", "CL200"
  std::string accuracy_class;  ///< "0.2S"
  double kh_wh = 0;
  double kt_wh = 0;
  double register_ratio = 1;
  double frequency_hz = 0;
  double elements = 0;  ///< 1, 1.5, 2, 2.5, 3
  std::int64_t wires = 0;
  std::string form;  ///< "1S", "2S", "12S", "9S"
  std::string transformer_ratio;  ///< empty unless transformer-rated
  double pkh_wh = 0;              ///< 0 unless transformer-rated
};

struct Ratings {
  double min_current_a = 0;
  double max_current_a = 0;
  double temperature_min_c = -40;
  double temperature_max_c = 85;
};

struct Hardware {
  std::int64_t relays = 0;
  bool test_led = true;
  std::int64_t lcd_digits = 6;
  bool optical_port = true;
  std::int64_t pulse_inputs = 0;
  std::int64_t comms_slots = 0;
  std::string nvm_medium = "sqlite";
  bool rtc = true;
  bool power_fail_detect = true;
  std::vector<SealKind> seal_switches;
};

enum class Fidelity : std::uint8_t { waveform = 1, chip };

struct BoardDescriptor {
  std::string id;
  std::string description;
  std::string driver;  ///< "sim" or "replay"
  std::string file;
  Nameplate nameplate;
  Ratings ratings;
  const ServiceConfiguration* service = nullptr;
  double creep_current_a = 0;
  double starting_current_a = 0;
  Fidelity fidelity = Fidelity::chip;
  std::uint32_t sample_rate_hz = 4000;
  MetrologyConfig metrology;  ///< scales, calibration, limits, creep: ready for the kernel
  Hardware hardware;
};

/// Where something was written: file, line and column (line 0: no place in the file).
struct Place {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

/// A plugin the SKU attaches, with its settings merged (SKU defaults, then the site's).
struct PluginEntry {
  std::string id;
  std::string version;
  std::vector<std::string> grants;
  toml::table settings;
  std::string settings_source;  ///< the file the settings came from, for errors
  Place place;                  ///< the SKU's [plugins.<id>]
  std::vector<Obis> objects;    ///< the objects its manifest says it provides
  bool legally_relevant = false;  ///< the SKU says the product's legal metrology depends on it
  std::string software_id;        ///< the approved library's SHA-256 (hex); empty: any signed
  /// Where each setting was written, by path ("seasons", "seasons[2]", "seasons[2].start";
  /// items count from 1): the site's over the SKU's, as the settings are merged.
  std::map<std::string, Place> setting_places;
  /// The place of setting `key` (a path the plugin named): the longest part of the path that
  /// was written in a file, else the plugin's entry in the SKU.
  const Place& place_of(std::string_view key) const;
};

struct Sku {
  std::string id;
  /// Where each of display.items was written, in order (the default list: the [display] table).
  std::vector<Place> display_item_places;
  std::string description;
  std::string board;
  std::string file;
  std::int64_t sealing_category = 1;
  Milliseconds tick{1000};
  std::uint32_t measurements_every = 5;
  bool optical_port_enabled = true;
  SecurityConfig security;  ///< [security], with the sealing category and the optical port
  DisplaySettings display;
  std::vector<PluginEntry> plugins;
};

/// A scheduled event of a simulated run (site file, [[simulation.happenings]]).
struct Happening {
  enum class Kind : std::uint8_t {
    power_failure = 1,
    voltage_sag,
    time_jump,
    seal_broken,   ///< one of the board's seal switches reads broken from `at` on
    seal_applied,  ///< ... reads sealed from `at` on
    /// The local button under the cover is held: the optical port is switched on again, which
    /// the gate allows only with the seal broken (seed 000).
    optical_port_button,
  };
  Kind kind = Kind::power_failure;
  UtcTime at{};
  Milliseconds length{};
  double sag_fraction = 1.0;
  Milliseconds jump{};
  bool rtc_lost = false;      ///< power-failure: the RTC's battery did not keep the time
  Milliseconds rtc_error{};   ///< power-failure: the RTC's error when power returns (+/-)
  SealKind seal = SealKind::cover;  ///< seal-broken, seal-applied: which of the board's switches
};

struct Simulation {
  std::string model = "residential";  ///< residential | residential-pv | commercial | replay
  std::uint64_t seed = 1;
  UtcTime start{};
  double pv_peak_w = 0;
  std::string replay_file;
  std::vector<Happening> happenings;
  /// The board's seal switches that read sealed when the run starts ([simulation.seals]); only
  /// switches the board descriptor lists may be named.
  std::vector<SealKind> sealed;
};

struct Site {
  std::string id;
  std::string description;
  std::string file;
  std::string time_zone = "UTC";
  std::string metering_point;
  Simulation simulation;
};

/// Everything a meter needs to start, checked.
struct Setup {
  BoardDescriptor board;
  Sku sku;
  Site site;
  MeterConfig meter;  ///< the kernel's part, assembled from board, SKU and site
  /// The meter settings comms modules put constraints on ("display.scroll_time_s" ...).
  toml::table meter_settings;
};

struct Paths {
  std::vector<std::filesystem::path> board_dirs;   ///< where <board>.toml is looked up
  std::vector<std::filesystem::path> plugin_dirs;  ///< where <plugin>.toml manifests are
};

/// Loads and checks board, SKU and site. Either a Setup or every error found (never both).
struct LoadResult {
  std::optional<Setup> setup;
  Diagnostics errors;
};
LoadResult load(const std::filesystem::path& sku_file, const std::filesystem::path& site_file,
                const Paths& paths);

/// The ids of the plugins an SKU file carries, in the file's order, read from the SKU alone (no
/// manifest, board or site needed): what a build must make before the SKU can run.
std::vector<std::string> sku_plugin_ids(const std::filesystem::path& sku_file, Diagnostics& out);

/// Loads and checks one board descriptor.
std::optional<BoardDescriptor> load_board(const std::filesystem::path& file, Diagnostics& out);

/// The configuration reference (docs/configuration.md), generated from the schemas.
std::string reference_markdown();

}  // namespace meter::kernel::config
