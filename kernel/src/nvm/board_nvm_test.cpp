// The board's non-volatile memory: its key, and the A/B copy that only moves forward.
#include "meter/kernel/board_nvm.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace meter::kernel {
namespace {

namespace fs = std::filesystem;

class Board : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("board-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

BoardCopy copy(std::uint64_t generation, std::int64_t value) {
  return {generation, generation, {{"kernel", "registers", Value{value}}}};
}

TEST_F(Board, ANewBoardHasNoKeyUntilCommissioned) {
  auto b = BoardNvm::open(dir_);
  ASSERT_TRUE(b);
  EXPECT_FALSE((*b)->keyed());
  ASSERT_TRUE((*b)->commission());
  EXPECT_TRUE((*b)->keyed());
  EXPECT_FALSE((*b)->commission());  // once only
  EXPECT_EQ(fs::status(dir_ / "board.key").permissions() & fs::perms::all, fs::perms::owner_read);
}

TEST_F(Board, TheNewestCopyThatAuthenticatesIsRead) {
  {
    auto b = BoardNvm::open(dir_);
    ASSERT_TRUE((*b)->commission());
    for (std::uint64_t g = 1; g <= 5; ++g) ASSERT_TRUE((*b)->write(copy(g, static_cast<std::int64_t>(g) * 100)));
    EXPECT_FALSE((*b)->write(copy(5, 1)));  // the counter only rises
  }
  auto b = BoardNvm::open(dir_);
  ASSERT_TRUE((*b)->latest());
  EXPECT_EQ((*b)->latest()->generation, 5u);
  EXPECT_EQ((*b)->latest()->records.at(0).value, Value{std::int64_t{500}});
}

TEST_F(Board, ADamagedSlotLeavesTheOther) {
  {
    auto b = BoardNvm::open(dir_);
    ASSERT_TRUE((*b)->commission());
    ASSERT_TRUE((*b)->write(copy(1, 100)));  // slot 0
    ASSERT_TRUE((*b)->write(copy(2, 200)));  // slot 1
  }
  {
    std::fstream f(dir_ / "board.nv", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(BoardNvm::kSlotBytes) + 60);
    f.put('\x5a');
  }
  auto b = BoardNvm::open(dir_);
  ASSERT_TRUE((*b)->latest());
  EXPECT_EQ((*b)->latest()->generation, 1u);
  EXPECT_EQ((*b)->bad_slots(), 1u);
}

TEST_F(Board, ACopyMadeWithAnotherKeyDoesNotAuthenticate) {
  {
    auto b = BoardNvm::open(dir_);
    ASSERT_TRUE((*b)->commission());
    ASSERT_TRUE((*b)->write(copy(1, 100)));
  }
  const auto other = dir_ / "other";
  fs::create_directories(other);
  {
    auto b = BoardNvm::open(other);
    ASSERT_TRUE((*b)->commission());
  }
  fs::copy_file(dir_ / "board.nv", other / "board.nv", fs::copy_options::overwrite_existing);
  auto b = BoardNvm::open(other);
  EXPECT_FALSE((*b)->latest());
  EXPECT_EQ((*b)->bad_slots(), 1u);
}

}  // namespace
}  // namespace meter::kernel
