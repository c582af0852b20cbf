// The synthetic load models. Every draw is keyed by (seed, stream, a time slot), so the load of
// a minute is the same whichever minute a run starts from.
#include "meter/boards/sim/load_model.h"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "detail/hash.h"

namespace meter::boards::sim {
namespace {

using detail::floor_div;
using detail::uniform;

// Streams of the counter-based generator, one per kind of draw.
enum Stream : std::uint64_t {
  kStandby = 1, kFridgeStart, kFridgeLength, kLightsOn, kLightsOff, kLightsLevel, kKettle,
  kKettleStart, kOven, kOvenStart, kOvenLength, kHvacStart, kCloudDay, kCloud, kCloudDepth,
  kPhaseShare, kRooftopStart, kRefrigStart, kRefrigLength, kCompressorStart, kJitterStream,
};

// tan(acos(pf)): reactive power per watt of a load with that lagging power factor.
double tan_of(double pf) { return std::sqrt(1.0 - pf * pf) / pf; }

const double kTan080 = tan_of(0.80);
const double kTan075 = tan_of(0.75);
const double kTan078 = tan_of(0.78);
const double kTan082 = tan_of(0.82);
const double kTan085 = tan_of(0.85);
const double kTan090 = tan_of(0.90);
const double kTan095 = tan_of(0.95);
const double kTan097 = tan_of(0.97);

// A device that runs `on_min` minutes of every `period_min`, from a drawn offset in its slot.
bool cycling(std::uint64_t seed, std::uint64_t stream, std::int64_t utc_minute, int period_min,
             int on_min) {
  if (on_min <= 0) return false;
  if (on_min >= period_min) return true;
  const std::int64_t slot = floor_div(utc_minute, period_min);
  const auto start = static_cast<int>(uniform(seed, stream, slot) * period_min);
  const auto in_slot = static_cast<int>(utc_minute - slot * period_min);
  return (in_slot - start + period_min) % period_min < on_min;
}

double ramp(double x, double from, double to) { return std::clamp((x - from) / (to - from), 0.0, 1.0); }

class Adder {
 public:
  Adder(LoadPoint& p, double scale) : p_(p), scale_(scale) {}
  // A load on every element in equal parts (240 V or 3-phase).
  void all(double w, double tan_phi) {
    const double each = w * scale_ / p_.elements;
    for (std::uint8_t e = 0; e < p_.elements; ++e) {
      p_.active_w[e] += each;
      p_.reactive_var[e] += each * tan_phi;
    }
  }
  // A load on one line (a 120 V appliance, one phase of a building).
  void on(std::size_t line, double w, double tan_phi) {
    const std::size_t e = line % p_.elements;
    p_.active_w[e] += w * scale_;
    p_.reactive_var[e] += w * scale_ * tan_phi;
  }

 private:
  LoadPoint& p_;
  double scale_;
};

}  // namespace

LoadModel::LoadModel(const LoadModelConfig& config) : config_(config) {}

std::int64_t LoadModel::local_offset_min(std::int64_t utc_minute) {
  if (config_.zone == nullptr) return config_.utc_offset.count();
  if (utc_minute < info_begin_min_ || utc_minute >= info_end_min_) {
    const auto info = config_.zone->get_info(date::sys_seconds{std::chrono::minutes{utc_minute}});
    info_begin_min_ = std::chrono::floor<std::chrono::minutes>(info.begin).time_since_epoch().count();
    info_end_min_ = std::chrono::floor<std::chrono::minutes>(info.end).time_since_epoch().count();
    offset_min_ = std::chrono::floor<std::chrono::minutes>(info.offset).count();
    dst_ = info.save != std::chrono::minutes{0};
  }
  return offset_min_;
}

const LoadModel::Day& LoadModel::day(std::int64_t local_day) {
  if (day_.local_day == local_day) return day_;
  const date::sys_days days{date::days{local_day}};
  const date::year_month_day ymd{days};
  const auto jan1 = date::sys_days{ymd.year() / date::January / 1};
  day_.local_day = local_day;
  day_.day_of_year = static_cast<int>((days - jan1).count());
  day_.weekday = static_cast<int>(date::weekday{days}.c_encoding());
  constexpr double kYear = 365.25;
  day_.winter = std::cos(2 * std::numbers::pi * (day_.day_of_year - 20) / kYear);
  day_.summer = std::cos(2 * std::numbers::pi * (day_.day_of_year - 171) / kYear);
  return day_;
}

LoadPoint LoadModel::minute(std::int64_t utc_minute) {
  LoadPoint p;
  p.elements = config_.elements;
  const std::int64_t local = utc_minute + local_offset_min(utc_minute);
  const std::int64_t local_day = floor_div(local, 1440);
  const auto minute_of_day = static_cast<int>(local - local_day * 1440);
  if (config_.kind == LoadModelKind::commercial) {
    commercial(p, utc_minute, local_day, minute_of_day);
  } else {
    residential(p, utc_minute, local_day, minute_of_day);
  }
  if (config_.pv_peak_w > 0) {
    p.pv_w = pv(utc_minute, local_day, minute_of_day, dst_ && config_.zone != nullptr);
    // The inverter feeds line to line: equal parts on every element, unity power factor.
    for (std::uint8_t e = 0; e < p.elements; ++e) p.active_w[e] -= p.pv_w / p.elements;
  }
  for (std::uint8_t e = 0; e < p.elements; ++e) {
    double current = std::hypot(p.active_w[e], p.reactive_var[e]) / config_.nominal_voltage_v;
    if (current > config_.max_current_a) {
      // The rating limits what the service can carry: the whole element scales down.
      const double k = config_.max_current_a / current;
      p.active_w[e] *= k;
      p.reactive_var[e] *= k;
      current = config_.max_current_a;
    }
    p.current_a[e] = current;
  }
  return p;
}

void LoadModel::residential(LoadPoint& p, std::int64_t utc_minute, std::int64_t local_day,
                            int minute_of_day) {
  const std::uint64_t seed = config_.seed;
  const Day& d = day(local_day);
  const double hour = minute_of_day / 60.0;
  Adder add(p, config_.load_scale);

  add.on(0, 70.0 + 40.0 * uniform(seed, kStandby, local_day), kTan090);

  // Fridge compressor: 12..22 minutes of every 50.
  const int fridge_on = 12 + static_cast<int>(10 * uniform(seed, kFridgeLength, floor_div(utc_minute, 50)));
  if (cycling(seed, kFridgeStart, utc_minute, 50, fridge_on)) add.on(0, 150.0, kTan080);

  // Lighting: a short morning and a long evening, switched on and off at drawn minutes.
  const double lights_on_h = 17.0 + 1.5 * uniform(seed, kLightsOn, local_day) + 0.7 * d.summer;
  const double lights_off_h = 22.75 + 1.0 * uniform(seed, kLightsOff, local_day);
  const double lights_w = 220.0 + 200.0 * uniform(seed, kLightsLevel, local_day);
  if (hour >= lights_on_h && hour < lights_off_h) {
    add.all(lights_w, kTan095);
  } else if (hour >= 6.5 && hour < 7.75) {
    add.all(0.5 * lights_w, kTan095);
  }

  // Kettle: three minutes in some half hours, mostly at breakfast and late afternoon.
  const int half_hour = minute_of_day / 30;
  const double kettle_p = (half_hour >= 13 && half_hour < 17)   ? 0.35
                          : (half_hour >= 30 && half_hour < 36) ? 0.20
                          : (half_hour >= 18 && half_hour < 44) ? 0.06
                                                                : 0.0;
  const std::int64_t kettle_slot = local_day * 48 + half_hour;
  if (uniform(seed, kKettle, kettle_slot) < kettle_p) {
    const int start = half_hour * 30 + static_cast<int>(27 * uniform(seed, kKettleStart, kettle_slot));
    if (minute_of_day >= start && minute_of_day < start + 3) add.on(1, 1800.0, 0.0);
  }

  // Oven on most evenings: full power while heating, then the thermostat's 2-in-3 cycle.
  if (uniform(seed, kOven, local_day) < 0.65) {
    const int start = 17 * 60 + static_cast<int>(90 * uniform(seed, kOvenStart, local_day));
    const int length = 35 + static_cast<int>(40 * uniform(seed, kOvenLength, local_day));
    const int t = minute_of_day - start;
    if (t >= 0 && t < length && (t < 12 || t % 3 != 0)) add.all(2500.0, 0.0);
  }

  // Heat in winter and cooling in summer, cycling in 20-minute slots; the thermostat is set
  // back at night and the cooling follows the afternoon heat.
  const double heat_profile = hour < 6 ? 0.22 : hour < 9 ? 0.75 : hour < 16 ? 0.35 : hour < 22 ? 0.6 : 0.3;
  const double cool_profile = hour < 10 ? 0.1 : hour < 12 ? 0.4 : hour < 19 ? 0.75 : hour < 22 ? 0.45 : 0.15;
  const double heat = std::max(0.0, d.winter) * heat_profile;
  const double cool = std::max(0.0, -d.winter) * cool_profile;
  const int hvac_on = static_cast<int>(std::lround(20 * std::min(0.95, heat + cool)));
  if (cycling(seed, kHvacStart, utc_minute, 20, hvac_on)) {
    if (heat >= cool) {
      add.all(3500.0, kTan097);
    } else {
      add.all(3000.0, kTan085);
    }
  }
}

void LoadModel::commercial(LoadPoint& p, std::int64_t utc_minute, std::int64_t local_day,
                           int minute_of_day) {
  const std::uint64_t seed = config_.seed;
  const Day& d = day(local_day);
  const double hour = minute_of_day / 60.0;
  double occupancy = 0;
  if (d.weekday >= 1 && d.weekday <= 5) {
    occupancy = ramp(hour, 7.0, 8.0) * (1.0 - ramp(hour, 18.0, 19.0));
  } else if (d.weekday == 6) {
    occupancy = 0.5 * ramp(hour, 9.5, 10.0) * (1.0 - ramp(hour, 14.0, 14.5));
  }
  Adder add(p, config_.load_scale);

  // Lighting and plug loads per phase, unbalanced by a daily draw.
  for (std::size_t ph = 0; ph < 3; ++ph) {
    const double share = 0.85 + 0.3 * uniform(seed, kPhaseShare, local_day * 3 + static_cast<std::int64_t>(ph));
    add.on(ph, share * (300.0 + 1700.0 * occupancy), kTan095);
    add.on(ph, share * (150.0 + 900.0 * occupancy), kTan090);
  }
  // Rooftop unit: a 3-phase motor whose duty follows occupancy and the season's extremes.
  const double duty = std::min(0.95, 0.15 + 0.5 * occupancy + 0.25 * std::fabs(d.winter));
  if (cycling(seed, kRooftopStart, utc_minute, 15, static_cast<int>(std::lround(15 * duty)))) {
    add.all(9000.0, kTan082);
  }
  // Refrigeration: a 3-phase compressor around the clock.
  const int refrig_on = 10 + static_cast<int>(10 * uniform(seed, kRefrigLength, floor_div(utc_minute, 30)));
  if (cycling(seed, kRefrigStart, utc_minute, 30, refrig_on)) add.all(4000.0, kTan078);
  // A single-phase compressor on phase B during opening hours.
  if (occupancy > 0 &&
      cycling(seed, kCompressorStart, utc_minute, 12, static_cast<int>(std::lround(8 * occupancy)))) {
    add.on(1, 1500.0, kTan075);
  }
}

double LoadModel::pv(std::int64_t utc_minute, std::int64_t local_day, int minute_of_day, bool dst) {
  const std::uint64_t seed = config_.seed;
  const Day& d = day(local_day);
  const double day_length_min = 60.0 * (12.0 + 3.5 * d.summer);
  const double noon_min = 12 * 60 + 10 + (dst ? 60 : 0);
  const double x = (minute_of_day + 0.5 - (noon_min - day_length_min / 2)) / day_length_min;
  if (x <= 0 || x >= 1) return 0;
  const double clear = config_.pv_peak_w * (0.75 + 0.25 * d.summer) *
                       std::pow(std::sin(std::numbers::pi * x), 1.5);
  // Cloudy days have more and deeper dips; each ten minutes is clear or under a cloud.
  const double cloudiness = std::pow(uniform(seed, kCloudDay, local_day), 2.0);
  const std::int64_t slot = floor_div(utc_minute, 10);
  const double cloud = uniform(seed, kCloud, slot) < cloudiness
                           ? 0.2 + 0.5 * uniform(seed, kCloudDepth, slot)
                           : 1.0;
  return clear * cloud;
}

std::array<double, kernel::kMaxElements> LoadModel::jitter(std::int64_t utc_second) const noexcept {
  const std::uint64_t h = detail::hash(config_.seed, kJitterStream, utc_second);
  std::array<double, kernel::kMaxElements> j{};
  for (std::size_t e = 0; e < j.size(); ++e) {
    const auto bits = static_cast<double>((h >> (21 * e)) & 0x1fffff);
    j[e] = 1.0 + kJitter * (bits * (2.0 / 0x1fffff) - 1.0);
  }
  return j;
}

}  // namespace meter::boards::sim
