/* The config file `wgu up`, `down` and `strip` act on: which file and
 * interface an argument names, and the file read and parsed (with
 * wg-quick's warning when others can read it). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/target.h"

enum { MAX_CONFIG_SIZE = 1 << 20 };

/* As wg-quick: a valid interface name is /etc/wireguard/NAME.conf;
 * anything else is a path whose base name is NAME.conf. */
int wg_target_resolve(struct wg_target *t, const char *arg)
{
	const char *base, *dot;

	if (wg_config_valid_ifname(arg, strlen(arg))) {
		snprintf(t->ifname, sizeof(t->ifname), "%s", arg);
		snprintf(t->path, sizeof(t->path), "/etc/wireguard/%s.conf",
		    arg);
		return 0;
	}
	base = strrchr(arg, '/');
	base = base ? base + 1 : arg;
	dot = strrchr(base, '.');
	if (strlen(arg) >= sizeof(t->path) || dot == NULL ||
	    strcmp(dot, ".conf") != 0 ||
	    !wg_config_valid_ifname(base, (size_t)(dot - base))) {
		fprintf(stderr, "wgu: The config file must be a valid "
		    "interface name, followed by .conf\n");
		return -EINVAL;
	}
	memcpy(t->ifname, base, (size_t)(dot - base));
	t->ifname[dot - base] = '\0';
	snprintf(t->path, sizeof(t->path), "%s", arg);
	return 0;
}

/* wg-quick warns when the file and its directory are both open to
 * others (mode & 0007): the private key is in it. */
static void warn_world_accessible(const char *path, const struct stat *st)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct stat dst;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (stat(dir, &dst) == 0 && (st->st_mode & dst.st_mode & 0007))
		fprintf(stderr, "Warning: `%s' is world accessible\n", path);
}

int wg_target_load(struct wg_config *cfg, const struct wg_target *t)
{
	char err[WG_CONFIG_ERR_SIZE], *text = NULL;
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd, ret;

	fd = open(t->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "wgu: %s: %s\n", t->path, strerror(errno));
		ret = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MAX_CONFIG_SIZE) {
		fprintf(stderr, "wgu: %s: not a regular file of at most "
		    "1 MiB\n", t->path);
		ret = -EINVAL;
		goto out;
	}
	warn_world_accessible(t->path, &st);
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	while (len < (size_t)st.st_size &&
	    (n = read(fd, text + len, (size_t)st.st_size - len)) > 0)
		len += (size_t)n;
	ret = wg_config_parse(cfg, t->path, text, len, err);
	if (ret < 0)
		fprintf(stderr, "%s\n", err);
out:
	if (text) {
		explicit_bzero(text, (size_t)st.st_size + 1);
		free(text);
	}
	if (fd >= 0)
		close(fd);
	return ret;
}
