// The parameter gate: the one path by which anything outside the metrology changes a value in
// the meter (California 4 CCR 4027.2 S.1, S.3, table S.3.1; seeds 000 and 004).
//
// It holds the seal (board switches and the meter shop's electronic seal, both kept in NVM so a
// change while the power was off is seen at power-up), the SKU's sealing category, the two
// event counters (calibration, configuration: 000..999, never reset), the logons of the ports
// (roles from password hashes, lockout after failed logons, which a power cycle does not lift)
// and the remote-configuration rules. What it keeps is in NVM namespace "kernel.seal". Every
// write is checked for role, class, type and seal; a sealable change steps its counter durably
// and publishes ParameterChanged, which the event logger (plugin sealing_audit) records.
//
// Who may change a sealable (calibration or configuration) parameter:
//   - the object's write role, always;
//   - category 3: only while the event logger is present and recording (0-0:128.6.6 is true);
//   - comms: never in category 1; in category 2 only while unsealed; in category 3
//     configuration parameters also while sealed (remote configuration), calibration only
//     while unsealed;
//   - every other interface (optical port, plugins, local button, kernel): only while unsealed;
//   - re-enabling a disabled optical port: only while unsealed, through any interface.
// A tariff parameter (switch points, calendars, a tier override, the clock) is counted and
// recorded like a configuration parameter; it is sealed only when the product lists it.
// Whatever the class: with the optical port's sealing plug fitted nothing is written through
// the optical port (seed 004), and an object restricted to the site (billing reset and preset,
// the optical port's switch) is never written through comms. Every refusal is published as
// WriteRefused, so the event logger records who tried what and why it was refused.
//
// Thread: the kernel thread, like the bus.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meter/kernel/bus.h"
#include "meter/kernel/clock.h"
#include "meter/kernel/nvm.h"
#include "meter/kernel/registry.h"

namespace meter::kernel {

/// Who is asking: the interface, the role it holds and, for plugins, the plugin's id. Ports
/// hold a Session instead; a Requester is for the kernel and the plugin host.
struct Requester {
  Interface via = Interface::kernel;
  Role role = Role::public_read;
  std::string_view who;  ///< a plugin id or a port name; recorded in ParameterChanged
};

/// A port's logon: the interface it came through and the role its password gave. Valid until
/// logoff() (or the meter powers down); a copied Session names the same logon.
struct Session {
  std::uint64_t id = 0;  ///< 0 is never a logon
  Interface via = Interface::optical_port;
  Role role = Role::public_read;
};

/// The SKU's sealing and access settings (its [security] table and sealing_category).
struct SecurityConfig {
  std::int64_t sealing_category = 1;  ///< 4 CCR 4027.2 table S.3.1: 1, 2 or 3
  bool optical_port_enabled = true;   ///< factory state of the optical port
  /// crypto_pwhash_str hashes (argon2id); empty: the role cannot log on.
  std::string reader_password_hash;
  std::string configurator_password_hash;
  std::string calibrator_password_hash;
  std::uint32_t max_failed_logons = 3;  ///< consecutive failures that lock a port
  Milliseconds lockout{std::chrono::minutes(15)};  ///< how long a locked port refuses logons
  /// Tariff parameters this product seals (ParameterClass::tariff): refused while sealed like
  /// a configuration parameter. The others are counted and recorded, not sealed.
  std::vector<Obis> sealable;
  /// Billing reset and preset through the comms interface (a head-end). Off: only on site, at
  /// the optical port or the local button (seed 000: a meter-shop function).
  bool remote_billing_reset = false;
};

/// How expensive a password hash is. Zero is not a cost.
enum class HashCost : std::uint8_t {
  interactive = 1,  ///< libsodium's INTERACTIVE limits: what a shipped SKU carries
  minimal,          ///< libsodium's MIN limits: for tests only
};

/// The seal state (ParameterGate::seal_state) for a person: "unsealed", or "sealed: cover,
/// optical port sealing plug" naming each source that is sealed.
std::string describe_seal(std::uint8_t seal_state);

/// Hashes a password for an SKU's [security] table (crypto_pwhash_str, argon2id).
Result<std::string> hash_password(std::string_view password, HashCost cost = HashCost::interactive);

std::string_view to_string(Interface via) noexcept;  ///< "optical-port", "comms", ...
std::string_view to_string(Role role) noexcept;      ///< "public", "reader", ...

class ParameterGate {
 public:
  /// The objects the gate provides (docs/objects.md).
  static constexpr Obis kRemoteConfigurationMode = obis("0-0:128.5.0");
  static constexpr Obis kSealState = obis("0-0:128.6.0");
  static constexpr Obis kCalibrationCounter = obis("0-0:128.6.1");
  static constexpr Obis kConfigurationCounter = obis("0-0:128.6.2");
  static constexpr Obis kSealingCategory = obis("0-0:128.6.3");
  static constexpr Obis kOpticalPortEnabled = obis("0-0:128.6.4");
  static constexpr Obis kSealableParameters = obis("0-0:128.6.5");
  /// Provided by the event logger (plugin sealing_audit), legally relevant: true while it is
  /// recording and has room for a record.
  static constexpr Obis kEventLoggerReady = obis("0-0:128.6.6");
  /// The electronic seal as an object: a port's logon writes true to seal (configurator or
  /// calibrator, optical port or local button) and false to break it (calibrator, optical port
  /// only), as set_electronic_seal(). A seal change, not a parameter change: it publishes
  /// SealChanged and steps no counter. Only a Session writes it.
  static constexpr Obis kElectronicSeal = obis("0-0:128.6.7");
  /// The settings of the legally relevant plugins as the meter holds them: one line per plugin,
  /// "<id> <first 16 hex digits of the settings' SHA-256>". A change (settings()) is a counted
  /// configuration change recorded under this object.
  static constexpr Obis kPluginSettings = obis("0-0:128.6.8");
  /// NVM namespace of the counters, the seals, the optical port's state, the ports' lockouts
  /// and the kept parameters (keep()).
  static constexpr const char* kNamespace = "kernel.seal";
  /// The counters count 000..999 and then start again at 000 (table S.3.1).
  static constexpr std::uint16_t kCounterModulus = 1000;

  /// Registers the gate's objects in `registry`.
  ParameterGate(ObjectRegistry& registry, EventBus& bus, const Clock& clock);

  /// Takes the SKU's settings. Refused when the category is not 1..3, a hash is not an
  /// argon2 hash string, or the lockout settings are zero.
  Result<void> configure(const SecurityConfig& config);

  /// Restores the counters, the electronic seal and the optical port's state from `store`,
  /// and keeps them there from now on. A fresh store starts at 000 (nvm_records() go into the
  /// first batch); a store that holds other records but not these, or unreadable ones, is
  /// damage: the error says what, the counters hold what could be read, and no protected
  /// change is made from then on (no counter step could be stored as evidence).
  Result<void> attach(NvmStore& store);
  /// The gate's records as one batch (for a fresh store's first write, and the power-fail
  /// write, which takes each locked port's remaining lockout as it is then).
  std::vector<NvmWrite> nvm_records() const;

  /// Keeps a kernel parameter's value in NVM under `key` of namespace "kernel.seal": stored in
  /// the same batch as the counter step of each change to it (so the change and its evidence
  /// are durable together), restored by attach() through the object's writer. A store that has
  /// no such record (a new meter, or one from before the parameter was kept) keeps the value
  /// the meter started with; a record of the wrong type or one the writer refuses is damage.
  /// Refused for an unknown or read-only object or a key already used. Call before attach().
  Result<void> keep(const Obis& id, std::string key);

  /// Logs on to a port with a password; the role is the one whose hash the password matches.
  /// Refused (and published as LogonFailed) for a wrong password, a locked port, a disabled
  /// optical port, or the kernel and plugin interfaces (which hold no passwords). The
  /// max_failed_logons-th consecutive failure locks the port for the lockout (PortLocked).
  Result<Session> logon(Interface via, std::string_view password);
  /// Ends a logon; its session writes nothing from now on.
  void logoff(const Session& session);
  bool logged_on(const Session& session) const;

  /// The settings a legally relevant plugin runs with (its effective configuration, as
  /// canonical text). The meter keeps them in NVM; a start with other settings is a
  /// configuration change of kPluginSettings: refused while sealed (kind sealed) or while a
  /// category 3 meter's event logger does not record (unavailable), otherwise counted, kept and
  /// published as ParameterChanged with `what` (the settings that differ) in `who`. The first
  /// settings a plugin ever has are kept without a step (the meter's commissioning). With
  /// `dry_run` nothing is kept or published: what the answer would be.
  Result<void> settings(std::string_view plugin, const std::string& text, std::string_view what,
                        bool dry_run = false);
  /// The settings kept for `plugin`, if any.
  std::optional<std::string> kept_settings(std::string_view plugin) const;

  /// Writes `value` to `id` for a port's logon. kElectronicSeal goes to set_electronic_seal();
  /// everything else as the Requester write below, with the session's interface and role.
  Result<void> write(const Obis& id, const Value& value, const Session& session);
  /// Writes `value` to `id` for `requester` (the kernel, or a plugin through the host).
  /// Refused, with a reason, when the object is unknown or read-only, the role may not write
  /// it, the value's type is wrong, the seal rules above refuse it, the object's writer refuses
  /// the value, or a counter step cannot be stored. Only a write that succeeds changes
  /// anything: it steps the counter of a sealable parameter and publishes ParameterChanged.
  /// kElectronicSeal is refused here: only a port's logon (a Session) seals or breaks it.
  Result<void> write(const Obis& id, const Value& value, const Requester& requester);

  /// Seal state of one source: a board switch (cover, programming jumper, optical plug) or
  /// the electronic seal. When it changes: kept in NVM, then SealChanged published. A switch
  /// is a fact of the hardware, so a store that cannot keep it does not stop the change.
  void set_sealed(bool sealed, SealKind kind);
  /// The meter shop's electronic seal: set by a configurator or calibrator logged on to the
  /// optical port or the local button; broken only by a calibrator on the optical port.
  Result<void> set_electronic_seal(bool sealed, const Session& session);

  /// Sealed when any source is sealed.
  bool sealed() const noexcept { return seals_ != 0; }
  /// Bit per source: 1 cover, 2 programming jumper, 4 optical plug, 8 electronic.
  std::uint8_t seal_state() const noexcept { return seals_; }
  std::uint16_t counter(EventCounter which) const noexcept;
  std::int64_t sealing_category() const noexcept { return config_.sealing_category; }
  bool optical_port_enabled() const noexcept { return optical_port_enabled_; }
  /// Category 2 unsealed, or category 3 with the event logger recording.
  bool remote_configuration_mode() const;
  bool event_logger_ready() const;
  /// Parameters in the registry now whose change steps a counter (calibration, configuration
  /// and tariff parameters): what the event logger's capacity is sized for.
  std::size_t sealable_parameters() const;

  /// Restricts `id` to writes made on site (optical port, local button, kernel): comms and
  /// plugins are refused.
  void restrict_to_site(const Obis& id);
  /// The seal rules for a write of `info` through `via` (no role or type check): why it would
  /// be refused, or nothing. For ports that refuse before they ask (a table of several objects).
  Result<void> check_seal(const ObjectInfo& info, const Value& value, Interface via) const;

 private:
  // The lock is counted in uptime, so a clock set forward does not end it; across a power
  // cycle it is kept as the time still to run (attach() and nvm_records()).
  struct Port {
    std::uint32_t failures = 0;
    Uptime locked_until{0};
  };
  struct Kept {
    Obis id;
    std::string key;
  };
  Result<void> try_write(const Obis& id, const Value& value, const Requester& requester);
  Result<void> refused(const Obis& id, const Requester& requester, Result<void> result);
  bool sealable_now(const ObjectInfo& info) const;
  void restore_kept(NvmStore& store, std::vector<std::string>& problems);
  void restore_ports(NvmStore& store, std::vector<std::string>& problems);
  bool is_kept(const Obis& id) const;
  Result<void> store_records();
  void register_objects();
  Port& port(Interface via) { return ports_[static_cast<std::size_t>(via)]; }

  ObjectRegistry* registry_;
  EventBus* bus_;
  const Clock* clock_;
  NvmStore* store_ = nullptr;
  std::string damage_;  // what attach() found; no counter step is stored while it is set
  SecurityConfig config_;
  std::uint8_t seals_ = 0;
  bool optical_port_enabled_ = true;
  std::array<std::uint16_t, 2> counters_{};  // calibration, configuration
  std::array<Port, 6> ports_{};              // by Interface value
  std::map<std::uint64_t, Session> sessions_;
  std::vector<Kept> kept_;
  std::vector<Obis> site_only_;
  std::uint64_t next_session_ = 0;
};

}  // namespace meter::kernel
