// What the table builders share: typed reads of the meter's objects through the ObjectSource,
// which tables this meter has, and one declaration per table builder (one file per decade).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "civil_time.h"
#include "meter/c1219/identification.h"
#include "meter/c1219/object_source.h"
#include "meter/c1219/objects.h"
#include "meter/c1219/procedures.h"
#include "meter/c1219/tables.h"

namespace meter::c1219::detail {

using meter::sdk::operator==;

/// A table's bytes, or the code that answers the read instead.
struct TableBytes {
  ResponseCode code = ResponseCode::ok;
  std::vector<std::uint8_t> bytes;
};

/// Typed reads of objects; a read the source refuses, or of another type, gives nullopt.
class MeterView {
 public:
  MeterView(ObjectSource& source, const Identification& identification)
      : source_(source), identification_(identification) {}
  ObjectSource& source() { return source_; }
  const Identification& identification() const { return identification_; }

  bool has(const Obis& id) { return source_.meta(id).has_value(); }
  std::optional<Value> value(const Obis& id) { return source_.read(id); }
  /// Integers, unsigned integers, booleans (0/1) and reals (rounded toward zero) as int64.
  std::optional<std::int64_t> integer(const Obis& id);
  std::optional<double> real(const Obis& id);
  std::optional<bool> boolean(const Obis& id);
  std::optional<std::string> text(const Obis& id);
  std::optional<std::vector<std::uint8_t>> octets(const Obis& id);

  /// The clock object as local civil time, and its zone abbreviation.
  std::optional<Civil> local_time(std::string* abbrev = nullptr);

  bool has_load_profile() { return has(objects::kLoadProfile); }
  bool has_audit_log() { return has(objects::kAuditLog); }
  /// ST-5 is writable when the registry has a meter id object someone may write.
  bool meter_id_writable();

  std::vector<int> std_tables();
  std::vector<int> mfg_tables();
  std::vector<int> std_tables_written();
  std::vector<int> mfg_tables_written() { return {}; }
  static std::vector<int> std_procedures() { return {procedure::kRemoteReset, procedure::kSetDateTime}; }
  static std::vector<int> mfg_procedures() { return {0, 1, 2, 3, 4, 5, 6, 7}; }

 private:
  ObjectSource& source_;
  const Identification& identification_;
};

// Dimensions of ST-0's sets, in octets.
inline constexpr std::size_t kDimStdTables = 10;   // tables 0..79
inline constexpr std::size_t kDimMfgTables = 1;    // MT-0..MT-7
inline constexpr std::size_t kDimStdProcedures = 2;  // SP-0..SP-15
inline constexpr std::size_t kDimMfgProcedures = 1;  // MP-0..MP-7
inline constexpr std::size_t kDimMfgStatus = 1;

// identification.cpp
TableBytes general_configuration(MeterView& m);        // ST-0
TableBytes manufacturer_identification(MeterView& m);  // ST-1
TableBytes mode_status(MeterView& m);                  // ST-3
TableBytes device_identification(MeterView& m);        // ST-5
ResponseCode write_device_identification(MeterView& m, std::uint32_t offset,
                                         std::span<const std::uint8_t> data);
// registers.cpp
TableBytes actual_register(MeterView& m);        // ST-21
TableBytes data_selection(MeterView& m);         // ST-22
TableBytes current_register_data(MeterView& m);  // ST-23
TableBytes sources(MeterView& m);                // MT-1
int source_index(const Obis& id);                 // an MT-1 index, or -1
// time_of_use.cpp
TableBytes actual_time_tou(MeterView& m);  // ST-51
TableBytes clock(MeterView& m);            // ST-52
TableBytes time_offset(MeterView& m);      // ST-53
TableBytes clock_state(MeterView& m);      // ST-55
// load_profile.cpp
TableBytes actual_load_profile(MeterView& m);   // ST-61
TableBytes load_profile_control(MeterView& m);  // ST-62
TableBytes load_profile_status(MeterView& m);   // ST-63
TableBytes load_profile_data(MeterView& m);     // ST-64
TableBytes load_profile_scaling(MeterView& m);  // MT-3
// logs.cpp
TableBytes actual_log(MeterView& m);             // ST-71
TableBytes events_identification(MeterView& m);  // ST-72
TableBytes log_control(MeterView& m);            // ST-73 and ST-75
/// The two logs of the audit trail: its change log and its event log.
enum class LogPart : std::uint8_t { history = 1, events };
TableBytes log_data(MeterView& m, LogPart part);  // ST-74 (history), ST-76 (events)
// directory.cpp
TableBytes object_directory(MeterView& m);                   // MT-0
TableBytes object_value(MeterView& m, const std::optional<Obis>& selected);  // MT-2
TableBytes nameplate(MeterView& m);                          // MT-4
// procedures.cpp: runs one ST-7 request; returns the write's code and sets the ST-8 bytes.
ResponseCode run_procedure(MeterView& m, std::span<const std::uint8_t> request,
                           std::vector<std::uint8_t>& response, std::optional<Obis>& selected,
                           StagedWrite& staged);

}  // namespace meter::c1219::detail
