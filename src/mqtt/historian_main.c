/* wgu-historian: the hub's recorder.  Subscribes to every node's telemetry
 * with QoS 1 in a persistent session, validates each payload, appends each
 * reading exactly once to the production log (rejects to the reject log,
 * with the reason), asks a node to resend what is missing, and shows a
 * live view.
 *
 * Exactly-once is ours, not MQTT's: libmosquitto acknowledges a QoS 1
 * message before our callback runs, and nodes replay their spool, so the
 * same reading can come twice and one can be lost between PUBACK and the
 * disk.  (node_id, boot_id, seq) with seq gapless per boot (telemetry.h)
 * lets the log itself say what it holds, what it lacks, and what to ask
 * for again. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <ev.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "common/sandbox.h"
#include "mqtt/dedup.h"
#include "mqtt/histlog.h"
#include "mqtt/mqtt_loop.h"
#include "mqtt/telemetry.h"

enum {
	EXIT_USAGE = 2,
	KEEPALIVE = 30,
	GAP_REPORT_SECONDS = 10,	/* gap report and resend again */
	GAPS_PER_REPORT = 8,		/* per stream, lowest first */
	SEED_LOGS_MAX = 16,
};
/* MQTT 5 (--share): a session that never expires, like a 3.1.1 session
 * with clean session off; the broker's max_queued_messages bounds it. */
#define SESSION_NEVER_EXPIRES UINT32_MAX

struct options {
	const char *broker, *username, *password_file, *client_id;
	const char *prefix, *log, *reject_log, *share;
	int port;
	enum histlog_fsync fsync;
	double fsync_interval;		/* seconds, for INTERVAL */
	double duration;		/* 0: run until a signal */
	bool color;
	const char *seed_logs[SEED_LOGS_MAX];
	int nseed_logs;
};

struct counters {
	uint64_t received, logged, duplicates, rejected, write_errors;
	uint64_t resend_requests;
};

struct historian {
	struct options opt;
	struct ev_loop *loop;
	struct mosquitto *mosq;
	struct mqtt_loop ml;
	mosquitto_property *connect_props;	/* MQTT 5 (--share) only */
	struct histlog log, rejects;
	struct dedup_table *dedup;
	struct counters n;
	char sub_topic[512];
	ev_timer commit, gap_report, duration;
	ev_signal sigterm, sigint, sighup;
	uint64_t recovered_bad;		/* log lines without a key */
	char *reject_default;		/* heap copy of the default path */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 1, 2)))
static void warn(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("wgu-historian: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ------------------------------------------------------------ options */

static void usage(FILE *f)
{
	fprintf(f,
"usage: wgu-historian [options]\n"
"  --broker HOST          broker address (10.0.0.1)\n"
"  --port N               broker port (1883)\n"
"  --username U           MQTT user (historian)\n"
"  --password-file FILE   first line is the password (none: no password)\n"
"  --client-id ID         fixed id of the persistent session (wgu-historian)\n"
"  --topic-prefix P       topics are P/NODE/telemetry and P/NODE/cmd\n"
"                         (" TELEMETRY_DEFAULT_PREFIX ")\n"
"  --log PATH             production log (industrial_production.log)\n"
"  --reject-log PATH      rejected payloads (LOG with .rejects.log)\n"
"  --fsync MS|always|never  group commit every MS ms (100), every line, or\n"
"                         leave it to the kernel\n"
"  --seed-log PATH        an older (rotated) log, only read: its readings\n"
"                         count as logged (repeatable, up to 16)\n"
"  --share GROUP          subscribe as one member of the MQTT 5 shared\n"
"                         subscription $share/GROUP/...: each member (its\n"
"                         own --client-id) logs its share in a session kept\n"
"                         by the broker while it is down; duplicates are\n"
"                         still dropped, gaps are neither reported nor\n"
"                         asked for\n"
"  --duration SECONDS     stop after this long (for tests)\n"
"  --color auto|always|never  highlight warning and critical (auto: tty)\n"
"SIGHUP reopens both logs (logrotate); SIGTERM/SIGINT flush, print a\n"
"summary and exit.\n");
}

__attribute__((format(printf, 1, 2), noreturn))
static void bad_option(const char *fmt, ...)
{
	va_list ap;

	fputs("wgu-historian: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(wgu-historian --help shows the options)\n", stderr);
	exit(EXIT_USAGE);
}

/* A whole decimal number in [min, max], else exit 2. */
static long parse_long(const char *name, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno || v < min || v > max)
		bad_option("%s: '%s' is not a whole number from %ld to %ld",
		    name, s, min, max);
	return v;
}

static void parse_fsync(struct options *o, const char *s)
{
	if (strcmp(s, "always") == 0) {
		o->fsync = HISTLOG_FSYNC_ALWAYS;
	} else if (strcmp(s, "never") == 0) {
		o->fsync = HISTLOG_FSYNC_NEVER;
	} else {
		char *end;
		long ms;

		errno = 0;
		ms = strtol(s, &end, 10);
		if (*s == '\0' || *end != '\0' || errno || ms < 1 ||
		    ms > 3600000)
			bad_option("--fsync: '%s' is not always, never or a "
			    "number of milliseconds from 1 to 3600000", s);
		o->fsync = HISTLOG_FSYNC_INTERVAL;
		o->fsync_interval = (double)ms / 1000.0;
	}
}

/* A topic level: non-empty, no '/', '+', '#' (MQTT would read them). */
static bool topic_level_ok(const char *s)
{
	return *s != '\0' && strpbrk(s, "/+#") == NULL &&
	    strlen(s) <= 128;
}

static bool prefix_ok(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len <= 256 && strpbrk(s, "+#") == NULL &&
	    s[0] != '/' && s[len - 1] != '/' && strstr(s, "//") == NULL &&
	    s[0] != '$';
}

static void parse_options(struct options *o, int argc, char **argv)
{
	enum { OPT_BROKER = 256, OPT_PORT, OPT_USER, OPT_PWFILE, OPT_ID,
		OPT_PREFIX, OPT_LOG, OPT_REJECT, OPT_FSYNC, OPT_SHARE,
		OPT_DURATION, OPT_COLOR, OPT_SEED };
	static const struct option longopts[] = {
		{ "broker", required_argument, NULL, OPT_BROKER },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "username", required_argument, NULL, OPT_USER },
		{ "password-file", required_argument, NULL, OPT_PWFILE },
		{ "client-id", required_argument, NULL, OPT_ID },
		{ "topic-prefix", required_argument, NULL, OPT_PREFIX },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "reject-log", required_argument, NULL, OPT_REJECT },
		{ "fsync", required_argument, NULL, OPT_FSYNC },
		{ "share", required_argument, NULL, OPT_SHARE },
		{ "seed-log", required_argument, NULL, OPT_SEED },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "color", required_argument, NULL, OPT_COLOR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *color = "auto";
	int c;

	*o = (struct options){
		.broker = "10.0.0.1", .port = 1883, .username = "historian",
		.client_id = "wgu-historian",
		.prefix = TELEMETRY_DEFAULT_PREFIX,
		.log = "industrial_production.log",
		.fsync = HISTLOG_FSYNC_INTERVAL, .fsync_interval = 0.1,
	};
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_BROKER: o->broker = optarg; break;
		case OPT_PORT:
			o->port = (int)parse_long("--port", optarg, 1, 65535);
			break;
		case OPT_USER: o->username = optarg; break;
		case OPT_PWFILE: o->password_file = optarg; break;
		case OPT_ID: o->client_id = optarg; break;
		case OPT_PREFIX: o->prefix = optarg; break;
		case OPT_LOG: o->log = optarg; break;
		case OPT_REJECT: o->reject_log = optarg; break;
		case OPT_FSYNC: parse_fsync(o, optarg); break;
		case OPT_SHARE: o->share = optarg; break;
		case OPT_SEED:
			if (o->nseed_logs == SEED_LOGS_MAX || *optarg == '\0')
				bad_option("--seed-log: empty path or more than "
				    "%d of them", SEED_LOGS_MAX);
			o->seed_logs[o->nseed_logs++] = optarg;
			break;
		case OPT_DURATION:
			o->duration = (double)parse_long("--duration", optarg,
			    1, 100L * 365 * 86400);
			break;
		case OPT_COLOR: color = optarg; break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			bad_option("%s needs a value", argv[optind - 1]);
		default:
			if (optopt)
				bad_option("unknown option -%c", optopt);
			bad_option("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		bad_option("unexpected argument '%s'", argv[optind]);
	if (strcmp(color, "always") == 0)
		o->color = true;
	else if (strcmp(color, "never") == 0)
		o->color = false;
	else if (strcmp(color, "auto") == 0)
		o->color = isatty(STDOUT_FILENO);
	else
		bad_option("--color: '%s' is not auto, always or never", color);
	if (*o->broker == '\0')
		bad_option("--broker: empty");
	if (*o->client_id == '\0' || strlen(o->client_id) > 23 * 10)
		bad_option("--client-id: must not be empty (the session is "
		    "found by it) nor longer than 230 bytes");
	if (!prefix_ok(o->prefix))
		bad_option("--topic-prefix: '%s' must be topic levels without "
		    "'+', '#', leading '$' or empty levels", o->prefix);
	if (o->share && !topic_level_ok(o->share))
		bad_option("--share: '%s' must be one topic level (no '/', "
		    "'+', '#')", o->share);
	if (*o->log == '\0')
		bad_option("--log: empty path");
	if (o->reject_log && *o->reject_log == '\0')
		bad_option("--reject-log: empty path");
}

/* The first line of the file, without its newline; heap, caller wipes
 * and frees.  Exits 2 when unusable: a wrong password file is a
 * configuration error, found before connecting. */
static char *read_password(const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		bad_option("--password-file %s: %s", path, strerror(errno));
	n = getline(&line, &cap, f);
	fclose(f);
	if (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	if (n <= 0) {
		free(line);
		bad_option("--password-file %s: no password on its first line",
		    path);
	}
	return line;
}

static char *default_reject_path(const char *log)
{
	size_t len = strlen(log);
	char *p;

	if (len > 4 && strcmp(log + len - 4, ".log") == 0) {
		if (asprintf(&p, "%.*s.rejects.log", (int)(len - 4), log) < 0)
			return NULL;
	} else if (asprintf(&p, "%s.rejects", log) < 0) {
		return NULL;
	}
	return p;
}

/* ------------------------------------------------------------ output */

static const char *status_name(int s)
{
	return s == TELEMETRY_CRITICAL ? "CRITICAL" :
	    s == TELEMETRY_WARNING ? "WARNING" : "normal";
}

static void show_reading(const struct historian *h,
    const struct telemetry_reading *r, const char *note)
{
	char when[32];
	time_t secs = (time_t)(r->timestamp_ms / 1000);
	struct tm tm;
	const char *on = "", *off = "";

	if (h->opt.color && r->status == TELEMETRY_CRITICAL)
		on = "\033[1;31m", off = "\033[0m";
	else if (h->opt.color && r->status == TELEMETRY_WARNING)
		on = "\033[33m", off = "\033[0m";
	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	printf("%s%s.%03dZ %-12s boot %-3" PRIu64 " seq %-7" PRIu64
	    " p %6.2f bar  t %6.1f C  v %5.2f mm/s  %-8s%s%s\n", on, when,
	    (int)(r->timestamp_ms % 1000), r->node_id, r->boot_id, r->seq,
	    r->p, r->t, r->v, status_name(r->status), note, off);
}

/* A non-reading event in the live view (gaps, rejects, duplicates). */
__attribute__((format(printf, 3, 4)))
static void show_event(const struct historian *h, const char *color,
    const char *fmt, ...)
{
	va_list ap;

	if (h->opt.color)
		fputs(color, stdout);
	fputs("-- ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputs(h->opt.color ? "\033[0m\n" : "\n", stdout);
}

static void print_summary(const struct historian *h)
{
	size_t i, g;

	printf("\nwgu-historian summary: %" PRIu64 " received, %" PRIu64
	    " logged, %" PRIu64 " duplicates dropped, %" PRIu64 " rejected, %"
	    PRIu64 " write errors, %" PRIu64 " resend requests\n",
	    h->n.received, h->n.logged, h->n.duplicates, h->n.rejected,
	    h->n.write_errors, h->n.resend_requests);
	if (h->opt.share)
		printf("(member of shared subscription group %s: the gaps below "
		    "are mostly the other members' readings)\n", h->opt.share);
	printf("%-16s %6s %10s %10s %10s %8s %10s\n", "node", "boot",
	    "logged", "from log", "duplicates", "gaps", "missing");
	for (i = 0; i < dedup_count(h->dedup); i++) {
		const struct dedup_stream *s = dedup_at(h->dedup, i);

		printf("%-16s %6" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10"
		    PRIu64 " %8" PRIu64 " %10" PRIu64 "\n", s->node_id,
		    s->boot_id, s->logged, s->recovered, s->duplicates,
		    s->gaps_opened, dedup_missing(s));
		for (g = 0; g < s->ngaps && g < GAPS_PER_REPORT; g++)
			printf("    still missing seq %" PRIu64 "..%" PRIu64 "\n",
			    s->gaps[g].from, s->gaps[g].to);
		if (s->ngaps > GAPS_PER_REPORT)
			printf("    ... and %zu more gaps\n",
			    s->ngaps - GAPS_PER_REPORT);
	}
	fflush(stdout);
}

/* ------------------------------------------------------------ logging */

static void reject(struct historian *h, uint64_t received, const char *topic,
    const char *reason, const void *raw, size_t rawlen)
{
	char *line = histlog_format_reject(received, topic, reason, raw, rawlen);
	int ret = line ? histlog_append(&h->rejects, line, strlen(line)) :
	    -ENOMEM;
	char shown[256] = "-";

	h->n.rejected++;
	if (topic) {
		/* The topic level matched by '+' is the sender's choice: keep
		 * control bytes (escape sequences) off the terminal. */
		size_t i, n = strlen(topic) < sizeof(shown) - 1 ?
		    strlen(topic) : sizeof(shown) - 1;

		for (i = 0; i < n; i++)
			shown[i] = topic[i] >= 0x20 && topic[i] < 0x7f ?
			    topic[i] : '?';
		shown[n] = '\0';
	}
	if (ret < 0) {
		/* The reject log is the last place it could go: say it
		 * loudly on stderr rather than lose the evidence quietly. */
		warn("cannot write to reject log %s: %s; rejected (%s) on %s: "
		    "%zu bytes", h->opt.reject_log, strerror(-ret), reason,
		    shown, rawlen);
		h->n.write_errors++;
	}
	free(line);
	show_event(h, "\033[35m", "REJECTED %s: %s", shown, reason);
}

static void request_resend(struct historian *h, const char *node,
    uint64_t boot, const struct dedup_gap *gap)
{
	struct telemetry_resend rq = { boot, gap->from, gap->to };
	char topic[512], payload[256];
	int len, ret;

	/* A member of a shared subscription sees only its share of the
	 * seqs: its holes are mostly the other members' readings, so only
	 * the union of the group's logs can tell what is missing. */
	if (h->opt.share)
		return;
	if (!mqtt_loop_connected(&h->ml) || gap->from == 0)
		return;		/* asked again at the next report */
	if (telemetry_topic(topic, sizeof(topic), h->opt.prefix, node,
	    "cmd") < 0)
		return;
	len = telemetry_resend_build(&rq, payload, sizeof(payload));
	if (len < 0)
		return;
	ret = mosquitto_publish(h->mosq, NULL, topic, len, payload, 1, false);
	if (ret != MOSQ_ERR_SUCCESS) {
		warn("resend request to %s: %s", topic, mosquitto_strerror(ret));
		return;
	}
	h->n.resend_requests++;
}

/* Logs one valid reading unless it is a duplicate; true when logged. */
static void record(struct historian *h, uint64_t received, const char *topic,
    const struct mosquitto_message *m, const struct telemetry_reading *r)
{
	enum dedup_effect effect;
	struct dedup_gap gap;
	cJSON *payload;
	char *line, note[96] = "";
	int ret;

	if (dedup_lookup(h->dedup, r->node_id, r->boot_id, r->seq) ==
	    DEDUP_DUPLICATE) {
		h->n.duplicates++;
		show_event(h, "\033[2m", "duplicate %s boot %" PRIu64 " seq %"
		    PRIu64 " dropped", r->node_id, r->boot_id, r->seq);
		return;
	}
	payload = cJSON_ParseWithLength(m->payload, (size_t)m->payloadlen);
	line = payload ? histlog_format_record(received, topic, payload) : NULL;
	cJSON_Delete(payload);
	ret = line ? histlog_append(&h->log, line, strlen(line)) : -ENOMEM;
	free(line);
	if (ret < 0) {
		/* Not marked seen: the next reading of this node shows the
		 * hole, and the resend request fetches it again. */
		h->n.write_errors++;
		warn("cannot append to %s: %s (%s boot %" PRIu64 " seq %"
		    PRIu64 " will be asked for again)", h->opt.log,
		    strerror(-ret), r->node_id, r->boot_id, r->seq);
		return;
	}
	h->n.logged++;
	ret = dedup_add(h->dedup, r->node_id, r->boot_id, r->seq, false,
	    &effect, &gap);
	if (ret < 0) {
		warn("duplicate table: %s (%s)", strerror(-ret), r->node_id);
		show_reading(h, r, "");
		return;
	}
	if (effect == DEDUP_OPENED_GAP && !h->opt.share) {
		snprintf(note, sizeof(note), "  GAP %" PRIu64 "..%" PRIu64
		    ", resend requested", gap.from, gap.to);
		request_resend(h, r->node_id, r->boot_id, &gap);
	} else if (effect == DEDUP_FILLED) {
		snprintf(note, sizeof(note), gap.from > gap.to ?
		    "  (late, gap closed)" : "  (late, gap partly filled)");
	}
	show_reading(h, r, note);
}

/* mqtt_loop_init() takes libmosquitto's userdata for itself (it is the
 * struct mqtt_loop), so the historian is found around it. */
static struct historian *historian_of(void *userdata)
{
	return (struct historian *)((char *)userdata -
	    offsetof(struct historian, ml));
}

static void on_message(struct mosquitto *mosq, void *userdata,
    const struct mosquitto_message *m)
{
	struct historian *h = historian_of(userdata);
	struct telemetry_reading r;
	struct telemetry_error err = { TELEMETRY_OK, "" };
	char node[TELEMETRY_NODE_ID_MAX + 1], reason[160];
	uint64_t received = now_ms();
	enum telemetry_reject rc;
	size_t len = m->payloadlen > 0 ? (size_t)m->payloadlen : 0;

	h->n.received++;
	if (telemetry_topic_node(m->topic, "telemetry", node) < 0) {
		reject(h, received, m->topic, "unexpected topic", m->payload,
		    len);
		return;
	}
	rc = telemetry_parse(m->payload, len, &r, &err);
	if (rc != TELEMETRY_OK) {
		snprintf(reason, sizeof(reason), "%s%s%s",
		    telemetry_reject_str(rc), err.field && *err.field ? ": " :
		    "", err.field ? err.field : "");
		reject(h, received, m->topic, reason, m->payload, len);
		return;
	}
	if (strcmp(r.node_id, node) != 0) {
		/* A node may only speak for itself (the ACL lets it write
		 * its own topic only). */
		reject(h, received, m->topic, "node_id does not match topic",
		    m->payload, len);
		return;
	}
	record(h, received, m->topic, m, &r);
}

/* ------------------------------------------------------------ MQTT */

static void on_connected(struct mqtt_loop *ml, int rc, void *ctx)
{
	struct historian *h = ctx;
	int ret;

	if (rc != 0) {
		warn("broker %s:%d refused the connection: %s",
		    h->opt.broker, h->opt.port, h->connect_props ?
		    mosquitto_reason_string(rc) : mosquitto_connack_string(rc));
		return;
	}
	/* The persistent session keeps the subscription; subscribing again
	 * is harmless and covers a broker that lost its state. */
	ret = mosquitto_subscribe(h->mosq, NULL, h->sub_topic, 1);
	if (ret != MOSQ_ERR_SUCCESS)
		warn("subscribe %s: %s", h->sub_topic, mosquitto_strerror(ret));
	show_event(h, "\033[36m", "connected to %s:%d, subscribed to %s",
	    h->opt.broker, h->opt.port, h->sub_topic);
	/* Gaps found in the log at start or while disconnected. */
	ev_feed_event(h->loop, &h->gap_report, EV_TIMER);
}

static void on_disconnected(struct mqtt_loop *ml, int rc, void *ctx)
{
	struct historian *h = ctx;

	show_event(h, "\033[36m", "disconnected from %s:%d (%s), reconnecting",
	    h->opt.broker, h->opt.port, rc ? mosquitto_strerror(rc) : "asked");
}

static int setup_mqtt(struct historian *h, char *password)
{
	static const struct mqtt_loop_ops ops = {
		.connected = on_connected,
		.disconnected = on_disconnected,
	};
	int ret;

	/* Clean session off: the broker keeps the subscription and queues
	 * what arrives while we are away.  Shared subscriptions are MQTT 5,
	 * where that takes a Session Expiry Interval in every CONNECT (the
	 * adapter sends it on each reconnect too; without it the session
	 * would end at the first disconnect after a reconnect).  Without
	 * --share, MQTT 3.1.1, whose clean session flag alone does it. */
	h->mosq = mosquitto_new(h->opt.client_id, false, &h->ml);
	if (h->mosq == NULL)
		return -ENOMEM;
	ret = mosquitto_username_pw_set(h->mosq, h->opt.username, password);
	if (ret != MOSQ_ERR_SUCCESS)
		return -EINVAL;
	mosquitto_message_callback_set(h->mosq, on_message);
	mqtt_loop_init(&h->ml, h->loop, h->mosq, &ops, h);
	if (h->opt.share) {
		if (mosquitto_int_option(h->mosq, MOSQ_OPT_PROTOCOL_VERSION,
		    MQTT_PROTOCOL_V5) != MOSQ_ERR_SUCCESS ||
		    mosquitto_property_add_int32(&h->connect_props,
		    MQTT_PROP_SESSION_EXPIRY_INTERVAL,
		    SESSION_NEVER_EXPIRES) != MOSQ_ERR_SUCCESS)
			return -ENOMEM;
		mqtt_loop_set_connect_properties(&h->ml, h->connect_props);
	}
	return mqtt_loop_start(&h->ml, h->opt.broker, h->opt.port, KEEPALIVE);
}

/* ------------------------------------------------------------ timers */

static void on_commit(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct historian *h = w->data;
	int ret;

	if ((ret = histlog_sync(&h->log)) < 0)
		warn("fdatasync %s: %s", h->opt.log, strerror(-ret));
	if ((ret = histlog_sync(&h->rejects)) < 0)
		warn("fdatasync %s: %s", h->opt.reject_log, strerror(-ret));
}

/* Reports open gaps and asks for them again until they close. */
static void on_gap_report(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct historian *h = w->data;
	size_t i, g;

	if (h->opt.share)
		return;		/* see request_resend() */
	for (i = 0; i < dedup_count(h->dedup); i++) {
		const struct dedup_stream *s = dedup_at(h->dedup, i);

		if (s->ngaps == 0)
			continue;
		show_event(h, "\033[33m", "%s boot %" PRIu64 ": %" PRIu64
		    " readings missing in %zu gaps, lowest %" PRIu64 "..%"
		    PRIu64, s->node_id, s->boot_id, dedup_missing(s), s->ngaps,
		    s->gaps[0].from, s->gaps[0].to);
		for (g = 0; g < s->ngaps && g < GAPS_PER_REPORT; g++)
			request_resend(h, s->node_id, s->boot_id, &s->gaps[g]);
	}
}

static void on_duration(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

static void on_stop_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

static void on_sighup(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct historian *h = w->data;
	int ret;

	if ((ret = histlog_reopen(&h->log)) < 0)
		warn("reopen %s: %s (still writing the old file)", h->opt.log,
		    strerror(-ret));
	if ((ret = histlog_reopen(&h->rejects)) < 0)
		warn("reopen %s: %s (still writing the old file)",
		    h->opt.reject_log, strerror(-ret));
	show_event(h, "\033[36m", "logs reopened");
}

static void start_watchers(struct historian *h)
{
	ev_timer_init(&h->commit, on_commit, h->opt.fsync_interval,
	    h->opt.fsync_interval);
	h->commit.data = h;
	if (h->opt.fsync == HISTLOG_FSYNC_INTERVAL)
		ev_timer_start(h->loop, &h->commit);
	ev_timer_init(&h->gap_report, on_gap_report, GAP_REPORT_SECONDS,
	    GAP_REPORT_SECONDS);
	h->gap_report.data = h;
	ev_timer_start(h->loop, &h->gap_report);
	ev_timer_init(&h->duration, on_duration, h->opt.duration, 0);
	if (h->opt.duration > 0)
		ev_timer_start(h->loop, &h->duration);
	ev_signal_init(&h->sigterm, on_stop_signal, SIGTERM);
	ev_signal_init(&h->sigint, on_stop_signal, SIGINT);
	ev_signal_init(&h->sighup, on_sighup, SIGHUP);
	h->sighup.data = h;
	ev_signal_start(h->loop, &h->sigterm);
	ev_signal_start(h->loop, &h->sigint);
	ev_signal_start(h->loop, &h->sighup);
}

/* ------------------------------------------------------------ recovery */

static void recover_line(void *ctx, const char *line, size_t len)
{
	struct historian *h = ctx;
	struct histlog_key k;
	enum dedup_effect e;

	if (histlog_parse_key(line, len, &k) < 0 ||
	    dedup_add(h->dedup, k.node_id, k.boot_id, k.seq, true, &e,
	    NULL) < 0)
		h->recovered_bad++;
}

static void recover_torn(void *ctx, const char *bytes, size_t len)
{
	struct historian *h = ctx;

	reject(h, now_ms(), NULL, "torn last line of the log, cut off at "
	    "startup", bytes, len);
	h->n.rejected--;	/* not a received message */
}

/* A rotated log's readings are in the log too, as far as duplicates go:
 * without them a restart after logrotate would log a replayed reading
 * again.  A seed log that does not exist (yet) is only noted. */
static int seed_from(struct historian *h, const char *path)
{
	struct histlog_recovery r;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		warn("--seed-log %s: %s%s", path, strerror(-ret),
		    ret == -ENOENT ? " (skipped)" : "");
		return ret == -ENOENT ? 0 : ret;
	}
	ret = histlog_scan_fd(fd, recover_line, h, &r);
	close(fd);
	if (ret < 0) {
		warn("--seed-log %s: %s", path, strerror(-ret));
		return ret;
	}
	warn("%s: %" PRIu64 " lines read%s", path, r.lines,
	    r.torn ? " (and a torn last line, ignored)" : "");
	return 0;
}

static int open_logs(struct historian *h)
{
	struct histlog_recovery r;
	uint64_t gaps = 0;
	size_t i;
	int ret, k;

	for (k = 0; k < h->opt.nseed_logs; k++)
		if (seed_from(h, h->opt.seed_logs[k]) < 0)
			return -1;
	ret = histlog_open(&h->rejects, h->opt.reject_log, h->opt.fsync, NULL,
	    NULL, NULL, &r);
	if (ret < 0) {
		warn("%s: %s", h->opt.reject_log, strerror(-ret));
		return ret;
	}
	ret = histlog_open(&h->log, h->opt.log, h->opt.fsync, recover_line,
	    recover_torn, h, &r);
	if (ret < 0) {
		warn("%s: %s", h->opt.log, strerror(-ret));
		return ret;
	}
	for (i = 0; i < dedup_count(h->dedup); i++)
		gaps += dedup_at(h->dedup, i)->ngaps;
	warn("%s: %" PRIu64 " lines recovered, %zu streams, %" PRIu64
	    " open gaps%s", h->opt.log, r.lines, dedup_count(h->dedup), gaps,
	    r.torn ? ", torn last line cut off (copy in the reject log)" : "");
	if (h->recovered_bad || r.overlong)
		warn("%" PRIu64 " lines of the logs read are not readings and "
		    "were left as they are", h->recovered_bad + r.overlong);
	return 0;
}

int main(int argc, char **argv)
{
	struct historian h = { 0 };
	char *password = NULL;
	int ret, status = 1;

	sandbox_close_inherited();	/* sandbox: before anything opens */
	parse_options(&h.opt, argc, argv);
	if (h.opt.password_file)
		password = read_password(h.opt.password_file);
	if (h.opt.reject_log == NULL) {
		h.reject_default = default_reject_path(h.opt.log);
		if (h.reject_default == NULL)
			return 1;
		h.opt.reject_log = h.reject_default;
	}
	if (snprintf(h.sub_topic, sizeof(h.sub_topic), "%s%s%s%s/+/telemetry",
	    h.opt.share ? "$share/" : "", h.opt.share ? h.opt.share : "",
	    h.opt.share ? "/" : "", h.opt.prefix) >= (int)sizeof(h.sub_topic))
		bad_option("--topic-prefix or --share too long");
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	h.loop = EV_DEFAULT;
	h.dedup = dedup_new(1);	/* telemetry.h: seq starts at 1 per boot */
	h.log.fd = h.rejects.fd = -1;
	if (h.dedup == NULL || open_logs(&h) < 0)
		goto out;
	mosquitto_lib_init();
	ret = setup_mqtt(&h, password);
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
		password = NULL;
	}
	if (ret < 0) {
		warn("cannot start MQTT client: %s", strerror(-ret));
		goto out_mqtt;
	}
	/* sandbox: user wgu-historian, no capabilities, the seccomp filter;
	 * after the first connection, which loads the name service modules */
	if (sandbox_drop(&sandbox_historian_policy) < 0)
		goto out_mqtt;
	start_watchers(&h);
	ev_run(h.loop, 0);
	status = 0;
	mqtt_loop_stop(&h.ml);
out_mqtt:
	if (h.mosq)
		mosquitto_destroy(h.mosq);
	mosquitto_property_free_all(&h.connect_props);
	mosquitto_lib_cleanup();
out:
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	histlog_close(&h.log);
	histlog_close(&h.rejects);
	if (h.dedup)
		print_summary(&h);
	dedup_free(h.dedup);
	free(h.reject_default);
	return status;
}
