/* The protocol core's interface to its OS adapter (src/tun/).
 *
 * The core is pure: it never opens a socket, reads a clock or asks the OS
 * for randomness.  Everything from outside arrives through the calls below
 * and everything it does to the outside goes through struct wg_device_ops.
 * It is single-threaded: the adapter calls it from one thread (the libev
 * loop), and the ops callbacks run synchronously inside those calls.
 *
 * Datagrams: one at a time through ops->send_udp, or, while the adapter
 * has opened a batch (wg_device_batch_begin), data messages for one peer
 * together through ops->send_udp_batch.
 *
 * Time: ops->now() is a monotonic clock in nanoseconds.  After any call
 * into the core the adapter re-arms one timer to wg_device_next_deadline()
 * and calls wg_device_tick() when it fires. */
#ifndef WG_DEVICE_H
#define WG_DEVICE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "crypto/primitives.h"

struct wg_device;
struct wg_peer;

enum {
	/* A batch of ops->send_udp_batch: the kernel's UDP_MAX_SEGMENTS
	 * before Linux 6.9, and what one UDP GSO send carries (64 KiB less
	 * the IPv6 and UDP headers). */
	WG_BATCH_MAX_DATAGRAMS = 64,
	WG_BATCH_MAX_BYTES = 65535 - 40 - 8,
};

/* A peer's UDP address, plus the local address the latest packet from it
 * arrived on (so replies leave from that address: a "sticky" source).  A
 * zero src_ifindex and all-zero source mean "let the kernel choose". */
struct wg_endpoint {
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} addr;
	union {
		struct in_addr src4;
		struct in6_addr src6;
	};
	int src_ifindex;
};

enum wg_log_level {
	WG_LOG_ERROR = 0,
	WG_LOG_INFO = 1,	/* "verbose" */
	WG_LOG_DEBUG = 2,
};

struct wg_device_ops {
	void *ctx;
	/* Monotonic time in nanoseconds. */
	uint64_t (*now)(void *ctx);
	/* Wall-clock time in nanoseconds since the Unix epoch (TAI64N
	 * timestamps, last-handshake time reported to the UAPI). */
	uint64_t (*wall)(void *ctx);
	/* Fills buf with cryptographically secure random bytes. */
	void (*random)(void *ctx, void *buf, size_t len);
	/* Sends one datagram.  Returns 0 or a negative errno.  The adapter may
	 * clear ep's sticky source when sending from it fails. */
	int (*send_udp)(void *ctx, struct wg_endpoint *ep, const uint8_t *buf,
	    size_t len);
	/* Sends a batch: n transport data messages (n >= 1) to one peer's
	 * endpoint, in order, laid back to back in buf, the i-th lens[i]
	 * bytes long.  At most WG_BATCH_MAX_DATAGRAMS of them and
	 * WG_BATCH_MAX_BYTES in all, so a run of equal-sized ones can leave
	 * in one UDP GSO system call.  Called only between
	 * wg_device_batch_begin() and wg_device_batch_end(); the buffers are
	 * valid during the call only.  Returns 0 when every datagram was
	 * sent, else a negative errno (the core then counts the whole batch
	 * as dropped).  ep as for send_udp.  May be NULL for an adapter
	 * that never opens a batch. */
	int (*send_udp_batch)(void *ctx, struct wg_endpoint *ep,
	    const uint8_t *buf, const size_t *lens, unsigned n);
	/* Delivers one decrypted IP packet to the TUN device. */
	void (*write_tun)(void *ctx, const uint8_t *packet, size_t len);
	/* A log line without trailing newline.  Never contains key material. */
	void (*log)(void *ctx, enum wg_log_level level, const char *line);
};

/* Counters of what the core dropped and why; exposed for tests and logs. */
struct wg_device_stats {
	uint64_t rx_invalid;		/* failed wg_message_classify */
	uint64_t rx_bad_mac;		/* handshake with bad MAC1 */
	uint64_t rx_cookie_required;	/* under load without valid MAC2 */
	uint64_t rx_ratelimited;	/* under load, over its source's rate */
	uint64_t rx_queue_full;		/* handshake queue full */
	uint64_t rx_handshake_failed;	/* decryption/identity/timestamp */
	uint64_t rx_unknown_index;	/* data/response for no keypair */
	uint64_t rx_decrypt_failed;
	uint64_t rx_replayed;
	uint64_t rx_bad_inner;		/* not IP, bad length, or source not
					 * in the peer's allowed IPs */
	uint64_t tx_no_route;		/* TUN packet with no peer */
	uint64_t tx_dropped;		/* staged queue full / send errors */
};

/* Lifecycle.  new() returns NULL when out of memory.  free() wipes every
 * key.  The ops struct is copied. */
struct wg_device *wg_device_new(const struct wg_device_ops *ops);
void wg_device_free(struct wg_device *dev);

/* The interface MTU caps the padding of outgoing packets (default 1420). */
void wg_device_set_mtu(struct wg_device *dev, unsigned mtu);

/* Sets the static private key (clamped here).  An all-zero key removes the
 * identity.  A peer whose public key equals the new public key is removed,
 * as in the kernel.  Returns 0 or negative errno. */
int wg_device_set_private_key(struct wg_device *dev,
    const uint8_t key[static WG_KEY_LEN]);
/* Copies out the clamped private key and public key; false when unset. */
bool wg_device_get_keys(const struct wg_device *dev,
    uint8_t priv[static WG_KEY_LEN], uint8_t pub[static WG_KEY_LEN]);

/* Peers.  add() creates a peer (or returns -EEXIST with *out set to the
 * existing one).  Pointers stay valid until the peer is removed. */
int wg_device_peer_add(struct wg_device *dev,
    const uint8_t public_key[static WG_KEY_LEN], struct wg_peer **out);
struct wg_peer *wg_device_peer_lookup(struct wg_device *dev,
    const uint8_t public_key[static WG_KEY_LEN]);
void wg_device_peer_remove(struct wg_device *dev, struct wg_peer *peer);
void wg_device_peers_clear(struct wg_device *dev);
/* Iteration in insertion order; next() returns NULL after the last. */
struct wg_peer *wg_device_peer_first(struct wg_device *dev);
struct wg_peer *wg_device_peer_next(struct wg_peer *peer);

/* Per-peer configuration.  A NULL or all-zero PSK means none. */
void wg_peer_set_preshared_key(struct wg_peer *peer, const uint8_t *psk);
void wg_peer_set_endpoint(struct wg_peer *peer, const struct wg_endpoint *ep);
/* 0 disables; 1..65535 seconds.  Turning it on sends a keepalive at once
 * when the device has a private key (as the kernel does). */
void wg_peer_set_persistent_keepalive(struct wg_peer *peer, uint16_t secs);
/* family is AF_INET or AF_INET6; addr is 4 or 16 bytes in network order.
 * Returns 0 or -EINVAL (cidr too long) / -ENOMEM.  A prefix owned by another
 * peer moves to this one. */
int wg_peer_allowed_ip_add(struct wg_peer *peer, int family,
    const uint8_t *addr, uint8_t cidr);
void wg_peer_allowed_ips_clear(struct wg_peer *peer);
/* Calls cb for each of the peer's prefixes (host bits zeroed); stops and
 * returns cb's value when it is non-zero. */
int wg_peer_allowed_ips_foreach(struct wg_peer *peer,
    int (*cb)(void *ctx, int family, const uint8_t *addr, uint8_t cidr),
    void *ctx);

struct wg_peer_info {
	uint8_t public_key[WG_KEY_LEN];
	uint8_t preshared_key[WG_KEY_LEN];	/* zeros when none */
	bool has_endpoint;
	struct wg_endpoint endpoint;
	uint64_t last_handshake_unix_ns;	/* 0 = never */
	uint64_t rx_bytes, tx_bytes;		/* WireGuard message bytes */
	uint16_t persistent_keepalive;
};
/* The caller must wipe info->preshared_key after use. */
void wg_peer_get_info(const struct wg_peer *peer, struct wg_peer_info *info);

/* Data path. */
/* A UDP datagram arrived from `from` (its sticky source filled in by the
 * adapter).  The buffer may be modified in place (decryption). */
void wg_device_receive_datagram(struct wg_device *dev,
    const struct wg_endpoint *from, uint8_t *buf, size_t len);
/* An IP packet was read from the TUN device. */
void wg_device_send_packet(struct wg_device *dev, const uint8_t *packet,
    size_t len);

/* Batching.  Between begin() and end(), the transport data messages the
 * calls above produce gather in the device, a run of them per peer, and
 * leave through ops->send_udp_batch: when a message for another peer
 * comes, when the batch is full, before any other datagram (so the order
 * on the wire is kept), before the peer is removed, and at end().
 * Outside begin()/end() every datagram leaves at once through
 * ops->send_udp.  The adapter brackets each readable event with them, so
 * a TCP super-packet's segments, once encrypted, leave together. */
void wg_device_batch_begin(struct wg_device *dev);
void wg_device_batch_end(struct wg_device *dev);

/* Timers: run whatever is due, and when the next thing is due (absolute
 * ops->now() nanoseconds, UINT64_MAX when nothing is pending). */
void wg_device_tick(struct wg_device *dev);
uint64_t wg_device_next_deadline(const struct wg_device *dev);

const struct wg_device_stats *wg_device_get_stats(const struct wg_device *dev);

#endif
