#include "meter/kernel/test_led.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>

namespace meter::kernel {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
constexpr Milliseconds kTick{1000};

TEST(TestLed, InvalidKhIsNamed) {
  for (double kh : std::array<double, 5>{0.0, -1.0, std::nan(""), INFINITY, 5000.0}) {
    auto led = TestLed::create(kh);
    ASSERT_FALSE(led) << kh;
    EXPECT_NE(led.error().message.find("Kh"), std::string::npos);
  }
  EXPECT_TRUE(TestLed::create(7.2));
}

TEST(TestLed, PulsesTimesKhMatchEnergyWithinOnePulse) {
  auto led = *TestLed::create(1.0);  // 1 Wh per pulse
  led.power_up(Uptime{0});
  std::int64_t energy = 0;
  std::uint64_t pulses = 0;
  Uptime t{0};
  for (int i = 0; i < 3600; ++i) {  // an hour of an irregular load
    const std::int64_t e = 300'000'000 + (i % 7) * 123'456'789;  // 0.3..1.04 Wh a second
    t += kTick;
    pulses += led.on_tick(e, t, kTick).count;
    energy += e;
  }
  EXPECT_EQ(pulses, led.pulses_total());
  const auto pulse_energy = static_cast<std::int64_t>(pulses) * led.kh_nwh();
  EXPECT_LE(energy - pulse_energy, led.kh_nwh());
  EXPECT_GE(energy - pulse_energy, 0);
  EXPECT_EQ(energy - pulse_energy, led.residual_nwh());
}

TEST(TestLed, PulsesAreEvenlySpacedAtTheTickPower) {
  auto led = *TestLed::create(0.5);
  led.power_up(Uptime{0});
  // 3.6 kW for a second = 1 Wh = two pulses, 0.5 s apart, the first at 0.5 s.
  auto p = led.on_tick(1'000'000'000, seconds{1}, kTick);
  EXPECT_EQ(p.count, 2u);
  EXPECT_EQ(p.first.count(), 500'000);
  EXPECT_EQ(p.period.count(), 500'000);
  // 0.3 Wh: no pulse; then 0.3 Wh more: the pulse falls where 0.5 Wh is reached (2/3 s in).
  EXPECT_EQ(led.on_tick(300'000'000, seconds{2}, kTick).count, 0u);
  p = led.on_tick(300'000'000, seconds{3}, kTick);
  EXPECT_EQ(p.count, 1u);
  EXPECT_NEAR(static_cast<double>(p.first.count()), 666'667.0, 1.0);
}

TEST(TestLed, StablePulsesFromTheFirstTickAfterPowerUp) {
  auto led = *TestLed::create(1.0);
  led.power_up(hours{100});
  // 7.2 kW: a pulse every 0.5 s. The first tick after power-up already pulses at that rate.
  Uptime t = hours{100};
  for (int i = 1; i <= 5; ++i) {
    t += kTick;
    auto p = led.on_tick(2'000'000'000, t, kTick);
    EXPECT_EQ(p.count, 2u) << "tick " << i;
    EXPECT_EQ(p.period.count(), 500'000);
  }
}

TEST(TestLed, DarkAfter24HoursAndReactivatedFor24MoreWithoutPowerCycle) {
  auto led = *TestLed::create(1.0);
  led.power_up(Uptime{0});
  EXPECT_TRUE(led.active(hours{24} - seconds{1}));
  EXPECT_FALSE(led.active(hours{24}));
  // A tick that straddles the end pulses only for the energy before it: 2 Wh over 1 s, half
  // of it inside the window.
  auto straddling = led.on_tick(2'000'000'000, hours{24} + Milliseconds{500}, kTick);
  EXPECT_EQ(straddling.count, 1u);
  EXPECT_EQ(led.on_tick(5'000'000'000, hours{30}, kTick).count, 0u) << "dark";

  led.reactivate(hours{30});
  EXPECT_TRUE(led.active(hours{30}));
  EXPECT_EQ(led.on_tick(5'000'000'000, hours{30} + seconds{1}, kTick).count, 5u);
  EXPECT_TRUE(led.active(hours{54} - seconds{1}));
  EXPECT_FALSE(led.active(hours{54}));
  EXPECT_EQ(led.on_tick(5'000'000'000, hours{55}, kTick).count, 0u);
}

TEST(TestLed, ARestoredWindowCarriesOnAndNeverExceeds24Hours) {
  auto led = *TestLed::create(1.0);
  led.power_up(Uptime{0});
  EXPECT_EQ(led.remaining(hours{20}), hours{4});
  EXPECT_EQ(led.remaining(hours{25}), Milliseconds{0});

  // After a crash restart, uptime counts from zero again; the window carries on.
  led.restore(Uptime{0}, hours{4} - seconds{10});
  EXPECT_TRUE(led.active(hours{4} - seconds{11}));
  EXPECT_FALSE(led.active(hours{4} - seconds{10}));
  led.restore(Uptime{0}, hours{48});  // a damaged value cannot stretch the window
  EXPECT_EQ(led.remaining(Uptime{0}), TestLed::kActiveWindow);
  led.restore(Uptime{0}, -hours{1});
  EXPECT_FALSE(led.active(Uptime{0}));
}

}  // namespace
}  // namespace meter::kernel
