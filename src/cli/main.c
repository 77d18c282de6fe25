/* wgu's command line: a small dispatcher to the subcommands
 * (subcommands.h) and to the daemon.
 *
 *	wgu [-f|--foreground] IFNAME	the daemon (as wireguard-go)
 *	wgu genkey|genpsk|pubkey	key tools (as wg)
 *	wgu up|down|show|strip ...	wg-quick
 *	wgu stats [--prometheus] IFNAME	the daemon's drop counters
 *	wgu --version | --help
 *
 * WG_PROCESS_FOREGROUND=1 in the environment means -f, as for
 * wireguard-go (wg-quick and init systems set it). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/subcommands.h"
#include "tun/daemon.h"
#include "tun/tun.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
} subcommands[] = {
	{ "genkey", genkey_main },
	{ "genpsk", genpsk_main },
	{ "pubkey", pubkey_main },
	{ "up", up_main },
	{ "down", down_main },
	{ "show", show_main },
	{ "strip", strip_main },
	{ "stats", stats_main },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: wgu [-f/--foreground] INTERFACE-NAME\n"
	    "       wgu genkey | genpsk | pubkey\n"
	    "       wgu up | down [ CONFIG_FILE | INTERFACE ]\n"
	    "       wgu show [ INTERFACE ] | strip [ CONFIG_FILE | INTERFACE ]\n"
	    "       wgu stats [ --prometheus ] INTERFACE\n"
	    "       wgu --version | --help\n");
}

static int help(void)
{
	usage(stdout);
	printf("\n"
	    "Creates the WireGuard interface INTERFACE-NAME in userspace (a TUN\n"
	    "device) and its configuration socket /var/run/wireguard/"
	    "INTERFACE-NAME.sock,\n"
	    "then configure it with wg(8) and ip(8).  Without -f the daemon\n"
	    "goes to the background once both exist.\n"
	    "\n"
	    "`wgu stats INTERFACE` prints the daemon's drop counters; with\n"
	    "--prometheus, those and the peers' latest handshakes and bytes in\n"
	    "Prometheus' text format, for node_exporter's textfile collector:\n"
	    "  wgu stats --prometheus wg0 >DIR/wgu.prom.$$ &&\n"
	    "      mv DIR/wgu.prom.$$ DIR/wgu.prom\n"
	    "\n"
	    "Environment: WG_PROCESS_FOREGROUND=1 is -f; LOG_LEVEL is error\n"
	    "(default), verbose, debug or silent.\n");
	return 0;
}

int wg_usage_error(void)
{
	usage(stderr);
	return 1;
}

/* wgu [-f|--foreground] IFNAME: the daemon's own arguments. */
static int daemon_main(int argc, char **argv)
{
	const char *ifname = NULL, *why, *env;
	bool foreground = false;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0 ||
		    strcmp(argv[i], "--foreground") == 0)
			foreground = true;
		else if (argv[i][0] == '-') {
			fprintf(stderr, "wgu: unknown option %s\n", argv[i]);
			return wg_usage_error();
		} else if (ifname != NULL)
			return wg_usage_error();
		else
			ifname = argv[i];
	}
	if (ifname == NULL)
		return wg_usage_error();
	if (wg_tun_check_name(ifname, &why) < 0) {
		fprintf(stderr, "wgu: invalid interface name \"%s\": %s\n",
		    ifname, why);
		return 1;
	}
	env = getenv("WG_PROCESS_FOREGROUND");
	if (env && strcmp(env, "1") == 0)
		foreground = true;
	return wg_daemon_main(ifname, foreground);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc >= 2) {
		for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]);
		    i++)
			if (strcmp(argv[1], subcommands[i].name) == 0)
				return subcommands[i].main(argc - 1, argv + 1);
		if (argc == 2 && (strcmp(argv[1], "--version") == 0 ||
		    strcmp(argv[1], "-v") == 0)) {
			printf("wgu v%s\n", PACKAGE_VERSION);
			return 0;
		}
		if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0))
			return help();
	}
	return daemon_main(argc, argv);
}
