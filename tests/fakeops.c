/* Device ops without an OS for tests, fuzzers and the benchmark; see
 * fakeops.h. */
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
