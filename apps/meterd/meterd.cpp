// meterd's run: configuration, board driver, kernel, plugins, display, and the tick loop.
#include "meterd.h"

#include <date/tz.h>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "meter/boards/relays.h"
#include "meter/boards/replay/replay_driver.h"
#include "meter/boards/seals.h"
#include "meter/plugins/load_profile/profile_format.h"
#include "meter/plugins/sealing_audit/audit_format.h"
#include "meter/boards/sim/sim_driver.h"
#include "meter/kernel/config.h"
#include "meter/kernel/display.h"
#include "meter/kernel/meter.h"
#include "meter/kernel/journaled_nvm.h"
#include "meter/kernel/nvm.h"
#include "meter/kernel/persistence.h"
#include "meter/kernel/plugin_host.h"
#include "meter/kernel/software_id.h"
#include "meter/kernel/journaled_nvm.h"
#include "supervisor.h"

namespace meter::apps {

namespace {

using kernel::config::Setup;

std::atomic<bool> g_power_fail{false};
extern "C" void on_power_fail(int /*signal*/) { g_power_fail = true; }

boards::Happening to_board(const kernel::config::Happening& h) {
  using K = kernel::config::Happening::Kind;
  using B = boards::Happening::Kind;
  boards::Happening b;
  b.kind = h.kind == K::power_failure  ? B::power_failure
           : h.kind == K::voltage_sag  ? B::voltage_sag
           : h.kind == K::seal_broken  ? B::seal_broken
           : h.kind == K::seal_applied ? B::seal_applied
           : h.kind == K::optical_port_button ? B::optical_port_button
                                       : B::time_jump;
  b.seal = h.seal;
  b.at = h.at;
  b.length = h.length;
  b.sag_fraction = h.sag_fraction;
  b.jump = h.jump;
  b.rtc_lost = h.rtc_lost;
  b.rtc_error = h.rtc_error;
  return b;
}

kernel::Result<std::unique_ptr<boards::Driver>> make_driver(const Setup& s) {
  const auto& board = s.board;
  const auto& sim = s.site.simulation;
  std::vector<boards::Happening> happenings;
  for (const auto& h : sim.happenings) happenings.push_back(to_board(h));
  const double lsb = board.metrology.energy_nwh_per_lsb;
  if (lsb != std::floor(lsb) || lsb < 1) {
    return kernel::fail(fmt::format("{}: 'metrology.energy_nwh_per_lsb' is {}; a simulated board "
                                    "needs a whole number of nWh",
                                    board.file, lsb));
  }
  if (sim.model == "replay" || board.driver == "replay") {
    boards::replay::ReplayConfig c;
    c.path = sim.replay_file;
    c.service = board.service;
    c.nominal_voltage_v = board.nameplate.voltage_v;
    c.frequency_hz = board.nameplate.frequency_hz;
    c.energy_nwh_per_lsb = static_cast<std::uint32_t>(lsb);
    c.happenings = std::move(happenings);
    c.seal_switches = board.hardware.seal_switches;
    c.sealed = sim.sealed;
    return boards::replay::make_replay_driver(c);
  }
  boards::sim::SimConfig c;
  c.fidelity = board.fidelity == kernel::config::Fidelity::waveform ? boards::Fidelity::waveform
                                                                    : boards::Fidelity::chip;
  c.model = sim.model == "commercial" ? boards::sim::LoadModelKind::commercial
                                      : boards::sim::LoadModelKind::residential;
  c.seed = sim.seed;
  c.service = board.service;
  c.nominal_voltage_v = board.nameplate.voltage_v;
  c.frequency_hz = board.nameplate.frequency_hz;
  c.zone = date::locate_zone(s.site.time_zone);
  c.pv_peak_w = sim.model == "residential-pv" && sim.pv_peak_w == 0 ? 5000 : sim.pv_peak_w;
  c.max_current_a = board.ratings.max_current_a;
  c.energy_nwh_per_lsb = static_cast<std::uint32_t>(lsb);
  c.sample_rate_hz = board.sample_rate_hz;
  c.volts_per_code = board.metrology.volts_per_code[0];
  c.amps_per_code = board.metrology.amps_per_code[0];
  c.happenings = std::move(happenings);
  c.seal_switches = board.hardware.seal_switches;
  c.sealed = sim.sealed;
  return boards::sim::make_sim_driver(c);
}

std::vector<kernel::PluginSpec> plugin_specs(const Setup& s, const Supervision* supervision) {
  std::vector<kernel::PluginSpec> specs;
  const auto disabled =
      supervision != nullptr ? disabled_plugins(*supervision)
                             : std::vector<std::pair<std::string, std::string>>{};
  for (const auto& p : s.sku.plugins) {
    kernel::PluginSpec spec;
    spec.id = p.id;
    spec.version = p.version;
    spec.granted = {p.grants.begin(), p.grants.end()};
    spec.config = p.settings;
    spec.config_source = p.settings_source;
    spec.legally_relevant = p.legally_relevant;
    for (const auto& [id, why] : disabled) {
      if (id == p.id) spec.crashed = why;
    }
    if (!p.software_id.empty()) {
      if (auto id = kernel::from_hex<32>(p.software_id)) spec.software_id = *id;
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

std::string read_value(const kernel::ObjectRegistry& objects, const kernel::ObjectInfo& info) {
  auto v = objects.read(info.id, kernel::Role::public_read);
  if (!v) return "(not readable)";
  // A profile or a table is bytes for a protocol, not for a person: say how many.
  if (const auto* bytes = std::get_if<std::vector<std::uint8_t>>(&*v); bytes && bytes->size() > 16) {
    return fmt::format("({} bytes)", bytes->size());
  }
  return kernel::to_display_string(info, *v);
}

/// Writes a whole line with write(2): a SIGKILL never leaves half a line or a line in a buffer.
void emit(const std::string& line) {
  std::size_t done = 0;
  while (done < line.size()) {
    const auto n = ::write(STDOUT_FILENO, line.data() + done, line.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

std::string trace_registers(const kernel::Meter& m) {
  const auto& s = m.registers().snapshot();
  return fmt::format("{} {}", fmt::join(s.mwh, " "), fmt::join(s.remainder_nwh, " "));
}

/// The plugins' integer objects (their registers among them), "obis=value" each, for --trace: a restart
/// test checks them against the kernel's (the TOU rates sum to the total).
std::string trace_objects(kernel::Meter& m) {
  std::string out;
  for (const auto* info : m.objects().list()) {
    if (info->owner == "kernel") continue;
    auto v = m.objects().read(info->id, kernel::Role::reader);
    if (!v) continue;
    if (const auto* i = std::get_if<std::int64_t>(&*v)) {
      out += fmt::format(" {}={}", info->id.to_string(), *i);
    } else if (const auto* u = std::get_if<std::uint64_t>(&*v)) {
      out += fmt::format(" {}={}", info->id.to_string(), *u);
    }
  }
  return out;
}

std::int64_t tick_number(const Setup& s, kernel::Meter& m) {
  return (m.clock().now() - s.site.simulation.start) / m.tick_length();
}

/// The board's nameplate (4 CCR 4027.2 S.4) as objects, read-only, so that every port reads what
/// the nameplate says (docs/objects.md, "Nameplate").
kernel::Result<void> register_nameplate(kernel::ObjectRegistry& objects,
                                        const kernel::config::BoardDescriptor& board) {
  const auto& n = board.nameplate;
  auto text = [&](const char* code, std::string value, const char* what) -> kernel::Result<void> {
    kernel::ObjectInfo info;
    info.id = *kernel::Obis::parse(code);
    info.type = kernel::ValueType::text;
    info.owner = "board";
    info.legally_relevant = true;
    info.description = what;
    return objects.add(info, [v = std::move(value)] { return kernel::Value{v}; });
  };
  auto g = [](double v) { return fmt::format("{:g}", v); };
  std::string plate = fmt::format(
      "{} {} SN {}; {} V, TA {} A, {}, accuracy class {}; Kh {} Wh, Kt {} Wh, Rr {}; {} Hz; {} "
      "element, {} wire, form {}",
      n.manufacturer, n.type, n.serial_number, g(n.voltage_v), g(n.test_amperes_a), n.meter_class,
      n.accuracy_class, g(n.kh_wh), g(n.kt_wh), g(n.register_ratio), g(n.frequency_hz),
      g(n.elements), n.wires, n.form);
  if (!n.transformer_ratio.empty()) {
    plate += fmt::format("; transformer ratio {}, PKh {} Wh", n.transformer_ratio, g(n.pkh_wh));
  }
  for (auto r : {text("0-0:96.1.0", n.serial_number, "serial number (nameplate)"),
                 text("0-0:96.1.1", n.manufacturer, "manufacturer (nameplate)"),
                 text("0-0:96.1.2", n.type, "type designation (nameplate)"),
                 text("0-0:96.1.3", n.form, "form (nameplate)"),
                 text("0-0:96.1.4", n.meter_class, "meter class (nameplate)"),
                 text("0-0:96.1.5", n.manufacturer_code, "manufacturer code (C12.19)"),
                 text("0-0:96.1.6", board.id, "board descriptor"),
                 text("0-0:96.1.9", plate, "nameplate, whole")}) {
    if (!r) return r;
  }
  return {};
}

/// "file:line:column: message" at a place of the configuration.
std::string located(const kernel::config::Place& at, std::string message) {
  return kernel::config::Diagnostic{at.file, at.line, at.column, std::move(message)}.to_string();
}

/// A plugin's settings as one canonical text (toml++ writes a table's keys in order).
std::string settings_text(const toml::table& settings) {
  std::ostringstream out;
  out << toml::toml_formatter{settings};
  return out.str();
}

/// The top-level settings in which two canonical texts differ, for a person: "seasons, holidays".
std::string changed_settings(const std::string& kept, const toml::table& now) {
  toml::table before;
  try {
    before = toml::parse(kept);
  } catch (const toml::parse_error&) {
    return "all of them";
  }
  // One setting as text: toml++ compares nodes of a known type only.
  const auto one = [](const toml::table& t, std::string_view key) {
    toml::table single;
    if (const auto* node = t.get(key)) {
      node->visit([&](const auto& v) { single.insert(key, v); });
    }
    return settings_text(single);
  };
  std::vector<std::string> keys;
  for (const auto& [key, value] : now) {
    if (before.get(key.str()) == nullptr || one(before, key.str()) != one(now, key.str())) {
      keys.emplace_back(key.str());
    }
  }
  for (const auto& [key, value] : before) {
    if (now.get(key.str()) == nullptr) keys.emplace_back(std::string(key.str()) + " (removed)");
  }
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out.empty() ? "their layout" : out;
}

/// The legally relevant plugins' settings are the meter's, kept with its counters: a site file
/// that changes them is a counted configuration change, refused while the meter is sealed
/// (docs/sealing.md). Returns the refusals, placed at the first setting that differs.
std::vector<std::string> settings_changes(const Setup& s, const kernel::PluginHost& host,
                                          kernel::ParameterGate& gate, bool checking) {
  std::vector<std::string> out;
  for (const auto& entry : s.sku.plugins) {
    if (!entry.legally_relevant || !host.status(entry.id)) continue;
    const auto text = settings_text(entry.settings);
    const auto kept = gate.kept_settings(entry.id);
    const auto what = kept ? changed_settings(*kept, entry.settings) : std::string();
    if (auto done = gate.settings(entry.id, text, what, checking); !done) {
      const auto first = what.substr(0, what.find(','));
      out.push_back(located(entry.place_of(first.substr(0, first.find(' '))),
                            fmt::format("plugin {}: {}", entry.id, done.error().message)));
    }
  }
  return out;
}

/// The configuration errors the loader cannot see, found once the plugins are created: rules a
/// plugin checks itself (placed where the setting was written), and display items that name an
/// object neither the kernel nor a plugin of the SKU provides. While checking, a plugin refused
/// for any reason is an error too: the product as configured cannot be built.
std::vector<std::string> configuration_errors(const Setup& s, const kernel::PluginHost& host,
                                              const kernel::ObjectRegistry& objects,
                                              bool checking, bool in_service) {
  std::vector<std::string> out;
  for (const auto& r : host.refusals()) {
    const auto entry = std::find_if(s.sku.plugins.begin(), s.sku.plugins.end(),
                                    [&](const auto& e) { return e.id == r.plugin; });
    if (entry == s.sku.plugins.end()) continue;
    for (const auto& problem : r.config_problems) {
      out.push_back(located(entry->place_of(problem.key),
                            problem.key.empty()
                                ? fmt::format("plugin {}: {}", r.plugin, problem.message)
                                : fmt::format("plugin {}: {}: {}", r.plugin, problem.key,
                                              problem.message)));
    }
    // A legally relevant plugin the product cannot have: a new meter does not start; one in
    // service meters on with a latched legal fault (power_up raises it).
    const bool legal = entry->legally_relevant && !in_service;
    if (r.config_problems.empty() && (checking || legal)) {
      out.push_back(located(entry->place,
                            fmt::format("plugin '{}'{} refused ({}): {}", r.plugin,
                                        entry->legally_relevant
                                            ? ", legally relevant to this product, was"
                                            : "",
                                        kernel::to_string(r.reason), r.detail)));
    }
  }
  const auto& items = s.sku.display.items;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].kind != kernel::DisplayItem::Kind::object) continue;
    const auto& id = items[i].id;
    const bool provided =
        objects.find(id) != nullptr ||
        std::any_of(s.sku.plugins.begin(), s.sku.plugins.end(), [&](const auto& e) {
          return std::find(e.objects.begin(), e.objects.end(), id) != e.objects.end();
        });
    if (!provided) {
      out.push_back(located(s.sku.display_item_places.at(i),
                            fmt::format("display item \"{}\" names an object that neither the "
                                        "kernel nor a plugin of this SKU provides",
                                        id.to_string())));
    }
  }
  return out;
}

/// Holds the state folder for this process (an advisory lock on <dir>/meterd.pid, released when
/// the process ends however it ends): two meters metering into one store would each believe it
/// is theirs. Returns the lock's descriptor.
kernel::Result<int> lock_state_folder(const std::filesystem::path& dir) {
  const auto file = dir / "meterd.pid";
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return kernel::fail(fmt::format("state folder {}: cannot open {}: {}", dir.string(),
                                    file.filename().string(), std::strerror(errno)));
  }
  // A meter that was just killed may take a moment to let go (a supervised meter dies after
  // its supervisor): wait a little before calling the folder someone else's.
  bool locked = false;
  for (int i = 0; i < 20 && !locked; ++i) {
    locked = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    if (!locked) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!locked) {
    char pid[32] = {};
    const auto n = ::pread(fd, pid, sizeof pid - 1, 0);
    ::close(fd);
    std::string holder = n > 0 ? std::string(pid, static_cast<std::size_t>(n)) : "unknown";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    return kernel::fail(fmt::format("state folder {} in use by pid {}", dir.string(), holder));
  }
  const std::string pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The lock holds all the same; only the pid a second meterd would name is missing.
  }
  return fd;
}

/// The record a meter's first complete start leaves in its store: from then on the meter is in
/// service (a legally relevant plugin refused then latches a fault instead of stopping it).
constexpr std::string_view kCommissionedKey = "commissioned";

bool commissioned(const kernel::NvmStore& nvm) {
  auto v = nvm.get(kernel::Persistence::kNamespace, kCommissionedKey);
  return v && v->has_value();
}

/// The longest a supervised restart takes (a hung call's 2 s, the restart's 2 s, a slow
/// store): a longer gap since the last tick stored is not energy the chip counted through it.
constexpr kernel::Milliseconds kChipCountsThroughRestart = std::chrono::seconds{30};

/// One meter, powered: the kernel restored from its store, its plugins and its display. A
/// power failure destroys it; power coming back makes a new one from the same store.
class PoweredMeter {
 public:
  static kernel::Result<std::unique_ptr<PoweredMeter>> power_up(const Setup& s,
                                                               const MeterdOptions& o,
                                                               const kernel::TimeSource& time,
                                                               kernel::NvmStore& nvm,
                                                               kernel::RelayDriver* relays,
                                                               const boards::SealSwitches& seals,
                                                               bool rtc_kept_time,
                                                               std::ostream& err,
                                                               std::vector<std::string>& refused) {
    // Read before this start writes anything: whether a complete start was ever made.
    const bool in_service = !o.check_only && commissioned(nvm);
    // A board without a battery-backed clock, or one whose battery did not last the outage,
    // powers up not knowing the time: TOU bills tier C until a time is set through a port.
    auto meter_config = s.meter;
    meter_config.time_valid = s.board.hardware.rtc && rtc_kept_time;
    auto meter = kernel::Meter::create(meter_config, time);
    if (!meter) return meter.error();
    auto pm = std::unique_ptr<PoweredMeter>(new PoweredMeter(std::move(*meter)));
    auto& m = *pm->meter_;
    if (auto plate = register_nameplate(m.objects(), s.board); !plate) return plate.error();
    if (o.trace) {
      // Before Persistence subscribes: the line is out before the tick is committed, so a kill
      // in between is the one tick a crash may lose.
      pm->trace_ = m.bus().subscribe<kernel::EnergyTick>([&s, &m](const kernel::EnergyTick&) {
        emit(fmt::format("tick {} {}\n", tick_number(s, m), trace_registers(m)));
      });
    }
    // The durable flush on real time: a simulation's year is not 35 000 fsyncs. A killed
    // process loses nothing either way (the tick journal); a power cut without the power-fail
    // warning loses at most a period.
    kernel::PersistenceConfig pc;
    pc.flush_period = o.flush_period;
    pc.period_in_real_time = true;
    auto persistence = kernel::Persistence::attach(m, nvm, pc);
    if (!persistence) return persistence.error();
    pm->persistence_ = std::move(*persistence);
    const auto& found = pm->persistence_->restored();
    if (o.trace) {
      const char* state = found.state == kernel::NvmState::fresh    ? "fresh"
                          : found.state == kernel::NvmState::intact ? "intact"
                                                                    : "damaged";
      emit(fmt::format("start {} {} {} {} {}\n", state, tick_number(s, m),
                       found.orderly_power_down ? 1 : 0,
                       found.power_restore ? found.power_restore->outage.count() : 0,
                       trace_registers(m)));
    }
    if (const auto legal = nvm.health().legal; !legal.empty()) {
      fmt::print(err, "meterd: LEGAL FAULT: store: {}; the meter meters on from the highest "
                      "values it can trust\n", legal);
    } else if (found.state == kernel::NvmState::damaged) {
      fmt::print(err, "meterd: the store is damaged ({}); {}\n", found.detail,
                 nvm.read_only() ? "it is kept read-only as evidence"
                                 : "the meter meters on from the highest values it can trust");
    }
    kernel::PluginHostConfig hc;
    hc.plugin_dirs = o.plugin_dirs;
    hc.meter_settings = s.meter_settings;
    hc.kernel_version = METER_VERSION;
    hc.simulated = o.simulate_s > 0 || o.until.has_value();
    if (o.oem_key_hex) {
      auto key = kernel::from_hex<32>(*o.oem_key_hex);
      if (!key) return kernel::fail(fmt::format("--oem-key: {}", key.error().message));
      hc.oem_public_key = *key;
    }
    hc.vendor_keys = o.vendor_keys;
    if (o.supervision != nullptr) hc.breadcrumb = &o.supervision->call;
    hc.log = [&err](int level, const std::string& plugin, const std::string& message) {
      if (level >= 2) fmt::print(err, "meterd: plugin {}: {}\n", plugin, message);
    };
    pm->host_ = std::make_unique<kernel::PluginHost>(
        kernel::PluginHostDeps{m.bus(), m.objects(), m.gate(), m.clock(), nvm, relays}, hc);
    pm->host_->load_all(plugin_specs(s, o.supervision));
    if (auto id = pm->host_->register_identity_objects(); !id) return id.error();
    refused = configuration_errors(s, *pm->host_, m.objects(), o.check_only, in_service);
    // A check creates the plugins (each checks its own settings) but starts none: starting
    // opens ports, connects to brokers and operates relays. Nor does a refused configuration.
    if (!o.check_only && refused.empty()) {
      pm->host_->start_all();
      refused = configuration_errors(s, *pm->host_, m.objects(), false, in_service);
      // The board's seals as they are now, heard by the event logger, before the settings
      // are judged by them.
      boards::apply_seal_switches(seals, m.gate());
    }
    if (refused.empty()) refused = settings_changes(s, *pm->host_, m.gate(), o.check_only);
    if (in_service) {
      for (const auto& r : pm->host_->refusals()) {
        const auto entry = std::find_if(s.sku.plugins.begin(), s.sku.plugins.end(),
                                        [&](const auto& e) { return e.id == r.plugin; });
        if (entry == s.sku.plugins.end() || !entry->legally_relevant) continue;
        fmt::print(err, "meterd: LEGAL FAULT: plugin {}, legally relevant to this product, was "
                        "refused ({}): {}; the kernel meters on\n",
                   r.plugin, kernel::to_string(r.reason), r.detail);
        m.raise_legal_fault(fmt::format("plugin {} refused: {}", r.plugin, r.detail));
      }
    }
    pm->display_ = std::make_unique<kernel::Display>(m.objects(), s.sku.display, METER_VERSION);
    // The plugins have subscribed: now they hear how long the meter was off.
    if (!o.check_only && refused.empty()) pm->persistence_->publish_power_restore();
    if (o.trace && !o.check_only && refused.empty()) {
      emit(fmt::format("objects {}{}\n", tick_number(s, m), trace_objects(m)));
    }
    return pm;
  }

  kernel::Meter& meter() { return *meter_; }
  kernel::PluginHost& host() { return *host_; }
  kernel::Display& display() { return *display_; }
  kernel::Persistence& persistence() { return *persistence_; }

 private:
  explicit PoweredMeter(std::unique_ptr<kernel::Meter> m) : meter_(std::move(m)) {}
  // Members are destroyed in reverse: the display, the plugins and the persistence service
  // all go before the meter whose bus and registry they use.
  std::unique_ptr<kernel::Meter> meter_;
  std::unique_ptr<kernel::Persistence> persistence_;
  std::unique_ptr<kernel::PluginHost> host_;
  std::unique_ptr<kernel::Display> display_;
  kernel::ScopedConnection trace_;
};

void print_report(const Setup& s, PoweredMeter& pm, const boards::Driver& driver,
                  const boards::Relays* relays, std::ostream& out) {
  auto& objects = pm.meter().objects();
  fmt::print(out, "\n== {} on {} at {} ({})\n", s.sku.id, s.board.id, s.site.id, s.site.time_zone);
  fmt::print(out, "\n-- display sequence (scroll {} s, multiplier x{})\n",
             s.sku.display.scroll_time.count() / 1000, pm.display().multiplier());
  for (const auto& screen : pm.display().sequence()) fmt::print(out, "  | {}\n", screen.to_text());

  const auto& gate = pm.meter().gate();
  fmt::print(out, "\n-- seal: {}; event counters: calibration {:03}, configuration {:03}\n",
             kernel::describe_seal(gate.seal_state()),
             gate.counter(kernel::EventCounter::calibration),
             gate.counter(kernel::EventCounter::configuration));

  if (auto store = objects.read(kernel::obis("0-0:128.4.0"), kernel::Role::reader)) {
    if (const auto* text = std::get_if<std::string>(&*store)) fmt::print(out, "\n-- store: {}\n", *text);
  }

  fmt::print(out, "\n-- registers\n");
  for (const auto* info : objects.list()) {
    if (info->owner != "kernel" || info->object_class != kernel::ObjectClass::reg ||
        info->scaler != -3 || info->type != kernel::ValueType::integer) {
      continue;
    }
    fmt::print(out, "  {:<13} {:>22}  {}\n", info->id.to_string(), read_value(objects, *info),
               info->description);
  }

  if (relays != nullptr) {
    fmt::print(out, "\n-- service disconnect ({} operations)\n", relays->operations());
    for (std::uint32_t r = 0; r < relays->relays(); ++r) {
      fmt::print(out, "  relay {:<7} {:>22}\n", r, relays->open(r) ? "open" : "closed");
    }
  }

  std::map<std::string, std::vector<const kernel::ObjectInfo*>> by_owner;
  for (const auto* info : objects.list()) {
    if (info->owner != "kernel") by_owner[info->owner].push_back(info);
  }
  for (const auto& status : pm.host().plugins()) {
    fmt::print(out, "\n-- plugin {} {} ({}, {} faults)\n", status.id, status.version,
               status.state == kernel::PluginState::started ? "running" : "not running",
               status.faults);
    for (const auto* info : by_owner[status.id]) {
      fmt::print(out, "  {:<13} {:>22}  {}\n", info->id.to_string(), read_value(objects, *info),
                 info->description);
    }
  }
  for (const auto& r : pm.host().refusals()) {
    fmt::print(out, "\n-- plugin {} refused: {}: {}\n", r.plugin, kernel::to_string(r.reason),
               r.detail);
  }

  const auto identity = pm.host().software_identity();
  fmt::print(out, "\n-- software identification {}\n", kernel::to_hex(identity.combined));
  // The load model's own energy, booked as the kernel books it, in the registers' format: in
  // chip fidelity the two must be equal to the mWh.
  const auto& fed = driver.fed();
  const auto* import = objects.find(kernel::obis("1-0:1.8.0"));
  const auto* exported = objects.find(kernel::obis("1-0:2.8.0"));
  fmt::print(out, "\n-- load model: {} ticks fed\n", fed.ticks);
  if (import != nullptr && exported != nullptr) {
    fmt::print(out, "  {:<13} {:>22}  energy the load model fed, import\n", "fed +A",
               kernel::to_display_string(*import, kernel::Value{fed.nwh[0] / kernel::kNanoPerMilli}));
    fmt::print(out, "  {:<13} {:>22}  energy the load model fed, export\n", "fed -A",
               kernel::to_display_string(*exported, kernel::Value{fed.nwh[1] / kernel::kNanoPerMilli}));
  }
}

}  // namespace

struct MeterRun::State {
  MeterdOptions options;
  std::ostream* err = nullptr;
  Setup setup;
  std::unique_ptr<boards::Driver> driver;
  std::unique_ptr<boards::Relays> relays;  // the board's: they keep their position in an outage
  kernel::SystemTimeSource system_time;
  std::unique_ptr<kernel::VirtualTimeSource> virtual_time;
  std::unique_ptr<kernel::NvmStore> store;
  std::unique_ptr<PoweredMeter> powered;
  int state_lock = -1;  // held until the process ends (lock_state_folder)
  bool store_created = false;  // this start made the store: a refused start removes it
  kernel::UtcTime began{};
  kernel::UtcTime end{};
  std::size_t next_happening = 0;
  std::uint64_t ticks = 0;
  std::int64_t last_day_shown = -1;
  std::chrono::steady_clock::time_point next_tick{};  // real time: when the next tick is due
  std::chrono::steady_clock::time_point last_io{};    // simulation: when the ports were polled
  // A supervised restart: the supply never failed, so the board's metering chip counted on
  // while the meter's processor started again. The first tick books the energy since this
  // time, the last tick the store holds (see catch_up).
  std::optional<kernel::UtcTime> counted_since;

  bool simulating() const noexcept { return options.simulate_s > 0 || options.until; }
  const kernel::TimeSource& time() const {
    return simulating() ? static_cast<const kernel::TimeSource&>(*virtual_time) : system_time;
  }
};

namespace {

/// What the board's chip counted while the meter restarted, from the last tick stored to now,
/// fed tick by tick as the load was then: it is booked with the first tick after the restart,
/// as a real meter's first reading of its chip after a processor reset holds it.
void catch_up(MeterRun::State& st, kernel::Meter& m) {
  const auto tick = m.tick_length();
  const auto now = st.time().utc();
  for (auto at = *st.counted_since; at < now; at += tick) {
    st.driver->feed(m, at, std::min<kernel::Milliseconds>(tick, now - at));
  }
  fmt::print(*st.err, "meterd: the board counted {} ms while the meter started again; booked "
                      "with this tick\n",
             (now - *st.counted_since).count());
  st.counted_since.reset();
}

}  // namespace

std::unique_ptr<MeterRun> MeterRun::start(const MeterdOptions& o, std::ostream& err,
                                          int& exit_code) {
  exit_code = kExitConfig;
  kernel::config::Paths paths{o.board_dirs, o.plugin_dirs};
  auto loaded = kernel::config::load(o.sku, o.site, paths);
  if (!loaded.setup) {
    fmt::print(err, "{}meterd: configuration refused ({} error{})\n", loaded.errors.to_string(),
               loaded.errors.size(), loaded.errors.size() == 1 ? "" : "s");
    return nullptr;
  }
  auto st = std::make_unique<State>();
  st->options = o;
  st->err = &err;
  st->setup = std::move(*loaded.setup);
  auto driver = make_driver(st->setup);
  if (!driver) {
    fmt::print(err, "meterd: {}\n", driver.error().message);
    return nullptr;
  }
  st->driver = std::move(*driver);
  if (st->setup.board.hardware.relays > 0) {
    st->relays = std::make_unique<boards::Relays>(
        static_cast<std::uint32_t>(st->setup.board.hardware.relays), *st->driver);
  }
  exit_code = kExitFailure;
  if (o.state_dir && !o.check_only) {
    std::error_code ec;
    std::filesystem::create_directories(*o.state_dir, ec);
    auto lock = lock_state_folder(*o.state_dir);
    if (!lock) {
      fmt::print(err, "meterd: {}\n", lock.error().message);
      exit_code = kExitConfig;
      return nullptr;
    }
    st->state_lock = *lock;
    auto store = kernel::JournaledNvmStore::open(*o.state_dir);
    if (!store) {
      fmt::print(err, "meterd: {}\n", store.error().message);
      return nullptr;
    }
    st->store_created = (*store)->health().state == kernel::NvmState::fresh;
    st->store = std::move(*store);
  } else {
    st->store = std::make_unique<kernel::RamNvmStore>();
  }
  // A simulated meter with a store carries on from the time it last stored.
  const auto stored = kernel::Persistence::stored_time(*st->store);
  st->virtual_time = std::make_unique<kernel::VirtualTimeSource>(
      stored.value_or(st->setup.site.simulation.start));
  if (o.supervision != nullptr && o.supervision->restarts > 0 && stored) {
    // Started again by the supervisor, which holds the supply: the chip did not stop. A gap
    // longer than a restart can take is not the chip's to fill.
    const auto gap = st->time().utc() - *stored;
    if (gap > kernel::Milliseconds{0} && gap <= kChipCountsThroughRestart) {
      st->counted_since = stored;
    }
  }
  std::vector<std::string> refused;
  auto powered = PoweredMeter::power_up(st->setup, o, st->time(), *st->store, st->relays.get(),
                                        st->driver->seal_switches(st->time().utc()), true, err,
                                        refused);
  if (!powered) {
    fmt::print(err, "meterd: {}\n", powered.error().message);
    return nullptr;
  }
  if (!refused.empty()) {
    for (const auto& line : refused) fmt::print(err, "{}\n", line);
    fmt::print(err, "meterd: configuration refused ({} error{})\n", refused.size(),
               refused.size() == 1 ? "" : "s");
    exit_code = kExitConfig;
    if (st->store_created) {
      // A meter that never started leaves no store behind: the next start is a new meter's.
      st->powered.reset();
      st->store.reset();
      kernel::JournaledNvmStore::remove_new(*o.state_dir);
    }
    return nullptr;
  }
  if (o.state_dir && !o.check_only && !commissioned(*st->store)) {
    // The first complete start: the meter is in service from now on.
    const auto when = date::format("%FT%TZ", date::floor<std::chrono::seconds>(st->time().utc()));
    if (auto done = st->store->apply({{std::string(kernel::Persistence::kNamespace),
                                       std::string(kCommissionedKey), kernel::Value{when}}});
        !done) {
      fmt::print(err, "meterd: the store cannot record the first start: {}\n", done.error().message);
    }
  }
  st->powered = std::move(*powered);
  st->began = st->time().utc();
  st->end = o.until.value_or(st->began + std::chrono::seconds{o.simulate_s});
  // A meter that carries on from its store has lived through the happenings before now: an
  // outage or a clock jump happens once, not again at every restart.
  const auto& happenings = st->driver->happenings();
  while (st->next_happening < happenings.size() && happenings[st->next_happening].at < st->began) {
    ++st->next_happening;
  }
  exit_code = 0;
  return std::unique_ptr<MeterRun>(new MeterRun(std::move(st)));
}

MeterRun::MeterRun(std::unique_ptr<State> state) : state_(std::move(state)) {}
MeterRun::~MeterRun() {
  // The plugins stop (and save what they keep at stop) before the store's last flush, so that
  // the journal is empty when the process ends in order.
  auto& st = *state_;
  st.powered.reset();
  if (st.store && !st.options.check_only) (void)st.store->flush();
}

kernel::Meter& MeterRun::meter() { return state_->powered->meter(); }
std::uint64_t MeterRun::ticks() const noexcept { return state_->ticks; }

void MeterRun::power_fail() {
  auto& m = meter();
  m.bus().publish(kernel::PowerFail{m.clock().now()});
}

bool MeterRun::step() {
  auto& st = *state_;
  const auto& happenings = st.driver->happenings();
  while (st.next_happening < happenings.size() &&
         happenings[st.next_happening].at <= st.time().utc()) {
    const auto& h = happenings[st.next_happening++];
    if (h.kind == boards::Happening::Kind::time_jump) {
      auto& clock = meter().clock();
      clock.set_time(clock.now() + h.jump);
    } else if (h.kind == boards::Happening::Kind::optical_port_button &&
               !meter().gate().optical_port_enabled()) {
      // The button is on the board, under the cover: the local button interface, on site.
      auto on = meter().gate().write(
          kernel::ParameterGate::kOpticalPortEnabled, kernel::Value{true},
          kernel::Requester{kernel::Interface::local_button, kernel::Role::configurator,
                            "local-button"});
      fmt::print(*st.err, "meterd: local button: {}\n",
                 on ? "the optical port is switched on"
                    : "the optical port stays off: " + on.error().message);
    } else if (h.kind == boards::Happening::Kind::power_failure && st.simulating()) {
      // The supply goes: an orderly save, the meter dies, and comes back from its store.
      power_fail();
      st.powered.reset();
      st.virtual_time->advance(h.length);
      // The board's clock as the outage left it: running on its battery, drifted, or lost.
      st.virtual_time->skew(h.rtc_error);
      std::vector<std::string> refused;
      auto powered = PoweredMeter::power_up(st.setup, st.options, st.time(), *st.store,
                                            st.relays.get(),
                                            st.driver->seal_switches(st.time().utc()),
                                            !h.rtc_lost, *st.err, refused);
      if (!powered) {
        fmt::print(*st.err, "meterd: cannot power up again: {}\n", powered.error().message);
        return false;
      }
      st.powered = std::move(*powered);
      if (!refused.empty()) {
        fmt::print(*st.err, "meterd: cannot power up again: {}\n", refused.front());
        return false;
      }
    }
  }
  // The board's seal switches at power-up and before every tick; the gate publishes a change.
  boards::apply_seal_switches(st.driver->seal_switches(st.time().utc()), meter().gate());
  if (st.simulating() && st.time().utc() >= st.end) return false;
  auto& m = meter();
  const auto tick = m.tick_length();
  if (st.counted_since) [[unlikely]] catch_up(st, m);
  st.driver->feed(m, st.time().utc(), tick);
  if (st.simulating()) {
    st.virtual_time->advance(tick);
    // Ports still answer while meter time runs fast: a look at them every few milliseconds of
    // real time (the clock itself is read only every 64 ticks) costs nothing measurable.
    if ((st.ticks & 63) == 0 && st.powered->host().io_pending()) {
      const auto now = std::chrono::steady_clock::now();
      if (now - st.last_io >= std::chrono::milliseconds(5)) {
        st.last_io = now;
        st.powered->host().poll_io(std::chrono::milliseconds(0));
      }
    }
  } else {
    // Real time: until the tick is due, the kernel thread waits for the plugins' ports and
    // timers and serves them (a power failure signal ends the wait at once).
    if (st.next_tick == std::chrono::steady_clock::time_point{}) {
      st.next_tick = std::chrono::steady_clock::now();
    }
    st.next_tick += tick;
    for (auto now = std::chrono::steady_clock::now(); now < st.next_tick && !g_power_fail;
         now = std::chrono::steady_clock::now()) {
      st.powered->host().poll_io(
          std::chrono::ceil<std::chrono::milliseconds>(st.next_tick - now));
    }
    if (g_power_fail) return false;
  }
  m.tick();
  ++st.ticks;
  if (st.options.progress && st.simulating()) {
    const auto day = std::chrono::floor<std::chrono::days>(st.time().utc() - st.began).count();
    if (day != st.last_day_shown) {
      st.last_day_shown = day;
      fmt::print(*st.err, "\rmeterd: day {} of {}", day + 1, (st.options.simulate_s + 86399) / 86400);
    }
  }
  return true;
}

void MeterRun::run() {
  while (!g_power_fail && step()) {
  }
  auto& st = *state_;
  if (st.options.progress && st.simulating()) fmt::print(*st.err, "\n");
  if (g_power_fail) {
    power_fail();
  } else {
    // The run is over: what the journal holds goes into the store for good.
    (void)st.powered->persistence().flush();
  }
  if (st.options.trace) {
    emit(fmt::format("objects {}{}\n", tick_number(st.setup, meter()), trace_objects(meter())));
    emit(fmt::format("{} {} {}\n", g_power_fail ? "stopped" : "done", tick_number(st.setup, meter()),
                     trace_registers(meter())));
  }
}

void MeterRun::report(std::ostream& out) {
  print_report(state_->setup, *state_->powered, *state_->driver, state_->relays.get(), out);
}

bool MeterRun::export_profile(const std::filesystem::path& file, std::ostream& err) {
  auto value = meter().objects().read(kernel::obis("1-0:99.1.0"), kernel::Role::reader);
  const auto* octets = value ? std::get_if<std::vector<std::uint8_t>>(&*value) : nullptr;
  if (octets == nullptr) {
    fmt::print(err, "meterd: no load profile to export: the SKU carries no load_profile plugin\n");
    return false;
  }
  std::string csv;
  std::string error;
  if (!plugins::load_profile::profile_octets_to_csv(octets->data(), octets->size(), csv, error)) {
    fmt::print(err, "meterd: the load profile cannot be read: {}\n", error);
    return false;
  }
  std::ofstream out(file);
  out << csv;
  if (!out) {
    fmt::print(err, "meterd: cannot write {}\n", file.string());
    return false;
  }
  return true;
}

bool MeterRun::print_audit(std::ostream& out, std::ostream& err) {
  auto value = meter().objects().read(kernel::obis("0-0:99.98.0"), kernel::Role::reader);
  const auto* octets = value ? std::get_if<std::vector<std::uint8_t>>(&*value) : nullptr;
  if (octets == nullptr) {
    fmt::print(err, "meterd: no audit trail to print: the SKU carries no sealing_audit plugin\n");
    return false;
  }
  const auto& s = state_->setup;
  std::string report;
  std::string error;
  if (!plugins::sealing_audit::log_octets_to_report(
          octets->data(), octets->size(), report, error,
          fmt::format("{} {} at {}", s.sku.id, s.board.nameplate.serial_number, s.site.id))) {
    fmt::print(err, "meterd: the audit trail cannot be read: {}\n", error);
    return false;
  }
  fmt::print(out, "\n{}", report);
  return true;
}

kernel::Result<std::string> oem_key_text(const std::string& argument) {
  auto is_key = [](std::string_view text) {
    return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
             return std::isxdigit(static_cast<unsigned char>(c)) != 0;
           });
  };
  if (is_key(argument)) return argument;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(argument, ec)) {
    return kernel::fail(fmt::format("neither 64 hex digits ({} characters given) nor a key file "
                                    "({})",
                                    argument.size(),
                                    std::filesystem::exists(argument, ec) ? "not a regular file"
                                                                          : "no such file"));
  }
  std::ifstream in(argument);
  std::stringstream text;
  text << in.rdbuf();
  std::string key = text.str();
  while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
  while (!key.empty() && std::isspace(static_cast<unsigned char>(key.front()))) key.erase(0, 1);
  if (!in && !in.eof()) return kernel::fail("the key file cannot be read");
  if (!is_key(key)) {
    return kernel::fail(fmt::format("the key file holds {} characters; an Ed25519 public key is "
                                    "64 hex digits",
                                    key.size()));
  }
  return key;
}

// The key ring's schema: the same walker and messages as every other configuration file.
const kernel::config::Schema kKeyRingKey{
    "key ring entry", "A module vendor's key.",
    {{.key = "name", .type = kernel::config::FieldType::text, .description = "the vendor, as refusals name it", .required = true},
     {.key = "public_key", .type = kernel::config::FieldType::text, .description = "Ed25519 public key, 64 hex digits", .required = true},
     {.key = "plugins", .type = kernel::config::FieldType::text_array, .description = "plugin ids it may sign; absent: every plugin"}}};
const kernel::config::Schema kKeyRing{
    "key ring", "Module vendors' keys, trusted beside the OEM's.",
    {{.key = "key", .type = kernel::config::FieldType::table_array, .description = "one per vendor", .required = true, .nested = &kKeyRingKey}}};

kernel::Result<std::vector<kernel::TrustedKey>> load_key_ring(const std::filesystem::path& file) {
  kernel::config::Diagnostics errors;
  auto ring = kernel::config::parse_file(file.string(), errors);
  if (ring) kernel::config::check(*ring, kKeyRing, file.string(), "", errors);
  std::vector<kernel::TrustedKey> keys;
  if (ring && errors.empty()) {
    for (const auto& node : *ring->get_as<toml::array>("key")) {
      const auto& t = *node.as_table();
      kernel::TrustedKey key;
      key.name = t["name"].value_or(std::string());
      auto hex = kernel::from_hex<32>(t["public_key"].value_or(std::string()));
      if (!hex) {
        errors.add(file.string(), t.get("public_key"),
                   "'key.public_key' must be an Ed25519 public key, 64 hex digits");
        continue;
      }
      key.key = *hex;
      if (const auto* ids = t.get_as<toml::array>("plugins")) {
        for (const auto& id : *ids) key.plugins.push_back(id.value_or(std::string()));
      }
      keys.push_back(std::move(key));
    }
  }
  if (!errors.empty()) {
    auto text = errors.to_string();
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return kernel::fail(std::move(text));
  }
  return keys;
}

int run_meterd(const MeterdOptions& o, std::ostream& out, std::ostream& err) {
  // From the first moment: a stop asked for while the meter starts is a power-down once it has
  // started (a supervised meter's parent holds these signals back until now).
  std::signal(SIGTERM, on_power_fail);
  std::signal(SIGINT, on_power_fail);
  const sigset_t stops = stop_signals();
  ::sigprocmask(SIG_UNBLOCK, &stops, nullptr);
  int exit_code = 0;
  auto run = MeterRun::start(o, err, exit_code);
  if (!run) return exit_code;
  if (o.check_only) {
    fmt::print(out, "meterd: {}: configuration is valid\n", o.sku.string());
    return 0;
  }
  run->run();
  if (!o.trace) run->report(out);
  if (o.export_profile && !run->export_profile(*o.export_profile, err)) return kExitFailure;
  if (o.print_audit && !run->print_audit(out, err)) return kExitFailure;
  return 0;
}

}  // namespace meter::apps
