/* Signed checkpoints of the historian's log, and the keygen command. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/sandbox.h"
#include "hub/audit.h"
#include "hub/view.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The checkpoint file's lines, at open: the last one is where the
 * numbering and the chain go on from. */
static void remember_checkpoint(void *ctx, const char *line, size_t len)
{
	struct audit *a = ctx;
	struct checkpoint cp;

	if (checkpoint_parse(line, len, &cp) < 0)
		return;
	a->n = cp.n;
	a->last_line = cp.line;
	a->last_time_ms = cp.time_ms;
	memcpy(a->last_chain, cp.chain, CHAIN_LEN);
}

static void torn_checkpoint(void *ctx, const char *bytes, size_t len)
{
	struct audit *a = ctx;

	view_warn("%s: a torn last checkpoint (%zu bytes) cut off",
	    a->cfg.checkpoints, len);
}

/* Writes a checkpoint of the log as it is now, unless it is the last one
 * already or the log's file has no line yet. */
static void write_checkpoint(struct audit *a, const char *why)
{
	struct checkpoint cp = { .n = a->n + 1, .time_ms = now_ms(),
	    .line = a->log->file_lines };
	char line[CHECKPOINT_LINE_MAX];
	int len, ret;

	if (cp.time_ms < a->last_time_ms)	/* verify wants them in order */
		cp.time_ms = a->last_time_ms;
	if (a->key == NULL || a->file.fd < 0 || a->log->file_lines == 0 ||
	    (a->last_line == a->log->file_lines &&
	    memcmp(a->last_chain, a->log->chain, CHAIN_LEN) == 0))
		return;
	snprintf(cp.file, sizeof(cp.file), "%s", a->logname);
	memcpy(cp.chain, a->log->chain, CHAIN_LEN);
	/* Only what is on disk may be vouched for. */
	if ((ret = histlog_sync(a->log)) < 0 ||
	    (len = checkpoint_format(line, &cp, a->key)) < 0 ||
	    (ret = histlog_append(&a->file, line, (size_t)len)) < 0) {
		a->errors++;
		view_warn("cannot write checkpoint %" PRIu64 " (%s) to %s: %s",
		    cp.n, why, a->cfg.checkpoints,
		    strerror(ret < 0 ? -ret : EIO));
		return;
	}
	a->n = cp.n;
	a->last_line = cp.line;
	a->last_time_ms = cp.time_ms;
	memcpy(a->last_chain, cp.chain, CHAIN_LEN);
	a->written++;
}

/* The chain value of the last whole line of path, when it is chained. */
struct last_chain {
	uint8_t chain[CHAIN_LEN];
	bool found;
};

static void last_line_chain(void *ctx, const char *line, size_t len)
{
	struct last_chain *lc = ctx;
	size_t bodylen;

	lc->found = chain_split(line, len, &bodylen, lc->chain);
}

static bool rotated_chain(const char *log, uint8_t chain[CHAIN_LEN])
{
	struct last_chain lc = { .found = false };
	struct histlog_recovery r;
	char *path;
	int fd;

	if (asprintf(&path, "%s.1", log) < 0)
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return false;
	if (histlog_scan_fd(fd, last_line_chain, &lc, &r) < 0)
		lc.found = false;
	close(fd);
	if (lc.found)
		memcpy(chain, lc.chain, CHAIN_LEN);
	return lc.found;
}

/* An empty log is a new file after a rotation: its first line follows
 * the last one of the file before, logrotate's LOG.1, or else what the
 * last checkpoint (written at the reopen or the exit) vouches for. */
static void continue_chain(struct audit *a)
{
	uint8_t chain[CHAIN_LEN];

	if (a->log->file_lines > 0)
		return;
	if (rotated_chain(a->log->path, chain))
		histlog_set_chain(a->log, chain);
	else if (a->n > 0)
		histlog_set_chain(a->log, a->last_chain);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	write_checkpoint(w->data, "interval");
}

int audit_init(struct audit *a, struct ev_loop *loop,
    const struct audit_config *cfg, struct histlog *log)
{
	struct histlog_recovery r;
	const char *slash = strrchr(log->path, '/');
	char probe[CHECKPOINT_LINE_MAX];
	struct checkpoint cp = { .n = 1, .line = 1, .file = "probe" };
	int ret;

	*a = (struct audit){ .cfg = *cfg, .loop = loop, .log = log,
	    .logname = slash ? slash + 1 : log->path };
	a->file.fd = -1;
	ev_timer_init(&a->timer, on_timer, cfg->interval, cfg->interval);
	a->timer.data = a;
	a->key = checkpoint_load_key(cfg->key, true);
	if (a->key == NULL) {
		ret = -errno;
		if (ret == -ENOENT && !cfg->key_required) {
			view_warn("no signing key %s (wgu-historian keygen "
			    "DIR makes one): the log is chained, but no "
			    "signed checkpoints are written", cfg->key);
			continue_chain(a);
			return 0;
		}
		return ret;
	}
	/* Sign once now: OpenSSL loads what it needs before the sandbox. */
	if (checkpoint_format(probe, &cp, a->key) < 0) {
		view_warn("%s: cannot sign with this key", cfg->key);
		return -EINVAL;
	}
	ret = histlog_open(&a->file, cfg->checkpoints, HISTLOG_FSYNC_ALWAYS,
	    remember_checkpoint, torn_checkpoint, a, &r);
	if (ret < 0) {
		view_warn("%s: %s", cfg->checkpoints, strerror(-ret));
		return ret;
	}
	continue_chain(a);
	return 0;
}

void audit_start(struct audit *a)
{
	write_checkpoint(a, "start");
	if (a->key && a->cfg.interval > 0)
		ev_timer_start(a->loop, &a->timer);
}

void audit_rotate(struct audit *a)
{
	write_checkpoint(a, "reopen");
}

void audit_stop(struct audit *a)
{
	ev_timer_stop(a->loop, &a->timer);
	write_checkpoint(a, "exit");
	histlog_close(&a->file);
	EVP_PKEY_free(a->key);	/* OpenSSL clears the private key */
	a->key = NULL;
	if (a->written || a->errors)
		view_warn("%s: %" PRIu64 " signed checkpoints written%s",
		    a->cfg.checkpoints, a->written,
		    a->errors ? " (and some failed, see above)" : "");
}

/* ------------------------------------------------------------ keygen */

int audit_keygen_main(int argc, char **argv)
{
	uid_t owner = (uid_t)-1;
	gid_t group = (gid_t)-1;
	uint32_t uid, gid;
	char err[256];

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		printf("usage: wgu-historian keygen DIR\n"
		    "Makes the checkpoint signing key: DIR/" CHECKPOINT_KEY_NAME
		    " (private, 0600, owned by the\nhistorian's user) and DIR/"
		    CHECKPOINT_PUB_NAME " (public: the auditor keeps a copy).\n"
		    "Existing keys are never replaced.\n");
		return 0;
	}
	if (argc != 2 || argv[1][0] == '\0') {
		fprintf(stderr, "usage: wgu-historian keygen DIR\n");
		return 2;
	}
	if (geteuid() == 0) {
		if (!sandbox_user_lookup(&sandbox_historian_policy, &uid, &gid,
		    err, sizeof(err))) {
			fprintf(stderr, "wgu-historian: keygen: %s\n", err);
			return 1;
		}
		owner = uid;
		group = gid;
	}
	if (checkpoint_keygen(argv[1], owner, group) < 0)
		return 1;
	printf("wgu-historian: wrote %s/" CHECKPOINT_KEY_NAME " and %s/"
	    CHECKPOINT_PUB_NAME "\n", argv[1], argv[1]);
	return 0;
}
