/* The configuration protocol as a byte-driven state machine; see
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
	    (ret = put_key(s, "preshared_key", info.preshared_key)) < 0 ||
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

	if (wg_device_get_keys(s->dev, priv, pub) &&
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

/* ---------------------------------------------------------------- values */

static bool value_is(const char *value, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(value, want, len) == 0;
}

/* A decimal number as strconv.ParseUint(value, 10, bits) accepts it:
 * digits only (leading zeros allowed), at least one, at most max. */
static int parse_uint(const char *value, size_t len, uint64_t max,
    uint64_t *out)
{
	uint64_t n = 0;
	size_t i;

	if (len == 0)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned d = (unsigned char)value[i] - '0';

		if (d > 9 || n > (max - d) / 10)
			return -EINVAL;
		n = n * 10 + d;
	}
	*out = n;
	return 0;
}

static int parse_key(const char *value, size_t len,
    uint8_t key[static WG_KEY_LEN])
{
	return wg_key_from_hex(key, value, len) ? 0 : -EINVAL;
}

/* Copies a field into a NUL-terminated buffer for inet_pton(); a NUL
 * inside the field makes it invalid. */
static int cstr(char *dst, size_t cap, const char *src, size_t len)
{
	if (len >= cap || memchr(src, '\0', len))
		return -EINVAL;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

/* An IPv4-mapped address (::ffff:a.b.c.d) becomes plain IPv4: the socket
 * for IPv6 is V6ONLY, and this keeps one spelling per endpoint. */
static void normalize_endpoint(struct wg_endpoint *ep)
{
	struct sockaddr_in6 in6 = ep->addr.in6;

	if (ep->addr.sa.sa_family != AF_INET6 ||
	    !IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr))
		return;
	memset(&ep->addr, 0, sizeof(ep->addr));
	ep->addr.in4.sin_family = AF_INET;
	ep->addr.in4.sin_port = in6.sin6_port;
	memcpy(&ep->addr.in4.sin_addr, &in6.sin6_addr.s6_addr[12], 4);
}

static int parse_scope(struct wg_uapi_session *s, const char *zone,
    uint32_t *scope)
{
	uint64_t n;

	if (parse_uint(zone, strlen(zone), UINT32_MAX, &n) == 0) {
		*scope = (uint32_t)n;
		return 0;
	}
	if (s->ops.ifindex == NULL || *zone == '\0')
		return -EINVAL;
	*scope = s->ops.ifindex(s->ops.ctx, zone);
	return *scope ? 0 : -EINVAL;
}

/* "a.b.c.d:port" or "[v6addr]:port" or "[v6addr%zone]:port". */
static int parse_endpoint(struct wg_uapi_session *s, const char *value,
    size_t len, struct wg_endpoint *ep)
{
	char host[INET6_ADDRSTRLEN + 1 + 16 + 1], *zone;
	const char *colon;
	uint64_t port;
	size_t hostlen;

	memset(ep, 0, sizeof(*ep));
	if (len > 0 && value[0] == '[') {
		const char *close = memchr(value, ']', len);

		if (close == NULL || close + 1 >= value + len ||
		    close[1] != ':')
			return -EINVAL;
		colon = close + 1;
		hostlen = (size_t)(close - value) - 1;
		if (cstr(host, sizeof(host), value + 1, hostlen) < 0)
			return -EINVAL;
		zone = strchr(host, '%');
		if (zone)
			*zone++ = '\0';
		if (inet_pton(AF_INET6, host, &ep->addr.in6.sin6_addr) != 1)
			return -EINVAL;
		if (zone && parse_scope(s, zone,
		    &ep->addr.in6.sin6_scope_id) < 0)
			return -EINVAL;
		ep->addr.in6.sin6_family = AF_INET6;
	} else {
		colon = memchr(value, ':', len);
		if (colon == NULL)
			return -EINVAL;
		hostlen = (size_t)(colon - value);
		if (cstr(host, sizeof(host), value, hostlen) < 0 ||
		    inet_pton(AF_INET, host, &ep->addr.in4.sin_addr) != 1)
			return -EINVAL;
		ep->addr.in4.sin_family = AF_INET;
	}
	if (parse_uint(colon + 1, (size_t)(value + len - colon - 1), 65535,
	    &port) < 0)
		return -EINVAL;
	/* sin_port and sin6_port share their offset. */
	if (ep->addr.sa.sa_family == AF_INET)
		ep->addr.in4.sin_port = htons((uint16_t)port);
	else
		ep->addr.in6.sin6_port = htons((uint16_t)port);
	normalize_endpoint(ep);
	return 0;
}

/* "addr/cidr", the prefix length required, as netip.ParsePrefix. */
static int parse_prefix(const char *value, size_t len, int *family,
    uint8_t addr[static 16], uint8_t *cidr)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = memchr(value, '/', len);
	uint64_t bits;

	if (slash == NULL ||
	    cstr(host, sizeof(host), value, (size_t)(slash - value)) < 0)
		return -EINVAL;
	if (strchr(host, ':')) {
		if (inet_pton(AF_INET6, host, addr) != 1)
			return -EINVAL;
		*family = AF_INET6;
	} else {
		if (inet_pton(AF_INET, host, addr) != 1)
			return -EINVAL;
		*family = AF_INET;
	}
	if (parse_uint(slash + 1, (size_t)(value + len - slash - 1),
	    *family == AF_INET ? 32 : 128, &bits) < 0)
		return -EINVAL;
	*cidr = (uint8_t)bits;
	return 0;
}

/* ---------------------------------------------------------------- set */

/* The peer this section configures, created now if it is still pending.
 * NULL when its lines are to be ignored (or on -ENOMEM, in *err). */
static struct wg_peer *section_peer(struct wg_uapi_session *s, int *err)
{
	struct wg_peer *peer = NULL;
	int ret;

	*err = 0;
	switch (s->peer_state) {
	case WG_UAPI_PEER_PENDING:
		ret = wg_device_peer_add(s->dev, s->peer_key, &peer);
		if (ret < 0 && ret != -EEXIST) {
			*err = ret;
			return NULL;
		}
		s->peer_state = WG_UAPI_PEER_LIVE;
		return peer;
	case WG_UAPI_PEER_LIVE:
		peer = wg_device_peer_lookup(s->dev, s->peer_key);
		/* Removed by another client meanwhile: ignore the rest of
		 * this section, as wireguard-go configures a detached peer. */
		if (peer == NULL)
			s->peer_state = WG_UAPI_PEER_IGNORED;
		return peer;
	default:
		return NULL;
	}
}

/* The end of a peer's section: a new key with no other line is created
 * here (wg set wg0 peer KEY). */
static int end_section(struct wg_uapi_session *s)
{
	int ret = 0;

	if (s->peer_state == WG_UAPI_PEER_PENDING)
		section_peer(s, &ret);
	return ret;
}

static int set_public_key(struct wg_uapi_session *s, const char *value,
    size_t len)
{
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	int ret;

	if ((ret = end_section(s)) < 0)
		return ret;
	s->peer_state = WG_UAPI_PEER_IGNORED;
	if ((ret = parse_key(value, len, s->peer_key)) < 0)
		goto out;
	/* Our own public key is silently ignored, as in the kernel and
	 * wireguard-go. */
	if (wg_device_get_keys(s->dev, priv, pub) &&
	    wg_equal_ct(pub, s->peer_key, WG_KEY_LEN))
		goto out;
	s->peer_state = wg_device_peer_lookup(s->dev, s->peer_key) ?
	    WG_UAPI_PEER_LIVE : WG_UAPI_PEER_PENDING;
out:
	wg_wipe(priv, sizeof(priv));
	wg_wipe(pub, sizeof(pub));
	return ret;
}

static int set_device_line(struct wg_uapi_session *s, const char *key,
    size_t klen, const char *value, size_t vlen)
{
	uint8_t priv[WG_KEY_LEN];
	uint64_t n;
	int ret;

	if (value_is(key, klen, "private_key")) {
		if ((ret = parse_key(value, vlen, priv)) == 0)
			ret = wg_device_set_private_key(s->dev, priv);
		wg_wipe(priv, sizeof(priv));
		return ret;
	}
	if (value_is(key, klen, "listen_port")) {
		if (parse_uint(value, vlen, UINT16_MAX, &n) < 0)
			return -EINVAL;
		if (s->ops.set_listen_port == NULL)
			return -EADDRINUSE;
		ret = s->ops.set_listen_port(s->ops.ctx, (uint16_t)n);
		/* wireguard-go answers every bind failure this way. */
		return ret < 0 ? -EADDRINUSE : 0;
	}
	if (value_is(key, klen, "fwmark")) {
		if (parse_uint(value, vlen, UINT32_MAX, &n) < 0)
			return -EINVAL;
		if (s->ops.set_fwmark == NULL)
			return -EADDRINUSE;
		ret = s->ops.set_fwmark(s->ops.ctx, (uint32_t)n);
		return ret < 0 ? -EADDRINUSE : 0;
	}
	if (value_is(key, klen, "replace_peers")) {
		if (!value_is(value, vlen, "true"))
			return -EINVAL;
		wg_device_peers_clear(s->dev);
		return 0;
	}
	/* Including every peer key before the first public_key. */
	return -EINVAL;
}

static int set_peer_line(struct wg_uapi_session *s, const char *key,
    size_t klen, const char *value, size_t vlen)
{
	uint8_t psk[WG_KEY_LEN], addr[16], cidr;
	struct wg_endpoint ep;
	struct wg_peer *peer;
	int ret = 0, family;
	uint64_t n;

	if (value_is(key, klen, "update_only")) {
		if (!value_is(value, vlen, "true"))
			return -EINVAL;
		if (s->peer_state == WG_UAPI_PEER_PENDING)
			s->peer_state = WG_UAPI_PEER_IGNORED;
		return 0;
	}
	if (value_is(key, klen, "remove")) {
		if (!value_is(value, vlen, "true"))
			return -EINVAL;
		if (s->peer_state == WG_UAPI_PEER_LIVE &&
		    (peer = wg_device_peer_lookup(s->dev, s->peer_key)))
			wg_device_peer_remove(s->dev, peer);
		s->peer_state = WG_UAPI_PEER_IGNORED;
		return 0;
	}
	if (value_is(key, klen, "protocol_version"))
		return value_is(value, vlen, "1") ? 0 : -EINVAL;
	/* Every other key: parse first, so an ignored section still
	 * reports bad values; then apply. */
	if (value_is(key, klen, "preshared_key")) {
		if ((ret = parse_key(value, vlen, psk)) == 0 &&
		    (peer = section_peer(s, &ret)))
			wg_peer_set_preshared_key(peer, psk);
		wg_wipe(psk, sizeof(psk));
		return ret;
	}
	if (value_is(key, klen, "endpoint")) {
		if (parse_endpoint(s, value, vlen, &ep) < 0)
			return -EINVAL;
		if ((peer = section_peer(s, &ret)))
			wg_peer_set_endpoint(peer, &ep);
		return ret;
	}
	if (value_is(key, klen, "persistent_keepalive_interval")) {
		if (parse_uint(value, vlen, UINT16_MAX, &n) < 0)
			return -EINVAL;
		if ((peer = section_peer(s, &ret)))
			wg_peer_set_persistent_keepalive(peer, (uint16_t)n);
		return ret;
	}
	if (value_is(key, klen, "replace_allowed_ips")) {
		if (!value_is(value, vlen, "true"))
			return -EINVAL;
		if ((peer = section_peer(s, &ret)))
			wg_peer_allowed_ips_clear(peer);
		return ret;
	}
	if (value_is(key, klen, "allowed_ip")) {
		if (parse_prefix(value, vlen, &family, addr, &cidr) < 0)
			return -EINVAL;
		if ((peer = section_peer(s, &ret)))
			ret = wg_peer_allowed_ip_add(peer, family, addr, cidr);
		return ret;
	}
	/* Device keys after a public_key, and unknown keys. */
	return -EINVAL;
}

static int set_line(struct wg_uapi_session *s, const char *line, size_t len)
{
	const char *eq = memchr(line, '=', len);
	size_t klen;

	if (eq == NULL)
		return -EPROTO;
	klen = (size_t)(eq - line);
	if (value_is(line, klen, "public_key"))
		return set_public_key(s, eq + 1, len - klen - 1);
	if (s->peer_state == WG_UAPI_PEER_NONE)
		return set_device_line(s, line, klen, eq + 1, len - klen - 1);
	return set_peer_line(s, line, klen, eq + 1, len - klen - 1);
}

static void begin_set(struct wg_uapi_session *s)
{
	s->state = WG_UAPI_SET;
	s->set_error = 0;
	s->peer_state = WG_UAPI_PEER_NONE;
}

/* The blank line (or EOF): finish the last section and answer. */
static int end_set(struct wg_uapi_session *s)
{
	if (s->set_error == 0)
		s->set_error = end_section(s);
	s->peer_state = WG_UAPI_PEER_NONE;
	wg_wipe(s->peer_key, sizeof(s->peer_key));
	s->state = WG_UAPI_OP;
	return put_errno(s, s->set_error);
}

/* ---------------------------------------------------------------- lines */

/* One complete line (without its newline) in the current state. */
static int handle_line(struct wg_uapi_session *s, char *line, size_t len,
    bool too_long)
{
	int ret;

	switch (s->state) {
	case WG_UAPI_OP:
		if (!too_long && value_is(line, len, "get=1")) {
			s->state = WG_UAPI_GET;
			return 0;
		}
		if (!too_long && value_is(line, len, "set=1")) {
			begin_set(s);
			return 0;
		}
		if (!too_long && value_is(line, len, "stats=1")) {
			s->state = WG_UAPI_STATS;
			return 0;
		}
		return -EPROTO;
	case WG_UAPI_SET:
		/* bufio.ScanLines drops a carriage return before '\n'. */
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len == 0 && !too_long)
			return end_set(s);
		if (s->set_error)
			return 0;
		ret = too_long ? -EINVAL : set_line(s, line, len);
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
			end_set(s);
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
