/* The log's hash chain (src/hub/chain.c), chained appends across reopen,
 * rotation and a torn tail (histlog.c), signed checkpoints
 * (checkpoint.c) and `wgu-historian verify` (verify.c) on logs tampered
 * with in every way the auditor must see: the verdict and the line named.
 * Files live in a fresh directory under $TMPDIR. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "check.h"
#include "hub/chain.h"
#include "hub/checkpoint.h"
#include "hub/histlog.h"
#include "hub/verify.h"

enum { NLINES = 300, CP_EVERY = 40 };

static char dir[256], logpath[300], cppath[300], pubpath[300];
static EVP_PKEY *key;

static char *record(int i)
{
	char *r;

	if (asprintf(&r, "{\"received\":%lld,\"topic\":\"p/n/telemetry\","
	    "\"ts\":1,\"guarantee\":\"exactly-once\",\"payload\":{"
	    "\"node_id\":\"n\",\"boot_id\":1,\"seq\":%d}}\n",
	    1764051600000LL + 1000LL * i, i) < 0)
		abort();
	return r;
}

/* ------------------------------------------------------------ chain */

static void test_chain_known_answer(void)
{
	/* chain_next against OpenSSL's BLAKE2s-256 of prev || body. */
	static const char body[] = "{\"received\":1,\"payload\":{}";
	uint8_t prev[CHAIN_LEN], ours[CHAIN_LEN], theirs[EVP_MAX_MD_SIZE];
	unsigned char in[CHAIN_LEN + sizeof(body)];
	unsigned int n = 0;
	EVP_MD *md = EVP_MD_fetch(NULL, "BLAKE2S-256", NULL);
	int i;

	for (i = 0; i < CHAIN_LEN; i++)
		prev[i] = (uint8_t)(i * 7 + 1);
	memcpy(in, prev, CHAIN_LEN);
	memcpy(in + CHAIN_LEN, body, sizeof(body) - 1);
	chain_next(ours, prev, body, sizeof(body) - 1);
	CHECK(md != NULL);
	CHECK(EVP_Digest(in, CHAIN_LEN + sizeof(body) - 1, theirs, &n, md,
	    NULL) == 1);
	CHECK(n == CHAIN_LEN);
	CHECK_MEM(ours, theirs, CHAIN_LEN);
	EVP_MD_free(md);
}

static void test_chain_split(void)
{
	static const struct {
		const char *line;
		bool ok;
	} rows[] = {
		{ "{\"a\":1,\"chain\":\"000102030405060708090a0b0c0d0e0f"
		  "101112131415161718191a1b1c1d1e1f\"}", true },
		/* uppercase hex, one digit short, no '{', no body */
		{ "{\"a\":1,\"chain\":\"000102030405060708090A0B0C0D0E0F"
		  "101112131415161718191a1b1c1d1e1f\"}", false },
		{ "{\"a\":1,\"chain\":\"000102030405060708090a0b0c0d0e0f"
		  "101112131415161718191a1b1c1d1e1\"}", false },
		{ "[\"a\":1,\"chain\":\"000102030405060708090a0b0c0d0e0f"
		  "101112131415161718191a1b1c1d1e1f\"}", false },
		{ ",\"chain\":\"000102030405060708090a0b0c0d0e0f"
		  "101112131415161718191a1b1c1d1e1f\"}", false },
		{ "{\"a\":1,\"chain\":\"000102030405060708090a0b0c0d0e0f"
		  "101112131415161718191a1b1c1d1e1f\"} ", false },
		{ "{\"received\":1,\"payload\":{}}", false },
	};
	uint8_t c[CHAIN_LEN], want[CHAIN_LEN];
	char member[CHAIN_MEMBER_LEN];
	size_t i, bodylen;

	for (i = 0; i < CHAIN_LEN; i++)
		want[i] = (uint8_t)i;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		bool ok = chain_split(rows[i].line, strlen(rows[i].line),
		    &bodylen, c);

		if (ok != rows[i].ok)
			CHECK_FAIL("row %zu: %d", i, ok);
		if (ok) {
			CHECK(bodylen == 6);
			CHECK_MEM(c, want, CHAIN_LEN);
		}
	}
	chain_member(member, want);
	CHECK(memcmp(member, rows[0].line + 6, CHAIN_MEMBER_LEN) == 0);
}

/* ------------------------------------------------------------ histlog */

/* Every line of path chains from start; returns the line count, -1 when
 * a line does not follow. */
static long walk(const char *path, uint8_t chain[CHAIN_LEN])
{
	size_t len, bodylen;
	char *data = check_read_file(path, &len), *p, *nl;
	uint8_t want[CHAIN_LEN], got[CHAIN_LEN];
	long n = 0;

	if (data == NULL)
		return -1;
	for (p = data; (nl = memchr(p, '\n', len - (size_t)(p - data)));
	    p = nl + 1) {
		if (!chain_split(p, (size_t)(nl - p), &bodylen, got)) {
			n = -1;
			break;
		}
		chain_next(want, chain, p, bodylen);
		if (memcmp(want, got, CHAIN_LEN) != 0) {
			n = -1;
			break;
		}
		memcpy(chain, got, CHAIN_LEN);
		n++;
	}
	free(data);
	return n;
}

static void append_n(struct histlog *l, int from, int to)
{
	int i;

	for (i = from; i <= to; i++) {
		char *r = record(i);
		off_t at = -1, before = l->size;

		CHECK(histlog_append_chained(l, r, strlen(r), &at) == 0);
		CHECK(at == before);
		free(r);
	}
}

static void ignore_torn(void *ctx, const char *bytes, size_t len)
{
}

static void test_append_reopen_torn(void)
{
	struct histlog_recovery r;
	struct histlog l;
	uint8_t c[CHAIN_LEN] = { 0 }, last[CHAIN_LEN];
	char p[300], rotated[320];
	int fd;

	snprintf(p, sizeof(p), "%s/h.log", dir);
	CHECK(histlog_open(&l, p, HISTLOG_FSYNC_NEVER, NULL, NULL, NULL,
	    &r) == 0);
	append_n(&l, 1, 10);
	CHECK(histlog_append_chained(&l, "{\"a\":1}", 7, NULL) == -EINVAL);
	memcpy(last, l.chain, CHAIN_LEN);
	histlog_close(&l);
	CHECK(walk(p, c) == 10);
	CHECK_MEM(c, last, CHAIN_LEN);

	/* A torn line (power loss): cut off, the chain goes on from the last
	 * whole line. */
	fd = open(p, O_WRONLY | O_APPEND);
	CHECK(write(fd, "{\"received\":9,\"to", 17) == 17);
	close(fd);
	CHECK(histlog_open(&l, p, HISTLOG_FSYNC_NEVER, NULL, ignore_torn, NULL,
	    &r) == 0);
	CHECK(r.torn == 17);
	CHECK(l.file_lines == 10);
	CHECK_MEM(l.chain, last, CHAIN_LEN);
	append_n(&l, 11, 12);

	/* SIGHUP without rotation: the same file, counted on. */
	CHECK(histlog_reopen(&l) == 0);
	CHECK(l.file_lines == 12);
	append_n(&l, 13, 13);

	/* logrotate: rename, reopen; the new file chains from the old. */
	snprintf(rotated, sizeof(rotated), "%s.1", p);
	CHECK(rename(p, rotated) == 0);
	CHECK(histlog_reopen(&l) == 0);
	CHECK(l.file_lines == 0);
	append_n(&l, 14, 20);
	memcpy(last, l.chain, CHAIN_LEN);
	histlog_close(&l);
	memset(c, 0, CHAIN_LEN);
	CHECK(walk(rotated, c) == 13);
	CHECK(walk(p, c) == 7);
	CHECK_MEM(c, last, CHAIN_LEN);
}

/* ------------------------------------------------------------ checkpoints */

static void test_checkpoint_roundtrip(void)
{
	struct checkpoint cp = { .n = 7, .time_ms = 1764051600123ULL,
	    .line = 42, .file = "prod\"uction.log" }, back;
	char line[CHECKPOINT_LINE_MAX];
	EVP_PKEY *pub = checkpoint_load_key(pubpath, false);
	int len, i;

	for (i = 0; i < CHAIN_LEN; i++)
		cp.chain[i] = (uint8_t)(255 - i);
	len = checkpoint_format(line, &cp, key);
	CHECK(len > 0 && line[len - 1] == '\n');
	CHECK(strstr(line, "\"file\":\"prod?uction.log\"") != NULL);
	CHECK(checkpoint_parse(line, (size_t)len - 1, &back) == 0);
	CHECK(back.n == 7 && back.time_ms == cp.time_ms && back.line == 42);
	CHECK(strcmp(back.file, "prod?uction.log") == 0);
	CHECK_MEM(back.chain, cp.chain, CHAIN_LEN);
	CHECK(pub != NULL && checkpoint_signed_by(line, &back, pub));
	/* Any byte changed: either unparsable or not signed. */
	for (i = 0; i < len - 1; i++) {
		char saved = line[i];

		line[i] = line[i] == '1' ? '2' : '1';
		if (checkpoint_parse(line, (size_t)len - 1, &back) == 0 &&
		    checkpoint_signed_by(line, &back, pub))
			CHECK_FAIL("byte %d changed and still signed", i);
		line[i] = saved;
	}
	/* Not our format. */
	CHECK(checkpoint_parse("{\"n\":07", 7, &back) == -EINVAL);
	CHECK(checkpoint_parse(line, (size_t)len, &back) == -EINVAL);
	/* Keys are never replaced. */
	CHECK(checkpoint_keygen(dir, (uid_t)-1, (gid_t)-1) == -EEXIST);
	EVP_PKEY_free(pub);
}

/* ------------------------------------------------------------ verify */

struct lines {
	char *l[NLINES + 10];
	int n;
};

/* The reference record: NLINES lines, a checkpoint every CP_EVERY lines
 * and one at the end. */
static void make_record(void)
{
	struct histlog_recovery r;
	struct histlog l, cpf;
	int i;

	unlink(logpath);
	unlink(cppath);
	CHECK(histlog_open(&l, logpath, HISTLOG_FSYNC_NEVER, NULL, NULL, NULL,
	    &r) == 0);
	CHECK(histlog_open(&cpf, cppath, HISTLOG_FSYNC_NEVER, NULL, NULL,
	    NULL, &r) == 0);
	for (i = 1; i <= NLINES; i++) {
		append_n(&l, i, i);
		if (i % CP_EVERY == 0 || i == NLINES) {
			struct checkpoint cp = { .n = (uint64_t)cpf.lines + 1,
			    .time_ms = 1764051600000ULL + 1000ULL * i,
			    .line = l.file_lines, .file = "prod.log" };
			char line[CHECKPOINT_LINE_MAX];
			int len;

			memcpy(cp.chain, l.chain, CHAIN_LEN);
			len = checkpoint_format(line, &cp, key);
			CHECK(len > 0);
			CHECK(histlog_append(&cpf, line, (size_t)len) == 0);
		}
	}
	histlog_close(&l);
	histlog_close(&cpf);
}

static void read_lines(const char *path, struct lines *ls)
{
	size_t len;
	char *data = check_read_file(path, &len), *p, *nl;

	ls->n = 0;
	for (p = data; p && (nl = memchr(p, '\n', len - (size_t)(p - data)));
	    p = nl + 1)
		ls->l[ls->n++] = strndup(p, (size_t)(nl - p) + 1);
	free(data);
}

static void write_lines(const char *path, struct lines *ls)
{
	FILE *f = fopen(path, "w");
	int i;

	for (i = 0; i < ls->n; i++) {
		fputs(ls->l[i], f);
		free(ls->l[i]);
	}
	fclose(f);
}

/* Runs verify on the log; returns its exit status, its output in out. */
static int run_verify(char *out, size_t cap, const char *extra)
{
	char *argv[] = { "verify", (char *)extra, logpath, NULL };
	int saved = dup(STDOUT_FILENO), ret, fd;
	char tmp[320];
	ssize_t n;

	fflush(stdout);
	snprintf(tmp, sizeof(tmp), "%s/verify.out", dir);
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0600);
	dup2(fd, STDOUT_FILENO);
	ret = extra ? verify_main(3, argv) : verify_main(2, (char *[]){
	    "verify", logpath, NULL });
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	n = pread(fd, out, cap - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	return ret;
}

/* Tampers with the reference record and expects verify's verdict. */
static void expect(const char *what, void (*tamper)(struct lines *),
    int status, const char *says)
{
	struct lines ls;
	char out[4096];
	int ret;

	make_record();
	read_lines(logpath, &ls);
	if (tamper)
		tamper(&ls);
	write_lines(logpath, &ls);
	ret = run_verify(out, sizeof(out), NULL);
	if (ret != status || strstr(out, says) == NULL)
		CHECK_FAIL("%s: status %d, said: %s", what, ret, out);
}

static void byte_changed(struct lines *ls)
{
	char *p = strstr(ls->l[56], "\"seq\":57");

	p[7] = '8';
}

static void line_deleted(struct lines *ls)
{
	free(ls->l[99]);
	memmove(&ls->l[99], &ls->l[100], (size_t)(ls->n - 100) *
	    sizeof(char *));
	ls->n--;
}

static void lines_swapped(struct lines *ls)
{
	char *t = ls->l[149];

	ls->l[149] = ls->l[150];
	ls->l[150] = t;
}

static void line_inserted(struct lines *ls)
{
	memmove(&ls->l[201], &ls->l[200], (size_t)(ls->n - 200) *
	    sizeof(char *));
	ls->l[200] = strdup(ls->l[10]);
	ls->n++;
}

static void tail_cut(struct lines *ls)
{
	while (ls->n > NLINES - 100)
		free(ls->l[--ls->n]);
}

/* Line 123 changed, then every chain value recomputed from the start. */
static void rechained(struct lines *ls)
{
	uint8_t c[CHAIN_LEN] = { 0 };
	size_t bodylen, len;
	int i;

	strstr(ls->l[122], "\"seq\":123")[6] = '9';
	memset(c, 0, CHAIN_LEN);
	for (i = 0; i < ls->n; i++) {
		uint8_t junk[CHAIN_LEN];

		len = strlen(ls->l[i]) - 1;
		(void)chain_split(ls->l[i], len, &bodylen, junk);
		chain_next(c, c, ls->l[i], bodylen);
		chain_member(ls->l[i] + bodylen, c);
	}
}

static void test_verify_verdicts(void)
{
	char want[128];

	snprintf(want, sizeof(want), "%d lines from 2025-11-25T06:20:01.000Z"
	    " to 2025-11-25T06:25:00.000Z intact", NLINES);
	expect("untouched", NULL, 0, want);
	expect("one byte changed", byte_changed, 1,
	    "the record breaks at line 57 of");
	expect("a line deleted", line_deleted, 1,
	    "the record breaks at line 100 of");
	expect("two lines swapped", lines_swapped, 1,
	    "lines 150 and 151 of");
	expect("a line inserted", line_inserted, 1, "line 201 of");
	expect("the last 100 lines cut off", tail_cut, 1,
	    "it ends at line 200, but signed checkpoint 6");
	expect("rewritten with a recomputed chain", rechained, 1,
	    "rewritten between line 121 and line 160 of");
}

static void test_verify_checkpoint_file(void)
{
	struct lines ls;
	char out[4096];

	/* One digit of a checkpoint's line number changed. */
	make_record();
	read_lines(cppath, &ls);
	strstr(ls.l[2], "\"line\":120")[8] = '3';
	write_lines(cppath, &ls);
	CHECK(run_verify(out, sizeof(out), NULL) == 1);
	CHECK(strstr(out, "line 3 of the checkpoint file") != NULL);
	CHECK(strstr(out, "not signed by this public key") != NULL);

	/* A checkpoint removed from the middle. */
	make_record();
	read_lines(cppath, &ls);
	free(ls.l[3]);
	memmove(&ls.l[3], &ls.l[4], (size_t)(ls.n - 4) * sizeof(char *));
	ls.n--;
	write_lines(cppath, &ls);
	CHECK(run_verify(out, sizeof(out), NULL) == 1);
	CHECK(strstr(out, "(checkpoint 5) does not follow checkpoint 3") !=
	    NULL);

	/* Without a checkpoint file: refused unless --chain-only. */
	make_record();
	unlink(cppath);
	CHECK(run_verify(out, sizeof(out), NULL) == 1);
	CHECK(run_verify(out, sizeof(out), "--chain-only") == 0);
	CHECK(strstr(out, "not checked against signed checkpoints") != NULL);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/test_chain.XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(logpath, sizeof(logpath), "%s/prod.log", dir);
	snprintf(cppath, sizeof(cppath), "%s/prod.checkpoints", dir);
	snprintf(pubpath, sizeof(pubpath), "%s/" CHECKPOINT_PUB_NAME, dir);
	if (checkpoint_keygen(dir, (uid_t)-1, (gid_t)-1) != 0)
		return 1;
	snprintf(cppath, sizeof(cppath), "%s/" CHECKPOINT_KEY_NAME, dir);
	key = checkpoint_load_key(cppath, true);
	snprintf(cppath, sizeof(cppath), "%s/prod.checkpoints", dir);
	if (key == NULL)
		return 1;
	RUN(test_chain_known_answer);
	RUN(test_chain_split);
	RUN(test_append_reopen_torn);
	RUN(test_checkpoint_roundtrip);
	RUN(test_verify_verdicts);
	RUN(test_verify_checkpoint_file);
	EVP_PKEY_free(key);
	snprintf(logpath, sizeof(logpath), "rm -rf '%s'", dir);
	if (system(logpath) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_summary();
}
