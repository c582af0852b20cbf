// The log object's encoding and the printed report (audit_format.h).
#include <gtest/gtest.h>

#include <meter/plugins/sealing_audit/audit_format.h>

namespace meter::plugins::sealing_audit {
namespace {

Log sample() {
  Log log;
  log.capacity = 40;
  Record r;
  r.sequence = 7;
  r.kind = RecordKind::parameter_changed;
  r.time_utc_ms = 1'772'341'200'000;  // 2026-03-01T05:00:00Z
  r.time_valid = true;
  r.counter = 12;
  r.obis = {0, 0, 128, 7, 1, 255};
  r.via = 2;
  r.role = 4;  // configurator
  r.parameter_class = 3;
  r.old_value = "123456";
  r.new_value = "0";
  r.who = "optical-port";
  Entry e;
  e.record = r;
  e.body = encode_body(r);
  e.chain.fill(0xAB);
  log.entries.push_back(e);
  Record p;
  p.sequence = 8;
  p.kind = RecordKind::power_fail;
  p.time_valid = false;
  Entry f;
  f.record = p;
  f.body = encode_body(p);
  log.entries.push_back(f);
  return log;
}

TEST(AuditFormat, LogRoundTrips) {
  const auto bytes = encode_log(sample());
  std::string error;
  const auto log = decode_log(bytes.data(), bytes.size(), error);
  ASSERT_TRUE(log) << error;
  EXPECT_EQ(log->capacity, 40u);
  ASSERT_EQ(log->entries.size(), 2u);
  EXPECT_EQ(log->entries[0].record.new_value, "0");
  EXPECT_EQ(log->entries[0].record.counter, 12);
  EXPECT_EQ(log->entries[0].chain[5], 0xAB);
  EXPECT_EQ(log->entries[1].record.kind, RecordKind::power_fail);
}

TEST(AuditFormat, RefusesTruncatedAndForeignOctets) {
  auto bytes = encode_log(sample());
  std::string error;
  bytes.pop_back();
  EXPECT_FALSE(decode_log(bytes.data(), bytes.size(), error));
  bytes[0] = 'X';
  EXPECT_FALSE(decode_log(bytes.data(), bytes.size(), error));
  EXPECT_NE(error.find("SAL1"), std::string::npos);
}

TEST(AuditFormat, ReportShowsCounterParameterTimeValuesInterfaceAndRole) {
  const auto report = format_report(sample(), "focus-1s-120v / MP-0001");
  EXPECT_NE(report.find("meter: focus-1s-120v / MP-0001"), std::string::npos);
  EXPECT_NE(report.find("records: 2 of 40"), std::string::npos);
  EXPECT_NE(report.find("chain: intact"), std::string::npos);
  EXPECT_NE(report.find("     7  012  2026-03-01 05:00:00Z  configuration    0-0:128.7.1  123456 -> 0  "
                        "by optical-port/configurator"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("     8  ---  time unknown"), std::string::npos) << report;
  EXPECT_NE(report.find("newest chain hash: 0000"), std::string::npos) << report;
}

TEST(AuditFormat, ReportSaysWhenTheChainWasTampered) {
  auto log = sample();
  log.tampered = true;
  log.finding = "record 3 was altered";
  EXPECT_NE(format_report(log).find("chain: TAMPERED: record 3 was altered"), std::string::npos);
}

}  // namespace
}  // namespace meter::plugins::sealing_audit
