/* The events the prepaid plugin (id "prepaid") publishes, for a display, a comms module or an
 * in-home display. Pure C; include it and subscribe to a topic:
 *
 *   host.on_topic(METER_PREPAID_LOW_CREDIT_TOPIC, [](const meter_plugin_event& e) {
 *     meter_prepaid_low_credit w; if (e.size >= sizeof w) memcpy(&w, e.payload, sizeof w); });
 *
 * The payload is copied by the host; fields are only ever appended (check struct_size). Money is
 * in milli-minor units: 1/1000 of the currency's minor unit (1/1000 cent for USD).
 */
#ifndef METER_PLUGINS_PREPAID_EVENTS_H
#define METER_PLUGINS_PREPAID_EVENTS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The credit fell below the emergency credit threshold (the meter warns that it will expire),
 *  or rose above it again. Published on each change and once when the plugin starts. */
#define METER_PREPAID_LOW_CREDIT_TOPIC "prepaid.low_credit"
/** A source's relay state changed (tripped or closed). */
#define METER_PREPAID_RELAY_TOPIC "prepaid.relay"
/** A token was accepted or refused. */
#define METER_PREPAID_TOKEN_TOPIC "prepaid.token"

/** Why a source's relay is open: a mask; 0 is closed. */
enum {
  METER_PREPAID_RELAY_CREDIT = 1,       /**< no credit and no emergency credit left */
  METER_PREPAID_RELAY_OVER_CURRENT = 2, /**< the source's current limit was exceeded */
  METER_PREPAID_RELAY_OVER_VOLTAGE = 4  /**< the supply voltage exceeded the limit */
};

/** The result of the last token (object 0-0:128.30.8). Zero is never valid. */
enum {
  METER_PREPAID_TOKEN_NONE = 1,          /**< no token entered yet */
  METER_PREPAID_TOKEN_ACCEPTED = 2,
  METER_PREPAID_TOKEN_MALFORMED = 3,     /**< not 20 digits, or not a number a token can be */
  METER_PREPAID_TOKEN_BAD_MAC = 4,       /**< forged, mistyped, or for another meter */
  METER_PREPAID_TOKEN_USED = 5,          /**< this token was accepted before */
  METER_PREPAID_TOKEN_TOO_OLD = 6,       /**< older than every token id the meter remembers */
  METER_PREPAID_TOKEN_EXPIRED = 7,       /**< issued longer ago than the validity period */
  METER_PREPAID_TOKEN_NOT_YET_VALID = 8, /**< issued later than the meter's clock allows */
  METER_PREPAID_TOKEN_LOCKED_OUT = 9,    /**< too many refused tokens: entry locked for a while */
  METER_PREPAID_TOKEN_UNKNOWN_CLASS = 10, /**< authentic, but of a class this meter does not do */
  METER_PREPAID_TOKEN_OVER_MAXIMUM = 11, /**< the credit would exceed the maximum credit */
  METER_PREPAID_TOKEN_ZERO_AMOUNT = 12   /**< authentic, but for no money */
};

/** Payload of METER_PREPAID_LOW_CREDIT_TOPIC. */
typedef struct meter_prepaid_low_credit {
  uint32_t struct_size;   /**< sizeof(meter_prepaid_low_credit) as the publisher was built */
  int32_t warning;        /**< 1 the warning starts, 0 it ends */
  int64_t credit_milli;   /**< available credit now */
  int64_t threshold_milli; /**< the emergency credit threshold */
  int64_t time_utc_ms;
} meter_prepaid_low_credit;

/** Payload of METER_PREPAID_RELAY_TOPIC. */
typedef struct meter_prepaid_relay {
  uint32_t struct_size;
  int32_t source;   /**< 1..4 */
  int32_t relay;    /**< the board's relay, 0-based */
  int32_t reasons;  /**< METER_PREPAID_RELAY_* mask now; 0: the source is supplied again */
  int64_t credit_milli;
  int64_t time_utc_ms;
} meter_prepaid_relay;

/** Payload of METER_PREPAID_TOKEN_TOPIC. */
typedef struct meter_prepaid_token {
  uint32_t struct_size;
  int32_t result;         /**< METER_PREPAID_TOKEN_* */
  uint32_t token_id;      /**< when the digits could be read; else 0 */
  int32_t reserved;       /**< 0 */
  int64_t amount_milli;   /**< credited; 0 when refused */
  int64_t credit_milli;   /**< available credit after */
  int64_t time_utc_ms;
} meter_prepaid_token;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* METER_PLUGINS_PREPAID_EVENTS_H */
