/* The pure request layer; see request.h. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "dashboard/request.h"

enum { SEGMENTS_MAX = 8 };

#define GET_HEAD (REQ_GET | REQ_HEAD)

static const struct req_route_info routes[ROUTE_COUNT] = {
	[ROUTE_NONE] = { 0, false, false, false, true, "none" },
	[ROUTE_PAGE_INDEX] = { GET_HEAD, true, false, false, true, "index" },
	[ROUTE_PAGE_NODE] = { GET_HEAD, true, false, false, true, "node" },
	[ROUTE_PAGE_ALARMS] = { GET_HEAD, true, false, false, true, "alarms" },
	[ROUTE_PAGE_TUNNEL] = { GET_HEAD, true, false, false, true, "tunnel" },
	[ROUTE_LOGIN] = { GET_HEAD | REQ_POST, false, false, false, true,
	    "login" },
	[ROUTE_STATIC] = { GET_HEAD, false, false, false, true, "static" },
	[ROUTE_CHARTJS] = { GET_HEAD, false, false, false, true, "chartjs" },
	[ROUTE_LOGOUT] = { REQ_POST, true, false, true, false, "logout" },
	[ROUTE_API_SESSION] = { GET_HEAD, true, true, false, false,
	    "api_session" },
	[ROUTE_API_NODES] = { GET_HEAD, true, true, false, false,
	    "api_nodes" },
	[ROUTE_API_THRESHOLDS] = { GET_HEAD, true, true, false, false,
	    "api_thresholds" },
	[ROUTE_API_HISTORY] = { GET_HEAD, true, true, false, true,
	    "api_history" },
	[ROUTE_API_HISTORY_CSV] = { GET_HEAD, true, true, false, true,
	    "api_history_csv" },
	[ROUTE_API_ALARMS] = { GET_HEAD, true, true, false, true,
	    "api_alarms" },
	[ROUTE_API_ACK] = { REQ_POST, true, true, true, false, "api_ack" },
	[ROUTE_API_TUNNEL] = { GET_HEAD, true, true, false, false,
	    "api_tunnel" },
	[ROUTE_EVENTS] = { REQ_GET, true, true, false, false, "events" },
	[ROUTE_METRICS] = { GET_HEAD, false, false, false, false, "metrics" },
};

const struct req_route_info *req_route_info(enum req_route r)
{
	return &routes[(unsigned)r < ROUTE_COUNT ? r : ROUTE_NONE];
}

enum req_method req_method_parse(const char *method)
{
	if (method == NULL)
		return REQ_OTHER;
	if (strcmp(method, "GET") == 0)
		return REQ_GET;
	if (strcmp(method, "HEAD") == 0)
		return REQ_HEAD;
	if (strcmp(method, "POST") == 0)
		return REQ_POST;
	return REQ_OTHER;
}

const char *req_allow_header(unsigned methods)
{
	if (methods == REQ_POST)
		return "POST";
	if (methods == REQ_GET)
		return "GET";
	if (methods == (GET_HEAD | REQ_POST))
		return "GET, HEAD, POST";
	return "GET, HEAD";
}

/* ---------------------------------------------------------------- bytes */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* Decodes n bytes of s into out (cap bytes with the NUL); plus says
 * whether '+' is a space (forms and queries, not paths).  Returns the
 * decoded length or -EINVAL. */
static int decode(const char *s, size_t n, bool plus, char *out, size_t cap)
{
	size_t i, o = 0;
	int hi, lo;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -EINVAL;
			hi = hex_value(s[i + 1]);
			lo = hex_value(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		if (is_control(c) || o + 1 >= cap)
			return -EINVAL;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (int)o;
}

/* ---------------------------------------------------------------- routes */

static bool name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

/* [A-Za-z0-9._-]+ not starting with '.': no "..", no hidden files. */
static bool file_segment(const char *s)
{
	if (*s == '\0' || *s == '.')
		return false;
	for (; *s; s++)
		if (!name_char((unsigned char)*s))
			return false;
	return true;
}

static bool node_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (!name_char((unsigned char)*s))
			return false;
	return true;
}

struct segments {
	size_t n;
	char seg[SEGMENTS_MAX][REQ_ARG_MAX];
};

/* "/a/b%2Fc" -> "a", "b/c".  "/" is no segment at all; "//" and a
 * trailing '/' give empty ones (which match no route). */
static int split_path(const char *path, size_t len, struct segments *sg)
{
	size_t i = 1, start;

	sg->n = 0;
	if (len == 1)
		return 0;
	while (i <= len) {
		start = i;
		while (i < len && path[i] != '/')
			i++;
		if (sg->n == SEGMENTS_MAX)
			return -ENOENT;
		if (decode(path + start, i - start, false, sg->seg[sg->n],
		    REQ_ARG_MAX) < 0)
			return -EINVAL;
		sg->n++;
		i++;
	}
	return 0;
}

static bool is(const struct segments *sg, size_t i, const char *s)
{
	return i < sg->n && strcmp(sg->seg[i], s) == 0;
}

static enum req_route match_static(const struct segments *sg,
    struct req_target *t)
{
	size_t i, o = 0, n;

	if (sg->n == 2 && is(sg, 1, "chart.js"))
		return ROUTE_CHARTJS;
	if (sg->n < 2 || sg->n > 1 + REQ_STATIC_DEPTH + 1)
		return ROUTE_NONE;
	for (i = 1; i < sg->n; i++) {
		if (!file_segment(sg->seg[i]))
			return ROUTE_NONE;
		n = strlen(sg->seg[i]);
		if (o + n + 2 > sizeof(t->arg))
			return ROUTE_NONE;
		if (i > 1)
			t->arg[o++] = '/';
		memcpy(t->arg + o, sg->seg[i], n + 1);
		o += n;
	}
	return ROUTE_STATIC;
}

static enum req_route match_api(const struct segments *sg,
    struct req_target *t)
{
	static const struct { const char *name; enum req_route r; } one[] = {
		{ "session", ROUTE_API_SESSION },
		{ "nodes", ROUTE_API_NODES },
		{ "thresholds", ROUTE_API_THRESHOLDS },
		{ "history", ROUTE_API_HISTORY },
		{ "history.csv", ROUTE_API_HISTORY_CSV },
		{ "alarms", ROUTE_API_ALARMS },
		{ "tunnel", ROUTE_API_TUNNEL },
	};
	size_t i;

	if (sg->n == 2) {
		for (i = 0; i < sizeof(one) / sizeof(one[0]); i++)
			if (is(sg, 1, one[i].name))
				return one[i].r;
		return ROUTE_NONE;
	}
	if (sg->n == 4 && is(sg, 1, "alarms") && is(sg, 3, "ack") &&
	    sg->seg[2][0] != '\0' && strlen(sg->seg[2]) < 32) {
		strcpy(t->arg, sg->seg[2]);
		return ROUTE_API_ACK;
	}
	return ROUTE_NONE;
}

static enum req_route match(const struct segments *sg, struct req_target *t)
{
	if (sg->n == 0)
		return ROUTE_PAGE_INDEX;
	if (sg->n == 1) {
		if (is(sg, 0, "login"))
			return ROUTE_LOGIN;
		if (is(sg, 0, "logout"))
			return ROUTE_LOGOUT;
		if (is(sg, 0, "alarms"))
			return ROUTE_PAGE_ALARMS;
		if (is(sg, 0, "tunnel"))
			return ROUTE_PAGE_TUNNEL;
		if (is(sg, 0, "events"))
			return ROUTE_EVENTS;
		return ROUTE_NONE;
	}
	if (is(sg, 0, "node") && sg->n == 2) {
		if (!node_name(sg->seg[1]))
			return ROUTE_NONE;
		strcpy(t->arg, sg->seg[1]);
		return ROUTE_PAGE_NODE;
	}
	if (is(sg, 0, "static"))
		return match_static(sg, t);
	if (is(sg, 0, "api"))
		return match_api(sg, t);
	return ROUTE_NONE;
}

int req_target_parse(const char *target, bool metrics, struct req_target *t)
{
	struct segments sg;
	const char *q;
	size_t len, plen;
	int ret;

	memset(t, 0, sizeof(*t));
	t->route = ROUTE_NONE;
	if (target == NULL || target[0] != '/')
		return -EINVAL;
	len = strnlen(target, REQ_TARGET_MAX + 1);
	if (len > REQ_TARGET_MAX)
		return -EINVAL;
	q = memchr(target, '?', len);
	plen = q ? (size_t)(q - target) : len;
	if (q) {
		t->query = q + 1;
		t->query_len = len - plen - 1;
	}
	ret = split_path(target, plen, &sg);
	if (ret == -ENOENT)
		return 0;		/* too deep for any route: 404 */
	if (ret < 0)
		return ret;
	if (metrics)
		t->route = sg.n == 1 && is(&sg, 0, "metrics") ? ROUTE_METRICS :
		    ROUTE_NONE;
	else
		t->route = match(&sg, t);
	if (t->route == ROUTE_NONE)
		t->arg[0] = '\0';
	return 0;
}

/* ---------------------------------------------------------------- params */

int req_params_parse(struct req_params *p, const char *s, size_t len)
{
	size_t i = 0, used = 0, start, eq;
	int n;

	p->n = 0;
	while (i < len) {
		start = i;
		while (i < len && s[i] != '&')
			i++;
		if (i == start) {		/* "a=1&&b=2", a trailing '&' */
			i++;
			continue;
		}
		if (p->n == REQ_PARAMS_MAX)
			return -EINVAL;
		for (eq = start; eq < i && s[eq] != '='; eq++)
			;
		if (eq == start)
			return -EINVAL;		/* "=x": no key */
		n = decode(s + start, eq - start, true, p->buf + used,
		    sizeof(p->buf) - used);
		if (n <= 0)
			return -EINVAL;
		p->key[p->n] = p->buf + used;
		used += (size_t)n + 1;
		p->value[p->n] = NULL;
		if (eq < i) {
			n = decode(s + eq + 1, i - eq - 1, true, p->buf + used,
			    sizeof(p->buf) - used);
			if (n < 0)
				return -EINVAL;
			p->value[p->n] = p->buf + used;
			used += (size_t)n + 1;
		}
		p->n++;
		i++;
	}
	return 0;
}

const char *req_params_get(const struct req_params *p, const char *key)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->key[i], key) == 0)
			return p->value[i];
	return NULL;
}

bool req_params_repeated(const struct req_params *p, const char *key)
{
	size_t i, seen = 0;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->key[i], key) == 0)
			seen++;
	return seen > 1;
}

/* ---------------------------------------------------------------- headers */

static bool space(char c)
{
	return c == ' ' || c == '\t';
}

int req_cookie_get(const char *header, const char *name, char *out,
    size_t cap)
{
	size_t nlen = strlen(name), vlen;
	const char *p = header, *end, *eq, *v, *ve;

	if (header == NULL)
		return -ENOENT;
	while (*p) {
		while (space(*p) || *p == ';')
			p++;
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq != NULL && (size_t)(eq - p) == nlen &&
		    memcmp(p, name, nlen) == 0) {
			v = eq + 1;
			ve = end;
			while (ve > v && space(ve[-1]))
				ve--;
			if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
				v++;
				ve--;
			}
			vlen = (size_t)(ve - v);
			if (vlen + 1 > cap || memchr(v, '"', vlen))
				return -EINVAL;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return 0;
		}
		p = end;
	}
	return -ENOENT;
}

bool req_token_valid(const char *s)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i < REQ_TOKEN_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[REQ_TOKEN_HEX] == '\0';
}

bool req_origin_ok(const char *origin, const char *host, bool tls)
{
	const char *scheme = tls ? "https://" : "http://";
	size_t sl = strlen(scheme);

	if (origin == NULL)
		return true;
	if (host == NULL || *host == '\0')
		return false;
	return strncasecmp(origin, scheme, sl) == 0 &&
	    strcasecmp(origin + sl, host) == 0;
}

bool req_is_form(const char *content_type)
{
	static const char form[] = "application/x-www-form-urlencoded";
	size_t n = sizeof(form) - 1;

	if (content_type == NULL || strncasecmp(content_type, form, n) != 0)
		return false;
	return content_type[n] == '\0' || content_type[n] == ';' ||
	    space(content_type[n]);
}
