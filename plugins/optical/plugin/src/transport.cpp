#include "transport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace meter::plugins::optical {

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = other.release();
  }
  return *this;
}

void Fd::reset() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

namespace {

std::string why() { return std::strerror(errno); }

bool raw_mode(int fd, speed_t speed) {
  termios t{};
  if (::tcgetattr(fd, &t) != 0) return false;
  ::cfmakeraw(&t);
  t.c_cflag |= CLOCAL | CREAD;
  t.c_cc[VMIN] = 0;
  t.c_cc[VTIME] = 0;
  if (speed != 0) {
    ::cfsetispeed(&t, speed);
    ::cfsetospeed(&t, speed);
  }
  return ::tcsetattr(fd, TCSANOW, &t) == 0;
}

speed_t speed_of(std::uint32_t baud) {
  switch (baud) {
    case 1200: return B1200;
    case 2400: return B2400;
    case 4800: return B4800;
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    default: return 0;
  }
}

}  // namespace

Fd listen_tcp(const std::string& address, std::uint16_t port, std::string& error) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    error = "socket: " + why();
    return {};
  }
  const int on = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (::inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1) {
    error = fmt::format("'{}' is not an IPv4 address", address);
    return {};
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    error = fmt::format("cannot listen on {}:{}: {}", address, port, why());
    return {};
  }
  if (::listen(fd.get(), 4) != 0) {
    error = "listen: " + why();
    return {};
  }
  return fd;
}

std::uint16_t bound_port(int listener) {
  sockaddr_in a{};
  socklen_t size = sizeof a;
  if (::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &size) != 0) return 0;
  return ntohs(a.sin_port);
}

Fd accept_connection(int listener) {
  Fd fd(::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (fd) {
    const int on = 1;  // frames are small and answered at once: no Nagle delay
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  }
  return fd;
}

Fd open_pty(const std::string& link, std::string& slave_path, std::string& error) {
  Fd fd(::posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
  if (!fd || ::grantpt(fd.get()) != 0 || ::unlockpt(fd.get()) != 0) {
    error = "cannot open a pseudo-terminal: " + why();
    return {};
  }
  const char* name = ::ptsname(fd.get());
  if (name == nullptr) {
    error = "ptsname: " + why();
    return {};
  }
  slave_path = name;
  if (!raw_mode(fd.get(), 0)) {
    error = "cannot set the pseudo-terminal raw: " + why();
    return {};
  }
  if (!link.empty()) {
    std::error_code ec;
    std::filesystem::remove(link, ec);
    std::filesystem::create_symlink(slave_path, link, ec);
    if (ec) {
      error = fmt::format("cannot link {} to {}: {}", link, slave_path, ec.message());
      return {};
    }
  }
  return fd;
}

Fd open_serial(const std::string& device, std::uint32_t baud, std::string& error) {
  const speed_t speed = speed_of(baud);
  if (speed == 0) {
    error = fmt::format("{} baud is not a serial speed this port supports", baud);
    return {};
  }
  Fd fd(::open(device.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) {
    error = fmt::format("cannot open {}: {}", device, why());
    return {};
  }
  if (!raw_mode(fd.get(), speed)) {
    error = fmt::format("cannot configure {}: {}", device, why());
    return {};
  }
  return fd;
}

}  // namespace meter::plugins::optical
