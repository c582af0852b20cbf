// PSEM requests and responses: encode/parse round trips, the bytes termineter sends, and every
// malformed shape refused with the kind and response code the meter answers with.
#include <gtest/gtest.h>

#include "hex.h"
#include "meter/c1218/psem.h"

namespace meter::c1218 {
namespace {

using test::hex;
using test::to_hex;

Request parsed(const std::vector<std::uint8_t>& bytes) {
  auto result = parse_request(bytes);
  EXPECT_TRUE(result.ok()) << to_hex(bytes) << ": " << (result ? "" : result.error().message);
  return result ? *result : Request{};
}

void expect_refused(const std::vector<std::uint8_t>& bytes, ErrorKind kind, ResponseCode code) {
  const auto result = parse_request(bytes);
  ASSERT_FALSE(result.ok()) << to_hex(bytes);
  EXPECT_EQ(result.error().kind, kind) << to_hex(bytes) << ": " << result.error().message;
  EXPECT_EQ(result.error().code, code) << to_hex(bytes) << ": " << result.error().message;
  EXPECT_FALSE(result.error().message.empty());
}

TEST(C1218ResponseCodes, HaveTheStandardsNamesAndMeanings) {
  EXPECT_EQ(to_string(ResponseCode::ok), "ok");
  EXPECT_EQ(to_string(ResponseCode::isc), "isc");
  EXPECT_EQ(describe(ResponseCode::isc), "insufficient security clearance");
  EXPECT_EQ(to_string(ResponseCode::isss), "isss");
  EXPECT_EQ(describe(ResponseCode::isss), "invalid service sequence state");
  EXPECT_EQ(static_cast<int>(ResponseCode::isss), 0x0A);
  EXPECT_EQ(to_string(static_cast<ResponseCode>(0x0B)), "unknown");
  EXPECT_FALSE(is_defined(static_cast<ResponseCode>(0x0B)));
  for (int c = 0; c <= 0x0A; ++c) {
    EXPECT_TRUE(is_defined(static_cast<ResponseCode>(c)));
    EXPECT_NE(to_string(static_cast<ResponseCode>(c)), "unknown");
  }
  EXPECT_EQ(to_string(ServiceCode::read_offset), "partial read");
}

TEST(C1218Requests, ParseWhatTermineterSends) {
  EXPECT_EQ(parsed(hex("20")), Request{IdentifyRequest{}});
  EXPECT_EQ(parsed(hex("21")), Request{TerminateRequest{}});
  EXPECT_EQ(parsed(hex("52")), Request{LogoffRequest{}});
  EXPECT_EQ(parsed(hex("61 02 00 02 06")), Request(NegotiateRequest{512, 2, {6}}));
  EXPECT_EQ(parsed(hex("30 00 01")), Request(ReadRequest{1, std::nullopt}));
  EXPECT_EQ(parsed(hex("3f 00 01 00 00 04 00 08")), Request(ReadRequest{1, Range{4, 8}}));
  EXPECT_EQ(parsed(hex("40 00 07 00 03 01 02 03 fa")),
            Request(WriteRequest{7, std::nullopt, {1, 2, 3}}));
  EXPECT_EQ(parsed(hex("4f 00 07 00 00 05 00 03 01 02 03 fa")),
            Request(WriteRequest{7, 5, {1, 2, 3}}));
  EXPECT_EQ(parsed(hex("70 05")), Request(WaitRequest{5}));

  const auto logon = std::get<LogonRequest>(parsed(hex("50 00 02 30 30 30 30 20 20 20 20 20 20")));
  EXPECT_EQ(logon.user_id, 2);
  EXPECT_EQ(logon.user, *user_field("0000"));

  const auto security = std::get<SecurityRequest>(
      parsed(hex("51 70 61 73 73 77 6f 72 64 00 00 00 00 00 00 00 00 00 00 00 00")));
  EXPECT_EQ(security.password, *password_field("password"));
}

TEST(C1218Requests, RoundTripThroughEncode) {
  const std::vector<Request> requests = {
      IdentifyRequest{},
      TerminateRequest{},
      DisconnectRequest{},
      ReadRequest{0x0801, std::nullopt},
      ReadRequest{64, Range{0xFFFFFF, 0xFFFF}},
      WriteRequest{7, std::nullopt, {}},
      WriteRequest{2049, 0x123456, std::vector<std::uint8_t>(300, 0xA5)},
      LogonRequest{0xBEEF, *user_field("METER SHOP")},
      SecurityRequest{*password_field("01234567890123456789")},
      LogoffRequest{},
      NegotiateRequest{64, 1, {}},
      NegotiateRequest{8192, 255, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0}},
      WaitRequest{255},
  };
  for (const auto& request : requests) {
    const auto bytes = encode(request);
    EXPECT_EQ(bytes[0], service_code(request));
    EXPECT_EQ(parsed(bytes), request) << to_hex(bytes);
  }
  EXPECT_EQ(to_hex(encode(NegotiateRequest{1024, 128, {6}})), "61 04 00 80 06");
  EXPECT_EQ(to_hex(encode(NegotiateRequest{256, 1, {}})), "60 01 00 01");
}

TEST(C1218Requests, EncodeRefusesWhatCannotBeCarried) {
  EXPECT_THROW((void)encode(ReadRequest{1, Range{0x1000000, 1}}), std::invalid_argument);
  EXPECT_THROW((void)encode(WriteRequest{1, std::nullopt, std::vector<std::uint8_t>(65536)}),
               std::invalid_argument);
  EXPECT_THROW((void)encode(NegotiateRequest{64, 1, std::vector<std::uint8_t>(12, 6)}),
               std::invalid_argument);
}

TEST(C1218Requests, WrongLengthsAreMalformedAndAnsweredIar) {
  for (const char* bytes :
       {"20 00", "21 00", "22 00", "52 00", "30", "30 00", "30 00 01 00", "3f 00 01 00 00 04 00",
        "3f 00 01 00 00 04 00 08 00", "50 00 00 30 30 30 30 20 20 20 20 20",
        "50 00 00 30 30 30 30 20 20 20 20 20 20 20", "51 00", "70", "70 01 02", "60 01 00",
        "60 01 00 01 06", "61 01 00 01", "6b 01 00 01 01 02 03 04 05 06 07 08 09 0a", "40 00 07 00",
        "40 00 07 00 03 01 02 03", "40 00 07 00 03 01 02 03 fa 00", "40 00 07 ff ff 00",
        "4f 00 07 00 00 05 00 03 01 02 fa", "4f 00 07 00 00"}) {
    expect_refused(hex(bytes), ErrorKind::malformed, ResponseCode::iar);
  }
  expect_refused({}, ErrorKind::malformed, ResponseCode::iar);
}

TEST(C1218Requests, InvalidNegotiateFieldsAreIar) {
  expect_refused(hex("60 00 08 01"), ErrorKind::malformed, ResponseCode::iar);  // no data room
  expect_refused(hex("60 00 40 00"), ErrorKind::malformed, ResponseCode::iar);  // 0 packets
  expect_refused(hex("61 00 40 01 0b"), ErrorKind::malformed, ResponseCode::iar);  // reserved
  EXPECT_EQ(parsed(hex("62 00 40 01 00 0a")), Request(NegotiateRequest{64, 1, {0, 10}}));
}

TEST(C1218Requests, ABadTableDataChecksumIsAnsweredErr) {
  expect_refused(hex("40 00 07 00 03 01 02 03 fb"), ErrorKind::checksum, ResponseCode::err);
  expect_refused(hex("4f 00 07 00 00 05 00 03 01 02 03 00"), ErrorKind::checksum,
                 ResponseCode::err);
}

TEST(C1218Requests, UnknownAndIndexServicesAreNotSupported) {
  for (const char* bytes : {"00", "06", "1f", "23", "31 00 01 00 00 00 01", "39", "3e", "41", "49",
                            "53", "6c 00 40 01", "71 01", "80", "ff"}) {
    expect_refused(hex(bytes), ErrorKind::unsupported, ResponseCode::sns);
  }
}

TEST(C1218Fields, UserAndPasswordArePaddedAsTermineterDoes) {
  EXPECT_EQ(to_hex(*user_field("ab")), "61 62 20 20 20 20 20 20 20 20");
  EXPECT_EQ(to_hex(*password_field("ab")),
            "61 62 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
  EXPECT_FALSE(user_field("12345678901").ok());
  EXPECT_EQ(user_field("12345678901").error().kind, ErrorKind::invalid_argument);
  EXPECT_FALSE(password_field(std::string(21, 'x')).ok());
  EXPECT_TRUE(password_field(std::string(20, 'x')).ok());
}

TEST(C1218Fields, BaudCodes) {
  EXPECT_EQ(baud_code(9600), 6);
  EXPECT_EQ(baud_code(300), 1);
  EXPECT_EQ(baud_code(57600), 10);
  EXPECT_EQ(baud_code(115200), std::nullopt);
  EXPECT_EQ(baud_code(0), std::nullopt);
  EXPECT_EQ(baud_rate(6), 9600U);
  EXPECT_EQ(baud_rate(0), 0U);
  EXPECT_EQ(baud_rate(11), 0U);
}

TEST(C1218Responses, IdentifyAsThePublishedTraceShowsIt) {
  const Identity c1218_v1{0, 1, 0, {}};
  EXPECT_EQ(to_hex(encode_identify_response(c1218_v1)), "00 00 01 00 00");
  const auto parsed_identity = parse_identify_response(hex("00 00 01 00 00"));
  ASSERT_TRUE(parsed_identity.ok());
  EXPECT_EQ(*parsed_identity, c1218_v1);

  const Identity with_features{0, 2, 0, {0x07, 0x01, 0x02}};
  EXPECT_EQ(*parse_identify_response(encode_identify_response(with_features)), with_features);

  EXPECT_EQ(parse_identify_response(hex("00 00 01 00")).error().kind, ErrorKind::malformed);
  EXPECT_EQ(parse_identify_response(hex("00 00 01 00 07")).error().kind, ErrorKind::malformed);
  const auto busy = parse_identify_response(hex("06"));
  EXPECT_EQ(busy.error().kind, ErrorKind::response);
  EXPECT_EQ(busy.error().code, ResponseCode::bsy);
  EXPECT_NE(busy.error().message.find("bsy (device busy)"), std::string::npos);
}

TEST(C1218Responses, Negotiate) {
  const NegotiateResponse granted{1024, 128, 6};
  EXPECT_EQ(to_hex(encode_negotiate_response(granted)), "00 04 00 80 06");
  EXPECT_EQ(*parse_negotiate_response(hex("00 04 00 80 06")), granted);
  EXPECT_EQ(parse_negotiate_response(hex("00 04 00 80")).error().kind, ErrorKind::malformed);
  EXPECT_EQ(parse_negotiate_response(hex("00 00 08 01 06")).error().kind, ErrorKind::malformed);
  EXPECT_EQ(parse_negotiate_response(hex("0a")).error().code, ResponseCode::isss);
}

TEST(C1218Responses, ReadChecksCountAndChecksumLikeTermineter) {
  const std::vector<std::uint8_t> data = {1, 2, 3};
  EXPECT_EQ(to_hex(encode_read_response(data)), "00 00 03 01 02 03 fa");
  EXPECT_EQ(*parse_read_response(hex("00 00 03 01 02 03 fa")), data);
  EXPECT_EQ(*parse_read_response(hex("00 00 00 00")), std::vector<std::uint8_t>{});
  EXPECT_EQ(parse_read_response(hex("00 00 03 01 02 03 fb")).error().kind, ErrorKind::checksum);
  EXPECT_EQ(parse_read_response(hex("00 00 04 01 02 03 fa")).error().kind, ErrorKind::malformed);
  EXPECT_EQ(parse_read_response(hex("00 00 02 01 02 03 fa")).error().kind, ErrorKind::malformed);
  EXPECT_EQ(parse_read_response(hex("00 00")).error().kind, ErrorKind::malformed);
  EXPECT_EQ(parse_read_response({}).error().kind, ErrorKind::malformed);
  const auto refused = parse_read_response(hex("03"));
  EXPECT_EQ(refused.error().kind, ErrorKind::response);
  EXPECT_EQ(refused.error().code, ResponseCode::isc);
}

TEST(C1218Responses, Status) {
  EXPECT_TRUE(parse_status_response(hex("00")).ok());
  EXPECT_EQ(parse_status_response(hex("00 00")).error().kind, ErrorKind::malformed);
  EXPECT_EQ(parse_status_response(hex("08")).error().code, ResponseCode::dlk);
  EXPECT_EQ(encode_status_response(ResponseCode::onp), hex("04"));
}

}  // namespace
}  // namespace meter::c1218
