// The hot loops, compiled for AVX-512, AVX2 and plain x86-64 and chosen at load time. For int16
// input every product and sum is an exact integer in double, so the reordering that
// vectorisation does changes nothing.
#include "detail/chunk_kernels.h"

#include <cmath>
#include <limits>

// Defining METER_HOT_CLONES empty builds the plain x86-64 code alone (to test it).
#if !defined(METER_HOT_CLONES)
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define METER_HOT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define METER_HOT_CLONES
#endif
#endif

namespace meter::kernel::detail {
namespace {

constexpr std::int16_t kRailLow = std::numeric_limits<std::int16_t>::min();
constexpr std::int16_t kRailHigh = std::numeric_limits<std::int16_t>::max();

[[gnu::always_inline]] inline std::size_t convert16(const std::int16_t* in, double* out,
                                                    std::size_t n) {
  unsigned clipped = 0;
#pragma omp simd reduction(+ : clipped)
  for (std::size_t t = 0; t < n; ++t) {
    const std::int16_t x = in[t];
    out[t] = x;
    clipped += static_cast<unsigned>((x == kRailLow) | (x == kRailHigh));
  }
  return clipped;
}

[[gnu::always_inline]] inline std::size_t convert_float(const float* in, double* out, std::size_t n,
                                                        double limit) {
  unsigned bad = 0;
#pragma omp simd reduction(+ : bad)
  for (std::size_t t = 0; t < n; ++t) {
    const double x = in[t];
    out[t] = x;
    bad += static_cast<unsigned>(!(std::fabs(x) <= limit));  // NaN compares false
  }
  return bad;
}

[[gnu::always_inline]] inline void sum_and_squares(const double* x, std::size_t n, double& sum,
                                                   double& sq) {
  double s = 0;
  double q = 0;
#pragma omp simd reduction(+ : s, q)
  for (std::size_t t = 0; t < n; ++t) {
    s += x[t];
    q += x[t] * x[t];
  }
  sum = s;
  sq = q;
}

[[gnu::always_inline]] inline void products(const double* v, const double* v_lag, const double* i,
                                            std::size_t n, double& vi, double& vi_lag) {
  double p = 0;
  double x = 0;
#pragma omp simd reduction(+ : p, x)
  for (std::size_t t = 0; t < n; ++t) {
    p += v[t] * i[t];
    x += v_lag[t] * i[t];
  }
  vi = p;
  vi_lag = x;
}

[[gnu::always_inline]] inline double dot(const double* a, const double* b, std::size_t n) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (std::size_t t = 0; t < n; ++t) s += a[t] * b[t];
  return s;
}

}  // namespace

METER_HOT_CLONES
std::size_t convert_chunk(const std::int16_t* const* in, std::size_t offset, std::size_t n,
                          const ChunkShape& shape, const ChunkPlanes& out) noexcept {
  std::size_t clipped = 0;
  for (std::size_t j = 0; j < shape.voltages; ++j)
    clipped += convert16(in[j] + offset, out.v[j], n);
  for (std::size_t k = 0; k < shape.currents; ++k) {
    clipped += convert16(in[shape.voltages + k] + offset, out.i[k], n);
  }
  return clipped;
}

METER_HOT_CLONES
std::size_t convert_chunk(const float* const* in, std::size_t offset, std::size_t n,
                          const ChunkShape& shape, const ChunkPlanes& out, double voltage_limit,
                          double current_limit) noexcept {
  std::size_t bad = 0;
  for (std::size_t j = 0; j < shape.voltages; ++j) {
    bad += convert_float(in[j] + offset, out.v[j], n, voltage_limit);
  }
  for (std::size_t k = 0; k < shape.currents; ++k) {
    bad += convert_float(in[shape.voltages + k] + offset, out.i[k], n, current_limit);
  }
  return bad;
}

METER_HOT_CLONES
void sum_chunk(const ChunkShape& shape, const ChunkPlanes& planes, std::size_t n, std::size_t lag,
               ChunkSums& sums) noexcept {
  for (std::size_t j = 0; j < shape.voltages; ++j) {
    sum_and_squares(planes.v[j], n, sums.v_sum[j], sums.v_sq[j]);
  }
  for (std::size_t k = 0; k < shape.currents; ++k) {
    sum_and_squares(planes.i[k], n, sums.i_sum[k], sums.i_sq[k]);
  }
  for (std::size_t p = 0; p < shape.vi_count; ++p) {
    const double* v = planes.v[shape.vi[p].first];
    products(v, v - lag, planes.i[shape.vi[p].second], n, sums.vi[p], sums.vi_lag[p]);
  }
  for (std::size_t p = 0; p < shape.vv_count; ++p) {
    sums.vv[p] = dot(planes.v[shape.vv[p].first], planes.v[shape.vv[p].second], n);
  }
  for (std::size_t p = 0; p < shape.ii_count; ++p) {
    sums.ii[p] = dot(planes.i[shape.ii[p].first], planes.i[shape.ii[p].second], n);
  }
}

METER_HOT_CLONES
std::size_t count_rising(const double* x, std::size_t n, double level) noexcept {
  unsigned count = 0;
#pragma omp simd reduction(+ : count)
  for (std::size_t t = 0; t < n; ++t) {
    count += static_cast<unsigned>((x[t - 1] < level) & (x[t] >= level));
  }
  return count;
}

}  // namespace meter::kernel::detail
