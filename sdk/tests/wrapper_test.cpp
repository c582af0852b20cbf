// The C++ wrapper's promises: a plugin is a plain class, and no exception ever crosses the C
// ABI — each becomes a status the host can count.
#include <gtest/gtest.h>

#include <vector>

#include <new>
#include <stdexcept>

#include "meter/sdk/plugin.h"
#include "meter/sdk/testing/fake_host.h"

namespace {

using meter::sdk::Error;
using meter::sdk::Host;
using meter::sdk::obis;
using meter::sdk::Status;
using meter::sdk::testing::FakeHost;
using meter::sdk::testing::FakeHostOptions;

constexpr const char* kManifest = R"(
[plugin]
id = "wrapped"
version = "0.1.0"
vendor = "Test"
abi = "1.0"
legal_class = "not-relevant"
capabilities = ["relay", "nvm:other"]

[[objects]]
obis = "0-0:96.1.10"
name = "label"
type = "text"

[config.limit]
type = "real"
min = 0
max = 10
unit = "kW"
default = 2
)";

template <class P>
const meter_plugin_descriptor* descriptor_of() {
  return meter::sdk::detail::descriptor<P>("wrapped", "0.1.0", kManifest);
}

struct ThrowsInConstructor {
  explicit ThrowsInConstructor(Host&) { throw std::runtime_error("no"); }
};
struct RunsOutOfMemory {
  explicit RunsOutOfMemory(Host&) { throw std::bad_alloc(); }
};
struct DeniedInStart {
  explicit DeniedInStart(Host&) {}
  void start() { throw Error(Status::denied, "not allowed"); }
};
struct FailsStart {
  explicit FailsStart(Host&) {}
  Status start() { return Status::error; }
};
struct ThrowsInHandler {
  explicit ThrowsInHandler(Host& host) : host_(host) {}
  void start() {
    host_.on<meter_energy_tick>([](const meter_energy_tick& t) {
      if (t.delta_mwh[0] < 0) throw std::logic_error("negative");
    });
    host_.on_topic("other.ping", [](const meter_plugin_event&) { return Status::error; });
  }
  Host& host_;
};
/// What a plugin heard of the meter, for the fake host's meter-event helpers.
struct Heard {
  std::vector<meter_energy_tick> ticks;
  std::vector<std::int64_t> power_fails;
  std::vector<meter_power_restore> restores;
  std::vector<meter_time_changed> changes;
};
Heard g_heard;
struct RecordsMeterEvents {
  explicit RecordsMeterEvents(Host& host) : host_(host) {}
  void start() {
    host_.on<meter_energy_tick>([](const meter_energy_tick& t) { g_heard.ticks.push_back(t); });
    host_.on<meter_time_event>([](const meter_time_event& e) { g_heard.power_fails.push_back(e.time_utc_ms); });
    host_.on<meter_power_restore>([](const meter_power_restore& e) { g_heard.restores.push_back(e); });
    host_.on<meter_time_changed>([](const meter_time_changed& e) { g_heard.changes.push_back(e); });
  }
  Host& host_;
};
struct Minimal {
  explicit Minimal(Host&) {}
};
struct UsesTheHost {
  explicit UsesTheHost(Host& host) : host_(host), limit_kw_(host.config<double>("limit")) {}
  void start() {
    host_.provide({.id = obis("0-0:96.1.10"), .type = METER_VALUE_TEXT, .description = "Label"},
                  [this] { return label_; },
                  [this](const meter::sdk::Value& v) { label_ = std::get<std::string>(v); });
  }
  Host& host_;
  double limit_kw_;
  std::string label_ = "initial";
};

TEST(Wrapper, AnExceptionInTheConstructorBecomesAStatus) {
  FakeHost host(descriptor_of<ThrowsInConstructor>());
  EXPECT_EQ(host.create(), Status::exception);
  FakeHost oom(descriptor_of<RunsOutOfMemory>());
  EXPECT_EQ(oom.create(), Status::out_of_memory);
}

TEST(Wrapper, AnSdkErrorKeepsItsStatus) {
  FakeHost host(descriptor_of<DeniedInStart>());
  ASSERT_EQ(host.create(), Status::ok);
  EXPECT_EQ(host.start(), Status::denied);
  FakeHost failing(descriptor_of<FailsStart>());
  ASSERT_EQ(failing.create(), Status::ok);
  EXPECT_EQ(failing.start(), Status::error);
}

TEST(FakeHost, PublishesTheMetersEventsAsTheMeterDoes) {
  g_heard = {};
  FakeHostOptions o;
  o.start_time_utc_ms = 1'000'000;
  FakeHost host(descriptor_of<RecordsMeterEvents>(), o);
  ASSERT_EQ(host.create(), Status::ok);
  ASSERT_EQ(host.start(), Status::ok);
  EXPECT_EQ(host.tick(1000, 7, 3), 0u);
  host.set_time_valid(false);
  EXPECT_EQ(host.tick(500, 1, 0, true), 0u);
  ASSERT_EQ(g_heard.ticks.size(), 2u);
  const auto& first = g_heard.ticks[0];
  EXPECT_EQ(first.time_utc_ms, 1'001'000) << "the clock advances by the tick first";
  EXPECT_EQ(first.delta_mwh[0], 7);
  EXPECT_EQ(first.delta_mwh[1], 3);
  EXPECT_EQ(first.time_valid, 1);
  EXPECT_EQ(first.measurement_fault, 0);
  const auto& second = g_heard.ticks[1];
  EXPECT_EQ(second.sequence, first.sequence + 1);
  EXPECT_EQ(second.total_mwh[0], 8);
  EXPECT_EQ(second.total_mwh[1], 3);
  EXPECT_EQ(second.time_valid, 0);
  EXPECT_EQ(second.measurement_fault, 1);

  EXPECT_EQ(host.power_fail(), 0u);
  EXPECT_EQ(host.power_restore(60'000), 0u);
  ASSERT_EQ(g_heard.power_fails, std::vector<std::int64_t>{1'001'500});
  ASSERT_EQ(g_heard.restores.size(), 1u);
  EXPECT_EQ(g_heard.restores[0].time_utc_ms, 1'061'500);
  EXPECT_EQ(g_heard.restores[0].outage_ms, 60'000);
  EXPECT_EQ(g_heard.restores[0].time_valid, 0);

  EXPECT_EQ(host.change_time(5'000'000), 0u);
  ASSERT_EQ(g_heard.changes.size(), 1u);
  EXPECT_EQ(g_heard.changes[0].old_time_utc_ms, 1'061'500);
  EXPECT_EQ(g_heard.changes[0].new_time_utc_ms, 5'000'000);
  EXPECT_EQ(g_heard.changes[0].was_valid, 0);
  EXPECT_EQ(host.now_utc_ms(), 5'000'000);
  EXPECT_TRUE(host.time_valid()) << "a time set makes the time known";
}

TEST(Wrapper, HandlerFailuresAreCountedNotPropagated) {
  FakeHost host(descriptor_of<ThrowsInHandler>());
  ASSERT_EQ(host.create(), Status::ok);
  ASSERT_EQ(host.start(), Status::ok);
  EXPECT_EQ(host.tick(1000, 5), 0u);
  EXPECT_EQ(host.tick(1000, -5), 1u);
  EXPECT_EQ(host.publish_topic("other.ping"), 1u);
  EXPECT_EQ(host.publish_topic("other.unrelated"), 0u);
  EXPECT_EQ(host.faults(), 2u);
}

TEST(Wrapper, APlainClassNeedsNoLifecycleMethods) {
  FakeHost host(descriptor_of<Minimal>());
  ASSERT_EQ(host.create(), Status::ok);
  EXPECT_EQ(host.start(), Status::ok);
  EXPECT_EQ(host.self_test(), Status::ok);
  EXPECT_EQ(host.stop(), Status::ok);
}

TEST(Wrapper, ObjectsReadAndWriteThroughTheAbi) {
  FakeHostOptions options;
  options.config.insert("limit", 4);
  FakeHost host(descriptor_of<UsesTheHost>(), std::move(options));
  ASSERT_EQ(host.create(), Status::ok);
  ASSERT_EQ(host.start(), Status::ok);
  EXPECT_EQ(std::get<std::string>(*host.read(obis("0-0:96.1.10"))), "initial");
  EXPECT_EQ(host.write(obis("0-0:96.1.10"), std::string("renamed")), Status::ok);
  EXPECT_EQ(std::get<std::string>(*host.read(obis("0-0:96.1.10"))), "renamed");
}

TEST(Wrapper, NvmOfAnotherPluginNeedsTheGrantedCapability) {
  struct Peeker {
    explicit Peeker(Host& host) : host_(host) {}
    Status start() {
      host_.nvm_of("other").put("x", std::int64_t{1});
      return Status::ok;
    }
    Host& host_;
  };
  FakeHost refused(descriptor_of<Peeker>());
  ASSERT_EQ(refused.create(), Status::ok);
  EXPECT_EQ(refused.start(), Status::denied);

  FakeHostOptions options;
  options.granted = {"nvm:other"};
  FakeHost granted(descriptor_of<Peeker>(), std::move(options));
  ASSERT_EQ(granted.create(), Status::ok);
  EXPECT_EQ(granted.start(), Status::ok);
  EXPECT_EQ(std::get<std::int64_t>(*granted.nvm("x", "other")), 1);
}

TEST(Wrapper, ATransactionThatThrowsLeavesNvmUntouched) {
  struct Writer {
    explicit Writer(Host& host) : host_(host) {}
    void start() {
      auto nvm = host_.nvm();
      nvm.put("kept", std::int64_t{1});
      try {
        nvm.transaction([&] {
          nvm.put("a", std::int64_t{2});
          throw std::runtime_error("power failed");
        });
      } catch (const std::runtime_error&) {
      }
      nvm.transaction([&] { nvm.put("b", std::int64_t{3}); });
    }
    Host& host_;
  };
  FakeHost host(descriptor_of<Writer>());
  ASSERT_EQ(host.create(), Status::ok);
  ASSERT_EQ(host.start(), Status::ok);
  EXPECT_TRUE(host.nvm("kept"));
  EXPECT_FALSE(host.nvm("a"));
  EXPECT_EQ(std::get<std::int64_t>(*host.nvm("b")), 3);
}

TEST(Wrapper, RelayNeedsTheCapabilityGranted) {
  struct Tripper {
    explicit Tripper(Host& host) : host_(host) {}
    Status start() { return host_.trip_relay(0, true); }
    Host& host_;
  };
  FakeHost not_granted(descriptor_of<Tripper>());
  ASSERT_EQ(not_granted.create(), Status::ok);
  EXPECT_EQ(not_granted.start(), Status::denied);
  EXPECT_TRUE(not_granted.relay_trips().empty());

  FakeHostOptions options;
  options.granted = {"relay"};
  FakeHost granted(descriptor_of<Tripper>(), std::move(options));
  ASSERT_EQ(granted.create(), Status::ok);
  EXPECT_EQ(granted.start(), Status::ok);
  ASSERT_EQ(granted.relay_trips().size(), 1u);
  EXPECT_TRUE(granted.relay_trips()[0].open);
}

TEST(Wrapper, ObisLiteralsParseAndPrint) {
  constexpr auto id = obis("1-0:1.8.0");
  EXPECT_EQ(id.c, 1);
  EXPECT_EQ(id.d, 8);
  EXPECT_EQ(meter::sdk::to_string(id), "1-0:1.8.0");
  EXPECT_FALSE(meter::sdk::parse_obis("1-0:1.8"));
  EXPECT_EQ(meter::sdk::to_string(obis("0-0:96.1.0*3")), "0-0:96.1.0*3");
}

}  // namespace
