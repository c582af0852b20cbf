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

}  // namespace
}  // namespace meter::boards::sim
