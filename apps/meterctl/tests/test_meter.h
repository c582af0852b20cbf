// An in-process meter for meterctl's tests: the c1218 Server in front of the c1219 Tables over
// the table tests' FakeSource, with the optical port's logon rules (three passwords and their
// roles, a lockout after failed logons, a port that can be disabled) and an electronic seal
// that seals the fake. `connector()` gives meterctl a LoopbackTransport to it: the link runs on
// its own clock, so timeouts play out without sleeping.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <meter/c1218/loopback.h>
#include <meter/c1218/server.h>
#include <meter/c1219/tables.h>
#include <meter/sdk/obis.h>

#include "cli.h"
#include "fake_source.h"

namespace meter::apps::meterctl::testing {

using namespace meter::c1219::testing;  // FakeSource, fill_meter, kReader, ...
using c1219::ObjectMeta;
using c1219::WriteOutcome;
using meter::sdk::obis;

class TestMeter final : public c1218::Endpoint {
 public:
  TestMeter() {
    fill_meter(source);
    source.role = kPublic;
    // The gate's rules for the electronic seal: set by a configurator or a calibrator, broken
    // only by a calibrator; the seal makes sealable parameters refuse writes (dlk).
    ObjectMeta seal;
    seal.id = obis("0-0:128.6.7");
    seal.type = METER_VALUE_BOOLEAN;
    seal.write_roles = kConfigurator | kCalibrator;
    seal.parameter_class = METER_PARAMETER_OPERATIONAL;
    source.add(seal, Value{false}, [this](const Value& v) {
      const bool sealed = std::get<bool>(v);
      if (!sealed && source.role != kCalibrator) return WriteOutcome::denied_role;
      source.sealed = sealed;
      source.set(obis("0-0:128.6.0"), Value{std::uint64_t{sealed ? 8U : 0U}});
      return WriteOutcome::done;
    });
    // The clock takes local "YYYY-MM-DD HH:MM:SS" or UTC "YYYY-MM-DDTHH:MM:SSZ".
    ObjectMeta clock_object;
    clock_object.id = obis("0-0:1.0.0");
    clock_object.type = METER_VALUE_TEXT;
    clock_object.write_roles = kConfigurator | kCalibrator;
    clock_object.parameter_class = METER_PARAMETER_OPERATIONAL;
    source.add(clock_object, Value{std::string("2026-07-15 14:30:05 EDT")}, [](const Value& v) {
      const auto& s = std::get<std::string>(v);
      return s.size() == 19 || (s.size() == 20 && s.back() == 'Z') ? WriteOutcome::done
                                                                    : WriteOutcome::invalid_value;
    });
    source.set(obis("0-0:128.6.0"), Value{std::uint64_t{0}});
  }

  c1218::Identity identity() override { return {0, 1, 0, {}}; }

  c1218::ResponseCode logon(std::uint16_t, std::string_view user) override {
    last_user = std::string(user.substr(0, user.find_last_not_of(' ') + 1));
    source.role = kPublic;
    tables_ = std::make_unique<c1219::Tables>(source, test_identification());
    return c1218::ResponseCode::ok;
  }

  c1218::ResponseCode security(std::span<const std::uint8_t, c1218::kPasswordLength> p) override {
    std::string given(p.begin(), std::find(p.begin(), p.end(), std::uint8_t{0}));
    if (!port_enabled) return c1218::ResponseCode::onp;
    if (failures >= max_failures) return c1218::ResponseCode::bsy;
    const auto found = passwords.find(given);
    if (found == passwords.end()) {
      ++failures;
      return c1218::ResponseCode::isc;
    }
    failures = 0;
    source.role = found->second;
    return c1218::ResponseCode::ok;
  }

  void logoff() override {
    ++logoffs;
    source.role = kPublic;
    tables_.reset();
  }

  c1218::TableResult read(std::uint16_t table, std::optional<c1218::Range> range) override {
    if (!tables_) return {c1218::ResponseCode::isss, {}};
    if (const auto refused = refused_tables.find(table); refused != refused_tables.end()) {
      return {refused->second, {}};
    }
    const auto r = range ? tables_->read(table, range->offset, range->count) : tables_->read(table);
    return {r.code, r.data};
  }

  c1218::ResponseCode write(std::uint16_t table, std::optional<std::uint32_t> offset,
                            std::span<const std::uint8_t> data) override {
    if (!tables_) return c1218::ResponseCode::isss;
    return tables_->write(table, offset.value_or(0), data);
  }

  FakeSource source;
  std::map<std::string, int> passwords = {{"dev-reader", kReader},
                                          {"dev-configurator", kConfigurator},
                                          {"dev-calibrator", kCalibrator}};
  int max_failures = 3;
  int failures = 0;
  bool port_enabled = true;
  int logoffs = 0;
  std::string last_user;
  std::map<std::uint16_t, c1218::ResponseCode> refused_tables;  ///< reads answered so

 private:
  std::unique_ptr<c1219::Tables> tables_;
};

/// What one meterctl run printed and returned.
struct Run {
  int exit = -1;
  std::string out;
  std::string err;
};

/// A meter on a loopback link, and meterctl runs against it.
class Bench {
 public:
  explicit Bench(c1218::ServerConfig config = {}) : server(meter, config) {}

  /// Runs `meterctl --connect tcp://meter.test:1 ARGS...` (the connector ignores the address).
  Run run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--connect", "tcp://meter.test:1"});
    std::ostringstream out;
    std::ostringstream err;
    Run r;
    r.exit = meterctl_main(std::move(args), connector(), out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  /// Each connection is a new link on a clock that keeps moving forward, as a probe put on
  /// the port again would be.
  Connector connector() {
    return [this](const Target&) -> Outcome<std::unique_ptr<c1218::Transport>> {
      server.reset();
      start_ += std::chrono::hours(1);
      auto link = std::make_unique<c1218::LoopbackTransport>(server, start_);
      if (to_client) link->to_client = to_client;
      return std::unique_ptr<c1218::Transport>(std::move(link));
    };
  }

  TestMeter meter;
  c1218::Server server;
  c1218::LoopbackTransport::Filter to_client;  ///< applied to every link made

 private:
  c1218::TimePoint start_{};
};

}  // namespace meter::apps::meterctl::testing
