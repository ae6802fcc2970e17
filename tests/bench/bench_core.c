/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_core: one core running the proxy's per-request front path, the
 * way a worker runs it on what a client sent:
 *
 *   input chunks (2 KiB / 16 KiB, as mbufs deliver them)
 *     -> sg_resp_parse          one request at a time
 *     -> sg_command_find        the command (and subcommand)
 *     -> sg_command_keys        which arguments are keys
 *     -> sg_cluster_slot        the slot of every key
 *
 * Workloads: pipelined SET/GET with 100-byte values (half each), MSET of
 * 100 keys with 100-byte values, SET with 1 MB values. For each it prints
 * commands/s, ns per command and GB/s of input processed. The parser
 * never touches a long payload: it skips it by its length, so the 1 MB
 * figure measures header parsing and chunk hand-over, not a byte scan.
 * A "memcpy" row gives the scale of touching every byte once.
 *
 * Usage:
 *   bench_core [-s SECONDS] [-t TRIALS] [-c CASE] [-p PASSES]
 *     -s   seconds per case, split into TRIALS trials (default 2 s, 5)
 *     -c   run only this case (names as printed, e.g. setget-2k)
 *     -p   instead of timing, run exactly PASSES passes over the input
 *          inside measure_passes() and print the command count; used
 *          by scripts/bench-core.sh to count instructions per command
 *          (callgrind --toggle-collect=measure_passes, or perf stat)
 *
 * It prints figures; nothing here passes or fails.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sg_cluster.h"
#include "sg_command.h"
#include "sg_resp.h"

#define VALUE_LEN 100
#define SMALL_REQS 100000	/* SET/GET requests in the input */
#define MSET_REQS 2000
#define MSET_KEYS 100
#define BIG_REQS 32
#define BIG_LEN (1u << 20)
#define MAX_KEYS 256

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
put(struct buf *b, const void *s, size_t n)
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
put_bulk(struct buf *b, const void *s, size_t n)
{
	char hdr[32];
	int h = snprintf(hdr, sizeof(hdr), "$%zu\r\n", n);

	put(b, hdr, (size_t)h);
	put(b, s, n);
	put(b, "\r\n", 2);
}

/* What one pass found; checked against the input so that a parser or
 * table that silently skipped work cannot post a figure. */
struct tally {
	uint64_t cmds, keys, bytes;
	uint64_t slot_sum;	/* also keeps the slot calls alive */
	uint64_t unknown, nullkey;
};

struct ctx {
	struct sg_resp_parser parser;
	const struct sg_command_table *table;
	uint32_t keys[MAX_KEYS];
};

static void
on_request(struct ctx *x, const struct sg_resp_request *r, struct tally *t)
{
	const struct sg_command *c;
	int n;

	t->cmds++;
	c = sg_command_find(x->table, r->argv, r->argc, NULL);
	if (c == NULL) {
		t->unknown++;
		return;
	}
	n = sg_command_keys(c, r->argv, r->argc, x->keys, MAX_KEYS);
	if (n < 0) {
		t->unknown++;
		return;
	}
	for (int i = 0; i < n; i++) {
		const struct sg_arg *a = &r->argv[x->keys[i]];

		/* keys here are short: the parser copies short arguments
		 * that straddle chunks, so ptr is never NULL for them */
		if (a->ptr == NULL) {
			t->nullkey++;
			continue;
		}
		t->slot_sum += sg_cluster_slot(a->ptr, a->len);
	}
	t->keys += (uint64_t)n;
}

/* One pass over the input in `chunk`-byte pieces. */
static void
one_pass(struct ctx *x, const struct buf *in, size_t chunk, struct tally *t)
{
	size_t off;

	for (off = 0; off < in->len; off += chunk) {
		const char *c = in->p + off;
		size_t len = in->len - off < chunk ? in->len - off : chunk;

		while (len > 0) {
			const struct sg_resp_request *r;
			ssize_t rc = sg_resp_parse(&x->parser, c, len, &r);

			if (rc < 0) {
				fprintf(stderr, "bench_core: parse error: %s\n",
					sg_resp_parser_error(&x->parser));
				exit(1);
			}
			c += rc;
			len -= (size_t)rc;
			if (r != NULL)
				on_request(x, r, t);
		}
	}
	t->bytes += in->len;
}

/* Not static, never inlined: callgrind's --toggle-collect names it, so
 * only the measured path is counted, not building the input. */
void measure_passes(struct ctx *x, const struct buf *in, size_t chunk,
		    unsigned passes, struct tally *t);

__attribute__((noinline)) void
measure_passes(struct ctx *x, const struct buf *in, size_t chunk,
	       unsigned passes, struct tally *t)
{
	for (unsigned i = 0; i < passes; i++)
		one_pass(x, in, chunk, t);
}

struct bcase {
	const char *name;
	const char *what;
	const struct buf *in;
	size_t chunk;
	uint64_t cmds, keys;	/* per pass, expected */
};

static void
check(const struct bcase *bc, const struct tally *t, uint64_t passes)
{
	if (t->cmds != bc->cmds * passes || t->keys != bc->keys * passes ||
	    t->unknown != 0 || t->nullkey != 0) {
		fprintf(stderr,
			"bench_core: %s: %llu commands, %llu keys (expected %llu, %llu), "
			"%llu unknown, %llu NULL keys\n",
			bc->name, (unsigned long long)t->cmds, (unsigned long long)t->keys,
			(unsigned long long)(bc->cmds * passes),
			(unsigned long long)(bc->keys * passes),
			(unsigned long long)t->unknown, (unsigned long long)t->nullkey);
		exit(1);
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define MAX_TRIALS 64

/* Runs TRIALS timed trials of at least secs/TRIALS each; returns the
 * commands/s of each trial, sorted. */
static void
run_case(const struct bcase *bc, double secs, int trials, double *rate,
	 double *bps)
{
	struct ctx x;
	struct tally warm = { 0 };

	sg_resp_parser_init(&x.parser, NULL);
	x.parser.authenticated = true;
	x.table = sg_command_builtin();
	measure_passes(&x, bc->in, bc->chunk, 1, &warm);
	check(bc, &warm, 1);
	for (int i = 0; i < trials; i++) {
		struct tally t = { 0 };
		uint64_t passes = 0;
		double t0 = now_s(), dt;

		do {
			measure_passes(&x, bc->in, bc->chunk, 1, &t);
			passes++;
			dt = now_s() - t0;
		} while (dt < secs / trials);
		check(bc, &t, passes);
		rate[i] = (double)t.cmds / dt;
		bps[i] = (double)t.bytes / dt;
	}
	sg_resp_parser_free(&x.parser);
	qsort(rate, (size_t)trials, sizeof(double), cmp_double);
	qsort(bps, (size_t)trials, sizeof(double), cmp_double);
}

/* For scale: copying the same input once, in the same chunks. */
static double
memcpy_gbps(const struct buf *in, size_t chunk, double secs)
{
	static char dst[16384];
	uint64_t bytes = 0;
	double t0 = now_s(), dt;
	volatile char sinkc;

	do {
		for (size_t off = 0; off < in->len; off += chunk) {
			size_t len = in->len - off < chunk ? in->len - off : chunk;

			memcpy(dst, in->p + off, len);
			__asm__ volatile("" : : "r"(dst) : "memory");
		}
		bytes += in->len;
		dt = now_s() - t0;
	} while (dt < secs);
	sinkc = dst[0];
	(void)sinkc;
	return (double)bytes / dt / 1e9;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_core [-s SECONDS] [-t TRIALS] [-c CASE] [-p PASSES]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct buf setget = { 0 }, mset = { 0 }, big = { 0 };
	char value[VALUE_LEN], key[32], *mb;
	double secs = 2.0;
	int trials = 5, opt;
	const char *only = NULL;
	long passes = 0;
	size_t i, j, ncases;

	while ((opt = getopt(argc, argv, "s:t:c:p:h")) != -1) {
		switch (opt) {
		case 's': secs = atof(optarg); break;
		case 't': trials = atoi(optarg); break;
		case 'c': only = optarg; break;
		case 'p': passes = atol(optarg); break;
		default: usage();
		}
	}
	if (secs <= 0 || trials < 1 || trials > MAX_TRIALS || passes < 0)
		usage();

	memset(value, 'v', sizeof(value));
	for (i = 0; i < SMALL_REQS; i++) {
		int kl = snprintf(key, sizeof(key), "key:%06zu", (i * 7919) % 100000);

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
	for (i = 0; i < MSET_REQS; i++) {
		put(&mset, "*201\r\n", 6);
		put_bulk(&mset, "MSET", 4);
		for (j = 0; j < MSET_KEYS; j++) {
			int kl = snprintf(key, sizeof(key), "key:%06zu",
					  ((i * MSET_KEYS + j) * 7919) % 100000);

			put_bulk(&mset, key, (size_t)kl);
			put_bulk(&mset, value, sizeof(value));
		}
	}
	mb = malloc(BIG_LEN);
	if (mb == NULL)
		abort();
	memset(mb, 'x', BIG_LEN);
	for (i = 0; i < BIG_REQS; i++) {
		int kl = snprintf(key, sizeof(key), "big:%02zu", i);

		put(&big, "*3\r\n", 4);
		put_bulk(&big, "SET", 3);
		put_bulk(&big, key, (size_t)kl);
		put_bulk(&big, mb, BIG_LEN);
	}
	free(mb);

	const struct bcase cases[] = {
		{ "setget-2k", "SET/GET 100 B, 2 KiB chunks", &setget, 2048,
		  SMALL_REQS, SMALL_REQS },
		{ "setget-16k", "SET/GET 100 B, 16 KiB chunks", &setget, 16384,
		  SMALL_REQS, SMALL_REQS },
		{ "mset-2k", "MSET 100 keys, 2 KiB chunks", &mset, 2048,
		  MSET_REQS, MSET_REQS * MSET_KEYS },
		{ "mset-16k", "MSET 100 keys, 16 KiB chunks", &mset, 16384,
		  MSET_REQS, MSET_REQS * MSET_KEYS },
		{ "big-2k", "SET 1 MB value, 2 KiB chunks", &big, 2048,
		  BIG_REQS, BIG_REQS },
		{ "big-16k", "SET 1 MB value, 16 KiB chunks", &big, 16384,
		  BIG_REQS, BIG_REQS },
	};
	ncases = sizeof(cases) / sizeof(cases[0]);

	if (passes > 0) {
		/* counting mode: fixed work, no clock */
		for (i = 0; i < ncases; i++) {
			const struct bcase *bc = &cases[i];
			struct ctx x;
			struct tally t = { 0 };

			if (only != NULL && strcmp(only, bc->name) != 0)
				continue;
			sg_resp_parser_init(&x.parser, NULL);
			x.parser.authenticated = true;
			x.table = sg_command_builtin();
			measure_passes(&x, bc->in, bc->chunk, (unsigned)passes, &t);
			check(bc, &t, (uint64_t)passes);
			printf("%s commands=%llu keys=%llu bytes=%llu\n", bc->name,
			       (unsigned long long)t.cmds, (unsigned long long)t.keys,
			       (unsigned long long)t.bytes);
			sg_resp_parser_free(&x.parser);
		}
		goto out;
	}

	printf("bench_core: sg_resp_parse -> sg_command_find -> sg_command_keys -> "
	       "sg_cluster_slot per key\n");
	printf("one core, %.1f s per case in %d trials; median (best)\n\n", secs, trials);
	printf("%-12s %-30s %18s %14s %16s %12s\n", "case", "input", "M commands/s",
	       "ns/command", "GB/s input", "M keys/s");
	for (i = 0; i < ncases; i++) {
		const struct bcase *bc = &cases[i];
		double rate[MAX_TRIALS], bps[MAX_TRIALS], med, best;
		double kpc = (double)bc->keys / (double)bc->cmds;
		char rbuf[40], gbuf[40];

		if (only != NULL && strcmp(only, bc->name) != 0)
			continue;
		run_case(bc, secs, trials, rate, bps);
		med = rate[trials / 2];
		best = rate[trials - 1];
		snprintf(rbuf, sizeof(rbuf), "%.3f (%.3f)", med / 1e6, best / 1e6);
		snprintf(gbuf, sizeof(gbuf), "%.2f (%.2f)", bps[trials / 2] / 1e9,
			 bps[trials - 1] / 1e9);
		printf("%-12s %-30s %18s %14.1f %16s %12.2f\n", bc->name, bc->what,
		       rbuf, 1e9 / med, gbuf, med * kpc / 1e6);
		fflush(stdout);
	}
	if (only == NULL) {
		printf("\nfor scale, memcpy of the same input in the same chunks:\n");
		printf("  SET/GET input, 2 KiB chunks: %.2f GB/s; 1 MB values, 2 KiB chunks: "
		       "%.2f GB/s\n", memcpy_gbps(&setget, 2048, secs / trials),
		       memcpy_gbps(&big, 2048, secs / trials));
		printf("input sizes: SET/GET %zu B (%d commands), MSET %zu B (%d), "
		       "1 MB values %zu B (%d)\n", setget.len, SMALL_REQS, mset.len,
		       MSET_REQS, big.len, BIG_REQS);
	}
out:
	free(setget.p);
	free(mset.p);
	free(big.p);
	return 0;
}
