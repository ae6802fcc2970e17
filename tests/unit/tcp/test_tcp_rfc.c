/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One named test per protocol behaviour. Two kinds:
 *  - two stacks on the simulated link (tcp_sim.h), for behaviour between
 *    two of our own stacks (handshakes, closes, windows, streams);
 *  - raw: stack 0 against a peer the test plays itself, segment by
 *    segment, when the test needs to control exactly what arrives
 *    (RST rules, duplicate ACKs, PAWS, SACK, cookies...).
 */
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_tcp.h>

#include "tcp_app.h"
#include "tcp_tests.h"

#define S_ 1000000000ull
#define MS_ 1000000ull
#define BE16(x) rte_cpu_to_be_16(x)
#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define PSH 0x08
#define ACK 0x10

static const struct sg_tcp_stats *
ST(struct sim *s, int i)
{
	return sg_tcp_stack_stats(s->st[i]);
}

static struct sg_tcp_info
INFO(struct sg_tcp_conn *c)
{
	struct sg_tcp_info i;

	sg_tcp_conn_info(c, &i);
	return i;
}

/* ------------------------------------------------------------------ */
/* Two-stack helpers                                                   */
/* ------------------------------------------------------------------ */

struct pair {
	struct sim s;
	struct ep e[2];		/* e[0] server (stack 0), e[1] client */
	unsigned base;		/* mbufs in use before */
};

static void
pair_app(struct sim *s)
{
	struct ep *e = s->app_arg;

	ep_pump(&e[0]);
	ep_pump(&e[1]);
}

static bool
pair_connected(struct sim *s)
{
	struct ep *e = s->app_arg;

	return e[0].connected && e[1].connected;
}

static bool
pair_closed(struct sim *s)
{
	struct ep *e = s->app_arg;

	return e[0].closed && e[1].closed;
}

static void
pair_init(struct pair *p, uint64_t seed)
{
	memset(p, 0, sizeof(*p));
	p->base = pool_in_use();
	sim_init(&p->s, seed, false);
}

/* Starts the stacks, listens on stack 0 port 6379 and connects from
 * stack 1; sizes are what each side sends. */
static void
pair_start(struct pair *p, uint64_t n0, uint64_t n1)
{
	struct sim *s = &p->s;
	struct sg_tcp_conn *c = NULL;

	sim_start(s);
	ep_init(&p->e[0], s, 0, n0, 11, 22, n1);
	ep_init(&p->e[1], s, 1, n1, 22, 11, n0);
	p->e[0].shut_when_done = false;
	p->e[1].shut_when_done = false;
	CU_ASSERT_EQUAL(sg_tcp_listen(s->st[0], 0, BE16(6379), 16, ep_accept,
				      &p->e[0], NULL), 0);
	CU_ASSERT_EQUAL(sg_tcp_connect(s->st[1], s->ip[1], 0, s->ip[0],
				       BE16(6379), &ep_cbs, &p->e[1], &c), 0);
	p->e[1].c = c;
	s->app = pair_app;
	s->app_arg = p->e;
}

static void
pair_fini(struct pair *p)
{
	sim_fini(&p->s);
	CU_ASSERT_EQUAL(pool_in_use(), p->base);
}

/* ------------------------------------------------------------------ */
/* Raw peer helpers                                                    */
/* ------------------------------------------------------------------ */

struct raw {
	struct sim s;
	uint16_t sport, dport;	/* the raw peer's and the stack's port */
	uint32_t isn, snd_nxt, rcv_nxt;
	uint32_t tsval, ts_recent;
	bool ts;
	uint16_t wnd;
	struct ep e;		/* the application on the stack */
	struct sg_tcp_conn *c;
	unsigned base;
};

#define RAW_SEED 77

static void
raw_app(struct sim *s)
{
	struct raw *r = s->app_arg;

	ep_pump(&r->e);
}

static void
raw_init(struct raw *r)
{
	memset(r, 0, sizeof(*r));
	r->base = pool_in_use();
	sim_init(&r->s, 1, true);
	r->wnd = 65535;
}

static void
raw_fini(struct raw *r)
{
	sim_fini(&r->s);
	CU_ASSERT_EQUAL(pool_in_use(), r->base);
}

/* The newest timestamp the stack sent, to echo. */
static void
raw_sync(struct raw *r)
{
	for (unsigned i = r->s.nlog; i > 0; i--) {
		if (r->s.log[i - 1].from == 0 && r->s.log[i - 1].has_ts) {
			r->ts_recent = r->s.log[i - 1].tsval;
			return;
		}
	}
}

static void
rsend_at(struct raw *r, uint32_t seq, uint8_t flags, const void *data,
	 uint32_t len)
{
	uint8_t o[40];
	unsigned n = 0;

	raw_sync(r);
	if (r->ts)
		n = opt_ts(o, ++r->tsval, r->ts_recent);
	raw_send(&r->s, r->sport, r->dport, seq, r->rcv_nxt, flags, r->wnd, o,
		 n, data, len);
}

static void
rsend(struct raw *r, uint8_t flags, const void *data, uint32_t len)
{
	rsend_at(r, r->snd_nxt, flags, data, len);
	r->snd_nxt += len + ((flags & (FIN | SYN)) ? 1 : 0);
}

/* Pattern bytes for stream offset `off` of the raw peer's data. */
static void
rdata_fill(uint8_t *buf, uint32_t off, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		buf[i] = ep_pattern(RAW_SEED, off + i);
}

/* Sends `len` pattern bytes at stream offset `off` (seq isn+1+off). */
static void
rdata_at(struct raw *r, uint32_t off, uint32_t len, uint8_t flags)
{
	static uint8_t buf[65536];

	rdata_fill(buf, off, len);
	rsend_at(r, r->isn + 1 + off, ACK | flags, buf, len);
}

static void
rdata(struct raw *r, uint32_t len, uint8_t flags)
{
	uint32_t off = r->snd_nxt - r->isn - 1;

	rdata_at(r, off, len, flags);
	r->snd_nxt += len + ((flags & FIN) ? 1 : 0);
}

/* Stack 0 listens on port 80; the raw peer connects from 40000. */
static void
raw_open_passive(struct raw *r, bool ts, bool sackp, int ws)
{
	struct sim *s = &r->s;
	const struct pktinfo *p;
	uint8_t o[40];
	unsigned mark, n;

	sim_start(s);
	r->sport = 40000;
	r->dport = 80;
	r->isn = 1000000;
	r->ts = ts;
	r->tsval = 100;
	ep_init(&r->e, s, 0, 0, 5, RAW_SEED, 0);
	r->e.shut_when_done = false;
	s->app = raw_app;
	s->app_arg = r;
	CU_ASSERT_EQUAL(sg_tcp_listen(s->st[0], 0, BE16(80), 16, ep_accept,
				      &r->e, NULL), 0);
	mark = s->nlog;
	n = opt_syn(o, 1460, ws, sackp, ts, r->tsval);
	raw_send(s, r->sport, r->dport, r->isn, 0, SYN, r->wnd, o, n, NULL, 0);
	sim_step(s);
	p = log_find(s, mark, 0, SYN | ACK, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	r->rcv_nxt = p->seq + 1;
	r->snd_nxt = r->isn + 1;
	rsend(r, ACK, NULL, 0);
	sim_step(s);
	r->c = r->e.c;
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->c);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(r->c), SG_TCP_ESTABLISHED);
}

/* Stack 0 connects from port 5555 to the raw peer on port 80. */
static void
raw_open_active(struct raw *r, bool ts, bool sackp, int ws)
{
	struct sim *s = &r->s;
	const struct pktinfo *p;
	uint8_t o[40];
	unsigned mark, n;

	sim_start(s);
	r->sport = 80;
	r->dport = 5555;
	r->isn = 7000000;
	r->ts = ts;
	r->tsval = 100;
	ep_init(&r->e, s, 0, 0, 5, RAW_SEED, 0);
	r->e.shut_when_done = false;
	s->app = raw_app;
	s->app_arg = r;
	mark = s->nlog;
	CU_ASSERT_EQUAL(sg_tcp_connect(s->st[0], s->ip[0], BE16(5555), s->ip[1],
				       BE16(80), &ep_cbs, &r->e, &r->c), 0);
	r->e.c = r->c;
	sim_step(s);
	p = log_find(s, mark, 0, SYN, ACK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	r->rcv_nxt = p->seq + 1;
	r->snd_nxt = r->isn;
	n = opt_syn(o, 1460, ws, sackp, ts, r->tsval);
	if (ts) {
		/* echo the SYN's timestamp */
		uint32_t ecr = rte_cpu_to_be_32(p->tsval);

		memcpy(o + n - 4, &ecr, 4);
	}
	raw_send(s, r->sport, r->dport, r->isn, r->rcv_nxt, SYN | ACK, r->wnd,
		 o, n, NULL, 0);
	r->snd_nxt = r->isn + 1;
	sim_step(s);
	CU_ASSERT_TRUE(r->e.connected);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(r->c), SG_TCP_ESTABLISHED);
}

/* Data segments the stack sent since `mark`. */
static const struct pktinfo *
nth_data(const struct sim *s, unsigned mark, unsigned nth)
{
	for (unsigned i = mark; i < s->nlog; i++) {
		if (s->log[i].from == 0 && s->log[i].dlen > 0 && nth-- == 0)
			return &s->log[i];
	}
	return NULL;
}

/* ================================================================== */
/* Handshake                                                           */
/* ================================================================== */

static void
test_handshake_normal(void)
{
	struct pair p;
	struct sim *s = &p.s;
	const struct pktinfo *syn, *synack, *ack;
	struct sg_tcp_info i0, i1;

	pair_init(&p, 1);
	pair_start(&p, 0, 0);
	CU_ASSERT_TRUE(sim_run(s, S_, pair_connected));
	syn = &s->log[0];
	synack = &s->log[1];
	ack = &s->log[2];
	CU_ASSERT_EQUAL(syn->from, 1);
	CU_ASSERT_EQUAL(syn->flags, SYN);
	CU_ASSERT_TRUE(syn->has_mss && syn->mss == 1460);
	CU_ASSERT_TRUE(syn->has_ws && syn->has_ts && syn->has_sackp);
	CU_ASSERT_EQUAL(synack->from, 0);
	CU_ASSERT_EQUAL(synack->flags, SYN | ACK);
	CU_ASSERT_EQUAL(synack->ack, syn->seq + 1);
	CU_ASSERT_EQUAL(synack->tsecr, syn->tsval);
	CU_ASSERT_TRUE(synack->has_ws && synack->has_ts && synack->has_sackp);
	CU_ASSERT_EQUAL(ack->from, 1);
	CU_ASSERT_EQUAL(ack->flags, ACK);
	CU_ASSERT_EQUAL(ack->seq, syn->seq + 1);
	CU_ASSERT_EQUAL(ack->ack, synack->seq + 1);
	CU_ASSERT_TRUE(syn->cksum_ok && synack->cksum_ok && ack->cksum_ok);
	CU_ASSERT_TRUE(p.e[0].accepted);
	CU_ASSERT_EQUAL(p.e[1].connect_status, 0);
	i0 = INFO(p.e[0].c);
	i1 = INFO(p.e[1].c);
	CU_ASSERT_EQUAL(i0.state, SG_TCP_ESTABLISHED);
	CU_ASSERT_EQUAL(i1.state, SG_TCP_ESTABLISHED);
	CU_ASSERT_TRUE(i0.ts_ok && i1.ts_ok && i0.sack_ok && i1.sack_ok);
	CU_ASSERT_EQUAL(i0.snd_mss, 1460);
	CU_ASSERT_EQUAL(i0.rcv_nxt, i1.iss + 1);
	CU_ASSERT_EQUAL(i1.rcv_nxt, i0.iss + 1);
	CU_ASSERT_EQUAL(ST(s, 0)->passive_opens, 1);
	CU_ASSERT_EQUAL(ST(s, 1)->active_opens, 1);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_ESTABLISHED], 1);
	CU_ASSERT_EQUAL(ST(s, 1)->conns_by_state[SG_TCP_ESTABLISHED], 1);
	CU_ASSERT_EQUAL(s->nlog, 3);
	pair_fini(&p);
}

static bool
both_connected_any(struct sim *s)
{
	struct ep *e = s->app_arg;

	return (e[0].connected || e[0].closed) && (e[1].connected || e[1].closed);
}

static void
test_simultaneous_open(void)
{
	struct pair p;
	struct sim *s = &p.s;
	struct sg_tcp_conn *a = NULL, *b = NULL;

	pair_init(&p, 2);
	s->delay_ns = 5 * MS_;
	sim_start(s);
	ep_init(&p.e[0], s, 0, 3000, 11, 22, 3000);
	ep_init(&p.e[1], s, 1, 3000, 22, 11, 3000);
	s->app = pair_app;
	s->app_arg = p.e;
	/* Each side opens to the other's port, in the same iteration. */
	CU_ASSERT_EQUAL(sg_tcp_connect(s->st[0], s->ip[0], BE16(5000), s->ip[1],
				       BE16(6000), &ep_cbs, &p.e[0], &a), 0);
	CU_ASSERT_EQUAL(sg_tcp_connect(s->st[1], s->ip[1], BE16(6000), s->ip[0],
				       BE16(5000), &ep_cbs, &p.e[1], &b), 0);
	p.e[0].c = a;
	p.e[1].c = b;
	CU_ASSERT_TRUE(sim_run(s, 5 * S_, both_connected_any));
	CU_ASSERT_EQUAL(p.e[0].connect_status, 0);
	CU_ASSERT_EQUAL(p.e[1].connect_status, 0);
	/* Both SYNs crossed: two SYNs, two SYN-ACKs, no RST. */
	CU_ASSERT_EQUAL(log_count(s, 0, 0, SYN, ACK), 1);
	CU_ASSERT_EQUAL(log_count(s, 0, 1, SYN, ACK), 1);
	CU_ASSERT_EQUAL(log_count(s, 0, 0, SYN | ACK, 0), 1);
	CU_ASSERT_EQUAL(log_count(s, 0, 1, SYN | ACK, 0), 1);
	CU_ASSERT_EQUAL(log_count(s, 0, 0, RST, 0) + log_count(s, 0, 1, RST, 0), 0);
	p.e[0].shut_when_done = p.e[1].shut_when_done = true;
	CU_ASSERT_TRUE(sim_run(s, 10 * S_, pair_closed));
	CU_ASSERT_EQUAL(p.e[0].got, 3000);
	CU_ASSERT_EQUAL(p.e[1].got, 3000);
	CU_ASSERT_EQUAL(p.e[0].mismatches + p.e[1].mismatches, 0);
	pair_fini(&p);
}

struct drop_n {
	uint8_t set, clear;
	int from;
	unsigned n;
};

static bool
drop_first_n(struct sim *s, const struct pktinfo *pi, struct rte_mbuf *m)
{
	struct drop_n *d = s->filter_arg;

	(void)m;
	if (d->n > 0 && pi->from == d->from && (pi->flags & d->set) == d->set &&
	    (pi->flags & d->clear) == 0) {
		d->n--;
		return false;
	}
	return true;
}

static void
test_syn_retransmit(void)
{
	struct pair p;
	struct sim *s = &p.s;
	struct drop_n d = { SYN, ACK, 1, 2 };
	const struct pktinfo *a, *b, *c;

	pair_init(&p, 3);
	s->filter = drop_first_n;
	s->filter_arg = &d;
	pair_start(&p, 0, 0);
	CU_ASSERT_TRUE(sim_run(s, 10 * S_, pair_connected));
	a = log_find(s, 0, 1, SYN, ACK);
	b = log_find(s, (unsigned)(a - s->log) + 1, 1, SYN, ACK);
	c = log_find(s, (unsigned)(b - s->log) + 1, 1, SYN, ACK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	/* RFC 6298: 1 s initial RTO, doubled: resends at +1 s and +3 s. */
	CU_ASSERT(b->t - a->t >= S_ && b->t - a->t <= S_ + 2 * MS_);
	CU_ASSERT(c->t - b->t >= 2 * S_ && c->t - b->t <= 2 * S_ + 2 * MS_);
	CU_ASSERT_EQUAL(a->seq, c->seq);
	CU_ASSERT_EQUAL(ST(s, 1)->syn_retransmits, 2);
	CU_ASSERT(p.e[1].connected_at - a->t >= 3 * S_);
	pair_fini(&p);
}

static void
test_syn_timeout(void)
{
	struct pair p;
	struct sim *s = &p.s;
	struct drop_n d = { SYN, ACK, 1, 1000 };

	pair_init(&p, 4);
	s->conf[1].syn_retries = 3;
	s->filter = drop_first_n;
	s->filter_arg = &d;
	pair_start(&p, 0, 0);
	CU_ASSERT_FALSE(sim_run(s, 14 * S_, pair_connected));
	CU_ASSERT_FALSE(p.e[1].closed);
	sim_run_for(s, 2 * S_);	/* 1 + 2 + 4 + 8 s */
	CU_ASSERT_TRUE(p.e[1].closed);
	CU_ASSERT_EQUAL(p.e[1].connect_status, -ETIMEDOUT);
	CU_ASSERT_EQUAL(log_count(s, 0, 1, SYN, 0), 4);
	CU_ASSERT_EQUAL(ST(s, 1)->connect_failures, 1);
	CU_ASSERT_EQUAL(ST(s, 1)->conns_by_state[SG_TCP_SYN_SENT], 0);
	pair_fini(&p);
}

static void
test_synack_retransmit(void)
{
	struct pair p;
	struct sim *s = &p.s;
	struct drop_n d = { SYN | ACK, 0, 0, 1 };

	pair_init(&p, 5);
	s->filter = drop_first_n;
	s->filter_arg = &d;
	pair_start(&p, 100, 100);
	CU_ASSERT_TRUE(sim_run(s, 5 * S_, pair_connected));
	CU_ASSERT_EQUAL(log_count(s, 0, 0, SYN | ACK, 0), 2);
	CU_ASSERT_EQUAL(ST(s, 0)->syn_retransmits, 1);
	/* The client's duplicate SYN (if any) and the resent SYN-ACK both
	 * lead to one connection. */
	CU_ASSERT_EQUAL(ST(s, 0)->passive_opens, 1);
	pair_fini(&p);
}

static void
test_syn_to_closed_port(void)
{
	struct pair p;
	struct sim *s = &p.s;
	struct sg_tcp_conn *c = NULL;
	const struct pktinfo *syn, *rst;

	pair_init(&p, 6);
	sim_start(s);
	ep_init(&p.e[1], s, 1, 0, 1, 2, 0);
	s->app_arg = p.e;
	CU_ASSERT_EQUAL(sg_tcp_connect(s->st[1], s->ip[1], 0, s->ip[0], BE16(81),
				       &ep_cbs, &p.e[1], &c), 0);
	p.e[1].c = c;
	sim_run_for(s, 100 * MS_);
	syn = log_find(s, 0, 1, SYN, 0);
	rst = log_find(s, 0, 0, RST, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rst);
	/* RFC 9293 3.10.7.1: no ACK in the SYN, so <SEQ=0><ACK=SEQ+LEN>. */
	CU_ASSERT_EQUAL(rst->flags, RST | ACK);
	CU_ASSERT_EQUAL(rst->seq, 0);
	CU_ASSERT_EQUAL(rst->ack, syn->seq + 1);
	CU_ASSERT_TRUE(p.e[1].closed);
	CU_ASSERT_EQUAL(p.e[1].connect_status, -ECONNREFUSED);
	CU_ASSERT_EQUAL(ST(s, 0)->no_conn, 1);
	CU_ASSERT_EQUAL(ST(s, 0)->resets_out, 1);
	CU_ASSERT_EQUAL(ST(s, 1)->connect_failures, 1);
	pair_fini(&p);
}

static void
test_syn_sent_bad_ack_and_rst(void)
{
	struct raw r;
	struct sim *s = &r.s;
	struct sg_tcp_conn *c = NULL;
	const struct pktinfo *syn, *rst;
	unsigned mark;

	raw_init(&r);
	sim_start(s);
	ep_init(&r.e, s, 0, 0, 5, RAW_SEED, 0);
	CU_ASSERT_EQUAL(sg_tcp_connect(s->st[0], s->ip[0], BE16(5555), s->ip[1],
				       BE16(80), &ep_cbs, &r.e, &c), 0);
	r.e.c = c;
	sim_step(s);
	syn = log_find(s, 0, 0, SYN, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(syn);
	/* A SYN-ACK acknowledging something we never sent: RST <SEQ=ACK>. */
	mark = s->nlog;
	raw_send(s, 80, 5555, 999, syn->seq + 7, SYN | ACK, 1000, NULL, 0, NULL, 0);
	rst = log_find(s, mark, 0, RST, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rst);
	CU_ASSERT_EQUAL(rst->seq, syn->seq + 7);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(c), SG_TCP_SYN_SENT);
	/* A RST whose ACK does not cover our SYN is ignored... */
	raw_send(s, 80, 5555, 999, syn->seq + 9, RST | ACK, 0, NULL, 0, NULL, 0);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(c), SG_TCP_SYN_SENT);
	CU_ASSERT_FALSE(r.e.closed);
	/* ...one that does refuses the connection. */
	raw_send(s, 80, 5555, 0, syn->seq + 1, RST | ACK, 0, NULL, 0, NULL, 0);
	CU_ASSERT_TRUE(r.e.closed);
	CU_ASSERT_EQUAL(r.e.connect_status, -ECONNREFUSED);
	raw_fini(&r);
}

static void
test_active_open_options(void)
{
	struct raw r;
	struct sim *s = &r.s;
	const struct pktinfo *a;
	struct sg_tcp_info i;

	raw_init(&r);
	raw_open_active(&r, true, true, 3);
	a = &s->log[s->nlog - 1];
	CU_ASSERT_EQUAL(a->flags, ACK);
	CU_ASSERT_EQUAL(a->ack, r.isn + 1);
	CU_ASSERT_TRUE(a->has_ts);
	CU_ASSERT_EQUAL(a->tsecr, r.tsval);
	i = INFO(r.c);
	CU_ASSERT_EQUAL(i.snd_wscale, 3);
	CU_ASSERT_EQUAL(i.rcv_wscale, 2);
	CU_ASSERT_TRUE(i.ts_ok && i.sack_ok);
	CU_ASSERT_EQUAL(i.snd_wnd, 65535);	/* a SYN's window: unscaled */
	/* The next window from the peer is scaled by 2^3. */
	rsend(&r, ACK, NULL, 0);
	CU_ASSERT_EQUAL(INFO(r.c).snd_wnd, 65535u << 3);
	raw_fini(&r);
}

const struct sg_unit_test handshake_tests[] = {
	{ "active open against a peer with options", test_active_open_options },
	{ "three-way handshake with options", test_handshake_normal },
	{ "simultaneous open", test_simultaneous_open },
	{ "SYN retransmitted with backoff", test_syn_retransmit },
	{ "SYN retries exhausted: ETIMEDOUT", test_syn_timeout },
	{ "SYN-ACK retransmitted", test_synack_retransmit },
	{ "SYN to a closed port gets RST", test_syn_to_closed_port },
	{ "SYN_SENT: bad ACK gets RST, RST rules", test_syn_sent_bad_ack_and_rst },
	{ NULL, NULL },
};

/* ================================================================== */
/* Close                                                               */
/* ================================================================== */

static void
test_close_active_passive(void)
{
	struct pair p;
	struct sim *s = &p.s;

	pair_init(&p, 10);
	pair_start(&p, 0, 0);
	CU_ASSERT_TRUE(sim_run(s, S_, pair_connected));
	sg_tcp_shutdown(p.e[1].c);
	sim_run_for(s, 50 * MS_);
	CU_ASSERT_TRUE(p.e[0].eof);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(p.e[0].c), SG_TCP_CLOSE_WAIT);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(p.e[1].c), SG_TCP_FIN_WAIT_2);
	CU_ASSERT_FALSE(p.e[1].eof);
	sg_tcp_shutdown(p.e[0].c);
	sim_step(s);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(p.e[0].c), SG_TCP_LAST_ACK);
	CU_ASSERT_TRUE(sim_run(s, S_, pair_closed));
	CU_ASSERT_EQUAL(p.e[0].closed_status, 0);
	CU_ASSERT_EQUAL(p.e[1].closed_status, 0);
	CU_ASSERT_TRUE(p.e[1].eof);
	/* The active closer keeps a TIME_WAIT record, the other nothing. */
	CU_ASSERT_EQUAL(ST(s, 1)->conns_by_state[SG_TCP_TIME_WAIT], 1);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_TIME_WAIT], 0);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_LAST_ACK], 0);
	pair_fini(&p);
}

struct seen {
	struct ep *e;
	unsigned mask[2];
};

static void
seen_app(struct sim *s)
{
	struct seen *sn = s->app_arg;

	for (int i = 0; i < 2; i++) {
		if (sn->e[i].c != NULL)
			sn->mask[i] |= 1u << sg_tcp_conn_state(sn->e[i].c);
	}
}

static bool
seen_closed(struct sim *s)
{
	struct seen *sn = s->app_arg;

	return sn->e[0].closed && sn->e[1].closed;
}

static void
test_simultaneous_close(void)
{
	struct pair p;
	struct sim *s = &p.s;
	struct seen sn = { p.e, { 0, 0 } };

	pair_init(&p, 11);
	sn.e = p.e;
	s->delay_ns = 10 * MS_;
	pair_start(&p, 0, 0);
	CU_ASSERT_TRUE(sim_run(s, S_, pair_connected));
	s->app = seen_app;
	s->app_arg = &sn;
	sg_tcp_shutdown(p.e[0].c);
	sg_tcp_shutdown(p.e[1].c);
	CU_ASSERT_TRUE(sim_run(s, 2 * S_, seen_closed));
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(p.e[i].closed_status, 0);
		CU_ASSERT_TRUE(p.e[i].eof);
		CU_ASSERT_TRUE(sn.mask[i] & (1u << SG_TCP_CLOSING));
		CU_ASSERT_EQUAL(ST(s, i)->conns_by_state[SG_TCP_TIME_WAIT], 1);
	}
	pair_fini(&p);
}

static void
test_fin_with_data(void)
{
	struct pair p;
	struct sim *s = &p.s;
	const struct pktinfo *f;

	pair_init(&p, 12);
	pair_start(&p, 0, 0);
	CU_ASSERT_TRUE(sim_run(s, S_, pair_connected));
	p.e[1].to_send = 5;
	p.e[1].shut_when_done = true;
	sim_step(s);
	f = log_find(s, 3, 1, FIN, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->dlen, 5);
	CU_ASSERT_EQUAL(log_count_data(s, 3, 1), 1);
	sim_run_for(s, 20 * MS_);
	CU_ASSERT_EQUAL(p.e[0].got, 5);
	CU_ASSERT_EQUAL(p.e[0].mismatches, 0);
	CU_ASSERT_TRUE(p.e[0].eof);
	pair_fini(&p);
}

static void
test_fin_retransmit(void)
{
	struct pair p;
	struct sim *s = &p.s;
	struct drop_n d = { FIN, 0, 1, 1 };

	pair_init(&p, 13);
	pair_start(&p, 0, 0);
	CU_ASSERT_TRUE(sim_run(s, S_, pair_connected));
	s->filter = drop_first_n;
	s->filter_arg = &d;
	sg_tcp_shutdown(p.e[1].c);
	sim_run_for(s, 100 * MS_);
	CU_ASSERT_FALSE(p.e[0].eof);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(p.e[1].c), SG_TCP_FIN_WAIT_1);
	sim_run_for(s, 2 * S_);
	CU_ASSERT_TRUE(p.e[0].eof);
	CU_ASSERT_EQUAL(log_count(s, 0, 1, FIN, 0), 2);
	CU_ASSERT_EQUAL(ST(s, 1)->retransmits, 1);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(p.e[1].c), SG_TCP_FIN_WAIT_2);
	pair_fini(&p);
}

static void
test_half_close(void)
{
	struct pair p;
	struct sim *s = &p.s;

	pair_init(&p, 14);
	pair_start(&p, 200000, 0);
	p.e[1].shut_when_done = true;	/* client closes its side at once */
	p.e[0].shut_when_done = true;
	CU_ASSERT_TRUE(sim_run(s, 10 * S_, pair_closed));
	CU_ASSERT(p.e[0].eof_at < p.e[1].eof_at);
	CU_ASSERT_EQUAL(p.e[1].got, 200000);
	CU_ASSERT_EQUAL(p.e[1].mismatches, 0);
	CU_ASSERT_EQUAL(p.e[0].closed_status, 0);
	CU_ASSERT_EQUAL(p.e[1].closed_status, 0);
	pair_fini(&p);
}

static void
test_fin_in_syn_rcvd(void)
{
	struct raw r;
	struct sim *s = &r.s;
	const struct pktinfo *p;
	uint8_t o[40];
	unsigned n;

	raw_init(&r);
	sim_start(s);
	r.sport = 40000;
	r.dport = 80;
	ep_init(&r.e, s, 0, 0, 5, RAW_SEED, 0);
	sg_tcp_listen(s->st[0], 0, BE16(80), 16, ep_accept, &r.e, NULL);
	n = opt_syn(o, 1460, -1, false, false, 0);
	raw_send(s, 40000, 80, 500, 0, SYN, 8000, o, n, NULL, 0);
	sim_step(s);
	p = log_find(s, 0, 0, SYN | ACK, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_SYN_RCVD], 1);
	/* The handshake's ACK carries a FIN. */
	raw_send(s, 40000, 80, 501, p->seq + 1, ACK | FIN, 8000, NULL, 0, NULL, 0);
	CU_ASSERT_TRUE(r.e.accepted);
	CU_ASSERT_TRUE(r.e.eof);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(r.e.c), SG_TCP_CLOSE_WAIT);
	sim_step(s);
	p = &s->log[s->nlog - 1];
	CU_ASSERT_EQUAL(p->flags, ACK);
	CU_ASSERT_EQUAL(p->ack, 502);
	raw_fini(&r);
}

static void
test_fin_in_last_ack(void)
{
	struct raw r;
	struct sim *s = &r.s;
	const struct pktinfo *f, *a;
	unsigned mark;

	raw_init(&r);
	raw_open_passive(&r, false, false, -1);
	rsend(&r, ACK | FIN, NULL, 0);
	sim_step(s);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(r.c), SG_TCP_CLOSE_WAIT);
	CU_ASSERT_TRUE(r.e.eof);
	mark = s->nlog;
	sg_tcp_close(r.c);
	sim_step(s);
	f = log_find(s, mark, 0, FIN, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(f->ack, r.snd_nxt);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_LAST_ACK], 1);
	/* The peer's FIN again (our ACK was lost): ACK it, stay. */
	mark = s->nlog;
	rsend_at(&r, r.snd_nxt - 1, ACK | FIN, NULL, 0);
	sim_step(s);
	a = log_find(s, mark, 0, ACK, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->ack, r.snd_nxt);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_LAST_ACK], 1);
	/* ACK of our FIN: gone, no TIME_WAIT on the passive side. */
	r.rcv_nxt = f->seq + 1;
	rsend(&r, ACK, NULL, 0);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_LAST_ACK], 0);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_TIME_WAIT], 0);
	raw_fini(&r);
}

static void
test_fin_in_time_wait(void)
{
	struct raw r;
	struct sim *s = &r.s;
	const struct pktinfo *f, *a1, *a2;
	unsigned mark;

	raw_init(&r);
	raw_open_passive(&r, true, false, -1);
	mark = s->nlog;
	sg_tcp_close(r.c);	/* we close first */
	sim_step(s);
	f = log_find(s, mark, 0, FIN, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_FIN_WAIT_1], 1);
	r.rcv_nxt = f->seq + 1;
	rsend(&r, ACK, NULL, 0);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_FIN_WAIT_2], 1);
	mark = s->nlog;
	rsend(&r, ACK | FIN, NULL, 0);
	sim_step(s);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_TIME_WAIT], 1);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_FIN_WAIT_2], 0);
	a1 = log_find(s, mark, 0, ACK, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a1);
	CU_ASSERT_EQUAL(a1->ack, r.snd_nxt);
	/* FIN again: the record answers with the same ACK. */
	mark = s->nlog;
	rsend_at(&r, r.snd_nxt - 1, ACK | FIN, NULL, 0);
	a2 = log_find(s, mark, 0, ACK, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a2);
	CU_ASSERT_EQUAL(a2->seq, a1->seq);
	CU_ASSERT_EQUAL(a2->ack, a1->ack);
	CU_ASSERT_TRUE(a2->has_ts);
	CU_ASSERT_EQUAL(a2->tsecr, r.tsval);
	raw_fini(&r);
}

static void
test_data_after_close_discarded(void)
{
	struct raw r;
	struct sim *s = &r.s;
	const struct pktinfo *a;
	unsigned mark;

	raw_init(&r);
	raw_open_passive(&r, false, false, -1);
	sg_tcp_close(r.c);
	sim_step(s);
	mark = s->nlog;
	rdata(&r, 300, 0);
	sim_step(s);
	a = log_find(s, mark, 0, ACK, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->ack, r.snd_nxt);
	CU_ASSERT_EQUAL(r.e.got, 0);	/* no callback after close */
	raw_fini(&r);
}

static void
test_fin_wait2_timeout(void)
{
	struct raw r;
	struct sim *s = &r.s;
	const struct pktinfo *f;
	unsigned mark;

	raw_init(&r);
	s->conf[0].fin_wait2_ns = 5 * S_;
	raw_open_passive(&r, false, false, -1);
	mark = s->nlog;
	sg_tcp_close(r.c);
	sim_step(s);
	f = log_find(s, mark, 0, FIN, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	r.rcv_nxt = f->seq + 1;
	rsend(&r, ACK, NULL, 0);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_FIN_WAIT_2], 1);
	sim_run_for(s, 4900 * MS_);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_FIN_WAIT_2], 1);
	sim_run_for(s, 200 * MS_);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_FIN_WAIT_2], 0);
	CU_ASSERT_EQUAL(ST(s, 0)->timeouts, 1);
	raw_fini(&r);
}

static void
test_fin_in_close_wait_closing_syn_sent(void)
{
	struct raw r;
	struct sim *s = &r.s;
	const struct pktinfo *a, *f;
	struct sg_tcp_conn *c = NULL;
	unsigned mark;

	/* CLOSE_WAIT: the peer's FIN again is ACKed, nothing changes. */
	raw_init(&r);
	raw_open_passive(&r, false, false, -1);
	rsend(&r, ACK | FIN, NULL, 0);
	sim_step(s);
	mark = s->nlog;
	rsend_at(&r, r.snd_nxt - 1, ACK | FIN, NULL, 0);
	sim_step(s);
	a = log_find(s, mark, 0, ACK, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->ack, r.snd_nxt);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(r.c), SG_TCP_CLOSE_WAIT);
	raw_fini(&r);

	/* CLOSING: our FIN out, theirs in before the ACK of ours; their
	 * FIN again is ACKed; the ACK of ours ends in TIME_WAIT. */
	raw_init(&r);
	raw_open_passive(&r, false, false, -1);
	sg_tcp_shutdown(r.c);
	sim_step(s);
	f = log_find(s, 0, 0, FIN, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	rsend(&r, ACK | FIN, NULL, 0);		/* does not ACK our FIN */
	CU_ASSERT_EQUAL(sg_tcp_conn_state(r.c), SG_TCP_CLOSING);
	CU_ASSERT_TRUE(r.e.eof);
	sim_step(s);
	mark = s->nlog;
	rsend_at(&r, r.snd_nxt - 1, ACK | FIN, NULL, 0);
	sim_step(s);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(r.c), SG_TCP_CLOSING);
	CU_ASSERT_PTR_NOT_NULL(log_find(s, mark, 0, ACK, 0));
	r.rcv_nxt = f->seq + 1;
	rsend(&r, ACK, NULL, 0);
	CU_ASSERT_TRUE(r.e.closed);
	CU_ASSERT_EQUAL(r.e.closed_status, 0);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_TIME_WAIT], 1);
	raw_fini(&r);

	/* SYN_SENT: a FIN without SYN is dropped (3.10.7.3). */
	raw_init(&r);
	sim_start(&r.s);
	ep_init(&r.e, &r.s, 0, 0, 5, RAW_SEED, 0);
	sg_tcp_connect(r.s.st[0], r.s.ip[0], BE16(5555), r.s.ip[1], BE16(80),
		       &ep_cbs, &r.e, &c);
	sim_step(&r.s);
	mark = r.s.nlog;
	raw_send(&r.s, 80, 5555, 77, 0, FIN, 1000, NULL, 0, NULL, 0);
	sim_step(&r.s);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(c), SG_TCP_SYN_SENT);
	CU_ASSERT_EQUAL(r.s.nlog, mark);
	raw_fini(&r);
}

const struct sg_unit_test close_tests[] = {
	{ "FIN in CLOSE_WAIT, CLOSING, SYN_SENT",
	  test_fin_in_close_wait_closing_syn_sent },
	{ "active and passive close", test_close_active_passive },
	{ "simultaneous close through CLOSING", test_simultaneous_close },
	{ "FIN carried with data", test_fin_with_data },
	{ "FIN retransmitted", test_fin_retransmit },
	{ "half close: data after our FIN", test_half_close },
	{ "FIN in SYN_RCVD", test_fin_in_syn_rcvd },
	{ "FIN in LAST_ACK", test_fin_in_last_ack },
	{ "FIN in TIME_WAIT re-ACKed by the record", test_fin_in_time_wait },
	{ "data after close acknowledged, discarded", test_data_after_close_discarded },
	{ "FIN_WAIT_2 timeout after close", test_fin_wait2_timeout },
	{ NULL, NULL },
};

/* ================================================================== */
/* RST and RFC 5961                                                    */
/* ================================================================== */

static void
test_rst_rules(void)
{
	struct raw r;
	struct sim *s = &r.s;
	const struct pktinfo *a;
	unsigned mark;

	raw_init(&r);
	raw_open_passive(&r, false, false, -1);
	/* In window but not exact: challenge ACK, connection stays. */
	mark = s->nlog;
	rsend_at(&r, r.snd_nxt + 1000, RST, NULL, 0);
	sim_step(s);
	a = log_find(s, mark, 0, ACK, RST);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->ack, r.snd_nxt);
	CU_ASSERT_EQUAL(a->seq, r.rcv_nxt);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(r.c), SG_TCP_ESTABLISHED);
	CU_ASSERT_EQUAL(ST(s, 0)->challenge_acks, 1);
	/* Out of window: ignored, no answer. */
	mark = s->nlog;
	rsend_at(&r, r.snd_nxt - 200000, RST, NULL, 0);
	rsend_at(&r, r.snd_nxt + 2000000, RST, NULL, 0);
	sim_step(s);
	CU_ASSERT_EQUAL(s->nlog, mark);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(r.c), SG_TCP_ESTABLISHED);
	/* Exact: reset. */
	rsend_at(&r, r.snd_nxt, RST, NULL, 0);
	CU_ASSERT_TRUE(r.e.closed);
	CU_ASSERT_EQUAL(r.e.closed_status, -ECONNRESET);
	CU_ASSERT_EQUAL(ST(s, 0)->resets_in, 1);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_ESTABLISHED], 0);
	sim_step(s);
	CU_ASSERT_EQUAL(log_count(s, mark, 0, 0, 0), 0);
	raw_fini(&r);
}

static void
test_syn_in_established(void)
{
	struct raw r;
	struct sim *s = &r.s;
	const struct pktinfo *a;
	unsigned mark;

	raw_init(&r);
	raw_open_passive(&r, false, false, -1);
	mark = s->nlog;
	rsend_at(&r, r.snd_nxt + 12345, SYN, NULL, 0);
	sim_step(s);
	a = log_find(s, mark, 0, ACK, SYN | RST);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->ack, r.snd_nxt);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(r.c), SG_TCP_ESTABLISHED);
	CU_ASSERT_EQUAL(ST(s, 0)->challenge_acks, 1);
	/* Also with an in-window sequence number. */
	rsend_at(&r, r.snd_nxt, SYN, NULL, 0);
	sim_step(s);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(r.c), SG_TCP_ESTABLISHED);
	CU_ASSERT_EQUAL(ST(s, 0)->challenge_acks, 2);
	raw_fini(&r);
}

static void
test_challenge_ack_rate_limit(void)
{
	struct raw r;
	struct sim *s = &r.s;

	raw_init(&r);
	s->conf[0].challenge_ack_limit = 2;
	raw_open_passive(&r, false, false, -1);
	for (int i = 0; i < 5; i++)
		rsend_at(&r, r.snd_nxt + 100 + (uint32_t)i, RST, NULL, 0);
	CU_ASSERT_EQUAL(ST(s, 0)->challenge_acks, 2);
	CU_ASSERT_EQUAL(ST(s, 0)->challenge_acks_limited, 3);
	sim_run_for(s, 1100 * MS_);
	rsend_at(&r, r.snd_nxt + 100, RST, NULL, 0);
	CU_ASSERT_EQUAL(ST(s, 0)->challenge_acks, 3);
	raw_fini(&r);
}

static void
test_ack_of_unsent_data(void)
{
	struct raw r;
	struct sim *s = &r.s;
	const struct pktinfo *a;
	unsigned mark;

	raw_init(&r);
	raw_open_passive(&r, false, false, -1);
	mark = s->nlog;
	/* RFC 5961 5.2: an ACK for data never sent is answered, dropped. */
	raw_send(s, r.sport, r.dport, r.snd_nxt, r.rcv_nxt + 5000, ACK, 65535,
		 NULL, 0, "xyz", 3);
	sim_step(s);
	a = log_find(s, mark, 0, ACK, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->ack, r.snd_nxt);	/* the data was not taken */
	CU_ASSERT_EQUAL(r.e.got, 0);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(r.c), SG_TCP_ESTABLISHED);
	raw_fini(&r);
}

static void
test_abort_sends_rst(void)
{
	struct pair p;
	struct sim *s = &p.s;
	const struct pktinfo *rst;
	struct sg_tcp_info i1;
	unsigned mark;

	pair_init(&p, 20);
	pair_start(&p, 5000, 0);
	CU_ASSERT_TRUE(sim_run(s, S_, pair_connected));
	sim_run_for(s, 100 * MS_);
	i1 = INFO(p.e[1].c);
	mark = s->nlog;
	sg_tcp_abort(p.e[0].c);
	p.e[0].c = NULL;
	p.e[0].closed = true;
	rst = log_find(s, mark, 0, RST, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rst);
	CU_ASSERT_EQUAL(rst->seq, i1.rcv_nxt);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_ESTABLISHED], 0);
	CU_ASSERT_TRUE(sim_run(s, S_, pair_closed));
	CU_ASSERT_EQUAL(p.e[1].closed_status, -ECONNRESET);
	CU_ASSERT_EQUAL(ST(s, 1)->resets_in, 1);
	pair_fini(&p);
}

/* Shutdown: connections owe their peer something until their FIN is
 * acknowledged, whether the application closed them or not; aborting
 * every one of them resets the peers, closed or not. */
static void
test_unfinished_and_abort_all(void)
{
	struct pair p;
	struct sim *s = &p.s;
	unsigned mark;

	pair_init(&p, 21);
	pair_start(&p, 5000, 0);
	CU_ASSERT_TRUE(sim_run(s, S_, pair_connected));
	sim_run_for(s, 100 * MS_);
	CU_ASSERT_EQUAL(sg_tcp_stack_unfinished(s->st[0]), 1);
	CU_ASSERT_EQUAL(sg_tcp_stack_unfinished(s->st[1]), 1);
	/* closed by its application, it still owes the FIN */
	sg_tcp_close(p.e[0].c);
	p.e[0].c = NULL;
	p.e[0].closed = true;
	CU_ASSERT_EQUAL(sg_tcp_stack_unfinished(s->st[0]), 1);
	mark = s->nlog;
	sg_tcp_stack_abort_all(s->st[0]);
	CU_ASSERT_EQUAL(sg_tcp_stack_unfinished(s->st[0]), 0);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_ESTABLISHED], 0);
	CU_ASSERT_PTR_NOT_NULL(log_find(s, mark, 0, RST, 0));
	CU_ASSERT_TRUE(sim_run(s, S_, pair_closed));
	CU_ASSERT_EQUAL(p.e[1].closed_status, -ECONNRESET);
	CU_ASSERT_EQUAL(sg_tcp_stack_unfinished(s->st[1]), 0);
	/* an orderly close owes nothing once the FIN is acknowledged */
	pair_fini(&p);
	pair_init(&p, 22);
	pair_start(&p, 5000, 0);
	CU_ASSERT_TRUE(sim_run(s, S_, pair_connected));
	sim_run_for(s, 100 * MS_);
	sg_tcp_close(p.e[0].c);
	p.e[0].c = NULL;
	p.e[0].closed = true;
	sim_run_for(s, 100 * MS_);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(p.e[1].c), SG_TCP_CLOSE_WAIT);
	CU_ASSERT_EQUAL(sg_tcp_stack_unfinished(s->st[0]), 0);	/* FIN_WAIT_2 */
	CU_ASSERT_EQUAL(sg_tcp_stack_unfinished(s->st[1]), 1);	/* CLOSE_WAIT */
	pair_fini(&p);
}

static void
test_rst_to_stray_ack(void)
{
	struct raw r;
	struct sim *s = &r.s;
	const struct pktinfo *rst;

	raw_init(&r);
	sim_start(s);
	sg_tcp_listen(s->st[0], 0, BE16(80), 16, ep_accept, &r.e, NULL);
	raw_send(s, 4321, 80, 1111, 2222, ACK, 100, NULL, 0, "ab", 2);
	rst = log_find(s, 0, 0, RST, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rst);
	CU_ASSERT_EQUAL(rst->flags, RST);
	CU_ASSERT_EQUAL(rst->seq, 2222);
	/* Never a RST for a RST. */
	raw_send(s, 4321, 80, 1111, 2222, RST, 100, NULL, 0, NULL, 0);
	raw_send(s, 4321, 81, 1111, 2222, RST | ACK, 100, NULL, 0, NULL, 0);
	CU_ASSERT_EQUAL(log_count(s, 0, 0, RST, 0), 1);
	raw_fini(&r);
}

static void
test_rst_in_last_ack(void)
{
	/* Only our FIN outstanding: the peer forgot a finished
	 * connection (its TIME_WAIT ran out); nothing of ours is lost. */
	for (int unacked = 0; unacked < 2; unacked++) {
		struct raw r;
		struct sim *s = &r.s;
		const struct pktinfo *f;

		raw_init(&r);
		raw_open_passive(&r, false, false, -1);
		rsend(&r, ACK | FIN, NULL, 0);
		sim_step(s);
		r.e.to_send = 500;
		r.e.shut_when_done = true;
		sim_step(s);
		CU_ASSERT_EQUAL(sg_tcp_conn_state(r.c), SG_TCP_LAST_ACK);
		f = log_find(s, 0, 0, FIN, 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		if (!unacked) {
			r.rcv_nxt = f->seq + f->dlen;	/* data yes, FIN not */
			rsend(&r, ACK, NULL, 0);
		}
		rsend_at(&r, r.snd_nxt, RST, NULL, 0);
		CU_ASSERT_TRUE(r.e.closed);
		CU_ASSERT_EQUAL(r.e.closed_status, unacked ? -ECONNRESET : 0);
		raw_fini(&r);
	}
}

/* Drives a raw connection into `st`; returns false if not reachable. */
static bool
raw_to_state(struct raw *r, enum sg_tcp_state st)
{
	struct sim *s = &r->s;
	const struct pktinfo *f;

	raw_open_passive(r, false, false, -1);
	switch (st) {
	case SG_TCP_ESTABLISHED:
		break;
	case SG_TCP_FIN_WAIT_1:
	case SG_TCP_FIN_WAIT_2:
	case SG_TCP_CLOSING:
		sg_tcp_shutdown(r->c);
		sim_step(s);
		f = log_find(s, 0, 0, FIN, 0);
		if (st == SG_TCP_FIN_WAIT_2) {
			r->rcv_nxt = f->seq + 1;
			rsend(r, ACK, NULL, 0);
		} else if (st == SG_TCP_CLOSING) {
			rsend(r, ACK | FIN, NULL, 0);
		}
		break;
	case SG_TCP_CLOSE_WAIT:
		rsend(r, ACK | FIN, NULL, 0);
		break;
	default:
		return false;
	}
	sim_step(s);
	return sg_tcp_conn_state(r->c) == st;
}

static void
test_rst_in_every_state(void)
{
	static const struct {
		enum sg_tcp_state st;
		int status;
	} cases[] = {
		{ SG_TCP_ESTABLISHED, -ECONNRESET },
		{ SG_TCP_FIN_WAIT_1, -ECONNRESET },
		{ SG_TCP_FIN_WAIT_2, -ECONNRESET },
		{ SG_TCP_CLOSE_WAIT, -ECONNRESET },
		{ SG_TCP_CLOSING, 0 },	/* all our data acknowledged */
	};
	struct raw r;
	struct sim *s;

	for (unsigned i = 0; i < SG_ARRAY_SIZE(cases); i++) {
		raw_init(&r);
		s = &r.s;
		CU_ASSERT_TRUE_FATAL(raw_to_state(&r, cases[i].st));
		/* In window but not exact: a challenge, nothing else. */
		rsend_at(&r, r.snd_nxt + 10, RST, NULL, 0);
		CU_ASSERT_EQUAL(sg_tcp_conn_state(r.c), cases[i].st);
		CU_ASSERT_FALSE(r.e.closed);
		rsend_at(&r, r.snd_nxt, RST, NULL, 0);
		CU_ASSERT_TRUE(r.e.closed);
		CU_ASSERT_EQUAL(r.e.closed_status, cases[i].status);
		CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[cases[i].st], 0);
		raw_fini(&r);
	}

	/* SYN_RCVD: back to LISTEN, nobody told. */
	raw_init(&r);
	s = &r.s;
	sim_start(s);
	ep_init(&r.e, s, 0, 0, 5, RAW_SEED, 0);
	sg_tcp_listen(s->st[0], 0, BE16(80), 4, ep_accept, &r.e, NULL);
	raw_send(s, 1000, 80, 5, 0, SYN, 8192, NULL, 0, NULL, 0);
	sim_step(s);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_SYN_RCVD], 1);
	raw_send(s, 1000, 80, 6, 0, RST, 0, NULL, 0, NULL, 0);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_SYN_RCVD], 0);
	CU_ASSERT_FALSE(r.e.accepted);
	raw_fini(&r);

	/* TIME_WAIT: an exact RST ends the record, others do not. */
	raw_init(&r);
	s = &r.s;
	raw_open_passive(&r, false, false, -1);
	sg_tcp_close(r.c);
	sim_step(s);
	r.rcv_nxt = log_find(s, 0, 0, FIN, 0)->seq + 1;
	rsend(&r, ACK | FIN, NULL, 0);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_TIME_WAIT], 1);
	rsend_at(&r, r.snd_nxt + 10, RST, NULL, 0);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_TIME_WAIT], 1);
	rsend_at(&r, r.snd_nxt, RST, NULL, 0);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_TIME_WAIT], 0);
	raw_fini(&r);
}

const struct sg_unit_test reset_tests[] = {
	{ "RST in every state", test_rst_in_every_state },
	{ "RST in LAST_ACK: quiet if only the FIN is unacknowledged",
	  test_rst_in_last_ack },
	{ "RST exact / in window (challenge) / outside", test_rst_rules },
	{ "SYN in ESTABLISHED gets a challenge ACK", test_syn_in_established },
	{ "challenge ACK rate limit", test_challenge_ack_rate_limit },
	{ "ACK of unsent data answered and dropped", test_ack_of_unsent_data },
	{ "abort sends RST", test_abort_sends_rst },
	{ "unfinished connections, abort all at shutdown", test_unfinished_and_abort_all },
	{ "RST for a stray ACK, none for a RST", test_rst_to_stray_ack },
	{ NULL, NULL },
};

/* ================================================================== */
/* Options                                                             */
/* ================================================================== */

static void
test_wscale_negotiation(void)
{
	struct pair p;
	struct sim *s = &p.s;
	struct sg_tcp_info i0, i1;
	const struct pktinfo *a;

	pair_init(&p, 30);
	pair_start(&p, 0, 0);
	CU_ASSERT_TRUE(sim_run(s, S_, pair_connected));
	i0 = INFO(p.e[0].c);
	i1 = INFO(p.e[1].c);
	/* 256 KiB of 2176-byte mbufs: 120 * 1460 = 175200 -> shift 2. */
	CU_ASSERT_EQUAL(i0.rcv_wscale, 2);
	CU_ASSERT_EQUAL(i0.snd_wscale, 2);
	CU_ASSERT_EQUAL(i1.snd_wscale, 2);
	CU_ASSERT_EQUAL(i0.snd_wnd, 175200);
	/* The handshake's ACK carries a scaled window. */
	a = &s->log[2];
	CU_ASSERT_EQUAL((uint32_t)a->wnd << 2, 175200);
	pair_fini(&p);

	pair_init(&p, 31);
	s->conf[1].no_wscale = true;
	pair_start(&p, 0, 0);
	CU_ASSERT_TRUE(sim_run(s, S_, pair_connected));
	CU_ASSERT_FALSE(s->log[0].has_ws);
	CU_ASSERT_FALSE(s->log[1].has_ws);	/* not offered back */
	i0 = INFO(p.e[0].c);
	i1 = INFO(p.e[1].c);
	CU_ASSERT_EQUAL(i0.snd_wscale, 0xff);
	CU_ASSERT_EQUAL(i1.rcv_wscale, 0xff);
	CU_ASSERT_EQUAL(i0.snd_wnd, 65535);
	CU_ASSERT_EQUAL(i1.snd_wnd, 65535);
	pair_fini(&p);
}

static void
test_mss_negotiation(void)
{
	struct pair p;
	struct sim *s = &p.s;
	uint32_t max = 0;
	struct raw r;

	pair_init(&p, 32);
	s->conf[0].mss = 1000;
	pair_start(&p, 50000, 50000);
	CU_ASSERT_TRUE(sim_run(s, S_, pair_connected));
	CU_ASSERT_EQUAL(INFO(p.e[0].c).snd_mss, 1000);
	CU_ASSERT_EQUAL(INFO(p.e[1].c).snd_mss, 1000);
	sim_run_for(s, S_);
	CU_ASSERT_EQUAL(p.e[0].got, 50000);
	CU_ASSERT_EQUAL(p.e[1].got, 50000);
	for (unsigned i = 0; i < s->nlog; i++)
		max = SG_MAX(max, s->log[i].dlen);
	CU_ASSERT_EQUAL(max, 1000 - 12);	/* timestamps take 12 bytes */
	pair_fini(&p);

	/* No MSS option: 536 (RFC 9293). */
	raw_init(&r);
	sim_start(&r.s);
	ep_init(&r.e, &r.s, 0, 0, 5, RAW_SEED, 0);
	sg_tcp_listen(r.s.st[0], 0, BE16(80), 16, ep_accept, &r.e, NULL);
	raw_send(&r.s, 40000, 80, 10, 0, SYN, 5000, NULL, 0, NULL, 0);
	sim_step(&r.s);
	raw_send(&r.s, 40000, 80, 11, r.s.log[0].seq + 1, ACK, 5000, NULL, 0,
		 NULL, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.e.c);
	CU_ASSERT_EQUAL(INFO(r.e.c).snd_mss, 536);
	CU_ASSERT_FALSE(INFO(r.e.c).ts_ok);
	raw_fini(&r);
}

static void
test_paws(void)
{
	struct raw r;
	struct sim *s = &r.s;
	const struct pktinfo *a;
	unsigned mark;

	raw_init(&r);
	raw_open_passive(&r, true, false, -1);
	CU_ASSERT_TRUE(INFO(r.c).ts_ok);
	r.tsval = 1000;
	rdata(&r, 100, 0);
	CU_ASSERT_EQUAL(r.e.got, 100);
	/* An older timestamp: an old duplicate, dropped, ACKed. */
	r.tsval = 499;
	mark = s->nlog;
	rdata(&r, 100, 0);
	sim_step(s);
	CU_ASSERT_EQUAL(r.e.got, 100);
	CU_ASSERT_EQUAL(ST(s, 0)->paws_drops, 1);
	a = log_find(s, mark, 0, ACK, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->ack, r.isn + 1 + 100);
	CU_ASSERT_EQUAL(a->tsecr, 1001);	/* ts_recent kept */
	/* The same bytes with a current timestamp are taken. */
	r.snd_nxt -= 100;
	r.tsval = 1001;
	rdata(&r, 100, 0);
	CU_ASSERT_EQUAL(r.e.got, 200);
	CU_ASSERT_EQUAL(r.e.mismatches, 0);
	/* A RST is not subject to PAWS. */
	r.tsval = 3;
	rsend_at(&r, r.snd_nxt, RST, NULL, 0);
	CU_ASSERT_TRUE(r.e.closed);
	raw_fini(&r);
}

static void
test_sack_blocks(void)
{
	struct raw r;
	struct sim *s = &r.s;
	const struct pktinfo *a;
	uint32_t b;
	unsigned mark;

	raw_init(&r);
	raw_open_passive(&r, true, true, -1);
	CU_ASSERT_TRUE(INFO(r.c).sack_ok);
	b = r.isn + 1;
	rdata_at(&r, 0, 100, 0);		/* A, in order */
	mark = s->nlog;
	rdata_at(&r, 200, 100, 0);		/* C: hole at B */
	sim_step(s);
	a = log_find(s, mark, 0, ACK, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->ack, b + 100);
	CU_ASSERT_EQUAL(a->nsack, 1);
	CU_ASSERT_EQUAL(a->sack[0][0], b + 200);
	CU_ASSERT_EQUAL(a->sack[0][1], b + 300);
	mark = s->nlog;
	rdata_at(&r, 400, 100, 0);		/* E: another hole at D */
	sim_step(s);
	a = log_find(s, mark, 0, ACK, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->nsack, 2);
	CU_ASSERT_EQUAL(a->sack[0][0], b + 400);	/* newest first */
	CU_ASSERT_EQUAL(a->sack[1][0], b + 200);
	mark = s->nlog;
	rdata_at(&r, 300, 50, 0);		/* D1: joins C */
	sim_step(s);
	a = log_find(s, mark, 0, ACK, 0);
	CU_ASSERT_EQUAL(a->nsack, 2);
	CU_ASSERT_EQUAL(a->sack[0][0], b + 200);
	CU_ASSERT_EQUAL(a->sack[0][1], b + 350);
	CU_ASSERT_EQUAL(a->sack[1][0], b + 400);
	mark = s->nlog;
	rdata_at(&r, 100, 100, 0);		/* B fills the first hole */
	sim_step(s);
	a = log_find(s, mark, 0, ACK, 0);
	CU_ASSERT_EQUAL(a->ack, b + 350);
	CU_ASSERT_EQUAL(a->nsack, 1);
	CU_ASSERT_EQUAL(a->sack[0][0], b + 400);
	mark = s->nlog;
	rdata_at(&r, 350, 50, 0);		/* D2: all in */
	sim_step(s);
	a = log_find(s, mark, 0, ACK, 0);
	CU_ASSERT_EQUAL(a->ack, b + 500);
	CU_ASSERT_EQUAL(a->nsack, 0);
	CU_ASSERT_EQUAL(r.e.got, 500);
	CU_ASSERT_EQUAL(r.e.mismatches, 0);
	CU_ASSERT_EQUAL(ST(s, 0)->ooo_segments, 3);
	raw_fini(&r);

	/* Without SACK-permitted no blocks are sent. */
	raw_init(&r);
	raw_open_passive(&r, true, false, -1);
	mark = r.s.nlog;
	rdata_at(&r, 200, 100, 0);
	sim_step(&r.s);
	a = log_find(&r.s, mark, 0, ACK, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->nsack, 0);
	CU_ASSERT_EQUAL(a->ack, r.isn + 1);
	raw_fini(&r);
}

const struct sg_unit_test option_tests[] = {
	{ "window scaling negotiated, or not", test_wscale_negotiation },
	{ "MSS negotiated; 536 without the option", test_mss_negotiation },
	{ "PAWS drops an old timestamp", test_paws },
	{ "SACK blocks for out-of-order data", test_sack_blocks },
	{ NULL, NULL },
};

/* ================================================================== */
/* Windows                                                             */
/* ================================================================== */

static void
test_sequence_wrap(void)
{
	struct pair p;
	struct sim *s = &p.s;
	struct sg_tcp_info i0, i1;

	pair_init(&p, 40);
	s->fixed_isn = true;
	s->isn[0] = 0xffffff00u;
	s->isn[1] = 0xfffe0000u;
	s->loss_pm = 20;
	s->reorder_pm = 20;
	pair_start(&p, 300000, 300000);
	CU_ASSERT_TRUE(sim_run(s, S_, pair_connected));
	i0 = INFO(p.e[0].c);
	CU_ASSERT_EQUAL(i0.iss, 0xffffff00u);
	sim_run(s, 60 * S_, NULL);
	CU_ASSERT_EQUAL(p.e[0].got, 300000);
	CU_ASSERT_EQUAL(p.e[1].got, 300000);
	CU_ASSERT_EQUAL(p.e[0].mismatches + p.e[1].mismatches, 0);
	i0 = INFO(p.e[0].c);
	i1 = INFO(p.e[1].c);
	/* Both send spaces went through 2^32. */
	CU_ASSERT(i0.snd_una < 0x10000000u && i0.snd_una == 0xffffff01u + 300000);
	CU_ASSERT(i1.snd_una < 0x10000000u);
	pair_fini(&p);
}

static void
test_zero_window_persist(void)
{
	struct raw r;
	struct sim *s = &r.s;
	const struct pktinfo *pr[3] = { NULL, NULL, NULL };
	uint32_t sent_end;
	unsigned mark, k = 0;

	raw_init(&r);
	s->conf[0].rto_min_ns = 100 * MS_;
	raw_open_passive(&r, false, false, -1);
	r.wnd = 4380;
	rsend(&r, ACK, NULL, 0);	/* window: three segments */
	r.e.to_send = 20000;
	mark = s->nlog;
	sim_step(s);
	sent_end = r.rcv_nxt;
	for (unsigned i = mark; i < s->nlog; i++)
		sent_end = SG_MAX(sent_end, s->log[i].seq + s->log[i].dlen);
	CU_ASSERT_EQUAL(sent_end - r.rcv_nxt, 4380);
	/* Everything acknowledged, window closed. */
	r.rcv_nxt = sent_end;
	r.wnd = 0;
	rsend(&r, ACK, NULL, 0);
	mark = s->nlog;
	for (int i = 0; i < 40 && k < 3; i++) {
		sim_run_for(s, 100 * MS_);
		for (unsigned j = mark; j < s->nlog && k < 3; j++) {
			if (s->log[j].dlen > 0) {
				pr[k++] = &s->log[j];
				/* probe answered: still closed */
				rsend(&r, ACK, NULL, 0);
			}
		}
		mark = s->nlog;
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(pr[2]);
	CU_ASSERT_EQUAL(pr[0]->dlen, 1);
	CU_ASSERT_EQUAL(pr[0]->seq, sent_end);
	CU_ASSERT_EQUAL(pr[1]->seq, sent_end);
	/* Probes back off. */
	CU_ASSERT(pr[2]->t - pr[1]->t > pr[1]->t - pr[0]->t);
	CU_ASSERT(ST(s, 0)->persist_probes >= 3);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(r.c), SG_TCP_ESTABLISHED);
	/* Window reopens: the rest flows. */
	r.wnd = 30000;
	rsend(&r, ACK, NULL, 0);
	mark = s->nlog;
	sim_step(s);
	sent_end = r.rcv_nxt;
	for (unsigned i = mark; i < s->nlog; i++)
		sent_end = SG_MAX(sent_end, s->log[i].seq + s->log[i].dlen);
	CU_ASSERT_EQUAL(sent_end - r.rcv_nxt, 20000 - 4380);
	CU_ASSERT_EQUAL(ST(s, 0)->fast_retransmits, 0);
	CU_ASSERT_EQUAL(ST(s, 0)->rto_expiries, 0);
	raw_fini(&r);
}

static bool
e1_all_in(struct sim *s)
{
	struct ep *e = s->app_arg;

	return e[0].got == e[0].expect;
}

static void
test_zero_window_two_stacks(void)
{
	struct pair p;
	struct sim *s = &p.s;
	bool zero_seen = false, update_seen = false;
	unsigned mark;

	pair_init(&p, 41);
	s->conf[0].rcv_buf = 32 * 1024;
	pair_start(&p, 0, 500000);
	CU_ASSERT_TRUE(sim_run(s, S_, pair_connected));
	sg_tcp_pause_read(p.e[0].c, true);
	sim_run_for(s, 5 * S_);
	for (unsigned i = 0; i < s->nlog; i++)
		zero_seen |= s->log[i].from == 0 && s->log[i].wnd == 0 &&
			     !(s->log[i].flags & SYN);
	CU_ASSERT_TRUE(zero_seen);
	CU_ASSERT(ST(s, 1)->persist_probes > 0);
	CU_ASSERT(p.e[0].got < 500000);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(p.e[1].c), SG_TCP_ESTABLISHED);
	mark = s->nlog;
	sg_tcp_pause_read(p.e[0].c, false);
	sim_step(s);
	for (unsigned i = mark; i < s->nlog; i++)
		update_seen |= s->log[i].from == 0 && s->log[i].wnd > 0 &&
			       s->log[i].dlen == 0;
	CU_ASSERT_TRUE(update_seen);
	CU_ASSERT_TRUE(sim_run(s, 30 * S_, e1_all_in));
	CU_ASSERT_EQUAL(p.e[0].mismatches, 0);
	pair_fini(&p);
}

static void
test_sws_sender(void)
{
	struct raw r;
	struct sim *s = &r.s;
	const struct pktinfo *d;
	uint32_t end;
	unsigned mark;

	raw_init(&r);
	raw_open_passive(&r, false, false, -1);	/* window 65535 */
	r.wnd = 20000;
	rsend(&r, ACK, NULL, 0);
	r.e.to_send = 40000;
	mark = s->nlog;
	sim_step(s);
	end = r.rcv_nxt;
	for (unsigned i = mark; i < s->nlog; i++)
		end = SG_MAX(end, s->log[i].seq + s->log[i].dlen);
	CU_ASSERT_EQUAL(end - r.rcv_nxt, 14600);	/* IW10 */
	/* ACK it all but offer only 500 bytes: too small to bother. */
	r.rcv_nxt = end;
	r.wnd = 500;
	mark = s->nlog;
	rsend(&r, ACK, NULL, 0);
	sim_run_for(s, 150 * MS_);
	CU_ASSERT_EQUAL(log_count_data(s, mark, 0), 0);
	/* The persist timer overrides: the 500 bytes go. */
	sim_run_for(s, 2 * S_);
	d = nth_data(s, mark, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(d->dlen, 500);
	CU_ASSERT_EQUAL(d->seq, end);
	/* A window of half the maximum is worth a segment at once. */
	r.rcv_nxt = end + 500;
	r.wnd = 10000;
	mark = s->nlog;
	rsend(&r, ACK, NULL, 0);
	sim_step(s);
	CU_ASSERT(log_count_data(s, mark, 0) >= 1);
	raw_fini(&r);
}

const struct sg_unit_test window_tests[] = {
	{ "sequence numbers wrap (ISNs near 2^32)", test_sequence_wrap },
	{ "zero window: persist probes back off, window reopens",
	  test_zero_window_persist },
	{ "zero window between two stacks, then update", test_zero_window_two_stacks },
	{ "sender silly-window avoidance", test_sws_sender },
	{ NULL, NULL },
};

/* ================================================================== */
/* Retransmission and congestion control                               */
/* ================================================================== */

static void
test_rto_backoff_karn(void)
{
	struct raw r;
	struct sim *s = &r.s;
	const struct pktinfo *d[4];
	struct sg_tcp_info info;
	uint32_t srtt;
	unsigned mark, n = 0;

	raw_init(&r);
	s->conf[0].no_timestamps = true;
	raw_open_passive(&r, false, false, -1);
	/* The handshake gave a first sample of ~0; a second of 4 ms:
	 * SRTT = 1/8 * 4000 us (RFC 6298 2.3). */
	r.e.to_send = 100;
	sim_step(s);
	sim_run_for(s, 4 * MS_);
	r.rcv_nxt += 100;
	rsend(&r, ACK, NULL, 0);
	info = INFO(r.c);
	srtt = info.srtt_us;
	CU_ASSERT(srtt >= 490 && srtt <= 510);
	CU_ASSERT_EQUAL(info.rto_us, 200000);	/* the minimum */
	/* Data nobody acknowledges. */
	mark = s->nlog;
	r.e.to_send = 1100;
	sim_run_for(s, 1600 * MS_);
	for (unsigned i = mark; i < s->nlog && n < 4; i++) {
		if (s->log[i].dlen > 0)
			d[n++] = &s->log[i];
	}
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_EQUAL(d[0]->seq, d[3]->seq);
	/* 200, 400, 800 ms: each timeout doubles (tick: +1 ms). */
	CU_ASSERT(d[1]->t - d[0]->t >= 200 * MS_ && d[1]->t - d[0]->t <= 202 * MS_);
	CU_ASSERT(d[2]->t - d[1]->t >= 400 * MS_ && d[2]->t - d[1]->t <= 402 * MS_);
	CU_ASSERT(d[3]->t - d[2]->t >= 800 * MS_ && d[3]->t - d[2]->t <= 802 * MS_);
	CU_ASSERT_EQUAL(ST(s, 0)->rto_expiries, 3);
	info = INFO(r.c);
	CU_ASSERT_EQUAL(info.backoff, 3);
	/* Karn: the ACK of a retransmitted segment gives no sample, and the
	 * backed-off RTO stays. */
	sim_run_for(s, 50 * MS_);
	r.rcv_nxt += 1000;
	rsend(&r, ACK, NULL, 0);
	info = INFO(r.c);
	CU_ASSERT_EQUAL(info.srtt_us, srtt);
	CU_ASSERT_EQUAL(info.backoff, 3);
	CU_ASSERT_EQUAL(info.rto_us, 1600000);
	/* New data, acknowledged in 6 ms: a valid sample ends the backoff. */
	r.e.to_send += 200;
	sim_step(s);
	sim_run_for(s, 6 * MS_);
	r.rcv_nxt += 200;
	rsend(&r, ACK, NULL, 0);
	info = INFO(r.c);
	CU_ASSERT_EQUAL(info.backoff, 0);
	CU_ASSERT_NOT_EQUAL(info.srtt_us, srtt);
	CU_ASSERT_EQUAL(info.rto_us, 200000);
	raw_fini(&r);
}

static void
test_min_rto(void)
{
	const uint64_t mins[2] = { 50 * MS_, 300 * MS_ };

	for (int k = 0; k < 2; k++) {
		struct raw r;
		struct sim *s = &r.s;
		const struct pktinfo *a, *b;
		unsigned mark;

		raw_init(&r);
		s->conf[0].rto_min_ns = mins[k];
		raw_open_passive(&r, false, false, -1);
		r.e.to_send = 100;
		sim_step(s);
		sim_run_for(s, MS_);
		r.rcv_nxt += 100;
		rsend(&r, ACK, NULL, 0);	/* RTT 1 ms */
		CU_ASSERT_EQUAL(INFO(r.c).rto_us, mins[k] / 1000);
		mark = s->nlog;
		r.e.to_send += 100;
		sim_run_for(s, mins[k] + 10 * MS_);
		a = nth_data(s, mark, 0);
		b = nth_data(s, mark, 1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		CU_ASSERT(b->t - a->t >= mins[k] && b->t - a->t <= mins[k] + 2 * MS_);
		raw_fini(&r);
	}
}

static void
test_data_retries_exhausted(void)
{
	struct raw r;
	struct sim *s = &r.s;

	raw_init(&r);
	s->conf[0].data_retries = 3;
	s->conf[0].rto_max_ns = 2 * S_;
	raw_open_passive(&r, false, false, -1);
	r.e.to_send = 100;
	sim_run_for(s, 30 * S_);
	CU_ASSERT_TRUE(r.e.closed);
	CU_ASSERT_EQUAL(r.e.closed_status, -ETIMEDOUT);
	CU_ASSERT_EQUAL(log_count_data(s, 0, 0), 4);
	CU_ASSERT_EQUAL(log_count(s, 0, 0, RST, 0), 1);
	CU_ASSERT_EQUAL(ST(s, 0)->timeouts, 1);
	raw_fini(&r);
}

/* Starts a bulk send from the stack and returns the first sequence. */
static uint32_t
bulk_start(struct raw *r, uint32_t bytes)
{
	uint32_t first = r->rcv_nxt;

	r->e.to_send = bytes;
	r->e.chunk_max = bytes;
	sim_step(&r->s);
	return first;
}

static void
test_fast_retransmit_newreno(void)
{
	struct raw r;
	struct sim *s = &r.s;
	const struct pktinfo *d;
	struct sg_tcp_info info;
	uint32_t b, mss = 1460, flight;
	unsigned mark;

	raw_init(&r);
	s->conf[0].no_timestamps = true;
	raw_open_passive(&r, false, false, -1);
	b = bulk_start(&r, 60 * 1460);
	CU_ASSERT_EQUAL(log_count_data(s, 0, 0), 10);	/* IW10 */
	/* Segment 0 arrives; 1 is lost; 2.. arrive: one new ACK... */
	r.rcv_nxt = b + mss;
	rsend(&r, ACK, NULL, 0);
	sim_step(s);				/* cwnd 11: 2 more out */
	info = INFO(r.c);
	flight = info.snd_max - info.snd_una;
	CU_ASSERT_EQUAL(flight, 11 * mss);
	/* ...then three duplicates. */
	mark = s->nlog;
	rsend(&r, ACK, NULL, 0);
	rsend(&r, ACK, NULL, 0);
	sim_step(s);
	/* limited transmit sent two new segments */
	CU_ASSERT_EQUAL(log_count_data(s, mark, 0), 2);
	mark = s->nlog;
	rsend(&r, ACK, NULL, 0);
	sim_step(s);
	d = nth_data(s, mark, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(d->seq, b + mss);	/* the hole, at once */
	CU_ASSERT_EQUAL(ST(s, 0)->fast_retransmits, 1);
	info = INFO(r.c);
	CU_ASSERT_TRUE(info.in_recovery);
	CU_ASSERT_EQUAL(info.ssthresh, (13 * mss) / 2);
	CU_ASSERT_EQUAL(info.cwnd, info.ssthresh + 3 * mss);
	/* Partial ACK: the hole is filled up to segment 4; 5 was lost too.
	 * NewReno resends 5 at once and stays in recovery. */
	mark = s->nlog;
	r.rcv_nxt = b + 5 * mss;
	rsend(&r, ACK, NULL, 0);
	sim_step(s);
	d = nth_data(s, mark, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(d->seq, b + 5 * mss);
	info = INFO(r.c);
	CU_ASSERT_TRUE(info.in_recovery);
	CU_ASSERT_EQUAL(ST(s, 0)->fast_retransmits, 1);
	/* Full ACK (everything up to recover): recovery ends and cwnd
	 * deflates to ssthresh at most. */
	r.rcv_nxt = info.snd_max;
	rsend(&r, ACK, NULL, 0);
	info = INFO(r.c);
	CU_ASSERT_FALSE(info.in_recovery);
	CU_ASSERT(info.cwnd <= info.ssthresh);
	CU_ASSERT_EQUAL(ST(s, 0)->rto_expiries, 0);
	raw_fini(&r);
}

static void
test_limited_transmit(void)
{
	struct raw r;
	struct sim *s = &r.s;
	const struct pktinfo *d;
	struct sg_tcp_info info;
	uint32_t b, mss = 1460;
	unsigned mark;

	raw_init(&r);
	s->conf[0].no_timestamps = true;
	raw_open_passive(&r, false, false, -1);
	b = bulk_start(&r, 30 * 1460);
	info = INFO(r.c);
	CU_ASSERT_EQUAL(info.snd_max - b, 10 * mss);
	for (unsigned k = 1; k <= 2; k++) {
		mark = s->nlog;
		rsend(&r, ACK, NULL, 0);	/* duplicate k */
		sim_step(s);
		CU_ASSERT_EQUAL(log_count_data(s, mark, 0), 1);
		d = nth_data(s, mark, 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(d);
		CU_ASSERT_EQUAL(d->seq, b + (9 + k) * mss);	/* new data */
	}
	info = INFO(r.c);
	CU_ASSERT_EQUAL(info.cwnd, 10 * mss);	/* cwnd itself unchanged */
	CU_ASSERT_FALSE(info.in_recovery);
	mark = s->nlog;
	rsend(&r, ACK, NULL, 0);		/* third: fast retransmit */
	sim_step(s);
	d = nth_data(s, mark, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(d->seq, b);
	CU_ASSERT_TRUE(INFO(r.c).in_recovery);
	raw_fini(&r);
}

static void
test_rto_resets_cwnd(void)
{
	struct raw r;
	struct sim *s = &r.s;
	struct sg_tcp_info info;
	uint32_t b, mss = 1460;
	unsigned mark;

	raw_init(&r);
	s->conf[0].no_timestamps = true;
	raw_open_passive(&r, false, false, -1);
	b = bulk_start(&r, 30 * 1460);
	mark = s->nlog;
	sim_run_for(s, 250 * MS_);	/* RTO: 200 ms (handshake sample) */
	CU_ASSERT_EQUAL(ST(s, 0)->rto_expiries, 1);
	CU_ASSERT_EQUAL(log_count_data(s, mark, 0), 1);	/* one segment */
	CU_ASSERT_EQUAL(nth_data(s, mark, 0)->seq, b);
	info = INFO(r.c);
	CU_ASSERT_EQUAL(info.cwnd, mss);
	CU_ASSERT_EQUAL(info.ssthresh, 5 * mss);
	/* Slow start again: ACK of it lets two out. */
	mark = s->nlog;
	r.rcv_nxt = b + mss;
	rsend(&r, ACK, NULL, 0);
	sim_step(s);
	CU_ASSERT_EQUAL(log_count_data(s, mark, 0), 2);
	raw_fini(&r);
}

const struct sg_unit_test rexmit_tests[] = {
	{ "RTO backoff and Karn's rule", test_rto_backoff_karn },
	{ "minimum RTO from the configuration", test_min_rto },
	{ "data retries exhausted: ETIMEDOUT and RST", test_data_retries_exhausted },
	{ "fast retransmit and NewReno partial ACKs", test_fast_retransmit_newreno },
	{ "limited transmit", test_limited_transmit },
	{ "RTO: loss window and slow start", test_rto_resets_cwnd },
	{ NULL, NULL },
};

/* ================================================================== */
/* ACK policy                                                          */
/* ================================================================== */

static void
test_delayed_ack_timing(void)
{
	struct raw r;
	struct sim *s = &r.s;
	const struct pktinfo *a;
	unsigned mark;

	raw_init(&r);
	s->conf[0].delack_ns = 20 * MS_;
	raw_open_passive(&r, true, false, -1);
	mark = s->nlog;
	rdata(&r, 100, PSH);
	sim_step(s);
	CU_ASSERT_EQUAL(s->nlog, mark);		/* not at once */
	sim_run_for(s, 19 * MS_);
	CU_ASSERT_EQUAL(s->nlog, mark);
	sim_run_for(s, 2 * MS_);
	a = log_find(s, mark, 0, ACK, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT(a->t - s->log[mark - 1].t >= 20 * MS_);
	CU_ASSERT_EQUAL(a->ack, r.snd_nxt);
	CU_ASSERT_EQUAL(ST(s, 0)->delayed_acks, 1);
	/* A second small segment before the timer: ACK at once. */
	mark = s->nlog;
	rdata(&r, 10, PSH);
	sim_step(s);
	CU_ASSERT_EQUAL(s->nlog, mark);
	sim_run_for(s, 5 * MS_);
	rdata(&r, 10, PSH);
	sim_step(s);
	a = log_find(s, mark, 0, ACK, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->ack, r.snd_nxt);
	CU_ASSERT_EQUAL(s->nlog, mark + 1);
	/* A full-sized segment: ACK at once. */
	mark = s->nlog;
	rdata(&r, 1448, 0);
	sim_step(s);
	CU_ASSERT_EQUAL(s->nlog, mark + 1);
	raw_fini(&r);
}

static void
test_ack_piggyback(void)
{
	struct raw r;
	struct sim *s = &r.s;
	const struct pktinfo *d;
	unsigned mark;

	raw_init(&r);
	raw_open_passive(&r, true, false, -1);
	r.e.reply_echo = true;
	mark = s->nlog;
	rdata(&r, 100, PSH);
	sim_step(s);
	/* One segment: the reply, carrying the ACK. */
	CU_ASSERT_EQUAL(s->nlog, mark + 1);
	d = &s->log[mark];
	CU_ASSERT_EQUAL(d->dlen, 100);
	CU_ASSERT_EQUAL(d->ack, r.snd_nxt);
	sim_run_for(s, 100 * MS_);
	/* No extra pure ACK later: the delayed ACK was cancelled. */
	CU_ASSERT_EQUAL(s->nlog, mark + 1);
	raw_fini(&r);
}

struct rr {
	struct ep e[2];
	unsigned done, n;
	uint64_t t0;
};

static void
rr_data(struct sg_tcp_conn *c, void *arg, struct rte_mbuf *m)
{
	struct rr *x = arg;

	(void)c;
	x->done++;
	rte_pktmbuf_free(m);
}

static const struct sg_tcp_conn_cbs rr_cbs = { .data = rr_data };

static void
rr_app(struct sim *s)
{
	struct rr *x = s->app_arg;

	ep_pump(&x->e[0]);
}

static void
test_request_response_no_stall(void)
{
	/* A client sends a small request, waits for the small reply, and
	 * again: each round trip must cost one RTT, never a delayed-ACK
	 * timeout, in both directions. */
	struct pair p;
	struct sim *s = &p.s;
	struct rr x;
	struct sg_tcp_conn *c = NULL;
	uint64_t t0;

	pair_init(&p, 50);
	memset(&x, 0, sizeof(x));
	s->delay_ns = MS_;
	s->conf[0].delack_ns = 40 * MS_;
	s->conf[1].delack_ns = 40 * MS_;
	sim_start(s);
	ep_init(&x.e[0], s, 0, 0, 1, 2, 0);
	x.e[0].reply_echo = true;
	x.e[0].shut_when_done = false;
	sg_tcp_listen(s->st[0], 0, BE16(6379), 16, ep_accept, &x.e[0], NULL);
	sg_tcp_connect(s->st[1], s->ip[1], 0, s->ip[0], BE16(6379), &rr_cbs, &x,
		       &c);
	s->app = rr_app;
	s->app_arg = &x;
	sim_run_for(s, 10 * MS_);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(c), SG_TCP_ESTABLISHED);
	t0 = s->now;
	for (unsigned i = 0; i < 100; i++) {
		struct sg_sink *sk = sg_tcp_sink(c);
		unsigned before = x.done;

		sg_sink_write(sk, "*1\r\n$4\r\nPING\r\n", 14);
		for (int k = 0; k < 1000; k++) {
			sim_step(s);
			if (x.done != before)
				break;
			sim_advance(s, 10 * MS_);
		}
	}
	CU_ASSERT_EQUAL(x.done, 100);

	/* 100 round trips of 2 ms each (+1 ms tick slack each). */
	CU_ASSERT(s->now - t0 <= 100 * 3 * MS_);
	CU_ASSERT_EQUAL(ST(s, 0)->delayed_acks, 0);
	sg_tcp_abort(c);
	pair_fini(&p);
}

const struct sg_unit_test ack_tests[] = {
	{ "delayed ACK: timeout, every second segment, full segment",
	  test_delayed_ack_timing },
	{ "ACK piggybacks on the reply", test_ack_piggyback },
	{ "request/response never waits for a delayed ACK",
	  test_request_response_no_stall },
	{ NULL, NULL },
};

/* ================================================================== */
/* Keepalive and TIME_WAIT                                             */
/* ================================================================== */

static void
test_keepalive(void)
{
	struct raw r;
	struct sim *s = &r.s;
	const struct pktinfo *k;
	unsigned mark;

	raw_init(&r);
	s->conf[0].keepalive_intvl_ns = 200 * MS_;
	s->conf[0].keepalive_probes = 3;
	raw_open_passive(&r, false, false, -1);
	sg_tcp_set_keepalive(r.c, true, S_);
	mark = s->nlog;
	sim_run_for(s, 900 * MS_);
	CU_ASSERT_EQUAL(s->nlog, mark);
	sim_run_for(s, 200 * MS_);
	k = log_find(s, mark, 0, ACK, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	/* An old sequence number with no data elicits an ACK. */
	CU_ASSERT_EQUAL(k->seq, r.rcv_nxt - 1);
	CU_ASSERT_EQUAL(k->dlen, 0);
	/* Answered: the next probe only after another idle second. */
	rsend(&r, ACK, NULL, 0);
	mark = s->nlog;
	sim_run_for(s, 900 * MS_);
	CU_ASSERT_EQUAL(s->nlog, mark);
	/* Now silence: 3 probes 200 ms apart, then RST and ETIMEDOUT. */
	sim_run_for(s, 1000 * MS_);
	CU_ASSERT_EQUAL(log_count(s, mark, 0, ACK, RST), 3);
	CU_ASSERT_EQUAL(log_count(s, mark, 0, RST, 0), 1);
	CU_ASSERT_TRUE(r.e.closed);
	CU_ASSERT_EQUAL(r.e.closed_status, -ETIMEDOUT);
	CU_ASSERT_EQUAL(ST(s, 0)->keepalive_probes, 4);
	raw_fini(&r);
}

static void
test_keepalive_two_stacks(void)
{
	struct pair p;
	struct sim *s = &p.s;

	pair_init(&p, 51);
	s->conf[1].keepalive_idle_ns = 2 * S_;
	s->conf[1].keepalive_intvl_ns = S_;
	pair_start(&p, 0, 0);
	CU_ASSERT_TRUE(sim_run(s, S_, pair_connected));
	sim_run_for(s, 30 * S_);
	CU_ASSERT(ST(s, 1)->keepalive_probes >= 10);
	CU_ASSERT_FALSE(p.e[1].closed);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(p.e[1].c), SG_TCP_ESTABLISHED);
	pair_fini(&p);
}

static void
test_time_wait_length(void)
{
	struct pair p;
	struct sim *s = &p.s;
	uint64_t t;

	pair_init(&p, 52);
	s->conf[1].time_wait_ns = 3 * S_;
	pair_start(&p, 1000, 1000);
	p.e[0].shut_when_done = false;
	p.e[1].shut_when_done = true;	/* client closes first */
	p.e[0].close_on_eof = true;
	CU_ASSERT_TRUE(sim_run(s, 5 * S_, pair_closed));
	t = p.e[1].closed_at;
	CU_ASSERT_EQUAL(ST(s, 1)->conns_by_state[SG_TCP_TIME_WAIT], 1);
	for (int i = 0; i < SG_TCP_STATE_COUNT; i++) {
		if (i != SG_TCP_TIME_WAIT) {
			CU_ASSERT_EQUAL(ST(s, 1)->conns_by_state[i], 0);
		}
	}
	sim_run(s, t + 3 * S_ - 5 * MS_ - s->now, NULL);
	CU_ASSERT_EQUAL(ST(s, 1)->conns_by_state[SG_TCP_TIME_WAIT], 1);
	sim_run_for(s, 10 * MS_);
	CU_ASSERT_EQUAL(ST(s, 1)->conns_by_state[SG_TCP_TIME_WAIT], 0);
	printf("(TIME_WAIT record %zu bytes) ", sg_tcp_time_wait_size());
	CU_ASSERT(sg_tcp_time_wait_size() <= 96);
	pair_fini(&p);
}

static bool
reconnected(struct sim *s)
{
	struct ep *e = s->app_arg;

	return e[0].connected && e[1].connected;
}

static void
test_syn_during_time_wait(void)
{
	struct pair p;
	struct sim *s = &p.s;
	struct sg_tcp_conn *c = NULL;
	uint16_t lport;
	struct raw r;
	const struct pktinfo *a;

	pair_init(&p, 53);
	s->conf[0].time_wait_ns = 60 * S_;
	pair_start(&p, 0, 0);
	CU_ASSERT_TRUE(sim_run(s, S_, pair_connected));
	sg_tcp_conn_addrs(p.e[1].c, NULL, &lport, NULL, NULL);
	/* The server closes first and keeps the TIME_WAIT record. */
	sg_tcp_shutdown(p.e[0].c);
	p.e[1].close_on_eof = true;
	CU_ASSERT_TRUE(sim_run(s, S_, pair_closed));
	sim_run_for(s, 100 * MS_);	/* the client's LAST_ACK ends */
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_TIME_WAIT], 1);
	CU_ASSERT_EQUAL(ST(s, 1)->conns_by_state[SG_TCP_LAST_ACK], 0);
	/* The client comes back from the same port: a newer SYN reopens
	 * the 4-tuple at once. */
	ep_init(&p.e[0], s, 0, 2000, 11, 22, 2000);
	ep_init(&p.e[1], s, 1, 2000, 22, 11, 2000);
	CU_ASSERT_EQUAL(sg_tcp_connect(s->st[1], s->ip[1], lport, s->ip[0],
				       BE16(6379), &ep_cbs, &p.e[1], &c), 0);
	p.e[1].c = c;
	CU_ASSERT_TRUE(sim_run(s, S_, reconnected));
	CU_ASSERT_EQUAL(ST(s, 0)->tw_recycled, 1);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_TIME_WAIT], 0);
	CU_ASSERT_TRUE(sim_run(s, 5 * S_, pair_closed));
	CU_ASSERT_EQUAL(p.e[0].got, 2000);
	CU_ASSERT_EQUAL(p.e[1].got, 2000);
	pair_fini(&p);

	/* An old SYN (sequence not newer, no timestamps) only gets the
	 * record's ACK. */
	raw_init(&r);
	r.s.conf[0].time_wait_ns = 60 * S_;
	raw_open_passive(&r, false, false, -1);
	sg_tcp_close(r.c);
	sim_step(&r.s);
	r.rcv_nxt = log_find(&r.s, 0, 0, FIN, 0)->seq + 1;
	rsend(&r, ACK | FIN, NULL, 0);
	CU_ASSERT_EQUAL(ST(&r.s, 0)->conns_by_state[SG_TCP_TIME_WAIT], 1);
	raw_send(&r.s, r.sport, r.dport, r.isn, 0, SYN, 1000, NULL, 0, NULL, 0);
	a = &r.s.log[r.s.nlog - 1];
	CU_ASSERT_EQUAL(a->flags, ACK);
	CU_ASSERT_EQUAL(a->ack, r.snd_nxt);
	CU_ASSERT_EQUAL(ST(&r.s, 0)->conns_by_state[SG_TCP_TIME_WAIT], 1);
	CU_ASSERT_EQUAL(ST(&r.s, 0)->conns_by_state[SG_TCP_SYN_RCVD], 0);
	raw_fini(&r);
}

const struct sg_unit_test timer_tests[] = {
	{ "keepalive probes, answer, timeout", test_keepalive },
	{ "keepalive between two stacks keeps the connection", test_keepalive_two_stacks },
	{ "TIME_WAIT length and compact record", test_time_wait_length },
	{ "new SYN during TIME_WAIT", test_syn_during_time_wait },
	{ NULL, NULL },
};

/* ================================================================== */
/* Listeners: backlog, SYN cookies, ephemeral ports                    */
/* ================================================================== */

static void
test_syn_cookies(void)
{
	struct raw r;
	struct sim *s = &r.s;
	const struct pktinfo *sa = NULL;
	uint8_t o[40], buf[10];
	unsigned n, mark;
	uint32_t ecr;

	raw_init(&r);
	sim_start(s);
	ep_init(&r.e, s, 0, 0, 5, RAW_SEED, 0);
	CU_ASSERT_EQUAL(sg_tcp_listen(s->st[0], 0, BE16(80), 4, ep_accept, &r.e,
				      NULL), 0);
	/* A flood of 10 SYNs: 4 half-open connections, then cookies. */
	for (uint16_t i = 0; i < 10; i++) {
		n = opt_syn(o, 1400, 7, true, true, 5000 + i);
		raw_send(s, (uint16_t)(1000 + i), 80, 100000u * i, 0, SYN, 8192,
			 o, n, NULL, 0);
	}
	sim_step(s);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_SYN_RCVD], 4);
	CU_ASSERT_EQUAL(ST(s, 0)->syncookies_sent, 6);
	CU_ASSERT_EQUAL(log_count(s, 0, 0, SYN | ACK, 0), 10);
	for (unsigned i = 0; i < s->nlog; i++) {
		if (s->log[i].dport == 1009)
			sa = &s->log[i];
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(sa);
	CU_ASSERT_TRUE(sa->has_ts && sa->has_ws && sa->has_sackp);
	/* A forged final ACK (wrong cookie) is refused with RST. */
	mark = s->nlog;
	n = opt_ts(o, 6000, sa->tsval);
	raw_send(s, 1009, 80, 900001, sa->seq + 2, ACK, 1000, o, n, NULL, 0);
	CU_ASSERT_EQUAL(ST(s, 0)->syncookies_failed, 1);
	CU_ASSERT_EQUAL(log_count(s, mark, 0, RST, 0), 1);
	CU_ASSERT_FALSE(r.e.accepted);
	/* The real one, with 10 bytes of data: connection made. */
	rdata_fill(buf, 0, 10);
	ecr = sa->tsval;
	n = opt_ts(o, 6001, ecr);
	raw_send(s, 1009, 80, 900001, sa->seq + 1, ACK | PSH, 1000, o, n, buf, 10);
	CU_ASSERT_EQUAL(ST(s, 0)->syncookies_ok, 1);
	CU_ASSERT_TRUE(r.e.accepted);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.e.c);
	CU_ASSERT_EQUAL(sg_tcp_conn_state(r.e.c), SG_TCP_ESTABLISHED);
	CU_ASSERT_EQUAL(r.e.got, 10);
	CU_ASSERT_EQUAL(r.e.mismatches, 0);
	/* Options came back through the timestamp. */
	CU_ASSERT_EQUAL(INFO(r.e.c).snd_wscale, 7);
	CU_ASSERT_TRUE(INFO(r.e.c).sack_ok);
	CU_ASSERT_TRUE(INFO(r.e.c).ts_ok);
	CU_ASSERT_EQUAL(INFO(r.e.c).snd_mss, 1400);
	CU_ASSERT_EQUAL(INFO(r.e.c).snd_wnd, 1000u << 7);
	raw_fini(&r);

	/* Without cookies the extra SYNs are dropped and counted. */
	raw_init(&r);
	r.s.conf[0].no_syn_cookies = true;
	sim_start(&r.s);
	sg_tcp_listen(r.s.st[0], 0, BE16(80), 4, ep_accept, &r.e, NULL);
	for (uint16_t i = 0; i < 10; i++)
		raw_send(&r.s, (uint16_t)(1000 + i), 80, 5, 0, SYN, 8192, NULL, 0,
			 NULL, 0);
	sim_step(&r.s);
	CU_ASSERT_EQUAL(ST(&r.s, 0)->listen_overflows, 6);
	CU_ASSERT_EQUAL(ST(&r.s, 0)->syncookies_sent, 0);
	CU_ASSERT_EQUAL(log_count(&r.s, 0, 0, SYN | ACK, 0), 4);
	raw_fini(&r);
}

static void
test_ephemeral_ports(void)
{
	struct raw r;
	struct sim *s = &r.s;
	uint16_t seen[40];
	struct sg_tcp_conn *c;

	raw_init(&r);
	s->owned_mod = 4;
	s->owned_rem = 1;
	sim_start(s);
	for (int i = 0; i < 40; i++) {
		uint16_t lp;

		CU_ASSERT_EQUAL_FATAL(sg_tcp_connect(s->st[0], s->ip[0], 0,
						     s->ip[1], BE16(6379), &ep_cbs,
						     NULL, &c), 0);
		sg_tcp_conn_addrs(c, NULL, &lp, NULL, NULL);
		lp = rte_be_to_cpu_16(lp);
		CU_ASSERT(lp >= 32768 && lp <= 60999);
		CU_ASSERT_EQUAL(lp % 4, 1);
		for (int j = 0; j < i; j++)
			CU_ASSERT_NOT_EQUAL(seen[j], lp);
		seen[i] = lp;
	}
	/* Consecutive choices are not consecutive ports for another
	 * destination (hash offset). */
	CU_ASSERT_EQUAL(sg_tcp_connect(s->st[0], s->ip[0], 0, s->ip[1], BE16(80),
				       &ep_cbs, NULL, &c), 0);
	raw_fini(&r);

	/* A range with two owned ports runs out on the third. */
	raw_init(&r);
	r.s.owned_mod = 4;
	r.s.owned_rem = 1;
	r.s.conf[0].port_min = 40000;
	r.s.conf[0].port_max = 40007;
	sim_start(&r.s);
	CU_ASSERT_EQUAL(sg_tcp_connect(r.s.st[0], r.s.ip[0], 0, r.s.ip[1],
				       BE16(6379), &ep_cbs, NULL, &c), 0);
	CU_ASSERT_EQUAL(sg_tcp_connect(r.s.st[0], r.s.ip[0], 0, r.s.ip[1],
				       BE16(6379), &ep_cbs, NULL, &c), 0);
	CU_ASSERT_EQUAL(sg_tcp_connect(r.s.st[0], r.s.ip[0], 0, r.s.ip[1],
				       BE16(6379), &ep_cbs, NULL, &c),
			-EADDRNOTAVAIL);
	/* A different destination has its own 4-tuples. */
	CU_ASSERT_EQUAL(sg_tcp_connect(r.s.st[0], r.s.ip[0], 0, r.s.ip[1],
				       BE16(6380), &ep_cbs, NULL, &c), 0);
	raw_fini(&r);
}

static void
test_listener_close(void)
{
	struct raw r;
	struct sim *s = &r.s;
	struct sg_tcp_listener *l = NULL;

	raw_init(&r);
	sim_start(s);
	CU_ASSERT_EQUAL(sg_tcp_listen(s->st[0], 0, BE16(80), 4, ep_accept, &r.e,
				      &l), 0);
	CU_ASSERT_EQUAL(sg_tcp_listen(s->st[0], 0, BE16(80), 4, ep_accept, &r.e,
				      NULL), -EADDRINUSE);
	raw_send(s, 1000, 80, 5, 0, SYN, 8192, NULL, 0, NULL, 0);
	sim_step(s);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_SYN_RCVD], 1);
	sg_tcp_listener_close(l);
	CU_ASSERT_EQUAL(ST(s, 0)->conns_by_state[SG_TCP_SYN_RCVD], 0);
	CU_ASSERT_EQUAL(log_count(s, 0, 0, RST, 0), 1);
	raw_send(s, 1001, 80, 5, 0, SYN, 8192, NULL, 0, NULL, 0);
	CU_ASSERT_EQUAL(log_count(s, 0, 0, RST, 0), 2);
	raw_fini(&r);
}

const struct sg_unit_test listen_tests[] = {
	{ "SYN flood: backlog, cookies, forged ACK", test_syn_cookies },
	{ "ephemeral ports respect port_owned", test_ephemeral_ports },
	{ "listener close resets half-open", test_listener_close },
	{ NULL, NULL },
};

/* ================================================================== */
/* Memory                                                              */
/* ================================================================== */

struct slow {
	struct ep *e;
	uint32_t max_mem;
	uint64_t next_read;
	bool small_window;
};

static void
slow_app(struct sim *s)
{
	struct slow *sl = s->app_arg;
	struct ep *e = sl->e;

	ep_pump(&e[1]);
	if (e[0].c == NULL)
		return;
	sl->max_mem = SG_MAX(sl->max_mem, INFO(e[0].c).rcv_mem);
	/* The reader wakes up every 50 ms for one iteration. */
	if (s->now >= sl->next_read) {
		sg_tcp_pause_read(e[0].c, false);
		sl->next_read = s->now + 50 * MS_;
	} else {
		sg_tcp_pause_read(e[0].c, true);
	}
}

static bool
slow_done(struct sim *s)
{
	struct slow *sl = s->app_arg;

	return sl->e[0].got == sl->e[0].expect;
}

static void
test_slow_reader_memory_bounded(void)
{
	struct pair p;
	struct sim *s = &p.s;
	struct slow sl;
	unsigned peak = 0;
	uint32_t max_edge = 0, ws;
	const uint32_t rcv_buf = 128 * 1024;

	pair_init(&p, 60);
	s->conf[0].rcv_buf = rcv_buf;
	pair_start(&p, 0, 2 * 1024 * 1024);
	CU_ASSERT_TRUE(sim_run(s, S_, pair_connected));
	ws = INFO(p.e[0].c).rcv_wscale;
	CU_ASSERT_NOT_EQUAL(ws, 0xff);
	memset(&sl, 0, sizeof(sl));
	sl.e = p.e;
	sl.next_read = s->now + 50 * MS_;
	sg_tcp_pause_read(p.e[0].c, true);
	s->app = slow_app;
	s->app_arg = &sl;
	while (!slow_done(s) && s->now < 2000 * S_) {
		sim_step(s);
		peak = SG_MAX(peak, pool_in_use() - p.base);
		sim_advance(s, 10 * MS_);
	}
	CU_ASSERT_EQUAL(p.e[0].got, 2 * 1024 * 1024);
	CU_ASSERT_EQUAL(p.e[0].mismatches, 0);
	/* Held memory stays within the budget (one mbuf of rounding). */
	printf("(peak rcv_mem %u of %u, mbufs in use %u) ", sl.max_mem, rcv_buf,
	       peak);
	CU_ASSERT(sl.max_mem <= rcv_buf + RTE_MBUF_DEFAULT_BUF_SIZE);
	CU_ASSERT_EQUAL(ST(s, 0)->rcv_mem_drops, 0);
	/* Receiver silly-window avoidance: the right edge of the window
	 * never moved back, and moved forward only by at least an MSS
	 * (less the rounding of the window scale). */
	for (unsigned i = 3, n = 0; i < s->nlog; i++) {
		const struct pktinfo *pi = &s->log[i];
		uint32_t edge = pi->ack + ((uint32_t)pi->wnd << ws);

		if (pi->from != 0)
			continue;
		if (n++ > 0) {
			CU_ASSERT((int32_t)(edge - max_edge) > -(1 << ws));
			if ((int32_t)(edge - max_edge) > 0)
				CU_ASSERT(edge - max_edge > 1460 - (1u << ws));
		}
		if (n == 1 || (int32_t)(edge - max_edge) > 0)
			max_edge = edge;
	}
	pair_fini(&p);
}

static void
test_tiny_segments_capped(void)
{
	struct raw r;
	struct sim *s = &r.s;
	uint32_t maxmem = 0;

	raw_init(&r);
	s->conf[0].rcv_buf = 16 * 1024;
	raw_open_passive(&r, false, false, -1);
	sg_tcp_pause_read(r.c, true);
	/* One-byte segments inside the window each pin a whole mbuf. */
	for (int i = 0; i < 200; i++) {
		rdata(&r, 1, 0);
		maxmem = SG_MAX(maxmem, INFO(r.c).rcv_mem);
	}
	CU_ASSERT(maxmem <= 2 * 16 * 1024);
	CU_ASSERT(ST(s, 0)->rcv_mem_drops > 0);
	CU_ASSERT(pool_in_use() - r.base <= 2 * 16 * 1024 / 2176 + 4);
	/* Dropped bytes come again later and are taken once read. */
	sg_tcp_pause_read(r.c, false);
	sim_step(s);
	CU_ASSERT_EQUAL(r.e.mismatches, 0);
	CU_ASSERT(r.e.got > 0 && r.e.got < 200);
	raw_fini(&r);
}

static void
test_idle_connection_holds_nothing(void)
{
	struct pair p;
	struct sim *s = &p.s;
	unsigned before;

	pair_init(&p, 61);
	sim_start(s);
	before = pool_in_use();
	sim_fini(s);
	pair_init(&p, 61);
	pair_start(&p, 100000, 100000);
	CU_ASSERT_TRUE(sim_run(s, S_, pair_connected));
	sim_run_for(s, 2 * S_);
	CU_ASSERT_EQUAL(p.e[0].got, 100000);
	CU_ASSERT_EQUAL(p.e[1].got, 100000);
	/* Idle and established: no mbuf held anywhere. */
	CU_ASSERT_EQUAL(sg_tcp_conn_state(p.e[0].c), SG_TCP_ESTABLISHED);
	CU_ASSERT_EQUAL(pool_in_use(), before);
	printf("(connection %zu bytes) ", sg_tcp_conn_size());
	CU_ASSERT(sg_tcp_conn_size() <= 2048);
	pair_fini(&p);
}

static bool
corrupt_first_data(struct sim *s, const struct pktinfo *pi, struct rte_mbuf *m)
{
	unsigned *n = s->filter_arg;

	if (pi->dlen > 0 && *n > 0) {
		uint8_t *p = rte_pktmbuf_mtod_offset(m, uint8_t *, m->pkt_len - 1);

		*p ^= 0x5a;
		(*n)--;
	}
	return true;
}

static void
test_checksum_errors(void)
{
	struct pair p;
	struct sim *s = &p.s;
	unsigned n = 3;

	pair_init(&p, 62);
	s->filter = corrupt_first_data;
	s->filter_arg = &n;
	pair_start(&p, 0, 3000);
	p.e[1].chunk_max = 1000;
	CU_ASSERT_TRUE(sim_run(s, S_, pair_connected));
	sim_run_for(s, 5 * S_);
	CU_ASSERT_EQUAL(ST(s, 0)->cksum_errors, 3);
	CU_ASSERT_EQUAL(p.e[0].got, 3000);
	CU_ASSERT_EQUAL(p.e[0].mismatches, 0);
	pair_fini(&p);
}

static void
test_writable_watermarks(void)
{
	struct pair p;
	struct sim *s = &p.s;

	pair_init(&p, 63);
	pair_start(&p, 0, 0);
	CU_ASSERT_TRUE(sim_run(s, S_, pair_connected));
	sg_tcp_set_watermarks(p.e[1].c, 1000, 50000);
	p.e[1].to_send = 100000;
	p.e[1].backlog_limit = 100000;
	sim_step(s);
	CU_ASSERT(sg_tcp_backlog(p.e[1].c) > 50000);
	CU_ASSERT_FALSE(p.e[1].writable_seen);
	sim_run_for(s, 2 * S_);
	CU_ASSERT_TRUE(p.e[1].writable_seen);
	CU_ASSERT_EQUAL(sg_tcp_backlog(p.e[1].c), 0);
	pair_fini(&p);
}

/* sg_tcp_write(): what snd_buf allows, a short count when full (not an
 * error, not sticky), -EPIPE once the connection stops sending. */
static void
test_write_within_snd_buf(void)
{
	enum { TOTAL = 100000, SNDBUF = 65536 };
	static uint8_t buf[TOTAL];
	struct pair p;
	struct sim *s = &p.s;
	struct sg_tcp_conn *c;

	pair_init(&p, 64);
	s->conf[1].snd_buf = SNDBUF;
	pair_start(&p, 0, 0);
	p.e[0].expect = TOTAL;
	CU_ASSERT_TRUE(sim_run(s, S_, pair_connected));
	c = p.e[1].c;
	for (unsigned i = 0; i < TOTAL; i++)
		buf[i] = ep_pattern(22, i);
	CU_ASSERT_EQUAL(sg_tcp_send_space(c), SNDBUF);
	CU_ASSERT_EQUAL(sg_tcp_write(c, buf, TOTAL), SNDBUF);
	CU_ASSERT_EQUAL(sg_tcp_send_space(c), 0);
	CU_ASSERT_EQUAL(sg_tcp_backlog(c), SNDBUF);
	CU_ASSERT_EQUAL(sg_tcp_write(c, buf + SNDBUF, 10), 0);
	CU_ASSERT_EQUAL(sg_tcp_sink(c)->err, 0);
	/* small writes coalesce into the queue's tail mbuf */
	sim_run_for(s, S_);
	CU_ASSERT_EQUAL(sg_tcp_backlog(c), 0);
	CU_ASSERT_EQUAL(sg_tcp_send_space(c), SNDBUF);
	{
		unsigned before = pool_in_use();

		for (unsigned off = SNDBUF; off < TOTAL; off += 100)
			CU_ASSERT_EQUAL(sg_tcp_write(c, buf + off, SG_MIN(100u, TOTAL - off)),
					(int)SG_MIN(100u, TOTAL - off));
		CU_ASSERT(pool_in_use() - before <= (TOTAL - SNDBUF) / 1500 + 2);
	}
	sim_run_for(s, S_);
	CU_ASSERT_EQUAL(p.e[0].got, TOTAL);
	CU_ASSERT_EQUAL(p.e[0].mismatches, 0);
	sg_tcp_shutdown(c);
	CU_ASSERT_EQUAL(sg_tcp_write(c, buf, 10), -EPIPE);
	CU_ASSERT_EQUAL(sg_tcp_send_space(c), 0);
	pair_fini(&p);
}

/* Counters reach other threads through sg_tcp_stats_total(): both
 * stacks publish within a millisecond, and leave when destroyed. */
static void
test_stats_published(void)
{
	struct sg_tcp_stats t;
	struct pair p;
	struct sim *s = &p.s;

	CU_ASSERT_EQUAL(sg_tcp_stats_total(&t), 0);
	pair_init(&p, 65);
	pair_start(&p, 3000, 5000);
	CU_ASSERT_TRUE(sim_run(s, S_, pair_connected));
	sim_run_for(s, S_);
	CU_ASSERT_EQUAL(sg_tcp_stats_total(&t), 2);
	CU_ASSERT_EQUAL(t.active_opens, 1);
	CU_ASSERT_EQUAL(t.passive_opens, 1);
	CU_ASSERT_EQUAL(t.bytes_in, 8000);
	CU_ASSERT_EQUAL(t.conns_by_state[SG_TCP_ESTABLISHED], 2);
	CU_ASSERT_EQUAL(t.segs_in, ST(s, 0)->segs_in + ST(s, 1)->segs_in);
	pair_fini(&p);
	CU_ASSERT_EQUAL(sg_tcp_stats_total(&t), 0);
	CU_ASSERT_EQUAL(t.active_opens, 0);
}

const struct sg_unit_test memory_tests[] = {
	{ "sg_tcp_write stays within snd_buf", test_write_within_snd_buf },
	{ "counters published for other threads", test_stats_published },
	{ "slow reader: receive memory bounded", test_slow_reader_memory_bounded },
	{ "tiny segments capped by memory", test_tiny_segments_capped },
	{ "idle connection holds no mbufs", test_idle_connection_holds_nothing },
	{ "checksum errors counted and recovered", test_checksum_errors },
	{ "writable after the high watermark", test_writable_watermarks },
	{ NULL, NULL },
};

/* ================================================================== */
/* The NIC side: checksum offload flags, chained mbufs, no mbufs       */
/* ================================================================== */

struct offload_check {
	unsigned segs, good;
};

static bool
check_offload(struct sim *s, const struct pktinfo *pi, struct rte_mbuf *m)
{
	struct offload_check *oc = s->filter_arg;
	const struct rte_tcp_hdr *th = rte_pktmbuf_mtod(m, const struct rte_tcp_hdr *);
	uint32_t src = s->ip[pi->from], dst = s->ip[1 - pi->from];
	uint32_t sum = (src & 0xffff) + (src >> 16) + (dst & 0xffff) +
		       (dst >> 16) + rte_cpu_to_be_16(6) +
		       rte_cpu_to_be_16((uint16_t)m->pkt_len);
	uint64_t want = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	oc->segs++;
	if ((m->ol_flags & want) == want &&
	    m->l4_len == (th->data_off >> 4) * 4u && th->cksum == (uint16_t)sum)
		oc->good++;
	return true;
}

static void
test_tx_cksum_offload(void)
{
	struct raw r;
	struct sim *s = &r.s;
	struct offload_check oc = { 0, 0 };

	raw_init(&r);
	s->conf[0].tx_cksum_offload = true;
	s->filter = check_offload;
	s->filter_arg = &oc;
	raw_open_passive(&r, true, false, -1);
	r.e.to_send = 5000;
	sim_step(s);
	/* SYN-ACK and data: flags, l4_len and the pseudo-header sum the
	 * NIC completes. */
	CU_ASSERT(oc.segs >= 5);
	CU_ASSERT_EQUAL(oc.good, oc.segs);
	raw_fini(&r);
}

static void
test_rx_cksum_flags(void)
{
	struct raw r;
	struct sim *s = &r.s;
	struct rte_mbuf *m;
	uint8_t buf[100];

	raw_init(&r);
	raw_open_passive(&r, false, false, -1);
	rdata_fill(buf, 0, 100);
	/* The NIC says good: trusted, not verified again. */
	m = raw_build(s, r.sport, r.dport, r.snd_nxt, r.rcv_nxt, ACK, r.wnd,
		      NULL, 0, buf, 100);
	*rte_pktmbuf_mtod_offset(m, uint8_t *, 16) ^= 0xff;	/* checksum */
	m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	sg_tcp_input(s->st[0], m, s->ip[1], s->ip[0]);
	CU_ASSERT_EQUAL(r.e.got, 100);
	r.snd_nxt += 100;
	/* The NIC says bad: dropped even though the sum is right. */
	rdata_fill(buf, 100, 100);
	m = raw_build(s, r.sport, r.dport, r.snd_nxt, r.rcv_nxt, ACK, r.wnd,
		      NULL, 0, buf, 100);
	m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_BAD;
	sg_tcp_input(s->st[0], m, s->ip[1], s->ip[0]);
	CU_ASSERT_EQUAL(r.e.got, 100);
	CU_ASSERT_EQUAL(ST(s, 0)->cksum_errors, 1);
	/* Unknown: verified in software. */
	m = raw_build(s, r.sport, r.dport, r.snd_nxt, r.rcv_nxt, ACK, r.wnd,
		      NULL, 0, buf, 100);
	*rte_pktmbuf_mtod_offset(m, uint8_t *, 40) ^= 0x01;
	sg_tcp_input(s->st[0], m, s->ip[1], s->ip[0]);
	CU_ASSERT_EQUAL(ST(s, 0)->cksum_errors, 2);
	CU_ASSERT_EQUAL(r.e.got, 100);
	raw_fini(&r);
}

static void
test_multiseg_input(void)
{
	struct raw r;
	struct sim *s = &r.s;
	struct rte_mbuf *m;
	static uint8_t buf[3000];
	uint8_t o[12];
	unsigned n;
	const uint32_t cuts[3] = { 7, 25, 700 };	/* header split too */

	raw_init(&r);
	raw_open_passive(&r, true, true, -1);
	/* Out of order first (second half), then the first half. */
	rdata_fill(buf, 0, 3000);
	raw_sync(&r);
	n = opt_ts(o, ++r.tsval, r.ts_recent);
	m = raw_build(s, r.sport, r.dport, r.snd_nxt + 1500, r.rcv_nxt, ACK,
		      r.wnd, o, n, buf + 1500, 1500);
	sg_tcp_input(s->st[0], split_mbuf(m, cuts, 3), s->ip[1], s->ip[0]);
	CU_ASSERT_EQUAL(r.e.got, 0);
	CU_ASSERT_EQUAL(INFO(r.c).ooo_segs, 2);	/* header-only pieces freed */
	n = opt_ts(o, ++r.tsval, r.ts_recent);
	m = raw_build(s, r.sport, r.dport, r.snd_nxt, r.rcv_nxt, ACK, r.wnd, o,
		      n, buf, 1500);
	sg_tcp_input(s->st[0], split_mbuf(m, cuts, 3), s->ip[1], s->ip[0]);
	CU_ASSERT_EQUAL(r.e.got, 3000);
	CU_ASSERT_EQUAL(r.e.mismatches, 0);
	CU_ASSERT_EQUAL(INFO(r.c).rcv_mem, 0);
	raw_fini(&r);
}

static void
test_pool_exhaustion(void)
{
	struct pair p;
	struct sim *s = &p.s;
	static struct rte_mbuf *held[16384];
	unsigned n = 0;

	pair_init(&p, 70);
	pair_start(&p, 0, 0);
	CU_ASSERT_TRUE(sim_run(s, S_, pair_connected));
	p.e[1].to_send = 20000;
	p.e[1].shut_when_done = false;
	ep_pump(&p.e[1]);		/* queued, not sent */
	while (n < 16384 && (held[n] = rte_pktmbuf_alloc(g_pool)) != NULL)
		n++;
	CU_ASSERT_EQUAL(sg_tcp_stack_flush(s->st[1]), 0);
	CU_ASSERT(ST(s, 1)->nombuf > 0);
	for (unsigned i = 0; i < n; i++)
		rte_pktmbuf_free(held[i]);
	/* The connection stayed on the work list: the next flush sends. */
	CU_ASSERT(sg_tcp_stack_flush(s->st[1]) > 0);
	sim_run_for(s, S_);
	CU_ASSERT_EQUAL(p.e[0].got, 20000);
	CU_ASSERT_EQUAL(p.e[0].mismatches, 0);
	pair_fini(&p);
}

static int
dummy_output(void *ctx, struct rte_mbuf *m, uint32_t src, uint32_t dst)
{
	(void)ctx;
	(void)src;
	(void)dst;
	rte_pktmbuf_free(m);
	return 0;
}

static void
test_conf_checked(void)
{
	struct sg_tcp_conf c;
	struct sg_tcp_stack *st;

	sg_tcp_conf_init(&c);
	CU_ASSERT_PTR_NULL(sg_tcp_stack_create(&c));	/* no pool */
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	c.pool = g_pool;
	CU_ASSERT_PTR_NULL(sg_tcp_stack_create(&c));	/* no output */
	c.ip_output = dummy_output;
	c.port_min = 5000;
	c.port_max = 4000;
	CU_ASSERT_PTR_NULL(sg_tcp_stack_create(&c));
	c.port_max = 6000;
	c.mss = 40;
	CU_ASSERT_PTR_NULL(sg_tcp_stack_create(&c));
	c.mss = 1460;
	c.snd_buf = 0x80000000u;
	CU_ASSERT_PTR_NULL(sg_tcp_stack_create(&c));
	c.snd_buf = 0;
	c.rcv_buf = 1000;	/* less than one mbuf */
	CU_ASSERT_PTR_NULL(sg_tcp_stack_create(&c));
	/* All-zero fields take the defaults. */
	memset(&c, 0, sizeof(c));
	c.pool = g_pool;
	c.ip_output = dummy_output;
	st = sg_tcp_stack_create(&c);
	CU_ASSERT_PTR_NOT_NULL(st);
	CU_ASSERT_EQUAL(sg_tcp_listen(st, 0, 0, 1, NULL, NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(sg_tcp_connect(st, 0, 0, 1, 1, NULL, NULL, NULL), -EINVAL);
	sg_tcp_stack_destroy(st);
}

const struct sg_unit_test wire_tests[] = {
	{ "configuration checked at creation", test_conf_checked },
	{ "TX checksum offload: flags, l4_len, pseudo-header sum",
	  test_tx_cksum_offload },
	{ "RX checksum flags: good trusted, bad dropped, unknown verified",
	  test_rx_cksum_flags },
	{ "chained input mbufs, header split across segments", test_multiseg_input },
	{ "no mbufs: output retried at the next flush", test_pool_exhaustion },
	{ NULL, NULL },
};
