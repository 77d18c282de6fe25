/* SaveConfig = true: `wgu down` writes the running state back to the
 * config file first, as wg-quick's save_config.  Two differences: the
 * Addresses leave out the link-local address the kernel gives a TUN
 * device (a kernel WireGuard interface has none), and the DNS lines are
 * the config file's, not the name servers read back from
 * `resolvconf -l` (which lose the search domains). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cli/buf.h"
#include "cli/saveconfig.h"
#include "cli/showconf.h"
#include "tun/fdio.h"

/* Random characters in the temporary file's name. */
enum { TMP_RANDOM_LEN = 12 };

/* Creates a new file beside path (mode 0600) under a random name, which
 * goes to tmp.  O_EXCL fails on any name that exists and O_NOFOLLOW on a
 * symlink, so whatever others planted in the directory is never written
 * through.  Returns the descriptor, or -1 with errno set. */
static int create_beside(char *tmp, size_t size, const char *path)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	uint8_t rnd[TMP_RANDOM_LEN];
	char suffix[TMP_RANDOM_LEN + 1];
	int tries, fd = -1;
	ssize_t n;
	size_t i;

	for (tries = 0; tries < 100; tries++) {
		n = getrandom(rnd, sizeof(rnd), 0);
		if (n != (ssize_t)sizeof(rnd)) {
			if (n >= 0)
				errno = EIO;
			return -1;
		}
		for (i = 0; i < sizeof(rnd); i++)
			suffix[i] = chars[rnd[i] % (sizeof(chars) - 1)];
		suffix[i] = '\0';
		if ((size_t)snprintf(tmp, size, "%s.%s", path, suffix) >=
		    size) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	return fd;
}

/* The file's text: the running state (`wg showconf`) with the
 * [Interface] header replaced by the wg-quick keys.  Returns 0 or
 * -ENOMEM. */
static int compose(struct wg_buf *b, const struct wg_config *cfg,
    const char *reply, const struct wg_config_prefix *addrs, size_t n_addrs,
    uint32_t mtu)
{
	static const char *const names[WG_HOOK_COUNT] = {
		"PreUp", "PostUp", "PreDown", "PostDown",
	};
	struct wg_buf conf = { 0 };
	char pfx[64];
	size_t i;
	int h, ret = 0;

	wg_buf_printf(b, "[Interface]\n");
	for (i = 0; i < n_addrs; i++) {
		wg_config_prefix_format(&addrs[i], pfx, sizeof(pfx));
		wg_buf_printf(b, "Address = %s\n", pfx);
	}
	for (i = 0; i < cfg->n_dns; i++)
		wg_buf_printf(b, "DNS = %s\n", cfg->dns[i]);
	if (cfg->mtu)
		wg_buf_printf(b, "MTU = %u\n", mtu ? mtu : cfg->mtu);
	if (cfg->table_mode == WG_CONFIG_TABLE_OFF)
		wg_buf_printf(b, "Table = off\n");
	else if (cfg->table_mode == WG_CONFIG_TABLE_NUMBER)
		wg_buf_printf(b, "Table = %u\n", cfg->table);
	wg_buf_printf(b, "SaveConfig = true\n");
	for (h = 0; h < WG_HOOK_COUNT; h++)
		for (i = 0; i < cfg->n_hooks[h]; i++)
			wg_buf_printf(b, "%s = %s\n", names[h],
			    cfg->hooks[h][i]);
	wg_showconf(&conf, reply, true);
	/* showconf starts with "[Interface]\n": replace it. */
	if (!conf.failed && conf.len >= 12)
		wg_buf_printf(b, "%s", conf.s + 12);
	if (b->failed || conf.failed)
		ret = -ENOMEM;
	wg_buf_free(&conf);
	return ret;
}

int wg_saveconfig_write(const struct wg_config *cfg,
    const struct wg_target *t, const char *reply,
    const struct wg_config_prefix *addrs, size_t n_addrs, uint32_t mtu)
{
	struct wg_buf b = { 0 };
	char tmp[sizeof(t->path) + 1 + TMP_RANDOM_LEN];
	int fd, ret;

	if ((ret = compose(&b, cfg, reply, addrs, n_addrs, mtu)) < 0)
		goto out;
	if ((fd = create_beside(tmp, sizeof(tmp), t->path)) < 0) {
		ret = -errno;
		goto failed;
	}
	ret = wg_write_all(fd, b.s, b.len);
	if (ret == 0 && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, t->path) < 0)
		ret = -errno;
	if (ret == 0)
		goto out;
	unlink(tmp);
failed:
	fprintf(stderr, "wgu: Could not write configuration file %s: %s\n",
	    t->path, strerror(-ret));
out:
	wg_buf_free(&b);
	return ret;
}
