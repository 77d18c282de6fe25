/* The store's catch-up from the log (store_catch_up in store.h): one
 * thread reads and parses the log files from the committed position, the
 * caller's inserts what it hands over.  It goes through store.h and
 * store_internal.h only, and names no SQLite type. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hub/logline.h"
#include "hub/store.h"
#include "hub/store_internal.h"

struct feed {
	struct store *s;
	struct store_position pos;
	const struct store_position *limit;	/* NULL: to the end */
	const char *path;
	uint64_t lines, bad;
	int err;
};

/* A parsed line: the reading (ok) or none, and where the line ends. */
struct parsed {
	struct telemetry_reading r;
	uint64_t received, end;
	int64_t ts;
	bool ok;
};

enum {
	PIPE_BATCH = 256,	/* lines handed over at once */
	PIPE_DEPTH = 8,		/* batches in flight */
};

/* The catch-up is two threads: one reads and parses the log (logline.c,
 * the codec), the other (the caller's) inserts, about four fifths of the
 * work in a --rebuild.  Batches go round a ring of PIPE_DEPTH. */
struct pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct parsed *batch[PIPE_DEPTH];
	size_t count[PIPE_DEPTH];
	unsigned head, tail;	/* filled: tail..head-1 */
	bool done, stop;
	int scan_ret;
	int fd;
	uint64_t offset;
	size_t fill;		/* parser: lines in batch[head % DEPTH] */
};

static int parse_line(void *ctx, const char *line, size_t len, uint64_t end)
{
	struct pipe *p = ctx;
	struct parsed *it;
	bool stop;

	/* A free slot is waited for once a batch, not once a line. */
	if (p->fill == 0) {
		pthread_mutex_lock(&p->mu);
		while (p->head - p->tail == PIPE_DEPTH && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		stop = p->stop;
		pthread_mutex_unlock(&p->mu);
		if (stop)
			return -ECANCELED;
	}
	/* The slot at head is the parser's alone until head moves. */
	it = &p->batch[p->head % PIPE_DEPTH][p->fill++];
	it->end = end;
	it->ok = len > 0 && logline_parse(line, len, &it->r, &it->received,
	    &it->ts) == 0;
	if (p->fill == PIPE_BATCH) {
		pthread_mutex_lock(&p->mu);
		p->count[p->head % PIPE_DEPTH] = p->fill;
		p->head++;
		p->fill = 0;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	return 0;
}

static void *parser(void *arg)
{
	struct pipe *p = arg;
	int ret = logline_scan(p->fd, p->offset, parse_line, p);

	pthread_mutex_lock(&p->mu);
	while (p->fill > 0 && p->head - p->tail == PIPE_DEPTH && !p->stop)
		pthread_cond_wait(&p->cv, &p->mu);
	if (p->fill > 0 && !p->stop) {
		p->count[p->head % PIPE_DEPTH] = p->fill;
		p->head++;
	}
	p->scan_ret = ret;
	p->done = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* 0 (taken), 1 (past the limit: stop there) or -errno. */
static int take(struct feed *f, const struct parsed *it)
{
	int ret;

	if (f->limit && f->limit->dev == f->pos.dev &&
	    f->limit->ino == f->pos.ino && it->end > f->limit->offset)
		return 1;
	f->pos.offset = it->end;
	f->pos.lines++;
	f->lines++;
	if (!it->ok) {
		f->bad++;
		store_advance(f->s, &f->pos);
		return 0;
	}
	ret = store_add(f->s, &it->r, it->received, it->ts, &f->pos);
	if (ret >= 0 && store_pending(f->s) >= STORE_BATCH_ROWS *
	    (store_in_bulk(f->s) ? 100 : 10))
		ret = store_commit(f->s);
	return ret < 0 ? ret : 0;
}

/* Inserts what the parser thread hands over, in order.  0 or -errno. */
static int consume(struct feed *f, struct pipe *p)
{
	int ret = 0;

	for (;;) {
		size_t i, n;
		struct parsed *b;

		pthread_mutex_lock(&p->mu);
		while (p->head == p->tail && !p->done)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->head == p->tail) {
			pthread_mutex_unlock(&p->mu);
			return ret ? ret : p->scan_ret;
		}
		b = p->batch[p->tail % PIPE_DEPTH];
		n = p->count[p->tail % PIPE_DEPTH];
		pthread_mutex_unlock(&p->mu);
		for (i = 0; i < n && ret == 0; i++)
			ret = take(f, &b[i]);
		pthread_mutex_lock(&p->mu);
		p->tail++;
		if (ret != 0)
			p->stop = true;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		if (ret != 0) {
			/* Let the parser see stop and finish. */
			pthread_mutex_lock(&p->mu);
			while (!p->done) {
				p->tail = p->head;
				pthread_cond_broadcast(&p->cv);
				pthread_cond_wait(&p->cv, &p->mu);
			}
			pthread_mutex_unlock(&p->mu);
			return ret < 0 ? ret : 0;
		}
	}
}

static int scan_into(struct feed *f, int fd)
{
	struct pipe p = { .fd = fd, .offset = f->pos.offset };
	pthread_t th;
	int k, ret;

	for (k = 0; k < PIPE_DEPTH; k++)
		if ((p.batch[k] = malloc(PIPE_BATCH * sizeof(struct parsed))) ==
		    NULL) {
			ret = -ENOMEM;
			goto out;
		}
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	if ((ret = -pthread_create(&th, NULL, parser, &p)) == 0) {
		ret = consume(f, &p);
		pthread_join(th, NULL);
	}
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.mu);
out:
	for (k = 0; k < PIPE_DEPTH; k++)
		free(p.batch[k]);
	return ret;
}

/* Reads one file from *start (when it is that file) or from its start. */
static int feed_file(struct feed *f, int fd, const struct stat *st,
    const struct store_position *start)
{
	int ret;

	f->pos = (struct store_position){ .dev = (uint64_t)st->st_dev,
	    .ino = (uint64_t)st->st_ino };
	if (start) {
		f->pos.offset = start->offset;
		f->pos.lines = start->lines;
	}
	/* What a crashed historian left in the page cache goes to disk
	 * first: the store is never ahead of the log. */
	if (fdatasync(fd) != 0 && errno != EINVAL && errno != EBADF) {
		ret = -errno;
		fprintf(stderr, "%s: fdatasync: %s\n", f->path, strerror(-ret));
		return ret;
	}
	store_advance(f->s, &f->pos);
	ret = scan_into(f, fd);
	if (ret == 0)
		ret = store_commit(f->s);
	if (ret < 0)
		fprintf(stderr, "%s: %s\n", f->path, ret == -EBADMSG ||
		    ret == -EIO || ret == -ENOSPC || ret == -EBUSY ?
		    store_error(f->s) : strerror(-ret));
	return ret;
}

/* Whether pos is inside this file, at the end of a line. */
static bool resumes_in(int fd, const struct stat *st,
    const struct store_position *pos)
{
	char c;

	if (pos->dev != (uint64_t)st->st_dev ||
	    pos->ino != (uint64_t)st->st_ino ||
	    pos->offset > (uint64_t)st->st_size)
		return false;
	return pos->offset == 0 || (pread(fd, &c, 1,
	    (off_t)pos->offset - 1) == 1 && c == '\n');
}

int store_catch_up(struct store *s, const char *const *paths, int n,
    uint64_t *lines, uint64_t *bad)
{
	return store_catch_up_to(s, paths, NULL, n, NULL, lines, bad);
}

int store_catch_up_to(struct store *s, const char *const *paths,
    const int *open_fds, int n, const struct store_position *limit,
    uint64_t *lines, uint64_t *bad)
{
	struct feed f = { .s = s, .limit = limit };
	struct store_position pos;
	int fds[64], from = -1, i, ret = 0;
	struct stat st[64];

	*lines = *bad = 0;
	if (n > 64)
		return -E2BIG;
	if ((ret = store_position(s, &pos)) < 0)
		return ret;
	for (i = 0; i < n; i++) {
		if (open_fds && open_fds[i] >= 0)
			fds[i] = fcntl(open_fds[i], F_DUPFD_CLOEXEC, 0);
		else if (open_fds)
			fds[i] = -1;
		else
			fds[i] = open(paths[i], O_RDONLY | O_CLOEXEC);
		if (fds[i] >= 0 && fstat(fds[i], &st[i]) != 0) {
			close(fds[i]);
			fds[i] = -1;
		}
		if (fds[i] >= 0 && resumes_in(fds[i], &st[i], &pos))
			from = i;
	}
	/* No file holds the position: all of them, from their start. */
	store_set_cache(s, true);
	for (i = from < 0 ? 0 : from; i < n && ret == 0; i++) {
		if (fds[i] < 0)
			continue;
		f.path = paths[i];
		ret = feed_file(&f, fds[i], &st[i], i == from ? &pos : NULL);
	}
	store_set_cache(s, store_in_bulk(s));
	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	*lines = f.lines;
	*bad = f.bad;
	return ret;
}
