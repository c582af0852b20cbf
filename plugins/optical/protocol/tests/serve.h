// Test support: runs a Server over an FdTransport on the real clock, as the optical plugin's
// port thread would, until told to stop, the link closes or a time limit passes.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>

#include "meter/c1218/server.h"
#include "meter/c1218/transport.h"

namespace meter::c1218::test {

inline void serve(Server& server, FdTransport& link, const std::atomic<bool>& stop,
                  std::chrono::seconds limit) {
  using namespace std::chrono_literals;
  const TimePoint give_up = Clock::now() + limit;
  std::array<std::uint8_t, 256> buffer{};
  while (!stop.load() && Clock::now() < give_up) {
    TimePoint deadline = Clock::now() + 20ms;
    if (const auto next = server.next_deadline()) deadline = std::min(deadline, *next);
    const auto got = link.read(buffer, deadline);
    if (!got) break;  // the client closed the link
    const auto out = *got > 0 ? server.feed(std::span(buffer).first(*got), Clock::now())
                              : server.poll(Clock::now());
    if (!out.empty() && !link.write(out)) break;
  }
  server.reset();
}

}  // namespace meter::c1218::test
