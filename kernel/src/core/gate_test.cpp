// The parameter gate: roles, seal sources, sealing categories, event counters, logons and
// lockout. The full interface x role x seal matrix against a whole Meter is tests/sealing.
#include "meter/kernel/gate.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace meter::kernel {
namespace {

const Obis kMultiplier = obis("0-0:128.9.0");
const Obis kGain = obis("0-0:128.9.1");
const Obis kSwitchPoints = obis("0-0:13.0.1");  // a tariff parameter
const Obis kOverride = obis("0-0:96.14.1");     // a tariff parameter
const Obis kNote = obis("0-0:128.9.2");         // an operational parameter
const Obis kPreset = obis("0-0:128.7.1");       // restricted to the site

class GateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ObjectInfo i;
    i.id = kMultiplier;
    i.type = ValueType::integer;
    i.parameter_class = ParameterClass::configuration;
    i.write_roles = mask(Role::configurator);
    i.owner = "test";
    ASSERT_TRUE(registry.add(
        i, [this] { return Value{stored}; },
        [this](const Value& v) -> Result<void> {
          const auto n = std::get<std::int64_t>(v);
          if (n < 1 || n > 240) return fail("display multiplier must be 1..240");
          stored = n;
          return {};
        }));
    i.id = kGain;
    i.parameter_class = ParameterClass::calibration;
    i.write_roles = mask(Role::calibrator);
    ASSERT_TRUE(registry.add(
        i, [this] { return Value{gain}; },
        [this](const Value& v) -> Result<void> {
          gain = std::get<std::int64_t>(v);
          return {};
        }));
    i.write_roles = mask(Role::configurator);
    for (const auto& [id, c] : {std::pair{kSwitchPoints, ParameterClass::tariff},
                                std::pair{kOverride, ParameterClass::tariff},
                                std::pair{kNote, ParameterClass::operational},
                                std::pair{kPreset, ParameterClass::configuration}}) {
      i.id = id;
      i.parameter_class = c;
      ASSERT_TRUE(registry.add(
          i, [this, id = id] { return Value{others[id]}; },
          [this, id = id](const Value& v) -> Result<void> {
            others[id] = std::get<std::int64_t>(v);
            return {};
          }));
    }
    bus.subscribe<ParameterChanged>([this](const ParameterChanged& e) { changes.push_back(e); });
    bus.subscribe<WriteRefused>([this](const WriteRefused& e) { refusals.push_back(e); });
    bus.subscribe<LogonFailed>([this](const LogonFailed& e) { failures.push_back(e); });
    bus.subscribe<PortLocked>([this](const PortLocked& e) { locks.push_back(e); });
  }

  void configure(std::int64_t category) {
    SecurityConfig c;
    c.sealing_category = category;
    c.configurator_password_hash = *hash_password("config-pw", HashCost::minimal);
    c.calibrator_password_hash = *hash_password("cal-pw", HashCost::minimal);
    c.reader_password_hash = *hash_password("read-pw", HashCost::minimal);
    c.max_failed_logons = 3;
    c.lockout = std::chrono::minutes(10);
    ASSERT_TRUE(gate.configure(c));
  }

  /// An event logger as the sealing_audit plugin provides it: legally relevant, true while ready.
  void add_logger() {
    ObjectInfo i;
    i.id = ParameterGate::kEventLoggerReady;
    i.type = ValueType::boolean;
    i.legally_relevant = true;
    i.owner = "sealing_audit";
    ASSERT_TRUE(registry.add(i, [this] { return Value{logger_ready}; }));
  }

  VirtualTimeSource time{UtcTime{std::chrono::hours(24 * 365 * 56)}};
  EventBus bus;
  Clock clock = *Clock::create(time, bus, "UTC", true);
  ObjectRegistry registry;
  ParameterGate gate{registry, bus, clock};
  std::int64_t stored = 1;
  std::int64_t gain = 100;
  bool logger_ready = true;
  std::map<Obis, std::int64_t> others;
  std::vector<ParameterChanged> changes;
  std::vector<WriteRefused> refusals;
  std::vector<LogonFailed> failures;
  std::vector<PortLocked> locks;
  Requester configurator{Interface::optical_port, Role::configurator, "optical"};
  Requester calibrator{Interface::optical_port, Role::calibrator, "optical"};
};

TEST_F(GateTest, AllowedWriteStoresStepsTheCounterAndPublishesOldAndNewValue) {
  ASSERT_TRUE(gate.write(kMultiplier, Value{std::int64_t{10}}, configurator));
  EXPECT_EQ(stored, 10);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].old_value, "1");
  EXPECT_EQ(changes[0].new_value, "10");
  EXPECT_EQ(changes[0].via, Interface::optical_port);
  EXPECT_EQ(changes[0].who, "optical");
  EXPECT_EQ(changes[0].role, mask(Role::configurator));
  EXPECT_EQ(changes[0].counter, EventCounter::configuration);
  EXPECT_EQ(changes[0].counter_value, 1);
  EXPECT_EQ(gate.counter(EventCounter::configuration), 1);
  EXPECT_EQ(gate.counter(EventCounter::calibration), 0);
  ASSERT_TRUE(gate.write(kGain, Value{std::int64_t{101}}, calibrator));
  EXPECT_EQ(gate.counter(EventCounter::calibration), 1);
  EXPECT_EQ(std::get<std::uint64_t>(*registry.read(ParameterGate::kCalibrationCounter,
                                                   Role::public_read)),
            1u);
}

TEST_F(GateTest, RefusesWrongRoleWrongTypeAndOutOfRangeWithoutTrace) {
  EXPECT_FALSE(gate.write(kMultiplier, Value{std::int64_t{10}},
                          Requester{Interface::comms, Role::reader, "rf"}));
  EXPECT_FALSE(gate.write(kMultiplier, Value{10.0}, configurator));
  EXPECT_FALSE(gate.write(kMultiplier, Value{std::int64_t{241}}, configurator));
  EXPECT_FALSE(gate.write(kGain, Value{std::int64_t{1}}, configurator));
  EXPECT_FALSE(gate.write(obis("1-0:1.8.0"), Value{std::int64_t{0}}, configurator));
  EXPECT_EQ(stored, 1);
  EXPECT_TRUE(changes.empty());
  EXPECT_EQ(gate.counter(EventCounter::configuration), 0);
}

TEST_F(GateTest, AnySealSourceSealsAndEachChangeIsPublished) {
  std::vector<SealChanged> seals;
  bus.subscribe<SealChanged>([&](const SealChanged& e) { seals.push_back(e); });
  gate.set_sealed(true, SealKind::cover);
  auto r = gate.write(kMultiplier, Value{std::int64_t{10}}, configurator);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("sealed configuration parameter"), std::string::npos);
  gate.set_sealed(true, SealKind::optical_plug);
  EXPECT_EQ(gate.seal_state(), 0b0101);
  gate.set_sealed(false, SealKind::cover);
  EXPECT_FALSE(gate.write(kMultiplier, Value{std::int64_t{10}}, configurator));
  gate.set_sealed(false, SealKind::optical_plug);
  EXPECT_TRUE(gate.write(kMultiplier, Value{std::int64_t{10}}, configurator));
  ASSERT_EQ(seals.size(), 4u);
  EXPECT_TRUE(seals[0].sealed);
  EXPECT_EQ(seals[1].kind, SealKind::optical_plug);
  EXPECT_FALSE(seals[3].sealed);
}

TEST_F(GateTest, CountersRunFrom000To999AndStartAgain) {
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(gate.write(kMultiplier, Value{std::int64_t{1 + i % 200}}, configurator));
  }
  EXPECT_EQ(gate.counter(EventCounter::configuration), 0);
  ASSERT_TRUE(gate.write(kMultiplier, Value{std::int64_t{5}}, configurator));
  EXPECT_EQ(changes.back().counter_value, 1);
}

TEST_F(GateTest, CountersAreNotWritableThroughAnyInterface) {
  ASSERT_TRUE(gate.write(kMultiplier, Value{std::int64_t{10}}, configurator));
  for (auto via : {Interface::kernel, Interface::optical_port, Interface::comms,
                   Interface::plugin, Interface::local_button}) {
    for (auto role : {Role::public_read, Role::reader, Role::configurator, Role::calibrator}) {
      for (auto id : {ParameterGate::kCalibrationCounter, ParameterGate::kConfigurationCounter}) {
        EXPECT_FALSE(gate.write(id, Value{std::uint64_t{0}}, Requester{via, role, "x"}));
      }
    }
  }
  EXPECT_EQ(gate.counter(EventCounter::configuration), 1);
}

TEST_F(GateTest, CategoryOneRefusesRemoteConfigurationEvenUnsealed) {
  configure(1);
  EXPECT_FALSE(gate.write(kMultiplier, Value{std::int64_t{10}},
                          Requester{Interface::comms, Role::configurator, "rf"}));
  EXPECT_TRUE(gate.write(kMultiplier, Value{std::int64_t{10}}, configurator));
  EXPECT_FALSE(gate.remote_configuration_mode());
}

TEST_F(GateTest, CategoryTwoAllowsRemoteConfigurationOnlyWhileTheHardwareIsUnsealed) {
  configure(2);
  const Requester remote{Interface::comms, Role::configurator, "rf"};
  EXPECT_TRUE(gate.remote_configuration_mode());
  EXPECT_TRUE(gate.write(kMultiplier, Value{std::int64_t{10}}, remote));
  gate.set_sealed(true, SealKind::programming_jumper);
  EXPECT_FALSE(gate.remote_configuration_mode());
  EXPECT_FALSE(gate.write(kMultiplier, Value{std::int64_t{11}}, remote));
  EXPECT_EQ(stored, 10);
}

TEST_F(GateTest, CategoryThreeNeedsTheEventLoggerForEverySealableChange) {
  configure(3);
  EXPECT_FALSE(gate.remote_configuration_mode());
  EXPECT_FALSE(gate.write(kMultiplier, Value{std::int64_t{10}}, configurator));
  add_logger();
  EXPECT_TRUE(gate.remote_configuration_mode());
  EXPECT_TRUE(*registry.read(ParameterGate::kRemoteConfigurationMode, Role::public_read) ==
              Value{true});
  EXPECT_TRUE(gate.write(kMultiplier, Value{std::int64_t{10}}, configurator));
  logger_ready = false;  // full, refusing further protected changes
  EXPECT_FALSE(gate.write(kMultiplier, Value{std::int64_t{11}}, configurator));
  EXPECT_FALSE(gate.remote_configuration_mode());
  EXPECT_EQ(stored, 10);
}

TEST_F(GateTest, CategoryThreeSealedAllowsRemoteConfigurationButNotCalibration) {
  configure(3);
  add_logger();
  gate.set_sealed(true, SealKind::cover);
  EXPECT_TRUE(gate.write(kMultiplier, Value{std::int64_t{10}},
                         Requester{Interface::comms, Role::configurator, "rf"}));
  EXPECT_FALSE(gate.write(kGain, Value{std::int64_t{1}},
                          Requester{Interface::comms, Role::calibrator, "rf"}));
  EXPECT_FALSE(gate.write(kMultiplier, Value{std::int64_t{12}}, configurator));
  EXPECT_EQ(stored, 10);
  EXPECT_EQ(gate.counter(EventCounter::configuration), 1);
  EXPECT_EQ(gate.counter(EventCounter::calibration), 0);
}

TEST_F(GateTest, ALoggerObjectThatIsNotLegallyRelevantIsNoLogger) {
  configure(3);
  ObjectInfo i;
  i.id = ParameterGate::kEventLoggerReady;
  i.type = ValueType::boolean;
  i.owner = "impostor";
  ASSERT_TRUE(registry.add(i, [] { return Value{true}; }));
  EXPECT_FALSE(gate.event_logger_ready());
  EXPECT_FALSE(gate.write(kMultiplier, Value{std::int64_t{10}}, configurator));
}

TEST_F(GateTest, LogonGivesTheRoleOfThePasswordAndSessionsWriteUntilLogoff) {
  configure(1);
  auto cal = gate.logon(Interface::optical_port, "cal-pw");
  auto conf = gate.logon(Interface::optical_port, "config-pw");
  auto reader = gate.logon(Interface::optical_port, "read-pw");
  ASSERT_TRUE(cal && conf && reader);
  EXPECT_EQ(cal->role, Role::calibrator);
  EXPECT_EQ(conf->role, Role::configurator);
  EXPECT_EQ(reader->role, Role::reader);
  EXPECT_FALSE(gate.write(kMultiplier, Value{std::int64_t{10}}, *reader));
  EXPECT_TRUE(gate.write(kMultiplier, Value{std::int64_t{10}}, *conf));
  EXPECT_EQ(changes.back().who, "optical-port");
  gate.logoff(*conf);
  EXPECT_FALSE(gate.write(kMultiplier, Value{std::int64_t{11}}, *conf));
  Session forged = *cal;
  forged.role = Role::configurator;
  EXPECT_FALSE(gate.write(kMultiplier, Value{std::int64_t{11}}, forged));
  EXPECT_EQ(stored, 10);
  EXPECT_FALSE(gate.logon(Interface::plugin, "cal-pw"));
  EXPECT_FALSE(gate.logon(Interface::kernel, "cal-pw"));
}

TEST_F(GateTest, WrongPasswordsLockThePortUntilTheLockoutEndsAndEveryAttemptIsPublished) {
  configure(1);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(gate.logon(Interface::optical_port, "guess"));
  ASSERT_EQ(locks.size(), 1u);
  EXPECT_EQ(locks[0].via, Interface::optical_port);
  EXPECT_EQ(locks[0].lockout, std::chrono::minutes(10));
  ASSERT_EQ(failures.size(), 3u);
  EXPECT_EQ(failures[2].failures, 3u);
  EXPECT_EQ(failures[2].reason, "wrong-password");

  auto refused = gate.logon(Interface::optical_port, "config-pw");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("locked"), std::string::npos);
  ASSERT_EQ(failures.size(), 4u);
  EXPECT_EQ(failures[3].reason, "locked");
  // Another port is not locked by the optical port's failures.
  EXPECT_TRUE(gate.logon(Interface::comms, "config-pw"));

  time.advance(std::chrono::minutes(10) - std::chrono::seconds(1));
  EXPECT_FALSE(gate.logon(Interface::optical_port, "config-pw"));
  time.advance(std::chrono::seconds(1));
  EXPECT_TRUE(gate.logon(Interface::optical_port, "config-pw"));
  EXPECT_EQ(failures.size(), 5u);
  EXPECT_EQ(locks.size(), 1u);
}

TEST_F(GateTest, ASuccessfulLogonClearsTheFailures) {
  configure(1);
  EXPECT_FALSE(gate.logon(Interface::optical_port, "guess"));
  EXPECT_FALSE(gate.logon(Interface::optical_port, "guess"));
  EXPECT_TRUE(gate.logon(Interface::optical_port, "read-pw"));
  EXPECT_FALSE(gate.logon(Interface::optical_port, "guess"));
  EXPECT_FALSE(gate.logon(Interface::optical_port, "guess"));
  EXPECT_TRUE(locks.empty());
}

TEST_F(GateTest, ADisabledOpticalPortRefusesLogonsAndIsReEnabledOnlyUnsealed) {
  configure(1);
  auto conf = gate.logon(Interface::optical_port, "config-pw");
  ASSERT_TRUE(conf);
  ASSERT_TRUE(gate.write(ParameterGate::kOpticalPortEnabled, Value{false}, *conf));
  EXPECT_FALSE(gate.logged_on(*conf));  // its own logon ends with it
  auto refused = gate.logon(Interface::optical_port, "config-pw");
  ASSERT_FALSE(refused);
  EXPECT_EQ(failures.back().reason, "port-disabled");

  gate.set_sealed(true, SealKind::cover);
  auto local = gate.logon(Interface::local_button, "config-pw");
  ASSERT_TRUE(local);
  EXPECT_FALSE(gate.write(ParameterGate::kOpticalPortEnabled, Value{true}, *local));
  EXPECT_FALSE(gate.optical_port_enabled());
  gate.set_sealed(false, SealKind::cover);
  EXPECT_TRUE(gate.write(ParameterGate::kOpticalPortEnabled, Value{true}, *local));
  EXPECT_TRUE(gate.logon(Interface::optical_port, "config-pw"));
}

TEST_F(GateTest, TheElectronicSealIsSetOnSiteAndBrokenOnlyByACalibratorAtTheOpticalPort) {
  configure(1);
  auto conf = gate.logon(Interface::optical_port, "config-pw");
  auto remote = gate.logon(Interface::comms, "cal-pw");
  auto cal = gate.logon(Interface::optical_port, "cal-pw");
  ASSERT_TRUE(conf && remote && cal);
  EXPECT_FALSE(gate.set_electronic_seal(true, *remote));
  ASSERT_TRUE(gate.set_electronic_seal(true, *conf));
  EXPECT_TRUE(gate.sealed());
  EXPECT_FALSE(gate.set_electronic_seal(false, *conf));
  EXPECT_FALSE(gate.set_electronic_seal(false, *remote));
  EXPECT_TRUE(gate.sealed());
  ASSERT_TRUE(gate.set_electronic_seal(false, *cal));
  EXPECT_FALSE(gate.sealed());
}

TEST_F(GateTest, TheElectronicSealObjectIsWrittenThroughALogonAsASealChange) {
  configure(1);
  std::vector<SealChanged> seals;
  bus.subscribe<SealChanged>([&](const SealChanged& e) { seals.push_back(e); });
  auto conf = gate.logon(Interface::optical_port, "config-pw");
  auto reader = gate.logon(Interface::optical_port, "read-pw");
  auto remote = gate.logon(Interface::comms, "cal-pw");
  auto cal = gate.logon(Interface::optical_port, "cal-pw");
  ASSERT_TRUE(conf && reader && remote && cal);
  const auto seal = ParameterGate::kElectronicSeal;
  auto read = [&] { return std::get<bool>(*registry.read(seal, Role::public_read)); };

  EXPECT_FALSE(gate.write(seal, Value{true}, *reader));
  EXPECT_FALSE(gate.write(seal, Value{true}, *remote)) << "sealing is done on site";
  EXPECT_FALSE(gate.write(seal, Value{std::int64_t{1}}, *conf)) << "a bool, nothing else";
  ASSERT_TRUE(gate.write(seal, Value{true}, *conf));
  EXPECT_TRUE(read());
  EXPECT_EQ(gate.seal_state(), 0b1000);
  ASSERT_EQ(seals.size(), 1u);
  EXPECT_EQ(seals[0].kind, SealKind::electronic);
  EXPECT_TRUE(seals[0].sealed);
  EXPECT_TRUE(changes.empty()) << "a seal change, not a parameter change";
  EXPECT_EQ(gate.counter(EventCounter::configuration), 0);
  EXPECT_EQ(gate.counter(EventCounter::calibration), 0);
  EXPECT_FALSE(gate.write(kMultiplier, Value{std::int64_t{10}}, *conf)) << "the meter is sealed";

  auto refused = gate.write(seal, Value{false}, *conf);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("only by a calibrator at the optical port"),
            std::string::npos);
  EXPECT_FALSE(gate.write(seal, Value{false}, *remote));
  EXPECT_TRUE(read());
  ASSERT_TRUE(gate.write(seal, Value{false}, *cal));
  EXPECT_FALSE(read());
  EXPECT_FALSE(gate.sealed());
  EXPECT_EQ(seals.size(), 2u);
  gate.logoff(*cal);
  EXPECT_FALSE(gate.write(seal, Value{true}, *cal)) << "an ended logon writes nothing";
}

TEST_F(GateTest, OnlyALogonWritesTheElectronicSeal) {
  configure(1);
  for (auto via : {Interface::kernel, Interface::optical_port, Interface::comms,
                   Interface::plugin, Interface::local_button}) {
    for (auto role : {Role::configurator, Role::calibrator}) {
      auto r = gate.write(ParameterGate::kElectronicSeal, Value{true}, Requester{via, role, "x"});
      ASSERT_FALSE(r);
      EXPECT_NE(r.error().message.find("only a logon at the optical port or the local button"),
                std::string::npos);
    }
  }
  EXPECT_FALSE(gate.sealed());
}

TEST(DescribeSeal, NamesEachSourceThatIsSealed) {
  EXPECT_EQ(describe_seal(0), "unsealed");
  EXPECT_EQ(describe_seal(0b0101), "sealed: cover, optical port sealing plug");
  EXPECT_EQ(describe_seal(0b1010), "sealed: programming jumper, electronic seal");
}

/// The store across power cycles: records in a map, fresh until the first is stored.
class MapStore final : public NvmStore {
 public:
  Result<std::optional<Value>> get(std::string_view name_space,
                                   std::string_view key) const override {
    auto it = records_.find(std::string(name_space) + "/" + std::string(key));
    return it == records_.end() ? std::optional<Value>{} : std::optional<Value>{it->second};
  }
  Result<void> apply(const std::vector<NvmWrite>& batch) override {
    for (const auto& w : batch) {
      const auto k = w.name_space + "/" + w.key;
      if (w.value) {
        records_[k] = *w.value;
      } else {
        records_.erase(k);
      }
    }
    return {};
  }
  std::vector<std::string> keys(std::string_view) const override { return {}; }
  NvmHealth health() const override {
    return {records_.empty() ? NvmState::fresh : NvmState::intact, {}, {}};
  }

 private:
  std::map<std::string, Value> records_;
};

/// A gate with its own clock, registry and the test's configuration parameter, attached to a
/// store that outlives it: destroying one and making another on the same store is a power cycle.
struct PoweredGate {
  PoweredGate(MapStore& store, UtcTime start, std::int64_t stored_value = 1)
      : time(start), stored(stored_value) {
    ObjectInfo i;
    i.id = kMultiplier;
    i.type = ValueType::integer;
    i.parameter_class = ParameterClass::configuration;
    i.write_roles = mask(Role::configurator);
    i.owner = "test";
    EXPECT_TRUE(registry.add(
        i, [this] { return Value{stored}; },
        [this](const Value& v) -> Result<void> {
          const auto n = std::get<std::int64_t>(v);
          if (n < 1 || n > 240) return fail("multiplier must be 1..240");
          stored = n;
          return {};
        }));
    SecurityConfig c;
    c.configurator_password_hash = *hash_password("config-pw", HashCost::minimal);
    c.max_failed_logons = 3;
    c.lockout = std::chrono::minutes(10);
    EXPECT_TRUE(gate.configure(c));
    EXPECT_TRUE(gate.keep(kMultiplier, "test.multiplier"));
    bus.subscribe<SealChanged>([this](const SealChanged& e) { seals.push_back(e); });
    bus.subscribe<PortLocked>([this](const PortLocked& e) { locks.push_back(e); });
    const bool fresh = store.health().state == NvmState::fresh;
    attached = gate.attach(store);
    if (fresh) {
      EXPECT_TRUE(store.apply(gate.nvm_records()));  // as Persistence does
    }
  }
  /// An orderly power-down: the gate's records in the power-fail batch, as Persistence does.
  void power_fail(MapStore& store) { EXPECT_TRUE(store.apply(gate.nvm_records())); }
  UtcTime now() const { return time.utc(); }

  VirtualTimeSource time;
  EventBus bus;
  Clock clock = *Clock::create(time, bus, "UTC", true);
  ObjectRegistry registry;
  ParameterGate gate{registry, bus, clock};
  std::int64_t stored;
  Result<void> attached;
  std::vector<SealChanged> seals;
  std::vector<PortLocked> locks;
};

const UtcTime kStart{std::chrono::hours(24 * 365 * 56)};
const Requester kShop{Interface::optical_port, Role::configurator, "shop"};

TEST(GatePowerCycle, AKeptParameterIsStoredWithItsCounterStepAndRestoredAtPowerUp) {
  MapStore store;
  {
    PoweredGate g(store, kStart);
    ASSERT_TRUE(g.gate.write(kMultiplier, Value{std::int64_t{25}}, kShop));
    auto kept = store.get(ParameterGate::kNamespace, "test.multiplier");
    ASSERT_TRUE(kept && *kept);
    EXPECT_TRUE(**kept == Value{std::int64_t{25}}) << "stored at once, not at power-down";
    EXPECT_TRUE(*store.get(ParameterGate::kNamespace, "counter.configuration") ==
                std::optional<Value>{Value{std::uint64_t{1}}});
  }
  PoweredGate g(store, kStart, /*the SKU's value*/ 1);
  ASSERT_TRUE(g.attached) << g.attached.error().message;
  EXPECT_EQ(g.stored, 25) << "the meter's own value wins over the factory one";
  EXPECT_EQ(g.gate.counter(EventCounter::configuration), 1);
}

TEST(GatePowerCycle, AStoreWithoutAKeptRecordKeepsTheMetersValueAndABadRecordIsDamage) {
  MapStore store;
  { PoweredGate g(store, kStart); }
  ASSERT_TRUE(store.apply({{ParameterGate::kNamespace, "test.multiplier", std::nullopt}}));
  {
    PoweredGate g(store, kStart, 7);
    EXPECT_TRUE(g.attached) << "a store from before the parameter was kept";
    EXPECT_EQ(g.stored, 7);
  }
  ASSERT_TRUE(
      store.apply({{ParameterGate::kNamespace, "test.multiplier", Value{std::int64_t{500}}}}));
  PoweredGate g(store, kStart, 7);
  ASSERT_FALSE(g.attached);
  EXPECT_NE(g.attached.error().message.find("test.multiplier holds 500"), std::string::npos)
      << g.attached.error().message;
  EXPECT_EQ(g.stored, 7);
  EXPECT_FALSE(g.gate.write(kMultiplier, Value{std::int64_t{2}}, kShop))
      << "a damaged store witnesses no change";
}

TEST(GatePowerCycle, KeepRefusesWhatCannotBeKept) {
  MapStore store;
  PoweredGate g(store, kStart);
  EXPECT_FALSE(g.gate.keep(obis("0-0:128.9.9"), "x")) << "no such object";
  EXPECT_FALSE(g.gate.keep(ParameterGate::kSealState, "x")) << "read-only";
  EXPECT_FALSE(g.gate.keep(ParameterGate::kOpticalPortEnabled, "counter.calibration"));
  EXPECT_FALSE(g.gate.keep(kMultiplier, "other.key")) << "kept already";
}

TEST(GatePowerCycle, AWriteOfAKeptValueThatCannotBeStoredIsUndone) {
  MapStore store;
  PoweredGate g(store, kStart);
  // An operational parameter steps no counter; kept, its value is stored all the same.
  const Obis mode = obis("0-0:128.9.2");
  std::int64_t mode_value = 1;
  ObjectInfo i;
  i.id = mode;
  i.type = ValueType::integer;
  i.parameter_class = ParameterClass::operational;
  i.write_roles = mask(Role::configurator);
  ASSERT_TRUE(g.registry.add(
      i, [&] { return Value{mode_value}; },
      [&](const Value& v) -> Result<void> {
        mode_value = std::get<std::int64_t>(v);
        return {};
      }));
  ASSERT_TRUE(g.gate.keep(mode, "test.mode"));
  ASSERT_TRUE(g.gate.write(mode, Value{std::int64_t{2}}, kShop));
  EXPECT_TRUE(*store.get(ParameterGate::kNamespace, "test.mode") ==
              std::optional<Value>{Value{std::int64_t{2}}});
  EXPECT_EQ(g.gate.counter(EventCounter::configuration), 0);

  // A medium that stops writing: neither change can be kept, so both values go back.
  class Refusing final : public NvmStore {
   public:
    Result<std::optional<Value>> get(std::string_view, std::string_view) const override {
      return std::optional<Value>{};
    }
    Result<void> apply(const std::vector<NvmWrite>&) override { return fail("medium worn out"); }
    std::vector<std::string> keys(std::string_view) const override { return {}; }
    NvmHealth health() const override { return {NvmState::fresh, {}, {}}; }
  } refusing;
  ASSERT_TRUE(g.gate.attach(refusing));
  auto r = g.gate.write(mode, Value{std::int64_t{3}}, kShop);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("medium worn out"), std::string::npos);
  EXPECT_EQ(mode_value, 2);
  EXPECT_FALSE(g.gate.write(kMultiplier, Value{std::int64_t{9}}, kShop));
  EXPECT_EQ(g.stored, 1);
}

TEST(GatePowerCycle, BoardSealsAreKeptSoAChangeWhileOffIsSeenAtPowerUp) {
  MapStore store;
  {
    PoweredGate g(store, kStart);
    g.gate.set_sealed(true, SealKind::cover);
    g.gate.set_sealed(true, SealKind::optical_plug);
  }
  PoweredGate g(store, kStart);
  ASSERT_TRUE(g.attached);
  EXPECT_EQ(g.gate.seal_state(), 0b0101) << "restored without an event";
  EXPECT_TRUE(g.seals.empty());
  g.gate.set_sealed(true, SealKind::cover);  // the board reads it sealed still: no change
  EXPECT_TRUE(g.seals.empty());
  g.gate.set_sealed(false, SealKind::optical_plug);  // the plug was pulled while off
  ASSERT_EQ(g.seals.size(), 1u);
  EXPECT_EQ(g.seals[0].kind, SealKind::optical_plug);
  EXPECT_FALSE(g.seals[0].sealed);
}

TEST(GatePowerCycle, ALockedPortStaysLockedForTheLockoutItHadLeft) {
  MapStore store;
  {
    PoweredGate g(store, kStart);
    for (int i = 0; i < 3; ++i) EXPECT_FALSE(g.gate.logon(Interface::optical_port, "guess"));
    ASSERT_EQ(g.locks.size(), 1u);
    g.time.advance(std::chrono::minutes(4));
    g.power_fail(store);
  }
  // Two hours without power: the outage does not count, the 6 minutes left still do.
  PoweredGate g(store, kStart + std::chrono::minutes(4) + std::chrono::hours(2));
  ASSERT_TRUE(g.attached) << g.attached.error().message;
  auto refused = g.gate.logon(Interface::optical_port, "config-pw");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("locked"), std::string::npos);
  EXPECT_TRUE(g.gate.logon(Interface::comms, "config-pw")) << "ports lock independently";
  g.time.advance(std::chrono::minutes(6) - std::chrono::seconds(1));
  EXPECT_FALSE(g.gate.logon(Interface::optical_port, "config-pw"));
  g.time.advance(std::chrono::seconds(1));
  EXPECT_TRUE(g.gate.logon(Interface::optical_port, "config-pw"));
}

TEST(GatePowerCycle, APowerCutWithoutWarningNeverShortensALock) {
  MapStore store;
  {
    PoweredGate g(store, kStart);
    for (int i = 0; i < 3; ++i) EXPECT_FALSE(g.gate.logon(Interface::optical_port, "guess"));
    g.time.advance(std::chrono::minutes(9));  // then the power goes with no power-fail write
  }
  PoweredGate g(store, kStart + std::chrono::minutes(9));
  g.time.advance(std::chrono::minutes(10) - std::chrono::seconds(1));
  EXPECT_FALSE(g.gate.logon(Interface::optical_port, "config-pw")) << "the whole lockout again";
  g.time.advance(std::chrono::seconds(1));
  EXPECT_TRUE(g.gate.logon(Interface::optical_port, "config-pw"));
}

TEST(GatePowerCycle, FailedLogonsAreCountedAcrossAPowerCycleAndASuccessClearsThem) {
  MapStore store;
  {
    PoweredGate g(store, kStart);
    EXPECT_FALSE(g.gate.logon(Interface::optical_port, "guess"));
    EXPECT_FALSE(g.gate.logon(Interface::optical_port, "guess"));
  }
  {
    PoweredGate g(store, kStart);
    EXPECT_FALSE(g.gate.logon(Interface::optical_port, "guess"));
    EXPECT_EQ(g.locks.size(), 1u) << "two before the power cycle and one after make three";
  }
  MapStore other;
  {
    PoweredGate g(other, kStart);
    EXPECT_FALSE(g.gate.logon(Interface::local_button, "guess"));
    EXPECT_FALSE(g.gate.logon(Interface::local_button, "guess"));
    EXPECT_TRUE(g.gate.logon(Interface::local_button, "config-pw"));
  }
  PoweredGate g(other, kStart);
  EXPECT_FALSE(g.gate.logon(Interface::local_button, "guess"));
  EXPECT_FALSE(g.gate.logon(Interface::local_button, "guess"));
  EXPECT_TRUE(g.locks.empty());
}

TEST(GatePowerCycle, AStoredLockNeverOutlastsTheLockoutAndANegativeOneIsDamage) {
  MapStore store;
  { PoweredGate g(store, kStart); }
  ASSERT_TRUE(store.apply({{ParameterGate::kNamespace, "logon.optical-port.lock_remaining_ms",
                            Value{std::int64_t{1'000'000'000'000}}}}));
  {
    PoweredGate g(store, kStart);
    ASSERT_TRUE(g.attached);
    EXPECT_FALSE(g.gate.logon(Interface::optical_port, "config-pw"));
    g.time.advance(std::chrono::minutes(10));
    EXPECT_TRUE(g.gate.logon(Interface::optical_port, "config-pw"));
  }
  ASSERT_TRUE(store.apply({{ParameterGate::kNamespace, "logon.comms.lock_remaining_ms",
                            Value{std::int64_t{-5}}}}));
  PoweredGate g(store, kStart);
  ASSERT_FALSE(g.attached);
  EXPECT_NE(g.attached.error().message.find("logon.comms.lock_remaining_ms"), std::string::npos);
}

TEST_F(GateTest, ConfigureRefusesBadSettings) {
  SecurityConfig c;
  c.sealing_category = 4;
  EXPECT_FALSE(gate.configure(c));
  c.sealing_category = 3;
  c.configurator_password_hash = "plain-text-password";
  EXPECT_FALSE(gate.configure(c));
  c.configurator_password_hash.clear();
  c.max_failed_logons = 0;
  EXPECT_FALSE(gate.configure(c));
}

// A port answers in its protocol's terms (a C12.18 code, an ABI status): each refusal says which
// kind it is, so that a sealed meter is never reported as a wrong role or a bad value.
TEST_F(GateTest, EachRefusalSaysItsKind) {
  configure(2);
  auto kind = [](const auto& r) { return r ? ErrorKind::failed : r.error().kind; };
  EXPECT_EQ(kind(gate.write(obis("9-9:9.9.9"), Value{true}, configurator)), ErrorKind::not_found);
  EXPECT_EQ(kind(gate.write(kGain, Value{std::int64_t{1}}, configurator)), ErrorKind::denied);
  EXPECT_EQ(kind(gate.write(kMultiplier, Value{1.0}, configurator)), ErrorKind::invalid);
  EXPECT_EQ(kind(gate.write(kMultiplier, Value{std::int64_t{241}}, configurator)),
            ErrorKind::invalid);
  gate.set_sealed(true, SealKind::cover);
  EXPECT_EQ(kind(gate.write(kMultiplier, Value{std::int64_t{2}}, configurator)), ErrorKind::sealed);
  gate.set_sealed(false, SealKind::cover);

  EXPECT_EQ(kind(gate.logon(Interface::kernel, "cal-pw")), ErrorKind::invalid);
  EXPECT_EQ(kind(gate.logon(Interface::optical_port, "guess")), ErrorKind::denied);
  EXPECT_EQ(kind(gate.logon(Interface::optical_port, "guess")), ErrorKind::denied);
  EXPECT_EQ(kind(gate.logon(Interface::optical_port, "guess")), ErrorKind::denied);
  EXPECT_EQ(kind(gate.logon(Interface::optical_port, "cal-pw")), ErrorKind::locked);
  EXPECT_EQ(kind(gate.write(kMultiplier, Value{std::int64_t{2}}, Session{99})), ErrorKind::denied);
}

TEST_F(GateTest, ALockedPortSaysHowManySecondsAreLeftRoundedUp) {
  configure(2);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(gate.logon(Interface::optical_port, "guess"));
  auto refused = gate.logon(Interface::optical_port, "config-pw");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("locked for another 600 s"), std::string::npos)
      << refused.error().message;
}

}  // namespace
}  // namespace meter::kernel

namespace meter::kernel {
namespace {

TEST_F(GateTest, TheSealingPlugRefusesEveryWriteThroughTheOpticalPortAndOnlyThere) {
  configure(3);
  add_logger();
  gate.set_sealed(true, SealKind::optical_plug);
  for (const auto& id : {kNote, kSwitchPoints, kOverride, kMultiplier}) {
    auto r = gate.write(id, Value{std::int64_t{4}}, configurator);
    ASSERT_FALSE(r) << id.to_string();
    EXPECT_EQ(r.error().kind, ErrorKind::sealed);
    EXPECT_NE(r.error().message.find("sealing plug"), std::string::npos);
  }
  auto conf = gate.logon(Interface::optical_port, "config-pw");
  ASSERT_TRUE(conf);
  EXPECT_FALSE(gate.write(ParameterGate::kElectronicSeal, Value{true}, *conf));
  EXPECT_EQ(gate.seal_state(), 0b0100);
  EXPECT_TRUE(changes.empty());
  EXPECT_EQ(gate.counter(EventCounter::configuration), 0);
  // Comms is not behind the plug: category 3 with the logger configures remotely.
  EXPECT_TRUE(gate.write(kNote, Value{std::int64_t{4}},
                         Requester{Interface::comms, Role::configurator, "rf"}));
}

TEST_F(GateTest, ATariffParameterIsCountedAndRecordedAndSealedOnlyWhereTheProductSaysSo) {
  SecurityConfig c;
  c.sealing_category = 3;
  c.configurator_password_hash = *hash_password("config-pw", HashCost::minimal);
  c.sealable = {kOverride};
  ASSERT_TRUE(gate.configure(c));
  add_logger();
  gate.set_sealed(true, SealKind::cover);
  ASSERT_TRUE(gate.write(kSwitchPoints, Value{std::int64_t{2}}, configurator));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].counter, EventCounter::configuration);
  EXPECT_EQ(changes[0].counter_value, 1);
  EXPECT_EQ(gate.counter(EventCounter::configuration), 1);
  auto sealed = gate.write(kOverride, Value{std::int64_t{4}}, configurator);
  ASSERT_FALSE(sealed);
  EXPECT_EQ(sealed.error().kind, ErrorKind::sealed);
  EXPECT_EQ(others[kOverride], 0);
  gate.set_sealed(false, SealKind::cover);
  ASSERT_TRUE(gate.write(kOverride, Value{std::int64_t{4}}, configurator));
  EXPECT_EQ(gate.counter(EventCounter::configuration), 2);
  // An operational parameter is neither counted nor sealed.
  ASSERT_TRUE(gate.write(kNote, Value{std::int64_t{4}}, configurator));
  EXPECT_EQ(gate.counter(EventCounter::configuration), 2);
  // Counted parameters are what the event logger is sized for.
  EXPECT_EQ(gate.sealable_parameters(), 6u);  // and the optical port's switch
}

TEST_F(GateTest, ACountedChangeOfACategoryThreeMeterNeedsTheEventLogger) {
  configure(3);
  add_logger();
  logger_ready = false;
  auto r = gate.write(kSwitchPoints, Value{std::int64_t{2}}, configurator);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("no event logger is recording"), std::string::npos);
  logger_ready = true;
  EXPECT_TRUE(gate.write(kSwitchPoints, Value{std::int64_t{2}}, configurator));
}

TEST_F(GateTest, AnObjectRestrictedToTheSiteIsRefusedThroughCommsAndPlugins) {
  configure(3);
  add_logger();
  gate.restrict_to_site(kPreset);
  for (auto via : {Interface::comms, Interface::plugin}) {
    auto r = gate.write(kPreset, Value{std::int64_t{777}}, Requester{via, Role::configurator, "x"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::denied);
    EXPECT_NE(r.error().message.find("only on site"), std::string::npos);
  }
  EXPECT_EQ(others[kPreset], 0);
  EXPECT_TRUE(gate.write(kPreset, Value{std::int64_t{777}}, configurator));
  EXPECT_EQ(others[kPreset], 777);
}

TEST_F(GateTest, EveryRefusedWriteIsPublishedWithObjectInterfaceRoleAndReason) {
  configure(1);
  gate.set_sealed(true, SealKind::cover);
  EXPECT_FALSE(gate.write(kMultiplier, Value{std::int64_t{10}}, configurator));
  EXPECT_FALSE(gate.write(kGain, Value{std::int64_t{1}},
                          Requester{Interface::comms, Role::reader, "rf_mqtt"}));
  EXPECT_FALSE(gate.write(kMultiplier, Value{std::int64_t{10}}, Session{}));  // no logon
  EXPECT_FALSE(gate.write(obis("1-0:1.8.0"), Value{std::int64_t{0}}, configurator));
  ASSERT_EQ(refusals.size(), 4u);
  EXPECT_EQ(refusals[0].id, kMultiplier);
  EXPECT_EQ(refusals[0].via, Interface::optical_port);
  EXPECT_EQ(refusals[0].role, mask(Role::configurator));
  EXPECT_EQ(refusals[0].kind, ErrorKind::sealed);
  EXPECT_NE(refusals[0].reason.find("sealed configuration parameter"), std::string::npos);
  EXPECT_EQ(refusals[1].via, Interface::comms);
  EXPECT_EQ(refusals[1].who, "rf_mqtt");
  EXPECT_EQ(refusals[1].kind, ErrorKind::denied);
  EXPECT_EQ(refusals[2].kind, ErrorKind::denied);
  EXPECT_EQ(refusals[3].id, obis("1-0:1.8.0"));
  EXPECT_TRUE(changes.empty());
  // A write that is done publishes no refusal.
  gate.set_sealed(false, SealKind::cover);
  ASSERT_TRUE(gate.write(kMultiplier, Value{std::int64_t{10}}, configurator));
  EXPECT_EQ(refusals.size(), 4u);
}

}  // namespace
}  // namespace meter::kernel

namespace meter::kernel {
namespace {

TEST(GatePowerCycle, APluginsSettingsAreKeptAndAChangeIsCountedOrRefusedWhileSealed) {
  MapStore store;
  std::vector<ParameterChanged> changes;
  std::vector<WriteRefused> refusals;
  {
    PoweredGate p(store, kStart);
    // Commissioning: the first settings are kept without a step.
    ASSERT_TRUE(p.gate.settings("tou", "seasons = 2\n", ""));
    EXPECT_EQ(p.gate.kept_settings("tou"), std::optional<std::string>("seasons = 2\n"));
    EXPECT_EQ(p.gate.counter(EventCounter::configuration), 0);
    EXPECT_TRUE(p.gate.settings("tou", "seasons = 2\n", ""));  // unchanged
    EXPECT_EQ(p.gate.counter(EventCounter::configuration), 0);
  }
  {
    PoweredGate p(store, kStart);
    p.bus.subscribe<ParameterChanged>([&](const ParameterChanged& e) { changes.push_back(e); });
    p.bus.subscribe<WriteRefused>([&](const WriteRefused& e) { refusals.push_back(e); });
    p.gate.set_sealed(true, SealKind::cover);
    // A check says what a start would meet, and changes nothing.
    EXPECT_FALSE(p.gate.settings("tou", "seasons = 3\n", "seasons", /*dry_run=*/true));
    auto sealed = p.gate.settings("tou", "seasons = 3\n", "seasons");
    ASSERT_FALSE(sealed);
    EXPECT_EQ(sealed.error().kind, ErrorKind::sealed);
    EXPECT_NE(sealed.error().message.find("the settings of plugin tou (seasons) differ"),
              std::string::npos)
        << sealed.error().message;
    EXPECT_EQ(p.gate.kept_settings("tou"), std::optional<std::string>("seasons = 2\n"));
    EXPECT_EQ(p.gate.counter(EventCounter::configuration), 0);
    ASSERT_EQ(refusals.size(), 1u);  // the start's, not the check's
    EXPECT_EQ(refusals[0].id, ParameterGate::kPluginSettings);
    EXPECT_TRUE(changes.empty());

    p.gate.set_sealed(false, SealKind::cover);
    ASSERT_TRUE(p.gate.settings("tou", "seasons = 3\n", "seasons"));
    EXPECT_EQ(p.gate.counter(EventCounter::configuration), 1);
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].id, ParameterGate::kPluginSettings);
    EXPECT_EQ(changes[0].counter, EventCounter::configuration);
    EXPECT_EQ(changes[0].who, "site file: tou (seasons)");
    EXPECT_EQ(changes[0].old_value.rfind("tou ", 0), 0u);
    EXPECT_NE(changes[0].old_value, changes[0].new_value);
  }
  // The new settings and the step survive the next power cycle together.
  PoweredGate p(store, kStart);
  EXPECT_EQ(p.gate.kept_settings("tou"), std::optional<std::string>("seasons = 3\n"));
  EXPECT_EQ(p.gate.counter(EventCounter::configuration), 1);
}

}  // namespace
}  // namespace meter::kernel
