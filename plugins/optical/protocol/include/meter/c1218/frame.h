// The C12.18 packet, as it crosses the optical port:
//
//   <stp 0xEE> <identity> <ctrl> <seq-nbr> <length: word16, big-endian> <data> <crc: word16>
//
// <identity> is 0x00 unless a manufacturer or utility gives it a use (the meter echoes the
// request's). <ctrl> bit 7 says the packet is part of a multi-packet transmission, bit 6 that it
// is the first of one, bit 5 is the toggle bit (inverted for each new packet a side sends, kept
// on a retransmission, so the receiver can drop duplicates), bits 1..0 are the data format
// (0 = PSEM, the only one C12.18 carries) and bits 4..2 are reserved. <seq-nbr> counts down the
// packets of a multi-packet transmission to 0 on the last; a single packet carries 0. The CRC
// (crc.h) covers <stp> through the last data byte and is sent low byte first. A good packet is
// answered with <ack> 0x06, a bad one (CRC, framing) with <nak> 0x15.
//
// A packet is at most 8192 bytes (the negotiate service's bound), so at most 8184 data bytes; the
// default before negotiation is 64 bytes in one packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace meter::c1218 {

inline constexpr std::uint8_t kStp = 0xEE;  ///< start of packet
inline constexpr std::uint8_t kAck = 0x06;  ///< positive acknowledgement of a packet
inline constexpr std::uint8_t kNak = 0x15;  ///< negative acknowledgement (bad CRC or framing)

inline constexpr std::size_t kHeaderSize = 6;  ///< stp, identity, ctrl, seq-nbr, length
inline constexpr std::size_t kCrcSize = 2;
inline constexpr std::size_t kPacketOverhead = kHeaderSize + kCrcSize;
inline constexpr std::size_t kMaxPacketSize = 8192;  ///< the largest negotiable packet
inline constexpr std::size_t kMaxDataLength = kMaxPacketSize - kPacketOverhead;
inline constexpr std::size_t kDefaultPacketSize = 64;  ///< before a negotiate service
inline constexpr std::uint8_t kDefaultPacketCount = 1;

/// Bits of <ctrl>.
namespace ctrl {
inline constexpr std::uint8_t kMultiPacket = 0x80;  ///< part of a multi-packet transmission
inline constexpr std::uint8_t kFirstPacket = 0x40;  ///< first packet of a multi-packet transmission
inline constexpr std::uint8_t kToggle = 0x20;       ///< duplicate detection
inline constexpr std::uint8_t kDataFormatMask = 0x03;  ///< 0: PSEM (C12.18, C12.21)
}  // namespace ctrl

/// One packet: everything but <stp>, <length> and <crc>, which encode() computes.
struct Frame {
  std::uint8_t identity = 0;
  std::uint8_t control = 0;
  std::uint8_t sequence = 0;
  std::vector<std::uint8_t> data;

  bool multi_packet() const noexcept { return (control & ctrl::kMultiPacket) != 0; }
  bool first_packet() const noexcept { return (control & ctrl::kFirstPacket) != 0; }
  bool toggle() const noexcept { return (control & ctrl::kToggle) != 0; }
  std::uint8_t data_format() const noexcept { return control & ctrl::kDataFormatMask; }

  friend bool operator==(const Frame&, const Frame&) = default;
};

/// The bytes of `frame` on the wire. Throws std::length_error if its data exceed kMaxDataLength
/// (a programming error: callers split messages into packets first).
std::vector<std::uint8_t> encode(const Frame& frame);

/// Appends the bytes of `frame` to `out` (same rule as encode()).
void encode_to(const Frame& frame, std::vector<std::uint8_t>& out);

/// Splits a PSEM message into the frames that carry it in packets of at most `packet_size`
/// bytes: one frame with ctrl 0 and seq-nbr 0 when it fits, otherwise frames marked
/// multi-packet (the first also first-packet) with seq-nbr counting down to 0. Toggle bits are
/// left clear; the sender sets them as it transmits. `packet_size` must exceed kPacketOverhead.
std::vector<Frame> split_message(std::span<const std::uint8_t> message, std::size_t packet_size,
                                 std::uint8_t identity = 0);

/// How many packets of `packet_size` bytes a message of `length` bytes needs (at least 1).
std::size_t packets_needed(std::size_t length, std::size_t packet_size) noexcept;

}  // namespace meter::c1218
