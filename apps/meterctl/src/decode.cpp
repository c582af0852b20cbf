#include "decode.h"

#include <array>

#include <fmt/format.h>

#include "values.h"

namespace meter::apps::meterctl {

namespace {

constexpr std::size_t kSt1Size = 32;
constexpr std::size_t kSt5Size = 20;
constexpr std::size_t kSt3Size = 5;
constexpr std::size_t kClockSize = 7;
constexpr std::size_t kSt21Size = 10;
constexpr std::size_t kNi = 8;           // NI_FMAT1 and NI_FMAT2 are INT64 (ST-0 NI_FORMAT 11)
constexpr std::size_t kStimeDate = 5;
constexpr int kWattHour = 30;
constexpr int kWatt = 27;

std::uint64_t le(std::span<const std::uint8_t> b, std::size_t at, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t{b[at + i]} << (8 * i);
  return v;
}

std::int64_t i64(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::int64_t>(le(b, at, kNi));
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += separator;
    out += p;
  }
  return out;
}

// MT-1's sources by index, as ST-22 selects them.
std::string source_name(std::uint8_t index) {
  static constexpr std::array<const char*, 9> kSources = {
      "+A 1-0:1.8.0", "-A 1-0:2.8.0", "net 1-0:16.8.0", "Q1 1-0:5.8.0", "Q2 1-0:6.8.0",
      "Q3 1-0:7.8.0", "Q4 1-0:8.8.0", "import 1-0:1.6.0", "export 1-0:2.6.0"};
  return index < kSources.size() ? kSources[index] : fmt::format("source {}", index);
}

std::string stime_date(std::span<const std::uint8_t> b, std::size_t at) {
  bool zero = true;
  for (std::size_t i = 0; i < kStimeDate; ++i) zero = zero && b[at + i] == 0;
  if (zero) return "no time";
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02} UTC", 2000 + b[at], b[at + 1], b[at + 2],
                     b[at + 3], b[at + 4]);
}

}  // namespace

std::string latin1_text(std::span<const std::uint8_t> bytes) {
  std::size_t end = bytes.size();
  while (end > 0 && (bytes[end - 1] == ' ' || bytes[end - 1] == 0)) --end;
  std::string out;
  for (std::size_t i = 0; i < end; ++i) {
    const auto c = bytes[i];
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

std::optional<ManufacturerIdentification> decode_manufacturer_identification(
    std::span<const std::uint8_t> t) {
  if (t.size() != kSt1Size) return std::nullopt;
  ManufacturerIdentification id;
  id.manufacturer = latin1_text(t.subspan(0, 4));
  id.model = latin1_text(t.subspan(4, 8));
  id.hw_version = t[12];
  id.hw_revision = t[13];
  id.fw_version = t[14];
  id.fw_revision = t[15];
  id.serial_number = latin1_text(t.subspan(16, 16));
  return id;
}

std::optional<std::string> decode_device_identification(std::span<const std::uint8_t> t) {
  if (t.size() != kSt5Size) return std::nullopt;
  return latin1_text(t);
}

std::optional<std::string> describe_seal(std::span<const std::uint8_t> t) {
  if (t.size() != kSt3Size) return std::nullopt;
  static constexpr std::array<const char*, 4> kSources = {
      "cover", "programming jumper", "optical port sealing plug", "electronic seal"};
  std::vector<std::string> sealed;
  for (std::size_t bit = 0; bit < kSources.size(); ++bit) {
    if ((t[4] >> bit) & 1U) sealed.emplace_back(kSources[bit]);
  }
  return sealed.empty() ? std::string("unsealed") : "sealed: " + join(sealed, ", ");
}

std::optional<Lines> describe_mode_status(std::span<const std::uint8_t> t) {
  if (t.size() != kSt3Size) return std::nullopt;
  static constexpr std::array<const char*, 4> kModes = {"metering", "test mode",
                                                        "meter shop mode", "factory"};
  static constexpr std::array<const char*, 16> kStatus1 = {
      "unprogrammed",      "configuration error", "self-check error",   "RAM failure",
      "ROM failure",       "nonvolatile memory failure", "clock error", "measurement error",
      "low battery",       "low loss potential",  "demand overload",    "power failure",
      "tamper detected",   "reverse rotation",    "bit 14",             "bit 15"};
  static constexpr std::array<const char*, 3> kMfg = {
      "remote configuration mode", "test LED active", "event logger not recording"};
  std::vector<std::string> modes;
  for (std::size_t bit = 0; bit < kModes.size(); ++bit) {
    if ((t[0] >> bit) & 1U) modes.emplace_back(kModes[bit]);
  }
  std::vector<std::string> status;
  const auto status1 = static_cast<unsigned>(le(t, 1, 2));
  for (std::size_t bit = 0; bit < kStatus1.size(); ++bit) {
    if ((status1 >> bit) & 1U) status.emplace_back(kStatus1[bit]);
  }
  if (t[3] != 0) status.push_back(fmt::format("ED_STD_STATUS2 0x{:02x}", t[3]));
  std::vector<std::string> mfg;
  for (std::size_t bit = 0; bit < kMfg.size(); ++bit) {
    if ((t[4] >> (bit + 4)) & 1U) mfg.emplace_back(kMfg[bit]);
  }
  Lines out;
  out.push_back("mode: " + (modes.empty() ? std::string("none") : join(modes, ", ")));
  out.push_back("status: " + (status.empty() ? std::string("no error") : join(status, ", ")));
  out.push_back("seal: " + *describe_seal(t));
  if (!mfg.empty()) out.push_back("meter: " + join(mfg, ", "));
  return out;
}

std::optional<std::string> describe_clock(std::span<const std::uint8_t> t) {
  if (t.size() < kClockSize) return std::nullopt;
  const auto q = t[6];
  bool zero = true;
  for (std::size_t i = 0; i < 6; ++i) zero = zero && t[i] == 0;
  if (zero || (q & 7U) == 7U) return std::string("time unknown");
  static constexpr std::array<const char*, 7> kDays = {
      "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
  std::string text = fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02} {}, {}", 2000 + t[0], t[1],
                                 t[2], t[3], t[4], t[5], (q & 0x10U) ? "UTC" : "local time",
                                 kDays[q & 7U]);
  if (q & 0x08U) text += ", daylight saving time";
  return text;
}

std::optional<Lines> describe_register_data(std::span<const std::uint8_t> st21,
                                            std::span<const std::uint8_t> st22,
                                            std::span<const std::uint8_t> st23) {
  if (st21.size() != kSt21Size) return std::nullopt;
  const auto flags = st21[0];
  const bool date_time = (flags >> 1) & 1U;
  const bool reset_counter = (flags >> 2) & 1U;
  const bool cumulative = (flags >> 4) & 1U;
  const bool continuous = (flags >> 5) & 1U;
  const std::size_t summations = st21[3];
  const std::size_t demands = st21[4];
  const std::size_t coincident = st21[5];
  const std::size_t occurrences = st21[6];
  const std::size_t tiers = st21[7];
  if (coincident != 0 || st22.size() != summations + demands + (demands + 7) / 8) {
    return std::nullopt;
  }
  const std::size_t per_demand = (date_time ? kStimeDate * occurrences : 0) +
                                 (cumulative ? kNi : 0) + (continuous ? kNi : 0) +
                                 kNi * occurrences;
  const std::size_t block = summations * kNi + demands * per_demand;
  if (st23.size() != (reset_counter ? 1U : 0U) + block * (1 + tiers)) return std::nullopt;

  Lines out;
  std::size_t at = 0;
  if (reset_counter) out.push_back(fmt::format("demand resets: {} (modulo 256)", st23[at++]));
  for (std::size_t b = 0; b <= tiers; ++b) {
    out.push_back(b == 0 ? std::string("total:")
                         : fmt::format("tier {} (rate {}):", b, static_cast<char>('A' + b - 1)));
    for (std::size_t s = 0; s < summations; ++s, at += kNi) {
      out.push_back(fmt::format("  {:<18} {}", source_name(st22[s]),
                                format_value(Value{i64(st23, at)}, kWattHour, -3)));
    }
    for (std::size_t d = 0; d < demands; ++d) {
      const bool maximum = (st22[summations + demands + d / 8] >> (d % 8)) & 1U;
      std::vector<std::string> times;
      if (date_time) {
        for (std::size_t o = 0; o < occurrences; ++o, at += kStimeDate) {
          times.push_back(stime_date(st23, at));
        }
      }
      std::string line = fmt::format("  demand {} ({}, {})", d + 1,
                                     source_name(st22[summations + d]),
                                     maximum ? "maximum" : "minimum");
      std::string cumulative_text;
      if (cumulative) {
        cumulative_text += "; cumulative " + format_value(Value{i64(st23, at)}, kWatt, -3);
        at += kNi;
      }
      if (continuous) {
        cumulative_text +=
            "; continuous cumulative " + format_value(Value{i64(st23, at)}, kWatt, -3);
        at += kNi;
      }
      for (std::size_t o = 0; o < occurrences; ++o, at += kNi) {
        line += (o == 0 ? ": " : ", ") + format_value(Value{i64(st23, at)}, kWatt, -3);
        if (o < times.size()) line += " at " + times[o];
      }
      out.push_back(line + cumulative_text);
    }
  }
  return out;
}

Lines hex_dump(std::span<const std::uint8_t> bytes, std::uint32_t first) {
  Lines out;
  for (std::size_t at = 0; at < bytes.size(); at += 16) {
    std::string hex_part;
    std::string text;
    for (std::size_t i = 0; i < 16; ++i) {
      if (i == 8) hex_part += ' ';
      if (at + i < bytes.size()) {
        const auto c = bytes[at + i];
        hex_part += fmt::format("{:02x} ", c);
        text += (c >= 0x20 && c < 0x7F) ? static_cast<char>(c) : '.';
      } else {
        hex_part += "   ";
      }
    }
    out.push_back(fmt::format("{:06x}  {} |{}|", first + at, hex_part, text));
  }
  return out;
}

}  // namespace meter::apps::meterctl
