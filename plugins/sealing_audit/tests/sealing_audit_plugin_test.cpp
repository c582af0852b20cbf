// The sealing_audit plugin on the SDK's fake host: records, the hash chain, tampering found at
// start (edited, deleted, reordered, removed at the end, deleted whole), capacity and the two
// policies of a full log, and the ready flag the kernel's gate reads.
#include <gtest/gtest.h>

#include <meter/plugins/sealing_audit/audit_format.h>
#include <meter/sdk/testing/fake_host.h>

extern "C" const meter_plugin_descriptor* meter_plugin_entry(void);

namespace meter::plugins::sealing_audit {
namespace {

using sdk::obis;
using sdk::Value;

constexpr sdk::Obis kLog = obis("0-0:99.98.0");
constexpr sdk::Obis kStatus = obis("0-0:99.98.1");
constexpr sdk::Obis kReady = obis("0-0:128.6.6");
constexpr sdk::Obis kCalibration = obis("0-0:128.6.1");
constexpr sdk::Obis kConfiguration = obis("0-0:128.6.2");
constexpr sdk::Obis kSealable = obis("0-0:128.6.5");

sdk::testing::FakeHostOptions options(std::string when_full = "refuse", std::int64_t capacity = 0) {
  sdk::testing::FakeHostOptions o;
  o.config.insert("when_full", when_full);
  o.config.insert("capacity_records", capacity);
  return o;
}

class Rig {
 public:
  explicit Rig(sdk::testing::FakeHostOptions o = options()) : host(meter_plugin_entry(), std::move(o)) {
    host.set_object(kSealable, Value{std::uint64_t{2}});
    host.set_object(kCalibration, Value{std::uint64_t{0}});
    host.set_object(kConfiguration, Value{std::uint64_t{0}});
  }
  void start() {
    ASSERT_EQ(host.create(), sdk::Status::ok);
    ASSERT_EQ(host.start(), sdk::Status::ok);
  }
  void restart() {
    ASSERT_EQ(host.stop(), sdk::Status::ok);
    host.destroy();
    start();
  }
  /// A configuration change as the kernel's gate publishes it, with the counter stepped.
  void change(const char* old_value, const char* new_value, std::int32_t via = METER_INTERFACE_OPTICAL_PORT) {
    ++configuration;
    host.set_object(kConfiguration, Value{std::uint64_t{configuration}});
    meter_parameter_changed e{};
    e.time_utc_ms = host.now_utc_ms();
    e.id = obis("0-0:128.6.4");
    e.old_value = old_value;
    e.new_value = new_value;
    e.who = "optical-port";
    e.via = via;
    e.role = METER_ROLE_CONFIGURATOR;
    e.parameter_class = METER_PARAMETER_CONFIGURATION;
    e.counter = 2;
    e.counter_value = static_cast<std::int32_t>(configuration);
    ASSERT_EQ(host.publish(e), 0u);
  }
  /// The log object, decoded (reading it marks every record read).
  Log log() {
    const auto v = host.read(kLog);
    EXPECT_TRUE(v.has_value());
    if (!v) return {};
    const auto& bytes = std::get<std::vector<std::uint8_t>>(*v);
    std::string error;
    auto decoded = decode_log(bytes.data(), bytes.size(), error);
    EXPECT_TRUE(decoded.has_value()) << error;
    return decoded ? *decoded : Log{};
  }
  std::string status() { return std::get<std::string>(*host.read(kStatus)); }
  bool ready() { return std::get<bool>(*host.read(kReady)); }
  std::vector<std::uint8_t> stored(std::uint64_t seq) {
    return std::get<std::vector<std::uint8_t>>(*host.nvm("r" + std::to_string(seq)));
  }

  sdk::testing::FakeHost host;
  std::uint64_t configuration = 0;
};

TEST(SealingAudit, RecordsAChangeWithCounterParameterTimeOldAndNewValueInterfaceAndRole) {
  Rig rig;
  rig.start();
  rig.change("true", "false");
  const auto log = rig.log();
  ASSERT_EQ(log.entries.size(), 1u);
  const auto& r = log.entries[0].record;
  EXPECT_EQ(r.kind, RecordKind::parameter_changed);
  EXPECT_EQ(r.sequence, 1u);
  EXPECT_EQ(r.counter, 1);
  EXPECT_EQ(obis_text(r.obis), "0-0:128.6.4");
  EXPECT_EQ(r.time_utc_ms, rig.host.now_utc_ms());
  EXPECT_EQ(r.old_value, "true");
  EXPECT_EQ(r.new_value, "false");
  EXPECT_EQ(r.via, METER_INTERFACE_OPTICAL_PORT);
  EXPECT_EQ(r.role, 4);
  EXPECT_FALSE(log.tampered);
  const auto line = format_record(r);
  EXPECT_NE(line.find("001"), std::string::npos) << line;
  EXPECT_NE(line.find("configuration"), std::string::npos) << line;
  EXPECT_NE(line.find("optical-port/configurator"), std::string::npos) << line;
}

TEST(SealingAudit, RecordsSealsPowerTimeLogonsLockoutsAndPlugins) {
  Rig rig;
  rig.start();
  const meter_seal_changed seal{rig.host.now_utc_ms(), 3, 0};
  rig.host.publish(seal);
  const meter_time_event fail{rig.host.now_utc_ms()};
  rig.host.publish(fail);
  const meter_power_restore restore{rig.host.now_utc_ms() + 60000, 60000, 1};
  rig.host.publish(restore);
  const meter_time_changed jump{rig.host.now_utc_ms(), rig.host.now_utc_ms() + 3600000, 1};
  rig.host.publish(jump);
  const meter_logon_failed logon{rig.host.now_utc_ms(), METER_INTERFACE_OPTICAL_PORT, 3, "wrong-password"};
  rig.host.publish(logon);
  const meter_port_locked lock{rig.host.now_utc_ms(), METER_INTERFACE_OPTICAL_PORT, 900000};
  rig.host.publish(lock);
  const meter_plugin_loaded loaded{rig.host.now_utc_ms(), "tou", "1.0.0", "abcdef0123456789abcdef", 1};
  rig.host.publish(loaded);
  rig.host.publish(loaded);  // the same binary again (a power-up): no new record
  const meter_plugin_loaded updated{rig.host.now_utc_ms(), "tou", "1.1.0", "99cdef0123456789abcdef", 1};
  rig.host.publish(updated);
  const meter_plugin_refused refused{rig.host.now_utc_ms(), "rogue", "bad-signature", "altered"};
  rig.host.publish(refused);

  const auto log = rig.log();
  std::vector<RecordKind> kinds;
  for (const auto& e : log.entries) kinds.push_back(e.record.kind);
  EXPECT_EQ(kinds, (std::vector<RecordKind>{RecordKind::seal_changed, RecordKind::plugin_loaded,
                                            RecordKind::plugin_updated,
                                            RecordKind::plugin_refused}));
  std::vector<RecordKind> events;
  for (const auto& e : log.events.entries) events.push_back(e.record.kind);
  EXPECT_EQ(events, (std::vector<RecordKind>{RecordKind::power_fail, RecordKind::power_restore,
                                             RecordKind::time_changed, RecordKind::logon_failed,
                                             RecordKind::port_locked}));
  EXPECT_EQ(log.entries[0].record.who, "optical port sealing plug");
  EXPECT_EQ(log.entries[0].record.new_value, "broken");
  EXPECT_EQ(log.events.entries[3].record.who, "wrong-password, failure 3");
  EXPECT_EQ(log.entries[2].record.old_value, "1.0.0");
  EXPECT_EQ(log.entries[2].record.new_value, "1.1.0");
  const auto report = format_report(log);
  EXPECT_NE(report.find("EVENTS"), std::string::npos) << report;
  EXPECT_NE(report.find("logon-failed"), std::string::npos) << report;
}

TEST(SealingAudit, ALogThatIsKeptIsIntactAfterARestart) {
  Rig rig;
  rig.start();
  rig.change("1", "2");
  rig.change("2", "3");
  rig.restart();
  const auto log = rig.log();
  EXPECT_FALSE(log.tampered) << log.finding;
  EXPECT_EQ(log.entries.size(), 2u);
  EXPECT_NE(rig.status().find("chain intact"), std::string::npos);
  EXPECT_TRUE(rig.host.published().empty());
}

class Tampering : public ::testing::Test {
 protected:
  void SetUp() override {
    rig.start();
    rig.change("1", "2");
    rig.change("2", "3");
    rig.change("3", "4");
  }
  void expect_found(const std::string& what) {
    rig.restart();
    const auto log = rig.log();
    EXPECT_TRUE(log.tampered);
    EXPECT_NE(log.finding.find(what), std::string::npos) << log.finding;
    EXPECT_NE(rig.status().find("TAMPERED"), std::string::npos);
    ASSERT_FALSE(rig.host.published().empty());
    EXPECT_EQ(rig.host.published().back().first, "sealing_audit.tampered");
    EXPECT_EQ(log.entries.back().record.kind, RecordKind::tamper_found);
    EXPECT_EQ(rig.host.self_test(), sdk::Status::error);
  }
  Rig rig;
};

TEST_F(Tampering, AnEditedRecordIsFound) {
  auto bytes = rig.stored(2);
  // The new value "3" of record 2: change it to "9" and leave the chain as it was.
  auto body = std::vector<std::uint8_t>(bytes.begin(), bytes.end() - kChainBytes);
  auto r = *decode_body(body.data(), body.size());
  r.new_value = "9";
  auto edited = encode_body(r);
  edited.insert(edited.end(), bytes.end() - kChainBytes, bytes.end());
  rig.host.set_nvm("r2", Value{edited});
  expect_found("record 2 was altered");
}

TEST_F(Tampering, ADeletedRecordIsFound) {
  rig.host.set_nvm("r2", Value{std::vector<std::uint8_t>{}});
  expect_found("record 2 was deleted");
}

TEST_F(Tampering, ReorderedRecordsAreFound) {
  const auto a = rig.stored(1);
  const auto b = rig.stored(2);
  rig.host.set_nvm("r1", Value{b});
  rig.host.set_nvm("r2", Value{a});
  expect_found("reordered");
}

TEST_F(Tampering, ReorderedRecordsWithTheirSequenceNumbersSwappedAreFound) {
  auto swap_sequence = [](std::vector<std::uint8_t> stored, std::uint64_t seq) {
    std::vector<std::uint8_t> body(stored.begin(), stored.end() - kChainBytes);
    auto r = *decode_body(body.data(), body.size());
    r.sequence = seq;
    auto out = encode_body(r);
    out.insert(out.end(), stored.end() - kChainBytes, stored.end());
    return out;
  };
  const auto a = rig.stored(1);
  const auto b = rig.stored(2);
  rig.host.set_nvm("r1", Value{swap_sequence(b, 1)});
  rig.host.set_nvm("r2", Value{swap_sequence(a, 2)});
  expect_found("was altered");
}

TEST_F(Tampering, TheNewestRecordRemovedWithTheIndexRewoundIsFound) {
  // Rewind "next" in the index by one, as an editor hiding the last change would.
  auto meta = std::get<std::vector<std::uint8_t>>(*rig.host.nvm("meta"));
  meta[8] = static_cast<std::uint8_t>(meta[8] - 1);
  rig.host.set_nvm("meta", Value{meta});
  expect_found("the newest records were removed");
}

TEST(SealingAudit, AWholeLogDeletedIsFoundFromTheKernelsCounters) {
  Rig rig;  // an empty store, but the kernel's configuration counter reads 3
  rig.host.set_object(kConfiguration, Value{std::uint64_t{3}});
  rig.start();
  const auto log = rig.log();
  EXPECT_TRUE(log.tampered);
  EXPECT_NE(log.finding.find("the log is missing while the event counters read calibration 0, "
                             "configuration 3"),
            std::string::npos)
      << log.finding;
  EXPECT_EQ(log.entries.back().record.kind, RecordKind::tamper_found);
}

TEST_F(Tampering, AChangeTheLogDoesNotHoldIsFoundFromTheCounter) {
  rig.host.set_object(kConfiguration, Value{std::uint64_t{4}});
  expect_found("the configuration counter reads 4 but the newest record says 3");
}

TEST(SealingAudit, CapacityIsTenTimesTheSealableParameters) {
  Rig rig;
  rig.host.set_object(kSealable, Value{std::uint64_t{3}});
  rig.start();
  EXPECT_EQ(rig.log().capacity, 30u);
  rig.host.set_object(kSealable, Value{std::uint64_t{500}});
  EXPECT_TRUE(rig.ready());
  EXPECT_EQ(rig.log().capacity, 1000u);
}

TEST(SealingAudit, AFullLogThatRefusesIsNotReadyAndKeepsEveryRecord) {
  Rig rig(options("refuse", 10));
  rig.start();
  for (int i = 0; i < 10; ++i) rig.change("a", "b");
  EXPECT_FALSE(rig.ready());
  const meter_seal_changed seal{rig.host.now_utc_ms(), 1, 1};
  rig.host.publish(seal);
  const meter_time_event fail{rig.host.now_utc_ms()};
  rig.host.publish(fail);  // an event: the event log has room
  const auto log = rig.log();
  EXPECT_EQ(log.entries.size(), 10u);
  EXPECT_EQ(log.entries.front().record.sequence, 1u);
  EXPECT_EQ(log.dropped, 1u);
  EXPECT_EQ(log.events.entries.size(), 1u);
  EXPECT_FALSE(rig.ready());  // reading does not make room when refusing
}

TEST(SealingAudit, AFullLogOverwritesOnlyRecordsAlreadyRead) {
  Rig rig(options("overwrite-read", 10));
  rig.start();
  for (int i = 0; i < 10; ++i) rig.change("a", "b");
  EXPECT_FALSE(rig.ready());
  (void)rig.log();  // read out: every record so far may now be overwritten
  EXPECT_TRUE(rig.ready());
  rig.change("b", "c");
  auto log = rig.log();
  EXPECT_EQ(log.entries.size(), 10u);
  EXPECT_EQ(log.entries.front().record.sequence, 2u);
  EXPECT_EQ(log.entries.back().record.new_value, "c");
  EXPECT_FALSE(rig.host.nvm("r1").has_value());
  rig.restart();
  log = rig.log();
  EXPECT_FALSE(log.tampered) << log.finding;  // the anchor carries the chain over the overwrite
  EXPECT_EQ(log.entries.size(), 10u);
}

TEST(SealingAudit, ProvidesLegallyRelevantObjectsTheGateCanTrust) {
  Rig rig;
  rig.start();
  const auto* ready = rig.host.object_info(kReady);
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->legally_relevant, 1);
  EXPECT_EQ(ready->type, METER_VALUE_BOOLEAN);
  const auto* log = rig.host.object_info(kLog);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->read_roles & 1, 0);  // the public cannot read the log
  EXPECT_TRUE(rig.ready());
}

// 4 CCR 4027.2 table S.3.1: the change log is for changes. Nothing an outsider can do without a
// password, nor the power and the clock, takes room from it.
TEST(SealingAudit, NoFloodOfFailedLogonsOutagesOrRefusedWritesFillsTheChangeLog) {
  Rig rig(options("refuse", 10));
  rig.start();
  for (std::uint32_t i = 1; i <= 200; ++i) {
    const meter_logon_failed logon{rig.host.now_utc_ms(), METER_INTERFACE_OPTICAL_PORT, i,
                                   "wrong-password"};
    rig.host.publish(logon);
    rig.host.advance_ms(1000);
  }
  for (int i = 0; i < 50; ++i) {
    const meter_time_event fail{rig.host.now_utc_ms()};
    rig.host.publish(fail);
    rig.host.advance_ms(60000);
    const meter_power_restore restore{rig.host.now_utc_ms(), 60000, 1};
    rig.host.publish(restore);
  }
  EXPECT_TRUE(rig.ready());
  rig.change("1", "2");
  const auto log = rig.log();
  ASSERT_EQ(log.entries.size(), 1u);
  EXPECT_EQ(log.entries[0].record.kind, RecordKind::parameter_changed);
  EXPECT_EQ(log.dropped, 0u);
  EXPECT_EQ(log.events.capacity, 200u);
  EXPECT_LE(log.events.entries.size(), 200u);
}

TEST(SealingAudit, RepeatedFailedLogonsOfAPeriodAreCountedIntoOneRecordWithFirstAndLastTime) {
  Rig rig;
  rig.start();
  const auto start = rig.host.now_utc_ms();
  for (std::uint32_t i = 1; i <= 36; ++i) {
    const meter_logon_failed logon{rig.host.now_utc_ms(), METER_INTERFACE_OPTICAL_PORT, i,
                                   "wrong-password"};
    rig.host.publish(logon);
    rig.host.advance_ms(10000);
  }
  // The first is recorded in full; the 35 repeats wait for the end of their hour.
  EXPECT_EQ(rig.log().events.entries.size(), 1u);
  rig.host.advance_ms(3600000);
  const meter_time_event fail{rig.host.now_utc_ms()};
  rig.host.publish(fail);
  const auto log = rig.log();
  ASSERT_EQ(log.events.entries.size(), 3u);
  const auto& first = log.events.entries[0].record;
  EXPECT_EQ(first.kind, RecordKind::logon_failed);
  EXPECT_EQ(first.time_utc_ms, start);
  const auto& summary = log.events.entries[1].record;
  EXPECT_EQ(summary.kind, RecordKind::events_coalesced);
  EXPECT_EQ(summary.via, METER_INTERFACE_OPTICAL_PORT);
  EXPECT_EQ(summary.old_value, "logon-failed");
  EXPECT_EQ(summary.new_value, "35 more");
  EXPECT_NE(summary.who.find("from " + format_time(start + 10000, true) + " to " +
                             format_time(start + 35 * 10000, true)),
            std::string::npos)
      << summary.who;
  EXPECT_EQ(log.events.coalesced, 35u);
  EXPECT_EQ(log.events.entries[2].record.kind, RecordKind::power_fail);
}

TEST(SealingAudit, RepeatsCountedBeforeAPowerCutAreWrittenAtTheNextStart) {
  Rig rig;
  rig.start();
  for (std::uint32_t i = 1; i <= 5; ++i) {
    const meter_logon_failed logon{rig.host.now_utc_ms(), METER_INTERFACE_COMMS, i, "locked"};
    rig.host.publish(logon);
  }
  ASSERT_TRUE(rig.host.nvm("repeats").has_value());  // counted in NVM, not only in RAM
  // The power goes (no stop()); the meter starts again from what its NVM holds.
  Rig after;
  for (const char* key : {"events.meta", "e1", "repeats"}) {
    auto v = rig.host.nvm(key);
    ASSERT_TRUE(v.has_value()) << key;
    after.host.set_nvm(key, *v);
  }
  after.start();
  const auto log = after.log();
  ASSERT_EQ(log.events.entries.size(), 2u);
  EXPECT_EQ(log.events.entries[1].record.kind, RecordKind::events_coalesced);
  EXPECT_EQ(log.events.entries[1].record.new_value, "4 more");
  EXPECT_FALSE(log.tampered) << log.finding;
}

TEST(SealingAudit, ARefusedWriteIsRecordedWithObjectInterfaceRoleAndReason) {
  Rig rig;
  rig.start();
  const meter_write_refused refused{rig.host.now_utc_ms(), obis("0-0:13.0.1"),
                                    METER_INTERFACE_OPTICAL_PORT, 4, METER_STATUS_SEALED,
                                    "optical-port", "the optical port's sealing plug is fitted"};
  rig.host.publish(refused);
  const auto log = rig.log();
  EXPECT_TRUE(log.entries.empty());
  ASSERT_EQ(log.events.entries.size(), 1u);
  const auto& r = log.events.entries[0].record;
  EXPECT_EQ(r.kind, RecordKind::write_refused);
  EXPECT_EQ(obis_text(r.obis), "0-0:13.0.1");
  EXPECT_EQ(r.via, METER_INTERFACE_OPTICAL_PORT);
  EXPECT_EQ(r.role, 4);
  EXPECT_EQ(r.old_value, "sealed");
  const auto line = format_record(r);
  EXPECT_NE(line.find("write-refused"), std::string::npos) << line;
  EXPECT_NE(line.find("0-0:13.0.1  by optical-port/configurator"), std::string::npos) << line;
  EXPECT_NE(line.find("sealed: the optical port's sealing plug is fitted"), std::string::npos)
      << line;
}

TEST(SealingAudit, AnInterfaceGetsABoundedNumberOfFullRecordsPerPeriod) {
  Rig rig;
  rig.start();
  for (std::uint8_t f = 0; f < 100; ++f) {  // a hundred different objects
    const meter_write_refused refused{rig.host.now_utc_ms(), {0, 0, 96, 1, f, 255},
                                      METER_INTERFACE_COMMS, 1, METER_STATUS_DENIED, "rf_mqtt",
                                      "no such object"};
    rig.host.publish(refused);
  }
  rig.restart();  // an orderly stop writes what was counted
  const auto log = rig.log();
  ASSERT_EQ(log.events.entries.size(), 17u);
  EXPECT_EQ(log.events.entries.back().record.kind, RecordKind::events_coalesced);
  EXPECT_EQ(log.events.entries.back().record.new_value, "84 more");
  EXPECT_NE(log.events.entries.back().record.who.find("other objects"), std::string::npos);
}

TEST(SealingAudit, SaysHowFullTheChangeLogIsAndWarnsFromTheThreshold) {
  Rig rig(options("refuse", 10));
  rig.start();
  const sdk::Obis fill = obis("0-0:99.98.2");
  EXPECT_EQ(std::get<std::uint64_t>(*rig.host.read(fill)), 0u);
  for (int i = 0; i < 8; ++i) rig.change("a", "b");
  EXPECT_EQ(std::get<std::uint64_t>(*rig.host.read(fill)), 80u);
  EXPECT_EQ(rig.status().find("WARNING"), std::string::npos) << rig.status();
  rig.change("a", "b");
  EXPECT_EQ(std::get<std::uint64_t>(*rig.host.read(fill)), 90u);
  EXPECT_NE(rig.status().find("WARNING: log 90 % full"), std::string::npos) << rig.status();
  EXPECT_TRUE(rig.ready());
}

}  // namespace
}  // namespace meter::plugins::sealing_audit
