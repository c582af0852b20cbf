// The SQLite (WAL) medium of the NVM store: typed records with a BLAKE2b checksum each.
#include <fmt/format.h>
#include <sodium.h>
#include <sqlite3.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <system_error>

#include "detail/counting_vfs.h"
#include "detail/value_codec.h"
#include "meter/kernel/sqlite_nvm.h"

namespace meter::kernel {

namespace {

constexpr const char* kInternal = "nvm";  // the store's own records; not a sign of use
constexpr std::size_t kSumBytes = 16;  // crypto_generichash_BYTES_MIN
using Sum = std::array<unsigned char, kSumBytes>;

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS record(ns TEXT NOT NULL, key TEXT NOT NULL, type INTEGER NOT NULL,"
    " value BLOB NOT NULL, sum BLOB NOT NULL, PRIMARY KEY(ns, key)) WITHOUT ROWID;";

/// BLAKE2b over a record, keyed with the board's secret when the store has one: a record edited
/// and given a recomputed checksum does not authenticate without the key.
Sum checksum(const std::optional<BoardKey>& secret, std::string_view ns, std::string_view key,
             int type, const std::uint8_t* value, std::size_t n) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, secret ? secret->data() : nullptr, secret ? secret->size() : 0,
                          kSumBytes);
  const unsigned char zero = 0;
  const auto type_byte = static_cast<unsigned char>(type);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(ns.data()), ns.size());
  crypto_generichash_update(&state, &zero, 1);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_generichash_update(&state, &zero, 1);
  crypto_generichash_update(&state, &type_byte, 1);
  crypto_generichash_update(&state, value, n);
  Sum sum{};
  crypto_generichash_final(&state, sum.data(), sum.size());
  return sum;
}

struct Statement {
  sqlite3_stmt* stmt = nullptr;
  Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt); }
};

/// Resets a statement on every path out of a scope.
struct Reset {
  sqlite3_stmt* stmt;
  ~Reset() {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }
};

void bind_text(sqlite3_stmt* s, int i, std::string_view text) {
  sqlite3_bind_text(s, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

/// A stored row checked against its checksum; nullopt when damaged.
std::optional<Value> verified(const std::optional<BoardKey>& secret, std::string_view ns,
                              std::string_view key, sqlite3_stmt* s, int first_column) {
  const int type = sqlite3_column_int(s, first_column);
  const auto* value = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, first_column + 1));
  const auto n = static_cast<std::size_t>(sqlite3_column_bytes(s, first_column + 1));
  const auto* sum = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, first_column + 2));
  const auto sum_n = static_cast<std::size_t>(sqlite3_column_bytes(s, first_column + 2));
  if (sum_n != kSumBytes || (n > 0 && value == nullptr)) return std::nullopt;
  const Sum expected = checksum(secret, ns, key, type, value, n);
  if (sodium_memcmp(expected.data(), sum, kSumBytes) != 0) return std::nullopt;
  return detail::decode_value(type, value, n);
}

}  // namespace

struct SqliteNvmStore::Impl {
  detail::WriteCounter counter;
  std::unique_ptr<detail::CountingVfs> vfs;
  sqlite3* db = nullptr;
  Statement put, erase, get, keys, begin, commit, rollback;
  std::vector<std::uint8_t> buffer;
  NvmWriteStats stats;
  std::optional<BoardKey> secret;
  bool in_group = false;

  // close_v2 defers the close until the statements below are finalized by their destructors.
  ~Impl() { sqlite3_close_v2(db); }

  std::string message() const { return db ? sqlite3_errmsg(db) : "out of memory"; }

  bool exec(const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK; }

  bool prepare(Statement& s, const char* sql) {
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s.stmt, nullptr) == SQLITE_OK;
  }

  /// Structure, schema and every record's checksum. Empty when all is well.
  std::string check(bool& has_records) {
    has_records = false;
    std::size_t total = 0;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, nullptr) != SQLITE_OK) {
      return fmt::format("not a readable database: {}", message());
    }
    std::string problems;
    int rc = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
      const std::string line = text ? text : "";
      if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) return fmt::format("integrity check failed: {}", message());
    if (!problems.empty()) return fmt::format("integrity check: {}", problems);

    if (sqlite3_prepare_v2(db, "SELECT ns, key, type, value, sum FROM record", -1, &s, nullptr) !=
        SQLITE_OK) {
      return fmt::format("not a meter store: {}", message());
    }
    std::size_t bad = 0;
    std::string first_bad;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      const auto* ns = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
      const auto* key = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
      if (ns == nullptr || std::strcmp(ns, kInternal) != 0) has_records = true;
      ++total;
      if (ns == nullptr || key == nullptr || !verified(secret, ns, key, s, 2)) {
        if (bad++ == 0) first_bad = fmt::format("{}/{}", ns ? ns : "?", key ? key : "?");
      }
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) return fmt::format("records unreadable: {}", message());
    if (bad > 0 && bad == total && secret) {
      return fmt::format("none of its {} records authenticates with this meter's key: it is "
                         "another meter's store, or forged", total);
    }
    if (bad > 0) return fmt::format("{} record(s) fail their checksum, first {}", bad, first_bad);
    return {};
  }
};

SqliteNvmStore::SqliteNvmStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteNvmStore::~SqliteNvmStore() = default;

Result<std::unique_ptr<SqliteNvmStore>> SqliteNvmStore::open(const std::filesystem::path& path,
                                                             SqliteNvmOptions options) {
  if (sodium_init() < 0) return fail("libsodium could not be initialised");
  std::error_code ec;
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  if (!std::filesystem::is_directory(dir, ec)) {
    return fail(fmt::format("NVM store directory {} does not exist", dir.string()));
  }
  const bool existed = std::filesystem::exists(path, ec) && std::filesystem::file_size(path, ec) > 0;

  auto impl = std::make_unique<Impl>();
  impl->secret = options.key;
  const char* vfs_name = nullptr;
  if (options.count_writes) {
    impl->vfs = std::make_unique<detail::CountingVfs>(impl->counter);
    if (!impl->vfs->registered()) return fail("the write-counting VFS could not be registered");
    vfs_name = impl->vfs->name();
  }
  // A file that refuses writing (read-only, immutable, a read-only medium) is still read:
  // its records are the meter's, and a meter that cannot write them meters on from them.
  std::string unwritable;
  if (existed) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      unwritable = std::strerror(errno);
    } else {
      ::close(fd);
    }
  }
  const int flags = unwritable.empty() ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
  if (sqlite3_open_v2(path.c_str(), &impl->db, flags, vfs_name) != SQLITE_OK) {
    return fail(fmt::format("NVM store {} cannot be opened: {}", path.string(), impl->message()));
  }
  std::unique_ptr<SqliteNvmStore> store(new SqliteNvmStore(std::move(impl)));
  store->path_ = path;
  auto& im = *store->impl_;
  // Exclusive: one meter process owns the store, and the WAL index lives in heap memory rather
  // than in a -shm file that would be written on every commit. (A read-only file in WAL mode
  // cannot be read that way.)
  if (unwritable.empty()) im.exec("PRAGMA locking_mode=EXCLUSIVE");
  if (!unwritable.empty()) {
    bool has = false;
    const auto problem = im.check(has);
    store->health_ = {NvmState::damaged,
                      problem.empty() ? fmt::format("cannot be written: {}", unwritable) : problem, {}};
    store->frozen_ = true;
    store->unwritable_ = problem.empty();  // sound records, a file that refuses writes
    return store;
  }

  bool has_records = false;
  if (existed) {
    if (auto problem = im.check(has_records); !problem.empty()) {
      store->health_ = {NvmState::damaged, problem, {}};
      store->frozen_ = true;
      return store;
    }
  }
  if (!im.exec("PRAGMA journal_mode=WAL") || !im.exec("PRAGMA synchronous=OFF") ||
      !im.exec("PRAGMA wal_autocheckpoint=1") || !im.exec(kSchema)) {
    if (existed) {
      store->health_ = {NvmState::damaged, fmt::format("cannot be written: {}", im.message()), {}};
      store->frozen_ = true;
      store->unwritable_ = true;
      return store;
    }
    return fail(fmt::format("NVM store {} cannot be set up: {}", path.string(), im.message()));
  }
  if (!im.prepare(im.put, "INSERT OR REPLACE INTO record(ns, key, type, value, sum) "
                          "VALUES(?1, ?2, ?3, ?4, ?5)") ||
      !im.prepare(im.erase, "DELETE FROM record WHERE ns = ?1 AND key = ?2") ||
      !im.prepare(im.get, "SELECT type, value, sum FROM record WHERE ns = ?1 AND key = ?2") ||
      !im.prepare(im.keys, "SELECT key FROM record WHERE ns = ?1 ORDER BY key") ||
      !im.prepare(im.begin, "BEGIN") || !im.prepare(im.commit, "COMMIT") ||
      !im.prepare(im.rollback, "ROLLBACK")) {
    return fail(fmt::format("NVM store {}: {}", path.string(), im.message()));
  }
  store->health_ = {has_records ? NvmState::intact : NvmState::fresh, {}, {}};
  return store;
}

Result<std::optional<Value>> SqliteNvmStore::get(std::string_view name_space,
                                                 std::string_view key) const {
  auto& im = *impl_;
  Statement adhoc;
  sqlite3_stmt* s = im.get.stmt;
  if (s == nullptr) {  // a frozen store that never prepared its statements
    if (sqlite3_prepare_v2(im.db, "SELECT type, value, sum FROM record WHERE ns = ?1 AND key = ?2",
                           -1, &adhoc.stmt, nullptr) != SQLITE_OK) {
      return fail(fmt::format("NVM store unreadable: {}", im.message()));
    }
    s = adhoc.stmt;
  }
  Reset reset{s};
  bind_text(s, 1, name_space);
  bind_text(s, 2, key);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return std::optional<Value>{};
  if (rc != SQLITE_ROW) return fail(fmt::format("NVM read {}/{}: {}", name_space, key, im.message()));
  auto value = verified(im.secret, name_space, key, s, 0);
  if (!value) return fail(fmt::format("NVM record {}/{} fails its checksum", name_space, key));
  return std::optional<Value>{std::move(*value)};
}

std::vector<std::string> SqliteNvmStore::keys(std::string_view name_space) const {
  std::vector<std::string> out;
  auto* s = impl_->keys.stmt;
  if (s == nullptr) return out;
  Reset reset{s};
  bind_text(s, 1, name_space);
  while (sqlite3_step(s) == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    out.emplace_back(text ? text : "");
  }
  return out;
}

Result<void> SqliteNvmStore::commit(const std::vector<NvmWrite>& batch, bool durable) {
  if (frozen_) return fail(fmt::format("NVM store is held read-only: {}", health_.detail));
  auto& im = *impl_;
  auto step = [](sqlite3_stmt* s) {
    Reset reset{s};
    return sqlite3_step(s) == SQLITE_DONE;
  };
  // synchronous=FULL for this transaction only: its commit fsyncs the WAL, and the checkpoint
  // that follows it fsyncs the database file.
  if (durable && !im.exec("PRAGMA synchronous=FULL")) {
    return fail(fmt::format("NVM flush: {}", im.message()));
  }
  auto restore_sync = [&] {
    if (durable) im.exec("PRAGMA synchronous=OFF");
  };
  // Inside a group the transaction is the group's, opened by begin_group().
  if (!im.in_group && !step(im.begin.stmt)) {
    restore_sync();
    return fail(fmt::format("NVM transaction: {}", im.message()));
  }
  auto put = [&](std::string_view ns, std::string_view key, const Value& value) {
    detail::encode_value(value, im.buffer);
    const int type = static_cast<int>(type_of(value));
    const Sum sum = checksum(im.secret, ns, key, type, im.buffer.data(), im.buffer.size());
    auto* s = im.put.stmt;
    bind_text(s, 1, ns);
    bind_text(s, 2, key);
    sqlite3_bind_int(s, 3, type);
    if (im.buffer.empty()) {
      sqlite3_bind_zeroblob(s, 4, 0);  // a null pointer would bind SQL NULL
    } else {
      sqlite3_bind_blob(s, 4, im.buffer.data(), static_cast<int>(im.buffer.size()), SQLITE_STATIC);
    }
    sqlite3_bind_blob(s, 5, sum.data(), static_cast<int>(sum.size()), SQLITE_STATIC);
    return step(s);
  };
  bool ok = true;
  std::string error;
  for (const auto& w : batch) {
    if (w.name_space.empty() || w.key.empty()) {  // checked inside: the batch rolls back whole
      ok = false;
      error = "a write without namespace or key";
    } else if (w.value) {
      ok = put(w.name_space, w.key, *w.value);
    } else {
      bind_text(im.erase.stmt, 1, w.name_space);
      bind_text(im.erase.stmt, 2, w.key);
      ok = step(im.erase.stmt);
    }
    if (!ok) break;
  }
  // A flush always commits something, so that the commit fsyncs; the counter sits in the same
  // table (and page) as the records, so a flush costs no extra page.
  if (ok && durable) ok = put(kInternal, "flushes", Value{im.stats.durable_commits + 1});
  if (ok && !im.in_group) ok = step(im.commit.stmt);
  if (!ok) {
    if (error.empty()) error = im.message();
    step(im.rollback.stmt);
    im.in_group = false;
  }
  restore_sync();
  if (!ok) return fail(fmt::format("NVM batch not applied: {}", error));
  // A new store holds records from its first batch on: the next power-up in this process must
  // find them as a reopened file would (intact), not start a new meter.
  const auto stores = [](const NvmWrite& w) { return w.value.has_value(); };
  if (health_.state == NvmState::fresh && std::any_of(batch.begin(), batch.end(), stores)) {
    health_ = {NvmState::intact, {}, {}};
  }
  ++im.stats.commits;
  if (durable) ++im.stats.durable_commits;
  return {};
}

Result<void> SqliteNvmStore::apply(const std::vector<NvmWrite>& batch) {
  return commit(batch, false);
}

Result<void> SqliteNvmStore::flush() {
  if (impl_->in_group) return fail("NVM flush inside a group: end the group first");
  return commit({}, true);
}

void SqliteNvmStore::begin_group() {
  auto& im = *impl_;
  if (frozen_ || im.in_group || im.begin.stmt == nullptr) return;
  Reset reset{im.begin.stmt};
  im.in_group = sqlite3_step(im.begin.stmt) == SQLITE_DONE;
}

Result<void> SqliteNvmStore::end_group() {
  auto& im = *impl_;
  if (!im.in_group) return {};
  im.in_group = false;
  Reset reset{im.commit.stmt};
  if (sqlite3_step(im.commit.stmt) != SQLITE_DONE) {
    const auto error = im.message();
    Reset undo{im.rollback.stmt};
    sqlite3_step(im.rollback.stmt);
    return fail(fmt::format("NVM group not committed: {}", error));
  }
  return {};
}

std::vector<NvmWrite> SqliteNvmStore::records() const {
  std::vector<NvmWrite> out;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(impl_->db, "SELECT ns, key, type, value, sum FROM record ORDER BY ns, key",
                         -1, &s, nullptr) != SQLITE_OK) {
    return out;
  }
  while (sqlite3_step(s) == SQLITE_ROW) {
    const auto* ns = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    const auto* key = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
    if (ns == nullptr || key == nullptr || std::strcmp(ns, kInternal) == 0) continue;
    if (auto v = verified(impl_->secret, ns, key, s, 2)) out.push_back({ns, key, std::move(*v)});
  }
  sqlite3_finalize(s);
  return out;
}

void SqliteNvmStore::freeze(std::string reason) {
  frozen_ = true;
  health_ = {NvmState::damaged, std::move(reason), {}};
}

NvmWriteStats SqliteNvmStore::write_stats() const noexcept {
  auto s = impl_->stats;
  s.logical_bytes = impl_->counter.logical_bytes;
  s.device_bytes = impl_->counter.device_bytes;
  s.syncs = impl_->counter.syncs;
  return s;
}

void SqliteNvmStore::simulate_writeback() noexcept { impl_->counter.writeback(); }

}  // namespace meter::kernel
