// The meter behind optical_stack_fuzz's server: the table tests' fake registry (registers, seals,
// roles, an audit log and a load profile in the plugins' formats) with the gate's rules that a
// port meets, and an endpoint like the plugin's MeterEndpoint that runs the real C12.19 tables
// and checks, around every request, what must hold whatever the bytes were:
//   - a register changes only by a billing preset (MP-2, or MP-6 on 0-0:128.7.x) that the
//     configurator made while the meter was unsealed, and then to the preset's reading;
//   - while the meter is sealed no sealable (configuration, calibration) object changes;
//   - a write changes only the object it names, to the value it names, for a role that may
//     write it; a refused write changes nothing, a read never changes anything;
//   - a partial read returns exactly the bytes asked for, the same as the full read holds there;
//     a full read has the table's documented size; sns exactly for tables ST-0 does not list;
//   - ST-8 echoes each procedure request as its selector says, with a result that agrees with
//     the write's answer; ST-5 reads back what was written to it.
// A broken check prints what broke and aborts, which libFuzzer reports as a crash.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <meter/c1218/server.h>
#include <meter/c1219/tables.h>

#include "fake_source.h"

namespace meter::plugins::optical::fuzz {

/// Prints "optical_stack_fuzz: invariant broken: <what>" and aborts.
[[noreturn]] void broken(std::string_view what);
inline void check(bool condition, std::string_view what) {
  if (!condition) broken(what);
}

/// The fake registry with the gate's rules for the port: the electronic seal 0-0:128.6.7 is set
/// by a configurator or calibrator and broken only by a calibrator; the billing presets
/// 0-0:128.7.1 and 0-0:128.7.2 set their register; the seal state 0-0:128.6.0 is the cover
/// switch (bit 0) and the electronic seal (bit 3), and the meter is sealed while either is.
class FuzzMeter : public c1219::testing::FakeSource {
 public:
  FuzzMeter(bool sealed_by_cover, bool meter_id);
  c1219::WriteOutcome write(const c1219::Obis& id, const c1219::Value& value) override;
};

class CheckedEndpoint final : public c1218::Endpoint {
 public:
  explicit CheckedEndpoint(FuzzMeter& meter);

  c1218::Identity identity() override;
  c1218::ResponseCode logon(std::uint16_t user_id, std::string_view user) override;
  c1218::ResponseCode security(
      std::span<const std::uint8_t, c1218::kPasswordLength> password) override;
  void logoff() override;
  c1218::TableResult read(std::uint16_t table, std::optional<c1218::Range> range) override;
  c1218::ResponseCode write(std::uint16_t table, std::optional<std::uint32_t> offset,
                            std::span<const std::uint8_t> data) override;

  bool logged_on() const noexcept { return tables_ != nullptr; }
  /// Between requests: every register holds what the accepted presets left in it.
  void check_registers() const;

 private:
  // Every object and a 64-bit fingerprint of its value, in the registry's order.
  using Snapshot = std::vector<std::pair<std::uint64_t, std::uint64_t>>;
  Snapshot snapshot() const;
  void check_read(std::uint16_t table, std::optional<c1218::Range> range,
                  const c1219::ReadResult& result);
  void check_size(std::uint16_t table, const std::vector<std::uint8_t>& data);
  void check_write(std::uint16_t table, std::uint32_t offset, std::span<const std::uint8_t> data,
                   c1219::ResponseCode code, const Snapshot& before, int role, bool sealed,
                   const c1219::ReadResult& st5_before, const c1219::ReadResult& st8_before);

  FuzzMeter& meter_;
  std::unique_ptr<c1219::Tables> tables_;  // from logon to logoff
  std::map<std::uint64_t, std::uint64_t> registers_;  // fingerprints of what they must hold
};

}  // namespace meter::plugins::optical::fuzz
