// Decade 7: ST-71 actual log, ST-72 events identification, ST-73/ST-75 log control and
// ST-74/ST-76 history and event log data: the sealing_audit plugin's audit trail (0-0:99.98.0),
// its change log as the history log and its event log as the event log, each record under the
// C12.19 event code that fits it.
#include <charconv>

#include <meter/plugins/sealing_audit/audit_format.h>

#include "encode.h"
#include "meter_view.h"

namespace meter::c1219::detail {
namespace {

namespace audit = meter::plugins::sealing_audit;

constexpr unsigned kLogFlags = 0x1F;  // event number, date and time, sequence, inhibit overflow
constexpr std::size_t kStdEventOctets = 8;  // standard events 0..63
constexpr std::size_t kMfgEventOctets = 1;  // manufacturer events 0..7
constexpr std::size_t kArgumentLength = 15;
constexpr std::uint16_t kManufacturerEvent = 0x0800;

// Standard event codes (C12.19 event list).
constexpr int kPowerDown = 1;
constexpr int kPowerUp = 2;
constexpr int kTimeChangedNewTime = 4;
constexpr int kProgrammed = 11;
constexpr int kDemandReset = 20;
constexpr int kReprogrammed = 36;
constexpr int kTamper = 47;
constexpr int kSealed = 56;
constexpr int kUnsealed = 57;
// Manufacturer event codes.
constexpr int kLogonFailed = 0;
constexpr int kPortLocked = 1;
constexpr int kPluginLoaded = 2;
constexpr int kPluginRefused = 3;
constexpr int kWriteRefused = 4;
constexpr int kRepeated = 5;

const std::vector<int> kStdEvents{kPowerDown, kPowerUp, kTimeChangedNewTime, kProgrammed,
                                  kDemandReset, kReprogrammed, kTamper, kSealed, kUnsealed};
const std::vector<int> kMfgEvents{kLogonFailed,   kPortLocked,    kPluginLoaded,
                                  kPluginRefused, kWriteRefused, kRepeated};

std::uint16_t event_code(const audit::Record& r) {
  switch (r.kind) {
    case audit::RecordKind::parameter_changed: {
      const auto& o = objects::kDemandReset;
      const bool reset = r.obis == std::array<std::uint8_t, 6>{o.a, o.b, o.c, o.d, o.e, o.f};
      return reset ? kDemandReset : kProgrammed;
    }
    case audit::RecordKind::seal_changed: return r.new_value == "sealed" ? kSealed : kUnsealed;
    case audit::RecordKind::power_fail: return kPowerDown;
    case audit::RecordKind::power_restore: return kPowerUp;
    case audit::RecordKind::time_changed: return kTimeChangedNewTime;
    case audit::RecordKind::plugin_updated: return kReprogrammed;
    case audit::RecordKind::tamper_found: return kTamper;
    case audit::RecordKind::logon_failed: return kManufacturerEvent | kLogonFailed;
    case audit::RecordKind::port_locked: return kManufacturerEvent | kPortLocked;
    case audit::RecordKind::plugin_loaded: return kManufacturerEvent | kPluginLoaded;
    case audit::RecordKind::plugin_refused: return kManufacturerEvent | kPluginRefused;
    case audit::RecordKind::write_refused: return kManufacturerEvent | kWriteRefused;
    case audit::RecordKind::events_coalesced: return kManufacturerEvent | kRepeated;
  }
  return kManufacturerEvent | 7;
}

std::size_t entry_size() { return 6 + 2 + 2 + 2 + 2 + kArgumentLength; }

// A capacity from the status text ("12 of 40 records, ...; events: 3 of 200, ..."): reading it
// marks nothing read. `after` is where that log's part starts ("" for the change log).
std::optional<std::uint32_t> capacity_from_status(MeterView& m, const char* after) {
  auto s = m.text(objects::kAuditStatus);
  if (!s) return std::nullopt;
  const auto part = s->find(after);
  if (part == std::string::npos) return std::nullopt;
  const auto of = s->find(" of ", part);
  if (of == std::string::npos) return std::nullopt;
  std::uint32_t capacity = 0;
  const char* first = s->data() + of + 4;
  const auto [end, ec] = std::from_chars(first, s->data() + s->size(), capacity);
  if (ec != std::errc{} || end == first) return std::nullopt;
  return capacity;
}

}  // namespace

TableBytes actual_log(MeterView& m) {
  auto capacity = capacity_from_status(m, "");
  auto event_capacity = capacity_from_status(m, "events: ");
  if (!capacity || !event_capacity) {
    std::string error;
    auto bytes = m.octets(objects::kAuditLog);
    if (!bytes) return {ResponseCode::isc, {}};
    auto log = audit::decode_log(bytes->data(), bytes->size(), error);
    if (!log) return {ResponseCode::err, {}};
    capacity = log->capacity;
    event_capacity = log->events.capacity;
  }
  const auto entries = std::min<std::uint32_t>(*capacity, 0xFFFF);
  const auto events = std::min<std::uint32_t>(*event_capacity, 0xFFFF);
  Writer w;
  w.u8(kLogFlags);
  w.u8(kStdEventOctets);
  w.u8(kMfgEventOctets);
  w.u8(kArgumentLength);  // HIST_DATA_LENGTH
  w.u8(kArgumentLength);  // EVENT_DATA_LENGTH
  w.u16(entries);         // NBR_HISTORY_ENTRIES
  w.u16(events);          // NBR_EVENT_ENTRIES
  return {ResponseCode::ok, w.take()};
}

TableBytes events_identification(MeterView&) {
  Writer w;
  w.set(kStdEvents, kStdEventOctets);
  w.set(kMfgEvents, kMfgEventOctets);
  return {ResponseCode::ok, w.take()};
}

TableBytes log_control(MeterView&) {
  Writer w;
  w.set(kStdEvents, kStdEventOctets);
  w.set(kMfgEvents, kMfgEventOctets);
  w.zeros(kDimStdTables + kDimMfgTables + kDimStdProcedures + kDimMfgProcedures);
  return {ResponseCode::ok, w.take()};
}

TableBytes log_data(MeterView& m, LogPart part) {
  auto bytes = m.octets(objects::kAuditLog);
  if (!bytes) return {ResponseCode::isc, {}};
  std::string error;
  auto decoded = audit::decode_log(bytes->data(), bytes->size(), error);
  if (!decoded) return {ResponseCode::err, {}};
  const bool history = part == LogPart::history;
  const std::vector<audit::Entry>& entries = history ? decoded->entries : decoded->events.entries;
  const std::uint32_t log_capacity = history ? decoded->capacity : decoded->events.capacity;
  const std::uint32_t capacity = std::min<std::uint32_t>(
      std::max<std::uint32_t>(log_capacity, static_cast<std::uint32_t>(entries.size())), 0xFFFF);
  const std::size_t first = entries.size() > capacity ? entries.size() - capacity : 0;
  const std::size_t valid = entries.size() - first;
  const std::uint64_t last_seq = valid == 0 ? 0 : entries.back().record.sequence;

  Writer w;
  unsigned flags = (1U << 2) | (1U << 3);  // circular, inhibit overflow
  if (history && decoded->dropped > 0) flags |= 1U << 1;  // records were lost
  w.u8(flags);
  w.u16(valid);
  w.u16(valid == 0 ? 0 : (last_seq - 1) % capacity);  // LAST_ENTRY_ELEMENT
  w.u32(last_seq & 0xFFFFFFFFU);                      // LAST_ENTRY_SEQ_NBR
  w.u16(valid);                                       // NBR_UNREAD_ENTRIES
  const std::size_t header = w.size();
  w.zeros(capacity * entry_size());
  std::vector<std::uint8_t>& out = w.bytes_out();
  for (std::size_t i = first; i < entries.size(); ++i) {
    const audit::Record& r = entries[i].record;
    Writer e;
    if (r.time_valid) {
      const std::int64_t s = r.time_utc_ms >= 0 ? r.time_utc_ms / 1000 : (r.time_utc_ms - 999) / 1000;
      e.ltime(civil_from_utc(s));
    } else {
      e.ltime(std::nullopt);
    }
    e.u16(r.sequence & 0xFFFFU);  // EVENT_NUMBER
    e.u16(r.sequence & 0xFFFFU);  // HIST_SEQ_NBR / EVENT_SEQ_NBR
    e.u16(r.role);                // USER_ID: the role mask
    e.u16(event_code(r));
    e.u8(static_cast<unsigned>(r.kind));
    e.u8(r.via);
    e.u8(r.parameter_class);
    e.u16(r.counter);
    for (std::uint8_t b : r.obis) e.u8(b);
    e.u32(r.sequence & 0xFFFFFFFFU);
    const std::size_t element = static_cast<std::size_t>((r.sequence - 1) % capacity);
    const auto entry = e.take();
    std::copy(entry.begin(), entry.end(),
              out.begin() + static_cast<std::ptrdiff_t>(header + element * entry_size()));
  }
  return {ResponseCode::ok, w.take()};
}

}  // namespace meter::c1219::detail
