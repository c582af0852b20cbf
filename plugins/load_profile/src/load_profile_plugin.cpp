// The load profile plugin: reads its settings and the meter constant, feeds the engine from
// the bus, keeps the ring buffer and the open interval in its NVM namespace (the open interval
// in every tick, with the kernel's registers; each closed record once, in one transaction with
// the state; and at power failure and stop), and provides the profile object 1-0:99.1.0 with
// its selector 1-0:99.1.1.
#include <cmath>
#include <optional>
#include <string>
#include <variant>

#include <meter/sdk/plugin.h>

#include "engine.h"
#include "selector.h"

namespace meter::plugins::load_profile {
namespace {

using sdk::obis;
using sdk::Status;

constexpr sdk::Obis kProfileObject = obis("1-0:99.1.0");
constexpr sdk::Obis kSelectorObject = obis("1-0:99.1.1");
constexpr sdk::Obis kMeterConstant = obis("1-0:0.3.0");
constexpr std::string_view kStateKey = "state";
constexpr double kNwhPerWh = 1e9;

std::string record_key(std::uint32_t slot) { return "r" + std::to_string(slot); }

}  // namespace

class LoadProfilePlugin {
 public:
  explicit LoadProfilePlugin(sdk::Host& host)
      : host_(host), config_(read_config(host)), kh_wh_setting_(host.config<double>("kh_wh")) {}

  void start() {
    config_.kh_nwh = meter_constant_nwh();
    if (const std::string error = check_config(config_); !error.empty()) refuse(error);
    engine_.emplace(config_);
    restore();
    host_.provide({.id = kProfileObject,
                   .type = METER_VALUE_OCTETS,
                   .legally_relevant = true,
                   .description = "Load profile: the records the selector 1-0:99.1.1 picks"},
                  [this] { return select_records(*engine_, selector_); });
    host_.provide({.id = kSelectorObject,
                   .type = METER_VALUE_TEXT,
                   .write_roles = METER_ROLE_ANY,
                   .parameter_class = METER_PARAMETER_OPERATIONAL,
                   .description = "Load profile selector: all | last:N | index:A-B | time:FROM/TO"},
                  [this] { return selector_.text; },
                  [this](const sdk::Value& value) { select(value); });
    host_.on<meter_energy_tick>([this](const meter_energy_tick& tick) {
      engine_->on_tick(tick);
      // Every tick, in the tick: the open interval joins the kernel's tick batch, so after a
      // killed process it holds the energy of every tick the kernel's registers hold. A tick
      // that closed an interval writes its record with the state, in one transaction.
      if (engine_->has_unsaved()) [[unlikely]] {
        save();
      } else {
        store([&] { host_.nvm().put(kStateKey, state_record()); });
      }
    });
    host_.on<meter_time_event>([this](const meter_time_event& e) {
      engine_->on_power_fail(e.time_utc_ms);
      save();
    });
    host_.on<meter_power_restore>([this](const meter_power_restore& e) {
      engine_->on_power_restore(e.time_utc_ms, e.outage_ms, e.time_valid != 0);
      save();
    });
    host_.on<meter_time_changed>([this](const meter_time_changed& e) {
      engine_->on_time_changed(e.old_time_utc_ms, e.new_time_utc_ms, e.was_valid != 0);
      save();
    });
  }

  void stop() {
    if (engine_) save();
  }

  Status self_test() const {
    return engine_ && check_config(engine_->config()).empty() ? Status::ok : Status::error;
  }

 private:
  [[noreturn]] void refuse(const std::string& why) const { throw sdk::ConfigError::of(why); }

  static EngineConfig read_config(const sdk::Host& host) {
    EngineConfig c;
    c.interval_min = host.config<std::uint32_t>("interval_min");
    c.capacity_records = host.config<std::uint32_t>("capacity_records");
    c.pulse_divisor = host.config<std::uint32_t>("pulse_divisor");
    ChannelsParse channels = parse_channels(host.config<std::string>("channels"));
    if (!channels.error.empty()) throw sdk::ConfigError::of(channels.error, "channels");
    c.channels = std::move(channels.channels);
    c.kh_nwh = 1;  // placeholder until start reads the meter constant
    if (const std::string error = check_config(c); !error.empty()) {
      throw sdk::ConfigError::of(error);
    }
    return c;
  }

  // Kh from the meter's test LED constant (pulses per kWh = 1000 / Kh), else from kh_wh.
  std::uint64_t meter_constant_nwh() const {
    const auto setting_nwh = static_cast<std::uint64_t>(std::llround(kh_wh_setting_ * kNwhPerWh));
    if (const auto value = host_.read(kMeterConstant)) {
      const double per_kwh = std::visit(
          [](const auto& v) -> double {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
              return static_cast<double>(v);
            } else {
              return 0.0;
            }
          },
          *value);
      if (std::isfinite(per_kwh) && per_kwh > 0) {
        const auto kh_nwh = static_cast<std::uint64_t>(std::llround(1e12 / per_kwh));
        if (setting_nwh != 0 && setting_nwh != kh_nwh) {
          host_.warning("load_profile: kh_wh " + std::to_string(kh_wh_setting_) +
                        " Wh differs from the meter's constant; using the meter's " +
                        std::to_string(static_cast<double>(kh_nwh) / kNwhPerWh) + " Wh");
        }
        return kh_nwh;
      }
    }
    if (setting_nwh == 0) {
      refuse("Kh is unknown: the meter constant 1-0:0.3.0 cannot be read and kh_wh is not set");
    }
    return setting_nwh;
  }

  void select(const sdk::Value& value) {
    const auto* text = std::get_if<std::string>(&value);
    if (text == nullptr) throw sdk::Error(Status::type_mismatch, "the selector is text");
    SelectorParse parsed = parse_selector(*text);
    if (!parsed.selector) throw sdk::Error(Status::invalid_argument, parsed.error);
    selector_ = std::move(*parsed.selector);
  }

  void restore() {
    sdk::Nvm nvm = host_.nvm();
    const auto state = nvm.get(kStateKey);
    if (!state) return;
    const auto* bytes = std::get_if<std::vector<std::uint8_t>>(&*state);
    if (bytes == nullptr || !engine_->restore_state(bytes->data(), bytes->size())) {
      host_.warning(
          "load_profile: the stored profile was recorded with another interval, channel list, "
          "capacity, pulse divisor or Kh, or is damaged; it is cleared and a new one begins");
      nvm.transaction([&] {
        for (std::uint32_t slot = 0; nvm.erase(record_key(slot)); ++slot) {
        }
        nvm.put(kStateKey, engine_->state());
      });
      return;
    }
    const std::size_t channels = config_.channels.size();
    std::size_t lost = 0;
    for (std::uint32_t s = engine_->oldest_sequence(); s != engine_->next_sequence(); ++s) {
      const auto stored = nvm.get(record_key(engine_->slot_of(s)));
      const auto* record_bytes =
          stored ? std::get_if<std::vector<std::uint8_t>>(&*stored) : nullptr;
      Record r;
      bool ok = record_bytes != nullptr &&
                record_bytes->size() == encoded_record_size(channels);
      if (ok) {
        detail::ByteReader in(record_bytes->data(), record_bytes->size());
        ok = decode_record(in, channels, r) && r.sequence == s && engine_->restore_record(r);
      }
      if (!ok) ++lost;
    }
    if (lost != 0) {
      host_.warning("load_profile: " + std::to_string(lost) +
                    " stored records are missing or damaged and are left out of the profile");
    }
  }

  /// The records closed since the last save and the state, in one transaction.
  void save() {
    store([&] {
      sdk::Nvm nvm = host_.nvm();
      nvm.transaction([&] {
        const std::size_t channels = config_.channels.size();
        std::vector<std::uint8_t> bytes;
        for (std::uint32_t s = engine_->first_unsaved(); s != engine_->next_sequence(); ++s) {
          bytes.clear();
          encode_record(engine_->record(s), channels, bytes);
          nvm.put(record_key(engine_->slot_of(s)), bytes);
        }
        nvm.put(kStateKey, state_record());
      });
      engine_->mark_saved();
    });
  }

  /// The state in the record buffer the plugin reuses: no allocation once it has its size.
  const sdk::Value& state_record() {
    engine_->write_state(std::get<std::vector<std::uint8_t>>(state_record_));
    return state_record_;
  }

  /// Runs a write. A failure is kept in RAM (records not saved stay unsaved) and written again
  /// in the next tick; metering goes on. Said once, not once a tick.
  template <class Write>
  void store(Write&& write) {
    try {
      write();
      if (store_failing_) [[unlikely]] {
        store_failing_ = false;
        host_.info("load_profile: the profile is stored again");
      }
    } catch (const sdk::Error& e) {
      if (!store_failing_) host_.error(std::string("load_profile: saving failed: ") + e.what());
      store_failing_ = true;
    }
  }

  sdk::Host& host_;
  EngineConfig config_;
  double kh_wh_setting_;
  std::optional<Engine> engine_;
  Selector selector_{.text = "all"};
  sdk::Value state_record_{std::vector<std::uint8_t>()};  // reused every tick
  bool store_failing_ = false;  // the last write failed (logged once)
};

}  // namespace meter::plugins::load_profile

METER_PLUGIN(meter::plugins::load_profile::LoadProfilePlugin)
