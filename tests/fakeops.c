/* Device and UAPI ops without an OS for tests, fuzzers and the
 * benchmark; see fakeops.h. */
#include <errno.h>
#include <string.h>

#include "fakeops.h"

static uint64_t fake_now(void *ctx)
{
	const struct fake_ops *f = ctx;

	return f->now;
}

static uint64_t fake_wall(void *ctx)
{
	const struct fake_ops *f = ctx;

	return FAKE_OPS_WALL_BASE_NS + f->now;
}

void fake_ops_random(void *ctx, void *buf, size_t len)
{
	struct fake_ops *f = ctx;
	uint8_t *p = buf;

	while (len-- > 0) {
		f->rng = f->rng * 6364136223846793005ULL +
		    1442695040888963407ULL;
		*p++ = f->zero_random ? 0 : (uint8_t)(f->rng >> 33);
	}
}

static int fake_send(void *ctx, struct wg_endpoint *ep, const uint8_t *buf,
    size_t len)
{
	struct fake_ops *f = ctx;

	f->sends++;
	return f->on_send ? f->on_send(f->ctx, ep, buf, len) : 0;
}

int fake_ops_unbatch(int (*send)(void *ctx, struct wg_endpoint *ep,
    const uint8_t *buf, size_t len), void *ctx, struct wg_endpoint *ep,
    const uint8_t *buf, const size_t *lens, unsigned n)
{
	unsigned i;
	int ret, last = 0;

	for (i = 0; i < n; buf += lens[i], i++) {
		ret = send(ctx, ep, buf, lens[i]);
		if (ret < 0)
			last = ret;
	}
	return last;
}

static int fake_send_batch(void *ctx, struct wg_endpoint *ep,
    const uint8_t *buf, const size_t *lens, unsigned n)
{
	struct fake_ops *f = ctx;

	f->batches++;
	return fake_ops_unbatch(fake_send, f, ep, buf, lens, n);
}

static void fake_write_tun(void *ctx, const uint8_t *p, size_t len)
{
	struct fake_ops *f = ctx;

	f->tun_writes++;
	if (f->on_tun)
		f->on_tun(f->ctx, p, len);
}

static void fake_log(void *ctx, enum wg_log_level level, const char *line)
{
	struct fake_ops *f = ctx;

	if (f->on_log)
		f->on_log(f->ctx, level, line);
}

struct wg_device_ops fake_ops_make(struct fake_ops *f)
{
	struct wg_device_ops ops = {
		.ctx = f, .now = fake_now, .wall = fake_wall,
		.random = fake_ops_random, .send_udp = fake_send,
		.send_udp_batch = fake_send_batch, .write_tun = fake_write_tun,
		.log = fake_log,
	};

	return ops;
}

/* ---------------------------------------------------------------- UAPI */

static uint16_t uapi_get_port(void *ctx)
{
	const struct fake_uapi *f = ctx;

	return f->port;
}

static int uapi_set_port(void *ctx, uint16_t port)
{
	struct fake_uapi *f = ctx;

	if (port != 0 && port == f->taken_port)
		return -EADDRINUSE;
	f->port = port ? port : 40000;
	return 0;
}

static uint32_t uapi_get_fwmark(void *ctx)
{
	const struct fake_uapi *f = ctx;

	return f->fwmark;
}

static int uapi_set_fwmark(void *ctx, uint32_t mark)
{
	struct fake_uapi *f = ctx;

	f->fwmark = mark;
	return 0;
}

static unsigned uapi_ifindex(void *ctx, const char *name)
{
	return strcmp(name, "eth0") == 0 ? 2 : 0;
}

struct wg_uapi_ops fake_uapi_make(struct fake_uapi *f)
{
	struct wg_uapi_ops ops = {
		.ctx = f, .get_listen_port = uapi_get_port,
		.set_listen_port = uapi_set_port,
		.get_fwmark = uapi_get_fwmark, .set_fwmark = uapi_set_fwmark,
		.ifindex = uapi_ifindex,
	};

	return ops;
}
