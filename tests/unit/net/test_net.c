/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/net unit tests. EAL runs with --no-huge --in-memory; ports are
 * rte_eth_from_rings() devices (frames injected on the RX ring, read back
 * from the TX ring) and net_null devices (RSS key and RETA read-back).
 * Every expected frame is built here with our own checksum code, not
 * lib/net's. Injected mbufs come from one test pool whose in-use count
 * must be back to zero after each test: nothing leaks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_thash.h>

#include "sg_unit.h"
#include "sg_common.h"
#include "sg_net.h"
#include "net_internal.h"

static struct rte_mempool *tpool;
static unsigned seq;

/* RTE_IPV4() shifts an int into the sign bit for a >= 128. */
#define IP4(a, b, c, d) rte_cpu_to_be_32((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
				 (uint32_t)(c) << 8 | (uint32_t)(d))
#define OUR_IP IP4(10, 0, 0, 1)
#define PEER_IP IP4(10, 0, 0, 2)
#define GW_IP IP4(10, 0, 0, 254)
static const struct rte_ether_addr peer_mac = {{ 0x02, 0, 0, 0, 0, 0x02 }};
static const struct rte_ether_addr bcast = {{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }};

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* RFC 1071, written out: the reference every frame is checked against. */
static uint16_t
csum(const void *p, size_t n, uint32_t sum)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static size_t
mk_eth(uint8_t *b, const struct rte_ether_addr *dst,
       const struct rte_ether_addr *src, uint16_t type)
{
	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	put16(b + 12, type);
	return 14;
}

/* IPv4 header without options, checksum filled. */
static size_t
mk_ip(uint8_t *b, uint32_t src, uint32_t dst, uint8_t proto, uint16_t plen,
      uint16_t id, uint16_t frag, uint8_t ttl)
{
	memset(b, 0, 20);
	b[0] = 0x45;
	put16(b + 2, (uint16_t)(20 + plen));
	put16(b + 4, id);
	put16(b + 6, frag);
	b[8] = ttl;
	b[9] = proto;
	memcpy(b + 12, &src, 4);
	memcpy(b + 16, &dst, 4);
	put16(b + 10, csum(b, 20, 0));
	return 20;
}

static uint16_t
l4sum(const uint8_t *l4, size_t n, uint32_t src, uint32_t dst, uint8_t proto)
{
	uint8_t ph[12];

	memcpy(ph, &src, 4);
	memcpy(ph + 4, &dst, 4);
	ph[8] = 0;
	ph[9] = proto;
	put16(ph + 10, (uint16_t)n);
	return csum(l4, n, (uint16_t)~csum(ph, 12, 0));
}

static size_t
mk_tcp(uint8_t *b, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
       uint8_t flags, size_t payload)
{
	memset(b, 0, 20 + payload);
	memcpy(b, &sport, 2);
	memcpy(b + 2, &dport, 2);
	put16(b + 4, 0x1234);
	b[12] = 5 << 4;
	b[13] = flags;
	put16(b + 14, 65535);
	for (size_t i = 0; i < payload; i++)
		b[20 + i] = (uint8_t)i;
	put16(b + 16, l4sum(b, 20 + payload, src, dst, IPPROTO_TCP));
	return 20 + payload;
}

static size_t
mk_arp(uint8_t *b, uint16_t op, const struct rte_ether_addr *sha, uint32_t sip,
       const struct rte_ether_addr *tha, uint32_t tip)
{
	put16(b, 1);
	put16(b + 2, 0x0800);
	b[4] = 6;
	b[5] = 4;
	put16(b + 6, op);
	memcpy(b + 8, sha, 6);
	memcpy(b + 14, &sip, 4);
	memcpy(b + 18, tha, 6);
	memcpy(b + 24, &tip, 4);
	return 28;
}

static struct rte_mbuf *
frame(const void *bytes, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(tpool);

	CU_ASSERT_FATAL(m != NULL);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), bytes, len);
	return m;
}

struct tport {
	struct sg_net_port *p;
	struct rte_ring *rx[4], *tx[4];
	struct sg_net_worker *w[8];
	uint16_t nw, nq;
	struct rte_ether_addr mac;
};

typedef void (*tweak_fn)(struct sg_net_port_conf *c);

static void
base_conf(struct sg_net_port_conf *c, const char *name, uint16_t nq,
	  uint16_t nw)
{
	memset(c, 0, sizeof(*c));
	c->port = name;
	c->n_workers = nw;
	c->n_queues = nq;
	c->rx_desc = 64;
	c->tx_desc = 64;
	c->rx_mbufs = 512;
	c->tx_mbufs = 2048;
	c->ip = OUR_IP;
	c->prefix_len = 24;
	c->gateway = GW_IP;
	c->ring_size = 256;
	c->frag_flows = 64;
	c->pmtu_entries = 64;
}

/* A rings-backed port with nq queues and nw workers; tx rings hold
 * txsz frames. */
static void
tport_open(struct tport *t, uint16_t nq, uint16_t nw, unsigned txsz,
	   tweak_fn tweak)
{
	struct sg_net_port_conf c;
	char name[32], full[48];
	int rc;

	memset(t, 0, sizeof(*t));
	seq++;
	for (uint16_t q = 0; q < nq; q++) {
		snprintf(name, sizeof(name), "trx%u_%u", seq, q);
		t->rx[q] = rte_ring_create(name, 1024, 0, 0);
		snprintf(name, sizeof(name), "ttx%u_%u", seq, q);
		t->tx[q] = rte_ring_create(name, txsz, 0, 0);
		CU_ASSERT_FATAL(t->rx[q] != NULL && t->tx[q] != NULL);
	}
	snprintf(name, sizeof(name), "sg%u", seq);
	CU_ASSERT_FATAL(rte_eth_from_rings(name, t->rx, nq, t->tx, nq, 0) >= 0);
	snprintf(full, sizeof(full), "net_ring_%s", name);
	base_conf(&c, full, nq, nw);
	if (tweak != NULL)
		tweak(&c);
	rc = sg_net_port_init(&c, &t->p);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	t->nw = nw;
	t->nq = nq;
	for (uint16_t i = 0; i < nw; i++)
		CU_ASSERT_EQUAL_FATAL(sg_net_worker_create(t->p, i, &t->w[i]), 0);
	sg_net_port_mac(t->p, &t->mac);
}

static void
ring_free_all(struct rte_ring *r)
{
	void *o;

	if (r == NULL)
		return;
	while (rte_ring_dequeue(r, &o) == 0)
		rte_pktmbuf_free(o);
	rte_ring_free(r);
}

static void
tport_close(struct tport *t)
{
	for (uint16_t i = 0; i < t->nw; i++)
		sg_net_worker_destroy(t->w[i]);
	sg_net_port_close(t->p);
	for (uint16_t q = 0; q < t->nq; q++) {
		ring_free_all(t->rx[q]);
		ring_free_all(t->tx[q]);
	}
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(tpool), 0);
}

static bool
is_garp(const uint8_t *f, size_t len)
{
	uint32_t ip = OUR_IP;

	return len >= 42 && f[12] == 0x08 && f[13] == 0x06 &&
	       memcmp(f + 28, &ip, 4) == 0 && memcmp(f + 38, &ip, 4) == 0;
}

/* Next transmitted frame on queue q, gratuitous ARPs skipped: copied into
 * buf, length returned; 0 when there is none. */
static size_t
tx_take(struct tport *t, uint16_t q, uint8_t *buf, size_t cap)
{
	void *o;

	while (rte_ring_dequeue(t->tx[q], &o) == 0) {
		struct rte_mbuf *m = o;
		size_t len = rte_pktmbuf_pkt_len(m);

		CU_ASSERT_FATAL(len <= cap);
		CU_ASSERT_PTR_NOT_NULL(rte_pktmbuf_read(m, 0, (uint32_t)len, buf));
		if (rte_pktmbuf_read(m, 0, (uint32_t)len, buf) != buf)
			memcpy(buf, rte_pktmbuf_read(m, 0, (uint32_t)len, buf), len);
		rte_pktmbuf_free(m);
		if (!is_garp(buf, len))
			return len;
	}
	return 0;
}

static unsigned
tx_count(struct tport *t, uint16_t q)
{
	uint8_t buf[9000];
	unsigned n = 0;

	while (tx_take(t, q, buf, sizeof(buf)) > 0)
		n++;
	return n;
}

static uint64_t
wstat(struct tport *t, uint16_t w, enum sg_net_stat s)
{
	struct sg_net_stats st;

	CU_ASSERT_EQUAL(sg_net_worker_stats(t->p, w, &st), 0);
	return st.w[s];
}

#define WSTAT(t, w, name) wstat(t, w, SG_NET_STAT_##name)

static void
inject(struct tport *t, uint16_t w, const void *bytes, size_t len)
{
	struct rte_mbuf *m = frame(bytes, len);

	sg_net_worker_input(t->w[w], &m, 1);
}

/* Teaches worker w the peer's MAC through an ARP request for us and
 * checks our reply. */
static void
learn_peer(struct tport *t, uint16_t w, uint32_t ip,
	   const struct rte_ether_addr *mac)
{
	uint8_t f[64], out[128];
	size_t n = mk_eth(f, &bcast, mac, 0x0806);
	struct rte_ether_addr zero = {{ 0 }};
	uint32_t us = OUR_IP;

	n += mk_arp(f + n, 1, mac, ip, &zero, OUR_IP);
	inject(t, w, f, n);
	sg_net_worker_flush(t->w[w]);
	n = tx_take(t, 0, out, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(n, 42);
	CU_ASSERT(memcmp(out, mac, 6) == 0);
	CU_ASSERT(memcmp(out + 6, &t->mac, 6) == 0);
	CU_ASSERT(out[20] == 0 && out[21] == 2);		/* reply */
	CU_ASSERT(memcmp(out + 22, &t->mac, 6) == 0);		/* sha */
	CU_ASSERT(memcmp(out + 28, &us, 4) == 0);		/* spa */
	CU_ASSERT(memcmp(out + 32, mac, 6) == 0);		/* tha */
	CU_ASSERT(memcmp(out + 38, &ip, 4) == 0);		/* tpa */
}

/* A TCP segment ready for sg_net_ip_output(). */
static struct rte_mbuf *
tcp_seg(struct tport *t, uint16_t w, uint32_t dst, size_t payload)
{
	uint8_t b[2048];
	size_t n = mk_tcp(b, OUR_IP, dst, htons(40000), htons(6379), 0x18, payload);
	struct rte_mbuf *m = rte_pktmbuf_alloc(sg_net_worker_pool(t->w[w]));

	CU_ASSERT_FATAL(m != NULL);
	memcpy(rte_pktmbuf_append(m, (uint16_t)n), b, n);
	return m;
}

/* TCP handler: records what arrived, frees it. */
struct tcp_seen {
	unsigned n;
	uint16_t worker;
	uint32_t len, src, dst;
	uint8_t head[20];
	uint64_t ol_flags;
};

static void
tcp_rec(void *ctx, struct rte_mbuf *m, uint32_t src, uint32_t dst)
{
	struct tcp_seen *s = ctx;

	s->n++;
	s->len = rte_pktmbuf_pkt_len(m);
	s->src = src;
	s->dst = dst;
	s->ol_flags = m->ol_flags;
	if (rte_pktmbuf_data_len(m) >= 20)
		memcpy(s->head, rte_pktmbuf_mtod(m, void *), 20);
	rte_pktmbuf_free(m);
}

/* ------------------------------------------------------------------ */
/* IPv4 validation                                                     */
/* ------------------------------------------------------------------ */

static int
check_bytes(const uint8_t *b, size_t len, bool cksum_ok)
{
	struct sg_guard g = sg_guard_copy(b, len);
	uint32_t hl = 0, tl = 0;
	int r = net_ipv4_check((const struct rte_ipv4_hdr *)g.data,
			       (uint32_t)len, cksum_ok, &hl, &tl);

	sg_guard_free(&g);
	return r;
}

static void
test_ipv4_check(void)
{
	uint8_t b[64];
	struct sg_guard g;
	uint32_t hl = 0, tl = 0;

	mk_ip(b, PEER_IP, OUR_IP, IPPROTO_TCP, 20, 1, 0x4000, 64);
	memset(b + 20, 0, 20);
	g = sg_guard_copy(b, 40);
	CU_ASSERT_EQUAL(net_ipv4_check((const struct rte_ipv4_hdr *)g.data,
				       40, false, &hl, &tl), 0);
	CU_ASSERT_EQUAL(hl, 20);
	CU_ASSERT_EQUAL(tl, 40);
	sg_guard_free(&g);
	/* Link padding after the datagram is fine: trimmed later. */
	CU_ASSERT_EQUAL(check_bytes(b, 46, false), 0);

	/* Every prefix shorter than the header is short, and never read past. */
	for (size_t n = 0; n < 20; n++)
		CU_ASSERT_EQUAL(check_bytes(b, n, false), SG_NET_STAT_drop_ip_short);

	uint8_t v[64];

	memcpy(v, b, 40);
	v[0] = 0x65;
	CU_ASSERT_EQUAL(check_bytes(v, 40, false), SG_NET_STAT_drop_ip_version);
	memcpy(v, b, 40);
	v[0] = 0x44;			/* IHL 4: 16 bytes */
	CU_ASSERT_EQUAL(check_bytes(v, 40, false), SG_NET_STAT_drop_ip_ihl);
	memcpy(v, b, 40);
	v[0] = 0x4f;			/* IHL 15: 60 bytes > 40 available */
	CU_ASSERT_EQUAL(check_bytes(v, 40, false), SG_NET_STAT_drop_ip_ihl);
	memcpy(v, b, 40);
	put16(v + 2, 41);		/* longer than what arrived */
	CU_ASSERT_EQUAL(check_bytes(v, 40, true), SG_NET_STAT_drop_ip_len);
	put16(v + 2, 19);		/* shorter than its header */
	CU_ASSERT_EQUAL(check_bytes(v, 40, true), SG_NET_STAT_drop_ip_len);
	memcpy(v, b, 40);
	v[10] ^= 0x01;			/* checksum */
	CU_ASSERT_EQUAL(check_bytes(v, 40, false), SG_NET_STAT_drop_ip_cksum);
	/* ... unless the NIC already vouched for it. */
	CU_ASSERT_EQUAL(check_bytes(v, 40, true), 0);
	mk_ip(v, PEER_IP, OUR_IP, IPPROTO_TCP, 20, 1, 0, 0);
	CU_ASSERT_EQUAL(check_bytes(v, 40, false), SG_NET_STAT_drop_ip_ttl);

	/* Options: IHL 6 with a valid checksum over 24 bytes. */
	memset(v, 0, sizeof(v));
	mk_ip(v, PEER_IP, OUR_IP, IPPROTO_TCP, 24, 1, 0, 64);
	v[0] = 0x46;
	put16(v + 2, 44);
	v[10] = v[11] = 0;
	put16(v + 10, csum(v, 24, 0));
	g = sg_guard_copy(v, 44);
	CU_ASSERT_EQUAL(net_ipv4_check((const struct rte_ipv4_hdr *)g.data,
				       44, false, &hl, &tl), 0);
	CU_ASSERT_EQUAL(hl, 24);
	sg_guard_free(&g);
}

/* Frames through a worker: every drop lands on its counter, and a good
 * segment reaches TCP with header stripped and padding trimmed. */
static void
test_ipv4_path(void)
{
	struct tport t;
	struct tcp_seen seen = { 0 };
	uint8_t f[256];
	size_t n;

	tport_open(&t, 1, 1, 1024, NULL);
	sg_net_worker_set_tcp(t.w[0], tcp_rec, &seen);

	/* Good segment, 6 bytes of link padding. */
	n = mk_eth(f, &t.mac, &peer_mac, 0x0800);
	n += mk_ip(f + n, PEER_IP, OUR_IP, IPPROTO_TCP, 25, 7, 0x4000, 64);
	n += mk_tcp(f + n, PEER_IP, OUR_IP, htons(5555), htons(6379), 0x18, 5);
	memset(f + n, 0xee, 6);
	inject(&t, 0, f, n + 6);
	CU_ASSERT_EQUAL(seen.n, 1);
	CU_ASSERT_EQUAL(seen.len, 25);
	CU_ASSERT_EQUAL(seen.src, PEER_IP);
	CU_ASSERT_EQUAL(seen.dst, OUR_IP);
	CU_ASSERT(memcmp(seen.head, f + 34, 20) == 0);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, tcp_rx), 1);

	/* Not for our address. */
	n = mk_eth(f, &t.mac, &peer_mac, 0x0800);
	n += mk_ip(f + n, PEER_IP, IP4(10, 0, 0, 3), IPPROTO_TCP, 20, 7, 0, 64);
	n += mk_tcp(f + n, PEER_IP, IP4(10, 0, 0, 3), 1, 2, 0x02, 0);
	inject(&t, 0, f, n);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_ip_not_ours), 1);

	/* Martian sources: broadcast of our subnet, multicast, loopback. */
	const uint32_t bad_src[] = { IP4(10, 0, 0, 255), IP4(224, 0, 0, 1),
				     IP4(127, 0, 0, 1), 0, OUR_IP };
	for (unsigned i = 0; i < RTE_DIM(bad_src); i++) {
		n = mk_eth(f, &t.mac, &peer_mac, 0x0800);
		n += mk_ip(f + n, bad_src[i], OUR_IP, IPPROTO_TCP, 20, 7, 0, 64);
		n += mk_tcp(f + n, bad_src[i], OUR_IP, 1, 2, 0x02, 0);
		inject(&t, 0, f, n);
	}
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_ip_martian), RTE_DIM(bad_src));

	/* UDP: not ours to handle. */
	n = mk_eth(f, &t.mac, &peer_mac, 0x0800);
	n += mk_ip(f + n, PEER_IP, OUR_IP, IPPROTO_UDP, 8, 7, 0, 64);
	memset(f + n, 0, 8);
	inject(&t, 0, f, n + 8);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_ip_proto), 1);

	/* Bad header checksum on the wire. */
	n = mk_eth(f, &t.mac, &peer_mac, 0x0800);
	n += mk_ip(f + n, PEER_IP, OUR_IP, IPPROTO_TCP, 20, 7, 0, 64);
	n += mk_tcp(f + n, PEER_IP, OUR_IP, 1, 2, 0x02, 0);
	f[24] ^= 0x40;
	inject(&t, 0, f, n);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_ip_cksum), 1);

	/* Ethernet: another host's MAC, IPv6, a runt. */
	n = mk_eth(f, &peer_mac, &peer_mac, 0x0800);
	inject(&t, 0, f, 60);
	n = mk_eth(f, &t.mac, &peer_mac, 0x86dd);
	inject(&t, 0, f, 60);
	inject(&t, 0, f, 10);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_eth_dst), 1);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_eth_type), 1);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_eth_short), 1);

	/* No handler: counted, freed. */
	sg_net_worker_set_tcp(t.w[0], NULL, NULL);
	n = mk_eth(f, &t.mac, &peer_mac, 0x0800);
	n += mk_ip(f + n, PEER_IP, OUR_IP, IPPROTO_TCP, 20, 7, 0, 64);
	n += mk_tcp(f + n, PEER_IP, OUR_IP, 1, 2, 0x02, 0);
	inject(&t, 0, f, n);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_no_handler), 1);
	CU_ASSERT_EQUAL(seen.n, 1);
	CU_ASSERT_EQUAL(tx_count(&t, 0), 0);
	tport_close(&t);
}

/* sg_net_ip_output(): the header we build, in software (ring ports have
 * no offloads), and the error paths. */
static void
test_ip_output(void)
{
	struct tport t;
	uint8_t out[2048], exp[64];
	size_t n;
	struct rte_mbuf *m;

	tport_open(&t, 1, 1, 1024, NULL);
	CU_ASSERT_EQUAL(sg_net_port_caps(t.p) & (SG_NET_CAP_TX_IPV4_CKSUM |
						 SG_NET_CAP_RSS), 0);
	learn_peer(&t, 0, PEER_IP, &peer_mac);
	m = tcp_seg(&t, 0, PEER_IP, 10);
	CU_ASSERT_EQUAL(sg_net_ip_output(t.w[0], m, OUR_IP, PEER_IP), 0);
	sg_net_worker_flush(t.w[0]);
	n = tx_take(&t, 0, out, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(n, 14 + 20 + 30);
	mk_eth(exp, &peer_mac, &t.mac, 0x0800);
	mk_ip(exp + 14, OUR_IP, PEER_IP, IPPROTO_TCP, 30,
	      (uint16_t)(out[18] << 8 | out[19]), 0x4000, 64);
	CU_ASSERT(memcmp(out, exp, 34) == 0);
	CU_ASSERT_EQUAL(csum(out + 14, 20, 0), 0);
	CU_ASSERT_EQUAL(l4sum(out + 34, 30, OUR_IP, PEER_IP, IPPROTO_TCP), 0);

	/* A chain on a port that cannot send chains (the ring PMD can: we
	 * pretend otherwise) leaves as one segment with the same bytes and
	 * TCP's checksum offload request intact. */
	t.p->caps &= ~SG_NET_CAP_TX_MULTI_SEG;
	{
		struct rte_mbuf *head = tcp_seg(&t, 0, PEER_IP, 0);
		struct rte_mbuf *tail = rte_pktmbuf_alloc(sg_net_worker_pool(t.w[0]));
		struct rte_tcp_hdr *th = rte_pktmbuf_mtod(head, struct rte_tcp_hdr *);
		void *o = NULL;

		memset(rte_pktmbuf_append(tail, 100), 0xab, 100);
		CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_chain(head, tail), 0);
		head->l4_len = 20;
		head->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
		th->cksum = sg_net_phdr_cksum(OUR_IP, PEER_IP, IPPROTO_TCP, 120);
		CU_ASSERT_EQUAL(sg_net_ip_output(t.w[0], head, OUR_IP, PEER_IP), 0);
		sg_net_worker_flush(t.w[0]);
		CU_ASSERT_EQUAL_FATAL(rte_ring_dequeue(t.tx[0], &o), 0);
		m = o;
		CU_ASSERT_EQUAL(m->nb_segs, 1);
		CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), 14 + 20 + 120);
		CU_ASSERT((m->ol_flags & RTE_MBUF_F_TX_TCP_CKSUM) != 0);
		CU_ASSERT((m->ol_flags & RTE_MBUF_F_TX_IPV4) != 0);
		CU_ASSERT_EQUAL(m->l2_len, 14);
		CU_ASSERT_EQUAL(m->l3_len, 20);
		CU_ASSERT_EQUAL(m->l4_len, 20);
		CU_ASSERT_EQUAL(rte_pktmbuf_mtod_offset(m, uint8_t *, 14 + 20 + 119)[0],
				0xab);
		CU_ASSERT_EQUAL(csum(rte_pktmbuf_mtod_offset(m, uint8_t *, 14), 20, 0), 0);
		rte_pktmbuf_free(m);
	}

	/* Two packets get different IP ids. */
	uint16_t id1 = (uint16_t)(out[18] << 8 | out[19]);

	sg_net_ip_output(t.w[0], tcp_seg(&t, 0, PEER_IP, 0), OUR_IP, PEER_IP);
	sg_net_worker_flush(t.w[0]);
	n = tx_take(&t, 0, out, sizeof(out));
	CU_ASSERT_EQUAL(n, 54);
	CU_ASSERT_NOT_EQUAL(id1, (uint16_t)(out[18] << 8 | out[19]));

	/* Too big for DF; wrong source; nowhere to go; off-subnet goes to the
	 * gateway (held while the gateway resolves). */
	CU_ASSERT_EQUAL(sg_net_ip_output(t.w[0], tcp_seg(&t, 0, PEER_IP, 1461),
					 OUR_IP, PEER_IP), -EMSGSIZE);
	CU_ASSERT_EQUAL(sg_net_ip_output(t.w[0], tcp_seg(&t, 0, PEER_IP, 1460),
					 OUR_IP, PEER_IP), 0);
	CU_ASSERT_EQUAL(sg_net_ip_output(t.w[0], tcp_seg(&t, 0, PEER_IP, 1),
					 PEER_IP, PEER_IP), -EINVAL);
	CU_ASSERT_EQUAL(sg_net_ip_output(t.w[0], tcp_seg(&t, 0, OUR_IP, 1),
					 OUR_IP, OUR_IP), -EHOSTUNREACH);
	CU_ASSERT_EQUAL(sg_net_ip_output(t.w[0], tcp_seg(&t, 0, IP4(8, 8, 8, 8), 1),
					 OUR_IP, IP4(8, 8, 8, 8)), 0);
	CU_ASSERT_EQUAL(sg_net_arp_lookup(t.w[0], GW_IP, (struct rte_ether_addr *)exp),
			-EAGAIN);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_too_big), 1);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_no_route), 2);
	sg_net_worker_flush(t.w[0]);
	n = tx_take(&t, 0, out, sizeof(out));
	CU_ASSERT_EQUAL(n, 14 + 20 + 20 + 1460);
	n = tx_take(&t, 0, out, sizeof(out));	/* ARP request for the gateway */
	CU_ASSERT_EQUAL(n, 60);
	CU_ASSERT(memcmp(out + 38, &(uint32_t){ GW_IP }, 4) == 0);
	tport_close(&t);
}

/* ------------------------------------------------------------------ */
/* RSS                                                                 */
/* ------------------------------------------------------------------ */

/* Microsoft's RSS verification suite ("Verifying the RSS Hash
 * Calculation"): destination, source, and the IPv4 and IPv4+TCP hashes. */
static const struct {
	uint8_t dst[4];
	uint16_t dport;
	uint8_t src[4];
	uint16_t sport;
	uint32_t h2, h4;
} ms_vec[] = {
	{ { 161, 142, 100, 80 }, 1766, { 66, 9, 149, 187 }, 2794,
	  0x323e8fc2, 0x51ccc178 },
	{ { 65, 69, 140, 83 }, 4739, { 199, 92, 111, 2 }, 14230,
	  0xd718262a, 0xc626b0ea },
	{ { 12, 22, 207, 184 }, 38024, { 24, 19, 198, 95 }, 12898,
	  0xd2d0a5de, 0x5c2b394a },
	{ { 209, 142, 163, 6 }, 2217, { 38, 27, 205, 30 }, 48228,
	  0x82989176, 0xafc7327f },
	{ { 202, 188, 127, 2 }, 1303, { 153, 39, 163, 191 }, 44251,
	  0x5d1809c5, 0x10e828a2 },
};

static void
test_toeplitz_vectors(void)
{
	struct tport t;

	tport_open(&t, 1, 1, 64, NULL);	/* default key: Microsoft's */
	for (unsigned i = 0; i < RTE_DIM(ms_vec); i++) {
		uint32_t s, d;

		memcpy(&s, ms_vec[i].src, 4);
		memcpy(&d, ms_vec[i].dst, 4);
		CU_ASSERT_EQUAL(sg_net_rss_hash(t.p, s, d, 0, 0, false),
				ms_vec[i].h2);
		CU_ASSERT_EQUAL(sg_net_rss_hash(t.p, s, d, htons(ms_vec[i].sport),
						htons(ms_vec[i].dport), true),
				ms_vec[i].h4);
	}
	tport_close(&t);
}

static const uint8_t *
ms_vec_key(void)
{
	static const uint8_t k[40] = {
		0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
		0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
		0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
		0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
		0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
	};
	return k;
}

static uint8_t custom_key[SG_NET_RSS_KEY_LEN];

static void
tweak_custom_key(struct sg_net_port_conf *c)
{
	for (unsigned i = 0; i < SG_NET_RSS_KEY_LEN; i++)
		custom_key[i] = (uint8_t)(i * 37 + 11);
	c->rss_key = custom_key;
}

/* Query the NIC's RETA entry for hash h. */
static uint16_t
nic_reta(uint16_t port, uint16_t size, uint32_t h)
{
	struct rte_eth_rss_reta_entry64 r[NET_MAX_RETA / 64];
	unsigned e = h & (size - 1u);

	memset(r, 0, sizeof(r));
	for (unsigned g = 0; g < size / 64u; g++)
		r[g].mask = UINT64_MAX;
	CU_ASSERT_EQUAL(rte_eth_dev_rss_reta_query(port, r, size), 0);
	return r[e / 64].reta[e % 64];
}

/* net_null keeps the key and RETA we write: the mirror must read them
 * back, and its owner for any flow must be the queue the NIC picks. */
static void
rss_null_case(uint16_t nq, uint16_t nw, bool custom)
{
	struct sg_net_port_conf c;
	struct sg_net_port *p;
	struct rte_eth_dev_info info;
	struct sg_net_stats st;
	char name[32];
	uint8_t key[64];
	struct rte_eth_rss_conf rc = { .rss_key = key, .rss_key_len = sizeof(key) };

	snprintf(name, sizeof(name), "net_null_sg%u", ++seq);
	base_conf(&c, name, nq, nw);
	if (custom)
		tweak_custom_key(&c);
	CU_ASSERT_EQUAL_FATAL(sg_net_port_init(&c, &p), 0);
	CU_ASSERT_EQUAL(sg_net_port_queues(p), nq);
	CU_ASSERT((sg_net_port_caps(p) & SG_NET_CAP_RSS) != 0);
	CU_ASSERT((sg_net_port_caps(p) & SG_NET_CAP_RSS_VERIFIED) != 0);
	CU_ASSERT_EQUAL(sg_net_stats(p, &st), 0);
	CU_ASSERT_EQUAL(st.port[SG_NET_PSTAT_rss_reta_diff], 0);
	CU_ASSERT_EQUAL(rte_eth_dev_rss_hash_conf_get(sg_net_port_id(p), &rc), 0);
	CU_ASSERT(memcmp(key, custom ? custom_key : ms_vec_key(), 40) == 0);
	rte_eth_dev_info_get(sg_net_port_id(p), &info);

	srand(7);
	for (unsigned i = 0; i < 200; i++) {
		uint32_t s = (uint32_t)rand(), d = (uint32_t)rand();
		uint16_t sp = (uint16_t)rand(), dp = (uint16_t)rand();
		uint32_t h = sg_net_rss_hash(p, s, d, sp, dp, true);
		uint32_t tup[3] = { ntohl(s), ntohl(d),
				    (uint32_t)ntohs(sp) << 16 | ntohs(dp) };
		uint16_t owner = sg_net_flow_owner(p, s, d, sp, dp);

		/* Our fast hash equals DPDK's plain Toeplitz with the key
		 * the NIC reports. */
		CU_ASSERT_EQUAL(h, rte_softrss(tup, 3, key));
		CU_ASSERT(owner < nw);
		CU_ASSERT_EQUAL(nic_reta(sg_net_port_id(p), info.reta_size, h),
				owner % nq);
	}
	sg_net_port_close(p);
}

/* The NIC's hash decides while it agrees with ours; one sampled
 * disagreement and the worker hashes in software from then on. */
static void
test_rss_sampling(void)
{
	struct sg_net_port_conf c;
	struct sg_net_port *p;
	struct sg_net_worker *w[4];
	struct tcp_seen seen[4];
	struct rte_ether_addr mac;
	char name[32];
	uint8_t f[128];
	size_t n;
	uint32_t h, wrong;
	uint16_t sp = 1000;
	const uint32_t rip = PEER_IP;

	memset(seen, 0, sizeof(seen));
	snprintf(name, sizeof(name), "net_null_sg%u", ++seq);
	base_conf(&c, name, 4, 4);
	CU_ASSERT_EQUAL_FATAL(sg_net_port_init(&c, &p), 0);
	for (uint16_t i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL_FATAL(sg_net_worker_create(p, i, &w[i]), 0);
		sg_net_worker_set_tcp(w[i], tcp_rec, &seen[i]);
	}
	sg_net_port_mac(p, &mac);
	while (sg_net_flow_owner(p, rip, OUR_IP, htons(sp), htons(6379)) != 2)
		sp++;
	h = sg_net_rss_hash(p, rip, OUR_IP, htons(sp), htons(6379), true);
	for (wrong = 0; net_reta_owner(p, wrong) != 0; wrong++)
		;
	n = mk_eth(f, &mac, &peer_mac, 0x0800);
	n += mk_ip(f + n, rip, OUR_IP, IPPROTO_TCP, 20, 1, 0x4000, 64);
	n += mk_tcp(f + n, rip, OUR_IP, htons(sp), htons(6379), 0x10, 0);
	for (unsigned i = 0; i < 2 * 64; i++) {
		struct rte_mbuf *m = frame(f, n);

		m->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
		m->hash.rss = i < 64 ? h : wrong;
		sg_net_worker_input(w[0], &m, 1);
	}
	/* The first 64 follow the right hash to worker 2; of the next 64,
	 * 63 stay with worker 0 as the NIC "said", the sampled one is
	 * caught, and from then on our hash rules. */
	CU_ASSERT_EQUAL(seen[0].n, 63);
	for (unsigned i = 0; i < 4; i++)
		sg_net_worker_poll(w[2]);	/* NET_BURST per ring per poll */
	CU_ASSERT_EQUAL(seen[2].n, 65);
	{
		struct sg_net_stats st;

		sg_net_worker_stats(p, 0, &st);
		CU_ASSERT_EQUAL(st.w[SG_NET_STAT_rss_checked], 2);
		CU_ASSERT_EQUAL(st.w[SG_NET_STAT_rss_mismatch], 1);
	}
	struct rte_mbuf *m = frame(f, n);

	m->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
	m->hash.rss = wrong;
	sg_net_worker_input(w[0], &m, 1);
	sg_net_worker_poll(w[2]);
	CU_ASSERT_EQUAL(seen[2].n, 66);
	for (uint16_t i = 0; i < 4; i++)
		sg_net_worker_destroy(w[i]);
	sg_net_port_close(p);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(tpool), 0);
}

static void
test_reta_mirror(void)
{
	rss_null_case(4, 4, false);
	rss_null_case(4, 8, true);
	rss_null_case(2, 3, false);
}

/* For N workers: every local port has exactly one owner, the owner's
 * return path hashes back to it, and a packet on that path injected at
 * worker 0 of a single-queue port reaches that owner's TCP. */
static void
owned_case(uint16_t nw)
{
	struct tport t;
	struct tcp_seen seen[8];
	const uint32_t lip = OUR_IP, rip = IP4(10, 0, 0, 77);
	const uint16_t rport = htons(6379);
	unsigned per[8] = { 0 };

	memset(seen, 0, sizeof(seen));
	tport_open(&t, 1, nw, 1024, NULL);
	for (uint16_t w = 0; w < nw; w++)
		sg_net_worker_set_tcp(t.w[w], tcp_rec, &seen[w]);
	for (uint32_t lp = 32768; lp < 32768 + 4096; lp++) {
		unsigned owners = 0;

		for (uint16_t w = 0; w < nw; w++) {
			if (!sg_net_port_owned(t.w[w], lip, htons((uint16_t)lp),
					       rip, rport))
				continue;
			owners++;
			per[w]++;
			CU_ASSERT_EQUAL(sg_net_flow_owner(t.p, rip, lip, rport,
							  htons((uint16_t)lp)), w);
		}
		CU_ASSERT_EQUAL(owners, 1);
	}
	for (uint16_t w = 0; w < nw; w++) {
		/* Roughly a fair share each (4096 / N, +-40%). */
		CU_ASSERT(per[w] > 4096u / nw * 6 / 10);
		CU_ASSERT(per[w] < 4096u / nw * 14 / 10);
	}
	/* One port per worker, packets from the remote end, all injected at
	 * worker 0 (the only queue). */
	for (uint16_t w = 0; w < nw; w++) {
		uint16_t lp = 40000;
		uint8_t f[128];
		size_t n;

		while (!sg_net_port_owned(t.w[w], lip, htons(lp), rip, rport))
			lp++;
		n = mk_eth(f, &t.mac, &peer_mac, 0x0800);
		n += mk_ip(f + n, rip, lip, IPPROTO_TCP, 20, 1, 0x4000, 64);
		n += mk_tcp(f + n, rip, lip, rport, htons(lp), 0x12, 0);
		inject(&t, 0, f, n);
	}
	for (uint16_t w = 0; w < nw; w++)
		sg_net_worker_poll(t.w[w]);
	for (uint16_t w = 0; w < nw; w++) {
		CU_ASSERT_EQUAL(seen[w].n, 1);
		CU_ASSERT_EQUAL(seen[w].src, rip);
	}
	CU_ASSERT_EQUAL(WSTAT(&t, 0, steer_out), nw - 1u);
	tport_close(&t);
}

static void
test_port_owned(void)
{
	static const uint16_t ns[] = { 1, 2, 3, 4, 8 };

	for (unsigned i = 0; i < RTE_DIM(ns); i++)
		owned_case(ns[i]);
}

/* ------------------------------------------------------------------ */
/* ARP                                                                 */
/* ------------------------------------------------------------------ */

static void
check_arp_request(const uint8_t *f, size_t n, const struct rte_ether_addr *us,
		  uint32_t tip)
{
	uint32_t ip = OUR_IP;

	CU_ASSERT_EQUAL(n, 60);
	CU_ASSERT(memcmp(f, &bcast, 6) == 0);
	CU_ASSERT(memcmp(f + 6, us, 6) == 0);
	CU_ASSERT(f[12] == 0x08 && f[13] == 0x06);
	CU_ASSERT(f[20] == 0 && f[21] == 1);
	CU_ASSERT(memcmp(f + 22, us, 6) == 0);
	CU_ASSERT(memcmp(f + 28, &ip, 4) == 0);
	CU_ASSERT(memcmp(f + 38, &tip, 4) == 0);
}

static void
test_arp_hold_retry_learn(void)
{
	struct tport t;
	struct sg_net_worker *w;
	uint8_t out[2048], f[64];
	uint64_t t0;
	size_t n;
	struct rte_ether_addr mac;

	tport_open(&t, 1, 1, 1024, NULL);
	w = t.w[0];
	t0 = sg_clock_ns();
	sg_net_worker_timer(w, t0);

	/* 11 segments to an unknown neighbour: one request, 8 held (the
	 * default bound), the 3 oldest dropped. */
	for (unsigned i = 0; i < 11; i++)
		CU_ASSERT_EQUAL(sg_net_ip_output(w, tcp_seg(&t, 0, PEER_IP, i),
						 OUR_IP, PEER_IP), 0);
	CU_ASSERT_EQUAL(sg_net_arp_lookup(w, PEER_IP, &mac), -EAGAIN);
	sg_net_worker_flush(w);
	n = tx_take(&t, 0, out, sizeof(out));
	check_arp_request(out, n, &t.mac, PEER_IP);
	CU_ASSERT_EQUAL(tx_take(&t, 0, out, sizeof(out)), 0);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, arp_held), 11);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_arp_hold), 3);

	/* Retries every second, then give up and drop what is held. */
	sg_net_worker_timer(w, t0 + 1100 * NET_MS);
	sg_net_worker_timer(w, t0 + 2200 * NET_MS);
	sg_net_worker_flush(w);
	CU_ASSERT_EQUAL(tx_count(&t, 0), 2);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, arp_tx_request), 3);
	sg_net_worker_timer(w, t0 + 3300 * NET_MS);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_arp_unresolved), 8);
	CU_ASSERT_EQUAL(sg_net_arp_lookup(w, PEER_IP, &mac), -ENOENT);

	/* Again, and this time the reply comes: held packets leave in order
	 * with the learnt MAC. */
	for (unsigned i = 0; i < 3; i++)
		sg_net_ip_output(w, tcp_seg(&t, 0, PEER_IP, i), OUR_IP, PEER_IP);
	sg_net_worker_flush(w);
	CU_ASSERT_EQUAL(tx_count(&t, 0), 1);
	n = mk_eth(f, &t.mac, &peer_mac, 0x0806);
	n += mk_arp(f + n, 2, &peer_mac, PEER_IP, &t.mac, OUR_IP);
	inject(&t, 0, f, n);
	CU_ASSERT_EQUAL(sg_net_arp_lookup(w, PEER_IP, &mac), 0);
	CU_ASSERT(rte_is_same_ether_addr(&mac, &peer_mac));
	sg_net_worker_flush(w);
	for (unsigned i = 0; i < 3; i++) {
		n = tx_take(&t, 0, out, sizeof(out));
		CU_ASSERT_EQUAL(n, 54 + i);
		CU_ASSERT(memcmp(out, &peer_mac, 6) == 0);
	}
	CU_ASSERT_EQUAL(WSTAT(&t, 0, arp_released), 3);

	/* Aging: alive before arp_ttl_ms (300 s by default), gone after.
	 * In its last quarter a use sends one unicast refresh request. */
	uint64_t t1 = sg_clock_ns();	/* not before the reply was learnt */

	sg_net_worker_timer(w, t1 + 200000 * NET_MS);
	CU_ASSERT_EQUAL(sg_net_arp_lookup(w, PEER_IP, &mac), 0);
	sg_net_worker_timer(w, t1 + 280000 * NET_MS);
	sg_net_ip_output(w, tcp_seg(&t, 0, PEER_IP, 0), OUR_IP, PEER_IP);
	sg_net_ip_output(w, tcp_seg(&t, 0, PEER_IP, 0), OUR_IP, PEER_IP);
	sg_net_worker_flush(w);
	n = tx_take(&t, 0, out, sizeof(out));
	CU_ASSERT_EQUAL(n, 60);
	CU_ASSERT(memcmp(out, &peer_mac, 6) == 0);	/* unicast */
	CU_ASSERT(out[21] == 1);
	CU_ASSERT_EQUAL(tx_count(&t, 0), 2);
	sg_net_worker_timer(w, t0 + 400000 * NET_MS);
	CU_ASSERT_EQUAL(sg_net_arp_lookup(w, PEER_IP, &mac), -ENOENT);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, arp_expired), 1);
	tport_close(&t);
}

static void
tweak_small_hold(struct sg_net_port_conf *c)
{
	c->arp_hold = 8;
	c->arp_hold_total = 12;
	c->arp_entries = 4;
}

static void
test_arp_hold_total(void)
{
	struct tport t;
	struct sg_net_worker *w;
	const uint32_t a = IP4(10, 0, 0, 11), b = IP4(10, 0, 0, 12),
		       c = IP4(10, 0, 0, 13);

	tport_open(&t, 1, 1, 1024, tweak_small_hold);
	w = t.w[0];
	for (unsigned i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(sg_net_ip_output(w, tcp_seg(&t, 0, a, 0), OUR_IP, a), 0);
	/* b: 4 fit under the worker's total, the next 4 push out b's own
	 * oldest. */
	for (unsigned i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(sg_net_ip_output(w, tcp_seg(&t, 0, b, 0), OUR_IP, b), 0);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_arp_hold), 4);
	/* c holds nothing and the total is reached: the new packet goes. */
	CU_ASSERT_EQUAL(sg_net_ip_output(w, tcp_seg(&t, 0, c, 0), OUR_IP, c),
			-ENOBUFS);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_arp_hold), 5);
	/* The cache holds 4 entries: a, b, c (pending) and one more. */
	CU_ASSERT_EQUAL(sg_net_arp_resolve(w, IP4(10, 0, 0, 14)), -EAGAIN);
	CU_ASSERT_EQUAL(sg_net_arp_resolve(w, IP4(10, 0, 0, 15)), -ENOSPC);
	CU_ASSERT_EQUAL(sg_net_arp_resolve(w, IP4(10, 1, 0, 15)), -EHOSTUNREACH);
	CU_ASSERT_EQUAL(sg_net_ip_output(w, tcp_seg(&t, 0, IP4(10, 0, 0, 16), 0),
					 OUR_IP, IP4(10, 0, 0, 16)), -ENOBUFS);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_arp_full), 1);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, arp_tx_request), 4);
	tport_close(&t);
}

static void
tweak_arp64(struct sg_net_port_conf *c)
{
	c->arp_entries = 64;
}

/* Many entries, half answered, half left to time out: deletions shift
 * probe runs back, and every survivor must still be found. */
static void
test_arp_table_churn(void)
{
	struct tport t;
	struct sg_net_worker *w;
	struct rte_ether_addr mac;
	uint8_t f[64];
	uint64_t t0 = sg_clock_ns();

	tport_open(&t, 1, 1, 1024, tweak_arp64);
	w = t.w[0];
	sg_net_worker_timer(w, t0);
	for (unsigned i = 0; i < 64; i++)
		CU_ASSERT_EQUAL(sg_net_arp_resolve(w, IP4(10, 0, 0, 100 + i)), -EAGAIN);
	CU_ASSERT_EQUAL(sg_net_arp_resolve(w, IP4(10, 0, 0, 99)), -ENOSPC);
	for (unsigned i = 0; i < 64; i += 2) {
		struct rte_ether_addr m = {{ 0x02, 0, 0, 0, 1, (uint8_t)i }};
		size_t n = mk_eth(f, &t.mac, &m, 0x0806);

		n += mk_arp(f + n, 2, &m, IP4(10, 0, 0, 100 + i), &t.mac, OUR_IP);
		inject(&t, 0, f, n);
	}
	for (unsigned k = 1; k <= 4; k++)
		sg_net_worker_timer(w, t0 + k * 1100 * NET_MS);
	for (unsigned i = 0; i < 64; i++) {
		int rc = sg_net_arp_lookup(w, IP4(10, 0, 0, 100 + i), &mac);

		if (i % 2 == 0) {
			CU_ASSERT_EQUAL(rc, 0);
			CU_ASSERT_EQUAL(mac.addr_bytes[5], i);
		} else {
			CU_ASSERT_EQUAL(rc, -ENOENT);
		}
	}
	CU_ASSERT_EQUAL(w->arp.used, 32);
	sg_net_worker_flush(w);
	tx_count(&t, 0);
	tport_close(&t);
}

static void
test_arp_requests(void)
{
	struct tport t;
	uint8_t f[64], out[128];
	size_t n;
	struct rte_ether_addr zero = {{ 0 }}, mac;
	const struct rte_ether_addr other = {{ 0x02, 0, 0, 0, 0, 0x09 }};

	tport_open(&t, 1, 1, 1024, NULL);
	/* A request for us is answered and teaches us the asker. */
	learn_peer(&t, 0, PEER_IP, &peer_mac);
	CU_ASSERT_EQUAL(sg_net_arp_lookup(t.w[0], PEER_IP, &mac), 0);
	/* A request between two other hosts: no answer, nothing learnt. */
	n = mk_eth(f, &bcast, &other, 0x0806);
	n += mk_arp(f + n, 1, &other, IP4(10, 0, 0, 9), &zero, IP4(10, 0, 0, 8));
	inject(&t, 0, f, n);
	CU_ASSERT_EQUAL(sg_net_arp_lookup(t.w[0], IP4(10, 0, 0, 9), &mac), -ENOENT);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_arp_other), 1);
	/* ... but a gratuitous ARP updates an entry we already have. */
	n = mk_eth(f, &bcast, &other, 0x0806);
	n += mk_arp(f + n, 1, &other, PEER_IP, &zero, PEER_IP);
	inject(&t, 0, f, n);
	CU_ASSERT_EQUAL(sg_net_arp_lookup(t.w[0], PEER_IP, &mac), 0);
	CU_ASSERT(rte_is_same_ether_addr(&mac, &other));
	/* Malformed: wrong hardware length. */
	n = mk_eth(f, &bcast, &other, 0x0806);
	n += mk_arp(f + n, 1, &other, PEER_IP, &zero, OUR_IP);
	f[18] = 8;
	inject(&t, 0, f, n);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_arp_bad), 1);
	sg_net_worker_flush(t.w[0]);
	CU_ASSERT_EQUAL(tx_take(&t, 0, out, sizeof(out)), 0);
	tport_close(&t);
}

static void
test_garp_at_start(void)
{
	struct tport t;
	void *o;
	uint8_t *f;
	uint32_t ip = OUR_IP;
	unsigned garps = 0;

	tport_open(&t, 1, 2, 1024, NULL);
	sg_net_worker_poll(t.w[0]);
	sg_net_worker_poll(t.w[1]);
	sg_net_worker_flush(t.w[0]);
	sg_net_worker_flush(t.w[1]);
	while (rte_ring_dequeue(t.tx[0], &o) == 0) {
		f = rte_pktmbuf_mtod((struct rte_mbuf *)o, uint8_t *);
		CU_ASSERT(memcmp(f, &bcast, 6) == 0);
		CU_ASSERT(f[21] == 1);
		CU_ASSERT(memcmp(f + 22, &t.mac, 6) == 0);
		CU_ASSERT(memcmp(f + 28, &ip, 4) == 0);
		CU_ASSERT(memcmp(f + 38, &ip, 4) == 0);
		garps++;
		rte_pktmbuf_free(o);
	}
	CU_ASSERT_EQUAL(garps, 1);	/* from worker 0 only, once per interval */
	sg_net_worker_timer(t.w[0], sg_clock_ns() + 1500 * NET_MS);
	sg_net_worker_flush(t.w[0]);
	CU_ASSERT_EQUAL(rte_ring_count(t.tx[0]), 1);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, arp_tx_gratuitous), 2);
	tport_close(&t);
}

/* ------------------------------------------------------------------ */
/* ICMP                                                                */
/* ------------------------------------------------------------------ */

static size_t
mk_echo(uint8_t *b, uint8_t type, uint16_t id, uint16_t sq, size_t payload)
{
	memset(b, 0, 8);
	b[0] = type;
	put16(b + 4, id);
	put16(b + 6, sq);
	for (size_t i = 0; i < payload; i++)
		b[8 + i] = (uint8_t)(i * 7);
	put16(b + 2, csum(b, 8 + payload, 0));
	return 8 + payload;
}

static void
test_icmp_echo(void)
{
	struct tport t;
	uint8_t f[256], out[256], exp[256];
	size_t n, e;

	tport_open(&t, 1, 1, 1024, NULL);
	learn_peer(&t, 0, PEER_IP, &peer_mac);
	n = mk_eth(f, &t.mac, &peer_mac, 0x0800);
	n += mk_ip(f + n, PEER_IP, OUR_IP, IPPROTO_ICMP, 64, 99, 0x4000, 61);
	n += mk_echo(f + n, 8, 0x1234, 1, 56);
	inject(&t, 0, f, n);
	sg_net_worker_flush(t.w[0]);
	CU_ASSERT_EQUAL_FATAL(tx_take(&t, 0, out, sizeof(out)), 98);

	/* The expected reply, byte for byte; only the IP id is ours to pick. */
	e = mk_eth(exp, &peer_mac, &t.mac, 0x0800);
	e += mk_ip(exp + e, OUR_IP, PEER_IP, IPPROTO_ICMP, 64,
		   (uint16_t)(out[18] << 8 | out[19]), 0, 64);
	e += mk_echo(exp + e, 0, 0x1234, 1, 56);
	CU_ASSERT_EQUAL(e, 98);
	CU_ASSERT(memcmp(out, exp, 98) == 0);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, icmp_echo_rx), 1);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, icmp_echo_tx), 1);

	/* A corrupted request is dropped, not answered. */
	f[14 + 20 + 10] ^= 1;
	inject(&t, 0, f, n);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_icmp_bad), 1);
	/* An echo reply is not ours to answer. */
	n = mk_eth(f, &t.mac, &peer_mac, 0x0800);
	n += mk_ip(f + n, PEER_IP, OUR_IP, IPPROTO_ICMP, 16, 99, 0, 61);
	n += mk_echo(f + n, 0, 1, 1, 8);
	inject(&t, 0, f, n);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_icmp_type), 1);
	sg_net_worker_flush(t.w[0]);
	CU_ASSERT_EQUAL(tx_take(&t, 0, out, sizeof(out)), 0);
	tport_close(&t);
}

/* A 3000-byte echo in three fragments, out of order: reassembled,
 * answered, and the 3028-byte reply leaves in MTU-sized fragments that
 * put back together equal the request with type 0. */
static void
echo_fragments(struct tport *t, uint16_t at)
{
	static uint8_t icmp[3008];
	uint8_t f[1600];
	const size_t plen = mk_echo(icmp, 8, 0x77, 5, 3000);
	const size_t cut[4] = { 0, 1480, 2960, plen };

	for (int k = 2; k >= 0; k--) {
		size_t n = mk_eth(f, &t->mac, &peer_mac, 0x0800);
		size_t len = cut[k + 1] - cut[k];

		n += mk_ip(f + n, PEER_IP, OUR_IP, IPPROTO_ICMP, (uint16_t)len, 4242,
			   (uint16_t)(cut[k] / 8 | (k < 2 ? 0x2000 : 0)), 64);
		memcpy(f + n, icmp + cut[k], len);
		inject(t, at, f, n + len);
	}
}

static void
collect_reply(struct tport *t, size_t plen)
{
	static uint8_t icmp[3008], reply[3008];
	uint8_t out[1600];
	size_t got = 0, n;
	unsigned frags = 0;

	mk_echo(icmp, 0, 0x77, 5, 3000);
	while ((n = tx_take(t, 0, out, sizeof(out))) > 0) {
		uint16_t fo = (uint16_t)(out[20] << 8 | out[21]);
		size_t off = (size_t)(fo & 0x1fff) * 8;
		size_t len = (size_t)(out[16] << 8 | out[17]) - 20;

		CU_ASSERT(n <= 14 + 1500);
		CU_ASSERT_EQUAL(csum(out + 14, 20, 0), 0);
		CU_ASSERT(memcmp(out, &peer_mac, 6) == 0);
		CU_ASSERT_FATAL(off + len <= sizeof(reply));
		memcpy(reply + off, out + 34, len);
		got += len;
		frags++;
		if (!(fo & 0x2000))
			CU_ASSERT_EQUAL(off + len, plen);
	}
	CU_ASSERT_EQUAL(frags, 3);
	CU_ASSERT_EQUAL(got, plen);
	CU_ASSERT(memcmp(reply, icmp, plen) == 0);
}

static void
test_frag_reassembly(void)
{
	struct tport t;

	tport_open(&t, 1, 1, 1024, NULL);
	learn_peer(&t, 0, PEER_IP, &peer_mac);
	echo_fragments(&t, 0);
	sg_net_worker_flush(t.w[0]);
	collect_reply(&t, 3008);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, frag_rx), 3);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, frag_reassembled), 1);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, frag_tx), 3);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, icmp_echo_tx), 1);
	tport_close(&t);

	/* Two workers on one queue: fragments go to the owner of the address
	 * pair, which answers; the reply leaves through queue 0. */
	tport_open(&t, 1, 2, 1024, NULL);
	learn_peer(&t, 0, PEER_IP, &peer_mac);
	sg_net_worker_poll(t.w[1]);	/* learns the peer from worker 0's copy */
	echo_fragments(&t, 0);
	for (unsigned r = 0; r < 3; r++) {
		sg_net_worker_poll(t.w[1]);
		sg_net_worker_flush(t.w[1]);
		sg_net_worker_poll(t.w[0]);
		sg_net_worker_flush(t.w[0]);
	}
	collect_reply(&t, 3008);
	uint16_t owner = net_reta_owner(t.p, sg_net_rss_hash(t.p, PEER_IP,
						OUR_IP, 0, 0, false));
	CU_ASSERT_EQUAL(WSTAT(&t, owner, frag_reassembled), 1);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, steer_out), owner == 1 ? 3 + 1 : 1);
	tport_close(&t);
}

/* Fragments the reassembly table must never see: empty, a middle one
 * whose length is not a multiple of 8, one ending past 64 KiB. A lone
 * valid fragment waits and then expires, counted. */
static void
test_frag_validation(void)
{
	struct tport t;
	uint8_t f[128];
	size_t n;
	const struct { uint16_t plen, frag; } bad[] = {
		{ 0, 0x2000 | 10 },		/* no payload */
		{ 12, 0x2000 | 1 },		/* MF and 12 bytes */
		{ 16, 8190 },			/* 65520 + 20 + 16 > 65535 */
	};

	tport_open(&t, 1, 1, 1024, NULL);
	for (unsigned i = 0; i < RTE_DIM(bad); i++) {
		n = mk_eth(f, &t.mac, &peer_mac, 0x0800);
		n += mk_ip(f + n, PEER_IP, OUR_IP, IPPROTO_ICMP, bad[i].plen, 77,
			   bad[i].frag, 64);
		memset(f + n, 0, bad[i].plen);
		inject(&t, 0, f, n + bad[i].plen);
	}
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_frag_bad), RTE_DIM(bad));
	n = mk_eth(f, &t.mac, &peer_mac, 0x0800);
	n += mk_ip(f + n, PEER_IP, OUR_IP, IPPROTO_ICMP, 16, 78, 0x2000, 64);
	memset(f + n, 0, 16);
	inject(&t, 0, f, n + 16);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, frag_rx), RTE_DIM(bad) + 1);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_frag), 0);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(tpool), 1);	/* waiting */
	usleep(2100 * 1000);		/* frag_ttl_ms: the table runs on the TSC */
	sg_net_worker_timer(t.w[0], sg_clock_ns() + 1000 * NET_MS);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_frag), 1);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(tpool), 0);
	tport_close(&t);
}

static void
tweak_no_frag(struct sg_net_port_conf *c)
{
	c->no_reassembly = true;
}

static void
test_frag_disabled(void)
{
	struct tport t;

	tport_open(&t, 1, 1, 1024, tweak_no_frag);
	learn_peer(&t, 0, PEER_IP, &peer_mac);
	echo_fragments(&t, 0);
	sg_net_worker_flush(t.w[0]);
	CU_ASSERT_EQUAL(tx_count(&t, 0), 0);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_frag_off), 3);
	tport_close(&t);
}

struct pmtu_seen {
	unsigned n;
	uint32_t rip, seq;
	uint16_t lport, rport, mtu;
};

static void
pmtu_rec(void *ctx, uint32_t rip, uint16_t lport, uint16_t rport, uint32_t sq,
	 uint16_t mtu)
{
	struct pmtu_seen *s = ctx;

	s->n++;
	s->rip = rip;
	s->lport = lport;
	s->rport = rport;
	s->seq = sq;
	s->mtu = mtu;
}

/* An ICMP "fragmentation needed" from a router about a segment we sent
 * to `far` (1500 bytes long), announcing next-hop MTU `mtu`. */
static void
inject_frag_needed(struct tport *t, uint16_t at, uint32_t far, uint16_t mtu,
		   uint32_t inner_src)
{
	uint8_t f[128], *icmp;
	size_t n = mk_eth(f, &t->mac, &peer_mac, 0x0800);

	n += mk_ip(f + n, GW_IP, OUR_IP, IPPROTO_ICMP, 8 + 20 + 8, 1, 0, 64);
	icmp = f + n;
	memset(icmp, 0, 36);
	icmp[0] = 3;
	icmp[1] = 4;
	put16(icmp + 6, mtu);
	mk_ip(icmp + 8, inner_src, far, IPPROTO_TCP, 1480, 9, 0x4000, 60);
	put16(icmp + 28, 40000);		/* sport: our local port */
	put16(icmp + 30, 6379);
	icmp[32] = 0xde; icmp[33] = 0xad; icmp[34] = 0xbe; icmp[35] = 0xef;
	put16(icmp + 2, csum(icmp, 36, 0));
	inject(t, at, f, n + 36);
}

static void
test_pmtu(void)
{
	struct tport t;
	struct pmtu_seen s0 = { 0 }, s1 = { 0 };
	const uint32_t far = IP4(192, 0, 2, 10), far2 = IP4(192, 0, 2, 11);
	uint64_t t0;

	tport_open(&t, 1, 2, 1024, NULL);
	sg_net_worker_set_pmtu(t.w[0], pmtu_rec, &s0);
	sg_net_worker_set_pmtu(t.w[1], pmtu_rec, &s1);
	CU_ASSERT_EQUAL(sg_net_pmtu(t.w[0], far), 1500);
	inject_frag_needed(&t, 0, far, 1400, OUR_IP);
	CU_ASSERT_EQUAL(sg_net_pmtu(t.w[0], far), 1400);
	CU_ASSERT_EQUAL(sg_net_pmtu(t.w[0], far2), 1500);
	CU_ASSERT_EQUAL(s0.n, 1);
	CU_ASSERT_EQUAL(s0.rip, far);
	CU_ASSERT_EQUAL(s0.lport, htons(40000));
	CU_ASSERT_EQUAL(s0.rport, htons(6379));
	CU_ASSERT_EQUAL(s0.seq, 0xdeadbeef);
	CU_ASSERT_EQUAL(s0.mtu, 1400);
	/* Worker 1 learns it from the copy. */
	sg_net_worker_poll(t.w[1]);
	CU_ASSERT_EQUAL(sg_net_pmtu(t.w[1], far), 1400);
	CU_ASSERT_EQUAL(s1.n, 1);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, icmp_frag_needed), 1);
	CU_ASSERT_EQUAL(WSTAT(&t, 1, icmp_frag_needed), 0);

	/* Never raised; MTU 0 means the plateau below 1500; a tiny MTU is
	 * clamped to SG_NET_PMTU_MIN; not about our packet: ignored. */
	inject_frag_needed(&t, 0, far, 1450, OUR_IP);
	CU_ASSERT_EQUAL(sg_net_pmtu(t.w[0], far), 1400);
	inject_frag_needed(&t, 0, far2, 0, OUR_IP);
	CU_ASSERT_EQUAL(sg_net_pmtu(t.w[0], far2), 1492);
	inject_frag_needed(&t, 0, far2, 300, OUR_IP);
	CU_ASSERT_EQUAL(sg_net_pmtu(t.w[0], far2), SG_NET_PMTU_MIN);
	inject_frag_needed(&t, 0, IP4(192, 0, 2, 12), 1000, PEER_IP);
	CU_ASSERT_EQUAL(sg_net_pmtu(t.w[0], IP4(192, 0, 2, 12)), 1500);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_icmp_bad), 1);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, pmtu_update), 3);

	/* Forgotten after pmtu_ttl_ms (10 minutes by default). */
	t0 = sg_clock_ns();
	sg_net_worker_timer(t.w[0], t0 + 599000 * NET_MS);
	CU_ASSERT_EQUAL(sg_net_pmtu(t.w[0], far), 1400);
	sg_net_worker_timer(t.w[0], t0 + 601000 * NET_MS);
	CU_ASSERT_EQUAL(sg_net_pmtu(t.w[0], far), 1500);
	sg_net_worker_poll(t.w[1]);
	tx_count(&t, 0);
	tport_close(&t);
}

/* ------------------------------------------------------------------ */
/* Steering and transmit                                               */
/* ------------------------------------------------------------------ */

static void
test_steering(void)
{
	struct tport t;
	struct tcp_seen seen[2];
	struct rte_ether_addr mac;
	uint8_t f[128], out[128];
	size_t n;
	uint16_t lp = 50000;
	const uint32_t rip = PEER_IP;

	memset(seen, 0, sizeof(seen));
	tport_open(&t, 1, 2, 1024, NULL);
	sg_net_worker_set_tcp(t.w[0], tcp_rec, &seen[0]);
	sg_net_worker_set_tcp(t.w[1], tcp_rec, &seen[1]);

	/* ARP at worker 0 reaches worker 1's cache. */
	learn_peer(&t, 0, PEER_IP, &peer_mac);
	CU_ASSERT_EQUAL(sg_net_arp_lookup(t.w[1], PEER_IP, &mac), -ENOENT);
	sg_net_worker_poll(t.w[1]);
	CU_ASSERT_EQUAL(sg_net_arp_lookup(t.w[1], PEER_IP, &mac), 0);
	CU_ASSERT_EQUAL(WSTAT(&t, 1, arp_rx_copy), 1);
	CU_ASSERT_EQUAL(WSTAT(&t, 1, arp_tx_reply), 0);

	/* A segment for worker 1's flow arrives at worker 0 and is steered. */
	while (!sg_net_port_owned(t.w[1], OUR_IP, htons(lp), rip, htons(6379)))
		lp++;
	n = mk_eth(f, &t.mac, &peer_mac, 0x0800);
	n += mk_ip(f + n, rip, OUR_IP, IPPROTO_TCP, 20, 1, 0x4000, 64);
	n += mk_tcp(f + n, rip, OUR_IP, htons(6379), htons(lp), 0x10, 0);
	inject(&t, 0, f, n);
	CU_ASSERT_EQUAL(seen[0].n, 0);
	sg_net_worker_poll(t.w[1]);
	CU_ASSERT_EQUAL(seen[1].n, 1);
	CU_ASSERT_EQUAL(WSTAT(&t, 1, steer_in), 2);

	/* Worker 1 has no queue: its output goes out through worker 0. */
	CU_ASSERT_EQUAL(sg_net_ip_output(t.w[1], tcp_seg(&t, 1, PEER_IP, 3),
					 OUR_IP, PEER_IP), 0);
	CU_ASSERT_EQUAL(sg_net_worker_flush(t.w[1]), 1);
	CU_ASSERT_EQUAL(rte_ring_count(t.tx[0]), 0);
	sg_net_worker_poll(t.w[0]);
	sg_net_worker_flush(t.w[0]);
	n = tx_take(&t, 0, out, sizeof(out));
	CU_ASSERT_EQUAL(n, 57);
	CU_ASSERT(memcmp(out, &peer_mac, 6) == 0);
	CU_ASSERT_EQUAL(WSTAT(&t, 1, steer_tx), 1);
	/* ARP reply, the gratuitous ARP of worker 0's first poll, and it. */
	CU_ASSERT_EQUAL(WSTAT(&t, 0, tx_pkts), 3);
	tport_close(&t);
}

/* The NIC takes 15 frames at a time (ring of 16): the rest wait for the
 * next flush in order; past the buffer, frames are dropped and counted;
 * nothing leaks. */
static void
test_tx_leftovers(void)
{
	struct tport t;
	struct sg_net_worker *w;
	struct rte_mempool *pool;
	uint8_t out[128];
	unsigned got = 0, sent = 0;

	tport_open(&t, 1, 1, 16, NULL);
	w = t.w[0];
	pool = sg_net_worker_pool(w);
	learn_peer(&t, 0, PEER_IP, &peer_mac);
	for (unsigned i = 0; i < 40; i++)
		sg_net_ip_output(w, tcp_seg(&t, 0, PEER_IP, i % 50), OUR_IP, PEER_IP);
	for (unsigned round = 0; round < 5 && got < 40; round++) {
		size_t n;

		sent += sg_net_worker_flush(w);
		while ((n = tx_take(&t, 0, out, sizeof(out))) > 0) {
			CU_ASSERT_EQUAL(n, 54 + got % 50);	/* in order */
			got++;
		}
	}
	CU_ASSERT_EQUAL(got, 40);
	CU_ASSERT_EQUAL(sent, 40);
	CU_ASSERT(WSTAT(&t, 0, tx_retry) >= 2);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_tx_full), 0);

	/* Nobody drains the NIC: 15 go, NET_TXB_SIZE wait, the rest drop. */
	for (unsigned i = 0; i < 15 + NET_TXB_SIZE + 10; i++)
		sg_net_ip_output(w, tcp_seg(&t, 0, PEER_IP, 0), OUR_IP, PEER_IP);
	CU_ASSERT_EQUAL(WSTAT(&t, 0, drop_tx_full), 10);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(pool), 15 + NET_TXB_SIZE);
	tx_count(&t, 0);
	sg_net_worker_destroy(w);
	t.w[0] = NULL;
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(pool), 0);
	tport_close(&t);
}

static void
test_checksums_and_names(void)
{
	uint8_t b[64];
	struct rte_mbuf *m;
	size_t n = mk_tcp(b, PEER_IP, OUR_IP, htons(1), htons(2), 0x02, 9);

	/* Verifying a correct segment gives 0; writing it gives the value
	 * our reference computed. */
	m = frame(b, n);
	CU_ASSERT_EQUAL(sg_net_l4_cksum(m, 0, PEER_IP, OUR_IP, IPPROTO_TCP), 0);
	uint16_t want = (uint16_t)(b[16] << 8 | b[17]);
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);

	d[16] = d[17] = 0;
	CU_ASSERT_EQUAL(ntohs(sg_net_l4_cksum(m, 0, PEER_IP, OUR_IP, IPPROTO_TCP)),
			want);
	rte_pktmbuf_free(m);
	/* Pseudo header alone: the reference's sum of the 12 bytes. */
	uint8_t ph[12];

	memcpy(ph, &(uint32_t){ PEER_IP }, 4);
	memcpy(ph + 4, &(uint32_t){ OUR_IP }, 4);
	ph[8] = 0;
	ph[9] = 6;
	put16(ph + 10, 29);
	CU_ASSERT_EQUAL(ntohs(sg_net_phdr_cksum(PEER_IP, OUR_IP, 6, 29)),
			(uint16_t)~csum(ph, 12, 0));

	for (unsigned i = 0; i < SG_NET_STAT_MAX; i++) {
		CU_ASSERT_PTR_NOT_NULL(sg_net_stat_name(i));
		CU_ASSERT_PTR_NOT_NULL(sg_net_stat_help(i));
		for (unsigned j = 0; j < i; j++)
			CU_ASSERT(strcmp(sg_net_stat_name(i), sg_net_stat_name(j)) != 0);
	}
	CU_ASSERT_PTR_NULL(sg_net_stat_name(SG_NET_STAT_MAX));
	CU_ASSERT_STRING_EQUAL(sg_net_stat_name(SG_NET_STAT_drop_ip_cksum),
			       "drop_ip_cksum");
	CU_ASSERT_STRING_EQUAL(sg_net_port_stat_name(SG_NET_PSTAT_rx_nombuf),
			       "rx_nombuf");
}

static void
test_port_conf(void)
{
	struct sg_net_port_conf c;
	struct sg_net_port *p = (struct sg_net_port *)&c;

	base_conf(&c, "net_null_never", 1, 1);
	c.prefix_len = 0;
	CU_ASSERT_EQUAL(sg_net_port_init(&c, &p), -EINVAL);
	CU_ASSERT_PTR_NULL(p);
	base_conf(&c, "net_null_never", 1, SG_NET_MAX_WORKERS + 1);
	CU_ASSERT_EQUAL(sg_net_port_init(&c, &p), -EINVAL);
	base_conf(&c, "net_null_never", 1, 1);
	c.gateway = IP4(10, 9, 9, 9);		/* outside the subnet */
	CU_ASSERT_EQUAL(sg_net_port_init(&c, &p), -EINVAL);
	base_conf(&c, "net_null_never", 1, 1);
	c.mtu = 9000;				/* frame > default mbuf */
	CU_ASSERT_EQUAL(sg_net_port_init(&c, &p), -EINVAL);
	base_conf(&c, "no_such_driver0", 1, 1);
	CU_ASSERT_EQUAL(sg_net_port_init(&c, &p), -ENODEV);

	/* Stats and xstats of a live port; link up after start. */
	struct tport t;
	struct sg_net_stats st;
	struct sg_net_xstat xs[64];

	tport_open(&t, 1, 1, 64, NULL);
	CU_ASSERT_EQUAL(sg_net_port_link(t.p), 1);
	CU_ASSERT_EQUAL(sg_net_stats(t.p, &st), 0);
	CU_ASSERT_EQUAL(st.port[SG_NET_PSTAT_link_up], 1);
	CU_ASSERT(sg_net_xstats(t.p, xs, RTE_DIM(xs)) > 0);
	CU_ASSERT_EQUAL(sg_net_worker_create(t.p, 0, &t.w[1]), -EEXIST);
	CU_ASSERT_EQUAL(sg_net_worker_create(t.p, 1, &t.w[1]), -EINVAL);
	t.w[1] = NULL;
	tport_close(&t);
}

static const struct sg_unit_test ipv4_tests[] = {
	{ "header validation", test_ipv4_check },
	{ "input path and drop counters", test_ipv4_path },
	{ "output header and errors", test_ip_output },
	{ NULL, NULL },
};
static const struct sg_unit_test rss_tests[] = {
	{ "Toeplitz: Microsoft verification vectors", test_toeplitz_vectors },
	{ "key and RETA read back, mirror matches NIC", test_reta_mirror },
	{ "port ownership for 1..8 workers", test_port_owned },
	{ "NIC hash sampled against ours", test_rss_sampling },
	{ NULL, NULL },
};
static const struct sg_unit_test arp_tests[] = {
	{ "hold, retry, give up, learn, age", test_arp_hold_retry_learn },
	{ "hold bounds per entry and per worker", test_arp_hold_total },
	{ "table churn keeps survivors", test_arp_table_churn },
	{ "requests, replies, others, malformed", test_arp_requests },
	{ "gratuitous ARP at start", test_garp_at_start },
	{ NULL, NULL },
};
static const struct sg_unit_test icmp_tests[] = {
	{ "echo reply bytes", test_icmp_echo },
	{ "fragmented echo reassembled and answered", test_frag_reassembly },
	{ "fragments dropped when reassembly is off", test_frag_disabled },
	{ "bad fragments refused, lone ones expire", test_frag_validation },
	{ "path MTU from fragmentation needed", test_pmtu },
	{ NULL, NULL },
};
static const struct sg_unit_test io_tests[] = {
	{ "steering between two workers on one queue", test_steering },
	{ "TX leftovers retried, overflow counted", test_tx_leftovers },
	{ "checksum helpers and counter names", test_checksums_and_names },
	{ "port configuration and counters", test_port_conf },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	static const struct sg_unit_suite suites[] = {
		{ "net/ipv4", ipv4_tests },
		{ "net/rss", rss_tests },
		{ "net/arp", arp_tests },
		{ "net/icmp", icmp_tests },
		{ "net/io", io_tests },
	};
	char prefix[64];
	char *eal[] = { argv[0], "--no-huge", "-m", "512", "--no-pci",
			"--no-shconf", "--log-level=3", prefix, NULL };

	(void)argc;
	snprintf(prefix, sizeof(prefix), "--file-prefix=sgunit%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "EAL init failed%s\n",
			getuid() != 0 ? " (not root: skipped)" : "");
		return getuid() != 0 ? 77 : 1;
	}
	tpool = rte_pktmbuf_pool_create("test_pool", 4096, 0, 0,
					RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (tpool == NULL)
		return 1;
	int rc = sg_unit_run(suites, RTE_DIM(suites));

	{
			char eal_dir[PATH_MAX];

			snprintf(eal_dir, sizeof(eal_dir), "%s", rte_eal_get_runtime_dir());
			rte_eal_cleanup();
			sg_unit_remove_dir(eal_dir);
		}
	return rc;
}
