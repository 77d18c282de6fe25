/* The telemetry payload codec; the format is described in telemetry.h. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mqtt/telemetry.h"

#define INT_LIMIT TELEMETRY_INT_MAX

enum telemetry_status telemetry_status(double p, double t, double v)
{
	if (p >= TELEMETRY_P_CRIT || t >= TELEMETRY_T_CRIT ||
	    v >= TELEMETRY_V_CRIT)
		return TELEMETRY_CRITICAL;
	if (p >= TELEMETRY_P_WARN || t >= TELEMETRY_T_WARN ||
	    v >= TELEMETRY_V_WARN)
		return TELEMETRY_WARNING;
	return TELEMETRY_NORMAL;
}

/* Node ids and field names: 1..max characters of [A-Za-z0-9._-]. */
static bool name_valid(const char *s, size_t max)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++) {
		char c = s[n];
		if (n >= max)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return n > 0;
}

bool telemetry_field_name_valid(const char *name)
{
	return name_valid(name, TELEMETRY_FIELD_NAME_MAX);
}

bool telemetry_node_id_valid(const char *id)
{
	/* "." and ".." name directories (a node's spool is SPOOL_DIR/ID,
	 * the hub's files are named after nodes): never a node. */
	return name_valid(id, TELEMETRY_NODE_ID_MAX) &&
	    strcmp(id, ".") != 0 && strcmp(id, "..") != 0;
}

static const char *const reject_names[TELEMETRY_E_MAX] = {
	[TELEMETRY_OK] = "ok",
	[TELEMETRY_E_TOO_BIG] = "payload too big",
	[TELEMETRY_E_JSON] = "not valid JSON",
	[TELEMETRY_E_NOT_OBJECT] = "not a JSON object",
	[TELEMETRY_E_MISSING] = "missing field",
	[TELEMETRY_E_DUPLICATE] = "duplicate field",
	[TELEMETRY_E_TYPE] = "wrong type",
	[TELEMETRY_E_NOT_INTEGER] = "not an integer",
	[TELEMETRY_E_RANGE] = "value out of range",
	[TELEMETRY_E_NODE_ID] = "invalid node_id",
	[TELEMETRY_E_FORMAT] = "bad timestamp format",
	[TELEMETRY_E_NAME] = "invalid field name",
};

/* What each field accepts, for the publisher who got it wrong. */
#define A_PAYLOAD "one JSON object of at most 1024 bytes, without NUL bytes"
#define A_TIMESTAMP "integer ms since 1970 (>= 1e11), seconds since 1970 " \
	"(< 1e11, fraction allowed) or an RFC 3339 string like " \
	"\"2026-12-07T12:00:00Z\", within 1970..9999"
#define A_NODE_ID "a string of 1..64 characters of A-Z a-z 0-9 . _ -"
#define A_SEQ "an integer 1..999999999999999; boot_id and seq together, " \
	"or neither"
#define A_SEQ_REQUIRED "an integer 1..999999999999999; boot_id and seq " \
	"both (required by this consumer)"
#define A_DATA "an object of 1..16 fields, each a finite number, names of " \
	"1..32 characters of A-Z a-z 0-9 _ . -"
#define A_STATUS "0 (normal), 1 (warning) or 2 (critical)"
#define A_RESEND "an integer 1..999999999999999"

/* The plausibility ranges of the simulator's fields. */
static const struct {
	const char *name, *field, *accepted;
	double min, max;
} known_fields[] = {
	{ "p", "data.p", "a number from 0 to 400 (bar)",
	    TELEMETRY_P_MIN, TELEMETRY_P_MAX },
	{ "t", "data.t", "a number from -50 to 300 (degrees C)",
	    TELEMETRY_T_MIN, TELEMETRY_T_MAX },
	{ "v", "data.v", "a number from 0 to 100 (mm/s)",
	    TELEMETRY_V_MIN, TELEMETRY_V_MAX },
};

const char *telemetry_reject_str(enum telemetry_reject reason)
{
	if ((unsigned)reason >= TELEMETRY_E_MAX)
		return "unknown reason";
	return reject_names[reason];
}

int telemetry_error_format(const struct telemetry_error *err, char *buf,
    size_t cap)
{
	const char *field = err->field && *err->field ? err->field : "payload";
	const char *acc = err->accepted ? err->accepted : "";

	return snprintf(buf, cap, "%s: %s%s%.*s%s%s", field,
	    telemetry_reject_str(err->reason), err->found[0] ? ", found " : "",
	    TELEMETRY_FOUND_MAX, err->found, *acc ? "; accepted: " : "", acc);
}

static enum telemetry_reject fail(struct telemetry_error *err,
    enum telemetry_reject reason, const char *field, const char *accepted)
{
	if (err) {
		err->reason = reason;
		err->field = field;
		err->found[0] = '\0';
		err->accepted = accepted;
	}
	return reason;
}

/* Sets err->found to n bytes of s: printable ASCII only, since it ends up
 * in a terminal and a log; cut with "..." when long. */
static void set_found(struct telemetry_error *err, const char *s, size_t n)
{
	size_t i, keep = n > TELEMETRY_FOUND_MAX ? TELEMETRY_FOUND_MAX - 3 : n;

	if (err == NULL)
		return;
	for (i = 0; i < keep; i++) {
		unsigned char c = (unsigned char)s[i];
		err->found[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (keep < n) {
		memcpy(err->found + keep, "...", 3);
		keep += 3;
	}
	err->found[keep] = '\0';
}

__attribute__((format(printf, 2, 3)))
static void found_text(struct telemetry_error *err, const char *fmt, ...)
{
	char text[TELEMETRY_FOUND_MAX * 2];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	set_found(err, text, strnlen(text, sizeof(text) - 1));
}

/* The JSON text of a value, "name":value for a named member when with_name;
 * an infinite number (cJSON's "1e999") is said in words, since cJSON would
 * print it as null. */
static void found_item(struct telemetry_error *err, const cJSON *it,
    bool with_name)
{
	char *s;

	if (err == NULL)
		return;
	if (cJSON_IsNumber(it) && !isfinite(it->valuedouble)) {
		found_text(err, "%s%s%san infinite number", with_name ? "\"" : "",
		    with_name ? it->string : "", with_name ? "\":" : "");
		return;
	}
	s = cJSON_PrintUnformatted(it);
	if (s == NULL) {
		err->found[0] = '\0';
		return;
	}
	if (with_name && it->string != NULL)
		found_text(err, "\"%.40s\":%.60s", it->string, s);
	else
		set_found(err, s, strlen(s));
	cJSON_free(s);
}

static enum telemetry_reject fail_item(struct telemetry_error *err,
    enum telemetry_reject reason, const char *field, const char *accepted,
    const cJSON *it, bool with_name)
{
	fail(err, reason, field, accepted);
	found_item(err, it, with_name);
	return reason;
}

/* Parses len arbitrary bytes into a cJSON tree (caller deletes).  cJSON
 * wants a NUL-terminated string, so the bytes are copied; an embedded NUL
 * would silently cut the payload short, so it is refused. */
static enum telemetry_reject parse_json(const void *buf, size_t len,
    cJSON **rootp, struct telemetry_error *err)
{
	char copy[TELEMETRY_PAYLOAD_MAX + 1];
	const char *nul, *end = NULL;
	cJSON *root;
	size_t at;

	if (len > TELEMETRY_PAYLOAD_MAX) {
		fail(err, TELEMETRY_E_TOO_BIG, "", A_PAYLOAD);
		found_text(err, "%zu bytes", len);
		return TELEMETRY_E_TOO_BIG;
	}
	if (len > 0 && (nul = memchr(buf, '\0', len)) != NULL) {
		fail(err, TELEMETRY_E_JSON, "", A_PAYLOAD);
		found_text(err, "a NUL byte at byte %zu",
		    (size_t)(nul - (const char *)buf));
		return TELEMETRY_E_JSON;
	}
	if (len > 0)
		memcpy(copy, buf, len);
	copy[len] = '\0';
	/* require_null_terminated: trailing garbage is an error too. */
	root = cJSON_ParseWithOpts(copy, &end, 1);
	if (root == NULL) {
		fail(err, TELEMETRY_E_JSON, "", A_PAYLOAD);
		/* cJSON's error position is approximate: some context
		 * before it. */
		at = end != NULL && end >= copy && end <= copy + len ?
		    (size_t)(end - copy) : 0;
		found_text(err, "near byte %zu: %.24s", at,
		    copy + (at > 12 ? at - 12 : 0));
		return TELEMETRY_E_JSON;
	}
	if (!cJSON_IsObject(root)) {
		fail_item(err, TELEMETRY_E_NOT_OBJECT, "", A_PAYLOAD, root,
		    false);
		cJSON_Delete(root);
		return TELEMETRY_E_NOT_OBJECT;
	}
	*rootp = root;
	return TELEMETRY_OK;
}

/* Finds member name of obj, refusing a second copy of it; *itemp is NULL
 * when there is none. */
static enum telemetry_reject optional(const cJSON *obj, const char *name,
    const cJSON **itemp, struct telemetry_error *err, const char *field,
    const char *accepted)
{
	const cJSON *it, *found = NULL;

	cJSON_ArrayForEach(it, obj) {
		if (it->string == NULL || strcmp(it->string, name) != 0)
			continue;
		if (found != NULL)
			return fail(err, TELEMETRY_E_DUPLICATE, field, accepted);
		found = it;
	}
	*itemp = found;
	return TELEMETRY_OK;
}

/* The same for a member that must be there. */
static enum telemetry_reject member(const cJSON *obj, const char *name,
    const cJSON **itemp, struct telemetry_error *err, const char *field,
    const char *accepted)
{
	enum telemetry_reject r;

	r = optional(obj, name, itemp, err, field, accepted);
	if (r == TELEMETRY_OK && *itemp == NULL)
		return fail(err, TELEMETRY_E_MISSING, field, accepted);
	return r;
}

/* An integer in [min, TELEMETRY_INT_MAX]. */
static enum telemetry_reject uint_item(const cJSON *it, double min,
    uint64_t *out, struct telemetry_error *err, const char *field,
    const char *accepted)
{
	double d;

	if (!cJSON_IsNumber(it))
		return fail_item(err, TELEMETRY_E_TYPE, field, accepted, it,
		    false);
	d = it->valuedouble;
	if (!isfinite(d) || floor(d) != d)
		return fail_item(err, TELEMETRY_E_NOT_INTEGER, field, accepted,
		    it, false);
	if (d < min || d > INT_LIMIT)
		return fail_item(err, TELEMETRY_E_RANGE, field, accepted, it,
		    false);
	*out = (uint64_t)d;
	return TELEMETRY_OK;
}

static enum telemetry_reject get_uint(const cJSON *obj, const char *name,
    double min, uint64_t *out, struct telemetry_error *err,
    const char *field, const char *accepted)
{
	const cJSON *it;
	enum telemetry_reject r;

	if ((r = member(obj, name, &it, err, field, accepted)) != TELEMETRY_OK)
		return r;
	return uint_item(it, min, out, err, field, accepted);
}

static enum telemetry_reject parse_timestamp(const cJSON *root,
    const struct telemetry_parse_opts *opts, struct telemetry_reading *out,
    struct telemetry_error *err)
{
	const char *const field = "timestamp";
	const cJSON *it;
	enum telemetry_reject r;
	double d;
	int ret;

	if ((r = member(root, field, &it, err, field, A_TIMESTAMP)) !=
	    TELEMETRY_OK)
		return r;
	if (cJSON_IsString(it)) {
		ret = telemetry_time_parse(it->valuestring,
		    strnlen(it->valuestring, TELEMETRY_TIME_STRING_MAX + 1),
		    opts->zoneless_offset_min, &out->timestamp_ms);
		if (ret < 0)
			return fail_item(err, ret == -ERANGE ? TELEMETRY_E_RANGE :
			    TELEMETRY_E_FORMAT, field, A_TIMESTAMP, it, false);
		out->timestamp_form = TELEMETRY_TIME_STRING;
		return TELEMETRY_OK;
	}
	if (!cJSON_IsNumber(it))
		return fail_item(err, TELEMETRY_E_TYPE, field, A_TIMESTAMP, it,
		    false);
	d = it->valuedouble;
	if (d < 0)
		return fail_item(err, TELEMETRY_E_RANGE, field, A_TIMESTAMP, it,
		    false);
	if (d < TELEMETRY_SECONDS_BELOW) {
		out->timestamp_ms = llround(d * 1000.0);
		out->timestamp_form = TELEMETRY_TIME_SECONDS;
		return TELEMETRY_OK;
	}
	if (!isfinite(d) || floor(d) != d)
		return fail_item(err, TELEMETRY_E_NOT_INTEGER, field,
		    A_TIMESTAMP, it, false);
	if (d > (double)TELEMETRY_TIME_MS_MAX)
		return fail_item(err, TELEMETRY_E_RANGE, field, A_TIMESTAMP, it,
		    false);
	out->timestamp_ms = (int64_t)d;
	out->timestamp_form = TELEMETRY_TIME_MS;
	return TELEMETRY_OK;
}

/* ------------------------------------------------------------ reading */

/* One member of data, stored at out->fields[out->nfields]. */
static enum telemetry_reject data_field(const cJSON *it,
    struct telemetry_reading *out, struct telemetry_error *err)
{
	const char *field = "data", *accepted = A_DATA;
	double d, *known = NULL;
	size_t i, k;

	if (out->nfields == TELEMETRY_FIELDS_MAX) {
		fail(err, TELEMETRY_E_RANGE, field, accepted);
		found_text(err, "more than %d fields", TELEMETRY_FIELDS_MAX);
		return TELEMETRY_E_RANGE;
	}
	if (it->string == NULL ||
	    !name_valid(it->string, TELEMETRY_FIELD_NAME_MAX)) {
		fail(err, TELEMETRY_E_NAME, field, accepted);
		found_text(err, "\"%.60s\"", it->string ? it->string : "");
		return TELEMETRY_E_NAME;
	}
	for (k = 0; k < sizeof(known_fields) / sizeof(known_fields[0]); k++)
		if (strcmp(it->string, known_fields[k].name) == 0)
			break;
	if (k < sizeof(known_fields) / sizeof(known_fields[0])) {
		field = known_fields[k].field;
		accepted = known_fields[k].accepted;
		known = k == 0 ? &out->p : k == 1 ? &out->t : &out->v;
	}
	for (i = 0; i < out->nfields; i++)
		if (strcmp(out->fields[i].name, it->string) == 0)
			return fail_item(err, TELEMETRY_E_DUPLICATE, field,
			    accepted, it, true);
	if (!cJSON_IsNumber(it))
		return fail_item(err, TELEMETRY_E_TYPE, field, accepted, it,
		    true);
	d = it->valuedouble;
	if (!isfinite(d) || (known != NULL && (d < known_fields[k].min ||
	    d > known_fields[k].max)))
		return fail_item(err, TELEMETRY_E_RANGE, field, accepted, it,
		    true);
	if (known != NULL)
		*known = d;
	/* name_valid(): at most TELEMETRY_FIELD_NAME_MAX characters. */
	memcpy(out->fields[out->nfields].name, it->string,
	    strlen(it->string) + 1);
	out->fields[out->nfields++].value = d;
	return TELEMETRY_OK;
}

static enum telemetry_reject parse_data(const cJSON *root,
    struct telemetry_reading *out, struct telemetry_error *err)
{
	const cJSON *data, *it;
	enum telemetry_reject r;

	if ((r = member(root, "data", &data, err, "data", A_DATA)) !=
	    TELEMETRY_OK)
		return r;
	if (!cJSON_IsObject(data))
		return fail_item(err, TELEMETRY_E_TYPE, "data", A_DATA, data,
		    false);
	out->p = out->t = out->v = NAN;
	out->nfields = 0;
	cJSON_ArrayForEach(it, data)
		if ((r = data_field(it, out, err)) != TELEMETRY_OK)
			return r;
	if (out->nfields == 0)
		return fail_item(err, TELEMETRY_E_RANGE, "data", A_DATA, data,
		    false);
	return TELEMETRY_OK;
}

/* boot_id and seq: both or neither. */
static enum telemetry_reject parse_seq(const cJSON *root, bool required,
    struct telemetry_reading *out, struct telemetry_error *err)
{
	const cJSON *boot, *seq;
	enum telemetry_reject r;

	if ((r = optional(root, "boot_id", &boot, err, "boot_id", A_SEQ)) !=
	    TELEMETRY_OK ||
	    (r = optional(root, "seq", &seq, err, "seq", A_SEQ)) !=
	    TELEMETRY_OK)
		return r;
	out->boot_id = out->seq = 0;
	out->has_seq = boot != NULL && seq != NULL;
	if (boot == NULL && seq == NULL && required) {
		fail(err, TELEMETRY_E_MISSING, "boot_id", A_SEQ_REQUIRED);
		found_text(err, "neither boot_id nor seq");
		return TELEMETRY_E_MISSING;
	}
	if (boot == NULL && seq == NULL)
		return TELEMETRY_OK;
	if (seq == NULL) {
		fail(err, TELEMETRY_E_MISSING, "seq", A_SEQ);
		found_text(err, "boot_id without seq");
		return TELEMETRY_E_MISSING;
	}
	if (boot == NULL) {
		fail(err, TELEMETRY_E_MISSING, "boot_id", A_SEQ);
		found_text(err, "seq without boot_id");
		return TELEMETRY_E_MISSING;
	}
	if ((r = uint_item(boot, 1, &out->boot_id, err, "boot_id", A_SEQ)) !=
	    TELEMETRY_OK)
		return r;
	return uint_item(seq, 1, &out->seq, err, "seq", A_SEQ);
}

static enum telemetry_reject parse_reading(const cJSON *root,
    const struct telemetry_parse_opts *opts, struct telemetry_reading *out,
    struct telemetry_error *err)
{
	const cJSON *it;
	enum telemetry_reject r;
	uint64_t u;

	if ((r = parse_timestamp(root, opts, out, err)) != TELEMETRY_OK)
		return r;
	if ((r = member(root, "node_id", &it, err, "node_id", A_NODE_ID)) !=
	    TELEMETRY_OK)
		return r;
	if (!cJSON_IsString(it))
		return fail_item(err, TELEMETRY_E_TYPE, "node_id", A_NODE_ID,
		    it, false);
	if (!telemetry_node_id_valid(it->valuestring))
		return fail_item(err, TELEMETRY_E_NODE_ID, "node_id", A_NODE_ID,
		    it, false);
	snprintf(out->node_id, sizeof(out->node_id), "%s", it->valuestring);
	if ((r = parse_seq(root, opts->require_seq, out, err)) !=
	    TELEMETRY_OK)
		return r;
	if ((r = parse_data(root, out, err)) != TELEMETRY_OK)
		return r;
	/* The device's own verdict: its thresholds are not ours to check. */
	if ((r = get_uint(root, "status", 0, &u, err, "status", A_STATUS)) !=
	    TELEMETRY_OK)
		return r;
	if (u > TELEMETRY_CRITICAL)
		return fail_item(err, TELEMETRY_E_RANGE, "status", A_STATUS,
		    cJSON_GetObjectItemCaseSensitive(root, "status"), false);
	out->status = (int)u;
	return fail(err, TELEMETRY_OK, "", "");
}

enum telemetry_reject telemetry_parse_object(const struct cJSON *root,
    const struct telemetry_parse_opts *opts, struct telemetry_reading *out,
    struct telemetry_error *err)
{
	static const struct telemetry_parse_opts defaults;

	if (!cJSON_IsObject(root))
		return fail(err, TELEMETRY_E_NOT_OBJECT, "", "a JSON object");
	return parse_reading(root, opts ? opts : &defaults, out, err);
}

enum telemetry_reject telemetry_parse_tree(const void *buf, size_t len,
    const struct telemetry_parse_opts *opts, struct telemetry_reading *out,
    struct cJSON **tree, struct telemetry_error *err)
{
	static const struct telemetry_parse_opts defaults;
	cJSON *root = NULL;
	enum telemetry_reject r;

	if (tree != NULL)
		*tree = NULL;
	if ((r = parse_json(buf, len, &root, err)) != TELEMETRY_OK)
		return r;
	r = parse_reading(root, opts ? opts : &defaults, out, err);
	if (r == TELEMETRY_OK && tree != NULL)
		*tree = root;
	else
		cJSON_Delete(root);
	return r;
}

enum telemetry_reject telemetry_parse_with(const void *buf, size_t len,
    const struct telemetry_parse_opts *opts, struct telemetry_reading *out,
    struct telemetry_error *err)
{
	return telemetry_parse_tree(buf, len, opts, out, NULL, err);
}

enum telemetry_reject telemetry_parse(const void *buf, size_t len,
    struct telemetry_reading *out, struct telemetry_error *err)
{
	static const struct telemetry_parse_opts strict = {
		.require_seq = true,
	};

	return telemetry_parse_with(buf, len, &strict, out, err);
}

static enum telemetry_reject parse_resend(const cJSON *root,
    struct telemetry_resend *out, struct telemetry_error *err)
{
	const cJSON *rs;
	enum telemetry_reject r;

	if ((r = member(root, "resend", &rs, err, "resend",
	    "an object {boot_id, from, to}")) != TELEMETRY_OK)
		return r;
	if (!cJSON_IsObject(rs))
		return fail_item(err, TELEMETRY_E_TYPE, "resend",
		    "an object {boot_id, from, to}", rs, false);
	if ((r = get_uint(rs, "boot_id", 1, &out->boot_id, err,
	    "resend.boot_id", A_RESEND)) != TELEMETRY_OK)
		return r;
	if ((r = get_uint(rs, "from", 1, &out->from, err, "resend.from",
	    A_RESEND)) != TELEMETRY_OK)
		return r;
	if ((r = get_uint(rs, "to", 1, &out->to, err, "resend.to",
	    A_RESEND)) != TELEMETRY_OK)
		return r;
	if (out->from > out->to)
		return fail(err, TELEMETRY_E_RANGE, "resend.to",
		    "an integer >= from");
	return fail(err, TELEMETRY_OK, "", "");
}

enum telemetry_reject telemetry_resend_parse(const void *buf, size_t len,
    struct telemetry_resend *out, struct telemetry_error *err)
{
	cJSON *root = NULL;
	enum telemetry_reject r;

	if ((r = parse_json(buf, len, &root, err)) != TELEMETRY_OK)
		return r;
	r = parse_resend(root, out, err);
	cJSON_Delete(root);
	return r;
}

int telemetry_topic(char *buf, size_t cap, const char *prefix,
    const char *node_id, const char *kind)
{
	int n;

	if (prefix[0] == '\0' || !telemetry_node_id_valid(node_id))
		return -EINVAL;
	n = snprintf(buf, cap, "%s/%s/%s", prefix, node_id, kind);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= cap)
		return -ENOSPC;
	return n;
}

int telemetry_topic_node(const char *topic, const char *kind,
    char node_id[static TELEMETRY_NODE_ID_MAX + 1])
{
	const char *last = strrchr(topic, '/'), *node;
	size_t n;

	if (last == NULL || strcmp(last + 1, kind) != 0)
		return -EINVAL;
	for (node = last; node > topic && node[-1] != '/'; node--)
		;
	n = (size_t)(last - node);
	if (n == 0 || n > TELEMETRY_NODE_ID_MAX)
		return -EINVAL;
	memcpy(node_id, node, n);
	node_id[n] = '\0';
	return telemetry_node_id_valid(node_id) ? 0 : -EINVAL;
}
