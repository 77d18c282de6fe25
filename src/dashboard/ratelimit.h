/* wgu-dashboard's login rate limit: failed logins counted per source
 * address and per account name; at max_failures within window_ms either
 * one is refused (429) until the oldest of those failures leaves the
 * window.  Two tables of fixed size: when one is full, the entry used
 * least recently is forgotten (counted), so memory stays bounded however
 * many addresses or names an attacker tries.
 *
 * Thread-safe.  Times are milliseconds from the caller's clock. */
#ifndef WGU_DASHBOARD_RATELIMIT_H
#define WGU_DASHBOARD_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

enum { LOGINLIMIT_FAILURES_MAX = 32, LOGINLIMIT_KEY_MAX = 64 };

struct loginlimit_stats {
	uint64_t failures;	/* failed logins recorded */
	uint64_t refused;	/* logins answered 429 */
	uint64_t evicted;	/* entries forgotten because a table was full */
};

struct loginlimit;

/* slots entries per table; max_failures at most
 * LOGINLIMIT_FAILURES_MAX. */
struct loginlimit *loginlimit_new(size_t slots, unsigned max_failures,
    int64_t window_ms);
void loginlimit_free(struct loginlimit *l);

/* Before checking a password: 0 when this login may be tried, else the
 * seconds (at least 1) to wait, and the refusal is counted.  Names and
 * addresses longer than LOGINLIMIT_KEY_MAX count by their first bytes. */
unsigned loginlimit_check(struct loginlimit *l, const char *addr,
    const char *account, int64_t now_ms);

/* A wrong password (or an unknown name) from addr for account. */
void loginlimit_failed(struct loginlimit *l, const char *addr,
    const char *account, int64_t now_ms);

/* A good password: the account's failures are forgotten (the address's
 * stay: one good account must not unlock guessing at the others). */
void loginlimit_succeeded(struct loginlimit *l, const char *account);

void loginlimit_stats(struct loginlimit *l, struct loginlimit_stats *st);

#endif
