// The typed value encoding of the manufacturer procedures MP-5 and MP-6 and of table MT-2:
// u8 type (METER_VALUE_*: 1 boolean, 2 integer, 3 unsigned, 4 real, 5 text, 6 octets), then
//   boolean u8 (0 or 1) | integer i64 | unsigned u64 | real IEEE-754 binary64 |
//   text, octets: u32 length and that many bytes (text UTF-8),
// every integer little-endian. meterctl encodes and decodes with these functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <meter/sdk/plugin.h>

namespace meter::c1219 {

/// Appends the encoding of `value` to `out`.
void encode_value(const meter::sdk::Value& value, std::vector<std::uint8_t>& out);

/// A decoded value and the bytes it took.
struct DecodedValue {
  meter::sdk::Value value;
  std::size_t size = 0;
};

/// Decodes one value from the front of `bytes`; nullopt (and `error`) when malformed.
std::optional<DecodedValue> decode_value(std::span<const std::uint8_t> bytes, std::string& error);

}  // namespace meter::c1219
