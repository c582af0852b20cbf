// PSEM, the application layer of ANSI C12.18: typed requests and responses, their encoding and
// their strict parsing.
//
// Requests (multi-byte integers are big-endian; <offset> is 24 bits):
//   identify   20
//   terminate  21
//   disconnect 22                      (C12.21; the optical port treats it as terminate)
//   read       30 <table> | 3F <table> <offset> <count>
//   write      40 <table> <table-data> | 4F <table> <offset> <table-data>
//   logon      50 <user-id: word16> <user: 10 bytes>       (termineter pads the user with spaces)
//   security   51 <password: 20 bytes>                     (termineter pads with 0x00)
//   logoff     52
//   negotiate  60+n <packet-size: word16> <nbr-packets: byte> <baud-rate: byte>{n}, n = 0..11
//   wait       70 <seconds: byte>
// where <table-data> ::= <count: word16> <data: count bytes> <cksum> (crc.h: table_checksum).
//
// Responses start with a response code (codes.h); after ok:
//   identify   <std> <ver> <rev> <feature>* <end-of-list 0x00>   (C12.18-1996: one 0x00 byte)
//   negotiate  <packet-size: word16> <nbr-packets: byte> <baud-rate: byte>
//   read       <table-data>
//   the others nothing.
//
// Parsing checks every length exactly and every field's range. A request that cannot be parsed
// gives an Error whose kind says why and whose code is the answer the meter sends: unsupported
// (including the index-based reads and writes 31..39, 3E, 41..49) → sns, malformed → iar, a table
// data checksum that does not match → err.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "meter/c1218/codes.h"
#include "meter/c1218/result.h"

namespace meter::c1218 {

inline constexpr std::size_t kUserNameLength = 10;
inline constexpr std::size_t kPasswordLength = 20;
inline constexpr std::uint32_t kMaxOffset = 0xFFFFFF;  ///< <offset> is a word24
inline constexpr std::size_t kMaxBaudRates = 11;
inline constexpr std::uint8_t kMaxBaudCode = 10;

/// A byte range of a table, as a partial read names it.
struct Range {
  std::uint32_t offset = 0;  ///< bytes from the table's start, at most kMaxOffset
  std::uint16_t count = 0;   ///< bytes to read
  friend bool operator==(const Range&, const Range&) = default;
};

struct IdentifyRequest {
  friend bool operator==(const IdentifyRequest&, const IdentifyRequest&) = default;
};
struct TerminateRequest {
  friend bool operator==(const TerminateRequest&, const TerminateRequest&) = default;
};
struct DisconnectRequest {
  friend bool operator==(const DisconnectRequest&, const DisconnectRequest&) = default;
};
/// Full read (no range) or partial read by offset.
struct ReadRequest {
  std::uint16_t table = 0;
  std::optional<Range> range;
  friend bool operator==(const ReadRequest&, const ReadRequest&) = default;
};
/// Full write (no offset) or partial write by offset.
struct WriteRequest {
  std::uint16_t table = 0;
  std::optional<std::uint32_t> offset;
  std::vector<std::uint8_t> data;
  friend bool operator==(const WriteRequest&, const WriteRequest&) = default;
};
struct LogonRequest {
  std::uint16_t user_id = 0;
  std::array<std::uint8_t, kUserNameLength> user{};  ///< as sent, padding included
  friend bool operator==(const LogonRequest&, const LogonRequest&) = default;
};
struct SecurityRequest {
  std::array<std::uint8_t, kPasswordLength> password{};  ///< as sent, padding included
  friend bool operator==(const SecurityRequest&, const SecurityRequest&) = default;
};
struct LogoffRequest {
  friend bool operator==(const LogoffRequest&, const LogoffRequest&) = default;
};
struct NegotiateRequest {
  std::uint16_t packet_size = 0;  ///< largest packet the requester accepts, overhead included
  std::uint8_t nbr_packets = 0;   ///< most packets it reassembles into one message
  std::vector<std::uint8_t> baud_rates;  ///< baud codes it offers (baud_code()); empty: keep
  friend bool operator==(const NegotiateRequest&, const NegotiateRequest&) = default;
};
struct WaitRequest {
  std::uint8_t seconds = 0;
  friend bool operator==(const WaitRequest&, const WaitRequest&) = default;
};

using Request = std::variant<IdentifyRequest, TerminateRequest, DisconnectRequest, ReadRequest,
                             WriteRequest, LogonRequest, SecurityRequest, LogoffRequest,
                             NegotiateRequest, WaitRequest>;

/// The service code `request` is sent with (negotiate: 0x60 + number of baud rates).
std::uint8_t service_code(const Request& request) noexcept;

/// The PSEM bytes of `request`. Throws std::invalid_argument when a field cannot be carried (an
/// offset over 24 bits, more than 65535 data bytes, more than 11 baud rates): callers check
/// their input first.
std::vector<std::uint8_t> encode(const Request& request);

/// Parses a complete PSEM request (all packets of it joined).
Result<Request> parse_request(std::span<const std::uint8_t> message);

/// The 10-byte user field for `user`, padded with spaces as termineter does; at most 10 bytes.
Result<std::array<std::uint8_t, kUserNameLength>> user_field(std::string_view user);

/// The 20-byte password field for `password`, padded with 0x00 as termineter does; at most 20.
Result<std::array<std::uint8_t, kPasswordLength>> password_field(std::string_view password);

/// Baud codes of the negotiate service: 0 = externally defined, 1 = 300 ... 6 = 9600 ...
/// 10 = 57600. baud_code(9600) == 6; nullopt for a rate without a code.
std::optional<std::uint8_t> baud_code(unsigned bits_per_second) noexcept;
/// The rate of a baud code, 0 for code 0 (externally defined) and for reserved codes.
unsigned baud_rate(std::uint8_t code) noexcept;

/// What the identify service reports about the device's protocol.
struct Identity {
  std::uint8_t standard = 0;  ///< 0x00 = ANSI C12.18
  std::uint8_t version = 1;
  std::uint8_t revision = 0;
  std::vector<std::uint8_t> features;  ///< encoded features, without the end-of-list 0x00
  friend bool operator==(const Identity&, const Identity&) = default;
};

/// The link parameters a negotiate response grants.
struct NegotiateResponse {
  std::uint16_t packet_size = 0;
  std::uint8_t nbr_packets = 0;
  std::uint8_t baud_rate = 0;  ///< a baud code
  friend bool operator==(const NegotiateResponse&, const NegotiateResponse&) = default;
};

/// <count> <data> <cksum>. Throws std::invalid_argument over 65535 bytes.
std::vector<std::uint8_t> encode_table_data(std::span<const std::uint8_t> data);
/// Parses <count> <data> <cksum> filling exactly `bytes`.
Result<std::vector<std::uint8_t>> parse_table_data(std::span<const std::uint8_t> bytes);

/// A response that is only a code: <ok>, or <nok> for a refusal.
std::vector<std::uint8_t> encode_status_response(ResponseCode code);
/// <ok> <std> <ver> <rev> <features> 0x00.
std::vector<std::uint8_t> encode_identify_response(const Identity& identity);
/// <ok> <packet-size> <nbr-packets> <baud-rate>.
std::vector<std::uint8_t> encode_negotiate_response(const NegotiateResponse& response);
/// <ok> <table-data>.
std::vector<std::uint8_t> encode_read_response(std::span<const std::uint8_t> data);

/// Each parser accepts the whole response. A response code other than ok gives an Error of kind
/// response with that code; a response of the wrong shape one of kind malformed (or checksum).
Result<void> parse_status_response(std::span<const std::uint8_t> response);
Result<Identity> parse_identify_response(std::span<const std::uint8_t> response);
Result<NegotiateResponse> parse_negotiate_response(std::span<const std::uint8_t> response);
Result<std::vector<std::uint8_t>> parse_read_response(std::span<const std::uint8_t> response);

}  // namespace meter::c1218
