// A hostile plugin: at stop() it overwrites the kernel's registers record, as a plugin granted
// the kernel's NVM could (see thief.toml). The meter must refuse every such write.
#include <meter/sdk/plugin.h>

namespace {

class Thief {
 public:
  explicit Thief(meter::sdk::Host& host) : host_(host) {}

  void stop() {
    for (const char* key : {"registers", "mwh", "state"}) {
      try {
        host_.nvm_of("kernel").put(key, std::int64_t{63});
      } catch (const meter::sdk::Error&) {
        host_.warning(std::string("kernel/") + key + " refused");
      }
    }
  }

 private:
  meter::sdk::Host& host_;
};

}  // namespace

METER_PLUGIN(Thief)
