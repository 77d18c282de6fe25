/* The config file `wgu up`, `down` and `strip` act on.  As wg-quick: a
 * valid interface name NAME means /etc/wireguard/NAME.conf; anything else
 * is a path whose base name is NAME.conf. */
#ifndef WG_TARGET_H
#define WG_TARGET_H

#include <net/if.h>

#include "cli/config.h"

struct wg_target {
	char ifname[IFNAMSIZ];
	char path[4096];
};

/* Fills t from a command-line argument.  Returns 0, or -EINVAL after
 * wg-quick's message on stderr. */
int wg_target_resolve(struct wg_target *t, const char *arg);

/* Reads and parses t->path (a regular file of at most 1 MiB) into cfg,
 * which the caller clears with wg_config_clear() whatever the result.
 * Returns 0, or a negative errno after a message on stderr. */
int wg_target_load(struct wg_config *cfg, const struct wg_target *t);

#endif
