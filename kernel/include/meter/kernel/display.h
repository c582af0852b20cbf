// The display: a programmable sequential list of objects on the LCD (seeds 000, 002, 004).
//
// It reads the meter only through the object registry. Energy is shown in kWh (kvarh, kVAh)
// with the configured digits and decimals, truncated, never rounded up, and multiplied by the
// display multiplier N (1..240): the registers are never touched. N is the meter's object
// 0-0:128.8.0, read at every screen, so a write through the gate shows at once; a registry
// without it (a test rig) uses the settings' multiplier. Every screen identifies its
// item and unit; annunciators show the multiplier, remote-configuration mode, a fault, and the
// metering point when one display serves several.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "meter/kernel/obis.h"
#include "meter/kernel/registry.h"
#include "meter/kernel/time.h"

namespace meter::kernel {

/// One item of the scroll list.
struct DisplayItem {
  enum class Kind : std::uint8_t { object = 1, segment_test, firmware_version, software_id };
  Kind kind = Kind::object;
  Obis id{};
  std::string text;  ///< as configured
};

struct DisplaySettings {
  std::vector<DisplayItem> items;
  Milliseconds scroll_time{6000};
  /// 1..240, displayed energy only; the meter's 0-0:128.8.0 when it has one
  std::int64_t multiplier = 1;
  std::int64_t digits = 6;      ///< digits of an energy value, decimals included
  std::int64_t decimals = 1;
  std::string metering_point;   ///< shown on every screen when set
};

/// What the LCD shows for one item.
struct Screen {
  std::string label;  ///< the item's identifier: "1.8.0", "TEST", "FW", "ID"
  std::string value;  ///< the digits or text
  std::string unit;   ///< "kWh", "V", ""
  std::vector<std::string> annunciators;  ///< "x10", "RC", "ERR", "MP1"
  /// The screen as one line of text, as the sim board renders its LCD.
  std::string to_text() const;
};

class Display {
 public:
  /// Objects read for annunciators, when the meter has them.
  static constexpr Obis kRemoteConfigurationMode = obis("0-0:128.5.0");
  static constexpr Obis kErrorRegister = obis("0-0:97.97.0");
  /// How full the event logger's change log is, % (plugin sealing_audit): from kLogWarnPercent
  /// the LCD shows "LOG<n>%" so a meter shop reads the log out before it refuses changes.
  static constexpr Obis kEventLogFill = obis("0-0:99.98.2");
  static constexpr std::uint64_t kLogWarnPercent = 90;
  static constexpr Obis kFirmwareIdentifier = obis("1-0:0.2.0");
  static constexpr Obis kDisplayMultiplier = obis("0-0:128.8.0");

  Display(const ObjectRegistry& objects, DisplaySettings settings, std::string firmware_version);

  std::size_t size() const noexcept { return settings_.items.size(); }
  /// The item on the LCD at `uptime`: the list scrolls, one item per scroll time.
  std::size_t item_at(Uptime uptime) const noexcept;
  Screen render(std::size_t item) const;
  /// Every screen of the list, in order: the sequence a meter shop sees scroll by.
  std::vector<Screen> sequence() const;
  const DisplaySettings& settings() const noexcept { return settings_; }
  /// The multiplier N shown now: the meter's 0-0:128.8.0 when it has one (1..240), otherwise
  /// the settings'.
  std::int64_t multiplier() const;

 private:
  Screen render_object(const Obis& id) const;
  std::vector<std::string> annunciators() const;

  const ObjectRegistry* objects_;
  DisplaySettings settings_;
  std::string firmware_version_;
};

}  // namespace meter::kernel
