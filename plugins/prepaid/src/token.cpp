// Token encoding and authentication (libsodium's keyed BLAKE2b). See token.h.
#include "token.h"

#include <sodium.h>

#include <cstring>

namespace meter::plugins::prepaid {
namespace {

__extension__ using U128 = unsigned __int128;

constexpr unsigned kAmountBits = 18;
constexpr unsigned kIdBits = 24;
constexpr unsigned kPayloadBits = 2 + kIdBits + kAmountBits;  // 44
constexpr U128 kTokenLimit = U128{1} << (kPayloadBits + kMacBits);  // 2^66
// Domain separation: a MAC made for anything else under the same key never verifies here.
constexpr char kMacLabel[] = "meter.prepaid.token.v1";

void ensure_sodium() noexcept {
  static const int ready = sodium_init();  // thread-safe, once; 0 or 1 means usable
  (void)ready;
}

std::uint64_t payload_of(const TokenFields& f) noexcept {
  return (std::uint64_t{static_cast<std::uint8_t>(f.token_class)} << (kIdBits + kAmountBits)) |
         (std::uint64_t{f.id} << kAmountBits) | std::uint64_t{f.amount_minor};
}

std::uint32_t mac_of_payload(const MeterKey& key, std::uint64_t payload) noexcept {
  ensure_sodium();
  std::array<std::uint8_t, sizeof kMacLabel - 1 + 6> message{};
  std::memcpy(message.data(), kMacLabel, sizeof kMacLabel - 1);
  for (std::size_t i = 0; i < 6; ++i) {
    message[sizeof kMacLabel - 1 + i] = static_cast<std::uint8_t>(payload >> (8 * i));
  }
  std::array<std::uint8_t, 16> digest{};
  crypto_generichash(digest.data(), digest.size(), message.data(), message.size(), key.data(),
                     key.size());
  const std::uint32_t first = static_cast<std::uint32_t>(digest[0]) |
                              (static_cast<std::uint32_t>(digest[1]) << 8) |
                              (static_cast<std::uint32_t>(digest[2]) << 16);
  return first & ((1u << kMacBits) - 1);
}

}  // namespace

std::optional<MeterKey> parse_meter_key(std::string_view hex) {
  if (hex.size() != 2 * kMeterKeyBytes) return std::nullopt;
  for (const char c : hex) {
    const bool digit = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!digit) return std::nullopt;
  }
  MeterKey key{};
  std::size_t written = 0;
  if (sodium_hex2bin(key.data(), key.size(), hex.data(), hex.size(), nullptr, &written, nullptr) !=
          0 ||
      written != key.size()) {
    return std::nullopt;
  }
  return key;
}

std::optional<std::uint32_t> token_id_at(std::int64_t utc_ms) {
  if (utc_ms < kTokenEpochUtcMs) return std::nullopt;
  const std::int64_t minutes = (utc_ms - kTokenEpochUtcMs) / 60'000;
  if (minutes > kMaxTokenId) return std::nullopt;
  return static_cast<std::uint32_t>(minutes);
}

std::uint32_t token_mac(const MeterKey& key, const TokenFields& fields) {
  return mac_of_payload(key, payload_of(fields));
}

std::optional<std::string> make_token(const MeterKey& key, const TokenFields& fields) {
  if (fields.token_class != TokenClass::credit || fields.id > kMaxTokenId ||
      fields.amount_minor == 0 || fields.amount_minor > kMaxTokenAmount) {
    return std::nullopt;
  }
  const std::uint64_t payload = payload_of(fields);
  U128 n = (U128{payload} << kMacBits) | mac_of_payload(key, payload);
  std::string digits(kTokenDigits, '0');
  for (std::size_t i = kTokenDigits; i-- > 0;) {
    digits[i] = static_cast<char>('0' + static_cast<int>(n % 10));
    n /= 10;
  }
  return digits;
}

TokenDecode decode_token(const MeterKey& key, std::string_view text) {
  TokenDecode out;
  U128 n = 0;
  std::size_t digits = 0;
  for (const char c : text) {
    if (c == ' ' || c == '-') continue;
    if (c < '0' || c > '9' || ++digits > kTokenDigits) return out;  // malformed
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  if (digits != kTokenDigits || n >= kTokenLimit) return out;
  const auto payload = static_cast<std::uint64_t>(n >> kMacBits);
  const auto mac = static_cast<std::uint32_t>(n & ((1u << kMacBits) - 1));
  TokenFields f;
  const auto token_class = static_cast<std::uint8_t>(payload >> (kIdBits + kAmountBits));
  f.id = static_cast<std::uint32_t>((payload >> kAmountBits) & kMaxTokenId);
  f.amount_minor = static_cast<std::uint32_t>(payload & kMaxTokenAmount);
  f.token_class = static_cast<TokenClass>(token_class);
  // The MAC first, in constant time: a forger learns nothing about the fields it checks after.
  const std::uint32_t expected = mac_of_payload(key, payload);
  std::array<std::uint8_t, 3> got{}, want{};
  for (std::size_t i = 0; i < 3; ++i) {
    got[i] = static_cast<std::uint8_t>(mac >> (8 * i));
    want[i] = static_cast<std::uint8_t>(expected >> (8 * i));
  }
  if (sodium_memcmp(got.data(), want.data(), got.size()) != 0) {
    out.defect = TokenDefect::bad_mac;
    return out;
  }
  if (token_class != static_cast<std::uint8_t>(TokenClass::credit)) {
    out.defect = TokenDefect::unknown_class;
    return out;
  }
  if (f.amount_minor == 0) {
    out.defect = TokenDefect::zero_amount;
    return out;
  }
  out.fields = f;
  return out;
}

std::string group_digits(std::string_view digits) {
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && i % 4 == 0) out += ' ';
    out += digits[i];
  }
  return out;
}

}  // namespace meter::plugins::prepaid
