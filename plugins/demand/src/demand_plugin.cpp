// The demand plugin: reads its settings, feeds the engine from the bus (ticks, power and clock
// events, the TOU plugin's rate changes), keeps its state in its NVM namespace (in every
// tick, with the kernel's registers; at a reset, at power failure and at stop), and provides
// the demand objects and the demand reset that a head-end or the optical port writes through
// the parameter gate.
#include <cstring>
#include <optional>
#include <string>
#include <variant>

#include <fmt/format.h>

#include <meter/sdk/config.h>
#include <meter/sdk/plugin.h>

#include "engine.h"
#include "meter/plugins/demand/events.h"
#include "meter/plugins/tou/events.h"
#include "objects.h"

namespace meter::plugins::demand {
namespace {

using sdk::Error;
using sdk::Host;
using sdk::Status;
using sdk::Value;

constexpr std::string_view kStateKey = "state";
constexpr sdk::Obis kCurrentRate = sdk::obis("0-0:96.14.0");

/// "2026-01-05T17:15:00Z"; empty for 0 (no such time).
std::string utc_text(std::int64_t ms) {
  if (ms == 0) return {};
  const std::int64_t s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  std::int64_t days = s >= 0 ? s / 86400 : (s - 86399) / 86400;
  const std::int64_t sod = s - days * 86400;
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", y, m, d, sod / 3600, sod % 3600 / 60,
                     sod % 60);
}

std::string quantity_name(const Quantity& q) {
  const char* reg = q.reg == Register::import_active ? "import (+A)" : "export (-A)";
  if (q.rate == 0) return fmt::format("{}, total", reg);
  return fmt::format("{}, rate {}", reg, static_cast<char>('A' + q.rate - 1));
}

Settings read_settings(const Host& host) {
  Settings s;
  s.interval_s = host.config<std::int64_t>("interval_min") * 60;
  s.subintervals = host.config<std::uint32_t>("subintervals");
  s.sync_outage_ms = host.config<std::int64_t>("sync_required_after_outage_h") * 3'600'000;
  s.cold_load_intervals = host.config<std::uint32_t>("cold_load_pickup_intervals");
  s.reset_lockout_ms = host.config<std::int64_t>("reset_lockout_min") * 60'000;
  for (const auto& node : sdk::config_array(host, "quantities")) {
    const toml::table* t = node.as_table();
    if (t == nullptr) throw sdk::ConfigError("quantities", "each quantity is a table");
    Quantity q;
    const std::string reg = (*t)["register"].value_or(std::string("1-0:1.8.0"));
    q.reg = reg == "1-0:2.8.0" ? Register::export_active : Register::import_active;
    const std::string rate = (*t)["rate"].value_or(std::string("total"));
    q.rate = rate == "total" ? 0 : static_cast<std::uint8_t>(rate.at(0) - 'A' + 1);
    s.quantities.push_back(q);
  }
  if (const std::string error = check_settings(s); !error.empty()) {
    throw sdk::ConfigError::of(error);
  }
  return s;
}

}  // namespace

class DemandPlugin {
 public:
  explicit DemandPlugin(Host& host) : host_(host), engine_(read_settings(host)) { restore(); }

  void start() {
    provide_objects();
    if (const auto rate = host_.read(kCurrentRate)) {
      if (const auto* r = std::get_if<std::uint64_t>(&*rate)) {
        engine_.on_rate_changed(static_cast<std::int32_t>(*r), 0);
      }
    }
    host_.on<meter_energy_tick>([this](const meter_energy_tick& t) {
      engine_.on_tick(t);
      // Every tick, in the tick: the state (the open subinterval, the window, the maxima and
      // the cumulative) joins the kernel's tick batch, so after a killed process demand is of
      // the same tick as the kernel's registers.
      store([&] { host_.nvm().put(kStateKey, state_record()); });
    });
    host_.on<meter_time_event>([this](const meter_time_event&) {
      engine_.on_power_fail();
      save();
    });
    host_.on<meter_power_restore>([this](const meter_power_restore& e) {
      engine_.on_power_restore(e.time_utc_ms, e.outage_ms);
      if (engine_.awaiting_time_sync()) {
        host_.warning(fmt::format(
            "demand: outage of {} s is longer than {} s; no demand until the time is synchronised",
            e.outage_ms / 1000, engine_.settings().sync_outage_ms / 1000));
      }
      save();
    });
    host_.on<meter_time_changed>([this](const meter_time_changed& e) {
      engine_.on_time_changed(e.new_time_utc_ms, host_.time_valid());
      save();
    });
    host_.on_topic(METER_TOU_RATE_CHANGED_TOPIC, [this](const meter_plugin_event& e) {
      meter_tou_rate_changed rc{};
      if (e.payload == nullptr || e.size < offsetof(meter_tou_rate_changed, time_utc_ms) +
                                               sizeof rc.time_utc_ms) {
        return;
      }
      std::memcpy(&rc, e.payload, std::min(e.size, sizeof rc));
      engine_.on_rate_changed(rc.rate, rc.time_utc_ms);
      // TOU publishes from its tick handler, after this plugin may have stored the tick: the
      // tick's energy may have moved to the new rate's quantity, so store again, in the same
      // tick (rate changes are a few a day).
      store([&] { host_.nvm().put(kStateKey, state_record()); });
    });
    engine_.resume(host_.now().time_since_epoch().count(), host_.time_valid());
    save();
  }

  void stop() { save(); }

  Status self_test() const {
    return check_settings(engine_.settings()).empty() ? Status::ok : Status::error;
  }

 private:
  void restore() {
    const auto state = host_.nvm().get(kStateKey);
    if (!state) return;
    const auto* bytes = std::get_if<std::vector<std::uint8_t>>(&*state);
    if (bytes == nullptr || !engine_.restore_state(bytes->data(), bytes->size())) {
      host_.error("demand: the stored demand state is damaged; maxima and cumulative demand "
                  "start from zero");
    }
  }

  void save() {
    store([&] {
      sdk::Nvm nvm = host_.nvm();
      nvm.transaction([&] { nvm.put(kStateKey, state_record()); });
    });
  }

  /// The state in the record buffer the plugin reuses: no allocation once it has its size.
  const Value& state_record() {
    engine_.write_state(std::get<std::vector<std::uint8_t>>(state_record_));
    return state_record_;
  }

  /// Runs a write; a failure is kept in RAM and written again at the next tick (demand goes
  /// on), and said once, not once a tick.
  template <class Write>
  void store(Write&& write) {
    try {
      write();
      if (store_failing_) [[unlikely]] {
        store_failing_ = false;
        host_.info("demand: the state is stored again");
      }
    } catch (const Error& e) {
      if (!store_failing_) host_.error(std::string("demand: saving failed: ") + e.what());
      store_failing_ = true;
    }
  }

  void reset_demand(const Value& v) {
    const auto* yes = std::get_if<bool>(&v);
    if (yes == nullptr || !*yes) {
      throw Error(Status::invalid_argument, "demand reset: write true to reset");
    }
    const std::int64_t now_ms = host_.now().time_since_epoch().count();
    meter_demand_reset e{};
    e.struct_size = sizeof e;
    e.quantities = static_cast<std::uint32_t>(engine_.quantities());
    for (std::size_t q = 0; q < engine_.quantities(); ++q) {
      const QuantityValues before = engine_.values(q);
      e.maximum_mw[q] = before.maximum_mw;
      e.maximum_time_utc_ms[q] = before.maximum_time_ms;
      const sdk::Obis id = quantity_obis(engine_.settings().quantities[q], Kind::maximum);
      const std::uint8_t code[6] = {id.a, id.b, id.c, id.d, id.e, id.f};
      std::memcpy(e.obis[q], code, sizeof code);
    }
    if (!engine_.reset(now_ms)) {
      const std::string why = fmt::format(
          "demand reset refused: locked out for another {} s after the reset at {}",
          (engine_.lockout_remaining_ms() + 999) / 1000, utc_text(engine_.last_reset_ms()));
      host_.warning(why);
      throw Error(Status::unavailable, why);
    }
    for (std::size_t q = 0; q < engine_.quantities(); ++q) {
      e.cumulative_mw[q] = engine_.values(q).cumulative_mw;
    }
    e.reset_count = engine_.reset_count();
    e.time_utc_ms = now_ms;
    e.lockout_ms = engine_.lockout_remaining_ms();
    save();
    host_.info(fmt::format("demand: reset {} at {}", e.reset_count, utc_text(now_ms)));
    host_.publish(METER_DEMAND_RESET_TOPIC, &e, sizeof e);
  }

  void provide_objects() {
    for (std::size_t q = 0; q < engine_.quantities(); ++q) {
      const Quantity& quantity = engine_.settings().quantities[q];
      const std::string name = quantity_name(quantity);
      const auto demand = [&](Kind kind, std::string what, auto member) {
        host_.provide({.id = quantity_obis(quantity, kind), .type = METER_VALUE_INTEGER,
                       .unit = METER_UNIT_WATT, .scaler = -3, .legally_relevant = true,
                       .description = fmt::format("{} demand, {}, mW", what, name)},
                      [this, q, member] { return engine_.values(q).*member; });
      };
      demand(Kind::present, "Current average", &QuantityValues::present_mw);
      demand(Kind::previous, "Last average (previous interval)", &QuantityValues::previous_mw);
      demand(Kind::maximum, "Maximum", &QuantityValues::maximum_mw);
      demand(Kind::cumulative, "Cumulative", &QuantityValues::cumulative_mw);
      demand(Kind::continuous_cumulative, "Continuously cumulative",
             &QuantityValues::continuous_cumulative_mw);
      host_.provide({.id = quantity_obis(quantity, Kind::maximum_time), .type = METER_VALUE_TEXT,
                     .legally_relevant = true,
                     .description = fmt::format("Time of the maximum demand, {}, UTC", name)},
                    [this, q] { return utc_text(engine_.values(q).maximum_time_ms); });
    }
    host_.provide({.id = kResetObject, .type = METER_VALUE_BOOLEAN,
                   .write_roles = METER_ROLE_CONFIGURATOR,
                   .parameter_class = METER_PARAMETER_OPERATIONAL, .legally_relevant = true,
                   .description = "Demand reset: write true; reads true while a reset is allowed"},
                  [this] { return engine_.lockout_remaining_ms() == 0; },
                  [this](const Value& v) { reset_demand(v); });
    host_.provide({.id = kResetCount, .type = METER_VALUE_UNSIGNED, .legally_relevant = true,
                   .description = "Demand resets carried out"},
                  [this] { return engine_.reset_count(); });
    host_.provide({.id = kResetTime, .type = METER_VALUE_TEXT, .legally_relevant = true,
                   .description = "Time of the last demand reset, UTC"},
                  [this] { return utc_text(engine_.last_reset_ms()); });
    host_.provide({.id = kLockoutRemaining, .type = METER_VALUE_UNSIGNED,
                   .description = "Seconds of metered time before another demand reset is allowed"},
                  [this] {
                    return static_cast<std::uint64_t>((engine_.lockout_remaining_ms() + 999) / 1000);
                  });
    host_.provide({.id = kStatus, .type = METER_VALUE_UNSIGNED,
                   .description = "Demand status bits: last interval's flags and the state now"},
                  [this] { return static_cast<std::uint64_t>(engine_.status()); });
  }

  Host& host_;
  Engine engine_;
  Value state_record_{std::vector<std::uint8_t>()};  // reused every tick
  bool store_failing_ = false;  // the last write failed (logged once)
};

}  // namespace meter::plugins::demand

METER_PLUGIN(meter::plugins::demand::DemandPlugin)
