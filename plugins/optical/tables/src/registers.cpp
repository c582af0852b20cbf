// Decade 2: ST-21 actual register, ST-22 data selection, ST-23 current register data, and
// MT-1, the list of sources that ST-22 and ST-62 select by index.
#include <array>

#include "encode.h"
#include "meter_view.h"

namespace meter::c1219::detail {
namespace {

using meter::sdk::obis;

struct Source {
  Obis id;
  int unit;
  int scaler;
};

// MT-1: the index of each entry is its source index in ST-22 and ST-62.
constexpr std::array<Source, 9> kSources{{
    {obis("1-0:1.8.0"), 30, -3},  // 0 +A
    {obis("1-0:2.8.0"), 30, -3},  // 1 -A
    {obis("1-0:16.8.0"), 30, -3}, // 2 net
    {obis("1-0:5.8.0"), 32, -3},  // 3 reactive Q1
    {obis("1-0:6.8.0"), 32, -3},  // 4 reactive Q2
    {obis("1-0:7.8.0"), 32, -3},  // 5 reactive Q3
    {obis("1-0:8.8.0"), 32, -3},  // 6 reactive Q4
    {obis("1-0:1.6.0"), 27, -3},  // 7 maximum demand, import
    {obis("1-0:2.6.0"), 27, -3},  // 8 maximum demand, export
}};
constexpr int kFirstDemandSource = 7;
constexpr int kTiers = 4;

// Register flags of ST-21 REG_FUNC1_FLAGS.
constexpr unsigned kDateTimeField = 1U << 1;
constexpr unsigned kDemandResetCounter = 1U << 2;
constexpr unsigned kDemandResetLock = 1U << 3;
constexpr unsigned kCumulativeDemand = 1U << 4;
constexpr unsigned kContinuousCumulativeDemand = 1U << 5;

Obis with(Obis id, std::uint8_t c, std::uint8_t d, std::uint8_t e) {
  id.c = c;
  id.d = d;
  id.e = e;
  return id;
}

struct Layout {
  bool tiers = false;
  std::vector<std::uint8_t> demand_quantities;  // OBIS C: 1 import, 2 export
  bool reset_counter = false;
  bool reset_lock = false;
};

Layout layout(MeterView& m) {
  Layout l;
  for (int e = 1; e <= kTiers && !l.tiers; ++e) {
    l.tiers = m.has(with(objects::kImport, 1, 8, static_cast<std::uint8_t>(e)));
  }
  for (std::uint8_t c : {std::uint8_t{1}, std::uint8_t{2}}) {
    for (std::uint8_t e = 0; e <= kTiers; ++e) {
      if (m.has(with(objects::kImport, c, 6, e))) {
        l.demand_quantities.push_back(c);
        break;
      }
    }
  }
  l.reset_counter = m.has(objects::kDemandResetCount);
  l.reset_lock = m.has(objects::kDemandLockout);
  return l;
}

void data_block(MeterView& m, const Layout& l, std::uint8_t tier, Writer& w) {
  const auto import = m.integer(with(objects::kImport, 1, 8, tier));
  const auto exported = m.integer(with(objects::kImport, 2, 8, tier));
  w.i64(import.value_or(0));
  w.i64(exported.value_or(0));
  if (tier == 0) {
    w.i64(m.integer(objects::kNet).value_or(0));
  } else {
    w.i64(import && exported ? *import - *exported : 0);
  }
  for (std::uint8_t c : l.demand_quantities) {
    std::optional<Civil> when;
    if (auto t = m.text(with(objects::kImport, c, 128, tier))) {
      if (auto s = parse_utc_text(*t)) when = civil_from_utc(*s);
    }
    w.stime(when);
    w.i64(m.integer(with(objects::kImport, c, 2, tier)).value_or(0));
    w.i64(m.integer(with(objects::kImport, c, 3, tier)).value_or(0));
    w.i64(m.integer(with(objects::kImport, c, 6, tier)).value_or(0));
  }
}

}  // namespace

TableBytes actual_register(MeterView& m) {
  const Layout l = layout(m);
  const bool demands = !l.demand_quantities.empty();
  unsigned func1 = 0;
  if (demands) func1 |= kDateTimeField | kCumulativeDemand | kContinuousCumulativeDemand;
  if (l.reset_counter) func1 |= kDemandResetCounter;
  if (l.reset_lock) func1 |= kDemandResetLock;
  Writer w;
  w.u8(func1);
  w.u8(0);  // REG_FUNC2_FLAGS: no self reads
  w.u8(0);  // NBR_SELF_READS
  w.u8(3);  // NBR_SUMMATIONS: +A, -A, net
  w.u8(l.demand_quantities.size());
  w.u8(0);  // NBR_COIN_VALUES
  w.u8(demands ? 1 : 0);  // NBR_OCCUR
  w.u8(l.tiers ? kTiers : 0);
  w.u8(0);  // NBR_PRESENT_DEMANDS
  w.u8(0);  // NBR_PRESENT_VALUES
  return {ResponseCode::ok, w.take()};
}

TableBytes data_selection(MeterView& m) {
  const Layout l = layout(m);
  Writer w;
  w.u8(0);
  w.u8(1);
  w.u8(2);
  std::vector<int> maxima;
  for (std::size_t i = 0; i < l.demand_quantities.size(); ++i) {
    w.u8(static_cast<unsigned>(kFirstDemandSource + l.demand_quantities[i] - 1));
    maxima.push_back(static_cast<int>(i));
  }
  w.set(maxima, (l.demand_quantities.size() + 7) / 8);  // MIN_OR_MAX_FLAGS: 1 maximum
  return {ResponseCode::ok, w.take()};
}

TableBytes current_register_data(MeterView& m) {
  const Layout l = layout(m);
  Writer w;
  if (l.reset_counter) {
    w.u8(static_cast<std::uint64_t>(m.integer(objects::kDemandResetCount).value_or(0)) & 0xFFU);
  }
  data_block(m, l, 0, w);
  if (l.tiers) {
    for (int e = 1; e <= kTiers; ++e) data_block(m, l, static_cast<std::uint8_t>(e), w);
  }
  return {ResponseCode::ok, w.take()};
}

TableBytes sources(MeterView& m) {
  Writer w;
  w.u8(kSources.size());
  for (const Source& s : kSources) {
    auto meta = m.source().meta(s.id);
    w.obis(s.id);
    w.u8(static_cast<unsigned>(meta ? meta->unit : s.unit) & 0xFFU);
    w.i8(meta ? meta->scaler : s.scaler);
    w.u8(meta ? 1 : 0);
  }
  return {ResponseCode::ok, w.take()};
}

/// The MT-1 index of an energy register, or -1 (ST-62's channel sources).
int source_index(const Obis& id) {
  for (std::size_t i = 0; i < kSources.size(); ++i) {
    if (kSources[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace meter::c1219::detail
