/* wgu-dashboard's login sessions: a random 32-byte id (the cookie), the
 * user and role, a CSRF token of its own, an idle and an absolute expiry.
 * A bounded table: when full, the session used least recently goes.
 *
 * Thread-safe (one mutex).  Times are milliseconds from the caller's
 * clock, so tests drive expiry without waiting. */
#ifndef WGU_DASHBOARD_SESSION_H
#define WGU_DASHBOARD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dashboard/request.h"
#include "dashboard/users.h"

struct session_info {
	char user[USER_NAME_MAX + 1];
	enum user_role role;
	char csrf[REQ_TOKEN_HEX + 1];
};

struct sessions;

/* max sessions at once; idle_ms without a request ends one, abs_ms after
 * the login ends it anyway. */
struct sessions *sessions_new(size_t max, int64_t idle_ms, int64_t abs_ms);
void sessions_free(struct sessions *s);

/* A new session for user; its id and CSRF token in hex.  0, or -EIO when
 * the OS has no random bytes to give. */
int sessions_create(struct sessions *s, const char *user, enum user_role role,
    int64_t now_ms, char id[static REQ_TOKEN_HEX + 1],
    struct session_info *info);

/* The live session with this id (hex): info filled, its idle clock
 * restarted.  false for an unknown, malformed or expired id (an expired
 * one is removed). */
bool sessions_lookup(struct sessions *s, const char *id, int64_t now_ms,
    struct session_info *info);

/* Logout.  Unknown ids are ignored. */
void sessions_remove(struct sessions *s, const char *id);

/* Whether token is the session's CSRF token (constant time). */
bool sessions_csrf_ok(const struct session_info *info, const char *token);

/* Live sessions (expired ones not yet noticed included). */
size_t sessions_count(struct sessions *s);

#endif
