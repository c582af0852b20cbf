// The parameter gate: seal rules, event counters, logons and lockout.
#include "meter/kernel/gate.h"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>

namespace meter::kernel {

namespace {

constexpr const char* kCalibrationKey = "counter.calibration";
constexpr const char* kConfigurationKey = "counter.configuration";
constexpr const char* kElectronicKey = "seal.electronic";
constexpr const char* kSwitchesKey = "seal.switches";  // bits of the board's switches
constexpr const char* kOpticalKey = "optical_port.enabled";
constexpr std::string_view kSettingsPrefix = "settings.";  // + plugin id: its settings' text
constexpr std::uint8_t kSwitchBits = 0x07;  // cover, programming jumper, optical plug

// The interfaces that log on, each with its failures and lockout in NVM.
constexpr std::array<Interface, 3> kLogonPorts{Interface::optical_port, Interface::comms,
                                               Interface::local_button};

std::string port_key(Interface via, const char* what) {
  return fmt::format("logon.{}.{}", to_string(via), what);
}
constexpr const char* kFailures = "failures";
constexpr const char* kLockRemaining = "lock_remaining_ms";

constexpr std::uint8_t bit(SealKind kind) noexcept {
  return static_cast<std::uint8_t>(1u << (static_cast<unsigned>(kind) - 1));
}

bool sodium_ready() noexcept { return sodium_init() >= 0; }

bool is_hash(const std::string& h) {
  return h.empty() || h.rfind("$argon2id$", 0) == 0 || h.rfind("$argon2i$", 0) == 0;
}

bool verify(const std::string& hash, std::string_view password) {
  if (hash.empty()) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

const char* class_name(ParameterClass c) {
  switch (c) {
    case ParameterClass::calibration: return "calibration";
    case ParameterClass::tariff: return "tariff";
    default: return "configuration";
  }
}

}  // namespace

Result<std::string> hash_password(std::string_view password, HashCost cost) {
  if (!sodium_ready()) return fail("libsodium cannot be initialised");
  if (password.empty()) return fail("a password must not be empty");
  const bool minimal = cost == HashCost::minimal;
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(),
                        minimal ? crypto_pwhash_OPSLIMIT_MIN : crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        minimal ? crypto_pwhash_MEMLIMIT_MIN
                                : crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return fail("out of memory while hashing the password");
  }
  return std::string(out);
}

std::string_view to_string(Interface via) noexcept {
  switch (via) {
    case Interface::kernel: return "kernel";
    case Interface::optical_port: return "optical-port";
    case Interface::comms: return "comms";
    case Interface::plugin: return "plugin";
    case Interface::local_button: return "local-button";
  }
  return "unknown";
}

std::string describe_seal(std::uint8_t seal_state) {
  if (seal_state == 0) return "unsealed";
  static constexpr std::array<std::pair<SealKind, const char*>, 4> kNames{
      {{SealKind::cover, "cover"},
       {SealKind::programming_jumper, "programming jumper"},
       {SealKind::optical_plug, "optical port sealing plug"},
       {SealKind::electronic, "electronic seal"}}};
  std::string out = "sealed:";
  const char* sep = " ";
  for (const auto& [kind, name] : kNames) {
    if ((seal_state & bit(kind)) != 0) {
      out += sep;
      out += name;
      sep = ", ";
    }
  }
  return out;
}

std::string_view to_string(Role role) noexcept {
  switch (role) {
    case Role::public_read: return "public";
    case Role::reader: return "reader";
    case Role::configurator: return "configurator";
    case Role::calibrator: return "calibrator";
  }
  return "unknown";
}

ParameterGate::ParameterGate(ObjectRegistry& registry, EventBus& bus, const Clock& clock)
    : registry_(&registry), bus_(&bus), clock_(&clock) {
  register_objects();
}

Result<void> ParameterGate::configure(const SecurityConfig& config) {
  if (config.sealing_category < 1 || config.sealing_category > 3) {
    return fail(fmt::format("sealing category {} is invalid: it must be 1, 2 or 3",
                            config.sealing_category));
  }
  for (const auto* h : {&config.reader_password_hash, &config.configurator_password_hash,
                        &config.calibrator_password_hash}) {
    if (!is_hash(*h)) return fail("a password hash must be an argon2 hash string ($argon2id$...)");
  }
  if (config.max_failed_logons == 0) return fail("max_failed_logons must be at least 1");
  if (config.lockout <= Milliseconds{0}) return fail("the lockout must be longer than zero");
  if (!sodium_ready()) return fail("libsodium cannot be initialised");
  config_ = config;
  optical_port_enabled_ = config.optical_port_enabled;
  return {};
}

std::vector<NvmWrite> ParameterGate::nvm_records() const {
  std::vector<NvmWrite> out{
      {kNamespace, kCalibrationKey, Value{std::uint64_t{counters_[0]}}},
      {kNamespace, kConfigurationKey, Value{std::uint64_t{counters_[1]}}},
      {kNamespace, kElectronicKey, Value{(seals_ & bit(SealKind::electronic)) != 0}},
      {kNamespace, kSwitchesKey, Value{std::uint64_t{std::uint8_t(seals_ & kSwitchBits)}}},
      {kNamespace, kOpticalKey, Value{optical_port_enabled_}}};
  const auto uptime = clock_->uptime();
  for (const auto via : kLogonPorts) {
    const auto& p = ports_[static_cast<std::size_t>(via)];
    const auto remaining = std::max(p.locked_until - uptime, Milliseconds{0});
    out.push_back({kNamespace, port_key(via, kFailures), Value{std::uint64_t{p.failures}}});
    out.push_back(
        {kNamespace, port_key(via, kLockRemaining), Value{std::int64_t{remaining.count()}}});
  }
  for (const auto& k : kept_) {
    auto it = registry_->objects_.find(k.id);
    if (it != registry_->objects_.end()) out.push_back({kNamespace, k.key, it->second.reader()});
  }
  return out;
}

Result<void> ParameterGate::keep(const Obis& id, std::string key) {
  const auto* e = registry_->find(id);
  if (e == nullptr) {
    return fail(ErrorKind::not_found, fmt::format("no object {} to keep", id.to_string()));
  }
  if (e->parameter_class == ParameterClass::read_only) {
    return fail(ErrorKind::invalid,
                fmt::format("object {} is read-only: there is nothing to keep", id.to_string()));
  }
  if (key.empty()) return fail(ErrorKind::invalid, "a kept parameter needs an NVM key");
  for (const auto& w : nvm_records()) {
    if (w.key == key) {
      return fail(ErrorKind::invalid, fmt::format("NVM record {}/{} is taken", kNamespace, key));
    }
  }
  if (is_kept(id)) {
    return fail(ErrorKind::invalid, fmt::format("object {} is kept already", id.to_string()));
  }
  kept_.push_back({id, std::move(key)});
  return {};
}

bool ParameterGate::is_kept(const Obis& id) const {
  return std::any_of(kept_.begin(), kept_.end(), [&id](const Kept& k) { return k.id == id; });
}

// Records added after the first meters shipped: a store without them is one from before them,
// not damage. One that holds them unreadable is.
void ParameterGate::restore_ports(NvmStore& store, std::vector<std::string>& problems) {
  const auto uptime = clock_->uptime();
  for (const auto via : kLogonPorts) {
    auto& p = port(via);
    const auto failures_key = port_key(via, kFailures);
    const auto lock_key = port_key(via, kLockRemaining);
    auto failures = store.get(kNamespace, failures_key);
    auto lock = store.get(kNamespace, lock_key);
    if (!failures || !lock) {
      problems.push_back(!failures ? failures.error().message : lock.error().message);
      continue;
    }
    if (*failures) {
      const auto* n = std::get_if<std::uint64_t>(&**failures);
      if (n == nullptr) {
        problems.push_back(
            fmt::format("NVM record {}/{} has the wrong type", kNamespace, failures_key));
      } else {
        p.failures =
            static_cast<std::uint32_t>(std::min<std::uint64_t>(*n, config_.max_failed_logons));
      }
    }
    if (*lock) {
      const auto* ms = std::get_if<std::int64_t>(&**lock);
      if (ms == nullptr || *ms < 0) {
        problems.push_back(fmt::format("NVM record {}/{} is not a duration", kNamespace, lock_key));
      } else if (*ms > 0) {
        // Never longer than the SKU's lockout, so a record gone wrong cannot lock a port for good.
        p.locked_until = uptime + std::min(Milliseconds{*ms}, config_.lockout);
      }
    }
  }
}

void ParameterGate::restore_kept(NvmStore& store, std::vector<std::string>& problems) {
  for (const auto& k : kept_) {
    auto* e = registry_->entry(k.id);
    if (e == nullptr) continue;
    auto v = store.get(kNamespace, k.key);
    if (!v) {
      problems.push_back(v.error().message);
    } else if (!*v) {
      continue;  // kept from its first change on; until then the meter's own value
    } else if (type_of(**v) != e->info.type) {
      problems.push_back(fmt::format("NVM record {}/{} has the wrong type", kNamespace, k.key));
    } else if (auto stored = e->writer(**v); !stored) {
      problems.push_back(fmt::format("NVM record {}/{} holds {}, which object {} refuses: {}",
                                     kNamespace, k.key, to_string(**v), k.id.to_string(),
                                     stored.error().message));
    }
  }
}

Result<void> ParameterGate::attach(NvmStore& store) {
  store_ = &store;
  if (store.health().state == NvmState::fresh) return {};
  std::vector<std::string> problems;
  auto read = [&](const char* key) -> std::optional<Value> {
    auto v = store.get(kNamespace, key);
    if (!v) {
      problems.push_back(v.error().message);
      return std::nullopt;
    }
    if (!*v) problems.push_back(fmt::format("NVM record {}/{} is missing", kNamespace, key));
    return *v;
  };
  auto counter = [&](const char* key, std::uint16_t& out) {
    if (auto v = read(key)) {
      const auto* n = std::get_if<std::uint64_t>(&*v);
      if (n == nullptr || *n >= kCounterModulus) {
        problems.push_back(fmt::format("NVM record {}/{} is not a counter 0..999", kNamespace, key));
      } else {
        out = static_cast<std::uint16_t>(*n);
      }
    }
  };
  auto flag = [&](const char* key, auto&& apply) {
    if (auto v = read(key)) {
      if (const auto* b = std::get_if<bool>(&*v)) {
        apply(*b);
      } else {
        problems.push_back(fmt::format("NVM record {}/{} has the wrong type", kNamespace, key));
      }
    }
  };
  counter(kCalibrationKey, counters_[0]);
  counter(kConfigurationKey, counters_[1]);
  flag(kElectronicKey, [this](bool on) {
    if (on) seals_ |= bit(SealKind::electronic);
  });
  flag(kOpticalKey, [this](bool on) { optical_port_enabled_ = on; });
  if (auto v = store.get(kNamespace, kSwitchesKey); !v) {
    problems.push_back(v.error().message);
  } else if (*v) {
    const auto* bits = std::get_if<std::uint64_t>(&**v);
    if (bits == nullptr || (*bits & ~std::uint64_t{kSwitchBits}) != 0) {
      problems.push_back(fmt::format("NVM record {}/{} is not a set of seal switches", kNamespace,
                                     kSwitchesKey));
    } else {
      seals_ |= static_cast<std::uint8_t>(*bits);
    }
  }
  restore_ports(store, problems);
  restore_kept(store, problems);
  if (problems.empty()) return {};
  std::string detail = problems.front();
  for (std::size_t i = 1; i < problems.size(); ++i) detail += "; " + problems[i];
  damage_ = detail;
  return fail(detail);
}

Result<void> ParameterGate::store_records() {
  if (store_ == nullptr) return {};
  if (!damage_.empty()) return fail(fmt::format("the event counters' store is damaged: {}", damage_));
  auto r = store_->apply(nvm_records());
  if (r) r = store_->flush();
  return r;
}

Result<Session> ParameterGate::logon(Interface via, std::string_view password) {
  if (via == Interface::kernel || via == Interface::plugin) {
    return fail(ErrorKind::invalid,
                fmt::format("the {} interface does not log on", to_string(via)));
  }
  auto& p = port(via);
  const auto uptime = clock_->uptime();
  auto refuse = [&](const char* reason, ErrorKind kind, std::string message) -> Result<Session> {
    bus_->publish(LogonFailed{clock_->now(), via, reason, p.failures});
    return fail(kind, std::move(message));
  };
  if (via == Interface::optical_port && !optical_port_enabled_) {
    return refuse("port-disabled", ErrorKind::unavailable, "the optical port is disabled");
  }
  if (uptime < p.locked_until) {
    return refuse("locked", ErrorKind::locked,
                  fmt::format("the {} is locked for another {} s", to_string(via),
                              std::chrono::ceil<std::chrono::seconds>(p.locked_until - uptime)
                                  .count()));
  }
  std::optional<Role> role;
  if (verify(config_.calibrator_password_hash, password)) {
    role = Role::calibrator;
  } else if (verify(config_.configurator_password_hash, password)) {
    role = Role::configurator;
  } else if (verify(config_.reader_password_hash, password)) {
    role = Role::reader;
  }
  if (!role) {
    ++p.failures;
    auto refused = refuse("wrong-password", ErrorKind::denied, "wrong password");
    if (p.failures >= config_.max_failed_logons) {
      p.failures = 0;
      p.locked_until = uptime + config_.lockout;
      bus_->publish(PortLocked{clock_->now(), via, config_.lockout});
    }
    // Kept at once, so that pulling the power neither forgets a failure nor lifts a lock. A
    // store that cannot keep it leaves the lockout to RAM, which still refuses until then.
    (void)store_records();
    return refused;
  }
  if (p.failures != 0) {
    p.failures = 0;
    (void)store_records();
  }
  const Session session{++next_session_, via, *role};
  sessions_.emplace(session.id, session);
  return session;
}

void ParameterGate::logoff(const Session& session) { sessions_.erase(session.id); }

bool ParameterGate::logged_on(const Session& session) const {
  auto it = sessions_.find(session.id);
  return it != sessions_.end() && it->second.via == session.via &&
         it->second.role == session.role;
}

Result<void> ParameterGate::write(const Obis& id, const Value& value, const Session& session) {
  const Requester requester{session.via, session.role, to_string(session.via)};
  if (!logged_on(session)) {
    return refused(id, requester,
                   fail(ErrorKind::denied, "not logged on: log on to the port first"));
  }
  if (id == kElectronicSeal) {
    const auto* sealed = std::get_if<bool>(&value);
    if (sealed == nullptr) {
      return refused(id, requester,
                     fail(ErrorKind::invalid, fmt::format("object {} takes true (seal) or false "
                                                          "(break)",
                                                          id.to_string())));
    }
    return refused(id, requester, set_electronic_seal(*sealed, session));
  }
  return write(id, value, requester);
}

Result<void> ParameterGate::refused(const Obis& id, const Requester& requester,
                                    Result<void> result) {
  if (!result) {
    bus_->publish(WriteRefused{clock_->now(), id, requester.via, mask(requester.role),
                               result.error().kind, std::string(requester.who),
                               result.error().message});
  }
  return result;
}

void ParameterGate::restrict_to_site(const Obis& id) {
  if (std::find(site_only_.begin(), site_only_.end(), id) == site_only_.end()) {
    site_only_.push_back(id);
  }
}

bool ParameterGate::sealable_now(const ObjectInfo& info) const {
  if (is_sealable(info.parameter_class)) return true;
  return info.parameter_class == ParameterClass::tariff &&
         std::find(config_.sealable.begin(), config_.sealable.end(), info.id) !=
             config_.sealable.end();
}

bool ParameterGate::event_logger_ready() const {
  const auto* info = registry_->find(kEventLoggerReady);
  if (info == nullptr || !info->legally_relevant || info->type != ValueType::boolean) return false;
  auto v = registry_->read(kEventLoggerReady, Role::public_read);
  return v && std::get<bool>(*v);
}

bool ParameterGate::remote_configuration_mode() const {
  if (config_.sealing_category == 2) return !sealed();
  return config_.sealing_category == 3 && event_logger_ready();
}

std::size_t ParameterGate::sealable_parameters() const {
  std::size_t n = 0;
  for (const auto* info : registry_->list()) n += is_counted(info->parameter_class) ? 1 : 0;
  return n;
}

std::uint16_t ParameterGate::counter(EventCounter which) const noexcept {
  return counters_[which == EventCounter::calibration ? 0 : 1];
}

Result<void> ParameterGate::check_seal(const ObjectInfo& info, const Value& value,
                                       Interface via) const {
  const auto name = info.id.to_string();
  if (via == Interface::optical_port && (seals_ & bit(SealKind::optical_plug)) != 0) {
    return fail(ErrorKind::sealed,
                fmt::format("object {}: the optical port's sealing plug is fitted, so nothing is "
                            "written through the optical port",
                            name));
  }
  const bool on_site = via == Interface::optical_port || via == Interface::local_button ||
                       via == Interface::kernel;
  if (!on_site && std::find(site_only_.begin(), site_only_.end(), info.id) != site_only_.end()) {
    return fail(ErrorKind::denied,
                fmt::format("object {} is written only on site (optical port or local button), "
                            "not through {}",
                            name, to_string(via)));
  }
  if (info.id == kOpticalPortEnabled && std::get<bool>(value) && !optical_port_enabled_ &&
      sealed()) {
    return fail(ErrorKind::sealed,
                "the optical port was disabled: re-enabling it needs the seal broken");
  }
  if (!is_counted(info.parameter_class)) return {};
  const bool calibration = info.parameter_class == ParameterClass::calibration;
  if (config_.sealing_category == 3 && !event_logger_ready()) {
    // Not the seal: the logger is missing, or full and refusing until it is read out.
    return fail(ErrorKind::unavailable,
                fmt::format("object {} is a {} parameter of a category 3 meter and no event "
                            "logger is recording",
                            name, class_name(info.parameter_class)));
  }
  if (!sealable_now(info)) return {};  // a tariff parameter this product counts, not seals
  if (via == Interface::comms) {
    if (config_.sealing_category == 1) {
      return fail(ErrorKind::sealed,
                  fmt::format("object {}: a category 1 meter has no remote configuration", name));
    }
    if (sealed() && (config_.sealing_category == 2 || calibration)) {
      return fail(ErrorKind::sealed, fmt::format("object {} is a sealed {} parameter", name,
                                                 class_name(info.parameter_class)));
    }
    return {};
  }
  if (sealed()) {
    return fail(ErrorKind::sealed, fmt::format("object {} is a sealed {} parameter", name,
                                               class_name(info.parameter_class)));
  }
  return {};
}

Result<void> ParameterGate::write(const Obis& id, const Value& value, const Requester& requester) {
  return refused(id, requester, try_write(id, value, requester));
}

Result<void> ParameterGate::try_write(const Obis& id, const Value& value,
                                      const Requester& requester) {
  auto* e = registry_->entry(id);
  const auto name = id.to_string();
  if (e == nullptr) return fail(ErrorKind::not_found, fmt::format("no object {}", name));
  const auto& info = e->info;
  if (info.parameter_class == ParameterClass::read_only) {
    return fail(ErrorKind::denied, fmt::format("object {} is read-only", name));
  }
  if (id == kElectronicSeal) {
    return fail(ErrorKind::denied,
                fmt::format("object {} is the electronic seal: only a logon at the optical port "
                            "or the local button seals or breaks it",
                            name));
  }
  if ((info.write_roles & mask(requester.role)) == 0) {
    return fail(ErrorKind::denied,
                fmt::format("object {} may not be written with this role", name));
  }
  if (type_of(value) != info.type) {
    return fail(ErrorKind::invalid, fmt::format("object {} takes another type of value", name));
  }
  if (auto allowed = check_seal(info, value, requester.via); !allowed) return allowed;

  auto old_value = e->reader();
  if (auto stored = e->writer(value); !stored) {
    // The object's writer refused the value: unless it says otherwise, the value was wrong.
    const auto kind = stored.error().kind == ErrorKind::failed ? ErrorKind::invalid
                                                               : stored.error().kind;
    return fail(kind, stored.error().message);
  }
  ParameterChanged changed;
  changed.time = clock_->now();
  changed.id = id;
  changed.old_value = to_string(old_value);
  changed.new_value = to_string(value);
  changed.via = requester.via;
  changed.who = std::string(requester.who);
  changed.role = mask(requester.role);
  changed.parameter_class = static_cast<std::uint8_t>(info.parameter_class);
  if (is_counted(info.parameter_class)) {
    const bool calibration = info.parameter_class == ParameterClass::calibration;
    auto& c = counters_[calibration ? 0 : 1];
    const auto before = c;
    c = static_cast<std::uint16_t>((c + 1) % kCounterModulus);
    if (auto kept = store_records(); !kept) {
      // A change the counter cannot witness must not stay: put the old value back.
      c = before;
      (void)e->writer(old_value);
      return fail(ErrorKind::unavailable,
                  fmt::format("object {}: the event counter cannot be stored ({}); the change "
                              "is undone",
                              name, kept.error().message));
    }
    changed.counter = calibration ? EventCounter::calibration : EventCounter::configuration;
    changed.counter_value = c;
  } else if (is_kept(id)) {
    if (auto kept = store_records(); !kept) {
      (void)e->writer(old_value);
      return fail(ErrorKind::unavailable,
                  fmt::format("object {}: the value cannot be stored ({}); the change is undone",
                              name, kept.error().message));
    }
  }
  bus_->publish(changed);
  return {};
}

void ParameterGate::set_sealed(bool sealed, SealKind kind) {
  const auto b = bit(kind);
  if (((seals_ & b) != 0) == sealed) return;
  seals_ = sealed ? (seals_ | b) : (seals_ & ~b);
  (void)store_records();
  bus_->publish(SealChanged{clock_->now(), kind, sealed});
}

Result<void> ParameterGate::set_electronic_seal(bool sealed, const Session& session) {
  if (!logged_on(session)) {
    return fail(ErrorKind::denied, "not logged on: log on to the port first");
  }
  if (sealed) {
    const bool local = session.via == Interface::optical_port ||
                       session.via == Interface::local_button;
    if (!local || (session.role != Role::configurator && session.role != Role::calibrator)) {
      return fail(ErrorKind::denied,
                  "the electronic seal is set on site, by a configurator or a calibrator");
    }
  } else if (session.via != Interface::optical_port || session.role != Role::calibrator) {
    return fail(ErrorKind::denied,
                "the electronic seal is broken only by a calibrator at the optical port");
  }
  if (session.via == Interface::optical_port && (seals_ & bit(SealKind::optical_plug)) != 0) {
    return fail(ErrorKind::sealed,
                "the optical port's sealing plug is fitted: the electronic seal is not changed "
                "through it");
  }
  const auto b = bit(SealKind::electronic);
  if (((seals_ & b) != 0) == sealed) return {};
  seals_ = sealed ? (seals_ | b) : (seals_ & ~b);
  if (auto kept = store_records(); !kept) {
    seals_ ^= b;
    return fail(ErrorKind::unavailable,
                fmt::format("the electronic seal cannot be stored: {}", kept.error().message));
  }
  bus_->publish(SealChanged{clock_->now(), SealKind::electronic, sealed});
  return {};
}

std::optional<std::string> ParameterGate::kept_settings(std::string_view plugin) const {
  if (store_ == nullptr) return std::nullopt;
  auto v = store_->get(kNamespace, std::string(kSettingsPrefix) + std::string(plugin));
  if (!v || !*v) return std::nullopt;
  if (const auto* text = std::get_if<std::string>(&**v)) return *text;
  return std::nullopt;
}

namespace {

std::string short_digest(const std::string& text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return std::string(hex, 16);
}

}  // namespace

Result<void> ParameterGate::settings(std::string_view plugin, const std::string& text,
                                     std::string_view what, bool dry_run) {
  const auto key = std::string(kSettingsPrefix) + std::string(plugin);
  const auto kept = kept_settings(plugin);
  if (kept && *kept == text) return {};
  const Requester site{Interface::kernel, Role::configurator, "site file"};
  if (!kept) {
    // Commissioning: the first settings this meter runs the plugin with.
    if (dry_run || store_ == nullptr) return {};
    if (auto done = store_->apply({{kNamespace, key, Value{text}}}); !done) return done;
    return store_->flush();
  }
  const auto* info = registry_->find(kPluginSettings);
  if (info == nullptr) return fail(fmt::format("no object {}", kPluginSettings.to_string()));
  const auto name = fmt::format("the settings of plugin {} ({})", plugin, what);
  // A check only says what a start would meet: it publishes nothing.
  auto refuse = [&](Result<void> r) { return dry_run ? r : refused(kPluginSettings, site, r); };
  if (sealed()) {
    return refuse(fail(ErrorKind::sealed,
                       fmt::format("{} differ from what the meter holds, and the meter is {}: "
                                   "break the seal to reprogram it, or restore the settings",
                                   name, describe_seal(seals_))));
  }
  if (config_.sealing_category == 3 && !event_logger_ready()) {
    return refuse(fail(ErrorKind::unavailable,
                       fmt::format("{} differ from what the meter holds, and no event logger "
                                   "is recording",
                                   name)));
  }
  if (dry_run) return {};
  if (!damage_.empty()) {
    return fail(ErrorKind::unavailable,
                fmt::format("{}: the event counters' store is damaged: {}", name, damage_));
  }
  auto& c = counters_[1];
  const auto before = c;
  c = static_cast<std::uint16_t>((c + 1) % kCounterModulus);
  auto records = nvm_records();
  records.push_back({kNamespace, key, Value{text}});
  auto done = store_->apply(records);
  if (done) done = store_->flush();
  if (!done) {
    c = before;
    return fail(ErrorKind::unavailable,
                fmt::format("{}: the change cannot be stored ({})", name, done.error().message));
  }
  ParameterChanged changed;
  changed.time = clock_->now();
  changed.id = kPluginSettings;
  changed.old_value = fmt::format("{} {}", plugin, short_digest(*kept));
  changed.new_value = fmt::format("{} {}", plugin, short_digest(text));
  changed.via = site.via;
  changed.who = fmt::format("site file: {} ({})", plugin, what);
  changed.role = mask(site.role);
  changed.parameter_class = static_cast<std::uint8_t>(ParameterClass::configuration);
  changed.counter = EventCounter::configuration;
  changed.counter_value = c;
  bus_->publish(changed);
  return {};
}

void ParameterGate::register_objects() {
  auto data = [](Obis id, ValueType type, const char* description) {
    return ObjectInfo{id,         ObjectClass::data, type, Unit::none, 0, kAnyRole, kNoRole,
                      ParameterClass::read_only, true, "kernel", description};
  };
  auto add = [this](ObjectInfo info, ObjectReader reader, ObjectWriter writer = {}) {
    (void)registry_->add(std::move(info), std::move(reader), std::move(writer));
  };
  add(data(kRemoteConfigurationMode, ValueType::boolean,
           "remote configuration mode (category 2 unsealed, category 3 with the event logger)"),
      [this] { return Value{remote_configuration_mode()}; });
  add(data(kSealState, ValueType::unsigned_integer,
           "seal: bit 0 cover, 1 programming jumper, 2 optical plug, 3 electronic"),
      [this] { return Value{std::uint64_t{seals_}}; });
  add(data(kCalibrationCounter, ValueType::unsigned_integer,
           "calibration event counter, 000..999"),
      [this] { return Value{std::uint64_t{counters_[0]}}; });
  add(data(kConfigurationCounter, ValueType::unsigned_integer,
           "configuration event counter, 000..999"),
      [this] { return Value{std::uint64_t{counters_[1]}}; });
  add(data(kSealingCategory, ValueType::unsigned_integer, "sealing category (table S.3.1)"),
      [this] { return Value{static_cast<std::uint64_t>(config_.sealing_category)}; });
  auto electronic = data(kElectronicSeal, ValueType::boolean,
                         "electronic seal: a port's logon writes true to seal, false to break");
  electronic.parameter_class = ParameterClass::operational;
  electronic.write_roles = Role::configurator | Role::calibrator;
  add(
      electronic, [this] { return Value{(seals_ & bit(SealKind::electronic)) != 0}; },
      [](const Value&) -> Result<void> {
        // write() sends a Session's write to set_electronic_seal() and refuses every other.
        return fail(ErrorKind::denied,
                    "the electronic seal is written only through a port's logon");
      });
  add(data(kPluginSettings, ValueType::text,
           "settings of the legally relevant plugins as the meter holds them: id and digest"),
      [this] {
        std::string out;
        if (store_ == nullptr) return Value{out};
        for (const auto& key : store_->keys(kNamespace)) {
          if (key.rfind(kSettingsPrefix, 0) != 0) continue;
          const auto plugin = key.substr(kSettingsPrefix.size());
          if (auto text = kept_settings(plugin)) {
            out += (out.empty() ? "" : "; ") + plugin + " " + short_digest(*text);
          }
        }
        return Value{out};
      });
  add(data(kSealableParameters, ValueType::unsigned_integer,
           "calibration and configuration parameters in the meter"),
      [this] { return Value{static_cast<std::uint64_t>(sealable_parameters())}; });
  auto optical = data(kOpticalPortEnabled, ValueType::boolean,
                      "optical port enabled; once disabled, re-enabled only with the seal broken");
  optical.parameter_class = ParameterClass::configuration;
  optical.write_roles = mask(Role::configurator);
  add(
      optical, [this] { return Value{optical_port_enabled_}; },
      [this](const Value& v) -> Result<void> {
        optical_port_enabled_ = std::get<bool>(v);
        if (optical_port_enabled_) return {};
        std::erase_if(sessions_, [](const auto& s) { return s.second.via == Interface::optical_port; });
        return {};
      });
}

}  // namespace meter::kernel
