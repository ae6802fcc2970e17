/* SPDX-License-Identifier: BSD-3-Clause */
/* The simulated world of tcp_sim.h. */
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "tcp_sim.h"

struct rte_mempool *g_pool;

uint64_t
sim_rand(struct sim *s)
{
	/* xorshift64* */
	uint64_t x = s->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	s->rng = x;
	return x * 0x2545F4914F6CDD1Dull;
}

unsigned
pool_in_use(void)
{
	return rte_mempool_in_use_count(g_pool);
}

static uint64_t
sim_now(void *ctx)
{
	struct sim_side *sd = ctx;

	return sd->sim->now;
}

static uint32_t
sim_isn(void *ctx, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport)
{
	struct sim_side *sd = ctx;

	(void)lip;
	(void)lport;
	(void)rip;
	(void)rport;
	return sd->sim->isn[sd->idx];
}

static bool
sim_port_owned(void *ctx, uint32_t lip, uint16_t lport, uint32_t rip,
	       uint16_t rport)
{
	struct sim_side *sd = ctx;
	struct sim *s = sd->sim;

	(void)lip;
	(void)rip;
	(void)rport;
	if (s->owned_mod == 0)
		return true;
	return rte_be_to_cpu_16(lport) % s->owned_mod == s->owned_rem;
}

static uint32_t
be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

void
pkt_decode(struct rte_mbuf *m, uint32_t src, uint32_t dst, struct pktinfo *pi)
{
	uint8_t buf[60];
	const uint8_t *p = rte_pktmbuf_read(m, 0, 20, buf);
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)p;
	unsigned hlen = (th->data_off >> 4) * 4u, i;
	uint16_t raw;
	uint32_t sum;

	memset(pi, 0, sizeof(*pi));
	pi->sport = rte_be_to_cpu_16(th->src_port);
	pi->dport = rte_be_to_cpu_16(th->dst_port);
	pi->flags = th->tcp_flags;
	pi->seq = rte_be_to_cpu_32(th->sent_seq);
	pi->ack = rte_be_to_cpu_32(th->recv_ack);
	pi->wnd = rte_be_to_cpu_16(th->rx_win);
	pi->dlen = m->pkt_len - hlen;
	if (pi->dlen > 0) {
		const uint8_t *b = rte_pktmbuf_read(m, hlen, 1, buf);

		pi->first = *b;
	}
	p = rte_pktmbuf_read(m, 0, hlen, buf);
	for (i = 20; i < hlen;) {
		uint8_t k = p[i], l;

		if (k == 0)
			break;
		if (k == 1) {
			i++;
			continue;
		}
		l = p[i + 1];
		if (l < 2 || i + l > hlen)
			break;
		if (k == 2) {
			pi->has_mss = true;
			pi->mss = (uint16_t)(p[i + 2] << 8 | p[i + 3]);
		} else if (k == 3) {
			pi->has_ws = true;
			pi->ws = p[i + 2];
		} else if (k == 4) {
			pi->has_sackp = true;
		} else if (k == 8) {
			pi->has_ts = true;
			pi->tsval = be32_at(p + i + 2);
			pi->tsecr = be32_at(p + i + 6);
		} else if (k == 5) {
			pi->nsack = (l - 2u) / 8;
			for (unsigned j = 0; j < pi->nsack && j < 4; j++) {
				pi->sack[j][0] = be32_at(p + i + 2 + 8 * j);
				pi->sack[j][1] = be32_at(p + i + 6 + 8 * j);
			}
		}
		i += l;
	}
	rte_raw_cksum_mbuf(m, 0, m->pkt_len, &raw);
	sum = raw + (src & 0xffff) + (src >> 16) + (dst & 0xffff) + (dst >> 16) +
	      rte_cpu_to_be_16(6) + rte_cpu_to_be_16((uint16_t)m->pkt_len);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	pi->cksum_ok = sum == 0xffff;
}

static void
enqueue(struct sim *s, struct rte_mbuf *m, int to, uint64_t due)
{
	struct qpkt *p = malloc(sizeof(*p)), **pp = &s->q;

	p->m = m;
	p->to = to;
	p->due = due;
	while (*pp != NULL && (*pp)->due <= due)
		pp = &(*pp)->next;
	p->next = *pp;
	*pp = p;
	s->inflight++;
}

static int
sim_output(void *ctx, struct rte_mbuf *m, uint32_t src, uint32_t dst)
{
	struct sim_side *sd = ctx;
	struct sim *s = sd->sim;
	int to = 1 - sd->idx;
	struct pktinfo pi;
	uint64_t due;

	pkt_decode(m, src, dst, &pi);
	pi.from = sd->idx;
	pi.t = s->now;
	if (s->log_ring)
		s->log[s->nsent % s->maxlog] = pi;
	else if (s->nlog < s->maxlog)
		s->log[s->nlog++] = pi;
	s->nsent++;
	if (s->filter != NULL && !s->filter(s, &pi, m)) {
		rte_pktmbuf_free(m);
		return 0;
	}
	if (s->st[to] == NULL) {
		rte_pktmbuf_free(m);	/* raw peer: the log is all */
		return 0;
	}
	if (s->loss_pm != 0 && sim_rand(s) % 1000 < s->loss_pm) {
		rte_pktmbuf_free(m);
		return 0;
	}
	m->ol_flags = 0;
	due = s->now + s->delay_ns;
	if (s->jitter_ns != 0)
		due += sim_rand(s) % s->jitter_ns;
	if (s->reorder_pm != 0 && sim_rand(s) % 1000 < s->reorder_pm)
		due += s->delay_ns + sim_rand(s) % (2 * s->delay_ns + 1);
	if (s->dup_pm != 0 && sim_rand(s) % 1000 < s->dup_pm) {
		struct rte_mbuf *d = rte_pktmbuf_copy(m, g_pool, 0, UINT32_MAX);

		if (d != NULL)
			enqueue(s, d, to, due + sim_rand(s) % (s->delay_ns + 1));
	}
	enqueue(s, m, to, due);
	return 0;
}

void
sim_init(struct sim *s, uint64_t seed, bool raw)
{
	memset(s, 0, sizeof(*s));
	s->rng = seed * 0x9E3779B97F4A7C15ull + 0x1234567;
	if (s->rng == 0)
		s->rng = 1;
	s->now = 1000 * SG_NS_PER_S;
	s->ip[0] = rte_cpu_to_be_32(SIM_IP0);
	s->ip[1] = rte_cpu_to_be_32(SIM_IP1);
	s->delay_ns = SG_NS_PER_MS;
	s->maxlog = 65536;	/* allocated by sim_start */
	for (int i = 0; i < 2; i++) {
		struct sg_tcp_conf *c = &s->conf[i];

		s->side[i].sim = s;
		s->side[i].idx = i;
		sg_tcp_conf_init(c);
		c->pool = g_pool;
		c->max_conns = 64;
		c->ip_output = sim_output;
		c->now_ns = sim_now;
		c->port_owned = sim_port_owned;
		c->isn_hook = NULL;
		c->ctx = &s->side[i];
		for (int j = 0; j < 16; j++) {
			c->isn_secret[j] = (uint8_t)(seed >> (j % 8) ^ (uint64_t)j);
			c->cookie_secret[j] = (uint8_t)(j * 7 + 3);
		}
	}
	if (raw)
		s->side[1].idx = 1;
	s->conf[1].pool = raw ? NULL : g_pool;
}

void
sim_log_ring(struct sim *s, unsigned n)
{
	s->maxlog = n;
	s->nlog = 0;
	s->log_ring = true;
}

const struct pktinfo *
sim_log_tail(const struct sim *s, unsigned i)
{
	uint64_t first = s->nsent > s->maxlog ? s->nsent - s->maxlog : 0;

	if (first + i >= s->nsent)
		return NULL;
	return &s->log[(first + i) % s->maxlog];
}

void
sim_start(struct sim *s)
{
	s->log = calloc(s->maxlog, sizeof(*s->log));
	for (int i = 0; i < 2; i++) {
		if (s->conf[i].pool == NULL)
			continue;
		if (s->fixed_isn)
			s->conf[i].isn_hook = sim_isn;
		s->st[i] = sg_tcp_stack_create(&s->conf[i]);
	}
}

void
sim_fini(struct sim *s)
{
	for (int i = 0; i < 2; i++) {
		sg_tcp_stack_destroy(s->st[i]);
		s->st[i] = NULL;
	}
	while (s->q != NULL) {
		struct qpkt *p = s->q;

		s->q = p->next;
		rte_pktmbuf_free(p->m);
		free(p);
	}
	free(s->log);
	s->log = NULL;
}

void
sim_step(struct sim *s)
{
	s->iterations++;
	while (s->q != NULL && s->q->due <= s->now) {
		struct qpkt *p = s->q;

		s->q = p->next;
		s->inflight--;
		if (s->st[p->to] != NULL)
			sg_tcp_input(s->st[p->to], p->m, s->ip[1 - p->to],
				     s->ip[p->to]);
		else
			rte_pktmbuf_free(p->m);
		free(p);
	}
	if (s->app != NULL)
		s->app(s);
	for (int i = 0; i < 2; i++) {
		if (s->st[i] != NULL)
			sg_tcp_stack_timers(s->st[i]);
	}
	for (int i = 0; i < 2; i++) {
		if (s->st[i] != NULL)
			sg_tcp_stack_flush(s->st[i]);
	}
}

void
sim_advance(struct sim *s, uint64_t max_jump_ns)
{
	uint64_t next = s->now + max_jump_ns;

	if (s->q != NULL && s->q->due < next)
		next = s->q->due;
	for (int i = 0; i < 2; i++) {
		if (s->st[i] != NULL) {
			uint64_t idle = sg_tcp_stack_idle_ns(s->st[i], max_jump_ns);

			if (s->now + idle < next)
				next = s->now + idle;
		}
	}
	if (next <= s->now)
		next = s->now + 1000;
	s->now = next;
}

bool
sim_run(struct sim *s, uint64_t ns, bool (*done)(struct sim *s))
{
	uint64_t end = s->now + ns;

	for (;;) {
		sim_step(s);
		if (done != NULL && done(s))
			return true;
		if (s->now >= end)
			return false;
		sim_advance(s, SG_MIN(10 * SG_NS_PER_MS, end - s->now));
	}
}

void
sim_run_for(struct sim *s, uint64_t ns)
{
	sim_run(s, ns, NULL);
}

struct rte_mbuf *
raw_build(struct sim *s, uint16_t sport, uint16_t dport, uint32_t seq,
	  uint32_t ack, uint8_t flags, uint16_t wnd, const uint8_t *opt,
	  unsigned optlen, const void *data, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(g_pool);
	unsigned hlen = 20 + ((optlen + 3) & ~3u);
	struct rte_tcp_hdr *th;
	uint8_t *p;
	uint16_t raw;
	uint32_t sum, src = s->ip[1], dst = s->ip[0];

	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(hlen + len));
	th = (struct rte_tcp_hdr *)p;
	memset(p, 0, hlen);
	th->src_port = rte_cpu_to_be_16(sport);
	th->dst_port = rte_cpu_to_be_16(dport);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = (uint8_t)((hlen / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(wnd);
	if (optlen > 0)
		memcpy(p + 20, opt, optlen);
	for (unsigned i = 20 + optlen; i < hlen; i++)
		p[i] = 1;	/* NOP padding */
	if (len > 0)
		memcpy(p + hlen, data, len);
	rte_raw_cksum_mbuf(m, 0, m->pkt_len, &raw);
	sum = raw + (src & 0xffff) + (src >> 16) + (dst & 0xffff) + (dst >> 16) +
	      rte_cpu_to_be_16(6) + rte_cpu_to_be_16((uint16_t)m->pkt_len);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	th->cksum = (uint16_t)~sum;
	return m;
}

struct rte_mbuf *
split_mbuf(struct rte_mbuf *m, const uint32_t *cuts, unsigned ncuts)
{
	struct rte_mbuf *head = NULL, *tail = NULL;
	uint32_t from = 0;

	for (unsigned i = 0; i <= ncuts; i++) {
		uint32_t to = i < ncuts ? cuts[i] : m->pkt_len;
		struct rte_mbuf *n = rte_pktmbuf_alloc(g_pool);
		char *p = rte_pktmbuf_append(n, (uint16_t)(to - from));

		memcpy(p, rte_pktmbuf_mtod_offset(m, char *, from), to - from);
		if (head == NULL) {
			head = n;
		} else {
			tail->next = n;
			head->nb_segs++;
			head->pkt_len += n->data_len;
		}
		tail = n;
		from = to;
	}
	rte_pktmbuf_free(m);
	return head;
}

void
raw_send(struct sim *s, uint16_t sport, uint16_t dport, uint32_t seq,
	 uint32_t ack, uint8_t flags, uint16_t wnd, const uint8_t *opt,
	 unsigned optlen, const void *data, uint32_t len)
{
	struct rte_mbuf *m = raw_build(s, sport, dport, seq, ack, flags, wnd,
				       opt, optlen, data, len);

	sg_tcp_input(s->st[0], m, s->ip[1], s->ip[0]);
}

unsigned
opt_ts(uint8_t *o, uint32_t val, uint32_t ecr)
{
	o[0] = 1;
	o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	val = rte_cpu_to_be_32(val);
	ecr = rte_cpu_to_be_32(ecr);
	memcpy(o + 4, &val, 4);
	memcpy(o + 8, &ecr, 4);
	return 12;
}

unsigned
opt_syn(uint8_t *o, uint16_t mss, int ws, bool sackp, bool ts, uint32_t tsval)
{
	unsigned n = 0;

	o[n++] = 2;
	o[n++] = 4;
	o[n++] = (uint8_t)(mss >> 8);
	o[n++] = (uint8_t)mss;
	if (ws >= 0) {
		o[n++] = 1;
		o[n++] = 3;
		o[n++] = 3;
		o[n++] = (uint8_t)ws;
	}
	if (sackp) {
		o[n++] = 1;
		o[n++] = 1;
		o[n++] = 4;
		o[n++] = 2;
	}
	if (ts)
		n += opt_ts(o + n, tsval, 0);
	return n;
}

const struct pktinfo *
log_find(const struct sim *s, unsigned from, int sender, uint8_t flags_set,
	 uint8_t flags_clear)
{
	for (unsigned i = from; i < s->nlog; i++) {
		const struct pktinfo *p = &s->log[i];

		if (p->from == sender && (p->flags & flags_set) == flags_set &&
		    (p->flags & flags_clear) == 0)
			return p;
	}
	return NULL;
}

unsigned
log_count(const struct sim *s, unsigned from, int sender, uint8_t flags_set,
	  uint8_t flags_clear)
{
	unsigned n = 0;

	for (unsigned i = from; i < s->nlog; i++) {
		const struct pktinfo *p = &s->log[i];

		if (p->from == sender && (p->flags & flags_set) == flags_set &&
		    (p->flags & flags_clear) == 0)
			n++;
	}
	return n;
}

unsigned
log_count_data(const struct sim *s, unsigned from, int sender)
{
	unsigned n = 0;

	for (unsigned i = from; i < s->nlog; i++) {
		if (s->log[i].from == sender && s->log[i].dlen > 0)
			n++;
	}
	return n;
}
