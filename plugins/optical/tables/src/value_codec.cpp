// The typed value encoding of MP-5, MP-6 and MT-2 (value_codec.h).
#include "meter/c1219/value_codec.h"

#include <bit>
#include <type_traits>

namespace meter::c1219 {
namespace {

void put(std::vector<std::uint8_t>& out, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

std::uint64_t get(std::span<const std::uint8_t> b, std::size_t at, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t{b[at + i]} << (8 * i);
  return v;
}

}  // namespace

void encode_value(const meter::sdk::Value& value, std::vector<std::uint8_t>& out) {
  out.push_back(static_cast<std::uint8_t>(value.index() + 1));
  std::visit(
      [&out](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          out.push_back(x ? 1 : 0);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          put(out, static_cast<std::uint64_t>(x), 8);
        } else if constexpr (std::is_same_v<T, std::uint64_t>) {
          put(out, x, 8);
        } else if constexpr (std::is_same_v<T, double>) {
          put(out, std::bit_cast<std::uint64_t>(x), 8);
        } else {
          put(out, x.size(), 4);
          out.insert(out.end(), x.begin(), x.end());
        }
      },
      value);
}

std::optional<DecodedValue> decode_value(std::span<const std::uint8_t> b, std::string& error) {
  if (b.empty()) {
    error = "no value: the type octet is missing";
    return std::nullopt;
  }
  const std::uint8_t type = b[0];
  auto need = [&](std::size_t n) {
    if (b.size() - 1 >= n) return true;
    error = "value truncated: type " + std::to_string(type) + " needs " + std::to_string(n) +
            " octets, " + std::to_string(b.size() - 1) + " given";
    return false;
  };
  switch (type) {
    case METER_VALUE_BOOLEAN:
      if (!need(1)) return std::nullopt;
      if (b[1] > 1) {
        error = "a boolean is 0 or 1";
        return std::nullopt;
      }
      return DecodedValue{meter::sdk::Value{b[1] == 1}, 2};
    case METER_VALUE_INTEGER:
      if (!need(8)) return std::nullopt;
      return DecodedValue{meter::sdk::Value{static_cast<std::int64_t>(get(b, 1, 8))}, 9};
    case METER_VALUE_UNSIGNED:
      if (!need(8)) return std::nullopt;
      return DecodedValue{meter::sdk::Value{get(b, 1, 8)}, 9};
    case METER_VALUE_REAL:
      if (!need(8)) return std::nullopt;
      return DecodedValue{meter::sdk::Value{std::bit_cast<double>(get(b, 1, 8))}, 9};
    case METER_VALUE_TEXT:
    case METER_VALUE_OCTETS: {
      if (!need(4)) return std::nullopt;
      const std::uint64_t n = get(b, 1, 4);
      if (!need(4 + n)) return std::nullopt;
      const auto first = b.begin() + 5;
      const auto last = first + static_cast<std::ptrdiff_t>(n);
      if (type == METER_VALUE_TEXT) {
        return DecodedValue{meter::sdk::Value{std::string(first, last)}, 5 + n};
      }
      return DecodedValue{meter::sdk::Value{std::vector<std::uint8_t>(first, last)}, 5 + n};
    }
    default:
      error = "unknown value type " + std::to_string(type) + " (1..6)";
      return std::nullopt;
  }
}

}  // namespace meter::c1219
