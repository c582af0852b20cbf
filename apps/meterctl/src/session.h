// One optical-port session as meterctl holds it: identify, negotiate, logon and security when it
// opens; table reads in pieces that fit the negotiated packets; procedures through ST-7 and
// ST-8; objects through MP-5, MT-2 and MP-6 with MT-0 for their units; logoff and terminate
// when it closes. Every failure comes back worded for the meter shop, with its exit code.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <meter/c1218/client.h>
#include <meter/c1219/object_source.h>
#include <meter/c1219/procedures.h>

#include "outcome.h"
#include "values.h"
#include "wording.h"

namespace meter::apps::meterctl {

using Bytes = std::vector<std::uint8_t>;
using Obis = meter::sdk::Obis;
using meter::sdk::operator==;  // meter_obis is a C struct: ADL does not find it

struct SessionOptions {
  std::string user = "meterctl";           ///< the logon's user name, at most 10 bytes
  std::uint16_t user_id = 0;               ///< the logon's user id
  std::optional<std::string> password;     ///< security service; none: the public role
  std::uint16_t packet_size = 8192;        ///< what negotiate asks for; the meter grants less
  std::uint8_t packets = 255;
};

/// One entry of the object directory MT-0.
struct ObjectEntry {
  Obis id{};
  meter_value_type type = METER_VALUE_INTEGER;
  int unit = 255;
  int scaler = 0;
  int parameter_class = 1;  ///< 1 read-only, 2 operational, 3 configuration, 4 calibration
  int read_roles = 0;       ///< 1 public, 2 reader, 4 configurator, 8 calibrator
  int write_roles = 0;
  bool legally_relevant = false;
};

/// Decodes MT-0 (u16 count, 13 octets per object); nullopt when the length does not match.
std::optional<std::vector<ObjectEntry>> decode_directory(std::span<const std::uint8_t> table);

/// "ST-23" for a standard table, "MT-2" for manufacturer table 2050.
std::string table_name(std::uint16_t table);

class MeterSession {
 public:
  /// `transport` must outlive the session.
  MeterSession(c1218::Transport& transport, SessionOptions options);

  /// Identify, negotiate, logon and, with a password, security.
  Outcome<void> open();
  /// Logoff and terminate; a failure is a warning on `warnings` (the work is done by then).
  void close(std::ostream& warnings);

  bool password_given() const noexcept { return options_.password.has_value(); }
  const c1218::Identity& identity() const noexcept { return identity_; }
  const c1218::LinkParameters& link() const noexcept { return client_.link(); }

  /// The most table bytes one read's response carries with the negotiated packets.
  std::uint16_t read_capacity() const noexcept;

  /// A whole table in one read (0x30).
  Outcome<Bytes> read_table(std::uint16_t table);
  /// `count` bytes from `offset` (0x3F), in as many reads as the packets need.
  Outcome<Bytes> read_table(std::uint16_t table, std::uint32_t offset, std::uint32_t count);

  /// Runs a procedure (ST-7 write, ST-8 read) and returns its response data when it completed.
  /// `what` names it for the messages: "billing reset of +A".
  Outcome<Bytes> run_procedure(std::uint16_t number, std::span<const std::uint8_t> parameters,
                               std::string_view what);

  /// MT-0, read once per session and kept.
  Outcome<std::vector<ObjectEntry>> directory();
  /// The directory's entry for `id`; a no-such-object failure when the meter has none.
  Outcome<ObjectEntry> object(const Obis& id);
  /// An object's value: MP-5, and MT-2 when the value did not fit in ST-8.
  Outcome<Value> read_object(const Obis& id);
  /// Writes an object through the meter's gate (MP-6).
  Outcome<void> write_object(const Obis& id, const Value& value, std::string_view what);

  /// A failure of `what` for a C12.18 error during the command's work.
  Failure failure(const c1218::Error& error, std::string_view what);

 private:
  // Keeps the failure; a link that failed (not a refusal) is not used again, not even to close.
  Failure note(Failure failure, const c1218::Error& error);
  // A table of unknown size in partial reads: a read past the end (iar) is tried again
  // smaller until the end is found.
  Outcome<Bytes> read_unsized(std::uint16_t table);
  Outcome<Bytes> read_sized(std::uint16_t table, std::size_t header,
                            std::size_t (*total)(std::span<const std::uint8_t>));

  c1218::Client client_;
  SessionOptions options_;
  c1218::Identity identity_;
  std::uint8_t sequence_ = 0;
  std::optional<c1219::ProcedureResult> last_result_;  // of the last procedure that ran
  bool identified_ = false;
  bool logged_on_ = false;
  bool link_lost_ = false;
  std::optional<std::vector<ObjectEntry>> directory_;
};

}  // namespace meter::apps::meterctl
