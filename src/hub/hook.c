/* The alarm hook and its spawner (see hook.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hub/hook.h"
#include "hub/view.h"

/* What the spawner reports of each run. */
struct hook_result {
	int32_t pid;
	int32_t status;		/* waitpid()'s, when err is 0 */
	int32_t err;		/* posix_spawn()'s errno: not started */
};

/* ---------------------------------------------------------------- env */

static int add(char *buf, size_t cap, size_t *len, const char *name,
    const char *value)
{
	int n = snprintf(buf + *len, cap - *len, "WGU_ALARM_%s=%s", name,
	    value);

	if (n < 0 || (size_t)n + 1 > cap - *len)
		return -ENOSPC;
	*len += (size_t)n + 1;	/* with its NUL */
	return 0;
}

int hook_environment(const struct alarm *a, enum alarm_event ev, char *buf,
    size_t cap)
{
	char id[24], sev[8], start[24], end[24] = "", peak[32] = "";
	size_t len = 0;

	snprintf(id, sizeof(id), "%" PRId64, a->id);
	snprintf(sev, sizeof(sev), "%d", a->severity);
	snprintf(start, sizeof(start), "%" PRId64, a->start);
	if (a->end > 0)
		snprintf(end, sizeof(end), "%" PRId64, a->end);
	if (!isnan(a->peak)) {
		/* The shortest of 15 or 17 digits that reads back exactly:
		 * 10.2, not 10.199999999999999. */
		snprintf(peak, sizeof(peak), "%.15g", a->peak);
		if (strtod(peak, NULL) != a->peak)
			snprintf(peak, sizeof(peak), "%.17g", a->peak);
	}
	if (add(buf, cap, &len, "ID", id) < 0 ||
	    add(buf, cap, &len, "EVENT", alarm_event_name(ev)) < 0 ||
	    add(buf, cap, &len, "NODE", a->node) < 0 ||
	    add(buf, cap, &len, "KIND", alarm_kind_name(a->kind)) < 0 ||
	    add(buf, cap, &len, "FIELD", a->field) < 0 ||
	    add(buf, cap, &len, "SEVERITY", sev) < 0 ||
	    add(buf, cap, &len, "START", start) < 0 ||
	    add(buf, cap, &len, "END", end) < 0 ||
	    add(buf, cap, &len, "PEAK", peak) < 0 ||
	    add(buf, cap, &len, "DETAIL", a->detail) < 0)
		return -ENOSPC;
	return (int)len;
}

/* ---------------------------------------------------------------- spawner */

struct child {
	pid_t pid;
	time_t started;
};

static void report(int sock, pid_t pid, int status, int err)
{
	struct hook_result r = { pid, status, err };

	/* The historian may be gone: nothing to tell then. */
	(void)send(sock, &r, sizeof(r), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Starts cmd with the message's environment (and PATH). */
static void spawn(int sock, const char *cmd, char *msg, size_t len,
    struct child *kids, size_t *nkids)
{
	char *envp[16], *argv[2] = { (char *)cmd, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t all, none;
	size_t n = 0, pos = 0;
	pid_t pid;
	int err;

	envp[n++] = "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
	msg[len] = '\0';
	while (pos < len && n < sizeof(envp) / sizeof(envp[0]) - 1) {
		envp[n++] = msg + pos;
		pos += strlen(msg + pos) + 1;
	}
	envp[n] = NULL;
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSID);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	err = posix_spawn(&pid, cmd, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (err != 0) {
		report(sock, 0, 0, err);
		return;
	}
	kids[*nkids].pid = pid;
	kids[*nkids].started = time(NULL);
	(*nkids)++;
}

static void reap(int sock, struct child *kids, size_t *nkids)
{
	size_t i;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		report(sock, pid, status, 0);
		for (i = 0; i < *nkids; i++)
			if (kids[i].pid == pid)
				kids[i] = kids[--*nkids];
	}
}

__attribute__((noreturn))
static void spawner_main(int sock, const char *cmd)
{
	struct child kids[HOOK_RUNNING_MAX];
	char msg[HOOK_MESSAGE_MAX + 1];
	struct signalfd_siginfo si;
	struct pollfd pf[2];
	bool open = true;
	size_t nkids = 0, i;
	sigset_t chld;
	ssize_t n;
	int sfd;

	/* In ps and the journal, apart from the historian it came from. */
	(void)prctl(PR_SET_NAME, "wgu-alarm-hooks", 0, 0, 0);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	if ((sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		_exit(1);
	while (open || nkids > 0) {
		/* A full house reads no more: the socket's queue holds the
		 * next runs, and the historian counts what does not fit. */
		pf[0] = (struct pollfd){ .fd = open && nkids <
		    HOOK_RUNNING_MAX ? sock : -1, .events = POLLIN };
		pf[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		if (poll(pf, 2, 1000) < 0 && errno != EINTR)
			_exit(1);
		if (pf[1].revents & POLLIN) {
			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				;
		}
		reap(sock, kids, &nkids);
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(sock, msg, HOOK_MESSAGE_MAX, MSG_DONTWAIT);
			if (n > 0)
				spawn(sock, cmd, msg, (size_t)n, kids, &nkids);
			else if (n == 0 || (errno != EAGAIN && errno != EINTR))
				open = false;
		}
		for (i = 0; i < nkids; i++)
			if (time(NULL) - kids[i].started > HOOK_TIMEOUT_SECONDS)
				kill(kids[i].pid, SIGKILL);	/* reaped next */
	}
	_exit(0);
}

int hook_init(struct hook *h, const char *cmd,
    const struct sandbox_policy *policy)
{
	struct sandbox_policy sp = *policy;
	char err[512];
	int sv[2];
	pid_t pid;

	*h = (struct hook){ .cmd = cmd, .fd = -1 };
	if (cmd == NULL)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		goto fail;
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		goto fail;
	}
	if (pid == 0) {
		close(sv[0]);
		/* Its user, no privilege, but no filter: see hook.h. */
		sp.no_filter = true;
		sp.extra_group = NULL;
		if (sandbox_enter(&sp, err, sizeof(err)) < 0) {
			fprintf(stderr, "wgu-historian: alarm hook spawner: "
			    "%s\n", err);
			_exit(1);
		}
		spawner_main(sv[1], cmd);
	}
	close(sv[1]);
	h->fd = sv[0];
	h->spawner = pid;
	return 0;
fail:
	fprintf(stderr, "wgu-historian: --alarm-hook: %s\n", strerror(errno));
	return -errno;
}

static void on_result(struct ev_loop *loop, ev_io *w, int revents)
{
	struct hook *h = w->data;
	struct hook_result r;
	ssize_t n;

	while ((n = recv(h->fd, &r, sizeof(r), MSG_DONTWAIT)) ==
	    (ssize_t)sizeof(r)) {
		if (r.err != 0) {
			h->n.failures++;
			view_warn("alarm hook %s: cannot start: %s", h->cmd,
			    strerror(r.err));
		} else if (WIFSIGNALED(r.status)) {
			h->n.failures++;
			view_warn("alarm hook %s (pid %d): killed by signal %d%s",
			    h->cmd, (int)r.pid, WTERMSIG(r.status),
			    WTERMSIG(r.status) == SIGKILL ? " (ran too long?)" :
			    "");
		} else if (WIFEXITED(r.status) && WEXITSTATUS(r.status) != 0) {
			h->n.failures++;
			view_warn("alarm hook %s (pid %d): exit status %d",
			    h->cmd, (int)r.pid, WEXITSTATUS(r.status));
		}
	}
	if (n == 0) {
		view_warn("alarm hook spawner gone: no more hooks run");
		hook_stop(h);
	}
}

void hook_start(struct hook *h, struct ev_loop *loop)
{
	if (h->fd < 0)
		return;
	h->loop = loop;
	ev_io_init(&h->io, on_result, h->fd, EV_READ);
	h->io.data = h;
	ev_io_start(loop, &h->io);
}

void hook_alarm(struct hook *h, const struct alarm *a, enum alarm_event ev)
{
	char msg[HOOK_MESSAGE_MAX];
	int len;

	if (h->fd < 0 || (ev != ALARM_RAISE && ev != ALARM_CLEAR))
		return;
	len = hook_environment(a, ev, msg, sizeof(msg));
	if (len < 0 || send(h->fd, msg, (size_t)len, MSG_DONTWAIT |
	    MSG_NOSIGNAL) != len) {
		h->n.dropped++;
		h->n.failures++;
		view_warn("alarm hook: run for alarm %" PRId64 " (%s) dropped: "
		    "%s", a->id, alarm_event_name(ev), len < 0 ?
		    "too long" : strerror(errno));
		return;
	}
	h->n.runs++;
}

void hook_stop(struct hook *h)
{
	if (h->fd < 0)
		return;
	if (h->loop)
		ev_io_stop(h->loop, &h->io);
	close(h->fd);
	h->fd = -1;
}
