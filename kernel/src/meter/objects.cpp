// The kernel's own objects in the registry: energy registers, instantaneous values, the test
// LED, the clock, the display multiplier and the error register. docs/objects.md lists them.
#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "meter/kernel/meter.h"

namespace meter::kernel {

namespace {

constexpr RoleMask kReaders = kAnyRole;

ObjectInfo register_info(Obis id, Unit unit, const char* description) {
  return ObjectInfo{id,    ObjectClass::reg, ValueType::integer, unit, -3, kReaders, kNoRole,
                    ParameterClass::read_only, true, "kernel", description};
}

ObjectInfo value_info(Obis id, Unit unit, const char* description) {
  return ObjectInfo{id,    ObjectClass::reg, ValueType::real, unit, 0, kReaders, kNoRole,
                    ParameterClass::read_only, false, "kernel", description};
}

ObjectInfo data_info(Obis id, ValueType type, const char* description) {
  return ObjectInfo{id,        ObjectClass::data, type, Unit::none, 0, kReaders, kNoRole,
                    ParameterClass::read_only, false, "kernel", description};
}

// Error register bits (0-0:97.97.0).
constexpr std::uint64_t kErrorMeasurement = 1;
constexpr std::uint64_t kErrorClockInvalid = 2;
constexpr std::uint64_t kErrorStorage = 4;
constexpr std::uint64_t kErrorLegalSoftware = 8;

// `text` has the shape of `pattern`: 'd' a digit, anything else itself.
bool shaped(std::string_view text, std::string_view pattern) {
  if (text.size() != pattern.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool digit = text[i] >= '0' && text[i] <= '9';
    if (pattern[i] == 'd' ? !digit : text[i] != pattern[i]) return false;
  }
  return true;
}

// The number of `n` digits at `at` (shaped() has checked they are digits).
int number(std::string_view text, std::size_t at, std::size_t n) {
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) v = v * 10 + (text[i] - '0');
  return v;
}

// A time written to the clock object: local "YYYY-MM-DD HH:MM:SS" in the meter's zone, or UTC
// "YYYY-MM-DDTHH:MM:SSZ". The calendar and the zone's rules are date/tz's.
Result<UtcTime> parse_meter_time(const std::string& text, const date::time_zone& zone) {
  const bool utc = shaped(text, "dddd-dd-ddTdd:dd:ddZ");
  if (!utc && !shaped(text, "dddd-dd-dd dd:dd:dd")) {
    return fail(fmt::format("\"{}\" is not a time: write YYYY-MM-DD HH:MM:SS (local time, {}) or "
                            "YYYY-MM-DDTHH:MM:SSZ (UTC)",
                            text, zone.name()));
  }
  const date::year_month_day ymd{date::year{number(text, 0, 4)},
                                 date::month{static_cast<unsigned>(number(text, 5, 2))},
                                 date::day{static_cast<unsigned>(number(text, 8, 2))}};
  const int hour = number(text, 11, 2);
  const int minute = number(text, 14, 2);
  const int second = number(text, 17, 2);
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 59) {
    return fail(fmt::format("\"{}\" is not a date and time of the calendar", text));
  }
  if (ymd.year() < date::year{2000} || ymd.year() > date::year{2099}) {
    return fail(fmt::format("\"{}\": a meter's time is in the years 2000 to 2099", text));
  }
  const date::local_seconds local = date::local_days{ymd} + std::chrono::hours{hour} +
                                    std::chrono::minutes{minute} + std::chrono::seconds{second};
  if (utc) return UtcTime{local.time_since_epoch()};
  const auto info = zone.get_info(local);
  if (info.result == date::local_info::nonexistent) {
    return fail(fmt::format("{} does not exist in {}: the clocks go forward over it", text,
                            zone.name()));
  }
  if (info.result == date::local_info::ambiguous) {
    return fail(fmt::format("{} happens twice in {} (the clocks go back): write it in UTC as "
                            "YYYY-MM-DDTHH:MM:SSZ",
                            text, zone.name()));
  }
  return UtcTime{local.time_since_epoch() - info.first.offset};
}

}  // namespace

void Meter::register_objects() {
  // Every id below is fixed and distinct, so add() cannot fail here; a clash would be a
  // programming error caught by the kernel's tests (meter_test checks the object count).
  auto add = [this](ObjectInfo info, ObjectReader reader, ObjectWriter writer = {}) {
    (void)objects_.add(std::move(info), std::move(reader), std::move(writer));
  };
  auto reg = [this](EnergyRegister r) { return Value{registers_.mwh(r)}; };

  add(register_info(obis("1-0:1.8.0"), Unit::watt_hour, "active energy import (+A), total"),
      [=] { return reg(EnergyRegister::import_active); });
  add(register_info(obis("1-0:2.8.0"), Unit::watt_hour, "active energy export (-A), total"),
      [=] { return reg(EnergyRegister::export_active); });
  add(register_info(obis("1-0:16.8.0"), Unit::watt_hour, "net active energy, import - export"),
      [this] { return Value{registers_.net_mwh()}; });
  add(register_info(obis("1-0:5.8.0"), Unit::var_hour, "reactive energy, quadrant I"),
      [=] { return reg(EnergyRegister::reactive_q1); });
  add(register_info(obis("1-0:6.8.0"), Unit::var_hour, "reactive energy, quadrant II"),
      [=] { return reg(EnergyRegister::reactive_q2); });
  add(register_info(obis("1-0:7.8.0"), Unit::var_hour, "reactive energy, quadrant III"),
      [=] { return reg(EnergyRegister::reactive_q3); });
  add(register_info(obis("1-0:8.8.0"), Unit::var_hour, "reactive energy, quadrant IV"),
      [=] { return reg(EnergyRegister::reactive_q4); });

  // Billing reset (write 0) and preset (a replacement meter's reading), seed 000 6.1.2.
  auto preset = [this](Obis id, EnergyRegister r, const char* description) {
    ObjectInfo info = register_info(id, Unit::watt_hour, description);
    info.object_class = ObjectClass::data;
    info.parameter_class = ParameterClass::configuration;
    info.write_roles = mask(Role::configurator);
    (void)objects_.add(
        std::move(info), [this, r] { return Value{registers_.mwh(r)}; },
        [this, r](const Value& v) { return registers_.preset(r, std::get<std::int64_t>(v)); });
  };
  preset(kImportPreset, EnergyRegister::import_active,
         "billing reset/preset of +A (1-0:1.8.0): write 0 or a reading in mWh");
  preset(kExportPreset, EnergyRegister::export_active,
         "billing reset/preset of -A (1-0:2.8.0): write 0 or a reading in mWh");

  const auto& m = last_measurements_;
  add(value_info(obis("1-0:1.7.0"), Unit::watt, "active power import (+P)"),
      [&m] { return Value{std::max(m.total_active_power_w, 0.0)}; });
  add(value_info(obis("1-0:2.7.0"), Unit::watt, "active power export (-P)"),
      [&m] { return Value{std::max(-m.total_active_power_w, 0.0)}; });
  add(value_info(obis("1-0:16.7.0"), Unit::watt, "active power, signed (+import)"),
      [&m] { return Value{m.total_active_power_w}; });
  add(value_info(obis("1-0:3.7.0"), Unit::var, "reactive power +Q"),
      [&m] { return Value{std::max(m.total_reactive_power_var, 0.0)}; });
  add(value_info(obis("1-0:4.7.0"), Unit::var, "reactive power -Q"),
      [&m] { return Value{std::max(-m.total_reactive_power_var, 0.0)}; });
  add(value_info(obis("1-0:9.7.0"), Unit::volt_ampere, "apparent power"),
      [&m] { return Value{m.total_apparent_power_va}; });
  add(value_info(obis("1-0:13.7.0"), Unit::none, "power factor, total"),
      [&m] { return Value{m.total_power_factor}; });
  add(value_info(obis("1-0:14.7.0"), Unit::hertz, "supply frequency"),
      [&m] { return Value{m.frequency_hz}; });

  // Per phase: L1 is C = 20..39, L2 40..59, L3 60..79 (IEC 62056-61).
  static constexpr std::array<const char*, 3> kVoltage{"voltage L1", "voltage L2", "voltage L3"};
  static constexpr std::array<const char*, 3> kCurrent{"current L1", "current L2", "current L3"};
  static constexpr std::array<const char*, 3> kImport{"active power import L1",
                                                      "active power import L2",
                                                      "active power import L3"};
  static constexpr std::array<const char*, 3> kExport{"active power export L1",
                                                      "active power export L2",
                                                      "active power export L3"};
  static constexpr std::array<const char*, 3> kPf{"power factor L1", "power factor L2",
                                                  "power factor L3"};
  static constexpr std::array<const char*, 3> kLine{"voltage L1-L2", "voltage L2-L3",
                                                    "voltage L3-L1"};
  for (std::uint8_t p = 0; p < phases_; ++p) {
    const auto base = static_cast<std::uint8_t>(20 * (p + 1));
    auto id = [base](std::uint8_t offset) { return Obis{1, 0, std::uint8_t(base + offset), 7, 0}; };
    add(value_info(id(12), Unit::volt, kVoltage[p]), [&m, p] { return Value{m.voltage_v[p]}; });
    add(value_info(id(11), Unit::ampere, kCurrent[p]), [&m, p] { return Value{m.current_a[p]}; });
    add(value_info(id(1), Unit::watt, kImport[p]),
        [&m, p] { return Value{std::max(m.active_power_w[p], 0.0)}; });
    add(value_info(id(2), Unit::watt, kExport[p]),
        [&m, p] { return Value{std::max(-m.active_power_w[p], 0.0)}; });
    add(value_info(id(13), Unit::none, kPf[p]), [&m, p] { return Value{m.power_factor[p]}; });
  }
  if (polyphase_) {
    for (std::uint8_t p = 0; p < 3; ++p) {
      add(value_info(Obis{1, 0, std::uint8_t(124 + p), 7, 0}, Unit::volt, kLine[p]),
          [&m, p] { return Value{m.line_voltage_v[p]}; });
    }
  }

  // Test LED: constant as pulses per kWh (DLMS convention), window state, re-activation.
  auto kh_info = value_info(obis("1-0:0.3.0"), Unit::per_watt_hour, "test LED meter constant (1/Kh)");
  kh_info.scaler = -3;
  kh_info.legally_relevant = true;
  add(kh_info, [this] { return Value{1e12 / static_cast<double>(led_.kh_nwh())}; });
  add(data_info(obis("0-0:128.1.0"), ValueType::boolean, "test LED active"),
      [this] { return Value{led_.active(clock_.uptime())}; });
  add(data_info(obis("0-0:128.1.2"), ValueType::unsigned_integer, "test LED pulses since power-up"),
      [this] { return Value{led_.pulses_total()}; });
  auto reactivate = data_info(obis("0-0:128.1.3"), ValueType::boolean,
                              "test LED re-activation: write true for another 24 h");
  reactivate.parameter_class = ParameterClass::operational;
  reactivate.write_roles = Role::configurator | Role::calibrator;
  add(
      reactivate, [] { return Value{false}; },
      [this](const Value& v) -> Result<void> {
        if (!std::get<bool>(v)) return fail("write true to re-activate the test LED");
        led_.reactivate(clock_.uptime());
        bus_.publish(TestLedChanged{clock_.now(), true});
        return {};
      });

  add(data_info(obis("0-0:128.2.0"), ValueType::unsigned_integer, "samples refused since power-up"),
      [this] { return Value{metrology_->refused_total()}; });
  add(data_info(obis("0-0:97.97.0"), ValueType::unsigned_integer,
                "error register: bit 0 measurement fault, bit 1 time unknown, "
                "bit 2 storage fault, bit 3 a legally relevant plugin is missing"),
      [this] {
        return Value{(measurement_fault_ ? kErrorMeasurement : 0) |
                     (clock_.valid() ? 0 : kErrorClockInvalid) |
                     (storage_fault_ ? kErrorStorage : 0) |
                     (legal_fault_ ? kErrorLegalSoftware : 0)};
      });
  // The clock: set by a meter shop or a time sync like the time-jump path, through
  // Clock::set_time (TimeChanged, and a time unknown becomes valid).
  auto clock_info = data_info(kClock, ValueType::text,
                              "local date and time; write YYYY-MM-DD HH:MM:SS (local) or "
                              "YYYY-MM-DDTHH:MM:SSZ (UTC) to set it");
  clock_info.object_class = ObjectClass::clock;
  // The time decides the TOU rate and the demand interval a tick is billed to: counted.
  clock_info.parameter_class = ParameterClass::tariff;
  clock_info.write_roles = Role::configurator | Role::calibrator;
  add(
      clock_info,
      [this] {
        if (!clock_.valid()) return Value{std::string("time unknown")};
        const auto t =
            date::make_zoned(clock_.zone(), date::floor<std::chrono::seconds>(clock_.now()));
        return Value{date::format("%F %T %Z", t)};
      },
      [this](const Value& v) -> Result<void> {
        auto t = parse_meter_time(std::get<std::string>(v), *clock_.zone());
        if (!t) return t.error();
        clock_.set_time(*t);
        return {};
      });

  // The display multiplier N (seed 000): the display reads it from here at every screen.
  auto multiplier = data_info(kDisplayMultiplier, ValueType::integer,
                              "display multiplier N (1..240): displayed energy only, never the "
                              "registers");
  multiplier.parameter_class = ParameterClass::configuration;
  multiplier.write_roles = mask(Role::configurator);
  multiplier.legally_relevant = true;
  add(
      multiplier, [this] { return Value{display_multiplier_}; },
      [this](const Value& v) -> Result<void> {
        const auto n = std::get<std::int64_t>(v);
        if (n < 1 || n > kMaxDisplayMultiplier) {
          return fail(fmt::format("display multiplier {} is out of range: N is an integer from 1 "
                                  "to {}",
                                  n, kMaxDisplayMultiplier));
        }
        display_multiplier_ = n;
        return {};
      });
  // Its value survives power cycles with the counter step that witnessed its change.
  (void)gate_.keep(kDisplayMultiplier, "display.multiplier");
  add(data_info(obis("0-0:128.3.0"), ValueType::text, "time zone"),
      [this] { return Value{std::string(clock_.zone_name())}; });
}

}  // namespace meter::kernel
