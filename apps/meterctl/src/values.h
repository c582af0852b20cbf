// Numbers and values as a meter shop types and reads them: kWh typed as decimal text turned into
// the register's mWh exactly (fixed point, never through floating point), registers printed with
// their unit and scaler exactly, and the typed values of MP-5/MP-6 parsed from and printed as
// text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <meter/sdk/abi.h>
#include <meter/sdk/plugin.h>

#include "outcome.h"

namespace meter::apps::meterctl {

using Value = meter::sdk::Value;

/// "12.5" kWh -> 12 500 000 mWh. Digits, optionally a point and more digits; at most six
/// decimals count (a mWh), further decimals must be zeros. No sign, no exponent, no grouping.
/// A usage failure for anything else or for more than the register holds.
Outcome<std::int64_t> parse_kwh(std::string_view text);

/// The exact decimal text of magnitude x 10^exponent with the sign: (12500, -3) -> "12.500",
/// (-5, -3) -> "-0.005", (7, 2) -> "700". Never rounds.
std::string scaled_decimal(bool negative, std::uint64_t magnitude, int exponent);

/// The symbol of a DLMS/COSEM unit (IEC 62056-6-2): 30 -> "Wh", 27 -> "W", 255 -> "".
/// An unknown code is "unit N".
std::string unit_symbol(int unit);

/// How one value reads, with its unit: energy in Wh, varh or VAh is shown in kWh, kvarh or
/// kVAh, exactly, with at least three decimals ("12.500 kWh", "1.234567 kWh"); other integers
/// exactly in their unit ("5000.003 W"); reals with three decimals after the scaler; booleans
/// "true"/"false"; text as it is; octets as hex.
std::string format_value(const Value& value, int unit, int scaler);

/// "bool", "int", "uint", "real", "text", "octets": meterctl's names of METER_VALUE_*.
std::string_view type_name(meter_value_type type);

/// A value of `type` from command-line text: bool (true/false/1/0), int, uint, real, text.
/// A usage failure when the text is not one.
Outcome<Value> parse_value(meter_value_type type, std::string_view text);

/// The METER_VALUE_* for a type name of `write` (bool|int|uint|real|text).
Outcome<meter_value_type> parse_type(std::string_view name);

/// Bytes as lowercase hex without separators.
std::string hex(const std::uint8_t* data, std::size_t size);

}  // namespace meter::apps::meterctl
