/* SPDX-License-Identifier: BSD-3-Clause */
/* Spans, integer parsing and formatting, edit distance. */
#include <errno.h>
#include <stdint.h>

#include "sg_common.h"

static inline char
ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}

bool
sg_span_eq_nocase(struct sg_span s, const char *lit)
{
	size_t i;

	for (i = 0; i < s.len; i++) {
		if (lit[i] == '\0' || ascii_lower(s.ptr[i]) != ascii_lower(lit[i]))
			return false;
	}
	return lit[i] == '\0';
}

int
sg_span_to_u64(struct sg_span s, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (s.len == 0 || (s.len > 1 && s.ptr[0] == '0'))
		return -EINVAL;
	for (i = 0; i < s.len; i++) {
		unsigned d = (unsigned char)s.ptr[i] - '0';

		if (d > 9)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int
sg_span_to_i64(struct sg_span s, int64_t *out)
{
	bool neg = s.len > 0 && s.ptr[0] == '-';
	uint64_t mag;
	int rc;

	if (neg) {
		s.ptr++;
		s.len--;
		/* "-0" is not a canonical integer */
		if (s.len == 1 && s.ptr[0] == '0')
			return -EINVAL;
	}
	rc = sg_span_to_u64(s, &mag);
	if (rc != 0)
		return rc;
	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1)
			return -ERANGE;
		*out = (int64_t)(0 - mag);
	} else {
		if (mag > (uint64_t)INT64_MAX)
			return -ERANGE;
		*out = (int64_t)mag;
	}
	return 0;
}

size_t
sg_u64_to_dec(char *buf, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

size_t
sg_i64_to_dec(char *buf, int64_t v)
{
	if (v < 0) {
		buf[0] = '-';
		return 1 + sg_u64_to_dec(buf + 1, 0 - (uint64_t)v);
	}
	return sg_u64_to_dec(buf, (uint64_t)v);
}

size_t
sg_edit_distance(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t row[65];
	size_t i, j;

	if (alen > 64 || blen > 64)
		return SIZE_MAX;
	for (j = 0; j <= blen; j++)
		row[j] = j;
	for (i = 1; i <= alen; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= blen; j++) {
			size_t up = row[j];
			size_t cost = ascii_lower(a[i - 1]) == ascii_lower(b[j - 1]) ? 0 : 1;
			size_t best = diag + cost;

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[blen];
}
