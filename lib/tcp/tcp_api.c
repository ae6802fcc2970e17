/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The socket-level calls: listeners, active opens, sending, closing,
 * backpressure and introspection. Each call brackets itself with
 * tcp_enter()/tcp_leave() so the clock is fresh and connections closed
 * inside it stay readable until the outermost call returns.
 */
#include <stdlib.h>

#include "tcp_internal.h"

int
sg_tcp_listen(struct sg_tcp_stack *s, uint32_t ip, uint16_t port,
	      uint32_t backlog, sg_tcp_accept_cb cb, void *arg,
	      struct sg_tcp_listener **out)
{
	struct sg_tcp_listener *l;

	if (port == 0)
		return -EINVAL;
	for (l = s->listeners; l != NULL; l = l->next) {
		if (l->port == port && l->ip == ip)
			return -EADDRINUSE;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return -ENOMEM;
	l->stack = s;
	l->ip = ip;
	l->port = port;
	l->backlog = backlog != 0 ? backlog : 128;
	l->cb = cb;
	l->arg = arg;
	l->next = s->listeners;
	s->listeners = l;
	if (out != NULL)
		*out = l;
	return 0;
}

void
sg_tcp_listener_close(struct sg_tcp_listener *l)
{
	struct sg_tcp_stack *s;
	struct sg_tcp_listener **pp;

	if (l == NULL)
		return;
	s = l->stack;
	tcp_enter(s);
	for (pp = &s->listeners; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	/* Half-open connections of this listener are nobody's yet. */
	for (uint32_t i = 0; i <= s->table_mask && l->embryonic > 0; i++) {
		struct tcp_hnode *h = s->table[i];

		while (h != NULL) {
			struct tcp_hnode *next = h->hnext;
			struct sg_tcp_conn *c = (struct sg_tcp_conn *)h;

			if (h->kind == TCP_HN_CONN && c->listener == l) {
				tcp_send_rst(s, &c->h.key, c->snd_max,
					     c->rcv_nxt, true);
				tcp_conn_destroy(c);
			}
			h = next;
		}
	}
	free(l);
	tcp_leave(s);
}

int
sg_tcp_connect(struct sg_tcp_stack *s, uint32_t lip, uint16_t lport,
	       uint32_t rip, uint16_t rport, const struct sg_tcp_conn_cbs *cbs,
	       void *arg, struct sg_tcp_conn **out)
{
	struct tcp_key k = { .lip = lip, .rip = rip, .lport = lport,
			     .rport = rport };
	struct sg_tcp_conn *c;
	int rc = 0;

	if (lip == 0 || rip == 0 || rport == 0)
		return -EINVAL;
	tcp_enter(s);
	if (s->nconns >= s->conf.max_conns) {
		rc = -ENOMEM;
		goto out;
	}
	if (lport == 0)
		rc = tcp_port_pick(s, &k);
	else if (tcp_lookup(s, &k) != NULL)
		rc = -EADDRINUSE;
	if (rc != 0)
		goto out;
	c = tcp_conn_alloc(s, &k);
	if (c == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	c->cbs = cbs;
	c->arg = arg;
	c->iss = tcp_isn(s, &k);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->snd_wl2 = c->iss;
	tcp_set_state(c, SG_TCP_SYN_SENT);
	tcp_hash_insert(s, &c->h);
	tcp_work(c);
	s->st.active_opens++;
	if (out != NULL)
		*out = c;
out:
	tcp_leave(s);
	return rc;
}

void
sg_tcp_conn_set_cbs(struct sg_tcp_conn *c, const struct sg_tcp_conn_cbs *cbs,
		    void *arg)
{
	c->cbs = cbs;
	c->arg = arg;
}

struct sg_sink *
sg_tcp_sink(struct sg_tcp_conn *c)
{
	return &c->sink;
}

int
sg_tcp_send(struct sg_tcp_conn *c, struct rte_mbuf *m)
{
	struct sg_tcp_stack *s = c->stack;
	int rc = 0;

	tcp_enter(s);
	tcp_sink_release(c);
	if ((c->flags & (F_FIN_QUEUED | F_DEAD | F_APP_CLOSED)) ||
	    (c->state != SG_TCP_SYN_SENT && c->state != SG_TCP_SYN_RCVD &&
	     c->state != SG_TCP_ESTABLISHED && c->state != SG_TCP_CLOSE_WAIT)) {
		rc = -EPIPE;
	} else if ((uint64_t)c->snd_bytes + m->pkt_len > s->conf.snd_buf) {
		rc = -ENOBUFS;
	}
	if (rc != 0) {
		rte_pktmbuf_free(m);
		goto out;
	}
	/* Each segment joins the queue on its own. */
	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		m->nb_segs = 1;
		m->pkt_len = m->data_len;
		if (m->data_len == 0) {
			rte_pktmbuf_free_seg(m);
		} else {
			if (c->snd_tail != NULL)
				c->snd_tail->next = m;
			else
				c->snd_head = m;
			c->snd_tail = m;
			c->snd_bytes += m->data_len;
		}
		m = next;
	}
	tcp_check_high(c);
	tcp_work(c);
out:
	tcp_leave(s);
	return rc;
}

/* What the sink may still take before -ENOBUFS (sink_more's rule). */
static size_t
send_space(const struct sg_tcp_conn *c)
{
	uint32_t lim = c->stack->conf.snd_buf;

	return c->snd_bytes < lim ? lim - c->snd_bytes : 0;
}

size_t
sg_tcp_send_space(struct sg_tcp_conn *c)
{
	if (c->flags & (F_FIN_QUEUED | F_DEAD | F_APP_CLOSED))
		return 0;
	tcp_sink_settle(c);
	return send_space(c);
}

int
sg_tcp_write(struct sg_tcp_conn *c, const void *p, size_t n)
{
	struct sg_tcp_stack *s = c->stack;
	size_t before;
	int rc;

	tcp_enter(s);
	tcp_sink_settle(c);
	if ((c->flags & (F_FIN_QUEUED | F_DEAD | F_APP_CLOSED)) ||
	    (c->state != SG_TCP_SYN_SENT && c->state != SG_TCP_SYN_RCVD &&
	     c->state != SG_TCP_ESTABLISHED && c->state != SG_TCP_CLOSE_WAIT)) {
		rc = -EPIPE;
		goto out;
	}
	if (c->sink.err != 0) {
		rc = c->sink.err;	/* the application's own sink use failed */
		goto out;
	}
	n = SG_MIN(n, send_space(c));
	before = c->sink.written;
	sg_sink_write(&c->sink, p, n);
	rc = (int)(c->sink.written - before);
	if (c->sink.err == -ENOMEM || c->sink.err == -ENOBUFS) {
		/* A short count says it; the sink stays usable. */
		if (rc == 0)
			rc = c->sink.err;
		c->sink.err = 0;
	}
	tcp_sink_settle(c);
out:
	tcp_leave(s);
	return rc;
}

size_t
sg_tcp_backlog(struct sg_tcp_conn *c)
{
	tcp_sink_settle(c);
	return c->snd_bytes;
}

void
sg_tcp_set_watermarks(struct sg_tcp_conn *c, size_t low, size_t high)
{
	c->wm_low = (uint32_t)SG_MIN(low, (size_t)UINT32_MAX);
	c->wm_high = (uint32_t)SG_MIN(high, (size_t)UINT32_MAX);
	tcp_sink_settle(c);
	tcp_check_high(c);
}

void
sg_tcp_pause_read(struct sg_tcp_conn *c, bool pause)
{
	if (c->flags & F_DEAD)
		return;
	if (pause) {
		c->flags |= F_PAUSED;
		return;
	}
	if (!(c->flags & F_PAUSED))
		return;
	c->flags &= ~F_PAUSED;
	/* Delivered at the next flush, never from inside this call. */
	if (c->rcv_head != NULL || (c->flags & F_EOF_PENDING))
		c->flags |= F_DELIVER;
	c->flags |= F_WINUPD;
	tcp_work(c);
}

void
sg_tcp_shutdown(struct sg_tcp_conn *c)
{
	struct sg_tcp_stack *s = c->stack;

	if (c->flags & (F_DEAD | F_FIN_QUEUED))
		return;
	tcp_enter(s);
	tcp_sink_release(c);
	switch (c->state) {
	case SG_TCP_SYN_SENT:
	case SG_TCP_SYN_RCVD:
	case SG_TCP_ESTABLISHED:
	case SG_TCP_CLOSE_WAIT:
		/* The FIN follows the queued data; in SYN states it waits
		 * for the handshake. */
		c->flags |= F_FIN_QUEUED;
		tcp_work(c);
		break;
	default:
		break;
	}
	tcp_leave(s);
}

void
sg_tcp_close(struct sg_tcp_conn *c)
{
	struct sg_tcp_stack *s = c->stack;

	if (c->flags & (F_DEAD | F_APP_CLOSED))
		return;
	tcp_enter(s);
	c->flags |= F_APP_CLOSED;
	/* Held input will never be read. */
	tcp_free_chain(c->rcv_head);
	c->rcv_head = c->rcv_tail = NULL;
	c->rcv_bytes = 0;
	c->rcv_mem = 0;
	tcp_free_chain(c->ooo_head);
	c->ooo_head = NULL;
	c->ooo_segs = 0;
	c->nsack = 0;
	switch (c->state) {
	case SG_TCP_SYN_SENT:
		tcp_conn_destroy(c);
		break;
	case SG_TCP_SYN_RCVD:
	case SG_TCP_ESTABLISHED:
	case SG_TCP_CLOSE_WAIT:
		tcp_sink_release(c);
		c->flags |= F_FIN_QUEUED;
		tcp_work(c);
		break;
	case SG_TCP_FIN_WAIT_2:
		tcp_keepalive_arm(c);	/* the FIN_WAIT_2 timeout */
		break;
	case SG_TCP_TIME_WAIT:
		tcp_time_wait(c);
		break;
	default:
		break;
	}
	tcp_leave(s);
}

/* RFC 9293 3.10.5 ABORT, inside tcp_enter/tcp_leave. */
static void
conn_abort(struct sg_tcp_conn *c)
{
	c->flags |= F_APP_CLOSED;
	switch (c->state) {
	case SG_TCP_SYN_RCVD:
	case SG_TCP_ESTABLISHED:
	case SG_TCP_FIN_WAIT_1:
	case SG_TCP_FIN_WAIT_2:
	case SG_TCP_CLOSE_WAIT:
		/* The highest sequence sent is what the peer most likely
		 * expects next, so the RST is taken at once under RFC 5961's
		 * exact-match rule. */
		tcp_send_rst(c->stack, &c->h.key, c->snd_max, c->rcv_nxt, true);
		break;
	default:
		break;
	}
	tcp_conn_destroy(c);
}

void
sg_tcp_abort(struct sg_tcp_conn *c)
{
	struct sg_tcp_stack *s = c->stack;

	if (c->flags & F_DEAD)
		return;
	tcp_enter(s);
	conn_abort(c);
	tcp_leave(s);
}

unsigned
sg_tcp_stack_unfinished(const struct sg_tcp_stack *s)
{
	static const enum sg_tcp_state owing[] = {
		SG_TCP_SYN_SENT, SG_TCP_SYN_RCVD, SG_TCP_ESTABLISHED,
		SG_TCP_CLOSE_WAIT, SG_TCP_FIN_WAIT_1, SG_TCP_CLOSING,
		SG_TCP_LAST_ACK,
	};
	uint64_t n = 0;

	for (size_t i = 0; i < sizeof(owing) / sizeof(owing[0]); i++)
		n += s->st.conns_by_state[owing[i]];
	return (unsigned)n;
}

void
sg_tcp_stack_abort_all(struct sg_tcp_stack *s)
{
	tcp_enter(s);
	for (uint32_t i = 0; i <= s->table_mask; i++) {
		struct tcp_hnode *h, *next;

		/* conn_abort unlinks h from this bucket, never its successor */
		for (h = s->table[i]; h != NULL; h = next) {
			next = h->hnext;
			if (h->kind == TCP_HN_CONN)
				conn_abort((struct sg_tcp_conn *)h);
		}
	}
	tcp_leave(s);
}

void
sg_tcp_set_keepalive(struct sg_tcp_conn *c, bool on, uint64_t idle_ns)
{
	struct sg_tcp_stack *s = c->stack;

	if (c->flags & F_DEAD)
		return;
	tcp_enter(s);
	if (on) {
		c->flags |= F_KEEPALIVE;
		c->ka_idle_ns = idle_ns != 0 ? idle_ns :
				s->conf.keepalive_idle_ns != 0 ?
				s->conf.keepalive_idle_ns :
				TCP_KEEPALIVE_DEFAULT_NS;
	} else {
		c->flags &= ~F_KEEPALIVE;
	}
	c->ka_probes = 0;
	tcp_keepalive_arm(c);
	tcp_leave(s);
}

void
sg_tcp_conn_addrs(const struct sg_tcp_conn *c, uint32_t *lip, uint16_t *lport,
		  uint32_t *rip, uint16_t *rport)
{
	if (lip != NULL)
		*lip = c->h.key.lip;
	if (lport != NULL)
		*lport = c->h.key.lport;
	if (rip != NULL)
		*rip = c->h.key.rip;
	if (rport != NULL)
		*rport = c->h.key.rport;
}

enum sg_tcp_state
sg_tcp_conn_state(const struct sg_tcp_conn *c)
{
	return (enum sg_tcp_state)c->state;
}

void
sg_tcp_conn_info(const struct sg_tcp_conn *c, struct sg_tcp_info *o)
{
	memset(o, 0, sizeof(*o));
	o->state = (enum sg_tcp_state)c->state;
	o->iss = c->iss;
	o->irs = c->irs;
	o->snd_una = c->snd_una;
	o->snd_nxt = c->snd_nxt;
	o->snd_max = c->snd_max;
	o->snd_wnd = c->snd_wnd;
	o->rcv_nxt = c->rcv_nxt;
	o->rcv_wnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	o->cwnd = c->cwnd;
	o->ssthresh = c->ssthresh;
	o->snd_mss = c->snd_mss;
	o->rcv_mss = c->rcv_mss;
	o->snd_wscale = (c->flags & F_WS_OK) ? c->snd_wscale : 0xff;
	o->rcv_wscale = (c->flags & F_WS_OK) ? c->rcv_wscale : 0xff;
	o->ts_ok = (c->flags & F_TS_OK) != 0;
	o->sack_ok = (c->flags & F_SACK_OK) != 0;
	o->in_recovery = (c->flags & F_FASTRECOV) != 0;
	o->srtt_us = c->srtt8_us / 8;
	o->rttvar_us = c->rttvar4_us / 4;
	o->rto_us = (uint32_t)(tcp_rto_ns(c) / SG_NS_PER_US);
	o->dupacks = c->dupacks;
	o->backoff = c->rxt_shift;
	o->snd_queued = c->snd_bytes;
	o->rcv_queued = c->rcv_bytes;
	o->rcv_mem = c->rcv_mem;
	o->ooo_segs = c->ooo_segs;
	o->sack_blocks = c->nsack;
	for (unsigned i = 0; i < c->nsack && i < 4; i++) {
		o->sack[i][0] = c->sack[i].start;
		o->sack[i][1] = c->sack[i].end;
	}
}
