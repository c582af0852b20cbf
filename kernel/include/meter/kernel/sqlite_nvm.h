// The embedded default NVM medium: one SQLite database in WAL mode holding typed records, each
// with its own BLAKE2b checksum (keyed with the board's secret on a meter) so a flipped byte
// anywhere in a record, or a record rewritten with a recomputed checksum, is found on open.
//
// Commit policy: apply() commits one transaction and hands it to the OS without fsync, so a
// killed process loses nothing the OS holds; flush() commits with an fsync, so everything applied
// before it survives a power failure. The write-back of the WAL into the database file happens
// after every commit (wal_autocheckpoint = 1 page) so the files stay a few pages long and each
// tick rewrites the same device blocks instead of appending to a growing WAL.
//
// Thread: one thread (the kernel thread) uses a store.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "meter/kernel/board_nvm.h"
#include "meter/kernel/nvm.h"

namespace meter::kernel {

struct SqliteNvmOptions {
  /// Count the bytes written through a VFS shim (see NvmWriteStats). Costs a set insert per write.
  bool count_writes = false;
  /// The board's secret: every record's checksum is keyed BLAKE2b with it, so a record edited
  /// with a recomputed checksum fails. Without it the checksums are plain (tests, tools).
  std::optional<BoardKey> key;
};

/// Write volume seen by the store's VFS shim. Device blocks are 4 KiB: a block the store dirties
/// is counted once per sync of its file (the OS coalesces rewrites of a cached page until then),
/// or once per simulate_writeback() for an OS that writes dirty pages back on its own timer.
struct NvmWriteStats {
  std::uint64_t logical_bytes = 0;  ///< bytes handed to write(2)
  std::uint64_t device_bytes = 0;   ///< 4 KiB blocks that reached the device, in bytes
  std::uint64_t syncs = 0;          ///< fsync calls
  std::uint64_t commits = 0;        ///< transactions committed by apply() and flush()
  std::uint64_t durable_commits = 0;  ///< of which with fsync
};

class SqliteNvmStore final : public NvmStore {
 public:
  static constexpr std::size_t kDeviceBlockBytes = 4096;

  /// Opens or creates the store at `path` and checks it (SQLite integrity_check, then every
  /// record's checksum). A damaged file is not an error: the store opens frozen and health()
  /// says what is wrong. An error means the medium cannot be used at all (no directory, no
  /// permission).
  static Result<std::unique_ptr<SqliteNvmStore>> open(const std::filesystem::path& path,
                                                     SqliteNvmOptions options = {});

  SqliteNvmStore(const SqliteNvmStore&) = delete;
  SqliteNvmStore& operator=(const SqliteNvmStore&) = delete;
  ~SqliteNvmStore() override;

  /// A record whose checksum fails is an error naming it, never a value.
  Result<std::optional<Value>> get(std::string_view name_space,
                                   std::string_view key) const override;
  /// One SQLite transaction, no fsync. Refused while frozen.
  Result<void> apply(const std::vector<NvmWrite>& batch) override;
  std::vector<std::string> keys(std::string_view name_space) const override;
  /// Commits with synchronous=FULL: the WAL and the database file are fsynced.
  Result<void> flush() override;
  NvmHealth health() const override { return health_; }
  void freeze(std::string reason) override;
  /// One SQLite transaction from here to end_group(): the applies in between commit together.
  void begin_group() override;
  Result<void> end_group() override;
  bool frozen() const noexcept { return frozen_; }
  bool read_only() const noexcept override { return frozen_; }
  /// The records are sound but the file refused to be set up for writing (read-only file or
  /// medium, I/O error): health() is damaged with what it said, and writes are refused.
  bool unwritable() const noexcept { return unwritable_; }
  /// Every record that verifies, outside the store's own namespace (for carrying what can be
  /// trusted out of a damaged store).
  std::vector<NvmWrite> records() const;

  const std::filesystem::path& path() const noexcept { return path_; }
  /// Zero unless opened with count_writes.
  NvmWriteStats write_stats() const noexcept;
  /// The OS writes every dirty page back on its own (Linux: dirty_expire_centisecs). Counts the
  /// dirty blocks as written to the device.
  void simulate_writeback() noexcept;

 private:
  struct Impl;
  explicit SqliteNvmStore(std::unique_ptr<Impl> impl);
  Result<void> commit(const std::vector<NvmWrite>& batch, bool durable);

  std::unique_ptr<Impl> impl_;
  std::filesystem::path path_;
  NvmHealth health_;
  bool frozen_ = false;
  bool unwritable_ = false;
};

}  // namespace meter::kernel
