/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-worker receive and transmit machinery.
 *
 *   sg_net_worker_poll():
 *     rx_burst(queue) ----> eth_input ---> ARP / IPv4 (may steer: below)
 *     ring[*][me] --------> eth_input (never steered again; copies learn only)
 *     txring[v] (v without a queue, v % Q == my queue) --> TX buffer
 *     steering buffers ---> ring[me][owner], one burst per owner
 *
 *   TX buffer (txb, NET_TXB_SIZE frames, FIFO):
 *     net_txq_append() adds a frame; when full it flushes first and,
 *     if still full, drops the new frame (drop_tx_full).
 *     sg_net_worker_flush(): tx_burst, once more if the first left some;
 *     leftovers move to the front and go first at the next flush.
 *     A worker without a queue empties txb into txring[me] instead.
 */
/* rte_ip_frag_table_del_expired_entries() is still experimental in 22.11;
 * without it expired reassembly contexts would only be reclaimed when a
 * new fragment happens to hash to their bucket. */
#define ALLOW_EXPERIMENTAL_API 1

#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "sg_common.h"
#include "net_internal.h"

#define SCAN_NS (100 * NET_MS)	/* table scans in the timer hook */

static inline struct rte_ring *
ring_to(const struct sg_net_worker *w, uint16_t to)
{
	return w->port->ring[(unsigned)w->idx * w->port->n_workers + to];
}

static inline struct rte_mbuf *
untag(void *obj, bool *copy)
{
	*copy = ((uintptr_t)obj & NET_MSG_COPY) != 0;
	return (struct rte_mbuf *)((uintptr_t)obj & ~NET_MSG_COPY);
}

static void
steer_flush_one(struct sg_net_worker *w, uint16_t to)
{
	struct rte_mbuf **objs = &w->steer[(unsigned)to * NET_BURST];
	unsigned n = w->steer_n[to];
	unsigned sent;

	if (n == 0)
		return;
	sent = rte_ring_sp_enqueue_burst(ring_to(w, to), (void **)objs, n, NULL);
	NET_COUNT_N(w, steer_out, sent);
	for (unsigned i = sent; i < n; i++) {
		bool copy;

		rte_pktmbuf_free(untag(objs[i], &copy));
		NET_COUNT(w, drop_ring_full);
	}
	w->steer_n[to] = 0;
}

static void
steer_flush(struct sg_net_worker *w)
{
	for (uint16_t to = 0; to < w->port->n_workers; to++)
		steer_flush_one(w, to);
}

static void
steer_obj(struct sg_net_worker *w, uint16_t to, uintptr_t obj)
{
	if (w->steer_n[to] == NET_BURST)
		steer_flush_one(w, to);
	w->steer[(unsigned)to * NET_BURST + w->steer_n[to]++] =
		(struct rte_mbuf *)obj;
}

void
net_steer(struct sg_net_worker *w, uint16_t to, struct rte_mbuf *m)
{
	steer_obj(w, to, (uintptr_t)m);
}

void
net_copy_to_all(struct sg_net_worker *w, const struct rte_mbuf *m)
{
	for (uint16_t to = 0; to < w->port->n_workers; to++) {
		struct rte_mbuf *c;

		if (to == w->idx)
			continue;
		c = rte_pktmbuf_copy(m, w->pool, 0, UINT32_MAX);
		if (c == NULL) {
			NET_COUNT(w, drop_no_mbuf);
			continue;
		}
		steer_obj(w, to, (uintptr_t)c | NET_MSG_COPY);
	}
}

/* Ethernet: our MAC or broadcast, then ARP or IPv4. */
static void
eth_input(struct sg_net_worker *w, struct rte_mbuf *m, bool steered, bool copy)
{
	const struct sg_net_port *p = w->port;
	const struct rte_ether_hdr *eth;

	if (unlikely(rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN)) {
		NET_COUNT(w, drop_eth_short);
		goto drop;
	}
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (unlikely(!rte_is_same_ether_addr(&eth->dst_addr, &p->mac) &&
		     !rte_is_broadcast_ether_addr(&eth->dst_addr))) {
		NET_COUNT(w, drop_eth_dst);
		goto drop;
	}
	if (likely(eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4))) {
		rte_pktmbuf_adj(m, RTE_ETHER_HDR_LEN);
		net_ipv4_input(w, m, steered, copy);
		return;
	}
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
		net_arp_input(w, m, copy);
		return;
	}
	NET_COUNT(w, drop_eth_type);
drop:
	rte_pktmbuf_free(m);
}

unsigned
sg_net_worker_input(struct sg_net_worker *w, struct rte_mbuf **pkts, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		NET_COUNT(w, rx_pkts);
		NET_COUNT_N(w, rx_bytes, rte_pktmbuf_pkt_len(pkts[i]));
		eth_input(w, pkts[i], false, false);
	}
	steer_flush(w);
	return n;
}

static void
frag_death_row(struct sg_net_worker *w)
{
	if (w->frag_dr.cnt == 0)
		return;
	NET_COUNT_N(w, drop_frag, w->frag_dr.cnt);
	rte_ip_frag_free_death_row(&w->frag_dr, 0);
}

unsigned
sg_net_worker_poll(struct sg_net_worker *w)
{
	const struct sg_net_port *p = w->port;
	void *objs[NET_BURST];
	unsigned total = 0, n;

	w->now_ns = sg_clock_ns();
	if (unlikely(w->garp_left > 0) && w->now_ns >= w->garp_next_ns)
		net_arp_garp(w);

	if (w->rxq >= 0) {
		n = rte_eth_rx_burst(p->port_id, (uint16_t)w->rxq,
				     (struct rte_mbuf **)objs, NET_BURST);
		total += sg_net_worker_input(w, (struct rte_mbuf **)objs, n);
	}
	for (uint16_t from = 0; from < p->n_workers; from++) {
		if (from == w->idx)
			continue;
		n = rte_ring_sc_dequeue_burst(
			p->ring[(unsigned)from * p->n_workers + w->idx],
			objs, NET_BURST, NULL);
		for (unsigned i = 0; i < n; i++) {
			bool copy;
			struct rte_mbuf *m = untag(objs[i], &copy);

			NET_COUNT(w, steer_in);
			eth_input(w, m, true, copy);
		}
		total += n;
	}
	if (w->own_txq) {
		for (uint16_t v = p->n_queues; v < p->n_workers; v++) {
			if (net_queue_of_worker(p, v) != w->txq)
				continue;
			n = rte_ring_sc_dequeue_burst(p->txring[v], objs,
						      NET_BURST, NULL);
			for (unsigned i = 0; i < n; i++)
				net_txq_append(w, objs[i]);
		}
	}
	steer_flush(w);
	frag_death_row(w);
	return total;
}

static unsigned
flush_txq(struct sg_net_worker *w)
{
	const struct sg_net_port *p = w->port;
	uint64_t bytes = 0, left_bytes = 0;
	unsigned n = w->txn, sent, left;

	if (n == 0)
		return 0;
	if (!w->own_txq) {
		sent = rte_ring_sp_enqueue_burst(p->txring[w->idx],
						 (void **)w->txb, n, NULL);
		NET_COUNT_N(w, steer_tx, sent);
		for (unsigned i = sent; i < n; i++) {
			rte_pktmbuf_free(w->txb[i]);
			NET_COUNT(w, drop_ring_full);
		}
		w->txn = 0;
		return sent;
	}
	/* Sizes now: the NIC may free what it sent before we look again. */
	for (unsigned i = 0; i < n; i++)
		bytes += rte_pktmbuf_pkt_len(w->txb[i]);
	sent = rte_eth_tx_burst(p->port_id, w->txq, w->txb, (uint16_t)n);
	if (sent < n) {
		NET_COUNT(w, tx_retry);
		sent += rte_eth_tx_burst(p->port_id, w->txq, w->txb + sent,
					 (uint16_t)(n - sent));
	}
	left = n - sent;
	for (unsigned i = sent; i < n; i++)
		left_bytes += rte_pktmbuf_pkt_len(w->txb[i]);
	if (left > 0)
		memmove(w->txb, w->txb + sent, left * sizeof(w->txb[0]));
	w->txn = left;
	NET_COUNT_N(w, tx_pkts, sent);
	NET_COUNT_N(w, tx_bytes, bytes - left_bytes);
	return sent;
}

void
net_txq_append(struct sg_net_worker *w, struct rte_mbuf *m)
{
	if (unlikely(w->txn == NET_TXB_SIZE)) {
		flush_txq(w);
		if (w->txn == NET_TXB_SIZE) {
			rte_pktmbuf_free(m);
			NET_COUNT(w, drop_tx_full);
			return;
		}
	}
	w->txb[w->txn++] = m;
}

unsigned
sg_net_worker_flush(struct sg_net_worker *w)
{
	steer_flush(w);
	return flush_txq(w);
}

void
sg_net_worker_timer(struct sg_net_worker *w, uint64_t now_ns)
{
	w->now_ns = now_ns;
	if (w->garp_left > 0 && now_ns >= w->garp_next_ns)
		net_arp_garp(w);
	if (now_ns < w->next_scan_ns)
		return;
	w->next_scan_ns = now_ns + SCAN_NS;
	net_arp_timer(w);
	net_pmtu_timer(w);
	if (w->frag_tbl != NULL) {
		rte_ip_frag_table_del_expired_entries(w->frag_tbl, &w->frag_dr,
						      rte_rdtsc());
		frag_death_row(w);
	}
	steer_flush(w);
}

static int
frag_init(struct sg_net_worker *w)
{
	const struct sg_net_port_conf *c = &w->port->conf;
	uint64_t cycles = (rte_get_tsc_hz() + 999) / 1000 * c->frag_ttl_ms;
	uint32_t buckets = rte_align32pow2(RTE_MAX(c->frag_flows / 4, 1u));

	if (c->no_reassembly)
		return 0;
	w->frag_tbl = rte_ip_frag_table_create(buckets, 8, c->frag_flows,
					       cycles, (int)rte_socket_id());
	return w->frag_tbl == NULL ? -ENOMEM : 0;
}

int
sg_net_worker_create(struct sg_net_port *p, uint16_t idx,
		     struct sg_net_worker **out)
{
	struct sg_net_worker *w;
	int rc;

	*out = NULL;
	if (idx >= p->n_workers)
		return -EINVAL;
	if (p->worker[idx] != NULL)
		return -EEXIST;
	w = rte_zmalloc_socket("sg_net_worker", sizeof(*w), RTE_CACHE_LINE_SIZE,
			       (int)rte_socket_id());
	if (w == NULL)
		return -ENOMEM;
	w->port = p;
	w->idx = idx;
	w->rxq = idx < p->n_queues ? idx : -1;
	w->txq = net_queue_of_worker(p, idx);
	w->own_txq = idx < p->n_queues;
	w->pool = p->tx_pool[idx];
	w->ip_id = (uint16_t)rte_rand();
	w->now_ns = sg_clock_ns();
	if (idx == 0) {
		w->garp_left = p->conf.garp_count;
		w->garp_next_ns = 0;
	}
	rc = -ENOMEM;
	w->steer_n = rte_zmalloc_socket("sg_net_steer",
			p->n_workers * sizeof(*w->steer_n), 0,
			(int)rte_socket_id());
	w->steer = rte_zmalloc_socket("sg_net_steer",
			(size_t)p->n_workers * NET_BURST * sizeof(*w->steer), 0,
			(int)rte_socket_id());
	if (w->steer_n == NULL || w->steer == NULL)
		goto fail;
	rc = net_arp_init(w);
	if (rc != 0)
		goto fail;
	rc = net_pmtu_init(w);
	if (rc != 0)
		goto fail;
	rc = frag_init(w);
	if (rc != 0)
		goto fail;
	__atomic_store_n(&p->worker[idx], w, __ATOMIC_RELEASE);
	*out = w;
	return 0;
fail:
	sg_net_worker_destroy(w);
	return rc;
}

void
sg_net_worker_destroy(struct sg_net_worker *w)
{
	struct sg_net_port *p;

	if (w == NULL)
		return;
	p = w->port;
	for (unsigned i = 0; i < w->txn; i++)
		rte_pktmbuf_free(w->txb[i]);
	w->txn = 0;
	if (w->steer != NULL && w->steer_n != NULL) {
		for (uint16_t to = 0; to < p->n_workers; to++) {
			for (unsigned i = 0; i < w->steer_n[to]; i++) {
				bool copy;

				rte_pktmbuf_free(untag(
					w->steer[(unsigned)to * NET_BURST + i],
					&copy));
			}
		}
	}
	net_arp_free(w);
	if (w->frag_tbl != NULL) {
		rte_ip_frag_table_destroy(w->frag_tbl);
		rte_ip_frag_free_death_row(&w->frag_dr, 0);
	}
	rte_free(w->pmtu);
	rte_free(w->steer);
	rte_free(w->steer_n);
	if (p->worker[w->idx] == w)
		__atomic_store_n(&p->worker[w->idx], NULL, __ATOMIC_RELEASE);
	rte_free(w);
}

uint16_t
sg_net_worker_index(const struct sg_net_worker *w)
{
	return w->idx;
}

struct rte_mempool *
sg_net_worker_pool(const struct sg_net_worker *w)
{
	return w->pool;
}

struct rte_mempool *
sg_net_worker_rx_pool(const struct sg_net_worker *w)
{
	return w->port->rx_pool[w->rxq >= 0 ? w->rxq : 0];
}

void
sg_net_worker_set_tcp(struct sg_net_worker *w, sg_net_tcp_input_cb cb,
		      void *ctx)
{
	w->tcp_cb = cb;
	w->tcp_ctx = ctx;
}

void
sg_net_worker_set_pmtu(struct sg_net_worker *w, sg_net_pmtu_cb cb, void *ctx)
{
	w->pmtu_cb = cb;
	w->pmtu_ctx = ctx;
}
