// The MQTT link: libmosquitto without threads (no mosquitto_loop_start), on the host's loop.
#include "link.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <mosquitto.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>

namespace meter::plugins::rf_mqtt {

namespace {

using namespace std::chrono_literals;

/// How often the service timer runs: keepalive, time-outs and retries; faster while a name
/// lookup is running, which is polled.
constexpr auto kServicePeriod = 1000ms;
constexpr auto kLookupPollPeriod = 50ms;
/// How many writes a flush makes at most; each is one non-blocking send.
constexpr int kFlushWrites = 32;
/// How long an orderly close waits at most for the broker to acknowledge what is in flight.
constexpr auto kSettleWait = 250ms;

std::string library_error(int rc, int saved_errno) {
  if (rc == MOSQ_ERR_ERRNO) return std::strerror(saved_errno);
  return mosquitto_strerror(rc);
}

bool is_numeric_address(const std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

}  // namespace

std::string_view to_string(LinkState state) {
  switch (state) {
    case LinkState::down: return "down";
    case LinkState::resolving: return "resolving";
    case LinkState::connecting: return "connecting";
    case LinkState::up: return "up";
  }
  return "unknown";
}

/// A name lookup in progress (getaddrinfo_a). glibc writes into it from its own thread until
/// gai_error says it is done, so it is freed only then, or after gai_cancel succeeded.
struct Link::Lookup {
  gaicb request{};
  addrinfo hints{};
  std::string name;
};

Link::Link(sdk::Host& host, LinkOptions options, UpHandler on_up, MessageHandler on_message)
    : host_(host),
      options_(std::move(options)),
      on_up_(std::move(on_up)),
      on_message_(std::move(on_message)) {
  // A fleet restarted together spreads its reconnections: each meter waits a little longer,
  // by a share fixed by its id.
  jitter_permille_ = static_cast<std::uint32_t>(std::hash<std::string>{}(options_.client_id) % 251);
}

Link::~Link() {
  cancel_lookup();
  if (client_ != nullptr) mosquitto_destroy(client_);
}

std::chrono::milliseconds Link::backoff(std::uint32_t failures) const {
  auto delay = options_.reconnect_min;
  for (std::uint32_t i = 1; i < failures && delay < options_.reconnect_max; ++i) delay *= 2;
  delay += delay * jitter_permille_ / 1000;
  return std::min(delay, options_.reconnect_max);
}

void Link::make_client() {
  client_ = mosquitto_new(options_.client_id.c_str(), true, this);
  if (client_ == nullptr) {
    throw sdk::Error(sdk::Status::out_of_memory, "rf_mqtt: no MQTT client could be made");
  }
  mosquitto_connect_callback_set(client_, &Link::on_connect_cb);
  mosquitto_disconnect_callback_set(client_, &Link::on_disconnect_cb);
  mosquitto_message_callback_set(client_, &Link::on_message_cb);
  mosquitto_publish_callback_set(client_, &Link::on_publish_cb);
  mosquitto_subscribe_callback_set(client_, &Link::on_subscribe_cb);
  if (!options_.will_topic.empty()) {
    const int rc = mosquitto_will_set(client_, options_.will_topic.c_str(),
                                      static_cast<int>(options_.will_payload.size()),
                                      options_.will_payload.data(), 1, true);
    if (rc != MOSQ_ERR_SUCCESS) {
      throw sdk::Error(sdk::Status::invalid_argument,
                       "rf_mqtt: the will cannot be set: " + std::string(mosquitto_strerror(rc)));
    }
  }
  if (!options_.username.empty()) {
    mosquitto_username_pw_set(client_, options_.username.c_str(),
                              options_.password.empty() ? nullptr : options_.password.c_str());
  }
}

void Link::start() {
  numeric_host_ = is_numeric_address(options_.host);
  make_client();
  begin_attempt();
  schedule_service(state_ == LinkState::resolving ? kLookupPollPeriod : kServicePeriod);
}

void Link::begin_attempt() {
  attempt_started_ = host_.steady_now();
  lost_ = false;
  if (numeric_host_) {
    addresses_ = {options_.host};
    connect_next_address();
  } else {
    start_lookup();
  }
}

void Link::connect_next_address() {
  while (!addresses_.empty()) {
    address_ = addresses_.front();
    addresses_.erase(addresses_.begin());
    state_ = LinkState::connecting;
    lost_ = false;
    refused_ = false;
    errno = 0;
    const int rc =
        mosquitto_connect_async(client_, address_.c_str(), options_.port, options_.keepalive_s);
    const int saved_errno = errno;
    if (rc == MOSQ_ERR_SUCCESS) {
      sync_watch();
      return;
    }
    last_error_ = fmt::format("connect to {}:{}: {}", address_, options_.port,
                              library_error(rc, saved_errno));
  }
  fail_attempt(last_error_);
}

void Link::fail_attempt(std::string why) {
  state_ = LinkState::down;
  last_error_ = std::move(why);
  ++failures_;
  const auto delay = backoff(failures_);
  retry_at_ = host_.steady_now() + delay;
  sync_watch();
  const std::string line =
      fmt::format("link down: {}; next attempt in {} ms", last_error_, delay.count());
  // The first failure of a run is news; the ones that follow are the back-off at work.
  if (failures_ == 1) {
    host_.warning(line);
  } else {
    host_.debug(line);
  }
}

void Link::start_lookup() {
  state_ = LinkState::resolving;
  auto lookup = std::make_unique<Lookup>();
  lookup->name = options_.host;
  lookup->hints.ai_family = AF_UNSPEC;
  lookup->hints.ai_socktype = SOCK_STREAM;
  lookup->request.ar_name = lookup->name.c_str();
  lookup->request.ar_request = &lookup->hints;
  gaicb* list[1] = {&lookup->request};
  const int rc = getaddrinfo_a(GAI_NOWAIT, list, 1, nullptr);
  if (rc != 0) {
    fail_attempt(fmt::format("lookup of {}: {}", options_.host, gai_strerror(rc)));
    return;
  }
  lookup_ = lookup.release();
}

void Link::poll_lookup() {
  if (lookup_ == nullptr) return;
  const int rc = gai_error(&lookup_->request);
  if (rc == EAI_INPROGRESS) {
    if (host_.steady_now() - attempt_started_ >= options_.connect_timeout) {
      cancel_lookup();
      fail_attempt(fmt::format("lookup of {} took more than {} s", options_.host,
                               options_.connect_timeout.count() / 1000));
    }
    return;
  }
  std::vector<std::string> found;
  for (const addrinfo* a = rc == 0 ? lookup_->request.ar_result : nullptr; a != nullptr;
       a = a->ai_next) {
    char text[NI_MAXHOST];
    if (getnameinfo(a->ai_addr, a->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST) ==
            0 &&
        std::find(found.begin(), found.end(), text) == found.end()) {
      found.emplace_back(text);
    }
  }
  if (lookup_->request.ar_result != nullptr) freeaddrinfo(lookup_->request.ar_result);
  delete lookup_;
  lookup_ = nullptr;
  if (rc != 0 || found.empty()) {
    fail_attempt(
        fmt::format("lookup of {}: {}", options_.host, rc != 0 ? gai_strerror(rc) : "no address"));
    return;
  }
  addresses_ = std::move(found);
  connect_next_address();
}

void Link::cancel_lookup() {
  if (lookup_ == nullptr) return;
  const int rc = gai_cancel(&lookup_->request);
  if (rc == EAI_NOTCANCELED) {
    // glibc's resolver thread still owns it and will write the answer into it: it must stay.
    lookup_ = nullptr;
    return;
  }
  if (gai_error(&lookup_->request) == 0 && lookup_->request.ar_result != nullptr) {
    freeaddrinfo(lookup_->request.ar_result);
  }
  delete lookup_;
  lookup_ = nullptr;
}

void Link::schedule_service(std::chrono::milliseconds delay) {
  service_timer_ = host_.after(delay, [this] { service(); });
}

void Link::service() {
  service_timer_ = 0;
  if (closed_) return;
  try {
    const auto now = host_.steady_now();
    switch (state_) {
      case LinkState::resolving: poll_lookup(); break;
      case LinkState::connecting:
        if (now - attempt_started_ >= options_.connect_timeout) {
          // libmosquitto closes the unfinished socket at the next attempt; until then it is
          // no longer watched.
          fail_attempt(fmt::format("connect to {}:{} took more than {} s", address_, options_.port,
                                   options_.connect_timeout.count() / 1000));
        }
        break;
      case LinkState::up:
        mosquitto_loop_misc(client_);  // keepalive: PINGREQ when due, or the link is dead
        after_library_call();
        break;
      case LinkState::down:
        if (now >= retry_at_) begin_attempt();
        break;
    }
  } catch (const std::exception& e) {
    host_.error(std::string("link service: ") + e.what());
  }
  schedule_service(state_ == LinkState::resolving ? kLookupPollPeriod : kServicePeriod);
}

void Link::on_ready(int ready) {
  if (client_ == nullptr || closed_) return;
  if ((ready & (METER_IO_READABLE | METER_IO_ERROR)) != 0) mosquitto_loop_read(client_, 1);
  if ((ready & METER_IO_WRITABLE) != 0 && !lost_ && mosquitto_socket(client_) >= 0) {
    mosquitto_loop_write(client_, 1);
  }
  after_library_call();
}

void Link::after_library_call() {
  if (lost_) {
    lost_ = false;
    if (state_ == LinkState::up) {
      ++counters_.disconnects;
      host_.warning(fmt::format("link to {}:{} lost: {}", address_, options_.port, last_error_));
    }
    if (!closed_) {
      if (state_ == LinkState::connecting && !addresses_.empty()) {
        connect_next_address();
      } else {
        fail_attempt(last_error_.empty() ? std::string("connection closed") : last_error_);
      }
    }
  }
  sync_watch();
}

void Link::sync_watch() {
  const meter_host_api* api = host_.api();
  int fd = -1;
  if (client_ != nullptr && !closed_ &&
      (state_ == LinkState::connecting || state_ == LinkState::up)) {
    fd = mosquitto_socket(client_);
  }
  const std::int32_t events =
      METER_IO_READABLE | (fd >= 0 && mosquitto_want_write(client_) ? METER_IO_WRITABLE : 0);
  if (fd != watched_fd_) {
    if (watch_ != 0) api->unwatch_fd(api->context, watch_);
    watch_ = 0;
    watched_fd_ = -1;
    if (fd < 0) return;
    // The C call directly: one static trampoline, nothing allocated per connection.
    const auto status =
        api->watch_fd(api->context, fd, events, &Link::io_trampoline, this, &watch_);
    if (status != METER_STATUS_OK) {
      host_.error(fmt::format("the host refused to watch the broker's socket: {}",
                              sdk::to_string(static_cast<sdk::Status>(status))));
      watch_ = 0;
      return;
    }
    watched_fd_ = fd;
    watched_events_ = events;
  } else if (fd >= 0 && events != watched_events_) {
    if (api->modify_watch(api->context, watch_, events) == METER_STATUS_OK) {
      watched_events_ = events;
    }
  }
}

meter_status Link::io_trampoline(void* user_data, std::int32_t /*fd*/,
                                 std::int32_t ready) noexcept {
  auto* self = static_cast<Link*>(user_data);
  try {
    self->on_ready(ready);
  } catch (const std::exception& e) {
    // Trouble on the link is the link's, never a fault of the plugin.
    try {
      self->host_.error(std::string("link: ") + e.what());
    } catch (...) {
    }
  } catch (...) {
  }
  return METER_STATUS_OK;
}

bool Link::publish(Message message, WhenDown when_down) {
  if (closed_) {
    ++counters_.dropped;
    return false;
  }
  if (state_ != LinkState::up) {
    if (when_down == WhenDown::queue && options_.outbox_limit > 0) {
      if (outbox_.size() >= options_.outbox_limit) {
        outbox_.pop_front();
        ++counters_.dropped;
      }
      outbox_.push_back(std::move(message));
      return true;
    }
    ++counters_.dropped;
    return false;
  }
  int mid = 0;
  const int rc = mosquitto_publish(client_, &mid, message.topic.c_str(),
                                   static_cast<int>(message.payload.size()), message.payload.data(),
                                   message.qos, message.retain);
  if (rc != MOSQ_ERR_SUCCESS) {
    ++counters_.dropped;
    host_.debug(fmt::format("publish on {} failed: {}", message.topic, mosquitto_strerror(rc)));
    return false;
  }
  if (message.qos > 0) in_flight_.push_back(mid);
  sync_watch();
  return true;
}

void Link::send_outbox() {
  while (!outbox_.empty() && state_ == LinkState::up) {
    Message m = std::move(outbox_.front());
    outbox_.pop_front();
    publish(std::move(m), WhenDown::drop);
  }
}

void Link::flush() {
  if (client_ == nullptr || closed_ || state_ != LinkState::up) return;
  for (int i = 0; i < kFlushWrites && !lost_ && mosquitto_socket(client_) >= 0 &&
                  mosquitto_want_write(client_);
       ++i) {
    if (mosquitto_loop_write(client_, 1) != MOSQ_ERR_SUCCESS) break;
  }
  after_library_call();
}

void Link::close(const Message* goodbye) {
  if (closed_) return;
  cancel_lookup();
  if (state_ == LinkState::up && client_ != nullptr) {
    closing_ = true;  // a command that arrives now is not carried out
    if (goodbye != nullptr) publish(*goodbye, WhenDown::drop);
    settle();
    // A clean DISCONNECT: the broker discards the will, since the goodbye says it all.
    if (!lost_) mosquitto_disconnect(client_);
    ++counters_.disconnects;
  }
  closed_ = true;
  counters_.dropped += outbox_.size();
  outbox_.clear();
  const meter_host_api* api = host_.api();
  if (watch_ != 0) api->unwatch_fd(api->context, watch_);
  watch_ = 0;
  watched_fd_ = -1;
  if (service_timer_ != 0) host_.cancel(service_timer_);
  service_timer_ = 0;
  state_ = LinkState::down;
  if (client_ != nullptr) mosquitto_destroy(client_);  // closes the socket
  client_ = nullptr;
}

void Link::settle() {
  // libmosquitto closes the socket as soon as its DISCONNECT is written, and closing a socket
  // with unread input (a PUBACK still to come) makes the kernel reset the connection: a broker
  // that sees the reset before it has read the DISCONNECT publishes the will. So the broker's
  // acknowledgements of what is in flight are read first; at most kSettleWait, only when stopping.
  const auto deadline = std::chrono::steady_clock::now() + kSettleWait;
  for (auto now = std::chrono::steady_clock::now();
       !in_flight_.empty() && !lost_ && now < deadline && mosquitto_socket(client_) >= 0;
       now = std::chrono::steady_clock::now()) {
    const short events = POLLIN | (mosquitto_want_write(client_) ? POLLOUT : 0);
    pollfd p{mosquitto_socket(client_), events, 0};
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    if ((p.revents & POLLOUT) != 0) mosquitto_loop_write(client_, 1);
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0 && !lost_) mosquitto_loop_read(client_, 1);
  }
}

void Link::on_connect_cb(mosquitto* /*m*/, void* user_data, int rc) {
  auto* self = static_cast<Link*>(user_data);
  try {
    if (rc != 0) {
      self->refused_ = true;
      self->last_error_ =
          fmt::format("the broker at {}:{} refused the connection: {}", self->address_,
                      self->options_.port, mosquitto_connack_string(rc));
      return;
    }
    // Up once the broker has confirmed every subscription: a head-end that sees the birth
    // message may send commands at once.
    self->pending_subscriptions_ = 0;
    for (const auto& topic : self->options_.subscriptions) {
      const int s = mosquitto_subscribe(self->client_, nullptr, topic.c_str(), 1);
      if (s == MOSQ_ERR_SUCCESS) {
        ++self->pending_subscriptions_;
      } else {
        self->host_.error(fmt::format("subscribe to {}: {}", topic, mosquitto_strerror(s)));
      }
    }
    if (self->pending_subscriptions_ == 0) self->become_up();
  } catch (...) {
    // Nothing may pass through libmosquitto's C frames.
  }
}

void Link::on_subscribe_cb(mosquitto* /*m*/, void* user_data, int /*mid*/, int count,
                           const int* granted) {
  auto* self = static_cast<Link*>(user_data);
  try {
    for (int i = 0; i < count; ++i) {
      if (granted[i] > 2) self->host_.error("the broker refused the command subscription");
    }
    if (self->pending_subscriptions_ > 0 && --self->pending_subscriptions_ == 0) {
      self->become_up();
    }
  } catch (...) {
  }
}

void Link::become_up() {
  state_ = LinkState::up;
  failures_ = 0;
  ++counters_.connects;
  host_.info(fmt::format("link up: connected to {}:{} as {}", address_, options_.port,
                         options_.client_id));
  if (on_up_) on_up_();
  send_outbox();
}

void Link::on_disconnect_cb(mosquitto* /*m*/, void* user_data, int rc) {
  auto* self = static_cast<Link*>(user_data);
  self->lost_ = true;
  if (rc != 0 && !self->refused_) {
    try {
      self->last_error_ = fmt::format("connection to {}:{} lost: {}", self->address_,
                                      self->options_.port, mosquitto_strerror(rc));
    } catch (...) {
    }
  }
}

void Link::on_message_cb(mosquitto* /*m*/, void* user_data, const mosquitto_message* message) {
  auto* self = static_cast<Link*>(user_data);
  ++self->counters_.received;
  try {
    if (self->on_message_ && !self->closing_ && message != nullptr && message->topic != nullptr) {
      const std::string_view payload(
          static_cast<const char*>(message->payload),
          message->payload != nullptr ? static_cast<std::size_t>(message->payloadlen) : 0);
      self->on_message_(message->topic, payload, message->retain);
    }
  } catch (const std::exception& e) {
    try {
      self->host_.error(std::string("handling a message: ") + e.what());
    } catch (...) {
    }
  } catch (...) {
  }
}

void Link::on_publish_cb(mosquitto* /*m*/, void* user_data, int mid) {
  auto* self = static_cast<Link*>(user_data);
  ++self->counters_.sent;
  auto& f = self->in_flight_;
  f.erase(std::remove(f.begin(), f.end(), mid), f.end());
}

}  // namespace meter::plugins::rf_mqtt
