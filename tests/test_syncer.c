/* The spools' sync thread (src/edge/syncer.c): a file handed over is
 * synced even when the caller closes its descriptor at once, the thread's
 * copies are closed, a full queue syncs inline, failures are counted, and
 * syncer_free() syncs what is still queued. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "edge/syncer.h"

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static int temp_file(void)
{
	char path[] = "/tmp/test_syncer.XXXXXX";
	int fd = mkstemp(path);

	if (fd >= 0) {
		unlink(path);
		if (write(fd, "R 1 1\n", 6) != 6) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

static void test_closed_at_once(void)
{
	struct syncer *s = syncer_new(4);
	struct syncer_counts c;
	int fds, fd;

	CHECK(s != NULL);
	if (s == NULL)
		return;
	fds = open_fds();
	fd = temp_file();
	CHECK(fd >= 0);
	CHECK(syncer_add(s, fd, "test file") == 0);
	close(fd);		/* a compaction replacing the spool's */
	syncer_flush(s);
	syncer_counts(s, &c);
	CHECK(c.queued == 1 && c.synced == 1 && c.errors == 0 &&
	    c.inline_ == 0);
	CHECK(open_fds() == fds);	/* the thread closed its copy */
	syncer_free(s);
}

static void test_errors(void)
{
	struct syncer *s = syncer_new(4);
	struct syncer_counts c;
	int p[2];

	CHECK(s != NULL && pipe(p) == 0);
	if (s == NULL)
		return;
	/* fdatasync of a pipe: EINVAL, said on stderr and counted. */
	fprintf(stderr, "(an \"EINVAL\" message for \"a pipe\" is expected)\n");
	CHECK(syncer_add(s, p[0], "a pipe") == 0);
	syncer_flush(s);
	syncer_counts(s, &c);
	CHECK(c.synced == 1 && c.errors == 1);
	CHECK(syncer_add(s, -1, "no file") == -EBADF);
	close(p[0]);
	close(p[1]);
	syncer_free(s);
}

/* More files than the queue holds: each is synced, by the thread or in
 * the caller when the queue is full. */
static void test_many(void)
{
	struct syncer *s = syncer_new(2);
	struct syncer_counts c;
	int fd = temp_file(), i, fails = 0;

	CHECK(s != NULL && fd >= 0);
	if (s == NULL)
		return;
	for (i = 0; i < 500; i++)
		if (syncer_add(s, fd, "test file") != 0)
			fails++;
	syncer_flush(s);
	syncer_counts(s, &c);
	CHECK(fails == 0);
	CHECK(c.queued + c.inline_ == 500);
	CHECK(c.synced == c.queued && c.errors == 0);
	/* What is queued at the end is synced by syncer_free(). */
	for (i = 0; i < 2; i++)
		CHECK(syncer_add(s, fd, "test file") == 0);
	syncer_free(s);
	close(fd);
}

static void test_bad_size(void)
{
	errno = 0;
	CHECK(syncer_new(0) == NULL && errno == EINVAL);
	syncer_free(NULL);
}

int main(void)
{
	RUN(test_closed_at_once);
	RUN(test_errors);
	RUN(test_many);
	RUN(test_bad_size);
	return check_summary();
}
