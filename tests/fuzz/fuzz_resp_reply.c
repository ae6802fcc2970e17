/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzzes the reply framer. Input: one config byte (max_depth, max_bulk),
 * one byte choosing a split point, then the stream. It is framed cut in
 * two at that point and byte by byte, each chunk in its own exact-size
 * heap block; both must find the same replies (type, size, value, text,
 * classification) and the same error, and the sizes must add up to the
 * bytes consumed.
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
check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static void
record(struct out *o, const struct sg_resp_reply *r)
{
	int64_t f[8] = { r->type, (int64_t)r->size, r->value, r->is_null, r->has_attribute,
			 (int64_t)r->text_len, r->error, r->port };
	size_t tl = r->text_len < SG_RESP_TEXT_MAX ? r->text_len : SG_RESP_TEXT_MAX;

	out_add(o, "R", 1);
	out_add(o, f, sizeof(f));
	out_add(o, r->text, tl);
	if (r->error == SG_RESP_ERR_MOVED || r->error == SG_RESP_ERR_ASK) {
		check(r->slot < 16384);
		check(strlen(r->host) < sizeof(r->host));
		out_add(o, &r->slot, sizeof(r->slot));
		out_add(o, r->host, strlen(r->host));
	}
}

static void
feed(const char *in, size_t n, size_t cut, int bytewise, uint32_t max_depth,
     uint64_t max_bulk, struct out *o)
{
	struct sg_resp_framer f;
	struct sg_resp_reply r;
	size_t nchunks = bytewise ? n : 2, c;
	uint64_t since = 0, total = 0;

	sg_resp_framer_init(&f);
	f.max_depth = max_depth;
	f.max_bulk = max_bulk;
	for (c = 0; c < nchunks; c++) {
		size_t from = bytewise ? c : (c == 0 ? 0 : cut);
		size_t to = bytewise ? c + 1 : (c == 0 ? cut : n);
		size_t len = to - from, off = 0;
		char *blk = malloc(len ? len : 1);

		memcpy(blk, in + from, len);
		while (off < len) {
			bool done;
			ssize_t rc = sg_resp_frame(&f, blk + off, len - off, &r, &done);

			if (rc < 0) {
				const char *e = sg_resp_framer_error(&f);

				check(e != NULL);
				out_add(o, "E", 1);
				out_add(o, e, strlen(e));
				check(sg_resp_frame(&f, "+", 1, &r, &done) == rc);
				free(blk);
				return;
			}
			check((size_t)rc <= len - off);
			off += (size_t)rc;
			since += (uint64_t)rc;
			if (!done) {
				check(off == len);
				continue;
			}
			check(r.size == since && r.size > 0);
			total += r.size;
			check(total <= n);
			since = 0;
			record(o, &r);
		}
		free(blk);
	}
	out_add(o, since ? "P" : "I", 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct out a = { 0 }, b = { 0 };
	uint32_t max_depth;
	uint64_t max_bulk;
	const char *in;
	size_t n, cut;

	if (size < 2)
		return 0;
	max_depth = 1 + (data[0] & 63);
	max_bulk = (data[0] & 64) ? 16 : 512ull << 20;
	in = (const char *)data + 2;
	n = size - 2;
	cut = n ? data[1] % (n + 1) : 0;
	feed(in, n, cut, 0, max_depth, max_bulk, &a);
	feed(in, n, 0, 1, max_depth, max_bulk, &b);
	check(a.len == b.len && memcmp(a.s, b.s, a.len) == 0);
	free(a.s);
	free(b.s);
	return 0;
}
