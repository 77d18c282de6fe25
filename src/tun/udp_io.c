/* The UDP side of the data path: receiving, sending, and watching the
 * sockets; see udp_io.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "udp_io.h"

enum {
	UDP_ROUNDS = 4,			/* recvmmsg calls per readable event */
	UDP_MSG_BUF = 65536,		/* a datagram or a GRO super-datagram */
};

int wg_udp_io_init(struct wg_udp_io *u, const struct wg_offloads *o)
{
	int ret;

	u->rx_bufs = malloc((size_t)WG_UDP_IO_BATCH * UDP_MSG_BUF);
	if (u->rx_bufs == NULL)
		return -ENOMEM;
	ret = wg_udp_open(&u->udp, 0, 0);
	if (ret < 0) {
		free(u->rx_bufs);
		u->rx_bufs = NULL;
		return ret;
	}
	u->loop = NULL;
	u->gro = o->udp_gro && wg_udp_enable_gro(&u->udp);
	u->truncated = 0;
	wg_txbatch_init(&u->tx, &u->udp, o->udp_gso);
	return 0;
}

void wg_udp_io_uninit(struct wg_udp_io *u)
{
	wg_udp_close(&u->udp);
	free(u->rx_bufs);
	u->rx_bufs = NULL;
}

uint16_t wg_udp_io_port(const struct wg_udp_io *u)
{
	return u->udp.port;
}

uint32_t wg_udp_io_fwmark(const struct wg_udp_io *u)
{
	return u->udp.fwmark;
}

int wg_udp_io_set_fwmark(struct wg_udp_io *u, uint32_t mark)
{
	int ret = wg_udp_set_fwmark(&u->udp, mark);

	if (ret < 0)
		wg_log(WG_LOG_ERROR, "Cannot set fwmark: %s", strerror(-ret));
	return ret;
}

bool wg_udp_io_gso(const struct wg_udp_io *u)
{
	return u->tx.gso;
}

bool wg_udp_io_gro(const struct wg_udp_io *u)
{
	return u->gro;
}

/* ---------------------------------------------------------------- sending */

int wg_udp_io_send(struct wg_udp_io *u, struct wg_endpoint *ep,
    const uint8_t *buf, size_t len)
{
	int ret = wg_udp_send(&u->udp, ep, buf, len);

	if (ret < 0 && wg_log_enabled(WG_LOG_DEBUG))
		wg_log(WG_LOG_DEBUG, "Failed to send a datagram: %s",
		    strerror(-ret));
	return ret;
}

int wg_udp_io_send_batch(struct wg_udp_io *u, struct wg_endpoint *ep,
    const uint8_t *buf, const size_t *lens, unsigned n)
{
	return wg_txbatch_send(&u->tx, ep, buf, lens, n);
}

/* ---------------------------------------------------------------- receiving */

/* One received message: a datagram, or with UDP GRO several of equal
 * size back to back. */
static void message_received(struct wg_udp_io *u, struct wg_udp_msg *m)
{
	size_t off, n, seg = m->seg_size ? m->seg_size : m->len;

	if (m->truncated) {
		u->truncated++;
		return;
	}
	for (off = 0; off < m->len; off += n) {
		n = m->len - off < seg ? m->len - off : seg;
		u->ev.datagram(u->ev.ctx, &m->from, m->buf + off, n);
	}
}

static void read_messages(struct wg_udp_io *u, int fd)
{
	int round, got, i;

	for (round = 0; round < UDP_ROUNDS; round++) {
		for (i = 0; i < WG_UDP_IO_BATCH; i++) {
			u->rx[i].buf = u->rx_bufs + (size_t)i * UDP_MSG_BUF;
			u->rx[i].cap = UDP_MSG_BUF;
		}
		got = wg_udp_recv_batch(fd, u->rx, WG_UDP_IO_BATCH);
		if (got == -EAGAIN)
			return;
		/* ICMP errors surface as ECONNREFUSED and the like: each
		 * concerns one datagram, already consumed, not the
		 * socket. */
		if (got < 0) {
			if (wg_log_enabled(WG_LOG_DEBUG))
				wg_log(WG_LOG_DEBUG, "UDP receive: %s",
				    strerror(-got));
			continue;
		}
		for (i = 0; i < got; i++)
			message_received(u, &u->rx[i]);
		if (got < WG_UDP_IO_BATCH)
			return;
	}
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct wg_udp_io *u = w->data;

	u->ev.begin(u->ev.ctx);
	read_messages(u, w->fd);
	u->ev.end(u->ev.ctx);
}

/* ---------------------------------------------------------------- watching */

static void unwatch(struct wg_udp_io *u)
{
	ev_io_stop(u->loop, &u->watcher4);
	ev_io_stop(u->loop, &u->watcher6);
}

static void watch(struct wg_udp_io *u)
{
	ev_io_set(&u->watcher4, u->udp.fd4, EV_READ);
	ev_io_set(&u->watcher6, u->udp.fd6, EV_READ);
	if (u->udp.fd4 >= 0)
		ev_io_start(u->loop, &u->watcher4);
	if (u->udp.fd6 >= 0)
		ev_io_start(u->loop, &u->watcher6);
}

void wg_udp_io_start(struct wg_udp_io *u, struct ev_loop *loop,
    const struct wg_udp_io_events *ev)
{
	u->loop = loop;
	u->ev = *ev;
	ev_init(&u->watcher4, on_readable);
	ev_init(&u->watcher6, on_readable);
	u->watcher4.data = u->watcher6.data = u;
	watch(u);
}

void wg_udp_io_stop(struct wg_udp_io *u)
{
	if (u->loop == NULL)
		return;
	unwatch(u);
	u->loop = NULL;
}

int wg_udp_io_set_port(struct wg_udp_io *u, uint16_t port)
{
	int ret;

	/* The watchers must not see the old descriptors closed under them. */
	if (u->loop != NULL)
		unwatch(u);
	ret = wg_udp_rebind(&u->udp, port);
	if (ret == 0 && u->gro && !wg_udp_enable_gro(&u->udp))
		u->gro = false;
	if (u->loop != NULL)
		watch(u);
	if (ret < 0)
		wg_log(WG_LOG_ERROR, "Cannot listen on UDP port %u: %s", port,
		    strerror(-ret));
	else
		wg_log(WG_LOG_INFO, "Listening on UDP port %u", u->udp.port);
	return ret;
}
