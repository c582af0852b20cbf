// The C12.18 client: packets out with ACK/NAK and retries, responses in and reassembled.
#include "meter/c1218/client.h"

#include <algorithm>
#include <array>
#include <string>

namespace meter::c1218 {
namespace {

/// Prefixes an error's message with what was being done.
Error in(std::string_view context, Error error) {
  error.message = std::string(context) + ": " + error.message;
  return error;
}

/// Rewords a refusal ("request refused: isc (...)") as "<context>: isc (...)".
Error refused(std::string_view context, const Error& error) {
  if (error.kind != ErrorKind::response) return in(context, error);
  return fail(ErrorKind::response,
              std::string(context) + ": " + std::string(to_string(error.code)) + " (" +
                  std::string(describe(error.code)) + ")",
              error.code);
}

std::string table_name(std::uint16_t table) { return "table " + std::to_string(table); }

}  // namespace

Client::Client(Transport& transport, ClientOptions options)
    : transport_(transport), options_(options) {}

Result<void> Client::take(std::span<const std::uint8_t> bytes) {
  events_.clear();
  decoder_.feed(bytes, events_);
  for (auto& event : events_) {
    switch (event.kind) {
      case DecodeEvent::Kind::frame: {
        ++counters_.frames_received;
        const std::array<std::uint8_t, 1> ack = {kAck};
        if (auto sent = transport_.write(ack); !sent) return sent.error();
        if (last_rx_ && *last_rx_ == event.frame) {
          ++counters_.duplicates;
          break;
        }
        last_rx_ = event.frame;
        pending_.push_back(std::move(event));
        break;
      }
      case DecodeEvent::Kind::error: {
        counters_.bytes_dropped += event.bytes_dropped;
        if (event.error == FrameError::garbage) break;
        const std::array<std::uint8_t, 1> nak = {kNak};
        ++counters_.naks_sent;
        if (auto sent = transport_.write(nak); !sent) return sent.error();
        break;
      }
      case DecodeEvent::Kind::ack:
      case DecodeEvent::Kind::nak: pending_.push_back(std::move(event)); break;
    }
  }
  return {};
}

Result<std::optional<DecodeEvent>> Client::next_event(TimePoint deadline) {
  std::array<std::uint8_t, 512> buffer{};
  while (pending_.empty()) {
    const TimePoint now = transport_.now();
    const TimePoint character_deadline = last_byte_ + options_.timing.inter_character_timeout;
    if (decoder_.in_packet() && now >= character_deadline) {
      events_.clear();
      decoder_.timeout(events_);
      counters_.bytes_dropped += events_.empty() ? 0 : events_.front().bytes_dropped;
      const std::array<std::uint8_t, 1> nak = {kNak};
      ++counters_.naks_sent;
      if (auto sent = transport_.write(nak); !sent) return sent.error();
      continue;
    }
    if (now >= deadline) return std::optional<DecodeEvent>{};
    const TimePoint until = decoder_.in_packet() ? std::min(deadline, character_deadline) : deadline;
    auto got = transport_.read(buffer, until);
    if (!got) return got.error();
    if (*got == 0) continue;
    last_byte_ = transport_.now();
    if (auto taken = take(std::span(buffer).first(*got)); !taken) return taken.error();
  }
  auto event = std::move(pending_.front());
  pending_.pop_front();
  return std::optional<DecodeEvent>{std::move(event)};
}

void Client::drain() {
  // Whatever arrived between exchanges (a late response to a request given up) belongs to no
  // one: read it off without answering.
  pending_.clear();
  std::array<std::uint8_t, 512> buffer{};
  for (int i = 0; i < 64; ++i) {
    auto got = transport_.read(buffer, transport_.now());
    if (!got || *got == 0) break;
  }
  decoder_.reset();
}

Result<void> Client::send_packet(const std::vector<std::uint8_t>& packet) {
  bool naked = false;
  for (int attempt = 0; attempt <= options_.timing.retries; ++attempt) {
    if (attempt > 0) ++counters_.retries;
    if (auto sent = transport_.write(packet); !sent) return sent.error();
    ++counters_.frames_sent;
    const TimePoint deadline = transport_.now() + options_.timing.response_timeout;
    for (;;) {
      auto event = next_event(deadline);
      if (!event) return event.error();
      if (!*event) {
        ++counters_.timeouts;
        naked = false;
        break;
      }
      const DecodeEvent& e = **event;
      if (e.kind == DecodeEvent::Kind::ack) return {};
      if (e.kind == DecodeEvent::Kind::nak) {
        ++counters_.naks_received;
        naked = true;
        break;
      }
      if (e.kind == DecodeEvent::Kind::frame) {
        // The response is here, so the request got through: its <ack> was lost.
        pending_.push_front(std::move(**event));
        return {};
      }
    }
  }
  const std::string attempts = std::to_string(options_.timing.retries + 1) + " attempts";
  if (naked) return fail(ErrorKind::link, "packet refused (NAK) " + attempts);
  return fail(ErrorKind::timeout, "no acknowledgement after " + attempts);
}

Result<std::vector<std::uint8_t>> Client::receive_message() {
  std::vector<std::uint8_t> message;
  bool assembling = false;
  std::uint8_t expected = 0;
  for (;;) {
    auto event = next_event(transport_.now() + options_.timing.channel_traffic_timeout);
    if (!event) return event.error();
    if (!*event) {
      return fail(ErrorKind::timeout,
                  "no response within " +
                      std::to_string(options_.timing.channel_traffic_timeout.count()) + " ms");
    }
    if ((*event)->kind != DecodeEvent::Kind::frame) continue;  // a stray <ack> or <nak>
    Frame& frame = (*event)->frame;
    if (!frame.multi_packet()) return std::move(frame.data);
    if (frame.first_packet()) {
      message = std::move(frame.data);
      if (frame.sequence == 0) return message;
      assembling = true;
      expected = static_cast<std::uint8_t>(frame.sequence - 1);
      continue;
    }
    if (!assembling || frame.sequence != expected) {
      return fail(ErrorKind::link, "response packet " + std::to_string(frame.sequence) +
                                       " out of sequence");
    }
    message.insert(message.end(), frame.data.begin(), frame.data.end());
    if (frame.sequence == 0) return message;
    expected = static_cast<std::uint8_t>(frame.sequence - 1);
  }
}

Result<std::vector<std::uint8_t>> Client::exchange(std::span<const std::uint8_t> request) {
  auto frames = split_message(request, link_.packet_size, options_.identity);
  if (frames.size() > link_.nbr_packets) {
    return fail(ErrorKind::invalid_argument,
                "request of " + std::to_string(request.size()) + " bytes needs " +
                    std::to_string(frames.size()) + " packets of " +
                    std::to_string(link_.packet_size) + " bytes; the meter takes " +
                    std::to_string(link_.nbr_packets));
  }
  drain();
  for (auto& frame : frames) {
    if (toggle_) frame.control |= ctrl::kToggle;
    toggle_ = !toggle_;
    if (auto sent = send_packet(encode(frame)); !sent) return sent.error();
  }
  return receive_message();
}

Result<Identity> Client::identify() {
  auto response = exchange(encode(IdentifyRequest{}));
  if (!response) return in("identify", response.error());
  auto identity = parse_identify_response(*response);
  if (!identity) return refused("identify", identity.error());
  return identity;
}

Result<NegotiateResponse> Client::negotiate(std::uint16_t packet_size, std::uint8_t nbr_packets,
                                            std::span<const std::uint8_t> baud_codes) {
  if (packet_size <= kPacketOverhead || packet_size > kMaxPacketSize || nbr_packets == 0 ||
      baud_codes.size() > kMaxBaudRates) {
    return fail(ErrorKind::invalid_argument,
                "negotiate: " + std::to_string(packet_size) + "-byte packets x " +
                    std::to_string(nbr_packets) + " with " + std::to_string(baud_codes.size()) +
                    " baud rates cannot be asked for");
  }
  NegotiateRequest request{packet_size, nbr_packets, {baud_codes.begin(), baud_codes.end()}};
  auto response = exchange(encode(request));
  if (!response) return in("negotiate", response.error());
  auto granted = parse_negotiate_response(*response);
  if (!granted) return refused("negotiate", granted.error());
  link_.packet_size = std::min(granted->packet_size, packet_size);
  link_.nbr_packets = std::min(granted->nbr_packets, nbr_packets);
  link_.baud_code = granted->baud_rate;
  return granted;
}

namespace {
Result<void> status(std::string_view context, Result<std::vector<std::uint8_t>> response) {
  if (!response) return in(context, response.error());
  auto parsed = parse_status_response(*response);
  if (!parsed) return refused(context, parsed.error());
  return {};
}
}  // namespace

Result<void> Client::logon(std::uint16_t user_id, std::string_view user) {
  auto field = user_field(user);
  if (!field) return in("logon", field.error());
  return status("logon", exchange(encode(LogonRequest{user_id, *field})));
}

Result<void> Client::security(std::string_view password) {
  auto field = password_field(password);
  if (!field) return in("security", field.error());
  return status("security", exchange(encode(SecurityRequest{*field})));
}

Result<void> Client::logon(std::uint16_t user_id, std::string_view user,
                           std::optional<std::string_view> password) {
  if (auto done = logon(user_id, user); !done) return done;
  if (password) return security(*password);
  return {};
}

Result<void> Client::logoff() { return status("logoff", exchange(encode(LogoffRequest{}))); }

Result<void> Client::terminate() {
  auto done = status("terminate", exchange(encode(TerminateRequest{})));
  if (done) link_ = LinkParameters{};
  return done;
}

Result<void> Client::wait(std::uint8_t seconds) {
  return status("wait", exchange(encode(WaitRequest{seconds})));
}

Result<std::vector<std::uint8_t>> Client::read(std::uint16_t table) {
  const std::string context = "read of " + table_name(table);
  auto response = exchange(encode(ReadRequest{table, std::nullopt}));
  if (!response) return in(context, response.error());
  auto data = parse_read_response(*response);
  if (!data) return refused(context, data.error());
  return data;
}

Result<std::vector<std::uint8_t>> Client::read(std::uint16_t table, std::uint32_t offset,
                                               std::uint16_t count) {
  const std::string context = "read of " + table_name(table) + " at " + std::to_string(offset);
  if (offset > kMaxOffset) {
    return fail(ErrorKind::invalid_argument, context + ": offset over 24 bits");
  }
  auto response = exchange(encode(ReadRequest{table, Range{offset, count}}));
  if (!response) return in(context, response.error());
  auto data = parse_read_response(*response);
  if (!data) return refused(context, data.error());
  if (data->size() > count) {
    return fail(ErrorKind::malformed, context + ": " + std::to_string(data->size()) +
                                          " bytes returned for " + std::to_string(count));
  }
  return data;
}

Result<void> Client::write(std::uint16_t table, std::span<const std::uint8_t> data) {
  const std::string context = "write of " + table_name(table);
  if (data.size() > 0xFFFF) {
    return fail(ErrorKind::invalid_argument, context + ": more than 65535 bytes");
  }
  return status(context, exchange(encode(WriteRequest{table, std::nullopt,
                                                      {data.begin(), data.end()}})));
}

Result<void> Client::write(std::uint16_t table, std::uint32_t offset,
                           std::span<const std::uint8_t> data) {
  const std::string context = "write of " + table_name(table) + " at " + std::to_string(offset);
  if (data.size() > 0xFFFF || offset > kMaxOffset) {
    return fail(ErrorKind::invalid_argument, context + ": more than 65535 bytes or offset over 24 bits");
  }
  return status(context, exchange(encode(WriteRequest{table, offset, {data.begin(), data.end()}})));
}

}  // namespace meter::c1218
