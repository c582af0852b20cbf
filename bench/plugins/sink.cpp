// Benchmark plugin: the same work per tick as the direct slot it is compared with.
#include <meter/sdk/plugin.h>

namespace {
class Sink {
 public:
  explicit Sink(meter::sdk::Host& host) : host_(host) {}
  void start() {
    host_.provide({.id = meter::sdk::obis("0-0:96.201.0"), .type = METER_VALUE_UNSIGNED,
                   .description = "Sum of tick sequence numbers"},
                  [this] { return sum_; });
    host_.on<meter_energy_tick>([this](const meter_energy_tick& t) { sum_ += t.sequence; });
  }

 private:
  meter::sdk::Host& host_;
  std::uint64_t sum_ = 0;
};
}  // namespace

METER_PLUGIN(Sink)
