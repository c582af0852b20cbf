// The optical port plugin: the transport (a TCP listener, a pseudo-terminal or a serial line),
// the C12.18 server and the meter endpoint, all driven by the host's loop through watches and
// one timer — the kernel thread is never blocked. One probe at a time: a new connection takes
// the port over from an open one (a probe taken off and put back; tools such as termineter
// open their next connection before they close the last), ending its session.
//
// A disabled port (0-0:128.6.4 false, seed 000) is inert: no listener, no descriptor, nothing
// answered. It opens again when the object is set true, which the gate allows only on site with
// the seal broken.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <meter/sdk/plugin.h>

#include "endpoint.h"
#include "meter/c1218/server.h"
#include "transport.h"

namespace meter::plugins::optical {

namespace {

using sdk::obis;
using sdk::Status;

class OpticalPort {
 public:
  explicit OpticalPort(sdk::Host& host) : host_(host) {
    settings_.kind = host.config<std::string>("transport");
    settings_.address = host.config<std::string>("address");
    settings_.port = static_cast<std::uint16_t>(host.config<std::int64_t>("port"));
    settings_.link = host.config<std::string>("link");
    settings_.device = host.config<std::string>("device");
    server_config_.max_packet_size =
        static_cast<std::uint16_t>(host.config<std::int64_t>("max_packet_size"));
    server_config_.max_packets = static_cast<std::uint8_t>(host.config<std::int64_t>("max_packets"));
  }

  Status start() {
    endpoint_ = std::make_unique<MeterEndpoint>(host_);
    server_ = std::make_unique<c1218::Server>(*endpoint_, server_config_);
    server_->set_log([this](std::string_view line) { host_.info(fmt::format("optical port: {}", line)); });
    if (enabled()) {
      open_transport();
    } else {
      where_ = "disabled";
      host_.info("optical port disabled: not listening");
    }
    provide_objects();
    // Enabled or disabled through the gate: applied after the write that did it has been
    // answered, outside the port's own callbacks.
    host_.on<meter_parameter_changed>([this](const meter_parameter_changed& e) {
      if (!is_port_enabled_object(e.id)) return;
      if (toggle_timer_ != 0) host_.cancel(toggle_timer_);
      toggle_timer_ = host_.after(std::chrono::milliseconds(0), [this] {
        toggle_timer_ = 0;
        apply_enabled();
      });
    });
    return Status::ok;
  }

  void stop() {
    if (toggle_timer_ != 0) host_.cancel(toggle_timer_);
    toggle_timer_ = 0;
    close_transport();
    server_.reset();
    endpoint_.reset();
  }

 private:
  static constexpr sdk::Obis kPortEnabled = obis("0-0:128.6.4");

  static bool is_port_enabled_object(const meter_obis& id) {
    return id.a == kPortEnabled.a && id.b == kPortEnabled.b && id.c == kPortEnabled.c &&
           id.d == kPortEnabled.d && id.e == kPortEnabled.e;
  }

  bool enabled() const {
    const auto v = host_.read(kPortEnabled);
    const bool* on = v ? std::get_if<bool>(&*v) : nullptr;
    return on == nullptr || *on;  // a kernel without the object has no way to disable it
  }

  void apply_enabled() {
    if (draining_ && enabled()) {  // switched on again before the last session ended
      draining_ = false;
      close_transport();
    }
    const bool open = listener_ || connection_;
    if (enabled() == open) return;
    if (!open) {
      try {
        open_transport();
      } catch (const sdk::ConfigError& e) {
        host_.error(std::string("optical port enabled but cannot open: ") + e.what());
      }
      return;
    }
    if (connection_ && !draining_) {
      // The session that switched the port off hears the answer (ST-8) before the link goes:
      // no new connection from now on, the open one for a moment more.
      draining_ = true;
      if (listener_watch_ != 0) host_.unwatch(listener_watch_);
      listener_watch_ = 0;
      listener_.reset();
      toggle_timer_ = host_.after(kDisableGrace, [this] {
        toggle_timer_ = 0;
        apply_enabled();
      });
      return;
    }
    draining_ = false;
    close_transport();
    where_ = "disabled";
    host_.info("optical port disabled: not listening");
  }

  /// How long the session that disabled the port keeps its link to read the result.
  static constexpr std::chrono::milliseconds kDisableGrace{1500};
  bool draining_ = false;

  void open_transport() {
    std::string error;
    if (settings_.kind == "tcp") {
      listener_ = listen_tcp(settings_.address, settings_.port, error);
      if (!listener_) fail(error.find("IPv4") != std::string::npos ? "address" : "port", error);
      where_ = fmt::format("tcp {}:{}", settings_.address, bound_port(listener_.get()));
      listener_watch_ =
          host_.watch(listener_.get(), METER_IO_READABLE, [this](int, int) { accept_probe(); });
    } else if (settings_.kind == "pty") {
      std::string slave;
      Fd fd = open_pty(settings_.link, slave, error);
      if (!fd) fail("link", error);
      where_ = settings_.link.empty() ? "pty " + slave : fmt::format("pty {} ({})", settings_.link, slave);
      attach(std::move(fd));
    } else {
      if (settings_.device.empty()) fail("device", "transport \"serial\" needs a device");
      Fd fd = open_serial(settings_.device, settings_.baud, error);
      if (!fd) fail("device", error);
      where_ = "serial " + settings_.device;
      attach(std::move(fd));
    }
    host_.info("optical port on " + where_);
  }

  void close_transport() {
    if (timer_ != 0) host_.cancel(timer_);
    timer_ = 0;
    detach();
    if (listener_watch_ != 0) host_.unwatch(listener_watch_);
    listener_watch_ = 0;
    listener_.reset();
  }

  /// The port cannot open as configured: a configuration error of setting `key`, so the meter
  /// does not start without the port its product carries.
  [[noreturn]] void fail(const std::string& key, const std::string& why) {
    throw sdk::ConfigError(key, "the optical port cannot open: " + why);
  }

  void provide_objects() {
    auto counter = [this](const char* code, const char* what, auto read) {
      host_.provide({.id = *sdk::parse_obis(code), .type = METER_VALUE_UNSIGNED, .description = what},
                    std::move(read));
    };
    host_.provide({.id = obis("0-0:128.40.0"), .type = METER_VALUE_TEXT,
                   .description = "optical port endpoint"},
                  [this] { return where_; });
    counter("0-0:128.40.1", "optical port packets received",
            [this] { return server_->counters().frames_received; });
    counter("0-0:128.40.2", "optical port packets refused (CRC, length, truncated, sequence)", [this] {
      std::uint64_t n = server_->counters().out_of_sequence;
      for (auto r : server_->counters().refused) n += r;
      return n;
    });
    counter("0-0:128.40.3", "optical port requests refused",
            [this] { return server_->counters().requests_refused; });
    counter("0-0:128.40.4", "optical port sessions", [this] { return server_->counters().sessions; });
    counter("0-0:128.40.5", "optical port logons refused (password, lockout, port disabled)",
            [this] { return endpoint_->logon_counters().total(); });
    counter("0-0:128.40.6", "optical port connections that took the port over from an open one",
            [this] { return taken_over_; });
    counter("0-0:128.40.7", "optical port sessions ended by the channel traffic timeout",
            [this] { return server_->counters().channel_timeouts; });
  }

  void accept_probe() {
    for (Fd fd = accept_connection(listener_.get()); fd; fd = accept_connection(listener_.get())) {
      if (connection_) {
        ++taken_over_;  // one probe at a time: the newest holds the port
        host_.info("optical port: a new probe takes the port over");
        detach();
      }
      attach(std::move(fd));
      host_.info("optical port: probe connected");
    }
  }

  void attach(Fd fd) {
    connection_ = std::move(fd);
    watch_ = host_.watch(connection_.get(), METER_IO_READABLE,
                         [this](int ready_fd, int ready) { on_ready(ready_fd, ready); });
  }

  /// The probe went away: the session (and its logon) ends; a listener waits for the next.
  void detach() {
    if (watch_ != 0) host_.unwatch(watch_);
    watch_ = 0;
    if (server_) server_->reset();
    connection_.reset();
    pending_.clear();
  }

  void on_ready(int fd, int ready) {
    if ((ready & METER_IO_WRITABLE) != 0) flush();
    if ((ready & (METER_IO_READABLE | METER_IO_ERROR)) == 0) return;
    std::uint8_t buffer[1024];
    for (;;) {
      const auto n = ::read(fd, buffer, sizeof buffer);
      if (n > 0) {
        send(server_->feed({buffer, static_cast<std::size_t>(n)}, host_.steady_now()));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0 && errno == EINTR) continue;
      // End of file or an error: a TCP probe hung up. A pty without a reader reports EIO
      // until a tool opens it again: keep it, and listen again after a pause.
      if (settings_.kind == "tcp") {
        host_.info("optical port: probe disconnected");
        detach();
      } else if (server_) {
        server_->reset();
      }
      break;
    }
    schedule();
  }

  void send(std::vector<std::uint8_t> bytes) {
    pending_.insert(pending_.end(), bytes.begin(), bytes.end());
    flush();
  }

  void flush() {
    while (connection_ && !pending_.empty()) {
      const auto n = ::write(connection_.get(), pending_.data(), pending_.size());
      if (n > 0) {
        pending_.erase(pending_.begin(), pending_.begin() + n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        break;  // EAGAIN: wait until the descriptor is writable
      }
    }
    if (watch_ != 0) {
      host_.rewatch(watch_, METER_IO_READABLE | (pending_.empty() ? 0 : METER_IO_WRITABLE));
    }
  }

  /// One timer, at the server's next deadline (a response timeout, the channel timeout).
  void schedule() {
    if (timer_ != 0) host_.cancel(timer_);
    timer_ = 0;
    if (!server_ || !connection_) return;
    const auto deadline = server_->next_deadline();
    if (!deadline) return;
    const auto delay = std::max(std::chrono::ceil<std::chrono::milliseconds>(*deadline - host_.steady_now()),
                                std::chrono::milliseconds(0));
    timer_ = host_.after(delay, [this] {
      timer_ = 0;
      send(server_->poll(host_.steady_now()));
      schedule();
    });
  }

  sdk::Host& host_;
  TransportSettings settings_;
  c1218::ServerConfig server_config_;
  std::unique_ptr<MeterEndpoint> endpoint_;
  std::unique_ptr<c1218::Server> server_;
  Fd listener_;
  Fd connection_;
  std::uint64_t listener_watch_ = 0;
  std::uint64_t watch_ = 0;
  std::uint64_t timer_ = 0;
  std::uint64_t toggle_timer_ = 0;
  std::vector<std::uint8_t> pending_;
  std::string where_;
  std::uint64_t taken_over_ = 0;
};

}  // namespace
}  // namespace meter::plugins::optical

METER_PLUGIN(meter::plugins::optical::OpticalPort)
