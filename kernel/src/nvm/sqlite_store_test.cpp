// The SQLite medium: typed records, atomic batches, reopening, and damage found on open.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "meter/kernel/sqlite_nvm.h"

namespace meter::kernel {
namespace {

namespace fs = std::filesystem;

class SqliteNvmStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("nvm-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = dir_ / "meter.db";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<SqliteNvmStore> open(SqliteNvmOptions options = {}) {
    auto s = SqliteNvmStore::open(path_, options);
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return s ? std::move(*s) : nullptr;
  }

  fs::path dir_;
  fs::path path_;
};

std::vector<Value> every_type() {
  return {Value{true},
          Value{false},
          Value{std::int64_t{-9'223'372'036'854'775'807 - 1}},
          Value{std::int64_t{1234567890123}},
          Value{std::numeric_limits<std::uint64_t>::max()},
          Value{-0.1},
          Value{std::numeric_limits<double>::infinity()},
          Value{std::string("tariff \"B\"\n\0x", 14)},
          Value{std::string()},
          Value{std::vector<std::uint8_t>{0, 1, 0xFF, 0x80}},
          Value{std::vector<std::uint8_t>{}}};
}

TEST_F(SqliteNvmStoreTest, EveryValueTypeRoundTripsAcrossReopen) {
  const auto values = every_type();
  {
    auto store = open();
    ASSERT_TRUE(store);
    std::vector<NvmWrite> batch;
    for (std::size_t i = 0; i < values.size(); ++i) {
      batch.push_back({"tou", "v" + std::to_string(i), values[i]});
    }
    ASSERT_TRUE(store->apply(batch));
    for (std::size_t i = 0; i < values.size(); ++i) {
      auto got = store->get("tou", "v" + std::to_string(i));
      ASSERT_TRUE(got && *got);
      EXPECT_EQ(**got, values[i]) << i;
    }
  }
  auto store = open();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->health().state, NvmState::intact);
  for (std::size_t i = 0; i < values.size(); ++i) {
    auto got = store->get("tou", "v" + std::to_string(i));
    ASSERT_TRUE(got && *got) << i;
    EXPECT_EQ(type_of(**got), type_of(values[i])) << i;
    EXPECT_EQ(**got, values[i]) << i;
  }
}

TEST_F(SqliteNvmStoreTest, NamespacesAreSeparateAndKeysSorted) {
  auto store = open();
  ASSERT_TRUE(store->apply({{"kernel", "b", Value{std::int64_t{1}}},
                            {"kernel", "a", Value{std::int64_t{2}}},
                            {"prepaid", "a", Value{std::int64_t{3}}}}));
  EXPECT_EQ(store->keys("kernel"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(std::get<std::int64_t>(**store->get("prepaid", "a")), 3);
  EXPECT_FALSE(*store->get("prepaid", "b"));
  ASSERT_TRUE(store->apply({{"kernel", "a", std::nullopt}}));
  EXPECT_EQ(store->keys("kernel"), (std::vector<std::string>{"b"}));
}

TEST_F(SqliteNvmStoreTest, AFailingBatchLeavesNothing) {
  auto store = open();
  ASSERT_TRUE(store->apply({{"load_profile", "head", Value{std::uint64_t{7}}}}));
  // The third write is invalid; the first two were already executed inside the transaction.
  auto r = store->apply({{"load_profile", "head", Value{std::uint64_t{8}}},
                         {"load_profile", "rec.8", Value{std::string("x")}},
                         {"load_profile", "", Value{true}}});
  EXPECT_FALSE(r);
  EXPECT_EQ(std::get<std::uint64_t>(**store->get("load_profile", "head")), 7u);
  EXPECT_FALSE(*store->get("load_profile", "rec.8"));
  store.reset();
  store = open();
  EXPECT_EQ(std::get<std::uint64_t>(**store->get("load_profile", "head")), 7u);
  EXPECT_EQ(store->keys("load_profile").size(), 1u);
}

TEST_F(SqliteNvmStoreTest, ANewMeterIsFreshNotDamaged) {
  EXPECT_EQ(open()->health().state, NvmState::fresh);  // no file
  EXPECT_EQ(open()->health().state, NvmState::fresh);  // schema, no records
  fs::remove(path_);
  std::ofstream(path_).close();                        // an empty file
  EXPECT_EQ(open()->health().state, NvmState::fresh);
  ASSERT_TRUE(open()->apply({{"kernel", "format", Value{std::uint64_t{1}}}}));
  EXPECT_EQ(open()->health().state, NvmState::intact);
}

TEST_F(SqliteNvmStoreTest, AFreshStoreIsIntactOnceItHoldsARecordWithoutBeingReopened) {
  // meterd powers the meter down and up again on the same open store: the second power-up must
  // restore what the first stored.
  auto store = open();
  ASSERT_EQ(store->health().state, NvmState::fresh);
  ASSERT_TRUE(store->flush());
  EXPECT_EQ(store->health().state, NvmState::fresh);  // the flush counter is no record
  ASSERT_TRUE(store->apply({{"kernel", "format", Value{std::uint64_t{1}}}}));
  EXPECT_EQ(store->health().state, NvmState::intact);
}

TEST_F(SqliteNvmStoreTest, AFileThatIsNoDatabaseIsDamaged) {
  std::ofstream out(path_, std::ios::binary);
  std::mt19937 rng(7);
  for (int i = 0; i < 8192; ++i) out.put(static_cast<char>(rng()));
  out.close();
  auto store = open();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->health().state, NvmState::damaged);
  EXPECT_FALSE(store->health().detail.empty());
  EXPECT_TRUE(store->frozen());
  EXPECT_FALSE(store->apply({{"kernel", "format", Value{std::uint64_t{1}}}}));
  EXPECT_EQ(fs::file_size(path_), 8192u);  // evidence kept, not overwritten
}

TEST_F(SqliteNvmStoreTest, FlippedBytesInTheFileAreDetected) {
  {
    auto store = open();
    std::vector<NvmWrite> batch;
    for (int i = 0; i < 200; ++i) {
      batch.push_back({"audit", "rec." + std::to_string(1000 + i),
                       Value{std::vector<std::uint8_t>(900, static_cast<std::uint8_t>(i))}});
    }
    ASSERT_TRUE(store->apply(batch));
  }
  ASSERT_FALSE(fs::exists(path_.string() + "-wal"));  // closed cleanly: all in the .db file
  const auto size = fs::file_size(path_);
  ASSERT_GT(size, 100'000u);
  {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    const auto middle = static_cast<std::streamoff>(size / 2);
    for (std::streamoff i = 0; i < 48; ++i) {
      f.seekg(middle + i);
      const int c = f.get();
      f.seekp(middle + i);
      f.put(static_cast<char>(c ^ 0x5A));
    }
  }
  auto store = open();
  EXPECT_EQ(store->health().state, NvmState::damaged);
  EXPECT_TRUE(store->frozen());
}

TEST_F(SqliteNvmStoreTest, ARecordWhoseChecksumFailsIsDetectedAndNeverReturned) {
  {
    auto store = open();
    ASSERT_TRUE(store->apply({{"prepaid", "credit_milli", Value{std::int64_t{50'000}}},
                              {"prepaid", "purchases", Value{std::uint64_t{3}}}}));
  }
  {
    // A single bit flips in the stored value; SQLite's own structure stays valid.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "UPDATE record SET value = X'50C3000000000100' "
                           "WHERE ns = 'prepaid' AND key = 'credit_milli'",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    EXPECT_EQ(sqlite3_changes(db), 1);
    sqlite3_close(db);
  }
  auto store = open();
  EXPECT_EQ(store->health().state, NvmState::damaged);
  EXPECT_NE(store->health().detail.find("prepaid/credit_milli"), std::string::npos)
      << store->health().detail;
  EXPECT_FALSE(store->get("prepaid", "credit_milli"));  // an error, never the wrong credit
  EXPECT_EQ(std::get<std::uint64_t>(**store->get("prepaid", "purchases")), 3u);
}

TEST_F(SqliteNvmStoreTest, OnlyAFlushSyncsAndTheWritesAreCounted) {
  auto store = open({.count_writes = true});
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->flush());  // creating the file syncs; count from a durable state
  const auto start = store->write_stats();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(store->apply({{"kernel", "tick", Value{std::int64_t{i}}}}));
  }
  auto s = store->write_stats();
  EXPECT_EQ(s.commits - start.commits, 10u);
  EXPECT_EQ(s.syncs, start.syncs);
  EXPECT_GT(s.logical_bytes - start.logical_bytes, 10u * 4096u);
  EXPECT_EQ(s.device_bytes, start.device_bytes);  // all still in the OS's page cache
  ASSERT_TRUE(store->flush());
  s = store->write_stats();
  EXPECT_EQ(s.durable_commits, 2u);
  EXPECT_GE(s.syncs - start.syncs, 2u);  // the WAL at commit, the database at the checkpoint
  EXPECT_GT(s.device_bytes, start.device_bytes);
  // Ticks rewrite the same few blocks: the device sees a handful, not one per tick.
  EXPECT_LE(s.device_bytes - start.device_bytes, 8u * SqliteNvmStore::kDeviceBlockBytes);
}

TEST_F(SqliteNvmStoreTest, AMissingDirectoryIsAnError) {
  auto s = SqliteNvmStore::open(dir_ / "no" / "such" / "meter.db");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("does not exist"), std::string::npos);
}

}  // namespace
}  // namespace meter::kernel
