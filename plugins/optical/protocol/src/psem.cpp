// Encoding and strict parsing of PSEM requests and responses.
#include "meter/c1218/psem.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "meter/c1218/crc.h"

namespace meter::c1218 {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

void put16(std::vector<std::uint8_t>& out, std::uint16_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value & 0xFFU));
}

void put24(std::vector<std::uint8_t>& out, std::uint32_t value) {
  if (value > kMaxOffset) {
    throw std::invalid_argument("PSEM offset " + std::to_string(value) + " exceeds 24 bits");
  }
  out.push_back(static_cast<std::uint8_t>(value >> 16));
  out.push_back(static_cast<std::uint8_t>((value >> 8) & 0xFFU));
  out.push_back(static_cast<std::uint8_t>(value & 0xFFU));
}

std::uint16_t get16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

std::uint32_t get24(std::span<const std::uint8_t> b, std::size_t at) {
  return (std::uint32_t{b[at]} << 16) | (std::uint32_t{b[at + 1]} << 8) | b[at + 2];
}

std::string hex_byte(std::uint8_t value) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  return std::string("0x") + kDigits[value >> 4] + kDigits[value & 0xF];
}

Error malformed(std::string message) {
  return fail(ErrorKind::malformed, std::move(message), ResponseCode::iar);
}

Error wrong_length(std::string_view what, std::size_t got, std::size_t expected) {
  return malformed(std::string(what) + " of " + std::to_string(got) + " bytes, expected " +
                   std::to_string(expected));
}

Result<Request> parse_write(std::span<const std::uint8_t> m, bool partial) {
  const std::size_t head = partial ? 8 : 5;  // code, table, [offset], count
  const char* what = partial ? "partial write request" : "full write request";
  if (m.size() < head + 1) return wrong_length(what, m.size(), head + 1);
  const std::uint16_t count = get16(m, head - 2);
  if (m.size() != head + count + 1) return wrong_length(what, m.size(), head + count + 1U);
  WriteRequest request;
  request.table = get16(m, 1);
  if (partial) request.offset = get24(m, 3);
  const auto data = m.subspan(head, count);
  const std::uint8_t checksum = m[head + count];
  if (table_checksum(data) != checksum) {
    return fail(ErrorKind::checksum,
                std::string(what) + " for table " + std::to_string(request.table) +
                    ": data checksum " + hex_byte(checksum) + ", computed " +
                    hex_byte(table_checksum(data)),
                ResponseCode::err);
  }
  request.data.assign(data.begin(), data.end());
  return Request{std::move(request)};
}

Result<Request> parse_negotiate(std::span<const std::uint8_t> m) {
  const std::size_t rates = m[0] - 0x60U;
  if (m.size() != 4 + rates) return wrong_length("negotiate request", m.size(), 4 + rates);
  NegotiateRequest request;
  request.packet_size = get16(m, 1);
  request.nbr_packets = m[3];
  if (request.packet_size <= 8) {
    return malformed("negotiate request: packet size " + std::to_string(request.packet_size) +
                     " leaves no room for data");
  }
  if (request.nbr_packets == 0) return malformed("negotiate request: 0 packets");
  for (std::size_t i = 0; i < rates; ++i) {
    if (m[4 + i] > kMaxBaudCode) {
      return malformed("negotiate request: reserved baud rate code " + hex_byte(m[4 + i]));
    }
    request.baud_rates.push_back(m[4 + i]);
  }
  return Request{std::move(request)};
}

Error response_error(std::string_view service, std::uint8_t code) {
  const auto rc = static_cast<ResponseCode>(code);
  return fail(ErrorKind::response,
              std::string(service) + ": " + std::string(to_string(rc)) + " (" +
                  std::string(describe(rc)) + ")",
              rc);
}

}  // namespace

std::uint8_t service_code(const Request& request) noexcept {
  return std::visit(
      Overloaded{
          [](const IdentifyRequest&) -> std::uint8_t { return 0x20; },
          [](const TerminateRequest&) -> std::uint8_t { return 0x21; },
          [](const DisconnectRequest&) -> std::uint8_t { return 0x22; },
          [](const ReadRequest& r) -> std::uint8_t { return r.range ? 0x3F : 0x30; },
          [](const WriteRequest& w) -> std::uint8_t { return w.offset ? 0x4F : 0x40; },
          [](const LogonRequest&) -> std::uint8_t { return 0x50; },
          [](const SecurityRequest&) -> std::uint8_t { return 0x51; },
          [](const LogoffRequest&) -> std::uint8_t { return 0x52; },
          [](const NegotiateRequest& n) -> std::uint8_t {
            return static_cast<std::uint8_t>(0x60 + std::min(n.baud_rates.size(), kMaxBaudRates));
          },
          [](const WaitRequest&) -> std::uint8_t { return 0x70; },
      },
      request);
}

std::vector<std::uint8_t> encode(const Request& request) {
  std::vector<std::uint8_t> out;
  out.push_back(service_code(request));
  std::visit(Overloaded{
                 [](const IdentifyRequest&) {},
                 [](const TerminateRequest&) {},
                 [](const DisconnectRequest&) {},
                 [](const LogoffRequest&) {},
                 [&](const ReadRequest& r) {
                   put16(out, r.table);
                   if (r.range) {
                     put24(out, r.range->offset);
                     put16(out, r.range->count);
                   }
                 },
                 [&](const WriteRequest& w) {
                   put16(out, w.table);
                   if (w.offset) put24(out, *w.offset);
                   const auto table_data = encode_table_data(w.data);
                   out.insert(out.end(), table_data.begin(), table_data.end());
                 },
                 [&](const LogonRequest& l) {
                   put16(out, l.user_id);
                   out.insert(out.end(), l.user.begin(), l.user.end());
                 },
                 [&](const SecurityRequest& s) {
                   out.insert(out.end(), s.password.begin(), s.password.end());
                 },
                 [&](const NegotiateRequest& n) {
                   if (n.baud_rates.size() > kMaxBaudRates) {
                     throw std::invalid_argument("negotiate request with " +
                                                 std::to_string(n.baud_rates.size()) +
                                                 " baud rates, at most 11");
                   }
                   put16(out, n.packet_size);
                   out.push_back(n.nbr_packets);
                   out.insert(out.end(), n.baud_rates.begin(), n.baud_rates.end());
                 },
                 [&](const WaitRequest& w) { out.push_back(w.seconds); },
             },
             request);
  return out;
}

Result<Request> parse_request(std::span<const std::uint8_t> m) {
  if (m.empty()) return malformed("empty request: no service code");
  const std::uint8_t code = m[0];
  auto exactly = [&](std::size_t n, std::string_view what) -> std::optional<Error> {
    if (m.size() != n) return wrong_length(what, m.size(), n);
    return std::nullopt;
  };
  switch (code) {
    case 0x20:
      if (auto e = exactly(1, "identify request")) return *e;
      return Request{IdentifyRequest{}};
    case 0x21:
      if (auto e = exactly(1, "terminate request")) return *e;
      return Request{TerminateRequest{}};
    case 0x22:
      if (auto e = exactly(1, "disconnect request")) return *e;
      return Request{DisconnectRequest{}};
    case 0x30:
      if (auto e = exactly(3, "full read request")) return *e;
      return Request{ReadRequest{get16(m, 1), std::nullopt}};
    case 0x3F:
      if (auto e = exactly(8, "partial read request")) return *e;
      return Request{ReadRequest{get16(m, 1), Range{get24(m, 3), get16(m, 6)}}};
    case 0x40: return parse_write(m, false);
    case 0x4F: return parse_write(m, true);
    case 0x50: {
      if (auto e = exactly(13, "logon request")) return *e;
      LogonRequest logon;
      logon.user_id = get16(m, 1);
      std::copy_n(m.begin() + 3, kUserNameLength, logon.user.begin());
      return Request{logon};
    }
    case 0x51: {
      if (auto e = exactly(21, "security request")) return *e;
      SecurityRequest security;
      std::copy_n(m.begin() + 1, kPasswordLength, security.password.begin());
      return Request{security};
    }
    case 0x52:
      if (auto e = exactly(1, "logoff request")) return *e;
      return Request{LogoffRequest{}};
    case 0x70:
      if (auto e = exactly(2, "wait request")) return *e;
      return Request{WaitRequest{m[1]}};
    default: break;
  }
  if (code >= 0x60 && code <= 0x6B) return parse_negotiate(m);
  std::string what = "service " + hex_byte(code);
  if ((code >= 0x31 && code <= 0x39) || code == 0x3E) what = "index or default read " + hex_byte(code);
  if (code >= 0x41 && code <= 0x49) what = "index write " + hex_byte(code);
  return fail(ErrorKind::unsupported, what + " is not supported", ResponseCode::sns);
}

Result<std::array<std::uint8_t, kUserNameLength>> user_field(std::string_view user) {
  if (user.size() > kUserNameLength) {
    return fail(ErrorKind::invalid_argument,
                "user name of " + std::to_string(user.size()) + " bytes, at most 10");
  }
  std::array<std::uint8_t, kUserNameLength> field{};
  field.fill(0x20);
  std::copy(user.begin(), user.end(), field.begin());
  return field;
}

Result<std::array<std::uint8_t, kPasswordLength>> password_field(std::string_view password) {
  if (password.size() > kPasswordLength) {
    return fail(ErrorKind::invalid_argument,
                "password of " + std::to_string(password.size()) + " bytes, at most 20");
  }
  std::array<std::uint8_t, kPasswordLength> field{};
  std::copy(password.begin(), password.end(), field.begin());
  return field;
}

namespace {
constexpr std::array<unsigned, 11> kBaudRates = {0,    300,   600,   1200,  2400, 4800,
                                                 9600, 14400, 19200, 28800, 57600};
}

std::optional<std::uint8_t> baud_code(unsigned bits_per_second) noexcept {
  for (std::size_t code = 1; code < kBaudRates.size(); ++code) {
    if (kBaudRates[code] == bits_per_second) return static_cast<std::uint8_t>(code);
  }
  return std::nullopt;
}

unsigned baud_rate(std::uint8_t code) noexcept {
  return code < kBaudRates.size() ? kBaudRates[code] : 0;
}

std::vector<std::uint8_t> encode_table_data(std::span<const std::uint8_t> data) {
  if (data.size() > 0xFFFF) {
    throw std::invalid_argument("table data of " + std::to_string(data.size()) +
                                " bytes, at most 65535");
  }
  std::vector<std::uint8_t> out;
  out.reserve(data.size() + 3);
  put16(out, static_cast<std::uint16_t>(data.size()));
  out.insert(out.end(), data.begin(), data.end());
  out.push_back(table_checksum(data));
  return out;
}

Result<std::vector<std::uint8_t>> parse_table_data(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < 3) return wrong_length("table data", bytes.size(), 3);
  const std::uint16_t count = get16(bytes, 0);
  if (bytes.size() != count + 3U) {
    return malformed("table data of " + std::to_string(bytes.size() - 3) +
                     " bytes where <count> says " + std::to_string(count));
  }
  const auto data = bytes.subspan(2, count);
  if (table_checksum(data) != bytes[2 + count]) {
    return fail(ErrorKind::checksum, "table data checksum " + hex_byte(bytes[2 + count]) +
                                         ", computed " + hex_byte(table_checksum(data)));
  }
  return std::vector<std::uint8_t>(data.begin(), data.end());
}

std::vector<std::uint8_t> encode_status_response(ResponseCode code) {
  return {static_cast<std::uint8_t>(code)};
}

std::vector<std::uint8_t> encode_identify_response(const Identity& identity) {
  std::vector<std::uint8_t> out = {0x00, identity.standard, identity.version, identity.revision};
  out.insert(out.end(), identity.features.begin(), identity.features.end());
  out.push_back(0x00);
  return out;
}

std::vector<std::uint8_t> encode_negotiate_response(const NegotiateResponse& response) {
  std::vector<std::uint8_t> out = {0x00};
  put16(out, response.packet_size);
  out.push_back(response.nbr_packets);
  out.push_back(response.baud_rate);
  return out;
}

std::vector<std::uint8_t> encode_read_response(std::span<const std::uint8_t> data) {
  std::vector<std::uint8_t> out = {0x00};
  const auto table_data = encode_table_data(data);
  out.insert(out.end(), table_data.begin(), table_data.end());
  return out;
}

Result<void> parse_status_response(std::span<const std::uint8_t> r) {
  if (r.empty()) return malformed("empty response");
  if (r[0] != 0x00) return response_error("request refused", r[0]);
  if (r.size() != 1) return wrong_length("response", r.size(), 1);
  return {};
}

Result<Identity> parse_identify_response(std::span<const std::uint8_t> r) {
  if (r.empty()) return malformed("empty identify response");
  if (r[0] != 0x00) return response_error("identify", r[0]);
  if (r.size() < 5) return wrong_length("identify response", r.size(), 5);
  if (r.back() != 0x00) return malformed("identify response: feature list not ended by 0x00");
  Identity identity;
  identity.standard = r[1];
  identity.version = r[2];
  identity.revision = r[3];
  identity.features.assign(r.begin() + 4, r.end() - 1);
  return identity;
}

Result<NegotiateResponse> parse_negotiate_response(std::span<const std::uint8_t> r) {
  if (r.empty()) return malformed("empty negotiate response");
  if (r[0] != 0x00) return response_error("negotiate", r[0]);
  if (r.size() != 5) return wrong_length("negotiate response", r.size(), 5);
  NegotiateResponse response{get16(r, 1), r[3], r[4]};
  if (response.packet_size <= 8 || response.nbr_packets == 0) {
    return malformed("negotiate response grants " + std::to_string(response.packet_size) +
                     "-byte packets x " + std::to_string(response.nbr_packets));
  }
  return response;
}

Result<std::vector<std::uint8_t>> parse_read_response(std::span<const std::uint8_t> r) {
  if (r.empty()) return malformed("empty read response");
  if (r[0] != 0x00) return response_error("read", r[0]);
  return parse_table_data(r.subspan(1));
}

}  // namespace meter::c1218
