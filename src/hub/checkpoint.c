/* Signed checkpoints: a strict parser of our own line format, Ed25519
 * through OpenSSL's EVP interface, and PEM key files. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "hub/checkpoint.h"

static const char DOMAIN[] = "wgu-historian checkpoint v1\n";

/* ------------------------------------------------------------ parsing */

struct cursor {
	const char *p, *end;
};

static bool take(struct cursor *c, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
		return false;
	c->p += n;
	return true;
}

/* A decimal number without leading zeros, at most 2^63 - 1. */
static bool take_uint(struct cursor *c, uint64_t *out)
{
	uint64_t v = 0;
	const char *start = c->p;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		if (v > (UINT64_C(1) << 63) / 10)
			return false;
		v = v * 10 + (uint64_t)(*c->p - '0');
		c->p++;
	}
	if (c->p == start || (c->p - start > 1 && *start == '0') ||
	    v >= UINT64_C(1) << 63)
		return false;
	*out = v;
	return true;
}

static bool name_byte_ok(char ch)
{
	return ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\';
}

static bool take_name(struct cursor *c, char out[CHECKPOINT_FILE_MAX + 1])
{
	size_t n = 0;

	while (c->p < c->end && *c->p != '"') {
		if (n == CHECKPOINT_FILE_MAX || !name_byte_ok(*c->p))
			return false;
		out[n++] = *c->p++;
	}
	out[n] = '\0';
	return n > 0;
}

static bool take_hex(struct cursor *c, uint8_t *out, size_t n)
{
	if ((size_t)(c->end - c->p) < 2 * n || !chain_unhex(out, c->p, n))
		return false;
	c->p += 2 * n;
	return true;
}

int checkpoint_parse(const char *line, size_t len, struct checkpoint *cp)
{
	struct cursor c = { line, line + len };
	const char *sig;

	if (!take(&c, "{\"n\":") || !take_uint(&c, &cp->n) ||
	    !take(&c, ",\"time\":") || !take_uint(&c, &cp->time_ms) ||
	    !take(&c, ",\"file\":\"") || !take_name(&c, cp->file) ||
	    !take(&c, "\",\"line\":") || !take_uint(&c, &cp->line) ||
	    !take(&c, ",\"chain\":\"") || !take_hex(&c, cp->chain, CHAIN_LEN))
		return -EINVAL;
	sig = c.p;
	if (!take(&c, "\",\"sig\":\"") ||
	    !take_hex(&c, cp->sig, CHECKPOINT_SIG_LEN) || !take(&c, "\"}") ||
	    c.p != c.end)
		return -EINVAL;
	/* The signature covers the chain's closing quote too. */
	cp->signed_len = (size_t)(sig - line) + 1;
	return 0;
}

/* ------------------------------------------------------------ Ed25519 */

/* DOMAIN || line[0..len) into a buffer the caller frees; NULL on OOM. */
static unsigned char *message(const char *line, size_t len, size_t *outlen)
{
	unsigned char *m = malloc(sizeof(DOMAIN) - 1 + len);

	if (m == NULL)
		return NULL;
	memcpy(m, DOMAIN, sizeof(DOMAIN) - 1);
	memcpy(m + sizeof(DOMAIN) - 1, line, len);
	*outlen = sizeof(DOMAIN) - 1 + len;
	return m;
}

bool checkpoint_signed_by(const char *line, const struct checkpoint *cp,
    EVP_PKEY *pub)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *m;
	size_t mlen;
	bool ok = false;

	m = message(line, cp->signed_len, &mlen);
	if (md && m && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pub) == 1)
		ok = EVP_DigestVerify(md, cp->sig, sizeof(cp->sig), m,
		    mlen) == 1;
	EVP_MD_CTX_free(md);
	free(m);
	return ok;
}

int checkpoint_format(char *out, struct checkpoint *cp, EVP_PKEY *key)
{
	char chain[CHAIN_HEX_LEN + 1] = { 0 }, sig[2 * CHECKPOINT_SIG_LEN + 1];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t i, mlen, siglen = sizeof(cp->sig);
	unsigned char *m = NULL;
	int n, ret = -EINVAL;

	for (i = 0; cp->file[i]; i++)
		if (!name_byte_ok(cp->file[i]))
			cp->file[i] = '?';
	chain_hex(chain, cp->chain, CHAIN_LEN);
	n = snprintf(out, CHECKPOINT_LINE_MAX, "{\"n\":%" PRIu64 ",\"time\":%"
	    PRIu64 ",\"file\":\"%s\",\"line\":%" PRIu64 ",\"chain\":\"%s\"",
	    cp->n, cp->time_ms, cp->file[0] ? cp->file : "?", cp->line,
	    chain);
	if (n < 0 || n + 2 * CHECKPOINT_SIG_LEN + 12 >= CHECKPOINT_LINE_MAX)
		goto out;
	m = message(out, (size_t)n, &mlen);
	if (md == NULL || m == NULL ||
	    EVP_DigestSignInit(md, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestSign(md, cp->sig, &siglen, m, mlen) != 1 ||
	    siglen != sizeof(cp->sig))
		goto out;
	cp->signed_len = (size_t)n;
	chain_hex(sig, cp->sig, CHECKPOINT_SIG_LEN);
	sig[2 * CHECKPOINT_SIG_LEN] = '\0';
	ret = n + snprintf(out + n, CHECKPOINT_LINE_MAX - (size_t)n,
	    ",\"sig\":\"%s\"}\n", sig);
out:
	EVP_MD_CTX_free(md);
	free(m);
	return ret;
}

/* ------------------------------------------------------------ keys */

/* Writes key to path, created exclusively with mode. */
static int write_pem(const char *path, EVP_PKEY *key, bool private,
    mode_t mode, uid_t owner, gid_t group)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	FILE *f;
	int ok;

	if (fd < 0) {
		int ret = -errno;

		fprintf(stderr, "wgu-historian: %s: %s\n", path, strerror(errno));
		return ret;
	}
	if (owner != (uid_t)-1 && fchown(fd, owner, group) != 0) {
		int ret = -errno;

		fprintf(stderr, "wgu-historian: chown %s: %s\n", path,
		    strerror(errno));
		close(fd);
		unlink(path);
		return ret;
	}
	f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		unlink(path);
		return -ENOMEM;
	}
	ok = private ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) :
	    PEM_write_PUBKEY(f, key);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		ok = 0;
	if (fclose(f) != 0)
		ok = 0;
	if (ok != 1) {
		fprintf(stderr, "wgu-historian: cannot write %s\n", path);
		unlink(path);
		return -EIO;
	}
	return 0;
}

char *checkpoint_path_beside(const char *log, const char *name)
{
	const char *slash = strrchr(log, '/');
	char *p;

	if (asprintf(&p, "%.*s%s", slash ? (int)(slash - log + 1) : 0, log,
	    name) < 0)
		return NULL;
	return p;
}

int checkpoint_keygen(const char *dir, uid_t owner, gid_t group)
{
	char *priv = NULL, *pub = NULL;
	EVP_PKEY *key = NULL;
	int ret = -ENOMEM;

	if (asprintf(&priv, "%s/" CHECKPOINT_KEY_NAME, dir) < 0) {
		priv = NULL;
		goto out;
	}
	if (asprintf(&pub, "%s/" CHECKPOINT_PUB_NAME, dir) < 0) {
		pub = NULL;
		goto out;
	}
	key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (key == NULL) {
		fprintf(stderr, "wgu-historian: cannot make an Ed25519 key\n");
		ret = -EIO;
		goto out;
	}
	/* Neither file may exist: an older key may sign a record. */
	if (access(priv, F_OK) == 0 || access(pub, F_OK) == 0) {
		fprintf(stderr, "wgu-historian: %s or %s exists: not replaced "
		    "(its checkpoints would no longer verify)\n", priv, pub);
		ret = -EEXIST;
		goto out;
	}
	ret = write_pem(priv, key, true, 0600, owner, group);
	if (ret == 0) {
		ret = write_pem(pub, key, false, 0644, (uid_t)-1, (gid_t)-1);
		if (ret < 0)
			unlink(priv);
	}
out:
	EVP_PKEY_free(key);	/* clears the private key */
	free(priv);
	free(pub);
	return ret;
}

EVP_PKEY *checkpoint_load_key(const char *path, bool private)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *key;
	int err;

	if (f == NULL) {
		err = errno;
		fprintf(stderr, "wgu-historian: %s: %s\n", path, strerror(err));
		errno = err;
		return NULL;
	}
	if (private)	/* no copy of the key left in a stdio buffer */
		setvbuf(f, NULL, _IONBF, 0);
	key = private ? PEM_read_PrivateKey(f, NULL, NULL, NULL) :
	    PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (key == NULL || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
		fprintf(stderr, "wgu-historian: %s: not an Ed25519 %s key in "
		    "PEM\n", path, private ? "private" : "public");
		EVP_PKEY_free(key);
		errno = EINVAL;
		return NULL;
	}
	return key;
}
