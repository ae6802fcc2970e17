/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzzes the request parser. Input: one config byte (authenticated or
 * not, copy_max, small limits), one byte choosing a split point, then
 * the stream. The stream is fed cut in two at that point and byte by
 * byte, each chunk in its own exact-size heap block so ASan sees any
 * over-read; both feedings must give the same requests (lead, size,
 * arguments) and the same error, and every size and offset must stay
 * inside the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sg_resp.h"

struct out {
	char *s;
	size_t len, cap;
};

static void
out_add(struct out *o, const void *p, size_t n)
{
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 1024;

		while (cap < o->len + n)
			cap *= 2;
		o->s = realloc(o->s, cap);
		if (o->s == NULL)
			abort();
		o->cap = cap;
	}
	memcpy(o->s + o->len, p, n);
	o->len += n;
}

static void
out_u64(struct out *o, uint64_t v)
{
	out_add(o, &v, sizeof(v));
}

static void
check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static void
feed(const char *in, size_t n, size_t cut, int bytewise, const struct sg_resp_limits *l,
     int unauth, struct out *o)
{
	struct sg_resp_parser p;
	uint64_t prev_end = 0, base = 0;
	size_t nchunks = bytewise ? n : 2, c;
	char **blocks = calloc(nchunks + 1, sizeof(*blocks));

	sg_resp_parser_init(&p, l);
	p.authenticated = !unauth;
	for (c = 0; c < nchunks; c++) {
		size_t from = bytewise ? c : (c == 0 ? 0 : cut);
		size_t to = bytewise ? c + 1 : (c == 0 ? cut : n);
		size_t len = to - from, off = 0;

		/* chunks stay alive to the end: arguments may point into
		 * any of them */
		blocks[c] = malloc(len ? len : 1);
		memcpy(blocks[c], in + from, len);
		while (off < len) {
			const struct sg_resp_request *r;
			ssize_t rc = sg_resp_parse(&p, blocks[c] + off, len - off, &r);
			uint64_t start;
			uint32_t j;

			if (rc < 0) {
				const char *e = sg_resp_parser_error(&p);

				check(e != NULL);
				out_add(o, "E", 1);
				out_add(o, e, strlen(e));
				check(sg_resp_parse(&p, "x", 1, &r) == rc);
				goto out;
			}
			check((size_t)rc <= len - off);
			off += (size_t)rc;
			if (r == NULL) {
				check(off == len);
				continue;
			}
			start = prev_end + r->lead;
			check(start + r->size == base + off);
			check(start + r->size <= n);
			check(r->argc > 0);
			prev_end = base + off;
			out_add(o, "R", 1);
			out_u64(o, r->lead);
			out_u64(o, r->size);
			out_u64(o, r->argc);
			out_u64(o, r->is_inline);
			for (j = 0; j < r->argc; j++) {
				const struct sg_arg *a = &r->argv[j];

				check(a->off + a->len <= r->size);
				out_u64(o, a->len);
				if (r->is_inline) {
					check(a->ptr != NULL);
					out_add(o, a->ptr, a->len);
					continue;
				}
				if (a->ptr == NULL)
					check(a->len > l->copy_max);
				else
					check(memcmp(a->ptr, in + start + a->off, a->len) == 0);
				out_add(o, in + start + a->off, a->len);
			}
		}
		base += len;
	}
	out_add(o, sg_resp_parser_idle(&p) ? "I" : "P", 1);
out:
	for (c = 0; c < nchunks; c++)
		free(blocks[c]);
	free(blocks);
	sg_resp_parser_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t copy_max[4] = { 0, 3, 16, 512 };
	struct sg_resp_limits l;
	struct out a = { 0 }, b = { 0 };
	const char *in;
	size_t n, cut;
	int unauth;

	if (size < 2)
		return 0;
	sg_resp_limits_default(&l);
	unauth = data[0] & 1;
	l.copy_max = copy_max[(data[0] >> 1) & 3];
	if (data[0] & 8) {
		/* small limits, so the fuzzer reaches them */
		l.max_args = 6;
		l.max_bulk = 40;
		l.max_request = 120;
		l.max_inline = 30;
		l.unauth_max_args = 3;
		l.unauth_max_bulk = 8;
	}
	in = (const char *)data + 2;
	n = size - 2;
	cut = n ? data[1] % (n + 1) : 0;
	feed(in, n, cut, 0, &l, unauth, &a);
	feed(in, n, 0, 1, &l, unauth, &b);
	check(a.len == b.len && memcmp(a.s, b.s, a.len) == 0);
	free(a.s);
	free(b.s);
	return 0;
}
