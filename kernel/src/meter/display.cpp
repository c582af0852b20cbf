// The display.
#include "meter/kernel/display.h"

#include <fmt/format.h>

#include <cmath>

namespace meter::kernel {

namespace {

bool is_energy(Unit u) {
  return u == Unit::watt_hour || u == Unit::var_hour || u == Unit::volt_ampere_hour;
}

std::string kilo_unit(Unit u) {
  switch (u) {
    case Unit::watt_hour: return "kWh";
    case Unit::var_hour: return "kvarh";
    default: return "kVAh";
  }
}

__extension__ using Int128 = __int128;  // energy x 240 x 10^decimals overflows int64

std::int64_t pow10(std::int64_t n) {
  std::int64_t p = 1;
  for (std::int64_t i = 0; i < n; ++i) p *= 10;
  return p;
}

}  // namespace

std::string Screen::to_text() const {
  std::string line = fmt::format("{:<6} {:>12} {:<5}", label, value, unit);
  for (const auto& a : annunciators) line += " " + a;
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

Display::Display(const ObjectRegistry& objects, DisplaySettings settings,
                 std::string firmware_version)
    : objects_(&objects), settings_(std::move(settings)), firmware_version_(std::move(firmware_version)) {}

std::size_t Display::item_at(Uptime uptime) const noexcept {
  if (settings_.items.empty() || settings_.scroll_time.count() <= 0) return 0;
  return static_cast<std::size_t>(uptime / settings_.scroll_time) % settings_.items.size();
}

std::int64_t Display::multiplier() const {
  if (auto v = objects_->read(kDisplayMultiplier, Role::public_read); v) {
    if (const auto* n = std::get_if<std::int64_t>(&*v); n && *n >= 1 && *n <= 240) return *n;
  }
  return settings_.multiplier;
}

std::vector<std::string> Display::annunciators() const {
  std::vector<std::string> out;
  if (auto rc = objects_->read(kRemoteConfigurationMode, Role::public_read); rc) {
    if (const auto* on = std::get_if<bool>(&*rc); on && *on) out.emplace_back("RC");
  }
  if (auto err = objects_->read(kErrorRegister, Role::public_read); err) {
    if (const auto* bits = std::get_if<std::uint64_t>(&*err); bits && *bits != 0) {
      out.push_back(fmt::format("ERR{:02X}", *bits));
    }
  }
  if (auto fill = objects_->read(kEventLogFill, Role::public_read); fill) {
    if (const auto* pct = std::get_if<std::uint64_t>(&*fill); pct && *pct >= kLogWarnPercent) {
      out.push_back(fmt::format("LOG{}%", *pct));
    }
  }
  if (!settings_.metering_point.empty()) out.push_back(settings_.metering_point);
  return out;
}

namespace {

/// An integer object's value with its scaler applied exactly, in decimal: 1234 with scaler -2 is
/// "12.34", -8 with -5 is "-0.00008", 7 with 2 is "700". No floating point: a balance or a
/// counter reads on the LCD exactly as the object holds it.
std::string scaled_text(bool negative, std::uint64_t magnitude, std::int8_t scaler) {
  std::string digits = std::to_string(magnitude);
  if (scaler > 0) {
    digits.append(static_cast<std::size_t>(scaler), '0');
  } else {
    const auto decimals = static_cast<std::size_t>(-scaler);
    if (digits.size() <= decimals) digits.insert(0, decimals + 1 - digits.size(), '0');
    digits.insert(digits.size() - decimals, 1, '.');
  }
  return negative ? "-" + digits : digits;
}

}  // namespace

Screen Display::render_object(const Obis& id) const {
  Screen s;
  s.label = fmt::format("{}.{}.{}", id.c, id.d, id.e);
  const auto* info = objects_->find(id);
  auto value = objects_->read(id, Role::public_read);
  if (info == nullptr || !value) {
    s.value = "------";
    return s;
  }
  if (const auto* n = std::get_if<std::int64_t>(&*value); n && is_energy(info->unit)) {
    // Energy in kWh: value x 10^scaler Wh x N / 1000, truncated to the shown decimals, and
    // rolled over past the shown digits like a register dial.
    const std::int64_t scale_to_kwh = 3 - info->scaler;  // powers of ten from value to kWh
    const auto n_shown = multiplier();
    const auto shown = static_cast<Int128>(*n) * n_shown *
                       pow10(settings_.decimals) / pow10(scale_to_kwh);
    const auto modulus = pow10(settings_.digits);
    const auto wrapped = static_cast<std::int64_t>(shown % modulus);
    const auto whole = wrapped / pow10(settings_.decimals);
    const auto frac = (wrapped < 0 ? -wrapped : wrapped) % pow10(settings_.decimals);
    const auto whole_digits = static_cast<int>(settings_.digits - settings_.decimals);
    s.value = settings_.decimals > 0
                  ? fmt::format("{:0{}}.{:0{}}", whole, whole_digits, frac,
                                static_cast<int>(settings_.decimals))
                  : fmt::format("{:0{}}", whole, whole_digits);
    s.unit = kilo_unit(info->unit);
    if (n_shown > 1) s.annunciators.push_back(fmt::format("x{}", n_shown));
    return s;
  }
  if (const auto* d = std::get_if<double>(&*value)) {
    s.value = fmt::format("{:.2f}", *d * std::pow(10.0, info->scaler));
  } else if (const auto* i = std::get_if<std::int64_t>(&*value); i && info->scaler != 0) {
    s.value = scaled_text(*i < 0, *i < 0 ? 0 - static_cast<std::uint64_t>(*i)
                                         : static_cast<std::uint64_t>(*i), info->scaler);
  } else if (const auto* u = std::get_if<std::uint64_t>(&*value); u && info->scaler != 0) {
    s.value = scaled_text(false, *u, info->scaler);
  } else {
    s.value = to_string(*value);
  }
  s.unit = std::string(unit_symbol(info->unit));
  return s;
}

Screen Display::render(std::size_t item) const {
  Screen s;
  const auto& it = settings_.items.at(item);
  switch (it.kind) {
    case DisplayItem::Kind::object:
      s = render_object(it.id);
      break;
    case DisplayItem::Kind::segment_test: {
      s.label = "TEST";
      std::string all;
      for (std::int64_t i = 0; i < settings_.digits; ++i) all += "8.";
      s.value = all;
      s.unit = "kWh";
      s.annunciators = {"x240", "RC", "ERR", "MP"};  // every annunciator lit
      return s;
    }
    case DisplayItem::Kind::firmware_version:
      s.label = "FW";
      s.value = firmware_version_;
      break;
    case DisplayItem::Kind::software_id: {
      s.label = "ID";
      // The identifier reads "<version> SW <hash>": the LCD shows the short software id.
      auto id = objects_->read(kFirmwareIdentifier, Role::public_read);
      const auto text = id ? to_string(*id) : std::string();
      const auto sw = text.find("SW ");
      s.value = sw != std::string::npos ? text.substr(sw, 11) : std::string("--------");
      break;
    }
  }
  auto extra = annunciators();
  s.annunciators.insert(s.annunciators.end(), extra.begin(), extra.end());
  return s;
}

std::vector<Screen> Display::sequence() const {
  std::vector<Screen> out;
  for (std::size_t i = 0; i < settings_.items.size(); ++i) out.push_back(render(i));
  return out;
}

}  // namespace meter::kernel
