/* The on-disk spool of one node: every reading is appended here before it
 * is published, and counts as delivered only when the broker acknowledged
 * it (PUBACK).  It also keeps the boot counter.
 *
 * Files in the node's directory (which the caller creates):
 *	spool.log   one record per line, appended with O_APPEND, one write()
 *	            per record:
 *	              R <boot_id> <seq> <len> <payload JSON> <crc>  a reading
 *	              A <boot_id> <seq> <crc>                       its ack
 *	            <len> is the payload's length in bytes, <crc> the CRC-32
 *	            of the line before the space that precedes it, as 8
 *	            lowercase hex digits.
 *	boot_id     the last boot id handed out, as decimal text
 *
 * Full disk: a record the file has no room for (a short write: ENOSPC,
 * RLIMIT_FSIZE) is cut back at once, so the file keeps only whole records,
 * and the reading is held in memory, in order, and written before any
 * newer one as soon as there is room (spool_flush_held()).  It is pending,
 * not in the spool: it is published only once written.  At most
 * SPOOL_HELD_MAX readings are held; readings still held at spool_close()
 * are lost (the caller says how many).  A compaction that finds no room is
 * given up, leaving the longer file as it was.
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
 * newline), skips (and counts) any unreadable line -- a length or CRC that
 * does not match, as in a record written onto a torn one -- and rewrites
 * the file compactly.  A second process on the same directory gets -EBUSY
 * (flock).
 *
 * The format before the lengths and CRCs (R <boot_id> <seq> <payload>,
 * A <boot_id> <seq>) is still read, and rewritten sealed by the first
 * open; such a record is only taken when its JSON object closes exactly
 * at its end, and only before the first sealed record.  A record merged
 * by the old format's short writes cannot always be told from a good one
 * (its cut may fall inside a string): those files may still hide one.
 * The other way round does not work: a wgu-sim from before the CRCs would
 * take "<len> <payload> <crc>" for the payload, so going back to one needs
 * an empty spool (every reading acknowledged, spool.log removed).
 *
 * Bound: the spool holds at most max entries, acknowledged ones included:
 * those are kept as history for resend requests, and the oldest of them
 * makes room for a new reading.  An unacknowledged reading is never
 * evicted: when the oldest entry is unacknowledged and the spool is full,
 * spool_append() refuses the new reading with -ENOSPC (the caller counts
 * and logs the loss; its seq still advances, so the historian sees the
 * gap); while readings are held for want of disk space, a new one joins
 * them instead.  Entries are kept in (boot_id, seq) order. */
#ifndef WGU_SPOOL_H
#define WGU_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum spool_state {
	SPOOL_UNSENT = 0,	/* to be published (again) */
	SPOOL_INFLIGHT,		/* published, PUBACK pending */
	SPOOL_ACKED,		/* acknowledged; kept as resend history */
};

enum {
	SPOOL_HELD = 1,		/* spool_append(): kept in memory, not written */
	SPOOL_HELD_MAX = 1024,	/* readings held at most */
};

struct spool_entry {
	uint64_t boot_id, seq;
	off_t off;		/* of the payload in spool.log */
	uint32_t len;		/* payload length */
	uint8_t state;		/* enum spool_state */
	uint8_t unsaved;	/* ACKED, its A record not written yet */
};

/* A reading waiting for room in spool.log. */
struct spool_held {
	struct spool_held *next;
	uint64_t boot_id, seq;
	size_t len;
	char payload[];
};

struct spool {
	int fd, dirfd;
	struct spool_entry *e;	/* e[first .. end) are the entries */
	size_t first, end, alloc;
	size_t cursor;		/* e[first .. first+cursor) are not UNSENT */
	size_t max;
	size_t pending;		/* UNSENT + INFLIGHT + held */
	uint64_t records;	/* lines in spool.log */
	uint64_t compact_at;	/* compaction when records exceeds this */
	off_t size;		/* of the whole records in spool.log */
	bool torn;		/* a short write could not be cut back yet */
	struct spool_held *held, **held_tail;
	size_t nheld;
	size_t unsaved;		/* entries whose A record waits for room */
	int held_err;		/* why the last write failed (negative errno) */
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

/* Forgets the readings held (at the end of a run, when even a last
 * spool_flush_held() found no room).  Returns how many. */
size_t spool_drop_held(struct spool *sp);

/* Closes the spool after a last spool_flush_held() and a final sync;
 * readings still held are dropped: spool_drop_held() first to count them. */
void spool_close(struct spool *sp);

/* Appends a reading (payload: len bytes of JSON without newlines) as
 * UNSENT, after any held ones.  (boot_id, seq) must be greater than every
 * entry's and held reading's.  Returns 0 (written), SPOOL_HELD (no room on
 * disk: held in memory, see above; the write's error is in held_err), or
 * the reading is refused: -ENOSPC when full (see above), -ENOBUFS when
 * SPOOL_HELD_MAX readings are held already, -EINVAL, -ENOMEM. */
int spool_append(struct spool *sp, uint64_t boot_id, uint64_t seq,
    const char *payload, size_t len);

/* Writes the A records that found no room, then the held readings,
 * oldest first, as far as there is room (call it now and then:
 * spool_append() does too).  Returns how many readings are still held. */
size_t spool_flush_held(struct spool *sp);

/* The oldest UNSENT entry, or NULL.  The pointer is valid until the next
 * spool_append(), spool_flush_held() or spool_ack(). */
struct spool_entry *spool_next_unsent(struct spool *sp);

/* UNSENT -> INFLIGHT once the entry was handed to mosquitto_publish(). */
void spool_mark_inflight(struct spool *sp, struct spool_entry *e);

/* Reads an entry's payload into buf (NUL-terminated).  Returns its length
 * or a negative errno (-ENOSPC: buf too small). */
int spool_payload(struct spool *sp, const struct spool_entry *e, char *buf,
    size_t cap);

/* The broker acknowledged (boot_id, seq): the entry becomes ACKED and an
 * A record is appended.  Returns 0, -ENOENT for an unknown entry (already
 * evicted, or a stale id), or a write error: the entry is ACKED all the
 * same, and its A record written before anything else once there is room
 * (until then no reading is added to the file). */
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
