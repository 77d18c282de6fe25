/* `wgu-dashboard user add|del FILE NAME`: edits the users file the way
 * mosquitto_passwd edits the broker's.  The password comes from stdin,
 * never the command line (ps would show it); the file is rewritten
 * whole into a temporary file beside it and renamed over it, so a reader
 * (the running dashboard) sees the old file or the new, never half. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "dashboard/users.h"

#define PROG "wgu-dashboard user"

static void usage(FILE *f)
{
	fprintf(f,
	    "usage: wgu-dashboard user add FILE NAME [--role viewer|operator]\n"
	    "       wgu-dashboard user del FILE NAME\n"
	    "\n"
	    "add reads the password from stdin (on a terminal: asked twice, "
	    "not echoed),\n"
	    "at least %d characters; the role defaults to viewer.  The file "
	    "is created\n"
	    "(0600) when missing and rewritten atomically.\n",
	    USER_PASSWORD_MIN);
}

/* One line of stdin into pw (cap bytes); the newline is dropped.
 * Returns the length, or -1 with a message. */
static int read_line(char *pw, size_t cap, bool tty, const char *prompt)
{
	struct termios old, quiet;
	size_t len;
	bool echo_off = false;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH,
			    &quiet) == 0;
		}
	}
	if (fgets(pw, (int)cap, stdin) == NULL)
		pw[0] = '\0';
	if (echo_off) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	len = strlen(pw);
	if (len == cap - 1 && pw[len - 1] != '\n') {
		fprintf(stderr, PROG ": password longer than %d bytes\n",
		    USER_PASSWORD_MAX);
		return -1;
	}
	while (len && (pw[len - 1] == '\n' || pw[len - 1] == '\r'))
		pw[--len] = '\0';
	return (int)len;
}

static int read_password(char pw[static USER_PASSWORD_MAX + 2])
{
	char again[USER_PASSWORD_MAX + 2];
	bool tty = isatty(STDIN_FILENO);
	int len, len2, ret = -1;

	len = read_line(pw, USER_PASSWORD_MAX + 2, tty, "Password: ");
	if (len < 0)
		goto out;
	if (len < USER_PASSWORD_MIN) {
		fprintf(stderr, PROG ": the password must have at least %d "
		    "characters (read from stdin)\n", USER_PASSWORD_MIN);
		goto out;
	}
	if (tty) {
		len2 = read_line(again, sizeof(again), tty,
		    "Reenter password: ");
		if (len2 != len || strcmp(again, pw) != 0) {
			fprintf(stderr, PROG ": passwords do not match\n");
			goto out;
		}
	}
	ret = len;
out:
	OPENSSL_cleanse(again, sizeof(again));
	return ret;
}

/* The file's lines except NAME's, then line (when not NULL), into a new
 * file renamed over path.  0 or 1 with a message. */
static int rewrite(const char *path, const char *name, const char *line,
    bool *found)
{
	char tmp[4096], buf[1024], *dir_copy = NULL;
	struct stat st;
	bool exists, skip = false, bol = true;
	mode_t mode = 0600;
	FILE *in = NULL, *out = NULL;
	size_t nlen = strlen(name);
	int fd = -1, dfd, ret = 1;

	*found = false;
	exists = stat(path, &st) == 0;
	if (exists && (st.st_mode & 070))
		mode = 0640;		/* kept readable by its group */
	if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >=
	    (int)sizeof(tmp)) {
		fprintf(stderr, PROG ": %s: name too long\n", path);
		return 1;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		fprintf(stderr, PROG ": cannot create a file beside %s: %s\n",
		    path, strerror(errno));
		return 1;
	}
	if (fchmod(fd, mode) < 0 || (exists && fchown(fd, st.st_uid,
	    st.st_gid) < 0 && errno != EPERM)) {
		fprintf(stderr, PROG ": %s: %s\n", tmp, strerror(errno));
		goto out;
	}
	out = fdopen(fd, "w");
	if (out == NULL)
		goto out;
	fd = -1;
	if (exists && (in = fopen(path, "re")) == NULL) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		goto out;
	}
	/* Line by line, in pieces of buf: a line is NAME's when it starts
	 * with "NAME:". */
	while (in && fgets(buf, sizeof(buf), in)) {
		if (bol) {
			skip = strncmp(buf, name, nlen) == 0 &&
			    buf[nlen] == ':';
			*found |= skip;
		}
		bol = strchr(buf, '\n') != NULL;
		if (!skip)
			fputs(buf, out);
	}
	if (in && !bol)
		fputc('\n', out);
	if (line)
		fprintf(out, "%s\n", line);
	if (fflush(out) != 0 || fsync(fileno(out)) < 0 || ferror(out)) {
		fprintf(stderr, PROG ": writing %s: %s\n", tmp,
		    strerror(errno));
		goto out;
	}
	if (rename(tmp, path) < 0) {
		fprintf(stderr, PROG ": cannot rename %s to %s: %s\n", tmp,
		    path, strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	dir_copy = strdup(path);
	if (dir_copy && (dfd = open(dirname(dir_copy), O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	ret = 0;
out:
	free(dir_copy);
	if (in)
		fclose(in);
	if (out)
		fclose(out);
	if (fd >= 0)
		close(fd);
	if (tmp[0])
		unlink(tmp);
	OPENSSL_cleanse(buf, sizeof(buf));
	return ret;
}

static int user_add(const char *path, const char *name, enum user_role role)
{
	char pw[USER_PASSWORD_MAX + 2], hash[USER_HASH_MAX];
	char line[USER_NAME_MAX + 16 + USER_HASH_MAX];
	bool found;
	int len, ret = 1;

	len = read_password(pw);
	if (len < 0)
		goto out;
	if (users_hash_password(pw, (size_t)len, hash) < 0) {
		fprintf(stderr, PROG ": cannot hash the password\n");
		goto out;
	}
	snprintf(line, sizeof(line), "%s:%s:%s", name, users_role_name(role),
	    hash);
	ret = rewrite(path, name, line, &found);
	if (ret == 0)
		fprintf(stderr, "%s user %s (%s) in %s\n",
		    found ? "replaced" : "added", name, users_role_name(role),
		    path);
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	return ret;
}

static int user_del(const char *path, const char *name)
{
	struct stat st;
	bool found;

	if (stat(path, &st) < 0) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (rewrite(path, name, NULL, &found) != 0)
		return 1;
	if (!found) {
		fprintf(stderr, PROG ": no user %s in %s\n", name, path);
		return 1;
	}
	fprintf(stderr, "deleted user %s from %s\n", name, path);
	return 0;
}

static int role_arg(const char *s, enum user_role *role)
{
	*role = users_role_parse(s);
	if (*role != USER_ROLE_NONE)
		return 0;
	fprintf(stderr, PROG ": --role: '%s' is neither viewer nor operator\n",
	    s);
	return -1;
}

int users_main(int argc, char **argv)
{
	enum user_role role = USER_ROLE_VIEWER;
	const char *pos[3];
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--role") == 0) {
			if (i + 1 == argc) {
				fprintf(stderr, PROG ": --role needs viewer "
				    "or operator\n");
				return 2;
			}
			if (role_arg(argv[++i], &role) < 0)
				return 2;
		} else if (strncmp(a, "--role=", 7) == 0) {
			if (role_arg(a + 7, &role) < 0)
				return 2;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, PROG ": unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		} else if (n == 3) {
			fprintf(stderr, PROG ": too many arguments\n");
			usage(stderr);
			return 2;
		} else {
			pos[n++] = a;
		}
	}
	if (n != 3 || (strcmp(pos[0], "add") != 0 &&
	    strcmp(pos[0], "del") != 0)) {
		usage(stderr);
		return 2;
	}
	if (!users_name_valid(pos[2])) {
		fprintf(stderr, PROG ": bad user name '%s': 1 to %d of "
		    "[A-Za-z0-9._-], not starting with '.'\n", pos[2],
		    USER_NAME_MAX);
		return 2;
	}
	return strcmp(pos[0], "add") == 0 ? user_add(pos[1], pos[2], role) :
	    user_del(pos[1], pos[2]);
}
