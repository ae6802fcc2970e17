/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sg_tcp.h: shardgate's userspace TCP, one stack per worker lcore.
 *
 * A stack (struct sg_tcp_stack) owns the TCP connections of one core:
 * its connection table keyed by 4-tuple, its listeners, its TIME_WAIT
 * records, its timer wheel and its counters. Nothing in it is shared
 * with another core and nothing takes a lock; every call for a stack
 * must come from the lcore that created it. Connections and TIME_WAIT
 * records come from per-stack free lists sized by the configuration.
 *
 * What it implements: the RFC 9293 state machine (simultaneous open and
 * close, FIN and RST in every state, RST generation), MSS, window
 * scaling and timestamps with PAWS (RFC 7323), the RFC 6298 RTO with
 * Karn's rule, exponential backoff and a configurable minimum, NewReno
 * fast retransmit and recovery with limited transmit (RFC 5681, 6582,
 * 3042), SACK blocks as a receiver (RFC 2018), persist timer and
 * zero-window probes, sender and receiver silly-window avoidance,
 * delayed ACKs, keepalive, a short TIME_WAIT kept in a compact record,
 * RFC 5961 challenge ACKs, RFC 6528 ISNs, RFC 6056 ephemeral ports
 * restricted to the core's own set, SYN backlog limits and SYN cookies.
 * Not implemented: urgent data (URG is ignored, the bytes are ordinary
 * data), ECN, using the peer's SACK blocks as a sender (we are NewReno),
 * data carried on SYN segments (dropped; the peer sends it again), IPv6.
 * Deliberate choices: segments without a timestamp on a connection that
 * negotiated them are accepted (RFC 7323 says SHOULD drop; Linux
 * accepts too); an exact-sequence RST ends a TIME_WAIT record (RFC 9293
 * with RFC 5961's rule, not RFC 1337's "ignore"); pure ACKs carry
 * snd_max as their sequence number, as BSD does, so they are not taken
 * for old duplicates after a go-back retransmission.
 *
 * Byte order: every IPv4 address and port in this API is in NETWORK
 * byte order (as in struct sockaddr_in and in the packet headers), so
 * the IP layer passes header fields through untouched.
 *
 * ---------------------------------------------------------------------
 * Integration with the IPv4 layer (lib/net) and the loop
 * ---------------------------------------------------------------------
 *
 *   rx burst -> IPv4 (validate, strip header, trim to total length)
 *            -> sg_tcp_input(stack, m, ip->src_addr, ip->dst_addr)
 *   ...
 *   sg_tcp_stack_timers(stack)      advance the wheel (RTO, persist,
 *                                   delayed ACK, keepalive, TIME_WAIT)
 *   sg_tcp_stack_flush(stack)       deliver data held for readers that
 *                                   resumed, then every pending segment,
 *                                   ACKs included, goes to conf.ip_output
 *   IPv4 prepends its header into the headroom, sets DF, tx burst
 *
 * Input. `m` starts at the TCP header and its pkt_len is the TCP length
 * (header + payload); the stack owns it from the call on. If the NIC
 * checked the TCP checksum, ol_flags carries RTE_MBUF_F_RX_L4_CKSUM_GOOD
 * (trusted) or _BAD (dropped, counted); otherwise the stack verifies it
 * in software. Multi-segment mbufs are accepted. Payload mbufs are kept
 * as they are (headers adjusted away) and handed to the application
 * without a copy, so the receive window is computed from the memory the
 * stack holds (buf_len of held mbufs), never from payload bytes:
 * a reader that stops reading cannot drain the packet pool.
 *
 * Output. conf.ip_output(ctx, m, src_ip, dst_ip) receives one segment
 * whose data starts at the TCP header, with at least
 * RTE_PKTMBUF_HEADROOM bytes of headroom for the IPv4 and Ethernet
 * headers. Ownership passes whatever the return value (the callee frees
 * what it cannot send; a negative return is counted as output_errors).
 * The IP layer must set DF. Checksums:
 *   - conf.tx_cksum_offload false: the TCP checksum is complete;
 *   - true: the stack sets RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM,
 *     m->l4_len, and writes the pseudo-header sum (addresses, protocol,
 *     TCP length; not complemented) into the checksum field, which is
 *     what the NIC expects; it needs nothing from the IP header. The IP
 *     layer sets m->l2_len and m->l3_len (and RTE_MBUF_F_TX_IP_CKSUM if
 *     it offloads the IPv4 checksum too).
 * Each segment is a fresh single mbuf holding the header and a copy of
 * at most one MSS of payload (copy on send): the send queue's mbufs
 * never reach the driver, so a retransmission never touches an mbuf a
 * NIC may still be reading (tcp_output.c says why this beats clones).
 * ip_output is called from sg_tcp_stack_flush() for connection traffic,
 * and directly from sg_tcp_input() / sg_tcp_abort() for stateless
 * replies (RST, SYN-ACK carrying a SYN cookie, TIME_WAIT ACKs); the IP
 * layer queues them for its own tx burst either way.
 *
 * Port ownership. For active opens the stack picks a local port with
 * RFC 6056 algorithm 3 and asks conf.port_owned(ctx, lip, lport, rip,
 * rport) whether the return traffic of that 4-tuple lands on this core
 * (RSS mirror); NULL means every port is ours.
 *
 * Time. The stack reads conf.now_ns(ctx) when set (tests drive a
 * simulated clock), the TSC otherwise. The wheel is lib/common's
 * struct sg_timer_wheel with conf.tick_ns ticks (1 ms by default): RTO,
 * delayed ACK, persist and keepalive need no finer grain.
 *
 * ---------------------------------------------------------------------
 * Integration with lib/io (the stream interface)
 * ---------------------------------------------------------------------
 * The calls map one to one: listen/accept -> sg_tcp_listen and its
 * accept callback, connect -> sg_tcp_connect + connected(), data() ->
 * data() (a chain of payload mbufs, ownership passes), eof() has no
 * sg_io counterpart (an adapter reports it as closed(0) and then calls
 * sg_tcp_close()), writable(), closed(); sg_io_out -> sg_tcp_sink,
 * sg_io_send -> sg_tcp_send, backlog/watermarks/pause_read/close/abort/
 * addrs -> the sg_tcp_ functions of the same names. Callbacks run from
 * sg_tcp_input(), sg_tcp_stack_timers() and sg_tcp_stack_flush() (data
 * held for a resumed reader), never from inside the application's own
 * calls into the stack.
 *
 * Errors: functions returning int give 0 or a count on success and
 * -errno on failure; creation functions return NULL with rte_errno set.
 */
#ifndef SG_TCP_H
#define SG_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_telemetry.h>

#include "sg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sg_tcp_stack;
struct sg_tcp_conn;
struct sg_tcp_listener;

/* RFC 9293 states. LISTEN belongs to listeners, never to a conn. */
enum sg_tcp_state {
	SG_TCP_CLOSED = 0,
	SG_TCP_LISTEN,
	SG_TCP_SYN_SENT,
	SG_TCP_SYN_RCVD,
	SG_TCP_ESTABLISHED,
	SG_TCP_FIN_WAIT_1,
	SG_TCP_FIN_WAIT_2,
	SG_TCP_CLOSE_WAIT,
	SG_TCP_CLOSING,
	SG_TCP_LAST_ACK,
	SG_TCP_TIME_WAIT,
	SG_TCP_STATE_COUNT
};

/* "ESTABLISHED", ...; "?" for a value out of range. */
const char *sg_tcp_state_name(enum sg_tcp_state st);

/*
 * Stack configuration. Zero in any numeric field means "the default"
 * given in brackets; sg_tcp_conf_init() fills a conf with them.
 */
struct sg_tcp_conf {
	/* Mbufs for outgoing segments and for send buffers. Required. */
	struct rte_mempool *pool;
	/* Connections (any state but TIME_WAIT) at most [4096]. */
	uint32_t max_conns;
	/* TIME_WAIT records at most [max_conns]; when full the oldest is
	 * recycled early (counted in tw_recycled). */
	uint32_t max_time_wait;

	/* The IPv4 layer (see the top of this file). Required. */
	int (*ip_output)(void *ctx, struct rte_mbuf *m, uint32_t src_ip,
			 uint32_t dst_ip);
	/* May this core use lport for (lip, rip, rport)? NULL: always. */
	bool (*port_owned)(void *ctx, uint32_t lip, uint16_t lport,
			   uint32_t rip, uint16_t rport);
	/* Monotonic nanoseconds. NULL: the TSC. */
	uint64_t (*now_ns)(void *ctx);
	/* For tests: the ISN for a new connection instead of RFC 6528's.
	 * Never set it in production. Ports and addresses network order. */
	uint32_t (*isn_hook)(void *ctx, uint32_t lip, uint16_t lport,
			     uint32_t rip, uint16_t rport);
	void *ctx;			/* passed to the callbacks above */

	/* The port computes TCP checksums on transmit. */
	bool tx_cksum_offload;
	/* Shared by every core: keys for RFC 6528 ISNs and the RFC 6056
	 * port offset, and for SYN cookies. All-zero keys are accepted
	 * (tests) but production must fill them from a CSPRNG. */
	uint8_t isn_secret[16];
	uint8_t cookie_secret[16];

	/* Our MSS, from the interface MTU [1460]. */
	uint16_t mss;
	/* Ephemeral port range, host order [32768, 60999]. */
	uint16_t port_min;
	uint16_t port_max;
	/* Receive memory per connection: buf_len of mbufs held [256 KiB].
	 * The advertised window is (free memory / rx_buf_len) * mss; data
	 * beyond twice this memory is dropped even inside the window. */
	uint32_t rcv_buf;
	/* buf_len of the receive mbufs lib/net delivers
	 * [RTE_MBUF_DEFAULT_BUF_SIZE]. */
	uint32_t rx_buf_len;
	/* Send buffer per connection in bytes [4 MiB]: the sink fails with
	 * -ENOBUFS and sg_tcp_send() with -ENOBUFS beyond it. */
	uint32_t snd_buf;
	/* Initial congestion window in segments [10, RFC 6928]. */
	uint32_t init_cwnd;

	/* RFC 6298: initial [1 s], minimum [200 ms], maximum [60 s] RTO. */
	uint64_t rto_init_ns;
	uint64_t rto_min_ns;
	uint64_t rto_max_ns;
	/* Delayed ACK timeout [20 ms]. */
	uint64_t delack_ns;
	/* TIME_WAIT length [5 s] and FIN_WAIT_2 timeout after close [30 s].
	 * TIME_WAIT is short because PAWS and RFC 6528 ISNs already guard
	 * a new incarnation; it must still outlast the peer's FIN
	 * retransmissions when our last ACK is lost (5 s covers four with
	 * a 200 ms RTO), or the peer gets a RST in CLOSING/LAST_ACK. */
	uint64_t time_wait_ns;
	uint64_t fin_wait2_ns;
	/* Keepalive: idle time [0 = off], probe interval [75 s], probes
	 * before giving up [9]. sg_tcp_set_keepalive() overrides per conn. */
	uint64_t keepalive_idle_ns;
	uint64_t keepalive_intvl_ns;
	uint32_t keepalive_probes;
	/* SYN retransmissions [5] and data retransmissions [12] before a
	 * connection is given up with -ETIMEDOUT. */
	uint32_t syn_retries;
	uint32_t data_retries;
	/* RFC 5961 challenge ACKs per second per stack [1000]. */
	uint32_t challenge_ack_limit;
	/* Timer wheel tick [1 ms]. */
	uint64_t tick_ns;

	/* Switches, all off by default; mainly for tests and interop. */
	bool no_timestamps;	/* don't offer RFC 7323 timestamps */
	bool no_wscale;		/* don't offer window scaling */
	bool no_sack;		/* don't offer SACK-permitted */
	bool no_syn_cookies;	/* drop SYNs past the backlog instead */
};

/* Fills `conf` with zeros and the defaults above. */
void sg_tcp_conf_init(struct sg_tcp_conf *conf);

/*
 * Creates a stack for the calling lcore. Returns NULL with rte_errno:
 * EINVAL (no pool, no ip_output, bad port range, mss < 64, limits out of
 * range: rcv_buf and snd_buf at most 1 GiB, rcv_buf at least one
 * rx_buf_len) or ENOMEM.
 */
struct sg_tcp_stack *sg_tcp_stack_create(const struct sg_tcp_conf *conf);

/* Frees every connection, listener and record with no callbacks and
 * nothing sent, then the stack. NULL is accepted. Not from inside one
 * of the stack's callbacks. */
void sg_tcp_stack_destroy(struct sg_tcp_stack *s);

/*
 * One TCP segment from the IPv4 layer (see the top of this file). Always
 * consumes `m`. Callbacks (accept, connected, data, eof, writable,
 * closed) may run from inside.
 */
void sg_tcp_input(struct sg_tcp_stack *s, struct rte_mbuf *m,
		  uint32_t src_ip, uint32_t dst_ip);

/*
 * Advances the timer wheel to now (RTO, persist, delayed ACK,
 * keepalive, TIME_WAIT expiry). Segments the timers produce leave at
 * the next flush. Returns how many timers fired.
 */
unsigned sg_tcp_stack_timers(struct sg_tcp_stack *s);

/*
 * Once per loop iteration: delivers data held for readers that resumed,
 * then emits every pending segment of every connection that has one
 * (data, retransmissions, FIN, ACKs, window updates), each connection
 * coalesced into as few segments as its windows allow. Returns the
 * number of segments handed to ip_output.
 */
unsigned sg_tcp_stack_flush(struct sg_tcp_stack *s);

/* Nanoseconds until the next timer is due (0 if one is due), at most
 * cap_ns: for idle sleeps and simulations. */
uint64_t sg_tcp_stack_idle_ns(struct sg_tcp_stack *s, uint64_t cap_ns);

/* ------------------------------------------------------------------ */
/* Connections                                                         */
/* ------------------------------------------------------------------ */

/* Callbacks of one connection; any may be NULL. After closed(), or a
 * connected() with a negative status, the connection is gone. */
struct sg_tcp_conn_cbs {
	/* Active open finished: 0, or -ECONNREFUSED (RST), -ETIMEDOUT
	 * (no answer to the SYNs). */
	void (*connected)(struct sg_tcp_conn *c, void *arg, int status);
	/* In-order payload: a chain of one or more mbufs whose head has
	 * pkt_len and nb_segs set; the callee owns it. */
	void (*data)(struct sg_tcp_conn *c, void *arg, struct rte_mbuf *m);
	/* The peer sent FIN after all the data above: no more input. The
	 * connection stays open for output until sg_tcp_close(). */
	void (*eof)(struct sg_tcp_conn *c, void *arg);
	/* The send backlog fell to the low watermark after passing the
	 * high one. */
	void (*writable)(struct sg_tcp_conn *c, void *arg);
	/* The connection ended without sg_tcp_close()/abort(): 0 when both
	 * sides closed in order, -ECONNRESET (peer RST), -ETIMEDOUT
	 * (retransmissions or keepalive exhausted). */
	void (*closed)(struct sg_tcp_conn *c, void *arg, int status);
};

/* A handshake on a listener completed. The callee installs callbacks
 * with sg_tcp_conn_set_cbs() (or closes/aborts the connection). */
typedef void (*sg_tcp_accept_cb)(struct sg_tcp_listener *l, void *arg,
				 struct sg_tcp_conn *c);

/*
 * Listens on (ip, port); ip 0 means any local address. `backlog` bounds
 * half-open connections (SYN_RCVD) of this listener [0: 128]; past it,
 * SYNs are answered with SYN cookies (or dropped with no_syn_cookies).
 * Returns 0 and *out, or -EADDRINUSE (same ip and port already
 * listening), -EINVAL (port 0), -ENOMEM.
 */
int sg_tcp_listen(struct sg_tcp_stack *s, uint32_t ip, uint16_t port,
		  uint32_t backlog, sg_tcp_accept_cb cb, void *arg,
		  struct sg_tcp_listener **out);

/* Stops listening; half-open connections are reset, established ones
 * are not touched. */
void sg_tcp_listener_close(struct sg_tcp_listener *l);

/*
 * Active open from (lip, lport) to (rip, rport); lport 0 picks an
 * ephemeral port this core owns. The SYN leaves at the next flush; the
 * result comes through cbs->connected(). Returns 0 and *out, or
 * -EINVAL (rip or rport 0, lip 0), -EADDRINUSE (the 4-tuple exists),
 * -EADDRNOTAVAIL (no ephemeral port left), -ENOMEM (no connection slot).
 */
int sg_tcp_connect(struct sg_tcp_stack *s, uint32_t lip, uint16_t lport,
		   uint32_t rip, uint16_t rport,
		   const struct sg_tcp_conn_cbs *cbs, void *arg,
		   struct sg_tcp_conn **out);

void sg_tcp_conn_set_cbs(struct sg_tcp_conn *c,
			 const struct sg_tcp_conn_cbs *cbs, void *arg);

/*
 * The connection's sink (sg_common.h): bytes written to it are copied
 * into mbufs of conf.pool appended to the send queue; they leave at the
 * next flush. The sink's sticky err becomes -EPIPE after close/shutdown,
 * -ENOBUFS past conf.snd_buf, -ENOMEM when the pool is empty.
 */
struct sg_sink *sg_tcp_sink(struct sg_tcp_conn *c);

/* Appends a whole mbuf chain to the send queue (no copy); the stack
 * takes ownership. Returns 0, -EPIPE (closing: the chain is freed) or
 * -ENOBUFS (past conf.snd_buf: the chain is freed). */
int sg_tcp_send(struct sg_tcp_conn *c, struct rte_mbuf *m);

/*
 * Copies up to `n` bytes into the send queue, as much as conf.snd_buf
 * still allows (like write(2) on a non-blocking socket), coalescing with
 * the bytes queued before. Unlike the sink, a full buffer or an empty
 * pool is not sticky. Returns the bytes taken (0 when the send buffer is
 * full), or -EPIPE (closing, or not in a state that sends), -ENOMEM (the
 * pool is empty and nothing was taken), or the sink's error when the
 * application's own sink writes failed before.
 */
int sg_tcp_write(struct sg_tcp_conn *c, const void *p, size_t n);

/* Bytes sg_tcp_write()/sg_tcp_send() may still queue before
 * conf.snd_buf is reached; 0 once the connection is closing. */
size_t sg_tcp_send_space(struct sg_tcp_conn *c);

/* Bytes queued for output and not yet acknowledged by the peer. */
size_t sg_tcp_backlog(struct sg_tcp_conn *c);

/* writable() fires when the backlog falls to `low` after passing
 * `high`. Both 0 (the default): never. */
void sg_tcp_set_watermarks(struct sg_tcp_conn *c, size_t low, size_t high);

/* Stops (true) or resumes (false) data delivery. While paused, data
 * stays in the stack and the advertised window shrinks with the memory
 * it holds. Data held when resuming is delivered at the next flush. */
void sg_tcp_pause_read(struct sg_tcp_conn *c, bool pause);

/* Sends FIN after the queued data (half close); input and callbacks go
 * on. Idempotent. */
void sg_tcp_shutdown(struct sg_tcp_conn *c);

/* Graceful close: queued data is sent, then FIN; no callbacks after
 * this call and the connection must not be used again. Data arriving
 * afterwards is acknowledged and discarded. */
void sg_tcp_close(struct sg_tcp_conn *c);

/* Immediate close: queued data is dropped, RST sent when the state has
 * a synchronized peer (RFC 9293 ABORT). No callbacks after this call. */
void sg_tcp_abort(struct sg_tcp_conn *c);

/*
 * Shutdown. sg_tcp_stack_unfinished(): connections that still owe their
 * peer something, data not yet acknowledged or a FIN not yet sent or
 * acknowledged (SYN_SENT, SYN_RCVD, ESTABLISHED, CLOSE_WAIT, FIN_WAIT_1,
 * CLOSING, LAST_ACK; FIN_WAIT_2 and TIME_WAIT owe nothing), whether the
 * application closed them or not. sg_tcp_stack_abort_all():
 * sg_tcp_abort() on every connection, closed by the application or not,
 * with no callbacks; the RSTs leave at the next sg_tcp_stack_flush().
 * TIME_WAIT records stay.
 */
unsigned sg_tcp_stack_unfinished(const struct sg_tcp_stack *s);
void sg_tcp_stack_abort_all(struct sg_tcp_stack *s);

/* Turns keepalive on (with conf's interval and probe count, and idle
 * time `idle_ns`, 0 = conf's or 2 hours if conf has none) or off. */
void sg_tcp_set_keepalive(struct sg_tcp_conn *c, bool on, uint64_t idle_ns);

/* Addresses and ports of the connection, network order. */
void sg_tcp_conn_addrs(const struct sg_tcp_conn *c, uint32_t *lip,
		       uint16_t *lport, uint32_t *rip, uint16_t *rport);

enum sg_tcp_state sg_tcp_conn_state(const struct sg_tcp_conn *c);

/* A snapshot of one connection's protocol state, for telemetry and
 * tests. Sequence numbers are absolute. */
struct sg_tcp_info {
	enum sg_tcp_state state;
	uint32_t iss, irs;
	uint32_t snd_una, snd_nxt, snd_max, snd_wnd;
	uint32_t rcv_nxt, rcv_wnd;	/* rcv_wnd: as last advertised */
	uint32_t cwnd, ssthresh;
	uint16_t snd_mss, rcv_mss;
	uint8_t snd_wscale, rcv_wscale;	/* 0xff: not negotiated */
	bool ts_ok, sack_ok, in_recovery;
	uint32_t srtt_us, rttvar_us, rto_us;	/* rto_us with backoff */
	uint32_t dupacks, backoff;
	uint32_t snd_queued;		/* bytes from snd_una on */
	uint32_t rcv_queued;		/* bytes held for the reader */
	uint32_t rcv_mem;		/* buf_len held, out of order included */
	uint32_t ooo_segs;
	uint32_t sack_blocks;		/* blocks we would report now */
	uint32_t sack[4][2];		/* [start, end) per block */
};

void sg_tcp_conn_info(const struct sg_tcp_conn *c, struct sg_tcp_info *out);

/* Size of one connection object and of one TIME_WAIT record, bytes. */
size_t sg_tcp_conn_size(void);
size_t sg_tcp_time_wait_size(void);

/* ------------------------------------------------------------------ */
/* Counters                                                            */
/* ------------------------------------------------------------------ */

/* One line per counter: name and what it counts. */
#define SG_TCP_STATS_LIST(X)                                              \
	X(segs_in, "segments received")                                   \
	X(segs_out, "segments sent")                                      \
	X(bytes_in, "payload bytes accepted in order")                    \
	X(bytes_out, "payload bytes sent, retransmissions included")      \
	X(active_opens, "connections started by sg_tcp_connect")          \
	X(passive_opens, "connections accepted")                          \
	X(connect_failures, "active opens refused or timed out")          \
	X(resets_in, "connections reset by the peer")                     \
	X(resets_out, "RST segments sent")                                \
	X(retransmits, "segments retransmitted")                          \
	X(fast_retransmits, "fast retransmits (3 dup ACKs, NewReno)")     \
	X(rto_expiries, "retransmission timeouts")                        \
	X(syn_retransmits, "SYN and SYN-ACK retransmissions")             \
	X(timeouts, "connections given up after retries or keepalive")   \
	X(ooo_segments, "segments received out of order")                 \
	X(ooo_pruned, "out-of-order queues dropped for memory")           \
	X(dup_segments, "segments entirely old or outside the window")    \
	X(cksum_errors, "segments with a bad checksum")                   \
	X(bad_segments, "segments malformed (length, offset)")            \
	X(no_conn, "segments for no connection or listener")              \
	X(challenge_acks, "RFC 5961 challenge ACKs sent")                 \
	X(challenge_acks_limited, "challenge ACKs suppressed by the rate limit") \
	X(paws_drops, "segments dropped by PAWS")                         \
	X(syncookies_sent, "SYN-ACKs carrying a SYN cookie")              \
	X(syncookies_ok, "connections made from a valid cookie")          \
	X(syncookies_failed, "ACKs to a listener with a bad cookie")      \
	X(listen_overflows, "SYNs dropped past the backlog")              \
	X(persist_probes, "zero-window probes sent")                      \
	X(keepalive_probes, "keepalive probes sent")                      \
	X(delayed_acks, "ACKs sent by the delayed-ACK timer")             \
	X(rcv_mem_drops, "in-window data dropped for receive memory")     \
	X(nombuf, "mbuf allocations that failed")                         \
	X(output_errors, "segments ip_output refused")                    \
	X(tw_recycled, "TIME_WAIT records reused early or by a new SYN")

struct sg_tcp_stats {
#define SG_TCP_STAT_FIELD(name, desc) uint64_t name;
	SG_TCP_STATS_LIST(SG_TCP_STAT_FIELD)
#undef SG_TCP_STAT_FIELD
	/* Gauges: connections in each state now (TIME_WAIT: records). */
	uint64_t conns_by_state[SG_TCP_STATE_COUNT];
};

/* The stack's live counters (written by its core only). */
const struct sg_tcp_stats *sg_tcp_stack_stats(const struct sg_tcp_stack *s);

/* Counter names in struct order and how many there are (the gauges
 * not included), for telemetry. */
extern const char *const sg_tcp_stat_names[];
extern const unsigned sg_tcp_stat_count;

/*
 * For readers on other threads: every live stack copies its counters
 * and gauges to a static slot (relaxed atomic stores) from
 * sg_tcp_stack_timers() at most once a millisecond, so the sum is at
 * most that far behind and never torn. Fills *out with the sum over
 * every live stack and returns how many there are (up to 128 stacks per
 * process are published; more are left out). Any thread.
 */
unsigned sg_tcp_stats_total(struct sg_tcp_stats *out);

/* Adds entries to the <prefix>/tcp reply (the caller's own figures, such
 * as the IP layer's steering counters). Telemetry thread. */
typedef void (*sg_tcp_telemetry_extra_cb)(struct rte_tel_data *d, void *arg);

/*
 * Registers the telemetry command <prefix>/tcp (lib/telemetry's
 * sg_telemetry_register()): the number of stacks, connections by state,
 * then every counter of SG_TCP_STATS_LIST summed over all stacks, then
 * what `extra` (may be NULL) adds. Registered once per process; a later
 * call only replaces `extra`. Returns 0 or -errno from the registration.
 */
int sg_tcp_register_telemetry(const char *prefix,
			      sg_tcp_telemetry_extra_cb extra, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* SG_TCP_H */
