/* `wgu stats IFNAME`: the daemon's drop counters, one "name=value" line
 * each, as the daemon names them (its "stats=1" UAPI operation).  Exit
 * status 1 when the daemon cannot be asked or answers an error. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/ipc.h"
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

int stats_main(int argc, char **argv)
{
	struct wg_buf reply = { 0 };
	char path[WG_UAPI_PATH_SIZE];
	const char *why;
	int ret, err;

	if (argc != 2)
		return wg_usage_error();
	if (wg_tun_check_name(argv[1], &why) < 0) {
		fprintf(stderr, "wgu: invalid interface name \"%s\": %s\n",
		    argv[1], why);
		return 1;
	}
	ret = wg_ipc_exchange(argv[1], "stats=1\n\n", &reply);
	if (ret == 0 && reply.len >= STATS_REPLY_MAX)
		ret = -EMSGSIZE;
	if (ret < 0) {
		wg_uapi_socket_path(path, sizeof(path), argv[1]);
		fprintf(stderr, "wgu: cannot read the counters of %s from "
		    "%s: %s\n", argv[1], path,
		    ret == -EPROTO ? "the daemon does not answer stats=1" :
		    strerror(-ret));
		wg_buf_free(&reply);
		return 1;
	}
	err = wg_ipc_errno(reply.s);
	print_counters(reply.s);
	wg_buf_free(&reply);
	if (err != 0) {
		fprintf(stderr, "wgu: stats of %s: %s\n", argv[1],
		    err == -EPROTO ? "no errno line" : strerror(-err));
		return 1;
	}
	return 0;
}
