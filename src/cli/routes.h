/* Routes and policy rules for `wgu up` and `wgu down` (wg-quick's
 * add_route, add_default and del_if). */
#ifndef WG_ROUTES_H
#define WG_ROUTES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli/config.h"
#include "cli/netlink.h"

/* What `wgu up` has done so far, for its rollback: up.c sets daemon, pid
 * and dns; the functions below set table, rules and firewall. */
struct wg_undo {
	bool daemon, rules, dns, firewall;
	bool warned_nft;
	uint32_t table;
	pid_t pid;		/* the daemon's, or 0 */
};

/* When the config routes a default route in Table = auto: picks the
 * table (FwMark, or the first free one from 51820 up, then set as the
 * device's fwmark through the UAPI) into u->table.  Returns 0 or a
 * negative errno after a message on stderr. */
int wg_routes_set_table(struct wg_netlink *nl, const struct wg_config *cfg,
    const char *ifname, struct wg_undo *u);

/* A route per allowed IP in the config's table; a default route in
 * Table = auto goes to u->table with the fwmark rules, the sysctl and the
 * nftables tables.  Returns 0 or a negative errno after a message. */
int wg_routes_add(struct wg_netlink *nl, int ifindex,
    const struct wg_config *cfg, const char *ifname, struct wg_undo *u);

/* Deletes every copy of the two policy rules of table, both families. */
void wg_routes_del_rules(struct wg_netlink *nl, uint32_t table);

#endif
