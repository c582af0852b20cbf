// The replay driver: reads a CSV once, turns each row's energy into integer LSBs, and spreads
// them over the ticks the row covers so that the ticks of a row add up to it exactly.
#include "meter/boards/replay/replay_driver.h"

#include <date/date.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <fstream>
#include <optional>
#include <string_view>

#include "meter/boards/booking.h"
#include "meter/boards/seals.h"
#include "meter/boards/supply.h"

namespace meter::boards::replay {
namespace {

using kernel::fail;
using kernel::kMaxElements;

constexpr double kNwhPerWms = 1e9 / 3600.0 / 1000.0;
// A day-long 10 kW row is 2.4e11 LSB; times its 8.64e7 ms that passes 2^63.
__extension__ using Int128 = __int128;

std::int64_t round_half_away(double x) noexcept {
  return static_cast<std::int64_t>(x + (x >= 0 ? 0.5 : -0.5));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t from = 0;
  while (true) {
    const std::size_t comma = line.find(',', from);
    fields.push_back(trim(line.substr(from, comma == std::string_view::npos ? comma : comma - from)));
    if (comma == std::string_view::npos) return fields;
    from = comma + 1;
  }
}

std::optional<double> number(std::string_view s) {
  double x = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
  if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(x)) return std::nullopt;
  return x;
}

// Reads `digits` decimal digits at `pos`, advancing it.
std::optional<int> digits(std::string_view s, std::size_t& pos, std::size_t count) {
  if (pos + count > s.size()) return std::nullopt;
  int v = 0;
  for (std::size_t k = 0; k < count; ++k) {
    const char c = s[pos + k];
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  pos += count;
  return v;
}

bool expect(std::string_view s, std::size_t& pos, std::string_view chars) {
  if (pos >= s.size() || chars.find(s[pos]) == std::string_view::npos) return false;
  ++pos;
  return true;
}

// ISO 8601 date and time (seconds, optional fraction, optional Z or +-hh:mm) or epoch seconds;
// milliseconds since the epoch.
std::optional<std::int64_t> timestamp_ms(std::string_view s) {
  if (s.empty()) return std::nullopt;
  if (s.find('-', 1) == std::string_view::npos && s.find(':') == std::string_view::npos) {
    const auto x = number(s);
    if (!x || std::fabs(*x) > 1e13) return std::nullopt;
    return static_cast<std::int64_t>(std::llround(*x * 1000.0));
  }
  std::size_t pos = 0;
  const auto y = digits(s, pos, 4);
  if (!y || !expect(s, pos, "-")) return std::nullopt;
  const auto mo = digits(s, pos, 2);
  if (!mo || !expect(s, pos, "-")) return std::nullopt;
  const auto d = digits(s, pos, 2);
  if (!d || !expect(s, pos, "T ")) return std::nullopt;
  const auto h = digits(s, pos, 2);
  if (!h || !expect(s, pos, ":")) return std::nullopt;
  const auto mi = digits(s, pos, 2);
  if (!mi || !expect(s, pos, ":")) return std::nullopt;
  const auto se = digits(s, pos, 2);
  if (!se || *h > 23 || *mi > 59 || *se > 60) return std::nullopt;
  std::int64_t ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::int64_t scale = 100;
    bool any = false;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      ms += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
      any = true;
    }
    if (!any) return std::nullopt;
  }
  std::int64_t offset_min = 0;
  if (pos < s.size() && s[pos] == 'Z') {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    const auto oh = digits(s, pos, 2);
    if (!oh || !expect(s, pos, ":")) return std::nullopt;
    const auto om = digits(s, pos, 2);
    if (!om) return std::nullopt;
    offset_min = sign * (*oh * 60 + *om);
  }
  if (pos != s.size()) return std::nullopt;
  const date::year_month_day ymd{date::year{*y}, date::month{static_cast<unsigned>(*mo)},
                                 date::day{static_cast<unsigned>(*d)}};
  if (!ymd.ok()) return std::nullopt;
  const std::int64_t day_ms = date::sys_days{ymd}.time_since_epoch().count() * 86'400'000LL;
  return day_ms + ((*h * 60 + *mi - offset_min) * 60 + *se) * 1000 + ms;
}

struct Row {
  std::int64_t begin_ms = 0;
  std::int64_t end_ms = 0;
  std::array<std::int64_t, kMaxElements> active_lsb{};
  std::array<std::int64_t, kMaxElements> reactive_lsb{};
  std::array<double, kMaxElements> voltage_v{};
  std::array<double, kMaxElements> current_a{};
};

// Whole LSBs of `total` that fall before `at` within [begin, end), rounded down: successive
// ticks take differences of this, so a row's ticks add up to the row exactly.
std::int64_t share_before(std::int64_t total, std::int64_t at, const Row& r) noexcept {
  const Int128 num = static_cast<Int128>(total) * (at - r.begin_ms);
  const std::int64_t den = r.end_ms - r.begin_ms;
  Int128 q = num / den;
  if (num % den != 0 && num < 0) --q;
  return static_cast<std::int64_t>(q);
}

struct Columns {
  std::size_t count = 0;
  std::size_t timestamp = SIZE_MAX;
  std::uint8_t elements = 0;
  std::array<std::size_t, kMaxElements> p{SIZE_MAX, SIZE_MAX, SIZE_MAX};
  std::array<std::size_t, kMaxElements> q{SIZE_MAX, SIZE_MAX, SIZE_MAX};
  std::array<std::size_t, kMaxElements> v{SIZE_MAX, SIZE_MAX, SIZE_MAX};
  std::array<std::size_t, kMaxElements> i{SIZE_MAX, SIZE_MAX, SIZE_MAX};
  std::vector<std::string> names;
};

kernel::Result<Columns> read_header(std::string_view line, const std::string& where) {
  Columns c;
  const auto fields = split(line);
  c.count = fields.size();
  for (std::size_t k = 0; k < fields.size(); ++k) {
    std::string name(fields[k]);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    c.names.push_back(name);
    std::size_t* slot = nullptr;
    if (name == "timestamp") {
      slot = &c.timestamp;
    } else if (name.size() >= 4 && name[1] >= '1' && name[1] <= '3' && name[2] == '_') {
      const auto e = static_cast<std::size_t>(name[1] - '1');
      const std::string_view unit = std::string_view(name).substr(3);
      if (name[0] == 'p' && unit == "w") slot = &c.p[e];
      if (name[0] == 'q' && unit == "var") slot = &c.q[e];
      if (name[0] == 'v' && unit == "v") slot = &c.v[e];
      if (name[0] == 'i' && unit == "a") slot = &c.i[e];
    }
    if (slot == nullptr) {
      return fail(fmt::format("{}: column '{}' is unknown; expected timestamp, pN_w, qN_var, vN_v, "
                              "iN_a with N 1..3",
                              where, fields[k]));
    }
    if (*slot != SIZE_MAX) return fail(fmt::format("{}: column {} appears twice", where, name));
    *slot = k;
  }
  if (c.timestamp == SIZE_MAX) return fail(fmt::format("{}: column timestamp is missing", where));
  while (c.elements < kMaxElements && c.p[c.elements] != SIZE_MAX) ++c.elements;
  if (c.elements == 0) return fail(fmt::format("{}: column p1_w is missing", where));
  for (std::size_t e = c.elements; e < kMaxElements; ++e) {
    for (const auto* col : {&c.p, &c.q, &c.v, &c.i}) {
      if ((*col)[e] != SIZE_MAX) {
        return fail(fmt::format("{}: column {} has no p{}_w (elements are p1_w..p{}_w)", where,
                                c.names[(*col)[e]], e + 1, c.elements));
      }
    }
  }
  return c;
}

kernel::Result<std::vector<Row>> read_rows(const ReplayConfig& config) {
  std::ifstream in(config.path);
  if (!in) return fail(fmt::format("{}: cannot be opened", config.path));
  std::string line;
  std::size_t line_no = 0;
  std::optional<Columns> columns;
  std::vector<Row> rows;
  std::vector<std::array<double, kMaxElements>> p_w, q_var;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string_view text = trim(line);
    if (text.empty() || text.front() == '#') continue;
    const std::string where = fmt::format("{}:{}", config.path, line_no);
    if (!columns) {
      auto header = read_header(text, where);
      if (!header) return header.error();
      if (header->elements != config.service->elements) {
        return fail(fmt::format("{}: the recording has {} element(s) (p1_w..p{}_w) but service {} "
                                "has {}",
                                where, header->elements, header->elements, config.service->id,
                                config.service->elements));
      }
      columns = std::move(*header);
      continue;
    }
    const Columns& c = *columns;
    const auto fields = split(text);
    if (fields.size() < c.count) {
      return fail(fmt::format("{}: column {} is missing (the row has {} of {} columns)", where,
                              c.names[fields.size()], fields.size(), c.count));
    }
    if (fields.size() > c.count) {
      return fail(fmt::format("{}: the row has {} columns, the header {}", where, fields.size(),
                              c.count));
    }
    const auto t = timestamp_ms(fields[c.timestamp]);
    if (!t) {
      return fail(fmt::format("{}: column timestamp: '{}' is neither ISO 8601 nor epoch seconds",
                              where, fields[c.timestamp]));
    }
    if (!rows.empty() && *t <= rows.back().begin_ms) {
      return fail(fmt::format("{}: column timestamp: {} is not after the previous row's {}", where,
                              fields[c.timestamp],
                              date::format("%FT%TZ", kernel::UtcTime{kernel::Milliseconds{rows.back().begin_ms}})));
    }
    Row r;
    r.begin_ms = *t;
    std::array<double, kMaxElements> p{}, q{};
    for (std::size_t e = 0; e < c.elements; ++e) {
      const auto value = [&](std::size_t col, double fallback) -> kernel::Result<double> {
        if (col == SIZE_MAX) return fallback;
        const auto x = number(fields[col]);
        if (!x) {
          return fail(fmt::format("{}: column {}: '{}' is not a number", where, c.names[col],
                                  fields[col]));
        }
        return *x;
      };
      const auto pe = value(c.p[e], 0);
      if (!pe) return pe.error();
      const auto qe = value(c.q[e], 0);
      if (!qe) return qe.error();
      const auto ve = value(c.v[e], config.nominal_voltage_v);
      if (!ve) return ve.error();
      const auto ie = value(c.i[e], std::hypot(*pe, *qe) / *ve);
      if (!ie) return ie.error();
      if (*ve < 0 || *ie < 0) {
        return fail(fmt::format("{}: column {}: must not be negative", where,
                                c.names[*ve < 0 ? c.v[e] : c.i[e]]));
      }
      p[e] = *pe;
      q[e] = *qe;
      r.voltage_v[e] = *ve;
      r.current_a[e] = std::isfinite(*ie) ? *ie : 0.0;
    }
    rows.push_back(r);
    p_w.push_back(p);
    q_var.push_back(q);
  }
  if (!columns) return fail(fmt::format("{}: no header row", config.path));
  if (rows.size() < 2) {
    return fail(fmt::format("{}: needs at least two rows (a row lasts until the next)", config.path));
  }
  const double lsb_per_wms = kNwhPerWms / config.energy_nwh_per_lsb;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    Row& r = rows[k];
    r.end_ms = k + 1 < rows.size() ? rows[k + 1].begin_ms
                                   : r.begin_ms + (r.begin_ms - rows[k - 1].begin_ms);
    const auto span_ms = static_cast<double>(r.end_ms - r.begin_ms);
    for (std::size_t e = 0; e < columns->elements; ++e) {
      r.active_lsb[e] = round_half_away(p_w[k][e] * span_ms * lsb_per_wms);
      r.reactive_lsb[e] = round_half_away(q_var[k][e] * span_ms * lsb_per_wms);
    }
  }
  return rows;
}

class ReplayDriver final : public Driver {
 public:
  ReplayDriver(const ReplayConfig& c, std::vector<Row> rows, Supply supply, SealSchedule seals)
      : rows_(std::move(rows)),
        supply_(std::move(supply)),
        seals_(std::move(seals)),
        elements_(c.service->elements),
        nwh_per_lsb_(c.energy_nwh_per_lsb) {
    reading_.elements = elements_;
    reading_.frequency_hz = c.frequency_hz;
  }

  void feed(kernel::Meter& meter, kernel::UtcTime start, kernel::Milliseconds length) override {
    const std::int64_t s = start.time_since_epoch().count();
    const std::int64_t e = s + length.count();
    if (e <= s || e <= rows_.front().begin_ms || s >= rows_.back().end_ms) return;
    const TickSupply supply = supply_.at(s, e);
    if (supply.powered_ms <= 0) return;
    if (row_ >= rows_.size() || s < rows_[row_].begin_ms || s >= rows_[row_].end_ms) {
      const auto it = std::upper_bound(rows_.begin(), rows_.end(), s,
                                       [](std::int64_t t, const Row& r) { return t < r.begin_ms; });
      row_ = it == rows_.begin() ? 0 : static_cast<std::size_t>(it - rows_.begin()) - 1;
    }
    std::array<std::int64_t, kMaxElements> active{}, reactive{};
    for (std::size_t k = row_; k < rows_.size() && rows_[k].begin_ms < e; ++k) {
      const Row& r = rows_[k];
      const std::int64_t from = std::max(s, r.begin_ms);
      const std::int64_t to = std::min(e, r.end_ms);
      if (to <= from) continue;
      for (std::size_t el = 0; el < elements_; ++el) {
        active[el] += share_before(r.active_lsb[el], to, r) - share_before(r.active_lsb[el], from, r);
        reactive[el] +=
            share_before(r.reactive_lsb[el], to, r) - share_before(r.reactive_lsb[el], from, r);
      }
    }
    const Row& now = rows_[row_];
    const double span = static_cast<double>(e - s);
    const bool full = supply.volt_ms == span;
    std::int64_t active_sum = 0, reactive_sum = 0;
    for (std::size_t el = 0; el < elements_; ++el) {
      if (!full) {
        // The recording is of a powered meter: a failure or sag takes its share away.
        active[el] = round_half_away(static_cast<double>(active[el]) * supply.volt_ms / span);
        reactive[el] = round_half_away(static_cast<double>(reactive[el]) * supply.volt_ms / span);
      }
      reading_.active_energy_lsb[el] = active[el];
      reading_.reactive_energy_lsb[el] = reactive[el];
      reading_.voltage_v[el] =
          now.voltage_v[el] * supply.volt_ms / static_cast<double>(supply.powered_ms);
      reading_.current_a[el] = now.current_a[el];
      active_sum += active[el];
      reactive_sum += reactive[el];
    }
    reading_.interval = kernel::Milliseconds{supply.powered_ms};
    if (meter.add(reading_)) book_tick(totals_, active_sum * nwh_per_lsb_, reactive_sum * nwh_per_lsb_);
  }

  const LoadTotals& fed() const noexcept override { return totals_; }
  const std::vector<Happening>& happenings() const noexcept override {
    return supply_.happenings();
  }
  Fidelity fidelity() const noexcept override { return Fidelity::chip; }
  SealSwitches seal_switches(kernel::UtcTime at) const noexcept override { return seals_.at(at); }
  std::optional<kernel::UtcTime> begins() const noexcept override {
    return kernel::UtcTime{kernel::Milliseconds{rows_.front().begin_ms}};
  }
  std::optional<kernel::UtcTime> ends() const noexcept override {
    return kernel::UtcTime{kernel::Milliseconds{rows_.back().end_ms}};
  }

 private:
  std::vector<Row> rows_;
  Supply supply_;
  SealSchedule seals_;
  std::uint8_t elements_;
  std::int64_t nwh_per_lsb_;
  std::size_t row_ = 0;
  kernel::AccumulatorReading reading_{};
  LoadTotals totals_{};
};

}  // namespace

kernel::Result<std::unique_ptr<Driver>> make_replay_driver(const ReplayConfig& config) {
  if (config.service == nullptr) return fail("replay: service is not set");
  if (!(std::isfinite(config.nominal_voltage_v) && config.nominal_voltage_v > 0 &&
        config.nominal_voltage_v <= 1000)) {
    return fail(fmt::format("replay: nominal_voltage_v must be within 0..1000 V, got {}",
                            config.nominal_voltage_v));
  }
  if (!(config.frequency_hz >= 45 && config.frequency_hz <= 65)) {
    return fail(fmt::format("replay: frequency_hz must be within 45..65 Hz, got {}",
                            config.frequency_hz));
  }
  if (config.energy_nwh_per_lsb == 0) {
    return fail("replay: energy_nwh_per_lsb must be at least 1, got 0");
  }
  auto supply = Supply::create(config.happenings);
  if (!supply) return fail("replay: " + supply.error().message);
  auto seals = SealSchedule::create(config.seal_switches, config.sealed, config.happenings);
  if (!seals) return fail("replay: " + seals.error().message);
  auto rows = read_rows(config);
  if (!rows) return rows.error();
  return std::unique_ptr<Driver>(std::make_unique<ReplayDriver>(
      config, std::move(*rows), std::move(*supply), std::move(*seals)));
}

}  // namespace meter::boards::replay
