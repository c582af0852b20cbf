// What meterctl's steps return: a value, or a Failure that carries the process exit code and a
// one-line message for the meter shop (g++ 12 has no std::expected).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace meter::apps::meterctl {

/// The process exit codes, one per kind of failure a meter shop acts on differently. The values
/// are what the shell sees, so success is 0 (the one place the rule "zero is never valid"
/// yields to POSIX). --help and README.md list them; keep the three in step.
enum class Exit : int {
  ok = 0,
  refused = 1,         ///< the meter refused the request for another reason (value, setup, busy)
  usage = 2,           ///< bad command line: unknown command, malformed OBIS, kWh, time, value
  connect = 3,         ///< the meter cannot be reached: no TCP connection, no device
  link = 4,            ///< the link failed: no answer in time, connection lost, garbled answers
  wrong_password = 5,  ///< security answered isc
  locked = 6,          ///< security answered bsy: the port is locked after failed logons
  port_disabled = 7,   ///< security answered onp: the optical port is switched off
  not_allowed = 8,     ///< the session's role may not (isc, procedure result 5)
  sealed = 9,          ///< the meter is sealed (dlk)
  no_such_object = 10, ///< no such object or table in this meter
};

constexpr int code(Exit e) noexcept { return static_cast<int>(e); }

/// Why a step failed: the exit code and the message (without the "meterctl: " prefix).
struct Failure {
  Exit exit = Exit::refused;
  std::string message;
};

template <class T>
class [[nodiscard]] Outcome {
 public:
  Outcome(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Outcome(Failure failure) : state_(std::in_place_index<1>, std::move(failure)) {}  // NOLINT

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Failure& failure() const { return std::get<1>(state_); }

 private:
  std::variant<T, Failure> state_;
};

template <>
class [[nodiscard]] Outcome<void> {
 public:
  Outcome() = default;
  Outcome(Failure failure) : failure_(std::move(failure)), ok_(false) {}  // NOLINT: implicit

  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Failure& failure() const { return failure_; }

 private:
  Failure failure_;
  bool ok_ = true;
};

inline Failure usage_error(std::string message) { return {Exit::usage, std::move(message)}; }

}  // namespace meter::apps::meterctl
