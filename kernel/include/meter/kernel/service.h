// Service configurations (Measurement Canada AE-1559): how a meter's voltage and current inputs
// combine into metering elements. Configurations are data, not code paths.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "meter/kernel/result.h"

namespace meter::kernel {

inline constexpr std::size_t kMaxInputs = 3;    ///< voltage inputs, and current inputs, per meter
inline constexpr std::size_t kMaxElements = 3;  ///< metering elements after combination
inline constexpr std::size_t kMaxPhaseLines = 3;  ///< line-to-line voltages: V12, V23, V31

/// One metering element: its voltage and current as weighted sums of the meter's inputs.
/// Power of the service = sum over elements of v_element * i_element.
struct ElementWiring {
  std::array<double, kMaxInputs> voltage_weights{};
  std::array<double, kMaxInputs> current_weights{};
};

struct ServiceConfiguration {
  std::string_view id;           ///< key used in board files, e.g. "3e4w-wye"
  std::string_view description;  ///< "3 element 4 wire Y"
  std::uint8_t number = 0;       ///< the approval's numbering, 1..11
  std::uint8_t voltage_inputs = 0;
  std::uint8_t current_inputs = 0;
  std::uint8_t elements = 0;
  /// Voltage inputs measure line-to-line voltages (delta services) rather than line-to-neutral.
  bool inputs_line_to_line = false;
  bool polyphase = false;  ///< line-to-line voltages are reported
  std::array<ElementWiring, kMaxElements> wiring{};
  /// Polyphase services: how many line-to-line voltages are reported (V12, V23, V31), each a
  /// weighted sum of the voltage inputs (a delta service's third voltage is derived).
  std::uint8_t line_voltages = 0;
  std::array<std::array<double, kMaxInputs>, kMaxPhaseLines> line_voltage_weights{};

  std::uint8_t channels() const noexcept { return voltage_inputs + current_inputs; }
};

/// The eleven service configurations of the approval, in its order.
std::span<const ServiceConfiguration> service_configurations() noexcept;

/// Looks a configuration up by id; the error lists the known ids.
Result<const ServiceConfiguration*> find_service(std::string_view id);

}  // namespace meter::kernel
