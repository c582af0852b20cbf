// The board's own non-volatile memory, beside the store: what a secure element or a small
// EEPROM on a meter's board keeps, and what the store cannot vouch for on its own.
//
//   the key       a per-meter secret, made at commissioning, that authenticates every record
//                 of the store (keyed BLAKE2b); never in the store
//   the identity  16 random bytes naming this meter: a store or a journal of another is not its
//   the copy      at every durable flush: a generation counter that only rises, the store
//                 generation the flush confirmed, and a copy of the billing records (the
//                 kernel's and every record written with the tick), authenticated with the key
//
// The counter catches a store put back from an older copy (its generation is below what the
// board saw confirmed); the copy lets a meter whose store is damaged, missing or behind carry
// on from the highest values it had. The copy lives in two slots written in turn (an A/B pair
// with fdatasync), so a power cut while writing one leaves the other.
//
// On the sim board both are files in the state folder: `board.key` (owner read-only) and
// `board.nv` (two fixed slots, its blocks reserved at commissioning). On the sim board whoever
// can write these files can read the key too: they stand for a part an attacker with the store
// alone cannot reach.
//
// Thread: the kernel thread.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "meter/kernel/nvm.h"

namespace meter::kernel {

using BoardKey = std::array<std::uint8_t, 32>;
using MeterIdentity = std::array<std::uint8_t, 16>;

/// What one slot of the board's copy holds.
struct BoardCopy {
  std::uint64_t generation = 0;        ///< this flush's number; rises by one per flush
  std::uint64_t store_generation = 0;  ///< the generation the store holds after this flush
  std::vector<NvmWrite> records;       ///< the billing records at this flush (values only)
};

class BoardNvm {
 public:
  static constexpr std::size_t kSlotBytes = 64 * 1024;

  /// Opens the board in `dir`. A board never commissioned has no key; an error only when the
  /// files exist but cannot be read (a key file of the wrong size is one).
  static Result<std::unique_ptr<BoardNvm>> open(const std::filesystem::path& dir);

  BoardNvm(const BoardNvm&) = delete;
  BoardNvm& operator=(const BoardNvm&) = delete;
  ~BoardNvm();

  /// Whether the board has its key and identity (commissioning has begun).
  bool keyed() const noexcept { return key_.has_value(); }
  /// Whether the board holds a copy: the meter was commissioned and flushed once at least.
  bool has_copy() const noexcept { return latest_.has_value(); }
  const BoardKey& key() const { return *key_; }
  const MeterIdentity& identity() const noexcept { return identity_; }
  /// The newest slot that authenticates; nullopt when none does.
  const std::optional<BoardCopy>& latest() const noexcept { return latest_; }
  /// Slots that exist but fail their check (damage, or a slot written with another key).
  std::size_t bad_slots() const noexcept { return bad_slots_; }

  /// Makes the key and the identity (random), the key file written whole (temporary file,
  /// fsync, rename) and the copy's file with both slots reserved. Refused when keyed already.
  Result<void> commission();
  /// Writes `copy` into the older slot and syncs it. Its generation must be above the
  /// newest's.
  Result<void> write(const BoardCopy& copy);
  /// Removes the board's files (a meter refused at its first start leaves nothing behind).
  static void remove(const std::filesystem::path& dir);

 private:
  explicit BoardNvm(std::filesystem::path dir) : dir_(std::move(dir)) {}
  Result<void> open_copy_file(bool create);
  void read_slots();

  std::filesystem::path dir_;
  std::optional<BoardKey> key_;
  MeterIdentity identity_{};
  std::optional<BoardCopy> latest_;
  int latest_slot_ = -1;
  std::size_t bad_slots_ = 0;
  int fd_ = -1;
};

}  // namespace meter::kernel
