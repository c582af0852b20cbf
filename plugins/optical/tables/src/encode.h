// Little-endian writers for C12.19 table bytes (ST-0 says DATA_ORDER 0: least significant
// octet first), ISO 8859-1 fixed-width text, SET bit fields and the TM_FORMAT 2 dates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <meter/sdk/obis.h>

#include "civil_time.h"

namespace meter::c1219::detail {

class Writer {
 public:
  void u8(std::uint64_t v) { put(v, 1); }
  void u16(std::uint64_t v) { put(v, 2); }
  void u32(std::uint64_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void i8(std::int64_t v) { put(static_cast<std::uint64_t>(v), 1); }
  void i16(std::int64_t v) { put(static_cast<std::uint64_t>(v), 2); }
  void i64(std::int64_t v) { put(static_cast<std::uint64_t>(v), 8); }
  void bytes(std::span<const std::uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void zeros(std::size_t n) { out_.insert(out_.end(), n, 0); }
  void obis(const meter::sdk::Obis& o) {
    for (std::uint8_t b : {o.a, o.b, o.c, o.d, o.e, o.f}) out_.push_back(b);
  }
  /// `width` characters of ISO 8859-1 text, cut or padded with spaces.
  void text(std::string_view utf8, std::size_t width);
  /// UTF-8 text as ISO 8859-1, at most `max_chars` characters; returns how many it wrote.
  std::size_t latin1(std::string_view utf8, std::size_t max_chars = SIZE_MAX);
  /// A SET of `octets` octets: member n is bit n % 8 of octet n / 8.
  void set(std::span<const int> members, std::size_t octets);
  /// LTIME_DATE, TM_FORMAT 2: YEAR (two digits) MONTH DAY HOUR MINUTE SECOND, each UINT8;
  /// six zero octets when the time is not known.
  void ltime(const std::optional<Civil>& t);
  /// STIME_DATE, TM_FORMAT 2: as LTIME_DATE without the seconds.
  void stime(const std::optional<Civil>& t);
  /// TIME, TM_FORMAT 2: HOUR MINUTE SECOND.
  void time_of_day(int hour, int minute, int second);

  std::size_t size() const noexcept { return out_.size(); }
  std::vector<std::uint8_t>& bytes_out() noexcept { return out_; }
  std::vector<std::uint8_t> take() { return std::move(out_); }

 private:
  void put(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  std::vector<std::uint8_t> out_;
};

/// Reads little-endian integers from procedure parameters; `ok()` turns false past the end.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> b) : b_(b) {}
  std::uint64_t get(std::size_t n) {
    if (!ok_ || b_.size() - at_ < n) {
      ok_ = false;
      return 0;
    }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t{b_[at_ + i]} << (8 * i);
    at_ += n;
    return v;
  }
  std::optional<meter::sdk::Obis> obis() {
    const auto v = get(6);
    if (!ok_) return std::nullopt;
    auto byte = [v](int i) { return static_cast<std::uint8_t>(v >> (8 * i)); };
    return meter::sdk::Obis{byte(0), byte(1), byte(2), byte(3), byte(4), byte(5)};
  }
  std::span<const std::uint8_t> rest() const { return b_.subspan(ok_ ? at_ : b_.size()); }
  std::size_t left() const noexcept { return ok_ ? b_.size() - at_ : 0; }
  bool ok() const noexcept { return ok_; }

 private:
  std::span<const std::uint8_t> b_;
  std::size_t at_ = 0;
  bool ok_ = true;
};

}  // namespace meter::c1219::detail
