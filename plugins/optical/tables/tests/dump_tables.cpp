// Prints the tables of the test meter (fake_source.h) as "<table> <hex>" lines, for
// termineter_decode.py, which decodes them with termineter's c1219 package.
#include <cstdio>

#include <meter/c1219/tables.h>

#include "fake_source.h"

int main() {
  using namespace meter::c1219;
  testing::FakeSource source;
  testing::fill_meter(source);
  Tables tables(source, testing::test_identification());
  for (std::uint16_t t : tables.tables_used()) {
    const ReadResult r = tables.read(t);
    if (r.code != ResponseCode::ok) continue;
    std::printf("%u ", static_cast<unsigned>(t));
    for (std::uint8_t b : r.data) std::printf("%02x", static_cast<unsigned>(b));
    std::printf("\n");
  }
  return 0;
}
