// Names of the PSEM service and response codes.
#include "meter/c1218/codes.h"

namespace meter::c1218 {

std::string_view to_string(ResponseCode code) noexcept {
  switch (code) {
    case ResponseCode::ok: return "ok";
    case ResponseCode::err: return "err";
    case ResponseCode::sns: return "sns";
    case ResponseCode::isc: return "isc";
    case ResponseCode::onp: return "onp";
    case ResponseCode::iar: return "iar";
    case ResponseCode::bsy: return "bsy";
    case ResponseCode::dnr: return "dnr";
    case ResponseCode::dlk: return "dlk";
    case ResponseCode::rno: return "rno";
    case ResponseCode::isss: return "isss";
  }
  return "unknown";
}

std::string_view describe(ResponseCode code) noexcept {
  switch (code) {
    case ResponseCode::ok: return "acknowledge";
    case ResponseCode::err: return "error";
    case ResponseCode::sns: return "service not supported";
    case ResponseCode::isc: return "insufficient security clearance";
    case ResponseCode::onp: return "operation not possible";
    case ResponseCode::iar: return "inappropriate action requested";
    case ResponseCode::bsy: return "device busy";
    case ResponseCode::dnr: return "data not ready";
    case ResponseCode::dlk: return "data locked";
    case ResponseCode::rno: return "renegotiate request";
    case ResponseCode::isss: return "invalid service sequence state";
  }
  return "undefined response code";
}

bool is_defined(ResponseCode code) noexcept {
  return static_cast<std::uint8_t>(code) <= static_cast<std::uint8_t>(ResponseCode::isss);
}

std::string_view to_string(ServiceCode code) noexcept {
  switch (code) {
    case ServiceCode::identify: return "identify";
    case ServiceCode::terminate: return "terminate";
    case ServiceCode::disconnect: return "disconnect";
    case ServiceCode::read_full: return "full read";
    case ServiceCode::read_offset: return "partial read";
    case ServiceCode::write_full: return "full write";
    case ServiceCode::write_offset: return "partial write";
    case ServiceCode::logon: return "logon";
    case ServiceCode::security: return "security";
    case ServiceCode::logoff: return "logoff";
    case ServiceCode::negotiate: return "negotiate";
    case ServiceCode::wait: return "wait";
  }
  return "unknown";
}

}  // namespace meter::c1218
