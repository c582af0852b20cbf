// Test support for the rf_mqtt plugin: a real mosquitto broker on 127.0.0.1 that a test starts,
// stops and starts again on the same port, and a head-end client (libmosquitto) that records
// what it receives. Every wait is bounded. The broker logs everything into its temporary
// folder, which is removed at the end unless KEEP_BROKER_LOG is set in the environment.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace meter::plugins::rf_mqtt::testing {

/// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick for port 0).
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t size = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

/// True when something accepts TCP connections on 127.0.0.1:`port`.
inline bool accepting(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

/// mosquitto, run by the test: `listener <port> 127.0.0.1`, anonymous, no persistence.
class Broker {
 public:
  static bool available() { return ::access(METER_MOSQUITTO_BROKER, X_OK) == 0; }

  Broker() {
    char dir[] = "/tmp/rf_mqtt_broker.XXXXXX";
    if (::mkdtemp(dir) != nullptr) dir_ = dir;
    for (int tries = 0; tries < 5 && pid_ <= 0; ++tries) {
      port_ = free_port();
      start();
    }
  }
  ~Broker() {
    stop();
    std::error_code ec;
    if (!dir_.empty() && !std::getenv("KEEP_BROKER_LOG")) std::filesystem::remove_all(dir_, ec);
  }
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  int port() const noexcept { return port_; }
  bool running() const noexcept { return pid_ > 0; }

  /// Starts the broker on port(); true once it accepts connections (at most 5 s).
  bool start() {
    if (pid_ > 0 || dir_.empty() || port_ == 0) return pid_ > 0;
    const std::string conf = dir_ + "/mosquitto.conf";
    {
      std::ofstream out(conf);
      out << "listener " << port_ << " 127.0.0.1\nallow_anonymous true\npersistence false\n"
          << "log_dest stderr\nlog_type all\n";
    }
    const pid_t pid = ::fork();
    if (pid == 0) {
      // The log is opened before mosquitto drops root's privileges for its own user.
      const int null = ::open("/dev/null", O_RDWR);
      const int log =
          ::open((dir_ + "/mosquitto.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(null, STDIN_FILENO);
      ::dup2(null, STDOUT_FILENO);
      ::dup2(log >= 0 ? log : null, STDERR_FILENO);
      ::execl(METER_MOSQUITTO_BROKER, "mosquitto", "-c", conf.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    if (pid < 0) return false;
    pid_ = pid;
    for (int i = 0; i < 200; ++i) {
      if (accepting(port_)) return true;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // it could not listen
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    stop();
    return false;
  }

  /// Stops the broker (SIGTERM, then SIGKILL after 5 s) and reaps it.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 500; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

/// A message the head-end received.
struct Received {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retained = false;

  nlohmann::json json() const { return nlohmann::json::parse(payload, nullptr, false); }
};

/// The head-end's side: a libmosquitto client subscribed to `filter` (default every topic).
class HeadEnd {
 public:
  explicit HeadEnd(int port, std::string filter = "#", std::string id = "head-end") {
    mosquitto_lib_init();
    client_ = mosquitto_new(id.c_str(), true, this);
    mosquitto_message_callback_set(client_, [](mosquitto*, void* self, const mosquitto_message* m) {
      static_cast<HeadEnd*>(self)->received.push_back(
          {m->topic,
           std::string(static_cast<const char*>(m->payload),
                       static_cast<std::size_t>(m->payloadlen)),
           m->qos, m->retain});
    });
    mosquitto_subscribe_callback_set(client_, [](mosquitto*, void* self, int, int, const int*) {
      static_cast<HeadEnd*>(self)->subscribed_ = true;
    });
    // Loopback: the blocking connect returns at once.
    connected_ = mosquitto_connect(client_, "127.0.0.1", port, 30) == MOSQ_ERR_SUCCESS &&
                 mosquitto_subscribe(client_, nullptr, filter.c_str(), 1) == MOSQ_ERR_SUCCESS;
    for (int i = 0; connected_ && !subscribed_ && i < 200; ++i) pump(10);
  }
  ~HeadEnd() {
    mosquitto_disconnect(client_);
    mosquitto_destroy(client_);
    mosquitto_lib_cleanup();
  }
  HeadEnd(const HeadEnd&) = delete;
  HeadEnd& operator=(const HeadEnd&) = delete;

  bool ready() const noexcept { return connected_ && subscribed_; }

  /// Serves the connection for up to `timeout_ms`.
  void pump(int timeout_ms) { mosquitto_loop(client_, timeout_ms, 10); }

  void publish(const std::string& topic, const std::string& payload, bool retain = false) {
    mosquitto_publish(client_, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                      payload.data(), 1, retain);
    pump(0);
  }

  /// The messages received on `topic`, in order.
  std::vector<Received> on(const std::string& topic) const {
    std::vector<Received> out;
    for (const auto& m : received) {
      if (m.topic == topic) out.push_back(m);
    }
    return out;
  }

  std::vector<Received> received;

 private:
  mosquitto* client_ = nullptr;
  bool connected_ = false;
  bool subscribed_ = false;
};

}  // namespace meter::plugins::rf_mqtt::testing
