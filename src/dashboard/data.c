/* The data side's life cycle, its two SQLite connections and the reply
 * helpers (data.h; internal.h for the split into files). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "dashboard/internal.h"

enum { BUSY_MS = 2000 };

void dash_reply_free(struct dash_reply *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

int dash_reply_take(struct dash_reply *r, int status, const char *type,
    char *body, size_t len)
{
	free(r->body);
	r->content_type = type;
	r->body = body;
	r->len = body ? len : 0;
	r->status = body ? status : 500;
	return r->status;
}

int dash_reply_json(struct dash_reply *r, cJSON *tree)
{
	char *text = tree ? cJSON_PrintUnformatted(tree) : NULL;

	cJSON_Delete(tree);
	return dash_reply_take(r, 200, "application/json", text,
	    text ? strlen(text) : 0);
}

int dash_reply_error(struct dash_reply *r, int status, const char *msg)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || cJSON_AddStringToObject(o, "error", msg) == NULL) {
		cJSON_Delete(o);
		return dash_reply_take(r, 500, "application/json", NULL, 0);
	}
	dash_reply_json(r, o);
	if (r->body)
		r->status = status;
	return r->status;
}

/* ---------------------------------------------------------------- store */

struct sqlite3 *dash_store(struct dash_data *d, char err[static DASH_ERR_MAX])
{
	struct stat st;
	int rc;

	if (stat(d->db_path, &st) < 0) {
		snprintf(err, DASH_ERR_MAX, "store %s: %s", d->db_path,
		    strerror(errno));
		dash_store_reset(d);
		return NULL;
	}
	if (d->store && (st.st_dev != d->store_dev ||
	    st.st_ino != d->store_ino))
		dash_store_reset(d);
	if (d->store)
		return d->store;
	d->store_dev = st.st_dev;
	d->store_ino = st.st_ino;
	/* NOMUTEX: store_lock already serialises every use. */
	rc = sqlite3_open_v2(d->db_path, &d->store, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, DASH_ERR_MAX, "store %s: %s", d->db_path,
		    d->store ? sqlite3_errmsg(d->store) : sqlite3_errstr(rc));
		sqlite3_close(d->store);
		d->store = NULL;
		return NULL;
	}
	sqlite3_busy_timeout(d->store, BUSY_MS);
	return d->store;
}

void dash_store_reset(struct dash_data *d)
{
	sqlite3_close(d->store);
	d->store = NULL;
}

bool dash_store_has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st;
	bool found = false;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE "
	    "type = 'table' AND name = ?1", -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

/* The acks file: created 0600 (the only file the dashboard writes; it
 * names who acknowledged what). */
static int open_acks(struct dash_data *d, char err[static DASH_ERR_MAX])
{
	int fd, rc;

	fd = open(d->acks_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0) {
		snprintf(err, DASH_ERR_MAX, "acks %s: %s", d->acks_path,
		    strerror(errno));
		return -errno;
	}
	close(fd);
	rc = sqlite3_open_v2(d->acks_path, &d->acks, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, DASH_ERR_MAX, "acks %s: %s", d->acks_path,
		    d->acks ? sqlite3_errmsg(d->acks) : sqlite3_errstr(rc));
		return -EIO;
	}
	sqlite3_busy_timeout(d->acks, BUSY_MS);
	return dash_acks_init(d->acks, err);
}

/* ---------------------------------------------------------------- life */

static bool dup_str(char **out, const char **cfg_field, const char *s)
{
	*out = NULL;
	if (s == NULL)
		return true;
	*out = strdup(s);
	*cfg_field = *out;
	return *out != NULL;
}

static bool copy_config(struct dash_data *d, const struct dash_data_config *c)
{
	char id[64];

	snprintf(id, sizeof(id), "wgu-dashboard-%ld", (long)getpid());
	d->cfg = *c;
	if (d->cfg.silent_after_s <= 0)
		d->cfg.silent_after_s = DASH_SILENT_AFTER_DEFAULT_S;
	return dup_str(&d->db_path, &d->cfg.db_path, c->db_path) &&
	    dup_str(&d->acks_path, &d->cfg.acks_path, c->acks_path) &&
	    dup_str(&d->interface, &d->cfg.interface, c->interface) &&
	    dup_str(&d->broker_host, &d->cfg.broker_host, c->broker_host) &&
	    dup_str(&d->username, &d->cfg.username, c->username) &&
	    dup_str(&d->password_file, &d->cfg.password_file,
	    c->password_file) &&
	    dup_str(&d->topic_prefix, &d->cfg.topic_prefix,
	    c->topic_prefix ? c->topic_prefix : TELEMETRY_DEFAULT_PREFIX) &&
	    dup_str(&d->client_id, &d->cfg.client_id,
	    c->client_id ? c->client_id : id);
}

struct dash_data *dash_data_new(const struct dash_data_config *cfg,
    char err[static DASH_ERR_MAX])
{
	struct dash_data *d = calloc(1, sizeof(*d));

	if (d == NULL) {
		snprintf(err, DASH_ERR_MAX, "%s", strerror(ENOMEM));
		return NULL;
	}
	pthread_mutex_init(&d->store_lock, NULL);
	pthread_mutex_init(&d->acks_lock, NULL);
	if (!copy_config(d, cfg) ||
	    (d->fleet = fleet_new(d->cfg.silent_after_s)) == NULL) {
		snprintf(err, DASH_ERR_MAX, "%s", strerror(ENOMEM));
		goto fail;
	}
	if (d->db_path == NULL || d->acks_path == NULL) {
		snprintf(err, DASH_ERR_MAX, "no store or acks path");
		goto fail;
	}
	if (open_acks(d, err) < 0)
		goto fail;
	return d;
fail:
	dash_data_free(d);
	return NULL;
}

int dash_data_start(struct dash_data *d, struct ev_loop *loop,
    char err[static DASH_ERR_MAX])
{
	char why[DASH_ERR_MAX];
	sqlite3 *db;

	pthread_mutex_lock(&d->store_lock);
	db = dash_store(d, why);
	/* A store not there yet, or of an older historian: the feed fills
	 * the fleet soon enough. */
	if (db && dash_history_seed(db, d->fleet) < 0)
		dash_store_reset(d);
	pthread_mutex_unlock(&d->store_lock);
	if (d->broker_host == NULL || loop == NULL)
		return 0;
	return dash_feed_start(d, loop, err);
}

void dash_data_stop(struct dash_data *d)
{
	if (d->feed)
		dash_feed_stop(d);
}

void dash_data_free(struct dash_data *d)
{
	if (d == NULL)
		return;
	dash_data_stop(d);
	sqlite3_close(d->store);
	sqlite3_close(d->acks);
	fleet_free(d->fleet);
	free(d->db_path);
	free(d->acks_path);
	free(d->interface);
	free(d->broker_host);
	free(d->username);
	free(d->password_file);
	free(d->topic_prefix);
	free(d->client_id);
	pthread_mutex_destroy(&d->store_lock);
	pthread_mutex_destroy(&d->acks_lock);
	free(d);
}

/* ---------------------------------------------------------------- nodes */

static cJSON *node_json(const struct fleet_entry *e)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "node", e->node);
	cJSON_AddNumberToObject(o, "status", e->status);
	/* NAN (never had the field) prints as null. */
	cJSON_AddNumberToObject(o, "p", e->p);
	cJSON_AddNumberToObject(o, "t", e->t);
	cJSON_AddNumberToObject(o, "v", e->v);
	cJSON_AddNumberToObject(o, "ts", (double)e->ts);
	cJSON_AddNumberToObject(o, "received", (double)e->received);
	cJSON_AddNumberToObject(o, "age_s", e->age_s);
	cJSON_AddNumberToObject(o, "rate", e->rate);
	cJSON_AddNumberToObject(o, "readings", (double)e->readings);
	cJSON_AddNumberToObject(o, "gaps_open", e->gaps_open);
	cJSON_AddBoolToObject(o, "silent", e->silent);
	return o;
}

int dash_api_nodes(struct dash_data *d, int64_t now_ms, struct dash_reply *r)
{
	struct fleet_entry *e;
	char err[DASH_ERR_MAX];
	cJSON *o, *arr;
	sqlite3 *db;
	size_t n, i;

	memset(r, 0, sizeof(*r));
	if (fleet_snapshot(d->fleet, now_ms, &e, &n) < 0)
		return dash_reply_json(r, NULL);
	/* Open gaps are the historian's: its active gap alarms. */
	pthread_mutex_lock(&d->store_lock);
	if ((db = dash_store(d, err)) != NULL)
		dash_alarms_gaps(db, e, n);
	pthread_mutex_unlock(&d->store_lock);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "now", (double)now_ms);
	arr = cJSON_AddArrayToObject(o, "nodes");
	for (i = 0; arr && i < n; i++)
		cJSON_AddItemToArray(arr, node_json(&e[i]));
	free(e);
	return dash_reply_json(r, arr ? o : (cJSON_Delete(o), NULL));
}
