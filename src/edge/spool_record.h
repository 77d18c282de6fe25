/* The spool's record format (spool.h describes the file): one line per
 * record,
 *
 *	R <boot_id> <seq> <len> <payload> <crc>	a reading
 *	A <boot_id> <seq> <crc>				its acknowledgement
 *
 * <crc> is the CRC-32 of the line before the space that precedes it, as 8
 * lowercase hex digits; the format before checksums (R <boot_id> <seq>
 * <payload>, A <boot_id> <seq>) is still read.  Pure: bytes in, bytes out,
 * no file, no allocation but spool_record_head()'s buffer. */
#ifndef WGU_SPOOL_RECORD_H
#define WGU_SPOOL_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	/* "R " + three decimal numbers + spaces; " " + 8 hex digits + '\n'. */
	SPOOL_RECORD_HEADER_MAX = 72,
	SPOOL_RECORD_TRAILER_LEN = 10,
	/* A record larger than this is corrupt (payloads are ~150 bytes). */
	SPOOL_RECORD_MAX = 65536,
};

enum spool_record_kind {
	SPOOL_RECORD_BAD = 0,	/* not a record: counted, skipped */
	SPOOL_RECORD_READING,
	SPOOL_RECORD_ACK,
};

struct spool_record {
	uint64_t boot_id, seq;		/* both >= 1 */
	size_t payload_off;		/* of the payload, from the line start */
	size_t payload_len;		/* 1..SPOOL_RECORD_MAX (a reading) */
};

/* Parses the line [line, nl) (without its newline).  *sealed_seen starts
 * false for a file and turns true at its first record with a checksum:
 * after that, a record without one is bad (it can only be a cut record
 * merged with another).  Fills *out for a reading or an ack. */
enum spool_record_kind spool_record_parse(const char *line, const char *nl,
    bool *sealed_seen, struct spool_record *out);

/* Ends the record rec[0 .. n) with " <crc32 of those n bytes>\n"; rec has
 * room for SPOOL_RECORD_TRAILER_LEN + 1 more bytes.  Returns the record's
 * length. */
size_t spool_record_seal(char *rec, size_t n);

/* Starts an R record, "R <boot> <seq> <len> ", in *bufp (heap, grown with
 * realloc to hold the payload and the seal after it; the caller frees).
 * Returns the header's length or -ENOMEM. */
int spool_record_head(char **bufp, size_t *capp, uint64_t boot_id,
    uint64_t seq, size_t len);

/* The sealed A record of (boot_id, seq) in rec; returns its length. */
size_t spool_record_ack(char rec[static SPOOL_RECORD_HEADER_MAX],
    uint64_t boot_id, uint64_t seq);

#endif
