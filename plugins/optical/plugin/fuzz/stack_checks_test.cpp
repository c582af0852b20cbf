// The fuzz target's checks catch what they claim to: a meter that lets a register or a sealed
// parameter change, or lets a role write what it may not, aborts the run; the real tables over
// the fuzzed meter pass them, presets and seals included.
#include <gtest/gtest.h>

#include <meter/c1219/objects.h>
#include <meter/c1219/procedures.h>
#include <meter/c1219/tables.h>

#include "stack_input.h"
#include "stack_meter.h"

namespace meter::plugins::optical::fuzz {
namespace {

namespace objects = c1219::objects;
namespace procedure = c1219::procedure;
using Bytes = std::vector<std::uint8_t>;
using c1218::ResponseCode;

Bytes st7(std::uint16_t number, const Bytes& params) {
  Bytes out(3 + params.size());
  out[0] = static_cast<std::uint8_t>(number & 0xFF);
  out[1] = static_cast<std::uint8_t>(number >> 8);
  out[2] = 1;  // SEQ_NBR
  std::copy(params.begin(), params.end(), out.begin() + 3);
  return out;
}
Bytes preset(std::uint8_t which, std::uint64_t mwh) {
  Bytes out{which};
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(mwh >> (8 * i)));
  return out;
}
std::array<std::uint8_t, c1218::kPasswordLength> password(std::string_view text) {
  return *c1218::password_field(text);
}
ResponseCode log_on(CheckedEndpoint& endpoint, std::string_view pw) {
  EXPECT_EQ(endpoint.logon(2, "shop      "), ResponseCode::ok);
  const auto field = password(pw);
  return endpoint.security(std::span<const std::uint8_t, c1218::kPasswordLength>(field));
}

// A meter whose gate lets any write through to the +A register as well.
class LeakyRegisterMeter : public FuzzMeter {
 public:
  using FuzzMeter::FuzzMeter;
  c1219::WriteOutcome write(const c1219::Obis& id, const c1219::Value& value) override {
    set(objects::kImport, c1219::Value{std::int64_t{1}});
    return FuzzMeter::write(id, value);
  }
};

// A meter whose gate forgets the seal.
class SealIgnoringMeter : public FuzzMeter {
 public:
  using FuzzMeter::FuzzMeter;
  c1219::WriteOutcome write(const c1219::Obis& id, const c1219::Value& value) override {
    const bool was = sealed;
    sealed = false;
    const auto outcome = FuzzMeter::write(id, value);
    sealed = was;
    return outcome;
  }
};

// A meter whose gate ignores roles.
class RoleIgnoringMeter : public FuzzMeter {
 public:
  using FuzzMeter::FuzzMeter;
  c1219::WriteOutcome write(const c1219::Obis& id, const c1219::Value& value) override {
    const int was = role;
    role = kConfigurator | kCalibrator;
    const auto outcome = FuzzMeter::write(id, value);
    role = was;
    return outcome;
  }
};

TEST(OpticalStackChecks, TheConfiguratorsPresetOnAnUnsealedMeterPasses) {
  FuzzMeter meter(false, true);
  CheckedEndpoint endpoint(meter);
  ASSERT_EQ(log_on(endpoint, "shop-configurator"), ResponseCode::ok);
  EXPECT_EQ(endpoint.write(7, std::nullopt, st7(procedure::kBillingPreset, preset(1, 4242))),
            ResponseCode::ok);
  EXPECT_EQ(std::get<std::int64_t>(meter.value(objects::kImport)), 4242);
  endpoint.check_registers();
  EXPECT_EQ(endpoint.read(8, std::nullopt).data, (Bytes{0x02, 0x08, 1, 0}));
  // Sealing, then a refused preset.
  EXPECT_EQ(endpoint.write(7, std::nullopt, st7(procedure::kElectronicSeal, {1})),
            ResponseCode::ok);
  EXPECT_TRUE(meter.sealed);
  EXPECT_EQ(endpoint.write(7, std::nullopt, st7(procedure::kBillingPreset, preset(1, 0))),
            ResponseCode::dlk);
  EXPECT_EQ(std::get<std::int64_t>(meter.value(objects::kImport)), 4242);
  endpoint.logoff();
}

TEST(OpticalStackChecks, OnlyTheCalibratorBreaksTheElectronicSealAndNeverTheCover) {
  FuzzMeter meter(true, true);
  CheckedEndpoint endpoint(meter);
  ASSERT_EQ(log_on(endpoint, "shop-configurator"), ResponseCode::ok);
  EXPECT_EQ(endpoint.write(7, std::nullopt, st7(procedure::kElectronicSeal, {1})),
            ResponseCode::ok);
  EXPECT_EQ(endpoint.write(7, std::nullopt, st7(procedure::kElectronicSeal, {0})),
            ResponseCode::isc);
  ASSERT_EQ(endpoint.security(password("shop-calibrator")), ResponseCode::ok);
  EXPECT_EQ(endpoint.write(7, std::nullopt, st7(procedure::kElectronicSeal, {0})),
            ResponseCode::ok);
  EXPECT_TRUE(meter.sealed);  // the cover seal holds
  EXPECT_EQ(std::get<std::uint64_t>(meter.value(objects::kSealState)), 1U);
  endpoint.logoff();
}

TEST(OpticalStackChecksDeathTest, ARegisterChangedByAnotherWriteAborts) {
  EXPECT_DEATH(
      {
        LeakyRegisterMeter meter(false, true);
        CheckedEndpoint endpoint(meter);
        log_on(endpoint, "shop-configurator");
        endpoint.write(7, std::nullopt, st7(procedure::kDisplayMultiplier, {2}));
      },
      "a register changed without the configurator's billing preset");
}

TEST(OpticalStackChecksDeathTest, ARegisterChangedBetweenRequestsAborts) {
  EXPECT_DEATH(
      {
        FuzzMeter meter(false, true);
        CheckedEndpoint endpoint(meter);
        meter.set(objects::kExport, c1219::Value{std::int64_t{5}});
        endpoint.check_registers();
      },
      "a register changed without a billing preset");
}

TEST(OpticalStackChecksDeathTest, ASealableChangeOnASealedMeterAborts) {
  EXPECT_DEATH(
      {
        SealIgnoringMeter meter(true, true);
        CheckedEndpoint endpoint(meter);
        log_on(endpoint, "shop-configurator");
        endpoint.write(7, std::nullopt, st7(procedure::kDisplayMultiplier, {9}));
      },
      "a sealable object changed while the meter was sealed");
}

TEST(OpticalStackChecksDeathTest, AWriteByARoleThatMayNotAborts) {
  EXPECT_DEATH(
      {
        RoleIgnoringMeter meter(false, true);
        CheckedEndpoint endpoint(meter);
        log_on(endpoint, "shop-reader");
        endpoint.write(7, std::nullopt, st7(procedure::kReactivateTestLed, {}));
      },
      "a write changed an object it did not name, or for a role that may not");
}

}  // namespace
}  // namespace meter::plugins::optical::fuzz
