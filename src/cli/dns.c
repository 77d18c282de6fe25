/* DNS = for `wgu up` and `wgu down`, as wg-quick's set_dns and unset_dns:
 * the name servers and search domains handed to resolvconf(8) under the
 * interface's name, and taken back. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/dns.h"
#include "cli/run.h"

/* resolvconf_iface_prefix in wg-quick: Debian's resolvconf orders its
 * sources by /etc/resolvconf/interface-order, and the first "NAME*"
 * pattern there ("tun*") is where a VPN's DNS belongs; without the file
 * (openresolv, systemd-resolved) the name is the bare interface. */
static void resolvconf_name(char *out, size_t size, const char *ifname)
{
	FILE *f = fopen("/etc/resolvconf/interface-order", "re");
	char line[256], *s, *e;
	size_t n;

	snprintf(out, size, "%s", ifname);
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		for (s = line; *s == ' ' || *s == '\t'; s++)
			;
		for (e = s + strlen(s); e > s && strchr(" \t\r\n", e[-1]); e--)
			;
		n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-");
		if (n > 0 && s + n + 1 == e && s[n] == '*') {
			snprintf(out, size, "%.*s.%s", (int)n, s, ifname);
			break;
		}
	}
	fclose(f);
}

static bool is_address(const char *s)
{
	uint8_t a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* As wg-quick, resolvconf is used only when there is a name server;
 * search domains alone change nothing. */
static bool has_nameserver(const struct wg_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n_dns; i++)
		if (is_address(cfg->dns[i]))
			return true;
	return false;
}

/* wg-quick's set_dns: every server as a nameserver line, then the
 * search domains on one search line, into `resolvconf -a NAME -m 0 -x`
 * (openresolv's metric 0 and exclusive flag, as wg-quick passes them). */
void wg_dns_set(const struct wg_config *cfg, const char *ifname,
    bool *done)
{
	char name[64], tmpl[] = "/tmp/wgu-dns.XXXXXX";
	FILE *f;
	size_t i;
	int fd, st;
	bool search = false;

	if (!has_nameserver(cfg))
		return;
	if (!wg_run_exists("resolvconf")) {
		fprintf(stderr, "Warning: resolvconf not found; DNS = is "
		    "ignored\n");
		return;
	}
	if ((fd = mkstemp(tmpl)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "Warning: DNS not set: %s\n", strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmpl);
		}
		return;
	}
	for (i = 0; i < cfg->n_dns; i++)
		if (is_address(cfg->dns[i]))
			fprintf(f, "nameserver %s\n", cfg->dns[i]);
	for (i = 0; i < cfg->n_dns; i++) {
		if (!is_address(cfg->dns[i])) {
			fprintf(f, search ? " %s" : "search %s", cfg->dns[i]);
			search = true;
		}
	}
	if (search)
		fputc('\n', f);
	if (fclose(f) != 0) {
		fprintf(stderr, "Warning: DNS not set: %s\n", strerror(errno));
		unlink(tmpl);
		return;
	}
	resolvconf_name(name, sizeof(name), ifname);
	wg_say("resolvconf -a %s -m 0 -x", name);
	if ((fd = open(tmpl, O_RDONLY)) >= 0) {
		pid_t pid = fork();

		if (pid == 0) {
			dup2(fd, 0);
			execlp("resolvconf", "resolvconf", "-a", name, "-m",
			    "0", "-x", (char *)NULL);
			_exit(127);
		}
		close(fd);
		if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0)
			*done = true;
		else
			fprintf(stderr, "Warning: resolvconf failed\n");
	}
	unlink(tmpl);
}

void wg_dns_unset(const struct wg_config *cfg, const char *ifname)
{
	char name[64];

	if (!has_nameserver(cfg) || !wg_run_exists("resolvconf"))
		return;
	resolvconf_name(name, sizeof(name), ifname);
	wg_say("resolvconf -d %s -f", name);
	wg_run((char *const[]){ "resolvconf", "-d", name, "-f", NULL }, true);
}
