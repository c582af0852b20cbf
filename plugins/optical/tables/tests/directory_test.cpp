// MT-0 (object directory), MT-4 (nameplate) and the typed value encoding.
#include <gtest/gtest.h>

#include <bit>

#include <meter/c1219/objects.h>
#include <meter/c1219/tables.h>
#include <meter/c1219/value_codec.h>

#include "fake_source.h"

namespace meter::c1219 {
namespace {

using namespace testing;
using Bytes = std::vector<std::uint8_t>;

TEST(C1219Directory, ListsEveryObjectWithTypeUnitScalerClassAndRoles) {
  FakeSource source;
  fill_meter(source);
  Tables tables(source, test_identification());
  const Bytes d = tables.read(table::kObjectDirectory).data;
  const auto all = source.objects();
  ASSERT_EQ(d.size(), 2 + 13 * all.size());
  EXPECT_EQ(Bytes(d.begin(), d.begin() + 2), le(all.size(), 2));
  // +A: integer, Wh, -3, read-only, every role reads, nobody writes, legal.
  EXPECT_EQ(Bytes(d.begin() + 2, d.begin() + 15),
            (Bytes{1, 0, 1, 8, 0, 255, 2, 30, 0xFD, 1, 0x0F, 0, 1}));
  source.remove(objects::kImport);
  EXPECT_EQ(tables.read(table::kObjectDirectory).data.size(), 2 + 13 * (all.size() - 1));
}

TEST(C1219Directory, NameplateIsTextLines) {
  FakeSource source;
  fill_meter(source);
  Tables tables(source, test_identification());
  EXPECT_EQ(tables.read(table::kNameplate).data, bytes("Kh: 1.0 Wh\nform: 2S\n"));
}

TEST(C1219ValueCodec, RoundTripsEveryType) {
  for (const Value& v : {Value{true}, Value{std::int64_t{-5}}, Value{std::uint64_t{1} << 63},
                         Value{-2.5}, Value{std::string("t\xC3\xA9xt")}, Value{Bytes{1, 2, 3}},
                         Value{std::string()}}) {
    Bytes out;
    encode_value(v, out);
    out.push_back(0xEE);  // what follows the value is not part of it
    std::string error;
    auto d = decode_value(out, error);
    ASSERT_TRUE(d) << error;
    EXPECT_TRUE(d->value == v);
    EXPECT_EQ(d->size, out.size() - 1);
  }
  Bytes real;
  encode_value(Value{1.0}, real);
  EXPECT_EQ(real, cat({{4}, le(std::bit_cast<std::uint64_t>(1.0), 8)}));
}

TEST(C1219ValueCodec, RefusesMalformedEncodings) {
  std::string error;
  for (const Bytes& b : {Bytes{}, Bytes{7, 0}, Bytes{1, 2}, Bytes{2, 1, 2}, Bytes{5, 3, 0, 0, 0, 'a'},
                         Bytes{6, 1, 0}}) {
    error.clear();
    EXPECT_FALSE(decode_value(b, error));
    EXPECT_FALSE(error.empty());
  }
}

}  // namespace
}  // namespace meter::c1219
