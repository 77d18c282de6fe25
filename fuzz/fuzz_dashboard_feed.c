/* Fuzzes the dashboard's live feed (src/dashboard/feed.c, and through it
 * the telemetry codec, the fleet and the alarm messages' reader): the
 * input's first line is an MQTT topic, the rest the payload, handed to
 * dash_feed_message() as the MQTT callback would.  One dash_data for the
 * whole run (its acks database in a temporary file, no store), the
 * live-event hook checking that what it gets is one JSON object.
 *
 * Checked: the hook's JSON parses and is an object; the event is
 * "reading" or "alarm"; a reading's node is in the fleet afterwards.
 * abort() marks a broken invariant, never a bad input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "dashboard/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dash_data *d;
static char acks[64];

static void on_event(void *arg, const char *event, const char *json)
{
	cJSON *o = cJSON_Parse(json);
	const cJSON *node;
	struct fleet_entry e;

	(void)arg;
	if (!cJSON_IsObject(o))
		abort();
	node = cJSON_GetObjectItemCaseSensitive(o, "node");
	if (!cJSON_IsString(node))
		abort();
	if (strcmp(event, "reading") == 0) {
		if (fleet_lookup(d->fleet, node->valuestring, 0, &e) != 0)
			abort();
	} else if (strcmp(event, "alarm") != 0) {
		abort();
	}
	cJSON_Delete(o);
}

static void remove_acks(void)
{
	dash_data_free(d);
	unlink(acks);
}

static void setup(void)
{
	struct dash_data_config cfg = {
		.db_path = "/nonexistent/store.db", .acks_path = acks,
		.topic_prefix = "pl/a", .on_event = on_event,
	};
	char err[DASH_ERR_MAX];

	snprintf(acks, sizeof(acks), "/tmp/fuzz_dashboard_feed.%ld.db",
	    (long)getpid());
	if ((d = dash_data_new(&cfg, err)) == NULL) {
		fprintf(stderr, "fuzz_dashboard_feed: %s\n", err);
		abort();
	}
	atexit(remove_acks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char topic[256];
	const uint8_t *nl = memchr(data, '\n', size);
	size_t tlen = nl ? (size_t)(nl - data) : size;

	if (d == NULL)
		setup();
	if (tlen >= sizeof(topic) || memchr(data, '\0', tlen))
		return 0;
	memcpy(topic, data, tlen);
	topic[tlen] = '\0';
	dash_feed_message(d, topic, nl ? nl + 1 : data + size,
	    nl ? size - tlen - 1 : 0, INT64_C(1765000000000));
	return 0;
}
