// The embedded default NVM medium: one SQLite database in WAL mode holding typed records, each
// with its own BLAKE2b checksum so a flipped byte anywhere in a record is found on open.
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

#include "meter/kernel/nvm.h"

namespace meter::kernel {

struct SqliteNvmOptions {
  /// Count the bytes written through a VFS shim (see NvmWriteStats). Costs a set insert per write.
  bool count_writes = false;
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
  bool frozen() const noexcept { return frozen_; }

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
};

}  // namespace meter::kernel
