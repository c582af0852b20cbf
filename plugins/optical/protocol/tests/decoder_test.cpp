// The byte-stream decoder: packets split anywhere, acknowledgements between packets, and every
// kind of malformed input reported, counted and skipped.
#include <gtest/gtest.h>

#include <random>

#include "hex.h"
#include "meter/c1218/decoder.h"

namespace meter::c1218 {
namespace {

using test::concat;
using test::hex;

const auto kIdent = hex("ee 00 00 00 00 01 20 13 10");
const auto kNegotiate = hex("ee 00 20 00 00 05 61 04 00 80 06 c2 29");

std::vector<DecodeEvent> decode(FrameDecoder& decoder, const std::vector<std::uint8_t>& bytes) {
  std::vector<DecodeEvent> events;
  decoder.feed(bytes, events);
  return events;
}

TEST(C1218FrameDecoder, DecodesAWholePacket) {
  FrameDecoder decoder;
  const auto events = decode(decoder, kNegotiate);
  ASSERT_EQ(events.size(), 1U);
  ASSERT_EQ(events[0].kind, DecodeEvent::Kind::frame);
  EXPECT_EQ(events[0].frame.control, 0x20);
  EXPECT_TRUE(events[0].frame.toggle());
  EXPECT_EQ(events[0].frame.data, hex("61 04 00 80 06"));
  EXPECT_FALSE(decoder.in_packet());
  EXPECT_EQ(decoder.counters().frames, 1U);
}

TEST(C1218FrameDecoder, EverySplitOfAPacketGivesThePacketOnce) {
  for (std::size_t cut = 0; cut <= kNegotiate.size(); ++cut) {
    FrameDecoder decoder;
    std::vector<DecodeEvent> events;
    decoder.feed(std::span(kNegotiate).first(cut), events);
    EXPECT_EQ(events.empty(), cut < kNegotiate.size()) << "cut " << cut;
    decoder.feed(std::span(kNegotiate).subspan(cut), events);
    ASSERT_EQ(events.size(), 1U) << "cut " << cut;
    EXPECT_EQ(events[0].kind, DecodeEvent::Kind::frame);
    EXPECT_EQ(events[0].frame.data, hex("61 04 00 80 06"));
  }
}

TEST(C1218FrameDecoder, EveryThreeWaySplitAndByteAtATime) {
  const auto stream = concat({kIdent, hex("06"), kNegotiate, hex("15")});
  for (std::size_t a = 0; a <= stream.size(); ++a) {
    for (std::size_t b = a; b <= stream.size(); ++b) {
      FrameDecoder decoder;
      std::vector<DecodeEvent> events;
      decoder.feed(std::span(stream).first(a), events);
      decoder.feed(std::span(stream).subspan(a, b - a), events);
      decoder.feed(std::span(stream).subspan(b), events);
      ASSERT_EQ(events.size(), 4U) << a << "," << b;
      EXPECT_EQ(events[0].kind, DecodeEvent::Kind::frame);
      EXPECT_EQ(events[1].kind, DecodeEvent::Kind::ack);
      EXPECT_EQ(events[2].kind, DecodeEvent::Kind::frame);
      EXPECT_EQ(events[3].kind, DecodeEvent::Kind::nak);
    }
  }
  FrameDecoder decoder;
  std::vector<DecodeEvent> events;
  for (const auto byte : stream) decoder.feed(std::span(&byte, 1), events);
  EXPECT_EQ(events.size(), 4U);
  EXPECT_EQ(decoder.counters().acks, 1U);
  EXPECT_EQ(decoder.counters().naks, 1U);
}

TEST(C1218FrameDecoder, GarbageBeforeStpIsOneCountedErrorThenThePacket) {
  FrameDecoder decoder;
  const auto events = decode(decoder, concat({hex("00 41 42 ff"), kIdent}));
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].kind, DecodeEvent::Kind::error);
  EXPECT_EQ(events[0].error, FrameError::garbage);
  EXPECT_EQ(events[0].bytes_dropped, 4U);
  EXPECT_EQ(events[1].kind, DecodeEvent::Kind::frame);
  EXPECT_EQ(decoder.counters().of(FrameError::garbage), 1U);
  EXPECT_EQ(decoder.counters().bytes_dropped, 4U);
}

TEST(C1218FrameDecoder, TrailingGarbageIsReportedAtTheEndOfTheChunk) {
  FrameDecoder decoder;
  const auto events = decode(decoder, hex("01 02"));
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].error, FrameError::garbage);
}

TEST(C1218FrameDecoder, BadCrcDropsThePacketAndTheNextOneDecodes) {
  auto corrupt = kIdent;
  corrupt[6] ^= 0x01;  // the service byte
  FrameDecoder decoder;
  const auto events = decode(decoder, concat({corrupt, kNegotiate}));
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].kind, DecodeEvent::Kind::error);
  EXPECT_EQ(events[0].error, FrameError::bad_crc);
  EXPECT_EQ(events[0].bytes_dropped, kIdent.size());
  EXPECT_EQ(events[1].kind, DecodeEvent::Kind::frame);
  EXPECT_EQ(decoder.counters().of(FrameError::bad_crc), 1U);
}

TEST(C1218FrameDecoder, ACorruptCrcByteIsABadCrc) {
  for (std::size_t i : {kIdent.size() - 2, kIdent.size() - 1}) {
    auto corrupt = kIdent;
    corrupt[i] ^= 0x80;
    FrameDecoder decoder;
    const auto events = decode(decoder, corrupt);
    ASSERT_EQ(events.size(), 1U);
    EXPECT_EQ(events[0].error, FrameError::bad_crc);
  }
}

TEST(C1218FrameDecoder, LengthOverTheLimitIsOversizeAndScanningResumes) {
  FrameDecoder decoder(64);  // the default packet size: 56 data bytes at most
  Frame big;
  big.data.assign(57, 0x11);
  const auto events = decode(decoder, concat({encode(big), kIdent}));
  ASSERT_GE(events.size(), 2U);
  EXPECT_EQ(events[0].kind, DecodeEvent::Kind::error);
  EXPECT_EQ(events[0].error, FrameError::oversize);
  EXPECT_EQ(events[0].bytes_dropped, kHeaderSize);
  // The rest of the refused packet is garbage until the next <stp>; then the ident decodes.
  EXPECT_EQ(events.back().kind, DecodeEvent::Kind::frame);
  EXPECT_EQ(events.back().frame.data, hex("20"));
  EXPECT_EQ(decoder.counters().of(FrameError::oversize), 1U);

  Frame fits;
  fits.data.assign(56, 0x11);
  const auto ok = decode(decoder, encode(fits));
  ASSERT_EQ(ok.size(), 1U);
  EXPECT_EQ(ok[0].kind, DecodeEvent::Kind::frame);
}

TEST(C1218FrameDecoder, TheLargestLengthIsOversizeByDefault) {
  FrameDecoder decoder;
  const auto events = decode(decoder, hex("ee 00 00 00 ff ff"));
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].error, FrameError::oversize);
  EXPECT_FALSE(decoder.in_packet());
}

TEST(C1218FrameDecoder, InterCharacterTimeoutTruncatesAPartialPacket) {
  for (std::size_t cut = 1; cut < kIdent.size(); ++cut) {
    FrameDecoder decoder;
    std::vector<DecodeEvent> events;
    decoder.feed(std::span(kIdent).first(cut), events);
    EXPECT_TRUE(decoder.in_packet());
    EXPECT_TRUE(decoder.timeout(events));
    ASSERT_EQ(events.size(), 1U);
    EXPECT_EQ(events[0].error, FrameError::truncated);
    EXPECT_EQ(events[0].bytes_dropped, cut);
    // The rest of the packet, arriving late, is garbage and no packet comes out of it.
    events.clear();
    decoder.feed(std::span(kIdent).subspan(cut), events);
    for (const auto& event : events) EXPECT_NE(event.kind, DecodeEvent::Kind::frame);
    EXPECT_EQ(decoder.counters().of(FrameError::truncated), 1U);
  }
  FrameDecoder idle;
  std::vector<DecodeEvent> none;
  EXPECT_FALSE(idle.timeout(none));
  EXPECT_TRUE(none.empty());
}

TEST(C1218FrameDecoder, ResetForgetsAPartialPacketSilently) {
  FrameDecoder decoder;
  std::vector<DecodeEvent> events;
  decoder.feed(std::span(kIdent).first(4), events);
  decoder.reset();
  decoder.feed(kIdent, events);
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].kind, DecodeEvent::Kind::frame);
}

TEST(C1218FrameDecoder, RandomBytesNeverCrashAndEveryByteIsAccountedFor) {
  std::mt19937 random(1218);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(random() % 400));
    for (auto& b : bytes) b = static_cast<std::uint8_t>(random() % 4 == 0 ? 0xEE : random());
    FrameDecoder decoder(static_cast<std::size_t>(8 + random() % 300));
    std::vector<DecodeEvent> events;
    std::size_t at = 0;
    while (at < bytes.size()) {
      const std::size_t n = std::min<std::size_t>(bytes.size() - at, 1 + random() % 17);
      decoder.feed(std::span(bytes).subspan(at, n), events);
      at += n;
    }
    std::size_t pending = decoder.in_packet() ? 1 : 0;
    decoder.timeout(events);
    std::size_t accounted = 0;
    for (const auto& e : events) {
      if (e.kind == DecodeEvent::Kind::frame) accounted += e.frame.data.size() + kPacketOverhead;
      if (e.kind == DecodeEvent::Kind::ack || e.kind == DecodeEvent::Kind::nak) ++accounted;
      if (e.kind == DecodeEvent::Kind::error) accounted += e.bytes_dropped;
    }
    EXPECT_EQ(accounted, bytes.size()) << "round " << round << " pending " << pending;
  }
}

}  // namespace
}  // namespace meter::c1218
