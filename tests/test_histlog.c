/* The historian's log (src/hub/histlog.c): append, torn-tail repair, the
 * duplicate table rebuilt from the log, the record and reject formats.
 * Files live in a fresh directory under $TMPDIR. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "hub/dedup.h"
#include "hub/histlog.h"

static char dir[256];

static void path_of(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", dir, name);
}

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0);
	CHECK(write(fd, data, len) == (ssize_t)len);
	close(fd);
}

/* What recovery hands over: lines into the dedup table, the torn tail. */
struct rebuild {
	struct dedup_table *t;
	int lines, bad;
	char torn[256];
	size_t tornlen;
	int torn_calls;
};

static void on_line(void *ctx, const char *line, size_t len)
{
	struct rebuild *rb = ctx;
	struct histlog_key k;
	enum dedup_effect e;

	rb->lines++;
	if (histlog_parse_key(line, len, &k) < 0) {
		rb->bad++;
		return;
	}
	CHECK(dedup_add(rb->t, k.node_id, k.boot_id, k.seq, true, &e, NULL) == 0);
}

static void on_torn(void *ctx, const char *bytes, size_t len)
{
	struct rebuild *rb = ctx;

	rb->torn_calls++;
	rb->tornlen = len < sizeof(rb->torn) ? len : sizeof(rb->torn);
	memcpy(rb->torn, bytes, rb->tornlen);
}

#define REC(node, boot, seq) \
	"{\"received\":1,\"topic\":\"p/" node "/telemetry\",\"payload\":" \
	"{\"node_id\":\"" node "\",\"boot_id\":" #boot ",\"seq\":" #seq "}}\n"

static void test_append_and_recover(void)
{
	char path[300];
	struct histlog l;
	struct histlog_recovery r;
	struct rebuild rb = { 0 };
	const char *a = REC("n1", 1, 1), *b = REC("n1", 1, 2);
	char *all;
	size_t len;

	path_of(path, sizeof(path), "append.log");
	CHECK(histlog_open(&l, path, HISTLOG_FSYNC_ALWAYS, NULL, NULL, NULL,
	    &r) == 0);
	CHECK(r.lines == 0 && r.torn == 0);
	CHECK(histlog_append(&l, a, strlen(a)) == 0);
	CHECK(histlog_append(&l, b, strlen(b)) == 0);
	CHECK(l.syncs == 2 && !l.dirty);
	/* Not a whole line: refused, nothing written. */
	CHECK(histlog_append(&l, "x", 1) == -EINVAL);
	CHECK(histlog_append(&l, "", 0) == -EINVAL);
	histlog_close(&l);
	histlog_close(&l);	/* safe twice */

	rb.t = dedup_new(1);
	CHECK(histlog_open(&l, path, HISTLOG_FSYNC_INTERVAL, on_line, on_torn,
	    &rb, &r) == 0);
	CHECK(r.lines == 2 && r.torn == 0 && rb.torn_calls == 0);
	CHECK(r.kept == (off_t)(strlen(a) + strlen(b)));
	CHECK(dedup_lookup(rb.t, "n1", 1, 2) == DEDUP_DUPLICATE);
	CHECK(dedup_lookup(rb.t, "n1", 1, 3) == DEDUP_NEW);
	CHECK(dedup_at(rb.t, 0)->recovered == 2);
	/* INTERVAL: dirty until histlog_sync(). */
	CHECK(histlog_append(&l, REC("n1", 1, 3), strlen(REC("n1", 1, 3))) == 0);
	CHECK(l.dirty && l.syncs == 0);
	CHECK(histlog_sync(&l) == 0 && !l.dirty && l.syncs == 1);
	CHECK(histlog_sync(&l) == 0 && l.syncs == 1);
	histlog_close(&l);
	all = check_read_file(path, &len);
	CHECK(all && len == 3 * strlen(a));
	free(all);
	dedup_free(rb.t);
}

/* A torn last line is cut off and handed over; whole lines stay. */
static void test_torn_tail(void)
{
	static const struct {
		const char *content;
		size_t kept;		/* bytes kept */
		const char *torn;	/* expected tail */
		int lines;
	} rows[] = {
		{ "", 0, NULL, 0 },
		{ "abc", 0, "abc", 0 },
		{ "\n", 1, NULL, 1 },
		{ "one\ntwo", 4, "two", 1 },
		{ "one\ntwo\n", 8, NULL, 2 },
		{ "one\n\n{\"recei", 5, "{\"recei", 2 },
		{ "one\n\0\0\0\0", 4, "\0\0\0\0", 1 },
	};
	static const size_t lens[] = { 0, 3, 1, 7, 8, 12, 8 };
	char path[300];
	size_t i, len;

	path_of(path, sizeof(path), "torn.log");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct rebuild rb = { .t = dedup_new(1) };
		struct histlog l;
		struct histlog_recovery r;
		char *after;

		write_file(path, rows[i].content, lens[i]);
		CHECK(histlog_open(&l, path, HISTLOG_FSYNC_NEVER, on_line,
		    on_torn, &rb, &r) == 0);
		if (r.kept != (off_t)rows[i].kept || rb.lines != rows[i].lines)
			CHECK_FAIL("row %zu: kept %lld lines %d", i,
			    (long long)r.kept, rb.lines);
		if (rows[i].torn) {
			size_t tl = lens[i] - rows[i].kept;

			CHECK(rb.torn_calls == 1 && rb.tornlen == tl);
			CHECK_MEM(rb.torn, rows[i].torn, tl);
			CHECK(r.torn == (off_t)tl);
		} else {
			CHECK(rb.torn_calls == 0 && r.torn == 0);
		}
		/* Appending continues right after the whole lines. */
		CHECK(histlog_append(&l, "new\n", 4) == 0);
		histlog_close(&l);
		after = check_read_file(path, &len);
		CHECK(after && len == rows[i].kept + 4);
		if (after) {
			CHECK_MEM(after, rows[i].content, rows[i].kept);
			CHECK_MEM(after + rows[i].kept, "new\n", 4);
		}
		free(after);
		dedup_free(rb.t);
	}
}

/* Without a torn callback (the reject log) the tail is kept and ended. */
static void test_torn_kept(void)
{
	char path[300], *after;
	struct histlog l;
	struct histlog_recovery r;
	size_t len;

	path_of(path, sizeof(path), "reject.log");
	write_file(path, "a\nbc", 4);
	CHECK(histlog_open(&l, path, HISTLOG_FSYNC_ALWAYS, NULL, NULL, NULL,
	    &r) == 0);
	CHECK(r.terminated && r.torn == 2 && r.kept == 2);
	CHECK(histlog_append(&l, "d\n", 2) == 0);
	histlog_close(&l);
	after = check_read_file(path, &len);
	CHECK(after && len == 7 && memcmp(after, "a\nbc\nd\n", 7) == 0);
	free(after);
}

/* kill -9 halfway: the dedup state comes back from the whole lines, and
 * the reading whose line was torn is a gap, not a duplicate. */
static void test_rebuild_after_crash(void)
{
	char path[300];
	const char *lines[] = {
		REC("a", 1, 1), REC("b", 7, 1), REC("a", 1, 2),
		REC("a", 1, 4), REC("b", 7, 2), "garbage line\n",
		REC("a", 2, 1),
	};
	const char *torn = "{\"received\":9,\"topic\":\"p/a/telemetry\",\"payl";
	struct rebuild rb = { .t = dedup_new(1) };
	struct histlog l;
	struct histlog_recovery r;
	const struct dedup_stream *s;
	size_t i, off = 0;
	char buf[2048];

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		strcpy(buf + off, lines[i]);
		off += strlen(lines[i]);
	}
	strcpy(buf + off, torn);
	path_of(path, sizeof(path), "crash.log");
	write_file(path, buf, off + strlen(torn));
	CHECK(histlog_open(&l, path, HISTLOG_FSYNC_INTERVAL, on_line, on_torn,
	    &rb, &r) == 0);
	CHECK(r.lines == 7 && rb.bad == 1 && r.kept == (off_t)off);
	CHECK(rb.tornlen == strlen(torn));
	CHECK(dedup_count(rb.t) == 3);
	s = dedup_at(rb.t, 0);	/* a/1 */
	CHECK(strcmp(s->node_id, "a") == 0 && s->boot_id == 1);
	CHECK(s->logged == 3 && s->recovered == 3 && dedup_missing(s) == 1);
	CHECK(s->ngaps == 1 && s->gaps[0].from == 3 && s->gaps[0].to == 3);
	CHECK(dedup_lookup(rb.t, "a", 1, 3) == DEDUP_NEW);
	CHECK(dedup_lookup(rb.t, "a", 1, 4) == DEDUP_DUPLICATE);
	CHECK(dedup_lookup(rb.t, "b", 7, 2) == DEDUP_DUPLICATE);
	CHECK(dedup_lookup(rb.t, "a", 2, 1) == DEDUP_DUPLICATE);
	histlog_close(&l);
	dedup_free(rb.t);
}

/* An older log is only read: its torn tail is measured, not repaired. */
static void test_scan_only(void)
{
	char path[300], *after;
	struct rebuild rb = { .t = dedup_new(1) };
	struct histlog_recovery r;
	const char *data = REC("a", 1, 1) REC("a", 1, 3) "{\"recei";
	size_t len;
	int fd;

	path_of(path, sizeof(path), "old.log");
	write_file(path, data, strlen(data));
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	CHECK(histlog_scan_fd(fd, on_line, &rb, &r) == 0);
	close(fd);
	CHECK(r.lines == 2 && r.torn == 7 && rb.torn_calls == 0);
	CHECK(dedup_lookup(rb.t, "a", 1, 3) == DEDUP_DUPLICATE);
	CHECK(dedup_missing(dedup_at(rb.t, 0)) == 1);
	after = check_read_file(path, &len);
	CHECK(after && len == strlen(data));
	free(after);
	dedup_free(rb.t);
}

/* logrotate: the file is moved away, SIGHUP reopens a fresh one. */
static void test_reopen(void)
{
	char path[300], moved[300], *s;
	struct histlog l;
	struct histlog_recovery r;
	size_t len;

	path_of(path, sizeof(path), "rot.log");
	path_of(moved, sizeof(moved), "rot.log.1");
	unlink(path);
	CHECK(histlog_open(&l, path, HISTLOG_FSYNC_INTERVAL, NULL, NULL, NULL,
	    &r) == 0);
	CHECK(histlog_append(&l, "1\n", 2) == 0);
	CHECK(rename(path, moved) == 0);
	CHECK(histlog_append(&l, "2\n", 2) == 0);	/* still the old file */
	CHECK(histlog_reopen(&l) == 0);
	CHECK(histlog_append(&l, "3\n", 2) == 0);
	histlog_close(&l);
	s = check_read_file(moved, &len);
	CHECK(s && len == 4 && memcmp(s, "1\n2\n", 4) == 0);
	free(s);
	s = check_read_file(path, &len);
	CHECK(s && len == 2 && memcmp(s, "3\n", 2) == 0);
	free(s);
	/* A directory is not a log. */
	CHECK(histlog_open(&l, dir, HISTLOG_FSYNC_NEVER, NULL, NULL, NULL,
	    &r) < 0);
	CHECK(l.fd == -1);
	histlog_close(&l);
}

static void test_formats(void)
{
	cJSON *p = cJSON_Parse("{\"node_id\":\"n\\n1\",\"boot_id\":3,\"seq\":9,"
	    "\"data\":{\"p\":6.5}}");
	struct histlog_key k;
	char *line;

	line = histlog_format_record(1764051600123ull, "a/n/telemetry", p,
	    1764051600000ll, true);
	CHECK(line != NULL);
	if (line) {
		/* One line: the newline inside the node id is escaped. */
		CHECK(strchr(line, '\n') == line + strlen(line) - 1);
		CHECK(strcmp(line, "{\"received\":1764051600123,\"topic\":"
		    "\"a/n/telemetry\",\"ts\":1764051600000,\"guarantee\":"
		    "\"exactly-once\",\"payload\":{\"node_id\":\"n\\n1\","
		    "\"boot_id\":3,\"seq\":9,\"data\":{\"p\":6.5}}}\n") == 0);
		CHECK(histlog_parse_key(line, strlen(line) - 1, &k) == 0);
		CHECK(strcmp(k.node_id, "n\n1") == 0 && k.boot_id == 3 &&
		    k.seq == 9);
	}
	free(line);
	cJSON_Delete(p);

	line = histlog_format_reject(5, "t/\"x\"", "not JSON", "a\n\xff\"\\", 5);
	CHECK(line && strcmp(line, "{\"received\":5,\"topic\":\"t/\\\"x\\\"\","
	    "\"reason\":\"not JSON\",\"raw\":\"a\\u000a\\u00ff\\\"\\\\\"}\n") == 0);
	if (line) {
		cJSON *j = cJSON_Parse(line);

		CHECK(j != NULL);	/* valid JSON whatever the bytes */
		cJSON_Delete(j);
	}
	free(line);
	line = histlog_format_reject(5, NULL, "r", "", 0);
	CHECK(line && strcmp(line, "{\"received\":5,\"topic\":null,"
	    "\"reason\":\"r\",\"raw\":\"\"}\n") == 0);
	free(line);
}

static void test_parse_key_rejects(void)
{
	static const char *bad[] = {
		"",
		"{",
		"[]",
		"{\"payload\":{}}",
		"{\"payload\":{\"node_id\":\"\",\"boot_id\":1,\"seq\":1}}",
		"{\"payload\":{\"node_id\":5,\"boot_id\":1,\"seq\":1}}",
		"{\"payload\":{\"node_id\":\"a\",\"boot_id\":-1,\"seq\":1}}",
		"{\"payload\":{\"node_id\":\"a\",\"boot_id\":1,\"seq\":1.5}}",
		"{\"payload\":{\"node_id\":\"a\",\"boot_id\":1,\"seq\":1e300}}",
		"{\"payload\":{\"node_id\":\"a\",\"boot_id\":\"1\",\"seq\":1}}",
		"{\"payload\":{\"node_id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"boot_id\":1,\"seq\":1}}",
	};
	struct histlog_key k;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (histlog_parse_key(bad[i], strlen(bad[i]), &k) != -EINVAL)
			CHECK_FAIL("accepted %s", bad[i]);
	/* Length-bounded: what follows len is not read. */
	{
		static const char good[] = "{\"payload\":{\"node_id\":\"a\","
		    "\"boot_id\":1,\"seq\":2}}GARBAGE";

		CHECK(histlog_parse_key(good, sizeof(good) - 8, &k) == 0 &&
		    k.seq == 2);
		CHECK(histlog_parse_key(good, sizeof(good) - 1, &k) == -EINVAL);
	}
}

/* A line over HISTLOG_LINE_MAX is skipped by recovery but stays. */
static void test_overlong(void)
{
	size_t big = HISTLOG_LINE_MAX + 10, len;
	char *data = malloc(big + 8), *after, path[300];
	struct rebuild rb = { .t = dedup_new(1) };
	struct histlog l;
	struct histlog_recovery r;

	path_of(path, sizeof(path), "overlong.log");
	memset(data, 'x', big);
	memcpy(data + big, "\nok\ntail", 8);
	write_file(path, data, big + 8);
	CHECK(histlog_open(&l, path, HISTLOG_FSYNC_NEVER, on_line, on_torn,
	    &rb, &r) == 0);
	CHECK(r.overlong == 1 && r.lines == 1 && rb.lines == 1);
	CHECK(r.kept == (off_t)big + 4 && r.torn == 4);
	CHECK(rb.tornlen == 4 && memcmp(rb.torn, "tail", 4) == 0);
	histlog_close(&l);
	after = check_read_file(path, &len);
	CHECK(after && len == big + 4 && memcmp(after + big, "\nok\n", 4) == 0);
	free(after);
	free(data);
	dedup_free(rb.t);
}

/* The file size limit makes write(2) stop mid-line, as a full disk does:
 * the piece is taken back and the file keeps only whole lines. */
static void test_short_write(void)
{
	char path[300], *after;
	struct histlog l;
	struct histlog_recovery r;
	struct rlimit old, lim;
	size_t len;

	path_of(path, sizeof(path), "short.log");
	unlink(path);
	CHECK(histlog_open(&l, path, HISTLOG_FSYNC_NEVER, NULL, NULL, NULL,
	    &r) == 0);
	CHECK(histlog_append(&l, "first\n", 6) == 0);
	CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 10;
	CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	CHECK(histlog_append(&l, "second line\n", 12) == -ENOSPC);
	/* Each attempt is taken back again. */
	CHECK(histlog_append(&l, "second line\n", 12) < 0);
	CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
	signal(SIGXFSZ, SIG_DFL);
	CHECK(histlog_append(&l, "third\n", 6) == 0);
	histlog_close(&l);
	after = check_read_file(path, &len);
	CHECK(after && len == 12 && memcmp(after, "first\nthird\n", 12) == 0);
	free(after);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/test_histlog.XXXXXX",
	    tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_append_and_recover);
	RUN(test_torn_tail);
	RUN(test_torn_kept);
	RUN(test_rebuild_after_crash);
	RUN(test_scan_only);
	RUN(test_reopen);
	RUN(test_formats);
	RUN(test_parse_key_rejects);
	RUN(test_overlong);
	RUN(test_short_write);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return check_summary();
}
