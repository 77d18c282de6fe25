/* Transport keypairs and the three slots a peer keeps them in (whitepaper
 * sections 5.4.6 and 6; Linux noise.c add_new_keypair() and
 * wg_noise_received_with_keypair()).
 *
 *  - current: the keypair we send with.
 *  - previous: the one before it, still accepted on receive so packets in
 *    flight across a rekey are not lost.
 *  - next: a responder's fresh keypair.  The responder must not send with
 *    it before the initiator proves it holds the same keys, which the
 *    initiator's first data message does (key confirmation); until then it
 *    waits here and is only received with.
 *
 * An initiator's new keypair is confirmed by the response itself and goes
 * straight to current.
 *
 * Each keypair holds its own receiver index (the handshake's index, handed
 * over by wg_index_table_replace) and is freed with its index removed and
 * its keys wiped. */
#ifndef WG_KEYPAIR_H
#define WG_KEYPAIR_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/primitives.h"
#include "index_table.h"
#include "replay.h"

struct wg_keypair {
	struct wg_index_entry entry;	/* our index; kind WG_INDEX_KEYPAIR */
	uint8_t sending_key[WG_KEY_LEN];
	uint8_t receiving_key[WG_KEY_LEN];
	uint64_t sending_counter;	/* next nonce to use */
	struct wg_replay replay;	/* receiving counters seen */
	uint64_t birthdate;		/* ops->now() when derived */
	uint64_t internal_id;		/* for logs */
	uint32_t remote_index;		/* the peer's index, host order */
	bool sending_valid, receiving_valid;
	bool i_am_the_initiator;
};

struct wg_keypairs {
	struct wg_keypair *current, *previous, *next;
};

/* Allocates a keypair holding copies of the keys (the caller wipes its
 * own).  NULL when out of memory.  Not yet in any table. */
struct wg_keypair *wg_keypair_new(const uint8_t sending[static WG_KEY_LEN],
    const uint8_t receiving[static WG_KEY_LEN], uint32_t remote_index,
    bool i_am_the_initiator, uint64_t now, uint64_t internal_id);
/* Removes the keypair's index from t, wipes and frees it.  NULL is fine. */
void wg_keypair_free(struct wg_keypair *kp, struct wg_index_table *t);

/* May we still send with it?  Valid, younger than REJECT_AFTER_TIME and
 * with nonces left below REJECT_AFTER_MESSAGES; marks it invalid for
 * sending once it is not. */
WG_MUST_CHECK bool wg_keypair_can_send(struct wg_keypair *kp, uint64_t now);
/* May we still receive with it?  Marks it invalid when it has aged out. */
WG_MUST_CHECK bool wg_keypair_can_receive(struct wg_keypair *kp, uint64_t now);

/* Puts a freshly derived keypair in its slot, freeing the keypairs it
 * displaces (see above for which slot). */
void wg_keypairs_add(struct wg_keypairs *kps, struct wg_keypair *kp,
    struct wg_index_table *t);
/* A data message decrypted with kp: when kp was next, it is now confirmed
 * and becomes current (returns true: the handshake is complete). */
bool wg_keypairs_received_with(struct wg_keypairs *kps, struct wg_keypair *kp,
    struct wg_index_table *t);
/* Stops sending with current and next (receiving still works for packets
 * in flight), as Linux's wg_noise_expire_current_peer_keypairs. */
void wg_keypairs_expire_sending(struct wg_keypairs *kps);
/* Frees all three. */
void wg_keypairs_clear(struct wg_keypairs *kps, struct wg_index_table *t);

#endif
