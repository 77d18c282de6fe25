/* The timer rules as a table: rows of (hooks called at given times) and the
 * deadline each of the five timers must have afterwards, from Linux's
 * timers.c and whitepaper section 6.  Then the device's min-heap of peers
 * against a deliberately naive twin (a scan of every deadline). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "device_internal.h"
#include "fakeops.h"

#define MS 1000000ULL
#define SEC 1000000000ULL
#define T0 (5000 * SEC)

static struct wg_device *fake_device(struct fake_ops *f)
{
	struct wg_device_ops ops = fake_ops_make(f);

	return wg_device_new(&ops);
}

enum hook {
	H_END,
	H_DATA_SENT,
	H_DATA_RECEIVED,
	H_AUTH_SENT,
	H_AUTH_RECEIVED,
	H_TRAVERSAL,
	H_HS_INITIATED,
	H_HS_COMPLETE,
	H_SESSION_DERIVED,
	H_COUNT,
};

static void call_hook(struct wg_peer *peer, enum hook h)
{
	switch (h) {
	case H_DATA_SENT:
		wg_timers_data_sent(peer);
		break;
	case H_DATA_RECEIVED:
		wg_timers_data_received(peer);
		break;
	case H_AUTH_SENT:
		wg_timers_any_authenticated_packet_sent(peer);
		break;
	case H_AUTH_RECEIVED:
		wg_timers_any_authenticated_packet_received(peer);
		break;
	case H_TRAVERSAL:
		wg_timers_any_authenticated_packet_traversal(peer);
		break;
	case H_HS_INITIATED:
		wg_timers_handshake_initiated(peer);
		break;
	case H_HS_COMPLETE:
		wg_timers_handshake_complete(peer);
		break;
	case H_SESSION_DERIVED:
		wg_timers_session_derived(peer);
		break;
	case H_END:
	case H_COUNT:
		break;
	}
}

#define OFF (-1)

struct step {
	int64_t at_ms;
	enum hook hook;
};

struct timer_row {
	const char *name;
	uint16_t persistent_keepalive;
	struct step steps[4];
	/* Expected deadlines in ms after T0, by timer, or OFF. */
	int64_t want[WG_TIMER_COUNT];
	bool need_another_keepalive;
};

/* want: retransmit_handshake, send_keepalive, new_handshake,
 * zero_key_material, persistent_keepalive (enum wg_timer order). */
static const struct timer_row rows[] = {
	{ "nothing happened", 0, { { 0, H_END } },
	    { OFF, OFF, OFF, OFF, OFF }, false },
	{ "data sent: new handshake in 15 s", 0,
	    { { 0, H_DATA_SENT }, { 0, H_END } },
	    { OFF, OFF, 15000, OFF, OFF }, false },
	{ "data sent twice: the first deadline stays", 0,
	    { { 0, H_DATA_SENT }, { 3000, H_DATA_SENT }, { 0, H_END } },
	    { OFF, OFF, 15000, OFF, OFF }, false },
	{ "data sent, then anything received: no new handshake", 0,
	    { { 0, H_DATA_SENT }, { 100, H_AUTH_RECEIVED }, { 0, H_END } },
	    { OFF, OFF, OFF, OFF, OFF }, false },
	{ "data received: keepalive in 10 s", 0,
	    { { 0, H_DATA_RECEIVED }, { 0, H_END } },
	    { OFF, 10000, OFF, OFF, OFF }, false },
	{ "data received twice: same deadline, another one owed", 0,
	    { { 0, H_DATA_RECEIVED }, { 4000, H_DATA_RECEIVED }, { 0, H_END } },
	    { OFF, 10000, OFF, OFF, OFF },
	    true },
	{ "data received, then anything sent: no keepalive", 0,
	    { { 0, H_DATA_RECEIVED }, { 200, H_AUTH_SENT }, { 0, H_END } },
	    { OFF, OFF, OFF, OFF, OFF }, false },
	{ "traversal without persistent keepalive", 0,
	    { { 0, H_TRAVERSAL }, { 0, H_END } },
	    { OFF, OFF, OFF, OFF, OFF }, false },
	{ "traversal with persistent keepalive 25 s", 25,
	    { { 0, H_TRAVERSAL }, { 0, H_END } },
	    { OFF, OFF, OFF, OFF, 25000 }, false },
	{ "each traversal pushes it back", 25,
	    { { 0, H_TRAVERSAL }, { 10000, H_TRAVERSAL }, { 0, H_END } },
	    { OFF, OFF, OFF, OFF, 35000 }, false },
	{ "initiation sent: retransmit in 5 s", 0,
	    { { 0, H_HS_INITIATED }, { 0, H_END } },
	    { 5000, OFF, OFF, OFF, OFF }, false },
	{ "a later initiation re-arms it", 0,
	    { { 0, H_HS_INITIATED }, { 2000, H_HS_INITIATED }, { 0, H_END } },
	    { 7000, OFF, OFF, OFF, OFF }, false },
	{ "handshake complete: no retransmit", 0,
	    { { 0, H_HS_INITIATED }, { 50, H_HS_COMPLETE }, { 0, H_END } },
	    { OFF, OFF, OFF, OFF, OFF }, false },
	{ "session derived: keys zeroed in 540 s", 0,
	    { { 0, H_SESSION_DERIVED }, { 0, H_END } },
	    { OFF, OFF, OFF, 540000, OFF }, false },
	{ "a new session pushes that back", 0,
	    { { 0, H_SESSION_DERIVED }, { 60000, H_SESSION_DERIVED },
	      { 0, H_END } },
	    { OFF, OFF, OFF, 600000, OFF }, false },
};

static void test_hook_table(void)
{
	size_t r;

	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		const struct timer_row *row = &rows[r];
		struct fake_ops f = { .now = T0, .zero_random = true };
		struct wg_device *dev = fake_device(&f);
		uint8_t key[WG_KEY_LEN] = { 9 };
		struct wg_peer *peer;
		const struct step *s;
		int t;

		if (dev == NULL || wg_device_peer_add(dev, key, &peer) != 0) {
			CHECK_FAIL("setup");
			wg_device_free(dev);
			return;
		}
		peer->persistent_keepalive = row->persistent_keepalive;
		for (s = row->steps; s->hook != H_END; s++) {
			f.now = T0 + (uint64_t)s->at_ms * MS;
			wg_device_enter(dev);
			call_hook(peer, s->hook);
		}
		for (t = 0; t < WG_TIMER_COUNT; t++) {
			uint64_t want = row->want[t] == OFF ? WG_TIMER_OFF :
			    T0 + (uint64_t)row->want[t] * MS;

			uint64_t got = wg_timers_deadline(peer, t);

			if (got != want)
				CHECK_FAIL("%s: timer %d at %lld ms", row->name,
				    t, got == WG_TIMER_OFF ? -1LL :
				    (long long)((got - T0) / MS));
		}
		if (peer->timers.need_another_keepalive !=
		    row->need_another_keepalive)
			CHECK_FAIL("%s: need_another_keepalive", row->name);
		wg_device_free(dev);
	}
}

/* With random jitter the two jittered timers land in [d, d + 333 ms]. */
static void test_jitter_bounds(void)
{
	struct fake_ops f = { .now = T0, .rng = 42 };
	struct wg_device *dev = fake_device(&f);
	uint8_t key[WG_KEY_LEN] = { 9 };
	struct wg_peer *peer;
	uint64_t lo = UINT64_MAX, hi = 0;
	int i;

	if (dev == NULL || wg_device_peer_add(dev, key, &peer) != 0) {
		CHECK_FAIL("setup");
		wg_device_free(dev);
		return;
	}
	wg_device_enter(dev);
	for (i = 0; i < 2000; i++) {
		uint64_t d;

		wg_timers_handshake_initiated(peer);
		d = wg_timers_deadline(peer, WG_TIMER_RETRANSMIT_HANDSHAKE) -
		    T0 - 5 * SEC;
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
		wg_timers_any_authenticated_packet_received(peer);
		wg_timers_data_sent(peer);
		d = wg_timers_deadline(peer, WG_TIMER_NEW_HANDSHAKE) -
		    T0 - 15 * SEC;
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	CHECK(lo < 20 * MS);
	CHECK(hi > 310 * MS && hi <= 333 * MS);
	wg_device_free(dev);
}

/* The schedule: after every operation wg_timers_next() equals a scan of
 * every deadline of every peer, through adds, removals and firing. */
static void test_heap_against_scan(void)
{
	enum { PEERS = 300, OPS = 30000 };
	struct fake_ops f = { .now = T0, .rng = 7 };
	struct wg_device *dev = fake_device(&f);
	struct wg_peer *peers[PEERS] = { 0 };
	unsigned mismatches = 0, fired_checks = 0;
	int i;

	if (dev == NULL) {
		CHECK_FAIL("setup");
		return;
	}
	for (i = 0; i < OPS; i++) {
		uint32_t r;
		unsigned k;
		struct wg_peer *p;
		uint64_t scan = WG_TIMER_OFF;

		fake_ops_random(&f, &r, sizeof(r));
		k = r % PEERS;
		if (peers[k] == NULL) {
			uint8_t key[WG_KEY_LEN] = { 0 };

			memcpy(key, &i, sizeof(i));
			key[31] = 0x40;
			if (wg_device_peer_add(dev, key, &peers[k]) != 0)
				break;
			peers[k]->persistent_keepalive =
			    (uint16_t)((r >> 20) % 30);
		} else if ((r >> 8) % 50 == 0) {
			wg_device_peer_remove(dev, peers[k]);
			peers[k] = NULL;
		} else if ((r >> 8) % 50 == 1) {
			/* Let time pass and fire what is due. */
			f.now += ((r >> 16) % 20000) * MS;
			wg_device_tick(dev);
			if (wg_device_next_deadline(dev) <= f.now &&
			    wg_device_next_deadline(dev) != WG_TIMER_OFF)
				fired_checks++;
		} else {
			f.now += ((r >> 16) % 100) * MS;
			wg_device_enter(dev);
			call_hook(peers[k], 1 + (r >> 12) % (H_COUNT - 1));
		}
		for (p = wg_device_peer_first(dev); p != NULL;
		    p = wg_device_peer_next(p)) {
			int t;

			for (t = 0; t < WG_TIMER_COUNT; t++)
				if (wg_timers_deadline(p, t) < scan)
					scan = wg_timers_deadline(p, t);
		}
		if (wg_timers_next(dev) != scan)
			mismatches++;
	}
	CHECK(mismatches == 0);
	/* After a tick nothing due is left behind. */
	CHECK(fired_checks == 0);
	wg_device_free(dev);
}

int main(void)
{
	RUN(test_hook_table);
	RUN(test_jitter_bounds);
	RUN(test_heap_against_scan);
	return check_summary();
}
