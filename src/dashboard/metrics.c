/* /metrics: Prometheus text exposition format 0.0.4.  The nodes from the
 * live state, the historian's counters from its historian_stats table,
 * the active alarms from its alarms table, the peers and drops from the
 * interface's UAPI.  Families appear once each, HELP and TYPE first;
 * label values are escaped (\\, \", \n). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cli/buf.h"
#include "dashboard/internal.h"

enum { LABEL_MAX = 256, KINDS_MAX = 64 };

void dash_metrics_escape(const char *s, char *out, size_t cap)
{
	size_t o = 0;
	const char *rep;
	char one[2] = "";

	for (; *s && cap > 0; s++) {
		rep = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" :
		    *s == '\n' ? "\\n" : (one[0] = *s, one);
		if (o + strlen(rep) >= cap)
			break;
		memcpy(out + o, rep, strlen(rep));
		o += strlen(rep);
	}
	if (cap > 0)
		out[o] = '\0';
}

static void family(struct wg_buf *b, const char *name, const char *type,
    const char *help)
{
	wg_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

/* The fewest significant digits that read back as v. */
static int shortest(double v)
{
	char text[32];
	int digits;

	for (digits = 15; digits < 17; digits++) {
		snprintf(text, sizeof(text), "%.*g", digits, v);
		if (strtod(text, NULL) == v)
			break;
	}
	return digits;
}

/* A sample value: integers exactly, the rest in full, NaN and the
 * infinities as the format spells them. */
static void value(struct wg_buf *b, double v)
{
	if (isnan(v))
		wg_buf_printf(b, " NaN\n");
	else if (isinf(v))
		wg_buf_printf(b, v > 0 ? " +Inf\n" : " -Inf\n");
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)
		wg_buf_printf(b, " %.0f\n", v);
	else
		wg_buf_printf(b, " %.*g\n", shortest(v), v);
}

/* ---------------------------------------------------------------- nodes */

static void node_sample(struct wg_buf *b, const char *name,
    const struct fleet_entry *e, const char *field, double v)
{
	char node[LABEL_MAX];

	dash_metrics_escape(e->node, node, sizeof(node));
	if (field)
		wg_buf_printf(b, "%s{node=\"%s\",field=\"%s\"}", name, node,
		    field);
	else
		wg_buf_printf(b, "%s{node=\"%s\"}", name, node);
	value(b, v);
}

static void nodes(struct wg_buf *b, const struct fleet_entry *e, size_t n)
{
	size_t i;

	family(b, "wgu_node_readings_total", "counter",
	    "Readings received from the node since the dashboard started.");
	for (i = 0; i < n; i++)
		node_sample(b, "wgu_node_readings_total", &e[i], NULL,
		    (double)e[i].readings);
	family(b, "wgu_node_value", "gauge",
	    "The last reading's value per field (p bar, t degrees Celsius, "
	    "v mm/s RMS).");
	for (i = 0; i < n; i++) {
		if (!isnan(e[i].p))
			node_sample(b, "wgu_node_value", &e[i], "p", e[i].p);
		if (!isnan(e[i].t))
			node_sample(b, "wgu_node_value", &e[i], "t", e[i].t);
		if (!isnan(e[i].v))
			node_sample(b, "wgu_node_value", &e[i], "v", e[i].v);
	}
	family(b, "wgu_node_status", "gauge",
	    "The last reading's status: 0 normal, 1 warning, 2 critical.");
	for (i = 0; i < n; i++)
		node_sample(b, "wgu_node_status", &e[i], NULL, e[i].status);
	family(b, "wgu_node_last_reading_age_seconds", "gauge",
	    "Seconds since the hub received the node's last reading.");
	for (i = 0; i < n; i++)
		node_sample(b, "wgu_node_last_reading_age_seconds", &e[i],
		    NULL, e[i].age_s);
}

/* ------------------------------------------------------------ historian */

static const struct {
	const char *row, *name, *type, *help;
} historian[] = {
	{ "duplicates_dropped", "wgu_historian_duplicates_dropped_total",
	  "counter", "Readings the historian dropped as duplicates." },
	{ "gaps_open", "wgu_historian_gaps_open", "gauge",
	  "Sequence gaps the historian is waiting to see filled." },
	{ "rejects", "wgu_historian_rejects_total", "counter",
	  "Payloads the historian refused." },
	{ "log_bytes", "wgu_historian_log_bytes", "gauge",
	  "Size of the historian's production log in bytes." },
	{ "ingest_lag_seconds", "wgu_historian_ingest_lag_seconds", "gauge",
	  "Seconds between a reading's arrival and its being logged." },
	{ "readings_logged", "wgu_historian_readings_logged_total", "counter",
	  "Readings the historian appended to its log." },
};
enum { NHIST = sizeof(historian) / sizeof(historian[0]) };

struct kind_count {
	char kind[33];
	int severity;
	double count;
};

/* What the store says, read under store_lock, printed after. */
struct store_figures {
	double hist[NHIST];
	bool has_hist[NHIST];
	struct kind_count kinds[KINDS_MAX];
	size_t nkinds;
};

static void read_historian(sqlite3 *db, struct store_figures *s)
{
	sqlite3_stmt *st;
	const char *name;
	size_t i;

	if (!dash_store_has_table(db, "historian_stats") ||
	    sqlite3_prepare_v2(db, "SELECT name, value FROM historian_stats",
	    -1, &st, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(st, 0);
		for (i = 0; name && i < NHIST; i++)
			if (strcmp(name, historian[i].row) == 0) {
				s->hist[i] = sqlite3_column_double(st, 1);
				s->has_hist[i] = true;
			}
	}
	sqlite3_finalize(st);
}

static struct kind_count *kind_slot(struct store_figures *s, const char *kind,
    int severity)
{
	size_t i;

	for (i = 0; i < s->nkinds; i++)
		if (s->kinds[i].severity == severity &&
		    strcmp(s->kinds[i].kind, kind) == 0)
			return &s->kinds[i];
	if (s->nkinds == KINDS_MAX || strlen(kind) >= sizeof(s->kinds[0].kind))
		return NULL;
	snprintf(s->kinds[s->nkinds].kind, sizeof(s->kinds[0].kind), "%s",
	    kind);
	s->kinds[s->nkinds].severity = severity;
	s->kinds[s->nkinds].count = 0;
	return &s->kinds[s->nkinds++];
}

/* Every kind the contract names at severities 1 and 2, 0 unless active:
 * an alert on the series sees it fall back to 0. */
static void read_alarms(sqlite3 *db, struct store_figures *s)
{
	static const char *const kinds[] = { "threshold", "silent", "gap",
	    "handshake", "source-down" };
	struct kind_count *k;
	sqlite3_stmt *st;
	const char *kind;
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		kind_slot(s, kinds[i], 1);
		kind_slot(s, kinds[i], 2);
	}
	if (db == NULL || !dash_store_has_table(db, "alarms") ||
	    sqlite3_prepare_v2(db, "SELECT kind, severity, count(*) FROM "
	    "alarms WHERE \"end\" IS NULL GROUP BY kind, severity", -1, &st,
	    NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		kind = (const char *)sqlite3_column_text(st, 0);
		if (kind && (k = kind_slot(s, kind, sqlite3_column_int(st,
		    1))) != NULL)
			k->count = sqlite3_column_double(st, 2);
	}
	sqlite3_finalize(st);
}

static void store_families(struct wg_buf *b, const struct store_figures *s)
{
	char kind[LABEL_MAX];
	size_t i;

	for (i = 0; i < NHIST; i++) {
		if (!s->has_hist[i])
			continue;
		family(b, historian[i].name, historian[i].type,
		    historian[i].help);
		wg_buf_printf(b, "%s", historian[i].name);
		value(b, s->hist[i]);
	}
	family(b, "wgu_alarms_active", "gauge",
	    "Alarms raised and not yet cleared, by kind and severity.");
	for (i = 0; i < s->nkinds; i++) {
		dash_metrics_escape(s->kinds[i].kind, kind, sizeof(kind));
		wg_buf_printf(b, "wgu_alarms_active{kind=\"%s\",severity="
		    "\"%d\"}", kind, s->kinds[i].severity);
		value(b, s->kinds[i].count);
	}
}

/* ---------------------------------------------------------------- tunnel */

static void peer_sample(struct wg_buf *b, const char *name, const char *ifn,
    const struct dash_peer *p, double v)
{
	char peer[LABEL_MAX];

	dash_metrics_escape(p->public_key, peer, sizeof(peer));
	wg_buf_printf(b, "%s{interface=\"%s\",peer=\"%s\"}", name, ifn, peer);
	value(b, v);
}

void dash_metrics_tunnel(struct wg_buf *b, const char *ifname,
    const struct dash_tunnel *t, bool up, int64_t now_ms)
{
	char ifn[LABEL_MAX];
	size_t i;

	dash_metrics_escape(ifname, ifn, sizeof(ifn));
	family(b, "wgu_dashboard_tunnel_up", "gauge",
	    "1 when the interface's daemon answered over its UAPI socket.");
	wg_buf_printf(b, "wgu_dashboard_tunnel_up{interface=\"%s\"} %d\n",
	    ifn, up);
	if (!up)
		return;
	family(b, "wgu_peer_last_handshake_age_seconds", "gauge",
	    "Seconds since the peer's latest handshake (+Inf: never).");
	for (i = 0; i < t->npeers; i++)
		peer_sample(b, "wgu_peer_last_handshake_age_seconds", ifn,
		    &t->peers[i], t->peers[i].latest_handshake > 0 ?
		    (double)(now_ms / 1000 - t->peers[i].latest_handshake) :
		    INFINITY);
	family(b, "wgu_peer_receive_bytes_total", "counter",
	    "Bytes received from the peer.");
	for (i = 0; i < t->npeers; i++)
		peer_sample(b, "wgu_peer_receive_bytes_total", ifn,
		    &t->peers[i], (double)t->peers[i].rx_bytes);
	family(b, "wgu_peer_transmit_bytes_total", "counter",
	    "Bytes sent to the peer.");
	for (i = 0; i < t->npeers; i++)
		peer_sample(b, "wgu_peer_transmit_bytes_total", ifn,
		    &t->peers[i], (double)t->peers[i].tx_bytes);
	family(b, "wgu_drops_total", "counter",
	    "Packets the wgu daemon dropped, by reason.");
	for (i = 0; i < t->ndrops; i++) {
		wg_buf_printf(b, "wgu_drops_total{interface=\"%s\",reason="
		    "\"%s\"}", ifn, t->drops[i].reason);
		value(b, (double)t->drops[i].count);
	}
}

static void tunnel(struct wg_buf *b, const char *ifname, int64_t now_ms)
{
	struct dash_tunnel t;
	char err[DASH_ERR_MAX];

	dash_metrics_tunnel(b, ifname, &t,
	    dash_tunnel_read(ifname, &t, err) == 0, now_ms);
	dash_tunnel_clear(&t);
}

/* ---------------------------------------------------------------- all */

static void own(struct wg_buf *b, struct dash_data *d)
{
	family(b, "wgu_dashboard_bad_payloads_total", "counter",
	    "MQTT messages the dashboard could not use, by topic kind.");
	wg_buf_printf(b, "wgu_dashboard_bad_payloads_total{kind=\"telemetry"
	    "\"} %" PRIu64 "\n", DASH_COUNTER(d, bad_readings));
	wg_buf_printf(b, "wgu_dashboard_bad_payloads_total{kind=\"alarm\"} %"
	    PRIu64 "\n", DASH_COUNTER(d, bad_alarms));
	family(b, "wgu_dashboard_nodes_refused_total", "counter",
	    "Readings of nodes beyond the most the dashboard tracks.");
	wg_buf_printf(b, "wgu_dashboard_nodes_refused_total %" PRIu64 "\n",
	    fleet_refused(d->fleet));
}

int dash_metrics(struct dash_data *d, int64_t now_ms, struct dash_reply *r)
{
	struct store_figures *s = calloc(1, sizeof(*s));
	struct fleet_entry *e = NULL;
	struct wg_buf b = { 0 };
	char err[DASH_ERR_MAX];
	size_t n = 0;
	sqlite3 *db;

	memset(r, 0, sizeof(*r));
	if (s == NULL || fleet_snapshot(d->fleet, now_ms, &e, &n) < 0) {
		free(s);
		return dash_reply_take(r, 500, "text/plain", NULL, 0);
	}
	pthread_mutex_lock(&d->store_lock);
	if ((db = dash_store(d, err)) != NULL) {
		read_historian(db, s);
		read_alarms(db, s);
	} else {
		/* No store: the kinds at 0 all the same. */
		read_alarms(NULL, s);
	}
	pthread_mutex_unlock(&d->store_lock);
	nodes(&b, e, n);
	store_families(&b, s);
	if (d->interface)
		tunnel(&b, d->interface, now_ms);
	own(&b, d);
	free(e);
	free(s);
	if (b.failed) {
		wg_buf_free(&b);
		return dash_reply_take(r, 500, "text/plain", NULL, 0);
	}
	return dash_reply_take(r, 200, "text/plain; version=0.0.4; "
	    "charset=utf-8", b.s, b.len);
}
