/* DNS = through resolvconf(8), as wg-quick's set_dns and unset_dns.  Both
 * do nothing unless the config names a server (search domains alone
 * change nothing); resolvconf failing is a warning, not an error. */
#ifndef WG_DNS_H
#define WG_DNS_H

#include <stdbool.h>

#include "cli/config.h"

/* Hands the servers and search domains to `resolvconf -a`; *done
 * becomes true when resolvconf took them. */
void wg_dns_set(const struct wg_config *cfg, const char *ifname,
    bool *done);

/* `resolvconf -d`, quietly. */
void wg_dns_unset(const struct wg_config *cfg, const char *ifname);

#endif
