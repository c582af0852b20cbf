// The plugin host, against a real Meter: every way a plugin can be wrong is refused or isolated
// with a named reason, and in every case the meter keeps metering with its registers intact.
#include "meter/kernel/plugin_host.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include <sys/socket.h>
#include <unistd.h>

#include "meter/kernel/meter.h"

namespace meter::kernel {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

const fs::path kFixtures = METER_FIXTURE_DIR;
const fs::path kPlugins = METER_PLUGIN_DIR;

class RecordingRelay final : public RelayDriver {
 public:
  std::uint32_t relays() const noexcept override { return 1; }
  Result<void> set_open(std::uint32_t relay, bool open) override {
    operations.emplace_back(relay, open);
    return {};
  }
  std::vector<std::pair<std::uint32_t, bool>> operations;
};

/// A meter fed 1 Wh of import per tick, a plugin host on it, a tariff register plugins may
/// only write with a granted capability.
class Rig {
 public:
  explicit Rig(PluginHostConfig config = {}) {
    MeterConfig c;
    c.metrology.service = *find_service("1e2w");
    c.metrology.channel_count = c.metrology.service->channels();
    c.metrology.energy_nwh_per_lsb = 1.0;
    c.metrology.volts_per_code.fill(0.01);
    c.metrology.amps_per_code.fill(0.001);
    auto made = Meter::create(c, time);
    if (!made) ADD_FAILURE() << made.error().message;
    meter = std::move(made.value());
    ObjectInfo rate;
    rate.id = obis("1-0:1.8.1");
    rate.type = ValueType::integer;
    rate.unit = Unit::watt_hour;
    rate.scaler = -3;
    rate.write_roles = mask(Role::configurator);
    rate.parameter_class = ParameterClass::configuration;
    rate.legally_relevant = true;
    rate.owner = "kernel";
    EXPECT_TRUE(meter->objects().add(
        rate, [this] { return Value{rate_mwh}; },
        [this](const Value& v) -> Result<void> {
          rate_mwh = std::get<std::int64_t>(v);
          return {};
        }));
    meter->bus().subscribe<PluginRefused>([this](const PluginRefused& e) { refused_events.push_back(e); });
    if (config.plugin_dirs.empty()) config.plugin_dirs = {kFixtures, kPlugins};
    config.log = [this](int, const std::string&, const std::string& line) { log.push_back(line); };
    host = std::make_unique<PluginHost>(
        PluginHostDeps{meter->bus(), meter->objects(), meter->gate(), meter->clock(), nvm, &relay},
        std::move(config));
  }

  /// One second of metering with 1 Wh imported.
  void tick() {
    AccumulatorReading r;
    r.interval = seconds{1};
    r.elements = 1;
    r.active_energy_lsb[0] = 1'000'000'000;  // 1 Wh, in nWh
    r.voltage_v[0] = 120;
    r.current_a[0] = 30;
    r.frequency_hz = 60;
    ASSERT_TRUE(meter->add(r));
    time.advance(seconds{1});
    meter->tick();
    ++ticks;
  }
  std::int64_t import_mwh() const { return meter->registers().mwh(EnergyRegister::import_active); }
  /// The meter still meters: one more tick adds exactly 1 Wh and nothing else changed.
  void expect_metering_continues() {
    const auto before = import_mwh();
    tick();
    EXPECT_EQ(import_mwh(), before + 1000);
    EXPECT_EQ(import_mwh(), ticks * 1000);
  }
  Refusal last_refusal() const { return host->refusals().empty() ? Refusal{} : host->refusals().back(); }

  VirtualTimeSource time{UtcTime{seconds{1'780'000'000}}};
  std::unique_ptr<Meter> meter;
  RamNvmStore nvm;
  RecordingRelay relay;
  std::int64_t rate_mwh = 5;
  std::int64_t ticks = 0;
  std::vector<PluginRefused> refused_events;
  std::vector<std::string> log;
  std::unique_ptr<PluginHost> host;
};

PluginSpec behave(const std::string& mode, std::set<std::string> granted = {}) {
  PluginSpec s;
  s.id = "behave";
  s.config.insert("mode", mode);
  s.granted = std::move(granted);
  return s;
}

PluginSpec by_id(const std::string& id) {
  PluginSpec s;
  s.id = id;
  return s;
}

/// A private copy of a fixture (library and manifest) that a test may sign or alter.
fs::path copy_fixture(const std::string& id, const fs::path& dir) {
  fs::create_directories(dir);
  fs::copy_file(kFixtures / (id + ".so"), dir / (id + ".so"), fs::copy_options::overwrite_existing);
  fs::copy_file(kFixtures / (id + ".toml"), dir / (id + ".toml"), fs::copy_options::overwrite_existing);
  return dir / (id + ".so");
}

fs::path temp_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("meter-host-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_signature(const fs::path& plugin, const SecretKey& key) {
  auto digest = sha256_loaded_image(plugin);
  ASSERT_TRUE(digest);
  std::ofstream(signature_path(plugin)) << to_hex(sign_plugin(*digest, key)) << '\n';
}

// ----- loading and the lifecycle ---------------------------------------------------------

TEST(PluginHost, LoadsStartsAndDeliversTicksToAPlugin) {
  Rig rig;
  ASSERT_TRUE(rig.host->load(behave("good")));
  EXPECT_EQ(rig.host->start_all(), 1u);
  for (int i = 0; i < 3; ++i) rig.tick();
  auto ticks = rig.meter->objects().read(obis("0-0:96.200.0"), Role::reader);
  ASSERT_TRUE(ticks);
  EXPECT_EQ(std::get<std::uint64_t>(*ticks), 3u);
  EXPECT_EQ(rig.meter->objects().find(obis("0-0:96.200.0"))->owner, "behave");
  EXPECT_EQ(rig.host->status("behave")->state, PluginState::started);
  EXPECT_EQ(rig.import_mwh(), 3000);
}

TEST(PluginHost, EachCallIntoAPluginIsMarkedWithItsHeapSlotAndTheMarkClearedAfter) {
  CallBreadcrumb crumb;
  PluginHostConfig config;
  config.breadcrumb = &crumb;
  Rig rig(config);
  ASSERT_TRUE(rig.host->load(behave("good")));
  ASSERT_TRUE(rig.host->load(by_id("hello")));
  ASSERT_EQ(rig.host->start_all(), 2u);
  rig.tick();
  // Each plugin called has a slot of its own, named for it; none is marked between calls.
  EXPECT_STREQ(crumb.heap_plugin[0], "behave");
  EXPECT_STREQ(crumb.heap_plugin[1], "hello");
  EXPECT_EQ(crumb.heap_plugin[2][0], '\0');
  EXPECT_EQ(crumb.slot.load(), -1);
  EXPECT_EQ(crumb.since_ms.load(), 0);
  // A plugin loaded again keeps its slot, so what it kept before still counts.
  crumb.heap_bytes[0].store(123);
  ASSERT_TRUE(rig.host->unload("behave"));
  ASSERT_TRUE(rig.host->load(behave("good")));
  ASSERT_EQ(rig.host->start_all(), 1u);
  rig.tick();
  EXPECT_STREQ(crumb.heap_plugin[0], "behave");
  EXPECT_EQ(crumb.heap_plugin[2][0], '\0');
  EXPECT_EQ(crumb.heap_bytes[0].load(), 123);
}

TEST(PluginHost, TheSdkExampleLoadsFromThePluginDirectory) {
  Rig rig;
  ASSERT_TRUE(rig.host->load(by_id("hello")));
  ASSERT_EQ(rig.host->start_all(), 1u);
  rig.tick();
  auto seen = rig.meter->objects().read(obis("0-0:96.128.0"), Role::reader);
  ASSERT_TRUE(seen);
  EXPECT_EQ(std::get<std::uint64_t>(*seen), 1u);
}

TEST(PluginHost, UnloadingDropsConnectionsAndObjectsBeforeClosing) {
  Rig rig;
  const auto objects_before = rig.meter->objects().size();
  const auto ticks_before = rig.meter->bus().subscribers<EnergyTick>();
  ASSERT_TRUE(rig.host->load(behave("good")));
  rig.host->start_all();
  EXPECT_EQ(rig.meter->bus().subscribers<EnergyTick>(), ticks_before + 1);
  EXPECT_EQ(rig.meter->objects().size(), objects_before + 2);
  ASSERT_TRUE(rig.host->unload("behave"));
  EXPECT_EQ(rig.meter->bus().subscribers<EnergyTick>(), ticks_before);
  EXPECT_EQ(rig.meter->objects().size(), objects_before);
  EXPECT_FALSE(rig.host->status("behave"));
  rig.expect_metering_continues();
}

TEST(PluginHost, StopKeepsStateInTheNvmNamespace) {
  Rig rig;
  ASSERT_TRUE(rig.host->load(behave("good")));
  rig.host->start_all();
  rig.tick();
  rig.tick();
  rig.host->stop_all();
  auto saved = rig.nvm.get("behave", "ticks");
  ASSERT_TRUE(saved && *saved);
  EXPECT_EQ(std::get<std::uint64_t>(**saved), 2u);
}

TEST(PluginHost, DependenciesStartFirstAndStopLast) {
  Rig rig;
  ASSERT_TRUE(rig.host->load(by_id("dependent")));  // loaded first, but needs "counting"
  ASSERT_TRUE(rig.host->load(behave("good")));
  EXPECT_EQ(rig.host->start_all(), 2u);
  EXPECT_EQ(rig.host->start_order(), (std::vector<std::string>{"behave", "dependent"}));
}

TEST(PluginHost, AMissingDependencyIsRefused) {
  Rig rig;
  ASSERT_TRUE(rig.host->load(by_id("dependent")));
  EXPECT_EQ(rig.host->start_all(), 0u);
  EXPECT_EQ(rig.last_refusal().reason, RefusalReason::dependency_missing);
  EXPECT_NE(rig.last_refusal().detail.find("counting"), std::string::npos);
  rig.expect_metering_continues();
}

// ----- refusals: each fixture for one named reason --------------------------------------

struct RefusalCase {
  std::string id;
  RefusalReason reason;
  std::string detail;  // part of the explanation
};

class Refused : public ::testing::TestWithParam<RefusalCase> {};

TEST_P(Refused, IsRefusedWithItsReasonAndTheMeterKeepsMetering) {
  Rig rig;
  rig.tick();
  const auto objects = rig.meter->objects().size();
  const auto result = rig.host->load(by_id(GetParam().id));
  ASSERT_FALSE(result);
  EXPECT_EQ(rig.last_refusal().reason, GetParam().reason) << result.error().message;
  EXPECT_NE(rig.last_refusal().detail.find(GetParam().detail), std::string::npos)
      << rig.last_refusal().detail;
  ASSERT_EQ(rig.refused_events.size(), 1u);
  EXPECT_EQ(rig.refused_events[0].reason, to_string(GetParam().reason));
  EXPECT_FALSE(rig.host->status(GetParam().id));
  EXPECT_EQ(rig.meter->objects().size(), objects);
  rig.expect_metering_continues();
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, Refused,
    ::testing::Values(RefusalCase{"abi-major", RefusalReason::abi_major, "major must match"},
                      RefusalCase{"abi-minor", RefusalReason::abi_minor, "newer than the host"},
                      RefusalCase{"no-entry", RefusalReason::missing_entry, "meter_plugin_entry"},
                      RefusalCase{"null-descriptor", RefusalReason::bad_descriptor, "NULL"},
                      RefusalCase{"bad-fields", RefusalReason::bad_descriptor, "create"},
                      RefusalCase{"mismatch", RefusalReason::manifest_mismatch, "someone-else"},
                      RefusalCase{"legal", RefusalReason::unsigned_plugin, "no OEM key"},
                      RefusalCase{"nothing-here", RefusalReason::not_found, "nothing-here.so"}),
    [](const auto& param_info) {
      std::string name = param_info.param.id;
      std::replace(name.begin(), name.end(), '-', '_');
      return name;
    });

TEST(PluginHost, AnOlderMinorWithoutOptionalFieldsLoads) {
  Rig rig;
  ASSERT_TRUE(rig.host->load(by_id("old-minor")));
  EXPECT_EQ(rig.host->start_all(), 1u);
}

TEST(PluginHost, AManifestBesideThatIsNotTheEmbeddedOneIsRefused) {
  const auto dir = temp_dir("manifest");
  const auto plugin = copy_fixture("behave", dir);
  std::ofstream(dir / "behave.toml", std::ios::app) << "# edited after the build\n";
  Rig rig;
  PluginSpec spec = behave("good");
  spec.path = plugin;
  EXPECT_FALSE(rig.host->load(spec));
  EXPECT_EQ(rig.last_refusal().reason, RefusalReason::manifest_mismatch);
  rig.expect_metering_continues();
}

TEST(PluginHost, AVersionOtherThanTheSkuWantsIsRefused) {
  Rig rig;
  PluginSpec spec = behave("good");
  spec.version = "2.0.0";
  EXPECT_FALSE(rig.host->load(spec));
  EXPECT_EQ(rig.last_refusal().reason, RefusalReason::version_mismatch);
}

TEST(PluginHost, InvalidConfigurationIsRefusedNamingKeyAndRule) {
  Rig rig;
  PluginSpec spec = behave("sideways");
  spec.config_source = "site.toml";
  EXPECT_FALSE(rig.host->load(spec));
  EXPECT_EQ(rig.last_refusal().reason, RefusalReason::config_invalid);
  EXPECT_NE(rig.last_refusal().detail.find("mode: \"sideways\" is not one of"), std::string::npos)
      << rig.last_refusal().detail;
}

TEST(PluginHost, ThrowingInCreateIsRefused) {
  Rig rig;
  EXPECT_FALSE(rig.host->load(behave("throw-create")));
  EXPECT_EQ(rig.last_refusal().reason, RefusalReason::create_failed);
  EXPECT_NE(rig.last_refusal().detail.find("exception"), std::string::npos);
  rig.expect_metering_continues();
}

TEST(PluginHost, ASettingRefusedInCreateIsAConfigurationRefusalNamingTheSetting) {
  Rig rig;
  EXPECT_FALSE(rig.host->load(behave("config-create")));
  const auto& r = rig.last_refusal();
  EXPECT_EQ(r.reason, RefusalReason::config_invalid);
  ASSERT_EQ(r.config_problems.size(), 1u);
  EXPECT_EQ(r.config_problems[0].key, "mode");
  EXPECT_EQ(r.config_problems[0].message, "refused on purpose in create");
  EXPECT_EQ(r.detail, "mode: refused on purpose in create");
  EXPECT_FALSE(rig.host->status("behave"));
  rig.expect_metering_continues();
}

TEST(PluginHost, SettingsRefusedInStartAreAConfigurationRefusalWithEachProblem) {
  Rig rig;
  ASSERT_TRUE(rig.host->load(behave("config-start")));
  EXPECT_EQ(rig.host->start_all(), 0u);
  const auto& r = rig.last_refusal();
  EXPECT_EQ(r.reason, RefusalReason::config_invalid);
  ASSERT_EQ(r.config_problems.size(), 2u);
  EXPECT_EQ(r.config_problems[0].key, "mode");
  EXPECT_EQ(r.config_problems[1].key, "");
  EXPECT_EQ(r.detail, "mode: refused on purpose in start (and 1 more)");
  EXPECT_FALSE(rig.host->status("behave"));
  rig.expect_metering_continues();
}

TEST(PluginHost, ThrowingOrFailingInStartIsRefusedAndLeavesNothingBehind) {
  for (const char* mode : {"throw-start", "error-start"}) {
    Rig rig;
    const auto subscribers = rig.meter->bus().subscribers<EnergyTick>();
    ASSERT_TRUE(rig.host->load(behave(mode)));
    EXPECT_EQ(rig.host->start_all(), 0u);
    EXPECT_EQ(rig.last_refusal().reason, RefusalReason::start_failed) << mode;
    EXPECT_FALSE(rig.host->status("behave"));
    EXPECT_EQ(rig.meter->bus().subscribers<EnergyTick>(), subscribers);
    rig.expect_metering_continues();
  }
}

TEST(PluginHost, DependentsOfAPluginThatFailedToStartAreRefused) {
  Rig rig;
  ASSERT_TRUE(rig.host->load(behave("throw-start")));
  ASSERT_TRUE(rig.host->load(by_id("dependent")));
  EXPECT_EQ(rig.host->start_all(), 0u);
  EXPECT_EQ(rig.last_refusal().reason, RefusalReason::dependency_missing);
}

// ----- isolation -------------------------------------------------------------------------

TEST(PluginHost, AHandlerThatThrowsIsCountedThenDisabled) {
  for (const char* mode : {"throw-handler", "error-handler"}) {
    PluginHostConfig config;
    config.fault_limit = 3;
    Rig rig(std::move(config));
    ASSERT_TRUE(rig.host->load(behave(mode)));
    ASSERT_EQ(rig.host->start_all(), 1u);
    rig.tick();
    rig.tick();
    EXPECT_EQ(rig.host->status("behave")->faults, 2u);
    EXPECT_EQ(rig.host->status("behave")->state, PluginState::started);
    rig.tick();
    EXPECT_EQ(rig.host->status("behave")->state, PluginState::disabled) << mode;
    EXPECT_EQ(rig.last_refusal().reason, RefusalReason::fault_limit);
    EXPECT_EQ(rig.host->status("behave")->subscriptions, 0u);
    EXPECT_FALSE(rig.meter->objects().find(obis("0-0:96.200.0")));
    for (int i = 0; i < 5; ++i) rig.tick();
    EXPECT_EQ(rig.host->status("behave")->faults, 3u);  // never called again
    EXPECT_EQ(rig.import_mwh(), 8000);
    rig.expect_metering_continues();
    ASSERT_TRUE(rig.host->unload("behave"));
  }
}

TEST(PluginHost, AnObjectNotInTheManifestIsRefused) {
  Rig rig;
  ASSERT_TRUE(rig.host->load(behave("unlisted-object")));
  EXPECT_EQ(rig.host->start_all(), 0u);
  EXPECT_EQ(rig.last_refusal().reason, RefusalReason::start_failed);
  EXPECT_NE(rig.last_refusal().detail.find("denied"), std::string::npos);
}

// ----- capabilities ----------------------------------------------------------------------

TEST(PluginHost, WritingALegalRegisterWithoutTheCapabilityIsDenied) {
  Rig rig;
  ASSERT_TRUE(rig.host->load(behave("write-legal")));
  rig.host->start_all();
  rig.tick();
  EXPECT_EQ(rig.rate_mwh, 5);  // untouched
  EXPECT_EQ(rig.host->status("behave")->faults, 1u);
  rig.expect_metering_continues();
}

TEST(PluginHost, AManifestCapabilityTheSkuDoesNotGrantIsRefused) {
  Rig rig;
  PluginSpec spec = behave("write-legal");
  spec.id = "privileged";
  EXPECT_FALSE(rig.host->load(spec));
  EXPECT_EQ(rig.last_refusal().reason, RefusalReason::capability_not_granted);
  EXPECT_NE(rig.last_refusal().detail.find("relay"), std::string::npos);
}

std::set<std::string> kAllGrants{"relay", "write:tariff-registers", "nvm:dependent"};

TEST(PluginHost, AGrantedWriteCapabilityGoesThroughTheGate) {
  Rig rig;
  std::vector<ParameterChanged> changes;
  rig.meter->bus().subscribe<ParameterChanged>([&](const ParameterChanged& e) { changes.push_back(e); });
  PluginSpec spec = behave("write-legal", kAllGrants);
  spec.id = "privileged";
  ASSERT_TRUE(rig.host->load(spec)) << rig.last_refusal().detail;
  rig.host->start_all();
  rig.tick();
  EXPECT_EQ(rig.rate_mwh, 0);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].via, Interface::plugin);
  EXPECT_EQ(changes[0].who, "privileged");
}

TEST(PluginHost, TheGateStillRefusesASealedParameterToAGrantedPlugin) {
  Rig rig;
  rig.meter->gate().set_sealed(true, SealKind::electronic);
  PluginSpec spec = behave("write-legal", kAllGrants);
  spec.id = "privileged";
  ASSERT_TRUE(rig.host->load(spec));
  rig.host->start_all();
  rig.tick();
  EXPECT_EQ(rig.rate_mwh, 5);
}

TEST(PluginHost, TrippingTheRelayNeedsTheGrantedCapability) {
  Rig without;
  ASSERT_TRUE(without.host->load(behave("trip-relay")));
  without.host->start_all();
  without.tick();
  EXPECT_TRUE(without.relay.operations.empty());

  Rig with;
  PluginSpec spec = behave("trip-relay", kAllGrants);
  spec.id = "privileged";
  ASSERT_TRUE(with.host->load(spec));
  with.host->start_all();
  with.tick();
  ASSERT_EQ(with.relay.operations.size(), 1u);
  EXPECT_TRUE(with.relay.operations[0].second);
}

TEST(PluginHost, AnotherPluginsNvmNeedsTheGrantedCapability) {
  Rig without;
  ASSERT_TRUE(without.host->load(behave("nvm-other")));
  without.host->start_all();
  without.tick();
  EXPECT_FALSE(*without.nvm.get("dependent", "stolen"));
  EXPECT_EQ(without.host->status("behave")->faults, 1u);

  Rig with;
  PluginSpec spec = behave("nvm-other", kAllGrants);
  spec.id = "privileged";
  ASSERT_TRUE(with.host->load(spec));
  with.host->start_all();
  with.tick();
  EXPECT_TRUE(*with.nvm.get("dependent", "stolen"));
}

TEST(PluginHost, TheKernelsRegistersAreNeverAPluginsWhateverTheGrant) {
  {
    Rig rig;  // asks for nvm:kernel in its manifest, and the "SKU" grants it
    PluginSpec spec = behave("good", {"nvm:kernel"});
    spec.id = "greedy";
    EXPECT_FALSE(rig.host->load(spec));
    EXPECT_EQ(rig.last_refusal().reason, RefusalReason::capability_not_granted);
    EXPECT_NE(rig.last_refusal().detail.find("never granted"), std::string::npos);
  }
  {
    Rig rig;  // every grant there is, and it writes the kernel's namespace anyway
    PluginSpec spec = behave("nvm-kernel", kAllGrants);
    spec.granted.insert("nvm:kernel");
    spec.id = "privileged";
    ASSERT_TRUE(rig.host->load(spec));
    rig.host->start_all();
    rig.tick();
    EXPECT_FALSE(*rig.nvm.get("kernel", "registers"));
    EXPECT_EQ(rig.host->status("privileged")->faults, 1u);
  }
  {
    Rig rig;  // under the kernel's own id, its namespace would be the kernel's
    PluginSpec spec = behave("nvm-kernel");
    spec.id = "kernel";
    EXPECT_FALSE(rig.host->load(spec));
    EXPECT_EQ(rig.last_refusal().reason, RefusalReason::manifest_invalid);
    rig.expect_metering_continues();
  }
}

TEST(PluginHost, APluginsRefusalReachesTheWriterWithItsStatusAndReason) {
  Rig rig;
  ASSERT_TRUE(rig.host->load(behave("refuse-write")));
  rig.host->start_all();
  const Requester configurator{Interface::kernel, Role::configurator, "test"};
  auto written = rig.meter->gate().write(obis("0-0:96.200.2"), Value{std::int64_t{1}}, configurator);
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().kind, ErrorKind::unavailable);
  EXPECT_NE(written.error().message.find("locked out for 1440 min on purpose"), std::string::npos)
      << written.error().message;
  EXPECT_EQ(rig.host->status("behave")->faults, 0u);
}

TEST(PluginHost, PluginEventsReachTheBus) {
  Rig rig;
  std::vector<PluginEvent> events;
  rig.meter->bus().subscribe<PluginEvent>([&](const PluginEvent& e) { events.push_back(e); });
  ASSERT_TRUE(rig.host->load(behave("publish")));
  rig.host->start_all();
  rig.tick();
  rig.tick();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].source, "behave");
  EXPECT_EQ(events[1].topic, "behave.tick");
  EXPECT_EQ(std::string(events[1].payload.begin(), events[1].payload.end()), "2");
}

// ----- signatures and software identification -------------------------------------------

TEST(PluginHost, ASignedLegallyRelevantPluginLoadsAndJoinsTheSoftwareId) {
  const auto dir = temp_dir("signed");
  const auto plugin = copy_fixture("legal", dir);
  const KeyPair oem = make_key_pair();
  write_signature(plugin, oem.secret_key);
  PluginHostConfig config;
  config.oem_public_key = oem.public_key;
  config.plugin_dirs = {dir};
  Rig rig(std::move(config));
  const auto kernel_only = rig.host->software_identity();
  ASSERT_TRUE(rig.host->load(by_id("legal"))) << rig.last_refusal().detail;
  rig.host->start_all();
  const auto with_plugin = rig.host->software_identity();
  ASSERT_EQ(with_plugin.components.size(), 2u);
  EXPECT_EQ(with_plugin.components[1].name, "legal");
  EXPECT_EQ(with_plugin.components[1].sha256, *sha256_loaded_image(plugin));
  EXPECT_NE(with_plugin.combined, kernel_only.combined);

  ASSERT_TRUE(rig.host->register_identity_objects());
  auto signature = rig.meter->objects().read(obis("1-0:0.2.8"), Role::public_read);
  ASSERT_TRUE(signature);
  EXPECT_EQ(std::get<std::string>(*signature), with_plugin.combined_hex());
  auto firmware = rig.meter->objects().read(obis("1-0:0.2.0"), Role::public_read);
  ASSERT_TRUE(firmware);
  EXPECT_NE(std::get<std::string>(*firmware).find(with_plugin.display_text()), std::string::npos);
  ASSERT_TRUE(rig.host->unload("legal"));
  EXPECT_EQ(std::get<std::string>(*rig.meter->objects().read(obis("1-0:0.2.8"), Role::public_read)),
            kernel_only.combined_hex());
}

TEST(PluginHost, AnUnsignedLegallyRelevantPluginIsRefused) {
  const auto dir = temp_dir("unsigned");
  copy_fixture("legal", dir);
  PluginHostConfig config;
  config.oem_public_key = make_key_pair().public_key;
  config.plugin_dirs = {dir};
  Rig rig(std::move(config));
  EXPECT_FALSE(rig.host->load(by_id("legal")));
  EXPECT_EQ(rig.last_refusal().reason, RefusalReason::unsigned_plugin);
  rig.expect_metering_continues();
}

TEST(PluginHost, APluginSignedWithAnotherKeyIsRefused) {
  const auto dir = temp_dir("wrongkey");
  const auto plugin = copy_fixture("legal", dir);
  write_signature(plugin, make_key_pair().secret_key);
  PluginHostConfig config;
  config.oem_public_key = make_key_pair().public_key;
  config.plugin_dirs = {dir};
  Rig rig(std::move(config));
  EXPECT_FALSE(rig.host->load(by_id("legal")));
  EXPECT_EQ(rig.last_refusal().reason, RefusalReason::bad_signature);
}

TEST(PluginHost, ABinaryAlteredAfterSigningIsRefused) {
  const auto dir = temp_dir("altered");
  const auto plugin = copy_fixture("legal", dir);
  const KeyPair oem = make_key_pair();
  write_signature(plugin, oem.secret_key);
  std::ofstream(plugin, std::ios::binary | std::ios::app) << '\0';  // one byte more
  PluginHostConfig config;
  config.oem_public_key = oem.public_key;
  config.plugin_dirs = {dir};
  Rig rig(std::move(config));
  EXPECT_FALSE(rig.host->load(by_id("legal")));
  EXPECT_EQ(rig.last_refusal().reason, RefusalReason::bad_signature);
  EXPECT_NE(rig.last_refusal().detail.find("altered"), std::string::npos);
  rig.expect_metering_continues();
}

TEST(PluginHost, AModuleVendorsKeySignsOnlyThePluginsItIsTrustedFor) {
  const auto dir = temp_dir("vendor");
  const auto plugin = copy_fixture("legal", dir);
  const KeyPair vendor = make_key_pair();
  write_signature(plugin, vendor.secret_key);
  for (const auto& [plugins, loads] :
       std::vector<std::pair<std::vector<std::string>, bool>>{
           {{"legal"}, true}, {{}, true}, {{"tou", "demand"}, false}}) {
    PluginHostConfig config;
    config.oem_public_key = make_key_pair().public_key;  // the OEM's: not the one that signed
    config.vendor_keys = {TrustedKey{"acme", vendor.public_key, plugins}};
    config.plugin_dirs = {dir};
    Rig rig(std::move(config));
    EXPECT_EQ(static_cast<bool>(rig.host->load(by_id("legal"))), loads) << plugins.size();
    if (!loads) EXPECT_EQ(rig.last_refusal().reason, RefusalReason::bad_signature);
  }
}

TEST(PluginHost, APluginCreatedButNeverStartedIsDestroyedWithTheHost) {
  Rig rig;
  ASSERT_TRUE(rig.host->load(behave("good")));
  EXPECT_EQ(rig.host->status("behave")->state, PluginState::created);
  rig.host.reset();  // as meterd --check ends: the plugin's destroy is still owed
  EXPECT_EQ(std::count(rig.log.begin(), rig.log.end(), "destroyed"), 1);
}

TEST(PluginHost, TheProductDecidesWhatIsLegallyRelevant) {
  {
    Rig rig;  // behave declares itself not relevant; the product says it is
    PluginSpec spec = behave("good");
    spec.legally_relevant = true;
    EXPECT_FALSE(rig.host->load(spec));
    EXPECT_EQ(rig.last_refusal().reason, RefusalReason::not_legally_relevant);
    rig.expect_metering_continues();
  }
  {
    Rig rig;  // the product approves another build
    PluginSpec spec = behave("good");
    spec.software_id = Sha256{};
    EXPECT_FALSE(rig.host->load(spec));
    EXPECT_EQ(rig.last_refusal().reason, RefusalReason::not_approved);
  }
  {
    Rig rig;  // the build it approves
    PluginSpec spec = behave("good");
    spec.software_id = *sha256_loaded_image(kFixtures / "behave.so");
    EXPECT_TRUE(rig.host->load(spec)) << rig.last_refusal().detail;
  }
}

// ----- many cycles (run under the asan preset for leaks) -------------------------------

TEST(PluginHost, ALoadStartStopUnloadCycleRepeatsAThousandTimes) {
  Rig rig;
  const auto objects = rig.meter->objects().size();
  const auto subscribers = rig.meter->bus().subscribers<EnergyTick>();
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(rig.host->load(behave("good"))) << "cycle " << i;
    ASSERT_EQ(rig.host->start_all(), 1u) << "cycle " << i;
    rig.tick();
    rig.host->stop_all();
    ASSERT_TRUE(rig.host->unload("behave"));
  }
  EXPECT_EQ(rig.meter->objects().size(), objects);
  EXPECT_EQ(rig.meter->bus().subscribers<EnergyTick>(), subscribers);
  EXPECT_EQ(rig.import_mwh(), 1000 * 1000);
  auto saved = rig.nvm.get("behave", "ticks");
  ASSERT_TRUE(saved && *saved);
  EXPECT_EQ(std::get<std::uint64_t>(**saved), 1u);
}

// ----- ports, watches and timers (ABI 1.2) ---------------------------------------------

/// The porter fixture on one end of a socket pair; the test speaks its line protocol on the
/// other end while the host's poll_io serves the plugin, as meterd's loop does between ticks.
class PortRig {
 public:
  PortRig() {
    SecurityConfig security;
    security.configurator_password_hash = *hash_password("config-pw", HashCost::minimal);
    security.reader_password_hash = *hash_password("read-pw", HashCost::minimal);
    security.max_failed_logons = 3;
    security.lockout = std::chrono::minutes(5);
    EXPECT_TRUE(rig.meter->gate().configure(security));
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    PluginSpec spec;
    spec.id = "porter";
    spec.config.insert("fd", std::int64_t{fds[1]});
    spec.granted = {"io", "port:optical"};
    EXPECT_TRUE(rig.host->load(spec)) << rig.last_refusal().detail;
    EXPECT_EQ(rig.host->start_all(), 1u);
  }
  ~PortRig() {
    rig.host.reset();
    ::close(fds[0]);
    ::close(fds[1]);
  }

  /// Sends one command and returns the plugin's answer (bounded: 50 polls of at most 100 ms).
  std::string ask(const std::string& command) {
    const std::string line = command + "\n";
    EXPECT_EQ(::write(fds[0], line.data(), line.size()), static_cast<ssize_t>(line.size()));
    return answer();
  }
  std::string answer() {
    for (int i = 0; i < 50; ++i) {
      if (auto end = received.find('\n'); end != std::string::npos) {
        std::string one = received.substr(0, end);
        received.erase(0, end + 1);
        return one;
      }
      rig.host->poll_io(std::chrono::milliseconds(100));
      char buffer[256];
      for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) {
        received.append(buffer, static_cast<std::size_t>(n));
      }
    }
    return "(no answer)";
  }

  Rig rig;
  int fds[2] = {-1, -1};
  std::string received;
};

TEST(PluginHost, APortLogsOnWithAPasswordAndWritesThroughTheGateWithItsRole) {
  PortRig port;
  EXPECT_EQ(port.ask("write 1-0:1.8.1 7"), "denied");  // no logon yet
  EXPECT_EQ(port.ask("logon read-pw"), "ok 2");
  EXPECT_EQ(port.ask("write 1-0:1.8.1 7"), "denied");  // a reader may not
  EXPECT_EQ(port.ask("logon config-pw"), "ok 4");
  EXPECT_EQ(port.ask("write 1-0:1.8.1 7"), "ok");
  EXPECT_EQ(port.rig.rate_mwh, 7);
  EXPECT_EQ(port.rig.meter->gate().counter(EventCounter::configuration), 1);
  EXPECT_EQ(port.ask("read 1-0:1.8.1"), "ok 7");
  port.rig.meter->gate().set_sealed(true, SealKind::cover);
  EXPECT_EQ(port.ask("write 1-0:1.8.1 8"), "sealed");
  EXPECT_EQ(port.rig.rate_mwh, 7);
  EXPECT_EQ(port.ask("write 9-9:9.9.9 1"), "not found");
  EXPECT_EQ(port.ask("describe 1-0:1.8.1"), "ok -3 ");
  EXPECT_EQ(port.ask("objects"), "ok " + std::to_string(port.rig.meter->objects().size()));
  EXPECT_EQ(port.ask("logoff"), "ok");
  EXPECT_EQ(port.ask("write 1-0:1.8.1 9"), "denied");
  port.rig.expect_metering_continues();
}

TEST(PluginHost, WrongPasswordsThroughAPortLockItOut) {
  PortRig port;
  std::vector<PortLocked> locks;
  port.rig.meter->bus().subscribe<PortLocked>([&](const PortLocked& e) { locks.push_back(e); });
  for (int i = 0; i < 3; ++i) EXPECT_EQ(port.ask("logon guess"), "denied");
  ASSERT_EQ(locks.size(), 1u);
  EXPECT_EQ(locks[0].via, Interface::optical_port);
  EXPECT_EQ(port.ask("logon config-pw"), "locked");
}

TEST(PluginHost, TimersFireOnceFromThePollLoop) {
  PortRig port;
  EXPECT_EQ(port.ask("timer 0"), "ok");
  EXPECT_EQ(port.answer(), "fired");
  EXPECT_FALSE(port.rig.host->poll_io(std::chrono::milliseconds(0)) > 0);
}

TEST(PluginHost, StoppingAPortDropsItsWatchesAndLogons) {
  PortRig port;
  EXPECT_EQ(port.ask("logon config-pw"), "ok 4");
  EXPECT_TRUE(port.rig.host->io_pending());
  port.rig.host->stop_all();
  EXPECT_FALSE(port.rig.host->io_pending());
  EXPECT_TRUE(port.rig.host->unload("porter"));
}

TEST(PluginHost, APortNeedsItsCapabilitiesGranted) {
  Rig rig;
  PluginSpec spec;
  spec.id = "porter";
  spec.config.insert("fd", std::int64_t{0});
  spec.granted = {"io"};
  EXPECT_FALSE(rig.host->load(spec));
  EXPECT_EQ(rig.last_refusal().reason, RefusalReason::capability_not_granted);
}

}  // namespace
}  // namespace meter::kernel
