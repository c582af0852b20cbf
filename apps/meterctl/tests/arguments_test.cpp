// The command line: every command's arguments are checked before anything reaches the meter,
// and a bad one is exit code 2 with a message saying what to write instead.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "cli.h"

namespace meter::apps::meterctl {
namespace {

struct Parse {
  std::optional<Options> options;
  int exit = -1;
  std::string out;
  std::string err;
};

Parse parse(std::vector<std::string> args, bool with_target = true) {
  if (with_target) args.insert(args.begin(), {"--connect", "tcp://127.0.0.1:4059"});
  std::ostringstream out;
  std::ostringstream err;
  auto p = parse_arguments(std::move(args), out, err);
  return {p.options, p.exit, out.str(), err.str()};
}

void usage(std::vector<std::string> args, std::string_view says, bool with_target = true) {
  auto p = parse(args, with_target);
  EXPECT_FALSE(p.options.has_value());
  EXPECT_EQ(p.exit, 2);
  EXPECT_NE(p.err.find(says), std::string::npos) << p.err;
  EXPECT_EQ(p.err.rfind("meterctl: ", 0), 0U) << p.err;
}

class MeterctlArguments : public ::testing::Test {
 protected:
  void SetUp() override { ::unsetenv("METER_PASSWORD"); }
  void TearDown() override { ::unsetenv("METER_PASSWORD"); }
};

TEST_F(MeterctlArguments, TheMeterIsATcpAddressOrADevice) {
  auto tcp = parse({"identify"});
  ASSERT_TRUE(tcp.options);
  EXPECT_EQ(tcp.options->target.kind, Target::Kind::tcp);
  EXPECT_EQ(tcp.options->target.host, "127.0.0.1");
  EXPECT_EQ(tcp.options->target.port, 4059);
  EXPECT_EQ(tcp.options->command, Command::identify);
  EXPECT_EQ(tcp.options->user, "meterctl");
  EXPECT_FALSE(tcp.options->password);

  auto device = parse({"--device", "/dev/pts/3", "identify"}, false);
  ASSERT_TRUE(device.options);
  EXPECT_EQ(device.options->target.kind, Target::Kind::device);
  EXPECT_EQ(device.options->target.path, "/dev/pts/3");

  auto v6 = parse_connect("tcp://[::1]:7");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 7);

  usage({"identify"}, "say where the meter is", false);
  usage({"--device", "/dev/pts/3", "identify"}, "excludes");
  for (const char* bad : {"127.0.0.1:4059", "tcp://127.0.0.1", "tcp://:4059",
                          "tcp://127.0.0.1:0", "tcp://127.0.0.1:65536", "tcp://h:x",
                          "tcp://[::1"}) {
    usage({"--connect", bad, "identify"}, "tcp://HOST:PORT", false);
  }
}

TEST_F(MeterctlArguments, ThePasswordComesFromTheOptionOrTheEnvironment) {
  ::setenv("METER_PASSWORD", "dev-reader", 1);
  auto from_env = parse({"identify"});
  ASSERT_TRUE(from_env.options);
  EXPECT_EQ(from_env.options->password, "dev-reader");
  auto given = parse({"--password", "dev-configurator", "--user", "shop-7", "identify"});
  ASSERT_TRUE(given.options);
  EXPECT_EQ(given.options->password, "dev-configurator");
  EXPECT_EQ(given.options->user, "shop-7");
  usage({"--password", std::string(21, 'p'), "identify"}, "at most 20 characters");
  usage({"--user", "eleven-char", "identify"}, "at most 10 characters");
}

TEST_F(MeterctlArguments, OptionsMayFollowTheCommand) {
  auto p = parse({"read", "1-0:1.8.0", "--password", "dev-reader"});
  ASSERT_TRUE(p.options) << p.err;
  EXPECT_EQ(p.options->password, "dev-reader");
}

TEST_F(MeterctlArguments, ReadTakesOneOrMoreObisCodes) {
  auto p = parse({"read", "1-0:1.8.0", "0-0:128.7.1", "1-0:1.8.0*255"});
  ASSERT_TRUE(p.options);
  ASSERT_EQ(p.options->objects.size(), 3U);
  EXPECT_EQ(meter::sdk::to_string(p.options->objects[1]), "0-0:128.7.1");
  usage({"read"}, "OBIS is required");
  usage({"read", "1-0:1.8"}, "\"1-0:1.8\" is not an OBIS code");
}

TEST_F(MeterctlArguments, BillingNamesTheRegisterAndTheReadingInKwh) {
  auto reset = parse({"billing", "reset", "+A"});
  ASSERT_TRUE(reset.options);
  EXPECT_EQ(reset.options->command, Command::billing_reset);
  EXPECT_EQ(reset.options->billing, BillingRegister::import);
  EXPECT_EQ(reset.options->reading_mwh, 0);

  // -A reads like an option; after reset or preset it is the export register.
  auto preset = parse({"billing", "preset", "-A", "12.5"});
  ASSERT_TRUE(preset.options) << preset.err;
  EXPECT_EQ(preset.options->command, Command::billing_preset);
  EXPECT_EQ(preset.options->billing, BillingRegister::exported);
  EXPECT_EQ(preset.options->reading_mwh, 12'500'000);
  auto marked = parse({"billing", "reset", "--", "-A"});
  ASSERT_TRUE(marked.options) << marked.err;
  EXPECT_EQ(marked.options->billing, BillingRegister::exported);

  usage({"billing", "reset", "B"}, "not a billing register");
  usage({"billing", "preset", "+A", "12,5"}, "not a reading in kWh");
  usage({"billing", "preset", "+A"}, "KWH is required");
  usage({"billing"}, "subcommand");
}

TEST_F(MeterctlArguments, TheMultiplierIsOneTo240) {
  auto p = parse({"multiplier", "240"});
  ASSERT_TRUE(p.options);
  EXPECT_EQ(p.options->multiplier, 240);
  for (const char* bad : {"0", "241", "-1", "2.5", "x"}) {
    usage({"multiplier", bad}, "N is a whole number from 1 to 240");
  }
}

TEST_F(MeterctlArguments, SetTimeTakesNowOrALocalOrUtcTime) {
  auto now = parse({"set-time", "--now"});
  ASSERT_TRUE(now.options);
  EXPECT_FALSE(now.options->time);
  auto local = parse({"set-time", "2026-03-01 10:20:30"});
  ASSERT_TRUE(local.options);
  ASSERT_TRUE(local.options->time);
  EXPECT_FALSE(local.options->time->utc);
  EXPECT_EQ(local.options->time->day, 1);
  EXPECT_EQ(local.options->time->second, 30);
  auto utc = parse({"set-time", "2028-02-29T23:59:59Z"});
  ASSERT_TRUE(utc.options);
  EXPECT_TRUE(utc.options->time->utc);

  usage({"set-time"}, "set-time needs --now or a time");
  usage({"set-time", "--now", "2026-03-01 10:20:30"}, "excludes");
  usage({"set-time", "2026-02-29 10:00:00"}, "no such date");
  usage({"set-time", "2026-03-01 24:00:00"}, "no such time of day");
  usage({"set-time", "1999-12-31 23:00:00"}, "years 2000 to 2099");
  usage({"set-time", "2026-03-01 10:20"}, "not in the form");
  usage({"set-time", "2026-03-01T10:20:30"}, "not in the form");
}

TEST_F(MeterctlArguments, TablesAreNumbersOrStAndMtNames) {
  EXPECT_EQ(*parse_table("23"), 23);
  EXPECT_EQ(*parse_table("ST-23"), 23);
  EXPECT_EQ(*parse_table("MT-0"), 2048);
  EXPECT_EQ(*parse_table("2052"), 2052);
  for (const char* bad : {"", "ST-", "MT-x", "65536", "MT-65000", "-1"}) {
    EXPECT_FALSE(parse_table(bad).ok()) << bad;
  }
  auto partial = parse({"table", "1", "--offset", "4", "--count", "8"});
  ASSERT_TRUE(partial.options);
  EXPECT_EQ(partial.options->offset, 4U);
  EXPECT_EQ(partial.options->count, 8U);
  auto counted = parse({"table", "1", "--count", "4"});
  ASSERT_TRUE(counted.options);
  EXPECT_EQ(counted.options->offset, 0U);
  usage({"table", "1", "--offset", "4"}, "requires --count");
  usage({"table", "1", "--count", "0"}, "at least 1");
}

TEST_F(MeterctlArguments, WriteChecksTheValueAgainstItsType) {
  auto p = parse({"write", "0-0:128.8.0", "int", "-5"});
  ASSERT_TRUE(p.options) << p.err;
  EXPECT_EQ(p.options->write_type, METER_VALUE_INTEGER);
  EXPECT_EQ(p.options->write_text, "-5");
  usage({"write", "0-0:128.8.0", "int", "five"}, "\"five\" is not an integer");
  usage({"write", "0-0:128.8.0", "octets", "00"}, "not a value type");
  usage({"write", "0-0:128.8.0", "int"}, "VALUE is required");
}

TEST_F(MeterctlArguments, HelpListsTheCommandsAndTheExitCodes) {
  auto p = parse({"--help"}, false);
  EXPECT_FALSE(p.options);
  EXPECT_EQ(p.exit, 0);
  for (const char* says : {"identify", "billing", "set-time", "audit", "Exit codes:",
                           "5   wrong password", "9   the meter is sealed", "METER_PASSWORD"}) {
    EXPECT_NE(p.out.find(says), std::string::npos) << says;
  }
  auto billing = parse({"billing", "preset", "--help"});
  EXPECT_EQ(billing.exit, 0);
  EXPECT_NE(billing.out.find("KWH"), std::string::npos) << billing.out;
  usage({}, "A subcommand is required", false);
  usage({"frobnicate"}, "\"frobnicate\" is not a command");
}

}  // namespace
}  // namespace meter::apps::meterctl
