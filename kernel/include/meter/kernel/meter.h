// The Meter: the kernel as one object. It owns the bus, the object registry, the clock, the
// parameter gate, the metrology, the energy registers and the test LED, and runs the tick:
//
//   samples or chip readings --add()--> metrology --tick()--> registers, LED
//        --> EnergyTick (every tick), Measurements (every N ticks), MidnightCrossed
//
// Thread: everything here runs on the kernel thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "meter/kernel/bus.h"
#include "meter/kernel/clock.h"
#include "meter/kernel/gate.h"
#include "meter/kernel/metrology.h"
#include "meter/kernel/registers.h"
#include "meter/kernel/registry.h"
#include "meter/kernel/test_led.h"

namespace meter::kernel {

struct MeterConfig {
  MetrologyConfig metrology{};
  double kh_wh = 1.0;                      ///< test LED constant, Wh per pulse
  Milliseconds tick{1000};                 ///< metrology tick
  std::uint32_t measurements_every = 5;    ///< publish Measurements every N ticks
  std::string time_zone = "UTC";           ///< IANA name of the site's zone
  bool time_valid = true;                  ///< false when the RTC did not keep the time
  SecurityConfig security{};               ///< sealing category, passwords, lockout
  /// Display multiplier N (1..240), the SKU's factory value: once written through
  /// 0-0:128.8.0 the meter keeps its own in NVM.
  std::int64_t display_multiplier = 1;
};

class Meter {
 public:
  /// Builds a meter; every invalid setting is an error naming the value (Kh, service, channel
  /// count, tick length, time zone, security settings, display multiplier).
  static Result<std::unique_ptr<Meter>> create(const MeterConfig& config, const TimeSource& time);

  Meter(const Meter&) = delete;
  Meter& operator=(const Meter&) = delete;
  ~Meter();

  EventBus& bus() noexcept { return bus_; }
  ObjectRegistry& objects() noexcept { return objects_; }
  Clock& clock() noexcept { return clock_; }
  ParameterGate& gate() noexcept { return gate_; }
  TestLed& test_led() noexcept { return led_; }
  const EnergyRegisters& registers() const noexcept { return registers_; }

  /// Signal for the present tick. False (nothing added) when its shape does not fit the board.
  bool add(const SampleBlock16& block) noexcept { return metrology_->add(block); }
  bool add(const SampleBlockF& block) noexcept { return metrology_->add(block); }
  bool add(const AccumulatorReading& reading) noexcept { return metrology_->add(reading); }

  /// Closes the present tick at the clock's time: books its energy, drives the test LED,
  /// publishes EnergyTick (and Measurements, MidnightCrossed as due). Never allocates.
  const EnergyTick& tick() noexcept;

  const EnergyTick& last_tick() const noexcept { return last_tick_; }
  const Measurements& last_measurements() const noexcept { return last_measurements_; }
  const LedPulses& last_led_pulses() const noexcept { return last_led_; }
  bool measurement_fault() const noexcept { return measurement_fault_; }
  std::uint64_t refused_samples() const noexcept { return metrology_->refused_total(); }
  Milliseconds tick_length() const noexcept { return tick_; }

  /// Billing reset and preset (seed 000): +A and -A are written only through these objects,
  /// configuration parameters for the configurator, so only through the gate, unsealed.
  static constexpr Obis kImportPreset = obis("0-0:128.7.1");
  static constexpr Obis kExportPreset = obis("0-0:128.7.2");
  /// The display multiplier N (seed 000): 1..240, multiplies displayed energy only. A
  /// configuration parameter for the configurator; kept in NVM ("kernel.seal").
  static constexpr Obis kDisplayMultiplier = obis("0-0:128.8.0");
  /// The meter's date and time (0-0:1.0.0): reads local time; a configurator or calibrator
  /// sets it by writing "YYYY-MM-DD HH:MM:SS" (local) or "YYYY-MM-DDTHH:MM:SSZ" (UTC).
  static constexpr Obis kClock = obis("0-0:1.0.0");
  static constexpr std::int64_t kMaxDisplayMultiplier = 240;

  std::int64_t display_multiplier() const noexcept { return display_multiplier_; }

  /// Restores registers from storage at start-up (before the first tick).
  Result<void> restore(const EnergyRegisters::Snapshot& stored) { return registers_.restore(stored); }

  /// The nonvolatile store is damaged or lost records: sets bit 2 of the error register
  /// (0-0:97.97.0) for as long as the meter runs and publishes FaultRaised{storage} once.
  void raise_storage_fault(std::string detail);
  bool storage_fault() const noexcept { return storage_fault_; }

  /// A legally relevant plugin of the product is missing or was refused, on a meter in
  /// service: the kernel meters on, bit 3 of the error register is set for as long as the
  /// meter runs (the LCD shows ERR08) and FaultRaised{plugin} is published once.
  void raise_legal_fault(std::string detail);
  bool legal_fault() const noexcept { return legal_fault_; }

 private:
  Meter(const MeterConfig& config, std::unique_ptr<Metrology> metrology,
        const date::time_zone* zone, const TimeSource& time, TestLed led);
  void register_objects();
  void update_fault(const TickMetrology& m);

  EventBus bus_;
  ObjectRegistry objects_;
  Clock clock_;
  ParameterGate gate_;
  std::unique_ptr<Metrology> metrology_;
  EnergyRegisters registers_;
  TestLed led_;
  Milliseconds tick_;
  std::uint32_t measurements_every_;
  std::uint8_t phases_;
  bool polyphase_;
  EnergyTick last_tick_{};
  Measurements last_measurements_{};
  LedPulses last_led_{};
  bool measurement_fault_ = false;
  bool storage_fault_ = false;
  bool legal_fault_ = false;
  std::int64_t display_multiplier_;
};

}  // namespace meter::kernel
