// Decade 0: ST-0 general configuration, ST-1 manufacturer identification, ST-3 end device mode
// and status, ST-5 device identification (and its write through the gate).
#include <algorithm>

#include "encode.h"
#include "meter_view.h"

namespace meter::c1219::detail {
namespace {

constexpr std::uint8_t kCharFormatLatin1 = 2;
constexpr std::uint8_t kTimeFormatUint8 = 2;
constexpr std::uint8_t kAccessFullAndOffset = 1;
constexpr std::uint8_t kNiFormatInt64 = 11;
constexpr std::uint8_t kNameplateElectric = 2;
constexpr std::uint8_t kStdVersion = 1;  // C12.19-1997 layouts
constexpr std::uint8_t kStdRevision = 0;
constexpr std::size_t kIdentificationLength = 20;

// ED_STD_STATUS1 bits.
constexpr unsigned kConfigurationError = 1U << 1;
constexpr unsigned kSelfCheckError = 1U << 2;
constexpr unsigned kNonvolatileMemoryFailure = 1U << 5;
constexpr unsigned kClockError = 1U << 6;
constexpr unsigned kMeasurementError = 1U << 7;
constexpr unsigned kPowerFailure = 1U << 11;
constexpr unsigned kTamperDetect = 1U << 12;
constexpr unsigned kReverseRotation = 1U << 13;

std::string meter_id(MeterView& m) {
  if (m.has(objects::kMeterIdObject)) return m.text(objects::kMeterIdObject).value_or("");
  return m.identification().device_id;
}

}  // namespace

TableBytes general_configuration(MeterView& m) {
  Writer w;
  w.u8(kCharFormatLatin1 << 1);  // DATA_ORDER 0: little-endian
  w.u8(kTimeFormatUint8 | (kAccessFullAndOffset << 3));  // ID_FORM 0 string, INT_FORMAT 0
  w.u8(kNiFormatInt64 | (kNiFormatInt64 << 4));
  w.text(m.identification().manufacturer, 4);
  w.u8(kNameplateElectric);
  w.u8(0);  // DEFAULT_SET_USED: none
  w.u8(kMaxProcedureParameters);
  w.u8(kMaxResponseData);
  w.u8(kStdVersion);
  w.u8(kStdRevision);
  w.u8(kDimStdTables);
  w.u8(kDimMfgTables);
  w.u8(kDimStdProcedures);
  w.u8(kDimMfgProcedures);
  w.u8(kDimMfgStatus);
  w.u8(0);  // NBR_PENDING
  w.set(m.std_tables(), kDimStdTables);
  w.set(m.mfg_tables(), kDimMfgTables);
  w.set(MeterView::std_procedures(), kDimStdProcedures);
  w.set(MeterView::mfg_procedures(), kDimMfgProcedures);
  w.set(m.std_tables_written(), kDimStdTables);
  w.set(m.mfg_tables_written(), kDimMfgTables);
  return {ResponseCode::ok, w.take()};
}

TableBytes manufacturer_identification(MeterView& m) {
  const Identification& id = m.identification();
  Writer w;
  w.text(id.manufacturer, 4);
  w.text(id.model, 8);
  w.u8(id.hw_version);
  w.u8(id.hw_revision);
  w.u8(id.fw_version);
  w.u8(id.fw_revision);
  w.text(id.serial_number, 16);
  return {ResponseCode::ok, w.take()};
}

TableBytes mode_status(MeterView& m) {
  unsigned status = 0;
  const auto errors = static_cast<std::uint64_t>(m.integer(objects::kErrorRegister).value_or(0));
  if ((errors & objects::kErrorMeasurement) != 0) status |= kMeasurementError;
  if ((errors & objects::kErrorTimeUnknown) != 0) status |= kClockError;
  if ((errors & objects::kErrorStorage) != 0) status |= kNonvolatileMemoryFailure;
  // Tamper detect is what the event logger found (a record altered, removed or the log
  // replaced), never an unsealed meter: a meter shop works on unsealed meters every day.
  const auto seals = m.integer(objects::kSealState);
  if (auto audit = m.text(objects::kAuditStatus); audit && audit->find("TAMPERED") != std::string::npos) {
    status |= kTamperDetect | kSelfCheckError;
  }
  if (!m.local_time()) status |= kClockError;
  if (auto demand = m.integer(objects::kDemandStatus); demand && (*demand & 1) != 0) {
    status |= kPowerFailure;
  }
  if (auto exporting = m.real(objects::kExportPower); exporting && *exporting > 0.0) {
    status |= kReverseRotation;
  }
  if (!m.has(objects::kImport)) status |= kConfigurationError;

  unsigned mfg = static_cast<unsigned>(seals.value_or(0)) & 0x0FU;
  if (m.boolean(objects::kRemoteConfiguration).value_or(false)) mfg |= 1U << 4;
  if (m.boolean(objects::kTestLedActive).value_or(false)) mfg |= 1U << 5;
  if (m.has(objects::kEventLoggerReady) && !m.boolean(objects::kEventLoggerReady).value_or(true)) {
    mfg |= 1U << 6;
  }
  if (auto fill = m.integer(objects::kAuditFill);
      fill && static_cast<std::uint64_t>(*fill) >= objects::kAuditWarnPercent) {
    mfg |= 1U << 7;  // the change log is nearly full: read it out
  }

  Writer w;
  w.u8(1);  // ED_MODE: METERING
  w.u16(status);
  w.u8(0);  // ED_STD_STATUS2
  w.u8(mfg);
  return {ResponseCode::ok, w.take()};
}

TableBytes device_identification(MeterView& m) {
  Writer w;
  w.text(meter_id(m), kIdentificationLength);
  return {ResponseCode::ok, w.take()};
}

ResponseCode write_device_identification(MeterView& m, std::uint32_t offset,
                                         std::span<const std::uint8_t> data) {
  if (offset > kIdentificationLength || kIdentificationLength - offset < data.size()) {
    return ResponseCode::iar;
  }
  std::vector<std::uint8_t> id = device_identification(m).bytes;
  std::copy(data.begin(), data.end(), id.begin() + static_cast<std::ptrdiff_t>(offset));
  std::string text;
  for (std::uint8_t b : id) {
    if (b == 0) break;
    if (b < 0x20 || b == 0x7F) return ResponseCode::iar;
    if (b < 0x80) {
      text.push_back(static_cast<char>(b));
    } else {  // ISO 8859-1 to UTF-8
      text.push_back(static_cast<char>(0xC0 | (b >> 6)));
      text.push_back(static_cast<char>(0x80 | (b & 0x3F)));
    }
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  switch (m.source().write(objects::kMeterIdObject, Value{text})) {
    case WriteOutcome::done: return ResponseCode::ok;
    case WriteOutcome::denied_role: return ResponseCode::isc;
    case WriteOutcome::sealed: return ResponseCode::dlk;
    case WriteOutcome::invalid_value: return ResponseCode::iar;
    case WriteOutcome::unknown_object: return ResponseCode::onp;
    case WriteOutcome::busy: return ResponseCode::bsy;
  }
  return ResponseCode::err;
}

}  // namespace meter::c1219::detail
