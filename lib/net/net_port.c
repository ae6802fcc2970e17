/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port set-up: device, queues, mempools, steering rings, RSS key and RETA,
 * link state and counters. Runs on the main lcore; logs only here, at
 * init, never per packet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "net_internal.h"

RTE_LOG_REGISTER_DEFAULT(sg_net_logtype, INFO);

/* The key of Microsoft's RSS verification suite, also most NICs' default. */
static const uint8_t ms_rss_key[SG_NET_RSS_KEY_LEN] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
	0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
	0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
	0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
	0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

#define RSS_HF_WANTED (RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_IPV4 | \
		       RTE_ETH_RSS_FRAG_IPV4)

static bool
is_pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

#define DEFAULT(field, value) do { if (c->field == 0) c->field = (value); } while (0)

/* Fills defaults and checks every limit. 0 or -EINVAL. */
static int
conf_check(struct sg_net_port_conf *c)
{
	uint32_t mask;

	DEFAULT(n_queues, c->n_workers);
	DEFAULT(rx_desc, 1024);
	DEFAULT(tx_desc, 1024);
	DEFAULT(mtu, 1500);
	DEFAULT(mbuf_data_size, RTE_MBUF_DEFAULT_BUF_SIZE);
	DEFAULT(rx_mbufs, 2u * c->rx_desc + 2048);
	DEFAULT(tx_mbufs, c->tx_desc + 4096u);
	DEFAULT(ring_size, 1024);
	DEFAULT(arp_entries, 256);
	DEFAULT(arp_hold, 8);
	DEFAULT(arp_hold_total, 256);
	DEFAULT(arp_ttl_ms, 300000);
	DEFAULT(arp_retry_ms, 1000);
	DEFAULT(arp_retries, 3);
	DEFAULT(garp_count, 3);
	DEFAULT(garp_interval_ms, 1000);
	DEFAULT(frag_flows, 1024);
	DEFAULT(frag_ttl_ms, 2000);
	DEFAULT(pmtu_entries, 256);
	DEFAULT(pmtu_ttl_ms, 600000);
	DEFAULT(rss_sample, 64);

	if (c->n_workers < 1 || c->n_workers > SG_NET_MAX_WORKERS)
		return -EINVAL;
	if (c->n_queues > c->n_workers)
		c->n_queues = c->n_workers;
	if (c->rx_desc > 16384 || c->tx_desc > 16384)
		return -EINVAL;
	if (c->mtu < 68 || c->mtu > 9600)
		return -EINVAL;
	/* A whole frame fits in one mbuf: no scattered RX, and the fragment
	 * copies we build for large echo replies are single segments. */
	if (c->mbuf_data_size < RTE_PKTMBUF_HEADROOM + c->mtu +
	    RTE_ETHER_HDR_LEN + 4)
		return -EINVAL;
	if (c->rx_mbufs < c->rx_desc + 2u * NET_BURST || c->tx_mbufs < 256)
		return -EINVAL;
	if (c->prefix_len < 1 || c->prefix_len > 32 || c->ip == 0)
		return -EINVAL;
	mask = rte_cpu_to_be_32(~0u << (32 - c->prefix_len));
	if (c->gateway != 0 &&
	    (((c->gateway ^ c->ip) & mask) != 0 || c->gateway == c->ip))
		return -EINVAL;
	if (!is_pow2(c->ring_size) || c->ring_size > 65536)
		return -EINVAL;
	if (c->arp_hold > NET_ARP_HOLD_MAX || c->arp_entries > 32768)
		return -EINVAL;
	if (c->frag_flows > 65536 || c->frag_ttl_ms > 60000)
		return -EINVAL;
	if (!is_pow2(c->pmtu_entries) || c->link_wait_ms > 60000)
		return -EINVAL;
	return 0;
}

/* The port named by spec, probing it as a device when absent. */
static int
find_port(const char *spec, uint16_t *port_id)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	size_t n;
	uint16_t pid;

	if (spec == NULL || spec[0] == '\0') {
		RTE_ETH_FOREACH_DEV(pid) {
			*port_id = pid;
			return 0;
		}
		return -ENODEV;
	}
	n = strcspn(spec, ",");
	if (n == 0 || n >= sizeof(name))
		return -EINVAL;
	memcpy(name, spec, n);
	name[n] = '\0';
	if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
		return 0;
	if (rte_dev_probe(spec) != 0) {
		NET_LOG(ERR, "cannot probe %s\n", spec);
		return -ENODEV;
	}
	if (rte_eth_dev_get_port_by_name(name, port_id) != 0)
		return -ENODEV;
	return 0;
}

/* Writes the RETA (owners' queues), reads it back and counts what
 * differs. The owner table is ours and stays authoritative. */
static int
reta_program(struct sg_net_port *p, uint16_t nic_size, bool aligned)
{
	struct rte_eth_rss_reta_entry64 conf[NET_MAX_RETA / RTE_ETH_RETA_GROUP_SIZE];
	unsigned groups = nic_size / RTE_ETH_RETA_GROUP_SIZE;
	uint64_t diff = 0;
	int rc;

	memset(conf, 0, sizeof(conf));
	for (unsigned e = 0; e < nic_size; e++) {
		struct rte_eth_rss_reta_entry64 *g = &conf[e / RTE_ETH_RETA_GROUP_SIZE];

		g->mask = UINT64_MAX;
		g->reta[e % RTE_ETH_RETA_GROUP_SIZE] = aligned ?
			net_queue_of_worker(p, p->reta_owner[e]) :
			(uint16_t)(e % p->n_queues);
	}
	rc = rte_eth_dev_rss_reta_update(p->port_id, conf, nic_size);
	if (rc != 0) {
		NET_LOG(WARNING, "port %u: RETA update failed (%d)\n",
			p->port_id, rc);
		return rc;
	}
	struct rte_eth_rss_reta_entry64 back[NET_MAX_RETA / RTE_ETH_RETA_GROUP_SIZE];

	memset(back, 0, sizeof(back));
	for (unsigned g = 0; g < groups; g++)
		back[g].mask = UINT64_MAX;
	rc = rte_eth_dev_rss_reta_query(p->port_id, back, nic_size);
	if (rc != 0)
		return rc;
	for (unsigned e = 0; e < nic_size; e++) {
		unsigned g = e / RTE_ETH_RETA_GROUP_SIZE;
		unsigned i = e % RTE_ETH_RETA_GROUP_SIZE;

		if (back[g].reta[i] != conf[g].reta[i])
			diff++;
	}
	p->pstat[SG_NET_PSTAT_rss_reta_diff] = diff;
	return diff == 0 ? 0 : -EIO;
}

/* RSS: the key (ours, or the NIC's when it keeps its own) and the RETA
 * mirror. With RSS off, a software table of NET_SOFT_RETA entries. */
static int
rss_setup(struct sg_net_port *p, const struct rte_eth_dev_info *info,
	  bool rss)
{
	uint32_t size = NET_SOFT_RETA;
	bool aligned = false;
	bool verified = rss;
	int rc;

	if (rss && is_pow2(info->reta_size) && info->reta_size <= NET_MAX_RETA &&
	    info->reta_size >= p->n_workers) {
		size = info->reta_size;
		aligned = true;
	}
	p->reta_size = size;
	p->reta_owner = rte_zmalloc_socket("sg_net_reta", size * sizeof(uint16_t),
					   0, p->socket);
	if (p->reta_owner == NULL)
		return -ENOMEM;
	for (uint32_t e = 0; e < size; e++)
		p->reta_owner[e] = (uint16_t)(e % p->n_workers);

	if (rss) {
		uint8_t key[64];
		struct rte_eth_rss_conf rc_conf = {
			.rss_key = p->rss_key,
			.rss_key_len = SG_NET_RSS_KEY_LEN,
			.rss_hf = RSS_HF_WANTED & info->flow_type_rss_offloads,
		};

		/* Not every driver takes the key from the configure step.
		 * A driver reporting no key size (net_null) gets ours. */
		if ((info->hash_key_size == SG_NET_RSS_KEY_LEN ||
		     info->hash_key_size == 0) &&
		    rte_eth_dev_rss_hash_update(p->port_id, &rc_conf) != 0)
			NET_LOG(WARNING, "port %u refused our RSS key\n",
				p->port_id);
		rc_conf.rss_key = key;
		rc_conf.rss_key_len = sizeof(key);
		if (rte_eth_dev_rss_hash_conf_get(p->port_id, &rc_conf) == 0 &&
		    rc_conf.rss_key_len >= SG_NET_RSS_KEY_LEN) {
			if (memcmp(key, p->rss_key, SG_NET_RSS_KEY_LEN) != 0) {
				/* The NIC hashes with its key: mirror that. */
				NET_LOG(WARNING, "port %u keeps its own RSS key\n",
					p->port_id);
				memcpy(p->rss_key, key, SG_NET_RSS_KEY_LEN);
				verified = false;
			}
		} else {
			verified = false;
		}
		if (info->reta_size > 0 && info->reta_size <= NET_MAX_RETA &&
		    info->reta_size % RTE_ETH_RETA_GROUP_SIZE == 0) {
			if (reta_program(p, info->reta_size, aligned) != 0)
				verified = false;
		} else {
			verified = false;
		}
		p->caps |= SG_NET_CAP_RSS;
		if (verified)
			p->caps |= SG_NET_CAP_RSS_VERIFIED;
	}
	rc = net_rss_tables(p);
	return rc;
}

static int
pools_create(struct sg_net_port *p)
{
	const struct sg_net_port_conf *c = &p->conf;
	char name[RTE_MEMPOOL_NAMESIZE];

	for (uint16_t q = 0; q < p->n_queues; q++) {
		snprintf(name, sizeof(name), "sgn%u_rx%u", p->port_id, q);
		p->rx_pool[q] = rte_pktmbuf_pool_create(name, c->rx_mbufs,
				RTE_MIN(256u, c->rx_mbufs / 8), 0,
				c->mbuf_data_size, p->socket);
		if (p->rx_pool[q] == NULL)
			return -ENOMEM;
	}
	for (uint16_t w = 0; w < p->n_workers; w++) {
		snprintf(name, sizeof(name), "sgn%u_tx%u", p->port_id, w);
		p->tx_pool[w] = rte_pktmbuf_pool_create(name, c->tx_mbufs,
				RTE_MIN(256u, c->tx_mbufs / 8), 0,
				c->mbuf_data_size, p->socket);
		if (p->tx_pool[w] == NULL)
			return -ENOMEM;
	}
	return 0;
}

static int
rings_create(struct sg_net_port *p)
{
	char name[RTE_RING_NAMESIZE];
	unsigned n = p->n_workers;

	p->ring = rte_zmalloc_socket("sg_net_rings", n * n * sizeof(*p->ring),
				     0, p->socket);
	if (p->ring == NULL)
		return -ENOMEM;
	for (unsigned f = 0; f < n; f++) {
		for (unsigned t = 0; t < n; t++) {
			if (f == t)
				continue;
			snprintf(name, sizeof(name), "sgn%u_r%u_%u",
				 p->port_id, f, t);
			p->ring[f * n + t] = rte_ring_create(name,
				p->conf.ring_size, p->socket,
				RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (p->ring[f * n + t] == NULL)
				return -ENOMEM;
		}
	}
	for (unsigned w = p->n_queues; w < n; w++) {
		snprintf(name, sizeof(name), "sgn%u_t%u", p->port_id, w);
		p->txring[w] = rte_ring_create(name, p->conf.ring_size,
				p->socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (p->txring[w] == NULL)
			return -ENOMEM;
	}
	return 0;
}

static void
ring_drain_free(struct rte_ring *r)
{
	void *obj;

	if (r == NULL)
		return;
	while (rte_ring_dequeue(r, &obj) == 0)
		rte_pktmbuf_free((struct rte_mbuf *)((uintptr_t)obj &
						     ~NET_MSG_COPY));
	rte_ring_free(r);
}

static int
dev_setup(struct sg_net_port *p, const struct rte_eth_dev_info *info,
	  bool *rss)
{
	struct rte_eth_conf ec;
	struct rte_eth_rxconf rxc = info->default_rxconf;
	struct rte_eth_txconf txc = info->default_txconf;
	uint64_t rx_off, tx_off, hf;
	uint16_t rxd = p->conf.rx_desc, txd = p->conf.tx_desc;
	int rc;

	hf = RSS_HF_WANTED & info->flow_type_rss_offloads;
	*rss = p->n_queues > 1 && (hf & RTE_ETH_RSS_NONFRAG_IPV4_TCP) != 0;

	rx_off = (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
		  (*rss ? RTE_ETH_RX_OFFLOAD_RSS_HASH : 0)) &
		 info->rx_offload_capa;
	tx_off = (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
		  RTE_ETH_TX_OFFLOAD_MULTI_SEGS) & info->tx_offload_capa;

	memset(&ec, 0, sizeof(ec));
	ec.rxmode.mtu = p->conf.mtu;
	ec.rxmode.offloads = rx_off;
	ec.txmode.offloads = tx_off;
	if (*rss) {
		ec.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		if (info->hash_key_size == SG_NET_RSS_KEY_LEN) {
			ec.rx_adv_conf.rss_conf.rss_key = p->rss_key;
			ec.rx_adv_conf.rss_conf.rss_key_len = SG_NET_RSS_KEY_LEN;
		}
		ec.rx_adv_conf.rss_conf.rss_hf = hf;
	}
	rc = rte_eth_dev_configure(p->port_id, p->n_queues, p->n_queues, &ec);
	if (rc != 0) {
		NET_LOG(ERR, "port %u: configure failed (%d)\n", p->port_id, rc);
		return rc;
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &rxd, &txd);
	if (rc != 0)
		return rc;
	rc = pools_create(p);
	if (rc != 0)
		return rc;
	rxc.offloads = rx_off;
	txc.offloads = tx_off;
	for (uint16_t q = 0; q < p->n_queues; q++) {
		rc = rte_eth_rx_queue_setup(p->port_id, q, rxd, p->socket, &rxc,
					    p->rx_pool[q]);
		if (rc != 0)
			return rc;
		rc = rte_eth_tx_queue_setup(p->port_id, q, txd, p->socket, &txc);
		if (rc != 0)
			return rc;
	}
	/* Some drivers (TAP) apply the MTU only through set_mtu. */
	rc = rte_eth_dev_set_mtu(p->port_id, p->conf.mtu);
	if (rc != 0 && rc != -ENOTSUP)
		NET_LOG(WARNING, "port %u: set MTU %u failed (%d)\n",
			p->port_id, p->conf.mtu, rc);

	if (tx_off & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)
		p->caps |= SG_NET_CAP_TX_IPV4_CKSUM;
	if (tx_off & RTE_ETH_TX_OFFLOAD_TCP_CKSUM)
		p->caps |= SG_NET_CAP_TX_TCP_CKSUM;
	if (tx_off & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		p->caps |= SG_NET_CAP_TX_MULTI_SEG;
	if (rx_off & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM)
		p->caps |= SG_NET_CAP_RX_IPV4_CKSUM;
	if (rx_off & RTE_ETH_RX_OFFLOAD_TCP_CKSUM)
		p->caps |= SG_NET_CAP_RX_TCP_CKSUM;
	return 0;
}

static void
link_wait(struct sg_net_port *p)
{
	uint64_t end = rte_get_timer_cycles() +
		       rte_get_timer_hz() / 1000 * p->conf.link_wait_ms;

	while (sg_net_port_link(p) == 0 && rte_get_timer_cycles() < end)
		rte_delay_ms(50);
}

int
sg_net_port_init(const struct sg_net_port_conf *conf, struct sg_net_port **out)
{
	struct sg_net_port_conf c = *conf;
	struct rte_eth_dev_info info;
	struct sg_net_port *p = NULL;
	uint16_t port_id;
	bool rss;
	int rc;

	*out = NULL;
	rc = conf_check(&c);
	if (rc != 0)
		return rc;
	rc = find_port(conf->port, &port_id);
	if (rc != 0)
		return rc;
	rc = rte_eth_dev_info_get(port_id, &info);
	if (rc != 0)
		return rc;

	p = rte_zmalloc("sg_net_port", sizeof(*p), RTE_CACHE_LINE_SIZE);
	if (p == NULL)
		return -ENOMEM;
	p->port_id = port_id;
	p->socket = rte_eth_dev_socket_id(port_id);
	if (p->socket < 0)
		p->socket = (int)rte_socket_id();
	p->n_workers = c.n_workers;
	p->n_queues = RTE_MIN(info.max_rx_queues, info.max_tx_queues);
	p->n_queues = RTE_MIN(p->n_queues, c.n_queues);
	if (p->n_queues == 0) {
		rc = -ENODEV;
		goto fail;
	}
	c.n_queues = p->n_queues;
	c.port = NULL;
	p->conf = c;
	p->mtu = c.mtu;
	p->ip = c.ip;
	p->mask = rte_cpu_to_be_32(~0u << (32 - c.prefix_len));
	p->gateway = c.gateway;
	memcpy(p->rss_key, c.rss_key ? c.rss_key : ms_rss_key,
	       SG_NET_RSS_KEY_LEN);
	p->conf.rss_key = NULL;

	rc = dev_setup(p, &info, &rss);
	if (rc != 0)
		goto fail;
	rc = rings_create(p);
	if (rc != 0)
		goto fail;
	rc = rte_eth_macaddr_get(port_id, &p->mac);
	if (rc != 0)
		goto fail;
	rc = rte_eth_dev_start(port_id);
	if (rc != 0) {
		NET_LOG(ERR, "port %u: start failed (%d)\n", port_id, rc);
		goto fail;
	}
	p->started = true;
	rc = rss_setup(p, &info, rss);
	if (rc != 0)
		goto fail;
	if (c.link_wait_ms > 0)
		link_wait(p);
	else
		sg_net_port_link(p);
	NET_LOG(INFO, "port %u: %u queues for %u workers, RSS %s, caps %#x\n",
		port_id, p->n_queues, p->n_workers,
		(p->caps & SG_NET_CAP_RSS) ? "on" : "off", p->caps);
	*out = p;
	return 0;
fail:
	sg_net_port_close(p);
	return rc;
}

void
sg_net_port_close(struct sg_net_port *p)
{
	unsigned n;

	if (p == NULL)
		return;
	net_telemetry_forget(p);
	n = p->n_workers;
	if (p->started) {
		rte_eth_dev_stop(p->port_id);
		rte_eth_dev_close(p->port_id);
	}
	if (p->ring != NULL) {
		for (unsigned i = 0; i < n * n; i++)
			ring_drain_free(p->ring[i]);
		rte_free(p->ring);
	}
	for (unsigned w = 0; w < SG_NET_MAX_WORKERS; w++) {
		ring_drain_free(p->txring[w]);
		rte_mempool_free(p->rx_pool[w]);
		rte_mempool_free(p->tx_pool[w]);
	}
	rte_free(p->reta_owner);
	rte_free(p->dport_hash);
	rte_free(p);
}

uint16_t
sg_net_port_id(const struct sg_net_port *p)
{
	return p->port_id;
}

uint16_t
sg_net_port_queues(const struct sg_net_port *p)
{
	return p->n_queues;
}

uint16_t
sg_net_port_mtu(const struct sg_net_port *p)
{
	return p->mtu;
}

uint32_t
sg_net_port_caps(const struct sg_net_port *p)
{
	return p->caps;
}

void
sg_net_port_mac(const struct sg_net_port *p, struct rte_ether_addr *mac)
{
	*mac = p->mac;
}

int
sg_net_port_link(struct sg_net_port *p)
{
	struct rte_eth_link link;
	uint64_t up;
	int rc;

	memset(&link, 0, sizeof(link));
	rc = rte_eth_link_get_nowait(p->port_id, &link);
	if (rc != 0)
		return rc;
	up = link.link_status == RTE_ETH_LINK_UP;
	if (up != p->pstat[SG_NET_PSTAT_link_up])
		p->pstat[SG_NET_PSTAT_link_changes]++;
	p->pstat[SG_NET_PSTAT_link_up] = up;
	p->pstat[SG_NET_PSTAT_link_speed] = up ? link.link_speed : 0;
	return (int)up;
}

/* ------------------------------------------------------------------ */
/* Counters                                                            */
/* ------------------------------------------------------------------ */

static const char *const stat_names[] = {
#define NAME_(name, help) #name,
	SG_NET_STATS(NAME_)
};
static const char *const stat_helps[] = {
#define HELP_(name, help) help,
	SG_NET_STATS(HELP_)
};
static const char *const pstat_names[] = {
	SG_NET_PORT_STATS(NAME_)
};
static const char *const pstat_helps[] = {
	SG_NET_PORT_STATS(HELP_)
#undef NAME_
#undef HELP_
};

const char *
sg_net_stat_name(unsigned i)
{
	return i < SG_NET_STAT_MAX ? stat_names[i] : NULL;
}

const char *
sg_net_stat_help(unsigned i)
{
	return i < SG_NET_STAT_MAX ? stat_helps[i] : NULL;
}

const char *
sg_net_port_stat_name(unsigned i)
{
	return i < SG_NET_PSTAT_MAX ? pstat_names[i] : NULL;
}

const char *
sg_net_port_stat_help(unsigned i)
{
	return i < SG_NET_PSTAT_MAX ? pstat_helps[i] : NULL;
}

/* Counters are written by their worker with relaxed atomic stores
 * (net_count_add()); relaxed loads see whole values. */
static void
add_worker(const struct sg_net_worker *w, struct sg_net_stats *out)
{
	for (unsigned i = 0; i < SG_NET_STAT_MAX; i++)
		out->w[i] += __atomic_load_n(&w->st[i], __ATOMIC_RELAXED);
}

int
sg_net_worker_stats(const struct sg_net_port *p, uint16_t idx,
		    struct sg_net_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (idx >= p->n_workers || p->worker[idx] == NULL)
		return -EINVAL;
	add_worker(p->worker[idx], out);
	return 0;
}

int
sg_net_stats(struct sg_net_port *p, struct sg_net_stats *out)
{
	struct rte_eth_stats es;
	int rc;

	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < p->n_workers; i++) {
		const struct sg_net_worker *w =
			__atomic_load_n(&p->worker[i], __ATOMIC_ACQUIRE);

		if (w != NULL)
			add_worker(w, out);
	}
	for (unsigned i = 0; i < SG_NET_PSTAT_MAX; i++)
		out->port[i] = p->pstat[i];
	rc = rte_eth_stats_get(p->port_id, &es);
	if (rc != 0)
		return rc;
	out->port[SG_NET_PSTAT_ipackets] = es.ipackets;
	out->port[SG_NET_PSTAT_opackets] = es.opackets;
	out->port[SG_NET_PSTAT_ibytes] = es.ibytes;
	out->port[SG_NET_PSTAT_obytes] = es.obytes;
	out->port[SG_NET_PSTAT_imissed] = es.imissed;
	out->port[SG_NET_PSTAT_ierrors] = es.ierrors;
	out->port[SG_NET_PSTAT_oerrors] = es.oerrors;
	out->port[SG_NET_PSTAT_rx_nombuf] = es.rx_nombuf;
	return 0;
}

int
sg_net_xstats(const struct sg_net_port *p, struct sg_net_xstat *xs, unsigned n)
{
	struct rte_eth_xstat_name *names = NULL;
	struct rte_eth_xstat *vals = NULL;
	int total, rc;

	total = rte_eth_xstats_get_names(p->port_id, NULL, 0);
	if (total < 0)
		return total;
	if (n == 0 || total == 0)
		return total;
	names = calloc((size_t)total, sizeof(*names));
	vals = calloc((size_t)total, sizeof(*vals));
	if (names == NULL || vals == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = rte_eth_xstats_get_names(p->port_id, names, (unsigned)total);
	if (rc < 0)
		goto fail;
	rc = rte_eth_xstats_get(p->port_id, vals, (unsigned)total);
	if (rc < 0)
		goto fail;
	total = RTE_MIN(total, rc);
	for (int i = 0; i < total && (unsigned)i < n; i++) {
		uint64_t id = vals[i].id;

		snprintf(xs[i].name, sizeof(xs[i].name), "%s",
			 id < (uint64_t)total ? names[id].name : "?");
		xs[i].value = vals[i].value;
	}
	rc = total;
fail:
	free(names);
	free(vals);
	return rc;
}
