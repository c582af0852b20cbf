// Physical units of objects, numbered as in the DLMS/COSEM unit enumeration (IEC 62056-6-2),
// so that protocol plugins can pass them through unchanged.
#pragma once

#include <cstdint>
#include <string_view>

namespace meter::kernel {

enum class Unit : std::uint8_t {
  year = 1,
  month = 2,
  week = 3,
  day = 4,
  hour = 5,
  minute = 6,
  second = 7,
  degree = 8,  ///< phase angle
  celsius = 9,
  watt = 27,
  volt_ampere = 28,
  var = 29,
  watt_hour = 30,
  volt_ampere_hour = 31,
  var_hour = 32,
  ampere = 33,
  volt = 35,
  hertz = 44,
  per_watt_hour = 45,  ///< active energy meter constant (pulses per Wh)
  percent = 56,
  none = 255,  ///< a count, a ratio, a text: no physical unit
};

/// The symbol shown beside a value: "Wh", "V", "" for none.
std::string_view unit_symbol(Unit unit) noexcept;

}  // namespace meter::kernel
