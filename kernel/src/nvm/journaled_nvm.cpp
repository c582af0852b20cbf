// The meter's store in a state folder: the tick journal, the SQLite file and the board.
#include "meter/kernel/journaled_nvm.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "detail/tick_journal.h"

namespace meter::kernel {

namespace {

constexpr const char* kInternal = "nvm";
constexpr const char* kGenerationKey = "generation";
constexpr const char* kIdentityKey = "identity";
constexpr const char* kLegalKey = "legal_fault";
constexpr const char* kNewStoreFile = "meter.db.new";
// The namespaces whose every record is billing: the kernel's registers, clock and test LED,
// the parameter gate's counters and seals, and the board's own (the latched fault).
constexpr std::array<const char*, 3> kBillingNamespaces = {"kernel", "kernel.seal", "board"};

std::string stamp() {
  const auto now = std::chrono::system_clock::now();
  const auto t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &tm);
  return text;
}

/// The journal of this meter in this folder: the identity says whose, the folder's device and
/// inode say which copy of the folder (a copy of a state folder is not the same meter running).
std::string journal_name(const std::filesystem::path& dir, const MeterIdentity& id) {
  struct stat st {};
  ::stat(dir.c_str(), &st);
  std::string hex;
  for (std::size_t i = 0; i < 8; ++i) hex += fmt::format("{:02x}", id[i]);
  return fmt::format("/meterd-{}-{:x}-{:x}", hex, static_cast<std::uint64_t>(st.st_dev),
                     static_cast<std::uint64_t>(st.st_ino));
}

void remove_store_files(const std::filesystem::path& dir, const char* name) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::filesystem::remove(dir / (std::string(name) + suffix), ec);
  }
}

Result<void> sync_dir(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(fmt::format("{}: {}", dir.string(), std::strerror(errno)));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return fail(fmt::format("{}: fsync: {}", dir.string(), std::strerror(errno)));
  return {};
}

std::string name_of(std::string_view ns, std::string_view key) {
  std::string n(ns);
  n.push_back('\0');
  n.append(key);
  return n;
}

/// Later writes win: `over` replaces or adds to `base` key by key.
void overlay(std::vector<NvmWrite>& base, const std::vector<NvmWrite>& over) {
  for (const auto& w : over) {
    auto it = std::find_if(base.begin(), base.end(), [&](const NvmWrite& b) {
      return b.name_space == w.name_space && b.key == w.key;
    });
    if (it == base.end()) {
      base.push_back(w);
    } else {
      it->value = w.value;
    }
  }
}

std::optional<std::uint64_t> generation_of(const SqliteNvmStore& db) {
  auto v = db.get(kInternal, kGenerationKey);
  if (!v || !*v) return std::nullopt;
  if (const auto* g = std::get_if<std::uint64_t>(&**v)) return *g;
  return std::nullopt;
}

bool has_registers(const SqliteNvmStore& db) {
  auto v = db.get("kernel", "registers");
  return v && v->has_value();
}

}  // namespace

JournaledNvmStore::JournaledNvmStore(std::filesystem::path dir, JournaledNvmOptions options)
    : dir_(std::move(dir)), options_(options) {}

JournaledNvmStore::~JournaledNvmStore() {
  // An orderly power-down flushed everything: the journal holds nothing the store lacks.
  if (clean_ && journal_) {
    const auto name = journal_->name();
    journal_.reset();
    detail::TickJournal::remove(name);
  }
}

void JournaledNvmStore::remove_new(const std::filesystem::path& dir) {
  if (auto board = BoardNvm::open(dir); board && (*board)->keyed()) {
    detail::TickJournal::remove(journal_name(dir, (*board)->identity()));
  }
  BoardNvm::remove(dir);
  remove_store_files(dir, kStoreFile);
  remove_store_files(dir, kNewStoreFile);
  std::error_code ec;
  std::filesystem::remove(dir / kReserveFile, ec);
}

Result<std::unique_ptr<JournaledNvmStore>> JournaledNvmStore::open(const std::filesystem::path& dir,
                                                                   JournaledNvmOptions options) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return fail(fmt::format("state folder {} does not exist", dir.string()));
  }
  std::unique_ptr<JournaledNvmStore> s(new JournaledNvmStore(dir, options));
  auto board = BoardNvm::open(dir);
  if (!board) return board.error();
  s->board_ = std::move(*board);
  remove_store_files(dir, kNewStoreFile);  // a store being created when the process died
  auto r = s->board_->keyed() ? s->open_in_service() : s->commission();
  if (!r) return r.error();
  // The reserve: made at commissioning, given back when the disk fills, made again when it can.
  const auto reserve = dir / kReserveFile;
  if (!std::filesystem::exists(reserve, ec) && options.reserve_bytes > 0) {
    const int fd = ::open(reserve.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
      const bool made = ::posix_fallocate(fd, 0, static_cast<off_t>(options.reserve_bytes)) == 0;
      ::close(fd);
      if (!made) std::filesystem::remove(reserve, ec);
    }
  }
  return s;
}

Result<void> JournaledNvmStore::commission() {
  const auto path = dir_ / kStoreFile;
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && std::filesystem::file_size(path, ec) > 0) {
    auto probe = SqliteNvmStore::open(path);
    if (!probe || (*probe)->health().state != NvmState::fresh) {
      return fail(fmt::format(
          "state folder {} holds a meter store ({}) but no board key ({}): it is not this "
          "meter's store, and a store is never adopted by a new board; move it away to start a "
          "new meter, or put the board's files back beside it",
          dir_.string(), kStoreFile, "board.key"));
    }
  }
  remove_store_files(dir_, kStoreFile);
  if (auto r = board_->commission(); !r) return r;
  if (auto r = create_store(0); !r) return r;
  auto journal = detail::TickJournal::open(journal_name(dir_, board_->identity()));
  if (!journal) return journal.error();
  journal_ = std::move(*journal);
  if (auto r = journal_->reset(board_->identity(), 0, {}); !r) return r;
  health_ = {NvmState::fresh, {}, {}};
  finding_ = "fresh: a new meter, commissioned";
  return {};
}

Result<void> JournaledNvmStore::create_store(std::uint64_t generation) {
  // Made whole under another name and renamed: a kill at any moment leaves no store or this one.
  const auto tmp = dir_ / kNewStoreFile;
  remove_store_files(dir_, kNewStoreFile);
  {
    auto fresh = SqliteNvmStore::open(tmp, {.count_writes = false, .key = board_->key()});
    if (!fresh) return fresh.error();
    const std::vector<std::uint8_t> id(board_->identity().begin(), board_->identity().end());
    if (auto r = (*fresh)->apply({{kInternal, kIdentityKey, Value{id}},
                                  {kInternal, kGenerationKey, Value{generation}}});
        !r) {
      return r;
    }
    if (auto r = (*fresh)->flush(); !r) return r;
  }  // closed: the write-ahead log is checkpointed into the file and removed
  std::error_code ec;
  std::filesystem::rename(tmp, dir_ / kStoreFile, ec);
  if (ec) return fail(fmt::format("store {}: {}", (dir_ / kStoreFile).string(), ec.message()));
  if (auto r = sync_dir(dir_); !r) return r;
  generation_ = store_generation_ = generation;
  return open_store();
}

Result<void> JournaledNvmStore::open_store() {
  db_.reset();
  auto db = SqliteNvmStore::open(dir_ / kStoreFile,
                                 {.count_writes = options_.count_writes, .key = board_->key()});
  if (!db) return db.error();
  db_ = std::move(*db);
  return {};
}

void JournaledNvmStore::move_aside(const std::string& why) {
  db_.reset();
  std::error_code ec;
  const auto from = dir_ / kStoreFile;
  if (!std::filesystem::exists(from, ec)) return;
  const auto to = dir_ / fmt::format("{}.{}-{}", kStoreFile, why, stamp());
  std::filesystem::rename(from, to, ec);
  for (const char* suffix : {"-wal", "-shm"}) {
    std::filesystem::rename(dir_ / (std::string(kStoreFile) + suffix),
                            dir_ / (to.filename().string() + suffix), ec);
  }
}

Result<void> JournaledNvmStore::open_in_service() {
  const auto path = dir_ / kStoreFile;
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec) && std::filesystem::file_size(path, ec) > 0;
  std::string damage;
  std::optional<std::uint64_t> db_gen;
  bool registers = false;
  bool unwritable = false;
  if (exists) {
    if (auto r = open_store(); !r) return r;
    const auto h = db_->health();
    unwritable = db_->unwritable();
    if (h.state == NvmState::damaged && !unwritable) damage = h.detail;
    db_gen = generation_of(*db_);
    registers = has_registers(*db_);
  }
  auto journal = detail::TickJournal::open(journal_name(dir_, board_->identity()));
  if (!journal) return journal.error();
  journal_ = std::move(*journal);
  const auto left = journal_->found();
  const bool ours = left && left->meter == board_->identity();
  const auto& copy = board_->latest();

  if (!copy) {
    // Commissioning began and never reached its first flush: a store the first start wrote
    // whole (it authenticates, it holds registers) is adopted; anything else starts anew.
    if (exists && damage.empty() && !unwritable && registers && db_gen) {
      generation_ = store_generation_ = *db_gen;
      std::vector<NvmWrite> carried;
      if (ours && left->base_generation + 1 >= *db_gen) carried = left->writes;
      health_ = {NvmState::intact, {}, {}};
      finding_ = "intact: the first start's store";
      return journal_->reset(board_->identity(), store_generation_, carried);
    }
    move_aside("incomplete");
    if (auto r = create_store(0); !r) return r;
    health_ = {NvmState::fresh, {}, {}};
    finding_ = "fresh: a new meter, commissioned";
    return journal_->reset(board_->identity(), 0, {});
  }

  const auto& c = *copy;
  std::string legal;
  std::string aside;
  if (!exists) {
    legal = "the store is missing (deleted, or emptied to nothing)";
    aside = "missing";
  } else if (!damage.empty()) {
    aside = "damaged";
    if (damage.find("authenticates") != std::string::npos) legal = damage;
  } else if (unwritable) {
    // Sound but not writable: kept, read; every flush tries again.
  } else if (!registers) {
    legal = "the store holds no registers (its records were deleted, or it was replaced)";
    aside = "emptied";
  } else if (!db_gen) {
    legal = "the store carries no generation: this meter did not write it";
    aside = "foreign";
  } else if (*db_gen < c.store_generation) {
    legal = fmt::format("the store is generation {}, older than the {} the board saw written: an "
                        "older copy was put back", *db_gen, c.store_generation);
    aside = "rolled-back";
  } else if (*db_gen > c.generation + 1) {
    legal = fmt::format("the store is generation {}, newer than the board's {}: the board's copy "
                        "was put back", *db_gen, c.generation);
  }

  // What to carry on from, lowest trust first: the store's authenticated records, the board's
  // copy where it is newer, the journal a killed process left.
  std::vector<NvmWrite> carried;
  const bool db_usable = exists && aside.empty();
  if (!aside.empty() && db_) carried = db_->records();
  if (!db_usable || !db_gen || c.generation > *db_gen) overlay(carried, c.records);
  if (ours && left->base_generation >= c.store_generation &&
      (!db_usable || !db_gen || left->base_generation + 1 >= *db_gen)) {
    overlay(carried, left->writes);
  }
  for (const auto& w : c.records) {  // the board's notion of which records are billing
    tick_keys_.insert(name_of(w.name_space, w.key));
  }
  // A fault latched before stays latched; a new one joins it.
  std::string latched;
  auto latched_in = [&](const std::vector<NvmWrite>& records) {
    for (const auto& w : records) {
      if (w.name_space == kBoardNamespace && w.key == kLegalKey && w.value) {
        if (const auto* t = std::get_if<std::string>(&*w.value)) latched = *t;
      }
    }
  };
  if (db_ && db_usable) {
    if (auto v = db_->get(kBoardNamespace, kLegalKey); v && *v) {
      if (const auto* t = std::get_if<std::string>(&**v)) latched = *t;
    }
  }
  latched_in(c.records);
  latched_in(carried);
  if (!legal.empty()) {
    latched = latched.empty() ? legal : latched + "; " + legal;
    overlay(carried, {{kBoardNamespace, kLegalKey, Value{latched}}});
  }

  const auto generation = std::max(db_gen.value_or(0), c.generation);
  if (!aside.empty()) {
    move_aside(aside);
    if (auto r = create_store(generation); !r) return r;
  } else {
    generation_ = std::max(db_gen.value_or(0), c.generation);
    store_generation_ = db_gen.value_or(c.store_generation);
  }
  health_ = {aside.empty() && !unwritable ? NvmState::intact : NvmState::damaged,
             !damage.empty() ? damage
             : unwritable    ? db_->health().detail
             : !legal.empty() ? legal
                              : std::string(),
             latched};
  if (health_.state == NvmState::intact && !latched.empty()) health_.detail = latched;
  finding_ = health_.state == NvmState::intact ? "intact" : fmt::format("damaged: {}", health_.detail);
  if (!aside.empty()) finding_ += fmt::format("; kept as {}.{}-…, carried on from the trusted copies", kStoreFile, aside);
  if (ours && !left->writes.empty()) finding_ += "; the tick journal of the last run applied";
  return journal_->reset(board_->identity(), store_generation_, carried);
}

Result<std::optional<Value>> JournaledNvmStore::get(std::string_view name_space,
                                                    std::string_view key) const {
  if (auto staged = journal_->latest(name_space, key)) return *staged;
  if (!db_) return std::optional<Value>{};
  return db_->get(name_space, key);
}

Result<void> JournaledNvmStore::put(std::string_view name_space, std::string_view key,
                                    const Value& value) {
  if (name_space.empty() || key.empty()) return fail("a write without namespace or key");
  clean_ = false;
  if (auto r = journal_->stage(name_space, key, &value, in_group_); !r) return r;
  if (!in_group_) journal_->commit();
  return {};
}

Result<void> JournaledNvmStore::apply(const std::vector<NvmWrite>& batch) {
  for (const auto& w : batch) {
    if (w.name_space.empty() || w.key.empty()) return fail("a write without namespace or key");
  }
  clean_ = false;
  for (const auto& w : batch) {
    // A write that cannot be staged (the journal full) leaves the batch uncommitted: the
    // versions it staged stay above the committed mark and are never read back.
    if (auto r = journal_->stage(w.name_space, w.key, w.value ? &*w.value : nullptr, in_group_); !r) {
      return r;
    }
  }
  if (!in_group_) journal_->commit();
  return {};
}

std::vector<std::string> JournaledNvmStore::keys(std::string_view name_space) const {
  std::vector<std::string> out = db_ ? db_->keys(name_space) : std::vector<std::string>{};
  std::vector<std::string> present, erased;
  journal_->keys(name_space, present, erased);
  out.insert(out.end(), present.begin(), present.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  std::sort(erased.begin(), erased.end());
  std::erase_if(out, [&](const std::string& k) {
    return std::binary_search(erased.begin(), erased.end(), k);
  });
  return out;
}

void JournaledNvmStore::begin_group() { in_group_ = true; }

Result<void> JournaledNvmStore::end_group() {
  if (!in_group_) return {};
  in_group_ = false;
  journal_->commit();
  if (flush_deferred_) {
    flush_deferred_ = false;
    return flush();
  }
  return {};
}

bool JournaledNvmStore::wants_flush() const noexcept { return journal_->fill() > 0.5; }

void JournaledNvmStore::freeze(std::string reason) {
  health_.state = NvmState::damaged;
  if (health_.detail.empty()) health_.detail = std::move(reason);
}

bool JournaledNvmStore::billing(std::string_view ns, std::string_view key) const {
  if (std::find(kBillingNamespaces.begin(), kBillingNamespaces.end(), ns) != kBillingNamespaces.end()) {
    return true;
  }
  scratch_ = name_of(ns, key);
  return tick_keys_.contains(scratch_);
}

std::vector<NvmWrite> JournaledNvmStore::billing_records() const {
  std::vector<NvmWrite> out;
  auto add = [&](const std::string& ns, const std::string& key) {
    auto v = get(ns, key);
    if (v && *v) out.push_back({ns, key, std::move(**v)});
  };
  for (const char* ns : kBillingNamespaces) {
    for (const auto& key : keys(ns)) add(ns, key);
  }
  for (const auto& name : tick_keys_) {
    const auto split = name.find('\0');
    const auto ns = name.substr(0, split);
    if (std::find(kBillingNamespaces.begin(), kBillingNamespaces.end(), ns) != kBillingNamespaces.end()) {
      continue;
    }
    add(ns, name.substr(split + 1));
  }
  return out;
}

Result<void> JournaledNvmStore::write_store(const std::vector<NvmWrite>& batch) {
  if (!db_ || db_->read_only()) {
    if (auto r = open_store(); !r) return r;
    if (db_->read_only()) return fail(fmt::format("the store {}", db_->health().detail));
  }
  auto attempt = [&]() -> Result<void> {
    auto r = db_->apply(batch);
    if (r) r = db_->flush();
    return r;
  };
  auto r = attempt();
  std::error_code ec;
  const auto reserve = dir_ / kReserveFile;
  if (!r && r.error().message.find("full") != std::string::npos &&
      std::filesystem::exists(reserve, ec)) {
    // The space set aside at commissioning is for this moment.
    std::filesystem::remove(reserve, ec);
    r = attempt();
    if (r && health_.state == NvmState::intact && health_.detail.empty()) {
      health_.detail = "the disk is full: the store used the space reserved for it; free space "
                       "soon";
    }
  }
  return r;
}

Result<void> JournaledNvmStore::flush() { return flush_now(true); }

Result<void> JournaledNvmStore::checkpoint() {
  return flush_now(checkpoints_since_flush_ + 1 >= options_.store_every);
}

Result<void> JournaledNvmStore::flush_now(bool store) {
  if (in_group_) {
    flush_deferred_ = true;
    return {};
  }
  for (const auto& name : journal_->flagged()) tick_keys_.insert(name);
  const auto g = generation_ + 1;
  auto since = journal_->latest_all();  // everything the store file lacks
  if (!store) {
    // The board's copy alone, when it can carry everything since the store's last flush.
    auto records = billing_records();
    overlay(records, since);
    const auto copied = board_->write({g, store_generation_, records});
    if (copied) {
      generation_ = g;
      ++checkpoints_since_flush_;
      return {};
    }
    // Too much for the copy's slot, or the copy cannot be written: a whole flush.
  }
  since.push_back({kInternal, kGenerationKey, Value{g}});
  const auto stored = write_store(since);
  since.pop_back();
  auto records = billing_records();
  if (!stored) overlay(records, since);  // the copy carries what the store did not take
  auto copied = board_->write({g, stored ? g : store_generation_, records});
  if (!copied && !stored) copied = board_->write({g, store_generation_, billing_records()});
  if (!copied) {
    // Too big for a slot: the kernel's own records always fit, and the counter must move with
    // the store, or the next start would take the store for one put back.
    std::vector<NvmWrite> kernel_only;
    for (auto& w : billing_records()) {
      if (std::find(kBillingNamespaces.begin(), kBillingNamespaces.end(), w.name_space) !=
          kBillingNamespaces.end()) {
        kernel_only.push_back(std::move(w));
      }
    }
    copied = board_->write({g, stored ? g : store_generation_, kernel_only});
  }
  generation_ = g;
  if (stored) {
    store_generation_ = g;
    failed_flushes_ = 0;
    checkpoints_since_flush_ = 0;
    if (auto r = journal_->reset(board_->identity(), g, {}); !r) return r;
  } else {
    ++failed_flushes_;
  }
  if (!stored) {
    return fail(fmt::format("the store could not be written ({}); the meter meters on from its "
                            "journal{}", stored.error().message,
                            copied ? " and the board's copy is current" : ""));
  }
  if (!copied) return fail(fmt::format("the board's copy could not be written: {}", copied.error().message));
  clean_ = true;
  return {};
}

NvmWriteStats JournaledNvmStore::write_stats() const noexcept {
  return db_ ? db_->write_stats() : NvmWriteStats{};
}

}  // namespace meter::kernel
