/* wgu-historian verify: the auditor's check of the production log.  The
 * walk along the chain across the logs (oldest first), the checkpoints
 * found on the way held against what they vouch for, and the verdict in
 * plain words; verify_files.c finds, orders and maps the files. */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hub/chain.h"
#include "hub/checkpoint.h"
#include "hub/verify.h"
#include "hub/verify_internal.h"

enum { EXIT_USAGE = 2, TIME_LEN = 64 };

static const uint8_t ZERO[CHAIN_LEN];

/* ------------------------------------------------------------ output */

int verify_fail(const char *fmt, ...)
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
		return verify_fail("line %" PRIu64 " of %s is not a chained "
		    "log line: it was altered (or written before the log was "
		    "chained)", ln, f->path);
	nlen = rest < end ? verify_next_line(&rest, end, &next, &whole) : 0;
	if (nlen > 0 && follows(prev, next, nlen, c1)) {
		if (follows(c1, line, len, c0))
			return verify_fail("lines %" PRIu64 " and %" PRIu64
			    " of %s are swapped", ln, ln + 1, f->path);
		return verify_fail("line %" PRIu64 " of %s was inserted (line %"
		    PRIu64 " follows the line before it)", ln, f->path,
		    ln + 1);
	}
	if (first)
		return verify_fail("line %" PRIu64 " of %s follows neither "
		    "the start of the record nor a signed checkpoint: it was "
		    "altered, or the logs before %s are missing", ln, f->path,
		    f->path);
	return verify_fail("the record breaks at line %" PRIu64 " of %s: that "
	    "line was altered, or lines just before it were removed (it does "
	    "not follow from the line before it)", ln, f->path);
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
		len = verify_next_line(&p, end, &line, &whole);
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
	len = verify_next_line(&p, f->data + f->size, &line, &whole);
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
		return verify_fail("the record is cut short after %s: signed "
		    "checkpoint %" PRIu64 " (%s) vouches for line %" PRIu64
		    " of a later file, which is missing",
		    v->logs[v->nlogs - 1].path, ci->cp.n,
		    rfc3339(ci->cp.time_ms, t), ci->cp.line);
	f = &v->logs[fi];
	p = f->data;
	end = f->data + f->size;
	while (p < end && lines < ci->cp.line) {
		(void)verify_next_line(&p, end, &line, &whole);
		lines += whole;
	}
	if (lines < ci->cp.line)
		return verify_fail("%s is cut short: it ends at line %" PRIu64
		    ", but signed checkpoint %" PRIu64 " (%s) vouches for "
		    "line %" PRIu64 ": the lines after line %" PRIu64
		    " were removed",
		    f->path, lines, ci->cp.n, rfc3339(ci->cp.time_ms, t),
		    ci->cp.line, lines);
	return verify_fail("the record was rewritten between line %" PRIu64
	    " and line %" PRIu64 " of %s: line %" PRIu64 " is not what signed "
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
			return verify_fail("signed checkpoint %" PRIu64 " is "
			    "found before checkpoint %" PRIu64 " (line %" PRIu64
			    " of %s): the record was reordered", ci->cp.n,
			    prev->cp.n, ci->line, v->logs[ci->file].path);
		if (ci->line != ci->cp.line)
			return verify_fail("line %" PRIu64 " of %s is what "
			    "signed checkpoint %" PRIu64 " (%s) vouches for at "
			    "line %" PRIu64 ": lines before it were removed or "
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
	if (verify_open_logs(&v, argv + first, (size_t)(argc - first)) < 0)
		goto out;
	if (!v.chain_only) {
		const char *newest = v.logs[v.nlogs - 1].path;

		if (checkpoints == NULL)
			checkpoints = cp_default =
			    verify_checkpoints_path(newest);
		if (pubkey == NULL)
			pubkey = pub_default = checkpoint_path_beside(newest,
			    CHECKPOINT_PUB_NAME);
		if (checkpoints == NULL || pubkey == NULL)
			goto out;
		pub = checkpoint_load_key(pubkey, false);
		if (pub == NULL)
			goto out;
		if (verify_load_checkpoints(&v, checkpoints, pub) != 0)
			goto out;
	}
	for (i = 0; i < v.nlogs; i++)
		if (walk_file(&v, i) != 0)
			goto out;
	if (!v.chain_only) {
		if (check_checkpoints(&v, &last) != 0)
			goto out;
		if (last == NULL) {
			verify_fail("no signed checkpoint in %s vouches for "
			    "these logs: a cut tail or a recomputed chain "
			    "could not be told (--chain-only checks the chain "
			    "alone)",
			    checkpoints);
			goto out;
		}
	}
	report(&v, last);
	ret = 0;
out:
	verify_close_logs(&v);
	EVP_PKEY_free(pub);
	free(v.cps);
	free(v.by_chain);
	free(cp_default);
	free(pub_default);
	return ret;
}
