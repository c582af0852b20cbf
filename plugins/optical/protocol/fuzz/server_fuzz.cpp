// libFuzzer target: arbitrary bytes, split at points the input chooses and delivered as the
// clock advances (fuzz_input.h), into a Server whose meter has readable and writable tables.
// Besides the sanitizers it checks, after every step, that:
//   - everything the server transmits decodes as <ack>, <nak> and good packets no larger than
//     its configured packet size;
//   - the meter is logged on exactly while the server is in the session state, and is never
//     logged off twice;
//   - polling at the server's next deadline makes progress (the deadline moves on or goes away).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <span>
#include <vector>

#include "fuzz_input.h"
#include "meter/c1218/decoder.h"
#include "meter/c1218/frame.h"
#include "meter/c1218/server.h"

namespace {

using namespace meter::c1218;

void check(bool condition) {
  if (!condition) std::abort();
}

class FuzzEndpoint : public Endpoint {
 public:
  FuzzEndpoint() {
    tables_[0] = std::vector<std::uint8_t>(32, 0x11);
    tables_[1] = {'M', 'E', 'T', 'R', 0x01, 0x02, 0x03, 0x04};
    tables_[2] = std::vector<std::uint8_t>(40, 0x22);     // writable after security
    tables_[7] = std::vector<std::uint8_t>(64, 0x00);     // writable
    tables_[64] = std::vector<std::uint8_t>(3000, 0x5A);  // larger than most links carry
  }

  Identity identity() override { return {0, 2, 0, {0x00}}; }

  ResponseCode logon(std::uint16_t user_id, std::string_view user) override {
    check(!logged_on_);
    check(user.size() == kUserNameLength);
    if (user_id == 0xFFFF) return ResponseCode::bsy;
    logged_on_ = true;
    cleared_ = false;
    return ResponseCode::ok;
  }

  ResponseCode security(std::span<const std::uint8_t, kPasswordLength> password) override {
    check(logged_on_);
    const auto expected = *password_field("secret");
    cleared_ = std::equal(password.begin(), password.end(), expected.begin());
    return cleared_ ? ResponseCode::ok : ResponseCode::isc;
  }

  void logoff() override {
    check(logged_on_);
    logged_on_ = false;
    cleared_ = false;
  }

  TableResult read(std::uint16_t table, std::optional<Range> range) override {
    check(logged_on_);
    const auto found = tables_.find(table);
    if (found == tables_.end()) return {ResponseCode::onp, {}};
    const auto& data = found->second;
    if (!range) return {ResponseCode::ok, data};
    if (range->offset > data.size()) return {ResponseCode::iar, {}};
    const std::size_t end = std::min<std::size_t>(data.size(), range->offset + range->count);
    return {ResponseCode::ok, {data.begin() + range->offset, data.begin() + end}};
  }

  ResponseCode write(std::uint16_t table, std::optional<std::uint32_t> offset,
                     std::span<const std::uint8_t> data) override {
    check(logged_on_);
    if (table != 2 && table != 7) return ResponseCode::iar;
    if (table == 2 && !cleared_) return ResponseCode::isc;
    auto& target = tables_[table];
    const std::size_t at = offset.value_or(0);
    if (at + data.size() > target.size()) return ResponseCode::onp;
    std::copy(data.begin(), data.end(), target.begin() + static_cast<std::ptrdiff_t>(at));
    return ResponseCode::ok;
  }

  bool logged_on() const { return logged_on_; }

 private:
  std::map<std::uint16_t, std::vector<std::uint8_t>> tables_;
  bool logged_on_ = false;
  bool cleared_ = false;
};

void check_output(const std::vector<std::uint8_t>& out, const Server& server) {
  FrameDecoder decoder;
  std::vector<DecodeEvent> events;
  decoder.feed(out, events);
  check(!decoder.in_packet());
  for (const auto& event : events) {
    check(event.kind != DecodeEvent::Kind::error);
    if (event.kind == DecodeEvent::Kind::frame) {
      check(event.frame.data.size() + kPacketOverhead <= server.config().max_packet_size);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::uint8_t> input(data, size);
  ServerConfig config;
  config.max_packet_size = fuzz::packet_size_of(input[0]);
  config.max_packets = fuzz::packets_of(input[0]);
  config.baud_rates = (1U << 6) | (1U << 8);
  FuzzEndpoint endpoint;
  Server server(endpoint, config);
  TimePoint now = TimePoint{} + std::chrono::hours(1);

  std::size_t at = 1;
  while (at < input.size()) {
    now += fuzz::step_of(input[at++]);
    std::size_t length = at < input.size() ? input[at++] : 0;
    length = std::min(length, input.size() - at);
    auto bytes = input.subspan(at, length);
    at += length;
    std::vector<std::uint8_t> packet;
    if (fuzz::packet_mode(input[0]) && bytes.size() >= 2) {
      Frame frame;
      frame.control = bytes[0];
      frame.sequence = bytes[1];
      frame.data.assign(bytes.begin() + 2, bytes.end());
      packet = encode(frame);
      bytes = packet;
    }
    const auto out = server.feed(bytes, now);
    check_output(out, server);
    check(endpoint.logged_on() == (server.state() == SessionState::session));
    if (const auto deadline = server.next_deadline(); deadline && *deadline <= now) {
      // Due already: one poll must deal with it.
      check_output(server.poll(now), server);
      const auto after = server.next_deadline();
      check(!after || *after > now);
    }
  }
  // Let every timer run out: the session must end and the meter be logged off.
  for (int i = 0; i < 16; ++i) {
    const auto deadline = server.next_deadline();
    if (!deadline) break;
    now = std::max(now, *deadline);
    check_output(server.poll(now), server);
  }
  check(!server.next_deadline().has_value());
  check(!endpoint.logged_on());
  return 0;
}
