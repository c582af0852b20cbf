// A simulated board's seal switches over a run, and handing them to the parameter gate.
#include "meter/boards/seals.h"

#include <date/date.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace meter::boards {

namespace {
constexpr std::array<kernel::SealKind, 3> kSwitches{
    kernel::SealKind::cover, kernel::SealKind::programming_jumper, kernel::SealKind::optical_plug};
}  // namespace

const char* seal_switch_name(kernel::SealKind kind) noexcept {
  switch (kind) {
    case kernel::SealKind::cover: return "cover";
    case kernel::SealKind::programming_jumper: return "programming-jumper";
    case kernel::SealKind::optical_plug: return "optical-plug";
    case kernel::SealKind::electronic: return "electronic";
  }
  return "unknown";
}

kernel::Result<SealSchedule> SealSchedule::create(const std::vector<kernel::SealKind>& fitted,
                                                  const std::vector<kernel::SealKind>& sealed,
                                                  const std::vector<Happening>& happenings) {
  SealSchedule s;
  for (const auto kind : fitted) {
    if (std::find(kSwitches.begin(), kSwitches.end(), kind) == kSwitches.end()) {
      return kernel::fail(fmt::format("the {} seal is not a switch a board can have",
                                      seal_switch_name(kind)));
    }
    s.fitted_ |= seal_bit(kind);
  }
  auto check = [&s](kernel::SealKind kind, const std::string& what) -> kernel::Result<void> {
    if (std::find(kSwitches.begin(), kSwitches.end(), kind) == kSwitches.end() ||
        (s.fitted_ & seal_bit(kind)) == 0) {
      return kernel::fail(fmt::format("{} names the {} seal switch, which the board does not have",
                                      what, seal_switch_name(kind)));
    }
    return {};
  };
  for (const auto kind : sealed) {
    if (auto ok = check(kind, "the initial seal state"); !ok) return ok.error();
    s.initial_ |= seal_bit(kind);
  }
  std::vector<const Happening*> order;
  for (std::size_t i = 0; i < happenings.size(); ++i) {
    const auto& h = happenings[i];
    if (h.kind != Happening::Kind::seal_broken && h.kind != Happening::Kind::seal_applied) continue;
    if (auto ok = check(h.seal, fmt::format("happening {} (at {})", i,
                                            date::format("%FT%TZ", h.at)));
        !ok) {
      return ok.error();
    }
    order.push_back(&h);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const Happening* a, const Happening* b) { return a->at < b->at; });
  std::uint8_t bits = s.initial_;
  for (const auto* h : order) {
    const auto b = seal_bit(h->seal);
    bits = h->kind == Happening::Kind::seal_applied ? (bits | b) : (bits & ~b);
    if (!s.changes_.empty() && s.changes_.back().first == h->at) {
      s.changes_.back().second = bits;
    } else {
      s.changes_.emplace_back(h->at, bits);
    }
  }
  return s;
}

SealSwitches SealSchedule::at(kernel::UtcTime t) const noexcept {
  // The last change at or before t.
  auto it = std::upper_bound(changes_.begin(), changes_.end(), t,
                             [](kernel::UtcTime x, const auto& c) { return x < c.first; });
  return {fitted_, it == changes_.begin() ? initial_ : std::prev(it)->second};
}

void apply_seal_switches(const SealSwitches& switches, kernel::ParameterGate& gate) {
  for (const auto kind : kSwitches) {
    const auto b = seal_bit(kind);
    gate.set_sealed((switches.fitted & switches.sealed & b) != 0, kind);
  }
}

}  // namespace meter::boards
