// meterd's supervision: a meter with a store runs in a child process that a small parent
// watches. Before each call into a plugin the plugin host marks which plugin it calls, in
// memory the two processes share; a watchdog thread in the child ends it when one call runs
// too long. When the child dies of a signal (a plugin that segfaults or aborts) or of the
// watchdog (a plugin that hangs), the parent starts it again from the store within a second,
// without the plugin that was being called: that plugin is refused as `crashed`, which the
// event logger records and, for a legally relevant plugin, latches the legal fault. Restarts
// are bounded; SIGTERM and SIGINT are passed on, and a child that does not stop within 2 s is
// ended (its registers were committed with its last tick). A plugin that leaks is treated as
// one that crashes: its calls' heap is counted (heap_watch.h), and past a limit the watchdog
// ends the meter and the parent starts it again without that plugin.
#pragma once

#include <csignal>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "meter/kernel/plugin_host.h"

namespace meter::apps {

/// What the supervisor and the meter share (an anonymous shared mapping made before the fork).
struct Supervision {
  static constexpr int kMaxDisabled = 8;
  kernel::CallBreadcrumb call;          ///< the host's mark of the call into a plugin
  std::atomic<int> stopping{0};         ///< the meter was asked to stop (SIGTERM, SIGINT)
  std::atomic<int> hung{0};             ///< the watchdog ended the meter
  /// The watchdog ended the meter for its memory: the heap slot of the plugin that kept it
  /// (kernel::CallBreadcrumb::heap_plugin), or -1 when no plugin's calls kept much.
  std::atomic<int> leaked_slot{-1};
  std::atomic<std::int64_t> leaked_bytes{0};  ///< what that plugin's calls kept
  std::atomic<std::int64_t> resident{0};  ///< the meter's size, when that was over its limit
  int restarts = 0;                     ///< how often the supervisor started the meter before
  int disabled = 0;                     ///< plugins the supervisor disabled, in `plugin`
  char plugin[kMaxDisabled][64] = {};
  char why[kMaxDisabled][160] = {};
};

struct SupervisorOptions {
  std::chrono::milliseconds call_limit{2000};  ///< a call into a plugin longer than this hangs
  std::chrono::milliseconds stop_limit{2000};  ///< SIGTERM to exit, at most
  int max_restarts = 5;  ///< deaths in a row, each within `healthy_run` of its start
  std::chrono::milliseconds healthy_run{60000};
  /// A plugin whose calls keep more heap than this leaks (counted by meterd's allocator).
  std::int64_t plugin_heap_limit = std::int64_t{64} << 20;
  /// A meter larger than this (resident) is ended too, whoever grew it.
  std::int64_t memory_limit = std::int64_t{256} << 20;
};

/// Runs `meter` (meterd's run, returning its exit status) in a child process and restarts it
/// as described above; returns the exit status meterd should end with. `shared` is what the
/// child's plugin host marks (see Supervision::call); `meter` reads `shared` to learn which
/// plugins to refuse. Never returns in the child.
int supervise(Supervision& shared, const SupervisorOptions& options,
              const std::function<int()>& meter);

/// The shared mapping, made once before any fork; null when it cannot be made.
Supervision* make_supervision();

/// The watchdog of the child, on a thread of its own: ends the process (status 70) when a call
/// into a plugin runs longer than the limit, or when a stop asked for is not done in time; and
/// (status 71) when a plugin's calls keep more heap than the plugin limit, or the meter grows
/// beyond its memory limit.
void start_watchdog(Supervision& shared, const SupervisorOptions& options);

/// SIGTERM and SIGINT, the signals that ask the meter to stop: held back in a new meter
/// process until run_meterd has its handlers in place.
sigset_t stop_signals() noexcept;

/// The plugins disabled so far and why, by plugin id.
std::vector<std::pair<std::string, std::string>> disabled_plugins(const Supervision& shared);

}  // namespace meter::apps
