/* fdatasync off the event loop: one thread that syncs the files handed
 * to it, so that an edge program with many spools (wgu-modbus: one per
 * device) is not stopped for the disk's flush latency each second (100
 * fdatasyncs took 50-100 ms on a busy machine, long enough to miss a
 * 10 Hz poll).
 *
 * syncer_add() dups the descriptor, so the caller may close or replace
 * its own at once (a spool compaction does); the thread syncs the file
 * and closes its copy.  The queue is bounded: when it is full, or the
 * thread could not be started, the file is synced right there, as
 * without a syncer.  A failed sync is said on stderr with its label and
 * counted.
 *
 * Usage: syncer_new(), then syncer_add() from one thread (the loop's),
 * syncer_flush() to wait for what was added, syncer_free() (flushes,
 * stops the thread). */
#ifndef WGU_EDGE_SYNCER_H
#define WGU_EDGE_SYNCER_H

#include <stddef.h>
#include <stdint.h>

enum {
	SYNCER_LABEL_MAX = 96,
};

struct syncer_counts {
	uint64_t queued;	/* handed to the thread */
	uint64_t inline_;	/* synced by the caller: queue full */
	uint64_t synced;	/* by the thread */
	uint64_t errors;	/* failed syncs, either way */
};

struct syncer;

/* A queue of cap entries (1..) and its thread.  NULL and errno set. */
struct syncer *syncer_new(size_t cap);

/* The file of fd is to be synced; label names it in an error message
 * ("press-01 spool").  0, or the negative errno of an inline sync or of
 * dup. */
int syncer_add(struct syncer *s, int fd, const char *label);

/* Returns once every file added so far is synced. */
void syncer_flush(struct syncer *s);

void syncer_counts(struct syncer *s, struct syncer_counts *c);

/* Flushes, stops the thread and frees; NULL is fine. */
void syncer_free(struct syncer *s);

#endif
