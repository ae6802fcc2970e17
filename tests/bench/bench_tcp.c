/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_tcp: figures for lib/tcp, two stacks in one thread joined by an
 * in-process lossless link (a FIFO), real TSC clock. Prints:
 *
 *   - memory per idle established connection: the connection object,
 *     the per-connection share of the stack (table buckets, TIME_WAIT
 *     reserve), and mbufs still held once the connections are idle;
 *   - bulk transfer: payload Gbit/s and segments/s, both stacks on
 *     one core (so the cost of a segment is sender + receiver);
 *   - request/response: transactions/s over many connections, each
 *     a small request answered by an echo.
 *
 * Usage: bench_tcp [connections=10000] [bulk_MB=256] [rounds=50]
 * It is a benchmark, not a test: it prints and exits 0 unless something
 * does not work at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include "sg_tcp.h"

#define QCAP (1u << 16)

struct link {
	struct rte_mbuf *m[QCAP];
	uint32_t head, tail;
};

struct side {
	struct sg_tcp_stack *st;
	struct link *to_peer;
	uint32_t ip;
};

static struct rte_mempool *pool;
static struct side sides[2];
static struct link links[2];

static int
out_cb(void *ctx, struct rte_mbuf *m, uint32_t src, uint32_t dst)
{
	struct side *sd = ctx;
	struct link *l = sd->to_peer;

	(void)src;
	(void)dst;
	if (l->tail - l->head >= QCAP) {
		rte_pktmbuf_free(m);
		return -1;
	}
	m->ol_flags = 0;
	l->m[l->tail++ % QCAP] = m;
	return 0;
}

/* One iteration of both loops: deliver, timers, flush. */
static unsigned
spin(void)
{
	unsigned moved = 0;

	for (int i = 0; i < 2; i++) {
		struct link *l = &links[i];	/* into side 1 - i */
		struct side *dst = &sides[1 - i];

		while (l->head != l->tail) {
			sg_tcp_input(dst->st, l->m[l->head++ % QCAP],
				     sides[i].ip, dst->ip);
			moved++;
		}
	}
	for (int i = 0; i < 2; i++) {
		sg_tcp_stack_timers(sides[i].st);
		sg_tcp_stack_flush(sides[i].st);
	}
	return moved;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- application ---- */

struct app {
	uint64_t bytes_in;
	uint64_t replies;
	unsigned accepted;
	unsigned connected;
	bool echo;
};

static struct app server, client;

static void
app_data(struct sg_tcp_conn *c, void *arg, struct rte_mbuf *m)
{
	struct app *a = arg;

	a->bytes_in += m->pkt_len;
	if (a->echo) {
		sg_tcp_send(c, m);
	} else {
		a->replies++;
		rte_pktmbuf_free(m);
	}
}

static void
app_connected(struct sg_tcp_conn *c, void *arg, int status)
{
	struct app *a = arg;

	(void)c;
	if (status == 0)
		a->connected++;
}

static const struct sg_tcp_conn_cbs server_cbs = { .data = app_data };
static const struct sg_tcp_conn_cbs client_cbs = {
	.connected = app_connected,
	.data = app_data,
};

static void
on_accept(struct sg_tcp_listener *l, void *arg, struct sg_tcp_conn *c)
{
	(void)l;
	server.accepted++;
	sg_tcp_conn_set_cbs(c, &server_cbs, arg);
}

int
main(int argc, char **argv)
{
	unsigned nconn = argc > 1 ? (unsigned)atoi(argv[1]) : 10000;
	uint64_t bulk = (argc > 2 ? (uint64_t)atoi(argv[2]) : 256) << 20;
	unsigned rounds = argc > 3 ? (unsigned)atoi(argv[3]) : 50;
	char prefix[64];
	char *eal_argv[] = { argv[0], "--no-huge", "--no-pci", "-m", "1024",
			     prefix, "--log-level=lib.eal:error",
			     "--no-telemetry", NULL };
	struct sg_tcp_conn **conns;
	struct sg_tcp_conf conf;
	unsigned base, idle_mbufs;
	uint64_t sent = 0, segs0;
	double t0, t1;
	char req[32];

	snprintf(prefix, sizeof(prefix), "--file-prefix=sgbench-tcp-%d", getpid());
	if (rte_eal_init(8, eal_argv) < 0)
		return 1;
	pool = rte_pktmbuf_pool_create("bench", 131071, 256, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL || nconn == 0 || nconn > 60000)
		return 1;
	conns = calloc(nconn, sizeof(*conns));
	sides[0].ip = rte_cpu_to_be_32(0xc6120001u);
	sides[1].ip = rte_cpu_to_be_32(0xc6120002u);
	for (int i = 0; i < 2; i++) {
		sg_tcp_conf_init(&conf);
		conf.pool = pool;
		conf.max_conns = nconn + 16;
		conf.ip_output = out_cb;
		conf.ctx = &sides[i];
		conf.port_min = 1024;
		conf.port_max = 65535;
		memset(conf.isn_secret, i + 1, sizeof(conf.isn_secret));
		sides[i].to_peer = &links[i];
		sides[i].st = sg_tcp_stack_create(&conf);
		if (sides[i].st == NULL)
			return 1;
	}
	server.echo = true;
	sg_tcp_listen(sides[0].st, 0, rte_cpu_to_be_16(6379), 1024, on_accept,
		      &server, NULL);
	base = rte_mempool_in_use_count(pool);

	/* 1. Idle connections. */
	t0 = now_s();
	for (unsigned i = 0; i < nconn; i++) {
		if (sg_tcp_connect(sides[1].st, sides[1].ip, 0, sides[0].ip,
				   rte_cpu_to_be_16(6379), &client_cbs, &client,
				   &conns[i]) != 0)
			return 1;
		if (i % 256 == 255)
			spin();
	}
	while (client.connected < nconn || server.accepted < nconn)
		if (spin() == 0 && client.connected < nconn)
			break;
	t1 = now_s();
	memset(req, 'r', sizeof(req));
	for (unsigned i = 0; i < nconn; i++)
		sg_sink_write(sg_tcp_sink(conns[i]), req, sizeof(req));
	while (client.replies < nconn && spin() > 0)
		;
	/* Let delayed ACKs go out, then nothing should be held. */
	for (double end = now_s() + 0.1; now_s() < end;)
		spin();
	idle_mbufs = rte_mempool_in_use_count(pool) - base;
	printf("connections                      %u (handshakes %.0f/s)\n", nconn,
	       nconn / (t1 - t0));
	printf("conn object                      %zu bytes\n", sg_tcp_conn_size());
	{
		/* Buckets: a power of two >= max_conns + max_time_wait
		 * (tcp_stack.c); TIME_WAIT records: max_conns of them. */
		uint64_t nb = 64, slots = 2ull * (nconn + 16);

		while (nb < slots)
			nb <<= 1;
		printf("stack share per conn             %.0f bytes "
		       "(table %lu buckets + TIME_WAIT reserve)\n",
		       (double)(8 * nb + sg_tcp_time_wait_size() * (nconn + 16)) /
			       nconn, (unsigned long)nb);
	}
	printf("mbufs held by idle connections   %u\n", idle_mbufs);
	printf("TIME_WAIT record                 %zu bytes\n", sg_tcp_time_wait_size());
	printf("replies                          %lu of %u\n",
	       (unsigned long)client.replies, nconn);

	/* 2. Request/response rounds over every connection. */
	client.replies = 0;
	t0 = now_s();
	for (unsigned r = 0; r < rounds; r++) {
		uint64_t want = (uint64_t)(r + 1) * nconn;

		for (unsigned i = 0; i < nconn; i++)
			sg_sink_write(sg_tcp_sink(conns[i]), req, sizeof(req));
		while (client.replies < want && spin() > 0)
			;
	}
	t1 = now_s();
	printf("request/response                 %.0f transactions/s "
	       "(%u conns x %u rounds, one core)\n",
	       (double)client.replies / (t1 - t0), nconn, rounds);

	/* 3. Bulk on one connection, writes of 64 KiB. */
	server.bytes_in = 0;
	server.echo = false;
	segs0 = sg_tcp_stack_stats(sides[1].st)->segs_out;
	t0 = now_s();
	while (server.bytes_in < bulk) {
		static char chunk[65536];

		while (sent < bulk && sg_tcp_backlog(conns[0]) < 1024 * 1024) {
			sg_sink_write(sg_tcp_sink(conns[0]), chunk, sizeof(chunk));
			sent += sizeof(chunk);
		}
		spin();
	}
	t1 = now_s();
	printf("bulk                             %.2f Gbit/s payload, "
	       "%.0f segments/s (sender + receiver, one core)\n",
	       (double)bulk * 8 / (t1 - t0) / 1e9,
	       (double)(sg_tcp_stack_stats(sides[1].st)->segs_out - segs0) /
		       (t1 - t0));
	printf("retransmits                      %lu\n",
	       (unsigned long)sg_tcp_stack_stats(sides[1].st)->retransmits);

	for (int i = 0; i < 2; i++)
		sg_tcp_stack_destroy(sides[i].st);
	for (int i = 0; i < 2; i++) {
		while (links[i].head != links[i].tail)
			rte_pktmbuf_free(links[i].m[links[i].head++ % QCAP]);
	}
	free(conns);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return 0;
}
