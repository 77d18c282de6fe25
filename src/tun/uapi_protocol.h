/* The cross-platform configuration protocol (wireguard.com/xplatform), as
 * a pure state machine over byte buffers: no sockets, no clock.  uapi.c
 * feeds it what a client sends and writes back what it produces; the unit
 * test and the fuzzer drive it directly.
 *
 * A client sends operations, one after another on the same connection:
 *
 *	get=1\n\n		-> key=value lines, then errno=0\n\n
 *	set=1\nkey=value\n...\n	-> errno=0\n\n or errno=-N\n\n
 *	stats=1\n\n		-> name=count lines, then errno=0\n\n
 *
 * A read-only session (the monitor socket of uapi.h) answers get without
 * the device's private key and the peers' preshared keys, answers stats,
 * and refuses set with errno=-1 (EPERM), then closes.
 *
 * stats is wgu's own extension, which wg(8) never sends: the core's drop
 * counters (struct wg_device_stats), one "name=decimal" line each, in
 * the order of wg_uapi_stat_name(), so that scripts and tests can see from
 * outside what hostile traffic was counted and dropped.  get and set are
 * answered exactly as without it.
 *
 * The errno line carries a NEGATIVE errno on failure, as wireguard-go
 * writes it (ipc.IpcErrorInvalid = -EINVAL) and as wg(8) decodes it:
 * ipc-uapi.h reads "errno=%d" into ret and sets errno = -ret before
 * perror(), so "errno=-98" prints "Address already in use".
 *
 * A set applies each line as it is read, as wireguard-go does: when a line
 * fails, the lines before it stay applied, the rest of the operation (up to
 * its blank line) is read and ignored, and the answer is that line's error.
 * Errors: -EPROTO for a line without '=', -EINVAL for an unknown key, a
 * value that does not parse or is out of range, a peer key before any
 * public_key, or a line longer than WG_UAPI_LINE_MAX; -EADDRINUSE when the
 * listen port or fwmark cannot be applied (ops).  An unknown operation
 * closes the connection without an answer, as wireguard-go does. */
#ifndef WG_UAPI_PROTOCOL_H
#define WG_UAPI_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/primitives.h"

struct wg_device;

enum {
	/* Longest accepted line, newline excluded.  The longest valid one
	 * is an endpoint with an IPv6 scope name, well under 100. */
	WG_UAPI_LINE_MAX = 1024,
};

/* What the device state outside the protocol core needs: the UDP sockets
 * live in the OS adapter.  Any hook may be NULL (the value reads as 0 and
 * setting it fails with -EADDRINUSE, except ifindex: NULL means only
 * numeric IPv6 scope ids are accepted). */
struct wg_uapi_ops {
	void *ctx;
	uint16_t (*get_listen_port)(void *ctx);
	/* Rebinds; 0 picks a free port.  Returns 0 or a negative errno. */
	int (*set_listen_port)(void *ctx, uint16_t port);
	uint32_t (*get_fwmark)(void *ctx);
	int (*set_fwmark)(void *ctx, uint32_t mark);
	/* The index of a network interface by name, 0 when there is none
	 * (an IPv6 endpoint's "%eth0" scope). */
	unsigned (*ifindex)(void *ctx, const char *name);
};

enum wg_uapi_state {
	WG_UAPI_OP,		/* waiting for "get=1" or "set=1" */
	WG_UAPI_GET,		/* read "get=1\n", the blank line must follow */
	WG_UAPI_STATS,		/* read "stats=1\n", likewise */
	WG_UAPI_SET,		/* inside a set: key=value lines */
	WG_UAPI_CLOSED,		/* finished: flush the output, then close */
};

/* Which peer a set is configuring.  The peer is found again by its key on
 * every line, never held by pointer: another client may remove it between
 * two reads of this one. */
enum wg_uapi_peer_state {
	WG_UAPI_PEER_NONE,	/* device section: no public_key yet */
	WG_UAPI_PEER_PENDING,	/* new key: created at the first line that
				 * needs it, or at the end of its section */
	WG_UAPI_PEER_LIVE,	/* an existing (or created) peer */
	WG_UAPI_PEER_IGNORED,	/* removed, update_only on a new key, or our
				 * own public key: the lines are parsed and
				 * dropped */
};

struct wg_uapi_session {
	struct wg_device *dev;
	struct wg_uapi_ops ops;
	enum wg_uapi_state state;
	/* The line being assembled.  It may hold a key: wiped after use. */
	char line[WG_UAPI_LINE_MAX + 1];
	size_t line_len;
	bool line_too_long;
	/* The first error of the current set (0 for none). */
	int set_error;
	enum wg_uapi_peer_state peer_state;
	uint8_t peer_key[WG_KEY_LEN];
	/* A monitor's session (uapi.h, the monitor socket): get answers
	 * without private_key and preshared_key lines, stats as always, and
	 * set=1 is refused with errno=-EPERM and the connection closed. */
	bool read_only;
	/* Bytes to send to the client; may hold the private key in hex, so
	 * consumed bytes are wiped. */
	uint8_t *out;
	size_t out_len, out_cap;
};

/* The session is embedded by its owner; init() cannot fail, clear() wipes
 * and frees.  dev and ops->ctx must outlive the session. */
void wg_uapi_session_init(struct wg_uapi_session *s, struct wg_device *dev,
    const struct wg_uapi_ops *ops);
void wg_uapi_session_clear(struct wg_uapi_session *s);

/* Processes len bytes from the client.  Returns 0 to go on reading, or a
 * negative errno when the connection should be closed once the pending
 * output is written: -EPROTO (unknown operation) or -ENOMEM.  After such a
 * return further input is ignored. */
int wg_uapi_session_feed(struct wg_uapi_session *s, const uint8_t *data,
    size_t len);

/* The client sent EOF (shut down its writing side).  A set in progress
 * ends as if its blank line had come, and is answered, as wireguard-go's
 * Scanner does at EOF.  The session is closed afterwards. */
void wg_uapi_session_eof(struct wg_uapi_session *s);

/* Pending output and how much of it was written (wiped and dropped). */
static inline const uint8_t *wg_uapi_session_output(
    const struct wg_uapi_session *s, size_t *len)
{
	*len = s->out_len;
	return s->out;
}
void wg_uapi_session_consume(struct wg_uapi_session *s, size_t n);

static inline bool wg_uapi_session_closed(const struct wg_uapi_session *s)
{
	return s->state == WG_UAPI_CLOSED;
}

/* The whole "get" answer, errno line included, appended to the session's
 * output (exposed for tests).  Returns 0 or -ENOMEM. */
int wg_uapi_format_get(struct wg_uapi_session *s);

/* The whole "stats" answer, errno line included.  Returns 0 or -ENOMEM. */
int wg_uapi_format_stats(struct wg_uapi_session *s);

/* The name of the stats answer's i-th counter, NULL past the last.
 * Every field of struct wg_device_stats has one (test_uapi checks). */
const char *wg_uapi_stat_name(size_t i);

#endif
