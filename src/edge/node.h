/* One edge node, shared by wgu-sim (readings from its sensor model) and
 * wgu-modbus (readings from a device's polls): its spool (spool.h) in
 * SPOOL_DIR/NODE_ID, and an MQTT session of its own (client id and
 * username = node id unless given) driven by mqtt_loop.h.
 *
 * A reading is handed over (node_publish), appended to the spool, and
 * published in spool order only while connected, at most NODE_INFLIGHT_MAX
 * unacknowledged at a time: nothing waits in libmosquitto's memory queue
 * while the broker is away.  The PUBACK acknowledges the reading in the
 * spool; message ids wrap at 65535, so the node maps mid -> (boot_id, seq)
 * only while in flight.  After a lost connection the readings in flight
 * are published again (duplicates are the historian's to drop).  A resend
 * request on the node's command topic republishes what the spool still
 * holds.
 *
 * Events (node_event(), with cfg->events set) take the same path through
 * a spool of their own, SPOOL_DIR/NODE_ID/events, numbered event_seq
 * 1, 2, ... within the node's boot: spooled first, published in order on
 * PREFIX/NODE/event with QoS 1 sharing the readings' window (events go
 * first), acknowledged by the PUBACK, published again after a lost
 * connection.  The historian drops an event whose (node_id, boot_id,
 * event_seq) it logged already, so each reaches its log exactly once.
 *
 * Usage: node_init() (after mosquitto_lib_init()), node_start(), the loop
 * runs, node_stop(), node_clear().  node_clear() is safe on a node whose
 * node_init() failed or never ran (zeroed). */
#ifndef WGU_EDGE_NODE_H
#define WGU_EDGE_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <mosquitto.h>

#include "mqtt/mqtt_loop.h"
#include "mqtt/telemetry.h"
#include "sim/model.h"
#include "edge/spool.h"
#include "edge/syncer.h"

enum {
	NODE_INFLIGHT_MAX = 32,
	NODE_TOPIC_MAX = 256,
	/* Entries of the events spool (acknowledged ones are history). */
	NODE_EVENTS_MAX = 10000,
	NODE_EVENT_MAX = 768,	/* bytes of an event's JSON */
};

/* What every node shares; the strings must outlive the nodes. */
struct node_config {
	const char *prog;	/* "wgu-sim": the log lines' prefix */
	const struct sandbox_policy *policy;	/* owner of new directories */
	const char *broker, *prefix, *spool_dir;
	const char *username;	/* NULL: the node id */
	int port;
	size_t spool_max;
	bool events;		/* node_event() used: the events spool */
	/* The spools' fdatasync once a second: NULL syncs in the loop, else
	 * it is handed to this (edge/syncer.h). */
	struct syncer *syncer;
};

struct node_inflight {
	int mid;
	bool event;		/* of the events spool */
	uint64_t boot_id, seq;
};

struct node {
	const struct node_config *cfg;
	char id[TELEMETRY_NODE_ID_MAX + 1];
	char topic[NODE_TOPIC_MAX], cmd_topic[NODE_TOPIC_MAX];
	char event_topic[NODE_TOPIC_MAX];
	struct mosquitto *mosq;
	struct mqtt_loop ml;
	struct spool sp;
	bool spool_open;
	struct spool esp;	/* events, with cfg->events */
	bool events_open;
	uint64_t event_seq;	/* last event_seq of this boot */
	uint64_t seq;		/* last seq generated in this boot */
	struct node_inflight inflight[NODE_INFLIGHT_MAX];
	int ninflight;
	bool dirty;		/* spool written since the last fsync */
	bool events_dirty;	/* the events spool, likewise */
	unsigned int down_s;	/* seconds without a broker session */
	/* For the summary. */
	uint64_t generated, acked, lost, published, resends;
	uint64_t events, events_acked, events_lost;
};

/* "PROG: ID: ..." on stderr. */
__attribute__((format(printf, 2, 3)))
void node_log(const struct node *n, const char *fmt, ...);

/* Sets up the node: topics, its spool directory and spool (the boot id),
 * its MQTT client with the credentials (password may be NULL; the caller
 * wipes its copy).  0 or a negative errno, said on stderr. */
int node_init(struct node *n, struct ev_loop *loop,
    const struct node_config *cfg, const char *id, const char *password);

/* Starts connecting (the adapter reconnects for ever).  0 or -EINVAL. */
int node_start(struct node *n);

/* One reading of the source: the node fills in node_id, boot_id, seq and
 * (when 0) timestamp_ms; the rest is the caller's.  With nfields == 0 it is
 * the simulator's p/t/v reading (telemetry_build()), else fields[] and
 * status (telemetry_build_fields()).  Spooled, then published when the
 * window allows; an unencodable reading is counted lost. */
void node_publish(struct node *n, const struct telemetry_reading *r);

/* An event about the node's source (wgu-modbus: the device stopped or
 * resumed answering): the JSON object
 *	{"event":EVENT,"node_id":ID,"boot_id":B,"event_seq":N,MEMBERS}
 * where members is the caller's ("\"timestamp\":...,..."; may be empty),
 * spooled and then published (see above; needs cfg->events).  0, or a
 * negative errno (counted lost, said on stderr). */
int node_event(struct node *n, const char *event, const char *members);

/* Once a second: says when the broker has been away a while, and fsyncs
 * the spools if they were written (through cfg->syncer when set). */
void node_tick_second(struct node *n);

/* Readings and events not yet acknowledged. */
size_t node_pending(const struct node *n);

/* The end of the run: readings still held in memory for want of disk
 * space (spool.h) are written if there is room now, else counted lost. */
void node_finish(struct node *n);

/* The node's summary line on stdout. */
void node_summary(const struct node *n);

/* DISCONNECT (best effort), watchers off. */
void node_stop(struct node *n);

/* Frees the client and closes the spool. */
void node_clear(struct node *n);

#endif
