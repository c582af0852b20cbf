// Parsing the profile selector and encoding the records it picks.
#include "selector.h"

#include <charconv>

namespace meter::plugins::load_profile {
namespace {

template <class T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

constexpr bool leap(std::int64_t y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

std::optional<std::int64_t> parse_utc_s(std::string_view text) {
  if (auto seconds = parse_number<std::int64_t>(text)) return seconds;
  // YYYY-MM-DDTHH:MM:SSZ
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
      text[13] != ':' || text[16] != ':' || text[19] != 'Z') {
    return std::nullopt;
  }
  const auto year = parse_number<std::int64_t>(text.substr(0, 4));
  const auto month = parse_number<unsigned>(text.substr(5, 2));
  const auto day = parse_number<unsigned>(text.substr(8, 2));
  const auto hour = parse_number<unsigned>(text.substr(11, 2));
  const auto minute = parse_number<unsigned>(text.substr(14, 2));
  const auto second = parse_number<unsigned>(text.substr(17, 2));
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  static constexpr unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (*month < 1 || *month > 12 || *day < 1) return std::nullopt;
  const unsigned month_days = kDays[*month - 1] + (*month == 2 && leap(*year) ? 1 : 0);
  if (*day > month_days || *hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
  return days_from_civil(*year, *month, *day) * 86400 + *hour * 3600 + *minute * 60 + *second;
}

SelectorParse parse_selector(std::string_view text) {
  SelectorParse out;
  Selector s;
  s.text = std::string(text);
  const auto fail = [&](std::string why) {
    out.error = "profile selector \"" + std::string(text) + "\": " + std::move(why) +
                " (all | last:N | index:FROM-TO | time:FROM/TO)";
    return out;
  };
  if (text == "all") {
    s.kind = SelectorKind::all;
  } else if (text.rfind("last:", 0) == 0) {
    const auto n = parse_number<std::uint64_t>(text.substr(5));
    if (!n) return fail("N must be a whole number");
    s.kind = SelectorKind::last;
    s.count = *n;
  } else if (text.rfind("index:", 0) == 0) {
    const std::string_view range = text.substr(6);
    const std::size_t dash = range.find('-');
    if (dash == std::string_view::npos) return fail("an index range needs FROM-TO");
    const auto from = parse_number<std::uint64_t>(range.substr(0, dash));
    const std::string_view to_text = range.substr(dash + 1);
    const auto to = to_text.empty() ? std::optional<std::uint64_t>(UINT64_MAX)
                                    : parse_number<std::uint64_t>(to_text);
    if (!from || !to) return fail("FROM and TO must be record sequence numbers");
    if (*from > *to) return fail("FROM is after TO");
    s.kind = SelectorKind::index;
    s.first_index = *from;
    s.last_index = *to;
  } else if (text.rfind("time:", 0) == 0) {
    const std::string_view range = text.substr(5);
    const std::size_t slash = range.find('/');
    if (slash == std::string_view::npos) return fail("a time range needs FROM/TO");
    const auto from = parse_utc_s(range.substr(0, slash));
    const auto to = parse_utc_s(range.substr(slash + 1));
    if (!from || !to) return fail("FROM and TO must be YYYY-MM-DDTHH:MM:SSZ or Unix seconds");
    if (*from > *to) return fail("FROM is after TO");
    s.kind = SelectorKind::time;
    s.from_utc_s = *from;
    s.to_utc_s = *to;
  } else {
    return fail("unknown form");
  }
  out.selector = std::move(s);
  return out;
}

std::vector<std::uint8_t> select_records(const Engine& engine, const Selector& selector) {
  const std::uint32_t oldest = engine.oldest_sequence();
  const std::uint32_t next = engine.next_sequence();
  std::uint64_t first = oldest;
  std::uint64_t last_excl = next;
  if (selector.kind == SelectorKind::last) {
    first = next - std::min<std::uint64_t>(selector.count, engine.size());
  } else if (selector.kind == SelectorKind::index) {
    first = std::max<std::uint64_t>(first, selector.first_index);
    if (selector.last_index < last_excl) last_excl = selector.last_index + 1;
  }
  const std::size_t channels = engine.config().channels.size();
  std::vector<std::uint8_t> body;
  std::uint32_t selected = 0;
  for (std::uint64_t s = first; s < last_excl; ++s) {
    const Record& r = engine.record(static_cast<std::uint32_t>(s));
    if (r.sequence != s) continue;  // lost from NVM
    if (selector.kind == SelectorKind::time &&
        (r.end_utc_s <= selector.from_utc_s || r.end_utc_s > selector.to_utc_s)) {
      continue;
    }
    encode_record(r, channels, body);
    ++selected;
  }
  std::vector<std::uint8_t> out;
  encode_header(engine.header(), selected, out);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

}  // namespace meter::plugins::load_profile
