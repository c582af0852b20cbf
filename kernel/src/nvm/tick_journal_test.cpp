// The tick journal: what a killed process leaves is exactly the last committed group.
#include "detail/tick_journal.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>

namespace meter::kernel::detail {
namespace {

std::string segment_name() {
  static int n = 0;
  return "/meterd-test-journal-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

struct Segment {
  std::string name = segment_name();
  ~Segment() { TickJournal::remove(name); }
};

const MeterId kMeter = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

std::optional<Value> value_of(const TickJournal::Found& f, const std::string& ns,
                              const std::string& key, bool& present) {
  for (const auto& w : f.writes) {
    if (w.name_space == ns && w.key == key) {
      present = true;
      return w.value;
    }
  }
  present = false;
  return std::nullopt;
}

TEST(TickJournal, ANewSegmentHoldsNothingToRecover) {
  Segment s;
  auto j = TickJournal::open(s.name);
  ASSERT_TRUE(j) << j.error().message;
  EXPECT_FALSE((*j)->found().has_value());
}

TEST(TickJournal, WhatALaterProcessFindsIsTheLastCommittedGroupOnly) {
  Segment s;
  {
    auto j = TickJournal::open(s.name);
    ASSERT_TRUE(j);
    ASSERT_TRUE((*j)->reset(kMeter, 7, {}));
    for (std::int64_t tick = 1; tick <= 1000; ++tick) {
      const Value reg{tick * 10};
      const Value rate{tick};
      ASSERT_TRUE((*j)->stage("kernel", "registers", &reg));
      ASSERT_TRUE((*j)->stage("tou", "rates", &rate, true));
      (*j)->commit();
    }
    // The process dies in the middle of tick 1001: its first write staged, the second not,
    // no commit.
    const Value reg{std::int64_t{10010}};
    ASSERT_TRUE((*j)->stage("kernel", "registers", &reg));
  }
  auto j = TickJournal::open(s.name);
  ASSERT_TRUE(j);
  const auto found = (*j)->found();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->meter, kMeter);
  EXPECT_EQ(found->base_generation, 7u);
  bool present = false;
  EXPECT_EQ(value_of(*found, "kernel", "registers", present), Value{std::int64_t{10000}});
  EXPECT_TRUE(present);
  EXPECT_EQ(value_of(*found, "tou", "rates", present), Value{std::int64_t{1000}});
}

TEST(TickJournal, AValueThatOutgrowsItsSlotMovesAndTheNewestWins) {
  Segment s;
  {
    auto j = TickJournal::open(s.name);
    ASSERT_TRUE(j);
    ASSERT_TRUE((*j)->reset(kMeter, 1, {}));
    const Value small{std::string("abc")};
    ASSERT_TRUE((*j)->stage("p", "k", &small));
    (*j)->commit();
    const Value big{std::string(500, 'x')};
    ASSERT_TRUE((*j)->stage("p", "k", &big));
    (*j)->commit();
    EXPECT_EQ((*j)->latest("p", "k"), std::optional<std::optional<Value>>(big));
  }
  auto j = TickJournal::open(s.name);
  const auto found = (*j)->found();
  ASSERT_TRUE(found);
  bool present = false;
  EXPECT_EQ(value_of(*found, "p", "k", present), Value{std::string(500, 'x')});
}

TEST(TickJournal, AnErasureIsRecoveredAsOne) {
  Segment s;
  {
    auto j = TickJournal::open(s.name);
    ASSERT_TRUE((*j)->reset(kMeter, 1, {{"p", "gone", Value{true}}}));
    ASSERT_TRUE((*j)->stage("p", "gone", nullptr));
    (*j)->commit();
    EXPECT_EQ((*j)->latest("p", "gone"), std::optional<std::optional<Value>>(std::optional<Value>{}));
  }
  auto j = TickJournal::open(s.name);
  const auto found = (*j)->found();
  ASSERT_TRUE(found);
  bool present = false;
  EXPECT_EQ(value_of(*found, "p", "gone", present), std::nullopt);
  EXPECT_TRUE(present);
}

TEST(TickJournal, AResetKeepsWhatItCarriesAndDropsTheRest) {
  Segment s;
  auto j = TickJournal::open(s.name);
  ASSERT_TRUE((*j)->reset(kMeter, 1, {}));
  const Value v{std::int64_t{5}};
  ASSERT_TRUE((*j)->stage("a", "x", &v, true));
  (*j)->commit();
  ASSERT_TRUE((*j)->stage("a", "once", &v, true));
  EXPECT_TRUE((*j)->flagged().empty());  // once is history, not a moving register
  ASSERT_TRUE((*j)->stage("a", "x", &v, true));
  (*j)->commit();
  EXPECT_EQ((*j)->flagged().size(), 1u);
  ASSERT_TRUE((*j)->reset(kMeter, 2, {{"b", "y", Value{std::int64_t{6}}}}));
  EXPECT_FALSE((*j)->latest("a", "x").has_value());
  EXPECT_TRUE((*j)->flagged().empty());
  const auto found = (*j)->found();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->base_generation, 2u);
  ASSERT_EQ(found->writes.size(), 1u);
  EXPECT_EQ(found->writes[0].key, "y");
}

TEST(TickJournal, AGarbledSegmentIsNotRecovered) {
  Segment s;
  {
    auto j = TickJournal::open(s.name);
    ASSERT_TRUE((*j)->reset(kMeter, 1, {{"a", "x", Value{std::int64_t{1}}}}));
  }
  {
    // Scribble over the header's magic, as a stray writer would.
    const int fd = ::shm_open(s.name.c_str(), O_RDWR, 0);
    ASSERT_GE(fd, 0);
    const char junk[8] = {'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x'};
    ASSERT_EQ(::pwrite(fd, junk, sizeof junk, 0), 8);
    ::close(fd);
  }
  auto j = TickJournal::open(s.name);
  EXPECT_FALSE((*j)->found().has_value());
}

}  // namespace
}  // namespace meter::kernel::detail
