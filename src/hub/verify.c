/* wgu-historian verify: the auditor's check of the production log. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hub/chain.h"
#include "hub/checkpoint.h"
#include "hub/verify.h"

enum { EXIT_USAGE = 2, TIME_LEN = 64 };

static const uint8_t ZERO[CHAIN_LEN];

struct logfile {
	const char *path;
	long rank;			/* .N suffix; 0 for none */
	int order;			/* on the command line */
	const char *data;		/* mapped, or NULL when empty */
	size_t size;
};

/* What verify keeps of a checkpoint (a year at one a minute is half a
 * million), and where the walk found its chain value. */
struct cpsum {
	uint64_t n, time_ms, line;
	uint8_t chain[CHAIN_LEN];
};

struct cpinfo {
	struct cpsum cp;
	size_t file;			/* index into the sorted logs */
	uint64_t line;			/* 0: not found */
	uint64_t seen;			/* global line number where found */
};

struct verifier {
	struct logfile *logs;
	size_t nlogs;
	struct cpinfo *cps;
	size_t ncps;
	size_t *by_chain;		/* cps indices sorted by chain */
	bool chain_only;
	/* The walk. */
	uint8_t prev[CHAIN_LEN];
	uint64_t lines;
	uint64_t first_ms, last_ms;
	bool have_first;
	long anchor;			/* -1: the start; -2: line 1 taken as
					 * it is (--chain-only); else the
					 * cps index it follows */
};

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

static char *pubkey_path(const char *log)
{
	const char *slash = strrchr(log, '/');
	char *p;

	if (asprintf(&p, "%.*s" CHECKPOINT_PUB_NAME,
	    slash ? (int)(slash - log + 1) : 0, log) < 0)
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

/* ------------------------------------------------------------ output */

__attribute__((format(printf, 1, 2)))
static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("wgu-historian verify: NOT INTACT: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	return 1;
}

/* ms since the epoch as RFC 3339 UTC. */
static const char *rfc3339(uint64_t ms, char buf[TIME_LEN])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return "?";
	snprintf(buf, TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	return buf;
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

/* The next line of [*p, end): its length without '\n'; *p moves past it.
 * *whole is false for a last line without '\n'. */
static size_t next_line(const char **p, const char *end, const char **line,
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

/* Reads, parses and checks the signature of every checkpoint.  Returns
 * 0, or 1 after saying what is wrong with the file. */
static int load_checkpoints(struct verifier *v, const char *path,
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
		len = next_line(&p, end, &line, &whole);
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
				ret = fail("out of memory");
				goto out;
			}
			v->cps = n;
		}
		memset(&v->cps[v->ncps], 0, sizeof(v->cps[0]));
		if (checkpoint_parse(line, len, &full) < 0) {
			ret = fail("line %zu of the checkpoint file %s is not "
			    "a checkpoint: the checkpoint file was altered",
			    k, path);
			goto out;
		}
		if (!checkpoint_signed_by(line, &full, pub)) {
			ret = fail("line %zu of the checkpoint file %s is not "
			    "signed by this public key: the checkpoint file "
			    "was altered (or the key is another hub's)",
			    k, path);
			goto out;
		}
		v->cps[v->ncps].cp = (struct cpsum){ .n = full.n,
		    .time_ms = full.time_ms, .line = full.line };
		memcpy(v->cps[v->ncps].cp.chain, full.chain, CHAIN_LEN);
		if (v->ncps > 0 && (v->cps[v->ncps].cp.n !=
		    v->cps[v->ncps - 1].cp.n + 1 || v->cps[v->ncps].cp.time_ms <
		    v->cps[v->ncps - 1].cp.time_ms)) {
			ret = fail("line %zu of the checkpoint file %s "
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
		ret = fail("out of memory");
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

/* Marks the checkpoints whose chain value is this line's. */
static void mark_checkpoints(struct verifier *v, const uint8_t *chain,
    size_t file, uint64_t line)
{
	size_t lo = 0, hi = v->ncps, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = memcmp(v->cps[v->by_chain[mid]].cp.chain, chain, CHAIN_LEN);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < v->ncps; lo++) {
		struct cpinfo *ci = &v->cps[v->by_chain[lo]];

		if (memcmp(ci->cp.chain, chain, CHAIN_LEN) != 0)
			break;
		if (ci->line == 0) {
			ci->file = file;
			ci->line = line;
			ci->seen = v->lines;
		}
	}
}

/* ------------------------------------------------------------ the walk */

/* Whether line (len bytes) chains from prev; its value in out. */
static bool follows(const uint8_t prev[CHAIN_LEN], const char *line,
    size_t len, uint8_t out[CHAIN_LEN])
{
	uint8_t want[CHAIN_LEN];
	size_t bodylen;

	if (!chain_split(line, len, &bodylen, out))
		return false;
	chain_next(want, prev, line, bodylen);
	return memcmp(want, out, CHAIN_LEN) == 0;
}

/* The first line of the oldest file: from the start, or from a signed
 * checkpoint (files before it were deleted). */
static bool anchor(struct verifier *v, const char *line, size_t len)
{
	uint8_t c[CHAIN_LEN];
	size_t k;

	if (follows(ZERO, line, len, c)) {
		memset(v->prev, 0, CHAIN_LEN);
		v->anchor = -1;
		return true;
	}
	for (k = v->ncps; k-- > 0;) {
		if (follows(v->cps[k].cp.chain, line, len, c)) {
			memcpy(v->prev, v->cps[k].cp.chain, CHAIN_LEN);
			v->anchor = (long)k;
			return true;
		}
	}
	return false;
}

/* Says how the chain breaks at line ln of f, whose predecessor's value
 * is v->prev (unknown for the first line of the walk). */
static int broken(struct verifier *v, const struct logfile *f, uint64_t ln,
    const char *line, size_t len, const char *rest, const char *end)
{
	uint8_t c1[CHAIN_LEN], c0[CHAIN_LEN];
	const char *next;
	size_t nlen, bodylen;
	bool whole, first = v->lines == 0;
	const uint8_t *prev = first ? ZERO : v->prev;

	if (!chain_split(line, len, &bodylen, c0))
		return fail("line %" PRIu64 " of %s is not a chained log line: "
		    "it was altered (or written before the log was chained)",
		    ln, f->path);
	nlen = rest < end ? next_line(&rest, end, &next, &whole) : 0;
	if (nlen > 0 && follows(prev, next, nlen, c1)) {
		if (follows(c1, line, len, c0))
			return fail("lines %" PRIu64 " and %" PRIu64 " of %s "
			    "are swapped", ln, ln + 1, f->path);
		return fail("line %" PRIu64 " of %s was inserted (line %"
		    PRIu64 " follows the line before it)", ln, f->path,
		    ln + 1);
	}
	if (first)
		return fail("line %" PRIu64 " of %s follows neither the start "
		    "of the record nor a signed checkpoint: it was altered, or "
		    "the logs before %s are missing", ln, f->path, f->path);
	return fail("the record breaks at line %" PRIu64 " of %s: that line "
	    "was altered, or lines just before it were removed (it does not "
	    "follow from the line before it)", ln, f->path);
}

static uint64_t received_ms(const char *line, size_t len)
{
	static const char head[] = "{\"received\":";
	uint64_t v = 0;
	size_t i = sizeof(head) - 1;

	if (len < i || memcmp(line, head, i) != 0)
		return 0;
	for (; i < len && line[i] >= '0' && line[i] <= '9' && v < UINT64_MAX
	    / 100; i++)
		v = v * 10 + (uint64_t)(line[i] - '0');
	return v;
}

static int walk_file(struct verifier *v, size_t fi)
{
	const struct logfile *f = &v->logs[fi];
	const char *p = f->data, *end = f->data + f->size, *line;
	uint8_t c[CHAIN_LEN];
	uint64_t ln = 0;
	size_t len;
	bool whole;

	while (p < end) {
		len = next_line(&p, end, &line, &whole);
		if (!whole) {
			printf("wgu-historian verify: note: %s ends in a "
			    "partial line of %zu bytes after line %" PRIu64
			    " (a crash mid-write; the historian cuts it off at "
			    "its next start), not part of the record\n",
			    f->path, len, ln);
			break;
		}
		ln++;
		if (v->lines == 0 && !anchor(v, line, len)) {
			size_t bodylen;

			/* --chain-only takes the first line as it is. */
			if (!v->chain_only ||
			    !chain_split(line, len, &bodylen, c))
				return broken(v, f, ln, line, len, p, end);
			v->anchor = -2;
		} else if (!follows(v->prev, line, len, c)) {
			return broken(v, f, ln, line, len, p, end);
		}
		memcpy(v->prev, c, CHAIN_LEN);
		v->lines++;
		mark_checkpoints(v, c, fi, ln);
		if (!v->have_first) {
			v->first_ms = received_ms(line, len);
			v->have_first = true;
		}
		v->last_ms = received_ms(line, len);
	}
	return 0;
}

/* ------------------------------------------------------------ checkpoints
 * against the walk */

/* When a file's first whole line was received (0: none, or unreadable). */
static uint64_t first_ms(const struct logfile *f)
{
	const char *p = f->data, *line;
	size_t len;
	bool whole;

	if (p == NULL)
		return 0;
	len = next_line(&p, f->data + f->size, &line, &whole);
	return whole ? received_ms(line, len) : 0;
}

/* Says where the record lost what checkpoint ci vouched for; prev is the
 * last checkpoint found before it (NULL: the start of the walk). */
static int missing(struct verifier *v, const struct cpinfo *ci,
    const struct cpinfo *prev)
{
	size_t fi = prev ? prev->file : 0;
	uint64_t after = prev ? prev->line : 0, lines = 0;
	const struct logfile *f;
	const char *p, *end, *line;
	char t[TIME_LEN];
	bool whole;

	/* A smaller line number than the last found: a later file. */
	if (prev && ci->cp.line <= prev->line)
		fi++, after = 0;
	/* The file being written when the checkpoint was signed: not one
	 * whose first line came after it (the line numbers alone cannot
	 * tell which file a checkpoint before the first one found was in). */
	while (fi + 1 < v->nlogs && first_ms(&v->logs[fi + 1]) != 0 &&
	    first_ms(&v->logs[fi + 1]) <= ci->cp.time_ms)
		fi++, after = 0;
	if (fi >= v->nlogs)
		return fail("the record is cut short after %s: signed "
		    "checkpoint %" PRIu64 " (%s) vouches for line %" PRIu64
		    " of a later file, which is missing",
		    v->logs[v->nlogs - 1].path, ci->cp.n,
		    rfc3339(ci->cp.time_ms, t), ci->cp.line);
	f = &v->logs[fi];
	p = f->data;
	end = f->data + f->size;
	while (p < end && lines < ci->cp.line) {
		(void)next_line(&p, end, &line, &whole);
		lines += whole;
	}
	if (lines < ci->cp.line)
		return fail("%s is cut short: it ends at line %" PRIu64 ", but "
		    "signed checkpoint %" PRIu64 " (%s) vouches for line %"
		    PRIu64 ": the lines after line %" PRIu64 " were removed",
		    f->path, lines, ci->cp.n, rfc3339(ci->cp.time_ms, t),
		    ci->cp.line, lines);
	return fail("the record was rewritten between line %" PRIu64 " and "
	    "line %" PRIu64 " of %s: line %" PRIu64 " is not what signed "
	    "checkpoint %" PRIu64 " (%s) vouches for, though the chain holds "
	    "(it was recomputed)", after + 1, ci->cp.line, f->path,
	    ci->cp.line, ci->cp.n, rfc3339(ci->cp.time_ms, t));
}

/* Every checkpoint after the walk's start must be found, in order, at
 * the line it names. */
static int check_checkpoints(struct verifier *v, const struct cpinfo **last)
{
	const struct cpinfo *prev = NULL;
	size_t k;
	char t[TIME_LEN];

	*last = v->anchor >= 0 ? &v->cps[v->anchor] : NULL;
	for (k = v->anchor >= 0 ? (size_t)v->anchor + 1 : 0; k < v->ncps;
	    k++) {
		const struct cpinfo *ci = &v->cps[k];

		if (ci->line == 0)
			return missing(v, ci, prev);
		if (prev && ci->seen < prev->seen)
			return fail("signed checkpoint %" PRIu64 " is found "
			    "before checkpoint %" PRIu64 " (line %" PRIu64
			    " of %s): the record was reordered", ci->cp.n,
			    prev->cp.n, ci->line, v->logs[ci->file].path);
		if (ci->line != ci->cp.line)
			return fail("line %" PRIu64 " of %s is what signed "
			    "checkpoint %" PRIu64 " (%s) vouches for at line %"
			    PRIu64 ": lines before it were removed or "
			    "inserted and the chain recomputed", ci->line,
			    v->logs[ci->file].path, ci->cp.n,
			    rfc3339(ci->cp.time_ms, t), ci->cp.line);
		prev = ci;
		*last = ci;
	}
	return 0;
}

/* ------------------------------------------------------------ main */

static void usage(FILE *f)
{
	fprintf(f,
"usage: wgu-historian verify [options] LOG...\n"
"Checks production logs (the current one and any rotated ones, in any\n"
"order: LOG.N is older the larger N is) against their hash chain and the\n"
"hub's signed checkpoints.  Exit status 0 only when the record is intact.\n"
"  --checkpoints FILE  the checkpoint file (the newest LOG with .log\n"
"                      replaced by .checkpoints)\n"
"  --pubkey FILE       the historian's public key (" CHECKPOINT_PUB_NAME
" beside\n"
"                      the newest LOG); keep your own copy and name it\n"
"  --chain-only        check the chain alone, without checkpoints: an\n"
"                      edit, insertion, removal or swap still shows, a\n"
"                      cut tail or a recomputed chain does not\n");
}

static int parse_args(int argc, char **argv, const char **checkpoints,
    const char **pubkey, bool *chain_only)
{
	enum { OPT_CP = 256, OPT_PUB, OPT_CHAIN };
	static const struct option longopts[] = {
		{ "checkpoints", required_argument, NULL, OPT_CP },
		{ "pubkey", required_argument, NULL, OPT_PUB },
		{ "chain-only", no_argument, NULL, OPT_CHAIN },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CP: *checkpoints = optarg; break;
		case OPT_PUB: *pubkey = optarg; break;
		case OPT_CHAIN: *chain_only = true; break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			fprintf(stderr, "wgu-historian verify: %s needs a "
			    "value\n", argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "wgu-historian verify: unknown option "
			    "%s\n", argv[optind - 1]);
			return -1;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "wgu-historian verify: which logs? (wgu-historian "
		    "verify --help)\n");
		return -1;
	}
	return optind;
}

static void report(const struct verifier *v, const struct cpinfo *last)
{
	char t1[TIME_LEN], t2[TIME_LEN];

	if (v->lines == 0)
		printf("wgu-historian verify: the logs hold no lines\n");
	else
		printf("wgu-historian verify: %" PRIu64 " lines from %s to %s "
		    "intact\n", v->lines, rfc3339(v->first_ms, t1),
		    rfc3339(v->last_ms, t2));
	if (v->chain_only) {
		printf("  the chain only: not checked against signed "
		    "checkpoints\n");
		return;
	}
	if (last && last->line)
		printf("  last signed checkpoint: %" PRIu64 " (%s), line %"
		    PRIu64 " of %s; %" PRIu64 " lines after it are chained "
		    "but not yet signed\n", last->cp.n,
		    rfc3339(last->cp.time_ms, t1), last->line,
		    v->logs[last->file].path, v->lines - last->seen);
}

int verify_main(int argc, char **argv)
{
	const char *checkpoints = NULL, *pubkey = NULL;
	char *cp_default = NULL, *pub_default = NULL;
	struct verifier v = { .anchor = -1 };
	const struct cpinfo *last = NULL;
	EVP_PKEY *pub = NULL;
	int first, ret = 1;
	size_t i;

	first = parse_args(argc, argv, &checkpoints, &pubkey, &v.chain_only);
	if (first < 0)
		return EXIT_USAGE;
	v.nlogs = (size_t)(argc - first);
	v.logs = calloc(v.nlogs, sizeof(*v.logs));
	if (v.logs == NULL)
		return 1;
	for (i = 0; i < v.nlogs; i++) {
		size_t stem;

		v.logs[i].path = argv[first + (int)i];
		v.logs[i].rank = rotation_rank(v.logs[i].path, &stem);
		v.logs[i].order = (int)i;
	}
	qsort(v.logs, v.nlogs, sizeof(*v.logs), by_age);
	for (i = 0; i < v.nlogs; i++)
		if (map_file(&v.logs[i]) < 0)
			goto out;
	if (!v.chain_only) {
		const char *newest = v.logs[v.nlogs - 1].path;

		if (checkpoints == NULL)
			checkpoints = cp_default =
			    verify_checkpoints_path(newest);
		if (pubkey == NULL)
			pubkey = pub_default = pubkey_path(newest);
		if (checkpoints == NULL || pubkey == NULL)
			goto out;
		pub = checkpoint_load_key(pubkey, false);
		if (pub == NULL)
			goto out;
		if (load_checkpoints(&v, checkpoints, pub) != 0)
			goto out;
	}
	for (i = 0; i < v.nlogs; i++)
		if (walk_file(&v, i) != 0)
			goto out;
	if (!v.chain_only) {
		if (check_checkpoints(&v, &last) != 0)
			goto out;
		if (last == NULL) {
			fail("no signed checkpoint in %s vouches for these "
			    "logs: a cut tail or a recomputed chain could not "
			    "be told (--chain-only checks the chain alone)",
			    checkpoints);
			goto out;
		}
	}
	report(&v, last);
	ret = 0;
out:
	for (i = 0; i < v.nlogs; i++)
		if (v.logs[i].data)
			munmap((void *)v.logs[i].data, v.logs[i].size);
	EVP_PKEY_free(pub);
	free(v.logs);
	free(v.cps);
	free(v.by_chain);
	free(cp_default);
	free(pub_default);
	return ret;
}
