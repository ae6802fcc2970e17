/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 input and output.
 *
 * Input: validate (version, header length, total length, checksum unless
 * the NIC checked it, TTL, our address, a sane source), trim link padding,
 * then
 *   fragment -> steer to the owner of (src, dst) -> reassemble (rte_ip_frag)
 *               -> the datagram goes on as if unfragmented
 *   TCP      -> steer to the owner of the 4-tuple -> strip header -> TCP
 *   ICMP     -> net_icmp_input() on the worker that received it
 *
 * Output: one header without options, TTL 64, a per-worker IP id, DF for
 * TCP; ARP resolution of the next hop (the destination in our subnet,
 * else the gateway); frames longer than the MTU (only ICMP echo replies
 * can be) are cut into fragments copied into fresh single-segment mbufs.
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "net_internal.h"

int
net_ipv4_check(const struct rte_ipv4_hdr *ip, uint32_t avail, bool cksum_ok,
	       uint32_t *hlen, uint32_t *tlen)
{
	uint32_t hl, tl;

	if (avail < sizeof(struct rte_ipv4_hdr))
		return SG_NET_STAT_drop_ip_short;
	if ((ip->version_ihl >> 4) != 4)
		return SG_NET_STAT_drop_ip_version;
	hl = (uint32_t)(ip->version_ihl & 0x0f) * 4;
	if (hl < sizeof(struct rte_ipv4_hdr) || hl > avail)
		return SG_NET_STAT_drop_ip_ihl;
	tl = rte_be_to_cpu_16(ip->total_length);
	if (tl < hl || tl > avail)
		return SG_NET_STAT_drop_ip_len;
	if (!cksum_ok && rte_raw_cksum(ip, hl) != 0xffff)
		return SG_NET_STAT_drop_ip_cksum;
	if (ip->time_to_live == 0)
		return SG_NET_STAT_drop_ip_ttl;
	*hlen = hl;
	*tlen = tl;
	return 0;
}

/* Sources no host sends from: zero, limited broadcast, multicast and
 * class E, loopback, our own address, our subnet's broadcast. */
static bool
martian(const struct sg_net_port *p, uint32_t src)
{
	uint32_t h = rte_be_to_cpu_32(src);

	return h == 0 || h >= 0xe0000000u || (h >> 24) == 127 ||
	       src == p->ip || (p->conf.prefix_len < 31 && (src | p->mask) ==
						   UINT32_MAX && net_in_subnet(p, src));
}

/* The owner of a TCP packet: the NIC's hash when it is trusted, checked
 * against ours on a sample; our hash otherwise. */
static uint16_t
tcp_owner(struct sg_net_worker *w, const struct rte_mbuf *m,
	  const struct rte_ipv4_hdr *ip, const struct rte_tcp_hdr *th)
{
	const struct sg_net_port *p = w->port;
	uint32_t h;

	if ((p->caps & SG_NET_CAP_RSS) && !w->soft_hash &&
	    (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH)) {
		h = m->hash.rss;
		if (++w->rss_tick >= p->conf.rss_sample) {
			uint32_t s = net_rss_hash4(p, ip->src_addr, ip->dst_addr,
						   th->src_port, th->dst_port);

			w->rss_tick = 0;
			NET_COUNT(w, rss_checked);
			if (s != h) {
				/* From now on this worker trusts only its own
				 * hash, which active opens were chosen by. */
				NET_COUNT(w, rss_mismatch);
				w->soft_hash = true;
				h = s;
			}
		}
	} else {
		h = net_rss_hash4(p, ip->src_addr, ip->dst_addr, th->src_port,
				  th->dst_port);
	}
	return net_reta_owner(p, h);
}

static void
steer_back(struct sg_net_worker *w, struct rte_mbuf *m, uint16_t owner)
{
	/* The Ethernet header is still in the headroom, untouched. */
	rte_pktmbuf_prepend(m, RTE_ETHER_HDR_LEN);
	net_steer(w, owner, m);
}

/* Feeds a fragment to the reassembly table. Returns the whole datagram
 * (data at the IPv4 header, header checksum valid) or NULL. */
static struct rte_mbuf *
reassemble(struct sg_net_worker *w, struct rte_mbuf *m,
	   struct rte_ipv4_hdr *ip, uint32_t hl, uint32_t tl)
{
	uint16_t fo = rte_be_to_cpu_16(ip->fragment_offset);
	uint32_t off = (uint32_t)(fo & RTE_IPV4_HDR_OFFSET_MASK) *
		       RTE_IPV4_HDR_OFFSET_UNITS;
	uint32_t len = tl - hl;
	struct rte_mbuf *r;

	NET_COUNT(w, frag_rx);
	/* Checked here, before the library sees it: no empty fragments,
	 * nothing past 64 KiB, and all but the last a multiple of 8. */
	if (len == 0 || off + len + hl > UINT16_MAX ||
	    ((fo & RTE_IPV4_HDR_MF_FLAG) && (len & 7) != 0)) {
		NET_COUNT(w, drop_frag_bad);
		rte_pktmbuf_free(m);
		return NULL;
	}
	m->l2_len = 0;
	m->l3_len = hl;
	r = rte_ipv4_frag_reassemble_packet(w->frag_tbl, &w->frag_dr, m,
					    rte_rdtsc(), ip);
	if (w->frag_dr.cnt > 0) {
		NET_COUNT_N(w, drop_frag, w->frag_dr.cnt);
		rte_ip_frag_free_death_row(&w->frag_dr, 0);
	}
	if (r == NULL)
		return NULL;
	NET_COUNT(w, frag_reassembled);
	ip = rte_pktmbuf_mtod(r, struct rte_ipv4_hdr *);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	/* The NIC judged one fragment, not the datagram. */
	r->ol_flags &= ~RTE_MBUF_F_RX_L4_CKSUM_MASK;
	return r;
}

void
net_ipv4_input(struct sg_net_worker *w, struct rte_mbuf *m, bool steered,
	       bool copy)
{
	const struct sg_net_port *p = w->port;
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint64_t ipck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	uint32_t hl, tl;
	int why;

	if (ipck == RTE_MBUF_F_RX_IP_CKSUM_BAD) {
		NET_COUNT(w, drop_ip_cksum);
		goto drop;
	}
	why = net_ipv4_check(ip, rte_pktmbuf_data_len(m),
			     ipck == RTE_MBUF_F_RX_IP_CKSUM_GOOD ||
			     ipck == RTE_MBUF_F_RX_IP_CKSUM_NONE, &hl, &tl);
	if (unlikely(why != 0)) {
		net_count_add(w, (unsigned)why, 1);
		goto drop;
	}
	if (rte_pktmbuf_pkt_len(m) > tl &&
	    rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - tl)) != 0) {
		NET_COUNT(w, drop_ip_len);
		goto drop;
	}
	if (unlikely(ip->dst_addr != p->ip)) {
		NET_COUNT(w, drop_ip_not_ours);
		goto drop;
	}
	if (unlikely(martian(p, ip->src_addr))) {
		NET_COUNT(w, drop_ip_martian);
		goto drop;
	}
	if (unlikely(rte_ipv4_frag_pkt_is_fragmented(ip))) {
		if (w->frag_tbl == NULL || copy) {
			NET_COUNT(w, drop_frag_off);
			goto drop;
		}
		if (p->n_workers > 1 && !steered) {
			uint16_t o = net_reta_owner(p, net_rss_hash2(p,
					ip->src_addr, ip->dst_addr));

			if (o != w->idx) {
				steer_back(w, m, o);
				return;
			}
		}
		m = reassemble(w, m, ip, hl, tl);
		if (m == NULL)
			return;
		ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
		tl = rte_be_to_cpu_16(ip->total_length);
		/* Steered by its addresses; its ports may name another owner. */
		steered = false;
	}

	if (ip->next_proto_id == IPPROTO_TCP) {
		if (p->n_workers > 1 && !steered &&
		    rte_pktmbuf_data_len(m) >= hl + 4) {
			const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)
				((const uint8_t *)ip + hl);
			uint16_t o = tcp_owner(w, m, ip, th);

			if (o != w->idx) {
				steer_back(w, m, o);
				return;
			}
		}
		NET_COUNT(w, ip_rx);
		if (unlikely(w->tcp_cb == NULL || copy)) {
			NET_COUNT(w, drop_no_handler);
			goto drop;
		}
		uint32_t src = ip->src_addr, dst = ip->dst_addr;

		rte_pktmbuf_adj(m, (uint16_t)hl);
		m->l3_len = 0;
		NET_COUNT(w, tcp_rx);
		w->tcp_cb(w->tcp_ctx, m, src, dst);
		return;
	}
	if (ip->next_proto_id == IPPROTO_ICMP) {
		NET_COUNT(w, ip_rx);
		net_icmp_input(w, m, ip->src_addr, copy);
		return;
	}
	NET_COUNT(w, drop_ip_proto);
drop:
	rte_pktmbuf_free(m);
}

/* Cuts m (data at our 20-byte IPv4 header) into MTU-sized fragments, each
 * a fresh single-segment mbuf with its Ethernet header; also used to
 * flatten a chain for a port that cannot send chains. Consumes m. */
static void
fragment_copy(struct sg_net_worker *w, struct rte_mbuf *m,
	      const struct rte_ether_addr *dst)
{
	const struct sg_net_port *p = w->port;
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	uint32_t hl = (uint32_t)(ip->version_ihl & 0x0f) * 4;
	uint32_t plen = rte_pktmbuf_pkt_len(m) - hl;
	uint32_t step = (p->mtu - hl) & ~7u;
	uint16_t fo0 = rte_be_to_cpu_16(ip->fragment_offset);
	unsigned nfrag = 0;

	for (uint32_t off = 0; off < plen || (plen == 0 && off == 0); off += step) {
		uint32_t n = RTE_MIN(step, plen - off);
		bool more = off + n < plen || (fo0 & RTE_IPV4_HDR_MF_FLAG);
		struct rte_mbuf *f = rte_pktmbuf_alloc(w->pool);
		struct rte_ether_hdr *eth;
		struct rte_ipv4_hdr *fip;
		uint8_t *d;
		const void *s;

		if (f == NULL) {
			NET_COUNT(w, drop_no_mbuf);
			break;
		}
		d = (uint8_t *)rte_pktmbuf_append(f, (uint16_t)(RTE_ETHER_HDR_LEN +
							       hl + n));
		eth = (struct rte_ether_hdr *)d;
		eth->dst_addr = *dst;
		eth->src_addr = p->mac;
		eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
		fip = (struct rte_ipv4_hdr *)(eth + 1);
		memcpy(fip, ip, hl);
		fip->total_length = rte_cpu_to_be_16((uint16_t)(hl + n));
		fip->fragment_offset = rte_cpu_to_be_16((uint16_t)(
			((fo0 & RTE_IPV4_HDR_OFFSET_MASK) + off / 8) |
			(more ? RTE_IPV4_HDR_MF_FLAG : 0)));
		fip->hdr_checksum = 0;
		fip->hdr_checksum = rte_ipv4_cksum(fip);
		s = rte_pktmbuf_read(m, hl + off, n, d + RTE_ETHER_HDR_LEN + hl);
		if (s != NULL && s != d + RTE_ETHER_HDR_LEN + hl)
			memcpy(d + RTE_ETHER_HDR_LEN + hl, s, n);
		if (off == 0 && !more) {
			/* A flattened chain, not a fragment: the L4 checksum
			 * offload TCP asked for still applies. */
			f->ol_flags = m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK;
			f->l2_len = RTE_ETHER_HDR_LEN;
			f->l3_len = hl;
			f->l4_len = m->l4_len;
		}
		net_txq_append(w, f);
		nfrag++;
		if (plen == 0)
			break;
	}
	if (nfrag > 1)
		NET_COUNT_N(w, frag_tx, nfrag);
	rte_pktmbuf_free(m);
}

void
net_eth_xmit(struct sg_net_worker *w, struct rte_mbuf *m,
	     const struct rte_ether_addr *dst)
{
	const struct sg_net_port *p = w->port;
	struct rte_ether_hdr *eth;

	if (unlikely(rte_pktmbuf_pkt_len(m) > p->mtu ||
		     (m->nb_segs > 1 && !(p->caps & SG_NET_CAP_TX_MULTI_SEG)))) {
		fragment_copy(w, m, dst);
		return;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, RTE_ETHER_HDR_LEN);
	if (unlikely(eth == NULL)) {
		NET_COUNT(w, drop_no_headroom);
		rte_pktmbuf_free(m);
		return;
	}
	eth->dst_addr = *dst;
	eth->src_addr = p->mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	net_txq_append(w, m);
}

int
net_ip_send(struct sg_net_worker *w, struct rte_mbuf *m, uint8_t proto,
	    uint32_t src, uint32_t dst, bool df)
{
	const struct sg_net_port *p = w->port;
	uint32_t len = rte_pktmbuf_pkt_len(m) + sizeof(struct rte_ipv4_hdr);
	struct rte_ipv4_hdr *ip;
	uint32_t nh;
	int rc;

	if (unlikely(src != p->ip)) {
		NET_COUNT(w, drop_no_route);
		rc = -EINVAL;
		goto fail;
	}
	if (unlikely((df && len > p->mtu) || len > UINT16_MAX)) {
		NET_COUNT(w, drop_too_big);
		rc = -EMSGSIZE;
		goto fail;
	}
	if (likely(net_in_subnet(p, dst) && dst != p->ip)) {
		nh = dst;
	} else if (p->gateway != 0 && !net_in_subnet(p, dst)) {
		nh = p->gateway;
	} else {
		NET_COUNT(w, drop_no_route);
		rc = -EHOSTUNREACH;
		goto fail;
	}
	if (unlikely(rte_pktmbuf_headroom(m) < SG_NET_HDR_ROOM)) {
		NET_COUNT(w, drop_no_headroom);
		rc = -ENOBUFS;
		goto fail;
	}
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)len);
	ip->packet_id = rte_cpu_to_be_16(w->ip_id++);
	ip->fragment_offset = df ? RTE_BE16(RTE_IPV4_HDR_DF_FLAG) : 0;
	ip->time_to_live = NET_TTL;
	ip->next_proto_id = proto;
	ip->hdr_checksum = 0;
	ip->src_addr = src;
	ip->dst_addr = dst;
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = sizeof(*ip);
	if ((p->caps & SG_NET_CAP_TX_IPV4_CKSUM) && len <= p->mtu) {
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	} else {
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		if (m->ol_flags & RTE_MBUF_F_TX_L4_MASK)
			m->ol_flags |= RTE_MBUF_F_TX_IPV4;
	}
	NET_COUNT(w, ip_tx);
	return net_arp_output(w, m, nh);
fail:
	rte_pktmbuf_free(m);
	return rc;
}

int
sg_net_ip_output(struct sg_net_worker *w, struct rte_mbuf *m, uint32_t src_ip,
		 uint32_t dst_ip)
{
	return net_ip_send(w, m, IPPROTO_TCP, src_ip, dst_ip, true);
}

uint16_t
sg_net_phdr_cksum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t l4_len)
{
	struct {
		uint32_t src, dst;
		uint8_t zero, proto;
		uint16_t len;
	} __rte_packed ph = { src, dst, 0, proto, rte_cpu_to_be_16(l4_len) };

	return rte_raw_cksum(&ph, sizeof(ph));
}

uint16_t
sg_net_l4_cksum(const struct rte_mbuf *m, uint32_t off, uint32_t src,
		uint32_t dst, uint8_t proto)
{
	uint32_t len = rte_pktmbuf_pkt_len(m) - off;
	uint16_t raw = 0;
	uint32_t sum;

	if (off > rte_pktmbuf_pkt_len(m) || rte_raw_cksum_mbuf(m, off, len, &raw) != 0)
		return 0xffff;
	sum = (uint32_t)raw + sg_net_phdr_cksum(src, dst, proto, (uint16_t)len);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}
