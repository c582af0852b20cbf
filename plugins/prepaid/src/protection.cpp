// Relay reasons per source. See protection.h.
#include "protection.h"

namespace meter::plugins::prepaid {

bool Protection::set_credit(bool open) noexcept {
  bool changed = false;
  for (std::size_t s = 0; s < settings_.sources; ++s) {
    const std::uint8_t before = values_.reasons[s];
    values_.reasons[s] = open ? static_cast<std::uint8_t>(before | kReasonCredit)
                              : static_cast<std::uint8_t>(before & ~kReasonCredit);
    changed = changed || values_.reasons[s] != before;
  }
  return changed;
}

bool Protection::on_measurements(std::size_t source, double current_a, double voltage_v) noexcept {
  if (source >= settings_.sources) return false;
  const std::uint8_t before = values_.reasons[source];
  const double limit = settings_.current_limit_a[source];
  if (limit > 0 && current_a > limit) {
    if ((before & kReasonOverCurrent) == 0) ++values_.over_current_trips;
    values_.reasons[source] |= kReasonOverCurrent;
    values_.over_current_wait_ms[source] = settings_.restore_ms;
  }
  if (settings_.over_voltage_v > 0 && voltage_v > settings_.over_voltage_v) {
    if ((before & kReasonOverVoltage) == 0) ++values_.over_voltage_trips;
    values_.reasons[source] |= kReasonOverVoltage;
    values_.over_voltage_wait_ms[source] = settings_.restore_ms;
  }
  update_waiting();
  return values_.reasons[source] != before;
}

bool Protection::elapse(std::int64_t ms) noexcept {
  if (!waiting_ || ms <= 0) return false;
  bool changed = false;
  const auto count_down = [&](std::int64_t& wait, std::uint8_t& reasons, std::uint8_t reason) {
    if ((reasons & reason) == 0) return;
    wait -= ms;
    if (wait <= 0) {
      wait = 0;
      reasons = static_cast<std::uint8_t>(reasons & ~reason);
      changed = true;
    }
  };
  for (std::size_t s = 0; s < settings_.sources; ++s) {
    count_down(values_.over_current_wait_ms[s], values_.reasons[s], kReasonOverCurrent);
    count_down(values_.over_voltage_wait_ms[s], values_.reasons[s], kReasonOverVoltage);
  }
  update_waiting();
  return changed;
}

bool Protection::relay_open(std::uint32_t relay) const noexcept {
  for (std::size_t s = 0; s < settings_.sources; ++s) {
    if (settings_.relay[s] == relay && values_.reasons[s] != 0) return true;
  }
  return false;
}

void Protection::restore(const ProtectionValues& v) noexcept {
  values_ = v;
  update_waiting();
}

void Protection::update_waiting() noexcept {
  waiting_ = false;
  for (std::size_t s = 0; s < settings_.sources; ++s) {
    waiting_ = waiting_ || (values_.reasons[s] & (kReasonOverCurrent | kReasonOverVoltage)) != 0;
  }
}

}  // namespace meter::plugins::prepaid
