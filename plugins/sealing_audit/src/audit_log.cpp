// The audit log: the hash chain, the check at open and the NVM transactions.
#include "audit_log.h"

#include <sodium.h>

#include <algorithm>

namespace meter::plugins::sealing_audit {

namespace {

constexpr std::size_t kMetaBytes = 8 * 4 + 4 + 2 * kChainBytes;

void join(std::string& findings, const std::string& more) {
  findings += (findings.empty() ? "" : "; ") + more;
}

}  // namespace

Chain chain_after(const Chain& previous, const std::vector<std::uint8_t>& body) {
  Chain out{};
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, out.size());
  crypto_generichash_update(&state, previous.data(), previous.size());
  crypto_generichash_update(&state, body.data(), body.size());
  crypto_generichash_final(&state, out.data(), out.size());
  return out;
}

std::vector<std::uint8_t> AuditLog::meta() const {
  std::vector<std::uint8_t> out;
  out.reserve(kMetaBytes);
  detail::put(out, first_, 8);
  detail::put(out, next_, 8);
  detail::put(out, read_upto_, 8);
  detail::put(out, dropped_, 8);
  detail::put(out, capacity_, 4);
  out.insert(out.end(), anchor_.begin(), anchor_.end());
  out.insert(out.end(), head_.begin(), head_.end());
  return out;
}

std::string AuditLog::open(const KernelCounters& counters) {
  entries_.clear();
  finding_.clear();
  const auto stored = nvm_.get(keys_.meta);
  if (!stored) {
    const bool moved = counters.calibration.value_or(0) != 0 || counters.configuration.value_or(0) != 0;
    if (moved) {
      finding_ = "the log is missing while the event counters read calibration " +
                 std::to_string(*counters.calibration) + ", configuration " +
                 std::to_string(*counters.configuration);
    }
    return finding_;
  }
  const auto* bytes = std::get_if<std::vector<std::uint8_t>>(&*stored);
  if (bytes == nullptr || bytes->size() != kMetaBytes) {
    finding_ = "the log's index record is malformed";
    return finding_;
  }
  detail::Reader in(bytes->data(), bytes->size());
  first_ = in.get(8);
  next_ = in.get(8);
  read_upto_ = in.get(8);
  dropped_ = in.get(8);
  capacity_ = static_cast<std::uint32_t>(in.get(4));
  anchor_ = in.bytes<kChainBytes>();
  head_ = in.bytes<kChainBytes>();
  if (first_ == 0 || next_ < first_ || next_ - first_ > 100000) {
    finding_ = "the log's index record is inconsistent";
    first_ = next_ = std::max<std::uint64_t>(next_, 1);
    return finding_;
  }

  Chain previous = anchor_;
  for (std::uint64_t seq = first_; seq < next_; ++seq) {
    const auto value = nvm_.get(record_key(seq));
    const auto* raw = value ? std::get_if<std::vector<std::uint8_t>>(&*value) : nullptr;
    if (raw == nullptr || raw->size() <= kChainBytes) {
      join(finding_, "record " + std::to_string(seq) + " was deleted");
      continue;
    }
    Entry e;
    e.body.assign(raw->begin(), raw->end() - kChainBytes);
    std::copy(raw->end() - kChainBytes, raw->end(), e.chain.begin());
    auto record = decode_body(e.body.data(), e.body.size());
    if (!record) {
      join(finding_, "record " + std::to_string(seq) + " is malformed");
      previous = e.chain;
      continue;
    }
    if (record->sequence != seq) {
      join(finding_, "record " + std::to_string(seq) + " holds record " +
                         std::to_string(record->sequence) + " (reordered)");
    } else if (chain_after(previous, e.body) != e.chain) {
      join(finding_, "record " + std::to_string(seq) + " was altered");
    }
    previous = e.chain;
    e.record = std::move(*record);
    entries_.push_back(std::move(e));
  }
  if (previous != head_) join(finding_, "the newest records were removed");

  // The newest change record of each counter must read what the kernel's counter reads.
  auto check = [this](std::uint8_t parameter_class, std::optional<std::uint16_t> kernel,
                      const char* name) {
    if (!kernel) return;
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
      const auto& r = it->record;
      if (r.kind != RecordKind::parameter_changed || r.parameter_class != parameter_class) continue;
      if (r.counter != *kernel) {
        join(finding_, std::string("the ") + name + " counter reads " + std::to_string(*kernel) +
                           " but the newest record says " + std::to_string(r.counter));
      }
      return;
    }
  };
  check(4, counters.calibration, "calibration");
  check(3, counters.configuration, "configuration");
  return finding_;
}

void AuditLog::grow_capacity(std::uint32_t records) { capacity_ = std::max(capacity_, records); }

bool AuditLog::ready() const noexcept {
  if (count() < capacity_ || when_full_ == WhenFull::overwrite_oldest) return true;
  return when_full_ == WhenFull::overwrite_read && first_ <= read_upto_ && first_ < next_;
}

std::uint32_t AuditLog::percent_full() const noexcept {
  if (capacity_ == 0) return 100;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(count(), capacity_) * 100 / capacity_);
}

bool AuditLog::append(Record record) {
  const bool full = count() >= capacity_;
  if (full && !ready()) {
    ++dropped_;
    nvm_.put(keys_.meta, sdk::Value{meta()});
    return false;
  }
  record.sequence = next_;
  Entry e;
  e.body = encode_body(record);
  e.chain = chain_after(head_, e.body);
  e.record = std::move(record);

  // The state after the append; kept only when the transaction commits.
  const auto old_first = first_;
  const auto old_anchor = anchor_;
  const auto old_head = head_;
  std::optional<std::uint64_t> overwritten;
  if (full) {
    overwritten = first_;
    if (!entries_.empty() && entries_.front().record.sequence == first_) {
      anchor_ = entries_.front().chain;
    }
    ++first_;
  }
  head_ = e.chain;
  ++next_;
  std::vector<std::uint8_t> stored = e.body;
  stored.insert(stored.end(), e.chain.begin(), e.chain.end());
  try {
    nvm_.transaction([&] {
      if (overwritten) nvm_.erase(record_key(*overwritten));
      nvm_.put(record_key(e.record.sequence), sdk::Value{std::move(stored)});
      nvm_.put(keys_.meta, sdk::Value{meta()});
    });
  } catch (...) {
    first_ = old_first;
    anchor_ = old_anchor;
    head_ = old_head;
    --next_;
    throw;
  }
  if (overwritten && !entries_.empty() && entries_.front().record.sequence == *overwritten) {
    entries_.pop_front();
  }
  entries_.push_back(std::move(e));
  return true;
}

void AuditLog::mark_read() {
  if (next_ == 0 || read_upto_ == next_ - 1) return;
  read_upto_ = next_ - 1;
  nvm_.put(keys_.meta, sdk::Value{meta()});
}

Log AuditLog::snapshot() const {
  Log log;
  log.capacity = capacity_;
  log.dropped = dropped_;
  log.tampered = tampered();
  log.finding = finding_;
  log.anchor = anchor_;
  log.entries.assign(entries_.begin(), entries_.end());
  return log;
}

std::string AuditLog::status() const {
  std::string s = std::to_string(entries_.size()) + " of " + std::to_string(capacity_) +
                  " records, " + std::to_string(percent_full()) + " % full, " +
                  std::to_string(dropped_) + " lost because full, ";
  s += ready() ? "recording" : "FULL: protected changes refused";
  s += tampered() ? "; chain TAMPERED: " + finding_ : "; chain intact";
  return s;
}

}  // namespace meter::plugins::sealing_audit
