// The meter's store as meterd keeps it in a state folder: three parts, each doing what it is
// good at.
//
//   the tick journal  (shared memory) every write, committed per tick group: survives a killed
//                     process at the cost of memory writes; gone at a power cycle
//   the SQLite file   every record, authenticated with the board's key; written durably (fsync)
//                     at flush(): on a period, on power failure and on demand
//   the board         the key, a generation counter that only rises, and a copy of the billing
//                     records at every flush (BoardNvm)
//
// open() is where a restart decides what to trust. A new meter (no board key) is commissioned:
// key, identity, and a store created whole (written as meter.db.new, then renamed), so a kill
// at any moment of the first start leaves either no store or a complete one. A meter in
// service carries on from the highest trustworthy values: the store's authenticated records,
// over them the board's copy when it is newer (a store that missed writes), over both the
// journal a killed process left. A store that is missing, emptied, another meter's, damaged
// or older than the board's counter says is never a new meter: it is moved aside as evidence
// (meter.db.<finding>-<time>), a new store is made from what can be trusted, and the finding
// is a latched legal fault (health().legal), kept in the board's copy across restarts.
//
// A store whose file cannot be written (read-only, I/O error, disk full) keeps the meter going
// from the journal; each flush tries again, a full disk first gives back the space reserved at
// commissioning (meter.reserve), and the board's copy is written whatever the store did.
//
// Thread: the kernel thread.
#pragma once

#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "meter/kernel/board_nvm.h"
#include "meter/kernel/sqlite_nvm.h"

namespace meter::kernel {

namespace detail {
class TickJournal;
}

struct JournaledNvmOptions {
  /// Count the SQLite file's writes (NvmWriteStats), for benchmarks.
  bool count_writes = false;
  /// Space set aside at commissioning for the store to grow into when the disk is full.
  std::uintmax_t reserve_bytes = 4u << 20;
  /// The store file is flushed at least every this many checkpoints (the board's copy is
  /// written at every one): the flash sees one small block most periods.
  std::uint32_t store_every = 8;
};

class JournaledNvmStore final : public NvmStore {
 public:
  static constexpr const char* kStoreFile = "meter.db";
  static constexpr const char* kReserveFile = "meter.reserve";
  /// The namespace of the board's own records in the store and the copy (the latched fault).
  static constexpr const char* kBoardNamespace = "board";

  /// Opens (or, for a new meter, commissions) the store in state folder `dir`. An error when
  /// the folder cannot hold a store at all, or holds a store but no board (another meter's
  /// store put into a new board's folder is never adopted).
  static Result<std::unique_ptr<JournaledNvmStore>> open(const std::filesystem::path& dir,
                                                         JournaledNvmOptions options = {});
  /// Removes what a new meter's first start made (its configuration was refused): the next
  /// start is a new meter's again.
  static void remove_new(const std::filesystem::path& dir);

  JournaledNvmStore(const JournaledNvmStore&) = delete;
  JournaledNvmStore& operator=(const JournaledNvmStore&) = delete;
  ~JournaledNvmStore() override;

  Result<std::optional<Value>> get(std::string_view name_space, std::string_view key) const override;
  /// Into the journal: committed at once, or with the group when one is open.
  Result<void> apply(const std::vector<NvmWrite>& batch) override;
  Result<void> put(std::string_view name_space, std::string_view key, const Value& value) override;
  std::vector<std::string> keys(std::string_view name_space) const override;
  /// The journal into the SQLite file (fsync), then the board's copy, then a fresh journal.
  /// Inside a group it is done when the group ends.
  Result<void> flush() override;
  /// The periodic durable write: the board's copy alone (one small synced write) when it can
  /// hold every record written since the store was last flushed and the store was flushed
  /// within the last `store_every` checkpoints; a flush otherwise. A restart carries on from
  /// the copy where it is newer than the store, so a power cut loses the same either way.
  Result<void> checkpoint() override;
  NvmHealth health() const override { return health_; }
  /// A damaged store was moved aside already; the one in use goes on being written.
  void freeze(std::string reason) override;
  void begin_group() override;
  Result<void> end_group() override;
  /// The journal is filling: flush soon.
  bool wants_flush() const noexcept override;

  /// The store file's writes, when opened with count_writes.
  NvmWriteStats write_stats() const noexcept;
  /// Flushes that failed in a row (the store file cannot be written); zero when all is well.
  std::uint64_t failed_flushes() const noexcept { return failed_flushes_; }
  std::uint64_t generation() const noexcept { return generation_; }
  /// What open() found and did, in a line (the store status object shows it).
  const std::string& finding() const noexcept { return finding_; }

 private:
  JournaledNvmStore(std::filesystem::path dir, JournaledNvmOptions options);
  Result<void> commission();
  Result<void> open_in_service();
  Result<void> create_store(std::uint64_t generation);
  Result<void> open_store();
  void move_aside(const std::string& why);
  std::vector<NvmWrite> billing_records() const;
  bool billing(std::string_view ns, std::string_view key) const;
  Result<void> write_store(const std::vector<NvmWrite>& batch);
  Result<void> flush_now(bool store);

  std::filesystem::path dir_;
  JournaledNvmOptions options_;
  std::unique_ptr<BoardNvm> board_;
  std::unique_ptr<SqliteNvmStore> db_;
  std::unique_ptr<detail::TickJournal> journal_;
  NvmHealth health_;
  std::string finding_;
  std::set<std::string, std::less<>> tick_keys_;  // "ns\0key" of records written in groups
  mutable std::string scratch_;
  std::uint64_t generation_ = 0;        // of the last flush (attempted)
  std::uint64_t store_generation_ = 0;  // of the last flush the store file took
  std::uint64_t failed_flushes_ = 0;
  std::uint32_t checkpoints_since_flush_ = 0;
  bool in_group_ = false;
  bool flush_deferred_ = false;
  bool clean_ = false;  // nothing written since the last complete flush
};

}  // namespace meter::kernel
