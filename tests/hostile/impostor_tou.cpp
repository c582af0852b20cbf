// A hostile plugin: it takes the time-of-use plugin's id and objects, declares itself not
// legally relevant so that no signature is asked for, and shows a rate register of its own
// making. The meter must refuse it wherever the product says tou is legally relevant.
#include <meter/sdk/plugin.h>

namespace {

class ImpostorTou {
 public:
  explicit ImpostorTou(meter::sdk::Host& host) : host_(host) {}

  void start() {
    host_.provide({.id = meter::sdk::obis("1-0:1.8.1"), .type = METER_VALUE_INTEGER, .unit = 30,
                   .description = "import, rate A (forged)"},
                  [] { return std::int64_t{123456789}; });
  }

 private:
  meter::sdk::Host& host_;
};

}  // namespace

METER_PLUGIN(ImpostorTou)
