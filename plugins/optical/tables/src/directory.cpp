// Manufacturer tables about objects: MT-0 the object directory, MT-2 the value of the object
// the last MP-5 selected, MT-4 the nameplate.
#include "encode.h"
#include "meter/c1219/value_codec.h"
#include "meter_view.h"

namespace meter::c1219::detail {

TableBytes object_directory(MeterView& m) {
  std::vector<ObjectMeta> list;
  for (const Obis& id : m.source().objects()) {
    if (auto meta = m.source().meta(id)) list.push_back(*meta);
  }
  Writer w;
  w.u16(list.size());
  for (const ObjectMeta& o : list) {
    w.obis(o.id);
    w.u8(static_cast<unsigned>(o.type) & 0xFFU);
    w.u8(static_cast<unsigned>(o.unit) & 0xFFU);
    w.i8(o.scaler);
    w.u8(static_cast<unsigned>(o.parameter_class) & 0xFFU);
    w.u8(static_cast<unsigned>(o.read_roles) & 0xFFU);
    w.u8(static_cast<unsigned>(o.write_roles) & 0xFFU);
    w.u8(o.legally_relevant ? 1 : 0);
  }
  return {ResponseCode::ok, w.take()};
}

TableBytes object_value(MeterView& m, const std::optional<Obis>& selected) {
  if (!selected) return {ResponseCode::dnr, {}};
  if (!m.has(*selected)) return {ResponseCode::onp, {}};
  auto value = m.value(*selected);
  if (!value) return {ResponseCode::isc, {}};
  Writer w;
  w.obis(*selected);
  std::vector<std::uint8_t>& out = w.bytes_out();
  encode_value(*value, out);
  return {ResponseCode::ok, w.take()};
}

TableBytes nameplate(MeterView& m) {
  Writer w;
  for (const auto& [key, value] : m.identification().nameplate) {
    w.latin1(key);
    w.latin1(": ");
    w.latin1(value);
    w.latin1("\n");
  }
  return {ResponseCode::ok, w.take()};
}

}  // namespace meter::c1219::detail
