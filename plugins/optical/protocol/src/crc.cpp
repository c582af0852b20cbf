// The C12.18 packet CRC (table-driven, reflected CCITT) and the table-data checksum.
#include "meter/c1218/crc.h"

#include <array>

namespace meter::c1218 {
namespace {

constexpr std::uint16_t kReflectedPolynomial = 0x8408;  // 0x1021 with its bits reversed

constexpr std::array<std::uint16_t, 256> make_table() {
  std::array<std::uint16_t, 256> table{};
  for (unsigned byte = 0; byte < 256; ++byte) {
    auto value = static_cast<std::uint16_t>(byte);
    for (int bit = 0; bit < 8; ++bit) {
      value = (value & 1U) ? static_cast<std::uint16_t>((value >> 1) ^ kReflectedPolynomial)
                           : static_cast<std::uint16_t>(value >> 1);
    }
    table[byte] = value;
  }
  return table;
}

constexpr auto kTable = make_table();

}  // namespace

std::uint16_t crc16_start() noexcept { return 0xFFFF; }

std::uint16_t crc16_update(std::uint16_t state, std::span<const std::uint8_t> bytes) noexcept {
  for (const std::uint8_t byte : bytes) {
    state = static_cast<std::uint16_t>((state >> 8) ^ kTable[(state ^ byte) & 0xFFU]);
  }
  return state;
}

std::uint16_t crc16_finish(std::uint16_t state) noexcept {
  return static_cast<std::uint16_t>(state ^ 0xFFFF);
}

std::uint16_t crc16(std::span<const std::uint8_t> bytes) noexcept {
  return crc16_finish(crc16_update(crc16_start(), bytes));
}

std::uint8_t table_checksum(std::span<const std::uint8_t> data) noexcept {
  unsigned sum = 0;
  for (const std::uint8_t byte : data) sum += byte;
  return static_cast<std::uint8_t>((0x100U - (sum & 0xFFU)) & 0xFFU);
}

}  // namespace meter::c1218
