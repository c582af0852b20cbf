// Formatting of OBIS codes: the SDK's, as plugins format them.
#include "meter/kernel/obis.h"

namespace meter::kernel {

std::string Obis::to_string() const { return sdk::to_string(meter_obis{a, b, c, d, e, f}); }

}  // namespace meter::kernel
