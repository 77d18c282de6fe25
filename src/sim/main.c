/* wgu-sim: simulated edge nodes publishing telemetry over MQTT (QoS 1),
 * every reading spooled on disk first.  See usage() for the options.
 *
 * This file parses the options, checks that every node finds its
 * password, and wires the fleet (fleet.h: the nodes and their schedule)
 * of nodes (node.h: model, spool and MQTT session of one node). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>
#include <mosquitto.h>

#include "common/sandbox.h"
#include "mqtt/telemetry.h"
#include "edge/node.h"
#include "edge/password.h"
#include "sim/fleet.h"
#include "sim/model.h"

enum {
	NODES_MAX = 999,
	EXIT_USAGE = 2,
};

struct options {
	const char *broker, *node_id, *username, *password_file, *prefix;
	const char *spool_dir;
	int port, nodes;
	double rate, cycle, duration;
	uint64_t seed, count;
	size_t spool_max;
};

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
		    "[A-Za-z0-9._-], not . or ..%s", o->node_id,
		    TELEMETRY_NODE_ID_MAX, o->nodes > 1 ? " (with room for the -NN suffix)" : "");
	if (o->username != NULL && o->nodes > 1)
		bad_option("--username is for a single node; with --nodes the "
		    "username of each node is its id");
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
	char id[TELEMETRY_NODE_ID_MAX + 1], pw[EDGE_PASSWORD_MAX];
	int i, ret;

	for (i = 0; o->password_file && i < o->nodes; i++) {
		const char *user;

		node_id(o, i, id);
		user = o->username ? o->username : id;
		ret = edge_password_read(o->password_file, user, o->nodes == 1, pw);
		explicit_bzero(pw, sizeof(pw));
		if (ret < 0)
			bad_option("--password-file %s: %s%s", o->password_file,
			    ret == -ENOENT ? "no password for user " :
			    strerror(-ret), ret == -ENOENT ? user : "");
	}
}

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

/* Adds node i with its password (read again here, wiped at once). */
static int add_node(struct fleet *f, const struct options *o,
    const struct node_config *cfg, int i)
{
	char id[TELEMETRY_NODE_ID_MAX + 1], pw[EDGE_PASSWORD_MAX];
	const char *user;
	int ret;

	node_id(o, i, id);
	user = o->username ? o->username : id;
	if (o->password_file) {
		ret = edge_password_read(o->password_file, user, o->nodes == 1, pw);
		if (ret < 0) {
			fprintf(stderr, "wgu-sim: %s: --password-file %s: %s\n",
			    id, o->password_file, ret == -ENOENT ?
			    "no password for this user" : strerror(-ret));
			return ret;
		}
	}
	ret = fleet_add(f, cfg, id, o->seed + (uint64_t)i, o->cycle,
	    o->password_file ? pw : NULL);
	explicit_bzero(pw, sizeof(pw));
	return ret;
}

int main(int argc, char **argv)
{
	static struct options opt;
	static struct fleet fleet;
	struct node_config cfg;
	struct fleet_schedule sched;
	struct ev_loop *loop;
	ev_signal sigint, sigterm;
	int i, ret = 1;

	sandbox_close_inherited();	/* sandbox: before anything opens */
	parse_options(argc, argv, &opt);
	/* Past RLIMIT_FSIZE a write fails (and the spool copes): no kill. */
	signal(SIGXFSZ, SIG_IGN);
	if (opt.password_file && access(opt.password_file, R_OK) != 0)
		bad_option("--password-file: %s: %s", opt.password_file,
		    strerror(errno));
	check_passwords(&opt);
	/* sandbox: a new directory is given to user wgu-sim */
	ret = sandbox_mkdir(&sandbox_sim_policy, opt.spool_dir, 0700);
	if (ret < 0 && ret != -EEXIST) {
		fprintf(stderr, "wgu-sim: --spool-dir %s: %s\n", opt.spool_dir,
		    strerror(-ret));
		return 1;
	}
	ret = 1;
	mosquitto_lib_init();
	loop = EV_DEFAULT;
	cfg = (struct node_config){
		.prog = "wgu-sim", .policy = &sandbox_sim_policy,
		.broker = opt.broker, .port = opt.port, .prefix = opt.prefix,
		.spool_dir = opt.spool_dir, .username = opt.username,
		.spool_max = opt.spool_max,
	};
	sched = (struct fleet_schedule){ .rate = opt.rate, .count = opt.count,
	    .duration = opt.duration };
	if (fleet_init(&fleet, loop, &sched, opt.nodes) < 0)
		goto out;
	for (i = 0; i < opt.nodes; i++)
		if (add_node(&fleet, &opt, &cfg, i) < 0)
			goto out;
	/* sandbox: user wgu-sim, no capabilities, the seccomp filter */
	if (sandbox_drop(&sandbox_sim_policy) < 0)
		goto out;
	if (fleet_start(&fleet) < 0)
		goto out;
	ev_signal_init(&sigint, signal_cb, SIGINT);
	ev_signal_start(loop, &sigint);
	ev_signal_init(&sigterm, signal_cb, SIGTERM);
	ev_signal_start(loop, &sigterm);
	ev_run(loop, 0);
	fleet_summary(&fleet);
	ret = 0;
out:
	fleet_stop(&fleet);
	fleet_clear(&fleet);
	mosquitto_lib_cleanup();
	return ret;
}
