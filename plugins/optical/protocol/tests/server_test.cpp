// The meter-side state machine driven by a made-up clock: sessions, service states, toggle-bit
// duplicates, NAK and retransmission, the three timeouts and multi-packet messages.
#include <gtest/gtest.h>

#include "fake_endpoint.h"
#include "hex.h"
#include "meter/c1218/server.h"

namespace meter::c1218 {
namespace {

using namespace std::chrono_literals;
using test::FakeEndpoint;
using test::hex;
using test::to_hex;

/// What the server transmitted, split up.
struct Reply {
  int acks = 0;
  int naks = 0;
  std::vector<Frame> frames;
  bool ack_first = false;
};

Reply split(const std::vector<std::uint8_t>& bytes) {
  FrameDecoder decoder;
  std::vector<DecodeEvent> events;
  decoder.feed(bytes, events);
  Reply reply;
  for (std::size_t i = 0; i < events.size(); ++i) {
    auto& e = events[i];
    if (e.kind == DecodeEvent::Kind::ack) {
      ++reply.acks;
      if (i == 0) reply.ack_first = true;
    }
    if (e.kind == DecodeEvent::Kind::nak) ++reply.naks;
    if (e.kind == DecodeEvent::Kind::frame) reply.frames.push_back(e.frame);
    EXPECT_NE(e.kind, DecodeEvent::Kind::error) << "server sent bad bytes: " << to_hex(bytes);
  }
  return reply;
}

class Rig {
 public:
  explicit Rig(ServerConfig config = {}) : server(endpoint, config) {
    server.set_log([this](std::string_view line) { log.emplace_back(line); });
  }

  /// Sends one request packet (toggling like termineter) and returns what came back.
  std::vector<std::uint8_t> send(const std::vector<std::uint8_t>& psem, std::uint8_t control = 0) {
    Frame frame;
    frame.control = static_cast<std::uint8_t>(control | (toggle ? ctrl::kToggle : 0));
    toggle = !toggle;
    frame.data = psem;
    last_packet = encode(frame);
    return server.feed(last_packet, now);
  }

  /// Sends a request, acknowledges its single-packet response and returns the response data.
  std::vector<std::uint8_t> exchange(const std::vector<std::uint8_t>& psem) {
    const auto reply = split(send(psem));
    EXPECT_EQ(reply.acks, 1) << to_hex(psem);
    EXPECT_TRUE(reply.ack_first);
    EXPECT_EQ(reply.frames.size(), 1U) << to_hex(psem);
    EXPECT_TRUE(ack().empty());
    return reply.frames.empty() ? std::vector<std::uint8_t>{} : reply.frames[0].data;
  }

  std::vector<std::uint8_t> ack() { return server.feed(hex("06"), now); }
  std::vector<std::uint8_t> nak() { return server.feed(hex("15"), now); }
  std::vector<std::uint8_t> wait(std::chrono::milliseconds d) {
    now += d;
    return server.poll(now);
  }

  void log_on() {
    EXPECT_EQ(exchange(hex("20")), hex("00 00 01 00 00"));
    EXPECT_EQ(exchange(hex("50 00 02 30 30 30 30 20 20 20 20 20 20")), hex("00"));
    EXPECT_EQ(server.state(), SessionState::session);
  }

  FakeEndpoint endpoint;
  Server server;
  TimePoint now = TimePoint{} + 1000h;
  bool toggle = false;
  std::vector<std::uint8_t> last_packet;
  std::vector<std::string> log;
};

TEST(C1218Server, AnswersThePublishedIdentifyAndNegotiateTraceByteForByte) {
  ServerConfig config;
  config.max_packets = 128;
  Rig rig(config);
  EXPECT_EQ(to_hex(rig.server.feed(hex("ee 00 00 00 00 01 20 13 10"), rig.now)),
            "06 ee 00 00 00 00 05 00 00 01 00 00 c6 b5");
  EXPECT_TRUE(rig.ack().empty());
  EXPECT_EQ(to_hex(rig.server.feed(hex("ee 00 20 00 00 05 61 04 00 80 06 c2 29"), rig.now)),
            "06 ee 00 20 00 00 05 00 04 00 80 06 35 83");
  EXPECT_TRUE(rig.ack().empty());
  EXPECT_EQ(rig.server.link(), (LinkParameters{1024, 128, 6}));
}

TEST(C1218Server, RunsATermineterStyleSession) {
  Rig rig;
  EXPECT_EQ(rig.server.state(), SessionState::base);
  EXPECT_EQ(rig.exchange(hex("20")), hex("00 00 01 00 00"));
  EXPECT_EQ(rig.server.state(), SessionState::identified);
  EXPECT_EQ(rig.exchange(hex("61 02 00 02 06")), hex("00 02 00 02 06"));
  EXPECT_EQ(rig.server.link(), (LinkParameters{512, 2, 6}));
  EXPECT_EQ(rig.exchange(hex("50 00 00 30 30 30 30 20 20 20 20 20 20")), hex("00"));
  EXPECT_EQ(rig.endpoint.last_user, "0000      ");
  EXPECT_EQ(rig.exchange(encode(SecurityRequest{*password_field("secret")})), hex("00"));
  EXPECT_TRUE(rig.endpoint.cleared);
  EXPECT_EQ(rig.exchange(hex("30 00 01")), encode_read_response(rig.endpoint.tables[1]));
  EXPECT_EQ(rig.exchange(hex("3f 00 01 00 00 04 00 02")), hex("00 00 02 01 02 fd"));
  EXPECT_EQ(rig.exchange(hex("40 00 07 00 03 01 02 03 fa")), hex("00"));
  EXPECT_EQ(rig.endpoint.tables[7], hex("01 02 03"));
  EXPECT_EQ(rig.exchange(hex("4f 00 07 00 00 01 00 01 09 f7")), hex("00"));
  EXPECT_EQ(rig.endpoint.tables[7], hex("01 09 03"));
  EXPECT_EQ(rig.exchange(hex("21")), hex("00"));
  EXPECT_EQ(rig.server.state(), SessionState::base);
  EXPECT_EQ(rig.endpoint.logoffs, 1);
  EXPECT_EQ(rig.server.link(), LinkParameters{});

  const auto& c = rig.server.counters();
  EXPECT_EQ(c.frames_received, 9U);
  EXPECT_EQ(c.frames_sent, 9U);
  EXPECT_EQ(c.requests, 9U);
  EXPECT_EQ(c.requests_refused, 0U);
  EXPECT_EQ(c.sessions, 1U);
  EXPECT_EQ(c.naks_sent, 0U);
  EXPECT_EQ(c.retries, 0U);
  EXPECT_FALSE(rig.server.next_deadline().has_value()) << "nothing to wait for in base state";
}

TEST(C1218Server, ResponsesToggleTheirOwnBitFromZero) {
  Rig rig;
  const auto first = split(rig.send(hex("20")));
  rig.ack();
  const auto second = split(rig.send(hex("20")));
  rig.ack();
  ASSERT_EQ(first.frames.size(), 1U);
  ASSERT_EQ(second.frames.size(), 1U);
  EXPECT_FALSE(first.frames[0].toggle());
  EXPECT_TRUE(second.frames[0].toggle());
}

TEST(C1218Server, ServicesOutOfTheirStateAreIsss) {
  Rig rig;
  EXPECT_EQ(rig.exchange(hex("30 00 01")), hex("0a")) << "read before identify";
  EXPECT_EQ(rig.exchange(hex("50 00 02 30 30 30 30 20 20 20 20 20 20")), hex("0a"));
  EXPECT_EQ(rig.exchange(hex("60 00 40 01")), hex("0a")) << "negotiate before identify";
  EXPECT_EQ(rig.exchange(hex("70 05")), hex("0a")) << "wait before identify";
  EXPECT_EQ(rig.exchange(hex("30 00")), hex("0a")) << "a malformed read is first out of state";
  EXPECT_EQ(rig.exchange(hex("20")), hex("00 00 01 00 00"));
  EXPECT_EQ(rig.exchange(hex("51 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00")),
            hex("0a"))
      << "security before logon";
  EXPECT_EQ(rig.exchange(hex("52")), hex("0a")) << "logoff before logon";
  EXPECT_EQ(rig.exchange(hex("40 00 07 00 01 05 fb")), hex("0a")) << "write before logon";
  EXPECT_EQ(rig.exchange(hex("50 00 02 30 30 30 30 20 20 20 20 20 20")), hex("00"));
  EXPECT_EQ(rig.exchange(hex("50 00 02 30 30 30 30 20 20 20 20 20 20")), hex("0a"))
      << "a second logon";
  EXPECT_EQ(rig.exchange(hex("60 00 40 01")), hex("0a")) << "negotiate in session";
  EXPECT_EQ(rig.exchange(hex("20")), hex("0a")) << "identify in session";
  EXPECT_EQ(rig.endpoint.logons, 1);
  EXPECT_EQ(rig.endpoint.reads, 0);
  EXPECT_EQ(rig.endpoint.writes, 0);
  EXPECT_EQ(rig.server.counters().requests_refused, 11U);
}

TEST(C1218Server, UnknownMalformedAndCorruptRequestsGetTheirCodes) {
  Rig rig;
  EXPECT_EQ(rig.exchange(hex("7f")), hex("02")) << "unknown: sns, in any state";
  EXPECT_EQ(rig.exchange(hex("3e")), hex("02")) << "default read: sns";
  rig.log_on();
  EXPECT_EQ(rig.exchange(hex("31 00 01 00 00 00 01")), hex("02")) << "index read: sns";
  EXPECT_EQ(rig.exchange(hex("30 00 01 00")), hex("05")) << "malformed read: iar";
  EXPECT_EQ(rig.exchange(hex("3f 00 01 00 00")), hex("05"));
  EXPECT_EQ(rig.exchange(hex("40 00 07 00 03 01 02 03 fb")), hex("01")) << "bad checksum: err";
  EXPECT_EQ(rig.exchange({}), hex("05")) << "empty request";
  EXPECT_EQ(rig.endpoint.writes, 0);
  EXPECT_EQ(rig.endpoint.reads, 0);
  EXPECT_EQ(rig.server.state(), SessionState::session);
  EXPECT_FALSE(rig.log.empty());
}

TEST(C1218Server, TheMetersAnswersPassThrough) {
  Rig rig;
  rig.log_on();
  EXPECT_EQ(rig.exchange(encode(SecurityRequest{*password_field("wrong")})), hex("03"));
  EXPECT_EQ(rig.exchange(hex("40 00 07 00 01 05 fb")), hex("03")) << "not cleared: isc";
  EXPECT_EQ(rig.exchange(hex("30 00 63")), hex("04")) << "no table 99: onp";
  EXPECT_EQ(rig.exchange(hex("40 00 01 00 01 05 fb")), hex("05")) << "read-only: iar";
  rig.endpoint.throw_on_read = true;
  EXPECT_EQ(rig.exchange(hex("30 00 01")), hex("01")) << "a meter failure is err";
  EXPECT_EQ(rig.exchange(hex("52")), hex("00"));
  EXPECT_EQ(rig.server.state(), SessionState::identified);
  EXPECT_EQ(rig.endpoint.logoffs, 1);

  rig.endpoint.refuse_logon = true;
  EXPECT_EQ(rig.exchange(hex("50 00 02 30 30 30 30 20 20 20 20 20 20")), hex("01"));
  EXPECT_EQ(rig.server.state(), SessionState::identified);
  EXPECT_EQ(rig.server.counters().sessions, 1U);
}

TEST(C1218Server, ARetransmittedRequestIsAcknowledgedAndAnsweredAgainNotExecutedTwice) {
  Rig rig;
  rig.log_on();
  const auto first = rig.send(hex("30 00 01"));
  ASSERT_EQ(split(first).frames.size(), 1U);
  // The requester missed our <ack> and sends the same packet, same toggle bit, again.
  const auto again = rig.server.feed(rig.last_packet, rig.now);
  EXPECT_EQ(again, first) << "the same <ack> and the same response packet";
  rig.ack();
  // Even after the response was acknowledged.
  EXPECT_EQ(rig.server.feed(rig.last_packet, rig.now), first);
  rig.ack();
  EXPECT_EQ(rig.endpoint.reads, 1);
  EXPECT_EQ(rig.server.counters().duplicates, 2U);
  EXPECT_EQ(rig.server.counters().requests, 3U);
}

TEST(C1218Server, ADuplicateWriteIsNotAppliedTwice) {
  Rig rig;
  rig.log_on();
  rig.exchange(encode(SecurityRequest{*password_field("secret")}));
  rig.send(hex("40 00 07 00 01 05 fb"));
  rig.ack();
  rig.endpoint.tables[7] = hex("00");  // changed since: a second execution would show
  rig.server.feed(rig.last_packet, rig.now);
  rig.ack();
  EXPECT_EQ(rig.endpoint.writes, 1);
  EXPECT_EQ(rig.endpoint.tables[7], hex("00"));
}

TEST(C1218Server, TheSameRequestWithTheOtherToggleIsExecuted) {
  Rig rig;
  rig.log_on();
  rig.exchange(hex("30 00 01"));
  rig.exchange(hex("30 00 01"));
  EXPECT_EQ(rig.endpoint.reads, 2);
  EXPECT_EQ(rig.server.counters().duplicates, 0U);
}

TEST(C1218Server, AClientThatNeverTogglesStillGetsEachNewRequestExecuted) {
  Rig rig;
  auto plain = [&](const char* psem) {
    Frame frame;
    frame.data = hex(psem);
    const auto reply = split(rig.server.feed(encode(frame), rig.now));
    rig.ack();
    return reply.frames.at(0).data;
  };
  EXPECT_EQ(plain("20"), hex("00 00 01 00 00"));
  EXPECT_EQ(plain("50 00 02 30 30 30 30 20 20 20 20 20 20"), hex("00"));
  EXPECT_EQ(plain("30 00 01"), encode_read_response(rig.endpoint.tables[1]));
  EXPECT_EQ(rig.server.state(), SessionState::session);
}

TEST(C1218Server, ANakBringsTheSameResponsePacketAgain) {
  Rig rig;
  const auto reply = split(rig.send(hex("20")));
  ASSERT_EQ(reply.frames.size(), 1U);
  const auto again = split(rig.nak());
  ASSERT_EQ(again.frames.size(), 1U);
  EXPECT_EQ(again.frames[0], reply.frames[0]) << "same packet, same toggle bit";
  EXPECT_EQ(again.acks, 0);
  EXPECT_TRUE(rig.ack().empty());
  EXPECT_EQ(rig.server.counters().naks_received, 1U);
  EXPECT_EQ(rig.server.counters().retries, 1U);
  EXPECT_TRUE(rig.nak().empty()) << "a NAK with nothing outstanding is ignored";
}

TEST(C1218Server, ABadPacketIsNakedAndNotExecuted) {
  Rig rig;
  auto corrupt = hex("ee 00 00 00 00 01 20 13 11");
  EXPECT_EQ(to_hex(rig.server.feed(corrupt, rig.now)), "15");
  EXPECT_EQ(rig.server.state(), SessionState::base);
  EXPECT_EQ(rig.server.counters().refused_for(FrameError::bad_crc), 1U);
  EXPECT_EQ(rig.server.counters().naks_sent, 1U);
  // The requester sends it again, intact.
  EXPECT_EQ(to_hex(rig.server.feed(hex("ee 00 00 00 00 01 20 13 10"), rig.now)),
            "06 ee 00 00 00 00 05 00 00 01 00 00 c6 b5");
}

TEST(C1218Server, OversizeIsNakedAndGarbageIsDroppedSilently) {
  Rig rig;  // 1024-byte packets at most
  EXPECT_EQ(to_hex(rig.server.feed(hex("ee 00 00 00 04 00"), rig.now)), "15");
  EXPECT_EQ(rig.server.counters().refused_for(FrameError::oversize), 1U);
  EXPECT_TRUE(rig.server.feed(hex("01 02 03 41"), rig.now).empty());
  EXPECT_EQ(rig.server.counters().refused_for(FrameError::garbage), 1U);
  EXPECT_EQ(rig.server.counters().bytes_dropped, 6U + 4U);
  EXPECT_EQ(rig.exchange(hex("20")), hex("00 00 01 00 00"));
}

TEST(C1218Server, AnUnacknowledgedResponseIsRetriedThreeTimesThenTheSessionEnds) {
  Rig rig;
  rig.log_on();
  const auto response = split(rig.send(hex("30 00 01"))).frames.at(0);
  EXPECT_EQ(rig.server.next_deadline(), rig.now + 2s);
  EXPECT_TRUE(rig.wait(1999ms).empty());
  for (int retry = 1; retry <= 3; ++retry) {
    const auto again = split(rig.wait(retry == 1 ? 1ms : 2000ms));
    ASSERT_EQ(again.frames.size(), 1U) << "retry " << retry;
    EXPECT_EQ(again.frames[0], response);
  }
  EXPECT_EQ(rig.endpoint.logoffs, 0);
  EXPECT_TRUE(rig.wait(2000ms).empty());
  EXPECT_EQ(rig.server.state(), SessionState::base);
  EXPECT_EQ(rig.endpoint.logoffs, 1) << "the logon is released";
  const auto& c = rig.server.counters();
  EXPECT_EQ(c.retries, 3U);
  EXPECT_EQ(c.response_timeouts, 4U);
  EXPECT_EQ(c.responses_failed, 1U);
  EXPECT_TRUE(rig.ack().empty()) << "a late <ack> changes nothing";
  EXPECT_EQ(rig.exchange(hex("30 00 01")), hex("0a"));
}

TEST(C1218Server, NaksPastTheRetriesEndTheSessionToo) {
  Rig rig;
  rig.log_on();
  rig.send(hex("30 00 01"));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(split(rig.nak()).frames.size(), 1U);
  EXPECT_TRUE(rig.nak().empty());
  EXPECT_EQ(rig.server.state(), SessionState::base);
  EXPECT_EQ(rig.server.counters().responses_failed, 1U);
  EXPECT_EQ(rig.endpoint.logoffs, 1);
}

TEST(C1218Server, SixSecondsWithoutTrafficEndTheSessionAndReleaseTheLogon) {
  Rig rig;
  rig.log_on();
  EXPECT_EQ(rig.server.next_deadline(), rig.now + 6s);
  rig.wait(5999ms);
  EXPECT_EQ(rig.server.state(), SessionState::session);
  rig.wait(1ms);
  EXPECT_EQ(rig.server.state(), SessionState::base);
  EXPECT_EQ(rig.endpoint.logoffs, 1);
  EXPECT_EQ(rig.server.counters().channel_timeouts, 1U);
  EXPECT_TRUE(std::any_of(rig.log.begin(), rig.log.end(), [](const std::string& line) {
    return line.find("channel traffic timeout") != std::string::npos;
  }));
  rig.wait(60s);
  EXPECT_EQ(rig.endpoint.logoffs, 1) << "released once";
  EXPECT_EQ(rig.exchange(hex("30 00 01")), hex("0a"));
}

TEST(C1218Server, TheChannelTimeoutRunsFromTheLastTrafficAndAlsoEndsTheIdentifiedState) {
  Rig rig;
  rig.exchange(hex("20"));
  rig.wait(5s);
  rig.ack();  // traffic, though nothing waits for it
  rig.wait(5s);
  EXPECT_EQ(rig.server.state(), SessionState::identified);
  rig.wait(1s);
  EXPECT_EQ(rig.server.state(), SessionState::base);
  EXPECT_EQ(rig.endpoint.logoffs, 0) << "no logon to release";
  EXPECT_EQ(rig.server.counters().channel_timeouts, 1U);
}

TEST(C1218Server, ABytesFedAfterTheTimeoutAreHandledInTheBaseState) {
  Rig rig;
  rig.log_on();
  rig.now += 7s;
  EXPECT_EQ(rig.exchange(hex("30 00 01")), hex("0a"));
  EXPECT_EQ(rig.endpoint.logoffs, 1);
}

TEST(C1218Server, WaitExtendsTheNextChannelTimeout) {
  Rig rig;
  rig.log_on();
  EXPECT_EQ(rig.exchange(hex("70 0a")), hex("00"));
  EXPECT_EQ(rig.server.next_deadline(), rig.now + 16s);
  rig.wait(15s);
  EXPECT_EQ(rig.server.state(), SessionState::session);
  rig.wait(1s);
  EXPECT_EQ(rig.server.state(), SessionState::base);
}

TEST(C1218Server, TheExtensionLastsUntilTheNextPacket) {
  Rig rig;
  rig.log_on();
  rig.exchange(hex("70 0a"));
  rig.wait(3s);
  rig.exchange(hex("30 00 01"));
  rig.wait(6s);
  EXPECT_EQ(rig.server.state(), SessionState::base);
}

TEST(C1218Server, APacketThatStopsMidwayIsNakedAfterTheInterCharacterTimeout) {
  Rig rig;
  const auto packet = hex("ee 00 00 00 00 01 20 13 10");
  EXPECT_TRUE(rig.server.feed(std::span(packet).first(4), rig.now).empty());
  EXPECT_EQ(rig.server.next_deadline(), rig.now + 500ms);
  EXPECT_TRUE(rig.wait(499ms).empty());
  EXPECT_EQ(to_hex(rig.wait(1ms)), "15");
  EXPECT_EQ(rig.server.counters().refused_for(FrameError::truncated), 1U);
  // The rest arriving late is garbage, not a packet.
  EXPECT_TRUE(rig.server.feed(std::span(packet).subspan(4), rig.now).empty());
  EXPECT_EQ(rig.server.state(), SessionState::base);
}

TEST(C1218Server, GapsShorterThanTheInterCharacterTimeoutAreFine) {
  Rig rig;
  const auto packet = hex("ee 00 00 00 00 01 20 13 10");
  std::vector<std::uint8_t> out;
  for (const auto byte : packet) {
    rig.now += 499ms;
    auto sent = rig.server.feed(std::span(&byte, 1), rig.now);
    out.insert(out.end(), sent.begin(), sent.end());
  }
  EXPECT_EQ(to_hex(out), "06 ee 00 00 00 00 05 00 00 01 00 00 c6 b5");
}

TEST(C1218Server, ATimeoutBeforeNewBytesTruncatesTheOldPacketFirst) {
  Rig rig;
  const auto packet = hex("ee 00 00 00 00 01 20 13 10");
  rig.server.feed(std::span(packet).first(3), rig.now);
  rig.now += 2s;
  EXPECT_EQ(to_hex(rig.server.feed(packet, rig.now)),
            "15 06 ee 00 00 00 00 05 00 00 01 00 00 c6 b5");
}

std::vector<std::uint8_t> bytes_0_to(std::size_t n) {
  std::vector<std::uint8_t> data(n);
  for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<std::uint8_t>(i);
  return data;
}

TEST(C1218Server, ALargeReadGoesOutInNegotiatedPacketsOnePerAck) {
  Rig rig;
  rig.endpoint.tables[2] = bytes_0_to(150);
  EXPECT_EQ(rig.exchange(hex("20")), hex("00 00 01 00 00"));
  EXPECT_EQ(rig.exchange(hex("60 00 40 04")), hex("00 00 40 04 06"));
  EXPECT_EQ(rig.exchange(hex("50 00 02 30 30 30 30 20 20 20 20 20 20")), hex("00"));

  auto reply = split(rig.send(hex("30 00 02")));
  ASSERT_EQ(reply.frames.size(), 1U) << "one packet at a time";
  std::vector<Frame> packets = {reply.frames[0]};
  // A NAK in the middle brings the same packet again.
  reply = split(rig.ack());
  ASSERT_EQ(reply.frames.size(), 1U);
  packets.push_back(reply.frames[0]);
  const auto repeated = split(rig.nak());
  ASSERT_EQ(repeated.frames.size(), 1U);
  EXPECT_EQ(repeated.frames[0], packets[1]);
  reply = split(rig.ack());
  ASSERT_EQ(reply.frames.size(), 1U);
  packets.push_back(reply.frames[0]);
  EXPECT_TRUE(rig.ack().empty());

  const std::uint8_t first = ctrl::kMultiPacket | ctrl::kFirstPacket;
  EXPECT_EQ(packets[0].control & ~ctrl::kToggle, first);
  EXPECT_EQ(packets[1].control & ~ctrl::kToggle, ctrl::kMultiPacket);
  EXPECT_EQ(packets[2].control & ~ctrl::kToggle, ctrl::kMultiPacket);
  EXPECT_EQ(packets[0].sequence, 2);
  EXPECT_EQ(packets[1].sequence, 1);
  EXPECT_EQ(packets[2].sequence, 0);
  EXPECT_NE(packets[0].toggle(), packets[1].toggle());
  EXPECT_NE(packets[1].toggle(), packets[2].toggle());
  std::vector<std::uint8_t> joined;
  for (const auto& p : packets) {
    EXPECT_LE(p.data.size() + kPacketOverhead, 64U);
    joined.insert(joined.end(), p.data.begin(), p.data.end());
  }
  EXPECT_EQ(*parse_read_response(joined), rig.endpoint.tables[2]);
  EXPECT_EQ(rig.server.counters().frames_sent, 3U + 4U);
}

TEST(C1218Server, AResponseLargerThanTheNegotiatedPacketsIsOnp) {
  Rig rig;
  rig.endpoint.tables[2] = bytes_0_to(57);  // 61 bytes of response: two 64-byte packets
  rig.log_on();
  EXPECT_EQ(rig.exchange(hex("30 00 02")), hex("04"));
  EXPECT_EQ(rig.exchange(hex("3f 00 02 00 00 00 00 34")),
            encode_read_response(bytes_0_to(52)))
      << "a partial read that fits is fine";
}

TEST(C1218Server, AResponseNeedingMoreThan256TinyPacketsIsOnpToo) {
  // Found by the fuzzer: 3004 bytes in 14-byte packets would be 501 packets.
  Rig rig;
  rig.endpoint.tables[64] = std::vector<std::uint8_t>(3000, 0x5A);
  rig.exchange(hex("20"));
  EXPECT_EQ(rig.exchange(hex("60 00 0e 08")), hex("00 00 0e 08 06"));
  rig.exchange(hex("50 00 02 30 30 30 30 20 20 20 20 20 20"));
  const auto reply = split(rig.send(hex("30 00 40")));
  ASSERT_EQ(reply.frames.size(), 1U);
  EXPECT_EQ(reply.frames[0].data, hex("04"));
}

TEST(C1218Server, AMultiPacketRequestIsReassembled) {
  Rig rig;
  rig.log_on();
  rig.exchange(encode(SecurityRequest{*password_field("secret")}));
  rig.endpoint.tables[7].clear();
  const auto data = bytes_0_to(100);
  const auto frames = split_message(encode(WriteRequest{7, std::nullopt, data}), 64);
  ASSERT_EQ(frames.size(), 2U);
  auto first = frames[0];
  first.control |= rig.toggle ? ctrl::kToggle : 0;
  auto second = frames[1];
  second.control |= rig.toggle ? 0 : ctrl::kToggle;
  EXPECT_EQ(to_hex(rig.server.feed(encode(first), rig.now)), "06");
  const auto reply = split(rig.server.feed(encode(second), rig.now));
  ASSERT_EQ(reply.frames.size(), 1U);
  EXPECT_EQ(reply.frames[0].data, hex("00"));
  EXPECT_EQ(rig.endpoint.tables[7], data);
}

TEST(C1218Server, MultiPacketRequestPacketsOutOfSequenceAreDropped) {
  Rig rig;
  rig.log_on();
  Frame orphan;
  orphan.control = ctrl::kMultiPacket;
  orphan.sequence = 0;
  orphan.data = hex("30 00 01");
  EXPECT_EQ(to_hex(rig.server.feed(encode(orphan), rig.now)), "06") << "acknowledged, dropped";
  Frame first;
  first.control = ctrl::kMultiPacket | ctrl::kFirstPacket | ctrl::kToggle;
  first.sequence = 2;
  first.data = hex("30");
  rig.server.feed(encode(first), rig.now);
  Frame skipped;
  skipped.control = ctrl::kMultiPacket;
  skipped.sequence = 0;  // 1 expected
  skipped.data = hex("00 01");
  EXPECT_EQ(to_hex(rig.server.feed(encode(skipped), rig.now)), "06");
  Frame too_many;
  too_many.control = ctrl::kMultiPacket | ctrl::kFirstPacket | ctrl::kToggle;
  too_many.sequence = 8;  // 9 packets, 8 at most
  too_many.data = hex("30");
  EXPECT_EQ(to_hex(rig.server.feed(encode(too_many), rig.now)), "06");
  EXPECT_EQ(rig.server.counters().out_of_sequence, 3U);
  EXPECT_EQ(rig.endpoint.reads, 0);
}

TEST(C1218Server, NegotiateGrantsWhatBothSidesCanAndTerminateRestoresTheDefaults) {
  ServerConfig config;
  config.max_packet_size = 256;
  config.max_packets = 4;
  config.baud_rates = (1U << 6) | (1U << 8);
  Rig rig(config);
  rig.exchange(hex("20"));
  EXPECT_EQ(rig.exchange(hex("63 04 00 10 06 08 0a")), hex("00 01 00 04 08"))
      << "256 bytes, 4 packets, 19200 baud (57600 is not supported)";
  EXPECT_EQ(rig.server.link(), (LinkParameters{256, 4, 8}));
  EXPECT_EQ(rig.exchange(hex("60 00 80 02")), hex("00 00 80 02 08")) << "no rate: keep it";
  EXPECT_EQ(rig.exchange(hex("61 00 80 02 0a")), hex("00 00 80 02 08")) << "none supported";
  EXPECT_EQ(rig.exchange(hex("21")), hex("00"));
  EXPECT_EQ(rig.server.link(), LinkParameters{});
}

TEST(C1218Server, ANegotiateResponseGoesOutBeforeItsParametersApply) {
  Rig rig;
  rig.exchange(hex("20"));
  // Packets of 9 bytes carry one data byte: the 5-byte response must still go out in one.
  EXPECT_EQ(rig.exchange(hex("60 00 09 01")), hex("00 00 09 01 06"));
  EXPECT_EQ(rig.exchange(hex("20")), hex("04")) << "then nothing larger than a byte fits";
}

TEST(C1218Server, OtherDataFormatsAreNotSupported) {
  Rig rig;
  Frame frame;
  frame.control = 0x01;  // C12.22 EPSEM
  frame.data = hex("20");
  const auto reply = split(rig.server.feed(encode(frame), rig.now));
  ASSERT_EQ(reply.frames.size(), 1U);
  EXPECT_EQ(reply.frames[0].data, hex("02"));
  EXPECT_EQ(rig.server.state(), SessionState::base);
}

TEST(C1218Server, DisconnectEndsTheSessionLikeTerminate) {
  Rig rig;
  rig.log_on();
  EXPECT_EQ(rig.exchange(hex("22")), hex("00"));
  EXPECT_EQ(rig.server.state(), SessionState::base);
  EXPECT_EQ(rig.endpoint.logoffs, 1);
}

TEST(C1218Server, ARetransmittedTerminateIsRecognisedAfterTheSessionEnded) {
  Rig rig;
  rig.log_on();
  const auto first = rig.send(hex("21"));
  EXPECT_EQ(rig.server.feed(rig.last_packet, rig.now), first);
  EXPECT_EQ(rig.endpoint.logoffs, 1);
  EXPECT_EQ(rig.server.counters().duplicates, 1U);
}

TEST(C1218Server, ResetEndsTheSessionWithoutCountingATimeout) {
  Rig rig;
  rig.log_on();
  rig.send(hex("30 00 01"));
  rig.server.reset();
  EXPECT_EQ(rig.server.state(), SessionState::base);
  EXPECT_EQ(rig.endpoint.logoffs, 1);
  EXPECT_EQ(rig.server.counters().channel_timeouts, 0U);
  EXPECT_FALSE(rig.server.next_deadline().has_value());
  EXPECT_TRUE(rig.wait(10s).empty()) << "no retransmission after a reset";
}

TEST(C1218Server, ANewRequestBeforeTheAckDropsTheOldResponse) {
  Rig rig;
  rig.send(hex("20"));
  const auto reply = split(rig.send(hex("20")));
  EXPECT_EQ(reply.frames.size(), 1U);
  EXPECT_EQ(rig.server.counters().responses_abandoned, 1U);
  rig.ack();
  EXPECT_TRUE(rig.wait(3s).empty()) << "nothing left to retransmit";
}

}  // namespace
}  // namespace meter::c1218
