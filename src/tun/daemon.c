/* The daemon's wiring and process life: the protocol core (device.h)
 * between the TUN side (tun_io.h) and the UDP side (udp_io.h), the UAPI
 * server (uapi.h), signals and the core's timer on one libev loop, and
 * the fork that reports setup to the parent; see daemon.h. */
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
#include "log.h"
#include "offload.h"
#include "privileges.h"
#include "common/sandbox.h"
#include "tun_io.h"
#include "uapi.h"
#include "udp_io.h"

enum {
	ERROR_LEN = 256,
};

struct daemon {
	struct ev_loop *loop;
	struct wg_device *dev;
	struct wg_offloads offloads;	/* what the switch allows */
	struct wg_tun_io tun;
	struct wg_udp_io udp;
	struct wg_uapi_server uapi;
	struct wg_uapi_server monitor;	/* read-only; fd -1 when none */
	ev_signal sigterm, sigint, sighup;
	ev_timer timer;
	ev_prepare prepare;
	uint64_t armed_deadline;
	unsigned mtu;
	int status;			/* exit status once the loop ends */
	char error[ERROR_LEN];		/* why setup failed */
};

/* ---------------------------------------------------------------- core ops */

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

static int op_send_udp(void *ctx, struct wg_endpoint *ep, const uint8_t *buf,
    size_t len)
{
	struct daemon *d = ctx;

	return wg_udp_io_send(&d->udp, ep, buf, len);
}

static int op_send_udp_batch(void *ctx, struct wg_endpoint *ep,
    const uint8_t *buf, const size_t *lens, unsigned n)
{
	struct daemon *d = ctx;

	return wg_udp_io_send_batch(&d->udp, ep, buf, lens, n);
}

static void op_write_tun(void *ctx, const uint8_t *packet, size_t len)
{
	struct daemon *d = ctx;

	wg_tun_io_write(&d->tun, packet, len);
}

static void op_log(void *ctx, enum wg_log_level level, const char *line)
{
	wg_log(level, "%s", line);
}

/* ---------------------------------------------------------------- UAPI ops */

static uint16_t uapi_get_port(void *ctx)
{
	struct daemon *d = ctx;

	return wg_udp_io_port(&d->udp);
}

static int uapi_set_port(void *ctx, uint16_t port)
{
	struct daemon *d = ctx;

	return wg_udp_io_set_port(&d->udp, port);
}

static uint32_t uapi_get_fwmark(void *ctx)
{
	struct daemon *d = ctx;

	return wg_udp_io_fwmark(&d->udp);
}

static int uapi_set_fwmark(void *ctx, uint32_t mark)
{
	struct daemon *d = ctx;

	return wg_udp_io_set_fwmark(&d->udp, mark);
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

/* Each readable event of the data path is one batch: what it makes the
 * core send leaves in UDP GSO runs, what it decrypts in merged TUN
 * writes, both before the event ends. */
static void batch_begin(void *ctx)
{
	struct daemon *d = ctx;

	wg_device_batch_begin(d->dev);
	wg_tun_io_batch_begin(&d->tun);
}

static void batch_end(void *ctx)
{
	struct daemon *d = ctx;

	wg_device_batch_end(d->dev);
	wg_tun_io_batch_end(&d->tun);
}

static void packet_from_tun(void *ctx, const uint8_t *packet, size_t len)
{
	struct daemon *d = ctx;

	wg_device_send_packet(d->dev, packet, len);
}

static void datagram_from_udp(void *ctx, const struct wg_endpoint *from,
    uint8_t *buf, size_t len)
{
	struct daemon *d = ctx;

	wg_device_receive_datagram(d->dev, from, buf, len);
}

static void mtu_changed(void *ctx, unsigned mtu)
{
	struct daemon *d = ctx;

	if (mtu == 0 || mtu == d->mtu)
		return;
	wg_log(WG_LOG_INFO, "MTU is now %u", mtu);
	d->mtu = mtu;
	wg_device_set_mtu(d->dev, mtu);
}

static void tun_gone(void *ctx, int status, const char *why)
{
	stop(ctx, status, why);
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

/* Opens everything in order, or on failure closes what it opened and
 * says why in d->error. */
static int setup(struct daemon *d, const char *ifname)
{
	const struct wg_device_ops ops = {
		.ctx = d, .now = op_now, .wall = op_wall, .random = op_random,
		.send_udp = op_send_udp, .send_udp_batch = op_send_udp_batch,
		.write_tun = op_write_tun, .log = op_log,
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
	if (ret < 0) {
		char path[WG_UAPI_PATH_SIZE];

		if (wg_uapi_socket_path(path, sizeof(path), ifname) < 0)
			snprintf(path, sizeof(path), "%s", WG_UAPI_SOCKET_DIR);
		return fail(d, ret, "%s (%s)", why, path);
	}
	/* The read-only socket is an extra: without it (no group, or the
	 * directory is not root's) the tunnel works the same. */
	ret = wg_uapi_monitor_open(&d->monitor, ifname, &why);
	if (ret == -ENOENT)
		wg_log(WG_LOG_INFO, "No group %s: no read-only monitor socket",
		    WG_UAPI_MONITOR_GROUP);
	else if (ret < 0)
		wg_log(WG_LOG_ERROR, "No read-only monitor socket: %s (%s/%s"
		    ".sock): %s", why, WG_UAPI_MONITOR_DIR, ifname,
		    strerror(-ret));
	ret = wg_tun_io_init(&d->tun, ifname, &d->offloads);
	if (ret == -EBUSY) {
		fail(d, ret, "cannot create TUN device %s (is another "
		    "interface using that name?)", ifname);
		goto err_uapi;
	}
	if (ret < 0) {
		fail(d, ret, "cannot create TUN device %s", ifname);
		goto err_uapi;
	}
	ret = wg_udp_io_init(&d->udp, &d->offloads);
	if (ret < 0) {
		fail(d, ret, "cannot open the UDP sockets");
		goto err_tun;
	}
	d->dev = wg_device_new(&ops);
	if (d->dev == NULL) {
		ret = fail(d, -ENOMEM, "cannot create the device");
		goto err_udp;
	}
	d->mtu = wg_tun_io_mtu(&d->tun);
	wg_device_set_mtu(d->dev, d->mtu);
	return 0;
err_udp:
	wg_udp_io_uninit(&d->udp);
err_tun:
	wg_tun_io_uninit(&d->tun);
err_uapi:
	wg_uapi_server_close(&d->monitor);
	wg_uapi_server_close(&d->uapi);
	return ret;
}

static void start(struct daemon *d)
{
	const struct wg_uapi_ops uapi_ops = {
		.ctx = d, .get_listen_port = uapi_get_port,
		.set_listen_port = uapi_set_port,
		.get_fwmark = uapi_get_fwmark, .set_fwmark = uapi_set_fwmark,
		.ifindex = uapi_ifindex,
	};
	const struct wg_tun_io_events tun_events = {
		.ctx = d, .begin = batch_begin, .packet = packet_from_tun,
		.end = batch_end, .mtu = mtu_changed, .gone = tun_gone,
	};
	const struct wg_udp_io_events udp_events = {
		.ctx = d, .begin = batch_begin, .datagram = datagram_from_udp,
		.end = batch_end,
	};
	struct ev_loop *loop = d->loop;

	ev_signal_init(&d->sigterm, on_signal, SIGTERM);
	ev_signal_init(&d->sigint, on_signal, SIGINT);
	ev_signal_init(&d->sighup, on_signal, SIGHUP);
	ev_init(&d->timer, on_timer);
	ev_prepare_init(&d->prepare, on_prepare);
	d->sigterm.data = d->sigint.data = d->sighup.data = d;
	d->timer.data = d->prepare.data = d;
	d->armed_deadline = UINT64_MAX;

	wg_tun_io_start(&d->tun, loop, &tun_events);
	wg_udp_io_start(&d->udp, loop, &udp_events);
	ev_signal_start(loop, &d->sigterm);
	ev_signal_start(loop, &d->sigint);
	ev_signal_start(loop, &d->sighup);
	ev_prepare_start(loop, &d->prepare);
	wg_uapi_server_start(&d->uapi, loop, d->dev, &uapi_ops, on_socket_gone,
	    d);
	if (d->monitor.fd >= 0)
		wg_uapi_server_start(&d->monitor, loop, d->dev, &uapi_ops, NULL,
		    NULL);
}

/* After a successful setup(), whether start() ran or not. */
static void teardown(struct daemon *d)
{
	/* The socket goes first: wg must not find a daemon that is gone. */
	wg_uapi_server_close(&d->uapi);
	wg_uapi_server_close(&d->monitor);
	wg_tun_io_stop(&d->tun);
	wg_udp_io_stop(&d->udp);
	wg_device_free(d->dev);
	wg_udp_io_uninit(&d->udp);
	wg_tun_io_uninit(&d->tun);
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

/* A setup failure: on stderr in the foreground, else to the parent. */
static void report_error(const struct daemon *d, bool foreground, int fd)
{
	if (foreground)
		fprintf(stderr, "wgu: %s\n", d->error);
	else
		(void)wg_write_all(fd, d->error, strlen(d->error));
}

static void log_started(const struct daemon *d, const char *ifname)
{
	wg_log(WG_LOG_INFO, "Interface %s is up, UDP port %u", ifname,
	    wg_udp_io_port(&d->udp));
	wg_log(WG_LOG_INFO, "Offloads: TUN TSO %s, TUN GRO %s, UDP GSO %s, "
	    "UDP GRO %s", wg_tun_io_tso(&d->tun) ? "on" : "off",
	    wg_tun_io_gro(&d->tun) ? "on" : "off",
	    wg_udp_io_gso(&d->udp) ? "on" : "off",
	    wg_udp_io_gro(&d->udp) ? "on" : "off");
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
	if (setup(d, ifname) < 0) {
		report_error(d, foreground, report[1]);
		goto out_free;
	}
	d->loop = ev_default_loop(EVFLAG_AUTO);
	if (d->loop == NULL) {
		snprintf(d->error, sizeof(d->error), "cannot start libev");
		report_error(d, foreground, report[1]);
		goto out;
	}
	start(d);
	log_started(d, ifname);
	if (!foreground)
		detach();
	/* sandbox: user wgu, two capabilities, the seccomp filter; after
	 * detach(), which opens /dev/null, before the success report. */
	if (wg_privileges_drop(d->error, sizeof(d->error)) < 0) {
		report_error(d, foreground, report[1]);
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
out_free:
	if (report[1] >= 0)
		close(report[1]);
	free(d);
	return status;
}
