/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_command: prints how fast the command table and the slot function
 * are. Figures, not pass/fail:
 *   - command lookups/s for a mix of names in mixed case, against a
 *     linear strcasecmp scan of the same table for scale;
 *   - sg_command_find (with subcommands) and sg_command_keys per second;
 *   - slot computations/s for 16-byte keys, with hash tags, and with the
 *     byte-at-a-time CRC table that slice-by-8 replaced.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sg_cluster.h"
#include "sg_command.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile uintptr_t sink;

static const char *const names[] = {
	"GET", "set", "HGetAll", "mget", "ZADD", "incr", "Expire", "del",
	"lpush", "RPOP", "sadd", "smembers", "zrangebyscore", "hset", "ttl",
	"EXISTS", "xadd", "xreadgroup", "evalsha", "ping", "Client", "mset",
	"getrange", "zincrby", "HMGET", "publish", "scan", "nosuchcmd",
	"geosearch", "bitcount", "pfadd", "unlink",
};
#define NNAMES (sizeof(names) / sizeof(names[0]))

static void
bench_lookup(void)
{
	const struct sg_command_table *t = sg_command_builtin();
	size_t lens[NNAMES], n = sg_command_table_count(t);
	uint64_t iters = 0;
	double t0, dt;

	for (size_t i = 0; i < NNAMES; i++)
		lens[i] = strlen(names[i]);
	t0 = now();
	do {
		for (int r = 0; r < 1000; r++) {
			for (size_t i = 0; i < NNAMES; i++)
				sink += (uintptr_t)sg_command_lookup(t, names[i],
								     lens[i]);
		}
		iters += 1000 * NNAMES;
	} while ((dt = now() - t0) < 0.5);
	printf("command lookup (hash, %zu mixed-case names): %.1f M/s, "
	       "%.1f ns each\n", NNAMES, (double)iters / dt / 1e6,
	       dt * 1e9 / (double)iters);

	iters = 0;
	t0 = now();
	do {
		for (size_t i = 0; i < NNAMES; i++) {
			for (size_t j = 0; j < n; j++) {
				const struct sg_command *c =
					sg_command_table_at(t, j);

				if (strcasecmp(c->name, names[i]) == 0) {
					sink += (uintptr_t)c;
					break;
				}
			}
		}
		iters += NNAMES;
	} while ((dt = now() - t0) < 0.5);
	printf("  for scale, linear strcasecmp over %zu names: %.2f M/s\n",
	       n, (double)iters / dt / 1e6);
}

#define ARG(s) { (s), 0, sizeof(s) - 1 }

static void
bench_find_keys(void)
{
	const struct sg_command_table *t = sg_command_builtin();
	static const struct sg_arg r1[] = { ARG("Get"), ARG("user:1000") };
	static const struct sg_arg r2[] = { ARG("CLIENT"), ARG("setname"),
					    ARG("app") };
	static const struct sg_arg r3[] = { ARG("mset"), ARG("a"), ARG("1"),
					    ARG("b"), ARG("2"), ARG("c"),
					    ARG("3") };
	static const struct sg_arg r4[] = { ARG("XREADGROUP"), ARG("GROUP"),
					    ARG("g"), ARG("c"), ARG("STREAMS"),
					    ARG("s1"), ARG("s2"), ARG(">"),
					    ARG(">") };
	static const struct sg_arg r5[] = { ARG("EVALSHA"), ARG("abc"),
					    ARG("2"), ARG("k1"), ARG("k2") };
	const struct { const struct sg_arg *argv; uint32_t argc; } reqs[] = {
		{ r1, 2 }, { r2, 3 }, { r3, 7 }, { r4, 9 }, { r5, 5 },
	};
	uint32_t keys[16];
	uint64_t iters = 0;
	double t0, dt;

	t0 = now();
	do {
		for (int r = 0; r < 1000; r++) {
			for (size_t i = 0; i < 5; i++) {
				const struct sg_command *c = sg_command_find(
					t, reqs[i].argv, reqs[i].argc, NULL);

				sink += (uintptr_t)sg_command_keys(
					c, reqs[i].argv, reqs[i].argc, keys, 16);
			}
		}
		iters += 5000;
	} while ((dt = now() - t0) < 0.5);
	printf("find + keys (GET, CLIENT SETNAME, MSET x3, XREADGROUP x2, "
	       "EVALSHA): %.1f M requests/s, %.1f ns each\n",
	       (double)iters / dt / 1e6, dt * 1e9 / (double)iters);
}

/* The byte-at-a-time table CRC, for comparison only. */
static uint16_t crc_tab[256];

static void
crc_tab_init(void)
{
	for (int i = 0; i < 256; i++) {
		uint16_t c = (uint16_t)(i << 8);

		for (int k = 0; k < 8; k++)
			c = (c & 0x8000) ? (uint16_t)((c << 1) ^ 0x1021)
					 : (uint16_t)(c << 1);
		crc_tab[i] = c;
	}
}

static uint16_t __attribute__((noinline))
crc16_bytewise(const char *p, size_t n)
{
	uint16_t c = 0;

	while (n--)
		c = (uint16_t)(c << 8) ^ crc_tab[(c >> 8) ^ (uint8_t)*p++];
	return c;
}

#define NKEYS 1024

static void
bench_slots(void)
{
	static char plain[NKEYS][17], tagged[NKEYS][33];
	uint64_t iters;
	double t0, dt;

	for (int i = 0; i < NKEYS; i++) {
		snprintf(plain[i], sizeof(plain[i]), "key:%012d", i * 7919);
		snprintf(tagged[i], sizeof(tagged[i]), "{user%08d}.followers",
			 i * 31);
	}
	crc_tab_init();

	iters = 0;
	t0 = now();
	do {
		for (int i = 0; i < NKEYS; i++)
			sink += sg_cluster_slot(plain[i], 16);
		iters += NKEYS;
	} while ((dt = now() - t0) < 0.5);
	printf("slot, 16-byte keys (slice-by-8): %.1f M/s, %.1f ns each\n",
	       (double)iters / dt / 1e6, dt * 1e9 / (double)iters);

	iters = 0;
	t0 = now();
	do {
		for (int i = 0; i < NKEYS; i++)
			sink += crc16_bytewise(plain[i], 16) & 16383;
		iters += NKEYS;
	} while ((dt = now() - t0) < 0.5);
	printf("  for scale, byte-at-a-time table: %.1f M/s\n",
	       (double)iters / dt / 1e6);

	iters = 0;
	t0 = now();
	do {
		for (int i = 0; i < NKEYS; i++)
			sink += sg_cluster_slot(tagged[i], 22);
		iters += NKEYS;
	} while ((dt = now() - t0) < 0.5);
	printf("slot, 22-byte keys with a 12-byte hash tag: %.1f M/s, "
	       "%.1f ns each\n", (double)iters / dt / 1e6,
	       dt * 1e9 / (double)iters);
}

int
main(void)
{
	bench_lookup();
	bench_find_keys();
	bench_slots();
	return 0;
}
