/* Dropping to an unprivileged user under a seccomp filter; see
 * sandbox.h.
 *
 * The order matters.  As root: keep-caps on, the bounding set emptied
 * (needs CAP_SETPCAP, so before the uid changes), supplementary groups,
 * gid and uid changed (all three ids: no saved uid 0 to go back to), then
 * the kept capabilities raised again in the effective set (a uid change
 * from 0 clears it), no_new_privs, and the filter last, so that nothing
 * above needs to be in it.
 *
 * The filter's default is EPERM, not death: a call we did not foresee in
 * a rarely taken path (a library asking for the CPU count) then fails like
 * any refused call and is handled.  What no program here ever does and an
 * attacker would (exec, ptrace, mount, module loading, the uid calls) kills
 * the whole process (SIGSYS), which its supervisor notices.
 *
 * Raw capget/capset, not libcap: one library (libseccomp) is enough. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/sandbox.h"

/* The raw call: headers older than Linux 5.9 lack it, and glibc's
 * wrapper came later still. */
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

const char *const sandbox_base_syscalls[] = {
	/* I/O on what is open */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "close",
	"lseek", "fstat", "newfstatat", "stat", "lstat", "statx", "fcntl",
	"ioctl", "dup", "dup2", "dup3", "pipe2", "readlink", "readlinkat",
	"getdents64", "getdents", "access", "faccessat", "faccessat2", "getcwd",
	/* libev */
	"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
	"epoll_pwait2", "poll", "ppoll", "select", "pselect6", "eventfd2",
	"signalfd4", "timerfd_create", "timerfd_settime", "inotify_init1",
	"inotify_add_watch", "inotify_rm_watch",
	/* time, randomness */
	"clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep",
	"clock_nanosleep", "getrandom",
	/* memory (mprotect and mmap are added without PROT_EXEC) */
	"brk", "munmap", "mremap", "madvise",
	/* signals, process */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigtimedwait",
	"sigaltstack", "restart_syscall", "getpid", "gettid", "getppid",
	"getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid",
	"getgroups", "tgkill", "tkill", "kill", "exit", "exit_group",
	"futex", "set_robust_list", "rseq", "sched_yield", "sched_getaffinity",
	"uname", "sysinfo", "prlimit64", "getrlimit", "prctl", "getpriority",
	"capget",
	/* sockets (socket() itself by family, below): syslog's, name
	 * lookups, the broker, the UAPI's clients */
	"connect", "sendto", "sendmsg", "sendmmsg", "recvfrom",
	"recvmsg", "recvmmsg", "shutdown", "getsockname", "getpeername",
	"getsockopt", "setsockopt", "accept4", "socketpair",
	NULL
};

/* ---------------------------------------------------------------- programs */

/* wgu's daemon: CAP_NET_ADMIN for SO_MARK and the forced socket buffers,
 * CAP_NET_BIND_SERVICE for a listen-port below 1024 (src/tun/privileges.c).
 * It writes no file once set up. */
static const char *const daemon_syscalls[] = {
	"bind",			/* `wg set listen-port`: new UDP sockets */
	"unlink", "unlinkat",	/* the UAPI socket at exit */
	NULL
};

const struct sandbox_policy sandbox_daemon_policy = {
	.program = "wgu",
	.user_env = "WGU_USER",
	.default_user = "wgu",
	.keep_caps = (1ull << CAP_NET_ADMIN) | (1ull << CAP_NET_BIND_SERVICE),
	.syscalls = daemon_syscalls,
	.write_opens = false,
};

/* wgu-historian: appends to its logs, reopens them on SIGHUP; its store
 * (SQLite in WAL mode, opened before the drop) also truncates its -wal
 * file after a checkpoint and removes it and the -shm file at exit. */
static const char *const historian_syscalls[] = {
	"fsync", "fdatasync", "fallocate", "flock", "ftruncate", "unlink",
	"unlinkat", NULL
};

const struct sandbox_policy sandbox_historian_policy = {
	.program = "wgu-historian",
	.user_env = "WGU_HISTORIAN_USER",
	.default_user = "wgu-historian",
	.keep_caps = 0,
	.syscalls = historian_syscalls,
	.write_opens = true,
	.netlink = true,
};

/* wgu-sim: its spool is compacted into a new file renamed over the old. */
static const char *const sim_syscalls[] = {
	"fsync", "fdatasync", "fallocate", "flock", "rename", "renameat",
	"renameat2", "mkdir", "mkdirat", "unlink", "unlinkat", NULL
};

const struct sandbox_policy sandbox_sim_policy = {
	.program = "wgu-sim",
	.user_env = "WGU_SIM_USER",
	.default_user = "wgu-sim",
	.keep_caps = 0,
	.syscalls = sim_syscalls,
	.write_opens = true,
	.netlink = true,
};

/* wgu-modbus: the spools as wgu-sim's; its device sockets and its
 * spools' sync thread (started under the filter) need only the base set. */
const struct sandbox_policy sandbox_modbus_policy = {
	.program = "wgu-modbus",
	.user_env = "WGU_MODBUS_USER",
	.default_user = "wgu-modbus",
	.keep_caps = 0,
	.syscalls = sim_syscalls,
	.write_opens = true,
	.netlink = true,
};

/* Calls that kill: what an attacker wants and no program here makes. */
static const char *const kill_syscalls[] = {
	"execve", "execveat", "fork", "vfork", "ptrace", "process_vm_readv",
	"process_vm_writev", "mount", "umount2", "pivot_root", "chroot",
	"unshare", "setns", "init_module", "finit_module", "delete_module",
	"kexec_load", "kexec_file_load", "bpf", "perf_event_open", "keyctl",
	"add_key", "request_key", "setuid", "setgid", "setreuid", "setregid",
	"setresuid", "setresgid", "setfsuid", "setfsgid", "setgroups",
	"capset", "personality", "userfaultfd", "io_uring_setup",
	"open_by_handle_at", "name_to_handle_at", "swapon", "swapoff",
	"reboot", "syslog", "acct", "settimeofday", "clock_settime",
	"adjtimex", "clock_adjtime", "mknod", "mknodat", "symlink", "symlinkat",
	"link", "linkat", "chown", "fchown", "lchown", "fchownat", "chmod",
	"fchmod", "fchmodat", "memfd_create", "pkey_mprotect",
	NULL
};

#ifdef __SANITIZE_ADDRESS__
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

/* Valgrind has no seccomp: the filter cannot be loaded under it, and its
 * own run-time would need calls the filter refuses (executable memory for
 * its translations).  There, and only there, the filter is left out. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#ifdef SANITIZED
/* LeakSanitizer at exit: a helper task made by clone() ptrace-stops the
 * threads, and waits for them.  Sanitized builds are for tests only. */
static const char *const sanitizer_syscalls[] = {
	"clone", "ptrace", "wait4", "waitid", "sched_getaffinity", NULL
};
#endif

static bool is_in(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (strcmp(*list, name) == 0)
			return true;
	return false;
}

/* ---------------------------------------------------------------- fds */

void sandbox_close_inherited(void)
{
	DIR *dir;
	struct dirent *de;
	int fd, self;

	if (syscall(SYS_close_range, 3u, ~0u, 0u) == 0)
		return;
	/* Before Linux 5.9: walk /proc/self/fd (closing as we go is safe:
	 * the directory lists what is open at each read). */
	dir = opendir("/proc/self/fd");
	if (dir == NULL)
		return;
	self = dirfd(dir);
	while ((de = readdir(dir)) != NULL) {
		fd = atoi(de->d_name);
		if (fd > 2 && fd != self)
			close(fd);
	}
	closedir(dir);
}

/* ---------------------------------------------------------------- user */

static const char *user_name(const struct sandbox_policy *p)
{
	const char *name = p->user_env ? getenv(p->user_env) : NULL;

	return name && *name ? name : p->default_user;
}

bool sandbox_user_lookup(const struct sandbox_policy *p, uint32_t *uid,
    uint32_t *gid, char *err, size_t errlen)
{
	const char *name = user_name(p);
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(name);
	if (pw == NULL) {
		snprintf(err, errlen, "user %s does not exist: create it "
		    "(make install does: useradd --system --no-create-home "
		    "--shell /usr/sbin/nologin %s) or set %s=root to run "
		    "without it", name, name, p->user_env);
		return false;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return true;
}

/* ---------------------------------------------------------------- caps */

static int set_caps(uint64_t keep)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct data[2];
	uint64_t have;

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	/* A capability never held cannot be kept: capset refuses to grow
	 * the permitted set. */
	have = (uint64_t)data[1].permitted << 32 | data[0].permitted;
	keep &= have;
	memset(data, 0, sizeof(data));
	data[0].permitted = data[0].effective = (uint32_t)keep;
	data[1].permitted = data[1].effective = (uint32_t)(keep >> 32);
	return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

static bool has_setpcap(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	return data[0].effective & (1u << CAP_SETPCAP);
}

/* The kernel may know more capabilities than our headers: on until it
 * says EINVAL (no such capability). */
static int clear_bounding_set(void)
{
	unsigned long cap;

	for (cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0)
			return errno == EINVAL ? 0 : -errno;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -errno;
	}
	return 0;
}

/* The policy's extra group, when it exists: *gid and true. */
static bool extra_group(const struct sandbox_policy *p, gid_t *gid)
{
	struct group *gr;

	if (p->extra_group == NULL ||
	    (gr = getgrnam(p->extra_group)) == NULL)
		return false;
	*gid = gr->gr_gid;
	return true;
}

static int become(const struct sandbox_policy *p, uid_t uid, gid_t gid)
{
	gid_t extra;
	bool has_extra = extra_group(p, &extra);

	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ||
	    setgroups(has_extra ? 1 : 0, has_extra ? &extra : NULL) < 0 ||
	    setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0)
		return -errno;
	(void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
#ifdef SANITIZED
	/* The uid change made the process non-dumpable, which stops
	 * LeakSanitizer's helper from attaching to it at exit. */
	(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	return 0;
}

/* ---------------------------------------------------------------- probe */

/* Test only: with WGU_SANDBOX_PROBE=exec or =open:PATH in the
 * environment, SIGUSR2 makes the running program attempt that forbidden
 * call (tests/sys_sandbox.sh).  Without the variable nothing is
 * installed.  Only async-signal-safe calls in the handler. */
static const char *probe;

static void say(const char *s)
{
	(void)!write(STDERR_FILENO, s, strlen(s));
}

static void on_probe(int sig)
{
	int saved = errno, fd;

	if (strcmp(probe, "exec") == 0) {
		char *const argv[] = { "true", NULL };

		say("sandbox probe: execve\n");
		execve("/bin/true", argv, argv + 1);
		say("sandbox probe: execve refused\n");
	} else if (strncmp(probe, "open:", 5) == 0) {
		fd = open(probe + 5, O_WRONLY | O_TRUNC | O_CLOEXEC);
		if (fd < 0) {
			say(errno == EPERM ? "sandbox probe: open refused "
			    "(EPERM)\n" : "sandbox probe: open refused\n");
		} else {
			say("sandbox probe: open for writing succeeded\n");
			close(fd);
		}
	}
	errno = saved;
}

static void arm_probe(void)
{
	struct sigaction sa;

	probe = getenv("WGU_SANDBOX_PROBE");
	if (probe == NULL || *probe == '\0')
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_probe;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
}

/* ---------------------------------------------------------------- log */

/* With WGU_SANDBOX_LOG=1 (tests), a call outside the allow-list is still
 * refused with EPERM but also named on stderr ("sandbox: wgu: refused
 * system call 41"), so that a call missing from a list shows up in a
 * test's log instead of as a quiet failure.  x86-64 only: elsewhere the
 * variable is ignored and refusals stay silent. */
#if defined(__x86_64__)
#include <ucontext.h>
#define CAN_LOG 1

static const char *log_program;

static void put_number(char *end, unsigned long n)
{
	do {
		*--end = (char)('0' + n % 10);
		n /= 10;
	} while (n);
}

static void on_sigsys(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	char num[24] = "                     \n";

	put_number(num + sizeof(num) - 2, (unsigned long)si->si_syscall);
	say("sandbox: ");
	say(log_program);
	say(": refused system call");
	say(num);
	uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
}

static bool arm_log(const char *program)
{
	const char *v = getenv("WGU_SANDBOX_LOG");
	struct sigaction sa;

	if (v == NULL || strcmp(v, "1") != 0)
		return false;
	log_program = program;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGSYS, &sa, NULL) == 0;
}
#endif

/* ---------------------------------------------------------------- filter */

static int add_list(scmp_filter_ctx ctx, const char *const *list,
    uint32_t action, const char *const *unless)
{
	int nr, ret;

	for (; *list; list++) {
		if (unless && is_in(unless, *list))
			continue;
		nr = seccomp_syscall_resolve_name(*list);
		if (nr == __NR_SCMP_ERROR)
			continue;	/* not on this architecture */
		ret = seccomp_rule_add(ctx, action, nr, 0);
		if (ret < 0 && ret != -EEXIST)
			return ret;
	}
	return 0;
}

static int add_opens(scmp_filter_ctx ctx, bool write)
{
	/* Read-only opens: name lookups, /proc for the sanitizers. */
	const scmp_datum_t mask = O_ACCMODE | O_CREAT | O_TRUNC;
	int ret;

	if (write) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 0);
		if (ret == 0)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
			    SCMP_SYS(open), 0);
		if (ret == 0)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
			    SCMP_SYS(ftruncate), 0);
		return ret;
	}
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, mask, O_RDONLY));
	if (ret == 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1,
		    SCMP_A1(SCMP_CMP_MASKED_EQ, mask, O_RDONLY));
	return ret;
}

/* New sockets of the families the programs use: AF_UNIX (syslog, nscd),
 * AF_INET and AF_INET6; AF_NETLINK only for name lookups (getaddrinfo's
 * AI_ADDRCONFIG asks rtnetlink), never for the daemon, which with
 * CAP_NET_ADMIN could otherwise reconfigure the network. */
static int add_sockets(scmp_filter_ctx ctx, bool netlink)
{
	static const int families[] = { AF_UNIX, AF_INET, AF_INET6 };
	size_t i;
	int ret = 0;

	for (i = 0; i < sizeof(families) / sizeof(families[0]) && ret == 0;
	    i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i]));
	if (ret == 0 && netlink)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)AF_NETLINK));
	return ret;
}

static int load_filter(const struct sandbox_policy *p)
{
	uint32_t refuse = SCMP_ACT_ERRNO(EPERM);
	scmp_filter_ctx ctx;
	const char *const *unless = NULL;
	int ret;

#ifdef CAN_LOG
	if (arm_log(p->program))
		refuse = SCMP_ACT_TRAP;
#endif
	ctx = seccomp_init(refuse);
	if (ctx == NULL)
		return -ENOMEM;
#ifdef SANITIZED
	unless = sanitizer_syscalls;
	if ((ret = add_list(ctx, sanitizer_syscalls, SCMP_ACT_ALLOW,
	    NULL)) < 0)
		goto out;
#endif
	if ((ret = add_list(ctx, sandbox_base_syscalls, SCMP_ACT_ALLOW,
	    NULL)) < 0 ||
	    (p->syscalls && (ret = add_list(ctx, p->syscalls, SCMP_ACT_ALLOW,
	    NULL)) < 0) ||
	    (ret = add_list(ctx, kill_syscalls, SCMP_ACT_KILL_PROCESS,
	    unless)) < 0 ||
	    (ret = add_opens(ctx, p->write_opens)) < 0)
		goto out;
	if ((ret = add_sockets(ctx, p->netlink)) < 0)
		goto out;
	/* Memory never becomes executable. */
	if ((ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0 ||
	    (ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0)
		goto out;
#ifndef SANITIZED
	/* clone for threads only (CLONE_THREAD set): no new processes. */
	if ((ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD))) < 0)
		goto out;
#endif
	/* clone3's flags are behind a pointer: "not here" makes glibc fall
	 * back to clone. */
	if ((ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
	    SCMP_SYS(clone3), 0)) < 0)
		goto out;
	ret = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	return ret;
}

/* ---------------------------------------------------------------- enter */

int sandbox_enter(const struct sandbox_policy *p, char *err, size_t errlen)
{
	uint32_t uid = 0, gid = 0;
	const char *what;
	int ret = 0;

	if (geteuid() == 0 && !sandbox_user_lookup(p, &uid, &gid, err,
	    errlen))
		return -ENOENT;
	what = "the bounding set";
	if (has_setpcap() && (ret = clear_bounding_set()) < 0)
		goto out;
	what = "the user";
	if (uid != 0 && (ret = become(p, uid, gid)) < 0)
		goto out;
	what = "the capabilities";
	if ((ret = set_caps(p->keep_caps)) < 0)
		goto out;
	/* Before 4.3 there is no ambient set: nothing to clear. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL) {
		ret = -errno;
		goto out;
	}
	what = "no_new_privs";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		ret = -errno;
		goto out;
	}
	arm_probe();
	what = "the seccomp filter";
	if (p->no_filter)
		ret = 0;
	else if (RUNNING_ON_VALGRIND)
		fprintf(stderr, "%s: under valgrind: no seccomp filter\n",
		    p->program);
	else
		ret = load_filter(p);
out:
	if (ret < 0)
		snprintf(err, errlen, "cannot drop privileges (%s): %s", what,
		    strerror(-ret));
	return ret;
}

int sandbox_drop(const struct sandbox_policy *p)
{
	char err[512];
	int ret = sandbox_enter(p, err, sizeof(err));

	if (ret < 0)
		fprintf(stderr, "%s: %s\n", p->program, err);
	return ret;
}

int sandbox_mkdir(const struct sandbox_policy *p, const char *path,
    mode_t mode)
{
	uint32_t uid, gid;
	char err[512];

	if (mkdir(path, mode) != 0)
		return -errno;
	if (geteuid() != 0 || !sandbox_user_lookup(p, &uid, &gid, err,
	    sizeof(err)) || uid == 0)
		return 0;
	/* Just made by us: no one else could have swapped it. */
	return lchown(path, uid, gid) == 0 ? 0 : -errno;
}
