/* The telemetry payload codec; the format is described in telemetry.h. */
#include <errno.h>
#include <math.h>
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

bool telemetry_node_id_valid(const char *id)
{
	size_t n;

	for (n = 0; id[n] != '\0'; n++) {
		char c = id[n];
		if (n >= TELEMETRY_NODE_ID_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return n > 0;
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
	[TELEMETRY_E_STATUS] = "status does not match thresholds",
};

const char *telemetry_reject_str(enum telemetry_reject reason)
{
	if ((unsigned)reason >= TELEMETRY_E_MAX)
		return "unknown reason";
	return reject_names[reason];
}

static enum telemetry_reject fail(struct telemetry_error *err,
    enum telemetry_reject reason, const char *field)
{
	if (err) {
		err->reason = reason;
		err->field = field;
	}
	return reason;
}

/* Parses len arbitrary bytes into a cJSON tree (caller deletes).  cJSON
 * wants a NUL-terminated string, so the bytes are copied; an embedded NUL
 * would silently cut the payload short, so it is refused. */
static enum telemetry_reject parse_json(const void *buf, size_t len,
    cJSON **rootp, struct telemetry_error *err)
{
	char copy[TELEMETRY_PAYLOAD_MAX + 1];
	cJSON *root;

	if (len > TELEMETRY_PAYLOAD_MAX)
		return fail(err, TELEMETRY_E_TOO_BIG, "");
	if (len > 0 && memchr(buf, '\0', len) != NULL)
		return fail(err, TELEMETRY_E_JSON, "");
	if (len > 0)
		memcpy(copy, buf, len);
	copy[len] = '\0';
	/* require_null_terminated: trailing garbage is an error too. */
	root = cJSON_ParseWithOpts(copy, NULL, 1);
	if (root == NULL)
		return fail(err, TELEMETRY_E_JSON, "");
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return fail(err, TELEMETRY_E_NOT_OBJECT, "");
	}
	*rootp = root;
	return TELEMETRY_OK;
}

/* Finds member name of obj, refusing a second copy of it. */
static enum telemetry_reject member(const cJSON *obj, const char *name,
    const cJSON **itemp, struct telemetry_error *err, const char *field)
{
	const cJSON *it, *found = NULL;

	cJSON_ArrayForEach(it, obj) {
		if (it->string == NULL || strcmp(it->string, name) != 0)
			continue;
		if (found != NULL)
			return fail(err, TELEMETRY_E_DUPLICATE, field);
		found = it;
	}
	if (found == NULL)
		return fail(err, TELEMETRY_E_MISSING, field);
	*itemp = found;
	return TELEMETRY_OK;
}

/* An integer member in [min, TELEMETRY_INT_MAX]. */
static enum telemetry_reject get_uint(const cJSON *obj, const char *name,
    double min, uint64_t *out, struct telemetry_error *err,
    const char *field)
{
	const cJSON *it;
	enum telemetry_reject r;
	double d;

	if ((r = member(obj, name, &it, err, field)) != TELEMETRY_OK)
		return r;
	if (!cJSON_IsNumber(it))
		return fail(err, TELEMETRY_E_TYPE, field);
	d = it->valuedouble;
	if (!isfinite(d) || floor(d) != d)
		return fail(err, TELEMETRY_E_NOT_INTEGER, field);
	if (d < min || d > INT_LIMIT)
		return fail(err, TELEMETRY_E_RANGE, field);
	*out = (uint64_t)d;
	return TELEMETRY_OK;
}

static enum telemetry_reject get_real(const cJSON *obj, const char *name,
    double min, double max, double *out, struct telemetry_error *err,
    const char *field)
{
	const cJSON *it;
	enum telemetry_reject r;
	double d;

	if ((r = member(obj, name, &it, err, field)) != TELEMETRY_OK)
		return r;
	if (!cJSON_IsNumber(it))
		return fail(err, TELEMETRY_E_TYPE, field);
	d = it->valuedouble;
	if (!isfinite(d) || d < min || d > max)
		return fail(err, TELEMETRY_E_RANGE, field);
	*out = d;
	return TELEMETRY_OK;
}

static enum telemetry_reject parse_data(const cJSON *root,
    struct telemetry_reading *out, struct telemetry_error *err)
{
	const cJSON *data;
	enum telemetry_reject r;

	if ((r = member(root, "data", &data, err, "data")) != TELEMETRY_OK)
		return r;
	if (!cJSON_IsObject(data))
		return fail(err, TELEMETRY_E_TYPE, "data");
	if ((r = get_real(data, "p", TELEMETRY_P_MIN, TELEMETRY_P_MAX, &out->p,
	    err, "data.p")) != TELEMETRY_OK)
		return r;
	if ((r = get_real(data, "t", TELEMETRY_T_MIN, TELEMETRY_T_MAX, &out->t,
	    err, "data.t")) != TELEMETRY_OK)
		return r;
	return get_real(data, "v", TELEMETRY_V_MIN, TELEMETRY_V_MAX, &out->v,
	    err, "data.v");
}

static enum telemetry_reject parse_reading(const cJSON *root,
    struct telemetry_reading *out, struct telemetry_error *err)
{
	const cJSON *it;
	enum telemetry_reject r;
	uint64_t u;

	if ((r = get_uint(root, "timestamp", 0, &u, err, "timestamp")) !=
	    TELEMETRY_OK)
		return r;
	out->timestamp_ms = (int64_t)u;
	if ((r = member(root, "node_id", &it, err, "node_id")) != TELEMETRY_OK)
		return r;
	if (!cJSON_IsString(it))
		return fail(err, TELEMETRY_E_TYPE, "node_id");
	if (!telemetry_node_id_valid(it->valuestring))
		return fail(err, TELEMETRY_E_NODE_ID, "node_id");
	snprintf(out->node_id, sizeof(out->node_id), "%s", it->valuestring);
	if ((r = get_uint(root, "boot_id", 1, &out->boot_id, err, "boot_id")) !=
	    TELEMETRY_OK)
		return r;
	if ((r = get_uint(root, "seq", 1, &out->seq, err, "seq")) !=
	    TELEMETRY_OK)
		return r;
	if ((r = parse_data(root, out, err)) != TELEMETRY_OK)
		return r;
	if ((r = get_uint(root, "status", 0, &u, err, "status")) !=
	    TELEMETRY_OK)
		return r;
	if (u > TELEMETRY_CRITICAL)
		return fail(err, TELEMETRY_E_RANGE, "status");
	out->status = (int)u;
	if (out->status != (int)telemetry_status(out->p, out->t, out->v))
		return fail(err, TELEMETRY_E_STATUS, "status");
	return fail(err, TELEMETRY_OK, "");
}

enum telemetry_reject telemetry_parse_tree(const void *buf, size_t len,
    struct telemetry_reading *out, cJSON **tree, struct telemetry_error *err)
{
	cJSON *root = NULL;
	enum telemetry_reject r;

	*tree = NULL;
	if ((r = parse_json(buf, len, &root, err)) != TELEMETRY_OK)
		return r;
	r = parse_reading(root, out, err);
	if (r == TELEMETRY_OK)
		*tree = root;
	else
		cJSON_Delete(root);
	return r;
}

enum telemetry_reject telemetry_parse(const void *buf, size_t len,
    struct telemetry_reading *out, struct telemetry_error *err)
{
	cJSON *root;
	enum telemetry_reject r = telemetry_parse_tree(buf, len, out, &root,
	    err);

	cJSON_Delete(root);
	return r;
}

/* Prints root unformatted into buf.  Returns the length or -errno. */
static int print_into(cJSON *root, char *buf, size_t cap)
{
	char *s = cJSON_PrintUnformatted(root);
	size_t n;

	if (s == NULL)
		return -ENOMEM;
	n = strlen(s);
	if (n + 1 > cap) {
		cJSON_free(s);
		return -ENOSPC;
	}
	memcpy(buf, s, n + 1);
	cJSON_free(s);
	return (int)n;
}

static bool reading_valid(const struct telemetry_reading *r)
{
	return r->timestamp_ms >= 0 && (double)r->timestamp_ms <= INT_LIMIT &&
	    telemetry_node_id_valid(r->node_id) &&
	    r->boot_id >= 1 && (double)r->boot_id <= INT_LIMIT &&
	    r->seq >= 1 && (double)r->seq <= INT_LIMIT &&
	    isfinite(r->p) && r->p >= TELEMETRY_P_MIN && r->p <= TELEMETRY_P_MAX &&
	    isfinite(r->t) && r->t >= TELEMETRY_T_MIN && r->t <= TELEMETRY_T_MAX &&
	    isfinite(r->v) && r->v >= TELEMETRY_V_MIN && r->v <= TELEMETRY_V_MAX &&
	    r->status == (int)telemetry_status(r->p, r->t, r->v);
}

int telemetry_build(const struct telemetry_reading *r, char *buf, size_t cap)
{
	struct telemetry_reading back;
	cJSON *root, *data;
	int ret = -ENOMEM;

	if (!reading_valid(r))
		return -EINVAL;
	root = cJSON_CreateObject();
	if (root == NULL)
		return -ENOMEM;
	if (!cJSON_AddNumberToObject(root, "timestamp",
	    (double)r->timestamp_ms) ||
	    !cJSON_AddStringToObject(root, "node_id", r->node_id) ||
	    !cJSON_AddNumberToObject(root, "boot_id", (double)r->boot_id) ||
	    !cJSON_AddNumberToObject(root, "seq", (double)r->seq) ||
	    (data = cJSON_AddObjectToObject(root, "data")) == NULL ||
	    !cJSON_AddNumberToObject(data, "p", r->p) ||
	    !cJSON_AddNumberToObject(data, "t", r->t) ||
	    !cJSON_AddNumberToObject(data, "v", r->v) ||
	    !cJSON_AddNumberToObject(root, "status", r->status))
		goto out;
	ret = print_into(root, buf, cap);
	/* The printed numbers are rounded to 15 digits: a value a hair below
	 * a threshold may print as the threshold itself.  Never emit what
	 * the historian would reject. */
	if (ret >= 0 && telemetry_parse(buf, (size_t)ret, &back, NULL) !=
	    TELEMETRY_OK)
		ret = -EINVAL;
out:
	cJSON_Delete(root);
	return ret;
}

int telemetry_resend_build(const struct telemetry_resend *rq, char *buf,
    size_t cap)
{
	cJSON *root, *inner;
	int ret = -ENOMEM;

	if (rq->boot_id < 1 || rq->from < 1 || rq->from > rq->to ||
	    (double)rq->boot_id > INT_LIMIT || (double)rq->to > INT_LIMIT)
		return -EINVAL;
	root = cJSON_CreateObject();
	if (root == NULL)
		return -ENOMEM;
	if ((inner = cJSON_AddObjectToObject(root, "resend")) == NULL ||
	    !cJSON_AddNumberToObject(inner, "boot_id", (double)rq->boot_id) ||
	    !cJSON_AddNumberToObject(inner, "from", (double)rq->from) ||
	    !cJSON_AddNumberToObject(inner, "to", (double)rq->to))
		goto out;
	ret = print_into(root, buf, cap);
out:
	cJSON_Delete(root);
	return ret;
}

static enum telemetry_reject parse_resend(const cJSON *root,
    struct telemetry_resend *out, struct telemetry_error *err)
{
	const cJSON *rs;
	enum telemetry_reject r;

	if ((r = member(root, "resend", &rs, err, "resend")) != TELEMETRY_OK)
		return r;
	if (!cJSON_IsObject(rs))
		return fail(err, TELEMETRY_E_TYPE, "resend");
	if ((r = get_uint(rs, "boot_id", 1, &out->boot_id, err,
	    "resend.boot_id")) != TELEMETRY_OK)
		return r;
	if ((r = get_uint(rs, "from", 1, &out->from, err, "resend.from")) !=
	    TELEMETRY_OK)
		return r;
	if ((r = get_uint(rs, "to", 1, &out->to, err, "resend.to")) !=
	    TELEMETRY_OK)
		return r;
	if (out->from > out->to)
		return fail(err, TELEMETRY_E_RANGE, "resend.to");
	return fail(err, TELEMETRY_OK, "");
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
