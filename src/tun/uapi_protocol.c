/* The configuration protocol as a byte-driven state machine: the session,
 * its output, "get" and "stats" (the "set" lines are uapi_set.c's); see
 * uapi_protocol.h for the contract.  The accepted syntax follows what
 * wireguard-go's device/uapi.go accepts (strconv.ParseUint, hex keys of
 * exactly 64 digits, netip.ParseAddrPort / ParsePrefix: numbers only, no
 * host names) and the output is byte for byte what wireguard-go writes,
 * except that an IPv4-mapped IPv6 endpoint is normalised to IPv4. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "crypto/encoding.h"
#include "device.h"
#include "uapi_protocol.h"
#include "uapi_set.h"

enum {
	OUT_MIN_CAP = 1024,
	NSEC_PER_SEC = 1000000000,
};

/* ---------------------------------------------------------------- output */

static int reserve(struct wg_uapi_session *s, size_t more)
{
	size_t cap = s->out_cap ? s->out_cap : OUT_MIN_CAP;
	uint8_t *grown;

	if (more > SIZE_MAX / 2 - s->out_len)
		return -ENOMEM;
	while (cap < s->out_len + more)
		cap *= 2;
	if (cap == s->out_cap)
		return 0;
	/* Not realloc(): the old block may hold a private key and must be
	 * wiped before it is freed. */
	grown = malloc(cap);
	if (grown == NULL)
		return -ENOMEM;
	if (s->out_len)
		memcpy(grown, s->out, s->out_len);
	if (s->out) {
		wg_wipe(s->out, s->out_cap);
		free(s->out);
	}
	s->out = grown;
	s->out_cap = cap;
	return 0;
}

static int put(struct wg_uapi_session *s, const char *text, size_t len)
{
	int ret = reserve(s, len);

	if (ret < 0)
		return ret;
	memcpy(s->out + s->out_len, text, len);
	s->out_len += len;
	return 0;
}

__attribute__((format(printf, 2, 3)))
static int putf(struct wg_uapi_session *s, const char *fmt, ...)
{
	char buf[160];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -ENOMEM;	/* a caller's bug: every format is short */
	return put(s, buf, (size_t)n);
}

static int put_key(struct wg_uapi_session *s, const char *name,
    const uint8_t key[static WG_KEY_LEN])
{
	char hex[WG_KEY_HEX_SIZE];
	int ret;

	wg_key_to_hex(hex, key);
	ret = putf(s, "%s=%s\n", name, hex);
	wg_wipe(hex, sizeof(hex));
	return ret;
}

static int put_errno(struct wg_uapi_session *s, int err)
{
	/* err is 0 or negative: written as is (see the header). */
	return putf(s, "errno=%d\n\n", err);
}

void wg_uapi_session_consume(struct wg_uapi_session *s, size_t n)
{
	if (n > s->out_len)
		n = s->out_len;
	if (n == 0)
		return;
	memmove(s->out, s->out + n, s->out_len - n);
	s->out_len -= n;
	wg_wipe(s->out + s->out_len, n);
}

/* ---------------------------------------------------------------- get */

static int put_endpoint(struct wg_uapi_session *s,
    const struct wg_endpoint *ep)
{
	char addr[INET6_ADDRSTRLEN];

	switch (ep->addr.sa.sa_family) {
	case AF_INET:
		if (!inet_ntop(AF_INET, &ep->addr.in4.sin_addr, addr,
		    sizeof(addr)))
			return 0;
		return putf(s, "endpoint=%s:%u\n", addr,
		    ntohs(ep->addr.in4.sin_port));
	case AF_INET6:
		if (!inet_ntop(AF_INET6, &ep->addr.in6.sin6_addr, addr,
		    sizeof(addr)))
			return 0;
		/* A numeric zone: wg reads it back with getaddrinfo(). */
		if (ep->addr.in6.sin6_scope_id)
			return putf(s, "endpoint=[%s%%%" PRIu32 "]:%u\n", addr,
			    ep->addr.in6.sin6_scope_id,
			    ntohs(ep->addr.in6.sin6_port));
		return putf(s, "endpoint=[%s]:%u\n", addr,
		    ntohs(ep->addr.in6.sin6_port));
	default:
		return 0;
	}
}

static int put_allowed_ip(void *ctx, int family, const uint8_t *addr,
    uint8_t cidr)
{
	char text[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, addr, text, sizeof(text)))
		return 0;
	return putf(ctx, "allowed_ip=%s/%u\n", text, cidr);
}

static int put_peer(struct wg_uapi_session *s, const struct wg_peer *peer)
{
	struct wg_peer_info info;
	int ret;

	wg_peer_get_info(peer, &info);
	/* wireguard-go writes preshared_key always, zeros for none; wg
	 * reads zeros as "no preshared key". */
	if ((ret = put_key(s, "public_key", info.public_key)) < 0 ||
	    (!s->read_only && (ret = put_key(s, "preshared_key",
	    info.preshared_key)) < 0) ||
	    (ret = putf(s, "protocol_version=1\n")) < 0)
		goto out;
	if (info.has_endpoint && (ret = put_endpoint(s, &info.endpoint)) < 0)
		goto out;
	ret = putf(s, "last_handshake_time_sec=%" PRIu64 "\n"
	    "last_handshake_time_nsec=%" PRIu64 "\n"
	    "tx_bytes=%" PRIu64 "\nrx_bytes=%" PRIu64 "\n"
	    "persistent_keepalive_interval=%u\n",
	    info.last_handshake_unix_ns / NSEC_PER_SEC,
	    info.last_handshake_unix_ns % NSEC_PER_SEC,
	    info.tx_bytes, info.rx_bytes, info.persistent_keepalive);
	if (ret < 0)
		goto out;
	/* The iteration is const in effect; the API takes a plain pointer. */
	ret = wg_peer_allowed_ips_foreach((struct wg_peer *)peer,
	    put_allowed_ip, s);
out:
	wg_wipe(&info, sizeof(info));
	return ret;
}

int wg_uapi_format_get(struct wg_uapi_session *s)
{
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	size_t start = s->out_len;
	struct wg_peer *peer;
	uint16_t port = 0;
	uint32_t mark = 0;
	int ret = 0;

	if (!s->read_only && wg_device_get_keys(s->dev, priv, pub) &&
	    (ret = put_key(s, "private_key", priv)) < 0)
		goto out;
	if (s->ops.get_listen_port)
		port = s->ops.get_listen_port(s->ops.ctx);
	if (port != 0 && (ret = putf(s, "listen_port=%u\n", port)) < 0)
		goto out;
	if (s->ops.get_fwmark)
		mark = s->ops.get_fwmark(s->ops.ctx);
	if (mark != 0 && (ret = putf(s, "fwmark=%" PRIu32 "\n", mark)) < 0)
		goto out;
	for (peer = wg_device_peer_first(s->dev); peer;
	    peer = wg_device_peer_next(peer))
		if ((ret = put_peer(s, peer)) < 0)
			goto out;
	ret = put_errno(s, 0);
out:
	if (ret < 0) {
		/* Drop the partial answer; report the error alone. */
		wg_wipe(s->out + start, s->out_len - start);
		s->out_len = start;
		put_errno(s, ret);
	}
	wg_wipe(priv, sizeof(priv));
	wg_wipe(pub, sizeof(pub));
	return ret;
}

/* ---------------------------------------------------------------- stats */

/* Each counter by its field's own name, so a name cannot drift from its
 * field; a field added to the struct needs a row here (test_uapi fails
 * until it has one). */
#define STAT(field) { #field, offsetof(struct wg_device_stats, field) }
static const struct {
	const char *name;
	size_t offset;
} stat_fields[] = {
	STAT(rx_invalid),
	STAT(rx_bad_mac),
	STAT(rx_cookie_required),
	STAT(rx_ratelimited),
	STAT(rx_queue_full),
	STAT(rx_handshake_failed),
	STAT(rx_unknown_index),
	STAT(rx_decrypt_failed),
	STAT(rx_replayed),
	STAT(rx_bad_inner),
	STAT(tx_no_route),
	STAT(tx_dropped),
};
#undef STAT

enum { NSTATS = sizeof(stat_fields) / sizeof(stat_fields[0]) };

const char *wg_uapi_stat_name(size_t i)
{
	return i < NSTATS ? stat_fields[i].name : NULL;
}

int wg_uapi_format_stats(struct wg_uapi_session *s)
{
	const struct wg_device_stats *st = wg_device_get_stats(s->dev);
	size_t start = s->out_len, i;
	uint64_t value;
	int ret = 0;

	for (i = 0; i < NSTATS && ret == 0; i++) {
		memcpy(&value, (const uint8_t *)st + stat_fields[i].offset,
		    sizeof(value));
		ret = putf(s, "%s=%" PRIu64 "\n", stat_fields[i].name, value);
	}
	if (ret == 0)
		ret = put_errno(s, 0);
	if (ret < 0) {
		s->out_len = start;
		put_errno(s, ret);
	}
	return ret;
}

/* ---------------------------------------------------------------- lines */

/* One complete line (without its newline) in the current state. */
static int handle_line(struct wg_uapi_session *s, char *line, size_t len,
    bool too_long)
{
	int ret;

	switch (s->state) {
	case WG_UAPI_OP:
		if (!too_long && wg_uapi_value_is(line, len, "get=1")) {
			s->state = WG_UAPI_GET;
			return 0;
		}
		if (!too_long && wg_uapi_value_is(line, len, "set=1")) {
			if (s->read_only) {
				/* Its lines would follow: nothing more is
				 * read from this client. */
				put_errno(s, -EPERM);
				return -EPROTO;
			}
			wg_uapi_set_begin(s);
			return 0;
		}
		if (!too_long && wg_uapi_value_is(line, len, "stats=1")) {
			s->state = WG_UAPI_STATS;
			return 0;
		}
		return -EPROTO;
	case WG_UAPI_SET:
		/* bufio.ScanLines drops a carriage return before '\n'. */
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len == 0 && !too_long)
			return put_errno(s, wg_uapi_set_end(s));
		if (s->set_error)
			return 0;
		ret = too_long ? -EINVAL : wg_uapi_set_line(s, line, len);
		if (ret < 0)
			s->set_error = ret;
		return 0;
	default:
		return 0;
	}
}

/* The byte after "get=1\n" (or "stats=1\n") must be the blank line's
 * '\n'. */
static int handle_get(struct wg_uapi_session *s, uint8_t c)
{
	bool stats = s->state == WG_UAPI_STATS;

	s->state = WG_UAPI_OP;
	if (c != '\n') {
		/* wireguard-go answers -EINVAL; the rest of the stream is
		 * out of step, so we then close. */
		put_errno(s, -EINVAL);
		return -EPROTO;
	}
	if (stats)
		return wg_uapi_format_stats(s) == -ENOMEM ? -ENOMEM : 0;
	return wg_uapi_format_get(s) == -ENOMEM ? -ENOMEM : 0;
}

int wg_uapi_session_feed(struct wg_uapi_session *s, const uint8_t *data,
    size_t len)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < len && s->state != WG_UAPI_CLOSED; i++) {
		uint8_t c = data[i];

		if (s->state == WG_UAPI_GET || s->state == WG_UAPI_STATS) {
			ret = handle_get(s, c);
		} else if (c == '\n') {
			ret = handle_line(s, s->line, s->line_len,
			    s->line_too_long);
			wg_wipe(s->line, s->line_len);
			s->line_len = 0;
			s->line_too_long = false;
		} else if (s->line_len < WG_UAPI_LINE_MAX) {
			s->line[s->line_len++] = (char)c;
		} else {
			/* Keep reading to the newline, then fail the line;
			 * no operation name is this long, so in between
			 * operations close at once. */
			s->line_too_long = true;
			if (s->state == WG_UAPI_OP)
				ret = -EPROTO;
		}
		if (ret < 0)
			s->state = WG_UAPI_CLOSED;
	}
	return ret;
}

void wg_uapi_session_eof(struct wg_uapi_session *s)
{
	if (s->state == WG_UAPI_SET) {
		/* A last line without its newline still counts. */
		if (s->line_len > 0 || s->line_too_long)
			handle_line(s, s->line, s->line_len, s->line_too_long);
		if (s->state == WG_UAPI_SET)
			put_errno(s, wg_uapi_set_end(s));
	}
	wg_wipe(s->line, sizeof(s->line));
	s->line_len = 0;
	s->state = WG_UAPI_CLOSED;
}

/* ---------------------------------------------------------------- lifecycle */

void wg_uapi_session_init(struct wg_uapi_session *s, struct wg_device *dev,
    const struct wg_uapi_ops *ops)
{
	memset(s, 0, sizeof(*s));
	s->dev = dev;
	if (ops)
		s->ops = *ops;
	s->state = WG_UAPI_OP;
	s->peer_state = WG_UAPI_PEER_NONE;
}

void wg_uapi_session_clear(struct wg_uapi_session *s)
{
	if (s->out) {
		wg_wipe(s->out, s->out_cap);
		free(s->out);
	}
	wg_wipe(s, sizeof(*s));
}
