// The load profile's record layout and the binary encoding of the profile object 1-0:99.1.0,
// with a decoder and a CSV writer for readers (meterd's export, comms modules, tools).
//
// Header-only and standard library only: a reader needs neither the SDK nor the plugin.
// Every integer in the encoding is little-endian. See plugins/load_profile/README.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meter::plugins::load_profile {

/// Most channels a profile records: one per energy register of a tick (+A, -A, Q1..Q4).
inline constexpr std::size_t kMaxChannels = 6;

/// Status flags of a record (bit mask; 0 means a whole, clean interval).
/// The power failed (or the meter was not metering) during some or all of the interval.
inline constexpr std::uint16_t kFlagPowerFailure = 1U << 0;
/// The clock was set forward during the interval.
inline constexpr std::uint16_t kFlagTimeForward = 1U << 1;
/// The clock was set back during the interval.
inline constexpr std::uint16_t kFlagTimeBack = 1U << 2;
/// The interval was opened or closed off its clock boundary (split by a time change, begun at
/// power-up or after an outage): it holds less than one whole interval of metering.
inline constexpr std::uint16_t kFlagPartial = 1U << 3;
/// Some of the interval's energy was metered while the clock did not know the time.
inline constexpr std::uint16_t kFlagClockInvalid = 1U << 4;
/// Some samples of the interval were refused by metrology (the kernel's measurement fault).
inline constexpr std::uint16_t kFlagMeasurementFault = 1U << 5;
/// The end time is not later than an earlier record's (after the clock was set back): tell
/// such records apart by their sequence number.
inline constexpr std::uint16_t kFlagRepeatedTime = 1U << 6;
/// A channel's pulses exceeded 4294967295; the excess is carried into the next interval.
inline constexpr std::uint16_t kFlagOverflow = 1U << 7;

/// One closed interval.
struct Record {
  std::uint32_t sequence = 0;  ///< 0 for the first record ever written; never reused
  std::int64_t end_utc_s = 0;  ///< end of the interval, seconds since the Unix epoch, UTC
  std::uint16_t flags = 0;     ///< kFlag* bits
  std::array<std::uint32_t, kMaxChannels> pulses{};  ///< per channel; first `channels` used
};

/// An OBIS code as six bytes A, B, C, D, E, F (F is 255 when unused).
using ObisBytes = std::array<std::uint8_t, 6>;

/// A decoded profile object: how the records are scaled, and the records (oldest first).
struct Profile {
  std::uint8_t interval_min = 0;
  std::vector<ObisBytes> channels;
  std::uint32_t pulse_divisor = 0;
  std::uint64_t kh_nwh = 0;            ///< meter constant Kh in nanowatt-hours per pulse
  std::uint32_t records_stored = 0;    ///< records in the ring buffer, selected or not
  std::vector<Record> records;         ///< the selected records, in sequence order
};

/// A decode: the profile, or why the bytes are not one.
struct ProfileDecode {
  std::optional<Profile> profile;
  std::string error;
};

/// The encoding's magic and version (bytes 0..2 of the object's value).
inline constexpr std::array<std::uint8_t, 2> kProfileMagic{'L', 'P'};
inline constexpr std::uint8_t kProfileFormatVersion = 1;

/// Bytes of one encoded record with `channels` channels.
constexpr std::size_t encoded_record_size(std::size_t channels) noexcept {
  return 4 + 8 + 2 + 4 * channels;
}

namespace detail {

class ByteWriter {
 public:
  explicit ByteWriter(std::vector<std::uint8_t>& out) : out_(out) {}
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v) { put(v, 2); }
  void u32(std::uint32_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void i64(std::int64_t v) { put(static_cast<std::uint64_t>(v), 8); }

 private:
  void put(std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  std::vector<std::uint8_t>& out_;
};

class ByteReader {
 public:
  ByteReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool u8(std::uint8_t& v) {
    std::uint64_t x = 0;
    if (!get(x, 1)) return false;
    v = static_cast<std::uint8_t>(x);
    return true;
  }
  bool u16(std::uint16_t& v) {
    std::uint64_t x = 0;
    if (!get(x, 2)) return false;
    v = static_cast<std::uint16_t>(x);
    return true;
  }
  bool u32(std::uint32_t& v) {
    std::uint64_t x = 0;
    if (!get(x, 4)) return false;
    v = static_cast<std::uint32_t>(x);
    return true;
  }
  bool u64(std::uint64_t& v) { return get(v, 8); }
  bool i64(std::int64_t& v) {
    std::uint64_t x = 0;
    if (!get(x, 8)) return false;
    v = static_cast<std::int64_t>(x);
    return true;
  }
  std::size_t remaining() const noexcept { return size_ - at_; }

 private:
  bool get(std::uint64_t& v, std::size_t bytes) {
    if (size_ - at_ < bytes) return false;
    v = 0;
    for (std::size_t i = 0; i < bytes; ++i) v |= std::uint64_t{data_[at_ + i]} << (8 * i);
    at_ += bytes;
    return true;
  }
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

inline std::string two_digits(unsigned v) {
  return std::string{static_cast<char>('0' + v / 10 % 10), static_cast<char>('0' + v % 10)};
}

}  // namespace detail

/// Writes one record (sequence, end time, flags, pulses of the first `channels` channels).
inline void encode_record(const Record& r, std::size_t channels, std::vector<std::uint8_t>& out) {
  detail::ByteWriter w(out);
  w.u32(r.sequence);
  w.i64(r.end_utc_s);
  w.u16(r.flags);
  for (std::size_t c = 0; c < channels; ++c) w.u32(r.pulses[c]);
}

/// Reads one record written by encode_record; false when the bytes run out.
inline bool decode_record(detail::ByteReader& in, std::size_t channels, Record& r) {
  if (!in.u32(r.sequence) || !in.i64(r.end_utc_s) || !in.u16(r.flags)) return false;
  for (std::size_t c = 0; c < channels; ++c) {
    if (!in.u32(r.pulses[c])) return false;
  }
  return true;
}

/// Encodes the header of the profile object; the caller appends `selected` records with
/// encode_record. Layout: "LP", version, interval_min, channel count N, N x 6 OBIS bytes,
/// u32 pulse divisor, u64 Kh in nWh, u32 records stored, u32 records that follow.
inline void encode_header(const Profile& p, std::uint32_t selected, std::vector<std::uint8_t>& out) {
  detail::ByteWriter w(out);
  w.u8(kProfileMagic[0]);
  w.u8(kProfileMagic[1]);
  w.u8(kProfileFormatVersion);
  w.u8(p.interval_min);
  w.u8(static_cast<std::uint8_t>(p.channels.size()));
  for (const auto& o : p.channels) {
    for (std::uint8_t b : o) w.u8(b);
  }
  w.u32(p.pulse_divisor);
  w.u64(p.kh_nwh);
  w.u32(p.records_stored);
  w.u32(selected);
}

/// Encodes a whole profile (header and its records).
inline std::vector<std::uint8_t> encode_profile(const Profile& p) {
  std::vector<std::uint8_t> out;
  encode_header(p, static_cast<std::uint32_t>(p.records.size()), out);
  for (const auto& r : p.records) encode_record(r, p.channels.size(), out);
  return out;
}

/// Decodes the value of object 1-0:99.1.0.
inline ProfileDecode decode_profile(const std::uint8_t* data, std::size_t size) {
  ProfileDecode out;
  detail::ByteReader in(data, size);
  std::uint8_t m0 = 0, m1 = 0, version = 0, channels = 0;
  Profile p;
  if (!in.u8(m0) || !in.u8(m1) || m0 != kProfileMagic[0] || m1 != kProfileMagic[1]) {
    out.error = "not a load profile: the value does not begin with \"LP\"";
    return out;
  }
  if (!in.u8(version) || version != kProfileFormatVersion) {
    out.error = "load profile format version " + std::to_string(version) + " is not 1";
    return out;
  }
  if (!in.u8(p.interval_min) || !in.u8(channels) || channels == 0 || channels > kMaxChannels) {
    out.error = "load profile header: channel count must be 1.." + std::to_string(kMaxChannels);
    return out;
  }
  p.channels.resize(channels);
  for (auto& o : p.channels) {
    for (auto& b : o) {
      if (!in.u8(b)) {
        out.error = "load profile header is truncated";
        return out;
      }
    }
  }
  std::uint32_t selected = 0;
  if (!in.u32(p.pulse_divisor) || !in.u64(p.kh_nwh) || !in.u32(p.records_stored) ||
      !in.u32(selected)) {
    out.error = "load profile header is truncated";
    return out;
  }
  if (in.remaining() != std::size_t{selected} * encoded_record_size(channels)) {
    out.error = "load profile says " + std::to_string(selected) + " records but holds " +
                std::to_string(in.remaining()) + " bytes of records (" +
                std::to_string(encoded_record_size(channels)) + " each)";
    return out;
  }
  p.records.resize(selected);
  for (auto& r : p.records) decode_record(in, channels, r);
  out.profile = std::move(p);
  return out;
}

/// "1-0:1.8.0" (with "*F" only when F is not 255).
inline std::string obis_text(const ObisBytes& o) {
  std::string s = std::to_string(o[0]) + '-' + std::to_string(o[1]) + ':' +
                  std::to_string(o[2]) + '.' + std::to_string(o[3]) + '.' + std::to_string(o[4]);
  if (o[5] != 255) s += '*' + std::to_string(o[5]);
  return s;
}

/// "2023-11-14T22:15:00Z" for a time in seconds since the Unix epoch.
inline std::string utc_text(std::int64_t utc_s) {
  // days_from_civil inverse (H. Hinnant), valid for every int64 day count in range.
  std::int64_t days = utc_s / 86400;
  std::int64_t secs = utc_s % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const auto day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  const auto month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return std::to_string(year) + '-' + detail::two_digits(month) + '-' + detail::two_digits(day) +
         'T' + detail::two_digits(static_cast<unsigned>(secs / 3600)) + ':' +
         detail::two_digits(static_cast<unsigned>(secs / 60 % 60)) + ':' +
         detail::two_digits(static_cast<unsigned>(secs % 60)) + 'Z';
}

/// The flags as short names joined by '|' ("PF|PI"); empty for a clean interval.
/// PF power failure, TF time forward, TB time back, PI partial interval, CI clock invalid,
/// MF measurement fault, RT repeated time, OV pulse overflow.
inline std::string flags_text(std::uint16_t flags) {
  static constexpr std::array<std::string_view, 8> kNames{"PF", "TF", "TB", "PI",
                                                          "CI", "MF", "RT", "OV"};
  std::string s;
  for (std::size_t bit = 0; bit < kNames.size(); ++bit) {
    if ((flags & (1U << bit)) == 0) continue;
    if (!s.empty()) s += '|';
    s += kNames[bit];
  }
  return s;
}

/// Energy of `pulses` record pulses in Wh as exact decimal text ("12.500000000" trimmed to
/// "12.5"): pulses x divisor x Kh.
inline std::string energy_wh_text(std::uint32_t pulses, std::uint32_t pulse_divisor,
                                  std::uint64_t kh_nwh) {
  // pulses < 2^32 and the unit (divisor x Kh) < 2^64: split the unit at 1 Wh so that no
  // product overflows 64 bits.
  const std::uint64_t unit_nwh = std::uint64_t{pulse_divisor} * kh_nwh;
  const std::uint64_t unit_wh = unit_nwh / 1'000'000'000U;
  const std::uint64_t unit_rest_nwh = unit_nwh % 1'000'000'000U;
  const std::uint64_t rest_nwh = std::uint64_t{pulses} * unit_rest_nwh;
  const std::uint64_t whole = std::uint64_t{pulses} * unit_wh + rest_nwh / 1'000'000'000U;
  const std::uint64_t frac = rest_nwh % 1'000'000'000U;
  std::string s = std::to_string(whole);
  if (frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, 9 - digits.size(), '0');
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    s += '.' + digits;
  }
  return s;
}

/// The profile as CSV, one line per record after a header line:
/// sequence,end_utc,flags,<obis>_pulses...,<obis>_wh...
/// e.g. "17,2023-11-14T22:15:00Z,PF|PI,120,0,120,0". Lines end with '\n'.
inline std::string profile_to_csv(const Profile& p) {
  std::string csv = "sequence,end_utc,flags";
  for (const auto& o : p.channels) csv += ',' + obis_text(o) + "_pulses";
  for (const auto& o : p.channels) csv += ',' + obis_text(o) + "_wh";
  csv += '\n';
  for (const auto& r : p.records) {
    csv += std::to_string(r.sequence) + ',' + utc_text(r.end_utc_s) + ',' + flags_text(r.flags);
    for (std::size_t c = 0; c < p.channels.size(); ++c) csv += ',' + std::to_string(r.pulses[c]);
    for (std::size_t c = 0; c < p.channels.size(); ++c) {
      csv += ',' + energy_wh_text(r.pulses[c], p.pulse_divisor, p.kh_nwh);
    }
    csv += '\n';
  }
  return csv;
}

/// Turns the value (octets) of object 1-0:99.1.0 into CSV. On malformed bytes returns false
/// and sets `error`; `csv` is then left untouched.
inline bool profile_octets_to_csv(const std::uint8_t* data, std::size_t size, std::string& csv,
                                  std::string& error) {
  ProfileDecode decoded = decode_profile(data, size);
  if (!decoded.profile) {
    error = std::move(decoded.error);
    return false;
  }
  csv = profile_to_csv(*decoded.profile);
  return true;
}

}  // namespace meter::plugins::load_profile
