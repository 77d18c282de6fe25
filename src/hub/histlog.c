/* The append-only log.  Whole lines are the unit of everything: one
 * write(2) each, a short write cut back off, a torn tail repaired at open.
 * That, and nothing cleverer, is what lets recovery trust every line that
 * ends in '\n'. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hub/histlog.h"

enum { CHUNK = 64 * 1024 };

struct linebuf {
	char *buf;
	size_t len, cap;
	bool overlong;		/* this line passed HISTLOG_LINE_MAX */
};

static int linebuf_add(struct linebuf *lb, const char *p, size_t n)
{
	if (lb->overlong || lb->len + n > HISTLOG_LINE_MAX) {
		/* Keep what fits: the torn-tail copy shows its start. */
		n = lb->len < HISTLOG_LINE_MAX ? HISTLOG_LINE_MAX - lb->len : 0;
		lb->overlong = true;
	}
	if (lb->len + n > lb->cap) {
		size_t cap = lb->cap ? lb->cap : 256;
		char *buf;

		while (cap < lb->len + n)
			cap *= 2;
		buf = realloc(lb->buf, cap);
		if (buf == NULL)
			return -ENOMEM;
		lb->buf = buf;
		lb->cap = cap;
	}
	if (n)
		memcpy(lb->buf + lb->len, p, n);
	lb->len += n;
	return 0;
}

/* Splits one chunk, read at file offset base, into lines; the remainder
 * stays in lb.  r->kept follows the end of the last whole line. */
static int scan_chunk(const char *p, size_t n, off_t base,
    struct linebuf *lb, histlog_line_fn *on_line, void *ctx,
    struct histlog_recovery *r)
{
	const char *start = p, *nl;
	int ret;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		if (nl == NULL)
			return linebuf_add(lb, p, n);
		ret = linebuf_add(lb, p, (size_t)(nl - p));
		if (ret < 0)
			return ret;
		if (lb->overlong) {
			r->overlong++;
		} else {
			r->lines++;
			if (on_line)
				on_line(ctx, lb->buf ? lb->buf : "", lb->len);
		}
		r->kept = base + (nl - start) + 1;
		n -= (size_t)(nl - p) + 1;
		p = nl + 1;
		lb->len = 0;
		lb->overlong = false;
	}
	return 0;
}

/* Ends the file at its whole lines, or ends its torn tail with '\n'. */
static int repair(int fd, struct histlog_recovery *r, bool truncate)
{
	if (truncate) {
		if (ftruncate(fd, r->kept) != 0)
			return -errno;
	} else {
		if (pwrite(fd, "\n", 1, r->kept + r->torn) != 1)
			return -EIO;
		r->terminated = true;
	}
	if (fdatasync(fd) != 0 && errno != EINVAL)
		return -errno;
	return 0;
}

/* Reads the whole file, handing over whole lines; the torn tail (at most
 * HISTLOG_LINE_MAX bytes of it) is left in *tail. */
static int scan(int fd, histlog_line_fn *on_line, void *ctx,
    struct histlog_recovery *r, struct linebuf *tail)
{
	off_t off = 0;
	char *chunk;
	ssize_t n;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	chunk = malloc(CHUNK);
	if (chunk == NULL)
		return -ENOMEM;
	for (;;) {
		n = pread(fd, chunk, CHUNK, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		ret = scan_chunk(chunk, (size_t)n, off, tail, on_line, ctx, r);
		if (ret < 0)
			break;
		off += n;
	}
	r->torn = off - r->kept;
	free(chunk);
	return ret;
}

int histlog_scan_fd(int fd, histlog_line_fn *on_line, void *ctx,
    struct histlog_recovery *r)
{
	struct linebuf tail = { 0 };
	int ret = scan(fd, on_line, ctx, r, &tail);

	free(tail.buf);
	return ret;
}

int histlog_recover_fd(int fd, histlog_line_fn *on_line,
    histlog_torn_fn *on_torn, void *ctx, struct histlog_recovery *r)
{
	struct linebuf tail = { 0 };
	int ret;

	ret = scan(fd, on_line, ctx, r, &tail);
	if (ret == 0 && r->torn > 0) {
		if (on_torn)
			on_torn(ctx, tail.buf ? tail.buf : "", tail.len);
		ret = repair(fd, r, on_torn != NULL);
	}
	free(tail.buf);
	return ret;
}

/* Wraps the caller's line callback to learn the chain value of the file's
 * last whole line: zero when that line is not chained. */
struct tracker {
	struct histlog *l;
	histlog_line_fn *on_line;
	histlog_torn_fn *on_torn;
	void *ctx;
};

static void track_torn(void *ctx, const char *bytes, size_t len)
{
	struct tracker *t = ctx;

	t->on_torn(t->ctx, bytes, len);
}

static void track_line(void *ctx, const char *line, size_t len)
{
	struct tracker *t = ctx;
	size_t bodylen;

	if (!chain_split(line, len, &bodylen, t->l->chain))
		memset(t->l->chain, 0, CHAIN_LEN);
	if (t->on_line)
		t->on_line(t->ctx, line, len);
}

static int open_append(const char *path)
{
	int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	return fd < 0 ? -errno : fd;
}

int histlog_open(struct histlog *l, const char *path,
    enum histlog_fsync policy, histlog_line_fn *on_line,
    histlog_torn_fn *on_torn, void *ctx, struct histlog_recovery *r)
{
	struct stat st;
	int fd, ret;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->policy = policy;
	l->path = strdup(path);
	if (l->path == NULL)
		return -ENOMEM;
	fd = open_append(path);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		ret = S_ISREG(st.st_mode) ? -errno : -EINVAL;
		close(fd);
		return ret;
	}
	ret = histlog_recover_fd(fd, track_line, on_torn ? track_torn : NULL,
	    &(struct tracker){ l, on_line, on_torn, ctx }, r);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	l->fd = fd;
	l->size = r->kept + (r->terminated ? r->torn + 1 : 0);
	l->file_lines = r->lines + r->overlong + (r->terminated ? 1 : 0);
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	return 0;
}

int histlog_append(struct histlog *l, const char *line, size_t len)
{
	ssize_t n;

	if (l->fd < 0)
		return -EBADF;
	if (len == 0 || line[len - 1] != '\n' || len > SSIZE_MAX)
		return -EINVAL;
	do
		n = write(l->fd, line, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != len) {
		/* Disk full mid-line: take the piece back, so the file keeps
		 * only whole lines and the caller may retry this one. */
		if (ftruncate(l->fd, l->size) != 0)
			return -errno;
		return -ENOSPC;
	}
	l->size += (off_t)len;
	l->lines++;
	l->file_lines++;
	l->dirty = true;
	if (l->policy == HISTLOG_FSYNC_ALWAYS)
		return histlog_sync(l);
	return 0;
}

int histlog_append_chained(struct histlog *l, const char *record, size_t len,
    off_t *at)
{
	uint8_t next[CHAIN_LEN];
	size_t bodylen;
	off_t start = l->size;
	char *line;
	int ret;

	if (len < 3 || record[0] != '{' || memcmp(record + len - 2, "}\n", 2))
		return -EINVAL;
	bodylen = len - 2;
	line = malloc(bodylen + CHAIN_MEMBER_LEN + 1);
	if (line == NULL)
		return -ENOMEM;
	chain_next(next, l->chain, record, bodylen);
	memcpy(line, record, bodylen);
	chain_member(line + bodylen, next);
	line[bodylen + CHAIN_MEMBER_LEN] = '\n';
	ret = histlog_append(l, line, bodylen + CHAIN_MEMBER_LEN + 1);
	free(line);
	if (ret < 0)
		return ret;
	memcpy(l->chain, next, CHAIN_LEN);
	if (at)
		*at = start;
	return 0;
}

void histlog_set_chain(struct histlog *l, const uint8_t chain[static CHAIN_LEN])
{
	memcpy(l->chain, chain, CHAIN_LEN);
}

int histlog_sync(struct histlog *l)
{
	if (l->fd < 0 || !l->dirty)
		return 0;
	if (fdatasync(l->fd) != 0)
		return -errno;
	l->dirty = false;
	l->syncs++;
	return 0;
}

int histlog_reopen(struct histlog *l)
{
	struct stat st;
	int fd;

	if (l->policy != HISTLOG_FSYNC_NEVER)
		(void)histlog_sync(l);
	fd = open_append(l->path);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) != 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	if (st.st_dev != l->dev || st.st_ino != l->ino) {
		/* A new file: empty after a rotation, and then the chain runs
		 * on from memory; otherwise counted and continued from. */
		l->file_lines = 0;
		if (st.st_size > 0) {
			struct histlog_recovery r;
			int ret = histlog_scan_fd(fd, track_line,
			    &(struct tracker){ l, NULL, NULL, NULL }, &r);

			if (ret < 0) {
				close(fd);
				return ret;
			}
			l->file_lines = r.lines + r.overlong;
		}
		l->dev = st.st_dev;
		l->ino = st.st_ino;
	}
	if (l->fd >= 0)
		close(l->fd);
	l->fd = fd;
	l->size = st.st_size;
	l->dirty = false;
	return 0;
}

void histlog_close(struct histlog *l)
{
	if (l->fd >= 0) {
		if (l->policy != HISTLOG_FSYNC_NEVER)
			(void)histlog_sync(l);
		close(l->fd);
		l->fd = -1;
	}
	free(l->path);
	l->path = NULL;
}

char *histlog_format_record(uint64_t received_ms, const char *topic,
    const cJSON *payload, int64_t ts_ms, bool exactly_once)
{
	cJSON *rec, *copy;
	char *body, *line = NULL;

	rec = cJSON_CreateObject();
	copy = cJSON_Duplicate(payload, true);
	if (rec == NULL || copy == NULL ||
	    cJSON_AddNumberToObject(rec, "received", (double)received_ms) ==
	    NULL || cJSON_AddStringToObject(rec, "topic", topic) == NULL ||
	    cJSON_AddNumberToObject(rec, "ts", (double)ts_ms) == NULL ||
	    cJSON_AddStringToObject(rec, "guarantee", exactly_once ?
	    "exactly-once" : "at-least-once") == NULL) {
		cJSON_Delete(copy);
		goto out;
	}
	cJSON_AddItemToObject(rec, "payload", copy);
	body = cJSON_PrintUnformatted(rec);
	if (body == NULL)
		goto out;
	if (asprintf(&line, "%s\n", body) < 0)
		line = NULL;
	cJSON_free(body);
out:
	cJSON_Delete(rec);
	return line;
}

/* Appends s as a JSON string body, each non-printable byte as \u00XX. */
static void escape(FILE *f, const unsigned char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			fprintf(f, "\\%c", s[i]);
		else if (s[i] >= 0x20 && s[i] < 0x7f)
			fputc(s[i], f);
		else
			fprintf(f, "\\u%04x", s[i]);
	}
}

char *histlog_format_reject(uint64_t received_ms, const char *topic,
    const char *reason, const void *raw, size_t rawlen)
{
	char *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);

	if (f == NULL)
		return NULL;
	fprintf(f, "{\"received\":%" PRIu64 ",\"topic\":", received_ms);
	if (topic) {
		fputc('"', f);
		escape(f, (const unsigned char *)topic, strlen(topic));
		fputc('"', f);
	} else {
		fputs("null", f);
	}
	fputs(",\"reason\":\"", f);
	escape(f, (const unsigned char *)reason, strlen(reason));
	fputs("\",\"raw\":\"", f);
	escape(f, raw, rawlen);
	fputs("\"}\n", f);
	if (fclose(f) != 0) {
		free(line);
		return NULL;
	}
	return line;
}

static bool get_uint53(const cJSON *obj, const char *name, uint64_t *out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
	double d;

	if (!cJSON_IsNumber(item))
		return false;
	d = item->valuedouble;
	if (!(d >= 0 && d <= 9007199254740992.0) || d != (double)(uint64_t)d)
		return false;
	*out = (uint64_t)d;
	return true;
}

int histlog_parse_key(const char *line, size_t len, struct histlog_key *k)
{
	const cJSON *payload, *node;
	const char *end = NULL;
	cJSON *rec;
	int ret = -EINVAL;

	/* A whole record and nothing after it: trailing bytes mean the line
	 * is not one we wrote. */
	rec = cJSON_ParseWithLengthOpts(line, len, &end, false);
	if (rec == NULL)
		return -EINVAL;
	while (end < line + len && (*end == ' ' || *end == '\t' || *end == '\r'))
		end++;
	if (end != line + len)
		goto out;
	payload = cJSON_GetObjectItemCaseSensitive(rec, "payload");
	node = cJSON_GetObjectItemCaseSensitive(payload, "node_id");
	if (!cJSON_IsString(node) || node->valuestring == NULL ||
	    node->valuestring[0] == '\0' ||
	    strlen(node->valuestring) > DEDUP_NODE_ID_MAX)
		goto out;
	if (!get_uint53(payload, "boot_id", &k->boot_id) ||
	    !get_uint53(payload, "seq", &k->seq))
		goto out;
	strcpy(k->node_id, node->valuestring);
	ret = 0;
out:
	cJSON_Delete(rec);
	return ret;
}
