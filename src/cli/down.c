/* `wgu down IFNAME|CONFIG`: wg-quick's cmd_down (wireguard-tools'
 * src/wg-quick/linux.bash): PreDown, SaveConfig (saveconfig.c), the
 * interface deleted (the daemon stops with it), the rules of a default
 * route, DNS, the nftables tables, PostDown. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/daemonctl.h"
#include "cli/dns.h"
#include "cli/firewall.h"
#include "cli/ipc.h"
#include "cli/netlink.h"
#include "cli/routes.h"
#include "cli/run.h"
#include "cli/saveconfig.h"
#include "cli/subcommands.h"
#include "cli/target.h"

/* The interface's MTU now, or 0. */
static uint32_t link_mtu(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	if (fd < 0)
		return 0;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ret = ioctl(fd, SIOCGIFMTU, &ifr);
	close(fd);
	return ret < 0 || ifr.ifr_mtu <= 0 ? 0 : (uint32_t)ifr.ifr_mtu;
}

int down_main(int argc, char **argv)
{
	struct wg_config cfg = { 0 };
	struct wg_netlink nl = { .fd = -1 };
	struct wg_buf reply = { 0 };
	struct wg_config_prefix *addrs = NULL;
	struct wg_target t;
	const char *v;
	uint32_t fwmark = 0;
	size_t n_addrs = 0;
	pid_t pid;
	int ifindex, ret = 1;

	if (argc != 2) {
		fprintf(stderr, "Usage: wgu down [ CONFIG_FILE | INTERFACE ]\n");
		return 1;
	}
	if (wg_target_resolve(&t, argv[1]) < 0 || wg_target_load(&cfg, &t) < 0)
		goto out;
	ifindex = (int)if_nametoindex(t.ifname);
	if (ifindex == 0 || wg_ipc_call(t.ifname, "get=1\n\n", &reply) < 0) {
		fprintf(stderr, "wgu: `%s' is not a WireGuard interface\n",
		    t.ifname);
		goto out;
	}
	if ((v = wg_ipc_value(reply.s, "fwmark")) != NULL)
		fwmark = (uint32_t)strtoul(v, NULL, 10);
	if (wg_netlink_open(&nl) < 0) {
		fprintf(stderr, "wgu: rtnetlink: %s\n", strerror(errno));
		goto out;
	}
	if (wg_run_hooks(&cfg, WG_HOOK_PRE_DOWN, t.ifname) < 0)
		goto out;
	if (cfg.save_config) {
		wg_buf_free(&reply);
		/* Without them the saved file would lose its Address
		 * lines: better to keep the interface and say so. */
		if ((ret = wg_netlink_addr_list(&nl, ifindex, AF_UNSPEC, &addrs,
		    &n_addrs)) < 0) {
			fprintf(stderr, "wgu: reading the addresses of %s: "
			    "%s\n", t.ifname, strerror(-ret));
			ret = 1;
			goto out;
		}
		ret = 1;
		if (wg_ipc_call(t.ifname, "get=1\n\n", &reply) < 0 ||
		    wg_saveconfig_write(&cfg, &t, reply.s, addrs, n_addrs,
		    link_mtu(t.ifname)) < 0)
			goto out;
	}
	pid = wg_daemonctl_pid(t.ifname);
	wg_say("ip link delete dev %s", t.ifname);
	if ((ret = wg_netlink_link_delete(&nl, ifindex)) < 0) {
		fprintf(stderr, "wgu: deleting %s: %s\n", t.ifname,
		    strerror(-ret));
		ret = 1;
		goto out;
	}
	wg_daemonctl_wait_gone(t.ifname, pid);
	/* As wg-quick's del_if: the rules of a default route, found from
	 * the running fwmark and allowed IPs. */
	if (cfg.table_mode == WG_CONFIG_TABLE_AUTO && fwmark != 0 &&
	    strstr(reply.s, "/0\n") != NULL)
		wg_routes_del_rules(&nl, fwmark);
	wg_dns_unset(&cfg, t.ifname);
	wg_firewall_remove(t.ifname);
	ret = wg_run_hooks(&cfg, WG_HOOK_POST_DOWN, t.ifname) < 0 ? 1 : 0;
out:
	free(addrs);
	wg_buf_free(&reply);
	wg_netlink_close(&nl);
	wg_config_clear(&cfg);
	return ret;
}
