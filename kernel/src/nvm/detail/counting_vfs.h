// A SQLite VFS shim over the OS's default VFS that counts what the store writes: bytes handed to
// the OS, and 4 KiB device blocks that reach the device on fsync (or on a simulated OS
// write-back). Counting in a VFS measures the store alone and the same on every host, whatever
// the file system, page cache or other processes do; /proc/self/io would count none of that
// reliably on a shared machine.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <string>
#include <unordered_set>

namespace meter::kernel::detail {

struct WriteCounter {
  std::uint64_t logical_bytes = 0;
  std::uint64_t device_bytes = 0;
  std::uint64_t syncs = 0;
  std::uint64_t block_bytes = 4096;
  std::map<std::string, std::unordered_set<std::uint64_t>, std::less<>> dirty;  ///< by file

  void wrote(const char* file, std::int64_t offset, int amount);
  void synced(const char* file);
  void removed(const char* file);
  void writeback();
};

/// Registers a uniquely named VFS (not the default one) for as long as it lives.
class CountingVfs {
 public:
  explicit CountingVfs(WriteCounter& counter);
  CountingVfs(const CountingVfs&) = delete;
  CountingVfs& operator=(const CountingVfs&) = delete;
  ~CountingVfs();
  const char* name() const noexcept { return name_.c_str(); }
  bool registered() const noexcept { return registered_; }

  struct Context {
    sqlite3_vfs* real = nullptr;
    WriteCounter* counter = nullptr;
  };

 private:
  std::string name_;
  Context context_;
  sqlite3_vfs vfs_{};
  bool registered_ = false;
};

}  // namespace meter::kernel::detail
