/* The telemetry payload: one JSON object per MQTT message, built by
 * wgu-sim and parsed and validated by wgu-historian.  Pure: no I/O, no
 * clock, no MQTT; cJSON only.
 *
 *	{"timestamp":1764051600000,"node_id":"edge-01","boot_id":3,"seq":17,
 *	 "data":{"p":6.02,"t":64.8,"v":2.11},"status":0}
 *
 * - timestamp: milliseconds since the Unix epoch (UTC), an integer.
 * - node_id: 1..TELEMETRY_NODE_ID_MAX characters of [A-Za-z0-9._-], so it is
 *   always one valid MQTT topic level (no '/', '+', '#').
 * - boot_id: an INTEGER >= 1, incremented at every start of the node and
 *   persisted in its spool directory.
 * - seq: an INTEGER >= 1, restarting at 1 with every boot_id.  So
 *   (node_id, boot_id, seq) is unique, and (boot_id, seq) compared
 *   lexicographically increases across restarts.  Within one boot the seq
 *   numbers have no holes: a hole means a reading the historian misses.
 * - data: p pressure in bar, t temperature in degrees C, v vibration
 *   velocity in mm/s RMS; finite numbers within the TELEMETRY_*_MIN/MAX
 *   plausibility ranges below.
 * - status: 0 normal, 1 warning, 2 critical; it MUST equal
 *   telemetry_status(p, t, v) (the thresholds below), else it is rejected.
 *
 * Unknown members are ignored (forward compatibility); a duplicated member
 * is rejected, since two readers could pick different copies.
 *
 * Topics: PREFIX/NODE/telemetry (data, node -> historian) and
 * PREFIX/NODE/cmd (commands, historian -> node).  A command is a JSON object;
 * the only one is the resend request
 *
 *	{"resend":{"boot_id":B,"from":S,"to":E}}	(1 <= S <= E)
 *
 * The node republishes, in order, the readings of boot B with S <= seq <= E
 * that are still in its spool.  Readings no longer there are not answered
 * at all (no negative reply); the historian then keeps reporting the gap.
 */
#ifndef WGU_TELEMETRY_H
#define WGU_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TELEMETRY_DEFAULT_PREFIX "plant1/area1/line1"

enum {
	TELEMETRY_NODE_ID_MAX = 64,
	/* Larger payloads are rejected before cJSON sees them: a real reading
	 * is about 150 bytes. */
	TELEMETRY_PAYLOAD_MAX = 1024,
	/* Largest resend range the node honours in one request. */
	TELEMETRY_RESEND_MAX = 100000,
};

/* Largest timestamp, boot_id, seq or resend bound: cJSON prints numbers
 * with 15 significant digits, so larger integers would not survive. */
#define TELEMETRY_INT_MAX 999999999999999.0

/* Status thresholds: a value at or above WARN is status 1, at or above CRIT
 * status 2; the status of a reading is the worst of its three values.
 *
 * Pressure: a hydraulic circuit running at ~6 bar with a relief valve set
 * near 10 bar: 8 bar is overpressure worth a look, 9.5 bar is close to the
 * relief setting.
 * Temperature: oil/coolant at ~65 C; 80 C means the cooling is not keeping
 * up, 95 C is where seals and oil degrade.
 * Vibration: ISO 10816-3 zones for a medium machine on a rigid foundation
 * (velocity, mm/s RMS): A/B < 2.8, C from 4.5 ("restricted long-term
 * operation"), D from 7.1 ("damage may occur"). */
#define TELEMETRY_P_WARN 8.0
#define TELEMETRY_P_CRIT 9.5
#define TELEMETRY_T_WARN 80.0
#define TELEMETRY_T_CRIT 95.0
#define TELEMETRY_V_WARN 4.5
#define TELEMETRY_V_CRIT 7.1

/* Plausibility: values outside are sensor faults, not readings. */
#define TELEMETRY_P_MIN 0.0
#define TELEMETRY_P_MAX 400.0
#define TELEMETRY_T_MIN (-50.0)
#define TELEMETRY_T_MAX 300.0
#define TELEMETRY_V_MIN 0.0
#define TELEMETRY_V_MAX 100.0

enum telemetry_status {
	TELEMETRY_NORMAL = 0,
	TELEMETRY_WARNING = 1,
	TELEMETRY_CRITICAL = 2,
};

struct telemetry_reading {
	int64_t timestamp_ms;
	char node_id[TELEMETRY_NODE_ID_MAX + 1];
	uint64_t boot_id;
	uint64_t seq;
	double p, t, v;
	int status;		/* enum telemetry_status */
};

/* Why a payload was rejected.  telemetry_reject_str() names each one. */
enum telemetry_reject {
	TELEMETRY_OK = 0,
	TELEMETRY_E_TOO_BIG,	/* more than TELEMETRY_PAYLOAD_MAX bytes */
	TELEMETRY_E_JSON,	/* not JSON (or NUL bytes, trailing garbage) */
	TELEMETRY_E_NOT_OBJECT,	/* JSON, but not an object */
	TELEMETRY_E_MISSING,	/* a required member is absent */
	TELEMETRY_E_DUPLICATE,	/* a member appears twice */
	TELEMETRY_E_TYPE,	/* a member has the wrong JSON type */
	TELEMETRY_E_NOT_INTEGER, /* a number that must be an integer is not */
	TELEMETRY_E_RANGE,	/* a value outside its allowed range */
	TELEMETRY_E_NODE_ID,	/* node_id empty, too long or bad characters */
	TELEMETRY_E_STATUS,	/* status does not match the thresholds */
	TELEMETRY_E_MAX
};

/* A rejection: the reason and the member it concerns ("" for the whole
 * payload; "data.p" style for nested ones).  field points to static
 * storage. */
struct telemetry_error {
	enum telemetry_reject reason;
	const char *field;
};

/* The status the thresholds give to (p, t, v). */
enum telemetry_status telemetry_status(double p, double t, double v);

/* True when id is a valid node id (see above). */
bool telemetry_node_id_valid(const char *id);

/* Writes r as one line of JSON (no newline) into buf, NUL-terminated.
 * Returns its length (without the NUL), -EINVAL when the result would not
 * pass telemetry_parse() (any field invalid, status included, also after
 * printing the numbers with 15 significant digits: round values to a
 * sensible precision first), -ENOSPC when cap is too small, -ENOMEM. */
int telemetry_build(const struct telemetry_reading *r, char *buf, size_t cap);

/* Parses and validates a payload of len bytes (need not be NUL-terminated;
 * any bytes at all are safe).  Returns TELEMETRY_OK and fills *out, or a
 * reason (and err, if not NULL) and leaves *out unspecified. */
enum telemetry_reject telemetry_parse(const void *buf, size_t len,
    struct telemetry_reading *out, struct telemetry_error *err);

/* As telemetry_parse(), and on TELEMETRY_OK hands over the parsed payload
 * as well (*tree, the caller cJSON_Delete()s it; NULL otherwise), so a
 * caller that keeps the payload (the historian's log) parses it once. */
struct cJSON;
enum telemetry_reject telemetry_parse_tree(const void *buf, size_t len,
    struct telemetry_reading *out, struct cJSON **tree,
    struct telemetry_error *err);

/* A short English name for a reason, e.g. "status does not match
 * thresholds".  Never NULL. */
const char *telemetry_reject_str(enum telemetry_reject reason);

/* The resend request. */
struct telemetry_resend {
	uint64_t boot_id;
	uint64_t from, to;	/* inclusive, 1 <= from <= to */
};

/* Builds {"resend":{...}} into buf as telemetry_build() does.  Ranges
 * longer than TELEMETRY_RESEND_MAX are allowed here; the node clips them. */
int telemetry_resend_build(const struct telemetry_resend *rq, char *buf,
    size_t cap);

/* Parses a command payload.  Returns TELEMETRY_OK for a valid resend
 * request, else a reason as telemetry_parse() does (an object without
 * "resend" is TELEMETRY_E_MISSING). */
enum telemetry_reject telemetry_resend_parse(const void *buf, size_t len,
    struct telemetry_resend *out, struct telemetry_error *err);

/* Writes PREFIX/NODE/KIND into buf (KIND is "telemetry" or "cmd").
 * Returns its length, -EINVAL for an invalid node id or an empty prefix,
 * or -ENOSPC. */
int telemetry_topic(char *buf, size_t cap, const char *prefix,
    const char *node_id, const char *kind);

/* Splits a topic of the form ANY/NODE/KIND: copies NODE (which must be a
 * valid node id) into node_id and returns 0 when the last level equals
 * kind; -EINVAL otherwise. */
int telemetry_topic_node(const char *topic, const char *kind,
    char node_id[static TELEMETRY_NODE_ID_MAX + 1]);

#endif
