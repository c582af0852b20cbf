// How meterctl words what went wrong: a C12.18 error or a procedure's ST-8 result, in the
// step it happened in, becomes one line for the meter shop and the exit code that goes with it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <meter/c1218/result.h>
#include <meter/c1219/procedures.h>

#include "outcome.h"

namespace meter::apps::meterctl {

/// Where in the session a failure happened. Zero is never a stage.
enum class Stage : std::uint8_t {
  identify = 1,  ///< identify, negotiate: the link's first exchanges
  logon,         ///< the logon service (user name)
  security,      ///< the password
  work,          ///< reads, writes and procedures of the command
};

/// A failure of `what` ("billing reset of +A", "reading 1-0:1.8.0", "table ST-23") for a
/// C12.18 error met at `stage`; `password_given` says whether the session has a password (an
/// isc then means the role may not, else that the public may not).
Failure describe_error(const c1218::Error& error, Stage stage, std::string_view what,
                       bool password_given);

/// The failure of a procedure whose ST-8 RESULT_CODE is `result` (not completed).
Failure describe_result(c1219::ProcedureResult result, std::string_view what,
                        bool password_given);

/// ST-8 RESULT_CODE in words: "completed", "invalid parameter", ...
std::string_view result_name(std::uint8_t result);

}  // namespace meter::apps::meterctl
