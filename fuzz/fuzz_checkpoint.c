/* Fuzzes what reads the auditor's files: the checkpoint line parser
 * (src/hub/checkpoint.c), the chain member parser (src/hub/chain.c) and
 * `wgu-historian verify --chain-only` walking a log (src/hub/verify.c).
 * Each input line is read as a checkpoint and as a chained log line, and
 * the whole input as a log:
 *
 * - a line the checkpoint parser takes is printed back byte for byte from
 *   the parsed fields (the format has one spelling per checkpoint);
 * - a line the chain parser takes ends in exactly the member printed back
 *   from the parsed value;
 * - verify walks any file to a verdict, 0 or 1, without a crash.
 *
 * abort() marks a broken invariant, never a bad input. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hub/chain.h"
#include "hub/checkpoint.h"
#include "hub/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void checkpoint_line(const char *line, size_t len)
{
	char back[CHECKPOINT_LINE_MAX], chain[CHAIN_HEX_LEN + 1] = { 0 };
	char sig[2 * CHECKPOINT_SIG_LEN + 1] = { 0 };
	struct checkpoint cp;
	int n;

	if (checkpoint_parse(line, len, &cp) != 0)
		return;
	chain_hex(chain, cp.chain, CHAIN_LEN);
	chain_hex(sig, cp.sig, CHECKPOINT_SIG_LEN);
	n = snprintf(back, sizeof(back), "{\"n\":%" PRIu64 ",\"time\":%"
	    PRIu64 ",\"file\":\"%s\",\"line\":%" PRIu64 ",\"chain\":\"%s\","
	    "\"sig\":\"%s\"}", cp.n, cp.time_ms, cp.file, cp.line, chain, sig);
	if (n < 0 || (size_t)n != len || memcmp(back, line, len) != 0)
		abort();
	if (cp.signed_len >= len || line[cp.signed_len] != ',')
		abort();
}

static void log_line(const char *line, size_t len)
{
	char member[CHAIN_MEMBER_LEN];
	uint8_t chain[CHAIN_LEN];
	size_t bodylen;

	if (!chain_split(line, len, &bodylen, chain))
		return;
	chain_member(member, chain);
	if (bodylen + CHAIN_MEMBER_LEN != len ||
	    memcmp(line + bodylen, member, CHAIN_MEMBER_LEN) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int devnull = -1;
	const char *p = (const char *)data, *end = p + size, *nl;
	char path[64];
	int fd, ret, saved;

	if (devnull < 0)
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0)
		abort();
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		checkpoint_line(p, (size_t)(nl - p));
		log_line(p, (size_t)(nl - p));
	}

	fd = memfd_create("fuzz_checkpoint", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* verify's verdicts are not wanted here; the driver's output is. */
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	if (saved < 0 || dup2(devnull, STDOUT_FILENO) < 0)
		abort();
	ret = verify_main(3, (char *[]){ "verify", "--chain-only", path,
	    NULL });
	fflush(stdout);
	if (dup2(saved, STDOUT_FILENO) < 0)
		abort();
	close(saved);
	if (ret != 0 && ret != 1)
		abort();
	close(fd);
	return 0;
}
