/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The runtime: EAL, mempools, workers, signals, shutdown.
 *
 *   main lcore                       worker lcores (io.workers of them)
 *   ----------                       ----------------------------------
 *   resolve seeds
 *   rte_eal_init (both modes)
 *   telemetry, proxy, mempools
 *   launch ------------------------> io worker + proxy worker, listen
 *   wait for a signal or a failure   loop until stop, then drain
 *   sg_proxy_stop -----------------> (drain: finish in-flight, close)
 *   join, destroy (worker 0 last:
 *   it frees what RCU deferred)
 *
 * Kernel mode runs under EAL too (--no-huge --no-pci), so lcores, rings,
 * RCU, mempools and the telemetry socket are the same in both modes.
 * DPDK mode adds, on the main lcore after rte_eal_init, the port (lib/net:
 * one queue pair and one net worker per io worker) and the shared
 * struct sg_io_dpdk_conf each worker's io transport starts its TCP stack
 * from; the port closes after the workers are destroyed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>
#include <sys/random.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "sg_build_config.h"
#include "sg_config.h"
#include "sg_io.h"
#include "sg_net.h"
#include "sg_proxy.h"
#include "sg_telemetry.h"
#include "runtime.h"

#define MAX_EAL_ARGS 64

static atomic_int signalled;

static void
on_signal(int sig)
{
	atomic_store(&signalled, sig);
}

struct worker_ctx {
	struct sg_proxy *proxy;
	const struct sg_config *cfg;
	const struct sg_io_dpdk_conf *dpdk;	/* DPDK mode */
	unsigned index;
	unsigned lcore;
	struct rte_mempool *pool;
	struct rte_mempool *tx_pool;
	struct sg_io_worker *io;
	struct sg_proxy_worker *w;
	atomic_int state;	/* 0 starting, 1 running, -errno failed, 2 done */
};

static int
worker_main(void *arg)
{
	struct worker_ctx *ctx = arg;
	struct sg_io_worker_conf conf = {
		.mode = ctx->cfg->io.mode == SG_CONFIG_IO_DPDK ? SG_IO_DPDK : SG_IO_KERNEL,
		.lcore = ctx->lcore,
		.index = ctx->index,
		.pool = ctx->pool,
		.tx_pool = ctx->tx_pool,
		.max_streams = ctx->cfg->limits.max_clients + 4096,
		.read_burst = 16,
		.dpdk = ctx->dpdk,
	};

	ctx->io = sg_io_worker_create(&conf);
	if (ctx->io == NULL) {
		fprintf(stderr, "shardgate: worker %u: cannot start the %s transport: %s\n",
			ctx->index, conf.mode == SG_IO_DPDK ? "dpdk" : "kernel",
			rte_strerror(rte_errno));
		atomic_store(&ctx->state, -rte_errno);
		return -1;
	}
	ctx->w = sg_proxy_worker_create(ctx->proxy, ctx->index, ctx->io);
	if (ctx->w == NULL) {
		fprintf(stderr, "shardgate: worker %u: %s\n", ctx->index,
			rte_errno == EADDRINUSE ? "the listen address is in use" :
			rte_strerror(rte_errno));
		atomic_store(&ctx->state, -rte_errno);
		return -1;
	}
	atomic_store(&ctx->state, 1);
	sg_proxy_worker_run(ctx->w);
	atomic_store(&ctx->state, 2);
	return 0;
}

/* Resolves backend.seeds; a seed that does not resolve is reported and
 * skipped (the others may do). */
static int
resolve_seeds(const struct sg_config *cfg, struct sockaddr_in **out, unsigned *n)
{
	struct sockaddr_in *a = calloc(cfg->backend.n_seeds, sizeof(*a));
	unsigned count = 0;

	if (a == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->backend.n_seeds; i++) {
		const struct sg_config_endpoint *e = &cfg->backend.seeds[i];
		struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
		struct addrinfo *res = NULL;
		int rc = getaddrinfo(e->host, NULL, &hints, &res);

		if (rc != 0 || res == NULL) {
			fprintf(stderr, "shardgate: backend seed %s:%u: %s (skipped)\n", e->host,
				e->port, gai_strerror(rc));
			continue;
		}
		a[count] = *(struct sockaddr_in *)res->ai_addr;
		a[count].sin_port = htons(e->port);
		count++;
		freeaddrinfo(res);
	}
	if (count == 0) {
		free(a);
		return -ENOENT;
	}
	*out = a;
	*n = count;
	return 0;
}

static const char *
log_level_name(enum sg_config_log_level l)
{
	switch (l) {
	case SG_CONFIG_LOG_ERROR: return "error";
	case SG_CONFIG_LOG_WARNING: return "warning";
	case SG_CONFIG_LOG_NOTICE: return "notice";
	case SG_CONFIG_LOG_INFO: return "info";
	default: return "debug";
	}
}

static bool
looks_like_pci(const char *s)
{
	unsigned a, b, c, d;
	char tail;

	return sscanf(s, "%x:%x:%x.%x%c", &a, &b, &c, &d, &tail) == 4 ||
	       sscanf(s, "%x:%x.%x%c", &b, &c, &d, &tail) == 3;
}

/* The worker lcore of worker i. */
static unsigned
worker_lcore(const struct sg_config *cfg, unsigned i)
{
	if (cfg->io.n_lcores > 0)
		return cfg->io.lcores[i];
	return cfg->io.main_lcore + 1 + i;
}

struct eal_args {
	int argc;
	char *argv[MAX_EAL_ARGS];
	char buf[MAX_EAL_ARGS][256];
};

static void SG_PRINTF(2, 3)
add_arg(struct eal_args *e, const char *fmt, ...)
{
	va_list ap;

	if (e->argc >= MAX_EAL_ARGS - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(e->buf[e->argc], sizeof(e->buf[0]), fmt, ap);
	va_end(ap);
	e->argv[e->argc] = e->buf[e->argc];
	e->argc++;
	e->argv[e->argc] = NULL;
}

static void
build_eal_args(const struct sg_config *cfg, struct eal_args *e)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	bool huge = cfg->io.huge_pages == SG_CONFIG_HUGE_PAGES_TRUE ||
		    (cfg->io.huge_pages == SG_CONFIG_HUGE_PAGES_AUTO &&
		     cfg->io.mode == SG_CONFIG_IO_DPDK);
	char lcores[1024];
	size_t n = 0;

	if (ncpu < 1)
		ncpu = 1;
	add_arg(e, "shardgate");
	/* lcore ids may outnumber CPUs: lcore L runs on CPU L % ncpu */
	n += (size_t)snprintf(lcores + n, sizeof(lcores) - n, "%u@%ld", cfg->io.main_lcore,
			      (long)cfg->io.main_lcore % ncpu);
	for (unsigned i = 0; i < cfg->io.workers && n < sizeof(lcores) - 32; i++) {
		unsigned l = worker_lcore(cfg, i);

		n += (size_t)snprintf(lcores + n, sizeof(lcores) - n, ",%u@%ld", l, (long)l % ncpu);
	}
	add_arg(e, "--lcores=%s", lcores);
	add_arg(e, "--main-lcore=%u", cfg->io.main_lcore);
	if (cfg->io.file_prefix != NULL && cfg->io.file_prefix[0] != '\0')
		add_arg(e, "--file-prefix=%s", cfg->io.file_prefix);
	else
		add_arg(e, "--file-prefix=shardgate-%d", (int)getpid());
	if (!huge)
		add_arg(e, "--no-huge");
	add_arg(e, "-m");
	add_arg(e, "%llu", (unsigned long long)SG_MAX(cfg->io.memory >> 20, 64));
	if (cfg->io.mode == SG_CONFIG_IO_KERNEL) {
		add_arg(e, "--no-pci");
	} else if (cfg->io.port != NULL && cfg->io.port[0] != '\0') {
		if (looks_like_pci(cfg->io.port)) {
			add_arg(e, "-a");
			add_arg(e, "%s", cfg->io.port);
		} else {
			add_arg(e, "--no-pci");
			add_arg(e, "--vdev=%s", cfg->io.port);
		}
	}
	add_arg(e, "--log-level=%s", log_level_name(cfg->log.level));
	for (size_t i = 0; i < cfg->io.n_eal_args; i++)
		add_arg(e, "%s", cfg->io.eal_args[i]);
}

static void
print_ready(const struct sg_config *cfg, unsigned nseeds)
{
	printf("shardgate %s: %s mode, %u worker%s, %u seed%s\n", SG_VERSION,
	       cfg->io.mode == SG_CONFIG_IO_DPDK ? "dpdk" : "kernel", cfg->io.workers,
	       cfg->io.workers == 1 ? "" : "s", nseeds, nseeds == 1 ? "" : "s");
	for (size_t i = 0; i < cfg->n_listen; i++)
		printf("shardgate: listening on %s:%u (%s)\n", cfg->listen[i].address.text,
		       cfg->listen[i].port,
		       cfg->listen[i].role == SG_CONFIG_ROLE_READER ? "reader" : "primary");
	{
		const char *dir = rte_eal_get_runtime_dir();
		const char *prefix = strrchr(dir, '/');

		printf("shardgate: telemetry: dpdk-telemetry.py -f %s (commands under %s)\n",
		       prefix != NULL ? prefix + 1 : dir, cfg->telemetry.prefix);
	}
	fflush(stdout);
}

/*
 * DPDK mode: the port from the io section and what every worker's TCP
 * stack starts from. The RX pool holds what clients and backends sent
 * until it is parsed and forwarded: the receiving half of io.mbufs; the
 * worker's output pool (the other half) holds output and TCP's send
 * buffers.
 */
static int
start_port(const struct sg_config *cfg, struct sg_net_port **port,
	   struct sg_io_dpdk_conf *dc)
{
	const struct sg_config_io *io = &cfg->io;
	struct sg_net_port_conf pc;
	struct sg_tcp_conf *tc = &dc->tcp;
	struct rte_ether_addr mac;
	int rc;

	memset(&pc, 0, sizeof(pc));
	pc.port = io->port;
	pc.n_workers = (uint16_t)io->workers;
	pc.n_queues = (uint16_t)io->workers;
	pc.rx_desc = (uint16_t)io->rx_desc;
	pc.tx_desc = (uint16_t)io->tx_desc;
	pc.mtu = (uint16_t)io->mtu;
	pc.mbuf_data_size = (uint16_t)(io->mbuf_size + RTE_PKTMBUF_HEADROOM);
	/* received data waits in the RX pool: the receiving half of
	 * io.mbufs (as in kernel mode) beyond what the RX ring holds */
	pc.rx_mbufs = SG_MAX(io->mbufs / 2, 512u) + io->rx_desc;
	pc.ip = io->address.addr.s_addr;
	pc.prefix_len = io->address.prefix_len;
	pc.gateway = io->gateway.text[0] != '\0' ? io->gateway.addr.s_addr : 0;
	rc = sg_net_port_init(&pc, port);
	if (rc != 0) {
		fprintf(stderr, "shardgate: io.port %s: cannot start the port: %s\n", io->port,
			strerror(-rc));
		return rc;
	}

	memset(dc, 0, sizeof(*dc));
	dc->port = *port;
	dc->ip = pc.ip;
	dc->syn_backlog = io->tcp.syn_backlog;
	sg_tcp_conf_init(tc);
	tc->max_conns = io->tcp.max_connections;
	tc->rcv_buf = (uint32_t)io->tcp.rcv_buf;
	tc->snd_buf = (uint32_t)io->tcp.snd_buf;
	tc->rto_min_ns = io->tcp.min_rto_ns;
	tc->rto_max_ns = io->tcp.max_rto_ns;
	/* lib/tcp reads 0 as "its default": 1 ns is "at the next tick" */
	tc->delack_ns = io->tcp.delayed_ack_ns != 0 ? io->tcp.delayed_ack_ns : 1;
	tc->time_wait_ns = io->tcp.time_wait_ns != 0 ? io->tcp.time_wait_ns : 1;
	tc->keepalive_idle_ns = io->tcp.keepalive_idle_ns;
	tc->keepalive_intvl_ns = io->tcp.keepalive_interval_ns;
	tc->keepalive_probes = io->tcp.keepalive_probes;
	tc->no_syn_cookies = !io->tcp.syn_cookies;
	/* RFC 6528 ISNs, RFC 6056 ports and SYN cookies need secret keys,
	 * the same on every core */
	if (getrandom(tc->isn_secret, sizeof(tc->isn_secret), 0) !=
		    (ssize_t)sizeof(tc->isn_secret) ||
	    getrandom(tc->cookie_secret, sizeof(tc->cookie_secret), 0) !=
		    (ssize_t)sizeof(tc->cookie_secret)) {
		fprintf(stderr, "shardgate: getrandom: %s\n", strerror(errno));
		return -EIO;
	}
	sg_net_port_mac(*port, &mac);
	printf("shardgate: port %s: %u queue%s, mac " RTE_ETHER_ADDR_PRT_FMT ", address %s\n",
	       io->port, sg_net_port_queues(*port), sg_net_port_queues(*port) == 1 ? "" : "s",
	       RTE_ETHER_ADDR_BYTES(&mac), io->address.text);
	return 0;
}

/* EAL leaves its runtime directory (config, telemetry socket) behind;
 * a process that exits cleanly removes what it created. */
static void
remove_runtime_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

int
app_run(const struct sg_config *cfg)
{
	char runtime_dir[PATH_MAX] = "";
	struct worker_ctx *ctx = NULL;
	struct sockaddr_in *seeds = NULL;
	struct sg_proxy *proxy = NULL;
	struct sg_net_port *port = NULL;
	struct sg_io_dpdk_conf *dpdk = NULL;
	struct eal_args *eal;
	unsigned nseeds = 0, workers = cfg->io.workers;
	int rc, exit_code = 0;
	bool failed = false;

	rc = resolve_seeds(cfg, &seeds, &nseeds);
	if (rc != 0) {
		fprintf(stderr, "shardgate: no backend seed could be resolved\n");
		return 2;
	}
	eal = calloc(1, sizeof(*eal));
	if (eal == NULL)
		return 1;
	build_eal_args(cfg, eal);
	rc = rte_eal_init(eal->argc, eal->argv);
	free(eal);
	if (rc < 0) {
		fprintf(stderr, "shardgate: EAL initialisation failed: %s\n",
			rte_strerror(rte_errno));
		free(seeds);
		return 1;
	}
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	if (sg_telemetry_init(workers) != 0) {
		fprintf(stderr, "shardgate: cannot allocate telemetry\n");
		exit_code = 1;
		goto out;
	}
	if (cfg->io.mode == SG_CONFIG_IO_DPDK) {
		dpdk = calloc(1, sizeof(*dpdk));
		if (dpdk == NULL || start_port(cfg, &port, dpdk) != 0) {
			exit_code = 1;
			goto out;
		}
		rc = sg_io_dpdk_register_telemetry(port, cfg->telemetry.prefix);
		if (rc != 0)
			fprintf(stderr, "shardgate: port telemetry not registered: %s\n",
				strerror(-rc));
	}
	proxy = sg_proxy_create(cfg, workers, seeds, nseeds);
	if (proxy == NULL) {
		fprintf(stderr, "shardgate: %s\n", rte_strerror(rte_errno));
		exit_code = 1;
		goto out;
	}
	rc = sg_proxy_register_telemetry(proxy, cfg->telemetry.prefix);
	if (rc != 0)
		fprintf(stderr, "shardgate: telemetry commands not registered: %s\n",
			strerror(-rc));

	ctx = calloc(workers, sizeof(*ctx));
	if (ctx == NULL) {
		exit_code = 1;
		goto out;
	}
	/*
	 * Each worker gets io.mbufs, half for receiving and half for output:
	 * apart, queued output can never take the buffers a worker needs to
	 * read the replies that would drain it.
	 */
	for (unsigned i = 0; i < workers; i++) {
		unsigned lcore = worker_lcore(cfg, i);
		uint16_t room = (uint16_t)(cfg->io.mbuf_size + RTE_PKTMBUF_HEADROOM);
		unsigned half = SG_MAX(cfg->io.mbufs / 2, 512u);
		int socket = (int)rte_lcore_to_socket_id(lcore);
		char name[RTE_MEMPOOL_NAMESIZE];

		ctx[i].proxy = proxy;
		ctx[i].cfg = cfg;
		ctx[i].dpdk = dpdk;
		ctx[i].index = i;
		ctx[i].lcore = lcore;
		snprintf(name, sizeof(name), "sg_tx_%u", i);
		ctx[i].tx_pool = rte_pktmbuf_pool_create(name, half, 256, 0, room, socket);
		if (dpdk != NULL) {
			/* input lands in the port's RX pool (start_port) */
			ctx[i].pool = ctx[i].tx_pool;
		} else {
			snprintf(name, sizeof(name), "sg_rx_%u", i);
			ctx[i].pool = rte_pktmbuf_pool_create(name, half, 256, 0, room, socket);
		}
		if (ctx[i].pool == NULL || ctx[i].tx_pool == NULL) {
			fprintf(stderr, "shardgate: worker %u: cannot create %u mbufs of %llu "
				"bytes: %s (raise io.memory or lower io.mbufs)\n", i,
				cfg->io.mbufs, (unsigned long long)cfg->io.mbuf_size,
				rte_strerror(rte_errno));
			exit_code = 1;
			goto out;
		}
		if (i == 0) {
			uint64_t rx_bytes = (uint64_t)half * cfg->io.mbuf_size;
			uint64_t max = sg_proxy_set_input_budget(proxy, rx_bytes);

			if (max < cfg->limits.max_request)
				printf("shardgate: requests are limited to %llu bytes, a quarter of "
				       "a worker's receive buffers (io.mbufs %u x io.mbuf_size %llu, "
				       "half for receiving); raise those for larger values\n",
				       (unsigned long long)max, cfg->io.mbufs,
				       (unsigned long long)cfg->io.mbuf_size);
		}
	}
	for (unsigned i = 0; i < workers; i++) {
		rc = rte_eal_remote_launch(worker_main, &ctx[i], ctx[i].lcore);
		if (rc != 0) {
			fprintf(stderr, "shardgate: cannot launch worker %u on lcore %u: %s\n", i,
				ctx[i].lcore, strerror(-rc));
			failed = true;
			break;
		}
	}
	/* wait until every worker runs (or one fails) */
	for (bool all = false; !all && !failed;) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		all = true;
		for (unsigned i = 0; i < workers; i++) {
			int st = atomic_load(&ctx[i].state);

			if (st < 0)
				failed = true;
			if (st != 1)
				all = false;
		}
		if (!all && !failed)
			nanosleep(&ts, NULL);
	}
	if (!failed)
		print_ready(cfg, nseeds);
	while (!failed && atomic_load(&signalled) == 0) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		for (unsigned i = 0; i < workers; i++) {
			if (atomic_load(&ctx[i].state) < 0)
				failed = true;
		}
	}
	if (failed)
		exit_code = 1;
	else
		printf("shardgate: signal %d: finishing in-flight requests\n",
		       atomic_load(&signalled));
	fflush(stdout);
	sg_proxy_stop(proxy);
	rte_eal_mp_wait_lcore();
	/* worker 0 last: it frees what the others may have been reading */
	for (unsigned i = workers; i-- > 0;) {
		sg_proxy_worker_destroy(ctx[i].w);
		sg_io_worker_destroy(ctx[i].io);
	}
out:
	sg_proxy_destroy(proxy);
	/* after the workers (their net workers), before the pools: the TX
	 * rings may still hold segments from them */
	sg_net_port_close(port);
	free(dpdk);
	if (ctx != NULL) {
		for (unsigned i = 0; i < workers; i++) {
			if (ctx[i].pool != ctx[i].tx_pool)
				rte_mempool_free(ctx[i].pool);
			rte_mempool_free(ctx[i].tx_pool);
		}
	}
	free(ctx);
	free(seeds);
	sg_telemetry_fini();
	rte_eal_cleanup();
	remove_runtime_dir(runtime_dir);
	if (exit_code == 0)
		printf("shardgate: stopped\n");
	return exit_code;
}
