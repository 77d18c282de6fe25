/* The routes of `wgu up` and the policy rules of `wgu down`, as
 * wg-quick's add_route, add_default and del_if: a route per allowed IP,
 * and for a default route its own table, the fwmark rules, the sysctl and
 * the nftables tables (firewall.c).  wg-quick falls back to
 * iptables-restore without nft; here a warning says the rules are
 * missing and `up` goes on.  The rules name the interface's addresses
 * without the link-local one the kernel gives a TUN device (a kernel
 * WireGuard interface has none). */
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/firewall.h"
#include "cli/ipc.h"
#include "cli/routes.h"
#include "cli/run.h"

void wg_routes_del_rules(struct wg_netlink *nl, uint32_t table)
{
	static const int families[] = { AF_INET, AF_INET6 };
	size_t i;
	int n;

	/* Delete every copy, as wg-quick's del_if loops over ip rule. */
	for (i = 0; i < 2; i++) {
		for (n = 0; n < 64 && wg_netlink_rule_delete(nl, families[i],
		    table, table) == 0; n++)
			;
		for (n = 0; n < 64 && wg_netlink_rule_delete(nl, families[i],
		    0, 0) == 0; n++)
			;
	}
}

static void write_sysctl(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, value, strlen(value)) < 0)
		fprintf(stderr, "Warning: %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* The nftables half of add_default, for the family of the default
 * route, with the addresses the interface has now (wg-quick reads them
 * with `ip addr show`).  No nft: the routes work without these rules,
 * so a warning rather than a failed `up`. */
static int add_firewall(struct wg_netlink *nl, int ifindex, int family,
    const char *ifname, struct wg_undo *u)
{
	struct wg_config_prefix *addrs = NULL;
	size_t n = 0;
	int ret;

	if ((ret = wg_netlink_addr_list(nl, ifindex, family, &addrs, &n)) < 0) {
		fprintf(stderr, "wgu: reading the addresses of %s: %s\n",
		    ifname, strerror(-ret));
		return ret;
	}
	u->firewall = true;
	ret = wg_firewall_add(ifname, family, addrs, n, u->table);
	if (ret == -ENOENT) {
		if (!u->warned_nft)
			fprintf(stderr, "Warning: nft not found: the default "
			    "route through %s has no rules against spoofed "
			    "packets and no conntrack marks\n", ifname);
		u->warned_nft = true;
		ret = 0;
	}
	free(addrs);
	return ret;
}

/* wg-quick's add_default: the route in its own table, marked tunnel
 * packets skip that table, main's default route is suppressed, reverse
 * path checks see the mark, and the nftables rules. */
static int add_default(struct wg_netlink *nl, int ifindex,
    const struct wg_config_prefix *p, const char *ifname, struct wg_undo *u)
{
	char pfx[64];
	const char *v = p->family == AF_INET ? "-4" : "-6";
	uint32_t table = u->table;
	int ret;

	wg_config_prefix_format(p, pfx, sizeof(pfx));
	wg_say("ip %s route add %s dev %s table %u", v, pfx, ifname, table);
	if ((ret = wg_netlink_route_add(nl, ifindex, p, table)) < 0 &&
	    ret != -EEXIST)
		return ret;
	u->rules = true;
	wg_say("ip %s rule add not fwmark %u table %u", v, table, table);
	if ((ret = wg_netlink_rule_add(nl, p->family, table, table)) < 0)
		return ret;
	wg_say("ip %s rule add table main suppress_prefixlength 0", v);
	if ((ret = wg_netlink_rule_add(nl, p->family, 0, 0)) < 0)
		return ret;
	if (p->family == AF_INET) {
		wg_say("sysctl -q net.ipv4.conf.all.src_valid_mark=1");
		write_sysctl("/proc/sys/net/ipv4/conf/all/src_valid_mark",
		    "1");
	}
	return add_firewall(nl, ifindex, p->family, ifname, u);
}

int wg_routes_add(struct wg_netlink *nl, int ifindex,
    const struct wg_config *cfg, const char *ifname, struct wg_undo *u)
{
	const struct wg_config_prefix *p;
	uint32_t table;
	char pfx[64];
	size_t i, j;
	int ret;

	if (cfg->table_mode == WG_CONFIG_TABLE_OFF)
		return 0;
	for (i = 0; i < cfg->n_peers; i++) {
		for (j = 0; j < cfg->peers[i].n_allowed_ips; j++) {
			p = &cfg->peers[i].allowed_ips[j];
			table = cfg->table_mode == WG_CONFIG_TABLE_NUMBER ?
			    cfg->table : RT_TABLE_MAIN;
			if (cfg->table_mode == WG_CONFIG_TABLE_AUTO &&
			    wg_config_prefix_is_default(p)) {
				ret = add_default(nl, ifindex, p, ifname, u);
			} else {
				wg_config_prefix_format(p, pfx, sizeof(pfx));
				wg_say("ip route add %s dev %s table %u", pfx,
				    ifname, table);
				ret = wg_netlink_route_add(nl, ifindex, p,
				    table);
			}
			if (ret < 0 && ret != -EEXIST) {
				wg_config_prefix_format(p, pfx, sizeof(pfx));
				fprintf(stderr, "wgu: route %s: %s\n", pfx,
				    strerror(-ret));
				return ret;
			}
		}
	}
	return 0;
}

static bool has_default_route(const struct wg_config *cfg)
{
	size_t i, j;

	for (i = 0; i < cfg->n_peers; i++)
		for (j = 0; j < cfg->peers[i].n_allowed_ips; j++)
			if (wg_config_prefix_is_default(
			    &cfg->peers[i].allowed_ips[j]))
				return true;
	return false;
}

/* As add_default's get_fwmark: a FwMark of the config is the table too;
 * otherwise the first table from 51820 up with no route, which becomes
 * the fwmark of the tunnel's own UDP. */
int wg_routes_set_table(struct wg_netlink *nl, const struct wg_config *cfg,
    const char *ifname, struct wg_undo *u)
{
	char req[64];
	int ret;

	if (cfg->table_mode != WG_CONFIG_TABLE_AUTO || !has_default_route(cfg))
		return 0;
	if (cfg->has_fwmark && cfg->fwmark) {
		u->table = cfg->fwmark;
		return 0;
	}
	if ((ret = wg_netlink_free_table(nl, WG_CONFIG_DEFAULT_TABLE,
	    &u->table)) < 0) {
		fprintf(stderr, "wgu: no free routing table from %u: %s\n",
		    WG_CONFIG_DEFAULT_TABLE, strerror(-ret));
		return ret;
	}
	wg_say("wg set %s fwmark %u", ifname, u->table);
	snprintf(req, sizeof(req), "set=1\nfwmark=%u\n\n", u->table);
	if ((ret = wg_ipc_call(ifname, req, NULL)) < 0)
		fprintf(stderr, "wgu: setting the fwmark failed: %s\n",
		    strerror(-ret));
	return ret;
}
