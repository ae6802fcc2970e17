/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_net: arbitrary Ethernet frames into lib/net's receive path.
 *
 * One net_null port (its RX is never polled: frames come in through
 * sg_net_worker_input), one queue, two workers, so steering, ARP copies and
 * the TX hand-over run too. Input layout, repeated:
 *   byte 0   bit 0-1 worker, bit 2 fix the IPv4 header checksum, bit 3
 *            make the IPv4 destination ours, bit 4 fix the ICMP checksum,
 *            bit 5 claim an RSS hash (byte 1..4 of the frame's hash),
 *            bit 6 advance the clock by a second first
 *   byte 1-2 frame length (big endian, capped at 1600)
 *   ...      the frame (its Ethernet destination becomes ours unless odd)
 * After each frame both workers poll and flush.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "sg_common.h"
#include "sg_net.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sg_net_port *port;
static struct sg_net_worker *w[2];
static struct rte_mempool *pool;
static struct rte_ether_addr mac;
static uint64_t now;

static uint32_t
ip4(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return rte_cpu_to_be_32((uint32_t)a << 24 | (uint32_t)b << 16 |
				(uint32_t)c << 8 | d);
}

static void
tcp_drop(void *ctx, struct rte_mbuf *m, uint32_t src, uint32_t dst)
{
	(void)ctx;
	(void)src;
	(void)dst;
	rte_pktmbuf_free(m);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = { (*argv)[0], "--no-huge", "-m", "256", "--no-pci",
			"--no-shconf", "--log-level=1", "--file-prefix=sgfuzznet",
			NULL };
	struct sg_net_port_conf c;

	(void)argc;
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0)
		abort();
	pool = rte_pktmbuf_pool_create("fuzz_pool", 8192, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	memset(&c, 0, sizeof(c));
	c.port = "net_null_fuzz";
	c.n_workers = 2;
	c.n_queues = 1;
	c.rx_desc = 64;
	c.tx_desc = 64;
	c.rx_mbufs = 512;
	c.tx_mbufs = 8192;
	c.ip = ip4(10, 0, 0, 1);
	c.prefix_len = 24;
	c.gateway = ip4(10, 0, 0, 254);
	c.frag_flows = 64;
	if (pool == NULL || sg_net_port_init(&c, &port) != 0)
		abort();
	for (uint16_t i = 0; i < 2; i++) {
		if (sg_net_worker_create(port, i, &w[i]) != 0)
			abort();
		sg_net_worker_set_tcp(w[i], tcp_drop, NULL);
	}
	sg_net_port_mac(port, &mac);
	now = sg_clock_ns();
	return 0;
}

static void
fixups(uint8_t *f, size_t len, uint8_t flags)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + 14);
	size_t hl;

	if (len >= 6 && !(f[0] & 1))
		memcpy(f, &mac, 6);
	if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00)
		return;
	hl = (size_t)(ip->version_ihl & 0x0f) * 4;
	if (flags & 0x08)
		ip->dst_addr = ip4(10, 0, 0, 1);
	if ((flags & 0x10) && hl >= 20 && len >= 14 + hl + 4) {
		uint8_t *icmp = f + 14 + hl;
		size_t n = len - 14 - hl;

		icmp[2] = icmp[3] = 0;
		uint16_t s = (uint16_t)~rte_raw_cksum(icmp, n);

		memcpy(icmp + 2, &s, 2);
	}
	if ((flags & 0x04) && hl >= 20 && len >= 14 + hl) {
		ip->hdr_checksum = 0;
		ip->hdr_checksum = (uint16_t)~rte_raw_cksum(ip, hl);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	while (size >= 3) {
		uint8_t flags = data[0];
		size_t len = (size_t)(data[1] << 8 | data[2]);
		struct rte_mbuf *m;
		uint8_t *f;

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		if (len > 1600)
			len = 1600;
		m = rte_pktmbuf_alloc(pool);
		if (m == NULL)
			abort();
		f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
		if (len > 0)
			memcpy(f, data, len);
		fixups(f, len, flags);
		if ((flags & 0x20) && len >= 5) {
			m->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
			memcpy(&m->hash.rss, f + 1, 4);
		}
		data += len;
		size -= len;
		if (flags & 0x40) {
			now += 1000 * 1000 * 1000;
			sg_net_worker_timer(w[0], now);
			sg_net_worker_timer(w[1], now);
		}
		sg_net_worker_input(w[(flags & 3) % 2], &m, 1);
		/* Twice: steered packets, then what they caused. Worker 0's
		 * poll also takes net_null's dummy frames (dropped: they are
		 * not for our MAC). */
		for (unsigned r = 0; r < 2; r++) {
			sg_net_worker_poll(w[1]);
			sg_net_worker_flush(w[1]);
			sg_net_worker_poll(w[0]);
			sg_net_worker_flush(w[0]);
		}
	}
	return 0;
}
