// PSEM codes (ANSI C12.18): the one-byte service codes that open every request and the response
// codes that open every response.
//
// Requests use 0x20..0x7F; responses 0x00..0x1F, of which 0x00..0x0A are defined. ResponseCode
// keeps the wire values, so ok is 0 (the one place the house rule "zero is never valid" yields to
// the standard).
#pragma once

#include <cstdint>
#include <string_view>

namespace meter::c1218 {

/// The response code that opens every PSEM response.
enum class ResponseCode : std::uint8_t {
  ok = 0x00,    ///< acknowledge: no problem, request accepted
  err = 0x01,   ///< error: the request is rejected (no other code fits)
  sns = 0x02,   ///< service not supported
  isc = 0x03,   ///< insufficient security clearance
  onp = 0x04,   ///< operation not possible
  iar = 0x05,   ///< inappropriate action requested
  bsy = 0x06,   ///< device busy: nothing done, try again
  dnr = 0x07,   ///< data not ready
  dlk = 0x08,   ///< data locked
  rno = 0x09,   ///< renegotiate request
  isss = 0x0A,  ///< invalid service sequence state
};

/// The standard's short name: "ok", "err", "sns", ... "isss"; "unknown" for an undefined code.
std::string_view to_string(ResponseCode code) noexcept;

/// What the code means, in words: "insufficient security clearance", ...
std::string_view describe(ResponseCode code) noexcept;

/// True for the codes C12.18 defines (0x00..0x0A).
bool is_defined(ResponseCode code) noexcept;

/// The service code that opens every PSEM request. The negotiate service spans 0x60..0x6B (the
/// low nibble is how many baud rates follow); negotiate here is its first code.
enum class ServiceCode : std::uint8_t {
  identify = 0x20,
  terminate = 0x21,
  disconnect = 0x22,
  read_full = 0x30,
  read_offset = 0x3F,
  write_full = 0x40,
  write_offset = 0x4F,
  logon = 0x50,
  security = 0x51,
  logoff = 0x52,
  negotiate = 0x60,
  wait = 0x70,
};

/// "identify", "terminate", ... "wait"; "unknown" for other values.
std::string_view to_string(ServiceCode code) noexcept;

}  // namespace meter::c1218
