/* The value syntax of the wg-quick config parser (config.c), apart so
 * that each file stays one concept.  Pure; no errors are printed. */
#ifndef WG_CONFIG_VALUE_H
#define WG_CONFIG_VALUE_H

#include <stdbool.h>

#include "cli/config.h"

/* An unsigned number of at most max: decimal digits (base 10), or "0x"
 * and hex digits (base 16); no sign, no spaces.  Sets *out on success. */
bool wg_config_parse_uint(const char *s, unsigned long max, int base,
    unsigned long *out);

/* "ADDR" or "ADDR/CIDR", IPv4 or IPv6; no CIDR means a host prefix. */
bool wg_config_parse_prefix(const char *s, struct wg_config_prefix *p);

/* Whether s is an IPv4 or IPv6 address. */
bool wg_config_is_ip(const char *s);

/* Host names as DNS allows, so nothing odd reaches getaddrinfo or
 * resolvconf. */
bool wg_config_valid_hostname(const char *s);

#endif
