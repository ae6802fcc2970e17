/* SPDX-License-Identifier: BSD-3-Clause */
/* The pattern-checking test application (tcp_app.h). */
#include <string.h>

#include "sg_common.h"
#include "tcp_app.h"

uint8_t
ep_pattern(uint64_t seed, uint64_t i)
{
	uint64_t x = ((i >> 6) + 1) * 0x9E3779B97F4A7C15ull ^ seed;

	x ^= x >> 29;
	return (uint8_t)(x >> 8) ^ (uint8_t)i;
}

static void
ep_connected(struct sg_tcp_conn *c, void *arg, int status)
{
	struct ep *e = arg;

	(void)c;
	e->connected = status == 0;
	e->connect_status = status;
	e->connected_at = e->s->now;
	if (status != 0) {
		e->closed = true;
		e->closed_status = status;
		e->c = NULL;
	}
}

static void
ep_data(struct sg_tcp_conn *c, void *arg, struct rte_mbuf *m)
{
	struct ep *e = arg;
	uint32_t total = 0;

	e->data_calls++;
	for (struct rte_mbuf *s = m; s != NULL; s = s->next) {
		const uint8_t *p = rte_pktmbuf_mtod(s, const uint8_t *);

		for (uint16_t i = 0; i < s->data_len; i++) {
			if (p[i] != ep_pattern(e->seed_rx, e->got)) {
				if (e->mismatches++ == 0)
					e->first_bad = e->got;
			}
			e->got++;
		}
		total += s->data_len;
	}
	if (total != m->pkt_len)
		e->mismatches++;	/* chain length must be right too */
	if (e->reply_echo && e->c != NULL)
		sg_tcp_send(c, m);
	else
		rte_pktmbuf_free(m);
}

static void
ep_eof(struct sg_tcp_conn *c, void *arg)
{
	struct ep *e = arg;

	e->eof = true;
	e->eof_at = e->s->now;
	if (e->close_on_eof) {
		sg_tcp_close(c);
		e->closed = true;
		e->closed_status = 0;
		e->c = NULL;
	}
}

static void
ep_writable(struct sg_tcp_conn *c, void *arg)
{
	struct ep *e = arg;

	(void)c;
	e->writable_seen = true;
}

static void
ep_closed(struct sg_tcp_conn *c, void *arg, int status)
{
	struct ep *e = arg;

	(void)c;
	e->closed = true;
	e->closed_status = status;
	e->closed_at = e->s->now;
	e->c = NULL;
}

const struct sg_tcp_conn_cbs ep_cbs = {
	.connected = ep_connected,
	.data = ep_data,
	.eof = ep_eof,
	.writable = ep_writable,
	.closed = ep_closed,
};

void
ep_init(struct ep *e, struct sim *s, int side, uint64_t to_send,
	uint64_t seed_tx, uint64_t seed_rx, uint64_t expect)
{
	memset(e, 0, sizeof(*e));
	e->s = s;
	e->side = side;
	e->to_send = to_send;
	e->seed_tx = seed_tx;
	e->seed_rx = seed_rx;
	e->expect = expect;
	e->chunk_max = 16384;
	e->backlog_limit = 256 * 1024;
	e->shut_when_done = true;
}

void
ep_accept(struct sg_tcp_listener *l, void *arg, struct sg_tcp_conn *c)
{
	struct ep *e = arg;

	(void)l;
	e->c = c;
	e->accepted = true;
	e->connected = true;
	e->connected_at = e->s->now;
	sg_tcp_conn_set_cbs(c, &ep_cbs, e);
}

static void
write_sink(struct ep *e, uint32_t n)
{
	struct sg_sink *sk = sg_tcp_sink(e->c);

	while (n > 0) {
		uint32_t k = SG_MIN(n, 200u);
		char *p = sg_sink_reserve(sk, k);

		if (p == NULL)
			return;
		for (uint32_t i = 0; i < k; i++)
			p[i] = (char)ep_pattern(e->seed_tx, e->sent + i);
		sg_sink_commit(sk, p + k);
		e->sent += k;
		n -= k;
	}
}

static void
write_mbufs(struct ep *e, uint32_t n)
{
	struct rte_mbuf *head = NULL, *tail = NULL;
	uint64_t pos = e->sent;

	while (n > 0) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(g_pool);
		uint32_t k;
		uint8_t *p;

		if (m == NULL)
			break;
		k = SG_MIN(n, 1000u + (uint32_t)(pos % 700));
		p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)k);
		for (uint32_t i = 0; i < k; i++)
			p[i] = ep_pattern(e->seed_tx, pos + i);
		pos += k;
		n -= k;
		if (head == NULL) {
			head = m;
		} else {
			tail->next = m;
			head->nb_segs++;
			head->pkt_len += k;
		}
		tail = m;
	}
	if (head != NULL && sg_tcp_send(e->c, head) == 0)
		e->sent = pos;
}

void
ep_pump(struct ep *e)
{
	if (e->c == NULL || !e->connected || e->closed)
		return;
	while (e->sent < e->to_send &&
	       sg_tcp_backlog(e->c) < e->backlog_limit) {
		uint64_t left = e->to_send - e->sent;
		uint32_t n = 1 + (uint32_t)(sim_rand(e->s) % e->chunk_max);
		uint64_t before = e->sent;

		if (n > left)
			n = (uint32_t)left;
		if (e->use_send && sim_rand(e->s) % 3 == 0)
			write_mbufs(e, n);
		else
			write_sink(e, n);
		if (e->sent == before || sg_tcp_sink(e->c)->err != 0)
			break;
	}
	if (e->sent == e->to_send && e->shut_when_done && !e->shut) {
		sg_tcp_shutdown(e->c);
		e->shut = true;
	}
}
