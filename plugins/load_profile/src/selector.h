// The selector of the profile object: which records a read of 1-0:99.1.0 returns, written as
// text to 1-0:99.1.1 ("all", "last:96", "index:120-215", "time:FROM/TO").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine.h"

namespace meter::plugins::load_profile {

/// What a selector picks. Zero is never valid.
enum class SelectorKind : std::uint8_t { all = 1, last, index, time };

/// A parsed selector.
struct Selector {
  SelectorKind kind = SelectorKind::all;
  std::uint64_t count = 0;        ///< last: how many of the newest records
  std::uint64_t first_index = 0;  ///< index: sequence numbers, inclusive
  std::uint64_t last_index = 0;
  std::int64_t from_utc_s = 0;    ///< time: records whose end is in (from, to]
  std::int64_t to_utc_s = 0;
  std::string text;               ///< as written, for reading it back
};

/// A selector, or why the text is not one.
struct SelectorParse {
  std::optional<Selector> selector;
  std::string error;
};

/// Parses "all", "last:N", "index:A-B", "index:A-" (A to the newest), "time:FROM/TO" where
/// FROM and TO are "YYYY-MM-DDTHH:MM:SSZ" or seconds since the Unix epoch.
SelectorParse parse_selector(std::string_view text);

/// Parses "YYYY-MM-DDTHH:MM:SSZ" (UTC) or decimal seconds since the Unix epoch.
std::optional<std::int64_t> parse_utc_s(std::string_view text);

/// The profile object's value: the header and the records `selector` picks, oldest first.
std::vector<std::uint8_t> select_records(const Engine& engine, const Selector& selector);

}  // namespace meter::plugins::load_profile
