// The time-of-use plugin: host glue around the Engine. Reads the tariff from the site file,
// restores and saves its state in its NVM namespace, meters every EnergyTick into the active
// rate's registers, publishes tou.rate_changed and provides the rate registers and the tariff
// objects that a head-end or the optical port reads and writes through the parameter gate.
#include <bit>
#include <cstring>
#include <deque>
#include <limits>
#include <sstream>
#include <optional>
#include <string>

#include <fmt/format.h>

#include <meter/sdk/config.h>
#include <meter/sdk/plugin.h>

#include "engine.h"
#include "meter/plugins/tou/events.h"
#include "objects.h"

namespace meter::plugins::tou {
namespace {

using sdk::Error;
using sdk::Host;
using sdk::Status;
using sdk::Value;

constexpr const char* kRegistersKey = "registers";  // the rate registers, saved every tick

std::string text_of(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  throw Error(Status::type_mismatch, "tou: expected a text value");
}

[[noreturn]] void refuse(const Host& host, std::string_view what, const std::string& why) {
  host.warning(fmt::format("{} refused: {}", what, why));
  throw Error(Status::invalid_argument, fmt::format("{}: {}", what, why));
}

/// A tariff setting that breaks a rule: refused as configuration, at the setting the message
/// names ("seasons[2].start: ..."), or at `key` itself when the message names no part of it.
template <class T>
T setting(Result<T> r, std::string_view key) {
  if (r) return std::move(r.value());
  if (r.error().compare(0, key.size(), key) == 0) throw sdk::ConfigError::of(r.error(), std::string(key));
  throw sdk::ConfigError(std::string(key), r.error());
}

Engine make_engine(const Host& host) {
  Settings s;
  const auto zone_name = host.config<std::string>("time_zone");
  try {
    s.zone = date::locate_zone(zone_name);
  } catch (const std::exception&) {
    throw sdk::ConfigError("time_zone", fmt::format("\"{}\" is not a time zone of the tz database "
                                                    "(e.g. America/Toronto)", zone_name));
  }
  s.default_rate = setting(parse_rate(host.config<std::string>("default_rate")), "default_rate");
  s.keep_switch_points_on_season_change = host.config<bool>("keep_switch_points_on_season_change");
  s.billing_day = host.config<unsigned>("billing_day");
  Calendar calendar = setting(parse_calendar(sdk::config_array(host, "seasons")), "seasons");
  auto holidays = setting(parse_holidays(sdk::config_array(host, "holidays")), "holidays");
  return Engine(s, std::move(calendar), std::move(holidays));
}

std::string billing_text(const std::deque<BillingRecord>& history) {
  auto list = [](const RateRegisters& r) {
    return fmt::format("[{}, {}, {}, {}]", r[0], r[1], r[2], r[3]);
  };
  std::string out;
  for (const auto& b : history) {
    out += fmt::format("[[billing]]\ndate = {}\nimport_mwh = {}\nexport_mwh = {}\n\n",
                       date::format("%Y-%m-%d", b.day), list(b.import_mwh), list(b.export_mwh));
  }
  return out;
}

std::deque<BillingRecord> parse_billing(const std::string& text) {
  std::deque<BillingRecord> out;
  std::string error;
  auto doc = sdk::parse_toml(text, "billing", error);
  const toml::array* list = doc ? doc->get_as<toml::array>("billing") : nullptr;
  if (list == nullptr) return out;
  for (const auto& node : *list) {
    const toml::table* t = node.as_table();
    const auto d = t ? (*t)["date"].value<toml::date>() : std::nullopt;
    if (!d) continue;
    BillingRecord b;
    b.day = date::local_days{date::year{d->year} / date::month{d->month} / date::day{d->day}};
    for (std::size_t i = 0; i < kRates; ++i) {
      b.import_mwh[i] = (*t)["import_mwh"][i].value_or(std::int64_t{0});
      b.export_mwh[i] = (*t)["export_mwh"][i].value_or(std::int64_t{0});
    }
    out.push_back(b);
  }
  return out;
}

class TouPlugin {
 public:
  explicit TouPlugin(Host& host)
      : host_(host),
        engine_(make_engine(host)) {
    restore();
  }

  void start() {
    provide_objects();
    host_.on<meter_energy_tick>([this](const meter_energy_tick& t) { on_tick(t); });
    host_.on<meter_time_event>([this](const meter_time_event&) { save(false, false); });
    host_.on<meter_power_restore>([this](const meter_power_restore& e) {
      engine_.invalidate();
      if (e.time_valid == 0) after(engine_.enter_time_unknown(), e.time_utc_ms);
    });
    host_.on<meter_time_changed>([this](const meter_time_changed& e) { reevaluate(e.new_time_utc_ms); });
    unsigned changes = 0;
    if (host_.time_valid()) {
      changes = engine_.evaluate(host_.now().time_since_epoch().count());
    } else {
      changes = engine_.enter_time_unknown();
    }
    save((changes & kTablesChanged) != 0, (changes & kBilled) != 0);
    publish_rate(0, now_ms());
  }

  void stop() { save(true, true); }

  Status self_test() {
    return engine_.calendar().seasons.empty() ? Status::error : Status::ok;
  }

 private:
  void on_tick(const meter_energy_tick& t) {
    const Rate before = engine_.rate();
    const unsigned changes =
        engine_.tick(t.time_utc_ms, t.time_valid != 0, t.delta_mwh[0], t.delta_mwh[1]);
    if (changes != 0) [[unlikely]] {
      after(changes, t.time_utc_ms, before);
      return;
    }
    // Every tick, in the tick: the record joins the kernel's tick batch, so after a killed
    // process the rates are of the same tick as the kernel's total and sum to it exactly.
    try {
      save_registers();
      if (store_failing_) [[unlikely]] {
        store_failing_ = false;
        host_.info("tou: the rate registers are stored again");
      }
    } catch (const Error& e) {
      // Kept in RAM and written again next tick; said once, not once a tick.
      if (!store_failing_) host_.error(std::string("tou: storing the rate registers failed: ") + e.what());
      store_failing_ = true;
    }
  }

  /// The rate registers as one record: import 1..4 then export 1..4, int64 little-endian.
  void save_registers() {
    auto& bytes = std::get<std::vector<std::uint8_t>>(registers_record_);
    bytes.resize(8 * 2 * kRates);
    const auto& imp = engine_.import_mwh();
    const auto& exp = engine_.export_mwh();
    if constexpr (std::endian::native == std::endian::little) {  // the stored form as it is
      std::memcpy(bytes.data(), imp.data(), 8 * kRates);
      std::memcpy(bytes.data() + 8 * kRates, exp.data(), 8 * kRates);
    } else {
      auto put = [&](std::size_t at, std::int64_t v) {
        for (std::size_t b = 0; b < 8; ++b) {
          bytes[8 * at + b] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(v) >> (8 * b));
        }
      };
      for (std::size_t i = 0; i < kRates; ++i) {
        put(i, imp[i]);
        put(kRates + i, exp[i]);
      }
    }
    host_.nvm().put(kRegistersKey, registers_record_);
  }

  void after(unsigned changes, std::int64_t time_utc_ms, std::optional<Rate> before = {}) {
    save((changes & kTablesChanged) != 0, (changes & kBilled) != 0);
    if ((changes & kRateChanged) != 0) {
      publish_rate(before ? static_cast<std::int32_t>(*before) : 0, time_utc_ms);
    }
  }

  void reevaluate(std::int64_t now_utc_ms) {
    const Rate before = engine_.rate();
    engine_.invalidate();
    const unsigned changes = host_.time_valid() ? engine_.evaluate(now_utc_ms)
                                                : engine_.enter_time_unknown();
    after(changes, now_utc_ms, before);
  }

  void publish_rate(std::int32_t previous, std::int64_t time_utc_ms) {
    meter_tou_rate_changed e{};
    e.struct_size = sizeof e;
    e.rate = static_cast<std::int32_t>(engine_.rate());
    e.previous_rate = previous;
    e.reason = static_cast<std::int32_t>(engine_.reason());
    e.day_type = engine_.day_type() ? static_cast<std::int32_t>(*engine_.day_type()) : 0;
    e.time_utc_ms = time_utc_ms;
    host_.publish(METER_TOU_RATE_CHANGED_TOPIC, &e, sizeof e);
  }

  // ----- NVM -------------------------------------------------------------------------------

  void restore() {
    auto nvm = host_.nvm();
    const std::string config_text = to_text(engine_.calendar());
    const auto text = [&](const char* key) -> std::optional<std::string> {
      auto v = nvm.get(key);
      if (v && std::holds_alternative<std::string>(*v)) return std::get<std::string>(*v);
      return std::nullopt;
    };
    RateRegisters imp{}, exp{};
    const auto packed = nvm.get(kRegistersKey);
    const auto* bytes = packed ? std::get_if<std::vector<std::uint8_t>>(&*packed) : nullptr;
    if (packed && (bytes == nullptr || bytes->size() != 8 * 2 * kRates)) {
      host_.error("tou: the stored rate registers are damaged; restoring from the records of "
                  "the earlier layout, if any");
    }
    if (bytes != nullptr && bytes->size() == 8 * 2 * kRates) {
      auto get = [&](std::size_t at) {
        std::uint64_t v = 0;
        for (std::size_t b = 0; b < 8; ++b) v |= std::uint64_t{(*bytes)[8 * at + b]} << (8 * b);
        return static_cast<std::int64_t>(v);
      };
      for (std::size_t i = 0; i < kRates; ++i) {
        imp[i] = get(i);
        exp[i] = get(kRates + i);
      }
    } else {
      // A store written before the registers were one record; the first save replaces them.
      const auto integer = [&](const std::string& key) -> std::int64_t {
        const auto v = nvm.get(key);
        if (!v) return 0;
        legacy_registers_ = true;
        const auto* i = std::get_if<std::int64_t>(&*v);
        return i != nullptr ? *i : 0;
      };
      for (std::size_t i = 0; i < kRates; ++i) {
        imp[i] = integer(legacy_key("import", i));
        exp[i] = integer(legacy_key("export", i));
      }
    }
    engine_.restore_registers(imp, exp);
    std::optional<date::local_days> last;
    if (auto v = nvm.get("last_billed")) last = date::local_days{date::days{std::get<std::int64_t>(*v)}};
    engine_.restore_billing(parse_billing(text("billing").value_or("")), last);
    // Downloaded tables survive a restart; a site file with a new tariff replaces them.
    if (text("config") == config_text) {
      if (auto c = text("calendar")) {
        if (auto parsed = parse_calendar_text(*c)) engine_.restore_calendar(std::move(parsed.value()));
      }
      engine_.restore_valid_season(text("valid_season").value_or(""), now_ms(),
                                   host_.time_valid());
      engine_.restore_pending_season(text("pending_season").value_or(""));
    } else {
      host_.info("tou: tariff from the site file (new or changed); switch points valid for the season in force");
    }
    if (auto p = text("passive"); p && !p->empty()) {
      if (auto parsed = parse_passive_text(*p)) engine_.set_passive(std::move(parsed.value()));
    }
    if (auto d = text("day_calendar"); d && !d->empty()) {
      if (auto parsed = parse_day_calendar_text(*d)) engine_.set_day_calendar(std::move(parsed.value()));
    }
    if (auto o = text("override"); o && !o->empty()) {
      if (auto parsed = parse_override_text(*o)) {
        (void)engine_.set_override(std::move(parsed.value()), std::numeric_limits<std::int64_t>::min());
      }
    }
    config_text_ = config_text;
  }

  void save(bool tables, bool billing) {
    auto nvm = host_.nvm();
    nvm.transaction([&] {
      save_registers();
      if (legacy_registers_) {
        // One copy of the registers in the store: the earlier layout's records go with the
        // first save of the new one, in the same transaction.
        for (std::size_t i = 0; i < kRates; ++i) {
          nvm.erase(legacy_key("import", i));
          nvm.erase(legacy_key("export", i));
        }
      }
      if (tables) {
        nvm.put("config", config_text_);
        nvm.put("calendar", to_text(engine_.calendar()));
        nvm.put("valid_season", engine_.valid_season());
        nvm.put("pending_season", engine_.pending_season());
        nvm.put("passive", engine_.passive() ? to_text(*engine_.passive()) : std::string());
        nvm.put("day_calendar", engine_.day_calendar() ? to_text(*engine_.day_calendar()) : std::string());
        nvm.put("override", engine_.override_table() ? to_text(*engine_.override_table()) : std::string());
      }
      if (billing) {
        nvm.put("billing", billing_text(engine_.billing()));
        if (auto last = engine_.last_billed()) {
          nvm.put("last_billed", static_cast<std::int64_t>(last->time_since_epoch().count()));
        }
      }
    });
    legacy_registers_ = false;
  }

  /// "import.1".."export.4": the rate registers' records before they were one record.
  static std::string legacy_key(std::string_view direction, std::size_t rate) {
    return fmt::format("{}.{}", direction, rate + 1);
  }

  // ----- objects ---------------------------------------------------------------------------

  void provide_objects() {
    for (std::size_t i = 0; i < kRates; ++i) {
      const char r = static_cast<char>('A' + i);
      host_.provide({.id = kImportRegisters[i], .type = METER_VALUE_INTEGER,
                     .unit = METER_UNIT_WATT_HOUR, .scaler = -3, .legally_relevant = true,
                     .description = fmt::format("Active energy import (+A), rate {}, mWh", r)},
                    [this, i] { return engine_.import_mwh()[i]; });
      host_.provide({.id = kExportRegisters[i], .type = METER_VALUE_INTEGER,
                     .unit = METER_UNIT_WATT_HOUR, .scaler = -3, .legally_relevant = true,
                     .description = fmt::format("Active energy export (-A), rate {}, mWh", r)},
                    [this, i] { return engine_.export_mwh()[i]; });
    }
    host_.provide({.id = kCurrentRate, .type = METER_VALUE_UNSIGNED,
                   .description = "Active rate: 1..4 for A..D"},
                  [this] { return static_cast<std::uint64_t>(engine_.rate()); });
    host_.provide({.id = kBillingHistory, .type = METER_VALUE_TEXT,
                   .description = "Last 12 billing self-reads (TOML [[billing]])"},
                  [this] { return billing_text(engine_.billing()); });
    host_.provide({.id = kActiveCalendar, .type = METER_VALUE_TEXT,
                   .description = "Active calendar: seasons and switch points (TOML)"},
                  [this] {
                    const auto& pending = engine_.pending_season();
                    return fmt::format("valid_season = \"{}\"\n{}{}", engine_.valid_season(),
                                       pending.empty() ? std::string()
                                                       : fmt::format("pending_season = \"{}\"\n",
                                                                     pending),
                                       to_text(engine_.calendar()));
                  });
    provide_writable(kSwitchPoints, "Switch points download for one season (TOML)",
                     [this] { return switch_points_text(); },
                     [this](const std::string& text) { download_switch_points(text); });
    provide_writable(kPassiveCalendar, "Passive calendar with activation time (TOML); empty cancels",
                     [this] { return engine_.passive() ? to_text(*engine_.passive()) : std::string(); },
                     [this](const std::string& text) { download_passive(text); });
    provide_writable(kDayCalendar, "32-day calendar of day types (TOML)",
                     [this] { return engine_.day_calendar() ? to_text(*engine_.day_calendar()) : std::string(); },
                     [this](const std::string& text) { download_day_calendar(text); });
    provide_writable(kOverride, "Tier override: start, stop, switch points (TOML); empty cancels",
                     [this] { return engine_.override_table() ? to_text(*engine_.override_table()) : std::string(); },
                     [this](const std::string& text) { download_override(text); });
  }

  template <class Reader, class Writer>
  void provide_writable(sdk::Obis id, std::string description, Reader reader, Writer writer) {
    // Each decides which rate register a tick's energy goes to: a tariff parameter, counted
    // and recorded by the gate, sealed where the product says so.
    host_.provide({.id = id, .type = METER_VALUE_TEXT, .write_roles = METER_ROLE_CONFIGURATOR,
                   .parameter_class = METER_PARAMETER_TARIFF,
                   .description = std::move(description)},
                  std::move(reader),
                  [writer = std::move(writer)](const Value& v) { writer(text_of(v)); });
  }

  std::string switch_points_text() const {
    if (!host_.time_valid()) return {};
    const auto now = host_.now().time_since_epoch().count();
    const Season& s = engine_.season_at(now);
    std::string out = fmt::format("season = \"{}\"\nvalid = {}\n", s.name,
                                  engine_.season_key_at(now) == engine_.valid_season() ? "true"
                                                                                       : "false");
    for (auto d : {DayType::weekday, DayType::weekend, DayType::holiday1, DayType::holiday2}) {
      out += fmt::format("{} = {}\n", name_of(d), to_text(s.days[index_of(d)]));
    }
    return out;
  }

  std::int64_t now_ms() const { return host_.now().time_since_epoch().count(); }

  void applied() {
    save(true, false);
    if (host_.time_valid()) reevaluate(now_ms());
  }

  void download_switch_points(const std::string& text) {
    std::string body = text;
    // "valid" is what a read reports; a download may echo it back.
    if (auto doc = parse_switch_points_text(text); !doc) {
      std::string error;
      auto table = sdk::parse_toml(text, "switch points", error);
      if (!table || !table->contains("valid")) refuse(host_, "switch points", doc.error());
      table->erase("valid");
      std::ostringstream out;
      out << toml::toml_formatter(*table);
      body = out.str();
    }
    auto parsed = parse_switch_points_text(body);
    if (!parsed) refuse(host_, "switch points", parsed.error());
    if (auto error = engine_.download_switch_points(parsed.value(), now_ms(), host_.time_valid());
        !error.empty()) {
      refuse(host_, "switch points", error);
    }
    applied();
  }

  void download_passive(const std::string& text) {
    if (text.empty()) {
      engine_.set_passive(std::nullopt);
    } else {
      auto parsed = parse_passive_text(text);
      if (!parsed) refuse(host_, "passive calendar", parsed.error());
      engine_.set_passive(std::move(parsed.value()));
    }
    applied();
  }

  void download_day_calendar(const std::string& text) {
    auto parsed = parse_day_calendar_text(text);
    if (!parsed) refuse(host_, "day calendar", parsed.error());
    engine_.set_day_calendar(std::move(parsed.value()));
    applied();
  }

  void download_override(const std::string& text) {
    std::optional<Override> o;
    if (!text.empty()) {
      auto parsed = parse_override_text(text);
      if (!parsed) refuse(host_, "override", parsed.error());
      o = std::move(parsed.value());
    }
    if (auto error = engine_.set_override(std::move(o), now_ms()); !error.empty()) {
      refuse(host_, "override", error);
    }
    applied();
  }

  Host& host_;
  Engine engine_;
  Value registers_record_{std::vector<std::uint8_t>(8 * 2 * kRates)};  // reused every tick
  bool legacy_registers_ = false;  // restored from import.N/export.N, not yet replaced
  bool store_failing_ = false;     // the last per-tick write failed (logged once)
  std::string config_text_;
};

}  // namespace
}  // namespace meter::plugins::tou

METER_PLUGIN(meter::plugins::tou::TouPlugin)
