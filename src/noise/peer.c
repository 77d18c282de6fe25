/* A peer: its handshake, cookie and keypairs, where it is (endpoint), what
 * it may send us (allowed IPs), and its configuration as wg(8) sets it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"

struct wg_peer *wg_peer_new(struct wg_device *dev,
    const uint8_t public_key[static WG_KEY_LEN])
{
	struct wg_peer *peer = calloc(1, sizeof(*peer));

	if (peer == NULL)
		return NULL;
	peer->dev = dev;
	peer->internal_id = ++dev->next_peer_id;
	memcpy(peer->public_key, public_key, WG_KEY_LEN);
	/* A low-order public key leaves the precomputed DH all zeros, and
	 * noise.c then refuses every message to or from this peer. */
	wg_noise_handshake_init(&peer->handshake, &dev->identity, public_key,
	    NULL);
	peer->handshake_entry.kind = WG_INDEX_HANDSHAKE;
	peer->handshake_entry.peer = peer;
	wg_cookie_init(&peer->cookie, public_key);
	wg_timers_init(peer);
	return peer;
}

void wg_peer_free(struct wg_peer *peer)
{
	struct wg_device *dev = peer->dev;

	/* The batch must not outlive the peer whose endpoint it names. */
	if (dev->batch.peer == peer)
		wg_send_batch_flush(dev);
	wg_timers_stop(peer);
	wg_index_table_remove(&dev->indices, &peer->handshake_entry);
	wg_keypairs_clear(&peer->keypairs, &dev->indices);
	wg_allowedips_remove_by_owner(&dev->allowedips, peer);
	wg_send_free_staged(peer);
	wg_noise_handshake_wipe(&peer->handshake);
	wg_cookie_clear(&peer->cookie);
	wg_wipe(peer, sizeof(*peer));
	free(peer);
}

void wg_peer_clear_handshake(struct wg_peer *peer)
{
	wg_noise_handshake_clear(&peer->handshake);
	wg_index_table_remove(&peer->dev->indices, &peer->handshake_entry);
}

void wg_peer_update_endpoint(struct wg_peer *peer,
    const struct wg_endpoint *from)
{
	peer->endpoint = *from;
	peer->has_endpoint = true;
}

void wg_peer_clear_endpoint_src(struct wg_peer *peer)
{
	memset(&peer->endpoint.src6, 0, sizeof(peer->endpoint.src6));
	peer->endpoint.src_ifindex = 0;
}

void wg_peer_identity_changed(struct wg_peer *peer)
{
	wg_noise_precompute_static_static(&peer->handshake,
	    &peer->dev->identity);
	/* As Linux's wg_noise_expire_current_peer_keypairs: the sessions
	 * were made with the old key, so stop sending with them, forget the
	 * handshake in flight, and let the next packet start one at once. */
	wg_peer_clear_handshake(peer);
	peer->has_sent_handshake = false;
	wg_keypairs_expire_sending(&peer->keypairs);
}

/* ---------------------------------------------------------------- config */

void wg_peer_set_preshared_key(struct wg_peer *peer, const uint8_t *psk)
{
	/* Takes effect at the next handshake, as in Linux. */
	if (psk == NULL)
		memset(peer->handshake.preshared_key, 0, WG_KEY_LEN);
	else
		memcpy(peer->handshake.preshared_key, psk, WG_KEY_LEN);
}

void wg_peer_set_endpoint(struct wg_peer *peer, const struct wg_endpoint *ep)
{
	wg_device_enter(peer->dev);
	wg_peer_update_endpoint(peer, ep);
	/* Packets may have been waiting for somewhere to go. */
	wg_send_staged(peer);
}

void wg_peer_set_persistent_keepalive(struct wg_peer *peer, uint16_t secs)
{
	bool turned_on = peer->persistent_keepalive == 0 && secs != 0;

	wg_device_enter(peer->dev);
	peer->persistent_keepalive = secs;
	wg_timers_persistent_keepalive_changed(peer);
	if (turned_on && peer->dev->identity.has_identity)
		wg_send_keepalive(peer);
}

int wg_peer_allowed_ip_add(struct wg_peer *peer, int family,
    const uint8_t *addr, uint8_t cidr)
{
	return wg_allowedips_insert(&peer->dev->allowedips, family, addr, cidr,
	    peer);
}

void wg_peer_allowed_ips_clear(struct wg_peer *peer)
{
	wg_allowedips_remove_by_owner(&peer->dev->allowedips, peer);
}

int wg_peer_allowed_ips_foreach(struct wg_peer *peer,
    int (*cb)(void *ctx, int family, const uint8_t *addr, uint8_t cidr),
    void *ctx)
{
	return wg_allowedips_foreach_by_owner(&peer->dev->allowedips, peer, cb,
	    ctx);
}

void wg_peer_get_info(const struct wg_peer *peer, struct wg_peer_info *info)
{
	memset(info, 0, sizeof(*info));
	memcpy(info->public_key, peer->public_key, WG_KEY_LEN);
	memcpy(info->preshared_key, peer->handshake.preshared_key, WG_KEY_LEN);
	info->has_endpoint = peer->has_endpoint;
	if (peer->has_endpoint)
		info->endpoint = peer->endpoint;
	info->last_handshake_unix_ns = peer->last_handshake_wall_ns;
	info->rx_bytes = peer->rx_bytes;
	info->tx_bytes = peer->tx_bytes;
	info->persistent_keepalive = peer->persistent_keepalive;
}

bool wg_peer_begin_session(struct wg_peer *peer)
{
	struct wg_device *dev = peer->dev;
	struct wg_session_keys keys;
	struct wg_keypair *kp = NULL;
	bool ok = false;

	if (!wg_noise_derive_keys(&keys, &peer->handshake))
		goto out;
	/* The peer addresses the keypair by the index it learned from our
	 * handshake message, so the keypair inherits that index. */
	if (!peer->handshake_entry.linked ||
	    peer->handshake_entry.index != keys.local_index) {
		wg_device_logf(dev, WG_LOG_ERROR,
		    "Peer %llu: handshake index lost, dropping session",
		    (unsigned long long)peer->internal_id);
		goto out;
	}
	kp = wg_keypair_new(keys.sending, keys.receiving, keys.remote_index,
	    keys.is_initiator, dev->now, ++dev->next_keypair_id);
	if (kp == NULL)
		goto out;
	kp->entry.peer = peer;
	wg_keypairs_add(&peer->keypairs, kp, &dev->indices);
	wg_index_table_replace(&dev->indices, &peer->handshake_entry,
	    &kp->entry);
	wg_device_logf(dev, WG_LOG_DEBUG, "Keypair %llu created for peer %llu",
	    (unsigned long long)kp->internal_id,
	    (unsigned long long)peer->internal_id);
	ok = true;
out:
	if (!ok)
		wg_peer_clear_handshake(peer);
	wg_wipe(&keys, sizeof(keys));
	return ok;
}
