// The board's load-disconnect relays, as the kernel reaches them (kernel::RelayDriver, behind the
// plugin host's trip_relay and its `relay` capability). They belong to the board, not to one
// powered meter: a latching disconnect relay keeps its position through a power failure, so one
// Relays outlives every power cycle of a run. The board measures one supply, so the premises are
// connected only while every relay is closed; the driver hears each change and feeds no load
// while they are not (the voltage is still measured, on the line side).
#pragma once

#include <cstdint>
#include <string>

#include "meter/boards/driver.h"
#include "meter/kernel/relay.h"

namespace meter::boards {

class Relays final : public kernel::RelayDriver {
 public:
  static constexpr std::uint32_t kMaxRelays = 4;

  /// `count` relays (at most kMaxRelays), all closed, switching the load of `driver` (which
  /// outlives this).
  Relays(std::uint32_t count, Driver& driver)
      : count_(count < kMaxRelays ? count : kMaxRelays), driver_(&driver) {}

  std::uint32_t relays() const noexcept override { return count_; }

  /// Opens or closes one relay. Kernel thread.
  kernel::Result<void> set_open(std::uint32_t relay, bool open) override {
    if (relay >= count_) {
      return kernel::fail("relay " + std::to_string(relay) + " does not exist: the board has " +
                          std::to_string(count_));
    }
    const auto bit = static_cast<std::uint8_t>(1u << relay);
    open_ = static_cast<std::uint8_t>(open ? open_ | bit : open_ & ~bit);
    ++operations_;
    driver_->set_load_connected(open_ == 0);
    return {};
  }

  bool open(std::uint32_t relay) const noexcept { return relay < count_ && (open_ >> relay) & 1u; }
  bool load_connected() const noexcept { return open_ == 0; }
  /// Operations since the board was made (each set_open, whether it moved or not).
  std::uint64_t operations() const noexcept { return operations_; }

 private:
  std::uint32_t count_;
  Driver* driver_;
  std::uint8_t open_ = 0;  // bit per relay
  std::uint64_t operations_ = 0;
};

}  // namespace meter::boards
