/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Output: what a connection may send now, how a segment is built, the
 * receive window we advertise, stateless replies, and the sink.
 *
 * tcp_output() runs from sg_tcp_stack_flush() for every connection on
 * the work list, so all that one loop iteration produced for a
 * connection (replies, ACKs, window updates) leaves together: one
 * segment per MSS at most, and a pure ACK only when nothing else can
 * carry it.
 *
 *   sequence space of the send queue (snd_head holds snd_una's byte):
 *
 *     snd_una        snd_nxt             snd_una+snd_bytes (+FIN)
 *        |  in flight   |  sendable within   |
 *        |              |  min(snd_wnd,cwnd) |
 *        +--------------+--------------------+
 *                       ^ the cursor (snd_cur) remembers where
 *                         snd_nxt's byte lives, so a large window is
 *                         not walked from the head for every segment
 *
 * Copy on send: each segment is a fresh mbuf holding the header and a
 * copy of the payload (one segment's worth, at most an MSS). The send
 * queue's mbufs never reach the driver, so retransmitting never touches
 * an mbuf a NIC may still be reading, the packet is single-segment for
 * every PMD, and no refcount traffic is needed. An MSS-sized memcpy
 * costs less than allocating and attaching indirect mbufs and freeing
 * them through atomic refcounts.
 */
#include <netinet/in.h>

#include <rte_ip.h>

#include "tcp_internal.h"

/* ------------------------------------------------------------------ */
/* Checksums                                                           */
/* ------------------------------------------------------------------ */

/* One's complement sum of the IPv4 pseudo-header, folded, not
 * complemented. Words are read in memory order like rte_raw_cksum. */
uint16_t
tcp_phdr_sum(uint32_t src, uint32_t dst, uint32_t len)
{
	uint32_t sum = (src & 0xffff) + (src >> 16) + (dst & 0xffff) +
		       (dst >> 16) + rte_cpu_to_be_16(IPPROTO_TCP) +
		       rte_cpu_to_be_16((uint16_t)len);

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * One's complement sum of [off, off + len) of a chain, folded, not
 * complemented. Not rte_raw_cksum_mbuf(): in DPDK 22.11 it byte-swaps
 * the unreduced 32-bit sum of a segment that starts at an odd offset,
 * truncating it, so a chain with an odd-length segment sums wrong.
 */
uint16_t
tcp_cksum_chain(const struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	uint32_t sum = 0, done = 0;

	for (; m != NULL && off >= m->data_len; m = m->next)
		off -= m->data_len;
	for (; m != NULL && done < len; m = m->next) {
		uint32_t n = SG_MIN((uint32_t)m->data_len - off, len - done);
		uint16_t t = rte_raw_cksum(rte_pktmbuf_mtod_offset(m, char *, off), n);

		sum += (done & 1) ? rte_bswap16(t) : t;
		done += n;
		off = 0;
	}
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void
cksum_finish(struct sg_tcp_stack *s, struct rte_mbuf *m,
	     struct rte_tcp_hdr *th, uint32_t lip, uint32_t rip, uint16_t hlen)
{
	uint32_t len = m->pkt_len;
	uint32_t sum;

	th->cksum = 0;
	if (s->conf.tx_cksum_offload) {
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
		m->l4_len = hlen;
		th->cksum = tcp_phdr_sum(lip, rip, len);
		return;
	}
	sum = (uint32_t)tcp_cksum_chain(m, 0, len) + tcp_phdr_sum(lip, rip, len);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	th->cksum = (uint16_t)~sum;
}

static void
emit(struct sg_tcp_stack *s, struct rte_mbuf *m, const struct tcp_key *k)
{
	s->st.segs_out++;
	if (s->conf.ip_output(s->conf.ctx, m, k->lip, k->rip) < 0)
		s->st.output_errors++;
}

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

static unsigned
put_ts(uint8_t *o, uint32_t val, uint32_t ecr, bool nops)
{
	unsigned n = 0;

	if (nops) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_NOP;
	}
	o[n++] = TCPOPT_TS;
	o[n++] = 10;
	val = rte_cpu_to_be_32(val);
	ecr = rte_cpu_to_be_32(ecr);
	memcpy(o + n, &val, 4);
	memcpy(o + n + 4, &ecr, 4);
	return n + 8;
}

static unsigned
put_mss(uint8_t *o, uint16_t mss)
{
	o[0] = TCPOPT_MSS;
	o[1] = 4;
	o[2] = (uint8_t)(mss >> 8);
	o[3] = (uint8_t)mss;
	return 4;
}

static unsigned
put_ws(uint8_t *o, uint8_t shift)
{
	o[0] = TCPOPT_NOP;
	o[1] = TCPOPT_WS;
	o[2] = 3;
	o[3] = shift;
	return 4;
}

static inline uint32_t
tsval(const struct sg_tcp_conn *c)
{
	return tcp_now_ms(c->stack) + c->ts_offset;
}

/* MSS, then SACK-permitted and timestamps packed together, then window
 * scale: at most 20 bytes. SYN_SENT offers what we support; SYN_RCVD
 * answers with what both sides support. */
static unsigned
syn_opts(const struct sg_tcp_conn *c, uint8_t *o)
{
	const struct sg_tcp_conf *cf = &c->stack->conf;
	bool active = c->state == SG_TCP_SYN_SENT;
	bool ts = active ? !cf->no_timestamps : (c->flags & F_TS_OK) != 0;
	bool sack = active ? !cf->no_sack : (c->flags & F_SACK_OK) != 0;
	bool ws = active ? !cf->no_wscale : (c->flags & F_WS_OK) != 0;
	unsigned n = put_mss(o, c->rcv_mss);

	if (sack && ts) {
		o[n++] = TCPOPT_SACK_PERM;
		o[n++] = 2;
		n += put_ts(o + n, tsval(c), c->ts_recent, false);
	} else if (ts) {
		n += put_ts(o + n, tsval(c), c->ts_recent, true);
	} else if (sack) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_SACK_PERM;
		o[n++] = 2;
	}
	if (ws)
		n += put_ws(o + n, c->stack->rcv_wscale);
	return n;
}

static unsigned
sack_count(const struct sg_tcp_conn *c)
{
	unsigned max = (c->flags & F_TS_OK) ? 3 : 4;

	if (!(c->flags & F_SACK_OK))
		return 0;
	return SG_MIN((unsigned)c->nsack, max);
}

static unsigned
data_opts_len(const struct sg_tcp_conn *c)
{
	unsigned n = (c->flags & F_TS_OK) ? TCP_TS_OPT_LEN : 0;
	unsigned ns = sack_count(c);

	if (ns > 0)
		n += 4 + 8 * ns;
	return n;
}

static unsigned
data_opts(const struct sg_tcp_conn *c, uint8_t *o)
{
	unsigned n = 0, ns = sack_count(c);

	if (c->flags & F_TS_OK)
		n += put_ts(o, tsval(c), c->ts_recent, true);
	if (ns > 0) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_SACK;
		o[n++] = (uint8_t)(2 + 8 * ns);
		for (unsigned i = 0; i < ns; i++) {
			uint32_t a = rte_cpu_to_be_32(c->sack[i].start);
			uint32_t b = rte_cpu_to_be_32(c->sack[i].end);

			memcpy(o + n, &a, 4);
			memcpy(o + n + 4, &b, 4);
			n += 8;
		}
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Receive window                                                      */
/* ------------------------------------------------------------------ */

/* What the free receive memory can take, counted in full segments: a
 * held mbuf costs its buf_len whatever payload it carries. */
static uint32_t
free_window(const struct sg_tcp_conn *c)
{
	const struct sg_tcp_conf *cf = &c->stack->conf;

	uint64_t w;

	if (c->rcv_mem >= cf->rcv_buf)
		return 0;
	w = (uint64_t)((cf->rcv_buf - c->rcv_mem) / cf->rx_buf_len) * c->rcv_mss;
	return (uint32_t)SG_MIN(w, (uint64_t)TCP_MAX_WINDOW);
}

uint32_t
tcp_syn_window(const struct sg_tcp_conn *c)
{
	return SG_MIN(free_window(c), 65535u);
}

static inline uint32_t
advertised(const struct sg_tcp_conn *c)
{
	return SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
}

/*
 * The window for the next segment, in bytes. The right edge never
 * moves left (RFC 9293 3.8.6: no shrinking), and it moves right only by
 * a worthwhile step, at least min(half the maximum window, one MSS):
 * the receiver's half of silly-window avoidance (3.8.6.2.2).
 */
uint32_t
tcp_rcv_window(const struct sg_tcp_conn *c)
{
	uint32_t win = free_window(c);
	uint32_t adv = advertised(c);
	uint32_t maxw = (c->flags & F_WS_OK) ? (65535u << c->rcv_wscale) :
					       65535u;
	uint32_t step = SG_MIN(c->stack->rcv_wnd_max / 2, (uint32_t)c->rcv_mss);

	if (win > maxw)
		win = maxw;
	if (win > adv && win - adv < step)
		win = adv;
	if (win < adv)
		win = adv;
	return win;
}

/* After the reader took data: is the window now worth announcing on
 * its own? (Two segments more, or opening from less than one.) */
static bool
window_update_due(const struct sg_tcp_conn *c)
{
	uint32_t adv = advertised(c);
	uint32_t win = tcp_rcv_window(c);

	if (win <= adv)
		return false;
	return win - adv >= 2u * c->rcv_mss ||
	       win - adv >= c->stack->rcv_wnd_max / 2 || adv < c->rcv_mss;
}

/* The window field of a non-SYN segment; moves rcv_adv. */
static uint16_t
window_field(struct sg_tcp_conn *c)
{
	uint32_t win = tcp_rcv_window(c);
	uint32_t adv = advertised(c);
	uint8_t sh = (c->flags & F_WS_OK) ? c->rcv_wscale : 0;
	uint32_t f = win >> sh;
	uint32_t edge;

	/* Rounding down by the scale must not retract the edge. */
	if ((f << sh) < adv)
		f = (adv + (1u << sh) - 1) >> sh;
	if (f > 65535)
		f = 65535;
	edge = c->rcv_nxt + (f << sh);
	if (SEQ_GT(edge, c->rcv_adv))
		c->rcv_adv = edge;
	return (uint16_t)f;
}

/* ------------------------------------------------------------------ */
/* Building a segment                                                  */
/* ------------------------------------------------------------------ */

/* Copies `len` bytes of the send queue starting at `seq` to the end of
 * `m`, chaining more mbufs if the MSS exceeds one mbuf's room. */
static int
copy_payload(struct sg_tcp_conn *c, struct rte_mbuf *m, uint32_t seq,
	     uint32_t len)
{
	struct rte_mbuf *q, *d = m;
	uint32_t qseq, off;

	if (c->snd_cur != NULL && SEQ_LEQ(c->cur_seq, seq) &&
	    SEQ_GEQ(c->cur_seq, c->snd_una)) {
		q = c->snd_cur;
		qseq = c->cur_seq;
	} else {
		q = c->snd_head;
		qseq = c->snd_una;
	}
	while (q != NULL && SEQ_GEQ(seq, qseq + q->data_len)) {
		qseq += q->data_len;
		q = q->next;
	}
	c->snd_cur = q;
	c->cur_seq = qseq;
	off = seq - qseq;
	while (len > 0) {
		uint32_t room = rte_pktmbuf_tailroom(d), n;

		if (q == NULL)
			return -EINVAL;	/* cannot happen: len <= queued */
		if (room == 0) {
			struct rte_mbuf *e = rte_pktmbuf_alloc(c->stack->conf.pool);

			if (e == NULL)
				return -ENOBUFS;
			e->data_off = 0;
			d->next = e;
			m->nb_segs++;
			d = e;
			continue;
		}
		n = SG_MIN(SG_MIN((uint32_t)q->data_len - off, len), room);
		memcpy(rte_pktmbuf_mtod_offset(d, char *, d->data_len),
		       rte_pktmbuf_mtod_offset(q, char *, off), n);
		d->data_len += n;
		m->pkt_len += n;
		len -= n;
		off += n;
		if (off == q->data_len) {
			q = q->next;
			off = 0;
		}
	}
	return 0;
}

/*
 * Builds and emits one segment of `c`: [seq, seq + len) of the send
 * queue with `flags`. Every segment but a SYN carries the ACK, so this
 * is where pending ACKs are settled. Returns 0 or -ENOBUFS (counted,
 * the connection retries at the next flush).
 */
static int
send_seg(struct sg_tcp_conn *c, uint32_t seq, uint32_t len, uint8_t flags)
{
	struct sg_tcp_stack *s = c->stack;
	uint8_t opt[TCP_MAX_OPT];
	unsigned optlen = (flags & TH_SYN) ? syn_opts(c, opt) : data_opts(c, opt);
	uint16_t hlen = (uint16_t)(TCP_HDR_LEN + optlen);
	struct rte_mbuf *m = rte_pktmbuf_alloc(s->conf.pool);
	struct rte_tcp_hdr *th;
	uint32_t win;

	if (m == NULL)
		goto nobuf;
	th = (struct rte_tcp_hdr *)rte_pktmbuf_append(m, hlen);
	if (th == NULL)
		goto nobuf;
	if (len > 0 && copy_payload(c, m, seq, len) != 0)
		goto nobuf;
	th->src_port = c->h.key.lport;
	th->dst_port = c->h.key.rport;
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = (flags & TH_ACK) ? rte_cpu_to_be_32(c->rcv_nxt) : 0;
	th->data_off = (uint8_t)((hlen / 4) << 4);
	th->tcp_flags = flags;
	if (flags & TH_SYN) {
		/* Never scaled in a SYN (RFC 7323 2.2). */
		win = SG_MIN(free_window(c), 65535u);
		if (flags & TH_ACK) {
			uint32_t edge = c->rcv_nxt + win;

			if (SEQ_GT(edge, c->rcv_adv) || c->rcv_adv == 0)
				c->rcv_adv = edge;
		}
		th->rx_win = rte_cpu_to_be_16((uint16_t)win);
	} else {
		th->rx_win = rte_cpu_to_be_16(window_field(c));
	}
	th->tcp_urp = 0;
	memcpy(th + 1, opt, optlen);
	cksum_finish(s, m, th, c->h.key.lip, c->h.key.rip, hlen);
	if (flags & TH_ACK) {
		c->last_ack_sent = c->rcv_nxt;
		c->flags &= ~(F_ACKNOW | F_DELACK | F_WINUPD);
		c->delack_at = 0;
	}
	s->st.bytes_out += len;
	c->last_send_ms = tcp_now_ms(s);
	emit(s, m, &c->h.key);
	return 0;
nobuf:
	rte_pktmbuf_free(m);
	s->st.nombuf++;
	c->flags |= F_OUT_RETRY;
	return -ENOBUFS;
}

static unsigned
output_syn(struct sg_tcp_conn *c)
{
	bool first = c->snd_max == c->iss;
	bool need = c->snd_nxt == c->iss ||
		    (c->state == SG_TCP_SYN_RCVD && (c->flags & F_ACKNOW));
	uint8_t fl = TH_SYN | (c->state == SG_TCP_SYN_RCVD ? TH_ACK : 0);

	c->flags &= ~F_ACKNOW;	/* nothing to acknowledge in SYN_SENT */
	if (!need || send_seg(c, c->iss, 0, fl) != 0)
		return 0;
	if (first) {
		c->rtt_seq = c->iss;
		c->rtt_start_us = tcp_now_us(c->stack);
		c->flags |= F_TIMING;
	} else {
		c->stack->st.syn_retransmits++;
		c->flags &= ~F_TIMING;	/* Karn */
	}
	c->snd_nxt = c->iss + 1;
	c->snd_max = c->iss + 1;
	if (c->rto_at == 0)
		tcp_rto_arm(c);
	return 1;
}

/* The FIN still has to go (or come back acknowledged). */
static inline bool
fin_pending(const struct sg_tcp_conn *c)
{
	if (!(c->flags & F_FIN_QUEUED))
		return false;
	switch (c->state) {
	case SG_TCP_ESTABLISHED:
	case SG_TCP_CLOSE_WAIT:
	case SG_TCP_FIN_WAIT_1:
	case SG_TCP_CLOSING:
	case SG_TCP_LAST_ACK:
		return true;
	default:
		return false;
	}
}

/* Records a sent range: snd_nxt/snd_max, RTT timing, retransmit count,
 * the FIN's state change, and the RTO (RFC 6298 5.1: start it if it is
 * not running). */
static void
sent_range(struct sg_tcp_conn *c, uint32_t seq, uint32_t len, bool fin,
	   bool probe)
{
	uint32_t end = seq + len + (fin ? 1 : 0);

	if (SEQ_LT(seq, c->snd_max)) {
		if (!probe)
			c->stack->st.retransmits++;
		c->flags &= ~F_TIMING;	/* Karn: never time a retransmission */
	} else if (!(c->flags & F_TIMING) && !probe) {
		c->rtt_seq = seq;
		c->rtt_start_us = tcp_now_us(c->stack);
		c->flags |= F_TIMING;
	}
	if (SEQ_GT(end, c->snd_nxt))
		c->snd_nxt = end;
	if (SEQ_GT(end, c->snd_max))
		c->snd_max = end;
	if (fin) {
		c->flags |= F_FIN_SENT;
		if (c->state == SG_TCP_ESTABLISHED)
			tcp_set_state(c, SG_TCP_FIN_WAIT_1);
		else if (c->state == SG_TCP_CLOSE_WAIT)
			tcp_set_state(c, SG_TCP_LAST_ACK);
	}
	if (probe) {
		/* A probe stays under the persist timer (as in BSD): its
		 * byte is not "lost data" and must not collapse cwnd. */
		tcp_persist_arm(c);
	} else if (c->rto_at == 0 || (c->flags & F_PERSIST)) {
		c->flags &= ~F_PERSIST;
		tcp_rto_arm(c);
	}
}

/* Emits what `c` may send now. Returns the number of segments. */
unsigned
tcp_output(struct sg_tcp_conn *c)
{
	struct sg_tcp_stack *s = c->stack;
	unsigned sent = 0;
	uint32_t data_end;

	if (c->flags & F_DEAD)
		return 0;
	/* The sink's segment ends here: its bytes join the queue and the
	 * next write starts a new segment (no pointer survives a flush). */
	tcp_sink_release(c);

	switch (c->state) {
	case SG_TCP_SYN_SENT:
	case SG_TCP_SYN_RCVD:
		return output_syn(c);
	case SG_TCP_ESTABLISHED:
	case SG_TCP_FIN_WAIT_1:
	case SG_TCP_FIN_WAIT_2:
	case SG_TCP_CLOSE_WAIT:
	case SG_TCP_CLOSING:
	case SG_TCP_LAST_ACK:
	case SG_TCP_TIME_WAIT:	/* a full conn waiting for its reader */
		break;
	default:
		return 0;
	}

	data_end = c->snd_una + c->snd_bytes;
	/* The peer closed its window over data in flight: it will not take
	 * that data, so stop retransmitting it and let the persist timer
	 * probe instead (as BSD does). */
	if (c->snd_wnd == 0 && c->snd_bytes > 0 &&
	    SEQ_GT(c->snd_nxt, c->snd_una) && SEQ_LEQ(c->snd_nxt, data_end) &&
	    !(c->flags & (F_RXT_NOW | F_FORCE1))) {
		c->snd_nxt = c->snd_una;
		c->rto_at = 0;
		c->flags &= ~(F_PERSIST | F_TIMING);
	}
	/* RFC 5681 4.1: after an idle period longer than the RTO, restart
	 * from the initial window. */
	if (c->snd_una == c->snd_max && c->snd_bytes > 0 &&
	    (uint64_t)(uint32_t)(tcp_now_ms(s) - c->last_send_ms) * SG_NS_PER_MS >
		    tcp_rto_ns(c))
		c->cwnd = SG_MIN(c->cwnd, tcp_initial_cwnd(c));

	if (c->flags & F_KA_PROBE) {
		/* An old sequence number elicits an ACK (RFC 9293 3.8.4). */
		c->flags &= ~F_KA_PROBE;
		if (send_seg(c, c->snd_una - 1, 0, TH_ACK) == 0) {
			s->st.keepalive_probes++;
			sent++;
		}
	}

	for (unsigned guard = 0; guard < 65536; guard++) {
		uint32_t maxseg = c->snd_mss - data_opts_len(c);
		uint32_t seq, off, avail, win, usable, len, cw;
		bool fin;
		uint8_t fl = TH_ACK;

		data_end = c->snd_una + c->snd_bytes;
		if (c->flags & F_RXT_NOW) {
			/* Fast retransmit / NewReno partial ACK: the first
			 * unacknowledged segment, whatever the windows say. */
			c->flags &= ~F_RXT_NOW;
			seq = c->snd_una;
			len = SG_MIN(c->snd_bytes, maxseg);
			fin = fin_pending(c) && (c->flags & F_FIN_SENT) &&
			      seq + len == data_end;
			if (len == 0 && !fin)
				continue;
			if (send_seg(c, seq, len, fl | (fin ? TH_FIN : 0)) != 0)
				break;
			sent++;
			sent_range(c, seq, len, fin, false);
			continue;
		}
		seq = c->snd_nxt;
		off = seq - c->snd_una;
		avail = off < c->snd_bytes ? c->snd_bytes - off : 0;
		cw = c->cwnd;
		/* RFC 3042 limited transmit: the first two duplicate ACKs
		 * each let one new segment out beyond cwnd. */
		if (!(c->flags & F_FASTRECOV) && c->dupacks > 0 &&
		    c->dupacks < TCP_DUPTHRESH && seq == c->snd_max)
			cw += (uint32_t)c->dupacks * c->snd_mss;
		win = SG_MIN(c->snd_wnd, cw);
		usable = SEQ_GT(c->snd_una + win, seq) ? c->snd_una + win - seq : 0;
		len = SG_MIN(SG_MIN(avail, usable), maxseg);
		if ((c->flags & F_FORCE1) && avail > 0) {
			/* Persist timeout: send what the window takes despite
			 * silly-window avoidance, or probe a zero window with
			 * one byte past it. */
			bool probe = len == 0;

			c->flags &= ~F_FORCE1;
			if (probe)
				len = 1;
			if (send_seg(c, seq, len, fl) != 0)
				break;
			if (probe)
				s->st.persist_probes++;
			sent++;
			sent_range(c, seq, len, false, probe);
			continue;
		}
		c->flags &= ~F_FORCE1;
		/* Sender silly-window avoidance (RFC 9293 3.8.6.2.1): a short
		 * segment goes only if it empties the queue or is at least
		 * half the largest window the peer ever offered. No Nagle:
		 * data the application wrote never waits for an ACK. */
		if (len > 0 && len < maxseg && len < avail &&
		    len < c->max_sndwnd / 2)
			len = 0;
		fin = fin_pending(c) && seq + len == data_end;
		if (len == 0 && !fin) {
			/* A pure ACK carries snd_max, not snd_nxt: after a
			 * go-back retransmission snd_nxt lies behind what the
			 * peer already has, and it would drop the ACK as old
			 * (BSD does the same). */
			if ((c->flags & F_ACKNOW) ||
			    ((c->flags & F_WINUPD) && window_update_due(c))) {
				if (send_seg(c, c->snd_max, 0, TH_ACK) == 0)
					sent++;
			}
			c->flags &= ~F_WINUPD;
			/* Data waits on the window with nothing in flight:
			 * only the persist timer will move it. */
			if (avail > 0 && c->snd_nxt == c->snd_una &&
			    c->rto_at == 0)
				tcp_persist_arm(c);
			break;
		}
		if (fin)
			fl |= TH_FIN;
		if (len > 0 && seq + len == data_end)
			fl |= TH_PSH;
		if (send_seg(c, seq, len, fl) != 0)
			break;
		sent++;
		sent_range(c, seq, len, fin, false);
		if (fin || len == 0)
			break;
	}
	return sent;
}

/* ------------------------------------------------------------------ */
/* Stateless segments                                                  */
/* ------------------------------------------------------------------ */

int
tcp_send_ctl(struct sg_tcp_stack *s, const struct tcp_key *k, uint32_t seq,
	     uint32_t ack, uint8_t flags, uint32_t wnd, const uint8_t *opt,
	     unsigned optlen)
{
	uint16_t hlen = (uint16_t)(TCP_HDR_LEN + optlen);
	struct rte_mbuf *m = rte_pktmbuf_alloc(s->conf.pool);
	struct rte_tcp_hdr *th;

	if (m == NULL) {
		s->st.nombuf++;
		return -ENOBUFS;
	}
	th = (struct rte_tcp_hdr *)rte_pktmbuf_append(m, hlen);
	if (th == NULL) {
		rte_pktmbuf_free(m);
		s->st.nombuf++;
		return -ENOBUFS;
	}
	th->src_port = k->lport;
	th->dst_port = k->rport;
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = (flags & TH_ACK) ? rte_cpu_to_be_32(ack) : 0;
	th->data_off = (uint8_t)((hlen / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16((uint16_t)SG_MIN(wnd, 65535u));
	th->tcp_urp = 0;
	if (optlen > 0)
		memcpy(th + 1, opt, optlen);
	cksum_finish(s, m, th, k->lip, k->rip, hlen);
	if (flags & TH_RST)
		s->st.resets_out++;
	emit(s, m, k);
	return 0;
}

void
tcp_send_rst(struct sg_tcp_stack *s, const struct tcp_key *k, uint32_t seq,
	     uint32_t ack, bool with_ack)
{
	tcp_send_ctl(s, k, seq, ack, TH_RST | (with_ack ? TH_ACK : 0), 0,
		     NULL, 0);
}

/* RFC 9293 3.10.7.1: the reset for a segment nobody owns. Never a reset
 * for a reset. */
void
tcp_send_rst_for(struct sg_tcp_stack *s, const struct tcp_seg *seg)
{
	if (seg->flags & TH_RST)
		return;
	if (seg->flags & TH_ACK)
		tcp_send_rst(s, &seg->key, seg->ack, 0, false);
	else
		tcp_send_rst(s, &seg->key, 0, seg->seq + seg->len, true);
}

void
tcp_send_tw_ack(struct sg_tcp_stack *s, struct tcp_tw *tw)
{
	uint8_t opt[TCP_TS_OPT_LEN];
	unsigned n = 0;

	if (tw->ts_ok)
		n = put_ts(opt, tcp_now_ms(s) + tw->ts_offset, tw->ts_recent,
			   true);
	tcp_send_ctl(s, &tw->h.key, tw->snd_nxt, tw->rcv_nxt, TH_ACK,
		     SG_MIN(s->rcv_wnd_max >> tw->rcv_wscale, 65535u), opt, n);
}

/* A SYN-ACK whose ISN is a cookie (tcp_syncookie.c); no state kept. */
void
tcp_send_cookie_synack(struct sg_tcp_stack *s, const struct tcp_seg *seg)
{
	const struct sg_tcp_conf *cf = &s->conf;
	uint8_t opt[TCP_MAX_OPT];
	uint16_t mss;
	uint32_t cookie = tcp_cookie_make(s, &seg->key, seg->seq,
					  seg->has_mss ? seg->mss : TCP_DEFAULT_MSS,
					  &mss);
	unsigned n = put_mss(opt, cf->mss);

	/* Window scale and SACK can only be remembered inside the
	 * timestamp, so without timestamps they are not offered. */
	if (seg->has_ts && !cf->no_timestamps) {
		bool sack = seg->has_sack_perm && !cf->no_sack;
		bool ws = seg->has_ws && !cf->no_wscale;
		uint32_t enc = (ws ? SG_MIN(seg->ws, TCP_MAX_WSCALE) + 1u : 0) |
			       (sack ? 0x10u : 0);
		uint32_t val = ((tcp_now_ms(s) + tcp_ts_offset(s, &seg->key)) &
				~0x1fu) | enc;

		if (sack) {
			opt[n++] = TCPOPT_SACK_PERM;
			opt[n++] = 2;
			n += put_ts(opt + n, val, seg->tsval, false);
		} else {
			n += put_ts(opt + n, val, seg->tsval, true);
		}
		if (ws)
			n += put_ws(opt + n, s->rcv_wscale);
	}
	if (tcp_send_ctl(s, &seg->key, cookie, seg->seq + 1, TH_SYN | TH_ACK,
			 SG_MIN(s->rcv_wnd_max, 65535u), opt, n) == 0) {
		s->st.syncookies_sent++;
		s->cookie_last_ns = s->now_ns;
	}
}

/* RFC 5961 section 7: challenge ACKs are rate limited per stack. */
bool
tcp_challenge_allowed(struct sg_tcp_stack *s)
{
	if (s->now_ns - s->chack_window_ns >= SG_NS_PER_S) {
		s->chack_window_ns = s->now_ns;
		s->chack_count = 0;
	}
	if (s->chack_count >= s->conf.challenge_ack_limit) {
		s->st.challenge_acks_limited++;
		return false;
	}
	s->chack_count++;
	s->st.challenge_acks++;
	return true;
}

/* ------------------------------------------------------------------ */
/* The sink                                                            */
/* ------------------------------------------------------------------ */

void
tcp_check_high(struct sg_tcp_conn *c)
{
	if (c->wm_high != 0 && c->snd_bytes > c->wm_high)
		c->flags |= F_WANT_WRITABLE;
}

/* Accounts the bytes the sink wrote into its current mbuf. */
void
tcp_sink_settle(struct sg_tcp_conn *c)
{
	struct rte_mbuf *m = c->sink_m;
	char *tail;
	uint32_t n;

	if (m == NULL || c->sink.pos == NULL)
		return;
	tail = rte_pktmbuf_mtod_offset(m, char *, m->data_len);
	if (c->sink.pos <= tail)
		return;
	n = (uint32_t)(c->sink.pos - tail);
	if (!(c->flags & F_SINK_LINKED)) {
		/* A fresh mbuf joins the queue with its first byte. */
		if (c->snd_tail != NULL)
			c->snd_tail->next = m;
		else
			c->snd_head = m;
		c->snd_tail = m;
		c->flags |= F_SINK_LINKED;
	}
	m->data_len = (uint16_t)(m->data_len + n);
	m->pkt_len = m->data_len;
	c->snd_bytes += n;
	tcp_check_high(c);
	tcp_work(c);
}

static bool
may_send(const struct sg_tcp_conn *c)
{
	if (c->flags & (F_FIN_QUEUED | F_DEAD | F_APP_CLOSED))
		return false;
	switch (c->state) {
	case SG_TCP_SYN_SENT:
	case SG_TCP_SYN_RCVD:
	case SG_TCP_ESTABLISHED:
	case SG_TCP_CLOSE_WAIT:
		return true;
	default:
		return false;
	}
}

static int
sink_more(struct sg_sink *sk, size_t min)
{
	struct sg_tcp_conn *c = sk->owner;
	struct sg_tcp_stack *s = c->stack;
	struct rte_mbuf *m;

	tcp_sink_release(c);
	if (!may_send(c))
		return -EPIPE;
	if (c->snd_bytes >= s->conf.snd_buf)
		return -ENOBUFS;
	m = c->snd_tail;
	/* Keep filling the tail if it is ours alone and has the room. */
	if (m != NULL && RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1 &&
	    rte_pktmbuf_tailroom(m) >= min) {
		c->flags |= F_SINK_LINKED;
	} else {
		m = rte_pktmbuf_alloc(s->conf.pool);
		if (m == NULL) {
			s->st.nombuf++;
			return -ENOMEM;
		}
		m->data_off = 0;	/* queued bytes need no headroom */
		if (rte_pktmbuf_tailroom(m) < min) {
			rte_pktmbuf_free(m);
			return -ENOBUFS;
		}
		/* Linked to the queue by tcp_sink_settle() with its first
		 * byte, so an unused mbuf never sits in the queue. */
	}
	c->sink_m = m;
	sk->pos = rte_pktmbuf_mtod_offset(m, char *, m->data_len);
	sk->end = (char *)m->buf_addr + m->buf_len;
	tcp_work(c);	/* what is written now leaves at the next flush */
	return 0;
}

/* Ends the sink's current segment: its bytes are settled, an mbuf it
 * opened but never wrote is freed, and the next write asks for room
 * again, so no pointer into the queue survives a flush. */
void
tcp_sink_release(struct sg_tcp_conn *c)
{
	tcp_sink_settle(c);
	if (c->sink_m != NULL && !(c->flags & F_SINK_LINKED))
		rte_pktmbuf_free(c->sink_m);
	c->sink_m = NULL;
	c->flags &= ~F_SINK_LINKED;
	c->sink.pos = NULL;
	c->sink.end = NULL;
}

void
tcp_sink_init(struct sg_tcp_conn *c)
{
	c->sink.pos = NULL;
	c->sink.end = NULL;
	c->sink.more = sink_more;
	c->sink.owner = c;
	c->sink.written = 0;
	c->sink.err = 0;
}
