/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sg_telemetry.h: per-worker counters and latency histograms, summed on
 * read and exposed as DPDK telemetry commands.
 *
 * Every worker owns one struct sg_telemetry_worker (cache-line aligned)
 * and is its only writer: an update is a relaxed load, add and store, no
 * atomic read-modify-write. Readers (the telemetry thread, INFO) sum the
 * workers' blocks with relaxed loads; a sum may be a few updates behind,
 * never torn.
 *
 * A new counter is one line in SG_TELEMETRY_COUNTERS: the enum, the
 * name in /shardgate/stats and INFO, and the help all come from it.
 *
 * Latency histograms are log-linear: exact below 8 ns, then 8 buckets per
 * power of two (at most 12.5 % relative error) up to about 18 minutes.
 *
 * This library reads nobody: other libraries push numbers in, and may
 * register their own commands next to the code that owns the numbers
 * (sg_telemetry_register()).
 */
#ifndef SG_TELEMETRY_H
#define SG_TELEMETRY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_common.h>
#include <rte_telemetry.h>

#include "sg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* name, help: monotonic counters */
#define SG_TELEMETRY_COUNTERS(X)                                              \
	X(clients_accepted, "client connections accepted")                    \
	X(clients_refused, "client connections refused (limits.max_clients)") \
	X(clients_closed, "client connections closed")                        \
	X(commands, "commands received from clients")                         \
	X(commands_forwarded, "commands sent to backends (parts included)")   \
	X(commands_local, "commands answered by the proxy itself")            \
	X(bytes_in, "bytes received from clients")                            \
	X(bytes_out, "bytes sent to clients")                                 \
	X(errors_protocol, "clients closed for breaking the protocol")        \
	X(errors_crossslot, "requests refused: keys in different slots")      \
	X(errors_refused, "requests refused by the command table")            \
	X(errors_unknown_command, "requests for unknown commands")            \
	X(errors_arity, "requests with a wrong number of arguments")          \
	X(errors_backend, "error replies from backends passed to clients")    \
	X(errors_unavailable, "requests failed: no backend could serve them") \
	X(errors_unknown_outcome, "writes whose outcome is unknown")          \
	X(errors_output_limit, "clients closed over limits.output_limit")     \
	X(errors_starved, "clients closed holding the most input when mbufs ran low") \
	X(redirects_moved, "MOVED replies handled")                           \
	X(redirects_ask, "ASK replies handled")                               \
	X(retries_tryagain, "TRYAGAIN / CLUSTERDOWN / LOADING / MASTERDOWN retries") \
	X(retries_reconnect, "requests re-sent after a lost backend connection") \
	X(parked, "requests parked waiting for a primary")                    \
	X(parked_timeouts, "parked requests that ran out of cluster.hold_ms") \
	X(backend_connects, "backend connections opened")                     \
	X(backend_connect_failures, "backend connection attempts that failed") \
	X(backend_disconnects, "backend connections lost")                    \
	X(backend_requests, "requests written to backends")                   \
	X(backend_batches, "batches written to backends: a connection's requests of one iteration") \
	X(backend_held, "requests that waited for the batch in flight (backend.batch_hold)") \
	X(backend_bytes_out, "bytes written to backends")                     \
	X(backend_bytes_in, "bytes read from backends")                       \
	X(topology_refreshes, "topology refreshes completed")                 \
	X(topology_refresh_failures, "topology refreshes that failed")        \
	X(loop_busy, "loop iterations that did work")                         \
	X(loop_idle, "loop iterations that found nothing to do")              \
	X(cycles_busy, "TSC cycles of iterations that did work, sleep excluded") \
	X(cycles_idle, "TSC cycles of iterations that found nothing, sleep excluded") \
	X(cycles_asleep, "TSC cycles asleep in a blocking poll")

enum sg_telemetry_counter {
#define SG_TM_ENUM(name, help) SG_TM_##name,
	SG_TELEMETRY_COUNTERS(SG_TM_ENUM)
#undef SG_TM_ENUM
	SG_TM_NCOUNTERS
};

/* name, help: gauges (current values, summed over workers) */
#define SG_TELEMETRY_GAUGES(X)                                  \
	X(clients, "client connections open")                   \
	X(backend_conns, "backend connections open")            \
	X(in_flight, "requests waiting for a backend reply")    \
	X(parked_now, "requests parked now")

enum sg_telemetry_gauge {
#define SG_TM_ENUM(name, help) SG_TM_G_##name,
	SG_TELEMETRY_GAUGES(SG_TM_ENUM)
#undef SG_TM_ENUM
	SG_TM_NGAUGES
};

enum sg_telemetry_class {
	SG_TM_READ = 0,
	SG_TM_WRITE,
	SG_TM_OTHER,
	SG_TM_NCLASSES
};

#define SG_TM_HIST_BUCKETS 320

struct sg_telemetry_hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t max_ns;
	uint64_t bucket[SG_TM_HIST_BUCKETS];
};

struct sg_telemetry_worker {
	uint64_t counter[SG_TM_NCOUNTERS];
	int64_t gauge[SG_TM_NGAUGES];
	struct sg_telemetry_hist latency[SG_TM_NCLASSES];
	struct sg_telemetry_hist hold;	/* time requests spent parked */
} __rte_cache_aligned;

/* What a reader gets: every worker summed. */
struct sg_telemetry_snapshot {
	unsigned workers;
	uint64_t uptime_ns;
	uint64_t counter[SG_TM_NCOUNTERS];
	int64_t gauge[SG_TM_NGAUGES];
	struct sg_telemetry_hist latency[SG_TM_NCLASSES];
	struct sg_telemetry_hist hold;
};

/*
 * Allocates the blocks of `workers` workers. Call once, before the
 * workers start. Returns 0, -EINVAL (0 or more than RTE_MAX_LCORE
 * workers, or called twice) or -ENOMEM.
 */
int sg_telemetry_init(unsigned workers);
void sg_telemetry_fini(void);

/* The block of worker `index` (NULL before init or out of range). */
struct sg_telemetry_worker *sg_telemetry_worker(unsigned index);

static inline void
sg_tm_add(struct sg_telemetry_worker *t, enum sg_telemetry_counter c, uint64_t n)
{
	__atomic_store_n(&t->counter[c], __atomic_load_n(&t->counter[c], __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

static inline void
sg_tm_inc(struct sg_telemetry_worker *t, enum sg_telemetry_counter c)
{
	sg_tm_add(t, c, 1);
}

static inline void
sg_tm_gauge_add(struct sg_telemetry_worker *t, enum sg_telemetry_gauge g, int64_t n)
{
	__atomic_store_n(&t->gauge[g], __atomic_load_n(&t->gauge[g], __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

/* Bucket of a value, and the largest value that bucket holds. */
unsigned sg_telemetry_hist_bucket(uint64_t ns);
uint64_t sg_telemetry_hist_bucket_max(unsigned bucket);

/* Records one sample (writer side). */
void sg_telemetry_hist_record(struct sg_telemetry_hist *h, uint64_t ns);

/* The value below which a fraction `q` (0..1) of the samples fall, as the
 * upper bound of its bucket (never above max); 0 when empty. */
uint64_t sg_telemetry_hist_quantile(const struct sg_telemetry_hist *h, double q);

/* Sums every worker into `out`. */
void sg_telemetry_snapshot(struct sg_telemetry_snapshot *out);

/* Names and help of counters and gauges, for printers. */
const char *sg_telemetry_counter_name(enum sg_telemetry_counter c);
const char *sg_telemetry_counter_help(enum sg_telemetry_counter c);
const char *sg_telemetry_gauge_name(enum sg_telemetry_gauge g);

/* The name of a latency class ("read", "write", "other"). */
const char *sg_telemetry_class_name(enum sg_telemetry_class c);

/*
 * Registers `prefix` + `suffix` (e.g. "/shardgate" + "/nodes") as a DPDK
 * telemetry command. The prefix is the configured telemetry.prefix.
 * Returns 0 or -errno (-EINVAL for a bad name, -ENOSPC when the table is
 * full, -EEXIST).
 */
int sg_telemetry_register(const char *prefix, const char *suffix,
			  telemetry_cb fn, const char *help);

/* Registers the commands this library answers: <prefix>/stats and
 * <prefix>/latency. Returns 0 or -errno. */
int sg_telemetry_register_builtin(const char *prefix);

#ifdef __cplusplus
}
#endif

#endif /* SG_TELEMETRY_H */
