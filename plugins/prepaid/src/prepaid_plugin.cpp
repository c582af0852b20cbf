// The prepaid plugin: reads its settings, debits the credit pool with each tick's import energy
// at the active source's price, takes tokens and the emergency credit selection through the
// parameter gate, trips and closes the sources' relays (credit, current limit, over-voltage,
// friendly-credit periods), publishes the low-credit warning, and keeps the account in its NVM
// namespace: the account in every tick (it commits with the kernel's registers, so after a
// killed process the credit is of the tick the import register is of), and one transaction per
// purchase, selection, refusal, power failure and stop. Energy the import register holds beyond
// the account's reading (a store from before, a write that failed) is debited at start, so
// credit survives anything the registers survive.
#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include <meter/sdk/config.h>
#include <meter/sdk/plugin.h>

#include "friendly.h"
#include "ledger.h"
#include "meter/plugins/prepaid/events.h"
#include "meter/plugins/prepaid/history_format.h"
#include "money.h"
#include "objects.h"
#include "protection.h"
#include "state.h"
#include "token.h"
#include "used_tokens.h"

namespace meter::plugins::prepaid {
namespace {

using sdk::Error;
using sdk::Host;
using sdk::Status;
using sdk::Value;

// Who may write the keypad's objects: anybody (keypad, button), a reader, the shop; and the
// meter shop's alone.
constexpr std::uint8_t kRolesAll = METER_ROLE_ANY;
constexpr std::uint8_t kRolesMeterShop = METER_ROLE_CONFIGURATOR | METER_ROLE_CALIBRATOR;
constexpr sdk::Obis kImportRegister = sdk::obis("1-0:1.8.0");
constexpr const char* kAccountKey = "account";
constexpr const char* kIdsKey = "used_ids";
constexpr const char* kHistoryKey = "history";
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

struct Settings {
  std::string currency;
  int decimals = 2;
  std::vector<std::string> source_names;
  LedgerSettings ledger;
  ProtectionSettings protection;
  std::size_t initial_source = 0;
  std::int64_t initial_credit_milli = 0;
  std::int64_t maximum_credit_milli = 0;
  MeterKey key{};
  std::int64_t validity_ms = 0;
  std::int64_t tolerance_ms = 0;
  std::size_t window = 100;
  std::uint32_t lockout_after = 0;
  std::int64_t lockout_ms = 0;
  std::size_t history_records = 10;
  FriendlySettings friendly;
  bool friendly_when_time_unknown = true;
};

[[noreturn]] void refuse(const Host& /*host*/, const std::string& why) {
  throw sdk::ConfigError::of(why);
}

Settings read_settings(const Host& host) {
  Settings s;
  s.currency = host.config<std::string>("currency");
  s.decimals = host.config<int>("currency_decimals");
  for (const auto& node : sdk::config_array(host, "sources")) {
    const toml::table* t = node.as_table();
    if (t == nullptr) refuse(host, "sources: each source is a table");
    const std::size_t i = s.source_names.size();
    const std::string name = (*t)["name"].value_or(std::string{});
    if (std::find(s.source_names.begin(), s.source_names.end(), name) != s.source_names.end()) {
      refuse(host, fmt::format("sources: \"{}\" is named twice", name));
    }
    s.source_names.push_back(name);
    s.ledger.price_milli_per_kwh[i] = (*t)["price_per_kwh"].value_or(std::int64_t{0});
    s.protection.relay[i] = static_cast<std::uint32_t>((*t)["relay"].value_or(std::int64_t{0}));
    s.protection.current_limit_a[i] = (*t)["current_limit_a"].value_or(0.0);
  }
  if (s.source_names.empty() || s.source_names.size() > kMaxSources) {
    refuse(host, "sources: 1 to 4 sources");
  }
  s.ledger.sources = s.protection.sources = s.source_names.size();
  const auto minor = [&](const char* key) {
    return host.config<std::int64_t>(key) * kMilliPerMinor;
  };
  s.ledger.emergency_initial_limit_milli = minor("emergency_credit_initial_limit");
  s.ledger.emergency_limit_milli = minor("emergency_credit_limit");
  s.ledger.emergency_threshold_milli = minor("emergency_credit_threshold");
  s.initial_credit_milli = minor("initial_credit");
  s.maximum_credit_milli = minor("maximum_credit");
  const std::string active = host.config<std::string>("active_source");
  if (!active.empty()) {
    const auto it = std::find(s.source_names.begin(), s.source_names.end(), active);
    if (it == s.source_names.end()) {
      refuse(host, fmt::format("active_source: \"{}\" is not one of the sources", active));
    }
    s.initial_source = static_cast<std::size_t>(it - s.source_names.begin());
  }
  const auto key = parse_meter_key(host.config<std::string>("meter_key"));
  if (!key) refuse(host, "meter_key: not 64 hexadecimal digits");
  s.key = *key;
  s.validity_ms = host.config<std::int64_t>("token_validity_days") * 86'400'000;
  s.tolerance_ms = host.config<std::int64_t>("token_clock_tolerance_h") * 3'600'000;
  s.window = host.config<std::size_t>("used_token_window");
  s.lockout_after = host.config<std::uint32_t>("token_lockout_after");
  s.lockout_ms = host.config<std::int64_t>("token_lockout_min") * 60'000;
  s.history_records = host.config<std::size_t>("history_records");
  s.protection.over_voltage_v = host.config<double>("over_voltage_v");
  s.protection.restore_ms = host.config<std::int64_t>("protection_restore_s") * 1000;

  const std::string zone = host.config<std::string>("time_zone");
  try {
    s.friendly.zone = date::locate_zone(zone);
  } catch (const std::exception&) {
    refuse(host, fmt::format("time_zone: \"{}\" is not a time zone of the tz database", zone));
  }
  for (const auto& node : sdk::config_array(host, "friendly_hours")) {
    const SpanParse span = parse_span(node.value_or(std::string{}));
    if (!span.error.empty()) refuse(host, "friendly_hours: " + span.error);
    s.friendly.hours.push_back(span.span);
  }
  for (const auto& node : sdk::config_array(host, "friendly_days")) {
    const std::uint8_t bit = weekday_bit(node.value_or(std::string{}));
    if (bit == 0) refuse(host, "friendly_days: a weekday is sun, mon, tue, wed, thu, fri or sat");
    s.friendly.weekdays |= bit;
  }
  for (const auto& node : sdk::config_array(host, "friendly_holidays")) {
    const std::string text = node.value_or(std::string{});
    date::sys_days day;
    if (!parse_date(text, day)) refuse(host, "friendly_holidays: \"" + text + "\" is not a date");
    s.friendly.holidays.insert(day);
  }
  s.friendly_when_time_unknown = host.config<bool>("friendly_when_time_unknown");
  return s;
}

const char* result_name(std::uint8_t result) {
  switch (result) {
    case METER_PREPAID_TOKEN_NONE: return "none";
    case METER_PREPAID_TOKEN_ACCEPTED: return "accepted";
    case METER_PREPAID_TOKEN_MALFORMED: return "malformed";
    case METER_PREPAID_TOKEN_BAD_MAC: return "bad-mac";
    case METER_PREPAID_TOKEN_USED: return "used";
    case METER_PREPAID_TOKEN_TOO_OLD: return "too-old";
    case METER_PREPAID_TOKEN_EXPIRED: return "expired";
    case METER_PREPAID_TOKEN_NOT_YET_VALID: return "not-yet-valid";
    case METER_PREPAID_TOKEN_LOCKED_OUT: return "locked-out";
    case METER_PREPAID_TOKEN_UNKNOWN_CLASS: return "unknown-class";
    case METER_PREPAID_TOKEN_OVER_MAXIMUM: return "over-maximum";
    case METER_PREPAID_TOKEN_ZERO_AMOUNT: return "zero-amount";
    default: return "unknown";
  }
}

const char* emergency_name(EmergencyState s) {
  switch (s) {
    case EmergencyState::off: return "off";
    case EmergencyState::selectable: return "selectable";
    case EmergencyState::in_use: return "in use";
    case EmergencyState::exhausted: return "exhausted";
    case EmergencyState::not_offered: return "not offered";
  }
  return "unknown";
}

std::string reasons_text(std::uint8_t reasons) {
  if (reasons == 0) return "closed";
  std::string out = "open:";
  if (reasons & kReasonCredit) out += " credit";
  if (reasons & kReasonOverCurrent) out += " over-current";
  if (reasons & kReasonOverVoltage) out += " over-voltage";
  return out;
}

/// "2026-01-05T17:15:00Z".
std::string utc_text(std::int64_t ms) {
  const date::sys_time<std::chrono::seconds> t{std::chrono::seconds{
      ms >= 0 ? ms / 1000 : (ms - 999) / 1000}};
  return date::format("%Y-%m-%dT%H:%M:%SZ", t);
}

/// The outcome of judging a token.
struct TokenOutcome {
  std::uint8_t result = METER_PREPAID_TOKEN_MALFORMED;
  std::uint32_t id = 0;
  std::int64_t amount_milli = 0;
};

}  // namespace

class PrepaidPlugin {
 public:
  explicit PrepaidPlugin(Host& host)
      : host_(host),
        settings_(read_settings(host)),
        ledger_(settings_.ledger),
        protection_(settings_.protection),
        calendar_(settings_.friendly),
        used_(settings_.window) {
    restore();
  }

  void start() {
    catch_up();
    const std::int64_t now = now_ms();
    refresh_friendly(now, host_.time_valid());
    provide_objects();
    host_.on<meter_energy_tick>([this](const meter_energy_tick& t) { on_tick(t); });
    host_.on<meter_measurements>([this](const meter_measurements& m) { on_measurements(m); });
    host_.on<meter_time_event>([this](const meter_time_event&) { save(false); });
    host_.on<meter_power_restore>([this](const meter_power_restore& e) {
      refresh_friendly(e.time_utc_ms, e.time_valid != 0);
      update(e.time_utc_ms);
      store_account();
    });
    host_.on<meter_time_changed>([this](const meter_time_changed& e) {
      refresh_friendly(e.new_time_utc_ms, true);
      update(e.new_time_utc_ms);
      store_account();
    });
    host_.on<meter_midnight>([this](const meter_midnight& m) { daily_statement(m); });
    credit_trip_ = (protection_.reasons(0) & kReasonCredit) != 0;
    emergency_state_ = ledger_.emergency_state();
    low_credit_ = ledger_.low_credit();
    publish_low_credit(now, false);
    for (std::size_t s = 0; s < sources(); ++s) published_reasons_[s] = protection_.reasons(s);
    update(now);
    command_relays(now);  // every relay not commanded yet: the state restored is asserted
    day_debited_milli_ = ledger_.values().total_debited_milli;
    save(true);
  }

  void stop() { save(false); }

  Status self_test() const {
    const LedgerValues& v = ledger_.values();
    std::int64_t sum = 0;
    for (const std::int64_t d : v.debited_milli) sum += d;
    const bool ok = sum == v.total_debited_milli &&
                    v.emergency_used_milli <= v.emergency_granted_milli && active_ < sources();
    return ok ? Status::ok : Status::error;
  }

 private:
  std::size_t sources() const noexcept { return settings_.source_names.size(); }
  std::int64_t now_ms() const { return host_.now().time_since_epoch().count(); }
  std::string money(std::int64_t milli) const {
    return money_text(milli, settings_.decimals) + " " + settings_.currency;
  }

  // ----- the metering path --------------------------------------------------------------

  void on_tick(const meter_energy_tick& t) {
    const std::int64_t before = t.total_mwh[0] - t.delta_mwh[0];
    if (!register_known_ || before != register_mwh_) [[unlikely]] {
      rebase(before);
    }
    register_mwh_ = t.total_mwh[0];
    if (t.delta_mwh[0] > 0) ledger_.debit(active_, t.delta_mwh[0]);
    if (protection_.waiting()) [[unlikely]] {
      relays_changed_ = protection_.elapse(t.duration_ms) || relays_changed_;
    }
    if (lockout_ms_ > 0) [[unlikely]] {
      lockout_ms_ -= t.duration_ms;
      if (lockout_ms_ <= 0) {
        lockout_ms_ = 0;
        refusals_in_a_row_ = 0;
        host_.info("prepaid: token entry is open again");
      }
    }
    if (t.time_valid != 0) {
      if (!friendly_known_ || t.time_utc_ms >= friendly_until_ms_) [[unlikely]] {
        refresh_friendly(t.time_utc_ms, true);
      }
    } else if (friendly_known_) [[unlikely]] {
      refresh_friendly(t.time_utc_ms, false);
    }
    update(t.time_utc_ms);
    // Every tick, in the tick: the account joins the kernel's tick batch, so after a killed
    // process the balance and the totals are of the same tick as the import register.
    store_account();
  }

  /// The import register moved other than by the ticks (a billing reset or preset, or the
  /// first tick without a reading): from now on the credit follows it from `reading`.
  void rebase(std::int64_t reading) {
    if (register_known_) {
      host_.info(fmt::format("prepaid: the import register moved from {} to {} mWh outside the "
                             "ticks (reset or preset); nothing is debited for that",
                             register_mwh_, reading));
    }
    register_known_ = true;
    register_mwh_ = reading;
  }

  /// Acts on whatever changed: the credit trip, the relays, the warning, the emergency state.
  /// Comparisons only unless something changed.
  void update(std::int64_t now) {
    const bool paid = ledger_.supply_paid();
    // A friendly period defers a disconnection; it does not reconnect a relay already open.
    const bool trip = paid ? false : (friendly_ ? credit_trip_ : true);
    if (trip != credit_trip_) [[unlikely]] {
      credit_trip_ = trip;
      relays_changed_ = protection_.set_credit(trip) || relays_changed_;
      if (trip) {
        host_.warning(fmt::format("prepaid: credit exhausted at {} (credit {}, emergency credit "
                                  "{}): the supply is disconnected",
                                  utc_text(now), money(ledger_.values().credit_milli),
                                  emergency_name(ledger_.emergency_state())));
      } else {
        host_.info(fmt::format("prepaid: credit restored at {} (credit {}): the supply is "
                               "reconnected",
                               utc_text(now), money(ledger_.values().credit_milli)));
      }
    }
    if (!paid && !trip && !deferral_logged_) [[unlikely]] {
      deferral_logged_ = true;
      host_.warning(fmt::format("prepaid: credit exhausted at {} during a friendly-credit "
                                "period: no disconnection until it ends; the debt grows",
                                utc_text(now)));
    } else if (paid) {
      deferral_logged_ = false;
    }
    if (relays_changed_) [[unlikely]] command_relays(now);
    if (const bool low = ledger_.low_credit(); low != low_credit_) [[unlikely]] {
      low_credit_ = low;
      publish_low_credit(now, true);
    }
    if (const EmergencyState es = ledger_.emergency_state(); es != emergency_state_) [[unlikely]] {
      host_.info(fmt::format("prepaid: emergency credit {} -> {} at {} (balance {})",
                             emergency_name(emergency_state_), emergency_name(es), utc_text(now),
                             money(ledger_.emergency_balance_milli())));
      emergency_state_ = es;
    }
  }

  void on_measurements(const meter_measurements& m) {
    double current = 0;
    double voltage = 0;
    const int phases = std::clamp(m.phases, 0, METER_MAX_PHASES);
    for (int p = 0; p < phases; ++p) {
      current = std::max(current, m.current_a[p]);
      voltage = std::max(voltage, m.voltage_v[p]);
    }
    const std::uint8_t before = protection_.reasons(active_);
    if (protection_.on_measurements(active_, current, voltage)) {
      const std::uint8_t now_reasons = protection_.reasons(active_);
      if ((now_reasons & ~before) & kReasonOverCurrent) {
        host_.warning(fmt::format("prepaid: {} current {:.1f} A is above its limit {:.1f} A",
                                  settings_.source_names[active_], current,
                                  settings_.protection.current_limit_a[active_]));
      }
      if ((now_reasons & ~before) & kReasonOverVoltage) {
        host_.warning(fmt::format("prepaid: voltage {:.1f} V is above the limit {:.1f} V", voltage,
                                  settings_.protection.over_voltage_v));
      }
      relays_changed_ = true;
      update(m.time_utc_ms);
      // Delivered in the tick, after EnergyTick: the trip commits with this tick.
      store_account();
    }
  }

  /// Sets each relay the sources use as protection says, when it differs from what was
  /// commanded (nothing is, after start); publishes each source whose reasons changed.
  void command_relays(std::int64_t now) {
    relays_changed_ = false;
    std::array<bool, kMaxRelays> used{};
    for (std::size_t s = 0; s < sources(); ++s) used[settings_.protection.relay[s]] = true;
    for (std::uint32_t r = 0; r < kMaxRelays; ++r) {
      if (!used[r]) continue;
      const bool open = protection_.relay_open(r);
      if (commanded_[r] == static_cast<std::int8_t>(open)) continue;
      const Status status = host_.trip_relay(r, open);
      if (status == Status::ok) {
        commanded_[r] = static_cast<std::int8_t>(open);
      } else {
        host_.error(fmt::format("prepaid: relay {} could not be {}: {}", r,
                                open ? "opened" : "closed", sdk::to_string(status)));
      }
    }
    for (std::size_t s = 0; s < sources(); ++s) {
      const std::uint8_t reasons = protection_.reasons(s);
      if (reasons == published_reasons_[s]) continue;
      published_reasons_[s] = reasons;
      host_.info(fmt::format("prepaid: {} relay {} at {}: {}", settings_.source_names[s],
                             settings_.protection.relay[s], utc_text(now), reasons_text(reasons)));
      meter_prepaid_relay e{};
      e.struct_size = sizeof e;
      e.source = static_cast<std::int32_t>(s + 1);
      e.relay = static_cast<std::int32_t>(settings_.protection.relay[s]);
      e.reasons = reasons;
      e.credit_milli = ledger_.values().credit_milli;
      e.time_utc_ms = now;
      host_.publish(METER_PREPAID_RELAY_TOPIC, &e, sizeof e);
    }
  }

  /// The warning's state as an event; `changed` also logs a warning that starts.
  void publish_low_credit(std::int64_t now, bool changed) {
    meter_prepaid_low_credit e{};
    e.struct_size = sizeof e;
    e.warning = low_credit_ ? 1 : 0;
    e.credit_milli = ledger_.values().credit_milli;
    e.threshold_milli = settings_.ledger.emergency_threshold_milli;
    e.time_utc_ms = now;
    host_.publish(METER_PREPAID_LOW_CREDIT_TOPIC, &e, sizeof e);
    if (changed && low_credit_) {
      host_.warning(fmt::format("prepaid: low credit at {}: {} is below the threshold {}; the "
                                "credit will expire",
                                utc_text(now), money(e.credit_milli), money(e.threshold_milli)));
    }
  }

  void refresh_friendly(std::int64_t now, bool time_valid) {
    friendly_known_ = time_valid;
    if (!time_valid) {
      friendly_ = settings_.friendly_when_time_unknown;
      friendly_until_ms_ = kNever;
    } else if (!calendar_.any()) {
      friendly_ = false;
      friendly_until_ms_ = kNever;
    } else {
      const FriendlyAt f = calendar_.at(now);
      friendly_ = f.friendly;
      friendly_until_ms_ = f.until_utc_ms;
    }
  }

  void daily_statement(const meter_midnight& m) {
    const LedgerValues& v = ledger_.values();
    host_.info(fmt::format("prepaid: {:04}-{:02}-{:02} 00:00: credit {}, debited since the last "
                           "statement {}, emergency credit {}",
                           m.year, m.month, m.day, money(v.credit_milli),
                           money(v.total_debited_milli - day_debited_milli_),
                           emergency_name(ledger_.emergency_state())));
    day_debited_milli_ = v.total_debited_milli;
  }

  // ----- tokens and the customer's buttons -------------------------------------------------

  TokenOutcome judge(const std::string& text, std::int64_t now, bool time_valid) const {
    TokenOutcome o;
    if (lockout_ms_ > 0) {
      o.result = METER_PREPAID_TOKEN_LOCKED_OUT;
      return o;
    }
    const TokenDecode d = decode_token(settings_.key, text);
    if (!d.fields) {
      o.result = d.defect == TokenDefect::bad_mac         ? METER_PREPAID_TOKEN_BAD_MAC
                 : d.defect == TokenDefect::unknown_class ? METER_PREPAID_TOKEN_UNKNOWN_CLASS
                 : d.defect == TokenDefect::zero_amount   ? METER_PREPAID_TOKEN_ZERO_AMOUNT
                                                          : METER_PREPAID_TOKEN_MALFORMED;
      return o;
    }
    o.id = d.fields->id;
    switch (used_.check(o.id)) {
      case IdVerdict::used: o.result = METER_PREPAID_TOKEN_USED; return o;
      case IdVerdict::too_old: o.result = METER_PREPAID_TOKEN_TOO_OLD; return o;
      case IdVerdict::fresh: break;
    }
    if (time_valid) {
      const std::int64_t issued = token_id_time_ms(o.id);
      if (issued > now + settings_.tolerance_ms) {
        o.result = METER_PREPAID_TOKEN_NOT_YET_VALID;
        return o;
      }
      if (now - issued > settings_.validity_ms) {
        o.result = METER_PREPAID_TOKEN_EXPIRED;
        return o;
      }
    }
    const std::int64_t amount = std::int64_t{d.fields->amount_minor} * kMilliPerMinor;
    const LedgerValues& v = ledger_.values();
    const std::int64_t after = v.credit_milli + amount - std::min(amount, v.emergency_used_milli);
    if (after > settings_.maximum_credit_milli) {
      o.result = METER_PREPAID_TOKEN_OVER_MAXIMUM;
      return o;
    }
    o.result = METER_PREPAID_TOKEN_ACCEPTED;
    o.amount_milli = amount;
    return o;
  }

  void enter_token(const Value& value) {
    const auto* text = std::get_if<std::string>(&value);
    if (text == nullptr) throw Error(Status::type_mismatch, "a token is text: 20 digits");
    const std::int64_t now = now_ms();
    const bool time_valid = host_.time_valid();
    const TokenOutcome o = judge(*text, now, time_valid);
    last_result_ = o.result;
    last_token_id_ = o.id;
    if (o.result == METER_PREPAID_TOKEN_ACCEPTED) {
      ledger_.purchase(o.amount_milli);
      used_.add(o.id);
      history_.insert(history_.begin(), Purchase{time_valid ? now : 0, o.amount_milli,
                                                 ledger_.values().credit_milli, o.id});
      if (history_.size() > settings_.history_records) history_.resize(settings_.history_records);
      ++tokens_accepted_;
      refusals_in_a_row_ = 0;
      host_.info(fmt::format("prepaid: token {} accepted at {}: +{}, credit {}", o.id,
                             utc_text(now), money(o.amount_milli),
                             money(ledger_.values().credit_milli)));
      update(now);
      save(true);
    } else {
      ++tokens_refused_;
      if (o.result != METER_PREPAID_TOKEN_LOCKED_OUT) ++refusals_in_a_row_;
      host_.warning(fmt::format("prepaid: token refused at {}: {}{}", utc_text(now),
                                result_name(o.result),
                                o.id != 0 ? fmt::format(" (token id {})", o.id) : std::string{}));
      if (settings_.lockout_after != 0 && refusals_in_a_row_ >= settings_.lockout_after &&
          lockout_ms_ == 0) {
        lockout_ms_ = settings_.lockout_ms;
        host_.warning(fmt::format("prepaid: {} tokens refused in a row: token entry is locked "
                                  "for {} min",
                                  refusals_in_a_row_, settings_.lockout_ms / 60'000));
      }
      save(false);
    }
    meter_prepaid_token e{};
    e.struct_size = sizeof e;
    e.result = o.result;
    e.token_id = o.id;
    e.amount_milli = o.result == METER_PREPAID_TOKEN_ACCEPTED ? o.amount_milli : 0;
    e.credit_milli = ledger_.values().credit_milli;
    e.time_utc_ms = now;
    host_.publish(METER_PREPAID_TOKEN_TOPIC, &e, sizeof e);
    if (o.result != METER_PREPAID_TOKEN_ACCEPTED) {
      throw Error(Status::invalid_argument, std::string("token refused: ") + result_name(o.result));
    }
  }

  void select_emergency(const Value& value) {
    const auto* yes = std::get_if<bool>(&value);
    if (yes == nullptr || !*yes) {
      throw Error(Status::invalid_argument, "emergency credit: write true to select it");
    }
    const std::int64_t now = now_ms();
    const std::int64_t limit = ledger_.applicable_limit_milli();
    if (const auto refusal = ledger_.select_emergency()) {
      const char* why = *refusal == SelectRefusal::credit_left ? "the credit has not run out"
                        : *refusal == SelectRefusal::already_granted
                            ? "emergency credit is granted already; a purchase repays it"
                            : "no emergency credit is offered";
      host_.warning(std::string("prepaid: emergency credit refused: ") + why);
      throw Error(Status::unavailable, std::string("emergency credit refused: ") + why);
    }
    host_.info(fmt::format("prepaid: emergency credit of {} selected at {}", money(limit),
                           utc_text(now)));
    update(now);
    save(false);
  }

  void select_source(const Value& value) {
    const auto* n = std::get_if<std::uint64_t>(&value);
    if (n == nullptr || *n < 1 || *n > sources()) {
      throw Error(Status::invalid_argument,
                  fmt::format("active source: 1 .. {} (a source's number)", sources()));
    }
    const auto source = static_cast<std::size_t>(*n - 1);
    if (source == active_) return;
    const std::int64_t now = now_ms();
    host_.info(fmt::format("prepaid: at {} the load is supplied by {} ({} per kWh), was {}",
                           utc_text(now), settings_.source_names[source],
                           money(settings_.ledger.price_milli_per_kwh[source]),
                           settings_.source_names[active_]));
    active_ = source;
    update(now);
    save(false);
  }

  // ----- NVM -------------------------------------------------------------------------------

  AccountState account() const {
    AccountState a;
    a.ledger = ledger_.values();
    a.protection = protection_.values();
    a.active_source = static_cast<std::uint8_t>(active_);
    a.register_known = register_known_;
    a.register_mwh = register_mwh_;
    a.tokens_accepted = tokens_accepted_;
    a.tokens_refused = tokens_refused_;
    a.refusals_in_a_row = refusals_in_a_row_;
    a.lockout_ms = lockout_ms_;
    a.last_result = last_result_;
    a.last_token_id = last_token_id_;
    return a;
  }

  std::vector<std::uint8_t> history_octets() const {
    std::vector<std::uint8_t> out;
    encode_history(history_, static_cast<std::uint8_t>(settings_.decimals), out);
    return out;
  }

  /// The account in the record buffer the plugin reuses: no allocation once it has its size.
  const Value& account_record() {
    encode_account(account(), std::get<std::vector<std::uint8_t>>(account_record_));
    return account_record_;
  }

  /// The account alone, one record: what every tick writes.
  void store_account() {
    store([&] { host_.nvm().put(kAccountKey, account_record()); });
  }

  /// One transaction: the account, and with `purchase` the used ids and the history too.
  void save(bool purchase) {
    store([&] {
      sdk::Nvm nvm = host_.nvm();
      nvm.transaction([&] {
        nvm.put(kAccountKey, account_record());
        if (purchase) {
          nvm.put(kIdsKey, encode_ids(used_.ids()));
          nvm.put(kHistoryKey, history_octets());
        }
      });
    });
  }

  /// Runs a write. A failure is kept in RAM and written again in the next tick (metering goes
  /// on), and said once, not once a tick.
  template <class Write>
  void store(Write&& write) {
    try {
      write();
      if (store_failing_) [[unlikely]] {
        store_failing_ = false;
        host_.info("prepaid: the account is stored again");
      }
    } catch (const Error& e) {
      if (!store_failing_) {
        host_.error(std::string("prepaid: saving the account failed: ") + e.what());
      }
      store_failing_ = true;
    }
  }

  void restore() {
    sdk::Nvm nvm = host_.nvm();
    restore_account(nvm);
    restore_purchases(nvm);
  }

  void restore_account(sdk::Nvm& nvm) {
    const auto stored = nvm.get(kAccountKey);
    if (!stored) {
      ledger_.commission(settings_.initial_credit_milli);
      active_ = settings_.initial_source;
      host_.info(fmt::format("prepaid: a new account with {} of commissioning credit",
                             money(settings_.initial_credit_milli)));
      return;
    }
    const auto* bytes = std::get_if<std::vector<std::uint8_t>>(&*stored);
    const auto a = bytes ? decode_account(bytes->data(), bytes->size()) : std::nullopt;
    if (!a) {
      // Never a second commissioning credit: the utility restores the balance it knows.
      LedgerValues empty;
      empty.initial_limit_available = false;
      ledger_.restore(empty);
      active_ = settings_.initial_source;
      host_.error("prepaid: the stored account is damaged; the credit starts at zero until the "
                  "utility restores it");
      return;
    }
    ledger_.restore(a->ledger);
    protection_.restore(a->protection);
    active_ = a->active_source < sources() ? a->active_source : settings_.initial_source;
    register_known_ = a->register_known;
    register_mwh_ = a->register_mwh;
    tokens_accepted_ = a->tokens_accepted;
    tokens_refused_ = a->tokens_refused;
    refusals_in_a_row_ = a->refusals_in_a_row;
    lockout_ms_ = a->lockout_ms;
    last_result_ = a->last_result;
    last_token_id_ = a->last_token_id;
  }

  /// The recharge history and the used token ids; kept apart from the account, so that a damaged
  /// account still refuses replays.
  void restore_purchases(sdk::Nvm& nvm) {
    if (const auto h = nvm.get(kHistoryKey)) {
      const auto* b = std::get_if<std::vector<std::uint8_t>>(&*h);
      auto decoded = b ? decode_history(b->data(), b->size()) : std::nullopt;
      if (decoded) {
        history_ = std::move(decoded->newest_first);
        if (history_.size() > settings_.history_records) {
          history_.resize(settings_.history_records);
        }
      } else {
        host_.error("prepaid: the stored recharge history is damaged; it starts again");
      }
    }
    const auto ids = nvm.get(kIdsKey);
    if (!ids) return;
    const auto* b = std::get_if<std::vector<std::uint8_t>>(&*ids);
    auto decoded = b ? decode_ids(b->data(), b->size()) : std::nullopt;
    if (decoded) {
      used_.restore(std::move(*decoded));
      return;
    }
    std::optional<std::uint32_t> newest;
    for (const Purchase& p : history_) newest = std::max(newest.value_or(0), p.token_id);
    if (last_result_ == METER_PREPAID_TOKEN_ACCEPTED) {
      newest = std::max(newest.value_or(0), last_token_id_);
    }
    if (newest) {
      used_.refuse_up_to(*newest);
      host_.error(fmt::format("prepaid: the stored token ids are damaged: tokens issued up to the "
                              "newest purchase known (token id {}) are refused",
                              *newest));
    } else {
      host_.error("prepaid: the stored token ids are damaged and no purchase is known: a "
                  "replayed token cannot be told");
    }
  }

  /// Debits what the import register holds beyond the account's reading: a store written by an
  /// earlier version (which saved the account every 15 min), or a write that failed.
  void catch_up() {
    const auto reading = host_.read(kImportRegister);
    std::optional<std::int64_t> mwh;
    if (reading) {
      if (const auto* i = std::get_if<std::int64_t>(&*reading)) mwh = *i;
      if (const auto* u = std::get_if<std::uint64_t>(&*reading)) {
        mwh = static_cast<std::int64_t>(*u);
      }
    }
    if (!mwh) {
      register_known_ = false;  // the first tick gives the reading
      return;
    }
    if (register_known_ && *mwh > register_mwh_) {
      const std::int64_t missed = *mwh - register_mwh_;
      const std::int64_t milli = ledger_.debit(active_, missed);
      host_.info(fmt::format("prepaid: {} mWh metered after the last save debited now: {} on {}",
                             missed, money(milli), settings_.source_names[active_]));
    } else if (register_known_ && *mwh < register_mwh_) {
      host_.warning(fmt::format("prepaid: the import register reads {} mWh, less than {} mWh "
                                "at the last save; nothing is debited or refunded",
                                *mwh, register_mwh_));
    }
    register_known_ = true;
    register_mwh_ = *mwh;
  }

  // ----- objects ---------------------------------------------------------------------------

  void provide_objects() {
    const auto scaler = static_cast<std::int8_t>(-milli_places(settings_.decimals));
    const auto money_object = [&](sdk::Obis id, std::string what, auto reader) {
      host_.provide({.id = id, .type = METER_VALUE_INTEGER, .unit = METER_UNIT_CURRENCY,
                     .scaler = scaler, .legally_relevant = true,
                     .description = what + ", " + settings_.currency},
                    std::move(reader));
    };
    money_object(kAvailableCredit, "Available credit (below zero: debt)",
                 [this] { return ledger_.values().credit_milli; });
    money_object(kTotalPurchase, "Total purchase",
                 [this] { return ledger_.values().total_purchase_milli; });
    money_object(kTotalDebited, "Total debited for energy",
                 [this] { return ledger_.values().total_debited_milli; });
    money_object(kEmergencyBalance, "Emergency credit balance",
                 [this] { return ledger_.emergency_balance_milli(); });
    money_object(kEmergencyUsed, "Emergency credit used, repaid from the next purchase",
                 [this] { return ledger_.values().emergency_used_milli; });
    money_object(kEmergencyLimitOffered, "Emergency credit a selection grants now",
                 [this] { return ledger_.emergency_state() == EmergencyState::selectable
                                     ? ledger_.applicable_limit_milli()
                                     : std::int64_t{0}; });
    money_object(kEmergencyThreshold, "Emergency credit threshold (low-credit warning)",
                 [this] { return settings_.ledger.emergency_threshold_milli; });
    host_.provide({.id = kEmergencyState, .type = METER_VALUE_UNSIGNED, .legally_relevant = true,
                   .description = "Emergency credit: 1 off, 2 selectable, 3 in use, 4 exhausted, "
                                  "5 not offered"},
                  [this] { return static_cast<std::uint64_t>(ledger_.emergency_state()); });
    host_.provide({.id = kEmergencySelect, .type = METER_VALUE_BOOLEAN, .write_roles = kRolesAll,
                   .parameter_class = METER_PARAMETER_OPERATIONAL, .legally_relevant = true,
                   .description = "Select emergency credit (button): write true; reads true "
                                  "while selectable"},
                  [this] { return ledger_.emergency_state() == EmergencyState::selectable; },
                  [this](const Value& v) { select_emergency(v); });
    host_.provide({.id = kLowCredit, .type = METER_VALUE_BOOLEAN,
                   .description = "Low-credit warning: the credit will expire"},
                  [this] { return low_credit_; });
    host_.provide({.id = kTokenEntry, .type = METER_VALUE_TEXT, .write_roles = kRolesAll,
                   .parameter_class = METER_PARAMETER_OPERATIONAL, .legally_relevant = true,
                   .description = "Token entry: write the 20 digits; reads the last result"},
                  [this] { return std::string(result_name(last_result_)); },
                  [this](const Value& v) { enter_token(v); });
    host_.provide({.id = kLastTokenResult, .type = METER_VALUE_UNSIGNED,
                   .description = "Last token: 1 none, 2 accepted, 3 malformed, 4 bad MAC, "
                                  "5 used, 6 too old, 7 expired, 8 not yet valid, 9 locked out, "
                                  "10 unknown class, 11 over maximum, 12 zero amount"},
                  [this] { return std::uint64_t{last_result_}; });
    host_.provide({.id = kTokensAccepted, .type = METER_VALUE_UNSIGNED, .legally_relevant = true,
                   .description = "Tokens accepted"},
                  [this] { return tokens_accepted_; });
    host_.provide({.id = kTokensRefused, .type = METER_VALUE_UNSIGNED,
                   .description = "Tokens refused"},
                  [this] { return tokens_refused_; });
    host_.provide({.id = kTokenLockout, .type = METER_VALUE_UNSIGNED, .unit = METER_UNIT_SECOND,
                   .description = "Metered seconds before token entry opens again"},
                  [this] { return static_cast<std::uint64_t>((lockout_ms_ + 999) / 1000); });
    host_.provide({.id = kRechargeHistory, .type = METER_VALUE_OCTETS, .legally_relevant = true,
                   .description = "Recharge history, newest first (layout: history_format.h)"},
                  [this] { return history_octets(); });
    host_.provide({.id = kActiveSource, .type = METER_VALUE_UNSIGNED,
                   .write_roles = kRolesMeterShop,
                   .parameter_class = METER_PARAMETER_OPERATIONAL, .legally_relevant = true,
                   .description = "Source supplying the load now (1..n); its price applies"},
                  [this] { return static_cast<std::uint64_t>(active_ + 1); },
                  [this](const Value& v) { select_source(v); });
    host_.provide({.id = kFriendlyPeriod, .type = METER_VALUE_BOOLEAN,
                   .description = "Friendly-credit period now: no disconnection for credit"},
                  [this] { return friendly_; });
    host_.provide({.id = kOverCurrentTrips, .type = METER_VALUE_UNSIGNED,
                   .description = "Over-current trips"},
                  [this] { return protection_.values().over_current_trips; });
    host_.provide({.id = kOverVoltageTrips, .type = METER_VALUE_UNSIGNED,
                   .description = "Over-voltage trips"},
                  [this] { return protection_.values().over_voltage_trips; });
    for (std::size_t s = 0; s < sources(); ++s) {
      const std::string& name = settings_.source_names[s];
      host_.provide({.id = source_obis(SourceObject::price, s), .type = METER_VALUE_INTEGER,
                     .unit = METER_UNIT_NONE, .scaler = scaler, .legally_relevant = true,
                     .description = fmt::format("Price per kWh, {}, {}", name, settings_.currency)},
                    [this, s] { return settings_.ledger.price_milli_per_kwh[s]; });
      host_.provide({.id = source_obis(SourceObject::energy, s), .type = METER_VALUE_INTEGER,
                     .unit = METER_UNIT_WATT_HOUR, .scaler = -3, .legally_relevant = true,
                     .description = fmt::format("Import energy billed on {}", name)},
                    [this, s] { return ledger_.values().energy_mwh[s]; });
      host_.provide({.id = source_obis(SourceObject::relay_state, s),
                     .type = METER_VALUE_UNSIGNED,
                     .description = fmt::format("Relay of {}: 0 closed; open for 1 credit, 2 "
                                                "over-current, 4 over-voltage",
                                                name)},
                    [this, s] { return std::uint64_t{protection_.reasons(s)}; });
      host_.provide({.id = source_obis(SourceObject::debited, s), .type = METER_VALUE_INTEGER,
                     .unit = METER_UNIT_CURRENCY, .scaler = scaler, .legally_relevant = true,
                     .description = fmt::format("Debited for energy on {}, {}", name,
                                                settings_.currency)},
                    [this, s] { return ledger_.values().debited_milli[s]; });
    }
  }

  Host& host_;
  Settings settings_;
  Ledger ledger_;
  Protection protection_;
  FriendlyCalendar calendar_;
  UsedTokens used_;
  std::vector<Purchase> history_;
  std::size_t active_ = 0;
  bool register_known_ = false;
  std::int64_t register_mwh_ = 0;
  std::uint64_t tokens_accepted_ = 0;
  std::uint64_t tokens_refused_ = 0;
  std::uint32_t refusals_in_a_row_ = 0;
  std::int64_t lockout_ms_ = 0;
  std::uint8_t last_result_ = METER_PREPAID_TOKEN_NONE;
  std::uint32_t last_token_id_ = 0;
  // Not kept: derived again at start.
  bool friendly_ = false;
  bool friendly_known_ = false;
  std::int64_t friendly_until_ms_ = kNever;
  bool credit_trip_ = false;
  bool deferral_logged_ = false;
  bool low_credit_ = false;
  EmergencyState emergency_state_ = EmergencyState::off;
  bool relays_changed_ = false;
  std::array<std::int8_t, kMaxRelays> commanded_{-1, -1, -1, -1};
  std::array<std::uint8_t, kMaxSources> published_reasons_{};
  Value account_record_{std::vector<std::uint8_t>(kAccountBytes)};  // reused every tick
  bool store_failing_ = false;  // the last write failed (logged once)
  std::int64_t day_debited_milli_ = 0;
};

}  // namespace meter::plugins::prepaid

METER_PLUGIN(meter::plugins::prepaid::PrepaidPlugin)
