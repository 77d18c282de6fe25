/* The wg-quick configuration format (wg-quick(8), wg(8) CONFIGURATION FILE
 * FORMAT), parsed into a struct.  Pure: the text arrives as bytes, nothing
 * is read, resolved or changed here, so every mistake is found before
 * `wgu up` touches the system.
 *
 * Lines are read as wg-quick reads them: whitespace around the line and
 * around '=' is ignored, '#' starts a comment, keys and section names are
 * case-insensitive.  Address, AllowedIPs and DNS take comma-separated lists
 * and accumulate over repeated keys; the Pre/Post hooks accumulate too;
 * other repeated keys take the last value, as wg(8) does.  Endpoint host
 * names are kept as text and resolved at `up`. */
#ifndef WG_CONFIG_H
#define WG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/primitives.h"

enum {
	WG_CONFIG_DEFAULT_MTU = 1420,
	WG_CONFIG_DEFAULT_TABLE = 51820,	/* wg-quick's fwmark/table */
	WG_CONFIG_ERR_SIZE = 256,
};

enum wg_config_table {
	WG_CONFIG_TABLE_AUTO,	/* main, and policy routing for /0 */
	WG_CONFIG_TABLE_OFF,	/* no routes */
	WG_CONFIG_TABLE_NUMBER,	/* every route in table `table` */
};

enum wg_config_hook {
	WG_HOOK_PRE_UP, WG_HOOK_POST_UP, WG_HOOK_PRE_DOWN, WG_HOOK_POST_DOWN,
	WG_HOOK_COUNT,
};

struct wg_config_prefix {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network byte order; 4 bytes used for IPv4 */
	uint8_t cidr;
};

struct wg_config_peer {
	uint8_t public_key[WG_KEY_LEN];
	bool has_preshared_key;
	uint8_t preshared_key[WG_KEY_LEN];
	struct wg_config_prefix *allowed_ips;
	size_t n_allowed_ips;
	char *endpoint_host;	/* NULL when absent; IPv6 without brackets */
	uint16_t endpoint_port;
	bool has_keepalive;
	uint16_t keepalive;	/* 0 = off */
};

struct wg_config {
	bool has_private_key;
	uint8_t private_key[WG_KEY_LEN];
	bool has_listen_port;
	uint16_t listen_port;
	bool has_fwmark;
	uint32_t fwmark;	/* 0 = off */
	uint32_t mtu;		/* 0 = not set */
	enum wg_config_table table_mode;
	uint32_t table;		/* with WG_CONFIG_TABLE_NUMBER */
	bool save_config;
	struct wg_config_prefix *addresses;
	size_t n_addresses;
	char **dns;		/* servers and search domains, in order */
	size_t n_dns;
	char **hooks[WG_HOOK_COUNT];
	size_t n_hooks[WG_HOOK_COUNT];
	struct wg_config_peer *peers;
	size_t n_peers;
	/* What `wg-quick strip` prints: the lines of the file (trimmed)
	 * without the wg-quick-only keys of [Interface]. */
	char *stripped;
};

/* Parses len bytes of text (NUL bytes make the line bad).  On success
 * returns 0 and fills *cfg, which the caller frees with wg_config_clear.
 * On failure returns -EINVAL (bad text) or -ENOMEM, leaves *cfg empty and
 * writes "FILE:LINE: what is wrong" into err (FILE is `file`, for messages
 * only).  Secret values are never copied into err. */
int wg_config_parse(struct wg_config *cfg, const char *file,
    const char *text, size_t len, char err[static WG_CONFIG_ERR_SIZE]);

/* Frees everything and wipes the keys.  Safe on a zeroed struct. */
void wg_config_clear(struct wg_config *cfg);

/* Formats a prefix as "addr/cidr" into out (at least 50 bytes). */
void wg_config_prefix_format(const struct wg_config_prefix *p, char *out,
    size_t size);

/* True when the prefix is 0.0.0.0/0 or ::/0. */
bool wg_config_prefix_is_default(const struct wg_config_prefix *p);

/* The rules wg-quick applies to a config file name: an interface name of
 * 1 to 15 characters from [a-zA-Z0-9_=+.-].  Returns true if valid. */
bool wg_config_valid_ifname(const char *name, size_t len);

#endif
