/* The spool's file side: opening and loading spool.log (with its crash
 * repair), writing whole records, compaction, the boot_id file, reading a
 * payload back and syncing.  The entry table it fills is in spool.c, the
 * record format in spool_record.c. */
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
#include "edge/spool_internal.h"
#include "edge/spool_record.h"

#define LOG_NAME "spool.log"
#define LOG_TMP "spool.log.tmp"
#define BOOT_NAME "boot_id"
#define BOOT_TMP "boot_id.tmp"

/* Writes a whole record with O_APPEND at the end of the whole ones.  A
 * short write (disk full, RLIMIT_FSIZE) is cut back, so the next record
 * never lands on a torn one; if even that fails, the next write tries the
 * cut again first. */
int spool_write_record(struct spool *sp, const char *rec, size_t len)
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

/* Applies one line [line, nl) at file offset off. */
static int load_line(struct spool *sp, const char *line, const char *nl,
    off_t off, bool *sealed_seen)
{
	struct spool_record r;
	struct spool_entry e = { 0 }, *found;
	int ret;

	switch (spool_record_parse(line, nl, sealed_seen, &r)) {
	case SPOOL_RECORD_ACK:
		found = spool_lookup(sp, r.boot_id, r.seq);
		if (found != NULL)
			spool_set_state(sp, found, SPOOL_ACKED);
		return 0;
	case SPOOL_RECORD_READING:
		break;
	default:
		sp->bad_lines++;
		return 0;
	}
	if (spool_count(sp) > 0 && !spool_key_less(spool_at(sp, spool_count(sp) - 1)->boot_id,
	    spool_at(sp, spool_count(sp) - 1)->seq, r.boot_id, r.seq)) {
		sp->bad_lines++;
		return 0;
	}
	e.boot_id = r.boot_id;
	e.seq = r.seq;
	e.off = off + (off_t)r.payload_off;
	e.len = (uint32_t)r.payload_len;
	e.state = SPOOL_UNSENT;
	if ((ret = spool_grow(sp)) < 0)
		return ret;
	spool_push(sp, &e);
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
		memcpy(saved, spool_at(sp, 0), n * sizeof(*saved));
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
		memcpy(spool_at(sp, 0), saved, n * sizeof(*saved));
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

/* Compacts now; when that finds no room (a full disk), tries again only
 * once as many records more were written. */
void spool_compact(struct spool *sp)
{
	sp->compact_at = compact(sp) < 0 ? sp->records + sp->max :
	    3 * (uint64_t)sp->max + 64;
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
		maxb = spool_at(sp, spool_count(sp) - 1)->boot_id;
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
	while (spool_count(sp) > max && spool_at(sp, 0)->state == SPOOL_ACKED)
		spool_evict(sp);
	/* The file as loaded is whole and valid, only longer: on a full
	 * disk the compaction waits for room.  The boot id cannot. */
	spool_compact(sp);
	if ((ret = next_boot(sp)) < 0)
		goto fail;
	return 0;
fail:
	spool_close(sp);
	return ret;
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

int spool_sync(struct spool *sp)
{
	return fdatasync(sp->fd) == 0 ? 0 : -errno;
}
