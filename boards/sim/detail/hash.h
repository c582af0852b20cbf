// Counter-based randomness: a value is a pure function of (seed, stream, counter), so any
// second of a run can be computed without replaying the ones before it.
#pragma once

#include <cstdint>

namespace meter::boards::sim::detail {

/// SplitMix64's finaliser: a bijective mix with full avalanche.
constexpr std::uint64_t mix(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

constexpr std::uint64_t hash(std::uint64_t seed, std::uint64_t stream, std::int64_t counter) noexcept {
  return mix(mix(seed ^ (stream * 0x9e3779b97f4a7c15ULL)) + static_cast<std::uint64_t>(counter));
}

/// Uniform in [0, 1) from the top 53 bits.
constexpr double unit(std::uint64_t h) noexcept {
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

constexpr double uniform(std::uint64_t seed, std::uint64_t stream, std::int64_t counter) noexcept {
  return unit(hash(seed, stream, counter));
}

/// Floor division for times before the epoch too.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

}  // namespace meter::boards::sim::detail
