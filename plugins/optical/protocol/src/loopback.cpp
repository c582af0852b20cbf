// The in-process client-to-server link on its own clock.
#include "meter/c1218/loopback.h"

#include <algorithm>

namespace meter::c1218 {

LoopbackTransport::LoopbackTransport(Server& server, TimePoint start)
    : server_(server), now_(start) {}

void LoopbackTransport::deliver(std::vector<std::uint8_t> bytes) {
  if (to_client && !bytes.empty()) to_client(bytes);
  inbox_.insert(inbox_.end(), bytes.begin(), bytes.end());
}

Result<void> LoopbackTransport::write(std::span<const std::uint8_t> bytes) {
  std::vector<std::uint8_t> sent(bytes.begin(), bytes.end());
  if (to_server) to_server(sent);
  if (!sent.empty()) deliver(server_.feed(sent, now_));
  return {};
}

void LoopbackTransport::run_until(TimePoint until) {
  // Step through the server's deadlines up to `until`, stopping as soon as it transmits.
  while (inbox_.empty()) {
    const auto next = server_.next_deadline();
    if (!next || *next > until) break;
    now_ = std::max(now_, *next);
    deliver(server_.poll(now_));
  }
  if (inbox_.empty() && until > now_) {
    now_ = until;
    deliver(server_.poll(now_));
  }
}

Result<std::size_t> LoopbackTransport::read(std::span<std::uint8_t> into, TimePoint deadline) {
  if (inbox_.empty()) run_until(deadline);
  const std::size_t n = std::min(into.size(), inbox_.size());
  std::copy_n(inbox_.begin(), n, into.begin());
  inbox_.erase(inbox_.begin(), inbox_.begin() + static_cast<std::ptrdiff_t>(n));
  return n;
}

void LoopbackTransport::advance(std::chrono::milliseconds duration) {
  const TimePoint until = now_ + duration;
  for (;;) {
    const auto next = server_.next_deadline();
    if (!next || *next > until) break;
    now_ = std::max(now_, *next);
    deliver(server_.poll(now_));
  }
  now_ = until;
  deliver(server_.poll(now_));
}

}  // namespace meter::c1218
