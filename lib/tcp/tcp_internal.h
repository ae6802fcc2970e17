/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_internal.h: the stack's private structures, shared by tcp_*.c.
 *
 * Who holds what:
 *
 *   struct sg_tcp_stack (one per lcore)
 *     table[]   hash buckets -> chains of tcp_hnode: connections and
 *               TIME_WAIT records share the chains (kind says which)
 *     work      connections with something to do at the next flush
 *               (output, delivery to a resumed reader)
 *     reap      connections closed during this call; their memory goes
 *               back to the free list when the outermost call returns,
 *               so code up the stack may still look at them
 *     tw_fifo   TIME_WAIT records in expiry order (all have the same
 *               lifetime, so insertion order is expiry order)
 *     wheel     one sg_timer per connection, armed at the earliest of
 *               its deadlines (rto_at, delack_at, keep_at)
 *
 * A connection's mbuf queues (all single segments linked by m->next,
 * each with pkt_len == data_len and nb_segs == 1 while queued):
 *
 *   snd_head ... snd_tail   bytes from snd_una on: sent-unacked, then
 *                           unsent; the sink writes into the tail
 *   rcv_head ... rcv_tail   in-order bytes not yet delivered
 *   ooo_head ...            out-of-order bytes sorted by sequence; the
 *                           sequence of a segment's first byte is kept
 *                           in m->hash.fdir.hi (we own these mbufs)
 */
#ifndef TCP_INTERNAL_H
#define TCP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "sg_common.h"
#include "sg_tcp.h"

extern int sg_tcp_logtype;
#define TCP_LOG(level, ...) \
	rte_log(RTE_LOG_##level, sg_tcp_logtype, "tcp: " __VA_ARGS__)

/* Sequence arithmetic modulo 2^32 (RFC 9293 3.4). */
#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)
#define SEQ_MAX(a, b) (SEQ_GT(a, b) ? (a) : (b))
#define SEQ_MIN(a, b) (SEQ_LT(a, b) ? (a) : (b))

#define TCP_HDR_LEN 20u
#define TCP_MAX_OPT 40u
#define TCP_MIN_MSS 64u		/* below this a peer's MSS is raised */
#define TCP_DEFAULT_MSS 536u	/* RFC 9293: no MSS option */
#define TCP_MAX_WSCALE 14u
#define TCP_MAX_WINDOW (65535u << TCP_MAX_WSCALE)
#define TCP_DUPTHRESH 3u
#define TCP_MAX_SACK 4u
#define TCP_TS_OPT_LEN 12u	/* NOP NOP TS */
#define TCP_PAWS_IDLE_MS (24u * 24 * 3600 * 1000)	/* RFC 7323 5.5 */
#define TCP_DELIVER_MAX_SEGS 4096u	/* per data() chain: nb_segs fits */
#define TCP_KEEPALIVE_DEFAULT_NS (7200ull * SG_NS_PER_S)
#define TCP_COOKIE_PERIOD_NS (64ull * SG_NS_PER_S)

/* Option kinds. */
#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WS 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_SACK 5
#define TCPOPT_TS 8

#define TH_FIN RTE_TCP_FIN_FLAG
#define TH_SYN RTE_TCP_SYN_FLAG
#define TH_RST RTE_TCP_RST_FLAG
#define TH_PSH RTE_TCP_PSH_FLAG
#define TH_ACK RTE_TCP_ACK_FLAG
#define TH_URG RTE_TCP_URG_FLAG

/* An intrusive doubly linked list (circular, with a head node). */
struct tcp_link {
	struct tcp_link *next;
	struct tcp_link *prev;
};

static inline void
link_init(struct tcp_link *l)
{
	l->next = l;
	l->prev = l;
}

static inline bool
link_empty(const struct tcp_link *head)
{
	return head->next == head;
}

/* True when `l` is on some list (unlinked nodes point nowhere). */
static inline bool
link_linked(const struct tcp_link *l)
{
	return l->next != NULL;
}

static inline void
link_add_tail(struct tcp_link *head, struct tcp_link *l)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

static inline void
link_del(struct tcp_link *l)
{
	if (l->next == NULL)
		return;
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->next = NULL;
	l->prev = NULL;
}

/* A connection's identity, all fields network order. */
struct tcp_key {
	uint32_t lip;
	uint32_t rip;
	uint16_t lport;
	uint16_t rport;
};

static inline bool
key_eq(const struct tcp_key *a, const struct tcp_key *b)
{
	return a->lip == b->lip && a->rip == b->rip &&
	       a->lport == b->lport && a->rport == b->rport;
}

enum { TCP_HN_CONN = 1, TCP_HN_TW = 2 };

/* What the hash table chains: the head of a conn or a TIME_WAIT record. */
struct tcp_hnode {
	struct tcp_hnode *hnext;
	struct tcp_key key;
	uint8_t kind;
	uint8_t hashed;		/* on a chain now */
};

/* A connection in TIME_WAIT, after its full state was freed: what it
 * takes to re-ACK a retransmitted FIN, apply PAWS and judge a new SYN. */
struct tcp_tw {
	struct tcp_hnode h;
	struct tcp_link fifo;	/* stack->tw_fifo, or the free list */
	uint64_t expires_ns;
	uint32_t snd_nxt;
	uint32_t rcv_nxt;
	uint32_t ts_recent;
	uint32_t ts_offset;
	uint8_t ts_ok;
	uint8_t rcv_wscale;
};

/* Connection flags. */
enum {
	F_ACKNOW = 1u << 0,	/* send an ACK at the next flush */
	F_RXT_NOW = 1u << 1,	/* retransmit the segment at snd_una */
	F_FORCE1 = 1u << 2,	/* persist: send one byte past the window */
	F_KA_PROBE = 1u << 3,	/* send a keepalive probe */
	F_PERSIST = 1u << 4,	/* rto_at is the persist timer */
	F_FASTRECOV = 1u << 5,	/* in NewReno fast recovery */
	F_RECOVER = 1u << 6,	/* `recover` holds a live value */
	F_TIMING = 1u << 7,	/* an RTT measurement runs (rtt_seq) */
	F_FIN_QUEUED = 1u << 8,	/* shutdown: FIN follows the queued data */
	F_APP_CLOSED = 1u << 9,	/* close/abort called: no callbacks */
	F_PAUSED = 1u << 10,	/* pause_read */
	F_DELIVER = 1u << 11,	/* held data to deliver at flush */
	F_EOF_PENDING = 1u << 12, /* FIN received, eof() after the data */
	F_EOF_DONE = 1u << 13,	/* eof() delivered (or not wanted) */
	F_FIN_OOO = 1u << 14,	/* a FIN arrived out of order at fin_seq */
	F_TS_OK = 1u << 15,	/* timestamps negotiated */
	F_SACK_OK = 1u << 16,	/* the peer accepts SACK blocks */
	F_WS_OK = 1u << 17,	/* window scaling negotiated */
	F_TS_RECENT = 1u << 18,	/* ts_recent holds a value */
	F_WANT_WRITABLE = 1u << 19, /* backlog passed high: writable() due */
	F_KEEPALIVE = 1u << 20,	/* keepalive on */
	F_ON_WORK = 1u << 21,	/* on stack->work */
	F_WINUPD = 1u << 22,	/* the reader freed memory: window update? */
	F_PASSIVE = 1u << 23,	/* made by a listener */
	F_SYN_ACKED = 1u << 24,	/* our SYN is acknowledged */
	F_FIN_SENT = 1u << 25,	/* FIN has been sent at least once */
	F_DELACK = 1u << 26,	/* a delayed ACK is pending (delack_at) */
	F_DEAD = 1u << 27,	/* destroyed, waiting on stack->reap */
	F_ESTAB_SEEN = 1u << 28, /* reached ESTABLISHED once */
	F_OUT_RETRY = 1u << 29,	/* output ran out of mbufs: flush again */
	F_SINK_LINKED = 1u << 30, /* sink_m is on the send queue */
	F_PARTIAL = 1u << 31,	/* a NewReno partial ACK was seen */
};

struct sg_tcp_conn {
	struct tcp_hnode h;
	struct sg_tcp_stack *stack;
	struct tcp_link work;		/* stack->work, stack->reap */
	struct sg_timer timer;
	uint64_t timer_at;		/* when `timer` is armed for */
	const struct sg_tcp_conn_cbs *cbs;
	void *arg;
	struct sg_tcp_listener *listener; /* while half-open (backlog) */

	/* Deadlines, absolute ns, 0 = none. */
	uint64_t rto_at;		/* retransmit, SYN, or persist */
	uint64_t delack_at;
	uint64_t keep_at;		/* keepalive or FIN_WAIT_2 */
	uint64_t last_rcv_ns;		/* keepalive idleness */
	uint64_t ka_idle_ns;

	uint32_t flags;
	uint8_t state;
	uint8_t snd_wscale;
	uint8_t rcv_wscale;
	uint8_t rxt_shift;		/* RTO backoff exponent (Karn) */
	uint8_t nrexmit;		/* retries without progress */
	uint8_t dupacks;
	uint8_t ka_probes;
	uint8_t nsack;
	uint16_t snd_mss;		/* effective: min(peer's, ours) */
	uint16_t rcv_mss;		/* ours, as advertised */

	/* Send sequence space (RFC 9293 3.3.1) plus snd_max, the highest
	 * sequence ever sent (snd_nxt drops back on retransmit). */
	uint32_t iss;
	uint32_t snd_una;
	uint32_t snd_nxt;
	uint32_t snd_max;
	uint32_t snd_wl1;
	uint32_t snd_wl2;
	uint32_t snd_wnd;		/* scaled */
	uint32_t max_sndwnd;		/* largest window the peer offered */
	uint32_t cwnd;
	uint32_t ssthresh;
	uint32_t recover;		/* RFC 6582, valid with F_RECOVER */
	uint32_t snd_bytes;		/* data bytes queued from snd_una */
	uint32_t rtt_seq;		/* timed segment (F_TIMING) */
	uint32_t rtt_start_us;
	uint32_t srtt8_us;		/* smoothed RTT * 8, 0 = no sample */
	uint32_t rttvar4_us;		/* RTT variance * 4 */
	uint32_t rto_us;		/* without backoff */
	uint32_t last_send_ms;		/* RFC 5681 4.1 restart after idle */

	/* Receive sequence space. rcv_adv is the right edge we advertised
	 * (never moves left). */
	uint32_t irs;
	uint32_t rcv_nxt;
	uint32_t rcv_adv;
	uint32_t last_ack_sent;
	uint32_t fin_seq;		/* with F_FIN_OOO */
	uint32_t rcv_mem;		/* buf_len held: rcv and ooo queues */
	uint32_t rcv_bytes;		/* payload bytes in the rcv queue */
	uint32_t ooo_segs;

	/* Timestamps (RFC 7323). */
	uint32_t ts_recent;
	uint32_t ts_recent_ms;		/* when ts_recent was set */
	uint32_t ts_offset;		/* per-connection TSval offset */

	struct {
		uint32_t start, end;
	} sack[TCP_MAX_SACK];		/* most recent first */

	struct rte_mbuf *snd_head;
	struct rte_mbuf *snd_tail;
	struct rte_mbuf *snd_cur;	/* cursor: segment holding cur_seq */
	uint32_t cur_seq;		/* sequence of snd_cur's first byte */
	struct rte_mbuf *rcv_head;
	struct rte_mbuf *rcv_tail;
	struct rte_mbuf *ooo_head;

	struct sg_sink sink;
	struct rte_mbuf *sink_m;	/* snd tail the sink writes into */
	uint32_t wm_low;
	uint32_t wm_high;
};

struct sg_tcp_listener {
	struct sg_tcp_stack *stack;
	struct sg_tcp_listener *next;
	uint32_t ip;
	uint16_t port;
	uint32_t backlog;
	uint32_t embryonic;		/* SYN_RCVD conns of this listener */
	sg_tcp_accept_cb cb;
	void *arg;
};

struct tcp_chunk {
	struct tcp_chunk *next;
};

struct sg_tcp_stack {
	struct sg_tcp_conf conf;
	uint64_t now_ns;		/* refreshed at each entry point */
	uint64_t tsc_hz;
	unsigned depth;			/* nesting of entry points */

	struct tcp_hnode **table;
	uint32_t table_mask;
	uint32_t hash_seed;

	struct sg_tcp_listener *listeners;

	uint32_t nconns;		/* allocated, any state */
	struct sg_tcp_conn *free_conns;	/* linked through h.hnext */
	struct tcp_chunk *chunks;	/* conn memory, freed at destroy */

	struct tcp_tw *tw_mem;
	struct tcp_link tw_fifo;
	struct tcp_link tw_free;
	uint32_t ntw;

	struct tcp_link work;
	struct tcp_link reap;

	uint32_t next_ephemeral;
	uint64_t cookie_last_ns;	/* last SYN cookie sent */
	uint64_t chack_window_ns;	/* challenge ACK rate limit */
	uint32_t chack_count;
	uint32_t rcv_wnd_max;		/* window for a free rcv_buf */
	uint8_t rcv_wscale;		/* what we offer */

	struct sg_timer_wheel wheel;
	struct sg_tcp_stats st;
};

/* A parsed incoming segment. */
struct tcp_seg {
	uint32_t seq;
	uint32_t ack;
	uint32_t len;		/* sequence space: payload + SYN + FIN */
	uint32_t dlen;		/* payload bytes */
	uint32_t wnd;		/* raw field */
	uint16_t hlen;		/* TCP header with options */
	uint8_t flags;
	/* options */
	uint8_t has_mss, has_ws, has_ts, has_sack_perm;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	struct tcp_key key;	/* from our side: lip = dst */
};

/* tcp_stack.c */
void tcp_clock(struct sg_tcp_stack *s);
static inline uint32_t
tcp_now_ms(const struct sg_tcp_stack *s)
{
	return (uint32_t)(s->now_ns / SG_NS_PER_MS);
}
static inline uint32_t
tcp_now_us(const struct sg_tcp_stack *s)
{
	return (uint32_t)(s->now_ns / SG_NS_PER_US);
}
void tcp_enter(struct sg_tcp_stack *s);
void tcp_leave(struct sg_tcp_stack *s);
struct tcp_hnode *tcp_lookup(struct sg_tcp_stack *s, const struct tcp_key *k);
void tcp_hash_insert(struct sg_tcp_stack *s, struct tcp_hnode *h);
void tcp_hash_remove(struct sg_tcp_stack *s, struct tcp_hnode *h);
struct sg_tcp_listener *tcp_listener_find(struct sg_tcp_stack *s,
					  uint32_t ip, uint16_t port);
struct sg_tcp_conn *tcp_conn_alloc(struct sg_tcp_stack *s,
				   const struct tcp_key *k);
void tcp_set_state(struct sg_tcp_conn *c, uint8_t st);
void tcp_conn_destroy(struct sg_tcp_conn *c);
void tcp_conn_drop(struct sg_tcp_conn *c, int status);
void tcp_work(struct sg_tcp_conn *c);
void tcp_timer_update(struct sg_tcp_conn *c);
struct tcp_tw *tcp_tw_enter(struct sg_tcp_conn *c);
void tcp_tw_free(struct sg_tcp_stack *s, struct tcp_tw *tw);
void tcp_free_chain(struct rte_mbuf *m);
void tcp_deliver(struct sg_tcp_conn *c);

/* tcp_input.c */
int tcp_parse(struct rte_mbuf *m, uint32_t src_ip, uint32_t dst_ip,
	      struct tcp_seg *seg, uint8_t *hdrbuf);
void tcp_conn_input(struct sg_tcp_conn *c, struct tcp_seg *seg,
		    struct rte_mbuf *m);
void tcp_time_wait(struct sg_tcp_conn *c);
void tcp_conn_init_from_syn(struct sg_tcp_conn *c,
			    const struct tcp_seg *seg);

/* tcp_output.c */
unsigned tcp_output(struct sg_tcp_conn *c);
uint16_t tcp_phdr_sum(uint32_t src, uint32_t dst, uint32_t len);
uint16_t tcp_cksum_chain(const struct rte_mbuf *m, uint32_t off, uint32_t len);
void tcp_send_rst(struct sg_tcp_stack *s, const struct tcp_key *k,
		  uint32_t seq, uint32_t ack, bool with_ack);
void tcp_send_rst_for(struct sg_tcp_stack *s, const struct tcp_seg *seg);
int tcp_send_ctl(struct sg_tcp_stack *s, const struct tcp_key *k,
		 uint32_t seq, uint32_t ack, uint8_t flags, uint32_t wnd,
		 const uint8_t *opt, unsigned optlen);
void tcp_send_tw_ack(struct sg_tcp_stack *s, struct tcp_tw *tw);
void tcp_send_cookie_synack(struct sg_tcp_stack *s,
			    const struct tcp_seg *seg);
uint32_t tcp_rcv_window(const struct sg_tcp_conn *c);
bool tcp_challenge_allowed(struct sg_tcp_stack *s);
void tcp_sink_settle(struct sg_tcp_conn *c);
void tcp_sink_release(struct sg_tcp_conn *c);
void tcp_check_high(struct sg_tcp_conn *c);
uint32_t tcp_syn_window(const struct sg_tcp_conn *c);
void tcp_sink_init(struct sg_tcp_conn *c);

/* tcp_timer.c */
void tcp_timer_cb(struct sg_timer *t, void *arg);
void tcp_rtt_sample(struct sg_tcp_conn *c, uint32_t rtt_us);
uint64_t tcp_rto_ns(const struct sg_tcp_conn *c);
void tcp_rto_arm(struct sg_tcp_conn *c);
void tcp_persist_arm(struct sg_tcp_conn *c);
void tcp_keepalive_arm(struct sg_tcp_conn *c);
void tcp_delack_arm(struct sg_tcp_conn *c);

/* tcp_syncookie.c: keyed hashes, ISNs, cookies, ports */
uint64_t tcp_siphash(const uint8_t key[16], const void *data, size_t len);
uint32_t tcp_isn(struct sg_tcp_stack *s, const struct tcp_key *k);
uint32_t tcp_ts_offset(struct sg_tcp_stack *s, const struct tcp_key *k);
uint32_t tcp_cookie_make(struct sg_tcp_stack *s, const struct tcp_key *k,
			 uint32_t peer_isn, uint16_t peer_mss,
			 uint16_t *mss_out);
int tcp_cookie_check(struct sg_tcp_stack *s, const struct tcp_key *k,
		     uint32_t peer_isn, uint32_t cookie, uint16_t *mss_out);
int tcp_port_pick(struct sg_tcp_stack *s, struct tcp_key *k);

/* Initial cwnd: RFC 6928 or conf. */
static inline uint32_t
tcp_initial_cwnd(const struct sg_tcp_conn *c)
{
	return c->stack->conf.init_cwnd * c->snd_mss;
}

/* Payload bytes that fit a data segment next to the timestamp option. */
static inline uint32_t
tcp_maxseg(const struct sg_tcp_conn *c)
{
	return c->snd_mss - ((c->flags & F_TS_OK) ? TCP_TS_OPT_LEN : 0);
}

#endif /* TCP_INTERNAL_H */
