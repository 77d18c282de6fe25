/* Sending a batch of datagrams to one endpoint in UDP GSO runs; see
 * txbatch.h. */
#include <errno.h>

#include "log.h"
#include "txbatch.h"

void wg_txbatch_init(struct wg_txbatch *b, struct wg_udp *udp, bool gso)
{
	b->udp = udp;
	b->gso = gso;
	b->send_errors = 0;
}

/* How many datagrams from lens[0] on form one GSO run: equal sizes, the
 * last possibly shorter, within the kernel's limits. */
static unsigned run_length(const size_t *lens, unsigned n)
{
	size_t seg = lens[0], total = lens[0];
	unsigned i;

	for (i = 1; i < n && i < WG_UDP_MAX_SEGMENTS; i++) {
		if (lens[i] > seg || total + lens[i] > WG_UDP_MAX_GSO_BYTES)
			break;
		total += lens[i];
		if (lens[i] < seg)
			return i + 1;
	}
	return i;
}

/* Without GSO, or to find out whether GSO was the problem. */
static int send_one_by_one(struct wg_txbatch *b, struct wg_endpoint *ep,
    const uint8_t *buf, const size_t *lens, unsigned n)
{
	unsigned i;
	int ret, last = 0;

	for (i = 0; i < n; buf += lens[i], i++) {
		ret = wg_udp_send(b->udp, ep, buf, lens[i]);
		if (ret < 0) {
			b->send_errors++;
			last = ret;
		}
	}
	return last;
}

/* A full socket buffer or an unreachable peer says nothing about GSO;
 * anything else may be the kernel's GSO failing. */
static bool may_be_gso(int err)
{
	return err != -EAGAIN && err != -ENOBUFS && err != -EHOSTUNREACH &&
	    err != -ENETUNREACH && err != -ECONNREFUSED;
}

static int send_run(struct wg_txbatch *b, struct wg_endpoint *ep,
    const uint8_t *buf, const size_t *lens, unsigned n, size_t total)
{
	int ret;

	if (n == 1 || !b->gso)
		return send_one_by_one(b, ep, buf, lens, n);
	ret = wg_udp_send_segments(b->udp, ep, buf, total, lens[0]);
	if (ret == 0)
		return 0;
	if (!may_be_gso(ret)) {
		b->send_errors += n;
		return ret;
	}
	ret = send_one_by_one(b, ep, buf, lens, n);
	if (ret == 0) {
		b->gso = false;
		wg_log(WG_LOG_ERROR, "UDP GSO failed; sending datagrams one "
		    "by one from now on");
	}
	return ret;
}

int wg_txbatch_send(struct wg_txbatch *b, struct wg_endpoint *ep,
    const uint8_t *buf, const size_t *lens, unsigned n)
{
	unsigned i, run;
	size_t total;
	int ret, last = 0;

	while (n > 0) {
		run = b->gso ? run_length(lens, n) : n;
		for (total = 0, i = 0; i < run; i++)
			total += lens[i];
		ret = send_run(b, ep, buf, lens, run, total);
		if (ret < 0)
			last = ret;
		buf += total;
		lens += run;
		n -= run;
	}
	return last;
}
