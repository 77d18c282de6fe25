/* WireGuard's per-peer timers (whitepaper section 6) and the device-wide
 * schedule that finds the next one due.
 *
 * Hooks are named after the event that happened, as in Linux's timers.c;
 * the send and receive paths call them, and the rules about which timer
 * they arm or cancel live here only.  Five timers per peer:
 *
 *  - retransmit_handshake: no response REKEY_TIMEOUT (+ jitter) after an
 *    initiation: send another, at most MAX_TIMER_HANDSHAKES times, then give
 *    up and drop the staged packets (REKEY_ATTEMPT_TIME).
 *  - send_keepalive: we received data but sent nothing for KEEPALIVE_TIMEOUT:
 *    send an empty data message so the peer knows the session works.
 *  - new_handshake: we sent data but heard nothing (not even a keepalive) for
 *    KEEPALIVE_TIMEOUT + REKEY_TIMEOUT (+ jitter): start a new handshake.
 *  - zero_key_material: no new session for REJECT_AFTER_TIME * 3: wipe every
 *    key of the peer.
 *  - persistent_keepalive: the user's interval since the last authenticated
 *    packet either way (keeps NAT mappings open).
 *
 * A timer's deadline is an absolute ops->now() time; the device keeps its
 * peers in a binary min-heap on their earliest deadline, so
 * wg_device_next_deadline() is O(1) and re-arming a timer is O(log peers). */
#ifndef WG_TIMERS_H
#define WG_TIMERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wg_device;
struct wg_peer;

#define WG_NSEC_PER_SEC 1000000000ULL
#define WG_NSEC_PER_MSEC 1000000ULL

/* Whitepaper section 6.1 (and Linux messages.h). */
#define WG_REKEY_AFTER_MESSAGES (1ULL << 60)
/* 2^64 - 2^13 - 1 */
#define WG_REJECT_AFTER_MESSAGES (UINT64_MAX - (1ULL << 13))
enum {
	WG_REKEY_AFTER_TIME = 120,	/* seconds */
	WG_REJECT_AFTER_TIME = 180,
	WG_REKEY_ATTEMPT_TIME = 90,
	WG_REKEY_TIMEOUT = 5,
	WG_KEEPALIVE_TIMEOUT = 10,
	WG_MAX_TIMER_HANDSHAKES = WG_REKEY_ATTEMPT_TIME / WG_REKEY_TIMEOUT,
	WG_REKEY_TIMEOUT_JITTER_MAX_MS = 333,	/* HZ / 3 in Linux */
};

enum wg_timer {
	WG_TIMER_RETRANSMIT_HANDSHAKE,
	WG_TIMER_SEND_KEEPALIVE,
	WG_TIMER_NEW_HANDSHAKE,
	WG_TIMER_ZERO_KEY_MATERIAL,
	WG_TIMER_PERSISTENT_KEEPALIVE,
	WG_TIMER_COUNT,
};

#define WG_TIMER_OFF UINT64_MAX		/* a timer that is not pending */
#define WG_TIMER_NOT_QUEUED SIZE_MAX	/* heap_pos of a peer not in it */

struct wg_peer_timers {
	uint64_t at[WG_TIMER_COUNT];	/* deadline, or WG_TIMER_OFF */
	size_t heap_pos;
	unsigned handshake_attempts;
	bool need_another_keepalive;
	bool sent_lastminute_handshake;
};

struct wg_timer_heap {
	struct wg_peer **peers;
	size_t len, cap;
};

/* True when birth + secs seconds is not after now (Linux's
 * wg_birthdate_has_expired, with the clock passed in). */
static inline bool wg_timers_expired(uint64_t birth, uint64_t secs,
    uint64_t now)
{
	return birth + secs * WG_NSEC_PER_SEC <= now;
}

/* The heap.  reserve() makes room for n peers so that arming a timer never
 * allocates: the device calls it when it adds a peer. */
void wg_timer_heap_init(struct wg_timer_heap *h);
void wg_timer_heap_clear(struct wg_timer_heap *h);
int wg_timer_heap_reserve(struct wg_timer_heap *h, size_t n);

/* Per peer: init() before first use, stop() cancels everything and takes the
 * peer off the heap (before it is freed). */
void wg_timers_init(struct wg_peer *peer);
void wg_timers_stop(struct wg_peer *peer);
bool wg_timers_pending(const struct wg_peer *peer, enum wg_timer t);
/* The deadline of t (WG_TIMER_OFF when not pending), for tests and logs. */
uint64_t wg_timers_deadline(const struct wg_peer *peer, enum wg_timer t);

/* Fires every timer due at dev->now, in deadline order per peer. */
void wg_timers_run(struct wg_device *dev);
/* The earliest deadline of any peer, or WG_TIMER_OFF. */
uint64_t wg_timers_next(const struct wg_device *dev);

/* Event hooks (Linux timers.c names; see there for the "why" of each). */
void wg_timers_data_sent(struct wg_peer *peer);
void wg_timers_data_received(struct wg_peer *peer);
void wg_timers_any_authenticated_packet_sent(struct wg_peer *peer);
void wg_timers_any_authenticated_packet_received(struct wg_peer *peer);
void wg_timers_any_authenticated_packet_traversal(struct wg_peer *peer);
void wg_timers_handshake_initiated(struct wg_peer *peer);
void wg_timers_handshake_complete(struct wg_peer *peer);
void wg_timers_session_derived(struct wg_peer *peer);
/* The persistent keepalive interval changed (0 cancels the timer). */
void wg_timers_persistent_keepalive_changed(struct wg_peer *peer);

#endif
