/* wgu-historian verify: checks a set of production logs against the hash
 * chain (chain.h) and the signed checkpoints (checkpoint.h), and says in
 * plain words that N lines from T1 to T2 are intact, or the first line and
 * file where the record was altered, removed or cut short.
 *
 * The logs are walked oldest first: a name ending in .N (logrotate's
 * numbering) is older the larger N is, a name without it is the newest;
 * names with the same rank keep the order given.  The first line of the
 * oldest file follows from the start of the record (32 zero bytes) or
 * from a signed checkpoint (the last state of a file rotated away and
 * since deleted); every other line from the one before it, across files.
 * Every checkpoint after the one the walk starts from must be found, at
 * the line it names, in order. */
#ifndef WGU_HUB_VERIFY_H
#define WGU_HUB_VERIFY_H

/* LOG with its rotation suffix (.N) dropped and .log replaced by
 * .checkpoints (or .checkpoints appended): the checkpoint file the
 * historian writes beside it.  Heap string or NULL. */
char *verify_checkpoints_path(const char *log);

/* wgu-historian verify [--checkpoints FILE] [--pubkey FILE] [--chain-only]
 * LOG...; exits 0 only when the record is intact, 1 when it is not, 2 on
 * a usage error. */
int verify_main(int argc, char **argv);

#endif
