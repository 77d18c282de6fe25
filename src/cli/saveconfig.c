/* SaveConfig = true: `wgu down` writes the running state back to the
 * config file first, as wg-quick's save_config.  Two differences: the
 * Addresses leave out the link-local address the kernel gives a TUN
 * device (a kernel WireGuard interface has none), and the DNS lines are
 * the config file's, not the name servers read back from
 * `resolvconf -l` (which lose the search domains). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/buf.h"
#include "cli/saveconfig.h"
#include "cli/showconf.h"

/* As wg-quick's save_config: the running state (`wg showconf`) with the
 * [Interface] header replaced by the wg-quick keys, the Addresses those
 * the interface has now (addrs, read back from the kernel) and, when
 * the file has an MTU, the link's MTU now (mtu). */
int wg_saveconfig_write(const struct wg_config *cfg, const struct wg_target *t,
    const char *reply, const struct wg_config_prefix *addrs, size_t n_addrs,
    uint32_t mtu)
{
	static const char *const names[WG_HOOK_COUNT] = {
		"PreUp", "PostUp", "PreDown", "PostDown",
	};
	struct wg_buf b = { 0 }, conf = { 0 };
	char tmp[4200], pfx[64];
	size_t i;
	int h, fd, ret = 0;

	wg_buf_printf(&b, "[Interface]\n");
	for (i = 0; i < n_addrs; i++) {
		wg_config_prefix_format(&addrs[i], pfx, sizeof(pfx));
		wg_buf_printf(&b, "Address = %s\n", pfx);
	}
	for (i = 0; i < cfg->n_dns; i++)
		wg_buf_printf(&b, "DNS = %s\n", cfg->dns[i]);
	if (cfg->mtu)
		wg_buf_printf(&b, "MTU = %u\n", mtu ? mtu : cfg->mtu);
	if (cfg->table_mode == WG_CONFIG_TABLE_OFF)
		wg_buf_printf(&b, "Table = off\n");
	else if (cfg->table_mode == WG_CONFIG_TABLE_NUMBER)
		wg_buf_printf(&b, "Table = %u\n", cfg->table);
	wg_buf_printf(&b, "SaveConfig = true\n");
	for (h = 0; h < WG_HOOK_COUNT; h++)
		for (i = 0; i < cfg->n_hooks[h]; i++)
			wg_buf_printf(&b, "%s = %s\n", names[h],
			    cfg->hooks[h][i]);
	wg_showconf(&conf, reply, true);
	/* showconf starts with "[Interface]\n": replace it. */
	if (!conf.failed && conf.len >= 12)
		wg_buf_printf(&b, "%s", conf.s + 12);
	if (b.failed || conf.failed) {
		ret = -ENOMEM;
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", t->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, b.s, b.len) != (ssize_t)b.len ||
	    fsync(fd) < 0 || close(fd) < 0 || rename(tmp, t->path) < 0) {
		ret = -errno;
		fprintf(stderr, "wgu: Could not write configuration file %s: "
		    "%s\n", t->path, strerror(errno));
		unlink(tmp);
	}
out:
	wg_buf_free(&b);
	wg_buf_free(&conf);
	return ret;
}
