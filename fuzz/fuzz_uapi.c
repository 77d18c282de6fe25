/* Fuzzes the UAPI protocol (src/tun/uapi_protocol.c): the input is what a
 * client sends on the socket, fed to a session over a real core device
 * with fake, deterministic ops (no sockets, no clock).
 *
 * Each input runs twice on fresh devices: once in a single feed, once cut
 * into small pieces of varying size, as a socket may deliver it.  The two
 * answers must be the same bytes, and every answer must be well framed
 * (complete responses ending in a blank line, errno zero or negative).
 * The seeds cover get, set and wgu's own stats operation.
 * abort() marks a broken invariant, never a bad input. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "fakeops.h"
#include "tun/uapi_protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void invariant(bool holds)
{
	if (!holds)
		abort();
}

/* Pending output is whole responses: empty, or ending in "\n\n". */
static void check_framing(const struct wg_uapi_session *s)
{
	size_t len;
	const uint8_t *out = wg_uapi_session_output(s, &len);

	invariant(len == 0 || (len >= 2 && out[len - 2] == '\n' &&
	    out[len - 1] == '\n'));
}

/* Every "errno=" line carries 0 or a negative number. */
static void check_errnos(const uint8_t *out, size_t len)
{
	size_t i;

	for (i = 0; i + 7 <= len; i++) {
		if ((i == 0 || out[i - 1] == '\n') &&
		    memcmp(out + i, "errno=", 6) == 0)
			invariant(out[i + 6] == '0' || out[i + 6] == '-');
	}
}

/* Runs one session; returns its whole answer (heap, caller frees). */
static uint8_t *run(const uint8_t *data, size_t size, bool pieces,
    size_t *outlen)
{
	/* One port "in use", to reach the error path. */
	struct fake_uapi f = { .port = 51820, .taken_port = 4444 };
	struct fake_ops dev_fake = { .now = 5000000000ull, .rng = 1 };
	struct wg_device_ops ops = fake_ops_make(&dev_fake);
	struct wg_uapi_ops uops = fake_uapi_make(&f);
	struct wg_uapi_session *s = malloc(sizeof(*s));
	struct wg_device *dev = wg_device_new(&ops);
	uint8_t *all = NULL;
	size_t off = 0, n, piece = 1, len;
	const uint8_t *out;

	invariant(s != NULL && dev != NULL);
	wg_uapi_session_init(s, dev, &uops);
	*outlen = 0;
	while (off < size) {
		n = pieces ? piece : size - off;
		if (n > size - off)
			n = size - off;
		(void)wg_uapi_session_feed(s, data + off, n);
		off += n;
		piece = piece % 7 + 1;
		check_framing(s);
		/* Collect and consume, as the server writes. */
		out = wg_uapi_session_output(s, &len);
		if (len) {
			all = realloc(all, *outlen + len);
			invariant(all != NULL);
			memcpy(all + *outlen, out, len);
			*outlen += len;
			wg_uapi_session_consume(s, len);
		}
	}
	wg_uapi_session_eof(s);
	check_framing(s);
	invariant(wg_uapi_session_closed(s));
	out = wg_uapi_session_output(s, &len);
	if (len) {
		all = realloc(all, *outlen + len);
		invariant(all != NULL);
		memcpy(all + *outlen, out, len);
		*outlen += len;
	}
	wg_uapi_session_clear(s);
	free(s);
	wg_device_free(dev);
	return all;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t alen, blen;
	uint8_t *a = run(data, size, false, &alen);
	uint8_t *b = run(data, size, true, &blen);

	invariant(alen == blen && (alen == 0 || memcmp(a, b, alen) == 0));
	check_errnos(a, alen);
	free(a);
	free(b);
	return 0;
}
