/* Login sessions; see session.h.
 *
 * Ids are 32 bytes from getrandom(2) (the OS CSPRNG), kept raw and
 * compared with CRYPTO_memcmp against every slot, so that a lookup's time
 * says nothing about how close a guess came.  A table of a few thousand
 * slots scanned whole is cheap next to the request around it. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>

#include "dashboard/session.h"

enum { ID_LEN = REQ_TOKEN_HEX / 2 };

struct slot {
	bool used;
	uint8_t id[ID_LEN];
	struct session_info info;
	int64_t created, last;
};

struct sessions {
	pthread_mutex_t lock;
	struct slot *slots;
	size_t max;
	int64_t idle_ms, abs_ms;
};

struct sessions *sessions_new(size_t max, int64_t idle_ms, int64_t abs_ms)
{
	struct sessions *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->slots = calloc(max, sizeof(*s->slots));
	if (s->slots == NULL) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->max = max;
	s->idle_ms = idle_ms;
	s->abs_ms = abs_ms;
	return s;
}

void sessions_free(struct sessions *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s->slots, s->max * sizeof(*s->slots));
	pthread_mutex_destroy(&s->lock);
	free(s->slots);
	free(s);
}

static void to_hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static bool from_hex(const char *s, uint8_t out[static ID_LEN])
{
	size_t i;
	int hi, lo;

	if (!req_token_valid(s))
		return false;
	for (i = 0; i < ID_LEN; i++) {
		hi = s[2 * i] <= '9' ? s[2 * i] - '0' : s[2 * i] - 'a' + 10;
		lo = s[2 * i + 1] <= '9' ? s[2 * i + 1] - '0' :
		    s[2 * i + 1] - 'a' + 10;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static bool random_bytes(uint8_t *b, size_t n)
{
	return getrandom(b, n, 0) == (ssize_t)n;
}

static bool expired(const struct sessions *s, const struct slot *sl,
    int64_t now)
{
	return now - sl->last >= s->idle_ms || now - sl->created >= s->abs_ms;
}

int sessions_create(struct sessions *s, const char *user, enum user_role role,
    int64_t now_ms, char id[static REQ_TOKEN_HEX + 1],
    struct session_info *info)
{
	uint8_t raw[ID_LEN], csrf[ID_LEN];
	struct slot *sl = NULL, *lru = NULL;
	size_t i;

	if (!random_bytes(raw, sizeof(raw)) ||
	    !random_bytes(csrf, sizeof(csrf)))
		return -EIO;
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->max && sl == NULL; i++) {
		struct slot *c = &s->slots[i];

		if (!c->used || expired(s, c, now_ms))
			sl = c;
		else if (lru == NULL || c->last < lru->last)
			lru = c;
	}
	if (sl == NULL)
		sl = lru;	/* full: the least recently used goes */
	if (sl == NULL) {
		pthread_mutex_unlock(&s->lock);
		return -ENOMEM;	/* a table of no slots */
	}
	memset(sl, 0, sizeof(*sl));
	sl->used = true;
	memcpy(sl->id, raw, ID_LEN);
	strncpy(sl->info.user, user, USER_NAME_MAX);
	sl->info.role = role;
	to_hex(csrf, ID_LEN, sl->info.csrf);
	sl->created = sl->last = now_ms;
	*info = sl->info;
	pthread_mutex_unlock(&s->lock);
	to_hex(raw, ID_LEN, id);
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(csrf, sizeof(csrf));
	return 0;
}

/* The slot holding id, scanning every slot (lock held). */
static struct slot *find(struct sessions *s, const uint8_t id[static ID_LEN])
{
	struct slot *hit = NULL;
	size_t i;

	for (i = 0; i < s->max; i++)
		if (CRYPTO_memcmp(s->slots[i].id, id, ID_LEN) == 0 &&
		    s->slots[i].used)
			hit = &s->slots[i];
	return hit;
}

bool sessions_lookup(struct sessions *s, const char *id, int64_t now_ms,
    struct session_info *info)
{
	uint8_t raw[ID_LEN];
	struct slot *sl;
	bool ok = false;

	if (!from_hex(id, raw))
		return false;
	pthread_mutex_lock(&s->lock);
	sl = find(s, raw);
	if (sl && expired(s, sl, now_ms)) {
		memset(sl, 0, sizeof(*sl));
	} else if (sl) {
		sl->last = now_ms;
		*info = sl->info;
		ok = true;
	}
	pthread_mutex_unlock(&s->lock);
	OPENSSL_cleanse(raw, sizeof(raw));
	return ok;
}

void sessions_remove(struct sessions *s, const char *id)
{
	uint8_t raw[ID_LEN];
	struct slot *sl;

	if (!from_hex(id, raw))
		return;
	pthread_mutex_lock(&s->lock);
	sl = find(s, raw);
	if (sl)
		OPENSSL_cleanse(sl, sizeof(*sl));
	pthread_mutex_unlock(&s->lock);
}

bool sessions_csrf_ok(const struct session_info *info, const char *token)
{
	if (!req_token_valid(token))
		return false;
	return CRYPTO_memcmp(info->csrf, token, REQ_TOKEN_HEX) == 0;
}

size_t sessions_count(struct sessions *s)
{
	size_t i, n = 0;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->max; i++)
		n += s->slots[i].used;
	pthread_mutex_unlock(&s->lock);
	return n;
}
