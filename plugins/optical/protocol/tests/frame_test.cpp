// The packet CRC, the table checksum and packet encoding, against packets termineter builds and
// packets published in a C12.18 client's documentation.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string_view>

#include "hex.h"
#include "meter/c1218/crc.h"
#include "meter/c1218/frame.h"

namespace meter::c1218 {
namespace {

using test::hex;
using test::to_hex;

std::vector<std::uint8_t> ascii(std::string_view text) { return {text.begin(), text.end()}; }

TEST(C1218Crc, MatchesTheHdlcCheckValue) {
  // CRC-16 as HDLC (ISO/IEC 3309) defines it; termineter's crcelk.CRC_HDLC gives 0x906E.
  EXPECT_EQ(crc16(ascii("123456789")), 0x906E);
  EXPECT_EQ(crc16({}), 0x0000);
}

TEST(C1218Crc, CanBeComputedInPieces) {
  const auto bytes = ascii("123456789");
  auto state = crc16_start();
  state = crc16_update(state, std::span(bytes).first(4));
  state = crc16_update(state, std::span(bytes).subspan(4));
  EXPECT_EQ(crc16_finish(state), 0x906E);
}

TEST(C1218Crc, AppendedLowByteFirstItMakesTheResidue) {
  // The property a receiver relies on: CRC over a packet plus its CRC is the HDLC residue.
  auto bytes = hex("ee 00 00 00 00 01 20");
  const auto crc = crc16(bytes);
  bytes.push_back(static_cast<std::uint8_t>(crc & 0xFF));
  bytes.push_back(static_cast<std::uint8_t>(crc >> 8));
  EXPECT_EQ(crc16(bytes), 0x0F47);  // 0xF0B8 complemented
}

TEST(C1218TableChecksum, IsTheNegatedSumAsTermineterComputesIt) {
  // termineter: ((sum - 1) & 0xff) ^ 0xff.
  for (const auto& data : {hex(""), hex("01 02 03"), hex("ff"), hex("80 80"), hex("00 00 01"),
                           ascii("termineter checks this")}) {
    unsigned sum = 0;
    for (auto b : data) sum += b;
    const auto expected = static_cast<std::uint8_t>(((sum - 1) & 0xFF) ^ 0xFF);
    EXPECT_EQ(table_checksum(data), expected) << to_hex(data);
    unsigned total = table_checksum(data);
    for (auto b : data) total += b;
    EXPECT_EQ(total & 0xFF, 0U) << "data and checksum sum to zero";
  }
  EXPECT_EQ(table_checksum(hex("01 02 03")), 0xFA);
}

struct KnownPacket {
  const char* what;
  std::uint8_t control;
  const char* data;
  const char* wire;
};

// Built by termineter's c1218.data (C1218Packet(...).build()) and by MeteringSDK's published
// session trace (identify, negotiate 1024 bytes x 128 packets at 9600 baud).
const KnownPacket kKnownPackets[] = {
    {"ident (termineter; MeteringSDK trace)", 0x00, "20", "ee 00 00 00 00 01 20 13 10"},
    {"ident, toggle set", 0x20, "20", "ee 00 20 00 00 01 20 82 70"},
    {"negotiate 512 x 2 at 9600", 0x00, "61 02 00 02 06", "ee 00 00 00 00 05 61 02 00 02 06 1d 2a"},
    {"negotiate 1024 x 128 at 9600 (MeteringSDK trace)", 0x20, "61 04 00 80 06",
     "ee 00 20 00 00 05 61 04 00 80 06 c2 29"},
    {"ident response ok std 0 ver 1 rev 0 (MeteringSDK trace)", 0x00, "00 00 01 00 00",
     "ee 00 00 00 00 05 00 00 01 00 00 c6 b5"},
    {"negotiate response 1024 x 128 at 9600 (MeteringSDK trace)", 0x20, "00 04 00 80 06",
     "ee 00 20 00 00 05 00 04 00 80 06 35 83"},
    {"logon user 0 '0000'", 0x00, "50 00 00 30 30 30 30 20 20 20 20 20 20",
     "ee 00 00 00 00 0d 50 00 00 30 30 30 30 20 20 20 20 20 20 76 35"},
    {"security 'password'",
     0x00, "51 70 61 73 73 77 6f 72 64 00 00 00 00 00 00 00 00 00 00 00 00",
     "ee 00 00 00 00 15 51 70 61 73 73 77 6f 72 64 00 00 00 00 00 00 00 00 00 00 00 00 a8 18"},
    {"full read table 1", 0x00, "30 00 01", "ee 00 00 00 00 03 30 00 01 55 0d"},
    {"partial read table 1 offset 4 count 8", 0x00, "3f 00 01 00 00 04 00 08",
     "ee 00 00 00 00 08 3f 00 01 00 00 04 00 08 98 e0"},
    {"full write table 7", 0x00, "40 00 07 00 03 01 02 03 fa",
     "ee 00 00 00 00 09 40 00 07 00 03 01 02 03 fa 0b 9e"},
    {"partial write table 7 offset 5", 0x00, "4f 00 07 00 00 05 00 03 01 02 03 fa",
     "ee 00 00 00 00 0c 4f 00 07 00 00 05 00 03 01 02 03 fa 81 6a"},
    {"terminate", 0x00, "21", "ee 00 00 00 00 01 21 9a 01"},
    {"logoff", 0x00, "52", "ee 00 00 00 00 01 52 86 40"},
    {"wait 5 s", 0x00, "70 05", "ee 00 00 00 00 02 70 05 4c b9"},
};

TEST(C1218Frame, EncodesKnownPacketsByteForByte) {
  for (const auto& known : kKnownPackets) {
    Frame frame;
    frame.control = known.control;
    frame.data = hex(known.data);
    EXPECT_EQ(to_hex(encode(frame)), to_hex(hex(known.wire))) << known.what;
  }
}

TEST(C1218Frame, BuildsTheIdentRequestTheWayTermineterDoesByHand) {
  // termineter: start + identity + control + sequence + pack('>H', len) + data,
  // then packet_checksum = pack('<H', CRC_HDLC(packet)).
  std::vector<std::uint8_t> packet = {0xEE, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20};
  const auto crc = crc16(packet);
  packet.push_back(static_cast<std::uint8_t>(crc & 0xFF));
  packet.push_back(static_cast<std::uint8_t>(crc >> 8));
  EXPECT_EQ(to_hex(packet), "ee 00 00 00 00 01 20 13 10");
  EXPECT_EQ(encode(Frame{.data = {0x20}}), packet);
}

TEST(C1218Frame, ControlBitsReadBack) {
  Frame frame;
  frame.control = 0xE1;
  EXPECT_TRUE(frame.multi_packet());
  EXPECT_TRUE(frame.first_packet());
  EXPECT_TRUE(frame.toggle());
  EXPECT_EQ(frame.data_format(), 1);
  EXPECT_FALSE(Frame{}.toggle());
}

TEST(C1218Frame, LengthIsBigEndianAndLargestDataIsAccepted) {
  Frame frame;
  frame.data.assign(kMaxDataLength, 0x5A);
  const auto bytes = encode(frame);
  ASSERT_EQ(bytes.size(), kMaxPacketSize);
  EXPECT_EQ(bytes[4], 0x1F);
  EXPECT_EQ(bytes[5], 0xF8);  // 8184
  frame.data.push_back(0);
  EXPECT_THROW((void)encode(frame), std::length_error);
}

TEST(C1218SplitMessage, OneSmallMessageIsOnePlainPacket) {
  const auto frames = split_message(hex("30 00 01"), 64);
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(frames[0].control, 0);
  EXPECT_EQ(frames[0].sequence, 0);
  EXPECT_EQ(frames[0].data, hex("30 00 01"));
}

TEST(C1218SplitMessage, ALargeMessageCountsDownToZero) {
  std::vector<std::uint8_t> message(130);
  for (std::size_t i = 0; i < message.size(); ++i) message[i] = static_cast<std::uint8_t>(i);
  const auto frames = split_message(message, 64, 0x07);  // 56 data bytes a packet
  ASSERT_EQ(frames.size(), 3U);
  EXPECT_EQ(frames[0].control, ctrl::kMultiPacket | ctrl::kFirstPacket);
  EXPECT_EQ(frames[0].sequence, 2);
  EXPECT_EQ(frames[1].control, ctrl::kMultiPacket);
  EXPECT_EQ(frames[1].sequence, 1);
  EXPECT_EQ(frames[2].control, ctrl::kMultiPacket);
  EXPECT_EQ(frames[2].sequence, 0);
  EXPECT_EQ(frames[0].data.size(), 56U);
  EXPECT_EQ(frames[2].data.size(), 18U);
  std::vector<std::uint8_t> joined;
  for (const auto& f : frames) {
    EXPECT_EQ(f.identity, 0x07);
    joined.insert(joined.end(), f.data.begin(), f.data.end());
  }
  EXPECT_EQ(joined, message);
  EXPECT_EQ(packets_needed(130, 64), 3U);
  EXPECT_EQ(packets_needed(56, 64), 1U);
  EXPECT_EQ(packets_needed(57, 64), 2U);
  EXPECT_THROW((void)split_message(message, 8), std::invalid_argument);
}

}  // namespace
}  // namespace meter::c1218
