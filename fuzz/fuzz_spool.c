/* Fuzzes the spool's record parser (src/edge/spool_record.c): the input is
 * a spool.log as a full disk, a crash or a careless editor may leave it,
 * cut into lines the way spool_open() reads it.  Checked for every line:
 *
 * - a reading's payload lies inside its line, 1..SPOOL_RECORD_MAX bytes,
 *   and boot_id and seq are >= 1;
 * - once a sealed record was seen, no record without a checksum passes;
 * - a reading or an ack rebuilt with the writer's own functions from what
 *   was parsed parses back to the same values (the writer and the reader
 *   agree on the format).
 *
 * abort() marks a broken invariant, never a bad input. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edge/spool_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The record rebuilt from r (and the payload it names) parses back to r. */
static void round_trip(const char *line, enum spool_record_kind kind,
    const struct spool_record *r)
{
	struct spool_record back;
	bool sealed = true;
	char *buf = NULL, ack[SPOOL_RECORD_HEADER_MAX];
	size_t cap = 0, len;
	int n;

	if (kind == SPOOL_RECORD_ACK) {
		len = spool_record_ack(ack, r->boot_id, r->seq);
		if (spool_record_parse(ack, ack + len - 1, &sealed, &back) !=
		    SPOOL_RECORD_ACK || back.boot_id != r->boot_id ||
		    back.seq != r->seq)
			abort();
		return;
	}
	n = spool_record_head(&buf, &cap, r->boot_id, r->seq, r->payload_len);
	if (n < 0)
		return;		/* out of memory: not an invariant */
	memcpy(buf + n, line + r->payload_off, r->payload_len);
	len = spool_record_seal(buf, (size_t)n + r->payload_len);
	if (spool_record_parse(buf, buf + len - 1, &sealed, &back) !=
	    SPOOL_RECORD_READING || back.boot_id != r->boot_id ||
	    back.seq != r->seq || back.payload_len != r->payload_len ||
	    memcmp(buf + back.payload_off, line + r->payload_off,
	    r->payload_len) != 0)
		abort();
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	bool sealed_seen = false, was_sealed;
	struct spool_record r;
	enum spool_record_kind kind;

	/* Only whole lines: spool_open() cuts a torn last one off. */
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		was_sealed = sealed_seen;
		memset(&r, 0xa5, sizeof(r));
		kind = spool_record_parse(p, nl, &sealed_seen, &r);
		if (kind != SPOOL_RECORD_BAD) {
			if (r.boot_id < 1 || r.seq < 1)
				abort();
			if (was_sealed && !sealed_seen)
				abort();
		}
		if (kind == SPOOL_RECORD_READING &&
		    (r.payload_len < 1 || r.payload_len > SPOOL_RECORD_MAX ||
		    r.payload_off > (size_t)(nl - p) ||
		    r.payload_len > (size_t)(nl - p) - r.payload_off))
			abort();
		if (kind != SPOOL_RECORD_BAD)
			round_trip(p, kind, &r);
		p = nl + 1;
	}
	return 0;
}
