/* The UDP side of the daemon's data path, as one module that owns its
 * resources: the two sockets (udp.h), their libev watchers, the receive
 * buffers and loop (recvmmsg, UDP GRO super-datagrams cut back into
 * datagrams), and the batch sender (txbatch.h, UDP GSO).
 *
 * udp.h and txbatch.h are this module's socket half (the system calls,
 * no loop); the daemon sees only this header.
 *
 * Life: init() opens the sockets; start() begins watching them on a
 * loop; stop() stops the watchers; uninit() closes and frees everything.
 * A port change (set_port) moves the watchers to the new sockets. */
#ifndef WG_UDP_IO_H
#define WG_UDP_IO_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "offload.h"
#include "txbatch.h"
#include "udp.h"

enum {
	WG_UDP_IO_BATCH = 16,		/* messages per recvmmsg */
};

struct wg_udp_io_events {
	void *ctx;
	/* Around each readable event: begin(), then datagram() for each
	 * datagram received (buf may be modified, valid during the call
	 * only), then end(). */
	void (*begin)(void *ctx);
	void (*datagram)(void *ctx, const struct wg_endpoint *from,
	    uint8_t *buf, size_t len);
	void (*end)(void *ctx);
};

struct wg_udp_io {
	struct wg_udp udp;
	struct ev_loop *loop;
	struct wg_udp_io_events ev;
	ev_io watcher4, watcher6;
	bool gro;		/* receiving UDP GRO super-datagrams */
	uint64_t truncated;	/* datagrams larger than ours */
	struct wg_txbatch tx;
	struct wg_udp_msg rx[WG_UDP_IO_BATCH];
	uint8_t *rx_bufs;
};

/* Opens the sockets on a port the kernel picks, with the offloads o
 * allows.  Returns 0 or a negative errno; nothing is left open on
 * failure. */
int wg_udp_io_init(struct wg_udp_io *u, const struct wg_offloads *o);
void wg_udp_io_start(struct wg_udp_io *u, struct ev_loop *loop,
    const struct wg_udp_io_events *ev);
void wg_udp_io_stop(struct wg_udp_io *u);
void wg_udp_io_uninit(struct wg_udp_io *u);

/* The listening port and its change (logged either way; a failure
 * changes nothing), as the UAPI's listen_port. */
uint16_t wg_udp_io_port(const struct wg_udp_io *u);
int wg_udp_io_set_port(struct wg_udp_io *u, uint16_t port);
uint32_t wg_udp_io_fwmark(const struct wg_udp_io *u);
int wg_udp_io_set_fwmark(struct wg_udp_io *u, uint32_t mark);

/* One datagram, and a batch for one endpoint (ops->send_udp and
 * ops->send_udp_batch of device.h). */
int wg_udp_io_send(struct wg_udp_io *u, struct wg_endpoint *ep,
    const uint8_t *buf, size_t len);
int wg_udp_io_send_batch(struct wg_udp_io *u, struct wg_endpoint *ep,
    const uint8_t *buf, const size_t *lens, unsigned n);

/* Whether UDP GSO sends and GRO receives are in use. */
bool wg_udp_io_gso(const struct wg_udp_io *u);
bool wg_udp_io_gro(const struct wg_udp_io *u);

#endif
