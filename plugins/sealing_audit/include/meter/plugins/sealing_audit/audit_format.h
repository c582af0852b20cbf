// The audit log's encoding (object 0-0:99.98.0), its decoder and the printed report: what a
// meter shop prints on site (4 CCR 4027.2 table S.3.1, category 3). Standard library only, so
// meterd and meterctl can print a log without the plugin or libsodium.
//
// Integers are little-endian. A text is a u16 length and that many UTF-8 bytes.
//
//   log     = "SAL1" u16 version(2) u32 capacity u32 count u64 dropped u8 tampered
//             text finding  u8[32] anchor  count x entry
//             events      (version 2; a version 1 log ends before it)
//   events  = u32 capacity u32 count u64 coalesced u8[32] anchor  count x entry
//   entry   = u32 body_length  body  u8[32] chain
//   body    = u64 sequence u8 kind i64 time_utc_ms u8 time_valid u16 counter
//             u8[6] obis u8 via u8 role u8 parameter_class  text old  text new  text who
//
// Two logs, each with its own chain and sequence: the change log (parameter changes, seals,
// plugins, tampering: what table S.3.1 requires kept, sized for the meter's parameters) and
// the event log (power, time, failed logons, refused writes: a ring of the newest). Nothing an
// outsider can cause goes into the change log, so no outsider can fill it.
//
// chain(n) = BLAKE2b-256(chain(n-1) || body(n)); `anchor` is the chain of the record before the
// oldest one kept (32 zero bytes while nothing was overwritten). `counter` is the event
// counter (0..999) a parameter change stepped, 0xFFFF for other records.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace meter::plugins::sealing_audit {

/// What a record is about. Zero is not a kind.
enum class RecordKind : std::uint8_t {
  parameter_changed = 1,
  seal_changed,
  power_fail,
  power_restore,
  time_changed,
  logon_failed,
  port_locked,
  plugin_loaded,
  plugin_updated,
  plugin_refused,
  tamper_found,
  write_refused,     ///< the gate refused a write: object, interface, role, status and reason
  events_coalesced,  ///< repeats of a failed logon or a refused write, counted in one record
};

/// True for the records of the change log; the others go to the event log.
constexpr bool is_change_record(RecordKind k) noexcept {
  switch (k) {
    case RecordKind::parameter_changed:
    case RecordKind::seal_changed:
    case RecordKind::plugin_loaded:
    case RecordKind::plugin_updated:
    case RecordKind::plugin_refused:
    case RecordKind::tamper_found: return true;
    default: return false;
  }
}

inline constexpr std::uint16_t kNoCounter = 0xFFFF;
inline constexpr std::size_t kChainBytes = 32;
using Chain = std::array<std::uint8_t, kChainBytes>;

/// One audit record.
struct Record {
  std::uint64_t sequence = 0;  ///< 1 for the first record ever; never reused
  RecordKind kind = RecordKind::parameter_changed;
  std::int64_t time_utc_ms = 0;
  bool time_valid = false;
  std::uint16_t counter = kNoCounter;  ///< 0..999 for a parameter change
  std::array<std::uint8_t, 6> obis{};  ///< the parameter (A, B, C, D, E, F)
  std::uint8_t via = 0;     ///< meter_interface: 1 kernel, 2 optical port, 3 comms, 4 plugin, 5 button
  std::uint8_t role = 0;    ///< 1 public, 2 reader, 4 configurator, 8 calibrator
  std::uint8_t parameter_class = 0;  ///< 2 operational, 3 configuration, 4 calibration, 5 tariff;
                                     ///< for a refused write, the refusal's meter_status
  std::string old_value;
  std::string new_value;
  std::string who;  ///< who made the change, or the details of other records
};

/// A record as stored: its body and its chain hash.
struct Entry {
  Record record;
  std::vector<std::uint8_t> body;
  Chain chain{};
};

/// The event log: the newest events, a ring.
struct EventLog {
  std::uint32_t capacity = 0;
  std::uint64_t coalesced = 0;  ///< repeats counted into events_coalesced records, in all
  Chain anchor{};
  std::vector<Entry> entries;  ///< oldest first
};

/// The logs as the object 0-0:99.98.0 carries them.
struct Log {
  std::uint32_t capacity = 0;
  std::uint64_t dropped = 0;  ///< records lost because the log was full
  bool tampered = false;
  std::string finding;        ///< what the check at start found, when tampered
  Chain anchor{};
  std::vector<Entry> entries;  ///< the change log, oldest first
  EventLog events;
};

namespace detail {

inline void put(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
inline void put_text(std::vector<std::uint8_t>& out, const std::string& s) {
  const std::size_t n = s.size() < 0xFFFF ? s.size() : 0xFFFF;
  put(out, n, 2);
  out.insert(out.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
}

class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool ok() const noexcept { return ok_; }
  std::size_t left() const noexcept { return size_ - at_; }
  std::uint64_t get(int bytes) {
    if (!take(static_cast<std::size_t>(bytes))) return 0;
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= std::uint64_t{data_[at_ - bytes + i]} << (8 * i);
    return v;
  }
  std::string text() {
    const auto n = static_cast<std::size_t>(get(2));
    if (!take(n)) return {};
    return std::string(reinterpret_cast<const char*>(data_ + at_ - n), n);
  }
  template <std::size_t N>
  std::array<std::uint8_t, N> bytes() {
    std::array<std::uint8_t, N> out{};
    if (!take(N)) return out;
    for (std::size_t i = 0; i < N; ++i) out[i] = data_[at_ - N + i];
    return out;
  }
  std::vector<std::uint8_t> span(std::size_t n) {
    if (!take(n)) return {};
    return std::vector<std::uint8_t>(data_ + at_ - n, data_ + at_);
  }

 private:
  bool take(std::size_t n) {
    if (!ok_ || n > size_ - at_) {
      ok_ = false;
      return false;
    }
    at_ += n;
    return true;
  }
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
  bool ok_ = true;
};

inline std::string two(unsigned v) {
  char b[4];
  std::snprintf(b, sizeof b, "%02u", v % 100);
  return b;
}

}  // namespace detail

/// A record's body bytes (what the chain hashes).
inline std::vector<std::uint8_t> encode_body(const Record& r) {
  std::vector<std::uint8_t> out;
  out.reserve(40 + r.old_value.size() + r.new_value.size() + r.who.size());
  detail::put(out, r.sequence, 8);
  detail::put(out, static_cast<std::uint8_t>(r.kind), 1);
  detail::put(out, static_cast<std::uint64_t>(r.time_utc_ms), 8);
  detail::put(out, r.time_valid ? 1 : 0, 1);
  detail::put(out, r.counter, 2);
  out.insert(out.end(), r.obis.begin(), r.obis.end());
  detail::put(out, r.via, 1);
  detail::put(out, r.role, 1);
  detail::put(out, r.parameter_class, 1);
  detail::put_text(out, r.old_value);
  detail::put_text(out, r.new_value);
  detail::put_text(out, r.who);
  return out;
}

/// Decodes a body; nullopt when it is truncated, too long or of an unknown kind.
inline std::optional<Record> decode_body(const std::uint8_t* data, std::size_t size) {
  detail::Reader in(data, size);
  Record r;
  r.sequence = in.get(8);
  const auto kind = in.get(1);
  r.kind = static_cast<RecordKind>(kind);
  r.time_utc_ms = static_cast<std::int64_t>(in.get(8));
  r.time_valid = in.get(1) != 0;
  r.counter = static_cast<std::uint16_t>(in.get(2));
  r.obis = in.bytes<6>();
  r.via = static_cast<std::uint8_t>(in.get(1));
  r.role = static_cast<std::uint8_t>(in.get(1));
  r.parameter_class = static_cast<std::uint8_t>(in.get(1));
  r.old_value = in.text();
  r.new_value = in.text();
  r.who = in.text();
  if (!in.ok() || in.left() != 0 || kind < 1 ||
      kind > static_cast<int>(RecordKind::events_coalesced)) {
    return std::nullopt;
  }
  return r;
}

namespace detail {

inline void put_entries(std::vector<std::uint8_t>& out, const std::vector<Entry>& entries) {
  for (const auto& e : entries) {
    put(out, e.body.size(), 4);
    out.insert(out.end(), e.body.begin(), e.body.end());
    out.insert(out.end(), e.chain.begin(), e.chain.end());
  }
}

/// Reads `count` entries; false (and `error`) when one is malformed.
inline bool get_entries(Reader& in, std::uint64_t count, std::vector<Entry>& out,
                        const char* which, std::string& error) {
  for (std::uint64_t i = 0; i < count && in.ok(); ++i) {
    Entry e;
    e.body = in.span(static_cast<std::size_t>(in.get(4)));
    e.chain = in.bytes<kChainBytes>();
    if (!in.ok()) break;
    auto r = decode_body(e.body.data(), e.body.size());
    if (!r) {
      error = std::string(which) + " record " + std::to_string(i + 1) + " is malformed";
      return false;
    }
    e.record = std::move(*r);
    out.push_back(std::move(e));
  }
  return true;
}

}  // namespace detail

inline std::vector<std::uint8_t> encode_log(const Log& log) {
  std::vector<std::uint8_t> out{'S', 'A', 'L', '1'};
  detail::put(out, 2, 2);
  detail::put(out, log.capacity, 4);
  detail::put(out, log.entries.size(), 4);
  detail::put(out, log.dropped, 8);
  detail::put(out, log.tampered ? 1 : 0, 1);
  detail::put_text(out, log.finding);
  out.insert(out.end(), log.anchor.begin(), log.anchor.end());
  detail::put_entries(out, log.entries);
  detail::put(out, log.events.capacity, 4);
  detail::put(out, log.events.entries.size(), 4);
  detail::put(out, log.events.coalesced, 8);
  out.insert(out.end(), log.events.anchor.begin(), log.events.anchor.end());
  detail::put_entries(out, log.events.entries);
  return out;
}

/// Decodes the log object; nullopt (and `error`) when it is not a well-formed log.
inline std::optional<Log> decode_log(const std::uint8_t* data, std::size_t size, std::string& error) {
  detail::Reader in(data, size);
  const auto magic = in.bytes<4>();
  if (!in.ok() || magic != std::array<std::uint8_t, 4>{'S', 'A', 'L', '1'}) {
    error = "not an audit log (no SAL1 header)";
    return std::nullopt;
  }
  const auto version = in.get(2);
  if (version != 1 && version != 2) {
    error = "audit log version " + std::to_string(version) + " is not 1 or 2";
    return std::nullopt;
  }
  Log log;
  log.capacity = static_cast<std::uint32_t>(in.get(4));
  const auto count = in.get(4);
  log.dropped = in.get(8);
  log.tampered = in.get(1) != 0;
  log.finding = in.text();
  log.anchor = in.bytes<kChainBytes>();
  if (!detail::get_entries(in, count, log.entries, "audit", error)) return std::nullopt;
  if (version == 2 && in.ok()) {
    log.events.capacity = static_cast<std::uint32_t>(in.get(4));
    const auto events = in.get(4);
    log.events.coalesced = in.get(8);
    log.events.anchor = in.bytes<kChainBytes>();
    if (!detail::get_entries(in, events, log.events.entries, "event", error)) return std::nullopt;
  }
  if (!in.ok() || in.left() != 0) {
    error = "audit log is truncated or has trailing bytes";
    return std::nullopt;
  }
  return log;
}

inline const char* kind_name(RecordKind k) {
  switch (k) {
    case RecordKind::parameter_changed: return "parameter";
    case RecordKind::seal_changed: return "seal";
    case RecordKind::power_fail: return "power-fail";
    case RecordKind::power_restore: return "power-restore";
    case RecordKind::time_changed: return "time-change";
    case RecordKind::logon_failed: return "logon-failed";
    case RecordKind::port_locked: return "port-locked";
    case RecordKind::plugin_loaded: return "plugin-loaded";
    case RecordKind::plugin_updated: return "plugin-updated";
    case RecordKind::plugin_refused: return "plugin-refused";
    case RecordKind::tamper_found: return "TAMPER-FOUND";
    case RecordKind::write_refused: return "write-refused";
    case RecordKind::events_coalesced: return "repeated";
  }
  return "unknown";
}

inline const char* interface_name(std::uint8_t via) {
  switch (via) {
    case 1: return "kernel";
    case 2: return "optical-port";
    case 3: return "comms";
    case 4: return "plugin";
    case 5: return "local-button";
    default: return "-";
  }
}

inline const char* role_name(std::uint8_t role) {
  switch (role) {
    case 1: return "public";
    case 2: return "reader";
    case 4: return "configurator";
    case 8: return "calibrator";
    default: return "-";
  }
}

/// "2026-03-01 05:00:00Z" (UTC), or "time unknown".
inline std::string format_time(std::int64_t utc_ms, bool valid) {
  if (!valid) return "time unknown        ";
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds{utc_ms}};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> hms{t - day};
  return std::to_string(static_cast<int>(ymd.year())) + "-" +
         detail::two(static_cast<unsigned>(ymd.month())) + "-" +
         detail::two(static_cast<unsigned>(ymd.day())) + " " +
         detail::two(static_cast<unsigned>(hms.hours().count())) + ":" +
         detail::two(static_cast<unsigned>(hms.minutes().count())) + ":" +
         detail::two(static_cast<unsigned>(hms.seconds().count())) + "Z";
}

inline std::string obis_text(const std::array<std::uint8_t, 6>& o) {
  std::string s = std::to_string(o[0]) + "-" + std::to_string(o[1]) + ":" + std::to_string(o[2]) +
                  "." + std::to_string(o[3]) + "." + std::to_string(o[4]);
  if (o[5] != 255) s += "*" + std::to_string(o[5]);
  return s;
}

/// One line of the report for a record.
inline std::string format_record(const Record& r) {
  char head[64];
  std::snprintf(head, sizeof head, "%6llu  ", static_cast<unsigned long long>(r.sequence));
  std::string line = head;
  if (r.counter == kNoCounter) {
    line += "---";
  } else {
    char c[8];
    std::snprintf(c, sizeof c, "%03u", static_cast<unsigned>(r.counter));
    line += c;
  }
  line += "  " + format_time(r.time_utc_ms, r.time_valid) + "  ";
  std::string kind = kind_name(r.kind);
  if (r.kind == RecordKind::parameter_changed) {
    kind = r.parameter_class == 4   ? "calibration"
           : r.parameter_class == 3 ? "configuration"
           : r.parameter_class == 5 ? "tariff"
                                    : "operational";
  }
  // The longest kind ("events-coalesced") and a space: no kind runs into its details.
  kind.resize(17, ' ');
  line += kind;
  if (r.kind == RecordKind::parameter_changed) {
    line += obis_text(r.obis) + "  " + r.old_value + " -> " + r.new_value + "  by " +
            interface_name(r.via) + "/" + role_name(r.role);
    if (!r.who.empty() && r.who != interface_name(r.via)) line += " (" + r.who + ")";
  } else if (r.kind == RecordKind::write_refused) {
    line += obis_text(r.obis) + "  by " + interface_name(r.via) + "/" + role_name(r.role);
    if (!r.who.empty() && r.who != interface_name(r.via)) line += " (" + r.who + ")";
    line += "  " + r.old_value + ": " + r.new_value;
  } else {
    if (r.via != 0) line += std::string(interface_name(r.via)) + "  ";
    if (!r.old_value.empty() || !r.new_value.empty()) {
      line += r.old_value + " -> " + r.new_value + "  ";
    }
    line += r.who;
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

/// The printed report of a log: a header with capacity and the chain's state, one line per
/// record (sequence, event counter, UTC date and time, what, parameter, old -> new, interface
/// and role), and a footer with the newest chain hash to compare with a later print.
inline std::string format_report(const Log& log, const std::string& meter_id = {}) {
  std::string out = "AUDIT TRAIL (event logger, 4 CCR 4027.2 table S.3.1 category 3)\n";
  if (!meter_id.empty()) out += "meter: " + meter_id + "\n";
  out += "records: " + std::to_string(log.entries.size()) + " of " +
         std::to_string(log.capacity) + "; lost because full: " + std::to_string(log.dropped) +
         "\n";
  out += log.tampered ? "chain: TAMPERED: " + log.finding + "\n" : "chain: intact\n";
  out += "   seq  cnt  date and time (UTC)    event         details\n";
  for (const auto& e : log.entries) out += format_record(e.record) + "\n";
  static constexpr char kHex[] = "0123456789abcdef";
  auto hex = [](const Chain& c) {
    std::string h;
    for (auto b : c) {
      h += kHex[b >> 4];
      h += kHex[b & 15];
    }
    return h;
  };
  out += "newest chain hash: " +
         hex(log.entries.empty() ? log.anchor : log.entries.back().chain) + "\n";
  if (log.events.capacity == 0) return out;
  out += "EVENTS (power, time, failed logons, refused writes; the newest " +
         std::to_string(log.events.capacity) + " kept)\n";
  out += "records: " + std::to_string(log.events.entries.size()) + " of " +
         std::to_string(log.events.capacity) + "; repeats counted: " +
         std::to_string(log.events.coalesced) + "\n";
  out += "   seq  cnt  date and time (UTC)    event         details\n";
  for (const auto& e : log.events.entries) out += format_record(e.record) + "\n";
  out += "newest event chain hash: " +
         hex(log.events.entries.empty() ? log.events.anchor : log.events.entries.back().chain) +
         "\n";
  return out;
}

/// Decodes the object's octets and formats the report; false (and `error`) when malformed.
inline bool log_octets_to_report(const std::uint8_t* data, std::size_t size, std::string& report,
                                 std::string& error, const std::string& meter_id = {}) {
  auto log = decode_log(data, size, error);
  if (!log) return false;
  report = format_report(*log, meter_id);
  return true;
}

}  // namespace meter::plugins::sealing_audit
