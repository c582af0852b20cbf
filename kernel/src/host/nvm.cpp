// The RAM medium of the NVM store.
#include "meter/kernel/nvm.h"

#include <new>
#include <optional>

namespace meter::kernel {

Result<std::optional<Value>> RamNvmStore::get(std::string_view name_space,
                                              std::string_view key) const {
  auto ns = records_.find(name_space);
  if (ns == records_.end()) return std::optional<Value>{};
  auto it = ns->second.find(key);
  if (it == ns->second.end()) return std::optional<Value>{};
  return std::optional<Value>{it->second};
}

Result<void> RamNvmStore::apply(const std::vector<NvmWrite>& batch) {
  for (const auto& w : batch) {
    if (w.name_space.empty() || w.key.empty()) return fail("NVM write without namespace or key");
  }
  // All or nothing without copying the store (it is written every tick). Stage first: copy the
  // new values and make the nodes they go to; only this can fail, and nothing stored has
  // changed yet. Then commit with swaps and erases, which cannot fail.
  staged_.clear();
  created_.clear();
  try {
    staged_.reserve(batch.size());
    for (const auto& w : batch) {
      auto& space = records_[w.name_space];
      auto it = space.find(w.key);
      if (w.value && it == space.end()) {
        it = space.emplace(w.key, Value{false}).first;
        created_.push_back({&space, it});
      }
      staged_.push_back(Staged{&space, it, w.value ? *w.value : Value{false}, w.value.has_value()});
    }
  } catch (const std::bad_alloc&) {
    for (auto& [space, it] : created_) space->erase(it);
    return fail("NVM batch refused: out of memory; nothing was written");
  }
  for (auto& s : staged_) {
    if (s.store) {
      using std::swap;
      swap(s.node->second, s.value);
    } else if (s.node != s.space->end()) {
      s.space->erase(s.node);
    }
  }
  ++batches_;
  return {};
}

Result<void> RamNvmStore::put(std::string_view name_space, std::string_view key,
                              const Value& value) {
  if (name_space.empty() || key.empty()) return fail("NVM write without namespace or key");
  // A record put again (a plugin's every tick) is assigned in place: its buffer is reused.
  if (auto ns = records_.find(name_space); ns != records_.end()) {
    if (auto it = ns->second.find(key); it != ns->second.end()) {
      try {
        if (it->second.index() == value.index()) {
          it->second = value;
        } else {
          Value copy = value;
          it->second = std::move(copy);
        }
      } catch (const std::bad_alloc&) {
        return fail("NVM write refused: out of memory; nothing was written");
      }
      ++batches_;
      return {};
    }
  }
  return apply({NvmWrite{std::string(name_space), std::string(key), value}});
}

std::vector<std::string> RamNvmStore::keys(std::string_view name_space) const {
  std::vector<std::string> out;
  if (auto ns = records_.find(name_space); ns != records_.end()) {
    for (const auto& [key, value] : ns->second) out.push_back(key);
  }
  return out;
}

}  // namespace meter::kernel
