/* The historian's signed checkpoints (checkpoint.h) of its production log:
 * one at start, one every interval while the log grows, one before each
 * reopen (SIGHUP: the last state of a file logrotate moved away, which the
 * next file's first line chains from) and one at exit.  A checkpoint is
 * written only when the log has changed since the last one.
 *
 * Usage: audit_init() before the sandbox drop (it loads the private key
 * and opens the checkpoint file); audit_start() after it; audit_rotate()
 * before the log is reopened; audit_stop() at exit, which writes the last
 * checkpoint and wipes the key.  Without a key (the default path missing)
 * the log is still chained, and no checkpoint is written.  An empty log at
 * start continues the chain of logrotate's LOG.1 (its last line), else of
 * the last checkpoint. */
#ifndef WGU_HUB_AUDIT_H
#define WGU_HUB_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>
#include <openssl/evp.h>

#include "hub/checkpoint.h"
#include "hub/histlog.h"

struct audit_config {
	const char *checkpoints;	/* the checkpoint file */
	const char *key;		/* the private key */
	bool key_required;		/* false: missing key, no checkpoints */
	double interval;		/* seconds */
};

struct audit {
	struct audit_config cfg;
	struct ev_loop *loop;
	struct histlog *log;		/* the caller's, chained */
	const char *logname;		/* its file name, in log->path */
	EVP_PKEY *key;			/* NULL: no checkpoints */
	struct histlog file;		/* the checkpoint file */
	uint64_t n;			/* the last checkpoint's number */
	uint64_t last_line;		/* ... and what it vouched for */
	uint64_t last_time_ms;		/* never goes back (a clock step) */
	uint8_t last_chain[CHAIN_LEN];
	uint64_t written, errors;
	ev_timer timer;
};

/* Loads the key, opens the checkpoint file and learns its last checkpoint;
 * an empty log continues the chain from it.  log must be open and outlive
 * a.  0, or a negative errno after saying why on stderr. */
int audit_init(struct audit *a, struct ev_loop *loop,
    const struct audit_config *cfg, struct histlog *log);
void audit_start(struct audit *a);
void audit_rotate(struct audit *a);
void audit_stop(struct audit *a);

/* wgu-historian keygen DIR */
int audit_keygen_main(int argc, char **argv);

#endif
