/* What verify.c (the walk and its verdicts) and verify_files.c (finding,
 * ordering and mapping the logs, reading the checkpoint file) share.
 * Internal to wgu-historian verify; see verify.h for the contract. */
#ifndef WGU_HUB_VERIFY_INTERNAL_H
#define WGU_HUB_VERIFY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "hub/chain.h"

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

/* Says "NOT INTACT: " and the reason on stdout; returns 1 (verify.c). */
__attribute__((format(printf, 1, 2)))
int verify_fail(const char *fmt, ...);

/* The next line of [*p, end): its length without '\n'; *p moves past it.
 * *whole is false for a last line without '\n'. */
size_t verify_next_line(const char **p, const char *end, const char **line,
    bool *whole);

/* v->logs from the n paths, oldest first (by_age), each mapped.  0, or -1
 * after saying why on stderr; verify_close_logs() is safe either way. */
int verify_open_logs(struct verifier *v, char **paths, size_t n);
void verify_close_logs(struct verifier *v);

/* Reads, parses and checks the signature of every checkpoint in path
 * into v->cps and v->by_chain.  Returns 0, or 1 after saying what is
 * wrong with the file (verify_fail()). */
int verify_load_checkpoints(struct verifier *v, const char *path,
    EVP_PKEY *pub);

#endif
