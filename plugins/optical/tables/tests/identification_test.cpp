// Decade 0 tables (ST-0, ST-1, ST-3, ST-5), reads at the edges and the codes of refused
// reads and writes.
#include <gtest/gtest.h>

#include <meter/c1219/objects.h>
#include <meter/c1219/tables.h>

#include "fake_source.h"

namespace meter::c1219 {
namespace {

using namespace testing;
using meter::sdk::obis;
using Bytes = std::vector<std::uint8_t>;

class C1219Decade0 : public ::testing::Test {
 protected:
  void SetUp() override { fill_meter(source); }
  void add_meter_id() {
    ObjectMeta m;
    m.id = objects::kMeterIdObject;
    m.type = METER_VALUE_TEXT;
    m.write_roles = kConfigurator;
    m.parameter_class = METER_PARAMETER_CONFIGURATION;
    source.add(m, Value{std::string("SITE-42")});
  }
  FakeSource source;
  Tables tables{source, test_identification()};
};

TEST_F(C1219Decade0, GeneralConfigurationListsWhatTheMeterImplements) {
  const Bytes expected = cat({
      {0x04, 0x0A, 0xBB}, bytes("MTRP"), {0x02, 0x00, 0xFF, 0xFF, 0x01, 0x00},
      {10, 1, 2, 1, 1, 0},
      {0xAB, 0x01, 0xE0, 0x00, 0x00, 0x00, 0xB8, 0xE0, 0x81, 0x1F},  // STD_TBLS_USED
      {0x1F},                                                        // MFG_TBLS_USED
      {0x00, 0x06},                                                  // SP-9, SP-10
      {0xFF},                                                        // MP-0..MP-7
      {0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0},                             // ST-7 written
      {0x00}});
  const ReadResult r = tables.read(table::kGeneralConfiguration);
  ASSERT_EQ(r.code, ResponseCode::ok);
  EXPECT_EQ(r.data, expected);
}

TEST_F(C1219Decade0, TablesOfAbsentPluginsAreNotUsedAndAnswerSns) {
  source.remove(objects::kLoadProfile);
  source.remove(objects::kAuditLog);
  const ReadResult st0 = tables.read(table::kGeneralConfiguration);
  EXPECT_EQ(st0.data[19 + 7], 0x00);  // tables 56..63: none
  EXPECT_EQ(st0.data[19 + 8], 0x00);  // 64..71
  EXPECT_EQ(st0.data[19 + 9], 0x00);  // 72..79
  EXPECT_EQ(st0.data[19 + 10], 0x17);  // MT-0, 1, 2, 4
  for (int t : {61, 62, 63, 64, 71, 72, 73, 74, 75, 76, 2051}) {
    SCOPED_TRACE(t);
    EXPECT_EQ(tables.read(static_cast<std::uint16_t>(t)).code, ResponseCode::sns);
  }
  EXPECT_EQ(tables.read(2).code, ResponseCode::sns);
  EXPECT_EQ(tables.read(2100).code, ResponseCode::sns);
  EXPECT_EQ(tables.write(2, 0, Bytes{1}), ResponseCode::sns);
}

TEST_F(C1219Decade0, ManufacturerIdentificationComesFromTheIdentification) {
  const Bytes expected =
      cat({bytes("MTRP"), bytes("SIM-TOU", 8), {1, 2, 0, 7}, bytes("2026-0001", 16)});
  EXPECT_EQ(tables.read(table::kManufacturerIdentification).data, expected);
}

TEST_F(C1219Decade0, IdentificationTextIsCutPaddedAndLatin1) {
  Identification id = test_identification();
  id.manufacturer = "ABCDEFG";
  id.model = "Z\xC3\xA4hler\xE2\x82\xAC";  // "Zähler€": ä is Latin-1, € is not
  Tables t(source, id);
  const Bytes st1 = t.read(table::kManufacturerIdentification).data;
  EXPECT_EQ(Bytes(st1.begin(), st1.begin() + 12),
            cat({bytes("ABCD"), {'Z', 0xE4, 'h', 'l', 'e', 'r', '?', ' '}}));
}

TEST_F(C1219Decade0, ModeAndStatusOfAHealthyMeter) {
  // METERING; no standard flag; manufacturer flags: cover sealed, test LED active.
  EXPECT_EQ(tables.read(table::kModeStatus).data, (Bytes{0x01, 0x00, 0x00, 0x00, 0x21}));
}

TEST_F(C1219Decade0, StatusFlagsFollowTheErrorRegisterSealsDemandAndExport) {
  source.set(objects::kErrorRegister, Value{std::uint64_t{7}});
  source.set(objects::kSealState, Value{std::uint64_t{0}});
  source.set(objects::kExportPower, Value{1500.0});
  source.set(objects::kDemandStatus, Value{std::uint64_t{1}});
  source.set(objects::kEventLoggerReady, Value{false});
  source.set(objects::kRemoteConfiguration, Value{true});
  // measurement 0x80, clock 0x40, NVM 0x20, power failure 0x0800, reverse 0x2000; no seal is
  // no tamper (a meter shop works on unsealed meters): tamper is what the event logger finds
  EXPECT_EQ(tables.read(table::kModeStatus).data, (Bytes{0x01, 0xE0, 0x28, 0x00, 0x70}));
}

TEST_F(C1219Decade0, ATamperedAuditChainIsTamperAndSelfCheckError) {
  source.set(objects::kAuditStatus, Value{std::string("5 of 40 records, 0 lost because full, "
                                                      "recording; chain TAMPERED: record 3")});
  EXPECT_EQ(tables.read(table::kModeStatus).data, (Bytes{0x01, 0x04, 0x10, 0x00, 0x21}));
}

TEST_F(C1219Decade0, DeviceIdentificationIsTheIdentificationsIdWithoutAnObject) {
  EXPECT_EQ(tables.read(table::kDeviceIdentification).data, bytes("TORONTO-0001", 20));
  EXPECT_EQ(tables.write(table::kDeviceIdentification, 0, bytes("OTHER", 20)), ResponseCode::onp);
  EXPECT_TRUE(source.writes.empty());
}

TEST_F(C1219Decade0, DeviceIdentificationIsWrittenThroughTheGate) {
  add_meter_id();
  EXPECT_EQ(tables.read(table::kDeviceIdentification).data, bytes("SITE-42", 20));
  EXPECT_EQ(tables.read(table::kGeneralConfiguration).data[19 + 10 + 1 + 2 + 1], 0xA0);  // 5, 7
  EXPECT_EQ(tables.write(table::kDeviceIdentification, 0, bytes("SITE-43", 20)), ResponseCode::ok);
  EXPECT_EQ(std::get<std::string>(source.value(objects::kMeterIdObject)), "SITE-43");
  // A partial write changes the octets it covers.
  EXPECT_EQ(tables.write(table::kDeviceIdentification, 5, bytes("99")), ResponseCode::ok);
  EXPECT_EQ(std::get<std::string>(source.value(objects::kMeterIdObject)), "SITE-99");
}

TEST_F(C1219Decade0, DeviceIdentificationRefusals) {
  add_meter_id();
  EXPECT_EQ(tables.write(table::kDeviceIdentification, 0, bytes("X", 21)), ResponseCode::iar);
  EXPECT_EQ(tables.write(table::kDeviceIdentification, 19, bytes("XY")), ResponseCode::iar);
  EXPECT_EQ(tables.write(table::kDeviceIdentification, 0, Bytes{'A', 0x07}), ResponseCode::iar);
  source.role = kReader;
  EXPECT_EQ(tables.write(table::kDeviceIdentification, 0, bytes("R")), ResponseCode::isc);
  source.role = kConfigurator;
  source.sealed = true;
  EXPECT_EQ(tables.write(table::kDeviceIdentification, 0, bytes("S")), ResponseCode::dlk);
  EXPECT_TRUE(source.writes.empty());
  EXPECT_EQ(std::get<std::string>(source.value(objects::kMeterIdObject)), "SITE-42");
}

TEST_F(C1219Decade0, ReadOnlyTablesRefuseWrites) {
  for (int t : {0, 1, 3, 8, 21, 23, 52, 64, 74, 2048}) {
    EXPECT_EQ(tables.write(static_cast<std::uint16_t>(t), 0, Bytes{0}), ResponseCode::onp) << t;
  }
  EXPECT_EQ(tables.read(table::kProcedureInitiate).code, ResponseCode::onp);
}

TEST_F(C1219Decade0, PartialReadsAtTheEdges) {
  const Bytes full = tables.read(table::kGeneralConfiguration).data;
  ASSERT_EQ(full.size(), 44U);
  EXPECT_EQ(tables.read(0, 0, 44).data, full);
  EXPECT_EQ(tables.read(0, 43, 1).data, Bytes{full[43]});
  EXPECT_EQ(tables.read(0, 3, 4).data, bytes("MTRP"));
  const ReadResult empty = tables.read(0, 44, 0);
  EXPECT_EQ(empty.code, ResponseCode::ok);
  EXPECT_TRUE(empty.data.empty());
  EXPECT_EQ(tables.read(0, 44, 1).code, ResponseCode::iar);
  EXPECT_EQ(tables.read(0, 40, 5).code, ResponseCode::iar);
  EXPECT_EQ(tables.read(0, 0xFFFFFF, 1).code, ResponseCode::iar);
  EXPECT_EQ(tables.read(99, 0, 1).code, ResponseCode::sns);
}

TEST_F(C1219Decade0, ResponseCodesHaveTheirC1218Numbers) {
  EXPECT_EQ(static_cast<int>(ResponseCode::dlk), 0x08);
  EXPECT_EQ(static_cast<int>(ResponseCode::isss), 0x0A);
  EXPECT_EQ(to_string(ResponseCode::iar), "iar");
}

}  // namespace
}  // namespace meter::c1219
