#include "meter/kernel/bus.h"

#include <gtest/gtest.h>

#include <vector>

namespace meter::kernel {
namespace {

TEST(EventBus, DeliversEachEventTypeToItsOwnSubscribersInOrder) {
  EventBus bus;
  std::vector<int> order;
  bus.subscribe<EnergyTick>([&](const EnergyTick& t) { order.push_back(int(t.sequence)); });
  bus.subscribe<EnergyTick>([&](const EnergyTick& t) { order.push_back(10 * int(t.sequence)); });
  int power_fails = 0;
  bus.subscribe<PowerFail>([&](const PowerFail&) { ++power_fails; });
  EnergyTick t;
  t.sequence = 3;
  bus.publish(t);
  EXPECT_EQ(order, (std::vector<int>{3, 30}));
  EXPECT_EQ(power_fails, 0);
  bus.publish(PowerFail{});
  EXPECT_EQ(power_fails, 1);
}

TEST(EventBus, DisconnectedSlotsAreNotCalled) {
  EventBus bus;
  int calls = 0;
  auto c = bus.subscribe<Measurements>([&](const Measurements&) { ++calls; });
  {
    ScopedConnection scoped = bus.subscribe<Measurements>([&](const Measurements&) { calls += 100; });
    EXPECT_EQ(bus.subscribers<Measurements>(), 2u);
  }
  bus.publish(Measurements{});
  c.disconnect();
  bus.publish(Measurements{});
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(bus.subscribers<Measurements>(), 0u);
}

}  // namespace
}  // namespace meter::kernel
