// meterctl against an in-process meter: each command's output, what it changed in the meter,
// and the message and exit code of every refusal; and once over TCP on 127.0.0.1.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <stdlib.h>

#include <atomic>
#include <thread>

#include <meter/c1218/transport.h>
#include <meter/plugins/sealing_audit/audit_format.h>

#include "commands.h"
#include "serve.h"
#include "test_meter.h"

namespace meter::apps::meterctl::testing {
namespace {

constexpr int kOk = 0, kRefused = 1, kUsage = 2, kConnect = 3, kLink = 4, kWrongPassword = 5,
              kLocked = 6, kDisabled = 7, kNotAllowed = 8, kSealed = 9, kNoSuchObject = 10;

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

std::int64_t integer(TestMeter& m, const char* code) {
  return std::get<std::int64_t>(m.source.value(*sdk::parse_obis(code)));
}

TEST(MeterctlCommands, IdentifyShowsTheManufacturerModelSerialAndRole) {
  Bench bench;
  const auto r = bench.run({"identify"});
  ASSERT_EQ(r.exit, kOk) << r.err;
  EXPECT_TRUE(contains(r.out, "protocol:       ANSI C12.18, version 1.0\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "manufacturer:   MTRP\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "model:          SIM-TOU\n"));
  EXPECT_TRUE(contains(r.out, "hardware:       1.2\n"));
  EXPECT_TRUE(contains(r.out, "firmware:       0.7\n"));
  EXPECT_TRUE(contains(r.out, "serial number:  2026-0001\n"));
  EXPECT_TRUE(contains(r.out, "device id:      TORONTO-0001\n"));
  EXPECT_TRUE(contains(r.out, "seal:           unsealed\n"));
  EXPECT_TRUE(contains(r.out, "role:           public (no password)\n"));
  EXPECT_TRUE(contains(r.out, "link:           1024-octet packets, 8 per message\n")) << r.out;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(bench.meter.last_user, "meterctl");
  EXPECT_EQ(bench.meter.logoffs, 1);  // logged off, then terminated
  EXPECT_EQ(bench.server.state(), c1218::SessionState::base);

  const auto reader = bench.run({"--password", "dev-reader", "--user", "shop-7", "identify"});
  ASSERT_EQ(reader.exit, kOk) << reader.err;
  EXPECT_TRUE(contains(reader.out, "role:           the password's")) << reader.out;
  EXPECT_EQ(bench.meter.last_user, "shop-7");
}

TEST(MeterctlCommands, IdentifyShowsARefusedTableInItsPlace) {
  Bench bench;
  bench.meter.refused_tables[5] = c1218::ResponseCode::onp;
  const auto r = bench.run({"identify"});
  ASSERT_EQ(r.exit, kOk) << r.err;
  EXPECT_TRUE(contains(r.out, "device id:      (table ST-5 was refused: operation not possible "
                              "(onp))\n"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "serial number:  2026-0001\n"));
  bench.meter.refused_tables[1] = c1218::ResponseCode::onp;  // ST-1 is what identify is for
  EXPECT_EQ(bench.run({"identify"}).exit, kRefused);
}

TEST(MeterctlCommands, ReadPrintsObjectsWithTheirUnitsAndScalers) {
  Bench bench;
  const auto r = bench.run({"read", "1-0:1.8.0", "0-0:128.7.1", "1-0:1.6.0", "0-0:1.0.0",
                            "0-0:128.1.0"});
  ASSERT_EQ(r.exit, kOk) << r.err;
  EXPECT_EQ(r.out,
            "1-0:1.8.0    123.456789 kWh\n"
            "0-0:128.7.1  0\n"
            "1-0:1.6.0    5000.000 W\n"
            "0-0:1.0.0    2026-07-15 14:30:05 EDT\n"
            "0-0:128.1.0  true\n");
}

TEST(MeterctlCommands, ReadOfALongTextComesWholeThroughMt2) {
  Bench bench;
  std::string calendar;
  for (int season = 0; season < 12; ++season) {
    calendar += "[[seasons]]\nname = \"season " + std::to_string(season) + "\"\nstart = \"01-01\"\n";
  }
  ASSERT_GT(calendar.size(), 249U);  // longer than MP-5 carries
  bench.meter.source.set(sdk::obis("0-0:13.0.0"), Value{calendar});
  const auto r = bench.run({"read", "0-0:13.0.0"});
  ASSERT_EQ(r.exit, kOk) << r.err;
  // Lines after the first are indented under it.
  std::string expected = "0-0:13.0.0  ";
  for (char c : calendar.substr(0, calendar.size() - 1)) {
    expected += c;
    if (c == '\n') expected += "            ";
  }
  EXPECT_EQ(r.out, expected + "\n");
}

TEST(MeterctlCommands, ReadGoesOnPastAMissingObjectAndExitsWithItsCode) {
  Bench bench;
  const auto r = bench.run({"read", "9-9:9.9.9", "1-0:2.8.0"});
  EXPECT_EQ(r.exit, kNoSuchObject);
  EXPECT_EQ(r.out, "1-0:2.8.0  2.000 kWh\n");
  EXPECT_EQ(r.err, "meterctl: this meter has no object 9-9:9.9.9\n");
}

TEST(MeterctlCommands, ReadingWhatThePublicMayNotNeedsAPassword) {
  Bench bench;
  const auto r = bench.run({"read", "0-0:99.98.0"});
  EXPECT_EQ(r.exit, kNotAllowed);
  EXPECT_EQ(r.err,
            "meterctl: reading 0-0:99.98.0 was refused: the public may not; give a password "
            "(isc)\n");
}

// The listing with runs of spaces squashed to one: columns without their widths.
std::string squashed(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out += c;
  }
  return out;
}

TEST(MeterctlCommands, ObjectsListsTheDirectory) {
  Bench bench;
  const auto r = bench.run({"objects"});
  ASSERT_EQ(r.exit, kOk) << r.err;
  const auto listing = squashed(r.out);
  EXPECT_EQ(listing.rfind("OBIS type unit scaler class read write legal\n", 0), 0U) << r.out;
  EXPECT_TRUE(contains(listing, "\n1-0:1.8.0 int Wh -3 read-only all - yes\n")) << r.out;
  EXPECT_TRUE(contains(listing, "\n0-0:128.7.1 int - 0 configuration all configurator no\n"));
  EXPECT_TRUE(contains(listing, "\n0-0:99.98.0 octets - 0 read-only reader,configurator,calibrator - no\n"));
  EXPECT_TRUE(contains(listing, "\n0-0:128.6.7 bool - 0 operational all configurator,calibrator no\n"));
  EXPECT_TRUE(contains(r.out, std::to_string(bench.meter.source.objects().size()) + " objects\n"));
}

TEST(MeterctlCommands, SmallPacketsStillCarryEveryTableAndObject) {
  c1218::ServerConfig config;
  config.max_packet_size = 64;  // 52 octets of table data per read
  config.max_packets = 1;
  Bench bench(config);
  const auto objects = bench.run({"objects"});
  ASSERT_EQ(objects.exit, kOk) << objects.err;
  EXPECT_TRUE(contains(objects.out, "0-0:128.6.6"));
  const auto audit = bench.run({"--password", "dev-reader", "audit"});
  ASSERT_EQ(audit.exit, kOk) << audit.err;
  EXPECT_TRUE(contains(audit.out, "records: 5 of 40")) << audit.out;
}

TEST(MeterctlCommands, TableDumpsHexAndDecodesSt1) {
  Bench bench;
  const auto r = bench.run({"table", "1"});
  ASSERT_EQ(r.exit, kOk) << r.err;
  EXPECT_TRUE(contains(r.out, "ST-1 GENERAL_MFG_ID_TBL: 32 octets\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "000000  4d 54 52 50 53 49 4d 2d  54 4f 55 20 01 02 00 07  "
                              "|MTRPSIM-TOU ....|\n"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "decoded:\n  manufacturer: MTRP\n  model: SIM-TOU\n"));

  const auto partial = bench.run({"table", "ST-1", "--offset", "4", "--count", "7"});
  ASSERT_EQ(partial.exit, kOk) << partial.err;
  EXPECT_EQ(partial.out,
            "ST-1 GENERAL_MFG_ID_TBL: octets 4 to 10 (7 octets)\n"
            "000004  53 49 4d 2d 54 4f 55                              |SIM-TOU|\n");

  const auto st23 = bench.run({"table", "ST-23"});
  ASSERT_EQ(st23.exit, kOk) << st23.err;
  EXPECT_TRUE(contains(st23.out, "  tier 4 (rate D):\n")) << st23.out;

  const auto missing = bench.run({"table", "99"});
  EXPECT_EQ(missing.exit, kNoSuchObject);
  EXPECT_EQ(missing.err, "meterctl: the meter has no table ST-99 (sns)\n");
  const auto past_end = bench.run({"table", "1", "--offset", "30", "--count", "5"});
  EXPECT_EQ(past_end.exit, kRefused);
  EXPECT_TRUE(contains(past_end.err, "(iar)")) << past_end.err;
}

TEST(MeterctlCommands, AWrongPasswordIsExitCode5AndTheSessionStillEnds) {
  Bench bench;
  const auto r = bench.run({"--password", "guess", "identify"});
  EXPECT_EQ(r.exit, kWrongPassword);
  EXPECT_EQ(r.err, "meterctl: wrong password (the meter answered isc)\n");
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(bench.meter.logoffs, 1);
  EXPECT_EQ(bench.server.state(), c1218::SessionState::base);
}

TEST(MeterctlCommands, ThreeWrongPasswordsLockThePortEvenForTheRightOne) {
  Bench bench;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bench.run({"--password", "guess", "identify"}).exit, kWrongPassword);
  const auto r = bench.run({"--password", "dev-reader", "identify"});
  EXPECT_EQ(r.exit, kLocked);
  EXPECT_TRUE(contains(r.err, "meterctl: the optical port is locked after failed logons; try "
                              "again later"))
      << r.err;
}

TEST(MeterctlCommands, ADisabledPortIsExitCode7) {
  Bench bench;
  bench.meter.port_enabled = false;
  const auto r = bench.run({"--password", "dev-reader", "identify"});
  EXPECT_EQ(r.exit, kDisabled);
  EXPECT_TRUE(contains(r.err, "the optical port is disabled")) << r.err;
}

TEST(MeterctlCommands, BillingPresetWritesTheExactReadingInMilliwattHours) {
  Bench bench;
  const auto r = bench.run({"--password", "dev-configurator", "billing", "preset", "+A", "12.5"});
  ASSERT_EQ(r.exit, kOk) << r.err;
  EXPECT_EQ(r.out, "billing preset: +A (1-0:1.8.0) set to 12.500 kWh\n");
  EXPECT_EQ(integer(bench.meter, "0-0:128.7.1"), 12'500'000);
  const auto exported = bench.run({"--password", "dev-configurator", "billing", "preset", "-A",
                                   "0.000001"});
  ASSERT_EQ(exported.exit, kOk) << exported.err;
  EXPECT_EQ(integer(bench.meter, "0-0:128.7.2"), 1);
  const auto reset = bench.run({"--password", "dev-configurator", "billing", "reset", "+A"});
  ASSERT_EQ(reset.exit, kOk) << reset.err;
  EXPECT_EQ(reset.out, "billing reset: +A (1-0:1.8.0) cleared\n");
  EXPECT_EQ(integer(bench.meter, "0-0:128.7.1"), 0);
}

TEST(MeterctlCommands, ARoleThatMayNotIsExitCode8) {
  Bench bench;
  const auto r = bench.run({"--password", "dev-reader", "billing", "preset", "+A", "12.5"});
  EXPECT_EQ(r.exit, kNotAllowed);
  EXPECT_EQ(r.err,
            "meterctl: billing preset of +A was refused: the role of this password may not "
            "(isc)\n");
  EXPECT_EQ(integer(bench.meter, "0-0:128.7.1"), 0);
}

TEST(MeterctlCommands, SealedMeterRefusesABillingResetWithExitCode9) {
  Bench bench;
  const auto seal = bench.run({"--password", "dev-configurator", "seal"});
  ASSERT_EQ(seal.exit, kOk) << seal.err;
  EXPECT_EQ(seal.out, "electronic seal set: the meter is sealed\n");
  EXPECT_TRUE(bench.meter.source.sealed);
  const auto identify = bench.run({"identify"});
  EXPECT_TRUE(contains(identify.out, "seal:           sealed: electronic seal\n")) << identify.out;

  bench.meter.source.set(sdk::obis("0-0:128.7.1"), Value{std::int64_t{777}});
  const auto reset = bench.run({"--password", "dev-configurator", "billing", "reset", "+A"});
  EXPECT_EQ(reset.exit, kSealed);
  EXPECT_EQ(reset.err, "meterctl: the meter is sealed: billing reset of +A was refused (dlk)\n");
  EXPECT_EQ(integer(bench.meter, "0-0:128.7.1"), 777);

  const auto by_configurator = bench.run({"--password", "dev-configurator", "unseal"});
  EXPECT_EQ(by_configurator.exit, kNotAllowed);
  EXPECT_TRUE(bench.meter.source.sealed);
  const auto by_calibrator = bench.run({"--password", "dev-calibrator", "unseal"});
  ASSERT_EQ(by_calibrator.exit, kOk) << by_calibrator.err;
  EXPECT_EQ(by_calibrator.out, "electronic seal broken\n");
  EXPECT_FALSE(bench.meter.source.sealed);
}

TEST(MeterctlCommands, MultiplierLedAndDemandReset) {
  Bench bench;
  const auto multiplier = bench.run({"--password", "dev-configurator", "multiplier", "2"});
  ASSERT_EQ(multiplier.exit, kOk) << multiplier.err;
  EXPECT_EQ(multiplier.out, "display multiplier set to 2\n");
  EXPECT_EQ(integer(bench.meter, "0-0:128.8.0"), 2);

  const auto led = bench.run({"--password", "dev-calibrator", "led"});
  ASSERT_EQ(led.exit, kOk) << led.err;
  EXPECT_EQ(std::get<bool>(bench.meter.source.value(sdk::obis("0-0:128.1.3"))), true);

  const auto demand = bench.run({"--password", "dev-configurator", "demand-reset"});
  ASSERT_EQ(demand.exit, kOk) << demand.err;
  EXPECT_EQ(demand.out, "demand reset done\n");
  bench.meter.source.set(sdk::obis("0-0:128.20.1"), Value{std::uint64_t{600}});  // lockout
  const auto locked_out = bench.run({"--password", "dev-configurator", "demand-reset"});
  EXPECT_EQ(locked_out.exit, kRefused);
  EXPECT_TRUE(contains(locked_out.err, "the demand reset was refused: not now")) << locked_out.err;
  bench.meter.source.remove(sdk::obis("0-0:10.0.1"));  // a meter without the demand plugin
  const auto no_demand = bench.run({"--password", "dev-configurator", "demand-reset"});
  EXPECT_EQ(no_demand.exit, kRefused);
  EXPECT_TRUE(contains(no_demand.err, "(conflict with setup)")) << no_demand.err;
}

TEST(MeterctlCommands, WriteChecksTheObjectAndItsTypeThenGoesThroughTheGate) {
  Bench bench;
  const auto r = bench.run({"--password", "dev-configurator", "write", "0-0:128.8.0", "int", "5"});
  ASSERT_EQ(r.exit, kOk) << r.err;
  EXPECT_EQ(r.out, "0-0:128.8.0 written: 5\n");
  EXPECT_EQ(integer(bench.meter, "0-0:128.8.0"), 5);

  const auto wrong_type = bench.run({"--password", "dev-configurator", "write", "0-0:128.8.0", "text", "5"});
  EXPECT_EQ(wrong_type.exit, kUsage);
  EXPECT_EQ(wrong_type.err, "meterctl: 0-0:128.8.0 takes a int value, not text\n");
  const auto missing = bench.run({"--password", "dev-configurator", "write", "9-9:9.9.9", "int", "5"});
  EXPECT_EQ(missing.exit, kNoSuchObject);
  const auto refused = bench.run({"--password", "dev-configurator", "write", "0-0:128.1.3", "bool", "false"});
  EXPECT_EQ(refused.exit, kRefused);
  EXPECT_TRUE(contains(refused.err, "writing 0-0:128.1.3 was refused: the meter took the value or "
                                    "object as invalid (invalid parameter)"))
      << refused.err;
}

TEST(MeterctlCommands, SetTimeSendsLocalTimeOrUtc) {
  Bench bench;
  const auto local = bench.run({"--password", "dev-configurator", "set-time", "2026-07-16 08:00:00"});
  ASSERT_EQ(local.exit, kOk) << local.err;
  EXPECT_TRUE(contains(local.out, "clock set to 2026-07-16 08:00:00 local time\n")) << local.out;
  EXPECT_EQ(bench.meter.source.value(sdk::obis("0-0:1.0.0")), Value{std::string("2026-07-16 08:00:00")});

  const auto now = bench.run({"--password", "dev-configurator", "set-time", "--now"});
  ASSERT_EQ(now.exit, kOk) << now.err;
  const auto& text = std::get<std::string>(bench.meter.source.value(sdk::obis("0-0:1.0.0")));
  ASSERT_EQ(text.size(), 20U) << text;
  EXPECT_EQ(text[10], 'T');
  EXPECT_EQ(text.back(), 'Z');
  const auto expected = utc_now();
  EXPECT_EQ(text.substr(0, 4), std::to_string(expected.year));

  const auto public_role = bench.run({"set-time", "--now"});
  EXPECT_EQ(public_role.exit, kNotAllowed);
  EXPECT_EQ(public_role.err,
            "meterctl: setting the time was refused: the public may not; give a password (isc)\n");
}

TEST(MeterctlCommands, SetTimeParametersAreSp10) {
  ClockSetting local{2026, 3, 8, 2, 30, 0, false};
  EXPECT_EQ(set_time_parameters(local), (std::vector<std::uint8_t>{0x03, 26, 3, 8, 2, 30, 0, 0}));
  ClockSetting utc{2099, 12, 31, 23, 59, 59, true};
  EXPECT_EQ(set_time_parameters(utc),
            (std::vector<std::uint8_t>{0x07, 99, 12, 31, 23, 59, 59, 0x10}));
  EXPECT_EQ(billing_parameters(BillingRegister::exported, 0x0102030405060708),
            (std::vector<std::uint8_t>{2, 8, 7, 6, 5, 4, 3, 2, 1}));
}

TEST(MeterctlCommands, AuditPrintsTheTrailAsTheOnSiteReport) {
  Bench bench;
  const auto r = bench.run({"--password", "dev-reader", "audit"});
  ASSERT_EQ(r.exit, kOk) << r.err;
  std::string expected;
  std::string error;
  const auto octets = std::get<std::vector<std::uint8_t>>(bench.meter.source.value(sdk::obis("0-0:99.98.0")));
  ASSERT_TRUE(meter::plugins::sealing_audit::log_octets_to_report(
      octets.data(), octets.size(), expected, error, "MTRP SIM-TOU 2026-0001"));
  EXPECT_EQ(r.out, expected);
  EXPECT_TRUE(contains(r.out, "0-0:128.7.1  123 -> 0  by optical-port/configurator")) << r.out;

  const auto public_role = bench.run({"audit"});
  EXPECT_EQ(public_role.exit, kNotAllowed);
  bench.meter.source.remove(sdk::obis("0-0:99.98.0"));
  const auto none = bench.run({"--password", "dev-reader", "audit"});
  EXPECT_EQ(none.exit, kNoSuchObject);
  EXPECT_TRUE(contains(none.err, "keeps no audit trail")) << none.err;
}

TEST(MeterctlCommands, AMeterThatStopsAnsweringIsALinkFailure) {
  Bench bench;
  bench.to_client = [](std::vector<std::uint8_t>& bytes) { bytes.clear(); };
  const auto r = bench.run({"identify"});
  EXPECT_EQ(r.exit, kLink);
  EXPECT_TRUE(contains(r.err, "meterctl: the meter did not answer in time")) << r.err;
}

TEST(MeterctlCommands, NoMeterThereIsExitCode3) {
  std::ostringstream out;
  std::ostringstream err;
  const auto failing = [](const Target& t) -> Outcome<std::unique_ptr<c1218::Transport>> {
    return Failure{Exit::connect, "cannot connect to " + t.text + ": refused"};
  };
  EXPECT_EQ(meterctl_main({"--connect", "tcp://127.0.0.1:9", "identify"}, failing, out, err),
            kConnect);
  EXPECT_EQ(err.str(), "meterctl: cannot connect to tcp://127.0.0.1:9: refused\n");
}

TEST(MeterctlTcp, IdentifiesAMeterListeningOnTheLoopbackAddress) {
  using namespace std::chrono_literals;
  TestMeter meter;
  c1218::Server server(meter);
  auto listener = c1218::TcpListener::listen("127.0.0.1", 0);
  ASSERT_TRUE(listener.ok()) << listener.error().message;
  const auto port = listener->port();
  std::atomic<bool> stop{false};
  std::thread serving([&] {
    auto link = listener->accept(c1218::Clock::now() + 30s);
    if (link) c1218::test::serve(server, *link, stop, 60s);
  });
  std::ostringstream out;
  std::ostringstream err;
  const int exit = meterctl_main({"--connect", "tcp://127.0.0.1:" + std::to_string(port),
                                  "--password", "dev-reader", "read", "1-0:1.8.0"},
                                 connect, out, err);
  stop = true;
  serving.join();
  EXPECT_EQ(exit, kOk) << err.str();
  EXPECT_EQ(out.str(), "1-0:1.8.0  123.456789 kWh\n");
}

TEST(MeterctlDevice, ReadsThroughAPseudoTerminalAsThroughAProbe) {
  using namespace std::chrono_literals;
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  const std::string device = ::ptsname(master);
  c1218::FdTransport meter_side(master);
  TestMeter meter;
  c1218::Server server(meter);
  std::atomic<bool> stop{false};
  std::thread serving([&] { c1218::test::serve(server, meter_side, stop, 60s); });
  std::ostringstream out;
  std::ostringstream err;
  const int exit = meterctl_main({"--device", device, "--password", "dev-configurator", "multiplier", "7"},
                                 connect, out, err);
  stop = true;
  serving.join();
  EXPECT_EQ(exit, kOk) << err.str();
  EXPECT_EQ(out.str(), "display multiplier set to 7\n");
  EXPECT_EQ(integer(meter, "0-0:128.8.0"), 7);
}

TEST(MeterctlDevice, NoSuchDeviceIsExitCode3) {
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(meterctl_main({"--device", "/dev/nonexistent-optical-probe", "identify"}, connect, out,
                          err),
            kConnect);
  EXPECT_TRUE(contains(err.str(), "meterctl: the optical probe cannot be used: cannot open "
                                  "/dev/nonexistent-optical-probe: "))
      << err.str();
}

TEST(MeterctlTcp, NothingListeningIsExitCode3) {
  std::uint16_t port = 0;
  {
    auto listener = c1218::TcpListener::listen("127.0.0.1", 0);
    ASSERT_TRUE(listener.ok());
    port = listener->port();
  }  // closed: nothing listens there now
  std::ostringstream out;
  std::ostringstream err;
  const int exit = meterctl_main({"--connect", "tcp://127.0.0.1:" + std::to_string(port),
                                  "identify"},
                                 connect, out, err);
  EXPECT_EQ(exit, kConnect);
  EXPECT_TRUE(contains(err.str(), "meterctl: no link to the meter: cannot connect to 127.0.0.1:"))
      << err.str();
}

}  // namespace
}  // namespace meter::apps::meterctl::testing
