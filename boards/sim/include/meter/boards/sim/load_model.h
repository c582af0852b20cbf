// Synthetic loads as pure functions of true time: a residential day of appliances, rooftop PV
// and a three-phase commercial building. The load of a minute depends only on the seed and the
// minute, never on what was computed before, so a run restarted anywhere sees the same load.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

#include "meter/kernel/service.h"

namespace date {
class time_zone;
}

namespace meter::boards::sim {

enum class LoadModelKind : std::uint8_t {
  residential = 1,  ///< standby, fridge cycles, lighting evenings, kettle, oven, heat/cooling
  commercial,       ///< business hours, lighting, plug loads, lagging 3-phase motors
};

struct LoadModelConfig {
  LoadModelKind kind = LoadModelKind::residential;
  std::uint64_t seed = 1;
  std::uint8_t elements = 1;        ///< metering elements the load spreads over (1..3)
  double nominal_voltage_v = 240;   ///< element voltage, to turn power into current
  double load_scale = 1.0;          ///< multiplies every consumer (not the PV)
  double pv_peak_w = 0;             ///< rooftop PV at clear-sky noon in June, W; 0: none
  double max_current_a = 200;       ///< an element's current never exceeds this (the rating)
  const date::time_zone* zone = nullptr;  ///< local hours; when null, utc_offset is used
  std::chrono::minutes utc_offset{0};
};

/// One minute of load per element: P (+import, PV already subtracted), Q (+lagging), RMS I.
struct LoadPoint {
  std::uint8_t elements = 0;
  std::array<double, kernel::kMaxElements> active_w{};
  std::array<double, kernel::kMaxElements> reactive_var{};
  std::array<double, kernel::kMaxElements> current_a{};
  double pv_w = 0;  ///< generation in this minute (all elements), W
};

class LoadModel {
 public:
  /// The configuration is taken as valid (make_sim_driver checks it).
  explicit LoadModel(const LoadModelConfig& config);

  /// The load during the minute starting `utc_minute` minutes after the epoch. Non-const only
  /// because it caches the zone's offset and the day's draws; the result never depends on them.
  LoadPoint minute(std::int64_t utc_minute);

  /// One second's fluctuation per element, a factor within 1 +- kJitter.
  std::array<double, kernel::kMaxElements> jitter(std::int64_t utc_second) const noexcept;
  static constexpr double kJitter = 0.03;

  const LoadModelConfig& config() const noexcept { return config_; }

 private:
  struct Day {
    std::int64_t local_day = INT64_MIN;
    int day_of_year = 0;  // 0..365
    int weekday = 0;      // 0 Sunday
    double winter = 0;    // +1 mid-January .. -1 mid-July
    double summer = 0;    // +1 on 21 June .. -1 on 21 December
  };
  std::int64_t local_offset_min(std::int64_t utc_minute);
  const Day& day(std::int64_t local_day);
  void residential(LoadPoint& p, std::int64_t utc_minute, std::int64_t local_day, int minute_of_day);
  void commercial(LoadPoint& p, std::int64_t utc_minute, std::int64_t local_day, int minute_of_day);
  double pv(std::int64_t utc_minute, std::int64_t local_day, int minute_of_day, bool dst);

  LoadModelConfig config_;
  Day day_;
  std::int64_t info_begin_min_ = 0;  // the zone's offset is known on [begin, end)
  std::int64_t info_end_min_ = 0;
  std::int64_t offset_min_ = 0;
  bool dst_ = false;
};

}  // namespace meter::boards::sim
