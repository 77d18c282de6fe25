/* The store's alarms, figures and thresholds (see store.h), SQLite only:
 * on another backend every call is -ENOTSUP.
 * Rare writes: statements are prepared when used. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "hub/store.h"
#include "hub/store_internal.h"

static int prepare(struct store *s, const char *sql, sqlite3_stmt **q)
{
	sqlite3 *db = store_sqlite(s);
	int rc;

	if (db == NULL)
		return -ENOTSUP;	/* not the SQLite store */
	rc = sqlite3_prepare_v2(db, sql, -1, q, NULL);
	return rc == SQLITE_OK ? 0 : store_sql_error(s, rc);
}

/* Steps q, which returns no row, and finalizes it. */
static int done(struct store *s, sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);

	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : store_sql_error(s, rc);
}

static void bind_text_or_null(sqlite3_stmt *q, int col, const char *v)
{
	if (v == NULL || *v == '\0')
		sqlite3_bind_null(q, col);
	else
		sqlite3_bind_text(q, col, v, -1, SQLITE_TRANSIENT);
}

static void bind_real_or_null(sqlite3_stmt *q, int col, double v)
{
	if (isnan(v))
		sqlite3_bind_null(q, col);
	else
		sqlite3_bind_double(q, col, v);
}

/* severity, peak, detail, end at columns 1..4. */
static void bind_state(sqlite3_stmt *q, const struct alarm *a)
{
	sqlite3_bind_int(q, 1, a->severity);
	bind_real_or_null(q, 2, a->peak);
	bind_text_or_null(q, 3, a->detail);
	if (a->end > 0)
		sqlite3_bind_int64(q, 4, a->end);
	else
		sqlite3_bind_null(q, 4);
}

/* Inserts a with its id when it has one (--rebuild), else a new one. */
static int insert(struct store *s, struct alarm *a)
{
	sqlite3_stmt *q;
	int ret;

	if ((ret = store_begin(s)) < 0 || (ret = prepare(s, "INSERT INTO "
	    "alarms(severity, peak, detail, end, id, node, kind, field, start) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", &q)) < 0)
		return ret;
	bind_state(q, a);
	if (a->id > 0)
		sqlite3_bind_int64(q, 5, a->id);
	else
		sqlite3_bind_null(q, 5);
	sqlite3_bind_text(q, 6, a->node, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 7, alarm_kind_name(a->kind), -1, SQLITE_STATIC);
	bind_text_or_null(q, 8, a->field);
	sqlite3_bind_int64(q, 9, a->start);
	if ((ret = done(s, q)) == 0 && a->id <= 0)
		a->id = sqlite3_last_insert_rowid(store_sqlite(s));
	return ret;
}

int store_alarm_add(struct store *s, struct alarm *a)
{
	a->id = 0;
	return insert(s, a);
}

int store_alarm_update(struct store *s, const struct alarm *a)
{
	sqlite3_stmt *q;
	int ret;

	if ((ret = store_begin(s)) < 0 || (ret = prepare(s, "UPDATE alarms "
	    "SET severity = ?1, peak = ?2, detail = ?3, end = ?4 "
	    "WHERE id = ?5", &q)) < 0)
		return ret;
	bind_state(q, a);
	sqlite3_bind_int64(q, 5, a->id);
	return done(s, q);
}

static void text_column(sqlite3_stmt *q, int col, char *out, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(q, col);

	snprintf(out, cap, "%s", t ? (const char *)t : "");
}

/* A row of "id, node, kind, field, severity, start, end, peak, detail"
 * into *a; false for an unknown kind. */
static bool row(sqlite3_stmt *q, struct alarm *a)
{
	int kind = alarm_kind_parse((const char *)sqlite3_column_text(q, 2) ?
	    (const char *)sqlite3_column_text(q, 2) : "");

	if (kind < 0)
		return false;
	*a = (struct alarm){ .id = sqlite3_column_int64(q, 0),
	    .kind = (enum alarm_kind)kind,
	    .severity = sqlite3_column_int(q, 4),
	    .start = sqlite3_column_int64(q, 5),
	    .end = sqlite3_column_int64(q, 6),
	    .peak = sqlite3_column_type(q, 7) == SQLITE_NULL ? NAN :
		sqlite3_column_double(q, 7) };
	text_column(q, 1, a->node, sizeof(a->node));
	text_column(q, 3, a->field, sizeof(a->field));
	text_column(q, 8, a->detail, sizeof(a->detail));
	return true;
}

#define ROW_COLUMNS "id, node, kind, field, severity, start, end, peak, " \
	"detail"

int store_alarms_open(struct store *s,
    int (*fn)(void *ctx, const struct alarm *a), void *ctx)
{
	sqlite3_stmt *q;
	struct alarm a;
	int rc, ret;

	if ((ret = prepare(s, "SELECT " ROW_COLUMNS " FROM alarms WHERE end "
	    "IS NULL ORDER BY id", &q)) < 0)
		return ret;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if (row(q, &a) && (ret = fn(ctx, &a)) < 0)
			break;
	if (ret == 0 && rc != SQLITE_DONE)
		ret = store_sql_error(s, rc);
	sqlite3_finalize(q);
	return ret;
}

int store_nodes_last(struct store *s,
    int (*fn)(void *ctx, const char *node, int64_t received_ms), void *ctx)
{
	sqlite3_stmt *q;
	int rc, ret;

	/* The (node, ts) key finds each node's latest row at once. */
	if ((ret = prepare(s, "SELECT name, (SELECT received FROM readings "
	    "WHERE node = nodes.id ORDER BY ts DESC LIMIT 1) FROM nodes",
	    &q)) < 0)
		return ret;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(q, 0);

		if (name && sqlite3_column_type(q, 1) != SQLITE_NULL &&
		    (ret = fn(ctx, (const char *)name,
		    sqlite3_column_int64(q, 1))) < 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = store_sql_error(s, rc);
	sqlite3_finalize(q);
	return ret;
}

int store_thresholds_set(struct store *s, const struct alarm_threshold *t,
    size_t n)
{
	sqlite3_stmt *q;
	size_t i;
	int ret;

	if ((ret = store_begin(s)) < 0 ||
	    (ret = prepare(s, "DELETE FROM thresholds", &q)) < 0 ||
	    (ret = done(s, q)) < 0)
		return ret;
	for (i = 0; i < n; i++) {
		if ((ret = prepare(s, "INSERT INTO thresholds(field, warning, "
		    "critical, direction) VALUES (?1, ?2, ?3, ?4)", &q)) < 0)
			return ret;
		sqlite3_bind_text(q, 1, t[i].field, -1, SQLITE_TRANSIENT);
		sqlite3_bind_double(q, 2, t[i].warning);
		sqlite3_bind_double(q, 3, t[i].critical);
		sqlite3_bind_text(q, 4, t[i].below ? "below" : "above", -1,
		    SQLITE_STATIC);
		if ((ret = done(s, q)) < 0)
			return ret;
	}
	return 0;
}

int store_stat_set(struct store *s, const char *name, double value,
    int64_t now_ms)
{
	sqlite3_stmt *q;
	int ret;

	if ((ret = store_begin(s)) < 0 || (ret = prepare(s, "INSERT OR "
	    "REPLACE INTO historian_stats(name, value, updated) "
	    "VALUES (?1, ?2, ?3)", &q)) < 0)
		return ret;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_double(q, 2, isfinite(value) ? value : 0.0);
	sqlite3_bind_int64(q, 3, now_ms);
	return done(s, q);
}

int store_alarms_save(const char *path, struct alarm **rows, size_t *n)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	struct alarm *v = NULL, *p;
	size_t cap = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_CANTOPEN) {
		sqlite3_close(db);
		return 0;	/* no store yet */
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "SELECT " ROW_COLUMNS " FROM alarms "
		    "ORDER BY id", -1, &q, NULL);
	if (rc == SQLITE_ERROR && q == NULL &&
	    strstr(sqlite3_errmsg(db), "no such table")) {
		sqlite3_close(db);
		return 0;	/* version 1: no alarms kept */
	}
	while (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((p = realloc(v, cap * sizeof(*v))) == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			v = p;
		}
		if (row(q, &v[*n]))
			(*n)++;
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE) {
		/* An unreadable store is what --rebuild is for: its
		 * alarms are lost, said so. */
		fprintf(stderr, "wgu-historian: %s: its alarms cannot be read "
		    "(%s): the rebuilt store starts without them\n", path,
		    db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		free(v);
		*n = 0;
		sqlite3_finalize(q);
		sqlite3_close(db);
		return 0;
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	*rows = v;
	return 0;
}

int store_alarms_restore(struct store *s, const struct alarm *rows,
    size_t n)
{
	struct alarm a;
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		a = rows[i];
		if ((ret = insert(s, &a)) < 0)
			return ret;
	}
	return n ? store_commit(s) : 0;
}
