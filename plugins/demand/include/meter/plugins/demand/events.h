/* The events the demand plugin (id "demand") publishes, for an audit logger or a head-end
 * module. Pure C; include it and subscribe to the topic:
 *
 *   host.on_topic(METER_DEMAND_RESET_TOPIC, [](const meter_plugin_event& e) {
 *     meter_demand_reset r{}; if (e.size >= sizeof r) memcpy(&r, e.payload, sizeof r); });
 *
 * The payload is copied by the host; fields are only ever appended (check struct_size).
 */
#ifndef METER_PLUGINS_DEMAND_EVENTS_H
#define METER_PLUGINS_DEMAND_EVENTS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Published once for every demand reset that was carried out (never for a refused one). */
#define METER_DEMAND_RESET_TOPIC "demand.reset"

/** Quantities a payload has room for. */
#define METER_DEMAND_MAX_QUANTITIES 4

/** Payload of METER_DEMAND_RESET_TOPIC. Demands in milliwatts. */
typedef struct meter_demand_reset {
  uint32_t struct_size;   /**< sizeof(meter_demand_reset) as the publisher was built */
  uint32_t quantities;    /**< configured quantities, 1..METER_DEMAND_MAX_QUANTITIES */
  uint64_t reset_count;   /**< resets since the meter was made, this one included */
  int64_t time_utc_ms;    /**< when the reset was carried out (ms since epoch) */
  int64_t lockout_ms;     /**< metered time from now during which another reset is refused */
  int64_t maximum_mw[METER_DEMAND_MAX_QUANTITIES];     /**< maxima folded (before the reset) */
  int64_t maximum_time_utc_ms[METER_DEMAND_MAX_QUANTITIES]; /**< their times; 0 none */
  int64_t cumulative_mw[METER_DEMAND_MAX_QUANTITIES];  /**< cumulative demand after the reset */
  uint8_t obis[METER_DEMAND_MAX_QUANTITIES][6]; /**< each quantity's maximum demand code A..F */
} meter_demand_reset;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* METER_PLUGINS_DEMAND_EVENTS_H */
