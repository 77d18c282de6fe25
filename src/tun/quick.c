/* wg-quick for wgu: see quick.h.  The steps, their order and the messages
 * follow wireguard-tools' src/wg-quick/linux.bash (cmd_up, cmd_down,
 * save_config, add_default); the differences are written where they are:
 *
 * - The MTU is MTU= or 1420.  wg-quick derives it from the route MTU
 *   towards the endpoints minus 80, which is 1420 on any ordinary 1500
 *   network; a fixed value behaves the same after a roam.
 * - The default-route case is wg-quick's with nftables (firewall.c);
 *   without nft it warns and goes on, where wg-quick would fall back to
 *   iptables-restore.
 * - Addresses, here and in SaveConfig, leave out the link-local address
 *   the kernel gives a TUN device: a kernel WireGuard interface has none.
 * - SaveConfig writes the DNS lines of the config file, not the
 *   nameservers read back from `resolvconf -l` (which lose the search
 *   domains).
 * - `show` runs `wg show` when wg is installed (it speaks our UAPI
 *   socket); otherwise it prints the state read from the socket, as
 *   `wg showconf` with the private key left out. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto/encoding.h"
#include "tun/config.h"
#include "tun/firewall.h"
#include "tun/netlink.h"
#include "tun/quick.h"
#include "tun/tun.h"
#include "tun/uapi.h"

enum { MAX_CONFIG_SIZE = 1 << 20 };

/* A growing string; wiped when freed since it may carry keys. */
struct buf {
	char *s;
	size_t len, cap;
	bool failed;
};

static void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *grown;

	if (b->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || b->len + (size_t)n + 1 > b->cap) {
		size_t cap = (b->len + (size_t)(n < 0 ? 0 : n) + 1) * 2;

		if (n < 0 || (grown = malloc(cap)) == NULL) {
			b->failed = true;
			return;
		}
		if (b->s) {
			memcpy(grown, b->s, b->len + 1);
			explicit_bzero(b->s, b->cap);
			free(b->s);
		}
		b->s = grown;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void buf_free(struct buf *b)
{
	if (b->s) {
		explicit_bzero(b->s, b->cap);
		free(b->s);
	}
	memset(b, 0, sizeof(*b));
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* wg-quick's "[#] command" trace on stderr. */
static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("[#] ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---------------------------------------------------------------- files */

struct target {
	char ifname[IFNAMSIZ];
	char path[4096];
};

/* As wg-quick: a valid interface name is /etc/wireguard/NAME.conf;
 * anything else is a path whose base name is NAME.conf. */
static int resolve_target(struct target *t, const char *arg)
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

static int load_config(struct wg_config *cfg, const struct target *t)
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

/* ---------------------------------------------------------------- UAPI */

static void socket_path(char *out, size_t size, const char *ifname)
{
	snprintf(out, size, "%s/%s.sock", WG_UAPI_SOCKET_DIR, ifname);
}

/* Sends one request and reads the answer up to its blank line.  Returns
 * the answer's errno= value (0 or negative), or a negative errno when the
 * socket fails; *reply (may be NULL) gets the whole answer. */
static int uapi_call(const char *ifname, const char *req, struct buf *reply)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct buf local = { 0 }, *r = reply ? reply : &local;
	char chunk[4096], *e;
	size_t off = 0, len = strlen(req);
	ssize_t n;
	int fd, ret = -EPROTO;

	socket_path(sa.sun_path, sizeof(sa.sun_path), ifname);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	while (off < len) {
		n = write(fd, req + off, len - off);
		if (n <= 0) {
			ret = n < 0 ? -errno : -EPIPE;
			goto out;
		}
		off += (size_t)n;
	}
	buf_printf(r, "%s", "");
	while (!r->failed && (r->len < 2 || strstr(r->s, "\n\n") == NULL)) {
		n = read(fd, chunk, sizeof(chunk) - 1);
		if (n <= 0)
			goto out;
		chunk[n] = '\0';
		buf_printf(r, "%s", chunk);
		explicit_bzero(chunk, sizeof(chunk));
	}
	if (r->failed) {
		ret = -ENOMEM;
		goto out;
	}
	e = strstr(r->s, "errno=");
	if (e != NULL && (e == r->s || e[-1] == '\n'))
		ret = -abs(atoi(e + 6));
out:
	close(fd);
	buf_free(&local);
	return ret;
}

/* The config as `wg setconf` sends it: keys in hex, host names resolved
 * now, the peers replacing whatever the device had. */
static int build_set(struct buf *b, const struct wg_config *cfg)
{
	char hex[WG_KEY_HEX_SIZE], host[NI_MAXHOST], port[8], pfx[64];
	const struct wg_config_peer *peer;
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
	    .ai_protocol = IPPROTO_UDP }, *ai;
	size_t i, j;
	int ret = 0;

	buf_printf(b, "set=1\n");
	if (cfg->has_private_key) {
		wg_key_to_hex(hex, cfg->private_key);
		buf_printf(b, "private_key=%s\n", hex);
	}
	if (cfg->has_listen_port)
		buf_printf(b, "listen_port=%u\n", cfg->listen_port);
	if (cfg->has_fwmark)
		buf_printf(b, "fwmark=%u\n", cfg->fwmark);
	buf_printf(b, "replace_peers=true\n");
	for (i = 0; i < cfg->n_peers; i++) {
		peer = &cfg->peers[i];
		wg_key_to_hex(hex, peer->public_key);
		buf_printf(b, "public_key=%s\n", hex);
		if (peer->has_preshared_key) {
			wg_key_to_hex(hex, peer->preshared_key);
			buf_printf(b, "preshared_key=%s\n", hex);
		}
		if (peer->endpoint_host) {
			snprintf(port, sizeof(port), "%u", peer->endpoint_port);
			ret = getaddrinfo(peer->endpoint_host, port, &hints,
			    &ai);
			if (ret != 0) {
				fprintf(stderr, "wgu: %s:%s: %s\n",
				    peer->endpoint_host, port,
				    gai_strerror(ret));
				ret = -EHOSTUNREACH;
				goto out;
			}
			ret = getnameinfo(ai->ai_addr, ai->ai_addrlen, host,
			    sizeof(host), NULL, 0, NI_NUMERICHOST);
			if (ret == 0)
				buf_printf(b, ai->ai_family == AF_INET6 ?
				    "endpoint=[%s]:%s\n" : "endpoint=%s:%s\n",
				    host, port);
			freeaddrinfo(ai);
			if (ret != 0) {
				ret = -EINVAL;
				goto out;
			}
		}
		if (peer->has_keepalive)
			buf_printf(b, "persistent_keepalive_interval=%u\n",
			    peer->keepalive);
		buf_printf(b, "replace_allowed_ips=true\n");
		for (j = 0; j < peer->n_allowed_ips; j++) {
			wg_config_prefix_format(&peer->allowed_ips[j], pfx,
			    sizeof(pfx));
			buf_printf(b, "allowed_ip=%s\n", pfx);
		}
	}
	buf_printf(b, "\n");
	ret = b->failed ? -ENOMEM : 0;
out:
	explicit_bzero(hex, sizeof(hex));
	return ret;
}

/* The value of "key=" in a UAPI answer, or NULL. */
static const char *uapi_value(const char *reply, const char *key)
{
	size_t klen = strlen(key);
	const char *p = reply;

	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, klen) == 0 && p[klen] == '=')
			return p + klen + 1;
	return NULL;
}

static void put_key(struct buf *b, const char *name, const char *hexline)
{
	char b64[WG_KEY_BASE64_SIZE];
	uint8_t key[WG_KEY_LEN];
	size_t n = strcspn(hexline, "\n");

	if (wg_key_from_hex(key, hexline, n)) {
		wg_key_to_base64(b64, key);
		buf_printf(b, "%s = %s\n", name, b64);
	}
	explicit_bzero(key, sizeof(key));
	explicit_bzero(b64, sizeof(b64));
}

/* `wg showconf` from a UAPI get answer (wg(8)'s showconf.c order). */
static void showconf(struct buf *b, const char *reply, bool private)
{
	static const uint8_t zero[WG_KEY_LEN];
	const char *line = reply, *v;
	bool in_peer = false, first_ip = true;
	uint8_t key[WG_KEY_LEN];
	size_t n;

	buf_printf(b, "[Interface]\n");
	if ((v = uapi_value(reply, "listen_port")) != NULL)
		buf_printf(b, "ListenPort = %.*s\n", (int)strcspn(v, "\n"), v);
	if ((v = uapi_value(reply, "fwmark")) != NULL && atol(v) != 0)
		buf_printf(b, "FwMark = 0x%lx\n", strtoul(v, NULL, 10));
	if (private && (v = uapi_value(reply, "private_key")) != NULL)
		put_key(b, "PrivateKey", v);
	for (; *line; line += n + (line[n] == '\n')) {
		n = strcspn(line, "\n");
		if (n == 0)
			break;
		if (strncmp(line, "public_key=", 11) == 0) {
			if (in_peer && !first_ip)
				buf_printf(b, "\n");
			buf_printf(b, "\n[Peer]\n");
			put_key(b, "PublicKey", line + 11);
			in_peer = true;
			first_ip = true;
		} else if (!in_peer)
			continue;
		else if (strncmp(line, "preshared_key=", 14) == 0) {
			if (wg_key_from_hex(key, line + 14, n - 14) &&
			    memcmp(key, zero, sizeof(key)) != 0)
				put_key(b, "PresharedKey", line + 14);
			explicit_bzero(key, sizeof(key));
		} else if (strncmp(line, "allowed_ip=", 11) == 0) {
			buf_printf(b, first_ip ? "AllowedIPs = %.*s" : ", %.*s",
			    (int)n - 11, line + 11);
			first_ip = false;
		} else if (strncmp(line, "endpoint=", 9) == 0 ||
		    (strncmp(line, "persistent_keepalive_interval=", 30) == 0 &&
		    atoi(line + 30) != 0)) {
			if (!first_ip)
				buf_printf(b, "\n");
			first_ip = true;
			if (line[0] == 'e')
				buf_printf(b, "Endpoint = %.*s\n", (int)n - 9,
				    line + 9);
			else
				buf_printf(b, "PersistentKeepalive = %.*s\n",
				    (int)n - 30, line + 30);
		}
	}
	if (in_peer && !first_ip)
		buf_printf(b, "\n");
}

/* ---------------------------------------------------------------- processes */

/* Runs argv, waits; returns its exit status, or -1. */
static int run(char *const argv[], bool quiet)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (quiet) {
			int fd = open("/dev/null", O_WRONLY);

			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* As wg-quick's execute_hooks: %i becomes the interface name, the hook
 * is shown and run by bash; the first failure stops. */
static int run_hooks(const struct wg_config *cfg, enum wg_config_hook h,
    const char *ifname)
{
	struct buf cmd = { 0 };
	const char *s, *pct;
	size_t i;
	int st;

	for (i = 0; i < cfg->n_hooks[h]; i++) {
		cmd.len = 0;
		buf_printf(&cmd, "%s", "");
		for (s = cfg->hooks[h][i]; (pct = strstr(s, "%i")); s = pct + 2)
			buf_printf(&cmd, "%.*s%s", (int)(pct - s), s, ifname);
		buf_printf(&cmd, "%s", s);
		if (cmd.failed) {
			buf_free(&cmd);
			return -ENOMEM;
		}
		say("%s", cmd.s);
		st = run((char *const[]){ "bash", "-c", cmd.s, NULL }, false);
		if (st != 0) {
			fprintf(stderr, "wgu: hook failed (status %d)\n", st);
			buf_free(&cmd);
			return -ECHILD;
		}
	}
	buf_free(&cmd);
	return 0;
}

static bool have_program(const char *name)
{
	const char *path = getenv("PATH");
	char full[4096];
	const char *p, *end;

	for (p = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin"; *p; p = end) {
		end = strchrnul(p, ':');
		snprintf(full, sizeof(full), "%.*s/%s", (int)(end - p), p,
		    name);
		if (access(full, X_OK) == 0)
			return true;
		if (*end == ':')
			end++;
	}
	return false;
}

/* Starts `wgu IFNAME` (this very binary), which returns once the TUN
 * device and the UAPI socket exist. */
static int start_daemon(const char *ifname)
{
	pid_t pid;
	int status;

	say("wgu %s", ifname);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* It must go to the background, whatever our caller set. */
		unsetenv("WG_PROCESS_FOREGROUND");
		execl("/proc/self/exe", "wgu", ifname, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

/* The process serving IFNAME's UAPI socket, or 0. */
static pid_t daemon_pid(const char *ifname)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred cred = { 0 };
	socklen_t len = sizeof(cred);
	int fd;

	socket_path(sa.sun_path, sizeof(sa.sun_path), ifname);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		cred.pid = 0;
	close(fd);
	return cred.pid;
}

/* Whether pid runs (a zombie waiting for its reaper does not). */
static bool process_runs(pid_t pid)
{
	char path[64], stat[256], *paren;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0)
		return false;
	stat[n] = '\0';
	paren = strrchr(stat, ')');
	return paren == NULL || paren[1] == '\0' || paren[2] != 'Z';
}

/* The daemon removes its socket and exits when the interface goes away;
 * waiting for both (pid as daemon_pid found it before, or 0) makes
 * `down` and a rollback leave nothing behind. */
static void wait_daemon_gone(const char *ifname, pid_t pid)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int i;

	socket_path(path, sizeof(path), ifname);
	for (i = 0; i < 250 && (access(path, F_OK) == 0 ||
	    (pid > 0 && process_runs(pid))); i++)
		nanosleep(&ts, NULL);
	if (access(path, F_OK) == 0)
		unlink(path);
}

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
static void set_dns(const struct wg_config *cfg, const char *ifname,
    bool *done)
{
	char name[64], tmpl[] = "/tmp/wgu-dns.XXXXXX";
	FILE *f;
	size_t i;
	int fd, st;
	bool search = false;

	if (!has_nameserver(cfg))
		return;
	if (!have_program("resolvconf")) {
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
	say("resolvconf -a %s -m 0 -x", name);
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

static void unset_dns(const struct wg_config *cfg, const char *ifname)
{
	char name[64];

	if (!has_nameserver(cfg) || !have_program("resolvconf"))
		return;
	resolvconf_name(name, sizeof(name), ifname);
	say("resolvconf -d %s -f", name);
	run((char *const[]){ "resolvconf", "-d", name, "-f", NULL }, true);
}

/* ---------------------------------------------------------------- routes */

static void del_rules(struct wg_netlink *nl, uint32_t table)
{
	static const int families[] = { AF_INET, AF_INET6 };
	size_t i;
	int n;

	/* Delete every copy, as wg-quick's del_if loops over ip rule. */
	for (i = 0; i < 2; i++) {
		for (n = 0; n < 64 && wg_netlink_rule_delete(nl, families[i],
		    table, table) == 0; n++)
			;
		for (n = 0; n < 64 && wg_netlink_rule_delete(nl, families[i],
		    0, 0) == 0; n++)
			;
	}
}

static void write_sysctl(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, value, strlen(value)) < 0)
		fprintf(stderr, "Warning: %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

struct undo {
	bool daemon, rules, dns, firewall;
	bool warned_nft;
	uint32_t table;
	pid_t pid;		/* the daemon's, or 0 */
};

/* The nftables half of add_default, for the family of the default
 * route, with the addresses the interface has now (wg-quick reads them
 * with `ip addr show`).  No nft: the routes work without these rules,
 * so a warning rather than a failed `up`. */
static int add_firewall(struct wg_netlink *nl, int ifindex, int family,
    const char *ifname, struct undo *u)
{
	struct wg_config_prefix *addrs = NULL;
	size_t n = 0;
	int ret;

	if ((ret = wg_netlink_addr_list(nl, ifindex, family, &addrs, &n)) < 0) {
		fprintf(stderr, "wgu: reading the addresses of %s: %s\n",
		    ifname, strerror(-ret));
		return ret;
	}
	u->firewall = true;
	ret = wg_firewall_add(ifname, family, addrs, n, u->table);
	if (ret == -ENOENT) {
		if (!u->warned_nft)
			fprintf(stderr, "Warning: nft not found: the default "
			    "route through %s has no rules against spoofed "
			    "packets and no conntrack marks\n", ifname);
		u->warned_nft = true;
		ret = 0;
	}
	free(addrs);
	return ret;
}

/* wg-quick's add_default: the route in its own table, marked tunnel
 * packets skip that table, main's default route is suppressed, reverse
 * path checks see the mark, and the nftables rules. */
static int add_default(struct wg_netlink *nl, int ifindex,
    const struct wg_config_prefix *p, const char *ifname, struct undo *u)
{
	char pfx[64];
	const char *v = p->family == AF_INET ? "-4" : "-6";
	uint32_t table = u->table;
	int ret;

	wg_config_prefix_format(p, pfx, sizeof(pfx));
	say("ip %s route add %s dev %s table %u", v, pfx, ifname, table);
	if ((ret = wg_netlink_route_add(nl, ifindex, p, table)) < 0 &&
	    ret != -EEXIST)
		return ret;
	u->rules = true;
	say("ip %s rule add not fwmark %u table %u", v, table, table);
	if ((ret = wg_netlink_rule_add(nl, p->family, table, table)) < 0)
		return ret;
	say("ip %s rule add table main suppress_prefixlength 0", v);
	if ((ret = wg_netlink_rule_add(nl, p->family, 0, 0)) < 0)
		return ret;
	if (p->family == AF_INET) {
		say("sysctl -q net.ipv4.conf.all.src_valid_mark=1");
		write_sysctl("/proc/sys/net/ipv4/conf/all/src_valid_mark",
		    "1");
	}
	return add_firewall(nl, ifindex, p->family, ifname, u);
}

static int add_routes(struct wg_netlink *nl, int ifindex,
    const struct wg_config *cfg, const char *ifname, struct undo *u)
{
	const struct wg_config_prefix *p;
	uint32_t table;
	char pfx[64];
	size_t i, j;
	int ret;

	if (cfg->table_mode == WG_CONFIG_TABLE_OFF)
		return 0;
	for (i = 0; i < cfg->n_peers; i++) {
		for (j = 0; j < cfg->peers[i].n_allowed_ips; j++) {
			p = &cfg->peers[i].allowed_ips[j];
			table = cfg->table_mode == WG_CONFIG_TABLE_NUMBER ?
			    cfg->table : RT_TABLE_MAIN;
			if (cfg->table_mode == WG_CONFIG_TABLE_AUTO &&
			    wg_config_prefix_is_default(p)) {
				ret = add_default(nl, ifindex, p, ifname, u);
			} else {
				wg_config_prefix_format(p, pfx, sizeof(pfx));
				say("ip route add %s dev %s table %u", pfx,
				    ifname, table);
				ret = wg_netlink_route_add(nl, ifindex, p,
				    table);
			}
			if (ret < 0 && ret != -EEXIST) {
				wg_config_prefix_format(p, pfx, sizeof(pfx));
				fprintf(stderr, "wgu: route %s: %s\n", pfx,
				    strerror(-ret));
				return ret;
			}
		}
	}
	return 0;
}

static bool has_default_route(const struct wg_config *cfg)
{
	size_t i, j;

	for (i = 0; i < cfg->n_peers; i++)
		for (j = 0; j < cfg->peers[i].n_allowed_ips; j++)
			if (wg_config_prefix_is_default(
			    &cfg->peers[i].allowed_ips[j]))
				return true;
	return false;
}

/* As add_default's get_fwmark: a FwMark of the config is the table too;
 * otherwise the first table from 51820 up with no route, which becomes
 * the fwmark of the tunnel's own UDP. */
static int set_default_table(struct wg_netlink *nl, const struct wg_config *cfg,
    const char *ifname, struct undo *u)
{
	char req[64];
	int ret;

	if (cfg->table_mode != WG_CONFIG_TABLE_AUTO || !has_default_route(cfg))
		return 0;
	if (cfg->has_fwmark && cfg->fwmark) {
		u->table = cfg->fwmark;
		return 0;
	}
	if ((ret = wg_netlink_free_table(nl, WG_CONFIG_DEFAULT_TABLE,
	    &u->table)) < 0) {
		fprintf(stderr, "wgu: no free routing table from %u: %s\n",
		    WG_CONFIG_DEFAULT_TABLE, strerror(-ret));
		return ret;
	}
	say("wg set %s fwmark %u", ifname, u->table);
	snprintf(req, sizeof(req), "set=1\nfwmark=%u\n\n", u->table);
	if ((ret = uapi_call(ifname, req, NULL)) < 0)
		fprintf(stderr, "wgu: setting the fwmark failed: %s\n",
		    strerror(-ret));
	return ret;
}

/* ---------------------------------------------------------------- up */

/* What del_if does when wg-quick's `up` fails, in its order. */
static void roll_back(struct wg_netlink *nl, const struct wg_config *cfg,
    const char *ifname, const struct undo *u)
{
	int ifindex = (int)if_nametoindex(ifname);

	if (u->dns)
		unset_dns(cfg, ifname);
	if (u->firewall)
		wg_firewall_remove(ifname);
	if (u->rules)
		del_rules(nl, u->table);
	if (u->daemon) {
		if (ifindex > 0) {
			say("ip link delete dev %s", ifname);
			wg_netlink_link_delete(nl, ifindex);
		}
		wait_daemon_gone(ifname, u->pid);
	}
}

static int configure(struct wg_netlink *nl, const struct wg_config *cfg,
    const char *ifname, struct undo *u)
{
	struct buf set = { 0 };
	char pfx[64];
	int ifindex, ret;
	size_t i;

	if ((ret = build_set(&set, cfg)) < 0)
		goto out;
	if ((ret = run_hooks(cfg, WG_HOOK_PRE_UP, ifname)) < 0)
		goto out;
	if ((ret = start_daemon(ifname)) < 0) {
		fprintf(stderr, "wgu: the daemon for %s did not start\n",
		    ifname);
		goto out;
	}
	u->daemon = true;
	u->pid = daemon_pid(ifname);
	if ((ifindex = (int)if_nametoindex(ifname)) == 0) {
		ret = -ENODEV;
		goto out;
	}
	say("wg setconf %s (through %s/%s.sock)", ifname, WG_UAPI_SOCKET_DIR,
	    ifname);
	if ((ret = uapi_call(ifname, set.s, NULL)) < 0) {
		fprintf(stderr, "wgu: setting the configuration failed: %s\n",
		    strerror(-ret));
		goto out;
	}
	for (i = 0; i < cfg->n_addresses; i++) {
		wg_config_prefix_format(&cfg->addresses[i], pfx, sizeof(pfx));
		say("ip %s address add %s dev %s", cfg->addresses[i].family ==
		    AF_INET ? "-4" : "-6", pfx, ifname);
		if ((ret = wg_netlink_addr_add(nl, ifindex,
		    &cfg->addresses[i])) < 0) {
			fprintf(stderr, "wgu: address %s: %s\n", pfx,
			    strerror(-ret));
			goto out;
		}
	}
	say("ip link set mtu %u up dev %s", cfg->mtu ? cfg->mtu :
	    WG_CONFIG_DEFAULT_MTU, ifname);
	if ((ret = wg_netlink_set_mtu(nl, ifindex, cfg->mtu ? cfg->mtu :
	    WG_CONFIG_DEFAULT_MTU)) < 0 ||
	    (ret = wg_netlink_link_up(nl, ifindex)) < 0) {
		fprintf(stderr, "wgu: mtu/up: %s\n", strerror(-ret));
		goto out;
	}
	set_dns(cfg, ifname, &u->dns);
	if ((ret = set_default_table(nl, cfg, ifname, u)) < 0)
		goto out;
	if ((ret = add_routes(nl, ifindex, cfg, ifname, u)) < 0)
		goto out;
	ret = run_hooks(cfg, WG_HOOK_POST_UP, ifname);
out:
	buf_free(&set);
	return ret;
}

int wg_quick_up(int argc, char **argv)
{
	struct wg_config cfg = { 0 };
	struct wg_netlink nl = { .fd = -1 };
	struct undo u = { 0 };
	struct target t;
	int ret = 1;

	if (argc != 2) {
		fprintf(stderr, "Usage: wgu up [ CONFIG_FILE | INTERFACE ]\n");
		return 1;
	}
	if (resolve_target(&t, argv[1]) < 0 || load_config(&cfg, &t) < 0)
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

/* ---------------------------------------------------------------- down */

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

/* As wg-quick's save_config: the running state (`wg showconf`) with the
 * [Interface] header replaced by the wg-quick keys, the Addresses those
 * the interface has now (addrs, read back from the kernel) and, when
 * the file has an MTU, the link's MTU now (mtu). */
static int save_config(const struct wg_config *cfg, const struct target *t,
    const char *reply, const struct wg_config_prefix *addrs, size_t n_addrs,
    uint32_t mtu)
{
	static const char *const names[WG_HOOK_COUNT] = {
		"PreUp", "PostUp", "PreDown", "PostDown",
	};
	struct buf b = { 0 }, conf = { 0 };
	char tmp[4200], pfx[64];
	size_t i;
	int h, fd, ret = 0;

	buf_printf(&b, "[Interface]\n");
	for (i = 0; i < n_addrs; i++) {
		wg_config_prefix_format(&addrs[i], pfx, sizeof(pfx));
		buf_printf(&b, "Address = %s\n", pfx);
	}
	for (i = 0; i < cfg->n_dns; i++)
		buf_printf(&b, "DNS = %s\n", cfg->dns[i]);
	if (cfg->mtu)
		buf_printf(&b, "MTU = %u\n", mtu ? mtu : cfg->mtu);
	if (cfg->table_mode == WG_CONFIG_TABLE_OFF)
		buf_printf(&b, "Table = off\n");
	else if (cfg->table_mode == WG_CONFIG_TABLE_NUMBER)
		buf_printf(&b, "Table = %u\n", cfg->table);
	buf_printf(&b, "SaveConfig = true\n");
	for (h = 0; h < WG_HOOK_COUNT; h++)
		for (i = 0; i < cfg->n_hooks[h]; i++)
			buf_printf(&b, "%s = %s\n", names[h], cfg->hooks[h][i]);
	showconf(&conf, reply, true);
	/* showconf starts with "[Interface]\n": replace it. */
	if (!conf.failed && conf.len >= 12)
		buf_printf(&b, "%s", conf.s + 12);
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
	buf_free(&b);
	buf_free(&conf);
	return ret;
}

int wg_quick_down(int argc, char **argv)
{
	struct wg_config cfg = { 0 };
	struct wg_netlink nl = { .fd = -1 };
	struct buf reply = { 0 };
	struct wg_config_prefix *addrs = NULL;
	struct target t;
	const char *v;
	uint32_t fwmark = 0;
	size_t n_addrs = 0;
	pid_t pid;
	int ifindex, ret = 1;

	if (argc != 2) {
		fprintf(stderr, "Usage: wgu down [ CONFIG_FILE | INTERFACE ]\n");
		return 1;
	}
	if (resolve_target(&t, argv[1]) < 0 || load_config(&cfg, &t) < 0)
		goto out;
	ifindex = (int)if_nametoindex(t.ifname);
	if (ifindex == 0 || uapi_call(t.ifname, "get=1\n\n", &reply) < 0) {
		fprintf(stderr, "wgu: `%s' is not a WireGuard interface\n",
		    t.ifname);
		goto out;
	}
	if ((v = uapi_value(reply.s, "fwmark")) != NULL)
		fwmark = (uint32_t)strtoul(v, NULL, 10);
	if (wg_netlink_open(&nl) < 0) {
		fprintf(stderr, "wgu: rtnetlink: %s\n", strerror(errno));
		goto out;
	}
	if (run_hooks(&cfg, WG_HOOK_PRE_DOWN, t.ifname) < 0)
		goto out;
	if (cfg.save_config) {
		buf_free(&reply);
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
		if (uapi_call(t.ifname, "get=1\n\n", &reply) < 0 ||
		    save_config(&cfg, &t, reply.s, addrs, n_addrs,
		    link_mtu(t.ifname)) < 0)
			goto out;
	}
	pid = daemon_pid(t.ifname);
	say("ip link delete dev %s", t.ifname);
	if ((ret = wg_netlink_link_delete(&nl, ifindex)) < 0) {
		fprintf(stderr, "wgu: deleting %s: %s\n", t.ifname,
		    strerror(-ret));
		ret = 1;
		goto out;
	}
	wait_daemon_gone(t.ifname, pid);
	/* As wg-quick's del_if: the rules of a default route, found from
	 * the running fwmark and allowed IPs. */
	if (cfg.table_mode == WG_CONFIG_TABLE_AUTO && fwmark != 0 &&
	    strstr(reply.s, "/0\n") != NULL)
		del_rules(&nl, fwmark);
	unset_dns(&cfg, t.ifname);
	wg_firewall_remove(t.ifname);
	ret = run_hooks(&cfg, WG_HOOK_POST_DOWN, t.ifname) < 0 ? 1 : 0;
out:
	free(addrs);
	buf_free(&reply);
	wg_netlink_close(&nl);
	wg_config_clear(&cfg);
	return ret;
}

/* ---------------------------------------------------------------- show, strip */

int wg_quick_show(int argc, char **argv)
{
	struct buf reply = { 0 }, out = { 0 };
	const char *why;

	if (argc > 2) {
		fprintf(stderr, "Usage: wgu show [ INTERFACE ]\n");
		return 1;
	}
	if (have_program("wg")) {
		char *args[] = { "wg", "show", argc == 2 ? argv[1] : NULL,
		    NULL };

		execvp("wg", args);
	}
	if (argc != 2) {
		fprintf(stderr, "wgu: without wg installed, name the "
		    "interface: wgu show INTERFACE\n");
		return 1;
	}
	if (wg_tun_check_name(argv[1], &why) < 0 ||
	    uapi_call(argv[1], "get=1\n\n", &reply) < 0) {
		fprintf(stderr, "wgu: `%s' is not a WireGuard interface\n",
		    argv[1]);
		buf_free(&reply);
		return 1;
	}
	showconf(&out, reply.s, false);
	fputs(out.failed ? "" : out.s, stdout);
	buf_free(&reply);
	buf_free(&out);
	return 0;
}

int wg_quick_strip(int argc, char **argv)
{
	struct wg_config cfg = { 0 };
	struct target t;
	int ret = 1;

	if (argc != 2) {
		fprintf(stderr, "Usage: wgu strip [ CONFIG_FILE | INTERFACE ]\n");
		return 1;
	}
	if (resolve_target(&t, argv[1]) == 0 && load_config(&cfg, &t) == 0) {
		fputs(cfg.stripped, stdout);
		ret = fflush(stdout) == 0 ? 0 : 1;
	}
	wg_config_clear(&cfg);
	return ret;
}
