// Unit symbols for display and reports.
#include "meter/kernel/units.h"

namespace meter::kernel {

std::string_view unit_symbol(Unit unit) noexcept {
  switch (unit) {
    case Unit::year: return "a";
    case Unit::month: return "mo";
    case Unit::week: return "wk";
    case Unit::day: return "d";
    case Unit::hour: return "h";
    case Unit::minute: return "min";
    case Unit::second: return "s";
    case Unit::degree: return "°";
    case Unit::celsius: return "°C";
    case Unit::watt: return "W";
    case Unit::volt_ampere: return "VA";
    case Unit::var: return "var";
    case Unit::watt_hour: return "Wh";
    case Unit::volt_ampere_hour: return "VAh";
    case Unit::var_hour: return "varh";
    case Unit::ampere: return "A";
    case Unit::volt: return "V";
    case Unit::hertz: return "Hz";
    case Unit::per_watt_hour: return "1/Wh";
    case Unit::percent: return "%";
    case Unit::none: return "";
  }
  return "";
}

}  // namespace meter::kernel
