/* The WireGuard peers in a UAPI answer (see peers.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/encoding.h"
#include "hub/peers.h"

/* The key of a "public_key=" line (64 hex digits up to its newline or
 * the end) in base64, as wg shows it. */
static bool key_b64(const char *hex, char out[static PEERS_KEY_B64])
{
	uint8_t raw[WG_KEY_LEN];
	bool ok = wg_key_from_hex(raw, hex, strcspn(hex, "\n"));

	if (ok)
		wg_key_to_base64(out, raw);
	return ok;
}

int peers_parse(const char *reply,
    void (*fn)(void *ctx, const char *key_b64, int64_t latest_ms),
    void *ctx)
{
	char key[PEERS_KEY_B64] = "";
	int64_t latest = 0;
	const char *p = reply;
	int n = 0;

	for (; p && *p && *p != '\n'; p = strchr(p, '\n'), p = p ? p + 1 :
	    NULL) {
		if (strncmp(p, "public_key=", 11) == 0) {
			if (key[0])
				fn(ctx, key, latest);
			if (!key_b64(p + 11, key))
				return -EPROTO;
			latest = 0;
			n++;
		} else if (key[0] &&
		    strncmp(p, "last_handshake_time_sec=", 24) == 0) {
			char *end;
			long long sec = strtoll(p + 24, &end, 10);

			if (end == p + 24 || sec < 0 || sec > INT64_MAX / 1000 ||
			    (*end != '\n' && *end != '\0'))
				return -EPROTO;
			latest = (int64_t)sec * 1000;
		}
	}
	if (key[0])
		fn(ctx, key, latest);
	return n;
}
