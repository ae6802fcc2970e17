/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stack object: configuration, clock, the 4-tuple table, free lists
 * of connections and TIME_WAIT records, and the once-per-iteration entry
 * points (timers, flush).
 *
 * Life of a connection object:
 *
 *   free list --tcp_conn_alloc--> hashed, in a state
 *        ^                              |
 *        |                       tcp_conn_destroy (any close, RST,
 *        |                              |          timeout, abort)
 *        |                              v
 *        +--- outermost call returns -- reap list (state CLOSED, F_DEAD;
 *                                       still readable by callers up
 *                                       the stack and by a closed()
 *                                       callback running now)
 *
 * Entering TIME_WAIT frees the connection object the same way and
 * leaves a struct tcp_tw in the table instead.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_jhash.h>

#include "tcp_internal.h"

RTE_LOG_REGISTER_DEFAULT(sg_tcp_logtype, NOTICE);

#define CONN_CHUNK 64u

const char *const sg_tcp_stat_names[] = {
#define SG_TCP_STAT_NAME(name, desc) #name,
	SG_TCP_STATS_LIST(SG_TCP_STAT_NAME)
#undef SG_TCP_STAT_NAME
};
const unsigned sg_tcp_stat_count = SG_ARRAY_SIZE(sg_tcp_stat_names);

static const char *const state_names[SG_TCP_STATE_COUNT] = {
	[SG_TCP_CLOSED] = "CLOSED",
	[SG_TCP_LISTEN] = "LISTEN",
	[SG_TCP_SYN_SENT] = "SYN_SENT",
	[SG_TCP_SYN_RCVD] = "SYN_RCVD",
	[SG_TCP_ESTABLISHED] = "ESTABLISHED",
	[SG_TCP_FIN_WAIT_1] = "FIN_WAIT_1",
	[SG_TCP_FIN_WAIT_2] = "FIN_WAIT_2",
	[SG_TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[SG_TCP_CLOSING] = "CLOSING",
	[SG_TCP_LAST_ACK] = "LAST_ACK",
	[SG_TCP_TIME_WAIT] = "TIME_WAIT",
};

const char *
sg_tcp_state_name(enum sg_tcp_state st)
{
	if ((unsigned)st >= SG_TCP_STATE_COUNT)
		return "?";
	return state_names[st];
}

void
sg_tcp_conf_init(struct sg_tcp_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->max_conns = 4096;
	conf->mss = 1460;
	conf->port_min = 32768;
	conf->port_max = 60999;
	conf->rcv_buf = 256 * 1024;
	conf->rx_buf_len = RTE_MBUF_DEFAULT_BUF_SIZE;
	conf->snd_buf = 4 * 1024 * 1024;
	conf->init_cwnd = 10;
	conf->rto_init_ns = SG_NS_PER_S;
	conf->rto_min_ns = 200 * SG_NS_PER_MS;
	conf->rto_max_ns = 60 * SG_NS_PER_S;
	conf->delack_ns = 20 * SG_NS_PER_MS;
	conf->time_wait_ns = 5 * SG_NS_PER_S;
	conf->fin_wait2_ns = 30 * SG_NS_PER_S;
	conf->keepalive_intvl_ns = 75 * SG_NS_PER_S;
	conf->keepalive_probes = 9;
	conf->syn_retries = 5;
	conf->data_retries = 12;
	conf->challenge_ack_limit = 1000;
	conf->tick_ns = SG_NS_PER_MS;
}

/* Zero fields take their defaults, so callers need not call conf_init. */
static void
conf_fill(struct sg_tcp_conf *c)
{
	struct sg_tcp_conf d;

	sg_tcp_conf_init(&d);
#define DEF(f) do { if (c->f == 0) c->f = d.f; } while (0)
	DEF(max_conns);
	DEF(mss);
	DEF(port_min);
	DEF(port_max);
	DEF(rcv_buf);
	DEF(rx_buf_len);
	DEF(snd_buf);
	DEF(init_cwnd);
	DEF(rto_init_ns);
	DEF(rto_min_ns);
	DEF(rto_max_ns);
	DEF(delack_ns);
	DEF(time_wait_ns);
	DEF(fin_wait2_ns);
	DEF(keepalive_intvl_ns);
	DEF(keepalive_probes);
	DEF(syn_retries);
	DEF(data_retries);
	DEF(challenge_ack_limit);
	DEF(tick_ns);
#undef DEF
	if (c->max_time_wait == 0)
		c->max_time_wait = c->max_conns;
}

/* Logs the first bad field (creation time only, never per packet). */
static int
conf_check(const struct sg_tcp_conf *c)
{
	const char *bad = NULL;

	if (c->mss < TCP_MIN_MSS)
		bad = "mss below 64";
	else if (c->port_min > c->port_max)
		bad = "port_min above port_max";
	else if (c->max_conns > (1u << 24) || c->max_time_wait > (1u << 24))
		bad = "max_conns or max_time_wait above 2^24";
	else if (c->rx_buf_len < 256)
		bad = "rx_buf_len below 256";
	else if (c->rcv_buf < c->rx_buf_len || c->rcv_buf > (1u << 30))
		bad = "rcv_buf not between rx_buf_len and 1 GiB";
	else if (c->snd_buf > (1u << 30))
		bad = "snd_buf above 1 GiB";
	else if (c->rto_min_ns > c->rto_max_ns)
		bad = "rto_min_ns above rto_max_ns";
	else if (c->syn_retries > 30 || c->data_retries > 30)
		bad = "syn_retries or data_retries above 30";
	else if (c->keepalive_probes > 255)
		bad = "keepalive_probes above 255";
	if (bad == NULL)
		return 0;
	TCP_LOG(ERR, "conf: %s\n", bad);
	return -EINVAL;
}

void
tcp_clock(struct sg_tcp_stack *s)
{
	uint64_t now;

	if (s->conf.now_ns != NULL) {
		now = s->conf.now_ns(s->conf.ctx);
	} else {
		uint64_t cyc = rte_get_tsc_cycles();

		now = cyc / s->tsc_hz * SG_NS_PER_S +
		      cyc % s->tsc_hz * SG_NS_PER_S / s->tsc_hz;
	}
	/* Never step back: deadlines compare against it. */
	if (now > s->now_ns)
		s->now_ns = now;
}

void
tcp_enter(struct sg_tcp_stack *s)
{
	if (s->depth++ == 0)
		tcp_clock(s);
}

/* Returns reaped connections to the free list once nothing up the
 * stack can still hold a pointer to them. */
void
tcp_leave(struct sg_tcp_stack *s)
{
	if (--s->depth != 0)
		return;
	while (!link_empty(&s->reap)) {
		struct sg_tcp_conn *c =
			SG_CONTAINER_OF(s->reap.next, struct sg_tcp_conn, work);

		link_del(&c->work);
		c->h.hnext = (struct tcp_hnode *)s->free_conns;
		s->free_conns = c;
		s->nconns--;
	}
}

struct sg_tcp_stack *
sg_tcp_stack_create(const struct sg_tcp_conf *conf)
{
	struct sg_tcp_stack *s = NULL;
	uint32_t nb, win;
	uint64_t win64;

	if (conf == NULL || conf->pool == NULL || conf->ip_output == NULL) {
		TCP_LOG(ERR, "conf: pool and ip_output are required\n");
		goto einval;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto enomem;
	s->conf = *conf;
	conf_fill(&s->conf);
	if (conf_check(&s->conf) != 0)
		goto einval;
	s->tsc_hz = rte_get_tsc_hz();
	if (s->tsc_hz == 0)
		s->tsc_hz = 1;

	nb = 64;
	while (nb < s->conf.max_conns + s->conf.max_time_wait && nb < (1u << 26))
		nb <<= 1;
	s->table = calloc(nb, sizeof(*s->table));
	if (s->table == NULL)
		goto enomem;
	s->table_mask = nb - 1;
	s->hash_seed = (uint32_t)tcp_siphash(s->conf.isn_secret, "table", 5);

	s->tw_mem = calloc(s->conf.max_time_wait, sizeof(*s->tw_mem));
	if (s->tw_mem == NULL)
		goto enomem;
	link_init(&s->tw_fifo);
	link_init(&s->tw_free);
	for (uint32_t i = 0; i < s->conf.max_time_wait; i++)
		link_add_tail(&s->tw_free, &s->tw_mem[i].fifo);
	link_init(&s->work);
	link_init(&s->reap);

	/* The window a connection offers with its receive memory free;
	 * the scale we offer is the smallest that can express it. */
	win64 = (uint64_t)(s->conf.rcv_buf / s->conf.rx_buf_len) * s->conf.mss;
	win = (uint32_t)SG_MIN(win64, (uint64_t)TCP_MAX_WINDOW);
	s->rcv_wnd_max = win;
	while (s->rcv_wscale < TCP_MAX_WSCALE && (win >> s->rcv_wscale) > 65535)
		s->rcv_wscale++;

	tcp_clock(s);
	sg_timer_wheel_init(&s->wheel, s->conf.tick_ns, s->now_ns);
	s->next_ephemeral = (uint32_t)tcp_siphash(s->conf.isn_secret,
						  &s->now_ns, sizeof(s->now_ns));
	return s;

einval:
	free(s);
	rte_errno = EINVAL;
	return NULL;
enomem:
	if (s != NULL) {
		free(s->table);
		free(s->tw_mem);
		free(s);
	}
	rte_errno = ENOMEM;
	return NULL;
}

void
tcp_free_chain(struct rte_mbuf *m)
{
	while (m != NULL) {
		struct rte_mbuf *n = m->next;

		m->next = NULL;
		rte_pktmbuf_free_seg(m);
		m = n;
	}
}

static void
conn_free_queues(struct sg_tcp_conn *c)
{
	if (c->sink_m != NULL && !(c->flags & F_SINK_LINKED))
		rte_pktmbuf_free(c->sink_m);
	tcp_free_chain(c->snd_head);
	tcp_free_chain(c->rcv_head);
	tcp_free_chain(c->ooo_head);
	c->snd_head = c->snd_tail = c->snd_cur = NULL;
	c->rcv_head = c->rcv_tail = c->ooo_head = NULL;
	c->sink_m = NULL;
	c->snd_bytes = 0;
	c->rcv_bytes = 0;
	c->rcv_mem = 0;
	c->ooo_segs = 0;
	c->nsack = 0;
	c->sink.pos = NULL;
	c->sink.end = NULL;
	if (c->sink.err == 0)
		c->sink.err = -EPIPE;
}

void
sg_tcp_stack_destroy(struct sg_tcp_stack *s)
{
	struct sg_tcp_listener *l;

	if (s == NULL)
		return;
	for (uint32_t i = 0; i <= s->table_mask; i++) {
		for (struct tcp_hnode *h = s->table[i]; h != NULL; h = h->hnext) {
			if (h->kind == TCP_HN_CONN)
				conn_free_queues((struct sg_tcp_conn *)h);
		}
	}
	while ((l = s->listeners) != NULL) {
		s->listeners = l->next;
		free(l);
	}
	while (s->chunks != NULL) {
		struct tcp_chunk *ch = s->chunks;

		s->chunks = ch->next;
		free(ch);
	}
	free(s->tw_mem);
	free(s->table);
	free(s);
}

const struct sg_tcp_stats *
sg_tcp_stack_stats(const struct sg_tcp_stack *s)
{
	return &s->st;
}

size_t
sg_tcp_conn_size(void)
{
	return sizeof(struct sg_tcp_conn);
}

size_t
sg_tcp_time_wait_size(void)
{
	return sizeof(struct tcp_tw);
}

/* ------------------------------------------------------------------ */
/* The table                                                           */
/* ------------------------------------------------------------------ */

static inline uint32_t
key_hash(const struct sg_tcp_stack *s, const struct tcp_key *k)
{
	return rte_jhash_3words(k->lip, k->rip,
				((uint32_t)k->lport << 16) | k->rport,
				s->hash_seed);
}

struct tcp_hnode *
tcp_lookup(struct sg_tcp_stack *s, const struct tcp_key *k)
{
	struct tcp_hnode *h = s->table[key_hash(s, k) & s->table_mask];

	for (; h != NULL; h = h->hnext) {
		if (key_eq(&h->key, k))
			return h;
	}
	return NULL;
}

void
tcp_hash_insert(struct sg_tcp_stack *s, struct tcp_hnode *h)
{
	struct tcp_hnode **b = &s->table[key_hash(s, &h->key) & s->table_mask];

	h->hnext = *b;
	*b = h;
	h->hashed = 1;
}

void
tcp_hash_remove(struct sg_tcp_stack *s, struct tcp_hnode *h)
{
	struct tcp_hnode **pp;

	if (!h->hashed)
		return;
	pp = &s->table[key_hash(s, &h->key) & s->table_mask];
	while (*pp != NULL && *pp != h)
		pp = &(*pp)->hnext;
	if (*pp == h)
		*pp = h->hnext;
	h->hnext = NULL;
	h->hashed = 0;
}

struct sg_tcp_listener *
tcp_listener_find(struct sg_tcp_stack *s, uint32_t ip, uint16_t port)
{
	struct sg_tcp_listener *any = NULL;

	for (struct sg_tcp_listener *l = s->listeners; l != NULL; l = l->next) {
		if (l->port != port)
			continue;
		if (l->ip == ip)
			return l;
		if (l->ip == 0)
			any = l;
	}
	return any;
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */
/* ------------------------------------------------------------------ */

struct sg_tcp_conn *
tcp_conn_alloc(struct sg_tcp_stack *s, const struct tcp_key *k)
{
	struct sg_tcp_conn *c;

	if (s->nconns >= s->conf.max_conns)
		return NULL;
	if (s->free_conns == NULL) {
		/* Grow by a chunk; chunks live until the stack dies, so the
		 * free list never returns memory to the heap mid-run. */
		struct tcp_chunk *ch = malloc(sizeof(*ch) +
					      CONN_CHUNK * sizeof(*c) + 64);
		char *p;

		if (ch == NULL)
			return NULL;
		ch->next = s->chunks;
		s->chunks = ch;
		p = (char *)RTE_PTR_ALIGN_CEIL((char *)(ch + 1), 64);
		for (unsigned i = 0; i < CONN_CHUNK; i++) {
			c = (struct sg_tcp_conn *)(p + i * sizeof(*c));
			c->h.hnext = (struct tcp_hnode *)s->free_conns;
			s->free_conns = c;
		}
	}
	c = s->free_conns;
	s->free_conns = (struct sg_tcp_conn *)c->h.hnext;
	memset(c, 0, sizeof(*c));
	c->h.key = *k;
	c->h.kind = TCP_HN_CONN;
	c->stack = s;
	c->state = SG_TCP_CLOSED;
	sg_timer_init(&c->timer, tcp_timer_cb, c);
	tcp_sink_init(c);
	c->rcv_mss = s->conf.mss;
	c->snd_mss = TCP_DEFAULT_MSS;
	c->rto_us = (uint32_t)(s->conf.rto_init_ns / SG_NS_PER_US);
	c->ssthresh = UINT32_MAX;
	c->ts_offset = tcp_ts_offset(s, k);
	c->last_rcv_ns = s->now_ns;
	c->ka_idle_ns = s->conf.keepalive_idle_ns;
	if (c->ka_idle_ns != 0)
		c->flags |= F_KEEPALIVE;
	s->nconns++;
	return c;
}

void
tcp_set_state(struct sg_tcp_conn *c, uint8_t st)
{
	struct sg_tcp_stats *ss = &c->stack->st;

	if (c->state != SG_TCP_CLOSED)
		ss->conns_by_state[c->state]--;
	if (st != SG_TCP_CLOSED)
		ss->conns_by_state[st]++;
	c->state = st;
	if (st == SG_TCP_ESTABLISHED)
		c->flags |= F_ESTAB_SEEN;
}

void
tcp_work(struct sg_tcp_conn *c)
{
	if (c->flags & (F_ON_WORK | F_DEAD))
		return;
	c->flags |= F_ON_WORK;
	link_add_tail(&c->stack->work, &c->work);
}

/* Frees everything a connection holds and parks it on the reap list.
 * No callback; idempotent. */
void
tcp_conn_destroy(struct sg_tcp_conn *c)
{
	struct sg_tcp_stack *s = c->stack;

	if (c->flags & F_DEAD)
		return;
	if (c->listener != NULL) {
		c->listener->embryonic--;
		c->listener = NULL;
	}
	tcp_hash_remove(s, &c->h);
	sg_timer_cancel(&s->wheel, &c->timer);
	conn_free_queues(c);
	link_del(&c->work);
	c->flags = (c->flags & (F_APP_CLOSED | F_ESTAB_SEEN | F_PASSIVE)) |
		   F_DEAD;
	tcp_set_state(c, SG_TCP_CLOSED);
	link_add_tail(&s->reap, &c->work);
}

/* Destroys the connection and tells the application why, unless it
 * closed the connection itself. */
void
tcp_conn_drop(struct sg_tcp_conn *c, int status)
{
	bool tell = !(c->flags & (F_APP_CLOSED | F_DEAD)) && c->cbs != NULL;
	bool estab = (c->flags & F_ESTAB_SEEN) != 0;
	bool active = !(c->flags & F_PASSIVE);

	if (c->flags & F_DEAD)
		return;
	if (!estab && active)
		c->stack->st.connect_failures++;
	tcp_conn_destroy(c);
	if (!tell)
		return;
	c->flags |= F_APP_CLOSED;
	if (!estab && active) {
		if (c->cbs->connected != NULL)
			c->cbs->connected(c, c->arg, status);
	} else if (estab) {
		if (c->cbs->closed != NULL)
			c->cbs->closed(c, c->arg, status);
	}
}

/* Re-arms the connection's one timer at its earliest deadline. A timer
 * that would fire earlier than needed is left alone (the callback
 * re-arms), so the common case of pushing the RTO forward on every ACK
 * costs nothing. */
void
tcp_timer_update(struct sg_tcp_conn *c)
{
	uint64_t when = UINT64_MAX;

	if (c->flags & F_DEAD)
		return;
	if (c->rto_at != 0)
		when = c->rto_at;
	if (c->delack_at != 0 && c->delack_at < when)
		when = c->delack_at;
	if (c->keep_at != 0 && c->keep_at < when)
		when = c->keep_at;
	if (when == UINT64_MAX) {
		sg_timer_cancel(&c->stack->wheel, &c->timer);
		return;
	}
	if (sg_timer_armed(&c->timer) && c->timer_at <= when)
		return;
	c->timer_at = when;
	sg_timer_arm_at(&c->stack->wheel, &c->timer, when);
}

/* Hands in-order data to the reader (unless paused), then eof() once
 * the queue is empty and the FIN has been received. */
void
tcp_deliver(struct sg_tcp_conn *c)
{
	c->flags &= ~F_DELIVER;
	while (c->rcv_head != NULL && !(c->flags & (F_PAUSED | F_DEAD))) {
		struct rte_mbuf *head = c->rcv_head, *last = head, *m;
		uint32_t bytes = 0, mem = 0;
		unsigned n = 0;

		for (m = head; m != NULL && n < TCP_DELIVER_MAX_SEGS; m = m->next) {
			bytes += m->data_len;
			mem += m->buf_len;
			last = m;
			n++;
		}
		c->rcv_head = last->next;
		if (c->rcv_head == NULL)
			c->rcv_tail = NULL;
		last->next = NULL;
		head->pkt_len = bytes;
		head->nb_segs = (uint16_t)n;
		c->rcv_bytes -= bytes;
		c->rcv_mem -= mem;
		c->flags |= F_WINUPD;
		tcp_work(c);
		if (c->cbs != NULL && c->cbs->data != NULL &&
		    !(c->flags & F_APP_CLOSED))
			c->cbs->data(c, c->arg, head);
		else
			rte_pktmbuf_free(head);
	}
	if (c->rcv_head == NULL &&
	    (c->flags & (F_EOF_PENDING | F_EOF_DONE | F_DEAD | F_PAUSED)) ==
		    F_EOF_PENDING) {
		c->flags |= F_EOF_DONE;
		if (c->cbs != NULL && c->cbs->eof != NULL &&
		    !(c->flags & F_APP_CLOSED))
			c->cbs->eof(c, c->arg);
	}
	/* A connection that reached TIME_WAIT with data still held for
	 * its reader becomes a compact record now. */
	if (c->state == SG_TCP_TIME_WAIT && c->rcv_head == NULL &&
	    !(c->flags & F_DEAD))
		tcp_time_wait(c);
}

/* ------------------------------------------------------------------ */
/* TIME_WAIT records                                                   */
/* ------------------------------------------------------------------ */

void
tcp_tw_free(struct sg_tcp_stack *s, struct tcp_tw *tw)
{
	tcp_hash_remove(s, &tw->h);
	link_del(&tw->fifo);
	link_add_tail(&s->tw_free, &tw->fifo);
	s->ntw--;
	s->st.conns_by_state[SG_TCP_TIME_WAIT]--;
}

/* Replaces `c` in the table by a TIME_WAIT record. The caller destroys
 * `c` afterwards. Returns NULL only when max_time_wait is 0. */
struct tcp_tw *
tcp_tw_enter(struct sg_tcp_conn *c)
{
	struct sg_tcp_stack *s = c->stack;
	struct tcp_tw *tw;

	if (link_empty(&s->tw_free)) {
		if (link_empty(&s->tw_fifo))
			return NULL;
		/* Full: the oldest record goes first. */
		tcp_tw_free(s, SG_CONTAINER_OF(s->tw_fifo.next, struct tcp_tw,
					       fifo));
		s->st.tw_recycled++;
	}
	tw = SG_CONTAINER_OF(s->tw_free.next, struct tcp_tw, fifo);
	link_del(&tw->fifo);
	memset(tw, 0, sizeof(*tw));
	tw->h.key = c->h.key;
	tw->h.kind = TCP_HN_TW;
	tw->snd_nxt = c->snd_max;
	tw->rcv_nxt = c->rcv_nxt;
	tw->ts_ok = (c->flags & F_TS_OK) != 0;
	tw->ts_recent = c->ts_recent;
	tw->ts_offset = c->ts_offset;
	tw->rcv_wscale = (c->flags & F_WS_OK) ? c->rcv_wscale : 0;
	tw->expires_ns = s->now_ns + s->conf.time_wait_ns;
	tcp_hash_remove(s, &c->h);
	tcp_hash_insert(s, &tw->h);
	link_add_tail(&s->tw_fifo, &tw->fifo);
	s->ntw++;
	s->st.conns_by_state[SG_TCP_TIME_WAIT]++;
	return tw;
}

/* ------------------------------------------------------------------ */
/* Once per iteration                                                  */
/* ------------------------------------------------------------------ */

unsigned
sg_tcp_stack_timers(struct sg_tcp_stack *s)
{
	unsigned fired;

	tcp_enter(s);
	fired = sg_timer_wheel_advance(&s->wheel, s->now_ns);
	while (!link_empty(&s->tw_fifo)) {
		struct tcp_tw *tw = SG_CONTAINER_OF(s->tw_fifo.next,
						    struct tcp_tw, fifo);

		if (tw->expires_ns > s->now_ns)
			break;
		tcp_tw_free(s, tw);
		fired++;
	}
	tcp_leave(s);
	return fired;
}

unsigned
sg_tcp_stack_flush(struct sg_tcp_stack *s)
{
	struct tcp_link retry;
	unsigned n = 0;

	tcp_enter(s);
	link_init(&retry);
	while (!link_empty(&s->work)) {
		struct sg_tcp_conn *c =
			SG_CONTAINER_OF(s->work.next, struct sg_tcp_conn, work);

		link_del(&c->work);
		c->flags &= ~F_ON_WORK;
		if (c->flags & F_DELIVER) {
			tcp_deliver(c);
			if (c->flags & F_DEAD)
				continue;
			/* Delivery may have queued c again (window update);
			 * it is handled now. */
			if (c->flags & F_ON_WORK) {
				link_del(&c->work);
				c->flags &= ~F_ON_WORK;
			}
		}
		n += tcp_output(c);
		if ((c->flags & (F_OUT_RETRY | F_DEAD | F_ON_WORK)) ==
		    F_OUT_RETRY) {
			c->flags |= F_ON_WORK;
			link_add_tail(&retry, &c->work);
		}
		c->flags &= ~F_OUT_RETRY;
		tcp_timer_update(c);
	}
	/* Connections short of mbufs try again at the next flush. */
	if (!link_empty(&retry)) {
		s->work.next = retry.next;
		s->work.prev = retry.prev;
		retry.next->prev = &s->work;
		retry.prev->next = &s->work;
	}
	tcp_leave(s);
	return n;
}

uint64_t
sg_tcp_stack_idle_ns(struct sg_tcp_stack *s, uint64_t cap_ns)
{
	uint64_t idle;

	tcp_clock(s);
	if (!link_empty(&s->work))
		return 0;
	idle = sg_timer_wheel_idle_ns(&s->wheel, s->now_ns, cap_ns);
	if (!link_empty(&s->tw_fifo)) {
		struct tcp_tw *tw = SG_CONTAINER_OF(s->tw_fifo.next,
						    struct tcp_tw, fifo);
		uint64_t d = tw->expires_ns > s->now_ns ?
				     tw->expires_ns - s->now_ns : 0;

		idle = SG_MIN(idle, d);
	}
	return idle;
}
