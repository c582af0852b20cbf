// Result<T>: the kernel's expected-style return type for what can fail at run time.
// g++ 12 has no std::expected; this is the small subset the kernel needs.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace meter::kernel {

/// What kind of failure an Error is, for callers that answer in a protocol's terms (a C12.18
/// response code, an ABI status). Zero is never a kind.
enum class ErrorKind : std::uint8_t {
  failed = 1,   ///< anything else: I/O, storage, damage
  not_found,    ///< no such object, key or session
  denied,       ///< the role, the logon or the capability does not allow it
  sealed,       ///< the seal rules refuse it (a sealed meter, no event logger in category 3)
  invalid,      ///< the value is of the wrong type, out of range or malformed
  locked,       ///< the port is locked after failed logons
  unavailable,  ///< not possible now (a disabled port, a store that cannot witness the change)
};

/// What went wrong, in words a meter engineer can act on.
struct Error {
  std::string message;
  ErrorKind kind = ErrorKind::failed;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

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
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design

  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

/// Shorthand for returning a failure: `return fail("Kh must be positive, got {}", kh)`.
inline Error fail(std::string message) { return Error{std::move(message)}; }
/// The same, with a kind: `return fail(ErrorKind::sealed, "...")`.
inline Error fail(ErrorKind kind, std::string message) { return Error{std::move(message), kind}; }

}  // namespace meter::kernel
