/* wg_wipe() (primitives.h) on its own, with no BoringSSL: explicit_bzero
 * is a store the compiler may not drop.  Apart from primitives.c so that
 * the key encodings (encoding.c) link into programs that must not link
 * BoringSSL (the hub's, whose libmosquitto brings OpenSSL's libcrypto). */
#include <string.h>

#include "crypto/primitives.h"

void wg_wipe(void *p, size_t len)
{
	explicit_bzero(p, len);
}
