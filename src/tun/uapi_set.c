/* The "set=1" lines of the UAPI protocol: parsing each value as
 * wireguard-go does (strconv.ParseUint, hex keys of exactly 64 digits,
 * netip.ParseAddrPort / ParsePrefix: numbers only, no host names) and
 * applying it to the device; see uapi_set.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "crypto/encoding.h"
#include "device.h"
#include "uapi_set.h"

/* ---------------------------------------------------------------- values */

bool wg_uapi_value_is(const char *value, size_t len, const char *want)
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

	if (wg_uapi_value_is(key, klen, "private_key")) {
		if ((ret = parse_key(value, vlen, priv)) == 0)
			ret = wg_device_set_private_key(s->dev, priv);
		wg_wipe(priv, sizeof(priv));
		return ret;
	}
	if (wg_uapi_value_is(key, klen, "listen_port")) {
		if (parse_uint(value, vlen, UINT16_MAX, &n) < 0)
			return -EINVAL;
		if (s->ops.set_listen_port == NULL)
			return -EADDRINUSE;
		ret = s->ops.set_listen_port(s->ops.ctx, (uint16_t)n);
		/* wireguard-go answers every bind failure this way. */
		return ret < 0 ? -EADDRINUSE : 0;
	}
	if (wg_uapi_value_is(key, klen, "fwmark")) {
		if (parse_uint(value, vlen, UINT32_MAX, &n) < 0)
			return -EINVAL;
		if (s->ops.set_fwmark == NULL)
			return -EADDRINUSE;
		ret = s->ops.set_fwmark(s->ops.ctx, (uint32_t)n);
		return ret < 0 ? -EADDRINUSE : 0;
	}
	if (wg_uapi_value_is(key, klen, "replace_peers")) {
		if (!wg_uapi_value_is(value, vlen, "true"))
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

	if (wg_uapi_value_is(key, klen, "update_only")) {
		if (!wg_uapi_value_is(value, vlen, "true"))
			return -EINVAL;
		if (s->peer_state == WG_UAPI_PEER_PENDING)
			s->peer_state = WG_UAPI_PEER_IGNORED;
		return 0;
	}
	if (wg_uapi_value_is(key, klen, "remove")) {
		if (!wg_uapi_value_is(value, vlen, "true"))
			return -EINVAL;
		if (s->peer_state == WG_UAPI_PEER_LIVE &&
		    (peer = wg_device_peer_lookup(s->dev, s->peer_key)))
			wg_device_peer_remove(s->dev, peer);
		s->peer_state = WG_UAPI_PEER_IGNORED;
		return 0;
	}
	if (wg_uapi_value_is(key, klen, "protocol_version"))
		return wg_uapi_value_is(value, vlen, "1") ? 0 : -EINVAL;
	/* Every other key: parse first, so an ignored section still
	 * reports bad values; then apply. */
	if (wg_uapi_value_is(key, klen, "preshared_key")) {
		if ((ret = parse_key(value, vlen, psk)) == 0 &&
		    (peer = section_peer(s, &ret)))
			wg_peer_set_preshared_key(peer, psk);
		wg_wipe(psk, sizeof(psk));
		return ret;
	}
	if (wg_uapi_value_is(key, klen, "endpoint")) {
		if (parse_endpoint(s, value, vlen, &ep) < 0)
			return -EINVAL;
		if ((peer = section_peer(s, &ret)))
			wg_peer_set_endpoint(peer, &ep);
		return ret;
	}
	if (wg_uapi_value_is(key, klen, "persistent_keepalive_interval")) {
		if (parse_uint(value, vlen, UINT16_MAX, &n) < 0)
			return -EINVAL;
		if ((peer = section_peer(s, &ret)))
			wg_peer_set_persistent_keepalive(peer, (uint16_t)n);
		return ret;
	}
	if (wg_uapi_value_is(key, klen, "replace_allowed_ips")) {
		if (!wg_uapi_value_is(value, vlen, "true"))
			return -EINVAL;
		if ((peer = section_peer(s, &ret)))
			wg_peer_allowed_ips_clear(peer);
		return ret;
	}
	if (wg_uapi_value_is(key, klen, "allowed_ip")) {
		if (parse_prefix(value, vlen, &family, addr, &cidr) < 0)
			return -EINVAL;
		if ((peer = section_peer(s, &ret)))
			ret = wg_peer_allowed_ip_add(peer, family, addr, cidr);
		return ret;
	}
	/* Device keys after a public_key, and unknown keys. */
	return -EINVAL;
}

int wg_uapi_set_line(struct wg_uapi_session *s, const char *line, size_t len)
{
	const char *eq = memchr(line, '=', len);
	size_t klen;

	if (eq == NULL)
		return -EPROTO;
	klen = (size_t)(eq - line);
	if (wg_uapi_value_is(line, klen, "public_key"))
		return set_public_key(s, eq + 1, len - klen - 1);
	if (s->peer_state == WG_UAPI_PEER_NONE)
		return set_device_line(s, line, klen, eq + 1, len - klen - 1);
	return set_peer_line(s, line, klen, eq + 1, len - klen - 1);
}

void wg_uapi_set_begin(struct wg_uapi_session *s)
{
	s->state = WG_UAPI_SET;
	s->set_error = 0;
	s->peer_state = WG_UAPI_PEER_NONE;
}

int wg_uapi_set_end(struct wg_uapi_session *s)
{
	if (s->set_error == 0)
		s->set_error = end_section(s);
	s->peer_state = WG_UAPI_PEER_NONE;
	wg_wipe(s->peer_key, sizeof(s->peer_key));
	s->state = WG_UAPI_OP;
	return s->set_error;
}

