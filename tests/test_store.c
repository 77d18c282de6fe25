/* The store (src/hub/store.c) and the log line reader it catches up with
 * (src/hub/logline.c), against real SQLite files in a temporary
 * directory: rows exactly once, the log position committed with the rows
 * (a crash mid-batch loses both), catch-up and rebuild equal to the live
 * path, the bulk load of --rebuild and its log lines read without cJSON
 * equal to the plain way, across rotation, an unreadable database made
 * anew, retention;
 * the alarms kept beside the readings (schema 2, a version 1 store
 * migrated in place, carried over by a rebuild, refused by any other
 * backend). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "hub/logline.h"
#include "hub/store.h"
#include "hub/store_internal.h"

static char dir[256];

static const char *path_in(char *buf, const char *name)
{
	snprintf(buf, 512, "%s/%s", dir, name);
	return buf;
}

/* A log line as the historian writes it; seq 0: a reading without
 * boot_id/seq; extra: a data field beyond p, t, v. */
static int log_line(char *buf, size_t cap, const char *node, uint64_t seq,
    int64_t ts, uint64_t received, double p, bool extra)
{
	char ids[64] = "";
	int status = p >= TELEMETRY_P_CRIT ? 2 : p >= TELEMETRY_P_WARN ? 1 : 0;

	if (seq)
		snprintf(ids, sizeof(ids), "\"boot_id\":3,\"seq\":%" PRIu64 ",",
		    seq);
	return snprintf(buf, cap, "{\"received\":%" PRIu64 ",\"topic\":"
	    "\"a/%s/telemetry\",\"ts\":%" PRId64 ",\"guarantee\":\"%s\","
	    "\"payload\":{\"node_id\":\"%s\",\"timestamp\":%" PRId64 ",%s"
	    "\"data\":{\"p\":%.2f,\"t\":60.5,\"v\":2.25%s},\"status\":%d},"
	    "\"chain\":\"abcd\"}\n", received, node, ts, seq ?
	    "exactly-once" : "at-least-once", node, ts, ids, p,
	    extra ? ",\"flow\":12.5" : "", status);
}

/* Writes n lines (node n1 with seq from first_seq, every fourth line of
 * node n2 without seq) to path, appending. */
static void write_log(const char *path, uint64_t first_seq, int n)
{
	FILE *f = fopen(path, "a");
	char line[1024];
	int i;

	if (f == NULL) {
		CHECK_FAIL("%s: %s", path, strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		uint64_t seq = first_seq + (uint64_t)i;
		int64_t ts = 1765000000000 + (int64_t)seq * 1000;

		if (i % 4 == 3)
			log_line(line, sizeof(line), "n2", 0, ts, (uint64_t)ts +
			    7, 5.0 + (double)(i % 5), i % 8 == 3);
		else
			log_line(line, sizeof(line), "n1", seq, ts,
			    (uint64_t)ts + 5, 5.0 + (double)(i % 5), i % 3 == 0);
		fputs(line, f);
	}
	fclose(f);
}

/* The store's rows as text, in a fixed order. */
static char *dump(const char *db_path)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK || sqlite3_prepare_v2(db, "SELECT n.name, r.boot, r.seq, "
	    "r.ts, r.received, r.p, r.t, r.v, r.status, r.exactly_once, "
	    "r.digest, (SELECT group_concat(name || '=' || value) FROM fields "
	    "WHERE reading = r.id) FROM readings r JOIN nodes n ON n.id = "
	    "r.node ORDER BY n.name, r.ts, r.received", -1, &q, NULL) !=
	    SQLITE_OK) {
		CHECK_FAIL("%s: %s", db_path, sqlite3_errmsg(db));
		sqlite3_close(db);
		fclose(f);
		return out;
	}
	while (sqlite3_step(q) == SQLITE_ROW) {
		int i;

		for (i = 0; i < 12; i++)
			fprintf(f, "%s|", sqlite3_column_text(q, i) ?
			    (const char *)sqlite3_column_text(q, i) : "NULL");
		fputc('\n', f);
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	fclose(f);
	return out;
}

/* The schema as text: what sqlite_master holds, in a fixed order. */
static char *dump_schema(const char *db_path)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK && sqlite3_prepare_v2(db, "SELECT type, name, tbl_name, "
	    "sql FROM sqlite_master ORDER BY name", -1, &q, NULL) ==
	    SQLITE_OK) {
		while (sqlite3_step(q) == SQLITE_ROW)
			fprintf(f, "%s|%s|%s|%s\n", sqlite3_column_text(q, 0),
			    sqlite3_column_text(q, 1),
			    sqlite3_column_text(q, 2),
			    sqlite3_column_text(q, 3) ?
			    (const char *)sqlite3_column_text(q, 3) : "");
		sqlite3_finalize(q);
	}
	sqlite3_close(db);
	fclose(f);
	return out;
}

static int64_t count_rows(const char *db_path)
{
	char *d = dump(db_path), *p;
	int64_t n = 0;

	for (p = d; p && *p; p++)
		n += *p == '\n';
	free(d);
	return n;
}

/* The live path: every line of the log parsed and added with the
 * position after it, one commit at the end (as ingest.c does). */
static void add_live(struct store *s, const char *log_path)
{
	int fd = open(log_path, O_RDONLY);
	struct stat st;
	struct store_position pos = { 0 };
	char *buf;
	size_t len, off = 0;

	if (fd < 0 || fstat(fd, &st) != 0) {
		CHECK_FAIL("%s: %s", log_path, strerror(errno));
		return;
	}
	pos.dev = (uint64_t)st.st_dev;
	pos.ino = (uint64_t)st.st_ino;
	len = (size_t)st.st_size;
	buf = malloc(len + 1);
	CHECK(read(fd, buf, len) == (ssize_t)len);
	close(fd);
	while (off < len) {
		char *nl = memchr(buf + off, '\n', len - off);
		struct telemetry_reading r;
		uint64_t received;
		int64_t ts;

		if (nl == NULL)
			break;
		pos.offset = (uint64_t)(nl - buf) + 1;
		pos.lines++;
		if (logline_parse(buf + off, (size_t)(nl - buf) - off, &r,
		    &received, &ts) == 0)
			CHECK(store_add(s, &r, received, ts, &pos) == 1);
		else
			store_advance(s, &pos);
		off = pos.offset;
	}
	CHECK(store_commit(s) == 0);
	free(buf);
}

static void test_logline(void)
{
	char line[1024];
	struct telemetry_reading r;
	uint64_t received;
	int64_t ts;
	int n;

	n = log_line(line, sizeof(line), "n1", 9, 1765000000000, 1765000000005,
	    9.75, true);
	CHECK(logline_parse(line, (size_t)n - 1, &r, &received, &ts) == 0);
	CHECK(strcmp(r.node_id, "n1") == 0 && r.has_seq && r.boot_id == 3 &&
	    r.seq == 9);
	CHECK(ts == 1765000000000 && received == 1765000000005);
	CHECK(r.status == 2 && r.nfields == 4 && fabs(r.p - 9.75) < 1e-9);
	/* ts wins over the payload's timestamp (the historian's zoneless
	 * offset); lines without ts take the payload's. */
	strcpy(line, "{\"received\":5,\"ts\":1767225600000,\"payload\":{"
	    "\"node_id\":\"x\",\"timestamp\":\"2026-01-01T01:00:00\","
	    "\"data\":{\"p\":1},\"status\":0}}");
	CHECK(logline_parse(line, strlen(line), &r, &received, &ts) == 0);
	CHECK(ts == 1767225600000 && r.timestamp_ms == ts && !r.has_seq);
	strcpy(line, "{\"received\":5,\"payload\":{\"node_id\":\"x\","
	    "\"timestamp\":\"2026-01-01T01:00:00Z\",\"data\":{\"p\":1},"
	    "\"status\":0}}");
	CHECK(logline_parse(line, strlen(line), &r, &received, &ts) == 0);
	CHECK(ts == 1767229200000);
	CHECK(logline_parse("not json", 8, &r, &received, &ts) == -EINVAL);
	CHECK(logline_parse("{\"received\":-1,\"payload\":{}}", 28, &r,
	    &received, &ts) == -EINVAL);
	CHECK(logline_parse("{\"received\":1,\"reason\":\"x\",\"raw\":\"\"}", 36,
	    &r, &received, &ts) == -EINVAL);
}

/* The historian's own lines are read without cJSON's parser
 * (logline.c): every line must come out as cJSON's way makes it, the
 * reading and the verdict. */
static void test_logline_fast(void)
{
	static const char *const lines[] = {
		/* what the historian writes, chained or not */
		"{\"received\":1764547200015,\"topic\":\"p/a/l/n000/telemetry\","
		"\"ts\":1764547200000,\"guarantee\":\"exactly-once\",\"payload\":"
		"{\"node_id\":\"n000\",\"timestamp\":1764547200000,\"boot_id\":1,"
		"\"seq\":1,\"data\":{\"p\":5.77,\"t\":64.0,\"v\":2.82},"
		"\"status\":0},\"chain\":\"00ff\"}",
		"{\"received\":5,\"ts\":1767225600000,\"payload\":{\"node_id\":"
		"\"x\",\"timestamp\":1767225600.125,\"data\":{\"p\":0.1,\"flow\":"
		"-0,\"q\":-12.5,\"r\":123456.789012345,\"s\":0.3},\"status\":1}}",
		/* what goes to cJSON, and must mean the same */
		"{\"received\": 5,\"payload\":{\"node_id\":\"x\",\"timestamp\":1,"
		"\"data\":{\"p\":1},\"status\":0}}",
		"{\"received\":5,\"payload\":{\"node_id\":\"\\u0078\","
		"\"timestamp\":1,\"data\":{\"p\":1},\"status\":0}}",
		"{\"received\":5e0,\"payload\":{\"node_id\":\"x\",\"timestamp\":1,"
		"\"data\":{\"p\":1E0},\"status\":0}}",
		"{\"received\":5,\"payload\":{\"node_id\":\"x\",\"timestamp\":1,"
		"\"data\":{\"p\":1.0000000000000001},\"status\":0}}",
		"{\"received\":5,\"payload\":{\"node_id\":\"x\",\"timestamp\":1,"
		"\"data\":{\"p\":1},\"status\":0}} trailing",
		"{\"received\":5,\"payload\":{\"node_id\":\"x\",\"timestamp\":1,"
		"\"data\":{\"p\":01},\"status\":0}}",
		/* refused both ways: a duplicate, a type, a range, a shape */
		"{\"received\":5,\"payload\":{\"node_id\":\"x\",\"node_id\":\"y\","
		"\"timestamp\":1,\"data\":{\"p\":1},\"status\":0}}",
		"{\"received\":5,\"payload\":{\"node_id\":\"x\",\"timestamp\":1,"
		"\"data\":{\"p\":1,\"p\":2},\"status\":0}}",
		"{\"received\":5,\"payload\":{\"node_id\":\"x\",\"timestamp\":1,"
		"\"data\":{\"p\":\"1\"},\"status\":0}}",
		"{\"received\":5,\"payload\":{\"node_id\":\"x\",\"timestamp\":1,"
		"\"data\":{\"p\":400.01},\"status\":0}}",
		"{\"received\":-5,\"payload\":{\"node_id\":\"x\",\"timestamp\":1,"
		"\"data\":{\"p\":1},\"status\":0}}",
		"{\"received\":5,\"payload\":{\"node_id\":\"x\",\"timestamp\":1,"
		"\"data\":{\"p\":{\"q\":1}},\"status\":0}}",
		"{\"received\":5,\"payload\":{\"node_id\":\"x\",\"timestamp\":1,"
		"\"data\":{},\"status\":0}}",
		"{\"received\":5,\"received\":6,\"payload\":{\"node_id\":\"x\","
		"\"timestamp\":1,\"data\":{\"p\":1},\"status\":0}}",
		"{\"received\":5,\"payload\":{\"node_id\":\"x\",\"timestamp\":1,"
		"\"data\":{\"p\":1},\"status\":0}",
		"{\"received\":5,\"payload\":{\"node_id\":\"x\",\"timestamp\":-1,"
		"\"data\":{\"p\":1},\"status\":0}}",
		"{}", "{\"a\"}", "{\"a\":}", "{\"a\":-}", "{\"a\":1.}",
	};
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct telemetry_reading a, b;
		uint64_t ra = 1, rb = 2;
		int64_t ta = 3, tb = 4;
		int reta, retb;

		memset(&a, 0xa5, sizeof(a));
		memset(&b, 0xa5, sizeof(b));
		reta = logline_parse(lines[i], strlen(lines[i]), &a, &ra, &ta);
		retb = logline_parse_cjson(lines[i], strlen(lines[i]), &b, &rb,
		    &tb);
		CHECK(reta == retb);
		CHECK(reta != 0 || (ra == rb && ta == tb &&
		    memcmp(&a, &b, sizeof(a)) == 0));
		/* The table's first two lines are readings. */
		CHECK(i >= 2 || reta == 0);
	}
}

/* Whether the store at db_path has table or index name. */
static bool has_object(const char *db_path, const char *name)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	bool found = false;

	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK && sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master "
	    "WHERE name = ?1", -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
		found = sqlite3_step(q) == SQLITE_ROW;
		sqlite3_finalize(q);
	}
	sqlite3_close(db);
	return found;
}

/* log into db_path, as --rebuild does when bulk; the counters into *n. */
static void load(const char *db_path, const char *log_path, bool bulk,
    struct store_counters *n)
{
	const char *paths[1] = { log_path };
	struct store *s;
	uint64_t lines, bad;

	store_remove(db_path);
	CHECK(store_open(&s, db_path) == 0);
	if (s == NULL)
		return;
	CHECK(!bulk || store_bulk(s, true) == 0);
	CHECK(store_catch_up(s, paths, 1, &lines, &bad) == 0);
	CHECK(!bulk || store_bulk(s, false) == 0);
	*n = *store_counters(s);
	store_close(s);
}

/* A bulk load (--rebuild) makes readings_seq at its end when the log is
 * in order, and at the first reading out of order when not: the same
 * rows, the same refusals and the same schema as reading the log
 * without it. */
static void test_bulk(void)
{
	char db[512], plain[512], log[512], *a, *b;
	struct store_counters na, nb;
	struct telemetry_reading r;
	struct store *s;
	uint64_t received;
	int64_t ts;
	int k;

	path_in(db, "bulk.db");
	path_in(plain, "bulk-plain.db");
	for (k = 0; k < 2; k++) {
		unlink(path_in(log, "bulk.log"));
		write_log(log, 1, 100);
		if (k == 1) {
			/* A resend of 101..120 after 121..160, then a line
			 * logged twice (n1 with seq, n2 without). */
			write_log(log, 121, 40);
			write_log(log, 101, 20);
			write_log(log, 121, 4);
		}
		load(db, log, true, &na);
		load(plain, log, false, &nb);
		CHECK(na.added == nb.added && na.present == nb.present);
		CHECK(na.added == (k ? 160u : 100u) && na.present == (k ? 4u :
		    0u));
		a = dump(db);
		b = dump(plain);
		CHECK(a && b && strcmp(a, b) == 0);
		free(a);
		free(b);
		CHECK(has_object(db, "readings_seq") &&
		    has_object(db, "readings_anomalies") &&
		    !has_object(db, "unfinished_rebuild"));
	}
	a = dump_schema(db);
	b = dump_schema(plain);
	CHECK(a && b && strcmp(a, b) == 0);
	free(a);
	free(b);
	/* readings_seq is there: a reading again is refused. */
	{
		char line[1024];
		struct store_position pos = { 1, 2, 3, 4 };
		int n = log_line(line, sizeof(line), "n1", 5, 1765000005000,
		    1765000005005, 5.0, false);

		CHECK(store_open(&s, db) == 0);
		CHECK(logline_parse(line, (size_t)n - 1, &r, &received, &ts) ==
		    0);
		CHECK(s && store_add(s, &r, received, ts, &pos) == 0);
		store_close(s);
	}
}

/* A bulk load that did not finish (the machine stopped; here the child
 * exits in the middle) leaves a store that is refused, to be made
 * anew: its pages were written without syncing. */
static void test_bulk_unfinished(void)
{
	char db[512], log[512];
	const char *paths[1] = { log };
	struct store *s;
	pid_t pid;
	int status;

	store_remove(path_in(db, "cut.db"));
	unlink(path_in(log, "cut.log"));
	write_log(log, 1, 100);
	pid = fork();
	if (pid == 0) {
		uint64_t lines, bad;

		if (store_open(&s, db) < 0 || store_bulk(s, true) < 0 ||
		    store_catch_up(s, paths, 1, &lines, &bad) < 0)
			_exit(1);
		_exit(0);	/* no store_bulk(s, false) */
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0);
	CHECK(count_rows(db) == 100);
	CHECK(store_open(&s, db) == -EBADMSG && s == NULL);
	CHECK(store_remove(db) == 0);
	CHECK(store_open(&s, db) == 0);
	store_close(s);
}

static void test_insert_and_duplicates(void)
{
	char db[512], line[1024];
	struct store *s;
	struct telemetry_reading r;
	struct store_position pos = { 1, 2, 100, 1 };
	uint64_t received;
	int64_t ts;
	int n;

	store_remove(path_in(db, "dup.db"));
	CHECK(store_open(&s, db) == 0);
	if (s == NULL)
		return;
	n = log_line(line, sizeof(line), "n1", 1, 1765000000000, 1765000000005,
	    5.5, true);
	CHECK(logline_parse(line, (size_t)n - 1, &r, &received, &ts) == 0);
	CHECK(store_add(s, &r, received, ts, &pos) == 1);
	/* The same (node, boot, seq): refused, whatever else differs. */
	CHECK(store_add(s, &r, received + 1000, ts, &pos) == 0);
	/* Without seq: the same line refused, a redelivery logged again
	 * (another received) kept, as the log holds it twice. */
	n = log_line(line, sizeof(line), "n2", 0, 1765000000000, 1765000000009,
	    5.5, false);
	CHECK(logline_parse(line, (size_t)n - 1, &r, &received, &ts) == 0);
	CHECK(store_add(s, &r, received, ts, &pos) == 1);
	CHECK(store_add(s, &r, received, ts, &pos) == 0);
	CHECK(store_add(s, &r, received + 1, ts, &pos) == 1);
	CHECK(store_pending(s) == 3);
	CHECK(store_commit(s) == 0);
	CHECK(store_pending(s) == 0);
	CHECK(store_counters(s)->added == 3 && store_counters(s)->present == 2);
	store_close(s);
	CHECK(count_rows(db) == 3);
}

/* A crash mid-batch (the child exits without committing) loses the rows
 * and the position together: the store is what the last commit says. */
static void test_position_with_rows(void)
{
	char db[512], log[512];
	struct store *s;
	struct store_position pos;
	pid_t pid;
	int status;

	store_remove(path_in(db, "crash.db"));
	unlink(path_in(log, "crash.log"));
	write_log(log, 1, 40);
	pid = fork();
	if (pid == 0) {
		struct telemetry_reading r;
		struct store_position p = { 9, 9, 0, 0 };
		uint64_t received;
		int64_t ts;
		char line[1024];
		int i, n;

		if (store_open(&s, db) < 0)
			_exit(1);
		for (i = 1; i <= 8; i++) {
			n = log_line(line, sizeof(line), "n1", (uint64_t)i,
			    1765000000000 + i * 1000, 1765000000005 + i * 1000,
			    5, false);
			logline_parse(line, (size_t)n - 1, &r, &received, &ts);
			p.offset += (uint64_t)n;
			p.lines++;
			store_add(s, &r, received, ts, &p);
			if (i == 5 && store_commit(s) < 0)
				_exit(1);
		}
		_exit(0);	/* 6..8 and their position never committed */
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0);
	CHECK(count_rows(db) == 5);
	CHECK(store_open(&s, db) == 0);
	if (s == NULL)
		return;
	CHECK(store_position(s, &pos) == 0);
	CHECK(pos.dev == 9 && pos.ino == 9 && pos.lines == 5);
	store_close(s);
}

/* Live, caught up from the middle, rebuilt from zero: the same rows. */
static void test_catch_up_equals_live(void)
{
	char live_db[512], half_db[512], re_db[512], log[512];
	const char *paths[1] = { log };
	struct store *s;
	struct store_position pos;
	uint64_t lines, bad;
	char *a, *b, *c;
	struct stat st;

	unlink(path_in(log, "eq.log"));
	store_remove(path_in(live_db, "eq-live.db"));
	store_remove(path_in(half_db, "eq-half.db"));
	store_remove(path_in(re_db, "eq-re.db"));
	write_log(log, 1, 200);
	/* A line that is no reading moves the position all the same. */
	{
		FILE *f = fopen(log, "a");

		fputs("{\"received\":1,\"reason\":\"not a reading\"}\n", f);
		fclose(f);
	}
	write_log(log, 201, 100);
	CHECK(store_open(&s, live_db) == 0);
	add_live(s, log);
	store_close(s);

	/* Half of it live, the rest by catch-up from the position. */
	CHECK(truncate(log, 0) == 0);
	write_log(log, 1, 200);
	CHECK(store_open(&s, half_db) == 0);
	add_live(s, log);
	store_close(s);
	{
		FILE *f = fopen(log, "a");

		fputs("{\"received\":1,\"reason\":\"not a reading\"}\n", f);
		fclose(f);
	}
	write_log(log, 201, 100);
	CHECK(store_open(&s, half_db) == 0);
	CHECK(store_catch_up(s, paths, 1, &lines, &bad) == 0);
	CHECK(lines == 101 && bad == 1);
	CHECK(store_counters(s)->added == 100 &&
	    store_counters(s)->present == 0);
	CHECK(store_position(s, &pos) == 0 && stat(log, &st) == 0);
	CHECK(pos.offset == (uint64_t)st.st_size && pos.lines == 301 &&
	    pos.ino == (uint64_t)st.st_ino);
	/* Level: a second catch-up reads nothing. */
	CHECK(store_catch_up(s, paths, 1, &lines, &bad) == 0 && lines == 0);
	store_close(s);

	CHECK(store_open(&s, re_db) == 0);
	CHECK(store_catch_up(s, paths, 1, &lines, &bad) == 0);
	CHECK(lines == 301 && store_counters(s)->added == 300);
	store_close(s);

	a = dump(live_db);
	b = dump(half_db);
	c = dump(re_db);
	CHECK(a && b && c && strlen(a) > 1000);
	CHECK(a && b && strcmp(a, b) == 0);
	CHECK(a && c && strcmp(a, c) == 0);
	free(a);
	free(b);
	free(c);
}

/* The position in a rotated log: the rest of it, then the new log. */
static void test_rotation(void)
{
	char db[512], old[512], cur[512];
	const char *paths[2] = { old, cur };
	struct store *s;
	uint64_t lines, bad;

	store_remove(path_in(db, "rot.db"));
	unlink(path_in(old, "rot.log.1"));
	unlink(path_in(cur, "rot.log"));
	write_log(old, 1, 50);
	CHECK(store_open(&s, db) == 0);
	add_live(s, old);
	store_close(s);
	write_log(old, 51, 10);		/* written before the rotation */
	write_log(cur, 61, 30);
	CHECK(store_open(&s, db) == 0);
	CHECK(store_catch_up(s, paths, 2, &lines, &bad) == 0);
	CHECK(lines == 40 && store_counters(s)->added == 40 &&
	    store_counters(s)->present == 0);
	store_close(s);
	CHECK(count_rows(db) == 90);

	/* A position no file holds (the db of another log): every file is
	 * read, nothing added twice. */
	CHECK(store_open(&s, db) == 0);
	{
		struct store_position far = { 1, 1, 5, 1 };

		store_advance(s, &far);
		CHECK(store_commit(s) == 0);
	}
	CHECK(store_catch_up(s, paths, 2, &lines, &bad) == 0);
	CHECK(lines == 90 && store_counters(s)->added == 0 &&
	    store_counters(s)->present == 90);
	store_close(s);
	CHECK(count_rows(db) == 90);
}

/* Garbage where the database was: refused as unreadable, made anew from
 * the log; a deleted one likewise. */
static void test_unreadable_rebuilt(void)
{
	char db[512], log[512], *a, *b;
	const char *paths[1] = { log };
	struct store *s;
	uint64_t lines, bad;
	FILE *f;
	int i;

	store_remove(path_in(db, "bad.db"));
	unlink(path_in(log, "bad.log"));
	write_log(log, 1, 120);
	CHECK(store_open(&s, db) == 0);
	CHECK(store_catch_up(s, paths, 1, &lines, &bad) == 0);
	store_close(s);
	a = dump(db);

	f = fopen(db, "r+");
	for (i = 0; i < 4096; i++)
		fputc(i * 7 & 0xff, f);
	fclose(f);
	CHECK(store_open(&s, db) == -EBADMSG && s == NULL);
	CHECK(store_remove(db) == 0);
	CHECK(access(db, F_OK) != 0);
	CHECK(store_open(&s, db) == 0);
	CHECK(store_catch_up(s, paths, 1, &lines, &bad) == 0 && lines == 120);
	store_close(s);
	b = dump(db);
	CHECK(a && b && strcmp(a, b) == 0);
	free(a);
	free(b);
}

static void test_retain(void)
{
	char db[512], log[512];
	const char *paths[1] = { log };
	struct store *s;
	uint64_t lines, bad;

	store_remove(path_in(db, "ret.db"));
	unlink(path_in(log, "ret.log"));
	write_log(log, 1, 100);		/* ts 1765000001000 + k * 1000 */
	CHECK(store_open(&s, db) == 0);
	CHECK(store_catch_up(s, paths, 1, &lines, &bad) == 0);
	CHECK(store_retain(s, 1765000000000 + 41 * 1000) == 40);
	CHECK(store_retain(s, 1765000000000 + 41 * 1000) == 0);
	store_close(s);
	CHECK(count_rows(db) == 60);
}

static int collect(void *ctx, const struct alarm *a)
{
	struct alarm *out = ctx;
	int i;

	for (i = 0; i < 4; i++)
		if (out[i].id == 0) {
			out[i] = *a;
			return 0;
		}
	return -ENOSPC;
}

static int last_of(void *ctx, const char *node, int64_t received)
{
	if (strcmp(node, "n1") == 0)
		*(int64_t *)ctx = received;
	return 0;
}

static int64_t one_int(const char *db_path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	int64_t v = -1;

	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &q, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW)
			v = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
	} else {
		CHECK_FAIL("%s: %s: %s", db_path, sql, sqlite3_errmsg(db));
	}
	sqlite3_close(db);
	return v;
}

static void test_alarms(void)
{
	char db[512], log[512];
	const char *paths[1] = { log };
	struct alarm a = { .kind = ALARM_THRESHOLD, .severity = 1,
	    .start = 1765000005000, .peak = 8.25 }, open[4], *rows;
	struct alarm_threshold t[2] = { { "p", 8, 9.5, false },
	    { "level", 20, 5, true } };
	struct store *s;
	uint64_t lines, bad;
	int64_t last = 0;
	size_t n;

	store_remove(path_in(db, "al.db"));
	unlink(path_in(log, "al.log"));
	write_log(log, 1, 20);
	CHECK(store_open(&s, db) == 0);
	CHECK(store_catch_up(s, paths, 1, &lines, &bad) == 0);
	snprintf(a.node, sizeof(a.node), "n1");
	snprintf(a.field, sizeof(a.field), "p");
	snprintf(a.detail, sizeof(a.detail), "p 8.25");
	CHECK(store_alarm_add(s, &a) == 0 && a.id == 1);
	a.severity = 2;
	a.peak = 9.75;
	CHECK(store_alarm_update(s, &a) == 0);
	a.id = 0;
	a.kind = ALARM_SILENT;
	a.field[0] = '\0';
	a.peak = NAN;
	CHECK(store_alarm_add(s, &a) == 0 && a.id == 2);
	a.end = 1765000009000;
	CHECK(store_alarm_update(s, &a) == 0);	/* cleared */
	CHECK(store_thresholds_set(s, t, 2) == 0);
	CHECK(store_stat_set(s, "readings_logged", 20, 1765000010000) == 0);
	CHECK(store_stat_set(s, "readings_logged", 21, 1765000011000) == 0);
	CHECK(store_commit(s) == 0);
	memset(open, 0, sizeof(open));
	CHECK(store_alarms_open(s, collect, open) == 0);
	CHECK(open[0].id == 1 && open[1].id == 0);
	CHECK(open[0].severity == 2 && open[0].peak == 9.75 &&
	    open[0].kind == ALARM_THRESHOLD && strcmp(open[0].field, "p") == 0 &&
	    open[0].start == 1765000005000 && open[0].end == 0);
	CHECK(store_nodes_last(s, last_of, &last) == 0 && last > 0);
	store_close(s);
	CHECK(one_int(db, "SELECT count(*) FROM thresholds WHERE field = "
	    "'level' AND direction = 'below'") == 1);
	CHECK(one_int(db, "SELECT value FROM historian_stats") == 21);
	CHECK(one_int(db, "SELECT count(*) FROM alarms WHERE field IS NULL "
	    "AND peak IS NULL AND end = 1765000009000") == 1);

	/* A rebuild: made anew from the log, its alarms carried over. */
	CHECK(store_alarms_save(db, &rows, &n) == 0 && n == 2);
	CHECK(store_remove(db) == 0);
	CHECK(store_open(&s, db) == 0);
	CHECK(store_alarms_restore(s, rows, n) == 0);
	free(rows);
	CHECK(store_catch_up(s, paths, 1, &lines, &bad) == 0);
	store_close(s);
	CHECK(one_int(db, "SELECT count(*) FROM alarms WHERE (id = 1 AND "
	    "severity = 2 AND end IS NULL) OR (id = 2 AND end IS NOT NULL)") ==
	    2);
	CHECK(store_alarms_save(path_in(log, "none.db"), &rows, &n) == 0 &&
	    n == 0 && rows == NULL);
}

/* A version 1 store (before the alarms): migrated in place, its rows
 * kept, and its readings not read again. */
static void test_migrate_v1(void)
{
	char db[512], log[512], *before, *after;
	const char *paths[1] = { log };
	struct store *s;
	uint64_t lines, bad;
	sqlite3 *h;

	store_remove(path_in(db, "v1.db"));
	unlink(path_in(log, "v1.log"));
	write_log(log, 1, 30);
	CHECK(store_open(&s, db) == 0);
	CHECK(store_catch_up(s, paths, 1, &lines, &bad) == 0);
	store_close(s);
	CHECK(sqlite3_open(db, &h) == SQLITE_OK);
	CHECK(sqlite3_exec(h, "DROP TABLE alarms; DROP TABLE historian_stats; "
	    "DROP TABLE thresholds; PRAGMA user_version = 1;", NULL, NULL,
	    NULL) == SQLITE_OK);
	sqlite3_close(h);
	before = dump(db);
	CHECK(store_open(&s, db) == 0);
	CHECK(store_catch_up(s, paths, 1, &lines, &bad) == 0);
	CHECK(store_counters(s)->added == 0);
	store_close(s);
	after = dump(db);
	CHECK(before && after && strcmp(before, after) == 0);
	CHECK(one_int(db, "PRAGMA user_version") == STORE_SCHEMA_VERSION);
	CHECK(one_int(db, "SELECT count(*) FROM alarms") == 0);
	CHECK(one_int(db, "SELECT count(*) FROM historian_stats") == 0);
	free(before);
	free(after);
	/* A later version than ours is refused, not migrated. */
	CHECK(sqlite3_open(db, &h) == SQLITE_OK);
	CHECK(sqlite3_exec(h, "PRAGMA user_version = 3;", NULL, NULL, NULL) ==
	    SQLITE_OK);
	sqlite3_close(h);
	CHECK(store_open(&s, db) == -EBADMSG && s == NULL);
}

/* Another backend (PostgreSQL's, here one whose operations are never
 * called) has no alarm tables: each call is refused, nothing reached. */
static void test_alarms_not_sqlite(void)
{
	static const struct store_ops other = { 0 };
	struct store s = { .ops = &other };
	struct alarm a = { .kind = ALARM_SILENT, .severity = 2, .start = 1 };
	struct alarm_threshold t = { "p", 8, 9.5, false };
	int64_t last = 0;

	snprintf(a.node, sizeof(a.node), "n1");
	CHECK(store_alarm_add(&s, &a) == -ENOTSUP && a.id == 0);
	a.id = 1;
	CHECK(store_alarm_update(&s, &a) == -ENOTSUP);
	CHECK(store_alarms_open(&s, collect, (struct alarm[1]){ { 0 } }) ==
	    -ENOTSUP);
	CHECK(store_nodes_last(&s, last_of, &last) == -ENOTSUP && last == 0);
	CHECK(store_thresholds_set(&s, &t, 1) == -ENOTSUP);
	CHECK(store_stat_set(&s, "gaps_open", 1, 1) == -ENOTSUP);
	CHECK(store_alarms_restore(&s, &a, 1) == -ENOTSUP);
	CHECK(!s.in_tx && !s.failed);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/test_store.XXXXXX",
	    tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_logline);
	RUN(test_logline_fast);
	RUN(test_bulk);
	RUN(test_bulk_unfinished);
	RUN(test_insert_and_duplicates);
	RUN(test_position_with_rows);
	RUN(test_catch_up_equals_live);
	RUN(test_rotation);
	RUN(test_unreadable_rebuilt);
	RUN(test_retain);
	RUN(test_alarms);
	RUN(test_migrate_v1);
	RUN(test_alarms_not_sqlite);
	if (check_tests_failed == 0) {
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
	return check_summary();
}
