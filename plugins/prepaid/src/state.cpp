// The NVM records' encoding. See state.h.
#include "state.h"

#include "meter/plugins/prepaid/history_format.h"

namespace meter::plugins::prepaid {
namespace {

constexpr std::uint8_t kAccountFormat = 1;

using detail::get_le;
using detail::put_le;

class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : p_(data), left_(size) {}
  std::uint64_t take(std::size_t bytes) {
    if (bytes > left_) {
      short_ = true;
      return 0;
    }
    const std::uint64_t v = get_le(p_, bytes);
    p_ += bytes;
    left_ -= bytes;
    return v;
  }
  std::int64_t i64() { return static_cast<std::int64_t>(take(8)); }
  std::uint64_t u64() { return take(8); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(take(4)); }
  std::uint8_t u8() { return static_cast<std::uint8_t>(take(1)); }
  bool complete() const noexcept { return !short_ && left_ == 0; }

 private:
  const std::uint8_t* p_;
  std::size_t left_;
  bool short_ = false;
};

void put_i64(std::vector<std::uint8_t>& out, std::int64_t v) {
  put_le(out, static_cast<std::uint64_t>(v), 8);
}

}  // namespace

std::vector<std::uint8_t> encode_account(const AccountState& s) {
  std::vector<std::uint8_t> out;
  out.reserve(320);
  out.push_back(kAccountFormat);
  const LedgerValues& l = s.ledger;
  for (const std::int64_t v : {l.credit_milli, l.total_purchase_milli, l.total_debited_milli,
                               l.emergency_granted_milli, l.emergency_used_milli}) {
    put_i64(out, v);
  }
  put_le(out, l.purchases, 8);
  out.push_back(l.initial_limit_available ? 1 : 0);
  for (const auto* array : {&l.energy_mwh, &l.debited_milli, &l.remainder_charge}) {
    for (const std::int64_t v : *array) put_i64(out, v);
  }
  const ProtectionValues& p = s.protection;
  for (const std::uint8_t r : p.reasons) out.push_back(r);
  for (const std::int64_t v : p.over_current_wait_ms) put_i64(out, v);
  for (const std::int64_t v : p.over_voltage_wait_ms) put_i64(out, v);
  put_le(out, p.over_current_trips, 8);
  put_le(out, p.over_voltage_trips, 8);
  out.push_back(s.active_source);
  out.push_back(s.register_known ? 1 : 0);
  put_i64(out, s.register_mwh);
  put_le(out, s.tokens_accepted, 8);
  put_le(out, s.tokens_refused, 8);
  put_le(out, s.refusals_in_a_row, 4);
  put_i64(out, s.lockout_ms);
  out.push_back(s.last_result);
  put_le(out, s.last_token_id, 4);
  return out;
}

std::optional<AccountState> decode_account(const std::uint8_t* data, std::size_t size) {
  Reader in(data, size);
  if (in.u8() != kAccountFormat) return std::nullopt;
  AccountState s;
  LedgerValues& l = s.ledger;
  l.credit_milli = in.i64();
  l.total_purchase_milli = in.i64();
  l.total_debited_milli = in.i64();
  l.emergency_granted_milli = in.i64();
  l.emergency_used_milli = in.i64();
  l.purchases = in.u64();
  l.initial_limit_available = in.u8() != 0;
  for (auto* array : {&l.energy_mwh, &l.debited_milli, &l.remainder_charge}) {
    for (std::int64_t& v : *array) v = in.i64();
  }
  ProtectionValues& p = s.protection;
  for (std::uint8_t& r : p.reasons) r = in.u8();
  for (std::int64_t& v : p.over_current_wait_ms) v = in.i64();
  for (std::int64_t& v : p.over_voltage_wait_ms) v = in.i64();
  p.over_current_trips = in.u64();
  p.over_voltage_trips = in.u64();
  s.active_source = in.u8();
  s.register_known = in.u8() != 0;
  s.register_mwh = in.i64();
  s.tokens_accepted = in.u64();
  s.tokens_refused = in.u64();
  s.refusals_in_a_row = in.u32();
  s.lockout_ms = in.i64();
  s.last_result = in.u8();
  s.last_token_id = in.u32();
  if (!in.complete()) return std::nullopt;

  bool ok = l.total_purchase_milli >= 0 && l.total_debited_milli >= 0 &&
            l.emergency_granted_milli >= 0 && l.emergency_used_milli >= 0 &&
            l.emergency_used_milli <= l.emergency_granted_milli && s.active_source < kMaxSources &&
            s.lockout_ms >= 0 && s.last_result >= METER_PREPAID_TOKEN_NONE &&
            s.last_result <= METER_PREPAID_TOKEN_ZERO_AMOUNT;
  for (std::size_t i = 0; i < kMaxSources; ++i) {
    ok = ok && l.energy_mwh[i] >= 0 && l.debited_milli[i] >= 0 && l.remainder_charge[i] >= 0 &&
         l.remainder_charge[i] < kChargePerMilli && p.over_current_wait_ms[i] >= 0 &&
         p.over_voltage_wait_ms[i] >= 0 &&
         (p.reasons[i] & ~(kReasonCredit | kReasonOverCurrent | kReasonOverVoltage)) == 0;
  }
  if (!ok) return std::nullopt;
  return s;
}

std::vector<std::uint8_t> encode_ids(const std::vector<std::uint32_t>& ids) {
  std::vector<std::uint8_t> out;
  out.reserve(ids.size() * 4);
  for (const std::uint32_t id : ids) put_le(out, id, 4);
  return out;
}

std::optional<std::vector<std::uint32_t>> decode_ids(const std::uint8_t* data, std::size_t size) {
  if (size % 4 != 0) return std::nullopt;
  std::vector<std::uint32_t> ids;
  ids.reserve(size / 4);
  for (std::size_t i = 0; i < size; i += 4) {
    ids.push_back(static_cast<std::uint32_t>(get_le(data + i, 4)));
  }
  return ids;
}

}  // namespace meter::plugins::prepaid
