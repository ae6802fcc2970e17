/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Client sessions: reading and parsing requests, keeping replies in
 * request order, backpressure, and tearing down (see the picture in
 * proxy_internal.h).
 *
 * Backpressure, two triggers, one remedy (stop reading the client):
 *  - its pending output passes limits.output_pause: resumes when the
 *    output drains to half of it (the stream's writable() callback);
 *  - it has SESSION_MAX_PENDING requests unanswered: resumes when half
 *    are answered.
 * Output past limits.output_limit closes the client (counted).
 */
#include <stdlib.h>

#include "proxy_internal.h"

#define SESSION_MAX_PENDING 4096

static void session_destroy(struct session *sess);
static void session_parse(struct session *sess);

static void
session_pause(struct session *sess, bool pause)
{
	if (sess->paused == pause || sess->dead)
		return;
	sess->paused = pause;
	sg_io_pause_read(sess->s, pause);
}

/* Output is over the pause mark, or too many requests wait. */
static bool
session_should_pause(const struct session *sess)
{
	const struct sg_config *cfg = sess->w->cfg;

	return sess->nfifo >= SESSION_MAX_PENDING ||
	       (cfg->limits.output_pause > 0 &&
		sg_io_backlog(sess->s) > cfg->limits.output_pause);
}

static bool
session_may_resume(const struct session *sess)
{
	const struct sg_config *cfg = sess->w->cfg;

	return sess->nfifo <= SESSION_MAX_PENDING / 2 &&
	       (cfg->limits.output_pause == 0 ||
		sg_io_backlog(sess->s) <= cfg->limits.output_pause / 2);
}

static void
record_latency(struct sg_proxy_worker *w, const struct req *r)
{
	uint64_t now = w->now_ns;

	sg_telemetry_hist_record(&w->tm->latency[r->cls],
				 now > r->start_ns ? now - r->start_ns : 0);
}

/*
 * Writes every DONE request at the head of the fifo to the client, then
 * applies the output limits and closes a closing session once drained.
 */
void
session_complete(struct session *sess)
{
	struct sg_proxy_worker *w = sess->w;
	const struct sg_config *cfg = w->cfg;
	struct req *r;

	if (sess->dead)
		return;
	while ((r = TAILQ_FIRST(&sess->fifo)) != NULL && r->state == RQ_DONE) {
		struct sg_sink *out = sg_io_out(sess->s);

		sg_sink_write(out, r->reply.data, r->reply.len);
		sg_tm_add(w->tm, SG_TM_bytes_out, r->reply.len);
		TAILQ_REMOVE(&sess->fifo, r, sess_link);
		sess->nfifo--;
		record_latency(w, r);
		req_free(w, r);
	}
	if (sg_io_out(sess->s)->err != 0 ||
	    (cfg->limits.output_limit > 0 &&
	     sg_io_backlog(sess->s) > cfg->limits.output_limit)) {
		/* out of buffers, or a client that does not read */
		sg_tm_inc(w->tm, SG_TM_errors_output_limit);
		sg_io_abort(sess->s);
		session_destroy(sess);
		return;
	}
	if (sess->closing && sess->nfifo == 0) {
		sg_io_close(sess->s);
		session_destroy(sess);
		return;
	}
	if (!sess->paused && session_should_pause(sess))
		session_pause(sess, true);
	else if (sess->paused && !sess->closing && session_may_resume(sess) &&
		 !sess->in_callback) {
		session_pause(sess, false);
		session_parse(sess);
	}
}

/* A top-level request whose reply sits in r->reply is done. */
void
session_reply_ready(struct sg_proxy_worker *w, struct req *r)
{
	struct session *sess = r->sess;

	r->state = RQ_DONE;
	if (sess == NULL) {
		req_free(w, r);
		return;
	}
	if (TAILQ_FIRST(&sess->fifo) == r)
		session_complete(sess);
}

/*
 * The reply of top-level request r is the first `size` bytes of `in`.
 * At the head of its client's fifo it goes straight to the client (one
 * copy); otherwise it waits in r->reply.
 */
void
session_deliver(struct sg_proxy_worker *w, struct req *r, const struct inbuf *in,
		uint64_t size)
{
	struct session *sess = r->sess;

	if (sess == NULL) {
		req_free(w, r);
		return;
	}
	if (TAILQ_FIRST(&sess->fifo) == r) {
		inbuf_to_sink(in, 0, size, sg_io_out(sess->s));
		sg_tm_add(w->tm, SG_TM_bytes_out, size);
		TAILQ_REMOVE(&sess->fifo, r, sess_link);
		sess->nfifo--;
		record_latency(w, r);
		req_free(w, r);
		session_complete(sess);
		return;
	}
	r->reply.len = 0;
	if (inbuf_to_membuf(in, 0, size, &r->reply) != 0) {
		static const char oom[] = "-ERR shardgate: out of memory buffering a reply\r\n";

		r->reply.len = 0;
		sg_membuf_append(&r->reply, oom, sizeof(oom) - 1);
	}
	r->state = RQ_DONE;
}

/*
 * Where a local answer goes: straight to the client when nothing is
 * pending before it, else into a LOCAL request queued in order.
 */
/* The sink of the LOCAL request being written (one at a time per thread). */
static __thread struct sg_sink local_sink;

struct sg_sink *
session_local_sink(struct session *sess, struct req **rp)
{
	struct req *r;

	*rp = NULL;
	if (TAILQ_EMPTY(&sess->fifo))
		return sg_io_out(sess->s);
	r = req_new(sess->w, REQ_LOCAL);
	if (r == NULL) {
		/* answer in place: order may suffer, the client is told */
		return sg_io_out(sess->s);
	}
	r->sess = sess;
	TAILQ_INSERT_TAIL(&sess->fifo, r, sess_link);
	sess->nfifo++;
	sg_membuf_sink(&r->reply, &local_sink);
	*rp = r;
	return &local_sink;
}

void
session_local_done(struct session *sess, struct req *r)
{
	sg_tm_inc(sess->w->tm, SG_TM_commands_local);
	if (r == NULL)
		return;
	sg_membuf_sink_done(&r->reply, &local_sink);
	r->state = RQ_DONE;
	if (TAILQ_FIRST(&sess->fifo) == r)
		session_complete(sess);
}

static void
session_parse(struct session *sess)
{
	struct sg_proxy_worker *w = sess->w;

	sess->in_callback = true;
	while (!sess->closing && !sess->paused && !sess->dead && !w->draining) {
		const struct sg_resp_request *rq = NULL;
		const char *p;
		size_t len;
		ssize_t n;

		if (!inbuf_chunk(&sess->in, &p, &len))
			break;
		n = sg_resp_parse(&sess->parser, p, len, &rq);
		if (n < 0) {
			const char *msg = sg_resp_parser_error(&sess->parser);

			sg_tm_inc(w->tm, SG_TM_errors_protocol);
			local_error(sess, "%s", msg != NULL ? msg : "ERR Protocol error");
			sess->closing = true;
			break;
		}
		inbuf_fed(&sess->in, (size_t)n);
		if (rq == NULL)
			continue;
		inbuf_consume(&sess->in, rq->lead);
		sg_tm_inc(w->tm, SG_TM_commands);
		route_request(sess, rq);
		if (sess->dead)
			break;
		inbuf_consume(&sess->in, rq->size);
		if (session_should_pause(sess)) {
			session_pause(sess, true);
			break;
		}
	}
	sess->in_callback = false;
	if (sess->dead) {
		/* destroyed while we were using it: the memory goes now */
		free(sess);
		return;
	}
	session_complete(sess);
}

/* ---- stream callbacks ---- */

static void
on_data(struct sg_io_stream *s, void *arg, struct rte_mbuf *m)
{
	struct session *sess = arg;

	sess->w->now_ns = sg_io_worker_now(sess->w->io);
	sess->last_active_ns = sess->w->now_ns;
	sg_tm_add(sess->w->tm, SG_TM_bytes_in, rte_pktmbuf_pkt_len(m));
	inbuf_append(&sess->in, m);
	session_parse(sess);
}

static void
on_writable(struct sg_io_stream *s, void *arg)
{
	session_complete(arg);
}

static void
on_closed(struct sg_io_stream *s, void *arg, int status)
{
	struct session *sess = arg;

	sess->s = NULL;
	session_destroy(sess);
}

static const struct sg_io_stream_cbs session_cbs = {
	.data = on_data,
	.writable = on_writable,
	.closed = on_closed,
};

/* ---- life cycle ---- */

void
session_accept(struct sg_io_listener *l, void *arg, struct sg_io_stream *s)
{
	const struct listen_ctx *lc = arg;
	const struct sg_config_listen *listen = lc->listen;
	struct sg_proxy_worker *w = lc->w;
	struct sg_proxy *p = w->p;
	struct session *sess;

	if (w->draining ||
	    atomic_load_explicit(&p->clients, memory_order_relaxed) >=
		    w->cfg->limits.max_clients) {
		sg_tm_inc(w->tm, SG_TM_clients_refused);
		sg_io_abort(s);
		return;
	}
	sess = calloc(1, sizeof(*sess));
	if (sess == NULL) {
		sg_io_abort(s);
		return;
	}
	atomic_fetch_add_explicit(&p->clients, 1, memory_order_relaxed);
	sess->w = w;
	sess->s = s;
	sess->listen = listen;
	sess->proto = 2;
	sess->id = atomic_fetch_add_explicit(&p->next_client_id, 1, memory_order_relaxed);
	sess->created_ns = w->now_ns;
	sess->last_active_ns = w->now_ns;
	TAILQ_INIT(&sess->fifo);
	sg_resp_parser_init(&sess->parser, &p->limits);
	sess->parser.authenticated = w->cfg->n_users == 0;
	sg_io_stream_addrs(s, &sess->local, &sess->peer);
	sg_io_set_watermarks(s, w->cfg->limits.output_pause / 2,
			     w->cfg->limits.output_pause);
	sg_io_stream_set_cbs(s, &session_cbs, sess);
	TAILQ_INSERT_TAIL(&w->sessions, sess, link);
	w->nsessions++;
	sg_tm_inc(w->tm, SG_TM_clients_accepted);
	sg_tm_gauge_add(w->tm, SG_TM_G_clients, 1);
}

/* Detaches what a request of a dead session leaves behind. */
static void
orphan(struct sg_proxy_worker *w, struct req *r)
{
	switch (r->state) {
	case RQ_SENT:
	case RQ_WAITING:
	case RQ_GATHER:
		r->sess = NULL;	/* freed when its reply (or last answer) comes */
		return;
	case RQ_PARKED:
		TAILQ_REMOVE(&w->parked, r, link);
		w->nparked--;
		w->parked_bytes -= r->wire.len;
		sg_tm_gauge_add(w->tm, SG_TM_G_parked_now, -1);
		break;
	default:
		break;
	}
	if (r->kind == REQ_PARENT) {
		for (uint32_t i = 0; i < r->nparts; i++) {
			struct req *part = r->parts[i];

			if (part == NULL)
				continue;
			if (part->state == RQ_SENT || part->state == RQ_WAITING)
				continue; /* stays, finds its parent orphaned */
			if (part->state == RQ_PARKED) {
				TAILQ_REMOVE(&w->parked, part, link);
				w->nparked--;
				w->parked_bytes -= part->wire.len;
				sg_tm_gauge_add(w->tm, SG_TM_G_parked_now, -1);
			}
			r->parts[i] = NULL;
			if (part->state != RQ_DONE)
				r->parts_left--;
			req_free(w, part);
		}
		if (r->parts_left > 0) {
			r->sess = NULL; /* the last part frees it */
			return;
		}
	}
	req_free(w, r);
}

static void
session_destroy(struct session *sess)
{
	struct sg_proxy_worker *w = sess->w;
	struct req *r;

	if (sess->dead)
		return;
	sess->dead = true;
	while ((r = TAILQ_FIRST(&sess->fifo)) != NULL) {
		TAILQ_REMOVE(&sess->fifo, r, sess_link);
		orphan(w, r);
	}
	inbuf_free(&sess->in);
	sg_resp_parser_free(&sess->parser);
	free(sess->name);
	free(sess->lib_name);
	free(sess->lib_ver);
	TAILQ_REMOVE(&w->sessions, sess, link);
	w->nsessions--;
	atomic_fetch_sub_explicit(&w->p->clients, 1, memory_order_relaxed);
	sg_tm_inc(w->tm, SG_TM_clients_closed);
	sg_tm_gauge_add(w->tm, SG_TM_G_clients, -1);
	/* inside session_parse() the caller still holds it: it frees */
	if (!sess->in_callback)
		free(sess);
}

/* The worker's buffers ran low and this client holds the most input. */
void
session_shed(struct session *sess)
{
	static const char msg[] = "-ERR shardgate: request too large for the proxy's "
				  "buffers (raise io.mbufs or io.mbuf_size)\r\n";

	inbuf_free(&sess->in);
	sg_sink_write(sg_io_out(sess->s), msg, sizeof(msg) - 1);
	sg_io_close(sess->s);
	session_destroy(sess);
}

/* limits.idle_timeout: a client silent that long with nothing pending */
void
session_close_idle(struct session *sess)
{
	sg_io_close(sess->s);
	session_destroy(sess);
}

/*
 * Shutdown: sessions with nothing pending close now (their output
 * flushed); with `force`, every session closes.
 */
void
session_drain_all(struct sg_proxy_worker *w, bool force)
{
	struct session *sess, *next;

	for (sess = TAILQ_FIRST(&w->sessions); sess != NULL; sess = next) {
		next = TAILQ_NEXT(sess, link);
		if (force || sess->nfifo == 0) {
			sg_io_close(sess->s);
			session_destroy(sess);
		}
	}
}
