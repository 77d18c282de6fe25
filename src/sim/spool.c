/* The on-disk spool; the format and the policies are in spool.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/spool.h"

#define LOG_NAME "spool.log"
#define LOG_TMP "spool.log.tmp"
#define BOOT_NAME "boot_id"
#define BOOT_TMP "boot_id.tmp"
/* "R " + two 20-digit numbers + 2 spaces + '\n'. */
#define HEADER_MAX 48
/* A record larger than this is corrupt (payloads are ~150 bytes). */
#define RECORD_MAX 65536

static struct spool_entry *at(const struct spool *sp, size_t i)
{
	return &sp->e[sp->first + i];
}

size_t spool_count(const struct spool *sp)
{
	return sp->end - sp->first;
}

static bool key_less(uint64_t b1, uint64_t s1, uint64_t b2, uint64_t s2)
{
	return b1 < b2 || (b1 == b2 && s1 < s2);
}

/* Binary search: entries are in (boot_id, seq) order. */
static struct spool_entry *lookup(struct spool *sp, uint64_t boot_id,
    uint64_t seq)
{
	size_t lo = 0, hi = spool_count(sp);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct spool_entry *e = at(sp, mid);
		if (e->boot_id == boot_id && e->seq == seq)
			return e;
		if (key_less(e->boot_id, e->seq, boot_id, seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Makes room for one more entry at the end. */
static int grow(struct spool *sp)
{
	struct spool_entry *n;
	size_t alloc;

	if (sp->end < sp->alloc)
		return 0;
	if (sp->first > 0) {
		memmove(sp->e, sp->e + sp->first,
		    spool_count(sp) * sizeof(*sp->e));
		sp->end -= sp->first;
		sp->first = 0;
		return 0;
	}
	alloc = sp->alloc ? sp->alloc * 2 : 64;
	n = realloc(sp->e, alloc * sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	sp->e = n;
	sp->alloc = alloc;
	return 0;
}

static void push(struct spool *sp, const struct spool_entry *e)
{
	sp->e[sp->end++] = *e;
	if (e->state != SPOOL_ACKED)
		sp->pending++;
}

/* Drops the oldest entry, which must be ACKED. */
static void evict(struct spool *sp)
{
	sp->first++;
	if (sp->cursor > 0)
		sp->cursor--;
}

static void set_state(struct spool *sp, struct spool_entry *e, int state)
{
	size_t i = (size_t)(e - sp->e) - sp->first;

	if (e->state == SPOOL_ACKED && state != SPOOL_ACKED)
		sp->pending++;
	else if (e->state != SPOOL_ACKED && state == SPOOL_ACKED)
		sp->pending--;
	e->state = (uint8_t)state;
	if (state == SPOOL_UNSENT && i < sp->cursor)
		sp->cursor = i;
}

/* One whole record in one write(), so a crash leaves at worst a torn
 * last line, never interleaved halves. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir(struct spool *sp)
{
	return fsync(sp->dirfd) == 0 ? 0 : -errno;
}

/* Parses "<u64> <u64>" at *p, advancing past it. */
static bool parse_key(const char **p, const char *end, uint64_t *b,
    uint64_t *s)
{
	uint64_t v[2] = { 0, 0 };
	int k;

	for (k = 0; k < 2; k++) {
		const char *q = *p;
		if (k == 1) {
			if (q >= end || *q != ' ')
				return false;
			q++;
		}
		if (q >= end || *q < '0' || *q > '9')
			return false;
		while (q < end && *q >= '0' && *q <= '9') {
			if (v[k] > (UINT64_MAX - 9) / 10)
				return false;
			v[k] = v[k] * 10 + (uint64_t)(*q - '0');
			q++;
		}
		*p = q;
	}
	*b = v[0];
	*s = v[1];
	return *b >= 1 && *s >= 1;
}

/* Applies one line [line, nl) at file offset off. */
static int load_line(struct spool *sp, const char *line, const char *nl,
    off_t off)
{
	const char *p = line + 2;
	struct spool_entry e = { 0 }, *found;
	int ret;

	if (nl - line < 5 || line[1] != ' ' || !parse_key(&p, nl, &e.boot_id,
	    &e.seq))
		goto bad;
	if (line[0] == 'A') {
		if (p != nl)
			goto bad;
		found = lookup(sp, e.boot_id, e.seq);
		if (found != NULL)
			set_state(sp, found, SPOOL_ACKED);
		return 0;
	}
	if (line[0] != 'R' || p >= nl || *p != ' ' || nl - p < 2 ||
	    nl - p > RECORD_MAX)
		goto bad;
	if (spool_count(sp) > 0 && !key_less(at(sp, spool_count(sp) - 1)->boot_id,
	    at(sp, spool_count(sp) - 1)->seq, e.boot_id, e.seq))
		goto bad;
	e.off = off + (p + 1 - line);
	e.len = (uint32_t)(nl - p - 1);
	e.state = SPOOL_UNSENT;
	if ((ret = grow(sp)) < 0)
		return ret;
	push(sp, &e);
	return 0;
bad:
	sp->bad_lines++;
	return 0;
}

/* Reads spool.log, truncating a torn last record. */
static int load(struct spool *sp)
{
	struct stat st;
	char *buf = NULL, *p, *nl, *end;
	size_t size, got = 0;
	int ret = 0;

	if (fstat(sp->fd, &st) != 0)
		return -errno;
	size = (size_t)st.st_size;
	buf = malloc(size + 1);
	if (buf == NULL)
		return -ENOMEM;
	while (got < size) {
		ssize_t n = pread(sp->fd, buf + got, size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			goto out;
		}
		got += (size_t)n;
	}
	end = buf + size;
	for (p = buf; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) {
			/* A record cut short by a crash mid-write. */
			sp->repaired_bytes = (uint64_t)(end - p);
			if (ftruncate(sp->fd, p - buf) != 0) {
				ret = -errno;
				goto out;
			}
			break;
		}
		sp->records++;
		if ((ret = load_line(sp, p, nl, p - buf)) < 0)
			goto out;
	}
out:
	free(buf);
	return ret;
}

static int read_at(int fd, char *buf, size_t len, off_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, off + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		got += (size_t)n;
	}
	return 0;
}

/* Writes one entry's records to out (at offset *offp), updating its
 * payload offset. */
static int copy_entry(struct spool *sp, struct spool_entry *e, FILE *out,
    off_t *offp, char **bufp, size_t *capp)
{
	char head[HEADER_MAX];
	int n, ret;

	if (*capp < e->len) {
		char *b = realloc(*bufp, e->len);
		if (b == NULL)
			return -ENOMEM;
		*bufp = b;
		*capp = e->len;
	}
	if ((ret = read_at(sp->fd, *bufp, e->len, e->off)) < 0)
		return ret;
	n = snprintf(head, sizeof(head), "R %" PRIu64 " %" PRIu64 " ",
	    e->boot_id, e->seq);
	if (fwrite(head, 1, (size_t)n, out) != (size_t)n ||
	    fwrite(*bufp, 1, e->len, out) != e->len || fputc('\n', out) == EOF)
		return -EIO;
	e->off = *offp + n;
	*offp += n + (off_t)e->len + 1;
	if (e->state == SPOOL_ACKED) {
		n = snprintf(head, sizeof(head), "A %" PRIu64 " %" PRIu64 "\n",
		    e->boot_id, e->seq);
		if (fwrite(head, 1, (size_t)n, out) != (size_t)n)
			return -EIO;
		*offp += n;
	}
	return 0;
}

/* Rewrites spool.log with only the entries held, via a temporary file
 * fsynced and renamed into place, so a crash leaves one or the other.
 * Offsets are only updated in a copy until the rename succeeded. */
static int compact(struct spool *sp)
{
	struct spool_entry *saved = NULL;
	size_t i, n = spool_count(sp), cap = 0;
	char *buf = NULL;
	off_t off = 0;
	FILE *out = NULL;
	int fd = -1, ret = 0, lockfd;

	saved = malloc((n ? n : 1) * sizeof(*saved));
	if (saved == NULL)
		return -ENOMEM;
	if (n > 0)
		memcpy(saved, at(sp, 0), n * sizeof(*saved));
	fd = openat(sp->dirfd, LOG_TMP, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600);
	if (fd < 0 || (out = fdopen(fd, "w")) == NULL) {
		ret = -errno;
		goto out;
	}
	fd = -1;
	sp->records = 0;
	for (i = 0; i < n && ret == 0; i++) {
		ret = copy_entry(sp, &saved[i], out, &off, &buf, &cap);
		sp->records += saved[i].state == SPOOL_ACKED ? 2 : 1;
	}
	if (ret == 0 && (fflush(out) != 0 || fdatasync(fileno(out)) != 0))
		ret = -errno;
	if (ret < 0)
		goto out;
	/* The new file must hold the lock before it replaces the old one. */
	lockfd = openat(sp->dirfd, LOG_TMP, O_RDWR | O_APPEND | O_CLOEXEC);
	if (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB) != 0 ||
	    renameat(sp->dirfd, LOG_TMP, sp->dirfd, LOG_NAME) != 0) {
		ret = -errno;
		if (lockfd >= 0)
			close(lockfd);
		goto out;
	}
	close(sp->fd);
	sp->fd = lockfd;
	if (n > 0)
		memcpy(at(sp, 0), saved, n * sizeof(*saved));
	ret = fsync_dir(sp);
out:
	if (out)
		fclose(out);
	if (fd >= 0)
		close(fd);
	free(saved);
	free(buf);
	return ret;
}

/* Reads the boot_id file (0 when absent) and stores next in it. */
static int next_boot(struct spool *sp)
{
	char buf[32];
	uint64_t last = 0, maxb = 0;
	ssize_t n;
	int fd, ret;

	fd = openat(sp->dirfd, BOOT_NAME, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			last = strtoull(buf, NULL, 10);
		}
	} else if (errno != ENOENT) {
		return -errno;
	}
	if (spool_count(sp) > 0)
		maxb = at(sp, spool_count(sp) - 1)->boot_id;
	sp->boot_id = (last > maxb ? last : maxb) + 1;
	sp->last_seq = 0;
	fd = openat(sp->dirfd, BOOT_TMP, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", sp->boot_id);
	ret = write_all(fd, buf, (size_t)n);
	if (ret == 0 && fsync(fd) != 0)
		ret = -errno;
	close(fd);
	if (ret == 0 && renameat(sp->dirfd, BOOT_TMP, sp->dirfd, BOOT_NAME) != 0)
		ret = -errno;
	return ret ? ret : fsync_dir(sp);
}

int spool_open(struct spool *sp, const char *dir, size_t max)
{
	int ret;

	memset(sp, 0, sizeof(*sp));
	sp->fd = sp->dirfd = -1;
	if (max == 0)
		return -EINVAL;
	sp->max = max;
	sp->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dirfd < 0)
		return -errno;
	sp->fd = openat(sp->dirfd, LOG_NAME, O_RDWR | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0600);
	if (sp->fd < 0) {
		ret = -errno;
		goto fail;
	}
	if (flock(sp->fd, LOCK_EX | LOCK_NB) != 0) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto fail;
	}
	if ((ret = load(sp)) < 0)
		goto fail;
	/* History beyond the bound goes (pending readings never do). */
	while (spool_count(sp) > max && at(sp, 0)->state == SPOOL_ACKED)
		evict(sp);
	if ((ret = compact(sp)) < 0 || (ret = next_boot(sp)) < 0)
		goto fail;
	return 0;
fail:
	spool_close(sp);
	return ret;
}

void spool_close(struct spool *sp)
{
	if (sp->fd >= 0) {
		(void)spool_sync(sp);
		close(sp->fd);
	}
	if (sp->dirfd >= 0)
		close(sp->dirfd);
	free(sp->e);
	sp->e = NULL;
	sp->fd = sp->dirfd = -1;
	sp->first = sp->end = sp->alloc = sp->cursor = sp->pending = 0;
}

int spool_append(struct spool *sp, uint64_t boot_id, uint64_t seq,
    const char *payload, size_t len)
{
	struct spool_entry e = { .boot_id = boot_id, .seq = seq,
	    .state = SPOOL_UNSENT };
	char head[HEADER_MAX], *rec;
	struct stat st;
	size_t n;
	int ret;

	if (len == 0 || len > RECORD_MAX || memchr(payload, '\n', len) ||
	    boot_id < 1 || seq < 1)
		return -EINVAL;
	if (spool_count(sp) > 0 && !key_less(at(sp, spool_count(sp) - 1)->boot_id,
	    at(sp, spool_count(sp) - 1)->seq, boot_id, seq))
		return -EINVAL;
	while (spool_count(sp) >= sp->max && at(sp, 0)->state == SPOOL_ACKED)
		evict(sp);
	if (spool_count(sp) >= sp->max)
		return -ENOSPC;
	/* Keep the file near the size of what it holds. */
	if (sp->records > 3 * (uint64_t)sp->max + 64 &&
	    (ret = compact(sp)) < 0)
		return ret;
	if ((ret = grow(sp)) < 0)
		return ret;
	n = (size_t)snprintf(head, sizeof(head), "R %" PRIu64 " %" PRIu64 " ",
	    boot_id, seq);
	rec = malloc(n + len + 1);
	if (rec == NULL)
		return -ENOMEM;
	memcpy(rec, head, n);
	memcpy(rec + n, payload, len);
	rec[n + len] = '\n';
	/* O_APPEND: the record lands at the current end of file. */
	if (fstat(sp->fd, &st) != 0) {
		ret = -errno;
	} else if ((ret = write_all(sp->fd, rec, n + len + 1)) == 0) {
		e.off = st.st_size + (off_t)n;
		e.len = (uint32_t)len;
		push(sp, &e);
		sp->records++;
		if (boot_id == sp->boot_id)
			sp->last_seq = seq;
	}
	free(rec);
	return ret;
}

struct spool_entry *spool_next_unsent(struct spool *sp)
{
	while (sp->cursor < spool_count(sp)) {
		struct spool_entry *e = at(sp, sp->cursor);
		if (e->state == SPOOL_UNSENT)
			return e;
		sp->cursor++;
	}
	return NULL;
}

void spool_mark_inflight(struct spool *sp, struct spool_entry *e)
{
	set_state(sp, e, SPOOL_INFLIGHT);
}

int spool_payload(struct spool *sp, const struct spool_entry *e, char *buf,
    size_t cap)
{
	int ret;

	if ((size_t)e->len + 1 > cap)
		return -ENOSPC;
	if ((ret = read_at(sp->fd, buf, e->len, e->off)) < 0)
		return ret;
	buf[e->len] = '\0';
	return (int)e->len;
}

int spool_ack(struct spool *sp, uint64_t boot_id, uint64_t seq)
{
	struct spool_entry *e = lookup(sp, boot_id, seq);
	char rec[HEADER_MAX];
	int n;

	if (e == NULL)
		return -ENOENT;
	if (e->state == SPOOL_ACKED)
		return 0;
	set_state(sp, e, SPOOL_ACKED);
	n = snprintf(rec, sizeof(rec), "A %" PRIu64 " %" PRIu64 "\n", boot_id,
	    seq);
	sp->records++;
	return write_all(sp->fd, rec, (size_t)n);
}

void spool_requeue_inflight(struct spool *sp)
{
	size_t i;

	for (i = 0; i < spool_count(sp); i++)
		if (at(sp, i)->state == SPOOL_INFLIGHT)
			set_state(sp, at(sp, i), SPOOL_UNSENT);
}

size_t spool_resend(struct spool *sp, uint64_t boot_id, uint64_t from,
    uint64_t to, size_t limit)
{
	size_t i, n = 0;

	for (i = 0; i < spool_count(sp) && n < limit; i++) {
		struct spool_entry *e = at(sp, i);
		if (e->boot_id != boot_id || e->seq < from || e->seq > to ||
		    e->state != SPOOL_ACKED)
			continue;
		set_state(sp, e, SPOOL_UNSENT);
		n++;
	}
	return n;
}

int spool_sync(struct spool *sp)
{
	return fdatasync(sp->fd) == 0 ? 0 : -errno;
}
