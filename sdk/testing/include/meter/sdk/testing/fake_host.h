// A fake meter for plugin unit tests: it implements the host side of abi.h in memory, with a
// virtual clock, events a test publishes, objects and NVM a test can inspect, granted
// capabilities, a recorded relay and a log. Every plugin in plugins/ tests itself with it, and
// meter-plugin-check drives plugins through it.
//
// Header-only; depends on the SDK headers and toml++ only. Single-threaded, like the kernel.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <poll.h>

#include <toml++/toml.h>

#include "meter/sdk/abi.h"
#include "meter/sdk/config.h"
#include "meter/sdk/manifest.h"
#include "meter/sdk/plugin.h"

namespace meter::sdk::testing {

/// Where a plugin is in its lifecycle, as the fake host drives it.
enum class Stage : std::uint8_t { loaded = 1, created, started, stopped, destroyed };

/// A log line the plugin wrote.
struct LogLine {
  meter_log_level level = METER_LOG_INFO;
  std::string message;
};

/// A relay operation the plugin asked for (and was allowed).
struct RelayTrip {
  std::uint32_t relay = 0;
  bool open = false;
};

/// What a test passes to the fake host.
struct FakeHostOptions {
  toml::table config;                     ///< the plugin's configuration (validated)
  std::set<std::string> granted;          ///< capabilities the "SKU" grants
  std::int64_t start_time_utc_ms = 1'700'000'000'000;  ///< virtual clock start (2023-11-14)
  bool time_valid = true;
  std::uint32_t relays = 1;               ///< relays the fake board has
  /// Port passwords (ABI 1.2) and the role mask each gives (2 reader, 4 configurator, 8
  /// calibrator); consecutive wrong ones lock the port for `lockout_ms` of steady time.
  std::map<std::string, std::int32_t> passwords;
  std::uint32_t max_failed_logons = 3;
  std::int64_t lockout_ms = 15 * 60 * 1000;
  bool simulated = false;  ///< what the host's `simulated` (ABI 1.3) answers
};

/// A setting the plugin reported as breaking one of its rules (ABI 1.3 config_error).
struct ReportedConfigError {
  std::string key;
  std::string message;
};

/// The fake host. Construct with a plugin's descriptor (from meter_plugin_entry() linked in, or
/// from a loaded library); then create(), start(), drive events, inspect, stop(), destroy().
/// The destructor stops and destroys a plugin still alive.
class FakeHost {
 public:
  explicit FakeHost(const meter_plugin_descriptor* descriptor, FakeHostOptions options = {})
      : descriptor_(descriptor), options_(std::move(options)) {
    now_utc_ms_ = options_.start_time_utc_ms;
    time_valid_ = options_.time_valid;
    api_.struct_size = sizeof(meter_host_api);
    api_.abi_major = METER_ABI_MAJOR;
    api_.abi_minor = METER_ABI_MINOR;
    api_.context = reinterpret_cast<meter_host_context*>(this);
    api_.log = &FakeHost::c_log;
    api_.now_utc_ms = &FakeHost::c_now;
    api_.uptime_ms = &FakeHost::c_uptime;
    api_.subscribe = &FakeHost::c_subscribe;
    api_.unsubscribe = &FakeHost::c_unsubscribe;
    api_.publish = &FakeHost::c_publish;
    api_.register_object = &FakeHost::c_register_object;
    api_.read_object = &FakeHost::c_read_object;
    api_.write_object = &FakeHost::c_write_object;
    api_.config_get = &FakeHost::c_config_get;
    api_.nvm_get = &FakeHost::c_nvm_get;
    api_.nvm_put = &FakeHost::c_nvm_put;
    api_.nvm_erase = &FakeHost::c_nvm_erase;
    api_.nvm_begin = &FakeHost::c_nvm_begin;
    api_.nvm_commit = &FakeHost::c_nvm_commit;
    api_.nvm_rollback = &FakeHost::c_nvm_rollback;
    api_.trip_relay = &FakeHost::c_trip_relay;
    api_.watch_fd = &FakeHost::c_watch_fd;
    api_.modify_watch = &FakeHost::c_modify_watch;
    api_.unwatch_fd = &FakeHost::c_unwatch_fd;
    api_.set_timer = &FakeHost::c_set_timer;
    api_.cancel_timer = &FakeHost::c_cancel_timer;
    api_.steady_ms = &FakeHost::c_steady_ms;
    api_.port_logon = &FakeHost::c_port_logon;
    api_.port_logoff = &FakeHost::c_port_logoff;
    api_.session_read = &FakeHost::c_session_read;
    api_.session_write = &FakeHost::c_session_write;
    api_.object_info = &FakeHost::c_object_info;
    api_.list_objects = &FakeHost::c_list_objects;
    api_.config_error = &FakeHost::c_config_error;
    api_.simulated = &FakeHost::c_simulated;
    api_.write_refused = &FakeHost::c_write_refused;
    api_.last_refusal = &FakeHost::c_last_refusal;
    if (descriptor_ != nullptr && descriptor_->manifest_toml != nullptr) {
      ManifestParse parsed = parse_manifest(descriptor_->manifest_toml, "embedded plugin.toml");
      manifest_errors_ = std::move(parsed.errors);
      manifest_ = std::move(parsed.manifest);
    }
    if (manifest_) {
      ConfigCheck check = validate_config(*manifest_, options_.config, "test configuration");
      config_errors_ = std::move(check.errors);
      config_ = std::move(check.values);
    }
  }
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;
  ~FakeHost() {
    if (stage_ == Stage::started) (void)stop();
    if (stage_ == Stage::created || stage_ == Stage::stopped) destroy();
  }

  // ----- lifecycle -------------------------------------------------------------------------

  /// Creates the plugin; refuses (invalid_argument) when the manifest or config is invalid.
  Status create() {
    if (descriptor_ == nullptr || !manifest_ || !config_errors_.empty()) {
      return Status::invalid_argument;
    }
    const auto status = static_cast<Status>(descriptor_->create(&api_, &instance_));
    close_open_transaction();
    if (status == Status::ok) stage_ = Stage::created;
    return status;
  }
  Status start() {
    if (stage_ != Stage::created) return Status::unavailable;
    stage_ = Stage::started;  // handlers and object reads are legal from inside start
    const auto status = static_cast<Status>(descriptor_->start(instance_));
    close_open_transaction();
    if (status != Status::ok) stage_ = Stage::created;
    return status;
  }
  Status stop() {
    if (stage_ != Stage::started) return Status::unavailable;
    const auto status = static_cast<Status>(descriptor_->stop(instance_));
    close_open_transaction();
    subscriptions_.clear();
    objects_.clear();
    watches_.clear();
    timers_.clear();
    sessions_.clear();
    stage_ = Stage::stopped;
    return status;
  }
  void destroy() {
    if (stage_ != Stage::created && stage_ != Stage::stopped) return;
    subscriptions_.clear();
    objects_.clear();
    descriptor_->destroy(instance_);
    instance_ = nullptr;
    stage_ = Stage::destroyed;
  }
  /// Calls the optional self_test callback; ok when the plugin has none.
  Status self_test() {
    if (stage_ != Stage::started) return Status::unavailable;
    if (!METER_HAS_FIELD(meter_plugin_descriptor, descriptor_->struct_size, self_test) ||
        descriptor_->self_test == nullptr) {
      return Status::ok;
    }
    return static_cast<Status>(descriptor_->self_test(instance_));
  }
  Stage stage() const noexcept { return stage_; }

  // ----- clock -----------------------------------------------------------------------------

  void set_time_utc_ms(std::int64_t t) noexcept { now_utc_ms_ = t; }
  void set_time_valid(bool valid) noexcept { time_valid_ = valid; }
  /// Moves both wall time and uptime forward.
  void advance_ms(std::int64_t step_ms) noexcept {
    now_utc_ms_ += step_ms;
    uptime_ms_ += step_ms;
  }
  std::int64_t now_utc_ms() const noexcept { return now_utc_ms_; }
  bool time_valid() const noexcept { return time_valid_; }

  // ----- events ----------------------------------------------------------------------------

  /// Delivers an event to the plugin's subscribers of `type`; returns how many handlers failed.
  std::size_t publish(meter_event_type type, const void* data, const char* topic = nullptr) {
    const meter_event event{type, data};
    std::size_t failed = 0;
    const auto snapshot = subscriptions_;  // a handler may subscribe or unsubscribe
    for (const auto& [id, s] : snapshot) {
      if (s.type != type) continue;
      if (type == METER_EVENT_PLUGIN && !s.topic.empty() && topic != nullptr && s.topic != topic) {
        continue;
      }
      if (s.handler(s.user_data, &event) != METER_STATUS_OK) {
        ++failed;
        ++faults_;
      }
    }
    return failed;
  }
  template <class Event>
  std::size_t publish(const Event& event) {
    return publish(EventTraits<Event>::kType, &event);
  }
  /// Publishes a plugin event as another plugin would (source "test").
  std::size_t publish_topic(const std::string& topic, std::string_view payload = {}) {
    const meter_plugin_event e{topic.c_str(), "test",
                               reinterpret_cast<const std::uint8_t*>(payload.data()),
                               payload.size(), now_utc_ms_};
    return publish(METER_EVENT_PLUGIN, &e, topic.c_str());
  }
  /// Builds and publishes an energy tick as the meter does: the clock advances by
  /// `duration_ms` first; +A moves by `import_mwh` and -A by `export_mwh`; the tick carries the
  /// clock's validity and, when asked, a measurement fault. Returns the handlers that failed.
  std::size_t tick(std::int64_t duration_ms, std::int64_t import_mwh, std::int64_t export_mwh = 0,
                   bool measurement_fault = false) {
    advance_ms(duration_ms);
    meter_energy_tick t{};
    t.sequence = ++tick_sequence_;
    t.time_utc_ms = now_utc_ms_;
    t.time_valid = time_valid_ ? 1 : 0;
    t.measurement_fault = measurement_fault ? 1 : 0;
    t.duration_ms = duration_ms;
    t.delta_mwh[0] = import_mwh;
    t.delta_mwh[1] = export_mwh;
    total_import_mwh_ += import_mwh;
    total_export_mwh_ += export_mwh;
    t.total_mwh[0] = total_import_mwh_;
    t.total_mwh[1] = total_export_mwh_;
    t.active_power_w = duration_ms > 0 ? static_cast<double>(import_mwh - export_mwh) * 3600.0 /
                                             static_cast<double>(duration_ms)
                                       : 0.0;
    return publish(t);
  }
  /// The supply fails now: PowerFail.
  std::size_t power_fail() {
    const meter_time_event e{now_utc_ms_};
    return publish(e);
  }
  /// The supply comes back after `outage_ms` (the clock advances by it): PowerRestore.
  std::size_t power_restore(std::int64_t outage_ms) {
    advance_ms(outage_ms);
    const meter_power_restore e{now_utc_ms_, outage_ms, time_valid_ ? 1 : 0};
    return publish(e);
  }
  /// The meter's time is set to `new_utc_ms`: the clock moves and TimeChanged goes out.
  std::size_t change_time(std::int64_t new_utc_ms) {
    const meter_time_changed e{now_utc_ms_, new_utc_ms, time_valid_ ? 1 : 0};
    now_utc_ms_ = new_utc_ms;
    time_valid_ = true;
    return publish(e);
  }
  std::size_t subscriptions() const noexcept { return subscriptions_.size(); }
  /// Handler calls that threw or returned an error.
  std::size_t faults() const noexcept { return faults_; }
  /// Plugin events the plugin published, in order: {topic, payload}.
  const std::vector<std::pair<std::string, std::string>>& published() const noexcept {
    return published_;
  }

  // ----- objects ---------------------------------------------------------------------------

  /// An object of the "kernel" the plugin can read (e.g. a register).
  void set_object(const Obis& id, Value value) { kernel_objects_[key(id)] = std::move(value); }
  bool has_object(const Obis& id) const { return objects_.count(key(id)) != 0; }
  std::size_t objects() const noexcept { return objects_.size(); }
  const meter_object_info* object_info(const Obis& id) const {
    auto it = objects_.find(key(id));
    return it == objects_.end() ? nullptr : &it->second.info;
  }
  /// Reads an object the plugin provides (or a kernel object set with set_object).
  std::optional<Value> read(const Obis& id) {
    std::optional<Value> out;
    if (read_into(id, &detail::copy_value, &out) != METER_STATUS_OK) return std::nullopt;
    return out;
  }
  /// Writes an object the plugin provides, as a meter-shop port would (no capability check).
  Status write(const Obis& id, const Value& value) {
    auto it = objects_.find(key(id));
    if (it == objects_.end()) return Status::not_found;
    if (it->second.write == nullptr) return Status::denied;
    const meter_value v = to_c(value);
    return static_cast<Status>(it->second.write(it->second.user_data, &v));
  }
  /// Writes the plugin made to kernel objects, in order.
  const std::vector<std::pair<Obis, Value>>& kernel_writes() const noexcept {
    return kernel_writes_;
  }
  /// Describes a kernel object set with set_object (roles, class, unit) for object_info and for
  /// port writes (ABI 1.2): a port may write it when its role is in `write_roles`, and not
  /// while sealed() when the class is configuration or calibration.
  void describe_object(const Obis& id, std::uint8_t write_roles,
                       meter_parameter_class parameter_class, std::uint8_t unit = METER_UNIT_NONE,
                       std::int8_t scaler = 0, std::uint8_t read_roles = METER_ROLE_ANY) {
    auto& d = kernel_info_[key(id)];
    d = meter_object_info{};
    d.struct_size = sizeof(meter_object_info);
    d.id = id;
    d.unit = unit;
    d.scaler = scaler;
    d.read_roles = read_roles;
    d.write_roles = write_roles;
    d.parameter_class = parameter_class;
  }
  void set_sealed(bool sealed) noexcept { sealed_ = sealed; }
  bool sealed() const noexcept { return sealed_; }

  // ----- input and output, ports (ABI 1.2) -------------------------------------------------

  /// Waits up to `timeout_ms` (real time) for the watched file descriptors, calls the handlers
  /// of the ready ones, then fires the timers due on the fake steady clock. Returns how many
  /// handlers ran; a failing handler counts as a fault.
  std::size_t run_io(int timeout_ms) {
    std::vector<std::uint64_t> ids;
    std::vector<pollfd> fds;
    for (const auto& [id, w] : watches_) {
      short events = 0;
      if ((w.events & METER_IO_READABLE) != 0) events |= POLLIN;
      if ((w.events & METER_IO_WRITABLE) != 0) events |= POLLOUT;
      ids.push_back(id);
      fds.push_back(pollfd{w.fd, events, 0});
    }
    std::size_t ran = 0;
    if (::poll(fds.data(), fds.size(), timeout_ms) > 0) {
      for (std::size_t i = 0; i < fds.size(); ++i) {
        auto it = watches_.find(ids[i]);
        if (fds[i].revents == 0 || it == watches_.end()) continue;
        std::int32_t ready = 0;
        if ((fds[i].revents & (POLLIN | POLLHUP)) != 0) ready |= METER_IO_READABLE;
        if ((fds[i].revents & POLLOUT) != 0) ready |= METER_IO_WRITABLE;
        if ((fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) ready |= METER_IO_ERROR;
        const Watch w = it->second;
        if (w.handler(w.user_data, w.fd, ready) != METER_STATUS_OK) ++faults_;
        ++ran;
      }
    }
    return ran + fire_timers();
  }
  /// Moves the fake steady clock (timers, lockouts) forward and fires the timers now due.
  std::size_t advance_steady_ms(std::int64_t step_ms) {
    steady_ms_ += step_ms;
    return fire_timers();
  }
  std::int64_t steady_ms() const noexcept { return steady_ms_; }
  std::size_t watches() const noexcept { return watches_.size(); }
  std::size_t timers() const noexcept { return timers_.size(); }
  /// Port logons open now.
  std::size_t sessions() const noexcept { return sessions_.size(); }
  /// Logon attempts refused for a wrong password or a locked port.
  std::size_t failed_logons() const noexcept { return failed_logons_; }

  // ----- NVM, relay, log, manifest ---------------------------------------------------------

  /// The committed record `key` in namespace `name_space` (the plugin's own by default).
  std::optional<Value> nvm(std::string_view key, std::string name_space = {}) const {
    if (name_space.empty()) name_space = own_namespace();
    auto ns = nvm_.find(name_space);
    if (ns == nvm_.end()) return std::nullopt;
    auto it = ns->second.find(std::string(key));
    if (it == ns->second.end()) return std::nullopt;
    return it->second;
  }
  void set_nvm(std::string_view key, Value value, std::string name_space = {}) {
    if (name_space.empty()) name_space = own_namespace();
    nvm_[name_space][std::string(key)] = std::move(value);
  }
  const std::vector<RelayTrip>& relay_trips() const noexcept { return relay_trips_; }
  const std::vector<LogLine>& log() const noexcept { return log_; }
  const std::optional<Manifest>& manifest() const noexcept { return manifest_; }
  const std::vector<std::string>& manifest_errors() const noexcept { return manifest_errors_; }
  const std::vector<std::string>& config_errors() const noexcept { return config_errors_; }
  /// Why the plugin refused the last write it refused (ABI 1.3 write_refused); empty if none.
  const std::string& last_write_refusal() const noexcept { return last_write_refusal_; }
  /// The settings the plugin reported wrong through config_error, in order.
  const std::vector<ReportedConfigError>& reported_config_errors() const noexcept {
    return reported_config_errors_;
  }
  const meter_host_api* api() const noexcept { return &api_; }

 private:
  struct Subscription {
    meter_event_type type = 0;
    std::string topic;
    meter_event_fn handler = nullptr;
    void* user_data = nullptr;
  };
  struct Object {
    meter_object_info info{};
    std::string description;
    meter_object_read_fn read = nullptr;
    meter_object_write_fn write = nullptr;
    void* user_data = nullptr;
  };
  using Records = std::map<std::string, std::map<std::string, Value>>;
  struct Watch {
    int fd = -1;
    std::int32_t events = 0;
    meter_io_fn handler = nullptr;
    void* user_data = nullptr;
  };
  struct Timer {
    std::int64_t due_ms = 0;
    meter_timer_fn handler = nullptr;
    void* user_data = nullptr;
  };

  std::size_t fire_timers() {
    std::size_t ran = 0;
    for (;;) {
      auto it = std::find_if(timers_.begin(), timers_.end(),
                             [&](const auto& t) { return t.second.due_ms <= steady_ms_; });
      if (it == timers_.end()) return ran;
      const Timer t = it->second;
      timers_.erase(it);
      if (t.handler(t.user_data) != METER_STATUS_OK) ++faults_;
      ++ran;
    }
  }
  bool granted(const std::string& capability) const {
    return manifest_ && manifest_->has_capability(capability) &&
           options_.granted.count(capability) != 0;
  }

  static std::uint64_t key(const Obis& o) noexcept {
    return (std::uint64_t{o.a} << 40) | (std::uint64_t{o.b} << 32) | (std::uint64_t{o.c} << 24) |
           (std::uint64_t{o.d} << 16) | (std::uint64_t{o.e} << 8) | o.f;
  }
  static FakeHost& self(meter_host_context* c) { return *reinterpret_cast<FakeHost*>(c); }
  std::string own_namespace() const { return manifest_ ? manifest_->id : std::string("plugin"); }
  bool running() const noexcept { return stage_ == Stage::started; }
  bool alive() const noexcept { return stage_ != Stage::destroyed; }

  void close_open_transaction() {
    if (transaction_) transaction_.reset();  // an open transaction is rolled back
  }

  meter_status read_into(const Obis& id, meter_value_sink_fn sink, void* user_data) {
    if (auto it = objects_.find(key(id)); it != objects_.end()) {
      meter_value v{};
      const meter_status s = it->second.read(it->second.user_data, &v);
      if (s != METER_STATUS_OK) return s;
      sink(user_data, &v);
      return METER_STATUS_OK;
    }
    if (auto it = kernel_objects_.find(key(id)); it != kernel_objects_.end()) {
      const meter_value v = to_c(it->second);
      sink(user_data, &v);
      return METER_STATUS_OK;
    }
    return METER_STATUS_NOT_FOUND;
  }

  /// NULL is the plugin's own namespace; another needs `nvm:<id>`, granted.
  std::optional<std::string> namespace_for(const char* name_space) const {
    if (name_space == nullptr || own_namespace() == name_space) return own_namespace();
    const std::string capability = std::string("nvm:") + name_space;
    if (manifest_ && manifest_->has_capability(capability) && options_.granted.count(capability)) {
      return std::string(name_space);
    }
    return std::nullopt;
  }
  Records& records() { return transaction_ ? *transaction_ : nvm_; }

  static void c_log(meter_host_context* c, meter_log_level level, const char* message) {
    self(c).log_.push_back({level, message ? message : ""});
  }
  static std::int64_t c_now(meter_host_context* c, std::int32_t* valid) {
    if (valid != nullptr) *valid = self(c).time_valid_ ? 1 : 0;
    return self(c).now_utc_ms_;
  }
  static std::int64_t c_uptime(meter_host_context* c) { return self(c).uptime_ms_; }
  static meter_status c_subscribe(meter_host_context* c, meter_event_type type, const char* topic,
                                  meter_event_fn handler, void* user_data,
                                  std::uint64_t* subscription) {
    auto& h = self(c);
    if (handler == nullptr || type < METER_EVENT_ENERGY_TICK || type > METER_EVENT_WRITE_REFUSED) {
      return METER_STATUS_INVALID_ARGUMENT;
    }
    if (h.stage_ != Stage::loaded && h.stage_ != Stage::created && !h.running()) {
      return METER_STATUS_UNAVAILABLE;
    }
    const std::uint64_t id = ++h.next_subscription_;
    h.subscriptions_[id] = {type, topic && type == METER_EVENT_PLUGIN ? topic : "", handler,
                            user_data};
    if (subscription != nullptr) *subscription = id;
    return METER_STATUS_OK;
  }
  static meter_status c_unsubscribe(meter_host_context* c, std::uint64_t subscription) {
    return self(c).subscriptions_.erase(subscription) ? METER_STATUS_OK : METER_STATUS_NOT_FOUND;
  }
  static meter_status c_publish(meter_host_context* c, const char* topic, const void* payload,
                                std::size_t size) {
    auto& h = self(c);
    if (topic == nullptr || (payload == nullptr && size != 0)) return METER_STATUS_INVALID_ARGUMENT;
    if (!h.running()) return METER_STATUS_UNAVAILABLE;
    h.published_.emplace_back(topic, std::string(static_cast<const char*>(payload), size));
    return METER_STATUS_OK;
  }
  static meter_status c_register_object(meter_host_context* c, const meter_object_info* info,
                                        meter_object_read_fn read, meter_object_write_fn write,
                                        void* user_data) {
    auto& h = self(c);
    if (info == nullptr || read == nullptr || info->struct_size < sizeof(meter_object_info)) {
      return METER_STATUS_INVALID_ARGUMENT;
    }
    if (h.stage_ != Stage::created && !h.running() && h.stage_ != Stage::loaded) {
      return METER_STATUS_UNAVAILABLE;
    }
    const std::string id = to_string(info->id);
    const bool listed = std::any_of(h.manifest_->objects.begin(), h.manifest_->objects.end(),
                                    [&](const ProvidedObject& o) {
                                      auto parsed = parse_obis(o.obis);
                                      return parsed && *parsed == info->id;
                                    });
    if (!listed) return METER_STATUS_DENIED;
    if (h.objects_.count(key(info->id)) || h.kernel_objects_.count(key(info->id))) {
      return METER_STATUS_CONFLICT;
    }
    Object o;
    o.info = *info;
    o.description = info->description ? info->description : "";
    o.info.description = nullptr;
    o.read = read;
    o.write = write;
    o.user_data = user_data;
    h.objects_[key(info->id)] = std::move(o);
    h.objects_[key(info->id)].info.description = h.objects_[key(info->id)].description.c_str();
    return METER_STATUS_OK;
  }
  static meter_status c_read_object(meter_host_context* c, meter_obis id, meter_value_sink_fn sink,
                                    void* user_data) {
    if (sink == nullptr) return METER_STATUS_INVALID_ARGUMENT;
    return self(c).read_into(id, sink, user_data);
  }
  static meter_status c_write_object(meter_host_context* c, meter_obis id,
                                     const meter_value* value) {
    auto& h = self(c);
    if (value == nullptr) return METER_STATUS_INVALID_ARGUMENT;
    if (!h.running()) return METER_STATUS_UNAVAILABLE;
    if (auto it = h.objects_.find(key(id)); it != h.objects_.end()) {
      if (it->second.write == nullptr) return METER_STATUS_DENIED;
      return it->second.write(it->second.user_data, value);
    }
    auto it = h.kernel_objects_.find(key(id));
    if (it == h.kernel_objects_.end()) return METER_STATUS_NOT_FOUND;
    const std::string capability = "write:" + to_string(id);
    const bool allowed = h.manifest_->has_capability(capability) &&
                         h.options_.granted.count(capability) != 0;
    if (!allowed) return METER_STATUS_DENIED;
    Value v;
    try {
      v = from_c(*value);
    } catch (...) {
      return METER_STATUS_TYPE_MISMATCH;
    }
    if (v.index() != it->second.index()) return METER_STATUS_TYPE_MISMATCH;
    it->second = v;
    h.kernel_writes_.emplace_back(id, std::move(v));
    return METER_STATUS_OK;
  }
  static meter_status c_config_get(meter_host_context* c, const char* key_name,
                                   meter_value_sink_fn sink, void* user_data) {
    auto& h = self(c);
    if (key_name == nullptr || sink == nullptr) return METER_STATUS_INVALID_ARGUMENT;
    const toml::node* node = h.config_.get(key_name);
    if (node == nullptr) return METER_STATUS_NOT_FOUND;
    Value v;
    if (auto i = node->value_exact<std::int64_t>()) {
      v = *i;
    } else if (auto d = node->value_exact<double>()) {
      v = *d;
    } else if (auto b = node->value_exact<bool>()) {
      v = *b;
    } else if (auto s = node->value_exact<std::string>()) {
      v = *s;
    } else if (node->is_array() || node->is_table()) {
      v = config_text(*node);  // structured keys arrive as TOML text (meter/sdk/config.h)
    } else {
      return METER_STATUS_TYPE_MISMATCH;
    }
    // A real key declared as real but written as an integer is delivered as real.
    if (const ConfigField* f = h.manifest_->field(key_name);
        f && f->type == ConfigType::real && std::holds_alternative<std::int64_t>(v)) {
      v = static_cast<double>(std::get<std::int64_t>(v));
    }
    const meter_value out = to_c(v);
    sink(user_data, &out);
    return METER_STATUS_OK;
  }
  static meter_status c_nvm_get(meter_host_context* c, const char* name_space, const char* k,
                                meter_value_sink_fn sink, void* user_data) {
    auto& h = self(c);
    if (k == nullptr || sink == nullptr) return METER_STATUS_INVALID_ARGUMENT;
    auto ns = h.namespace_for(name_space);
    if (!ns) return METER_STATUS_DENIED;
    auto& records = h.records();
    auto space = records.find(*ns);
    if (space == records.end()) return METER_STATUS_NOT_FOUND;
    auto it = space->second.find(k);
    if (it == space->second.end()) return METER_STATUS_NOT_FOUND;
    const meter_value v = to_c(it->second);
    sink(user_data, &v);
    return METER_STATUS_OK;
  }
  static meter_status c_nvm_put(meter_host_context* c, const char* name_space, const char* k,
                                const meter_value* value) {
    auto& h = self(c);
    if (k == nullptr || *k == '\0' || value == nullptr) return METER_STATUS_INVALID_ARGUMENT;
    auto ns = h.namespace_for(name_space);
    if (!ns) return METER_STATUS_DENIED;
    try {
      h.records()[*ns][k] = from_c(*value);
    } catch (...) {
      return METER_STATUS_TYPE_MISMATCH;
    }
    return METER_STATUS_OK;
  }
  static meter_status c_nvm_erase(meter_host_context* c, const char* name_space, const char* k) {
    auto& h = self(c);
    if (k == nullptr) return METER_STATUS_INVALID_ARGUMENT;
    auto ns = h.namespace_for(name_space);
    if (!ns) return METER_STATUS_DENIED;
    auto& records = h.records();
    auto space = records.find(*ns);
    if (space == records.end() || space->second.erase(k) == 0) return METER_STATUS_NOT_FOUND;
    return METER_STATUS_OK;
  }
  static meter_status c_nvm_begin(meter_host_context* c) {
    auto& h = self(c);
    if (h.transaction_) return METER_STATUS_CONFLICT;
    h.transaction_ = std::make_unique<Records>(h.nvm_);
    return METER_STATUS_OK;
  }
  static meter_status c_nvm_commit(meter_host_context* c) {
    auto& h = self(c);
    if (!h.transaction_) return METER_STATUS_UNAVAILABLE;
    h.nvm_ = std::move(*h.transaction_);
    h.transaction_.reset();
    return METER_STATUS_OK;
  }
  static meter_status c_nvm_rollback(meter_host_context* c) {
    auto& h = self(c);
    if (!h.transaction_) return METER_STATUS_UNAVAILABLE;
    h.transaction_.reset();
    return METER_STATUS_OK;
  }
  static meter_status c_trip_relay(meter_host_context* c, std::uint32_t relay, std::int32_t open) {
    auto& h = self(c);
    if (!h.running()) return METER_STATUS_UNAVAILABLE;
    if (!h.manifest_->has_capability("relay") || h.options_.granted.count("relay") == 0) {
      return METER_STATUS_DENIED;
    }
    if (relay >= h.options_.relays) return METER_STATUS_UNAVAILABLE;
    h.relay_trips_.push_back({relay, open != 0});
    return METER_STATUS_OK;
  }

  static meter_status c_watch_fd(meter_host_context* c, std::int32_t fd, std::int32_t events,
                                 meter_io_fn handler, void* user_data, std::uint64_t* watch) {
    auto& h = self(c);
    if (fd < 0 || handler == nullptr) return METER_STATUS_INVALID_ARGUMENT;
    if (!h.granted("io")) return METER_STATUS_DENIED;
    for (const auto& [id, w] : h.watches_) {
      if (w.fd == fd) return METER_STATUS_CONFLICT;
    }
    const std::uint64_t id = ++h.next_io_;
    h.watches_[id] = {fd, events, handler, user_data};
    if (watch != nullptr) *watch = id;
    return METER_STATUS_OK;
  }
  static meter_status c_modify_watch(meter_host_context* c, std::uint64_t watch,
                                     std::int32_t events) {
    auto it = self(c).watches_.find(watch);
    if (it == self(c).watches_.end()) return METER_STATUS_NOT_FOUND;
    it->second.events = events;
    return METER_STATUS_OK;
  }
  static meter_status c_unwatch_fd(meter_host_context* c, std::uint64_t watch) {
    return self(c).watches_.erase(watch) ? METER_STATUS_OK : METER_STATUS_NOT_FOUND;
  }
  static meter_status c_set_timer(meter_host_context* c, std::int64_t delay_ms,
                                  meter_timer_fn handler, void* user_data, std::uint64_t* timer) {
    auto& h = self(c);
    if (delay_ms < 0 || handler == nullptr) return METER_STATUS_INVALID_ARGUMENT;
    if (!h.granted("io")) return METER_STATUS_DENIED;
    const std::uint64_t id = ++h.next_io_;
    h.timers_[id] = {h.steady_ms_ + delay_ms, handler, user_data};
    if (timer != nullptr) *timer = id;
    return METER_STATUS_OK;
  }
  static meter_status c_cancel_timer(meter_host_context* c, std::uint64_t timer) {
    return self(c).timers_.erase(timer) ? METER_STATUS_OK : METER_STATUS_NOT_FOUND;
  }
  static std::int64_t c_steady_ms(meter_host_context* c) { return self(c).steady_ms_; }

  static meter_status c_port_logon(meter_host_context* c, meter_interface via,
                                   const std::uint8_t* password, std::size_t size,
                                   std::uint64_t* session, std::int32_t* role) {
    auto& h = self(c);
    if ((password == nullptr && size != 0) || session == nullptr) {
      return METER_STATUS_INVALID_ARGUMENT;
    }
    const bool port = (via == METER_INTERFACE_OPTICAL_PORT && h.granted("port:optical")) ||
                      (via == METER_INTERFACE_COMMS && h.granted("port:comms"));
    if (!port) return METER_STATUS_DENIED;
    if (h.steady_ms_ < h.locked_until_ms_) {
      ++h.failed_logons_;
      return METER_STATUS_LOCKED;
    }
    std::string text(reinterpret_cast<const char*>(password), size);
    while (!text.empty() && (text.back() == '\0' || text.back() == ' ')) text.pop_back();
    auto it = h.options_.passwords.find(text);
    if (it == h.options_.passwords.end()) {
      ++h.failed_logons_;
      if (++h.consecutive_failures_ >= h.options_.max_failed_logons) {
        h.consecutive_failures_ = 0;
        h.locked_until_ms_ = h.steady_ms_ + h.options_.lockout_ms;
      }
      return METER_STATUS_DENIED;
    }
    h.consecutive_failures_ = 0;
    const std::uint64_t id = ++h.next_io_;
    h.sessions_[id] = it->second;
    *session = id;
    if (role != nullptr) *role = it->second;
    return METER_STATUS_OK;
  }
  static meter_status c_port_logoff(meter_host_context* c, std::uint64_t session) {
    return self(c).sessions_.erase(session) ? METER_STATUS_OK : METER_STATUS_NOT_FOUND;
  }
  std::int32_t role_of(std::uint64_t session) const {
    if (session == 0) return 1;
    auto it = sessions_.find(session);
    return it == sessions_.end() ? 0 : it->second;
  }
  static meter_status c_session_read(meter_host_context* c, std::uint64_t session, meter_obis id,
                                     meter_value_sink_fn sink, void* user_data) {
    auto& h = self(c);
    if (sink == nullptr) return METER_STATUS_INVALID_ARGUMENT;
    const std::int32_t role = h.role_of(session);
    if (role == 0) return METER_STATUS_DENIED;
    if (auto info = h.info_of(id); info && (info->read_roles & role) == 0) {
      return METER_STATUS_DENIED;
    }
    return h.read_into(id, sink, user_data);
  }
  static meter_status c_session_write(meter_host_context* c, std::uint64_t session, meter_obis id,
                                      const meter_value* value) {
    auto& h = self(c);
    if (value == nullptr) return METER_STATUS_INVALID_ARGUMENT;
    if (!h.running()) return METER_STATUS_UNAVAILABLE;
    const std::int32_t role = session == 0 ? 0 : h.role_of(session);
    const auto info = h.info_of(id);
    if (!info) return METER_STATUS_NOT_FOUND;
    if (role == 0 || info->parameter_class == METER_PARAMETER_READ_ONLY ||
        (info->write_roles & role) == 0) {
      return METER_STATUS_DENIED;
    }
    if (h.sealed_ && (info->parameter_class == METER_PARAMETER_CONFIGURATION ||
                      info->parameter_class == METER_PARAMETER_CALIBRATION)) {
      return METER_STATUS_SEALED;
    }
    if (auto it = h.objects_.find(key(id)); it != h.objects_.end()) {
      if (it->second.write == nullptr) return METER_STATUS_DENIED;
      h.last_write_refusal_.clear();
      const meter_status status = it->second.write(it->second.user_data, value);
      h.last_session_refusal_ =
          status == METER_STATUS_OK
              ? std::string()
              : !h.last_write_refusal_.empty()
                    ? h.last_write_refusal_
                    : std::string(to_string(static_cast<Status>(status)));
      return status;
    }
    auto it = h.kernel_objects_.find(key(id));
    Value v;
    try {
      v = from_c(*value);
    } catch (...) {
      return METER_STATUS_TYPE_MISMATCH;
    }
    if (v.index() != it->second.index()) return METER_STATUS_TYPE_MISMATCH;
    it->second = v;
    h.kernel_writes_.emplace_back(id, std::move(v));
    return METER_STATUS_OK;
  }
  /// A plugin object's info, or a kernel object's (described or, by default, read-only).
  std::optional<meter_object_info> info_of(const Obis& id) const {
    if (auto it = objects_.find(key(id)); it != objects_.end()) return it->second.info;
    if (kernel_objects_.count(key(id)) == 0) return std::nullopt;
    if (auto it = kernel_info_.find(key(id)); it != kernel_info_.end()) {
      auto info = it->second;
      info.type = static_cast<meter_value_type>(kernel_objects_.at(key(id)).index() + 1);
      return info;
    }
    meter_object_info info{};
    info.struct_size = sizeof(meter_object_info);
    info.id = id;
    info.type = static_cast<meter_value_type>(kernel_objects_.at(key(id)).index() + 1);
    info.unit = METER_UNIT_NONE;
    info.read_roles = METER_ROLE_ANY;
    info.parameter_class = METER_PARAMETER_READ_ONLY;
    return info;
  }
  static meter_status c_object_info(meter_host_context* c, meter_obis id, meter_object_info* out) {
    auto& h = self(c);
    if (out == nullptr || out->struct_size < sizeof(meter_object_info)) {
      return METER_STATUS_INVALID_ARGUMENT;
    }
    auto info = h.info_of(id);
    if (!info) return METER_STATUS_NOT_FOUND;
    *out = *info;
    return METER_STATUS_OK;
  }
  static meter_status c_list_objects(meter_host_context* c, meter_obis_sink_fn sink,
                                     void* user_data) {
    auto& h = self(c);
    if (sink == nullptr) return METER_STATUS_INVALID_ARGUMENT;
    std::set<std::uint64_t> keys;  // the key orders as the OBIS code does
    for (const auto& [k, o] : h.objects_) keys.insert(k);
    for (const auto& [k, v] : h.kernel_objects_) keys.insert(k);
    for (const auto k : keys) {
      auto byte = [k](int shift) { return static_cast<std::uint8_t>(k >> shift); };
      sink(user_data, meter_obis{byte(40), byte(32), byte(24), byte(16), byte(8), byte(0)});
    }
    return METER_STATUS_OK;
  }

  static meter_status c_config_error(meter_host_context* c, const char* key, const char* message) {
    if (key == nullptr || message == nullptr) return METER_STATUS_INVALID_ARGUMENT;
    self(c).reported_config_errors_.push_back({key, message});
    return METER_STATUS_OK;
  }
  static std::int32_t c_simulated(meter_host_context* c) { return self(c).options_.simulated ? 1 : 0; }
  static void c_write_refused(meter_host_context* c, const char* message) {
    if (message != nullptr) self(c).last_write_refusal_ = message;
  }
  // Why the plugin's last session write was refused: what the object's owner said, or the
  // status itself (the fake has no gate of its own to word it).
  static meter_status c_last_refusal(meter_host_context* c, meter_value_sink_fn sink,
                                     void* user_data) {
    if (sink == nullptr) return METER_STATUS_INVALID_ARGUMENT;
    const Value text{self(c).last_session_refusal_};
    const meter_value out = to_c(text);
    sink(user_data, &out);
    return METER_STATUS_OK;
  }

  const meter_plugin_descriptor* descriptor_;
  FakeHostOptions options_;
  std::vector<ReportedConfigError> reported_config_errors_;
  std::string last_write_refusal_;
  std::string last_session_refusal_;
  meter_host_api api_{};
  meter_plugin_instance* instance_ = nullptr;
  Stage stage_ = Stage::loaded;
  std::optional<Manifest> manifest_;
  std::vector<std::string> manifest_errors_;
  std::vector<std::string> config_errors_;
  toml::table config_;
  std::int64_t now_utc_ms_ = 0;
  std::int64_t uptime_ms_ = 0;
  bool time_valid_ = true;
  std::uint64_t tick_sequence_ = 0;
  std::int64_t total_import_mwh_ = 0;
  std::int64_t total_export_mwh_ = 0;
  std::uint64_t next_subscription_ = 0;
  std::map<std::uint64_t, Subscription> subscriptions_;
  std::map<std::uint64_t, Object> objects_;
  std::map<std::uint64_t, Value> kernel_objects_;
  std::vector<std::pair<Obis, Value>> kernel_writes_;
  std::vector<std::pair<std::string, std::string>> published_;
  std::size_t faults_ = 0;
  Records nvm_;
  std::unique_ptr<Records> transaction_;
  std::vector<RelayTrip> relay_trips_;
  std::vector<LogLine> log_;
  std::map<std::uint64_t, meter_object_info> kernel_info_;
  bool sealed_ = false;
  std::int64_t steady_ms_ = 0;
  std::uint64_t next_io_ = 0;
  std::map<std::uint64_t, Watch> watches_;
  std::map<std::uint64_t, Timer> timers_;
  std::map<std::uint64_t, std::int32_t> sessions_;  // logon id -> role mask
  std::uint32_t consecutive_failures_ = 0;
  std::int64_t locked_until_ms_ = 0;
  std::size_t failed_logons_ = 0;
};

}  // namespace meter::sdk::testing
