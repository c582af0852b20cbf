// Fixed-width ISO 8859-1 text, SET bit fields and TM_FORMAT 2 dates (encode.h).
#include "encode.h"

namespace meter::c1219::detail {

void Writer::text(std::string_view utf8, std::size_t width) {
  const std::size_t written = latin1(utf8, width);
  out_.insert(out_.end(), width - written, ' ');
}

std::size_t Writer::latin1(std::string_view utf8, std::size_t max_chars) {
  std::size_t written = 0;
  for (std::size_t i = 0; i < utf8.size() && written < max_chars; ++written) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      out_.push_back(c);
      ++i;
    } else if ((c == 0xC2 || c == 0xC3) && i + 1 < utf8.size()) {
      // U+0080..U+00FF: the Latin-1 code point.
      out_.push_back(static_cast<std::uint8_t>(((c & 0x03U) << 6) |
                                               (static_cast<unsigned char>(utf8[i + 1]) & 0x3FU)));
      i += 2;
    } else {
      out_.push_back('?');
      ++i;
      while (i < utf8.size() && (static_cast<unsigned char>(utf8[i]) & 0xC0U) == 0x80U) ++i;
    }
  }
  return written;
}

void Writer::set(std::span<const int> members, std::size_t octets) {
  const std::size_t at = out_.size();
  out_.insert(out_.end(), octets, 0);
  for (int m : members) {
    if (m < 0 || static_cast<std::size_t>(m) / 8 >= octets) continue;
    out_[at + static_cast<std::size_t>(m) / 8] |= static_cast<std::uint8_t>(1U << (m % 8));
  }
}

void Writer::ltime(const std::optional<Civil>& t) {
  stime(t);
  u8(t ? static_cast<unsigned>(t->second) : 0U);
}

void Writer::stime(const std::optional<Civil>& t) {
  if (!t) {
    zeros(5);
    return;
  }
  u8(static_cast<unsigned>(t->year % 100));
  u8(static_cast<unsigned>(t->month));
  u8(static_cast<unsigned>(t->day));
  u8(static_cast<unsigned>(t->hour));
  u8(static_cast<unsigned>(t->minute));
}

void Writer::time_of_day(int hour, int minute, int second) {
  u8(static_cast<unsigned>(hour));
  u8(static_cast<unsigned>(minute));
  u8(static_cast<unsigned>(second));
}

}  // namespace meter::c1219::detail
