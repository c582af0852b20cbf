// A simulated board's seal switches: the site's initial state, seal happenings at their time,
// and what the gate makes of them.
#include "meter/boards/seals.h"

#include <gtest/gtest.h>

#include <vector>

namespace meter::boards {
namespace {

using kernel::SealKind;
using kernel::UtcTime;
using std::chrono::minutes;

const UtcTime kStart{std::chrono::hours(24 * 365 * 56)};

Happening seal(Happening::Kind kind, SealKind which, minutes after) {
  Happening h;
  h.kind = kind;
  h.seal = which;
  h.at = kStart + after;
  return h;
}

TEST(SealSchedule, SwitchesReadTheInitialStateUntilAHappeningChangesOne) {
  const std::vector<Happening> happenings{
      seal(Happening::Kind::seal_applied, SealKind::optical_plug, minutes{30}),
      seal(Happening::Kind::seal_broken, SealKind::cover, minutes{10}),  // out of order
      {Happening::Kind::power_failure, kStart + minutes{20}, minutes{1}},
  };
  auto s = SealSchedule::create({SealKind::cover, SealKind::optical_plug}, {SealKind::cover},
                                happenings);
  ASSERT_TRUE(s) << s.error().message;
  const std::uint8_t fitted = seal_bit(SealKind::cover) | seal_bit(SealKind::optical_plug);
  EXPECT_EQ(s->at(kStart - minutes{1}), (SealSwitches{fitted, seal_bit(SealKind::cover)}));
  EXPECT_EQ(s->at(kStart + minutes{10} - std::chrono::milliseconds{1}).sealed,
            seal_bit(SealKind::cover));
  EXPECT_EQ(s->at(kStart + minutes{10}).sealed, 0);
  EXPECT_EQ(s->at(kStart + minutes{29}).sealed, 0);
  EXPECT_EQ(s->at(kStart + minutes{30}).sealed, seal_bit(SealKind::optical_plug));
  EXPECT_EQ(s->at(kStart + minutes{600}).sealed, seal_bit(SealKind::optical_plug));
}

TEST(SealSchedule, ASwitchTheBoardDoesNotHaveCannotBeSealedOrBroken) {
  auto initial = SealSchedule::create({SealKind::cover}, {SealKind::programming_jumper}, {});
  ASSERT_FALSE(initial);
  EXPECT_NE(initial.error().message.find("programming-jumper seal switch, which the board does "
                                         "not have"),
            std::string::npos)
      << initial.error().message;
  auto happening = SealSchedule::create(
      {SealKind::cover}, {}, {seal(Happening::Kind::seal_broken, SealKind::optical_plug, minutes{5})});
  ASSERT_FALSE(happening);
  EXPECT_NE(happening.error().message.find("happening 0"), std::string::npos);
  EXPECT_NE(happening.error().message.find("optical-plug"), std::string::npos);
  EXPECT_FALSE(SealSchedule::create({SealKind::electronic}, {}, {}));
}

TEST(SealSchedule, ABoardWithoutSwitchesReadsNothing) {
  auto s = SealSchedule::create({}, {}, {});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->at(kStart), SealSwitches{});
}

class ApplySealSwitches : public ::testing::Test {
 protected:
  void SetUp() override {
    bus.subscribe<kernel::SealChanged>([this](const kernel::SealChanged& e) { seen.push_back(e); });
  }
  kernel::VirtualTimeSource time{kStart};
  kernel::EventBus bus;
  kernel::Clock clock = *kernel::Clock::create(time, bus, "UTC", true);
  kernel::ObjectRegistry registry;
  kernel::ParameterGate gate{registry, bus, clock};
  std::vector<kernel::SealChanged> seen;
};

TEST_F(ApplySealSwitches, OnlyChangesReachTheBusAndAnAbsentSwitchReadsBroken) {
  const std::uint8_t fitted = seal_bit(SealKind::cover) | seal_bit(SealKind::optical_plug);
  apply_seal_switches({fitted, seal_bit(SealKind::cover)}, gate);
  EXPECT_TRUE(gate.sealed());
  EXPECT_EQ(gate.seal_state(), seal_bit(SealKind::cover));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, SealKind::cover);
  EXPECT_TRUE(seen[0].sealed);

  apply_seal_switches({fitted, seal_bit(SealKind::cover)}, gate);  // every tick: no change
  EXPECT_EQ(seen.size(), 1u);

  apply_seal_switches({fitted, 0}, gate);
  EXPECT_FALSE(gate.sealed());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_FALSE(seen[1].sealed);

  // A programming jumper bit left from another board: this board has none, so it reads broken.
  gate.set_sealed(true, SealKind::programming_jumper);
  apply_seal_switches({fitted, seal_bit(SealKind::programming_jumper)}, gate);
  EXPECT_FALSE(gate.sealed());
}

TEST_F(ApplySealSwitches, TheElectronicSealIsNoSwitchAndStays) {
  gate.set_sealed(true, SealKind::electronic);
  apply_seal_switches({}, gate);
  EXPECT_EQ(gate.seal_state(), seal_bit(SealKind::electronic));
}

}  // namespace
}  // namespace meter::boards
