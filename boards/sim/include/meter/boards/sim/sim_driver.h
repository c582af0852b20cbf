// The simulated board: a load model fed to the kernel as chip accumulator readings (fast,
// exact) or as ADC sample blocks (waveform fidelity), with scheduled power failures and sags,
// and seal switches that read what the site file says, broken or applied at scheduled times.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "meter/boards/driver.h"
#include "meter/boards/sim/load_model.h"
#include "meter/kernel/metrology.h"
#include "meter/kernel/result.h"

namespace meter::boards::sim {

/// Everything the sim board needs; plain values so a board descriptor can fill them.
struct SimConfig {
  Fidelity fidelity = Fidelity::chip;
  LoadModelKind model = LoadModelKind::residential;
  std::uint64_t seed = 1;
  const kernel::ServiceConfiguration* service = nullptr;  ///< required (kernel::find_service)
  double nominal_voltage_v = 240;   ///< element voltage
  double frequency_hz = 60;
  const date::time_zone* zone = nullptr;   ///< local hours of the load; null: utc_offset
  std::chrono::minutes utc_offset{0};
  double load_scale = 1.0;          ///< multiplies every consumer of the model (not the PV)
  double pv_peak_w = 0;             ///< rooftop PV peak, W; 0: no PV
  double max_current_a = 200;       ///< the meter's maximum current (class): elements clip here
  /// Chip fidelity: nWh per LSB of the readings; must equal the metrology's energy_nwh_per_lsb.
  /// Integral so that the kernel's conversion is exact.
  std::uint32_t energy_nwh_per_lsb = 1000;
  /// Waveform fidelity: the ADC.
  std::uint32_t sample_rate_hz = 4000;
  double volts_per_code = 0.02;
  double amps_per_code = 0.01;
  std::vector<Happening> happenings;  ///< supply, clock and seal happenings
  /// The board's seal switches (descriptor `hardware.seal_switches`) and those that read
  /// sealed when the run starts (site `[simulation.seals]`); seal happenings change them.
  std::vector<kernel::SealKind> seal_switches;
  std::vector<kernel::SealKind> sealed;
};

/// Checks the configuration; each error names the offending field and value.
kernel::Result<std::unique_ptr<Driver>> make_sim_driver(const SimConfig& config);

/// The kernel's metrology settings that match the board (service, channels, frequency, ADC
/// scales, LSB size); calibration and creep are left at their defaults.
kernel::MetrologyConfig metrology_config(const SimConfig& config);

}  // namespace meter::boards::sim
