// The parameter gate: the one path by which anything outside the metrology changes a value in
// the meter. It checks the role, the object's class and the seal, stores the value through the
// object's writer and publishes ParameterChanged, which the audit trail records.
#pragma once

#include <string_view>

#include "meter/kernel/bus.h"
#include "meter/kernel/clock.h"
#include "meter/kernel/registry.h"

namespace meter::kernel {

/// Who is asking: the interface, the role it holds and, for plugins, the plugin's id.
struct Requester {
  Interface via = Interface::kernel;
  Role role = Role::public_read;
  std::string_view who;  ///< a plugin id or a port name; recorded in ParameterChanged
};

class ParameterGate {
 public:
  ParameterGate(ObjectRegistry& registry, EventBus& bus, const Clock& clock)
      : registry_(&registry), bus_(&bus), clock_(&clock) {}

  /// Writes `value` to `id` for `requester`. Refused, with a reason, when the object is unknown
  /// or read-only, the role may not write it, the value's type is wrong, a sealable parameter is
  /// written while the meter is sealed, or the object's writer refuses the value. Only a write
  /// that succeeds publishes ParameterChanged.
  Result<void> write(const Obis& id, const Value& value, const Requester& requester);

  bool sealed() const noexcept { return sealed_; }
  /// Seal state from the board's seal switches or the meter shop's electronic seal.
  void set_sealed(bool sealed, SealKind kind);

 private:
  ObjectRegistry* registry_;
  EventBus* bus_;
  const Clock* clock_;
  bool sealed_ = false;
};

}  // namespace meter::kernel
