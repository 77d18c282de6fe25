/* The historian's alarms, pure (see alarms.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub/alarms.h"

/* A node's state: when its last reading came, since when it has had
 * gaps, and how many of its alarms are open (none: a normal reading
 * needs no search). */
struct alarms_node {
	char name[ALARMS_NODE_MAX + 1];
	int64_t last_ms;	/* 0: no reading known */
	int64_t gap_since;	/* 0: no gap */
	size_t nopen;
};

static const char *const kind_names[ALARM_KINDS] = {
	[ALARM_THRESHOLD] = "threshold",
	[ALARM_SILENT] = "silent",
	[ALARM_GAP] = "gap",
	[ALARM_HANDSHAKE] = "handshake",
	[ALARM_SOURCE_DOWN] = "source-down",
};

const char *alarm_kind_name(enum alarm_kind k)
{
	return k < ALARM_KINDS ? kind_names[k] : "?";
}

int alarm_kind_parse(const char *name)
{
	int k;

	for (k = 0; k < ALARM_KINDS; k++)
		if (strcmp(kind_names[k], name) == 0)
			return k;
	return -1;
}

const char *alarm_event_name(enum alarm_event ev)
{
	switch (ev) {
	case ALARM_RAISE: return "raise";
	case ALARM_UPDATE: return "update";
	case ALARM_PEAK: return "peak";
	default: return "clear";
	}
}

void alarms_config_default(struct alarms_config *cfg)
{
	static const struct alarm_threshold sim[] = {
		{ "p", TELEMETRY_P_WARN, TELEMETRY_P_CRIT, false },
		{ "t", TELEMETRY_T_WARN, TELEMETRY_T_CRIT, false },
		{ "v", TELEMETRY_V_WARN, TELEMETRY_V_CRIT, false },
	};

	*cfg = (struct alarms_config){
		.nthresholds = sizeof(sim) / sizeof(sim[0]),
		.clear_after_ms = 30000, .silent_after_ms = 30000,
		.gap_after_ms = 60000,
	};
	memcpy(cfg->thresholds, sim, sizeof(sim));
}

int alarm_threshold_severity(const struct alarm_threshold *t, double v)
{
	if (isnan(v))
		return 0;
	if (t->below)
		return v <= t->critical ? ALARM_CRITICAL :
		    v <= t->warning ? ALARM_WARNING : 0;
	return v >= t->critical ? ALARM_CRITICAL :
	    v >= t->warning ? ALARM_WARNING : 0;
}

void alarms_init(struct alarms *al, const struct alarms_config *cfg,
    alarms_changed_fn *changed, void *ctx)
{
	*al = (struct alarms){ .cfg = *cfg, .changed = changed, .ctx = ctx };
}

void alarms_clear(struct alarms *al)
{
	size_t i;

	for (i = 0; i < al->nopen; i++)
		free(al->open[i]);
	free(al->open);
	free(al->nodes);
	*al = (struct alarms){ 0 };
}

/* ---------------------------------------------------------------- nodes */

static int node_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct alarms_node *)elem)->name);
}

static struct alarms_node *node_find(const struct alarms *al,
    const char *name)
{
	if (al->nnodes == 0)
		return NULL;
	return bsearch(name, al->nodes, al->nnodes, sizeof(*al->nodes),
	    node_cmp);
}

/* The node, added when new; NULL when out of room. */
static struct alarms_node *node_get(struct alarms *al, const char *name)
{
	struct alarms_node *n = node_find(al, name);
	size_t lo = 0, hi = al->nnodes;

	if (n || strlen(name) > ALARMS_NODE_MAX)
		return n;
	if (al->nnodes == al->capnodes) {
		size_t cap = al->capnodes ? al->capnodes * 2 : 16;
		struct alarms_node *p;

		if (al->nnodes >= ALARMS_MAX_NODES ||
		    (p = realloc(al->nodes, cap * sizeof(*p))) == NULL)
			return NULL;
		al->nodes = p;
		al->capnodes = cap;
	}
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (strcmp(al->nodes[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&al->nodes[lo + 1], &al->nodes[lo],
	    (al->nnodes - lo) * sizeof(*al->nodes));
	n = &al->nodes[lo];
	*n = (struct alarms_node){ 0 };
	snprintf(n->name, sizeof(n->name), "%s", name);
	al->nnodes++;
	return n;
}

/* ---------------------------------------------------------------- open */

static size_t find_index(const struct alarms *al, const char *node,
    enum alarm_kind kind, const char *field)
{
	size_t i;

	for (i = 0; i < al->nopen; i++) {
		const struct alarm *a = al->open[i];

		if (a->kind == kind && strcmp(a->node, node) == 0 &&
		    strcmp(a->field, field ? field : "") == 0)
			return i;
	}
	return SIZE_MAX;
}

const struct alarm *alarms_find(const struct alarms *al, const char *node,
    enum alarm_kind kind, const char *field)
{
	size_t i = find_index(al, node, kind, field);

	return i == SIZE_MAX ? NULL : al->open[i];
}

static struct alarm *find(struct alarms *al, const char *node,
    enum alarm_kind kind, const char *field)
{
	size_t i = find_index(al, node, kind, field);

	return i == SIZE_MAX ? NULL : al->open[i];
}

size_t alarms_open_count(const struct alarms *al)
{
	return al->nopen;
}

/* Holds a copy of a; NULL when out of room. */
static struct alarm *hold(struct alarms *al, const struct alarm *a)
{
	struct alarms_node *n = NULL;
	struct alarm *copy;

	if (a->kind != ALARM_HANDSHAKE && (n = node_get(al, a->node)) == NULL)
		return NULL;
	if (al->nopen == al->capopen) {
		size_t cap = al->capopen ? al->capopen * 2 : 16;
		struct alarm **p;

		if (al->nopen >= ALARMS_MAX_OPEN ||
		    (p = realloc(al->open, cap * sizeof(*p))) == NULL)
			return NULL;
		al->open = p;
		al->capopen = cap;
	}
	if ((copy = malloc(sizeof(*copy))) == NULL)
		return NULL;
	*copy = *a;
	al->open[al->nopen++] = copy;
	if (n)
		n->nopen++;
	return copy;
}

/* A detail may quote a device's words (a source-down reason): printable
 * ASCII only, for terminals, logs and whoever reads it next. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

__attribute__((format(printf, 8, 9)))
static void raise_alarm(struct alarms *al, const char *node,
    enum alarm_kind kind, const char *field, int severity, double peak,
    int64_t now, const char *fmt, ...)
{
	struct alarm a = { .kind = kind, .severity = severity, .start = now,
	    .peak = peak };
	struct alarm *held;
	va_list ap;

	if (strlen(node) > ALARMS_NODE_MAX) {
		al->dropped++;
		return;
	}
	snprintf(a.node, sizeof(a.node), "%s", node);
	snprintf(a.field, sizeof(a.field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(a.detail, sizeof(a.detail), fmt, ap);
	va_end(ap);
	sanitize(a.detail);
	if ((held = hold(al, &a)) == NULL) {
		al->dropped++;
		return;
	}
	al->changed(al->ctx, held, ALARM_RAISE);
}

static void clear_at(struct alarms *al, size_t i, int64_t now)
{
	struct alarm *a = al->open[i];
	struct alarms_node *n = a->kind == ALARM_HANDSHAKE ? NULL :
	    node_find(al, a->node);

	a->end = now;
	al->open[i] = al->open[--al->nopen];
	if (n && n->nopen > 0)
		n->nopen--;
	al->changed(al->ctx, a, ALARM_CLEAR);
	free(a);
}

static void clear_key(struct alarms *al, const char *node,
    enum alarm_kind kind, const char *field, int64_t now)
{
	size_t i = find_index(al, node, kind, field);

	if (i != SIZE_MAX)
		clear_at(al, i, now);
}

int alarms_resume(struct alarms *al, const struct alarm *a)
{
	struct alarm copy = *a;
	struct alarms_node *n;

	if (find(al, a->node, a->kind, a->field))
		return -EEXIST;
	copy.end = 0;
	copy.normal_since = 0;
	copy.seen_poll = al->poll;
	if (hold(al, &copy) == NULL)
		return al->nopen >= ALARMS_MAX_OPEN ? -ENOSPC : -ENOMEM;
	/* A gap open before the restart has been open since then. */
	if (a->kind == ALARM_GAP && (n = node_find(al, a->node)) != NULL)
		n->gap_since = a->start;
	return 0;
}

void alarms_seen(struct alarms *al, const char *node, int64_t last_ms)
{
	struct alarms_node *n = node_get(al, node);

	if (n && last_ms > n->last_ms)
		n->last_ms = last_ms;
}

/* ---------------------------------------------------------------- readings */

static bool more_extreme(const struct alarm_threshold *t, double v,
    double peak)
{
	return isnan(peak) || (t->below ? v < peak : v > peak);
}

/* One field's verdict: opens, escalates, notes the peak, or starts the
 * normal time that clears it (alarms_tick). */
static void judge(struct alarms *al, const char *node, const char *field,
    const struct alarm_threshold *t, double v, int severity, int64_t now)
{
	struct alarm *a = find(al, node, ALARM_THRESHOLD, field);

	if (severity == 0) {
		if (a && a->normal_since == 0)
			a->normal_since = now;
		return;
	}
	if (a == NULL) {
		if (t)
			raise_alarm(al, node, ALARM_THRESHOLD, field, severity,
			    v, now, "%s %g %s %s %g", field, v, t->below ?
			    "at or below" : "at or above", severity ==
			    ALARM_CRITICAL ? "critical" : "warning",
			    severity == ALARM_CRITICAL ? t->critical :
			    t->warning);
		else
			raise_alarm(al, node, ALARM_THRESHOLD, field, severity,
			    NAN, now, "status %d from the device", severity);
		return;
	}
	a->normal_since = 0;
	if (severity > a->severity) {
		a->severity = severity;
		if (t) {
			if (more_extreme(t, v, a->peak))
				a->peak = v;
			snprintf(a->detail, sizeof(a->detail), "%s %g %s "
			    "critical %g", field, v, t->below ? "at or below" :
			    "at or above", t->critical);
		} else {
			snprintf(a->detail, sizeof(a->detail), "status %d "
			    "from the device", severity);
		}
		al->changed(al->ctx, a, ALARM_UPDATE);
	} else if (t && more_extreme(t, v, a->peak)) {
		a->peak = v;
		al->changed(al->ctx, a, ALARM_PEAK);
	}
}

static const struct alarm_threshold *threshold_of(const struct alarms *al,
    const char *field)
{
	size_t i;

	for (i = 0; i < al->cfg.nthresholds; i++)
		if (strcmp(al->cfg.thresholds[i].field, field) == 0)
			return &al->cfg.thresholds[i];
	return NULL;
}

void alarms_reading(struct alarms *al, const struct telemetry_reading *r,
    int64_t now)
{
	struct alarms_node *n = node_get(al, r->node_id);
	int worst = 0, sev;
	size_t i;

	if (n == NULL)
		return;
	n->last_ms = now;
	if (n->nopen > 0) {
		clear_key(al, r->node_id, ALARM_SILENT, NULL, now);
		clear_key(al, r->node_id, ALARM_SOURCE_DOWN, NULL, now);
	}
	for (i = 0; i < r->nfields; i++) {
		const struct alarm_threshold *t = threshold_of(al,
		    r->fields[i].name);

		if (t == NULL)
			continue;
		sev = alarm_threshold_severity(t, r->fields[i].value);
		if (sev > worst)
			worst = sev;
		if (sev > 0 || n->nopen > 0)
			judge(al, r->node_id, r->fields[i].name, t,
			    r->fields[i].value, sev, now);
	}
	/* The device's verdict on what we cannot judge ourselves. */
	sev = r->status > worst && r->status <= ALARM_CRITICAL ? r->status : 0;
	if (sev > 0 || n->nopen > 0)
		judge(al, r->node_id, "status", NULL, NAN, sev, now);
}

void alarms_event(struct alarms *al, const char *node, const char *event,
    const char *detail, int64_t now)
{
	if (strcmp(event, "source-down") == 0) {
		struct alarms_node *n = node_get(al, node);

		if (n && !find(al, node, ALARM_SOURCE_DOWN, NULL))
			raise_alarm(al, node, ALARM_SOURCE_DOWN, NULL,
			    ALARM_CRITICAL, NAN, now, "%s", detail && *detail ?
			    detail : "source down");
	} else if (strcmp(event, "source-up") == 0) {
		clear_key(al, node, ALARM_SOURCE_DOWN, NULL, now);
	}
}

void alarms_gaps(struct alarms *al, const char *node, size_t ngaps,
    uint64_t missing, int64_t now)
{
	struct alarms_node *n = ngaps ? node_get(al, node) :
	    node_find(al, node);

	if (n == NULL)
		return;
	if (ngaps == 0) {
		n->gap_since = 0;
		if (n->nopen > 0)
			clear_key(al, node, ALARM_GAP, NULL, now);
		return;
	}
	if (n->gap_since == 0)
		n->gap_since = now;
	if (now - n->gap_since >= al->cfg.gap_after_ms &&
	    (n->nopen == 0 || !find(al, node, ALARM_GAP, NULL)))
		raise_alarm(al, node, ALARM_GAP, NULL, ALARM_WARNING, NAN, now,
		    "%" PRIu64 " readings missing in %zu gaps for %" PRId64
		    " s", missing, ngaps, (now - n->gap_since) / 1000);
}

void alarms_peer(struct alarms *al, const char *key_b64, int64_t latest_ms,
    int64_t now)
{
	struct alarm *a = find(al, key_b64, ALARM_HANDSHAKE, NULL);
	bool stale = latest_ms <= 0 || now - latest_ms > ALARMS_HANDSHAKE_MS;

	if (a)
		a->seen_poll = al->poll + 1;
	if (!stale) {
		clear_key(al, key_b64, ALARM_HANDSHAKE, NULL, now);
		return;
	}
	if (a)
		return;
	if (latest_ms <= 0)
		raise_alarm(al, key_b64, ALARM_HANDSHAKE, NULL,
		    ALARM_CRITICAL, NAN, now, "no handshake yet");
	else
		raise_alarm(al, key_b64, ALARM_HANDSHAKE, NULL,
		    ALARM_CRITICAL, NAN, now, "latest handshake %" PRId64 " s ago",
		    (now - latest_ms) / 1000);
	if ((a = find(al, key_b64, ALARM_HANDSHAKE, NULL)) != NULL)
		a->seen_poll = al->poll + 1;
}

void alarms_peers_done(struct alarms *al, int64_t now)
{
	size_t i = 0;

	al->poll++;
	while (i < al->nopen) {
		const struct alarm *a = al->open[i];

		if (a->kind == ALARM_HANDSHAKE && a->seen_poll != al->poll)
			clear_at(al, i, now);	/* the peer is gone */
		else
			i++;
	}
}

/* ---------------------------------------------------------------- time */

void alarms_tick(struct alarms *al, int64_t now)
{
	size_t i;

	for (i = 0; i < al->nnodes; i++) {
		const struct alarms_node *n = &al->nodes[i];

		if (n->last_ms > 0 && now - n->last_ms > al->cfg.silent_after_ms &&
		    (n->nopen == 0 || !find(al, n->name, ALARM_SILENT, NULL)))
			/* raise_alarm() adds no node: n stays valid. */
			raise_alarm(al, n->name, ALARM_SILENT, NULL,
			    ALARM_CRITICAL, NAN, now, "no reading for %" PRId64 " s",
			    (now - n->last_ms) / 1000);
	}
	i = 0;
	while (i < al->nopen) {
		const struct alarm *a = al->open[i];

		if (a->kind == ALARM_THRESHOLD && a->normal_since > 0 &&
		    now - a->normal_since >= al->cfg.clear_after_ms)
			clear_at(al, i, now);
		else
			i++;
	}
}
