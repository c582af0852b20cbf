// The plugin host: loads the plugins an SKU names (Boost.DLL), checks each one — descriptor,
// ABI version, manifest, signature, capabilities, configuration, dependencies — starts them in
// dependency order, connects them to the bus and the registry through the C ABI in
// sdk/include/meter/sdk/abi.h, isolates the ones that fail, and stops and unloads them in
// reverse order. A refused or disabled plugin never stops the meter from metering.
//
// Thread: the kernel thread, like the bus. Plugins are called only from here.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "meter/kernel/bus.h"
#include "meter/kernel/clock.h"
#include "meter/kernel/gate.h"
#include "meter/kernel/nvm.h"
#include "meter/kernel/registry.h"
#include "meter/kernel/relay.h"
#include "meter/kernel/result.h"
#include "meter/kernel/software_id.h"
#include "meter/sdk/abi.h"

namespace meter::kernel {

/// Why a plugin was refused or disabled. Each has a stable code (to_string) for logs and tests.
enum class RefusalReason : std::uint8_t {
  not_found = 1,          ///< no library for the id in the plugin directories
  load_failed,            ///< the dynamic loader refused the library
  missing_entry,          ///< no exported meter_plugin_entry
  bad_descriptor,         ///< NULL descriptor, NULL fields, struct_size too small
  abi_major,              ///< built against another ABI major
  abi_minor,              ///< built against a newer ABI minor than the host's
  manifest_invalid,       ///< plugin.toml missing or malformed
  manifest_mismatch,      ///< the manifest beside, the embedded one and the descriptor disagree
  version_mismatch,       ///< not the version the SKU asks for
  capability_not_granted, ///< the manifest needs a capability the SKU does not grant
  config_invalid,         ///< the configuration breaks the manifest's schema or a rule the
                          ///< plugin reports (Refusal::config_problems say which settings)
  constraint_broken,      ///< a comms module's constraint on the meter is not met
  unsigned_plugin,        ///< legally relevant without a signature (or no OEM key)
  bad_signature,          ///< the signature does not match: altered or wrongly signed
  duplicate,              ///< a plugin with this id is already loaded
  dependency_missing,     ///< requires something no started plugin provides (or a cycle)
  create_failed,          ///< create returned an error or threw
  start_failed,           ///< start returned an error or threw
  fault_limit,            ///< disabled: its handlers failed too often
  not_legally_relevant,   ///< the product marks it legally relevant; it does not declare so
  not_approved,           ///< not the build the product's software_id approves
  crashed,                ///< it crashed or hung the meter; the supervisor disabled it
};
std::string_view to_string(RefusalReason reason) noexcept;

/// Where the host marks each call into a plugin: which plugin, since when. Written on the
/// kernel thread, read from anywhere: a watchdog thread, or a supervising process that shares
/// the memory, tells from it which plugin hung or crashed the meter.
///
/// It also keeps what each plugin's calls left on the heap: `slot` is the plugin being called
/// (its place in `heap_plugin`), and an allocator that counts (meterd's, see
/// apps/meterd/heap_watch.h) adds what the kernel thread allocates during the call to
/// `heap_bytes[slot]` and takes off what it frees. A plugin that leaks shows as a slot that
/// only grows.
struct CallBreadcrumb {
  static constexpr int kHeapSlots = 16;
  std::atomic<std::int64_t> since_ms{0};  ///< steady ms the outermost call began; 0: none
  char plugin[64] = {};                   ///< the plugin called, NUL-terminated
  std::atomic<int> slot{-1};              ///< the called plugin's heap slot; -1: none
  std::atomic<std::int64_t> heap_bytes[kHeapSlots] = {};  ///< kept by each slot's calls
  char heap_plugin[kHeapSlots][64] = {};  ///< each slot's plugin id; empty: free
};
static_assert(std::atomic<std::int64_t>::is_always_lock_free);

/// A plugin an SKU names: which, which version, what it may do, how it is configured.
struct PluginSpec {
  std::string id;                  ///< looked up as <id>.so in the plugin directories
  std::filesystem::path path;      ///< or an explicit library path (overrides the search)
  std::string version;             ///< exact version wanted; empty accepts any
  std::set<std::string> granted;   ///< capabilities the SKU grants
  toml::table config;              ///< the plugin's configuration table
  std::string config_source = "configuration";  ///< names the file in errors
  /// The product marks it legally relevant: it must declare itself so and be signed by a key
  /// the meter trusts for its id, whatever its manifest says.
  bool legally_relevant = false;
  std::optional<Sha256> software_id;  ///< the approved library's hash; another is refused
  /// Set when this plugin crashed or hung the meter before (the supervisor says why): it is
  /// refused (`crashed`) without being loaded.
  std::string crashed;
};

/// A public key the meter trusts for plugin signatures, and for which plugins.
struct TrustedKey {
  std::string name;                  ///< "oem", a module vendor's name: said in refusals
  PublicKey key{};
  std::vector<std::string> plugins;  ///< the plugin ids it may sign; empty: every plugin
};

struct PluginHostConfig {
  std::vector<std::filesystem::path> plugin_dirs;
  std::optional<PublicKey> oem_public_key;  ///< signs any plugin; without keys, no legally
                                            ///< relevant plugin loads
  std::vector<TrustedKey> vendor_keys;      ///< the key ring beside the OEM's key
  std::uint32_t fault_limit = 3;            ///< failed handler calls before a plugin is disabled
  /// Capability groups for `write:<group>`: the objects each covers.
  std::map<std::string, std::vector<Obis>> write_groups = {
      {"tariff-registers",
       {obis("1-0:1.8.1"), obis("1-0:1.8.2"), obis("1-0:1.8.3"), obis("1-0:1.8.4"),
        obis("1-0:2.8.1"), obis("1-0:2.8.2"), obis("1-0:2.8.3"), obis("1-0:2.8.4")}}};
  toml::table meter_settings;  ///< what comms constraints are checked against
  std::filesystem::path kernel_binary = "/proc/self/exe";
  std::string kernel_version = "0.1.0";
  /// Meter time runs on a virtual clock (a simulation); plugins are told (ABI 1.3 `simulated`).
  bool simulated = false;
  /// Marked at every call into a plugin, when set (meterd's watchdog and supervisor).
  CallBreadcrumb* breadcrumb = nullptr;
  /// Where plugin log lines go; by default stderr.
  std::function<void(int level, const std::string& plugin, const std::string& message)> log;
};

/// What the kernel needs to host plugins. Everything outlives the host.
struct PluginHostDeps {
  EventBus& bus;
  ObjectRegistry& registry;
  ParameterGate& gate;
  const Clock& clock;
  NvmStore& nvm;
  RelayDriver* relay = nullptr;  ///< none when the board has no relay
};

enum class PluginState : std::uint8_t { created = 1, started, stopped, disabled };

/// A setting a plugin found wrong (ABI 1.3 config_error): the setting's path, as the plugin
/// named it ("seasons[2].start"), and the rule it breaks.
struct ConfigProblem {
  std::string key;
  std::string message;
};

/// A refusal or a disabling, as the host recorded it.
struct Refusal {
  std::string plugin;  ///< id, or the path when the id is unknown
  RefusalReason reason = RefusalReason::not_found;
  std::string detail;
  /// With config_invalid from create or start: each setting the plugin reported. The caller
  /// knows where each setting was written and reports them as configuration errors.
  std::vector<ConfigProblem> config_problems;
};

/// What the host says about one loaded plugin.
struct PluginStatus {
  std::string id;
  std::string version;
  PluginState state = PluginState::created;
  std::uint32_t faults = 0;
  std::size_t subscriptions = 0;
  std::size_t objects = 0;
  bool legally_relevant = false;
  Sha256 sha256{};
};

class PluginHost {
 public:
  PluginHost(PluginHostDeps deps, PluginHostConfig config);
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;
  /// Stops and unloads every plugin, in reverse start order.
  ~PluginHost();

  /// Loads, checks and creates one plugin. A refusal is recorded, logged and published as
  /// PluginRefused; it is returned as an error and never throws.
  Result<void> load(const PluginSpec& spec);
  /// Loads every spec; refusals do not stop the others. Returns how many loaded.
  std::size_t load_all(const std::vector<PluginSpec>& specs);
  /// Starts every created plugin in dependency order (requires before the plugins that need
  /// them); a plugin that cannot start is refused and unloaded, and so are its dependents.
  std::size_t start_all();
  /// Stops every started plugin in reverse start order.
  void stop_all();
  /// Stops (if started) and unloads one plugin: its subscriptions and objects are dropped
  /// before its library is closed.
  Result<void> unload(const std::string& id);

  /// Whether a loaded plugin's manifest lists object `id` (it registers it by its start).
  bool declares(const Obis& id) const;

  std::optional<PluginStatus> status(const std::string& id) const;
  std::vector<PluginStatus> plugins() const;
  const std::vector<Refusal>& refusals() const noexcept { return refusals_; }
  /// The ids in the order they were started.
  std::vector<std::string> start_order() const;

  /// The kernel's and every loaded legally relevant plugin's hashes, combined.
  SoftwareIdentity software_identity() const;
  /// Registers 1-0:0.2.0 (firmware identifier) and 1-0:0.2.8 (signature) in the registry;
  /// they always read the present identity.
  Result<void> register_identity_objects();

  /// Input and output for plugins (ABI 1.2): waits up to `timeout` for the file descriptors the
  /// plugins watch and for their timers, and calls the handlers of those that are ready, on
  /// this (the kernel) thread. With nothing to wait for it simply waits out the timeout, so a
  /// real-time loop may use it as its sleep between ticks. Returns how many handlers ran.
  std::size_t poll_io(std::chrono::milliseconds timeout);
  /// True while some plugin watches a file descriptor or has a timer set.
  bool io_pending() const noexcept { return !watches_.empty() || !timers_.empty(); }

  struct Plugin;  // one loaded plugin; defined in the host's sources

 private:
  friend struct HostApi;
  void refuse(const std::string& plugin, RefusalReason reason, std::string detail,
              std::vector<ConfigProblem> problems = {});
  void fault(Plugin& plugin, const std::string& what);
  void finish_pending();
  void drop_connections_and_objects(Plugin& plugin);
  void retire(Plugin& plugin);  // stop if started, destroy, erase (closes the library last)
  Plugin* find(const std::string& id) const;

  PluginHostDeps deps_;
  PluginHostConfig config_;
  Sha256 kernel_sha256_{};
  std::vector<std::unique_ptr<Plugin>> plugins_;
  std::vector<Refusal> refusals_;
  std::uint64_t next_subscription_ = 0;
  struct Watch {
    Plugin* plugin = nullptr;
    int fd = -1;
    std::int32_t events = 0;
    meter_io_fn handler = nullptr;
    void* user_data = nullptr;
  };
  struct Timer {
    Plugin* plugin = nullptr;
    std::chrono::steady_clock::time_point due;
    meter_timer_fn handler = nullptr;
    void* user_data = nullptr;
  };
  std::map<std::uint64_t, Watch> watches_;
  std::map<std::uint64_t, Timer> timers_;
  std::uint64_t next_io_ = 0;
  int depth_ = 0;         // calls into plugins in progress; disabling waits until it is zero
  bool pending_ = false;  // some plugin waits to be disabled
};

}  // namespace meter::kernel
