/* Gathering datagrams into UDP GSO sends; see txbatch.h. */
#include <errno.h>
#include <string.h>

#include "txbatch.h"

void wg_txbatch_init(struct wg_txbatch *b, struct wg_udp *udp, bool gso)
{
	b->udp = udp;
	b->gso = gso;
	b->ep = NULL;
	b->len = b->count = 0;
	b->seg_size = 0;
	b->closed = false;
	b->send_errors = 0;
}

static bool same_endpoint(const struct wg_endpoint *a,
    const struct wg_endpoint *b)
{
	return a == b;
}

static bool fits(const struct wg_txbatch *b, const struct wg_endpoint *ep,
    size_t len)
{
	return b->ep != NULL && b->gso && !b->closed &&
	    same_endpoint(b->ep, ep) && len <= b->seg_size &&
	    b->count < WG_UDP_MAX_SEGMENTS &&
	    b->len + len <= sizeof(b->buf);
}

/* Without GSO, or to find out whether GSO was the problem. */
static int send_one_by_one(struct wg_txbatch *b)
{
	size_t off, n;
	int ret, last = 0;

	for (off = 0; off < b->len; off += n) {
		n = b->len - off < b->seg_size ? b->len - off : b->seg_size;
		ret = wg_udp_send(b->udp, b->ep, b->buf + off, n);
		if (ret < 0) {
			b->send_errors++;
			last = ret;
		}
	}
	return last;
}

int wg_txbatch_flush(struct wg_txbatch *b, bool *gso_failed)
{
	int ret;

	if (b->ep == NULL)
		return 0;
	if (b->count == 1) {
		ret = wg_udp_send(b->udp, b->ep, b->buf, b->len);
		if (ret < 0)
			b->send_errors++;
	} else {
		ret = wg_udp_send_segments(b->udp, b->ep, b->buf, b->len,
		    b->seg_size);
		/* A full socket buffer or an unreachable peer says nothing
		 * about GSO; anything else gets one retry without it. */
		if (ret < 0 && ret != -EAGAIN && ret != -ENOBUFS &&
		    ret != -EHOSTUNREACH && ret != -ENETUNREACH &&
		    ret != -ECONNREFUSED) {
			ret = send_one_by_one(b);
			if (ret == 0) {
				b->gso = false;
				if (gso_failed)
					*gso_failed = true;
			}
		} else if (ret < 0) {
			b->send_errors += b->count;
		}
	}
	b->ep = NULL;
	b->len = b->count = 0;
	b->closed = false;
	return ret;
}

int wg_txbatch_add(struct wg_txbatch *b, struct wg_endpoint *ep,
    const uint8_t *buf, size_t len)
{
	int ret = 0;

	if (len > sizeof(b->buf))
		return -EMSGSIZE;
	if (b->ep != NULL && !fits(b, ep, len))
		ret = wg_txbatch_flush(b, NULL);
	if (b->ep == NULL) {
		b->ep = ep;
		b->seg_size = len;
	}
	memcpy(b->buf + b->len, buf, len);
	b->len += len;
	b->count++;
	if (len < b->seg_size)
		b->closed = true;
	return ret;
}
