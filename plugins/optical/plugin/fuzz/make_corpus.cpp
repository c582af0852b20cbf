// Writes optical_stack_fuzz's seed corpus, in stack_input.h's layout: sessions a meter shop runs
// (every role; reads of every table, full and partial; every procedure through ST-7 with each
// selector; ST-5 written whole and in part; sealing and unsealing) and ones it should not
// (writes without the role, on a sealed meter, to read-only tables, malformed procedures).
//   optical_fuzz_corpus <dir>          writes the seeds into <dir>
//   optical_fuzz_corpus --check <dir>  exits 1 unless <dir> holds every seed as generated
#include "corpus_files.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <meter/c1218/frame.h>
#include <meter/c1218/psem.h>
#include <meter/c1219/procedures.h>
#include <meter/c1219/tables.h>

#include "stack_input.h"

namespace {

using namespace meter::c1218;
namespace stack = meter::plugins::optical::fuzz;
namespace procedure = meter::c1219::procedure;
using Bytes = std::vector<std::uint8_t>;

std::uint8_t size_code(std::uint16_t packet_size) {
  for (std::uint8_t i = 0; i < stack::kPacketSizes.size(); ++i) {
    if (stack::kPacketSizes[i] == packet_size) return i;
  }
  return 0;
}

/// What the meter is: packet size and count of the server, packet mode, seals, meter id.
struct Setup {
  std::uint16_t packet_size = 1024;
  std::uint8_t packets = 8;
  bool packet_mode = false;
  bool sealed_by_cover = false;
  bool meter_id = true;

  std::uint8_t config() const {
    return static_cast<std::uint8_t>(size_code(packet_size) | ((packets - 1) << 2) |
                                     (sealed_by_cover ? stack::kSealedByCover : 0) |
                                     (meter_id ? 0 : stack::kNoMeterId) |
                                     (packet_mode ? stack::kPacketMode : 0));
  }
};

/// One seed: what a client sends, when.
class Seed {
 public:
  Seed(std::string name, Setup setup)
      : name_(std::move(name)), setup_(setup), bytes_{setup.config()} {}

  /// Raw bytes after `step` (stack_input.h), in chunks of at most 255.
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
  /// A request in as many packets as the link carries, toggling as a client does, each packet
  /// acknowledged by the server and then the response acknowledged (enough <ack>s for a
  /// multi-packet response).
  Seed& request(const Request& request) {
    for (auto& frame : split_message(encode(request), link_size_)) {
      if (toggle_) frame.control |= ctrl::kToggle;
      toggle_ = !toggle_;
      if (setup_.packet_mode) {
        Bytes chunk{frame.control, frame.sequence};
        chunk.insert(chunk.end(), frame.data.begin(), frame.data.end());
        raw(chunk);
      } else {
        raw(encode(frame));
      }
    }
    return *this;
  }
  Seed& exchange(const Request& r, int acks = 1) {
    request(r);
    for (int i = 0; i < acks; ++i) raw({kAck}, 2);
    return *this;
  }
  /// Identify, negotiate the setup's packets, logon, and the password (none: public).
  Seed& open(std::optional<std::string> password) {
    exchange(IdentifyRequest{});
    exchange(NegotiateRequest{setup_.packet_size, setup_.packets, {6}});
    link_size_ = setup_.packet_size;
    exchange(LogonRequest{2, *user_field("shop")});
    if (password) exchange(SecurityRequest{*password_field(*password)});
    return *this;
  }
  Seed& read(std::uint16_t table, int acks = 1) {
    return exchange(ReadRequest{table, std::nullopt}, acks);
  }
  Seed& read(std::uint16_t table, std::uint32_t offset, std::uint16_t count) {
    return exchange(ReadRequest{table, Range{offset, count}});
  }
  /// ST-7 with procedure `number`, then ST-8.
  Seed& run(std::uint16_t number, const Bytes& params, std::uint8_t selector = 0) {
    const auto idb = static_cast<std::uint16_t>(number | (selector << 12));
    Bytes st7{static_cast<std::uint8_t>(idb & 0xFF), static_cast<std::uint8_t>(idb >> 8),
              ++sequence_};
    st7.insert(st7.end(), params.begin(), params.end());
    exchange(WriteRequest{meter::c1219::table::kProcedureInitiate, std::nullopt, st7});
    return read(meter::c1219::table::kProcedureResponse);
  }
  Seed& write(std::uint16_t table, std::optional<std::uint32_t> offset, const Bytes& data) {
    return exchange(WriteRequest{table, offset, data});
  }
  Seed& pass(std::uint8_t step) {
    bytes_.push_back(step);
    bytes_.push_back(0);
    return *this;
  }
  Seed& close() {
    exchange(LogoffRequest{});
    return exchange(TerminateRequest{});
  }

  const std::string& name() const { return name_; }
  const Bytes& bytes() const { return bytes_; }

 private:
  std::string name_;
  Setup setup_;
  Bytes bytes_;
  std::size_t link_size_ = kDefaultPacketSize;
  bool toggle_ = false;
  std::uint8_t sequence_ = 0;
};

Bytes le(std::uint64_t v, int n) {
  Bytes out;
  for (int i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  return out;
}
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
Bytes text(const std::string& s) { return {s.begin(), s.end()}; }
Bytes obis(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, std::uint8_t e,
           std::uint8_t f) {
  return {a, b, c, d, e, f};
}
// The value encoding of MP-6 (value_codec.h).
Bytes integer(std::int64_t v) { return cat({{2}, le(static_cast<std::uint64_t>(v), 8)}); }
Bytes boolean(bool v) { return {1, static_cast<std::uint8_t>(v ? 1 : 0)}; }
Bytes text_value(const std::string& s) { return cat({{5}, le(s.size(), 4), text(s)}); }

const std::vector<std::uint16_t> kEveryTable{0,  1,  3,  5,  7,  8,  21, 22, 23, 51, 52, 53, 55, 61,
                                             62, 63, 64, 71, 72, 73, 74, 75, 76, 2048, 2049,
                                             2050, 2051, 2052, 2, 54, 2053, 0xFFFF};

std::vector<Seed> seeds() {
  std::vector<Seed> all;

  all.emplace_back("01-reader-reads-every-table", Setup{});
  all.back().open("shop-reader");
  for (const auto t : kEveryTable) all.back().read(t, 2);
  all.back().close();

  all.emplace_back("02-public-partial-reads", Setup{512, 4});
  all.back()
      .open(std::nullopt)
      .read(0, 0, 44)
      .read(0, 43, 1)
      .read(0, 44, 0)
      .read(0, 44, 1)
      .read(1, 4, 8)
      .read(23, 0, 9)
      .read(23, 100, 200)
      .read(64, 5, 10)
      .read(76, 0, 11)
      .read(2048, 2, 13)
      .read(5, 0xFFFFFF, 1)
      .read(9, 0, 1)
      .close();

  all.emplace_back("03-configurator-procedures", Setup{1024, 8, true});
  all.back()
      .open("shop-configurator")
      .read(8)
      .run(procedure::kListObjects, {})
      .run(procedure::kListObjects, le(40, 2))
      .run(procedure::kListObjects, le(9999, 2))
      .run(procedure::kRemoteReset, {0x01})
      .run(procedure::kRemoteReset, {0x02})
      .run(procedure::kSetDateTime, {0x03, 26, 7, 16, 9, 15, 0, 0x00})
      .run(procedure::kSetDateTime, {0x07, 26, 7, 16, 13, 15, 0, 0x10})
      .run(procedure::kSetDateTime, {0x01, 0, 0, 0, 25, 0, 0, 0x00})
      .run(procedure::kReactivateTestLed, {})
      .run(procedure::kBillingPreset, cat({{1}, le(5'000'000, 8)}))
      .run(procedure::kBillingPreset, cat({{2}, le(0, 8)}))
      .run(procedure::kBillingPreset, cat({{1}, le(static_cast<std::uint64_t>(-5), 8)}))
      .run(procedure::kBillingPreset, cat({{3}, le(7, 8)}))
      .run(procedure::kDisplayMultiplier, {10})
      .run(procedure::kDisplayMultiplier, {241})
      .run(procedure::kReadObject, obis(1, 0, 1, 8, 0, 255))
      .read(meter::c1219::table::kObjectValue)
      .run(procedure::kReadObject, obis(0, 0, 99, 98, 0, 255))
      .read(meter::c1219::table::kObjectValue, 2)
      .run(procedure::kWriteObject, cat({obis(0, 0, 128, 8, 0, 255), integer(20)}))
      .run(procedure::kWriteObject, cat({obis(0, 0, 96, 1, 8, 255), text_value("SITE-0042")}))
      .run(procedure::kWriteObject, cat({obis(1, 0, 1, 8, 0, 255), integer(1)}))
      .run(procedure::kWriteObject, cat({obis(0, 0, 128, 7, 1, 255), integer(77)}))
      .run(procedure::kElectronicSeal, {0x01})
      .run(procedure::kBillingPreset, cat({{1}, le(1, 8)}))
      .run(procedure::kElectronicSeal, {0x00})
      .run(procedure::kReactivateTestLed, {}, 1)
      .run(procedure::kReactivateTestLed, {0x00}, 1)
      .run(procedure::kListObjects, {}, 2)
      .run(procedure::kListObjects, {}, 3)
      .run(2048 + 7, {})
      .run(3, {})
      .close();

  all.emplace_back("04-configurator-meter-id", Setup{128, 4});
  all.back()
      .open("shop-configurator")
      .read(5)
      .read(0)
      .write(5, std::nullopt, text("SITE-0001           "))
      .write(5, 5, text("99"))
      .write(5, 18, text("XYZ"))
      .write(5, 0, Bytes{'A', 0x07})
      .write(5, 0, Bytes{'B', 0x00, 'C'})
      .write(5, 3, Bytes{0xE9, 0xFC})
      .write(5, std::nullopt, text("A VERY LONG METER IDENTIFIER"))
      .read(5)
      .write(7, 1, Bytes{0x01, 0x08, 0x01})
      .write(7, std::nullopt, Bytes{0x01, 0x08})
      .write(7, 0, Bytes{0x01, 0x08, 0x09})
      .write(1, std::nullopt, Bytes(32, 0x41))
      .write(8, std::nullopt, Bytes{0})
      .write(2048, 0, Bytes{0})
      .write(9, std::nullopt, Bytes{0})
      .read(8)
      .close();

  all.emplace_back("05-calibrator-seals-and-unseals", Setup{512, 2});
  all.back()
      .open("shop-calibrator")
      .run(procedure::kElectronicSeal, {0x01})
      .read(3)
      .run(procedure::kDisplayMultiplier, {3})
      .run(procedure::kReactivateTestLed, {})
      .run(procedure::kElectronicSeal, {0x00})
      .read(3)
      .run(procedure::kBillingPreset, cat({{1}, le(10, 8)}))
      .run(procedure::kWriteObject, cat({obis(0, 0, 128, 6, 7, 255), boolean(true)}))
      .run(procedure::kWriteObject, cat({obis(0, 0, 128, 6, 7, 255), boolean(false)}))
      .close();

  all.emplace_back("06-sealed-by-cover", Setup{1024, 8, true, true});
  all.back()
      .open("shop-configurator")
      .read(3)
      .run(procedure::kBillingPreset, cat({{1}, le(0, 8)}))
      .run(procedure::kDisplayMultiplier, {5})
      .run(procedure::kElectronicSeal, {0x00})
      .run(procedure::kWriteObject, cat({obis(0, 0, 128, 7, 2, 255), integer(0)}))
      .write(5, std::nullopt, text("SEALED"))
      .run(procedure::kRemoteReset, {0x01})
      .close();

  all.emplace_back("07-no-meter-id", Setup{1024, 8, false, false, false});
  all.back()
      .open("shop-configurator")
      .read(0)
      .read(5)
      .write(5, std::nullopt, text("SITE-0009"))
      .close();

  all.emplace_back("08-public-and-reader-refused", Setup{1024, 8, true});
  all.back()
      .open(std::nullopt)
      .read(74)
      .run(procedure::kBillingPreset, cat({{1}, le(0, 8)}))
      .write(5, std::nullopt, text("PUBLIC"))
      .exchange(SecurityRequest{*password_field("wrong")})
      .exchange(SecurityRequest{*password_field("shop-reader")})
      .run(procedure::kBillingPreset, cat({{1}, le(0, 8)}))
      .run(procedure::kElectronicSeal, {0x01})
      .run(procedure::kReadObject, obis(0, 0, 99, 98, 0, 255))
      .close();

  // Small packets: requests and responses in many packets, the role lost to a timeout.
  all.emplace_back("09-small-packets-and-timeout", Setup{64, 8});
  all.back()
      .open("shop-configurator")
      .run(procedure::kWriteObject,
           cat({obis(0, 0, 96, 1, 8, 255), text_value("SITE-0043 WITH A LONGER NAME THAN FITS")}))
      .read(5)
      .read(21)
      .pass(207)
      .open("shop-configurator")
      .run(procedure::kBillingPreset, cat({{2}, le(123'456, 8)}))
      .read(23, 2)
      .close();

  // The clock and the meter id written as objects (MP-6), with every value type, and the time
  // tables read after each clock: a daylight saving gap, an ambiguous hour, far years.
  all.emplace_back("10-configurator-clock-and-values", Setup{1024, 8, true});
  all.back().open("shop-configurator");
  for (const char* clock : {"2026-03-08 02:30:00", "2026-11-01 01:30:00", "2000-02-29 00:00:00",
                            "9999-12-31 23:59:59", "0000-01-01 00:00:00", "2026-02-30 12:00:00",
                            "time unknown......."}) {
    all.back()
        .run(procedure::kWriteObject, cat({obis(0, 0, 1, 0, 0, 255), text_value(clock)}))
        .read(3)
        .read(52)
        .read(53)
        .read(55)
        .run(procedure::kSetDateTime, {0x01, 0, 0, 0, 23, 59, 59, 0x00})
        .run(procedure::kSetDateTime, {0x02, 24, 2, 29, 0, 0, 0, 0x00});
  }
  all.back()
      .run(procedure::kWriteObject, cat({obis(0, 0, 96, 1, 8, 255), text_value("A\x01" "B")}))
      .read(5)
      .write(5, 10, text("X"))
      .run(procedure::kWriteObject, cat({obis(0, 0, 96, 1, 8, 255), text_value("\xe2\x82\xac-\xc3")}))
      .read(5)
      .write(5, 10, text("Y"))
      .run(procedure::kWriteObject, cat({obis(0, 0, 128, 1, 3, 255), boolean(true)}))
      .run(procedure::kWriteObject, cat({obis(0, 0, 128, 1, 3, 255), {1, 2}}))
      .run(procedure::kWriteObject, cat({obis(0, 0, 128, 8, 0, 255), {3}, le(5, 8)}))
      .run(procedure::kWriteObject, cat({obis(0, 0, 128, 8, 0, 255), {4}, le(0x4014000000000000, 8)}))
      .run(procedure::kWriteObject, cat({obis(0, 0, 128, 8, 0, 255), {6}, le(2, 4), {7, 8}}))
      .run(procedure::kWriteObject, cat({obis(0, 0, 128, 8, 0, 255), {5}, le(0xFFFFFFFF, 4)}))
      .run(procedure::kWriteObject, cat({obis(0, 0, 128, 8, 0, 255), {7}}))
      .run(procedure::kWriteObject, obis(0, 0, 128, 8, 0, 255))
      .run(procedure::kReadObject, obis(0, 0, 1, 0, 0, 255))
      .read(meter::c1219::table::kObjectValue)
      .close();
  return all;
}

}  // namespace

int main(int argc, char** argv) {
  return meter::c1218::fuzz::write_or_check_corpus(argc, argv, "optical_fuzz_corpus", seeds());
}
