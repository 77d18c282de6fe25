/* The daemon's event loop and process life; see daemon.h. */
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto/primitives.h"
#include "daemon.h"
#include "device.h"
#include "fdio.h"
#include "gro.h"
#include "gso.h"
#include "log.h"
#include "messages.h"
#include "offload.h"
#include "privileges.h"
#include "common/sandbox.h"
#include "tun.h"
#include "txbatch.h"
#include "uapi.h"
#include "udp.h"

enum {
	TUN_READS = 64,			/* TUN reads per readable event */
	UDP_BATCH = 16,			/* messages per recvmmsg */
	UDP_ROUNDS = 4,			/* recvmmsg calls per readable event */
	UDP_MSG_BUF = 65536,		/* a datagram or a GRO super-datagram */
	ERROR_LEN = 256,
};

struct daemon {
	struct ev_loop *loop;
	struct wg_device *dev;
	struct wg_tun tun;
	struct wg_udp udp;
	struct wg_uapi_server uapi;
	ev_io tun_watcher, netlink_watcher, udp4_watcher, udp6_watcher;
	ev_signal sigterm, sigint, sighup;
	ev_timer timer;
	ev_prepare prepare;
	uint64_t armed_deadline;
	unsigned mtu;
	int status;			/* exit status once the loop ends */
	char error[ERROR_LEN];		/* why setup failed */

	/* The data path.  While an event is handled (batching), data
	 * datagrams gather in tx for UDP GSO and decrypted TCP segments in
	 * gro for one TUN write; both are flushed before the event ends. */
	struct wg_offloads offloads;	/* what the switch allows */
	bool batching, tun_gro, udp_gro;
	uint64_t tun_bad;		/* TUN packets we could not parse */
	uint64_t udp_truncated;		/* datagrams larger than ours */
	struct wg_txbatch tx;
	struct wg_gro gro;
	struct wg_udp_msg rx[UDP_BATCH];
	uint8_t *rx_bufs;		/* UDP_BATCH * UDP_MSG_BUF */
	uint8_t tun_buf[WG_VNET_HDR_LEN + WG_GSO_MAX_PACKET];
	uint8_t segment[WG_GSO_MAX_PACKET];
};

/* ---------------------------------------------------------------- ops */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t op_now(void *ctx)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static uint64_t op_wall(void *ctx)
{
	return clock_ns(CLOCK_REALTIME);
}

static void op_random(void *ctx, void *buf, size_t len)
{
	wg_random_bytes(buf, len);
}

static void flush_tx(struct daemon *d)
{
	bool gso_failed = false;

	wg_txbatch_flush(&d->tx, &gso_failed);
	if (gso_failed)
		wg_log(WG_LOG_ERROR, "UDP GSO failed; sending datagrams one "
		    "by one from now on");
}

static int op_send_udp(void *ctx, struct wg_endpoint *ep, const uint8_t *buf,
    size_t len)
{
	struct daemon *d = ctx;
	int ret;

	/* Only data messages wait: they go to peers' endpoints, which
	 * outlive the event; a cookie reply's endpoint is on the stack. */
	if (d->batching && len > 0 && buf[0] == WG_MSG_DATA) {
		bool gso = d->tx.gso;

		wg_txbatch_add(&d->tx, ep, buf, len);
		if (gso && !d->tx.gso)
			wg_log(WG_LOG_ERROR, "UDP GSO failed; sending "
			    "datagrams one by one from now on");
		return 0;
	}
	flush_tx(d);
	ret = wg_udp_send(&d->udp, ep, buf, len);

	if (ret < 0 && wg_log_enabled(WG_LOG_DEBUG))
		wg_log(WG_LOG_DEBUG, "Failed to send a datagram: %s",
		    strerror(-ret));
	return ret;
}

static void update_mtu(struct daemon *d, unsigned mtu)
{
	if (mtu == 0 || mtu == d->mtu)
		return;
	wg_log(WG_LOG_INFO, "MTU is now %u", mtu);
	d->mtu = mtu;
	wg_device_set_mtu(d->dev, mtu);
}

static void write_one(struct daemon *d, const uint8_t *packet, size_t len)
{
	unsigned mtu;
	int ret = wg_tun_write_packet(&d->tun, packet, len);

	if (ret == -EMSGSIZE && wg_tun_get_mtu(&d->tun, &mtu) == 0)
		update_mtu(d, mtu);
	/* EIO while the interface is down is routine. */
	if (ret < 0 && wg_log_enabled(WG_LOG_DEBUG))
		wg_log(WG_LOG_DEBUG, "Failed to write a packet to %s: %s",
		    d->tun.name, strerror(-ret));
}

static void write_one_cb(void *ctx, const uint8_t *packet, size_t len)
{
	write_one(ctx, packet, len);
}

static void flush_gro(struct daemon *d)
{
	const uint8_t *p;
	struct virtio_net_hdr h;
	size_t len;
	int ret;

	p = wg_gro_packet(&d->gro, &len);
	if (p == NULL)
		return;
	ret = wg_tun_write(&d->tun, p, len);
	if (ret == -EINVAL && d->gro.segments > 1) {
		/* Kernels have shipped TUN GSO writes that fail: write the
		 * segments one by one, now and from now on. */
		wg_log(WG_LOG_ERROR, "Writing merged TCP segments to %s "
		    "failed; writing them one by one from now on",
		    d->tun.name);
		d->tun_gro = false;
		memcpy(&h, p, sizeof(h));
		(void)wg_gso_split(&h, d->gro.buf + WG_VNET_HDR_LEN,
		    len - WG_VNET_HDR_LEN, d->segment, sizeof(d->segment),
		    write_one_cb, d);
	} else if (ret < 0 && wg_log_enabled(WG_LOG_DEBUG)) {
		wg_log(WG_LOG_DEBUG, "Failed to write a packet to %s: %s",
		    d->tun.name, strerror(-ret));
	}
	wg_gro_reset(&d->gro);
}

static void op_write_tun(void *ctx, const uint8_t *packet, size_t len)
{
	struct daemon *d = ctx;

	if (d->batching && d->tun_gro) {
		if (wg_gro_offer(&d->gro, packet, len))
			return;
		flush_gro(d);
		if (wg_gro_offer(&d->gro, packet, len))
			return;
	}
	write_one(d, packet, len);
}

/* Ends what an event gathered. */
static void end_batch(struct daemon *d)
{
	flush_gro(d);
	flush_tx(d);
	d->batching = false;
}

static void op_log(void *ctx, enum wg_log_level level, const char *line)
{
	wg_log(level, "%s", line);
}

/* ---------------------------------------------------------------- UAPI ops */

static void watch_udp(struct daemon *d)
{
	ev_io_stop(d->loop, &d->udp4_watcher);
	ev_io_stop(d->loop, &d->udp6_watcher);
	ev_io_set(&d->udp4_watcher, d->udp.fd4, EV_READ);
	ev_io_set(&d->udp6_watcher, d->udp.fd6, EV_READ);
	if (d->udp.fd4 >= 0)
		ev_io_start(d->loop, &d->udp4_watcher);
	if (d->udp.fd6 >= 0)
		ev_io_start(d->loop, &d->udp6_watcher);
}

static uint16_t uapi_get_port(void *ctx)
{
	struct daemon *d = ctx;

	return d->udp.port;
}

static int uapi_set_port(void *ctx, uint16_t port)
{
	struct daemon *d = ctx;
	int ret;

	/* The watchers must not see the old descriptors closed under them. */
	ev_io_stop(d->loop, &d->udp4_watcher);
	ev_io_stop(d->loop, &d->udp6_watcher);
	ret = wg_udp_rebind(&d->udp, port);
	if (ret == 0 && d->udp_gro && !wg_udp_enable_gro(&d->udp))
		d->udp_gro = false;
	watch_udp(d);
	if (ret < 0)
		wg_log(WG_LOG_ERROR, "Cannot listen on UDP port %u: %s", port,
		    strerror(-ret));
	else
		wg_log(WG_LOG_INFO, "Listening on UDP port %u", d->udp.port);
	return ret;
}

static uint32_t uapi_get_fwmark(void *ctx)
{
	struct daemon *d = ctx;

	return d->udp.fwmark;
}

static int uapi_set_fwmark(void *ctx, uint32_t mark)
{
	struct daemon *d = ctx;
	int ret = wg_udp_set_fwmark(&d->udp, mark);

	if (ret < 0)
		wg_log(WG_LOG_ERROR, "Cannot set fwmark: %s", strerror(-ret));
	return ret;
}

static unsigned uapi_ifindex(void *ctx, const char *name)
{
	return if_nametoindex(name);
}

/* ---------------------------------------------------------------- events */

static void stop(struct daemon *d, int status, const char *why)
{
	wg_log(status ? WG_LOG_ERROR : WG_LOG_INFO, "Shutting down: %s", why);
	d->status = status;
	ev_break(d->loop, EVBREAK_ALL);
}

static void interface_gone(struct daemon *d)
{
	stop(d, 0, "the interface was deleted");
}

static void packet_to_core(void *ctx, const uint8_t *packet, size_t len)
{
	struct daemon *d = ctx;

	wg_device_send_packet(d->dev, packet, len);
}

/* One packet read from the TUN, perhaps a TSO super-packet. */
static void packet_from_tun(struct daemon *d, size_t n)
{
	struct virtio_net_hdr h;
	int ret;

	if (!d->tun.vnet_hdr) {
		wg_device_send_packet(d->dev, d->tun_buf, n);
		return;
	}
	if (n < WG_VNET_HDR_LEN) {
		d->tun_bad++;
		return;
	}
	memcpy(&h, d->tun_buf, sizeof(h));
	ret = wg_gso_split(&h, d->tun_buf + WG_VNET_HDR_LEN,
	    n - WG_VNET_HDR_LEN, d->segment, sizeof(d->segment),
	    packet_to_core, d);
	if (ret < 0) {
		d->tun_bad++;
		if (wg_log_enabled(WG_LOG_DEBUG))
			wg_log(WG_LOG_DEBUG, "Dropping a packet from %s: %s",
			    d->tun.name, strerror(-ret));
	}
}

static void read_tun(struct daemon *d)
{
	ssize_t n;
	int i;

	for (i = 0; i < TUN_READS; i++) {
		n = wg_tun_read(&d->tun, d->tun_buf, sizeof(d->tun_buf));
		if (n == -EAGAIN)
			return;
		if (n < 0) {
			/* EBADFD once the device is deleted (tun.c). */
			if (!wg_tun_exists(&d->tun) || n == -EBADFD)
				interface_gone(d);
			else
				stop(d, 1, "reading the TUN device failed");
			return;
		}
		packet_from_tun(d, (size_t)n);
	}
}

static void on_tun(struct ev_loop *loop, ev_io *w, int revents)
{
	struct daemon *d = w->data;

	d->batching = true;
	read_tun(d);
	end_batch(d);
}

/* One received message: a datagram, or with UDP GRO several of equal
 * size back to back. */
static void message_to_core(struct daemon *d, struct wg_udp_msg *m)
{
	size_t off, n, seg = m->seg_size ? m->seg_size : m->len;

	if (m->truncated) {
		d->udp_truncated++;
		return;
	}
	for (off = 0; off < m->len; off += n) {
		n = m->len - off < seg ? m->len - off : seg;
		wg_device_receive_datagram(d->dev, &m->from, m->buf + off, n);
	}
}

static void read_udp(struct daemon *d, int fd)
{
	int round, got, i;

	for (round = 0; round < UDP_ROUNDS; round++) {
		for (i = 0; i < UDP_BATCH; i++) {
			d->rx[i].buf = d->rx_bufs + (size_t)i * UDP_MSG_BUF;
			d->rx[i].cap = UDP_MSG_BUF;
		}
		got = wg_udp_recv_batch(fd, d->rx, UDP_BATCH);
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
			message_to_core(d, &d->rx[i]);
		if (got < UDP_BATCH)
			return;
	}
}

static void on_udp(struct ev_loop *loop, ev_io *w, int revents)
{
	struct daemon *d = w->data;

	d->batching = true;
	read_udp(d, w->fd);
	end_batch(d);
}

static void on_netlink(struct ev_loop *loop, ev_io *w, int revents)
{
	struct daemon *d = w->data;
	bool deleted = false;
	unsigned mtu = 0;

	if (wg_tun_monitor(&d->tun, &deleted, &mtu) == -ENOBUFS) {
		/* Messages were lost: look for ourselves. */
		deleted = true;
		if (wg_tun_get_mtu(&d->tun, &mtu) < 0)
			mtu = 0;
	}
	update_mtu(d, mtu);
	/* DELLINK is also sent when the interface moves to another network
	 * namespace, where it keeps working: the descriptor decides. */
	if (deleted && !wg_tun_exists(&d->tun))
		interface_gone(d);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon *d = w->data;

	stop(d, 0, strsignal(w->signum));
}

static void on_socket_gone(void *ctx)
{
	stop(ctx, 0, "the UAPI socket was removed");
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon *d = w->data;

	d->armed_deadline = UINT64_MAX;
	wg_device_tick(d->dev);
}

/* Before the loop sleeps: the core's next deadline may have moved. */
static void on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct daemon *d = w->data;
	uint64_t deadline = wg_device_next_deadline(d->dev), now;

	if (deadline == d->armed_deadline && ev_is_active(&d->timer))
		return;
	ev_timer_stop(loop, &d->timer);
	d->armed_deadline = deadline;
	if (deadline == UINT64_MAX)
		return;
	now = op_now(d);
	ev_timer_set(&d->timer, deadline > now ? (double)(deadline - now) / 1e9 :
	    0., 0.);
	ev_timer_start(loop, &d->timer);
}

/* ---------------------------------------------------------------- setup */

__attribute__((format(printf, 3, 4)))
static int fail(struct daemon *d, int ret, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(d->error, sizeof(d->error), fmt, ap);
	va_end(ap);
	n = strlen(d->error);
	snprintf(d->error + n, sizeof(d->error) - n, ": %s", strerror(-ret));
	return ret;
}

static int setup(struct daemon *d, const char *ifname)
{
	const struct wg_device_ops ops = {
		.ctx = d, .now = op_now, .wall = op_wall, .random = op_random,
		.send_udp = op_send_udp, .write_tun = op_write_tun,
		.log = op_log,
	};
	const char *why;
	char bad[32];
	int ret;

	ret = wg_offloads_parse(&d->offloads, getenv(WG_OFFLOAD_ENV), bad,
	    sizeof(bad));
	if (ret < 0)
		return fail(d, ret, "%s: unknown offload \"%s\" (known: all, "
		    "tun-tso, tun-gro, udp-gso, udp-gro)", WG_OFFLOAD_ENV, bad);
	/* The socket first: a daemon already serving this name is the
	 * clearest error, before the TUN device reports "busy". */
	ret = wg_uapi_server_open(&d->uapi, ifname, &why);
	if (ret < 0)
		return fail(d, ret, "%s (%s/%s.sock)", why, WG_UAPI_SOCKET_DIR,
		    ifname);
	ret = wg_tun_open(&d->tun, ifname,
	    d->offloads.tun_tso || d->offloads.tun_gro, d->offloads.tun_tso);
	if (ret == -EBUSY)
		return fail(d, ret, "cannot create TUN device %s (is another "
		    "interface using that name?)", ifname);
	if (ret < 0)
		return fail(d, ret, "cannot create TUN device %s", ifname);
	ret = wg_udp_open(&d->udp, 0, 0);
	if (ret < 0)
		return fail(d, ret, "cannot open the UDP sockets");
	d->tun_gro = d->offloads.tun_gro && d->tun.vnet_hdr;
	d->udp_gro = d->offloads.udp_gro && wg_udp_enable_gro(&d->udp);
	wg_txbatch_init(&d->tx, &d->udp, d->offloads.udp_gso);
	wg_gro_reset(&d->gro);
	d->rx_bufs = malloc((size_t)UDP_BATCH * UDP_MSG_BUF);
	if (d->rx_bufs == NULL)
		return fail(d, -ENOMEM, "cannot allocate receive buffers");
	d->dev = wg_device_new(&ops);
	if (d->dev == NULL)
		return fail(d, -ENOMEM, "cannot create the device");
	if (wg_tun_get_mtu(&d->tun, &d->mtu) < 0)
		d->mtu = WG_TUN_DEFAULT_MTU;
	wg_device_set_mtu(d->dev, d->mtu);
	return 0;
}

static void start_watchers(struct daemon *d)
{
	const struct wg_uapi_ops uapi_ops = {
		.ctx = d, .get_listen_port = uapi_get_port,
		.set_listen_port = uapi_set_port,
		.get_fwmark = uapi_get_fwmark, .set_fwmark = uapi_set_fwmark,
		.ifindex = uapi_ifindex,
	};
	struct ev_loop *loop = d->loop;

	ev_io_init(&d->tun_watcher, on_tun, d->tun.fd, EV_READ);
	ev_io_init(&d->netlink_watcher, on_netlink, d->tun.netlink_fd, EV_READ);
	ev_init(&d->udp4_watcher, on_udp);
	ev_init(&d->udp6_watcher, on_udp);
	ev_signal_init(&d->sigterm, on_signal, SIGTERM);
	ev_signal_init(&d->sigint, on_signal, SIGINT);
	ev_signal_init(&d->sighup, on_signal, SIGHUP);
	ev_init(&d->timer, on_timer);
	ev_prepare_init(&d->prepare, on_prepare);
	d->tun_watcher.data = d->netlink_watcher.data = d;
	d->udp4_watcher.data = d->udp6_watcher.data = d;
	d->sigterm.data = d->sigint.data = d->sighup.data = d;
	d->timer.data = d->prepare.data = d;
	d->armed_deadline = UINT64_MAX;

	ev_io_start(loop, &d->tun_watcher);
	ev_io_start(loop, &d->netlink_watcher);
	watch_udp(d);
	ev_signal_start(loop, &d->sigterm);
	ev_signal_start(loop, &d->sigint);
	ev_signal_start(loop, &d->sighup);
	ev_prepare_start(loop, &d->prepare);
	wg_uapi_server_start(&d->uapi, loop, d->dev, &uapi_ops, on_socket_gone,
	    d);
}

static void teardown(struct daemon *d)
{
	/* The socket goes first: wg must not find a daemon that is gone. */
	wg_uapi_server_close(&d->uapi);
	if (d->dev)
		wg_device_free(d->dev);
	wg_udp_close(&d->udp);
	wg_tun_close(&d->tun);
	free(d->rx_bufs);
}

/* ---------------------------------------------------------------- process */

/* The parent: waits for the child's verdict ("" = success, else the
 * error message) and turns it into an exit status. */
static int await_child(pid_t pid, int fd)
{
	char msg[ERROR_LEN + 1];
	size_t len;
	int status;

	len = wg_read_full(fd, msg, sizeof(msg) - 1);
	close(fd);
	msg[len] = '\0';
	if (len == 1 && msg[0] == '\n')
		return 0;
	waitpid(pid, &status, 0);
	if (len == 0)
		fprintf(stderr, "wgu: the daemon exited during setup\n");
	else
		fprintf(stderr, "wgu: %s\n", msg);
	return 1;
}

/* In the child once set up: leave the terminal, log to syslog. */
static void detach(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	if (chdir("/") < 0) {
		/* Harmless: only keeps a mount busy. */
	}
	wg_log_use_syslog();
}

int wg_daemon_main(const char *ifname, bool foreground)
{
	struct daemon *d;
	int report[2] = { -1, -1 }, status = 1;
	pid_t pid;

	sandbox_close_inherited();	/* sandbox: before anything opens */
	wg_log_init(ifname);
	signal(SIGPIPE, SIG_IGN);
	if (!foreground) {
		if (pipe2(report, O_CLOEXEC) < 0) {
			fprintf(stderr, "wgu: pipe: %s\n", strerror(errno));
			return 1;
		}
		pid = fork();
		if (pid < 0) {
			fprintf(stderr, "wgu: fork: %s\n", strerror(errno));
			return 1;
		}
		if (pid > 0) {
			close(report[1]);
			return await_child(pid, report[0]);
		}
		close(report[0]);
		setsid();
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		fprintf(stderr, "wgu: out of memory\n");
		return 1;
	}
	d->tun.fd = d->tun.netlink_fd = d->udp.fd4 = d->udp.fd6 = -1;
	d->uapi.fd = -1;
	if (setup(d, ifname) < 0) {
		if (foreground)
			fprintf(stderr, "wgu: %s\n", d->error);
		else
			(void)wg_write_all(report[1], d->error,
			    strlen(d->error));
		goto out;
	}
	d->loop = ev_default_loop(EVFLAG_AUTO);
	if (d->loop == NULL) {
		snprintf(d->error, sizeof(d->error), "cannot start libev");
		if (foreground)
			fprintf(stderr, "wgu: %s\n", d->error);
		else
			(void)wg_write_all(report[1], d->error,
			    strlen(d->error));
		goto out;
	}
	start_watchers(d);
	wg_log(WG_LOG_INFO, "Interface %s is up, UDP port %u", ifname,
	    d->udp.port);
	wg_log(WG_LOG_INFO, "Offloads: TUN TSO %s, TUN GRO %s, UDP GSO %s, "
	    "UDP GRO %s", d->tun.tso ? "on" : "off", d->tun_gro ? "on" : "off",
	    d->tx.gso ? "on" : "off", d->udp_gro ? "on" : "off");
	if (!foreground)
		detach();
	/* sandbox: user wgu, two capabilities, the seccomp filter; after
	 * detach(), which opens /dev/null, before the success report. */
	if (wg_privileges_drop(d->error, sizeof(d->error)) < 0) {
		if (foreground)
			fprintf(stderr, "wgu: %s\n", d->error);
		else
			(void)wg_write_all(report[1], d->error,
			    strlen(d->error));
		goto out;
	}
	if (!foreground) {
		(void)wg_write_all(report[1], "\n", 1);
		close(report[1]);
		report[1] = -1;
	}
	ev_run(d->loop, 0);
	status = d->status;
out:
	teardown(d);
	if (report[1] >= 0)
		close(report[1]);
	free(d);
	return status;
}
