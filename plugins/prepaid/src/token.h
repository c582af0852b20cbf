// Credit tokens: 20 decimal digits that carry a credit transfer for one meter, authenticated
// with a keyed BLAKE2b MAC under the meter's secret key (libsodium). The meter (prepaid plugin)
// decodes them; a vending station (tools/prepaid_token.cpp) makes them. The layout and the
// strength of the truncated MAC are explained in README.md, "Tokens".
//
// The 20 digits are one number N < 2^66, bits from the top:
//   class (2) | token id (24) | amount (18) | MAC (22)
// token id: minutes since 2020-01-01T00:00:00Z when the token was issued (unique per meter: a
// vending station issues at most one token per meter per minute); amount: currency minor units.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace meter::plugins::prepaid {

inline constexpr std::size_t kTokenDigits = 20;
inline constexpr std::size_t kMeterKeyBytes = 32;
/// Token ids count minutes from this instant (2020-01-01T00:00:00Z), in ms since the epoch.
inline constexpr std::int64_t kTokenEpochUtcMs = 1'577'836'800'000;
inline constexpr std::uint32_t kMaxTokenId = (1u << 24) - 1;  ///< 2051-11-24T20:15Z
inline constexpr std::uint32_t kMaxTokenAmount = (1u << 18) - 1;
inline constexpr unsigned kMacBits = 22;

/// A meter's token key: 32 secret bytes.
using MeterKey = std::array<std::uint8_t, kMeterKeyBytes>;

/// What a token does. Zero is never a class; classes 2 and 3 are reserved.
enum class TokenClass : std::uint8_t { credit = 1 };

/// A token's fields before the MAC.
struct TokenFields {
  TokenClass token_class = TokenClass::credit;
  std::uint32_t id = 0;            ///< minutes since kTokenEpochUtcMs, 0 .. kMaxTokenId
  std::uint32_t amount_minor = 0;  ///< 1 .. kMaxTokenAmount currency minor units (e.g. cents)
};

/// Why a token's digits were not a token of this meter.
enum class TokenDefect : std::uint8_t {
  malformed = 1,      ///< not 20 digits (spaces and dashes aside), or above 2^66 - 1
  unknown_class,      ///< a reserved class
  bad_mac,            ///< forged, mistyped, or made with another meter's key
  zero_amount,        ///< authentic, but carries nothing
};

/// The outcome of decoding: the fields of an authentic token, or its defect.
struct TokenDecode {
  std::optional<TokenFields> fields;
  TokenDefect defect = TokenDefect::malformed;
};

/// Reads a key written as 64 hexadecimal digits; nullopt when the text is anything else.
std::optional<MeterKey> parse_meter_key(std::string_view hex);

/// The token id of an instant (ms since the epoch, UTC): whole minutes since 2020-01-01.
/// nullopt before 2020 or after the last id.
std::optional<std::uint32_t> token_id_at(std::int64_t utc_ms);
/// The instant a token id stands for, ms since the epoch, UTC.
constexpr std::int64_t token_id_time_ms(std::uint32_t id) noexcept {
  return kTokenEpochUtcMs + static_cast<std::int64_t>(id) * 60'000;
}

/// The 22-bit MAC of `fields` under `key`: BLAKE2b-128 keyed with the meter key over a domain
/// label and the 44 payload bits, truncated to its first 22 bits.
std::uint32_t token_mac(const MeterKey& key, const TokenFields& fields);

/// The 20 digits of a token (leading zeros kept). `fields` must be in range (id, amount 1 ..
/// max); nullopt otherwise.
std::optional<std::string> make_token(const MeterKey& key, const TokenFields& fields);

/// Decodes a token as a customer types it: 20 digits, in any grouping by spaces or dashes.
/// Constant time in the MAC comparison. Allocates nothing.
TokenDecode decode_token(const MeterKey& key, std::string_view text);

/// "1234 5678 9012 3456 7890": the digits in groups of four, as printed on a receipt.
std::string group_digits(std::string_view digits);

}  // namespace meter::plugins::prepaid
