// meterd's supervisor and watchdog (see supervisor.h).
#include "supervisor.h"

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <tuple>
#include <thread>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace meter::apps {

namespace {

constexpr int kWatchdogExit = 70;  // EX_SOFTWARE: the watchdog ended the meter
constexpr int kMemoryExit = 71;    // EX_OSERR: the watchdog ended the meter for its memory
constexpr std::int64_t kMiB = std::int64_t{1} << 20;
std::atomic<pid_t> g_child{0};
Supervision* g_shared = nullptr;

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

extern "C" void pass_on(int sig) {
  if (g_shared != nullptr) g_shared->stopping.store(1);
  if (const pid_t child = g_child.load(); child > 0) ::kill(child, sig);
}

void copy(char* to, std::size_t size, const std::string& from) {
  const auto n = std::min(from.size(), size - 1);
  std::memcpy(to, from.data(), n);
  to[n] = '\0';
}

/// The process's resident size in bytes, from /proc/self/statm; 0 when it cannot be read.
/// No allocation: the watchdog reads it while the heap may be what is failing.
std::int64_t resident_bytes() noexcept {
  const int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char text[128];
  const ssize_t n = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (n <= 0) return 0;
  text[n] = '\0';
  long long pages_total = 0;
  long long pages_resident = 0;
  if (std::sscanf(text, "%lld %lld", &pages_total, &pages_resident) != 2) return 0;
  return pages_resident * ::sysconf(_SC_PAGESIZE);
}

/// The heap slot whose plugin's calls keep the most, if that is at least `floor` bytes.
int largest_heap(const kernel::CallBreadcrumb& call, std::int64_t floor) noexcept {
  int largest = -1;
  for (int s = 0; s < kernel::CallBreadcrumb::kHeapSlots; ++s) {
    const auto bytes = call.heap_bytes[s].load(std::memory_order_relaxed);
    if (bytes >= floor) {
      floor = bytes;
      largest = s;
    }
  }
  return largest;
}

[[noreturn]] void end_for_memory(Supervision& shared, int slot, std::int64_t bytes) noexcept {
  shared.leaked_slot.store(slot);
  shared.leaked_bytes.store(bytes);
  ::_exit(kMemoryExit);
}

double mib(std::int64_t bytes) noexcept { return static_cast<double>(bytes) / kMiB; }

/// Why the watchdog ended the meter for its memory, and whose fault it was ("" for nobody's).
std::pair<std::string, std::string> memory_finding(const Supervision& shared,
                                                   const SupervisorOptions& options) {
  const int slot = shared.leaked_slot.load();
  const auto kept = shared.leaked_bytes.load();
  const auto resident = shared.resident.load();
  const std::string plugin =
      slot >= 0 && slot < kernel::CallBreadcrumb::kHeapSlots ? shared.call.heap_plugin[slot] : "";
  if (resident == 0) {
    return {plugin, fmt::format("leaked: its calls kept {:.1f} MiB of heap (limit {} MiB)",
                                mib(kept), options.plugin_heap_limit / kMiB)};
  }
  const auto grew = fmt::format("the meter grew to {:.1f} MiB (limit {} MiB)", mib(resident),
                                options.memory_limit / kMiB);
  if (plugin.empty()) return {"", grew + " outside any plugin's calls"};
  return {plugin, fmt::format("leaked: {}, {:.1f} MiB of it kept by this plugin's calls", grew,
                              mib(kept))};
}

}  // namespace

sigset_t stop_signals() noexcept {
  sigset_t stops;
  sigemptyset(&stops);
  sigaddset(&stops, SIGTERM);
  sigaddset(&stops, SIGINT);
  return stops;
}

Supervision* make_supervision() {
  void* memory = ::mmap(nullptr, sizeof(Supervision), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return nullptr;
  return new (memory) Supervision();
}

std::vector<std::pair<std::string, std::string>> disabled_plugins(const Supervision& shared) {
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < shared.disabled; ++i) out.emplace_back(shared.plugin[i], shared.why[i]);
  return out;
}

void start_watchdog(Supervision& shared, const SupervisorOptions& options) {
  std::thread([&shared, options] {
    std::int64_t stop_seen = 0;
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const auto now = steady_ms();
      const auto since = shared.call.since_ms.load(std::memory_order_acquire);
      if (since != 0 && now - since > options.call_limit.count()) {
        shared.hung.store(1);
        ::_exit(kWatchdogExit);
      }
      for (int s = 0; s < kernel::CallBreadcrumb::kHeapSlots; ++s) {
        const auto kept = shared.call.heap_bytes[s].load(std::memory_order_relaxed);
        if (kept > options.plugin_heap_limit) end_for_memory(shared, s, kept);
      }
      if (const auto size = resident_bytes(); size > options.memory_limit) {
        const int slot = largest_heap(shared.call, size / 4);
        shared.resident.store(size);
        end_for_memory(shared, slot, slot >= 0 ? shared.call.heap_bytes[slot].load() : 0);
      }
      if (shared.stopping.load() != 0) {
        if (stop_seen == 0) stop_seen = now;
        // Every tick was committed as it was metered: ending here loses no energy.
        if (now - stop_seen > options.stop_limit.count() - 200) ::_exit(kWatchdogExit);
      }
    }
  }).detach();
}

int supervise(Supervision& shared, const SupervisorOptions& options,
              const std::function<int()>& meter) {
  g_shared = &shared;
  const pid_t supervisor = ::getpid();
  std::signal(SIGTERM, pass_on);
  std::signal(SIGINT, pass_on);
  int restarts = 0;  // deaths in a row
  int starts = 0;
  for (;;) {
    // A new process: nothing called, nothing kept.
    shared.call.since_ms.store(0);
    shared.call.slot.store(-1);
    for (int s = 0; s < kernel::CallBreadcrumb::kHeapSlots; ++s) {
      shared.call.heap_bytes[s].store(0);
      shared.call.heap_plugin[s][0] = '\0';
    }
    shared.hung.store(0);
    shared.leaked_slot.store(-1);
    shared.leaked_bytes.store(0);
    shared.resident.store(0);
    shared.restarts = starts++;
    const pid_t child = ::fork();
    if (child < 0) {
      fmt::print(stderr, "meterd: cannot start the meter: fork: {}\n", std::strerror(errno));
      return 1;
    }
    if (child == 0) {
      // The meter dies with its supervisor, as with a power cut.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != supervisor) ::_exit(1);
      // Held back until the meter has its own handlers (run_meterd): a stop asked for while
      // it starts is an orderly power-down, not a death by signal.
      const sigset_t stops = stop_signals();
      ::sigprocmask(SIG_BLOCK, &stops, nullptr);
      std::signal(SIGTERM, SIG_DFL);
      std::signal(SIGINT, SIG_DFL);
      start_watchdog(shared, options);
      const int rc = meter();
      std::fflush(nullptr);
      ::_exit(rc);
    }
    g_child.store(child);
    if (shared.stopping.load() != 0) ::kill(child, SIGTERM);
    const auto started = steady_ms();
    int status = 0;
    for (;;) {
      if (::waitpid(child, &status, WUNTRACED) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (!WIFSTOPPED(status)) break;
      // A stopped meter meters nothing and answers nobody: it goes on at once. (The chip kept
      // counting; the next tick books it.)
      fmt::print(stderr, "meterd: the meter was stopped ({}); it goes on\n",
                 strsignal(WSTOPSIG(status)));
      ::kill(child, SIGCONT);
    }
    g_child.store(0);
    // A meter that ran a while before it died is not in a restart loop: the bound is on
    // deaths in a row, not in a lifetime.
    if (steady_ms() - started >= options.healthy_run.count()) restarts = 0;
    const bool watchdog = WIFEXITED(status) && WEXITSTATUS(status) == kWatchdogExit;
    const bool memory = WIFEXITED(status) && WEXITSTATUS(status) == kMemoryExit;
    if (WIFEXITED(status) && !watchdog && !memory) return WEXITSTATUS(status);
    if (shared.stopping.load() != 0) {
      if (watchdog && shared.call.since_ms.load() != 0) {
        fmt::print(stderr, "meterd: plugin {} hung the meter while it stopped; its last tick was "
                           "committed\n",
                   shared.call.plugin);
      }
      return watchdog || memory ? 0 : 128 + WTERMSIG(status);
    }
    std::string plugin;
    std::string what;
    if (memory) {
      std::tie(plugin, what) = memory_finding(shared, options);
    } else {
      const bool in_plugin = shared.call.since_ms.load() != 0 || shared.hung.load() != 0;
      if (in_plugin) plugin = shared.call.plugin;
      what = watchdog ? fmt::format("hung: a call ran longer than {} ms",
                                    options.call_limit.count())
             : !plugin.empty() ? fmt::format("killed the meter with signal {} ({})",
                                             WTERMSIG(status), strsignal(WTERMSIG(status)))
                               : fmt::format("died of signal {} ({}) outside any plugin",
                                             WTERMSIG(status), strsignal(WTERMSIG(status)));
    }
    if (++restarts > options.max_restarts) {
      fmt::print(stderr, "meterd: the meter died {} times ({}); giving up\n", restarts, what);
      return 1;
    }
    if (!plugin.empty() && shared.disabled < Supervision::kMaxDisabled) {
      copy(shared.plugin[shared.disabled], sizeof shared.plugin[0], plugin);
      copy(shared.why[shared.disabled], sizeof shared.why[0], what);
      ++shared.disabled;
      fmt::print(stderr, "meterd: plugin {} {}; the meter starts again without it\n", plugin, what);
    } else {
      fmt::print(stderr, "meterd: the meter {}; it starts again from its store\n", what);
    }
  }
}

}  // namespace meter::apps
