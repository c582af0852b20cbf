// Decade 6: ST-61..ST-64 (load profile data set 1) and MT-3 (its scaling), from the
// load_profile plugin's profile object 1-0:99.1.0. One block holds one interval (one record).
#include <algorithm>

#include <meter/plugins/load_profile/profile_format.h>

#include "encode.h"
#include "meter_view.h"

namespace meter::c1219::detail {
namespace {

namespace lp = meter::plugins::load_profile;

constexpr unsigned kScalarDivisorSet1 = 1U << 6;
constexpr unsigned kExtendedIntervalStatus = 1U << 10;
constexpr unsigned kFormatUint32 = 1U << 2;  // LP_FMATS INV_UINT32_FLAG
constexpr unsigned kIntervalFormatUint32 = 4;  // INT_FMT_CDE
constexpr unsigned kCircularList = 1U << 2;
constexpr unsigned kActiveMode = 1U << 5;
constexpr std::size_t kMaxBlocks = 65535;
// Common status flags (high nibble of EXTENDED_INT_STATUS[0]) and channel status values.
constexpr unsigned kCommonPowerFail = 1U << 5;
constexpr unsigned kCommonClockForward = 1U << 6;
constexpr unsigned kCommonClockBack = 1U << 7;
constexpr unsigned kChannelOverflow = 1;
constexpr unsigned kChannelPartial = 2;

struct Loaded {
  ResponseCode code = ResponseCode::ok;
  lp::Profile profile;
};

Loaded load(MeterView& m) {
  auto bytes = m.octets(objects::kLoadProfile);
  if (!bytes) return {ResponseCode::isc, {}};
  auto decoded = lp::decode_profile(bytes->data(), bytes->size());
  if (!decoded.profile) return {ResponseCode::err, {}};
  Loaded l{ResponseCode::ok, std::move(*decoded.profile)};
  if (l.profile.records.size() > kMaxBlocks) {
    l.profile.records.erase(l.profile.records.begin(),
                            l.profile.records.end() - static_cast<std::ptrdiff_t>(kMaxBlocks));
  }
  return l;
}

Obis obis_of(const lp::ObisBytes& b) { return Obis{b[0], b[1], b[2], b[3], b[4], b[5]}; }

std::size_t block_size(std::size_t channels) { return 5 + (channels / 2 + 1) + 4 * channels; }

unsigned channel_status(std::uint16_t flags) {
  if ((flags & lp::kFlagOverflow) != 0) return kChannelOverflow;
  if ((flags & lp::kFlagPartial) != 0) return kChannelPartial;
  return 0;
}

void block(const lp::Record& r, std::size_t channels, Writer& w) {
  w.stime(civil_from_utc(r.end_utc_s));
  std::vector<std::uint8_t> status(channels / 2 + 1, 0);
  if ((r.flags & lp::kFlagPowerFailure) != 0) status[0] |= kCommonPowerFail;
  if ((r.flags & lp::kFlagTimeForward) != 0) status[0] |= kCommonClockForward;
  if ((r.flags & lp::kFlagTimeBack) != 0) status[0] |= kCommonClockBack;
  const unsigned nibble = channel_status(r.flags);
  for (std::size_t c = 1; c <= channels; ++c) {
    // Channel 1: low nibble of octet 0; then even channels high, odd channels low nibbles.
    const std::size_t octet = c / 2;
    const bool high = c % 2 == 0;
    status[octet] = static_cast<std::uint8_t>(status[octet] | (high ? nibble << 4 : nibble));
  }
  w.bytes(status);
  for (std::size_t c = 0; c < channels; ++c) w.u32(r.pulses[c]);
}

}  // namespace

TableBytes actual_load_profile(MeterView& m) {
  Loaded l = load(m);
  if (l.code != ResponseCode::ok) return {l.code, {}};
  const std::size_t channels = l.profile.channels.size();
  Writer w;
  w.u32(l.profile.records.size() * block_size(channels));  // LP_MEMORY_LEN
  w.u16(kScalarDivisorSet1 | kExtendedIntervalStatus);
  w.u8(kFormatUint32);
  w.u16(l.profile.records.size());  // NBR_BLKS_SET1
  w.u16(1);                         // NBR_BLK_INTS_SET1
  w.u8(channels);
  w.u8(l.profile.interval_min);
  return {ResponseCode::ok, w.take()};
}

TableBytes load_profile_control(MeterView& m) {
  Loaded l = load(m);
  if (l.code != ResponseCode::ok) return {l.code, {}};
  Writer w;
  for (const auto& c : l.profile.channels) {
    const int index = source_index(obis_of(c));
    w.u8(0);  // CHNL_FLAG: no end reading
    w.u8(index < 0 ? 0xFFU : static_cast<unsigned>(index));
    w.u8(0xFF);  // END_BLK_RDG_SOURCE_SELECT: none
  }
  w.u8(kIntervalFormatUint32);
  for (std::size_t i = 0; i < l.profile.channels.size(); ++i) w.u16(1);  // SCALARS_SET1
  for (std::size_t i = 0; i < l.profile.channels.size(); ++i) {
    w.u16(std::min<std::uint32_t>(l.profile.pulse_divisor, 0xFFFF));  // DIVISOR_SET1
  }
  return {ResponseCode::ok, w.take()};
}

TableBytes load_profile_status(MeterView& m) {
  Loaded l = load(m);
  if (l.code != ResponseCode::ok) return {l.code, {}};
  const auto& records = l.profile.records;
  Writer w;
  w.u8(kCircularList | kActiveMode);
  w.u16(records.size());                          // NBR_VALID_BLOCKS
  w.u16(records.empty() ? 0 : records.size() - 1);  // LAST_BLOCK_ELEMENT
  w.u32(records.empty() ? 0 : records.back().sequence);  // LAST_BLOCK_SEQ_NBR
  w.u16(records.size());                          // NBR_UNREAD_BLOCKS
  w.u16(records.empty() ? 0 : 1);                 // NBR_VALID_INT
  return {ResponseCode::ok, w.take()};
}

TableBytes load_profile_data(MeterView& m) {
  Loaded l = load(m);
  if (l.code != ResponseCode::ok) return {l.code, {}};
  Writer w;
  for (const auto& r : l.profile.records) block(r, l.profile.channels.size(), w);
  return {ResponseCode::ok, w.take()};
}

TableBytes load_profile_scaling(MeterView& m) {
  Loaded l = load(m);
  if (l.code != ResponseCode::ok) return {l.code, {}};
  Writer w;
  w.u8(l.profile.interval_min);
  w.u8(l.profile.channels.size());
  for (const auto& c : l.profile.channels) w.obis(obis_of(c));
  w.u32(l.profile.pulse_divisor);
  w.u64(l.profile.kh_nwh);
  w.u32(l.profile.records_stored);
  return {ResponseCode::ok, w.take()};
}

}  // namespace meter::c1219::detail
