/* The programs `wgu up` and `wgu down` run, and how they show them:
 * wg-quick's "[#] command" trace, a program run and waited for, whether a
 * program is installed, and the PreUp/PostUp/PreDown/PostDown hooks. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/buf.h"
#include "cli/run.h"

/* wg-quick's "[#] command" trace on stderr. */
void wg_say(const char *fmt, ...)
{
	va_list ap;

	fputs("[#] ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Runs argv, waits; returns its exit status, or -1. */
int wg_run(char *const argv[], bool quiet)
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
int wg_run_hooks(const struct wg_config *cfg, enum wg_config_hook h,
    const char *ifname)
{
	struct wg_buf cmd = { 0 };
	const char *s, *pct;
	size_t i;
	int st;

	for (i = 0; i < cfg->n_hooks[h]; i++) {
		cmd.len = 0;
		wg_buf_printf(&cmd, "%s", "");
		for (s = cfg->hooks[h][i]; (pct = strstr(s, "%i")); s = pct + 2)
			wg_buf_printf(&cmd, "%.*s%s", (int)(pct - s), s,
			    ifname);
		wg_buf_printf(&cmd, "%s", s);
		if (cmd.failed) {
			wg_buf_free(&cmd);
			return -ENOMEM;
		}
		wg_say("%s", cmd.s);
		st = wg_run((char *const[]){ "bash", "-c", cmd.s, NULL },
		    false);
		if (st != 0) {
			fprintf(stderr, "wgu: hook failed (status %d)\n", st);
			wg_buf_free(&cmd);
			return -ECHILD;
		}
	}
	wg_buf_free(&cmd);
	return 0;
}

bool wg_run_exists(const char *name)
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
