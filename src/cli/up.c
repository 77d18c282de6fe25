/* `wgu up IFNAME|CONFIG`: wg-quick's cmd_up (wireguard-tools'
 * src/wg-quick/linux.bash), its steps, order and messages, and on a
 * failure its del_if.  One difference: the MTU is MTU= or 1420, where
 * wg-quick derives it from the route MTU towards the endpoints minus 80,
 * which is 1420 on any ordinary 1500 network; a fixed value behaves the
 * same after a roam. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cli/daemonctl.h"
#include "cli/dns.h"
#include "cli/firewall.h"
#include "cli/ipc.h"
#include "cli/netlink.h"
#include "cli/routes.h"
#include "cli/run.h"
#include "cli/setconf.h"
#include "cli/subcommands.h"
#include "cli/target.h"
#include "tun/uapi_path.h"

/* What del_if does when wg-quick's `up` fails, in its order. */
static void roll_back(struct wg_netlink *nl, const struct wg_config *cfg,
    const char *ifname, const struct wg_undo *u)
{
	int ifindex = (int)if_nametoindex(ifname);

	if (u->dns)
		wg_dns_unset(cfg, ifname);
	if (u->firewall)
		wg_firewall_remove(ifname);
	if (u->rules)
		wg_routes_del_rules(nl, u->table);
	if (u->daemon) {
		if (ifindex > 0) {
			wg_say("ip link delete dev %s", ifname);
			wg_netlink_link_delete(nl, ifindex);
		}
		wg_daemonctl_wait_gone(ifname, u->pid);
	}
}

static int configure(struct wg_netlink *nl, const struct wg_config *cfg,
    const char *ifname, struct wg_undo *u)
{
	struct wg_buf set = { 0 };
	char pfx[64], path[WG_UAPI_PATH_SIZE];
	int ifindex, ret;
	size_t i;

	if ((ret = wg_setconf_build(&set, cfg)) < 0)
		goto out;
	if ((ret = wg_run_hooks(cfg, WG_HOOK_PRE_UP, ifname)) < 0)
		goto out;
	if ((ret = wg_daemonctl_start(ifname)) < 0) {
		fprintf(stderr, "wgu: the daemon for %s did not start\n",
		    ifname);
		goto out;
	}
	u->daemon = true;
	u->pid = wg_daemonctl_pid(ifname);
	if ((ifindex = (int)if_nametoindex(ifname)) == 0) {
		ret = -ENODEV;
		goto out;
	}
	wg_uapi_socket_path(path, sizeof(path), ifname);
	wg_say("wg setconf %s (through %s)", ifname, path);
	if ((ret = wg_ipc_call(ifname, set.s, NULL)) < 0) {
		fprintf(stderr, "wgu: setting the configuration failed: %s\n",
		    strerror(-ret));
		goto out;
	}
	for (i = 0; i < cfg->n_addresses; i++) {
		wg_config_prefix_format(&cfg->addresses[i], pfx, sizeof(pfx));
		wg_say("ip %s address add %s dev %s",
		    cfg->addresses[i].family == AF_INET ? "-4" : "-6", pfx,
		    ifname);
		if ((ret = wg_netlink_addr_add(nl, ifindex,
		    &cfg->addresses[i])) < 0) {
			fprintf(stderr, "wgu: address %s: %s\n", pfx,
			    strerror(-ret));
			goto out;
		}
	}
	wg_say("ip link set mtu %u up dev %s", cfg->mtu ? cfg->mtu :
	    WG_CONFIG_DEFAULT_MTU, ifname);
	if ((ret = wg_netlink_set_mtu(nl, ifindex, cfg->mtu ? cfg->mtu :
	    WG_CONFIG_DEFAULT_MTU)) < 0 ||
	    (ret = wg_netlink_link_up(nl, ifindex)) < 0) {
		fprintf(stderr, "wgu: mtu/up: %s\n", strerror(-ret));
		goto out;
	}
	wg_dns_set(cfg, ifname, &u->dns);
	if ((ret = wg_routes_set_table(nl, cfg, ifname, u)) < 0)
		goto out;
	if ((ret = wg_routes_add(nl, ifindex, cfg, ifname, u)) < 0)
		goto out;
	ret = wg_run_hooks(cfg, WG_HOOK_POST_UP, ifname);
out:
	wg_buf_free(&set);
	return ret;
}

int up_main(int argc, char **argv)
{
	struct wg_config cfg = { 0 };
	struct wg_netlink nl = { .fd = -1 };
	struct wg_undo u = { 0 };
	struct wg_target t;
	int ret = 1;

	if (argc != 2) {
		fprintf(stderr, "Usage: wgu up [ CONFIG_FILE | INTERFACE ]\n");
		return 1;
	}
	if (wg_target_resolve(&t, argv[1]) < 0 || wg_target_load(&cfg, &t) < 0)
		goto out;
	if (if_nametoindex(t.ifname) != 0) {
		fprintf(stderr, "wgu: `%s' already exists\n", t.ifname);
		goto out;
	}
	if (wg_netlink_open(&nl) < 0) {
		fprintf(stderr, "wgu: rtnetlink: %s\n", strerror(errno));
		goto out;
	}
	if (configure(&nl, &cfg, t.ifname, &u) < 0) {
		roll_back(&nl, &cfg, t.ifname, &u);
		goto out;
	}
	ret = 0;
out:
	wg_netlink_close(&nl);
	wg_config_clear(&cfg);
	return ret;
}
