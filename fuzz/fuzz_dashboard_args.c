/* Fuzzes the dashboard data side's parsers of text it did not write
 * (src/dashboard/args.c, tunnel.c): the input, cut at its first NUL, is
 * tried as a query string ("k=v&k=v", split as the HTTP layer would,
 * without URL-decoding) for /api/history and /api/alarms, as a time and
 * an alarm id, and as the daemon's answers to get=1 and stats=1.
 *
 * Checked: what is accepted keeps the documented invariants (from <= to,
 * both within 1970..9999, a valid node, a non-empty field set; an id in
 * 1..2^53; peers' keys 44 base64 characters, drop reasons short).
 * abort() marks a broken invariant, never a bad input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { ARGS_MAX = 16 };
#define NOW INT64_C(1765000000000)

static size_t split(char *s, struct dash_arg *args)
{
	size_t n = 0;
	char *part, *eq, *save = NULL;

	for (part = strtok_r(s, "&", &save); part && n < ARGS_MAX;
	    part = strtok_r(NULL, "&", &save)) {
		eq = strchr(part, '=');
		if (eq)
			*eq++ = '\0';
		args[n].key = part;
		args[n++].value = eq;
	}
	return n;
}

static void check_range(int64_t from, int64_t to)
{
	if (from < 0 || to > TELEMETRY_TIME_MS_MAX || from > to)
		abort();
}

static void queries(const char *text)
{
	struct dash_arg args[ARGS_MAX];
	struct dash_history_query q;
	struct dash_alarms_query aq;
	char s[512], err[DASH_ERR_MAX];
	size_t n;

	strcpy(s, text);
	n = split(s, args);
	if (dash_parse_history_args(args, n, NOW, &q, err) == 0) {
		check_range(q.from_ms, q.to_ms);
		if (!telemetry_node_id_valid(q.node) || q.fields == 0 ||
		    (q.fields & ~(unsigned)DASH_FIELDS_ALL))
			abort();
	} else if (strlen(err) == 0 || strlen(err) >= DASH_ERR_MAX) {
		abort();
	}
	if (dash_parse_alarms_args(args, n, NOW, &aq, err) == 0 &&
	    aq.has_range)
		check_range(aq.from_ms, aq.to_ms);
}

static void answers(const char *text)
{
	struct dash_tunnel t = { 0 };
	size_t i;

	if (dash_tunnel_parse_get(text, &t) == 0)
		for (i = 0; i < t.npeers; i++)
			if (strlen(t.peers[i].public_key) != DASH_KEY_B64_LEN)
				abort();
	dash_tunnel_clear(&t);
	if (dash_tunnel_parse_stats(text, &t) == 0)
		for (i = 0; i < t.ndrops; i++)
			if (strlen(t.drops[i].reason) == 0 ||
			    strlen(t.drops[i].reason) >=
			    sizeof(t.drops[i].reason))
				abort();
	dash_tunnel_clear(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[512], err[DASH_ERR_MAX];
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
	int64_t v;

	memcpy(s, data, n);
	s[n] = '\0';
	queries(s);
	if (dash_parse_time(s, NOW, &v, err) == 0 &&
	    (v < 0 || v > TELEMETRY_TIME_MS_MAX))
		abort();
	if (dash_parse_alarm_id(s, &v, err) == 0 &&
	    (v < 1 || v > (INT64_C(1) << 53)))
		abort();
	answers(s);
	return 0;
}
