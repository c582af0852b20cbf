// ANSI C12.19 tables over the meter's objects: every read builds the table's bytes from the
// objects as they are now; writes go through the parameter gate. Layouts: TABLES.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "meter/c1218/codes.h"
#include "meter/c1219/identification.h"
#include "meter/c1219/object_source.h"

namespace meter::c1219 {

/// The table layer answers a read or a write with C12.18's own response codes (TABLES.md,
/// "Response codes": sns no such table, isc the role may not, onp read-only, iar out of range or
/// a bad value, dnr nothing posted yet, dlk the meter is sealed).
using ResponseCode = c1218::ResponseCode;
using c1218::to_string;

/// Table numbers: standard tables 0..2047, manufacturer tables 2048 + n (MT-n).
/// A value written in pieces with MP-7, until its last piece (one session's).
struct StagedWrite {
  std::optional<Obis> id;
  std::vector<std::uint8_t> bytes;
};

namespace table {
inline constexpr std::uint16_t kGeneralConfiguration = 0;
inline constexpr std::uint16_t kManufacturerIdentification = 1;
inline constexpr std::uint16_t kModeStatus = 3;
inline constexpr std::uint16_t kDeviceIdentification = 5;
inline constexpr std::uint16_t kProcedureInitiate = 7;
inline constexpr std::uint16_t kProcedureResponse = 8;
inline constexpr std::uint16_t kActualRegister = 21;
inline constexpr std::uint16_t kDataSelection = 22;
inline constexpr std::uint16_t kCurrentRegisterData = 23;
inline constexpr std::uint16_t kActualTimeTou = 51;
inline constexpr std::uint16_t kClock = 52;
inline constexpr std::uint16_t kTimeOffset = 53;
inline constexpr std::uint16_t kClockState = 55;
inline constexpr std::uint16_t kActualLoadProfile = 61;
inline constexpr std::uint16_t kLoadProfileControl = 62;
inline constexpr std::uint16_t kLoadProfileStatus = 63;
inline constexpr std::uint16_t kLoadProfileDataSet1 = 64;
inline constexpr std::uint16_t kActualLog = 71;
inline constexpr std::uint16_t kEventsIdentification = 72;
inline constexpr std::uint16_t kHistoryLogControl = 73;
inline constexpr std::uint16_t kHistoryLogData = 74;
inline constexpr std::uint16_t kEventLogControl = 75;
inline constexpr std::uint16_t kEventLogData = 76;
inline constexpr std::uint16_t kManufacturer = 2048;
inline constexpr std::uint16_t kObjectDirectory = kManufacturer + 0;   ///< MT-0
inline constexpr std::uint16_t kSources = kManufacturer + 1;           ///< MT-1
inline constexpr std::uint16_t kObjectValue = kManufacturer + 2;       ///< MT-2
inline constexpr std::uint16_t kLoadProfileScaling = kManufacturer + 3;  ///< MT-3
inline constexpr std::uint16_t kNameplate = kManufacturer + 4;         ///< MT-4
}  // namespace table

/// A read's answer: the code and, when ok, the bytes asked for.
struct ReadResult {
  ResponseCode code = ResponseCode::err;
  std::vector<std::uint8_t> data;
};

/// The C12.19 tables of one meter for one optical-port session (the procedure response in ST-8
/// and the object selected for MT-2 belong to the session). Not thread-safe: call it from the
/// thread that may call the ObjectSource. `source` must outlive the Tables.
class Tables {
 public:
  Tables(ObjectSource& source, Identification identification);

  /// Full read of a table (C12.18 read 0x30).
  ReadResult read(std::uint16_t table_id);
  /// Partial read by offset (0x3F): `count` bytes from `offset`; iar when they run past the end.
  ReadResult read(std::uint16_t table_id, std::uint32_t offset, std::uint16_t count);
  /// Full (offset 0) or partial write (0x40, 0x4F). ST-7 starts a procedure whose response is
  /// read from ST-8; ST-5 sets the meter id through the gate.
  ResponseCode write(std::uint16_t table_id, std::uint32_t offset,
                     std::span<const std::uint8_t> data);

  /// The tables this meter has now (ST-0's STD_TBLS_USED and MFG_TBLS_USED, as numbers).
  std::vector<std::uint16_t> tables_used();

 private:
  struct Built {
    ResponseCode code = ResponseCode::ok;
    std::vector<std::uint8_t> bytes;
  };
  Built build(std::uint16_t table_id);
  ResponseCode run_procedure(std::span<const std::uint8_t> request);

  ObjectSource& source_;
  Identification identification_;
  std::optional<std::vector<std::uint8_t>> procedure_response_;  // ST-8
  std::optional<Obis> selected_;                                  // MT-2
  StagedWrite staged_;                                            // MP-7
};

}  // namespace meter::c1219
