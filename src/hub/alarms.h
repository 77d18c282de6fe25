/* The historian's alarms: which conditions are open, pure.  No I/O, no
 * clock: every call carries the time (ms since the epoch), and every
 * change goes out through one callback, which the adapter (watch.h)
 * turns into a row of the store, a message on PREFIX/alarms and a hook.
 *
 * Kinds, one open alarm per (node, kind, field) at a time:
 * - threshold: a reading's field at or past its warning or critical
 *   threshold (alarms_config.thresholds); a reading whose status says
 *   warning or critical where none of its thresholded fields does, field
 *   "status" (a device judging fields we have no threshold for).  The
 *   severity only grows within an episode (an update each time), the
 *   peak is the most extreme value; it clears once the field has been
 *   normal for clear_after_ms without a break, so a value wobbling at a
 *   threshold stays one alarm.
 * - silent: no reading of a node for longer than silent_after_ms;
 *   cleared by its next reading.
 * - gap: a node's seqs missing (dedup.h) for longer than gap_after_ms;
 *   cleared when none is missing.
 * - handshake: a WireGuard peer (node = its public key, base64) whose
 *   latest handshake is older than ALARMS_HANDSHAKE_MS, or none yet;
 *   cleared when fresh again or when the peer is gone.
 * - source-down: a node's "source-down" event (wgu-modbus: its device
 *   stopped answering); cleared by "source-up" or its next reading.
 *
 * Usage: alarms_init(); alarms_resume() for each alarm the store still
 * has open (before anything else: no duplicate is raised for it);
 * alarms_seen() for each node the store knows; then the inputs as they
 * come, and alarms_tick() about every second.  Not thread-safe. */
#ifndef WGU_HUB_ALARMS_H
#define WGU_HUB_ALARMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt/telemetry.h"

enum {
	ALARMS_NODE_MAX = 64,		/* a node id, or a base64 key (44) */
	ALARMS_FIELD_MAX = TELEMETRY_FIELD_NAME_MAX,
	ALARMS_DETAIL_MAX = 160,
	ALARMS_THRESHOLDS_MAX = 64,
	ALARMS_MAX_OPEN = 65536,	/* beyond: not raised, counted */
	ALARMS_MAX_NODES = 65536,
};

#define ALARMS_HANDSHAKE_MS INT64_C(180000)	/* 3 minutes */

enum alarm_kind {
	ALARM_THRESHOLD,
	ALARM_SILENT,
	ALARM_GAP,
	ALARM_HANDSHAKE,
	ALARM_SOURCE_DOWN,
	ALARM_KINDS
};

enum alarm_severity {
	ALARM_WARNING = 1,
	ALARM_CRITICAL = 2,
};

/* What happened to an alarm.  RAISE, UPDATE (escalation) and CLEAR are
 * published; PEAK (a more extreme value, nothing else) is only kept. */
enum alarm_event {
	ALARM_RAISE,
	ALARM_UPDATE,
	ALARM_PEAK,
	ALARM_CLEAR,
};

struct alarm {
	int64_t id;		/* the adapter's (the store's row), 0: none */
	char node[ALARMS_NODE_MAX + 1];
	enum alarm_kind kind;
	char field[ALARMS_FIELD_MAX + 1];	/* "" for none */
	int severity;		/* enum alarm_severity */
	int64_t start, end;	/* ms; end 0 while open */
	double peak;		/* NAN for none */
	char detail[ALARMS_DETAIL_MAX + 1];
	/* Ours: since when a threshold's field has been normal (0: it is
	 * not), and which poll last saw a handshake's peer. */
	int64_t normal_since;
	uint64_t seen_poll;
};

struct alarm_threshold {
	char field[ALARMS_FIELD_MAX + 1];
	double warning, critical;
	bool below;		/* alarm at or below, not at or above */
};

struct alarms_config {
	struct alarm_threshold thresholds[ALARMS_THRESHOLDS_MAX];
	size_t nthresholds;
	int64_t clear_after_ms, silent_after_ms, gap_after_ms;
};

/* Called for every change; a may be written (its id, on RAISE) and is
 * valid during the call only.  After CLEAR it is gone. */
typedef void alarms_changed_fn(void *ctx, struct alarm *a,
    enum alarm_event ev);

struct alarms_node;

struct alarms {
	struct alarms_config cfg;
	alarms_changed_fn *changed;
	void *ctx;
	struct alarm **open;	/* unordered */
	size_t nopen, capopen;
	struct alarms_node *nodes;	/* sorted by name */
	size_t nnodes, capnodes;
	uint64_t poll;		/* handshake polls so far */
	uint64_t dropped;	/* not raised: no room */
};

/* The defaults: wgu-sim's thresholds (telemetry.h), 30 s, 30 s, 60 s. */
void alarms_config_default(struct alarms_config *cfg);

const char *alarm_kind_name(enum alarm_kind k);
/* -1 for an unknown name. */
int alarm_kind_parse(const char *name);
const char *alarm_event_name(enum alarm_event ev);

/* The severity of value v by t: 0, ALARM_WARNING or ALARM_CRITICAL. */
int alarm_threshold_severity(const struct alarm_threshold *t, double v);

void alarms_init(struct alarms *al, const struct alarms_config *cfg,
    alarms_changed_fn *changed, void *ctx);
void alarms_clear(struct alarms *al);

/* An alarm the store has open (a->end 0): held again, no event.
 * 0, -EEXIST (one of its key is already open: the caller closes it),
 * -ENOMEM or -ENOSPC. */
int alarms_resume(struct alarms *al, const struct alarm *a);

/* The node's last reading was at last_ms (the store's, at start):
 * silence is measured from there. */
void alarms_seen(struct alarms *al, const char *node, int64_t last_ms);

/* A reading logged for r->node_id, received at now. */
void alarms_reading(struct alarms *al, const struct telemetry_reading *r,
    int64_t now);

/* A node's event (its name, [a-z-]); detail may be NULL. */
void alarms_event(struct alarms *al, const char *node, const char *event,
    const char *detail, int64_t now);

/* The node's gaps now: missing seqs in ngaps gaps (0: none). */
void alarms_gaps(struct alarms *al, const char *node, size_t ngaps,
    uint64_t missing, int64_t now);

/* One poll of the WireGuard peers: alarms_peer() for each peer seen
 * (latest_ms 0: no handshake yet), then alarms_peers_done(), which
 * clears the alarms of peers no longer there. */
void alarms_peer(struct alarms *al, const char *key_b64, int64_t latest_ms,
    int64_t now);
void alarms_peers_done(struct alarms *al, int64_t now);

/* Time passes: silence and gaps checked, thresholds cleared. */
void alarms_tick(struct alarms *al, int64_t now);

/* The open alarm of (node, kind, field) (field NULL for ""), or NULL. */
const struct alarm *alarms_find(const struct alarms *al, const char *node,
    enum alarm_kind kind, const char *field);
size_t alarms_open_count(const struct alarms *al);

#endif
