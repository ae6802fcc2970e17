/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/telemetry: histogram buckets and quantiles, per-worker sums. */
#include <stdlib.h>

#include "sg_telemetry.h"
#include "sg_unit.h"

static void
test_bucket_bounds(void)
{
	/* Every value lands in a bucket whose bound is >= the value and
	 * within 12.5 % of it. */
	for (uint64_t v = 0; v < (1ull << 36); v = v < 64 ? v + 1 : v + v / 7 + 1) {
		unsigned b = sg_telemetry_hist_bucket(v);
		uint64_t hi = sg_telemetry_hist_bucket_max(b);

		CU_ASSERT_TRUE_FATAL(hi >= v);
		CU_ASSERT_TRUE_FATAL(hi - v <= v / 8 + 1);
		if (b > 0)
			CU_ASSERT_TRUE_FATAL(sg_telemetry_hist_bucket_max(b - 1) < v);
	}
	CU_ASSERT_EQUAL(sg_telemetry_hist_bucket(UINT64_MAX), SG_TM_HIST_BUCKETS - 1);
}

static void
test_quantiles(void)
{
	struct sg_telemetry_hist *h = calloc(1, sizeof(*h));
	uint64_t p50, p99, p999;

	/* 1000 samples of 1..1000 us */
	for (uint64_t i = 1; i <= 1000; i++)
		sg_telemetry_hist_record(h, i * 1000);
	CU_ASSERT_EQUAL(h->count, 1000);
	CU_ASSERT_EQUAL(h->max_ns, 1000000);
	CU_ASSERT_EQUAL(h->sum_ns, 500500ull * 1000);
	p50 = sg_telemetry_hist_quantile(h, 0.5);
	p99 = sg_telemetry_hist_quantile(h, 0.99);
	p999 = sg_telemetry_hist_quantile(h, 0.999);
	CU_ASSERT_TRUE(p50 >= 500000 && p50 <= 500000 * 9 / 8);
	CU_ASSERT_TRUE(p99 >= 990000 && p99 <= 1000000);
	CU_ASSERT_TRUE(p999 >= 999000 && p999 <= 1000000);
	CU_ASSERT_EQUAL(sg_telemetry_hist_quantile(h, 1.0), 1000000);
	memset(h, 0, sizeof(*h));
	CU_ASSERT_EQUAL(sg_telemetry_hist_quantile(h, 0.99), 0);
	free(h);
}

static void
test_snapshot_sums_workers(void)
{
	struct sg_telemetry_snapshot *s = malloc(sizeof(*s));
	struct sg_telemetry_worker *a, *b;

	CU_ASSERT_EQUAL_FATAL(sg_telemetry_init(2), 0);
	CU_ASSERT_EQUAL(sg_telemetry_init(2), -EINVAL);
	a = sg_telemetry_worker(0);
	b = sg_telemetry_worker(1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NULL(sg_telemetry_worker(2));
	CU_ASSERT_EQUAL((uintptr_t)a % 64, 0);
	CU_ASSERT_EQUAL((uintptr_t)b % 64, 0);
	sg_tm_inc(a, SG_TM_commands);
	sg_tm_add(b, SG_TM_commands, 41);
	sg_tm_gauge_add(a, SG_TM_G_clients, 3);
	sg_tm_gauge_add(b, SG_TM_G_clients, -1);
	sg_telemetry_hist_record(&a->latency[SG_TM_READ], 100);
	sg_telemetry_hist_record(&b->latency[SG_TM_READ], 300);
	sg_telemetry_snapshot(s);
	CU_ASSERT_EQUAL(s->workers, 2);
	CU_ASSERT_EQUAL(s->counter[SG_TM_commands], 42);
	CU_ASSERT_EQUAL(s->gauge[SG_TM_G_clients], 2);
	CU_ASSERT_EQUAL(s->latency[SG_TM_READ].count, 2);
	CU_ASSERT_EQUAL(s->latency[SG_TM_READ].max_ns, 300);
	CU_ASSERT_STRING_EQUAL(sg_telemetry_counter_name(SG_TM_commands), "commands");
	sg_telemetry_fini();
	free(s);
}

static const struct sg_unit_test tests[] = {
	{ "histogram buckets bound their values within 12.5%", test_bucket_bounds },
	{ "quantiles of a known distribution", test_quantiles },
	{ "snapshot sums workers", test_snapshot_sums_workers },
	{ NULL, NULL },
};

SG_UNIT_MAIN({ "telemetry", tests })
