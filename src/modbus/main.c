/* wgu-modbus: Modbus TCP devices polled into the telemetry pipeline, each
 * device an edge node of its own (edge/node.h: spool, QoS 1, resends)
 * whose source is its polls (source.h).  This file reads the options and
 * the configuration (config.h) and wires the sources. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <mosquitto.h>

#include "common/sandbox.h"
#include "edge/node.h"
#include "edge/password.h"
#include "modbus/config.h"
#include "modbus/source.h"

enum { EXIT_USAGE = 2 };

/* At a stop, seconds to wait for the last PUBACKs (a second signal ends
 * the wait); what is still unacknowledged stays in the spools. */
#define DRAIN_TIMEOUT 5.0

static void usage(FILE *f)
{
	fprintf(f,
"usage: wgu-modbus --config FILE [--check]\n"
"  --config FILE   the devices and the broker (wgu-modbus.conf(5))\n"
"  --check         check the configuration and the passwords, then exit\n");
}

struct program {
	struct mb_config cfg;
	struct node_config ncfg;
	struct mb_source *src;
	size_t nsrc;
	struct syncer *syncer;
	struct ev_loop *loop;
	ev_timer second, drain;
	ev_signal sigint, sigterm;
	bool draining;
};

static bool all_acked(const struct program *p)
{
	size_t i;

	for (i = 0; i < p->nsrc; i++)
		if (node_pending(&p->src[i].node) > 0)
			return false;
	return true;
}

static void drain_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

/* The first signal stops the polls and waits a while for the PUBACKs. */
static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct program *p = w->data;
	size_t i;

	if (p->draining || all_acked(p)) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	p->draining = true;
	for (i = 0; i < p->nsrc; i++)
		mb_source_stop_polling(&p->src[i]);
	ev_timer_start(loop, &p->drain);
}

static void second_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct program *p = w->data;
	size_t i;

	for (i = 0; i < p->nsrc; i++)
		mb_source_tick_second(&p->src[i]);
	if (p->draining && all_acked(p))
		ev_break(loop, EVBREAK_ALL);
}

/* Every device's password, or none when there is no password file. */
static int password_of(const struct mb_config *c, const char *id,
    char pw[static EDGE_PASSWORD_MAX])
{
	int ret;

	if (c->password_file[0] == '\0')
		return 0;
	ret = edge_password_read(c->password_file, id, false, pw);
	if (ret < 0)
		fprintf(stderr, "wgu-modbus: %s: password-file %s: %s\n", id,
		    c->password_file, ret == -ENOENT ?
		    "no line 'NODE:password' for this node" : strerror(-ret));
	return ret;
}

static int check_passwords(const struct mb_config *c)
{
	char pw[EDGE_PASSWORD_MAX];
	size_t i;
	int ret = 0;

	for (i = 0; i < c->ndevices && ret == 0; i++)
		ret = password_of(c, c->devices[i].id, pw);
	explicit_bzero(pw, sizeof(pw));
	return ret;
}

static int add_sources(struct program *p)
{
	char pw[EDGE_PASSWORD_MAX];
	int ret = 0;

	p->src = calloc(p->cfg.ndevices, sizeof(*p->src));
	if (p->src == NULL)
		return -ENOMEM;
	for (; p->nsrc < p->cfg.ndevices && ret == 0; p->nsrc++) {
		const struct mb_device *d = &p->cfg.devices[p->nsrc];

		if ((ret = password_of(&p->cfg, d->id, pw)) == 0)
			ret = mb_source_init(&p->src[p->nsrc], p->loop,
			    &p->ncfg, d, p->cfg.password_file[0] ? pw : NULL);
	}
	explicit_bzero(pw, sizeof(pw));
	return ret;
}

static int run(struct program *p)
{
	size_t i;
	int ret;

	/* sandbox: user wgu-modbus, no capabilities, the seccomp filter */
	if ((ret = sandbox_drop(&sandbox_modbus_policy)) < 0)
		return ret;
	/* A thread of its own for the spools' fdatasyncs, which would stall
	 * the polls; started under the sandbox, whose filter it inherits. */
	p->syncer = syncer_new(2 * p->nsrc + 16);
	if (p->syncer == NULL) {
		fprintf(stderr, "wgu-modbus: sync thread: %s\n", strerror(errno));
		return -errno;
	}
	p->ncfg.syncer = p->syncer;
	/* The devices' first polls spread over their intervals. */
	for (i = 0; i < p->nsrc; i++)
		if ((ret = mb_source_start(&p->src[i], p->src[i].dev->interval *
		    (double)i / (double)p->nsrc)) < 0)
			return ret;
	ev_timer_init(&p->second, second_cb, 1.0, 1.0);
	p->second.data = p;
	ev_timer_start(p->loop, &p->second);
	ev_timer_init(&p->drain, drain_cb, DRAIN_TIMEOUT, 0.0);
	ev_signal_init(&p->sigint, signal_cb, SIGINT);
	p->sigint.data = p;
	ev_signal_start(p->loop, &p->sigint);
	ev_signal_init(&p->sigterm, signal_cb, SIGTERM);
	p->sigterm.data = p;
	ev_signal_start(p->loop, &p->sigterm);
	ev_run(p->loop, 0);
	for (i = 0; i < p->nsrc; i++)
		mb_source_summary(&p->src[i]);
	fflush(stdout);
	return 0;
}

static const char *parse_options(int argc, char **argv, bool *check)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'k':
			*check = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			fprintf(stderr, "wgu-modbus: %s '%s' (see wgu-modbus "
			    "--help)\n", c == ':' ? "missing argument for" :
			    "unknown option", argv[optind - 1]);
			exit(EXIT_USAGE);
		}
	}
	if (config == NULL || optind < argc) {
		usage(stderr);
		exit(EXIT_USAGE);
	}
	return config;
}

int main(int argc, char **argv)
{
	static struct program p;
	char err[MBCONFIG_ERR_SIZE];
	const char *config;
	bool check = false;
	size_t i;
	int ret;

	sandbox_close_inherited();	/* sandbox: before anything opens */
	config = parse_options(argc, argv, &check);
	signal(SIGXFSZ, SIG_IGN);	/* the spool copes with EFBIG */
	if (mbconfig_parse_file(config, &p.cfg, err) < 0) {
		fprintf(stderr, "wgu-modbus: %s\n", err);
		return 1;
	}
	if (check_passwords(&p.cfg) < 0)
		return 1;
	if (check) {
		printf("%s: %zu devices\n", config, p.cfg.ndevices);
		mbconfig_free(&p.cfg);
		return 0;
	}
	/* sandbox: a new directory is given to user wgu-modbus */
	ret = sandbox_mkdir(&sandbox_modbus_policy, p.cfg.spool_dir, 0700);
	if (ret < 0 && ret != -EEXIST) {
		fprintf(stderr, "wgu-modbus: spool-dir %s: %s\n",
		    p.cfg.spool_dir, strerror(-ret));
		return 1;
	}
	mosquitto_lib_init();
	p.loop = EV_DEFAULT;
	p.ncfg = (struct node_config){
		.prog = "wgu-modbus", .policy = &sandbox_modbus_policy,
		.broker = p.cfg.broker, .port = p.cfg.port,
		.prefix = p.cfg.prefix, .spool_dir = p.cfg.spool_dir,
		.spool_max = p.cfg.spool_max, .events = true,
	};
	ret = add_sources(&p);
	if (ret == 0)
		ret = run(&p);
	for (i = 0; i < p.nsrc; i++)
		mb_source_stop(&p.src[i]);
	syncer_free(p.syncer);	/* its last syncs before the spools close */
	for (i = 0; i < p.nsrc; i++)
		mb_source_clear(&p.src[i]);
	free(p.src);
	mbconfig_free(&p.cfg);
	mosquitto_lib_cleanup();
	return ret == 0 ? 0 : 1;
}
