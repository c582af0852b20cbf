// The meter-side C12.18 link and session state machine.
#include "meter/c1218/server.h"

#include <algorithm>
#include <exception>
#include <string>

namespace meter::c1218 {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

std::string hex_byte(std::uint8_t value) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  return std::string("0x") + kDigits[value >> 4] + kDigits[value & 0xF];
}

bool allowed(std::uint8_t service, SessionState state) {
  switch (service) {
    case 0x20: return state != SessionState::session;                   // identify
    case 0x21:                                                          // terminate
    case 0x22: return true;                                             // disconnect
    case 0x50: return state == SessionState::identified;                // logon
    case 0x70: return state != SessionState::base;                      // wait
    default: break;
  }
  if (service >= 0x60 && service <= 0x6B) return state == SessionState::identified;  // negotiate
  return state == SessionState::session;  // security, logoff, read, write
}

LinkParameters defaults(const ServerConfig& config) {
  LinkParameters link;
  link.baud_code = config.default_baud;
  return link;
}

ServerConfig sanitized(ServerConfig config) {
  config.max_packet_size = static_cast<std::uint16_t>(std::clamp<unsigned>(
      config.max_packet_size, kDefaultPacketSize, kMaxPacketSize));
  config.max_packets = std::max<std::uint8_t>(config.max_packets, 1);
  config.timing.retries = std::max(config.timing.retries, 0);
  return config;
}

}  // namespace

std::string_view to_string(SessionState state) noexcept {
  switch (state) {
    case SessionState::base: return "base";
    case SessionState::identified: return "identified";
    case SessionState::session: return "session";
  }
  return "unknown";
}

Server::Server(Endpoint& endpoint, ServerConfig config)
    : endpoint_(endpoint),
      config_(sanitized(config)),
      decoder_(config_.max_packet_size),
      link_(defaults(config_)) {}

void Server::log(std::string_view message) const {
  if (log_) log_(message);
}

bool Server::awaiting_request() const noexcept {
  return !tx_active_ && (state_ != SessionState::base || assembling_);
}

std::optional<TimePoint> Server::next_deadline() const {
  std::optional<TimePoint> next;
  auto consider = [&](TimePoint t) {
    if (!next || t < *next) next = t;
  };
  if (tx_active_) consider(tx_sent_at_ + config_.timing.response_timeout);
  if (decoder_.in_packet()) consider(last_byte_ + config_.timing.inter_character_timeout);
  if (awaiting_request()) {
    consider(last_traffic_ + config_.timing.channel_traffic_timeout + wait_extension_);
  }
  return next;
}

std::vector<std::uint8_t> Server::poll(TimePoint now) {
  Out out;
  advance(now, out);
  return out;
}

std::vector<std::uint8_t> Server::feed(std::span<const std::uint8_t> bytes, TimePoint now) {
  Out out;
  advance(now, out);
  if (bytes.empty()) return out;
  last_byte_ = now;
  events_.clear();
  decoder_.feed(bytes, events_);
  for (auto& event : events_) handle(event, now, out);
  return out;
}

void Server::advance(TimePoint now, Out& out) {
  if (decoder_.in_packet() && now >= last_byte_ + config_.timing.inter_character_timeout) {
    events_.clear();
    decoder_.timeout(events_);
    for (auto& event : events_) handle(event, now, out);
  }
  if (tx_active_ && now >= tx_sent_at_ + config_.timing.response_timeout) {
    ++counters_.response_timeouts;
    retransmit(now, out);
  }
  if (awaiting_request() &&
      now >= last_traffic_ + config_.timing.channel_traffic_timeout + wait_extension_) {
    if (state_ != SessionState::base) ++counters_.channel_timeouts;
    end_session("channel traffic timeout");
  }
}

void Server::handle(DecodeEvent& event, TimePoint now, Out& out) {
  switch (event.kind) {
    case DecodeEvent::Kind::frame:
      on_frame(std::move(event.frame), now, out);
      return;
    case DecodeEvent::Kind::ack:
      last_traffic_ = now;
      if (!tx_active_) return;  // a stray or repeated <ack>: nothing waits for it
      tx_retries_ = 0;
      if (++tx_next_ < tx_packets_.size()) {
        send_current(now, out);
      } else {
        tx_active_ = false;
      }
      return;
    case DecodeEvent::Kind::nak:
      last_traffic_ = now;
      ++counters_.naks_received;
      if (tx_active_) retransmit(now, out);
      return;
    case DecodeEvent::Kind::error:
      ++counters_.refused[static_cast<std::size_t>(event.error) - 1];
      counters_.bytes_dropped += event.bytes_dropped;
      if (event.error == FrameError::garbage) {
        log("dropped " + std::to_string(event.bytes_dropped) + " bytes of garbage between packets");
        return;
      }
      out.push_back(kNak);
      ++counters_.naks_sent;
      log("refused packet (" + std::string(to_string(event.error)) + ", " +
          std::to_string(event.bytes_dropped) + " bytes): NAK sent");
      return;
  }
}

void Server::on_frame(Frame frame, TimePoint now, Out& out) {
  ++counters_.frames_received;
  last_traffic_ = now;
  wait_extension_ = std::chrono::seconds{0};
  out.push_back(kAck);

  if (last_rx_ && *last_rx_ == frame) {
    ++counters_.duplicates;
    if (tx_answers_last_rx_ && !tx_packets_.empty()) {
      // The requester did not see our <ack> and sent the request again: its response again.
      tx_next_ = 0;
      tx_retries_ = 0;
      tx_active_ = true;
      send_current(now, out);
    }
    return;
  }
  last_rx_ = frame;
  tx_answers_last_rx_ = false;
  if (tx_active_) {
    ++counters_.responses_abandoned;
    tx_active_ = false;
    log("response dropped: a new request arrived before its acknowledgement");
  }

  if (frame.data_format() != 0) {
    log("refused packet in data format " + std::to_string(frame.data_format()) + ": sns");
    ++counters_.requests_refused;
    const auto response = encode_status_response(ResponseCode::sns);
    respond(response, frame.identity, now, out);
    return;
  }

  if (!frame.multi_packet()) {
    if (assembling_) {
      ++counters_.out_of_sequence;
      log("multi-packet request abandoned for a single-packet one");
      assembling_ = false;
      assembly_.clear();
    }
    on_message(frame.data, frame.identity, now, out);
    return;
  }
  if (frame.first_packet()) {
    if (assembling_) {
      ++counters_.out_of_sequence;
      log("multi-packet request restarted before its last packet");
    }
    assembly_.clear();
    assembling_ = false;
    if (frame.sequence >= config_.max_packets) {
      ++counters_.out_of_sequence;
      log("multi-packet request of " + std::to_string(frame.sequence + 1) +
          " packets refused: at most " + std::to_string(config_.max_packets));
      return;
    }
    if (frame.sequence == 0) {
      on_message(frame.data, frame.identity, now, out);
      return;
    }
    assembly_ = std::move(frame.data);
    assembling_ = true;
    expected_sequence_ = static_cast<std::uint8_t>(frame.sequence - 1);
    return;
  }
  if (!assembling_ || frame.sequence != expected_sequence_) {
    ++counters_.out_of_sequence;
    log("multi-packet request packet " + std::to_string(frame.sequence) + " out of sequence");
    assembling_ = false;
    assembly_.clear();
    return;
  }
  assembly_.insert(assembly_.end(), frame.data.begin(), frame.data.end());
  if (frame.sequence > 0) {
    expected_sequence_ = static_cast<std::uint8_t>(frame.sequence - 1);
    return;
  }
  assembling_ = false;
  const auto message = std::move(assembly_);
  assembly_.clear();
  on_message(message, frame.identity, now, out);
}

void Server::on_message(std::span<const std::uint8_t> message, std::uint8_t identity,
                        TimePoint now, Out& out) {
  ++counters_.requests;
  const auto response = execute(message);
  respond(response, identity, now, out);
  if (pending_link_) {
    link_ = *pending_link_;
    pending_link_.reset();
  }
}

std::vector<std::uint8_t> Server::refuse(ResponseCode code, std::string_view why) {
  ++counters_.requests_refused;
  log(std::string(why) + ": answered " + std::string(to_string(code)));
  return encode_status_response(code);
}

std::vector<std::uint8_t> Server::execute(std::span<const std::uint8_t> message) {
  auto parsed = parse_request(message);
  if (!parsed) {
    const auto& error = parsed.error();
    if (error.kind != ErrorKind::unsupported && !message.empty() &&
        !allowed(message[0], state_)) {
      return refuse(ResponseCode::isss, "request out of sequence in state " +
                                            std::string(to_string(state_)));
    }
    return refuse(error.code, error.message);
  }
  const Request& request = *parsed;
  const std::uint8_t service = service_code(request);
  if (!allowed(service, state_)) {
    return refuse(ResponseCode::isss, "service " + hex_byte(service) +
                                          " out of sequence in state " +
                                          std::string(to_string(state_)));
  }
  try {
    return dispatch(request);
  } catch (const std::exception& e) {
    return refuse(ResponseCode::err, std::string("the meter failed the request: ") + e.what());
  }
}

std::vector<std::uint8_t> Server::dispatch(const Request& request) {
  return std::visit(
      Overloaded{
          [&](const IdentifyRequest&) {
            state_ = SessionState::identified;
            return encode_identify_response(endpoint_.identity());
          },
          [&](const TerminateRequest&) {
            end_session("terminate", false);
            return encode_status_response(ResponseCode::ok);
          },
          [&](const DisconnectRequest&) {
            end_session("disconnect", false);
            return encode_status_response(ResponseCode::ok);
          },
          [&](const NegotiateRequest& n) {
            NegotiateResponse granted;
            granted.packet_size = std::min(n.packet_size, config_.max_packet_size);
            granted.nbr_packets = std::min(n.nbr_packets, config_.max_packets);
            granted.baud_rate = link_.baud_code;
            int best = -1;
            for (const std::uint8_t code : n.baud_rates) {
              if ((config_.baud_rates >> code) & 1U) best = std::max(best, int{code});
            }
            if (best >= 0) granted.baud_rate = static_cast<std::uint8_t>(best);
            // In force once the response, sent with the parameters it replaces, is out.
            pending_link_ = LinkParameters{granted.packet_size, granted.nbr_packets,
                                           granted.baud_rate};
            return encode_negotiate_response(granted);
          },
          [&](const WaitRequest& w) {
            wait_extension_ = std::chrono::seconds{w.seconds};
            return encode_status_response(ResponseCode::ok);
          },
          [&](const LogonRequest& l) {
            const std::string_view user(reinterpret_cast<const char*>(l.user.data()),
                                        l.user.size());
            const ResponseCode code = endpoint_.logon(l.user_id, user);
            if (code != ResponseCode::ok) return refuse(code, "logon refused");
            state_ = SessionState::session;
            ++counters_.sessions;
            return encode_status_response(ResponseCode::ok);
          },
          [&](const SecurityRequest& s) {
            const ResponseCode code = endpoint_.security(std::span(s.password));
            if (code != ResponseCode::ok) return refuse(code, "security refused");
            return encode_status_response(ResponseCode::ok);
          },
          [&](const LogoffRequest&) {
            endpoint_.logoff();
            state_ = SessionState::identified;
            return encode_status_response(ResponseCode::ok);
          },
          [&](const ReadRequest& r) {
            TableResult result = endpoint_.read(r.table, r.range);
            const std::string table = "read of table " + std::to_string(r.table);
            if (result.code != ResponseCode::ok) return refuse(result.code, table + " refused");
            if (r.range && result.data.size() > r.range->count) {
              return refuse(ResponseCode::err, table + ": the meter returned " +
                                                   std::to_string(result.data.size()) +
                                                   " bytes for a count of " +
                                                   std::to_string(r.range->count));
            }
            if (result.data.size() > 0xFFFF) {
              return refuse(ResponseCode::onp, table + ": more than 65535 bytes");
            }
            return encode_read_response(result.data);
          },
          [&](const WriteRequest& w) {
            const ResponseCode code = endpoint_.write(w.table, w.offset, w.data);
            if (code != ResponseCode::ok) {
              return refuse(code, "write of table " + std::to_string(w.table) + " refused");
            }
            return encode_status_response(ResponseCode::ok);
          },
      },
      request);
}

void Server::respond(std::span<const std::uint8_t> response, std::uint8_t identity, TimePoint now,
                     Out& out) {
  std::vector<Frame> frames;
  if (packets_needed(response.size(), link_.packet_size) > link_.nbr_packets) {
    const auto refusal = refuse(ResponseCode::onp, "response of " +
                                                       std::to_string(response.size()) +
                                                       " bytes exceeds the negotiated packets");
    frames = split_message(refusal, link_.packet_size, identity);
  } else {
    frames = split_message(response, link_.packet_size, identity);
  }
  tx_packets_.clear();
  for (auto& frame : frames) {
    if (tx_toggle_) frame.control |= ctrl::kToggle;
    tx_toggle_ = !tx_toggle_;
    tx_packets_.push_back(encode(frame));
  }
  tx_answers_last_rx_ = true;
  tx_next_ = 0;
  tx_retries_ = 0;
  tx_active_ = true;
  send_current(now, out);
}

void Server::send_current(TimePoint now, Out& out) {
  const auto& packet = tx_packets_[tx_next_];
  out.insert(out.end(), packet.begin(), packet.end());
  ++counters_.frames_sent;
  tx_sent_at_ = now;
}

void Server::retransmit(TimePoint now, Out& out) {
  if (tx_retries_ >= config_.timing.retries) {
    tx_active_ = false;
    ++counters_.responses_failed;
    end_session("response not acknowledged after " + std::to_string(config_.timing.retries) +
                " retries");
    return;
  }
  ++tx_retries_;
  ++counters_.retries;
  send_current(now, out);
}

void Server::end_session(std::string_view why, bool link_lost) {
  if (state_ == SessionState::session) endpoint_.logoff();
  if (state_ != SessionState::base) log(std::string(why) + ": session ended");
  state_ = SessionState::base;
  link_ = defaults(config_);
  wait_extension_ = std::chrono::seconds{0};
  assembling_ = false;
  assembly_.clear();
  pending_link_.reset();
  if (link_lost) {
    // What came before cannot be retransmitted into a new session.
    last_rx_.reset();
    tx_answers_last_rx_ = false;
  }
}

void Server::reset() {
  end_session("port reset");
  tx_active_ = false;
  tx_packets_.clear();
  decoder_.reset();
}

}  // namespace meter::c1218
