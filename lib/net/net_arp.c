/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP: one cache per worker, learnt from every ARP packet any worker sees
 * (the worker that receives one answers it and copies it to the others).
 *
 *                 output to an unknown next hop
 *    (no entry) ---------------------------------> PENDING
 *        ^        request sent, packet held          |  |
 *        |                                           |  | a reply, or any ARP
 *        | arp_retries requests unanswered:          |  | from that address
 *        | held packets dropped (drop_arp_unresolved)|  v
 *        +-------------------------------------------+ REACHABLE
 *        ^                                              |  held packets sent
 *        | arp_ttl_ms without news (arp_expired)        |  in order; in the
 *        +----------------------------------------------+  last quarter of
 *                                                          its life each use
 *                                                          may send a unicast
 *                                                          request (refresh)
 * Bounds: arp_entries entries, arp_hold packets per entry (the oldest is
 * dropped when a new one comes), arp_hold_total packets per worker.
 */
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_lcore.h>

#include "net_internal.h"

#define ARP_FRAME_LEN 60	/* minimum Ethernet frame without FCS */

static inline uint32_t
arp_slot(const struct net_arp *t, uint32_t ip)
{
	return net_hash32(ip) & (t->cap - 1);
}

struct net_arp_entry *
net_arp_find(struct net_arp *t, uint32_t ip)
{
	for (uint32_t i = arp_slot(t, ip);; i = (i + 1) & (t->cap - 1)) {
		struct net_arp_entry *e = &t->e[i];

		if (e->state == ARP_FREE)
			return NULL;
		if (e->ip == ip)
			return e;
	}
}

static struct net_arp_entry *
arp_insert(struct net_arp *t, uint32_t ip)
{
	uint32_t i;

	if (t->used >= t->max)
		return NULL;
	for (i = arp_slot(t, ip); t->e[i].state != ARP_FREE;
	     i = (i + 1) & (t->cap - 1))
		;
	memset(&t->e[i], 0, offsetof(struct net_arp_entry, held));
	t->e[i].ip = ip;
	t->used++;
	return &t->e[i];
}

/* Removes e (its held packets already gone) by shifting back the entries
 * of its probe run, so lookups never need tombstones. */
static void
arp_delete(struct net_arp *t, struct net_arp_entry *e)
{
	uint32_t mask = t->cap - 1;
	uint32_t i = (uint32_t)(e - t->e), j = i;

	t->e[i].state = ARP_FREE;
	t->used--;
	for (;;) {
		uint32_t k;

		j = (j + 1) & mask;
		if (t->e[j].state == ARP_FREE)
			return;
		k = arp_slot(t, t->e[j].ip);
		/* Entry j may move to i unless its home k lies in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		t->e[i] = t->e[j];
		t->e[j].state = ARP_FREE;
		i = j;
	}
}

int
net_arp_init(struct sg_net_worker *w)
{
	struct net_arp *t = &w->arp;

	t->max = w->port->conf.arp_entries;
	t->cap = rte_align32pow2(2 * t->max);
	t->e = rte_zmalloc_socket("sg_net_arp", t->cap * sizeof(*t->e), 0,
				  (int)rte_socket_id());
	return t->e == NULL ? -ENOMEM : 0;
}

void
net_arp_free(struct sg_net_worker *w)
{
	struct net_arp *t = &w->arp;

	if (t->e == NULL)
		return;
	for (uint32_t i = 0; i < t->cap; i++) {
		for (unsigned k = 0; k < t->e[i].nheld; k++)
			rte_pktmbuf_free(t->e[i].held[k]);
		t->e[i].nheld = 0;
	}
	rte_free(t->e);
	t->e = NULL;
}

static void
arp_send(struct sg_net_worker *w, uint16_t op, const struct rte_ether_addr *dst,
	 uint32_t tip)
{
	const struct sg_net_port *p = w->port;
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *a;

	if (m == NULL) {
		NET_COUNT(w, drop_no_mbuf);
		return;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, ARP_FRAME_LEN);
	memset(eth, 0, ARP_FRAME_LEN);
	eth->dst_addr = *dst;
	eth->src_addr = p->mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	a = (struct rte_arp_hdr *)(eth + 1);
	a->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(op);
	a->arp_data.arp_sha = p->mac;
	a->arp_data.arp_sip = p->ip;
	a->arp_data.arp_tip = tip;	/* tha stays zero */
	net_txq_append(w, m);
}

static void
arp_request(struct sg_net_worker *w, uint32_t tip,
	    const struct rte_ether_addr *unicast)
{
	static const struct rte_ether_addr bcast = {
		.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };

	arp_send(w, RTE_ARP_OP_REQUEST, unicast ? unicast : &bcast, tip);
	NET_COUNT(w, arp_tx_request);
}

/* A gratuitous ARP (a request for our own address) announces our MAC. */
void
net_arp_garp(struct sg_net_worker *w)
{
	static const struct rte_ether_addr bcast = {
		.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };

	arp_send(w, RTE_ARP_OP_REQUEST, &bcast, w->port->ip);
	NET_COUNT(w, arp_tx_gratuitous);
	w->garp_left--;
	w->garp_next_ns = w->now_ns + w->port->conf.garp_interval_ms * NET_MS;
}

static void
arp_release(struct sg_net_worker *w, struct net_arp_entry *e)
{
	unsigned n = e->nheld;

	e->nheld = 0;
	w->arp.held -= n;
	for (unsigned i = 0; i < n; i++) {
		NET_COUNT(w, arp_released);
		net_eth_xmit(w, e->held[i], &e->mac);
	}
}

static void
arp_learn(struct sg_net_worker *w, struct net_arp_entry *e,
	  const struct rte_ether_addr *mac)
{
	e->mac = *mac;
	e->state = ARP_REACHABLE;
	e->tries = 0;
	e->expire_ns = w->now_ns + w->port->conf.arp_ttl_ms * NET_MS;
	e->refresh_ns = w->now_ns;
	NET_COUNT(w, arp_learned);
	if (e->nheld > 0)
		arp_release(w, e);
}

void
net_arp_input(struct sg_net_worker *w, struct rte_mbuf *m, bool copy)
{
	const struct sg_net_port *p = w->port;
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);
	struct net_arp_entry *e = NULL;
	uint32_t sip, tip;
	uint16_t op;
	bool for_us, learnable;

	if (rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN + sizeof(*a) ||
	    a->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    a->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    a->arp_hlen != RTE_ETHER_ADDR_LEN || a->arp_plen != 4) {
		NET_COUNT(w, drop_arp_bad);
		goto free;
	}
	op = rte_be_to_cpu_16(a->arp_opcode);
	if ((op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY) ||
	    !rte_is_unicast_ether_addr(&a->arp_data.arp_sha)) {
		NET_COUNT(w, drop_arp_bad);
		goto free;
	}
	sip = a->arp_data.arp_sip;
	tip = a->arp_data.arp_tip;
	if (copy)
		NET_COUNT(w, arp_rx_copy);
	else if (op == RTE_ARP_OP_REQUEST)
		NET_COUNT(w, arp_rx_request);
	else
		NET_COUNT(w, arp_rx_reply);

	for_us = tip == p->ip;
	/* Learn only neighbours we could talk to; sip 0 is a probe and our
	 * own address from elsewhere is a conflict, neither teaches us. */
	learnable = sip != 0 && sip != p->ip && net_in_subnet(p, sip);
	if (learnable) {
		e = net_arp_find(&w->arp, sip);
		if (e == NULL && for_us) {
			e = arp_insert(&w->arp, sip);
			if (e == NULL)
				NET_COUNT(w, drop_arp_full);
		}
		if (e != NULL)
			arp_learn(w, e, &a->arp_data.arp_sha);
		if (!copy && p->n_workers > 1)
			net_copy_to_all(w, m);
	}
	if (copy || !for_us || op != RTE_ARP_OP_REQUEST) {
		if (e == NULL && !for_us)
			NET_COUNT(w, drop_arp_other);
		goto free;
	}
	/* Answer in place: the request becomes our reply. */
	eth->dst_addr = a->arp_data.arp_sha;
	eth->src_addr = p->mac;
	a->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	a->arp_data.arp_tha = a->arp_data.arp_sha;
	a->arp_data.arp_tip = sip;
	a->arp_data.arp_sha = p->mac;
	a->arp_data.arp_sip = p->ip;
	m->ol_flags &= RTE_MBUF_F_EXTERNAL | RTE_MBUF_F_INDIRECT;
	NET_COUNT(w, arp_tx_reply);
	net_txq_append(w, m);
	return;
free:
	rte_pktmbuf_free(m);
}

/* Holds m on pending entry e within the per-entry and per-worker bounds.
 * Returns 0 held, -ENOBUFS dropped (m freed). */
static int
arp_hold(struct sg_net_worker *w, struct net_arp_entry *e, struct rte_mbuf *m)
{
	const struct sg_net_port_conf *c = &w->port->conf;

	if (w->arp.held >= c->arp_hold_total && e->nheld == 0) {
		NET_COUNT(w, drop_arp_hold);
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	if (e->nheld == c->arp_hold || w->arp.held >= c->arp_hold_total) {
		/* Full: the oldest goes, the newest (likely a retransmission
		 * of it) stays. */
		rte_pktmbuf_free(e->held[0]);
		memmove(&e->held[0], &e->held[1],
			(e->nheld - 1) * sizeof(e->held[0]));
		e->nheld--;
		w->arp.held--;
		NET_COUNT(w, drop_arp_hold);
	}
	e->held[e->nheld++] = m;
	w->arp.held++;
	NET_COUNT(w, arp_held);
	return 0;
}

static struct net_arp_entry *
arp_start(struct sg_net_worker *w, uint32_t ip)
{
	struct net_arp_entry *e = arp_insert(&w->arp, ip);

	if (e == NULL)
		return NULL;
	e->state = ARP_PENDING;
	e->tries = 1;
	e->expire_ns = w->now_ns + w->port->conf.arp_retry_ms * NET_MS;
	arp_request(w, ip, NULL);
	return e;
}

int
net_arp_output(struct sg_net_worker *w, struct rte_mbuf *m, uint32_t nh)
{
	const struct sg_net_port_conf *c = &w->port->conf;
	struct net_arp_entry *e = net_arp_find(&w->arp, nh);

	if (likely(e != NULL && e->state == ARP_REACHABLE)) {
		uint64_t life = c->arp_ttl_ms * NET_MS;

		/* Refresh before the entry dies so a busy flow never waits. */
		if (unlikely(w->now_ns + life / 4 >= e->expire_ns) &&
		    w->now_ns >= e->refresh_ns + c->arp_retry_ms * NET_MS) {
			e->refresh_ns = w->now_ns;
			arp_request(w, nh, &e->mac);
		}
		net_eth_xmit(w, m, &e->mac);
		return 0;
	}
	if (e == NULL) {
		e = arp_start(w, nh);
		if (e == NULL) {
			NET_COUNT(w, drop_arp_full);
			rte_pktmbuf_free(m);
			return -ENOBUFS;
		}
	}
	return arp_hold(w, e, m);
}

void
net_arp_timer(struct sg_net_worker *w)
{
	const struct sg_net_port_conf *c = &w->port->conf;
	struct net_arp *t = &w->arp;

	for (uint32_t i = 0; i < t->cap;) {
		struct net_arp_entry *e = &t->e[i];

		if (e->state == ARP_FREE || w->now_ns < e->expire_ns) {
			i++;
			continue;
		}
		if (e->state == ARP_PENDING && e->tries < c->arp_retries) {
			e->tries++;
			e->expire_ns = w->now_ns + c->arp_retry_ms * NET_MS;
			arp_request(w, e->ip, NULL);
			i++;
			continue;
		}
		if (e->state == ARP_PENDING) {
			NET_COUNT_N(w, drop_arp_unresolved, e->nheld);
			for (unsigned k = 0; k < e->nheld; k++)
				rte_pktmbuf_free(e->held[k]);
			t->held -= e->nheld;
			e->nheld = 0;
		} else {
			NET_COUNT(w, arp_expired);
		}
		/* Slot i may now hold a shifted entry: look at it again. */
		arp_delete(t, e);
	}
}

int
sg_net_arp_resolve(struct sg_net_worker *w, uint32_t ip)
{
	struct net_arp_entry *e;

	if (!net_in_subnet(w->port, ip) || ip == w->port->ip)
		return -EHOSTUNREACH;
	e = net_arp_find(&w->arp, ip);
	if (e != NULL)
		return e->state == ARP_REACHABLE ? 0 : -EAGAIN;
	return arp_start(w, ip) == NULL ? -ENOSPC : -EAGAIN;
}

int
sg_net_arp_lookup(struct sg_net_worker *w, uint32_t ip,
		  struct rte_ether_addr *mac)
{
	struct net_arp_entry *e = net_arp_find(&w->arp, ip);

	if (e == NULL)
		return -ENOENT;
	if (e->state != ARP_REACHABLE)
		return -EAGAIN;
	*mac = e->mac;
	return 0;
}
