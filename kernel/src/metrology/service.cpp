// The eleven service configurations of the approval as data: which inputs a board wires, and
// how they combine into metering elements and line-to-line voltages.
#include "meter/kernel/service.h"

#include <fmt/format.h>

#include <string>

namespace meter::kernel {
namespace {

using Weights = std::array<double, kMaxInputs>;

constexpr ElementWiring element(Weights voltage, Weights current) {
  return ElementWiring{voltage, current};
}

constexpr ServiceConfiguration make(std::string_view id, std::string_view description,
                                    std::uint8_t number, std::uint8_t voltage_inputs,
                                    std::uint8_t current_inputs, bool inputs_line_to_line,
                                    std::array<ElementWiring, kMaxElements> wiring,
                                    std::uint8_t elements, std::uint8_t line_voltages = 0,
                                    std::array<Weights, kMaxPhaseLines> line_weights = {}) {
  ServiceConfiguration s;
  s.id = id;
  s.description = description;
  s.number = number;
  s.voltage_inputs = voltage_inputs;
  s.current_inputs = current_inputs;
  s.elements = elements;
  s.inputs_line_to_line = inputs_line_to_line;
  s.polyphase = line_voltages > 0;
  s.wiring = wiring;
  s.line_voltages = line_voltages;
  s.line_voltage_weights = line_weights;
  return s;
}

// Line voltages from three line-to-neutral inputs.
constexpr std::array<Weights, kMaxPhaseLines> kLinesFromThree{{{1, -1, 0}, {0, 1, -1}, {-1, 0, 1}}};
// Inputs V_AN, V_CN of a wye whose V_BN = -(V_AN + V_CN).
constexpr std::array<Weights, kMaxPhaseLines> kLinesWyeAc{{{2, 1, 0}, {-1, -2, 0}, {-1, 1, 0}}};
// Inputs V_AN, V_CN of a 4-wire delta: N centre-taps the A-B winding, so V_BN = -V_AN.
constexpr std::array<Weights, kMaxPhaseLines> kLinesDeltaAc{{{2, 0, 0}, {-1, -1, 0}, {-1, 1, 0}}};

constexpr std::array<ServiceConfiguration, 11> kServices{
    // V_AN; I_A.
    make("1e2w", "1 element 2 wire", 1, 1, 1, false, {element({1, 0, 0}, {1, 0, 0})}, 1),
    // V_AB across the two lines; I_A, I_B. V_AN = -V_BN = V_AB / 2.
    make("1.5e3w", "1\u00bd element 3 wire", 2, 1, 2, true, {element({1, 0, 0}, {0.5, -0.5, 0})},
         1),
    // V_AN, V_BN of a single-phase 3-wire service; I_A, I_B.
    make("2e3w-1ph", "2 element 3 wire 1\u03a6", 3, 2, 2, false,
         {element({1, 0, 0}, {1, 0, 0}), element({0, 1, 0}, {0, 1, 0})}, 2),
    // Two phases and neutral of a wye (network): V_AN, V_BN; I_A, I_B.
    make("2e3w-network", "2 element 3 wire network", 4, 2, 2, false,
         {element({1, 0, 0}, {1, 0, 0}), element({0, 1, 0}, {0, 1, 0})}, 2, 1, {{{1, -1, 0}}}),
    // Blondel on a 3-wire delta: V_AB, V_CB; I_A, I_C.
    make("2e3w-delta", "2 element 3 wire \u0394", 5, 2, 2, true,
         {element({1, 0, 0}, {1, 0, 0}), element({0, 1, 0}, {0, 1, 0})}, 2, 3,
         {{{1, 0, 0}, {0, -1, 0}, {-1, 1, 0}}}),
    // V_AN, V_CN; I_A, I_B, I_C. Exact when V_BN = -(V_AN + V_CN).
    make("2e4w-wye", "2 element 4 wire Y", 6, 2, 3, false,
         {element({1, 0, 0}, {1, -1, 0}), element({0, 1, 0}, {0, -1, 1})}, 2, 3, kLinesWyeAc),
    // V_AN, V_CN; I_A, I_B, I_C. V_BN = -V_AN (centre tap).
    make("2e4w-delta", "2 element 4 wire \u0394", 7, 2, 3, false,
         {element({1, 0, 0}, {1, -1, 0}), element({0, 1, 0}, {0, 0, 1})}, 2, 3, kLinesDeltaAc),
    make("2.5e4w-wye", "2\u00bd element 4 wire Y", 8, 2, 3, false,
         {element({1, 0, 0}, {1, 0, 0}), element({-1, -1, 0}, {0, 1, 0}),
          element({0, 1, 0}, {0, 0, 1})},
         3, 3, kLinesWyeAc),
    make("2.5e4w-delta", "2\u00bd element 4 wire \u0394", 9, 2, 3, false,
         {element({1, 0, 0}, {1, 0, 0}), element({-1, 0, 0}, {0, 1, 0}),
          element({0, 1, 0}, {0, 0, 1})},
         3, 3, kLinesDeltaAc),
    make("3e4w-wye", "3 element 4 wire Y", 10, 3, 3, false,
         {element({1, 0, 0}, {1, 0, 0}), element({0, 1, 0}, {0, 1, 0}),
          element({0, 0, 1}, {0, 0, 1})},
         3, 3, kLinesFromThree),
    // V_AN, V_BN, V_CN against the centre tap of the A-B winding.
    make("3e4w-delta", "3 element 4 wire \u0394", 11, 3, 3, false,
         {element({1, 0, 0}, {1, 0, 0}), element({0, 1, 0}, {0, 1, 0}),
          element({0, 0, 1}, {0, 0, 1})},
         3, 3, kLinesFromThree),
};

}  // namespace

std::span<const ServiceConfiguration> service_configurations() noexcept {
  return kServices;
}

Result<const ServiceConfiguration*> find_service(std::string_view id) {
  for (const auto& service : kServices) {
    if (service.id == id) return &service;
  }
  std::string known;
  for (const auto& service : kServices) {
    if (!known.empty()) known += ", ";
    known += service.id;
  }
  return fail(fmt::format("unknown service configuration \"{}\"; known: {}", id, known));
}

}  // namespace meter::kernel
