// The object registry.
#include "meter/kernel/registry.h"

#include <fmt/format.h>

#include <cmath>
#include <type_traits>

namespace meter::kernel {

ValueType type_of(const Value& v) noexcept {
  switch (v.index()) {
    case 0: return ValueType::boolean;
    case 1: return ValueType::integer;
    case 2: return ValueType::unsigned_integer;
    case 3: return ValueType::real;
    case 4: return ValueType::text;
    default: return ValueType::octets;
  }
}

std::string to_string(const Value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          return x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return x;
        } else if constexpr (std::is_same_v<T, std::vector<std::uint8_t>>) {
          std::string hex;
          for (auto b : x) hex += fmt::format("{:02X}", b);
          return hex;
        } else {
          return fmt::format("{}", x);
        }
      },
      v);
}

std::string to_display_string(const ObjectInfo& info, const Value& v) {
  std::string text;
  if (const auto* n = std::get_if<std::int64_t>(&v); n && info.scaler < 0) {
    // Exact decimal shift: registers never pass through floating point on their way out.
    const int places = -info.scaler;
    std::int64_t div = 1;
    for (int i = 0; i < places; ++i) div *= 10;
    const auto whole = *n / div;
    const auto frac = (*n < 0 ? -*n : *n) % div;
    text = fmt::format("{}{}.{:0{}}", (*n < 0 && whole == 0) ? "-" : "", whole, frac, places);
  } else if (const auto* d = std::get_if<double>(&v)) {
    text = fmt::format("{:.3f}", *d * std::pow(10.0, info.scaler));
  } else {
    text = to_string(v);
  }
  const auto unit = unit_symbol(info.unit);
  return unit.empty() ? text : fmt::format("{} {}", text, unit);
}

Result<void> ObjectRegistry::add(ObjectInfo info, ObjectReader reader, ObjectWriter writer) {
  const auto id = info.id.to_string();
  if (!reader) return fail(fmt::format("object {} has no reader", id));
  const bool read_only = info.parameter_class == ParameterClass::read_only;
  if (read_only && (info.write_roles != kNoRole || writer)) {
    return fail(fmt::format("object {} is read-only but has write access", id));
  }
  if (!read_only && (!writer || info.write_roles == kNoRole)) {
    return fail(fmt::format("object {} is writable but has no writer or no write role", id));
  }
  if (objects_.contains(info.id)) {
    return fail(fmt::format("object {} is already registered by {}", id,
                            objects_.at(info.id).info.owner));
  }
  objects_.emplace(info.id, Entry{std::move(info), std::move(reader), std::move(writer)});
  return {};
}

std::size_t ObjectRegistry::remove_owned_by(const std::string& owner) {
  return std::erase_if(objects_, [&](const auto& kv) { return kv.second.info.owner == owner; });
}

Result<Value> ObjectRegistry::read(const Obis& id, Role role) const {
  auto it = objects_.find(id);
  if (it == objects_.end()) return fail(fmt::format("no object {}", id.to_string()));
  if ((it->second.info.read_roles & mask(role)) == 0) {
    return fail(fmt::format("object {} may not be read with this role", id.to_string()));
  }
  return it->second.reader();
}

const ObjectInfo* ObjectRegistry::find(const Obis& id) const {
  auto it = objects_.find(id);
  return it == objects_.end() ? nullptr : &it->second.info;
}

ObjectRegistry::Entry* ObjectRegistry::entry(const Obis& id) {
  auto it = objects_.find(id);
  return it == objects_.end() ? nullptr : &it->second;
}

std::vector<const ObjectInfo*> ObjectRegistry::list() const {
  std::vector<const ObjectInfo*> out;
  out.reserve(objects_.size());
  for (const auto& [id, e] : objects_) out.push_back(&e.info);
  return out;
}

}  // namespace meter::kernel
