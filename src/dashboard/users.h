/* wgu-dashboard's accounts: the users file (one "NAME:ROLE:HASH" line a
 * user, HASH "$scrypt$N$r$p$SALT$KEY" with SALT and KEY in base64, made by
 * OpenSSL's EVP_PBE_scrypt), checking a login against it, and the
 * `wgu-dashboard user add|del FILE NAME` command that edits it.
 *
 * Thread-safe: users_verify() may run on several of libmicrohttpd's
 * threads at once; a changed file is read again at the next login. */
#ifndef WGU_DASHBOARD_USERS_H
#define WGU_DASHBOARD_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum user_role {
	USER_ROLE_NONE = 0,	/* no such user, or a wrong password */
	USER_ROLE_VIEWER,
	USER_ROLE_OPERATOR,
};

enum {
	USER_NAME_MAX = 64,	/* [A-Za-z0-9._-], not starting with '.' */
	USER_HASH_MAX = 160,	/* an encoded hash with its NUL */
	USER_PASSWORD_MIN = 8,
	USER_PASSWORD_MAX = 1024,
	USERS_MAX = 1000,	/* lines in a users file */
};

const char *users_role_name(enum user_role role);
/* "viewer" or "operator"; else USER_ROLE_NONE. */
enum user_role users_role_parse(const char *s);
bool users_name_valid(const char *name);

/* Hashes a password with a fresh random salt and the default cost (N
 * 16384, r 8, p 1: 16 MiB, some 50 ms).  0 or a negative errno. */
int users_hash_password(const char *pw, size_t len,
    char out[static USER_HASH_MAX]);

/* The same with a given salt and cost (tests). */
int users_hash_with(const char *pw, size_t len, const uint8_t *salt,
    size_t salt_len, uint64_t n, uint32_t r, uint32_t p,
    char out[static USER_HASH_MAX]);

/* Whether pw matches an encoded hash; the comparison is constant-time.
 * A malformed hash, or a cost above 64 MiB of memory, never matches. */
bool users_hash_check(const char *encoded, const char *pw, size_t len);

struct users;

/* Reads the users file at path.  NULL with a message in err (a missing
 * file, a malformed line: "FILE:LINE: why"). */
struct users *users_open(const char *path, char *err, size_t errlen);
void users_free(struct users *u);

/* The role of name when pw is its password, else USER_ROLE_NONE.  Costs
 * one hash whether or not the user exists, so that the time taken does
 * not tell which accounts there are.  Reads the file again first when
 * it has changed since (a file that cannot be read or parsed then keeps
 * the accounts we had, with a message on stderr). */
enum user_role users_verify(struct users *u, const char *name,
    const char *pw, size_t len);

/* Number of accounts (for the start-up message). */
size_t users_count(struct users *u);

/* `wgu-dashboard user add FILE NAME [--role viewer|operator]` and
 * `... user del FILE NAME`; argv[0] is "user".  The password is read
 * from stdin (prompted for twice, without echo, on a terminal).  Exit
 * status 0, 1 or 2 (usage). */
int users_main(int argc, char **argv);

#endif
