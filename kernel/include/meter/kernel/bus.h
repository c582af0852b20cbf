// The kernel's event bus: one Boost.Signals2 signal per event type.
//
// Thread: the bus belongs to the kernel thread. Every publish and every connect happens there;
// other threads hand work to the kernel rather than publish directly. That is why the signals
// use a dummy mutex: locking would cost every tick and protect nothing.
#pragma once

#include <boost/signals2.hpp>
#include <tuple>
#include <utility>

#include "meter/kernel/events.h"

namespace meter::kernel {

template <class Event>
using Signal = typename boost::signals2::signal_type<
    void(const Event&),
    boost::signals2::keywords::mutex_type<boost::signals2::dummy_mutex>>::type;

using Connection = boost::signals2::connection;
using ScopedConnection = boost::signals2::scoped_connection;

class EventBus {
 public:
  /// Calls `slot` for every `Event` published from now until the connection is dropped.
  template <class Event, class Slot>
  Connection subscribe(Slot&& slot) {
    return signal<Event>().connect(std::forward<Slot>(slot));
  }

  /// Delivers `event` to every subscriber, in the order they subscribed.
  template <class Event>
  void publish(const Event& event) {
    signal<Event>()(event);
  }

  template <class Event>
  Signal<Event>& signal() noexcept {
    return std::get<Signal<Event>>(signals_);
  }

  template <class Event>
  std::size_t subscribers() const noexcept {
    return std::get<Signal<Event>>(signals_).num_slots();
  }

 private:
  std::tuple<Signal<EnergyTick>, Signal<TickClosed>, Signal<Measurements>, Signal<PowerFail>, Signal<PowerRestore>,
             Signal<TimeChanged>, Signal<MidnightCrossed>, Signal<ParameterChanged>,
             Signal<SealChanged>, Signal<FaultRaised>, Signal<FaultCleared>,
             Signal<TestLedChanged>, Signal<PluginEvent>, Signal<PluginLoaded>,
             Signal<PluginRefused>, Signal<PluginUnloaded>, Signal<LogonFailed>,
             Signal<PortLocked>, Signal<WriteRefused>>
      signals_;
};

}  // namespace meter::kernel
