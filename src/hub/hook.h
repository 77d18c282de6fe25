/* wgu-historian's --alarm-hook: a program run on every alarm raised and
 * cleared, with the alarm in its environment only (WGU_ALARM_ID, _EVENT
 * "raise" or "clear", _NODE, _KIND, _FIELD, _SEVERITY 1 or 2, _START and
 * _END in ms since the epoch, _END and _PEAK empty when none, _DETAIL),
 * beside PATH.  It is started with posix_spawn() of the argv {CMD}: no
 * shell reads a line made of the alarm's text, so a node's name or a
 * device's reason cannot become a command.
 *
 * The historian's own seccomp filter forbids exec and fork (and a
 * program started under it could not even map its libraries), so the
 * programs are started by a spawner: a process forked before anything is
 * opened (hook_init(), only when a hook is configured), which becomes
 * the historian's user without any privilege (no capabilities,
 * no_new_privs) but without the filter.  The historian sends it one
 * message per run over a socketpair and never waits: a full queue drops
 * the run (counted); the spawner reaps its children (SIGCHLD, a
 * signalfd), kills one that runs longer than HOOK_TIMEOUT_SECONDS, and
 * reports each exit, which the historian logs when it is a failure and
 * counts.  The spawner ends when the historian's end of the socket
 * closes and its last child is done. */
#ifndef WGU_HUB_HOOK_H
#define WGU_HUB_HOOK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <ev.h>

#include "common/sandbox.h"
#include "hub/alarms.h"

enum {
	HOOK_TIMEOUT_SECONDS = 60,
	HOOK_RUNNING_MAX = 16,		/* beyond: a run waits its turn */
	HOOK_MESSAGE_MAX = 4096,
};

struct hook_counters {
	uint64_t runs;		/* sent to the spawner */
	uint64_t failures;	/* not started, exit status not 0, killed */
	uint64_t dropped;	/* not sent: the spawner's queue was full */
};

struct hook {
	const char *cmd;	/* NULL: no hook */
	int fd;			/* our end of the socketpair, -1: none */
	pid_t spawner;
	struct ev_loop *loop;
	ev_io io;
	struct hook_counters n;
};

/* Forks the spawner for cmd (an executable's path), which becomes
 * policy's user without the filter.  Call before anything else is open:
 * the spawner keeps only its socket and stdin/stdout/stderr.  cmd NULL:
 * no hook (every other call does nothing).  0 or a negative errno (said
 * on stderr). */
int hook_init(struct hook *h, const char *cmd,
    const struct sandbox_policy *policy);

void hook_start(struct hook *h, struct ev_loop *loop);

/* Runs the hook for a raise or a clear (other events: nothing). */
void hook_alarm(struct hook *h, const struct alarm *a, enum alarm_event ev);

/* Closes our end: the spawner ends after its last child. */
void hook_stop(struct hook *h);

/* The environment block of a run: NUL-separated NAME=VALUE strings, as
 * sent to the spawner.  Returns its length, or -ENOSPC. */
int hook_environment(const struct alarm *a, enum alarm_event ev, char *buf,
    size_t cap);

#endif
