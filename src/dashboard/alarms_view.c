/* /api/alarms, the acks and /api/thresholds.  Alarms are the historian's
 * (its store's alarms table, or its P/alarms messages); who acknowledged
 * which is the dashboard's own, in the acks database, joined here by
 * alarm id.  An older store without the alarms or thresholds table is
 * answered as if they were empty. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "dashboard/internal.h"

enum {
	KIND_MAX = 32,
	DETAIL_MAX = 512,
	/* Integers exactly representable in a double (JSON number). */
};
#define ID_MAX 9007199254740992.0

/* One alarm, from a store row or a message. */
struct alarm {
	int64_t id;
	char node[TELEMETRY_NODE_ID_MAX + 1];
	char kind[KIND_MAX + 1];
	char field[TELEMETRY_FIELD_NAME_MAX + 1];	/* "" none */
	int severity;
	int64_t start, end;				/* end 0: active */
	double peak;					/* NAN none */
	char detail[DETAIL_MAX + 1];
	bool has_detail;
	const char *event;				/* messages only */
};

int dash_acks_init(sqlite3 *acks, char err[static DASH_ERR_MAX])
{
	char *msg = NULL;

	if (sqlite3_exec(acks, "PRAGMA journal_mode = WAL;"
	    "CREATE TABLE IF NOT EXISTS acks (alarm_id INTEGER PRIMARY KEY, "
	    "user TEXT NOT NULL, at INTEGER NOT NULL)", NULL, NULL,
	    &msg) != SQLITE_OK) {
		snprintf(err, DASH_ERR_MAX, "acks: %s", msg ? msg :
		    sqlite3_errmsg(acks));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

/* s into out, cut to cap - 1 bytes at a character's start (UTF-8), so
 * what a browser gets stays valid text. */
static void copy_text(char *out, size_t cap, const unsigned char *s)
{
	size_t n = s ? strlen((const char *)s) : 0;

	if (n >= cap) {
		n = cap - 1;
		while (n > 0 && (s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, s ? (const char *)s : "", n);
	out[n] = '\0';
}

static void alarm_from_row(sqlite3_stmt *st, struct alarm *a)
{
	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(st, 0);
	copy_text(a->node, sizeof(a->node), sqlite3_column_text(st, 1));
	copy_text(a->kind, sizeof(a->kind), sqlite3_column_text(st, 2));
	copy_text(a->field, sizeof(a->field), sqlite3_column_text(st, 3));
	a->severity = sqlite3_column_int(st, 4);
	a->start = sqlite3_column_int64(st, 5);
	a->end = sqlite3_column_type(st, 6) == SQLITE_NULL ? 0 :
	    sqlite3_column_int64(st, 6);
	a->peak = sqlite3_column_type(st, 7) == SQLITE_NULL ? NAN :
	    sqlite3_column_double(st, 7);
	a->has_detail = sqlite3_column_type(st, 8) != SQLITE_NULL;
	copy_text(a->detail, sizeof(a->detail), sqlite3_column_text(st, 8));
}

/* A JSON integer member in range, or absent/null when optional. */
static bool get_int(const cJSON *o, const char *name, double min, double max,
    bool optional, int64_t *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	if (it == NULL || cJSON_IsNull(it)) {
		*out = 0;
		return optional;
	}
	if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) ||
	    it->valuedouble < min || it->valuedouble > max)
		return false;
	*out = (int64_t)it->valuedouble;
	return true;
}

/* A JSON string member of 1..cap-1 bytes (0.. when optional), or absent
 * or null when optional. */
static bool get_str(const cJSON *o, const char *name, char *out, size_t cap,
    bool optional)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	out[0] = '\0';
	if (it == NULL || cJSON_IsNull(it))
		return optional;
	if (!cJSON_IsString(it) || strlen(it->valuestring) >= cap ||
	    (!optional && it->valuestring[0] == '\0'))
		return false;
	strcpy(out, it->valuestring);
	return true;
}

/* The historian's message as an alarm: the members this side shows,
 * checked; others ignored. */
static bool alarm_from_json(const cJSON *o, struct alarm *a)
{
	static const char *const events[] = { "raise", "update", "clear" };
	const cJSON *it;
	int64_t sev;
	size_t i;

	memset(a, 0, sizeof(*a));
	a->peak = NAN;
	if (!cJSON_IsObject(o) ||
	    !get_int(o, "id", 1, ID_MAX, false, &a->id) ||
	    !get_str(o, "node", a->node, sizeof(a->node), false) ||
	    !get_str(o, "kind", a->kind, sizeof(a->kind), false) ||
	    !get_str(o, "field", a->field, sizeof(a->field), true) ||
	    !get_int(o, "severity", 0, 9, false, &sev) ||
	    !get_int(o, "start", 0, TELEMETRY_TIME_MS_MAX, false, &a->start) ||
	    !get_int(o, "end", 0, TELEMETRY_TIME_MS_MAX, true, &a->end))
		return false;
	a->severity = (int)sev;
	it = cJSON_GetObjectItemCaseSensitive(o, "peak");
	if (cJSON_IsNumber(it))
		a->peak = it->valuedouble;
	else if (it != NULL && !cJSON_IsNull(it))
		return false;
	it = cJSON_GetObjectItemCaseSensitive(o, "detail");
	if (cJSON_IsString(it)) {
		copy_text(a->detail, sizeof(a->detail),
		    (const unsigned char *)it->valuestring);
		a->has_detail = true;
	}
	it = cJSON_GetObjectItemCaseSensitive(o, "event");
	for (i = 0; cJSON_IsString(it) && i < 3; i++)
		if (strcmp(it->valuestring, events[i]) == 0)
			a->event = events[i];
	return a->event != NULL;
}

static cJSON *alarm_json(const struct alarm *a, sqlite3 *acks)
{
	cJSON *o = cJSON_CreateObject();
	sqlite3_stmt *st = NULL;

	cJSON_AddNumberToObject(o, "id", (double)a->id);
	cJSON_AddStringToObject(o, "node", a->node);
	cJSON_AddStringToObject(o, "kind", a->kind);
	if (a->field[0])
		cJSON_AddStringToObject(o, "field", a->field);
	else
		cJSON_AddNullToObject(o, "field");
	cJSON_AddNumberToObject(o, "severity", a->severity);
	cJSON_AddNumberToObject(o, "start", (double)a->start);
	if (a->end)
		cJSON_AddNumberToObject(o, "end", (double)a->end);
	else
		cJSON_AddNullToObject(o, "end");
	/* cJSON writes NAN as null. */
	cJSON_AddNumberToObject(o, "peak", a->peak);
	if (a->has_detail)
		cJSON_AddStringToObject(o, "detail", a->detail);
	else
		cJSON_AddNullToObject(o, "detail");
	if (sqlite3_prepare_v2(acks, "SELECT user, at FROM acks WHERE "
	    "alarm_id = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, a->id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			cJSON_AddStringToObject(o, "acked_by",
			    (const char *)sqlite3_column_text(st, 0));
			cJSON_AddNumberToObject(o, "acked_at",
			    (double)sqlite3_column_int64(st, 1));
		}
	}
	sqlite3_finalize(st);
	if (!cJSON_GetObjectItemCaseSensitive(o, "acked_by")) {
		cJSON_AddNullToObject(o, "acked_by");
		cJSON_AddNullToObject(o, "acked_at");
	}
	if (a->event)
		cJSON_AddStringToObject(o, "event", a->event);
	return o;
}

cJSON *dash_alarm_with_ack(struct dash_data *d, const cJSON *msg)
{
	struct alarm a;
	cJSON *o;

	if (!alarm_from_json(msg, &a))
		return NULL;
	pthread_mutex_lock(&d->acks_lock);
	o = alarm_json(&a, d->acks);
	pthread_mutex_unlock(&d->acks_lock);
	return o;
}

static const char list_sql[] = "SELECT id, node, kind, field, severity, "
    "start, \"end\", peak, detail FROM alarms WHERE "
    "(?1 = 0 OR \"end\" IS NULL) AND "
    "(?2 = 0 OR (start <= ?4 AND (\"end\" IS NULL OR \"end\" >= ?3))) "
    "ORDER BY start DESC, id DESC LIMIT ?5";

/* The alarms array, or NULL on a store error (err). */
static cJSON *list(struct dash_data *d, sqlite3 *db,
    const struct dash_alarms_query *q, char err[static DASH_ERR_MAX])
{
	cJSON *arr = cJSON_CreateArray();
	sqlite3_stmt *st;
	struct alarm a;
	int rc;

	if (arr == NULL || !dash_store_has_table(db, "alarms"))
		return arr;
	if (sqlite3_prepare_v2(db, list_sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int(st, 1, q->active_only);
	sqlite3_bind_int(st, 2, q->has_range);
	sqlite3_bind_int64(st, 3, q->from_ms);
	sqlite3_bind_int64(st, 4, q->to_ms);
	sqlite3_bind_int(st, 5, DASH_ALARMS_MAX);
	pthread_mutex_lock(&d->acks_lock);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		alarm_from_row(st, &a);
		cJSON_AddItemToArray(arr, alarm_json(&a, d->acks));
	}
	pthread_mutex_unlock(&d->acks_lock);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return arr;
fail:
	snprintf(err, DASH_ERR_MAX, "store: %s", sqlite3_errmsg(db));
	cJSON_Delete(arr);
	return NULL;
}

int dash_api_alarms(struct dash_data *d, const struct dash_alarms_query *q,
    struct dash_reply *r)
{
	char err[DASH_ERR_MAX] = "", msg[DASH_ERR_MAX + 40];
	cJSON *arr = NULL, *o;
	sqlite3 *db;

	memset(r, 0, sizeof(*r));
	pthread_mutex_lock(&d->store_lock);
	if ((db = dash_store(d, err)) != NULL &&
	    (arr = list(d, db, q, err)) == NULL)
		dash_store_reset(d);
	pthread_mutex_unlock(&d->store_lock);
	if (arr == NULL) {
		snprintf(msg, sizeof(msg), "alarms not available: %s", err);
		return dash_reply_error(r, 503, msg);
	}
	o = cJSON_CreateObject();
	if (o == NULL || !cJSON_AddItemToObject(o, "alarms", arr)) {
		cJSON_Delete(arr);
		cJSON_Delete(o);
		return dash_reply_json(r, NULL);
	}
	return dash_reply_json(r, o);
}

/* The store's alarm id as an alarm (store_lock held): 0, -ENOENT or
 * -EIO. */
static int lookup(sqlite3 *db, int64_t id, struct alarm *a)
{
	sqlite3_stmt *st;
	int rc;

	if (!dash_store_has_table(db, "alarms"))
		return -ENOENT;
	if (sqlite3_prepare_v2(db, "SELECT id, node, kind, field, severity, "
	    "start, \"end\", peak, detail FROM alarms WHERE id = ?1", -1, &st,
	    NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		alarm_from_row(st, a);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static int insert_ack(sqlite3 *acks, int64_t id, const char *user,
    int64_t now_ms)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(acks, "INSERT OR IGNORE INTO acks(alarm_id, "
	    "user, at) VALUES (?1, ?2, ?3)", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_ms);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* {"ok":true,"alarm":o}: the alarm as it now stands, for the HTTP side
 * to pass on to the other browsers if it likes.  Takes o. */
static int reply_acked(struct dash_reply *r, cJSON *o)
{
	cJSON *reply = cJSON_CreateObject();

	cJSON_AddBoolToObject(reply, "ok", 1);
	if (reply == NULL || !cJSON_AddItemToObject(reply, "alarm", o))
		cJSON_Delete(o);
	return dash_reply_json(r, reply);
}

int dash_api_ack(struct dash_data *d, int64_t alarm_id, const char *user,
    int64_t now_ms, struct dash_reply *r)
{
	char err[DASH_ERR_MAX] = "", msg[DASH_ERR_MAX + 40];
	cJSON *o = NULL;
	struct alarm a;
	sqlite3 *db;
	int ret = -EIO;

	memset(r, 0, sizeof(*r));
	pthread_mutex_lock(&d->store_lock);
	if ((db = dash_store(d, err)) != NULL &&
	    (ret = lookup(db, alarm_id, &a)) == -EIO) {
		snprintf(err, sizeof(err), "store: %s", sqlite3_errmsg(db));
		dash_store_reset(d);
	}
	pthread_mutex_unlock(&d->store_lock);
	if (ret == 0) {
		pthread_mutex_lock(&d->acks_lock);
		if ((ret = insert_ack(d->acks, alarm_id, user, now_ms)) < 0)
			snprintf(err, sizeof(err), "acks: %s",
			    sqlite3_errmsg(d->acks));
		else
			o = alarm_json(&a, d->acks);
		pthread_mutex_unlock(&d->acks_lock);
	}
	if (ret == -ENOENT)
		return dash_reply_error(r, 404, "no such alarm");
	if (ret < 0) {
		snprintf(msg, sizeof(msg), "cannot acknowledge: %s", err);
		return dash_reply_error(r, 503, msg);
	}
	return reply_acked(r, o);
}

void dash_alarms_gaps(sqlite3 *db, struct fleet_entry *e, size_t n)
{
	struct fleet_entry key, *hit;
	sqlite3_stmt *st;
	const char *node;

	if (n == 0 || !dash_store_has_table(db, "alarms") ||
	    sqlite3_prepare_v2(db, "SELECT node, count(*) FROM alarms WHERE "
	    "kind = 'gap' AND \"end\" IS NULL GROUP BY node", -1, &st,
	    NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		node = (const char *)sqlite3_column_text(st, 0);
		if (node == NULL || strlen(node) >= sizeof(key.node))
			continue;
		strcpy(key.node, node);
		hit = bsearch(&key, e, n, sizeof(*e), fleet_entry_cmp);
		if (hit)
			hit->gaps_open = (unsigned)sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
}

/* ---------------------------------------------------------- thresholds */

static cJSON *limit(cJSON *o, const char *field, double warning,
    double critical)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddNumberToObject(f, "warning", warning);
	cJSON_AddNumberToObject(f, "critical", critical);
	cJSON_DeleteItemFromObjectCaseSensitive(o, field);
	cJSON_AddItemToObject(o, field, f);
	return f;
}

int dash_api_thresholds(struct dash_data *d, struct dash_reply *r)
{
	cJSON *o = cJSON_CreateObject();
	char err[DASH_ERR_MAX];
	sqlite3_stmt *st;
	const char *field;
	sqlite3 *db;

	memset(r, 0, sizeof(*r));
	/* The simulator's own, where the store says nothing. */
	limit(o, "p", TELEMETRY_P_WARN, TELEMETRY_P_CRIT);
	limit(o, "t", TELEMETRY_T_WARN, TELEMETRY_T_CRIT);
	limit(o, "v", TELEMETRY_V_WARN, TELEMETRY_V_CRIT);
	pthread_mutex_lock(&d->store_lock);
	db = dash_store(d, err);
	if (db && dash_store_has_table(db, "thresholds") &&
	    sqlite3_prepare_v2(db, "SELECT field, warning, critical FROM "
	    "thresholds", -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			field = (const char *)sqlite3_column_text(st, 0);
			if (field && telemetry_field_name_valid(field))
				limit(o, field,
				    sqlite3_column_type(st, 1) == SQLITE_NULL ?
				    NAN : sqlite3_column_double(st, 1),
				    sqlite3_column_type(st, 2) == SQLITE_NULL ?
				    NAN : sqlite3_column_double(st, 2));
		}
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&d->store_lock);
	return dash_reply_json(r, o);
}
