/* Device ops for the tests, fuzzers and benchmark that run the protocol
 * core (device.h) without an OS: a clock the caller moves, a seeded
 * PRNG, and no sockets or TUN; and the UAPI's OS hooks (uapi_protocol.h)
 * the same way.  What the core sends and writes is counted
 * and, when the caller sets a hook, handed to it; a batch
 * (ops->send_udp_batch) reaches on_send one datagram at a time, in order.
 *
 *	struct fake_ops f = { .now = T0, .rng = 1 };
 *	struct wg_device_ops ops = fake_ops_make(&f);
 *	struct wg_device *dev = wg_device_new(&ops);
 *
 * The caller may replace any op in ops before wg_device_new(). */
#ifndef WG_TESTS_FAKEOPS_H
#define WG_TESTS_FAKEOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "tun/uapi_protocol.h"

/* ops->wall is this plus ops->now: 2023-11-14 plus the fake time. */
#define FAKE_OPS_WALL_BASE_NS (1700000000ULL * 1000000000ULL)

struct fake_ops {
	uint64_t now;		/* what ops->now returns; the caller moves it */
	uint64_t rng;		/* the PRNG's state: the seed */
	bool zero_random;	/* ops->random gives zeros (no jitter) */
	uint64_t sends;		/* datagrams sent, those of batches too */
	uint64_t batches;	/* calls of ops->send_udp_batch */
	uint64_t tun_writes;
	/* Optional hooks, called with ctx.  on_send's return is what
	 * ops->send_udp returns. */
	void *ctx;
	int (*on_send)(void *ctx, struct wg_endpoint *ep, const uint8_t *buf,
	    size_t len);
	void (*on_tun)(void *ctx, const uint8_t *p, size_t len);
	void (*on_log)(void *ctx, enum wg_log_level level, const char *line);
};

/* The device ops over f (their ctx is f). */
struct wg_device_ops fake_ops_make(struct fake_ops *f);

/* ops->random: a 64-bit LCG (Knuth's MMIX constants), one byte per step
 * from bits 33..40.  ctx is a struct fake_ops. */
void fake_ops_random(void *ctx, void *buf, size_t len);

/* How a fake takes ops->send_udp_batch: each datagram of the batch to
 * send, in order.  Returns 0 or the last error send returned. */
int fake_ops_unbatch(int (*send)(void *ctx, struct wg_endpoint *ep,
    const uint8_t *buf, size_t len), void *ctx, struct wg_endpoint *ep,
    const uint8_t *buf, const size_t *lens, unsigned n);

/* The UAPI's OS hooks: a listen port and fwmark kept in memory. */
struct fake_uapi {
	uint16_t port;		/* set_listen_port(0) makes it 40000 */
	uint16_t taken_port;	/* set_listen_port fails on it (EADDRINUSE) */
	uint32_t fwmark;
};

/* The UAPI ops over f (their ctx is f); interface "eth0" has index 2. */
struct wg_uapi_ops fake_uapi_make(struct fake_uapi *f);

#endif
