#include "meter/kernel/display.h"

#include <gtest/gtest.h>

namespace meter::kernel {
namespace {

class DisplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ObjectInfo e;
    e.id = obis("1-0:1.8.0");
    e.object_class = ObjectClass::reg;
    e.unit = Unit::watt_hour;
    e.scaler = -3;
    ASSERT_TRUE(registry.add(e, [this] { return Value{energy_mwh}; }));
    ObjectInfo v;
    v.id = obis("1-0:32.7.0");
    v.type = ValueType::real;
    v.unit = Unit::volt;
    ASSERT_TRUE(registry.add(v, [] { return Value{120.456}; }));
  }
  DisplaySettings settings(std::int64_t multiplier = 1, std::int64_t digits = 6,
                           std::int64_t decimals = 1) {
    DisplaySettings s;
    s.items = {{DisplayItem::Kind::object, obis("1-0:1.8.0"), "1-0:1.8.0"},
               {DisplayItem::Kind::object, obis("1-0:32.7.0"), "1-0:32.7.0"},
               {DisplayItem::Kind::segment_test, {}, "segment-test"},
               {DisplayItem::Kind::firmware_version, {}, "firmware"}};
    s.multiplier = multiplier;
    s.digits = digits;
    s.decimals = decimals;
    return s;
  }
  ObjectRegistry registry;
  std::int64_t energy_mwh = 1'234'567'890;  // 1234.56789 kWh
};

TEST_F(DisplayTest, EnergyInKwhTruncatedWithUnitAndLabel) {
  Display d(registry, settings(), "0.1.0");
  const auto s = d.render(0);
  EXPECT_EQ(s.label, "1.8.0");
  EXPECT_EQ(s.value, "01234.5") << "truncated, never rounded up";
  EXPECT_EQ(s.unit, "kWh");
  EXPECT_EQ(s.to_text(), "1.8.0       01234.5 kWh");
}

TEST_F(DisplayTest, MultiplierScalesTheDisplayOnlyAndIsAnnounced) {
  Display d(registry, settings(240, 8, 2), "0.1.0");
  const auto s = d.render(0);
  EXPECT_EQ(s.value, "296296.29");  // 1234.56789 x 240 = 296296.2936
  ASSERT_FALSE(s.annunciators.empty());
  EXPECT_EQ(s.annunciators[0], "x240");
  EXPECT_EQ(energy_mwh, 1'234'567'890) << "the register is untouched";
  auto r = registry.read(obis("1-0:1.8.0"), Role::public_read);
  EXPECT_EQ(std::get<std::int64_t>(*r), 1'234'567'890);
}

TEST_F(DisplayTest, TheMetersMultiplierObjectIsReadAtEveryScreen) {
  Display d(registry, settings(1), "0.1.0");
  EXPECT_EQ(d.render(0).value, "01234.5");
  std::int64_t n = 10;
  ObjectInfo m;
  m.id = Display::kDisplayMultiplier;
  m.type = ValueType::integer;
  ASSERT_TRUE(registry.add(m, [&n] { return Value{n}; }));
  EXPECT_EQ(d.multiplier(), 10) << "the object, not the settings";
  EXPECT_EQ(d.render(0).value, "12345.6");
  EXPECT_EQ(d.render(0).annunciators.at(0), "x10");
  n = 2;  // written through the gate: the next screen shows it
  EXPECT_EQ(d.render(0).value, "02469.1");
  n = 0;  // never a multiplier: the settings' stands
  EXPECT_EQ(d.multiplier(), 1);
}

TEST_F(DisplayTest, EnergyRollsOverPastItsDigitsLikeARegisterDial) {
  energy_mwh = 123'456'789'000;  // 123456.789 kWh on 5 digits, no decimals
  Display d(registry, settings(1, 5, 0), "0.1.0");
  EXPECT_EQ(d.render(0).value, "23456");
}

TEST_F(DisplayTest, OtherValuesSegmentTestAndFirmware) {
  Display d(registry, settings(), "0.1.0");
  EXPECT_EQ(d.render(1).value, "120.46");
  EXPECT_EQ(d.render(1).unit, "V");
  const auto test = d.render(2);
  EXPECT_EQ(test.value, "8.8.8.8.8.8.");
  EXPECT_GE(test.annunciators.size(), 4u) << "every annunciator lit";
  EXPECT_EQ(d.render(3).value, "0.1.0");
  EXPECT_EQ(d.render(3).label, "FW");
}

TEST_F(DisplayTest, ScrollsOneItemPerScrollTime) {
  auto s = settings();
  s.scroll_time = std::chrono::seconds{10};
  Display d(registry, s, "0.1.0");
  EXPECT_EQ(d.item_at(std::chrono::seconds{0}), 0u);
  EXPECT_EQ(d.item_at(std::chrono::seconds{9}), 0u);
  EXPECT_EQ(d.item_at(std::chrono::seconds{10}), 1u);
  EXPECT_EQ(d.item_at(std::chrono::seconds{41}), 0u);
  EXPECT_EQ(d.sequence().size(), 4u);
}

TEST_F(DisplayTest, AnnunciatorsForRemoteModeFaultAndMeteringPoint) {
  ObjectInfo rc;
  rc.id = Display::kRemoteConfigurationMode;
  rc.type = ValueType::boolean;
  ASSERT_TRUE(registry.add(rc, [] { return Value{true}; }));
  ObjectInfo err;
  err.id = Display::kErrorRegister;
  err.type = ValueType::unsigned_integer;
  ASSERT_TRUE(registry.add(err, [] { return Value{std::uint64_t{1}}; }));
  auto s = settings();
  s.metering_point = "MP2";
  Display d(registry, s, "0.1.0");
  const auto a = d.render(1).annunciators;
  EXPECT_EQ(a, (std::vector<std::string>{"RC", "ERR01", "MP2"}));
}

TEST_F(DisplayTest, MissingObjectShowsDashes) {
  auto s = settings();
  s.items.push_back({DisplayItem::Kind::object, obis("1-0:1.8.1"), "1-0:1.8.1"});
  s.items.push_back({DisplayItem::Kind::software_id, {}, "software-id"});
  Display d(registry, s, "0.1.0");
  EXPECT_EQ(d.render(4).value, "------");
  EXPECT_EQ(d.render(5).value, "--------");
}

TEST_F(DisplayTest, SoftwareIdShowsTheShortIdentifier) {
  ObjectInfo id;
  id.id = Display::kFirmwareIdentifier;
  id.type = ValueType::text;
  ASSERT_TRUE(registry.add(id, [] { return Value{std::string("0.1.0 SW 0dbda39d")}; }));
  auto s = settings();
  s.items = {{DisplayItem::Kind::software_id, {}, "software-id"}};
  Display d(registry, s, "0.1.0");
  EXPECT_EQ(d.render(0).value, "SW 0dbda39d");
  EXPECT_EQ(d.render(0).label, "ID");
}

TEST_F(DisplayTest, AnIntegerObjectShowsItsScalerExactly) {
  std::int64_t balance = -8;
  ObjectInfo money;
  money.id = obis("0-0:128.30.0");
  money.type = ValueType::integer;
  money.scaler = -5;
  ASSERT_TRUE(registry.add(money, [&balance] { return Value{balance}; }));
  ObjectInfo count;
  count.id = obis("0-0:128.30.1");
  count.type = ValueType::unsigned_integer;
  count.scaler = 2;
  ASSERT_TRUE(registry.add(count, [] { return Value{std::uint64_t{7}}; }));
  auto s = settings();
  s.items = {{DisplayItem::Kind::object, obis("0-0:128.30.0"), "0-0:128.30.0"},
             {DisplayItem::Kind::object, obis("0-0:128.30.1"), "0-0:128.30.1"}};
  Display d(registry, s, "0.1.0");
  EXPECT_EQ(d.render(0).value, "-0.00008");
  balance = 4'000'008;
  EXPECT_EQ(d.render(0).value, "40.00008");
  EXPECT_EQ(d.render(1).value, "700");
}

}  // namespace
}  // namespace meter::kernel
