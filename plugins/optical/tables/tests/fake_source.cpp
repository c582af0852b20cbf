// The fake ObjectSource and the meter state the table tests share.
#include "fake_source.h"

#include <stdexcept>

namespace meter::c1219::testing {

using meter::sdk::obis;
namespace lp = meter::plugins::load_profile;
namespace audit = meter::plugins::sealing_audit;

std::uint64_t FakeSource::key(const Obis& o) {
  return (std::uint64_t{o.a} << 40) | (std::uint64_t{o.b} << 32) | (std::uint64_t{o.c} << 24) |
         (std::uint64_t{o.d} << 16) | (std::uint64_t{o.e} << 8) | o.f;
}

void FakeSource::add(ObjectMeta meta, Value value, std::function<WriteOutcome(const Value&)> validate) {
  const auto k = key(meta.id);
  if (objects_.count(k) == 0) order_.push_back(k);
  objects_[k] = Object{meta, std::move(value), std::move(validate)};
}

void FakeSource::set(const Obis& id, Value value) { objects_.at(key(id)).value = std::move(value); }

void FakeSource::remove(const Obis& id) {
  objects_.erase(key(id));
  std::erase(order_, key(id));
}

const Value& FakeSource::value(const Obis& id) const { return objects_.at(key(id)).value; }

std::optional<ObjectMeta> FakeSource::meta(const Obis& id) {
  auto it = objects_.find(key(id));
  if (it == objects_.end()) return std::nullopt;
  return it->second.meta;
}

std::optional<Value> FakeSource::read(const Obis& id) {
  auto it = objects_.find(key(id));
  if (it == objects_.end() || (it->second.meta.read_roles & role) == 0) return std::nullopt;
  return it->second.value;
}

WriteOutcome FakeSource::write(const Obis& id, const Value& value) {
  auto it = objects_.find(key(id));
  if (it == objects_.end()) return WriteOutcome::unknown_object;
  Object& o = it->second;
  if ((o.meta.write_roles & role) == 0) return WriteOutcome::denied_role;
  if (sealed && (o.meta.parameter_class == METER_PARAMETER_CONFIGURATION ||
                 o.meta.parameter_class == METER_PARAMETER_CALIBRATION)) {
    return WriteOutcome::sealed;
  }
  if (static_cast<meter_value_type>(value.index() + 1) != o.meta.type) {
    return WriteOutcome::invalid_value;
  }
  if (o.validate) {
    const WriteOutcome w = o.validate(value);
    if (w != WriteOutcome::done) return w;
  }
  o.value = value;
  writes.emplace_back(id, value);
  return WriteOutcome::done;
}

std::vector<Obis> FakeSource::objects() {
  std::vector<Obis> out;
  for (auto k : order_) out.push_back(objects_.at(k).meta.id);
  return out;
}

namespace {

ObjectMeta reg(Obis id, meter_value_type type, int unit = 255, int scaler = 0) {
  ObjectMeta m;
  m.id = id;
  m.type = type;
  m.unit = unit;
  m.scaler = scaler;
  return m;
}

ObjectMeta param(Obis id, meter_value_type type, int write_roles, int parameter_class) {
  ObjectMeta m = reg(id, type);
  m.write_roles = write_roles;
  m.parameter_class = parameter_class;
  return m;
}

}  // namespace

lp::Profile test_profile() {
  lp::Profile p;
  p.interval_min = 15;
  p.channels = {{1, 0, 1, 8, 0, 255}, {1, 0, 2, 8, 0, 255}};
  p.pulse_divisor = 2;
  p.kh_nwh = 1'000'000'000;  // 1 Wh
  p.records_stored = 3;
  // 2026-07-15 18:00Z, 18:15Z, 18:30Z.
  p.records.push_back({7, 1784138400, 0, {120, 0}});
  p.records.push_back({8, 1784139300, lp::kFlagPowerFailure | lp::kFlagPartial, {5, 1}});
  p.records.push_back({9, 1784140200, lp::kFlagTimeForward | lp::kFlagOverflow, {4294967295U, 7}});
  return p;
}

audit::Log test_log() {
  audit::Log log;
  log.capacity = 40;
  log.events.capacity = 200;
  auto add = [&log](audit::Record r) {
    audit::Entry e;
    e.body = audit::encode_body(r);
    e.record = std::move(r);
    log.entries.push_back(std::move(e));
  };
  audit::Record power_fail;
  power_fail.sequence = 1;
  power_fail.kind = audit::RecordKind::power_fail;
  power_fail.time_utc_ms = 1784138400'500;  // 2026-07-15 18:00:00.5Z
  power_fail.time_valid = true;
  add(power_fail);
  audit::Record preset;
  preset.sequence = 2;
  preset.kind = audit::RecordKind::parameter_changed;
  preset.time_utc_ms = 1784139000'000;
  preset.time_valid = true;
  preset.counter = 17;
  preset.obis = {0, 0, 128, 7, 1, 255};
  preset.via = 2;
  preset.role = 4;
  preset.parameter_class = 3;
  preset.old_value = "123";
  preset.new_value = "0";
  preset.who = "configurator";
  add(preset);
  audit::Record seal;
  seal.sequence = 3;
  seal.kind = audit::RecordKind::seal_changed;
  seal.time_utc_ms = 1784139060'000;
  seal.time_valid = true;
  seal.old_value = "broken";
  seal.new_value = "sealed";
  seal.who = "cover seal";
  add(seal);
  audit::Record logon;
  logon.sequence = 4;
  logon.kind = audit::RecordKind::logon_failed;
  logon.time_valid = false;
  logon.via = 2;
  logon.who = "wrong-password, failure 1";
  add(logon);
  audit::Record reset;
  reset.sequence = 5;
  reset.kind = audit::RecordKind::parameter_changed;
  reset.time_utc_ms = 1784139120'000;
  reset.time_valid = true;
  reset.obis = {0, 0, 10, 0, 1, 255};
  reset.via = 2;
  reset.role = 4;
  reset.parameter_class = 2;
  add(reset);
  return log;
}

Identification test_identification() {
  Identification id;
  id.manufacturer = "MTRP";
  id.model = "SIM-TOU";
  id.hw_version = 1;
  id.hw_revision = 2;
  id.fw_version = 0;
  id.fw_revision = 7;
  id.serial_number = "2026-0001";
  id.device_id = "TORONTO-0001";
  id.nameplate = {{"Kh", "1.0 Wh"}, {"form", "2S"}};
  return id;
}

void fill_meter(FakeSource& s) {
  auto energy = [&s](const char* code, std::int64_t mwh) {
    ObjectMeta m = reg(meter::sdk::parse_obis(code).value(), METER_VALUE_INTEGER, 30, -3);
    m.legally_relevant = true;
    s.add(m, Value{mwh});
  };
  energy("1-0:1.8.0", 123'456'789);
  energy("1-0:2.8.0", 2'000'000);
  energy("1-0:16.8.0", 121'456'789);
  s.add(reg(obis("1-0:2.7.0"), METER_VALUE_REAL, 27), Value{0.0});
  s.add(reg(obis("0-0:97.97.0"), METER_VALUE_UNSIGNED), Value{std::uint64_t{0}});
  s.add(param(obis("0-0:1.0.0"), METER_VALUE_TEXT, kConfigurator, METER_PARAMETER_OPERATIONAL), Value{std::string("2026-07-15 14:30:05 EDT")},
        [](const Value& v) {
          return std::get<std::string>(v).size() == 19 ? WriteOutcome::done
                                                       : WriteOutcome::invalid_value;
        });
  s.add(reg(obis("0-0:128.3.0"), METER_VALUE_TEXT), Value{std::string("America/Toronto")});
  s.add(reg(obis("0-0:128.1.0"), METER_VALUE_BOOLEAN), Value{true});
  s.add(param(obis("0-0:128.1.3"), METER_VALUE_BOOLEAN, kConfigurator | kCalibrator,
              METER_PARAMETER_OPERATIONAL),
        Value{false}, [](const Value& v) {
          return std::get<bool>(v) ? WriteOutcome::done : WriteOutcome::invalid_value;
        });
  s.add(reg(obis("0-0:128.5.0"), METER_VALUE_BOOLEAN), Value{false});
  s.add(reg(obis("0-0:128.6.0"), METER_VALUE_UNSIGNED), Value{std::uint64_t{1}});
  for (const char* code : {"0-0:128.7.1", "0-0:128.7.2"}) {
    s.add(param(meter::sdk::parse_obis(code).value(), METER_VALUE_INTEGER, kConfigurator,
                METER_PARAMETER_CONFIGURATION),
          Value{std::int64_t{0}});
  }
  s.add(param(obis("0-0:128.6.7"), METER_VALUE_BOOLEAN, kConfigurator | kCalibrator,
              METER_PARAMETER_OPERATIONAL),
        Value{false});
  s.add(param(obis("0-0:128.8.0"), METER_VALUE_INTEGER, kConfigurator,
              METER_PARAMETER_CONFIGURATION),
        Value{std::int64_t{1}});
  // tou
  for (int e = 1; e <= 4; ++e) {
    energy(("1-0:1.8." + std::to_string(e)).c_str(), 1'000'000 * e);
    energy(("1-0:2.8." + std::to_string(e)).c_str(), 100'000 * e);
  }
  s.add(reg(obis("0-0:96.14.0"), METER_VALUE_UNSIGNED), Value{std::uint64_t{2}});
  s.add(reg(obis("0-0:13.0.0"), METER_VALUE_TEXT),
        Value{std::string("valid_season = \"summer\"\n"
                          "[[seasons]]\nname = \"winter\"\nstart = \"11-01\"\n"
                          "weekday = [\"00:00 A\"]\nweekend = [\"00:00 A\"]\n"
                          "[[seasons]]\nname = \"summer\"\nstart = \"05-01\"\n"
                          "weekday = [\"00:00 A\", \"07:00 B\"]\nweekend = [\"00:00 A\"]\n")});
  s.add(reg(obis("0-0:13.0.1"), METER_VALUE_TEXT),
        Value{std::string("season = \"summer\"\nvalid = true\nweekday = [\"00:00 A\", \"07:00 B\"]\n")});
  // demand: import total and import rate C
  for (int e : {0, 3}) {
    const std::string tail = "." + std::to_string(e);
    auto id = [&tail](const char* head) { return meter::sdk::parse_obis(head + tail).value(); };
    s.add(reg(id("1-0:1.6"), METER_VALUE_INTEGER, 27, -3), Value{std::int64_t{5'000'000 + e}});
    s.add(reg(id("1-0:1.2"), METER_VALUE_INTEGER, 27, -3), Value{std::int64_t{9'000'000 + e}});
    s.add(reg(id("1-0:1.3"), METER_VALUE_INTEGER, 27, -3), Value{std::int64_t{14'000'000 + e}});
    s.add(reg(id("1-0:1.128"), METER_VALUE_TEXT),
          Value{std::string(e == 0 ? "2026-07-10T18:15:00Z" : "")});
  }
  s.add(param(obis("0-0:10.0.1"), METER_VALUE_BOOLEAN, kConfigurator, METER_PARAMETER_OPERATIONAL),
        Value{true}, [&s](const Value& v) {
          if (!std::get<bool>(v)) return WriteOutcome::invalid_value;
          if (std::get<std::uint64_t>(s.value(obis("0-0:128.20.1"))) > 0) return WriteOutcome::busy;
          return WriteOutcome::done;
        });
  s.add(reg(obis("1-0:0.1.0"), METER_VALUE_UNSIGNED), Value{std::uint64_t{259}});
  s.add(reg(obis("0-0:128.20.0"), METER_VALUE_UNSIGNED), Value{std::uint64_t{0}});
  s.add(reg(obis("0-0:128.20.1"), METER_VALUE_UNSIGNED), Value{std::uint64_t{0}});
  // load_profile
  s.add(reg(obis("1-0:99.1.0"), METER_VALUE_OCTETS), Value{lp::encode_profile(test_profile())});
  // sealing_audit
  ObjectMeta log = reg(obis("0-0:99.98.0"), METER_VALUE_OCTETS);
  log.read_roles = kReader | kConfigurator | kCalibrator;
  s.add(log, Value{audit::encode_log(test_log())});
  s.add(reg(obis("0-0:99.98.1"), METER_VALUE_TEXT),
        Value{std::string("5 of 40 records, 0 lost because full, recording; chain intact; "
                                      "events: 0 of 200, 0 repeats counted, chain intact")});
  s.add(reg(obis("0-0:128.6.6"), METER_VALUE_BOOLEAN), Value{true});
}

std::vector<std::uint8_t> le(std::uint64_t v, int n) {
  std::vector<std::uint8_t> out;
  for (int i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  return out;
}

std::vector<std::uint8_t> cat(std::initializer_list<std::vector<std::uint8_t>> parts) {
  std::vector<std::uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::vector<std::uint8_t> bytes(const std::string& s, std::size_t width) {
  std::vector<std::uint8_t> out(s.begin(), s.end());
  if (out.size() < width) out.resize(width, ' ');
  return out;
}

}  // namespace meter::c1219::testing
