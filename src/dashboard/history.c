/* /api/history and /api/history.csv: a node's readings over a time
 * range from the store, raw when there are at most
 * DASH_SERIES_MAX_POINTS of them, else aggregated in SQL by time bucket
 * (min, avg, max per field), so a series never exceeds that many points.
 * Also the fleet's seeding at start: the latest row per node. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "cli/buf.h"
#include "dashboard/internal.h"

enum { NFIELDS = 3 };
static const char field_names[NFIELDS] = { 'p', 't', 'v' };

/* One point: raw (min = avg = max) or a bucket. */
struct point {
	int64_t ts;
	double val[NFIELDS][3];	/* [field][min, avg, max], NAN: none */
	int status;			/* raw rows only */
};

struct series {
	struct point *pts;
	size_t n;
	int64_t step_ms;		/* 0: raw */
};

static double column(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN :
	    sqlite3_column_double(st, i);
}

int dash_history_seed(sqlite3 *db, struct fleet *fleet)
{
	/* CROSS JOIN keeps nodes the outer loop: a seek per node into the
	 * readings' primary key, never a scan of the readings. */
	static const char sql[] = "SELECT n.name, r.ts, r.received, r.p, "
	    "r.t, r.v, r.status FROM nodes n CROSS JOIN readings r ON "
	    "r.node = n.id AND r.ts = (SELECT max(ts) FROM readings WHERE "
	    "node = n.id)";
	struct telemetry_reading rd;
	sqlite3_stmt *st;
	const char *name;
	int rc;

	if (!dash_store_has_table(db, "readings"))
		return 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(st, 0);
		if (name == NULL || !telemetry_node_id_valid(name))
			continue;
		memset(&rd, 0, sizeof(rd));
		strcpy(rd.node_id, name);
		rd.timestamp_ms = sqlite3_column_int64(st, 1);
		rd.p = column(st, 3);
		rd.t = column(st, 4);
		rd.v = column(st, 5);
		rd.status = sqlite3_column_int(st, 6);
		fleet_update(fleet, &rd, sqlite3_column_int64(st, 2), false);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static int node_id(sqlite3 *db, const char *name, int64_t *id)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT id FROM nodes WHERE name = ?1",
	    -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

/* Raw rows, at most DASH_SERIES_MAX_POINTS + 1 (one more: too many). */
static int read_raw(sqlite3 *db, int64_t node, const struct dash_history_query
    *q, struct series *s)
{
	sqlite3_stmt *st;
	struct point *p;
	int rc, f;

	if (sqlite3_prepare_v2(db, "SELECT ts, p, t, v, status FROM readings "
	    "WHERE node = ?1 AND ts BETWEEN ?2 AND ?3 ORDER BY ts, id "
	    "LIMIT ?4", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, node);
	sqlite3_bind_int64(st, 2, q->from_ms);
	sqlite3_bind_int64(st, 3, q->to_ms);
	sqlite3_bind_int(st, 4, DASH_SERIES_MAX_POINTS + 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		p = &s->pts[s->n++];
		p->ts = sqlite3_column_int64(st, 0);
		for (f = 0; f < NFIELDS; f++)
			p->val[f][0] = p->val[f][1] = p->val[f][2] =
			    column(st, 1 + f);
		p->status = sqlite3_column_int(st, 4);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* Buckets of step_ms from q->from_ms: (to - from + 1) / step_ms rounded
 * up is at most DASH_SERIES_MAX_POINTS. */
static int read_buckets(sqlite3 *db, int64_t node,
    const struct dash_history_query *q, struct series *s)
{
	int64_t span = q->to_ms - q->from_ms + 1;
	sqlite3_stmt *st;
	struct point *p;
	int rc, f, k;

	s->n = 0;
	s->step_ms = (span + DASH_SERIES_MAX_POINTS - 1) /
	    DASH_SERIES_MAX_POINTS;
	if (sqlite3_prepare_v2(db, "SELECT (ts - ?2) / ?4 AS b, "
	    "min(p), avg(p), max(p), min(t), avg(t), max(t), "
	    "min(v), avg(v), max(v) FROM readings "
	    "WHERE node = ?1 AND ts BETWEEN ?2 AND ?3 GROUP BY b ORDER BY b",
	    -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, node);
	sqlite3_bind_int64(st, 2, q->from_ms);
	sqlite3_bind_int64(st, 3, q->to_ms);
	sqlite3_bind_int64(st, 4, s->step_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    s->n < DASH_SERIES_MAX_POINTS) {
		p = &s->pts[s->n++];
		p->ts = q->from_ms + sqlite3_column_int64(st, 0) * s->step_ms;
		for (f = 0; f < NFIELDS; f++)
			for (k = 0; k < 3; k++)
				p->val[f][k] = column(st, 1 + f * 3 + k);
		p->status = 0;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -EIO;
}

/* The series under store_lock, the reply built after.  0, -ENOENT (no
 * such node), -EAGAIN (no store: err), -EIO, -ENOMEM. */
static int read_series(struct dash_data *d, const struct dash_history_query *q,
    struct series *s, char err[static DASH_ERR_MAX])
{
	int64_t node;
	sqlite3 *db;
	int ret;

	s->pts = calloc(DASH_SERIES_MAX_POINTS + 1, sizeof(*s->pts));
	if (s->pts == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&d->store_lock);
	if ((db = dash_store(d, err)) == NULL) {
		ret = -EAGAIN;
		goto out;
	}
	if ((ret = node_id(db, q->node, &node)) < 0)
		goto out;
	ret = read_raw(db, node, q, s);
	if (ret == 0 && s->n > DASH_SERIES_MAX_POINTS)
		ret = read_buckets(db, node, q, s);
out:
	if (ret == -EIO) {
		snprintf(err, DASH_ERR_MAX, "store: %s", sqlite3_errmsg(db));
		dash_store_reset(d);
	}
	pthread_mutex_unlock(&d->store_lock);
	return ret;
}

static cJSON *series_json(const struct series *s, int f)
{
	cJSON *arr = cJSON_CreateArray(), *pt;
	const struct point *p;
	size_t i;
	int k;

	for (i = 0; arr && i < s->n; i++) {
		p = &s->pts[i];
		if (isnan(p->val[f][0]))
			continue;
		if ((pt = cJSON_CreateArray()) == NULL ||
		    !cJSON_AddItemToArray(arr, pt)) {
			cJSON_Delete(pt);
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddItemToArray(pt, cJSON_CreateNumber((double)p->ts));
		for (k = 0; k < 3; k++)
			cJSON_AddItemToArray(pt,
			    cJSON_CreateNumber(p->val[f][k]));
	}
	return arr;
}

static int reply_json(const struct dash_history_query *q,
    const struct series *s, struct dash_reply *r)
{
	cJSON *o = cJSON_CreateObject(), *ser;
	char name[2] = "";
	int f;

	cJSON_AddStringToObject(o, "node", q->node);
	cJSON_AddNumberToObject(o, "from", (double)q->from_ms);
	cJSON_AddNumberToObject(o, "to", (double)q->to_ms);
	cJSON_AddNumberToObject(o, "step_ms", (double)s->step_ms);
	ser = cJSON_AddObjectToObject(o, "series");
	for (f = 0; ser && f < NFIELDS; f++) {
		if (!(q->fields & (1u << f)))
			continue;
		name[0] = field_names[f];
		if (!cJSON_AddItemToObject(ser, name, series_json(s, f))) {
			cJSON_Delete(o);
			return dash_reply_json(r, NULL);
		}
	}
	return dash_reply_json(r, ser ? o : (cJSON_Delete(o), NULL));
}

/* A number for CSV: empty when absent. */
static void csv_num(struct wg_buf *b, double v)
{
	if (isnan(v))
		wg_buf_printf(b, ",");
	else
		wg_buf_printf(b, ",%.15g", v);
}

/* The node's name as a CSV cell: a spreadsheet takes a cell beginning
 * with - (a node id may) for a formula, so such a name is quoted with a
 * leading apostrophe. */
static void csv_node(struct wg_buf *b, const char *node)
{
	wg_buf_printf(b, node[0] == '-' ? ",\"'%s\"" : ",%s", node);
}

static int reply_csv(const struct dash_history_query *q,
    const struct series *s, struct dash_reply *r)
{
	struct wg_buf b = { 0 };
	const struct point *p;
	size_t i;
	int f;

	if (s->step_ms == 0) {
		wg_buf_printf(&b, "ts,node,p,t,v,status\n");
		for (i = 0; i < s->n; i++) {
			p = &s->pts[i];
			wg_buf_printf(&b, "%" PRId64, p->ts);
			csv_node(&b, q->node);
			for (f = 0; f < NFIELDS; f++)
				csv_num(&b, (q->fields & (1u << f)) ?
				    p->val[f][0] : NAN);
			wg_buf_printf(&b, ",%d\n", p->status);
		}
	} else {
		wg_buf_printf(&b, "ts,node,field,min,avg,max\n");
		for (i = 0; i < s->n; i++)
			for (f = 0; f < NFIELDS; f++) {
				p = &s->pts[i];
				if (!(q->fields & (1u << f)) ||
				    isnan(p->val[f][0]))
					continue;
				wg_buf_printf(&b, "%" PRId64, p->ts);
				csv_node(&b, q->node);
				wg_buf_printf(&b, ",%c", field_names[f]);
				csv_num(&b, p->val[f][0]);
				csv_num(&b, p->val[f][1]);
				csv_num(&b, p->val[f][2]);
				wg_buf_printf(&b, "\n");
			}
	}
	if (b.failed) {
		wg_buf_free(&b);
		return dash_reply_take(r, 500, "text/csv", NULL, 0);
	}
	return dash_reply_take(r, 200, "text/csv; charset=utf-8", b.s, b.len);
}

int dash_api_history(struct dash_data *d, const struct dash_history_query *q,
    bool csv, struct dash_reply *r)
{
	struct series s = { 0 };
	char err[DASH_ERR_MAX], msg[DASH_ERR_MAX + 80];
	int ret;

	memset(r, 0, sizeof(*r));
	ret = read_series(d, q, &s, err);
	if (ret == -ENOENT) {
		ret = dash_reply_error(r, 404, "no readings of this node in "
		    "the store");
	} else if (ret == -ENOMEM) {
		ret = dash_reply_take(r, 500, "application/json", NULL, 0);
	} else if (ret < 0) {
		snprintf(msg, sizeof(msg), "history not available: %s", err);
		ret = dash_reply_error(r, 503, msg);
	} else {
		ret = csv ? reply_csv(q, &s, r) : reply_json(q, &s, r);
	}
	free(s.pts);
	return ret;
}
