/* Keypairs and their current/previous/next slots, following Linux noise.c
 * (add_new_keypair, wg_noise_received_with_keypair) and whitepaper
 * section 5.4.6 on key confirmation. */
#include <stdlib.h>
#include <string.h>

#include "keypair.h"
#include "timers.h"

struct wg_keypair *wg_keypair_new(const uint8_t sending[static WG_KEY_LEN],
    const uint8_t receiving[static WG_KEY_LEN], uint32_t remote_index,
    bool i_am_the_initiator, uint64_t now, uint64_t internal_id)
{
	struct wg_keypair *kp = calloc(1, sizeof(*kp));

	if (kp == NULL)
		return NULL;
	memcpy(kp->sending_key, sending, WG_KEY_LEN);
	memcpy(kp->receiving_key, receiving, WG_KEY_LEN);
	wg_replay_init(&kp->replay);
	kp->entry.kind = WG_INDEX_KEYPAIR;
	kp->birthdate = now;
	kp->internal_id = internal_id;
	kp->remote_index = remote_index;
	kp->sending_valid = true;
	kp->receiving_valid = true;
	kp->i_am_the_initiator = i_am_the_initiator;
	return kp;
}

void wg_keypair_free(struct wg_keypair *kp, struct wg_index_table *t)
{
	if (kp == NULL)
		return;
	wg_index_table_remove(t, &kp->entry);
	wg_wipe(kp, sizeof(*kp));
	free(kp);
}

bool wg_keypair_can_send(struct wg_keypair *kp, uint64_t now)
{
	if (!kp->sending_valid)
		return false;
	/* Whitepaper 6.1: never send after REJECT_AFTER_TIME or with a nonce
	 * at or past REJECT_AFTER_MESSAGES. */
	if (wg_timers_expired(kp->birthdate, WG_REJECT_AFTER_TIME, now) ||
	    kp->sending_counter >= WG_REJECT_AFTER_MESSAGES) {
		kp->sending_valid = false;
		return false;
	}
	return true;
}

bool wg_keypair_can_receive(struct wg_keypair *kp, uint64_t now)
{
	if (!kp->receiving_valid)
		return false;
	/* The replay window's top is one past the greatest counter seen, as
	 * Linux's receiving counter: nothing at or past the limit is taken. */
	if (wg_timers_expired(kp->birthdate, WG_REJECT_AFTER_TIME, now) ||
	    kp->replay.top >= WG_REJECT_AFTER_MESSAGES) {
		kp->receiving_valid = false;
		return false;
	}
	return true;
}

void wg_keypairs_add(struct wg_keypairs *kps, struct wg_keypair *kp,
    struct wg_index_table *t)
{
	if (kp->i_am_the_initiator) {
		/* The response confirmed the keys: send with them at once.
		 * If an unconfirmed responder keypair was waiting in next, it
		 * is newer than current, so it is the one worth keeping as
		 * previous for packets the peer may already have sent. */
		if (kps->next != NULL) {
			wg_keypair_free(kps->previous, t);
			kps->previous = kps->next;
			kps->next = NULL;
			wg_keypair_free(kps->current, t);
		} else {
			wg_keypair_free(kps->previous, t);
			kps->previous = kps->current;
		}
		kps->current = kp;
	} else {
		/* Responder: wait in next for the initiator's first data
		 * message (key confirmation).  previous is dropped so that
		 * once next is promoted, current moves to previous and the
		 * slots never hold more than three keypairs. */
		wg_keypair_free(kps->next, t);
		kps->next = kp;
		wg_keypair_free(kps->previous, t);
		kps->previous = NULL;
	}
}

bool wg_keypairs_received_with(struct wg_keypairs *kps, struct wg_keypair *kp,
    struct wg_index_table *t)
{
	if (kp == NULL || kp != kps->next)
		return false;
	wg_keypair_free(kps->previous, t);
	kps->previous = kps->current;
	kps->current = kp;
	kps->next = NULL;
	return true;
}

void wg_keypairs_expire_sending(struct wg_keypairs *kps)
{
	if (kps->next != NULL)
		kps->next->sending_valid = false;
	if (kps->current != NULL)
		kps->current->sending_valid = false;
}

void wg_keypairs_clear(struct wg_keypairs *kps, struct wg_index_table *t)
{
	wg_keypair_free(kps->current, t);
	wg_keypair_free(kps->previous, t);
	wg_keypair_free(kps->next, t);
	kps->current = kps->previous = kps->next = NULL;
}
