// FrameDecoder: turns the bytes of an optical port, in whatever pieces they arrive, into C12.18
// packets, acknowledgements and typed errors.
//
// Between packets a byte is <ack> (0x06), <nak> (0x15), <stp> (0xEE, a packet starts) or garbage.
// A packet is complete when its header, <length> data bytes and CRC are in. Malformed input is
// reported, counted and skipped, and the decoder carries on with the next byte:
//   - garbage: bytes between packets that are none of the above (one error per run);
//   - oversize: a <length> that would make the packet larger than the receiver's limit (the
//     negotiated or configured packet size); the header is dropped and scanning resumes;
//   - bad_crc: the CRC does not match; the whole packet is dropped;
//   - truncated: the inter-character timeout ran out inside a packet (timeout()).
// A receiver answers oversize, bad_crc and truncated with <nak>. The decoder never holds more
// than one packet and never reads outside what it was given.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "meter/c1218/frame.h"

namespace meter::c1218 {

/// Why input was refused. Zero is never a reason.
enum class FrameError : std::uint8_t {
  garbage = 1,  ///< bytes outside a packet that are not <stp>, <ack> or <nak>
  bad_crc,      ///< the packet's CRC does not match its bytes
  oversize,     ///< <length> exceeds what the receiver accepts
  truncated,    ///< the inter-character timeout ran out inside a packet
};
inline constexpr std::size_t kFrameErrorCount = 4;

/// "garbage", "bad CRC", "oversize", "truncated".
std::string_view to_string(FrameError error) noexcept;

/// One thing the decoder found.
struct DecodeEvent {
  enum class Kind : std::uint8_t { frame = 1, ack, nak, error };
  Kind kind = Kind::frame;
  Frame frame;                    ///< kind == frame
  FrameError error{};             ///< kind == error
  std::size_t bytes_dropped = 0;  ///< kind == error: how many input bytes it discards
};

/// What the decoder has seen since it was made (reset() keeps them).
struct DecoderCounters {
  std::uint64_t frames = 0;
  std::uint64_t acks = 0;
  std::uint64_t naks = 0;
  std::array<std::uint64_t, kFrameErrorCount> errors{};  ///< indexed by FrameError - 1
  std::uint64_t bytes_dropped = 0;

  std::uint64_t of(FrameError error) const noexcept {
    return errors[static_cast<std::size_t>(error) - 1];
  }
};

class FrameDecoder {
 public:
  /// `max_packet_size`: the largest packet accepted, overhead included (at most kMaxPacketSize).
  explicit FrameDecoder(std::size_t max_packet_size = kMaxPacketSize);

  /// Changes the largest packet accepted; takes effect from the next packet header.
  void set_max_packet_size(std::size_t max_packet_size) noexcept;
  std::size_t max_packet_size() const noexcept { return max_packet_size_; }

  /// Consumes `bytes`, appending what they complete to `events` in order.
  void feed(std::span<const std::uint8_t> bytes, std::vector<DecodeEvent>& events);

  /// The inter-character timeout ran out: drops a partial packet, reporting it as truncated.
  /// Returns false (and reports nothing) when no packet was in progress.
  bool timeout(std::vector<DecodeEvent>& events);

  /// True while a packet has started (<stp> seen) but is not complete.
  bool in_packet() const noexcept { return !buffer_.empty(); }

  /// Forgets any partial packet without reporting it.
  void reset() noexcept;

  const DecoderCounters& counters() const noexcept { return counters_; }

 private:
  void report(FrameError error, std::size_t dropped, std::vector<DecodeEvent>& events);
  void flush_garbage(std::vector<DecodeEvent>& events);
  void finish_packet(std::vector<DecodeEvent>& events);

  std::size_t max_packet_size_;
  std::vector<std::uint8_t> buffer_;  // the packet in progress, from <stp>
  std::size_t expected_ = 0;          // its total size once the header is in, else 0
  std::size_t garbage_run_ = 0;
  DecoderCounters counters_;
};

}  // namespace meter::c1218
