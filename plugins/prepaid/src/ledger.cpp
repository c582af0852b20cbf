// The credit ledger's arithmetic. See ledger.h.
#include "ledger.h"

#include <algorithm>

namespace meter::plugins::prepaid {
namespace {
// The largest energy whose charge at the schema's highest price (10^8 milli-minor per kWh)
// stays within int64: (2^63 - 1 - 10^6) / 10^8 mWh, about 92 MWh.
constexpr std::int64_t kMaxFastMwh = 92'233'720'368;
}  // namespace

std::int64_t Ledger::debit(std::size_t source, std::int64_t mwh) noexcept {
  if (mwh <= 0 || source >= settings_.sources) return 0;
  // mWh x milli-minor/kWh is 10^-6 milli-minor. A tick (far below 92 MWh at the highest price)
  // fits in 64 bits; a long catch-up is exact in 128.
  const std::int64_t price = settings_.price_milli_per_kwh[source];
  std::int64_t milli = 0;
  if (mwh <= kMaxFastMwh) [[likely]] {
    const std::int64_t charge = mwh * price + values_.remainder_charge[source];
    milli = charge / kChargePerMilli;
    values_.remainder_charge[source] = charge % kChargePerMilli;
  } else {
    __extension__ using I128 = __int128;
    const I128 charge = static_cast<I128>(mwh) * price + values_.remainder_charge[source];
    milli = static_cast<std::int64_t>(charge / kChargePerMilli);
    values_.remainder_charge[source] = static_cast<std::int64_t>(charge % kChargePerMilli);
  }
  values_.energy_mwh[source] += mwh;
  values_.debited_milli[source] += milli;
  values_.total_debited_milli += milli;
  take(milli);
  return milli;
}

void Ledger::take(std::int64_t milli) noexcept {
  if (values_.credit_milli > 0) {
    const std::int64_t from_credit = std::min(milli, values_.credit_milli);
    values_.credit_milli -= from_credit;
    milli -= from_credit;
  }
  if (milli > 0) {
    const std::int64_t from_emergency = std::min(milli, emergency_balance_milli());
    values_.emergency_used_milli += from_emergency;
    milli -= from_emergency;
  }
  values_.credit_milli -= milli;  // what neither paid is debt
}

void Ledger::purchase(std::int64_t amount_milli) noexcept {
  if (amount_milli <= 0) return;
  values_.total_purchase_milli += amount_milli;
  ++values_.purchases;
  values_.initial_limit_available = false;
  const std::int64_t repaid = std::min(amount_milli, values_.emergency_used_milli);
  values_.emergency_used_milli -= repaid;
  values_.emergency_granted_milli -= repaid;
  if (values_.emergency_used_milli == 0) values_.emergency_granted_milli = 0;  // ends, repaid
  values_.credit_milli += amount_milli - repaid;
}

std::optional<SelectRefusal> Ledger::select_emergency() noexcept {
  if (values_.emergency_granted_milli > 0) return SelectRefusal::already_granted;
  if (values_.credit_milli > 0) return SelectRefusal::credit_left;
  const std::int64_t limit = applicable_limit_milli();
  if (limit <= 0) return SelectRefusal::not_offered;
  values_.emergency_granted_milli = limit;
  values_.emergency_used_milli = 0;
  values_.initial_limit_available = false;
  return std::nullopt;
}

EmergencyState Ledger::emergency_state() const noexcept {
  if (values_.emergency_granted_milli > 0) {
    return emergency_balance_milli() > 0 ? EmergencyState::in_use : EmergencyState::exhausted;
  }
  if (values_.credit_milli > 0) return EmergencyState::off;
  return applicable_limit_milli() > 0 ? EmergencyState::selectable : EmergencyState::not_offered;
}

}  // namespace meter::plugins::prepaid
