// The meter's store in a state folder: a restart carries on from the highest values it can
// trust, and a store that is missing, emptied, forged or put back from an older copy is a
// latched legal fault, never a new meter.
#include "meter/kernel/journaled_nvm.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include <filesystem>
#include <fstream>

namespace meter::kernel {
namespace {

namespace fs = std::filesystem;

/// The journal segment's name ends with the state folder's inode in hex.
std::string fmt_inode(ino_t ino) {
  char text[32];
  std::snprintf(text, sizeof text, "-%llx", static_cast<unsigned long long>(ino));
  return text;
}

class JournaledStore : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("journaled-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    JournaledNvmStore::remove_new(dir_);
    fs::remove_all(dir_);
  }

  std::unique_ptr<JournaledNvmStore> open() {
    auto s = JournaledNvmStore::open(dir_, {.count_writes = false, .reserve_bytes = 64 * 1024});
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return s ? std::move(*s) : nullptr;
  }

  static std::int64_t integer(const NvmStore& s, const char* ns, const char* key) {
    auto v = s.get(ns, key);
    if (!v || !*v) return -1;
    return std::get<std::int64_t>(**v);
  }

  /// One tick as the kernel makes it: the group, a plugin's record, the kernel's registers.
  static void tick(NvmStore& s, std::int64_t n) {
    s.begin_group();
    ASSERT_TRUE(s.put("tou", "rates", Value{n}));
    ASSERT_TRUE(s.put("kernel", "registers", Value{n * 10}));
    ASSERT_TRUE(s.end_group());
  }

  fs::path dir_;
};

TEST_F(JournaledStore, ANewMeterIsCommissionedWithItsBoardAndAStoreMadeWhole) {
  auto s = open();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->health().state, NvmState::fresh);
  EXPECT_TRUE(fs::exists(dir_ / "board.key"));
  EXPECT_TRUE(fs::exists(dir_ / "board.nv"));
  EXPECT_TRUE(fs::exists(dir_ / "meter.db"));
  EXPECT_FALSE(fs::exists(dir_ / "meter.db.new"));
  EXPECT_TRUE(fs::exists(dir_ / "meter.reserve"));
}

TEST_F(JournaledStore, AnOrderlyEndKeepsEverythingInTheStoreAndLeavesNoJournal) {
  {
    auto s = open();
    for (std::int64_t n = 1; n <= 100; ++n) tick(*s, n);
    ASSERT_TRUE(s->flush());
  }
  auto s = open();
  EXPECT_EQ(s->health().state, NvmState::intact);
  EXPECT_EQ(integer(*s, "kernel", "registers"), 1000);
  EXPECT_EQ(integer(*s, "tou", "rates"), 100);
  EXPECT_EQ(s->finding().find("journal"), std::string::npos) << s->finding();
}

TEST_F(JournaledStore, AKilledProcessLosesNoCommittedTickAndNothingOfAHalfTick) {
  {
    auto s = open();
    tick(*s, 0);
    ASSERT_TRUE(s->flush());
    for (std::int64_t n = 1; n <= 500; ++n) tick(*s, n);
    // Tick 501 is cut short: the plugin wrote, the kernel did not, the group never closed.
    s->begin_group();
    ASSERT_TRUE(s->put("tou", "rates", Value{std::int64_t{501}}));
    // No flush, no end: the object goes as a killed process would, leaving the journal.
  }
  auto s = open();
  EXPECT_EQ(s->health().state, NvmState::intact);
  EXPECT_EQ(integer(*s, "kernel", "registers"), 5000);
  EXPECT_EQ(integer(*s, "tou", "rates"), 500);
  EXPECT_NE(s->finding().find("journal"), std::string::npos) << s->finding();
}

TEST_F(JournaledStore, AStorePutBackFromAnOlderCopyIsALatchedLegalFaultAndNoRegisterGoesBack) {
  {
    auto s = open();
    tick(*s, 9);  // a record the tick moves: written in every group
    tick(*s, 10);
    ASSERT_TRUE(s->put("tou", "calendar", Value{std::string("old")}));
    ASSERT_TRUE(s->flush());
  }
  fs::copy_file(dir_ / "meter.db", dir_ / "old.db");
  {
    auto s = open();
    tick(*s, 19);  // a record the tick moves: written in every group
    tick(*s, 20);
    ASSERT_TRUE(s->put("tou", "calendar", Value{std::string("new")}));
    ASSERT_TRUE(s->flush());
  }
  fs::copy_file(dir_ / "old.db", dir_ / "meter.db", fs::copy_options::overwrite_existing);
  {
    auto s = open();
    EXPECT_EQ(s->health().state, NvmState::damaged);
    EXPECT_NE(s->health().legal.find("older copy was put back"), std::string::npos)
        << s->health().legal;
    // The billing records come from the board's copy: the kernel's and the tick's.
    EXPECT_EQ(integer(*s, "kernel", "registers"), 200);
    EXPECT_EQ(integer(*s, "tou", "rates"), 20);
    bool evidence = false;
    for (const auto& e : fs::directory_iterator(dir_)) {
      evidence |= e.path().filename().string().rfind("meter.db.rolled-back-", 0) == 0;
    }
    EXPECT_TRUE(evidence);
    ASSERT_TRUE(s->flush());
  }
  auto s = open();  // latched: every start says so, though the store is sound again
  EXPECT_NE(s->health().legal.find("older copy"), std::string::npos);
  EXPECT_EQ(integer(*s, "kernel", "registers"), 200);
}

TEST_F(JournaledStore, ADeletedOrEmptiedStoreIsNeverANewMeter) {
  {
    auto s = open();
    tick(*s, 41);  // a record the tick moves: written in every group
    tick(*s, 42);
    ASSERT_TRUE(s->flush());
  }
  fs::remove(dir_ / "meter.db");
  {
    auto s = open();
    EXPECT_NE(s->health().legal.find("missing"), std::string::npos) << s->health().legal;
    EXPECT_EQ(integer(*s, "kernel", "registers"), 420);
    EXPECT_EQ(integer(*s, "tou", "rates"), 42);
    ASSERT_TRUE(s->flush());
  }
  { std::ofstream(dir_ / "meter.db", std::ios::trunc); }  // emptied to 0 bytes
  auto s = open();
  EXPECT_NE(s->health().legal.find("missing"), std::string::npos);
  EXPECT_EQ(integer(*s, "kernel", "registers"), 420);
}

TEST_F(JournaledStore, ARecordRewrittenWithAPlainChecksumDoesNotAuthenticate) {
  {
    auto s = open();
    tick(*s, 7);
    ASSERT_TRUE(s->flush());
  }
  {
    // The forger's edit: a larger value, its checksum recomputed without the board's key.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "meter.db").c_str(), &db), SQLITE_OK);
    std::uint8_t value[8];
    const std::int64_t forged = 999'999;
    for (int i = 0; i < 8; ++i) value[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(forged) >> (8 * i));
    crypto_generichash_state st;
    crypto_generichash_init(&st, nullptr, 0, 16);
    const unsigned char zero = 0, type = static_cast<unsigned char>(ValueType::integer);
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>("kernel"), 6);
    crypto_generichash_update(&st, &zero, 1);
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>("registers"), 9);
    crypto_generichash_update(&st, &zero, 1);
    crypto_generichash_update(&st, &type, 1);
    crypto_generichash_update(&st, value, 8);
    unsigned char sum[16];
    crypto_generichash_final(&st, sum, 16);
    sqlite3_stmt* q = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "UPDATE record SET value=?1, sum=?2 WHERE ns='kernel' AND key='registers'",
                                 -1, &q, nullptr), SQLITE_OK);
    sqlite3_bind_blob(q, 1, value, 8, SQLITE_STATIC);
    sqlite3_bind_blob(q, 2, sum, 16, SQLITE_STATIC);
    ASSERT_EQ(sqlite3_step(q), SQLITE_DONE);
    sqlite3_finalize(q);
    sqlite3_close(db);
  }
  auto s = open();
  EXPECT_EQ(s->health().state, NvmState::damaged);
  EXPECT_NE(s->health().detail.find("kernel/registers"), std::string::npos) << s->health().detail;
  EXPECT_EQ(integer(*s, "kernel", "registers"), 70);  // the board's copy, not the forgery
}

TEST_F(JournaledStore, AStoreWithoutItsBoardIsRefused) {
  {
    auto s = open();
    tick(*s, 1);
    ASSERT_TRUE(s->flush());
  }
  fs::remove(dir_ / "board.key");
  fs::remove(dir_ / "board.nv");
  auto s = JournaledNvmStore::open(dir_);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("not this meter's store"), std::string::npos) << s.error().message;
}

TEST_F(JournaledStore, TheBoardsCopyHoldsTheRecordsWrittenWithTheTick) {
  {
    auto s = open();
    tick(*s, 2);  // a record the tick moves: written in every group
    tick(*s, 3);
    ASSERT_TRUE(s->put("tou", "calendar", Value{std::string("not billing")}));
    ASSERT_TRUE(s->flush());
  }
  auto board = BoardNvm::open(dir_);
  ASSERT_TRUE(board);
  ASSERT_TRUE((*board)->latest());
  bool rates = false, calendar = false;
  for (const auto& w : (*board)->latest()->records) {
    rates |= w.name_space == "tou" && w.key == "rates";
    calendar |= w.key == "calendar";
  }
  EXPECT_TRUE(rates);
  EXPECT_FALSE(calendar);
}

TEST_F(JournaledStore, AFlushInsideATickWaitsForTheTickToClose) {
  auto s = open();
  ASSERT_TRUE(s->flush());
  const auto before = s->generation();
  s->begin_group();
  ASSERT_TRUE(s->put("tou", "rates", Value{std::int64_t{1}}));
  ASSERT_TRUE(s->flush());
  EXPECT_EQ(s->generation(), before);
  ASSERT_TRUE(s->end_group());
  EXPECT_EQ(s->generation(), before + 1);
}

}  // namespace
}  // namespace meter::kernel

namespace meter::kernel {
namespace {

TEST_F(JournaledStore, ACheckpointWritesTheBoardsCopyAloneAndARestartCarriesOnFromIt) {
  {
    auto s = open();
    tick(*s, 1);
    ASSERT_TRUE(s->flush());
    const auto store_generation = s->generation();
    tick(*s, 2);
    ASSERT_TRUE(s->put("load_profile", "interval.7", Value{std::string("closed")}));
    ASSERT_TRUE(s->checkpoint());  // the board's copy only: the store file is not touched
    EXPECT_EQ(s->generation(), store_generation + 1);
    auto board = BoardNvm::open(dir_);
    EXPECT_EQ((*board)->latest()->store_generation, store_generation);
  }
  // A power cut: the journal is gone with the RAM; the store holds tick 1, the copy tick 2.
  {
    auto b = BoardNvm::open(dir_);
    ASSERT_TRUE(b);
  }
  for (const auto& e : fs::directory_iterator("/dev/shm")) {
    if (e.path().filename().string().rfind("meterd-", 0) == 0) {
      struct stat st {};
      ::stat(dir_.c_str(), &st);
      if (e.path().filename().string().find(fmt_inode(st.st_ino)) != std::string::npos) fs::remove(e.path());
    }
  }
  auto s = open();
  EXPECT_EQ(s->health().state, NvmState::intact);
  EXPECT_TRUE(s->health().legal.empty()) << s->health().legal;
  EXPECT_EQ(integer(*s, "kernel", "registers"), 20);
  EXPECT_EQ(integer(*s, "tou", "rates"), 2);
  auto interval = s->get("load_profile", "interval.7");
  ASSERT_TRUE(interval && *interval);
  EXPECT_EQ(std::get<std::string>(**interval), "closed");
}

}  // namespace
}  // namespace meter::kernel
