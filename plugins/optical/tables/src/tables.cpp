// The Tables front: which tables exist, full and partial reads, writes, and the typed object
// reads the builders share (MeterView).
#include "meter/c1219/tables.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "meter_view.h"

namespace meter::c1219 {

namespace detail {

std::optional<std::int64_t> MeterView::integer(const Obis& id) {
  auto v = source_.read(id);
  if (!v) return std::nullopt;
  return std::visit(
      [](const auto& x) -> std::optional<std::int64_t> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          return x ? 1 : 0;
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return x;
        } else if constexpr (std::is_same_v<T, std::uint64_t>) {
          return static_cast<std::int64_t>(std::min<std::uint64_t>(x, INT64_MAX));
        } else if constexpr (std::is_same_v<T, double>) {
          if (!std::isfinite(x) || std::fabs(x) > 9.2e18) return std::nullopt;
          return static_cast<std::int64_t>(x);
        } else {
          return std::nullopt;
        }
      },
      *v);
}

std::optional<double> MeterView::real(const Obis& id) {
  auto v = source_.read(id);
  if (!v) return std::nullopt;
  if (const auto* d = std::get_if<double>(&*v)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&*v)) return static_cast<double>(*i);
  if (const auto* u = std::get_if<std::uint64_t>(&*v)) return static_cast<double>(*u);
  return std::nullopt;
}

std::optional<bool> MeterView::boolean(const Obis& id) {
  auto v = source_.read(id);
  if (!v) return std::nullopt;
  if (const auto* b = std::get_if<bool>(&*v)) return *b;
  return std::nullopt;
}

std::optional<std::string> MeterView::text(const Obis& id) {
  auto v = source_.read(id);
  if (!v) return std::nullopt;
  if (auto* s = std::get_if<std::string>(&*v)) return std::move(*s);
  return std::nullopt;
}

std::optional<std::vector<std::uint8_t>> MeterView::octets(const Obis& id) {
  auto v = source_.read(id);
  if (!v) return std::nullopt;
  if (auto* b = std::get_if<std::vector<std::uint8_t>>(&*v)) return std::move(*b);
  return std::nullopt;
}

std::optional<Civil> MeterView::local_time(std::string* abbrev) {
  auto t = text(objects::kClock);
  if (!t) return std::nullopt;
  return parse_clock_text(*t, abbrev);
}

bool MeterView::meter_id_writable() {
  auto meta = source_.meta(objects::kMeterIdObject);
  return meta && meta->write_roles != 0 && meta->type == METER_VALUE_TEXT &&
         meta->parameter_class != METER_PARAMETER_READ_ONLY;
}

std::vector<int> MeterView::std_tables() {
  std::vector<int> t{0, 1, 3, 5, 7, 8, 21, 22, 23, 51, 52, 53, 55};
  if (has_load_profile()) t.insert(t.end(), {61, 62, 63, 64});
  if (has_audit_log()) t.insert(t.end(), {71, 72, 73, 74, 75, 76});
  return t;
}

std::vector<int> MeterView::mfg_tables() {
  std::vector<int> t{0, 1, 2};
  if (has_load_profile()) t.push_back(3);
  t.push_back(4);
  return t;
}

std::vector<int> MeterView::std_tables_written() {
  std::vector<int> t;
  if (meter_id_writable()) t.push_back(5);
  t.push_back(7);
  return t;
}

}  // namespace detail

Tables::Tables(ObjectSource& source, Identification identification)
    : source_(source), identification_(std::move(identification)) {}

std::vector<std::uint16_t> Tables::tables_used() {
  detail::MeterView m(source_, identification_);
  std::vector<std::uint16_t> out;
  for (int t : m.std_tables()) out.push_back(static_cast<std::uint16_t>(t));
  for (int t : m.mfg_tables()) out.push_back(static_cast<std::uint16_t>(table::kManufacturer + t));
  return out;
}

Tables::Built Tables::build(std::uint16_t table_id) {
  detail::MeterView m(source_, identification_);
  auto used = tables_used();
  if (std::find(used.begin(), used.end(), table_id) == used.end()) {
    return {ResponseCode::sns, {}};
  }
  detail::TableBytes t;
  switch (table_id) {
    case table::kGeneralConfiguration: t = detail::general_configuration(m); break;
    case table::kManufacturerIdentification: t = detail::manufacturer_identification(m); break;
    case table::kModeStatus: t = detail::mode_status(m); break;
    case table::kDeviceIdentification: t = detail::device_identification(m); break;
    case table::kProcedureInitiate: t = {ResponseCode::onp, {}}; break;
    case table::kProcedureResponse:
      t = procedure_response_ ? detail::TableBytes{ResponseCode::ok, *procedure_response_}
                              : detail::TableBytes{ResponseCode::dnr, {}};
      break;
    case table::kActualRegister: t = detail::actual_register(m); break;
    case table::kDataSelection: t = detail::data_selection(m); break;
    case table::kCurrentRegisterData: t = detail::current_register_data(m); break;
    case table::kActualTimeTou: t = detail::actual_time_tou(m); break;
    case table::kClock: t = detail::clock(m); break;
    case table::kTimeOffset: t = detail::time_offset(m); break;
    case table::kClockState: t = detail::clock_state(m); break;
    case table::kActualLoadProfile: t = detail::actual_load_profile(m); break;
    case table::kLoadProfileControl: t = detail::load_profile_control(m); break;
    case table::kLoadProfileStatus: t = detail::load_profile_status(m); break;
    case table::kLoadProfileDataSet1: t = detail::load_profile_data(m); break;
    case table::kActualLog: t = detail::actual_log(m); break;
    case table::kEventsIdentification: t = detail::events_identification(m); break;
    case table::kHistoryLogControl:
    case table::kEventLogControl: t = detail::log_control(m); break;
    case table::kHistoryLogData: t = detail::log_data(m, detail::LogPart::history); break;
    case table::kEventLogData: t = detail::log_data(m, detail::LogPart::events); break;
    case table::kObjectDirectory: t = detail::object_directory(m); break;
    case table::kSources: t = detail::sources(m); break;
    case table::kObjectValue: t = detail::object_value(m, selected_); break;
    case table::kLoadProfileScaling: t = detail::load_profile_scaling(m); break;
    case table::kNameplate: t = detail::nameplate(m); break;
    default: t = {ResponseCode::sns, {}}; break;
  }
  return {t.code, std::move(t.bytes)};
}

ReadResult Tables::read(std::uint16_t table_id) {
  Built b = build(table_id);
  if (b.code != ResponseCode::ok) return {b.code, {}};
  return {ResponseCode::ok, std::move(b.bytes)};
}

ReadResult Tables::read(std::uint16_t table_id, std::uint32_t offset, std::uint16_t count) {
  Built b = build(table_id);
  if (b.code != ResponseCode::ok) return {b.code, {}};
  if (offset > b.bytes.size() || b.bytes.size() - offset < count) return {ResponseCode::iar, {}};
  const auto first = b.bytes.begin() + static_cast<std::ptrdiff_t>(offset);
  return {ResponseCode::ok, std::vector<std::uint8_t>(first, first + count)};
}

ResponseCode Tables::write(std::uint16_t table_id, std::uint32_t offset,
                           std::span<const std::uint8_t> data) {
  detail::MeterView m(source_, identification_);
  auto used = tables_used();
  if (std::find(used.begin(), used.end(), table_id) == used.end()) return ResponseCode::sns;
  if (table_id == table::kProcedureInitiate) {
    if (offset != 0) return ResponseCode::iar;
    if (data.size() < 3 || data.size() > 3U + kMaxProcedureParameters) return ResponseCode::iar;
    return run_procedure(data);
  }
  if (table_id == table::kDeviceIdentification && m.meter_id_writable()) {
    return detail::write_device_identification(m, offset, data);
  }
  return ResponseCode::onp;
}

ResponseCode Tables::run_procedure(std::span<const std::uint8_t> request) {
  detail::MeterView m(source_, identification_);
  std::vector<std::uint8_t> response;
  const ResponseCode code = detail::run_procedure(m, request, response, selected_, staged_);
  // SELECTOR (bits 12..15): 0 and 3 post the response, 1 only an exception, 2 never.
  const unsigned selector = request[1] >> 4U;
  const bool completed = response[3] == static_cast<std::uint8_t>(ProcedureResult::completed);
  if (selector != 2 && !(selector == 1 && completed)) procedure_response_ = std::move(response);
  return code;
}

}  // namespace meter::c1219
