// The client against the server in the same process, through the loopback link on its own
// clock: whole sessions, refusals, multi-packet messages, and a link that loses, corrupts or cuts
// bytes in either direction.
#include <gtest/gtest.h>

#include "fake_endpoint.h"
#include "hex.h"
#include "meter/c1218/client.h"
#include "meter/c1218/loopback.h"

namespace meter::c1218 {
namespace {

using namespace std::chrono_literals;
using test::FakeEndpoint;
using test::hex;

class Pair {
 public:
  explicit Pair(ServerConfig config = {}) : server(endpoint, config), link(server), client(link) {}

  void open_session() {
    ASSERT_TRUE(client.identify().ok());
    ASSERT_TRUE(client.negotiate(256, 4, std::vector<std::uint8_t>{6}).ok());
    ASSERT_TRUE(client.logon(2, "shop", "secret").ok());
  }

  FakeEndpoint endpoint;
  Server server;
  LoopbackTransport link;
  Client client;
};

std::vector<std::uint8_t> bytes_0_to(std::size_t n) {
  std::vector<std::uint8_t> data(n);
  for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<std::uint8_t>(i * 7);
  return data;
}

TEST(C1218Client, RunsAWholeSession) {
  Pair pair;
  auto identity = pair.client.identify();
  ASSERT_TRUE(identity.ok()) << identity.error().message;
  EXPECT_EQ(*identity, (Identity{0, 1, 0, {}}));

  auto granted = pair.client.negotiate(512, 2, std::vector<std::uint8_t>{6});
  ASSERT_TRUE(granted.ok()) << granted.error().message;
  EXPECT_EQ(*granted, (NegotiateResponse{512, 2, 6}));
  EXPECT_EQ(pair.client.link(), (LinkParameters{512, 2, 6}));

  ASSERT_TRUE(pair.client.logon(2, "shop", "secret").ok());
  EXPECT_EQ(pair.endpoint.last_user_id, 2);
  EXPECT_EQ(pair.endpoint.last_user, "shop      ");
  EXPECT_EQ(pair.server.state(), SessionState::session);

  auto table1 = pair.client.read(1);
  ASSERT_TRUE(table1.ok()) << table1.error().message;
  EXPECT_EQ(*table1, pair.endpoint.tables[1]);
  auto part = pair.client.read(1, 2, 3);
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(*part, hex("54 52 01"));

  ASSERT_TRUE(pair.client.write(7, hex("0a 0b 0c 0d")).ok());
  EXPECT_EQ(pair.endpoint.tables[7], hex("0a 0b 0c 0d"));
  ASSERT_TRUE(pair.client.write(7, 1, hex("ff")).ok());
  EXPECT_EQ(pair.endpoint.tables[7], hex("0a ff 0c 0d"));

  ASSERT_TRUE(pair.client.wait(5).ok());
  ASSERT_TRUE(pair.client.logoff().ok());
  EXPECT_EQ(pair.server.state(), SessionState::identified);
  ASSERT_TRUE(pair.client.terminate().ok());
  EXPECT_EQ(pair.server.state(), SessionState::base);
  EXPECT_EQ(pair.client.link(), LinkParameters{});

  const auto& c = pair.client.counters();
  EXPECT_EQ(c.retries, 0U);
  EXPECT_EQ(c.naks_sent, 0U);
  EXPECT_EQ(c.frames_sent, 11U);
  EXPECT_EQ(pair.server.counters().frames_received, 11U);
}

TEST(C1218Client, RefusalsCarryTheCodeAndNameIt) {
  Pair pair;
  auto early = pair.client.read(1);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().kind, ErrorKind::response);
  EXPECT_EQ(early.error().code, ResponseCode::isss);
  EXPECT_EQ(early.error().message, "read of table 1: isss (invalid service sequence state)");

  ASSERT_TRUE(pair.client.identify().ok());
  ASSERT_TRUE(pair.client.logon(2, "shop").ok());
  const auto wrong = pair.client.security("guess");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ResponseCode::isc);
  EXPECT_EQ(wrong.error().message, "security: isc (insufficient security clearance)");

  const auto denied = pair.client.write(7, hex("01"));
  EXPECT_EQ(denied.error().code, ResponseCode::isc);
  EXPECT_EQ(pair.client.read(99).error().code, ResponseCode::onp);
  EXPECT_EQ(pair.client.logon(2, "again").error().code, ResponseCode::isss);
}

TEST(C1218Client, RefusesWhatThePacketsCannotCarryBeforeSendingIt) {
  Pair pair;
  EXPECT_EQ(pair.client.logon(1, "eleven char").error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(pair.client.security(std::string(21, 'x')).error().kind,
            ErrorKind::invalid_argument);
  EXPECT_EQ(pair.client.negotiate(8, 1).error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(pair.client.read(1, 0x1000000, 1).error().kind, ErrorKind::invalid_argument);
  // 100 bytes need two 64-byte packets; before negotiation the meter takes one.
  const auto big = pair.client.write(7, bytes_0_to(100));
  EXPECT_EQ(big.error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(pair.client.counters().frames_sent, 0U);
}

TEST(C1218Client, LargeMessagesTravelInSeveralPacketsBothWays) {
  Pair pair;
  pair.endpoint.tables[3] = bytes_0_to(600);
  pair.endpoint.tables[7].clear();
  pair.open_session();  // 256-byte packets, 4 of them
  auto table = pair.client.read(3);
  ASSERT_TRUE(table.ok()) << table.error().message;
  EXPECT_EQ(*table, pair.endpoint.tables[3]);
  EXPECT_EQ(pair.client.counters().frames_received, 4U + 3U) << "3 packets for table 3";

  const auto data = bytes_0_to(700);
  ASSERT_TRUE(pair.client.write(7, data).ok());
  EXPECT_EQ(pair.endpoint.tables[7], data);

  const auto too_big = pair.client.read(3, 0, 0xFFFF);
  ASSERT_TRUE(too_big.ok()) << "600 bytes fit in 4 packets";
  pair.endpoint.tables[3] = bytes_0_to(1100);
  EXPECT_EQ(pair.client.read(3).error().code, ResponseCode::onp);
}

TEST(C1218Client, ALostRequestIsSentAgainAfterTheResponseTimeout) {
  Pair pair;
  int dropped = 0;
  pair.link.to_server = [&](std::vector<std::uint8_t>& bytes) {
    if (bytes.size() > 1 && dropped++ == 0) bytes.clear();
  };
  const TimePoint start = pair.link.now();
  ASSERT_TRUE(pair.client.identify().ok());
  EXPECT_EQ(pair.link.now() - start, 2s) << "one response timeout";
  EXPECT_EQ(pair.client.counters().timeouts, 1U);
  EXPECT_EQ(pair.client.counters().retries, 1U);
}

TEST(C1218Client, ACorruptResponseIsNakedAndComesAgain) {
  Pair pair;
  int corrupted = 0;
  pair.link.to_client = [&](std::vector<std::uint8_t>& bytes) {
    if (bytes.size() > 2 && corrupted++ == 0) bytes.back() ^= 0x01;
  };
  auto identity = pair.client.identify();
  ASSERT_TRUE(identity.ok()) << identity.error().message;
  EXPECT_EQ(pair.client.counters().naks_sent, 1U);
  EXPECT_EQ(pair.server.counters().naks_received, 1U);
  EXPECT_EQ(pair.server.counters().retries, 1U);
}

TEST(C1218Client, AResponseWhoseAckWasLostStandsForTheAck) {
  Pair pair;
  pair.link.to_client = [](std::vector<std::uint8_t>& bytes) {
    if (!bytes.empty() && bytes.front() == kAck) bytes.erase(bytes.begin());
  };
  ASSERT_TRUE(pair.client.identify().ok());
  ASSERT_TRUE(pair.client.logon(2, "shop").ok());
  EXPECT_EQ(pair.client.counters().retries, 0U);
  EXPECT_EQ(pair.client.counters().timeouts, 0U);
}

TEST(C1218Client, ALostAckMakesTheMeterRepeatAndTheRepeatIsDropped) {
  Pair pair;
  int acks = 0;
  pair.link.to_server = [&](std::vector<std::uint8_t>& bytes) {
    if (bytes == std::vector<std::uint8_t>{kAck} && acks++ == 0) bytes.clear();
  };
  ASSERT_TRUE(pair.client.identify().ok());
  // The meter repeats its identify response after 2 s; the next exchange meets it first.
  pair.link.advance(2s);
  auto logon = pair.client.logon(2, "shop");
  ASSERT_TRUE(logon.ok()) << logon.error().message;
  EXPECT_EQ(pair.server.state(), SessionState::session);
  EXPECT_EQ(pair.server.counters().retries, 1U);
}

TEST(C1218Client, ARepeatArrivingInsideTheNextExchangeIsRecognisedAsADuplicate) {
  Pair pair;
  int acks = 0;
  pair.link.to_server = [&](std::vector<std::uint8_t>& bytes) {
    if (bytes == std::vector<std::uint8_t>{kAck} && acks++ == 0) bytes.clear();
  };
  ASSERT_TRUE(pair.client.identify().ok());
  // The next request goes out at once, so the meter drops its unacknowledged response.
  ASSERT_TRUE(pair.client.logon(2, "shop").ok());
  ASSERT_TRUE(pair.client.read(1).ok());
  EXPECT_EQ(pair.server.counters().responses_abandoned, 1U);
}

TEST(C1218Client, AMeterThatNeverAnswersIsATimeoutAfterFourAttempts) {
  Pair pair;
  pair.link.to_server = [](std::vector<std::uint8_t>& bytes) { bytes.clear(); };
  const TimePoint start = pair.link.now();
  const auto identity = pair.client.identify();
  ASSERT_FALSE(identity.ok());
  EXPECT_EQ(identity.error().kind, ErrorKind::timeout);
  EXPECT_EQ(identity.error().message, "identify: no acknowledgement after 4 attempts");
  EXPECT_EQ(pair.client.counters().frames_sent, 4U);
  EXPECT_EQ(pair.link.now() - start, 8s);
}

TEST(C1218Client, AMeterThatNaksEveryPacketIsALinkError) {
  Pair pair;
  pair.link.to_server = [](std::vector<std::uint8_t>& bytes) {
    if (bytes.size() > 8) bytes[6] ^= 0xFF;
  };
  const auto identity = pair.client.identify();
  ASSERT_FALSE(identity.ok());
  EXPECT_EQ(identity.error().kind, ErrorKind::link);
  EXPECT_EQ(pair.client.counters().naks_received, 4U);
  EXPECT_EQ(pair.server.counters().naks_sent, 4U);
}

TEST(C1218Client, AResponseCutShortIsNakedAfterTheInterCharacterTimeout) {
  Pair pair;
  int cut = 0;
  pair.link.to_client = [&](std::vector<std::uint8_t>& bytes) {
    if (bytes.size() > 6 && cut++ == 0) bytes.resize(6);
  };
  auto identity = pair.client.identify();
  ASSERT_TRUE(identity.ok()) << identity.error().message;
  EXPECT_EQ(pair.client.counters().naks_sent, 1U);
  EXPECT_EQ(pair.server.counters().retries, 1U);
}

TEST(C1218Client, NoResponseAfterTheAckIsATimeout) {
  Pair pair;
  pair.link.to_client = [](std::vector<std::uint8_t>& bytes) {
    if (bytes.size() > 1) bytes.resize(1);  // the <ack> only
  };
  const auto identity = pair.client.identify();
  ASSERT_FALSE(identity.ok());
  EXPECT_EQ(identity.error().kind, ErrorKind::timeout);
  EXPECT_EQ(identity.error().message, "identify: no response within 6000 ms");
}

TEST(C1218Client, WaitHoldsTheSessionAndSilenceEndsIt) {
  Pair pair;
  pair.open_session();
  ASSERT_TRUE(pair.client.wait(10).ok());
  pair.link.advance(15s);
  EXPECT_TRUE(pair.client.read(1).ok()) << "held for 10 s beyond the 6 s";
  pair.link.advance(6s);
  const auto late = pair.client.read(1);
  EXPECT_EQ(late.error().code, ResponseCode::isss);
  EXPECT_EQ(pair.endpoint.logoffs, 1);
}

}  // namespace
}  // namespace meter::c1218
