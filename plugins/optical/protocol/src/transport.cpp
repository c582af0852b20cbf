// File-descriptor and TCP transports over poll(2).
#include "meter/c1218/transport.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace meter::c1218 {
namespace {

Error system_error(const std::string& what) {
  return fail(ErrorKind::io, what + ": " + std::strerror(errno));
}

/// Milliseconds from now to `deadline` for poll(2), rounded up, at least 0.
int poll_timeout(TimePoint deadline) {
  const auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<std::int64_t>(ms, 60'000));
}

/// Waits for `events` on `fd` until `deadline`: 1 ready, 0 deadline, -1 error (errno set).
int wait_for(int fd, short events, TimePoint deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int ready = ::poll(&p, 1, poll_timeout(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return -1;
    if (ready > 0) return 1;
    if (Clock::now() >= deadline) return 0;
  }
}

std::optional<speed_t> speed_of(unsigned bits_per_second) {
  switch (bits_per_second) {
    case 300: return B300;
    case 600: return B600;
    case 1200: return B1200;
    case 2400: return B2400;
    case 4800: return B4800;
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    default: return std::nullopt;
  }
}

Result<addrinfo*> resolve(const std::string& host, std::uint16_t port, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0) {
    return fail(ErrorKind::io, "cannot resolve " + host + ": " + ::gai_strerror(rc));
  }
  return found;
}

}  // namespace

FdTransport::~FdTransport() { close(); }

FdTransport::FdTransport(FdTransport&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

FdTransport& FdTransport::operator=(FdTransport&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void FdTransport::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<FdTransport> FdTransport::open_device(const std::string& path, unsigned bits_per_second) {
  const auto speed = speed_of(bits_per_second);
  if (!speed) {
    return fail(ErrorKind::invalid_argument,
                "no serial speed of " + std::to_string(bits_per_second) + " bit/s");
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return system_error("cannot open " + path);
  FdTransport transport(fd);
  if (::isatty(fd)) {
    termios tio{};
    if (::tcgetattr(fd, &tio) != 0) return system_error("cannot read the settings of " + path);
    ::cfmakeraw(&tio);
    tio.c_cflag |= CLOCAL | CREAD;
    tio.c_cflag &= ~static_cast<tcflag_t>(CSTOPB | PARENB);
    tio.c_cc[VMIN] = 1;
    tio.c_cc[VTIME] = 0;
    ::cfsetispeed(&tio, *speed);
    ::cfsetospeed(&tio, *speed);
    if (::tcsetattr(fd, TCSANOW, &tio) != 0) return system_error("cannot set up " + path);
  }
  return transport;
}

Result<void> FdTransport::write(std::span<const std::uint8_t> bytes) {
  if (fd_ < 0) return fail(ErrorKind::closed, "write on a closed transport");
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (wait_for(fd_, POLLOUT, Clock::now() + std::chrono::seconds(5)) <= 0) {
        return fail(ErrorKind::timeout, "the link does not take more bytes");
      }
      continue;
    }
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
      return fail(ErrorKind::closed, "the other side closed the link");
    }
    if (n < 0) return system_error("write");
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Result<std::size_t> FdTransport::read(std::span<std::uint8_t> into, TimePoint deadline) {
  if (fd_ < 0) return fail(ErrorKind::closed, "read on a closed transport");
  if (into.empty()) return std::size_t{0};
  for (;;) {
    const int ready = wait_for(fd_, POLLIN, deadline);
    if (ready < 0) return system_error("poll");
    if (ready == 0) return std::size_t{0};
    const ssize_t n = ::read(fd_, into.data(), into.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n < 0 && (errno == ECONNRESET || errno == EIO)) {
      return fail(ErrorKind::closed, "the other side closed the link");
    }
    if (n < 0) return system_error("read");
    if (n == 0) return fail(ErrorKind::closed, "the other side closed the link");
    return static_cast<std::size_t>(n);
  }
}

Result<FdTransport> tcp_connect(const std::string& host, std::uint16_t port, TimePoint deadline) {
  auto found = resolve(host, port, false);
  if (!found) return found.error();
  Error last = fail(ErrorKind::io, "no address for " + host);
  for (addrinfo* a = *found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                            a->ai_protocol);
    if (fd < 0) {
      last = system_error("socket");
      continue;
    }
    FdTransport transport(fd);
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last = system_error("cannot connect to " + host + ":" + std::to_string(port));
        continue;
      }
      const int ready = wait_for(fd, POLLOUT, deadline);
      int error = 0;
      socklen_t length = sizeof error;
      if (ready <= 0) {
        last = fail(ErrorKind::timeout, "no connection to " + host + ":" + std::to_string(port));
        continue;
      }
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
      if (error != 0) {
        errno = error;
        last = system_error("cannot connect to " + host + ":" + std::to_string(port));
        continue;
      }
    }
    const int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::freeaddrinfo(*found);
    return transport;
  }
  ::freeaddrinfo(*found);
  return last;
}

Result<TcpListener> TcpListener::listen(const std::string& host, std::uint16_t port) {
  auto found = resolve(host, port, true);
  if (!found) return found.error();
  Error last = fail(ErrorKind::io, "no address for " + host);
  for (addrinfo* a = *found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last = system_error("socket");
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 4) != 0) {
      last = system_error("cannot listen on " + host + ":" + std::to_string(port));
      ::close(fd);
      continue;
    }
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
    std::uint16_t actual = port;
    if (bound.ss_family == AF_INET) {
      actual = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    } else if (bound.ss_family == AF_INET6) {
      actual = ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
    }
    ::freeaddrinfo(*found);
    return TcpListener(fd, actual);
  }
  ::freeaddrinfo(*found);
  return last;
}

TcpListener::~TcpListener() {
  if (fd_ >= 0) ::close(fd_);
}

TcpListener::TcpListener(TcpListener&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), port_(other.port_) {}

TcpListener& TcpListener::operator=(TcpListener&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    port_ = other.port_;
  }
  return *this;
}

Result<FdTransport> TcpListener::accept(TimePoint deadline) {
  const int ready = wait_for(fd_, POLLIN, deadline);
  if (ready < 0) return system_error("poll");
  if (ready == 0) return fail(ErrorKind::timeout, "no connection came");
  const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) return system_error("accept");
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return FdTransport(fd);
}

}  // namespace meter::c1218
