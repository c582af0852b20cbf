// The recharge history object (0-0:128.30.11) of the prepaid plugin: its octets, for readers
// such as a head-end or meterd. Standard library only.
//
// Layout, little-endian:
//   byte 0      format, 1
//   byte 1      currency decimals of the amounts' minor unit (2 for cents)
//   byte 2..3   number of records that follow, n (uint16)
//   n records, newest first, 32 bytes each:
//     int64  time_utc_ms        when the token was accepted (ms since the epoch, UTC; 0 unknown)
//     int64  amount_milli       credit bought, in 1/1000 of the minor unit
//     int64  credit_after_milli available credit right after the purchase, same unit
//     uint32 token_id           the token's id (minutes since 2020-01-01T00:00Z of its issue)
//     uint32 reserved           0
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace meter::plugins::prepaid {

inline constexpr std::uint8_t kHistoryFormat = 1;
inline constexpr std::size_t kHistoryHeaderBytes = 4;
inline constexpr std::size_t kPurchaseBytes = 32;

/// One purchase of the recharge history.
struct Purchase {
  std::int64_t time_utc_ms = 0;
  std::int64_t amount_milli = 0;
  std::int64_t credit_after_milli = 0;
  std::uint32_t token_id = 0;
  friend bool operator==(const Purchase&, const Purchase&) = default;
};

/// A decoded history object.
struct History {
  std::uint8_t currency_decimals = 2;
  std::vector<Purchase> newest_first;
};

namespace detail {
inline void put_le(std::vector<std::uint8_t>& out, std::uint64_t v, std::size_t bytes) {
  for (std::size_t i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
inline std::uint64_t get_le(const std::uint8_t* p, std::size_t bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}
}  // namespace detail

/// Appends the object's octets for `newest_first` (at most 65535 records) to `out`.
inline void encode_history(const std::vector<Purchase>& newest_first,
                           std::uint8_t currency_decimals, std::vector<std::uint8_t>& out) {
  out.push_back(kHistoryFormat);
  out.push_back(currency_decimals);
  const std::size_t n = newest_first.size() > 0xFFFF ? 0xFFFF : newest_first.size();
  detail::put_le(out, n, 2);
  for (std::size_t i = 0; i < n; ++i) {
    const Purchase& p = newest_first[i];
    detail::put_le(out, static_cast<std::uint64_t>(p.time_utc_ms), 8);
    detail::put_le(out, static_cast<std::uint64_t>(p.amount_milli), 8);
    detail::put_le(out, static_cast<std::uint64_t>(p.credit_after_milli), 8);
    detail::put_le(out, p.token_id, 4);
    detail::put_le(out, 0, 4);
  }
}

/// Reads the object's octets; nullopt when the format or the length is wrong.
inline std::optional<History> decode_history(const std::uint8_t* data, std::size_t size) {
  if (size < kHistoryHeaderBytes || data[0] != kHistoryFormat) return std::nullopt;
  const auto n = static_cast<std::size_t>(detail::get_le(data + 2, 2));
  if (size != kHistoryHeaderBytes + n * kPurchaseBytes) return std::nullopt;
  History h;
  h.currency_decimals = data[1];
  h.newest_first.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* r = data + kHistoryHeaderBytes + i * kPurchaseBytes;
    Purchase p;
    p.time_utc_ms = static_cast<std::int64_t>(detail::get_le(r, 8));
    p.amount_milli = static_cast<std::int64_t>(detail::get_le(r + 8, 8));
    p.credit_after_milli = static_cast<std::int64_t>(detail::get_le(r + 16, 8));
    p.token_id = static_cast<std::uint32_t>(detail::get_le(r + 24, 4));
    h.newest_first.push_back(p);
  }
  return h;
}

}  // namespace meter::plugins::prepaid
