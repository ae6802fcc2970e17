/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow ownership: the software mirror of the NIC's RSS.
 *
 * The Toeplitz hash of the IPv4 4-tuple (source, destination, source port,
 * destination port, in that order) selects a RETA entry; the entry names
 * the worker that owns the flow. The NIC's RETA is written so that an entry
 * sends the packet to its owner's queue when the owner has one, and the
 * owner table (p->reta_owner) is the authority: a packet that arrives on
 * another worker is forwarded there.
 *
 * Toeplitz is linear over GF(2): hash(a ^ b) = hash(a) ^ hash(b) for
 * inputs of the same length. So the hash of the return path of an active
 * open, (rip, lip, rport, lport), is hash(rip, lip, rport, 0) ^
 * hash(0, 0, 0, lport): the first part is cached per remote endpoint and
 * the second is a 64 K table computed once per port. Checking whether a
 * local port is ours is then two loads and an XOR.
 */
#include <errno.h>

#include <rte_byteorder.h>
#include <rte_malloc.h>
#include <rte_thash.h>

#include "net_internal.h"

static uint32_t
softrss(const struct sg_net_port *p, uint32_t *words, uint32_t n)
{
	return rte_softrss_be(words, n, (const uint8_t *)p->rss_key_be);
}

uint32_t
net_rss_hash4(const struct sg_net_port *p, uint32_t src, uint32_t dst,
	      uint16_t sport, uint16_t dport)
{
	uint32_t t[3];

	t[0] = rte_be_to_cpu_32(src);
	t[1] = rte_be_to_cpu_32(dst);
	t[2] = (uint32_t)rte_be_to_cpu_16(sport) << 16 | rte_be_to_cpu_16(dport);
	return softrss(p, t, 3);
}

uint32_t
net_rss_hash2(const struct sg_net_port *p, uint32_t src, uint32_t dst)
{
	uint32_t t[2];

	t[0] = rte_be_to_cpu_32(src);
	t[1] = rte_be_to_cpu_32(dst);
	return softrss(p, t, 2);
}

uint32_t
sg_net_rss_hash(const struct sg_net_port *p, uint32_t src, uint32_t dst,
		uint16_t sport, uint16_t dport, bool l4)
{
	if (!l4)
		return net_rss_hash2(p, src, dst);
	return net_rss_hash4(p, src, dst, sport, dport);
}

int
net_rss_tables(struct sg_net_port *p)
{
	uint32_t bit[16];
	uint32_t t[3] = { 0, 0, 0 };

	rte_convert_rss_key((const uint32_t *)p->rss_key, p->rss_key_be,
			    SG_NET_RSS_KEY_LEN);
	if (p->dport_hash == NULL) {
		p->dport_hash = rte_malloc_socket("sg_net_dport_hash",
				65536 * sizeof(uint32_t), 0, p->socket);
		if (p->dport_hash == NULL)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < 16; i++) {
		t[2] = 1u << i;
		bit[i] = softrss(p, t, 3);
	}
	/* Each port's share is its lowest set bit's share XOR the share of
	 * the port with that bit cleared, already computed. */
	p->dport_hash[0] = 0;
	for (uint32_t d = 1; d < 65536; d++)
		p->dport_hash[d] = p->dport_hash[d & (d - 1)] ^
				   bit[__builtin_ctz(d)];
	return 0;
}

uint16_t
net_queue_of_worker(const struct sg_net_port *p, uint16_t w)
{
	return w < p->n_queues ? w : (uint16_t)(w % p->n_queues);
}

uint16_t
sg_net_flow_owner(const struct sg_net_port *p, uint32_t src, uint32_t dst,
		  uint16_t sport, uint16_t dport)
{
	if (p->n_workers == 1)
		return 0;
	return net_reta_owner(p, net_rss_hash4(p, src, dst, sport, dport));
}

bool
sg_net_port_owned(struct sg_net_worker *w, uint32_t lip, uint16_t lport,
		  uint32_t rip, uint16_t rport)
{
	const struct sg_net_port *p = w->port;
	struct net_remote *r;
	uint32_t h;

	if (p->n_workers == 1)
		return true;
	h = net_hash32(rip ^ net_hash32(lip ^ rport));
	r = &w->remote[h & (NET_REMOTE_CACHE - 1)];
	if (!r->valid || r->lip != lip || r->rip != rip || r->rport != rport) {
		/* Cache miss: the slow path, one full software hash. */
		r->lip = lip;
		r->rip = rip;
		r->rport = rport;
		r->base = net_rss_hash4(p, rip, lip, rport, 0);
		r->valid = true;
	}
	h = r->base ^ p->dport_hash[rte_be_to_cpu_16(lport)];
	return net_reta_owner(p, h) == w->idx;
}
