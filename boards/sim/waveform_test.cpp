#include "meter/boards/sim/waveform.h"

#include <gtest/gtest.h>

#include <cmath>

namespace meter::boards::sim {
namespace {

TEST(Waveform, MeanProductMatchesTheExactPower) {
  WaveformSpec s;
  s.phases = 3;
  s.sample_rate_hz = 4800;
  s.load = {PhaseLoad{120, 10, 30}, PhaseLoad{121, 5, -20}, PhaseLoad{119, 2, 60}};
  s.harmonics = {Harmonic{3, 0.05, 0.2, 10}, Harmonic{5, 0.03, 0.1, -15}};
  Waveform w(s);
  const auto& b = w.next_float(4800);  // exactly 60 cycles
  double p = 0;
  for (std::size_t ph = 0; ph < 3; ++ph) {
    for (std::size_t i = 0; i < b.samples; ++i) {
      p += double(b.channel[ph][i]) * double(b.channel[3 + ph][i]);
    }
  }
  p /= static_cast<double>(b.samples);
  EXPECT_NEAR(p, exact_active_power_w(s), exact_active_power_w(s) * 1e-5);
}

TEST(Waveform, PhaseIsContinuousAcrossBlocksAndInt16Clips) {
  WaveformSpec s;
  s.load[0] = PhaseLoad{240, 400, 0};  // 400 A at 0.01 A/code would need 56 569 codes
  Waveform w(s);
  const auto& a = w.next16(10);
  const std::int16_t last = a.channel[0][9];
  Waveform w2(s);
  const auto& b = w2.next16(11);
  EXPECT_EQ(b.channel[0][9], last);
  const auto& c = w2.next16(4000);
  bool clipped = false;
  for (std::size_t i = 0; i < c.samples; ++i) clipped |= c.channel[1][i] == 32767;
  EXPECT_TRUE(clipped);
}

TEST(Waveform, RepeatedWholeCycleBlocksEqualFreshlyComputedOnes) {
  WaveformSpec s;
  s.load[0] = PhaseLoad{120, 10, 30};
  s.harmonics = {Harmonic{3, 0.05, 0.2, 10}};
  Waveform reused(s);
  reused.next16(4000);
  const auto& again = reused.next16(4000);  // 60 whole cycles: served from the last block
  std::vector<std::int16_t> second(again.channel[1], again.channel[1] + 4000);
  // A block of 4001 samples is never reused; its first 4000 are the same second recomputed.
  Waveform fresh(s);
  fresh.next16(4000);
  const auto& computed = fresh.next16(4001);
  EXPECT_TRUE(std::equal(second.begin(), second.end(), computed.channel[1]));
  // 60 Hz at 4 kHz: 100 samples are 1.5 cycles, so each such block is the last one inverted;
  // serving it again would be wrong.
  WaveformSpec pure;
  pure.load[0] = PhaseLoad{120, 10, 0};
  Waveform half(pure);
  const auto& a = half.next_float(100);
  const std::vector<float> first(a.channel[0], a.channel[0] + 100);
  const auto& b = half.next_float(100);
  EXPECT_NEAR(b.channel[0][10], -first[10], 1e-3);
  EXPECT_GT(std::abs(first[10]), 10.0f);
}

}  // namespace
}  // namespace meter::boards::sim
