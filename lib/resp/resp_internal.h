/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resp_internal.h: what the request parser and the reply framer share,
 * the reading of a header line ("*3\r\n", "$5\r\n", ":-12\r\n").
 *
 * A header line is the type byte, at most SG_RESP_LINE_MAX - 1 more
 * bytes, then CRLF. The answer depends only on the first
 * SG_RESP_LINE_MAX + 2 bytes, so a line that straddles chunks, kept in a
 * 32-byte buffer and read again, gets the same answer as the same bytes
 * in one piece: the errors a client sees do not depend on how TCP cut
 * its stream.
 */
#ifndef RESP_INTERNAL_H
#define RESP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sg_common.h"
#include "sg_resp.h"

enum resp_hdr {
	RESP_HDR_OK,	/* a complete line; *used covers it and its CRLF */
	RESP_HDR_MORE,	/* no verdict yet: every byte belongs to the line */
	RESP_HDR_BIG,	/* no '\r' within SG_RESP_LINE_MAX bytes */
	RESP_HDR_BAD,	/* complete, but '\r' without '\n' or not a number */
};

/* Bytes a straddling header line can occupy before a verdict. */
#define RESP_HDR_BUF (SG_RESP_LINE_MAX + 2)

/* Finds the end of the line at p[0..n) (p[0] is the type byte). On OK
 * *cr is the index of its '\r'; on BAD too when the line is complete. */
enum resp_hdr resp_hdr_find(const char *p, size_t n, size_t *cr);

/* The careful reading of a numeric line; resp_hdr_num() falls back to it
 * for everything but the plain case. */
enum resp_hdr resp_hdr_num_slow(const char *p, size_t n, int64_t *v,
				size_t *used);

/*
 * Reads the integer of the line at p[0..n). The plain case (1 to 18
 * digits, an optional '-', CRLF in reach) is decided in one pass over the
 * digits, with no call; anything else goes the careful way, which gives
 * the same verdict for it.
 */
static inline __attribute__((always_inline)) enum resp_hdr
resp_hdr_num(const char *p, size_t n, int64_t *v, size_t *used)
{
	size_t lim = n < SG_RESP_LINE_MAX + 1 ? n : SG_RESP_LINE_MAX + 1;
	size_t i = 1, d0;
	uint64_t m = 0;
	bool neg = false;

	if (i < lim && p[i] == '-') {
		neg = true;
		i++;
	}
	d0 = i;
	while (i < lim) {
		unsigned d = (unsigned)(unsigned char)p[i] - '0';

		if (d > 9)
			break;
		m = m * 10 + d;
		i++;
	}
	if (SG_LIKELY(i + 1 < n && p[i] == '\r' && p[i + 1] == '\n' &&
		      i - d0 - 1 < 18 && (p[d0] != '0' || i - d0 == 1) &&
		      !(neg && m == 0))) {
		*v = neg ? -(int64_t)m : (int64_t)m;
		*used = i + 2;
		return RESP_HDR_OK;
	}
	return resp_hdr_num_slow(p, n, v, used);
}

/*
 * Reads a numeric header line from s[0..n): in place when it is all
 * there, through line[] (RESP_HDR_BUF bytes, *line_len of them held)
 * when it straddles chunks. *used is what it took from s (all of s on
 * MORE); *type is the line's first byte.
 */
static inline __attribute__((always_inline)) enum resp_hdr
resp_hdr_read(char *line, uint8_t *line_len, const char *s, size_t n,
	      int64_t *v, size_t *used, char *type)
{
	size_t old = *line_len, k;
	enum resp_hdr h;

	if (SG_LIKELY(old == 0)) {
		*type = s[0];
		h = resp_hdr_num(s, n, v, used);
		if (SG_UNLIKELY(h == RESP_HDR_MORE)) {
			/* MORE means n <= SG_RESP_LINE_MAX + 1 */
			memcpy(line, s, n);
			*line_len = (uint8_t)n;
			*used = n;
		}
		return h;
	}
	k = SG_MIN(n, (size_t)RESP_HDR_BUF - old);
	memcpy(line + old, s, k);
	*type = line[0];
	h = resp_hdr_num(line, old + k, v, used);
	if (h == RESP_HDR_MORE) {
		*line_len = (uint8_t)(old + k);
		*used = k;
	} else {
		*line_len = 0;
		*used = h == RESP_HDR_OK ? *used - old : k;
	}
	return h;
}

#endif /* RESP_INTERNAL_H */
