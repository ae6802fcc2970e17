/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_test: lib/net on a real DPDK port, driven by net_tap_test.sh.
 *
 *   net_test EAL-ARGS -- --port SPEC --workers N [--queues Q]
 *                        --ip A.B.C.D/P --peer A.B.C.D [--seconds S]
 *
 * Sets the port up, prints "READY mac=..", waits for SIGUSR1 (the script
 * moves the TAP into its namespace meanwhile), then runs N workers. Each
 * worker polls, runs its timer and flushes once per iteration; worker 0
 * sends the gratuitous ARPs and nothing else is sent until SIGUSR2. Then
 * worker 0 resolves the peer and the last worker opens a TCP connection
 * to the peer's closed port 9 from a local port it owns, so the peer's
 * RST must come back to it (through software steering when it has no
 * queue) and reach its TCP handler. On SIGTERM (or after --seconds) it prints
 * every counter as "stat NAME VALUE", "port NAME VALUE" and
 * "wstat W NAME VALUE" lines, plus "rst W N", and exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_tcp.h>

#include "sg_common.h"
#include "sg_net.h"

static atomic_int go, probe, quit;
static struct sg_net_port *port;
static uint16_t n_workers;
static uint32_t our_ip, peer_ip;
static struct sg_net_worker *workers[SG_NET_MAX_WORKERS];
static atomic_uint rst_seen[SG_NET_MAX_WORKERS];
static atomic_uint probes_sent[SG_NET_MAX_WORKERS];

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		atomic_store(&go, 1);
	else if (sig == SIGUSR2)
		atomic_store(&probe, 1);
	else
		atomic_store(&quit, 1);
}

struct wctx {
	uint16_t idx;
	uint16_t lport;		/* network order, the probe's local port */
};

static struct wctx wctx[SG_NET_MAX_WORKERS];

/* TCP handler: counts RSTs from the peer's port 9 to our probe port with
 * a correct checksum. */
static void
tcp_in(void *ctx, struct rte_mbuf *m, uint32_t src, uint32_t dst)
{
	struct wctx *c = ctx;
	const struct rte_tcp_hdr *th = rte_pktmbuf_mtod(m, const struct rte_tcp_hdr *);
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	bool ok = l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD ||
		  (l4 != RTE_MBUF_F_RX_L4_CKSUM_BAD &&
		   sg_net_l4_cksum(m, 0, src, dst, IPPROTO_TCP) == 0);

	if (rte_pktmbuf_data_len(m) >= sizeof(*th) && ok && src == peer_ip &&
	    dst == our_ip && th->src_port == htons(9) &&
	    th->dst_port == c->lport && (th->tcp_flags & RTE_TCP_RST_FLAG))
		atomic_fetch_add(&rst_seen[c->idx], 1);
	rte_pktmbuf_free(m);
}

/* A SYN to peer:9 from c->lport, checksum offloaded when the port can. */
static void
send_probe(struct sg_net_worker *w, struct wctx *c)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(sg_net_worker_pool(w));
	struct rte_tcp_hdr *th;

	if (m == NULL)
		return;
	th = (struct rte_tcp_hdr *)rte_pktmbuf_append(m, sizeof(*th));
	memset(th, 0, sizeof(*th));
	th->src_port = c->lport;
	th->dst_port = htons(9);
	th->sent_seq = htonl(0x5a5a0000u + c->idx);
	th->data_off = 5 << 4;
	th->tcp_flags = RTE_TCP_SYN_FLAG;
	th->rx_win = htons(65535);
	if (sg_net_port_caps(port) & SG_NET_CAP_TX_TCP_CKSUM) {
		m->l4_len = sizeof(*th);
		m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
		th->cksum = sg_net_phdr_cksum(our_ip, peer_ip, IPPROTO_TCP,
					      sizeof(*th));
	} else {
		th->cksum = sg_net_l4_cksum(m, 0, our_ip, peer_ip, IPPROTO_TCP);
	}
	if (sg_net_ip_output(w, m, our_ip, peer_ip) == 0)
		atomic_fetch_add(&probes_sent[c->idx], 1);
}

static int
worker_main(void *arg)
{
	struct wctx *c = arg;
	struct sg_net_worker *w;
	uint64_t next_timer = 0, next_probe = 0;
	unsigned idle = 0;
	bool resolving = false;
	int rc = sg_net_worker_create(port, c->idx, &w);

	if (rc != 0) {
		fprintf(stderr, "worker %u: create: %s\n", c->idx, strerror(-rc));
		atomic_store(&quit, 1);
		return rc;
	}
	workers[c->idx] = w;
	sg_net_worker_set_tcp(w, tcp_in, c);
	for (uint16_t p = (uint16_t)(40000 + 1000 * c->idx);; p++) {
		if (sg_net_port_owned(w, our_ip, htons(p), peer_ip, htons(9))) {
			c->lport = htons(p);
			break;
		}
	}
	while (!atomic_load(&quit)) {
		uint64_t now;
		unsigned n = sg_net_worker_poll(w);
		bool probing = atomic_load(&probe);

		if (c->idx == 0 && probing && !resolving) {
			sg_net_arp_resolve(w, peer_ip);
			resolving = true;
		}
		now = sg_clock_ns();
		if (now >= next_timer) {
			sg_net_worker_timer(w, now);
			next_timer = now + 10 * 1000 * 1000;
		}
		/* The last worker probes until the RST comes back, once a
		 * second, at most 10 times. */
		if (c->idx == n_workers - 1 && probing && now >= next_probe &&
		    atomic_load(&rst_seen[c->idx]) == 0 &&
		    atomic_load(&probes_sent[c->idx]) < 10) {
			send_probe(w, c);
			next_probe = now + 1000 * 1000 * 1000;
		}
		n += sg_net_worker_flush(w);
		/* Two cores are shared with other work: back off when idle. */
		if (n == 0 && ++idle > 1000)
			usleep(50);
		else if (n > 0)
			idle = 0;
	}
	return 0;
}

static int
parse_ip(const char *s, uint32_t *ip, uint8_t *prefix)
{
	char buf[32];
	char *slash;
	struct in_addr a;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash != NULL) {
		*slash = '\0';
		if (prefix == NULL)
			return -1;
		*prefix = (uint8_t)atoi(slash + 1);
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	*ip = a.s_addr;
	return 0;
}

static void
print_stats(void)
{
	struct sg_net_stats st;

	sg_net_port_link(port);
	if (sg_net_stats(port, &st) != 0)
		fprintf(stderr, "device stats unavailable\n");
	for (unsigned i = 0; i < SG_NET_STAT_MAX; i++)
		printf("stat %s %" PRIu64 "\n", sg_net_stat_name(i), st.w[i]);
	for (unsigned i = 0; i < SG_NET_PSTAT_MAX; i++)
		printf("port %s %" PRIu64 "\n", sg_net_port_stat_name(i), st.port[i]);
	for (uint16_t w = 0; w < n_workers; w++) {
		if (sg_net_worker_stats(port, w, &st) != 0)
			continue;
		for (unsigned i = 0; i < SG_NET_STAT_MAX; i++)
			if (st.w[i] != 0)
				printf("wstat %u %s %" PRIu64 "\n", w,
				       sg_net_stat_name(i), st.w[i]);
		printf("rst %u %u\n", w, atomic_load(&rst_seen[w]));
		printf("probes %u %u\n", w, atomic_load(&probes_sent[w]));
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "workers", required_argument, NULL, 'w' },
		{ "queues", required_argument, NULL, 'q' },
		{ "ip", required_argument, NULL, 'i' },
		{ "peer", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct sg_net_port_conf conf;
	struct rte_ether_addr mac;
	unsigned seconds = 120, waited = 0, lcore, i;
	int rc, o;

	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	argc -= rc;
	argv += rc;
	memset(&conf, 0, sizeof(conf));
	conf.n_workers = 1;
	conf.n_queues = 1;
	conf.rx_desc = 256;
	conf.tx_desc = 256;
	conf.rx_mbufs = 2048;
	conf.tx_mbufs = 2048;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'p': conf.port = optarg; break;
		case 'w': conf.n_workers = (uint16_t)atoi(optarg); break;
		case 'q': conf.n_queues = (uint16_t)atoi(optarg); break;
		case 'i':
			if (parse_ip(optarg, &conf.ip, &conf.prefix_len) != 0)
				return 2;
			break;
		case 'r':
			if (parse_ip(optarg, &peer_ip, NULL) != 0)
				return 2;
			break;
		case 's': seconds = (unsigned)atoi(optarg); break;
		default: return 2;
		}
	}
	n_workers = conf.n_workers;
	our_ip = conf.ip;
	if (rte_lcore_count() < n_workers + 1u) {
		fprintf(stderr, "need %u lcores\n", n_workers + 1u);
		return 2;
	}
	signal(SIGUSR1, on_signal);
	signal(SIGUSR2, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	rc = sg_net_port_init(&conf, &port);
	if (rc != 0) {
		fprintf(stderr, "port init: %s\n", strerror(-rc));
		return 1;
	}
	sg_net_port_mac(port, &mac);
	printf("READY mac=" RTE_ETHER_ADDR_PRT_FMT " queues=%u caps=%#x\n",
	       RTE_ETHER_ADDR_BYTES(&mac), sg_net_port_queues(port),
	       sg_net_port_caps(port));
	fflush(stdout);
	while (!atomic_load(&go) && !atomic_load(&quit) && waited++ < 600)
		usleep(100 * 1000);
	if (!atomic_load(&go)) {
		sg_net_port_close(port);
		return 1;
	}
	i = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (i == n_workers)
			break;
		wctx[i].idx = (uint16_t)i;
		rte_eal_remote_launch(worker_main, &wctx[i], lcore);
		i++;
	}
	for (unsigned s = 0; s < seconds * 10 && !atomic_load(&quit); s++)
		usleep(100 * 1000);
	atomic_store(&quit, 1);
	rc = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (rte_eal_wait_lcore(lcore) != 0)
			rc = 1;
	}
	print_stats();
	fflush(stdout);
	for (i = 0; i < n_workers; i++)
		sg_net_worker_destroy(workers[i]);
	sg_net_port_close(port);
	rte_eal_cleanup();
	return rc;
}
