// The crash test: the meter process is killed with SIGKILL at random points more than 100 times
// and restarted each time; against a deterministic reference run, no register ever decreases and
// at most one tick of energy is lost per kill. An orderly power failure (SIGTERM) loses nothing.
#include <date/date.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Registers = std::array<std::int64_t, 12>;  // 6 x mWh, then 6 x remainder nWh

constexpr std::int64_t kTicks = 60'000;
constexpr int kKills = 120;
constexpr int kLineTimeoutMs = 10'000;

struct Line {
  std::string kind;
  std::vector<std::string> words;
  std::int64_t k = 0;
  Registers registers{};
};

Line parse(const std::string& text) {
  Line line;
  std::istringstream in(text);
  in >> line.kind;
  std::string w;
  while (in >> w) line.words.push_back(w);
  // start <state> <k> <orderly> <outage> regs... ; tick|stopped|done <k> regs...
  const std::size_t k_at = line.kind == "start" ? 1 : 0;
  const std::size_t regs_at = line.kind == "start" ? 4 : 1;
  if (line.words.size() != regs_at + 12) {
    ADD_FAILURE() << "malformed line: " << text;
    return line;
  }
  line.k = std::stoll(line.words[k_at]);
  for (std::size_t i = 0; i < 12; ++i) line.registers[i] = std::stoll(line.words[regs_at + i]);
  return line;
}

/// One run of the meter process, its stdout on a pipe.
class Child {
 public:
  Child(const fs::path& state, std::int64_t ticks) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      // meterd on the basic SKU and the crash site, until tick `ticks` (one a second from the
      // site's simulation start, 2026-06-01T04:00:00Z), tracing each tick before its commit.
      const std::string state_arg = state.string();
      const auto until = date::sys_seconds{date::sys_days{date::year{2026} / 6 / 1}} +
                         std::chrono::hours{4} + std::chrono::seconds{ticks};
      const std::string until_arg = date::format("%FT%TZ", until);
      ::execl(METER_MeterD, METER_MeterD, "--sku", METER_CRASH_SKU, "--site", METER_CRASH_SITE,
              "--state", state_arg.c_str(), "--until", until_arg.c_str(), "--trace",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(fd_);
  }

  /// The next line; nullopt at end of output. A silent child fails the test, never hangs it.
  std::optional<std::string> line() {
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string out = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return out;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, kLineTimeoutMs) <= 0) {
        ADD_FAILURE() << "the meter process printed nothing for " << kLineTimeoutMs << " ms";
        return std::nullopt;
      }
      char chunk[4096];
      const auto n = ::read(fd_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  void signal(int sig) { ::kill(pid_, sig); }
  /// Waits for the process; its exit status, or 128 + signal.
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buffer_;
};

std::int64_t exact_nwh(const Registers& r, std::size_t i) { return r[i] * 1'000'000 + r[6 + i]; }

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("crash-test-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "reference");
    fs::create_directories(root_ / "crashed");
    // The reference: one uninterrupted run.
    reference_.assign(kTicks + 1, Registers{});
    Child ref(root_ / "reference", kTicks);
    std::int64_t last = 0;
    while (auto text = ref.line()) {
      const auto l = parse(*text);
      if (l.kind == "tick") {
        ASSERT_EQ(l.k, last + 1);
        reference_[static_cast<std::size_t>(l.k)] = l.registers;
        last = l.k;
      }
    }
    ASSERT_EQ(ref.wait(), 0);
    ASSERT_EQ(last, kTicks);
  }
  void TearDown() override { fs::remove_all(root_); }

  /// Every line: equal to the reference at its tick.
  void observe(const Line& l) {
    ASSERT_GE(l.k, 0);
    ASSERT_LE(l.k, kTicks);
    EXPECT_EQ(l.registers, reference_[static_cast<std::size_t>(l.k)]) << l.kind << " " << l.k;
    last_seen_ = std::max(last_seen_, l.k);
  }

  /// What a restart restored: no register below what any earlier start restored, at most the
  /// tick in flight lost, and nothing restored that was never ticked.
  void restored(const Line& start) {
    EXPECT_GE(start.k, last_seen_ - 1);
    EXPECT_LE(start.k, last_seen_);
    for (std::size_t i = 0; i < 6; ++i) {
      ASSERT_GE(exact_nwh(start.registers, i), exact_nwh(highest_restored_, i))
          << "register " << i << " went backwards at the start at tick " << start.k;
    }
    highest_restored_ = start.registers;
    lost_ticks_ += static_cast<int>(last_seen_ - start.k);
    observe(start);
  }

  void kill_and_drain(Child& child) {
    child.signal(SIGKILL);
    EXPECT_EQ(child.wait(), 128 + SIGKILL);
    // Lines printed before the kill count as seen, read or not: they cannot be taken back.
    while (auto t = child.line()) {
      const auto l = parse(*t);
      l.kind == "start" ? restored(l) : observe(l);
    }
  }

  fs::path root_;
  std::vector<Registers> reference_;
  Registers highest_restored_{};
  std::int64_t last_seen_ = 0;
  int lost_ticks_ = 0;
};

TEST_F(CrashTest, KilledAtRandomPointsNeverGoesBackwardsAndLosesAtMostOneTickPerKill) {
  const auto began = std::chrono::steady_clock::now();
  std::mt19937 rng(20261121);
  int kills = 0;
  int fresh_starts = 0;
  for (; kills < kKills; ++kills) {
    Child child(root_ / "crashed", kTicks);
    const auto mode = rng() % 4;
    if (mode == 0) {
      // Anywhere, start-up (opening, checking, attaching) included.
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 20'000));
    } else {
      auto text = child.line();
      ASSERT_TRUE(text);
      const auto start = parse(*text);
      ASSERT_EQ(start.kind, "start");
      if (start.words[0] == "fresh") {
        ++fresh_starts;
        EXPECT_EQ(last_seen_, 0) << "a store that held energy was taken for a new meter";
      } else {
        ASSERT_EQ(start.words[0], "intact") << "kill " << kills;
      }
      restored(start);
      const auto lines = 1 + rng() % 400;
      for (std::uint32_t i = 0; i < lines; ++i) {
        auto t = child.line();
        ASSERT_TRUE(t);
        observe(parse(*t));
      }
      if (mode == 2) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2'000));
    }
    kill_and_drain(child);
    ASSERT_LT(last_seen_, kTicks) << "the run finished before it could be killed";
  }
  EXPECT_GE(kills, 100);
  EXPECT_LE(fresh_starts, 1);

  // The orderly path: SIGTERM publishes PowerFail, flushes, and the restart loses nothing.
  {
    Child child(root_ / "crashed", kTicks);
    for (int i = 0; i < 50; ++i) {
      auto t = child.line();
      ASSERT_TRUE(t);
      const auto l = parse(*t);
      l.kind == "start" ? restored(l) : observe(l);
    }
    child.signal(SIGTERM);
    std::optional<Line> stopped;
    while (auto t = child.line()) {
      const auto l = parse(*t);
      observe(l);
      if (l.kind == "stopped") stopped = l;
    }
    EXPECT_EQ(child.wait(), 0);
    ASSERT_TRUE(stopped);
    Child again(root_ / "crashed", kTicks);
    auto t = again.line();
    ASSERT_TRUE(t);
    const auto start = parse(*t);
    ASSERT_EQ(start.kind, "start");
    EXPECT_EQ(start.words[2], "1") << "the restart should see an orderly power-down";
    EXPECT_EQ(start.k, stopped->k);
    EXPECT_EQ(start.registers, stopped->registers);
    restored(start);
    kill_and_drain(again);
  }

  // To the end: the same registers as the reference run.
  {
    Child child(root_ / "crashed", kTicks);
    std::optional<Line> done;
    while (auto t = child.line()) {
      const auto l = parse(*t);
      l.kind == "start" ? restored(l) : observe(l);
      if (l.kind == "done") done = l;
    }
    EXPECT_EQ(child.wait(), 0);
    ASSERT_TRUE(done);
    EXPECT_EQ(done->k, kTicks);
    EXPECT_EQ(done->registers, reference_.back());
  }
  const auto elapsed = std::chrono::steady_clock::now() - began;
  RecordProperty("kills", kills);
  RecordProperty("ticks_lost", lost_ticks_);
  std::cout << fmt::format("{} kills, {} ticks lost in all, {} s\n", kills, lost_ticks_,
                           std::chrono::duration<double>(elapsed).count());
}

}  // namespace
