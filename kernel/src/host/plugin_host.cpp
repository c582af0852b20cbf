// The plugin host: loading and checking plugins, the C host functions they call, isolation and
// unloading. See plugin_host.h for the contract.
#include "meter/kernel/plugin_host.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string_view>
#include <utility>

#include <poll.h>

#include <boost/dll/shared_library.hpp>
#include <fmt/format.h>

#include "meter/sdk/abi.h"
#include "meter/sdk/config.h"
#include "meter/sdk/manifest.h"
#include "meter/sdk/plugin.h"

namespace meter::kernel {

namespace fs = std::filesystem;

std::string_view to_string(RefusalReason reason) noexcept {
  switch (reason) {
    case RefusalReason::not_found: return "not-found";
    case RefusalReason::load_failed: return "load-failed";
    case RefusalReason::missing_entry: return "missing-entry";
    case RefusalReason::bad_descriptor: return "bad-descriptor";
    case RefusalReason::abi_major: return "abi-major";
    case RefusalReason::abi_minor: return "abi-minor";
    case RefusalReason::manifest_invalid: return "manifest-invalid";
    case RefusalReason::manifest_mismatch: return "manifest-mismatch";
    case RefusalReason::version_mismatch: return "version-mismatch";
    case RefusalReason::capability_not_granted: return "capability-not-granted";
    case RefusalReason::config_invalid: return "config-invalid";
    case RefusalReason::constraint_broken: return "constraint-broken";
    case RefusalReason::unsigned_plugin: return "unsigned";
    case RefusalReason::bad_signature: return "bad-signature";
    case RefusalReason::duplicate: return "duplicate";
    case RefusalReason::dependency_missing: return "dependency-missing";
    case RefusalReason::create_failed: return "create-failed";
    case RefusalReason::start_failed: return "start-failed";
    case RefusalReason::fault_limit: return "fault-limit";
    case RefusalReason::not_legally_relevant: return "not-legally-relevant";
    case RefusalReason::not_approved: return "not-approved";
    case RefusalReason::crashed: return "crashed";
  }
  return "unknown";
}

struct PluginHost::Plugin {
  boost::dll::shared_library library;  // first member: closed after everything else is gone
  PluginHost* host = nullptr;
  meter_host_api api{};
  const meter_plugin_descriptor* descriptor = nullptr;
  sdk::Manifest manifest;
  std::set<std::string> granted;
  toml::table config;
  Sha256 sha256{};
  meter_plugin_instance* instance = nullptr;
  PluginState state = PluginState::created;
  std::uint32_t faults = 0;
  bool disable_pending = false;
  std::map<std::uint64_t, Connection> subscriptions;
  std::vector<Obis> objects;
  std::map<std::uint64_t, Session> sessions;  // port logons (ABI 1.2), by the gate's id
  std::string lent_description;               // object_info's description, lent until the next
  std::optional<std::vector<NvmWrite>> transaction;
  Value put_scratch;  // the last value put, its buffer reused by the next (nvm_put)
  std::vector<ConfigProblem> config_problems;  // reported during create or start (ABI 1.3)
  std::string write_refusal;                   // why the write in progress is refused (1.3)
  std::string last_refusal;                    // why the plugin's last session write was refused
  int start_rank = -1;
  // Its place in the breadcrumb's heap accounting; -1: not counted (every slot taken).
  std::optional<int> heap_slot;

  bool has(const std::string& capability) const {
    return manifest.has_capability(capability) && granted.count(capability) != 0;
  }
  bool alive() const noexcept {
    return instance != nullptr && state != PluginState::disabled && !disable_pending;
  }
};

namespace {

using Plugin = PluginHost::Plugin;

// The kernel's NVM namespace: the energy registers and the meter's own state.
constexpr std::string_view kKernelNamespace = "kernel";

Obis from_c(const meter_obis& o) { return Obis{o.a, o.b, o.c, o.d, o.e, o.f}; }
std::int64_t ms(UtcTime t) { return t.time_since_epoch().count(); }

// The tick's C form is made once per tick by the Meter; every other event is converted when
// it is delivered (they are rare).
const meter_energy_tick& c_form(const EnergyTick& e) { return e.abi; }
meter_measurements to_c(const Measurements& e) {
  meter_measurements c{};
  c.time_utc_ms = ms(e.time);
  c.phases = e.phases;
  for (std::size_t i = 0; i < kMaxPhases; ++i) {
    c.voltage_v[i] = e.voltage_v[i];
    c.current_a[i] = e.current_a[i];
    c.active_power_w[i] = e.active_power_w[i];
    c.power_factor[i] = e.power_factor[i];
  }
  c.frequency_hz = e.frequency_hz;
  c.total_active_power_w = e.total_active_power_w;
  c.total_reactive_power_var = e.total_reactive_power_var;
  c.total_apparent_power_va = e.total_apparent_power_va;
  return c;
}
meter_time_event to_c(const PowerFail& e) { return {ms(e.time)}; }
meter_power_restore to_c(const PowerRestore& e) {
  return {ms(e.time), e.outage.count(), e.time_valid ? 1 : 0};
}
meter_time_changed to_c(const TimeChanged& e) {
  return {ms(e.old_time), ms(e.new_time), e.was_valid ? 1 : 0};
}
meter_midnight to_c(const MidnightCrossed& e) {
  return {ms(e.time), e.year, e.month, e.day, e.weekday};
}
meter_parameter_changed to_c(const ParameterChanged& e) {
  meter_parameter_changed c{};
  c.time_utc_ms = ms(e.time);
  c.id = {e.id.a, e.id.b, e.id.c, e.id.d, e.id.e, e.id.f};
  c.old_value = e.old_value.c_str();
  c.new_value = e.new_value.c_str();
  c.who = e.who.c_str();
  c.via = static_cast<meter_interface>(e.via);
  c.role = e.role;
  c.parameter_class = e.parameter_class;
  c.counter = e.counter ? static_cast<std::int32_t>(*e.counter) : METER_COUNTER_NONE;
  c.counter_value = e.counter_value;
  return c;
}
meter_logon_failed to_c(const LogonFailed& e) {
  return {ms(e.time), static_cast<meter_interface>(e.via), e.failures, e.reason.c_str()};
}
// The C ABI's numbers are the kernel's: events and objects pass through without a table.
template <class Kernel>
constexpr int as_int(Kernel k) noexcept {
  return static_cast<int>(k);
}
static_assert(as_int(ParameterClass::read_only) == METER_PARAMETER_READ_ONLY &&
              as_int(ParameterClass::operational) == METER_PARAMETER_OPERATIONAL &&
              as_int(ParameterClass::configuration) == METER_PARAMETER_CONFIGURATION &&
              as_int(ParameterClass::calibration) == METER_PARAMETER_CALIBRATION &&
              as_int(ParameterClass::tariff) == METER_PARAMETER_TARIFF);
static_assert(as_int(Role::public_read) == METER_ROLE_PUBLIC &&
              as_int(Role::reader) == METER_ROLE_READER &&
              as_int(Role::configurator) == METER_ROLE_CONFIGURATOR &&
              as_int(Role::calibrator) == METER_ROLE_CALIBRATOR && kAnyRole == METER_ROLE_ANY &&
              kNoRole == METER_ROLE_NONE);
static_assert(as_int(SealKind::cover) == METER_SEAL_COVER &&
              as_int(SealKind::programming_jumper) == METER_SEAL_PROGRAMMING_JUMPER &&
              as_int(SealKind::optical_plug) == METER_SEAL_OPTICAL_PLUG &&
              as_int(SealKind::electronic) == METER_SEAL_ELECTRONIC);
static_assert(as_int(EventCounter::calibration) == METER_COUNTER_CALIBRATION &&
              as_int(EventCounter::configuration) == METER_COUNTER_CONFIGURATION);
static_assert(as_int(Interface::kernel) == METER_INTERFACE_KERNEL &&
              as_int(Interface::optical_port) == METER_INTERFACE_OPTICAL_PORT &&
              as_int(Interface::comms) == METER_INTERFACE_COMMS &&
              as_int(Interface::plugin) == METER_INTERFACE_PLUGIN &&
              as_int(Interface::local_button) == METER_INTERFACE_LOCAL_BUTTON);
static_assert(as_int(Unit::year) == METER_UNIT_YEAR && as_int(Unit::month) == METER_UNIT_MONTH &&
              as_int(Unit::week) == METER_UNIT_WEEK && as_int(Unit::day) == METER_UNIT_DAY &&
              as_int(Unit::hour) == METER_UNIT_HOUR && as_int(Unit::minute) == METER_UNIT_MINUTE &&
              as_int(Unit::second) == METER_UNIT_SECOND &&
              as_int(Unit::degree) == METER_UNIT_DEGREE &&
              as_int(Unit::celsius) == METER_UNIT_CELSIUS &&
              as_int(Unit::watt) == METER_UNIT_WATT &&
              as_int(Unit::volt_ampere) == METER_UNIT_VOLT_AMPERE &&
              as_int(Unit::var) == METER_UNIT_VAR &&
              as_int(Unit::watt_hour) == METER_UNIT_WATT_HOUR &&
              as_int(Unit::volt_ampere_hour) == METER_UNIT_VOLT_AMPERE_HOUR &&
              as_int(Unit::var_hour) == METER_UNIT_VAR_HOUR &&
              as_int(Unit::ampere) == METER_UNIT_AMPERE && as_int(Unit::volt) == METER_UNIT_VOLT &&
              as_int(Unit::hertz) == METER_UNIT_HERTZ &&
              as_int(Unit::per_watt_hour) == METER_UNIT_PER_WATT_HOUR &&
              as_int(Unit::percent) == METER_UNIT_PERCENT && as_int(Unit::none) == METER_UNIT_NONE);

meter_status status_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::not_found: return METER_STATUS_NOT_FOUND;
    case ErrorKind::denied: return METER_STATUS_DENIED;
    case ErrorKind::sealed: return METER_STATUS_SEALED;
    case ErrorKind::invalid: return METER_STATUS_INVALID_ARGUMENT;
    case ErrorKind::locked: return METER_STATUS_LOCKED;
    case ErrorKind::unavailable: return METER_STATUS_UNAVAILABLE;
    case ErrorKind::failed: break;
  }
  return METER_STATUS_ERROR;
}
meter_write_refused to_c(const WriteRefused& e) {
  meter_write_refused c{};
  c.time_utc_ms = ms(e.time);
  c.id = {e.id.a, e.id.b, e.id.c, e.id.d, e.id.e, e.id.f};
  c.via = static_cast<meter_interface>(e.via);
  c.role = e.role;
  c.status = status_for(e.kind);
  c.who = e.who.c_str();
  c.reason = e.reason.c_str();
  return c;
}
meter_port_locked to_c(const PortLocked& e) {
  return {ms(e.time), static_cast<meter_interface>(e.via), e.lockout.count()};
}
meter_plugin_loaded to_c(const PluginLoaded& e) {
  return {ms(e.time), e.id.c_str(), e.version.c_str(), e.sha256.c_str(),
          e.legally_relevant ? 1 : 0};
}
meter_plugin_refused to_c(const PluginRefused& e) {
  return {ms(e.time), e.id.c_str(), e.reason.c_str(), e.detail.c_str()};
}
meter_seal_changed to_c(const SealChanged& e) {
  return {ms(e.time), static_cast<std::int32_t>(e.kind), e.sealed ? 1 : 0};
}
meter_plugin_event to_c(const PluginEvent& e) {
  return {e.topic.c_str(), e.source.c_str(), e.payload.data(), e.payload.size(), ms(e.time)};
}

template <class Event>
auto c_form(const Event& e) {
  return to_c(e);
}

Plugin& self(meter_host_context* c) { return *reinterpret_cast<Plugin*>(c); }

}  // namespace

/// The C host functions. Each is noexcept at the boundary: nothing thrown in the kernel reaches
/// the plugin.
struct HostApi {
  /// Marks a call into a plugin; when the outermost returns, pending disables are carried out
  /// and a transaction left open is rolled back.
  class Call {
   public:
    explicit Call(Plugin& p) : plugin_(p) {
      if (p.host->depth_++ == 0) [[likely]] {
        if (auto* crumb = p.host->config_.breadcrumb) mark(*crumb, p);
      }
    }
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;
    ~Call() {
      if (--plugin_.host->depth_ == 0) {
        if (auto* crumb = plugin_.host->config_.breadcrumb) {
          crumb->slot.store(-1, std::memory_order_relaxed);
          crumb->since_ms.store(0, std::memory_order_release);
        }
        if (plugin_.transaction) [[unlikely]] plugin_.transaction.reset();
        if (plugin_.host->pending_) [[unlikely]] plugin_.host->finish_pending();
      }
    }

   private:
    Plugin& plugin_;
  };

  /// `id` into a breadcrumb's name field, cut to fit and NUL-terminated.
  template <std::size_t N>
  static void put_id(char (&to)[N], const std::string& id) noexcept {
    const auto n = std::min(id.size(), N - 1);
    std::memcpy(to, id.data(), n);
    to[n] = '\0';
  }

  static void mark(CallBreadcrumb& crumb, Plugin& p) noexcept {
    put_id(crumb.plugin, p.manifest.id);
    if (!p.heap_slot) [[unlikely]] p.heap_slot = heap_slot(crumb, p.manifest.id);
    crumb.slot.store(*p.heap_slot, std::memory_order_relaxed);
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now().time_since_epoch())
                         .count();
    crumb.since_ms.store(now == 0 ? 1 : now, std::memory_order_release);
  }

  /// The plugin's slot in the heap accounting: the one already named for it (a plugin loaded
  /// again keeps its count), else the first free one; -1 when all are taken.
  static int heap_slot(CallBreadcrumb& crumb, const std::string& id) noexcept {
    for (int s = 0; s < CallBreadcrumb::kHeapSlots; ++s) {
      auto& name = crumb.heap_plugin[s];
      if (name[0] == '\0') {
        put_id(name, id);
        return s;
      }
      if (std::string_view(name) == std::string_view(id).substr(0, sizeof name - 1)) return s;
    }
    return -1;
  }

  template <class Body>
  static meter_status guard(Body&& body) noexcept {
    try {
      return body();
    } catch (const std::bad_alloc&) {
      return METER_STATUS_OUT_OF_MEMORY;
    } catch (...) {
      return METER_STATUS_ERROR;
    }
  }

  template <class Event>
  static void deliver(Plugin& p, meter_event_type type, meter_event_fn handler, void* user_data,
                      const Event& e) {
    if (!p.alive()) [[unlikely]] return;
    const auto& data = c_form(e);  // a reference to the tick's own C form; a temporary otherwise
    const meter_event event{type, &data};
    Call call(p);
    const meter_status status = handler(user_data, &event);
    if (status != METER_STATUS_OK) [[unlikely]] {
      p.host->fault(p, fmt::format("handler for event {} returned {}", type,
                                   sdk::to_string(static_cast<sdk::Status>(status))));
    }
  }

  /// One bus connection per subscription; the slot holds three pointers, so Boost keeps it
  /// in its small buffer and a delivery costs one indirect call (and, but for the tick, one
  /// conversion).
  template <class Event>
  static Connection connect(Plugin& p, meter_event_type type, std::string topic,
                            meter_event_fn handler, void* user_data) {
    if constexpr (std::is_same_v<Event, PluginEvent>) {
      return p.host->deps_.bus.subscribe<Event>(
          [&p, type, topic = std::move(topic), handler, user_data](const Event& e) {
            if (topic.empty() || topic == e.topic) deliver(p, type, handler, user_data, e);
          });
    } else {
      (void)topic;
      return p.host->deps_.bus.subscribe<Event>([&p, handler, user_data](const Event& e) {
        deliver(p, sdk::EventTraits<std::decay_t<decltype(c_form(e))>>::kType, handler,
                user_data, e);
      });
    }
  }

  static void log(meter_host_context* c, meter_log_level level, const char* message) {
    try {
      auto& p = self(c);
      const std::string text = message ? message : "";
      if (p.host->config_.log) {
        p.host->config_.log(level, p.manifest.id, text);
      } else {
        std::fprintf(stderr, "[%s] %s\n", p.manifest.id.c_str(), text.c_str());
      }
    } catch (...) {
    }
  }
  static std::int64_t now_utc_ms(meter_host_context* c, std::int32_t* valid) {
    const Clock& clock = self(c).host->deps_.clock;
    if (valid != nullptr) *valid = clock.valid() ? 1 : 0;
    return ms(clock.now());
  }
  static std::int64_t uptime_ms(meter_host_context* c) {
    return self(c).host->deps_.clock.uptime().count();
  }

  static meter_status subscribe(meter_host_context* c, meter_event_type type, const char* topic,
                                meter_event_fn handler, void* user_data,
                                std::uint64_t* subscription) {
    return guard([&]() -> meter_status {
      auto& p = self(c);
      if (handler == nullptr) return METER_STATUS_INVALID_ARGUMENT;
      if (!p.alive()) return METER_STATUS_UNAVAILABLE;
      Connection connection;
      switch (type) {
        case METER_EVENT_ENERGY_TICK: connection = connect<EnergyTick>(p, type, {}, handler, user_data); break;
        case METER_EVENT_MEASUREMENTS: connection = connect<Measurements>(p, type, {}, handler, user_data); break;
        case METER_EVENT_POWER_FAIL: connection = connect<PowerFail>(p, type, {}, handler, user_data); break;
        case METER_EVENT_POWER_RESTORE: connection = connect<PowerRestore>(p, type, {}, handler, user_data); break;
        case METER_EVENT_TIME_CHANGED: connection = connect<TimeChanged>(p, type, {}, handler, user_data); break;
        case METER_EVENT_MIDNIGHT: connection = connect<MidnightCrossed>(p, type, {}, handler, user_data); break;
        case METER_EVENT_PARAMETER_CHANGED: connection = connect<ParameterChanged>(p, type, {}, handler, user_data); break;
        case METER_EVENT_SEAL_CHANGED: connection = connect<SealChanged>(p, type, {}, handler, user_data); break;
        case METER_EVENT_LOGON_FAILED: connection = connect<LogonFailed>(p, type, {}, handler, user_data); break;
        case METER_EVENT_PORT_LOCKED: connection = connect<PortLocked>(p, type, {}, handler, user_data); break;
        case METER_EVENT_WRITE_REFUSED: connection = connect<WriteRefused>(p, type, {}, handler, user_data); break;
        case METER_EVENT_PLUGIN_LOADED: connection = connect<PluginLoaded>(p, type, {}, handler, user_data); break;
        case METER_EVENT_PLUGIN_REFUSED: connection = connect<PluginRefused>(p, type, {}, handler, user_data); break;
        case METER_EVENT_PLUGIN:
          connection = connect<PluginEvent>(p, type, topic ? topic : "", handler, user_data);
          break;
        default: return METER_STATUS_INVALID_ARGUMENT;
      }
      const std::uint64_t id = ++p.host->next_subscription_;
      p.subscriptions.emplace(id, connection);
      if (subscription != nullptr) *subscription = id;
      if (p.state == PluginState::started) replay(p, type, handler, user_data);
      return METER_STATUS_OK;
    });
  }
  /// A subscriber to plugin loads and refusals first hears of the ones made before it
  /// subscribed (abi.h, meter_plugin_loaded), so an event logger misses none.
  static void replay(Plugin& p, meter_event_type type, meter_event_fn handler, void* user_data) {
    auto& host = *p.host;
    const auto now = host.deps_.clock.now();
    if (type == METER_EVENT_PLUGIN_LOADED) {
      for (const auto& other : host.plugins_) {
        if (other->instance == nullptr) continue;
        deliver(p, type, handler, user_data,
                PluginLoaded{now, other->manifest.id, other->manifest.version,
                             to_hex(other->sha256),
                             other->manifest.legal_class == sdk::LegalClass::legally_relevant});
      }
    } else if (type == METER_EVENT_PLUGIN_REFUSED) {
      for (const auto& r : host.refusals_) {
        deliver(p, type, handler, user_data,
                PluginRefused{now, r.plugin, std::string(to_string(r.reason)), r.detail});
      }
    }
  }

  static meter_status unsubscribe(meter_host_context* c, std::uint64_t subscription) {
    return guard([&]() -> meter_status {
      auto& p = self(c);
      auto it = p.subscriptions.find(subscription);
      if (it == p.subscriptions.end()) return METER_STATUS_NOT_FOUND;
      it->second.disconnect();
      p.subscriptions.erase(it);
      return METER_STATUS_OK;
    });
  }
  static meter_status publish(meter_host_context* c, const char* topic, const void* payload,
                              std::size_t size) {
    return guard([&]() -> meter_status {
      auto& p = self(c);
      if (topic == nullptr || *topic == '\0' || (payload == nullptr && size != 0)) {
        return METER_STATUS_INVALID_ARGUMENT;
      }
      if (p.state != PluginState::started || !p.alive()) return METER_STATUS_UNAVAILABLE;
      const auto* bytes = static_cast<const std::uint8_t*>(payload);
      p.host->deps_.bus.publish(PluginEvent{p.host->deps_.clock.now(), p.manifest.id, topic,
                                            std::vector<std::uint8_t>(bytes, bytes + size)});
      return METER_STATUS_OK;
    });
  }

  static meter_status register_object(meter_host_context* c, const meter_object_info* info,
                                      meter_object_read_fn read, meter_object_write_fn write,
                                      void* user_data) {
    return guard([&]() -> meter_status {
      auto& p = self(c);
      if (info == nullptr || read == nullptr || info->struct_size < sizeof(meter_object_info) ||
          info->type < METER_VALUE_BOOLEAN || info->type > METER_VALUE_OCTETS ||
          info->parameter_class < METER_PARAMETER_READ_ONLY ||
          info->parameter_class > METER_PARAMETER_TARIFF) {
        return METER_STATUS_INVALID_ARGUMENT;
      }
      if (!p.alive()) return METER_STATUS_UNAVAILABLE;
      const Obis id = from_c(info->id);
      const bool listed = std::any_of(p.manifest.objects.begin(), p.manifest.objects.end(),
                                      [&](const sdk::ProvidedObject& o) {
                                        return Obis::parse(o.obis) == std::optional<Obis>(id);
                                      });
      if (!listed) return METER_STATUS_DENIED;
      if (info->legally_relevant && p.manifest.legal_class != sdk::LegalClass::legally_relevant) {
        return METER_STATUS_DENIED;
      }
      if (p.host->deps_.registry.find(id) != nullptr) return METER_STATUS_CONFLICT;
      ObjectInfo object;
      object.id = id;
      object.type = static_cast<ValueType>(info->type);
      object.unit = static_cast<Unit>(info->unit);
      object.scaler = info->scaler;
      object.read_roles = info->read_roles;
      object.write_roles = info->write_roles;
      object.parameter_class = static_cast<ParameterClass>(info->parameter_class);
      object.legally_relevant = info->legally_relevant != 0;
      object.owner = p.manifest.id;
      object.description = info->description ? info->description : "";
      const ValueType type = object.type;
      ObjectReader reader = [&p, read, user_data, type]() -> Value {
        meter_value v{};
        if (p.alive()) {
          Call call(p);
          const meter_status status = read(user_data, &v);
          if (status == METER_STATUS_OK && v.type == static_cast<meter_value_type>(type)) {
            try {
              return sdk::from_c(v);
            } catch (...) {
            }
          }
          p.host->fault(p, "object read failed");
        }
        return zero_of(type);
      };
      ObjectWriter writer;
      if (write != nullptr) {
        writer = [&p, write, user_data](const Value& value) -> Result<void> {
          if (!p.alive()) return fail(fmt::format("plugin {} is not running", p.manifest.id));
          const meter_value v = sdk::to_c(value);
          Call call(p);
          p.write_refusal.clear();
          const meter_status status = write(user_data, &v);
          if (status == METER_STATUS_OK) return {};
          if (status == METER_STATUS_EXCEPTION) p.host->fault(p, "object write threw");
          // The plugin's status and reason reach whoever wrote: a lockout is `unavailable`, a
          // bad value `invalid`, and the port or head-end can say so.
          const std::string why = p.write_refusal.empty()
                                      ? std::string(sdk::to_string(static_cast<sdk::Status>(status)))
                                      : p.write_refusal;
          return fail(kind_of(status), fmt::format("plugin {} refused the value: {}", p.manifest.id, why));
        };
      }
      if (auto added = p.host->deps_.registry.add(std::move(object), std::move(reader),
                                                  std::move(writer));
          !added) {
        log(c, METER_LOG_ERROR, added.error().message.c_str());
        return METER_STATUS_INVALID_ARGUMENT;
      }
      p.objects.push_back(id);
      return METER_STATUS_OK;
    });
  }

  static Value zero_of(ValueType type) {
    switch (type) {
      case ValueType::boolean: return false;
      case ValueType::integer: return std::int64_t{0};
      case ValueType::unsigned_integer: return std::uint64_t{0};
      case ValueType::real: return 0.0;
      case ValueType::text: return std::string{};
      case ValueType::octets: return std::vector<std::uint8_t>{};
    }
    return std::int64_t{0};
  }

  static meter_status read_object(meter_host_context* c, meter_obis id, meter_value_sink_fn sink,
                                  void* user_data) {
    return guard([&]() -> meter_status {
      auto& p = self(c);
      if (sink == nullptr) return METER_STATUS_INVALID_ARGUMENT;
      const Obis obis = from_c(id);
      if (p.host->deps_.registry.find(obis) == nullptr) return METER_STATUS_NOT_FOUND;
      auto value = p.host->deps_.registry.read(obis, Role::reader);
      if (!value) return METER_STATUS_DENIED;
      const meter_value v = sdk::to_c(*value);
      sink(user_data, &v);
      return METER_STATUS_OK;
    });
  }

  /// A legally relevant or sealable object needs `write:<OBIS>` or `write:<group>` covering it,
  /// in the manifest and granted by the SKU.
  static bool may_write(const Plugin& p, const ObjectInfo& info) {
    if (info.owner == p.manifest.id && !info.legally_relevant) return true;
    if (!info.legally_relevant && !is_sealable(info.parameter_class)) return true;
    if (p.has("write:" + info.id.to_string())) return true;
    for (const auto& [group, ids] : p.host->config_.write_groups) {
      if (p.has("write:" + group) && std::find(ids.begin(), ids.end(), info.id) != ids.end()) {
        return true;
      }
    }
    return false;
  }

  static meter_status write_object(meter_host_context* c, meter_obis id, const meter_value* value) {
    return guard([&]() -> meter_status {
      auto& p = self(c);
      if (value == nullptr) return METER_STATUS_INVALID_ARGUMENT;
      if (p.state != PluginState::started || !p.alive()) return METER_STATUS_UNAVAILABLE;
      const Obis obis = from_c(id);
      const ObjectInfo* info = p.host->deps_.registry.find(obis);
      if (info == nullptr) return METER_STATUS_NOT_FOUND;
      if (!may_write(p, *info)) {
        log(c, METER_LOG_WARNING,
            fmt::format("write to {} denied: no granted write capability", obis.to_string()).c_str());
        return METER_STATUS_DENIED;
      }
      Value v;
      try {
        v = sdk::from_c(*value);
      } catch (const sdk::Error&) {
        return METER_STATUS_TYPE_MISMATCH;
      }
      if (type_of(v) != info->type) return METER_STATUS_TYPE_MISMATCH;
      const Role role = info->parameter_class == ParameterClass::calibration ? Role::calibrator
                                                                              : Role::configurator;
      auto written = p.host->deps_.gate.write(obis, v, Requester{Interface::plugin, role, p.manifest.id});
      if (!written) {
        log(c, METER_LOG_WARNING, written.error().message.c_str());
        return METER_STATUS_DENIED;
      }
      return METER_STATUS_OK;
    });
  }

  static meter_status config_get(meter_host_context* c, const char* key, meter_value_sink_fn sink,
                                 void* user_data) {
    return guard([&]() -> meter_status {
      auto& p = self(c);
      if (key == nullptr || sink == nullptr) return METER_STATUS_INVALID_ARGUMENT;
      const toml::node* node = p.config.get(key);
      if (node == nullptr) return METER_STATUS_NOT_FOUND;
      sdk::Value v;
      const sdk::ConfigField* field = p.manifest.field(key);
      if (auto i = node->value_exact<std::int64_t>()) {
        if (field && field->type == sdk::ConfigType::real) {
          v = static_cast<double>(*i);
        } else {
          v = *i;
        }
      } else if (auto d = node->value_exact<double>()) {
        v = *d;
      } else if (auto b = node->value_exact<bool>()) {
        v = *b;
      } else if (auto s = node->value_exact<std::string>()) {
        v = *s;
      } else if (node->is_array() || node->is_table()) {
        v = sdk::config_text(*node);  // array and table-array keys arrive as TOML text
      } else {
        return METER_STATUS_TYPE_MISMATCH;
      }
      const meter_value out = sdk::to_c(v);
      sink(user_data, &out);
      return METER_STATUS_OK;
    });
  }

  static std::optional<std::string> name_space(const Plugin& p, const char* requested) {
    if (requested == nullptr || p.manifest.id == requested) return p.manifest.id;
    // The kernel's namespace holds the energy registers: no grant opens it (load refuses the
    // capability too; this holds whatever a grant says).
    if (std::string_view(requested) == kKernelNamespace) return std::nullopt;
    if (p.has(std::string("nvm:") + requested)) return std::string(requested);
    return std::nullopt;
  }

  static meter_status nvm_get(meter_host_context* c, const char* ns, const char* key,
                              meter_value_sink_fn sink, void* user_data) {
    return guard([&]() -> meter_status {
      auto& p = self(c);
      if (key == nullptr || sink == nullptr) return METER_STATUS_INVALID_ARGUMENT;
      const auto space = name_space(p, ns);
      if (!space) return METER_STATUS_DENIED;
      std::optional<Value> found;
      bool decided = false;
      if (p.transaction) {
        for (auto it = p.transaction->rbegin(); it != p.transaction->rend(); ++it) {
          if (it->name_space == *space && it->key == key) {
            found = it->value;
            decided = true;
            break;
          }
        }
      }
      if (!decided) {
        auto stored = p.host->deps_.nvm.get(*space, key);
        if (!stored) return METER_STATUS_ERROR;
        found = std::move(*stored);
      }
      if (!found) return METER_STATUS_NOT_FOUND;
      const meter_value v = sdk::to_c(*found);
      sink(user_data, &v);
      return METER_STATUS_OK;
    });
  }

  static meter_status nvm_write(Plugin& p, const char* ns, const char* key,
                                std::optional<Value> value) {
    const auto space = name_space(p, ns);
    if (!space) return METER_STATUS_DENIED;
    NvmWrite write{*space, key, std::move(value)};
    if (p.transaction) {
      p.transaction->push_back(std::move(write));
      return METER_STATUS_OK;
    }
    return p.host->deps_.nvm.apply({std::move(write)}) ? METER_STATUS_OK : METER_STATUS_ERROR;
  }
  /// `in` into `out`, reusing what `out` holds: a plugin that puts the same record every tick
  /// costs the host no allocation.
  static bool assign_from_c(const meter_value& in, Value& out) {
    const auto bytes = [&](auto& holder) {
      if (in.size == 0) {
        holder.clear();
      } else {
        holder.assign(reinterpret_cast<const typename std::decay_t<decltype(holder)>::value_type*>(in.bytes),
                      reinterpret_cast<const typename std::decay_t<decltype(holder)>::value_type*>(in.bytes) + in.size);
      }
    };
    switch (in.type) {
      case METER_VALUE_BOOLEAN: out = in.boolean != 0; return true;
      case METER_VALUE_INTEGER: out = in.integer; return true;
      case METER_VALUE_UNSIGNED: out = in.unsigned_integer; return true;
      case METER_VALUE_REAL: out = in.real; return true;
      case METER_VALUE_TEXT:
        if (!std::holds_alternative<std::string>(out)) out = std::string();
        bytes(std::get<std::string>(out));
        return true;
      case METER_VALUE_OCTETS:
        if (!std::holds_alternative<std::vector<std::uint8_t>>(out)) out = std::vector<std::uint8_t>();
        bytes(std::get<std::vector<std::uint8_t>>(out));
        return true;
      default: return false;
    }
  }
  static meter_status nvm_put(meter_host_context* c, const char* ns, const char* key,
                              const meter_value* value) {
    return guard([&]() -> meter_status {
      if (key == nullptr || *key == '\0' || value == nullptr) return METER_STATUS_INVALID_ARGUMENT;
      auto& p = self(c);
      if (value->size > 0 && value->bytes == nullptr &&
          (value->type == METER_VALUE_TEXT || value->type == METER_VALUE_OCTETS)) {
        return METER_STATUS_INVALID_ARGUMENT;
      }
      if (!assign_from_c(*value, p.put_scratch)) return METER_STATUS_TYPE_MISMATCH;
      if (p.transaction) return nvm_write(p, ns, key, p.put_scratch);
      // Outside a transaction, straight to the store: during a tick it joins the kernel's group.
      const auto space = name_space(p, ns);
      if (!space) return METER_STATUS_DENIED;
      return p.host->deps_.nvm.put(*space, key, p.put_scratch) ? METER_STATUS_OK
                                                                : METER_STATUS_ERROR;
    });
  }
  static meter_status nvm_erase(meter_host_context* c, const char* ns, const char* key) {
    return guard([&]() -> meter_status {
      if (key == nullptr || *key == '\0') return METER_STATUS_INVALID_ARGUMENT;
      struct Found {
        bool any = false;
      } found;
      const meter_status exists = nvm_get(
          c, ns, key, [](void* u, const meter_value*) { static_cast<Found*>(u)->any = true; }, &found);
      if (exists != METER_STATUS_OK) return exists;
      return nvm_write(self(c), ns, key, std::nullopt);
    });
  }
  static meter_status nvm_begin(meter_host_context* c) {
    auto& p = self(c);
    if (p.transaction) return METER_STATUS_CONFLICT;
    return guard([&]() -> meter_status {
      p.transaction.emplace();
      return METER_STATUS_OK;
    });
  }
  static meter_status nvm_commit(meter_host_context* c) {
    return guard([&]() -> meter_status {
      auto& p = self(c);
      if (!p.transaction) return METER_STATUS_UNAVAILABLE;
      auto batch = std::move(*p.transaction);
      p.transaction.reset();
      if (batch.empty()) return METER_STATUS_OK;
      return p.host->deps_.nvm.apply(batch) ? METER_STATUS_OK : METER_STATUS_ERROR;
    });
  }
  static meter_status nvm_rollback(meter_host_context* c) {
    auto& p = self(c);
    if (!p.transaction) return METER_STATUS_UNAVAILABLE;
    p.transaction.reset();
    return METER_STATUS_OK;
  }

  static meter_status trip_relay(meter_host_context* c, std::uint32_t relay, std::int32_t open) {
    return guard([&]() -> meter_status {
      auto& p = self(c);
      if (p.state != PluginState::started || !p.alive()) return METER_STATUS_UNAVAILABLE;
      if (!p.has("relay")) {
        log(c, METER_LOG_WARNING, "relay operation denied: capability relay not granted");
        return METER_STATUS_DENIED;
      }
      RelayDriver* driver = p.host->deps_.relay;
      if (driver == nullptr || relay >= driver->relays()) return METER_STATUS_UNAVAILABLE;
      return driver->set_open(relay, open != 0) ? METER_STATUS_OK : METER_STATUS_ERROR;
    });
  }

  // ----- ABI 1.2: input and output ------------------------------------------------------

  static bool may_io(const Plugin& p) { return p.has("io"); }

  static meter_status watch_fd(meter_host_context* c, std::int32_t fd, std::int32_t events,
                               meter_io_fn handler, void* user_data, std::uint64_t* watch) {
    return guard([&]() -> meter_status {
      auto& p = self(c);
      if (fd < 0 || handler == nullptr ||
          (events & ~(METER_IO_READABLE | METER_IO_WRITABLE)) != 0) {
        return METER_STATUS_INVALID_ARGUMENT;
      }
      if (!may_io(p)) {
        log(c, METER_LOG_WARNING, "watch denied: capability io not granted");
        return METER_STATUS_DENIED;
      }
      if (!p.alive()) return METER_STATUS_UNAVAILABLE;
      auto& host = *p.host;
      for (const auto& [id, w] : host.watches_) {
        if (w.fd == fd) return METER_STATUS_CONFLICT;
      }
      const std::uint64_t id = ++host.next_io_;
      host.watches_.emplace(id, PluginHost::Watch{&p, fd, events, handler, user_data});
      if (watch != nullptr) *watch = id;
      return METER_STATUS_OK;
    });
  }
  static meter_status modify_watch(meter_host_context* c, std::uint64_t watch,
                                   std::int32_t events) {
    return guard([&]() -> meter_status {
      auto& p = self(c);
      if ((events & ~(METER_IO_READABLE | METER_IO_WRITABLE)) != 0) {
        return METER_STATUS_INVALID_ARGUMENT;
      }
      auto it = p.host->watches_.find(watch);
      if (it == p.host->watches_.end() || it->second.plugin != &p) return METER_STATUS_NOT_FOUND;
      it->second.events = events;
      return METER_STATUS_OK;
    });
  }
  static meter_status unwatch_fd(meter_host_context* c, std::uint64_t watch) {
    return guard([&]() -> meter_status {
      auto& p = self(c);
      auto it = p.host->watches_.find(watch);
      if (it == p.host->watches_.end() || it->second.plugin != &p) return METER_STATUS_NOT_FOUND;
      p.host->watches_.erase(it);
      return METER_STATUS_OK;
    });
  }
  static meter_status set_timer(meter_host_context* c, std::int64_t delay_ms,
                                meter_timer_fn handler, void* user_data, std::uint64_t* timer) {
    return guard([&]() -> meter_status {
      auto& p = self(c);
      if (delay_ms < 0 || handler == nullptr) return METER_STATUS_INVALID_ARGUMENT;
      if (!may_io(p)) {
        log(c, METER_LOG_WARNING, "timer denied: capability io not granted");
        return METER_STATUS_DENIED;
      }
      if (!p.alive()) return METER_STATUS_UNAVAILABLE;
      auto& host = *p.host;
      const std::uint64_t id = ++host.next_io_;
      host.timers_.emplace(id, PluginHost::Timer{&p,
                                                 std::chrono::steady_clock::now() +
                                                     std::chrono::milliseconds(delay_ms),
                                                 handler, user_data});
      if (timer != nullptr) *timer = id;
      return METER_STATUS_OK;
    });
  }
  static meter_status cancel_timer(meter_host_context* c, std::uint64_t timer) {
    return guard([&]() -> meter_status {
      auto& p = self(c);
      auto it = p.host->timers_.find(timer);
      if (it == p.host->timers_.end() || it->second.plugin != &p) return METER_STATUS_NOT_FOUND;
      p.host->timers_.erase(it);
      return METER_STATUS_OK;
    });
  }
  static std::int64_t steady_ms(meter_host_context*) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  // ----- ABI 1.2: ports ---------------------------------------------------------------------

  static std::optional<Interface> port_interface(const Plugin& p, meter_interface via) {
    if (via == METER_INTERFACE_OPTICAL_PORT && p.has("port:optical")) {
      return Interface::optical_port;
    }
    if (via == METER_INTERFACE_COMMS && p.has("port:comms")) return Interface::comms;
    return std::nullopt;
  }

  static meter_status status_of(const Error& e) { return status_for(e.kind); }

  static meter_status port_logon(meter_host_context* c, meter_interface via,
                                 const std::uint8_t* password, std::size_t size,
                                 std::uint64_t* session, std::int32_t* role) {
    return guard([&]() -> meter_status {
      auto& p = self(c);
      if ((password == nullptr && size != 0) || session == nullptr) {
        return METER_STATUS_INVALID_ARGUMENT;
      }
      const auto port = port_interface(p, via);
      if (!port) {
        log(c, METER_LOG_WARNING, "logon denied: the plugin is not granted that port");
        return METER_STATUS_DENIED;
      }
      if (p.state != PluginState::started || !p.alive()) return METER_STATUS_UNAVAILABLE;
      // A fixed-size password field (C12.18's 20 bytes) is padded with NULs or spaces.
      std::string_view text(reinterpret_cast<const char*>(password), size);
      while (!text.empty() && (text.back() == '\0' || text.back() == ' ')) text.remove_suffix(1);
      auto logged = p.host->deps_.gate.logon(*port, text);
      if (!logged) {
        log(c, METER_LOG_INFO, fmt::format("logon refused: {}", logged.error().message).c_str());
        return status_of(logged.error());
      }
      p.sessions.emplace(logged->id, *logged);
      *session = logged->id;
      if (role != nullptr) *role = mask(logged->role);
      return METER_STATUS_OK;
    });
  }
  static meter_status port_logoff(meter_host_context* c, std::uint64_t session) {
    return guard([&]() -> meter_status {
      auto& p = self(c);
      auto it = p.sessions.find(session);
      if (it == p.sessions.end()) return METER_STATUS_NOT_FOUND;
      p.host->deps_.gate.logoff(it->second);
      p.sessions.erase(it);
      return METER_STATUS_OK;
    });
  }
  static meter_status session_read(meter_host_context* c, std::uint64_t session, meter_obis id,
                                   meter_value_sink_fn sink, void* user_data) {
    return guard([&]() -> meter_status {
      auto& p = self(c);
      if (sink == nullptr) return METER_STATUS_INVALID_ARGUMENT;
      Role role = Role::public_read;
      if (session != 0) {
        auto it = p.sessions.find(session);
        if (it == p.sessions.end() || !p.host->deps_.gate.logged_on(it->second)) {
          return METER_STATUS_DENIED;
        }
        role = it->second.role;
      }
      const Obis obis = from_c(id);
      if (p.host->deps_.registry.find(obis) == nullptr) return METER_STATUS_NOT_FOUND;
      auto value = p.host->deps_.registry.read(obis, role);
      if (!value) return METER_STATUS_DENIED;
      const meter_value v = sdk::to_c(*value);
      sink(user_data, &v);
      return METER_STATUS_OK;
    });
  }
  static meter_status session_write(meter_host_context* c, std::uint64_t session, meter_obis id,
                                    const meter_value* value) {
    return guard([&]() -> meter_status {
      auto& p = self(c);
      if (value == nullptr) return METER_STATUS_INVALID_ARGUMENT;
      if (p.state != PluginState::started || !p.alive()) return METER_STATUS_UNAVAILABLE;
      auto it = p.sessions.find(session);
      // No logon (or one that ended): the public role at the plugin's port. The gate refuses
      // it like any other write, so that an outsider's attempt is recorded too.
      std::optional<Interface> port;
      if (it == p.sessions.end()) {
        port = port_interface(p, METER_INTERFACE_OPTICAL_PORT);
        if (!port) port = port_interface(p, METER_INTERFACE_COMMS);
        if (!port) return METER_STATUS_DENIED;
      }
      Value v;
      try {
        v = sdk::from_c(*value);
      } catch (const sdk::Error&) {
        return METER_STATUS_TYPE_MISMATCH;
      }
      auto written = it != p.sessions.end()
                         ? p.host->deps_.gate.write(from_c(id), v, it->second)
                         : p.host->deps_.gate.write(from_c(id), v,
                                                    Requester{*port, Role::public_read,
                                                              p.manifest.id});
      if (!written) {
        p.last_refusal = written.error().message;
        log(c, METER_LOG_INFO, written.error().message.c_str());
        return status_of(written.error());
      }
      p.last_refusal.clear();
      return METER_STATUS_OK;
    });
  }
  static meter_status object_info(meter_host_context* c, meter_obis id, meter_object_info* out) {
    return guard([&]() -> meter_status {
      auto& p = self(c);
      if (out == nullptr || out->struct_size < sizeof(meter_object_info)) {
        return METER_STATUS_INVALID_ARGUMENT;
      }
      const ObjectInfo* info = p.host->deps_.registry.find(from_c(id));
      if (info == nullptr) return METER_STATUS_NOT_FOUND;
      p.lent_description = info->description;
      const auto size = out->struct_size;
      *out = meter_object_info{};
      out->struct_size = size;
      out->id = id;
      out->type = static_cast<meter_value_type>(info->type);
      out->unit = static_cast<std::uint8_t>(info->unit);
      out->scaler = info->scaler;
      out->read_roles = info->read_roles;
      out->write_roles = info->write_roles;
      out->parameter_class = static_cast<meter_parameter_class>(info->parameter_class);
      out->legally_relevant = info->legally_relevant ? 1 : 0;
      out->description = p.lent_description.c_str();
      return METER_STATUS_OK;
    });
  }
  static meter_status list_objects(meter_host_context* c, meter_obis_sink_fn sink,
                                   void* user_data) {
    return guard([&]() -> meter_status {
      auto& p = self(c);
      if (sink == nullptr) return METER_STATUS_INVALID_ARGUMENT;
      std::vector<Obis> ids;
      for (const auto* info : p.host->deps_.registry.list()) ids.push_back(info->id);
      std::sort(ids.begin(), ids.end());
      for (const auto& o : ids) sink(user_data, meter_obis{o.a, o.b, o.c, o.d, o.e, o.f});
      return METER_STATUS_OK;
    });
  }

  // ----- ABI 1.3: configuration errors, simulation ---------------------------------------

  static meter_status config_error(meter_host_context* c, const char* key, const char* message) {
    return guard([&]() -> meter_status {
      auto& p = self(c);
      if (key == nullptr || message == nullptr) return METER_STATUS_INVALID_ARGUMENT;
      p.config_problems.push_back({key, message});
      return METER_STATUS_OK;
    });
  }
  static std::int32_t simulated(meter_host_context* c) {
    return self(c).host->config_.simulated ? 1 : 0;
  }
  static meter_status last_refusal(meter_host_context* c, meter_value_sink_fn sink,
                                   void* user_data) {
    return guard([&]() -> meter_status {
      if (sink == nullptr) return METER_STATUS_INVALID_ARGUMENT;
      const Value text{self(c).last_refusal};
      const meter_value out = sdk::to_c(text);
      sink(user_data, &out);
      return METER_STATUS_OK;
    });
  }
  static void write_refused(meter_host_context* c, const char* message) {
    try {
      if (message != nullptr) self(c).write_refusal = message;
    } catch (...) {
    }
  }

  /// What a plugin's status says, as the gate and the ports understand failures.
  static ErrorKind kind_of(meter_status status) {
    switch (status) {
      case METER_STATUS_NOT_FOUND: return ErrorKind::not_found;
      case METER_STATUS_DENIED: return ErrorKind::denied;
      case METER_STATUS_SEALED: return ErrorKind::sealed;
      case METER_STATUS_LOCKED: return ErrorKind::locked;
      case METER_STATUS_UNAVAILABLE: return ErrorKind::unavailable;
      case METER_STATUS_INVALID_ARGUMENT:
      case METER_STATUS_TYPE_MISMATCH: return ErrorKind::invalid;
      default: return ErrorKind::failed;
    }
  }

  static void fill(Plugin& p) {
    p.api.struct_size = sizeof(meter_host_api);
    p.api.abi_major = METER_ABI_MAJOR;
    p.api.abi_minor = METER_ABI_MINOR;
    p.api.context = reinterpret_cast<meter_host_context*>(&p);
    p.api.log = &log;
    p.api.now_utc_ms = &now_utc_ms;
    p.api.uptime_ms = &uptime_ms;
    p.api.subscribe = &subscribe;
    p.api.unsubscribe = &unsubscribe;
    p.api.publish = &publish;
    p.api.register_object = &register_object;
    p.api.read_object = &read_object;
    p.api.write_object = &write_object;
    p.api.config_get = &config_get;
    p.api.nvm_get = &nvm_get;
    p.api.nvm_put = &nvm_put;
    p.api.nvm_erase = &nvm_erase;
    p.api.nvm_begin = &nvm_begin;
    p.api.nvm_commit = &nvm_commit;
    p.api.nvm_rollback = &nvm_rollback;
    p.api.trip_relay = &trip_relay;
    p.api.watch_fd = &watch_fd;
    p.api.modify_watch = &modify_watch;
    p.api.unwatch_fd = &unwatch_fd;
    p.api.set_timer = &set_timer;
    p.api.cancel_timer = &cancel_timer;
    p.api.steady_ms = &steady_ms;
    p.api.port_logon = &port_logon;
    p.api.port_logoff = &port_logoff;
    p.api.session_read = &session_read;
    p.api.session_write = &session_write;
    p.api.object_info = &object_info;
    p.api.list_objects = &list_objects;
    p.api.config_error = &config_error;
    p.api.simulated = &simulated;
    p.api.write_refused = &write_refused;
    p.api.last_refusal = &last_refusal;
  }

  /// Calls a watch's or a timer's handler as a call into the plugin; a failure is a fault.
  template <class Invoke>
  static void run_handler(Plugin& p, const char* what, Invoke&& invoke) {
    if (!p.alive()) return;
    Call call(p);
    meter_status status = METER_STATUS_EXCEPTION;
    try {
      status = invoke();
    } catch (...) {
    }
    if (status != METER_STATUS_OK) {
      p.host->fault(p, fmt::format("{} handler returned {}", what,
                                   sdk::to_string(static_cast<sdk::Status>(status))));
    }
  }
};

// ----- the host ----------------------------------------------------------------------------

PluginHost::PluginHost(PluginHostDeps deps, PluginHostConfig config)
    : deps_(deps), config_(std::move(config)) {
  if (auto hash = sha256_loaded_image(config_.kernel_binary)) kernel_sha256_ = *hash;
}

PluginHost::~PluginHost() {
  stop_all();
  while (!plugins_.empty()) {
    Plugin& p = *plugins_.back();
    drop_connections_and_objects(p);
    // Created and never started (meterd --check, a refused start): destroy is still owed.
    if (p.instance != nullptr) {
      ++depth_;
      p.descriptor->destroy(p.instance);
      p.instance = nullptr;
      --depth_;
    }
    plugins_.pop_back();
  }
}

void PluginHost::refuse(const std::string& plugin, RefusalReason reason, std::string detail,
                        std::vector<ConfigProblem> problems) {
  const std::string line = fmt::format("plugin {} refused ({}): {}", plugin, to_string(reason), detail);
  if (config_.log) {
    config_.log(METER_LOG_ERROR, plugin, line);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  deps_.bus.publish(PluginRefused{deps_.clock.now(), plugin, std::string(to_string(reason)), detail});
  refusals_.push_back({plugin, reason, std::move(detail), std::move(problems)});
}

bool PluginHost::declares(const Obis& id) const {
  return std::any_of(plugins_.begin(), plugins_.end(), [&](const auto& p) {
    return std::any_of(p->manifest.objects.begin(), p->manifest.objects.end(),
                       [&](const auto& o) { return Obis::parse(o.obis) == id; });
  });
}

namespace {
/// The refusal detail of a plugin that reported configuration errors: the first of them.
std::string config_detail(const std::vector<ConfigProblem>& problems) {
  return fmt::format("{}: {}{}", problems.front().key, problems.front().message,
                     problems.size() > 1 ? fmt::format(" (and {} more)", problems.size() - 1) : "");
}
}  // namespace

PluginHost::Plugin* PluginHost::find(const std::string& id) const {
  for (const auto& p : plugins_) {
    if (p->manifest.id == id) return p.get();
  }
  return nullptr;
}

void PluginHost::drop_connections_and_objects(Plugin& p) {
  for (auto& [id, connection] : p.subscriptions) connection.disconnect();
  p.subscriptions.clear();
  std::erase_if(watches_, [&](const auto& w) { return w.second.plugin == &p; });
  std::erase_if(timers_, [&](const auto& t) { return t.second.plugin == &p; });
  for (const auto& [id, session] : p.sessions) deps_.gate.logoff(session);
  p.sessions.clear();
  deps_.registry.remove_owned_by(p.manifest.id);
  p.objects.clear();
}

std::size_t PluginHost::poll_io(std::chrono::milliseconds timeout) {
  using std::chrono::steady_clock;
  auto now = steady_clock::now();
  auto wait = std::max(timeout, std::chrono::milliseconds{0});
  for (const auto& [id, t] : timers_) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(t.due - now);
    wait = std::clamp(left, std::chrono::milliseconds{0}, wait);
  }
  std::vector<std::uint64_t> ids;
  std::vector<pollfd> fds;
  for (const auto& [id, w] : watches_) {
    short events = 0;
    if ((w.events & METER_IO_READABLE) != 0) events |= POLLIN;
    if ((w.events & METER_IO_WRITABLE) != 0) events |= POLLOUT;
    ids.push_back(id);
    fds.push_back(pollfd{w.fd, events, 0});
  }
  const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(wait.count()));
  std::size_t ran = 0;
  for (std::size_t i = 0; ready > 0 && i < fds.size(); ++i) {
    if (fds[i].revents == 0) continue;
    auto it = watches_.find(ids[i]);  // an earlier handler may have dropped it
    if (it == watches_.end()) continue;
    const Watch w = it->second;
    std::int32_t mask = 0;
    if ((fds[i].revents & (POLLIN | POLLHUP)) != 0) mask |= METER_IO_READABLE;
    if ((fds[i].revents & POLLOUT) != 0) mask |= METER_IO_WRITABLE;
    if ((fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) mask |= METER_IO_ERROR;
    if ((fds[i].revents & POLLNVAL) != 0) watches_.erase(it);  // closed behind our back
    HostApi::run_handler(*w.plugin, "io", [&] { return w.handler(w.user_data, w.fd, mask); });
    ++ran;
  }
  now = steady_clock::now();
  std::vector<std::uint64_t> due;
  for (const auto& [id, t] : timers_) {
    if (t.due <= now) due.push_back(id);
  }
  for (const auto id : due) {
    auto it = timers_.find(id);
    if (it == timers_.end()) continue;
    const Timer t = it->second;
    timers_.erase(it);  // a timer fires once
    HostApi::run_handler(*t.plugin, "timer", [&] { return t.handler(t.user_data); });
    ++ran;
  }
  return ran;
}

void PluginHost::fault(Plugin& p, const std::string& what) {
  ++p.faults;
  if (p.faults < config_.fault_limit || p.disable_pending || p.state == PluginState::disabled) {
    return;
  }
  p.disable_pending = true;
  pending_ = true;
  for (auto& [id, connection] : p.subscriptions) connection.disconnect();  // no more calls now
  refuse(p.manifest.id, RefusalReason::fault_limit,
         fmt::format("disabled after {} faults; last: {}", p.faults, what));
  deps_.bus.publish(FaultRaised{deps_.clock.now(), Fault::plugin,
                                fmt::format("plugin {} disabled: {}", p.manifest.id, what)});
}

void PluginHost::finish_pending() {
  pending_ = false;
  for (auto& owned : plugins_) {
    Plugin& p = *owned;
    if (!p.disable_pending) continue;
    p.disable_pending = false;
    const bool was_started = p.state == PluginState::started;
    p.state = PluginState::disabled;
    if (p.instance != nullptr) {
      ++depth_;  // the plugin's stop and destroy are calls into it too
      if (was_started) p.descriptor->stop(p.instance);
      drop_connections_and_objects(p);
      p.descriptor->destroy(p.instance);
      p.instance = nullptr;
      --depth_;
    }
  }
}

void PluginHost::retire(Plugin& p) {
  {
    ++depth_;
    if (p.state == PluginState::started && p.instance) p.descriptor->stop(p.instance);
    drop_connections_and_objects(p);
    if (p.instance) p.descriptor->destroy(p.instance);
    p.instance = nullptr;
    --depth_;
  }
  const std::string id = p.manifest.id;
  auto it = std::find_if(plugins_.begin(), plugins_.end(),
                         [&](const auto& owned) { return owned.get() == &p; });
  if (it != plugins_.end()) plugins_.erase(it);  // the library closes here, last
  deps_.bus.publish(PluginUnloaded{deps_.clock.now(), id});
}

namespace {

std::string descriptor_problem(const meter_plugin_descriptor* d) {
  if (d == nullptr) return "the entry point returned NULL";
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

}  // namespace

Result<void> PluginHost::load(const PluginSpec& spec) {
  const std::string name = !spec.id.empty() ? spec.id : spec.path.string();
  auto refused = [&](RefusalReason reason, std::string detail) -> Result<void> {
    std::string message = fmt::format("plugin {} refused ({}): {}", name, to_string(reason), detail);
    refuse(name, reason, std::move(detail));
    return fail(std::move(message));
  };
  if (!spec.crashed.empty()) return refused(RefusalReason::crashed, spec.crashed);
  try {
    // Find the library and read it: the hash, the signature and the manifest are checked
    // before any of its code runs.
    fs::path path = spec.path;
    if (path.empty()) {
      for (const auto& dir : config_.plugin_dirs) {
        const fs::path candidate = dir / (spec.id + ".so");
        if (fs::exists(candidate)) {
          path = candidate;
          break;
        }
      }
    }
    if (path.empty() || !fs::exists(path)) {
      std::string dirs;
      for (const auto& d : config_.plugin_dirs) dirs += (dirs.empty() ? "" : ", ") + d.string();
      return refused(RefusalReason::not_found,
                     fmt::format("no {}.so in the plugin directories ({})", spec.id, dirs));
    }
    if (!spec.id.empty() && find(spec.id) != nullptr) {
      return refused(RefusalReason::duplicate, "a plugin with this id is already loaded");
    }
    fs::path manifest_path = path;
    manifest_path.replace_extension(".toml");
    auto manifest_text = read_binary(manifest_path);
    if (!manifest_text) {
      return refused(RefusalReason::manifest_invalid,
                     fmt::format("no manifest {} beside the library", manifest_path.string()));
    }
    const std::string beside(manifest_text->begin(), manifest_text->end());
    auto parsed = sdk::parse_manifest(beside, manifest_path.string());
    if (!parsed.manifest) return refused(RefusalReason::manifest_invalid, parsed.errors.front());
    sdk::Manifest& manifest = *parsed.manifest;
    if (manifest.id == kKernelNamespace || manifest.id == "board") {
      return refused(RefusalReason::manifest_invalid,
                     fmt::format("the id '{}' is the meter's own: no plugin may take it", manifest.id));
    }
    if (!spec.id.empty() && manifest.id != spec.id) {
      return refused(RefusalReason::manifest_mismatch,
                     fmt::format("the SKU names {} but the manifest says {}", spec.id, manifest.id));
    }
    // One pass over the library, in fixed memory: its hash (identity and signature) and
    // whether it embeds the manifest beside it.
    auto scan = scan_plugin(path, beside);
    if (!scan) return refused(RefusalReason::load_failed, scan.error().message);
    if (!scan->manifest_embedded) {
      return refused(RefusalReason::manifest_mismatch,
                     fmt::format("{} is not the manifest embedded in the binary",
                                 manifest_path.filename().string()));
    }
    const Sha256 hash = scan->sha256;
    const bool declares_relevant = manifest.legal_class == sdk::LegalClass::legally_relevant;
    if (spec.legally_relevant && !declares_relevant) {
      return refused(RefusalReason::not_legally_relevant,
                     "the product marks it legally relevant, but the plugin declares itself "
                     "not relevant: not the plugin the product was approved with");
    }
    if (spec.software_id && *spec.software_id != hash) {
      return refused(RefusalReason::not_approved,
                     fmt::format("its SHA-256 is {}, the product approves {}", to_hex(hash),
                                 to_hex(*spec.software_id)));
    }
    if (declares_relevant) {
      const fs::path sig_path = signature_path(path);
      std::vector<const TrustedKey*> keys;
      for (const auto& k : config_.vendor_keys) {
        if (k.plugins.empty() ||
            std::find(k.plugins.begin(), k.plugins.end(), manifest.id) != k.plugins.end()) {
          keys.push_back(&k);
        }
      }
      if (!config_.oem_public_key && keys.empty()) {
        return refused(RefusalReason::unsigned_plugin,
                       "legally relevant, and the meter has no OEM key (nor a vendor key for it) to check it with");
      }
      auto sig_text = read_binary(sig_path);
      if (!sig_text) {
        return refused(RefusalReason::unsigned_plugin,
                       fmt::format("legally relevant but not signed: no {}", sig_path.filename().string()));
      }
      auto signature = from_hex<64>(std::string(sig_text->begin(), sig_text->end()));
      if (!signature) {
        return refused(RefusalReason::bad_signature,
                       fmt::format("{} is not a signature: {}", sig_path.filename().string(),
                                   signature.error().message));
      }
      const bool by_oem =
          config_.oem_public_key && verify_plugin(hash, *signature, *config_.oem_public_key);
      const bool by_vendor = std::any_of(keys.begin(), keys.end(), [&](const TrustedKey* k) {
        return verify_plugin(hash, *signature, k->key);
      });
      if (!by_oem && !by_vendor) {
        return refused(RefusalReason::bad_signature,
                       fmt::format("the signature matches no key trusted for {} (the OEM's{}): "
                                   "the binary was altered after signing or signed with another "
                                   "key",
                                   manifest.id, keys.empty() ? "" : " or a vendor's"));
      }
    }
    for (const auto& capability : manifest.capabilities) {
      if (capability == std::string("nvm:") + std::string(kKernelNamespace)) {
        return refused(RefusalReason::capability_not_granted,
                       "asks for nvm:kernel, the kernel's registers, which are never granted");
      }
      if (spec.granted.count(capability) == 0) {
        return refused(RefusalReason::capability_not_granted,
                       fmt::format("needs capability {}, which the SKU does not grant", capability));
      }
    }
    if (!spec.version.empty() && spec.version != manifest.version) {
      return refused(RefusalReason::version_mismatch,
                     fmt::format("the SKU wants version {}, the plugin is {}", spec.version,
                                 manifest.version));
    }
    auto config = sdk::validate_config(manifest, spec.config, spec.config_source);
    if (!config.ok()) return refused(RefusalReason::config_invalid, config.errors.front());
    if (auto broken = sdk::check_constraints(manifest, config_.meter_settings); !broken.empty()) {
      return refused(RefusalReason::constraint_broken, broken.front());
    }

    // Load it.
    auto plugin = std::make_unique<Plugin>();
    try {
      plugin->library.load(path.string(),
                           boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
      return refused(RefusalReason::load_failed, e.what());
    }
    if (!plugin->library.has(METER_PLUGIN_ENTRY_SYMBOL)) {
      return refused(RefusalReason::missing_entry,
                     "the library exports no " METER_PLUGIN_ENTRY_SYMBOL);
    }
    const auto entry = plugin->library.get<const meter_plugin_descriptor*()>(METER_PLUGIN_ENTRY_SYMBOL);
    const meter_plugin_descriptor* d = entry();
    if (d != nullptr && d->struct_size >= offsetof(meter_plugin_descriptor, struct_size) + 4) {
      if (d->abi_major != METER_ABI_MAJOR) {
        return refused(RefusalReason::abi_major,
                       fmt::format("built for ABI {}.{}, the host speaks {}.{} (major must match)",
                                   d->abi_major, d->abi_minor, METER_ABI_MAJOR, METER_ABI_MINOR));
      }
      if (d->abi_minor > METER_ABI_MINOR) {
        return refused(RefusalReason::abi_minor,
                       fmt::format("built for ABI {}.{}, newer than the host's {}.{}", d->abi_major,
                                   d->abi_minor, METER_ABI_MAJOR, METER_ABI_MINOR));
      }
    }
    if (auto problem = descriptor_problem(d); !problem.empty()) {
      return refused(RefusalReason::bad_descriptor, problem);
    }
    if (beside != d->manifest_toml) {
      return refused(RefusalReason::manifest_mismatch,
                     "the descriptor's embedded manifest differs from the one beside the library");
    }
    if (manifest.id != d->id || manifest.version != d->version ||
        manifest.abi_major != d->abi_major || manifest.abi_minor != d->abi_minor) {
      return refused(RefusalReason::manifest_mismatch,
                     fmt::format("descriptor says {} {} ABI {}.{}, manifest says {} {} ABI {}.{}",
                                 d->id, d->version, d->abi_major, d->abi_minor, manifest.id,
                                 manifest.version, manifest.abi_major, manifest.abi_minor));
    }

    plugin->host = this;
    plugin->descriptor = d;
    plugin->manifest = std::move(manifest);
    plugin->granted = spec.granted;
    plugin->config = std::move(config.values);
    plugin->sha256 = hash;
    HostApi::fill(*plugin);
    Plugin& p = *plugin;
    plugins_.push_back(std::move(plugin));

    meter_status status = METER_STATUS_ERROR;
    {
      HostApi::Call call(p);
      status = d->create(&p.api, &p.instance);
    }
    if (status != METER_STATUS_OK || p.instance == nullptr) {
      p.instance = nullptr;
      drop_connections_and_objects(p);
      const std::string id = p.manifest.id;
      if (!p.config_problems.empty()) {
        auto problems = std::move(p.config_problems);
        plugins_.pop_back();
        std::string detail = config_detail(problems);
        refuse(id, RefusalReason::config_invalid, std::move(detail), std::move(problems));
        return fail(refusals_.back().detail);
      }
      plugins_.pop_back();
      return refused(RefusalReason::create_failed,
                     fmt::format("create returned {}", sdk::to_string(static_cast<sdk::Status>(status))));
    }
    deps_.bus.publish(PluginLoaded{deps_.clock.now(), p.manifest.id, p.manifest.version,
                                   to_hex(p.sha256),
                                   p.manifest.legal_class == sdk::LegalClass::legally_relevant});
    return {};
  } catch (const std::exception& e) {
    return refused(RefusalReason::load_failed, e.what());
  }
}

std::size_t PluginHost::load_all(const std::vector<PluginSpec>& specs) {
  std::size_t loaded = 0;
  for (const auto& spec : specs) loaded += load(spec) ? 1 : 0;
  return loaded;
}

std::size_t PluginHost::start_all() {
  std::size_t started = 0;
  int rank = 0;
  for (const auto& p : plugins_) {
    if (p->state == PluginState::started) rank = std::max(rank, p->start_rank + 1);
  }
  auto provided = [&](const std::string& what) {
    for (const auto& p : plugins_) {
      if (p->state != PluginState::started) continue;
      if (p->manifest.id == what) return true;
      for (const auto& s : p->manifest.provides) {
        if (s == what) return true;
      }
    }
    return false;
  };
  bool progress = true;
  while (progress) {
    progress = false;
    for (std::size_t i = 0; i < plugins_.size(); ++i) {
      Plugin& p = *plugins_[i];
      if (p.state != PluginState::created || p.instance == nullptr) continue;
      const bool ready = std::all_of(p.manifest.requires_.begin(), p.manifest.requires_.end(), provided);
      if (!ready) continue;
      progress = true;
      p.state = PluginState::started;  // host functions of the started state work inside start
      meter_status status = METER_STATUS_ERROR;
      {
        HostApi::Call call(p);
        status = p.descriptor->start(p.instance);
      }
      if (status != METER_STATUS_OK) {
        p.state = PluginState::created;
        const std::string id = p.manifest.id;
        if (!p.config_problems.empty()) {
          auto problems = std::move(p.config_problems);
          std::string detail = config_detail(problems);
        refuse(id, RefusalReason::config_invalid, std::move(detail), std::move(problems));
        } else {
          refuse(id, RefusalReason::start_failed,
                 fmt::format("start returned {}", sdk::to_string(static_cast<sdk::Status>(status))));
        }
        retire(p);
        break;  // plugins_ changed; look again from the top
      }
      if (p.state == PluginState::started) {
        p.start_rank = rank++;
        ++started;
      }
    }
  }
  std::vector<Plugin*> waiting;
  for (const auto& p : plugins_) {
    if (p->state == PluginState::created && p->instance != nullptr) waiting.push_back(p.get());
  }
  for (Plugin* p : waiting) {
    std::string missing;
    for (const auto& r : p->manifest.requires_) {
      if (!provided(r)) missing += (missing.empty() ? "" : ", ") + r;
    }
    refuse(p->manifest.id, RefusalReason::dependency_missing,
           fmt::format("requires {}, which no started plugin provides", missing));
    retire(*p);
  }
  return started;
}

void PluginHost::stop_all() {
  std::vector<Plugin*> order;
  for (const auto& p : plugins_) {
    if (p->state == PluginState::started) order.push_back(p.get());
  }
  std::sort(order.begin(), order.end(),
            [](const Plugin* a, const Plugin* b) { return a->start_rank > b->start_rank; });
  for (Plugin* p : order) {
    {
      HostApi::Call call(*p);
      p->descriptor->stop(p->instance);
    }
    drop_connections_and_objects(*p);
    p->descriptor->destroy(p->instance);
    p->instance = nullptr;
    p->state = PluginState::stopped;
  }
}

Result<void> PluginHost::unload(const std::string& id) {
  Plugin* p = find(id);
  if (p == nullptr) return fail(fmt::format("no plugin {} is loaded", id));
  retire(*p);
  return {};
}

std::optional<PluginStatus> PluginHost::status(const std::string& id) const {
  const Plugin* p = find(id);
  if (p == nullptr) return std::nullopt;
  return PluginStatus{p->manifest.id, p->manifest.version, p->state, p->faults,
                      p->subscriptions.size(), p->objects.size(),
                      p->manifest.legal_class == sdk::LegalClass::legally_relevant, p->sha256};
}

std::vector<PluginStatus> PluginHost::plugins() const {
  std::vector<PluginStatus> out;
  for (const auto& p : plugins_) out.push_back(*status(p->manifest.id));
  return out;
}

std::vector<std::string> PluginHost::start_order() const {
  std::vector<const Plugin*> started;
  for (const auto& p : plugins_) {
    if (p->start_rank >= 0) started.push_back(p.get());
  }
  std::sort(started.begin(), started.end(),
            [](const Plugin* a, const Plugin* b) { return a->start_rank < b->start_rank; });
  std::vector<std::string> out;
  for (const Plugin* p : started) out.push_back(p->manifest.id);
  return out;
}

SoftwareIdentity PluginHost::software_identity() const {
  std::vector<IdentifiedComponent> relevant;
  for (const auto& p : plugins_) {
    if (p->manifest.legal_class == sdk::LegalClass::legally_relevant &&
        p->state != PluginState::disabled) {
      relevant.push_back({p->manifest.id, p->manifest.version, p->sha256});
    }
  }
  return identify({"kernel", config_.kernel_version, kernel_sha256_}, std::move(relevant));
}

Result<void> PluginHost::register_identity_objects() {
  ObjectInfo firmware;
  firmware.id = obis("1-0:0.2.0");
  firmware.type = ValueType::text;
  firmware.read_roles = kAnyRole;
  firmware.legally_relevant = true;
  firmware.owner = "kernel";
  firmware.description = "Firmware identifier: kernel version and software identification";
  if (auto added = deps_.registry.add(firmware, [this] {
        return Value{fmt::format("{} {}", config_.kernel_version, software_identity().display_text())};
      });
      !added) {
    return added;
  }
  ObjectInfo signature = firmware;
  signature.id = obis("1-0:0.2.8");
  signature.description = "Firmware signature: SHA-256 over the kernel and legally relevant plugins";
  if (auto added = deps_.registry.add(signature,
                                      [this] { return Value{software_identity().combined_hex()}; });
      !added) {
    return added;
  }
  // What a meter shop sees at identify: the plugins the meter runs without, and why.
  ObjectInfo refused = firmware;
  refused.id = obis("0-0:128.9.0");
  refused.legally_relevant = false;
  refused.description = "Plugins refused or disabled since power-up: \"id (reason): detail\" a line";
  return deps_.registry.add(refused, [this] {
    std::string text;
    for (const auto& r : refusals_) {
      text += fmt::format("{}{} ({}): {}", text.empty() ? "" : "\n", r.plugin, to_string(r.reason),
                          r.detail);
    }
    return Value{text};
  });
}

}  // namespace meter::kernel
