// The MQTT link of the rf_mqtt plugin: one libmosquitto client used without threads, driven by
// the host on the kernel thread. The plugin owns the socket and asks the host (ABI 1.2) to call
// it when the socket is readable, or writable while libmosquitto has output queued; a service
// timer runs libmosquitto's keepalive, gives up connections that take too long and connects
// again with a doubling back-off. A broker name is looked up with getaddrinfo_a, so no call
// here ever waits on the network. What is published while the link is down waits in a bounded
// outbox, or is dropped and counted.
#pragma once

#include <meter/sdk/plugin.h>
#include <netdb.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

struct mosquitto;
struct mosquitto_message;

namespace meter::plugins::rf_mqtt {

enum class LinkState : std::uint8_t {
  down = 1,    ///< no connection; waiting to try again
  resolving,   ///< looking up the broker's name
  connecting,  ///< TCP connecting, or waiting for the broker's CONNACK and SUBACK
  up           ///< connected and subscribed
};

/// "down", "resolving", "connecting", "up".
std::string_view to_string(LinkState state);

struct LinkOptions {
  std::string host;
  int port = 1883;
  std::string client_id;
  int keepalive_s = 60;
  std::string username;  ///< empty: none
  std::string password;
  std::string will_topic;  ///< the will (LWT), retained, QoS 1; empty: none
  std::string will_payload;
  std::chrono::milliseconds connect_timeout{15'000};
  std::chrono::milliseconds reconnect_min{2'000};
  std::chrono::milliseconds reconnect_max{300'000};
  std::size_t outbox_limit = 100;
  std::vector<std::string> subscriptions;  ///< subscribed with QoS 1 at every connect
};

struct LinkCounters {
  std::uint64_t connects = 0;     ///< CONNACKs accepted
  std::uint64_t disconnects = 0;  ///< connections lost or closed after being up
  std::uint64_t sent = 0;         ///< messages the broker has (QoS 0 written, QoS 1 acknowledged)
  std::uint64_t received = 0;     ///< messages received on the subscriptions
  std::uint64_t dropped = 0;      ///< messages never handed to the broker
};

struct Message {
  std::string topic;
  std::string payload;
  int qos = 1;
  bool retain = false;
};

class Link {
 public:
  /// Called when the link is up, before the outbox is sent (the birth message goes here).
  using UpHandler = std::function<void()>;
  /// Called for each message received on a subscription; `retained` when the broker kept it
  /// from before (sent on subscribing) rather than passing it on now.
  using MessageHandler =
      std::function<void(std::string_view topic, std::string_view payload, bool retained)>;

  /// What to do with a message while the link is not up.
  enum class WhenDown : std::uint8_t { queue = 1, drop };

  Link(sdk::Host& host, LinkOptions options, UpHandler on_up, MessageHandler on_message);
  ~Link();
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  /// Makes the first connection attempt and starts the service timer. In start or a handler.
  void start();
  /// Publishes `message` when up; otherwise queues or drops it as `when_down` says. Returns
  /// false when it was dropped.
  bool publish(Message message, WhenDown when_down);
  /// Writes what libmosquitto has queued, as far as the socket takes it without waiting.
  void flush();
  /// Publishes what waited in the outbox (the link calls it after UpHandler too).
  void send_outbox();
  /// Publishes `goodbye` (when up), disconnects cleanly so that the broker keeps the will to
  /// itself, writes what it can and closes. Nothing is sent after this. In stop: it waits for
  /// the broker to acknowledge what is in flight, at most 250 ms, the one wait of the link.
  void close(const Message* goodbye);

  LinkState state() const noexcept { return state_; }
  const LinkCounters& counters() const noexcept { return counters_; }
  const std::string& last_error() const noexcept { return last_error_; }
  /// The wait before the next attempt after `failures` failures in a row.
  std::chrono::milliseconds backoff(std::uint32_t failures) const;

 private:
  struct Lookup;

  void make_client();
  void begin_attempt();
  void connect_next_address();
  void fail_attempt(std::string why);
  void start_lookup();
  void poll_lookup();
  void cancel_lookup();
  void service();
  void schedule_service(std::chrono::milliseconds delay);
  void on_ready(int ready);
  void after_library_call();
  void sync_watch();
  void settle();

  static meter_status io_trampoline(void* user_data, std::int32_t fd, std::int32_t ready) noexcept;
  static void on_connect_cb(mosquitto* m, void* user_data, int rc);
  static void on_disconnect_cb(mosquitto* m, void* user_data, int rc);
  static void on_message_cb(mosquitto* m, void* user_data, const mosquitto_message* message);
  static void on_publish_cb(mosquitto* m, void* user_data, int mid);
  static void on_subscribe_cb(mosquitto* m, void* user_data, int mid, int count,
                              const int* granted);
  void become_up();

  sdk::Host& host_;
  LinkOptions options_;
  UpHandler on_up_;
  MessageHandler on_message_;
  mosquitto* client_ = nullptr;
  LinkState state_ = LinkState::down;
  LinkCounters counters_;
  std::string last_error_;
  std::deque<Message> outbox_;
  bool numeric_host_ = false;
  std::vector<std::string> addresses_;  // this attempt's addresses still to try
  std::string address_;                 // the one being tried
  Lookup* lookup_ = nullptr;
  std::uint32_t failures_ = 0;  // attempts failed since the link was last up
  std::chrono::steady_clock::time_point attempt_started_{};
  std::chrono::steady_clock::time_point retry_at_{};
  bool lost_ = false;              // libmosquitto reported the connection gone
  bool refused_ = false;           // the broker's CONNACK refused this connection
  int pending_subscriptions_ = 0;  // SUBACKs still awaited before the link is up
  std::vector<int> in_flight_;     // QoS 1 messages the broker has not acknowledged yet
  bool closing_ = false;
  bool closed_ = false;
  std::uint64_t watch_ = 0;  // the host's watch of the socket; 0 none
  int watched_fd_ = -1;
  std::int32_t watched_events_ = 0;
  std::uint64_t service_timer_ = 0;
  std::uint32_t jitter_permille_ = 0;  // this meter's share of extra wait, 0..250
};

}  // namespace meter::plugins::rf_mqtt
