/* The spool: append/ack/replay order, persistence across reopen, a torn
 * last record repaired, the bound enforced, resend, locking; short writes
 * (RLIMIT_FSIZE) cut back and held, records that fail their length or CRC
 * counted, the format before CRCs read. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "edge/spool.h"

static char dir[64];

static void fresh_dir(void)
{
	char cmd[128];

	if (dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			CHECK_FAIL("cannot remove %s", dir);
	}
	snprintf(dir, sizeof(dir), "/tmp/test_spool.XXXXXX");
	if (mkdtemp(dir) == NULL)
		CHECK_FAIL("mkdtemp: %s", strerror(errno));
}

static int add(struct spool *sp, uint64_t seq)
{
	char p[64];
	int n = snprintf(p, sizeof(p), "{\"seq\":%" PRIu64 "}", seq);
	return spool_append(sp, sp->boot_id, seq, p, (size_t)n);
}

/* Takes the next unsent entry, checks its payload, marks it in flight. */
static uint64_t take(struct spool *sp)
{
	struct spool_entry *e = spool_next_unsent(sp);
	char buf[64], want[64];
	uint64_t seq;

	if (e == NULL)
		return 0;
	seq = e->seq;
	snprintf(want, sizeof(want), "{\"seq\":%" PRIu64 "}", seq);
	if (spool_payload(sp, e, buf, sizeof(buf)) < 0 || strcmp(buf, want))
		CHECK_FAIL("payload of %" PRIu64 " is wrong", seq);
	spool_mark_inflight(sp, e);
	return seq;
}

/* Appends, sends and has acknowledged seq 1..n of boot 1 (a fresh
 * spool's). */
static void send_acked(struct spool *sp, uint64_t n)
{
	uint64_t i;

	for (i = 1; i <= n; i++) {
		CHECK(add(sp, i) == 0);
		CHECK(take(sp) == i);
		CHECK(spool_ack(sp, 1, i) == 0);
	}
}

static void test_order_and_ack(void)
{
	struct spool sp;
	uint64_t i;

	fresh_dir();
	CHECK(spool_open(&sp, dir, 100) == 0);
	CHECK(sp.boot_id == 1);
	for (i = 1; i <= 5; i++)
		CHECK(add(&sp, i) == 0);
	CHECK(add(&sp, 3) == -EINVAL);	/* not increasing */
	CHECK(sp.pending == 5);
	CHECK(take(&sp) == 1 && take(&sp) == 2 && take(&sp) == 3);
	CHECK(spool_ack(&sp, 1, 2) == 0);	/* out of order is fine */
	CHECK(spool_ack(&sp, 1, 99) == -ENOENT);
	CHECK(sp.pending == 4);
	/* Connection lost: 1 and 3 go again, in order, before 4. */
	spool_requeue_inflight(&sp);
	CHECK(take(&sp) == 1 && take(&sp) == 3 && take(&sp) == 4);
	CHECK(take(&sp) == 5 && take(&sp) == 0);
	for (i = 1; i <= 5; i++)
		CHECK(spool_ack(&sp, 1, i) == 0);
	CHECK(sp.pending == 0 && spool_count(&sp) == 5);
	spool_close(&sp);
}

static void test_reopen(void)
{
	struct spool sp;
	uint64_t i;

	fresh_dir();
	CHECK(spool_open(&sp, dir, 100) == 0);
	for (i = 1; i <= 6; i++)
		CHECK(add(&sp, i) == 0);
	CHECK(take(&sp) == 1 && take(&sp) == 2);
	CHECK(spool_ack(&sp, 1, 1) == 0 && spool_ack(&sp, 1, 4) == 0);
	/* A crash (no close: the fds stay open in this process, but the
	 * data was written; the lock must be ours to reopen, so close). */
	spool_close(&sp);
	CHECK(spool_open(&sp, dir, 100) == 0);
	CHECK(sp.boot_id == 2);
	CHECK(spool_count(&sp) == 6 && sp.pending == 4);
	/* In flight before the crash means unsent now. */
	CHECK(take(&sp) == 2 && take(&sp) == 3 && take(&sp) == 5);
	CHECK(take(&sp) == 6 && take(&sp) == 0);
	/* The new boot's readings follow the old ones. */
	CHECK(add(&sp, 1) == 0);
	CHECK(spool_next_unsent(&sp)->boot_id == 2);
	spool_close(&sp);
	CHECK(spool_open(&sp, dir, 100) == 0);
	CHECK(sp.boot_id == 3 && sp.pending == 5);
	spool_close(&sp);
}

static void test_torn_record(void)
{
	struct spool sp;
	char path[128];
	struct stat st;
	off_t good;
	int fd;

	fresh_dir();
	CHECK(spool_open(&sp, dir, 100) == 0);
	CHECK(add(&sp, 1) == 0 && add(&sp, 2) == 0);
	spool_close(&sp);
	snprintf(path, sizeof(path), "%s/spool.log", dir);
	CHECK(stat(path, &st) == 0);
	good = st.st_size;
	/* kill -9 in the middle of a write; then a garbage line before it. */
	fd = open(path, O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	CHECK(write(fd, "X junk\nR 1 3 {\"seq\":", 20) == 20);
	close(fd);
	CHECK(spool_open(&sp, dir, 100) == 0);
	CHECK(sp.repaired_bytes == 13 && sp.bad_lines == 1);
	CHECK(spool_count(&sp) == 2 && sp.pending == 2);
	CHECK(stat(path, &st) == 0 && st.st_size == good);
	CHECK(take(&sp) == 1 && take(&sp) == 2 && take(&sp) == 0);
	CHECK(add(&sp, 1) == 0);	/* boot 2 */
	spool_close(&sp);
	CHECK(spool_open(&sp, dir, 100) == 0);
	CHECK(spool_count(&sp) == 3 && sp.bad_lines == 0);
	spool_close(&sp);
}

static void test_bound(void)
{
	struct spool sp;
	uint64_t i;

	fresh_dir();
	CHECK(spool_open(&sp, dir, 4) == 0);
	for (i = 1; i <= 4; i++)
		CHECK(add(&sp, i) == 0);
	/* Full of unacknowledged readings: refused, nothing evicted. */
	CHECK(add(&sp, 5) == -ENOSPC);
	CHECK(spool_count(&sp) == 4 && sp.pending == 4);
	/* An acknowledged one in the middle does not make room... */
	CHECK(spool_ack(&sp, 1, 2) == 0);
	CHECK(add(&sp, 5) == -ENOSPC);
	/* ...the oldest does, and the history behind it goes with it. */
	CHECK(spool_ack(&sp, 1, 1) == 0);
	CHECK(add(&sp, 6) == 0);
	CHECK(spool_count(&sp) == 4 && sp.pending == 3);
	CHECK(add(&sp, 7) == 0);	/* evicts 2 */
	CHECK(add(&sp, 8) == -ENOSPC);
	CHECK(take(&sp) == 3 && take(&sp) == 4 && take(&sp) == 6);
	CHECK(spool_ack(&sp, 1, 3) == 0 && spool_ack(&sp, 1, 4) == 0 &&
	    spool_ack(&sp, 1, 6) == 0);
	/* Many rounds through the bound: the file is compacted. */
	for (i = 9; i < 2000; i++) {
		uint64_t s;
		while ((s = take(&sp)) != 0)
			CHECK(spool_ack(&sp, sp.boot_id, s) == 0);
		CHECK(add(&sp, i) == 0);
	}
	CHECK(sp.records <= 3 * 4 + 64 + 2);
	spool_close(&sp);
	/* Reopened with a smaller bound: pending readings all stay. */
	CHECK(spool_open(&sp, dir, 1) == 0);
	CHECK(sp.pending == 1 && spool_count(&sp) == 1);
	spool_close(&sp);
}

static void test_resend(void)
{
	struct spool sp;

	fresh_dir();
	CHECK(spool_open(&sp, dir, 100) == 0);
	send_acked(&sp, 10);
	CHECK(spool_resend(&sp, 1, 4, 6, 100) == 3);
	CHECK(spool_resend(&sp, 2, 1, 10, 100) == 0);
	CHECK(spool_resend(&sp, 1, 8, 20, 1) == 1);
	CHECK(take(&sp) == 4 && take(&sp) == 5 && take(&sp) == 6);
	CHECK(take(&sp) == 8 && take(&sp) == 0);
	spool_close(&sp);
}

/* Acknowledged readings stay resendable after a restart (a new boot) and
 * a compaction, up to the bound; beyond it the oldest history goes. */
static void test_resend_history(void)
{
	struct spool sp;
	uint64_t i;

	fresh_dir();
	CHECK(spool_open(&sp, dir, 8) == 0);
	send_acked(&sp, 6);
	CHECK(sp.pending == 0);
	spool_close(&sp);
	CHECK(spool_open(&sp, dir, 8) == 0);
	CHECK(sp.boot_id == 2 && spool_count(&sp) == 6 && sp.pending == 0);
	CHECK(spool_resend(&sp, 1, 2, 3, 100) == 2);
	CHECK(take(&sp) == 2 && take(&sp) == 3 && take(&sp) == 0);
	CHECK(spool_ack(&sp, 1, 2) == 0 && spool_ack(&sp, 1, 3) == 0);
	/* Four readings of boot 2 fill the bound: boot 1's seq 1 and 2 go. */
	for (i = 1; i <= 4; i++) {
		CHECK(spool_append(&sp, 2, i, "{}", 2) == 0);
		CHECK(spool_ack(&sp, 2, i) == 0);
	}
	CHECK(spool_count(&sp) == 8);
	CHECK(spool_resend(&sp, 1, 1, 6, 100) == 4);
	spool_close(&sp);
}

static char *log_path(void)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/spool.log", dir);
	return path;
}

static off_t log_size(void)
{
	struct stat st;

	return stat(log_path(), &st) == 0 ? st.st_size : -1;
}

/* RLIMIT_FSIZE: writes beyond max bytes are cut short, then fail with
 * EFBIG (SIGXFSZ is ignored); 0 lifts the limit. */
static void limit_files(off_t max)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_FSIZE, &rl) != 0)
		CHECK_FAIL("getrlimit: %s", strerror(errno));
	rl.rlim_cur = max ? (rlim_t)max : rl.rlim_max;
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
		CHECK_FAIL("setrlimit: %s", strerror(errno));
}

static void put_file(const char *text, size_t len)
{
	int fd = open(log_path(), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0 && write(fd, text, len) == (ssize_t)len);
	if (fd >= 0)
		close(fd);
}

/* A record cut short by a full disk is taken back and the reading held,
 * never merged with the next one; after a restart every reading is there
 * whole. */
static void test_short_write(void)
{
	struct spool sp;
	off_t size;

	fresh_dir();
	CHECK(spool_open(&sp, dir, 100) == 0);
	CHECK(add(&sp, 1) == 0 && add(&sp, 2) == 0);
	size = log_size();
	limit_files(size + 10);
	CHECK(add(&sp, 3) == SPOOL_HELD && sp.held_err == -EFBIG);
	CHECK(log_size() == size);
	CHECK(add(&sp, 4) == SPOOL_HELD && sp.nheld == 2);
	CHECK(add(&sp, 4) == -EINVAL);	/* order counts the held ones */
	CHECK(spool_flush_held(&sp) == 2 && log_size() == size);
	CHECK(spool_count(&sp) == 2 && sp.pending == 4);
	/* Held readings are not in the spool: not published. */
	CHECK(take(&sp) == 1 && take(&sp) == 2 && take(&sp) == 0);
	limit_files(0);
	CHECK(spool_flush_held(&sp) == 0 && sp.pending == 4);
	CHECK(take(&sp) == 3 && take(&sp) == 4 && take(&sp) == 0);
	/* An acknowledgement cut short: taken back too, and written before
	 * any new reading once there is room. */
	size = log_size();
	limit_files(size + 3);
	CHECK(spool_ack(&sp, 1, 1) == -EFBIG && log_size() == size);
	CHECK(sp.unsaved == 1 && sp.pending == 3);
	limit_files(size + 40);
	CHECK(add(&sp, 5) == SPOOL_HELD && sp.unsaved == 0);
	limit_files(0);
	CHECK(spool_ack(&sp, 1, 2) == 0);
	CHECK(add(&sp, 6) == 0 && sp.nheld == 0);
	spool_close(&sp);
	CHECK(spool_open(&sp, dir, 100) == 0);
	CHECK(sp.bad_lines == 0 && sp.repaired_bytes == 0);
	CHECK(spool_count(&sp) == 6 && sp.pending == 4);
	CHECK(take(&sp) == 3 && take(&sp) == 4 && take(&sp) == 5 &&
	    take(&sp) == 6 && take(&sp) == 0);
	spool_close(&sp);
}

/* At most SPOOL_HELD_MAX readings wait in memory; what is still held at
 * close is gone, and nothing else. */
static void test_held_bound(void)
{
	struct spool sp;
	uint64_t i;

	fresh_dir();
	CHECK(spool_open(&sp, dir, 2 * SPOOL_HELD_MAX) == 0);
	CHECK(add(&sp, 1) == 0);
	limit_files(log_size());
	for (i = 2; i < SPOOL_HELD_MAX + 2; i++)
		CHECK(add(&sp, i) == SPOOL_HELD);
	CHECK(add(&sp, i) == -ENOBUFS);
	CHECK(sp.nheld == SPOOL_HELD_MAX && sp.pending == SPOOL_HELD_MAX + 1);
	limit_files(0);
	CHECK(add(&sp, i + 1) == 0);
	CHECK(sp.nheld == 0 && spool_count(&sp) == SPOOL_HELD_MAX + 2);
	for (i = 1; i < SPOOL_HELD_MAX + 2; i++)
		CHECK(take(&sp) == i);
	CHECK(take(&sp) == SPOOL_HELD_MAX + 3);
	limit_files(log_size());
	CHECK(add(&sp, SPOOL_HELD_MAX + 4) == SPOOL_HELD);
	CHECK(add(&sp, SPOOL_HELD_MAX + 5) == SPOOL_HELD);
	CHECK(spool_drop_held(&sp) == 2 && sp.nheld == 0 &&
	    sp.pending == SPOOL_HELD_MAX + 2);
	CHECK(add(&sp, SPOOL_HELD_MAX + 6) == SPOOL_HELD);
	spool_close(&sp);
	limit_files(0);
	CHECK(spool_open(&sp, dir, 2 * SPOOL_HELD_MAX) == 0);
	CHECK(spool_count(&sp) == SPOOL_HELD_MAX + 2 && sp.bad_lines == 0);
	spool_close(&sp);
}

/* A full disk at open: the compaction is given up (no temporary file
 * left), the spool opens as it was. */
static void test_open_no_room(void)
{
	struct spool sp;
	char tmp[160];

	fresh_dir();
	CHECK(spool_open(&sp, dir, 100) == 0);
	CHECK(add(&sp, 1) == 0 && add(&sp, 2) == 0 && add(&sp, 3) == 0);
	CHECK(spool_ack(&sp, 1, 1) == 0);
	spool_close(&sp);
	limit_files(log_size() / 2);
	CHECK(spool_open(&sp, dir, 100) == 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", log_path());
	CHECK(access(tmp, F_OK) != 0);
	CHECK(spool_count(&sp) == 3 && sp.pending == 2 && sp.boot_id == 2);
	CHECK(spool_append(&sp, 2, 1, "{\"seq\":1}", 9) == SPOOL_HELD);
	limit_files(0);
	CHECK(spool_flush_held(&sp) == 0);
	CHECK(take(&sp) == 2 && take(&sp) == 3 && take(&sp) == 1);
	spool_close(&sp);
}

/* Records that do not match their length or CRC are counted and skipped,
 * whatever else they look like. */
static void test_bad_records(void)
{
	struct spool sp;
	char buf[512], *l2, *l3;
	ssize_t n;
	int fd;

	fresh_dir();
	CHECK(spool_open(&sp, dir, 100) == 0);
	CHECK(add(&sp, 1) == 0 && add(&sp, 2) == 0 && add(&sp, 3) == 0 &&
	    add(&sp, 4) == 0);
	spool_close(&sp);
	fd = open(log_path(), O_RDONLY);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	l2 = strchr(buf, '\n') + 1;
	l3 = strchr(l2, '\n') + 1;
	/* seq 1: a flipped bit; seq 2 cut halfway with seq 3 written onto
	 * it (the old short-write merge); seq 4 intact. */
	CHECK(strstr(buf, ":1}") != NULL);
	strstr(buf, ":1}")[1] = '7';
	memmove(l2 + (l3 - l2) / 2, l3, strlen(l3) + 1);
	put_file(buf, strlen(buf));
	CHECK(spool_open(&sp, dir, 100) == 0);
	CHECK(sp.bad_lines == 2 && spool_count(&sp) == 1);
	CHECK(take(&sp) == 4 && take(&sp) == 0);
	spool_close(&sp);
}

/* A spool written before the CRCs: read, then rewritten sealed; a record
 * merged by a short write is caught when its braces do not close. */
static void test_old_format(void)
{
	static const char old[] =
	    "R 1 1 {\"seq\":1}\n"
	    "R 1 2 {\"seq\":2}\n"
	    "A 1 1\n"
	    "R 1 3 {\"se" "R 1 4 {\"seq\":4}\n"
	    "R 1 5 {\"seq\":5,\"s\":\"}{\\\"\"}\n"
	    "R 1 6 {\"seq\":6}\n";
	struct spool sp;
	int fd;

	fresh_dir();
	put_file(old, sizeof(old) - 1);
	CHECK(spool_open(&sp, dir, 100) == 0);
	CHECK(sp.bad_lines == 1 && spool_count(&sp) == 4 && sp.pending == 3);
	CHECK(take(&sp) == 2);
	CHECK(spool_next_unsent(&sp) && spool_next_unsent(&sp)->seq == 5);
	spool_mark_inflight(&sp, spool_next_unsent(&sp));
	CHECK(take(&sp) == 6 && take(&sp) == 0);
	spool_close(&sp);
	/* Rewritten sealed: an old-format record after that is refused. */
	fd = open(log_path(), O_WRONLY | O_APPEND);
	CHECK(fd >= 0 && write(fd, "R 2 9 {\"seq\":9}\n", 16) == 16);
	if (fd >= 0)
		close(fd);
	CHECK(spool_open(&sp, dir, 100) == 0);
	CHECK(sp.bad_lines == 1 && spool_count(&sp) == 4 && sp.pending == 3);
	spool_close(&sp);
}

static void test_lock(void)
{
	struct spool a, b;

	fresh_dir();
	CHECK(spool_open(&a, dir, 10) == 0);
	CHECK(spool_open(&b, dir, 10) == -EBUSY);
	spool_close(&a);
	CHECK(spool_open(&b, dir, 10) == 0);
	spool_close(&b);
	CHECK(spool_open(&b, "/nonexistent/x", 10) == -ENOENT);
	CHECK(spool_open(&b, dir, 0) == -EINVAL);
}

int main(void)
{
	char cmd[128];

	RUN(test_order_and_ack);
	RUN(test_reopen);
	RUN(test_torn_record);
	RUN(test_bound);
	RUN(test_resend);
	RUN(test_resend_history);
	RUN(test_lock);
	signal(SIGXFSZ, SIG_IGN);
	RUN(test_short_write);
	RUN(test_held_bound);
	RUN(test_open_no_room);
	RUN(test_bad_records);
	RUN(test_old_format);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_summary();
}
