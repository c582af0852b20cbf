// The supply schedule: power failures and voltage sags turned into per-tick powered time.
#include "meter/boards/supply.h"

#include <date/date.h>
#include <fmt/format.h>

#include <cmath>
#include <numeric>
#include <string>

namespace meter::boards {
namespace {

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kAlways = std::numeric_limits<std::int64_t>::min();

std::string_view kind_name(Happening::Kind k) {
  switch (k) {
    case Happening::Kind::power_failure: return "power_failure";
    case Happening::Kind::voltage_sag: return "voltage_sag";
    case Happening::Kind::time_jump: return "time_jump";
    case Happening::Kind::seal_broken: return "seal_broken";
    case Happening::Kind::seal_applied: return "seal_applied";
    case Happening::Kind::optical_port_button: return "optical_port_button";
  }
  return "unknown";
}

std::string describe(const Happening& h, std::size_t index) {
  return fmt::format("happening {} ({} at {})", index, kind_name(h.kind),
                     date::format("%FT%TZ", h.at));
}

}  // namespace

kernel::Result<Supply> Supply::create(std::vector<Happening> happenings) {
  for (std::size_t i = 0; i < happenings.size(); ++i) {
    const Happening& h = happenings[i];
    switch (h.kind) {
      case Happening::Kind::power_failure:
      case Happening::Kind::voltage_sag:
        if (h.length.count() <= 0) {
          return kernel::fail(fmt::format("{}: length must be positive, got {} ms",
                                          describe(h, i), h.length.count()));
        }
        if (h.kind == Happening::Kind::voltage_sag &&
            !(h.sag_fraction >= 0.0 && h.sag_fraction <= 1.0)) {
          return kernel::fail(fmt::format("{}: sag_fraction must be within 0..1, got {}",
                                          describe(h, i), h.sag_fraction));
        }
        break;
      case Happening::Kind::time_jump:
      case Happening::Kind::seal_broken:   // the board's seal switches (seals.h), not the supply
      case Happening::Kind::seal_applied:
      case Happening::Kind::optical_port_button:  // the meter's, not the supply's
        break;
      default:
        return kernel::fail(fmt::format("happening {}: unknown kind {}", i,
                                        static_cast<int>(h.kind)));
    }
  }
  std::vector<std::size_t> order(happenings.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return happenings[a].at < happenings[b].at; });

  Supply s;
  std::size_t last_window = 0;
  for (const std::size_t i : order) {
    const Happening& h = happenings[i];
    s.happenings_.push_back(h);
    if (h.kind != Happening::Kind::power_failure && h.kind != Happening::Kind::voltage_sag) continue;
    const std::int64_t begin = h.at.time_since_epoch().count();
    const Window w{begin, begin + h.length.count(),
                   h.kind == Happening::Kind::power_failure ? 0.0 : h.sag_fraction};
    if (!s.windows_.empty() && w.begin_ms < s.windows_.back().end_ms) {
      return kernel::fail(fmt::format("{} overlaps {}", describe(h, i),
                                      describe(happenings[last_window], last_window)));
    }
    s.windows_.push_back(w);
    last_window = i;
  }
  s.quiet_begin_ms_ = 0;
  s.quiet_end_ms_ = 0;
  return s;
}

TickSupply Supply::at(std::int64_t start_ms, std::int64_t end_ms) noexcept {
  if (start_ms >= quiet_begin_ms_ && end_ms <= quiet_end_ms_) {
    return {end_ms - start_ms, static_cast<double>(end_ms - start_ms)};
  }
  // First window that ends after the tick starts.
  auto it = std::upper_bound(windows_.begin(), windows_.end(), start_ms,
                             [](std::int64_t t, const Window& w) { return t < w.end_ms; });
  TickSupply out{end_ms - start_ms, static_cast<double>(end_ms - start_ms)};
  bool touched = false;
  for (auto w = it; w != windows_.end() && w->begin_ms < end_ms; ++w) {
    const std::int64_t overlap = std::min(end_ms, w->end_ms) - std::max(start_ms, w->begin_ms);
    if (overlap <= 0) continue;
    touched = true;
    if (w->voltage_fraction == 0.0) out.powered_ms -= overlap;
    out.volt_ms -= static_cast<double>(overlap) * (1.0 - w->voltage_fraction);
  }
  if (!touched) {
    quiet_begin_ms_ = it == windows_.begin() ? kAlways : std::prev(it)->end_ms;
    quiet_end_ms_ = it == windows_.end() ? kNever : it->begin_ms;
  }
  return out;
}

}  // namespace meter::boards
