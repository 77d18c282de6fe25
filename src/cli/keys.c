/* Key subcommands, matching wireguard-tools' genkey.c and pubkey.c in what
 * they accept, what they print and when they warn.  Differences, all on
 * error paths: messages are prefixed "wgu <subcommand>:", and a failed
 * write to stdout is reported with exit status 1 (wg ignores it). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/subcommands.h"
#include "crypto/encoding.h"
#include "crypto/primitives.h"
#include "tun/fdio.h"

/* What isspace() accepts in the C locale, which is what wg's pubkey skips
 * after the key: space, \t, \n, \v, \f, \r.  Not locale dependent. */
static bool is_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static int usage(const char *cmd, const char *how)
{
	fprintf(stderr, "wgu %s: unexpected arguments; usage: wgu %s%s\n",
	    cmd, cmd, how);
	return 1;
}

/* Prints a key as base64 and a newline on stdout. */
static int print_key(const char *cmd, const uint8_t key[static WG_KEY_LEN])
{
	char line[WG_KEY_BASE64_SIZE];
	int ret = 0;

	wg_key_to_base64(line, key);
	line[WG_KEY_BASE64_LEN] = '\n';
	/* Anything main() may have put in stdio's buffer goes first. */
	fflush(stdout);
	if ((ret = wg_write_all(STDOUT_FILENO, line, sizeof(line))) < 0) {
		fprintf(stderr, "wgu %s: writing standard output: %s\n", cmd,
		    strerror(-ret));
		ret = 1;
	}
	wg_wipe(line, sizeof(line));
	return ret;
}

/* A key written to a regular file that group or others may read is
 * tightened to 0600 before the key is written, so a loose umask never leaves
 * a readable secret behind.  When others could read it, we also print wg
 * genkey's own two-line warning (wg warns on st_mode & S_IRWXO but leaves
 * the mode as it is), so wg's advice about the umask still reaches the user. */
static void protect_key_file(void)
{
	struct stat st;

	if (fstat(STDOUT_FILENO, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	if (st.st_mode & S_IRWXO)
		fputs("Warning: writing to world accessible file.\n"
		    "Consider setting the umask to 077 and trying again.\n",
		    stderr);
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) &&
	    fchmod(STDOUT_FILENO, S_IRUSR | S_IWUSR) != 0)
		fprintf(stderr, "Warning: cannot make the key file private "
		    "(mode 0600): %s\n", strerror(errno));
}

static int generate(int argc, const char *cmd, bool clamp)
{
	uint8_t key[WG_KEY_LEN];
	int ret;

	if (argc != 1)
		return usage(cmd, "");
	protect_key_file();
	wg_random_bytes(key, sizeof(key));
	if (clamp)
		wg_x25519_clamp(key);
	ret = print_key(cmd, key);
	wg_wipe(key, sizeof(key));
	return ret;
}

int genkey_main(int argc, char **argv)
{
	return generate(argc, "genkey", true);
}

int genpsk_main(int argc, char **argv)
{
	return generate(argc, "genpsk", false);
}

/* Reads up to len bytes, stopping early only at end of file.  Returns the
 * count, or -1 with errno set. */
static ssize_t read_full(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

enum trailing { TRAILING_NONE, TRAILING_JUNK, TRAILING_ERROR };

/* Like wg, ignores NULs and whitespace after the key until end of file. */
static enum trailing check_trailing(int fd)
{
	char buf[256];
	ssize_t n, i;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return TRAILING_ERROR;
		if (n == 0)
			return TRAILING_NONE;
		for (i = 0; i < n; i++)
			if (buf[i] != '\0' && !is_space((unsigned char)buf[i]))
				return TRAILING_JUNK;
	}
}

int pubkey_main(int argc, char **argv)
{
	static const char cmd[] = "pubkey";
	char b64[WG_KEY_BASE64_LEN];
	uint8_t key[WG_KEY_LEN], pub[WG_KEY_LEN];
	ssize_t got;
	int ret = 1;

	if (argc != 1)
		return usage(cmd, " < private-key");

	/* wg reads exactly 44 bytes first: leading whitespace is an error. */
	got = read_full(STDIN_FILENO, b64, sizeof(b64));
	if (got < 0) {
		fprintf(stderr, "wgu %s: reading standard input: %s\n", cmd,
		    strerror(errno));
		goto out;
	}
	if (got == 0) {
		fprintf(stderr, "wgu %s: no key on standard input\n", cmd);
		goto out;
	}
	if ((size_t)got != sizeof(b64)) {
		fprintf(stderr, "wgu %s: key is not the correct length or "
		    "format\n", cmd);
		goto out;
	}
	switch (check_trailing(STDIN_FILENO)) {
	case TRAILING_NONE:
		break;
	case TRAILING_JUNK:
		fprintf(stderr, "wgu %s: trailing characters found after "
		    "key\n", cmd);
		goto out;
	case TRAILING_ERROR:
		fprintf(stderr, "wgu %s: reading standard input: %s\n", cmd,
		    strerror(errno));
		goto out;
	}
	if (!wg_key_from_base64(key, b64, sizeof(b64))) {
		fprintf(stderr, "wgu %s: key is not the correct length or "
		    "format\n", cmd);
		goto out;
	}
	/* X25519 clamps the scalar itself, so an unclamped private key gives
	 * the same public key it does in wg. */
	wg_x25519_public_from_private(pub, key);
	ret = print_key(cmd, pub);
out:
	wg_wipe(b64, sizeof(b64));
	wg_wipe(key, sizeof(key));
	return ret;
}
