// The NVM records' encoding. See state.h.
#include "state.h"

#include <bit>
#include <cstring>
#include <type_traits>

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

// Writes over a buffer already of the record's size: stores only, no capacity checks, so the
// account can be written in every tick. Integers little-endian (memcpy where that is native).
class Writer {
 public:
  explicit Writer(std::uint8_t* out) noexcept : at_(out) {}
  template <class T>
  void put(T v) noexcept {
    static_assert(std::is_integral_v<T>);
    const auto u = static_cast<std::make_unsigned_t<T>>(v);
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(at_, &u, sizeof u);
    } else {
      for (std::size_t i = 0; i < sizeof u; ++i) at_[i] = static_cast<std::uint8_t>(u >> (8 * i));
    }
    at_ += sizeof u;
  }

 private:
  std::uint8_t* at_;
};

// Counts what a Writer would write: the record's length, checked at compile time.
class Counter {
 public:
  template <class T>
  constexpr void put(T) noexcept {
    size_ += sizeof(T);
  }
  constexpr std::size_t size() const noexcept { return size_; }

 private:
  std::size_t size_ = 0;
};

// The layout, once for both. The writer is taken and given back by value: a local, its cursor
// stays in a register that the byte stores through it could otherwise alias.
template <class W>
constexpr W write_account(W w, const AccountState& s) noexcept {
  w.put(kAccountFormat);
  const LedgerValues& l = s.ledger;
  w.put(l.credit_milli);
  w.put(l.total_purchase_milli);
  w.put(l.total_debited_milli);
  w.put(l.emergency_granted_milli);
  w.put(l.emergency_used_milli);
  w.put(l.purchases);
  w.put(std::uint8_t{l.initial_limit_available ? std::uint8_t{1} : std::uint8_t{0}});
  for (const std::int64_t v : l.energy_mwh) w.put(v);
  for (const std::int64_t v : l.debited_milli) w.put(v);
  for (const std::int64_t v : l.remainder_charge) w.put(v);
  const ProtectionValues& p = s.protection;
  for (const std::uint8_t r : p.reasons) w.put(r);
  for (const std::int64_t v : p.over_current_wait_ms) w.put(v);
  for (const std::int64_t v : p.over_voltage_wait_ms) w.put(v);
  w.put(p.over_current_trips);
  w.put(p.over_voltage_trips);
  w.put(s.active_source);
  w.put(std::uint8_t{s.register_known ? std::uint8_t{1} : std::uint8_t{0}});
  w.put(s.register_mwh);
  w.put(s.tokens_accepted);
  w.put(s.tokens_refused);
  w.put(s.refusals_in_a_row);
  w.put(s.lockout_ms);
  w.put(s.last_result);
  w.put(s.last_token_id);
  return w;
}

}  // namespace

static_assert(write_account(Counter{}, AccountState{}).size() == kAccountBytes);

void encode_account(const AccountState& s, std::vector<std::uint8_t>& out) {
  out.resize(kAccountBytes);
  write_account(Writer(out.data()), s);
}

std::vector<std::uint8_t> encode_account(const AccountState& s) {
  std::vector<std::uint8_t> out;
  encode_account(s, out);
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
