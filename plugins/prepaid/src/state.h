// What the prepaid plugin keeps in NVM (namespace "prepaid"): the account as one record of
// fixed layout ("account"), the used token ids ("used_ids") and the recharge history
// ("history", in the object's layout). Each change is one transaction of these records.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ledger.h"
#include "protection.h"

namespace meter::plugins::prepaid {

/// The account record: the ledger, protection, the active source, the register reading the
/// record was made at, and the token counters.
struct AccountState {
  LedgerValues ledger;
  ProtectionValues protection;
  std::uint8_t active_source = 0;      ///< 0-based
  bool register_known = false;         ///< whether register_mwh was read
  std::int64_t register_mwh = 0;       ///< import register 1-0:1.8.0 when the record was made
  std::uint64_t tokens_accepted = 0;
  std::uint64_t tokens_refused = 0;
  std::uint32_t refusals_in_a_row = 0;
  std::int64_t lockout_ms = 0;         ///< metered time left before tokens are taken again
  std::uint8_t last_result = 1;        ///< METER_PREPAID_TOKEN_*
  std::uint32_t last_token_id = 0;
};

/// Length of the account record, format 1.
inline constexpr std::size_t kAccountBytes = 273;

/// The record's bytes (format 1, little-endian, fixed length).
std::vector<std::uint8_t> encode_account(const AccountState& s);
/// The same bytes over `out`, resized to kAccountBytes (which allocates only when it was
/// smaller): the per-tick save, from one buffer the plugin reuses.
void encode_account(const AccountState& s, std::vector<std::uint8_t>& out);
/// Reads a record; nullopt when its format, length or values are not a valid account.
std::optional<AccountState> decode_account(const std::uint8_t* data, std::size_t size);

/// Used token ids: uint32 little-endian each.
std::vector<std::uint8_t> encode_ids(const std::vector<std::uint32_t>& ids);
std::optional<std::vector<std::uint32_t>> decode_ids(const std::uint8_t* data, std::size_t size);

}  // namespace meter::plugins::prepaid
