#include "values.h"

#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace meter::apps::meterctl {

namespace {

constexpr int kMwhDecimals = 6;  // kWh -> mWh
constexpr std::size_t kOctetsShown = 32;

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool is_energy(int unit) { return unit == 30 || unit == 31 || unit == 32; }  // Wh, VAh, varh

template <class Int>
bool parse_integer(std::string_view text, Int& out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty() || text.front() == '+') return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

Outcome<std::int64_t> parse_kwh(std::string_view text) {
  const auto refuse = [&text](std::string_view why) {
    return usage_error(fmt::format("\"{}\" is not a reading in kWh: {}", text, why));
  };
  const auto point = text.find('.');
  const std::string_view whole = text.substr(0, point);
  std::string_view fraction = point == std::string_view::npos ? std::string_view{}
                                                              : text.substr(point + 1);
  if (!all_digits(whole) || (point != std::string_view::npos && !all_digits(fraction))) {
    return refuse("write digits with an optional decimal point, such as 12.5");
  }
  while (fraction.size() > kMwhDecimals && fraction.back() == '0') fraction.remove_suffix(1);
  if (fraction.size() > kMwhDecimals) {
    return refuse("the register counts mWh, so at most 6 decimals");
  }
  // Whole kWh times 10^6 plus the fraction's digits padded to six: integers all the way.
  std::string digits(whole);
  digits.append(fraction);
  digits.append(kMwhDecimals - fraction.size(), '0');
  std::int64_t mwh = 0;
  for (char c : digits) {
    const int digit = c - '0';
    if (mwh > (std::numeric_limits<std::int64_t>::max() - digit) / 10) {
      return refuse("more than the register holds");
    }
    mwh = mwh * 10 + digit;
  }
  return mwh;
}

namespace {

// The integer `digits` with a decimal point `places` digits from the right: ("5", 3) -> "0.005".
std::string place_point(bool negative, std::string digits, std::size_t places) {
  const bool zero = digits.find_first_not_of('0') == std::string::npos;
  if (places > 0) {
    if (digits.size() <= places) digits.insert(0, places + 1 - digits.size(), '0');
    digits.insert(digits.size() - places, 1, '.');
  }
  return negative && !zero ? "-" + digits : digits;
}

}  // namespace

std::string scaled_decimal(bool negative, std::uint64_t magnitude, int exponent) {
  std::string digits = std::to_string(magnitude);
  if (exponent >= 0) {
    if (magnitude != 0) digits.append(static_cast<std::size_t>(exponent), '0');
    return place_point(negative, digits, 0);
  }
  return place_point(negative, digits, static_cast<std::size_t>(-exponent));
}

std::string unit_symbol(int unit) {
  switch (unit) {
    case 1: return "a";
    case 2: return "mo";
    case 3: return "wk";
    case 4: return "d";
    case 5: return "h";
    case 6: return "min";
    case 7: return "s";
    case 8: return "°";
    case 9: return "°C";
    case 10: return "currency";
    case 11: return "m";
    case 12: return "m/s";
    case 13: return "m³";
    case 14: return "m³ (corrected)";
    case 15: return "m³/h";
    case 16: return "m³/h (corrected)";
    case 17: return "m³/d";
    case 18: return "m³/d (corrected)";
    case 19: return "l";
    case 20: return "kg";
    case 21: return "N";
    case 22: return "Nm";
    case 23: return "Pa";
    case 24: return "bar";
    case 25: return "J";
    case 26: return "J/h";
    case 27: return "W";
    case 28: return "VA";
    case 29: return "var";
    case 30: return "Wh";
    case 31: return "VAh";
    case 32: return "varh";
    case 33: return "A";
    case 34: return "C";
    case 35: return "V";
    case 36: return "V/m";
    case 37: return "F";
    case 38: return "Ω";
    case 39: return "Ωm²/m";
    case 40: return "Wb";
    case 41: return "T";
    case 42: return "A/m";
    case 43: return "H";
    case 44: return "Hz";
    case 45: return "1/Wh";
    case 46: return "1/varh";
    case 47: return "1/VAh";
    case 48: return "V²h";
    case 49: return "A²h";
    case 50: return "kg/s";
    case 51: return "S";
    case 52: return "K";
    case 53: return "1/(V²h)";
    case 54: return "1/(A²h)";
    case 55: return "1/m³";
    case 56: return "%";
    case 57: return "Ah";
    case 60: return "Wh/m³";
    case 61: return "J/m³";
    case 62: return "mol %";
    case 63: return "g/m³";
    case 64: return "Pa s";
    case 65: return "J/kg";
    case 66: return "g/cm²";
    case 67: return "atm";
    case 70: return "dBm";
    case 71: return "dBµV";
    case 72: return "dB";
    case 254: return "(other unit)";
    case 0:
    case 255: return "";
    default: return fmt::format("unit {}", unit);
  }
}

namespace {

std::string with_unit(std::string number, const std::string& unit) {
  return unit.empty() ? number : number + " " + unit;
}

std::string format_integer(bool negative, std::uint64_t magnitude, int unit, int scaler) {
  if (!is_energy(unit)) {
    return with_unit(scaled_decimal(negative, magnitude, scaler), unit_symbol(unit));
  }
  // In k-units, exactly: at least three decimals, trailing zeros beyond them dropped.
  const int exponent = scaler - 3;
  std::string digits = std::to_string(magnitude);
  std::size_t places = 3;
  if (exponent < -3) {
    places = static_cast<std::size_t>(-exponent);
  } else if (magnitude != 0) {
    digits.append(static_cast<std::size_t>(exponent + 3), '0');
  }
  std::string text = place_point(negative, digits, places);
  const auto point = text.find('.');
  while (text.size() > point + 4 && text.back() == '0') text.pop_back();
  return with_unit(text, "k" + unit_symbol(unit));
}

}  // namespace

std::string format_value(const Value& value, int unit, int scaler) {
  if (const auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  if (const auto* i = std::get_if<std::int64_t>(&value)) {
    const bool negative = *i < 0;
    const std::uint64_t magnitude =
        negative ? ~static_cast<std::uint64_t>(*i) + 1 : static_cast<std::uint64_t>(*i);
    return format_integer(negative, magnitude, unit, scaler);
  }
  if (const auto* u = std::get_if<std::uint64_t>(&value)) {
    return format_integer(false, *u, unit, scaler);
  }
  if (const auto* d = std::get_if<double>(&value)) {
    if (is_energy(unit)) {
      return with_unit(fmt::format("{:.3f}", *d * std::pow(10.0, scaler - 3)),
                       "k" + unit_symbol(unit));
    }
    return with_unit(fmt::format("{:.3f}", *d * std::pow(10.0, scaler)), unit_symbol(unit));
  }
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  const auto& octets = std::get<std::vector<std::uint8_t>>(value);
  if (octets.size() <= kOctetsShown) return hex(octets.data(), octets.size());
  return fmt::format("{}... ({} octets)", hex(octets.data(), kOctetsShown), octets.size());
}

std::string_view type_name(meter_value_type type) {
  switch (type) {
    case METER_VALUE_BOOLEAN: return "bool";
    case METER_VALUE_INTEGER: return "int";
    case METER_VALUE_UNSIGNED: return "uint";
    case METER_VALUE_REAL: return "real";
    case METER_VALUE_TEXT: return "text";
    case METER_VALUE_OCTETS: return "octets";
  }
  return "unknown";
}

Outcome<meter_value_type> parse_type(std::string_view name) {
  for (auto type : {METER_VALUE_BOOLEAN, METER_VALUE_INTEGER, METER_VALUE_UNSIGNED,
                    METER_VALUE_REAL, METER_VALUE_TEXT}) {
    if (name == type_name(type)) return type;
  }
  return usage_error(
      fmt::format("\"{}\" is not a value type: write bool, int, uint, real or text", name));
}

Outcome<Value> parse_value(meter_value_type type, std::string_view text) {
  const auto refuse = [&](std::string_view expected) {
    return usage_error(fmt::format("\"{}\" is not {}", text, expected));
  };
  switch (type) {
    case METER_VALUE_BOOLEAN:
      if (text == "true" || text == "1") return Value{true};
      if (text == "false" || text == "0") return Value{false};
      return refuse("a bool (true, false, 1 or 0)");
    case METER_VALUE_INTEGER: {
      std::int64_t v = 0;
      if (!parse_integer(text, v)) return refuse("an integer (int, 64 bits)");
      return Value{v};
    }
    case METER_VALUE_UNSIGNED: {
      std::uint64_t v = 0;
      if (!parse_integer(text, v)) return refuse("an unsigned integer (uint, 64 bits)");
      return Value{v};
    }
    case METER_VALUE_REAL: {
      double v = 0;
      std::string_view t = text;
      if (!t.empty() && t.front() == '+') t.remove_prefix(1);
      const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (t.empty() || ec != std::errc() || end != t.data() + t.size() || !std::isfinite(v)) {
        return refuse("a real number (such as 1.5 or -2e3)");
      }
      return Value{v};
    }
    case METER_VALUE_TEXT: return Value{std::string(text)};
    case METER_VALUE_OCTETS: break;
  }
  return refuse("a value meterctl can write (bool, int, uint, real or text)");
}

std::string hex(const std::uint8_t* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0x0F];
  }
  return out;
}

}  // namespace meter::apps::meterctl
