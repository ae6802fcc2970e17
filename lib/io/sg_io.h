/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sg_io.h: the stream interface. The proxy engine talks to its clients
 * and backends only through this header and does not know which
 * transport runs underneath:
 *
 *   kernel   one epoll instance per worker, SO_REUSEPORT listeners,
 *            non-blocking sockets; reads land in mbufs, each stream's
 *            output leaves in one writev per flush;
 *   dpdk     shardgate's own TCP (lib/tcp) over a NIC queue (lib/net).
 *
 * Threading: a worker (struct sg_io_worker) belongs to one lcore. Every
 * stream, listener and callback of a worker runs on that lcore only;
 * nothing here takes a lock.
 *
 * The loop (DESIGN.md section 3):
 *
 *     for (;;) {
 *         sg_io_worker_poll(w, wait)    callbacks: accept, connected,
 *                                       data, writable, closed
 *         ... timers, control duties ...
 *         sg_io_worker_flush(w)         each stream with output: one write
 *     }
 *
 * Data: received bytes arrive as mbuf chains (ownership passes to the
 * callback). Output is written through the stream's sink (sg_io_out()),
 * which appends to the stream's output mbufs, or by handing over a whole
 * chain (sg_io_send()). Nothing is written before sg_io_worker_flush():
 * pipelined replies leave together.
 *
 * Stream life cycle:
 *
 *   connect ----> CONNECTING --connected(0)--> OPEN <--accept-- listener
 *                     |                         |  \
 *           connected(-err)               sg_io_close  closed(status) from peer/error
 *                     v                         v       v
 *                  (freed)                  CLOSING   (freed)
 *                                   output drained, FIN sent, freed
 *
 * After closed() or a failed connected() returns, or after the owner
 * calls sg_io_close()/sg_io_abort(), the stream is gone: the owner must
 * not use it again, and no further callback names it.
 */
#ifndef SG_IO_H
#define SG_IO_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "sg_common.h"
#include "sg_tcp.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sg_io_worker;
struct sg_io_stream;
struct sg_io_listener;
struct sg_net_port;

enum sg_io_mode {
	SG_IO_KERNEL = 0,
	SG_IO_DPDK,
};

/* Callbacks of one stream. Any may be NULL. */
struct sg_io_stream_cbs {
	/* An outgoing connection is up (status 0) or failed
	 * (-ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH, ...). After a failure
	 * the stream is freed when the callback returns. */
	void (*connected)(struct sg_io_stream *s, void *arg, int status);
	/* Bytes arrived: `m` is a chain of one or more mbufs; the callee
	 * owns it and frees it (rte_pktmbuf_free) when done. */
	void (*data)(struct sg_io_stream *s, void *arg, struct rte_mbuf *m);
	/* The output backlog fell to the low watermark after having passed
	 * the high one (sg_io_set_watermarks). */
	void (*writable)(struct sg_io_stream *s, void *arg);
	/* The connection ended: status 0 for an orderly close by the peer,
	 * -ECONNRESET, -ETIMEDOUT, -EPIPE... otherwise. During the callback
	 * sg_io_backlog() still says how many queued bytes never left (so
	 * the owner knows which requests were not sent); they are dropped
	 * afterwards. The stream is freed when the callback returns. */
	void (*closed)(struct sg_io_stream *s, void *arg, int status);
};

/* A new client. The callee installs callbacks with sg_io_stream_set_cbs()
 * (or closes the stream) before returning. */
typedef void (*sg_io_accept_cb)(struct sg_io_listener *l, void *arg,
				struct sg_io_stream *s);

/*
 * DPDK mode: what every worker of one port shares. The main lcore starts
 * the port (sg_net_port_init() with one worker per io worker) and passes
 * the same conf to each sg_io_worker_create(); each worker then creates,
 * on its own lcore, the port's net worker number conf.index and its own
 * TCP stack.
 *
 * In `tcp`, the transport fills pool (the io worker's tx_pool: send
 * buffers and segments), ip_output, port_owned and ctx (lib/net), mss (from the
 * port MTU when 0), rx_buf_len (the RX pool's data room when 0) and
 * tx_cksum_offload (from the port's capabilities); everything else is
 * taken as given (zero: lib/tcp's defaults). Ports, addresses: network
 * order.
 */
struct sg_io_dpdk_conf {
	struct sg_net_port *port;	/* started, one worker per io worker */
	uint32_t ip;			/* our address on the port */
	uint32_t syn_backlog;		/* half-open per listener [0: 128] */
	struct sg_tcp_conf tcp;
};

struct sg_io_worker_conf {
	enum sg_io_mode mode;
	unsigned lcore;			/* the lcore that runs this worker */
	unsigned index;			/* worker number, 0..n-1 */
	struct rte_mempool *pool;	/* mbufs for input (DPDK mode: input
					 * lands in the port's RX pool; this
					 * one may be tx_pool) */
	struct rte_mempool *tx_pool;	/* mbufs for output (NULL: pool). Apart,
					 * queued output can never leave the
					 * worker unable to read (and so to
					 * drain what it waits for) */
	uint32_t max_streams;		/* accepted + connected, at most */
	uint32_t read_burst;		/* mbufs per read (kernel mode) */
	const struct sg_io_dpdk_conf *dpdk; /* DPDK mode only; must outlive
					     * the worker */
};

/*
 * Creates the worker for the calling lcore. Returns NULL with rte_errno
 * set: EINVAL (bad conf; in DPDK mode also no dpdk conf, no port, ip 0,
 * or TCP settings lib/tcp refuses), EEXIST (DPDK: that net worker
 * exists already), ENOMEM, ENOTSUP (mode not built), or the errno of the
 * failed system call.
 */
struct sg_io_worker *sg_io_worker_create(const struct sg_io_worker_conf *conf);

/* Aborts every stream (no callbacks), closes listeners, frees. */
void sg_io_worker_destroy(struct sg_io_worker *w);

/*
 * Shutdown, once the owner has closed its streams: how many connections
 * still have something to deliver (kernel mode: streams still draining
 * their output; DPDK mode: TCP connections with data or a FIN not yet
 * acknowledged, sg_tcp_stack_unfinished()). The owner keeps polling and
 * flushing until this is 0 or its patience runs out, then calls
 * sg_io_worker_abort_all(): every stream aborted with no callbacks and,
 * in DPDK mode, every connection TCP still holds reset; the RSTs leave
 * at the next sg_io_worker_flush().
 */
unsigned sg_io_worker_unfinished(const struct sg_io_worker *w);
void sg_io_worker_abort_all(struct sg_io_worker *w);

/*
 * Waits at most `max_wait_ns` for events (0: only what is ready now) and
 * runs their callbacks. Returns the number of events handled (>= 0) or
 * -errno on a failure of the transport itself.
 *
 * DPDK mode: one receive step (rx burst, steering, ARP/IPv4/ICMP, TCP
 * input), the TCP timers and the port's timers. A NIC queue cannot wake
 * a sleeper, so "waiting" is polling with short sleeps that grow with
 * the time already spent idle (none during the first 50 us after
 * traffic, at most an eighth of the idle time so far), never past the
 * next TCP timer.
 */
int sg_io_worker_poll(struct sg_io_worker *w, uint64_t max_wait_ns);

/* The worker's clock (CLOCK_MONOTONIC ns), refreshed by each poll after
 * any wait: callbacks read it instead of asking the system. */
uint64_t sg_io_worker_now(const struct sg_io_worker *w);

/* Writes the pending output of every stream that has some: one write
 * (writev / TCP send) per stream. Returns the number of streams
 * written. DPDK mode: then TCP's output of this iteration (data, ACKs,
 * retransmissions: sg_tcp_stack_flush()) and one tx burst.
 *
 * DPDK mode hands output to TCP within its send buffer (tcp.snd_buf);
 * the rest stays queued here (sg_io_backlog()) until acknowledgements
 * make room. Mbufs at least half full move to TCP without a copy; the
 * bytes of emptier ones are copied into TCP's queue, so a peer that
 * stops reading pins at most about twice snd_buf of mbuf memory. */
unsigned sg_io_worker_flush(struct sg_io_worker *w);

/*
 * Listens on addr (IPv4, port in network order). With several workers,
 * each calls this for the same address: kernel mode uses SO_REUSEPORT so
 * the kernel spreads connections; DPDK mode gets the flows the NIC
 * steers to this worker's queue (or software-steers to it). Returns 0
 * and *out, or -errno (-EADDRINUSE, -EACCES, -ENOMEM...; DPDK mode:
 * -EINVAL for port 0, -EADDRNOTAVAIL for an address that is neither
 * 0.0.0.0 nor the port's).
 */
int sg_io_listen(struct sg_io_worker *w, const struct sockaddr_in *addr,
		 int backlog, sg_io_accept_cb cb, void *arg,
		 struct sg_io_listener **out);
void sg_io_listener_close(struct sg_io_listener *l);

/* The address a listener is bound to (the port the system chose when
 * asked for port 0). */
void sg_io_listener_addr(const struct sg_io_listener *l,
			 struct sockaddr_in *out);

/*
 * Starts a connection to `dst`. The result comes through
 * cbs->connected(); a connect that fails at once still reports through
 * the callback, on the next poll, so callers have one path. Returns 0 and
 * *out, or -ENOMEM / -EMFILE when no stream could be made at all.
 */
int sg_io_connect(struct sg_io_worker *w, const struct sockaddr_in *dst,
		  const struct sg_io_stream_cbs *cbs, void *arg,
		  struct sg_io_stream **out);

void sg_io_stream_set_cbs(struct sg_io_stream *s,
			  const struct sg_io_stream_cbs *cbs, void *arg);

/* The stream's sink: writes append to its output (sg_common.h). A
 * failed allocation sets the sink's sticky err; the owner checks
 * sg_io_out(s)->err and treats it like a failed send. */
struct sg_sink *sg_io_out(struct sg_io_stream *s);

/* Appends a whole chain to the output; the stream takes ownership.
 * Returns 0, or -EPIPE when the stream is closing (the chain is freed). */
int sg_io_send(struct sg_io_stream *s, struct rte_mbuf *m);

/* Bytes queued for output and not yet taken by the transport. */
size_t sg_io_backlog(const struct sg_io_stream *s);

/* writable() fires when the backlog falls to `low` after passing `high`. */
void sg_io_set_watermarks(struct sg_io_stream *s, size_t low, size_t high);

/* Stops (true) or resumes (false) delivering data: backpressure. */
void sg_io_pause_read(struct sg_io_stream *s, bool pause);

/* Flushes what is queued, then closes. No callbacks after this. */
void sg_io_close(struct sg_io_stream *s);

/* Closes at once, dropping queued output (RST where the transport can).
 * No callbacks after this. */
void sg_io_abort(struct sg_io_stream *s);

/* Local and remote addresses of a stream. */
void sg_io_stream_addrs(const struct sg_io_stream *s,
			struct sockaddr_in *local, struct sockaddr_in *peer);

/* Counters of one worker's transport. */
struct sg_io_stats {
	uint64_t accepted;
	uint64_t connects;
	uint64_t connect_failures;
	uint64_t closed;
	uint64_t bytes_in;
	uint64_t bytes_out;
	uint64_t reads;
	uint64_t writes;
	uint64_t nombuf;	/* allocations that failed */
	uint64_t streams;	/* open now */
	/* TSC cycles inside a poll that was allowed to block (epoll_wait
	 * with a timeout, a DPDK nap), the system call included */
	uint64_t sleep_cycles;
	/* DPDK mode: the worker's frames on its queue, and packets handed
	 * between workers over the steering rings (0 in kernel mode) */
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t steered_in;
	uint64_t steered_out;
};

/* Counters of one worker's transport. Only the worker itself may call
 * it (DPDK mode reads lib/net's counters of its queue). */
void sg_io_worker_stats(const struct sg_io_worker *w, struct sg_io_stats *st);

/* sleep_cycles of sg_io_worker_stats() alone: cheap enough for every loop
 * iteration. */
uint64_t sg_io_worker_sleep_cycles(const struct sg_io_worker *w);

/* Free and total mbufs of the worker's pool: received data waiting to be
 * used and queued output both hold mbufs, so callers watch this to shed
 * the connections that hold the most before the pool runs dry. DPDK
 * mode: received data lives in the port's RX pool (see
 * sg_net_worker_rx_pool()), so these are its figures. */
void sg_io_worker_mbufs(const struct sg_io_worker *w, unsigned *avail, unsigned *size);

/*
 * DPDK mode: registers the telemetry commands <prefix>/port (lib/net:
 * device counters, drops, xstats) and <prefix>/tcp (lib/tcp: connections
 * by state and every counter, plus lib/net's software-steered packets
 * and RSS mismatches as "steered_packets" and "rss_mismatches"), both
 * summed over the port's workers. Main lcore. Returns 0 or -errno.
 */
int sg_io_dpdk_register_telemetry(struct sg_net_port *port, const char *prefix);

#ifdef __cplusplus
}
#endif

#endif /* SG_IO_H */
