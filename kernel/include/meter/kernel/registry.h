// The object registry: every value readable from outside the meter is an object keyed by its
// OBIS code. The display, the optical port and the comms modules read the meter only here,
// without knowing which part of the meter owns an object.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "meter/kernel/obis.h"
#include "meter/kernel/result.h"
#include "meter/kernel/units.h"

namespace meter::kernel {

/// Who may read or write an object. Roles form a mask; a logon holds exactly one role.
enum class Role : std::uint8_t {
  public_read = 1,   ///< anybody, no logon (the display, an unauthenticated port)
  reader = 2,        ///< a logged-on reader
  configurator = 4,  ///< may change configuration parameters while unsealed
  calibrator = 8,    ///< may change calibration parameters while unsealed
};
using RoleMask = std::uint8_t;
constexpr RoleMask mask(Role r) noexcept { return static_cast<RoleMask>(r); }
constexpr RoleMask operator|(Role a, Role b) noexcept { return mask(a) | mask(b); }
inline constexpr RoleMask kAnyRole = 0x0F;
inline constexpr RoleMask kNoRole = 0;

/// How a parameter is protected (California 4 CCR 4027.2 S.3.1): calibration and configuration
/// parameters are sealable; operational ones are not; read-only ones are never written. A tariff
/// parameter decides what a billing register accumulates (switch points, calendars, a tier
/// override, the clock): every change is counted and recorded like a configuration parameter's,
/// and the product decides whether it is also sealable (SecurityConfig::sealable).
enum class ParameterClass : std::uint8_t {
  read_only = 1,
  operational,
  configuration,
  calibration,
  tariff,
};

constexpr bool is_sealable(ParameterClass c) noexcept {
  return c == ParameterClass::configuration || c == ParameterClass::calibration;
}

/// A change steps an event counter and leaves a record: sealable and tariff parameters.
constexpr bool is_counted(ParameterClass c) noexcept {
  return is_sealable(c) || c == ParameterClass::tariff;
}

/// The DLMS/COSEM interface class an object behaves like.
enum class ObjectClass : std::uint16_t {
  data = 1,
  reg = 3,
  extended_register = 4,
  demand_register = 5,
  profile_generic = 7,
  clock = 8,
};

enum class ValueType : std::uint8_t { boolean = 1, integer, unsigned_integer, real, text, octets };

using Value = std::variant<bool, std::int64_t, std::uint64_t, double, std::string,
                           std::vector<std::uint8_t>>;

ValueType type_of(const Value& v) noexcept;
std::string to_string(const Value& v);

struct ObjectInfo;
/// A value as a person reads it: scaler applied and unit appended ("1234.567 Wh").
std::string to_display_string(const ObjectInfo& info, const Value& v);

/// What the registry knows about an object.
struct ObjectInfo {
  Obis id{};
  ObjectClass object_class = ObjectClass::data;
  ValueType type = ValueType::integer;
  Unit unit = Unit::none;
  std::int8_t scaler = 0;  ///< value x 10^scaler is in `unit` (registers in mWh: Wh, -3)
  RoleMask read_roles = kAnyRole;
  RoleMask write_roles = kNoRole;
  ParameterClass parameter_class = ParameterClass::read_only;
  bool legally_relevant = false;
  std::string owner;  ///< "kernel" or the owning plugin's id
  std::string description;
};

/// Reads an object's present value. Called on the kernel thread.
using ObjectReader = std::function<Value()>;
/// Stores a new value the parameter gate has already allowed; may still refuse it (a range).
using ObjectWriter = std::function<Result<void>(const Value&)>;

class ParameterGate;

class ObjectRegistry {
 public:
  /// Adds an object. Refused when the id is taken, the reader is empty or the info is
  /// inconsistent (a read-only object with write roles or a writer, a writable one without).
  Result<void> add(ObjectInfo info, ObjectReader reader, ObjectWriter writer = {});

  /// Removes every object `owner` registered (a plugin being unloaded). Returns how many.
  std::size_t remove_owned_by(const std::string& owner);

  /// Reads an object on behalf of `role`; refused when the role may not read it.
  Result<Value> read(const Obis& id, Role role) const;

  const ObjectInfo* find(const Obis& id) const;
  std::size_t size() const noexcept { return objects_.size(); }

  /// Every object in OBIS order.
  std::vector<const ObjectInfo*> list() const;

 private:
  friend class ParameterGate;  // the only way to write an object
  struct Entry {
    ObjectInfo info;
    ObjectReader reader;
    ObjectWriter writer;
  };
  Entry* entry(const Obis& id);
  std::map<Obis, Entry> objects_;
};

}  // namespace meter::kernel
