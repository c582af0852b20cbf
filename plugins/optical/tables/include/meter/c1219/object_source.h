// The meter's objects as the C12.19 table layer sees them: an abstract source that the optical
// plugin implements over the plugin ABI (reads with the logged-on role, writes through the
// parameter gate) and that tests implement with a fake. Nothing here knows the kernel.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <meter/sdk/abi.h>
#include <meter/sdk/obis.h>
#include <meter/sdk/plugin.h>

namespace meter::c1219 {

using Obis = meter::sdk::Obis;
using Value = meter::sdk::Value;

/// What the registry says about one object (the C++ face of meter_object_info).
struct ObjectMeta {
  Obis id{};
  meter_value_type type = METER_VALUE_INTEGER;  ///< METER_VALUE_*
  int unit = 255;                               ///< DLMS/COSEM unit: 30 Wh, 27 W, 255 none
  int scaler = 0;                               ///< value x 10^scaler is in `unit`
  int read_roles = METER_ROLE_ANY;  ///< a mask of METER_ROLE_*
  int write_roles = 0;     ///< same mask; 0 when nobody outside may write it
  int parameter_class = METER_PARAMETER_READ_ONLY;  ///< meter_parameter_class
  bool legally_relevant = false;
};

/// The outcome of a write through the meter's parameter gate. Zero is never valid.
enum class WriteOutcome : std::uint8_t {
  done = 1,         ///< stored (and recorded by the audit trail)
  denied_role,      ///< the session's role may not write this object
  sealed,           ///< a sealable parameter while the meter is sealed (or the logger is full)
  invalid_value,    ///< wrong type, out of range, or refused by the object's owner
  unknown_object,   ///< no such object in the registry
  busy,             ///< not possible now (a lockout, a plugin not running)
};

/// The meter's objects, for one optical-port session. Every call is made on the kernel thread
/// (the optical plugin calls Tables from its own callbacks); an implementation need not lock.
class ObjectSource {
 public:
  virtual ~ObjectSource() = default;
  /// The object's description, or nullopt when the registry has no such object.
  virtual std::optional<ObjectMeta> meta(const Obis& id) = 0;
  /// The object's value read with the session's role; nullopt when the object does not exist,
  /// the role may not read it, or its owner could not give a value.
  virtual std::optional<Value> read(const Obis& id) = 0;
  /// Writes through the parameter gate with the session's role and interface (optical port).
  virtual WriteOutcome write(const Obis& id, const Value& value) = 0;
  /// Why the last write was refused, as the meter says it (empty when it was done, or when
  /// the source cannot say): an answer carries it to the meter shop's tool.
  virtual std::string last_refusal() { return {}; }
  /// Every object in the registry, in the registry's order.
  virtual std::vector<Obis> objects() = 0;
};

}  // namespace meter::c1219
