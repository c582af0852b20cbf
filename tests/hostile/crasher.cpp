// A hostile plugin: it fails the worst ways a native plugin can, in its tick handler (see
// crasher.toml): it segfaults, aborts, spins, or leaks 4 MiB a tick. The meter must keep
// metering and name it.
#include <cstdlib>
#include <csignal>
#include <cstring>
#include <string>
#include <vector>

#include <meter/sdk/plugin.h>

namespace {

constexpr std::size_t kLeakBytes = std::size_t{4} << 20;

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
      if (mode_ == "leak") {
        // Kept and never given back, as a plugin that forgets its buffers does; written, so
        // that it is resident too.
        auto* block = static_cast<char*>(std::malloc(kLeakBytes));
        if (block != nullptr) std::memset(block, 0x5a, kLeakBytes);
        kept_.push_back(block);
        return;
      }
      if (mode_ == "hang") {
        for (;;) asm volatile("" ::: "memory");  // a loop the compiler may not remove
      }
      std::raise(SIGSEGV);
    });
  }

 private:
  meter::sdk::Host& host_;
  std::string mode_;
  std::int64_t after_;
  std::int64_t ticks_ = 0;
  std::vector<char*> kept_;
};

}  // namespace

METER_PLUGIN(Crasher)
