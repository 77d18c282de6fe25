/* wgu-sim: simulated edge nodes publishing telemetry over MQTT (QoS 1),
 * every reading spooled on disk first.  See usage() for the options.
 *
 * Per node: a model (model.h), a spool (spool.h) in SPOOL_DIR/NODE_ID, an
 * MQTT session of its own (client id and username = node id) driven by
 * mqtt_loop.h.  Readings are generated on a timer, appended to the spool,
 * and published in spool order only while connected, at most
 * INFLIGHT_MAX unacknowledged at a time: nothing waits in libmosquitto's
 * memory queue while the broker is away.  The PUBACK (on_publish with the
 * message id) acknowledges the reading in the spool; message ids wrap at
 * 65535, so each node maps mid -> (boot_id, seq) only while in flight.
 * After a lost connection the readings in flight are published again
 * (duplicates are the historian's to drop). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#include <mosquitto.h>

#include "common/sandbox.h"
#include "mqtt/mqtt_loop.h"
#include "mqtt/telemetry.h"
#include "sim/model.h"
#include "sim/spool.h"

enum {
	INFLIGHT_MAX = 32,
	NODES_MAX = 999,
	KEEPALIVE = 30,
	TOPIC_MAX = 256,
	PASSWORD_MAX = 256,
	EXIT_USAGE = 2,
};
#define DRAIN_TIMEOUT 10.0	/* seconds to wait for PUBACKs at the end */
#define SYNC_INTERVAL 1.0	/* spool fsync at most this often */

struct options {
	const char *broker, *node_id, *username, *password_file, *prefix;
	const char *spool_dir;
	int port, nodes;
	double rate, cycle, duration;
	uint64_t seed, count;
	size_t spool_max;
};

struct inflight {
	int mid;
	uint64_t boot_id, seq;
};

struct node {
	struct sim *sim;
	char id[TELEMETRY_NODE_ID_MAX + 1];
	char topic[TOPIC_MAX], cmd_topic[TOPIC_MAX];
	struct mosquitto *mosq;
	struct mqtt_loop ml;
	struct spool sp;
	struct model model;
	uint64_t seq;		/* last seq generated in this boot */
	struct inflight inflight[INFLIGHT_MAX];
	int ninflight;
	bool dirty;		/* spool written since the last fsync */
	unsigned int down_s;	/* seconds without a broker session */
	/* For the summary. */
	uint64_t generated, acked, lost, published, resends;
};

struct sim {
	struct options opt;
	struct ev_loop *loop;
	struct node *nodes;
	int nnodes;
	ev_timer tick, sync, drain;
	ev_signal sigint, sigterm;
	uint64_t ticks;
	bool draining;
};

static void logmsg(const struct node *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void logmsg(const struct node *n, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "wgu-sim: ");
	if (n)
		fprintf(stderr, "%s: ", n->id);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: wgu-sim [options]\n"
"  --broker HOST         MQTT broker address (10.0.0.1)\n"
"  --port N              broker port (1883)\n"
"  --node-id ID          node id, client id and username (edge-01)\n"
"  --nodes N             N virtual nodes ID-01..ID-N, each its own session (1)\n"
"  --username U          username, single node only (default: the node id)\n"
"  --password-file FILE  the password (one node) or lines user:password\n"
"  --topic-prefix P      topics P/NODE/telemetry and P/NODE/cmd\n"
"                        (" TELEMETRY_DEFAULT_PREFIX ")\n"
"  --rate HZ             readings per second per node (1)\n"
"  --cycle SECONDS       anomaly cycle (120)\n"
"  --seed N              model seed (0); node i uses N+i\n"
"  --duration SECONDS    stop generating after this long\n"
"  --count N             stop generating after N readings per node\n"
"  --spool-dir DIR       spool directory (/var/lib/wgu-sim)\n"
"  --spool-max N         readings held per node (100000): unacknowledged\n"
"                        ones, and acknowledged ones as the history that\n"
"                        answers resend requests (oldest go first)\n"
"  --qos 1               the only QoS there is\n");
}

static void __attribute__((noreturn, format(printf, 1, 2)))
bad_option(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "wgu-sim: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see wgu-sim --help)\n");
	exit(EXIT_USAGE);
}

static uint64_t parse_uint(const char *name, const char *s, uint64_t min,
    uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (s[0] < '0' || s[0] > '9')
		bad_option("%s: '%s' is not a number", name, s);
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		bad_option("%s: '%s' is not an integer in [%" PRIu64 ", %" PRIu64
		    "]", name, s, min, max);
	return v;
}

static double parse_real(const char *name, const char *s, double min,
    double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) ||
	    v <= min || v > max)
		bad_option("%s: '%s' is not a number in (%g, %g]", name, s, min,
		    max);
	return v;
}

static void check_prefix(const char *p)
{
	size_t n = strlen(p);

	if (n == 0 || n > 128 || p[0] == '/' || p[n - 1] == '/' ||
	    strpbrk(p, "+#") != NULL || strstr(p, "//") != NULL)
		bad_option("--topic-prefix: '%s' must be 1..128 characters of "
		    "topic levels, without '+', '#', empty levels or a "
		    "leading/trailing '/'", p);
}

static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "broker", required_argument, NULL, 'b' },
		{ "port", required_argument, NULL, 'p' },
		{ "node-id", required_argument, NULL, 'i' },
		{ "nodes", required_argument, NULL, 'n' },
		{ "username", required_argument, NULL, 'u' },
		{ "password-file", required_argument, NULL, 'P' },
		{ "topic-prefix", required_argument, NULL, 't' },
		{ "rate", required_argument, NULL, 'r' },
		{ "cycle", required_argument, NULL, 'c' },
		{ "seed", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'N' },
		{ "spool-dir", required_argument, NULL, 'D' },
		{ "spool-max", required_argument, NULL, 'M' },
		{ "qos", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options){
		.broker = "10.0.0.1", .port = 1883, .node_id = "edge-01",
		.nodes = 1, .prefix = TELEMETRY_DEFAULT_PREFIX, .rate = 1.0,
		.cycle = MODEL_DEFAULT_CYCLE, .spool_dir = "/var/lib/wgu-sim",
		.spool_max = 100000,
	};
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (optarg[0] == '\0')
				bad_option("--broker: empty address");
			o->broker = optarg;
			break;
		case 'p':
			o->port = (int)parse_uint("--port", optarg, 1, 65535);
			break;
		case 'i':
			o->node_id = optarg;
			break;
		case 'n':
			o->nodes = (int)parse_uint("--nodes", optarg, 1,
			    NODES_MAX);
			break;
		case 'u':
			if (optarg[0] == '\0')
				bad_option("--username: empty");
			o->username = optarg;
			break;
		case 'P':
			o->password_file = optarg;
			break;
		case 't':
			check_prefix(optarg);
			o->prefix = optarg;
			break;
		case 'r':
			o->rate = parse_real("--rate", optarg, 0.0, 1000.0);
			break;
		case 'c':
			o->cycle = parse_real("--cycle", optarg, 0.0, 86400.0);
			break;
		case 's':
			o->seed = parse_uint("--seed", optarg, 0, UINT64_MAX);
			break;
		case 'd':
			o->duration = parse_real("--duration", optarg, 0.0,
			    1e9);
			break;
		case 'N':
			o->count = parse_uint("--count", optarg, 1,
			    (uint64_t)TELEMETRY_INT_MAX);
			break;
		case 'D':
			if (optarg[0] == '\0')
				bad_option("--spool-dir: empty");
			o->spool_dir = optarg;
			break;
		case 'M':
			o->spool_max = parse_uint("--spool-max", optarg, 1,
			    10000000);
			break;
		case 'q':
			if (strcmp(optarg, "1") != 0)
				bad_option("--qos: only QoS 1 is supported "
				    "(got '%s')", optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			bad_option("%s needs an argument", argv[optind - 1]);
		default:
			bad_option("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		bad_option("unexpected argument '%s'", argv[optind]);
	if (!telemetry_node_id_valid(o->node_id) ||
	    (o->nodes > 1 && strlen(o->node_id) + 4 > TELEMETRY_NODE_ID_MAX))
		bad_option("--node-id: '%s' must be 1..%d characters of "
		    "[A-Za-z0-9._-]%s", o->node_id, TELEMETRY_NODE_ID_MAX,
		    o->nodes > 1 ? " (with room for the -NN suffix)" : "");
	if (o->username != NULL && o->nodes > 1)
		bad_option("--username is for a single node; with --nodes the "
		    "username of each node is its id");
}

/* Finds the password for user in the file: the whole first line for a
 * single node, else the line "user:password".  The password never appears
 * on the command line (ps would show it). */
static int read_password(const char *path, const char *user, bool single,
    char out[static PASSWORD_MAX])
{
	FILE *f = fopen(path, "r");
	char line[PASSWORD_MAX + TELEMETRY_NODE_ID_MAX + 8];
	size_t ulen = strlen(user);
	int ret = -ENOENT;

	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strcspn(line, "\r\n");
		const char *pw = line;

		line[n] = '\0';
		if (!single) {
			if (strncmp(line, user, ulen) != 0 || line[ulen] != ':')
				continue;
			pw = line + ulen + 1;
		}
		if (strlen(pw) >= PASSWORD_MAX) {
			ret = -ENAMETOOLONG;
			break;
		}
		memcpy(out, pw, strlen(pw) + 1);
		ret = 0;
		break;
	}
	explicit_bzero(line, sizeof(line));
	fclose(f);
	return ret;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Publishes the oldest unsent readings while connected and the in-flight
 * window has room. */
static void pump(struct node *n)
{
	char payload[TELEMETRY_PAYLOAD_MAX + 1];
	struct spool_entry *e;
	int mid, len, rc;

	if (!mqtt_loop_connected(&n->ml))
		return;
	while (n->ninflight < INFLIGHT_MAX &&
	    (e = spool_next_unsent(&n->sp)) != NULL) {
		len = spool_payload(&n->sp, e, payload, sizeof(payload));
		if (len < 0) {
			logmsg(n, "spool read: %s", strerror(-len));
			return;
		}
		rc = mosquitto_publish(n->mosq, &mid, n->topic, len, payload,
		    1, false);
		if (rc != MOSQ_ERR_SUCCESS) {
			/* Lost connection: the adapter notices and the
			 * reading stays unsent. */
			logmsg(n, "publish: %s", mosquitto_strerror(rc));
			return;
		}
		n->inflight[n->ninflight++] = (struct inflight){ mid,
		    e->boot_id, e->seq };
		spool_mark_inflight(&n->sp, e);
		n->published++;
	}
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid)
{
	struct node *n = ((struct mqtt_loop *)obj)->ctx;
	int i, ret;

	for (i = 0; i < n->ninflight; i++)
		if (n->inflight[i].mid == mid)
			break;
	if (i == n->ninflight)
		return;		/* from before a reconnect: already requeued */
	ret = spool_ack(&n->sp, n->inflight[i].boot_id, n->inflight[i].seq);
	if (ret == 0)
		n->acked++;
	else if (ret != -ENOENT)
		logmsg(n, "spool ack: %s", strerror(-ret));
	n->dirty = true;
	n->inflight[i] = n->inflight[--n->ninflight];
	pump(n);
}

static void on_message(struct mosquitto *mosq, void *obj,
    const struct mosquitto_message *msg)
{
	struct node *n = ((struct mqtt_loop *)obj)->ctx;
	struct telemetry_resend rq;
	struct telemetry_error err;
	size_t got;

	if (strcmp(msg->topic, n->cmd_topic) != 0)
		return;
	if (telemetry_resend_parse(msg->payload, (size_t)msg->payloadlen, &rq,
	    &err) != TELEMETRY_OK) {
		logmsg(n, "ignored command: %s %s",
		    telemetry_reject_str(err.reason), err.field);
		return;
	}
	got = spool_resend(&n->sp, rq.boot_id, rq.from, rq.to,
	    TELEMETRY_RESEND_MAX);
	n->resends++;
	logmsg(n, "resend request boot %" PRIu64 " seq %" PRIu64 "..%" PRIu64
	    ": %zu readings from the spool", rq.boot_id, rq.from, rq.to, got);
	pump(n);
}

static void connected(struct mqtt_loop *ml, int rc, void *ctx)
{
	struct node *n = ctx;

	if (rc != 0) {
		logmsg(n, "broker refused the connection: %s",
		    mosquitto_connack_string(rc));
		return;
	}
	logmsg(n, "connected to %s:%d (%zu readings waiting)",
	    n->sim->opt.broker, n->sim->opt.port, n->sp.pending);
	rc = mosquitto_subscribe(n->mosq, NULL, n->cmd_topic, 1);
	if (rc != MOSQ_ERR_SUCCESS)
		logmsg(n, "subscribe %s: %s", n->cmd_topic,
		    mosquitto_strerror(rc));
	pump(n);
}

static void disconnected(struct mqtt_loop *ml, int rc, void *ctx)
{
	struct node *n = ctx;

	logmsg(n, "connection lost (%s); %d in flight will be sent again",
	    mosquitto_strerror(rc), n->ninflight);
	n->ninflight = 0;
	spool_requeue_inflight(&n->sp);
}

static const struct mqtt_loop_ops loop_ops = {
	.connected = connected,
	.disconnected = disconnected,
};

static void generate(struct node *n, double elapsed)
{
	struct telemetry_reading r = { 0 };
	struct model_sample s;
	char payload[TELEMETRY_PAYLOAD_MAX];
	int len, ret;

	model_sample(&n->model, elapsed, &s);
	r.timestamp_ms = now_ms();
	snprintf(r.node_id, sizeof(r.node_id), "%s", n->id);
	r.boot_id = n->sp.boot_id;
	r.seq = ++n->seq;
	r.p = s.p;
	r.t = s.t;
	r.v = s.v;
	r.status = s.status;
	n->generated++;
	len = telemetry_build(&r, payload, sizeof(payload));
	if (len < 0) {
		logmsg(n, "seq %" PRIu64 ": cannot encode: %s", r.seq,
		    strerror(-len));
		n->lost++;
		return;
	}
	ret = spool_append(&n->sp, r.boot_id, r.seq, payload, (size_t)len);
	if (ret < 0) {
		/* The seq is used up all the same: the historian sees the
		 * hole and reports it. */
		n->lost++;
		if (n->lost == 1 || n->lost % 100 == 0)
			logmsg(n, "reading seq %" PRIu64 " LOST: spool: %s "
			    "(%" PRIu64 " lost so far)", r.seq,
			    ret == -ENOSPC ? "full of unacknowledged readings"
			    : strerror(-ret), n->lost);
		return;
	}
	n->dirty = true;
	pump(n);
}

static bool all_acked(const struct sim *sim)
{
	int i;

	for (i = 0; i < sim->nnodes; i++)
		if (sim->nodes[i].sp.pending > 0)
			return false;
	return true;
}

static void drain_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

/* Generation is over: wait for the last PUBACKs, a while. */
static void start_drain(struct sim *sim)
{
	sim->draining = true;
	ev_timer_stop(sim->loop, &sim->tick);
	if (all_acked(sim)) {
		ev_break(sim->loop, EVBREAK_ALL);
		return;
	}
	ev_timer_init(&sim->drain, drain_cb, DRAIN_TIMEOUT, 0.0);
	ev_timer_start(sim->loop, &sim->drain);
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sim *sim = w->data;
	double elapsed = (double)sim->ticks / sim->opt.rate;
	int i;

	if ((sim->opt.count && sim->ticks >= sim->opt.count) ||
	    (sim->opt.duration > 0 && elapsed >= sim->opt.duration)) {
		start_drain(sim);
		return;
	}
	/* Model time advances by the tick, not the wall clock, so a seed
	 * reproduces the same readings however the loop was scheduled. */
	for (i = 0; i < sim->nnodes; i++)
		generate(&sim->nodes[i], elapsed);
	sim->ticks++;
}

static void sync_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sim *sim = w->data;
	int i, ret;

	for (i = 0; i < sim->nnodes; i++) {
		struct node *n = &sim->nodes[i];
		/* The adapter retries silently; say so now and then. */
		n->down_s = mqtt_loop_connected(&n->ml) ? 0 : n->down_s + 1;
		if (n->down_s == 5 || (n->down_s > 0 && n->down_s % 60 == 0))
			logmsg(n, "no broker session with %s:%d for %u s; "
			    "%zu readings waiting in the spool",
			    sim->opt.broker, sim->opt.port, n->down_s,
			    n->sp.pending);
		if (!n->dirty)
			continue;
		n->dirty = false;
		if ((ret = spool_sync(&n->sp)) < 0)
			logmsg(n, "spool sync: %s", strerror(-ret));
	}
	if (sim->draining && all_acked(sim))
		ev_break(loop, EVBREAK_ALL);
}

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

static int make_dir(const char *path)
{
	/* sandbox: a new directory is given to user wgu-sim */
	int ret = sandbox_mkdir(&sandbox_sim_policy, path, 0700);

	if (ret < 0 && ret != -EEXIST)
		return ret;
	return 0;
}

/* The id of node i: ID, or ID-01 .. ID-N with --nodes. */
static void node_id(const struct options *o, int i,
    char id[static TELEMETRY_NODE_ID_MAX + 1])
{
	int width = o->nodes > 99 ? 3 : 2;

	if (o->nodes > 1)
		snprintf(id, TELEMETRY_NODE_ID_MAX + 1, "%s-%0*d", o->node_id,
		    width, i + 1);
	else
		snprintf(id, TELEMETRY_NODE_ID_MAX + 1, "%s", o->node_id);
}

/* Every node must find its password before anything starts. */
static void check_passwords(const struct options *o)
{
	char id[TELEMETRY_NODE_ID_MAX + 1], pw[PASSWORD_MAX];
	int i, ret;

	for (i = 0; o->password_file && i < o->nodes; i++) {
		const char *user;

		node_id(o, i, id);
		user = o->username ? o->username : id;
		ret = read_password(o->password_file, user, o->nodes == 1, pw);
		explicit_bzero(pw, sizeof(pw));
		if (ret < 0)
			bad_option("--password-file %s: %s%s", o->password_file,
			    ret == -ENOENT ? "no password for user " :
			    strerror(-ret), ret == -ENOENT ? user : "");
	}
}

/* Sets up node i: id, topics, spool, model, MQTT session. */
static int node_init(struct sim *sim, int i)
{
	const struct options *o = &sim->opt;
	struct node *n = &sim->nodes[i];
	char path[PATH_MAX], pw[PASSWORD_MAX];
	const char *user;
	int ret;

	n->sim = sim;
	node_id(o, i, n->id);
	if (telemetry_topic(n->topic, sizeof(n->topic), o->prefix, n->id,
	    "telemetry") < 0 || telemetry_topic(n->cmd_topic,
	    sizeof(n->cmd_topic), o->prefix, n->id, "cmd") < 0) {
		logmsg(n, "topic too long");
		return -EINVAL;
	}
	if (snprintf(path, sizeof(path), "%s/%s", o->spool_dir, n->id) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	if ((ret = make_dir(path)) < 0 ||
	    (ret = spool_open(&n->sp, path, o->spool_max)) < 0) {
		logmsg(n, "spool %s: %s", path, ret == -EBUSY ?
		    "in use by another wgu-sim" : strerror(-ret));
		return ret;
	}
	if (n->sp.repaired_bytes || n->sp.bad_lines)
		logmsg(n, "spool repaired: torn record of %" PRIu64 " bytes "
		    "cut, %" PRIu64 " unreadable lines skipped",
		    n->sp.repaired_bytes, n->sp.bad_lines);
	logmsg(n, "boot %" PRIu64 ", %zu unacknowledged readings in the spool",
	    n->sp.boot_id, n->sp.pending);
	model_init(&n->model, o->seed + (uint64_t)i, o->cycle);

	n->mosq = mosquitto_new(n->id, true, NULL);
	if (n->mosq == NULL)
		return -ENOMEM;
	mosquitto_int_option(n->mosq, MOSQ_OPT_PROTOCOL_VERSION,
	    MQTT_PROTOCOL_V311);
	mosquitto_max_inflight_messages_set(n->mosq, INFLIGHT_MAX);
	user = o->username ? o->username : n->id;
	if (o->password_file) {
		ret = read_password(o->password_file, user, o->nodes == 1, pw);
		if (ret < 0) {
			logmsg(n, "--password-file %s: %s", o->password_file,
			    ret == -ENOENT ? "no password for this user" :
			    strerror(-ret));
			return ret;
		}
		ret = mosquitto_username_pw_set(n->mosq, user, pw);
		explicit_bzero(pw, sizeof(pw));
	} else {
		ret = mosquitto_username_pw_set(n->mosq, user, NULL);
	}
	if (ret != MOSQ_ERR_SUCCESS)
		return -EINVAL;
	mosquitto_publish_callback_set(n->mosq, on_publish);
	mosquitto_message_callback_set(n->mosq, on_message);
	mqtt_loop_init(&n->ml, sim->loop, n->mosq, &loop_ops, n);
	if (mqtt_loop_start(&n->ml, o->broker, o->port, KEEPALIVE) < 0) {
		logmsg(n, "bad broker address %s:%d", o->broker, o->port);
		return -EINVAL;
	}
	return 0;
}

static void node_clear(struct node *n)
{
	if (n->mosq) {
		mqtt_loop_stop(&n->ml);
		mosquitto_destroy(n->mosq);
		n->mosq = NULL;
	}
	if (n->sp.e != NULL || n->sp.fd >= 0)
		spool_close(&n->sp);
}

static void summary(const struct sim *sim)
{
	int i;

	for (i = 0; i < sim->nnodes; i++) {
		const struct node *n = &sim->nodes[i];
		printf("%s: generated %" PRIu64 ", acknowledged %" PRIu64
		    ", pending %zu, lost %" PRIu64 " (boot %" PRIu64
		    ", published %" PRIu64 ", resend requests %" PRIu64 ")\n",
		    n->id, n->generated, n->acked, n->sp.pending, n->lost,
		    n->sp.boot_id, n->published, n->resends);
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static struct sim sim;
	int i, ret = 0;

	sandbox_close_inherited();	/* sandbox: before anything opens */
	parse_options(argc, argv, &sim.opt);
	if (sim.opt.password_file && access(sim.opt.password_file, R_OK) != 0)
		bad_option("--password-file: %s: %s", sim.opt.password_file,
		    strerror(errno));
	check_passwords(&sim.opt);
	if (make_dir(sim.opt.spool_dir) < 0) {
		logmsg(NULL, "--spool-dir %s: %s", sim.opt.spool_dir,
		    strerror(errno));
		return 1;
	}
	mosquitto_lib_init();
	sim.loop = EV_DEFAULT;
	sim.nodes = calloc((size_t)sim.opt.nodes, sizeof(*sim.nodes));
	if (sim.nodes == NULL)
		return 1;
	for (i = 0; i < sim.opt.nodes; i++)
		sim.nodes[i].sp.fd = sim.nodes[i].sp.dirfd = -1;
	for (i = 0; i < sim.opt.nodes; i++) {
		sim.nnodes = i + 1;
		if (node_init(&sim, i) < 0) {
			ret = 1;
			goto out;
		}
	}
	/* sandbox: user wgu-sim, no capabilities, the seccomp filter */
	if (sandbox_drop(&sandbox_sim_policy) < 0) {
		ret = 1;
		goto out;
	}
	ev_timer_init(&sim.tick, tick_cb, 0.0, 1.0 / sim.opt.rate);
	sim.tick.data = &sim;
	ev_timer_start(sim.loop, &sim.tick);
	ev_timer_init(&sim.sync, sync_cb, SYNC_INTERVAL, SYNC_INTERVAL);
	sim.sync.data = &sim;
	ev_timer_start(sim.loop, &sim.sync);
	ev_signal_init(&sim.sigint, signal_cb, SIGINT);
	ev_signal_start(sim.loop, &sim.sigint);
	ev_signal_init(&sim.sigterm, signal_cb, SIGTERM);
	ev_signal_start(sim.loop, &sim.sigterm);
	ev_run(sim.loop, 0);
	summary(&sim);
out:
	for (i = 0; i < sim.nnodes; i++)
		node_clear(&sim.nodes[i]);
	free(sim.nodes);
	mosquitto_lib_cleanup();
	return ret;
}
