#include "wording.h"

#include <fmt/format.h>

namespace meter::apps::meterctl {

namespace {

using c1218::ErrorKind;
using c1218::ResponseCode;

Failure not_allowed(std::string_view what, bool password_given, std::string_view answer) {
  if (password_given) {
    return {Exit::not_allowed,
            fmt::format("{} was refused: the role of this password may not ({})", what, answer)};
  }
  return {Exit::not_allowed,
          fmt::format("{} was refused: the public may not; give a password ({})", what, answer)};
}

Failure sealed(std::string_view what, std::string_view answer) {
  return {Exit::sealed, fmt::format("the meter is sealed: {} was refused ({})", what, answer)};
}

}  // namespace

Failure describe_error(const c1218::Error& error, Stage stage, std::string_view what,
                       bool password_given) {
  switch (error.kind) {
    case ErrorKind::timeout:
      return {Exit::link, fmt::format("the meter did not answer in time ({})", error.message)};
    case ErrorKind::closed:
      return {Exit::link, fmt::format("the meter closed the link ({})", error.message)};
    case ErrorKind::link:
    case ErrorKind::io:
      return {Exit::link, fmt::format("the link to the meter failed ({})", error.message)};
    case ErrorKind::malformed:
    case ErrorKind::checksum:
    case ErrorKind::unsupported:
      return {Exit::link, fmt::format("the meter's answer to {} was garbled ({})", what,
                                      error.message)};
    case ErrorKind::invalid_argument: return usage_error(error.message);
    case ErrorKind::response: break;
  }
  const auto code = error.code;
  const std::string answer(c1218::to_string(code));
  if (stage == Stage::security) {
    switch (code) {
      case ResponseCode::isc:
        return {Exit::wrong_password, "wrong password (the meter answered isc)"};
      case ResponseCode::bsy:
        return {Exit::locked,
                "the optical port is locked after failed logons; try again later (the meter "
                "answered bsy)"};
      case ResponseCode::onp:
        return {Exit::port_disabled,
                "the optical port is disabled: the meter refuses every logon on it (onp)"};
      default: break;
    }
  }
  if (stage == Stage::logon) {
    return {Exit::refused, fmt::format("the meter refused the logon: {} ({})",
                                       c1218::describe(code), answer)};
  }
  if (stage == Stage::work) {
    switch (code) {
      case ResponseCode::isc: return not_allowed(what, password_given, answer);
      case ResponseCode::dlk: return sealed(what, answer);
      case ResponseCode::sns:
        return {Exit::no_such_object, fmt::format("the meter has no {} (sns)", what)};
      case ResponseCode::bsy:
        return {Exit::refused, fmt::format("the meter is busy: {} was not done; try again (bsy)",
                                           what)};
      default: break;
    }
  }
  return {Exit::refused,
          fmt::format("{} was refused: {} ({})", what, c1218::describe(code), answer)};
}

std::string_view result_name(std::uint8_t result) {
  switch (result) {
    case 0: return "completed";
    case 1: return "not fully completed";
    case 2: return "invalid parameter";
    case 3: return "conflict with setup";
    case 4: return "timing constraint";
    case 5: return "no authorization";
    case 6: return "unrecognized procedure";
    default: return "an unknown result";
  }
}

Failure describe_result(c1219::ProcedureResult result, std::string_view what,
                        bool password_given) {
  using R = c1219::ProcedureResult;
  const auto name = result_name(static_cast<std::uint8_t>(result));
  switch (result) {
    case R::no_authorization: return not_allowed(what, password_given, name);
    case R::invalid_parameter:
      return {Exit::refused,
              fmt::format("{} was refused: the meter took the value or object as invalid ({})",
                          what, name)};
    case R::conflict_with_setup:
      return {Exit::refused,
              fmt::format("{} was refused: this meter's setup does not allow it (no such "
                          "function, or its time is unknown) ({})",
                          what, name)};
    case R::timing_constraint:
      return {Exit::refused,
              fmt::format("{} was refused: not now (a lockout or a busy object); try again "
                          "later ({})",
                          what, name)};
    case R::unrecognized:
      return {Exit::refused, fmt::format("{} is not a procedure this meter knows ({})", what, name)};
    case R::not_fully_completed:
      return {Exit::refused, fmt::format("{} was not fully completed ({})", what, name)};
    case R::completed: break;
  }
  return {Exit::refused, fmt::format("{}: the meter answered {}", what, name)};
}

}  // namespace meter::apps::meterctl
