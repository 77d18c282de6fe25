/* Text forms of 32-byte keys: base64 as wg(8) and configuration files write
 * them, and lowercase hex as the cross-platform UAPI (wireguard.com/xplatform)
 * carries them.
 *
 * Everything here runs in constant time with respect to the key bytes and
 * the characters of a well-formed input: no branches and no table lookups
 * on secret data.  Only the length and the position of the final '=' are
 * checked with ordinary branches; they are not secret.
 *
 * The decoders take a length rather than a NUL-terminated string so they can
 * read a field in place inside a larger buffer; any byte outside the
 * alphabet, NUL included, makes the input invalid. */
#ifndef WG_ENCODING_H
#define WG_ENCODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/primitives.h"

enum {
	WG_KEY_BASE64_LEN = 44,		/* characters, ending in one '=' */
	WG_KEY_BASE64_SIZE = 45,	/* buffer with the terminating NUL */
	WG_KEY_HEX_LEN = 64,		/* characters */
	WG_KEY_HEX_SIZE = 65,		/* buffer with the terminating NUL */
};

/* Writes the 44 characters of standard base64 (RFC 4648 section 4, with
 * '+' and '/') and a NUL. */
void wg_key_to_base64(char out[static WG_KEY_BASE64_SIZE],
    const uint8_t key[static WG_KEY_LEN]);

/* Accepts exactly what wireguard-tools' key_from_base64 accepts: len == 44,
 * the last character '=', the other 43 from the base64 alphabet, and the
 * 43rd canonical (its two low bits, which fall past the key, zero).  On
 * failure returns false and leaves key zeroed. */
WG_MUST_CHECK bool wg_key_from_base64(uint8_t key[static WG_KEY_LEN],
    const char *b64, size_t len);

/* Writes 64 lowercase hex digits and a NUL. */
void wg_key_to_hex(char out[static WG_KEY_HEX_SIZE],
    const uint8_t key[static WG_KEY_LEN]);

/* Accepts exactly 64 hex digits.  Upper case is accepted too, as
 * wireguard-tools' key_from_hex and wireguard-go's UAPI (hex.DecodeString)
 * do.  On failure returns false and leaves key zeroed. */
WG_MUST_CHECK bool wg_key_from_hex(uint8_t key[static WG_KEY_LEN],
    const char *hex, size_t len);

#endif
