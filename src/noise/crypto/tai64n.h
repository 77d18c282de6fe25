/* TAI64N timestamps as WireGuard sends them in handshake initiations: 8 bytes
 * of seconds (big-endian, base 2^62 + 10) and 4 bytes of nanoseconds
 * (big-endian), with the nanoseconds rounded down to a multiple of 2^24 so
 * the timestamp does not leak a fine-grained clock (a "whitened" value). */
#ifndef WG_TAI64N_H
#define WG_TAI64N_H

#include <stdbool.h>
#include <stdint.h>

enum { WG_TAI64N_LEN = 12 };

/* unix_sec/nsec: wall-clock time since the Unix epoch. */
void wg_tai64n_encode(uint8_t out[static WG_TAI64N_LEN], uint64_t unix_sec,
    uint32_t nsec);

/* True when a is strictly later than b (byte-wise big-endian compare, which
 * is how the responder decides a timestamp is fresh). */
bool wg_tai64n_after(const uint8_t a[static WG_TAI64N_LEN],
    const uint8_t b[static WG_TAI64N_LEN]);

#endif
