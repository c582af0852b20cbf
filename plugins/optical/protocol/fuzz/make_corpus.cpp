// Writes server_fuzz's seed corpus: real request sequences (a termineter session, the published
// identify/negotiate trace, partial and multi-packet writes, large reads, retries, timeouts) and
// broken ones (garbage, bad CRC, truncated, oversize, out of sequence), in fuzz_input.h's layout.
//   c1218_fuzz_corpus <dir>          writes the seeds into <dir>
//   c1218_fuzz_corpus --check <dir>  exits 1 unless <dir> holds every seed as generated
#include "corpus_files.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "fuzz_input.h"
#include "meter/c1218/frame.h"
#include "meter/c1218/psem.h"

namespace {

using namespace meter::c1218;
using Bytes = std::vector<std::uint8_t>;

std::uint8_t config_for(std::uint16_t packet_size, std::uint8_t packets) {
  std::uint8_t size_code = 0;
  for (std::uint8_t i = 0; i < fuzz::kPacketSizes.size(); ++i) {
    if (fuzz::kPacketSizes[i] == packet_size) size_code = i;
  }
  return static_cast<std::uint8_t>(size_code | ((packets - 1) << 2));
}

/// One seed: what a client sends, when.
class Seed {
 public:
  Seed(std::string name, std::uint16_t packet_size, std::uint8_t packets, bool packet_mode = false)
      : name_(std::move(name)),
        bytes_{static_cast<std::uint8_t>(config_for(packet_size, packets) |
                                         (packet_mode ? fuzz::kPacketMode : 0))},
        packet_mode_(packet_mode) {}

  /// Raw bytes after `step` (fuzz_input.h), in chunks of at most 255.
  Seed& raw(const Bytes& data, std::uint8_t step = 1) {
    std::size_t at = 0;
    do {
      const std::size_t n = std::min<std::size_t>(255, data.size() - at);
      bytes_.push_back(at == 0 ? step : 0);
      bytes_.push_back(static_cast<std::uint8_t>(n));
      bytes_.insert(bytes_.end(), data.begin() + static_cast<std::ptrdiff_t>(at),
                    data.begin() + static_cast<std::ptrdiff_t>(at + n));
      at += n;
    } while (at < data.size());
    return *this;
  }
  /// A packet, its toggle bit set as a client alternates it.
  Seed& packet(Frame frame, std::uint8_t step = 1) {
    if (toggle_) frame.control |= ctrl::kToggle;
    toggle_ = !toggle_;
    if (packet_mode_) {
      last_ = {frame.control, frame.sequence};
      last_.insert(last_.end(), frame.data.begin(), frame.data.end());
    } else {
      last_ = encode(frame);
    }
    return raw(last_, step);
  }
  /// A request in as many packets as `packet_size` needs.
  Seed& request(const Request& request, std::size_t packet_size = kDefaultPacketSize) {
    for (auto& frame : split_message(encode(request), packet_size)) packet(std::move(frame));
    return *this;
  }
  Seed& again() { return raw(last_); }
  Seed& ack(std::uint8_t step = 2) { return raw({kAck}, step); }
  Seed& nak(std::uint8_t step = 2) { return raw({kNak}, step); }
  /// Only time passes.
  Seed& pass(std::uint8_t step) {
    bytes_.push_back(step);
    bytes_.push_back(0);
    return *this;
  }
  Seed& exchange(const Request& r, std::size_t packet_size = kDefaultPacketSize) {
    return request(r, packet_size).ack();
  }

  const std::string& name() const { return name_; }
  const Bytes& bytes() const { return bytes_; }

 private:
  std::string name_;
  Bytes bytes_;
  Bytes last_;
  bool packet_mode_ = false;
  bool toggle_ = false;
};

Bytes hex(const char* text) {
  Bytes out;
  for (const char* p = text; *p != '\0';) {
    if (*p == ' ') {
      ++p;
      continue;
    }
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(p, 2), nullptr, 16)));
    p += 2;
  }
  return out;
}

LogonRequest logon(std::uint16_t user_id = 2) { return {user_id, *user_field("0000")}; }
SecurityRequest security(const char* password) { return {*password_field(password)}; }
Bytes counting(std::size_t n) {
  Bytes data(n);
  for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<std::uint8_t>(i * 3);
  return data;
}

std::vector<Seed> seeds() {
  std::vector<Seed> all;
  all.emplace_back("01-termineter-session", 512, 2);
  all.back()
      .exchange(IdentifyRequest{})
      .exchange(NegotiateRequest{512, 2, {6}})
      .exchange(logon(0))
      .exchange(security("secret"))
      .exchange(ReadRequest{1, std::nullopt})
      .exchange(ReadRequest{1, Range{4, 8}})
      .exchange(TerminateRequest{});

  all.emplace_back("02-published-identify-negotiate", 1024, 8);
  all.back()
      .raw(hex("ee 00 00 00 00 01 20 13 10"))
      .ack()
      .raw(hex("ee 00 20 00 00 05 61 04 00 80 06 c2 29"))
      .ack();

  all.emplace_back("03-partial-write", 128, 2);
  all.back()
      .exchange(IdentifyRequest{})
      .exchange(logon())
      .exchange(WriteRequest{7, 2, {0xA1, 0xB2, 0xC3}})
      .exchange(ReadRequest{7, Range{0, 8}})
      .exchange(LogoffRequest{});

  all.emplace_back("04-secured-full-write", 128, 2);
  all.back()
      .exchange(IdentifyRequest{})
      .exchange(logon())
      .exchange(WriteRequest{2, std::nullopt, counting(10)})
      .exchange(security("secret"))
      .exchange(WriteRequest{2, std::nullopt, counting(40)}, 128)
      .exchange(ReadRequest{2, std::nullopt})
      .exchange(TerminateRequest{});

  all.emplace_back("05-multi-packet-request", 64, 4);
  all.back()
      .exchange(IdentifyRequest{})
      .exchange(NegotiateRequest{64, 4, {}})
      .exchange(logon())
      .exchange(WriteRequest{7, std::nullopt, counting(64)}, 64)
      .exchange(ReadRequest{7, std::nullopt})
      .ack()
      .ack();

  all.emplace_back("06-multi-packet-response", 128, 8);
  all.back()
      .exchange(IdentifyRequest{})
      .exchange(NegotiateRequest{128, 8, {8, 6}})
      .exchange(logon())
      .exchange(ReadRequest{64, std::nullopt})
      .request(ReadRequest{64, Range{0, 500}})
      .ack()
      .nak()
      .ack()
      .ack()
      .ack()
      .ack();

  all.emplace_back("07-garbage", 64, 1);
  all.back()
      .raw(hex("00 ff 41 54 5a 0d 0a"))
      .raw(hex("ee 00 00 00"), 3)
      .raw(hex("00 01 20 13 10"), 3)
      .ack();

  all.emplace_back("18-false-start", 64, 1);
  all.back()
      .raw(hex("ee 00"))
      .raw(hex("ee 00 00 00 00 01 20 13 10"), 3)
      .raw(hex("ee 00 00 00 00 01 20 13 10"), 5)
      .ack();

  all.emplace_back("08-bad-crc-then-retransmission", 64, 1);
  all.back().raw(hex("ee 00 00 00 00 01 20 13 11")).raw(hex("ee 00 00 00 00 01 20 13 10")).ack();

  all.emplace_back("09-response-retries", 64, 1);
  all.back()
      .exchange(IdentifyRequest{})
      .exchange(logon())
      .request(ReadRequest{1, std::nullopt})
      .pass(201)
      .pass(201)
      .pass(201)
      .pass(201)
      .request(ReadRequest{1, std::nullopt});

  all.emplace_back("10-channel-timeout", 64, 1);
  all.back()
      .exchange(IdentifyRequest{})
      .exchange(logon())
      .pass(206)
      .exchange(ReadRequest{1, std::nullopt});

  all.emplace_back("11-wait", 64, 1);
  all.back()
      .exchange(IdentifyRequest{})
      .exchange(logon())
      .exchange(WaitRequest{10})
      .pass(211)
      .exchange(ReadRequest{1, std::nullopt})
      .exchange(DisconnectRequest{});

  all.emplace_back("12-truncated", 64, 1);
  all.back()
      .raw(hex("ee 00 00 00 00"))
      .pass(60)
      .raw(hex("01 20 13 10"))
      .raw(hex("ee 00 00 00 00 01 20 13 10"), 49)
      .ack();

  all.emplace_back("13-duplicate", 64, 1);
  all.back()
      .exchange(IdentifyRequest{})
      .exchange(logon())
      .request(ReadRequest{1, std::nullopt})
      .again()
      .ack()
      .again()
      .ack();

  all.emplace_back("14-out-of-state", 64, 1);
  all.back()
      .exchange(ReadRequest{1, std::nullopt})
      .exchange(logon())
      .exchange(IdentifyRequest{})
      .exchange(security("secret"))
      .exchange(logon(0xFFFF))
      .exchange(logon())
      .exchange(logon())
      .exchange(NegotiateRequest{256, 2, {}})
      .exchange(IdentifyRequest{})
      .packet(Frame{0, 0, 0, {0x3e}})
      .ack()
      .exchange(LogoffRequest{})
      .exchange(LogoffRequest{});

  all.emplace_back("15-oversize", 64, 1);
  all.back().raw(hex("ee 00 00 00 ff ff 20 20 20")).exchange(IdentifyRequest{});

  all.emplace_back("16-byte-by-byte", 64, 1);
  for (const auto byte : hex("ee 00 00 00 00 01 20 13 10")) all.back().raw({byte}, 40);
  all.back().ack();

  all.emplace_back("17-multi-packet-out-of-sequence", 64, 4);
  {
    Frame first;
    first.control = ctrl::kMultiPacket | ctrl::kFirstPacket;
    first.sequence = 2;
    first.data = hex("40 00 07");
    Frame skipped;
    skipped.control = ctrl::kMultiPacket;
    skipped.sequence = 0;
    skipped.data = hex("00 01 05 fb");
    all.back()
        .exchange(IdentifyRequest{})
        .exchange(logon())
        .packet(first)
        .packet(skipped)
        .packet(skipped)
        .exchange(ReadRequest{7, Range{0, 1}});
  }
  // Packet mode: the harness adds the framing and CRC, the fuzzer mutates services.
  all.emplace_back("19-packets-session", 128, 4, true);
  all.back()
      .exchange(IdentifyRequest{})
      .exchange(NegotiateRequest{128, 4, {6}})
      .exchange(logon())
      .exchange(security("secret"))
      .exchange(WriteRequest{2, 4, counting(20)})
      .exchange(WriteRequest{7, std::nullopt, counting(150)}, 128)
      .exchange(ReadRequest{7, Range{10, 100}})
      .ack()
      .exchange(WaitRequest{3})
      .exchange(LogoffRequest{})
      .exchange(TerminateRequest{});

  all.emplace_back("20-packets-retransmissions", 64, 2, true);
  all.back()
      .exchange(IdentifyRequest{})
      .exchange(logon())
      .request(ReadRequest{1, std::nullopt})
      .again()
      .nak()
      .ack()
      .pass(203)
      .request(ReadRequest{0, std::nullopt})
      .pass(201)
      .pass(201)
      .ack();
  return all;
}

}  // namespace

int main(int argc, char** argv) {
  return meter::c1218::fuzz::write_or_check_corpus(argc, argv, "c1218_fuzz_corpus", seeds());
}
