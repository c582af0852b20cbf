// The rf_mqtt plugin with the SDK's fake host against a real mosquitto broker on 127.0.0.1:
// readings, last gasp and restore, events, commands through the gate (right and wrong
// passwords, lockout, sealed, malformed, repeated, retained), the status and its will, a broker
// that goes away and comes back, connections that never finish, and settings refused.
#include <gtest/gtest.h>
#include <meter/plugins/demand/events.h>
#include <meter/plugins/tou/events.h>
#include <meter/sdk/testing/fake_host.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "mqtt_test_support.h"

extern "C" const meter_plugin_descriptor* meter_plugin_entry(void);

namespace meter::plugins::rf_mqtt {
namespace {

using nlohmann::json;
using sdk::obis;
using sdk::Status;
using sdk::Value;
using sdk::testing::FakeHost;
using sdk::testing::FakeHostOptions;
using testing::Broker;
using testing::HeadEnd;

constexpr const char* kMeter = "MPR2S-000001";
constexpr const char* kConfiguratorPassword = "head-end-configurator";
constexpr const char* kReaderPassword = "head-end-reader";
constexpr sdk::Obis kImport = obis("1-0:1.8.0");
constexpr sdk::Obis kExport = obis("1-0:2.8.0");
constexpr sdk::Obis kNet = obis("1-0:16.8.0");
constexpr sdk::Obis kRateA = obis("1-0:1.8.1");
constexpr sdk::Obis kRateC = obis("1-0:1.8.3");
constexpr sdk::Obis kMaxDemand = obis("1-0:1.6.0");
constexpr sdk::Obis kDemandResetObject = obis("0-0:10.0.1");
constexpr sdk::Obis kConfigParameter = obis("1-0:0.4.2");  // a sealable configuration parameter
constexpr sdk::Obis kLinkState = obis("0-0:128.50.0");
constexpr sdk::Obis kConnects = obis("0-0:128.50.1");
constexpr sdk::Obis kDisconnects = obis("0-0:128.50.2");
constexpr sdk::Obis kSent = obis("0-0:128.50.3");
constexpr sdk::Obis kReceived = obis("0-0:128.50.4");
constexpr sdk::Obis kRefused = obis("0-0:128.50.5");
constexpr sdk::Obis kDropped = obis("0-0:128.50.6");
constexpr sdk::Obis kLastError = obis("0-0:128.50.7");
constexpr sdk::Obis kBroker = obis("0-0:128.50.8");
/// 2026-01-05T17:00:00Z: a quarter-hour boundary.
constexpr std::int64_t kStartMs = 1'767'632'400'000;

std::string topic(const std::string& kind) {
  return std::string("meters/") + kMeter + "/" + kind;
}

class RfMqtt : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Broker::available()) {
      GTEST_SKIP() << METER_MOSQUITTO_BROKER << " is missing: scripts/setup installs mosquitto";
    }
    broker_ = std::make_unique<Broker>();
    ASSERT_TRUE(broker_->running()) << "the test broker did not start";
    head_end_ = std::make_unique<HeadEnd>(broker_->port());
    ASSERT_TRUE(head_end_->ready()) << "the head-end could not subscribe";
  }

  FakeHostOptions options(int port = 0) {
    FakeHostOptions o;
    o.config.insert("broker_port", port != 0 ? port : broker_->port());
    o.config.insert("meter_id", kMeter);
    o.config.insert("reconnect_min_s", 1);
    o.config.insert("reconnect_max_s", 4);
    o.config.insert("connect_timeout_s", 3);
    o.granted = {"io", "port:comms"};
    o.passwords = {{kConfiguratorPassword, 4}, {kReaderPassword, 2}};
    o.start_time_utc_ms = kStartMs;
    return o;
  }

  /// Starts the plugin with a meter behind it: registers, a rate register, a maximum demand,
  /// the demand reset and a sealable configuration parameter.
  void start(FakeHostOptions o) {
    host_ = std::make_unique<FakeHost>(meter_plugin_entry(), std::move(o));
    set_register(kImport, 1'000'000);
    set_register(kExport, 250'000);
    set_register(kNet, 750'000);
    set_register(kRateA, 600'000);
    set_register(kRateC, 400'000);
    host_->set_object(kMaxDemand, Value{std::int64_t{3'250'000}});
    host_->describe_object(kMaxDemand, 0, METER_PARAMETER_READ_ONLY, 27, -3);
    host_->set_object(kDemandResetObject, Value{true});
    host_->describe_object(kDemandResetObject, 4, METER_PARAMETER_OPERATIONAL);
    host_->set_object(kConfigParameter, Value{std::int64_t{1}});
    host_->describe_object(kConfigParameter, 4, METER_PARAMETER_CONFIGURATION);
    ASSERT_EQ(host_->create(), Status::ok);
    ASSERT_EQ(host_->start(), Status::ok);
  }
  void start() { ASSERT_NO_FATAL_FAILURE(start(options())); }

  void set_register(const sdk::Obis& id, std::int64_t mwh) {
    host_->set_object(id, Value{mwh});
    host_->describe_object(id, 0, METER_PARAMETER_READ_ONLY, 30, -3);
  }

  /// Serves the plugin's socket and the head-end's until `done` (at most ~5 s of polling).
  template <class Done>
  bool pump_until(Done done, int rounds = 500) {
    for (int i = 0; i < rounds; ++i) {
      host_->run_io(5);
      if (head_end_) head_end_->pump(5);
      if (done()) return true;
    }
    return false;
  }

  std::string text(const sdk::Obis& id) {
    auto v = host_->read(id);
    return v ? std::get<std::string>(*v) : std::string("(none)");
  }
  std::uint64_t count(const sdk::Obis& id) {
    auto v = host_->read(id);
    return v ? std::get<std::uint64_t>(*v) : 0;
  }
  bool link_up() { return text(kLinkState) == "up"; }

  void wait_up() {
    ASSERT_TRUE(pump_until([&] { return link_up(); })) << text(kLastError);
  }

  /// Sends a command and returns its reply (the reply whose id is `id`).
  json command(const json& body) {
    const auto id = body.value("id", json(nullptr));
    const auto before = head_end_->on(topic("reply")).size();
    head_end_->publish(topic("cmd"), body.dump());
    json reply;
    const bool got = pump_until([&] {
      const auto replies = head_end_->on(topic("reply"));
      for (std::size_t i = before; i < replies.size(); ++i) {
        const auto r = replies[i].json();
        if (r.value("id", json(nullptr)) == id) {
          reply = r;
          return true;
        }
      }
      return false;
    });
    EXPECT_TRUE(got) << "no reply to " << body.dump();
    return reply;
  }

  /// Every tick of 1 s until the clock reads `until_ms`, importing 250 mWh each.
  void run_until(std::int64_t until_ms) {
    while (host_->now_utc_ms() < until_ms) ASSERT_EQ(host_->tick(1000, 250), 0u);
  }

  std::unique_ptr<Broker> broker_;
  std::unique_ptr<HeadEnd> head_end_;
  std::unique_ptr<FakeHost> host_;
};

// ----- the link and the uplink ------------------------------------------------------------

TEST_F(RfMqtt, ConnectsAndPublishesARetainedBirthAndAReading) {
  start();
  wait_up();
  EXPECT_EQ(count(kConnects), 1u);
  EXPECT_EQ(text(kBroker), "127.0.0.1:" + std::to_string(broker_->port()));
  ASSERT_TRUE(pump_until([&] { return !head_end_->on(topic("reading")).empty(); }));
  const auto status = head_end_->on(topic("status"));
  ASSERT_FALSE(status.empty());
  const auto birth = status.front().json();
  EXPECT_EQ(birth["state"], "online");
  EXPECT_EQ(birth["meter"], kMeter);
  EXPECT_EQ(birth["comms"], "rf");
  EXPECT_EQ(birth["plugin"], "rf_mqtt");
  // A head-end that subscribes later still finds the status: it is retained.
  HeadEnd late(broker_->port(), topic("status"), "late-head-end");
  ASSERT_TRUE(late.ready());
  for (int i = 0; i < 200 && late.received.empty(); ++i) late.pump(5);
  ASSERT_FALSE(late.received.empty());
  EXPECT_TRUE(late.received.front().retained);
  EXPECT_EQ(late.received.front().json()["state"], "online");
}

TEST_F(RfMqtt, ReadingsCarryTheRegistersRatesAndMaximumDemandEveryInterval) {
  start();
  wait_up();
  ASSERT_TRUE(pump_until([&] { return head_end_->on(topic("reading")).size() == 1; }));
  run_until(kStartMs + 14 * 60'000);
  ASSERT_FALSE(pump_until([&] { return head_end_->on(topic("reading")).size() > 1; }, 20))
      << "a reading before the interval ended";
  set_register(kImport, 1'225'000);
  run_until(kStartMs + 15 * 60'000);
  ASSERT_TRUE(pump_until([&] { return head_end_->on(topic("reading")).size() == 2; }));
  const auto r = head_end_->on(topic("reading")).back();
  EXPECT_EQ(r.qos, 1);
  const auto body = r.json();
  EXPECT_EQ(body["meter"], kMeter);
  EXPECT_EQ(body["seq"], 2);
  EXPECT_EQ(body["time"], "2026-01-05T17:15:00Z");
  EXPECT_EQ(body["time_valid"], true);
  const auto& regs = body["registers"];
  EXPECT_EQ(regs["1-0:1.8.0"], json::parse(R"({"value":1225000,"scaler":-3,"unit":"Wh"})"));
  EXPECT_EQ(regs["1-0:2.8.0"]["value"], 250'000);
  EXPECT_EQ(regs["1-0:16.8.0"]["value"], 750'000);
  EXPECT_EQ(regs["1-0:1.8.1"]["value"], 600'000);
  EXPECT_EQ(regs["1-0:1.8.3"]["value"], 400'000);
  EXPECT_EQ(regs["1-0:1.6.0"], json::parse(R"({"value":3250000,"scaler":-3,"unit":"W"})"));
  EXPECT_FALSE(regs.contains("1-0:1.8.2")) << "an object the meter does not have";
  EXPECT_FALSE(regs.contains("0-0:10.0.1")) << "not in the reading's patterns";
}

TEST_F(RfMqtt, WhileTheTimeIsUnknownReadingsFollowMeteredTime) {
  auto o = options();
  o.time_valid = false;
  o.config.insert("reading_interval_min", 1);
  start(std::move(o));
  wait_up();
  ASSERT_TRUE(pump_until([&] { return head_end_->on(topic("reading")).size() == 1; }));
  for (int i = 0; i < 59; ++i) ASSERT_EQ(host_->tick(1000, 10), 0u);
  ASSERT_FALSE(pump_until([&] { return head_end_->on(topic("reading")).size() > 1; }, 20));
  ASSERT_EQ(host_->tick(1000, 10), 0u);
  ASSERT_TRUE(pump_until([&] { return head_end_->on(topic("reading")).size() == 2; }));
  EXPECT_EQ(head_end_->on(topic("reading")).back().json()["time_valid"], false);
}

TEST_F(RfMqtt, LastGaspOnPowerFailAndTheOutageLengthOnRestore) {
  start();
  wait_up();
  ASSERT_EQ(host_->power_fail(), 0u);
  // The last gasp is in the socket before the handler returns: the head-end gets it even if
  // the meter never runs its loop again.
  for (int i = 0; i < 200 && head_end_->on(topic("outage")).empty(); ++i) head_end_->pump(5);
  ASSERT_EQ(head_end_->on(topic("outage")).size(), 1u);
  const auto gasp = head_end_->on(topic("outage")).front();
  EXPECT_EQ(gasp.qos, 1);
  EXPECT_EQ(gasp.json()["event"], "last-gasp");
  EXPECT_EQ(gasp.json()["time"], "2026-01-05T17:00:00Z");
  ASSERT_EQ(host_->power_restore(90'500), 0u);
  ASSERT_TRUE(pump_until([&] { return head_end_->on(topic("outage")).size() == 2; }));
  const auto restore = head_end_->on(topic("outage")).back().json();
  EXPECT_EQ(restore["event"], "power-restore");
  EXPECT_EQ(restore["outage_s"], 90);
  EXPECT_EQ(restore["outage_ms"], 90'500);
}

TEST_F(RfMqtt, AnOrderlyStopLeavesARetainedOfflineStatusAndNoWill) {
  start();
  wait_up();
  ASSERT_EQ(host_->power_fail(), 0u);
  ASSERT_EQ(host_->stop(), Status::ok);
  host_->destroy();
  ASSERT_TRUE(pump_until([&] {
    const auto s = head_end_->on(topic("status"));
    return !s.empty() && s.back().json()["state"] == "offline";
  }));
  // Had the broker published the will, the retained status would say link-lost.
  HeadEnd late(broker_->port(), topic("status"), "late-head-end");
  for (int i = 0; i < 200 && late.received.empty(); ++i) late.pump(5);
  ASSERT_FALSE(late.received.empty());
  EXPECT_EQ(late.received.back().json(),
            json::parse(std::string(R"({"meter":")") + kMeter +
                        R"(","state":"offline","reason":"power-fail"})"));
}

TEST_F(RfMqtt, MeterEventsGoToTheEventTopic) {
  start();
  wait_up();
  meter_parameter_changed pc{};
  pc.time_utc_ms = kStartMs;
  pc.id = kConfigParameter;
  pc.old_value = "1";
  pc.new_value = "2";
  pc.who = "configurator";
  pc.via = METER_INTERFACE_OPTICAL_PORT;
  pc.counter = 2;
  pc.counter_value = 17;
  ASSERT_EQ(host_->publish(pc), 0u);
  meter_tou_rate_changed rc{};
  rc.struct_size = sizeof rc;
  rc.rate = 3;
  rc.previous_rate = 1;
  rc.reason = METER_TOU_REASON_SCHEDULE;
  rc.time_utc_ms = kStartMs;
  ASSERT_EQ(host_->publish_topic(METER_TOU_RATE_CHANGED_TOPIC,
                                 std::string_view(reinterpret_cast<const char*>(&rc), sizeof rc)),
            0u);
  meter_seal_changed sc{kStartMs, 1, 1};
  ASSERT_EQ(host_->publish(sc), 0u);
  ASSERT_TRUE(pump_until([&] { return head_end_->on(topic("event")).size() == 3; }));
  const auto events = head_end_->on(topic("event"));
  EXPECT_EQ(events[0].json(), json::parse(std::string(R"({"event":"parameter-changed",
      "time":"2026-01-05T17:00:00Z","obis":"1-0:0.4.2","old":"1","new":"2","who":"configurator",
      "via":"optical-port","counter":2,"counter_value":17,"meter":")") +
                                          kMeter + "\"}"));
  EXPECT_EQ(events[1].json()["event"], "rate-changed");
  EXPECT_EQ(events[1].json()["rate"], "C");
  EXPECT_EQ(events[1].json()["previous"], "A");
  EXPECT_EQ(events[1].json()["reason"], "schedule");
  EXPECT_EQ(events[2].json()["event"], "seal-changed");
  EXPECT_EQ(events[2].json()["seal"], "cover");
  EXPECT_EQ(events[2].json()["sealed"], true);
}

TEST_F(RfMqtt, DemandResetEventsListTheFoldedMaxima) {
  start();
  wait_up();
  meter_demand_reset r{};
  r.struct_size = sizeof r;
  r.quantities = 1;
  r.reset_count = 3;
  r.time_utc_ms = kStartMs;
  r.lockout_ms = 86'400'000;
  r.maximum_mw[0] = 3'250'000;
  r.maximum_time_utc_ms[0] = kStartMs - 900'000;
  r.cumulative_mw[0] = 9'000'000;
  const std::uint8_t code[6] = {1, 0, 1, 6, 0, 255};
  std::memcpy(r.obis[0], code, sizeof code);
  ASSERT_EQ(host_->publish_topic(METER_DEMAND_RESET_TOPIC,
                                 std::string_view(reinterpret_cast<const char*>(&r), sizeof r)),
            0u);
  ASSERT_TRUE(pump_until([&] { return !head_end_->on(topic("event")).empty(); }));
  const auto e = head_end_->on(topic("event")).front().json();
  EXPECT_EQ(e["event"], "demand-reset");
  EXPECT_EQ(e["count"], 3);
  EXPECT_EQ(e["lockout_s"], 86'400);
  EXPECT_EQ(e["quantities"], json::parse(R"([{"obis":"1-0:1.6.0","maximum_mw":3250000,
      "maximum_time":"2026-01-05T16:45:00Z","cumulative_mw":9000000}])"));
}

// ----- commands --------------------------------------------------------------------------

TEST_F(RfMqtt, PingIsAnsweredWithTheMetersTime) {
  start();
  wait_up();
  const auto reply = command({{"id", "p1"}, {"action", "ping"}});
  EXPECT_EQ(reply["status"], "ok");
  EXPECT_EQ(reply["action"], "ping");
  EXPECT_EQ(reply["time"], "2026-01-05T17:00:00Z");
  EXPECT_EQ(reply["time_valid"], true);
  EXPECT_EQ(count(kReceived), 1u);
}

TEST_F(RfMqtt, DemandResetWithTheRightPasswordWritesTheResetThroughTheGate) {
  start();
  wait_up();
  const auto reply =
      command({{"id", "r1"}, {"password", kConfiguratorPassword}, {"action", "demand-reset"}});
  EXPECT_EQ(reply, json::parse(R"({"id":"r1","action":"demand-reset","status":"ok"})"));
  ASSERT_EQ(host_->kernel_writes().size(), 1u);
  EXPECT_EQ(sdk::to_string(host_->kernel_writes()[0].first), "0-0:10.0.1");
  EXPECT_EQ(host_->kernel_writes()[0].second, Value{true});
  EXPECT_EQ(host_->sessions(), 0u) << "the logon lasts for the command only";
}

TEST_F(RfMqtt, DemandResetIsDeniedWithAWrongPasswordOrTooLittleRole) {
  start();
  wait_up();
  EXPECT_EQ(command({{"id", "r2"}, {"password", "guess"}, {"action", "demand-reset"}})["status"],
            "denied");
  EXPECT_EQ(
      command({{"id", "r3"}, {"password", kReaderPassword}, {"action", "demand-reset"}})["status"],
      "denied");
  EXPECT_EQ(command({{"id", "r4"}, {"action", "demand-reset"}})["status"], "denied");
  EXPECT_TRUE(host_->kernel_writes().empty());
}

TEST_F(RfMqtt, WrongPasswordsLockThePortAndTheRightOneIsThenRefusedToo) {
  start();
  wait_up();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(command({{"id", i}, {"password", "guess"}, {"action", "demand-reset"}})["status"],
              "denied");
  }
  const auto reply =
      command({{"id", 9}, {"password", kConfiguratorPassword}, {"action", "demand-reset"}});
  EXPECT_EQ(reply["status"], "locked");
  EXPECT_TRUE(host_->kernel_writes().empty());
}

TEST_F(RfMqtt, AWriteToASealedParameterIsRefusedAndChangesNothing) {
  start();
  wait_up();
  host_->set_sealed(true);
  const json write = {{"id", "w1"},        {"password", kConfiguratorPassword},
                      {"action", "write"}, {"obis", "1-0:0.4.2"},
                      {"type", "integer"}, {"value", 5}};
  EXPECT_EQ(command(write)["status"], "sealed");
  EXPECT_EQ(host_->read(kConfigParameter), Value{std::int64_t{1}});
  EXPECT_TRUE(host_->kernel_writes().empty());
  // The demand reset is an operational parameter: the seal does not stop it.
  EXPECT_EQ(command({{"id", "r5"},
                     {"password", kConfiguratorPassword},
                     {"action", "demand-reset"}})["status"],
            "ok");
  host_->set_sealed(false);
  auto unsealed = write;
  unsealed["id"] = "w2";
  EXPECT_EQ(command(unsealed)["status"], "ok");
  EXPECT_EQ(host_->read(kConfigParameter), Value{std::int64_t{5}});
}

TEST_F(RfMqtt, ReadAndUntypedWriteUseTheObjectsDescription) {
  start();
  wait_up();
  const auto read = command({{"id", "q1"}, {"action", "read"}, {"obis", "1-0:1.8.0"}});
  EXPECT_EQ(read, json::parse(R"({"id":"q1","action":"read","obis":"1-0:1.8.0","status":"ok",
                                  "value":1000000,"scaler":-3,"unit":"Wh"})"));
  EXPECT_EQ(command({{"id", "q2"}, {"action", "read"}, {"obis", "1-0:99.99.0"}})["status"],
            "not-found");
  const auto w = command({{"id", "q3"},
                          {"password", kConfiguratorPassword},
                          {"action", "write"},
                          {"obis", "1-0:0.4.2"},
                          {"value", 7}});
  EXPECT_EQ(w["status"], "ok");
  EXPECT_EQ(host_->read(kConfigParameter), Value{std::int64_t{7}});
  const auto wrong = command({{"id", "q4"},
                              {"password", kConfiguratorPassword},
                              {"action", "write"},
                              {"obis", "1-0:0.4.2"},
                              {"value", "seven"}});
  EXPECT_EQ(wrong["status"], "type-mismatch");
  EXPECT_EQ(host_->read(kConfigParameter), Value{std::int64_t{7}});
}

TEST_F(RfMqtt, MalformedCommandsAreRefusedCountedLoggedAndChangeNothing) {
  start();
  wait_up();
  const std::vector<std::string> bad = {
      "not json at all",
      "[]",
      R"({"id":"m1"})",
      R"({"id":"m2","action":"format-disk"})",
      R"({"id":"m3","action":"demand-reset","password":"head-end-configurator","now":true})",
      R"({"id":"m4","action":"write","obis":"1-0:0.4.2","type":"integer","value":"9",
          "password":"head-end-configurator"})"};
  for (const auto& payload : bad) {
    const auto before = head_end_->on(topic("reply")).size();
    head_end_->publish(topic("cmd"), payload);
    ASSERT_TRUE(pump_until([&] { return head_end_->on(topic("reply")).size() == before + 1; }))
        << payload;
    const auto reply = head_end_->on(topic("reply")).back().json();
    EXPECT_EQ(reply["status"], "invalid") << payload;
    EXPECT_FALSE(reply.value("error", std::string{}).empty()) << payload;
  }
  EXPECT_EQ(head_end_->on(topic("reply"))[3].json()["id"], "m2");
  EXPECT_EQ(count(kRefused), bad.size());
  EXPECT_TRUE(host_->kernel_writes().empty());
  EXPECT_EQ(host_->failed_logons(), 0u) << "a refused command never tries a logon";
  EXPECT_EQ(host_->read(kConfigParameter), Value{std::int64_t{1}});
  const auto warnings = std::count_if(host_->log().begin(), host_->log().end(), [](const auto& l) {
    return l.level == METER_LOG_WARNING && l.message.find("command refused") != std::string::npos;
  });
  EXPECT_EQ(static_cast<std::size_t>(warnings), bad.size());
}

TEST_F(RfMqtt, ACommandDeliveredTwiceIsCarriedOutOnce) {
  start();
  wait_up();
  const json reset = {
      {"id", "dup-1"}, {"password", kConfiguratorPassword}, {"action", "demand-reset"}};
  EXPECT_EQ(command(reset)["status"], "ok");
  EXPECT_EQ(command(reset)["status"], "ok");
  EXPECT_EQ(host_->kernel_writes().size(), 1u);
}

TEST_F(RfMqtt, ARetainedCommandIsNeverCarriedOut) {
  head_end_->publish(
      topic("cmd"),
      json({{"id", "old"}, {"password", kConfiguratorPassword}, {"action", "demand-reset"}}).dump(),
      true);
  for (int i = 0; i < 20; ++i) head_end_->pump(5);
  start();
  wait_up();
  ASSERT_TRUE(pump_until([&] { return !head_end_->on(topic("reply")).empty(); }));
  const auto reply = head_end_->on(topic("reply")).front().json();
  EXPECT_EQ(reply["id"], "old");
  EXPECT_EQ(reply["status"], "invalid");
  EXPECT_TRUE(host_->kernel_writes().empty());
  head_end_->publish(topic("cmd"), "", true);  // clears the retained command
}

// ----- a broker that goes away, and one that is never there --------------------------------

TEST_F(RfMqtt, ReconnectsAfterTheBrokerRestartsAndSendsWhatWaited) {
  start();
  wait_up();
  broker_->stop();
  head_end_.reset();
  ASSERT_TRUE(pump_until([&] { return text(kLinkState) == "down"; }));
  EXPECT_EQ(count(kDisconnects), 1u);
  EXPECT_NE(text(kLastError).find("lost"), std::string::npos) << text(kLastError);
  // While the link is down the restore waits in the outbox.
  ASSERT_EQ(host_->power_restore(5'000), 0u);
  ASSERT_TRUE(broker_->start());
  head_end_ = std::make_unique<HeadEnd>(broker_->port());
  ASSERT_TRUE(head_end_->ready());
  bool up = false;
  for (int i = 0; i < 20 && !up; ++i) {
    host_->advance_steady_ms(1'000);  // the back-off's wait, on the fake steady clock
    up = pump_until([&] { return link_up(); }, 40);
  }
  ASSERT_TRUE(up) << text(kLastError);
  EXPECT_EQ(count(kConnects), 2u);
  ASSERT_TRUE(pump_until([&] { return !head_end_->on(topic("outage")).empty(); }));
  EXPECT_EQ(head_end_->on(topic("outage")).front().json()["event"], "power-restore");
  EXPECT_EQ(command({{"id", "after"}, {"action", "ping"}})["status"], "ok");
}

TEST_F(RfMqtt, WithoutABrokerTheMeterKeepsMeteringAndTheLinkReportsDown) {
  auto o = options(testing::free_port());  // nothing listens there
  o.config.insert("reading_interval_min", 1);
  o.config.insert("outbox_messages", 2);
  start(std::move(o));
  EXPECT_EQ(text(kLinkState), "down");
  EXPECT_NE(text(kLastError).find("Connection refused"), std::string::npos) << text(kLastError);
  run_until(kStartMs + 5 * 60'000);  // five readings; the outbox keeps the last two
  EXPECT_EQ(host_->faults(), 0u);
  EXPECT_EQ(count(kDropped), 3u);
  ASSERT_EQ(host_->power_fail(), 0u);
  EXPECT_EQ(count(kDropped), 4u) << "a last gasp with the link down is lost, and counted";
  EXPECT_EQ(count(kConnects), 0u);
  // Attempts go on, further apart each time, and never fault the plugin.
  for (int i = 0; i < 10; ++i) host_->advance_steady_ms(1'000);
  EXPECT_EQ(text(kLinkState), "down");
  EXPECT_EQ(host_->faults(), 0u);
}

TEST_F(RfMqtt, AConnectionThatNeverCompletesIsGivenUp) {
  // A listener whose accept queue is full: the kernel drops our SYNs, the connect hangs.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t size = sizeof a;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &size), 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  const int filler = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(::connect(filler, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  start(options(ntohs(a.sin_port)));
  EXPECT_EQ(text(kLinkState), "connecting");
  host_->run_io(20);
  EXPECT_EQ(text(kLinkState), "connecting");
  host_->advance_steady_ms(3'000);  // connect_timeout_s
  EXPECT_EQ(text(kLinkState), "down");
  EXPECT_NE(text(kLastError).find("took more than 3 s"), std::string::npos) << text(kLastError);
  EXPECT_EQ(host_->watches(), 0u) << "the unfinished socket is no longer watched";
  EXPECT_EQ(host_->faults(), 0u);
  ASSERT_EQ(host_->stop(), Status::ok);
  ::close(filler);
  ::close(listener);
}

TEST_F(RfMqtt, ABrokerNameIsLookedUpWithoutBlocking) {
  auto o = options();
  o.config.insert("broker_host", "localhost");
  start(std::move(o));
  EXPECT_EQ(text(kLinkState), "resolving");
  bool up = false;
  for (int i = 0; i < 200 && !up; ++i) {
    host_->advance_steady_ms(50);  // the lookup is polled on the service timer
    up = pump_until([&] { return link_up(); }, 2);
  }
  ASSERT_TRUE(up) << text(kLastError);
  EXPECT_EQ(command({{"id", "n1"}, {"action", "ping"}})["status"], "ok");
}

// ----- settings ----------------------------------------------------------------------------

TEST_F(RfMqtt, TheMeterIdComesFromTheSerialNumberWhenNotSet) {
  auto o = options();
  o.config.insert_or_assign("meter_id", "");
  host_ = std::make_unique<FakeHost>(meter_plugin_entry(), std::move(o));
  host_->set_object(obis("0-0:96.1.0"), Value{std::string(kMeter)});
  ASSERT_EQ(host_->create(), Status::ok);
  ASSERT_EQ(host_->start(), Status::ok);
  wait_up();
  ASSERT_TRUE(pump_until([&] { return !head_end_->on(topic("status")).empty(); }));
}

TEST_F(RfMqtt, WithoutAMeterIdTheModuleDoesNotStart) {
  auto o = options();
  o.config.insert_or_assign("meter_id", "");
  host_ = std::make_unique<FakeHost>(meter_plugin_entry(), std::move(o));
  ASSERT_EQ(host_->create(), Status::ok);
  EXPECT_EQ(host_->start(), Status::invalid_argument);
  EXPECT_EQ(host_->watches(), 0u);
}

TEST_F(RfMqtt, SettingsThatDoNotFitTogetherAreRefused) {
  auto o = options();
  o.config.insert_or_assign("reconnect_min_s", 60);
  o.config.insert_or_assign("reconnect_max_s", 10);
  host_ = std::make_unique<FakeHost>(meter_plugin_entry(), std::move(o));
  EXPECT_EQ(host_->create(), Status::invalid_argument);
  auto p = options();
  p.config.insert("password", "secret");
  host_ = std::make_unique<FakeHost>(meter_plugin_entry(), std::move(p));
  EXPECT_EQ(host_->create(), Status::invalid_argument);
}

TEST_F(RfMqtt, TheManifestCarriesTheApprovalAndTheScrollTimeConstraint) {
  host_ = std::make_unique<FakeHost>(meter_plugin_entry(), options());
  const auto& m = host_->manifest();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->legal_class, sdk::LegalClass::not_relevant);
  EXPECT_TRUE(m->has_capability("io"));
  EXPECT_TRUE(m->has_capability("port:comms"));
  ASSERT_TRUE(m->comms);
  EXPECT_EQ(m->comms->type, "rf");
  toml::table meter;
  meter.insert("display", toml::table{{"scroll_time_s", 8}});
  const auto broken = sdk::check_constraints(*m, meter);
  ASSERT_EQ(broken.size(), 1u);
  EXPECT_EQ(broken[0], "rf_mqtt requires display.scroll_time_s >= 10, the meter has 8");
  meter.insert_or_assign("display", toml::table{{"scroll_time_s", 10}});
  EXPECT_TRUE(sdk::check_constraints(*m, meter).empty());
}

TEST_F(RfMqtt, WithoutTheIoGrantTheModuleCannotWatchItsSocket) {
  auto o = options();
  o.granted = {"port:comms"};
  host_ = std::make_unique<FakeHost>(meter_plugin_entry(), std::move(o));
  ASSERT_EQ(host_->create(), Status::ok);
  EXPECT_NE(host_->start(), Status::ok);
}

}  // namespace
}  // namespace meter::plugins::rf_mqtt
