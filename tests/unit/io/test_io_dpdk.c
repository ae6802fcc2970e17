/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/io, DPDK transport: two io workers, each on its own rings-backed
 * port (lib/net) with its own TCP stack (lib/tcp), joined by a link the
 * test drives itself:
 *
 *   A.tx ring --> carry(): drop 1 in N, or everything --> B.rx ring
 *   A.rx ring <-- carry(): (same rules)               <-- B.tx ring
 *
 * carry() copies each frame into the receiver's own "NIC" pool, as DMA
 * into the receiver's RX buffers would, so each side's pool counts only
 * what that side holds.
 *
 * Both workers run in this one thread, polled and flushed in turn the
 * way the proxy's loop does it. The clock is real (TCP reads the TSC),
 * with a 10 ms minimum RTO so losses heal quickly.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "sg_io.h"
#include "sg_net.h"
#include "sg_tcp.h"
#include "sg_unit.h"

/* Spelled out: RTE_IPV4() shifts an int into the sign bit for 198. */
#define A_IP RTE_BE32(0xc6120701u)	/* 198.18.7.1 */
#define B_IP RTE_BE32(0xc6120702u)	/* 198.18.7.2 */
#define PORT_ECHO RTE_BE16(7000)
#define PORT_NONE RTE_BE16(7001)

struct side {
	struct rte_ring *rx, *tx;
	struct sg_net_port *p;
	struct sg_io_worker *w;
	struct rte_mempool *pool;
	struct rte_mempool *wire_pool;	/* frames it receives */
	struct sg_io_dpdk_conf dc;
};

static struct side A, B;
static unsigned seq;

/* The wire between the two ports. */
static struct {
	unsigned drop_every;	/* 0: none */
	bool blackhole;
	uint64_t frames, dropped;
} wire;

typedef void (*tweak_fn)(struct sg_io_dpdk_conf *dc);

static void
side_open(struct side *s, const char *tag, uint32_t ip, tweak_fn tweak,
	  unsigned pool_size, uint32_t max_streams)
{
	struct sg_net_port_conf pc;
	struct sg_io_worker_conf wc;
	char name[48], full[64];

	memset(s, 0, sizeof(*s));
	snprintf(name, sizeof(name), "%srx%u", tag, seq);
	s->rx = rte_ring_create(name, 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "%stx%u", tag, seq);
	s->tx = rte_ring_create(name, 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	CU_ASSERT_FATAL(s->rx != NULL && s->tx != NULL);
	snprintf(name, sizeof(name), "%s%u", tag, seq);
	CU_ASSERT_FATAL(rte_eth_from_rings(name, &s->rx, 1, &s->tx, 1, 0) >= 0);
	snprintf(full, sizeof(full), "net_ring_%s", name);

	memset(&pc, 0, sizeof(pc));
	pc.port = full;
	pc.n_workers = 1;
	pc.rx_desc = 256;
	pc.tx_desc = 256;
	pc.rx_mbufs = 4096;
	pc.tx_mbufs = 1024;
	pc.ip = ip;
	pc.prefix_len = 24;
	pc.garp_count = 1;
	CU_ASSERT_EQUAL_FATAL(sg_net_port_init(&pc, &s->p), 0);

	snprintf(name, sizeof(name), "%spool%u", tag, seq);
	s->pool = rte_pktmbuf_pool_create(name, pool_size, 0, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s->pool);
	snprintf(name, sizeof(name), "%swire%u", tag, seq);
	s->wire_pool = rte_pktmbuf_pool_create(name, 4095, 0, 0,
					       RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s->wire_pool);

	s->dc.port = s->p;
	s->dc.ip = ip;
	sg_tcp_conf_init(&s->dc.tcp);
	s->dc.tcp.rto_min_ns = 10 * SG_NS_PER_MS;
	s->dc.tcp.rto_init_ns = 50 * SG_NS_PER_MS;
	s->dc.tcp.delack_ns = 2 * SG_NS_PER_MS;
	s->dc.tcp.time_wait_ns = 100 * SG_NS_PER_MS;
	s->dc.tcp.snd_buf = 256 * 1024;
	s->dc.tcp.rcv_buf = 256 * 1024;
	s->dc.tcp.max_conns = 64;
	if (tweak != NULL)
		tweak(&s->dc);

	memset(&wc, 0, sizeof(wc));
	wc.mode = SG_IO_DPDK;
	wc.pool = s->pool;
	wc.max_streams = max_streams;
	wc.dpdk = &s->dc;
	s->w = sg_io_worker_create(&wc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s->w);
}

static void
ring_drain(struct rte_ring *r)
{
	void *o;

	while (rte_ring_dequeue(r, &o) == 0)
		rte_pktmbuf_free(o);
}

static void
side_close(struct side *s)
{
	sg_io_worker_destroy(s->w);
	sg_net_port_close(s->p);
	ring_drain(s->rx);
	ring_drain(s->tx);
	rte_ring_free(s->rx);
	rte_ring_free(s->tx);
}

/* Streams B may hold (A: always 8). */
static uint32_t b_max_streams = 8;

static void
pair_open(tweak_fn ta, tweak_fn tb, unsigned pool_size)
{
	seq++;
	memset(&wire, 0, sizeof(wire));
	side_open(&A, "a", A_IP, ta, pool_size, 8);
	side_open(&B, "b", B_IP, tb, pool_size, b_max_streams);
}

static void
pair_close(void)
{
	side_close(&A);
	side_close(&B);
	/* Every mbuf came back: nothing leaked in io, TCP or the link
	 * (frames cross pools, so count both together). */
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(A.pool), 0);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(B.pool), 0);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(A.wire_pool), 0);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(B.wire_pool), 0);
	rte_mempool_free(A.pool);
	rte_mempool_free(B.pool);
	rte_mempool_free(A.wire_pool);
	rte_mempool_free(B.wire_pool);
}

static void
carry(struct side *from, struct side *to)
{
	void *f[64];
	unsigned n = rte_ring_dequeue_burst(from->tx, f, RTE_DIM(f), NULL);

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *c = NULL;

		wire.frames++;
		if (!wire.blackhole &&
		    (wire.drop_every == 0 || wire.frames % wire.drop_every != 0))
			c = rte_pktmbuf_copy(f[i], to->wire_pool, 0, UINT32_MAX);
		rte_pktmbuf_free(f[i]);
		if (c == NULL || rte_ring_enqueue(to->rx, c) != 0) {
			wire.dropped++;
			rte_pktmbuf_free(c);
		}
	}
}

/* One loop iteration of both workers, then the wire. */
static void
step(void)
{
	sg_io_worker_poll(A.w, 0);
	sg_io_worker_poll(B.w, 0);
	sg_io_worker_flush(A.w);
	sg_io_worker_flush(B.w);
	carry(&A, &B);
	carry(&B, &A);
}

/* Steps until cond(arg) or `ms` milliseconds pass. */
static bool
run_until(bool (*cond)(void *), void *arg, unsigned ms)
{
	uint64_t end = sg_clock_ns() + (uint64_t)ms * SG_NS_PER_MS;

	while (sg_clock_ns() < end) {
		step();
		if (cond(arg))
			return true;
	}
	return false;
}

static void
run_for(unsigned ms)
{
	uint64_t end = sg_clock_ns() + (uint64_t)ms * SG_NS_PER_MS;

	while (sg_clock_ns() < end)
		step();
}

/* ---- one end of a connection ---- */

static unsigned char
pattern(size_t i)
{
	return (unsigned char)(i * 131u + i / 251u);
}

struct end {
	struct sg_io_stream *s;
	int connected;		/* 1, -errno, 0 not yet */
	bool closed;
	int close_status;
	unsigned writable;
	bool echo;		/* send back what arrives (chain handed over) */
	bool pause_on_data;	/* pause reading at the first data */
	size_t received;
	size_t bad;		/* bytes that differ from pattern() */
	uint64_t closed_at_ns;
};

static void
end_connected(struct sg_io_stream *s, void *arg, int status)
{
	struct end *e = arg;

	e->connected = status == 0 ? 1 : status;
	if (status != 0)
		e->s = NULL;
}

static void
end_data(struct sg_io_stream *s, void *arg, struct rte_mbuf *m)
{
	struct end *e = arg;

	for (struct rte_mbuf *x = m; x != NULL; x = x->next) {
		const unsigned char *p = rte_pktmbuf_mtod(x, const unsigned char *);

		for (unsigned i = 0; i < x->data_len; i++)
			e->bad += p[i] != pattern(e->received + i);
		e->received += x->data_len;
	}
	if (e->pause_on_data)
		sg_io_pause_read(s, true);
	if (e->echo) {
		CU_ASSERT_EQUAL(sg_io_send(s, m), 0);
	} else {
		rte_pktmbuf_free(m);
	}
}

static void
end_writable(struct sg_io_stream *s, void *arg)
{
	((struct end *)arg)->writable++;
}

static void
end_closed(struct sg_io_stream *s, void *arg, int status)
{
	struct end *e = arg;

	e->closed = true;
	e->close_status = status;
	e->closed_at_ns = sg_clock_ns();
	e->s = NULL;
}

static const struct sg_io_stream_cbs end_cbs = {
	.connected = end_connected,
	.data = end_data,
	.writable = end_writable,
	.closed = end_closed,
};

static struct end *next_server;
static unsigned accepted;

static void
on_accept(struct sg_io_listener *l, void *arg, struct sg_io_stream *s)
{
	accepted++;
	if (next_server == NULL)
		return;	/* no callbacks: lib/io closes it */
	next_server->s = s;
	sg_io_stream_set_cbs(s, &end_cbs, next_server);
	next_server = NULL;
}

static struct sg_io_listener *
listen_b(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = PORT_ECHO };
	struct sg_io_listener *l = NULL;

	CU_ASSERT_EQUAL_FATAL(sg_io_listen(B.w, &a, 16, on_accept, NULL, &l), 0);
	return l;
}

static bool
is_connected(void *arg)
{
	return ((struct end *)arg)->connected != 0;
}

static bool
is_closed(void *arg)
{
	return ((struct end *)arg)->closed;
}

struct want {
	struct end *e;
	size_t n;
};

static bool
has_bytes(void *arg)
{
	struct want *w = arg;

	return w->e->received >= w->n;
}

/* A connects to B's listener; `srv` gets the accepted stream. */
static void
connect_ab(struct end *cli, struct end *srv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = PORT_ECHO };

	dst.sin_addr.s_addr = B_IP;
	next_server = srv;
	CU_ASSERT_EQUAL_FATAL(sg_io_connect(A.w, &dst, &end_cbs, cli, &cli->s), 0);
	CU_ASSERT_TRUE_FATAL(run_until(is_connected, cli, 3000));
	CU_ASSERT_EQUAL_FATAL(cli->connected, 1);
	for (int i = 0; i < 10000 && srv->s == NULL; i++)
		step();
	CU_ASSERT_PTR_NOT_NULL_FATAL(srv->s);
}

/* Writes pattern bytes [from, to) through the stream's sink in pieces
 * of 1..max bytes. */
static void
write_pattern(struct sg_io_stream *s, size_t from, size_t to, size_t max)
{
	unsigned char buf[4096];
	size_t i = from;

	while (i < to) {
		size_t n = SG_MIN(to - i, 1 + (i * 7919u) % max);

		n = SG_MIN(n, sizeof(buf));
		for (size_t k = 0; k < n; k++)
			buf[k] = pattern(i + k);
		sg_sink_write(sg_io_out(s), buf, n);
		i += n;
	}
	CU_ASSERT_EQUAL(sg_io_out(s)->err, 0);
}

/* ---- tests ---- */

static void
test_echo(void)
{
	struct end cli = { 0 }, srv = { .echo = true };
	struct sg_io_listener *l;
	struct want w = { &cli, 1 << 20 };
	struct sockaddr_in la, pa;
	struct sg_io_stats st;

	pair_open(NULL, NULL, 8191);
	l = listen_b();
	connect_ab(&cli, &srv);
	sg_io_stream_addrs(cli.s, &la, &pa);
	CU_ASSERT_EQUAL(la.sin_addr.s_addr, A_IP);
	CU_ASSERT_EQUAL(pa.sin_addr.s_addr, B_IP);
	CU_ASSERT_EQUAL(pa.sin_port, PORT_ECHO);
	CU_ASSERT_NOT_EQUAL(la.sin_port, 0);
	sg_io_stream_addrs(srv.s, &la, &pa);
	CU_ASSERT_EQUAL(la.sin_addr.s_addr, B_IP);
	CU_ASSERT_EQUAL(pa.sin_addr.s_addr, A_IP);

	/* 1 MiB in pieces, a new batch every step as the proxy would */
	for (size_t off = 0; off < w.n;) {
		size_t n = SG_MIN((size_t)16384, w.n - off);

		write_pattern(cli.s, off, off + n, 3000);
		off += n;
		step();
	}
	CU_ASSERT_TRUE(run_until(has_bytes, &w, 5000));
	CU_ASSERT_EQUAL(cli.received, w.n);
	CU_ASSERT_EQUAL(srv.received, w.n);
	CU_ASSERT_EQUAL(cli.bad, 0);
	CU_ASSERT_EQUAL(srv.bad, 0);
	sg_io_worker_stats(A.w, &st);
	CU_ASSERT_EQUAL(st.bytes_out, w.n);
	CU_ASSERT_EQUAL(st.bytes_in, w.n);
	CU_ASSERT_EQUAL(st.connects, 1);
	CU_ASSERT_EQUAL(st.streams, 1);
	sg_io_worker_stats(B.w, &st);
	CU_ASSERT_EQUAL(st.accepted, 1);
	CU_ASSERT_EQUAL(wire.dropped, 0);

	/* client closes: the server sees an orderly end */
	sg_io_close(cli.s);
	CU_ASSERT_TRUE(run_until(is_closed, &srv, 3000));
	CU_ASSERT_EQUAL(srv.close_status, 0);
	CU_ASSERT_FALSE(cli.closed);	/* no callbacks after sg_io_close */
	sg_io_listener_close(l);
	pair_close();
}

static void
test_lossy_link(void)
{
	struct end cli = { 0 }, srv = { .echo = true };
	struct want w = { &cli, 512 * 1024 };
	struct sg_tcp_stats ts;

	pair_open(NULL, NULL, 8191);
	listen_b();
	connect_ab(&cli, &srv);
	wire.drop_every = 23;
	write_pattern(cli.s, 0, w.n, 1500);
	CU_ASSERT_TRUE(run_until(has_bytes, &w, 20000));
	CU_ASSERT_EQUAL(cli.received, w.n);
	CU_ASSERT_EQUAL(cli.bad, 0);
	CU_ASSERT_EQUAL(srv.bad, 0);
	CU_ASSERT(wire.dropped > 0);
	run_for(5);	/* both stacks publish their counters (1 ms) */
	CU_ASSERT_EQUAL(sg_tcp_stats_total(&ts), 2);
	CU_ASSERT(ts.retransmits > 0);
	CU_ASSERT_EQUAL(ts.active_opens, 1);
	CU_ASSERT_EQUAL(ts.passive_opens, 1);
	CU_ASSERT_EQUAL(ts.conns_by_state[SG_TCP_ESTABLISHED], 2);
	printf("(%llu of %llu frames dropped, %llu retransmits) ",
	       (unsigned long long)wire.dropped, (unsigned long long)wire.frames,
	       (unsigned long long)ts.retransmits);
	pair_close();
}

/* Output queued behind a full send buffer still leaves on close. */
static void
test_close_drains_output(void)
{
	struct end cli = { 0 }, srv = { 0 };
	struct want w = { &srv, 2 << 20 };
	struct sg_io_stats st;

	pair_open(NULL, NULL, 8191);
	listen_b();
	connect_ab(&cli, &srv);
	write_pattern(cli.s, 0, w.n, 4096);
	step();
	/* TCP took at most its send buffer; the rest waits in lib/io */
	sg_io_worker_stats(A.w, &st);
	CU_ASSERT(st.bytes_out <= 256 * 1024);
	CU_ASSERT(sg_io_backlog(cli.s) >= w.n - 256 * 1024);
	sg_io_close(cli.s);
	CU_ASSERT_TRUE(run_until(is_closed, &srv, 10000));
	CU_ASSERT_EQUAL(srv.close_status, 0);
	CU_ASSERT_EQUAL(srv.received, w.n);
	CU_ASSERT_EQUAL(srv.bad, 0);
	pair_close();
}

/* The peer's FIN is closed(0), after every byte that preceded it. */
static void
test_peer_eof(void)
{
	struct end cli = { 0 }, srv = { 0 };

	pair_open(NULL, NULL, 8191);
	listen_b();
	connect_ab(&cli, &srv);
	write_pattern(srv.s, 0, 100000, 999);
	sg_io_close(srv.s);
	CU_ASSERT_TRUE(run_until(is_closed, &cli, 3000));
	CU_ASSERT_EQUAL(cli.close_status, 0);
	CU_ASSERT_EQUAL(cli.received, 100000);
	CU_ASSERT_EQUAL(cli.bad, 0);
	pair_close();
}

static void
test_abort_resets_peer(void)
{
	struct end cli = { 0 }, srv = { 0 };

	pair_open(NULL, NULL, 8191);
	listen_b();
	connect_ab(&cli, &srv);
	write_pattern(cli.s, 0, 300000, 4096);	/* dropped by the abort */
	sg_io_abort(cli.s);
	CU_ASSERT_TRUE(run_until(is_closed, &srv, 3000));
	CU_ASSERT_EQUAL(srv.close_status, -ECONNRESET);
	CU_ASSERT(srv.received < 300000);
	pair_close();
}

static void
test_connect_refused(void)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = PORT_NONE };
	struct end cli = { 0 };
	struct sg_io_stats st;

	pair_open(NULL, NULL, 8191);
	dst.sin_addr.s_addr = B_IP;
	CU_ASSERT_EQUAL(sg_io_connect(A.w, &dst, &end_cbs, &cli, &cli.s), 0);
	CU_ASSERT_TRUE(run_until(is_connected, &cli, 3000));
	CU_ASSERT_EQUAL(cli.connected, -ECONNREFUSED);
	sg_io_worker_stats(A.w, &st);
	CU_ASSERT_EQUAL(st.connect_failures, 1);
	CU_ASSERT_EQUAL(st.streams, 0);
	pair_close();
}

static void
tweak_fast_timeout(struct sg_io_dpdk_conf *dc)
{
	dc->tcp.rto_max_ns = 40 * SG_NS_PER_MS;
	dc->tcp.data_retries = 4;
}

/* Into a black hole: retransmissions run out and the owner hears
 * -ETIMEDOUT, within the bound the settings give. */
static void
test_blackhole_times_out(void)
{
	struct end cli = { 0 }, srv = { 0 };
	uint64_t t0;

	pair_open(tweak_fast_timeout, NULL, 8191);
	listen_b();
	connect_ab(&cli, &srv);
	wire.blackhole = true;
	t0 = sg_clock_ns();
	write_pattern(cli.s, 0, 10000, 1000);
	CU_ASSERT_TRUE(run_until(is_closed, &cli, 3000));
	CU_ASSERT_EQUAL(cli.close_status, -ETIMEDOUT);
	/* 4 retries, RTO 50 ms capped at 40 ms: well under a second */
	CU_ASSERT(cli.closed_at_ns - t0 < SG_NS_PER_S);
	CU_ASSERT_FALSE(srv.closed);
	/* the link heals: the server's next segment meets a RST */
	wire.blackhole = false;
	write_pattern(srv.s, 0, 10, 10);
	CU_ASSERT_TRUE(run_until(is_closed, &srv, 3000));
	CU_ASSERT_EQUAL(srv.close_status, -ECONNRESET);
	pair_close();
}

/*
 * pause_read: B stops reading, TCP's window closes on it, A's TCP takes
 * no more than its send buffer and the rest waits in A's io queue; A's
 * writable() fires once B resumes and the queue drains.
 */
static void
test_pause_closes_window(void)
{
	struct end cli = { 0 }, srv = { .pause_on_data = true };
	struct want w = { &srv, 3 << 20 };
	struct sg_io_stats st;
	size_t held;

	pair_open(NULL, NULL, 8191);
	listen_b();
	connect_ab(&cli, &srv);
	sg_io_set_watermarks(cli.s, 64 * 1024, 1 << 20);
	write_pattern(cli.s, 0, w.n, 4096);
	run_for(300);
	/* only the first delivery reached the owner */
	held = srv.received;
	CU_ASSERT(held > 0 && held < 64 * 1024);
	sg_io_worker_stats(A.w, &st);
	/* B holds at most its receive memory, A's TCP its send buffer */
	CU_ASSERT(st.bytes_out <= held + 2 * 256 * 1024 + 256 * 1024);
	CU_ASSERT(sg_io_backlog(cli.s) >= w.n - st.bytes_out);
	CU_ASSERT(sg_io_backlog(cli.s) > (1 << 20));
	CU_ASSERT_EQUAL(cli.writable, 0);
	run_for(100);
	CU_ASSERT_EQUAL(srv.received, held);	/* nothing while paused */

	srv.pause_on_data = false;
	sg_io_pause_read(srv.s, false);
	CU_ASSERT_TRUE(run_until(has_bytes, &w, 10000));
	CU_ASSERT_EQUAL(srv.received, w.n);
	CU_ASSERT_EQUAL(srv.bad, 0);
	CU_ASSERT_EQUAL(sg_io_backlog(cli.s), 0);
	CU_ASSERT_EQUAL(cli.writable, 1);
	pair_close();
}

/*
 * Many small flushes to a peer that reads nothing: the bytes are copied
 * and coalesced in TCP's queue, so the mbufs pinned stay few (one mbuf
 * per reply would be 4000 here).
 */
static void
test_small_writes_coalesce(void)
{
	struct end cli = { 0 }, srv = { .pause_on_data = true };
	unsigned base, used;
	size_t total = 0;

	pair_open(NULL, NULL, 8191);
	listen_b();
	connect_ab(&cli, &srv);
	write_pattern(cli.s, 0, 10, 10);
	run_for(50);	/* srv paused at its first data */
	CU_ASSERT_EQUAL(srv.received, 10);
	total = 10;
	base = rte_mempool_in_use_count(A.pool);
	for (int i = 0; i < 4000; i++) {
		write_pattern(cli.s, total, total + 64, 64);
		total += 64;
		step();
	}
	run_for(100);
	used = rte_mempool_in_use_count(A.pool) - base;
	/* what B does not hold stays with A, coalesced: within the bound
	 * sg_io.h promises (twice snd_buf of mbuf room) */
	CU_ASSERT(used < 2 * 256 * 1024 / RTE_MBUF_DEFAULT_BUF_SIZE + 16);
	printf("(%u mbufs for %zu bytes) ", used, total);
	srv.pause_on_data = false;
	sg_io_pause_read(srv.s, false);
	{
		struct want w = { &srv, total };

		CU_ASSERT_TRUE(run_until(has_bytes, &w, 5000));
	}
	CU_ASSERT_EQUAL(srv.received, total);
	CU_ASSERT_EQUAL(srv.bad, 0);
	pair_close();
}

/* An empty pool delays output; it is not an error. */
static void
test_pool_exhaustion_retries(void)
{
	struct end cli = { 0 }, srv = { 0 };
	struct want w = { &srv, 200000 };
	struct rte_mbuf *hoard[8192];
	unsigned n = 0;

	pair_open(NULL, NULL, 4095);
	listen_b();
	connect_ab(&cli, &srv);
	write_pattern(cli.s, 0, 1000, 100);	/* small: copied into TCP */
	while (n < RTE_DIM(hoard) && (hoard[n] = rte_pktmbuf_alloc(A.pool)) != NULL)
		n++;
	run_for(50);
	CU_ASSERT(srv.received < 1000);
	CU_ASSERT(sg_io_backlog(cli.s) > 0);
	rte_pktmbuf_free_bulk(hoard, n);
	write_pattern(cli.s, 1000, w.n, 100);
	CU_ASSERT_TRUE(run_until(has_bytes, &w, 5000));
	CU_ASSERT_EQUAL(srv.received, w.n);
	CU_ASSERT_EQUAL(srv.bad, 0);
	CU_ASSERT_FALSE(cli.closed);
	pair_close();
}

static void
test_listen_errors(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = PORT_ECHO };
	struct sg_io_listener *l = NULL;
	struct sg_io_worker_conf wc = { .mode = SG_IO_DPDK };

	pair_open(NULL, NULL, 2047);
	a.sin_addr.s_addr = A_IP;	/* not B's address */
	CU_ASSERT_EQUAL(sg_io_listen(B.w, &a, 16, on_accept, NULL, &l), -EADDRNOTAVAIL);
	a.sin_addr.s_addr = B_IP;
	a.sin_port = 0;
	CU_ASSERT_EQUAL(sg_io_listen(B.w, &a, 16, on_accept, NULL, &l), -EINVAL);
	a.sin_port = PORT_ECHO;
	CU_ASSERT_EQUAL(sg_io_listen(B.w, &a, 16, on_accept, NULL, &l), 0);
	CU_ASSERT_EQUAL(sg_io_listen(B.w, &a, 16, on_accept, NULL, &l), -EADDRINUSE);
	/* no DPDK conf, and a second worker for the same net worker */
	wc.pool = B.pool;
	CU_ASSERT_PTR_NULL(sg_io_worker_create(&wc));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	wc.dpdk = &B.dc;
	CU_ASSERT_PTR_NULL(sg_io_worker_create(&wc));
	CU_ASSERT_EQUAL(rte_errno, EEXIST);
	pair_close();
}

/* Accepted streams beyond max_streams are refused with a RST; a
 * connect beyond it fails at once. */
static void
test_max_streams(void)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = PORT_ECHO };
	struct end cli[9], srv[9];
	struct sg_io_stream *extra;
	unsigned refused = 0, ok = 0;

	memset(cli, 0, sizeof(cli));
	memset(srv, 0, sizeof(srv));
	b_max_streams = 4;
	pair_open(NULL, NULL, 8191);
	b_max_streams = 8;
	listen_b();
	dst.sin_addr.s_addr = B_IP;
	accepted = 0;
	for (int i = 0; i < 6; i++) {
		next_server = &srv[i];
		CU_ASSERT_EQUAL_FATAL(sg_io_connect(A.w, &dst, &end_cbs, &cli[i],
						    &cli[i].s), 0);
		CU_ASSERT_TRUE(run_until(is_connected, &cli[i], 3000));
		run_for(20);
	}
	for (int i = 0; i < 6; i++) {
		ok += cli[i].connected == 1 && !cli[i].closed;
		refused += cli[i].closed && cli[i].close_status == -ECONNRESET;
	}
	CU_ASSERT_EQUAL(accepted, 4);
	CU_ASSERT_EQUAL(ok, 4);
	CU_ASSERT_EQUAL(refused, 2);
	/* A holds 4 streams; 4 more connecting make its 8 */
	for (int i = 6; i < 9; i++)
		CU_ASSERT_EQUAL(sg_io_connect(A.w, &dst, &end_cbs, &cli[i], &cli[i].s), 0);
	CU_ASSERT_EQUAL(sg_io_connect(A.w, &dst, &end_cbs, &cli[0], &extra), 0);
	CU_ASSERT_EQUAL(sg_io_connect(A.w, &dst, &end_cbs, &cli[0], &extra), -EMFILE);
	pair_close();
}

static const struct sg_unit_test io_dpdk_tests[] = {
	{ "1 MiB echo, addresses, orderly close", test_echo },
	{ "echo over a link dropping 1 frame in 23", test_lossy_link },
	{ "close drains output queued behind snd_buf", test_close_drains_output },
	{ "peer FIN is closed(0) after its data", test_peer_eof },
	{ "abort resets the peer", test_abort_resets_peer },
	{ "connect to a closed port is refused", test_connect_refused },
	{ "black hole: -ETIMEDOUT in time, then RST", test_blackhole_times_out },
	{ "pause_read closes the window; writable after", test_pause_closes_window },
	{ "small writes coalesce for a stalled reader", test_small_writes_coalesce },
	{ "an empty pool delays output, no error", test_pool_exhaustion_retries },
	{ "listen and create errors", test_listen_errors },
	{ "max_streams bounds accepted and connected", test_max_streams },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	static const struct sg_unit_suite suites[] = { { "io-dpdk", io_dpdk_tests } };
	char prefix[64];
	char *eal[] = { argv[0], "--no-huge", "-m", "512", "--no-pci",
			"--no-shconf", "--log-level=3", prefix, NULL };
	int rc;

	(void)argc;
	snprintf(prefix, sizeof(prefix), "--file-prefix=sgiod%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	rc = sg_unit_run(suites, 1);
	rte_eal_cleanup();
	return rc;
}
