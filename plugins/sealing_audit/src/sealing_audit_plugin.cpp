// The sealing_audit plugin: the event logger of a category 3 meter. It opens and checks the
// hash-chained log at start, records every event the audit trail needs from the bus, and
// provides the log (0-0:99.98.0), its status (0-0:99.98.1) and the "event logger ready" flag
// (0-0:128.6.6) that the kernel's parameter gate requires before a protected change.
#include <algorithm>
#include <map>
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
constexpr sdk::Obis kReadyObject = obis("0-0:128.6.6");
constexpr sdk::Obis kCalibrationCounter = obis("0-0:128.6.1");
constexpr sdk::Obis kConfigurationCounter = obis("0-0:128.6.2");
constexpr sdk::Obis kSealableParameters = obis("0-0:128.6.5");
constexpr std::uint8_t kRolesThatReadTheLog = 0x0E;  // reader, configurator, calibrator
constexpr std::uint32_t kRecordsPerParameter = 10;    // table S.3.1
constexpr std::uint32_t kMaxRecords = 1000;
constexpr std::uint32_t kMinRecords = 10;
constexpr const char* kPluginsKey = "plugins";

const char* seal_name(std::int32_t kind) {
  switch (kind) {
    case 1: return "cover seal";
    case 2: return "programming jumper";
    case 3: return "optical port sealing plug";
    case 4: return "electronic seal";
    default: return "seal";
  }
}

}  // namespace

class SealingAuditPlugin {
 public:
  explicit SealingAuditPlugin(sdk::Host& host)
      : host_(host),
        configured_capacity_(static_cast<std::uint32_t>(host.config<std::int64_t>("capacity_records"))),
        when_full_(host.config<std::string>("when_full") == "overwrite-read" ? WhenFull::overwrite_read
                                                                            : WhenFull::refuse) {}

  void start() {
    log_.emplace(host_.nvm(), when_full_);
    const std::string finding = log_->open({counter(kCalibrationCounter), counter(kConfigurationCounter)});
    update_capacity();
    load_known_plugins();

    host_.provide({.id = kLogObject,
                   .type = METER_VALUE_OCTETS,
                   .read_roles = kRolesThatReadTheLog,
                   .legally_relevant = true,
                   .description = "audit log (event logger): hash-chained records, oldest first"},
                  [this] {
                    log_->mark_read();
                    return encode_log(log_->snapshot());
                  });
    host_.provide({.id = kStatusObject,
                   .type = METER_VALUE_TEXT,
                   .legally_relevant = true,
                   .description = "audit log status: records, capacity, lost records, chain"},
                  [this] { return log_->status(); });
    host_.provide({.id = kReadyObject,
                   .type = METER_VALUE_BOOLEAN,
                   .legally_relevant = true,
                   .description = "event logger recording: protected changes are allowed"},
                  [this] {
                    update_capacity();
                    return log_->ready();
                  });

    if (!finding.empty()) {
      host_.error("audit log tampering found: " + finding);
      Record r = now_record(RecordKind::tamper_found);
      r.who = finding;
      append(std::move(r));
      host_.publish("sealing_audit.tampered", finding);
    }

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
      append(std::move(r));
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

  sdk::Status self_test() const {
    return log_ && !log_->tampered() ? sdk::Status::ok : sdk::Status::error;
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

  void append(Record r) {
    update_capacity();
    if (!log_->append(std::move(r))) {
      host_.warning("audit log full: a record was lost (" + log_->status() + ")");
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
  WhenFull when_full_;
  std::optional<AuditLog> log_;
  std::map<std::string, std::string> known_;  // id -> "version sha256"
};

}  // namespace meter::plugins::sealing_audit

METER_PLUGIN(meter::plugins::sealing_audit::SealingAuditPlugin)
