// The optical plugin in the fake host, spoken to over a real TCP connection on 127.0.0.1 by
// the C12.18 client (as meterctl does), while the test's thread runs the host's I/O loop.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include <meter/sdk/testing/fake_host.h>

#include "meter/c1218/client.h"
#include "meter/c1218/transport.h"

extern "C" const meter_plugin_descriptor* meter_plugin_entry(void);

namespace {

using meter::sdk::obis;
using meter::sdk::Status;
using meter::sdk::Value;
using meter::sdk::testing::FakeHost;
using meter::sdk::testing::FakeHostOptions;
using namespace std::chrono_literals;

FakeHostOptions options() {
  FakeHostOptions o;
  o.granted = {"io", "port:optical"};
  o.passwords = {{"cfg-pw", 4}, {"read-pw", 2}};
  o.max_failed_logons = 3;
  return o;
}

/// A meter with a nameplate, a register and the +A billing preset, and the optical plugin.
class OpticalRig {
 public:
  OpticalRig() : host(meter_plugin_entry(), options()) {
    host.set_object(obis("0-0:96.1.0"), std::string("MPR2S-000001"));
    host.set_object(obis("0-0:96.1.2"), std::string("MPR-2S"));
    host.set_object(obis("0-0:96.1.5"), std::string("MPR"));
    host.set_object(obis("1-0:1.8.0"), std::int64_t{123'456});
    host.describe_object(obis("1-0:1.8.0"), 0, METER_PARAMETER_READ_ONLY, 30, -3);
    host.set_object(obis("0-0:128.7.1"), std::int64_t{123'456});
    host.describe_object(obis("0-0:128.7.1"), 4, METER_PARAMETER_CONFIGURATION, 30, -3);
    EXPECT_EQ(host.create(), Status::ok);
    EXPECT_EQ(host.start(), Status::ok);
    // As in meterd: the software identification is registered after the plugins have started.
    host.set_object(obis("1-0:0.2.0"), std::string("meterd 0.3.0"));
  }

  std::uint16_t port() {
    const auto where = std::get<std::string>(*host.read(obis("0-0:128.40.0")));
    return static_cast<std::uint16_t>(std::stoi(where.substr(where.rfind(':') + 1)));
  }

  /// Runs `client` on a thread against the plugin while this thread serves the host's loop
  /// (bounded: at most 3000 turns of 10 ms).
  void talk(const std::function<void(meter::c1218::Client&)>& client) {
    std::atomic<bool> done{false};
    const auto p = port();
    std::thread t([&] {
      auto transport = meter::c1218::tcp_connect("127.0.0.1", p, std::chrono::steady_clock::now() + 5s);
      if (!transport) {
        ADD_FAILURE() << transport.error().message;
      } else {
        meter::c1218::Client c(*transport);
        client(c);
      }
      done = true;
    });
    for (int i = 0; i < 3000 && !done; ++i) host.run_io(10);
    t.join();
    for (int i = 0; i < 5; ++i) host.run_io(1);  // the hang-up
  }

  FakeHost host;
};

std::vector<std::uint8_t> billing_preset(std::int64_t mwh, std::uint8_t sequence) {
  std::vector<std::uint8_t> p{0x02, 0x08, sequence, 0x01};  // MP-2 (2050), +A
  for (int i = 0; i < 8; ++i) p.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(mwh) >> (8 * i)));
  return p;
}

TEST(OpticalPlugin, IdentifiesAndServesTheManufacturerTableFromTheNameplate) {
  OpticalRig rig;
  rig.talk([](meter::c1218::Client& c) {
    ASSERT_TRUE(c.identify());
    const std::uint8_t bauds[] = {6};
    ASSERT_TRUE(c.negotiate(512, 2, bauds));
    ASSERT_TRUE(c.logon(2, "reader"));
    auto st1 = c.read(1);
    ASSERT_TRUE(st1) << st1.error().message;
    ASSERT_GE(st1->size(), 32u);
    EXPECT_EQ(std::string(st1->begin(), st1->begin() + 4), "MPR ");
    EXPECT_EQ(std::string(st1->begin() + 4, st1->begin() + 12), "MPR-2S  ");
    EXPECT_EQ((*st1)[14], 0);  // firmware version 0.3
    EXPECT_EQ((*st1)[15], 3);
    EXPECT_EQ(std::string(st1->begin() + 16, st1->begin() + 28), "MPR2S-000001");
    EXPECT_TRUE(c.terminate());
  });
  EXPECT_GE(std::get<std::uint64_t>(*rig.host.read(obis("0-0:128.40.1"))), 5u);
  EXPECT_EQ(std::get<std::uint64_t>(*rig.host.read(obis("0-0:128.40.4"))), 1u);
}

TEST(OpticalPlugin, AWrongPasswordIsRefusedWithIscAndCounted) {
  OpticalRig rig;
  rig.talk([](meter::c1218::Client& c) {
    ASSERT_TRUE(c.identify());
    ASSERT_TRUE(c.logon(2, "shop"));
    auto refused = c.security("guess");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, meter::c1218::ResponseCode::isc);
    EXPECT_TRUE(c.security("cfg-pw"));
  });
  EXPECT_EQ(std::get<std::uint64_t>(*rig.host.read(obis("0-0:128.40.5"))), 1u);
  EXPECT_EQ(rig.host.sessions(), 0u);  // the hang-up ended the logon
}

TEST(OpticalPlugin, ALockedPortAnswersBusyEvenToTheRightPassword) {
  OpticalRig rig;
  rig.talk([](meter::c1218::Client& c) {
    ASSERT_TRUE(c.identify());
    ASSERT_TRUE(c.logon(2, "shop"));
    for (int i = 0; i < 3; ++i) EXPECT_FALSE(c.security("guess"));
    auto locked = c.security("cfg-pw");
    ASSERT_FALSE(locked);
    EXPECT_EQ(locked.error().code, meter::c1218::ResponseCode::bsy);
  });
  EXPECT_EQ(rig.host.failed_logons(), 4u);
}

TEST(OpticalPlugin, ABillingPresetGoesThroughTheGateAndASealedMeterSaysDataLocked) {
  OpticalRig rig;
  rig.talk([](meter::c1218::Client& c) {
    ASSERT_TRUE(c.identify());
    ASSERT_TRUE(c.logon(2, "shop"));
    ASSERT_TRUE(c.security("read-pw"));
    auto denied = c.write(7, billing_preset(0, 1));
    ASSERT_FALSE(denied);
    EXPECT_EQ(denied.error().code, meter::c1218::ResponseCode::isc);  // a reader may not
    ASSERT_TRUE(c.security("cfg-pw"));
    ASSERT_TRUE(c.write(7, billing_preset(5'000'000, 2)));
  });
  ASSERT_EQ(rig.host.kernel_writes().size(), 1u);
  EXPECT_EQ(meter::sdk::to_string(rig.host.kernel_writes()[0].first), "0-0:128.7.1");
  EXPECT_EQ(std::get<std::int64_t>(rig.host.kernel_writes()[0].second), 5'000'000);

  rig.host.set_sealed(true);
  rig.talk([](meter::c1218::Client& c) {
    ASSERT_TRUE(c.identify());
    ASSERT_TRUE(c.logon(2, "shop"));
    ASSERT_TRUE(c.security("cfg-pw"));
    auto locked = c.write(7, billing_preset(0, 3));
    ASSERT_FALSE(locked);
    EXPECT_EQ(locked.error().code, meter::c1218::ResponseCode::dlk);
  });
  EXPECT_EQ(rig.host.kernel_writes().size(), 1u);
}

TEST(OpticalPlugin, GarbageIsRefusedCountedAndTheNextSessionWorks) {
  OpticalRig rig;
  const auto p = rig.port();
  std::atomic<bool> done{false};
  std::thread t([&] {
    auto transport = meter::c1218::tcp_connect("127.0.0.1", p, std::chrono::steady_clock::now() + 5s);
    ASSERT_TRUE(transport);
    // A packet with a broken CRC, then bytes that are no packet at all.
    const std::vector<std::uint8_t> bad{0xEE, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x12, 0x34};
    ASSERT_TRUE(transport->write(bad));
    std::uint8_t answer = 0;
    auto n = transport->read({&answer, 1}, std::chrono::steady_clock::now() + 5s);
    ASSERT_TRUE(n && *n == 1);
    EXPECT_EQ(answer, 0x15);  // <nak>
    done = true;
  });
  for (int i = 0; i < 3000 && !done; ++i) rig.host.run_io(10);
  t.join();
  for (int i = 0; i < 5; ++i) rig.host.run_io(1);
  EXPECT_EQ(std::get<std::uint64_t>(*rig.host.read(obis("0-0:128.40.2"))), 1u);
  rig.talk([](meter::c1218::Client& c) { EXPECT_TRUE(c.identify()); });
}

TEST(OpticalPlugin, ANewProbeTakesThePortOverAndTheOldSessionEnds) {
  OpticalRig rig;
  const auto p = rig.port();
  rig.talk([p](meter::c1218::Client& first) {
    ASSERT_TRUE(first.identify());
    ASSERT_TRUE(first.logon(2, "first"));
    ASSERT_TRUE(first.security("cfg-pw"));
    auto transport = meter::c1218::tcp_connect("127.0.0.1", p, std::chrono::steady_clock::now() + 5s);
    ASSERT_TRUE(transport);
    meter::c1218::Client second(*transport);
    EXPECT_TRUE(second.identify());  // the new probe is answered
    EXPECT_FALSE(first.read(1));     // the old one is gone
  });
  EXPECT_EQ(std::get<std::uint64_t>(*rig.host.read(obis("0-0:128.40.6"))), 1u);
  EXPECT_EQ(rig.host.sessions(), 0u);  // the first logon ended with its connection
}

}  // namespace
