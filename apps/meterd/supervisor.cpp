// meterd's supervisor and watchdog (see supervisor.h).
#include "supervisor.h"

#include <fmt/format.h>

#include <csignal>
#include <cstring>
#include <thread>

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace meter::apps {

namespace {

constexpr int kWatchdogExit = 70;  // EX_SOFTWARE: the watchdog ended the meter
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

}  // namespace

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
  int restarts = 0;
  for (;;) {
    shared.call.since_ms.store(0);
    shared.hung.store(0);
    const pid_t child = ::fork();
    if (child < 0) {
      fmt::print(stderr, "meterd: cannot start the meter: fork: {}\n", std::strerror(errno));
      return 1;
    }
    if (child == 0) {
      // The meter dies with its supervisor, as with a power cut.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != supervisor) ::_exit(1);
      std::signal(SIGTERM, SIG_DFL);
      std::signal(SIGINT, SIG_DFL);
      start_watchdog(shared, options);
      const int rc = meter();
      std::fflush(nullptr);
      ::_exit(rc);
    }
    g_child.store(child);
    if (shared.stopping.load() != 0) ::kill(child, SIGTERM);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    g_child.store(0);
    const bool watchdog = WIFEXITED(status) && WEXITSTATUS(status) == kWatchdogExit;
    if (WIFEXITED(status) && !watchdog) return WEXITSTATUS(status);
    if (shared.stopping.load() != 0) return watchdog ? 0 : 128 + WTERMSIG(status);
    const bool in_plugin = shared.call.since_ms.load() != 0 || shared.hung.load() != 0;
    const std::string plugin = in_plugin ? std::string(shared.call.plugin) : std::string();
    const std::string what =
        watchdog ? fmt::format("hung: a call ran longer than {} ms", options.call_limit.count())
        : !plugin.empty() ? fmt::format("killed the meter with signal {} ({})", WTERMSIG(status),
                                        strsignal(WTERMSIG(status)))
                          : fmt::format("died of signal {} ({}) outside any plugin",
                                        WTERMSIG(status), strsignal(WTERMSIG(status)));
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
