/* SPDX-License-Identifier: BSD-3-Clause */
/* Header lines, read the careful way (see resp_internal.h). */
#include <string.h>

#include "resp_internal.h"

enum resp_hdr
resp_hdr_find(const char *p, size_t n, size_t *cr)
{
	/* the '\r' may sit at index 1 .. SG_RESP_LINE_MAX */
	size_t lim = SG_MIN(n, (size_t)SG_RESP_LINE_MAX + 1);
	const char *c = lim > 1 ? memchr(p + 1, '\r', lim - 1) : NULL;
	size_t r;

	if (c == NULL)
		return n > SG_RESP_LINE_MAX ? RESP_HDR_BIG : RESP_HDR_MORE;
	r = (size_t)(c - p);
	if (r + 1 >= n)
		return RESP_HDR_MORE;
	*cr = r;
	return p[r + 1] == '\n' ? RESP_HDR_OK : RESP_HDR_BAD;
}

enum resp_hdr
resp_hdr_num_slow(const char *p, size_t n, int64_t *v, size_t *used)
{
	size_t cr = 0;
	enum resp_hdr h = resp_hdr_find(p, n, &cr);

	if (h != RESP_HDR_OK)
		return h;
	if (sg_span_to_i64(sg_span_make(p + 1, cr - 1), v) != 0)
		return RESP_HDR_BAD;
	*used = cr + 2;
	return RESP_HDR_OK;
}
