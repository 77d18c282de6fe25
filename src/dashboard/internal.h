/* What the data side's files share (not the HTTP side's business): the
 * struct behind struct dash_data, and each concept's functions.  One
 * file per concept:
 *	data.c		life cycle, the two SQLite connections, replies
 *	args.c		query parameters (pure)
 *	feed.c		the MQTT subscription
 *	fleet.c		the nodes' live state (fleet.h, its own lock)
 *	history.c	/api/history, JSON and CSV
 *	alarms_view.c	/api/alarms, acks, /api/thresholds
 *	tunnel.c	/api/tunnel from the UAPI socket
 *	metrics.c	/metrics */
#ifndef WGU_DASHBOARD_INTERNAL_H
#define WGU_DASHBOARD_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dashboard/data.h"
#include "dashboard/fleet.h"

struct sqlite3;
struct cJSON;
struct dash_feed;

/* Counters of what the feed refused or could not use: written by the
 * main thread, read by /metrics, both through relaxed atomics. */
struct dash_counters {
	uint64_t bad_readings;	/* telemetry that failed the parser */
	uint64_t bad_alarms;	/* P/alarms messages that are no alarm */
	uint64_t node_events;	/* P/NODE/event messages */
	uint64_t other;		/* topics we did not ask for */
};

#define DASH_COUNT(d, name) \
	__atomic_fetch_add(&(d)->counters.name, 1, __ATOMIC_RELAXED)
#define DASH_COUNTER(d, name) \
	__atomic_load_n(&(d)->counters.name, __ATOMIC_RELAXED)

struct dash_data {
	struct dash_data_config cfg;	/* strings below are our copies */
	char *db_path, *acks_path, *interface, *broker_host, *username,
	     *password_file, *topic_prefix, *client_id;
	/* Each connection, and every statement on it, under its own lock;
	 * both taken: store_lock first.  The main thread (the feed's alarm
	 * messages) takes acks_lock only, for short lookups: a long history
	 * question of an HTTP thread never holds up the live feed. */
	pthread_mutex_t store_lock, acks_lock;
	struct sqlite3 *store;		/* read-only; NULL until opened */
	uint64_t store_dev, store_ino;	/* the file it opened */
	struct sqlite3 *acks;
	struct fleet *fleet;
	struct dash_feed *feed;		/* NULL unless started */
	struct dash_counters counters;
};

/* data.c.  The store connection, opening it when needed, and again when
 * the path names another file now (the historian's --rebuild makes a new
 * database); call with store_lock held.  NULL when the store cannot be
 * opened (err says why). */
struct sqlite3 *dash_store(struct dash_data *d, char err[static DASH_ERR_MAX]);
/* After an SQLite error on the store: closed, reopened next time. */
void dash_store_reset(struct dash_data *d);
/* Does the store have this table?  store_lock held. */
bool dash_store_has_table(struct sqlite3 *db, const char *name);
/* Fills r with the printed tree (status 200, JSON) and deletes it; a
 * NULL tree or a failed print is a 500. */
int dash_reply_json(struct dash_reply *r, struct cJSON *tree);
/* Takes a malloc'd body of len bytes. */
int dash_reply_take(struct dash_reply *r, int status, const char *type,
    char *body, size_t len);

/* history.c: the seeding of the fleet at start (store_lock held). */
int dash_history_seed(struct sqlite3 *db, struct fleet *fleet);

/* alarms_view.c */
/* An alarm from the store or an MQTT message as the JSON object of
 * /api/alarms, with its ack (takes acks_lock).  NULL when row is no alarm. */
struct cJSON *dash_alarm_with_ack(struct dash_data *d,
    const struct cJSON *alarm);
/* The number of active gap alarms per node, into the snapshot's
 * gaps_open (store_lock held).  A store without alarms: all 0. */
void dash_alarms_gaps(struct sqlite3 *db, struct fleet_entry *e, size_t n);
/* Creates the acks table.  0 or -EIO with err. */
int dash_acks_init(struct sqlite3 *acks, char err[static DASH_ERR_MAX]);

/* feed.c */
int dash_feed_start(struct dash_data *d, struct ev_loop *loop,
    char err[static DASH_ERR_MAX]);
void dash_feed_stop(struct dash_data *d);
/* One MQTT message as the feed takes it (tests call it directly):
 * received_ms the hub's clock at arrival. */
void dash_feed_message(struct dash_data *d, const char *topic,
    const void *payload, size_t len, int64_t received_ms);

/* tunnel.c: the hub's peers and drop counters. */
enum { DASH_KEY_B64_LEN = 44 };
struct dash_peer {
	char public_key[DASH_KEY_B64_LEN + 1];	/* base64, as wg shows */
	char endpoint[64];			/* "" when none */
	int64_t latest_handshake;		/* s since epoch, 0 never */
	uint64_t rx_bytes, tx_bytes;
};
struct dash_drop {
	char reason[48];
	uint64_t count;
};
struct dash_tunnel {
	struct dash_peer *peers;
	size_t npeers;
	struct dash_drop drops[32];
	size_t ndrops;
};
/* Asks the interface's daemon (get=1, stats=1).  0 or a negative errno
 * with err; t freed with dash_tunnel_clear() either way. */
int dash_tunnel_read(const char *ifname, struct dash_tunnel *t,
    char err[static DASH_ERR_MAX]);
/* The parsers of the two answers (pure): 0 or -EPROTO. */
int dash_tunnel_parse_get(const char *reply, struct dash_tunnel *t);
int dash_tunnel_parse_stats(const char *reply, struct dash_tunnel *t);
void dash_tunnel_clear(struct dash_tunnel *t);

/* metrics.c: a label value escaped for the text format (\\, \", \n)
 * into out (cap bytes, cut short if needed). */
void dash_metrics_escape(const char *s, char *out, size_t cap);
/* The tunnel's families from t (up: t was read; else only
 * wgu_dashboard_tunnel_up 0). */
struct wg_buf;
void dash_metrics_tunnel(struct wg_buf *b, const char *ifname,
    const struct dash_tunnel *t, bool up, int64_t now_ms);

#endif
