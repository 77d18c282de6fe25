/* wgu-dashboard: the operators' web view of the hub (pages, JSON API,
 * Server-Sent Events) and its Prometheus endpoint.  main() parses the
 * options and wires the modules: the data side (data.h: the store read
 * only, the acks file, the MQTT feed on libev's loop on this thread) and
 * the HTTP side (http.h: libmicrohttpd's own threads).
 *
 * Order at start: everything that needs root or paths the sandboxed user
 * may not reach (users file, TLS key, --static, the listening sockets,
 * the databases, the broker's password file) first; then the sandbox;
 * then the HTTP daemons, whose threads thus start inside it (a seccomp
 * filter binds the thread that loads it and those it creates after). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>

#include "common/sandbox.h"
#include "dashboard/data.h"
#include "dashboard/http.h"
#include "dashboard/uapi_relay.h"
#include "dashboard/users.h"

#ifndef DASHBOARD_STATIC_DIR
#define DASHBOARD_STATIC_DIR "/usr/local/share/wgu/dashboard"
#endif

#define KEEPALIVE_S 15.0

struct listen_addr {
	const char *spec;
	struct sockaddr_storage ss;
	socklen_t len;
	int family;
};

struct options {
	struct listen_addr main_addr, metrics_addr;
	const char *listen, *metrics_listen, *db, *acks, *users, *interface;
	const char *broker, *username, *password_file, *prefix;
	const char *static_dir, *chartjs, *tls_cert, *tls_key;
	int port;
	double silent_after, duration;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: wgu-dashboard [options]\n"
"       wgu-dashboard user add FILE NAME [--role viewer|operator]\n"
"       wgu-dashboard user del FILE NAME\n"
"  --listen ADDR:PORT     pages and API (127.0.0.1:8080); 0.0.0.0:PORT or\n"
"                         [::]:PORT only when given\n"
"  --metrics-listen ADDR:PORT  GET /metrics, no login (127.0.0.1:9108)\n"
"  --db PATH              the historian's store, opened read-only\n"
"                         (/var/lib/wgu-historian/industrial_production.db)\n"
"  --acks PATH            alarm acknowledgements, the only file written\n"
"                         (/var/lib/wgu-dashboard/acks.db)\n"
"  --users FILE           accounts (/etc/wgu/dashboard.users), made with\n"
"                         wgu-dashboard user add\n"
"  --interface IFACE      the hub's wgu interface, for the tunnel page\n"
"  --broker HOST          live readings and alarms from this broker (none:\n"
"                         history and the store's alarms only)\n"
"  --port N               broker port (1883)\n"
"  --username U           MQTT user (wgu-dashboard)\n"
"  --password-file FILE   its password on the first line\n"
"  --topic-prefix P       topics P/NODE/telemetry, P/alarms (%s)\n"
"  --static DIR           the web pages (" DASHBOARD_STATIC_DIR ")\n"
"  --chartjs FILE         Chart.js (/usr/share/javascript/chart.js/"
"chart.min.js)\n"
"  --tls-cert FILE --tls-key FILE  HTTPS with this PEM certificate and key\n"
"                         (the session cookie is then Secure)\n"
"  --silent-after SECONDS a node is shown silent after this (10)\n"
"  --duration SECONDS     stop after this long (for tests)\n"
"SIGTERM/SIGINT stop it.  See wgu-dashboard(8).\n",
	    TELEMETRY_DEFAULT_PREFIX);
}

static void bad_option(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "wgu-dashboard: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(wgu-dashboard --help lists the options)\n");
	exit(2);
}

static double parse_seconds(const char *name, const char *s, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno || !(v > 0) || v > max)
		bad_option("%s: '%s' is not a number of seconds above 0 and "
		    "at most %.0f", name, s, max);
	return v;
}

static void parse_listen(const char *opt, const char *spec,
    struct listen_addr *a);

static void parse_options(struct options *o, int argc, char **argv)
{
	enum { OPT_LISTEN = 256, OPT_METRICS, OPT_DB, OPT_ACKS, OPT_USERS,
		OPT_IFACE, OPT_BROKER, OPT_PORT, OPT_USER, OPT_PWFILE,
		OPT_PREFIX, OPT_STATIC, OPT_CHARTJS, OPT_CERT, OPT_KEY,
		OPT_SILENT, OPT_DURATION };
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "metrics-listen", required_argument, NULL, OPT_METRICS },
		{ "db", required_argument, NULL, OPT_DB },
		{ "acks", required_argument, NULL, OPT_ACKS },
		{ "users", required_argument, NULL, OPT_USERS },
		{ "interface", required_argument, NULL, OPT_IFACE },
		{ "broker", required_argument, NULL, OPT_BROKER },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "username", required_argument, NULL, OPT_USER },
		{ "password-file", required_argument, NULL, OPT_PWFILE },
		{ "topic-prefix", required_argument, NULL, OPT_PREFIX },
		{ "static", required_argument, NULL, OPT_STATIC },
		{ "chartjs", required_argument, NULL, OPT_CHARTJS },
		{ "tls-cert", required_argument, NULL, OPT_CERT },
		{ "tls-key", required_argument, NULL, OPT_KEY },
		{ "silent-after", required_argument, NULL, OPT_SILENT },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long v;
	int c;

	*o = (struct options){
		.listen = "127.0.0.1:8080", .metrics_listen = "127.0.0.1:9108",
		.db = "/var/lib/wgu-historian/industrial_production.db",
		.acks = "/var/lib/wgu-dashboard/acks.db",
		.users = "/etc/wgu/dashboard.users",
		.username = "wgu-dashboard", .port = 1883,
		.static_dir = DASHBOARD_STATIC_DIR,
		.chartjs = "/usr/share/javascript/chart.js/chart.min.js",
	};
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_LISTEN: o->listen = optarg; break;
		case OPT_METRICS: o->metrics_listen = optarg; break;
		case OPT_DB: o->db = optarg; break;
		case OPT_ACKS: o->acks = optarg; break;
		case OPT_USERS: o->users = optarg; break;
		case OPT_IFACE: o->interface = optarg; break;
		case OPT_BROKER: o->broker = optarg; break;
		case OPT_PORT:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || errno || v < 1 ||
			    v > 65535)
				bad_option("--port: '%s' is not a port from 1 "
				    "to 65535", optarg);
			o->port = (int)v;
			break;
		case OPT_USER: o->username = optarg; break;
		case OPT_PWFILE: o->password_file = optarg; break;
		case OPT_PREFIX: o->prefix = optarg; break;
		case OPT_STATIC: o->static_dir = optarg; break;
		case OPT_CHARTJS: o->chartjs = optarg; break;
		case OPT_CERT: o->tls_cert = optarg; break;
		case OPT_KEY: o->tls_key = optarg; break;
		case OPT_SILENT:
			o->silent_after = parse_seconds("--silent-after",
			    optarg, 86400);
			break;
		case OPT_DURATION:
			o->duration = parse_seconds("--duration", optarg,
			    31536000);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			bad_option("%s needs a value", argv[optind - 1]);
			break;
		default:
			bad_option("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		bad_option("unexpected argument '%s'", argv[optind]);
	if ((o->tls_cert == NULL) != (o->tls_key == NULL))
		bad_option("--tls-cert and --tls-key go together");
	if (o->chartjs[0] != '/')
		bad_option("--chartjs: '%s' is not an absolute path",
		    o->chartjs);
	parse_listen("--listen", o->listen, &o->main_addr);
	parse_listen("--metrics-listen", o->metrics_listen, &o->metrics_addr);
}

/* ---------------------------------------------------------------- setup */

/* "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:8080" into a; a usage error
 * (exit 2) otherwise.  Numeric only: no name lookup decides where a
 * dashboard listens. */
static void parse_listen(const char *opt, const char *spec,
    struct listen_addr *a)
{
	char host[128], *colon;
	const char *port, *h = host;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE };
	struct addrinfo *ai;
	size_t n;

	a->spec = spec;
	if (strlen(spec) >= sizeof(host))
		goto bad;
	strcpy(host, spec);
	colon = strrchr(host, ':');
	if (colon == NULL || colon[1] == '\0')
		goto bad;
	*colon = '\0';
	port = colon + 1;
	n = strlen(host);
	if (host[0] == '[') {
		if (n < 3 || host[n - 1] != ']')
			goto bad;
		host[n - 1] = '\0';
		h = host + 1;
	} else if (n == 0 || strchr(host, ':')) {
		goto bad;		/* IPv6 needs its brackets */
	}
	if (strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 ||
	    atoi(port) < 1 || atoi(port) > 65535)
		goto bad;
	if (getaddrinfo(h, port, &hints, &ai) != 0)
		goto bad;
	memcpy(&a->ss, ai->ai_addr, ai->ai_addrlen);
	a->len = ai->ai_addrlen;
	a->family = ai->ai_family;
	freeaddrinfo(ai);
	return;
bad:
	bad_option("%s: '%s' is not ADDR:PORT (an IPv4 address, or an IPv6 "
	    "one in brackets, and a port from 1 to 65535)", opt, spec);
}

/* A listening TCP socket on a.  -1 with a message. */
static int listen_on(const char *opt, const struct listen_addr *a)
{
	int fd, one = 1;

	fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0 ||
	    listen(fd, 128) < 0) {
		fprintf(stderr, "wgu-dashboard: %s %s: %s\n", opt, a->spec,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* A whole PEM file as text (at most 1 MiB).  NULL with a message. */
static char *read_pem(const char *opt, const char *path)
{
	char *buf = NULL;
	FILE *f = fopen(path, "re");
	size_t n;
	long len;

	if (f == NULL) {
		fprintf(stderr, "wgu-dashboard: %s %s: %s\n", opt, path,
		    strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 &&
	    len <= (1 << 20) && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)len + 1)) != NULL) {
		n = fread(buf, 1, (size_t)len, f);
		buf[n] = '\0';
		if (n != (size_t)len || strstr(buf, "-----BEGIN ") == NULL) {
			explicit_bzero(buf, (size_t)len);
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	if (buf == NULL)
		fprintf(stderr, "wgu-dashboard: %s %s: not a PEM file of at "
		    "most 1 MiB\n", opt, path);
	return buf;
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* The sandbox: user wgu-dashboard (WGU_DASHBOARD_USER), no capabilities.
 * It writes only the acks database (SQLite: its journal beside it);
 * libmicrohttpd sends files with sendfile(2). */
static const char *const dashboard_syscalls[] = {
	"fsync", "fdatasync", "fallocate", "flock", "ftruncate", "unlink",
	"unlinkat", "sendfile", "sendfile64", NULL
};

static const struct sandbox_policy dashboard_policy = {
	.program = "wgu-dashboard",
	.user_env = "WGU_DASHBOARD_USER",
	.default_user = "wgu-dashboard",
	.keep_caps = 0,
	.syscalls = dashboard_syscalls,
	.write_opens = true,
	.netlink = true,	/* the broker's name: getaddrinfo */
};

/* ---------------------------------------------------------------- loop */

struct dashboard {
	struct ev_loop *loop;
	struct http_server *http;
	ev_signal sigterm, sigint;
	ev_timer keepalive, duration;
};

static void on_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

static void on_duration(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

static void on_keepalive(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct dashboard *db = w->data;

	http_keepalive(db->http);
}

static void run(struct dashboard *db, double duration)
{
	ev_signal_init(&db->sigterm, on_stop, SIGTERM);
	ev_signal_init(&db->sigint, on_stop, SIGINT);
	ev_signal_start(db->loop, &db->sigterm);
	ev_signal_start(db->loop, &db->sigint);
	ev_timer_init(&db->keepalive, on_keepalive, KEEPALIVE_S, KEEPALIVE_S);
	db->keepalive.data = db;
	ev_timer_start(db->loop, &db->keepalive);
	if (duration > 0) {
		ev_timer_init(&db->duration, on_duration, duration, 0);
		ev_timer_start(db->loop, &db->duration);
	}
	ev_run(db->loop, 0);
	ev_timer_stop(db->loop, &db->keepalive);
	ev_timer_stop(db->loop, &db->duration);
	ev_signal_stop(db->loop, &db->sigterm);
	ev_signal_stop(db->loop, &db->sigint);
}

int main(int argc, char **argv)
{
	static struct dashboard db;
	struct options o;
	struct users *users = NULL;
	struct dash_data *data = NULL;
	struct dash_data_config dc;
	struct http_config hc = { .listen_fd = -1, .metrics_fd = -1,
	    .static_fd = -1 };
	char *cert = NULL, *key = NULL, err[512], derr[DASH_ERR_MAX];
	int status = 1, ret;

	sandbox_close_inherited();	/* sandbox: before anything opens */
	if (argc > 1 && strcmp(argv[1], "user") == 0)
		return users_main(argc - 1, argv + 1);
	parse_options(&o, argc, argv);
	setvbuf(stderr, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	/* The tunnel page's relay to the root-only UAPI socket: forked
	 * before anything secret is read (uapi_relay.h). */
	if (o.interface && geteuid() == 0 &&
	    uapi_relay_start(o.interface, err, sizeof(err)) < 0) {
		fprintf(stderr, "wgu-dashboard: %s\n", err);
		return 1;
	}

	users = users_open(o.users, err, sizeof(err));
	if (users == NULL) {
		fprintf(stderr, "wgu-dashboard: --users: %s\n", err);
		goto out;
	}
	if (o.tls_cert && ((cert = read_pem("--tls-cert", o.tls_cert)) ==
	    NULL || (key = read_pem("--tls-key", o.tls_key)) == NULL))
		goto out;
	hc.static_fd = open(o.static_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (hc.static_fd < 0) {
		fprintf(stderr, "wgu-dashboard: --static %s: %s\n",
		    o.static_dir, strerror(errno));
		goto out;
	}
	if (access(o.chartjs, R_OK) != 0)
		fprintf(stderr, "wgu-dashboard: --chartjs %s: %s (the charts "
		    "will not draw; Debian package libjs-chart.js)\n",
		    o.chartjs, strerror(errno));
	hc.listen_fd = listen_on("--listen", &o.main_addr);
	if (hc.listen_fd < 0)
		goto out;
	hc.metrics_fd = listen_on("--metrics-listen", &o.metrics_addr);
	if (hc.metrics_fd < 0)
		goto out;

	/* The feed's hook needs the server: made before the data side. */
	db.http = http_new(users);
	if (db.http == NULL) {
		fprintf(stderr, "wgu-dashboard: out of memory\n");
		goto out;
	}
	dc = (struct dash_data_config){
		.db_path = o.db, .acks_path = o.acks,
		.interface = o.interface, .broker_host = o.broker,
		.broker_port = o.port, .username = o.username,
		.password_file = o.password_file, .topic_prefix = o.prefix,
		.silent_after_s = o.silent_after,
		.on_event = http_event, .event_arg = db.http,
	};
	data = dash_data_new(&dc, derr);
	if (data == NULL) {
		fprintf(stderr, "wgu-dashboard: %s\n", derr);
		goto out;
	}
	db.loop = EV_DEFAULT;
	if (dash_data_start(data, db.loop, derr) < 0) {
		fprintf(stderr, "wgu-dashboard: %s\n", derr);
		goto out;
	}
	if (sandbox_drop(&dashboard_policy) < 0)
		goto out;
	hc.chartjs = o.chartjs;
	hc.tls_cert = cert;
	hc.tls_key = key;
	hc.threads = 2;
	hc.data = data;
	ret = http_start(db.http, &hc, err, sizeof(err));
	hc.listen_fd = hc.metrics_fd = -1;	/* the server's now */
	if (ret < 0) {
		fprintf(stderr, "wgu-dashboard: %s\n", err);
		goto out;
	}
	wipe_free(key);
	key = NULL;
	fprintf(stderr, "wgu-dashboard: %s on %s, metrics on %s, %zu "
	    "accounts\n", cert ? "https" : "http", o.listen, o.metrics_listen,
	    users_count(users));
	run(&db, o.duration);
	status = 0;
	fprintf(stderr, "wgu-dashboard: stopping\n");
out:
	if (db.http)
		http_stop(db.http);
	dash_data_free(data);
	http_free(db.http);
	users_free(users);
	if (hc.listen_fd >= 0)
		close(hc.listen_fd);
	if (hc.metrics_fd >= 0)
		close(hc.metrics_fd);
	if (hc.static_fd >= 0)
		close(hc.static_fd);
	wipe_free(key);
	free(cert);
	uapi_relay_stop();
	return status;
}
