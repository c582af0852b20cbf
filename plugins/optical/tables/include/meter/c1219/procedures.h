// C12.19 procedures the meter runs: the numbers, result codes and parameter layouts that a
// client writes to ST-7 and reads back from ST-8. Layouts and effects: TABLES.md.
#pragma once

#include <cstdint>

namespace meter::c1219 {

/// ST-8 RESULT_CODE.
enum class ProcedureResult : std::uint8_t {
  completed = 0,
  not_fully_completed = 1,
  invalid_parameter = 2,   ///< ignored: a malformed or out-of-range parameter, an unknown object
  conflict_with_setup = 3, ///< ignored: the meter is sealed, or the time is unknown
  timing_constraint = 4,   ///< ignored: not now (demand reset lockout, a busy object)
  no_authorization = 5,    ///< ignored: the session's role may not do this
  unrecognized = 6,        ///< ignored: no such procedure
};

/// Procedure numbers as TABLE_IDB_BFLD carries them: bits 0..10 the number, bit 11 set for a
/// manufacturer procedure (so MP-n is 2048 + n). Bits 12..15 (the selector) are echoed in ST-8.
namespace procedure {
inline constexpr std::uint16_t kRemoteReset = 9;     ///< SP-9: u8 action flags, bit 0 demand reset
inline constexpr std::uint16_t kSetDateTime = 10;    ///< SP-10: u8 mask, LTIME_DATE, u8 qualifier
inline constexpr std::uint16_t kManufacturer = 2048;
/// MP-0: u16 first index (optional) -> u16 total, u16 first, u8 n, n x OBIS (6 bytes).
inline constexpr std::uint16_t kListObjects = kManufacturer + 0;
/// MP-1: no parameters: writes true to the test LED re-activation object.
inline constexpr std::uint16_t kReactivateTestLed = kManufacturer + 1;
/// MP-2: u8 register (1 +A, 2 -A), i64 reading in mWh (0 clears): billing reset or preset.
inline constexpr std::uint16_t kBillingPreset = kManufacturer + 2;
/// MP-3: u8 (1 seal, 0 break): the electronic seal.
inline constexpr std::uint16_t kElectronicSeal = kManufacturer + 3;
/// MP-4: u8 N, 1..240: the display multiplier.
inline constexpr std::uint16_t kDisplayMultiplier = kManufacturer + 4;
/// MP-5: OBIS (6 bytes) -> OBIS and the value (value encoding, cut to fit); selects MT-2.
inline constexpr std::uint16_t kReadObject = kManufacturer + 5;
/// MP-6: OBIS (6 bytes) and a value (value encoding): writes the object through the gate.
inline constexpr std::uint16_t kWriteObject = kManufacturer + 6;
/// MP-7: OBIS (6 bytes), u8 flags (bit 0 the first piece, bit 1 the last), then a piece of a
/// value's encoding: a value too long for MP-6 (a 32-day calendar, whole TOU tables) written in
/// pieces; the last piece writes the object through the gate as MP-6 does. A piece for another
/// object than the first, or past kMaxStagedValue octets, is an invalid parameter and drops
/// what was staged.
inline constexpr std::uint16_t kWriteObjectPiece = kManufacturer + 7;
inline constexpr std::uint8_t kPieceFirst = 1;
inline constexpr std::uint8_t kPieceLast = 2;
}  // namespace procedure

/// The longest value MP-7 stages, in octets.
inline constexpr std::size_t kMaxStagedValue = 16384;

/// Longest procedure parameter list (ST-0 MAX_PROC_PARM_LENGTH) and response (MAX_RESP_DATA_LEN).
inline constexpr std::uint8_t kMaxProcedureParameters = 255;
inline constexpr std::uint8_t kMaxResponseData = 255;

}  // namespace meter::c1219
