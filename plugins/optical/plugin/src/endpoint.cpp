#include "endpoint.h"

#include <charconv>

#include <fmt/format.h>

namespace meter::plugins::optical {

namespace {

std::string text_of(sdk::Host& host, const char* code) {
  auto value = host.read(*sdk::parse_obis(code));
  if (!value) return {};
  if (auto* s = std::get_if<std::string>(&*value)) return *s;
  return {};
}

}  // namespace

std::optional<c1219::ObjectMeta> HostObjects::meta(const c1219::Obis& id) {
  auto d = host_.describe(id);
  if (!d) return std::nullopt;
  c1219::ObjectMeta m;
  m.id = id;
  m.type = d->info.type;
  m.unit = d->info.unit;
  m.scaler = d->info.scaler;
  m.read_roles = d->info.read_roles;
  m.write_roles = d->info.write_roles;
  m.parameter_class = d->info.parameter_class;
  m.legally_relevant = d->info.legally_relevant != 0;
  return m;
}

std::optional<c1219::Value> HostObjects::read(const c1219::Obis& id) {
  c1219::Value value;
  if (host_.read_as(session_, id, value) != sdk::Status::ok) return std::nullopt;
  return value;
}

c1219::WriteOutcome HostObjects::write(const c1219::Obis& id, const c1219::Value& value) {
  using sdk::Status;
  using W = c1219::WriteOutcome;
  switch (host_.write_as(session_, id, value)) {
    case Status::ok: return W::done;
    case Status::denied: return W::denied_role;
    case Status::sealed: return W::sealed;
    case Status::not_found: return W::unknown_object;
    case Status::invalid_argument:
    case Status::type_mismatch: return W::invalid_value;
    default: return W::busy;
  }
}

std::vector<c1219::Obis> HostObjects::objects() { return host_.objects(); }

c1219::Identification identification_from(sdk::Host& host) {
  c1219::Identification id;
  id.manufacturer = text_of(host, "0-0:96.1.5");
  id.model = text_of(host, "0-0:96.1.2");
  id.serial_number = text_of(host, "0-0:96.1.0");
  id.device_id = id.serial_number;
  id.hw_version = 1;
  // The firmware identifier reads "meterd 1.2.3 ..." or "1.2.3+...": its first two numbers.
  const std::string firmware = text_of(host, "1-0:0.2.0");
  std::vector<int> numbers;
  const char* p = firmware.data();
  const char* end = p + firmware.size();
  while (p < end && numbers.size() < 2) {
    if (*p >= '0' && *p <= '9') {
      int n = 0;
      auto [next, ec] = std::from_chars(p, end, n);
      if (ec == std::errc()) numbers.push_back(n);
      p = next;
      if (p < end && *p != '.') break;
      ++p;
    } else if (numbers.empty()) {
      ++p;
    } else {
      break;
    }
  }
  if (!numbers.empty()) id.fw_version = static_cast<std::uint8_t>(numbers[0]);
  if (numbers.size() > 1) id.fw_revision = static_cast<std::uint8_t>(numbers[1]);
  for (const auto& [code, name] : {std::pair{"0-0:96.1.1", "manufacturer"},
                                   {"0-0:96.1.2", "type"},
                                   {"0-0:96.1.0", "serial number"},
                                   {"0-0:96.1.3", "form"},
                                   {"0-0:96.1.4", "class"},
                                   {"0-0:96.1.9", "nameplate"}}) {
    if (auto v = text_of(host, code); !v.empty()) id.nameplate.emplace_back(name, v);
  }
  return id;
}

MeterEndpoint::MeterEndpoint(sdk::Host& host) : host_(host), objects_(host) {}

MeterEndpoint::~MeterEndpoint() { logoff(); }

c1218::Identity MeterEndpoint::identity() {
  c1218::Identity id;
  id.standard = 0x00;  // ANSI C12.18
  id.version = 1;
  id.revision = 0;
  return id;
}

c1218::ResponseCode MeterEndpoint::logon(std::uint16_t user_id, std::string_view user) {
  // The logon names the user for the record; what the session may do comes with the password.
  constexpr std::string_view kPadding(" \0", 2);
  user_ = fmt::format("{} ({})", user.substr(0, user.find_last_not_of(kPadding) + 1), user_id);
  objects_.set_session(0);
  role_ = 0;
  tables_ = std::make_unique<c1219::Tables>(objects_, identification_from(host_));
  host_.info(fmt::format("optical port: session opened by user {}", user_));
  return c1218::ResponseCode::ok;
}

c1218::ResponseCode MeterEndpoint::security(
    std::span<const std::uint8_t, c1218::kPasswordLength> password) {
  if (objects_.session() != 0) {  // a second password replaces the first logon
    host_.logoff(objects_.session());
    objects_.set_session(0);
    role_ = 0;
  }
  std::string text(password.begin(), password.end());
  sdk::Host::Logon logon;
  switch (host_.logon(METER_INTERFACE_OPTICAL_PORT, text, logon)) {
    case sdk::Status::ok:
      objects_.set_session(logon.session);
      role_ = logon.role;
      return c1218::ResponseCode::ok;
    case sdk::Status::locked:
      ++refused_.locked;
      return c1218::ResponseCode::bsy;  // try again when the lockout has expired
    case sdk::Status::unavailable:
      ++refused_.port_disabled;
      return c1218::ResponseCode::onp;
    default:
      ++refused_.wrong_password;
      return c1218::ResponseCode::isc;
  }
}

void MeterEndpoint::logoff() {
  if (objects_.session() != 0) host_.logoff(objects_.session());
  objects_.set_session(0);
  role_ = 0;
  tables_.reset();
}

c1218::TableResult MeterEndpoint::read(std::uint16_t table, std::optional<c1218::Range> range) {
  if (!tables_) return {c1218::ResponseCode::isss, {}};
  const auto r = range ? tables_->read(table, range->offset, range->count) : tables_->read(table);
  return {r.code, r.data};
}

c1218::ResponseCode MeterEndpoint::write(std::uint16_t table, std::optional<std::uint32_t> offset,
                                         std::span<const std::uint8_t> data) {
  if (!tables_) return c1218::ResponseCode::isss;
  return tables_->write(table, offset.value_or(0), data);
}

}  // namespace meter::plugins::optical
