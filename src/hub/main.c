/* wgu-historian: the hub's recorder.  Subscribes to every node's telemetry
 * with QoS 1 in a persistent session, validates each payload, appends each
 * reading exactly once to the production log (rejects to the reject log,
 * with the reason), asks a node to resend what is missing, and shows a
 * live view.
 *
 * This file parses the options and wires the modules, each of which owns
 * its resources: session.h (the MQTT session), ingest.h (validate ->
 * dedup -> append -> remember, and the logs), resend.h (resend requests
 * and the gap report), view.h (live view and summary).  Modules reach
 * each other only through the callbacks below, whose ctx is the struct
 * historian. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <mosquitto.h>

#include "common/sandbox.h"
#include "hub/audit.h"
#include "hub/dedup.h"
#include "hub/histlog.h"
#include "hub/hook.h"
#include "hub/ingest.h"
#include "hub/resend.h"
#include "hub/session.h"
#include "hub/store_pg.h"
#include "hub/thresholds.h"
#include "hub/verify.h"
#include "hub/view.h"
#include "hub/watch.h"
#include "mqtt/telemetry.h"
#include "tun/uapi_path.h"

enum {
	EXIT_USAGE = 2,
	SEED_LOGS_MAX = 16,
};

struct options {
	const char *broker, *username, *password_file, *client_id;
	const char *prefix, *log, *reject_log, *share;
	const char *checkpoints, *key;	/* NULL: beside the log */
	double checkpoint_interval;	/* seconds */
	const char *db;			/* NULL: named after the log */
	const char *pg;			/* libpq conninfo, NULL: none */
	const char *plant;		/* NULL: the host's name */
	char plant_default[256];
	bool no_db, rebuild;
	int retain_days;		/* 0: keep everything */
	int port;
	enum histlog_fsync fsync;
	double fsync_interval;		/* seconds, for INTERVAL */
	double duration;		/* 0: run until a signal */
	int zoneless_offset_min;	/* of timestamp strings without a zone */
	bool color;
	const char *seed_logs[SEED_LOGS_MAX];
	int nseed_logs;
	struct alarms_config alarms;	/* thresholds and times */
	const char *interface;		/* NULL: no peers watched */
	const char *alarm_hook;		/* NULL: none */
};

struct historian {
	struct options opt;
	struct ev_loop *loop;
	struct view view;
	struct dedup_table *dedup;
	struct ingest ingest;
	struct resend resend;
	struct session session;
	struct audit audit;
	struct watch watch;
	struct hook hook;
	ev_timer duration;
	ev_signal sigterm, sigint, sighup;
	char *reject_default;		/* heap copy of the default path */
	char *checkpoints_default, *key_default;	/* likewise */
	char *db_default;
};

/* ------------------------------------------------------------ options */

static void usage(FILE *f)
{
	fprintf(f,
"usage: wgu-historian [options]\n"
"       wgu-historian keygen DIR          (the checkpoint signing key)\n"
"       wgu-historian verify [options] LOG...  (wgu-historian verify --help)\n"
"  --broker HOST          broker address (10.0.0.1)\n"
"  --port N               broker port (1883)\n"
"  --username U           MQTT user (historian)\n"
"  --password-file FILE   first line is the password (none: no password)\n"
"  --client-id ID         fixed id of the persistent session (wgu-historian)\n"
"  --topic-prefix P       topics are P/NODE/telemetry, P/NODE/event and\n"
"                         P/NODE/cmd\n"
"                         (" TELEMETRY_DEFAULT_PREFIX ")\n"
"  --log PATH             production log (industrial_production.log)\n"
"  --reject-log PATH      rejected payloads (LOG with .rejects.log)\n"
"  --checkpoints PATH     signed checkpoints (LOG with .checkpoints)\n"
"  --key PATH             their signing key (" CHECKPOINT_KEY_NAME " beside the log;\n"
"                         when that is missing: no checkpoints, said once)\n"
"  --checkpoint-interval SECONDS  a checkpoint this often while the log\n"
"                         grows, and at start, reopen and exit (60)\n"
"  --fsync MS|always|never  group commit every MS ms (100), every line, or\n"
"                         leave it to the kernel\n"
"  --seed-log PATH        an older (rotated) log, only read: its readings\n"
"                         count as logged (repeatable, up to 16, oldest\n"
"                         first)\n"
"  --db PATH              the store, a SQLite database derived from the\n"
"                         log (LOG with .db: industrial_production.db)\n"
"  --no-db                keep no store\n"
"  --rebuild              make the store anew from the seed logs and the\n"
"                         log, then exit (the logs are only read); with\n"
"                         --pg also this plant's rows in PostgreSQL\n"
"  --retain DAYS          delete readings older than DAYS (device time)\n"
"                         from the store, hourly; the log keeps them\n"
"  --pg CONNINFO          also into PostgreSQL (libpq's conninfo, e.g.\n"
"                         'host=db.example dbname=wgu user=historian'),\n"
"                         from the log by a thread of its own: while the\n"
"                         server is down the log goes on, and PostgreSQL\n"
"                         is caught up from it when it is back; --retain\n"
"                         drops its whole months older than DAYS\n"
"  --plant NAME           this hub's plant in PostgreSQL ([A-Za-z0-9._-],\n"
"                         up to 64; default: the host's name)\n"
"  --share GROUP          subscribe as one member of the MQTT 5 shared\n"
"                         subscription $share/GROUP/...: each member (its\n"
"                         own --client-id) logs its share in a session kept\n"
"                         by the broker while it is down; duplicates are\n"
"                         still dropped, gaps are neither reported nor\n"
"                         asked for\n"
"  --duration SECONDS     stop after this long (for tests)\n"
"  --color auto|always|never  highlight warning and critical (auto: tty)\n"
"  --zoneless-offset OFF  a timestamp string without a zone is at this UTC\n"
"                         offset (Z, +01:00, -0500; default Z)\n"
"Alarms (kept in the store's alarms table, published on P/alarms; the\n"
"SQLite store only: with --no-db, even with --pg, they are kept in\n"
"memory and published, not stored):\n"
"  --thresholds FILE      lines 'field warning critical [above|below]'\n"
"                         (default: wgu-sim's p 8 9.5, t 80 95, v 4.5 7.1)\n"
"  --alarm-clear-after SECONDS  a field alarm clears after this long\n"
"                         normal (30)\n"
"  --alarm-silent-after SECONDS  a node without a reading this long (30)\n"
"  --alarm-gap-after SECONDS  a gap still open this long (60)\n"
"  --interface IFACE      watch the WireGuard peers of IFACE: a latest\n"
"                         handshake older than 180 s, or none (its\n"
"                         read-only monitor socket, /var/run/wgu-monitor/\n"
"                         IFACE.sock: the historian keeps group\n"
"                         wgu-monitor)\n"
"  --alarm-hook PROGRAM   run PROGRAM (no arguments, no shell) on every\n"
"                         raise and clear, the alarm in WGU_ALARM_ID,\n"
"                         _EVENT, _NODE, _KIND, _FIELD, _SEVERITY, _START,\n"
"                         _END, _PEAK, _DETAIL (its environment only)\n"
"A node's source-down event (wgu-modbus) raises an alarm, cleared by its\n"
"source-up or its next reading.\n"
"Readings with boot_id and seq are logged exactly once (gaps are asked\n"
"for again); readings without them at least once, a redelivery of the same\n"
"node, timestamp and content within 10 minutes (and the node's last 256\n"
"readings) dropped.\n"
"The store is never ahead of the log: at every start it catches up from\n"
"where it stopped, and an unreadable one is moved aside and rebuilt.\n"
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

/* --pg's conninfo must parse and the plant be a name: said now, in one
 * line, rather than by the thread that connects later. */
static void parse_pg(struct options *o)
{
	char err[256];

	if (o->pg == NULL) {
		if (o->plant)
			bad_option("--plant: only with --pg");
		return;
	}
	if (!store_pg_conninfo_ok(o->pg, err, sizeof(err)))
		bad_option("--pg: not a PostgreSQL conninfo: %s", err);
	if (o->plant == NULL) {
		if (gethostname(o->plant_default, sizeof(o->plant_default) - 1)
		    != 0)
			snprintf(o->plant_default, sizeof(o->plant_default),
			    "hub");
		o->plant = o->plant_default;
	}
	if (!store_pg_plant_ok(o->plant))
		bad_option("--plant: '%s' must be 1 to %d of A-Z a-z 0-9 . _ -%s",
		    o->plant, STORE_PG_PLANT_MAX, o->plant == o->plant_default ?
		    " (the default is the host's name: give --plant)" : "");
}

static void parse_options(struct options *o, int argc, char **argv)
{
	enum { OPT_BROKER = 256, OPT_PORT, OPT_USER, OPT_PWFILE, OPT_ID,
		OPT_PREFIX, OPT_LOG, OPT_REJECT, OPT_FSYNC, OPT_SHARE,
		OPT_DURATION, OPT_COLOR, OPT_SEED, OPT_ZONELESS,
		OPT_CHECKPOINTS, OPT_KEY, OPT_CP_INTERVAL, OPT_DB, OPT_NO_DB,
		OPT_REBUILD, OPT_RETAIN, OPT_PG, OPT_PLANT, OPT_THRESHOLDS,
		OPT_CLEAR_AFTER, OPT_SILENT_AFTER, OPT_GAP_AFTER, OPT_INTERFACE,
		OPT_HOOK };
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
		{ "zoneless-offset", required_argument, NULL, OPT_ZONELESS },
		{ "checkpoints", required_argument, NULL, OPT_CHECKPOINTS },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "checkpoint-interval", required_argument, NULL,
		    OPT_CP_INTERVAL },
		{ "db", required_argument, NULL, OPT_DB },
		{ "no-db", no_argument, NULL, OPT_NO_DB },
		{ "rebuild", no_argument, NULL, OPT_REBUILD },
		{ "retain", required_argument, NULL, OPT_RETAIN },
		{ "pg", required_argument, NULL, OPT_PG },
		{ "plant", required_argument, NULL, OPT_PLANT },
		{ "thresholds", required_argument, NULL, OPT_THRESHOLDS },
		{ "alarm-clear-after", required_argument, NULL,
		    OPT_CLEAR_AFTER },
		{ "alarm-silent-after", required_argument, NULL,
		    OPT_SILENT_AFTER },
		{ "alarm-gap-after", required_argument, NULL, OPT_GAP_AFTER },
		{ "interface", required_argument, NULL, OPT_INTERFACE },
		{ "alarm-hook", required_argument, NULL, OPT_HOOK },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *color = "auto", *thresholds = NULL;
	char err[THRESHOLDS_ERR_SIZE];
	int c;

	*o = (struct options){
		.broker = "10.0.0.1", .port = 1883, .username = "historian",
		.client_id = "wgu-historian",
		.prefix = TELEMETRY_DEFAULT_PREFIX,
		.log = "industrial_production.log",
		.fsync = HISTLOG_FSYNC_INTERVAL, .fsync_interval = 0.1,
		.checkpoint_interval = 60,
	};
	alarms_config_default(&o->alarms);
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
		case OPT_CHECKPOINTS: o->checkpoints = optarg; break;
		case OPT_KEY: o->key = optarg; break;
		case OPT_CP_INTERVAL:
			o->checkpoint_interval = (double)parse_long(
			    "--checkpoint-interval", optarg, 1, 86400);
			break;
		case OPT_DB: o->db = optarg; break;
		case OPT_NO_DB: o->no_db = true; break;
		case OPT_REBUILD: o->rebuild = true; break;
		case OPT_RETAIN:
			o->retain_days = (int)parse_long("--retain", optarg, 1,
			    100000);
			break;
		case OPT_PG: o->pg = optarg; break;
		case OPT_PLANT: o->plant = optarg; break;
		case OPT_THRESHOLDS: thresholds = optarg; break;
		case OPT_CLEAR_AFTER:
			o->alarms.clear_after_ms = 1000 * parse_long(
			    "--alarm-clear-after", optarg, 0, 86400);
			break;
		case OPT_SILENT_AFTER:
			o->alarms.silent_after_ms = 1000 * parse_long(
			    "--alarm-silent-after", optarg, 1, 86400 * 30);
			break;
		case OPT_GAP_AFTER:
			o->alarms.gap_after_ms = 1000 * parse_long(
			    "--alarm-gap-after", optarg, 0, 86400 * 30);
			break;
		case OPT_INTERFACE: o->interface = optarg; break;
		case OPT_HOOK: o->alarm_hook = optarg; break;
		case OPT_ZONELESS:
			if (telemetry_offset_parse(optarg,
			    &o->zoneless_offset_min) < 0)
				bad_option("--zoneless-offset: '%s' is not an "
				    "offset like Z, +01:00 or -0500", optarg);
			break;
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
	if ((o->checkpoints && *o->checkpoints == '\0') ||
	    (o->key && *o->key == '\0'))
		bad_option("--checkpoints or --key: empty path");
	if (o->db && *o->db == '\0')
		bad_option("--db: empty path");
	if (thresholds && thresholds_load(thresholds, &o->alarms, err) < 0)
		bad_option("--thresholds: %s", err);
	if (o->interface && (strlen(o->interface) > 15 ||
	    !topic_level_ok(o->interface) || strspn(o->interface,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") != strlen(o->interface)))
		bad_option("--interface: '%s' is not an interface name",
		    o->interface);
	if (o->alarm_hook && o->alarm_hook[0] != '/')
		bad_option("--alarm-hook: '%s' must be an absolute path (it is "
		    "run without a shell)", o->alarm_hook);
	if (o->no_db && (o->db || ((o->rebuild || o->retain_days) && !o->pg)))
		bad_option("--no-db: no --db, --rebuild or --retain with it");
	parse_pg(o);
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

/* A path named after the log: LOG without ".log" and with ext, or LOG
 * with alt when it has no ".log". */
static char *beside_log(const char *log, const char *ext, const char *alt)
{
	size_t len = strlen(log);
	char *p;

	if (len > 4 && strcmp(log + len - 4, ".log") == 0) {
		if (asprintf(&p, "%.*s%s", (int)(len - 4), log, ext) < 0)
			return NULL;
	} else if (asprintf(&p, "%s%s", log, alt) < 0) {
		return NULL;
	}
	return p;
}

/* Made by root before the drop: the store's files go to the historian's
 * user, who writes them from then on (SQLite gives its -wal and -shm
 * files the database's owner). */
static void chown_store(const char *db)
{
	static const char *const ext[] = { "", "-wal", "-shm" };
	char err[256], name[4096];
	uint32_t uid, gid;
	size_t i;

	if (geteuid() != 0 || !sandbox_user_lookup(&sandbox_historian_policy,
	    &uid, &gid, err, sizeof(err)) || uid == 0)
		return;
	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(name, sizeof(name), "%s%s", db, ext[i]);
		if (lchown(name, uid, gid) != 0 && errno != ENOENT)
			view_warn("chown %s: %s", name, strerror(errno));
	}
}

/* ------------------------------------------------------------ wiring */

static void on_message(void *ctx, const char *topic, const void *payload,
    size_t len)
{
	struct historian *h = ctx;

	ingest_message(&h->ingest, topic, payload, len);
}

static void on_connected(void *ctx)
{
	struct historian *h = ctx;

	/* Gaps found in the log at start or while disconnected. */
	resend_report_soon(&h->resend);
	watch_connected(&h->watch);
}

static int publish_command(void *ctx, const char *topic, const char *payload,
    size_t len)
{
	struct historian *h = ctx;

	return session_publish(&h->session, topic, payload, len);
}

static const struct session_ops session_ops = {
	.message = on_message,
	.connected = on_connected,
};

static void on_stop(struct ev_loop *loop, ev_timer *w, int revents)
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

	/* The old file's last state first: the new file chains from it. */
	audit_rotate(&h->audit);
	ingest_reopen(&h->ingest);
}

static void start_signals(struct historian *h)
{
	ev_timer_init(&h->duration, on_stop, h->opt.duration, 0);
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

static void summary(const struct historian *h)
{
	struct view_totals t;

	ingest_totals(&h->ingest, &t);
	resend_totals(&h->resend, &t);
	view_summary(&h->view, &t, h->dedup, h->ingest.recent, h->opt.share);
}

static void wipe_password(char **password)
{
	if (*password) {
		explicit_bzero(*password, strlen(*password));
		free(*password);
		*password = NULL;
	}
}

int main(int argc, char **argv)
{
	static struct historian h;
	struct ingest_config ic;
	struct audit_config ac;
	struct session_config sc;
	struct watch_config wc;
	struct sandbox_policy policy;
	char *password = NULL, topic[SESSION_TOPIC_MAX];
	int ret, status = 1;

	sandbox_close_inherited();	/* sandbox: before anything opens */
	if (argc > 1 && strcmp(argv[1], "verify") == 0)
		return verify_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "keygen") == 0)
		return audit_keygen_main(argc - 1, argv + 1);
	parse_options(&h.opt, argc, argv);
	/* The hook's spawner first: it must hold nothing (hook.h). */
	if (hook_init(&h.hook, h.opt.rebuild ? NULL : h.opt.alarm_hook,
	    &sandbox_historian_policy) < 0)
		return 1;
	if (h.opt.password_file)
		password = read_password(h.opt.password_file);
	if (h.opt.reject_log == NULL) {
		h.reject_default = beside_log(h.opt.log, ".rejects.log",
		    ".rejects");
		if (h.reject_default == NULL)
			return 1;
		h.opt.reject_log = h.reject_default;
	}
	ac = (struct audit_config){ .checkpoints = h.opt.checkpoints,
	    .key = h.opt.key, .key_required = h.opt.key != NULL,
	    .interval = h.opt.checkpoint_interval };
	if (ac.checkpoints == NULL)
		ac.checkpoints = h.checkpoints_default =
		    verify_checkpoints_path(h.opt.log);
	if (ac.key == NULL)
		ac.key = h.key_default = checkpoint_path_beside(h.opt.log,
		    CHECKPOINT_KEY_NAME);
	if (ac.checkpoints == NULL || ac.key == NULL)
		return 1;
	if (h.opt.db == NULL && !h.opt.no_db) {
		h.db_default = beside_log(h.opt.log, ".db", ".db");
		if (h.db_default == NULL)
			return 1;
		h.opt.db = h.db_default;
	}
	if (session_subscription(topic, sizeof(topic), h.opt.prefix,
	    h.opt.share, "telemetry") < 0)
		bad_option("--topic-prefix or --share too long");
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	h.loop = EV_DEFAULT;
	view_init(&h.view, h.opt.color);
	h.dedup = dedup_new(1);	/* telemetry.h: seq starts at 1 per boot */
	if (h.dedup == NULL)
		goto out;
	resend_init(&h.resend, h.loop, h.dedup, &h.view, h.opt.prefix,
	    h.opt.share != NULL, publish_command, &h);
	ic = (struct ingest_config){
		.log = h.opt.log, .reject_log = h.opt.reject_log,
		.fsync = h.opt.fsync, .fsync_interval = h.opt.fsync_interval,
		.seed_logs = h.opt.seed_logs, .nseed_logs = h.opt.nseed_logs,
		.zoneless_offset_min = h.opt.zoneless_offset_min,
		.window = { RECENT_DEFAULT_NODES, RECENT_DEFAULT_PER_NODE,
		    RECENT_DEFAULT_AGE_MS },
		.db = h.opt.db, .retain_days = h.opt.retain_days,
		.pg = h.opt.pg, .plant = h.opt.plant,
		.observer = &h.watch.observer,
	};
	wc = (struct watch_config){ .alarms = h.opt.alarms,
	    .interface = h.opt.interface, .prefix = h.opt.prefix,
	    .gaps = h.opt.share == NULL };
	watch_prepare(&h.watch, &wc, &h.hook, &h.view, publish_command, &h);
	if (h.opt.rebuild) {
		status = ingest_rebuild(&ic) < 0 ? 1 : 0;
		if (status == 0 && h.opt.db)
			chown_store(h.opt.db);
		goto out;
	}
	if (ingest_init(&h.ingest, h.loop, &ic, h.dedup, &h.resend,
	    &h.view) < 0)
		goto out_ingest;
	if (audit_init(&h.audit, h.loop, &ac, ingest_log(&h.ingest)) < 0)
		goto out_audit;
	watch_init(&h.watch, h.loop, &h.ingest, h.dedup);
	if (h.opt.db)
		chown_store(h.opt.db);
	mosquitto_lib_init();
	sc = (struct session_config){
		.broker = h.opt.broker, .port = h.opt.port,
		.username = h.opt.username, .client_id = h.opt.client_id,
		.prefix = h.opt.prefix, .share = h.opt.share,
	};
	ret = session_init(&h.session, h.loop, &sc, password, &h.view,
	    &session_ops, &h);
	wipe_password(&password);
	if (ret == 0)
		ret = session_start(&h.session);
	if (ret < 0) {
		view_warn("cannot start MQTT client: %s", strerror(-ret));
		goto out_session;
	}
	/* sandbox: user wgu-historian, no capabilities, the seccomp filter;
	 * after the first connection, which loads the name service modules */
	policy = sandbox_historian_policy;
	if (h.opt.interface)
		/* the monitor socket, root:wgu-monitor 0660 */
		policy.extra_group = WG_UAPI_MONITOR_GROUP;
	if (sandbox_drop(&policy) < 0)
		goto out_session;
	ingest_start(&h.ingest);
	watch_start(&h.watch);
	hook_start(&h.hook, h.loop);
	audit_start(&h.audit);
	resend_start(&h.resend);
	start_signals(&h);
	ev_run(h.loop, 0);
	status = 0;
	resend_stop(&h.resend);
	session_stop(&h.session);
out_session:
	session_clear(&h.session);
	mosquitto_lib_cleanup();
out_audit:
	watch_stop(&h.watch);
	audit_stop(&h.audit);
out_ingest:
	summary(&h);
	ingest_stop(&h.ingest);
out:
	hook_stop(&h.hook);
	wipe_password(&password);
	dedup_free(h.dedup);
	free(h.reject_default);
	free(h.checkpoints_default);
	free(h.key_default);
	free(h.db_default);
	return status;
}
