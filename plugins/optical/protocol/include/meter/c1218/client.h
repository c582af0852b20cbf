// Client: the meter-shop side of C12.18 (meterctl, tests), over any byte Transport.
//
// Each service is one blocking exchange: the request goes out in packets of the negotiated size
// (several for a large write, at most the negotiated number), each acknowledged before the next;
// a packet answered <nak> or not acknowledged within the response timeout (2 s) is sent again,
// up to 3 retries, with the same toggle bit. The response's packets are acknowledged as they
// arrive (<nak> for a bad CRC, an oversize or truncated packet; a duplicate, recognised by its
// toggle bit and contents, is acknowledged and dropped) and joined until seq-nbr 0. A response
// packet arriving while an <ack> is still awaited stands for the lost <ack>. Waiting for a
// response packet gives up after the channel traffic timeout (6 s).
//
// Results are typed: a response code other than ok is an Error of kind response carrying the
// code, with a message naming the service and the code ("read of table 1: isc (insufficient
// security clearance)"); the caller words it for its user. Table data is checked like termineter
// checks it (count and checksum).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "meter/c1218/decoder.h"
#include "meter/c1218/psem.h"
#include "meter/c1218/result.h"
#include "meter/c1218/server.h"

namespace meter::c1218 {

/// A byte link to a meter: an optical probe's serial device, a TCP socket, an in-process pair.
class Transport {
 public:
  virtual ~Transport() = default;
  /// Sends all of `bytes`.
  virtual Result<void> write(std::span<const std::uint8_t> bytes) = 0;
  /// Waits until bytes arrive or `deadline` passes; puts up to into.size() of them in `into` and
  /// returns how many, 0 when the deadline passed. An Error of kind closed when the other side
  /// closed the link, io on a system error.
  virtual Result<std::size_t> read(std::span<std::uint8_t> into, TimePoint deadline) = 0;
  /// The clock deadlines are measured on (steady_clock; an in-process link may run its own).
  virtual TimePoint now() { return Clock::now(); }
};

struct ClientOptions {
  Timing timing;              ///< response timeout, retries, inter-character and channel timeouts
  std::uint8_t identity = 0;  ///< the <identity> byte of the packets sent
};

/// What the client has seen and done on its link.
struct ClientCounters {
  std::uint64_t frames_sent = 0;      ///< request packets, retransmissions included
  std::uint64_t frames_received = 0;  ///< good response packets
  std::uint64_t retries = 0;          ///< request packets sent again
  std::uint64_t naks_sent = 0;
  std::uint64_t naks_received = 0;
  std::uint64_t timeouts = 0;         ///< response timeouts waiting for <ack>
  std::uint64_t duplicates = 0;       ///< response packets received twice
  std::uint64_t bytes_dropped = 0;    ///< garbage and refused packets
};

class Client {
 public:
  /// `transport` must outlive the client.
  explicit Client(Transport& transport, ClientOptions options = {});

  /// Identify (0x20): the meter's standard, version, revision and features.
  Result<Identity> identify();
  /// Negotiate (0x60..0x6B): asks for packets of `packet_size` bytes, `nbr_packets` of them, and
  /// one of `baud_codes` (none: keep the rate). What the meter grants is used from then on.
  Result<NegotiateResponse> negotiate(std::uint16_t packet_size, std::uint8_t nbr_packets,
                                      std::span<const std::uint8_t> baud_codes = {});
  /// Logon (0x50): `user` at most 10 bytes, padded with spaces.
  Result<void> logon(std::uint16_t user_id, std::string_view user);
  /// Security (0x51): `password` at most 20 bytes, padded with 0x00.
  Result<void> security(std::string_view password);
  /// Logon, then security when a password is given.
  Result<void> logon(std::uint16_t user_id, std::string_view user,
                     std::optional<std::string_view> password);
  /// Logoff (0x52).
  Result<void> logoff();
  /// Terminate (0x21); the link returns to the default parameters.
  Result<void> terminate();
  /// Wait (0x70): asks the meter to hold the session `seconds` longer than the channel timeout.
  Result<void> wait(std::uint8_t seconds);
  /// Full read (0x30).
  Result<std::vector<std::uint8_t>> read(std::uint16_t table);
  /// Partial read by offset (0x3F).
  Result<std::vector<std::uint8_t>> read(std::uint16_t table, std::uint32_t offset,
                                         std::uint16_t count);
  /// Full write (0x40).
  Result<void> write(std::uint16_t table, std::span<const std::uint8_t> data);
  /// Partial write by offset (0x4F).
  Result<void> write(std::uint16_t table, std::uint32_t offset, std::span<const std::uint8_t> data);

  /// One exchange of a raw PSEM request; returns the whole response, response code first.
  Result<std::vector<std::uint8_t>> exchange(std::span<const std::uint8_t> request);

  /// The link parameters in force (the defaults until negotiate succeeds).
  const LinkParameters& link() const noexcept { return link_; }
  const ClientCounters& counters() const noexcept { return counters_; }

 private:
  Result<void> send_packet(const std::vector<std::uint8_t>& packet);
  Result<std::vector<std::uint8_t>> receive_message();
  Result<std::optional<DecodeEvent>> next_event(TimePoint deadline);
  Result<void> take(std::span<const std::uint8_t> bytes);
  void drain();

  Transport& transport_;
  ClientOptions options_;
  LinkParameters link_;
  ClientCounters counters_;
  FrameDecoder decoder_;
  std::deque<DecodeEvent> pending_;
  std::vector<DecodeEvent> events_;
  std::optional<Frame> last_rx_;
  bool toggle_ = false;
  TimePoint last_byte_{};
};

}  // namespace meter::c1218
