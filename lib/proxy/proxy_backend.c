/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Backend pools: per worker, per node, backend.connections connections
 * for each protocol (RESP2 sessions and RESP3 sessions never share one,
 * so replies need no translation). Many clients' requests are pipelined
 * on each connection; replies are framed and matched in FIFO order.
 *
 * Connection states:
 *
 *   IDLE --connect--> CONNECTING --ok--> READY --lost--> IDLE
 *                         |                               (reconnect on
 *                      failed                              the next request)
 *                         v
 *                      BACKOFF --timer (jittered, doubling)--> IDLE
 *
 * A request for a READY connection is written at once unless the batch
 * the connection sent in an earlier iteration is still unanswered: then
 * it waits (backend.batch_hold, conn_batch_open()):
 *
 *   written this iteration --flush--> in flight --last reply--> waiting
 *   requests are written together, and leave at the next flush
 *
 * On connect the handshake is pipelined ahead of any waiting request:
 * [HELLO 3] [AUTH] READONLY. READONLY on every connection lets the same
 * pool serve replica reads; primaries ignore it.
 *
 * A lost connection (issue: invisible topology changes):
 *  - requests whose bytes never left are re-sent elsewhere;
 *  - read-only requests in flight are retried;
 *  - writes in flight get an error saying the outcome is unknown.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#include "proxy_internal.h"

#define RECONNECT_MIN_NS (10 * SG_NS_PER_MS)
#define RECONNECT_MAX_NS (1000 * SG_NS_PER_MS)

static void conn_connect(struct backend_conn *c);
static void conn_write(struct backend_conn *c, struct req *r);
static void conn_drain_waiting(struct backend_conn *c);

static const struct sg_io_stream_cbs conn_cbs;

static void
reconnect_timer(struct sg_timer *t, void *arg)
{
	struct backend_conn *c = arg;

	if (c->state == BC_BACKOFF)
		c->state = BC_IDLE;
	/* Try again only if someone waits; otherwise on demand. */
	if (!TAILQ_EMPTY(&c->node->w->parked) || c->nwaiting > 0)
		conn_connect(c);
}

struct backend_node *
backend_node_get(struct sg_proxy_worker *w, uint32_t ipv4, uint16_t port)
{
	struct backend_node *n;
	char ip[INET_ADDRSTRLEN];

	TAILQ_FOREACH(n, &w->nodes, link) {
		if (n->addr.sin_addr.s_addr == ipv4 && n->addr.sin_port == htons(port))
			return n;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->w = w;
	n->addr.sin_family = AF_INET;
	n->addr.sin_addr.s_addr = ipv4;
	n->addr.sin_port = htons(port);
	inet_ntop(AF_INET, &n->addr.sin_addr, ip, sizeof(ip));
	snprintf(n->name, sizeof(n->name), "%s:%u", ip, port);
	n->nconns = SG_MIN(SG_MAX(w->cfg->backend.connections, 1u), PX_MAX_CONNS);
	for (int p = 0; p < 2; p++) {
		for (uint32_t i = 0; i < n->nconns; i++) {
			struct backend_conn *c = &n->conn[p][i];

			c->node = n;
			c->proto = (uint8_t)(p + 2);
			c->index = (uint8_t)i;
			c->state = BC_IDLE;
			TAILQ_INIT(&c->inflight);
			TAILQ_INIT(&c->waiting);
			sg_resp_framer_init(&c->framer);
			sg_timer_init(&c->timer, reconnect_timer, c);
		}
	}
	TAILQ_INSERT_TAIL(&w->nodes, n, link);
	return n;
}

/* ---- sending ---- */

static struct req *
control_req(struct sg_proxy_worker *w)
{
	return req_new(w, REQ_CONTROL);
}

/* Queues a command of the proxy's own (handshake, ASKING) on c. */
static void
conn_control(struct backend_conn *c, uint32_t argc, const struct sg_span *argv)
{
	struct sg_proxy_worker *w = c->node->w;
	struct req *r = control_req(w);
	struct sg_sink *out = sg_io_out(c->s);

	if (r == NULL)
		return;
	sg_resp_write_command(out, argc, argv);
	/* the sink counts what it took: on failure that is less */
	c->queued = out->written;
	r->wire_end = c->queued;
	r->conn = c;
	r->state = RQ_SENT;
	TAILQ_INSERT_TAIL(&c->inflight, r, link);
	c->ninflight++;
}

static void
conn_write(struct backend_conn *c, struct req *r)
{
	struct sg_proxy_worker *w = c->node->w;
	struct sg_sink *out = sg_io_out(c->s);

	if (r->flags & RQ_F_ASKING) {
		static const struct sg_span asking[] = { { "ASKING", 6 } };

		conn_control(c, 1, asking);
		r->flags &= (uint8_t)~RQ_F_ASKING;
	}
	sg_sink_write(out, r->wire.data, r->wire.len);
	/* where our last byte would be; c->queued is what the sink took */
	r->wire_end = c->queued + r->wire.len;
	c->queued = out->written;
	r->conn = c;
	r->state = RQ_SENT;
	r->sent_ns = w->now_ns;
	if (c->batch_iteration != w->iteration) {
		c->batch_iteration = w->iteration;
		sg_tm_inc(w->tm, SG_TM_backend_batches);
	}
	req_hold_done(w, r);
	TAILQ_INSERT_TAIL(&c->inflight, r, link);
	c->ninflight++;
	sg_tm_inc(w->tm, SG_TM_backend_requests);
	sg_tm_add(w->tm, SG_TM_backend_bytes_out, r->wire.len);
	sg_tm_gauge_add(w->tm, SG_TM_G_in_flight, 1);
	if (SG_UNLIKELY(out->err != 0)) {
		/* out of output buffers: this connection cannot carry the
		 * request whole; what was cut short is re-sent elsewhere */
		PX_LOG(WARNING, "%s: no output buffers (%d); reconnecting\n", c->node->name,
		       out->err);
		backend_conn_abort(c);
	}
}

/*
 * May a new request go out on c now (backend.batch_hold)? Yes while
 * nothing is in flight, or while the batch written this iteration is
 * still open (it leaves at this iteration's flush, so joining it costs
 * nothing). Otherwise a batch sent earlier is unanswered and the request
 * waits for its replies, unless batch_hold requests wait already: then
 * they all go. Why: at low pipeline depth each request would otherwise
 * leave alone, one write and one read per request on both sides of the
 * connection; waiting lets what arrives during one backend turnaround
 * leave in one write. Redis runs a connection's requests in order, so a
 * held request would mostly have waited behind that batch on the node
 * anyway; what it adds is the turnaround, and an idle connection holds
 * nothing.
 */
static bool
conn_batch_open(const struct backend_conn *c)
{
	return c->ninflight == 0 || c->batch_iteration == c->node->w->iteration ||
	       c->nwaiting >= c->node->w->cfg->backend.batch_hold;
}

/*
 * Which of a node's connections carries a request: always the same one
 * for a given client (its session id), because Redis runs each connection's
 * requests in order but two connections' in any order, and a client's
 * pipeline must execute as it was sent. Many clients share a connection;
 * one client never spreads over two.
 */
static struct backend_conn *
conn_for(struct backend_node *n, const struct req *r)
{
	const struct session *sess = r->sess != NULL ? r->sess :
				     r->parent != NULL ? r->parent->sess : NULL;
	uint64_t id = sess != NULL ? sess->id : 0;

	return &n->conn[r->proto == 3 ? 1 : 0][id % n->nconns];
}

static void
conn_queue(struct backend_conn *c, struct req *r)
{
	r->state = RQ_WAITING;
	r->conn = c;
	TAILQ_INSERT_TAIL(&c->waiting, r, link);
	c->nwaiting++;
}

void
backend_send(struct backend_node *n, struct req *r)
{
	struct backend_conn *c = conn_for(n, r);

	switch (c->state) {
	case BC_READY: {
		bool room = c->ninflight < n->w->cfg->backend.max_in_flight;

		/* behind anything already waiting: order is per connection */
		if (c->nwaiting == 0 && room && conn_batch_open(c)) {
			conn_write(c, r);
			return;
		}
		if (room && !conn_batch_open(c))
			sg_tm_inc(n->w->tm, SG_TM_backend_held);
		conn_queue(c, r);
		if (room && conn_batch_open(c))
			conn_drain_waiting(c);	/* batch_hold reached: all go */
		return;
	}
	case BC_IDLE:
		/* connects on demand; the request waits for the handshake */
		conn_queue(c, r);
		conn_connect(c);
		return;
	default:	/* CONNECTING, or BACKOFF until its timer */
		conn_queue(c, r);
		return;
	}
}

/* Room freed on c (or it just became ready): send what waits, in order. */
static void
conn_drain_waiting(struct backend_conn *c)
{
	uint32_t max = c->node->w->cfg->backend.max_in_flight;
	struct req *r;

	while (c->state == BC_READY && c->ninflight < max &&
	       (r = TAILQ_FIRST(&c->waiting)) != NULL) {
		TAILQ_REMOVE(&c->waiting, r, link);
		c->nwaiting--;
		conn_write(c, r);
	}
}

/* ---- connecting ---- */

static void
conn_handshake(struct backend_conn *c)
{
	const struct sg_config *cfg = c->node->w->cfg;
	const char *user = cfg->backend.auth.username;
	const char *pass = cfg->backend.auth.password;
	bool auth = pass != NULL && pass[0] != '\0';
	struct sg_span argv[6];
	uint32_t argc = 0;

	if (c->proto == 3) {
		argv[argc++] = SG_SPAN_LIT("HELLO");
		argv[argc++] = SG_SPAN_LIT("3");
		if (auth) {
			argv[argc++] = SG_SPAN_LIT("AUTH");
			argv[argc++] = sg_span_make(user != NULL && user[0] ? user : "default",
						    strlen(user != NULL && user[0] ? user : "default"));
			argv[argc++] = sg_span_make(pass, strlen(pass));
		}
		conn_control(c, argc, argv);
	} else if (auth) {
		argv[argc++] = SG_SPAN_LIT("AUTH");
		if (user != NULL && user[0] != '\0')
			argv[argc++] = sg_span_make(user, strlen(user));
		argv[argc++] = sg_span_make(pass, strlen(pass));
		conn_control(c, argc, argv);
	}
	argv[0] = SG_SPAN_LIT("READONLY");
	conn_control(c, 1, argv);
}

static void on_connected(struct sg_io_stream *s, void *arg, int status);

/* backend.connect_timeout: a SYN nobody answers must not hold requests */
static void
connect_timeout(struct sg_timer *t, void *arg)
{
	struct backend_conn *c = arg;

	if (c->state != BC_CONNECTING)
		return;
	sg_io_abort(c->s);
	c->s = NULL;
	on_connected(NULL, c, -ETIMEDOUT);
}

static void
conn_connect(struct backend_conn *c)
{
	struct sg_proxy_worker *w = c->node->w;
	int rc;

	c->state = BC_CONNECTING;
	sg_resp_framer_init(&c->framer);
	rc = sg_io_connect(w->io, &c->node->addr, &conn_cbs, c, &c->s);
	sg_tm_inc(w->tm, SG_TM_backend_connects);
	if (rc != 0) {
		/* no stream at all (out of streams): behave as a failed connect */
		c->s = NULL;
		on_connected(NULL, c, rc);
		return;
	}
	c->timer.cb = connect_timeout;
	sg_timer_arm_at(&w->wheel, &c->timer, w->now_ns + w->cfg->backend.connect_timeout_ns);
}

static void
conn_backoff(struct backend_conn *c)
{
	struct sg_proxy_worker *w = c->node->w;
	uint64_t delay = RECONNECT_MIN_NS << SG_MIN(c->failures, 7u);

	if (delay > RECONNECT_MAX_NS)
		delay = RECONNECT_MAX_NS;
	/* jitter: +-25 %, so workers and connections do not reconnect in step */
	delay = delay * 3 / 4 + (uint64_t)rand() % (delay / 2 + 1);
	c->state = BC_BACKOFF;
	sg_timer_arm_at(&w->wheel, &c->timer, w->now_ns + delay);
}

static void
on_connected(struct sg_io_stream *s, void *arg, int status)
{
	struct backend_conn *c = arg;
	struct backend_node *n = c->node;
	struct sg_proxy_worker *w = n->w;
	struct req *r;

	if (status != 0) {
		c->s = NULL;
		c->failures++;
		sg_tm_inc(w->tm, SG_TM_backend_connect_failures);
		if (!n->down) {
			n->down = true;
			n->down_since_ns = w->now_ns;
			proxy_ask_refresh(w);
		}
			c->timer.cb = reconnect_timer;
		conn_backoff(c);
		/* the waiting requests look for another way (or park) */
		while ((r = TAILQ_FIRST(&c->waiting)) != NULL) {
			TAILQ_REMOVE(&c->waiting, r, link);
			c->nwaiting--;
			r->conn = NULL;
			r->state = RQ_NEW;
			sg_tm_inc(w->tm, SG_TM_retries_reconnect);
			dispatch(w, r);
		}
		return;
	}
	sg_timer_cancel(&w->wheel, &c->timer);
	c->state = BC_READY;
	c->failures = 0;
	sg_tm_gauge_add(w->tm, SG_TM_G_backend_conns, 1);
	conn_handshake(c);
	conn_drain_waiting(c);
	if (n->down) {
		n->down = false;
		parked_redispatch(w);
	}
}

/*
 * The connection is gone (closed by the peer, reset, or aborted by us).
 * `written` is how many of c->queued bytes left before it died.
 */
static void
conn_lost(struct backend_conn *c, uint64_t written)
{
	struct backend_node *n = c->node;
	struct sg_proxy_worker *w = n->w;
	struct req_list redo = TAILQ_HEAD_INITIALIZER(redo);
	struct req *r;

	sg_tm_inc(w->tm, SG_TM_backend_disconnects);
	sg_tm_gauge_add(w->tm, SG_TM_G_backend_conns, -1);
	c->s = NULL;
	c->state = BC_IDLE;
	inbuf_free(&c->in);
	sg_resp_framer_init(&c->framer);

	while ((r = TAILQ_FIRST(&c->inflight)) != NULL) {
		TAILQ_REMOVE(&c->inflight, r, link);
		c->ninflight--;
		r->conn = NULL;
		if (r->kind == REQ_CONTROL) {
			req_free(w, r);
			continue;
		}
		sg_tm_gauge_add(w->tm, SG_TM_G_in_flight, -1);
		if (r->sess == NULL && r->parent == NULL) {
			req_free(w, r);	/* orphan */
			continue;
		}
		if (r->wire_end > written || (r->flags & RQ_F_READ)) {
			/* its last byte never left (a server does not run a
			 * request it did not receive whole), or safe to repeat */
			r->state = RQ_NEW;
			TAILQ_INSERT_TAIL(&redo, r, link);
			continue;
		}
		sg_tm_inc(w->tm, SG_TM_errors_unknown_outcome);
		{
			char msg[200];

			snprintf(msg, sizeof(msg), "ERR shardgate: the connection to %s was "
				 "lost while this write was in flight; its outcome is unknown",
				 n->name);
			req_fail(r, msg);
		}
	}
	c->queued = 0;
	proxy_ask_refresh(w);
	/* requests queued behind the lost ones keep their place after them */
	while ((r = TAILQ_FIRST(&c->waiting)) != NULL) {
		TAILQ_REMOVE(&c->waiting, r, link);
		c->nwaiting--;
		r->conn = NULL;
		r->state = RQ_NEW;
		TAILQ_INSERT_TAIL(&redo, r, link);
	}
	while ((r = TAILQ_FIRST(&redo)) != NULL) {
		TAILQ_REMOVE(&redo, r, link);
		sg_tm_inc(w->tm, SG_TM_retries_reconnect);
		dispatch(w, r);
	}
}

static void
on_closed(struct sg_io_stream *s, void *arg, int status)
{
	struct backend_conn *c = arg;

	conn_lost(c, c->queued - sg_io_backlog(s));
}

/* We end a connection ourselves (protocol error, handshake refused,
 * request timeout). */
void
backend_conn_abort(struct backend_conn *c)
{
	uint64_t written = c->queued - sg_io_backlog(c->s);

	sg_io_abort(c->s);
	conn_lost(c, written);
}

/* ---- replies ---- */

static void
retry_later(struct sg_timer *t, void *arg)
{
	struct req *r = arg;

	r->state = RQ_NEW;
	dispatch(r->w, r);
}

/* The address of a redirect: "-MOVED 3999 10.0.0.1:6381" ("" = same host). */
static struct backend_node *
redirect_target(struct backend_conn *c, const struct sg_resp_reply *info)
{
	struct in_addr a;

	if (info->host[0] == '\0')
		a = c->node->addr.sin_addr;
	else if (inet_pton(AF_INET, info->host, &a) != 1)
		return NULL;	/* a hostname: the refreshed topology will say */
	return backend_node_get(c->node->w, a.s_addr, info->port);
}

static void
deliver(struct backend_conn *c, struct req *r, const struct sg_resp_reply *info)
{
	struct sg_proxy_worker *w = c->node->w;

	if (info->type == SG_RESP_ERROR || info->type == SG_RESP_BULK_ERROR)
		sg_tm_inc(w->tm, SG_TM_errors_backend);
	if (r->kind == REQ_PART) {
		r->reply.len = 0;
		if (inbuf_to_membuf(&c->in, 0, info->size, &r->reply) != 0)
			r->reply.len = 0;
		r->value = info->value;
		if (info->type == SG_RESP_ERROR || info->type == SG_RESP_BULK_ERROR)
			r->flags |= RQ_F_ERROR;
		r->state = RQ_DONE;
		part_done(r);
		return;
	}
	session_deliver(w, r, &c->in, info->size);
}

/* Handles one complete reply for the head of c's FIFO. Returns false
 * when the connection was closed in the process. */
static bool
conn_reply(struct backend_conn *c, const struct sg_resp_reply *info)
{
	struct sg_proxy_worker *w = c->node->w;
	const struct sg_config *cfg = w->cfg;
	struct req *r = TAILQ_FIRST(&c->inflight);

	if (info->type == SG_RESP_PUSH)
		return true;	/* out of band; nothing on a shared conn asks for it */
	if (r == NULL) {
		PX_LOG(WARNING, "%s sent a reply nobody asked for; closing\n", c->node->name);
		backend_conn_abort(c);
		return false;
	}
	TAILQ_REMOVE(&c->inflight, r, link);
	c->ninflight--;
	r->conn = NULL;
	if (r->kind == REQ_CONTROL) {
		req_free(w, r);
		if (info->error != SG_RESP_ERR_NONE && info->error != SG_RESP_ERR_OTHER)
			return true;
		if (info->error == SG_RESP_ERR_OTHER) {
			/* AUTH or HELLO refused: this connection cannot serve */
			PX_LOG(ERR, "%s refused the handshake: %.*s\n", c->node->name,
			       (int)SG_MIN(info->text_len, sizeof(info->text)), info->text);
			backend_conn_abort(c);
			return false;
		}
		return true;
	}
	sg_tm_gauge_add(w->tm, SG_TM_G_in_flight, -1);
	if (r->sess == NULL && r->parent == NULL) {
		req_free(w, r);	/* the client left */
		return true;
	}
	if (r->redirects < cfg->cluster.max_redirects) {
		struct backend_node *to;

		switch (info->error) {
		case SG_RESP_ERR_MOVED:
		case SG_RESP_ERR_ASK:
			to = redirect_target(c, info);
			r->redirects++;
			r->state = RQ_NEW;
			if (info->error == SG_RESP_ERR_MOVED) {
				sg_tm_inc(w->tm, SG_TM_redirects_moved);
				if (to != NULL) {
					if (w->moved[info->slot % SG_CLUSTER_SLOTS] == NULL)
						w->nmoved++;
					w->moved[info->slot % SG_CLUSTER_SLOTS] = to;
				}
				proxy_ask_refresh(w);
			} else {
				sg_tm_inc(w->tm, SG_TM_redirects_ask);
				r->ask_node = to;
			}
			dispatch(w, r);
			return true;
		case SG_RESP_ERR_TRYAGAIN:
		case SG_RESP_ERR_CLUSTERDOWN:
		case SG_RESP_ERR_LOADING:
		case SG_RESP_ERR_MASTERDOWN: {
			uint64_t delay = cfg->cluster.retry_backoff_min_ns << SG_MIN(r->retries, 20);

			if (r->hold_deadline_ns == 0)
				r->hold_deadline_ns = w->now_ns + cfg->cluster.hold_ms * SG_NS_PER_MS;
			if (delay > cfg->cluster.retry_backoff_max_ns)
				delay = cfg->cluster.retry_backoff_max_ns;
			if (w->now_ns + delay >= r->hold_deadline_ns)
				break;	/* the bound ran out: the client gets the error */
			r->retries++;
			sg_tm_inc(w->tm, SG_TM_retries_tryagain);
			r->state = RQ_BACKOFF;
			r->timer.cb = retry_later;
			r->timer.arg = r;
			sg_timer_arm_at(&w->wheel, &r->timer, w->now_ns + delay);
			if (info->error != SG_RESP_ERR_LOADING)
				proxy_ask_refresh(w);
			return true;
		}
		default:
			break;
		}
	}
	deliver(c, r, info);
	return true;
}

static void
on_data(struct sg_io_stream *s, void *arg, struct rte_mbuf *m)
{
	struct backend_conn *c = arg;
	struct sg_proxy_worker *w = c->node->w;
	const char *p;
	size_t len;

	w->now_ns = sg_io_worker_now(w->io);
	sg_tm_add(w->tm, SG_TM_backend_bytes_in, rte_pktmbuf_pkt_len(m));
	inbuf_append(&c->in, m);
	while (inbuf_chunk(&c->in, &p, &len)) {
		struct sg_resp_reply info;
		bool done = false;
		ssize_t n = sg_resp_frame(&c->framer, p, len, &info, &done);

		if (n < 0) {
			PX_LOG(ERR, "%s sent bytes that are not RESP (%s); closing\n",
			       c->node->name, sg_resp_framer_error(&c->framer));
			backend_conn_abort(c);
			return;
		}
		inbuf_fed(&c->in, (size_t)n);
		if (!done)
			continue;
		if (!conn_reply(c, &info))
			return;
		inbuf_consume(&c->in, info.size);
	}
	if (c->nwaiting > 0 && c->s == s && conn_batch_open(c))
		conn_drain_waiting(c);
}

static const struct sg_io_stream_cbs conn_cbs = {
	.connected = on_connected,
	.data = on_data,
	.closed = on_closed,
};

/* ---- teardown ---- */

void
backend_node_close(struct backend_node *n)
{
	struct sg_proxy_worker *w = n->w;

	for (int p = 0; p < 2; p++) {
		for (uint32_t i = 0; i < n->nconns; i++) {
			struct backend_conn *c = &n->conn[p][i];
			struct req *r;

			sg_timer_cancel(&w->wheel, &c->timer);
			if (c->s != NULL) {
				sg_io_abort(c->s);
				c->s = NULL;
				sg_tm_gauge_add(w->tm, SG_TM_G_backend_conns, -1);
			}
			while ((r = TAILQ_FIRST(&c->inflight)) != NULL) {
				TAILQ_REMOVE(&c->inflight, r, link);
				if (r->kind != REQ_CONTROL)
					sg_tm_gauge_add(w->tm, SG_TM_G_in_flight, -1);
				if (r->kind == REQ_CONTROL || (r->sess == NULL && r->parent == NULL))
					req_free(w, r);
				else
					req_fail(r, "ERR shardgate: shutting down");
			}
			while ((r = TAILQ_FIRST(&c->waiting)) != NULL) {
				TAILQ_REMOVE(&c->waiting, r, link);
				req_fail(r, "ERR shardgate: shutting down");
			}
			inbuf_free(&c->in);
		}
	}
}

static bool
node_idle(const struct backend_node *n)
{
	for (int p = 0; p < 2; p++) {
		for (uint32_t i = 0; i < n->nconns; i++) {
			const struct backend_conn *c = &n->conn[p][i];

			if (c->nwaiting > 0)
				return false;
			/* handshake replies (control requests) may still be due */
			if (c->ninflight > 0) {
				const struct req *r;

				TAILQ_FOREACH(r, &c->inflight, link) {
					if (r->kind != REQ_CONTROL)
						return false;
				}
			}
		}
	}
	return true;
}

/*
 * Nodes that left the cluster: once the topology no longer lists them and
 * nothing of ours waits on them, their connections close and the pool
 * goes. Called at topology changes and from maintenance.
 */
void
backend_prune(struct sg_proxy_worker *w)
{
	const struct sg_cluster_topology *t = w->topo;
	struct backend_node *n, *next;
	struct req *r;

	if (t == NULL)
		return;
	for (n = TAILQ_FIRST(&w->nodes); n != NULL; n = next) {
		bool listed = false;

		next = TAILQ_NEXT(n, link);
		for (uint16_t i = 0; i < t->nnodes && !listed; i++)
			listed = t->node[i].ipv4 == n->addr.sin_addr.s_addr &&
				 htons(t->node[i].port) == n->addr.sin_port;
		if (listed || !node_idle(n))
			continue;
		/* parked requests may still name it as an ASK target */
		TAILQ_FOREACH(r, &w->parked, link) {
			if (r->ask_node == n)
				r->ask_node = NULL;
		}
		for (unsigned s = 0; s < SG_CLUSTER_SLOTS && w->nmoved > 0; s++) {
			if (w->moved[s] == n) {
				w->moved[s] = NULL;
				w->nmoved--;
			}
		}
		PX_LOG(INFO, "%s left the cluster; closing its connections\n", n->name);
		TAILQ_REMOVE(&w->nodes, n, link);
		backend_node_close(n);
		free(n);
	}
}

void
backend_close_all(struct sg_proxy_worker *w)
{
	struct backend_node *n;

	while ((n = TAILQ_FIRST(&w->nodes)) != NULL) {
		TAILQ_REMOVE(&w->nodes, n, link);
		backend_node_close(n);
		free(n);
	}
}
