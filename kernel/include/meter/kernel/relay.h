// The kernel side of the load-disconnect relays. The board provides the driver; plugins reach it
// only through the host's trip_relay, which checks the `relay` capability first.
#pragma once

#include <cstdint>

#include "meter/kernel/result.h"

namespace meter::kernel {

class RelayDriver {
 public:
  virtual ~RelayDriver() = default;
  /// How many relays the board has; relays are numbered from 0.
  virtual std::uint32_t relays() const noexcept = 0;
  /// Opens (disconnects the load) or closes relay `relay`. Kernel thread.
  virtual Result<void> set_open(std::uint32_t relay, bool open) = 0;
};

}  // namespace meter::kernel
