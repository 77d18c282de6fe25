/* The seccomp filter and the descriptor sweep of common/sandbox.c, each
 * case in a child process: the filter cannot be taken off again.  The
 * children stay the user they are (SANDBOX_TEST_USER=root): the uid change
 * is checked by tests/sys_sandbox.sh, which needs root and the users. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "common/sandbox.h"

static char tmpfile_path[] = "/tmp/wgu-test-sandbox.XXXXXX";

/* The daemon's and the historian's lists, but the user stays. */
static struct sandbox_policy as(const struct sandbox_policy *p)
{
	struct sandbox_policy q = *p;

	q.user_env = "SANDBOX_TEST_USER";
	return q;
}

enum outcome { REFUSED = 10, ALLOWED = 11, OTHER = 12, SETUP = 13 };

/* Runs fn in a child under policy p; returns its exit code, or 128 + the
 * signal that ended it. */
static int in_child(const struct sandbox_policy *p, int (*fn)(void))
{
	struct sandbox_policy q = as(p);
	char err[256];
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (sandbox_enter(&q, err, sizeof(err)) < 0) {
			fprintf(stderr, "sandbox_enter: %s\n", err);
			_exit(SETUP);
		}
		_exit(fn());
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int verdict(int ret)
{
	if (ret >= 0)
		return ALLOWED;
	return errno == EPERM ? REFUSED : OTHER;
}

static int open_write(void)
{
	int fd = open(tmpfile_path, O_WRONLY | O_TRUNC | O_CLOEXEC);

	return verdict(fd);
}

static int open_create(void)
{
	return verdict(open(tmpfile_path, O_RDONLY | O_CREAT, 0600));
}

static int open_read(void)
{
	return verdict(open(tmpfile_path, O_RDONLY | O_CLOEXEC));
}

static int exec_true(void)
{
	char *const argv[] = { "true", NULL };

	execve("/bin/true", argv, argv + 1);
	return OTHER;
}

static int netlink_socket(void)
{
	return verdict(socket(AF_NETLINK, SOCK_RAW, 0));
}

static int packet_socket(void)
{
	return verdict(socket(AF_PACKET, SOCK_RAW, 0));
}

static int udp_socket(void)
{
	return verdict(socket(AF_INET6, SOCK_DGRAM, 0));
}

static int mmap_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return verdict(p == MAP_FAILED ? -1 : 0);
}

static int mprotect_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return OTHER;
	return verdict(mprotect(p, 4096, PROT_READ | PROT_EXEC));
}

static int unlisted_mkdir(void)
{
	return verdict(mkdir("/tmp/wgu-test-sandbox-never", 0700));
}

static void test_daemon_filter(void)
{
	const struct sandbox_policy *d = &sandbox_daemon_policy;

	CHECK(in_child(d, open_read) == ALLOWED);
	CHECK(in_child(d, open_write) == REFUSED);
	CHECK(in_child(d, open_create) == REFUSED);
	CHECK(in_child(d, exec_true) == 128 + SIGSYS);
	CHECK(in_child(d, udp_socket) == ALLOWED);
	CHECK(in_child(d, netlink_socket) == REFUSED);
	CHECK(in_child(d, packet_socket) == REFUSED);
	CHECK(in_child(d, mmap_exec) == REFUSED);
	CHECK(in_child(d, mprotect_exec) == REFUSED);
	CHECK(in_child(d, unlisted_mkdir) == REFUSED);
}

static void test_historian_filter(void)
{
	const struct sandbox_policy *h = &sandbox_historian_policy;

	CHECK(in_child(h, open_write) == ALLOWED);
	CHECK(in_child(h, netlink_socket) == ALLOWED);
	CHECK(in_child(h, exec_true) == 128 + SIGSYS);
	CHECK(in_child(h, mmap_exec) == REFUSED);
	CHECK(in_child(&sandbox_sim_policy, exec_true) == 128 + SIGSYS);
}

static int sweep(void)
{
	int fd = open("/dev/null", O_RDONLY);	/* no O_CLOEXEC: inherited */

	if (fd < 3)
		return OTHER;
	sandbox_close_inherited();
	if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
		return OTHER;
	return fcntl(STDERR_FILENO, F_GETFD) == -1 ? OTHER : ALLOWED;
}

static void test_close_inherited(void)
{
	pid_t pid = fork();
	int status = -1;

	if (pid == 0)
		_exit(sweep());
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == ALLOWED);
}

static void test_missing_user(void)
{
	struct sandbox_policy p = sandbox_daemon_policy;
	uint32_t uid, gid;
	char err[512] = "";

	p.user_env = "SANDBOX_TEST_MISSING";
	setenv("SANDBOX_TEST_MISSING", "wgu-no-such-user", 1);
	CHECK(!sandbox_user_lookup(&p, &uid, &gid, err, sizeof(err)));
	CHECK(strstr(err, "user wgu-no-such-user does not exist") != NULL);
	CHECK(strstr(err, "SANDBOX_TEST_MISSING=root") != NULL);
}

int main(void)
{
	int fd = mkstemp(tmpfile_path);

	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	close(fd);
	setenv("SANDBOX_TEST_USER", "root", 1);
	RUN(test_daemon_filter);
	RUN(test_historian_filter);
	RUN(test_close_inherited);
	RUN(test_missing_user);
	unlink(tmpfile_path);
	return check_summary();
}
