// LoopbackTransport: a Client's Transport wired straight to a Server in the same thread, on a
// clock of its own. What the client writes is fed to the server at once; a read with nothing to
// deliver moves the clock forward to the server's next deadline or the read's deadline, so
// timeouts and retries play out without sleeping and always the same way. Filters on each
// direction can drop or alter bytes to test a link that loses or corrupts them.
#pragma once

#include <deque>
#include <functional>
#include <vector>

#include "meter/c1218/client.h"
#include "meter/c1218/server.h"

namespace meter::c1218 {

class LoopbackTransport : public Transport {
 public:
  /// Bytes in one direction, as the other side sent them; a filter may change or clear them.
  using Filter = std::function<void(std::vector<std::uint8_t>& bytes)>;

  /// `server` must outlive the transport. The clock starts at `start`.
  explicit LoopbackTransport(Server& server, TimePoint start = TimePoint{} + std::chrono::hours(1));

  Result<void> write(std::span<const std::uint8_t> bytes) override;
  Result<std::size_t> read(std::span<std::uint8_t> into, TimePoint deadline) override;
  TimePoint now() override { return now_; }

  /// Moves the clock forward by `duration`, running the server's timers on the way.
  void advance(std::chrono::milliseconds duration);

  Filter to_server;  ///< applied to what the client writes
  Filter to_client;  ///< applied to what the server transmits

 private:
  void deliver(std::vector<std::uint8_t> bytes);
  void run_until(TimePoint until);

  Server& server_;
  TimePoint now_;
  std::deque<std::uint8_t> inbox_;  // server → client, not yet read
};

}  // namespace meter::c1218
