/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Counters for readers on other threads, and <prefix>/tcp.
 *
 * A stack's counters (struct sg_tcp_stats) are plain fields its lcore
 * bumps on every segment. A reader on another thread must not read them
 * in place, so each stack owns one slot of a static table and copies its
 * counters there (relaxed atomic stores) from sg_tcp_stack_timers() at
 * most once per PUB_PERIOD_NS and when it is destroyed:
 *
 *   stack (its lcore)            pub[slot] (static)        reader
 *   st.retransmits++ ...  --copy every 1 ms-->  v[]  <--relaxed loads--
 *
 * A sum is at most a millisecond behind and never torn. The table is
 * static, so a reader never touches a stack that is being freed; a
 * destroyed stack gives its slot back.
 */
#include <errno.h>
#include <string.h>

#include <rte_common.h>

#include "sg_telemetry.h"
#include "tcp_internal.h"

#define PUB_SLOTS 128
#define PUB_WORDS (sizeof(struct sg_tcp_stats) / sizeof(uint64_t))
#define PUB_PERIOD_NS (1 * SG_NS_PER_MS)

struct tcp_pub {
	uint64_t v[PUB_WORDS];
	int in_use;
} __rte_cache_aligned;

static struct tcp_pub pub[PUB_SLOTS];

static sg_tcp_telemetry_extra_cb tel_extra;
static void *tel_extra_arg;

void
tcp_pub_attach(struct sg_tcp_stack *s)
{
	s->pub_slot = -1;
	for (int i = 0; i < PUB_SLOTS; i++) {
		int expect = 0;

		if (__atomic_compare_exchange_n(&pub[i].in_use, &expect, 1, false,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			s->pub_slot = i;
			break;
		}
	}
}

void
tcp_pub_publish(struct sg_tcp_stack *s)
{
	const uint64_t *src = (const uint64_t *)&s->st;
	struct tcp_pub *p;

	if (s->pub_slot < 0)
		return;
	p = &pub[s->pub_slot];
	for (size_t i = 0; i < PUB_WORDS; i++)
		__atomic_store_n(&p->v[i], src[i], __ATOMIC_RELAXED);
	s->pub_next_ns = s->now_ns + PUB_PERIOD_NS;
}

void
tcp_pub_detach(struct sg_tcp_stack *s)
{
	struct tcp_pub *p;

	if (s->pub_slot < 0)
		return;
	p = &pub[s->pub_slot];
	for (size_t i = 0; i < PUB_WORDS; i++)
		__atomic_store_n(&p->v[i], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&p->in_use, 0, __ATOMIC_RELEASE);
	s->pub_slot = -1;
}

unsigned
sg_tcp_stats_total(struct sg_tcp_stats *out)
{
	uint64_t *dst = (uint64_t *)out;
	unsigned stacks = 0;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < PUB_SLOTS; i++) {
		if (!__atomic_load_n(&pub[i].in_use, __ATOMIC_ACQUIRE))
			continue;
		stacks++;
		for (size_t k = 0; k < PUB_WORDS; k++)
			dst[k] += __atomic_load_n(&pub[i].v[k], __ATOMIC_RELAXED);
	}
	return stacks;
}

static int
cmd_tcp(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct sg_tcp_stats st;
	const uint64_t *v = (const uint64_t *)&st;
	struct rte_tel_data *states;
	unsigned stacks;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	stacks = sg_tcp_stats_total(&st);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "stacks", stacks);
	states = rte_tel_data_alloc();
	if (states != NULL) {
		rte_tel_data_start_dict(states);
		for (unsigned k = SG_TCP_SYN_SENT; k < SG_TCP_STATE_COUNT; k++)
			rte_tel_data_add_dict_u64(states, sg_tcp_state_name(k),
						  st.conns_by_state[k]);
		if (rte_tel_data_add_dict_container(d, "conns_by_state", states, 0) != 0)
			rte_tel_data_free(states);
	}
	for (unsigned i = 0; i < sg_tcp_stat_count; i++)
		rte_tel_data_add_dict_u64(d, sg_tcp_stat_names[i], v[i]);
	if (tel_extra != NULL)
		tel_extra(d, tel_extra_arg);
	return 0;
}

int
sg_tcp_register_telemetry(const char *prefix, sg_tcp_telemetry_extra_cb extra,
			  void *arg)
{
	static bool registered;
	int rc = 0;

	tel_extra = extra;
	tel_extra_arg = arg;
	if (!registered) {
		rc = sg_telemetry_register(prefix, "/tcp", cmd_tcp,
					   "TCP: connections by state and every counter "
					   "of every stack, summed.");
		if (rc == 0)
			registered = true;
	}
	return rc;
}
