/* The plugin boundary: the only contract between the meter kernel and a plugin.
 *
 * Pure C (C99 and C++). Only fixed-width C types cross; no exception, no C++ type, no
 * allocation ownership crosses without being written down here. A test pins a hash of this
 * file: changing it is a decision, never an accident (see docs/sdk.md, "ABI rules").
 *
 * Rules
 *  - A plugin exports exactly one symbol, METER_PLUGIN_ENTRY_SYMBOL, which returns a pointer to
 *    a meter_plugin_descriptor that lives as long as the library is loaded.
 *  - The host loads a plugin only when descriptor.abi_major == METER_ABI_MAJOR and
 *    descriptor.abi_minor <= the host's METER_ABI_MINOR.
 *  - Structs carry their own size. Fields are only ever appended; a field is present when
 *    offsetof(field) + sizeof(field) <= struct_size (METER_HAS_FIELD). Appending a field bumps
 *    METER_ABI_MINOR; removing, reordering or retyping one bumps METER_ABI_MAJOR.
 *  - Threads: the host calls every plugin callback on the kernel thread, one at a time; a plugin
 *    calls the host functions only from within a callback the host made on that thread.
 *  - An enum's zero is never a valid value, so a zeroed struct is never silently meaningful.
 */
#ifndef METER_SDK_ABI_H
#define METER_SDK_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The ABI version this header describes. */
#define METER_ABI_MAJOR 1
#define METER_ABI_MINOR 4

/** The name of the one symbol a plugin exports (see meter_plugin_entry_fn). */
#define METER_PLUGIN_ENTRY_SYMBOL "meter_plugin_entry"

/** True when a struct that says it is `size` bytes long contains `field`. */
#define METER_HAS_FIELD(type, size, field) \
  (offsetof(type, field) + sizeof(((type*)0)->field) <= (size_t)(size))

/** Exports a symbol from a plugin built with hidden visibility. */
#if defined(_WIN32)
#define METER_EXPORT __declspec(dllexport)
#else
#define METER_EXPORT __attribute__((visibility("default")))
#endif

/* ---------------------------------------------------------------------------------------- */
/* Status                                                                                   */

/** Outcome of every call across the boundary. Zero is never a valid status. */
typedef int32_t meter_status;
enum {
  METER_STATUS_OK = 1,               /**< done */
  METER_STATUS_ERROR = 2,            /**< failed for a reason logged by the callee */
  METER_STATUS_INVALID_ARGUMENT = 3, /**< a null pointer, a bad value, a malformed key */
  METER_STATUS_NOT_FOUND = 4,        /**< no such object, key or subscription */
  METER_STATUS_DENIED = 5,           /**< the plugin lacks the capability, role or seal state */
  METER_STATUS_TYPE_MISMATCH = 6,    /**< the value's type is not the object's or key's type */
  METER_STATUS_UNAVAILABLE = 7,      /**< not callable now (wrong lifecycle state, no relay) */
  METER_STATUS_EXCEPTION = 8,        /**< the plugin's code threw; the wrapper caught it */
  METER_STATUS_OUT_OF_MEMORY = 9,    /**< allocation failed */
  METER_STATUS_CONFLICT = 10,        /**< already exists (an OBIS id taken, a nested begin) */
  /* ABI 1.2 */
  METER_STATUS_SEALED = 11,          /**< the seal rules refuse the write (a sealed meter) */
  METER_STATUS_LOCKED = 12           /**< the port is locked after failed logons */
};

/* ---------------------------------------------------------------------------------------- */
/* Values                                                                                   */

/** An OBIS code A-B:C.D.E*F (IEC 62056-61); f is 255 when unused. */
typedef struct meter_obis {
  uint8_t a, b, c, d, e, f;
} meter_obis;

/** The type held by a meter_value. */
typedef int32_t meter_value_type;
enum {
  METER_VALUE_BOOLEAN = 1,  /**< `boolean` is 0 or 1 */
  METER_VALUE_INTEGER = 2,  /**< `integer` */
  METER_VALUE_UNSIGNED = 3, /**< `unsigned_integer` */
  METER_VALUE_REAL = 4,     /**< `real` */
  METER_VALUE_TEXT = 5,     /**< `bytes`/`size`: UTF-8, not NUL-terminated */
  METER_VALUE_OCTETS = 6    /**< `bytes`/`size`: raw bytes */
};

/** A typed value. Ownership of `bytes`: always the side that made the value; the receiver may
 *  read it only for the duration of the call it was passed in and copies what it keeps. */
typedef struct meter_value {
  meter_value_type type;
  int32_t boolean;
  int64_t integer;
  uint64_t unsigned_integer;
  double real;
  const uint8_t* bytes; /**< TEXT and OCTETS only; may be NULL when size is 0 */
  size_t size;          /**< bytes at `bytes` */
} meter_value;

/** Receives a value the host lends to the plugin (object reads, configuration, NVM records).
 *  `value` and its bytes are valid only during this call. Called on the kernel thread,
 *  synchronously, before the host function that took it returns. */
typedef void (*meter_value_sink_fn)(void* user_data, const meter_value* value);

/* ---------------------------------------------------------------------------------------- */
/* Events                                                                                   */

typedef int32_t meter_event_type;
enum {
  METER_EVENT_ENERGY_TICK = 1,       /**< data: meter_energy_tick, once per metrology tick */
  METER_EVENT_MEASUREMENTS = 2,      /**< data: meter_measurements */
  METER_EVENT_POWER_FAIL = 3,        /**< data: meter_time_event */
  METER_EVENT_POWER_RESTORE = 4,     /**< data: meter_power_restore */
  METER_EVENT_TIME_CHANGED = 5,      /**< data: meter_time_changed */
  METER_EVENT_MIDNIGHT = 6,          /**< data: meter_midnight */
  METER_EVENT_PARAMETER_CHANGED = 7, /**< data: meter_parameter_changed */
  METER_EVENT_SEAL_CHANGED = 8,      /**< data: meter_seal_changed */
  METER_EVENT_PLUGIN = 9,            /**< data: meter_plugin_event, published by a plugin */
  /* ABI 1.1 */
  METER_EVENT_LOGON_FAILED = 10,     /**< data: meter_logon_failed */
  METER_EVENT_PORT_LOCKED = 11,      /**< data: meter_port_locked */
  METER_EVENT_PLUGIN_LOADED = 12,    /**< data: meter_plugin_loaded; see its note on replay */
  METER_EVENT_PLUGIN_REFUSED = 13,   /**< data: meter_plugin_refused; see its note on replay */
  /* ABI 1.4 */
  METER_EVENT_WRITE_REFUSED = 14     /**< data: meter_write_refused */
};

/** The interface a change or a logon came through (meter_parameter_changed.via and others). */
typedef int32_t meter_interface;
enum {
  METER_INTERFACE_KERNEL = 1,
  METER_INTERFACE_OPTICAL_PORT = 2,
  METER_INTERFACE_COMMS = 3,
  METER_INTERFACE_PLUGIN = 4,
  METER_INTERFACE_LOCAL_BUTTON = 5
};

/** Roles (IEC 62056-style access levels), a bit each: a mask in meter_object_info's
 *  read_roles and write_roles, one of them in meter_parameter_changed's role. */
enum {
  METER_ROLE_NONE = 0,          /**< as a mask: nobody outside; as a role: unknown */
  METER_ROLE_PUBLIC = 1,        /**< anybody, no logon (the display, an open port) */
  METER_ROLE_READER = 2,        /**< a logged-on reader */
  METER_ROLE_CONFIGURATOR = 4,  /**< changes configuration parameters while unsealed */
  METER_ROLE_CALIBRATOR = 8,    /**< changes calibration parameters while unsealed */
  METER_ROLE_ANY = 15           /**< every role */
};

/** The seals a meter has (meter_seal_changed's kind). */
enum {
  METER_SEAL_COVER = 1,
  METER_SEAL_PROGRAMMING_JUMPER = 2,
  METER_SEAL_OPTICAL_PLUG = 3,
  METER_SEAL_ELECTRONIC = 4
};

/** The event counters a change steps (meter_parameter_changed's counter). */
enum {
  METER_COUNTER_NONE = 0, /**< an operational parameter: no counter */
  METER_COUNTER_CALIBRATION = 1,
  METER_COUNTER_CONFIGURATION = 2
};

/** Units of objects, numbered as in the DLMS/COSEM unit enumeration (IEC 62056-6-2), the ones
 *  the meter's objects use. Any other number of that enumeration may be given too. */
enum {
  METER_UNIT_YEAR = 1,
  METER_UNIT_MONTH = 2,
  METER_UNIT_WEEK = 3,
  METER_UNIT_DAY = 4,
  METER_UNIT_HOUR = 5,
  METER_UNIT_MINUTE = 6,
  METER_UNIT_SECOND = 7,
  METER_UNIT_DEGREE = 8,
  METER_UNIT_CELSIUS = 9,
  METER_UNIT_CURRENCY = 10,
  METER_UNIT_WATT = 27,
  METER_UNIT_VOLT_AMPERE = 28,
  METER_UNIT_VAR = 29,
  METER_UNIT_WATT_HOUR = 30,
  METER_UNIT_VOLT_AMPERE_HOUR = 31,
  METER_UNIT_VAR_HOUR = 32,
  METER_UNIT_AMPERE = 33,
  METER_UNIT_VOLT = 35,
  METER_UNIT_HERTZ = 44,
  METER_UNIT_PER_WATT_HOUR = 45,
  METER_UNIT_PERCENT = 56,
  METER_UNIT_NONE = 255
};

/** Number of energy registers in a tick, in this order: import active (+A, 1-0:1.8.0), export
 *  active (-A, 1-0:2.8.0), reactive Q1..Q4 (1-0:5.8.0 .. 1-0:8.8.0). */
#define METER_ENERGY_REGISTERS 6
#define METER_MAX_PHASES 3

/** One metrology tick. Energies in milliwatt-hours (mvarh for reactive), times in ms since the
 *  Unix epoch (UTC). */
typedef struct meter_energy_tick {
  uint64_t sequence;  /**< 1 for the first tick after power-up */
  int64_t time_utc_ms; /**< end of the tick; meaningful only when time_valid */
  int32_t time_valid;  /**< 0 while the clock does not know the time */
  int32_t measurement_fault; /**< 1 when some samples of this tick were refused */
  int64_t duration_ms;
  int64_t delta_mwh[METER_ENERGY_REGISTERS]; /**< how far each register moved this tick */
  int64_t total_mwh[METER_ENERGY_REGISTERS]; /**< each register after the tick */
  double active_power_w;     /**< mean total active power over the tick, + is import */
  double reactive_power_var; /**< mean total reactive power over the tick */
} meter_energy_tick;

/** Instantaneous values; per-phase arrays use the first `phases` entries. */
typedef struct meter_measurements {
  int64_t time_utc_ms;
  int32_t phases;
  double voltage_v[METER_MAX_PHASES];
  double current_a[METER_MAX_PHASES];
  double active_power_w[METER_MAX_PHASES];
  double power_factor[METER_MAX_PHASES];
  double frequency_hz;
  double total_active_power_w;
  double total_reactive_power_var;
  double total_apparent_power_va;
} meter_measurements;

typedef struct meter_time_event {
  int64_t time_utc_ms;
} meter_time_event;

typedef struct meter_power_restore {
  int64_t time_utc_ms;
  int64_t outage_ms; /**< how long the meter was without power */
  int32_t time_valid;
} meter_power_restore;

typedef struct meter_time_changed {
  int64_t old_time_utc_ms;
  int64_t new_time_utc_ms;
  int32_t was_valid;
} meter_time_changed;

/** A local midnight has passed; the local date that has just begun. */
typedef struct meter_midnight {
  int64_t time_utc_ms;
  int32_t year;
  int32_t month;   /**< 1..12 */
  int32_t day;     /**< 1..31 */
  int32_t weekday; /**< 0 Sunday .. 6 Saturday */
} meter_midnight;

/** A parameter was written through the gate. Strings: NUL-terminated, lent for the call. */
typedef struct meter_parameter_changed {
  int64_t time_utc_ms;
  meter_obis id;
  const char* old_value;
  const char* new_value;
  const char* who; /**< role name or plugin id */
  /* ABI 1.1: a host of ABI 1.0 never loads a plugin built against 1.1, so these are always
   * present for a plugin that knows them. */
  meter_interface via;    /**< the interface the change came through */
  int32_t role;           /**< the role it was made with, a METER_ROLE_*; NONE: unknown */
  int32_t parameter_class; /**< the parameter's meter_parameter_class (3 configuration, 4
                               calibration, 2 operational) */
  int32_t counter;        /**< the event counter that stepped, a METER_COUNTER_* */
  int32_t counter_value;  /**< that counter after the step, 0..999 */
} meter_parameter_changed;

typedef struct meter_seal_changed {
  int64_t time_utc_ms;
  int32_t kind;   /**< a METER_SEAL_* */
  int32_t sealed; /**< 1 sealed, 0 broken */
} meter_seal_changed;

/** An event a plugin published (e.g. "tou.rate_changed"). Lent for the call. */
typedef struct meter_plugin_event {
  const char* topic;      /**< NUL-terminated */
  const char* source;     /**< publishing plugin's id, NUL-terminated */
  const uint8_t* payload; /**< may be NULL when size is 0 */
  size_t size;
  int64_t time_utc_ms;
} meter_plugin_event;

/** A logon through a port failed (ABI 1.1). Strings: NUL-terminated, lent for the call. */
typedef struct meter_logon_failed {
  int64_t time_utc_ms;
  meter_interface via;
  uint32_t failures;  /**< consecutive failures on this interface, this one included */
  const char* reason; /**< "wrong-password", "locked" or "port-disabled" */
} meter_logon_failed;

/** A port locked itself after too many failed logons (ABI 1.1). */
typedef struct meter_port_locked {
  int64_t time_utc_ms;
  meter_interface via;
  int64_t lockout_ms; /**< logons are refused for this long */
} meter_port_locked;

/** A plugin was loaded and created (ABI 1.1). Strings: NUL-terminated, lent for the call.
 *  A subscription made in start first receives one such event for every plugin already loaded
 *  (their time is the time of the replay), so that the order of loading loses none. */
typedef struct meter_plugin_loaded {
  int64_t time_utc_ms;
  const char* id;
  const char* version;
  const char* sha256; /**< the library's SHA-256, hex */
  int32_t legally_relevant;
} meter_plugin_loaded;

/** A plugin was refused at load or start, or disabled after faults (ABI 1.1). Replayed like
 *  meter_plugin_loaded for the refusals made before the subscription. */
typedef struct meter_plugin_refused {
  int64_t time_utc_ms;
  const char* id;     /**< the plugin's id, or its path when no id could be read */
  const char* reason; /**< a short code: "abi-major", "bad-signature", "fault-limit" ... */
  const char* detail;
} meter_plugin_refused;

/** The parameter gate refused a write (ABI 1.4): a port's, a plugin's or the kernel's.
 *  Strings: NUL-terminated, lent for the call. */
typedef struct meter_write_refused {
  int64_t time_utc_ms;
  meter_obis id;       /**< the object written */
  meter_interface via; /**< the interface the write came through */
  int32_t role;        /**< the role it was made with (as meter_parameter_changed.role) */
  meter_status status; /**< why, as a status: DENIED, SEALED, INVALID_ARGUMENT, ... */
  const char* who;     /**< the port's name or the plugin's id */
  const char* reason;  /**< the refusal as a person reads it */
} meter_write_refused;

/** An event as delivered to a plugin. `data` points to the struct named by `type`; it and
 *  everything it points to are lent for the duration of the callback only. */
typedef struct meter_event {
  meter_event_type type;
  const void* data;
} meter_event;

/** A plugin's event handler. Called on the kernel thread, only between the plugin's start and
 *  stop. A status other than OK counts as a fault of the plugin (see the manifest's fault
 *  limit); the host disables a plugin whose faults reach the limit. */
typedef meter_status (*meter_event_fn)(void* user_data, const meter_event* event);

/* ---------------------------------------------------------------------------------------- */
/* Objects                                                                                  */

/** Legal class of an object. */
typedef int32_t meter_parameter_class;
enum {
  METER_PARAMETER_READ_ONLY = 1,
  METER_PARAMETER_OPERATIONAL = 2,   /**< writable, not sealable */
  METER_PARAMETER_CONFIGURATION = 3, /**< sealable */
  METER_PARAMETER_CALIBRATION = 4,   /**< sealable */
  /* ABI 1.4 */
  METER_PARAMETER_TARIFF = 5         /**< decides what a billing register accumulates (switch
                                          points, a calendar, a tier override, the clock, a
                                          demand interval): every change steps the
                                          configuration counter and is recorded; sealable when
                                          the product says so (SKU [security] sealable) */
};

/** Describes an object a plugin provides. Strings are NUL-terminated and copied by the host. */
typedef struct meter_object_info {
  uint32_t struct_size; /**< sizeof(meter_object_info) as the plugin was built */
  meter_obis id;
  meter_value_type type;
  uint8_t unit;   /**< a METER_UNIT_* (the DLMS/COSEM unit enumeration) */
  int8_t scaler;  /**< value x 10^scaler is in `unit` */
  uint8_t read_roles;  /**< a mask of METER_ROLE_* */
  uint8_t write_roles; /**< same mask; 0 when nobody outside may write it */
  meter_parameter_class parameter_class;
  int32_t legally_relevant; /**< 1 when the object is part of the legal metrology */
  const char* description;
} meter_object_info;

/** Reads an object the plugin provides into `out`. Text or octets the plugin puts in `out`
 *  stay owned by the plugin and must remain valid until its next callback. Kernel thread;
 *  called between the plugin's start and stop. */
typedef meter_status (*meter_object_read_fn)(void* user_data, meter_value* out);

/** Accepts a write to an object the plugin provides, after the host's parameter gate allowed
 *  it. `value` is lent for the call. Kernel thread; between start and stop. May be NULL for
 *  read-only objects. */
typedef meter_status (*meter_object_write_fn)(void* user_data, const meter_value* value);

/* ---------------------------------------------------------------------------------------- */
/* Input and output (ABI 1.2)                                                               */

/** What a watched file descriptor is ready for (a mask). */
enum {
  METER_IO_READABLE = 1, /**< data (or a connection, or end of file) can be read */
  METER_IO_WRITABLE = 2, /**< data can be written without blocking */
  METER_IO_ERROR = 4     /**< an error or hang-up; reading tells which */
};

/** Called when a watched file descriptor is ready; `ready` is a METER_IO_* mask. Kernel thread,
 *  between ticks. A status other than OK counts as a fault of the plugin. */
typedef meter_status (*meter_io_fn)(void* user_data, int32_t fd, int32_t ready);

/** Called once when a timer expires. Kernel thread, between ticks. */
typedef meter_status (*meter_timer_fn)(void* user_data);

/** Receives the ids of objects, one call per object (list_objects). */
typedef void (*meter_obis_sink_fn)(void* user_data, meter_obis id);

/* ---------------------------------------------------------------------------------------- */
/* Host functions                                                                           */

/** Opaque: the host's per-plugin state. Owned by the host; valid from create to destroy. */
typedef struct meter_host_context meter_host_context;

typedef int32_t meter_log_level;
enum {
  METER_LOG_DEBUG = 1,
  METER_LOG_INFO = 2,
  METER_LOG_WARNING = 3,
  METER_LOG_ERROR = 4
};

/** The functions the host offers a plugin. The table and `context` are owned by the host and
 *  stay valid from the plugin's create until its destroy returns. Every function is called on
 *  the kernel thread from inside a host-to-plugin callback and returns before the next one.
 *  Every function takes `context` first and tolerates any argument without crashing. */
typedef struct meter_host_api {
  uint32_t struct_size; /**< sizeof(meter_host_api) as the host was built */
  uint16_t abi_major;   /**< the host's METER_ABI_MAJOR */
  uint16_t abi_minor;   /**< the host's METER_ABI_MINOR */
  meter_host_context* context;

  /** Writes a line to the meter's log, tagged with the plugin's id. `message`: NUL-terminated,
   *  lent. Callable from create to destroy. */
  void (*log)(meter_host_context* context, meter_log_level level, const char* message);

  /** Meter time in ms since the Unix epoch, UTC. `*valid` (may be NULL) receives 1 while the
   *  clock knows the time, else 0. Callable from create to destroy. */
  int64_t (*now_utc_ms)(meter_host_context* context, int32_t* valid);

  /** Milliseconds since power-up; monotonic. Callable from create to destroy. */
  int64_t (*uptime_ms)(meter_host_context* context);

  /** Subscribes `handler` to events of `type`. For METER_EVENT_PLUGIN, `topic` (may be NULL
   *  for every topic) selects one topic; it is ignored otherwise. `user_data` is the plugin's
   *  and is passed back untouched; it must stay valid until the plugin's stop returns. The host
   *  owns the subscription and drops it when the plugin stops, is disabled or unloaded.
   *  `*subscription` (may be NULL) receives an id for unsubscribe. Callable in create and
   *  start, and in handlers. */
  meter_status (*subscribe)(meter_host_context* context, meter_event_type type, const char* topic,
                            meter_event_fn handler, void* user_data, uint64_t* subscription);

  /** Drops one subscription. NOT_FOUND when it is not this plugin's. */
  meter_status (*unsubscribe)(meter_host_context* context, uint64_t subscription);

  /** Publishes a plugin event to every subscriber of `topic` (NUL-terminated; the manifest's
   *  id followed by '.' is recommended). `payload` (may be NULL when `size` is 0) is copied
   *  before delivery. Callable between start and stop. */
  meter_status (*publish)(meter_host_context* context, const char* topic, const void* payload,
                          size_t size);

  /** Registers an object the plugin provides; it must be listed in the manifest's `objects`.
   *  `read` is required, `write` may be NULL. `user_data` must stay valid until the plugin's
   *  stop returns; the host removes the object when the plugin stops. Callable in create
   *  and start. CONFLICT when the id is taken. */
  meter_status (*register_object)(meter_host_context* context, const meter_object_info* info,
                                  meter_object_read_fn read, meter_object_write_fn write,
                                  void* user_data);

  /** Reads any object in the registry (public read role) and passes its value to `sink`
   *  before returning. Callable between start and stop. */
  meter_status (*read_object)(meter_host_context* context, meter_obis id, meter_value_sink_fn sink,
                              void* user_data);

  /** Writes an object through the parameter gate, as this plugin. Legally relevant or
   *  sealable objects need a `write:` capability in the manifest that the SKU grants.
   *  Callable between start and stop. */
  meter_status (*write_object)(meter_host_context* context, meter_obis id,
                               const meter_value* value);

  /** Looks up a configuration key ("rates", "window.length_s") of this plugin. The host has
   *  validated the configuration against the manifest's schema and filled in defaults, so a
   *  key in the schema is always found with its declared type. Callable from create to
   *  destroy. */
  meter_status (*config_get)(meter_host_context* context, const char* key, meter_value_sink_fn sink,
                             void* user_data);

  /** Reads a record from NVM. `name_space` NULL means the plugin's own namespace; another
   *  plugin's needs the `nvm:<id>` capability, granted. NOT_FOUND when no record. Callable
   *  from create to destroy. */
  meter_status (*nvm_get)(meter_host_context* context, const char* name_space, const char* key,
                          meter_value_sink_fn sink, void* user_data);

  /** Stores a typed record (copied) under `key` in NVM; replaces any record of that key. Inside
   *  a transaction the write is visible to this plugin at once and persists on commit.
   *  Written while the meter delivers a tick (the energy tick, measurements and midnight
   *  handlers), it joins the kernel's tick batch: the kernel's registers and every such write
   *  of every plugin are committed as one unit when the tick closes, so after a killed process
   *  a plugin's registers are of the same tick as the kernel's. That costs memory writes only:
   *  billing registers belong in the tick handler, every tick. */
  meter_status (*nvm_put)(meter_host_context* context, const char* name_space, const char* key,
                          const meter_value* value);

  /** Removes a record. NOT_FOUND when there was none. */
  meter_status (*nvm_erase)(meter_host_context* context, const char* name_space, const char* key);

  /** Starts a transaction over this plugin's NVM writes; CONFLICT when one is open. A
   *  transaction still open when the callback that opened it returns is rolled back. */
  meter_status (*nvm_begin)(meter_host_context* context);

  /** Makes every write since nvm_begin durable, all or nothing. */
  meter_status (*nvm_commit)(meter_host_context* context);

  /** Discards every write since nvm_begin. */
  meter_status (*nvm_rollback)(meter_host_context* context);

  /** Opens (`open` 1: disconnect the load) or closes (`open` 0) relay `relay` (0-based). Needs
   *  the `relay` capability, granted by the SKU. UNAVAILABLE when the board has no such relay.
   *  Callable between start and stop. */
  meter_status (*trip_relay)(meter_host_context* context, uint32_t relay, int32_t open);

  /* ----- ABI 1.2: present when METER_HAS_FIELD says so --------------------------------- */
  /* Input and output: a plugin that talks to the outside (a comms module, the optical port)
   * owns its file descriptors and asks the host to call it when one is ready; the host's loop
   * waits for them between ticks, so that the plugin never blocks the kernel thread and never
   * needs a thread of its own. Needs the capability `io`, granted by the SKU. */

  /** Watches `fd` (a non-blocking socket, serial port or pty the plugin opened) for `events`
   *  (METER_IO_READABLE and/or METER_IO_WRITABLE). `*watch` (may be NULL) receives an id. The
   *  host drops every watch of a plugin when it stops; the plugin closes its descriptors.
   *  Callable in start and in handlers. CONFLICT when `fd` is watched already. */
  meter_status (*watch_fd)(meter_host_context* context, int32_t fd, int32_t events,
                           meter_io_fn handler, void* user_data, uint64_t* watch);
  /** Changes what a watch waits for (e.g. adds METER_IO_WRITABLE while output is queued). */
  meter_status (*modify_watch)(meter_host_context* context, uint64_t watch, int32_t events);
  /** Drops a watch. NOT_FOUND when it is not this plugin's. */
  meter_status (*unwatch_fd)(meter_host_context* context, uint64_t watch);
  /** Calls `handler` once, `delay_ms` (>= 0) of real time from now (steady_ms). Timers are
   *  for protocol timeouts; they run on real time even while a simulation runs meter time
   *  faster. `*timer` (may be NULL) receives an id. Callable in start and in handlers. */
  meter_status (*set_timer)(meter_host_context* context, int64_t delay_ms, meter_timer_fn handler,
                            void* user_data, uint64_t* timer);
  /** Cancels a timer that has not fired. NOT_FOUND when it fired, was cancelled, or is not
   *  this plugin's. */
  meter_status (*cancel_timer)(meter_host_context* context, uint64_t timer);
  /** Real time in milliseconds from an arbitrary origin; monotonic. For protocol timeouts. */
  int64_t (*steady_ms)(meter_host_context* context);

  /* Ports: a plugin that is a port of the meter (the optical port, a comms module) logs its
   * clients on with their passwords and reads and writes with the role the password gave, as
   * the interface `via`. Needs the capability `port:optical` (via METER_INTERFACE_OPTICAL_PORT)
   * or `port:comms` (METER_INTERFACE_COMMS), granted by the SKU. The parameter gate decides
   * every write; failed logons count towards the port's lockout. */

  /** Logs on with a password of `size` bytes (trailing NUL and space padding is not part of
   *  the password). On OK, `*session` receives the logon's id and `*role` (may be NULL) its
   *  role mask (2 reader, 4 configurator, 8 calibrator). DENIED: wrong password; LOCKED: the
   *  port is locked; UNAVAILABLE: the port is disabled. */
  meter_status (*port_logon)(meter_host_context* context, meter_interface via,
                             const uint8_t* password, size_t size, uint64_t* session,
                             int32_t* role);
  /** Ends a logon. NOT_FOUND when it is not one of this plugin's. The host ends a plugin's
   *  logons when it stops. */
  meter_status (*port_logoff)(meter_host_context* context, uint64_t session);
  /** Reads an object with the role of `session` (0: the public read role, without a logon).
   *  DENIED when the role may not read it. */
  meter_status (*session_read)(meter_host_context* context, uint64_t session, meter_obis id,
                               meter_value_sink_fn sink, void* user_data);
  /** Writes an object through the parameter gate with the role of `session`, as the port.
   *  NOT_FOUND: no such object; DENIED: the role (or no logon) may not; SEALED: the seal rules
   *  refuse it; TYPE_MISMATCH or INVALID_ARGUMENT: the value; UNAVAILABLE: the change could
   *  not be witnessed (no counter step stored). The reason is logged. */
  meter_status (*session_write)(meter_host_context* context, uint64_t session, meter_obis id,
                                const meter_value* value);
  /** Describes any object in the registry. `out->struct_size` must be set by the caller;
   *  `out->description` is lent until the plugin's next callback returns. */
  meter_status (*object_info)(meter_host_context* context, meter_obis id, meter_object_info* out);
  /** Passes the id of every object in the registry, in OBIS order, to `sink`. */
  meter_status (*list_objects)(meter_host_context* context, meter_obis_sink_fn sink,
                               void* user_data);

  /* ----- ABI 1.3: present when METER_HAS_FIELD says so --------------------------------- */
  /* Configuration errors: the host has checked a plugin's settings against its manifest's
   * schema; rules only the plugin knows (seasons that overlap, a date that does not exist, a
   * port already taken) it reports here, so the meter refuses its configuration like any other
   * configuration error, at the place in the SKU or site file where the setting was written. */

  /** Reports that setting `key` breaks a rule of the plugin's. `key` is a path into the
   *  plugin's settings: a key ("time_zone"), a key of a table ("window.length_s"), or an item
   *  of an array counted from 1 as a person counts ("seasons[2].start", "holidays[1]"); the
   *  host places the message at the longest part of the path that was written in a file.
   *  `message` says the rule (NUL-terminated, lent). The plugin then fails the call it is in
   *  (create or start); the meter does not start with its configuration refused. Callable in
   *  create and start. */
  meter_status (*config_error)(meter_host_context* context, const char* key, const char* message);

  /** 1 when meter time runs on a virtual clock (a simulation, faster than real time), 0 when
   *  the meter runs in real time. A comms module does not speak as the real meter to the
   *  outside from a simulation unless its settings ask for it. Callable from create to
   *  destroy. */
  int32_t (*simulated)(meter_host_context* context);

  /** Says why the plugin refuses the object write the host is making (`message`: "a demand
   *  reset is locked out for 1440 min", NUL-terminated, lent). Called from inside a write
   *  callback, before it returns its status; the host passes the status and this reason to
   *  whoever wrote (a port, a head-end, meterctl). Callable only inside a write callback. */
  void (*write_refused)(meter_host_context* context, const char* message);

  /** Passes to `sink`, as TEXT, why this plugin's last write (session_write or write_object)
   *  was refused, in the words of the gate or of the object's owner ("plugin demand refused
   *  the value: demand reset refused: locked out for another 86399 s ..."); an empty text
   *  after a write that was done. A port puts it in its answer. */
  meter_status (*last_refusal)(meter_host_context* context, meter_value_sink_fn sink,
                               void* user_data);
} meter_host_api;

/* ---------------------------------------------------------------------------------------- */
/* The plugin                                                                               */

/** Opaque: one instance of a plugin. Owned by the plugin; made by create, freed by destroy. */
typedef struct meter_plugin_instance meter_plugin_instance;

/** Lifecycle, all on the kernel thread, in this order:
 *    create -> start -> (handlers, object reads and writes) -> stop -> destroy
 *  A plugin that failed create is never started; one that failed start is stopped only if
 *  start returned OK. After stop returns, the host drops every subscription and object of the
 *  plugin; after destroy returns, it may close the library. */
typedef struct meter_plugin_descriptor {
  uint16_t abi_major;   /**< METER_ABI_MAJOR the plugin was built with */
  uint16_t abi_minor;   /**< METER_ABI_MINOR the plugin was built with */
  uint32_t struct_size; /**< sizeof(meter_plugin_descriptor) the plugin was built with */
  const char* id;       /**< NUL-terminated; must equal the manifest's id. Static storage. */
  const char* version;  /**< NUL-terminated semantic version; must equal the manifest's. */
  const char* manifest_toml; /**< the embedded plugin.toml, NUL-terminated. Static storage. */

  /** Makes an instance. `host` is valid until destroy returns. On OK, `*instance` is set. */
  meter_status (*create)(const meter_host_api* host, meter_plugin_instance** instance);

  /** Frees an instance made by create. Always called once per successful create. */
  void (*destroy)(meter_plugin_instance* instance);

  /** Starts work: the meter is running, other plugins this one requires have started. */
  meter_status (*start)(meter_plugin_instance* instance);

  /** Stops work; called in reverse start order, before destroy. */
  meter_status (*stop)(meter_plugin_instance* instance);

  /* ----- optional, ABI 1.0: present when METER_HAS_FIELD says so and not NULL ----- */

  /** Checks the plugin's own consistency (used by meter-plugin-check). Between start and
   *  stop. */
  meter_status (*self_test)(meter_plugin_instance* instance);
} meter_plugin_descriptor;

/** Bytes of a descriptor that holds every required field (up to and including `stop`). */
#define METER_DESCRIPTOR_MIN_SIZE \
  (offsetof(meter_plugin_descriptor, stop) + sizeof(((meter_plugin_descriptor*)0)->stop))

/** The type of the exported entry symbol. Returns a descriptor in static storage; never NULL
 *  in a well-formed plugin. Called on the kernel thread once per load. */
typedef const meter_plugin_descriptor* (*meter_plugin_entry_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* METER_SDK_ABI_H */
