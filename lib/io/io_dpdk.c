/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DPDK transport: lib/tcp over lib/net, one net worker and one TCP
 * stack per io worker, both created on the worker's lcore.
 *
 *   sg_io_worker_poll
 *     sg_net_worker_poll --> IPv4 --> sg_tcp_input --> conn callbacks:
 *        accept    -> new stream (OPEN), the listener's accept cb
 *        connected -> io_stream_connected(status)
 *        data      -> the stream's data cb (the payload mbufs, no copy)
 *        eof       -> closed(0), as a read of 0 is in kernel mode
 *        writable  -> back on the flush list (TCP made room)
 *        closed    -> closed(-ECONNRESET / -ETIMEDOUT / 0)
 *     sg_tcp_stack_timers, sg_net_worker_timer
 *     idle: short sleeps growing with the idle time (sg_io.h)
 *
 *   sg_io_worker_flush
 *     per stream: output queue (conf.tx_pool) --> TCP send queue, whose
 *     own mbufs and segments come from conf.tx_pool too, within snd_buf:
 *        an mbuf at least half full moves (sg_tcp_send, no copy);
 *        the bytes of an emptier one are copied (sg_tcp_write), which
 *        coalesces small replies into TCP's tail mbuf;
 *        what does not fit stays queued until TCP's writable() (its
 *        backlog fell to half of snd_buf);
 *        an empty pool puts the stream on the retry list (next poll)
 *     then once: sg_tcp_stack_flush (segments, ACKs) and
 *        sg_net_worker_flush (tx burst)
 *
 * Moving only well-filled mbufs bounds the memory a peer that stops
 * reading can pin: at most twice snd_buf of mbuf room in TCP's queue,
 * plus the stream's own backlog (which the owner bounds with
 * watermarks and pause_read).
 *
 * Lifetimes: a stream and its TCP connection point at each other. The
 * link is cut (s->tconn = NULL) before the stream learns that the
 * connection died (closed, failed connect), and release() cuts it and
 * closes or aborts the connection, after which TCP calls nothing back.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include "sg_net.h"
#include "sg_tcp.h"
#include "io_internal.h"

/* Right after traffic, poll without sleeping for this long. */
#define IDLE_SPIN_NS (50 * SG_NS_PER_US)
/* Sleeps are at most this share (1/8) of the idle time so far. */
#define IDLE_SLEEP_SHIFT 3
/* Shortest sleep worth a system call. */
#define IDLE_SLEEP_MIN_NS (10 * SG_NS_PER_US)

struct dpdk_worker {
	struct sg_net_port *port;
	struct sg_net_worker *net;
	struct sg_tcp_stack *tcp;
	struct rte_mempool *rx_pool;
	uint32_t ip;			/* network order */
	uint32_t syn_backlog;
	uint32_t wm;			/* TCP watermark: half of snd_buf */
	uint64_t last_busy_ns;
	struct io_stream_list retry;	/* output waiting for mbufs */
};

static struct dpdk_worker *
dw(const struct sg_io_worker *w)
{
	return w->tw;
}

/* ---- glue to lib/net ---- */

static int
ip_output(void *ctx, struct rte_mbuf *m, uint32_t src, uint32_t dst)
{
	return sg_net_ip_output(ctx, m, src, dst);
}

static bool
port_owned(void *ctx, uint32_t lip, uint16_t lport, uint32_t rip,
	   uint16_t rport)
{
	return sg_net_port_owned(ctx, lip, lport, rip, rport);
}

static void
tcp_input(void *ctx, struct rte_mbuf *m, uint32_t src, uint32_t dst)
{
	sg_tcp_input(ctx, m, src, dst);
}

/* ---- streams and connections ---- */

static void
retry_remove(struct sg_io_stream *s)
{
	if (s->in_retry) {
		TAILQ_REMOVE(&dw(s->w)->retry, s, retry_link);
		s->in_retry = false;
	}
}

static void
retry_add(struct sg_io_stream *s)
{
	if (!s->in_retry) {
		TAILQ_INSERT_TAIL(&dw(s->w)->retry, s, retry_link);
		s->in_retry = true;
	}
}

static void
conn_addrs(struct sg_io_stream *s, struct sg_tcp_conn *c)
{
	uint32_t lip, rip;
	uint16_t lport, rport;

	sg_tcp_conn_addrs(c, &lip, &lport, &rip, &rport);
	s->local.sin_family = AF_INET;
	s->local.sin_addr.s_addr = lip;
	s->local.sin_port = lport;
	s->peer.sin_family = AF_INET;
	s->peer.sin_addr.s_addr = rip;
	s->peer.sin_port = rport;
}

static void
conn_connected(struct sg_tcp_conn *c, void *arg, int status)
{
	struct sg_io_stream *s = arg;

	if (status != 0) {
		s->tconn = NULL;	/* TCP has freed it */
		retry_remove(s);
		io_stream_connected(s, status);
		return;
	}
	conn_addrs(s, c);
	io_stream_connected(s, 0);
}

static void
conn_data(struct sg_tcp_conn *c, void *arg, struct rte_mbuf *m)
{
	struct sg_io_stream *s = arg;
	struct sg_io_worker *w = s->w;

	RTE_SET_USED(c);
	if (s->state == IO_DEAD || s->owner_gone || s->cbs == NULL ||
	    s->cbs->data == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	w->stats.reads++;
	w->stats.bytes_in += m->pkt_len;
	s->cbs->data(s, s->arg, m);
}

static void
conn_eof(struct sg_tcp_conn *c, void *arg)
{
	struct sg_io_stream *s = arg;

	RTE_SET_USED(c);
	/* A closing stream only drains its output, as in kernel mode. */
	if (s->state == IO_CLOSING)
		return;
	io_stream_closed(s, 0);
}

static void
conn_writable(struct sg_tcp_conn *c, void *arg)
{
	struct sg_io_stream *s = arg;

	RTE_SET_USED(c);
	if (s->backlog > 0 || s->sink_on_tail)
		io_mark_flush(s);
}

static void
conn_closed(struct sg_tcp_conn *c, void *arg, int status)
{
	struct sg_io_stream *s = arg;

	RTE_SET_USED(c);
	s->tconn = NULL;		/* TCP frees it when we return */
	retry_remove(s);
	io_stream_closed(s, status);
}

static const struct sg_tcp_conn_cbs conn_cbs = {
	.connected = conn_connected,
	.data = conn_data,
	.eof = conn_eof,
	.writable = conn_writable,
	.closed = conn_closed,
};

static void
attach(struct sg_io_stream *s, struct sg_tcp_conn *c)
{
	s->tconn = c;
	sg_tcp_conn_set_cbs(c, &conn_cbs, s);
	/* writable() when TCP's backlog falls back to half its buffer after
	 * passing half: the moment to refill it from our queue. */
	sg_tcp_set_watermarks(c, dw(s->w)->wm, dw(s->w)->wm);
	conn_addrs(s, c);
}

static void
tcp_accept(struct sg_tcp_listener *tl, void *arg, struct sg_tcp_conn *c)
{
	struct sg_io_listener *l = arg;
	struct sg_io_worker *w = l->w;
	struct sg_io_stream *s;

	RTE_SET_USED(tl);
	s = io_stream_new(w);
	if (s == NULL) {
		/* over max_streams: refuse rather than starve the others */
		sg_tcp_abort(c);
		return;
	}
	s->state = IO_OPEN;
	attach(s, c);
	w->stats.accepted++;
	l->cb(l, l->arg, s);
	if (s->state != IO_DEAD && s->cbs == NULL)
		sg_io_close(s);
}

/* ---- the vtable ---- */

static void
dpdk_release(struct sg_io_stream *s, bool abort)
{
	struct sg_tcp_conn *c = s->tconn;

	retry_remove(s);
	if (c == NULL)
		return;
	s->tconn = NULL;
	if (abort)
		sg_tcp_abort(c);
	else
		sg_tcp_close(c);
}

static void
dpdk_pause_read(struct sg_io_stream *s, bool pause)
{
	if (s->tconn != NULL)
		sg_tcp_pause_read(s->tconn, pause);
}

/* Takes the head mbuf (holding `avail` bytes from out_off) off the
 * output queue as a one-segment packet of exactly those bytes. */
static struct rte_mbuf *
detach_head(struct sg_io_stream *s, size_t avail)
{
	struct rte_mbuf *m = s->out_head;

	if (m == s->out_tail) {
		s->out_tail = NULL;
		/* if the sink was writing into it, it starts a new mbuf */
		s->sink_on_tail = false;
		s->sink.pos = s->sink.end = NULL;
	}
	s->out_head = m->next;
	m->data_off = (uint16_t)(m->data_off + s->out_off);
	m->data_len = (uint16_t)avail;
	m->pkt_len = (uint32_t)avail;
	m->nb_segs = 1;
	m->next = NULL;
	s->out_off = 0;
	s->backlog -= avail;
	return m;
}

static int
dpdk_write(struct sg_io_stream *s)
{
	struct sg_io_worker *w = s->w;
	struct sg_tcp_conn *c = s->tconn;
	size_t room, taken = 0;
	int rc = 0;

	if (c == NULL)
		return 0;
	retry_remove(s);
	room = sg_tcp_send_space(c);
	while (s->out_head != NULL && room > 0) {
		struct rte_mbuf *m = s->out_head;
		bool sink_tail = m == s->out_tail && s->sink_on_tail;
		size_t avail = m->data_len - s->out_off;

		if (avail == 0) {
			if (sink_tail)
				break;
			io_out_consumed(s, 0);	/* frees the empty head */
			continue;
		}
		if (avail <= room && avail * 2 >= m->buf_len) {
			rc = sg_tcp_send(c, detach_head(s, avail));
			if (rc < 0)
				break;
		} else {
			rc = sg_tcp_write(c, rte_pktmbuf_mtod_offset(m, char *, s->out_off),
					  SG_MIN(avail, room));
			if (rc <= 0)
				break;
			avail = (size_t)rc;
			io_out_consumed(s, avail);
		}
		taken += avail;
		room -= avail;
	}
	if (taken > 0) {
		w->stats.writes++;
		w->stats.bytes_out += taken;
	}
	if (rc == -ENOMEM) {
		w->stats.nombuf++;
		retry_add(s);
	} else if (rc < 0) {
		/* TCP will not send any more on this connection */
		io_stream_closed(s, rc == -ENOBUFS ? -EPIPE : rc);
	}
	return taken > 0;
}

static int
dpdk_listen(struct sg_io_listener *l, int backlog)
{
	struct dpdk_worker *d = dw(l->w);
	struct sg_tcp_listener *tl;
	uint32_t ip = l->addr.sin_addr.s_addr;
	int rc;

	if (l->addr.sin_port == 0)
		return -EINVAL;
	if (ip != 0 && ip != d->ip)
		return -EADDRNOTAVAIL;
	rc = sg_tcp_listen(d->tcp, ip, l->addr.sin_port,
			   d->syn_backlog != 0 ? d->syn_backlog : (uint32_t)backlog,
			   tcp_accept, l, &tl);
	if (rc != 0)
		return rc;
	l->tlisten = tl;
	return 0;
}

static void
dpdk_listener_close(struct sg_io_listener *l)
{
	sg_tcp_listener_close(l->tlisten);
	l->tlisten = NULL;
}

static int
dpdk_connect(struct sg_io_stream *s)
{
	struct dpdk_worker *d = dw(s->w);
	struct sg_tcp_conn *c;
	int rc;

	rc = sg_tcp_connect(d->tcp, d->ip, 0, s->peer.sin_addr.s_addr,
			    s->peer.sin_port, &conn_cbs, s, &c);
	if (rc != 0) {
		/* reported by the next poll, like every connect result */
		io_stream_complete_later(s, rc);
		return 0;
	}
	attach(s, c);
	return 0;
}

static unsigned
poll_once(struct sg_io_worker *w)
{
	struct dpdk_worker *d = dw(w);
	unsigned n;

	n = sg_net_worker_poll(d->net);
	n += sg_tcp_stack_timers(d->tcp);
	sg_net_worker_timer(d->net, w->now_ns);
	return n;
}

static int
dpdk_poll(struct sg_io_worker *w, uint64_t max_wait_ns)
{
	struct dpdk_worker *d = dw(w);
	struct sg_io_stream *s;
	uint64_t idle, nap, t0;
	struct timespec ts;
	unsigned n;

	/* output that found the pool empty tries again */
	while ((s = TAILQ_FIRST(&d->retry)) != NULL) {
		retry_remove(s);
		io_mark_flush(s);
	}
	n = poll_once(w);
	if (n > 0 || !TAILQ_EMPTY(&w->flush_list)) {
		d->last_busy_ns = w->now_ns;
		return (int)n;
	}
	if (max_wait_ns == 0)
		return 0;
	idle = w->now_ns - d->last_busy_ns;
	if (idle < IDLE_SPIN_NS)
		return 0;
	nap = SG_MIN(max_wait_ns, idle >> IDLE_SLEEP_SHIFT);
	nap = sg_tcp_stack_idle_ns(d->tcp, nap);
	if (nap >= IDLE_SLEEP_MIN_NS) {
		ts.tv_sec = (time_t)(nap / SG_NS_PER_S);
		ts.tv_nsec = (long)(nap % SG_NS_PER_S);
		t0 = rte_rdtsc();
		nanosleep(&ts, NULL);
		w->stats.sleep_cycles += rte_rdtsc() - t0;
		w->now_ns = sg_clock_ns();
		n = poll_once(w);
		if (n > 0)
			d->last_busy_ns = w->now_ns;
	}
	return (int)n;
}

static void
dpdk_flush(struct sg_io_worker *w)
{
	struct dpdk_worker *d = dw(w);

	sg_tcp_stack_flush(d->tcp);
	sg_net_worker_flush(d->net);
}

/* Received data lives in the port's RX pool, not in conf.pool. */
static void
dpdk_mbufs(const struct sg_io_worker *w, unsigned *avail, unsigned *size)
{
	const struct dpdk_worker *d = dw(w);

	*avail = rte_mempool_avail_count(d->rx_pool);
	*size = d->rx_pool->size;
}

static int
dpdk_init(struct sg_io_worker *w)
{
	const struct sg_io_dpdk_conf *dc = w->conf.dpdk;
	struct sg_tcp_conf tc, def;
	struct dpdk_worker *d;
	int rc;

	if (dc == NULL || dc->port == NULL || dc->ip == 0 ||
	    w->conf.index > UINT16_MAX)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return -ENOMEM;
	TAILQ_INIT(&d->retry);
	d->port = dc->port;
	d->ip = dc->ip;
	d->syn_backlog = dc->syn_backlog;
	rc = sg_net_worker_create(dc->port, (uint16_t)w->conf.index, &d->net);
	if (rc != 0)
		goto fail;
	d->rx_pool = sg_net_worker_rx_pool(d->net);

	tc = dc->tcp;
	tc.pool = w->conf.tx_pool;	/* send buffers and segments: output */
	tc.ip_output = ip_output;
	tc.port_owned = port_owned;
	tc.ctx = d->net;
	if (tc.mss == 0)
		tc.mss = (uint16_t)(sg_net_port_mtu(dc->port) - 40);
	if (tc.rx_buf_len == 0)
		tc.rx_buf_len = rte_pktmbuf_data_room_size(d->rx_pool);
	tc.tx_cksum_offload = (sg_net_port_caps(dc->port) & SG_NET_CAP_TX_TCP_CKSUM) != 0;
	sg_tcp_conf_init(&def);
	d->wm = (tc.snd_buf != 0 ? tc.snd_buf : def.snd_buf) / 2;
	d->tcp = sg_tcp_stack_create(&tc);
	if (d->tcp == NULL) {
		rc = -rte_errno;
		goto fail;
	}
	sg_net_worker_set_tcp(d->net, tcp_input, d->tcp);
	d->last_busy_ns = w->now_ns;
	w->tw = d;
	return 0;
fail:
	sg_net_worker_destroy(d->net);
	free(d);
	return rc;
}

static void
dpdk_fini(struct sg_io_worker *w)
{
	struct dpdk_worker *d = dw(w);

	/* RSTs of the streams sg_io_worker_destroy() aborted, and any
	 * segment still pending, leave before the stack goes */
	sg_tcp_stack_flush(d->tcp);
	sg_net_worker_flush(d->net);
	sg_net_worker_set_tcp(d->net, NULL, NULL);
	sg_tcp_stack_destroy(d->tcp);
	sg_net_worker_destroy(d->net);
	free(d);
	w->tw = NULL;
}

static unsigned
dpdk_unfinished(const struct sg_io_worker *w)
{
	return sg_tcp_stack_unfinished(dw(w)->tcp);
}

static void
dpdk_abort_all(struct sg_io_worker *w)
{
	sg_tcp_stack_abort_all(dw(w)->tcp);
}

static void
dpdk_link_stats(const struct sg_io_worker *w, struct sg_io_stats *st)
{
	const struct dpdk_worker *d = dw(w);
	struct sg_net_stats ns;

	if (sg_net_worker_stats(d->port, sg_net_worker_index(d->net), &ns) != 0)
		return;
	st->rx_packets = ns.w[SG_NET_STAT_rx_pkts];
	st->rx_bytes = ns.w[SG_NET_STAT_rx_bytes];
	st->tx_packets = ns.w[SG_NET_STAT_tx_pkts];
	st->tx_bytes = ns.w[SG_NET_STAT_tx_bytes];
	st->steered_in = ns.w[SG_NET_STAT_steer_in];
	st->steered_out = ns.w[SG_NET_STAT_steer_out];
}

const struct io_transport io_dpdk_transport = {
	.name = "dpdk",
	.init = dpdk_init,
	.fini = dpdk_fini,
	.poll = dpdk_poll,
	.write = dpdk_write,
	.listen = dpdk_listen,
	.listener_close = dpdk_listener_close,
	.connect = dpdk_connect,
	.release = dpdk_release,
	.pause_read = dpdk_pause_read,
	.flush = dpdk_flush,
	.mbufs = dpdk_mbufs,
	.link_stats = dpdk_link_stats,
	.unfinished = dpdk_unfinished,
	.abort_all = dpdk_abort_all,
};

/* ---- telemetry ---- */

/* lib/net's figures that belong with TCP's in <prefix>/tcp. */
static void
tcp_extra(struct rte_tel_data *d, void *arg)
{
	struct sg_net_stats st;

	RTE_SET_USED(arg);
	if (sg_net_telemetry_stats(&st) == -ENODEV)
		return;
	rte_tel_data_add_dict_u64(d, "steered_packets", st.w[SG_NET_STAT_steer_in]);
	rte_tel_data_add_dict_u64(d, "steered_tx_frames", st.w[SG_NET_STAT_steer_tx]);
	rte_tel_data_add_dict_u64(d, "rss_checked", st.w[SG_NET_STAT_rss_checked]);
	rte_tel_data_add_dict_u64(d, "rss_mismatches", st.w[SG_NET_STAT_rss_mismatch]);
}

int
sg_io_dpdk_register_telemetry(struct sg_net_port *port, const char *prefix)
{
	int rc;

	if (port == NULL || prefix == NULL)
		return -EINVAL;
	rc = sg_net_register_telemetry(port, prefix);
	if (rc != 0)
		return rc;
	return sg_tcp_register_telemetry(prefix, tcp_extra, NULL);
}
