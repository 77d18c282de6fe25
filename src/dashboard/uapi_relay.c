/* The UAPI relay; see uapi_relay.h.
 *
 * Wire format on the socketpair: the dashboard writes one byte, 'g' for
 * "get=1" or 's' for "stats=1"; the relay answers with a 4-byte int32 in
 * host order, a negative errno or the length of the answer, then the
 * answer's bytes.  One question at a time (a mutex: libmicrohttpd has
 * several threads). */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/buf.h"
#include "cli/ipc.h"
#include "dashboard/uapi_relay.h"
#include "tun/uapi_path.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

enum { ANSWER_MAX = 1 << 20 };

static int relay_fd = -1;
static pid_t relay_pid = -1;
static char relay_ifname[64];
static pthread_mutex_t relay_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---------------------------------------------------------------- child */

static char answer[ANSWER_MAX + 1];

static bool write_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	ssize_t w;

	while (n > 0) {
		w = send(fd, s, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		s += w;
		n -= (size_t)w;
	}
	return true;
}

/* The answer to req from the daemon, through its blank line, into
 * answer.  Its length or a negative errno. */
static int32_t ask(const char *path, const char *req)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len = 0;
	ssize_t n;
	int fd, ret;

	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    !write_all(fd, req, strlen(req))) {
		ret = -errno;
		close(fd);
		return ret ? ret : -EIO;
	}
	for (;;) {
		if (len == ANSWER_MAX) {
			close(fd);
			return -EMSGSIZE;
		}
		n = read(fd, answer + len, ANSWER_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		answer[len] = '\0';
		if ((len == 1 && answer[0] == '\n') ||
		    (len >= 2 && strcmp(answer + len - 2, "\n\n") == 0))
			break;
	}
	close(fd);
	return (int32_t)len;
}

size_t uapi_relay_strip_keys(char *text)
{
	char *in = text, *out = text, *nl;
	size_t n;

	while (*in) {
		nl = strchr(in, '\n');
		n = nl ? (size_t)(nl - in + 1) : strlen(in);
		if (strncmp(in, "private_key=", 12) != 0 &&
		    strncmp(in, "preshared_key=", 14) != 0) {
			memmove(out, in, n);
			out += n;
		}
		in += n;
	}
	*out = '\0';
	return (size_t)(out - text);
}

/* Uid 0 stays (the socket is root's, mode 0600), every capability
 * goes, and the filter leaves what the loop below needs. */
static int confine(void)
{
	static const char *const allowed[] = {
		"read", "write", "close", "connect", "sendto", "recvfrom",
		"exit", "exit_group", "rt_sigreturn", "brk", "munmap",
		"madvise", "futex", "getpid", "gettid", "clock_gettime",
		NULL,
	};
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct data[2];
	scmp_filter_ctx ctx;
	unsigned long cap;
	size_t i;
	int ret = 0;

	for (cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 &&
		    errno == EINVAL)
			break;
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL)
		return -ENOMEM;
	for (i = 0; allowed[i] && ret == 0; i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);

		if (nr != __NR_SCMP_ERROR)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	if (ret == 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		    SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	if (ret == 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (ret == 0)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	return ret;
}

static void relay_main(int fd, const char *ifname)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)], op;
	int32_t len;
	ssize_t n;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() == 1)
		_exit(0);		/* the dashboard is already gone */
	if (fd != 3) {
		dup2(fd, 3);
		fd = 3;
	}
	syscall(SYS_close_range, 4u, ~0u, 0u);
	if (wg_uapi_socket_path(path, sizeof(path), ifname) < 0 ||
	    confine() < 0)
		_exit(1);
	for (;;) {
		n = read(fd, &op, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);
		if (op == 'g')
			len = ask(path, "get=1\n\n");
		else if (op == 's')
			len = ask(path, "stats=1\n\n");
		else
			len = -EINVAL;
		if (len > 0) {
			answer[len] = '\0';
			len = (int32_t)uapi_relay_strip_keys(answer);
		}
		if (!write_all(fd, &len, sizeof(len)) ||
		    (len > 0 && !write_all(fd, answer, (size_t)len)))
			_exit(0);
	}
}

/* ---------------------------------------------------------------- parent */

int uapi_relay_start(const char *ifname, char *err, size_t errlen)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int sp[2];

	if (wg_uapi_socket_path(path, sizeof(path), ifname) < 0 ||
	    strlen(ifname) >= sizeof(relay_ifname)) {
		snprintf(err, errlen, "--interface: '%s' is no interface name",
		    ifname);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	relay_pid = fork();
	if (relay_pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if (relay_pid == 0) {
		close(sp[0]);
		relay_main(sp[1], ifname);
		_exit(0);
	}
	close(sp[1]);
	relay_fd = sp[0];
	strcpy(relay_ifname, ifname);
	return 0;
}

void uapi_relay_stop(void)
{
	if (relay_fd >= 0) {
		close(relay_fd);	/* the relay reads EOF and exits */
		relay_fd = -1;
	}
	/* Not waited for: the sandbox has no wait4, and a child of an
	 * exiting process is reaped by init. */
	relay_pid = -1;
}

static bool read_all(int fd, void *p, size_t n)
{
	char *s = p;
	ssize_t r;

	while (n > 0) {
		r = recv(fd, s, n, MSG_WAITALL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		s += r;
		n -= (size_t)r;
	}
	return true;
}

/* One question through the relay into reply; 0 or a negative errno. */
static int relay_ask(char op, struct wg_buf *reply)
{
	int32_t len;
	char *text = NULL;
	int ret = 0;

	pthread_mutex_lock(&relay_lock);
	if (!write_all(relay_fd, &op, 1) ||
	    !read_all(relay_fd, &len, sizeof(len))) {
		ret = -EPIPE;		/* the relay is gone */
	} else if (len < 0) {
		ret = len;
	} else if (len > ANSWER_MAX || (text = malloc((size_t)len + 1)) ==
	    NULL) {
		ret = -ENOMEM;
	} else if (!read_all(relay_fd, text, (size_t)len)) {
		ret = -EPIPE;
	}
	pthread_mutex_unlock(&relay_lock);
	if (ret == 0 && len >= 0 && text) {
		text[len] = '\0';
		wg_buf_printf(reply, "%s", text);
		if (reply->failed)
			ret = -ENOMEM;
	}
	free(text);
	return ret;
}

int __real_wg_ipc_call(const char *ifname, const char *req,
    struct wg_buf *reply);
int __wrap_wg_ipc_call(const char *ifname, const char *req,
    struct wg_buf *reply);

int __wrap_wg_ipc_call(const char *ifname, const char *req,
    struct wg_buf *reply)
{
	struct wg_buf local = { 0 }, *r = reply ? reply : &local;
	char op;
	int ret;

	if (relay_fd < 0 || strcmp(ifname, relay_ifname) != 0)
		return __real_wg_ipc_call(ifname, req, reply);
	if (strcmp(req, "get=1\n\n") == 0)
		op = 'g';
	else if (strcmp(req, "stats=1\n\n") == 0)
		op = 's';
	else
		return -EPERM;		/* the relay asks nothing else */
	wg_buf_printf(r, "%s", "");
	ret = relay_ask(op, r);
	if (ret == 0)
		ret = wg_ipc_errno(r->s);
	wg_buf_free(&local);
	return ret;
}
