/* The WireGuard peers in a UAPI answer to get=1 (wireguard.com/xplatform,
 * src/tun/uapi_protocol.h): each peer's public key, in base64 as wg(8)
 * shows it, and its latest handshake.  Pure; the answer comes from the
 * local daemon through src/cli/ipc.h, and holds the interface's private
 * key, which is neither read nor kept here. */
#ifndef WGU_HUB_PEERS_H
#define WGU_HUB_PEERS_H

#include <stdint.h>

enum {
	PEERS_KEY_B64 = 45,	/* 44 characters and the NUL */
};

/* fn for each peer with its public key in base64 and its latest
 * handshake (ms since the epoch, 0 for none yet).  Returns the number of
 * peers, or -EPROTO for a malformed key or time (fn may have been
 * called for the peers before it). */
int peers_parse(const char *reply,
    void (*fn)(void *ctx, const char *key_b64, int64_t latest_ms),
    void *ctx);

#endif
