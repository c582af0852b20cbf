// The fuzzed meter and its checking endpoint (stack_meter.h).
#include "stack_meter.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include <fmt/format.h>

#include <meter/c1219/objects.h>
#include <meter/c1219/procedures.h>
#include <meter/c1219/value_codec.h>

#include "stack_input.h"

namespace meter::plugins::optical::fuzz {

namespace objects = c1219::objects;
namespace table = c1219::table;
namespace procedure = c1219::procedure;
using c1219::ObjectMeta;
using c1219::Obis;
using c1219::ProcedureResult;
using c1219::Value;
using c1219::WriteOutcome;
using Code = c1219::ResponseCode;
using Bytes = std::vector<std::uint8_t>;
using meter::sdk::operator==;

void broken(std::string_view what) {
  std::fprintf(stderr, "optical_stack_fuzz: invariant broken: %.*s\n",
               static_cast<int>(what.size()), what.data());
  std::abort();
}

namespace {

constexpr std::uint64_t kCoverSeal = 1U << 0;
constexpr std::uint64_t kElectronicSealBit = 1U << 3;
constexpr std::size_t kMeterIdLength = 20;

std::uint64_t key(const Obis& o) {
  return (std::uint64_t{o.a} << 40) | (std::uint64_t{o.b} << 32) | (std::uint64_t{o.c} << 24) |
         (std::uint64_t{o.d} << 16) | (std::uint64_t{o.e} << 8) | o.f;
}

Obis obis_of(std::uint64_t k) {
  auto byte = [k](int shift) { return static_cast<std::uint8_t>(k >> shift); };
  return {byte(40), byte(32), byte(24), byte(16), byte(8), byte(0)};
}

// An FNV-1a-like hash of the value's type and contents: snapshots without a copy of every value.
std::uint64_t fingerprint(const Value& v) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&h](std::uint8_t byte) {
    h ^= byte;
    h *= 0x100000001b3ULL;
  };
  auto mix64 = [&mix](std::uint64_t x) {
    for (int i = 0; i < 8; ++i) mix(static_cast<std::uint8_t>(x >> (8 * i)));
  };
  mix(static_cast<std::uint8_t>(v.index()));
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          mix(x ? 1 : 0);
        } else if constexpr (std::is_same_v<T, double>) {
          mix64(std::bit_cast<std::uint64_t>(x));
        } else if constexpr (std::is_integral_v<T>) {
          mix64(static_cast<std::uint64_t>(x));
        } else {
          std::size_t i = 0;
          for (; i + 8 <= x.size(); i += 8) {  // a word at a time: the audit log is kilobytes
            std::uint64_t word = 0;
            std::memcpy(&word, x.data() + i, 8);
            h = (h ^ word) * 0x100000001b3ULL;
            h ^= h >> 29;
          }
          for (; i < x.size(); ++i) mix(static_cast<std::uint8_t>(x[i]));
          mix64(x.size());
        }
      },
      v);
  return h;
}

Bytes encoded(const Value& v) {
  Bytes out;
  c1219::encode_value(v, out);
  return out;
}

bool sealable(const ObjectMeta& m) {
  return m.parameter_class == METER_PARAMETER_CONFIGURATION ||
         m.parameter_class == METER_PARAMETER_CALIBRATION;
}

// The energy registers: legally relevant objects in Wh or varh.
bool is_register(const ObjectMeta& m) {
  return m.legally_relevant && (m.unit == 30 || m.unit == 32);
}

std::uint64_t le(std::span<const std::uint8_t> b, std::size_t at, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t{b[at + i]} << (8 * i);
  return v;
}

// A change a write may make: the object and, when the request fixes it, the new value.
struct Allowed {
  Obis id{};
  std::optional<Bytes> value;
};

}  // namespace

FuzzMeter::FuzzMeter(bool sealed_by_cover, bool meter_id) {
  c1219::testing::fill_meter(*this);
  role = 0;
  if (meter_id) {
    ObjectMeta m;
    m.id = objects::kMeterIdObject;
    m.type = METER_VALUE_TEXT;
    m.write_roles = kConfigurator;
    m.parameter_class = METER_PARAMETER_CONFIGURATION;
    add(m, Value{std::string("TORONTO-0001")});
  }
  sealed = sealed_by_cover;
  set(objects::kSealState, Value{std::uint64_t{sealed_by_cover ? kCoverSeal : 0}});
}

WriteOutcome FuzzMeter::write(const Obis& id, const Value& value) {
  if (id == objects::kElectronicSeal) {
    const bool* seal = std::get_if<bool>(&value);
    if (seal != nullptr && !*seal && (role & kCalibrator) == 0) return WriteOutcome::denied_role;
  }
  const WriteOutcome outcome = FakeSource::write(id, value);
  if (outcome != WriteOutcome::done) return outcome;
  if (id == objects::kBillingImport) set(objects::kImport, value);
  if (id == objects::kBillingExport) set(objects::kExport, value);
  if (id == objects::kElectronicSeal) {
    auto bits = std::get<std::uint64_t>(FakeSource::value(objects::kSealState));
    bits = std::get<bool>(value) ? (bits | kElectronicSealBit) : (bits & ~kElectronicSealBit);
    set(objects::kSealState, Value{bits});
    sealed = bits != 0;
  }
  return outcome;
}

CheckedEndpoint::CheckedEndpoint(FuzzMeter& meter) : meter_(meter) {
  for (const Obis& id : meter_.objects()) {
    if (auto m = meter_.meta(id); m && is_register(*m)) {
      registers_[key(id)] = fingerprint(meter_.value(id));
    }
  }
}

CheckedEndpoint::Snapshot CheckedEndpoint::snapshot() const {
  Snapshot s;
  for (const Obis& id : meter_.objects()) s.emplace_back(key(id), fingerprint(meter_.value(id)));
  return s;
}

void CheckedEndpoint::check_registers() const {
  for (const auto& [k, value] : registers_) {
    check(fingerprint(meter_.value(obis_of(k))) == value,
          "a register changed without a billing preset");
  }
}

c1218::Identity CheckedEndpoint::identity() { return {0x00, 1, 0, {}}; }

c1218::ResponseCode CheckedEndpoint::logon(std::uint16_t /*user_id*/, std::string_view user) {
  check(!logged_on(), "logon while logged on");
  check(user.size() == c1218::kUserNameLength, "logon with a user field not of 10 bytes");
  tables_ = std::make_unique<c1219::Tables>(meter_, c1219::testing::test_identification());
  meter_.role = kPublic;
  return c1218::ResponseCode::ok;
}

c1218::ResponseCode CheckedEndpoint::security(
    std::span<const std::uint8_t, c1218::kPasswordLength> password) {
  check(logged_on(), "security without a logon");
  std::string text(password.begin(), password.end());
  while (!text.empty() && (text.back() == '\0' || text.back() == ' ')) text.pop_back();
  meter_.role = kPublic;  // a second password replaces the first
  for (const auto& p : kPasswords) {
    if (text == p.text) {
      meter_.role = p.role;
      return c1218::ResponseCode::ok;
    }
  }
  return c1218::ResponseCode::isc;
}

void CheckedEndpoint::logoff() {
  check(logged_on(), "logoff without a logon");
  tables_.reset();
  meter_.role = 0;
}

c1218::TableResult CheckedEndpoint::read(std::uint16_t table, std::optional<c1218::Range> range) {
  check(logged_on(), "a read outside a session reached the meter");
  const Snapshot before = snapshot();
  auto result = range ? tables_->read(table, range->offset, range->count) : tables_->read(table);
  check(snapshot() == before, "a read changed an object");
  check_read(table, range, result);
  return {result.code, std::move(result.data)};
}

void CheckedEndpoint::check_read(std::uint16_t table, std::optional<c1218::Range> range,
                                 const c1219::ReadResult& result) {
  const auto used = tables_->tables_used();
  const bool exists = std::find(used.begin(), used.end(), table) != used.end();
  check((result.code == Code::sns) == !exists, "sns for a table ST-0 lists, or none for another");
  if (result.code != Code::ok) {
    check(result.data.empty(), "a refused read returned data");
  }
  if (!range) {
    if (result.code == Code::ok) check_size(table, result.data);
    return;
  }
  const auto full = tables_->read(table);
  const std::size_t end = std::size_t{range->offset} + range->count;
  if (result.code == Code::ok) {
    check(result.data.size() == range->count, "a partial read returned other than its count");
    check(full.code == Code::ok && end <= full.data.size() &&
              std::equal(result.data.begin(), result.data.end(),
                         full.data.begin() + static_cast<std::ptrdiff_t>(range->offset)),
          "a partial read differs from the full read");
  } else if (result.code == Code::iar) {
    check(full.code == Code::ok && end > full.data.size(), "iar for a range inside the table");
  } else {
    check(full.code == result.code, "a partial read refused otherwise than the full read");
  }
}

void CheckedEndpoint::check_size(std::uint16_t table, const Bytes& data) {
  static const std::map<std::uint16_t, std::size_t> kFixed{
      {table::kGeneralConfiguration, 44}, {table::kManufacturerIdentification, 32},
      {table::kModeStatus, 5},            {table::kDeviceIdentification, 20},
      {table::kActualRegister, 10},       {table::kActualTimeTou, 9},
      {table::kClock, 7},                 {table::kTimeOffset, 6},
      {table::kClockState, 9},            {table::kActualLoadProfile, 13},
      {table::kLoadProfileStatus, 13},    {table::kActualLog, 9},
      {table::kEventsIdentification, 9},  {table::kHistoryLogControl, 23},
      {table::kEventLogControl, 23},      {table::kSources, 1 + 9 * 9}};
  if (auto it = kFixed.find(table); it != kFixed.end()) {
    check(data.size() == it->second, "a table's size is not the documented one");
    return;
  }
  auto read_ok = [this](std::uint16_t t) {
    auto r = tables_->read(t);
    check(r.code == Code::ok, "a table that sizes another cannot be read");
    return r.data;
  };
  switch (table) {
    case table::kProcedureResponse:
      check(data.size() >= 4 && data.size() <= 4U + c1219::kMaxResponseData,
            "ST-8 longer than MAX_RESP_DATA_LEN allows");
      return;
    case table::kDataSelection: {
      const std::size_t demands = read_ok(table::kActualRegister)[4];
      check(data.size() == 3 + demands + (demands + 7) / 8, "ST-22's size disagrees with ST-21");
      return;
    }
    case table::kCurrentRegisterData: {
      const Bytes st21 = read_ok(table::kActualRegister);
      const std::size_t counter = (st21[0] & 0x04) != 0 ? 1 : 0;
      const std::size_t block = 3 * 8 + st21[4] * (5 + 3 * 8);
      check(data.size() == counter + block * (1 + st21[7]), "ST-23's size disagrees with ST-21");
      return;
    }
    case table::kLoadProfileDataSet1:
      check(data.size() == le(read_ok(table::kActualLoadProfile), 0, 4),
            "ST-64's size is not ST-61's LP_MEMORY_LEN");
      return;
    case table::kHistoryLogData:
    case table::kEventLogData: {
      const Bytes st71 = read_ok(table::kActualLog);
      const std::size_t entries = le(st71, table == table::kHistoryLogData ? 5 : 7, 2);
      check(data.size() == 11 + 29 * entries,
            fmt::format("ST-{}'s size {} disagrees with ST-71's {} entries", table, data.size(),
                        entries));
      return;
    }
    case table::kObjectDirectory:
      check(data.size() >= 2 && le(data, 0, 2) == meter_.objects().size() &&
                data.size() == 2 + 13 * meter_.objects().size(),
            "MT-0 does not list every object");
      return;
    case table::kObjectValue:
      check(data.size() >= 8, "MT-2 without an object and a value");
      return;
    default:
      return;
  }
}

c1218::ResponseCode CheckedEndpoint::write(std::uint16_t table, std::optional<std::uint32_t> offset,
                                           std::span<const std::uint8_t> data) {
  check(logged_on(), "a write outside a session reached the meter");
  const Snapshot before = snapshot();
  const int role = meter_.role;
  const bool sealed = meter_.sealed;
  const auto st5 = tables_->read(table::kDeviceIdentification);
  const auto st8 = tables_->read(table::kProcedureResponse);
  const std::uint32_t at = offset.value_or(0);
  const Code code = tables_->write(table, at, data);
  check_write(table, at, data, code, before, role, sealed, st5, st8);
  return code;
}

void CheckedEndpoint::check_write(std::uint16_t table, std::uint32_t offset,
                                  std::span<const std::uint8_t> data, Code code,
                                  const Snapshot& before, int role, bool sealed,
                                  const c1219::ReadResult& st5_before,
                                  const c1219::ReadResult& st8_before) {
  const Snapshot after = snapshot();
  check(before.size() == after.size(), "a write added or removed an object");
  std::vector<std::uint64_t> changed;
  for (std::size_t i = 0; i < after.size(); ++i) {
    check(after[i].first == before[i].first, "a write added or removed an object");
    if (after[i].second != before[i].second) changed.push_back(after[i].first);
  }
  if (code != Code::ok) check(changed.empty(), "a refused write changed an object");
  if (table != table::kProcedureInitiate && table != table::kDeviceIdentification) {
    check(code != Code::ok && changed.empty(), "a write to a read-only table was accepted");
  }

  // What the gate lets this role do, by the object's description (the meter's rules restated).
  auto may_write = [&](const Obis& id, const std::optional<Value>& value) {
    auto m = meter_.meta(id);
    if (!m || (m->write_roles & role) == 0 || (sealed && sealable(*m))) return false;
    if (value && static_cast<meter_value_type>(value->index() + 1) != m->type) return false;
    if (id == objects::kElectronicSeal && value && !std::get<bool>(*value)) {
      return (role & kCalibrator) != 0;
    }
    return true;
  };
  std::vector<Allowed> allowed;
  auto allow = [&](const Obis& id, std::optional<Value> value) {
    if (!may_write(id, value)) return;
    allowed.push_back({id, value ? std::optional<Bytes>(encoded(*value)) : std::nullopt});
    if (id == objects::kBillingImport) allowed.push_back({objects::kImport, encoded(*value)});
    if (id == objects::kBillingExport) allowed.push_back({objects::kExport, encoded(*value)});
    if (id == objects::kElectronicSeal) allowed.push_back({objects::kSealState, std::nullopt});
  };
  std::optional<std::uint16_t> number;
  if (table == table::kDeviceIdentification) {
    allow(objects::kMeterIdObject, std::nullopt);
  } else if (table == table::kProcedureInitiate && data.size() >= 3) {
    number = static_cast<std::uint16_t>(le(data, 0, 2) & 0x0FFF);
    const auto params = data.subspan(3);
    switch (*number) {
      case procedure::kRemoteReset:
        if (params.size() == 1 && params[0] == 1) allow(objects::kDemandReset, Value{true});
        break;
      case procedure::kSetDateTime: allow(objects::kClockWrite, std::nullopt); break;
      case procedure::kReactivateTestLed:
        if (params.empty()) allow(objects::kTestLedReactivate, Value{true});
        break;
      case procedure::kBillingPreset:
        if (params.size() == 9 && (params[0] == 1 || params[0] == 2)) {
          const auto mwh = static_cast<std::int64_t>(le(params, 1, 8));
          if (mwh >= 0) {
            allow(params[0] == 1 ? objects::kBillingImport : objects::kBillingExport, Value{mwh});
          }
        }
        break;
      case procedure::kElectronicSeal:
        if (params.size() == 1 && params[0] <= 1) {
          allow(objects::kElectronicSeal, Value{params[0] == 1});
        }
        break;
      case procedure::kDisplayMultiplier:
        if (params.size() == 1 && params[0] >= 1 && params[0] <= 240) {
          allow(objects::kDisplayMultiplier, Value{std::int64_t{params[0]}});
        }
        break;
      case procedure::kWriteObject:
        if (params.size() >= 6) {
          const Obis id{params[0], params[1], params[2], params[3], params[4], params[5]};
          std::string error;
          auto value = c1219::decode_value(params.subspan(6), error);
          if (value && value->size == params.size() - 6) allow(id, value->value);
        }
        break;
      default: break;
    }
  }

  for (const std::uint64_t k : changed) {
    const Obis id = obis_of(k);
    const ObjectMeta meta = *meter_.meta(id);
    const Bytes now = encoded(meter_.value(id));
    if (sealed) check(!sealable(meta), "a sealable object changed while the meter was sealed");
    if (is_register(meta)) {
      check(role == kConfigurator && !sealed && number &&
                (*number == procedure::kBillingPreset || *number == procedure::kWriteObject),
            "a register changed without the configurator's billing preset on an unsealed meter");
      registers_[k] = fingerprint(meter_.value(id));
    }
    const bool listed = std::any_of(allowed.begin(), allowed.end(), [&](const Allowed& a) {
      return a.id == id && (!a.value || *a.value == now);
    });
    check(listed, "a write changed an object it did not name, or for a role that may not");
  }

  if (table == table::kDeviceIdentification && code == Code::ok) {
    // ST-5 reads back the 20 octets written over the old ones, up to a NUL.
    check(st5_before.code == Code::ok && st5_before.data.size() == kMeterIdLength,
          "ST-5 unreadable before a write it accepted");
    Bytes image = st5_before.data;
    std::copy(data.begin(), data.end(), image.begin() + static_cast<std::ptrdiff_t>(offset));
    auto nul = std::find(image.begin(), image.end(), std::uint8_t{0});
    std::fill(nul, image.end(), std::uint8_t{' '});
    const auto st5 = tables_->read(table::kDeviceIdentification);
    check(st5.code == Code::ok && st5.data == image, "ST-5 does not read back what was written");
  }

  if (table == table::kProcedureInitiate) {
    const bool malformed =
        data.size() < 3 || data.size() > 3U + c1219::kMaxProcedureParameters || offset != 0;
    const bool ran = code == Code::ok || code == Code::isc || code == Code::dlk;
    check(malformed ? code == Code::iar : ran, "an ST-7 request answered out of its rules");
    const auto st8 = tables_->read(table::kProcedureResponse);
    const bool unchanged = st8.code == st8_before.code && st8.data == st8_before.data;
    if (!ran) {
      check(unchanged, "a refused ST-7 request posted a response");
      return;
    }
    // SELECTOR: 2 posts nothing, 1 only a result other than completed, the others everything.
    const unsigned selector = data[1] >> 4U;
    if (selector == 2) {
      check(unchanged, "ST-7 selector 2 posted a response");
      return;
    }
    if (selector == 1 && unchanged) return;  // completed (or the same response again)
    check(st8.code == Code::ok && st8.data.size() >= 4 && st8.data[0] == data[0] &&
              st8.data[1] == data[1] && st8.data[2] == data[2],
          "ST-8 does not echo the procedure and its sequence number");
    check(st8.data[3] <= static_cast<std::uint8_t>(ProcedureResult::unrecognized),
          "ST-8 with an unknown result code");
    const auto result = static_cast<ProcedureResult>(st8.data[3]);
    if (selector == 1) check(result != ProcedureResult::completed, "selector 1 posted completion");
    if (code == Code::dlk) {
      check(result == ProcedureResult::conflict_with_setup, "dlk with a result other than 3");
    }
    if (code == Code::isc) {
      check(result == ProcedureResult::no_authorization, "isc with a result other than 5");
    }
    if (result != ProcedureResult::completed) {
      check(changed.empty(), "a procedure that did not complete changed an object");
    }
  }
}

}  // namespace meter::plugins::optical::fuzz
