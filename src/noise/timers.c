/* Per-peer timers, as Linux's drivers/net/wireguard/timers.c (whitepaper
 * section 6), and the min-heap of peers that schedules them.
 *
 * A peer sits in the heap keyed by the earliest of its five deadlines while
 * any is pending.  Every change to a deadline goes through arm()/disarm(),
 * which restore the heap property for that one peer. */
#include <errno.h>
#include <stdlib.h>

#include "device_internal.h"
#include "timers.h"

/* ---------------------------------------------------------------- heap */

void wg_timer_heap_init(struct wg_timer_heap *h)
{
	h->peers = NULL;
	h->len = h->cap = 0;
}

void wg_timer_heap_clear(struct wg_timer_heap *h)
{
	free(h->peers);
	wg_timer_heap_init(h);
}

int wg_timer_heap_reserve(struct wg_timer_heap *h, size_t n)
{
	struct wg_peer **p;
	size_t cap;

	if (n <= h->cap)
		return 0;
	cap = h->cap ? h->cap : 16;
	while (cap < n)
		cap *= 2;
	p = realloc(h->peers, cap * sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	h->peers = p;
	h->cap = cap;
	return 0;
}

static uint64_t earliest(const struct wg_peer *peer)
{
	uint64_t min = WG_TIMER_OFF;
	int i;

	for (i = 0; i < WG_TIMER_COUNT; i++)
		if (peer->timers.at[i] < min)
			min = peer->timers.at[i];
	return min;
}

static void place(struct wg_timer_heap *h, size_t i, struct wg_peer *peer)
{
	h->peers[i] = peer;
	peer->timers.heap_pos = i;
}

static void sift_up(struct wg_timer_heap *h, size_t i)
{
	struct wg_peer *peer = h->peers[i];
	uint64_t key = earliest(peer);

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (earliest(h->peers[parent]) <= key)
			break;
		place(h, i, h->peers[parent]);
		i = parent;
	}
	place(h, i, peer);
}

static void sift_down(struct wg_timer_heap *h, size_t i)
{
	struct wg_peer *peer = h->peers[i];
	uint64_t key = earliest(peer);

	for (;;) {
		size_t child = 2 * i + 1;
		uint64_t ckey;

		if (child >= h->len)
			break;
		ckey = earliest(h->peers[child]);
		if (child + 1 < h->len) {
			uint64_t rkey = earliest(h->peers[child + 1]);

			if (rkey < ckey) {
				child++;
				ckey = rkey;
			}
		}
		if (key <= ckey)
			break;
		place(h, i, h->peers[child]);
		i = child;
	}
	place(h, i, peer);
}

static void heap_remove(struct wg_timer_heap *h, struct wg_peer *peer)
{
	size_t i = peer->timers.heap_pos;
	struct wg_peer *last;

	if (i == WG_TIMER_NOT_QUEUED)
		return;
	peer->timers.heap_pos = WG_TIMER_NOT_QUEUED;
	last = h->peers[--h->len];
	if (i == h->len)
		return;
	place(h, i, last);
	sift_down(h, i);
	sift_up(h, last->timers.heap_pos);
}

/* Puts the peer where its (changed) earliest deadline belongs. */
static void reschedule(struct wg_peer *peer)
{
	struct wg_timer_heap *h = &peer->dev->timer_heap;

	if (earliest(peer) == WG_TIMER_OFF) {
		heap_remove(h, peer);
		return;
	}
	if (peer->timers.heap_pos == WG_TIMER_NOT_QUEUED) {
		/* Room was reserved when the peer was added. */
		if (h->len >= h->cap)
			abort();
		place(h, h->len++, peer);
	}
	sift_down(h, peer->timers.heap_pos);
	sift_up(h, peer->timers.heap_pos);
}

static void arm(struct wg_peer *peer, enum wg_timer t, uint64_t delay_ns)
{
	peer->timers.at[t] = peer->dev->now + delay_ns;
	reschedule(peer);
}

static void disarm(struct wg_peer *peer, enum wg_timer t)
{
	if (peer->timers.at[t] == WG_TIMER_OFF)
		return;
	peer->timers.at[t] = WG_TIMER_OFF;
	reschedule(peer);
}

/* ---------------------------------------------------------------- expiry */

static void expired_retransmit_handshake(struct wg_peer *peer)
{
	if (peer->timers.handshake_attempts > WG_MAX_TIMER_HANDSHAKES) {
		wg_device_logf(peer->dev, WG_LOG_INFO,
		    "Handshake for peer %llu did not complete after %d attempts, giving up",
		    (unsigned long long)peer->internal_id,
		    WG_MAX_TIMER_HANDSHAKES + 2);
		disarm(peer, WG_TIMER_SEND_KEEPALIVE);
		/* REKEY_ATTEMPT_TIME is over: drop what waited for this
		 * handshake and do not try again until there is new data. */
		wg_send_purge_staged(peer);
		/* Destroy whatever a partial exchange left behind. */
		if (!wg_timers_pending(peer, WG_TIMER_ZERO_KEY_MATERIAL))
			arm(peer, WG_TIMER_ZERO_KEY_MATERIAL,
			    3ULL * WG_REJECT_AFTER_TIME * WG_NSEC_PER_SEC);
		return;
	}
	peer->timers.handshake_attempts++;
	wg_device_logf(peer->dev, WG_LOG_DEBUG,
	    "Handshake for peer %llu did not complete after %d seconds, retrying (try %u)",
	    (unsigned long long)peer->internal_id, WG_REKEY_TIMEOUT,
	    peer->timers.handshake_attempts + 1);
	/* The sticky source may be why nothing comes back. */
	wg_peer_clear_endpoint_src(peer);
	wg_send_handshake_initiation(peer, true);
}

static void expired_send_keepalive(struct wg_peer *peer)
{
	wg_send_keepalive(peer);
	if (peer->timers.need_another_keepalive) {
		peer->timers.need_another_keepalive = false;
		arm(peer, WG_TIMER_SEND_KEEPALIVE,
		    WG_KEEPALIVE_TIMEOUT * WG_NSEC_PER_SEC);
	}
}

static void expired_new_handshake(struct wg_peer *peer)
{
	wg_device_logf(peer->dev, WG_LOG_DEBUG,
	    "Retrying handshake with peer %llu because we stopped hearing back after %d seconds",
	    (unsigned long long)peer->internal_id,
	    WG_KEEPALIVE_TIMEOUT + WG_REKEY_TIMEOUT);
	wg_peer_clear_endpoint_src(peer);
	wg_send_handshake_initiation(peer, false);
}

static void expired_zero_key_material(struct wg_peer *peer)
{
	wg_device_logf(peer->dev, WG_LOG_DEBUG,
	    "Zeroing out all keys for peer %llu, since we haven't received a new one in %d seconds",
	    (unsigned long long)peer->internal_id, WG_REJECT_AFTER_TIME * 3);
	wg_peer_clear_handshake(peer);
	wg_keypairs_clear(&peer->keypairs, &peer->dev->indices);
}

static void expired_persistent_keepalive(struct wg_peer *peer)
{
	if (peer->persistent_keepalive)
		wg_send_keepalive(peer);
}

static void fire(struct wg_peer *peer, enum wg_timer t)
{
	switch (t) {
	case WG_TIMER_RETRANSMIT_HANDSHAKE:
		expired_retransmit_handshake(peer);
		break;
	case WG_TIMER_SEND_KEEPALIVE:
		expired_send_keepalive(peer);
		break;
	case WG_TIMER_NEW_HANDSHAKE:
		expired_new_handshake(peer);
		break;
	case WG_TIMER_ZERO_KEY_MATERIAL:
		expired_zero_key_material(peer);
		break;
	case WG_TIMER_PERSISTENT_KEEPALIVE:
		expired_persistent_keepalive(peer);
		break;
	case WG_TIMER_COUNT:
		break;
	}
}

void wg_timers_run(struct wg_device *dev)
{
	struct wg_timer_heap *h = &dev->timer_heap;

	while (h->len > 0 && earliest(h->peers[0]) <= dev->now) {
		struct wg_peer *peer = h->peers[0];
		enum wg_timer t;

		/* The earliest due timer of this peer; handlers may arm
		 * others, so look again after each. */
		for (t = 0; t < WG_TIMER_COUNT; t++)
			if (peer->timers.at[t] == earliest(peer))
				break;
		disarm(peer, t);
		fire(peer, t);
	}
}

uint64_t wg_timers_next(const struct wg_device *dev)
{
	const struct wg_timer_heap *h = &dev->timer_heap;

	return h->len > 0 ? earliest(h->peers[0]) : WG_TIMER_OFF;
}

/* ---------------------------------------------------------------- peers */

void wg_timers_init(struct wg_peer *peer)
{
	int i;

	for (i = 0; i < WG_TIMER_COUNT; i++)
		peer->timers.at[i] = WG_TIMER_OFF;
	peer->timers.heap_pos = WG_TIMER_NOT_QUEUED;
	peer->timers.handshake_attempts = 0;
	peer->timers.need_another_keepalive = false;
	peer->timers.sent_lastminute_handshake = false;
}

void wg_timers_stop(struct wg_peer *peer)
{
	int i;

	for (i = 0; i < WG_TIMER_COUNT; i++)
		peer->timers.at[i] = WG_TIMER_OFF;
	heap_remove(&peer->dev->timer_heap, peer);
}

bool wg_timers_pending(const struct wg_peer *peer, enum wg_timer t)
{
	return peer->timers.at[t] != WG_TIMER_OFF;
}

uint64_t wg_timers_deadline(const struct wg_peer *peer, enum wg_timer t)
{
	return peer->timers.at[t];
}

/* ---------------------------------------------------------------- hooks */

/* After an authenticated data packet (not a keepalive) is sent. */
void wg_timers_data_sent(struct wg_peer *peer)
{
	if (!wg_timers_pending(peer, WG_TIMER_NEW_HANDSHAKE))
		arm(peer, WG_TIMER_NEW_HANDSHAKE,
		    (WG_KEEPALIVE_TIMEOUT + WG_REKEY_TIMEOUT) *
		    WG_NSEC_PER_SEC + wg_device_jitter(peer->dev));
}

/* After an authenticated data packet (not a keepalive) is received. */
void wg_timers_data_received(struct wg_peer *peer)
{
	if (!wg_timers_pending(peer, WG_TIMER_SEND_KEEPALIVE))
		arm(peer, WG_TIMER_SEND_KEEPALIVE,
		    WG_KEEPALIVE_TIMEOUT * WG_NSEC_PER_SEC);
	else
		peer->timers.need_another_keepalive = true;
}

/* After any authenticated packet is sent: keepalive, data or handshake. */
void wg_timers_any_authenticated_packet_sent(struct wg_peer *peer)
{
	disarm(peer, WG_TIMER_SEND_KEEPALIVE);
}

/* After any authenticated packet is received. */
void wg_timers_any_authenticated_packet_received(struct wg_peer *peer)
{
	disarm(peer, WG_TIMER_NEW_HANDSHAKE);
}

/* Before an authenticated packet is sent, or after one is received. */
void wg_timers_any_authenticated_packet_traversal(struct wg_peer *peer)
{
	if (peer->persistent_keepalive)
		arm(peer, WG_TIMER_PERSISTENT_KEEPALIVE,
		    peer->persistent_keepalive * WG_NSEC_PER_SEC);
}

/* After an initiation is sent. */
void wg_timers_handshake_initiated(struct wg_peer *peer)
{
	arm(peer, WG_TIMER_RETRANSMIT_HANDSHAKE,
	    WG_REKEY_TIMEOUT * WG_NSEC_PER_SEC + wg_device_jitter(peer->dev));
}

/* After a response is consumed, or a responder's first data message from
 * the initiator confirmed the new keypair. */
void wg_timers_handshake_complete(struct wg_peer *peer)
{
	disarm(peer, WG_TIMER_RETRANSMIT_HANDSHAKE);
	peer->timers.handshake_attempts = 0;
	peer->timers.sent_lastminute_handshake = false;
	peer->last_handshake_wall_ns = peer->dev->ops.wall(peer->dev->ops.ctx);
}

/* After new transport keys are derived (sending a response, or consuming
 * one). */
void wg_timers_session_derived(struct wg_peer *peer)
{
	arm(peer, WG_TIMER_ZERO_KEY_MATERIAL,
	    3ULL * WG_REJECT_AFTER_TIME * WG_NSEC_PER_SEC);
}

void wg_timers_persistent_keepalive_changed(struct wg_peer *peer)
{
	if (peer->persistent_keepalive == 0)
		disarm(peer, WG_TIMER_PERSISTENT_KEEPALIVE);
}
