/* The device: its identity, its peers (a hash table on public key plus a
 * list in insertion order), the clock and logging plumbing, and the tick
 * that runs whatever is due. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"

enum {
	PEER_BUCKETS_MIN = 64,
	/* An outgoing data message: header, the largest padded packet, tag. */
	SCRATCH_LEN = WG_DATA_HEADER_LEN + WG_MAX_PACKET_LEN +
	    WG_PADDING_MULTIPLE + WG_AEAD_TAG_LEN,
};

/* ---------------------------------------------------------------- plumbing */

void wg_device_enter(struct wg_device *dev)
{
	dev->now = dev->ops.now(dev->ops.ctx);
}

void wg_device_random(void *ctx, void *buf, size_t len)
{
	struct wg_device *dev = ctx;

	dev->ops.random(dev->ops.ctx, buf, len);
}

uint64_t wg_device_jitter(struct wg_device *dev)
{
	uint32_t r;

	dev->ops.random(dev->ops.ctx, &r, sizeof(r));
	return (uint64_t)(r % (WG_REKEY_TIMEOUT_JITTER_MAX_MS + 1)) *
	    WG_NSEC_PER_MSEC;
}

void wg_device_logf(struct wg_device *dev, enum wg_log_level level,
    const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (dev->ops.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	dev->ops.log(dev->ops.ctx, level, line);
}

int wg_device_endpoint_addr(const struct wg_endpoint *ep,
    const uint8_t **addr)
{
	switch (ep->addr.sa.sa_family) {
	case AF_INET:
		*addr = (const uint8_t *)&ep->addr.in4.sin_addr;
		return AF_INET;
	case AF_INET6:
		*addr = (const uint8_t *)&ep->addr.in6.sin6_addr;
		return AF_INET6;
	default:
		*addr = NULL;
		return AF_UNSPEC;
	}
}

size_t wg_device_endpoint_bytes(const struct wg_endpoint *ep,
    uint8_t out[static 18])
{
	const uint8_t *addr;

	switch (wg_device_endpoint_addr(ep, &addr)) {
	case AF_INET:
		memcpy(out, addr, 4);
		memcpy(out + 4, &ep->addr.in4.sin_port, 2);
		return 6;
	case AF_INET6:
		memcpy(out, addr, 16);
		memcpy(out + 16, &ep->addr.in6.sin6_port, 2);
		return 18;
	default:
		return 0;
	}
}

/* ---------------------------------------------------------------- lifecycle */

struct wg_device *wg_device_new(const struct wg_device_ops *ops)
{
	struct wg_device *dev = calloc(1, sizeof(*dev));
	uint8_t rl_key[WG_RATELIMIT_KEY_LEN];
	bool rl_ok = false;

	if (dev == NULL)
		return NULL;
	dev->ops = *ops;
	dev->mtu = WG_DEFAULT_MTU;
	wg_device_enter(dev);
	wg_allowedips_init(&dev->allowedips);
	wg_timer_heap_init(&dev->timer_heap);
	wg_cookie_checker_init(&dev->cookie_checker);
	wg_cookie_checker_precompute(&dev->cookie_checker, NULL);
	dev->ratelimit_gc_at = WG_TIMER_OFF;

	dev->peers.mask = PEER_BUCKETS_MIN - 1;
	dev->peers.buckets = calloc(PEER_BUCKETS_MIN,
	    sizeof(*dev->peers.buckets));
	dev->ops.random(dev->ops.ctx, &dev->peers.seed,
	    sizeof(dev->peers.seed));
	dev->handshakes.ring = calloc(WG_MAX_QUEUED_HANDSHAKES,
	    sizeof(*dev->handshakes.ring));
	dev->scratch_len = SCRATCH_LEN;
	dev->scratch = malloc(dev->scratch_len);
	dev->batch.buf = malloc(WG_BATCH_MAX_BYTES);
	dev->ops.random(dev->ops.ctx, rl_key, sizeof(rl_key));
	rl_ok = wg_ratelimit_init(&dev->ratelimit, rl_key) == 0;
	wg_wipe(rl_key, sizeof(rl_key));

	if (wg_index_table_init(&dev->indices) != 0 || !rl_ok ||
	    dev->peers.buckets == NULL || dev->handshakes.ring == NULL ||
	    dev->scratch == NULL || dev->batch.buf == NULL) {
		if (!rl_ok)
			memset(&dev->ratelimit, 0, sizeof(dev->ratelimit));
		wg_device_free(dev);
		return NULL;
	}
	return dev;
}

void wg_device_free(struct wg_device *dev)
{
	if (dev == NULL)
		return;
	wg_device_peers_clear(dev);
	wg_allowedips_clear(&dev->allowedips);
	wg_index_table_clear(&dev->indices);
	wg_timer_heap_clear(&dev->timer_heap);
	wg_ratelimit_clear(&dev->ratelimit);
	wg_cookie_checker_clear(&dev->cookie_checker);
	free(dev->peers.buckets);
	if (dev->handshakes.ring != NULL) {
		/* Queued messages are public, but their sources are not
		 * worth leaving around either. */
		wg_wipe(dev->handshakes.ring,
		    WG_MAX_QUEUED_HANDSHAKES * sizeof(*dev->handshakes.ring));
		free(dev->handshakes.ring);
	}
	if (dev->scratch != NULL) {
		wg_wipe(dev->scratch, dev->scratch_len);
		free(dev->scratch);
	}
	if (dev->batch.buf != NULL) {
		/* A failed seal leaves its plaintext behind, as in scratch. */
		wg_wipe(dev->batch.buf, WG_BATCH_MAX_BYTES);
		free(dev->batch.buf);
	}
	wg_wipe(&dev->identity, sizeof(dev->identity));
	free(dev);
}

void wg_device_set_mtu(struct wg_device *dev, unsigned mtu)
{
	dev->mtu = mtu;
}

const struct wg_device_stats *wg_device_get_stats(const struct wg_device *dev)
{
	return &dev->stats;
}

/* ---------------------------------------------------------------- identity */

int wg_device_set_private_key(struct wg_device *dev,
    const uint8_t key[static WG_KEY_LEN])
{
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	struct wg_peer *peer, *self;
	bool has;

	wg_device_enter(dev);
	has = !wg_is_zero_ct(key, WG_KEY_LEN);
	memcpy(priv, key, WG_KEY_LEN);
	if (has)
		wg_x25519_clamp(priv);
	/* The same key again changes nothing, sessions included. */
	if (has == dev->identity.has_identity &&
	    (!has || wg_equal_ct(priv, dev->identity.static_private,
	    WG_KEY_LEN)))
		goto out;

	if (has) {
		wg_x25519_public_from_private(pub, priv);
		/* A peer with our own public key would be ourselves: Linux
		 * removes it before taking the key. */
		self = wg_device_peer_lookup(dev, pub);
		if (self != NULL)
			wg_device_peer_remove(dev, self);
		memcpy(dev->identity.static_private, priv, WG_KEY_LEN);
		memcpy(dev->identity.static_public, pub, WG_KEY_LEN);
	} else {
		wg_wipe(&dev->identity, sizeof(dev->identity));
	}
	dev->identity.has_identity = has;
	for (peer = dev->peers_first; peer != NULL; peer = peer->list_next)
		wg_peer_identity_changed(peer);
	wg_cookie_checker_precompute(&dev->cookie_checker,
	    has ? dev->identity.static_public : NULL);
	wg_device_logf(dev, WG_LOG_INFO, has ? "Private key set" :
	    "Private key removed");
out:
	wg_wipe(priv, sizeof(priv));
	return 0;
}

bool wg_device_get_keys(const struct wg_device *dev,
    uint8_t priv[static WG_KEY_LEN], uint8_t pub[static WG_KEY_LEN])
{
	if (!dev->identity.has_identity)
		return false;
	memcpy(priv, dev->identity.static_private, WG_KEY_LEN);
	memcpy(pub, dev->identity.static_public, WG_KEY_LEN);
	return true;
}

/* ---------------------------------------------------------------- peers */

/* Public keys are uniformly random points chosen by the administrator; a
 * per-device random seed keeps the bucket of a key unpredictable anyway. */
static size_t bucket_of(const struct wg_peer_table *t,
    const uint8_t key[static WG_KEY_LEN])
{
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	h ^= t->seed;
	h *= 0x9e3779b97f4a7c15ULL;
	h ^= h >> 32;
	return (size_t)h & t->mask;
}

/* Doubles the bucket array when chains would average more than two. */
static void maybe_grow(struct wg_peer_table *t)
{
	struct wg_peer **old = t->buckets, **nb;
	size_t oldn = t->mask + 1, newn = oldn * 2, i;

	if (t->count <= 2 * oldn)
		return;
	nb = calloc(newn, sizeof(*nb));
	if (nb == NULL)
		return;		/* longer chains, still correct */
	t->buckets = nb;
	t->mask = newn - 1;
	for (i = 0; i < oldn; i++) {
		struct wg_peer *p = old[i], *next;

		for (; p != NULL; p = next) {
			size_t b = bucket_of(t, p->public_key);

			next = p->hash_next;
			p->hash_next = nb[b];
			nb[b] = p;
		}
	}
	free(old);
}

struct wg_peer *wg_device_peer_lookup(struct wg_device *dev,
    const uint8_t public_key[static WG_KEY_LEN])
{
	struct wg_peer *p;

	for (p = dev->peers.buckets[bucket_of(&dev->peers, public_key)];
	    p != NULL; p = p->hash_next)
		if (wg_equal_ct(p->public_key, public_key, WG_KEY_LEN))
			return p;
	return NULL;
}

int wg_device_peer_add(struct wg_device *dev,
    const uint8_t public_key[static WG_KEY_LEN], struct wg_peer **out)
{
	struct wg_peer *peer;
	size_t b;
	int ret;

	wg_device_enter(dev);
	*out = wg_device_peer_lookup(dev, public_key);
	if (*out != NULL)
		return -EEXIST;
	/* Linux and wireguard-go ignore a peer with the device's own key;
	 * there is no peer to return, so say why. */
	if (dev->identity.has_identity && wg_equal_ct(public_key,
	    dev->identity.static_public, WG_KEY_LEN))
		return -EINVAL;
	if (dev->peers.count >= WG_MAX_PEERS)
		return -ENOSPC;
	ret = wg_timer_heap_reserve(&dev->timer_heap, dev->peers.count + 1);
	if (ret < 0)
		return ret;
	peer = wg_peer_new(dev, public_key);
	if (peer == NULL)
		return -ENOMEM;

	b = bucket_of(&dev->peers, public_key);
	peer->hash_next = dev->peers.buckets[b];
	dev->peers.buckets[b] = peer;
	dev->peers.count++;
	peer->list_prev = dev->peers_last;
	if (dev->peers_last != NULL)
		dev->peers_last->list_next = peer;
	else
		dev->peers_first = peer;
	dev->peers_last = peer;
	maybe_grow(&dev->peers);

	wg_device_logf(dev, WG_LOG_DEBUG, "Peer %llu created",
	    (unsigned long long)peer->internal_id);
	*out = peer;
	return 0;
}

void wg_device_peer_remove(struct wg_device *dev, struct wg_peer *peer)
{
	struct wg_peer **p;

	for (p = &dev->peers.buckets[bucket_of(&dev->peers, peer->public_key)];
	    *p != NULL; p = &(*p)->hash_next) {
		if (*p == peer) {
			*p = peer->hash_next;
			break;
		}
	}
	dev->peers.count--;
	if (peer->list_prev != NULL)
		peer->list_prev->list_next = peer->list_next;
	else
		dev->peers_first = peer->list_next;
	if (peer->list_next != NULL)
		peer->list_next->list_prev = peer->list_prev;
	else
		dev->peers_last = peer->list_prev;

	wg_device_logf(dev, WG_LOG_DEBUG, "Peer %llu destroyed",
	    (unsigned long long)peer->internal_id);
	wg_peer_free(peer);
}

void wg_device_peers_clear(struct wg_device *dev)
{
	while (dev->peers_first != NULL)
		wg_device_peer_remove(dev, dev->peers_first);
}

struct wg_peer *wg_device_peer_first(struct wg_device *dev)
{
	return dev->peers_first;
}

struct wg_peer *wg_device_peer_next(struct wg_peer *peer)
{
	return peer->list_next;
}

/* ---------------------------------------------------------------- time */

/* Linux's ratelimiter collects idle entries every second; only while the
 * table holds any, so an idle daemon does not wake up for it. */
static void ratelimit_gc(struct wg_device *dev)
{
	if (dev->now < dev->ratelimit_gc_at)
		return;
	wg_ratelimit_gc(&dev->ratelimit, dev->now);
	dev->ratelimit_gc_at = wg_ratelimit_count(&dev->ratelimit) > 0 ?
	    dev->now + WG_NSEC_PER_SEC : WG_TIMER_OFF;
}

void wg_device_tick(struct wg_device *dev)
{
	wg_device_enter(dev);
	wg_receive_handshakes(dev, WG_HANDSHAKES_PER_TICK);
	wg_timers_run(dev);
	ratelimit_gc(dev);
}

uint64_t wg_device_next_deadline(const struct wg_device *dev)
{
	uint64_t next = wg_timers_next(dev);

	/* Queued handshakes are due now: the adapter fires at once and
	 * reads its sockets between ticks. */
	if (dev->handshakes.len > 0)
		return dev->now;
	if (dev->ratelimit_gc_at < next)
		next = dev->ratelimit_gc_at;
	return next;
}
