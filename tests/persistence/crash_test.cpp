// The crash tests: the meter process is killed with SIGKILL at random points more than 100 times
// and restarted each time; against a deterministic reference run, no register ever decreases and
// at most one tick of energy is lost per kill. An orderly power failure (SIGTERM) loses nothing.
// The basic product runs supervised; the billing product (tou, demand, prepaid) runs in one
// process, and after every restart its plugins' billing registers must add up to the kernel's.
#include <date/date.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Registers = std::array<std::int64_t, 12>;  // 6 x mWh, then 6 x remainder nWh

// Enough for every kill: each advances by the lines read plus what fits in the pipe (~1300).
constexpr std::int64_t kTicks = 250'000;
constexpr int kKills = 120;
constexpr int kLineTimeoutMs = 10'000;

/// What meterd runs: the product, the site, and whether a supervisor runs the meter.
struct Product {
  const char* sku;
  const char* site;
  bool supervised;
};
constexpr Product kBasic{METER_CRASH_SKU, METER_CRASH_SITE, true};
constexpr Product kBilling{METER_BILLING_SKU, METER_BILLING_SITE, false};

struct Line {
  std::string kind;
  std::vector<std::string> words;
  std::int64_t k = 0;
  Registers registers{};
  std::map<std::string, std::int64_t> objects;  // an objects line: OBIS code -> value
};

Line parse(const std::string& text) {
  Line line;
  std::istringstream in(text);
  in >> line.kind;
  std::string w;
  while (in >> w) line.words.push_back(w);
  // objects <k> <obis>=<int>... (the plugins' integer objects, after start and before the end)
  if (line.kind == "objects") {
    if (line.words.empty()) {
      ADD_FAILURE() << "malformed line: " << text;
      return line;
    }
    line.k = std::stoll(line.words[0]);
    for (std::size_t i = 1; i < line.words.size(); ++i) {
      const auto eq = line.words[i].find('=');
      if (eq == std::string::npos) {
        ADD_FAILURE() << "malformed object " << line.words[i] << " in: " << text;
        continue;
      }
      line.objects[line.words[i].substr(0, eq)] = std::stoll(line.words[i].substr(eq + 1));
    }
    return line;
  }
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
  Child(const fs::path& state, std::int64_t ticks, const Product& product = kBasic) {
    // meterd on the product and its site, until tick `ticks` (one a second from the sites'
    // simulation start, 2026-06-01T04:00:00Z), tracing each tick before its commit.
    const auto until = date::sys_seconds{date::sys_days{date::year{2026} / 6 / 1}} +
                       std::chrono::hours{4} + std::chrono::seconds{ticks};
    std::vector<std::string> args = {METER_MeterD,   "--sku",      product.sku,
                                     "--site",       product.site, "--state",
                                     state.string(), "--until",    date::format("%FT%TZ", until),
                                     "--trace"};
    if (!product.supervised) args.emplace_back("--no-supervisor");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      ::execv(METER_MeterD, argv.data());
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

std::int64_t exact_nwh(const Registers& r, std::size_t i) {
  return r[i] * 1'000'000 + r[6 + i];
}

/// Removes the shared-memory journals a state folder's killed meters left:
/// /dev/shm/meterd-<id>-<st_dev hex>-<st_ino hex>. Only this folder's, found by its inode.
void forget_journals(const fs::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return;
  const auto suffix = fmt::format("-{:x}-{:x}", static_cast<std::uint64_t>(st.st_dev),
                                  static_cast<std::uint64_t>(st.st_ino));
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/dev/shm", ec)) {
    const auto name = e.path().filename().string();
    if (name.starts_with("meterd-") && name.ends_with(suffix)) fs::remove(e.path(), ec);
  }
}

class CrashTest : public ::testing::Test {
 protected:
  explicit CrashTest(const Product& product = kBasic, std::int64_t ticks = kTicks,
                     std::string name = "crash-test")
      : product_(product), ticks_(ticks), name_(std::move(name)) {}

  void SetUp() override {
    root_ = fs::temp_directory_path() / (name_ + "-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "reference");
    fs::create_directories(root_ / "crashed");
    // The reference: one uninterrupted run.
    reference_.assign(static_cast<std::size_t>(ticks_) + 1, Registers{});
    Child ref(root_ / "reference", ticks_, product_);
    std::int64_t last = 0;
    while (auto text = ref.line()) {
      const auto l = parse(*text);
      if (l.kind == "tick") {
        ASSERT_EQ(l.k, last + 1);
        reference_[static_cast<std::size_t>(l.k)] = l.registers;
        last = l.k;
      } else if (l.kind == "objects") {
        reference_objects_ = l.objects;  // the last: the end's
      }
    }
    ASSERT_EQ(ref.wait(), 0);
    ASSERT_EQ(last, ticks_);
  }
  void TearDown() override {
    forget_journals(root_ / "reference");
    forget_journals(root_ / "crashed");
    fs::remove_all(root_);
  }

  /// Every line: equal to the reference at its tick.
  void observe(const Line& l) {
    if (l.kind == "objects") return;
    ASSERT_GE(l.k, 0);
    ASSERT_LE(l.k, ticks_);
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

  /// The objects line that follows a start: what the plugins restored.
  virtual void restored_objects(const Line& /*start*/, const Line& /*objects*/) {}

  /// Any line, in order: a start is checked as a restart, the objects line right after it as
  /// what the plugins restored, an objects line before the end is kept in end_objects_.
  void seen(const Line& l) {
    if (l.kind == "start") {
      restored(l);
      pending_start_ = l;
      return;
    }
    if (l.kind == "objects") {
      if (pending_start_ && pending_start_->k == l.k) {
        restored_objects(*pending_start_, l);
      } else {
        end_objects_ = l.objects;
      }
      pending_start_.reset();
      return;
    }
    pending_start_.reset();
    observe(l);
  }

  void kill_and_drain(Child& child) {
    child.signal(SIGKILL);
    EXPECT_EQ(child.wait(), 128 + SIGKILL);
    // Lines printed before the kill count as seen, read or not: they cannot be taken back.
    while (auto t = child.line()) seen(parse(*t));
    pending_start_.reset();
  }

  Product product_;
  std::int64_t ticks_;
  std::string name_;
  fs::path root_;
  std::vector<Registers> reference_;
  std::map<std::string, std::int64_t> reference_objects_;
  std::map<std::string, std::int64_t> end_objects_;
  std::optional<Line> pending_start_;
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
    Child child(root_ / "crashed", ticks_, product_);
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
    Child child(root_ / "crashed", ticks_, product_);
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
    Child again(root_ / "crashed", ticks_, product_);
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
    Child child(root_ / "crashed", ticks_, product_);
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

// The billing product: the kernel's registers as above, and the plugins' billing registers,
// read from the objects line after every start: the TOU rates add up to +A and -A exactly, the
// prepaid account to +A at its price, and no billing register goes back.
constexpr std::int64_t kBillingTicks = 4 * 86'400;
constexpr std::int64_t kPricePerKwh = 13'200;  // billing-site.toml, milli-cents per kWh
constexpr std::int64_t kCommissioningCredit = 100'000'000;  // 1000.00 USD in milli-cents
constexpr std::array<const char*, 18> kRising = {
    "1-0:1.8.1", "1-0:1.8.2", "1-0:1.8.3",    "1-0:1.8.4",     "1-0:2.8.1",    "1-0:2.8.2",
    "1-0:2.8.3", "1-0:2.8.4", "0-0:128.30.1", "0-0:128.30.14", "0-0:128.32.1", "0-0:128.34.1",
    "1-0:1.6.0", "1-0:1.6.3", "1-0:1.2.0",    "1-0:1.2.3",     "1-0:1.3.0",    "1-0:1.3.3"};
constexpr std::array<const char*, 2> kFalling = {"0-0:128.30.0", "1-0:0.1.0"};

class BillingCrashTest : public CrashTest {
 protected:
  BillingCrashTest() : CrashTest(kBilling, kBillingTicks, "billing-crash-test") {}

  std::int64_t get(const std::map<std::string, std::int64_t>& objects, const std::string& obis) {
    const auto it = objects.find(obis);
    if (it != objects.end()) return it->second;
    problem("missing object", fmt::format("object {} is missing from the objects line", obis));
    return 0;
  }
  /// A finding of one kind: counted, and the first few of each kind kept to show.
  void problem(const std::string& kind, const std::string& what) {
    ++problems_;
    auto& [count, examples] = findings_[kind];
    ++count;
    if (examples.size() < 3) examples.push_back(fmt::format("restart {}: {}", restarts_, what));
  }
  std::string findings() const {
    std::string out;
    for (const auto& [kind, finding] : findings_) {
      out += fmt::format("\n  {} x {}, first:", finding.first, kind);
      for (const auto& e : finding.second) out += "\n    " + e;
    }
    return out;
  }

  void restored_objects(const Line& start, const Line& l) override {
    ++restarts_;
    const auto& o = l.objects;
    const auto a = start.registers[0];
    const auto e = start.registers[1];
    const auto imp =
        get(o, "1-0:1.8.1") + get(o, "1-0:1.8.2") + get(o, "1-0:1.8.3") + get(o, "1-0:1.8.4");
    const auto exp =
        get(o, "1-0:2.8.1") + get(o, "1-0:2.8.2") + get(o, "1-0:2.8.3") + get(o, "1-0:2.8.4");
    if (imp != a) {
      problem("TOU import rates not +A",
              fmt::format("tick {}: TOU import rates sum to {} mWh, +A is {} mWh", l.k, imp, a));
    }
    if (exp != e) {
      problem("TOU export rates not -A",
              fmt::format("tick {}: TOU export rates sum to {} mWh, -A is {} mWh", l.k, exp, e));
    }
    const auto debited = get(o, "0-0:128.30.14");
    if (get(o, "0-0:128.32.1") != a) {
      problem("prepaid energy not +A", fmt::format("tick {}: prepaid billed {} mWh, +A is {} mWh",
                                                   l.k, get(o, "0-0:128.32.1"), a));
    }
    if (debited != a * kPricePerKwh / 1'000'000 || get(o, "0-0:128.34.1") != debited ||
        get(o, "0-0:128.30.0") != kCommissioningCredit - debited) {
      problem(
          "prepaid money not +A at the price",
          fmt::format("tick {}: prepaid debited {} (on grid {}), credit {}; +A at the price is {}",
                      l.k, debited, get(o, "0-0:128.34.1"), get(o, "0-0:128.30.0"),
                      a * kPricePerKwh / 1'000'000));
    }
    if (!previous_.empty()) {
      for (const char* obis : kRising) {
        if (get(o, obis) < get(previous_, obis)) {
          problem(fmt::format("{} went back", obis),
                  fmt::format("tick {}: {} went back from {} to {}", l.k, obis,
                              get(previous_, obis), get(o, obis)));
        }
      }
      for (const char* obis : kFalling) {
        if (get(o, obis) > get(previous_, obis)) {
          problem(fmt::format("{} rose", obis),
                  fmt::format("tick {}: {} rose from {} to {}", l.k, obis, get(previous_, obis),
                              get(o, obis)));
        }
      }
    }
    previous_ = o;
  }

  /// The billing objects that differ between two objects lines, "obis a -> b" each.
  std::string differences(const std::map<std::string, std::int64_t>& a,
                          const std::map<std::string, std::int64_t>& b) {
    std::string out;
    for (const auto* list : {kRising.data(), kFalling.data()}) {
      const auto n = list == kRising.data() ? kRising.size() : kFalling.size();
      for (std::size_t i = 0; i < n; ++i) {
        if (get(a, list[i]) != get(b, list[i])) {
          out += fmt::format(" {} {} -> {};", list[i], get(a, list[i]), get(b, list[i]));
        }
      }
    }
    return out;
  }

  std::map<std::string, std::int64_t> previous_;
  int restarts_ = 0;
  int problems_ = 0;
  std::map<std::string, std::pair<int, std::vector<std::string>>> findings_;
};

TEST_F(BillingCrashTest, KilledAtRandomPointsTheBillingRegistersAddUpAndNeverGoBackwards) {
  const auto began = std::chrono::steady_clock::now();
  std::mt19937 rng(20261202);
  int kills = 0;
  int fresh_starts = 0;
  for (; kills < kKills; ++kills) {
    Child child(root_ / "crashed", ticks_, product_);
    const auto mode = rng() % 4;
    if (mode == 0) {
      // Anywhere, start-up (configuration, plugins, store, commissioning) included.
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 150'000));
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
      seen(start);
      if (mode == 3) {
        // A random delay: the meter runs on (until the unread pipe holds it back).
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 30'000));
      } else {
        const auto lines = 1 + rng() % 2'000;
        for (std::uint32_t i = 0; i < lines; ++i) {
          auto t = child.line();
          ASSERT_TRUE(t);
          seen(parse(*t));
        }
        if (mode == 2) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2'000));
      }
    }
    kill_and_drain(child);
    ASSERT_LT(last_seen_, ticks_) << "the run finished before it could be killed";
  }
  EXPECT_GE(kills, 100);
  EXPECT_LE(fresh_starts, 1);
  EXPECT_GE(restarts_, kills / 2) << "too few restarts got as far as their objects line";
  const auto covered = last_seen_;

  // The orderly path: after SIGTERM, the restart has every billing register as it was.
  {
    Child child(root_ / "crashed", ticks_, product_);
    for (int i = 0; i < 500; ++i) {
      auto t = child.line();
      ASSERT_TRUE(t);
      seen(parse(*t));
    }
    child.signal(SIGTERM);
    std::optional<Line> stopped;
    end_objects_.clear();
    while (auto t = child.line()) {
      const auto l = parse(*t);
      seen(l);
      if (l.kind == "stopped") stopped = l;
    }
    EXPECT_EQ(child.wait(), 0);
    ASSERT_TRUE(stopped);
    ASSERT_FALSE(end_objects_.empty()) << "no objects line before the stop";
    const auto at_stop = end_objects_;
    Child again(root_ / "crashed", ticks_, product_);
    auto t = again.line();
    ASSERT_TRUE(t);
    const auto start = parse(*t);
    ASSERT_EQ(start.kind, "start");
    EXPECT_EQ(start.words[2], "1") << "the restart should see an orderly power-down";
    EXPECT_EQ(start.k, stopped->k);
    EXPECT_EQ(start.registers, stopped->registers);
    seen(start);
    t = again.line();
    ASSERT_TRUE(t);
    const auto objects = parse(*t);
    ASSERT_EQ(objects.kind, "objects");
    seen(objects);
    EXPECT_EQ(differences(at_stop, objects.objects), "")
        << "billing registers changed across an orderly stop";
    kill_and_drain(again);
  }

  // To the end: the kernel's registers and the plugins' billing registers as in the reference.
  {
    Child child(root_ / "crashed", ticks_, product_);
    std::optional<Line> done;
    end_objects_.clear();
    while (auto t = child.line()) {
      const auto l = parse(*t);
      seen(l);
      if (l.kind == "done") done = l;
    }
    EXPECT_EQ(child.wait(), 0);
    ASSERT_TRUE(done);
    EXPECT_EQ(done->k, ticks_);
    EXPECT_EQ(done->registers, reference_.back());
    EXPECT_EQ(differences(reference_objects_, end_objects_), "")
        << "the billing registers at the end differ from the uninterrupted run's";
  }
  EXPECT_EQ(problems_, 0) << problems_ << " problem(s) in " << restarts_
                          << " restarts:" << findings();
  const auto elapsed = std::chrono::steady_clock::now() - began;
  RecordProperty("kills", kills);
  RecordProperty("ticks_lost", lost_ticks_);
  std::cout << fmt::format(
      "{} kills up to tick {}, {} restarts checked, {} ticks lost in all, {} s\n", kills, covered,
      restarts_, lost_ticks_, std::chrono::duration<double>(elapsed).count());
}

}  // namespace
