// The layout of a server_fuzz input, shared by the fuzz target and the corpus generator:
//
//   <config> { <step> <length> <bytes: length> }*
//
// <config> picks the server's limits (kPacketSizes[config & 3], 1 + (config >> 2 & 7) packets)
// and, with bit 7, packet mode. Each chunk first advances the clock by <step> (0..199: step x
// 10 ms; 200..254: step - 199 s; 255: 60 s), then delivers its bytes at that time (none: the
// server is only polled). A last chunk shorter than its <length> delivers what there is.
// In packet mode a chunk of two or more bytes is <ctrl> <seq-nbr> <data...>, sent as one packet
// with a good CRC, so the fuzzer reaches the services without having to find CRCs; shorter
// chunks are sent as they are (<ack>, <nak>, a stray byte).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

namespace meter::c1218::fuzz {

inline constexpr std::array<std::uint16_t, 4> kPacketSizes = {64, 128, 512, 1024};

inline std::uint16_t packet_size_of(std::uint8_t config) { return kPacketSizes[config & 3U]; }
inline std::uint8_t packets_of(std::uint8_t config) {
  return static_cast<std::uint8_t>(1 + ((config >> 2) & 7U));
}

inline constexpr std::uint8_t kPacketMode = 0x80;
inline bool packet_mode(std::uint8_t config) { return (config & kPacketMode) != 0; }

inline std::chrono::milliseconds step_of(std::uint8_t step) {
  if (step < 200) return std::chrono::milliseconds(step * 10);
  if (step < 255) return std::chrono::seconds(step - 199);
  return std::chrono::seconds(60);
}

}  // namespace meter::c1218::fuzz
