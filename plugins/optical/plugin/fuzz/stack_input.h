// The layout of an optical_stack_fuzz input, shared by the fuzz target and its corpus generator.
// It is server_fuzz's layout (../../protocol/fuzz/fuzz_input.h):
//
//   <config> { <step> <length> <bytes: length> }*
//
// chunks of bytes delivered as the clock advances, the server's packet size and count in bits
// 0..4 of <config> and packet mode (the harness frames each chunk with a good CRC) in bit 7;
// two more bits of <config> describe the meter behind the server:
//   bit 5  the meter starts sealed by its cover switch, which no port can break;
//   bit 6  the meter has no meter-id object 0-0:96.1.8, so ST-5 is read-only.
// The security request's password picks the session's role (kPasswords); before one the
// session reads with the public role.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "fuzz_input.h"

namespace meter::plugins::optical::fuzz {

using c1218::fuzz::packet_mode;
using c1218::fuzz::packet_size_of;
using c1218::fuzz::packets_of;
using c1218::fuzz::step_of;
using c1218::fuzz::kPacketMode;
using c1218::fuzz::kPacketSizes;

inline constexpr std::uint8_t kSealedByCover = 0x20;
inline constexpr std::uint8_t kNoMeterId = 0x40;

inline bool sealed_by_cover(std::uint8_t config) { return (config & kSealedByCover) != 0; }
inline bool has_meter_id(std::uint8_t config) { return (config & kNoMeterId) == 0; }

/// Role masks, as the gate gives them (1 public, 2 reader, 4 configurator, 8 calibrator).
inline constexpr int kPublic = 1, kReader = 2, kConfigurator = 4, kCalibrator = 8;

struct Password {
  std::string_view text;
  int role = 0;
};
/// The meter's passwords (as sent: padded with 0x00 or spaces to 20 bytes) and their roles.
inline constexpr std::array<Password, 3> kPasswords{{
    {"shop-reader", kReader},
    {"shop-configurator", kConfigurator},
    {"shop-calibrator", kCalibrator},
}};

}  // namespace meter::plugins::optical::fuzz
