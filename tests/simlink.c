/* The simulated link and clock of simlink.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakeops.h"
#include "simlink.h"

/* Enough device calls for hours of simulated traffic; more means a
 * deadline that never moves (a bug the tests must see, not hang on). */
#define SIM_EVENT_CAP 50000000ULL

struct sim_datagram {
	uint64_t at, seq;
	struct sim_node *from;
	struct wg_endpoint src, dst;
	size_t len;
	uint8_t *data;
};

struct sim {
	uint64_t now;
	uint64_t rng;
	uint64_t seq;
	uint64_t events;
	bool stuck;
	struct sim_impair imp;
	sim_filter_fn *filter;
	void *filter_ctx;

	struct sim_node *nodes[SIM_MAX_NODES];
	size_t nnodes;

	struct sim_datagram *q;
	size_t qlen, qcap;

	char *forbidden[SIM_MAX_FORBIDDEN];
	size_t nforbidden;
	uint64_t log_leaks, log_lines;
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL) {
		fprintf(stderr, "simlink: out of memory\n");
		abort();
	}
	return p;
}

/* splitmix64: small, fast and plenty for a simulation. */
static uint64_t next_u64(struct sim *sim)
{
	uint64_t z = (sim->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void sim_random(struct sim *sim, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		uint64_t r = next_u64(sim);
		size_t n = len < sizeof(r) ? len : sizeof(r);

		memcpy(p, &r, n);
		p += n;
		len -= n;
	}
}

static bool chance(struct sim *sim, unsigned pct)
{
	return pct > 0 && next_u64(sim) % 100 < pct;
}

struct wg_endpoint sim_endpoint(uint8_t host, uint16_t port)
{
	struct wg_endpoint ep;

	memset(&ep, 0, sizeof(ep));
	ep.addr.in4.sin_family = AF_INET;
	ep.addr.in4.sin_port = htons(port);
	ep.addr.in4.sin_addr.s_addr = htonl(0x0a000000u | host);
	return ep;
}

static bool same_address(const struct wg_endpoint *a,
    const struct wg_endpoint *b)
{
	return a->addr.sa.sa_family == AF_INET &&
	    b->addr.sa.sa_family == AF_INET &&
	    a->addr.in4.sin_port == b->addr.in4.sin_port &&
	    a->addr.in4.sin_addr.s_addr == b->addr.in4.sin_addr.s_addr;
}

static struct sim_node *node_at(struct sim *sim, const struct wg_endpoint *ep)
{
	size_t i;

	for (i = 0; i < sim->nnodes; i++)
		if (same_address(&sim->nodes[i]->addr, ep))
			return sim->nodes[i];
	return NULL;
}

/* ---------------------------------------------------------------- ops */

static uint64_t op_now(void *ctx)
{
	struct sim_node *node = ctx;

	return node->sim->now;
}

static uint64_t op_wall(void *ctx)
{
	struct sim_node *node = ctx;

	/* 2023-11-14 plus simulated time. */
	return 1700000000ULL * 1000000000ULL + node->sim->now;
}

static void op_random(void *ctx, void *buf, size_t len)
{
	struct sim_node *node = ctx;

	sim_random(node->sim, buf, len);
}

static void enqueue(struct sim *sim, struct sim_node *from,
    const struct wg_endpoint *dst, const uint8_t *buf, size_t len,
    uint64_t delay)
{
	struct sim_datagram *d;

	if (sim->qlen == sim->qcap) {
		sim->qcap = sim->qcap ? sim->qcap * 2 : 64;
		sim->q = xrealloc(sim->q, sim->qcap * sizeof(*sim->q));
	}
	d = &sim->q[sim->qlen++];
	d->at = sim->now + delay;
	d->seq = sim->seq++;
	d->from = from;
	d->src = from->addr;
	d->dst = *dst;
	d->len = len;
	d->data = xrealloc(NULL, len);
	memcpy(d->data, buf, len);
}

static int op_send_udp(void *ctx, struct wg_endpoint *ep, const uint8_t *buf,
    size_t len)
{
	struct sim_node *node = ctx;
	struct sim *sim = node->sim;
	struct sim_node *to = node_at(sim, ep);
	uint64_t delay = sim->imp.latency_ns;

	if (len >= 1 && buf[0] >= 1 && buf[0] <= 4)
		node->sent[buf[0]]++;
	if (len == 32 && buf[0] == 4)
		node->sent_keepalive++;
	if (len >= 1 && buf[0] == 1)
		node->last_initiation_at = sim->now;
	node->sent_bytes += len;

	if (sim->filter && !sim->filter(sim->filter_ctx, node, to, buf, len))
		return 0;
	if (node->down || chance(sim, sim->imp.loss_pct))
		return 0;
	if (chance(sim, sim->imp.reorder_pct))
		delay += next_u64(sim) % (2 * sim->imp.latency_ns + 1);
	enqueue(sim, node, ep, buf, len, delay);
	if (chance(sim, sim->imp.dup_pct))
		enqueue(sim, node, ep, buf, len,
		    delay + next_u64(sim) % (sim->imp.latency_ns + 1));
	return 0;
}

static int op_send_udp_batch(void *ctx, struct wg_endpoint *ep,
    const uint8_t *buf, const size_t *lens, unsigned n)
{
	struct sim_node *node = ctx;

	node->batches++;
	return fake_ops_unbatch(op_send_udp, node, ep, buf, lens, n);
}

static void op_write_tun(void *ctx, const uint8_t *packet, size_t len)
{
	struct sim_node *node = ctx;
	struct sim_packet *p;

	if (node->tun_len == node->tun_cap) {
		node->tun_cap = node->tun_cap ? node->tun_cap * 2 : 64;
		node->tun = xrealloc(node->tun,
		    node->tun_cap * sizeof(*node->tun));
	}
	p = &node->tun[node->tun_len++];
	p->at = node->sim->now;
	p->len = len;
	p->data = xrealloc(NULL, len);
	memcpy(p->data, packet, len);
}

static void op_log(void *ctx, enum wg_log_level level, const char *line)
{
	struct sim_node *node = ctx;
	struct sim *sim = node->sim;
	size_t i;

	sim->log_lines++;
	for (i = 0; i < sim->nforbidden; i++) {
		if (strstr(line, sim->forbidden[i]) != NULL) {
			sim->log_leaks++;
			break;
		}
	}
	if (getenv("WGU_SIM_VERBOSE") != NULL)
		fprintf(stderr, "%12.6f %s[%d]: %s\n", sim->now / 1e9,
		    node->name, (int)level, line);
}

/* ---------------------------------------------------------------- setup */

struct sim *sim_new(uint64_t seed, uint64_t start_ns)
{
	struct sim *sim = xrealloc(NULL, sizeof(*sim));

	memset(sim, 0, sizeof(*sim));
	sim->rng = seed;
	sim->now = start_ns;
	sim->imp.latency_ns = 10000000;		/* 10 ms */
	return sim;
}

void sim_node_clear_tun(struct sim_node *node)
{
	size_t i;

	for (i = 0; i < node->tun_len; i++)
		free(node->tun[i].data);
	node->tun_len = 0;
}

void sim_free(struct sim *sim)
{
	size_t i;

	for (i = 0; i < sim->nnodes; i++) {
		struct sim_node *node = sim->nodes[i];

		wg_device_free(node->dev);
		sim_node_clear_tun(node);
		free(node->tun);
		free(node);
	}
	for (i = 0; i < sim->qlen; i++)
		free(sim->q[i].data);
	free(sim->q);
	for (i = 0; i < sim->nforbidden; i++)
		free(sim->forbidden[i]);
	free(sim);
}

struct sim_node *sim_node_add(struct sim *sim, const char *name,
    uint8_t host, uint16_t port, const uint8_t *priv)
{
	struct wg_device_ops ops = {
		.now = op_now, .wall = op_wall, .random = op_random,
		.send_udp = op_send_udp, .send_udp_batch = op_send_udp_batch,
		.write_tun = op_write_tun, .log = op_log,
	};
	struct sim_node *node;

	if (sim->nnodes == SIM_MAX_NODES)
		abort();
	node = xrealloc(NULL, sizeof(*node));
	memset(node, 0, sizeof(*node));
	node->sim = sim;
	snprintf(node->name, sizeof(node->name), "%s", name);
	node->addr = sim_endpoint(host, port);
	ops.ctx = node;
	node->dev = wg_device_new(&ops);
	if (node->dev == NULL)
		abort();
	if (priv != NULL && wg_device_set_private_key(node->dev, priv) != 0)
		abort();
	sim->nodes[sim->nnodes++] = node;
	return node;
}

void sim_node_move(struct sim_node *node, uint8_t host, uint16_t port)
{
	node->addr = sim_endpoint(host, port);
}

void sim_set_impair(struct sim *sim, const struct sim_impair *imp)
{
	sim->imp = *imp;
}

void sim_set_filter(struct sim *sim, sim_filter_fn *fn, void *ctx)
{
	sim->filter = fn;
	sim->filter_ctx = ctx;
}

uint64_t sim_now(const struct sim *sim)
{
	return sim->now;
}

size_t sim_in_flight(const struct sim *sim)
{
	return sim->qlen;
}

uint64_t sim_events(const struct sim *sim)
{
	return sim->events;
}

bool sim_stuck(const struct sim *sim)
{
	return sim->stuck;
}

void sim_forbid_in_logs(struct sim *sim, const char *s)
{
	if (sim->nforbidden == SIM_MAX_FORBIDDEN)
		abort();
	sim->forbidden[sim->nforbidden] = xrealloc(NULL, strlen(s) + 1);
	strcpy(sim->forbidden[sim->nforbidden++], s);
}

uint64_t sim_log_leaks(const struct sim *sim)
{
	return sim->log_leaks;
}

uint64_t sim_log_lines(const struct sim *sim)
{
	return sim->log_lines;
}

/* ---------------------------------------------------------------- running */

void sim_inject(struct sim_node *to, const struct wg_endpoint *from,
    const uint8_t *buf, size_t len)
{
	struct wg_endpoint src = *from;
	uint8_t *copy = xrealloc(NULL, len);

	/* The adapter fills in the local address the datagram arrived on. */
	src.src4 = to->addr.addr.in4.sin_addr;
	src.src_ifindex = 1;
	memcpy(copy, buf, len);
	to->sim->events++;
	wg_device_receive_datagram(to->dev, &src, copy, len);
	free(copy);
}

static size_t earliest_datagram(const struct sim *sim)
{
	size_t i, best = SIZE_MAX;

	for (i = 0; i < sim->qlen; i++) {
		const struct sim_datagram *d = &sim->q[i];

		if (best == SIZE_MAX || d->at < sim->q[best].at ||
		    (d->at == sim->q[best].at && d->seq < sim->q[best].seq))
			best = i;
	}
	return best;
}

static void deliver(struct sim *sim, size_t i)
{
	struct sim_datagram d = sim->q[i];
	struct sim_node *to;

	sim->q[i] = sim->q[--sim->qlen];
	to = node_at(sim, &d.dst);
	/* Nothing listens there (the node moved or never existed), or the
	 * receiver is down. */
	if (to != NULL && !to->down)
		sim_inject(to, &d.src, d.data, d.len);
	free(d.data);
}

void sim_run_until(struct sim *sim, uint64_t t)
{
	uint64_t cap = sim->events + SIM_EVENT_CAP;

	while (!sim->stuck) {
		size_t di = earliest_datagram(sim);
		uint64_t next = di == SIZE_MAX ? UINT64_MAX : sim->q[di].at;
		size_t i;

		for (i = 0; i < sim->nnodes; i++) {
			struct wg_device *dev = sim->nodes[i]->dev;
			uint64_t dl = wg_device_next_deadline(dev);

			if (dl < next)
				next = dl;
		}
		if (next > t)
			break;
		if (next > sim->now)
			sim->now = next;
		if (sim->events >= cap) {
			fprintf(stderr, "simlink: no progress at %.6f s\n",
			    sim->now / 1e9);
			sim->stuck = true;
			break;
		}
		/* Deliveries first at equal times: a datagram that arrived
		 * is read before the timer fires, as in a real loop. */
		if (di != SIZE_MAX && sim->q[di].at <= sim->now) {
			deliver(sim, di);
			continue;
		}
		for (i = 0; i < sim->nnodes; i++) {
			struct wg_device *dev = sim->nodes[i]->dev;

			if (wg_device_next_deadline(dev) <= sim->now) {
				sim->events++;
				wg_device_tick(dev);
			}
		}
	}
	if (t > sim->now)
		sim->now = t;
}

void sim_run_for(struct sim *sim, uint64_t dt)
{
	sim_run_until(sim, sim->now + dt);
}
