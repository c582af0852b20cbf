// The parameter gate.
#include "meter/kernel/gate.h"

#include <fmt/format.h>

namespace meter::kernel {

Result<void> ParameterGate::write(const Obis& id, const Value& value, const Requester& requester) {
  auto* e = registry_->entry(id);
  const auto name = id.to_string();
  if (e == nullptr) return fail(fmt::format("no object {}", name));
  const auto& info = e->info;
  if (info.parameter_class == ParameterClass::read_only) {
    return fail(fmt::format("object {} is read-only", name));
  }
  if ((info.write_roles & mask(requester.role)) == 0) {
    return fail(fmt::format("object {} may not be written with this role", name));
  }
  if (type_of(value) != info.type) {
    return fail(fmt::format("object {} takes another type of value", name));
  }
  if (sealed_ && is_sealable(info.parameter_class)) {
    return fail(fmt::format("object {} is a sealed {} parameter", name,
                            info.parameter_class == ParameterClass::calibration ? "calibration"
                                                                                : "configuration"));
  }
  auto old_value = to_string(e->reader());
  if (auto stored = e->writer(value); !stored) return stored;
  bus_->publish(ParameterChanged{clock_->now(), id, std::move(old_value), to_string(value),
                                 requester.via, std::string(requester.who)});
  return {};
}

void ParameterGate::set_sealed(bool sealed, SealKind kind) {
  if (sealed == sealed_) return;
  sealed_ = sealed;
  bus_->publish(SealChanged{clock_->now(), kind, sealed});
}

}  // namespace meter::kernel
