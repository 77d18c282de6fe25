/* The values of a wg-quick config line, checked as wg(8) checks them:
 * numbers, IP prefixes, addresses, host names (config_value.h), and the
 * prefix and interface-name helpers of config.h.  Pure. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/config.h"
#include "cli/config_value.h"

bool wg_config_parse_uint(const char *s, unsigned long max, int base,
    unsigned long *out)
{
	unsigned long v = 0, d;
	const char *c = s;

	if (base == 16) {
		if (c[0] != '0' || (c[1] != 'x' && c[1] != 'X'))
			return false;
		c += 2;
	}
	if (*c == '\0')
		return false;
	for (; *c; c++) {
		if (*c >= '0' && *c <= '9')
			d = (unsigned long)(*c - '0');
		else if (base == 16 && *c >= 'a' && *c <= 'f')
			d = (unsigned long)(*c - 'a' + 10);
		else if (base == 16 && *c >= 'A' && *c <= 'F')
			d = (unsigned long)(*c - 'A' + 10);
		else
			return false;
		if (v > (max - d) / (unsigned long)base)
			return false;
		v = v * (unsigned long)base + d;
	}
	*out = v;
	return true;
}

bool wg_config_parse_prefix(const char *s, struct wg_config_prefix *p)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long cidr;
	unsigned max;

	if (alen == 0 || alen >= INET6_ADDRSTRLEN)
		return false;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, buf, p->addr) == 1) {
		p->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
		p->family = AF_INET6;
		max = 128;
	} else
		return false;
	if (slash == NULL)
		cidr = max;
	else if (!wg_config_parse_uint(slash + 1, max, 10, &cidr) ||
	    strlen(slash + 1) > 3)
		return false;
	p->cidr = (uint8_t)cidr;
	return true;
}

bool wg_config_is_ip(const char *s)
{
	uint8_t a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

bool wg_config_valid_hostname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253 || s[0] == '-' || s[0] == '.')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' ||
		    *s == '_'))
			return false;
	return true;
}

void wg_config_prefix_format(const struct wg_config_prefix *p, char *out,
    size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(p->family, p->addr, a, sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "?");
	snprintf(out, size, "%s/%u", a, p->cidr);
}

bool wg_config_prefix_is_default(const struct wg_config_prefix *p)
{
	return p->cidr == 0;
}

bool wg_config_valid_ifname(const char *name, size_t len)
{
	size_t i;

	if (len < 1 || len > 15)
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '=' ||
		    c == '+' || c == '.' || c == '-'))
			return false;
	}
	return true;
}
