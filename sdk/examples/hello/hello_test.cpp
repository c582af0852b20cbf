// Unit tests of the example plugin, run against the SDK's fake host: this is how a vendor tests
// a plugin without a meter.
#include <gtest/gtest.h>

#include <meter/sdk/testing/fake_host.h>

extern "C" const meter_plugin_descriptor* meter_plugin_entry(void);

namespace {

using meter::sdk::obis;
using meter::sdk::Status;
using meter::sdk::testing::FakeHost;
using meter::sdk::testing::FakeHostOptions;

FakeHostOptions every(std::int64_t ticks) {
  FakeHostOptions options;
  options.config.insert("report_every_ticks", ticks);
  return options;
}

TEST(HelloPlugin, CountsTicksAndImportedEnergyAsObjects) {
  FakeHost host(meter_plugin_entry(), every(10));
  ASSERT_EQ(host.create(), Status::ok);
  ASSERT_EQ(host.start(), Status::ok);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(host.tick(1000, 250), 0u);
  EXPECT_EQ(std::get<std::uint64_t>(*host.read(obis("0-0:96.128.0"))), 5u);
  EXPECT_EQ(std::get<std::int64_t>(*host.read(obis("0-0:96.128.1"))), 1250);
}

TEST(HelloPlugin, PublishesAReportEveryConfiguredNumberOfTicks) {
  FakeHost host(meter_plugin_entry(), every(3));
  ASSERT_EQ(host.create(), Status::ok);
  ASSERT_EQ(host.start(), Status::ok);
  for (int i = 0; i < 7; ++i) host.tick(1000, 1);
  ASSERT_EQ(host.published().size(), 2u);
  EXPECT_EQ(host.published()[0].first, "hello.report");
  EXPECT_EQ(host.published()[1].second, "6");
}

TEST(HelloPlugin, KeepsItsTickCountInNvmAcrossRestarts) {
  FakeHost first(meter_plugin_entry(), every(100));
  ASSERT_EQ(first.create(), Status::ok);
  ASSERT_EQ(first.start(), Status::ok);
  for (int i = 0; i < 4; ++i) first.tick(1000, 1);
  ASSERT_EQ(first.stop(), Status::ok);
  const auto saved = first.nvm("ticks_seen");
  ASSERT_TRUE(saved);
  EXPECT_EQ(std::get<std::uint64_t>(*saved), 4u);

  FakeHost second(meter_plugin_entry(), every(100));
  second.set_nvm("ticks_seen", std::uint64_t{41});
  ASSERT_EQ(second.create(), Status::ok);
  ASSERT_EQ(second.start(), Status::ok);
  second.tick(1000, 1);
  EXPECT_EQ(std::get<std::uint64_t>(*second.read(obis("0-0:96.128.0"))), 42u);
}

TEST(HelloPlugin, DefaultsComeFromTheManifestAndBadConfigIsRefused) {
  FakeHost defaults(meter_plugin_entry());
  ASSERT_EQ(defaults.create(), Status::ok);
  ASSERT_EQ(defaults.start(), Status::ok);
  ASSERT_FALSE(defaults.log().empty());
  EXPECT_EQ(defaults.log().front().message, "hello from the example plugin");

  FakeHost zero(meter_plugin_entry(), every(0));
  ASSERT_EQ(zero.config_errors().size(), 1u);
  EXPECT_NE(zero.config_errors()[0].find("report_every_ticks: 0 ticks is below the minimum 1"),
            std::string::npos)
      << zero.config_errors()[0];
  EXPECT_EQ(zero.create(), Status::invalid_argument);
}

TEST(HelloPlugin, DropsItsObjectsAndSubscriptionsWhenStopped) {
  FakeHost host(meter_plugin_entry());
  ASSERT_EQ(host.create(), Status::ok);
  ASSERT_EQ(host.start(), Status::ok);
  EXPECT_EQ(host.objects(), 2u);
  EXPECT_EQ(host.subscriptions(), 1u);
  ASSERT_EQ(host.stop(), Status::ok);
  EXPECT_EQ(host.objects(), 0u);
  EXPECT_EQ(host.subscriptions(), 0u);
  EXPECT_EQ(host.self_test(), Status::unavailable);
}

}  // namespace
