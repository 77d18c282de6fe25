/* Fuzzes the historian's log recovery (src/hub/histlog.c): the input is a
 * log file as a crash, a full disk or a careless editor may leave it.  It is
 * put in a memfd, recovered with the historian's own line handling (parse
 * the key, rebuild the duplicate table), and the result is checked:
 *
 * - the whole lines were handed over, each exactly once, in order;
 * - the file now ends at its last newline, and its bytes are the input's;
 * - a second recovery finds the same lines and nothing torn.
 *
 * abort() marks a broken invariant, never a bad input. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hub/dedup.h"
#include "hub/histlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct state {
	const uint8_t *data;
	size_t size;
	size_t pos;		/* where the next line must start */
	struct dedup_table *t;
	uint64_t keys;
	size_t torn_calls;
};

static void on_line(void *ctx, const char *line, size_t len)
{
	struct state *st = ctx;
	struct histlog_key k;
	enum dedup_effect e;
	struct dedup_gap g;

	/* Lines arrive in file order: skip overlong ones, which recovery
	 * skips too, by finding this line at or after pos. */
	while (st->pos + len < st->size &&
	    (memcmp(st->data + st->pos, line, len) != 0 ||
	    st->data[st->pos + len] != '\n')) {
		const uint8_t *nl = memchr(st->data + st->pos, '\n',
		    st->size - st->pos);
		if (nl == NULL)
			abort();
		st->pos = (size_t)(nl - st->data) + 1;
	}
	if (st->pos + len >= st->size || st->data[st->pos + len] != '\n')
		abort();
	st->pos += len + 1;
	if (histlog_parse_key(line, len, &k) == 0) {
		if (strlen(k.node_id) == 0 || strlen(k.node_id) > DEDUP_NODE_ID_MAX)
			abort();
		if (dedup_add(st->t, k.node_id, k.boot_id, k.seq, true, &e,
		    &g) == 0)
			st->keys++;
	}
}

static void on_torn(void *ctx, const char *bytes, size_t len)
{
	struct state *st = ctx;

	st->torn_calls++;
	if (len > HISTLOG_LINE_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state st = { .data = data, .size = size };
	struct histlog_recovery r, r2;
	const uint8_t *last;
	size_t whole, newlines = 0, i;
	struct stat sb;
	uint8_t *back;
	int fd;

	fd = memfd_create("fuzz_logrecovery", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	st.t = dedup_new(1);
	if (st.t == NULL)
		abort();
	if (histlog_recover_fd(fd, on_line, on_torn, &st, &r) != 0)
		abort();

	for (i = 0; i < size; i++)
		newlines += data[i] == '\n';
	last = size ? memrchr(data, '\n', size) : NULL;
	whole = last ? (size_t)(last - data) + 1 : 0;
	if (r.lines + r.overlong != newlines || r.kept != (off_t)whole ||
	    r.torn != (off_t)(size - whole) || st.torn_calls != (size > whole))
		abort();
	if (fstat(fd, &sb) != 0 || sb.st_size != (off_t)whole)
		abort();
	back = malloc(whole + 1);
	if (back == NULL || pread(fd, back, whole + 1, 0) != (ssize_t)whole ||
	    memcmp(back, data, whole) != 0)
		abort();
	free(back);
	for (i = 0; i < dedup_count(st.t); i++)
		if (dedup_at(st.t, i)->recovered != dedup_at(st.t, i)->logged)
			abort();
	dedup_free(st.t);

	/* Recovering a repaired file changes nothing. */
	st = (struct state){ .data = data, .size = whole, .t = dedup_new(1) };
	if (st.t == NULL || histlog_recover_fd(fd, on_line, on_torn, &st,
	    &r2) != 0)
		abort();
	if (r2.lines != r.lines || r2.torn != 0 || st.torn_calls != 0 ||
	    r2.kept != r.kept)
		abort();
	dedup_free(st.t);
	close(fd);
	return 0;
}
