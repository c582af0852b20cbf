// Where the optical port's bytes come from and go to. On a board with an optical probe it is
// the probe's serial line; on the sim board it is a TCP listener on the loopback address (each
// connection is a probe held to the port) or a pseudo-terminal that serial tools open like a
// probe. Every descriptor is non-blocking: the plugin never blocks the kernel thread.
#pragma once

#include <cstdint>
#include <string>

namespace meter::plugins::optical {

/// A file descriptor that closes itself.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset() noexcept;

 private:
  int fd_ = -1;
};

/// How the port is reached, from the plugin's settings.
struct TransportSettings {
  std::string kind = "tcp";         ///< "tcp", "pty" or "serial"
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;            ///< 0: any free port (the chosen one is logged and shown)
  std::string link;                  ///< pty: a path made a symbolic link to the terminal
  std::string device;                ///< serial: the device, e.g. /dev/ttyS1
  std::uint32_t baud = 9600;         ///< serial: C12.18 starts at 9600 baud
};

/// Opens a listening TCP socket; the error says why not.
Fd listen_tcp(const std::string& address, std::uint16_t port, std::string& error);
/// The port a listening socket is bound to.
std::uint16_t bound_port(int listener);
/// Accepts one waiting connection (non-blocking); an empty Fd when there is none.
Fd accept_connection(int listener);
/// Opens a pseudo-terminal's master side in raw mode and links `link` (if not empty) to its
/// slave side; `slave_path` receives the slave's name.
Fd open_pty(const std::string& link, std::string& slave_path, std::string& error);
/// Opens a serial device raw, 8N1, at `baud`.
Fd open_serial(const std::string& device, std::uint32_t baud, std::string& error);

}  // namespace meter::plugins::optical
