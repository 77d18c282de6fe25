/* wgu-dashboard's data side: everything the HTTP layer answers with, as
 * functions from already-split inputs to a finished reply (status, type,
 * body).  The HTTP layer (server.c & co.) owns sockets, sessions, CSRF and
 * SSE; this side owns the store connection (read-only), the acks database
 * (the dashboard's only write), the live MQTT feed, the fleet's live state
 * and the UAPI client for the tunnel page.
 *
 * Threading:
 * - dash_data_new(), _start(), _stop() and _free() run on the main thread,
 *   the one that runs the libev loop given to _start().  The MQTT feed
 *   (libmosquitto driven by src/mqtt/mqtt_loop.c) lives on that loop.
 * - Every dash_api_*() / dash_metrics() function may be called from any
 *   thread (libmicrohttpd's internal polling thread, or several of its
 *   threads) at any time between dash_data_new() and dash_data_free(),
 *   also before _start() and after _stop().  Shared state (the fleet, the
 *   SQLite connections) is behind mutexes this side owns; a call never
 *   holds one while it waits on the network.  The store and the acks
 *   database are local files (SQLite, busy timeout 2 s); the tunnel page
 *   does one request on a local unix socket (UAPI), answered at once by
 *   the daemon or refused.
 * - The live-event hook (config.on_event) is called on the main thread,
 *   from the MQTT callback, with no lock of this side held; json is valid
 *   only during the call.  The HTTP side copies it into its SSE queues
 *   under its own lock.  The hook may not call dash_data_stop()/_free().
 * - The dash_parse_*() functions are pure (no I/O, no clock, no globals):
 *   fuzzable, callable anywhere.
 *
 * Time is milliseconds since the Unix epoch (UTC) everywhere, as in the
 * store; now_ms arguments come from the caller (CLOCK_REALTIME), so tests
 * inject it. */
#ifndef WGU_DASHBOARD_DATA_H
#define WGU_DASHBOARD_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt/telemetry.h"

struct ev_loop;

enum {
	DASH_ERR_MAX = 256,		/* every err buffer below */
	DASH_SERIES_MAX_POINTS = 2000,	/* per series of /api/history */
	DASH_ALARMS_MAX = 1000,		/* rows of one /api/alarms */
	DASH_SILENT_AFTER_DEFAULT_S = 10,
};

/* The chartable fields of /api/history, as a bit mask. */
enum dash_field {
	DASH_FIELD_P = 1 << 0,
	DASH_FIELD_T = 1 << 1,
	DASH_FIELD_V = 1 << 2,
	DASH_FIELDS_ALL = DASH_FIELD_P | DASH_FIELD_T | DASH_FIELD_V,
};

/* A finished HTTP answer.  body is malloc'd (NUL-terminated too, len
 * bytes without the NUL), the caller frees it with dash_reply_free();
 * content_type is static.  Out of memory: status 500, body NULL, len 0. */
struct dash_reply {
	int status;
	const char *content_type;	/* "application/json", "text/csv; ...",
					 * "text/plain; version=0.0.4; ..." */
	char *body;
	size_t len;
};

/* Frees the body; r is all zero again.  Safe on a zeroed reply. */
void dash_reply_free(struct dash_reply *r);

/* Fills r with {"error":msg} (JSON-escaped) and status.  Returns
 * status. */
int dash_reply_error(struct dash_reply *r, int status, const char *msg);

/* ---------------------------------------------------------------- parsing
 * Pure.  Each returns 0, or -EINVAL with a one-line English message in
 * err (say it as {"error":err} with 400: dash_reply_error()). */

/* A time: integer ms since the epoch ("1764051600000"), or as wgu-query
 * reads one (query_time_parse()): RFC 3339 (no zone: UTC; a space where
 * the zone's '+' was, as an unencoded query string gives it), "now", or
 * relative to now: "-" N UNIT with UNIT ms, s, m, h or d ("-2h",
 * "-15m", "-7d", at most 366 days back).  Results before the epoch or
 * past 9999 are refused. */
int dash_parse_time(const char *s, int64_t now_ms, int64_t *out,
    char err[static DASH_ERR_MAX]);

/* A node id as telemetry.h allows it (1..64 of [A-Za-z0-9._-], not "."
 * or ".."). */
int dash_parse_node(const char *s, char node[static TELEMETRY_NODE_ID_MAX + 1],
    char err[static DASH_ERR_MAX]);

/* A comma-separated list of p, t, v (each at most once, none empty). */
int dash_parse_fields(const char *s, unsigned *mask,
    char err[static DASH_ERR_MAX]);

/* An alarm id in a path: a decimal integer 1..2^53. */
int dash_parse_alarm_id(const char *s, int64_t *id,
    char err[static DASH_ERR_MAX]);

/* One query parameter, already URL-decoded by the HTTP layer.  value is
 * NULL for a key without '=' (an error for every parameter here). */
struct dash_arg {
	const char *key;
	const char *value;
};

struct dash_history_query {
	char node[TELEMETRY_NODE_ID_MAX + 1];
	int64_t from_ms, to_ms;		/* inclusive, from <= to */
	unsigned fields;		/* enum dash_field mask, not 0 */
};

/* /api/history and /api/history.csv: node (required), from (default
 * -1h), to (default now), fields (default p,t,v).  An unknown or
 * repeated parameter, from after to, or a range over 400 days is an
 * error. */
int dash_parse_history_args(const struct dash_arg *args, size_t n,
    int64_t now_ms, struct dash_history_query *q,
    char err[static DASH_ERR_MAX]);

struct dash_alarms_query {
	bool active_only;		/* state=active (the default) */
	bool has_range;			/* from/to given: overlapping */
	int64_t from_ms, to_ms;
};

/* /api/alarms: state=active|all, from, to (both or neither; default:
 * all times).  Unknown or repeated parameters are errors. */
int dash_parse_alarms_args(const struct dash_arg *args, size_t n,
    int64_t now_ms, struct dash_alarms_query *q,
    char err[static DASH_ERR_MAX]);

/* ---------------------------------------------------------------- life */

struct dash_data_config {
	const char *db_path;		/* the store, opened read-only */
	const char *acks_path;		/* created 0600 when missing */
	const char *interface;		/* hub's wgu interface, or NULL */
	/* The live feed; broker_host NULL: none (tests, or history only). */
	const char *broker_host;
	int broker_port;
	const char *username;		/* NULL: anonymous */
	const char *password_file;	/* first line; NULL: no password */
	const char *topic_prefix;	/* NULL: TELEMETRY_DEFAULT_PREFIX */
	const char *client_id;		/* NULL: "wgu-dashboard-PID" */
	double silent_after_s;		/* <= 0: the default */
	/* Called on the main thread for each reading accepted from the feed
	 * (event "reading", json {"node","ts","received","p","t","v",
	 * "status","readings","rate","data":{every field}} and "boot_id",
	 * "seq" when the reading has them; p/t/v null when absent) and each
	 * alarm message (event "alarm", json the alarm object of /api/alarms
	 * with its ack, plus "event": "raise"|"update"|"clear").  NULL:
	 * none. */
	void (*on_event)(void *arg, const char *event, const char *json);
	void *event_arg;
};

struct dash_data;

/* Opens the acks database (creating it), keeps a copy of what cfg
 * points at.  The store is opened when first needed and again after an
 * error (it may not exist yet when the dashboard starts).  Returns NULL
 * with a message in err. */
struct dash_data *dash_data_new(const struct dash_data_config *cfg,
    char err[static DASH_ERR_MAX]);

/* Seeds the fleet from the store's latest row per node (so a restart
 * shows the fleet at once) and starts the MQTT feed on loop.  0 or a
 * negative errno with a message in err (an unreadable password file;
 * a store that cannot be read yet is no error). */
int dash_data_start(struct dash_data *d, struct ev_loop *loop,
    char err[static DASH_ERR_MAX]);

/* Stops the feed (DISCONNECT, watchers off).  Safe when not started. */
void dash_data_stop(struct dash_data *d);

/* Stops if needed, closes the databases, frees.  Safe on NULL. */
void dash_data_free(struct dash_data *d);

/* ---------------------------------------------------------------- API
 * Each fills r (status 200 with the body, or 4xx/5xx with {"error":..})
 * and returns r->status. */

/* GET /api/nodes (contract's JSON, plus "readings" per node), from the
 * live state; gaps_open counts the node's active "gap" alarms. */
int dash_api_nodes(struct dash_data *d, int64_t now_ms, struct dash_reply *r);

/* GET /api/thresholds: the store's thresholds table, or the simulator's
 * (telemetry.h) where it has no row or no such table. */
int dash_api_thresholds(struct dash_data *d, struct dash_reply *r);

/* GET /api/history (csv false) and /api/history.csv (csv true). */
int dash_api_history(struct dash_data *d, const struct dash_history_query *q,
    bool csv, struct dash_reply *r);

/* GET /api/alarms.  A store without the alarms table: an empty list. */
int dash_api_alarms(struct dash_data *d, const struct dash_alarms_query *q,
    struct dash_reply *r);

/* POST /api/alarms/ID/ack by user (the HTTP layer has checked the
 * session, role and CSRF).  404 when the store has no such alarm; a
 * second ack keeps the first ({"ok":true} all the same).  The answer is
 * {"ok":true,"alarm":{...}}: the alarm with its ack as it now stands,
 * which the HTTP side may pass on as an "alarm" SSE event. */
int dash_api_ack(struct dash_data *d, int64_t alarm_id, const char *user,
    int64_t now_ms, struct dash_reply *r);

/* GET /api/tunnel, from the interface's UAPI socket.  Without
 * --interface: {"interface":null,"peers":[],"drops":{}}; a daemon that
 * cannot be asked: 503 with the reason. */
int dash_api_tunnel(struct dash_data *d, int64_t now_ms, struct dash_reply *r);

/* GET /metrics: Prometheus text exposition 0.0.4. */
int dash_metrics(struct dash_data *d, int64_t now_ms, struct dash_reply *r);

#endif
