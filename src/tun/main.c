/* wgu's command line: a small dispatcher.
 *
 *	wgu [-f|--foreground] IFNAME	the daemon (as wireguard-go)
 *	wgu genkey|genpsk|pubkey	key tools (as wg)
 *	wgu up|down|show|strip ...	wg-quick (quick.h)
 *	wgu stats IFNAME		the daemon's drop counters
 *	wgu --version | --help
 *
 * WG_PROCESS_FOREGROUND=1 in the environment means -f, as for
 * wireguard-go (wg-quick and init systems set it). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cmd_keys.h"
#include "daemon.h"
#include "quick.h"
#include "tun.h"
#include "uapi.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static void usage(FILE *f)
{
	fprintf(f, "Usage: wgu [-f/--foreground] INTERFACE-NAME\n"
	    "       wgu genkey | genpsk | pubkey\n"
	    "       wgu up | down [ CONFIG_FILE | INTERFACE ]\n"
	    "       wgu show [ INTERFACE ] | strip [ CONFIG_FILE | INTERFACE ]\n"
	    "       wgu stats INTERFACE\n"
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
	    "Environment: WG_PROCESS_FOREGROUND=1 is -f; LOG_LEVEL is error\n"
	    "(default), verbose, debug or silent.\n");
	return 0;
}

static int bad_usage(void)
{
	usage(stderr);
	return 1;
}

enum { STATS_REPLY_MAX = 4096 };

/* Asks the daemon's socket "stats=1" and reads the answer up to its blank
 * line into reply (NUL-terminated).  Returns 0 or a negative errno. */
static int stats_request(const char *ifname, char *reply, size_t cap)
{
	static const char req[] = "stats=1\n\n";
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len = 0;
	ssize_t n;
	int fd, ret = 0;

	reply[0] = '\0';
	n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s.sock",
	    WG_UAPI_SOCKET_DIR, ifname);
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		ret = -errno;
		goto out;
	}
	/* Nine bytes on a fresh stream socket: all or an error. */
	n = send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL);
	if (n != (ssize_t)sizeof(req) - 1) {
		ret = n < 0 ? -errno : -EIO;
		goto out;
	}
	while (strstr(reply, "\n\n") == NULL) {
		if (len + 1 >= cap) {
			ret = -EMSGSIZE;
			goto out;
		}
		n = read(fd, reply + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* An older daemon closes on an unknown operation. */
			ret = n < 0 ? -errno : -EPROTO;
			goto out;
		}
		len += (size_t)n;
		reply[len] = '\0';
	}
out:
	close(fd);
	return ret;
}

/* wgu stats IFNAME: the counters one per line as the daemon names them;
 * exit status 1 when the daemon cannot be asked. */
static int cmd_stats(int argc, char **argv)
{
	char reply[STATS_REPLY_MAX], *line, *next;
	const char *why;
	int ret, err = -EPROTO;

	if (argc != 2)
		return bad_usage();
	if (wg_tun_check_name(argv[1], &why) < 0) {
		fprintf(stderr, "wgu: invalid interface name \"%s\": %s\n",
		    argv[1], why);
		return 1;
	}
	ret = stats_request(argv[1], reply, sizeof(reply));
	if (ret < 0) {
		fprintf(stderr, "wgu: cannot read the counters of %s from "
		    "%s/%s.sock: %s\n", argv[1], WG_UAPI_SOCKET_DIR, argv[1],
		    ret == -EPROTO ? "the daemon does not answer stats=1" :
		    strerror(-ret));
		return 1;
	}
	for (line = reply; *line != '\0' && *line != '\n'; line = next) {
		next = strchr(line, '\n');
		*next++ = '\0';
		if (strncmp(line, "errno=", 6) == 0)
			err = atoi(line + 6);
		else
			printf("%s\n", line);
	}
	if (err != 0) {
		fprintf(stderr, "wgu: stats of %s: %s\n", argv[1],
		    err == -EPROTO ? "no errno line" : strerror(-err));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *why, *env;
	bool foreground = false;
	int i;

	if (argc >= 2) {
		if (strcmp(argv[1], "genkey") == 0)
			return wg_cmd_genkey(argc - 1, argv + 1);
		if (strcmp(argv[1], "genpsk") == 0)
			return wg_cmd_genpsk(argc - 1, argv + 1);
		if (strcmp(argv[1], "pubkey") == 0)
			return wg_cmd_pubkey(argc - 1, argv + 1);
		if (strcmp(argv[1], "up") == 0)
			return wg_quick_up(argc - 1, argv + 1);
		if (strcmp(argv[1], "down") == 0)
			return wg_quick_down(argc - 1, argv + 1);
		if (strcmp(argv[1], "show") == 0)
			return wg_quick_show(argc - 1, argv + 1);
		if (strcmp(argv[1], "strip") == 0)
			return wg_quick_strip(argc - 1, argv + 1);
		if (strcmp(argv[1], "stats") == 0)
			return cmd_stats(argc - 1, argv + 1);
		if (argc == 2 && (strcmp(argv[1], "--version") == 0 ||
		    strcmp(argv[1], "-v") == 0)) {
			printf("wgu v%s\n", PACKAGE_VERSION);
			return 0;
		}
		if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0))
			return help();
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0 ||
		    strcmp(argv[i], "--foreground") == 0)
			foreground = true;
		else if (argv[i][0] == '-') {
			fprintf(stderr, "wgu: unknown option %s\n", argv[i]);
			return bad_usage();
		} else if (ifname != NULL)
			return bad_usage();
		else
			ifname = argv[i];
	}
	if (ifname == NULL)
		return bad_usage();
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
