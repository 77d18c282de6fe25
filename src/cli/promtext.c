/* Prometheus' text exposition format 0.0.4 from the daemon's UAPI
 * answers; see promtext.h.  Every family is one group of lines (the
 * format wants a name's samples together), so the peers are gathered
 * first and printed family by family. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli/promtext.h"
#include "crypto/encoding.h"

enum { NSEC_PER_SEC = 1000000000 };

struct peer {
	char key[WG_KEY_BASE64_SIZE];	/* base64, "" if unreadable */
	uint64_t hs_sec, hs_nsec, rx, tx;
};

struct peers {
	struct peer *v;
	size_t n, cap;
	bool failed;
};

/* The decimal value after '=' up to the newline, or 0 for anything else
 * (the daemon's own numbers are always whole and in range). */
static uint64_t number(const char *v, size_t n)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9' ||
		    x > (UINT64_MAX - (uint64_t)(v[i] - '0')) / 10)
			return 0;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	return x;
}

static struct peer *peer_add(struct peers *p)
{
	struct peer *grown;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;

		grown = realloc(p->v, cap * sizeof(*grown));
		if (grown == NULL) {
			p->failed = true;
			return NULL;
		}
		p->v = grown;
		p->cap = cap;
	}
	memset(&p->v[p->n], 0, sizeof(p->v[p->n]));
	return &p->v[p->n++];
}

/* "name=" at the start of line (of n bytes): the value's offset, or 0. */
static size_t value_at(const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);

	return n > k && memcmp(line, name, k) == 0 && line[k] == '=' ?
	    k + 1 : 0;
}

/* The peers of a get=1 answer, in its order.  The interface's own lines
 * (private_key among them) come before the first public_key and are
 * never looked at. */
static void peers_read(struct peers *p, const char *reply)
{
	static const uint8_t no_key[WG_KEY_LEN];
	struct peer *cur = NULL;
	const char *line;
	uint8_t key[WG_KEY_LEN];
	size_t n, at;

	for (line = reply; *line != '\0'; line += n + (line[n] == '\n')) {
		n = strcspn(line, "\n");
		if (n == 0)
			break;
		if ((at = value_at(line, n, "public_key")) != 0) {
			if ((cur = peer_add(p)) == NULL)
				return;
			if (wg_key_from_hex(key, line + at, n - at) &&
			    memcmp(key, no_key, sizeof(key)) != 0)
				wg_key_to_base64(cur->key, key);
		} else if (cur == NULL) {
			continue;
		} else if ((at = value_at(line, n, "last_handshake_time_sec"))) {
			cur->hs_sec = number(line + at, n - at);
		} else if ((at = value_at(line, n,
		    "last_handshake_time_nsec"))) {
			cur->hs_nsec = number(line + at, n - at) % NSEC_PER_SEC;
		} else if ((at = value_at(line, n, "rx_bytes")) != 0) {
			cur->rx = number(line + at, n - at);
		} else if ((at = value_at(line, n, "tx_bytes")) != 0) {
			cur->tx = number(line + at, n - at);
		}
	}
}

void wg_promtext_label(struct wg_buf *out, const char *s)
{
	size_t n;

	while (*s != '\0') {
		n = strcspn(s, "\\\"\n");
		wg_buf_printf(out, "%.*s", (int)n, s);
		s += n;
		if (*s == '\0')
			break;
		wg_buf_printf(out, "\\%c", *s == '\n' ? 'n' : *s);
		s++;
	}
}

static void family(struct wg_buf *out, const char *name, const char *type,
    const char *help)
{
	wg_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

/* name{interface="IF",LABEL="VALUE"} with the value still to come. */
static void sample(struct wg_buf *out, const char *name, const char *ifname,
    const char *label, const char *value)
{
	wg_buf_printf(out, "%s{interface=\"", name);
	wg_promtext_label(out, ifname);
	if (label != NULL) {
		wg_buf_printf(out, "\",%s=\"", label);
		wg_promtext_label(out, value);
	}
	wg_buf_printf(out, "\"} ");
}

static bool handshook(const struct peer *p)
{
	return (p->hs_sec != 0 || p->hs_nsec != 0) &&
	    p->hs_sec <= UINT64_MAX / NSEC_PER_SEC - 1;
}

static void handshakes(struct wg_buf *out, const char *ifname,
    const struct peers *p, uint64_t now_ns)
{
	uint64_t at, age;
	size_t i;

	family(out, "wgu_peer_last_handshake_timestamp_seconds", "gauge",
	    "When the latest handshake with the peer completed, in seconds "
	    "since the epoch (no sample: never).");
	for (i = 0; i < p->n; i++) {
		if (p->v[i].key[0] == '\0' || !handshook(&p->v[i]))
			continue;
		sample(out, "wgu_peer_last_handshake_timestamp_seconds",
		    ifname, "peer", p->v[i].key);
		wg_buf_printf(out, "%" PRIu64 ".%03" PRIu64 "\n",
		    p->v[i].hs_sec, p->v[i].hs_nsec / 1000000);
	}
	family(out, "wgu_peer_last_handshake_age_seconds", "gauge",
	    "Seconds since the latest handshake with the peer completed "
	    "(no sample: never).");
	for (i = 0; i < p->n; i++) {
		if (p->v[i].key[0] == '\0' || !handshook(&p->v[i]))
			continue;
		at = p->v[i].hs_sec * NSEC_PER_SEC + p->v[i].hs_nsec;
		/* A clock set back since: just now, not a negative age. */
		age = now_ns > at ? now_ns - at : 0;
		sample(out, "wgu_peer_last_handshake_age_seconds", ifname,
		    "peer", p->v[i].key);
		wg_buf_printf(out, "%" PRIu64 ".%03" PRIu64 "\n",
		    age / NSEC_PER_SEC, age % NSEC_PER_SEC / 1000000);
	}
}

static void transfer(struct wg_buf *out, const char *ifname,
    const struct peers *p, bool rx)
{
	const char *name = rx ? "wgu_peer_receive_bytes_total" :
	    "wgu_peer_transmit_bytes_total";
	size_t i;

	family(out, name, "counter", rx ?
	    "Bytes received from the peer (whole datagrams, as wg show)." :
	    "Bytes sent to the peer (whole datagrams, as wg show).");
	for (i = 0; i < p->n; i++) {
		if (p->v[i].key[0] == '\0')
			continue;
		sample(out, name, ifname, "peer", p->v[i].key);
		wg_buf_printf(out, "%" PRIu64 "\n", rx ? p->v[i].rx :
		    p->v[i].tx);
	}
}

/* The "name=count" lines of a stats=1 answer, errno's left out. */
static void drops(struct wg_buf *out, const char *ifname, const char *reply)
{
	char reason[64];
	const char *line, *eq;
	size_t n;

	family(out, "wgu_drops_total", "counter",
	    "Packets the daemon dropped, by reason (wgu stats).");
	for (line = reply; *line != '\0'; line += n + (line[n] == '\n')) {
		n = strcspn(line, "\n");
		if (n == 0)
			break;
		eq = memchr(line, '=', n);
		if (eq == NULL || eq == line ||
		    (size_t)(eq - line) >= sizeof(reason) ||
		    value_at(line, n, "errno") != 0)
			continue;
		memcpy(reason, line, (size_t)(eq - line));
		reason[eq - line] = '\0';
		sample(out, "wgu_drops_total", ifname, "reason", reason);
		wg_buf_printf(out, "%" PRIu64 "\n",
		    number(eq + 1, n - (size_t)(eq + 1 - line)));
	}
}

void wg_promtext_format(struct wg_buf *out, const char *ifname,
    const char *get_reply, const char *stats_reply, uint64_t now_ns)
{
	struct peers p = { 0 };
	size_t i, known = 0;

	peers_read(&p, get_reply);
	if (p.failed) {
		out->failed = true;
		goto out;
	}
	for (i = 0; i < p.n; i++)
		known += p.v[i].key[0] != '\0';
	family(out, "wgu_peers", "gauge", "Peers configured on the "
	    "interface.");
	sample(out, "wgu_peers", ifname, NULL, NULL);
	wg_buf_printf(out, "%zu\n", known);
	handshakes(out, ifname, &p, now_ns);
	transfer(out, ifname, &p, true);
	transfer(out, ifname, &p, false);
	drops(out, ifname, stats_reply);
out:
	free(p.v);
}
