// Board descriptors, SKU and site files: their schemas, and the loader that checks them as a
// whole and assembles the kernel's configuration.
#include "meter/kernel/config.h"

#include <date/date.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <sstream>

#include "meter/sdk/manifest.h"

namespace meter::kernel::config {

namespace {

std::vector<std::string_view> service_ids() {
  std::vector<std::string_view> ids;
  for (const auto& s : service_configurations()) ids.push_back(s.id);
  return ids;
}

// ---- board descriptor ------------------------------------------------------------------

const Schema kBoardSection{
    "board section", "What the board is and which driver runs it.",
    {{.key = "id", .type = FieldType::text, .description = "board id, the file's name", .required = true, .min = 1},
     {.key = "description", .type = FieldType::text, .description = "free text"},
     {.key = "driver", .type = FieldType::text, .description = "what feeds the kernel its signal", .required = true, .allowed = {"sim", "replay"}}}};

const Schema kNameplate{
    "nameplate", "Nameplate data (4 CCR 4027.2 S.4); readable as objects.",
    {{.key = "manufacturer", .type = FieldType::text, .description = "manufacturer's name or trademark", .required = true, .min = 1},
     {.key = "type", .type = FieldType::text, .description = "type designation", .required = true, .min = 1},
     {.key = "manufacturer_code", .type = FieldType::text, .description = "the manufacturer's code of up to 4 characters, as the optical port's tables (ANSI C12.19 ST-0, ST-1) carry it", .min = 1, .max = 4, .unit = "characters"},
     {.key = "serial_number", .type = FieldType::text, .description = "non-repetitive serial number (written per unit at the factory)", .required = true, .min = 1},
     {.key = "voltage_v", .type = FieldType::real, .description = "AC voltage rating", .required = true, .min = 1, .max = 1000, .unit = "V"},
     {.key = "test_amperes_a", .type = FieldType::real, .description = "test amperes (TA)", .required = true, .min = 0.001, .max = 1000, .unit = "A"},
     {.key = "meter_class", .type = FieldType::text, .description = "meter class (CL), e.g. CL20, CL200", .required = true, .min = 1},
     {.key = "accuracy_class", .type = FieldType::text, .description = "accuracy class", .required = true, .allowed = {"0.1", "0.2", "0.2S", "0.5", "0.5S", "1", "2"}},
     {.key = "kh_wh", .type = FieldType::real, .description = "watthour constant Kh, per test LED pulse", .required = true, .min = 0.001, .max = 1000, .unit = "Wh"},
     {.key = "kt_wh", .type = FieldType::real, .description = "watthour test constant Kt", .min = 0.001, .max = 1000, .unit = "Wh", .default_text = "kh_wh"},
     {.key = "register_ratio", .type = FieldType::real, .description = "register ratio Rr", .min = 1, .max = 100000, .default_text = "1"},
     {.key = "frequency_hz", .type = FieldType::real, .description = "frequency rating", .required = true, .min = 50, .max = 60, .unit = "Hz"},
     {.key = "elements", .type = FieldType::real, .description = "number of elements (1, 1.5, 2, 2.5, 3)", .required = true, .min = 1, .max = 3},
     {.key = "wires", .type = FieldType::integer, .description = "number of wires (W)", .required = true, .min = 2, .max = 4},
     {.key = "form", .type = FieldType::text, .description = "form designation (FM), e.g. 1S, 2S, 12S, 9S", .required = true, .min = 1},
     {.key = "transformer_ratio", .type = FieldType::text, .description = "instrument transformer ratio (transformer-rated meters)"},
     {.key = "pkh_wh", .type = FieldType::real, .description = "primary watthour constant PKh (transformer-rated meters)", .min = 0.001, .unit = "Wh"}}};

const Schema kRatings{
    "ratings", "What the meter is rated for.",
    {{.key = "min_current_a", .type = FieldType::real, .description = "lowest rated current", .required = true, .min = 0.001, .max = 1000, .unit = "A"},
     {.key = "max_current_a", .type = FieldType::real, .description = "highest rated current (Imax)", .required = true, .min = 0.01, .max = 1000, .unit = "A"},
     {.key = "temperature_min_c", .type = FieldType::real, .description = "lowest operating temperature", .min = -60, .max = 85, .unit = "°C", .default_text = "-40"},
     {.key = "temperature_max_c", .type = FieldType::real, .description = "highest operating temperature", .min = -20, .max = 125, .unit = "°C", .default_text = "85"}}};

const Schema kService{
    "service", "How the meter is connected.",
    {{.key = "configuration", .type = FieldType::text, .description = "service configuration (Measurement Canada AE-1559 numbering)", .required = true, .allowed = service_ids()},
     {.key = "creep_current_a", .type = FieldType::real, .description = "an element below this current registers nothing (no-load)", .required = true, .min = 0, .max = 10, .unit = "A"},
     {.key = "starting_current_a", .type = FieldType::real, .description = "the meter registers from this current", .required = true, .min = 0.0001, .max = 10, .unit = "A"}}};

const Schema kCalibration{
    "calibration", "Per-element calibration, in element order.",
    {{.key = "voltage_gain", .type = FieldType::real, .description = "voltage gain", .min = 0.5, .max = 2, .default_text = "1"},
     {.key = "current_gain", .type = FieldType::real, .description = "current gain", .min = 0.5, .max = 2, .default_text = "1"},
     {.key = "phase_deg", .type = FieldType::real, .description = "sensor phase lag of the current, removed", .min = -45, .max = 45, .unit = "°", .default_text = "0"},
     {.key = "power_offset_w", .type = FieldType::real, .description = "subtracted from the element's active power", .min = -100, .max = 100, .unit = "W", .default_text = "0"}}};

const Schema kBoardMetrology{
    "metrology", "How the board measures.",
    {{.key = "fidelity", .type = FieldType::text, .description = "sample blocks (waveform) or per-tick accumulator readings (chip)", .allowed = {"waveform", "chip"}, .default_text = "chip"},
     {.key = "sample_rate_hz", .type = FieldType::integer, .description = "ADC sample rate (waveform)", .min = 2000, .max = 32000, .unit = "Hz", .default_text = "4000"},
     {.key = "volts_per_code", .type = FieldType::real, .description = "voltage ADC scale", .min = 1e-6, .max = 1, .unit = "V", .default_text = "0.02"},
     {.key = "amps_per_code", .type = FieldType::real, .description = "current ADC scale", .min = 1e-7, .max = 1, .unit = "A", .default_text = "0.01"},
     {.key = "energy_nwh_per_lsb", .type = FieldType::real, .description = "metering chip energy LSB (chip)", .min = 1e-3, .max = 1e9, .unit = "nWh", .default_text = "1000"},
     {.key = "calibration", .type = FieldType::table_array, .description = "one table per element", .max = 3, .nested = &kCalibration}}};

const Schema kHardware{
    "hardware", "What the board has.",
    {{.key = "relays", .type = FieldType::integer, .description = "service disconnect relays", .min = 0, .max = 4, .default_text = "0"},
     {.key = "test_led", .type = FieldType::boolean, .description = "a test (calibration) LED", .default_text = "true"},
     {.key = "lcd_digits", .type = FieldType::integer, .description = "digits of the LCD", .min = 4, .max = 10, .default_text = "6"},
     {.key = "optical_port", .type = FieldType::boolean, .description = "an optical configuration port", .default_text = "true"},
     {.key = "pulse_inputs", .type = FieldType::integer, .description = "pulse inputs (gas, water meters)", .min = 0, .max = 8, .default_text = "0"},
     {.key = "comms_slots", .type = FieldType::integer, .description = "slots for communication modules", .min = 0, .max = 4, .default_text = "0"},
     {.key = "nvm_medium", .type = FieldType::text, .description = "nonvolatile memory", .allowed = {"sqlite", "ram"}, .default_text = "sqlite"},
     {.key = "rtc", .type = FieldType::boolean, .description = "a battery-backed real-time clock; without one the meter powers up not knowing the time (TOU bills the default tier until a time is set)", .default_text = "true"},
     {.key = "power_fail_detect", .type = FieldType::boolean, .description = "early power-fail warning", .default_text = "true"},
     {.key = "seal_switches", .type = FieldType::text_array, .description = "seal switches the board reads", .allowed = {"cover", "programming-jumper", "optical-plug"}}}};

const Schema kBoard{
    "board descriptor",
    "A board is the hardware a kernel runs on: `boards/descriptors/<id>.toml`.",
    {{.key = "board", .type = FieldType::table, .description = "identity and driver", .required = true, .nested = &kBoardSection},
     {.key = "nameplate", .type = FieldType::table, .description = "nameplate", .required = true, .nested = &kNameplate},
     {.key = "ratings", .type = FieldType::table, .description = "ratings", .required = true, .nested = &kRatings},
     {.key = "service", .type = FieldType::table, .description = "service", .required = true, .nested = &kService},
     {.key = "metrology", .type = FieldType::table, .description = "metrology front end", .nested = &kBoardMetrology},
     {.key = "hardware", .type = FieldType::table, .description = "hardware", .nested = &kHardware}}};

// ---- SKU ---------------------------------------------------------------------------------

const Schema kSkuSection{
    "sku section", "The product.",
    {{.key = "id", .type = FieldType::text, .description = "product id", .required = true, .min = 1},
     {.key = "description", .type = FieldType::text, .description = "free text"},
     {.key = "board", .type = FieldType::text, .description = "board descriptor id (boards/descriptors/<id>.toml)", .required = true, .min = 1},
     {.key = "sealing_category", .type = FieldType::integer, .description = "4 CCR 4027.2 table S.3.1 category", .required = true, .min = 1, .max = 3}}};

const Schema kSkuMetrology{
    "metrology", "The kernel's pace.",
    {{.key = "tick_s", .type = FieldType::integer, .description = "metrology tick", .min = 1, .max = 60, .unit = "s", .default_text = "1"},
     {.key = "measurements_every", .type = FieldType::integer, .description = "publish instantaneous values every N ticks", .min = 1, .max = 3600, .default_text = "5"}}};

const Schema kDisplay{
    "display", "The LCD's scroll list.",
    {{.key = "items", .type = FieldType::text_array, .description = "OBIS codes, or segment-test, firmware, software-id", .min = 1, .max = 64},
     {.key = "scroll_time_s", .type = FieldType::integer, .description = "time each item is shown", .min = 1, .max = 60, .unit = "s", .default_text = "6"},
     {.key = "multiplier", .type = FieldType::integer, .description = "display multiplier N: displayed energy only, never the registers", .min = 1, .max = 240, .default_text = "1"},
     {.key = "digits", .type = FieldType::integer, .description = "digits shown for energy (at most the board's LCD)", .min = 4, .max = 10, .default_text = "6"},
     {.key = "decimals", .type = FieldType::integer, .description = "decimals shown for energy in kWh", .min = 0, .max = 3, .default_text = "1"},
     {.key = "metering_point", .type = FieldType::text, .description = "label of the metering point, when one display serves several"}}};

const Schema kOpticalPort{
    "optical port", "The optical configuration port.",
    {{.key = "enabled", .type = FieldType::boolean, .description = "false disables it for good: re-enabling needs the seal broken", .default_text = "true"}}};

const Schema kSecurity{
    "security", "Logons at the ports: password hashes, never passwords, and the lockout after failed logons.",
    {{.key = "reader_password_hash", .type = FieldType::text, .description = "argon2id hash (libsodium crypto_pwhash_str) of the reader's password, made with `meterd --hash-password`; absent: no reader logon"},
     {.key = "configurator_password_hash", .type = FieldType::text, .description = "the same for the configurator (configuration parameters, billing reset and preset)"},
     {.key = "calibrator_password_hash", .type = FieldType::text, .description = "the same for the calibrator (calibration parameters, breaking the electronic seal)"},
     {.key = "max_failed_logons", .type = FieldType::integer, .description = "consecutive failed logons that lock a port", .min = 1, .max = 20, .default_text = "3"},
     {.key = "lockout_s", .type = FieldType::integer, .description = "how long a locked port refuses every logon", .min = 1, .max = 604800, .unit = "s", .default_text = "900"},
     {.key = "sealable", .type = FieldType::text_array, .description = "tariff parameters (OBIS codes: switch points, calendars, tier override, clock) this product seals; the others are counted and recorded but writable while sealed"},
     {.key = "remote_billing_reset", .type = FieldType::boolean, .description = "billing reset and preset (0-0:128.7.1, 0-0:128.7.2) also through comms; false: only on site, at the optical port", .default_text = "false"}}};

const Schema kSkuPlugin{
    "plugin entry", "A plugin the product carries.",
    {{.key = "version", .type = FieldType::text, .description = "exact version required; empty accepts the installed one"},
     {.key = "grants", .type = FieldType::text_array, .description = "capabilities granted (relay, write:tariff-registers, …)"},
     {.key = "legally_relevant", .type = FieldType::boolean, .description = "the product's legal metrology depends on it: it must be signed by a trusted key and declare itself legally relevant, or the meter does not start (a meter in service meters on with a latched legal fault)", .default_text = "false"},
     {.key = "software_id", .type = FieldType::text, .description = "the SHA-256 (64 hex digits) of the library as approved; any other build is refused"},
     {.key = "settings", .type = FieldType::any_table, .description = "factory defaults for the plugin's settings, checked against its manifest"}}};

const Schema kSku{
    "SKU file",
    "An OEM's product, fixed at the factory and sealed: `config/skus/<id>.toml`.",
    {{.key = "sku", .type = FieldType::table, .description = "identity", .required = true, .nested = &kSkuSection},
     {.key = "metrology", .type = FieldType::table, .description = "kernel pace", .nested = &kSkuMetrology},
     {.key = "display", .type = FieldType::table, .description = "display", .nested = &kDisplay},
     {.key = "optical_port", .type = FieldType::table, .description = "optical port", .nested = &kOpticalPort},
     {.key = "security", .type = FieldType::table, .description = "port logons", .nested = &kSecurity},
     {.key = "plugins", .type = FieldType::table_map, .description = "plugins by id", .nested = &kSkuPlugin}}};

// ---- site --------------------------------------------------------------------------------

const Schema kSiteSection{
    "site section", "Where the meter is.",
    {{.key = "id", .type = FieldType::text, .description = "site or premise id", .required = true, .min = 1},
     {.key = "description", .type = FieldType::text, .description = "free text"},
     {.key = "time_zone", .type = FieldType::text, .description = "IANA time zone of the site", .required = true, .min = 1},
     {.key = "metering_point", .type = FieldType::text, .description = "metering point id"}}};

const Schema kHappening{
    "happening", "A scheduled event of a simulated run.",
    {{.key = "kind", .type = FieldType::text, .description = "what happens; seal-broken and seal-applied change one of the board's seal switches; optical-port-button holds the local button under the cover, which switches a disabled optical port on again (only with the seal broken)", .required = true, .allowed = {"power-failure", "voltage-sag", "time-jump", "seal-broken", "seal-applied", "optical-port-button"}},
     {.key = "at", .type = FieldType::date_time, .description = "when it starts", .required = true},
     {.key = "length_s", .type = FieldType::integer, .description = "outage or sag length", .min = 1, .max = 31536000, .unit = "s"},
     {.key = "sag_fraction", .type = FieldType::real, .description = "voltage during a sag", .min = 0.05, .max = 1, .default_text = "0.7"},
     {.key = "jump_s", .type = FieldType::integer, .description = "how far the clock jumps (negative: back)", .min = -31536000, .max = 31536000, .unit = "s"},
     {.key = "rtc_lost", .type = FieldType::boolean, .description = "power-failure: the board's clock lost the time in the outage (a drained battery); the meter powers up not knowing the time", .default_text = "false"},
     {.key = "rtc_error_s", .type = FieldType::integer, .description = "power-failure: how far the board's clock is off when the power returns (negative: behind, a clock that went backwards)", .min = -31536000, .max = 31536000, .unit = "s"},
     {.key = "seal", .type = FieldType::text, .description = "seal-broken, seal-applied: which seal switch (one the board descriptor lists)", .allowed = {"cover", "programming-jumper", "optical-plug"}}}};

const Schema kSimulationSeals{
    "seals",
    "What the simulated board's seal switches read when the run starts (true: sealed). Only "
    "switches the board descriptor lists in `hardware.seal_switches` may be named; a real board "
    "reads them from its hardware.",
    {{.key = "cover", .type = FieldType::boolean, .description = "the cover seal", .default_text = "false"},
     {.key = "programming-jumper", .type = FieldType::boolean, .description = "the programming jumper in its sealed position", .default_text = "false"},
     {.key = "optical-plug", .type = FieldType::boolean, .description = "the optical port sealing plug fitted", .default_text = "false"}}};

const Schema kSimulation{
    "simulation", "The load a simulated board (sim, replay) feeds.",
    {{.key = "model", .type = FieldType::text, .description = "load model", .allowed = {"residential", "residential-pv", "commercial", "replay"}, .default_text = "residential"},
     {.key = "seed", .type = FieldType::integer, .description = "seed of the load model", .min = 0, .default_text = "1"},
     {.key = "start", .type = FieldType::date_time, .description = "when the simulated run starts", .default_text = "2026-01-01T00:00:00Z"},
     {.key = "pv_peak_w", .type = FieldType::real, .description = "rooftop PV peak output", .min = 0, .max = 100000, .unit = "W", .default_text = "0"},
     {.key = "replay_file", .type = FieldType::text, .description = "CSV to replay (model replay), relative to the site file"},
     {.key = "seals", .type = FieldType::table, .description = "the seal switches at the start", .nested = &kSimulationSeals},
     {.key = "happenings", .type = FieldType::table_array, .description = "power failures, sags, time jumps, seals broken or applied", .max = 10000, .nested = &kHappening}}};

const Schema kSite{
    "site file",
    "A utility's settings for one meter: `config/sites/<id>.toml`. Each `[plugins.<id>]` table "
    "holds that plugin's settings, checked against its manifest.",
    {{.key = "site", .type = FieldType::table, .description = "identity and time zone", .required = true, .nested = &kSiteSection},
     {.key = "plugins", .type = FieldType::any_table, .description = "each plugin's settings by plugin id, checked against its manifest"},
     {.key = "simulation", .type = FieldType::table, .description = "simulated load", .nested = &kSimulation}}};

// ---- extraction --------------------------------------------------------------------------

template <class T>
T get(const toml::table& t, std::string_view path, T fallback) {
  return t.at_path(path).value<T>().value_or(fallback);
}

std::string text(const toml::table& t, std::string_view path, std::string fallback = {}) {
  return t.at_path(path).value<std::string>().value_or(std::move(fallback));
}

UtcTime to_utc(const toml::date_time& dt) {
  const auto days = date::sys_days{date::year{dt.date.year} / dt.date.month / dt.date.day};
  const auto tod = std::chrono::hours{dt.time.hour} + std::chrono::minutes{dt.time.minute} +
                   std::chrono::seconds{dt.time.second};
  const auto offset = std::chrono::minutes{dt.offset ? dt.offset->minutes : 0};
  return UtcTime{std::chrono::duration_cast<Milliseconds>(days.time_since_epoch() + tod - offset)};
}

std::int64_t wires_of(const ServiceConfiguration& s) {
  const auto w = s.id.find('w');
  return w == std::string_view::npos || w == 0 ? 0 : s.id[w - 1] - '0';
}

SealKind seal_kind(std::string_view s) {
  if (s == "cover") return SealKind::cover;
  if (s == "programming-jumper") return SealKind::programming_jumper;
  return SealKind::optical_plug;
}

constexpr std::array<std::string_view, 3> kSealSwitchNames{"cover", "programming-jumper",
                                                           "optical-plug"};

BoardDescriptor extract_board(const toml::table& t, const std::string& file, Diagnostics& out) {
  BoardDescriptor b;
  b.file = file;
  b.id = text(t, "board.id");
  b.description = text(t, "board.description");
  b.driver = text(t, "board.driver");
  auto& n = b.nameplate;
  n.manufacturer = text(t, "nameplate.manufacturer");
  n.type = text(t, "nameplate.type");
  n.manufacturer_code = text(t, "nameplate.manufacturer_code");
  n.serial_number = text(t, "nameplate.serial_number");
  n.voltage_v = get(t, "nameplate.voltage_v", 0.0);
  n.test_amperes_a = get(t, "nameplate.test_amperes_a", 0.0);
  n.meter_class = text(t, "nameplate.meter_class");
  n.accuracy_class = text(t, "nameplate.accuracy_class");
  n.kh_wh = get(t, "nameplate.kh_wh", 1.0);
  n.kt_wh = get(t, "nameplate.kt_wh", n.kh_wh);
  n.register_ratio = get(t, "nameplate.register_ratio", 1.0);
  n.frequency_hz = get(t, "nameplate.frequency_hz", 60.0);
  n.elements = get(t, "nameplate.elements", 1.0);
  n.wires = get<std::int64_t>(t, "nameplate.wires", 2);
  n.form = text(t, "nameplate.form");
  n.transformer_ratio = text(t, "nameplate.transformer_ratio");
  n.pkh_wh = get(t, "nameplate.pkh_wh", 0.0);
  if (const auto* node = t.at_path("nameplate.elements").node(); node && node->is_number()) {
    constexpr std::array<double, 5> kElements{1, 1.5, 2, 2.5, 3};
    if (std::find(kElements.begin(), kElements.end(), n.elements) == kElements.end()) {
      out.add(file, node, fmt::format("'nameplate.elements' is {}; it must be 1, 1.5, 2, 2.5 or 3",
                                      n.elements));
    }
  }
  auto& r = b.ratings;
  r.min_current_a = get(t, "ratings.min_current_a", 0.0);
  r.max_current_a = get(t, "ratings.max_current_a", 0.0);
  r.temperature_min_c = get(t, "ratings.temperature_min_c", -40.0);
  r.temperature_max_c = get(t, "ratings.temperature_max_c", 85.0);
  if (r.temperature_min_c > r.temperature_max_c) {
    const auto* min_node = t.at_path("ratings.temperature_min_c").node();
    out.add(file, min_node != nullptr ? min_node : t.at_path("ratings.temperature_max_c").node(),
            fmt::format("'ratings.temperature_min_c' ({} °C) must not be above "
                        "'ratings.temperature_max_c' ({} °C)",
                        r.temperature_min_c, r.temperature_max_c));
  }
  b.creep_current_a = get(t, "service.creep_current_a", 0.0);
  b.starting_current_a = get(t, "service.starting_current_a", 0.0);
  b.fidelity = text(t, "metrology.fidelity", "chip") == "waveform" ? Fidelity::waveform : Fidelity::chip;
  b.sample_rate_hz = static_cast<std::uint32_t>(get<std::int64_t>(t, "metrology.sample_rate_hz", 4000));
  auto& h = b.hardware;
  h.relays = get<std::int64_t>(t, "hardware.relays", 0);
  h.test_led = get(t, "hardware.test_led", true);
  h.lcd_digits = get<std::int64_t>(t, "hardware.lcd_digits", 6);
  h.optical_port = get(t, "hardware.optical_port", true);
  h.pulse_inputs = get<std::int64_t>(t, "hardware.pulse_inputs", 0);
  h.comms_slots = get<std::int64_t>(t, "hardware.comms_slots", 0);
  h.nvm_medium = text(t, "hardware.nvm_medium", "sqlite");
  h.rtc = get(t, "hardware.rtc", true);
  h.power_fail_detect = get(t, "hardware.power_fail_detect", true);
  if (const auto* seals = t.at_path("hardware.seal_switches").as_array()) {
    for (const auto& s : *seals) h.seal_switches.push_back(seal_kind(s.value_or(std::string())));
  }

  const auto* service_node = t.at_path("service.configuration").node();
  if (auto svc = find_service(text(t, "service.configuration")); svc) {
    b.service = *svc;
    if (wires_of(*b.service) != n.wires) {
      out.add(file, t.at_path("nameplate.wires").node(),
              fmt::format("'nameplate.wires' is {} but service {} has {} wires", n.wires,
                          b.service->id, wires_of(*b.service)));
    }
  } else if (service_node == nullptr) {
    return b;  // the schema reported the missing key
  }
  if (r.min_current_a >= r.max_current_a) {
    out.add(file, t.at_path("ratings.min_current_a").node(),
            fmt::format("'ratings.min_current_a' ({} A) must be below 'ratings.max_current_a' ({} A)",
                        r.min_current_a, r.max_current_a));
  }
  if (b.creep_current_a >= b.starting_current_a) {
    out.add(file, t.at_path("service.creep_current_a").node(),
            fmt::format("'service.creep_current_a' ({} A) must be below 'service.starting_current_a' "
                        "({} A), or the meter could not start",
                        b.creep_current_a, b.starting_current_a));
  }
  if (const auto* cal = t.at_path("metrology.calibration").as_array();
      cal && b.service && cal->size() > b.service->elements) {
    out.add(file, cal, fmt::format("'metrology.calibration' has {} entries; service {} has {} elements",
                                   cal->size(), b.service->id, b.service->elements));
  }

  auto& m = b.metrology;
  m.service = b.service;
  m.channel_count = b.service ? b.service->channels() : 0;
  m.nominal_frequency_hz = n.frequency_hz;
  m.volts_per_code.fill(get(t, "metrology.volts_per_code", 0.02));
  m.amps_per_code.fill(get(t, "metrology.amps_per_code", 0.01));
  m.energy_nwh_per_lsb = get(t, "metrology.energy_nwh_per_lsb", 1000.0);
  m.voltage_limit_v = n.voltage_v * 2.5;
  m.current_limit_a = r.max_current_a * 2.0;
  m.creep_current_a = b.creep_current_a;
  if (const auto* cal = t.at_path("metrology.calibration").as_array()) {
    for (std::size_t e = 0; e < cal->size() && e < kMaxElements; ++e) {
      const auto& c = *cal->get(e)->as_table();
      m.calibration[e] = {get(c, "voltage_gain", 1.0), get(c, "current_gain", 1.0),
                          get(c, "phase_deg", 0.0), get(c, "power_offset_w", 0.0)};
    }
  }
  return b;
}

std::optional<DisplayItem> display_item(std::string_view s) {
  if (s == "segment-test") return DisplayItem{DisplayItem::Kind::segment_test, {}, std::string(s)};
  if (s == "firmware") return DisplayItem{DisplayItem::Kind::firmware_version, {}, std::string(s)};
  if (s == "software-id") return DisplayItem{DisplayItem::Kind::software_id, {}, std::string(s)};
  if (auto id = Obis::parse(s)) return DisplayItem{DisplayItem::Kind::object, *id, std::string(s)};
  return std::nullopt;
}

Sku extract_sku(const toml::table& t, const std::string& file, Diagnostics& out) {
  Sku s;
  s.file = file;
  s.id = text(t, "sku.id");
  s.description = text(t, "sku.description");
  s.board = text(t, "sku.board");
  s.sealing_category = get<std::int64_t>(t, "sku.sealing_category", 1);
  s.tick = std::chrono::seconds{get<std::int64_t>(t, "metrology.tick_s", 1)};
  s.measurements_every = static_cast<std::uint32_t>(get<std::int64_t>(t, "metrology.measurements_every", 5));
  s.optical_port_enabled = get(t, "optical_port.enabled", true);
  auto& sec = s.security;
  sec.sealing_category = s.sealing_category;
  sec.optical_port_enabled = s.optical_port_enabled;
  sec.reader_password_hash = text(t, "security.reader_password_hash");
  sec.configurator_password_hash = text(t, "security.configurator_password_hash");
  sec.calibrator_password_hash = text(t, "security.calibrator_password_hash");
  sec.max_failed_logons = static_cast<std::uint32_t>(get<std::int64_t>(t, "security.max_failed_logons", 3));
  sec.lockout = std::chrono::seconds{get<std::int64_t>(t, "security.lockout_s", 900)};
  sec.remote_billing_reset = get(t, "security.remote_billing_reset", false);
  if (const auto* sealable = t.at_path("security.sealable").as_array()) {
    for (const auto& node : *sealable) {
      const auto code = node.value_or(std::string());
      if (auto id = Obis::parse(code)) {
        sec.sealable.push_back(*id);
      } else if (node.is_string()) {
        out.add(file, &node, fmt::format("sealable parameter \"{}\" is not an OBIS code "
                                         "(0-0:13.0.1)", code));
      }
    }
  }
  for (const char* key : {"security.reader_password_hash", "security.configurator_password_hash",
                          "security.calibrator_password_hash"}) {
    const auto hash = text(t, key);
    if (!hash.empty() && hash.rfind("$argon2id$", 0) != 0 && hash.rfind("$argon2i$", 0) != 0) {
      out.add(file, t.at_path(key).node(),
              fmt::format("'{}' is not a password hash ($argon2id$...): ship hashes made with "
                          "`meterd --hash-password`, never passwords",
                          key));
    }
  }
  auto& d = s.display;
  d.scroll_time = std::chrono::seconds{get<std::int64_t>(t, "display.scroll_time_s", 6)};
  d.multiplier = get<std::int64_t>(t, "display.multiplier", 1);
  d.digits = get<std::int64_t>(t, "display.digits", 6);
  d.decimals = get<std::int64_t>(t, "display.decimals", 1);
  d.metering_point = text(t, "display.metering_point");
  if (const auto* items = t.at_path("display.items").as_array()) {
    for (const auto& node : *items) {
      const auto str = node.value_or(std::string());
      if (auto item = display_item(str)) {
        d.items.push_back(*item);
        s.display_item_places.push_back({file, node.source().begin.line, node.source().begin.column});
      } else if (node.is_string()) {
        out.add(file, &node, fmt::format("display item \"{}\" is neither an OBIS code (1-0:1.8.0) "
                                         "nor segment-test, firmware or software-id", str));
      }
    }
  } else {
    const auto* display = t.get("display");
    const Place where = display != nullptr ? Place{file, display->source().begin.line,
                                                   display->source().begin.column}
                                           : Place{file, 0, 0};
    for (const char* id : {"1-0:1.8.0", "1-0:2.8.0", "1-0:16.8.0", "segment-test", "firmware"}) {
      d.items.push_back(*display_item(id));
      s.display_item_places.push_back(where);
    }
  }
  if (const auto* plugins = t["plugins"].as_table()) {
    for (const auto& [id, node] : *plugins) {
      const auto* p = node.as_table();
      if (p == nullptr) continue;  // the schema reported it
      PluginEntry e;
      e.id = std::string(id.str());
      e.version = text(*p, "version");
      if (const auto* grants = (*p)["grants"].as_array()) {
        for (const auto& g : *grants) e.grants.push_back(g.value_or(std::string()));
      }
      if (const auto* settings = (*p)["settings"].as_table()) e.settings = *settings;
      e.legally_relevant = (*p)["legally_relevant"].value_or(false);
      if (const auto* id_node = p->get("software_id"); id_node != nullptr && id_node->is_string()) {
        e.software_id = id_node->value_or(std::string());
        const bool hex = e.software_id.size() == 64 &&
                         std::all_of(e.software_id.begin(), e.software_id.end(), [](char c) {
                           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                         });
        if (!hex) {
          out.add(file, id_node, fmt::format("'plugins.{}.software_id' is \"{}\"; it must be the "
                                             "library's SHA-256 as 64 lower-case hex digits",
                                             e.id, e.software_id));
        }
      }
      e.settings_source = file;
      s.plugins.push_back(std::move(e));
    }
  }
  return s;
}

Site extract_site(const toml::table& t, const std::string& file, Diagnostics& out) {
  Site s;
  s.file = file;
  s.id = text(t, "site.id");
  s.description = text(t, "site.description");
  s.time_zone = text(t, "site.time_zone", "UTC");
  s.metering_point = text(t, "site.metering_point");
  if (const auto* tz = t.at_path("site.time_zone").node(); tz && tz->is_string()) {
    if (auto zone = Clock::locate_zone(s.time_zone); !zone) {
      out.add(file, tz, fmt::format("'site.time_zone' is \"{}\", which is not an IANA time zone "
                                    "(e.g. America/Toronto)", s.time_zone));
    }
  }
  auto& sim = s.simulation;
  sim.model = text(t, "simulation.model", "residential");
  sim.seed = static_cast<std::uint64_t>(get<std::int64_t>(t, "simulation.seed", 1));
  sim.pv_peak_w = get(t, "simulation.pv_peak_w", 0.0);
  sim.start = UtcTime{std::chrono::duration_cast<Milliseconds>(
      date::sys_days{date::year{2026} / 1 / 1}.time_since_epoch())};
  if (auto start = t.at_path("simulation.start").value<toml::date_time>(); start && start->offset) {
    sim.start = to_utc(*start);
  }
  if (auto replay = t.at_path("simulation.replay_file").value<std::string>()) {
    sim.replay_file = (std::filesystem::path(file).parent_path() / *replay).string();
  }
  for (const auto name : kSealSwitchNames) {
    if (get(t, fmt::format("simulation.seals.{}", name), false)) {
      sim.sealed.push_back(seal_kind(name));
    }
  }
  if (sim.model == "replay" && sim.replay_file.empty()) {
    out.add(file, t.at_path("simulation.model").node(),
            "'simulation.model' is \"replay\" but 'simulation.replay_file' is not set");
  }
  if (const auto* list = t.at_path("simulation.happenings").as_array()) {
    for (const auto& node : *list) {
      const auto* h = node.as_table();
      if (h == nullptr) continue;
      Happening e;
      const auto kind = text(*h, "kind");
      e.kind = kind == "voltage-sag"    ? Happening::Kind::voltage_sag
               : kind == "time-jump"    ? Happening::Kind::time_jump
               : kind == "seal-broken"  ? Happening::Kind::seal_broken
               : kind == "seal-applied" ? Happening::Kind::seal_applied
               : kind == "optical-port-button" ? Happening::Kind::optical_port_button
                                        : Happening::Kind::power_failure;
      if (auto at = (*h)["at"].value<toml::date_time>(); at && at->offset) e.at = to_utc(*at);
      e.length = std::chrono::seconds{get<std::int64_t>(*h, "length_s", 0)};
      e.sag_fraction = get(*h, "sag_fraction", 0.7);
      e.jump = std::chrono::seconds{get<std::int64_t>(*h, "jump_s", 0)};
      e.rtc_lost = get(*h, "rtc_lost", false);
      e.rtc_error = std::chrono::seconds{get<std::int64_t>(*h, "rtc_error_s", 0)};
      for (const char* key : {"rtc_lost", "rtc_error_s"}) {
        if (const auto* node = h->get(key); node && e.kind != Happening::Kind::power_failure) {
          out.add(file, node, fmt::format("'{}' describes the board's clock after an outage; "
                                          "a {} has none", key, kind));
        }
      }
      const bool seal = e.kind == Happening::Kind::seal_broken ||
                        e.kind == Happening::Kind::seal_applied;
      const bool needs_length = e.kind == Happening::Kind::power_failure ||
                                e.kind == Happening::Kind::voltage_sag;
      if (needs_length && e.length.count() == 0) {
        out.add(file, h, fmt::format("a {} needs 'length_s'", kind));
      }
      if (e.kind == Happening::Kind::time_jump && e.jump.count() == 0) {
        out.add(file, h, "a time-jump needs 'jump_s'");
      }
      if (const auto* which = h->get("seal")) {
        if (!seal) {
          out.add(file, which, fmt::format("'seal' names a seal switch for a seal-broken or "
                                           "seal-applied; a {} has none", kind));
        }
        e.seal = seal_kind(which->value_or(std::string()));
      } else if (seal) {
        out.add(file, h, fmt::format("a {} needs 'seal' (cover, programming-jumper or "
                                     "optical-plug)", kind));
      }
      sim.happenings.push_back(e);
    }
  }
  return s;
}

// A seal switch can be set or broken in a simulated run only when the board has it: a site
// that names another is refused where it names it.
void check_seal_switches(const Setup& setup, const toml::table& site, Diagnostics& out) {
  const auto& fitted = setup.board.hardware.seal_switches;
  auto has = [&fitted](SealKind k) {
    return std::find(fitted.begin(), fitted.end(), k) != fitted.end();
  };
  std::string list;
  for (const auto name : kSealSwitchNames) {
    if (has(seal_kind(name))) list += (list.empty() ? "" : ", ") + std::string(name);
  }
  const auto its = list.empty() ? std::string("it has none") : "its seal switches: " + list;
  if (const auto* seals = site.at_path("simulation.seals").as_table()) {
    for (const auto& [key, node] : *seals) {
      if (!has(seal_kind(key.str()))) {
        out.add(setup.site.file, &node,
                fmt::format("'simulation.seals.{}': board '{}' has no {} seal switch ({})",
                            key.str(), setup.board.id, key.str(), its));
      }
    }
  }
  if (const auto* list_node = site.at_path("simulation.happenings").as_array()) {
    for (std::size_t i = 0; i < list_node->size(); ++i) {
      const auto* h = list_node->get(i)->as_table();
      const auto* which = h != nullptr ? h->get("seal") : nullptr;
      if (which == nullptr) continue;
      const auto name = which->value_or(std::string());
      if (!has(seal_kind(name))) {
        out.add(setup.site.file, which,
                fmt::format("'simulation.happenings[{}].seal' is \"{}\" but board '{}' has no "
                            "such seal switch ({})",
                            i, name, setup.board.id, its));
      }
    }
  }
}

// The LCD shows kWh x the multiplier in `digits` digits, `decimals` of them decimals, and rolls
// over like a dial (display.cpp). A monthly reading can tell how many times it rolled over only
// when a full turn takes at least kMinTurnHours at the board's maximum load.
constexpr double kMinTurnHours = 1000;

void check_display_rollover(const Setup& setup, const toml::table& sku, Diagnostics& out) {
  const auto& b = setup.board;
  const auto& d = setup.sku.display;
  const double elements = std::max(1.0, std::ceil(b.nameplate.elements));
  const double max_kw = b.nameplate.voltage_v * b.ratings.max_current_a * elements / 1000.0;
  const double shown_kw = max_kw * static_cast<double>(d.multiplier);
  const double turn_kwh = std::pow(10.0, static_cast<double>(d.digits - d.decimals));
  if (shown_kw <= 0) return;
  const double hours = turn_kwh / shown_kw;
  if (hours >= kMinTurnHours) return;
  auto needed = d.digits;
  while (std::pow(10.0, static_cast<double>(needed - d.decimals)) < kMinTurnHours * shown_kw) {
    ++needed;
  }
  // At the key the SKU wrote: digits, else the multiplier, else the decimals.
  const toml::node* where = nullptr;
  std::string lead = "the display";
  for (const char* key : {"digits", "multiplier", "decimals"}) {
    if (const auto* node = sku.at_path(fmt::format("display.{}", key)).node()) {
      where = node;
      lead = fmt::format("'display.{}' is {}", key, node->value_or(std::int64_t{0}));
      break;
    }
  }
  if (where == nullptr) where = sku.at_path("display").node();
  if (where == nullptr) where = sku.at_path("sku.board").node();
  const auto lcd = needed > b.hardware.lcd_digits
                       ? fmt::format(" (board '{}' has a {}-digit LCD: lower the multiplier or "
                                     "the decimals)", b.id, b.hardware.lcd_digits)
                       : std::string();
  out.add(setup.sku.file, where,
          fmt::format("{}: {} digits with {} decimal{} turn over every {} kWh shown, which at "
                      "board '{}''s maximum load ({} V × {} A × {} element{} = {} kW) × multiplier "
                      "{} takes {:.1f} hours; a monthly reading cannot tell how many times the "
                      "display rolled over unless a turn takes at least {} hours: it needs {} "
                      "digits{}",
                      lead, d.digits, d.decimals, d.decimals == 1 ? "" : "s",
                      static_cast<std::int64_t>(turn_kwh), b.id, b.nameplate.voltage_v,
                      b.ratings.max_current_a, elements, elements == 1 ? "" : "s", max_kw,
                      d.multiplier, hours, kMinTurnHours, needed, lcd));
}

std::optional<std::filesystem::path> find_in(const std::vector<std::filesystem::path>& dirs,
                                             const std::string& name) {
  for (const auto& d : dirs) {
    auto p = d / name;
    if (std::filesystem::is_regular_file(p)) return p;
  }
  return std::nullopt;
}

std::string dir_list(const std::vector<std::filesystem::path>& dirs) {
  std::string out;
  for (const auto& d : dirs) out += (out.empty() ? "" : ", ") + d.string();
  return out.empty() ? "(none)" : out;
}

// Copies `from` onto `into` key by key (the site's settings over the SKU's defaults).
void overlay(toml::table& into, const toml::table& from) {
  for (const auto& [k, v] : from) into.insert_or_assign(k, v);
}

Place place_of(const std::string& file, const toml::source_region& where) {
  return {file, where.begin.line, where.begin.column};
}

/// Records where each setting under `node` was written, by path (items of arrays from 1). A
/// key the layer sets replaces what an earlier layer wrote under it, as the merge does.
void record_places(const toml::table& layer, const std::string& file,
                   std::map<std::string, Place>& places) {
  auto walk = [&](auto& self, const toml::node& node, const std::string& path) -> void {
    places[path] = place_of(file, node.source());
    if (const auto* t = node.as_table()) {
      for (const auto& [k, v] : *t) self(self, v, fmt::format("{}.{}", path, k.str()));
    } else if (const auto* a = node.as_array()) {
      for (std::size_t i = 0; i < a->size(); ++i) {
        self(self, *a->get(i), fmt::format("{}[{}]", path, i + 1));
      }
    }
  };
  for (const auto& [k, v] : layer) {
    const std::string key(k.str());
    for (auto it = places.lower_bound(key); it != places.end() && it->first.rfind(key, 0) == 0;) {
      const char next = it->first.size() > key.size() ? it->first[key.size()] : '\0';
      it = next == '\0' || next == '.' || next == '[' ? places.erase(it) : std::next(it);
    }
    walk(walk, v, key);
  }
}

// The kernel's own NVM namespace: its registers, which no plugin may be granted.
constexpr std::string_view kKernelNvm = "nvm:kernel";

// Grants are what the manifest asks for and nothing more; the kernel's registers never.
void check_grants(const std::string& file, const PluginEntry& p, const toml::table& entry,
                  const sdk::Manifest& manifest, Diagnostics& out) {
  std::string asked;
  for (const auto& c : manifest.capabilities) asked += (asked.empty() ? "" : ", ") + c;
  if (asked.empty()) asked = "none";
  const auto* grants = entry.get_as<toml::array>("grants");
  for (std::size_t i = 0; i < p.grants.size(); ++i) {
    const auto& grant = p.grants[i];
    const toml::node* where = grants != nullptr ? grants->get(i) : nullptr;
    if (grant == kKernelNvm) {
      out.add(file, where,
              fmt::format("plugin '{}' is granted '{}': the kernel's registers (its own NVM "
                          "namespace) are never granted to a plugin", p.id, grant));
    } else if (!manifest.has_capability(grant)) {
      out.add(file, where,
              fmt::format("plugin '{}' is granted '{}', which its manifest does not ask for "
                          "(it asks for: {})", p.id, grant, asked));
    }
  }
  for (const auto& needed : manifest.capabilities) {
    const bool granted = std::find(p.grants.begin(), p.grants.end(), needed) != p.grants.end();
    if (needed == kKernelNvm) {
      if (!granted) {
        out.add(file, &entry,
                fmt::format("plugin '{}' asks for '{}', which is never granted: the kernel's "
                            "registers (its own NVM namespace) are never granted to a plugin",
                            p.id, needed));
      }
    } else if (!granted) {
      out.add(file, &entry,
              fmt::format("plugin '{}' needs capability '{}', which the SKU does not grant "
                          "(add it to 'grants')", p.id, needed));
    }
  }
}

// Where in its value a plugin setting breaks its field's rule: the item, or the item's key, that
// rule_broken() names (it walks in the same order), so an error inside an array of tables points
// at its own line and not at the array's first [[...]]. A missing key is the item's own table.
toml::source_region where_broken(const sdk::ConfigField& f, const toml::node& node) {
  using sdk::ConfigType;
  if (f.type != ConfigType::array && f.type != ConfigType::table_array) return node.source();
  const auto* array = node.as_array();
  if (array == nullptr || (f.min_items && array->size() < *f.min_items) ||
      (f.max_items && array->size() > *f.max_items)) {
    return node.source();
  }
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& item = *array->get(i);
    if (f.type == ConfigType::array) {
      if (!sdk::detail::scalar_rule_broken(f, f.items.value_or(ConfigType::text), item).empty() ||
          (f.increasing && i > 0 && !sdk::detail::less_than(*array->get(i - 1), item))) {
        return item.source();
      }
      continue;
    }
    const auto* table = item.as_table();
    if (table == nullptr) return item.source();
    for (const auto& [key, value] : *table) {
      const auto known = std::find_if(f.fields.begin(), f.fields.end(),
                                      [&](const sdk::ConfigField& n) { return n.key == key.str(); });
      if (known == f.fields.end()) return key.source();
      if (!sdk::detail::rule_broken(*known, value).empty()) return where_broken(*known, value);
    }
    for (const auto& n : f.fields) {
      if (n.required && !table->contains(n.key)) return item.source();
    }
  }
  return node.source();
}

// The SKU's node of a meter setting a plugin constrains ("metrology.tick_s"), when it sets it.
const toml::node* sku_node_of(const toml::table& sku, std::string_view setting) {
  if (setting == "sealing_category") return sku.at_path("sku.sealing_category").node();
  return sku.at_path(setting).node();
}

void check_plugins(Setup& setup, const toml::table& sku_table, const toml::table* site_plugins,
                   const Paths& paths, Diagnostics& out) {
  for (auto& p : setup.sku.plugins) {
    const auto* entry = sku_table.at_path("plugins").as_table()->get(p.id);
    const auto manifest_path = find_in(paths.plugin_dirs, p.id + ".toml");
    if (!manifest_path) {
      out.add(setup.sku.file, entry,
              fmt::format("plugin '{}' is not installed: no {}.toml in the plugin directories ({})",
                          p.id, p.id, dir_list(paths.plugin_dirs)));
      continue;
    }
    std::ifstream in(*manifest_path);
    std::stringstream text_in;
    text_in << in.rdbuf();
    auto parsed = sdk::parse_manifest(text_in.str(), manifest_path->string());
    if (!parsed.manifest) {
      for (auto& e : parsed.errors) out.add_located(std::move(e));
      continue;
    }
    const auto& manifest = *parsed.manifest;
    if (!p.version.empty() && p.version != manifest.version) {
      out.add(setup.sku.file, entry->as_table()->get("version"),
              fmt::format("plugin '{}' version {} is not available: the installed one is {}",
                          p.id, p.version, manifest.version));
    }
    check_grants(setup.sku.file, p, *entry->as_table(), manifest, out);
    // Each layer is checked where it was written, so every error names its own file and
    // place; only then are they merged (copies of toml++ nodes lose their source).
    const auto* sku_settings = entry->as_table()->get_as<toml::table>("settings");
    const auto* site_settings =
        site_plugins != nullptr ? site_plugins->get_as<toml::table>(p.id) : nullptr;
    bool settings_ok = true;
    for (const auto* layer : {sku_settings, site_settings}) {
      if (layer == nullptr) continue;
      const auto& file = layer == sku_settings ? setup.sku.file : setup.site.file;
      for (const auto& [key, node] : *layer) {
        const auto* field = manifest.field(key.str());
        if (field == nullptr) {
          out.add(file, key.source(), fmt::format("{}: is not a configuration key of plugin {}",
                                                  key.str(), manifest.id));
          settings_ok = false;
        } else if (auto broken = sdk::detail::rule_broken(*field, node); !broken.empty()) {
          out.add(file, where_broken(*field, node), fmt::format("{}: {}", key.str(), broken));
          settings_ok = false;
        }
      }
    }
    p.place = place_of(setup.sku.file, entry->source());
    for (const auto& o : manifest.objects) {
      if (auto id = Obis::parse(o.obis)) p.objects.push_back(*id);
    }
    if (sku_settings != nullptr) record_places(*sku_settings, setup.sku.file, p.setting_places);
    if (site_settings != nullptr) record_places(*site_settings, setup.site.file, p.setting_places);
    if (site_settings != nullptr) {
      overlay(p.settings, *site_settings);
      p.settings_source = setup.site.file;
    }
    if (settings_ok) {
      // Only required keys set in neither layer can fail now.
      const auto checked = sdk::validate_config(manifest, p.settings, p.settings_source);
      for (const auto& e : checked.errors) {
        const toml::node* where = site_settings != nullptr ? static_cast<const toml::node*>(site_settings)
                                                           : entry;
        out.add(site_settings != nullptr ? setup.site.file : setup.sku.file, where,
                e.substr(e.find(": ") + 2));
      }
      if (checked.ok()) p.settings = checked.values;
    }
    for (const auto& broken : sdk::broken_constraints(manifest, setup.meter_settings)) {
      const auto* set = sku_node_of(sku_table, broken.key);
      out.add(setup.sku.file, set != nullptr ? set : entry,
              fmt::format("constraint broken: {}", broken.message));
    }
  }
  if (site_plugins != nullptr) {
    for (const auto& [id, node] : *site_plugins) {
      const bool attached = std::any_of(setup.sku.plugins.begin(), setup.sku.plugins.end(),
                                        [&](const PluginEntry& e) { return e.id == id.str(); });
      if (!attached) {
        out.add(setup.site.file, &node,
                fmt::format("settings for plugin '{}', which the SKU ({}) does not carry",
                            id.str(), setup.sku.id));
      } else if (!node.is_table()) {
        out.add(setup.site.file, &node, fmt::format("'plugins.{}' must be a table", id.str()));
      }
    }
  }
}

}  // namespace

const Place& PluginEntry::place_of(std::string_view key) const {
  std::string path(key);
  while (!path.empty()) {
    if (auto it = setting_places.find(path); it != setting_places.end()) return it->second;
    const auto cut = path.find_last_of(".[");
    path.resize(cut == std::string::npos ? 0 : cut);
  }
  return place;
}

std::vector<std::string> sku_plugin_ids(const std::filesystem::path& sku_file, Diagnostics& out) {
  std::vector<std::string> ids;
  auto table = parse_file(sku_file.string(), out);
  if (!table) return ids;
  const auto* node = table->get("plugins");
  if (node == nullptr) return ids;
  const auto* plugins = node->as_table();
  if (plugins == nullptr) {
    out.add(sku_file.string(), node, "'plugins' must be a table of [plugins.<id>] tables");
    return ids;
  }
  std::vector<std::pair<toml::source_position, std::string>> found;
  for (const auto& [id, entry] : *plugins) found.emplace_back(entry.source().begin, std::string(id.str()));
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [where, id] : found) ids.push_back(std::move(id));
  return ids;
}

const Schema& board_schema() { return kBoard; }
const Schema& sku_schema() { return kSku; }
const Schema& site_schema() { return kSite; }

std::optional<BoardDescriptor> load_board(const std::filesystem::path& file, Diagnostics& out) {
  const auto before = out.size();
  auto table = parse_file(file.string(), out);
  if (!table) return std::nullopt;
  check(*table, kBoard, file.string(), "", out);
  if (out.size() != before) return std::nullopt;
  // A board is looked up by id as <id>.toml: a descriptor named otherwise is another board.
  if (const auto id = text(*table, "board.id"); id != file.stem().string()) {
    out.add(file.string(), table->at_path("board.id").node(),
            fmt::format("'board.id' is \"{}\" but the file is {}: a board descriptor is named "
                        "after its id ({}.toml), which is how SKUs find it",
                        id, file.filename().string(), id));
    return std::nullopt;
  }
  auto board = extract_board(*table, file.string(), out);
  if (out.size() != before) return std::nullopt;
  return board;
}

LoadResult load(const std::filesystem::path& sku_file, const std::filesystem::path& site_file,
                const Paths& paths) {
  LoadResult result;
  auto& out = result.errors;
  auto sku_table = parse_file(sku_file.string(), out);
  auto site_table = parse_file(site_file.string(), out);
  if (sku_table) check(*sku_table, kSku, sku_file.string(), "", out);
  if (site_table) {
    check(*site_table, kSite, site_file.string(), "", out);
  }
  if (!sku_table || !site_table || !out.empty()) return result;

  Setup setup;
  setup.sku = extract_sku(*sku_table, sku_file.string(), out);
  setup.site = extract_site(*site_table, site_file.string(), out);

  bool board_loaded = false;
  if (auto board_file = find_in(paths.board_dirs, setup.sku.board + ".toml")) {
    if (auto board = load_board(*board_file, out)) {
      setup.board = std::move(*board);
      board_loaded = true;
    }
  } else {
    out.add(sku_file.string(), sku_table->at_path("sku.board").node(),
            fmt::format("board '{}' is not known: no {}.toml in the board directories ({})",
                        setup.sku.board, setup.sku.board, dir_list(paths.board_dirs)));
  }
  if (setup.board.service != nullptr &&
      setup.sku.display.digits > setup.board.hardware.lcd_digits) {
    out.add(sku_file.string(), sku_table->at_path("display.digits").node(),
            fmt::format("'display.digits' is {} but board '{}' has a {}-digit LCD",
                        setup.sku.display.digits, setup.board.id, setup.board.hardware.lcd_digits));
  }
  if (board_loaded) {
    check_seal_switches(setup, *site_table, out);
    check_display_rollover(setup, *sku_table, out);
  }
  if (!setup.board.hardware.optical_port && setup.sku.optical_port_enabled &&
      sku_table->at_path("optical_port.enabled").node() != nullptr) {
    out.add(sku_file.string(), sku_table->at_path("optical_port.enabled").node(),
            fmt::format("board '{}' has no optical port", setup.board.id));
  }

  toml::table display{{"scroll_time_s", setup.sku.display.scroll_time.count() / 1000},
                      {"multiplier", setup.sku.display.multiplier},
                      {"digits", setup.sku.display.digits}};
  setup.meter_settings.insert("display", std::move(display));
  setup.meter_settings.insert("sealing_category", setup.sku.sealing_category);
  toml::table metrology{
      {"tick_s", std::chrono::duration_cast<std::chrono::seconds>(setup.sku.tick).count()},
      {"measurements_every", static_cast<std::int64_t>(setup.sku.measurements_every)}};
  setup.meter_settings.insert("metrology", std::move(metrology));

  check_plugins(setup, *sku_table, site_table->at_path("plugins").as_table(), paths, out);
  if (!out.empty()) return result;

  auto& m = setup.meter;
  m.metrology = setup.board.metrology;
  m.kh_wh = setup.board.nameplate.kh_wh;
  m.tick = setup.sku.tick;
  m.measurements_every = setup.sku.measurements_every;
  m.time_zone = setup.site.time_zone;
  m.security = setup.sku.security;
  m.display_multiplier = setup.sku.display.multiplier;
  result.setup = std::move(setup);
  return result;
}

std::string reference_markdown() {
  std::string out =
      "# Configuration reference\n\n"
      "Generated from the schemas the meter checks its files against "
      "(`meterd --config-reference`); a test fails when this file and the schemas differ.\n\n"
      "A meter starts from three files: the board descriptor (hardware), the SKU file (the "
      "OEM's product) and the site file (the utility's settings). Plugin settings live in the "
      "SKU (`[plugins.<id>.settings]`, factory defaults) and the site (`[plugins.<id>]`, which "
      "override key by key); each plugin's keys are listed in its README.\n\n"
      "## The contract\n\n"
      "A configuration the meter refuses makes `meterd` (and `meterd --check`) exit with status "
      "2 and print every error as `file:line:column: rule`, at the offending value (an item of "
      "an array at the item itself), in three stages:\n\n"
      "1. **The files**: a missing file or a directory in its place (`path: cannot be read: "
      "reason`, no line), TOML syntax, then these schemas: types, ranges, allowed values, "
      "required and unknown keys; and the rules across files (a board id that is not its file "
      "name, a grant the plugin's manifest does not ask for, `nvm:kernel` granted at all, a "
      "plugin's constraint on the meter such as a tick that does not divide a minute, display "
      "digits that roll over in less than 1000 hours at the board's maximum load). Each "
      "plugin's settings are checked against its manifest.\n"
      "2. **The plugins' own rules**: `meterd --check` creates every plugin the SKU carries, and "
      "each checks what its manifest cannot say (seasons that overlap, a holiday that is not a "
      "date, a first switch point not at 00:00, an unknown time zone). A plugin names the "
      "setting (`seasons[2].start`, items counted from 1) and `meterd` places the error where "
      "that setting was written, in the site or the SKU. A display item that names an object "
      "neither the kernel nor one of the SKU's plugins provides is refused here, and so (in "
      "`--check`) is a plugin refused for any other reason (unsigned, a bad signature, not "
      "installed).\n"
      "3. **Starting**: what only a running meter can find, such as the optical port's TCP "
      "port already taken by another program, refuses the start the same way.\n\n"
      "`meterd --check` opens no store (a `--state` folder is left byte for byte as it was) "
      "and starts no plugin: no socket is bound or connected, no relay operated, no broker "
      "contacted. A second `meterd` on a state folder in use is refused before it opens the "
      "store (`state folder DIR in use by pid N`, exit 2).\n\n";
  for (const auto* s : {&kBoard, &kSku, &kSite}) out += to_markdown(*s);
  return out;
}

}  // namespace meter::kernel::config
