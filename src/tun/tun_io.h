/* The TUN side of the daemon's data path, as one module that owns its
 * resources: the TUN device and its rtnetlink watch (tun.h), their libev
 * watchers, the read loop that cuts TSO super-packets into packets
 * (gso.h), and the write side that merges decrypted TCP segments into one
 * TUN write (gro.h) while a batch is open.
 *
 * tun.h is this module's device half (the system calls, no loop); the
 * daemon sees only this header.
 *
 * Life: init() opens the device; start() begins watching it on a loop;
 * stop() stops the watchers; uninit() closes everything.  What it reads
 * and learns goes to the owner through struct wg_tun_io_events. */
#ifndef WG_TUN_IO_H
#define WG_TUN_IO_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gro.h"
#include "gso.h"
#include "offload.h"
#include "tun.h"

struct wg_tun_io_events {
	void *ctx;
	/* Around each readable event: begin(), then packet() for each IP
	 * packet read (p valid during the call only), then end(). */
	void (*begin)(void *ctx);
	void (*packet)(void *ctx, const uint8_t *p, size_t len);
	void (*end)(void *ctx);
	/* The interface's MTU changed to mtu. */
	void (*mtu)(void *ctx, unsigned mtu);
	/* The device is gone (status 0: the interface was deleted) or
	 * failed (status 1); why says which in words. */
	void (*gone)(void *ctx, int status, const char *why);
};

struct wg_tun_io {
	struct wg_tun tun;
	struct ev_loop *loop;
	struct wg_tun_io_events ev;
	ev_io packet_watcher, link_watcher;
	bool gro;		/* merging writes; off after a failure */
	bool batching;		/* between batch_begin and batch_end */
	uint64_t bad;		/* packets read that we could not parse */
	struct wg_gro merged;
	uint8_t in[WG_VNET_HDR_LEN + WG_GSO_MAX_PACKET];
	uint8_t segment[WG_GSO_MAX_PACKET];
};

/* Creates the TUN device ifname with the offloads o allows.  Returns 0
 * or a negative errno (-EBUSY: the name is taken); nothing is left open
 * on failure. */
int wg_tun_io_init(struct wg_tun_io *t, const char *ifname,
    const struct wg_offloads *o);
void wg_tun_io_start(struct wg_tun_io *t, struct ev_loop *loop,
    const struct wg_tun_io_events *ev);
void wg_tun_io_stop(struct wg_tun_io *t);
void wg_tun_io_uninit(struct wg_tun_io *t);

/* Writes one decrypted IP packet.  While a batch is open, TCP segments
 * of one flow wait to leave merged at batch_end(). */
void wg_tun_io_write(struct wg_tun_io *t, const uint8_t *p, size_t len);
void wg_tun_io_batch_begin(struct wg_tun_io *t);
void wg_tun_io_batch_end(struct wg_tun_io *t);

/* The interface's MTU (WG_TUN_DEFAULT_MTU when it cannot be read). */
unsigned wg_tun_io_mtu(const struct wg_tun_io *t);
/* Whether TSO reads and GRO writes are in use. */
bool wg_tun_io_tso(const struct wg_tun_io *t);
bool wg_tun_io_gro(const struct wg_tun_io *t);

#endif
