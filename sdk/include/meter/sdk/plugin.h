// The header-only C++20 side of the plugin boundary: a plugin is a plain class and one
// METER_PLUGIN(Class) line. Everything here compiles into the plugin; nothing C++ crosses the
// C ABI in abi.h, and every exception is caught at the edge and turned into a status.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "meter/sdk/abi.h"
#include "meter/sdk/obis.h"

namespace meter::sdk {

/// The outcome of a call across the boundary; mirrors METER_STATUS_*. Zero is never valid.
enum class Status : std::int32_t {
  ok = METER_STATUS_OK,
  error = METER_STATUS_ERROR,
  invalid_argument = METER_STATUS_INVALID_ARGUMENT,
  not_found = METER_STATUS_NOT_FOUND,
  denied = METER_STATUS_DENIED,
  type_mismatch = METER_STATUS_TYPE_MISMATCH,
  unavailable = METER_STATUS_UNAVAILABLE,
  exception = METER_STATUS_EXCEPTION,
  out_of_memory = METER_STATUS_OUT_OF_MEMORY,
  conflict = METER_STATUS_CONFLICT,
  sealed = METER_STATUS_SEALED,
  locked = METER_STATUS_LOCKED,
};

/// A short lower-case name for a status ("denied"), for logs and test messages.
constexpr std::string_view to_string(Status s) noexcept {
  switch (s) {
    case Status::ok: return "ok";
    case Status::error: return "error";
    case Status::invalid_argument: return "invalid argument";
    case Status::not_found: return "not found";
    case Status::denied: return "denied";
    case Status::type_mismatch: return "type mismatch";
    case Status::unavailable: return "unavailable";
    case Status::exception: return "exception";
    case Status::out_of_memory: return "out of memory";
    case Status::conflict: return "conflict";
    case Status::sealed: return "sealed";
    case Status::locked: return "locked";
  }
  return "unknown status";
}

/// Thrown by the SDK (and by plugins, if they like) to leave a callback with a given status.
/// The wrapper catches it at the boundary and returns its status to the host.
class Error : public std::runtime_error {
 public:
  Error(Status status, const std::string& what) : std::runtime_error(what), status_(status) {}
  Status status() const noexcept { return status_; }

 private:
  Status status_;
};

/// A setting that breaks a rule of the plugin's, thrown from the constructor or start(): the
/// wrapper reports it to the host (config_error), which refuses the configuration at the place
/// the setting was written. `key` is the setting's path ("seasons[2].start"; items count from 1).
class ConfigError : public Error {
 public:
  ConfigError(std::string key, const std::string& rule)
      : Error(Status::invalid_argument, rule), key_(std::move(key)) {}
  const std::string& key() const noexcept { return key_; }

  /// From a message that starts with the setting it is about ("quantities: 1 to 4 demand
  /// quantities"): that setting and the rest. A message that starts otherwise is about
  /// `fallback` (empty: the plugin's settings as a whole).
  static ConfigError of(const std::string& message, std::string fallback = {}) {
    const auto colon = message.find(": ");
    if (colon != std::string::npos && colon > 0 && message.find(' ') > colon) {
      return ConfigError(message.substr(0, colon), message.substr(colon + 2));
    }
    return ConfigError(std::move(fallback), message);
  }

 private:
  std::string key_;
};


/// A value as C++ sees it; the variant's order follows METER_VALUE_* minus one.
using Value = std::variant<bool, std::int64_t, std::uint64_t, double, std::string,
                           std::vector<std::uint8_t>>;

/// Copies a C value into a C++ one (the C value's bytes may be freed afterwards).
inline Value from_c(const meter_value& v) {
  switch (v.type) {
    case METER_VALUE_BOOLEAN: return Value{v.boolean != 0};
    case METER_VALUE_INTEGER: return Value{v.integer};
    case METER_VALUE_UNSIGNED: return Value{v.unsigned_integer};
    case METER_VALUE_REAL: return Value{v.real};
    case METER_VALUE_TEXT:
      return Value{v.size == 0 ? std::string{}
                               : std::string(reinterpret_cast<const char*>(v.bytes), v.size)};
    case METER_VALUE_OCTETS:
      return Value{v.size == 0 ? std::vector<std::uint8_t>{}
                               : std::vector<std::uint8_t>(v.bytes, v.bytes + v.size)};
    default: throw Error(Status::type_mismatch, "value of unknown type");
  }
}

/// Lends a C++ value as a C value; the result points into `v` and lives as long as `v` does.
inline meter_value to_c(const Value& v) noexcept {
  meter_value out{};
  out.type = static_cast<meter_value_type>(v.index() + 1);
  switch (v.index()) {
    case 0: out.boolean = std::get<bool>(v) ? 1 : 0; break;
    case 1: out.integer = std::get<std::int64_t>(v); break;
    case 2: out.unsigned_integer = std::get<std::uint64_t>(v); break;
    case 3: out.real = std::get<double>(v); break;
    case 4: {
      const auto& s = std::get<std::string>(v);
      out.bytes = reinterpret_cast<const std::uint8_t*>(s.data());
      out.size = s.size();
      break;
    }
    default: {
      const auto& b = std::get<std::vector<std::uint8_t>>(v);
      out.bytes = b.data();
      out.size = b.size();
      break;
    }
  }
  return out;
}

/// Maps an event struct to its METER_EVENT_* number: EventTraits<meter_energy_tick>::kType.
template <class Event>
struct EventTraits;
template <> struct EventTraits<meter_energy_tick> { static constexpr meter_event_type kType = METER_EVENT_ENERGY_TICK; };
template <> struct EventTraits<meter_measurements> { static constexpr meter_event_type kType = METER_EVENT_MEASUREMENTS; };
template <> struct EventTraits<meter_time_event> { static constexpr meter_event_type kType = METER_EVENT_POWER_FAIL; };
template <> struct EventTraits<meter_power_restore> { static constexpr meter_event_type kType = METER_EVENT_POWER_RESTORE; };
template <> struct EventTraits<meter_time_changed> { static constexpr meter_event_type kType = METER_EVENT_TIME_CHANGED; };
template <> struct EventTraits<meter_midnight> { static constexpr meter_event_type kType = METER_EVENT_MIDNIGHT; };
template <> struct EventTraits<meter_parameter_changed> { static constexpr meter_event_type kType = METER_EVENT_PARAMETER_CHANGED; };
template <> struct EventTraits<meter_seal_changed> { static constexpr meter_event_type kType = METER_EVENT_SEAL_CHANGED; };
template <> struct EventTraits<meter_plugin_event> { static constexpr meter_event_type kType = METER_EVENT_PLUGIN; };
template <> struct EventTraits<meter_logon_failed> { static constexpr meter_event_type kType = METER_EVENT_LOGON_FAILED; };
template <> struct EventTraits<meter_port_locked> { static constexpr meter_event_type kType = METER_EVENT_PORT_LOCKED; };
template <> struct EventTraits<meter_write_refused> { static constexpr meter_event_type kType = METER_EVENT_WRITE_REFUSED; };
template <> struct EventTraits<meter_plugin_loaded> { static constexpr meter_event_type kType = METER_EVENT_PLUGIN_LOADED; };
template <> struct EventTraits<meter_plugin_refused> { static constexpr meter_event_type kType = METER_EVENT_PLUGIN_REFUSED; };

/// Describes an object a plugin provides (the C++ face of meter_object_info).
struct ObjectSpec {
  Obis id{};
  meter_value_type type = METER_VALUE_INTEGER;
  std::uint8_t unit = METER_UNIT_NONE;  ///< a METER_UNIT_* (DLMS/COSEM unit number)
  std::int8_t scaler = 0;
  std::uint8_t read_roles = METER_ROLE_ANY;
  std::uint8_t write_roles = 0;
  meter_parameter_class parameter_class = METER_PARAMETER_READ_ONLY;
  bool legally_relevant = false;
  std::string description;
};

namespace detail {

/// Runs `body`, turning every exception into a status. The one place exceptions stop.
template <class Body>
meter_status guarded(Body&& body) noexcept {
  try {
    if constexpr (std::is_void_v<std::invoke_result_t<Body>>) {
      std::forward<Body>(body)();
      return METER_STATUS_OK;
    } else {
      return static_cast<meter_status>(std::forward<Body>(body)());
    }
  } catch (const Error& e) {
    return static_cast<meter_status>(e.status());
  } catch (const std::bad_alloc&) {
    return METER_STATUS_OUT_OF_MEMORY;
  } catch (...) {
    return METER_STATUS_EXCEPTION;
  }
}

inline void throw_if_failed(meter_status status, std::string_view what) {
  if (status != METER_STATUS_OK) {
    throw Error(static_cast<Status>(status),
                std::string(what) + ": " + std::string(to_string(static_cast<Status>(status))));
  }
}

inline void copy_value(void* user_data, const meter_value* value) {
  auto* out = static_cast<std::optional<Value>*>(user_data);
  try {
    *out = from_c(*value);
  } catch (...) {
    out->reset();
  }
}

}  // namespace detail

class Host;

/// A plugin's view of its own NVM namespace (or, with the `nvm:<id>` capability, another's).
/// Records are typed values under string keys. Kernel thread only.
class Nvm {
 public:
  /// The record under `key`, or nullopt when there is none.
  std::optional<Value> get(std::string_view key) const {
    std::optional<Value> out;
    const std::string k(key);
    const auto status = api_->nvm_get(api_->context, ns(), k.c_str(), &detail::copy_value, &out);
    if (status == METER_STATUS_NOT_FOUND) return std::nullopt;
    if (status != METER_STATUS_OK) detail::throw_if_failed(status, "nvm get " + k);
    return out;
  }
  /// Stores `value` under `key`, replacing any record.
  void put(std::string_view key, const Value& value) {
    const std::string k(key);
    const meter_value v = to_c(value);
    // The text is made only for a failure: a record put every tick costs no allocation.
    const auto status = api_->nvm_put(api_->context, ns(), k.c_str(), &v);
    if (status != METER_STATUS_OK) detail::throw_if_failed(status, "nvm put " + k);
  }
  /// Removes `key`; returns false when there was no such record.
  bool erase(std::string_view key) {
    const std::string k(key);
    const auto status = api_->nvm_erase(api_->context, ns(), k.c_str());
    if (status == METER_STATUS_NOT_FOUND) return false;
    if (status != METER_STATUS_OK) detail::throw_if_failed(status, "nvm erase " + k);
    return true;
  }
  /// Runs `body` in a transaction: every write in it persists together, or (if it throws) none.
  template <class Body>
  void transaction(Body&& body) {
    detail::throw_if_failed(api_->nvm_begin(api_->context), "nvm begin");
    try {
      std::forward<Body>(body)();
    } catch (...) {
      api_->nvm_rollback(api_->context);
      throw;
    }
    detail::throw_if_failed(api_->nvm_commit(api_->context), "nvm commit");
  }

 private:
  friend class Host;
  Nvm(const meter_host_api* api, std::string name_space)
      : api_(api), name_space_(std::move(name_space)) {}
  const char* ns() const noexcept { return name_space_.empty() ? nullptr : name_space_.c_str(); }

  const meter_host_api* api_;
  std::string name_space_;
};

/// The host as a plugin sees it. Made by the wrapper and handed to the plugin's constructor;
/// it lives until the plugin is destroyed. Kernel thread only. Failing calls throw Error, which
/// the wrapper turns into the callback's status unless the plugin catches it.
class Host {
 public:
  explicit Host(const meter_host_api* api) : api_(api) {}
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  const meter_host_api* api() const noexcept { return api_; }

  void log(meter_log_level level, std::string_view message) const {
    const std::string m(message);
    api_->log(api_->context, level, m.c_str());
  }
  void debug(std::string_view m) const { log(METER_LOG_DEBUG, m); }
  void info(std::string_view m) const { log(METER_LOG_INFO, m); }
  void warning(std::string_view m) const { log(METER_LOG_WARNING, m); }
  void error(std::string_view m) const { log(METER_LOG_ERROR, m); }

  /// Meter time, UTC; meaningful only while time_valid().
  std::chrono::sys_time<std::chrono::milliseconds> now() const {
    return std::chrono::sys_time<std::chrono::milliseconds>(
        std::chrono::milliseconds(api_->now_utc_ms(api_->context, nullptr)));
  }
  bool time_valid() const {
    std::int32_t valid = 0;
    api_->now_utc_ms(api_->context, &valid);
    return valid != 0;
  }
  /// Time since power-up; monotonic.
  std::chrono::milliseconds uptime() const {
    return std::chrono::milliseconds(api_->uptime_ms(api_->context));
  }

  /// Calls `handler(const Event&)` for each event of that type. The handler may return void or
  /// Status; a throw or a status other than ok counts as a fault of the plugin.
  template <class Event, class Handler>
  std::uint64_t on(Handler&& handler) {
    return subscribe<Event>(EventTraits<Event>::kType, nullptr, std::forward<Handler>(handler));
  }

  /// Calls `handler(const meter_plugin_event&)` for each plugin event on `topic`.
  template <class Handler>
  std::uint64_t on_topic(std::string_view topic, Handler&& handler) {
    return subscribe<meter_plugin_event>(METER_EVENT_PLUGIN, std::string(topic).c_str(),
                                         std::forward<Handler>(handler));
  }

  void unsubscribe(std::uint64_t subscription) {
    detail::throw_if_failed(api_->unsubscribe(api_->context, subscription), "unsubscribe");
  }

  /// Publishes `payload` on `topic` to every plugin subscribed to it.
  void publish(std::string_view topic, const void* payload, std::size_t size) {
    const std::string t(topic);
    const auto status = api_->publish(api_->context, t.c_str(), payload, size);
    if (status != METER_STATUS_OK) detail::throw_if_failed(status, "publish " + t);
  }
  void publish(std::string_view topic, std::string_view text = {}) {
    publish(topic, text.data(), text.size());
  }

  /// Registers an object whose value `reader()` returns (a Value or anything convertible).
  /// `writer(const Value&)`, if given, accepts writes the gate allowed.
  template <class Reader>
  void provide(const ObjectSpec& spec, Reader&& reader,
               std::function<void(const Value&)> writer = {}) {
    auto object = std::make_unique<Object>();
    object->api = api_;
    object->reader = [r = std::forward<Reader>(reader)]() mutable { return Value(r()); };
    object->writer = std::move(writer);
    meter_object_info info{};
    info.struct_size = sizeof(meter_object_info);
    info.id = spec.id;
    info.type = spec.type;
    info.unit = spec.unit;
    info.scaler = spec.scaler;
    info.read_roles = spec.read_roles;
    info.write_roles = spec.write_roles;
    info.parameter_class = spec.parameter_class;
    info.legally_relevant = spec.legally_relevant ? 1 : 0;
    info.description = spec.description.c_str();
    Object* raw = object.get();
    objects_.push_back(std::move(object));
    const auto status = api_->register_object(api_->context, &info, &Host::read_trampoline,
                                              raw->writer ? &Host::write_trampoline : nullptr, raw);
    if (status != METER_STATUS_OK) objects_.pop_back();
    detail::throw_if_failed(status, "register object " + to_string(spec.id));
  }

  /// Reads any object in the meter; nullopt when it does not exist or may not be read.
  std::optional<Value> read(const Obis& id) const {
    std::optional<Value> out;
    if (api_->read_object(api_->context, id, &detail::copy_value, &out) != METER_STATUS_OK) {
      return std::nullopt;
    }
    return out;
  }

  /// Writes an object through the parameter gate; returns the gate's status.
  Status write(const Obis& id, const Value& value) {
    const meter_value v = to_c(value);
    return static_cast<Status>(api_->write_object(api_->context, id, &v));
  }

  /// A configuration value of type T (bool, std::int64_t, std::uint64_t, double, std::string,
  /// std::vector<std::uint8_t>; int and unsigned convert). Throws Error when missing.
  template <class T>
  T config(std::string_view key) const {
    std::optional<Value> out;
    const std::string k(key);
    detail::throw_if_failed(api_->config_get(api_->context, k.c_str(), &detail::copy_value, &out),
                            "config " + k);
    if (!out) throw Error(Status::type_mismatch, "config " + k + ": unreadable value");
    return convert<T>(*out, k);
  }

  /// A configuration value, or `fallback` when the key is not set.
  template <class T>
  T config_or(std::string_view key, T fallback) const {
    std::optional<Value> out;
    const std::string k(key);
    const auto status = api_->config_get(api_->context, k.c_str(), &detail::copy_value, &out);
    if (status == METER_STATUS_NOT_FOUND || !out) return fallback;
    detail::throw_if_failed(status, "config " + k);
    return convert<T>(*out, k);
  }

  /// The plugin's own NVM namespace.
  Nvm nvm() const { return Nvm(api_, {}); }
  /// Another plugin's namespace; needs the `nvm:<id>` capability, granted.
  Nvm nvm_of(std::string_view plugin_id) const { return Nvm(api_, std::string(plugin_id)); }

  /// Opens (disconnects the load) or closes relay `relay`; needs the `relay` capability.
  Status trip_relay(std::uint32_t relay, bool open) {
    return static_cast<Status>(api_->trip_relay(api_->context, relay, open ? 1 : 0));
  }

  // ----- ABI 1.2: input and output (capability `io`) and ports (`port:optical`, `port:comms`)

  /// True when the host offers the ABI 1.2 functions (a 1.1 host does not).
  bool has_io() const noexcept {
    return METER_HAS_FIELD(meter_host_api, api_->struct_size, list_objects);
  }

  /// Reports that setting `key` breaks rule `message` (ABI 1.3; an older host gets it as an
  /// error line). Throwing ConfigError from the constructor or start() does this.
  void config_error(std::string_view key, std::string_view message) const {
    const std::string k(key);
    const std::string m(message);
    if (METER_HAS_FIELD(meter_host_api, api_->struct_size, config_error)) {
      api_->config_error(api_->context, k.c_str(), m.c_str());
    } else {
      error(k + ": " + m);
    }
  }
  /// True when meter time runs on a virtual clock (ABI 1.3; an older host: real time).
  bool simulated() const noexcept {
    return METER_HAS_FIELD(meter_host_api, api_->struct_size, simulated) &&
           api_->simulated(api_->context) != 0;
  }

  /// Calls `handler(int fd, int ready)` (returning void or Status) whenever `fd` is ready for
  /// `events` (METER_IO_READABLE, METER_IO_WRITABLE). Returns the watch's id.
  template <class Handler>
  std::uint64_t watch(int fd, int events, Handler&& handler) {
    require_io("watch");
    using Typed = TypedHandler<std::decay_t<Handler>>;
    auto owned = std::make_unique<Typed>(std::forward<Handler>(handler));
    std::uint64_t id = 0;
    detail::throw_if_failed(api_->watch_fd(api_->context, fd, events, &Host::io_trampoline<Typed>,
                                           owned.get(), &id),
                            "watch");
    handlers_.push_back(std::move(owned));
    return id;
  }
  /// Changes what watch `id` waits for.
  void rewatch(std::uint64_t id, int events) {
    require_io("rewatch");
    detail::throw_if_failed(api_->modify_watch(api_->context, id, events), "rewatch");
  }
  /// Stops watching; false when the watch was not there.
  bool unwatch(std::uint64_t id) {
    require_io("unwatch");
    return api_->unwatch_fd(api_->context, id) == METER_STATUS_OK;
  }

  /// Calls `handler()` once after `delay` of real time. Returns the timer's id. The handler
  /// object lives until the plugin is destroyed; keep timers few (one per protocol timeout).
  template <class Handler>
  std::uint64_t after(std::chrono::milliseconds delay, Handler&& handler) {
    require_io("timer");
    using Box = TimerBox<std::decay_t<Handler>>;
    auto owned = std::make_unique<Box>(this, std::forward<Handler>(handler));
    Box* raw = owned.get();
    detail::throw_if_failed(api_->set_timer(api_->context, delay.count(),
                                            &Host::timer_trampoline<Box>, raw, &raw->id),
                            "timer");
    timers_[raw->id] = std::move(owned);
    return raw->id;
  }
  /// Cancels a timer; false when it had fired or was cancelled already.
  bool cancel(std::uint64_t timer) {
    require_io("cancel timer");
    timers_.erase(timer);
    return api_->cancel_timer(api_->context, timer) == METER_STATUS_OK;
  }
  /// Real time, monotonic, for protocol timeouts.
  std::chrono::steady_clock::time_point steady_now() const {
    require_io("steady clock");
    return std::chrono::steady_clock::time_point(
        std::chrono::milliseconds(api_->steady_ms(api_->context)));
  }

  /// A logon to a port: its id (0: none) and role mask (2 reader, 4 configurator, 8 calibrator).
  struct Logon {
    std::uint64_t session = 0;
    std::int32_t role = 0;
  };
  /// Logs a port's client on with `password`. Status::denied: wrong password; locked: the port
  /// is locked; unavailable: the port is disabled.
  Status logon(meter_interface via, std::string_view password, Logon& out) {
    require_io("logon");
    return static_cast<Status>(api_->port_logon(
        api_->context, via, reinterpret_cast<const std::uint8_t*>(password.data()),
        password.size(), &out.session, &out.role));
  }
  void logoff(std::uint64_t session) {
    require_io("logoff");
    api_->port_logoff(api_->context, session);
  }
  /// Reads an object with the role of `session` (0: public). The status says why not.
  Status read_as(std::uint64_t session, const Obis& id, Value& out) const {
    require_io("session read");
    std::optional<Value> got;
    const auto status = static_cast<Status>(
        api_->session_read(api_->context, session, id, &detail::copy_value, &got));
    if (status == Status::ok && got) out = std::move(*got);
    return status;
  }
  /// Writes an object through the parameter gate with the role of `session`, as the port.
  Status write_as(std::uint64_t session, const Obis& id, const Value& value) {
    require_io("session write");
    const meter_value v = to_c(value);
    return static_cast<Status>(api_->session_write(api_->context, session, id, &v));
  }
  /// Why the last write this plugin made was refused, as the meter says it (ABI 1.3; empty on
  /// an older host or after a write that was done).
  std::string last_refusal() const {
    std::string text;
    if (METER_HAS_FIELD(meter_host_api, api_->struct_size, last_refusal)) {
      api_->last_refusal(
          api_->context,
          [](void* out, const meter_value* v) {
            if (v != nullptr && v->type == METER_VALUE_TEXT && v->bytes != nullptr) {
              static_cast<std::string*>(out)->assign(reinterpret_cast<const char*>(v->bytes),
                                                     v->size);
            }
          },
          &text);
    }
    return text;
  }
  /// Describes an object; nullopt when there is none. `description` is copied.
  struct ObjectDescription {
    meter_object_info info{};
    std::string description;
  };
  std::optional<ObjectDescription> describe(const Obis& id) const {
    require_io("object info");
    ObjectDescription d;
    d.info.struct_size = sizeof(meter_object_info);
    if (api_->object_info(api_->context, id, &d.info) != METER_STATUS_OK) return std::nullopt;
    if (d.info.description != nullptr) d.description = d.info.description;
    d.info.description = nullptr;
    return d;
  }
  /// Every object in the meter, in OBIS order.
  std::vector<Obis> objects() const {
    require_io("list objects");
    std::vector<Obis> out;
    detail::throw_if_failed(
        api_->list_objects(
            api_->context,
            [](void* u, meter_obis id) { static_cast<std::vector<Obis>*>(u)->push_back(id); },
            &out),
        "list objects");
    return out;
  }

 private:
  /// Owns a handler of any type; the host calls it through typed_trampoline, with no further
  /// indirection between the C call and the plugin's code.
  struct HandlerBase {
    virtual ~HandlerBase() = default;
  };
  template <class H>
  struct TypedHandler final : HandlerBase {
    explicit TypedHandler(H h) : handler(std::move(h)) {}
    H handler;
  };
  struct Object {
    const meter_host_api* api = nullptr;
    std::function<Value()> reader;
    std::function<void(const Value&)> writer;
    Value last;  // keeps text/octets alive until the next read, as the ABI asks
  };

  template <class H, class E>
  static meter_status call(H& h, const E& e) {
    if constexpr (std::is_same_v<std::invoke_result_t<H&, const E&>, Status>) {
      return static_cast<meter_status>(h(e));
    } else {
      h(e);
      return METER_STATUS_OK;
    }
  }

  template <class T>
  static T convert(const Value& v, const std::string& key) {
    if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::string> ||
                  std::is_same_v<T, std::vector<std::uint8_t>>) {
      if (auto* p = std::get_if<T>(&v)) return *p;
    } else if constexpr (std::is_floating_point_v<T>) {
      if (auto* p = std::get_if<double>(&v)) return static_cast<T>(*p);
      if (auto* p = std::get_if<std::int64_t>(&v)) return static_cast<T>(*p);
    } else if constexpr (std::is_integral_v<T>) {
      if (auto* p = std::get_if<std::int64_t>(&v)) return static_cast<T>(*p);
      if (auto* p = std::get_if<std::uint64_t>(&v)) return static_cast<T>(*p);
    }
    throw Error(Status::type_mismatch, "config " + key + ": value has another type");
  }

  template <class Event, class H>
  std::uint64_t subscribe(meter_event_type type, const char* topic, H&& handler) {
    using Typed = TypedHandler<std::decay_t<H>>;
    auto owned = std::make_unique<Typed>(std::forward<H>(handler));
    std::uint64_t id = 0;
    const auto status = api_->subscribe(api_->context, type, topic,
                                        &Host::typed_trampoline<Event, Typed>, owned.get(), &id);
    detail::throw_if_failed(status, "subscribe");
    handlers_.push_back(std::move(owned));
    return id;
  }

  template <class Event, class Typed>
  static meter_status typed_trampoline(void* user_data, const meter_event* event) noexcept {
    return detail::guarded([&] {
      return call(static_cast<Typed*>(user_data)->handler, *static_cast<const Event*>(event->data));
    });
  }
  static meter_status read_trampoline(void* user_data, meter_value* out) {
    return detail::guarded([&] {
      auto* object = static_cast<Object*>(user_data);
      object->last = object->reader();
      *out = to_c(object->last);
    });
  }
  static meter_status write_trampoline(void* user_data, const meter_value* value) {
    auto* object = static_cast<Object*>(user_data);
    return detail::guarded([&] {
      try {
        object->writer(from_c(*value));
      } catch (const Error& e) {
        // The reason goes with the status to whoever wrote (ABI 1.3).
        const auto* api = object->api;
        if (METER_HAS_FIELD(meter_host_api, api->struct_size, write_refused)) {
          api->write_refused(api->context, e.what());
        }
        throw;
      }
    });
  }
  template <class Typed>
  static meter_status io_trampoline(void* user_data, std::int32_t fd, std::int32_t ready) noexcept {
    return detail::guarded([&]() -> meter_status {
      auto& h = static_cast<Typed*>(user_data)->handler;
      if constexpr (std::is_same_v<std::invoke_result_t<decltype(h)&, int, int>, Status>) {
        return static_cast<meter_status>(h(fd, ready));
      } else {
        h(fd, ready);
        return METER_STATUS_OK;
      }
    });
  }
  /// A timer's handler; it is dropped after it has run once.
  template <class H>
  struct TimerBox final : HandlerBase {
    TimerBox(Host* h, H f) : host(h), handler(std::move(f)) {}
    Host* host;
    std::uint64_t id = 0;
    H handler;
  };
  template <class Box>
  static meter_status timer_trampoline(void* user_data) noexcept {
    auto* box = static_cast<Box*>(user_data);
    const meter_status status = detail::guarded([&]() -> meter_status {
      if constexpr (std::is_same_v<std::invoke_result_t<decltype(box->handler)&>, Status>) {
        return static_cast<meter_status>(box->handler());
      } else {
        box->handler();
        return METER_STATUS_OK;
      }
    });
    Host* host = box->host;
    host->timers_.erase(box->id);  // the box is gone from here on
    return status;
  }
  void require_io(const char* what) const {
    if (!has_io()) {
      throw Error(Status::unavailable, std::string(what) + ": the host's ABI is older than 1.2");
    }
  }

  const meter_host_api* api_;
  std::list<std::unique_ptr<HandlerBase>> handlers_;
  std::list<std::unique_ptr<Object>> objects_;
  std::map<std::uint64_t, std::unique_ptr<HandlerBase>> timers_;
};

namespace detail {

/// One plugin instance: the Host the plugin talks to, and the plugin object.
template <class P>
struct Instance {
  explicit Instance(const meter_host_api* api) : host(api) {}
  Host host;
  std::optional<P> plugin;
};

template <class P, class Member>
meter_status call_optional(P& plugin, Member member) {
  if constexpr (std::is_same_v<std::invoke_result_t<Member, P&>, Status>) {
    return static_cast<meter_status>((plugin.*member)());
  } else {
    (plugin.*member)();
    return METER_STATUS_OK;
  }
}

template <class P>
struct Adapter {
  static meter_status create(const meter_host_api* api, meter_plugin_instance** out) noexcept {
    if (api == nullptr || out == nullptr) return METER_STATUS_INVALID_ARGUMENT;
    if (api->abi_major != METER_ABI_MAJOR || api->struct_size < sizeof(meter_host_api)) {
      return METER_STATUS_UNAVAILABLE;
    }
    Instance<P>* instance = nullptr;
    const meter_status status = guarded([&] {
      auto owned = std::make_unique<Instance<P>>(api);
      try {
        owned->plugin.emplace(owned->host);
      } catch (const ConfigError& e) {
        owned->host.config_error(e.key(), e.what());
        throw;
      }
      instance = owned.release();
    });
    if (status == METER_STATUS_OK) *out = reinterpret_cast<meter_plugin_instance*>(instance);
    return status;
  }
  static void destroy(meter_plugin_instance* instance) noexcept {
    auto* self = reinterpret_cast<Instance<P>*>(instance);
    try {
      delete self;
    } catch (...) {  // a destructor that throws would terminate; nothing may escape here
    }
  }
  static meter_status start(meter_plugin_instance* instance) noexcept {
    auto* self = reinterpret_cast<Instance<P>*>(instance);
    if constexpr (requires(P& p) { p.start(); }) {
      return guarded([&] {
        try {
          return call_optional(*self->plugin, &P::start);
        } catch (const ConfigError& e) {
          self->host.config_error(e.key(), e.what());
          throw;
        }
      });
    } else {
      (void)self;
      return METER_STATUS_OK;
    }
  }
  static meter_status stop(meter_plugin_instance* instance) noexcept {
    auto* self = reinterpret_cast<Instance<P>*>(instance);
    if constexpr (requires(P& p) { p.stop(); }) {
      return guarded([&] { return call_optional(*self->plugin, &P::stop); });
    } else {
      (void)self;
      return METER_STATUS_OK;
    }
  }
  static meter_status self_test(meter_plugin_instance* instance) noexcept {
    auto* self = reinterpret_cast<Instance<P>*>(instance);
    if constexpr (requires(P& p) { p.self_test(); }) {
      return guarded([&] { return call_optional(*self->plugin, &P::self_test); });
    } else {
      (void)self;
      return METER_STATUS_OK;
    }
  }
};

/// The ABI minor the plugin's manifest asks for (meter_add_plugin defines it from `abi`); the
/// host loads the plugin when its own minor is at least this. Without a manifest: this SDK's.
#if defined(METER_PLUGIN_ABI_MINOR)
inline constexpr std::uint16_t kPluginAbiMinor = METER_PLUGIN_ABI_MINOR;
#else
inline constexpr std::uint16_t kPluginAbiMinor = METER_ABI_MINOR;
#endif
static_assert(kPluginAbiMinor <= METER_ABI_MINOR,
              "the manifest's abi asks for a newer ABI minor than this SDK has");

/// The descriptor of plugin class P, in static storage.
template <class P>
const meter_plugin_descriptor* descriptor(const char* id, const char* version,
                                          const char* manifest) noexcept {
  static const meter_plugin_descriptor kDescriptor = {
      METER_ABI_MAJOR,        kPluginAbiMinor,      sizeof(meter_plugin_descriptor),
      id,                     version,              manifest,
      &Adapter<P>::create,    &Adapter<P>::destroy, &Adapter<P>::start,
      &Adapter<P>::stop,      &Adapter<P>::self_test};
  return &kDescriptor;
}

}  // namespace detail
}  // namespace meter::sdk

/// The embedded plugin.toml; meter_add_plugin() generates its definition.
extern "C" const char meter_plugin_manifest_toml[];

/// Declares plugin class `Class` (constructible from `meter::sdk::Host&`, with optional
/// `start()`, `stop()` and `self_test()` returning void or meter::sdk::Status) and exports the
/// entry symbol. Use once per plugin, in one source file. METER_PLUGIN_ID and
/// METER_PLUGIN_VERSION come from the manifest through meter_add_plugin().
#define METER_PLUGIN(Class)                                                                  \
  extern "C" METER_EXPORT const meter_plugin_descriptor* meter_plugin_entry(void) {          \
    return ::meter::sdk::detail::descriptor<Class>(METER_PLUGIN_ID, METER_PLUGIN_VERSION,    \
                                                   meter_plugin_manifest_toml);              \
  }
