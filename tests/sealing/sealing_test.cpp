// Sealing and the audit trail end to end: a whole Meter with its NVM store and persistence, and
// the real sealing_audit plugin loaded through the plugin host.
//
//  - the matrix: every sealable parameter x every interface x sealed and unsealed x each role,
//    in each sealing category: only the allowed cells change anything, and each change leaves
//    exactly one audit record and one counter step;
//  - the counters survive power cycles and cannot be reset; a store that lost them is damage;
//  - billing reset and preset only through the gate;
//  - lockout, with every attempt in the audit log, and a lock that a power cycle does not lift;
//  - the seal sources: the board's switches (kept across power cycles, so a seal broken while
//    the power was off is recorded at power-up) and the electronic seal written as an object;
//  - the meter shop's kernel parameters: the display multiplier and the clock.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "meter/boards/seals.h"
#include "meter/kernel/display.h"
#include "meter/kernel/meter.h"
#include "meter/kernel/nvm.h"
#include "meter/kernel/persistence.h"
#include "meter/kernel/plugin_host.h"
#include "meter/plugins/sealing_audit/audit_format.h"

namespace meter {
namespace {

using kernel::EventCounter;
using kernel::Interface;
using kernel::Obis;
using kernel::ParameterClass;
using kernel::ParameterGate;
using kernel::Role;
using kernel::Value;
using plugins::sealing_audit::Log;
using plugins::sealing_audit::RecordKind;

const Obis kCalibrationGain = kernel::obis("1-0:128.8.1");  // stands in for a plugin's gain
const Obis kAuditLog = kernel::obis("0-0:99.98.0");

const std::string& hash_of(const std::string& password) {
  static std::map<std::string, std::string> cache;
  auto it = cache.find(password);
  if (it == cache.end()) {
    it = cache.emplace(password, *kernel::hash_password(password, kernel::HashCost::minimal)).first;
  }
  return it->second;
}

kernel::MeterConfig config(std::int64_t category) {
  kernel::MeterConfig c;
  c.metrology.service = *kernel::find_service("1e2w");
  c.metrology.channel_count = c.metrology.service->channels();
  c.metrology.nominal_frequency_hz = 60;
  c.metrology.volts_per_code.fill(0.02);
  c.metrology.amps_per_code.fill(0.01);
  c.metrology.creep_current_a = 0.02;
  c.kh_wh = 1.0;
  c.time_zone = "UTC";
  c.security.sealing_category = category;
  c.security.reader_password_hash = hash_of("read-pw");
  c.security.configurator_password_hash = hash_of("config-pw");
  c.security.calibrator_password_hash = hash_of("cal-pw");
  c.security.max_failed_logons = 3;
  c.security.lockout = std::chrono::minutes(15);
  return c;
}

kernel::PublicKey oem_key() {
  std::ifstream in(METER_OEM_PUBLIC_KEY);
  std::stringstream text;
  text << in.rdbuf();
  return *kernel::from_hex<32>(text.str());
}

/// One powered meter: store, persistence, the sealing_audit plugin (when asked for) and a
/// calibration parameter of its own.
struct Powered {
  Powered(kernel::NvmStore& store, kernel::VirtualTimeSource& time, std::int64_t category,
          bool logger = true)
      : meter(make(category, time)) {
    kernel::ObjectInfo gain{kCalibrationGain, kernel::ObjectClass::data, kernel::ValueType::integer,
                            kernel::Unit::none, 0, kernel::kAnyRole, kernel::mask(Role::calibrator),
                            ParameterClass::calibration, true, "test", "a calibration gain"};
    EXPECT_TRUE(meter->objects().add(
        gain, [this] { return Value{gain_value}; },
        [this](const Value& v) -> kernel::Result<void> {
          gain_value = std::get<std::int64_t>(v);
          return {};
        }));
    persistence = std::move(kernel::Persistence::attach(*meter, store).value());
    kernel::PluginHostConfig hc;
    hc.plugin_dirs = {METER_PLUGIN_DIR};
    hc.oem_public_key = oem_key();
    hc.log = [](int, const std::string&, const std::string&) {};
    host = std::make_unique<kernel::PluginHost>(
        kernel::PluginHostDeps{meter->bus(), meter->objects(), meter->gate(), meter->clock(), store,
                               nullptr},
        hc);
    if (logger) {
      kernel::PluginSpec spec;
      spec.id = "sealing_audit";
      spec.config.insert("capacity_records", 1000);
      spec.config.insert("when_full", "overwrite-read");
      spec.config.insert("repeat_period_s", 60);
      auto loaded = host->load(spec);
      EXPECT_TRUE(loaded) << loaded.error().message;
      EXPECT_EQ(host->start_all(), 1u);
    }
    persistence->publish_power_restore();
  }
  ~Powered() { meter->bus().publish(kernel::PowerFail{meter->clock().now()}); }

  static std::unique_ptr<kernel::Meter> make(std::int64_t category,
                                             kernel::VirtualTimeSource& time) {
    auto m = kernel::Meter::create(config(category), time);
    if (!m) throw std::runtime_error(m.error().message);
    return std::move(*m);
  }

  Log log() {
    auto v = meter->objects().read(kAuditLog, Role::reader);
    EXPECT_TRUE(v.ok());
    if (!v) return {};
    const auto& bytes = std::get<std::vector<std::uint8_t>>(*v);
    std::string error;
    auto decoded = plugins::sealing_audit::decode_log(bytes.data(), bytes.size(), error);
    EXPECT_TRUE(decoded.has_value()) << error;
    return decoded ? *decoded : Log{};
  }
  std::uint64_t newest_record() {
    const auto l = log();
    return l.entries.empty() ? 0 : l.entries.back().record.sequence;
  }

  std::int64_t gain_value = 100;
  std::unique_ptr<kernel::Meter> meter;
  std::unique_ptr<kernel::Persistence> persistence;
  std::unique_ptr<kernel::PluginHost> host;
};

struct Cell {
  Obis id;
  Interface via;
  std::optional<kernel::SealKind> seal;  ///< the one seal applied, or none
  Role role;
  bool sealed() const { return seal.has_value(); }
};

std::string describe(const Cell& c) {
  return c.id.to_string() + " via " + std::string(kernel::to_string(c.via)) + " " +
         kernel::describe_seal(c.seal ? static_cast<std::uint8_t>(
                                            1u << (static_cast<unsigned>(*c.seal) - 1))
                                      : 0) +
         " as " + std::string(kernel::to_string(c.role));
}

/// What the rules (gate.h) allow.
bool allowed(const kernel::ObjectInfo& info, const Cell& c, std::int64_t category,
             bool optical_enabled, const Value& value) {
  if ((info.write_roles & kernel::mask(c.role)) == 0) return false;
  if (c.via == Interface::optical_port && c.role != Role::public_read && !optical_enabled) {
    return false;  // no logon through a disabled port
  }
  // The sealing plug covers the port: nothing is written through it (seed 004).
  if (c.via == Interface::optical_port && c.seal == kernel::SealKind::optical_plug) return false;
  // Billing reset and preset and the optical port's switch are the site's (seed 000).
  const bool site_only = info.id == kernel::Meter::kImportPreset ||
                         info.id == kernel::Meter::kExportPreset ||
                         info.id == ParameterGate::kOpticalPortEnabled;
  if (site_only && (c.via == Interface::comms || c.via == Interface::plugin)) return false;
  if (info.id == ParameterGate::kOpticalPortEnabled && std::get<bool>(value) && c.sealed()) {
    return false;
  }
  // A tariff parameter the product does not seal is counted, not sealed.
  if (info.parameter_class == ParameterClass::tariff) return true;
  const bool calibration = info.parameter_class == ParameterClass::calibration;
  if (c.via == Interface::comms) {
    if (category == 1) return false;
    if (category == 2) return !c.sealed();
    return !c.sealed() || !calibration;
  }
  return !c.sealed();
}

Value next_value(const kernel::ObjectInfo& info, const Value& v) {
  if (const auto* b = std::get_if<bool>(&v)) return Value{!*b};
  if (info.id == kernel::Meter::kClock) {
    static int minute = 0;  // a new time for every cell
    ++minute;
    return Value{fmt::format("2026-06-{:02} {:02}:{:02}:00", 1 + minute / 1440 % 28,
                             minute / 60 % 24, minute % 60)};
  }
  const auto n = std::get<std::int64_t>(v);
  if (info.id == kernel::Meter::kDisplayMultiplier) return Value{n % 240 + 1};  // 1..240
  return Value{n + 1000};
}

class Matrix : public ::testing::TestWithParam<std::int64_t> {};

TEST_P(Matrix, OnlyAllowedCellsChangeAndEachChangeLeavesOneRecordAndOneCounterStep) {
  const std::int64_t category = GetParam();
  kernel::RamNvmStore store;
  kernel::VirtualTimeSource time{kernel::UtcTime{std::chrono::seconds{1'780'000'000}}};
  Powered p(store, time, category);
  auto& gate = p.meter->gate();
  auto& objects = p.meter->objects();
  std::vector<kernel::ParameterChanged> changes;
  p.meter->bus().subscribe<kernel::ParameterChanged>(
      [&](const kernel::ParameterChanged& e) { changes.push_back(e); });

  std::vector<const kernel::ObjectInfo*> sealable;
  for (const auto* info : objects.list()) {
    if (kernel::is_counted(info->parameter_class)) sealable.push_back(info);
  }
  // The kernel's four sealable ones (optical port, +A and -A preset, display multiplier), the
  // clock (a tariff parameter: counted) and the calibration gain.
  ASSERT_EQ(sealable.size(), 6u);
  EXPECT_EQ(std::get<std::uint64_t>(*objects.read(ParameterGate::kSealableParameters,
                                                  Role::public_read)),
            6u);

  const std::map<Role, const char*> passwords{
      {Role::reader, "read-pw"}, {Role::configurator, "config-pw"}, {Role::calibrator, "cal-pw"}};
  int changed_cells = 0;
  for (const auto* info : sealable) {
    for (auto via : {Interface::kernel, Interface::optical_port, Interface::comms,
                     Interface::plugin, Interface::local_button}) {
      for (std::optional<kernel::SealKind> seal :
           {std::optional<kernel::SealKind>{}, std::optional{kernel::SealKind::cover},
            std::optional{kernel::SealKind::optical_plug},
            std::optional{kernel::SealKind::electronic}}) {
        for (auto role : {Role::public_read, Role::reader, Role::configurator, Role::calibrator}) {
          const Cell cell{info->id, via, seal, role};
          time.advance(std::chrono::seconds(61));  // a refusal of its own repeat period
          // Each cell starts from an unsealed meter with its optical port enabled.
          for (auto kind : {kernel::SealKind::cover, kernel::SealKind::optical_plug,
                            kernel::SealKind::electronic}) {
            gate.set_sealed(false, kind);
          }
          if (!gate.optical_port_enabled()) {
            ASSERT_TRUE(gate.write(ParameterGate::kOpticalPortEnabled, Value{true},
                                   kernel::Requester{Interface::kernel, Role::configurator, "test"}));
          }
          if (seal) gate.set_sealed(true, *seal);

          const auto before = *objects.read(info->id, Role::public_read);
          const auto value = next_value(*info, before);
          const bool expect = allowed(*info, cell, category, gate.optical_port_enabled(), value);
          const auto cal = gate.counter(EventCounter::calibration);
          const auto conf = gate.counter(EventCounter::configuration);
          const auto record = p.newest_record();
          changes.clear();

          kernel::Result<void> result;
          const bool port = via == Interface::optical_port || via == Interface::comms ||
                            via == Interface::local_button;
          if (port && role != Role::public_read) {
            auto session = gate.logon(via, passwords.at(role));
            ASSERT_TRUE(session) << describe(cell) << ": " << session.error().message;
            ASSERT_EQ(session->role, role);
            result = gate.write(info->id, value, *session);
            gate.logoff(*session);
          } else {
            result = gate.write(info->id, value, kernel::Requester{via, role, "matrix"});
          }

          const auto after = *objects.read(info->id, Role::public_read);
          EXPECT_EQ(result.ok(), expect)
              << describe(cell) << ": " << (result ? "allowed" : result.error().message);
          const bool calibration = info->parameter_class == ParameterClass::calibration;
          const bool clock = info->id == kernel::Meter::kClock;  // reads back with its zone
          if (expect && result) {
            ++changed_cells;
            EXPECT_TRUE(clock || after == value) << describe(cell);
            ASSERT_EQ(changes.size(), 1u) << describe(cell);
            EXPECT_EQ(gate.counter(EventCounter::calibration), (cal + (calibration ? 1 : 0)) % 1000);
            EXPECT_EQ(gate.counter(EventCounter::configuration),
                      (conf + (calibration ? 0 : 1)) % 1000);
            const auto log = p.log();
            ASSERT_FALSE(log.entries.empty());
            EXPECT_EQ(log.entries.back().record.sequence, record + 1) << describe(cell);
            const auto& r = log.entries.back().record;
            EXPECT_EQ(r.kind, RecordKind::parameter_changed);
            EXPECT_EQ(plugins::sealing_audit::obis_text(r.obis), info->id.to_string());
            EXPECT_EQ(r.counter, gate.counter(calibration ? EventCounter::calibration
                                                          : EventCounter::configuration));
            EXPECT_EQ(r.via, static_cast<std::uint8_t>(via));
            EXPECT_EQ(r.role, kernel::mask(role));
            EXPECT_EQ(r.old_value, kernel::to_string(before));
            EXPECT_EQ(r.new_value, kernel::to_string(value));
          } else {
            // Every refusal leaves a record of who tried what, and why, in the event log.
            if (!result) {
              const auto log = p.log();
              ASSERT_FALSE(log.events.entries.empty()) << describe(cell);
              const auto& r = log.events.entries.back().record;
              const bool repeated = r.kind == RecordKind::events_coalesced;
              EXPECT_TRUE(r.kind == RecordKind::write_refused || repeated) << describe(cell);
              if (!repeated) {
                EXPECT_EQ(plugins::sealing_audit::obis_text(r.obis), info->id.to_string());
                EXPECT_EQ(r.via, static_cast<std::uint8_t>(via));
                EXPECT_EQ(r.new_value, result.error().message) << describe(cell);
              }
            }
            EXPECT_TRUE(after == before) << describe(cell);
            EXPECT_TRUE(changes.empty()) << describe(cell);
            EXPECT_EQ(gate.counter(EventCounter::calibration), cal) << describe(cell);
            EXPECT_EQ(gate.counter(EventCounter::configuration), conf) << describe(cell);
            EXPECT_EQ(p.newest_record(), record) << describe(cell);
          }
        }
      }
    }
  }
  EXPECT_GT(changed_cells, 0);
  EXPECT_FALSE(p.log().tampered);
}

INSTANTIATE_TEST_SUITE_P(SealingCategories, Matrix, ::testing::Values(1, 2, 3));

TEST(Sealing, CategoryThreeWithoutTheEventLoggerRefusesEveryProtectedChange) {
  kernel::RamNvmStore store;
  kernel::VirtualTimeSource time{kernel::UtcTime{std::chrono::seconds{1'780'000'000}}};
  Powered p(store, time, 3, /*logger=*/false);
  auto& gate = p.meter->gate();
  EXPECT_FALSE(gate.remote_configuration_mode());
  auto conf = gate.logon(Interface::optical_port, "config-pw");
  ASSERT_TRUE(conf);
  EXPECT_FALSE(gate.write(ParameterGate::kOpticalPortEnabled, Value{false}, *conf));
  EXPECT_FALSE(gate.write(kernel::Meter::kImportPreset, Value{std::int64_t{0}}, *conf));
  EXPECT_EQ(gate.counter(EventCounter::configuration), 0);
}

TEST(Sealing, CategoryThreeShowsRemoteConfigurationModeWhileTheLoggerRecords) {
  kernel::RamNvmStore store;
  kernel::VirtualTimeSource time{kernel::UtcTime{std::chrono::seconds{1'780'000'000}}};
  Powered p(store, time, 3);
  EXPECT_TRUE(p.meter->gate().remote_configuration_mode());
  EXPECT_TRUE(*p.meter->objects().read(ParameterGate::kRemoteConfigurationMode,
                                       Role::public_read) == Value{true});
}

TEST(Sealing, CountersSurvivePowerCyclesAndNoInterfaceResetsThem) {
  kernel::RamNvmStore store;
  kernel::VirtualTimeSource time{kernel::UtcTime{std::chrono::seconds{1'780'000'000}}};
  {
    Powered p(store, time, 1);
    const kernel::Requester cal{Interface::optical_port, Role::calibrator, "shop"};
    const kernel::Requester conf{Interface::optical_port, Role::configurator, "shop"};
    ASSERT_TRUE(p.meter->gate().write(kCalibrationGain, Value{std::int64_t{7}}, cal));
    ASSERT_TRUE(p.meter->gate().write(kernel::Meter::kImportPreset, Value{std::int64_t{5}}, conf));
    ASSERT_TRUE(p.meter->gate().write(kernel::Meter::kExportPreset, Value{std::int64_t{5}}, conf));
  }
  Powered p(store, time, 1);
  auto& gate = p.meter->gate();
  EXPECT_EQ(gate.counter(EventCounter::calibration), 1);
  EXPECT_EQ(gate.counter(EventCounter::configuration), 2);
  for (auto via : {Interface::kernel, Interface::optical_port, Interface::comms, Interface::plugin,
                   Interface::local_button}) {
    for (auto role : {Role::public_read, Role::reader, Role::configurator, Role::calibrator}) {
      for (auto id : {ParameterGate::kCalibrationCounter, ParameterGate::kConfigurationCounter}) {
        EXPECT_FALSE(gate.write(id, Value{std::uint64_t{0}}, kernel::Requester{via, role, "x"}));
      }
    }
  }
  EXPECT_EQ(std::get<std::uint64_t>(*p.meter->objects().read(ParameterGate::kConfigurationCounter,
                                                             Role::public_read)),
            2u);
  // The audit log of the first power-up is intact and holds the three changes.
  const auto log = p.log();
  EXPECT_FALSE(log.tampered) << log.finding;
  int changes = 0;
  for (const auto& e : log.entries) changes += e.record.kind == RecordKind::parameter_changed;
  EXPECT_EQ(changes, 3);
}

TEST(Sealing, AStoreThatLostTheCountersIsDamageNeverAFreshStart) {
  kernel::RamNvmStore store;
  kernel::VirtualTimeSource time{kernel::UtcTime{std::chrono::seconds{1'780'000'000}}};
  {
    Powered p(store, time, 1, false);
    ASSERT_TRUE(p.meter->gate().write(
        kernel::Meter::kImportPreset, Value{std::int64_t{5}},
        kernel::Requester{Interface::optical_port, Role::configurator, "shop"}));
  }
  ASSERT_TRUE(store.apply({{ParameterGate::kNamespace, "counter.configuration", std::nullopt}}));
  Powered p(store, time, 1, false);
  EXPECT_EQ(p.persistence->restored().state, kernel::NvmState::damaged);
  EXPECT_NE(p.persistence->restored().detail.find("counter.configuration"), std::string::npos);
  EXPECT_TRUE(p.meter->storage_fault());
  // A damaged store cannot witness a counter step, so no protected change is made.
  EXPECT_FALSE(p.meter->gate().write(
      kernel::Meter::kImportPreset, Value{std::int64_t{9}},
      kernel::Requester{Interface::optical_port, Role::configurator, "shop"}));
  EXPECT_EQ(p.meter->registers().mwh(kernel::EnergyRegister::import_active), 5);
}

TEST(Sealing, BillingResetAndPresetGoThroughTheGateOnly) {
  kernel::RamNvmStore store;
  kernel::VirtualTimeSource time{kernel::UtcTime{std::chrono::seconds{1'780'000'000}}};
  {
    Powered p(store, time, 1);
    auto& gate = p.meter->gate();
    auto conf = gate.logon(Interface::optical_port, "config-pw");
    ASSERT_TRUE(conf);
    ASSERT_TRUE(gate.write(kernel::Meter::kImportPreset, Value{std::int64_t{123'456'000}}, *conf));
    ASSERT_TRUE(gate.write(kernel::Meter::kExportPreset, Value{std::int64_t{0}}, *conf));
    EXPECT_TRUE(*p.meter->objects().read(kernel::obis("1-0:1.8.0"), Role::public_read) ==
                Value{std::int64_t{123'456'000}});
    EXPECT_FALSE(gate.write(kernel::Meter::kImportPreset, Value{std::int64_t{-1}}, *conf));
    // The registers themselves are read-only objects.
    EXPECT_FALSE(gate.write(kernel::obis("1-0:1.8.0"), Value{std::int64_t{0}}, *conf));
    gate.set_sealed(true, kernel::SealKind::optical_plug);
    EXPECT_FALSE(gate.write(kernel::Meter::kImportPreset, Value{std::int64_t{0}}, *conf));
    p.meter->tick();  // persisted with the tick
  }
  Powered p(store, time, 1);
  EXPECT_EQ(p.meter->registers().mwh(kernel::EnergyRegister::import_active), 123'456'000);
  const auto log = p.log();
  std::vector<std::string> presets;
  for (const auto& e : log.entries) {
    if (e.record.kind == RecordKind::parameter_changed) presets.push_back(e.record.new_value);
  }
  EXPECT_EQ(presets, (std::vector<std::string>{"123456000", "0"}));
}

TEST(Sealing, WrongPasswordsLockThePortAndEveryAttemptIsInTheAuditLog) {
  kernel::RamNvmStore store;
  kernel::VirtualTimeSource time{kernel::UtcTime{std::chrono::seconds{1'780'000'000}}};
  Powered p(store, time, 3);
  auto& gate = p.meter->gate();
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(gate.logon(Interface::optical_port, "guess"));
  EXPECT_FALSE(gate.logon(Interface::optical_port, "config-pw"));  // locked
  time.advance(std::chrono::minutes(15));
  EXPECT_TRUE(gate.logon(Interface::optical_port, "config-pw"));

  gate.set_sealed(true, kernel::SealKind::cover);  // a record after the guesses' minute

  std::vector<RecordKind> kinds;
  std::vector<std::string> details;
  for (const auto& e : p.log().events.entries) {
    kinds.push_back(e.record.kind);
    details.push_back(e.record.who);
    if (e.record.kind != RecordKind::power_restore) {
      EXPECT_EQ(e.record.via, static_cast<std::uint8_t>(Interface::optical_port));
    }
  }
  // Every attempt is accounted for: the first guess in full, the lock, the refusal while
  // locked, and the two guesses that repeated the first counted into one record.
  // (A new meter's first power-up is no power restore.)
  ASSERT_EQ(kinds, (std::vector<RecordKind>{RecordKind::logon_failed, RecordKind::port_locked,
                                            RecordKind::logon_failed,
                                            RecordKind::events_coalesced}));
  EXPECT_EQ(details[0], "wrong-password, failure 1");
  EXPECT_EQ(details[1], "locked for 900 s");
  EXPECT_EQ(details[2], "locked, failure 0");
  EXPECT_NE(details[3].find("; last: wrong-password, failure 3"), std::string::npos) << details[3];
  EXPECT_TRUE(p.meter->gate().event_logger_ready());
}

TEST(Sealing, SealChangesPowerAndPluginLoadsAreInTheAuditLog) {
  kernel::RamNvmStore store;
  kernel::VirtualTimeSource time{kernel::UtcTime{std::chrono::seconds{1'780'000'000}}};
  {
    Powered p(store, time, 3);
    p.meter->gate().set_sealed(true, kernel::SealKind::optical_plug);
  }
  time.advance(std::chrono::minutes(5));
  Powered p(store, time, 3);
  std::vector<RecordKind> kinds;
  for (const auto& e : p.log().entries) kinds.push_back(e.record.kind);
  EXPECT_EQ(kinds, (std::vector<RecordKind>{RecordKind::plugin_loaded, RecordKind::seal_changed}));
  std::vector<RecordKind> events;
  for (const auto& e : p.log().events.entries) events.push_back(e.record.kind);
  // A new meter's first power-up is no power restore; the power cycle is a pair.
  EXPECT_EQ(events, (std::vector<RecordKind>{RecordKind::power_fail, RecordKind::power_restore}));
}


const std::string kOpticalPort = "optical-port";

/// The records of `kind` in the change log and the event log.
std::vector<plugins::sealing_audit::Record> records_of(Powered& p, RecordKind kind) {
  std::vector<plugins::sealing_audit::Record> out;
  const auto log = p.log();
  for (const auto* entries : {&log.entries, &log.events.entries}) {
    for (const auto& e : *entries) {
      if (e.record.kind == kind) out.push_back(e.record);
    }
  }
  return out;
}

TEST(Sealing, ALockedPortStaysLockedAcrossAPowerCycleAndUnlocksWhenItsLockoutIsOver) {
  kernel::RamNvmStore store;
  kernel::VirtualTimeSource time{kernel::UtcTime{std::chrono::seconds{1'780'000'000}}};
  {
    Powered p(store, time, 3);
    auto& gate = p.meter->gate();
    for (int i = 0; i < 3; ++i) EXPECT_FALSE(gate.logon(Interface::optical_port, "guess"));
    time.advance(std::chrono::minutes(5));  // 10 of the 15 minutes left
  }  // PowerFail, then the power is gone
  time.advance(std::chrono::hours(3));
  Powered p(store, time, 3);
  auto& gate = p.meter->gate();
  auto refused = gate.logon(Interface::optical_port, "config-pw");
  ASSERT_FALSE(refused) << "pulling the power does not lift a lockout";
  EXPECT_NE(refused.error().message.find("locked for another"), std::string::npos)
      << refused.error().message;
  time.advance(std::chrono::minutes(10) - std::chrono::seconds(1));
  EXPECT_FALSE(gate.logon(Interface::optical_port, "config-pw"));
  time.advance(std::chrono::seconds(1));
  EXPECT_TRUE(gate.logon(Interface::optical_port, "config-pw"));

  // The audit trail holds the lock before the power cycle and the refusals after it.
  EXPECT_EQ(records_of(p, RecordKind::port_locked).size(), 1u);
  // The three guesses of one minute: the first in full, the other two counted into one record.
  const auto failed = records_of(p, RecordKind::logon_failed);
  ASSERT_EQ(failed.size(), 3u);
  EXPECT_EQ(failed[0].who, "wrong-password, failure 1");
  EXPECT_EQ(failed[1].who, "locked, failure 0");
  EXPECT_EQ(failed[2].who, "locked, failure 0");
  const auto repeats = records_of(p, RecordKind::events_coalesced);
  ASSERT_EQ(repeats.size(), 1u);
  EXPECT_EQ(repeats[0].old_value, "logon-failed");
  EXPECT_EQ(repeats[0].new_value, "2 more");
}

TEST(Sealing, TheElectronicSealObjectSealsAndBreaksAsASealChangeAndSurvivesAPowerCycle) {
  kernel::RamNvmStore store;
  kernel::VirtualTimeSource time{kernel::UtcTime{std::chrono::seconds{1'780'000'000}}};
  {
    Powered p(store, time, 3);
    auto& gate = p.meter->gate();
    auto conf = gate.logon(Interface::optical_port, "config-pw");
    ASSERT_TRUE(conf);
    ASSERT_TRUE(gate.write(ParameterGate::kElectronicSeal, Value{true}, *conf));
    EXPECT_EQ(gate.counter(EventCounter::configuration), 0);
    EXPECT_FALSE(gate.write(kernel::Meter::kDisplayMultiplier, Value{std::int64_t{2}}, *conf));
    const auto seals = records_of(p, RecordKind::seal_changed);
    ASSERT_EQ(seals.size(), 1u);
    EXPECT_EQ(seals[0].who, "electronic seal");
    EXPECT_EQ(seals[0].new_value, "sealed");
    EXPECT_TRUE(records_of(p, RecordKind::parameter_changed).empty());
  }
  Powered p(store, time, 3);
  auto& gate = p.meter->gate();
  EXPECT_TRUE(*p.meter->objects().read(ParameterGate::kElectronicSeal, Role::public_read) ==
              Value{true});
  EXPECT_TRUE(gate.sealed());
  auto conf = gate.logon(Interface::optical_port, "config-pw");
  auto cal = gate.logon(Interface::optical_port, "cal-pw");
  ASSERT_TRUE(conf && cal);
  EXPECT_FALSE(gate.write(ParameterGate::kElectronicSeal, Value{false}, *conf));
  ASSERT_TRUE(gate.write(ParameterGate::kElectronicSeal, Value{false}, *cal));
  EXPECT_FALSE(gate.sealed());
  const auto seals = records_of(p, RecordKind::seal_changed);
  ASSERT_EQ(seals.size(), 2u);
  EXPECT_EQ(seals[1].new_value, "broken");
}

TEST(Sealing, ASealSwitchBrokenWhileThePowerWasOffIsRecordedAtPowerUp) {
  kernel::RamNvmStore store;
  kernel::VirtualTimeSource time{kernel::UtcTime{std::chrono::seconds{1'780'000'000}}};
  const std::uint8_t fitted =
      boards::seal_bit(kernel::SealKind::cover) | boards::seal_bit(kernel::SealKind::optical_plug);
  {
    Powered p(store, time, 3);
    boards::apply_seal_switches({fitted, fitted}, p.meter->gate());
    EXPECT_EQ(records_of(p, RecordKind::seal_changed).size(), 2u);
  }
  time.advance(std::chrono::hours(1));
  {
    Powered p(store, time, 3);
    EXPECT_EQ(p.meter->gate().seal_state(), fitted) << "as the store kept it";
    boards::apply_seal_switches({fitted, fitted}, p.meter->gate());  // nothing changed
    EXPECT_EQ(records_of(p, RecordKind::seal_changed).size(), 2u);
  }
  time.advance(std::chrono::hours(1));
  Powered p(store, time, 3);
  // The cover was opened while the meter was off: the board reads it broken at power-up.
  boards::apply_seal_switches({fitted, boards::seal_bit(kernel::SealKind::optical_plug)},
                              p.meter->gate());
  const auto seals = records_of(p, RecordKind::seal_changed);
  ASSERT_EQ(seals.size(), 3u);
  EXPECT_EQ(seals[2].who, "cover seal");
  EXPECT_EQ(seals[2].new_value, "broken");
  EXPECT_TRUE(p.meter->gate().sealed()) << "the plug still seals it";
  EXPECT_EQ(p.meter->gate().seal_state(), boards::seal_bit(kernel::SealKind::optical_plug));
}

TEST(Sealing, TheDisplayMultiplierIsAuditedCountedAndKeptAcrossAPowerCycle) {
  kernel::RamNvmStore store;
  kernel::VirtualTimeSource time{kernel::UtcTime{std::chrono::seconds{1'780'000'000}}};
  {
    Powered p(store, time, 3);
    auto conf = p.meter->gate().logon(Interface::optical_port, "config-pw");
    ASSERT_TRUE(conf);
    ASSERT_TRUE(p.meter->gate().write(kernel::Meter::kDisplayMultiplier, Value{std::int64_t{40}},
                                      *conf));
    const auto changes = records_of(p, RecordKind::parameter_changed);
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(plugins::sealing_audit::obis_text(changes[0].obis), "0-0:128.8.0");
    EXPECT_EQ(changes[0].old_value, "1");
    EXPECT_EQ(changes[0].new_value, "40");
    EXPECT_EQ(changes[0].counter, 1);
  }
  Powered p(store, time, 3);
  EXPECT_EQ(p.meter->display_multiplier(), 40);
  kernel::DisplaySettings settings;
  settings.items = {{kernel::DisplayItem::Kind::object, kernel::obis("1-0:1.8.0"), "1-0:1.8.0"}};
  kernel::Display display(p.meter->objects(), settings, "test");
  const auto screen = display.render(0);
  ASSERT_FALSE(screen.annunciators.empty());
  EXPECT_EQ(screen.annunciators[0], "x40");
}

TEST(Sealing, SettingTheClockIsAuditedAsATimeChangeAndAParameterChange) {
  kernel::RamNvmStore store;
  kernel::VirtualTimeSource time{kernel::UtcTime{std::chrono::seconds{1'780'000'000}}};
  Powered p(store, time, 3);
  auto& gate = p.meter->gate();
  auto reader = gate.logon(Interface::optical_port, "read-pw");
  auto conf = gate.logon(Interface::optical_port, "config-pw");
  ASSERT_TRUE(reader && conf);
  const Value midnight{std::string("2026-06-01 00:00:00")};
  EXPECT_FALSE(gate.write(kernel::Meter::kClock, midnight, *reader));
  ASSERT_TRUE(gate.write(kernel::Meter::kClock, midnight, *conf));
  const auto times = records_of(p, RecordKind::time_changed);
  ASSERT_EQ(times.size(), 1u);
  const auto changes = records_of(p, RecordKind::parameter_changed);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(plugins::sealing_audit::obis_text(changes[0].obis), "0-0:1.0.0");
  EXPECT_EQ(changes[0].new_value, "2026-06-01 00:00:00");
  // The time decides the TOU rate: a tariff parameter, so its change is counted.
  EXPECT_EQ(changes[0].parameter_class, static_cast<std::uint8_t>(ParameterClass::tariff));
  EXPECT_EQ(changes[0].counter, 1);
  EXPECT_EQ(gate.counter(EventCounter::configuration), 1);
}

}  // namespace
}  // namespace meter
