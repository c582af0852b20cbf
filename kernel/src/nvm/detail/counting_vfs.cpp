// The write-counting VFS shim: every call forwards to the OS's VFS; writes, syncs and deletes
// are counted on the way.
#include "detail/counting_vfs.h"

#include <atomic>

namespace meter::kernel::detail {

void WriteCounter::wrote(const char* file, std::int64_t offset, int amount) {
  logical_bytes += static_cast<std::uint64_t>(amount);
  if (file == nullptr || amount <= 0) return;
  auto& blocks = dirty[file];
  const auto first = static_cast<std::uint64_t>(offset) / block_bytes;
  const auto last = (static_cast<std::uint64_t>(offset) + static_cast<std::uint64_t>(amount) - 1) /
                    block_bytes;
  for (auto b = first; b <= last; ++b) blocks.insert(b);
}

void WriteCounter::synced(const char* file) {
  ++syncs;
  if (file == nullptr) return;
  if (auto it = dirty.find(file); it != dirty.end()) {
    device_bytes += it->second.size() * block_bytes;
    it->second.clear();
  }
}

void WriteCounter::removed(const char* file) {
  if (file != nullptr) dirty.erase(file);  // a deleted file's cached pages never reach the device
}

void WriteCounter::writeback() {
  for (auto& [file, blocks] : dirty) {
    device_bytes += blocks.size() * block_bytes;
    blocks.clear();
  }
}

namespace {

struct CountingFile {
  sqlite3_file base;  // first: SQLite sees this struct as a sqlite3_file
  sqlite3_file* real;
  WriteCounter* counter;
  const char* name;  // SQLite keeps the name valid until xClose
};

CountingFile* self(sqlite3_file* f) { return reinterpret_cast<CountingFile*>(f); }
sqlite3_file* real(sqlite3_file* f) { return self(f)->real; }
CountingVfs::Context* context(sqlite3_vfs* vfs) {
  return static_cast<CountingVfs::Context*>(vfs->pAppData);
}

int file_close(sqlite3_file* f) { return real(f)->pMethods->xClose(real(f)); }
int file_read(sqlite3_file* f, void* out, int amount, sqlite3_int64 offset) {
  return real(f)->pMethods->xRead(real(f), out, amount, offset);
}
int file_write(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
  const int rc = real(f)->pMethods->xWrite(real(f), data, amount, offset);
  if (rc == SQLITE_OK) self(f)->counter->wrote(self(f)->name, offset, amount);
  return rc;
}
int file_truncate(sqlite3_file* f, sqlite3_int64 size) {
  return real(f)->pMethods->xTruncate(real(f), size);
}
int file_sync(sqlite3_file* f, int flags) {
  const int rc = real(f)->pMethods->xSync(real(f), flags);
  if (rc == SQLITE_OK) self(f)->counter->synced(self(f)->name);
  return rc;
}
int file_size(sqlite3_file* f, sqlite3_int64* size) {
  return real(f)->pMethods->xFileSize(real(f), size);
}
int file_lock(sqlite3_file* f, int level) { return real(f)->pMethods->xLock(real(f), level); }
int file_unlock(sqlite3_file* f, int level) { return real(f)->pMethods->xUnlock(real(f), level); }
int file_check_reserved(sqlite3_file* f, int* out) {
  return real(f)->pMethods->xCheckReservedLock(real(f), out);
}
int file_control(sqlite3_file* f, int op, void* arg) {
  return real(f)->pMethods->xFileControl(real(f), op, arg);
}
int file_sector_size(sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); }
int file_device(sqlite3_file* f) { return real(f)->pMethods->xDeviceCharacteristics(real(f)); }
int file_shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return real(f)->pMethods->xShmMap(real(f), region, size, extend, out);
}
int file_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
}
void file_shm_barrier(sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); }
int file_shm_unmap(sqlite3_file* f, int remove) {
  return real(f)->pMethods->xShmUnmap(real(f), remove);
}
int file_fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  return real(f)->pMethods->xFetch(real(f), offset, amount, out);
}
int file_unfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  return real(f)->pMethods->xUnfetch(real(f), offset, p);
}

const sqlite3_io_methods kFileMethods = {
    3,           file_close,     file_read,          file_write,       file_truncate,
    file_sync,   file_size,      file_lock,          file_unlock,      file_check_reserved,
    file_control, file_sector_size, file_device,      file_shm_map,     file_shm_lock,
    file_shm_barrier, file_shm_unmap, file_fetch,     file_unfetch,
};

int vfs_open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags,
             int* out_flags) {
  auto* ctx = context(vfs);
  auto* f = self(file);
  f->base.pMethods = nullptr;
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->counter = ctx->counter;
  f->name = name;
  const int rc = ctx->real->xOpen(ctx->real, name, f->real, flags, out_flags);
  if (rc == SQLITE_OK) f->base.pMethods = &kFileMethods;
  return rc;
}
int vfs_delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  context(vfs)->counter->removed(name);
  return context(vfs)->real->xDelete(context(vfs)->real, name, sync_dir);
}
int vfs_access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return context(vfs)->real->xAccess(context(vfs)->real, name, flags, out);
}
int vfs_full_pathname(sqlite3_vfs* vfs, const char* name, int size, char* out) {
  return context(vfs)->real->xFullPathname(context(vfs)->real, name, size, out);
}
void* vfs_dl_open(sqlite3_vfs* vfs, const char* name) {
  return context(vfs)->real->xDlOpen(context(vfs)->real, name);
}
void vfs_dl_error(sqlite3_vfs* vfs, int size, char* out) {
  context(vfs)->real->xDlError(context(vfs)->real, size, out);
}
void (*vfs_dl_sym(sqlite3_vfs* vfs, void* lib, const char* symbol))(void) {
  return context(vfs)->real->xDlSym(context(vfs)->real, lib, symbol);
}
void vfs_dl_close(sqlite3_vfs* vfs, void* lib) { context(vfs)->real->xDlClose(context(vfs)->real, lib); }
int vfs_randomness(sqlite3_vfs* vfs, int size, char* out) {
  return context(vfs)->real->xRandomness(context(vfs)->real, size, out);
}
int vfs_sleep(sqlite3_vfs* vfs, int us) { return context(vfs)->real->xSleep(context(vfs)->real, us); }
int vfs_current_time(sqlite3_vfs* vfs, double* out) {
  return context(vfs)->real->xCurrentTime(context(vfs)->real, out);
}
int vfs_last_error(sqlite3_vfs* vfs, int size, char* out) {
  return context(vfs)->real->xGetLastError(context(vfs)->real, size, out);
}
int vfs_current_time64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return context(vfs)->real->xCurrentTimeInt64(context(vfs)->real, out);
}

std::atomic<unsigned> next_vfs_id{0};

}  // namespace

CountingVfs::CountingVfs(WriteCounter& counter)
    : name_("meter-counting-" + std::to_string(next_vfs_id.fetch_add(1))) {
  context_.real = sqlite3_vfs_find(nullptr);
  context_.counter = &counter;
  if (context_.real == nullptr) return;
  vfs_.iVersion = 2;
  vfs_.szOsFile = static_cast<int>(sizeof(CountingFile)) + context_.real->szOsFile;
  vfs_.mxPathname = context_.real->mxPathname;
  vfs_.zName = name_.c_str();
  vfs_.pAppData = &context_;
  vfs_.xOpen = vfs_open;
  vfs_.xDelete = vfs_delete;
  vfs_.xAccess = vfs_access;
  vfs_.xFullPathname = vfs_full_pathname;
  vfs_.xDlOpen = vfs_dl_open;
  vfs_.xDlError = vfs_dl_error;
  vfs_.xDlSym = vfs_dl_sym;
  vfs_.xDlClose = vfs_dl_close;
  vfs_.xRandomness = vfs_randomness;
  vfs_.xSleep = vfs_sleep;
  vfs_.xCurrentTime = vfs_current_time;
  vfs_.xGetLastError = vfs_last_error;
  vfs_.xCurrentTimeInt64 = vfs_current_time64;
  registered_ = sqlite3_vfs_register(&vfs_, 0) == SQLITE_OK;
}

CountingVfs::~CountingVfs() {
  if (registered_) sqlite3_vfs_unregister(&vfs_);
}

}  // namespace meter::kernel::detail
