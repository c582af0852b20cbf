// The stored form of a record's value, shared by every medium of the NVM store (the SQLite
// file, the tick journal, the board's copy): little-endian bytes, the type kept beside them.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "meter/kernel/registry.h"

namespace meter::kernel::detail {

/// Appends nothing: `out` is replaced by the value's bytes.
inline void encode_value(const Value& v, std::vector<std::uint8_t>& out) {
  out.clear();
  auto put64 = [&out](std::uint64_t x) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(x >> (8 * i)));
  };
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          out.push_back(x ? 1 : 0);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          put64(static_cast<std::uint64_t>(x));
        } else if constexpr (std::is_same_v<T, std::uint64_t>) {
          put64(x);
        } else if constexpr (std::is_same_v<T, double>) {
          put64(std::bit_cast<std::uint64_t>(x));
        } else {
          out.insert(out.end(), x.begin(), x.end());
        }
      },
      v);
}

/// The length of the stored form.
inline std::size_t encoded_size(const Value& v) noexcept {
  switch (v.index()) {
    case 0: return 1;
    case 4: return std::get<std::string>(v).size();
    case 5: return std::get<std::vector<std::uint8_t>>(v).size();
    default: return 8;
  }
}

/// The stored form into `out`, which holds encoded_size(v) bytes.
inline void encode_value_to(const Value& v, std::uint8_t* out) noexcept {
  auto put64 = [out](std::uint64_t x) {
    for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(x >> (8 * i));
  };
  switch (v.index()) {
    case 0: out[0] = std::get<bool>(v) ? 1 : 0; break;
    case 1: put64(static_cast<std::uint64_t>(std::get<std::int64_t>(v))); break;
    case 2: put64(std::get<std::uint64_t>(v)); break;
    case 3: put64(std::bit_cast<std::uint64_t>(std::get<double>(v))); break;
    case 4: {
      const auto& t = std::get<std::string>(v);
      if (!t.empty()) std::memcpy(out, t.data(), t.size());
      break;
    }
    default: {
      const auto& b = std::get<std::vector<std::uint8_t>>(v);
      if (!b.empty()) std::memcpy(out, b.data(), b.size());
      break;
    }
  }
}

/// The value of `n` stored bytes of `type`; nullopt when they cannot be one.
inline std::optional<Value> decode_value(int type, const std::uint8_t* p, std::size_t n) {
  auto get64 = [p] {
    std::uint64_t x = 0;
    for (int i = 0; i < 8; ++i) x |= std::uint64_t{p[i]} << (8 * i);
    return x;
  };
  switch (static_cast<ValueType>(type)) {
    case ValueType::boolean:
      if (n != 1 || p[0] > 1) return std::nullopt;
      return Value{p[0] == 1};
    case ValueType::integer:
      if (n != 8) return std::nullopt;
      return Value{static_cast<std::int64_t>(get64())};
    case ValueType::unsigned_integer:
      if (n != 8) return std::nullopt;
      return Value{get64()};
    case ValueType::real:
      if (n != 8) return std::nullopt;
      return Value{std::bit_cast<double>(get64())};
    case ValueType::text:
      if (n == 0) return Value{std::string()};
      return Value{std::string(reinterpret_cast<const char*>(p), n)};
    case ValueType::octets:
      if (n == 0) return Value{std::vector<std::uint8_t>()};
      return Value{std::vector<std::uint8_t>(p, p + n)};
  }
  return std::nullopt;
}

}  // namespace meter::kernel::detail
