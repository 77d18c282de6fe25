/* The WireGuard KDF: HKDF (RFC 5869) over HMAC-BLAKE2s, producing one, two
 * or three 32-byte outputs from a 32-byte chaining key and some input. */
#ifndef WG_KDF_H
#define WG_KDF_H

#include <stddef.h>
#include <stdint.h>

enum { WG_KDF_LEN = 32 };

/* out1 is required; out2 and out3 may be NULL to ask for fewer outputs
 * (out3 requires out2).  Outputs may alias the chaining key.  Intermediate
 * secrets are wiped before returning. */
void wg_kdf(uint8_t out1[static WG_KDF_LEN], uint8_t *out2, uint8_t *out3,
    const uint8_t chaining_key[static WG_KDF_LEN],
    const uint8_t *input, size_t inlen);

#endif
