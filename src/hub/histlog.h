/* The historian's append-only log (industrial_production.log): one JSON
 * object per line,
 *
 *	{"received":MS,"topic":"T","ts":MS,"guarantee":G,"payload":{...}}
 *
 * received is the hub's clock; payload is what the node sent, member for
 * member (its timestamp in whatever form it came); ts is that timestamp
 * normalised to milliseconds since the epoch; guarantee is "exactly-once"
 * for a reading with boot_id/seq, "at-least-once" for one without.
 * Lines written before ts/guarantee existed lack them.
 * written with one write(2) per line on an O_APPEND descriptor, so a kill -9
 * leaves only whole lines.  A power loss or a full disk can still leave a
 * torn last line; opening the log repairs it (truncates it after handing
 * the bytes to the caller, who keeps a copy in the reject log) and hands
 * every whole line to the caller, which rebuilds its duplicate table.
 *
 * Each record line is chained (chain.h): its last member is
 * "chain":"<64 hex>", BLAKE2s-256 over the previous line's chain value
 * and this line's bytes up to the ',' before "chain", so the exact line is
 *
 *	{"received":MS,...,"payload":{...},"chain":"<64 lowercase hex>"}
 *
 * The first line of the record chains from 32 zero bytes; a new file
 * (after logrotate's rename and SIGHUP) chains from the last line of the
 * one before, and a restart from the last whole line of the file (or, when
 * the file is empty, from the last line of logrotate's LOG.1 or the last
 * signed checkpoint, audit.h).
 * Lines written before the chain existed lack the member, and a line after
 * them chains from zero; `wgu-historian verify` reports them as unchained.
 *
 * Durability is the fsync policy: ALWAYS syncs after each line, INTERVAL
 * leaves it to histlog_sync() called by a timer (group commit), NEVER
 * leaves it to the kernel.  No clock in here: the caller owns timers. */
#ifndef WGU_HUB_HISTLOG_H
#define WGU_HUB_HISTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "hub/chain.h"
#include "hub/dedup.h"

enum histlog_fsync {
	HISTLOG_FSYNC_INTERVAL,
	HISTLOG_FSYNC_ALWAYS,
	HISTLOG_FSYNC_NEVER,
};

enum {
	HISTLOG_LINE_MAX = 1 << 20,	/* longer lines are skipped, counted */
};

struct histlog {
	int fd;			/* -1 when closed */
	char *path;
	enum histlog_fsync policy;
	bool dirty;		/* written since the last sync */
	off_t size;		/* end of the last whole line */
	uint64_t lines;		/* appended since open */
	uint64_t syncs;
	/* The chain (chain.h): the value of the file's last line, and the
	 * whole lines in the file now; the file's identity tells a reopen of
	 * the same file (a SIGHUP without rotation) from a new one. */
	uint8_t chain[CHAIN_LEN];
	uint64_t file_lines;
	dev_t dev;
	ino_t ino;
};

/* What recovery found. */
struct histlog_recovery {
	uint64_t lines;		/* whole lines handed to the line callback */
	uint64_t overlong;	/* whole lines over HISTLOG_LINE_MAX, skipped */
	off_t kept;		/* bytes of whole lines */
	off_t torn;		/* bytes after the last newline (0: none) */
	bool terminated;	/* torn tail kept and ended with '\n' */
};

/* A whole line without its '\n' (not NUL-terminated). */
typedef void histlog_line_fn(void *ctx, const char *line, size_t len);
/* The torn tail (at most HISTLOG_LINE_MAX bytes of it), before it goes. */
typedef void histlog_torn_fn(void *ctx, const char *bytes, size_t len);

/* Reads fd (a regular file or memfd) from offset 0, calls on_line for every
 * whole line and then, if the file does not end with '\n': with on_torn
 * set, calls it and truncates the file to its whole lines; with on_torn
 * NULL, keeps the bytes and appends the missing '\n' instead (for the
 * reject log, whose every byte is evidence).  Syncs after a repair.
 * Returns 0 or a negative errno; *r is filled either way. */
int histlog_recover_fd(int fd, histlog_line_fn *on_line,
    histlog_torn_fn *on_torn, void *ctx, struct histlog_recovery *r);

/* Like histlog_recover_fd() without any repair: for an older (rotated)
 * log that is only read.  A torn tail is measured in r->torn, not handed
 * over. */
int histlog_scan_fd(int fd, histlog_line_fn *on_line, void *ctx,
    struct histlog_recovery *r);

/* Opens (creating, mode 0640) path for appending and recovers it as
 * above.  Returns 0 or a negative errno; on error l->fd is -1. */
int histlog_open(struct histlog *l, const char *path,
    enum histlog_fsync policy, histlog_line_fn *on_line,
    histlog_torn_fn *on_torn, void *ctx, struct histlog_recovery *r);

/* Appends one line, which must end with '\n' and hold no other '\n', in
 * one write(2).  A short write is cut back off so the file keeps only
 * whole lines.  Returns 0 (the line is in the file, and on disk with
 * ALWAYS) or a negative errno (the line is not in the file). */
int histlog_append(struct histlog *l, const char *line, size_t len);

/* Appends a record as a chained line: record is one line as
 * histlog_format_record() makes it, ending in "}\n"; what goes into the
 * file is the record with the chain member before its closing '}'.  On
 * success l->chain is the new line's value and, when at is not NULL, *at
 * the line's byte offset in the file.  Returns as histlog_append(); on
 * error the chain stays where it was. */
int histlog_append_chained(struct histlog *l, const char *record, size_t len,
    off_t *at);

/* Sets the chain value the next line continues from: for an empty file,
 * whose predecessor's last value the caller learned elsewhere. */
void histlog_set_chain(struct histlog *l, const uint8_t chain[static CHAIN_LEN]);

/* fdatasync if anything was written since the last one.  0 or -errno. */
int histlog_sync(struct histlog *l);

/* For logrotate (SIGHUP): syncs and closes the file, opens path anew
 * (creating it when it was moved away).  0 or -errno; on error the old
 * descriptor stays in use.  The chain runs on into a new (empty) file; a
 * new file that is not empty is read to count its lines and continue from
 * its last one. */
int histlog_reopen(struct histlog *l);

/* Syncs (unless NEVER) and closes; safe on a closed log. */
void histlog_close(struct histlog *l);

/* The log line for a reading: the format above, ending in '\n'.  payload
 * is printed unformatted, so the line holds no raw newline.  Returns a
 * heap string (caller frees) or NULL when out of memory. */
char *histlog_format_record(uint64_t received_ms, const char *topic,
    const cJSON *payload, int64_t ts_ms, bool exactly_once);

/* The reject log line: {"received":MS,"topic":T,"reason":R,"raw":B}.
 * topic may be NULL.  raw is kept byte for byte: printable ASCII as is,
 * every other byte as \u00XX (one escape per byte, so the original bytes
 * can be recovered even when they are not UTF-8).  Heap string or NULL. */
char *histlog_format_reject(uint64_t received_ms, const char *topic,
    const char *reason, const void *raw, size_t rawlen);

/* The duplicate key of a log line.  Returns 0, or -EINVAL when the line is
 * not a record whose payload has a node_id string of 1..DEDUP_NODE_ID_MAX
 * bytes and integer boot_id and seq in 0..2^53. */
struct histlog_key {
	char node_id[DEDUP_NODE_ID_MAX + 1];
	uint64_t boot_id, seq;
};
int histlog_parse_key(const char *line, size_t len, struct histlog_key *k);

#endif
