/* Fuzzes wgu-dashboard's request layer (src/dashboard/request.c), what
 * it does with bytes from a browser before any handler runs.  The input
 * is split at its first two NUL bytes into a request target, a Cookie
 * header and a form body (a missing part is empty).
 *
 * Checked: a matched /static/ path holds only plain names (no "..", no
 * leading '.', no '\\', no empty segment); a node page's name is
 * [A-Za-z0-9._-]; parsed parameters are NUL-terminated inside their
 * buffer with no control bytes; a cookie value fits its buffer.  abort()
 * marks a broken invariant, never a bad input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_param(const struct req_params *p, const char *s)
{
	if (s == NULL)
		return;
	if (s < p->buf || s >= p->buf + sizeof(p->buf))
		abort();
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f ||
		    s >= p->buf + sizeof(p->buf) - 1)
			abort();
}

static void check_params(const struct req_params *p)
{
	size_t i;

	if (p->n > REQ_PARAMS_MAX)
		abort();
	for (i = 0; i < p->n; i++) {
		if (p->key[i] == NULL || p->key[i][0] == '\0')
			abort();
		check_param(p, p->key[i]);
		check_param(p, p->value[i]);
		(void)req_params_get(p, p->key[i]);
		(void)req_params_repeated(p, p->key[i]);
	}
}

static void check_target(const struct req_target *t)
{
	const char *s;

	if (t->route == ROUTE_STATIC) {
		if (t->arg[0] == '\0' || t->arg[0] == '.' || t->arg[0] == '/' ||
		    strstr(t->arg, "/.") || strstr(t->arg, "//") ||
		    strchr(t->arg, '\\') || t->arg[strlen(t->arg) - 1] == '/')
			abort();
	}
	if (t->route == ROUTE_PAGE_NODE)
		for (s = t->arg; *s; s++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
			    "OPQRSTUVWXYZ0123456789._-", *s))
				abort();
	if (t->route != ROUTE_NONE && req_route_info(t->route)->name == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 3), *target, *cookie, *form, *nul;
	char value[REQ_TOKEN_HEX + 1] = "";
	struct req_params *p = malloc(sizeof(*p));
	struct req_target t;

	if (copy == NULL || p == NULL)
		goto out;
	memcpy(copy, data, size);
	copy[size] = copy[size + 1] = copy[size + 2] = '\0';
	target = copy;
	nul = memchr(copy, '\0', size + 1);
	cookie = nul + 1;
	form = cookie + strlen(cookie) + 1;
	if (form > copy + size + 2)
		form = copy + size + 2;

	if (req_target_parse(target, false, &t) == 0) {
		check_target(&t);
		if (t.query && req_params_parse(p, t.query, t.query_len) == 0)
			check_params(p);
	}
	if (req_target_parse(target, true, &t) == 0 &&
	    t.route != ROUTE_NONE && t.route != ROUTE_METRICS)
		abort();
	if (req_cookie_get(cookie, "wgu_session", value, sizeof(value)) ==
	    0 && strlen(value) >= sizeof(value))
		abort();
	(void)req_token_valid(value);
	(void)req_origin_ok(cookie, form, form[0] & 1);
	(void)req_is_form(cookie);
	(void)req_method_parse(cookie);
	if (req_params_parse(p, form, strlen(form)) == 0)
		check_params(p);
out:
	free(p);
	free(copy);
	return 0;
}
