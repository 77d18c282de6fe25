/* Fuzzes the offload code: what the TUN hands us (a virtio_net_hdr and a
 * packet, perhaps a TSO super-packet) through wg_gso_split(), and every
 * packet it emits through the merger of gro.c, the way the daemon's two
 * directions use them.  Input: 10 bytes of virtio header, then the
 * packet.
 *
 * Invariants (abort() marks a broken one, never a bad input): emitted
 * packets are non-empty and fit the segment buffer; a merged packet never
 * passes 64 KiB; and whatever the merger builds, the splitter accepts and
 * cuts back into the number of segments merged. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tun/gro.h"
#include "tun/gso.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void invariant(bool holds)
{
	if (!holds)
		abort();
}

static uint8_t segment[WG_GSO_MAX_PACKET], again[WG_GSO_MAX_PACKET];
static uint8_t resegment[WG_GSO_MAX_PACKET];
static uint8_t packet[WG_GSO_MAX_PACKET];
static struct wg_gro gro;

static void count(void *ctx, const uint8_t *p, size_t len)
{
	unsigned *n = ctx;

	invariant(len > 0 && len <= WG_GSO_MAX_PACKET);
	(*n)++;
}

static void flush(void)
{
	struct virtio_net_hdr h;
	unsigned segments = gro.segments, n = 0;
	const uint8_t *p;
	size_t len;
	int ret;

	p = wg_gro_packet(&gro, &len);
	if (p == NULL)
		return;
	invariant(len > WG_VNET_HDR_LEN &&
	    len <= WG_VNET_HDR_LEN + WG_GSO_MAX_PACKET);
	memcpy(&h, p, sizeof(h));
	memcpy(again, p + WG_VNET_HDR_LEN, len - WG_VNET_HDR_LEN);
	/* Not segment: the outer split may be emitting from it. */
	ret = wg_gso_split(&h, again, len - WG_VNET_HDR_LEN, resegment,
	    sizeof(resegment), count, &n);
	invariant(ret > 0 && (unsigned)ret == n && n == segments);
	wg_gro_reset(&gro);
}

static void merge(void *ctx, const uint8_t *p, size_t len)
{
	count(ctx, p, len);
	if (wg_gro_offer(&gro, p, len))
		return;
	flush();
	(void)wg_gro_offer(&gro, p, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtio_net_hdr h;
	unsigned n = 0;
	int ret;

	if (size < WG_VNET_HDR_LEN || size - WG_VNET_HDR_LEN > sizeof(packet))
		return 0;
	memcpy(&h, data, sizeof(h));
	memcpy(packet, data + WG_VNET_HDR_LEN, size - WG_VNET_HDR_LEN);
	wg_gro_reset(&gro);
	ret = wg_gso_split(&h, packet, size - WG_VNET_HDR_LEN, segment,
	    sizeof(segment), merge, &n);
	invariant(ret < 0 ? n == 0 : (unsigned)ret == n);
	flush();
	return 0;
}
