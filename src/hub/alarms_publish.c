/* The alarms on MQTT (see alarms_publish.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hub/alarms_publish.h"

int alarms_publisher_init(struct alarms_publisher *p, const char *prefix,
    alarms_publish_fn *publish, void *ctx)
{
	int n;

	*p = (struct alarms_publisher){ .publish = publish, .ctx = ctx };
	n = snprintf(p->topic, sizeof(p->topic), "%s/alarms", prefix);
	return n < 0 || (size_t)n >= sizeof(p->topic) ? -ENAMETOOLONG : 0;
}

void alarms_publisher_clear(struct alarms_publisher *p)
{
	while (p->n > 0) {
		free(p->queue[p->head]);
		p->head = (p->head + 1) % ALARMS_PUBLISH_QUEUE;
		p->n--;
	}
}

static cJSON *text_or_null(const char *s)
{
	return *s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

char *alarms_json(const struct alarm *a, enum alarm_event ev)
{
	cJSON *o = cJSON_CreateObject();
	char *out = NULL;

	if (o == NULL)
		return NULL;
	/* Integers up to 2^53 are exact in a JSON number (ms since the
	 * epoch, ids). */
	if (cJSON_AddStringToObject(o, "event", alarm_event_name(ev)) &&
	    cJSON_AddNumberToObject(o, "id", (double)a->id) &&
	    cJSON_AddStringToObject(o, "node", a->node) &&
	    cJSON_AddStringToObject(o, "kind", alarm_kind_name(a->kind)) &&
	    cJSON_AddItemToObject(o, "field", text_or_null(a->field)) &&
	    cJSON_AddNumberToObject(o, "severity", a->severity) &&
	    cJSON_AddNumberToObject(o, "start", (double)a->start) &&
	    cJSON_AddItemToObject(o, "end", a->end > 0 ?
	    cJSON_CreateNumber((double)a->end) : cJSON_CreateNull()) &&
	    cJSON_AddItemToObject(o, "peak", isnan(a->peak) ?
	    cJSON_CreateNull() : cJSON_CreateNumber(a->peak)) &&
	    cJSON_AddStringToObject(o, "detail", a->detail) &&
	    cJSON_AddNullToObject(o, "acked_by") &&
	    cJSON_AddNullToObject(o, "acked_at"))
		out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return out;
}

/* Sends s; true when it went (or can never go: dropped, counted). */
static bool send_one(struct alarms_publisher *p, const char *s)
{
	int ret = p->publish(p->ctx, p->topic, s, strlen(s));

	if (ret == -ENOTCONN)
		return false;
	if (ret < 0)
		p->dropped++;
	else
		p->published++;
	return true;
}

static void enqueue(struct alarms_publisher *p, char *s)
{
	if (p->n == ALARMS_PUBLISH_QUEUE) {
		free(p->queue[p->head]);
		p->head = (p->head + 1) % ALARMS_PUBLISH_QUEUE;
		p->n--;
		p->dropped++;
	}
	p->queue[(p->head + p->n) % ALARMS_PUBLISH_QUEUE] = s;
	p->n++;
}

void alarms_publish(struct alarms_publisher *p, const struct alarm *a,
    enum alarm_event ev)
{
	char *s;

	if (ev == ALARM_PEAK)
		return;
	if ((s = alarms_json(a, ev)) == NULL) {
		p->dropped++;
		return;
	}
	/* In order: nothing overtakes what waits. */
	if (p->n == 0 && send_one(p, s)) {
		free(s);
		return;
	}
	enqueue(p, s);
}

void alarms_publish_flush(struct alarms_publisher *p)
{
	while (p->n > 0 && send_one(p, p->queue[p->head])) {
		free(p->queue[p->head]);
		p->head = (p->head + 1) % ALARMS_PUBLISH_QUEUE;
		p->n--;
	}
}
