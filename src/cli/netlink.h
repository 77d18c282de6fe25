/* rtnetlink requests for `wgu up` and `wgu down`: what wg-quick does with
 * ip(8) (addresses, MTU, link up, link delete, routes, policy rules), sent
 * directly as RTM_* messages.  Each call is one request answered by one
 * acknowledgement; the calls return 0 or the kernel's negative errno. */
#ifndef WG_NETLINK_H
#define WG_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/config.h"

struct wg_netlink {
	int fd;
	uint32_t seq;
};

int wg_netlink_open(struct wg_netlink *nl);
void wg_netlink_close(struct wg_netlink *nl);

/* ip address add PREFIX dev IFINDEX */
int wg_netlink_addr_add(struct wg_netlink *nl, int ifindex,
    const struct wg_config_prefix *p);
/* ip link set IFINDEX mtu MTU */
int wg_netlink_set_mtu(struct wg_netlink *nl, int ifindex, uint32_t mtu);
/* ip link set IFINDEX up */
int wg_netlink_link_up(struct wg_netlink *nl, int ifindex);
/* ip link delete IFINDEX */
int wg_netlink_link_delete(struct wg_netlink *nl, int ifindex);
/* ip route add PREFIX dev IFINDEX table TABLE (scope link, proto boot) */
int wg_netlink_route_add(struct wg_netlink *nl, int ifindex,
    const struct wg_config_prefix *p, uint32_t table);

/* A policy rule of the two kinds wg-quick adds for a default route:
 *	ip rule add not fwmark MARK table TABLE	(fwmark != 0)
 *	ip rule add table main suppress_prefixlength 0	(fwmark == 0)
 * wg_netlink_rule_delete deletes one rule of that kind; -ENOENT when there
 * is none left. */
int wg_netlink_rule_add(struct wg_netlink *nl, int family, uint32_t fwmark,
    uint32_t table);
int wg_netlink_rule_delete(struct wg_netlink *nl, int family, uint32_t fwmark,
    uint32_t table);

/* ip address show dev IFINDEX: the addresses of the given family
 * (AF_INET, AF_INET6, or AF_UNSPEC for both) in the kernel's order, as
 * prefixes of their local address.  Link-scope addresses are left out:
 * the kernel gives a TUN device an fe80:: address of its own, which a
 * kernel WireGuard interface (what wg-quick reads) does not have.  On
 * success *out (free() it; NULL when *n is 0) holds *n prefixes. */
int wg_netlink_addr_list(struct wg_netlink *nl, int ifindex, int family,
    struct wg_config_prefix **out, size_t *n);

/* wg-quick's search for the table of a default route: the first number
 * from `first` up that has no IPv4 and no IPv6 route in it. */
int wg_netlink_free_table(struct wg_netlink *nl, uint32_t first,
    uint32_t *table);

#endif
