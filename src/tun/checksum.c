/* The Internet checksum; see checksum.h.  Adding 32-bit big-endian
 * words into 64 bits is the same one's-complement sum as adding 16-bit
 * ones (RFC 1071 section 2), with the carries folded once at the end. */
#include <string.h>
#include <sys/socket.h>

#include "bytes.h"
#include "checksum.h"

uint64_t wg_csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	/* Four words per round keeps the adds independent of each other;
	 * 2^32 adds of 32-bit words cannot overflow 64 bits. */
	while (len >= 16) {
		sum += (uint64_t)wg_load_be32(p) + wg_load_be32(p + 4) +
		    wg_load_be32(p + 8) + wg_load_be32(p + 12);
		p += 16;
		len -= 16;
	}
	while (len >= 4) {
		sum += wg_load_be32(p);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len == 1)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

uint64_t wg_csum_pseudo(uint64_t sum, int family, const uint8_t *src,
    const uint8_t *dst, uint8_t protocol, uint32_t length)
{
	size_t alen = family == AF_INET ? 4 : 16;

	sum = wg_csum_add(sum, src, alen);
	sum = wg_csum_add(sum, dst, alen);
	return sum + protocol + (length >> 16) + (length & 0xffff);
}

uint16_t wg_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

void wg_csum_store(uint8_t *p, uint16_t v)
{
	wg_store_be16(p, v);
}

uint16_t wg_csum_ipv4_header(const uint8_t *hdr, size_t hdr_len)
{
	uint64_t sum = wg_csum_add(0, hdr, 10);

	sum = wg_csum_add(sum, hdr + 12, hdr_len - 12);
	return (uint16_t)~wg_csum_fold(sum);
}
