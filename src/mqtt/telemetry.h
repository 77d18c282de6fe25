/* The telemetry payload: one JSON object per MQTT message, built by
 * wgu-sim (or any device) and parsed and validated by wgu-historian.  Pure:
 * no I/O, no clock, no MQTT; cJSON only.
 *
 *	{"timestamp":1764051600000,"node_id":"edge-01","boot_id":3,"seq":17,
 *	 "data":{"p":6.02,"t":64.8,"v":2.11},"status":0}
 *
 * - timestamp: when the reading was taken, in one of three forms, all
 *   normalised to milliseconds since the Unix epoch (UTC):
 *   - a number >= 1e11: integer milliseconds (1e11 ms is March 1973);
 *   - a number < 1e11: seconds, a fraction allowed (1e11 s would be the
 *     year 5138), rounded to the nearest millisecond;
 *   - a string, RFC 3339 / ISO 8601: YYYY-MM-DD, 'T', 't' or ' ', then
 *     hh:mm:ss, an optional fraction of 1..9 digits (rounded to the nearest
 *     millisecond), then 'Z', 'z', +hh:mm, +hhmm or +hh (or '-').  No zone
 *     means local time at the parse options' zoneless offset (UTC unless
 *     configured), as Python's datetime.now().isoformat() writes it.
 *     The date must exist (no Feb 30, Feb 29 only in leap years); hour
 *     24 (ISO's end of day) and second 60 (a leap second, which POSIX time
 *     cannot represent) are refused.
 *   Every form must fall within 1970-01-01T00:00:00.000Z ..
 *   9999-12-31T23:59:59.999Z.  Negative numbers are refused.
 * - node_id: 1..TELEMETRY_NODE_ID_MAX characters of [A-Za-z0-9._-], so it is
 *   always one valid MQTT topic level (no '/', '+', '#'); neither "." nor
 *   ".." (a node's spool directory and the hub's files are named after
 *   it).
 * - boot_id and seq: optional, but both or neither.  With them the node
 *   gets exactly-once delivery with gap detection and resend:
 *   - boot_id: an INTEGER >= 1, incremented at every start of the node and
 *     persisted in its spool directory.
 *   - seq: an INTEGER >= 1, restarting at 1 with every boot_id.  So
 *     (node_id, boot_id, seq) is unique, and (boot_id, seq) compared
 *     lexicographically increases across restarts.  Within one boot the
 *     seq numbers have no holes: a hole means a reading the historian
 *     misses.
 *   Without them a reading is at-least-once: a redelivery is recognised
 *   only by its node, timestamp and content (src/mqtt/recent.h).
 * - data: an object of 1..TELEMETRY_FIELDS_MAX members, each a finite
 *   number, names of 1..TELEMETRY_FIELD_NAME_MAX characters of
 *   [A-Za-z0-9_.-].  p (pressure, bar), t (temperature, degrees C) and v
 *   (vibration velocity, mm/s RMS) are the simulator's; when present they
 *   must lie within the TELEMETRY_*_MIN/MAX plausibility ranges below.
 *   Other names are the device's own (a Modbus edge's configured fields).
 * - status: 0 normal, 1 warning, 2 critical: the device's own verdict by
 *   its own thresholds, which the hub cannot know and does not check.
 *   telemetry_status() gives the simulator's verdict by the thresholds
 *   below (and telemetry_build() insists on it).
 *
 * Unknown top-level members are ignored (forward compatibility); a
 * duplicated member is rejected, since two readers could pick different
 * copies.
 *
 * Topics: PREFIX/NODE/telemetry (data, node -> historian),
 * PREFIX/NODE/event (events about the node's source, node -> historian,
 * logged as they come: wgu-modbus's source-down/source-up) and
 * PREFIX/NODE/cmd (commands, historian -> node).  A command is a JSON object;
 * the only one is the resend request, sent only to nodes that use seq
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
	/* data: at most this many fields, names at most this long. */
	TELEMETRY_FIELDS_MAX = 16,
	TELEMETRY_FIELD_NAME_MAX = 32,
	/* A timestamp string longer than this is refused unread
	 * ("2026-12-07T12:00:00.123456789+01:00" is 35). */
	TELEMETRY_TIME_STRING_MAX = 40,
	/* telemetry_time_format()'s buffer: "YYYY-MM-DDThh:mm:ss.mmmZ" is 24
	 * bytes; with room to spare for compilers that cannot see that. */
	TELEMETRY_TIME_FORMAT_LEN = 32,
	/* Offsets from UTC are within +-(23 h 59 min). */
	TELEMETRY_OFFSET_MAX_MIN = 23 * 60 + 59,
	/* struct telemetry_error's excerpt of what was found. */
	TELEMETRY_FOUND_MAX = 48,
	/* Enough for any telemetry_error_format() message. */
	TELEMETRY_ERROR_MSG_MAX = 384,
};

/* Largest timestamp, boot_id, seq or resend bound: cJSON prints numbers
 * with 15 significant digits, so larger integers would not survive. */
#define TELEMETRY_INT_MAX 999999999999999.0

/* A timestamp number below this is seconds, from it on milliseconds. */
#define TELEMETRY_SECONDS_BELOW 1e11
/* The timestamp range, in ms: 1970-01-01T00:00:00.000Z up to
 * 9999-12-31T23:59:59.999Z. */
#define TELEMETRY_TIME_MS_MAX INT64_C(253402300799999)

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

/* The form the timestamp had in the payload (the payload itself, kept
 * verbatim by the historian's log, holds the original value). */
enum telemetry_time_form {
	TELEMETRY_TIME_MS = 0,		/* a number >= 1e11 */
	TELEMETRY_TIME_SECONDS,		/* a number < 1e11 */
	TELEMETRY_TIME_STRING,		/* an RFC 3339 string */
};

struct telemetry_field {
	char name[TELEMETRY_FIELD_NAME_MAX + 1];
	double value;
};

struct telemetry_reading {
	int64_t timestamp_ms;	/* normalised, 0..TELEMETRY_TIME_MS_MAX */
	enum telemetry_time_form timestamp_form;
	char node_id[TELEMETRY_NODE_ID_MAX + 1];
	/* has_seq: the payload had boot_id and seq (else both are 0).
	 * telemetry_build() ignores the flag: it always writes them. */
	bool has_seq;
	uint64_t boot_id;
	uint64_t seq;
	/* data.p, data.t, data.v; NAN when the payload has no such field.
	 * They also appear in fields[] (telemetry_build() only uses these). */
	double p, t, v;
	/* data's members in payload order (filled by the parse). */
	size_t nfields;
	struct telemetry_field fields[TELEMETRY_FIELDS_MAX];
	int status;		/* enum telemetry_status */
};

/* Why a payload was rejected.  telemetry_reject_str() names each one. */
enum telemetry_reject {
	TELEMETRY_OK = 0,
	TELEMETRY_E_TOO_BIG,	/* more than TELEMETRY_PAYLOAD_MAX bytes */
	TELEMETRY_E_JSON,	/* not JSON (or NUL bytes, trailing garbage) */
	TELEMETRY_E_NOT_OBJECT,	/* JSON, but not an object */
	TELEMETRY_E_MISSING,	/* a required member is absent (seq without
				 * boot_id names the missing one) */
	TELEMETRY_E_DUPLICATE,	/* a member appears twice */
	TELEMETRY_E_TYPE,	/* a member has the wrong JSON type */
	TELEMETRY_E_NOT_INTEGER, /* a number that must be an integer is not */
	TELEMETRY_E_RANGE,	/* a value outside its allowed range (a date
				 * that does not exist, too many data fields) */
	TELEMETRY_E_NODE_ID,	/* node_id empty, too long or bad characters */
	TELEMETRY_E_FORMAT,	/* a timestamp string that is not RFC 3339 */
	TELEMETRY_E_NAME,	/* a data field name: empty, long, bad chars */
	TELEMETRY_E_MAX
};

/* A rejection, meant to tell the publisher what to change:
 * - field: the member it concerns: "" for the whole payload, "data.p" style
 *   for nested ones, "data" for a data field other than p, t, v (found
 *   then names it); static storage;
 * - found: a short excerpt of what was there, printable ASCII only (other
 *   bytes as '?', cut with "..."), "" when nothing is to be shown (a missing
 *   member);
 * - accepted: what the field accepts, static storage, "" if nothing to say.
 * telemetry_error_format() joins them into one line. */
struct telemetry_error {
	enum telemetry_reject reason;
	const char *field;
	char found[TELEMETRY_FOUND_MAX + 1];
	const char *accepted;
};

/* Options of telemetry_parse_with(); zero-initialised is the default. */
struct telemetry_parse_opts {
	/* The offset from UTC, in minutes east, of a timestamp string without
	 * a zone: 60 reads "2026-12-07T12:00:00" as 11:00Z.  Within
	 * +-TELEMETRY_OFFSET_MAX_MIN (telemetry_offset_parse() reads one). */
	int zoneless_offset_min;
	/* Refuse a reading without boot_id and seq (TELEMETRY_E_MISSING,
	 * field "boot_id"): for a consumer that has no duplicate window for
	 * nodes without them. */
	bool require_seq;
};

/* The status the thresholds give to (p, t, v). */
enum telemetry_status telemetry_status(double p, double t, double v);

/* True when name is a valid data field name (see above). */
bool telemetry_field_name_valid(const char *name);

/* True when id is a valid node id (see above); "." and ".." are not. */
bool telemetry_node_id_valid(const char *id);

/* Writes r as one line of JSON (no newline) into buf, NUL-terminated: the
 * simulator's payload, integer ms timestamp >= 1e11, boot_id, seq, data
 * {p, t, v} (fields[] and has_seq are ignored) and status.  Returns its
 * length (without the NUL), -EINVAL when a field is invalid or status is
 * not telemetry_status(p, t, v), also after printing the numbers with 15
 * significant digits (round values to a sensible precision first),
 * -ENOSPC when cap is too small, -ENOMEM. */
int telemetry_build(const struct telemetry_reading *r, char *buf, size_t cap);

/* As telemetry_build(), for any device: data is fields[0..nfields) in
 * that order (1..TELEMETRY_FIELDS_MAX, valid distinct names, finite
 * values; p, t, v within their plausibility ranges) and status any of
 * 0, 1, 2 (the device's verdict); p, t, v and has_seq are ignored.
 * Returns the length, -EINVAL, -ENOSPC or -ENOMEM. */
int telemetry_build_fields(const struct telemetry_reading *r, char *buf,
    size_t cap);

/* Parses and validates a payload of len bytes (need not be NUL-terminated;
 * any bytes at all are safe).  Returns TELEMETRY_OK and fills *out, or a
 * reason (and err, if not NULL) and leaves *out unspecified.  opts may be
 * NULL for the defaults. */
enum telemetry_reject telemetry_parse_with(const void *buf, size_t len,
    const struct telemetry_parse_opts *opts, struct telemetry_reading *out,
    struct telemetry_error *err);

/* As telemetry_parse_with(), and on TELEMETRY_OK hands over the parsed
 * payload as well when tree is not NULL (*tree: the caller cJSON_Delete()s
 * it; NULL otherwise), so a caller that keeps the payload (the historian's
 * log) parses it once. */
struct cJSON;
enum telemetry_reject telemetry_parse_tree(const void *buf, size_t len,
    const struct telemetry_parse_opts *opts, struct telemetry_reading *out,
    struct cJSON **tree, struct telemetry_error *err);

/* As telemetry_parse_with(), on a payload already parsed (the "payload"
 * object of a log line). */
enum telemetry_reject telemetry_parse_object(const struct cJSON *root,
    const struct telemetry_parse_opts *opts, struct telemetry_reading *out,
    struct telemetry_error *err);

/* telemetry_parse_with() with zoneless strings at UTC and require_seq:
 * what wgu's own nodes send, and all that a historian without a
 * duplicate window for nodes lacking boot_id/seq may accept (it would
 * take every later reading of such a node for a duplicate of the first). */
enum telemetry_reject telemetry_parse(const void *buf, size_t len,
    struct telemetry_reading *out, struct telemetry_error *err);

/* A short English name for a reason, e.g. "wrong type".  Never NULL. */
const char *telemetry_reject_str(enum telemetry_reject reason);

/* Writes err as one line into buf, NUL-terminated, cut to cap - 1 bytes:
 *	timestamp: bad timestamp format, found "yesterday"; accepted: ...
 * ("payload" stands for the field "").  Returns the length it wanted, as
 * snprintf() does; TELEMETRY_ERROR_MSG_MAX is always enough. */
int telemetry_error_format(const struct telemetry_error *err, char *buf,
    size_t cap);

/* Reads an RFC 3339 timestamp string (the grammar above) of len bytes
 * into milliseconds since the epoch; a string without a zone is at
 * zoneless_offset_min.  Returns 0, -EINVAL when the text does not follow
 * the grammar (or the offset is out of range), -ERANGE when it does but
 * names a date or time that does not exist or lies outside
 * 1970..9999. */
int telemetry_time_parse(const char *s, size_t len, int zoneless_offset_min,
    int64_t *ms);

/* Writes ms (0..TELEMETRY_TIME_MS_MAX) as "YYYY-MM-DDThh:mm:ss.mmmZ" into
 * buf.  Returns -ERANGE (buf set to "") outside that range, else 0. */
int telemetry_time_format(int64_t ms,
    char buf[static TELEMETRY_TIME_FORMAT_LEN]);

/* Reads a UTC offset: "Z", "+hh:mm", "-hhmm", "+hh" (as in a timestamp
 * string) into minutes east of UTC.  For the zoneless offset option.
 * Returns 0 or -EINVAL. */
int telemetry_offset_parse(const char *s, int *minutes);

/* A digest of the reading's content: its data fields as a set (sorted by
 * name, so member order and whitespace do not matter) and its status.
 * Not the node, timestamp, boot_id or seq.  FNV-1a, 64 bits: it tells
 * redeliveries apart from new readings, it does not resist forgery (a
 * node can only forge its own readings anyway). */
uint64_t telemetry_content_digest(const struct telemetry_reading *r);

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

/* Writes PREFIX/NODE/KIND into buf (KIND is "telemetry", "event" or "cmd").
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
