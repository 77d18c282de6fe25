/* The WireGuard peers in a UAPI answer (see peers.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub/peers.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* 64 lowercase hex digits (then a newline or the end) into 32 bytes. */
static bool hex_key(const char *s, uint8_t key[static 32])
{
	int i, hi, lo;

	for (i = 0; i < 32; i++) {
		if ((hi = hexval(s[2 * i])) < 0 ||
		    (lo = hexval(s[2 * i + 1])) < 0)
			return false;
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	return s[64] == '\n' || s[64] == '\0';
}

/* A public key in base64 (44 characters and the NUL), as wg shows it. */
static void base64_key(const uint8_t key[static 32],
    char out[static PEERS_KEY_B64])
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789+/";
	uint32_t v;
	int i, o = 0;

	for (i = 0; i < 30; i += 3) {
		v = (uint32_t)key[i] << 16 | (uint32_t)key[i + 1] << 8 |
		    key[i + 2];
		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		out[o++] = abc[v >> 6 & 63];
		out[o++] = abc[v & 63];
	}
	v = (uint32_t)key[30] << 16 | (uint32_t)key[31] << 8;
	out[o++] = abc[v >> 18 & 63];
	out[o++] = abc[v >> 12 & 63];
	out[o++] = abc[v >> 6 & 63];
	out[o++] = '=';
	out[o] = '\0';
}

int peers_parse(const char *reply,
    void (*fn)(void *ctx, const char *key_b64, int64_t latest_ms),
    void *ctx)
{
	char key[PEERS_KEY_B64] = "";
	uint8_t raw[32];
	int64_t latest = 0;
	const char *p = reply;
	int n = 0;

	for (; p && *p && *p != '\n'; p = strchr(p, '\n'), p = p ? p + 1 :
	    NULL) {
		if (strncmp(p, "public_key=", 11) == 0) {
			if (key[0])
				fn(ctx, key, latest);
			if (!hex_key(p + 11, raw))
				return -EPROTO;
			base64_key(raw, key);
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
