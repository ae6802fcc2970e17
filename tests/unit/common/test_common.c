/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/common: spans, integer parsing, sinks, membufs, the timer wheel. */
#include <errno.h>
#include <stdint.h>

#include "sg_common.h"
#include "sg_unit.h"

static struct sg_span
S(const char *s)
{
	return sg_span_make(s, strlen(s));
}

static void
test_span_eq_nocase(void)
{
	CU_ASSERT_TRUE(sg_span_eq_nocase(S("GeT"), "get"));
	CU_ASSERT_TRUE(sg_span_eq_nocase(S(""), ""));
	CU_ASSERT_FALSE(sg_span_eq_nocase(S("ge"), "get"));
	CU_ASSERT_FALSE(sg_span_eq_nocase(S("gets"), "get"));
	CU_ASSERT_FALSE(sg_span_eq_nocase(S("ge\0"), "get"));
}

static void
test_i64_parse(void)
{
	int64_t v = 7;
	uint64_t u;

	CU_ASSERT_EQUAL(sg_span_to_i64(S("0"), &v), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(sg_span_to_i64(S("-42"), &v), 0);
	CU_ASSERT_EQUAL(v, -42);
	CU_ASSERT_EQUAL(sg_span_to_i64(S("9223372036854775807"), &v), 0);
	CU_ASSERT_EQUAL(v, INT64_MAX);
	CU_ASSERT_EQUAL(sg_span_to_i64(S("-9223372036854775808"), &v), 0);
	CU_ASSERT_EQUAL(v, INT64_MIN);
	CU_ASSERT_EQUAL(sg_span_to_i64(S("9223372036854775808"), &v), -ERANGE);
	CU_ASSERT_EQUAL(sg_span_to_i64(S("-9223372036854775809"), &v), -ERANGE);
	CU_ASSERT_EQUAL(sg_span_to_i64(S(""), &v), -EINVAL);
	CU_ASSERT_EQUAL(sg_span_to_i64(S("-"), &v), -EINVAL);
	CU_ASSERT_EQUAL(sg_span_to_i64(S("-0"), &v), -EINVAL);
	CU_ASSERT_EQUAL(sg_span_to_i64(S("01"), &v), -EINVAL);
	CU_ASSERT_EQUAL(sg_span_to_i64(S("+1"), &v), -EINVAL);
	CU_ASSERT_EQUAL(sg_span_to_i64(S("1 "), &v), -EINVAL);
	CU_ASSERT_EQUAL(sg_span_to_i64(S("12a"), &v), -EINVAL);
	CU_ASSERT_EQUAL(sg_span_to_u64(S("18446744073709551615"), &u), 0);
	CU_ASSERT_EQUAL(u, UINT64_MAX);
	CU_ASSERT_EQUAL(sg_span_to_u64(S("18446744073709551616"), &u), -ERANGE);
	CU_ASSERT_EQUAL(sg_span_to_u64(S("-1"), &u), -EINVAL);
}

static void
test_dec_format(void)
{
	char buf[24];
	size_t n;

	n = sg_u64_to_dec(buf, 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_NSTRING_EQUAL(buf, "0", 1);
	n = sg_u64_to_dec(buf, UINT64_MAX);
	CU_ASSERT_EQUAL(n, 20);
	CU_ASSERT_NSTRING_EQUAL(buf, "18446744073709551615", 20);
	n = sg_i64_to_dec(buf, INT64_MIN);
	CU_ASSERT_EQUAL(n, 20);
	CU_ASSERT_NSTRING_EQUAL(buf, "-9223372036854775808", 20);
	n = sg_i64_to_dec(buf, -5);
	CU_ASSERT_NSTRING_EQUAL(buf, "-5", 2);
	CU_ASSERT_EQUAL(n, 2);
}

static void
test_edit_distance(void)
{
	CU_ASSERT_EQUAL(sg_edit_distance("connections", 11, "conections", 10), 1);
	CU_ASSERT_EQUAL(sg_edit_distance("seeds", 5, "SEEDS", 5), 0);
	CU_ASSERT_EQUAL(sg_edit_distance("", 0, "abc", 3), 3);
	CU_ASSERT_EQUAL(sg_edit_distance("kitten", 6, "sitting", 7), 3);
}

/* A sink over fixed 8-byte segments, to check writes that cross them. */
struct seg_owner {
	char segs[16][8];
	size_t used[16];
	int n;
};

static int
seg_more(struct sg_sink *s, size_t min)
{
	struct seg_owner *o = s->owner;

	if (o->n > 0)
		o->used[o->n - 1] = (size_t)(s->pos - o->segs[o->n - 1]);
	if (o->n == 16 || min > 8)
		return -ENOBUFS;
	s->pos = o->segs[o->n];
	s->end = o->segs[o->n] + 8;
	o->n++;
	return 0;
}

static void
test_sink_segments(void)
{
	struct seg_owner o = { .n = 0 };
	struct sg_sink s = { .more = seg_more, .owner = &o };
	char joined[128];
	size_t len = 0;
	char *p;

	sg_sink_write(&s, "hello, segmented world", 22);
	p = sg_sink_reserve(&s, 5);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memcpy(p, "12345", 5);
	sg_sink_commit(&s, p + 5);
	CU_ASSERT_EQUAL(s.err, 0);
	CU_ASSERT_EQUAL(s.written, 27);
	o.used[o.n - 1] = (size_t)(s.pos - o.segs[o.n - 1]);
	for (int i = 0; i < o.n; i++) {
		memcpy(joined + len, o.segs[i], o.used[i]);
		len += o.used[i];
	}
	CU_ASSERT_EQUAL(len, 27);
	CU_ASSERT_NSTRING_EQUAL(joined, "hello, segmented world12345", 27);

	/* A reserve larger than any segment fails and stays failed. */
	CU_ASSERT_PTR_NULL(sg_sink_reserve(&s, 9));
	CU_ASSERT_EQUAL(s.err, -ENOBUFS);
	sg_sink_write(&s, "x", 1);
	CU_ASSERT_EQUAL(s.written, 27);
}

static void
test_membuf_limit(void)
{
	struct sg_membuf b;
	struct sg_sink s;

	sg_membuf_init(&b, 10);
	CU_ASSERT_EQUAL(sg_membuf_append(&b, "0123456789", 10), 0);
	CU_ASSERT_EQUAL(sg_membuf_append(&b, "x", 1), -ENOBUFS);
	CU_ASSERT_EQUAL(b.len, 10);
	sg_membuf_free(&b);

	sg_membuf_init(&b, 0);
	sg_membuf_sink(&b, &s);
	for (int i = 0; i < 1000; i++)
		sg_sink_write(&s, "abcdefgh", 8);
	sg_membuf_sink_done(&b, &s);
	CU_ASSERT_EQUAL(s.err, 0);
	CU_ASSERT_EQUAL(b.len, 8000);
	CU_ASSERT_NSTRING_EQUAL(b.data + 7992, "abcdefgh", 8);
	sg_membuf_free(&b);
}

/* ---- timer wheel ---- */

struct fire_log {
	int count;
	uint64_t at[64];
	uint64_t *clock;
};

static void
log_fire(struct sg_timer *t, void *arg)
{
	struct fire_log *l = arg;

	(void)t;
	if (l->count < 64)
		l->at[l->count] = *l->clock;
	l->count++;
}

static void
test_timer_order_and_lateness(void)
{
	struct sg_timer_wheel w;
	struct sg_timer t[3];
	uint64_t now = 5 * SG_NS_PER_S;
	struct fire_log l = { .clock = &now };

	sg_timer_wheel_init(&w, SG_NS_PER_MS, now);
	for (int i = 0; i < 3; i++)
		sg_timer_init(&t[i], log_fire, &l);
	sg_timer_arm_at(&w, &t[0], now + 3 * SG_NS_PER_MS);
	sg_timer_arm_at(&w, &t[1], now + 1500 * SG_NS_PER_MS); /* > 1 revolution */
	sg_timer_arm_at(&w, &t[2], now + 10 * SG_NS_PER_MS);
	CU_ASSERT_EQUAL(w.armed, 3);
	CU_ASSERT_EQUAL(sg_timer_wheel_idle_ns(&w, now, SG_NS_PER_S), 3 * SG_NS_PER_MS);

	/* Step 1 ms at a time: nothing fires early. */
	for (int ms = 1; ms <= 2000; ms++) {
		now += SG_NS_PER_MS;
		sg_timer_wheel_advance(&w, now);
		if (ms < 3)
			CU_ASSERT_EQUAL(l.count, 0);
	}
	CU_ASSERT_EQUAL_FATAL(l.count, 3);
	CU_ASSERT_EQUAL(l.at[0], 5 * SG_NS_PER_S + 3 * SG_NS_PER_MS);
	CU_ASSERT_EQUAL(l.at[1], 5 * SG_NS_PER_S + 10 * SG_NS_PER_MS);
	CU_ASSERT_EQUAL(l.at[2], 5 * SG_NS_PER_S + 1500 * SG_NS_PER_MS);
	CU_ASSERT_EQUAL(w.armed, 0);
}

static void
test_timer_cancel_and_rearm(void)
{
	struct sg_timer_wheel w;
	struct sg_timer a, b;
	uint64_t now = 0;
	struct fire_log l = { .clock = &now };

	sg_timer_wheel_init(&w, SG_NS_PER_MS, now);
	sg_timer_init(&a, log_fire, &l);
	sg_timer_init(&b, log_fire, &l);
	sg_timer_arm_at(&w, &a, 5 * SG_NS_PER_MS);
	sg_timer_arm_at(&w, &b, 5 * SG_NS_PER_MS);
	sg_timer_cancel(&w, &a);
	CU_ASSERT_FALSE(sg_timer_armed(&a));
	sg_timer_cancel(&w, &a); /* twice is harmless */
	sg_timer_arm_at(&w, &b, 50 * SG_NS_PER_MS); /* move */
	CU_ASSERT_EQUAL(w.armed, 1);
	now = 49 * SG_NS_PER_MS;
	sg_timer_wheel_advance(&w, now);
	CU_ASSERT_EQUAL(l.count, 0);
	now = 50 * SG_NS_PER_MS;
	sg_timer_wheel_advance(&w, now);
	CU_ASSERT_EQUAL(l.count, 1);
}

/* A callback that cancels the other timer due in the same tick and
 * re-arms itself. */
struct pair {
	struct sg_timer_wheel *w;
	struct sg_timer *other;
	int fired;
	uint64_t rearm_at;
};

static void
pair_fire(struct sg_timer *t, void *arg)
{
	struct pair *p = arg;

	p->fired++;
	if (p->other != NULL)
		sg_timer_cancel(p->w, p->other);
	if (p->rearm_at != 0) {
		sg_timer_arm_at(p->w, t, p->rearm_at);
		p->rearm_at = 0;
	}
}

static void
test_timer_callback_cancels_sibling(void)
{
	struct sg_timer_wheel w;
	struct sg_timer a, b;
	struct pair pa, pb;

	sg_timer_wheel_init(&w, SG_NS_PER_MS, 0);
	pa = (struct pair){ .w = &w, .other = &b, .rearm_at = 20 * SG_NS_PER_MS };
	pb = (struct pair){ .w = &w, .other = &a };
	sg_timer_init(&a, pair_fire, &pa);
	sg_timer_init(&b, pair_fire, &pb);
	sg_timer_arm_at(&w, &b, 2 * SG_NS_PER_MS);
	sg_timer_arm_at(&w, &a, 2 * SG_NS_PER_MS); /* a is first in the slot */
	sg_timer_wheel_advance(&w, 2 * SG_NS_PER_MS);
	CU_ASSERT_EQUAL(pa.fired, 1);
	CU_ASSERT_EQUAL(pb.fired, 0);
	CU_ASSERT_TRUE(sg_timer_armed(&a));
	CU_ASSERT_EQUAL(w.armed, 1);
	sg_timer_wheel_advance(&w, 20 * SG_NS_PER_MS);
	CU_ASSERT_EQUAL(pa.fired, 2);
	CU_ASSERT_EQUAL(w.armed, 0);
}

static void
test_timer_long_stall(void)
{
	struct sg_timer_wheel w;
	struct sg_timer t[4];
	uint64_t now = 0;
	struct fire_log l = { .clock = &now };

	sg_timer_wheel_init(&w, SG_NS_PER_MS, 0);
	for (int i = 0; i < 4; i++)
		sg_timer_init(&t[i], log_fire, &l);
	sg_timer_arm_at(&w, &t[0], 1 * SG_NS_PER_MS);
	sg_timer_arm_at(&w, &t[1], 700 * SG_NS_PER_MS);
	sg_timer_arm_at(&w, &t[2], 2500 * SG_NS_PER_MS);
	sg_timer_arm_at(&w, &t[3], 9000 * SG_NS_PER_MS);
	/* The loop was away for 3 s: the three due timers fire at once, the
	 * fourth waits. */
	now = 3000 * SG_NS_PER_MS;
	CU_ASSERT_EQUAL(sg_timer_wheel_advance(&w, now), 3);
	CU_ASSERT_EQUAL(l.count, 3);
	CU_ASSERT_EQUAL(w.armed, 1);
	CU_ASSERT_EQUAL(sg_timer_wheel_idle_ns(&w, now, 100 * SG_NS_PER_MS),
			100 * SG_NS_PER_MS);
	now = 9000 * SG_NS_PER_MS;
	CU_ASSERT_EQUAL(sg_timer_wheel_advance(&w, now), 1);
}

static const struct sg_unit_test span_tests[] = {
	{ "span compare ignores case", test_span_eq_nocase },
	{ "strict integer parsing", test_i64_parse },
	{ "decimal formatting", test_dec_format },
	{ "edit distance", test_edit_distance },
	{ NULL, NULL },
};

static const struct sg_unit_test sink_tests[] = {
	{ "sink writes across segments", test_sink_segments },
	{ "membuf limit and sink", test_membuf_limit },
	{ NULL, NULL },
};

static const struct sg_unit_test timer_tests[] = {
	{ "timers fire in order, never early", test_timer_order_and_lateness },
	{ "cancel and re-arm", test_timer_cancel_and_rearm },
	{ "callback cancels a sibling in the same tick", test_timer_callback_cancels_sibling },
	{ "a long stall fires what is due", test_timer_long_stall },
	{ NULL, NULL },
};

SG_UNIT_MAIN({ "span", span_tests }, { "sink", sink_tests }, { "timer", timer_tests })
