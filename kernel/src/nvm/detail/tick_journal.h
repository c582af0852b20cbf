// The tick journal: the records written since the last durable flush, kept in a shared-memory
// segment (POSIX shm, tmpfs) that outlives a killed process but not a power cycle, so that a
// per-tick commit costs memory writes and nothing reaches the flash.
//
// Layout: a header, then two halves; one is in force (`active`). A half holds slots, one per
// record key, each with two versions of the value stamped with the group (commit) sequence
// that wrote it. A write goes into the older version of its slot with the next sequence; a
// commit is one store of that sequence into the half's `committed` word, the last thing a
// group does. A process killed at any instant leaves every version stamped above `committed`
// ignored, so what a restart reads is exactly the last committed group. A reset (after a
// durable flush) prepares the other half and flips `active` with one store.
//
// The segment is the process's own memory lasting past it: it is created owner-only, bound to
// the meter's identity and the store generation it applies on top of, and checked for shape;
// it is not authenticated, because whoever can write it can read the board's key as well.
//
// Thread: the kernel thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "meter/kernel/nvm.h"

namespace meter::kernel::detail {

using MeterId = std::array<std::uint8_t, 16>;

class TickJournal {
 public:
  /// Bytes of one half: what the records written between two flushes may take.
  static constexpr std::size_t kHalfBytes = std::size_t{1} << 20;

  /// What a restart finds in a segment left by an earlier process.
  struct Found {
    MeterId meter{};
    std::uint64_t base_generation = 0;  ///< the store generation the writes apply on top of
    std::vector<NvmWrite> writes;       ///< the latest committed value (or erasure) per key
  };

  /// Opens (creating, owner-only, with its memory reserved) the segment `name` ("/meterd-…").
  static Result<std::unique_ptr<TickJournal>> open(const std::string& name);
  /// Removes a segment by name (an orderly power-down leaves nothing to recover).
  static void remove(const std::string& name);

  TickJournal(const TickJournal&) = delete;
  TickJournal& operator=(const TickJournal&) = delete;
  ~TickJournal();

  /// The committed content an earlier process left, when the segment has a valid shape.
  std::optional<Found> found() const;

  /// Starts afresh on top of store generation `base` for `meter`, holding `writes` committed.
  /// Prepares the half not in force and switches to it with one store.
  Result<void> reset(const MeterId& meter, std::uint64_t base, const std::vector<NvmWrite>& writes);

  /// Stages one write with the open group's sequence (the next commit's). `tick`: written
  /// with the tick (a billing record), remembered for flagged().
  Result<void> stage(std::string_view ns, std::string_view key, const Value* value,
                     bool tick = false);
  /// Commits every write staged since the last commit.
  void commit() noexcept;

  /// The value staged or committed last for a key, as this process sees it: nullopt when the
  /// journal knows nothing of it; a present optional holding no value for an erasure.
  std::optional<std::optional<Value>> latest(std::string_view ns, std::string_view key) const;
  /// Every key the journal holds, with its latest value or erasure.
  std::vector<NvmWrite> latest_all() const;
  /// Keys of `ns` that the journal holds with a value, and those it erased.
  void keys(std::string_view ns, std::vector<std::string>& present,
            std::vector<std::string>& erased) const;

  /// Share of the half in force that is used, 0..1: a durable flush (and reset) is due well
  /// before it fills.
  double fill() const noexcept;
  /// "ns\0key" of every record staged with `tick` in two groups or more since the last reset:
  /// the records the tick keeps moving.
  std::vector<std::string> flagged() const;
  bool empty() const noexcept { return index_.empty(); }
  const std::string& name() const noexcept { return name_; }

 private:
  TickJournal(std::string name, int fd, std::uint8_t* base, std::size_t bytes);
  std::uint8_t* half(std::uint64_t which) const noexcept;
  std::uint64_t in_force() const noexcept;  // the half stage() writes: the active one, or
                                            // the one reset() prepares
  Result<std::uint32_t> allocate(std::string_view ns, std::string_view key, std::size_t capacity);
  void rebuild_index();

  std::string name_;
  int fd_ = -1;
  std::uint8_t* base_ = nullptr;
  std::size_t bytes_ = 0;
  std::uint64_t sequence_ = 0;  // the open group's: committed + 1
  std::uint64_t prepared_ = 0;
  std::uint64_t active_ = 0;  // the half in force, as last published
  bool preparing_ = false;
  std::unordered_map<std::string, std::uint32_t> index_;  // "ns\0key" -> slot offset in half
  mutable std::string scratch_;  // the lookup key, kept to spare a tick an allocation
  struct Hot {
    const char* ns = nullptr;
    const char* key = nullptr;
    std::uint32_t slot = 0;
    std::uint64_t epoch = 0;
  };
  std::array<Hot, 64> hot_{};  // slots by the address of the caller's key text
  std::uint64_t epoch_ = 1;    // changes when the slots move (a reset)
};

}  // namespace meter::kernel::detail
