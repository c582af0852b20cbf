// The kernel's persistence service: restores the meter from the NVM store at start-up and keeps
// the store up to date while it runs (DESIGN S.3 point 7, S.4 Persistence).
//
//   attach()    checks what the store found, restores the energy registers, the test LED window
//               and the clock's offset (a time set through a port survives the restart);
//               prepares PowerRestore with the outage. A time that was unknown stays unknown,
//               and a board clock found behind the time last stored (it went backwards in the
//               outage) makes it unknown: TOU bills tier C until a time is set.
//   every tick  one group: opened when the tick is published (Persistence subscribes before any
//               plugin), closed at TickClosed with the kernel's records. Every record a plugin
//               writes while the tick is delivered is in the same group, so after a killed
//               process the plugins' registers and the kernel's are of the same tick. Not on a
//               medium that dies with the process (RAM), where it would protect nothing.
//   flush()     durable (fsync): every flush_period, when the medium asks (a journal filling),
//               on PowerFail, and on demand. Plugins' records share the store, so a flush
//               covers them too. The PowerFail batch also holds the parameter gate's records,
//               so that a locked port keeps the lockout it has left across the power cycle.
//
// A damaged store (corrupt file, bad checksum, kernel records missing from a store that has
// others) is never taken for a new meter: the meter raises FaultRaised{storage}, sets bit 2 of
// the error register, shows the finding in 0-0:128.4.0 and restores whatever kernel records
// still verify (never zeroes silently). A medium that keeps a damaged file as evidence and
// goes on in a new one (JournaledNvmStore) is written on; one that can only freeze is held
// read-only. A latched legal fault the medium reports (a store missing, replaced or rolled
// back) sets bit 3 as well.
//
// Thread: the kernel thread, like the Meter.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "meter/kernel/meter.h"
#include "meter/kernel/nvm.h"

namespace meter::kernel {

struct PersistenceConfig {
  /// Durable flush period. Zero flushes every tick (the most durable setting).
  Milliseconds flush_period = std::chrono::minutes(15);
  /// Count the period in real time (steady clock) rather than meter uptime: a simulation that
  /// runs a year in seconds flushes as often as the flash allows, not 35 000 times.
  bool period_in_real_time = false;
};

/// What attach() found in the store and restored from it.
struct RestoreReport {
  NvmState state = NvmState::fresh;
  std::string detail;               ///< what was damaged, empty otherwise
  bool registers_restored = false;
  bool orderly_power_down = false;  ///< the last run ended with a PowerFail flush
  std::optional<UtcTime> last_time;  ///< the meter time last stored, when it was valid
  std::optional<PowerRestore> power_restore;  ///< none for a fresh meter
};

class Persistence {
 public:
  static constexpr const char* kNamespace = "kernel";

  /// Attach to a freshly created meter, before its first tick. An error only when the store
  /// fails while being written at attach; damage is reported through restored() and the fault.
  static Result<std::unique_ptr<Persistence>> attach(Meter& meter, NvmStore& store,
                                                     PersistenceConfig config = {});

  /// The time source's reading last stored (the meter's time less the offset a time set
  /// through a port added): where a simulated meter's virtual clock resumes after a restart.
  /// Read before a Meter exists.
  static std::optional<UtcTime> stored_time(const NvmStore& store);

  Persistence(const Persistence&) = delete;
  Persistence& operator=(const Persistence&) = delete;
  ~Persistence();

  /// Writes the kernel records and makes the whole store durable now (tariff and billing
  /// events call this). Refused while the store is held read-only.
  Result<void> flush();

  /// Publishes PowerRestore now (once). Call it after the plugins have subscribed; otherwise
  /// it goes out at the first tick.
  void publish_power_restore();

  const RestoreReport& restored() const noexcept { return report_; }
  /// False while the store is damaged and held read-only.
  bool writing() const noexcept { return writing_; }
  std::uint64_t durable_flushes() const noexcept { return flushes_; }
  std::uint64_t failed_writes() const noexcept { return failed_writes_; }

 private:
  Persistence(Meter& meter, NvmStore& store, PersistenceConfig config);
  void restore();
  void fill_batch();
  Result<void> write(bool durable);
  Result<void> make_durable(bool periodic = false);
  void note_store_warning();
  void on_tick_begin();
  void on_tick_closed();
  bool flush_due();
  void on_power_fail(const PowerFail& event);
  void storage_failed(const std::string& detail);

  Meter& meter_;
  NvmStore& store_;
  PersistenceConfig config_;
  RestoreReport report_;
  std::vector<NvmWrite> batch_;
  std::shared_ptr<std::string> status_;  // read by the 0-0:128.4.0 object
  Uptime last_flush_{0};
  std::chrono::steady_clock::time_point last_flush_real_{};
  std::uint64_t ticks_unflushed_ = 0;
  std::string warned_;  // the store's last warning shown
  std::uint64_t flushes_ = 0;
  std::uint64_t failed_writes_ = 0;
  bool writing_ = true;
  bool restore_published_ = false;
  bool clear_power_fail_ = false;
  ScopedConnection tick_connection_;
  ScopedConnection closed_connection_;
  ScopedConnection power_fail_connection_;
};

}  // namespace meter::kernel
