// The rf_mqtt plugin: an RF mesh comms module whose head-end is an MQTT broker. It publishes a
// reading of the registers every N minutes of meter time and at every connect, a last gasp on
// PowerFail and the outage's length on PowerRestore, the meter's events, and a retained status
// with a will; it executes the head-end's commands as the comms port, through the parameter
// gate, and answers each. Topics and payloads: README.md.
#include <fmt/format.h>
#include <meter/plugins/demand/events.h>
#include <meter/plugins/tou/events.h>
#include <meter/sdk/plugin.h>
#include <mosquitto.h>

#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "commands.h"
#include "link.h"
#include "payloads.h"
#include "settings.h"

namespace meter::plugins::rf_mqtt {
namespace {

using sdk::obis;
using sdk::Status;

/// The meter's serial number (COSEM "device ID 1"), when the meter provides it.
constexpr sdk::Obis kSerialNumber = obis("0-0:96.1.0");
constexpr sdk::Obis kLinkStateObject = obis("0-0:128.50.0");
constexpr sdk::Obis kConnectsObject = obis("0-0:128.50.1");
constexpr sdk::Obis kDisconnectsObject = obis("0-0:128.50.2");
constexpr sdk::Obis kSentObject = obis("0-0:128.50.3");
constexpr sdk::Obis kReceivedObject = obis("0-0:128.50.4");
constexpr sdk::Obis kRefusedObject = obis("0-0:128.50.5");
constexpr sdk::Obis kDroppedObject = obis("0-0:128.50.6");
constexpr sdk::Obis kLastErrorObject = obis("0-0:128.50.7");
constexpr sdk::Obis kBrokerObject = obis("0-0:128.50.8");

/// Replies remembered by correlation id, so that a command delivered twice (QoS 1 is at least
/// once) is answered twice but carried out once.
constexpr std::size_t kRememberedReplies = 16;

std::string_view interface_name(meter_interface via) {
  switch (via) {
    case METER_INTERFACE_KERNEL: return "kernel";
    case METER_INTERFACE_OPTICAL_PORT: return "optical-port";
    case METER_INTERFACE_COMMS: return "comms";
    case METER_INTERFACE_PLUGIN: return "plugin";
    case METER_INTERFACE_LOCAL_BUTTON: return "local-button";
    default: return "unknown";
  }
}

std::string_view seal_name(std::int32_t kind) {
  switch (kind) {
    case METER_SEAL_COVER: return "cover";
    case METER_SEAL_PROGRAMMING_JUMPER: return "programming-jumper";
    case METER_SEAL_OPTICAL_PLUG: return "optical-plug";
    case METER_SEAL_ELECTRONIC: return "electronic";
    default: return "unknown";
  }
}

std::string_view rate_reason(std::int32_t reason) {
  switch (reason) {
    case METER_TOU_REASON_SCHEDULE: return "schedule";
    case METER_TOU_REASON_INVALID: return "switch-points-invalid";
    case METER_TOU_REASON_TIME_UNKNOWN: return "time-unknown";
    case METER_TOU_REASON_OVERRIDE: return "override";
    default: return "unknown";
  }
}

Json rate_json(std::int32_t rate) {
  if (rate < 1 || rate > 4) return nullptr;
  return std::string(1, static_cast<char>('A' + rate - 1));
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

}  // namespace

class RfMqttPlugin {
 public:
  explicit RfMqttPlugin(sdk::Host& host) : host_(host), settings_(read_settings(host)) {
    mosquitto_lib_init();  // counted: each instance takes one reference and gives it back
  }
  ~RfMqttPlugin() {
    link_.reset();
    mosquitto_lib_cleanup();
  }
  RfMqttPlugin(const RfMqttPlugin&) = delete;
  RfMqttPlugin& operator=(const RfMqttPlugin&) = delete;

  void start() {
    meter_id_ = resolve_meter_id();
    const std::string base = settings_.topic_prefix + "/" + meter_id_;
    status_topic_ = base + "/status";
    reading_topic_ = base + "/reading";
    outage_topic_ = base + "/outage";
    event_topic_ = base + "/event";
    command_topic_ = base + "/cmd";
    reply_topic_ = base + "/reply";

    LinkOptions o;
    o.host = settings_.broker_host;
    o.port = settings_.broker_port;
    o.client_id = meter_id_;
    o.keepalive_s = settings_.keepalive_s;
    o.username = settings_.username;
    o.password = settings_.password;
    o.will_topic = status_topic_;
    o.will_payload = dump(status_body("offline", "link-lost"));
    o.connect_timeout = settings_.connect_timeout;
    o.reconnect_min = settings_.reconnect_min;
    o.reconnect_max = settings_.reconnect_max;
    o.outbox_limit = settings_.outbox_messages;
    o.subscriptions = {command_topic_};
    link_ = std::make_unique<Link>(
        host_, std::move(o), [this] { on_link_up(); },
        [this](std::string_view topic, std::string_view payload, bool retained) {
          on_command(topic, payload, retained);
        });

    provide_objects();
    subscribe_events();
    if (host_.simulated() && !settings_.simulation_link) {
      // A simulation's readings are not the real meter's: nothing reaches the broker.
      link_off_ = true;
      host_.info("rf_mqtt: a simulation keeps the head-end link off (simulation_link = false)");
      return;
    }
    link_->start();
  }

  void stop() {
    if (!link_ || link_off_) return;
    const Message goodbye{status_topic_,
                          dump(status_body("offline", powering_down_ ? "power-fail" : "stopped")),
                          1, true};
    link_->close(&goodbye);
  }

 private:
  std::string resolve_meter_id() {
    if (settings_.meter_id) return *settings_.meter_id;
    if (const auto serial = host_.read(kSerialNumber)) {
      if (const auto* text = std::get_if<std::string>(&*serial)) {
        if (valid_meter_id(*text)) return *text;
        host_.error("rf_mqtt: the serial number \"" + *text +
                    "\" cannot name the meter in MQTT topics (A-Z a-z 0-9 . _ -, 1..64); set "
                    "meter_id");
        throw sdk::Error(Status::invalid_argument, "serial number unusable as a meter id");
      }
    }
    host_.error(
        "rf_mqtt: no meter id: set meter_id, or the meter must provide its serial number "
        "as object 0-0:96.1.0");
    throw sdk::Error(Status::invalid_argument, "no meter id");
  }

  std::string now_text() const { return utc_text(host_.now().time_since_epoch().count()); }

  Json status_body(std::string_view state, std::string_view reason) const {
    Json body = {{"meter", meter_id_}, {"state", std::string(state)}};
    if (!reason.empty()) body["reason"] = std::string(reason);
    return body;
  }

  void provide_objects() {
    const auto counter = [this](const sdk::Obis& id, std::string description, auto field) {
      host_.provide({.id = id, .type = METER_VALUE_UNSIGNED, .description = std::move(description)},
                    [this, field] { return std::uint64_t{field(*this)}; });
    };
    host_.provide({.id = kLinkStateObject,
                   .type = METER_VALUE_TEXT,
                   .description = "Head-end link: up, connecting, resolving or down"},
                  [this] { return link_off_ ? std::string("off (simulation)")
                                            : std::string(to_string(link_->state())); });
    counter(kConnectsObject, "Head-end link: connections made",
            [](const RfMqttPlugin& p) { return p.link_->counters().connects; });
    counter(kDisconnectsObject, "Head-end link: connections lost or closed",
            [](const RfMqttPlugin& p) { return p.link_->counters().disconnects; });
    counter(kSentObject, "Head-end link: messages the broker took",
            [](const RfMqttPlugin& p) { return p.link_->counters().sent; });
    counter(kReceivedObject, "Head-end link: messages received",
            [](const RfMqttPlugin& p) { return p.link_->counters().received; });
    counter(kRefusedObject, "Head-end link: malformed commands refused",
            [](const RfMqttPlugin& p) { return p.refused_; });
    counter(kDroppedObject, "Head-end link: messages dropped (link down, outbox full)",
            [](const RfMqttPlugin& p) { return p.link_->counters().dropped; });
    host_.provide({.id = kLastErrorObject,
                   .type = METER_VALUE_TEXT,
                   .description = "Head-end link: the last connection error"},
                  [this] { return link_->last_error(); });
    host_.provide(
        {.id = kBrokerObject,
         .type = METER_VALUE_TEXT,
         .description = "Head-end link: the broker, host:port"},
        [this] { return fmt::format("{}:{}", settings_.broker_host, settings_.broker_port); });
  }

  void subscribe_events() {
    host_.on<meter_energy_tick>([this](const meter_energy_tick& t) { on_tick(t); });
    host_.on<meter_time_event>([this](const meter_time_event& e) { on_power_fail(e); });
    host_.on<meter_power_restore>([this](const meter_power_restore& e) { on_power_restore(e); });
    if (!settings_.events) return;
    host_.on<meter_parameter_changed>([this](const meter_parameter_changed& e) {
      publish_event({{"event", "parameter-changed"},
                     {"time", utc_text(e.time_utc_ms)},
                     {"obis", sdk::to_string(e.id)},
                     {"old", e.old_value != nullptr ? e.old_value : ""},
                     {"new", e.new_value != nullptr ? e.new_value : ""},
                     {"who", e.who != nullptr ? e.who : ""},
                     {"via", std::string(interface_name(e.via))},
                     {"counter", e.counter},
                     {"counter_value", e.counter_value}});
    });
    host_.on<meter_seal_changed>([this](const meter_seal_changed& e) {
      publish_event({{"event", "seal-changed"},
                     {"time", utc_text(e.time_utc_ms)},
                     {"seal", std::string(seal_name(e.kind))},
                     {"sealed", e.sealed != 0}});
    });
    host_.on<meter_time_changed>([this](const meter_time_changed& e) {
      publish_event({{"event", "time-changed"},
                     {"old", utc_text(e.old_time_utc_ms)},
                     {"new", utc_text(e.new_time_utc_ms)},
                     {"was_valid", e.was_valid != 0}});
    });
    host_.on<meter_logon_failed>([this](const meter_logon_failed& e) {
      publish_event({{"event", "logon-failed"},
                     {"time", utc_text(e.time_utc_ms)},
                     {"via", std::string(interface_name(e.via))},
                     {"failures", e.failures},
                     {"reason", e.reason != nullptr ? e.reason : ""}});
    });
    host_.on<meter_port_locked>([this](const meter_port_locked& e) {
      publish_event({{"event", "port-locked"},
                     {"time", utc_text(e.time_utc_ms)},
                     {"via", std::string(interface_name(e.via))},
                     {"lockout_s", e.lockout_ms / 1000}});
    });
    host_.on_topic(METER_TOU_RATE_CHANGED_TOPIC, [this](const meter_plugin_event& e) {
      meter_tou_rate_changed rc{};
      if (e.payload == nullptr || e.size < sizeof rc) return;
      std::memcpy(&rc, e.payload, sizeof rc);
      publish_event({{"event", "rate-changed"},
                     {"time", utc_text(rc.time_utc_ms)},
                     {"rate", rate_json(rc.rate)},
                     {"previous", rate_json(rc.previous_rate)},
                     {"reason", std::string(rate_reason(rc.reason))}});
    });
    host_.on_topic(METER_DEMAND_RESET_TOPIC, [this](const meter_plugin_event& e) {
      meter_demand_reset r{};
      if (e.payload == nullptr || e.size < sizeof r) return;
      std::memcpy(&r, e.payload, sizeof r);
      Json quantities = Json::array();
      for (std::uint32_t i = 0; i < r.quantities && i < METER_DEMAND_MAX_QUANTITIES; ++i) {
        const sdk::Obis id{r.obis[i][0], r.obis[i][1], r.obis[i][2],
                           r.obis[i][3], r.obis[i][4], r.obis[i][5]};
        quantities.push_back({{"obis", sdk::to_string(id)},
                              {"maximum_mw", r.maximum_mw[i]},
                              {"maximum_time", r.maximum_time_utc_ms[i] != 0
                                                   ? Json(utc_text(r.maximum_time_utc_ms[i]))
                                                   : Json(nullptr)},
                              {"cumulative_mw", r.cumulative_mw[i]}});
      }
      publish_event({{"event", "demand-reset"},
                     {"time", utc_text(r.time_utc_ms)},
                     {"count", r.reset_count},
                     {"lockout_s", r.lockout_ms / 1000},
                     {"quantities", std::move(quantities)}});
    });
  }

  // ----- uplink ----------------------------------------------------------------------------

  void on_tick(const meter_energy_tick& t) {
    // Per tick: a division and a comparison. The reading itself goes out once per interval.
    if (t.time_valid != 0) {
      const std::int64_t slot = floor_div(t.time_utc_ms, settings_.reading_interval_ms);
      if (!slot_ || *slot_ == slot) {
        slot_ = slot;
        return;
      }
      slot_ = slot;
    } else {
      unsynced_ms_ += t.duration_ms;
      if (unsynced_ms_ < settings_.reading_interval_ms) return;
      unsynced_ms_ = 0;
    }
    publish_reading(t.time_utc_ms, t.time_valid != 0);
  }

  void publish_reading(std::int64_t time_ms, bool time_valid) {
    Json values = Json::object();
    const auto add = [&](const sdk::Obis& id) {
      const auto value = host_.read(id);
      if (!value) return;
      const auto described = host_.describe(id);
      std::optional<meter_object_info> info;
      if (described) info = described->info;
      values[sdk::to_string(id)] = value_json(*value, info);
    };
    std::optional<std::vector<sdk::Obis>> all;  // listed once, when a pattern needs it
    for (const auto& pattern : settings_.reading_objects) {
      if (!pattern.any_e) {
        add(pattern.id);
        continue;
      }
      if (!all) all = host_.objects();
      for (const auto& id : *all) {
        if (pattern.matches(id)) add(id);
      }
    }
    Json body = {{"meter", meter_id_},
                 {"seq", ++reading_sequence_},
                 {"time", utc_text(time_ms)},
                 {"time_valid", time_valid},
                 {"registers", std::move(values)}};
    link_->publish({reading_topic_, dump(body), 1, false}, Link::WhenDown::queue);
  }

  void publish_event(Json body) {
    body["meter"] = meter_id_;
    link_->publish({event_topic_, dump(body), 1, false}, Link::WhenDown::queue);
  }

  void on_power_fail(const meter_time_event& e) {
    powering_down_ = true;
    const Json body = {{"meter", meter_id_},
                       {"event", "last-gasp"},
                       {"time", utc_text(e.time_utc_ms)},
                       {"time_valid", host_.time_valid()}};
    // The last gasp goes into the socket now: the supply may be gone before the next loop.
    if (link_->publish({outage_topic_, dump(body), 1, false}, Link::WhenDown::drop)) {
      link_->flush();
    } else {
      host_.warning("last gasp not sent: the head-end link is " +
                    std::string(to_string(link_->state())));
    }
  }

  void on_power_restore(const meter_power_restore& e) {
    powering_down_ = false;
    const Json body = {{"meter", meter_id_},
                       {"event", "power-restore"},
                       {"time", utc_text(e.time_utc_ms)},
                       {"time_valid", e.time_valid != 0},
                       {"outage_ms", e.outage_ms},
                       {"outage_s", e.outage_ms / 1000}};
    link_->publish({outage_topic_, dump(body), 1, false}, Link::WhenDown::queue);
  }

  void on_link_up() {
    Json birth = status_body("online", {});
    birth["plugin"] = METER_PLUGIN_ID;
    birth["version"] = METER_PLUGIN_VERSION;
    birth["comms"] = "rf";
    birth["time"] = now_text();
    birth["time_valid"] = host_.time_valid();
    birth["connects"] = link_->counters().connects;
    link_->publish({status_topic_, dump(birth), 1, true}, Link::WhenDown::drop);
    link_->send_outbox();  // what waited is older than the reading that follows
    publish_reading(host_.now().time_since_epoch().count(), host_.time_valid());
  }

  // ----- downlink --------------------------------------------------------------------------

  void on_command(std::string_view topic, std::string_view payload, bool retained) {
    if (topic != command_topic_) return;
    ParsedCommand parsed = parse_command(payload);
    if (retained && parsed.command) {
      // A command the broker kept would run again at every connect: it is answered, with its
      // correlation id, and never carried out.
      parsed.command.reset();
      parsed.error = "a retained command is never carried out";
    }
    if (!parsed.command) {
      ++refused_;
      host_.warning("command refused: " + parsed.error);
      const Json reply = {{"id", parsed.id}, {"status", "invalid"}, {"error", parsed.error}};
      link_->publish({reply_topic_, dump(reply), 1, false}, Link::WhenDown::drop);
      return;
    }
    const Command& command = *parsed.command;
    const std::string key = command.id.is_null() ? std::string{} : command.id.dump();
    if (!key.empty()) {
      for (const auto& [id, reply] : replies_) {
        if (id == key) {
          host_.info("command " + key + " delivered again: answered, not carried out again");
          link_->publish({reply_topic_, reply, 1, false}, Link::WhenDown::drop);
          return;
        }
      }
    }
    Json reply;
    try {
      reply = execute(host_, command);
    } catch (const std::exception& e) {
      reply = {{"id", command.id},
               {"action", std::string(to_string(command.action))},
               {"status", "error"},
               {"error", e.what()}};
    }
    host_.info(fmt::format("command {}{}{}: {}", to_string(command.action), command.obis ? " " : "",
                           command.obis ? sdk::to_string(*command.obis) : std::string{},
                           reply.value("status", std::string("error"))));
    std::string text = dump(reply);
    if (!key.empty()) {
      if (replies_.size() == kRememberedReplies) replies_.pop_front();
      replies_.emplace_back(key, text);
    }
    link_->publish({reply_topic_, std::move(text), 1, false}, Link::WhenDown::drop);
  }

  sdk::Host& host_;
  Settings settings_;
  std::unique_ptr<Link> link_;
  bool link_off_ = false;  // a simulation without simulation_link: never started
  std::string meter_id_;
  std::string status_topic_, reading_topic_, outage_topic_, event_topic_, command_topic_,
      reply_topic_;
  std::optional<std::int64_t> slot_;  // the reading interval the last tick fell in
  std::int64_t unsynced_ms_ = 0;      // metered time since the last reading, while time unknown
  std::uint64_t reading_sequence_ = 0;
  std::uint64_t refused_ = 0;
  bool powering_down_ = false;
  std::deque<std::pair<std::string, std::string>> replies_;  // correlation id, reply
};

}  // namespace meter::plugins::rf_mqtt

METER_PLUGIN(meter::plugins::rf_mqtt::RfMqttPlugin)
