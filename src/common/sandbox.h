/* What a long-running program keeps of its powers once it is set up:
 * shared by wgu's daemon, wgu-historian and wgu-sim.  Links libseccomp
 * only (no BoringSSL, no libmosquitto), so both sides may link it. */
#ifndef WG_COMMON_SANDBOX_H
#define WG_COMMON_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Who a program becomes and what it may still do. */
struct sandbox_policy {
	const char *program;		/* for messages: "wgu", ... */
	const char *user_env;		/* "WGU_USER": names another user */
	const char *default_user;	/* "wgu" */
	uint64_t keep_caps;		/* mask of CAP_* kept (1ull << CAP_X) */
	const char *const *syscalls;	/* allowed beyond the base list,
					 * NULL-terminated names */
	bool write_opens;		/* open/openat for writing allowed */
	bool netlink;			/* new AF_NETLINK sockets allowed */
	/* A group kept as the only supplementary one, when it exists (the
	 * historian's "wgu", for the UAPI sockets, root:wgu 0770); NULL:
	 * none. */
	const char *extra_group;
	/* No seccomp filter (the rest as above): wgu-historian's alarm hook
	 * spawner, whose programs are the administrator's own. */
	bool no_filter;
};

/* Closes every descriptor above 2 the process inherited.  Call first
 * thing in main, before anything is opened. */
void sandbox_close_inherited(void);

/* The user a root process will become: policy->user_env when set, else
 * policy->default_user; "root" means staying uid 0.  Returns false and
 * fills err when that user does not exist. */
bool sandbox_user_lookup(const struct sandbox_policy *p, uint32_t *uid,
    uint32_t *gid, char *err, size_t errlen);

/* Call once the program holds what it needs (devices, sockets, open
 * files), before its loop runs.  When running as root: becomes the
 * policy's user (groups, gid, uid), keeping only the keep_caps it had.
 * In any case: empties the bounding, inheritable and ambient sets (the
 * bounding set only with CAP_SETPCAP), sets no_new_privs and loads a
 * seccomp filter that allows the listed system calls and kills the
 * process on exec, ptrace and other calls no program here makes; any
 * other call fails with EPERM.  Returns 0, or a negative errno with err
 * filled (the process may then be half-dropped: exit).
 *
 * For tests, read here: WGU_SANDBOX_LOG=1 also names each refused call
 * on stderr; WGU_SANDBOX_PROBE=exec or open:PATH makes SIGUSR2 attempt
 * that forbidden call.  Under valgrind (no seccomp there) the filter is
 * left out. */
int sandbox_enter(const struct sandbox_policy *p, char *err, size_t errlen);

/* The same, printing "PROGRAM: why" on stderr when it fails. */
int sandbox_drop(const struct sandbox_policy *p);

/* mkdir(path, mode); when the process is root and will become another
 * user (sandbox_drop), the new directory is given to that user, so that
 * it can still create files there afterwards.  An existing directory is
 * left alone: returns -EEXIST as mkdir would. */
int sandbox_mkdir(const struct sandbox_policy *p, const char *path,
    mode_t mode);

/* Each program's policy. */
extern const struct sandbox_policy sandbox_daemon_policy;
extern const struct sandbox_policy sandbox_historian_policy;
extern const struct sandbox_policy sandbox_sim_policy;
extern const struct sandbox_policy sandbox_modbus_policy;

/* The system calls every program makes (libev, malloc, time, signals,
 * logging, the sanitizers' runtime), NULL-terminated. */
extern const char *const sandbox_base_syscalls[];

#endif
