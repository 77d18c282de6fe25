/* wgu-dashboard's data side (src/dashboard) against a real store made by
 * the historian's own store.c in a temporary directory: history raw and
 * aggregated (the point cap, min/avg/max of known data), CSV, alarms
 * joined with the acks, the fleet's rate and silence with injected
 * times, the live feed's messages, the query parameters, the tunnel
 * answers' parsers and the metrics text (checked by promtool). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <ev.h>
#include <sqlite3.h>

#include "check.h"
#include "cli/buf.h"
#include "dashboard/internal.h"
#include "hub/store.h"

/* 2025-12-06T05:46:40Z, a whole multiple of 10 s. */
#define T0 INT64_C(1765000000000)
enum { N1_READINGS = 5000 };

static char dir[256], db_path[320], acks_path[320];

/* ---------------------------------------------------------------- setup */

static void reading(struct telemetry_reading *r, const char *node,
    int64_t ts, uint64_t seq, double p)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->node_id, sizeof(r->node_id), "%s", node);
	r->timestamp_ms = ts;
	r->has_seq = true;
	r->boot_id = 1;
	r->seq = seq;
	r->p = p;
	r->t = 60;
	r->v = 2;
	r->nfields = 3;
	strcpy(r->fields[0].name, "p");
	r->fields[0].value = p;
	strcpy(r->fields[1].name, "t");
	r->fields[1].value = 60;
	strcpy(r->fields[2].name, "v");
	r->fields[2].value = 2;
	r->status = telemetry_status(r->p, r->t, r->v);
}

/* n1: N1_READINGS at 1 Hz from T0, p = i % 10; "-n2": 10 readings at
 * 1 Hz, p = 1.5 (a name a spreadsheet would take for a formula). */
static void make_store(void)
{
	struct store_position pos = { 1, 2, 0, 0 };
	struct telemetry_reading r;
	struct store *s;
	int i;

	if (store_open(&s, db_path) != 0) {
		CHECK_FAIL("store_open %s", db_path);
		return;
	}
	for (i = 0; i < N1_READINGS; i++) {
		reading(&r, "n1", T0 + i * 1000, (uint64_t)i + 1, i % 10);
		pos.offset += 100;
		pos.lines++;
		CHECK(store_add(s, &r, (uint64_t)(T0 + i * 1000 + 5),
		    T0 + i * 1000, &pos) == 1);
		if (store_pending(s) >= STORE_BATCH_ROWS)
			CHECK(store_commit(s) == 0);
	}
	for (i = 0; i < 10; i++) {
		reading(&r, "-n2", T0 + i * 1000, (uint64_t)i + 1, 1.5);
		pos.offset += 100;
		pos.lines++;
		CHECK(store_add(s, &r, (uint64_t)(T0 + i * 1000 + 7),
		    T0 + i * 1000, &pos) == 1);
	}
	CHECK(store_commit(s) == 0);
	store_close(s);
}

/* Rows in the tables the historian's store has since schema 2
 * (store_alarms.c), written in SQL so that a column can hold what the
 * historian never writes (a detail longer than its own). */
static void exec_store(const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	CHECK(sqlite3_open(db_path, &db) == SQLITE_OK);
	sqlite3_busy_timeout(db, 2000);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		CHECK_FAIL("%s: %s", sql, msg);
	sqlite3_free(msg);
	sqlite3_close(db);
}

static void make_alarm_tables(void)
{
	exec_store("INSERT INTO alarms VALUES (1, 'n1', 'threshold', 'p', 2, "
	    "1765000100000, NULL, 9.75, 'p at or above 9.5');"
	    "INSERT INTO alarms VALUES (2, 'n1', 'gap', NULL, 1, "
	    "1765000200000, 1765000300000, NULL, 'seq 5..9');"
	    "INSERT INTO alarms VALUES (3, 'n1', 'gap', NULL, 1, "
	    "1765000400000, NULL, NULL, 'seq 20..21');"
	    /* a detail longer than shown, cut inside a 2-byte character */
	    "INSERT INTO alarms VALUES (4, 'n1', 'silent', NULL, 2, "
	    "1765000050000, 1765000060000, NULL, 'x' || replace(printf("
	    "'%.300c', '_'), '_', char(233)));"
	    "INSERT INTO historian_stats VALUES ('duplicates_dropped', 7, 1);"
	    "INSERT INTO historian_stats VALUES ('ingest_lag_seconds', 0.25, "
	    "1);"
	    "INSERT INTO thresholds VALUES ('p', 7.5, 9, 'above');");
}

static struct dash_data *open_data(const char *store)
{
	struct dash_data_config cfg = {
		.db_path = store, .acks_path = acks_path,
		.silent_after_s = 10,
	};
	char err[DASH_ERR_MAX] = "";
	struct dash_data *d = dash_data_new(&cfg, err);

	if (d == NULL)
		CHECK_FAIL("dash_data_new: %s", err);
	return d;
}

/* The reply's body as JSON (NULL and a failure when it is none). */
static cJSON *body_json(const struct dash_reply *r)
{
	cJSON *o = r->body ? cJSON_Parse(r->body) : NULL;

	if (o == NULL)
		CHECK_FAIL("not JSON: %s", r->body ? r->body : "(null)");
	return o;
}

static double num(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(it) ? it->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* promtool (Debian's prometheus) checks the text exposition format and
 * the naming conventions. */
static void check_promtool(const char *text, size_t len, const char *name)
{
	char path[400], cmd[500];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL) {
		CHECK_FAIL("%s: %s", path, strerror(errno));
		return;
	}
	fwrite(text, 1, len, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
	if (system(cmd) != 0)
		CHECK_FAIL("promtool check metrics failed on %s", path);
}

/* ---------------------------------------------------------------- parsing */

static void test_parse_time(void)
{
	static const struct {
		const char *in;
		int64_t want;		/* -1: refused */
	} rows[] = {
		{ "now", T0 },
		{ "-2h", T0 - 7200000 },
		{ "-15m", T0 - 900000 },
		{ "-30s", T0 - 30000 },
		{ "-1d", T0 - 86400000 },
		{ "-7d", T0 - 604800000 },
		{ "-1500ms", T0 - 1500 },
		{ "1765000000000", T0 },
		{ "0", 0 },
		{ "2025-12-06T05:46:40Z", T0 },
		{ "2025-12-06T06:46:40+01:00", T0 },
		/* '+' of an unencoded query string, decoded to a space */
		{ "2025-12-06T06:46:40 01:00", T0 },
		{ "2025-12-06T05:46:40.5Z", T0 + 500 },
		{ "2025-12-06T05:46:40", T0 },
		{ "", -1 }, { "-", -1 }, { "-2", -1 }, { "-2y", -1 },
		{ "-h", -1 }, { "--2h", -1 }, { "-2h ", -1 },
		{ "-9999999999h", -1 },		/* too many digits */
		{ "-367d", -1 }, { "-1w", -1 },
		{ "-20000d", -1 },		/* before the epoch */
		{ "1e12", -1 }, { "12345678901234567", -1 },
		{ "999999999999999", -1 },	/* after 9999 */
		{ "yesterday", -1 }, { "2025-02-30T00:00:00Z", -1 },
		{ "2025-12-06T05:46:40Z trailing", -1 },
		{ "0x10", -1 }, { " 5", -1 },
	};
	char err[DASH_ERR_MAX];
	int64_t out;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		err[0] = '\0';
		out = -7;
		ret = dash_parse_time(rows[i].in, T0, &out, err);
		if (rows[i].want >= 0 && (ret != 0 || out != rows[i].want))
			CHECK_FAIL("\"%s\": ret %d, %" PRId64 " (%s)",
			    rows[i].in, ret, out, err);
		if (rows[i].want < 0 && (ret != -EINVAL || err[0] == '\0'))
			CHECK_FAIL("\"%s\" accepted: %" PRId64, rows[i].in,
			    out);
	}
	/* The message names the value, cut and cleaned. */
	CHECK(dash_parse_time("yester\"day\x01", T0, &out, err) == -EINVAL);
	CHECK(strstr(err, "\"yester?day?\"") != NULL);
}

static void test_parse_args(void)
{
	struct dash_history_query q;
	struct dash_alarms_query aq;
	char err[DASH_ERR_MAX];
	const struct dash_arg good[] = { { "node", "n1" }, { "from", "-2h" },
	    { "to", "now" }, { "fields", "v,p" } };
	const struct dash_arg only_node[] = { { "node", "edge-01" } };
	const struct dash_arg unknown[] = { { "node", "n1" }, { "x", "1" } };
	const struct dash_arg twice[] = { { "node", "n1" }, { "node", "n2" } };
	const struct dash_arg novalue[] = { { "node", NULL } };
	const struct dash_arg badnode[] = { { "node", "a/b" } };
	const struct dash_arg dotdot[] = { { "node", ".." } };
	const struct dash_arg backwards[] = { { "node", "n1" },
	    { "from", "now" }, { "to", "-1h" } };
	const struct dash_arg toolong[] = { { "node", "n1" },
	    { "from", "-401d" } };
	const struct dash_arg badfields[] = { { "node", "n1" },
	    { "fields", "p,x" } };
	const struct dash_arg dupfields[] = { { "node", "n1" },
	    { "fields", "p,p" } };
	const struct dash_arg emptyfield[] = { { "node", "n1" },
	    { "fields", "p," } };
	const struct dash_arg all[] = { { "state", "all" },
	    { "from", "-1d" }, { "to", "now" } };
	const struct dash_arg halfrange[] = { { "from", "-1d" } };
	const struct dash_arg badstate[] = { { "state", "open" } };

	CHECK(dash_parse_history_args(good, 4, T0, &q, err) == 0);
	CHECK(strcmp(q.node, "n1") == 0 && q.from_ms == T0 - 7200000 &&
	    q.to_ms == T0 && q.fields == (DASH_FIELD_P | DASH_FIELD_V));
	CHECK(dash_parse_history_args(only_node, 1, T0, &q, err) == 0);
	CHECK(q.from_ms == T0 - 3600000 && q.to_ms == T0 &&
	    q.fields == DASH_FIELDS_ALL);
	CHECK(dash_parse_history_args(NULL, 0, T0, &q, err) == -EINVAL &&
	    strstr(err, "missing"));
	CHECK(dash_parse_history_args(unknown, 2, T0, &q, err) == -EINVAL &&
	    strstr(err, "unknown parameter \"x\""));
	CHECK(dash_parse_history_args(twice, 2, T0, &q, err) == -EINVAL &&
	    strstr(err, "twice"));
	CHECK(dash_parse_history_args(novalue, 1, T0, &q, err) == -EINVAL);
	CHECK(dash_parse_history_args(badnode, 1, T0, &q, err) == -EINVAL &&
	    strstr(err, "bad node"));
	CHECK(dash_parse_history_args(dotdot, 1, T0, &q, err) == -EINVAL);
	CHECK(dash_parse_history_args(backwards, 3, T0, &q, err) == -EINVAL &&
	    strstr(err, "after"));
	CHECK(dash_parse_history_args(toolong, 2, T0, &q, err) == -EINVAL);
	CHECK(dash_parse_history_args(badfields, 2, T0, &q, err) == -EINVAL);
	CHECK(dash_parse_history_args(dupfields, 2, T0, &q, err) == -EINVAL);
	CHECK(dash_parse_history_args(emptyfield, 2, T0, &q, err) == -EINVAL);

	CHECK(dash_parse_alarms_args(NULL, 0, T0, &aq, err) == 0);
	CHECK(aq.active_only && !aq.has_range);
	CHECK(dash_parse_alarms_args(all, 3, T0, &aq, err) == 0);
	CHECK(!aq.active_only && aq.has_range && aq.from_ms == T0 - 86400000);
	CHECK(dash_parse_alarms_args(halfrange, 1, T0, &aq, err) == -EINVAL);
	CHECK(dash_parse_alarms_args(badstate, 1, T0, &aq, err) == -EINVAL);

	{
		int64_t id;

		CHECK(dash_parse_alarm_id("42", &id, err) == 0 && id == 42);
		CHECK(dash_parse_alarm_id("0", &id, err) == -EINVAL);
		CHECK(dash_parse_alarm_id("-1", &id, err) == -EINVAL);
		CHECK(dash_parse_alarm_id("1a", &id, err) == -EINVAL);
		CHECK(dash_parse_alarm_id("", &id, err) == -EINVAL);
		CHECK(dash_parse_alarm_id("99999999999999999", &id, err) ==
		    -EINVAL);
	}
}

/* ---------------------------------------------------------------- history */

static void history(struct dash_data *d, const char *node, int64_t from,
    int64_t to, unsigned fields, bool csv, struct dash_reply *r)
{
	struct dash_history_query q = { .from_ms = from, .to_ms = to,
	    .fields = fields };

	snprintf(q.node, sizeof(q.node), "%s", node);
	dash_api_history(d, &q, csv, r);
}

static void test_history_raw(void)
{
	struct dash_data *d = open_data(db_path);
	struct dash_reply r = { 0 };
	const cJSON *p, *pt;
	cJSON *o;

	if (d == NULL)
		return;
	history(d, "-n2", T0, T0 + 60000, DASH_FIELD_P | DASH_FIELD_T, false,
	    &r);
	CHECK(r.status == 200 && strcmp(r.content_type, "application/json")
	    == 0);
	if ((o = body_json(&r)) != NULL) {
		CHECK(num(o, "step_ms") == 0 && num(o, "from") == (double)T0);
		p = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "series"), "p");
		CHECK(cJSON_GetArraySize(p) == 10);
		pt = cJSON_GetArrayItem(p, 3);
		CHECK(cJSON_GetArraySize(pt) == 4 &&
		    cJSON_GetArrayItem(pt, 0)->valuedouble == T0 + 3000 &&
		    cJSON_GetArrayItem(pt, 2)->valuedouble == 1.5);
		CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "series"),
		    "v") == NULL);
		cJSON_Delete(o);
	}
	dash_reply_free(&r);

	/* CSV, raw: a name starting with '-' is no formula. */
	history(d, "-n2", T0, T0 + 1000, DASH_FIELDS_ALL, true, &r);
	CHECK(r.status == 200 && strncmp(r.content_type, "text/csv", 8) == 0);
	CHECK(r.body && strcmp(r.body, "ts,node,p,t,v,status\n"
	    "1765000000000,\"'-n2\",1.5,60,2,0\n"
	    "1765000001000,\"'-n2\",1.5,60,2,0\n") == 0);
	if (r.body && r.len != strlen(r.body))
		CHECK_FAIL("len %zu", r.len);
	dash_reply_free(&r);

	/* An empty range is an empty series, a node never seen a 404. */
	history(d, "n1", T0 - 5000, T0 - 1, DASH_FIELD_P, false, &r);
	CHECK(r.status == 200 && r.body &&
	    strstr(r.body, "\"series\":{\"p\":[]}"));
	dash_reply_free(&r);
	history(d, "n9", T0, T0 + 1000, DASH_FIELD_P, false, &r);
	CHECK(r.status == 404 && r.body && strstr(r.body, "\"error\""));
	dash_reply_free(&r);
	dash_data_free(d);
}

static void test_history_aggregated(void)
{
	struct dash_data *d = open_data(db_path);
	struct dash_reply r = { 0 };
	const cJSON *p, *pt;
	cJSON *o;
	int i, n;

	if (d == NULL)
		return;
	/* 10,000 s over at most 2,000 points: buckets of 5 s, readings
	 * 5b..5b+4, so p runs 0..4 in even buckets and 5..9 in odd ones;
	 * the readings end after 1,000 buckets. */
	history(d, "n1", T0, T0 + 9999999, DASH_FIELD_P, false, &r);
	CHECK(r.status == 200);
	if ((o = body_json(&r)) != NULL) {
		CHECK(num(o, "step_ms") == 5000);
		p = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "series"), "p");
		CHECK(cJSON_GetArraySize(p) == N1_READINGS / 5);
		for (i = 0; i < cJSON_GetArraySize(p); i++) {
			double lo = i % 2 ? 5 : 0;

			pt = cJSON_GetArrayItem(p, i);
			if (cJSON_GetArrayItem(pt, 0)->valuedouble !=
			    (double)(T0 + i * 5000) ||
			    cJSON_GetArrayItem(pt, 1)->valuedouble != lo ||
			    cJSON_GetArrayItem(pt, 2)->valuedouble != lo + 2 ||
			    cJSON_GetArrayItem(pt, 3)->valuedouble != lo + 4) {
				CHECK_FAIL("bucket %d wrong", i);
				break;
			}
		}
		cJSON_Delete(o);
	}
	dash_reply_free(&r);

	/* 3,000 readings in range: over the cap, so aggregated, and never
	 * more than 2,000 points. */
	history(d, "n1", T0, T0 + 2999999, DASH_FIELDS_ALL, false, &r);
	if ((o = body_json(&r)) != NULL) {
		CHECK(num(o, "step_ms") == 1500);
		n = cJSON_GetArraySize(cJSON_GetObjectItem(
		    cJSON_GetObjectItem(o, "series"), "t"));
		CHECK(n > 1000 && n <= DASH_SERIES_MAX_POINTS);
		cJSON_Delete(o);
	}
	dash_reply_free(&r);
	/* Exactly 2,000 readings: raw. */
	history(d, "n1", T0, T0 + 1999000, DASH_FIELD_V, false, &r);
	CHECK(r.body && strstr(r.body, "\"step_ms\":0"));
	dash_reply_free(&r);

	history(d, "n1", T0, T0 + 9999999, DASH_FIELD_P | DASH_FIELD_V, true,
	    &r);
	CHECK(r.body && strncmp(r.body, "ts,node,field,min,avg,max\n"
	    "1765000000000,n1,p,0,2,4\n1765000000000,n1,v,2,2,2\n"
	    "1765000005000,n1,p,5,7,9\n", 98) == 0);
	dash_reply_free(&r);
	dash_data_free(d);
}

/* Random ranges against a naive twin: every point the server sends is
 * the min, avg and max of p over exactly the readings of its bucket, and
 * there are never more than DASH_SERIES_MAX_POINTS. */
static void test_history_random(void)
{
	struct dash_data *d = open_data(db_path);
	struct dash_reply r = { 0 };
	int64_t from, to, step, b, k, span;
	double lo, hi, sum;
	const cJSON *p, *pt;
	int round, i, n, cnt;
	cJSON *o;

	if (d == NULL)
		return;
	srand(7);
	for (round = 0; round < 30; round++) {
		from = T0 - 100000 + (int64_t)(rand() % 5200) * 1000 +
		    rand() % 1000;
		to = from + (int64_t)(rand() % 5200000);
		history(d, "n1", from, to, DASH_FIELD_P, false, &r);
		if ((o = body_json(&r)) == NULL)
			break;
		step = (int64_t)num(o, "step_ms");
		p = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "series"), "p");
		n = cJSON_GetArraySize(p);
		CHECK(n <= DASH_SERIES_MAX_POINTS);
		span = to - from + 1;
		if (step != 0)
			CHECK(step == (span + DASH_SERIES_MAX_POINTS - 1) /
			    DASH_SERIES_MAX_POINTS);
		for (i = 0; i < n; i++) {
			pt = cJSON_GetArrayItem(p, i);
			b = (int64_t)cJSON_GetArrayItem(pt, 0)->valuedouble;
			/* the twin: readings with b <= ts < b + step */
			lo = INFINITY, hi = -INFINITY, sum = 0, cnt = 0;
			for (k = 0; k < N1_READINGS; k++) {
				int64_t ts = T0 + k * 1000;

				if (ts < from || ts > to || ts < b ||
				    ts >= b + (step ? step : 1))
					continue;
				lo = fmin(lo, k % 10);
				hi = fmax(hi, k % 10);
				sum += k % 10;
				cnt++;
			}
			if (cnt == 0 ||
			    cJSON_GetArrayItem(pt, 1)->valuedouble != lo ||
			    fabs(cJSON_GetArrayItem(pt, 2)->valuedouble -
			    sum / cnt) > 1e-9 ||
			    cJSON_GetArrayItem(pt, 3)->valuedouble != hi) {
				CHECK_FAIL("range %" PRId64 "..%" PRId64
				    " point %d differs from the twin", from,
				    to, i);
				break;
			}
		}
		cJSON_Delete(o);
		dash_reply_free(&r);
	}
	dash_reply_free(&r);
	dash_data_free(d);
}

static void test_no_store(void)
{
	char path[400];
	struct dash_data *d;
	struct dash_reply r = { 0 };
	struct dash_alarms_query aq = { .active_only = true };

	snprintf(path, sizeof(path), "%s/missing.db", dir);
	d = open_data(path);
	if (d == NULL)
		return;
	CHECK(dash_data_start(d, NULL, (char[DASH_ERR_MAX]){ 0 }) == 0);
	history(d, "n1", T0, T0 + 1000, DASH_FIELD_P, false, &r);
	CHECK(r.status == 503 && r.body && strstr(r.body, "missing.db"));
	dash_reply_free(&r);
	CHECK(dash_api_alarms(d, &aq, &r) == 503);
	dash_reply_free(&r);
	CHECK(dash_api_nodes(d, T0, &r) == 200 && r.body &&
	    strstr(r.body, "\"nodes\":[]"));
	dash_reply_free(&r);
	CHECK(dash_api_thresholds(d, &r) == 200 && r.body &&
	    strstr(r.body, "\"p\":{\"warning\":8,\"critical\":9.5}"));
	dash_reply_free(&r);
	/* Opened read-only: the dashboard never made the store. */
	CHECK(access(path, F_OK) != 0);
	dash_data_free(d);
}

/* ---------------------------------------------------------------- alarms */

static cJSON *alarms(struct dash_data *d, bool active, bool range,
    int64_t from, int64_t to)
{
	struct dash_alarms_query aq = { .active_only = active,
	    .has_range = range, .from_ms = from, .to_ms = to };
	struct dash_reply r = { 0 };
	cJSON *o = NULL, *arr = NULL;

	if (dash_api_alarms(d, &aq, &r) != 200)
		CHECK_FAIL("alarms: %d %s", r.status, r.body);
	else if ((o = body_json(&r)) != NULL)
		arr = cJSON_DetachItemFromObject(o, "alarms");
	cJSON_Delete(o);
	dash_reply_free(&r);
	return arr;
}

static void test_alarms_before_table(void)
{
	struct dash_data *d = open_data(db_path);
	struct dash_reply r = { 0 };
	cJSON *arr;

	if (d == NULL)
		return;
	/* An older store: no alarms, no error; nothing to acknowledge. */
	arr = alarms(d, false, false, 0, 0);
	CHECK(cJSON_IsArray(arr) && cJSON_GetArraySize(arr) == 0);
	cJSON_Delete(arr);
	CHECK(dash_api_ack(d, 1, "ann", T0, &r) == 404);
	dash_reply_free(&r);
	dash_data_free(d);
}

static void test_alarms_and_acks(void)
{
	struct dash_data *d = open_data(db_path);
	struct dash_reply r = { 0 };
	struct stat st;
	const cJSON *a;
	cJSON *arr, *o;

	if (d == NULL)
		return;
	CHECK(stat(acks_path, &st) == 0 && (st.st_mode & 0777) == 0600);
	arr = alarms(d, true, false, 0, 0);
	CHECK(cJSON_GetArraySize(arr) == 2);
	a = cJSON_GetArrayItem(arr, 1);		/* newest first */
	CHECK(num(a, "id") == 1 && strcmp(str(a, "kind"), "threshold") == 0 &&
	    strcmp(str(a, "field"), "p") == 0 && num(a, "severity") == 2 &&
	    num(a, "peak") == 9.75 && cJSON_IsNull(cJSON_GetObjectItem(a,
	    "end")) && cJSON_IsNull(cJSON_GetObjectItem(a, "acked_by")));
	cJSON_Delete(arr);
	CHECK(cJSON_GetArraySize(arr = alarms(d, false, false, 0, 0)) == 4);
	/* Cut to 512 bytes at a character's start: "x" and 255 of U+00E9. */
	a = cJSON_GetArrayItem(arr, 3);
	CHECK(num(a, "id") == 4 && str(a, "detail") &&
	    strlen(str(a, "detail")) == 511 &&
	    strcmp(str(a, "detail") + 507, "\xc3\xa9\xc3\xa9") == 0);
	cJSON_Delete(arr);
	/* Overlapping the range: 2 ended before, 3 began after. */
	arr = alarms(d, false, true, 1765000150000, 1765000350000);
	CHECK(cJSON_GetArraySize(arr) == 2);
	cJSON_Delete(arr);

	CHECK(dash_api_ack(d, 1, "ann", T0 + 5, &r) == 200);
	CHECK(r.body && strstr(r.body, "\"ok\":true") &&
	    strstr(r.body, "\"acked_by\":\"ann\""));
	dash_reply_free(&r);
	/* The first ack stays. */
	CHECK(dash_api_ack(d, 1, "bob", T0 + 9, &r) == 200);
	dash_reply_free(&r);
	CHECK(dash_api_ack(d, 99, "ann", T0, &r) == 404);
	dash_reply_free(&r);
	dash_data_free(d);

	/* Kept in the acks file, across a restart. */
	d = open_data(db_path);
	if (d == NULL)
		return;
	arr = alarms(d, false, false, 0, 0);
	a = cJSON_GetArrayItem(arr, 2);
	CHECK(num(a, "id") == 1 && str(a, "acked_by") &&
	    strcmp(str(a, "acked_by"), "ann") == 0 &&
	    num(a, "acked_at") == (double)(T0 + 5));
	cJSON_Delete(arr);

	/* /api/nodes: seeded from the store, open gaps from the alarms. */
	CHECK(dash_data_start(d, NULL, (char[DASH_ERR_MAX]){ 0 }) == 0);
	CHECK(dash_api_nodes(d, T0 + N1_READINGS * 1000 + 2000, &r) == 200);
	if ((o = body_json(&r)) != NULL) {
		arr = cJSON_GetObjectItem(o, "nodes");
		CHECK(cJSON_GetArraySize(arr) == 2);
		a = cJSON_GetArrayItem(arr, 1);
		CHECK(strcmp(str(a, "node"), "n1") == 0 &&
		    num(a, "p") == (N1_READINGS - 1) % 10 &&
		    num(a, "ts") == (double)(T0 + (N1_READINGS - 1) * 1000) &&
		    num(a, "gaps_open") == 1 && num(a, "rate") == 0 &&
		    num(a, "age_s") == 2.995 &&
		    cJSON_IsFalse(cJSON_GetObjectItem(a, "silent")));
		a = cJSON_GetArrayItem(arr, 0);
		CHECK(strcmp(str(a, "node"), "-n2") == 0 &&
		    num(a, "gaps_open") == 0 &&
		    cJSON_IsTrue(cJSON_GetObjectItem(a, "silent")));
		cJSON_Delete(o);
	}
	dash_reply_free(&r);

	/* The store's thresholds over the simulator's. */
	CHECK(dash_api_thresholds(d, &r) == 200 && r.body &&
	    strstr(r.body, "\"p\":{\"warning\":7.5,\"critical\":9}") &&
	    strstr(r.body, "\"t\":{\"warning\":80,\"critical\":95}"));
	dash_reply_free(&r);
	dash_data_free(d);
}

/* ---------------------------------------------------------------- fleet */

static void test_fleet(void)
{
	struct fleet *f = fleet_new(10);
	struct telemetry_reading r;
	struct fleet_entry e;
	const int64_t t = T0;
	char name[16];
	int i;

	if (f == NULL)
		return;
	/* Seeded from the store: shown, not counted. */
	reading(&r, "a", t - 60000, 1, 3);
	CHECK(fleet_update(f, &r, t - 59990, false) == 0);
	CHECK(fleet_lookup(f, "a", t, &e) == 0 && e.readings == 0 &&
	    e.rate == 0 && e.silent && e.p == 3);
	/* 1 Hz for 20 s, then 2 Hz for 10 s. */
	for (i = 0; i < 20; i++) {
		reading(&r, "a", t + i * 1000, 10 + (uint64_t)i, 5);
		fleet_update(f, &r, t + i * 1000 + 50, true);
		/* Watched for only 5 s: the rate over those, not over 10. */
		if (i == 4)
			CHECK(fleet_lookup(f, "a", t + 5000, &e) == 0 &&
			    fabs(e.rate - 1.0) < 1e-9 && e.readings == 5);
	}
	CHECK(fleet_lookup(f, "a", t + 20000, &e) == 0);
	CHECK(e.readings == 20 && fabs(e.rate - 1.0) < 1e-9 && !e.silent);
	for (i = 0; i < 20; i++) {
		reading(&r, "a", t + 20000 + i * 500, 30 + (uint64_t)i, 6);
		fleet_update(f, &r, t + 20000 + i * 500 + 50, true);
	}
	CHECK(fleet_lookup(f, "a", t + 30000, &e) == 0 &&
	    fabs(e.rate - 2.0) < 1e-9 && e.p == 6);
	/* A late (resent) reading counts, but the newest stays shown. */
	reading(&r, "a", t, 99, 1);
	fleet_update(f, &r, t + 30100, true);
	CHECK(fleet_lookup(f, "a", t + 30200, &e) == 0 && e.p == 6 &&
	    e.readings == 41 && e.received == t + 30100);
	/* Silent only after more than 10 s; the rate falls to 0. */
	CHECK(fleet_lookup(f, "a", t + 40100, &e) == 0 && !e.silent);
	CHECK(fleet_lookup(f, "a", t + 40101, &e) == 0 && e.silent);
	CHECK(fleet_lookup(f, "a", t + 60000, &e) == 0 && e.rate == 0 &&
	    fabs(e.age_s - 29.9) < 1e-9);
	CHECK(fleet_lookup(f, "b", t, &e) == -ENOENT);
	/* A bounded table. */
	for (i = 1; i < DASH_FLEET_MAX; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		reading(&r, name, t, 1, 1);
		if (fleet_update(f, &r, t, true) != 0) {
			CHECK_FAIL("node %d refused", i);
			break;
		}
	}
	reading(&r, "one-too-many", t, 1, 1);
	CHECK(fleet_update(f, &r, t, true) == -ENOSPC);
	CHECK(fleet_refused(f) == 1);
	{
		struct fleet_entry *all;
		size_t n;

		CHECK(fleet_snapshot(f, t, &all, &n) == 0 &&
		    n == DASH_FLEET_MAX && strcmp(all[0].node, "a") == 0 &&
		    strcmp(all[1].node, "n1") == 0 &&
		    strcmp(all[2].node, "n10") == 0);
		free(all);
	}
	fleet_free(f);
}

/* ---------------------------------------------------------------- feed */

static char events[8][1024];
static int nevents;

static void on_event(void *arg, const char *event, const char *json)
{
	(void)arg;
	if (nevents < 8)
		snprintf(events[nevents++], sizeof(events[0]), "%s %s", event,
		    json);
}

static void test_feed(void)
{
	struct dash_data_config cfg = {
		.db_path = db_path, .acks_path = acks_path,
		.topic_prefix = "pl/a", .on_event = on_event,
	};
	char err[DASH_ERR_MAX];
	struct dash_data *d = dash_data_new(&cfg, err);
	const char *good = "{\"timestamp\":1765000000000,\"node_id\":"
	    "\"edge-01\",\"boot_id\":3,\"seq\":17,\"data\":{\"p\":6.02,"
	    "\"t\":64.8,\"v\":2.11},\"status\":0}";
	const char *alarm = "{\"event\":\"raise\",\"id\":1,\"node\":\"n1\","
	    "\"kind\":\"threshold\",\"field\":\"p\",\"severity\":2,"
	    "\"start\":1765000100000,\"end\":null,\"peak\":9.75,"
	    "\"detail\":\"x\"}";
	struct fleet_entry e;

	if (d == NULL) {
		CHECK_FAIL("%s", err);
		return;
	}
	nevents = 0;
	dash_feed_message(d, "pl/a/edge-01/telemetry", good, strlen(good),
	    T0 + 20);
	CHECK(nevents == 1 && strncmp(events[0], "reading {", 9) == 0 &&
	    strstr(events[0], "\"node\":\"edge-01\"") &&
	    strstr(events[0], "\"received\":1765000000020") &&
	    strstr(events[0], "\"p\":6.02") && strstr(events[0], "\"seq\":17"));
	CHECK(fleet_lookup(d->fleet, "edge-01", T0 + 1000, &e) == 0 &&
	    e.readings == 1 && e.t == 64.8);
	/* The payload's node must be the topic's. */
	dash_feed_message(d, "pl/a/edge-02/telemetry", good, strlen(good), T0);
	dash_feed_message(d, "pl/a/edge-01/telemetry", "{\"x\":", 5, T0);
	dash_feed_message(d, "pl/a/edge-01/telemetry", "", 0, T0);
	CHECK(DASH_COUNTER(d, bad_readings) == 3 && nevents == 1);
	/* Outside the prefix, or deeper: not ours. */
	dash_feed_message(d, "pl/b/edge-01/telemetry", good, strlen(good), T0);
	dash_feed_message(d, "pl/a/x/edge-01/telemetry", good, strlen(good),
	    T0);
	dash_feed_message(d, "pl/a/edge-01/event", "{}", 2, T0);
	CHECK(DASH_COUNTER(d, other) == 2 && DASH_COUNTER(d, node_events) == 1
	    && nevents == 1);
	/* An alarm, with its ack (ann's, from test_alarms_and_acks). */
	dash_feed_message(d, "pl/a/alarms", alarm, strlen(alarm), T0);
	CHECK(nevents == 2 && strncmp(events[1], "alarm {", 7) == 0 &&
	    strstr(events[1], "\"acked_by\":\"ann\"") &&
	    strstr(events[1], "\"event\":\"raise\"") &&
	    strstr(events[1], "\"peak\":9.75"));
	dash_feed_message(d, "pl/a/alarms", "{\"event\":\"raise\"}", 17, T0);
	dash_feed_message(d, "pl/a/alarms", "[1,2]", 5, T0);
	dash_feed_message(d, "pl/a/alarms", "{\"id\":1\0}", 9, T0);
	CHECK(DASH_COUNTER(d, bad_alarms) == 3 && nevents == 2);
	dash_data_free(d);
}


/* The same through a real broker (mosquitto on loopback, anonymous):
 * the feed connects, subscribes and hands a published reading and an
 * alarm to the hook.  mosquitto_pub runs every 0.3 s until the event
 * arrives (the subscription may not be there for the first ones). */
static int broker_port;
static int published;

static void publish_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	char cmd[1024];
	bool want_alarm = nevents > 0 &&
	    strncmp(events[nevents - 1], "reading", 7) == 0;

	(void)w;
	(void)revents;
	if ((nevents > 0 && !want_alarm) || ++published > 50) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	snprintf(cmd, sizeof(cmd), "mosquitto_pub -h 127.0.0.1 -p %d -q 1 "
	    "-t %s -m '%s'", broker_port, want_alarm ? "pl/b/alarms" :
	    "pl/b/edge-09/telemetry", want_alarm ? "{\"event\":\"clear\","
	    "\"id\":3,\"node\":\"n1\",\"kind\":\"gap\",\"severity\":1,"
	    "\"start\":1765000400000,\"end\":1765000500000}" :
	    "{\"timestamp\":1765000000000,\"node_id\":\"edge-09\","
	    "\"data\":{\"p\":6.5,\"t\":64.8,\"v\":2.11},\"status\":0}");
	if (system(cmd) != 0)
		fprintf(stderr, "mosquitto_pub failed (broker not up yet?)\n");
}

/* A TCP port on loopback that nobody listens on right now. */
static int free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static pid_t start_broker(void)
{
	char conf[400], log[400];
	pid_t pid;
	FILE *f;
	int fd;

	snprintf(conf, sizeof(conf), "%s/mosquitto.conf", dir);
	snprintf(log, sizeof(log), "%s/mosquitto.log", dir);
	if ((broker_port = free_port()) < 0)
		return -1;
	if ((f = fopen(conf, "w")) == NULL)
		return -1;
	fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\n",
	    broker_port);
	fclose(f);
	chmod(dir, 0755);		/* mosquitto reads it as its own user */
	chmod(conf, 0644);
	pid = fork();
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl("/usr/sbin/mosquitto", "mosquitto", "-c", conf,
		    (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void test_feed_broker(void)
{
	struct dash_data_config cfg = {
		.db_path = db_path, .acks_path = acks_path,
		.topic_prefix = "pl/b", .on_event = on_event,
		.broker_host = "127.0.0.1",
	};
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	char err[DASH_ERR_MAX] = "";
	struct dash_data *d;
	ev_timer tick;
	pid_t broker;

	if ((broker = start_broker()) < 0) {
		CHECK_FAIL("cannot start mosquitto");
		return;
	}
	cfg.broker_port = broker_port;
	nevents = 0;
	published = 0;
	d = dash_data_new(&cfg, err);
	CHECK(d != NULL);
	if (d == NULL || dash_data_start(d, loop, err) != 0) {
		CHECK_FAIL("start: %s", err);
		goto out;
	}
	ev_timer_init(&tick, publish_tick, 0.3, 0.3);
	ev_timer_start(loop, &tick);
	ev_run(loop, 0);
	ev_timer_stop(loop, &tick);
	CHECK(nevents >= 2 && strncmp(events[0], "reading {", 9) == 0 &&
	    strstr(events[0], "\"node\":\"edge-09\"") &&
	    strstr(events[0], "\"p\":6.5"));
	CHECK(nevents >= 2 && strncmp(events[nevents - 1], "alarm {", 7) == 0
	    && strstr(events[nevents - 1], "\"event\":\"clear\"") &&
	    strstr(events[nevents - 1], "\"end\":1765000500000"));
	if (nevents < 2)
		CHECK_FAIL("%d events after %d publishes", nevents, published);
	dash_data_stop(d);
out:
	dash_data_free(d);
	ev_loop_destroy(loop);
	kill(broker, SIGTERM);
	waitpid(broker, NULL, 0);
}

/* ---------------------------------------------------------------- tunnel */

static void test_tunnel_parse(void)
{
	const char *get = "private_key=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nlisten_port=51820\n"
	    "public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4"
	    "bd85a8e75a33\npreshared_key=0000000000000000000000000000000000"
	    "000000000000000000000000000000\nendpoint=192.0.2.1:51820\n"
	    "last_handshake_time_sec=1765000000\nlast_handshake_time_nsec=5\n"
	    "tx_bytes=100\nrx_bytes=200\npersistent_keepalive_interval=25\n"
	    "allowed_ip=10.0.0.2/32\n"
	    "public_key=58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989c"
	    "eb7e19321376\nlast_handshake_time_sec=0\ntx_bytes=0\n"
	    "rx_bytes=0\nerrno=0\n\n";
	const char *stats = "rx_invalid=1\nrx_bad_mac=2\ntx_dropped=3\n"
	    "errno=0\n\n";
	struct dash_tunnel t = { 0 };

	CHECK(dash_tunnel_parse_get(get, &t) == 0);
	CHECK(t.npeers == 2);
	if (t.npeers == 2) {
		CHECK(strcmp(t.peers[0].public_key,
		    "uFmW/sycfx/G0lcqdu2hHVm80gvo5UOxXOS9hajnWjM=") == 0);
		CHECK(strcmp(t.peers[0].endpoint, "192.0.2.1:51820") == 0 &&
		    t.peers[0].latest_handshake == 1765000000 &&
		    t.peers[0].tx_bytes == 100 && t.peers[0].rx_bytes == 200);
		CHECK(t.peers[1].endpoint[0] == '\0' &&
		    t.peers[1].latest_handshake == 0);
	}
	CHECK(dash_tunnel_parse_stats(stats, &t) == 0 && t.ndrops == 3 &&
	    strcmp(t.drops[1].reason, "rx_bad_mac") == 0 &&
	    t.drops[2].count == 3);
	{
		struct wg_buf b = { 0 };

		dash_metrics_tunnel(&b, "wg\"0", &t, true, T0);
		CHECK(!b.failed && b.s && strstr(b.s,
		    "wgu_peer_last_handshake_age_seconds{interface=\"wg\\\"0\","
		    "peer=\"uFmW/sycfx/G0lcqdu2hHVm80gvo5UOxXOS9hajnWjM=\"} 0\n"));
		CHECK(b.s && strstr(b.s, "wgu_peer_receive_bytes_total{"
		    "interface=\"wg\\\"0\",peer=\"uFmW/sycfx/G0lcqdu2hHVm80gvo5"
		    "UOxXOS9hajnWjM=\"} 200\n"));
		CHECK(b.s && strstr(b.s, "peer=\"WEAuaVuhdysc"));
		CHECK(b.s && strstr(b.s, "} +Inf\n"));
		CHECK(b.s && strstr(b.s, "wgu_drops_total{interface=\"wg\\\"0\","
		    "reason=\"rx_bad_mac\"} 2\n"));
		CHECK(b.s && strstr(b.s, "wgu_dashboard_tunnel_up{interface="
		    "\"wg\\\"0\"} 1\n"));
		if (b.s)
			check_promtool(b.s, b.len, "tunnel.txt");
		wg_buf_free(&b);
		dash_metrics_tunnel(&b, "wg0", &t, false, T0);
		CHECK(b.s && strstr(b.s, "wgu_dashboard_tunnel_up{interface="
		    "\"wg0\"} 0\n") && !strstr(b.s, "wgu_peer"));
		wg_buf_free(&b);
	}
	dash_tunnel_clear(&t);
	/* Not UAPI: refused, nothing kept. */
	CHECK(dash_tunnel_parse_get("public_key=zz\nerrno=0\n\n", &t) < 0);
	dash_tunnel_clear(&t);
	CHECK(dash_tunnel_parse_get("listen_port=1\n\n", &t) < 0);
	CHECK(dash_tunnel_parse_get("no equals\nerrno=0\n\n", &t) < 0);
	CHECK(dash_tunnel_parse_stats("rx_x=-1\nerrno=0\n\n", &t) < 0);
	CHECK(dash_tunnel_parse_stats("rx\"x=1\nerrno=0\n\n", &t) < 0);
	CHECK(dash_tunnel_parse_stats("rx_x=1\nerrno=0\n", &t) < 0);
	dash_tunnel_clear(&t);
}

/* ---------------------------------------------------------------- metrics */

static void test_metrics(void)
{
	struct dash_data *d = open_data(db_path);
	struct dash_reply r = { 0 };
	char esc[64];

	dash_metrics_escape("a\"b\\c\nd", esc, sizeof(esc));
	CHECK(strcmp(esc, "a\\\"b\\\\c\\nd") == 0);
	dash_metrics_escape("\\\\\\", esc, 5);		/* cut, not split */
	CHECK(strcmp(esc, "\\\\\\\\") == 0);
	if (d == NULL)
		return;
	CHECK(dash_data_start(d, NULL, (char[DASH_ERR_MAX]){ 0 }) == 0);
	CHECK(dash_metrics(d, T0 + N1_READINGS * 1000, &r) == 200);
	CHECK(strncmp(r.content_type, "text/plain; version=0.0.4", 25) == 0);
	if (r.body == NULL)
		goto out;
	CHECK(strstr(r.body, "# TYPE wgu_node_readings_total counter\n"));
	CHECK(strstr(r.body, "wgu_node_value{node=\"n1\",field=\"p\"} 9\n"));
	CHECK(strstr(r.body, "wgu_node_value{node=\"-n2\",field=\"p\"} 1.5\n"));
	CHECK(strstr(r.body, "wgu_node_status{node=\"n1\"} 1\n"));
	CHECK(strstr(r.body, "wgu_node_last_reading_age_seconds{node=\"n1\"} "
	    "0.995\n"));
	CHECK(strstr(r.body, "wgu_historian_duplicates_dropped_total 7\n"));
	CHECK(strstr(r.body, "wgu_historian_ingest_lag_seconds 0.25\n"));
	CHECK(!strstr(r.body, "wgu_historian_rejects_total"));
	CHECK(strstr(r.body, "wgu_alarms_active{kind=\"threshold\","
	    "severity=\"2\"} 1\n"));
	CHECK(strstr(r.body, "wgu_alarms_active{kind=\"gap\",severity=\"1\"} "
	    "1\n"));
	CHECK(strstr(r.body, "wgu_alarms_active{kind=\"silent\","
	    "severity=\"2\"} 0\n"));
	CHECK(strstr(r.body, "wgu_node_last_reading_age_seconds{node=\"-n2\"} "
	    "4990.993\n"));
	check_promtool(r.body, r.len, "metrics.txt");
out:
	dash_reply_free(&r);
	dash_data_free(d);
}

/* The historian's --rebuild removes the store and makes a new one: the
 * dashboard notices the new file instead of reading the old one's
 * ghost. */
static void test_store_replaced(void)
{
	struct store_position pos = { 1, 2, 100, 1 };
	struct dash_data *d = open_data(db_path);
	struct dash_reply r = { 0 };
	struct telemetry_reading rd;
	struct store *s;

	if (d == NULL)
		return;
	history(d, "n1", T0, T0 + 1000, DASH_FIELD_P, false, &r);
	CHECK(r.status == 200);
	dash_reply_free(&r);
	CHECK(store_remove(db_path) == 0);
	history(d, "n1", T0, T0 + 1000, DASH_FIELD_P, false, &r);
	CHECK(r.status == 503);
	dash_reply_free(&r);
	if (store_open(&s, db_path) != 0) {
		CHECK_FAIL("store_open");
		dash_data_free(d);
		return;
	}
	reading(&rd, "n7", T0, 1, 4.25);
	CHECK(store_add(s, &rd, (uint64_t)T0 + 3, T0, &pos) == 1);
	CHECK(store_commit(s) == 0);
	history(d, "n7", T0, T0 + 1000, DASH_FIELD_P, false, &r);
	CHECK(r.status == 200 && r.body && strstr(r.body, "[[1765000000000,"
	    "4.25,4.25,4.25]]"));
	dash_reply_free(&r);
	history(d, "n1", T0, T0 + 1000, DASH_FIELD_P, false, &r);
	CHECK(r.status == 404);
	dash_reply_free(&r);
	store_close(s);
	dash_data_free(d);
}

static void cleanup(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_dashboard_data.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(db_path, sizeof(db_path), "%s/industrial_production.db", dir);
	snprintf(acks_path, sizeof(acks_path), "%s/acks.db", dir);
	RUN(test_parse_time);
	RUN(test_parse_args);
	RUN(test_fleet);
	RUN(test_tunnel_parse);
	RUN(make_store);
	RUN(test_history_raw);
	RUN(test_history_aggregated);
	RUN(test_history_random);
	RUN(test_no_store);
	RUN(test_alarms_before_table);
	RUN(make_alarm_tables);
	RUN(test_alarms_and_acks);
	RUN(test_feed);
	RUN(test_feed_broker);
	RUN(test_metrics);
	RUN(test_store_replaced);
	cleanup();
	return check_summary();
}
