// Result<T> and Error: what the protocol layer returns for anything that can fail at run time
// (g++ 12 has no std::expected). An Error says what kind of failure it is and, for a PSEM
// response or a refused request, which response code goes with it.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "meter/c1218/codes.h"

namespace meter::c1218 {

/// What kind of failure an Error is. Zero is never a kind.
enum class ErrorKind : std::uint8_t {
  response = 1,  ///< the meter answered with a response code other than ok (Error::code)
  unsupported,   ///< a request for a service this side does not offer (answered sns)
  malformed,     ///< a request or response of the wrong length or with an invalid field
  checksum,      ///< table data whose checksum does not match (a request is answered err)
  timeout,       ///< no acknowledgement or response in time, after the retries
  link,          ///< the link failed: NAKs past the retries, packets out of sequence
  closed,        ///< the transport was closed by the other side
  io,            ///< an operating-system error on the transport
  invalid_argument,  ///< the caller asked for something the protocol cannot carry
};

/// What went wrong, in words a meter engineer can act on.
struct Error {
  ErrorKind kind = ErrorKind::io;
  std::string message;
  /// For kind == response, the meter's answer; for a refused request, the answer to give it.
  ResponseCode code = ResponseCode::err;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit

  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

/// Shorthand: `return fail(ErrorKind::malformed, "logon request of 12 bytes, expected 13")`.
inline Error fail(ErrorKind kind, std::string message,
                  ResponseCode code = ResponseCode::err) {
  return Error{kind, std::move(message), code};
}

}  // namespace meter::c1218
