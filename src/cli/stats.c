/* `wgu stats IFNAME`: the daemon's drop counters, one "name=value" line
 * each, as the daemon names them (its "stats=1" UAPI operation).
 * `wgu stats --prometheus IFNAME`: those and the peers' handshakes and
 * transfer (get=1) in Prometheus' text format (promtext.h).  Exit status
 * 1 when the daemon cannot be asked or answers an error; nothing is
 * printed then. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/ipc.h"
#include "cli/promtext.h"
#include "cli/subcommands.h"
#include "tun/tun.h"
#include "tun/uapi_path.h"

/* The counters fit many times over; a longer answer is not one. */
enum { STATS_REPLY_MAX = 4096 };

/* Prints every line of the answer but its errno line, up to the blank
 * line. */
static void print_counters(char *reply)
{
	char *line, *next;

	for (line = reply; *line != '\0' && *line != '\n'; line = next) {
		next = strchr(line, '\n');
		*next++ = '\0';
		if (strncmp(line, "errno=", 6) != 0)
			printf("%s\n", line);
	}
}

/* Asks IFNAME's daemon req; 0, or 1 after saying why on stderr. */
static int ask(const char *ifname, const char *req, const char *what,
    size_t max, struct wg_buf *reply)
{
	char path[WG_UAPI_PATH_SIZE];
	int ret, err;

	ret = wg_ipc_exchange(ifname, req, reply);
	if (ret == 0 && max != 0 && reply->len >= max)
		ret = -EMSGSIZE;
	if (ret < 0) {
		wg_uapi_socket_path(path, sizeof(path), ifname);
		fprintf(stderr, "wgu: cannot read the %s of %s from %s: %s"
		    "%.*s\n", what, ifname, path, ret == -EPROTO ? "the daemon "
		    "does not answer " : strerror(-ret),
		    ret == -EPROTO ? (int)strcspn(req, "\n") : 0, req);
		return 1;
	}
	err = wg_ipc_errno(reply->s);
	if (err != 0) {
		fprintf(stderr, "wgu: %s of %s: %s\n", what, ifname,
		    err == -EPROTO ? "no errno line" : strerror(-err));
		return 1;
	}
	return 0;
}

static int prometheus(const char *ifname)
{
	struct wg_buf get = { 0 }, stats = { 0 }, out = { 0 };
	struct timespec now;
	int ret;

	ret = ask(ifname, "get=1\n\n", "peers", 0, &get);
	if (ret == 0)
		ret = ask(ifname, "stats=1\n\n", "counters", STATS_REPLY_MAX,
		    &stats);
	if (ret == 0) {
		clock_gettime(CLOCK_REALTIME, &now);
		wg_promtext_format(&out, ifname, get.s, stats.s,
		    (uint64_t)now.tv_sec * 1000000000u +
		    (uint64_t)now.tv_nsec);
		if (out.failed) {
			fprintf(stderr, "wgu: %s: out of memory\n", ifname);
			ret = 1;
		} else if (fputs(out.s, stdout) == EOF || fflush(stdout) != 0) {
			fprintf(stderr, "wgu: writing the metrics: %s\n",
			    strerror(errno));
			ret = 1;
		}
	}
	wg_buf_free(&get);	/* it held the private key */
	wg_buf_free(&stats);
	wg_buf_free(&out);
	return ret;
}

int stats_main(int argc, char **argv)
{
	struct wg_buf reply = { 0 };
	bool prom = argc == 3 && strcmp(argv[1], "--prometheus") == 0;
	const char *ifname = argv[argc - 1], *why;
	int ret;

	if ((argc != 2 && !prom) || ifname[0] == '-')
		return wg_usage_error();
	if (wg_tun_check_name(ifname, &why) < 0) {
		fprintf(stderr, "wgu: invalid interface name \"%s\": %s\n",
		    ifname, why);
		return 1;
	}
	if (prom)
		return prometheus(ifname);
	ret = ask(ifname, "stats=1\n\n", "counters", STATS_REPLY_MAX,
	    &reply);
	if (ret == 0)
		print_counters(reply.s);
	wg_buf_free(&reply);
	return ret;
}
