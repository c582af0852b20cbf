// The kernel's persistence service: restore at attach, one batch per tick, durable flushes.
#include "meter/kernel/persistence.h"

#include <fmt/format.h>

#include <bit>
#include <cstring>

namespace meter::kernel {

namespace {

constexpr const char* kRegisters = "registers";  // 6 x mWh then 6 x remainder nWh, int64 LE
constexpr const char* kTime = "clock.utc_ms";
constexpr const char* kTimeValid = "clock.valid";
// Meter time minus the time source's: a time set through a port, kept across restarts.
constexpr const char* kTimeOffset = "clock.offset_ms";
// A board clock this far behind the time last stored went backwards in the outage: the meter
// does not know the time. Less is taken for the host's time being trimmed (NTP slews).
constexpr Milliseconds kClockBackwardsTolerance = std::chrono::seconds{60};
constexpr const char* kLedRemaining = "led.remaining_ms";
constexpr const char* kPowerFail = "power.fail_utc_ms";
constexpr const char* kFormat = "format";
constexpr std::uint64_t kFormatVersion = 1;
constexpr std::size_t kRegisterBytes = 2 * kEnergyRegisterCount * 8;

void pack(const EnergyRegisters::Snapshot& s, std::vector<std::uint8_t>& out) {
  out.resize(kRegisterBytes);
  if constexpr (std::endian::native == std::endian::little) {  // the stored form, as it is
    std::memcpy(out.data(), s.mwh.data(), 8 * kEnergyRegisterCount);
    std::memcpy(out.data() + 8 * kEnergyRegisterCount, s.remainder_nwh.data(),
                8 * kEnergyRegisterCount);
    return;
  }
  auto put = [&out](std::size_t at, std::int64_t v) {
    for (std::size_t i = 0; i < 8; ++i) {
      out[at + i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(v) >> (8 * i));
    }
  };
  for (std::size_t r = 0; r < kEnergyRegisterCount; ++r) {
    put(8 * r, s.mwh[r]);
    put(8 * (kEnergyRegisterCount + r), s.remainder_nwh[r]);
  }
}

std::optional<EnergyRegisters::Snapshot> unpack(const std::vector<std::uint8_t>& in) {
  if (in.size() != kRegisterBytes) return std::nullopt;
  auto get = [&in](std::size_t at) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v |= std::uint64_t{in[at + i]} << (8 * i);
    return static_cast<std::int64_t>(v);
  };
  EnergyRegisters::Snapshot s;
  for (std::size_t r = 0; r < kEnergyRegisterCount; ++r) {
    s.mwh[r] = get(8 * r);
    s.remainder_nwh[r] = get(8 * (kEnergyRegisterCount + r));
  }
  return s;
}

template <class T>
std::optional<T> read_as(const NvmStore& store, const char* key, std::string& problem) {
  auto v = store.get(Persistence::kNamespace, key);
  if (!v) {
    problem = v.error().message;
    return std::nullopt;
  }
  if (!*v) return std::nullopt;
  if (const auto* x = std::get_if<T>(&**v)) return *x;
  problem = fmt::format("NVM record kernel/{} has the wrong type", key);
  return std::nullopt;
}

const char* state_name(NvmState s) {
  switch (s) {
    case NvmState::fresh: return "fresh";
    case NvmState::intact: return "intact";
    case NvmState::damaged: return "damaged";
  }
  return "unknown";
}

}  // namespace

Persistence::Persistence(Meter& meter, NvmStore& store, PersistenceConfig config)
    : meter_(meter), store_(store), config_(config), status_(std::make_shared<std::string>()) {}

Persistence::~Persistence() = default;

std::optional<UtcTime> Persistence::stored_time(const NvmStore& store) {
  std::string ignored;
  const auto time = read_as<std::int64_t>(store, kTime, ignored);
  if (!time || *time == 0) return std::nullopt;
  const auto offset = read_as<std::int64_t>(store, kTimeOffset, ignored).value_or(0);
  return UtcTime{Milliseconds{*time - offset}};
}

Result<std::unique_ptr<Persistence>> Persistence::attach(Meter& meter, NvmStore& store,
                                                         PersistenceConfig config) {
  if (config.flush_period < Milliseconds{0}) return fail("flush_period must not be negative");
  std::unique_ptr<Persistence> p(new Persistence(meter, store, config));
  p->batch_.reserve(6);
  p->batch_.push_back({kNamespace, kRegisters, Value{std::vector<std::uint8_t>(kRegisterBytes)}});
  p->batch_.push_back({kNamespace, kTime, Value{std::int64_t{0}}});
  p->batch_.push_back({kNamespace, kTimeValid, Value{false}});
  p->batch_.push_back({kNamespace, kLedRemaining, Value{std::int64_t{0}}});
  p->batch_.push_back({kNamespace, kTimeOffset, Value{std::int64_t{0}}});

  auto status = p->status_;
  ObjectInfo info{obis("0-0:128.4.0"), ObjectClass::data, ValueType::text, Unit::none, 0,
                  kAnyRole, kNoRole, ParameterClass::read_only, true, "kernel",
                  "nonvolatile store: fresh, intact, or damaged with what was found"};
  (void)meter.objects().add(std::move(info), [status] { return Value{*status}; });

  p->restore();
  if (p->writing_) {
    // One batch, so that a kill in the middle cannot leave a store with some kernel records
    // and not others: a fresh store becomes a kernel store durably at once, and an orderly
    // power-down mark is cleared, so that a later crash is not taken for one.
    p->fill_batch();
    std::vector<NvmWrite> first = p->batch_;
    first.push_back({kNamespace, kFormat, Value{kFormatVersion}});
    if (p->report_.state == NvmState::fresh) {
      for (auto& w : p->meter_.gate().nvm_records()) first.push_back(std::move(w));
    }
    first.push_back({kNamespace, kPowerFail, std::nullopt});
    auto r = store.apply(first);
    if (!r) {
      p->storage_failed(r.error().message);
      return r.error();
    }
    // A flush that fails here (a full disk, a file that refuses writes) is a storage fault:
    // the medium holds the records all the same, and the meter meters on from them.
    if (r = store.flush(); !r) {
      p->storage_failed(r.error().message);
    } else {
      p->note_store_warning();
    }
    ++p->flushes_;
    p->last_flush_ = meter.clock().uptime();
    p->last_flush_real_ = std::chrono::steady_clock::now();
  }
  p->tick_connection_ = meter.bus().subscribe<EnergyTick>(
      [raw = p.get()](const EnergyTick&) { raw->on_tick_begin(); });
  p->closed_connection_ = meter.bus().subscribe<TickClosed>(
      [raw = p.get()](const TickClosed&) { raw->on_tick_closed(); });
  p->power_fail_connection_ = meter.bus().subscribe<PowerFail>(
      [raw = p.get()](const PowerFail& e) { raw->on_power_fail(e); });
  return p;
}

void Persistence::restore() {
  const auto health = store_.health();
  report_.state = health.state;
  report_.detail = health.detail;
  auto& clock = meter_.clock();

  if (health.state != NvmState::fresh) {
    std::string problem;
    const auto packed = read_as<std::vector<std::uint8_t>>(store_, kRegisters, problem);
    if (packed) {
      const auto snapshot = unpack(*packed);
      if (!snapshot) {
        problem = "NVM record kernel/registers has the wrong size";
      } else if (auto r = meter_.restore(*snapshot); !r) {
        problem = r.error().message;
      } else {
        report_.registers_restored = true;
      }
    } else if (problem.empty()) {
      problem = "the kernel's records are missing from a store that holds others";
    }
    if (!problem.empty() && report_.state != NvmState::damaged) {
      report_.state = NvmState::damaged;
      report_.detail = problem;
    } else if (!problem.empty()) {
      report_.detail += "; " + problem;
    }

    std::string ignored;
    const auto fail_ms = read_as<std::int64_t>(store_, kPowerFail, ignored);
    const auto time_ms = read_as<std::int64_t>(store_, kTime, ignored);
    const auto time_valid = read_as<bool>(store_, kTimeValid, ignored);
    report_.orderly_power_down = fail_ms.has_value();
    // The time set through a port before the outage, on the board's clock as it kept running.
    if (const auto offset = read_as<std::int64_t>(store_, kTimeOffset, ignored)) {
      clock.resume(Milliseconds{*offset});
    }
    if (time_ms && time_valid.value_or(false)) {
      report_.last_time = UtcTime{Milliseconds{fail_ms.value_or(*time_ms)}};
    }
    if (time_ms && !time_valid.value_or(false)) {
      // Unknown when the power went, unknown now: only setting the time makes it known.
      clock.invalidate();
    } else if (report_.last_time && clock.valid() &&
               clock.now() + kClockBackwardsTolerance < *report_.last_time) {
      // The board's clock is behind the time the meter last knew: it went backwards in the
      // outage (a drained battery, a reset RTC). Billing by it would bill the wrong tier.
      clock.invalidate();
    }
    PowerRestore restore_event{clock.now(), Milliseconds{0}, clock.valid()};
    if (report_.last_time && clock.valid() && clock.now() >= *report_.last_time) {
      restore_event.outage = clock.now() - *report_.last_time;
    } else {
      restore_event.time_valid = false;  // the outage is unknown
    }
    report_.power_restore = restore_event;

    // A restart without an orderly power-down was a crash, not a power cycle: the test LED's
    // window carries on instead of opening for another 24 h.
    if (!report_.orderly_power_down) {
      if (const auto left = read_as<std::int64_t>(store_, kLedRemaining, ignored)) {
        meter_.test_led().restore(clock.uptime(),
                                  Milliseconds{*left} - restore_event.outage);
      }
    }
  }

  // The event counters must never reset: missing or unreadable ones in a store that holds
  // other records are damage, like missing registers.
  if (auto seal = meter_.gate().attach(store_); !seal) {
    if (report_.state != NvmState::damaged) {
      report_.state = NvmState::damaged;
      report_.detail = seal.error().message;
    } else {
      report_.detail += "; " + seal.error().message;
    }
  }

  if (!health.legal.empty()) {
    meter_.raise_legal_fault(fmt::format("store: {}", health.legal));
    meter_.raise_storage_fault(health.legal);
  }
  if (report_.state == NvmState::damaged) {
    store_.freeze(report_.detail);
    writing_ = !store_.read_only();
    meter_.raise_storage_fault(report_.detail);
    *status_ = fmt::format("damaged: {}", report_.detail);
  } else if (!health.legal.empty()) {
    *status_ = fmt::format("intact; legal fault latched: {}", health.legal);
  } else {
    *status_ = state_name(report_.state);
  }
}

void Persistence::fill_batch() {
  pack(meter_.registers().snapshot(), std::get<std::vector<std::uint8_t>>(*batch_[0].value));
  auto& clock = meter_.clock();
  std::get<std::int64_t>(*batch_[1].value) = clock.now().time_since_epoch().count();
  std::get<bool>(*batch_[2].value) = clock.valid();
  std::get<std::int64_t>(*batch_[3].value) = meter_.test_led().remaining(clock.uptime()).count();
  std::get<std::int64_t>(*batch_[4].value) = clock.offset().count();
}

Result<void> Persistence::write(bool durable) {
  if (!writing_) return fail(fmt::format("NVM store is held read-only: {}", report_.detail));
  fill_batch();
  if (clear_power_fail_) batch_.push_back({kNamespace, kPowerFail, std::nullopt});
  auto r = store_.apply(batch_);
  if (clear_power_fail_) batch_.pop_back();
  if (r && clear_power_fail_) clear_power_fail_ = false;
  if (!r) {
    storage_failed(r.error().message);
    return r;
  }
  return durable ? make_durable() : r;
}

Result<void> Persistence::make_durable(bool periodic) {
  auto r = periodic ? store_.checkpoint() : store_.flush();
  // Counted as a flush even when it failed: the next attempt waits a period, not a tick.
  last_flush_ = meter_.clock().uptime();
  last_flush_real_ = std::chrono::steady_clock::now();
  if (r) {
    ++flushes_;
    note_store_warning();
  } else {
    storage_failed(r.error().message);
  }
  return r;
}

void Persistence::note_store_warning() {
  // A sound store that had to do something about the medium (the disk full, its reserve used)
  // says so in its health; the meter shows it, once.
  const auto h = store_.health();
  if (h.state != NvmState::intact || h.detail.empty() || warned_ == h.detail) return;
  if (!h.legal.empty() && h.detail == h.legal) return;  // the latched fault, shown already
  warned_ = h.detail;
  meter_.raise_storage_fault(h.detail);
  *status_ = fmt::format("intact; {}", h.detail);
}

Result<void> Persistence::flush() { return write(true); }

void Persistence::publish_power_restore() {
  if (restore_published_) return;
  restore_published_ = true;
  if (report_.power_restore) meter_.bus().publish(*report_.power_restore);
}

bool Persistence::flush_due() {
  if (config_.period_in_real_time) {
    // The clock and the medium are asked every 64th tick only, unless the period is as short as
    // a few ticks: a simulation runs millions of ticks a second, a real meter one.
    if (config_.flush_period > 64 * meter_.tick_length() && (++ticks_unflushed_ & 63) != 0) {
      return false;
    }
    return store_.wants_flush() ||
           std::chrono::steady_clock::now() - last_flush_real_ >= config_.flush_period;
  }
  return store_.wants_flush() || meter_.clock().uptime() - last_flush_ >= config_.flush_period;
}

void Persistence::on_tick_begin() {
  publish_power_restore();
  if (writing_) store_.begin_group();
}

void Persistence::on_tick_closed() {
  if (!writing_) return;
  const bool due = flush_due();
  // The per-tick commit is there to survive a killed process; a medium that dies with the
  // process gets the periodic and the power-fail writes only.
  if (!due && !store_.survives_process()) {
    (void)store_.end_group();
    return;
  }
  (void)write(false);
  if (auto r = store_.end_group(); !r) storage_failed(r.error().message);
  if (due) (void)make_durable(true);
}

void Persistence::on_power_fail(const PowerFail& event) {
  if (!writing_) return;
  fill_batch();
  std::vector<NvmWrite> last = batch_;
  last.push_back({kNamespace, kPowerFail, Value{event.time.time_since_epoch().count()}});
  // The gate's records in the same durable batch: a locked port keeps the lockout it has left.
  for (auto& w : meter_.gate().nvm_records()) last.push_back(std::move(w));
  auto r = store_.apply(last);
  if (r) r = store_.flush();
  if (!r) {
    storage_failed(r.error().message);
    return;
  }
  ++flushes_;
  last_flush_ = meter_.clock().uptime();
  last_flush_real_ = std::chrono::steady_clock::now();
  clear_power_fail_ = true;  // if the power comes back without a restart
}

void Persistence::storage_failed(const std::string& detail) {
  ++failed_writes_;
  meter_.raise_storage_fault(detail);
  *status_ = fmt::format("write failed: {}", detail);
}

}  // namespace meter::kernel
