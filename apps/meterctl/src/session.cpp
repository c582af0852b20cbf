#include "session.h"

#include <algorithm>

#include <fmt/format.h>
#include <meter/c1218/frame.h>
#include <meter/c1218/psem.h>
#include <meter/c1219/procedures.h>
#include <meter/c1219/tables.h>
#include <meter/c1219/value_codec.h>

namespace meter::apps::meterctl {

namespace {

namespace table = c1219::table;
namespace procedure = c1219::procedure;

constexpr std::size_t kDirectoryEntry = 13;
constexpr std::size_t kObisSize = 6;
constexpr std::size_t kProcedureHeader = 4;  // TABLE_IDB_BFLD, SEQ_NBR, RESULT_CODE
constexpr std::size_t kReadOverhead = 4;     // <ok> <count: word16> ... <cksum>
constexpr int kSizedReadAttempts = 3;

std::uint32_t le(std::span<const std::uint8_t> b, std::size_t at, std::size_t n) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= std::uint32_t{b[at + i]} << (8 * i);
  return v;
}

void put_obis(Bytes& out, const Obis& id) {
  out.insert(out.end(), {id.a, id.b, id.c, id.d, id.e, id.f});
}

Obis get_obis(std::span<const std::uint8_t> b, std::size_t at) {
  return Obis{b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5]};
}

std::size_t directory_size(std::span<const std::uint8_t> header) {
  return 2 + kDirectoryEntry * le(header, 0, 2);
}

// MT-2: OBIS, u8 type, and for text and octets a u32 length before the bytes.
constexpr std::size_t kObjectValueHeader = kObisSize + 1 + 4;
std::size_t object_value_size(std::span<const std::uint8_t> header) {
  return kObjectValueHeader + le(header, kObisSize + 1, 4);
}

Failure garbled(std::string_view what, std::string_view why) {
  return {Exit::link, fmt::format("the meter's answer to {} was garbled ({})", what, why)};
}

}  // namespace

std::optional<std::vector<ObjectEntry>> decode_directory(std::span<const std::uint8_t> t) {
  if (t.size() < 2 || t.size() != directory_size(t)) return std::nullopt;
  std::vector<ObjectEntry> out;
  for (std::size_t at = 2; at < t.size(); at += kDirectoryEntry) {
    ObjectEntry e;
    e.id = get_obis(t, at);
    e.type = static_cast<meter_value_type>(t[at + 6]);
    e.unit = t[at + 7];
    e.scaler = static_cast<std::int8_t>(t[at + 8]);
    e.parameter_class = t[at + 9];
    e.read_roles = t[at + 10];
    e.write_roles = t[at + 11];
    e.legally_relevant = t[at + 12] != 0;
    out.push_back(e);
  }
  return out;
}

std::string table_name(std::uint16_t t) {
  return t >= table::kManufacturer ? fmt::format("MT-{}", t - table::kManufacturer)
                                   : fmt::format("ST-{}", t);
}

MeterSession::MeterSession(c1218::Transport& transport, SessionOptions options)
    : client_(transport), options_(std::move(options)) {}

Outcome<void> MeterSession::open() {
  auto identified = client_.identify();
  if (!identified) return describe_error(identified.error(), Stage::identify, "identify", false);
  identity_ = *identified;
  identified_ = true;
  // A meter that refuses to negotiate keeps the default packets: slower, still correct.
  if (auto granted = client_.negotiate(options_.packet_size, options_.packets); !granted) {
    if (granted.error().kind != c1218::ErrorKind::response) {
      return note(describe_error(granted.error(), Stage::identify, "negotiate", false),
                  granted.error());
    }
  }
  if (auto done = client_.logon(options_.user_id, options_.user); !done) {
    return note(describe_error(done.error(), Stage::logon, "logon", false), done.error());
  }
  logged_on_ = true;
  if (options_.password) {
    if (auto done = client_.security(*options_.password); !done) {
      return note(describe_error(done.error(), Stage::security, "security", true), done.error());
    }
  }
  return {};
}

Failure MeterSession::note(Failure failure, const c1218::Error& error) {
  if (error.kind != c1218::ErrorKind::response) link_lost_ = true;
  return failure;
}

void MeterSession::close(std::ostream& warnings) {
  if (link_lost_) return;
  if (logged_on_) {
    logged_on_ = false;
    if (auto done = client_.logoff(); !done) {
      warnings << "meterctl: warning: logoff: " << done.error().message << "\n";
      if (done.error().kind != c1218::ErrorKind::response) return;
    }
  }
  if (identified_) {
    identified_ = false;
    if (auto done = client_.terminate(); !done) {
      warnings << "meterctl: warning: terminate: " << done.error().message << "\n";
    }
  }
}

std::uint16_t MeterSession::read_capacity() const noexcept {
  const auto& l = client_.link();
  const std::size_t per_packet = l.packet_size > c1218::kPacketOverhead
                                     ? l.packet_size - c1218::kPacketOverhead
                                     : 1;
  const std::size_t all = per_packet * std::max<std::size_t>(l.nbr_packets, 1);
  return static_cast<std::uint16_t>(
      std::clamp<std::size_t>(all > kReadOverhead ? all - kReadOverhead : 1, 1, 0xFFFF));
}

Failure MeterSession::failure(const c1218::Error& error, std::string_view what) {
  return note(describe_error(error, Stage::work, what, password_given()), error);
}

Outcome<Bytes> MeterSession::read_table(std::uint16_t t) {
  auto data = client_.read(t);
  if (!data) return failure(data.error(), "table " + table_name(t));
  return std::move(*data);
}

Outcome<Bytes> MeterSession::read_table(std::uint16_t t, std::uint32_t offset,
                                        std::uint32_t count) {
  if (count == 0 || offset > c1218::kMaxOffset || count - 1 > c1218::kMaxOffset - offset) {
    return usage_error(fmt::format("offset {} and count {} do not fit a C12.18 partial read "
                                   "(offsets up to {}, count at least 1)",
                                   offset, count, c1218::kMaxOffset));
  }
  Bytes out;
  out.reserve(count);
  while (out.size() < count) {
    const auto at = static_cast<std::uint32_t>(offset + out.size());
    const auto n = static_cast<std::uint16_t>(
        std::min<std::size_t>(read_capacity(), count - out.size()));
    auto data = client_.read(t, at, n);
    if (!data) {
      return failure(data.error(), fmt::format("table {} (octets {}..{})", table_name(t), at,
                                               at + n - 1));
    }
    out.insert(out.end(), data->begin(), data->end());
    if (data->size() < n) break;  // the table ended first
  }
  return out;
}

Outcome<Bytes> MeterSession::read_unsized(std::uint16_t t) {
  Bytes out;
  std::uint16_t chunk = read_capacity();
  for (;;) {
    const auto at = static_cast<std::uint32_t>(out.size());
    if (at > c1218::kMaxOffset) return garbled("table " + table_name(t), "no end");
    auto data = client_.read(t, at, chunk);
    if (!data) {
      const auto& e = data.error();
      if (e.kind == c1218::ErrorKind::response && e.code == c1218::ResponseCode::iar) {
        if (chunk == 1) return out;  // octet `at` is past the end: the table ends there
        chunk = static_cast<std::uint16_t>(chunk / 2);
        continue;
      }
      return failure(e, fmt::format("table {} (from octet {})", table_name(t), at));
    }
    out.insert(out.end(), data->begin(), data->end());
    if (data->size() < chunk) return out;
  }
}

Outcome<Bytes> MeterSession::read_sized(std::uint16_t t, std::size_t header,
                                        std::size_t (*total)(std::span<const std::uint8_t>)) {
  // The size is in the table's first octets; the table is read again if it changed size
  // between the reads (each read builds it anew).
  for (int attempt = 0; attempt < kSizedReadAttempts; ++attempt) {
    auto head = read_table(t, 0, static_cast<std::uint32_t>(header));
    if (!head) return head.failure();
    if (head->size() < header) return garbled("table " + table_name(t), "shorter than its header");
    const std::size_t size = total(*head);
    if (size > std::size_t{c1218::kMaxOffset} + 1) {
      return garbled("table " + table_name(t), fmt::format("a size of {} octets", size));
    }
    auto all = read_table(t, 0, static_cast<std::uint32_t>(size));
    if (!all) return all.failure();
    if (all->size() == size && std::equal(head->begin(), head->end(), all->begin())) return all;
  }
  return Failure{Exit::refused, fmt::format("table {} kept changing while it was read; try again",
                                            table_name(t))};
}

Outcome<Bytes> MeterSession::run_procedure(std::uint16_t number,
                                           std::span<const std::uint8_t> parameters,
                                           std::string_view what) {
  if (parameters.size() > c1219::kMaxProcedureParameters) {
    return usage_error(fmt::format("{}: {} octets of parameters, a procedure takes at most {}",
                                   what, parameters.size(), c1219::kMaxProcedureParameters));
  }
  last_result_.reset();
  const auto sequence = ++sequence_;
  Bytes request{static_cast<std::uint8_t>(number & 0xFF), static_cast<std::uint8_t>(number >> 8),
                sequence};  // selector 0: the response is always posted in ST-8
  request.insert(request.end(), parameters.begin(), parameters.end());
  // A refusal of the procedure's write (sealed, not allowed): the meter still posts its
  // answer, with its reason, in ST-8.
  auto with_reason = [&](Failure f) {
    auto posted = client_.read(table::kProcedureResponse);
    if (posted && posted->size() > kProcedureHeader && (*posted)[0] == request[0] &&
        (*posted)[1] == request[1] && (*posted)[2] == sequence) {
      f.message += "; the meter says: " +
                   std::string(posted->begin() + kProcedureHeader, posted->end());
    }
    return f;
  };
  if (auto written = client_.write(table::kProcedureInitiate, request); !written) {
    const auto& e = written.error();
    const bool refused = e.kind == c1218::ErrorKind::response &&
                         (e.code == c1218::ResponseCode::dlk || e.code == c1218::ResponseCode::isc);
    if (refused) return with_reason(failure(e, what));
    return failure(e, what);
  }
  // ST-8 in one read, or in pieces when the negotiated packets cannot carry it at once.
  auto response = [&]() -> Outcome<Bytes> {
    auto full = client_.read(table::kProcedureResponse);
    if (full) return std::move(*full);
    const auto& e = full.error();
    const bool too_large = e.kind == c1218::ErrorKind::response &&
                           e.code == c1218::ResponseCode::onp &&
                           read_capacity() < c1219::kMaxResponseData + kProcedureHeader;
    if (too_large) return read_unsized(table::kProcedureResponse);
    return failure(e, what);
  }();
  if (!response) return response.failure();
  const Bytes& r = *response;
  if (r.size() < kProcedureHeader || r[0] != request[0] || r[1] != request[1] ||
      r[2] != sequence) {
    return garbled(what, "ST-8 does not answer this procedure");
  }
  const auto result = static_cast<c1219::ProcedureResult>(r[3]);
  last_result_ = result;
  if (result != c1219::ProcedureResult::completed) {
    // A refused write carries the meter's reason as the response data.
    Failure f = describe_result(result, what, password_given());
    if (r.size() > kProcedureHeader) {
      f.message += "; the meter says: " + std::string(r.begin() + kProcedureHeader, r.end());
    }
    return f;
  }
  return Bytes(r.begin() + kProcedureHeader, r.end());
}

Outcome<std::vector<ObjectEntry>> MeterSession::directory() {
  if (directory_) return *directory_;
  auto t = read_sized(table::kObjectDirectory, 2, directory_size);
  if (!t) return t.failure();
  auto entries = decode_directory(*t);
  if (!entries) return garbled("table MT-0", "its length does not match its count");
  directory_ = std::move(*entries);
  return *directory_;
}

Outcome<ObjectEntry> MeterSession::object(const Obis& id) {
  auto all = directory();
  if (!all) return all.failure();
  for (const auto& e : *all) {
    if (e.id == id) return e;
  }
  return Failure{Exit::no_such_object,
                 fmt::format("this meter has no object {}", meter::sdk::to_string(id))};
}

Outcome<Value> MeterSession::read_object(const Obis& id) {
  const std::string name = meter::sdk::to_string(id);
  if (auto known = object(id); !known) return known.failure();
  Bytes parameters;
  put_obis(parameters, id);
  const std::string what = "reading " + name;
  auto response = run_procedure(procedure::kReadObject, parameters, what);
  if (!response) {
    if (last_result_ == c1219::ProcedureResult::invalid_parameter) {
      return Failure{Exit::no_such_object, fmt::format("this meter has no object {}", name)};
    }
    return response.failure();
  }
  const Bytes& r = *response;
  if (r.size() < kObisSize + 1 || !(get_obis(r, 0) == id)) {
    return garbled(what, "MP-5 answered for another object");
  }
  std::string error;
  const auto encoded = std::span<const std::uint8_t>(r).subspan(kObisSize);
  if (auto decoded = c1219::decode_value(encoded, error); decoded && decoded->size == encoded.size()) {
    return std::move(decoded->value);
  }
  const auto type = r[kObisSize];
  if (r.size() < c1219::kMaxResponseData || (type != METER_VALUE_TEXT && type != METER_VALUE_OCTETS)) {
    return garbled(what, error.empty() ? "trailing octets after the value" : error);
  }
  // A long text or octets: MP-5 cut it; MT-2 holds all of it.
  auto whole = read_sized(table::kObjectValue, kObjectValueHeader, object_value_size);
  if (!whole) return whole.failure();
  if (!(get_obis(*whole, 0) == id)) return garbled(what, "MT-2 holds another object");
  const auto value = std::span<const std::uint8_t>(*whole).subspan(kObisSize);
  auto decoded = c1219::decode_value(value, error);
  if (!decoded || decoded->size != value.size()) return garbled(what, error);
  return std::move(decoded->value);
}

Outcome<void> MeterSession::write_object(const Obis& id, const Value& value,
                                         std::string_view what) {
  Bytes parameters;
  put_obis(parameters, id);
  c1219::encode_value(value, parameters);
  if (parameters.size() <= c1219::kMaxProcedureParameters) {
    auto done = run_procedure(procedure::kWriteObject, parameters, what);
    if (!done) return done.failure();
    return {};
  }
  // Too long for one procedure (a 32-day calendar, whole TOU tables): MP-7, in pieces.
  const std::span<const std::uint8_t> encoded =
      std::span<const std::uint8_t>(parameters).subspan(kObisSize);
  if (encoded.size() > c1219::kMaxStagedValue) {
    return usage_error(fmt::format("{}: the value is {} octets, the meter takes at most {}", what,
                                   encoded.size(), c1219::kMaxStagedValue));
  }
  constexpr std::size_t kPiece = c1219::kMaxProcedureParameters - kObisSize - 1;
  for (std::size_t at = 0; at < encoded.size(); at += kPiece) {
    const std::size_t n = std::min(kPiece, encoded.size() - at);
    Bytes piece;
    put_obis(piece, id);
    piece.push_back(static_cast<std::uint8_t>((at == 0 ? procedure::kPieceFirst : 0) |
                                              (at + n == encoded.size() ? procedure::kPieceLast : 0)));
    piece.insert(piece.end(), encoded.begin() + static_cast<std::ptrdiff_t>(at),
                 encoded.begin() + static_cast<std::ptrdiff_t>(at + n));
    auto done = run_procedure(procedure::kWriteObjectPiece, piece, what);
    if (!done) return done.failure();
  }
  return {};
}

}  // namespace meter::apps::meterctl
