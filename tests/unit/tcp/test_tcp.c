/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/tcp unit tests. The program brings up EAL itself (no hugepages, no
 * PCI) because the stack lives on mbufs; everything else is simulated:
 * two stacks on a lossy link (tcp_sim.h) or one stack and a test that
 * plays the peer segment by segment.
 *
 * SG_TCP_SEEDS sets how many random-link seeds the stream test runs
 * (default 10000); SG_TCP_SEED=N replays only seed N, and SG_TCP_DUMP=1
 * prints the last segments of a failing seed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "sg_unit.h"
#include "tcp_app.h"
#include "tcp_tests.h"

static unsigned
env_seeds(void)
{
	const char *v = getenv("SG_TCP_SEEDS");
	unsigned long n = v != NULL ? strtoul(v, NULL, 10) : 0;

	return n != 0 ? (unsigned)n : 10000;
}

static void
stream_app(struct sim *s)
{
	struct ep *e = s->app_arg;

	ep_pump(&e[0]);
	ep_pump(&e[1]);
}

static bool
both_closed(struct sim *s)
{
	struct ep *e = s->app_arg;

	return e[0].closed && e[1].closed;
}

/* Byte stream sizes: mostly small, some large, a few several MB. */
static uint64_t
pick_size(struct sim *s, unsigned seed)
{
	uint64_t r = sim_rand(s) % 100;

	if (seed % 97 == 5)
		return 2 * 1024 * 1024 + sim_rand(s) % (2 * 1024 * 1024);
	if (r < 10)
		return 1 + sim_rand(s) % 16;
	if (r < 60)
		return 1 + sim_rand(s) % 4096;
	if (r < 95)
		return 1 + sim_rand(s) % 65536;
	return 1 + sim_rand(s) % (512 * 1024);
}

/*
 * One seed: random link (loss, duplication, reordering, delay, jitter),
 * random options (timestamps, SACK, window scaling on or off, MSS,
 * receive memory, ISNs near the wrap), both directions at once, then an
 * orderly close from both sides. Returns 0 or prints why and returns 1.
 */
static int
run_stream(unsigned seed)
{
	struct sim s;
	struct ep e[2];
	struct sg_tcp_conn *c = NULL;
	unsigned base = pool_in_use();
	uint64_t n0, n1;
	bool done;
	int bad = 0;

	sim_init(&s, seed, false);
	sim_log_ring(&s, 80);
	s.loss_pm = (unsigned)(sim_rand(&s) % 100);	/* up to 10% */
	s.dup_pm = (unsigned)(sim_rand(&s) % 50);
	s.reorder_pm = (unsigned)(sim_rand(&s) % 100);
	s.delay_ns = 50 * SG_NS_PER_US + sim_rand(&s) % (20 * SG_NS_PER_MS);
	s.jitter_ns = sim_rand(&s) % (s.delay_ns + 1);
	for (int i = 0; i < 2; i++) {
		uint64_t r = sim_rand(&s);

		s.conf[i].no_timestamps = (r & 3) == 0;
		s.conf[i].no_sack = (r & 12) == 0;
		s.conf[i].no_wscale = (r & 48) == 0;
		s.conf[i].mss = (uint16_t)(536 + (r >> 8) % 925);
		s.conf[i].rcv_buf = (uint32_t)(8 * 1024 + (r >> 20) % (512 * 1024));
		s.conf[i].rto_min_ns = (20 + (r >> 40) % 200) * SG_NS_PER_MS;
		s.conf[i].delack_ns = (1 + (r >> 50) % 40) * SG_NS_PER_MS;
		/* Longer than any FIN retransmission backoff here: the
		 * short-TIME_WAIT trade-off has its own test. */
		s.conf[i].time_wait_ns = 300 * SG_NS_PER_S;
	}
	if (sim_rand(&s) % 4 == 0) {
		s.fixed_isn = true;
		s.isn[0] = (uint32_t)(0u - 1 - sim_rand(&s) % 200000);
		s.isn[1] = (uint32_t)(0u - 1 - sim_rand(&s) % 200000);
	}
	sim_start(&s);
	n0 = pick_size(&s, seed);
	n1 = pick_size(&s, seed + 1);
	ep_init(&e[0], &s, 0, n0, seed * 2 + 1, seed * 2 + 2, n1);
	ep_init(&e[1], &s, 1, n1, seed * 2 + 2, seed * 2 + 1, n0);
	for (int i = 0; i < 2; i++) {
		e[i].use_send = (seed & 1) != 0;
		e[i].chunk_max = 1 + (uint32_t)(sim_rand(&s) % 30000);
	}
	sg_tcp_listen(s.st[0], 0, rte_cpu_to_be_16(6379), 16, ep_accept, &e[0],
		      NULL);
	if (sg_tcp_connect(s.st[1], s.ip[1], 0, s.ip[0], rte_cpu_to_be_16(6379),
			   &ep_cbs, &e[1], &c) != 0)
		bad = 1;
	e[1].c = c;
	s.app = stream_app;
	s.app_arg = e;
	done = !bad && sim_run(&s, 7200 * SG_NS_PER_S, both_closed);
	for (int i = 0; i < 2 && !bad; i++) {
		if (!done || e[i].got != e[i].expect || e[i].mismatches != 0 ||
		    !e[i].eof || e[i].closed_status != 0)
			bad = 1;
	}
	if (bad) {
		printf("\nseed %u: done %d loss %u dup %u reo %u delay %lu; "
		       "ep0 got %lu/%lu bad %lu@%lu eof %d st %d; "
		       "ep1 got %lu/%lu bad %lu@%lu eof %d st %d\n",
		       seed, done, s.loss_pm, s.dup_pm, s.reorder_pm,
		       (unsigned long)s.delay_ns,
		       (unsigned long)e[0].got, (unsigned long)e[0].expect,
		       (unsigned long)e[0].mismatches,
		       (unsigned long)e[0].first_bad, e[0].eof,
		       e[0].closed_status, (unsigned long)e[1].got,
		       (unsigned long)e[1].expect,
		       (unsigned long)e[1].mismatches,
		       (unsigned long)e[1].first_bad, e[1].eof,
		       e[1].closed_status);
	}
	if (bad && getenv("SG_TCP_DUMP") != NULL) {
		for (int i = 0; i < 2; i++) {
			const struct sg_tcp_stats *st = sg_tcp_stack_stats(s.st[i]);

			printf("  stack %d: paws %lu dup %lu chack %lu rto %lu "
			       "fr %lu memdrop %lu ooo %lu\n", i,
			       (unsigned long)st->paws_drops,
			       (unsigned long)st->dup_segments,
			       (unsigned long)st->challenge_acks,
			       (unsigned long)st->rto_expiries,
			       (unsigned long)st->fast_retransmits,
			       (unsigned long)st->rcv_mem_drops,
			       (unsigned long)st->ooo_segments);
		}
		for (unsigned i = 0; sim_log_tail(&s, i) != NULL; i++) {
			const struct pktinfo *pi = sim_log_tail(&s, i);

			printf("  %d t %.3f f %02x seq %u ack %u len %u wnd %u "
			       "ts %u/%u sack %u\n",
			       pi->from, (double)pi->t / 1e9, pi->flags, pi->seq,
			       pi->ack, pi->dlen, pi->wnd, pi->tsval, pi->tsecr,
			       pi->nsack);
		}
	}
	sim_fini(&s);
	if (pool_in_use() != base) {
		printf("\nseed %u: %u mbufs leaked\n", seed, pool_in_use() - base);
		bad = 1;
	}
	return bad;
}

static void
test_stream_random_links(void)
{
	unsigned n = env_seeds(), failed = 0, first = 1;
	const char *only = getenv("SG_TCP_SEED");

	if (only != NULL) {
		/* Replay one seed (SG_TCP_DUMP=1 prints its last segments). */
		first = (unsigned)strtoul(only, NULL, 10);
		n = first;
	}
	for (unsigned seed = first; seed <= n; seed++)
		failed += (unsigned)run_stream(seed);
	printf("(%u seeds, %u failed) ", n - first + 1, failed);
	CU_ASSERT_EQUAL(failed, 0);
}

static const struct sg_unit_test stream_tests[] = {
	{ "byte streams over a lossy, reordering, duplicating link",
	  test_stream_random_links },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	char prefix[64];
	char *eal_argv[] = {
		argv[0], "--no-huge", "--no-pci", "-m", "256", prefix,
		"--log-level=lib.eal:error", "--no-telemetry", NULL,
	};
	static const struct sg_unit_suite suites[] = {
		{ "handshake", handshake_tests },
		{ "close", close_tests },
		{ "reset", reset_tests },
		{ "options", option_tests },
		{ "window", window_tests },
		{ "retransmission", rexmit_tests },
		{ "ack", ack_tests },
		{ "timers", timer_tests },
		{ "listen", listen_tests },
		{ "memory", memory_tests },
		{ "wire", wire_tests },
		{ "stream", stream_tests },
	};
	int rc;

	(void)argc;
	snprintf(prefix, sizeof(prefix), "--file-prefix=sgtcp-%d", getpid());
	if (rte_eal_init(8, eal_argv) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	g_pool = rte_pktmbuf_pool_create("sgtcp", 16383, 256, 0,
					 RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (g_pool == NULL) {
		fprintf(stderr, "pool: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	rc = sg_unit_run(suites, SG_ARRAY_SIZE(suites));
	rte_mempool_free(g_pool);
	{
			char eal_dir[PATH_MAX];

			snprintf(eal_dir, sizeof(eal_dir), "%s", rte_eal_get_runtime_dir());
			rte_eal_cleanup();
			sg_unit_remove_dir(eal_dir);
		}
	return rc;
}
