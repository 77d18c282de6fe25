/* The users file and its passwords; see users.h.
 *
 * scrypt (RFC 7914) through OpenSSL's libcrypto, the one the dashboard
 * already has through libmosquitto (never BoringSSL here).  The cost is
 * recorded in each hash, so raising the default later leaves old hashes
 * valid; a cost above MEM_MAX is refused rather than computed, so that a
 * doctored file cannot make a login take the process's memory. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "dashboard/users.h"

enum {
	SALT_LEN = 16,
	KEY_LEN = 32,
	DEFAULT_N = 16384,
	DEFAULT_R = 8,
	DEFAULT_P = 1,
	LINE_MAX_ = USER_NAME_MAX + 16 + USER_HASH_MAX,
};
#define MEM_MAX ((uint64_t)64 << 20)

struct user {
	char name[USER_NAME_MAX + 1];
	enum user_role role;
	char hash[USER_HASH_MAX];
};

struct users {
	pthread_mutex_t lock;
	char *path;
	struct user *list;
	size_t n;
	struct timespec mtime;
	off_t size;
	char dummy[USER_HASH_MAX];	/* what an unknown user is checked
					 * against */
};

const char *users_role_name(enum user_role role)
{
	return role == USER_ROLE_OPERATOR ? "operator" :
	    role == USER_ROLE_VIEWER ? "viewer" : "none";
}

enum user_role users_role_parse(const char *s)
{
	if (strcmp(s, "viewer") == 0)
		return USER_ROLE_VIEWER;
	if (strcmp(s, "operator") == 0)
		return USER_ROLE_OPERATOR;
	return USER_ROLE_NONE;
}

bool users_name_valid(const char *name)
{
	size_t i;

	if (name[0] == '\0' || name[0] == '.' ||
	    strlen(name) > USER_NAME_MAX)
		return false;
	for (i = 0; name[i]; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-'))
			return false;
	}
	return true;
}

/* ---------------------------------------------------------------- hash */

static bool cost_ok(uint64_t n, uint32_t r, uint32_t p)
{
	if (n < 2 || (n & (n - 1)) != 0 || r == 0 || p == 0 || r > 64 ||
	    p > 16)
		return false;
	return n <= MEM_MAX / 128 / r && (uint64_t)128 * n * r * p <=
	    MEM_MAX;
}

static int scrypt(const char *pw, size_t len, const uint8_t *salt,
    size_t salt_len, uint64_t n, uint32_t r, uint32_t p,
    uint8_t key[static KEY_LEN])
{
	if (!cost_ok(n, r, p))
		return -EINVAL;
	/* The memory bound a little above the cost's own 128*N*r*p. */
	if (EVP_PBE_scrypt(pw, len, salt, salt_len, n, r, p,
	    MEM_MAX + ((uint64_t)1 << 20), key, KEY_LEN) != 1)
		return -ENOMEM;
	return 0;
}

int users_hash_with(const char *pw, size_t len, const uint8_t *salt,
    size_t salt_len, uint64_t n, uint32_t r, uint32_t p,
    char out[static USER_HASH_MAX])
{
	uint8_t key[KEY_LEN];
	char s64[4 * ((SALT_LEN * 2 + 2) / 3) + 1];
	char k64[4 * ((KEY_LEN + 2) / 3) + 1];
	int ret;

	if (salt_len == 0 || salt_len > SALT_LEN * 2)
		return -EINVAL;
	ret = scrypt(pw, len, salt, salt_len, n, r, p, key);
	if (ret < 0)
		goto out;
	EVP_EncodeBlock((unsigned char *)s64, salt, (int)salt_len);
	EVP_EncodeBlock((unsigned char *)k64, key, KEY_LEN);
	if (snprintf(out, USER_HASH_MAX, "$scrypt$%llu$%u$%u$%s$%s",
	    (unsigned long long)n, r, p, s64, k64) >= USER_HASH_MAX)
		ret = -ENAMETOOLONG;
out:
	OPENSSL_cleanse(key, sizeof(key));
	return ret;
}

int users_hash_password(const char *pw, size_t len,
    char out[static USER_HASH_MAX])
{
	uint8_t salt[SALT_LEN];

	if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt))
		return -EIO;
	return users_hash_with(pw, len, salt, sizeof(salt), DEFAULT_N,
	    DEFAULT_R, DEFAULT_P, out);
}

/* Standard base64 with padding, as EVP_EncodeBlock writes it; returns
 * the decoded length or -1. */
static int b64_decode(const char *s, size_t n, uint8_t *out, size_t cap)
{
	uint8_t tmp[96];
	int len, pad = 0;

	if (n == 0 || n % 4 != 0 || n / 4 * 3 > sizeof(tmp))
		return -1;
	if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789+/=") < n)
		return -1;
	len = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
	if (len < 0)
		return -1;
	if (s[n - 1] == '=')
		pad++;
	if (s[n - 2] == '=')
		pad++;
	len -= pad;
	if (len <= 0 || (size_t)len > cap)
		return -1;
	memcpy(out, tmp, (size_t)len);
	return len;
}

/* "$scrypt$N$r$p$SALT$KEY" */
static bool hash_parse(const char *e, uint64_t *n, uint32_t *r, uint32_t *p,
    uint8_t *salt, int *salt_len, uint8_t key[static KEY_LEN])
{
	unsigned long long nn;
	unsigned rr, pp;
	int used = 0;
	const char *s64, *k64;

	if (strncmp(e, "$scrypt$", 8) != 0 ||
	    sscanf(e + 8, "%llu$%u$%u$%n", &nn, &rr, &pp, &used) != 3 ||
	    used == 0 || e[8] == '-' || e[8] == '+')
		return false;
	s64 = e + 8 + used;
	k64 = strchr(s64, '$');
	if (k64 == NULL)
		return false;
	*salt_len = b64_decode(s64, (size_t)(k64 - s64), salt, SALT_LEN * 2);
	k64++;
	if (*salt_len < 1 ||
	    b64_decode(k64, strlen(k64), key, KEY_LEN) != KEY_LEN)
		return false;
	*n = nn;
	*r = rr;
	*p = pp;
	return cost_ok(nn, rr, pp);
}

bool users_hash_check(const char *encoded, const char *pw, size_t len)
{
	uint8_t salt[SALT_LEN * 2], want[KEY_LEN], got[KEY_LEN];
	uint64_t n;
	uint32_t r, p;
	int salt_len;
	bool ok = false;

	if (!hash_parse(encoded, &n, &r, &p, salt, &salt_len, want))
		goto out;
	if (scrypt(pw, len, salt, (size_t)salt_len, n, r, p, got) < 0)
		goto out;
	ok = CRYPTO_memcmp(want, got, KEY_LEN) == 0;
out:
	OPENSSL_cleanse(got, sizeof(got));
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

/* ---------------------------------------------------------------- file */

/* One line "NAME:ROLE:HASH" into u; false with why. */
static bool line_parse(char *line, struct user *u, const char **why)
{
	char *c1 = strchr(line, ':'), *c2;
	uint8_t salt[SALT_LEN * 2], key[KEY_LEN];
	uint64_t n;
	uint32_t r, p;
	int sl;

	*why = "not NAME:ROLE:HASH";
	if (c1 == NULL || (c2 = strchr(c1 + 1, ':')) == NULL)
		return false;
	*c1 = *c2 = '\0';
	*why = "bad user name";
	if (!users_name_valid(line))
		return false;
	*why = "role is neither viewer nor operator";
	u->role = users_role_parse(c1 + 1);
	if (u->role == USER_ROLE_NONE)
		return false;
	*why = "hash is not $scrypt$N$r$p$SALT$KEY within the cost limits";
	if (strlen(c2 + 1) >= USER_HASH_MAX ||
	    !hash_parse(c2 + 1, &n, &r, &p, salt, &sl, key))
		return false;
	strcpy(u->name, line);
	strcpy(u->hash, c2 + 1);
	return true;
}

/* Reads path into a new list (*list, *n).  0 or -errno with err. */
static int file_read(const char *path, struct user **list, size_t *count,
    struct stat *st, char *err, size_t errlen)
{
	char line[LINE_MAX_ + 2];
	struct user *l = NULL;
	const char *why;
	size_t n = 0, lineno = 0, len, i;
	FILE *f = fopen(path, "re");
	int ret = 0;

	if (f == NULL) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fileno(f), st) < 0)
		memset(st, 0, sizeof(*st));
	l = calloc(USERS_MAX, sizeof(*l));
	if (l == NULL) {
		ret = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		len = strlen(line);
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(f)) {
			snprintf(err, errlen, "%s:%zu: line too long", path,
			    lineno);
			ret = -EINVAL;
			goto out;
		}
		if (len == 0 || line[0] == '#')
			continue;
		if (n == USERS_MAX) {
			snprintf(err, errlen, "%s:%zu: more than %d users",
			    path, lineno, USERS_MAX);
			ret = -E2BIG;
			goto out;
		}
		if (!line_parse(line, &l[n], &why)) {
			snprintf(err, errlen, "%s:%zu: %s", path, lineno, why);
			ret = -EINVAL;
			goto out;
		}
		for (i = 0; i < n; i++)
			if (strcmp(l[i].name, l[n].name) == 0) {
				snprintf(err, errlen, "%s:%zu: user %s again",
				    path, lineno, l[n].name);
				ret = -EINVAL;
				goto out;
			}
		n++;
	}
	if (ferror(f)) {
		ret = -EIO;
		snprintf(err, errlen, "%s: read error", path);
	}
out:
	fclose(f);
	OPENSSL_cleanse(line, sizeof(line));
	if (ret < 0) {
		free(l);
		return ret;
	}
	*list = l;
	*count = n;
	return 0;
}

struct users *users_open(const char *path, char *err, size_t errlen)
{
	struct users *u = calloc(1, sizeof(*u));
	struct stat st;
	char pw[32];

	if (u == NULL || (u->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (file_read(path, &u->list, &u->n, &st, err, errlen) < 0)
		goto fail;
	u->mtime = st.st_mtim;
	u->size = st.st_size;
	/* A password no one knows, for unknown names to be checked
	 * against at the same cost as a real one. */
	if (getrandom(pw, sizeof(pw), 0) != (ssize_t)sizeof(pw) ||
	    users_hash_password(pw, sizeof(pw), u->dummy) < 0) {
		snprintf(err, errlen, "cannot make the dummy hash");
		goto fail;
	}
	OPENSSL_cleanse(pw, sizeof(pw));
	pthread_mutex_init(&u->lock, NULL);
	return u;
fail:
	if (u) {
		free(u->list);
		free(u->path);
	}
	free(u);
	return NULL;
}

void users_free(struct users *u)
{
	if (u == NULL)
		return;
	pthread_mutex_destroy(&u->lock);
	if (u->list)
		OPENSSL_cleanse(u->list, u->n * sizeof(*u->list));
	free(u->list);
	free(u->path);
	free(u);
}

size_t users_count(struct users *u)
{
	size_t n;

	pthread_mutex_lock(&u->lock);
	n = u->n;
	pthread_mutex_unlock(&u->lock);
	return n;
}

/* With u->lock held. */
static void reload_if_changed(struct users *u)
{
	struct user *list;
	struct stat st;
	size_t n;
	char err[512];

	if (stat(u->path, &st) < 0 ||
	    (st.st_mtim.tv_sec == u->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == u->mtime.tv_nsec && st.st_size == u->size))
		return;
	if (file_read(u->path, &list, &n, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "wgu-dashboard: users file changed but not "
		    "read again, keeping %zu accounts: %s\n", u->n, err);
	} else {
		OPENSSL_cleanse(u->list, u->n * sizeof(*u->list));
		free(u->list);
		u->list = list;
		u->n = n;
		fprintf(stderr, "wgu-dashboard: users file read again: %zu "
		    "accounts\n", n);
	}
	/* Either way, not again until it changes again. */
	u->mtime = st.st_mtim;
	u->size = st.st_size;
}

enum user_role users_verify(struct users *u, const char *name,
    const char *pw, size_t len)
{
	char hash[USER_HASH_MAX];
	enum user_role role = USER_ROLE_NONE;
	bool known = false;
	size_t i;

	pthread_mutex_lock(&u->lock);
	reload_if_changed(u);
	memcpy(hash, u->dummy, sizeof(hash));
	for (i = 0; i < u->n; i++)
		if (strcmp(u->list[i].name, name) == 0) {
			memcpy(hash, u->list[i].hash, sizeof(hash));
			role = u->list[i].role;
			known = true;
			break;
		}
	pthread_mutex_unlock(&u->lock);
	if (!users_hash_check(hash, pw, len) || !known)
		role = USER_ROLE_NONE;
	return role;
}
