/* TAI64N (https://cr.yp.to/libtai/tai64.html) as WireGuard uses it for the
 * initiation timestamp.  Like the references, wgu writes Unix seconds plus
 * 2^62 + 10 and does not add leap seconds: peers only compare our stamps
 * with our own earlier ones. */
#include "crypto/tai64n.h"

enum {
	/* Linux drivers/net/wireguard/noise.c tai64n_now() rounds tv_nsec down
	 * to rounddown_pow_of_two(NSEC_PER_SEC / INITIATIONS_PER_SECOND) =
	 * rounddown_pow_of_two(10^9 / 50) = 2^24; wireguard-go
	 * tai64n/tai64n.go clears the same bits (whitenerMask = 0x1000000 - 1).
	 * A step (16.8 ms) is shorter than the 20 ms the responder's flood
	 * check demands between initiations, so two initiations it would
	 * accept never carry equal timestamps. */
	WHITENER_MASK = (1u << 24) - 1,
};

static const uint64_t TAI64_BASE = 0x400000000000000aULL;

void wg_tai64n_encode(uint8_t out[static WG_TAI64N_LEN], uint64_t unix_sec,
    uint32_t nsec)
{
	uint64_t sec = TAI64_BASE + unix_sec;
	uint32_t ns = nsec & ~(uint32_t)WHITENER_MASK;
	int i;

	for (i = 0; i < 8; i++)
		out[i] = (uint8_t)(sec >> (56 - 8 * i));
	for (i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(ns >> (24 - 8 * i));
}

/* Big-endian fields make byte order time order.  The timestamp is not a
 * secret from the peer that decrypted it, so an early exit is fine. */
bool wg_tai64n_after(const uint8_t a[static WG_TAI64N_LEN],
    const uint8_t b[static WG_TAI64N_LEN])
{
	int i;

	for (i = 0; i < WG_TAI64N_LEN; i++)
		if (a[i] != b[i])
			return a[i] > b[i];
	return false;
}
