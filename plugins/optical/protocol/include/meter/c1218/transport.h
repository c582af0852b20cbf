// POSIX transports for the client and for serving a port: a file descriptor (an optical probe's
// serial device, a pty) and TCP (a meter, a simulator or a test server on 127.0.0.1).
// Plain POSIX: poll(2) for deadlines, blocking descriptors, no signals raised (MSG_NOSIGNAL).
#pragma once

#include <cstdint>
#include <string>

#include "meter/c1218/client.h"

namespace meter::c1218 {

/// A Transport over a file descriptor it owns (closed on destruction).
class FdTransport : public Transport {
 public:
  /// Takes ownership of `fd`.
  explicit FdTransport(int fd) noexcept : fd_(fd) {}
  ~FdTransport() override;
  FdTransport(FdTransport&& other) noexcept;
  FdTransport& operator=(FdTransport&& other) noexcept;
  FdTransport(const FdTransport&) = delete;
  FdTransport& operator=(const FdTransport&) = delete;

  /// Opens a serial device or pty read-write; a terminal is put in raw mode, 8N1, at
  /// `bits_per_second` (a rate of the negotiate service's list, 9600 for an optical probe).
  static Result<FdTransport> open_device(const std::string& path, unsigned bits_per_second = 9600);

  Result<void> write(std::span<const std::uint8_t> bytes) override;
  Result<std::size_t> read(std::span<std::uint8_t> into, TimePoint deadline) override;

  int fd() const noexcept { return fd_; }
  void close() noexcept;

 private:
  int fd_ = -1;
};

/// Connects to `host`:`port` over TCP (TCP_NODELAY), giving up at `deadline`.
Result<FdTransport> tcp_connect(const std::string& host, std::uint16_t port, TimePoint deadline);

/// A listening TCP socket that accepts one connection at a time.
class TcpListener {
 public:
  /// Listens on `host`:`port`; port 0 picks a free one (see port()).
  static Result<TcpListener> listen(const std::string& host, std::uint16_t port);
  ~TcpListener();
  TcpListener(TcpListener&& other) noexcept;
  TcpListener& operator=(TcpListener&& other) noexcept;
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  /// Waits for a connection until `deadline`; an Error of kind timeout if none came.
  Result<FdTransport> accept(TimePoint deadline);

 private:
  TcpListener(int fd, std::uint16_t port) noexcept : fd_(fd), port_(port) {}
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace meter::c1218
