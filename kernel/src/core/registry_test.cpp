#include "meter/kernel/registry.h"

#include <gtest/gtest.h>

namespace meter::kernel {
namespace {

ObjectInfo info(const char* id, const char* owner = "kernel") {
  ObjectInfo i;
  i.id = *Obis::parse(id);
  i.owner = owner;
  i.read_roles = mask(Role::reader);
  return i;
}

TEST(ObjectRegistry, ReadsThroughTheReaderForAllowedRoles) {
  ObjectRegistry r;
  std::int64_t energy = 42;
  ASSERT_TRUE(r.add(info("1-0:1.8.0"), [&] { return Value{energy}; }));
  energy = 43;
  auto v = r.read(obis("1-0:1.8.0"), Role::reader);
  ASSERT_TRUE(v);
  EXPECT_EQ(std::get<std::int64_t>(*v), 43);
  auto refused = r.read(obis("1-0:1.8.0"), Role::public_read);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("may not be read"), std::string::npos);
  EXPECT_FALSE(r.read(obis("1-0:2.8.0"), Role::reader));
}

TEST(ObjectRegistry, RefusesDuplicatesAndInconsistentObjects) {
  ObjectRegistry r;
  ASSERT_TRUE(r.add(info("1-0:1.8.0"), [] { return Value{std::int64_t{0}}; }));
  auto dup = r.add(info("1-0:1.8.0", "tou"), [] { return Value{std::int64_t{0}}; });
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().message.find("already registered by kernel"), std::string::npos);
  EXPECT_FALSE(r.add(info("1-0:2.8.0"), ObjectReader{}));
  auto writable_ro = info("1-0:3.8.0");
  writable_ro.write_roles = mask(Role::configurator);
  EXPECT_FALSE(r.add(writable_ro, [] { return Value{true}; }));
  auto writable_without_writer = info("1-0:4.8.0");
  writable_without_writer.parameter_class = ParameterClass::configuration;
  writable_without_writer.write_roles = mask(Role::configurator);
  EXPECT_FALSE(r.add(writable_without_writer, [] { return Value{true}; }));
  EXPECT_EQ(r.size(), 1u);
}

TEST(ObjectRegistry, RemovesEverythingAnOwnerRegistered) {
  ObjectRegistry r;
  ASSERT_TRUE(r.add(info("1-0:1.8.0"), [] { return Value{true}; }));
  ASSERT_TRUE(r.add(info("1-0:1.8.1", "tou"), [] { return Value{true}; }));
  ASSERT_TRUE(r.add(info("1-0:1.8.2", "tou"), [] { return Value{true}; }));
  EXPECT_EQ(r.remove_owned_by("tou"), 2u);
  EXPECT_EQ(r.size(), 1u);
  EXPECT_EQ(r.find(obis("1-0:1.8.1")), nullptr);
  ASSERT_EQ(r.list().size(), 1u);
  EXPECT_EQ(r.list()[0]->id, obis("1-0:1.8.0"));
}

TEST(Value, FormatsEveryType) {
  EXPECT_EQ(to_string(Value{true}), "true");
  EXPECT_EQ(to_string(Value{std::int64_t{-5}}), "-5");
  EXPECT_EQ(to_string(Value{std::string("abc")}), "abc");
  EXPECT_EQ(to_string(Value{std::vector<std::uint8_t>{0x0A, 0xFF}}), "0AFF");
  EXPECT_EQ(type_of(Value{2.5}), ValueType::real);
}

}  // namespace
}  // namespace meter::kernel
