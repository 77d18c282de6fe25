/* wgu-historian verify's files: the logs found on the command line, put
 * oldest first by their logrotate number and mapped, and the checkpoint
 * file read, its signatures checked and its chain values sorted for the
 * walk (verify.c) to look up. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hub/checkpoint.h"
#include "hub/verify.h"
#include "hub/verify_internal.h"

/* ------------------------------------------------------------ paths */

/* The .N of logrotate, as a number; 0 when the name has none. */
static long rotation_rank(const char *path, size_t *stem)
{
	const char *dot = strrchr(path, '.'), *p;
	long n = 0;

	*stem = strlen(path);
	if (dot == NULL || dot[1] == '\0' || strchr(dot, '/'))
		return 0;
	for (p = dot + 1; *p; p++) {
		if (*p < '0' || *p > '9' || n > 100000000)
			return 0;
		n = n * 10 + (*p - '0');
	}
	*stem = (size_t)(dot - path);
	return n;
}

char *verify_checkpoints_path(const char *log)
{
	size_t len;
	char *p;

	rotation_rank(log, &len);
	if (len > 4 && memcmp(log + len - 4, ".log", 4) == 0)
		len -= 4;
	if (asprintf(&p, "%.*s.checkpoints", (int)len, log) < 0)
		return NULL;
	return p;
}

static int by_age(const void *a, const void *b)
{
	const struct logfile *x = a, *y = b;

	if (x->rank != y->rank)	/* larger .N is older; none (0) newest */
		return x->rank > y->rank ? -1 : 1;
	return x->order - y->order;
}

/* ------------------------------------------------------------ files */

static int map_file(struct logfile *f)
{
	struct stat st;
	void *p;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0) {
		fprintf(stderr, "wgu-historian verify: %s: %s\n", f->path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "wgu-historian verify: %s: not a regular "
		    "file\n", f->path);
		close(fd);
		return -1;
	}
	f->size = (size_t)st.st_size;
	if (f->size > 0) {
		p = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			fprintf(stderr, "wgu-historian verify: %s: %s\n",
			    f->path, strerror(errno));
			close(fd);
			return -1;
		}
		(void)madvise(p, f->size, MADV_SEQUENTIAL);
		f->data = p;
	}
	close(fd);
	return 0;
}

size_t verify_next_line(const char **p, const char *end, const char **line,
    bool *whole)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));

	*line = *p;
	*whole = nl != NULL;
	if (nl == NULL)
		nl = end;
	*p = *whole ? nl + 1 : nl;
	return (size_t)(nl - *line);
}

/* ------------------------------------------------------------ checkpoints */

static struct verifier *sort_ctx;

static int by_chain_cmp(const void *a, const void *b)
{
	const struct cpinfo *x = &sort_ctx->cps[*(const size_t *)a];
	const struct cpinfo *y = &sort_ctx->cps[*(const size_t *)b];
	int c = memcmp(x->cp.chain, y->cp.chain, CHAIN_LEN);

	if (c)
		return c;
	return x->cp.n < y->cp.n ? -1 : x->cp.n > y->cp.n;
}

int verify_load_checkpoints(struct verifier *v, const char *path,
    EVP_PKEY *pub)
{
	struct logfile f = { .path = path };
	struct checkpoint full;
	const char *p, *end, *line;
	size_t len, cap = 0, k = 0;
	bool whole;
	int ret = 0;

	if (map_file(&f) < 0)
		return 1;
	p = f.data;
	end = f.data + f.size;
	while (p < end) {
		k++;
		len = verify_next_line(&p, end, &line, &whole);
		if (!whole) {
			printf("wgu-historian verify: note: %s ends in a "
			    "partial line (a crash mid-write), not read\n",
			    path);
			break;
		}
		if (v->ncps == cap) {
			struct cpinfo *n;

			cap = cap ? 2 * cap : 64;
			n = realloc(v->cps, cap * sizeof(*n));
			if (n == NULL) {
				ret = verify_fail("out of memory");
				goto out;
			}
			v->cps = n;
		}
		memset(&v->cps[v->ncps], 0, sizeof(v->cps[0]));
		if (checkpoint_parse(line, len, &full) < 0) {
			ret = verify_fail("line %zu of the checkpoint file %s "
			    "is not a checkpoint: the checkpoint file was "
			    "altered", k, path);
			goto out;
		}
		if (!checkpoint_signed_by(line, &full, pub)) {
			ret = verify_fail("line %zu of the checkpoint file %s "
			    "is not signed by this public key: the checkpoint "
			    "file was altered (or the key is another hub's)",
			    k, path);
			goto out;
		}
		v->cps[v->ncps].cp = (struct cpsum){ .n = full.n,
		    .time_ms = full.time_ms, .line = full.line };
		memcpy(v->cps[v->ncps].cp.chain, full.chain, CHAIN_LEN);
		if (v->ncps > 0 && (v->cps[v->ncps].cp.n !=
		    v->cps[v->ncps - 1].cp.n + 1 || v->cps[v->ncps].cp.time_ms <
		    v->cps[v->ncps - 1].cp.time_ms)) {
			ret = verify_fail("line %zu of the checkpoint file %s "
			    "(checkpoint %" PRIu64 ") does not follow "
			    "checkpoint %" PRIu64 ": checkpoints were removed "
			    "or reordered", k, path, v->cps[v->ncps].cp.n,
			    v->cps[v->ncps - 1].cp.n);
			goto out;
		}
		v->ncps++;
	}
	v->by_chain = calloc(v->ncps ? v->ncps : 1, sizeof(size_t));
	if (v->by_chain == NULL) {
		ret = verify_fail("out of memory");
		goto out;
	}
	for (k = 0; k < v->ncps; k++)
		v->by_chain[k] = k;
	sort_ctx = v;
	qsort(v->by_chain, v->ncps, sizeof(size_t), by_chain_cmp);
out:
	if (f.data)
		munmap((void *)f.data, f.size);
	return ret;
}

int verify_open_logs(struct verifier *v, char **paths, size_t n)
{
	size_t i, stem;

	v->nlogs = n;
	v->logs = calloc(n, sizeof(*v->logs));
	if (v->logs == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		v->logs[i].path = paths[i];
		v->logs[i].rank = rotation_rank(v->logs[i].path, &stem);
		v->logs[i].order = (int)i;
	}
	qsort(v->logs, n, sizeof(*v->logs), by_age);
	for (i = 0; i < n; i++)
		if (map_file(&v->logs[i]) < 0)
			return -1;
	return 0;
}

void verify_close_logs(struct verifier *v)
{
	size_t i;

	for (i = 0; i < v->nlogs; i++)
		if (v->logs[i].data)
			munmap((void *)v->logs[i].data, v->logs[i].size);
	free(v->logs);
	v->logs = NULL;
	v->nlogs = 0;
}
