/* /api/tunnel: the hub's WireGuard peers and wgu's drop counters, asked
 * from the interface's daemon over its UAPI socket with the command
 * line's client (src/cli/ipc.c): "get=1" for the peers (endpoint, latest
 * handshake, bytes each way), "stats=1" for the drops (what `wgu stats`
 * prints).  The get answer carries the private key: it is never copied
 * out of the reply buffer, which wg_buf_free() wipes. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/ipc.h"
#include "crypto/encoding.h"
#include "dashboard/internal.h"

enum { PEERS_MAX = 4096, REPLY_MAX = 4 << 20 };

void dash_tunnel_clear(struct dash_tunnel *t)
{
	free(t->peers);
	memset(t, 0, sizeof(*t));
}

static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
	char buf[24], *end;

	if (len == 0 || len >= sizeof(buf) || s[0] < '0' || s[0] > '9')
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	*out = strtoull(buf, &end, 10);
	return errno == 0 && *end == '\0';
}

/* A public key: 64 hex digits in the UAPI, base64 as wg(8) shows it
 * (and as the historian names a peer in its handshake alarms). */
static bool key_base64(const char *hex, size_t len,
    char out[static DASH_KEY_B64_LEN + 1])
{
	uint8_t key[WG_KEY_LEN];

	if (!wg_key_from_hex(key, hex, len))
		return false;
	wg_key_to_base64(out, key);
	return true;
}

static int add_peer(struct dash_tunnel *t, const char *hex, size_t len)
{
	char b64[DASH_KEY_B64_LEN + 1];
	struct dash_peer *p;

	if (t->npeers >= PEERS_MAX || !key_base64(hex, len, b64))
		return -EPROTO;
	p = realloc(t->peers, (t->npeers + 1) * sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	t->peers = p;
	p = &t->peers[t->npeers++];
	memset(p, 0, sizeof(*p));
	memcpy(p->public_key, b64, sizeof(b64));
	return 0;
}

/* One "key=value" line of a peer. */
static int peer_line(struct dash_peer *p, const char *key, size_t klen,
    const char *val, size_t vlen)
{
	uint64_t n;

#define IS(k) (klen == sizeof(k) - 1 && memcmp(key, k, klen) == 0)
	if (IS("endpoint")) {
		if (vlen >= sizeof(p->endpoint))
			return -EPROTO;
		memcpy(p->endpoint, val, vlen);
		p->endpoint[vlen] = '\0';
	} else if (IS("last_handshake_time_sec")) {
		if (!parse_u64(val, vlen, &n) || n > INT64_MAX)
			return -EPROTO;
		p->latest_handshake = (int64_t)n;
	} else if (IS("rx_bytes")) {
		if (!parse_u64(val, vlen, &p->rx_bytes))
			return -EPROTO;
	} else if (IS("tx_bytes")) {
		if (!parse_u64(val, vlen, &p->tx_bytes))
			return -EPROTO;
	}
#undef IS
	return 0;
}

/* Calls fn for each line of the answer up to its blank line; the errno
 * line must be there. */
static int each_line(const char *reply, struct dash_tunnel *t,
    int (*fn)(struct dash_tunnel *, const char *, size_t, const char *,
    size_t))
{
	const char *line = reply, *nl, *eq;
	bool errno_seen = false;
	int ret;

	for (; (nl = strchr(line, '\n')) != NULL && nl != line;
	    line = nl + 1) {
		eq = memchr(line, '=', (size_t)(nl - line));
		if (eq == NULL)
			return -EPROTO;
		if (eq - line == 5 && memcmp(line, "errno", 5) == 0) {
			errno_seen = true;
			continue;
		}
		ret = fn(t, line, (size_t)(eq - line), eq + 1,
		    (size_t)(nl - eq - 1));
		if (ret < 0)
			return ret;
	}
	return nl != NULL && errno_seen ? 0 : -EPROTO;
}

static int get_line(struct dash_tunnel *t, const char *key, size_t klen,
    const char *val, size_t vlen)
{
	if (klen == 10 && memcmp(key, "public_key", 10) == 0)
		return add_peer(t, val, vlen);
	/* Lines before the first peer are the interface's. */
	if (t->npeers == 0)
		return 0;
	return peer_line(&t->peers[t->npeers - 1], key, klen, val, vlen);
}

static int stats_line(struct dash_tunnel *t, const char *key, size_t klen,
    const char *val, size_t vlen)
{
	struct dash_drop *dr;
	size_t i;

	if (t->ndrops >= sizeof(t->drops) / sizeof(t->drops[0]) ||
	    klen == 0 || klen >= sizeof(dr->reason))
		return -EPROTO;
	for (i = 0; i < klen; i++)
		if (!((key[i] >= 'a' && key[i] <= 'z') || key[i] == '_' ||
		    (key[i] >= '0' && key[i] <= '9')))
			return -EPROTO;
	dr = &t->drops[t->ndrops];
	if (!parse_u64(val, vlen, &dr->count))
		return -EPROTO;
	memcpy(dr->reason, key, klen);
	dr->reason[klen] = '\0';
	t->ndrops++;
	return 0;
}

int dash_tunnel_parse_get(const char *reply, struct dash_tunnel *t)
{
	return each_line(reply, t, get_line);
}

int dash_tunnel_parse_stats(const char *reply, struct dash_tunnel *t)
{
	return each_line(reply, t, stats_line);
}

static int ask(const char *ifname, const char *req, struct dash_tunnel *t,
    int (*parse)(const char *, struct dash_tunnel *), const char **what)
{
	struct wg_buf reply = { 0 };
	int ret;

	/* The read-only monitor socket (group wgu-monitor): no key is in
	 * its answers, and a daemon that hangs costs at most 2 s. */
	ret = wg_ipc_monitor_call_timeout(ifname, req, &reply, 2000);
	if (ret == 0 && reply.len > REPLY_MAX)
		ret = -EMSGSIZE;
	if (ret == 0 && (ret = parse(reply.s, t)) < 0)
		*what = "an answer that is not UAPI";
	wg_buf_free(&reply);
	return ret;
}

int dash_tunnel_read(const char *ifname, struct dash_tunnel *t,
    char err[static DASH_ERR_MAX])
{
	const char *what = NULL;
	int ret;

	memset(t, 0, sizeof(*t));
	ret = ask(ifname, "get=1\n\n", t, dash_tunnel_parse_get, &what);
	if (ret == 0)
		ret = ask(ifname, "stats=1\n\n", t, dash_tunnel_parse_stats,
		    &what);
	if (ret < 0)
		snprintf(err, DASH_ERR_MAX, "interface %s: %s", ifname,
		    what ? what : ret == -EPROTO ? "the daemon does not "
		    "answer stats=1" : strerror(-ret));
	return ret;
}

static cJSON *tunnel_json(const char *ifname, const struct dash_tunnel *t,
    int64_t now_ms)
{
	cJSON *o = cJSON_CreateObject(), *peers, *p, *drops;
	const struct dash_peer *pe;
	size_t i;

	if (ifname)
		cJSON_AddStringToObject(o, "interface", ifname);
	else
		cJSON_AddNullToObject(o, "interface");
	peers = cJSON_AddArrayToObject(o, "peers");
	for (i = 0; i < t->npeers; i++) {
		pe = &t->peers[i];
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "public_key", pe->public_key);
		if (pe->endpoint[0])
			cJSON_AddStringToObject(p, "endpoint", pe->endpoint);
		else
			cJSON_AddNullToObject(p, "endpoint");
		cJSON_AddNumberToObject(p, "latest_handshake",
		    (double)pe->latest_handshake);
		/* Never: null, not 56 years. */
		if (pe->latest_handshake > 0)
			cJSON_AddNumberToObject(p, "handshake_age_s",
			    (double)(now_ms / 1000 - pe->latest_handshake));
		else
			cJSON_AddNullToObject(p, "handshake_age_s");
		cJSON_AddNumberToObject(p, "rx_bytes", (double)pe->rx_bytes);
		cJSON_AddNumberToObject(p, "tx_bytes", (double)pe->tx_bytes);
		cJSON_AddItemToArray(peers, p);
	}
	drops = cJSON_AddObjectToObject(o, "drops");
	for (i = 0; i < t->ndrops; i++)
		cJSON_AddNumberToObject(drops, t->drops[i].reason,
		    (double)t->drops[i].count);
	return o;
}

int dash_api_tunnel(struct dash_data *d, int64_t now_ms, struct dash_reply *r)
{
	struct dash_tunnel t = { 0 };
	char err[DASH_ERR_MAX];
	int ret;

	memset(r, 0, sizeof(*r));
	if (d->interface == NULL)
		return dash_reply_json(r, tunnel_json(NULL, &t, now_ms));
	if (dash_tunnel_read(d->interface, &t, err) < 0) {
		dash_tunnel_clear(&t);
		return dash_reply_error(r, 503, err);
	}
	ret = dash_reply_json(r, tunnel_json(d->interface, &t, now_ms));
	dash_tunnel_clear(&t);
	return ret;
}
