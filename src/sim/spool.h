/* The on-disk spool of one node: every reading is appended here before it
 * is published, and counts as delivered only when the broker acknowledged
 * it (PUBACK).  It also keeps the boot counter.
 *
 * Files in the node's directory (which the caller creates):
 *	spool.log   one record per line, appended with O_APPEND, one write()
 *	            per record:
 *	              R <boot_id> <seq> <payload JSON>   a reading
 *	              A <boot_id> <seq>                  its acknowledgement
 *	boot_id     the last boot id handed out, as decimal text
 *
 * Durability: a record is written to the kernel before spool_append()
 * returns, so a crash or kill -9 of the process loses nothing.  fsync is
 * the caller's policy: wgu-sim calls spool_sync() at most once a second
 * while records were added, and at exit, so a power loss can lose at most
 * the last second of readings (an acknowledgement lost that way only means
 * a reading is sent again, which the historian drops as a duplicate).  The
 * boot_id file and each compaction are fsynced and renamed into place.
 *
 * Crash repair: spool_open() truncates a torn last record (no final
 * newline), skips (and counts) any unreadable line, and rewrites the file
 * compactly.  A second process on the same directory gets -EBUSY (flock).
 *
 * Bound: the spool holds at most max entries, acknowledged ones included:
 * those are kept as history for resend requests, and the oldest of them
 * makes room for a new reading.  An unacknowledged reading is never
 * evicted: when the oldest entry is unacknowledged and the spool is full,
 * spool_append() refuses the new reading with -ENOSPC (the caller counts
 * and logs the loss; its seq still advances, so the historian sees the
 * gap).  Entries are kept in (boot_id, seq) order. */
#ifndef WGU_SPOOL_H
#define WGU_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum spool_state {
	SPOOL_UNSENT = 0,	/* to be published (again) */
	SPOOL_INFLIGHT,		/* published, PUBACK pending */
	SPOOL_ACKED,		/* acknowledged; kept as resend history */
};

struct spool_entry {
	uint64_t boot_id, seq;
	off_t off;		/* of the payload in spool.log */
	uint32_t len;		/* payload length */
	uint8_t state;		/* enum spool_state */
};

struct spool {
	int fd, dirfd;
	struct spool_entry *e;	/* e[first .. end) are the entries */
	size_t first, end, alloc;
	size_t cursor;		/* e[first .. first+cursor) are not UNSENT */
	size_t max;
	size_t pending;		/* UNSENT + INFLIGHT */
	uint64_t records;	/* lines in spool.log */
	uint64_t boot_id;	/* this run's boot id */
	uint64_t last_seq;	/* highest seq of this boot in the spool */
	/* Found by spool_open(): */
	uint64_t repaired_bytes, bad_lines;
};

/* Opens (creating) the spool in dir, loads and repairs it, and hands out
 * this run's boot id (one more than both the boot_id file and any boot id
 * in the spool).  Entries found unacknowledged are UNSENT.  Returns 0 or a
 * negative errno (-EBUSY: in use by another process; -EINVAL: max 0). */
int spool_open(struct spool *sp, const char *dir, size_t max);

/* Closes the spool after a final sync. */
void spool_close(struct spool *sp);

/* Appends a reading (payload: len bytes of JSON without newlines) as
 * UNSENT.  (boot_id, seq) must be greater than every entry's.  Returns 0,
 * -ENOSPC when full (see above), -EINVAL, or a write error. */
int spool_append(struct spool *sp, uint64_t boot_id, uint64_t seq,
    const char *payload, size_t len);

/* The oldest UNSENT entry, or NULL.  The pointer is valid until the next
 * spool_append() or spool_ack(). */
struct spool_entry *spool_next_unsent(struct spool *sp);

/* UNSENT -> INFLIGHT once the entry was handed to mosquitto_publish(). */
void spool_mark_inflight(struct spool *sp, struct spool_entry *e);

/* Reads an entry's payload into buf (NUL-terminated).  Returns its length
 * or a negative errno (-ENOSPC: buf too small). */
int spool_payload(struct spool *sp, const struct spool_entry *e, char *buf,
    size_t cap);

/* The broker acknowledged (boot_id, seq): the entry becomes ACKED and an
 * A record is appended.  Returns 0, -ENOENT for an unknown entry (already
 * evicted, or a stale id), or a write error. */
int spool_ack(struct spool *sp, uint64_t boot_id, uint64_t seq);

/* The connection was lost: every INFLIGHT entry becomes UNSENT again, to
 * be republished in order after the reconnect. */
void spool_requeue_inflight(struct spool *sp);

/* A resend request: ACKED entries of boot_id with from <= seq <= to become
 * UNSENT again (at most limit of them).  Returns how many. */
size_t spool_resend(struct spool *sp, uint64_t boot_id, uint64_t from,
    uint64_t to, size_t limit);

/* Number of entries held (all states). */
size_t spool_count(const struct spool *sp);

/* fdatasync of spool.log.  Returns 0 or a negative errno. */
int spool_sync(struct spool *sp);

#endif
