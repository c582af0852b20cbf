// The two checks of ANSI C12.18: the packet CRC and the table-data checksum.
//
// Packet CRC (C12.18 link layer): the CCITT polynomial x^16 + x^12 + x^5 + 1 as HDLC uses it
// (ISO/IEC 3309): bits taken least significant first, register preset to 0xFFFF, result
// complemented. It covers every byte of the packet from <stp> to the last data byte and is sent
// low byte first. This is what termineter computes (crcelk.CRC_HDLC packed '<H'); the usual
// check value is crc16("123456789") == 0x906E.
//
// Table-data checksum (PSEM <table-data>): the 8-bit two's complement of the sum of the data
// bytes, so that the data plus its checksum sum to zero modulo 256.
#pragma once

#include <cstdint>
#include <span>

namespace meter::c1218 {

/// The C12.18 packet CRC of `bytes` (preset 0xFFFF, reflected, complemented).
std::uint16_t crc16(std::span<const std::uint8_t> bytes) noexcept;

/// Continues a CRC over more bytes: crc16_update(crc16_start(), a) then b ... then crc16_finish.
std::uint16_t crc16_start() noexcept;
std::uint16_t crc16_update(std::uint16_t state, std::span<const std::uint8_t> bytes) noexcept;
std::uint16_t crc16_finish(std::uint16_t state) noexcept;

/// The PSEM table-data checksum of `data`: the negated 8-bit sum.
std::uint8_t table_checksum(std::span<const std::uint8_t> data) noexcept;

}  // namespace meter::c1218
