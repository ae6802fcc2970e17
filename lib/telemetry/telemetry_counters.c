/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-worker counters, histograms, snapshots and the built-in commands. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_malloc.h>

#include "sg_telemetry.h"

static struct {
	unsigned workers;
	uint64_t start_ns;
	struct sg_telemetry_worker *block;	/* workers entries */
} tm;

static const char *const counter_names[] = {
#define SG_TM_NAME(name, help) #name,
	SG_TELEMETRY_COUNTERS(SG_TM_NAME)
#undef SG_TM_NAME
};

static const char *const counter_help[] = {
#define SG_TM_HELP(name, help) help,
	SG_TELEMETRY_COUNTERS(SG_TM_HELP)
#undef SG_TM_HELP
};

static const char *const gauge_names[] = {
#define SG_TM_NAME(name, help) #name,
	SG_TELEMETRY_GAUGES(SG_TM_NAME)
#undef SG_TM_NAME
};

int
sg_telemetry_init(unsigned workers)
{
	if (workers == 0 || workers > RTE_MAX_LCORE || tm.block != NULL)
		return -EINVAL;
	/* aligned_alloc: each block starts on its own cache line, so two
	 * workers never write the same line. */
	tm.block = aligned_alloc(RTE_CACHE_LINE_SIZE,
				 RTE_ALIGN_CEIL(sizeof(*tm.block) * workers, RTE_CACHE_LINE_SIZE));
	if (tm.block == NULL)
		return -ENOMEM;
	memset(tm.block, 0, sizeof(*tm.block) * workers);
	tm.workers = workers;
	tm.start_ns = sg_clock_ns();
	return 0;
}

void
sg_telemetry_fini(void)
{
	free(tm.block);
	tm.block = NULL;
	tm.workers = 0;
}

struct sg_telemetry_worker *
sg_telemetry_worker(unsigned index)
{
	if (tm.block == NULL || index >= tm.workers)
		return NULL;
	return &tm.block[index];
}

unsigned
sg_telemetry_hist_bucket(uint64_t ns)
{
	unsigned msb, b;

	if (ns < 8)
		return (unsigned)ns;
	msb = 63u - (unsigned)__builtin_clzll(ns);
	b = ((msb - 2u) << 3) | (unsigned)((ns >> (msb - 3u)) & 7u);
	return b < SG_TM_HIST_BUCKETS ? b : SG_TM_HIST_BUCKETS - 1;
}

uint64_t
sg_telemetry_hist_bucket_max(unsigned bucket)
{
	unsigned msb, sub;

	if (bucket < 8)
		return bucket;
	if (bucket >= SG_TM_HIST_BUCKETS - 1)
		return UINT64_MAX;
	msb = (bucket >> 3) + 2u;
	sub = bucket & 7u;
	/* values (8 + sub) << (msb - 3) ... (9 + sub) << (msb - 3) - 1 */
	return ((uint64_t)(9u + sub) << (msb - 3u)) - 1u;
}

void
sg_telemetry_hist_record(struct sg_telemetry_hist *h, uint64_t ns)
{
	unsigned b = sg_telemetry_hist_bucket(ns);

	__atomic_store_n(&h->bucket[b], h->bucket[b] + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&h->sum_ns, h->sum_ns + ns, __ATOMIC_RELAXED);
	if (ns > h->max_ns)
		__atomic_store_n(&h->max_ns, ns, __ATOMIC_RELAXED);
	/* count last: a reader never sees more count than bucket entries */
	__atomic_store_n(&h->count, h->count + 1, __ATOMIC_RELEASE);
}

uint64_t
sg_telemetry_hist_quantile(const struct sg_telemetry_hist *h, double q)
{
	uint64_t total = 0, seen = 0, rank;

	for (unsigned b = 0; b < SG_TM_HIST_BUCKETS; b++)
		total += h->bucket[b];
	if (total == 0)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	rank = (uint64_t)(q * (double)total + 0.5);
	if (rank == 0)
		rank = 1;
	for (unsigned b = 0; b < SG_TM_HIST_BUCKETS; b++) {
		seen += h->bucket[b];
		if (seen >= rank)
			return SG_MIN(sg_telemetry_hist_bucket_max(b), h->max_ns);
	}
	return h->max_ns;
}

static void
hist_add(struct sg_telemetry_hist *dst, const struct sg_telemetry_hist *src)
{
	dst->count += __atomic_load_n(&src->count, __ATOMIC_ACQUIRE);
	dst->sum_ns += __atomic_load_n(&src->sum_ns, __ATOMIC_RELAXED);
	dst->max_ns = SG_MAX(dst->max_ns, __atomic_load_n(&src->max_ns, __ATOMIC_RELAXED));
	for (unsigned b = 0; b < SG_TM_HIST_BUCKETS; b++)
		dst->bucket[b] += __atomic_load_n(&src->bucket[b], __ATOMIC_RELAXED);
}

void
sg_telemetry_snapshot(struct sg_telemetry_snapshot *out)
{
	memset(out, 0, sizeof(*out));
	out->workers = tm.workers;
	out->uptime_ns = tm.block != NULL ? sg_clock_ns() - tm.start_ns : 0;
	for (unsigned w = 0; w < tm.workers; w++) {
		const struct sg_telemetry_worker *t = &tm.block[w];

		for (unsigned c = 0; c < SG_TM_NCOUNTERS; c++)
			out->counter[c] += __atomic_load_n(&t->counter[c], __ATOMIC_RELAXED);
		for (unsigned g = 0; g < SG_TM_NGAUGES; g++)
			out->gauge[g] += __atomic_load_n(&t->gauge[g], __ATOMIC_RELAXED);
		for (unsigned k = 0; k < SG_TM_NCLASSES; k++)
			hist_add(&out->latency[k], &t->latency[k]);
		hist_add(&out->hold, &t->hold);
	}
}

const char *
sg_telemetry_counter_name(enum sg_telemetry_counter c)
{
	return c < SG_TM_NCOUNTERS ? counter_names[c] : "?";
}

const char *
sg_telemetry_counter_help(enum sg_telemetry_counter c)
{
	return c < SG_TM_NCOUNTERS ? counter_help[c] : "?";
}

const char *
sg_telemetry_gauge_name(enum sg_telemetry_gauge g)
{
	return g < SG_TM_NGAUGES ? gauge_names[g] : "?";
}

const char *
sg_telemetry_class_name(enum sg_telemetry_class c)
{
	static const char *const names[] = { "read", "write", "other" };

	return c < SG_TM_NCLASSES ? names[c] : "?";
}

int
sg_telemetry_register(const char *prefix, const char *suffix, telemetry_cb fn,
		      const char *help)
{
	char name[128];
	int n = snprintf(name, sizeof(name), "%s%s", prefix, suffix);

	if (n < 0 || (size_t)n >= sizeof(name))
		return -EINVAL;
	return rte_telemetry_register_cmd(name, fn, help);
}

/* ---- built-in commands ---- */

static int
cmd_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct sg_telemetry_snapshot *s = malloc(sizeof(*s));

	if (s == NULL)
		return -ENOMEM;
	sg_telemetry_snapshot(s);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "workers", s->workers);
	rte_tel_data_add_dict_u64(d, "uptime_s", s->uptime_ns / SG_NS_PER_S);
	for (unsigned g = 0; g < SG_TM_NGAUGES; g++)
		rte_tel_data_add_dict_u64(d, gauge_names[g],
					  s->gauge[g] > 0 ? (uint64_t)s->gauge[g] : 0);
	for (unsigned c = 0; c < SG_TM_NCOUNTERS; c++)
		rte_tel_data_add_dict_u64(d, counter_names[c], s->counter[c]);
	free(s);
	return 0;
}

static struct rte_tel_data *
hist_dict(const struct sg_telemetry_hist *h)
{
	struct rte_tel_data *d = rte_tel_data_alloc();

	if (d == NULL)
		return NULL;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "count", h->count);
	rte_tel_data_add_dict_u64(d, "mean_us", h->count ? h->sum_ns / h->count / 1000 : 0);
	rte_tel_data_add_dict_u64(d, "p50_us", sg_telemetry_hist_quantile(h, 0.50) / 1000);
	rte_tel_data_add_dict_u64(d, "p99_us", sg_telemetry_hist_quantile(h, 0.99) / 1000);
	rte_tel_data_add_dict_u64(d, "p999_us", sg_telemetry_hist_quantile(h, 0.999) / 1000);
	rte_tel_data_add_dict_u64(d, "max_us", h->max_ns / 1000);
	return d;
}

static int
cmd_latency(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct sg_telemetry_snapshot *s = malloc(sizeof(*s));

	if (s == NULL)
		return -ENOMEM;
	sg_telemetry_snapshot(s);
	rte_tel_data_start_dict(d);
	for (unsigned k = 0; k < SG_TM_NCLASSES; k++) {
		struct rte_tel_data *h = hist_dict(&s->latency[k]);

		if (h != NULL)
			rte_tel_data_add_dict_container(d, sg_telemetry_class_name(k), h, 0);
	}
	{
		struct rte_tel_data *h = hist_dict(&s->hold);

		if (h != NULL)
			rte_tel_data_add_dict_container(d, "hold", h, 0);
	}
	free(s);
	return 0;
}

int
sg_telemetry_register_builtin(const char *prefix)
{
	int rc;

	rc = sg_telemetry_register(prefix, "/stats", cmd_stats,
				   "Counters and gauges summed over workers. No parameters");
	if (rc != 0)
		return rc;
	return sg_telemetry_register(prefix, "/latency", cmd_latency,
				     "Latency per command class and hold times, microseconds. No parameters");
}
