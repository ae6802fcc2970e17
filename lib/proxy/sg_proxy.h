/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sg_proxy.h: the proxy engine. Client sessions, the request pipeline,
 * routing by hash slot, split/merge, backend pools, topology refresh and
 * the answers the proxy gives itself (cluster emulation, HELLO, INFO).
 *
 * It runs on the stream interface (sg_io.h) and does not know which
 * transport is underneath.
 *
 * Threading: one struct sg_proxy is shared by all workers and holds only
 * what they read (configuration, the published topology and command
 * table, the stop flag). Each worker (one per lcore) owns its sessions,
 * backend connections, timers and counters. The topology and command
 * table are replaced by pointer swap and freed after an RCU grace
 * period; worker 0 runs the topology refresh.
 *
 * Usage (app/shardgate):
 *   p = sg_proxy_create(cfg, nworkers, seeds, nseeds)   main lcore
 *   sg_proxy_register_telemetry(p, prefix)               main lcore
 *   on each worker lcore:
 *     w = sg_proxy_worker_create(p, index, io)
 *     sg_proxy_worker_run(w)        returns after sg_proxy_stop() and drain
 *     sg_proxy_worker_destroy(w)
 *   sg_proxy_stop(p)                from a signal handler's flag, any thread
 *   sg_proxy_destroy(p)             after every worker returned
 */
#ifndef SG_PROXY_H
#define SG_PROXY_H

#include <netinet/in.h>
#include <stdint.h>

#include "sg_config.h"
#include "sg_io.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sg_proxy;
struct sg_proxy_worker;

/*
 * The shared state for `nworkers` workers. `cfg` must outlive the proxy.
 * `seeds` are the resolved backend.seeds (copied). Returns NULL with
 * rte_errno set: EINVAL, ENOMEM.
 */
struct sg_proxy *sg_proxy_create(const struct sg_config *cfg, unsigned nworkers,
				 const struct sockaddr_in *seeds, unsigned nseeds);
void sg_proxy_destroy(struct sg_proxy *p);

/*
 * Every request is held whole in a worker's receive mbufs before it is
 * routed, so one request may not need more than a share of them: limits
 * on request and argument size are lowered to a quarter of `rx_bytes`
 * (the data room of one worker's receive pool) when the configuration
 * allows more. Such requests are then refused when their header says so,
 * before any of their data is held. Call before the workers start.
 * Returns the effective limits.max_request.
 */
uint64_t sg_proxy_set_input_budget(struct sg_proxy *p, uint64_t rx_bytes);

/* Registers <prefix>/info and <prefix>/nodes (and the telemetry
 * library's own). Returns 0 or -errno. */
int sg_proxy_register_telemetry(struct sg_proxy *p, const char *prefix);

/*
 * Creates worker `index` on the calling lcore, over `io`, and starts
 * listening on every configured endpoint. Returns NULL with rte_errno
 * set: EINVAL, ENOMEM, or the listen error (EADDRINUSE...).
 */
struct sg_proxy_worker *sg_proxy_worker_create(struct sg_proxy *p, unsigned index,
					       struct sg_io_worker *io);

/* Runs the worker's loop until sg_proxy_stop(), then stops accepting,
 * finishes in-flight requests for a bounded time and closes every
 * connection. Returns 0. */
int sg_proxy_worker_run(struct sg_proxy_worker *w);
void sg_proxy_worker_destroy(struct sg_proxy_worker *w);

/* Asks every worker to stop. Safe from any thread. */
void sg_proxy_stop(struct sg_proxy *p);

#ifdef __cplusplus
}
#endif

#endif /* SG_PROXY_H */
