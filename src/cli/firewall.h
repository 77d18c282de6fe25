/* wg-quick's nftables rules for a default route through the tunnel
 * (wireguard-tools src/wg-quick/linux.bash, add_default and
 * remove_firewall), one table `wg-quick-IFNAME` per family:
 *
 *	preraw (prerouting, priority -300): a packet for one of the
 *	    interface's addresses that arrives on another interface from a
 *	    source that is not local is dropped, so a host on the LAN cannot
 *	    reach the tunnel address by spoofing
 *	postmangle (postrouting, -150): the tunnel's own UDP, marked with
 *	    the fwmark, saves the mark in its conntrack entry
 *	premangle (prerouting, -150): UDP gets the mark of its conntrack
 *	    entry back, so replies to the tunnel's UDP (and its rp_filter
 *	    check, with src_valid_mark) use the same policy rule
 *
 * The rules are given to `nft -f -` as wg-quick does. */
#ifndef WG_FIREWALL_H
#define WG_FIREWALL_H

#include <stddef.h>
#include <stdint.h>

#include "cli/config.h"

/* The nft script for one family (AF_INET or AF_INET6): the table, its
 * three chains, an anti-spoofing rule per address of that family in
 * addrs, and the two mark rules for fwmark.  Pure.  Returns the length
 * written to out (NUL-terminated), or -ENOSPC when size is too small. */
int wg_firewall_ruleset(char *out, size_t size, const char *ifname,
    int family, const struct wg_config_prefix *addrs, size_t n_addrs,
    uint32_t fwmark);

/* Runs `nft -f -` with that script.  Returns 0; -ENOENT when nft is not
 * installed (nothing was changed); another negative errno when nft
 * failed, after printing why on stderr. */
int wg_firewall_add(const char *ifname, int family,
    const struct wg_config_prefix *addrs, size_t n_addrs, uint32_t fwmark);

/* Deletes every table named wg-quick-IFNAME that `nft list tables`
 * shows, whatever its family.  Quiet when nft is missing or there is
 * nothing to delete; says what it deletes otherwise. */
void wg_firewall_remove(const char *ifname);

#endif
