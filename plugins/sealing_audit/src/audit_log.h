// The audit log: records hash-chained with BLAKE2b (libsodium crypto_generichash) and kept in
// the plugin's NVM namespace, one record per key, checked from end to end when it is opened.
//
// NVM layout (namespace sealing_audit):
//   "meta"      octets: u64 first, u64 next, u64 read_upto, u64 dropped, u32 capacity,
//               u8[32] anchor, u8[32] head (little-endian): the change log
//   "r<seq>"    octets: the record's body (audit_format.h) followed by its 32-byte chain
//   "events.meta", "e<seq>": the same for the event log (a ring)
//   "repeats"   octets: the repeats counted and not yet written (sealing_audit_plugin.cpp)
//   "plugins"   text: one "id version sha256" line per plugin seen, to tell loads from updates
//
// Thread: the kernel thread, inside the plugin's callbacks.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include <meter/plugins/sealing_audit/audit_format.h>
#include <meter/sdk/plugin.h>

namespace meter::plugins::sealing_audit {

/// What a full log does. Zero is not a policy.
enum class WhenFull : std::uint8_t {
  refuse = 1,      ///< keep every record; the meter refuses further protected changes
  overwrite_read,  ///< overwrite the oldest record, but only one already read out
  overwrite_oldest,  ///< a ring: the newest `capacity` records (the event log)
};

/// Where a log lives in the plugin's NVM namespace.
struct LogKeys {
  std::string meta = "meta";   ///< the index record
  std::string record = "r";    ///< prefix of "<prefix><sequence>"
};

/// The event counters the kernel shows (0-0:128.6.1, 0-0:128.6.2), when it has them.
struct KernelCounters {
  std::optional<std::uint16_t> calibration;
  std::optional<std::uint16_t> configuration;
};

/// The chain hash of `body` after `previous`: BLAKE2b-256(previous || body).
Chain chain_after(const Chain& previous, const std::vector<std::uint8_t>& body);

class AuditLog {
 public:
  AuditLog(sdk::Nvm nvm, WhenFull when_full, LogKeys keys = {})
      : nvm_(std::move(nvm)), when_full_(when_full), keys_(std::move(keys)) {}

  /// Reads the stored log and checks it: every record present, in order, its chain matching,
  /// the newest one the one the log last wrote, and the newest change records agreeing with the
  /// kernel's counters (a log deleted whole, or records missing at its end). Returns what was
  /// found, empty when the log is intact. The records found stay as evidence.
  std::string open(const KernelCounters& counters);

  /// Grows the capacity (records) to `records`; it never shrinks, so nothing kept is lost.
  void grow_capacity(std::uint32_t records);

  /// Room for one more record: not full, or full with the oldest record read and overwriting
  /// allowed.
  bool ready() const noexcept;
  /// Appends a record (its sequence is set here) in one NVM transaction. False when the log is
  /// full and may not overwrite: the record is counted as dropped.
  bool append(Record record);
  /// Marks every record so far as read out (a printout or a port read the log object).
  void mark_read();

  /// The log as the object 0-0:99.98.0 carries it (audit_format.h), without events.
  Log snapshot() const;
  /// One line: records, capacity, how full, dropped, the chain's state.
  std::string status() const;
  /// How full the log is, 0..100 %.
  std::uint32_t percent_full() const noexcept;
  bool tampered() const noexcept { return !finding_.empty(); }
  const std::string& finding() const noexcept { return finding_; }
  std::size_t size() const noexcept { return entries_.size(); }
  std::uint32_t capacity() const noexcept { return capacity_; }
  std::uint64_t dropped() const noexcept { return dropped_; }

 private:
  std::vector<std::uint8_t> meta() const;
  std::uint64_t count() const noexcept { return next_ - first_; }
  std::string record_key(std::uint64_t sequence) const {
    return keys_.record + std::to_string(sequence);
  }

  sdk::Nvm nvm_;
  WhenFull when_full_;
  LogKeys keys_;
  std::deque<Entry> entries_;
  std::uint64_t first_ = 1;
  std::uint64_t next_ = 1;
  std::uint64_t read_upto_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint32_t capacity_ = 10;
  Chain anchor_{};
  Chain head_{};
  std::string finding_;
};

}  // namespace meter::plugins::sealing_audit
