// Server: the meter side of the optical port, the C12.18 link and session layers as a state
// machine free of threads, sockets and clocks. The caller passes in the bytes that arrived and
// the current time and transmits the bytes returned; tests drive it with a made-up clock.
//
// Link layer (C12.18):
//   - every good packet is answered <ack>, a bad one (CRC, oversize, truncated) <nak>; garbage
//     between packets is dropped without an answer;
//   - a packet with the same toggle bit and the same contents as the previous one is a
//     retransmission: it is acknowledged, not executed again, and the response it had is sent
//     again (comparing the contents too keeps a client that never toggles working);
//   - a response packet not acknowledged within the response timeout (2 s) or answered <nak> is
//     sent again, up to 3 retries; then the server gives up and ends the session;
//   - the inter-character timeout (500 ms) drops a packet that stops arriving midway (<nak>);
//   - the channel traffic timeout (6 s without a packet, an <ack> or a <nak> while the server is
//     waiting for a request) ends the session: back to the base state, the logon released;
//   - responses larger than one negotiated packet go out as a multi-packet transmission, one
//     packet per <ack>; a response that needs more packets than negotiated is answered onp;
//     multi-packet requests are reassembled (up to ServerConfig::max_packets packets).
// Session layer (the service sequence states):
//   base        identify → identified; terminate, disconnect → ok
//   identified  identify, negotiate, wait, logon (→ session), terminate, disconnect (→ base)
//   session     security, read, write, wait, logoff (→ identified), terminate, disconnect (→ base)
// A request out of its state is answered isss, an unknown one sns, a malformed one iar, a bad
// table-data checksum err. Wait extends the next channel traffic timeout by its seconds.
// Negotiate grants the smaller of the requested and configured packet size and count and the
// fastest offered baud rate the port supports; terminate and the timeouts return to the
// defaults (64-byte packets, 1 packet, the default baud rate).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "meter/c1218/decoder.h"
#include "meter/c1218/frame.h"
#include "meter/c1218/psem.h"

namespace meter::c1218 {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

/// The link's timers and retry count; C12.18's values by default.
struct Timing {
  std::chrono::milliseconds response_timeout{2000};         ///< waiting for <ack>
  std::chrono::milliseconds channel_traffic_timeout{6000};  ///< waiting for a request
  std::chrono::milliseconds inter_character_timeout{500};   ///< between bytes of a packet
  int retries = 3;  ///< retransmissions of a packet after the first
};

/// What a table read gives: a response code and, when ok, the bytes.
struct TableResult {
  ResponseCode code = ResponseCode::err;
  std::vector<std::uint8_t> data;
};

/// What the meter behind the port offers; the optical plugin implements it over the object
/// registry and the parameter gate. Called only from Server::feed/poll/reset, on their thread.
/// An exception thrown by read, write, logon or security is answered err (and logged).
class Endpoint {
 public:
  virtual ~Endpoint() = default;
  /// The identify response's standard, version, revision and features.
  virtual Identity identity() = 0;
  /// Logon: ok opens a session; any other code (err, iar, bsy) refuses it. `user` is the
  /// 10-byte user field as sent (termineter pads with spaces).
  virtual ResponseCode logon(std::uint16_t user_id, std::string_view user) = 0;
  /// Security: the password (20 bytes as sent, termineter pads with 0x00) that sets what the
  /// session may read and write. ok, or e.g. isc for a wrong password.
  virtual ResponseCode security(std::span<const std::uint8_t, kPasswordLength> password) = 0;
  /// The session ended: logoff, terminate, disconnect, a timeout or Server::reset.
  virtual void logoff() = 0;
  /// A full read (no range) or a partial read of `range->count` bytes from `range->offset`.
  /// At most the count is returned; fewer when the table ends first.
  virtual TableResult read(std::uint16_t table, std::optional<Range> range) = 0;
  /// A full write (no offset) or a partial write at `offset`. ok, or e.g. isc, iar, onp, dlk.
  virtual ResponseCode write(std::uint16_t table, std::optional<std::uint32_t> offset,
                             std::span<const std::uint8_t> data) = 0;
};

/// The service sequence state. Zero is never a state.
enum class SessionState : std::uint8_t {
  base = 1,    ///< waiting for identify
  identified,  ///< identified, no logon yet
  session,     ///< logged on
};
std::string_view to_string(SessionState state) noexcept;

/// The link parameters in force (negotiated or the defaults).
struct LinkParameters {
  std::uint16_t packet_size = kDefaultPacketSize;
  std::uint8_t nbr_packets = kDefaultPacketCount;
  std::uint8_t baud_code = 6;  ///< negotiate's code: 6 = 9600
  friend bool operator==(const LinkParameters&, const LinkParameters&) = default;
};

struct ServerConfig {
  /// The largest packet received and granted by negotiate (64..8192, overhead included).
  std::uint16_t max_packet_size = 1024;
  /// The most packets granted by negotiate and reassembled into one request (at least 1).
  std::uint8_t max_packets = 8;
  /// Baud codes the port can switch to, one bit per code (bit 6: 9600).
  std::uint16_t baud_rates = 1U << 6;
  /// The baud code in force before negotiation and after the session ends.
  std::uint8_t default_baud = 6;
  Timing timing;
};

/// What the server has seen and done, for the plugin to expose as objects.
struct ServerCounters {
  std::uint64_t frames_received = 0;  ///< good packets
  std::uint64_t frames_sent = 0;      ///< response packets, retransmissions included
  std::uint64_t requests = 0;         ///< complete requests executed
  std::uint64_t requests_refused = 0; ///< requests answered with a code other than ok
  std::array<std::uint64_t, kFrameErrorCount> refused{};  ///< bad input, by FrameError - 1
  std::uint64_t bytes_dropped = 0;    ///< bytes of refused input
  std::uint64_t out_of_sequence = 0;  ///< multi-packet request packets out of order or too many
  std::uint64_t duplicates = 0;       ///< retransmitted requests, acknowledged and not executed
  std::uint64_t naks_sent = 0;
  std::uint64_t naks_received = 0;
  std::uint64_t retries = 0;              ///< response packets sent again (NAK or timeout)
  std::uint64_t response_timeouts = 0;    ///< response timeouts expired
  std::uint64_t responses_failed = 0;     ///< given up after the retries
  std::uint64_t responses_abandoned = 0;  ///< dropped because a new request came first
  std::uint64_t channel_timeouts = 0;     ///< sessions ended by the channel traffic timeout
  std::uint64_t sessions = 0;             ///< logons accepted

  std::uint64_t refused_for(FrameError error) const noexcept {
    return refused[static_cast<std::size_t>(error) - 1];
  }
};

class Server {
 public:
  /// `endpoint` must outlive the server.
  explicit Server(Endpoint& endpoint, ServerConfig config = {});

  /// Bytes arrived at `now`. Returns the bytes to transmit (acknowledgements, responses).
  std::vector<std::uint8_t> feed(std::span<const std::uint8_t> bytes, TimePoint now);

  /// Time passed: runs the timers due at `now`. Returns the bytes to transmit (retransmissions).
  std::vector<std::uint8_t> poll(TimePoint now);

  /// When poll() next has something to do; nullopt when only new bytes can change anything.
  std::optional<TimePoint> next_deadline() const;

  /// The port went away (probe removed, connection closed): ends any session (logoff) and
  /// forgets the link state, without counting a timeout.
  void reset();

  /// Receives the server's log lines (refused input, sessions ending); none by default.
  void set_log(std::function<void(std::string_view)> log) { log_ = std::move(log); }

  SessionState state() const noexcept { return state_; }
  const LinkParameters& link() const noexcept { return link_; }
  const ServerCounters& counters() const noexcept { return counters_; }
  const ServerConfig& config() const noexcept { return config_; }

 private:
  using Out = std::vector<std::uint8_t>;

  void advance(TimePoint now, Out& out);
  void handle(DecodeEvent& event, TimePoint now, Out& out);
  void on_frame(Frame frame, TimePoint now, Out& out);
  void on_message(std::span<const std::uint8_t> message, std::uint8_t identity, TimePoint now,
                  Out& out);
  std::vector<std::uint8_t> execute(std::span<const std::uint8_t> message);
  std::vector<std::uint8_t> dispatch(const Request& request);
  std::vector<std::uint8_t> refuse(ResponseCode code, std::string_view why);
  void respond(std::span<const std::uint8_t> response, std::uint8_t identity, TimePoint now,
               Out& out);
  void send_current(TimePoint now, Out& out);
  void retransmit(TimePoint now, Out& out);
  void end_session(std::string_view why, bool link_lost = true);
  void log(std::string_view message) const;
  bool awaiting_request() const noexcept;

  Endpoint& endpoint_;
  ServerConfig config_;
  FrameDecoder decoder_;
  std::vector<DecodeEvent> events_;
  std::function<void(std::string_view)> log_;

  SessionState state_ = SessionState::base;
  LinkParameters link_;
  std::optional<LinkParameters> pending_link_;  // granted by negotiate, after its response
  ServerCounters counters_;

  // Receiving.
  std::optional<Frame> last_rx_;   // the previous good packet, for duplicate detection
  std::vector<std::uint8_t> assembly_;  // a multi-packet request in progress
  bool assembling_ = false;
  std::uint8_t expected_sequence_ = 0;

  // Transmitting: the packets of the response to the last request, kept for retransmission.
  std::vector<std::vector<std::uint8_t>> tx_packets_;
  bool tx_answers_last_rx_ = false;
  bool tx_active_ = false;  // waiting for the <ack> of tx_packets_[tx_next_]
  std::size_t tx_next_ = 0;
  int tx_retries_ = 0;
  TimePoint tx_sent_at_{};
  bool tx_toggle_ = false;

  // Timers.
  TimePoint last_byte_{};
  TimePoint last_traffic_{};
  std::chrono::seconds wait_extension_{0};
};

}  // namespace meter::c1218
