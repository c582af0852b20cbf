// The test LED.
#include "meter/kernel/test_led.h"

#include <fmt/format.h>

#include <cmath>

namespace meter::kernel {

Result<TestLed> TestLed::create(double kh_wh) {
  if (!std::isfinite(kh_wh) || kh_wh <= 0 || kh_wh > 1000) {
    return fail(fmt::format("Kh {} Wh/pulse is invalid: it must be a number above 0 and at most "
                            "1000",
                            kh_wh));
  }
  return TestLed(std::llround(kh_wh * 1e9));
}

LedPulses TestLed::on_tick(std::int64_t energy_nwh, Uptime tick_end,
                           Milliseconds duration) noexcept {
  const Uptime tick_start = tick_end - duration;
  if (energy_nwh <= 0 || tick_start >= active_until_) return {};
  // Energy after the window closes (a tick straddling it) makes no pulses.
  std::int64_t usable = energy_nwh;
  if (tick_end > active_until_) {
    const auto inside = (active_until_ - tick_start).count();
    const auto d = duration.count();
    usable = energy_nwh / d * inside + energy_nwh % d * inside / d;  // exact, no overflow
  }
  const auto total = residual_nwh_ + usable;
  const auto count = total / kh_nwh_;
  residual_nwh_ = total % kh_nwh_;
  if (count == 0) return {};
  pulses_total_ += static_cast<std::uint64_t>(count);
  // Power is constant across the tick: pulse k falls where the energy reaches k x Kh.
  const double us_per_nwh =
      static_cast<double>(duration.count()) * 1000.0 / static_cast<double>(energy_nwh);
  const auto first_nwh = kh_nwh_ - (total - usable) ;
  return LedPulses{static_cast<std::uint32_t>(count),
                   Microseconds{std::llround(static_cast<double>(first_nwh) * us_per_nwh)},
                   Microseconds{std::llround(static_cast<double>(kh_nwh_) * us_per_nwh)}};
}

}  // namespace meter::kernel
