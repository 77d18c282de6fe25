/* The query parameters of the data API, from strings the HTTP layer has
 * split and URL-decoded (see data.h).  Pure: no I/O, no clock. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/data.h"
#include "query/args.h"

enum {
	EXCERPT_MAX = 40,	/* of a bad value, in a message */
	/* Longest range of one history question: 400 days. */
	RANGE_MAX_DAYS = 400,
};
#define DAY_MS INT64_C(86400000)

/* A bad value, shown in a message: at most EXCERPT_MAX bytes, anything
 * but printable ASCII as '?' (the message goes back to a browser). */
static void excerpt(const char *s, char out[static EXCERPT_MAX + 4])
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < EXCERPT_MAX; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' ? s[i] :
		    '?';
	strcpy(out + i, s[i] != '\0' ? "..." : "");
}

__attribute__((format(printf, 2, 3)))
static int fail(char err[static DASH_ERR_MAX], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, DASH_ERR_MAX, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int dash_parse_time(const char *s, int64_t now_ms, int64_t *out,
    char err[static DASH_ERR_MAX])
{
	char ex[EXCERPT_MAX + 4], buf[TELEMETRY_TIME_STRING_MAX + 1];
	size_t len = strlen(s), i;
	int64_t ms;

	excerpt(s, ex);
	if (all_digits(s)) {
		if (len > 15 || (ms = strtoll(s, NULL, 10)) >
		    TELEMETRY_TIME_MS_MAX)
			return fail(err, "time \"%s\" out of range", ex);
		*out = ms;
		return 0;
	}
	if (len > TELEMETRY_TIME_STRING_MAX)
		return fail(err, "time \"%s\" too long", ex);
	/* A '+' of an unencoded query string arrives as a space: in the
	 * time of day (after "YYYY-MM-DDThh") it can only be the zone's
	 * sign. */
	memcpy(buf, s, len + 1);
	for (i = 13; i < len; i++)
		if (buf[i] == ' ')
			buf[i] = '+';
	/* now, -N UNIT and RFC 3339 as wgu-query reads them. */
	switch (query_time_parse(buf, now_ms, &ms)) {
	case 0:
		*out = ms;
		return 0;
	case -ERANGE:
		return fail(err, "time \"%s\" out of range", ex);
	default:
		return fail(err, "bad time \"%s\": give ms since the epoch, "
		    "RFC 3339 (2026-12-07T12:00:00Z), now, or -N with ms, s, "
		    "m, h or d (-15m)", ex);
	}
}

int dash_parse_node(const char *s, char node[static TELEMETRY_NODE_ID_MAX + 1],
    char err[static DASH_ERR_MAX])
{
	char ex[EXCERPT_MAX + 4];

	if (!telemetry_node_id_valid(s)) {
		excerpt(s, ex);
		return fail(err, "bad node \"%s\": 1 to %d of A-Z a-z 0-9 . _ "
		    "-",
		    ex, TELEMETRY_NODE_ID_MAX);
	}
	strcpy(node, s);
	return 0;
}

int dash_parse_fields(const char *s, unsigned *mask,
    char err[static DASH_ERR_MAX])
{
	char ex[EXCERPT_MAX + 4];
	unsigned m = 0, bit;
	const char *p = s;

	excerpt(s, ex);
	for (;;) {
		if (p[0] == 'p' || p[0] == 't' || p[0] == 'v')
			bit = p[0] == 'p' ? DASH_FIELD_P : p[0] == 't' ?
			    DASH_FIELD_T : DASH_FIELD_V;
		else
			bit = 0;
		if (bit == 0 || (p[1] != ',' && p[1] != '\0'))
			return fail(err, "bad fields \"%s\": a comma-separated "
			    "list of p, t, v", ex);
		if (m & bit)
			return fail(err, "bad fields \"%s\": %c twice", ex,
			    p[0]);
		m |= bit;
		if (p[1] == '\0')
			break;
		p += 2;
	}
	*mask = m;
	return 0;
}

int dash_parse_alarm_id(const char *s, int64_t *id,
    char err[static DASH_ERR_MAX])
{
	char ex[EXCERPT_MAX + 4];
	long long v;

	excerpt(s, ex);
	if (!all_digits(s) || strlen(s) > 16 ||
	    (v = strtoll(s, NULL, 10)) < 1 || v > (INT64_C(1) << 53))
		return fail(err, "bad alarm id \"%s\"", ex);
	*id = v;
	return 0;
}

/* Finds each known key at most once: vals[i] for keys[i], NULL when
 * absent. */
static int pick(const struct dash_arg *args, size_t n,
    const char *const *keys, const char **vals, size_t nkeys,
    char err[static DASH_ERR_MAX])
{
	char ex[EXCERPT_MAX + 4];
	size_t i, k;

	for (k = 0; k < nkeys; k++)
		vals[k] = NULL;
	for (i = 0; i < n; i++) {
		for (k = 0; k < nkeys; k++)
			if (strcmp(args[i].key, keys[k]) == 0)
				break;
		excerpt(args[i].key, ex);
		if (k == nkeys)
			return fail(err, "unknown parameter \"%s\"", ex);
		if (vals[k] != NULL)
			return fail(err, "parameter \"%s\" given twice", ex);
		if (args[i].value == NULL)
			return fail(err, "parameter \"%s\" without a value",
			    ex);
		vals[k] = args[i].value;
	}
	return 0;
}

/* from and to (defaults given), from <= to. */
static int range(const char *from, const char *to, const char *from_default,
    int64_t now_ms, int64_t *from_ms, int64_t *to_ms,
    char err[static DASH_ERR_MAX])
{
	if (dash_parse_time(from ? from : from_default, now_ms, from_ms,
	    err) < 0 || dash_parse_time(to ? to : "now", now_ms, to_ms,
	    err) < 0)
		return -EINVAL;
	if (*from_ms > *to_ms)
		return fail(err, "from is after to");
	return 0;
}

int dash_parse_history_args(const struct dash_arg *args, size_t n,
    int64_t now_ms, struct dash_history_query *q,
    char err[static DASH_ERR_MAX])
{
	static const char *const keys[] = { "node", "from", "to", "fields" };
	const char *v[4];

	memset(q, 0, sizeof(*q));
	if (pick(args, n, keys, v, 4, err) < 0)
		return -EINVAL;
	if (v[0] == NULL)
		return fail(err, "parameter \"node\" missing");
	if (dash_parse_node(v[0], q->node, err) < 0 ||
	    range(v[1], v[2], "-1h", now_ms, &q->from_ms, &q->to_ms,
	    err) < 0)
		return -EINVAL;
	if (q->to_ms - q->from_ms > RANGE_MAX_DAYS * DAY_MS)
		return fail(err, "range longer than %d days", RANGE_MAX_DAYS);
	q->fields = DASH_FIELDS_ALL;
	if (v[3] != NULL && dash_parse_fields(v[3], &q->fields, err) < 0)
		return -EINVAL;
	return 0;
}

int dash_parse_alarms_args(const struct dash_arg *args, size_t n,
    int64_t now_ms, struct dash_alarms_query *q,
    char err[static DASH_ERR_MAX])
{
	static const char *const keys[] = { "state", "from", "to" };
	char ex[EXCERPT_MAX + 4];
	const char *v[3];

	memset(q, 0, sizeof(*q));
	if (pick(args, n, keys, v, 3, err) < 0)
		return -EINVAL;
	q->active_only = true;
	if (v[0] != NULL) {
		if (strcmp(v[0], "all") == 0) {
			q->active_only = false;
		} else if (strcmp(v[0], "active") != 0) {
			excerpt(v[0], ex);
			return fail(err, "bad state \"%s\": active or all", ex);
		}
	}
	if ((v[1] == NULL) != (v[2] == NULL))
		return fail(err, "give both from and to, or neither");
	if (v[1] != NULL) {
		if (range(v[1], v[2], NULL, now_ms, &q->from_ms, &q->to_ms,
		    err) < 0)
			return -EINVAL;
		q->has_range = true;
	}
	return 0;
}
