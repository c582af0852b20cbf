// The C12.19 tables meterctl decodes for a person (layouts: plugins/optical/tables/TABLES.md):
// ST-1 manufacturer identification, ST-3 mode and status, ST-5 device identification, ST-52
// clock, ST-23 current register data (with ST-21 and ST-22 to size it), and any table as hex.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace meter::apps::meterctl {

using Lines = std::vector<std::string>;

/// ST-1 GENERAL_MFG_ID_TBL.
struct ManufacturerIdentification {
  std::string manufacturer;  ///< trailing spaces removed, ISO 8859-1 turned into UTF-8
  std::string model;
  std::uint8_t hw_version = 0;
  std::uint8_t hw_revision = 0;
  std::uint8_t fw_version = 0;
  std::uint8_t fw_revision = 0;
  std::string serial_number;
};

/// ST-1 (32 octets); nullopt for another length.
std::optional<ManufacturerIdentification> decode_manufacturer_identification(
    std::span<const std::uint8_t> table);
/// ST-5 IDENTIFICATION (20 characters), trailing spaces removed; nullopt for another length.
std::optional<std::string> decode_device_identification(std::span<const std::uint8_t> table);
/// ST-3 in words: mode, the standard status flags set, the seal and the meter's own flags.
std::optional<Lines> describe_mode_status(std::span<const std::uint8_t> table);
/// The seal sources ST-3's ED_MFG_STATUS says are sealed: "unsealed" or "sealed: cover, ...".
std::optional<std::string> describe_seal(std::span<const std::uint8_t> st3);
/// ST-52 (or the first 7 octets of ST-55): "2026-07-15 14:30:05 local time, Wednesday,
/// daylight saving time", or "time unknown".
std::optional<std::string> describe_clock(std::span<const std::uint8_t> table);
/// ST-23 sized by ST-21 and labelled by ST-22: summations in kWh, demands in W with their time.
std::optional<Lines> describe_register_data(std::span<const std::uint8_t> st21,
                                            std::span<const std::uint8_t> st22,
                                            std::span<const std::uint8_t> st23);
/// Hex dump, 16 octets a line: "0010  4d 50 52 20 ...  |MPR ...|", offsets from `first`.
Lines hex_dump(std::span<const std::uint8_t> bytes, std::uint32_t first = 0);
/// ISO 8859-1 text as UTF-8, trailing spaces and NULs removed.
std::string latin1_text(std::span<const std::uint8_t> bytes);

}  // namespace meter::apps::meterctl
