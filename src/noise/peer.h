/* A peer as the core keeps it (private to src/noise: the adapter sees the
 * opaque struct wg_peer of device.h and its accessors).  Each peer embeds
 * its handshake, the index that names the handshake in flight, its cookie
 * state, its three keypair slots, a ring of packets waiting for a session
 * and its timers; it lives from wg_device_peer_add() to
 * wg_device_peer_remove(). */
#ifndef WG_PEER_H
#define WG_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cookie.h"
#include "device.h"
#include "index_table.h"
#include "keypair.h"
#include "noise.h"
#include "timers.h"

enum {
	/* Linux MAX_STAGED_PACKETS: packets kept per peer while there is
	 * no session; the oldest goes when a new one arrives. */
	WG_MAX_STAGED_PACKETS = 128,
};

/* A packet waiting for a session: its own buffer, grown on demand and kept
 * for reuse, so a staged burst after the first allocates nothing.  len 0
 * is a keepalive. */
struct wg_staged_slot {
	uint8_t *buf;
	size_t cap, len;
};

struct wg_staged {
	struct wg_staged_slot *slots;	/* WG_MAX_STAGED_PACKETS, lazily */
	unsigned head, count;
};

struct wg_peer {
	struct wg_device *dev;
	struct wg_peer *hash_next;		/* public-key table chain */
	struct wg_peer *list_prev, *list_next;	/* insertion order */
	uint64_t internal_id;			/* logs name peers by this */
	uint8_t public_key[WG_KEY_LEN];

	struct wg_handshake handshake;
	struct wg_index_entry handshake_entry;	/* while one is in flight */
	struct wg_cookie cookie;
	struct wg_keypairs keypairs;

	struct wg_endpoint endpoint;
	bool has_endpoint;
	uint16_t persistent_keepalive;		/* seconds, 0 = off */

	struct wg_staged staged;
	struct wg_peer_timers timers;
	/* Monotonic time of the last initiation or response we sent: at most
	 * one initiation per REKEY_TIMEOUT (Linux last_sent_handshake). */
	uint64_t last_sent_handshake;
	bool has_sent_handshake;	/* false: not rate limited */

	uint64_t rx_bytes, tx_bytes;
	uint64_t last_handshake_wall_ns;
};

struct wg_peer *wg_peer_new(struct wg_device *dev,
    const uint8_t public_key[static WG_KEY_LEN]);
/* Wipes and frees a peer already unlinked from the device's tables. */
void wg_peer_free(struct wg_peer *peer);
/* Drops the handshake in flight, with its index. */
void wg_peer_clear_handshake(struct wg_peer *peer);
/* Moves the endpoint to where an authenticated packet came from. */
void wg_peer_update_endpoint(struct wg_peer *peer,
    const struct wg_endpoint *from);
/* Lets the kernel pick the source address again (after a timeout). */
void wg_peer_clear_endpoint_src(struct wg_peer *peer);
/* The new private key: recompute DH(s, S_peer), stop sending with the
 * old sessions, allow an initiation at once. */
void wg_peer_identity_changed(struct wg_peer *peer);
/* After a response was created or consumed: derive the transport keys,
 * put the keypair in its slot and hand it the handshake's index.  False
 * (handshake cleared) when that fails. */
WG_MUST_CHECK bool wg_peer_begin_session(struct wg_peer *peer);

#endif
