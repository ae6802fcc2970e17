/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMP: echo replies and path MTU discovery (RFC 792, RFC 1191).
 *
 * An echo request is answered by the worker that received it, reusing
 * the request's mbuf (a reassembled request too: the reply is fragmented
 * on the way out if it must be). A "fragmentation needed" about a TCP
 * segment we sent lowers the path MTU towards its destination in this
 * worker's table, tells TCP through the pmtu handler, and is copied to
 * every other worker, whose tables and connections are their own.
 *
 * Path MTU table: direct-mapped by destination, pmtu_entries slots; a
 * newer destination may evict an older one (TCP then simply learns it
 * again from the next ICMP). Entries are forgotten after pmtu_ttl_ms.
 */
#include <errno.h>
#include <string.h>

#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_tcp.h>

#include "net_internal.h"

#define ICMP_DEST_UNREACH	3
#define ICMP_FRAG_NEEDED	4

int
net_pmtu_init(struct sg_net_worker *w)
{
	uint32_t n = w->port->conf.pmtu_entries;

	w->pmtu = rte_zmalloc_socket("sg_net_pmtu", n * sizeof(*w->pmtu), 0,
				     (int)rte_socket_id());
	w->pmtu_mask = n - 1;
	return w->pmtu == NULL ? -ENOMEM : 0;
}

static struct net_pmtu_entry *
pmtu_slot(struct sg_net_worker *w, uint32_t dst)
{
	return &w->pmtu[net_hash32(dst) & w->pmtu_mask];
}

uint16_t
sg_net_pmtu(struct sg_net_worker *w, uint32_t dst)
{
	const struct net_pmtu_entry *e = pmtu_slot(w, dst);

	if (e->mtu != 0 && e->dst == dst && w->now_ns < e->expire_ns)
		return e->mtu;
	return w->port->mtu;
}

void
net_pmtu_update(struct sg_net_worker *w, uint32_t dst, uint16_t mtu)
{
	struct net_pmtu_entry *e;

	if (mtu < SG_NET_PMTU_MIN)
		mtu = SG_NET_PMTU_MIN;
	if (mtu >= sg_net_pmtu(w, dst))
		return;		/* never raised by ICMP */
	e = pmtu_slot(w, dst);
	e->dst = dst;
	e->mtu = mtu;
	e->expire_ns = w->now_ns + w->port->conf.pmtu_ttl_ms * NET_MS;
	NET_COUNT(w, pmtu_update);
}

void
net_pmtu_timer(struct sg_net_worker *w)
{
	for (uint32_t i = 0; i <= w->pmtu_mask; i++) {
		if (w->pmtu[i].mtu != 0 && w->now_ns >= w->pmtu[i].expire_ns)
			w->pmtu[i].mtu = 0;
	}
}

/* RFC 1191 section 7: when a router sends no next-hop MTU, take the
 * largest plateau below the length of the datagram that did not fit. */
static uint16_t
plateau_below(uint32_t len)
{
	static const uint16_t plateaus[] = {
		32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68,
	};

	for (unsigned i = 0; i < RTE_DIM(plateaus); i++) {
		if (plateaus[i] < len)
			return plateaus[i];
	}
	return 68;
}

/* ICMP type 3 code 4 at icmp (len bytes, contiguous). 0 or a drop. */
static int
frag_needed(struct sg_net_worker *w, const uint8_t *icmp, uint32_t len)
{
	const struct sg_net_port *p = w->port;
	const struct rte_ipv4_hdr *in = (const struct rte_ipv4_hdr *)(icmp + 8);
	const struct rte_tcp_hdr *th;
	uint32_t hl;
	uint16_t mtu;

	if (len < 8 + sizeof(*in) + 8 || (in->version_ihl >> 4) != 4)
		return SG_NET_STAT_drop_icmp_bad;
	hl = (uint32_t)(in->version_ihl & 0x0f) * 4;
	if (hl < sizeof(*in) || len < 8 + hl + 8)
		return SG_NET_STAT_drop_icmp_bad;
	/* Only about what we sent, and only TCP has a use for it. */
	if (in->src_addr != p->ip || in->next_proto_id != IPPROTO_TCP)
		return SG_NET_STAT_drop_icmp_bad;
	th = (const struct rte_tcp_hdr *)((const uint8_t *)in + hl);
	mtu = (uint16_t)(icmp[6] << 8 | icmp[7]);
	if (mtu == 0)
		mtu = plateau_below(rte_be_to_cpu_16(in->total_length));
	if (mtu < 68)
		return SG_NET_STAT_drop_icmp_bad;
	net_pmtu_update(w, in->dst_addr, mtu);
	if (w->pmtu_cb != NULL)
		w->pmtu_cb(w->pmtu_ctx, in->dst_addr, th->src_port,
			   th->dst_port, rte_be_to_cpu_32(th->sent_seq),
			   sg_net_pmtu(w, in->dst_addr));
	return 0;
}

void
net_icmp_input(struct sg_net_worker *w, struct rte_mbuf *m, uint32_t src,
	       bool copy)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	uint32_t hl = (uint32_t)(ip->version_ihl & 0x0f) * 4;
	uint32_t len = rte_pktmbuf_pkt_len(m) - hl;
	struct rte_icmp_hdr *icmp;
	uint16_t sum = 0;
	int why;

	if (len < sizeof(*icmp) || rte_pktmbuf_data_len(m) < hl + sizeof(*icmp) ||
	    rte_raw_cksum_mbuf(m, hl, len, &sum) != 0 || sum != 0xffff) {
		NET_COUNT(w, drop_icmp_bad);
		goto drop;
	}
	icmp = rte_pktmbuf_mtod_offset(m, struct rte_icmp_hdr *, hl);
	if (icmp->icmp_type == RTE_IP_ICMP_ECHO_REQUEST && icmp->icmp_code == 0 &&
	    !copy) {
		NET_COUNT(w, icmp_echo_rx);
		icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
		icmp->icmp_cksum = 0;
		rte_raw_cksum_mbuf(m, hl, len, &sum);
		icmp->icmp_cksum = (uint16_t)~sum;
		rte_pktmbuf_adj(m, (uint16_t)hl);
		/* The request's RX flags mean nothing for the reply. */
		m->ol_flags &= RTE_MBUF_F_EXTERNAL | RTE_MBUF_F_INDIRECT;
		if (net_ip_send(w, m, IPPROTO_ICMP, w->port->ip, src, false) == 0)
			NET_COUNT(w, icmp_echo_tx);
		return;
	}
	if (icmp->icmp_type == ICMP_DEST_UNREACH &&
	    icmp->icmp_code == ICMP_FRAG_NEEDED) {
		if (rte_pktmbuf_data_len(m) < hl + len) {
			NET_COUNT(w, drop_icmp_bad);	/* never for so short a message */
			goto drop;
		}
		if (!copy)
			NET_COUNT(w, icmp_frag_needed);
		why = frag_needed(w, (const uint8_t *)icmp, len);
		if (why != 0) {
			net_count_add(w, (unsigned)why, 1);
			goto drop;
		}
		if (!copy && w->port->n_workers > 1) {
			rte_pktmbuf_prepend(m, RTE_ETHER_HDR_LEN);
			net_copy_to_all(w, m);
		}
		goto drop;
	}
	NET_COUNT(w, drop_icmp_type);
drop:
	rte_pktmbuf_free(m);
}
