/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for lib/tcp input: arbitrary segments (header,
 * options, payload) against a stack that has a listener, an accepted
 * connection and an active one, interleaved with time passing and
 * application calls. Every input starts from a fresh stack built the
 * same way (fixed ISNs, simulated clock), so a crash reproduces.
 *
 * Input: a sequence of records
 *
 *   [op] [arg] [len hi] [len lo] [len bytes: TCP segment]
 *
 *   op bits 0-1  target: 0 accepted conn, 1 active conn, 2 listener
 *                (source port 1000 + arg), 3 a closed port
 *   op bit  2    seq/ack are offsets from the target's rcv_nxt/snd_una
 *   op bit  3    mark RX_L4_CKSUM_GOOD instead of computing the sum
 *   op bit  4    keep the checksum field as given (software check)
 *   op bits 5-7  then: 0 nothing, 1 advance time arg*4 ms and run the
 *                timers, 2 toggle pause_read, 3 write arg*37 bytes,
 *                4 shutdown, 5 close, 6 abort, 7 deliver the segment as
 *                a chain cut at arg
 *
 * The segment's ports are overwritten for the target. After the input
 * the stack is destroyed and every mbuf must be back in the pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "sg_tcp.h"

#define IP_US 0xc6120001u	/* 198.18.0.1 */
#define IP_PEER 0xc6120002u	/* 198.18.0.2 */
#define MAX_SEG 1600

static struct rte_mempool *pool;
static uint64_t now_ns;

struct world {
	struct sg_tcp_stack *st;
	struct sg_tcp_conn *conn[2];	/* accepted, active */
	bool paused[2];
	uint32_t out_seq;		/* last sequence we saw from the stack */
	uint32_t out_ack;
};

static struct world W;

static uint64_t
clock_cb(void *ctx)
{
	(void)ctx;
	return now_ns;
}

static uint32_t
isn_cb(void *ctx, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport)
{
	(void)ctx;
	(void)lip;
	(void)rip;
	(void)rport;
	return lport == rte_cpu_to_be_16(80) ? 0xfffff000u : 0x7ffff000u;
}

static int
output_cb(void *ctx, struct rte_mbuf *m, uint32_t src, uint32_t dst)
{
	const struct rte_tcp_hdr *th = rte_pktmbuf_mtod(m, const struct rte_tcp_hdr *);

	(void)ctx;
	(void)src;
	(void)dst;
	W.out_seq = rte_be_to_cpu_32(th->sent_seq);
	W.out_ack = rte_be_to_cpu_32(th->recv_ack);
	rte_pktmbuf_free(m);
	return 0;
}

static void
forget(struct sg_tcp_conn *c)
{
	for (int i = 0; i < 2; i++) {
		if (W.conn[i] == c)
			W.conn[i] = NULL;
	}
}

static void
on_connected(struct sg_tcp_conn *c, void *arg, int status)
{
	(void)arg;
	if (status != 0)
		forget(c);
}

static void
on_data(struct sg_tcp_conn *c, void *arg, struct rte_mbuf *m)
{
	(void)arg;
	/* Echo every other chain back, free the rest. */
	if (m->pkt_len & 1)
		sg_tcp_send(c, m);
	else
		rte_pktmbuf_free(m);
}

static void
on_closed(struct sg_tcp_conn *c, void *arg, int status)
{
	(void)arg;
	(void)status;
	forget(c);
}

static const struct sg_tcp_conn_cbs cbs = {
	.connected = on_connected,
	.data = on_data,
	.closed = on_closed,
};

static void
on_accept(struct sg_tcp_listener *l, void *arg, struct sg_tcp_conn *c)
{
	(void)l;
	(void)arg;
	sg_tcp_conn_set_cbs(c, &cbs, NULL);
	if (W.conn[0] == NULL)
		W.conn[0] = c;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char prefix[64];
	char *eal_argv[] = {
		(*argv)[0], "--no-huge", "--no-pci", "-m", "128", prefix,
		"--log-level=lib.eal:error", "--no-telemetry", NULL,
	};

	(void)argc;
	snprintf(prefix, sizeof(prefix), "--file-prefix=sgfuzz-tcp-%d", getpid());
	if (rte_eal_init(8, eal_argv) < 0)
		abort();
	pool = rte_pktmbuf_pool_create("fuzz_tcp", 8191, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL)
		abort();
	return 0;
}

/* Builds a segment from the peer with a correct checksum. */
static struct rte_mbuf *
segment(const uint8_t *seg, size_t len, uint16_t sport, uint16_t dport,
	uint32_t seq, uint32_t ack, bool set_seq, bool keep_sum)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint32_t src = rte_cpu_to_be_32(IP_PEER), dst = rte_cpu_to_be_32(IP_US);
	uint8_t *p;

	if (m == NULL)
		abort();
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	memcpy(p, seg, len);
	if (len >= 20) {
		struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)p;

		th->src_port = rte_cpu_to_be_16(sport);
		th->dst_port = rte_cpu_to_be_16(dport);
		if (set_seq) {
			th->sent_seq = rte_cpu_to_be_32(
				rte_be_to_cpu_32(th->sent_seq) + seq);
			th->recv_ack = rte_cpu_to_be_32(
				rte_be_to_cpu_32(th->recv_ack) + ack);
		}
		if (!keep_sum) {
			uint16_t raw;
			uint32_t sum;

			th->cksum = 0;
			raw = rte_raw_cksum(p, len);
			sum = raw + (src & 0xffff) + (src >> 16) + (dst & 0xffff) +
			      (dst >> 16) + rte_cpu_to_be_16(6) +
			      rte_cpu_to_be_16((uint16_t)len);
			sum = (sum & 0xffff) + (sum >> 16);
			sum = (sum & 0xffff) + (sum >> 16);
			th->cksum = (uint16_t)~sum;
		}
	}
	return m;
}

static struct rte_mbuf *
cut(struct rte_mbuf *m, uint32_t at)
{
	struct rte_mbuf *t;
	uint32_t len = m->pkt_len;

	if (at == 0 || at >= len)
		return m;
	t = rte_pktmbuf_alloc(pool);
	if (t == NULL)
		abort();
	memcpy(rte_pktmbuf_append(t, (uint16_t)(len - at)),
	       rte_pktmbuf_mtod_offset(m, char *, at), len - at);
	rte_pktmbuf_trim(m, (uint16_t)(len - at));
	rte_pktmbuf_chain(m, t);
	return m;
}

static void
deliver(const uint8_t *seg, size_t len, uint16_t sport, uint16_t dport,
	uint32_t seq, uint32_t ack, bool rel, bool good, bool keep, int chain)
{
	struct rte_mbuf *m = segment(seg, len, sport, dport, seq, ack, rel, keep);

	if (good)
		m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	if (chain >= 0)
		m = cut(m, (uint32_t)chain);
	sg_tcp_input(W.st, m, rte_cpu_to_be_32(IP_PEER), rte_cpu_to_be_32(IP_US));
}

static void
loop(void)
{
	sg_tcp_stack_timers(W.st);
	sg_tcp_stack_flush(W.st);
}

/* The same starting world for every input. */
static void
setup(void)
{
	struct sg_tcp_conf conf;
	uint8_t syn[40] = { 0 };
	uint8_t *o = syn + 20;
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)syn;
	struct sg_tcp_conn *ac = NULL;

	memset(&W, 0, sizeof(W));
	now_ns = 1000ull * 1000000000ull;
	sg_tcp_conf_init(&conf);
	conf.pool = pool;
	conf.max_conns = 16;
	conf.max_time_wait = 4;
	conf.ip_output = output_cb;
	conf.now_ns = clock_cb;
	conf.isn_hook = isn_cb;
	conf.rcv_buf = 16 * 1024;
	conf.snd_buf = 64 * 1024;
	conf.keepalive_idle_ns = 2000000000ull;
	conf.keepalive_intvl_ns = 500000000ull;
	conf.keepalive_probes = 2;
	W.st = sg_tcp_stack_create(&conf);
	if (W.st == NULL)
		abort();
	sg_tcp_listen(W.st, 0, rte_cpu_to_be_16(80), 2, on_accept, NULL, NULL);

	/* Peer connects to :80: SYN (MSS, SACK-permitted, TS, WS 7). */
	th->sent_seq = rte_cpu_to_be_32(0x10000000u);
	th->data_off = (40 / 4) << 4;
	th->tcp_flags = RTE_TCP_SYN_FLAG;
	th->rx_win = rte_cpu_to_be_16(65535);
	memcpy(o, "\x02\x04\x05\xb4\x04\x02\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x00"
		  "\x01\x03\x03\x07", 20);
	deliver(syn, 40, 40000, 80, 0, 0, false, false, false, -1);
	loop();
	th->sent_seq = rte_cpu_to_be_32(0x10000001u);
	th->recv_ack = rte_cpu_to_be_32(W.out_seq + 1);
	th->data_off = (32 / 4) << 4;
	th->tcp_flags = RTE_TCP_ACK_FLAG;
	memcpy(o, "\x01\x01\x08\x0a\x00\x00\x00\x02\x00\x00\x00\x00", 12);
	deliver(syn, 32, 40000, 80, 0, 0, false, false, false, -1);

	/* We connect to the peer's :6379 from :5555; it answers. */
	sg_tcp_connect(W.st, rte_cpu_to_be_32(IP_US), rte_cpu_to_be_16(5555),
		       rte_cpu_to_be_32(IP_PEER), rte_cpu_to_be_16(6379), &cbs,
		       NULL, &ac);
	W.conn[1] = ac;
	loop();
	th->sent_seq = rte_cpu_to_be_32(0x20000000u);
	th->recv_ack = rte_cpu_to_be_32(W.out_seq + 1);
	th->data_off = (40 / 4) << 4;
	th->tcp_flags = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG;
	memcpy(o, "\x02\x04\x05\xb4\x04\x02\x08\x0a\x00\x00\x00\x03\x00\x00\x00\x00"
		  "\x01\x03\x03\x02", 20);
	deliver(syn, 40, 6379, 5555, 0, 0, false, false, false, -1);
	loop();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned base = rte_mempool_in_use_count(pool);
	static const uint16_t sports[4] = { 40000, 6379, 1000, 1234 };
	static const uint16_t dports[4] = { 80, 5555, 80, 81 };
	size_t pos = 0;

	setup();
	while (pos + 4 <= size) {
		uint8_t op = data[pos], arg = data[pos + 1];
		size_t len = (size_t)data[pos + 2] << 8 | data[pos + 3];
		int target = op & 3, action = op >> 5;
		struct sg_tcp_conn *c = target < 2 ? W.conn[target] : NULL;
		uint32_t seq = 0, ack = 0;
		uint16_t sport = sports[target];

		pos += 4;
		if (len > size - pos)
			len = size - pos;
		if (len > MAX_SEG)
			len = MAX_SEG;
		if (target == 2)
			sport = (uint16_t)(1000 + arg);
		if (c != NULL) {
			struct sg_tcp_info i;

			sg_tcp_conn_info(c, &i);
			seq = i.rcv_nxt;
			ack = i.snd_una;
		} else {
			seq = W.out_ack;
			ack = W.out_seq;
		}
		if (len > 0)
			deliver(data + pos, len, sport, dports[target], seq, ack,
				(op & 4) != 0, (op & 8) != 0, (op & 16) != 0,
				action == 7 ? arg : -1);
		pos += len;
		c = target < 2 ? W.conn[target] : NULL;	/* may be gone */
		switch (action) {
		case 1:
			now_ns += (uint64_t)arg * 4000000ull;
			break;
		case 2:
			if (c != NULL) {
				W.paused[target] = !W.paused[target];
				sg_tcp_pause_read(c, W.paused[target]);
			}
			break;
		case 3:
			if (c != NULL) {
				static const char junk[64] = "fuzz fuzz fuzz";
				struct sg_sink *sk = sg_tcp_sink(c);

				for (unsigned n = arg * 37u; n > 0;) {
					unsigned k = n < 64 ? n : 64;

					sg_sink_write(sk, junk, k);
					n -= k;
				}
			}
			break;
		case 4:
			if (c != NULL)
				sg_tcp_shutdown(c);
			break;
		case 5:
			if (c != NULL) {
				sg_tcp_close(c);
				forget(c);
			}
			break;
		case 6:
			if (c != NULL) {
				sg_tcp_abort(c);
				forget(c);
			}
			break;
		default:
			break;
		}
		loop();
	}
	sg_tcp_stack_destroy(W.st);
	W.st = NULL;
	if (rte_mempool_in_use_count(pool) != base) {
		fprintf(stderr, "mbuf leak: %u\n",
			rte_mempool_in_use_count(pool) - base);
		abort();
	}
	return 0;
}
