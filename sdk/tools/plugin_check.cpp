// meter-plugin-check PLUGIN: loads a plugin into the SDK's fake host and reports, check by
// check, whether it keeps the ABI's promises — like the VST3 validator. Exit status 0 when every
// check passes, 1 when one fails, 2 on bad usage.
#include <boost/dll/shared_library.hpp>
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "meter/sdk/abi.h"
#include "meter/sdk/manifest.h"
#include "meter/sdk/testing/fake_host.h"

namespace {

namespace fs = std::filesystem;
using meter::sdk::Status;
using meter::sdk::testing::FakeHost;
using meter::sdk::testing::FakeHostOptions;

class Report {
 public:
  bool check(const std::string& name, bool ok, const std::string& detail) {
    fmt::print("{} {:<14} {}\n", ok ? "PASS" : "FAIL", name, detail);
    failed_ = failed_ || !ok;
    return ok;
  }
  bool failed() const noexcept { return failed_; }

 private:
  bool failed_ = false;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string descriptor_problem(const meter_plugin_descriptor* d) {
  if (d == nullptr) return "the entry point returned NULL";
  if (d->abi_major != METER_ABI_MAJOR) {
    return fmt::format("ABI major {} is not this SDK's {}", d->abi_major, METER_ABI_MAJOR);
  }
  if (d->abi_minor > METER_ABI_MINOR) {
    return fmt::format("ABI {}.{} is newer than this SDK's {}.{}", d->abi_major, d->abi_minor,
                       METER_ABI_MAJOR, METER_ABI_MINOR);
  }
  if (d->struct_size < METER_DESCRIPTOR_MIN_SIZE) {
    return fmt::format("struct_size {} is below the minimum {}", d->struct_size,
                       METER_DESCRIPTOR_MIN_SIZE);
  }
  if (d->id == nullptr || d->version == nullptr || d->manifest_toml == nullptr) {
    return "id, version or manifest_toml is NULL";
  }
  if (!d->create || !d->destroy || !d->start || !d->stop) {
    return "create, destroy, start or stop is NULL";
  }
  return {};
}

FakeHostOptions options_for(const toml::table& config, const std::set<std::string>& granted) {
  FakeHostOptions options;
  options.config = config;
  options.granted = granted;
  return options;
}

/// Publishes every kernel event type, with zeroed and with plausible data.
std::size_t storm(FakeHost& host, int ticks) {
  std::size_t failed = 0;
  for (int i = 0; i < ticks; ++i) failed += host.tick(1000, 100 + i % 7);
  meter_measurements m{};
  m.phases = 1;
  m.voltage_v[0] = 240.0;
  m.frequency_hz = 60.0;
  failed += host.publish(m);
  meter_time_event power_fail{host.now_utc_ms()};
  failed += host.publish(METER_EVENT_POWER_FAIL, &power_fail);
  meter_power_restore restore{host.now_utc_ms(), 90'000'000, 0};
  failed += host.publish(restore);
  meter_time_changed changed{host.now_utc_ms(), host.now_utc_ms() + 3'600'000, 1};
  failed += host.publish(changed);
  meter_midnight midnight{host.now_utc_ms(), 2024, 3, 10, 0};
  failed += host.publish(midnight);
  meter_parameter_changed parameter{host.now_utc_ms(), {1, 0, 0, 2, 0, 255}, "1", "2", "test",
                                    METER_INTERFACE_OPTICAL_PORT, 4, METER_PARAMETER_CONFIGURATION,
                                    2, 1};
  failed += host.publish(parameter);
  meter_seal_changed seal{host.now_utc_ms(), 4, 1};
  failed += host.publish(seal);
  failed += host.publish_topic("storm.event", "payload");
  return failed;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Checks a meter plugin against the SDK's ABI, manifest and lifecycle rules."};
  std::string plugin_path;
  std::string config_path;
  std::vector<std::string> grants;
  int cycles = 100;
  int ticks = 10'000;
  app.add_option("plugin", plugin_path, "the plugin's shared library")->required();
  app.add_option("--config", config_path, "a TOML file with the plugin's configuration");
  app.add_option("--grant", grants, "a capability to grant, as an SKU would (repeatable)");
  app.add_option("--cycles", cycles, "create/start/stop/destroy cycles")->check(CLI::PositiveNumber);
  app.add_option("--ticks", ticks, "energy ticks in the event storm")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);

  Report report;
  const fs::path path = fs::absolute(plugin_path);
  fmt::print("meter-plugin-check {} (SDK ABI {}.{})\n", path.string(), METER_ABI_MAJOR,
             METER_ABI_MINOR);

  std::optional<boost::dll::shared_library> library;
  try {
    library.emplace(path.string(), boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    report.check("load", false, e.what());
    return 1;
  }
  report.check("load", true, "library opened");
  if (!library->has(METER_PLUGIN_ENTRY_SYMBOL)) {
    report.check("entry", false, "no exported symbol " METER_PLUGIN_ENTRY_SYMBOL);
    return 1;
  }
  auto entry = library->get<const meter_plugin_descriptor*()>(METER_PLUGIN_ENTRY_SYMBOL);
  const meter_plugin_descriptor* descriptor = entry();
  const std::string problem = descriptor_problem(descriptor);
  if (!report.check("descriptor", problem.empty(),
                    problem.empty() ? fmt::format("{} {} ABI {}.{}, {} bytes{}", descriptor->id,
                                                  descriptor->version, descriptor->abi_major,
                                                  descriptor->abi_minor, descriptor->struct_size,
                                                  descriptor->struct_size >= sizeof(meter_plugin_descriptor)
                                                      ? ""
                                                      : " (older minor: optional callbacks absent)")
                                    : problem)) {
    return 1;
  }

  auto parsed = meter::sdk::parse_manifest(descriptor->manifest_toml, "embedded plugin.toml");
  if (!report.check("manifest", parsed.manifest.has_value(),
                    parsed.manifest ? "embedded plugin.toml parses" : parsed.errors.front())) {
    return 1;
  }
  const auto& manifest = *parsed.manifest;
  std::string mismatch;
  if (manifest.id != descriptor->id) {
    mismatch = fmt::format("manifest id {} but descriptor id {}", manifest.id, descriptor->id);
  } else if (manifest.version != descriptor->version) {
    mismatch = fmt::format("manifest version {} but descriptor version {}", manifest.version,
                           descriptor->version);
  } else if (manifest.abi_major != descriptor->abi_major || manifest.abi_minor != descriptor->abi_minor) {
    mismatch = fmt::format("manifest ABI {}.{} but descriptor ABI {}.{}", manifest.abi_major,
                           manifest.abi_minor, descriptor->abi_major, descriptor->abi_minor);
  } else {
    fs::path beside = path;
    beside.replace_extension(".toml");
    if (!fs::exists(beside)) {
      mismatch = "no " + beside.filename().string() + " beside the library";
    } else if (read_file(beside) != descriptor->manifest_toml) {
      mismatch = beside.filename().string() + " differs from the embedded manifest";
    }
  }
  report.check("manifest-match", mismatch.empty(),
               mismatch.empty() ? "id, version, ABI and the file beside agree" : mismatch);

  toml::table config;
  if (!config_path.empty()) {
    std::string error;
    auto file = meter::sdk::parse_toml(read_file(config_path), config_path, error);
    if (!file) {
      report.check("schema", false, error);
      return 1;
    }
    config = std::move(*file);
  }
  const auto check = meter::sdk::validate_config(manifest, config,
                                                 config_path.empty() ? "defaults" : config_path);
  report.check("schema", check.ok(),
               check.ok() ? fmt::format("{} configuration keys, all valid", manifest.config.size())
                          : check.errors.front());
  if (!check.ok()) return 1;

  const std::set<std::string> granted(grants.begin(), grants.end());
  int cycle_failures = 0;
  std::string cycle_detail = fmt::format("{} create/start/stop/destroy cycles", cycles);
  for (int i = 0; i < cycles && cycle_failures == 0; ++i) {
    FakeHost host(descriptor, options_for(config, granted));
    Status s = host.create();
    if (s == Status::ok) s = host.start();
    if (s == Status::ok) s = host.stop();
    host.destroy();
    if (s != Status::ok) {
      ++cycle_failures;
      cycle_detail = fmt::format("cycle {} failed: {}", i + 1, meter::sdk::to_string(s));
    }
  }
  report.check("lifecycle", cycle_failures == 0, cycle_detail);

  {
    FakeHost host(descriptor, options_for(config, granted));
    if (host.create() == Status::ok && host.start() == Status::ok) {
      std::string unlisted;
      for (const auto& o : manifest.objects) {
        auto id = meter::sdk::parse_obis(o.obis);
        if (!id || !host.has_object(*id)) unlisted += (unlisted.empty() ? "" : ", ") + o.obis;
      }
      report.check("objects", unlisted.empty(),
                   unlisted.empty() ? fmt::format("{} objects registered as the manifest says",
                                                  host.objects())
                                    : "not registered: " + unlisted);
      const std::size_t failed = storm(host, ticks);
      report.check("event-storm", failed == 0,
                   fmt::format("{} ticks and every event type, {} handler faults", ticks, failed));
      const Status self_test = host.self_test();
      report.check("self-test", self_test == Status::ok,
                   METER_HAS_FIELD(meter_plugin_descriptor, descriptor->struct_size, self_test)
                       ? fmt::format("self_test: {}", meter::sdk::to_string(self_test))
                       : "not provided (ok)");
      const Status stopped = host.stop();
      report.check("stop", stopped == Status::ok && host.subscriptions() == 0 && host.objects() == 0,
                   fmt::format("stop: {}, subscriptions and objects dropped",
                               meter::sdk::to_string(stopped)));
    } else {
      report.check("event-storm", false, "could not start the plugin");
    }
  }

  try {
    library->unload();
    boost::dll::shared_library again(path.string(), boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    auto reentry = again.get<const meter_plugin_descriptor*()>(METER_PLUGIN_ENTRY_SYMBOL);
    FakeHost host(reentry(), options_for(config, granted));
    const bool ok = host.create() == Status::ok && host.start() == Status::ok &&
                    host.stop() == Status::ok;
    host.destroy();
    report.check("unload", ok, "unloaded, reloaded and cycled again");
  } catch (const std::exception& e) {
    report.check("unload", false, e.what());
  }

  fmt::print("{}\n", report.failed() ? "FAILED" : "all checks passed");
  return report.failed() ? 1 : 0;
}
