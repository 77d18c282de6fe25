/* The TUN side of the data path: reading (TSO split), writing (GRO
 * merge), and watching the device; see tun_io.h. */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "tun_io.h"

enum {
	TUN_READS = 64,			/* TUN reads per readable event */
};

int wg_tun_io_init(struct wg_tun_io *t, const char *ifname,
    const struct wg_offloads *o)
{
	int ret;

	ret = wg_tun_open(&t->tun, ifname, o->tun_tso || o->tun_gro,
	    o->tun_tso);
	if (ret < 0)
		return ret;
	t->loop = NULL;
	t->gro = o->tun_gro && t->tun.vnet_hdr;
	t->batching = false;
	t->bad = 0;
	wg_gro_reset(&t->merged);
	return 0;
}

void wg_tun_io_uninit(struct wg_tun_io *t)
{
	wg_tun_close(&t->tun);
}

unsigned wg_tun_io_mtu(const struct wg_tun_io *t)
{
	unsigned mtu;

	if (wg_tun_get_mtu(&t->tun, &mtu) < 0)
		return WG_TUN_DEFAULT_MTU;
	return mtu;
}

bool wg_tun_io_tso(const struct wg_tun_io *t)
{
	return t->tun.tso;
}

bool wg_tun_io_gro(const struct wg_tun_io *t)
{
	return t->gro;
}

/* ---------------------------------------------------------------- writing */

static void write_one(struct wg_tun_io *t, const uint8_t *p, size_t len)
{
	unsigned mtu;
	int ret = wg_tun_write_packet(&t->tun, p, len);

	if (ret == -EMSGSIZE && wg_tun_get_mtu(&t->tun, &mtu) == 0)
		t->ev.mtu(t->ev.ctx, mtu);
	/* EIO while the interface is down is routine. */
	if (ret < 0 && wg_log_enabled(WG_LOG_DEBUG))
		wg_log(WG_LOG_DEBUG, "Failed to write a packet to %s: %s",
		    t->tun.name, strerror(-ret));
}

static void write_one_cb(void *ctx, const uint8_t *p, size_t len)
{
	write_one(ctx, p, len);
}

static void flush_merged(struct wg_tun_io *t)
{
	const uint8_t *p;
	struct virtio_net_hdr h;
	size_t len;
	int ret;

	p = wg_gro_packet(&t->merged, &len);
	if (p == NULL)
		return;
	ret = wg_tun_write(&t->tun, p, len);
	if (ret == -EINVAL && t->merged.segments > 1) {
		/* Kernels have shipped TUN GSO writes that fail: write the
		 * segments one by one, now and from now on. */
		wg_log(WG_LOG_ERROR, "Writing merged TCP segments to %s "
		    "failed; writing them one by one from now on",
		    t->tun.name);
		t->gro = false;
		memcpy(&h, p, sizeof(h));
		(void)wg_gso_split(&h, t->merged.buf + WG_VNET_HDR_LEN,
		    len - WG_VNET_HDR_LEN, t->segment, sizeof(t->segment),
		    write_one_cb, t);
	} else if (ret < 0 && wg_log_enabled(WG_LOG_DEBUG)) {
		wg_log(WG_LOG_DEBUG, "Failed to write a packet to %s: %s",
		    t->tun.name, strerror(-ret));
	}
	wg_gro_reset(&t->merged);
}

void wg_tun_io_write(struct wg_tun_io *t, const uint8_t *p, size_t len)
{
	if (t->batching && t->gro) {
		if (wg_gro_offer(&t->merged, p, len))
			return;
		flush_merged(t);
		if (wg_gro_offer(&t->merged, p, len))
			return;
	}
	write_one(t, p, len);
}

void wg_tun_io_batch_begin(struct wg_tun_io *t)
{
	t->batching = true;
}

void wg_tun_io_batch_end(struct wg_tun_io *t)
{
	flush_merged(t);
	t->batching = false;
}

/* ---------------------------------------------------------------- reading */

/* One packet read from the TUN, perhaps a TSO super-packet. */
static void packet_read(struct wg_tun_io *t, size_t n)
{
	struct virtio_net_hdr h;
	int ret;

	if (!t->tun.vnet_hdr) {
		t->ev.packet(t->ev.ctx, t->in, n);
		return;
	}
	if (n < WG_VNET_HDR_LEN) {
		t->bad++;
		return;
	}
	memcpy(&h, t->in, sizeof(h));
	ret = wg_gso_split(&h, t->in + WG_VNET_HDR_LEN, n - WG_VNET_HDR_LEN,
	    t->segment, sizeof(t->segment), t->ev.packet, t->ev.ctx);
	if (ret < 0) {
		t->bad++;
		if (wg_log_enabled(WG_LOG_DEBUG))
			wg_log(WG_LOG_DEBUG, "Dropping a packet from %s: %s",
			    t->tun.name, strerror(-ret));
	}
}

static void read_packets(struct wg_tun_io *t)
{
	ssize_t n;
	int i;

	for (i = 0; i < TUN_READS; i++) {
		n = wg_tun_read(&t->tun, t->in, sizeof(t->in));
		if (n == -EAGAIN)
			return;
		if (n < 0) {
			/* EBADFD once the device is deleted (tun.c). */
			if (!wg_tun_exists(&t->tun) || n == -EBADFD)
				t->ev.gone(t->ev.ctx, 0,
				    "the interface was deleted");
			else
				t->ev.gone(t->ev.ctx, 1,
				    "reading the TUN device failed");
			return;
		}
		packet_read(t, (size_t)n);
	}
}

static void on_packets(struct ev_loop *loop, ev_io *w, int revents)
{
	struct wg_tun_io *t = w->data;

	t->ev.begin(t->ev.ctx);
	read_packets(t);
	t->ev.end(t->ev.ctx);
}

static void on_link(struct ev_loop *loop, ev_io *w, int revents)
{
	struct wg_tun_io *t = w->data;
	bool deleted = false;
	unsigned mtu = 0;

	if (wg_tun_monitor(&t->tun, &deleted, &mtu) == -ENOBUFS) {
		/* Messages were lost: look for ourselves. */
		deleted = true;
		if (wg_tun_get_mtu(&t->tun, &mtu) < 0)
			mtu = 0;
	}
	if (mtu != 0)
		t->ev.mtu(t->ev.ctx, mtu);
	/* DELLINK is also sent when the interface moves to another network
	 * namespace, where it keeps working: the descriptor decides. */
	if (deleted && !wg_tun_exists(&t->tun))
		t->ev.gone(t->ev.ctx, 0, "the interface was deleted");
}

void wg_tun_io_start(struct wg_tun_io *t, struct ev_loop *loop,
    const struct wg_tun_io_events *ev)
{
	t->loop = loop;
	t->ev = *ev;
	ev_io_init(&t->packet_watcher, on_packets, t->tun.fd, EV_READ);
	ev_io_init(&t->link_watcher, on_link, t->tun.netlink_fd, EV_READ);
	t->packet_watcher.data = t->link_watcher.data = t;
	ev_io_start(loop, &t->packet_watcher);
	ev_io_start(loop, &t->link_watcher);
}

void wg_tun_io_stop(struct wg_tun_io *t)
{
	if (t->loop == NULL)
		return;
	ev_io_stop(t->loop, &t->packet_watcher);
	ev_io_stop(t->loop, &t->link_watcher);
	t->loop = NULL;
}
