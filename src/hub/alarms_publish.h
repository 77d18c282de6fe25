/* The alarms on MQTT: every raise, update (escalation) and clear as one
 * JSON object on PREFIX/alarms, QoS 1, not retained, through the
 * historian's session:
 *
 *	{"event":"raise","id":7,"node":"edge-01","kind":"threshold",
 *	 "field":"p","severity":2,"start":1765000000000,"end":null,
 *	 "peak":10.2,"detail":"p 10.2 at or above critical 9.5",
 *	 "acked_by":null,"acked_at":null}
 *
 * (the dashboard's alarm object; acknowledgements are the dashboard's,
 * always null here).  While there is no session the messages wait, at
 * most ALARMS_PUBLISH_QUEUE of them (the oldest dropped, counted), and go
 * out at the next connection. */
#ifndef WGU_HUB_ALARMS_PUBLISH_H
#define WGU_HUB_ALARMS_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "hub/alarms.h"

enum {
	ALARMS_PUBLISH_QUEUE = 1024,
	ALARMS_TOPIC_MAX = 512,
};

/* 0, -ENOTCONN (keep it for later) or another negative errno. */
typedef int alarms_publish_fn(void *ctx, const char *topic,
    const char *payload, size_t len);

struct alarms_publisher {
	char topic[ALARMS_TOPIC_MAX];
	alarms_publish_fn *publish;
	void *ctx;
	char *queue[ALARMS_PUBLISH_QUEUE];	/* a ring of heap strings */
	size_t head, n;
	uint64_t published, dropped;
};

/* 0, or -ENAMETOOLONG for a prefix too long. */
int alarms_publisher_init(struct alarms_publisher *p, const char *prefix,
    alarms_publish_fn *publish, void *ctx);
void alarms_publisher_clear(struct alarms_publisher *p);

/* The JSON object of a, with "event"; heap (caller frees), NULL when out
 * of memory. */
char *alarms_json(const struct alarm *a, enum alarm_event ev);

/* Publishes a raise, update or clear (PEAK: nothing). */
void alarms_publish(struct alarms_publisher *p, const struct alarm *a,
    enum alarm_event ev);

/* After a (re)connect: what waited goes out, oldest first. */
void alarms_publish_flush(struct alarms_publisher *p);

#endif
