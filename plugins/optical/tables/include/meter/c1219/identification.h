// Static identification of the meter for ST-0, ST-1, ST-5 and the nameplate table MT-4: what
// the optical plugin fills from the board descriptor and the SKU when it starts.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace meter::c1219 {

/// Text is ISO 8859-1 (bytes above 0x7F pass through; a UTF-8 sequence that is not Latin-1 is
/// sent as '?'). Fields longer than their table field are cut, shorter ones padded with spaces.
struct Identification {
  std::string manufacturer;    ///< ST-0 MANUFACTURER and ST-1 MANUFACTURER, 4 characters
  std::string model;           ///< ST-1 ED_MODEL, 8 characters
  std::uint8_t hw_version = 0;   ///< ST-1 HW_VERSION_NO
  std::uint8_t hw_revision = 0;  ///< ST-1 HW_REVISION_NO
  std::uint8_t fw_version = 0;   ///< ST-1 FW_VERSION_NO
  std::uint8_t fw_revision = 0;  ///< ST-1 FW_REVISION_NO
  std::string serial_number;   ///< ST-1 MFG_SERIAL_NO, 16 characters
  /// ST-5 IDENTIFICATION (20 characters) when the registry has no meter id object
  /// (kMeterIdObject); the utility's id for this meter.
  std::string device_id;
  /// MT-4 nameplate lines in this order, e.g. {"Kh", "1.0 Wh"}, {"form", "2S"}.
  std::vector<std::pair<std::string, std::string>> nameplate;
};

}  // namespace meter::c1219
