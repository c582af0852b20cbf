// Tables decoded for a person, against the bytes the meter's own table layer builds.
#include <gtest/gtest.h>

#include <meter/c1219/tables.h>

#include "decode.h"
#include "fake_source.h"
#include "session.h"
#include "wording.h"

namespace meter::apps::meterctl {
namespace {

using namespace meter::c1219::testing;
namespace table = c1219::table;

class MeterctlDecode : public ::testing::Test {
 protected:
  MeterctlDecode() : tables(source, test_identification()) { fill_meter(source); }
  std::vector<std::uint8_t> read(std::uint16_t t) {
    auto r = tables.read(t);
    EXPECT_EQ(r.code, c1219::ResponseCode::ok) << t;
    return r.data;
  }
  FakeSource source;
  c1219::Tables tables;
};

TEST_F(MeterctlDecode, ManufacturerIdentification) {
  const auto id = decode_manufacturer_identification(read(table::kManufacturerIdentification));
  ASSERT_TRUE(id);
  EXPECT_EQ(id->manufacturer, "MTRP");
  EXPECT_EQ(id->model, "SIM-TOU");
  EXPECT_EQ(id->hw_version, 1);
  EXPECT_EQ(id->hw_revision, 2);
  EXPECT_EQ(id->fw_revision, 7);
  EXPECT_EQ(id->serial_number, "2026-0001");
  EXPECT_FALSE(decode_manufacturer_identification(std::vector<std::uint8_t>(31)));
  EXPECT_EQ(decode_device_identification(read(table::kDeviceIdentification)), "TORONTO-0001");
}

TEST_F(MeterctlDecode, Latin1TextBecomesUtf8) {
  const std::vector<std::uint8_t> text = {'M', 0xFC, 'n', 'z', ' ', ' ', 0};
  EXPECT_EQ(latin1_text(text), "M\xC3\xBCnz");
}

TEST_F(MeterctlDecode, ModeStatusNamesTheFlagsAndTheSeal) {
  source.set(sdk::obis("0-0:128.6.0"), Value{std::uint64_t{0b1001}});
  source.set(sdk::obis("0-0:97.97.0"), Value{std::uint64_t{1}});
  const auto lines = describe_mode_status(read(table::kModeStatus));
  ASSERT_TRUE(lines);
  ASSERT_GE(lines->size(), 3U);
  EXPECT_EQ((*lines)[0], "mode: metering");
  EXPECT_EQ((*lines)[1], "status: measurement error");
  EXPECT_EQ((*lines)[2], "seal: sealed: cover, electronic seal");
  source.set(sdk::obis("0-0:128.6.0"), Value{std::uint64_t{0}});
  EXPECT_EQ(describe_seal(read(table::kModeStatus)), "unsealed");
}

TEST_F(MeterctlDecode, ClockInLocalTimeWithItsDayAndDaylightSavingTime) {
  EXPECT_EQ(describe_clock(read(table::kClock)),
            "2026-07-15 14:30:05 local time, Wednesday, daylight saving time");
  source.set(sdk::obis("0-0:1.0.0"), Value{std::string("time unknown")});
  EXPECT_EQ(describe_clock(read(table::kClock)), "time unknown");
}

TEST_F(MeterctlDecode, CurrentRegisterDataInKwhAndWattsPerTier) {
  const auto lines = describe_register_data(read(table::kActualRegister),
                                            read(table::kDataSelection),
                                            read(table::kCurrentRegisterData));
  ASSERT_TRUE(lines);
  const auto has = [&lines](const std::string& text) {
    return std::find(lines->begin(), lines->end(), text) != lines->end();
  };
  EXPECT_TRUE(has("demand resets: 3 (modulo 256)"));  // 259 resets
  EXPECT_TRUE(has("total:"));
  EXPECT_TRUE(has("  +A 1-0:1.8.0       123.456789 kWh"));
  EXPECT_TRUE(has("  net 1-0:16.8.0     121.456789 kWh"));
  EXPECT_TRUE(has("  demand 1 (import 1-0:1.6.0, maximum): 5000.000 W at 2026-07-10 18:15 UTC; "
                  "cumulative 9000.000 W; continuous cumulative 14000.000 W"));
  EXPECT_TRUE(has("tier 3 (rate C):"));
  EXPECT_TRUE(has("  -A 1-0:2.8.0       0.300 kWh"));
  EXPECT_TRUE(has("  demand 1 (import 1-0:1.6.0, maximum): 5000.003 W at no time; "
                  "cumulative 9000.003 W; continuous cumulative 14000.003 W"));
  // ST-23 of another size than ST-21 says is not decoded.
  auto st23 = read(table::kCurrentRegisterData);
  st23.pop_back();
  EXPECT_FALSE(describe_register_data(read(table::kActualRegister), read(table::kDataSelection),
                                      st23));
}

TEST_F(MeterctlDecode, DirectoryEntriesCarryTypeUnitScalerClassAndRoles) {
  const auto all = decode_directory(read(table::kObjectDirectory));
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), source.objects().size());
  const auto& first = all->front();
  EXPECT_EQ(sdk::to_string(first.id), "1-0:1.8.0");
  EXPECT_EQ(first.type, METER_VALUE_INTEGER);
  EXPECT_EQ(first.unit, 30);
  EXPECT_EQ(first.scaler, -3);
  EXPECT_EQ(first.parameter_class, 1);
  EXPECT_TRUE(first.legally_relevant);
  auto bytes = read(table::kObjectDirectory);
  bytes.pop_back();
  EXPECT_FALSE(decode_directory(bytes));
}

TEST_F(MeterctlDecode, HexDumpShowsOffsetsHexAndText) {
  const std::vector<std::uint8_t> bytes = {'M', 'P', 'R', ' ', 0x01, 0x02, 0x00, 0xFF,
                                           'a', 'b', 'c', 'd', 'e', 'f',  'g',  'h', 'Z'};
  const auto lines = hex_dump(bytes, 32);
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_EQ(lines[0], "000020  4d 50 52 20 01 02 00 ff  61 62 63 64 65 66 67 68  |MPR ....abcdefgh|");
  EXPECT_EQ(lines[1], "000030  5a                                                |Z|");
  EXPECT_EQ(table_name(23), "ST-23");
  EXPECT_EQ(table_name(2050), "MT-2");
}

TEST(MeterctlWording, SecurityRefusalsAreWrongPasswordLockedOrDisabled) {
  const auto refused = [](c1218::ResponseCode code) {
    return describe_error(c1218::fail(c1218::ErrorKind::response, "security: refused", code),
                          Stage::security, "security", true);
  };
  EXPECT_EQ(refused(c1218::ResponseCode::isc).exit, Exit::wrong_password);
  EXPECT_EQ(refused(c1218::ResponseCode::isc).message, "wrong password (the meter answered isc)");
  EXPECT_EQ(refused(c1218::ResponseCode::bsy).exit, Exit::locked);
  EXPECT_EQ(refused(c1218::ResponseCode::bsy).message.rfind(
                "the optical port is locked after failed logons; try again later", 0),
            0U);
  EXPECT_EQ(refused(c1218::ResponseCode::onp).exit, Exit::port_disabled);
  EXPECT_EQ(refused(c1218::ResponseCode::err).exit, Exit::refused);
}

TEST(MeterctlWording, WorkRefusalsNameWhatWasRefused) {
  const auto refused = [](c1218::ResponseCode code, bool password) {
    return describe_error(c1218::fail(c1218::ErrorKind::response, "write: refused", code),
                          Stage::work, "billing reset of +A", password);
  };
  EXPECT_EQ(refused(c1218::ResponseCode::dlk, true).exit, Exit::sealed);
  EXPECT_EQ(refused(c1218::ResponseCode::dlk, true).message,
            "the meter is sealed: billing reset of +A was refused (dlk)");
  EXPECT_EQ(refused(c1218::ResponseCode::isc, true).exit, Exit::not_allowed);
  EXPECT_EQ(refused(c1218::ResponseCode::isc, true).message,
            "billing reset of +A was refused: the role of this password may not (isc)");
  EXPECT_EQ(refused(c1218::ResponseCode::isc, false).message,
            "billing reset of +A was refused: the public may not; give a password (isc)");
  EXPECT_EQ(refused(c1218::ResponseCode::sns, true).exit, Exit::no_such_object);
  EXPECT_EQ(refused(c1218::ResponseCode::iar, true).message,
            "billing reset of +A was refused: inappropriate action requested (iar)");
  // An isc on a read, not on security, is never called a wrong password.
  EXPECT_EQ(refused(c1218::ResponseCode::isc, true).message.find("wrong password"),
            std::string::npos);
}

TEST(MeterctlWording, LinkFailuresAreExitCode4) {
  for (auto kind : {c1218::ErrorKind::timeout, c1218::ErrorKind::closed, c1218::ErrorKind::link,
                    c1218::ErrorKind::io, c1218::ErrorKind::malformed,
                    c1218::ErrorKind::checksum}) {
    const auto f = describe_error(c1218::fail(kind, "read of table 1: no response"), Stage::work,
                                  "table ST-1", true);
    EXPECT_EQ(f.exit, Exit::link) << f.message;
  }
  EXPECT_EQ(describe_error(c1218::fail(c1218::ErrorKind::timeout, "identify: no response"),
                           Stage::identify, "identify", false)
                .message,
            "the meter did not answer in time (identify: no response)");
}

TEST(MeterctlWording, ProcedureResultsInWords) {
  using R = c1219::ProcedureResult;
  EXPECT_EQ(describe_result(R::no_authorization, "the demand reset", true).exit,
            Exit::not_allowed);
  EXPECT_EQ(describe_result(R::invalid_parameter, "setting the time", true).message,
            "setting the time was refused: the meter took the value or object as invalid "
            "(invalid parameter)");
  EXPECT_EQ(describe_result(R::timing_constraint, "the demand reset", true).message,
            "the demand reset was refused: not now (a lockout or a busy object); try again later "
            "(timing constraint)");
  EXPECT_NE(describe_result(R::conflict_with_setup, "the demand reset", true)
                .message.find("this meter's setup does not allow it"),
            std::string::npos);
  EXPECT_NE(describe_result(R::unrecognized, "MP-9", true).message.find("not a procedure"),
            std::string::npos);
  EXPECT_EQ(describe_result(R::not_fully_completed, "x", true).exit, Exit::refused);
  EXPECT_EQ(result_name(3), "conflict with setup");
  EXPECT_EQ(result_name(200), "an unknown result");
}

}  // namespace
}  // namespace meter::apps::meterctl
