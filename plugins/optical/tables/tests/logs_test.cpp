// Decade 7: ST-71..ST-76 from an audit log encoded the way the sealing_audit plugin encodes
// 0-0:99.98.0 (its own encoder, audit_format.h).
#include <gtest/gtest.h>

#include <meter/c1219/objects.h>
#include <meter/c1219/tables.h>

#include "fake_source.h"

namespace meter::c1219 {
namespace {

using namespace testing;
using Bytes = std::vector<std::uint8_t>;
namespace audit = meter::plugins::sealing_audit;

constexpr std::size_t kEntry = 29;
constexpr std::size_t kHeader = 11;

class C1219Decade7 : public ::testing::Test {
 protected:
  void SetUp() override { fill_meter(source); }
  Bytes entry(const Bytes& log, std::size_t element) {
    return Bytes(log.begin() + static_cast<std::ptrdiff_t>(kHeader + element * kEntry),
                 log.begin() + static_cast<std::ptrdiff_t>(kHeader + (element + 1) * kEntry));
  }
  FakeSource source;
  Tables tables{source, test_identification()};
};

const Bytes kStdEvents{0x16, 0x08, 0x10, 0x00, 0x10, 0x80, 0x00, 0x03};

// ST-74 is the change log (parameters, seals, plugins), ST-76 the event log (power, time,
// logons, refused writes): each has its own capacity, so no flood of events takes a change's.
TEST_F(C1219Decade7, ActualLogTakesTheCapacityFromTheStatus) {
  EXPECT_EQ(tables.read(table::kActualLog).data, (Bytes{0x1F, 8, 1, 15, 15, 40, 0, 200, 0}));
}

TEST_F(C1219Decade7, EventsIdentificationAndControlListTheMappedEvents) {
  // mfg 0..5: 4 a refused write, 5 repeated events counted into one record
  EXPECT_EQ(tables.read(table::kEventsIdentification).data, cat({kStdEvents, {0x3F}}));
  const Bytes control = cat({kStdEvents, {0x3F}, Bytes(14, 0)});
  EXPECT_EQ(tables.read(table::kHistoryLogControl).data, control);
  EXPECT_EQ(tables.read(table::kEventLogControl).data, control);
}

TEST_F(C1219Decade7, HistoryLogMapsEachRecordToItsEventCode) {
  const Bytes log = tables.read(table::kHistoryLogData).data;
  ASSERT_EQ(log.size(), kHeader + 40 * kEntry);
  EXPECT_EQ(Bytes(log.begin(), log.begin() + kHeader),
            (Bytes{0x0C, 5, 0, 4, 0, 5, 0, 0, 0, 5, 0}));
  EXPECT_EQ(entry(log, 0), cat({{26, 7, 15, 18, 0, 0}, {1, 0, 1, 0, 0, 0}, {1, 0},  // power down
                                {3, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0}, le(1, 4)}));
  EXPECT_EQ(entry(log, 1), cat({{26, 7, 15, 18, 10, 0}, {2, 0, 2, 0, 4, 0}, {11, 0},  // programmed
                                {1, 2, 3, 17, 0, 0, 0, 128, 7, 1, 255}, le(2, 4)}));
  EXPECT_EQ(entry(log, 2)[12], 56);  // end device sealed
  EXPECT_EQ(entry(log, 3), cat({Bytes(6, 0), {4, 0, 4, 0, 0, 0}, {0x00, 0x08},  // mfg 0
                                {6, 2, 0, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0}, le(4, 4)}));
  EXPECT_EQ(entry(log, 4)[12], 20);  // demand reset
  for (std::size_t e = 5; e < 40; ++e) EXPECT_EQ(entry(log, e), Bytes(kEntry, 0)) << e;
  // The event log holds none of the change log's records.
  const Bytes events = tables.read(table::kEventLogData).data;
  ASSERT_GE(events.size(), kHeader);
  EXPECT_EQ(Bytes(events.begin() + 1, events.begin() + kHeader), Bytes(kHeader - 1, 0));
}

TEST_F(C1219Decade7, EntriesKeepTheirPlaceInTheRing) {
  audit::Log log = test_log();
  log.capacity = 3;
  log.dropped = 2;
  log.entries.erase(log.entries.begin(), log.entries.begin() + 3);  // sequences 4 and 5 remain
  source.set(objects::kAuditLog, Value{audit::encode_log(log)});
  const Bytes data = tables.read(table::kHistoryLogData).data;
  ASSERT_EQ(data.size(), kHeader + 3 * kEntry);
  EXPECT_EQ(Bytes(data.begin(), data.begin() + kHeader),
            (Bytes{0x0E, 2, 0, 1, 0, 5, 0, 0, 0, 2, 0}));  // overflowed: records were lost
  EXPECT_EQ(entry(data, 0)[6], 4);
  EXPECT_EQ(entry(data, 1)[6], 5);
  EXPECT_EQ(entry(data, 2), Bytes(kEntry, 0));
}

TEST_F(C1219Decade7, SealBrokenAndOtherKinds) {
  audit::Log log = test_log();
  auto set_kind = [&log](std::size_t i, audit::RecordKind k, const std::string& new_value) {
    log.entries[i].record.kind = k;
    log.entries[i].record.new_value = new_value;
    log.entries[i].body = audit::encode_body(log.entries[i].record);
  };
  set_kind(0, audit::RecordKind::seal_changed, "broken");
  set_kind(1, audit::RecordKind::power_restore, "");
  set_kind(2, audit::RecordKind::time_changed, "");
  set_kind(3, audit::RecordKind::plugin_updated, "");
  set_kind(4, audit::RecordKind::tamper_found, "");
  source.set(objects::kAuditLog, Value{audit::encode_log(log)});
  const Bytes data = tables.read(table::kHistoryLogData).data;
  EXPECT_EQ(entry(data, 0)[12], 57);
  EXPECT_EQ(entry(data, 1)[12], 2);
  EXPECT_EQ(entry(data, 2)[12], 4);
  EXPECT_EQ(entry(data, 3)[12], 36);
  EXPECT_EQ(entry(data, 4)[12], 47);
}

TEST_F(C1219Decade7, ThePublicMayNotReadTheLog) {
  source.role = kPublic;
  EXPECT_EQ(tables.read(table::kHistoryLogData).code, ResponseCode::isc);
  EXPECT_EQ(tables.read(table::kEventLogData).code, ResponseCode::isc);
  EXPECT_EQ(tables.read(table::kActualLog).code, ResponseCode::ok);
}

TEST_F(C1219Decade7, WithoutAStatusTheCapacityComesFromTheLog) {
  source.remove(objects::kAuditStatus);
  EXPECT_EQ(tables.read(table::kActualLog).data, (Bytes{0x1F, 8, 1, 15, 15, 40, 0, 200, 0}));
  source.set(objects::kAuditLog, Value{Bytes{'S', 'A', 'L'}});
  EXPECT_EQ(tables.read(table::kActualLog).code, ResponseCode::err);
  EXPECT_EQ(tables.read(table::kHistoryLogData).code, ResponseCode::err);
}

}  // namespace
}  // namespace meter::c1219
