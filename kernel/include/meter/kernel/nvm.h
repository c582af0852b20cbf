// The nonvolatile store the kernel and the plugins keep state in: typed records under string
// keys, one namespace per owner ("kernel", a plugin's id). Writes are applied in atomic
// batches, so a power failure never leaves half a transaction.
//
// RamNvmStore is the medium for tests, simulation and the fake host; the SQLite (WAL) medium
// comes behind this same interface.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meter/kernel/registry.h"
#include "meter/kernel/result.h"

namespace meter::kernel {

/// What a store found when it was opened. Zero is not a state (STYLE: no meaningful zero).
enum class NvmState : std::uint8_t {
  fresh = 1,  ///< nothing stored yet: a new meter (no file, an empty file, no records)
  intact,     ///< records present and every check passed
  damaged,    ///< the medium or a record failed its check; the store is held read-only
};

struct NvmHealth {
  NvmState state = NvmState::intact;
  std::string detail;  ///< what was found damaged, empty otherwise
  /// A latched legal fault: the store was found missing, emptied, replaced or rolled back, and
  /// the meter carries on from the board's copy. Empty when there is none.
  std::string legal;
};

/// One write in a batch: a value to store, or (no value) a record to erase.
struct NvmWrite {
  std::string name_space;
  std::string key;
  std::optional<Value> value;
};

class NvmStore {
 public:
  virtual ~NvmStore() = default;
  /// The record, nullopt when there is none; an error only when the medium fails.
  virtual Result<std::optional<Value>> get(std::string_view name_space,
                                           std::string_view key) const = 0;
  /// Applies every write or none of them.
  virtual Result<void> apply(const std::vector<NvmWrite>& batch) = 0;
  /// Keys in a namespace, sorted.
  virtual std::vector<std::string> keys(std::string_view name_space) const = 0;
  /// Whether what is stored outlives the process (a file, flash); a RAM medium does not, so a
  /// write made only to survive a killed process buys nothing there.
  virtual bool survives_process() const noexcept { return true; }

  // Appended for the persistent media (SQLite); the defaults suit a medium that is always
  // durable or never persistent, like RamNvmStore.

  /// Makes everything applied so far survive a power failure (fsync). Batches applied before
  /// it are durable when it returns.
  virtual Result<void> flush() { return {}; }
  /// What the open-time checks found; a fresh store is intact once it holds a record.
  virtual NvmHealth health() const { return {}; }
  /// Refuses every write from now on: a damaged store is kept as evidence, never overwritten.
  virtual void freeze(std::string /*reason*/) {}

  // Appended for the per-tick batch: the kernel's registers and every record the plugins
  // write while the tick is delivered commit as one unit.

  /// Opens a group: every apply() and put() until end_group() is one atomic unit, all or none
  /// after a killed process. Groups do not nest. A medium without groups applies each write.
  virtual void begin_group() {}
  /// Commits the group.
  virtual Result<void> end_group() { return {}; }
  /// The periodic durable write. A medium with a small durable copy beside its main file
  /// (the board's) may write only that copy when it holds everything since the last flush;
  /// the default is a flush.
  virtual Result<void> checkpoint() { return flush(); }
  /// Whether the medium asks for a flush before the period is up (a journal filling).
  virtual bool wants_flush() const noexcept { return false; }
  /// Whether writes are refused (a store frozen as evidence).
  virtual bool read_only() const noexcept { return false; }
  /// One write without a batch around it (the per-tick path: a medium that can, spares it
  /// every allocation).
  virtual Result<void> put(std::string_view name_space, std::string_view key, const Value& value) {
    return apply({NvmWrite{std::string(name_space), std::string(key), value}});
  }
};

/// An NvmStore in RAM: the medium of tests and simulation. Not persistent across processes.
class RamNvmStore final : public NvmStore {
 public:
  Result<std::optional<Value>> get(std::string_view name_space,
                                   std::string_view key) const override;
  Result<void> apply(const std::vector<NvmWrite>& batch) override;
  std::vector<std::string> keys(std::string_view name_space) const override;
  Result<void> put(std::string_view name_space, std::string_view key, const Value& value) override;
  bool survives_process() const noexcept override { return false; }
  /// Batches applied so far (one per put, erase or committed transaction).
  std::size_t batches() const noexcept { return batches_; }
  /// Fresh until the first record is stored.
  NvmHealth health() const override {
    return {records_.empty() ? NvmState::fresh : NvmState::intact, {}, {}};
  }

 private:
  using Space = std::map<std::string, Value, std::less<>>;
  std::map<std::string, Space, std::less<>> records_;
  // apply()'s scratch, kept between calls so that a tick's batch allocates nothing of its own.
  struct Staged {
    Space* space;
    Space::iterator node;
    Value value;
    bool store;  ///< false: erase
  };
  std::vector<Staged> staged_;
  std::vector<std::pair<Space*, Space::iterator>> created_;
  std::size_t batches_ = 0;
};

}  // namespace meter::kernel
