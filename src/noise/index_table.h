/* Receiver indices (whitepaper section 5.4.2): every handshake in progress
 * and every keypair is known to the peer by a random 32-bit index that we
 * picked, and every response, cookie reply and data message names one.  The
 * table maps an index back to the handshake or keypair it stands for, as
 * Linux's peerlookup.c index hashtable does.
 *
 * Entries are intrusive: the handshake or keypair embeds a struct
 * wg_index_entry and the table only links it.  Indices are drawn at random,
 * so the low bits are already a uniform hash: a chained table with a fixed
 * power-of-two bucket count answers in O(1) for thousands of peers.  Not
 * thread-safe: the core is single-threaded. */
#ifndef WG_INDEX_TABLE_H
#define WG_INDEX_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wg_peer;

enum wg_index_kind {
	WG_INDEX_HANDSHAKE = 1 << 0,
	WG_INDEX_KEYPAIR = 1 << 1,
};

struct wg_index_entry {
	struct wg_index_entry *next;	/* bucket chain */
	struct wg_peer *peer;		/* owner, set by the caller */
	uint32_t index;			/* host order; htole32 on the wire */
	uint8_t kind;			/* enum wg_index_kind */
	bool linked;
};

struct wg_index_table {
	struct wg_index_entry **buckets;
	uint32_t mask;
	size_t count;
};

/* Draws len random bytes (the device's ops->random). */
typedef void wg_index_random_fn(void *ctx, void *buf, size_t len);

/* 0 or -ENOMEM.  clear() frees the buckets; it does not touch entries. */
int wg_index_table_init(struct wg_index_table *t);
void wg_index_table_clear(struct wg_index_table *t);

/* Links e under a fresh random index no other entry holds and stores it in
 * e->index.  An already linked e is first unlinked, so it never holds two
 * indices (a new handshake replaces the old one's index). */
void wg_index_table_insert(struct wg_index_table *t, struct wg_index_entry *e,
    wg_index_random_fn *random, void *ctx);

/* Puts new in old's place under old's index and unlinks old: a handshake's
 * index becomes its keypair's, so the peer's next data message finds it. */
void wg_index_table_replace(struct wg_index_table *t,
    struct wg_index_entry *old, struct wg_index_entry *new_entry);

/* Unlinks e when it is linked; otherwise does nothing. */
void wg_index_table_remove(struct wg_index_table *t, struct wg_index_entry *e);

/* The entry holding index whose kind is in kinds (a mask), or NULL. */
struct wg_index_entry *wg_index_table_lookup(const struct wg_index_table *t,
    uint32_t index, unsigned kinds);

#endif
