// Service configurations: the approval's eleven, and each wiring metering the true power of a
// synthetic system it is exact for, balanced and unbalanced.
#include "meter/kernel/service.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "detail/synthetic.h"
#include "meter/kernel/metrology.h"

namespace meter::kernel {
namespace {

using detail::Wave;

TEST(MetrologyServices, AreTheApprovalsElevenInItsOrder) {
  const std::vector<std::string> ids{"1e2w",         "1.5e3w",   "2e3w-1ph",   "2e3w-network",
                                     "2e3w-delta",   "2e4w-wye", "2e4w-delta", "2.5e4w-wye",
                                     "2.5e4w-delta", "3e4w-wye", "3e4w-delta"};
  const auto services = service_configurations();
  ASSERT_EQ(services.size(), ids.size());
  for (std::size_t n = 0; n < ids.size(); ++n) {
    EXPECT_EQ(services[n].id, ids[n]);
    EXPECT_EQ(services[n].number, n + 1);
    EXPECT_FALSE(services[n].description.empty());
    EXPECT_EQ(services[n].channels(), services[n].voltage_inputs + services[n].current_inputs);
    const auto found = find_service(ids[n]);
    ASSERT_TRUE(found.ok()) << ids[n];
    EXPECT_EQ(*found, &services[n]);
  }
  EXPECT_TRUE(find_service("2e3w-delta").value()->inputs_line_to_line);
  EXPECT_TRUE(find_service("1.5e3w").value()->inputs_line_to_line);
  EXPECT_FALSE(find_service("3e4w-wye").value()->inputs_line_to_line);
  EXPECT_TRUE(find_service("3e4w-wye").value()->polyphase);
  EXPECT_FALSE(find_service("1e2w").value()->polyphase);
}

TEST(MetrologyServices, UnknownIdErrorListsTheKnownIds) {
  const auto found = find_service("4e5w");
  ASSERT_FALSE(found.ok());
  EXPECT_NE(found.error().message.find("\"4e5w\""), std::string::npos);
  for (const auto& service : service_configurations()) {
    EXPECT_NE(found.error().message.find(service.id), std::string::npos) << service.id;
  }
}

// A physical service: line-to-neutral voltages and line currents of phases A, B, C.
struct System {
  Wave van, vbn, vcn, ia, ib, ic;
};

// What the board wires to its inputs for a service, and the power actually delivered.
struct Wired {
  std::vector<Wave> channels;
  double power_w = 0;
};

constexpr double kHz = 60.0;

double mean_power(const Wave& v, const Wave& i) {
  return detail::integral_product(v, i, kHz, 1.0);
}

System system_for(const std::string& id, bool balanced) {
  System s;
  const bool delta4 = id == "2e4w-delta" || id == "2.5e4w-delta" || id == "3e4w-delta";
  const bool split = id == "1.5e3w" || id == "2e3w-1ph";
  if (delta4) {
    s.van = Wave::sine(120, 0);
    s.vbn = Wave::sine(120, 180);
    s.vcn = Wave::sine(120 * std::sqrt(3.0), 90);  // the high leg
  } else if (split) {
    s.van = Wave::sine(120, 0);
    s.vbn = Wave::sine(120, 180);
  } else {
    // Services with a voltage input per phase are exact for unbalanced voltages too.
    const bool all_inputs = id == "3e4w-wye" || id == "2e3w-network" || id == "2e3w-delta";
    s.van = Wave::sine(120, 0);
    s.vbn = Wave::sine(!balanced && all_inputs ? 112 : 120, !balanced && all_inputs ? -117 : -120);
    s.vcn = Wave::sine(!balanced && all_inputs ? 126 : 120, 120);
  }
  if (balanced) {
    s.ia = Wave::sine(10, -30);
    s.ib = Wave::sine(10, split ? 150 : -150);
    s.ic = Wave::sine(10, 90);
  } else {
    s.ia = Wave::sine(14, -12);
    s.ib = Wave::sine(3, split ? 100 : -170);
    s.ic = Wave::sine(7, 65);
  }
  if (id == "2e3w-delta") s.ib = (s.ia + s.ic).scaled(-1);  // three wires, no neutral
  return s;
}

Wired wire(const std::string& id, const System& s) {
  const double pa = mean_power(s.van, s.ia);
  const double pb = mean_power(s.vbn, s.ib);
  const double pc = mean_power(s.vcn, s.ic);
  if (id == "1e2w") return {{s.van, s.ia}, pa};
  if (id == "1.5e3w") return {{s.van - s.vbn, s.ia, s.ib}, pa + pb};
  if (id == "2e3w-1ph" || id == "2e3w-network") return {{s.van, s.vbn, s.ia, s.ib}, pa + pb};
  if (id == "2e3w-delta") return {{s.van - s.vbn, s.vcn - s.vbn, s.ia, s.ic}, pa + pb + pc};
  if (id == "3e4w-wye" || id == "3e4w-delta") {
    return {{s.van, s.vbn, s.vcn, s.ia, s.ib, s.ic}, pa + pb + pc};
  }
  return {{s.van, s.vcn, s.ia, s.ib, s.ic}, pa + pb + pc};  // 2 and 2 1/2 element 4 wire
}

struct WiringCase {
  std::string id;
  bool balanced;
};

void PrintTo(const WiringCase& c, std::ostream* os) {
  *os << c.id << (c.balanced ? " balanced" : " unbalanced");
}

class MetrologyWiring : public ::testing::TestWithParam<WiringCase> {};

TEST_P(MetrologyWiring, MetersTheTruePowerOfItsService) {
  const WiringCase& c = GetParam();
  const ServiceConfiguration* service = find_service(c.id).value();
  const System system = system_for(c.id, c.balanced);
  const Wired wired = wire(c.id, system);
  ASSERT_EQ(wired.channels.size(), service->channels());

  MetrologyConfig config;
  config.service = service;
  config.channel_count = service->channels();
  config.volts_per_code = {1, 1, 1};
  config.amps_per_code = {1, 1, 1};
  auto metrology = std::move(Metrology::create(config).value());
  constexpr std::uint32_t kRate = 6000;
  ASSERT_TRUE(
      detail::feed(*metrology, detail::sample_float(wired.channels, kHz, kRate, kRate), 1000));
  const TickMetrology tick = metrology->close_tick();

  const double expected_nwh = wired.power_w / 3600 * 1e9;
  EXPECT_GT(std::fabs(wired.power_w), 100.0);
  EXPECT_NEAR(static_cast<double>(tick.active_nwh), expected_nwh, 1e-5 * std::fabs(expected_nwh));
  EXPECT_NEAR(tick.measurements.total_active_power_w, wired.power_w,
              1e-5 * std::fabs(wired.power_w));
  EXPECT_EQ(tick.measurements.phases, service->elements);

  std::vector<double> lines;
  if (c.id == "2e3w-network") {
    lines = {detail::rms_of(system.van - system.vbn, kHz, 1.0)};
  } else if (service->polyphase) {
    lines = {detail::rms_of(system.van - system.vbn, kHz, 1.0),
             detail::rms_of(system.vbn - system.vcn, kHz, 1.0),
             detail::rms_of(system.vcn - system.van, kHz, 1.0)};
  }
  ASSERT_EQ(service->line_voltages, lines.size());
  for (std::size_t l = 0; l < lines.size(); ++l) {
    EXPECT_NEAR(tick.measurements.line_voltage_v[l], lines[l], 1e-4 * lines[l]) << "line " << l;
  }
}

std::vector<WiringCase> wiring_cases() {
  std::vector<WiringCase> out;
  for (const auto& service : service_configurations()) {
    out.push_back({std::string(service.id), true});
    out.push_back({std::string(service.id), false});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(AllServices, MetrologyWiring, ::testing::ValuesIn(wiring_cases()),
                         [](const ::testing::TestParamInfo<WiringCase>& wiring) {
                           std::string name = wiring.param.id;
                           for (char& ch : name) {
                             if (ch == '.' || ch == '-') ch = '_';
                           }
                           return name + (wiring.param.balanced ? "_balanced" : "_unbalanced");
                         });

}  // namespace
}  // namespace meter::kernel
