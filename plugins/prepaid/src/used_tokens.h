// The ids of the last tokens the meter accepted, kept in NVM to refuse a replay. The window
// keeps the highest ids: when it is full, accepting a token drops the lowest id, and a token
// below the lowest id kept is refused, because the meter can no longer tell whether it was used.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace meter::plugins::prepaid {

/// Whether a token id may be accepted. Zero is never a verdict.
enum class IdVerdict : std::uint8_t { fresh = 1, used, too_old };

class UsedTokens {
 public:
  explicit UsedTokens(std::size_t capacity) : capacity_(capacity) { ids_.reserve(capacity + 1); }

  IdVerdict check(std::uint32_t id) const noexcept {
    if (std::binary_search(ids_.begin(), ids_.end(), id)) return IdVerdict::used;
    if (ids_.size() >= capacity_ && !ids_.empty() && id < ids_.front()) return IdVerdict::too_old;
    return IdVerdict::fresh;
  }
  /// Records an accepted id (check() said fresh).
  void add(std::uint32_t id) {
    ids_.insert(std::upper_bound(ids_.begin(), ids_.end(), id), id);
    while (ids_.size() > capacity_) ids_.erase(ids_.begin());
  }
  /// Ids in increasing order.
  const std::vector<std::uint32_t>& ids() const noexcept { return ids_; }
  /// Takes stored ids (any order; duplicates dropped; the lowest beyond the capacity dropped).
  void restore(std::vector<std::uint32_t> ids) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    if (ids.size() > capacity_) {
      ids.erase(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(ids.size() - capacity_));
    }
    ids_ = std::move(ids);
  }
  /// After the stored ids were lost: every id up to `newest` (the newest purchase known) counts
  /// as used, by filling the window with the ids just below it, so a full window refuses
  /// anything older too. Stored like any window, so it holds across restarts.
  void refuse_up_to(std::uint32_t newest) {
    ids_.clear();
    const std::uint64_t count = std::min<std::uint64_t>(capacity_, std::uint64_t{newest} + 1);
    const std::uint64_t first = std::uint64_t{newest} + 1 - count;
    for (std::uint64_t i = 0; i < count; ++i) ids_.push_back(static_cast<std::uint32_t>(first + i));
  }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  std::size_t capacity_;
  std::vector<std::uint32_t> ids_;
};

}  // namespace meter::plugins::prepaid
