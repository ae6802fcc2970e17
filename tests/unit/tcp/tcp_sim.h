/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A deterministic world for TCP tests, all in one process:
 *
 *   stack 0 --ip_output--> [link: loss, dup, reorder, delay] --> stack 1
 *   stack 0 <--------------[                                ]<-- stack 1
 *
 * Time is simulated (conf.now_ns) and jumps to the next event: a packet
 * due on the link or a timer due in a stack. Every segment either stack
 * sends is decoded into `log` before the link sees it, so tests can
 * assert on flags, sequence numbers, windows and options.
 *
 * Raw mode (no stack 1): the test plays the peer itself, crafting
 * segments with raw_send() and reading stack 0's answers from the log.
 */
#ifndef TCP_SIM_H
#define TCP_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "sg_tcp.h"

extern struct rte_mempool *g_pool;

#define SIM_IP0 0xc6120001u	/* 198.18.0.1 (host order) */
#define SIM_IP1 0xc6120002u	/* 198.18.0.2 */

/* One decoded segment. */
struct pktinfo {
	int from;		/* 0 or 1 */
	uint64_t t;		/* sim time sent */
	uint16_t sport, dport;	/* host order */
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t wnd;		/* raw field */
	uint32_t dlen;
	uint8_t first;		/* first payload byte */
	bool has_mss, has_ws, has_ts, has_sackp;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	unsigned nsack;
	uint32_t sack[4][2];
	bool cksum_ok;
};

struct sim;
/* Return false to drop the segment on the link. */
typedef bool (*sim_filter_fn)(struct sim *s, const struct pktinfo *pi,
			      struct rte_mbuf *m);
typedef void (*sim_app_fn)(struct sim *s);

struct sim_side {
	struct sim *sim;
	int idx;
};

struct qpkt {
	struct qpkt *next;
	struct rte_mbuf *m;
	int to;
	uint64_t due;
};

struct sim {
	uint64_t now;
	uint64_t rng;
	struct sg_tcp_conf conf[2];	/* edit before sim_start */
	struct sg_tcp_stack *st[2];
	uint32_t ip[2];			/* network order */
	struct sim_side side[2];
	bool fixed_isn;
	uint32_t isn[2];
	unsigned owned_mod;		/* port_owned: port % mod == rem */
	unsigned owned_rem;

	/* link, per mille and ns */
	unsigned loss_pm, dup_pm, reorder_pm;
	uint64_t delay_ns, jitter_ns;
	struct qpkt *q;
	unsigned inflight;
	sim_filter_fn filter;
	void *filter_arg;

	struct pktinfo *log;
	unsigned nlog;
	unsigned maxlog;
	bool log_ring;			/* keep the last maxlog (dumps only) */
	uint64_t nsent;			/* segments logged, ring included */

	sim_app_fn app;
	void *app_arg;
	unsigned iterations;
};

uint64_t sim_rand(struct sim *s);
/* Sets defaults (no loss, 1 ms delay, log of 65536) and the confs. */
void sim_init(struct sim *s, uint64_t seed, bool raw);
/* Before sim_start: keep only a ring of the last `n` segments. */
void sim_log_ring(struct sim *s, unsigned n);
/* The i-th of the last segments kept by a ring log, oldest first. */
const struct pktinfo *sim_log_tail(const struct sim *s, unsigned i);
/* Creates the stacks from s->conf. */
void sim_start(struct sim *s);
/* Destroys stacks, frees link packets and the log. */
void sim_fini(struct sim *s);
/* One loop iteration: deliver due packets, app, timers, flush. */
void sim_step(struct sim *s);
/* Moves time to the next event (at most max_jump_ns ahead). */
void sim_advance(struct sim *s, uint64_t max_jump_ns);
/* Steps until done(s) or `ns` of sim time passed. Returns done's last
 * value. */
bool sim_run(struct sim *s, uint64_t ns, bool (*done)(struct sim *s));
/* Steps for exactly `ns` of sim time. */
void sim_run_for(struct sim *s, uint64_t ns);

/* Raw mode: builds a segment from (ip1, sport) to (ip0, dport) with a
 * correct checksum, without sending it. */
struct rte_mbuf *raw_build(struct sim *s, uint16_t sport, uint16_t dport,
			   uint32_t seq, uint32_t ack, uint8_t flags,
			   uint16_t wnd, const uint8_t *opt, unsigned optlen,
			   const void *data, uint32_t len);
/* Re-cuts a single-segment mbuf into a chain at the given offsets. */
struct rte_mbuf *split_mbuf(struct rte_mbuf *m, const uint32_t *cuts,
			    unsigned ncuts);
/* Raw mode: a segment from (ip1, sport) to stack 0 at (ip0, dport). */
void raw_send(struct sim *s, uint16_t sport, uint16_t dport, uint32_t seq,
	      uint32_t ack, uint8_t flags, uint16_t wnd, const uint8_t *opt,
	      unsigned optlen, const void *data, uint32_t len);
unsigned opt_ts(uint8_t *o, uint32_t val, uint32_t ecr);
unsigned opt_syn(uint8_t *o, uint16_t mss, int ws, bool sackp, bool ts,
		 uint32_t tsval);

/* Log queries: entries from index `from` on, by sender. */
const struct pktinfo *log_find(const struct sim *s, unsigned from, int sender,
			       uint8_t flags_set, uint8_t flags_clear);
unsigned log_count(const struct sim *s, unsigned from, int sender,
		   uint8_t flags_set, uint8_t flags_clear);
unsigned log_count_data(const struct sim *s, unsigned from, int sender);

void pkt_decode(struct rte_mbuf *m, uint32_t src, uint32_t dst,
		struct pktinfo *pi);

/* Mbufs in use from g_pool (for leak checks). */
unsigned pool_in_use(void);

#endif /* TCP_SIM_H */
