/* The events the time-of-use plugin (id "tou") publishes, for plugins that follow the rate
 * (demand per rate, prepaid pricing). Pure C; include it and subscribe to the topic:
 *
 *   host.on_topic(METER_TOU_RATE_CHANGED_TOPIC, [](const meter_plugin_event& e) {
 *     meter_tou_rate_changed rc; if (e.size >= sizeof rc) memcpy(&rc, e.payload, sizeof rc); });
 *
 * The payload is copied by the host; fields are only ever appended (check struct_size).
 */
#ifndef METER_PLUGINS_TOU_EVENTS_H
#define METER_PLUGINS_TOU_EVENTS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Published on every change of the active rate, and once when the plugin starts. */
#define METER_TOU_RATE_CHANGED_TOPIC "tou.rate_changed"

/** Why the rate is what it is. Zero is never valid. */
enum {
  METER_TOU_REASON_SCHEDULE = 1,     /**< the day type's switch points for the season */
  METER_TOU_REASON_INVALID = 2,      /**< default tier: switch points invalid (season changed) */
  METER_TOU_REASON_TIME_UNKNOWN = 3, /**< default tier: the meter does not know the time */
  METER_TOU_REASON_OVERRIDE = 4      /**< tier override (critical-peak) switch points */
};

/** Payload of METER_TOU_RATE_CHANGED_TOPIC. */
typedef struct meter_tou_rate_changed {
  uint32_t struct_size;  /**< sizeof(meter_tou_rate_changed) as the publisher was built */
  int32_t rate;          /**< 1..4: rate A..D, now active */
  int32_t previous_rate; /**< 1..4, or 0 for the publication when the plugin starts */
  int32_t reason;        /**< METER_TOU_REASON_* */
  int32_t day_type;      /**< 1 weekday, 2 weekend, 3 holiday 1, 4 holiday 2; 0 time unknown */
  int32_t reserved;      /**< 0 */
  int64_t time_utc_ms;   /**< end of the first tick metered in the new rate (ms since epoch) */
} meter_tou_rate_changed;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* METER_PLUGINS_TOU_EVENTS_H */
