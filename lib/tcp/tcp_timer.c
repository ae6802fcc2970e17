/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-connection timers. A connection owns one struct sg_timer on the
 * stack's wheel, armed at the earliest of three deadlines:
 *
 *   rto_at     retransmission (RFC 6298), SYN/SYN-ACK retransmission,
 *              or the persist timer (F_PERSIST) for zero windows
 *   delack_at  delayed ACK
 *   keep_at    keepalive, or the FIN_WAIT_2 timeout after close
 *
 * Deadlines move freely; the wheel timer is only moved when a deadline
 * becomes earlier than the armed time (tcp_timer_update). When it fires
 * the callback runs whatever is due and re-arms for the rest.
 *
 * RTO (RFC 6298) in microseconds, kept scaled like BSD:
 *   srtt8 = 8 * SRTT, rttvar4 = 4 * RTTVAR
 *   RTO = SRTT + max(G, 4 * RTTVAR), clamped to [rto_min, rto_max],
 *   doubled per expiry (rxt_shift) and reset only by a new sample,
 *   which Karn's rule never takes from a retransmitted segment.
 */
#include "tcp_internal.h"

#define MAX_SHIFT 16u

uint64_t
tcp_rto_ns(const struct sg_tcp_conn *c)
{
	const struct sg_tcp_conf *cf = &c->stack->conf;
	uint64_t rto = (uint64_t)c->rto_us * SG_NS_PER_US;

	if (rto < cf->rto_min_ns)
		rto = cf->rto_min_ns;
	for (unsigned i = 0; i < c->rxt_shift && rto < cf->rto_max_ns; i++)
		rto <<= 1;
	return SG_MIN(rto, cf->rto_max_ns);
}

void
tcp_rtt_sample(struct sg_tcp_conn *c, uint32_t rtt_us)
{
	const struct sg_tcp_conf *cf = &c->stack->conf;
	uint64_t g = cf->tick_ns / SG_NS_PER_US, rto;

	if (rtt_us == 0)
		rtt_us = 1;
	if (c->srtt8_us == 0) {
		c->srtt8_us = rtt_us * 8;
		c->rttvar4_us = rtt_us * 2;
	} else {
		int64_t delta = (int64_t)rtt_us - c->srtt8_us / 8;
		int64_t ad = delta < 0 ? -delta : delta;

		c->srtt8_us = (uint32_t)((int64_t)c->srtt8_us + delta);
		c->rttvar4_us = (uint32_t)((int64_t)c->rttvar4_us + ad -
					   c->rttvar4_us / 4);
	}
	rto = (uint64_t)c->srtt8_us / 8 + SG_MAX(g, (uint64_t)c->rttvar4_us);
	rto *= SG_NS_PER_US;
	rto = SG_MAX(rto, cf->rto_min_ns);
	rto = SG_MIN(rto, cf->rto_max_ns);
	c->rto_us = (uint32_t)(rto / SG_NS_PER_US);
	c->rxt_shift = 0;
}

void
tcp_rto_arm(struct sg_tcp_conn *c)
{
	c->rto_at = c->stack->now_ns + tcp_rto_ns(c);
	tcp_timer_update(c);
}

void
tcp_persist_arm(struct sg_tcp_conn *c)
{
	c->flags |= F_PERSIST;
	c->rto_at = c->stack->now_ns + tcp_rto_ns(c);
	tcp_timer_update(c);
}

void
tcp_delack_arm(struct sg_tcp_conn *c)
{
	if (c->flags & F_DELACK)
		return;
	c->flags |= F_DELACK;
	c->delack_at = c->stack->now_ns + c->stack->conf.delack_ns;
	tcp_timer_update(c);
}

/* Sets keep_at for the state the connection is in now. */
void
tcp_keepalive_arm(struct sg_tcp_conn *c)
{
	struct sg_tcp_stack *s = c->stack;

	if (c->state == SG_TCP_FIN_WAIT_2 && (c->flags & F_APP_CLOSED)) {
		c->keep_at = s->now_ns + s->conf.fin_wait2_ns;
	} else if ((c->flags & F_KEEPALIVE) &&
		   (c->state == SG_TCP_ESTABLISHED ||
		    c->state == SG_TCP_CLOSE_WAIT)) {
		c->keep_at = c->last_rcv_ns + c->ka_idle_ns;
	} else {
		c->keep_at = 0;
	}
	tcp_timer_update(c);
}

static void
give_up(struct sg_tcp_conn *c)
{
	c->stack->st.timeouts++;
	if (c->state != SG_TCP_SYN_SENT)
		tcp_send_rst(c->stack, &c->h.key, c->snd_nxt, 0, false);
	tcp_conn_drop(c, -ETIMEDOUT);
}

static void
rto_fire(struct sg_tcp_conn *c)
{
	const struct sg_tcp_conf *cf = &c->stack->conf;
	uint32_t flight;

	c->flags &= ~F_TIMING;	/* Karn: the timed segment is resent */
	if (c->state == SG_TCP_SYN_SENT || c->state == SG_TCP_SYN_RCVD) {
		if (++c->nrexmit > cf->syn_retries) {
			if (c->flags & F_PASSIVE) {
				/* Half-open: nobody to tell. */
				c->stack->st.timeouts++;
				tcp_conn_destroy(c);
			} else {
				give_up(c);
			}
			return;
		}
		if (c->rxt_shift < MAX_SHIFT)
			c->rxt_shift++;
		c->snd_nxt = c->iss;
		tcp_work(c);
		return;
	}
	if (c->snd_una == c->snd_max)
		return;
	if (++c->nrexmit > cf->data_retries) {
		give_up(c);
		return;
	}
	c->stack->st.rto_expiries++;
	if (c->rxt_shift < MAX_SHIFT)
		c->rxt_shift++;
	/* RFC 5681 (4): halve on the first timeout of this segment, then
	 * restart from one segment (loss window). */
	flight = c->snd_max - c->snd_una;
	if (c->nrexmit == 1)
		c->ssthresh = SG_MAX(flight / 2, 2u * c->snd_mss);
	c->cwnd = c->snd_mss;
	/* RFC 6582: no fast recovery for duplicate ACKs of data sent
	 * before this timeout. */
	c->recover = c->snd_max;
	c->flags |= F_RECOVER;
	c->flags &= ~F_FASTRECOV;
	c->dupacks = 0;
	c->snd_nxt = c->snd_una;	/* go back: resend from the hole */
	tcp_work(c);
}

static void
persist_fire(struct sg_tcp_conn *c)
{
	c->flags &= ~F_PERSIST;
	if (c->snd_bytes == 0)
		return;
	/* Probes go on while the peer answers them (RFC 9293 3.8.6.1);
	 * any segment it sends clears ka_probes. A silent peer is given
	 * up like one that stops acknowledging data. */
	if (++c->ka_probes > c->stack->conf.data_retries) {
		give_up(c);
		return;
	}
	if (c->rxt_shift < MAX_SHIFT)
		c->rxt_shift++;
	c->snd_nxt = c->snd_una;	/* the probe byte goes again */
	c->flags |= F_FORCE1;
	tcp_work(c);
}

static void
keep_fire(struct sg_tcp_conn *c)
{
	struct sg_tcp_stack *s = c->stack;
	uint64_t now = s->now_ns;

	if (c->state == SG_TCP_FIN_WAIT_2 && (c->flags & F_APP_CLOSED)) {
		/* The peer never closed its side; nobody reads it. */
		s->st.timeouts++;
		tcp_conn_drop(c, -ETIMEDOUT);
		return;
	}
	if (!(c->flags & F_KEEPALIVE) ||
	    (c->state != SG_TCP_ESTABLISHED && c->state != SG_TCP_CLOSE_WAIT))
		return;
	if (c->snd_max != c->snd_una || (c->flags & F_PERSIST)) {
		/* Retransmission or persist timers watch the peer now. */
		c->keep_at = now + s->conf.keepalive_intvl_ns;
		return;
	}
	if (now - c->last_rcv_ns < c->ka_idle_ns) {
		c->ka_probes = 0;
		c->keep_at = c->last_rcv_ns + c->ka_idle_ns;
		return;
	}
	if (c->ka_probes >= s->conf.keepalive_probes) {
		give_up(c);
		return;
	}
	c->ka_probes++;
	c->flags |= F_KA_PROBE;
	c->keep_at = now + s->conf.keepalive_intvl_ns;
	tcp_work(c);
}

void
tcp_timer_cb(struct sg_timer *t, void *arg)
{
	struct sg_tcp_conn *c = arg;
	uint64_t now = c->stack->now_ns;

	(void)t;
	c->timer_at = 0;
	if (c->flags & F_DEAD)
		return;
	if (c->delack_at != 0 && c->delack_at <= now) {
		c->delack_at = 0;
		if (c->flags & F_DELACK) {
			c->flags = (c->flags & ~F_DELACK) | F_ACKNOW;
			c->stack->st.delayed_acks++;
			tcp_work(c);
		}
	}
	if (c->rto_at != 0 && c->rto_at <= now) {
		c->rto_at = 0;
		if (c->flags & F_PERSIST)
			persist_fire(c);
		else
			rto_fire(c);
		if (c->flags & F_DEAD)
			return;
	}
	if (c->keep_at != 0 && c->keep_at <= now) {
		c->keep_at = 0;
		keep_fire(c);
		if (c->flags & F_DEAD)
			return;
	}
	tcp_timer_update(c);
}
