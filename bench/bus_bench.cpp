// The event bus: the cost of one EnergyTick delivered to N subscribers (target: 8 in <= 250 ns),
// and of the kernel's per-tick register booking.
#include <benchmark/benchmark.h>

#include "meter/kernel/bus.h"
#include "meter/kernel/registers.h"

namespace {

using namespace meter::kernel;

// A subscriber that does what a plugin's handler minimally does: read the tick, keep a sum.
struct Subscriber {
  std::int64_t sum = 0;
  void operator()(const EnergyTick& t) { sum += t.delta_mwh[0]; }
};

void BM_EnergyTickToSubscribers(benchmark::State& state) {
  EventBus bus;
  std::vector<Subscriber> subs(static_cast<std::size_t>(state.range(0)));
  for (auto& s : subs) bus.subscribe<EnergyTick>([&s](const EnergyTick& t) { s(t); });
  EnergyTick tick;
  tick.delta_mwh[0] = 1;
  for (auto _ : state) {
    ++tick.sequence;
    bus.publish(tick);
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(subs.front().sum);
}
BENCHMARK(BM_EnergyTickToSubscribers)->Arg(1)->Arg(8)->Arg(32);

void BM_RegisterBooking(benchmark::State& state) {
  EnergyRegisters r;
  std::int64_t e = 333'333;
  for (auto _ : state) {
    auto moved = r.apply(e, e / 3);
    benchmark::DoNotOptimize(moved);
    e = -e;
  }
}
BENCHMARK(BM_RegisterBooking);

}  // namespace

BENCHMARK_MAIN();
