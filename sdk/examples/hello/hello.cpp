// The SDK's example plugin: a plain class and one METER_PLUGIN line. It counts energy ticks and
// imported energy, provides both as objects, keeps the tick count in its NVM namespace across
// restarts and publishes "hello.report" every `report_every_ticks` ticks.
#include <cstdint>
#include <string>

#include <meter/sdk/plugin.h>

namespace example::hello {

using meter::sdk::obis;

inline constexpr meter::sdk::Obis kTicksSeen = obis("0-0:96.128.0");
inline constexpr meter::sdk::Obis kImportedSinceStart = obis("0-0:96.128.1");

class HelloPlugin {
 public:
  explicit HelloPlugin(meter::sdk::Host& host)
      : host_(host), report_every_ticks_(host.config<std::uint64_t>("report_every_ticks")) {
    if (auto saved = host_.nvm().get("ticks_seen")) {
      ticks_seen_ = std::get<std::uint64_t>(*saved);
    }
  }

  void start() {
    host_.info(host_.config<std::string>("greeting"));
    host_.provide({.id = kTicksSeen, .type = METER_VALUE_UNSIGNED, .description = "Ticks seen"},
                  [this] { return ticks_seen_; });
    host_.provide({.id = kImportedSinceStart,
                   .type = METER_VALUE_INTEGER,
                   .unit = METER_UNIT_WATT_HOUR,
                   .scaler = -3,
                   .description = "Energy imported since start, mWh"},
                  [this] { return imported_mwh_; });
    host_.on<meter_energy_tick>([this](const meter_energy_tick& tick) { on_tick(tick); });
  }

  void stop() { host_.nvm().put("ticks_seen", ticks_seen_); }

  meter::sdk::Status self_test() {
    return report_every_ticks_ > 0 ? meter::sdk::Status::ok : meter::sdk::Status::error;
  }

 private:
  void on_tick(const meter_energy_tick& tick) {
    ++ticks_seen_;
    imported_mwh_ += tick.delta_mwh[0];
    if (ticks_seen_ % report_every_ticks_ == 0) {
      host_.nvm().put("ticks_seen", ticks_seen_);
      host_.publish("hello.report", std::to_string(ticks_seen_));
    }
  }

  meter::sdk::Host& host_;
  std::uint64_t report_every_ticks_;
  std::uint64_t ticks_seen_ = 0;
  std::int64_t imported_mwh_ = 0;
};

}  // namespace example::hello

METER_PLUGIN(example::hello::HelloPlugin)
