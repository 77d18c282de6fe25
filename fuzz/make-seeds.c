/* Writes the seed corpus of fuzz_packet: one well-formed datagram of each
 * type and a set of near misses around every check of the classifier.  The
 * contents past the header are pseudo-random but reproducible, so running
 * this again rewrites the committed files byte for byte.  Not built by
 * make; run it by hand after changing the seeds:
 *
 *	cc -std=gnu11 -Isrc/noise -Isrc fuzz/make-seeds.c -o /tmp/make-seeds
 *	/tmp/make-seeds fuzz/corpus/fuzz_packet
 */
#include <endian.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "messages.h"

struct seed {
	const char *name;
	uint8_t head[4];	/* type byte and reserved bytes */
	size_t len;
};

static const struct seed seeds[] = {
	/* Well-formed. */
	{ "initiation", { 1, 0, 0, 0 }, sizeof(struct wg_msg_initiation) },
	{ "response", { 2, 0, 0, 0 }, sizeof(struct wg_msg_response) },
	{ "cookie-reply", { 3, 0, 0, 0 }, sizeof(struct wg_msg_cookie_reply) },
	{ "data-keepalive", { 4, 0, 0, 0 }, WG_DATA_MIN_LEN },
	{ "data-33-unpadded", { 4, 0, 0, 0 }, 33 },
	{ "data-96", { 4, 0, 0, 0 }, 96 },
	{ "data-1452-mtu", { 4, 0, 0, 0 }, 1420 + WG_DATA_MIN_LEN },
	/* Near misses. */
	{ "short-0", { 0 }, 0 },
	{ "short-3", { 1, 0, 0 }, 3 },
	{ "header-only", { 1, 0, 0, 0 }, 4 },
	{ "initiation-147", { 1, 0, 0, 0 }, 147 },
	{ "initiation-149", { 1, 0, 0, 0 }, 149 },
	{ "response-91", { 2, 0, 0, 0 }, 91 },
	{ "response-93", { 2, 0, 0, 0 }, 93 },
	{ "response-148", { 2, 0, 0, 0 }, 148 },
	{ "cookie-reply-63", { 3, 0, 0, 0 }, 63 },
	{ "cookie-reply-65", { 3, 0, 0, 0 }, 65 },
	{ "data-31", { 4, 0, 0, 0 }, 31 },
	{ "reserved-byte1", { 1, 1, 0, 0 }, 148 },
	{ "reserved-byte2", { 2, 0, 1, 0 }, 92 },
	{ "reserved-byte3", { 4, 0, 0, 0x80 }, 32 },
	{ "type-0", { 0, 0, 0, 0 }, 148 },
	{ "type-5", { 5, 0, 0, 0 }, 32 },
	{ "type-255", { 255, 0, 0, 0 }, 64 },
	{ "type-big-endian", { 0, 0, 0, 1 }, 148 },
};

/* xorshift64: reproducible filler, not cryptography. */
static uint64_t next(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

static int write_seed(const char *dir, const struct seed *s, uint64_t *state)
{
	uint8_t buf[2048];
	char path[4096];
	uint64_t counter;
	size_t i;
	FILE *f;

	if (s->len > sizeof(buf))
		return -1;
	for (i = 0; i < s->len; i++)
		buf[i] = i < 4 ? s->head[i] : (uint8_t)next(state);
	/* A data counter as a live session would send it: small. */
	if (s->head[0] == WG_MSG_DATA && s->len >= WG_DATA_HEADER_LEN) {
		counter = htole64(next(state) % 1000);
		memcpy(buf + offsetof(struct wg_msg_data, counter), &counter,
		    sizeof(counter));
	}
	snprintf(path, sizeof(path), "%s/%s", dir, s->name);
	f = fopen(path, "wb");
	if (f == NULL)
		return -1;
	if (fwrite(buf, 1, s->len, f) != s->len) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

int main(int argc, char **argv)
{
	uint64_t state = UINT64_C(0x9e3779b97f4a7c15);
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: make-seeds DIR\n");
		return 2;
	}
	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		if (write_seed(argv[1], &seeds[i], &state) != 0) {
			perror(seeds[i].name);
			return 1;
		}
	}
	return 0;
}
