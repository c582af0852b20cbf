#include "meter/kernel/gate.h"

#include <gtest/gtest.h>

#include <vector>

namespace meter::kernel {
namespace {

class GateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ObjectInfo i;
    i.id = obis("0-0:128.9.0");
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
    bus.subscribe<ParameterChanged>([this](const ParameterChanged& e) { changes.push_back(e); });
  }
  VirtualTimeSource time{UtcTime{std::chrono::hours(24 * 365 * 56)}};
  EventBus bus;
  Clock clock = *Clock::create(time, bus, "UTC", true);
  ObjectRegistry registry;
  ParameterGate gate{registry, bus, clock};
  std::int64_t stored = 1;
  std::vector<ParameterChanged> changes;
  Requester configurator{Interface::optical_port, Role::configurator, "optical"};
};

TEST_F(GateTest, AllowedWriteStoresAndPublishesOldAndNewValue) {
  ASSERT_TRUE(gate.write(obis("0-0:128.9.0"), Value{std::int64_t{10}}, configurator));
  EXPECT_EQ(stored, 10);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].old_value, "1");
  EXPECT_EQ(changes[0].new_value, "10");
  EXPECT_EQ(changes[0].via, Interface::optical_port);
  EXPECT_EQ(changes[0].who, "optical");
}

TEST_F(GateTest, RefusesWrongRoleWrongTypeAndOutOfRangeWithoutTrace) {
  EXPECT_FALSE(gate.write(obis("0-0:128.9.0"), Value{std::int64_t{10}},
                          Requester{Interface::comms, Role::reader, "rf"}));
  EXPECT_FALSE(gate.write(obis("0-0:128.9.0"), Value{10.0}, configurator));
  EXPECT_FALSE(gate.write(obis("0-0:128.9.0"), Value{std::int64_t{241}}, configurator));
  EXPECT_FALSE(gate.write(obis("1-0:1.8.0"), Value{std::int64_t{0}}, configurator));
  EXPECT_EQ(stored, 1);
  EXPECT_TRUE(changes.empty());
}

TEST_F(GateTest, SealedMeterRefusesSealableParameters) {
  std::vector<SealChanged> seals;
  bus.subscribe<SealChanged>([&](const SealChanged& e) { seals.push_back(e); });
  gate.set_sealed(true, SealKind::electronic);
  auto r = gate.write(obis("0-0:128.9.0"), Value{std::int64_t{10}}, configurator);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("sealed configuration parameter"), std::string::npos);
  EXPECT_EQ(stored, 1);
  gate.set_sealed(false, SealKind::electronic);
  EXPECT_TRUE(gate.write(obis("0-0:128.9.0"), Value{std::int64_t{10}}, configurator));
  ASSERT_EQ(seals.size(), 2u);
  EXPECT_TRUE(seals[0].sealed);
  EXPECT_FALSE(seals[1].sealed);
}

}  // namespace
}  // namespace meter::kernel
