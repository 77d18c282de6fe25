/* Reading the production log back: see logline.h. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "hub/histlog.h"
#include "hub/logline.h"

/* The reading of a parsed line (cJSON's tree or fast_tree()'s). */
static int reading_of(const cJSON *rec, struct telemetry_reading *r,
    uint64_t *received_ms, int64_t *ts_ms)
{
	const struct telemetry_parse_opts opts = { .zoneless_offset_min = 0 };
	const cJSON *received, *ts;

	received = cJSON_GetObjectItemCaseSensitive(rec, "received");
	ts = cJSON_GetObjectItemCaseSensitive(rec, "ts");
	if (!cJSON_IsNumber(received) || !(received->valuedouble >= 0) ||
	    received->valuedouble > TELEMETRY_INT_MAX)
		return -EINVAL;
	if (telemetry_parse_object(cJSON_GetObjectItemCaseSensitive(rec,
	    "payload"), &opts, r, NULL) != TELEMETRY_OK)
		return -EINVAL;
	*received_ms = (uint64_t)received->valuedouble;
	*ts_ms = r->timestamp_ms;
	if (ts != NULL) {
		/* The historian's own normalisation (its zoneless offset):
		 * it wins over ours. */
		if (!cJSON_IsNumber(ts) || !(ts->valuedouble >= 0) ||
		    ts->valuedouble > (double)TELEMETRY_TIME_MS_MAX)
			return -EINVAL;
		*ts_ms = (int64_t)ts->valuedouble;
		r->timestamp_ms = *ts_ms;
	}
	return 0;
}

int logline_parse_cjson(const char *line, size_t len,
    struct telemetry_reading *r, uint64_t *received_ms, int64_t *ts_ms)
{
	cJSON *rec = cJSON_ParseWithLength(line, len);
	int ret = reading_of(rec, r, received_ms, ts_ms);

	cJSON_Delete(rec);
	return ret;
}

/* ------------------------------------------------------------------
 * The lines the historian writes itself, read without cJSON's parser
 * (its mallocs and strtod are most of a --rebuild's parsing): objects,
 * strings of printable ASCII without escapes and plain decimal numbers
 * of at most 15 digits, no whitespace, nothing after the line's object.
 * fast_tree() makes of such a line the very tree cJSON would make (the
 * same nodes, in the same order, duplicates and all), on the stack;
 * anything else it leaves to cJSON.  What the tree means (a reading or
 * not) is then decided by the same code either way: reading_of() and
 * the codec.  fuzz/fuzz_logline.c checks both ways agree. */

enum {
	FAST_LINE_MAX = 2048,	/* longer lines go to cJSON */
	FAST_NODES = 48,
	FAST_DEPTH = 3,		/* the line, its payload, the data */
	FAST_DIGITS = 15,	/* below 2^53: exact as a double */
};

struct fast_tree {
	cJSON node[FAST_NODES];
	size_t used;
	char text[FAST_LINE_MAX];	/* the strings, NUL-terminated */
	size_t textlen;
	const char *p, *end;
};

/* A string at t->p (past its '"'), copied into t->text; NULL when it
 * is not one fast_tree() takes. */
static char *fast_string(struct fast_tree *t)
{
	const char *q = t->p;
	char *out = t->text + t->textlen;
	size_t n;

	while (q < t->end && *q != '"') {
		if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e ||
		    *q == '\\')
			return NULL;
		q++;
	}
	if (q == t->end)
		return NULL;
	n = (size_t)(q - t->p);
	/* The text holds every string of a line shorter than itself. */
	memcpy(out, t->p, n);
	out[n] = '\0';
	t->textlen += n + 1;
	t->p = q + 1;
	return out;
}

/* A number: -?(0|[1-9][0-9]*)(.[0-9]+)?, at most FAST_DIGITS digits.  The
 * digits as an integer and the power of ten are both exact doubles, so
 * their quotient is the correctly rounded value, as strtod's is. */
static bool fast_number(struct fast_tree *t, double *d)
{
	static const double pow10[FAST_DIGITS + 1] = { 1e0, 1e1, 1e2, 1e3,
	    1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
	    1e15 };
	const char *q = t->p;
	bool neg = false;
	uint64_t m = 0;
	int digits = 0, frac = 0;

	if (q < t->end && *q == '-') {
		neg = true;
		q++;
	}
	if (q == t->end || *q < '0' || *q > '9')
		return false;
	if (*q == '0' && q + 1 < t->end && q[1] >= '0' && q[1] <= '9')
		return false;
	for (; q < t->end && *q >= '0' && *q <= '9'; q++, digits++)
		m = m * 10 + (uint64_t)(*q - '0');
	if (q < t->end && *q == '.') {
		q++;
		if (q == t->end || *q < '0' || *q > '9')
			return false;
		for (; q < t->end && *q >= '0' && *q <= '9'; q++, frac++)
			m = m * 10 + (uint64_t)(*q - '0');
	}
	if (digits + frac > FAST_DIGITS || (q < t->end && (*q == 'e' ||
	    *q == 'E')))
		return false;
	*d = (double)m / pow10[frac];
	if (neg)
		*d = -*d;
	t->p = q;
	return true;
}

/* The members of an object at t->p (past its '{') as the children of
 * obj.  false: not a line for fast_tree(). */
static bool fast_object(struct fast_tree *t, cJSON *obj, int depth)
{
	cJSON *last = NULL;

	obj->type = cJSON_Object;
	if (t->p < t->end && *t->p == '}') {
		t->p++;
		return true;
	}
	for (;;) {
		cJSON *it;

		if (t->used == FAST_NODES || t->p == t->end || *t->p != '"')
			return false;
		it = &t->node[t->used++];
		*it = (cJSON){ 0 };
		t->p++;
		if ((it->string = fast_string(t)) == NULL || t->p == t->end ||
		    *t->p++ != ':' || t->p == t->end)
			return false;
		if (*t->p == '"') {
			t->p++;
			it->type = cJSON_String;
			if ((it->valuestring = fast_string(t)) == NULL)
				return false;
		} else if (*t->p == '{') {
			t->p++;
			if (depth == FAST_DEPTH || !fast_object(t, it,
			    depth + 1))
				return false;
		} else {
			double d;

			if (!fast_number(t, &d))
				return false;
			it->type = cJSON_Number;
			it->valuedouble = d;
			/* cJSON's saturating copy. */
			it->valueint = d >= INT_MAX ? INT_MAX :
			    d <= (double)INT_MIN ? INT_MIN : (int)d;
		}
		/* cJSON's list: next, prev, and the head's prev the last. */
		if (last == NULL) {
			obj->child = it;
		} else {
			last->next = it;
			it->prev = last;
		}
		last = it;
		obj->child->prev = it;
		if (t->p == t->end)
			return false;
		if (*t->p == '}') {
			t->p++;
			return true;
		}
		if (*t->p++ != ',')
			return false;
	}
}

static bool fast_tree(struct fast_tree *t, const char *line, size_t len)
{
	if (len < 2 || len > FAST_LINE_MAX || line[0] != '{')
		return false;
	t->used = 1;
	t->textlen = 0;
	t->p = line + 1;
	t->end = line + len;
	t->node[0] = (cJSON){ 0 };
	return fast_object(t, &t->node[0], 1) && t->p == t->end;
}

int logline_parse(const char *line, size_t len, struct telemetry_reading *r,
    uint64_t *received_ms, int64_t *ts_ms)
{
	struct fast_tree t;

	if (fast_tree(&t, line, len))
		return reading_of(&t.node[0], r, received_ms, ts_ms);
	return logline_parse_cjson(line, len, r, received_ms, ts_ms);
}

enum { CHUNK = 1 << 20 };

/* The buffer holds bytes of the file from base on: [0, len). */
struct reader {
	char *buf;
	size_t len, cap;
	uint64_t base;
	bool skipping;		/* inside an overlong line */
};

/* Hands over the whole lines in the buffer and keeps the rest. */
static int drain(struct reader *rd, logline_fn *on_line, void *ctx)
{
	size_t pos = 0;
	int ret = 0;

	while (pos < rd->len) {
		char *nl = memchr(rd->buf + pos, '\n', rd->len - pos);
		size_t n;

		if (nl == NULL)
			break;
		n = (size_t)(nl - (rd->buf + pos));
		ret = on_line(ctx, rd->buf + pos, rd->skipping ? 0 : n,
		    rd->base + pos + n + 1);
		rd->skipping = false;
		pos += n + 1;
		if (ret != 0)
			break;
	}
	if (pos < rd->len && rd->len - pos > HISTLOG_LINE_MAX) {
		/* Overlong: its bytes go, its end still counts. */
		rd->skipping = true;
		pos = rd->len;
	}
	memmove(rd->buf, rd->buf + pos, rd->len - pos);
	rd->len -= pos;
	rd->base += pos;
	return ret;
}

int logline_scan(int fd, uint64_t offset, logline_fn *on_line, void *ctx)
{
	struct reader rd = { .cap = HISTLOG_LINE_MAX + CHUNK + 1,
	    .base = offset };
	int ret = 0;

	rd.buf = malloc(rd.cap);
	if (rd.buf == NULL)
		return -ENOMEM;
	for (;;) {
		ssize_t n = pread(fd, rd.buf + rd.len, rd.cap - rd.len,
		    (off_t)(rd.base + rd.len));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		rd.len += (size_t)n;
		if ((ret = drain(&rd, on_line, ctx)) != 0)
			break;
	}
	free(rd.buf);
	return ret;
}
