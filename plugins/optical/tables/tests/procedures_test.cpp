// ST-7 and ST-8: each procedure's effect on the meter, and its refusals (role, seal, bad
// parameters, lockout, unknown procedures).
#include <gtest/gtest.h>

#include <meter/c1219/objects.h>
#include <meter/c1219/procedures.h>
#include <meter/c1219/tables.h>
#include <meter/c1219/value_codec.h>

#include "fake_source.h"

namespace meter::c1219 {
namespace {

using namespace testing;
using meter::sdk::obis;
using meter::sdk::operator==;
using Bytes = std::vector<std::uint8_t>;

class C1219Procedures : public ::testing::Test {
 protected:
  void SetUp() override { fill_meter(source); }
  // Writes ST-7 and returns the write's code; `last` gets ST-8.
  ResponseCode run(std::uint16_t number, const Bytes& params, std::uint8_t selector = 0) {
    ++sequence;
    const std::uint16_t idb = static_cast<std::uint16_t>(number | (selector << 12));
    const ResponseCode code = tables.write(table::kProcedureInitiate, 0,
                                           cat({le(idb, 2), {sequence}, params}));
    last = tables.read(table::kProcedureResponse).data;
    return code;
  }
  ProcedureResult result() const { return static_cast<ProcedureResult>(last.at(3)); }
  Bytes response_data() const { return Bytes(last.begin() + 4, last.end()); }

  FakeSource source;
  Tables tables{source, test_identification()};
  std::uint8_t sequence = 40;
  Bytes last;
};

TEST_F(C1219Procedures, ResponseEchoesTheRequestAndIsNotReadyBefore) {
  EXPECT_EQ(tables.read(table::kProcedureResponse).code, ResponseCode::dnr);
  ASSERT_EQ(run(procedure::kReactivateTestLed, {}), ResponseCode::ok);
  EXPECT_EQ(last, (Bytes{0x01, 0x08, 41, 0}));
}

TEST_F(C1219Procedures, RemoteResetResetsDemand) {
  ASSERT_EQ(run(procedure::kRemoteReset, {0x01}), ResponseCode::ok);
  EXPECT_EQ(last, (Bytes{9, 0, 41, 0}));
  ASSERT_EQ(source.writes.size(), 1U);
  EXPECT_TRUE(source.writes[0].first == objects::kDemandReset);
  EXPECT_TRUE(std::get<bool>(source.writes[0].second));
}

TEST_F(C1219Procedures, RemoteResetRefusals) {
  source.set(objects::kDemandLockout, Value{std::uint64_t{600}});
  EXPECT_EQ(run(procedure::kRemoteReset, {0x01}), ResponseCode::ok);
  EXPECT_EQ(result(), ProcedureResult::timing_constraint);
  EXPECT_EQ(run(procedure::kRemoteReset, {0x02}), ResponseCode::ok);  // self read: not here
  EXPECT_EQ(result(), ProcedureResult::invalid_parameter);
  EXPECT_EQ(run(procedure::kRemoteReset, {}), ResponseCode::ok);
  EXPECT_EQ(result(), ProcedureResult::invalid_parameter);
  source.set(objects::kDemandLockout, Value{std::uint64_t{0}});
  source.role = kReader;
  EXPECT_EQ(run(procedure::kRemoteReset, {0x01}), ResponseCode::isc);
  EXPECT_EQ(result(), ProcedureResult::no_authorization);
  source.remove(objects::kDemandReset);
  source.role = kConfigurator;
  EXPECT_EQ(run(procedure::kRemoteReset, {0x01}), ResponseCode::ok);
  EXPECT_EQ(result(), ProcedureResult::conflict_with_setup);
  EXPECT_TRUE(source.writes.empty());
}

TEST_F(C1219Procedures, SetDateAndTimeWritesLocalText) {
  ASSERT_EQ(run(procedure::kSetDateTime, {0x03, 26, 7, 16, 9, 0, 0, 0}), ResponseCode::ok);
  EXPECT_EQ(result(), ProcedureResult::completed);
  ASSERT_EQ(source.writes.size(), 1U);
  EXPECT_TRUE(source.writes[0].first == objects::kClockWrite);
  EXPECT_EQ(std::get<std::string>(source.writes[0].second), "2026-07-16 09:00:00");
}

TEST_F(C1219Procedures, SetTimeOnlyOrDateOnlyKeepsTheOtherPart) {
  ASSERT_EQ(run(procedure::kSetDateTime, {0x01, 0, 0, 0, 9, 15, 30, 0}), ResponseCode::ok);
  EXPECT_EQ(std::get<std::string>(source.writes.at(0).second), "2026-07-15 09:15:30");
  ASSERT_EQ(run(procedure::kSetDateTime, {0x02, 26, 12, 31, 0, 0, 0, 0}), ResponseCode::ok);
  // The fake's clock keeps the text written first.
  EXPECT_EQ(std::get<std::string>(source.writes.at(1).second), "2026-12-31 09:15:30");
}

TEST_F(C1219Procedures, SetDateAndTimeInUtcIsWrittenAsUtc) {
  ObjectMeta clock = *source.meta(objects::kClock);
  source.add(clock, Value{std::string("2026-07-15 14:30:05 EDT")});  // takes either form
  ASSERT_EQ(run(procedure::kSetDateTime, {0x07, 26, 7, 16, 13, 0, 0, 0x10}), ResponseCode::ok);
  EXPECT_EQ(std::get<std::string>(source.writes.at(0).second), "2026-07-16T13:00:00Z");
}

TEST_F(C1219Procedures, SetDateAndTimeRefusals) {
  EXPECT_EQ(run(procedure::kSetDateTime, {0x03, 26, 13, 1, 0, 0, 0, 0}), ResponseCode::ok);
  EXPECT_EQ(result(), ProcedureResult::invalid_parameter);
  EXPECT_EQ(run(procedure::kSetDateTime, {0x03, 26, 2, 29, 0, 0, 0, 0}), ResponseCode::ok);
  EXPECT_EQ(result(), ProcedureResult::invalid_parameter);  // 2026 is no leap year
  EXPECT_EQ(run(procedure::kSetDateTime, {0x00, 26, 7, 1, 0, 0, 0, 0}), ResponseCode::ok);
  EXPECT_EQ(result(), ProcedureResult::invalid_parameter);
  EXPECT_EQ(run(procedure::kSetDateTime, {0x03, 26, 7, 1}), ResponseCode::ok);
  EXPECT_EQ(result(), ProcedureResult::invalid_parameter);
  source.set(objects::kClock, Value{std::string("time unknown")});
  EXPECT_EQ(run(procedure::kSetDateTime, {0x01, 0, 0, 0, 9, 0, 0, 0}), ResponseCode::ok);
  EXPECT_EQ(result(), ProcedureResult::conflict_with_setup);
  source.role = kReader;
  EXPECT_EQ(run(procedure::kSetDateTime, {0x03, 26, 7, 1, 0, 0, 0, 0}), ResponseCode::isc);
  EXPECT_EQ(result(), ProcedureResult::no_authorization);
  EXPECT_TRUE(source.writes.empty());
}

TEST_F(C1219Procedures, BillingResetAndPreset) {
  ASSERT_EQ(run(procedure::kBillingPreset, cat({{1}, le(0, 8)})), ResponseCode::ok);
  ASSERT_EQ(run(procedure::kBillingPreset, cat({{2}, le(5'000'000, 8)})), ResponseCode::ok);
  EXPECT_EQ(result(), ProcedureResult::completed);
  ASSERT_EQ(source.writes.size(), 2U);
  EXPECT_TRUE(source.writes[0].first == objects::kBillingImport);
  EXPECT_EQ(std::get<std::int64_t>(source.writes[0].second), 0);
  EXPECT_TRUE(source.writes[1].first == objects::kBillingExport);
  EXPECT_EQ(std::get<std::int64_t>(source.writes[1].second), 5'000'000);
}

TEST_F(C1219Procedures, BillingPresetRefusals) {
  EXPECT_EQ(run(procedure::kBillingPreset, cat({{3}, le(0, 8)})), ResponseCode::ok);
  EXPECT_EQ(result(), ProcedureResult::invalid_parameter);
  EXPECT_EQ(run(procedure::kBillingPreset, cat({{1}, le(static_cast<std::uint64_t>(-5), 8)})),
            ResponseCode::ok);
  EXPECT_EQ(result(), ProcedureResult::invalid_parameter);
  EXPECT_EQ(run(procedure::kBillingPreset, {1, 0, 0}), ResponseCode::ok);
  EXPECT_EQ(result(), ProcedureResult::invalid_parameter);
  source.sealed = true;
  EXPECT_EQ(run(procedure::kBillingPreset, cat({{1}, le(0, 8)})), ResponseCode::dlk);
  EXPECT_EQ(result(), ProcedureResult::conflict_with_setup);
  source.sealed = false;
  source.role = kReader;
  EXPECT_EQ(run(procedure::kBillingPreset, cat({{1}, le(0, 8)})), ResponseCode::isc);
  EXPECT_EQ(result(), ProcedureResult::no_authorization);
  EXPECT_TRUE(source.writes.empty());
}

TEST_F(C1219Procedures, TestLedSealAndDisplayMultiplier) {
  ASSERT_EQ(run(procedure::kReactivateTestLed, {}), ResponseCode::ok);
  ASSERT_EQ(run(procedure::kElectronicSeal, {1}), ResponseCode::ok);
  ASSERT_EQ(run(procedure::kDisplayMultiplier, {240}), ResponseCode::ok);
  ASSERT_EQ(source.writes.size(), 3U);
  EXPECT_TRUE(source.writes[0].first == objects::kTestLedReactivate);
  EXPECT_TRUE(std::get<bool>(source.writes[0].second));
  EXPECT_TRUE(source.writes[1].first == objects::kElectronicSeal);
  EXPECT_TRUE(std::get<bool>(source.writes[1].second));
  EXPECT_TRUE(source.writes[2].first == objects::kDisplayMultiplier);
  EXPECT_EQ(std::get<std::int64_t>(source.writes[2].second), 240);
}

TEST_F(C1219Procedures, SealMultiplierAndLedRefusals) {
  for (const Bytes& p : {Bytes{}, Bytes{2}, Bytes{1, 1}}) {
    EXPECT_EQ(run(procedure::kElectronicSeal, p), ResponseCode::ok);
    EXPECT_EQ(result(), ProcedureResult::invalid_parameter);
  }
  for (const Bytes& p : {Bytes{0}, Bytes{241}, Bytes{}}) {
    EXPECT_EQ(run(procedure::kDisplayMultiplier, p), ResponseCode::ok);
    EXPECT_EQ(result(), ProcedureResult::invalid_parameter);
  }
  EXPECT_EQ(run(procedure::kReactivateTestLed, {1}), ResponseCode::ok);
  EXPECT_EQ(result(), ProcedureResult::invalid_parameter);
  source.sealed = true;
  EXPECT_EQ(run(procedure::kDisplayMultiplier, {2}), ResponseCode::dlk);
  EXPECT_EQ(result(), ProcedureResult::conflict_with_setup);
  source.sealed = false;
  source.role = kPublic;
  EXPECT_EQ(run(procedure::kElectronicSeal, {1}), ResponseCode::isc);
  EXPECT_EQ(run(procedure::kReactivateTestLed, {}), ResponseCode::isc);
  source.role = kConfigurator;
  source.remove(objects::kDisplayMultiplier);
  EXPECT_EQ(run(procedure::kDisplayMultiplier, {2}), ResponseCode::ok);
  EXPECT_EQ(result(), ProcedureResult::conflict_with_setup);
  EXPECT_TRUE(source.writes.empty());
}

TEST_F(C1219Procedures, ReadObjectAnswersAndSelectsItForMt2) {
  EXPECT_EQ(tables.read(table::kObjectValue).code, ResponseCode::dnr);
  ASSERT_EQ(run(procedure::kReadObject, {1, 0, 1, 8, 0, 255}), ResponseCode::ok);
  const Bytes value = cat({{1, 0, 1, 8, 0, 255}, {2}, le(123'456'789, 8)});
  EXPECT_EQ(response_data(), value);
  EXPECT_EQ(tables.read(table::kObjectValue).data, value);
  source.set(objects::kImport, Value{std::int64_t{7}});
  EXPECT_EQ(tables.read(table::kObjectValue).data,
            cat({{1, 0, 1, 8, 0, 255}, {2}, le(7, 8)}));  // MT-2 is read live
}

TEST_F(C1219Procedures, ReadObjectCutsLongValuesAndMt2HoldsThemWhole) {
  auto long_profile = test_profile();
  long_profile.records.resize(20);
  source.set(objects::kLoadProfile,
             Value{meter::plugins::load_profile::encode_profile(long_profile)});
  ASSERT_EQ(run(procedure::kReadObject, {1, 0, 99, 1, 0, 255}), ResponseCode::ok);
  const auto& profile = std::get<Bytes>(source.value(objects::kLoadProfile));
  ASSERT_EQ(last.size(), 4U + kMaxResponseData);
  EXPECT_EQ(Bytes(last.begin() + 10, last.begin() + 15), cat({{6}, le(profile.size(), 4)}));
  const Bytes mt2 = tables.read(table::kObjectValue).data;
  EXPECT_EQ(mt2, cat({{1, 0, 99, 1, 0, 255}, {6}, le(profile.size(), 4), profile}));
}

TEST_F(C1219Procedures, ReadObjectRefusals) {
  EXPECT_EQ(run(procedure::kReadObject, {9, 9, 9, 9, 9, 9}), ResponseCode::ok);
  EXPECT_EQ(result(), ProcedureResult::invalid_parameter);
  EXPECT_EQ(run(procedure::kReadObject, {1, 0, 1, 8}), ResponseCode::ok);
  EXPECT_EQ(result(), ProcedureResult::invalid_parameter);
  source.role = kPublic;
  EXPECT_EQ(run(procedure::kReadObject, {0, 0, 99, 98, 0, 255}), ResponseCode::isc);
  EXPECT_EQ(result(), ProcedureResult::no_authorization);
  EXPECT_EQ(tables.read(table::kObjectValue).code, ResponseCode::isc);
}

TEST_F(C1219Procedures, WriteObjectGoesThroughTheGate) {
  Bytes p{0, 0, 128, 8, 0, 255};
  encode_value(Value{std::int64_t{7}}, p);
  ASSERT_EQ(run(procedure::kWriteObject, p), ResponseCode::ok);
  EXPECT_EQ(result(), ProcedureResult::completed);
  EXPECT_EQ(std::get<std::int64_t>(source.value(objects::kDisplayMultiplier)), 7);
  Bytes text{0, 0, 1, 0, 0, 255};
  encode_value(Value{std::string("2026-07-20 10:00:00")}, text);
  ASSERT_EQ(run(procedure::kWriteObject, text), ResponseCode::ok);
  EXPECT_EQ(std::get<std::string>(source.value(objects::kClock)), "2026-07-20 10:00:00");
}

TEST_F(C1219Procedures, WriteObjectRefusals) {
  Bytes wrong_type{0, 0, 128, 8, 0, 255};
  encode_value(Value{true}, wrong_type);
  EXPECT_EQ(run(procedure::kWriteObject, wrong_type), ResponseCode::ok);
  EXPECT_EQ(result(), ProcedureResult::invalid_parameter);
  Bytes trailing = wrong_type;
  trailing[6] = 2;
  trailing.resize(15);
  trailing.push_back(0);
  EXPECT_EQ(run(procedure::kWriteObject, trailing), ResponseCode::ok);
  EXPECT_EQ(result(), ProcedureResult::invalid_parameter);
  EXPECT_EQ(run(procedure::kWriteObject, {0, 0, 128, 8, 0, 255, 9}), ResponseCode::ok);
  EXPECT_EQ(result(), ProcedureResult::invalid_parameter);
  Bytes unknown{9, 9, 9, 9, 9, 9};
  encode_value(Value{true}, unknown);
  EXPECT_EQ(run(procedure::kWriteObject, unknown), ResponseCode::ok);
  EXPECT_EQ(result(), ProcedureResult::invalid_parameter);
  Bytes sealed{0, 0, 128, 8, 0, 255};
  encode_value(Value{std::int64_t{3}}, sealed);
  source.sealed = true;
  EXPECT_EQ(run(procedure::kWriteObject, sealed), ResponseCode::dlk);
  EXPECT_EQ(result(), ProcedureResult::conflict_with_setup);
  Bytes read_only{1, 0, 1, 8, 0, 255};
  encode_value(Value{std::int64_t{0}}, read_only);
  EXPECT_EQ(run(procedure::kWriteObject, read_only), ResponseCode::isc);
  EXPECT_EQ(result(), ProcedureResult::no_authorization);
  EXPECT_TRUE(source.writes.empty());
}

TEST_F(C1219Procedures, ListObjectsPagesThroughTheRegistry) {
  const auto all = source.objects();
  ASSERT_GT(all.size(), 40U);
  ASSERT_EQ(run(procedure::kListObjects, {}), ResponseCode::ok);
  Bytes data = response_data();
  ASSERT_EQ(data.size(), 5U + 40 * 6);
  EXPECT_EQ(Bytes(data.begin(), data.begin() + 5), cat({le(all.size(), 2), {0, 0, 40}}));
  EXPECT_EQ(Bytes(data.begin() + 5, data.begin() + 11), (Bytes{1, 0, 1, 8, 0, 255}));
  ASSERT_EQ(run(procedure::kListObjects, le(40, 2)), ResponseCode::ok);
  data = response_data();
  EXPECT_EQ(data[4], all.size() - 40);
  const Obis o = all[40];
  EXPECT_EQ(Bytes(data.begin() + 5, data.begin() + 11), (Bytes{o.a, o.b, o.c, o.d, o.e, o.f}));
  EXPECT_EQ(run(procedure::kListObjects, le(all.size() + 1, 2)), ResponseCode::ok);
  EXPECT_EQ(result(), ProcedureResult::invalid_parameter);
}

TEST_F(C1219Procedures, UnknownProceduresAreUnrecognised) {
  for (std::uint16_t p : {std::uint16_t{3}, std::uint16_t{0}, std::uint16_t{2048 + 50}}) {
    EXPECT_EQ(run(p, {}), ResponseCode::ok);
    EXPECT_EQ(result(), ProcedureResult::unrecognized) << p;
  }
  EXPECT_TRUE(source.writes.empty());
}

TEST_F(C1219Procedures, SelectorDecidesWhetherTheResponseIsPosted) {
  ASSERT_EQ(run(procedure::kReactivateTestLed, {}, 2), ResponseCode::ok);
  EXPECT_EQ(tables.read(table::kProcedureResponse).code, ResponseCode::dnr);
  EXPECT_EQ(source.writes.size(), 1U);
  ASSERT_EQ(run(procedure::kReactivateTestLed, {}, 1), ResponseCode::ok);  // no exception
  EXPECT_EQ(tables.read(table::kProcedureResponse).code, ResponseCode::dnr);
  ASSERT_EQ(run(procedure::kElectronicSeal, {5}, 1), ResponseCode::ok);
  EXPECT_EQ(last, (Bytes{0x03, 0x18, 43, 2}));
}

TEST_F(C1219Procedures, MalformedRequestsAreInappropriate) {
  EXPECT_EQ(tables.write(table::kProcedureInitiate, 0, Bytes{9, 0}), ResponseCode::iar);
  EXPECT_EQ(tables.write(table::kProcedureInitiate, 1, Bytes{9, 0, 1, 1}), ResponseCode::iar);
  EXPECT_EQ(tables.write(table::kProcedureInitiate, 0, Bytes(3 + 256, 0)), ResponseCode::iar);
  EXPECT_EQ(tables.read(table::kProcedureResponse).code, ResponseCode::dnr);
}

}  // namespace
}  // namespace meter::c1219
