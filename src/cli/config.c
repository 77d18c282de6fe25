/* The wg-quick configuration format: see config.h.  The line rules follow
 * wg-quick's parse_options (bash `read -r`, `${line%%#*}`, the first '='
 * splits key from value, nocasematch); the value rules follow wg(8)'s
 * config.c, which is what `wg setconf` would make of the stripped text. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/config.h"
#include "common/conf_text.h"
#include "cli/config_value.h"
#include "crypto/encoding.h"

enum section { SECTION_NONE, SECTION_INTERFACE, SECTION_PEER };

struct parser {
	struct wg_config *cfg;
	const char *file;
	unsigned line;
	unsigned peer_line;	/* line of the open [Peer], 0 if none */
	enum section section;
	char *err;
	size_t stripped_len, stripped_cap;
};

static int fail(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = conf_verror(p->err, WG_CONFIG_ERR_SIZE, 160, p->file, p->line,
	    fmt, ap);
	va_end(ap);
	return ret;
}

/* Error messages quote what they refuse, but a key pasted into the wrong
 * place (a line broken after "PrivateKey =", a key as Address) must not
 * end up on a terminal or in a log.  A run of 20 or more base64 characters
 * with a digit, '+', '/' or '=' in it, or any run of 32, is taken for a key
 * and not shown.  Key names, section names, addresses and hostname labels
 * never look like that; a base64 key (44 characters, ending in '=') and a
 * hex key (64 characters) always do. */
static bool looks_like_key(const char *s)
{
	size_t run = 0;
	bool keyish = false;

	for (; *s != '\0'; s++) {
		if (isalnum((unsigned char)*s) || *s == '+' || *s == '/' ||
		    *s == '=') {
			run++;
			keyish |= !isalpha((unsigned char)*s);
			if (run >= 32 || (run >= 20 && keyish))
				return true;
		} else {
			run = 0;
			keyish = false;
		}
	}
	return false;
}

/* The text to quote: S itself, or a placeholder when it looks like a key. */
static const char *quotable(const char *s)
{
	return looks_like_key(s) ? "<hidden: looks like a key>" : s;
}

/* What a line may hold around its words. */
#define BLANKS " \t\r\v\f"

/* Grows *arr (of *n elements of size sz) by one zeroed element. */
static void *push(void *arr_p, size_t *n, size_t sz)
{
	void **arr = arr_p;
	char *grown;

	if (*n >= 65536)	/* far beyond any real config; bounds memory */
		return NULL;
	grown = realloc(*arr, (*n + 1) * sz);
	if (grown == NULL)
		return NULL;
	*arr = grown;
	memset(grown + *n * sz, 0, sz);
	return grown + (*n)++ * sz;
}

/* "1.2.3.4:51820", "[fd00::1]:51820", "[fe80::1%eth0]:51820",
 * "hub.example:51820", as wg(8) splits them: brackets for IPv6, else the
 * last ':'. */
static int parse_endpoint(struct parser *p, struct wg_config_peer *peer,
    char *v)
{
	char *host, *port, *close, *pct;
	unsigned long n;
	uint8_t a[16];

	if (v[0] == '[') {
		close = strchr(v, ']');
		if (close == NULL || close[1] != ':')
			return fail(p, "bad Endpoint: expected [IPv6]:PORT");
		*close = '\0';
		host = v + 1;
		port = close + 2;
		pct = strchr(host, '%');
		if (pct)
			*pct = '\0';
		if (inet_pton(AF_INET6, host, a) != 1)
			return fail(p, "bad Endpoint: invalid IPv6 address");
		if (pct) {
			*pct = '%';
			if (!wg_config_valid_hostname(pct + 1))
				return fail(p, "bad Endpoint: invalid scope");
		}
	} else {
		port = strrchr(v, ':');
		if (port == NULL)
			return fail(p, "bad Endpoint: expected HOST:PORT");
		*port++ = '\0';
		host = v;
		if (strchr(host, ':'))
			return fail(p, "bad Endpoint: IPv6 needs brackets");
		if (!wg_config_valid_hostname(host))
			return fail(p, "bad Endpoint: invalid host");
	}
	if (!wg_config_parse_uint(port, 65535, 10, &n) || n == 0)
		return fail(p, "bad Endpoint: invalid port");
	free(peer->endpoint_host);
	peer->endpoint_host = strdup(host);
	if (peer->endpoint_host == NULL)
		return -ENOMEM;
	peer->endpoint_port = (uint16_t)n;
	return 0;
}

static int parse_key(struct parser *p, uint8_t key[static WG_KEY_LEN],
    const char *v, const char *name)
{
	if (!wg_key_from_base64(key, v, strlen(v)))
		return fail(p, "bad %s: not a base64 key of 32 bytes", name);
	return 0;
}

/* The next item of a list separated by commas (and, for wg-quick's
 * `${value//,/ }` word splitting, whitespace when ws is set). */
static char *next_item(char **cursor, bool ws)
{
	char *s = *cursor, *end;

	while (*s == ',' || conf_is_blank(*s, BLANKS))
		s++;
	if (*s == '\0')
		return NULL;
	end = s;
	while (*end && *end != ',' &&
	    !(ws && conf_is_blank(*end, BLANKS)))
		end++;
	*cursor = *end ? end + 1 : end;
	*end = '\0';
	return conf_trim(s, BLANKS);
}

static int add_prefixes(struct parser *p, struct wg_config_prefix **arr,
    size_t *n, char *v, bool ws, const char *name)
{
	struct wg_config_prefix pfx, *slot;
	char *item;

	while ((item = next_item(&v, ws)) != NULL) {
		if (!wg_config_parse_prefix(item, &pfx))
			return fail(p, "bad %s: invalid prefix \"%.64s\"",
			    name, quotable(item));
		slot = push(arr, n, sizeof(*slot));
		if (slot == NULL)
			return -ENOMEM;
		*slot = pfx;
	}
	return 0;
}

static int add_string(char ***arr, size_t *n, const char *s)
{
	char **slot, *copy = strdup(s);

	if (copy == NULL)
		return -ENOMEM;
	slot = push(arr, n, sizeof(*slot));
	if (slot == NULL) {
		free(copy);
		return -ENOMEM;
	}
	*slot = copy;
	return 0;
}

static int parse_dns(struct parser *p, char *v)
{
	char *item;
	int ret;

	while ((item = next_item(&v, true)) != NULL) {
		if (!wg_config_is_ip(item) && !wg_config_valid_hostname(item))
			return fail(p, "bad DNS: \"%.64s\" is neither an "
			    "address nor a search domain", quotable(item));
		if ((ret = add_string(&p->cfg->dns, &p->cfg->n_dns, item)) < 0)
			return ret;
	}
	return 0;
}

static int parse_table(struct parser *p, const char *v)
{
	struct wg_config *cfg = p->cfg;
	unsigned long n;

	if (strcasecmp(v, "off") == 0)
		cfg->table_mode = WG_CONFIG_TABLE_OFF;
	else if (strcasecmp(v, "auto") == 0)
		cfg->table_mode = WG_CONFIG_TABLE_AUTO;
	else if (strcasecmp(v, "main") == 0) {
		cfg->table_mode = WG_CONFIG_TABLE_NUMBER;
		cfg->table = 254;
	} else if (wg_config_parse_uint(v, UINT32_MAX, 10, &n) && n != 0) {
		cfg->table_mode = WG_CONFIG_TABLE_NUMBER;
		cfg->table = (uint32_t)n;
	} else
		return fail(p, "bad Table: expected off, auto, main or a "
		    "table number");
	return 0;
}

static int parse_fwmark(struct parser *p, const char *v)
{
	unsigned long n;

	if (strcasecmp(v, "off") == 0)
		n = 0;
	else if (!wg_config_parse_uint(v, UINT32_MAX, 10, &n) &&
	    !wg_config_parse_uint(v, UINT32_MAX, 16, &n))
		return fail(p, "bad FwMark: expected off or a 32-bit number");
	p->cfg->has_fwmark = true;
	p->cfg->fwmark = (uint32_t)n;
	return 0;
}

static const char *const hook_names[WG_HOOK_COUNT] = {
	"PreUp", "PostUp", "PreDown", "PostDown",
};

/* The wg-quick-only keys: handled here and left out of `strip`. */
static int interface_quick_key(struct parser *p, const char *key, char *v,
    bool *handled)
{
	struct wg_config *cfg = p->cfg;
	unsigned long n;
	int h;

	*handled = true;
	for (h = 0; h < WG_HOOK_COUNT; h++)
		if (strcasecmp(key, hook_names[h]) == 0)
			return add_string(&cfg->hooks[h], &cfg->n_hooks[h], v);
	if (strcasecmp(key, "Address") == 0)
		return add_prefixes(p, &cfg->addresses, &cfg->n_addresses, v,
		    true, "Address");
	if (strcasecmp(key, "DNS") == 0)
		return parse_dns(p, v);
	if (strcasecmp(key, "MTU") == 0) {
		/* 68 is IPv4's minimum; the kernel judges the rest. */
		if (!wg_config_parse_uint(v, 65535, 10, &n) || n < 68)
			return fail(p, "bad MTU: expected 68 to 65535");
		cfg->mtu = (uint32_t)n;
		return 0;
	}
	if (strcasecmp(key, "Table") == 0)
		return parse_table(p, v);
	if (strcasecmp(key, "SaveConfig") == 0) {
		if (strcasecmp(v, "true") == 0)
			cfg->save_config = true;
		else if (strcasecmp(v, "false") == 0)
			cfg->save_config = false;
		else
			return fail(p, "bad SaveConfig: `%.32s' is neither "
			    "true nor false", quotable(v));
		return 0;
	}
	*handled = false;
	return 0;
}

static int interface_key(struct parser *p, const char *key, char *v)
{
	struct wg_config *cfg = p->cfg;
	unsigned long n;

	if (strcasecmp(key, "PrivateKey") == 0) {
		cfg->has_private_key = true;
		return parse_key(p, cfg->private_key, v, "PrivateKey");
	}
	if (strcasecmp(key, "ListenPort") == 0) {
		if (!wg_config_parse_uint(v, 65535, 10, &n))
			return fail(p, "bad ListenPort: expected 0 to 65535");
		cfg->has_listen_port = true;
		cfg->listen_port = (uint16_t)n;
		return 0;
	}
	if (strcasecmp(key, "FwMark") == 0)
		return parse_fwmark(p, v);
	return fail(p, "unknown key \"%.32s\" in [Interface]",
	    quotable(key));
}

static int peer_key(struct parser *p, const char *key, char *v)
{
	struct wg_config_peer *peer = &p->cfg->peers[p->cfg->n_peers - 1];
	unsigned long n;
	int ret;

	if (strcasecmp(key, "PublicKey") == 0) {
		if ((ret = parse_key(p, peer->public_key, v, "PublicKey")) < 0)
			return ret;
		/* Reuse the line field: a peer's key is known once set. */
		p->peer_line = 0;
		return 0;
	}
	if (strcasecmp(key, "PresharedKey") == 0) {
		peer->has_preshared_key = true;
		return parse_key(p, peer->preshared_key, v, "PresharedKey");
	}
	if (strcasecmp(key, "AllowedIPs") == 0)
		return add_prefixes(p, &peer->allowed_ips,
		    &peer->n_allowed_ips, v, false, "AllowedIPs");
	if (strcasecmp(key, "Endpoint") == 0)
		return parse_endpoint(p, peer, v);
	if (strcasecmp(key, "PersistentKeepalive") == 0) {
		if (strcasecmp(v, "off") == 0)
			n = 0;
		else if (!wg_config_parse_uint(v, 65535, 10, &n))
			return fail(p, "bad PersistentKeepalive: expected off "
			    "or 0 to 65535");
		peer->has_keepalive = true;
		peer->keepalive = (uint16_t)n;
		return 0;
	}
	return fail(p, "unknown key \"%.32s\" in [Peer]", quotable(key));
}

/* A [Peer] ends at the next section or at the end of the file; only then
 * is a missing PublicKey known. */
static int close_peer(struct parser *p)
{
	if (p->section == SECTION_PEER && p->peer_line != 0) {
		p->line = p->peer_line;
		return fail(p, "[Peer] without a PublicKey");
	}
	return 0;
}

static int section(struct parser *p, const char *name)
{
	int ret;

	if ((ret = close_peer(p)) < 0)
		return ret;
	if (strcasecmp(name, "[Interface]") == 0) {
		p->section = SECTION_INTERFACE;
		return 0;
	}
	if (strcasecmp(name, "[Peer]") == 0) {
		if (push(&p->cfg->peers, &p->cfg->n_peers,
		    sizeof(struct wg_config_peer)) == NULL)
			return -ENOMEM;
		p->section = SECTION_PEER;
		p->peer_line = p->line;
		return 0;
	}
	return fail(p, "unknown section \"%.32s\"", quotable(name));
}

static int append_stripped(struct parser *p, const char *line)
{
	size_t n = strlen(line);
	char *grown;

	if (p->stripped_len + n + 2 > p->stripped_cap) {
		p->stripped_cap = (p->stripped_len + n + 2) * 2;
		grown = realloc(p->cfg->stripped, p->stripped_cap);
		if (grown == NULL)
			return -ENOMEM;
		p->cfg->stripped = grown;
	}
	memcpy(p->cfg->stripped + p->stripped_len, line, n);
	p->stripped_len += n;
	p->cfg->stripped[p->stripped_len++] = '\n';
	p->cfg->stripped[p->stripped_len] = '\0';
	return 0;
}

/* One line, NUL-terminated and writable. */
static int parse_line(struct parser *p, char *raw)
{
	char *line = conf_trim(raw, BLANKS);
	char *stripped, *eq, *key, *value, *hash;
	char *copy = NULL;
	bool handled = false;
	int ret = 0;

	if ((copy = strdup(line)) == NULL)	/* kept for strip */
		return -ENOMEM;
	stripped = line;
	if ((hash = strchr(stripped, '#')) != NULL)
		*hash = '\0';
	stripped = conf_trim(stripped, BLANKS);
	if (*stripped == '\0')
		goto keep;
	if (*stripped == '[') {
		if ((ret = section(p, stripped)) < 0)
			goto out;
		goto keep;
	}
	eq = strchr(stripped, '=');
	if (eq == NULL) {
		ret = fail(p, "expected KEY = VALUE or a [Section]");
		goto out;
	}
	*eq = '\0';
	key = conf_trim(stripped, BLANKS);
	value = conf_trim(eq + 1, BLANKS);
	if (*key == '\0') {
		ret = fail(p, "missing key before '='");
		goto out;
	}
	if (p->section == SECTION_NONE) {
		ret = fail(p, "key \"%.32s\" outside [Interface] or [Peer]",
		    quotable(key));
		goto out;
	}
	if (*value == '\0' && strcasecmp(key, "AllowedIPs") != 0 &&
	    strcasecmp(key, "Address") != 0 && strcasecmp(key, "DNS") != 0) {
		ret = fail(p, "%.32s has no value", quotable(key));
		goto out;
	}
	if (p->section == SECTION_INTERFACE) {
		ret = interface_quick_key(p, key, value, &handled);
		if (ret < 0 || handled)
			goto out;
		ret = interface_key(p, key, value);
	} else
		ret = peer_key(p, key, value);
	if (ret < 0)
		goto out;
keep:
	ret = append_stripped(p, copy);
out:
	/* The line may hold a key. */
	explicit_bzero(copy, strlen(copy));
	free(copy);
	return ret;
}

int wg_config_parse(struct wg_config *cfg, const char *file,
    const char *text, size_t len, char err[static WG_CONFIG_ERR_SIZE])
{
	struct parser p = { .cfg = cfg, .file = file, .err = err };
	size_t start = 0, end, n;
	char *line;
	int ret = 0;

	memset(cfg, 0, sizeof(*cfg));
	err[0] = '\0';
	while (start < len) {
		p.line++;
		for (end = start; end < len && text[end] != '\n'; end++)
			;
		n = end - start;
		if (memchr(text + start, '\0', n) != NULL) {
			ret = fail(&p, "NUL byte in line");
			goto out;
		}
		if ((line = malloc(n + 1)) == NULL) {
			ret = -ENOMEM;
			goto out;
		}
		memcpy(line, text + start, n);
		line[n] = '\0';
		ret = parse_line(&p, line);
		explicit_bzero(line, n);
		free(line);
		if (ret < 0)
			goto out;
		start = end + 1;
	}
	ret = close_peer(&p);
	if (ret == 0 && cfg->stripped == NULL)
		ret = (cfg->stripped = strdup("")) ? 0 : -ENOMEM;
out:
	if (ret == -ENOMEM)
		snprintf(err, WG_CONFIG_ERR_SIZE, "%s: out of memory", file);
	if (ret < 0)
		wg_config_clear(cfg);
	return ret;
}

static void free_strings(char **arr, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(arr[i]);
	free(arr);
}

void wg_config_clear(struct wg_config *cfg)
{
	size_t i;
	int h;

	for (i = 0; i < cfg->n_peers; i++) {
		free(cfg->peers[i].allowed_ips);
		free(cfg->peers[i].endpoint_host);
	}
	if (cfg->peers)
		explicit_bzero(cfg->peers, cfg->n_peers * sizeof(*cfg->peers));
	free(cfg->peers);
	free(cfg->addresses);
	free_strings(cfg->dns, cfg->n_dns);
	for (h = 0; h < WG_HOOK_COUNT; h++)
		free_strings(cfg->hooks[h], cfg->n_hooks[h]);
	if (cfg->stripped) {
		/* It holds the private key's line. */
		explicit_bzero(cfg->stripped, strlen(cfg->stripped));
		free(cfg->stripped);
	}
	explicit_bzero(cfg, sizeof(*cfg));
}
