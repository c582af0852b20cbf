// Encoding C12.18 packets and splitting messages into them.
#include "meter/c1218/frame.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "meter/c1218/crc.h"

namespace meter::c1218 {

void encode_to(const Frame& frame, std::vector<std::uint8_t>& out) {
  if (frame.data.size() > kMaxDataLength) {
    throw std::length_error("C12.18 packet data of " + std::to_string(frame.data.size()) +
                            " bytes exceeds " + std::to_string(kMaxDataLength));
  }
  const std::size_t start = out.size();
  const auto length = static_cast<std::uint16_t>(frame.data.size());
  out.reserve(start + kPacketOverhead + frame.data.size());
  out.push_back(kStp);
  out.push_back(frame.identity);
  out.push_back(frame.control);
  out.push_back(frame.sequence);
  out.push_back(static_cast<std::uint8_t>(length >> 8));
  out.push_back(static_cast<std::uint8_t>(length & 0xFFU));
  out.insert(out.end(), frame.data.begin(), frame.data.end());
  const std::uint16_t crc = crc16(std::span(out).subspan(start));
  out.push_back(static_cast<std::uint8_t>(crc & 0xFFU));
  out.push_back(static_cast<std::uint8_t>(crc >> 8));
}

std::vector<std::uint8_t> encode(const Frame& frame) {
  std::vector<std::uint8_t> out;
  encode_to(frame, out);
  return out;
}

std::size_t packets_needed(std::size_t length, std::size_t packet_size) noexcept {
  const std::size_t capacity =
      packet_size > kPacketOverhead ? std::min(packet_size - kPacketOverhead, kMaxDataLength) : 1;
  return length == 0 ? 1 : (length + capacity - 1) / capacity;
}

std::vector<Frame> split_message(std::span<const std::uint8_t> message, std::size_t packet_size,
                                 std::uint8_t identity) {
  if (packet_size <= kPacketOverhead) {
    throw std::invalid_argument("C12.18 packet size " + std::to_string(packet_size) +
                                " leaves no room for data");
  }
  const std::size_t capacity = std::min(packet_size - kPacketOverhead, kMaxDataLength);
  const std::size_t count = packets_needed(message.size(), packet_size);
  if (count > 256) {
    throw std::length_error("C12.18 message of " + std::to_string(message.size()) +
                            " bytes needs more than 256 packets");
  }
  std::vector<Frame> frames;
  frames.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    Frame frame;
    frame.identity = identity;
    if (count > 1) {
      frame.control = ctrl::kMultiPacket | (i == 0 ? ctrl::kFirstPacket : 0);
      frame.sequence = static_cast<std::uint8_t>(count - 1 - i);
    }
    const std::size_t begin = i * capacity;
    const std::size_t end = std::min(message.size(), begin + capacity);
    frame.data.assign(message.begin() + static_cast<std::ptrdiff_t>(begin),
                      message.begin() + static_cast<std::ptrdiff_t>(end));
    frames.push_back(std::move(frame));
  }
  return frames;
}

}  // namespace meter::c1218
