// The sim board's non-volatile memory: a key file and a two-slot copy file in the state folder.
#include "meter/kernel/board_nvm.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "detail/value_codec.h"

namespace meter::kernel {

namespace {

constexpr const char* kKeyFile = "board.key";
constexpr const char* kCopyFile = "board.nv";
constexpr std::array<char, 8> kMagic = {'M', 'T', 'R', 'B', 'O', 'A', 'R', 'D'};
constexpr std::size_t kHeadBytes = 48;
constexpr std::size_t kTagBytes = 32;
constexpr std::size_t kKeyFileBytes = 32 + 16;

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
std::uint64_t get(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

void tag_of(const BoardKey& key, const std::uint8_t* data, std::size_t n, std::uint8_t* tag) {
  crypto_generichash(tag, kTagBytes, data, n, key.data(), key.size());
}

Result<void> sync_dir(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(fmt::format("{}: {}", dir.string(), std::strerror(errno)));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return fail(fmt::format("{}: fsync: {}", dir.string(), std::strerror(errno)));
  return {};
}

}  // namespace

BoardNvm::~BoardNvm() {
  if (fd_ >= 0) ::close(fd_);
}

void BoardNvm::remove(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::remove(dir / kKeyFile, ec);
  std::filesystem::remove(dir / kCopyFile, ec);
  std::filesystem::remove(dir / (std::string(kKeyFile) + ".new"), ec);
}

Result<std::unique_ptr<BoardNvm>> BoardNvm::open(const std::filesystem::path& dir) {
  if (sodium_init() < 0) return fail("libsodium could not be initialised");
  std::unique_ptr<BoardNvm> board(new BoardNvm(dir));
  std::error_code ec;
  std::filesystem::remove(dir / (std::string(kKeyFile) + ".new"), ec);  // a commissioning cut short
  const auto key_path = dir / kKeyFile;
  if (std::filesystem::exists(key_path, ec)) {
    const int fd = ::open(key_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(fmt::format("board key {}: {}", key_path.string(), std::strerror(errno)));
    std::array<std::uint8_t, kKeyFileBytes + 1> bytes{};
    const auto n = ::read(fd, bytes.data(), bytes.size());
    ::close(fd);
    if (n != static_cast<ssize_t>(kKeyFileBytes)) {
      return fail(fmt::format("board key {} holds {} bytes, not {}", key_path.string(), n,
                              kKeyFileBytes));
    }
    BoardKey key{};
    std::memcpy(key.data(), bytes.data(), key.size());
    std::memcpy(board->identity_.data(), bytes.data() + 32, board->identity_.size());
    board->key_ = key;
    if (std::filesystem::exists(dir / kCopyFile, ec)) {
      if (auto r = board->open_copy_file(false); !r) return r.error();
      board->read_slots();
    }
  }
  return board;
}

Result<void> BoardNvm::open_copy_file(bool create) {
  const auto path = dir_ / kCopyFile;
  fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
  if (fd_ < 0 && !create && errno == EACCES) fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return fail(fmt::format("board copy {}: {}", path.string(), std::strerror(errno)));
  if (create) {
    // Both slots' blocks reserved now: a full disk later cannot refuse the copy.
    if (const int rc = ::posix_fallocate(fd_, 0, 2 * kSlotBytes); rc != 0) {
      return fail(fmt::format("board copy {}: cannot reserve: {}", path.string(), std::strerror(rc)));
    }
  }
  return {};
}

void BoardNvm::read_slots() {
  std::vector<std::uint8_t> slot(kSlotBytes);
  for (int s = 0; s < 2; ++s) {
    const auto n = ::pread(fd_, slot.data(), slot.size(), static_cast<off_t>(s * kSlotBytes));
    if (n <= 0) continue;
    if (std::all_of(slot.begin(), slot.begin() + n, [](std::uint8_t b) { return b == 0; })) continue;
    const auto bad = [&] { ++bad_slots_; };
    if (n < static_cast<ssize_t>(kHeadBytes + kTagBytes) ||
        std::memcmp(slot.data(), kMagic.data(), kMagic.size()) != 0 || get(&slot[8], 4) != 1) {
      bad();
      continue;
    }
    const auto payload = get(&slot[12], 4);
    if (kHeadBytes + payload + kTagBytes > static_cast<std::size_t>(n)) {
      bad();
      continue;
    }
    std::array<std::uint8_t, kTagBytes> tag{};
    tag_of(*key_, slot.data(), kHeadBytes + payload, tag.data());
    if (sodium_memcmp(tag.data(), &slot[kHeadBytes + payload], kTagBytes) != 0 ||
        std::memcmp(&slot[32], identity_.data(), identity_.size()) != 0) {
      bad();
      continue;
    }
    BoardCopy copy;
    copy.generation = get(&slot[16], 8);
    copy.store_generation = get(&slot[24], 8);
    bool ok = true;
    for (std::size_t at = kHeadBytes; at < kHeadBytes + payload && ok;) {
      if (at + 12 > kHeadBytes + payload) {
        ok = false;
        break;
      }
      const auto ns_len = get(&slot[at], 2), key_len = get(&slot[at + 2], 2);
      const int type = slot[at + 4];
      const bool present = slot[at + 5] != 0;
      const auto len = get(&slot[at + 8], 4);
      const auto end = at + 12 + ns_len + key_len + len;
      if (end > kHeadBytes + payload) {
        ok = false;
        break;
      }
      NvmWrite w{std::string(reinterpret_cast<const char*>(&slot[at + 12]), ns_len),
                 std::string(reinterpret_cast<const char*>(&slot[at + 12 + ns_len]), key_len),
                 std::nullopt};
      if (present) {
        w.value = detail::decode_value(type, &slot[at + 12 + ns_len + key_len], len);
        if (!w.value) ok = false;
      }
      copy.records.push_back(std::move(w));
      at = end;
    }
    if (!ok) {
      bad();
      continue;
    }
    if (!latest_ || copy.generation > latest_->generation) {
      latest_ = std::move(copy);
      latest_slot_ = s;
    }
  }
}

Result<void> BoardNvm::commission() {
  if (key_) return fail("the board is commissioned already");
  BoardKey key{};
  randombytes_buf(key.data(), key.size());
  randombytes_buf(identity_.data(), identity_.size());
  const auto tmp = dir_ / (std::string(kKeyFile) + ".new");
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0400);
  if (fd < 0) return fail(fmt::format("board key {}: {}", tmp.string(), std::strerror(errno)));
  std::array<std::uint8_t, kKeyFileBytes> bytes{};
  std::memcpy(bytes.data(), key.data(), 32);
  std::memcpy(bytes.data() + 32, identity_.data(), 16);
  const bool written = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  sodium_memzero(bytes.data(), bytes.size());
  if (!written) return fail(fmt::format("board key {}: {}", tmp.string(), std::strerror(errno)));
  std::error_code ec;
  std::filesystem::remove(dir_ / kCopyFile, ec);  // a copy made with no key is no copy
  if (auto r = open_copy_file(true); !r) return r;
  if (::fsync(fd_) != 0) return fail(fmt::format("board copy: fsync: {}", std::strerror(errno)));
  std::filesystem::rename(tmp, dir_ / kKeyFile, ec);
  if (ec) return fail(fmt::format("board key: {}", ec.message()));
  if (auto r = sync_dir(dir_); !r) return r;
  key_ = key;
  return {};
}

Result<void> BoardNvm::write(const BoardCopy& copy) {
  if (!key_) return fail("the board is not commissioned");
  if (latest_ && copy.generation <= latest_->generation) {
    return fail(fmt::format("board copy generation {} is not above {}", copy.generation,
                            latest_->generation));
  }
  if (fd_ < 0) {
    if (auto r = open_copy_file(true); !r) return r;
  }
  std::vector<std::uint8_t> slot;
  slot.reserve(1024);
  slot.insert(slot.end(), kMagic.begin(), kMagic.end());
  put32(slot, 1);
  put32(slot, 0);  // the payload's length, filled in below
  put64(slot, copy.generation);
  put64(slot, copy.store_generation);
  slot.insert(slot.end(), identity_.begin(), identity_.end());
  std::vector<std::uint8_t> value;
  for (const auto& w : copy.records) {
    if (w.value) detail::encode_value(*w.value, value);
    else value.clear();
    put16(slot, static_cast<std::uint16_t>(w.name_space.size()));
    put16(slot, static_cast<std::uint16_t>(w.key.size()));
    slot.push_back(w.value ? static_cast<std::uint8_t>(type_of(*w.value)) : 0);
    slot.push_back(w.value ? 1 : 0);
    put16(slot, 0);
    put32(slot, static_cast<std::uint32_t>(value.size()));
    slot.insert(slot.end(), w.name_space.begin(), w.name_space.end());
    slot.insert(slot.end(), w.key.begin(), w.key.end());
    slot.insert(slot.end(), value.begin(), value.end());
  }
  const auto payload = slot.size() - kHeadBytes;
  if (slot.size() + kTagBytes > kSlotBytes) {
    return fail(fmt::format("board copy of {} bytes does not fit a {} KiB slot", slot.size(),
                            kSlotBytes / 1024));
  }
  for (int i = 0; i < 4; ++i) slot[12 + i] = static_cast<std::uint8_t>(payload >> (8 * i));
  slot.resize(slot.size() + kTagBytes);
  tag_of(*key_, slot.data(), kHeadBytes + payload, &slot[kHeadBytes + payload]);
  const int target = latest_slot_ == 0 ? 1 : 0;
  if (::pwrite(fd_, slot.data(), slot.size(), static_cast<off_t>(target * kSlotBytes)) !=
          static_cast<ssize_t>(slot.size()) ||
      ::fdatasync(fd_) != 0) {
    return fail(fmt::format("board copy: {}", std::strerror(errno)));
  }
  latest_ = copy;
  latest_slot_ = target;
  return {};
}

}  // namespace meter::kernel
