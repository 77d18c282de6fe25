/* Running other programs for `wgu up` and `wgu down`, shown as wg-quick
 * shows them. */
#ifndef WG_RUN_H
#define WG_RUN_H

#include <stdbool.h>

#include "cli/config.h"

/* wg-quick's "[#] command" trace on stderr, one line. */
void wg_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs argv (searched in PATH) and waits; with quiet its stdout and
 * stderr go to /dev/null.  Returns its exit status, or -1. */
int wg_run(char *const argv[], bool quiet);

/* As wg-quick's execute_hooks: each hook of kind h, %i replaced by
 * ifname, is shown and run by bash; the first failure stops.  Returns 0,
 * -ECHILD after a message on stderr, or -ENOMEM. */
int wg_run_hooks(const struct wg_config *cfg, enum wg_config_hook h,
    const char *ifname);

/* Whether an executable name is in PATH (or the default path). */
bool wg_run_exists(const char *name);

#endif
