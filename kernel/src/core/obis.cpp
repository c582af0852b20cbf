// Formatting of OBIS codes.
#include "meter/kernel/obis.h"

#include <fmt/format.h>

namespace meter::kernel {

std::string Obis::to_string() const {
  if (f == 255) return fmt::format("{}-{}:{}.{}.{}", a, b, c, d, e);
  return fmt::format("{}-{}:{}.{}.{}*{}", a, b, c, d, e, f);
}

}  // namespace meter::kernel
