// The RAM medium of the NVM store.
#include "meter/kernel/nvm.h"

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
  auto next = records_;  // all or nothing: build the new state, then swap it in
  for (const auto& w : batch) {
    if (w.value) {
      next[w.name_space][w.key] = *w.value;
    } else if (auto ns = next.find(w.name_space); ns != next.end()) {
      ns->second.erase(w.key);
    }
  }
  records_.swap(next);
  ++batches_;
  return {};
}

std::vector<std::string> RamNvmStore::keys(std::string_view name_space) const {
  std::vector<std::string> out;
  if (auto ns = records_.find(name_space); ns != records_.end()) {
    for (const auto& [key, value] : ns->second) out.push_back(key);
  }
  return out;
}

}  // namespace meter::kernel
