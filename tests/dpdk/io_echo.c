/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * io_echo: an echo service on lib/io, for the interop tests
 * (io_tap_test.sh) and the TCP benchmark (scripts/bench-tcp.sh).
 *
 *   io_echo EAL-ARGS -- --ip A.B.C.D[/P] --listen PORT
 *           [--mode dpdk|kernel] [--port SPEC] [--workers N] [--queues Q]
 *           [--gateway A.B.C.D] [--seconds S] [--busy]
 *           [--rto-min MS] [--rto-max MS] [--data-retries N]
 *           [--snd-buf BYTES] [--rcv-buf BYTES] [--high BYTES]
 *           [--mbufs N] [--max-conns N] [--no-crc]
 *
 * Every worker listens on ip:PORT and sends back what each connection
 * sends (the received mbufs are handed to the output unchanged). When a
 * connection's output backlog passes --high it stops reading until the
 * backlog drains (pause_read / writable), so a client that stops reading
 * pins bounded memory. Each connection keeps a CRC-32 (IEEE, as
 * Python's zlib.crc32; --no-crc: 0, for benchmarks that measure the
 * transport) and a byte count of what it received; when it ends the
 * worker prints
 *
 *   conn W PEER:PORT bytes=N crc=XXXXXXXX status=S
 *
 * Signals: SIGUSR2 prints one line
 *
 *   mem streams=N paused=N io_inuse=N rx_inuse=N tx_inuse=N heap=BYTES
 *       mbuf=BYTES
 *
 * (mbufs in use in the io pools, the port's RX and TX pools; heap from
 * mallinfo2; mbuf: one mbuf's size with its headers). SIGTERM or
 * --seconds: prints "stat tcp NAME V", "stat net NAME V", "stat io NAME
 * V" lines (every worker summed; tcp and net in dpdk mode), then "END".
 * Telemetry (dpdk mode): /shardgate/port and /shardgate/tcp.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "sg_common.h"
#include "sg_io.h"
#include "sg_net.h"
#include "sg_tcp.h"

#define MAX_WORKERS 8

static struct {
	bool dpdk;
	const char *port;
	unsigned workers, queues;
	uint32_t ip, gateway;
	uint8_t prefix_len;
	uint16_t listen_port;
	unsigned seconds;
	bool busy;
	uint64_t rto_min_ms, rto_max_ms;
	uint32_t data_retries;
	uint32_t snd_buf, rcv_buf;
	size_t high;
	unsigned mbufs;
	uint32_t max_conns;
	bool no_crc;
} opt = {
	.workers = 1,
	.prefix_len = 24,
	.seconds = 600,
	.high = 1 << 20,
	.mbufs = 16383,
	.max_conns = 16384,
};

static atomic_int quit, release, dump_mem;
static struct sg_net_port *port;
static struct sg_io_dpdk_conf dconf;

/* One echo connection (from a per-worker array: the heap figure stays
 * the transport's own). */
struct econn {
	struct sg_io_stream *s;
	struct worker *wk;
	uint32_t crc;
	uint64_t bytes;
	bool paused;
	struct econn *next_free;
};

struct worker {
	unsigned index;
	struct rte_mempool *pool;
	struct sg_io_worker *io;
	struct sg_io_listener *l;
	struct econn *conns;
	struct econn *free_conns;
	atomic_int ready;		/* 1 running, -1 failed */
	atomic_uint streams, paused;
	struct sg_io_stats final;	/* copied before destroy */
};

static struct worker workers[MAX_WORKERS];

static uint32_t crc_table[256];

static void
crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t
crc_update(uint32_t crc, const unsigned char *p, size_t n)
{
	crc = ~crc;
	while (n-- > 0)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void
on_signal(int sig)
{
	if (sig == SIGUSR2)
		atomic_store(&dump_mem, 1);
	else
		atomic_store(&quit, 1);
}

/* ---- the echo service ---- */

static void
echo_data(struct sg_io_stream *s, void *arg, struct rte_mbuf *m)
{
	struct econn *e = arg;

	for (struct rte_mbuf *x = m; x != NULL && !opt.no_crc; x = x->next)
		e->crc = crc_update(e->crc, rte_pktmbuf_mtod(x, const unsigned char *),
				    x->data_len);
	e->bytes += m->pkt_len;
	if (sg_io_send(s, m) != 0)
		return;
	if (!e->paused && sg_io_backlog(s) > opt.high) {
		e->paused = true;
		atomic_fetch_add_explicit(&e->wk->paused, 1, memory_order_relaxed);
		sg_io_pause_read(s, true);
	}
}

static void
echo_writable(struct sg_io_stream *s, void *arg)
{
	struct econn *e = arg;

	if (e->paused) {
		e->paused = false;
		atomic_fetch_sub_explicit(&e->wk->paused, 1, memory_order_relaxed);
		sg_io_pause_read(s, false);
	}
}

static void
echo_closed(struct sg_io_stream *s, void *arg, int status)
{
	struct econn *e = arg;
	struct worker *wk = e->wk;
	struct sockaddr_in peer;
	char ip[INET_ADDRSTRLEN];

	sg_io_stream_addrs(s, NULL, &peer);
	inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip));
	printf("conn %u %s:%u bytes=%llu crc=%08x status=%d\n", wk->index, ip,
	       ntohs(peer.sin_port), (unsigned long long)e->bytes, e->crc, status);
	if (e->paused)
		atomic_fetch_sub_explicit(&wk->paused, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&wk->streams, 1, memory_order_relaxed);
	e->s = NULL;
	e->next_free = wk->free_conns;
	wk->free_conns = e;
}

static const struct sg_io_stream_cbs echo_cbs = {
	.data = echo_data,
	.writable = echo_writable,
	.closed = echo_closed,
};

static void
echo_accept(struct sg_io_listener *l, void *arg, struct sg_io_stream *s)
{
	struct worker *wk = arg;
	struct econn *e = wk->free_conns;

	if (e == NULL)
		return;		/* no callbacks: lib/io closes it */
	wk->free_conns = e->next_free;
	memset(e, 0, sizeof(*e));
	e->s = s;
	e->wk = wk;
	sg_io_stream_set_cbs(s, &echo_cbs, e);
	sg_io_set_watermarks(s, opt.high / 4, opt.high);
	atomic_fetch_add_explicit(&wk->streams, 1, memory_order_relaxed);
}

static int
worker_main(void *arg)
{
	struct worker *wk = arg;
	struct sg_io_worker_conf wc = {
		.mode = opt.dpdk ? SG_IO_DPDK : SG_IO_KERNEL,
		.lcore = rte_lcore_id(),
		.index = wk->index,
		.pool = wk->pool,
		.max_streams = opt.max_conns,
		.read_burst = 16,
		.dpdk = opt.dpdk ? &dconf : NULL,
	};
	struct sockaddr_in a = { .sin_family = AF_INET };
	int rc;

	wk->io = sg_io_worker_create(&wc);
	if (wk->io == NULL) {
		fprintf(stderr, "worker %u: %s\n", wk->index, rte_strerror(rte_errno));
		atomic_store(&wk->ready, -1);
		return -1;
	}
	a.sin_addr.s_addr = opt.ip;
	a.sin_port = htons(opt.listen_port);
	rc = sg_io_listen(wk->io, &a, 1024, echo_accept, wk, &wk->l);
	if (rc != 0) {
		fprintf(stderr, "worker %u: listen: %s\n", wk->index, strerror(-rc));
		atomic_store(&wk->ready, -1);
		sg_io_worker_destroy(wk->io);
		return -1;
	}
	atomic_store(&wk->ready, 1);
	while (!atomic_load_explicit(&release, memory_order_relaxed)) {
		sg_io_worker_poll(wk->io, opt.busy ? 0 : SG_NS_PER_MS);
		sg_io_worker_flush(wk->io);
	}
	sg_io_worker_stats(wk->io, &wk->final);
	sg_io_worker_destroy(wk->io);
	return 0;
}

/* ---- set-up and reports ---- */

static int
parse_cidr(const char *s, uint32_t *ip, uint8_t *plen)
{
	char buf[32];
	char *slash;
	struct in_addr a;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash != NULL) {
		*slash = '\0';
		*plen = (uint8_t)atoi(slash + 1);
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	*ip = a.s_addr;
	return 0;
}

static int
parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "mode", 1, NULL, 'm' }, { "port", 1, NULL, 'p' },
		{ "workers", 1, NULL, 'w' }, { "queues", 1, NULL, 'q' },
		{ "ip", 1, NULL, 'i' }, { "gateway", 1, NULL, 'g' },
		{ "listen", 1, NULL, 'l' }, { "seconds", 1, NULL, 's' },
		{ "busy", 0, NULL, 'b' }, { "rto-min", 1, NULL, 'r' },
		{ "rto-max", 1, NULL, 'R' }, { "data-retries", 1, NULL, 'd' },
		{ "snd-buf", 1, NULL, 'S' }, { "rcv-buf", 1, NULL, 'V' },
		{ "high", 1, NULL, 'h' }, { "mbufs", 1, NULL, 'n' },
		{ "max-conns", 1, NULL, 'c' }, { "no-crc", 0, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	uint8_t dummy;

	opt.dpdk = true;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'm': opt.dpdk = strcmp(optarg, "kernel") != 0; break;
		case 'p': opt.port = optarg; break;
		case 'w': opt.workers = (unsigned)atoi(optarg); break;
		case 'q': opt.queues = (unsigned)atoi(optarg); break;
		case 'i':
			if (parse_cidr(optarg, &opt.ip, &opt.prefix_len) != 0)
				return -1;
			break;
		case 'g':
			if (parse_cidr(optarg, &opt.gateway, &dummy) != 0)
				return -1;
			break;
		case 'l': opt.listen_port = (uint16_t)atoi(optarg); break;
		case 's': opt.seconds = (unsigned)atoi(optarg); break;
		case 'b': opt.busy = true; break;
		case 'r': opt.rto_min_ms = strtoull(optarg, NULL, 10); break;
		case 'R': opt.rto_max_ms = strtoull(optarg, NULL, 10); break;
		case 'd': opt.data_retries = (uint32_t)atoi(optarg); break;
		case 'S': opt.snd_buf = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'V': opt.rcv_buf = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'h': opt.high = strtoull(optarg, NULL, 10); break;
		case 'n': opt.mbufs = (unsigned)atoi(optarg); break;
		case 'c': opt.max_conns = (uint32_t)atoi(optarg); break;
		case 'C': opt.no_crc = true; break;
		default: return -1;
		}
	}
	if (opt.ip == 0 || opt.listen_port == 0 || opt.workers == 0 ||
	    opt.workers > MAX_WORKERS || (opt.dpdk && opt.port == NULL))
		return -1;
	return 0;
}

static int
start_port(void)
{
	struct sg_net_port_conf pc = { 0 };
	struct rte_ether_addr mac;
	int rc;

	pc.port = opt.port;
	pc.n_workers = (uint16_t)opt.workers;
	pc.n_queues = (uint16_t)(opt.queues != 0 ? opt.queues : opt.workers);
	pc.ip = opt.ip;
	pc.prefix_len = opt.prefix_len;
	pc.gateway = opt.gateway;
	pc.rx_mbufs = 8192;
	rc = sg_net_port_init(&pc, &port);
	if (rc != 0) {
		fprintf(stderr, "port %s: %s\n", opt.port, strerror(-rc));
		return rc;
	}
	sg_net_port_mac(port, &mac);
	printf("READY mac=" RTE_ETHER_ADDR_PRT_FMT " queues=%u workers=%u\n",
	       RTE_ETHER_ADDR_BYTES(&mac), sg_net_port_queues(port), opt.workers);

	dconf.port = port;
	dconf.ip = opt.ip;
	sg_tcp_conf_init(&dconf.tcp);
	dconf.tcp.max_conns = opt.max_conns;
	if (opt.rto_min_ms != 0)
		dconf.tcp.rto_min_ns = opt.rto_min_ms * SG_NS_PER_MS;
	if (opt.rto_max_ms != 0)
		dconf.tcp.rto_max_ns = opt.rto_max_ms * SG_NS_PER_MS;
	if (opt.data_retries != 0)
		dconf.tcp.data_retries = opt.data_retries;
	if (opt.snd_buf != 0)
		dconf.tcp.snd_buf = opt.snd_buf;
	if (opt.rcv_buf != 0)
		dconf.tcp.rcv_buf = opt.rcv_buf;
	/* test keys, not secret: a test may reproduce a run */
	memset(dconf.tcp.isn_secret, 0x5a, sizeof(dconf.tcp.isn_secret));
	memset(dconf.tcp.cookie_secret, 0xa5, sizeof(dconf.tcp.cookie_secret));
	rc = sg_io_dpdk_register_telemetry(port, "/shardgate");
	if (rc != 0)
		fprintf(stderr, "telemetry: %s\n", strerror(-rc));
	return 0;
}

static unsigned
in_use(struct rte_mempool *mp)
{
	return mp != NULL ? rte_mempool_in_use_count(mp) : 0;
}

static void
print_mem(void)
{
	unsigned streams = 0, paused = 0, io = 0, rx = 0, tx = 0;
	struct mallinfo2 mi = mallinfo2();
	struct rte_mempool *mp;
	char name[RTE_MEMPOOL_NAMESIZE];

	for (unsigned i = 0; i < opt.workers; i++) {
		streams += atomic_load(&workers[i].streams);
		paused += atomic_load(&workers[i].paused);
		io += in_use(workers[i].pool);
	}
	if (port != NULL) {
		for (unsigned q = 0; q < SG_NET_MAX_WORKERS; q++) {
			snprintf(name, sizeof(name), "sgn%u_rx%u", sg_net_port_id(port), q);
			mp = rte_mempool_lookup(name);
			rx += in_use(mp);
			snprintf(name, sizeof(name), "sgn%u_tx%u", sg_net_port_id(port), q);
			mp = rte_mempool_lookup(name);
			tx += in_use(mp);
		}
	}
	printf("mem streams=%u paused=%u io_inuse=%u rx_inuse=%u tx_inuse=%u heap=%zu mbuf=%u\n",
	       streams, paused, io, rx, tx, mi.uordblks + mi.hblkhd,
	       (unsigned)rte_mempool_calc_obj_size(workers[0].pool->elt_size, 0, NULL));
	fflush(stdout);
}

/* TCP and net counters: while the stacks and net workers still live. */
static void
print_stack_stats(void)
{
	if (opt.dpdk) {
		struct sg_tcp_stats ts;
		struct sg_net_stats ns;
		const uint64_t *v = (const uint64_t *)&ts;

		sg_tcp_stats_total(&ts);
		for (unsigned i = 0; i < sg_tcp_stat_count; i++)
			printf("stat tcp %s %llu\n", sg_tcp_stat_names[i],
			       (unsigned long long)v[i]);
		for (unsigned k = 0; k < SG_TCP_STATE_COUNT; k++)
			printf("stat tcp state_%s %llu\n", sg_tcp_state_name(k),
			       (unsigned long long)ts.conns_by_state[k]);
		sg_net_stats(port, &ns);
		for (unsigned i = 0; i < SG_NET_STAT_MAX; i++)
			printf("stat net %s %llu\n", sg_net_stat_name(i),
			       (unsigned long long)ns.w[i]);
		for (unsigned i = 0; i < SG_NET_PSTAT_MAX; i++)
			printf("stat port %s %llu\n", sg_net_port_stat_name(i),
			       (unsigned long long)ns.port[i]);
	}
}

static void
print_io_stats(void)
{
	struct sg_io_stats sum = { 0 };

	for (unsigned i = 0; i < opt.workers; i++) {
		sum.accepted += workers[i].final.accepted;
		sum.closed += workers[i].final.closed;
		sum.bytes_in += workers[i].final.bytes_in;
		sum.bytes_out += workers[i].final.bytes_out;
		sum.nombuf += workers[i].final.nombuf;
		printf("stat worker%u accepted %llu\n", i,
		       (unsigned long long)workers[i].final.accepted);
	}
	printf("stat io accepted %llu\nstat io closed %llu\nstat io bytes_in %llu\n"
	       "stat io bytes_out %llu\nstat io nombuf %llu\n",
	       (unsigned long long)sum.accepted, (unsigned long long)sum.closed,
	       (unsigned long long)sum.bytes_in, (unsigned long long)sum.bytes_out,
	       (unsigned long long)sum.nombuf);
}

int
main(int argc, char **argv)
{
	unsigned lcore, i = 0;
	uint64_t deadline;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= rc;
	argv += rc;
	if (parse_args(argc, argv) != 0) {
		fprintf(stderr, "usage: io_echo EAL-ARGS -- --ip A.B.C.D[/P] --listen PORT "
			"[--mode dpdk|kernel] [--port SPEC] [--workers N] ...\n");
		return 2;
	}
	if (rte_lcore_count() < opt.workers + 1) {
		fprintf(stderr, "need %u lcores\n", opt.workers + 1);
		return 2;
	}
	crc_init();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR2, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (opt.dpdk && start_port() != 0)
		return 1;
	if (!opt.dpdk)
		printf("READY kernel workers=%u\n", opt.workers);

	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct worker *wk = &workers[i];
		char name[RTE_MEMPOOL_NAMESIZE];

		if (i == opt.workers)
			break;
		wk->index = i;
		snprintf(name, sizeof(name), "echo_pool%u", i);
		wk->pool = rte_pktmbuf_pool_create(name, opt.mbufs, 256, 0,
						   RTE_MBUF_DEFAULT_BUF_SIZE,
						   (int)rte_lcore_to_socket_id(lcore));
		wk->conns = calloc(opt.max_conns, sizeof(*wk->conns));
		if (wk->pool == NULL || wk->conns == NULL) {
			fprintf(stderr, "worker %u: no memory\n", i);
			return 1;
		}
		for (uint32_t k = opt.max_conns; k-- > 0;) {
			wk->conns[k].next_free = wk->free_conns;
			wk->free_conns = &wk->conns[k];
		}
		rte_eal_remote_launch(worker_main, wk, lcore);
		i++;
	}
	for (i = 0; i < opt.workers; i++) {
		while (atomic_load(&workers[i].ready) == 0)
			usleep(1000);
		if (atomic_load(&workers[i].ready) < 0) {
			atomic_store(&release, 1);
			rte_eal_mp_wait_lcore();
			return 1;
		}
	}
	printf("LISTENING %u\n", opt.listen_port);
	deadline = sg_clock_ns() + (uint64_t)opt.seconds * SG_NS_PER_S;
	while (!atomic_load(&quit) && sg_clock_ns() < deadline) {
		usleep(10000);
		if (atomic_exchange(&dump_mem, 0))
			print_mem();
	}
	/* counters while the stacks still run (they publish each ms) */
	usleep(20000);
	print_mem();
	print_stack_stats();
	atomic_store(&release, 1);
	rte_eal_mp_wait_lcore();
	print_io_stats();
	printf("END\n");
	fflush(stdout);
	sg_net_port_close(port);
	for (i = 0; i < opt.workers; i++) {
		rte_mempool_free(workers[i].pool);
		free(workers[i].conns);
	}
	rte_eal_cleanup();
	return 0;
}
