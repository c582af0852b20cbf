// The C12.18 byte-stream decoder: a small state machine over one packet buffer.
#include "meter/c1218/decoder.h"

#include <algorithm>

#include "meter/c1218/crc.h"

namespace meter::c1218 {

std::string_view to_string(FrameError error) noexcept {
  switch (error) {
    case FrameError::garbage: return "garbage";
    case FrameError::bad_crc: return "bad CRC";
    case FrameError::oversize: return "oversize";
    case FrameError::truncated: return "truncated";
  }
  return "unknown";
}

FrameDecoder::FrameDecoder(std::size_t max_packet_size)
    : max_packet_size_(std::clamp<std::size_t>(max_packet_size, kPacketOverhead, kMaxPacketSize)) {
  buffer_.reserve(kHeaderSize);
}

void FrameDecoder::set_max_packet_size(std::size_t max_packet_size) noexcept {
  max_packet_size_ = std::clamp<std::size_t>(max_packet_size, kPacketOverhead, kMaxPacketSize);
}

void FrameDecoder::reset() noexcept {
  buffer_.clear();
  expected_ = 0;
  garbage_run_ = 0;
}

void FrameDecoder::report(FrameError error, std::size_t dropped, std::vector<DecodeEvent>& events) {
  ++counters_.errors[static_cast<std::size_t>(error) - 1];
  counters_.bytes_dropped += dropped;
  DecodeEvent event;
  event.kind = DecodeEvent::Kind::error;
  event.error = error;
  event.bytes_dropped = dropped;
  events.push_back(std::move(event));
}

void FrameDecoder::flush_garbage(std::vector<DecodeEvent>& events) {
  if (garbage_run_ == 0) return;
  report(FrameError::garbage, garbage_run_, events);
  garbage_run_ = 0;
}

void FrameDecoder::finish_packet(std::vector<DecodeEvent>& events) {
  const std::size_t body = buffer_.size() - kCrcSize;
  const std::uint16_t computed = crc16(std::span(buffer_).first(body));
  const auto received = static_cast<std::uint16_t>(buffer_[body] | (buffer_[body + 1] << 8));
  if (computed != received) {
    report(FrameError::bad_crc, buffer_.size(), events);
  } else {
    ++counters_.frames;
    DecodeEvent event;
    event.kind = DecodeEvent::Kind::frame;
    event.frame.identity = buffer_[1];
    event.frame.control = buffer_[2];
    event.frame.sequence = buffer_[3];
    event.frame.data.assign(buffer_.begin() + static_cast<std::ptrdiff_t>(kHeaderSize),
                            buffer_.begin() + static_cast<std::ptrdiff_t>(body));
    events.push_back(std::move(event));
  }
  buffer_.clear();
  expected_ = 0;
}

void FrameDecoder::feed(std::span<const std::uint8_t> bytes, std::vector<DecodeEvent>& events) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    if (buffer_.empty()) {
      const std::uint8_t byte = bytes[i++];
      if (byte == kStp) {
        flush_garbage(events);
        buffer_.push_back(byte);
      } else if (byte == kAck || byte == kNak) {
        flush_garbage(events);
        DecodeEvent event;
        event.kind = byte == kAck ? DecodeEvent::Kind::ack : DecodeEvent::Kind::nak;
        ++(byte == kAck ? counters_.acks : counters_.naks);
        events.push_back(std::move(event));
      } else {
        ++garbage_run_;
      }
      continue;
    }
    if (expected_ == 0) {
      // Header in progress: take bytes one at a time until <length> is known.
      buffer_.push_back(bytes[i++]);
      if (buffer_.size() == kHeaderSize) {
        const std::size_t length = (std::size_t{buffer_[4]} << 8) | buffer_[5];
        if (length + kPacketOverhead > max_packet_size_) {
          const std::size_t dropped = buffer_.size();
          buffer_.clear();
          report(FrameError::oversize, dropped, events);
        } else {
          expected_ = length + kPacketOverhead;
          buffer_.reserve(expected_);
        }
      }
      continue;
    }
    const std::size_t take = std::min(expected_ - buffer_.size(), bytes.size() - i);
    buffer_.insert(buffer_.end(), bytes.begin() + static_cast<std::ptrdiff_t>(i),
                   bytes.begin() + static_cast<std::ptrdiff_t>(i + take));
    i += take;
    if (buffer_.size() == expected_) finish_packet(events);
  }
  flush_garbage(events);
}

bool FrameDecoder::timeout(std::vector<DecodeEvent>& events) {
  if (buffer_.empty()) return false;
  const std::size_t dropped = buffer_.size();
  buffer_.clear();
  expected_ = 0;
  report(FrameError::truncated, dropped, events);
  return true;
}

}  // namespace meter::c1218
