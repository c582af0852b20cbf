// Test support: a meter behind the optical port with a few tables, one password and counters of
// what the server asked of it.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>

#include "meter/c1218/server.h"

namespace meter::c1218::test {

class FakeEndpoint : public Endpoint {
 public:
  FakeEndpoint() {
    tables[1] = {'M', 'E', 'T', 'R', 0x01, 0x02, 0x03, 0x04};
    tables[7] = std::vector<std::uint8_t>(16, 0x00);
    writable.insert(7);
  }

  Identity identity() override { return identity_value; }

  ResponseCode logon(std::uint16_t user_id, std::string_view user) override {
    ++logons;
    last_user_id = user_id;
    last_user = std::string(user);
    if (refuse_logon) return ResponseCode::err;
    cleared = false;
    return ResponseCode::ok;
  }

  ResponseCode security(std::span<const std::uint8_t, kPasswordLength> given) override {
    ++securities;
    const auto expected = *password_field(password);
    cleared = std::equal(given.begin(), given.end(), expected.begin());
    return cleared ? ResponseCode::ok : ResponseCode::isc;
  }

  void logoff() override {
    ++logoffs;
    cleared = false;
  }

  TableResult read(std::uint16_t table, std::optional<Range> range) override {
    ++reads;
    if (throw_on_read) throw std::runtime_error("registry unavailable");
    const auto found = tables.find(table);
    if (found == tables.end()) return {ResponseCode::onp, {}};
    const auto& data = found->second;
    if (!range) return {ResponseCode::ok, data};
    if (range->offset > data.size()) return {ResponseCode::onp, {}};
    const std::size_t end = std::min<std::size_t>(data.size(), range->offset + range->count);
    return {ResponseCode::ok, {data.begin() + range->offset, data.begin() + end}};
  }

  ResponseCode write(std::uint16_t table, std::optional<std::uint32_t> offset,
                     std::span<const std::uint8_t> data) override {
    ++writes;
    if (!writable.contains(table)) return ResponseCode::iar;
    if (!cleared) return ResponseCode::isc;
    auto& target = tables[table];
    const std::size_t at = offset.value_or(0);
    if (!offset) target.assign(data.begin(), data.end());
    if (offset) {
      if (at + data.size() > target.size()) return ResponseCode::onp;
      std::copy(data.begin(), data.end(), target.begin() + static_cast<std::ptrdiff_t>(at));
    }
    return ResponseCode::ok;
  }

  Identity identity_value{0, 1, 0, {}};
  std::map<std::uint16_t, std::vector<std::uint8_t>> tables;
  std::set<std::uint16_t> writable;
  std::string password = "secret";
  bool refuse_logon = false;
  bool throw_on_read = false;
  bool cleared = false;
  int logons = 0;
  int securities = 0;
  int logoffs = 0;
  int reads = 0;
  int writes = 0;
  std::uint16_t last_user_id = 0;
  std::string last_user;
};

}  // namespace meter::c1218::test
