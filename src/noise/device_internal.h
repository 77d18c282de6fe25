/* The core's private structures, shared by device.c, peer.c, send.c,
 * receive.c and timers.c.  Nothing outside src/noise includes this: the
 * adapter sees only device.h.
 *
 * Single-threaded throughout.  Every public entry point first stores
 * ops->now() in dev->now, so one call sees one consistent time and the
 * internal code never reads the clock itself. */
#ifndef WG_DEVICE_INTERNAL_H
#define WG_DEVICE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allowedips.h"
#include "cookie.h"
#include "device.h"
#include "index_table.h"
#include "keypair.h"
#include "messages.h"
#include "noise.h"
#include "peer.h"
#include "ratelimit.h"
#include "timers.h"

enum {
	/* Linux MAX_QUEUED_INCOMING_HANDSHAKES; 1/8 of it full means
	 * "under load" (whitepaper 5.3: cookies only then). */
	WG_MAX_QUEUED_HANDSHAKES = 4096,
	/* Handshakes processed per wg_device_tick(), so a flood of them
	 * cannot starve data packets waiting in the adapter's loop. */
	WG_HANDSHAKES_PER_TICK = 32,
	/* Linux MAX_PEERS_PER_DEVICE. */
	WG_MAX_PEERS = 1 << 20,
	/* The largest IP packet (IPv4 total length / IPv6 jumbo-less). */
	WG_MAX_PACKET_LEN = 65535 + 40,
	WG_DEFAULT_MTU = 1420,
};

/* A handshake message waiting for wg_device_tick(), with its source. */
struct wg_queued_handshake {
	struct wg_endpoint from;
	size_t len;
	bool admitted;		/* mac2 and rate checked under load */
	uint8_t buf[sizeof(struct wg_msg_initiation)];	/* the largest */
};

struct wg_handshake_queue {
	struct wg_queued_handshake *ring;	/* WG_MAX_QUEUED_HANDSHAKES */
	size_t head, len;
};

/* Data messages for one peer built back to back while the adapter has a
 * batch open (device.h, wg_device_batch_begin). */
struct wg_tx_batch {
	bool open;
	struct wg_peer *peer;		/* of the pending ones; NULL if none */
	uint8_t *buf;			/* WG_BATCH_MAX_BYTES */
	size_t len;
	size_t lens[WG_BATCH_MAX_DATAGRAMS];
	unsigned count;
};

struct wg_peer_table {
	struct wg_peer **buckets;
	size_t mask, count;
	uint64_t seed;			/* random per device */
};

struct wg_device {
	struct wg_device_ops ops;
	struct wg_device_stats stats;
	uint64_t now;			/* ops->now() at entry */
	unsigned mtu;

	struct wg_static_identity identity;
	struct wg_cookie_checker cookie_checker;

	struct wg_allowedips allowedips;
	struct wg_index_table indices;
	struct wg_peer_table peers;
	struct wg_peer *peers_first, *peers_last;
	uint64_t next_peer_id, next_keypair_id;

	struct wg_handshake_queue handshakes;
	uint64_t last_under_load;	/* 0: not under load */
	struct wg_ratelimit ratelimit;
	uint64_t ratelimit_gc_at;	/* WG_TIMER_OFF when idle */
	uint64_t ratelimit_last_use;

	struct wg_timer_heap timer_heap;

	/* One buffer for building an outgoing data message. */
	uint8_t *scratch;
	size_t scratch_len;

	struct wg_tx_batch batch;
};

/* device.c */
void wg_device_logf(struct wg_device *dev, enum wg_log_level level,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void wg_device_random(void *dev, void *buf, size_t len);
/* Refreshes dev->now from ops->now(); every public entry point calls it. */
void wg_device_enter(struct wg_device *dev);
/* A jitter of 0..REKEY_TIMEOUT_JITTER_MAX_MS in nanoseconds. */
uint64_t wg_device_jitter(struct wg_device *dev);
/* The cookie MAC's view of a source: its IP address bytes then its UDP
 * port, both in network order.  Returns the length (6 or 18), 0 for a
 * family other than AF_INET/AF_INET6. */
size_t wg_device_endpoint_bytes(const struct wg_endpoint *ep,
    uint8_t out[static 18]);
/* The source's IP family and address bytes (for the rate limiter). */
int wg_device_endpoint_addr(const struct wg_endpoint *ep,
    const uint8_t **addr);

/* send.c: everything that leaves through ops->send_udp and send_udp_batch. */
void wg_send_handshake_initiation(struct wg_peer *peer, bool is_retry);
void wg_send_handshake_response(struct wg_peer *peer);
void wg_send_cookie_reply(struct wg_device *dev,
    const struct wg_endpoint *to, const uint8_t *msg, size_t len,
    uint32_t sender_index);
void wg_send_keepalive(struct wg_peer *peer);
void wg_send_staged(struct wg_peer *peer);
void wg_send_purge_staged(struct wg_peer *peer);
/* Frees the staging ring (peer removal). */
void wg_send_free_staged(struct wg_peer *peer);
/* Hands the pending batch, if any, to ops->send_udp_batch. */
void wg_send_batch_flush(struct wg_device *dev);

/* receive.c: handshake messages queued by wg_device_receive_datagram. */
void wg_receive_handshakes(struct wg_device *dev, unsigned budget);

#endif
