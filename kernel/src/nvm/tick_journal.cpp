// The tick journal in a POSIX shared-memory segment: two halves of slots, one store commits.
#include "detail/tick_journal.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "detail/value_codec.h"

namespace meter::kernel::detail {

namespace {

constexpr std::array<char, 8> kMagic = {'M', 'T', 'R', 'J', 'R', 'N', 'L', '1'};
constexpr std::uint64_t kHalfMagic = 0x464c414852544d01ULL;  // a half that was prepared whole
constexpr std::size_t kHeaderBytes = 4096;
constexpr std::size_t kHalfHeaderBytes = 64;
constexpr std::size_t kSlotHeaderBytes = 48;
constexpr std::size_t kVersionBytes = 16;

// Header: magic[8] | u32 version | u32 half bytes | u64 active (written last by a reset)
constexpr std::size_t kActiveAt = 16;
// Half: u64 magic | u64 base generation | u64 committed | u64 used | meter id[16]
constexpr std::size_t kBaseAt = 8, kCommittedAt = 16, kUsedAt = 24, kMeterAt = 32;
// Slot: u32 bytes | u32 capacity | u16 ns length | u16 key length | u32 | version[2] | name | data[2]
// Version: u64 sequence | u32 length | u8 type | u8 present | u16

std::uint64_t load64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
void store64(std::uint8_t* p, std::uint64_t v) { std::memcpy(p, &v, 8); }
/// The one store that publishes: nothing the compiler could move after it.
void publish64(std::uint8_t* p, std::uint64_t v) {
  __atomic_store_n(reinterpret_cast<std::uint64_t*>(p), v, __ATOMIC_RELEASE);
}
std::uint32_t load32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
void store32(std::uint8_t* p, std::uint32_t v) { std::memcpy(p, &v, 4); }
std::uint16_t load16(const std::uint8_t* p) {
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
void store16(std::uint8_t* p, std::uint16_t v) { std::memcpy(p, &v, 2); }
constexpr std::size_t round8(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

struct SlotView {
  const std::uint8_t* p;
  std::uint32_t bytes() const { return load32(p); }
  std::uint32_t capacity() const { return load32(p + 4); }
  std::string_view ns() const {
    return {reinterpret_cast<const char*>(p + kSlotHeaderBytes), load16(p + 8)};
  }
  std::string_view key() const {
    return {reinterpret_cast<const char*>(p + kSlotHeaderBytes + load16(p + 8)), load16(p + 10)};
  }
  const std::uint8_t* version(int v) const { return p + 16 + v * kVersionBytes; }
  const std::uint8_t* data(int v) const {
    return p + kSlotHeaderBytes + round8(std::size_t{load16(p + 8)} + load16(p + 10)) +
           static_cast<std::size_t>(v) * capacity();
  }
  /// The version with the highest sequence not above `limit`; -1 when none.
  int pick(std::uint64_t limit) const {
    int best = -1;
    std::uint64_t best_seq = 0;
    for (int v = 0; v < 2; ++v) {
      const auto seq = load64(version(v));
      if (seq != 0 && seq <= limit && seq > best_seq) {
        best = v;
        best_seq = seq;
      }
    }
    return best;
  }
  /// The value (or erasure) of version `v`; false when it is not a well-formed one.
  bool read(int v, std::optional<Value>& out) const {
    const auto* ver = version(v);
    const auto len = load32(ver + 8);
    if (ver[13] == 0) {
      out.reset();
      return true;
    }
    if (len > capacity()) return false;
    auto value = decode_value(ver[12], data(v), len);
    if (!value) return false;
    out = std::move(*value);
    return true;
  }
};

}  // namespace

TickJournal::TickJournal(std::string name, int fd, std::uint8_t* base, std::size_t bytes)
    : name_(std::move(name)), fd_(fd), base_(base), bytes_(bytes) {}

TickJournal::~TickJournal() {
  if (base_ != nullptr) ::munmap(base_, bytes_);
  if (fd_ >= 0) ::close(fd_);
}

void TickJournal::remove(const std::string& name) { ::shm_unlink(name.c_str()); }

Result<std::unique_ptr<TickJournal>> TickJournal::open(const std::string& name) {
  const std::size_t bytes = kHeaderBytes + 2 * kHalfBytes;
  const int fd = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return fail(fmt::format("tick journal {}: cannot open: {}", name, std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || (st.st_uid != ::geteuid())) {
    ::close(fd);
    return fail(fmt::format("tick journal {}: not this meter's segment", name));
  }
  ::fchmod(fd, 0600);
  // Reserved, so that a full tmpfs cannot fail a tick's commit later (SIGBUS on a page).
  if (static_cast<std::size_t>(st.st_size) != bytes && ::ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    ::close(fd);
    return fail(fmt::format("tick journal {}: cannot size: {}", name, std::strerror(errno)));
  }
  if (const int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes)); rc != 0) {
    ::close(fd);
    return fail(fmt::format("tick journal {}: cannot reserve {} KiB: {}", name, bytes / 1024,
                            std::strerror(rc)));
  }
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    ::close(fd);
    return fail(fmt::format("tick journal {}: cannot map: {}", name, std::strerror(errno)));
  }
  return std::unique_ptr<TickJournal>(
      new TickJournal(name, fd, static_cast<std::uint8_t*>(p), bytes));
}

std::uint8_t* TickJournal::half(std::uint64_t which) const noexcept {
  return base_ + kHeaderBytes + (which & 1) * kHalfBytes;
}

std::uint64_t TickJournal::in_force() const noexcept {
  return preparing_ ? prepared_ : active_;
}

std::optional<TickJournal::Found> TickJournal::found() const {
  if (std::memcmp(base_, kMagic.data(), kMagic.size()) != 0) return std::nullopt;
  if (load32(base_ + 8) != 1 || load32(base_ + 12) != kHalfBytes) return std::nullopt;
  const auto active = load64(base_ + kActiveAt);
  if (active > 1) return std::nullopt;
  const auto* h = half(active);
  if (load64(h) != kHalfMagic) return std::nullopt;
  const auto committed = load64(h + kCommittedAt);
  const auto used = load64(h + kUsedAt);
  if (used > kHalfBytes - kHalfHeaderBytes) return std::nullopt;
  Found out;
  std::memcpy(out.meter.data(), h + kMeterAt, out.meter.size());
  out.base_generation = load64(h + kBaseAt);
  // The newest committed version of each key, over every slot (a key that outgrew its slot
  // has a newer one).
  std::map<std::pair<std::string, std::string>, std::pair<std::uint64_t, std::optional<Value>>> latest;
  for (std::size_t at = 0; at < used;) {
    const SlotView slot{h + kHalfHeaderBytes + at};
    const auto size = slot.bytes();
    if (size < kSlotHeaderBytes || at + size > used || size % 8 != 0) return std::nullopt;
    const std::size_t names = std::size_t{load16(slot.p + 8)} + load16(slot.p + 10);
    if (kSlotHeaderBytes + round8(names) + 2 * std::size_t{slot.capacity()} != size) {
      return std::nullopt;
    }
    if (const int v = slot.pick(committed); v >= 0) {
      std::optional<Value> value;
      if (!slot.read(v, value)) return std::nullopt;
      const auto seq = load64(slot.version(v));
      auto& entry = latest[{std::string(slot.ns()), std::string(slot.key())}];
      if (seq > entry.first) entry = {seq, std::move(value)};
    }
    at += size;
  }
  for (auto& [k, v] : latest) out.writes.push_back({k.first, k.second, std::move(v.second)});
  return out;
}

Result<void> TickJournal::reset(const MeterId& meter, std::uint64_t base,
                                const std::vector<NvmWrite>& writes) {
  const auto next = load64(base_ + kActiveAt) == 1 ? std::uint64_t{0} : std::uint64_t{1};
  const bool shaped = std::memcmp(base_, kMagic.data(), kMagic.size()) == 0;
  auto* h = half(next);
  store64(h, 0);  // not a whole half until it is prepared
  store64(h + kBaseAt, base);
  store64(h + kCommittedAt, 0);
  store64(h + kUsedAt, 0);
  std::memcpy(h + kMeterAt, meter.data(), meter.size());
  // Build the index over the half being prepared, and stage into it.
  const auto old_index = std::move(index_);
  index_.clear();
  const auto old_sequence = sequence_;
  // stage() writes into the half in force: point it at the one being prepared for the while.
  prepared_ = next;
  preparing_ = true;
  ++epoch_;  // the cached slots are of the other half
  sequence_ = 1;
  for (const auto& w : writes) {
    const Value* v = w.value ? &*w.value : nullptr;
    if (auto r = stage(w.name_space, w.key, v); !r) {
      preparing_ = false;
      ++epoch_;
      index_ = old_index;
      sequence_ = old_sequence;
      return r;
    }
  }
  publish64(h + kCommittedAt, writes.empty() ? 0 : 1);
  publish64(h, kHalfMagic);
  if (!shaped) {
    std::memcpy(base_, kMagic.data(), kMagic.size());
    store32(base_ + 8, 1);
    store32(base_ + 12, static_cast<std::uint32_t>(kHalfBytes));
  }
  publish64(base_ + kActiveAt, next);
  active_ = next;
  preparing_ = false;
  ++epoch_;
  sequence_ = writes.empty() ? 1 : 2;
  return {};
}

Result<std::uint32_t> TickJournal::allocate(std::string_view ns, std::string_view key,
                                            std::size_t capacity) {
  auto* h = half(in_force());
  const auto used = load64(h + kUsedAt);
  const std::size_t names = ns.size() + key.size();
  if (ns.size() > 0xffff || key.size() > 0xffff) return fail("tick journal: key too long");
  capacity = round8(std::max<std::size_t>(capacity, 8));
  const std::size_t size = kSlotHeaderBytes + round8(names) + 2 * capacity;
  if (used + size > kHalfBytes - kHalfHeaderBytes || capacity > 0xffffffffU) {
    return fail(fmt::format("tick journal full ({} KiB)", kHalfBytes / 1024));
  }
  auto* p = h + kHalfHeaderBytes + used;
  std::memset(p, 0, kSlotHeaderBytes);
  store32(p, static_cast<std::uint32_t>(size));
  store32(p + 4, static_cast<std::uint32_t>(capacity));
  store16(p + 8, static_cast<std::uint16_t>(ns.size()));
  store16(p + 10, static_cast<std::uint16_t>(key.size()));
  std::memcpy(p + kSlotHeaderBytes, ns.data(), ns.size());
  std::memcpy(p + kSlotHeaderBytes + ns.size(), key.data(), key.size());
  store64(h + kUsedAt, used + size);
  return static_cast<std::uint32_t>(used);
}

Result<void> TickJournal::stage(std::string_view ns, std::string_view key, const Value* value,
                                bool tick) {
  const std::size_t size = value != nullptr ? encoded_size(*value) : 0;
  auto* h = half(in_force());
  // The slot: first from a small cache by the address of the caller's key (the kernel and the
  // plugins pass the same strings tick after tick), confirmed against the slot's own name.
  auto& hot = hot_[(reinterpret_cast<std::uintptr_t>(key.data()) >> 3) % hot_.size()];
  std::uint8_t* p = nullptr;
  if (hot.key == key.data() && hot.ns == ns.data() && hot.epoch == epoch_) {
    auto* candidate = h + kHalfHeaderBytes + hot.slot;
    // The name as stored: u16 lengths at 8 and 10, the text at 48.
    if (load16(candidate + 8) == ns.size() && load16(candidate + 10) == key.size() &&
        load32(candidate + 4) >= size &&
        std::memcmp(candidate + kSlotHeaderBytes, ns.data(), ns.size()) == 0 &&
        std::memcmp(candidate + kSlotHeaderBytes + ns.size(), key.data(), key.size()) == 0) {
      p = candidate;
    }
  }
  if (p == nullptr) {
    scratch_.assign(ns);
    scratch_.push_back('\0');
    scratch_.append(key);
    auto it = index_.find(scratch_);
    if (it == index_.end() || SlotView{h + kHalfHeaderBytes + it->second}.capacity() < size) {
      auto at = allocate(ns, key, size * 2);
      if (!at) return at.error();
      if (it == index_.end()) {
        it = index_.emplace(scratch_, *at).first;
      } else {
        it->second = *at;
      }
    }
    hot = {ns.data(), key.data(), it->second, epoch_};
    p = h + kHalfHeaderBytes + it->second;
  }
  if (tick && p[12] < 255) ++p[12];  // how many groups wrote it, to 255
  const SlotView slot{p};
  // The version this group wrote already, else the older one: the newer is what a restart
  // would read until this group commits.
  int v = 0;
  const auto s0 = load64(slot.version(0));
  const auto s1 = load64(slot.version(1));
  if (s1 == sequence_) {
    v = 1;
  } else if (s0 != sequence_ && s1 < s0) {
    v = 1;
  }
  auto* ver = p + 16 + v * kVersionBytes;
  store64(ver, sequence_);
  store32(ver + 8, static_cast<std::uint32_t>(size));
  ver[12] = value != nullptr ? static_cast<std::uint8_t>(type_of(*value)) : 0;
  ver[13] = value != nullptr ? 1 : 0;
  if (size > 0) encode_value_to(*value, const_cast<std::uint8_t*>(slot.data(v)));
  return {};
}

void TickJournal::commit() noexcept {
  publish64(half(in_force()) + kCommittedAt, sequence_);
  ++sequence_;
}

std::optional<std::optional<Value>> TickJournal::latest(std::string_view ns,
                                                        std::string_view key) const {
  scratch_.assign(ns);
  scratch_.push_back('\0');
  scratch_.append(key);
  const auto it = index_.find(scratch_);
  if (it == index_.end()) return std::nullopt;
  const SlotView slot{half(in_force()) + kHalfHeaderBytes + it->second};
  const int v = slot.pick(sequence_);
  if (v < 0) return std::nullopt;
  std::optional<Value> value;
  if (!slot.read(v, value)) return std::nullopt;
  return value;
}

std::vector<NvmWrite> TickJournal::latest_all() const {
  std::vector<NvmWrite> out;
  out.reserve(index_.size());
  for (const auto& [name, at] : index_) {
    const SlotView slot{half(in_force()) + kHalfHeaderBytes + at};
    const int v = slot.pick(sequence_);
    if (v < 0) continue;
    std::optional<Value> value;
    if (!slot.read(v, value)) continue;
    out.push_back({std::string(slot.ns()), std::string(slot.key()), std::move(value)});
  }
  std::sort(out.begin(), out.end(), [](const NvmWrite& a, const NvmWrite& b) {
    return std::tie(a.name_space, a.key) < std::tie(b.name_space, b.key);
  });
  return out;
}

void TickJournal::keys(std::string_view ns, std::vector<std::string>& present,
                       std::vector<std::string>& erased) const {
  for (const auto& [name, at] : index_) {
    const SlotView slot{half(in_force()) + kHalfHeaderBytes + at};
    if (slot.ns() != ns) continue;
    const int v = slot.pick(sequence_);
    if (v < 0) continue;
    (slot.version(v)[13] != 0 ? present : erased).emplace_back(slot.key());
  }
}

std::vector<std::string> TickJournal::flagged() const {
  std::vector<std::string> out;
  for (const auto& [name, at] : index_) {
    // Written in one group only (a closed load-profile interval) is history, not a register
    // the tick keeps moving.
    if (half(in_force())[kHalfHeaderBytes + at + 12] >= 2) out.push_back(name);
  }
  return out;
}

double TickJournal::fill() const noexcept {
  return static_cast<double>(load64(half(in_force()) + kUsedAt)) /
         static_cast<double>(kHalfBytes - kHalfHeaderBytes);
}

}  // namespace meter::kernel::detail
