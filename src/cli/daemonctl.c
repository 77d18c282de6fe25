/* The daemon as `wgu up` and `wgu down` see it: a process of this very
 * binary started as `wgu IFNAME`, found through its UAPI socket, and
 * waited for until it is gone with its socket. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/daemonctl.h"
#include "cli/ipc.h"
#include "cli/run.h"
#include "tun/uapi_path.h"

/* Starts `wgu IFNAME` (this very binary), which returns once the TUN
 * device and the UAPI socket exist. */
int wg_daemonctl_start(const char *ifname)
{
	pid_t pid;
	int status;

	wg_say("wgu %s", ifname);
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
pid_t wg_daemonctl_pid(const char *ifname)
{
	struct ucred cred = { 0 };
	socklen_t len = sizeof(cred);
	int fd = wg_ipc_connect(ifname);

	if (fd < 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
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
 * waiting for both (pid as wg_daemonctl_pid found it before, or 0) makes
 * `down` and a rollback leave nothing behind. */
void wg_daemonctl_wait_gone(const char *ifname, pid_t pid)
{
	char path[WG_UAPI_PATH_SIZE];
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int i;

	wg_uapi_socket_path(path, sizeof(path), ifname);
	for (i = 0; i < 250 && (access(path, F_OK) == 0 ||
	    (pid > 0 && process_runs(pid))); i++)
		nanosleep(&ts, NULL);
	if (access(path, F_OK) == 0)
		unlink(path);
}
