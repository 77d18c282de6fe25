/* Cryptokey routing (whitepaper section 2): a table from IP prefixes to the
 * peer that owns them.  Outbound, the longest prefix matching a packet's
 * destination picks the peer; inbound, a decrypted packet's source must look
 * up to the peer it came from.
 *
 * One compressed binary trie per family, as Linux's allowedips.c.  The table
 * never keeps a reference to an owner beyond storing the pointer: the caller
 * removes an owner's prefixes (wg_allowedips_remove_by_owner) before freeing
 * it.  Not thread-safe: the core is single-threaded. */
#ifndef WG_ALLOWEDIPS_H
#define WG_ALLOWEDIPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>		/* AF_INET, AF_INET6 */

struct wg_allowedips_node;

struct wg_allowedips {
	struct wg_allowedips_node *root4, *root6;
	size_t nodes;		/* allocated nodes, both families */
};

void wg_allowedips_init(struct wg_allowedips *t);
/* Frees every node; the table is empty and usable afterwards. */
void wg_allowedips_clear(struct wg_allowedips *t);

/* family is AF_INET (addr 4 bytes) or AF_INET6 (16 bytes), network byte
 * order.  Host bits beyond cidr are ignored (stored zeroed).  Inserting an
 * existing prefix moves it to the new owner.  Returns 0, -EINVAL (bad family,
 * cidr > 32/128, or a NULL owner) or -ENOMEM (the table is unchanged). */
int wg_allowedips_insert(struct wg_allowedips *t, int family,
    const uint8_t *addr, uint8_t cidr, void *owner);

/* Longest-prefix match; NULL when nothing matches or family is bad.  No
 * allocation, no recursion: at most 33 (IPv4) or 129 (IPv6) nodes visited. */
void *wg_allowedips_lookup(const struct wg_allowedips *t, int family,
    const uint8_t *addr);

/* Removes the exact prefix addr/cidr (host bits ignored) if owner owns it:
 * 0, -ENOENT when it is absent or owned by someone else, -EINVAL for a bad
 * family or cidr.  Nodes no longer needed are freed. */
int wg_allowedips_remove(struct wg_allowedips *t, int family,
    const uint8_t *addr, uint8_t cidr, void *owner);

/* Removes every prefix owned by owner and frees the nodes no longer needed.
 * O(nodes in the table). */
void wg_allowedips_remove_by_owner(struct wg_allowedips *t, void *owner);

/* Calls cb for each prefix of owner, with host bits zeroed: IPv4 first, then
 * IPv6, each in ascending address order with the shorter of two prefixes at
 * the same address first.  Stops and returns cb's value when it is non-zero;
 * returns 0 otherwise.  cb must not modify the table. */
int wg_allowedips_foreach_by_owner(const struct wg_allowedips *t, void *owner,
    int (*cb)(void *ctx, int family, const uint8_t *addr, uint8_t cidr),
    void *ctx);

/* Nodes currently allocated: prefixes plus the branch points between them
 * (at most 2 * prefixes - 1 per family).  Zero for an empty table. */
size_t wg_allowedips_node_count(const struct wg_allowedips *t);

/* Walks the whole table and checks the trie's invariants (for tests):
 * parent links, prefix nesting, zeroed host bits, no owner-less node with
 * fewer than two children, and the node count. */
bool wg_allowedips_verify(const struct wg_allowedips *t);

#endif
