// The credit ledger: one pool of money in integer milli-minor units (1/1000 of a cent for a
// currency with cents), debited by each tick's import energy at the active source's price per
// kWh, credited by purchases, with the emergency credit of the prepaid meter's manual (seed
// 003): an initial limit used once before the first purchase, a limit the customer may select
// after the credit reaches zero, and a threshold below which the meter warns. Emergency credit
// used is repaid from the next purchase. Nothing here is floating point, and no sub-unit of
// money is ever lost: each source carries its remainder from tick to tick.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

namespace meter::plugins::prepaid {

inline constexpr std::size_t kMaxSources = 4;
/// milli-minor units per minor unit.
inline constexpr std::int64_t kMilliPerMinor = 1000;
/// An energy charge mWh x (milli-minor per kWh) is in 10^-6 milli-minor units.
inline constexpr std::int64_t kChargePerMilli = 1'000'000;

/// The emergency credit as the customer sees it. Zero is never a state.
enum class EmergencyState : std::uint8_t {
  off = 1,         ///< credit above zero, no emergency credit granted
  selectable,      ///< credit at or below zero and a limit on offer: the customer may select it
  in_use,          ///< granted and not used up
  exhausted,       ///< granted and used up: repaid only by a purchase
  not_offered,     ///< credit at or below zero and the applicable limit is zero
};

struct LedgerSettings {
  std::array<std::int64_t, kMaxSources> price_milli_per_kwh{};  ///< per source
  std::size_t sources = 1;
  std::int64_t emergency_initial_limit_milli = 0;
  std::int64_t emergency_limit_milli = 0;
  std::int64_t emergency_threshold_milli = 0;
};

/// Why select_emergency() refused. Zero is never a reason.
enum class SelectRefusal : std::uint8_t {
  credit_left = 1,  ///< the credit has not reached zero
  already_granted,  ///< emergency credit is in use or used up (repay it with a purchase)
  not_offered,      ///< the applicable limit is zero
};

/// Everything the ledger keeps; persisted as is (state.h).
struct LedgerValues {
  std::int64_t credit_milli = 0;          ///< available credit; below zero only as debt
  std::int64_t total_purchase_milli = 0;  ///< every purchase ever credited
  std::int64_t total_debited_milli = 0;   ///< every debit ever made (sum over sources)
  std::int64_t emergency_granted_milli = 0;  ///< the current grant, reduced by repayments
  std::int64_t emergency_used_milli = 0;     ///< of the grant, used and not yet repaid
  std::uint64_t purchases = 0;
  bool initial_limit_available = true;  ///< until the first selection or the first purchase
  std::array<std::int64_t, kMaxSources> energy_mwh{};       ///< import energy per source
  std::array<std::int64_t, kMaxSources> debited_milli{};    ///< money per source
  std::array<std::int64_t, kMaxSources> remainder_charge{};  ///< 0 .. kChargePerMilli - 1
};

class Ledger {
 public:
  explicit Ledger(const LedgerSettings& settings) : settings_(settings) {}

  /// Books `mwh` (>= 0) of import energy on `source` (0-based, < sources) at its price; returns
  /// the milli-minor units debited. The money comes from the credit, then from the emergency
  /// credit in use, then becomes debt (the credit goes below zero). Allocation-free.
  std::int64_t debit(std::size_t source, std::int64_t mwh) noexcept;

  /// Credits a purchase: it repays the emergency credit used first (the grant shrinks with the
  /// repayment, so emergency credit never revolves; fully repaid, it ends), then any debt, and
  /// the rest becomes credit. Total purchase grows by the whole amount.
  void purchase(std::int64_t amount_milli) noexcept;

  /// The customer selects emergency credit: the initial limit the first time before any
  /// purchase, the limit afterwards. Only when the credit is at or below zero and nothing is
  /// granted. nullopt when granted, else the reason.
  std::optional<SelectRefusal> select_emergency() noexcept;

  /// True while the credit (or the emergency credit in use) pays for energy.
  bool supply_paid() const noexcept {
    return values_.credit_milli > 0 ||
           values_.emergency_used_milli < values_.emergency_granted_milli;
  }
  /// The credit is below the threshold (or at or below zero): the meter warns that it expires.
  bool low_credit() const noexcept {
    return values_.credit_milli <= 0 ||
           values_.credit_milli < settings_.emergency_threshold_milli;
  }
  EmergencyState emergency_state() const noexcept;
  /// Emergency credit still available to use.
  std::int64_t emergency_balance_milli() const noexcept {
    return values_.emergency_granted_milli - values_.emergency_used_milli;
  }
  /// The limit a selection would grant now.
  std::int64_t applicable_limit_milli() const noexcept {
    return values_.initial_limit_available ? settings_.emergency_initial_limit_milli
                                           : settings_.emergency_limit_milli;
  }

  const LedgerValues& values() const noexcept { return values_; }
  const LedgerSettings& settings() const noexcept { return settings_; }
  /// Takes stored values (checked by the caller's decoder).
  void restore(const LedgerValues& v) noexcept { values_ = v; }
  /// A new meter: `credit_milli` of commissioning credit, no purchase.
  void commission(std::int64_t credit_milli) noexcept {
    values_ = LedgerValues{};
    values_.credit_milli = credit_milli;
  }

 private:
  void take(std::int64_t milli) noexcept;

  LedgerSettings settings_;
  LedgerValues values_;
};

}  // namespace meter::plugins::prepaid
