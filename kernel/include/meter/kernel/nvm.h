// The nonvolatile store the kernel and the plugins keep state in: typed records under string
// keys, one namespace per owner ("kernel", a plugin's id). Writes are applied in atomic
// batches, so a power failure never leaves half a transaction.
//
// RamNvmStore is the medium for tests, simulation and the fake host; the SQLite (WAL) medium
// comes behind this same interface.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meter/kernel/registry.h"
#include "meter/kernel/result.h"

namespace meter::kernel {

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
};

/// An NvmStore in RAM: the medium of tests and simulation. Not persistent across processes.
class RamNvmStore final : public NvmStore {
 public:
  Result<std::optional<Value>> get(std::string_view name_space,
                                   std::string_view key) const override;
  Result<void> apply(const std::vector<NvmWrite>& batch) override;
  std::vector<std::string> keys(std::string_view name_space) const override;
  /// Batches applied so far (one per put, erase or committed transaction).
  std::size_t batches() const noexcept { return batches_; }

 private:
  std::map<std::string, std::map<std::string, Value, std::less<>>, std::less<>> records_;
  std::size_t batches_ = 0;
};

}  // namespace meter::kernel
