/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_resp: single-core throughput of the RESP request parser.
 *
 *   - pipelined "SET key:NNNN <100-byte value>" / "GET key:NNNN", fed
 *     whole, in 16 KiB and in 2 KiB chunks (mbuf-sized): commands/s;
 *   - MSET with 100 keys (100-byte values): commands/s and arguments/s;
 *   - SET with a 1 MB value fed in 2 KiB chunks: GB/s.
 *
 * Usage: bench_resp [seconds per case, default 1]. It prints figures;
 * nothing here passes or fails.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sg_resp.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct buf {
	char *p;
	size_t len, cap;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			abort();
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void
put_bulk(struct buf *b, const char *s, size_t n)
{
	char hdr[32];
	int h = snprintf(hdr, sizeof(hdr), "$%zu\r\n", n);

	put(b, hdr, (size_t)h);
	put(b, s, n);
	put(b, "\r\n", 2);
}

/* Parses the whole buffer in `chunk`-byte pieces; returns requests. */
static uint64_t
parse_all(struct sg_resp_parser *p, const char *data, size_t n, size_t chunk,
	  uint64_t *args)
{
	uint64_t reqs = 0;
	size_t off;

	for (off = 0; off < n; off += chunk) {
		const char *c = data + off;
		size_t len = n - off < chunk ? n - off : chunk;

		while (len > 0) {
			const struct sg_resp_request *r;
			ssize_t rc = sg_resp_parse(p, c, len, &r);

			if (rc < 0) {
				fprintf(stderr, "parse error: %s\n", sg_resp_parser_error(p));
				exit(1);
			}
			c += rc;
			len -= (size_t)rc;
			if (r != NULL) {
				reqs++;
				*args += r->argc;
			}
		}
	}
	return reqs;
}

struct result {
	double secs;
	uint64_t reqs, args, bytes;
};

static struct result
run(const struct buf *b, size_t chunk, double min_secs)
{
	struct sg_resp_parser p;
	struct result r = { 0, 0, 0, 0 };
	double t0;

	sg_resp_parser_init(&p, NULL);
	p.authenticated = true;
	/* warm-up pass */
	parse_all(&p, b->p, b->len, chunk, &r.args);
	r.args = 0;
	t0 = now_s();
	do {
		r.reqs += parse_all(&p, b->p, b->len, chunk, &r.args);
		r.bytes += b->len;
		r.secs = now_s() - t0;
	} while (r.secs < min_secs);
	sg_resp_parser_free(&p);
	return r;
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	struct buf setget = { 0 }, mset = { 0 }, big = { 0 };
	static const size_t chunks[] = { (size_t)-1, 16384, 2048 };
	char value[100], key[32], *mb;
	struct result r;
	size_t i, j;

	if (secs <= 0)
		secs = 1.0;
	memset(value, 'v', sizeof(value));
	for (i = 0; i < 100000; i++) {
		int kl = snprintf(key, sizeof(key), "key:%04zu", i % 10000);

		if (i % 2 == 0) {
			put(&setget, "*3\r\n", 4);
			put_bulk(&setget, "SET", 3);
			put_bulk(&setget, key, (size_t)kl);
			put_bulk(&setget, value, sizeof(value));
		} else {
			put(&setget, "*2\r\n", 4);
			put_bulk(&setget, "GET", 3);
			put_bulk(&setget, key, (size_t)kl);
		}
	}
	for (i = 0; i < 2000; i++) {
		put(&mset, "*201\r\n", 6);
		put_bulk(&mset, "MSET", 4);
		for (j = 0; j < 100; j++) {
			int kl = snprintf(key, sizeof(key), "key:%04zu", (i * 100 + j) % 10000);

			put_bulk(&mset, key, (size_t)kl);
			put_bulk(&mset, value, sizeof(value));
		}
	}
	mb = malloc(1 << 20);
	memset(mb, 'x', 1 << 20);
	for (i = 0; i < 64; i++) {
		put(&big, "*3\r\n", 4);
		put_bulk(&big, "SET", 3);
		put_bulk(&big, "bigkey", 6);
		put_bulk(&big, mb, 1 << 20);
	}
	free(mb);

	printf("bench_resp: request parser, one core, %.1f s per case\n", secs);
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		r = run(&setget, chunks[i], secs);
		if (chunks[i] == (size_t)-1)
			printf("SET/GET pipelined, whole buffer   ");
		else
			printf("SET/GET pipelined, %5zu B chunks  ", chunks[i]);
		printf("%8.2f M commands/s  %6.2f GB/s\n", (double)r.reqs / r.secs / 1e6,
		       (double)r.bytes / r.secs / 1e9);
	}
	r = run(&mset, 16384, secs);
	printf("MSET 100 keys,     16384 B chunks  %8.3f M commands/s  %6.2f M args/s  %6.2f GB/s\n",
	       (double)r.reqs / r.secs / 1e6, (double)r.args / r.secs / 1e6,
	       (double)r.bytes / r.secs / 1e9);
	r = run(&big, 2048, secs);
	printf("SET 1 MB values,    2048 B chunks  %8.2f GB/s  (%.0f commands/s)\n",
	       (double)r.bytes / r.secs / 1e9, (double)r.reqs / r.secs);
	free(setget.p);
	free(mset.p);
	free(big.p);
	return 0;
}
