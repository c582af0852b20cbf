// A hostile plugin: it fails the worst ways a native plugin can, in its tick handler (see
// crasher.toml). The meter must keep metering and name it.
#include <cstdlib>
#include <csignal>
#include <string>

#include <meter/sdk/plugin.h>

namespace {

class Crasher {
 public:
  explicit Crasher(meter::sdk::Host& host)
      : host_(host),
        mode_(host.config<std::string>("mode")),
        after_(host.config<std::int64_t>("after_ticks")) {}

  void start() {
    host_.on<meter_energy_tick>([this](const meter_energy_tick&) {
      if (++ticks_ < after_) return;
      if (mode_ == "abort") std::abort();
      if (mode_ == "hang") {
        for (volatile std::uint64_t spin = 0;; spin = spin + 1) {
        }
      }
      std::raise(SIGSEGV);
    });
  }

 private:
  meter::sdk::Host& host_;
  std::string mode_;
  std::int64_t after_;
  std::int64_t ticks_ = 0;
};

}  // namespace

METER_PLUGIN(Crasher)
