// ST-7 procedure initiate and ST-8 procedure response: SP-9 remote reset, SP-10 set date and
// time, and the manufacturer procedures MP-0..MP-6. Every change goes through the gate.
#include <algorithm>

#include "encode.h"
#include "meter/c1219/value_codec.h"
#include "meter_view.h"

namespace meter::c1219::detail {
namespace {

constexpr std::uint16_t kNumberMask = 0x0FFF;  // TBL_PROC_NBR and STD_VS_MFG_FLAG
constexpr std::size_t kListPage = 40;
constexpr unsigned kSetTime = 1U << 0;
constexpr unsigned kSetDate = 1U << 1;
constexpr unsigned kSetQualifier = 1U << 2;
constexpr unsigned kGmt = 1U << 4;
constexpr int kMaxDisplayMultiplier = 240;

struct Outcome {
  ResponseCode code = ResponseCode::ok;  // the answer to the ST-7 write
  ProcedureResult result = ProcedureResult::completed;
  std::vector<std::uint8_t> data;  // RESP_DATA_RCD
};

Outcome outcome(ProcedureResult r) { return {ResponseCode::ok, r, {}}; }

Outcome from_write(WriteOutcome w) {
  switch (w) {
    case WriteOutcome::done: return outcome(ProcedureResult::completed);
    case WriteOutcome::denied_role:
      return {ResponseCode::isc, ProcedureResult::no_authorization, {}};
    case WriteOutcome::sealed: return {ResponseCode::dlk, ProcedureResult::conflict_with_setup, {}};
    case WriteOutcome::invalid_value:
    case WriteOutcome::unknown_object: return outcome(ProcedureResult::invalid_parameter);
    case WriteOutcome::busy: return outcome(ProcedureResult::timing_constraint);
  }
  return outcome(ProcedureResult::not_fully_completed);
}

// A write's outcome, and for a refusal the meter's reason as RESP_DATA_RCD (text, cut to what
// ST-8 carries), so the meter shop reads why.
Outcome written(MeterView& m, WriteOutcome w) {
  Outcome o = from_write(w);
  if (w != WriteOutcome::done) {
    const std::string reason = m.source().last_refusal();
    o.data.assign(reason.begin(),
                  reason.begin() + static_cast<std::ptrdiff_t>(
                                       std::min<std::size_t>(reason.size(), kMaxResponseData)));
  }
  return o;
}

// Writes a fixed object of the meter: a meter without it has another setup.
Outcome write_object(MeterView& m, const Obis& id, const Value& v) {
  if (!m.has(id)) return outcome(ProcedureResult::conflict_with_setup);
  return written(m, m.source().write(id, v));
}

Outcome remote_reset(MeterView& m, Reader& in) {
  const auto action = in.get(1);
  if (!in.ok() || in.left() != 0 || (action & ~1ULL) != 0) {
    return outcome(ProcedureResult::invalid_parameter);  // only the demand reset is supported
  }
  if ((action & 1U) == 0) return outcome(ProcedureResult::completed);
  return write_object(m, objects::kDemandReset, Value{true});
}

Outcome set_date_time(MeterView& m, Reader& in) {
  const auto mask = static_cast<unsigned>(in.get(1));
  Civil given;
  given.year = 2000 + static_cast<int>(in.get(1));
  given.month = static_cast<int>(in.get(1));
  given.day = static_cast<int>(in.get(1));
  given.hour = static_cast<int>(in.get(1));
  given.minute = static_cast<int>(in.get(1));
  given.second = static_cast<int>(in.get(1));
  const auto qualifier = static_cast<unsigned>(in.get(1));
  if (!in.ok() || in.left() != 0 || (mask & (kSetTime | kSetDate)) == 0) {
    return outcome(ProcedureResult::invalid_parameter);
  }
  const bool utc = (mask & kSetQualifier) != 0 && (qualifier & kGmt) != 0;
  Civil target = given;
  if ((mask & (kSetTime | kSetDate)) != (kSetTime | kSetDate)) {
    if (utc) return outcome(ProcedureResult::invalid_parameter);  // UTC needs date and time
    const auto now = m.local_time();
    if (!now) return outcome(ProcedureResult::conflict_with_setup);  // time unknown: give both
    if ((mask & kSetDate) == 0) {
      target.year = now->year;
      target.month = now->month;
      target.day = now->day;
    } else {
      target.hour = now->hour;
      target.minute = now->minute;
      target.second = now->second;
    }
  }
  if (!valid_civil(target)) return outcome(ProcedureResult::invalid_parameter);
  // The clock object takes local time, or UTC as "YYYY-MM-DDTHH:MM:SSZ".
  std::string text = clock_write_text(target);
  if (utc) {
    text[10] = 'T';
    text += 'Z';
  }
  return write_object(m, objects::kClockWrite, Value{text});
}

Outcome list_objects(MeterView& m, Reader& in) {
  std::size_t first = 0;
  if (in.left() == 2) first = in.get(2);
  if (in.left() != 0) return outcome(ProcedureResult::invalid_parameter);
  const auto all = m.source().objects();
  if (first > all.size()) return outcome(ProcedureResult::invalid_parameter);
  const std::size_t n = std::min(kListPage, all.size() - first);
  Writer w;
  w.u16(all.size());
  w.u16(first);
  w.u8(n);
  for (std::size_t i = first; i < first + n; ++i) w.obis(all[i]);
  return {ResponseCode::ok, ProcedureResult::completed, w.take()};
}

Outcome billing_preset(MeterView& m, Reader& in) {
  const auto which = in.get(1);
  const auto mwh = static_cast<std::int64_t>(in.get(8));
  if (!in.ok() || in.left() != 0 || (which != 1 && which != 2) || mwh < 0) {
    return outcome(ProcedureResult::invalid_parameter);
  }
  return write_object(m, which == 1 ? objects::kBillingImport : objects::kBillingExport,
                      Value{mwh});
}

Outcome electronic_seal(MeterView& m, Reader& in) {
  const auto seal = in.get(1);
  if (!in.ok() || in.left() != 0 || seal > 1) return outcome(ProcedureResult::invalid_parameter);
  return write_object(m, objects::kElectronicSeal, Value{seal == 1});
}

Outcome display_multiplier(MeterView& m, Reader& in) {
  const auto n = static_cast<int>(in.get(1));
  if (!in.ok() || in.left() != 0 || n < 1 || n > kMaxDisplayMultiplier) {
    return outcome(ProcedureResult::invalid_parameter);
  }
  return write_object(m, objects::kDisplayMultiplier, Value{std::int64_t{n}});
}

Outcome read_object(MeterView& m, Reader& in, std::optional<Obis>& selected) {
  const auto id = in.obis();
  if (!id || in.left() != 0 || !m.has(*id)) return outcome(ProcedureResult::invalid_parameter);
  selected = *id;
  auto value = m.value(*id);
  if (!value) return {ResponseCode::isc, ProcedureResult::no_authorization, {}};
  Writer w;
  w.obis(*id);
  std::vector<std::uint8_t> encoded;
  encode_value(*value, encoded);
  // A long text or octets is cut to fit; its length field still says the whole length, and
  // MT-2 holds all of it.
  const std::size_t room = kMaxResponseData - w.size();
  encoded.resize(std::min(encoded.size(), room));
  w.bytes(encoded);
  return {ResponseCode::ok, ProcedureResult::completed, w.take()};
}

Outcome write_any_object(MeterView& m, Reader& in) {
  const auto id = in.obis();
  if (!id) return outcome(ProcedureResult::invalid_parameter);
  std::string error;
  auto decoded = decode_value(in.rest(), error);
  if (!decoded || decoded->size != in.left()) return outcome(ProcedureResult::invalid_parameter);
  return written(m, m.source().write(*id, decoded->value));
}

Outcome write_object_piece(MeterView& m, Reader& in, StagedWrite& staged) {
  const auto id = in.obis();
  const auto flags = static_cast<std::uint8_t>(in.get(1));
  auto drop = [&staged] {
    staged.id.reset();
    staged.bytes.clear();
    return outcome(ProcedureResult::invalid_parameter);
  };
  if (!id || !in.ok()) return drop();
  if ((flags & procedure::kPieceFirst) != 0) {
    staged.id = *id;
    staged.bytes.clear();
  } else if (!staged.id || !(*staged.id == *id)) {
    return drop();  // a piece without its first, or of another object
  }
  const auto piece = in.rest();
  if (staged.bytes.size() + piece.size() > kMaxStagedValue) return drop();
  staged.bytes.insert(staged.bytes.end(), piece.begin(), piece.end());
  if ((flags & procedure::kPieceLast) == 0) return outcome(ProcedureResult::completed);
  const std::vector<std::uint8_t> whole = std::move(staged.bytes);
  staged.id.reset();
  staged.bytes.clear();
  std::string error;
  auto decoded = decode_value(whole, error);
  if (!decoded || decoded->size != whole.size()) return outcome(ProcedureResult::invalid_parameter);
  return written(m, m.source().write(*id, decoded->value));
}

}  // namespace

ResponseCode run_procedure(MeterView& m, std::span<const std::uint8_t> request,
                           std::vector<std::uint8_t>& response, std::optional<Obis>& selected,
                           StagedWrite& staged) {
  Reader in(request);
  const auto idb = static_cast<std::uint16_t>(in.get(2));
  const auto sequence = static_cast<std::uint8_t>(in.get(1));
  Outcome o;
  switch (idb & kNumberMask) {
    case procedure::kRemoteReset: o = remote_reset(m, in); break;
    case procedure::kSetDateTime: o = set_date_time(m, in); break;
    case procedure::kListObjects: o = list_objects(m, in); break;
    case procedure::kReactivateTestLed:
      o = in.left() == 0 ? write_object(m, objects::kTestLedReactivate, Value{true})
                         : outcome(ProcedureResult::invalid_parameter);
      break;
    case procedure::kBillingPreset: o = billing_preset(m, in); break;
    case procedure::kElectronicSeal: o = electronic_seal(m, in); break;
    case procedure::kDisplayMultiplier: o = display_multiplier(m, in); break;
    case procedure::kReadObject: o = read_object(m, in, selected); break;
    case procedure::kWriteObject: o = write_any_object(m, in); break;
    case procedure::kWriteObjectPiece: o = write_object_piece(m, in, staged); break;
    default: o = outcome(ProcedureResult::unrecognized); break;
  }
  Writer w;
  w.u16(idb);
  w.u8(sequence);
  w.u8(static_cast<unsigned>(o.result));
  w.bytes(o.data);
  response = w.take();
  return o.code;
}

}  // namespace meter::c1219::detail
