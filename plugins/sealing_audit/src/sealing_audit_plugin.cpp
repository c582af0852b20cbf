// The sealing_audit plugin: the event logger of a category 3 meter. It opens and checks its two
// hash-chained logs at start, records every event the audit trail needs from the bus, and
// provides the logs (0-0:99.98.0), their status (0-0:99.98.1), how full the change log is
// (0-0:99.98.2) and the "event logger ready" flag (0-0:128.6.6) that the kernel's parameter
// gate requires before a protected change.
//
// The change log (parameter changes, seals, plugins, tampering) is sized for the meter's
// counted parameters and only a change made through the gate can fill it. Everything an
// outsider can cause (failed logons, refused writes) and the power and time events go to the
// event log, a ring of the newest; repeats of the same failed logon or refused write within a
// period are counted into one record, and an interface gets a bounded number of records per
// period, so a flood costs a few records, never the log.
#include <algorithm>
#include <map>
#include <tuple>
#include <optional>
#include <sstream>
#include <string>

#include <meter/sdk/plugin.h>

#include "audit_log.h"

namespace meter::plugins::sealing_audit {
namespace {

using sdk::obis;

constexpr sdk::Obis kLogObject = obis("0-0:99.98.0");
constexpr sdk::Obis kStatusObject = obis("0-0:99.98.1");
constexpr sdk::Obis kFillObject = obis("0-0:99.98.2");
constexpr sdk::Obis kReadyObject = obis("0-0:128.6.6");
constexpr sdk::Obis kCalibrationCounter = obis("0-0:128.6.1");
constexpr sdk::Obis kConfigurationCounter = obis("0-0:128.6.2");
constexpr sdk::Obis kSealableParameters = obis("0-0:128.6.5");
constexpr std::uint8_t kRolesThatReadTheLog =
    METER_ROLE_READER | METER_ROLE_CONFIGURATOR | METER_ROLE_CALIBRATOR;
constexpr std::uint32_t kRecordsPerParameter = 10;    // table S.3.1
constexpr std::uint32_t kMaxRecords = 1000;
constexpr std::uint32_t kMinRecords = 10;
constexpr const char* kPluginsKey = "plugins";
constexpr const char* kRepeatsKey = "repeats";
/// Distinct refused writes or failed logons recorded in full per interface and period; the
/// rest of the period's are counted into one record.
constexpr std::size_t kDistinctPerPeriod = 16;

const char* seal_name(std::int32_t kind) {
  switch (kind) {
    case METER_SEAL_COVER: return "cover seal";
    case METER_SEAL_PROGRAMMING_JUMPER: return "programming jumper";
    case METER_SEAL_OPTICAL_PLUG: return "optical port sealing plug";
    case METER_SEAL_ELECTRONIC: return "electronic seal";
    default: return "seal";
  }
}

/// What makes two outsider events "the same" for counting repeats.
struct RepeatKey {
  std::uint8_t kind = 0;  // RecordKind
  std::uint8_t via = 0;
  std::array<std::uint8_t, 6> obis{};
  std::uint8_t role = 0;
  std::uint8_t status = 0;
  std::string reason;
  friend auto operator<=>(const RepeatKey&, const RepeatKey&) = default;
};

/// A window of repeats: the first event of it was recorded in full; `count` more came since.
struct Repeats {
  std::int64_t window_start_ms = 0;
  std::int64_t first_ms = 0;  ///< of the first repeat counted
  std::int64_t last_ms = 0;
  std::uint64_t count = 0;
  Record last;  ///< the newest repeat, whose details the summary shows
};

/// Counts repeats of failed logons and refused writes per period, and writes each window's
/// count as one events_coalesced record when it closes. What is counted and not yet written is
/// kept in NVM, so a power cut loses no count.
class RepeatCounter {
 public:
  RepeatCounter(sdk::Nvm nvm, std::int64_t period_ms) : nvm_(std::move(nvm)), period_ms_(period_ms) {}

  /// True when `r` is to be recorded in full; false when it was counted as a repeat.
  bool admit(const Record& r) {
    const RepeatKey key = key_of(r);
    const std::int64_t t = r.time_utc_ms;
    auto it = windows_.find(key);
    if (it != windows_.end() && in_window(it->second, t)) {
      count(it->second, r);
      return false;
    }
    // A new window: within the period the interface has a budget of distinct records; past
    // it, the event is counted under its kind and interface alone.
    std::size_t open = 0;
    for (const auto& [k, w] : windows_) open += k.via == key.via && k.kind == key.kind && in_window(w, t);
    if (open >= kDistinctPerPeriod) {
      RepeatKey other{key.kind, key.via, {}, 0, 0, "other"};
      auto& w = windows_[other];
      if (!in_window(w, t)) w = Repeats{t, 0, 0, 0, {}};
      count(w, r);
      return false;
    }
    windows_[key] = Repeats{t, 0, 0, 0, {}};
    return true;
  }

  /// The summary records of the windows closed by `now` (all of them when `all`); they are
  /// removed from the counter.
  std::vector<Record> closed(std::int64_t now, bool all) {
    std::vector<Record> out;
    for (auto it = windows_.begin(); it != windows_.end();) {
      if (all || !in_window(it->second, now)) {
        if (it->second.count > 0) out.push_back(summary(it->first, it->second));
        it = windows_.erase(it);
      } else {
        ++it;
      }
    }
    if (!out.empty()) save();
    return out;
  }

  /// The counts a previous run kept: written as summaries at start.
  std::vector<Record> restore() {
    std::vector<Record> out;
    const auto v = nvm_.get(kRepeatsKey);
    const auto* bytes = v ? std::get_if<std::vector<std::uint8_t>>(&*v) : nullptr;
    if (bytes == nullptr) return out;
    detail::Reader in(bytes->data(), bytes->size());
    total_ = in.get(8);
    const auto n = in.get(4);
    for (std::uint64_t i = 0; i < n && in.ok(); ++i) {
      Repeats w;
      w.first_ms = static_cast<std::int64_t>(in.get(8));
      w.last_ms = static_cast<std::int64_t>(in.get(8));
      w.count = in.get(8);
      const auto body = in.span(static_cast<std::size_t>(in.get(4)));
      auto last = decode_body(body.data(), body.size());
      if (!in.ok() || !last) break;
      w.last = std::move(*last);
      out.push_back(summary(key_of(w.last), w));
    }
    save();  // the windows are closed: only the total stays
    return out;
  }

  std::uint64_t total() const noexcept { return total_; }
  void set_total(std::uint64_t n) noexcept { total_ = n; }

 private:
  bool in_window(const Repeats& w, std::int64_t t) const {
    return t >= w.window_start_ms && t - w.window_start_ms < period_ms_;
  }

  void count(Repeats& w, const Record& r) {
    if (w.count == 0) w.first_ms = r.time_utc_ms;
    w.last_ms = r.time_utc_ms;
    ++w.count;
    ++total_;
    w.last = r;
    save();
  }

  static RepeatKey key_of(const Record& r) {
    return {static_cast<std::uint8_t>(r.kind), r.via, r.obis, r.role, r.parameter_class,
            r.kind == RecordKind::logon_failed ? r.who.substr(0, r.who.find(',')) : std::string()};
  }

  static Record summary(const RepeatKey& key, const Repeats& w) {
    Record r = w.last;
    r.kind = RecordKind::events_coalesced;
    r.time_utc_ms = w.last_ms;
    r.counter = kNoCounter;
    r.old_value = kind_name(static_cast<RecordKind>(key.kind));
    r.new_value = std::to_string(w.count) + " more";
    r.who = (key.reason == "other" ? std::string("of other objects or reasons ") : std::string()) +
            "from " + format_time(w.first_ms, true) + " to " + format_time(w.last_ms, true) +
            "; last: " + w.last.who;
    return r;
  }

  void save() {
    std::vector<std::uint8_t> out;
    std::uint32_t n = 0;
    for (const auto& [k, w] : windows_) n += w.count > 0 ? 1 : 0;
    detail::put(out, total_, 8);
    detail::put(out, n, 4);
    for (const auto& [k, w] : windows_) {
      if (w.count == 0) continue;
      detail::put(out, static_cast<std::uint64_t>(w.first_ms), 8);
      detail::put(out, static_cast<std::uint64_t>(w.last_ms), 8);
      detail::put(out, w.count, 8);
      const auto body = encode_body(w.last);
      detail::put(out, body.size(), 4);
      out.insert(out.end(), body.begin(), body.end());
    }
    nvm_.put(kRepeatsKey, sdk::Value{std::move(out)});
  }

  sdk::Nvm nvm_;
  std::int64_t period_ms_;
  std::map<RepeatKey, Repeats> windows_;
  std::uint64_t total_ = 0;
};

}  // namespace

class SealingAuditPlugin {
 public:
  explicit SealingAuditPlugin(sdk::Host& host)
      : host_(host),
        configured_capacity_(static_cast<std::uint32_t>(host.config<std::int64_t>("capacity_records"))),
        event_capacity_(static_cast<std::uint32_t>(host.config<std::int64_t>("event_capacity_records"))),
        repeat_period_ms_(host.config<std::int64_t>("repeat_period_s") * 1000),
        warn_at_percent_(static_cast<std::uint32_t>(host.config<std::int64_t>("warn_at_percent"))),
        when_full_(host.config<std::string>("when_full") == "overwrite-read" ? WhenFull::overwrite_read
                                                                            : WhenFull::refuse) {}

  void start() {
    log_.emplace(host_.nvm(), when_full_);
    const std::string finding = log_->open({counter(kCalibrationCounter), counter(kConfigurationCounter)});
    update_capacity();
    events_.emplace(host_.nvm(), WhenFull::overwrite_oldest, LogKeys{"events.meta", "e"});
    std::string event_finding = events_->open({});
    events_->grow_capacity(event_capacity_);
    repeats_.emplace(host_.nvm(), repeat_period_ms_);
    load_known_plugins();

    host_.provide({.id = kLogObject,
                   .type = METER_VALUE_OCTETS,
                   .read_roles = kRolesThatReadTheLog,
                   .legally_relevant = true,
                   .description = "audit log (event logger): hash-chained records, oldest first"},
                  [this] {
                    log_->mark_read();
                    Log log = log_->snapshot();
                    const Log events = events_->snapshot();
                    log.events.capacity = events.capacity;
                    log.events.coalesced = repeats_->total();
                    log.events.anchor = events.anchor;
                    log.events.entries = events.entries;
                    return encode_log(log);
                  });
    host_.provide({.id = kStatusObject,
                   .type = METER_VALUE_TEXT,
                   .legally_relevant = true,
                   .description = "audit log status: records, capacity, lost records, chain"},
                  [this] { return status(); });
    host_.provide({.id = kFillObject,
                   .type = METER_VALUE_UNSIGNED,
                   .unit = METER_UNIT_PERCENT,
                   .legally_relevant = true,
                   .description = "audit log (change records) filled, %: a warning from warn_at_percent"},
                  [this] {
                    update_capacity();
                    return std::uint64_t{log_->percent_full()};
                  });
    host_.provide({.id = kReadyObject,
                   .type = METER_VALUE_BOOLEAN,
                   .legally_relevant = true,
                   .description = "event logger recording: protected changes are allowed"},
                  [this] {
                    update_capacity();
                    return log_->ready();
                  });

    if (!event_finding.empty()) {
      event_finding = "event log: " + event_finding;
      host_.error("audit log tampering found: " + event_finding);
      Record r = now_record(RecordKind::tamper_found);
      r.who = event_finding;
      append(std::move(r));
      host_.publish("sealing_audit.tampered", event_finding);
    }
    if (!finding.empty()) {
      host_.error("audit log tampering found: " + finding);
      Record r = now_record(RecordKind::tamper_found);
      r.who = finding;
      append(std::move(r));
      host_.publish("sealing_audit.tampered", finding);
    }
    for (auto& r : repeats_->restore()) append(std::move(r));

    host_.on<meter_parameter_changed>([this](const meter_parameter_changed& e) {
      Record r = record_at(RecordKind::parameter_changed, e.time_utc_ms);
      r.obis = {e.id.a, e.id.b, e.id.c, e.id.d, e.id.e, e.id.f};
      r.counter = e.counter != 0 ? static_cast<std::uint16_t>(e.counter_value) : kNoCounter;
      r.via = static_cast<std::uint8_t>(e.via);
      r.role = static_cast<std::uint8_t>(e.role);
      r.parameter_class = static_cast<std::uint8_t>(e.parameter_class);
      r.old_value = e.old_value ? e.old_value : "";
      r.new_value = e.new_value ? e.new_value : "";
      r.who = e.who ? e.who : "";
      append(std::move(r));
    });
    host_.on<meter_seal_changed>([this](const meter_seal_changed& e) {
      Record r = record_at(RecordKind::seal_changed, e.time_utc_ms);
      r.old_value = e.sealed ? "broken" : "sealed";
      r.new_value = e.sealed ? "sealed" : "broken";
      r.who = seal_name(e.kind);
      append(std::move(r));
    });
    host_.on<meter_time_event>([this](const meter_time_event& e) {
      append(record_at(RecordKind::power_fail, e.time_utc_ms));
    });
    host_.on<meter_power_restore>([this](const meter_power_restore& e) {
      Record r = record_at(RecordKind::power_restore, e.time_utc_ms);
      r.who = e.time_valid ? "outage " + std::to_string(e.outage_ms / 1000) + " s"
                           : "outage of unknown length";
      append(std::move(r));
    });
    host_.on<meter_time_changed>([this](const meter_time_changed& e) {
      Record r = record_at(RecordKind::time_changed, e.new_time_utc_ms);
      r.old_value = format_time(e.old_time_utc_ms, e.was_valid != 0);
      r.new_value = format_time(e.new_time_utc_ms, true);
      append(std::move(r));
    });
    host_.on<meter_logon_failed>([this](const meter_logon_failed& e) {
      Record r = record_at(RecordKind::logon_failed, e.time_utc_ms);
      r.via = static_cast<std::uint8_t>(e.via);
      r.who = std::string(e.reason ? e.reason : "") + ", failure " + std::to_string(e.failures);
      append_outsider(std::move(r));
    });
    host_.on<meter_write_refused>([this](const meter_write_refused& e) {
      Record r = record_at(RecordKind::write_refused, e.time_utc_ms);
      r.obis = {e.id.a, e.id.b, e.id.c, e.id.d, e.id.e, e.id.f};
      r.via = static_cast<std::uint8_t>(e.via);
      r.role = static_cast<std::uint8_t>(e.role);
      r.parameter_class = static_cast<std::uint8_t>(e.status);
      r.old_value = status_name(e.status);
      r.new_value = e.reason ? e.reason : "";
      r.who = e.who ? e.who : "";
      append_outsider(std::move(r));
    });
    host_.on<meter_port_locked>([this](const meter_port_locked& e) {
      Record r = record_at(RecordKind::port_locked, e.time_utc_ms);
      r.via = static_cast<std::uint8_t>(e.via);
      r.who = "locked for " + std::to_string(e.lockout_ms / 1000) + " s";
      append(std::move(r));
    });
    // The host replays the plugins loaded and refused before this subscription.
    host_.on<meter_plugin_loaded>([this](const meter_plugin_loaded& e) { on_loaded(e); });
    host_.on<meter_plugin_refused>([this](const meter_plugin_refused& e) {
      Record r = record_at(RecordKind::plugin_refused, e.time_utc_ms);
      r.who = std::string(e.id ? e.id : "") + ": " + (e.reason ? e.reason : "") + ": " +
              (e.detail ? e.detail : "");
      append(std::move(r));
    });
  }

  void stop() {
    if (!repeats_) return;
    for (auto& r : repeats_->closed(0, true)) append(std::move(r));
  }

  sdk::Status self_test() const {
    return log_ && !log_->tampered() && events_ && !events_->tampered() ? sdk::Status::ok
                                                                         : sdk::Status::error;
  }

 private:
  std::optional<std::uint16_t> counter(const sdk::Obis& id) const {
    const auto v = host_.read(id);
    const auto* n = v ? std::get_if<std::uint64_t>(&*v) : nullptr;
    if (n == nullptr) return std::nullopt;
    return static_cast<std::uint16_t>(*n);
  }

  void update_capacity() {
    if (configured_capacity_ > 0) {
      log_->grow_capacity(configured_capacity_);
      return;
    }
    std::uint64_t sealable = 0;
    if (const auto v = host_.read(kSealableParameters)) {
      if (const auto* n = std::get_if<std::uint64_t>(&*v)) sealable = *n;
    }
    const auto wanted = std::clamp<std::uint64_t>(sealable * kRecordsPerParameter, kMinRecords, kMaxRecords);
    log_->grow_capacity(static_cast<std::uint32_t>(wanted));
  }

  Record record_at(RecordKind kind, std::int64_t time_utc_ms) const {
    Record r;
    r.kind = kind;
    r.time_utc_ms = time_utc_ms;
    r.time_valid = host_.time_valid();
    return r;
  }
  Record now_record(RecordKind kind) const {
    return record_at(kind, host_.now().time_since_epoch().count());
  }

  static const char* status_name(meter_status s) {
    switch (s) {
      case METER_STATUS_DENIED: return "denied";
      case METER_STATUS_SEALED: return "sealed";
      case METER_STATUS_LOCKED: return "locked";
      case METER_STATUS_INVALID_ARGUMENT: return "invalid";
      case METER_STATUS_NOT_FOUND: return "not-found";
      case METER_STATUS_UNAVAILABLE: return "unavailable";
      default: return "refused";
    }
  }

  std::string status() const {
    std::string s = log_->status();
    if (log_->percent_full() >= warn_at_percent_) {
      s += "; WARNING: log " + std::to_string(log_->percent_full()) + " % full";
    }
    s += "; events: " + std::to_string(events_->size()) + " of " +
         std::to_string(events_->capacity()) + ", " + std::to_string(repeats_->total()) +
         " repeats counted";
    s += events_->tampered() ? ", chain TAMPERED: " + events_->finding() : ", chain intact";
    return s;
  }

  /// A failed logon or a refused write: recorded in full unless it repeats one of this period.
  void append_outsider(Record r) {
    if (!repeats_->admit(r)) return;
    append(std::move(r));
  }

  void append(Record r) {
    // Windows of repeats that have closed are written before what comes after them.
    if (r.kind != RecordKind::events_coalesced) {
      for (auto& summary : repeats_->closed(r.time_utc_ms, false)) append(std::move(summary));
    }
    if (!is_change_record(r.kind)) {
      (void)events_->append(std::move(r));
      return;
    }
    update_capacity();
    const auto before = log_->percent_full();
    if (!log_->append(std::move(r))) {
      host_.warning("audit log full: a record was lost (" + log_->status() + ")");
      return;
    }
    const auto after = log_->percent_full();
    if (before < warn_at_percent_ && after >= warn_at_percent_) {
      host_.warning("audit log " + std::to_string(after) + " % full: read it out (" +
                    log_->status() + ")");
    }
  }

  void load_known_plugins() {
    known_.clear();
    const auto v = host_.nvm().get(kPluginsKey);
    const auto* text = v ? std::get_if<std::string>(&*v) : nullptr;
    if (text == nullptr) return;
    std::istringstream in(*text);
    std::string id;
    std::string version;
    std::string sha;
    while (in >> id >> version >> sha) known_[id] = version + " " + sha;
  }

  void on_loaded(const meter_plugin_loaded& e) {
    const std::string id = e.id ? e.id : "";
    const std::string version = e.version ? e.version : "";
    const std::string sha = e.sha256 ? e.sha256 : "";
    const std::string identity = version + " " + sha;
    auto it = known_.find(id);
    if (it != known_.end() && it->second == identity) return;  // the same binary, reloaded
    Record r = record_at(it == known_.end() ? RecordKind::plugin_loaded : RecordKind::plugin_updated,
                         e.time_utc_ms);
    if (it != known_.end()) r.old_value = it->second.substr(0, it->second.find(' '));
    r.new_value = version;
    r.who = id + (e.legally_relevant ? " (legally relevant)" : "") + " sha256 " +
            sha.substr(0, 16);
    append(std::move(r));
    known_[id] = identity;
    std::string text;
    for (const auto& [k, v] : known_) text += k + " " + v + "\n";
    host_.nvm().put(kPluginsKey, sdk::Value{text});
  }

  sdk::Host& host_;
  std::uint32_t configured_capacity_;
  std::uint32_t event_capacity_;
  std::int64_t repeat_period_ms_;
  std::uint32_t warn_at_percent_;
  WhenFull when_full_;
  std::optional<AuditLog> log_;
  std::optional<AuditLog> events_;
  std::optional<RepeatCounter> repeats_;
  std::map<std::string, std::string> known_;  // id -> "version sha256"
};

}  // namespace meter::plugins::sealing_audit

METER_PLUGIN(meter::plugins::sealing_audit::SealingAuditPlugin)
