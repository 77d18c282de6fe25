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

#include "edge/spool.h"
#include "edge/spool_record.h"

#define LOG_NAME "spool.log"
#define LOG_TMP "spool.log.tmp"
#define BOOT_NAME "boot_id"
#define BOOT_TMP "boot_id.tmp"
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
	if (at(sp, 0)->unsaved)
		sp->unsaved--;
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

/* Writes a whole record with O_APPEND at the end of the whole ones.  A
 * short write (disk full, RLIMIT_FSIZE) is cut back, so the next record
 * never lands on a torn one; if even that fails, the next write tries the
 * cut again first. */
static int write_record(struct spool *sp, const char *rec, size_t len)
{
	size_t done = 0;
	ssize_t n;
	int ret = 0;

	if (sp->torn) {
		if (ftruncate(sp->fd, sp->size) != 0)
			return -errno;
		sp->torn = false;
	}
	while (done < len) {
		n = write(sp->fd, rec + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)n;
	}
	if (ret == 0) {
		sp->size += (off_t)len;
		sp->records++;
		return 0;
	}
	if (done > 0 && ftruncate(sp->fd, sp->size) != 0)
		sp->torn = true;
	return ret;
}

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

/* Parses a decimal number at *p, advancing past it. */
/* Applies one line [line, nl) at file offset off. */
static int load_line(struct spool *sp, const char *line, const char *nl,
    off_t off, bool *sealed_seen)
{
	struct spool_record r;
	struct spool_entry e = { 0 }, *found;
	int ret;

	switch (spool_record_parse(line, nl, sealed_seen, &r)) {
	case SPOOL_RECORD_ACK:
		found = lookup(sp, r.boot_id, r.seq);
		if (found != NULL)
			set_state(sp, found, SPOOL_ACKED);
		return 0;
	case SPOOL_RECORD_READING:
		break;
	default:
		sp->bad_lines++;
		return 0;
	}
	if (spool_count(sp) > 0 && !key_less(at(sp, spool_count(sp) - 1)->boot_id,
	    at(sp, spool_count(sp) - 1)->seq, r.boot_id, r.seq)) {
		sp->bad_lines++;
		return 0;
	}
	e.boot_id = r.boot_id;
	e.seq = r.seq;
	e.off = off + (off_t)r.payload_off;
	e.len = (uint32_t)r.payload_len;
	e.state = SPOOL_UNSENT;
	if ((ret = grow(sp)) < 0)
		return ret;
	push(sp, &e);
	return 0;
}

/* Reads spool.log, truncating a torn last record. */
static int load(struct spool *sp)
{
	struct stat st;
	char *buf = NULL, *p, *nl, *end;
	size_t size, got = 0;
	bool sealed_seen = false;
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
		if ((ret = load_line(sp, p, nl, p - buf, &sealed_seen)) < 0)
			goto out;
	}
	sp->size = p - buf;
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
	char ack[SPOOL_RECORD_HEADER_MAX];
	size_t len;
	int n, ret;

	if ((n = spool_record_head(bufp, capp, e->boot_id, e->seq, e->len)) < 0)
		return n;
	if ((ret = read_at(sp->fd, *bufp + n, e->len, e->off)) < 0)
		return ret;
	len = spool_record_seal(*bufp, (size_t)n + e->len);
	if (fwrite(*bufp, 1, len, out) != len)
		return -EIO;
	e->off = *offp + n;
	*offp += (off_t)len;
	e->unsaved = 0;
	if (e->state == SPOOL_ACKED) {
		len = spool_record_ack(ack, e->boot_id, e->seq);
		if (fwrite(ack, 1, len, out) != len)
			return -EIO;
		*offp += (off_t)len;
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
	uint64_t records = 0;
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
	for (i = 0; i < n && ret == 0; i++) {
		ret = copy_entry(sp, &saved[i], out, &off, &buf, &cap);
		records += saved[i].state == SPOOL_ACKED ? 2 : 1;
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
	sp->size = off;
	sp->torn = false;
	sp->records = records;
	sp->unsaved = 0;
	if (n > 0)
		memcpy(at(sp, 0), saved, n * sizeof(*saved));
	ret = fsync_dir(sp);
out:
	/* A half-written copy must not keep the space a full disk needs
	 * (after the rename the name is gone, and this a no-op). */
	if (ret < 0)
		(void)unlinkat(sp->dirfd, LOG_TMP, 0);
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
	sp->held_tail = &sp->held;
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
	/* The file as loaded is whole and valid, only longer: on a full
	 * disk the compaction waits for room.  The boot id cannot. */
	sp->compact_at = compact(sp) < 0 ? sp->records + max :
	    3 * (uint64_t)max + 64;
	if ((ret = next_boot(sp)) < 0)
		goto fail;
	return 0;
fail:
	spool_close(sp);
	return ret;
}

size_t spool_drop_held(struct spool *sp)
{
	struct spool_held *h;
	size_t n = sp->nheld;

	while ((h = sp->held) != NULL) {
		sp->held = h->next;
		free(h);
	}
	sp->held_tail = &sp->held;
	sp->pending -= sp->nheld;
	sp->nheld = 0;
	return n;
}

void spool_close(struct spool *sp)
{
	if (sp->fd >= 0) {
		(void)spool_flush_held(sp);
		(void)spool_sync(sp);
		close(sp->fd);
	}
	if (sp->dirfd >= 0)
		close(sp->dirfd);
	(void)spool_drop_held(sp);
	free(sp->e);
	sp->e = NULL;
	sp->fd = sp->dirfd = -1;
	sp->first = sp->end = sp->alloc = sp->cursor = sp->pending = 0;
}

/* Whether the bound leaves no room for one more entry, once the oldest
 * acknowledged ones made what room they can. */
static bool full(struct spool *sp)
{
	while (spool_count(sp) >= sp->max && at(sp, 0)->state == SPOOL_ACKED)
		evict(sp);
	return spool_count(sp) >= sp->max;
}

/* Writes a reading to the file and the index (the bound was checked):
 * returns 0, -ENOMEM or the write's error. */
static int append_record(struct spool *sp, uint64_t boot_id, uint64_t seq,
    const char *payload, size_t len)
{
	struct spool_entry e = { .boot_id = boot_id, .seq = seq,
	    .state = SPOOL_UNSENT };
	char *rec = NULL;
	size_t cap = 0;
	int n, ret;

	/* Keep the file near the size of what it holds; on a full disk,
	 * try again only once as many records more were written. */
	if (sp->records > sp->compact_at)
		sp->compact_at = compact(sp) < 0 ? sp->records + sp->max :
		    3 * (uint64_t)sp->max + 64;
	if ((ret = grow(sp)) < 0)
		return ret;
	if ((n = spool_record_head(&rec, &cap, boot_id, seq, len)) < 0)
		return n;
	memcpy(rec + n, payload, len);
	/* O_APPEND: the record lands at the end of the whole ones. */
	e.off = sp->size + n;
	e.len = (uint32_t)len;
	ret = write_record(sp, rec, spool_record_seal(rec, (size_t)n + len));
	free(rec);
	if (ret < 0)
		return ret;
	push(sp, &e);
	if (boot_id == sp->boot_id)
		sp->last_seq = seq;
	return 0;
}

/* Writes the A records a full disk kept back. */
static int write_acks(struct spool *sp)
{
	char rec[SPOOL_RECORD_HEADER_MAX];
	size_t i;
	int ret;

	for (i = 0; sp->unsaved > 0 && i < spool_count(sp); i++) {
		struct spool_entry *e = at(sp, i);
		if (!e->unsaved)
			continue;
		ret = write_record(sp, rec, spool_record_ack(rec, e->boot_id, e->seq));
		if (ret < 0)
			return ret;
		e->unsaved = 0;
		sp->unsaved--;
	}
	return 0;
}

/* What a full disk kept back, in order: 0 once all of it is written. */
static int flush(struct spool *sp)
{
	struct spool_held *h;
	int ret = write_acks(sp);

	while (ret == 0 && (h = sp->held) != NULL) {
		ret = full(sp) ? -ENOSPC :
		    append_record(sp, h->boot_id, h->seq, h->payload, h->len);
		if (ret < 0)
			break;
		sp->pending--;	/* counted again as an entry */
		sp->held = h->next;
		if (sp->held == NULL)
			sp->held_tail = &sp->held;
		sp->nheld--;
		free(h);
	}
	if (ret < 0)
		sp->held_err = ret;
	return ret;
}

size_t spool_flush_held(struct spool *sp)
{
	(void)flush(sp);
	return sp->nheld;
}

/* Keeps a reading the file has no room for, in order, until it has. */
static int hold(struct spool *sp, uint64_t boot_id, uint64_t seq,
    const char *payload, size_t len)
{
	struct spool_held *h;

	if (sp->nheld >= SPOOL_HELD_MAX)
		return -ENOBUFS;
	h = malloc(sizeof(*h) + len);
	if (h == NULL)
		return -ENOMEM;
	h->next = NULL;
	h->boot_id = boot_id;
	h->seq = seq;
	h->len = len;
	memcpy(h->payload, payload, len);
	*sp->held_tail = h;
	sp->held_tail = &h->next;
	sp->nheld++;
	sp->pending++;
	return SPOOL_HELD;
}

int spool_append(struct spool *sp, uint64_t boot_id, uint64_t seq,
    const char *payload, size_t len)
{
	struct spool_entry *last = spool_count(sp) > 0 ?
	    at(sp, spool_count(sp) - 1) : NULL;
	uint64_t lb = last ? last->boot_id : 0, ls = last ? last->seq : 0;
	int ret;

	if (len == 0 || len > SPOOL_RECORD_MAX || memchr(payload, '\n', len) ||
	    boot_id < 1 || seq < 1)
		return -EINVAL;
	if (sp->held != NULL) {
		/* The last of the readings held is the newest. */
		struct spool_held *h = sp->held;
		while (h->next != NULL)
			h = h->next;
		lb = h->boot_id;
		ls = h->seq;
	}
	if (!key_less(lb, ls, boot_id, seq))
		return -EINVAL;
	/* What was kept back first, in order. */
	if (flush(sp) == 0) {
		if (full(sp))
			return -ENOSPC;
		ret = append_record(sp, boot_id, seq, payload, len);
		if (ret == 0 || ret == -ENOMEM)
			return ret;
		sp->held_err = ret;
	}
	return hold(sp, boot_id, seq, payload, len);
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
	char rec[SPOOL_RECORD_HEADER_MAX];

	if (e == NULL)
		return -ENOENT;
	if (e->state == SPOOL_ACKED)
		return 0;
	set_state(sp, e, SPOOL_ACKED);
	if (sp->unsaved == 0 &&
	    write_record(sp, rec, spool_record_ack(rec, boot_id, seq)) == 0)
		return 0;
	/* No room: written later, before any new reading. */
	e->unsaved = 1;
	sp->unsaved++;
	return write_acks(sp);
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
