// meter-host-load: loads plugins into a simulated meter through the kernel's plugin host, runs
// it for some ticks and reports each plugin's state, the refusals and the software
// identification. Exit status 0 when every plugin named started and stayed started.
//   meter-host-load --dir build/plugins hello
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "meter/kernel/meter.h"
#include "meter/kernel/plugin_host.h"

int main(int argc, char** argv) {
  using namespace meter::kernel;
  CLI::App app{"Loads meter plugins into a simulated meter and runs it."};
  std::vector<std::string> dirs;
  std::vector<std::string> ids;
  std::vector<std::string> grants;
  std::string key_path;
  int ticks = 60;
  app.add_option("--dir", dirs, "a plugin directory (repeatable)")->required();
  app.add_option("--grant", grants, "a capability granted to every plugin (repeatable)");
  app.add_option("--oem-key", key_path, "the OEM public key file (hex)");
  app.add_option("--ticks", ticks, "one-second ticks to run")->check(CLI::PositiveNumber);
  app.add_option("ids", ids, "plugin ids to load")->required();
  CLI11_PARSE(app, argc, argv);

  MeterConfig c;
  c.metrology.service = *find_service("1e2w");
  c.metrology.channel_count = c.metrology.service->channels();
  c.metrology.volts_per_code.fill(0.01);
  c.metrology.amps_per_code.fill(0.001);
  VirtualTimeSource time{UtcTime{std::chrono::seconds{1'780'000'000}}};
  auto made = Meter::create(c, time);
  if (!made) {
    fmt::print(stderr, "meter-host-load: {}\n", made.error().message);
    return 2;
  }
  auto& meter = *made.value();
  PluginHostConfig config;
  for (const auto& d : dirs) config.plugin_dirs.emplace_back(d);
  if (!key_path.empty()) {
    auto bytes = read_binary(key_path);
    auto key = bytes ? from_hex<32>(std::string(bytes->begin(), bytes->end()))
                     : Result<PublicKey>(bytes.error());
    if (!key) {
      fmt::print(stderr, "meter-host-load: {}: {}\n", key_path, key.error().message);
      return 2;
    }
    config.oem_public_key = *key;
  }
  config.log = [](int, const std::string& plugin, const std::string& line) {
    fmt::print("  [{}] {}\n", plugin, line);
  };
  RamNvmStore nvm;
  PluginHost host({meter.bus(), meter.objects(), meter.gate(), meter.clock(), nvm, nullptr},
                  std::move(config));
  std::vector<PluginSpec> specs;
  for (const auto& id : ids) {
    PluginSpec s;
    s.id = id;
    s.granted = {grants.begin(), grants.end()};
    specs.push_back(std::move(s));
  }
  host.load_all(specs);
  host.start_all();
  (void)host.register_identity_objects();
  for (int i = 0; i < ticks; ++i) {
    AccumulatorReading r;
    r.interval = std::chrono::seconds{1};
    r.elements = 1;
    r.active_energy_lsb[0] = 1'000'000'000;  // 1 Wh per second, in nWh
    r.voltage_v[0] = 120;
    r.current_a[0] = 30;
    r.frequency_hz = 60;
    meter.add(r);
    time.advance(std::chrono::seconds{1});
    meter.tick();
  }
  bool ok = true;
  for (const auto& id : ids) {
    auto s = host.status(id);
    const bool started = s && s->state == PluginState::started;
    ok = ok && started;
    fmt::print("{} {}: {}\n", started ? "STARTED" : "NOT STARTED", id,
               s ? fmt::format("version {}, {} faults, {} objects, {} subscriptions", s->version,
                               s->faults, s->objects, s->subscriptions)
                 : "not loaded");
  }
  for (const auto& r : host.refusals()) {
    fmt::print("REFUSED {} ({}): {}\n", r.plugin, to_string(r.reason), r.detail);
  }
  fmt::print("import register: {} mWh after {} ticks\n",
             meter.registers().mwh(EnergyRegister::import_active), ticks);
  fmt::print("software identification: {}\n", host.software_identity().display_text());
  return ok ? 0 : 1;
}
