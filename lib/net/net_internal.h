/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_internal.h: the port and worker structures of lib/net and the
 * functions its files share. Unit tests include it to test the pieces.
 *
 * How packets move between workers (N workers, Q <= N queue pairs):
 *
 *          NIC queue q (q < Q)                    worker w >= Q (no queue)
 *               |                                        |
 *     rx_burst  v                                        |
 *   +-------------------+  ring[w][o]  +-----------+     | txring[w]
 *   | worker w: parse,  |------------->| owner o   |     | (its frames)
 *   | owner = RETA[hash]|  (packets o  | processes |     v
 *   | ARP, ICMP local   |   owns; ARP  | them      |  worker w % Q puts them
 *   +-------------------+   copies to  +-----------+  in its TX buffer
 *               |           all)                         |
 *               v                                        v
 *     TX buffer --- sg_net_worker_flush(): tx_burst on queue q
 *
 * ring[from][to] and txring[w] are single-producer single-consumer. A ring
 * entry is an mbuf pointer; bit 0 set (NET_MSG_COPY) marks a copy sent to
 * every worker (ARP, ICMP fragmentation-needed) to learn from and never
 * answer or forward again. Packets received from a ring are processed
 * where they arrive, never steered again, so a disagreement between
 * workers cannot bounce a packet.
 */
#ifndef SG_NET_INTERNAL_H
#define SG_NET_INTERNAL_H

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "sg_net.h"

extern int sg_net_logtype;
#define NET_LOG(level, ...) \
	rte_log(RTE_LOG_##level, sg_net_logtype, "sg_net: " __VA_ARGS__)

#define NET_BURST		32	/* rx_burst, ring dequeue and steering batch */
#define NET_TXB_SIZE		1024	/* frames queued per worker between flushes */
#define NET_SOFT_RETA		512	/* RETA size when the NIC's cannot be used */
#define NET_REMOTE_CACHE	64	/* remote endpoints cached for port_owned */
#define NET_ARP_HOLD_MAX	32	/* hard cap on conf.arp_hold */
#define NET_MAX_RETA		4096	/* largest NIC RETA we mirror */
#define NET_TTL			64
#define NET_MSG_COPY		((uintptr_t)1)

#define NET_MS			UINT64_C(1000000)	/* ns per ms */

struct sg_net_port {
	uint16_t port_id;
	uint16_t n_workers;
	uint16_t n_queues;
	uint16_t mtu;
	int socket;
	uint32_t caps;			/* SG_NET_CAP_* */
	struct sg_net_port_conf conf;	/* defaults filled in; conf.port unset */
	struct rte_ether_addr mac;
	uint32_t ip, mask, gateway;	/* network order */
	bool started;

	/* RSS mirror: the key in use, converted for rte_softrss_be(); the
	 * owner of each RETA entry; the hash share of each local port. */
	uint8_t rss_key[SG_NET_RSS_KEY_LEN] __rte_aligned(8); /* read as words */
	uint32_t rss_key_be[SG_NET_RSS_KEY_LEN / 4];
	uint32_t reta_size;		/* power of 2 */
	uint16_t *reta_owner;		/* entry -> worker */
	uint32_t *dport_hash;		/* 65536: hash of (0, 0, 0, dport) */

	struct rte_mempool *rx_pool[SG_NET_MAX_WORKERS];	/* per queue */
	struct rte_mempool *tx_pool[SG_NET_MAX_WORKERS];	/* per worker */
	struct rte_ring **ring;		/* [from * n_workers + to] */
	struct rte_ring *txring[SG_NET_MAX_WORKERS];	/* workers >= n_queues */
	struct sg_net_worker *worker[SG_NET_MAX_WORKERS];

	uint64_t pstat[SG_NET_PSTAT_MAX];	/* link and RSS facts */
};

/* An ARP cache entry. Open addressing, linear probing, keyed by ip. */
enum { ARP_FREE = 0, ARP_PENDING, ARP_REACHABLE };

struct net_arp_entry {
	uint32_t ip;			/* network order */
	uint8_t state;
	uint8_t tries;			/* requests sent while pending */
	uint16_t nheld;
	struct rte_ether_addr mac;
	uint64_t expire_ns;		/* reachable: end of life; pending: next retry */
	uint64_t refresh_ns;		/* reachable: last refresh request */
	struct rte_mbuf *held[NET_ARP_HOLD_MAX];	/* oldest first */
};

struct net_arp {
	struct net_arp_entry *e;
	uint32_t cap;			/* power of 2, >= 2 * max */
	uint32_t used;
	uint32_t max;
	uint32_t held;			/* packets held in all entries */
};

struct net_pmtu_entry {
	uint32_t dst;
	uint16_t mtu;			/* 0 = free */
	uint64_t expire_ns;
};

struct net_remote {
	uint32_t lip, rip;
	uint16_t rport;
	bool valid;
	uint32_t base;			/* hash of (rip, lip, rport, 0) */
};

struct sg_net_worker {
	struct sg_net_port *port;
	uint16_t idx;
	int32_t rxq;			/* our queue, or -1 */
	uint16_t txq;			/* queue we transmit on (ours or another's) */
	bool own_txq;
	bool soft_hash;			/* NIC hash disagreed once: hash in software */
	uint16_t ip_id;
	uint32_t rss_tick;
	uint64_t now_ns;
	uint64_t next_scan_ns;		/* next ARP / PMTU / reassembly scan */

	sg_net_tcp_input_cb tcp_cb;
	void *tcp_ctx;
	sg_net_pmtu_cb pmtu_cb;
	void *pmtu_ctx;

	struct rte_mempool *pool;	/* TX pool */

	uint32_t txn;			/* frames in txb */
	struct rte_mbuf *txb[NET_TXB_SIZE];

	uint16_t *steer_n;		/* [to] */
	struct rte_mbuf **steer;	/* [to * NET_BURST + i] */

	uint8_t garp_left;
	uint64_t garp_next_ns;

	struct net_arp arp;
	struct net_pmtu_entry *pmtu;
	uint32_t pmtu_mask;
	struct net_remote remote[NET_REMOTE_CACHE];

	struct rte_ip_frag_tbl *frag_tbl;
	struct rte_ip_frag_death_row frag_dr;

	uint64_t st[SG_NET_STAT_MAX] __rte_cache_aligned;
};

/* Counters have one writer (their worker) and are read by any thread
 * (sg_net_stats(), telemetry): a relaxed load, add and store, as
 * lib/telemetry does, so a reader never sees a torn value and the
 * writer pays no atomic read-modify-write. */
static inline void
net_count_add(struct sg_net_worker *w, unsigned i, uint64_t n)
{
	__atomic_store_n(&w->st[i], __atomic_load_n(&w->st[i], __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

#define NET_COUNT(w, name) net_count_add((w), SG_NET_STAT_##name, 1)
#define NET_COUNT_N(w, name, n) net_count_add((w), SG_NET_STAT_##name, (n))

/* A well-mixed 32-bit hash (murmur3's finaliser) for the small tables:
 * addresses of one subnet differ only in a few bits. */
static inline uint32_t
net_hash32(uint32_t v)
{
	v ^= v >> 16;
	v *= 0x85ebca6bu;
	v ^= v >> 13;
	v *= 0xc2b2ae35u;
	v ^= v >> 16;
	return v;
}

static inline bool
net_in_subnet(const struct sg_net_port *p, uint32_t ip)
{
	return ((ip ^ p->ip) & p->mask) == 0;
}

/* net_rss.c */
uint32_t net_rss_hash4(const struct sg_net_port *p, uint32_t src, uint32_t dst,
		       uint16_t sport, uint16_t dport);
uint32_t net_rss_hash2(const struct sg_net_port *p, uint32_t src, uint32_t dst);
int net_rss_tables(struct sg_net_port *p);	/* dport_hash, converted key */
static inline uint16_t
net_reta_owner(const struct sg_net_port *p, uint32_t hash)
{
	return p->reta_owner[hash & (p->reta_size - 1)];
}
uint16_t net_queue_of_worker(const struct sg_net_port *p, uint16_t w);

/* net_worker.c */
void net_txq_append(struct sg_net_worker *w, struct rte_mbuf *m);
void net_steer(struct sg_net_worker *w, uint16_t to, struct rte_mbuf *m);
void net_copy_to_all(struct sg_net_worker *w, const struct rte_mbuf *m);

/* net_arp.c */
int net_arp_init(struct sg_net_worker *w);
void net_arp_free(struct sg_net_worker *w);
void net_arp_input(struct sg_net_worker *w, struct rte_mbuf *m, bool copy);
void net_arp_timer(struct sg_net_worker *w);
void net_arp_garp(struct sg_net_worker *w);
struct net_arp_entry *net_arp_find(struct net_arp *t, uint32_t ip);
/* Sends m (data at the IPv4 header) to next hop nh: at once when
 * resolved, else held. Consumes m. Returns 0 or -errno (counted). */
int net_arp_output(struct sg_net_worker *w, struct rte_mbuf *m, uint32_t nh);

/* net_ipv4.c */
/* Validates the IPv4 header at ip of a packet with `avail` bytes from
 * there on. Returns 0 and the header and total lengths, or the
 * SG_NET_STAT_drop_* index saying why not. `cksum_ok`: the NIC already
 * checked the header checksum. Never reads past avail. */
int net_ipv4_check(const struct rte_ipv4_hdr *ip, uint32_t avail,
		   bool cksum_ok, uint32_t *hlen, uint32_t *tlen);
void net_ipv4_input(struct sg_net_worker *w, struct rte_mbuf *m, bool steered,
		    bool copy);
/* Prepends the IPv4 header to m (data at the L4 header) and sends it on.
 * Consumes m; returns 0 or -errno (counted). */
int net_ip_send(struct sg_net_worker *w, struct rte_mbuf *m, uint8_t proto,
		uint32_t src, uint32_t dst, bool df);
/* Puts the Ethernet header on m (data at the IPv4 header), fragmenting
 * first when longer than the MTU, and queues it. Consumes m. */
void net_eth_xmit(struct sg_net_worker *w, struct rte_mbuf *m,
		  const struct rte_ether_addr *dst);

/* net_icmp.c */
void net_icmp_input(struct sg_net_worker *w, struct rte_mbuf *m, uint32_t src,
		    bool copy);
int net_pmtu_init(struct sg_net_worker *w);
void net_pmtu_update(struct sg_net_worker *w, uint32_t dst, uint16_t mtu);
void net_pmtu_timer(struct sg_net_worker *w);

/* net_telemetry.c: the port closes; telemetry must stop reading it. */
void net_telemetry_forget(struct sg_net_port *p);

#endif /* SG_NET_INTERNAL_H */
