/* Signed checkpoints of the production log.  The checkpoint file (beside
 * the log, industrial_production.checkpoints) holds one line per
 * checkpoint, appended and never rewritten:
 *
 *	{"n":N,"time":MS,"file":"NAME","line":L,"chain":"HEX64","sig":"HEX128"}
 *
 * n counts checkpoints from 1 without a gap; time is the hub's clock in
 * ms since the epoch; NAME is the log's file name when it was written
 * (printable ASCII without '"' or '\'); L is the number of whole lines in
 * that file then, and HEX64 the chain value of its line L (chain.h).  sig
 * is the Ed25519 signature of
 *
 *	"wgu-historian checkpoint v1\n" || the line's bytes up to ,"sig"
 *
 * by the historian's key.  A checkpoint says: the record up to here is
 * exactly what chains to this value.  Truncating the log or rewriting it
 * with a recomputed chain leaves some checkpoint's value missing from it;
 * editing a checkpoint breaks its signature.
 *
 * Keys are PEM files (PKCS#8 private key, SubjectPublicKeyInfo public
 * key), readable with `openssl pkey`.  OpenSSL's libcrypto, the one
 * libmosquitto brings; nothing here prints key material. */
#ifndef WGU_HUB_CHECKPOINT_H
#define WGU_HUB_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>

#include "hub/chain.h"

enum {
	CHECKPOINT_FILE_MAX = 255,
	CHECKPOINT_SIG_LEN = 64,
	CHECKPOINT_LINE_MAX = 512,	/* a whole line, '\n' included */
};

#define CHECKPOINT_KEY_NAME "historian.key"
#define CHECKPOINT_PUB_NAME "historian.pub"

struct checkpoint {
	uint64_t n, time_ms, line;
	char file[CHECKPOINT_FILE_MAX + 1];
	uint8_t chain[CHAIN_LEN];
	uint8_t sig[CHECKPOINT_SIG_LEN];
	size_t signed_len;	/* of the line: the bytes the signature covers */
};

/* Parses one line (without '\n') of exactly the form above.  Pure; 0 or
 * -EINVAL.  The signature is not checked here. */
int checkpoint_parse(const char *line, size_t len, struct checkpoint *cp);

/* Whether the parsed line's signature is pub's. */
bool checkpoint_signed_by(const char *line, const struct checkpoint *cp,
    EVP_PKEY *pub);

/* Formats and signs cp (n, time_ms, file, line, chain) into out (at least
 * CHECKPOINT_LINE_MAX bytes), '\n' and NUL included; a file name byte
 * outside the allowed set becomes '?'.  Returns the line's length, or
 * -EINVAL when signing fails. */
int checkpoint_format(char *out, struct checkpoint *cp, EVP_PKEY *key);

/* Makes a key pair: DIR/historian.key (0600, owned by owner unless it is
 * (uid_t)-1) and DIR/historian.pub (0644); refuses to overwrite either.
 * 0 or a negative errno, after saying why on stderr. */
int checkpoint_keygen(const char *dir, uid_t owner, gid_t group);

/* name in the directory of log (the key files' default place): heap
 * string, or NULL. */
char *checkpoint_path_beside(const char *log, const char *name);

/* Loads a private or public PEM key of type Ed25519.  NULL after saying
 * why on stderr (errno ENOENT when the file does not exist). */
EVP_PKEY *checkpoint_load_key(const char *path, bool private);

#endif
