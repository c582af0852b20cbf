// The RAM medium of the NVM store: namespaces are separate and a batch is all or nothing.
#include "meter/kernel/nvm.h"

#include <gtest/gtest.h>

namespace meter::kernel {
namespace {

TEST(RamNvmStore, NamespacesKeepTheirOwnRecords) {
  RamNvmStore store;
  ASSERT_TRUE(store.apply({{"tou", "rate", Value{std::int64_t{2}}}, {"demand", "rate", Value{true}}}));
  EXPECT_EQ(std::get<std::int64_t>(**store.get("tou", "rate")), 2);
  EXPECT_EQ(std::get<bool>(**store.get("demand", "rate")), true);
  EXPECT_FALSE(*store.get("prepaid", "rate"));
  EXPECT_EQ(store.keys("tou"), std::vector<std::string>{"rate"});
}

TEST(RamNvmStore, ABatchWithABadWriteChangesNothing) {
  RamNvmStore store;
  ASSERT_TRUE(store.apply({{"tou", "a", Value{std::int64_t{1}}}}));
  EXPECT_FALSE(store.apply({{"tou", "a", Value{std::int64_t{9}}}, {"tou", "", Value{false}}}));
  EXPECT_EQ(std::get<std::int64_t>(**store.get("tou", "a")), 1);
  EXPECT_EQ(store.batches(), 1u);
}

TEST(RamNvmStore, AnEraseIsAWriteWithoutValue) {
  RamNvmStore store;
  ASSERT_TRUE(store.apply({{"tou", "a", Value{std::int64_t{1}}}}));
  ASSERT_TRUE(store.apply({{"tou", "a", std::nullopt}}));
  EXPECT_FALSE(*store.get("tou", "a"));
}

}  // namespace
}  // namespace meter::kernel
