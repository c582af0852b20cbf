// The meter behind the optical port, as the C12.18 server sees it: logons go to the parameter
// gate as the optical-port interface, tables are the C12.19 layer over the object registry read
// and written with the session's role. One Endpoint serves one port; a session's Tables live
// from its logon to its logoff.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <meter/sdk/plugin.h>

#include "meter/c1218/server.h"
#include "meter/c1219/identification.h"
#include "meter/c1219/object_source.h"
#include "meter/c1219/tables.h"

namespace meter::plugins::optical {

/// The registry through the plugin ABI, read and written with one logon's role.
class HostObjects final : public c1219::ObjectSource {
 public:
  explicit HostObjects(sdk::Host& host) : host_(host) {}
  void set_session(std::uint64_t session) noexcept { session_ = session; }
  std::uint64_t session() const noexcept { return session_; }

  std::optional<c1219::ObjectMeta> meta(const c1219::Obis& id) override;
  std::optional<c1219::Value> read(const c1219::Obis& id) override;
  c1219::WriteOutcome write(const c1219::Obis& id, const c1219::Value& value) override;
  std::string last_refusal() override { return host_.last_refusal(); }
  std::vector<c1219::Obis> objects() override;

 private:
  sdk::Host& host_;
  std::uint64_t session_ = 0;  // 0: no logon, the public read role
};

/// Why a security request was refused, as the port counts it.
struct LogonCounters {
  std::uint64_t wrong_password = 0;
  std::uint64_t locked = 0;
  std::uint64_t port_disabled = 0;
  std::uint64_t total() const noexcept { return wrong_password + locked + port_disabled; }
};

class MeterEndpoint final : public c1218::Endpoint {
 public:
  /// The identification is read from the nameplate and firmware objects at each logon, so a
  /// session sees the objects registered after the plugin started (the firmware identifier).
  explicit MeterEndpoint(sdk::Host& host);
  ~MeterEndpoint() override;

  c1218::Identity identity() override;
  c1218::ResponseCode logon(std::uint16_t user_id, std::string_view user) override;
  c1218::ResponseCode security(
      std::span<const std::uint8_t, c1218::kPasswordLength> password) override;
  void logoff() override;
  c1218::TableResult read(std::uint16_t table, std::optional<c1218::Range> range) override;
  c1218::ResponseCode write(std::uint16_t table, std::optional<std::uint32_t> offset,
                            std::span<const std::uint8_t> data) override;

  const LogonCounters& logon_counters() const noexcept { return refused_; }
  /// The role mask of the present logon; 0 without one.
  std::int32_t role() const noexcept { return role_; }

 private:
  sdk::Host& host_;
  HostObjects objects_;
  std::unique_ptr<c1219::Tables> tables_;  // from logon to logoff
  std::int32_t role_ = 0;
  std::string user_;
  LogonCounters refused_;
};

/// Identification for the tables from the nameplate objects (0-0:96.1.x) and the firmware
/// identifier (1-0:0.2.0).
c1219::Identification identification_from(sdk::Host& host);

}  // namespace meter::plugins::optical
