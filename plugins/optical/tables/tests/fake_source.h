// A fake ObjectSource for the table tests: objects with metadata and values, a session role,
// a seal, and validators standing in for the objects' owners. Records every write it stores.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <meter/c1219/identification.h>
#include <meter/c1219/object_source.h>
#include <meter/plugins/load_profile/profile_format.h>
#include <meter/plugins/sealing_audit/audit_format.h>

namespace meter::c1219::testing {

inline constexpr int kPublic = 1, kReader = 2, kConfigurator = 4, kCalibrator = 8;

class FakeSource : public ObjectSource {
 public:
  struct Object {
    ObjectMeta meta;
    Value value;
    /// The owner's check of a written value (after the gate): invalid_value, busy or done.
    std::function<WriteOutcome(const Value&)> validate;
  };

  void add(ObjectMeta meta, Value value,
           std::function<WriteOutcome(const Value&)> validate = nullptr);
  void set(const Obis& id, Value value);
  void remove(const Obis& id);
  const Value& value(const Obis& id) const;

  std::optional<ObjectMeta> meta(const Obis& id) override;
  std::optional<Value> read(const Obis& id) override;
  WriteOutcome write(const Obis& id, const Value& value) override;
  std::vector<Obis> objects() override;

  int role = kConfigurator;
  bool sealed = false;
  std::vector<std::pair<Obis, Value>> writes;  ///< every write the fake stored, in order

 private:
  static std::uint64_t key(const Obis& o);
  std::map<std::uint64_t, Object> objects_;
  std::vector<std::uint64_t> order_;
};

/// A TOU meter on 2026-07-15 14:30:05 EDT in Toronto: kernel registers, tou, demand (import
/// total and rate C), load_profile and sealing_audit objects, and the new kernel parameters.
void fill_meter(FakeSource& s);
/// The identification the tests use.
Identification test_identification();
/// The profile fill_meter puts in 1-0:99.1.0 (2 channels, 3 records).
meter::plugins::load_profile::Profile test_profile();
/// The audit log fill_meter puts in 0-0:99.98.0 (capacity 40, 5 records).
meter::plugins::sealing_audit::Log test_log();

/// Little-endian bytes of `v`, `n` octets.
std::vector<std::uint8_t> le(std::uint64_t v, int n);
/// Concatenation of byte vectors.
std::vector<std::uint8_t> cat(std::initializer_list<std::vector<std::uint8_t>> parts);
/// Text as bytes, padded with spaces to `width` when given.
std::vector<std::uint8_t> bytes(const std::string& s, std::size_t width = 0);

}  // namespace meter::c1219::testing
