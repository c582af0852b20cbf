// libFuzzer target for the optical port's whole stack: arbitrary bytes, split at points the input
// chooses and delivered as the clock advances (stack_input.h), into the C12.18 Server in front of
// the real C12.19 Tables over a fake meter (stack_meter.h). Besides the sanitizers it checks,
// after every step:
//   - the meter's invariants (stack_meter.h: registers, seals, roles, read sizes, ST-5, ST-8),
//     around every request and between requests;
//   - everything the server transmits decodes as <ack>, <nak> and good packets no larger than
//     its configured packet size;
//   - the meter is logged on exactly while the server is in the session state;
//   - polling at the server's next deadline makes progress; at the end every timer runs out and
//     the session is over.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <meter/c1218/decoder.h>
#include <meter/c1218/frame.h>
#include <meter/c1218/server.h>

#include "stack_input.h"
#include "stack_meter.h"

namespace {

using namespace meter::c1218;
namespace stack = meter::plugins::optical::fuzz;
using stack::check;

void check_output(const std::vector<std::uint8_t>& out, const Server& server) {
  FrameDecoder decoder;
  std::vector<DecodeEvent> events;
  decoder.feed(out, events);
  check(!decoder.in_packet(), "the server sent a packet cut short");
  for (const auto& event : events) {
    check(event.kind != DecodeEvent::Kind::error, "the server sent bytes that are no packet");
    if (event.kind == DecodeEvent::Kind::frame) {
      check(event.frame.data.size() + kPacketOverhead <= server.config().max_packet_size,
            "the server sent a packet larger than its packet size");
    }
  }
}

void check_step(const stack::CheckedEndpoint& endpoint, const Server& server) {
  endpoint.check_registers();
  check(endpoint.logged_on() == (server.state() == SessionState::session),
        "the meter is logged on outside the session state, or not in it");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::uint8_t> input(data, size);
  const std::uint8_t config_byte = input[0];
  ServerConfig config;
  config.max_packet_size = stack::packet_size_of(config_byte);
  config.max_packets = stack::packets_of(config_byte);
  config.baud_rates = (1U << 6) | (1U << 8);
  stack::FuzzMeter meter(stack::sealed_by_cover(config_byte), stack::has_meter_id(config_byte));
  stack::CheckedEndpoint endpoint(meter);
  Server server(endpoint, config);
  TimePoint now = TimePoint{} + std::chrono::hours(1);

  std::size_t at = 1;
  while (at < input.size()) {
    now += stack::step_of(input[at++]);
    std::size_t length = at < input.size() ? input[at++] : 0;
    length = std::min(length, input.size() - at);
    auto bytes = input.subspan(at, length);
    at += length;
    std::vector<std::uint8_t> packet;
    if (stack::packet_mode(config_byte) && bytes.size() >= 2) {
      Frame frame;
      frame.control = bytes[0];
      frame.sequence = bytes[1];
      frame.data.assign(bytes.begin() + 2, bytes.end());
      packet = encode(frame);
      bytes = packet;
    }
    check_output(server.feed(bytes, now), server);
    check_step(endpoint, server);
    if (const auto deadline = server.next_deadline(); deadline && *deadline <= now) {
      check_output(server.poll(now), server);
      const auto after = server.next_deadline();
      check(!after || *after > now, "polling at the deadline made no progress");
      check_step(endpoint, server);
    }
  }
  for (int i = 0; i < 16; ++i) {
    const auto deadline = server.next_deadline();
    if (!deadline) break;
    now = std::max(now, *deadline);
    check_output(server.poll(now), server);
    check_step(endpoint, server);
  }
  check(!server.next_deadline().has_value(), "timers still running after they all ran out");
  check(!endpoint.logged_on(), "the session outlived its timers");
  return 0;
}
