/* nftables rules for a default route: see firewall.h.  The script is the
 * one wg-quick's add_default builds, rule for rule, so `nft list table`
 * shows the same thing whichever of the two brought the interface up. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/firewall.h"
#include "tun/fdio.h"

extern char **environ;

enum {
	LIST_MAX = 1 << 20,	/* more `nft list tables` output is ignored */
	RULE_SIZE = 192,	/* room for one anti-spoofing rule */
};

struct out {
	char *s;
	size_t size, len;
	bool full;
};

static void put(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->s + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->full = true;
	else
		o->len += (size_t)n;
}

int wg_firewall_ruleset(char *out, size_t size, const char *ifname,
    int family, const struct wg_config_prefix *addrs, size_t n_addrs,
    uint32_t fwmark)
{
	struct out o = { .s = out, .size = size };
	const char *pf = family == AF_INET6 ? "ip6" : "ip";
	char addr[INET6_ADDRSTRLEN];
	size_t i;

	if (size == 0)
		return -ENOSPC;
	out[0] = '\0';
	put(&o, "add table %s wg-quick-%s\n", pf, ifname);
	put(&o, "add chain %s wg-quick-%s preraw { type filter hook "
	    "prerouting priority -300; }\n", pf, ifname);
	put(&o, "add chain %s wg-quick-%s premangle { type filter hook "
	    "prerouting priority -150; }\n", pf, ifname);
	put(&o, "add chain %s wg-quick-%s postmangle { type filter hook "
	    "postrouting priority -150; }\n", pf, ifname);
	for (i = 0; i < n_addrs; i++) {
		if (addrs[i].family != family ||
		    inet_ntop(family, addrs[i].addr, addr, sizeof(addr)) ==
		    NULL)
			continue;
		put(&o, "add rule %s wg-quick-%s preraw iifname != \"%s\" "
		    "%s daddr %s fib saddr type != local drop\n", pf, ifname,
		    ifname, pf, addr);
	}
	put(&o, "add rule %s wg-quick-%s postmangle meta l4proto udp mark %u "
	    "ct mark set mark\n", pf, ifname, fwmark);
	put(&o, "add rule %s wg-quick-%s premangle meta l4proto udp meta mark "
	    "set ct mark\n", pf, ifname);
	return o.full ? -ENOSPC : (int)o.len;
}

/* Starts nft with argv, its stdin from *to_child (when to_child is not
 * NULL) and its stdout into *from_child (likewise); stderr is ours, or
 * /dev/null when quiet.  Returns the pid, or a negative errno (-ENOENT:
 * no nft). */
static pid_t spawn_nft(char *const argv[], int *to_child, int *from_child,
    bool quiet)
{
	posix_spawn_file_actions_t fa;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err, i;
	pid_t pid = -1;

	if ((to_child && pipe2(in, O_CLOEXEC) < 0) ||
	    (from_child && pipe2(out, O_CLOEXEC) < 0)) {
		err = errno;
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	if (to_child)
		posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	if (from_child)
		posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	if (quiet)
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null",
		    O_WRONLY, 0);
	err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err == 0) {
		if (to_child) {
			*to_child = in[1];
			in[1] = -1;
		}
		if (from_child) {
			*from_child = out[0];
			out[0] = -1;
		}
	}
out:
	for (i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	return err ? -err : pid;
}

/* Waits for pid; true when it exited with status 0. */
static bool reaped_ok(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return false;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* nft -f - with script on its stdin. */
static int run_script(const char *script, bool quiet)
{
	static char *const argv[] = { "nft", "-f", "-", NULL };
	int fd, ret;
	pid_t pid;

	pid = spawn_nft(argv, &fd, NULL, quiet);
	if (pid < 0)
		return pid;
	ret = wg_write_all(fd, script, strlen(script));
	close(fd);
	if (!reaped_ok(pid) && ret == 0)
		ret = -ECHILD;
	return ret;
}

int wg_firewall_add(const char *ifname, int family,
    const struct wg_config_prefix *addrs, size_t n_addrs, uint32_t fwmark)
{
	size_t size = 1024 + n_addrs * RULE_SIZE;
	char *script = malloc(size);
	int ret;

	if (script == NULL)
		return -ENOMEM;
	ret = wg_firewall_ruleset(script, size, ifname, family, addrs, n_addrs,
	    fwmark);
	if (ret >= 0) {
		fprintf(stderr, "[#] nft -f - (table %s wg-quick-%s)\n",
		    family == AF_INET6 ? "ip6" : "ip", ifname);
		ret = run_script(script, false);
		if (ret == -ECHILD || (ret < 0 && ret != -ENOENT))
			fprintf(stderr, "wgu: nft refused the rules for %s\n",
			    ifname);
	}
	free(script);
	return ret;
}

/* The output of `nft list tables`, NUL-terminated, or NULL. */
static char *list_tables(void)
{
	static char *const argv[] = { "nft", "list", "tables", NULL };
	size_t len = 0, cap = 4096;
	char *s = malloc(cap), *grown;
	size_t want, n;
	int fd;
	pid_t pid;

	if (s == NULL || (pid = spawn_nft(argv, NULL, &fd, true)) < 0) {
		free(s);
		return NULL;
	}
	for (;;) {
		if (len + 1 == cap && cap < LIST_MAX &&
		    (grown = realloc(s, cap * 2)) != NULL) {
			s = grown;
			cap *= 2;
		}
		if (len + 1 == cap)
			break;
		want = cap - 1 - len;
		n = wg_read_full(fd, s + len, want);
		len += n;
		if (n < want)
			break;
	}
	close(fd);
	s[len] = '\0';
	if (!reaped_ok(pid)) {
		free(s);
		return NULL;
	}
	return s;
}

void wg_firewall_remove(const char *ifname)
{
	char suffix[64], *tables, *line, *end, *script;
	size_t slen, llen, len = 0;
	struct out o;

	if ((tables = list_tables()) == NULL)
		return;
	snprintf(suffix, sizeof(suffix), " wg-quick-%s", ifname);
	slen = strlen(suffix);
	if ((script = malloc(strlen(tables) * 2 + 1)) == NULL)
		goto out;
	o = (struct out){ .s = script, .size = strlen(tables) * 2 + 1 };
	script[0] = '\0';
	/* As remove_firewall: every "table FAMILY wg-quick-IFNAME" line
	 * becomes "delete table FAMILY wg-quick-IFNAME". */
	for (line = tables; *line; line = *end ? end + 1 : end) {
		end = strchrnul(line, '\n');
		llen = (size_t)(end - line);
		if (llen > slen && strncmp(line, "table ", 6) == 0 &&
		    memcmp(end - slen, suffix, slen) == 0)
			put(&o, "delete %.*s\n", (int)llen, line);
	}
	len = o.len;
	if (len > 0 && !o.full) {
		fprintf(stderr, "[#] nft -f - (delete the wg-quick-%s "
		    "tables)\n", ifname);
		if (run_script(script, false) < 0)
			fprintf(stderr, "Warning: nft could not delete the "
			    "wg-quick-%s tables\n", ifname);
	}
	free(script);
out:
	free(tables);
}
