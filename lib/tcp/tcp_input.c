/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Input: checksum, header and options, demultiplexing, and the RFC 9293
 * "segment arrives" state machine (3.10.7) with RFC 5961, RFC 7323 PAWS,
 * NewReno ACK processing, reassembly and SACK blocks.
 *
 *                         +---------+
 *           connect: SYN  |  CLOSED |  listener: SYN -> SYN-ACK
 *          +--------------+---------+----------------+
 *          v                                          v
 *     SYN_SENT ---- SYN (simultaneous open) ----> SYN_RCVD
 *          |         send SYN-ACK                     |
 *          | SYN-ACK / send ACK                  ACK of SYN
 *          +---------------> ESTABLISHED <------------+
 *                         /              \
 *        close: send FIN /                \ FIN / ACK it
 *                       v                  v
 *                FIN_WAIT_1            CLOSE_WAIT
 *               /         \                 | close: send FIN
 *     ACK of FIN      FIN / ACK it          v
 *            v              v           LAST_ACK
 *      FIN_WAIT_2        CLOSING            | ACK of FIN
 *            |              | ACK of FIN    v
 *      FIN / ACK it         v            (closed)
 *            +--------> TIME_WAIT  -> compact record, expires
 *
 *   RST (exact sequence) in any synchronized state ends the connection;
 *   in-window RST or any SYN earns a challenge ACK (RFC 5961).
 *
 * Segment processing order for a known connection (3.10.7.4):
 *   PAWS -> SYN -> sequence acceptability -> RST -> ts_recent ->
 *   ACK (SYN_RCVD completion, RFC 5961 ACK check, new ACK / dup ACK,
 *   window update, FIN acknowledged) -> data -> FIN
 */
#include <rte_ip.h>

#include "tcp_internal.h"

#define SEGSEQ(m) ((m)->hash.fdir.hi)

static inline void
ack_now(struct sg_tcp_conn *c)
{
	c->flags |= F_ACKNOW;
	tcp_work(c);
}

static void
challenge_ack(struct sg_tcp_conn *c)
{
	if (tcp_challenge_allowed(c->stack))
		ack_now(c);
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */
/* ------------------------------------------------------------------ */

static bool
cksum_ok(struct rte_mbuf *m, uint32_t src, uint32_t dst)
{
	uint64_t f = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	uint32_t sum;

	if (f == RTE_MBUF_F_RX_L4_CKSUM_GOOD || f == RTE_MBUF_F_RX_L4_CKSUM_NONE)
		return true;
	if (f == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		return false;
	sum = (uint32_t)tcp_cksum_chain(m, 0, m->pkt_len) +
	      tcp_phdr_sum(src, dst, m->pkt_len);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static inline uint32_t
be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Malformed options end the parse; what was read before stays. Options
 * only meaningful on a SYN are ignored elsewhere. */
static void
parse_opts(const uint8_t *o, unsigned n, struct tcp_seg *seg)
{
	bool syn = (seg->flags & TH_SYN) != 0;
	unsigned i = 0;

	while (i < n) {
		uint8_t kind = o[i], len;

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= n)
			break;
		len = o[i + 1];
		if (len < 2 || i + len > n)
			break;
		switch (kind) {
		case TCPOPT_MSS:
			if (len == 4 && syn) {
				seg->has_mss = 1;
				seg->mss = (uint16_t)(o[i + 2] << 8 | o[i + 3]);
			}
			break;
		case TCPOPT_WS:
			if (len == 3 && syn) {
				seg->has_ws = 1;
				/* RFC 7323 2.3: larger shifts mean 14. */
				seg->ws = SG_MIN(o[i + 2], (uint8_t)TCP_MAX_WSCALE);
			}
			break;
		case TCPOPT_SACK_PERM:
			if (len == 2 && syn)
				seg->has_sack_perm = 1;
			break;
		case TCPOPT_TS:
			if (len == 10) {
				seg->has_ts = 1;
				seg->tsval = be32_at(o + i + 2);
				seg->tsecr = be32_at(o + i + 6);
			}
			break;
		default:
			break;	/* SACK blocks from the peer: NewReno ignores */
		}
		i += len;
	}
}

int
tcp_parse(struct rte_mbuf *m, uint32_t src_ip, uint32_t dst_ip,
	  struct tcp_seg *seg, uint8_t *hdrbuf)
{
	const struct rte_tcp_hdr *th;
	const uint8_t *p;
	uint32_t plen = m->pkt_len;
	uint16_t hlen;

	memset(seg, 0, sizeof(*seg));
	if (plen < TCP_HDR_LEN || plen > 65535 - 20)
		return -EINVAL;
	p = rte_pktmbuf_read(m, 0, TCP_HDR_LEN, hdrbuf);
	if (p == NULL)
		return -EINVAL;
	th = (const struct rte_tcp_hdr *)p;
	hlen = (uint16_t)((th->data_off >> 4) * 4);
	if (hlen < TCP_HDR_LEN || hlen > plen)
		return -EINVAL;
	if (th->src_port == 0 || th->dst_port == 0)
		return -EINVAL;
	if (hlen > TCP_HDR_LEN) {
		p = rte_pktmbuf_read(m, 0, hlen, hdrbuf);
		if (p == NULL)
			return -EINVAL;
		th = (const struct rte_tcp_hdr *)p;
	}
	seg->seq = rte_be_to_cpu_32(th->sent_seq);
	seg->ack = rte_be_to_cpu_32(th->recv_ack);
	seg->wnd = rte_be_to_cpu_16(th->rx_win);
	seg->flags = th->tcp_flags & (TH_FIN | TH_SYN | TH_RST | TH_PSH |
				      TH_ACK | TH_URG);
	seg->hlen = hlen;
	seg->dlen = plen - hlen;
	seg->len = seg->dlen + ((seg->flags & TH_SYN) ? 1 : 0) +
		   ((seg->flags & TH_FIN) ? 1 : 0);
	seg->key.lip = dst_ip;
	seg->key.rip = src_ip;
	seg->key.lport = th->dst_port;
	seg->key.rport = th->src_port;
	if (hlen > TCP_HDR_LEN)
		parse_opts(p + TCP_HDR_LEN, hlen - TCP_HDR_LEN, seg);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Mbuf helpers: queues hold single segments                           */
/* ------------------------------------------------------------------ */

/* Drops `n` bytes from the front of a segment list. */
static struct rte_mbuf *
trim_front(struct rte_mbuf *m, uint32_t n)
{
	while (m != NULL && n > 0) {
		if (m->data_len <= n) {
			struct rte_mbuf *next = m->next;

			n -= m->data_len;
			m->next = NULL;
			rte_pktmbuf_free_seg(m);
			m = next;
		} else {
			m->data_off = (uint16_t)(m->data_off + n);
			m->data_len = (uint16_t)(m->data_len - n);
			n = 0;
		}
	}
	return m;
}

/* Keeps the first `len` bytes of a segment list. */
static struct rte_mbuf *
trim_len(struct rte_mbuf *m, uint32_t len)
{
	struct rte_mbuf *head = m, **pp = &head;

	while (*pp != NULL && len >= (*pp)->data_len) {
		len -= (*pp)->data_len;
		pp = &(*pp)->next;
	}
	if (*pp != NULL && len > 0) {
		(*pp)->data_len = (uint16_t)len;
		pp = &(*pp)->next;
	}
	tcp_free_chain(*pp);
	*pp = NULL;
	return head;
}

static uint32_t
chain_mem(const struct rte_mbuf *m)
{
	uint32_t mem = 0;

	for (; m != NULL; m = m->next)
		mem += m->buf_len;
	return mem;
}

/* Appends a segment list to the in-order queue; empty segments go. */
static void
rcv_append(struct sg_tcp_conn *c, struct rte_mbuf *m, bool count_mem)
{
	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		if (m->data_len == 0) {
			if (!count_mem)
				c->rcv_mem -= m->buf_len;
			rte_pktmbuf_free_seg(m);
			m = next;
			continue;
		}
		m->pkt_len = m->data_len;
		m->nb_segs = 1;
		if (count_mem)
			c->rcv_mem += m->buf_len;
		c->rcv_bytes += m->data_len;
		if (c->rcv_tail != NULL)
			c->rcv_tail->next = m;
		else
			c->rcv_head = m;
		c->rcv_tail = m;
		m = next;
	}
}

static void
ooo_purge(struct sg_tcp_conn *c)
{
	c->rcv_mem -= chain_mem(c->ooo_head);
	tcp_free_chain(c->ooo_head);
	c->ooo_head = NULL;
	c->ooo_segs = 0;
	c->nsack = 0;
	c->flags &= ~F_FIN_OOO;
}

/* Inserts one segment [a, a + len) into the sorted out-of-order list,
 * cutting whatever overlaps what is already there. */
static void
ooo_insert(struct sg_tcp_conn *c, struct rte_mbuf *u, uint32_t a)
{
	struct rte_mbuf **pp = &c->ooo_head, *prev = NULL;
	uint32_t b = a + u->data_len;

	u->next = NULL;
	while (*pp != NULL && SEQ_LEQ(SEGSEQ(*pp), a)) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (prev != NULL) {
		uint32_t pend = SEGSEQ(prev) + prev->data_len;

		if (SEQ_GEQ(pend, b)) {
			rte_pktmbuf_free_seg(u);
			return;
		}
		if (SEQ_GT(pend, a)) {
			u->data_off = (uint16_t)(u->data_off + (pend - a));
			u->data_len = (uint16_t)(u->data_len - (pend - a));
			a = pend;
		}
	}
	while (*pp != NULL) {
		struct rte_mbuf *n = *pp;
		uint32_t ns = SEGSEQ(n), ne = ns + n->data_len;

		if (SEQ_GEQ(ns, b))
			break;
		if (SEQ_LEQ(ne, b)) {
			*pp = n->next;
			n->next = NULL;
			c->rcv_mem -= n->buf_len;
			c->ooo_segs--;
			rte_pktmbuf_free_seg(n);
			continue;
		}
		u->data_len = (uint16_t)(ns - a);
		b = ns;
		break;
	}
	if (u->data_len == 0) {
		rte_pktmbuf_free_seg(u);
		return;
	}
	SEGSEQ(u) = a;
	u->pkt_len = u->data_len;
	u->nb_segs = 1;
	u->next = *pp;
	*pp = u;
	c->rcv_mem += u->buf_len;
	c->ooo_segs++;
}

/* The contiguous out-of-order range that overlaps [s, e), if any. */
static bool
ooo_range(const struct sg_tcp_conn *c, uint32_t s, uint32_t e,
	  uint32_t *rs, uint32_t *re)
{
	const struct rte_mbuf *m = c->ooo_head;

	while (m != NULL) {
		uint32_t a = SEGSEQ(m), b = a + m->data_len;

		/* Extend over adjacent segments. */
		while (m->next != NULL && SEGSEQ(m->next) == b) {
			m = m->next;
			b += m->data_len;
		}
		if (SEQ_LT(a, e) && SEQ_GT(b, s)) {
			*rs = a;
			*re = b;
			return true;
		}
		m = m->next;
	}
	return false;
}

/*
 * RFC 2018 4: the first block reports the range holding the segment
 * that just arrived; the others repeat the most recently reported
 * ranges, as they stand now (merged, or gone once rcv_nxt passed them).
 */
static void
sack_update(struct sg_tcp_conn *c, bool fresh, uint32_t a, uint32_t b)
{
	struct {
		uint32_t start, end;
	} nb[TCP_MAX_SACK];
	unsigned n = 0;
	uint32_t rs, re;

	if (!(c->flags & F_SACK_OK)) {
		c->nsack = 0;
		return;
	}
	if (fresh && ooo_range(c, a, b, &rs, &re)) {
		nb[n].start = rs;
		nb[n].end = re;
		n++;
	}
	for (unsigned i = 0; i < c->nsack && n < TCP_MAX_SACK; i++) {
		bool dup = false;

		if (!ooo_range(c, c->sack[i].start, c->sack[i].end, &rs, &re))
			continue;
		for (unsigned j = 0; j < n; j++)
			dup |= nb[j].start == rs;
		if (!dup) {
			nb[n].start = rs;
			nb[n].end = re;
			n++;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		c->sack[i].start = nb[i].start;
		c->sack[i].end = nb[i].end;
	}
	c->nsack = (uint8_t)n;
}

/* Moves what the out-of-order list now continues into the rcv queue. */
static void
ooo_drain(struct sg_tcp_conn *c)
{
	struct rte_mbuf *m;

	while ((m = c->ooo_head) != NULL && SEQ_LEQ(SEGSEQ(m), c->rcv_nxt)) {
		uint32_t end = SEGSEQ(m) + m->data_len;

		c->ooo_head = m->next;
		m->next = NULL;
		c->ooo_segs--;
		if (SEQ_LEQ(end, c->rcv_nxt)) {
			c->rcv_mem -= m->buf_len;
			rte_pktmbuf_free_seg(m);
			continue;
		}
		m = trim_front(m, c->rcv_nxt - SEGSEQ(m));
		c->stack->st.bytes_in += end - c->rcv_nxt;
		c->rcv_nxt = end;
		rcv_append(c, m, false);
	}
	sack_update(c, false, 0, 0);
}

/* ------------------------------------------------------------------ */
/* Connection events                                                   */
/* ------------------------------------------------------------------ */

/* Options and sequence numbers of the peer's SYN (RFC 9293, 7323,
 * 2018): each option is on only if both sides want it. */
void
tcp_conn_init_from_syn(struct sg_tcp_conn *c, const struct tcp_seg *seg)
{
	const struct sg_tcp_conf *cf = &c->stack->conf;
	uint32_t mss = seg->has_mss ? seg->mss : TCP_DEFAULT_MSS;

	c->irs = seg->seq;
	c->rcv_nxt = seg->seq + 1;
	mss = SG_MAX(mss, TCP_MIN_MSS);
	c->snd_mss = (uint16_t)SG_MIN(mss, (uint32_t)cf->mss);
	if (seg->has_ts && !cf->no_timestamps) {
		c->flags |= F_TS_OK | F_TS_RECENT;
		c->ts_recent = seg->tsval;
		c->ts_recent_ms = tcp_now_ms(c->stack);
	}
	if (seg->has_ws && !cf->no_wscale) {
		c->flags |= F_WS_OK;
		c->snd_wscale = seg->ws;
		c->rcv_wscale = c->stack->rcv_wscale;
	} else {
		c->snd_wscale = 0;
		c->rcv_wscale = 0;
	}
	if (seg->has_sack_perm && !cf->no_sack)
		c->flags |= F_SACK_OK;
	/* The window of a SYN is never scaled. */
	c->snd_wnd = seg->wnd;
	c->max_sndwnd = seg->wnd;
	c->snd_wl1 = seg->seq;
}

/* Common to every way into ESTABLISHED: our SYN is acknowledged. */
static void
establish(struct sg_tcp_conn *c, uint32_t ack)
{
	if ((c->flags & F_TIMING) && SEQ_GT(ack, c->rtt_seq)) {
		tcp_rtt_sample(c, tcp_now_us(c->stack) - c->rtt_start_us);
		c->flags &= ~F_TIMING;
	}
	c->snd_una = ack;
	if (SEQ_LT(c->snd_nxt, ack))
		c->snd_nxt = ack;
	c->flags |= F_SYN_ACKED;
	/* RFC 5681 3.1: one segment if the SYN had to be resent. */
	c->cwnd = c->nrexmit != 0 ? c->snd_mss : tcp_initial_cwnd(c);
	c->nrexmit = 0;
	c->rto_at = 0;
	tcp_set_state(c, SG_TCP_ESTABLISHED);
	tcp_keepalive_arm(c);
	tcp_work(c);
}

static void
accept_conn(struct sg_tcp_conn *c)
{
	struct sg_tcp_listener *l = c->listener;

	c->stack->st.passive_opens++;
	if (l == NULL)
		return;
	l->embryonic--;
	c->listener = NULL;
	if (l->cb != NULL)
		l->cb(l, l->arg, c);
}

static void
notify_connected(struct sg_tcp_conn *c)
{
	if (c->cbs != NULL && c->cbs->connected != NULL &&
	    !(c->flags & F_APP_CLOSED))
		c->cbs->connected(c, c->arg, 0);
}

/* The full connection becomes a compact TIME_WAIT record, unless a
 * paused reader still has data to take (then tcp_deliver() finishes
 * the job once it has). */
void
tcp_time_wait(struct sg_tcp_conn *c)
{
	struct tcp_tw *tw;

	tcp_set_state(c, SG_TCP_TIME_WAIT);
	if (c->rcv_head != NULL && !(c->flags & F_APP_CLOSED))
		return;
	tw = tcp_tw_enter(c);
	if (tw != NULL && (c->flags & F_ACKNOW))
		tcp_send_tw_ack(c->stack, tw);
	tcp_conn_drop(c, 0);
}

/* A FIN at rcv_nxt (RFC 9293 3.10.7.4, eighth). */
static void
fin_rcvd(struct sg_tcp_conn *c)
{
	c->rcv_nxt++;
	c->flags &= ~F_FIN_OOO;
	c->flags |= F_EOF_PENDING;
	ack_now(c);
	switch (c->state) {
	case SG_TCP_SYN_RCVD:
	case SG_TCP_ESTABLISHED:
		tcp_set_state(c, SG_TCP_CLOSE_WAIT);
		break;
	case SG_TCP_FIN_WAIT_1:
		tcp_set_state(c, SG_TCP_CLOSING);
		break;
	case SG_TCP_FIN_WAIT_2:
		tcp_deliver(c);
		if (!(c->flags & F_DEAD))
			tcp_time_wait(c);
		return;
	default:
		break;
	}
	tcp_keepalive_arm(c);
	tcp_deliver(c);
}

/* Removes `n` acknowledged bytes from the head of the send queue. */
static void
snd_free(struct sg_tcp_conn *c, uint32_t n)
{
	struct rte_mbuf *m;

	c->snd_bytes -= n;
	while ((m = c->snd_head) != NULL) {
		if (m->data_len <= n && m != c->sink_m) {
			n -= m->data_len;
			c->snd_head = m->next;
			if (c->snd_cur == m)
				c->snd_cur = NULL;
			m->next = NULL;
			rte_pktmbuf_free_seg(m);
			continue;
		}
		n = SG_MIN(n, (uint32_t)m->data_len);
		m->data_off = (uint16_t)(m->data_off + n);
		m->data_len = (uint16_t)(m->data_len - n);
		m->pkt_len = m->data_len;
		break;
	}
	if (c->snd_head == NULL)
		c->snd_tail = NULL;
}

/* An ACK that moves snd_una (RFC 5681, 6582, 6298). */
static void
new_ack(struct sg_tcp_conn *c, uint32_t ack)
{
	uint32_t acked = ack - c->snd_una;
	uint32_t mss = c->snd_mss;
	bool restart_rto = true;

	if ((c->flags & F_TIMING) && SEQ_GT(ack, c->rtt_seq)) {
		tcp_rtt_sample(c, tcp_now_us(c->stack) - c->rtt_start_us);
		c->flags &= ~F_TIMING;
	}
	if (c->flags & F_FASTRECOV) {
		if (SEQ_GT(ack, c->recover)) {
			/* Full ACK: leave recovery (RFC 6582 3.2 step 3,
			 * option 1). */
			uint32_t flight = c->snd_max - ack;

			c->cwnd = SG_MIN(c->ssthresh, SG_MAX(flight, mss) + mss);
			c->flags &= ~(F_FASTRECOV | F_PARTIAL);
			c->dupacks = 0;
		} else {
			/* Partial ACK: resend the next hole, deflate by what
			 * was acknowledged, and restart the RTO only for the
			 * first partial ACK ("impatient" variant). */
			c->flags |= F_RXT_NOW;
			c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
			if (acked >= mss)
				c->cwnd += mss;
			c->cwnd = SG_MAX(c->cwnd, mss);
			if (c->flags & F_PARTIAL)
				restart_rto = false;
			c->flags |= F_PARTIAL;
		}
	} else {
		c->dupacks = 0;
		if (c->cwnd < c->ssthresh)
			c->cwnd += SG_MIN(acked, mss);	/* slow start */
		else
			c->cwnd += SG_MAX(1u, mss * mss / c->cwnd);
		c->cwnd = SG_MIN(c->cwnd, 1u << 30);
	}
	if (acked > c->snd_bytes) {
		/* Our FIN is acknowledged too. */
		snd_free(c, c->snd_bytes);
	} else {
		snd_free(c, acked);
	}
	c->snd_una = ack;
	if (c->snd_cur != NULL && c->snd_cur == c->snd_head)
		c->cur_seq = ack;
	if (SEQ_LT(c->snd_nxt, ack))
		c->snd_nxt = ack;
	if ((c->flags & F_RECOVER) && SEQ_GT(ack, c->recover))
		c->flags &= ~F_RECOVER;
	c->nrexmit = 0;
	if (c->snd_una == c->snd_max) {
		if (!(c->flags & F_PERSIST))
			c->rto_at = 0;
	} else if (restart_rto && !(c->flags & F_PERSIST)) {
		tcp_rto_arm(c);	/* RFC 6298 5.3 */
	}
	tcp_work(c);
	if ((c->flags & F_WANT_WRITABLE) && c->snd_bytes <= c->wm_low) {
		c->flags &= ~F_WANT_WRITABLE;
		if (c->cbs != NULL && c->cbs->writable != NULL &&
		    !(c->flags & F_APP_CLOSED))
			c->cbs->writable(c, c->arg);
	}
}

static void
dup_ack(struct sg_tcp_conn *c, uint32_t ack)
{
	if (c->dupacks < 255)
		c->dupacks++;
	if (c->flags & F_FASTRECOV) {
		c->cwnd += c->snd_mss;	/* inflate: a segment has left */
		tcp_work(c);
	} else if (c->dupacks == TCP_DUPTHRESH) {
		/* RFC 6582 3.2 step 2: not for losses of data sent before
		 * the last recovery or timeout. */
		if ((c->flags & F_RECOVER) && !SEQ_GT(ack, c->recover))
			return;
		c->ssthresh = SG_MAX((c->snd_max - c->snd_una) / 2,
				     2u * c->snd_mss);
		c->recover = c->snd_max - 1;
		c->flags |= F_RECOVER | F_FASTRECOV | F_RXT_NOW;
		c->flags &= ~(F_TIMING | F_PARTIAL);
		c->cwnd = c->ssthresh + TCP_DUPTHRESH * c->snd_mss;
		c->stack->st.fast_retransmits++;
		tcp_rto_arm(c);
		tcp_work(c);
	} else if (c->dupacks < TCP_DUPTHRESH) {
		tcp_work(c);	/* limited transmit may send */
	}
}

/* The ACK field of a segment in a synchronized state. Returns false
 * when the segment must be dropped. */
static bool
ack_input(struct sg_tcp_conn *c, const struct tcp_seg *seg)
{
	uint32_t ack = seg->ack;
	uint32_t wnd = seg->wnd << c->snd_wscale;
	uint32_t oldest = c->snd_una - SG_MAX(c->max_sndwnd, 1u);

	/* RFC 5961 5.2: acceptable ACKs are in [SND.UNA - MAX.SND.WND,
	 * SND.NXT]; anything else is answered with an ACK and dropped. */
	if (SEQ_GT(ack, c->snd_max) || SEQ_LT(ack, oldest)) {
		challenge_ack(c);
		return false;
	}
	if (SEQ_GT(ack, c->snd_una)) {
		new_ack(c, ack);
		if (c->flags & F_DEAD)
			return false;
	} else if (ack == c->snd_una && seg->dlen == 0 &&
		   !(seg->flags & (TH_SYN | TH_FIN)) &&
		   c->snd_max != c->snd_una && wnd == c->snd_wnd && wnd != 0 &&
		   !(c->flags & F_PERSIST)) {
		/* RFC 5681 2: a duplicate ACK. Answers to zero-window probes
		 * are not (BSD: only while the retransmit timer runs). */
		dup_ack(c, ack);
	}
	/* Window update (3.10.7.4, fifth, ESTABLISHED). */
	if (SEQ_LT(c->snd_wl1, seg->seq) ||
	    (c->snd_wl1 == seg->seq && SEQ_LEQ(c->snd_wl2, ack))) {
		if (wnd > c->snd_wnd)
			tcp_work(c);
		c->snd_wnd = wnd;
		c->snd_wl1 = seg->seq;
		c->snd_wl2 = ack;
		c->max_sndwnd = SG_MAX(c->max_sndwnd, wnd);
		if (wnd > 0 && (c->flags & F_PERSIST)) {
			c->flags &= ~F_PERSIST;
			c->rto_at = 0;
			tcp_work(c);
		}
	}
	return true;
}

/* Payload (and a FIN) of an acceptable segment. `m` starts at the
 * payload. */
static void
data_input(struct sg_tcp_conn *c, const struct tcp_seg *seg,
	   struct rte_mbuf *m)
{
	struct sg_tcp_stack *s = c->stack;
	uint32_t seq = seg->seq, dlen = seg->dlen;
	bool fin = (seg->flags & TH_FIN) != 0;
	bool had_ooo = c->ooo_head != NULL;
	uint32_t full;

	/* Trim to [rcv_nxt, rcv_adv) (RFC 9293 3.10.7.4). */
	if (SEQ_LT(seq, c->rcv_nxt)) {
		uint32_t cut = c->rcv_nxt - seq;

		if (cut >= dlen) {
			/* Only the FIN (if any) is new. */
			m = trim_front(m, dlen);
			dlen = 0;
			if (fin && seq + seg->dlen != c->rcv_nxt)
				fin = false;
		} else {
			m = trim_front(m, cut);
			dlen -= cut;
		}
		seq = c->rcv_nxt;
	}
	if (dlen > 0 && SEQ_GT(seq + dlen, c->rcv_adv)) {
		uint32_t keep = SEQ_GT(c->rcv_adv, seq) ? c->rcv_adv - seq : 0;

		m = trim_len(m, keep);
		dlen = keep;
		fin = false;	/* the FIN lies beyond the window */
	}
	if (c->flags & F_APP_CLOSED) {
		/* Nobody reads any more: acknowledge and discard. */
		tcp_free_chain(m);
		m = NULL;
		if (seq == c->rcv_nxt)
			c->rcv_nxt += dlen;
		else
			fin = false;
		if (dlen > 0)
			ack_now(c);
		goto fin;
	}
	if (dlen == 0) {
		tcp_free_chain(m);
		m = NULL;
		goto fin;
	}

	if (seq == c->rcv_nxt) {
		uint32_t cap = 2 * s->conf.rcv_buf, need = chain_mem(m);

		if (c->rcv_mem + need > cap && c->ooo_head != NULL) {
			/* In-order data outranks the out-of-order queue: a
			 * queue that fills memory must not block its hole. */
			ooo_purge(c);
			s->st.ooo_pruned++;
			had_ooo = false;
		}
		if (c->rcv_mem + need > cap) {
			s->st.rcv_mem_drops++;
			tcp_free_chain(m);
			ack_now(c);
			return;
		}
		rcv_append(c, m, true);
		m = NULL;
		c->rcv_nxt += dlen;
		s->st.bytes_in += dlen;
		if (had_ooo) {
			ooo_drain(c);
			ack_now(c);	/* RFC 5681 4.2: a hole was filled */
		}
		/* Delayed ACK: a reply written this iteration carries it;
		 * otherwise at the latest after delack_ns, or at once for a
		 * full-sized segment (the sender may hold a short tail
		 * behind it) and for every second segment. */
		full = SG_MIN(c->rcv_mss, c->snd_mss) -
		       ((c->flags & F_TS_OK) ? TCP_TS_OPT_LEN : 0);
		if (dlen >= full || (c->flags & F_DELACK))
			ack_now(c);
		else
			tcp_delack_arm(c);
		if (!(c->flags & F_PAUSED)) {
			tcp_deliver(c);
			if (c->flags & F_DEAD)
				return;
		}
	} else {
		/* Out of order: keep it if memory allows, and say so at
		 * once with a duplicate ACK carrying SACK blocks. */
		uint32_t cap = 2 * s->conf.rcv_buf;
		uint32_t off = 0;

		s->st.ooo_segments++;
		if (c->rcv_mem + chain_mem(m) > cap) {
			s->st.rcv_mem_drops++;
			tcp_free_chain(m);
			ack_now(c);
			return;
		}
		while (m != NULL) {
			struct rte_mbuf *next = m->next;
			uint32_t l = m->data_len;

			if (l == 0) {
				m->next = NULL;
				rte_pktmbuf_free_seg(m);
			} else {
				ooo_insert(c, m, seq + off);
			}
			off += l;
			m = next;
		}
		if (fin) {
			c->flags |= F_FIN_OOO;
			c->fin_seq = seq + dlen;
			fin = false;
		}
		sack_update(c, true, seq, seq + dlen);
		ack_now(c);
		return;
	}
fin:
	if (fin && seq + dlen == c->rcv_nxt) {
		fin_rcvd(c);
		return;
	}
	if ((c->flags & F_FIN_OOO) && c->fin_seq == c->rcv_nxt &&
	    c->ooo_head == NULL)
		fin_rcvd(c);
}

/* RFC 9293 3.10.7.4 "first": is any part of the segment in the window?
 * A bare FIN at rcv_nxt is taken even by a closed window (it needs no
 * memory). */
static bool
acceptable(const struct sg_tcp_conn *c, const struct tcp_seg *seg)
{
	uint32_t wnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t len = seg->len;

	if (seg->dlen == 0 && seg->seq == c->rcv_nxt)
		return true;
	if (len == 0) {
		if (wnd == 0)
			return seg->seq == c->rcv_nxt;
		return SEQ_GEQ(seg->seq, c->rcv_nxt) &&
		       SEQ_LT(seg->seq, c->rcv_nxt + wnd);
	}
	if (wnd == 0)
		return false;
	return (SEQ_GEQ(seg->seq, c->rcv_nxt) &&
		SEQ_LT(seg->seq, c->rcv_nxt + wnd)) ||
	       (SEQ_GEQ(seg->seq + len - 1, c->rcv_nxt) &&
		SEQ_LT(seg->seq + len - 1, c->rcv_nxt + wnd));
}

static void
syn_sent_input(struct sg_tcp_conn *c, struct tcp_seg *seg, struct rte_mbuf *m)
{
	struct sg_tcp_stack *s = c->stack;
	bool ack_ok = false;

	if (seg->flags & TH_ACK) {
		if (SEQ_LEQ(seg->ack, c->iss) || SEQ_GT(seg->ack, c->snd_max)) {
			if (!(seg->flags & TH_RST))
				tcp_send_rst(s, &c->h.key, seg->ack, 0, false);
			goto drop;
		}
		ack_ok = true;
	}
	if (seg->flags & TH_RST) {
		/* Only a RST that acknowledges our SYN refuses us. */
		if (ack_ok) {
			s->st.resets_in++;
			tcp_conn_drop(c, -ECONNREFUSED);
		}
		goto drop;
	}
	if (!(seg->flags & TH_SYN))
		goto drop;
	tcp_conn_init_from_syn(c, seg);
	if (ack_ok) {
		c->snd_wl2 = seg->ack;
		c->rcv_adv = c->rcv_nxt + tcp_syn_window(c);
		c->last_ack_sent = c->rcv_nxt;
		establish(c, seg->ack);
		ack_now(c);
		notify_connected(c);
	} else {
		/* Simultaneous open: answer with SYN-ACK (same ISS). */
		tcp_set_state(c, SG_TCP_SYN_RCVD);
		c->snd_nxt = c->iss;
		c->flags &= ~F_TIMING;
		tcp_work(c);
	}
drop:
	rte_pktmbuf_free(m);
}

/* A segment for a connection in any state but SYN_SENT. */
void
tcp_conn_input(struct sg_tcp_conn *c, struct tcp_seg *seg, struct rte_mbuf *m)
{
	struct sg_tcp_stack *s = c->stack;

	if (c->state == SG_TCP_SYN_SENT) {
		syn_sent_input(c, seg, m);
		goto out;
	}

	/* PAWS (RFC 7323 5.3): an older timestamp is an old duplicate,
	 * unless ts_recent went stale after 24 idle days. */
	if ((c->flags & (F_TS_OK | F_TS_RECENT)) == (F_TS_OK | F_TS_RECENT) &&
	    seg->has_ts && !(seg->flags & TH_RST) &&
	    SEQ_LT(seg->tsval, c->ts_recent)) {
		if ((uint32_t)(tcp_now_ms(s) - c->ts_recent_ms) > TCP_PAWS_IDLE_MS) {
			c->flags &= ~F_TS_RECENT;
		} else {
			s->st.paws_drops++;
			ack_now(c);
			goto drop;
		}
	}

	/* SYN in a synchronized state: RFC 5961 4.2, challenge ACK
	 * whatever its sequence. A copy of the peer's own SYN in SYN_RCVD
	 * just gets our SYN-ACK again. */
	if (seg->flags & TH_SYN) {
		if (c->state != SG_TCP_SYN_RCVD || seg->seq != c->irs) {
			if (!(seg->flags & TH_RST))
				challenge_ack(c);
			goto drop;
		}
		if (!(seg->flags & TH_ACK)) {
			ack_now(c);
			goto drop;
		}
		/* Simultaneous open: the peer's SYN-ACK. Its SYN is one we
		 * have; keep the ACK (and whatever follows) as BSD does. */
		seg->flags &= (uint8_t)~TH_SYN;
		seg->seq++;
		seg->len--;
	}

	if (!acceptable(c, seg)) {
		/* Out of window: a RST is ignored, anything else gets an
		 * ACK saying where we are. */
		if (!(seg->flags & TH_RST)) {
			s->st.dup_segments++;
			ack_now(c);
		}
		goto drop;
	}

	if (seg->flags & TH_RST) {
		/* RFC 5961 3.2: only the exact next sequence resets. */
		if (seg->seq != c->rcv_nxt) {
			challenge_ack(c);
			goto drop;
		}
		s->st.resets_in++;
		if (c->state == SG_TCP_SYN_RCVD && (c->flags & F_PASSIVE))
			tcp_conn_destroy(c);	/* back to LISTEN */
		else if (c->state == SG_TCP_SYN_RCVD)
			tcp_conn_drop(c, -ECONNREFUSED);
		else if ((c->state == SG_TCP_CLOSING ||
			  c->state == SG_TCP_LAST_ACK) && c->snd_bytes == 0)
			/* Both FINs are in and all our data acknowledged:
			 * the peer forgot the connection after our last ACK
			 * was lost (3.10.7.4: CLOSED, nothing lost). */
			tcp_conn_drop(c, 0);
		else
			tcp_conn_drop(c, -ECONNRESET);
		goto drop;
	}

	c->last_rcv_ns = s->now_ns;
	c->ka_probes = 0;
	/* RFC 7323 4.3: remember the timestamp of the segment we will
	 * acknowledge next. */
	if ((c->flags & F_TS_OK) && seg->has_ts &&
	    SEQ_LEQ(seg->seq, c->last_ack_sent) &&
	    (!(c->flags & F_TS_RECENT) || SEQ_GEQ(seg->tsval, c->ts_recent))) {
		c->ts_recent = seg->tsval;
		c->ts_recent_ms = tcp_now_ms(s);
		c->flags |= F_TS_RECENT;
	}

	if (!(seg->flags & TH_ACK))
		goto drop;

	if (c->state == SG_TCP_SYN_RCVD) {
		if (!SEQ_GT(seg->ack, c->snd_una) ||
		    SEQ_GT(seg->ack, c->snd_max)) {
			tcp_send_rst(s, &c->h.key, seg->ack, 0, false);
			goto drop;
		}
		c->snd_wnd = seg->wnd << c->snd_wscale;
		c->snd_wl1 = seg->seq;
		c->snd_wl2 = seg->ack;
		c->max_sndwnd = SG_MAX(c->max_sndwnd, c->snd_wnd);
		establish(c, seg->ack);
		if (c->flags & F_PASSIVE)
			accept_conn(c);
		else
			notify_connected(c);
		if (c->flags & F_DEAD)
			goto drop;
	} else {
		if (!ack_input(c, seg))
			goto drop;
	}

	/* Our FIN acknowledged? */
	if ((c->flags & F_FIN_SENT) && c->snd_una == c->snd_max &&
	    c->snd_bytes == 0) {
		switch (c->state) {
		case SG_TCP_FIN_WAIT_1:
			tcp_set_state(c, SG_TCP_FIN_WAIT_2);
			c->rto_at = 0;
			tcp_keepalive_arm(c);
			break;
		case SG_TCP_CLOSING:
			tcp_time_wait(c);
			goto drop;
		case SG_TCP_LAST_ACK:
			tcp_conn_drop(c, 0);
			goto drop;
		default:
			break;
		}
	}

	switch (c->state) {
	case SG_TCP_ESTABLISHED:
	case SG_TCP_FIN_WAIT_1:
	case SG_TCP_FIN_WAIT_2:
		m = trim_front(m, seg->hlen);
		data_input(c, seg, m);
		m = NULL;
		break;
	case SG_TCP_TIME_WAIT:
		/* A full connection waiting for its reader: the peer's FIN
		 * came again. */
		if (seg->flags & TH_FIN)
			ack_now(c);
		break;
	default:
		/* CLOSE_WAIT, CLOSING, LAST_ACK: the peer's FIN is in;
		 * anything after it is ignored, a resent FIN re-ACKed. */
		if (seg->len > 0)
			ack_now(c);
		break;
	}
drop:
	if (m != NULL)
		rte_pktmbuf_free(m);
out:
	tcp_timer_update(c);
}

/* ------------------------------------------------------------------ */
/* No connection: TIME_WAIT records and listeners                      */
/* ------------------------------------------------------------------ */

/* Returns true when the segment was consumed; false when it is a new
 * SYN that may reopen the 4-tuple (the record is gone and *isn_floor
 * holds a sequence the new ISN must exceed). */
static bool
tw_input(struct sg_tcp_stack *s, struct tcp_tw *tw, struct tcp_seg *seg,
	 uint32_t *isn_floor)
{
	if (seg->flags & TH_RST) {
		if (seg->seq == tw->rcv_nxt) {
			s->st.resets_in++;
			tcp_tw_free(s, tw);
		}
		return true;
	}
	if ((seg->flags & (TH_SYN | TH_ACK)) == TH_SYN) {
		/* RFC 6191 / RFC 1122 4.2.2.13: a new incarnation is fine
		 * when its timestamp or sequence number is newer. */
		if ((tw->ts_ok && seg->has_ts && SEQ_GT(seg->tsval, tw->ts_recent)) ||
		    SEQ_GT(seg->seq, tw->rcv_nxt)) {
			*isn_floor = tw->snd_nxt;
			tcp_tw_free(s, tw);
			s->st.tw_recycled++;
			return false;
		}
		tcp_send_tw_ack(s, tw);
		return true;
	}
	if (tw->ts_ok && seg->has_ts && SEQ_LT(seg->tsval, tw->ts_recent)) {
		s->st.paws_drops++;
		tcp_send_tw_ack(s, tw);
		return true;
	}
	if (tw->ts_ok && seg->has_ts && seg->seq == tw->rcv_nxt - 1)
		tw->ts_recent = seg->tsval;	/* the FIN we acknowledge */
	if (seg->flags & TH_FIN) {
		/* The peer did not get our last ACK: again, and the
		 * 2 MSL wait starts over. */
		tw->expires_ns = s->now_ns + s->conf.time_wait_ns;
		link_del(&tw->fifo);
		link_add_tail(&s->tw_fifo, &tw->fifo);
	}
	if (seg->len > 0)
		tcp_send_tw_ack(s, tw);
	return true;
}

/* A connection rebuilt from a valid cookie in the handshake's final
 * ACK (tcp_syncookie.c explains the encoding). */
static struct sg_tcp_conn *
cookie_conn(struct sg_tcp_listener *l, const struct tcp_seg *seg, uint16_t mss)
{
	struct sg_tcp_stack *s = l->stack;
	struct sg_tcp_conn *c = tcp_conn_alloc(s, &seg->key);

	if (c == NULL)
		return NULL;
	c->flags |= F_PASSIVE | F_SYN_ACKED;
	c->iss = seg->ack - 1;
	c->irs = seg->seq - 1;
	c->snd_una = c->snd_nxt = c->snd_max = seg->ack;
	c->rcv_nxt = seg->seq;
	c->snd_mss = (uint16_t)SG_MIN(mss, s->conf.mss);
	if (seg->has_ts && !s->conf.no_timestamps) {
		uint32_t enc = seg->tsecr & 0x1f;

		c->flags |= F_TS_OK | F_TS_RECENT;
		c->ts_recent = seg->tsval;
		c->ts_recent_ms = tcp_now_ms(s);
		if ((enc & 0xf) != 0) {
			c->flags |= F_WS_OK;
			c->snd_wscale = (uint8_t)((enc & 0xf) - 1);
			c->rcv_wscale = s->rcv_wscale;
		}
		if (enc & 0x10)
			c->flags |= F_SACK_OK;
	}
	c->rcv_adv = c->rcv_nxt + SG_MIN(s->rcv_wnd_max, 65535u);
	c->last_ack_sent = c->rcv_nxt;
	c->snd_wnd = seg->wnd << c->snd_wscale;
	c->max_sndwnd = c->snd_wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = seg->ack;
	c->cwnd = tcp_initial_cwnd(c);
	tcp_set_state(c, SG_TCP_ESTABLISHED);
	tcp_hash_insert(s, &c->h);
	tcp_keepalive_arm(c);
	return c;
}

static void
listen_input(struct sg_tcp_listener *l, struct tcp_seg *seg,
	     struct rte_mbuf *m, uint32_t isn_floor, bool has_floor)
{
	struct sg_tcp_stack *s = l->stack;
	const struct sg_tcp_conf *cf = &s->conf;
	struct sg_tcp_conn *c;

	if (seg->flags & TH_RST)
		goto drop;
	if (seg->flags & TH_ACK) {
		uint16_t mss;

		/* The last ACK of a handshake answered with a cookie? */
		if (!(seg->flags & TH_SYN) && !cf->no_syn_cookies &&
		    s->cookie_last_ns != 0 &&
		    s->now_ns - s->cookie_last_ns < 2 * TCP_COOKIE_PERIOD_NS) {
			if (tcp_cookie_check(s, &seg->key, seg->seq - 1,
					     seg->ack - 1, &mss) == 0) {
				c = cookie_conn(l, seg, mss);
				if (c == NULL) {
					s->st.listen_overflows++;
					goto drop;
				}
				s->st.syncookies_ok++;
				s->st.passive_opens++;
				if (l->cb != NULL)
					l->cb(l, l->arg, c);
				if (c->flags & F_DEAD)
					goto drop;
				tcp_conn_input(c, seg, m);
				return;
			}
			s->st.syncookies_failed++;
		}
		tcp_send_rst_for(s, seg);
		goto drop;
	}
	if (!(seg->flags & TH_SYN))
		goto drop;
	if (l->embryonic >= l->backlog || s->nconns >= cf->max_conns ||
	    (c = tcp_conn_alloc(s, &seg->key)) == NULL) {
		if (!cf->no_syn_cookies)
			tcp_send_cookie_synack(s, seg);
		else
			s->st.listen_overflows++;
		goto drop;
	}
	c->flags |= F_PASSIVE;
	c->listener = l;
	l->embryonic++;
	tcp_conn_init_from_syn(c, seg);
	c->iss = tcp_isn(s, &seg->key);
	if (has_floor && !SEQ_GT(c->iss, isn_floor))
		c->iss = isn_floor + 0x20000;
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->snd_wl2 = c->iss;
	c->last_ack_sent = c->rcv_nxt;
	tcp_set_state(c, SG_TCP_SYN_RCVD);
	tcp_hash_insert(s, &c->h);
	tcp_work(c);
drop:
	rte_pktmbuf_free(m);
}

void
sg_tcp_input(struct sg_tcp_stack *s, struct rte_mbuf *m, uint32_t src_ip,
	     uint32_t dst_ip)
{
	uint8_t hdr[TCP_HDR_LEN + TCP_MAX_OPT];
	struct sg_tcp_listener *l;
	struct tcp_hnode *h;
	struct tcp_seg seg;
	uint32_t floor = 0;
	bool has_floor = false;

	tcp_enter(s);
	s->st.segs_in++;
	if (m->pkt_len < TCP_HDR_LEN || m->pkt_len > 65535 - 20) {
		s->st.bad_segments++;
		goto drop;
	}
	if (!cksum_ok(m, src_ip, dst_ip)) {
		s->st.cksum_errors++;
		goto drop;
	}
	if (tcp_parse(m, src_ip, dst_ip, &seg, hdr) != 0) {
		s->st.bad_segments++;
		goto drop;
	}
	h = tcp_lookup(s, &seg.key);
	if (h != NULL && h->kind == TCP_HN_CONN) {
		tcp_conn_input((struct sg_tcp_conn *)h, &seg, m);
		goto out;
	}
	if (h != NULL && h->kind == TCP_HN_TW) {
		if (tw_input(s, (struct tcp_tw *)h, &seg, &floor))
			goto drop;
		has_floor = true;
	}
	l = tcp_listener_find(s, seg.key.lip, seg.key.lport);
	if (l != NULL) {
		listen_input(l, &seg, m, floor, has_floor);
		goto out;
	}
	s->st.no_conn++;
	tcp_send_rst_for(s, &seg);
drop:
	rte_pktmbuf_free(m);
out:
	tcp_leave(s);
}
