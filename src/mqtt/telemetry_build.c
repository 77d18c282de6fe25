/* The telemetry payloads a node builds (telemetry.h): readings, the
 * simulator's and any fields', each checked by parsing it back; the resend
 * request the historian builds; the content digest of a reading. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mqtt/telemetry.h"

#define INT_LIMIT TELEMETRY_INT_MAX

/* FNV-1a, 64 bits. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

uint64_t telemetry_content_digest(const struct telemetry_reading *r)
{
	const struct telemetry_field *order[TELEMETRY_FIELDS_MAX], *f;
	uint64_t h = UINT64_C(0xcbf29ce484222325), bits;
	size_t i, j, n = r->nfields < TELEMETRY_FIELDS_MAX ? r->nfields :
	    TELEMETRY_FIELDS_MAX;
	unsigned char status = (unsigned char)r->status;
	double v;

	/* Sorted by name (insertion sort: 16 at most). */
	for (i = 0; i < n; i++) {
		f = &r->fields[i];
		for (j = i; j > 0 && strcmp(order[j - 1]->name, f->name) > 0; j--)
			order[j] = order[j - 1];
		order[j] = f;
	}
	for (i = 0; i < n; i++) {
		/* Names end with their NUL, so "ab",1 and "a","b"... differ;
		 * -0 and 0 are one value. */
		h = fnv(h, order[i]->name, strlen(order[i]->name) + 1);
		v = order[i]->value == 0 ? 0.0 : order[i]->value;
		memcpy(&bits, &v, sizeof(bits));
		h = fnv(h, &bits, sizeof(bits));
	}
	return fnv(h, &status, 1);
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

/* What every built reading needs: timestamp, node_id, boot_id, seq. */
static bool header_valid(const struct telemetry_reading *r)
{
	/* An integer below 1e11 would read back as seconds. */
	return (double)r->timestamp_ms >= TELEMETRY_SECONDS_BELOW &&
	    r->timestamp_ms <= TELEMETRY_TIME_MS_MAX &&
	    telemetry_node_id_valid(r->node_id) &&
	    r->boot_id >= 1 && (double)r->boot_id <= INT_LIMIT &&
	    r->seq >= 1 && (double)r->seq <= INT_LIMIT;
}

/* The header members of a built reading; 0 or -ENOMEM. */
static int add_header(cJSON *root, const struct telemetry_reading *r)
{
	if (!cJSON_AddNumberToObject(root, "timestamp",
	    (double)r->timestamp_ms) ||
	    !cJSON_AddStringToObject(root, "node_id", r->node_id) ||
	    !cJSON_AddNumberToObject(root, "boot_id", (double)r->boot_id) ||
	    !cJSON_AddNumberToObject(root, "seq", (double)r->seq))
		return -ENOMEM;
	return 0;
}

static bool reading_valid(const struct telemetry_reading *r)
{
	return header_valid(r) &&
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
	if (add_header(root, r) < 0 ||
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
	if (ret >= 0 && (telemetry_parse(buf, (size_t)ret, &back, NULL) !=
	    TELEMETRY_OK || !back.has_seq || isnan(back.p) ||
	    isnan(back.t) || isnan(back.v) ||
	    back.status != (int)telemetry_status(back.p, back.t, back.v)))
		ret = -EINVAL;
out:
	cJSON_Delete(root);
	return ret;
}

static bool fields_valid(const struct telemetry_reading *r)
{
	size_t i, j;

	if (r->nfields < 1 || r->nfields > TELEMETRY_FIELDS_MAX ||
	    r->status < TELEMETRY_NORMAL || r->status > TELEMETRY_CRITICAL)
		return false;
	for (i = 0; i < r->nfields; i++) {
		if (!telemetry_field_name_valid(r->fields[i].name) ||
		    !isfinite(r->fields[i].value))
			return false;
		for (j = 0; j < i; j++)
			if (strcmp(r->fields[i].name, r->fields[j].name) == 0)
				return false;
	}
	return true;
}

int telemetry_build_fields(const struct telemetry_reading *r, char *buf,
    size_t cap)
{
	struct telemetry_reading back;
	cJSON *root, *data;
	size_t i;
	int ret = -ENOMEM;

	if (!header_valid(r) || !fields_valid(r))
		return -EINVAL;
	root = cJSON_CreateObject();
	if (root == NULL)
		return -ENOMEM;
	if (add_header(root, r) < 0 ||
	    (data = cJSON_AddObjectToObject(root, "data")) == NULL)
		goto out;
	for (i = 0; i < r->nfields; i++)
		if (!cJSON_AddNumberToObject(data, r->fields[i].name,
		    r->fields[i].value))
			goto out;
	if (!cJSON_AddNumberToObject(root, "status", r->status))
		goto out;
	ret = print_into(root, buf, cap);
	/* A field named p, t or v must also pass the historian's
	 * plausibility range: never emit what it would reject. */
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
