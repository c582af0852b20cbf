// meterd: the meter. `meterd --sku FILE --site FILE [--state DIR] [--simulate 30d]`.
#include <CLI/CLI.hpp>
#include <date/date.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

#include "meter/kernel/config.h"
#include "meter/kernel/gate.h"
#include "heap_watch.h"
#include "meterd.h"
#include "supervisor.h"

int main(int argc, char** argv) {
  meter::apps::MeterdOptions o;
  bool reference = false;
  std::string state;
  std::string oem_key;
  CLI::App app{"meterd: an electricity meter assembled from a board, an SKU and a site"};
  // The files are checked by the configuration loader, which names the path and the reason
  // like every other configuration error (exit 2).
  app.add_option("--sku", o.sku, "the product (SKU) file");
  app.add_option("--site", o.site, "the site file");
  app.add_option("--state", state, "directory of the meter's nonvolatile store");
  app.add_option("--simulate", o.simulate_s,
                 "run this long on a virtual clock, as fast as the CPU allows (90s, 15m, 12h, 30d)")
      ->transform(CLI::AsNumberWithUnit(std::map<std::string, std::uint64_t>{
          {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}}));
  std::uint64_t flush_period_s = 900;
  app.add_option("--flush-period", flush_period_s,
                 "make the store durable this often, in real time (default 15m); a killed process "
                 "loses nothing in between")
      ->transform(CLI::AsNumberWithUnit(std::map<std::string, std::uint64_t>{
          {"s", 1}, {"m", 60}, {"h", 3600}}));
  app.add_option("--boards", o.board_dirs, "more directories of board descriptors");
  app.add_option("--plugins", o.plugin_dirs, "more plugin directories");
  app.add_option("--oem-key", oem_key,
                 "the OEM's Ed25519 public key for legally relevant plugins: 64 hex digits, or a "
                 "file holding them (as meter-sign writes it); default: the build's development "
                 "key");
  std::string key_ring;
  app.add_option("--key-ring", key_ring,
                 "module vendors' public keys and the plugin ids each may sign (TOML [[key]] "
                 "tables: name, public_key, plugins), trusted beside the OEM key");
  std::string profile_csv;
  std::string until;
  app.add_option("--until", until, "simulate until this UTC time (2026-03-02T00:00:00Z)");
  app.add_flag("--trace", o.trace, "print start, tick, stopped and done lines instead of a report");
  app.add_option("--export-profile", profile_csv, "write the load profile as CSV to this file");
  app.add_flag("--print-audit", o.print_audit, "print the audit trail (event logger) at the end");
  bool hash = false;
  app.add_flag("--hash-password", hash,
               "read a password from stdin and print its hash for an SKU's [security] table");
  app.add_flag("--check", o.check_only,
               "check the configuration and create every plugin, then stop; opens no store, "
               "starts no plugin (no socket, relay or broker is touched)");
  bool unsupervised = false;
  app.add_flag("--no-supervisor", unsupervised,
               "with --state: run the meter in this process, without the supervisor that "
               "restarts it without a plugin that crashed or hung it");
  std::int64_t plugin_heap_mib = 64;
  app.add_option("--plugin-heap-limit", plugin_heap_mib,
                 "supervised: a plugin whose calls keep more heap than this many MiB leaks; the "
                 "meter starts again without it (default 64)")
      ->check(CLI::Range(1, 1 << 20));
  std::int64_t memory_mib = 256;
  app.add_option("--memory-limit", memory_mib,
                 "supervised: the meter is started again when it grows beyond this many MiB "
                 "resident, without the plugin whose calls kept most of it (default 256)")
      ->check(CLI::Range(16, 1 << 20));
  bool list_plugins = false;
  app.add_flag("--list-plugins", list_plugins,
               "print the ids of the plugins the SKU (--sku) carries, one a line, and stop");
  app.add_flag("--config-reference", reference, "print the configuration reference (Markdown)");
  CLI11_PARSE(app, argc, argv);

  if (hash) {
    std::string password;
    std::getline(std::cin, password);
    auto hashed = meter::kernel::hash_password(password);
    if (!hashed) {
      std::cerr << "meterd: " << hashed.error().message << "\n";
      return meter::apps::kExitFailure;
    }
    std::cout << *hashed << "\n";
    return 0;
  }
  if (reference) {
    std::cout << meter::kernel::config::reference_markdown();
    return 0;
  }
  if (list_plugins) {
    if (o.sku.empty()) {
      std::cerr << "meterd: --list-plugins needs --sku\n";
      return meter::apps::kExitConfig;
    }
    meter::kernel::config::Diagnostics errors;
    const auto ids = meter::kernel::config::sku_plugin_ids(o.sku, errors);
    if (!errors.empty()) {
      std::cerr << errors.to_string();
      return meter::apps::kExitConfig;
    }
    for (const auto& id : ids) std::cout << id << "\n";
    return 0;
  }
  if (o.sku.empty() || o.site.empty()) {
    std::cerr << "meterd: --sku and --site are required (see --help)\n";
    return meter::apps::kExitConfig;
  }
  if (!state.empty()) o.state_dir = state;
  o.flush_period = std::chrono::seconds{flush_period_s};
  if (!profile_csv.empty()) o.export_profile = profile_csv;
  if (!until.empty()) {
    std::istringstream in(until);
    date::sys_seconds t;
    in >> date::parse("%FT%TZ", t);
    if (in.fail()) {
      std::cerr << "meterd: --until " << until << " is not a UTC time like 2026-03-02T00:00:00Z\n";
      return meter::apps::kExitConfig;
    }
    o.until = meter::kernel::UtcTime{t};
  }
  if (app.count("--oem-key") > 0 && oem_key.empty()) {
    // An unset variable in a script must not mean "trust the development key".
    std::cerr << "meterd: --oem-key is empty: give 64 hex digits or a key file\n";
    return meter::apps::kExitConfig;
  }
  if (oem_key.empty() && std::filesystem::exists(METER_OEM_PUBLIC_KEY)) {
    oem_key = METER_OEM_PUBLIC_KEY;  // the build tree's development OEM key
  }
  if (!oem_key.empty()) {
    auto hex = meter::apps::oem_key_text(oem_key);
    if (!hex) {
      std::cerr << "meterd: --oem-key " << oem_key << ": " << hex.error().message << "\n";
      return meter::apps::kExitConfig;
    }
    o.oem_key_hex = *hex;
  }
  if (!key_ring.empty()) {
    auto keys = meter::apps::load_key_ring(key_ring);
    if (!keys) {
      std::cerr << "meterd: --key-ring: " << keys.error().message << "\n";
      return meter::apps::kExitConfig;
    }
    o.vendor_keys = std::move(*keys);
  }
  o.board_dirs.emplace_back(METER_BOARD_DIR);
  o.plugin_dirs.emplace_back(METER_PLUGIN_DIR);
  o.progress = isatty(STDERR_FILENO) != 0;
  // A meter with a store is supervised: its registers survive a restart, so a plugin that
  // crashes or hangs the meter costs a second of metering, not the meter.
  if (o.state_dir && !o.check_only && !unsupervised) {
    if (auto* shared = meter::apps::make_supervision()) {
      o.supervision = shared;
      meter::apps::SupervisorOptions limits;
      limits.plugin_heap_limit = plugin_heap_mib << 20;
      limits.memory_limit = memory_mib << 20;
      return meter::apps::supervise(*shared, limits, [&o, shared] {
        meter::apps::count_plugin_heap(&shared->call);  // this thread is the kernel's
        return meter::apps::run_meterd(o, std::cout, std::cerr);
      });
    }
  }
  return meter::apps::run_meterd(o, std::cout, std::cerr);
}
