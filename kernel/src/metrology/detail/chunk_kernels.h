// The per-sample hot loops of waveform metrology: converting a chunk of samples to double and
// summing the products the tick needs. Everything else in metrology works on these sums.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "meter/kernel/service.h"

namespace meter::kernel::detail {

/// Sample sets converted and summed at a time; the buffers of one chunk stay in L1.
inline constexpr std::size_t kChunk = 512;
/// Longest quarter period kept as voltage history: 32 kHz at 45 Hz is 178 samples.
inline constexpr std::size_t kMaxLag = 192;

using InputPair = std::pair<std::uint8_t, std::uint8_t>;

/// Which sums a service needs: every input's sum and square sum, plus the cross products that
/// its elements and line voltages use.
struct ChunkShape {
  std::uint8_t voltages = 0;
  std::uint8_t currents = 0;
  std::uint8_t vi_count = 0;  ///< (voltage input, current input) products, also lagged
  std::array<InputPair, kMaxInputs * kMaxInputs> vi{};
  std::uint8_t vv_count = 0;  ///< voltage cross products, first < second
  std::array<InputPair, kMaxInputs> vv{};
  std::uint8_t ii_count = 0;  ///< current cross products, first < second
  std::array<InputPair, kMaxInputs> ii{};
};

/// Sums over one chunk in the samples' own units (ADC codes or float volts and amperes).
struct ChunkSums {
  std::array<double, kMaxInputs> v_sum{};
  std::array<double, kMaxInputs> v_sq{};
  std::array<double, kMaxInputs> i_sum{};
  std::array<double, kMaxInputs> i_sq{};
  std::array<double, kMaxInputs * kMaxInputs> vi{};
  std::array<double, kMaxInputs * kMaxInputs> vi_lag{};  ///< sum of v[n - lag] * i[n]
  std::array<double, kMaxInputs> vv{};
  std::array<double, kMaxInputs> ii{};
};

/// Chunk planes: v[j][-kMaxLag .. n) (history first), i[k][0 .. n).
struct ChunkPlanes {
  std::array<double*, kMaxInputs> v{};
  std::array<double*, kMaxInputs> i{};
};

/// Converts `n` ADC codes per channel; returns how many codes sit at a clipping rail.
std::size_t convert_chunk(const std::int16_t* const* in, std::size_t offset, std::size_t n,
                          const ChunkShape& shape, const ChunkPlanes& out) noexcept;

/// Converts `n` float samples per channel; returns how many are NaN, infinite or beyond the
/// channel's limit.
std::size_t convert_chunk(const float* const* in, std::size_t offset, std::size_t n,
                          const ChunkShape& shape, const ChunkPlanes& out, double voltage_limit,
                          double current_limit) noexcept;

/// Sums a converted chunk. `lag` is at most kMaxLag.
void sum_chunk(const ChunkShape& shape, const ChunkPlanes& planes, std::size_t n, std::size_t lag,
               ChunkSums& sums) noexcept;

/// Positive-going crossings of `level` in x[0 .. n), where x[-1] is the sample before.
std::size_t count_rising(const double* x, std::size_t n, double level) noexcept;

}  // namespace meter::kernel::detail
