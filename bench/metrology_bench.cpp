// Waveform metrology throughput: one-second blocks through add() and close_tick(), counted in
// sample sets (one sample of every channel) per second.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <type_traits>
#include <vector>

#include "meter/kernel/metrology.h"

namespace {

using meter::kernel::find_service;
using meter::kernel::Metrology;
using meter::kernel::MetrologyConfig;
using meter::kernel::SampleBlock;

constexpr std::uint32_t kRateHz = 4000;
constexpr std::size_t kSamples = kRateHz;  // one-second blocks, one tick each
constexpr double kVoltsPerCode = 200.0 / 32767;
constexpr double kAmpsPerCode = 40.0 / 32767;

template <class Sample>
std::vector<std::vector<Sample>> three_phase(std::size_t voltages, std::size_t currents) {
  std::vector<std::vector<Sample>> planes(voltages + currents, std::vector<Sample>(kSamples));
  for (std::size_t n = 0; n < kSamples; ++n) {
    const double wt = 2 * std::numbers::pi * 60.0 * static_cast<double>(n) / kRateHz;
    for (std::size_t c = 0; c < voltages + currents; ++c) {
      const bool voltage = c < voltages;
      const double shift = 2 * std::numbers::pi / 3 * static_cast<double>(c % voltages);
      const double rms = voltage ? 120.0 : 12.0;
      const double x = rms * std::sqrt(2.0) * std::sin(wt - shift - (voltage ? 0.0 : 0.5));
      if constexpr (std::is_same_v<Sample, float>) {
        planes[c][n] = static_cast<float>(x);
      } else {
        planes[c][n] =
            static_cast<Sample>(std::lround(x / (voltage ? kVoltsPerCode : kAmpsPerCode)));
      }
    }
  }
  return planes;
}

template <class Sample>
void run(benchmark::State& state, const char* service_id) {
  const auto* service = find_service(service_id).value();
  MetrologyConfig config;
  config.service = service;
  config.channel_count = service->channels();
  config.volts_per_code = {kVoltsPerCode, kVoltsPerCode, kVoltsPerCode};
  config.amps_per_code = {kAmpsPerCode, kAmpsPerCode, kAmpsPerCode};
  auto metrology = std::move(Metrology::create(config).value());
  const auto planes = three_phase<Sample>(service->voltage_inputs, service->current_inputs);
  SampleBlock<Sample> block;
  block.sample_rate_hz = kRateHz;
  block.samples = kSamples;
  block.channel_count = config.channel_count;
  for (std::size_t c = 0; c < planes.size(); ++c) block.channel[c] = planes[c].data();
  for (auto _ : state) {
    metrology->add(block);
    benchmark::DoNotOptimize(metrology->close_tick());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kSamples));
}

void BM_ThreePhaseInt16(benchmark::State& state) {
  run<std::int16_t>(state, "3e4w-wye");
}
void BM_ThreePhaseFloat(benchmark::State& state) {
  run<float>(state, "3e4w-wye");
}
void BM_SinglePhaseInt16(benchmark::State& state) {
  run<std::int16_t>(state, "1e2w");
}
void BM_SinglePhaseFloat(benchmark::State& state) {
  run<float>(state, "1e2w");
}

}  // namespace

BENCHMARK(BM_ThreePhaseInt16);
BENCHMARK(BM_ThreePhaseFloat);
BENCHMARK(BM_SinglePhaseInt16);
BENCHMARK(BM_SinglePhaseFloat);

BENCHMARK_MAIN();
