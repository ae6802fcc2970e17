/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/proxy internals: sessions, requests, backend pools, the worker.
 *
 * A request's life (one worker, run to completion):
 *
 *  client bytes -> session.in (mbufs) -> parser -> command table
 *      |                                               |
 *      |   (a) req queued on session.fifo, in request order
 *      |   (b) routed: slot -> topology -> node -> backend conn
 *      |       no primary? parked on worker.parked until a topology
 *      |       names one or cluster.hold_ms runs out
 *      |   (c) wire bytes written to the conn's sink; req queued on
 *      |       conn.inflight (FIFO: replies come back in send order)
 *      v
 *  backend bytes -> conn.in -> framer -> reply for inflight head
 *      |   MOVED / ASK / TRYAGAIN...: re-dispatched, the client sees none
 *      |   (d) done: head of session.fifo -> copied straight to the
 *      |       client's sink; otherwise kept in req.reply until every
 *      |       earlier request of that client is done
 *      v
 *  client sink -> one write per client per loop iteration
 *
 *  session.fifo:  [req1 DONE] [req2 SENT] [req3 DONE] [req4 PARKED]
 *                   ^ written at once    ^ waits for req2
 *
 *  conn.inflight: [ctl AUTH] [ctl READONLY] [reqA] [reqB] ...
 *                   handshake replies are swallowed in order
 *
 * Split and fan-out: a parent req sits on session.fifo; its parts are
 * reqs of their own on backend FIFOs (part.parent). When the last part
 * is done the parent merges their replies and is done.
 *
 * A client that goes away leaves its in-flight reqs behind as orphans
 * (req.sess == NULL): they keep their place in the backend FIFOs and are
 * freed when their reply arrives.
 */
#ifndef PROXY_INTERNAL_H
#define PROXY_INTERNAL_H

#include <stdatomic.h>
#include <sys/queue.h>

#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "sg_cluster.h"
#include "sg_command.h"
#include "sg_config.h"
#include "sg_io.h"
#include "sg_proxy.h"
#include "sg_resp.h"
#include "sg_telemetry.h"

extern int sg_proxy_logtype;
#define PX_LOG(level, ...) \
	rte_log(RTE_LOG_##level, sg_proxy_logtype, "proxy: " __VA_ARGS__)

struct sg_proxy_worker;
struct session;
struct req;
struct backend_conn;
struct backend_node;

TAILQ_HEAD(req_list, req);
TAILQ_HEAD(session_list, session);

/* ------------------------------------------------------------------ */
/* Retained input                                                      */
/* ------------------------------------------------------------------ */

/*
 * A received byte stream kept as mbufs until the messages in it are done.
 *
 *   head                                          tail
 *   [seg] -> [seg] -> [seg] -> ... -> [seg]
 *    ^ start_off: first byte of the message being parsed
 *              ^ cur, cur_off: next byte not yet fed to the parser
 *
 * Segments are linked through m->next and freed one by one.
 */
struct inbuf {
	struct rte_mbuf *head;
	struct rte_mbuf *tail;
	struct rte_mbuf *cur;
	uint32_t start_off;
	uint32_t cur_off;
	uint64_t held;		/* bytes held from start to the end */
};

void inbuf_append(struct inbuf *b, struct rte_mbuf *m);
bool inbuf_chunk(struct inbuf *b, const char **p, size_t *len);
void inbuf_fed(struct inbuf *b, size_t n);
void inbuf_consume(struct inbuf *b, uint64_t n);
/* copies `len` bytes at `off` from the start, to dst / a sink */
void inbuf_copy(const struct inbuf *b, uint64_t off, uint64_t len, char *dst);
void inbuf_to_sink(const struct inbuf *b, uint64_t off, uint64_t len,
		   struct sg_sink *dst);
int inbuf_to_membuf(const struct inbuf *b, uint64_t off, uint64_t len,
		    struct sg_membuf *dst);
void inbuf_free(struct inbuf *b);

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

enum req_kind {
	REQ_FORWARD = 0,	/* one backend request for one client request */
	REQ_LOCAL,		/* answered by the proxy; reply in req.reply */
	REQ_PARENT,		/* split or fan-out: waits for its parts */
	REQ_PART,		/* one part of a parent */
	REQ_CONTROL,		/* the proxy's own (handshake); no client */
};

enum req_state {
	RQ_NEW = 0,
	RQ_WAITING,	/* queued on a conn not ready, or over max_in_flight */
	RQ_PARKED,	/* no primary: on worker.parked */
	RQ_BACKOFF,	/* retrying after TRYAGAIN etc.: timer armed */
	RQ_SENT,	/* on conn.inflight */
	RQ_DONE,	/* reply ready in req.reply (or written) */
	RQ_GATHER,	/* REQ_LOCAL waiting for other workers (proxy_gather.c) */
};

#define RQ_F_WRITE	0x01	/* the command may write */
#define RQ_F_READ	0x02	/* read-only: may go to a replica, safe to retry */
#define RQ_F_ASKING	0x04	/* send ASKING first (once, after -ASK) */
#define RQ_F_BY_SHARD	0x08	/* fan-out part: target is `shard`, not a slot */
#define RQ_F_ERROR	0x10	/* reply is an error */

struct req {
	struct req *free_next;		/* first: req_new reads it cold */
	TAILQ_ENTRY(req) sess_link;	/* session.fifo (not parts) */
	TAILQ_ENTRY(req) link;		/* conn inflight/waiting, parked */
	struct sg_proxy_worker *w;
	struct session *sess;		/* NULL: orphan or control */
	struct req *parent;		/* REQ_PART */
	struct backend_conn *conn;	/* RQ_SENT / RQ_WAITING */
	struct backend_node *ask_node;	/* after -ASK: where to go */
	const struct sg_command *cmd;
	uint8_t kind;
	uint8_t state;
	uint8_t flags;
	uint8_t cls;			/* enum sg_telemetry_class */
	uint8_t proto;			/* 2 or 3: which backend pool */
	uint8_t redirects;
	uint8_t retries;
	uint16_t slot;
	uint16_t shard;			/* RQ_F_BY_SHARD */
	uint32_t part_index;
	uint64_t start_ns;
	uint64_t hold_deadline_ns;	/* set when first parked */
	uint64_t parked_ns;		/* this park */
	uint64_t held_since_ns;		/* first park; 0 when never parked */
	uint64_t wire_end;		/* conn.queued after our bytes */
	uint64_t sent_ns;
	int64_t value;			/* integer replies (merges) */
	struct sg_membuf wire;		/* request bytes, kept for re-sends */
	struct sg_membuf reply;		/* buffered reply */
	struct sg_timer timer;		/* hold deadline, retry backoff */
	/* REQ_PARENT */
	uint32_t nparts;
	uint32_t parts_left;
	struct req **parts;
	uint32_t *key_part;		/* BY_KEY merge: key i -> part */
	uint32_t *key_pos;		/* and its position there */
	uint32_t nkeys;
};

/* ------------------------------------------------------------------ */
/* Sessions                                                            */
/* ------------------------------------------------------------------ */

struct session {
	TAILQ_ENTRY(session) link;
	struct sg_proxy_worker *w;
	struct sg_io_stream *s;
	const struct sg_config_listen *listen;
	struct inbuf in;
	struct sg_resp_parser parser;
	struct req_list fifo;
	uint32_t nfifo;
	uint64_t id;
	uint8_t proto;
	bool readonly;		/* READONLY: reads may go to replicas */
	bool closing;		/* close once the fifo drains */
	bool paused;		/* reading stopped (backpressure) */
	bool in_callback;	/* do not free under our own feet */
	bool dead;		/* the stream is gone */
	const char *user;	/* authenticated user, NULL when none */
	char *name;		/* CLIENT SETNAME */
	char *lib_name;
	char *lib_ver;
	uint64_t created_ns;
	uint64_t last_active_ns;
	const struct sg_command *last_cmd;	/* for CLIENT LIST */
	struct sockaddr_in local;
	struct sockaddr_in peer;
};

/* ------------------------------------------------------------------ */
/* Backends                                                            */
/* ------------------------------------------------------------------ */

enum conn_state {
	BC_IDLE = 0,	/* no connection; connect on demand */
	BC_CONNECTING,
	BC_READY,	/* handshake written; requests flow */
	BC_BACKOFF,	/* failed; reconnect timer armed */
};

#define PX_MAX_CONNS 64

struct backend_conn {
	struct backend_node *node;
	struct sg_io_stream *s;
	uint8_t state;
	uint8_t proto;
	uint8_t index;
	struct req_list inflight;
	struct req_list waiting;	/* not ready yet, or at max_in_flight */
	uint32_t ninflight;
	uint32_t nwaiting;
	uint64_t queued;		/* bytes written to the sink, ever */
	uint64_t batch_iteration;	/* loop iteration of the last write */
	struct sg_resp_framer framer;
	struct inbuf in;
	struct sg_timer timer;		/* reconnect backoff */
	uint32_t failures;		/* in a row */
};

struct backend_node {
	TAILQ_ENTRY(backend_node) link;
	struct sg_proxy_worker *w;
	struct sockaddr_in addr;
	char name[64];			/* "ip:port" */
	uint32_t nconns;		/* backend.connections */
	uint32_t rr;
	bool down;			/* connecting fails */
	uint64_t down_since_ns;
	uint64_t seen_version;		/* last topology that listed it */
	struct backend_conn conn[2][PX_MAX_CONNS];	/* [proto - 2][i] */
};

TAILQ_HEAD(backend_node_list, backend_node);

/* ------------------------------------------------------------------ */
/* Topology refresh (worker 0)                                         */
/* ------------------------------------------------------------------ */

enum refresh_state {
	RF_IDLE = 0,
	RF_CONNECTING,
	RF_WAITING,	/* request written, reply awaited */
};

struct refresher {
	uint8_t state;
	uint8_t step;		/* which command is in flight */
	bool want;		/* a refresh was asked for */
	bool have_commands;	/* COMMAND merged once */
	unsigned target;	/* rotating index into candidates */
	unsigned tried;		/* candidates tried in this round */
	struct sockaddr_in addr;
	struct sg_io_stream *s;
	struct inbuf in;
	struct sg_resp_framer framer;
	uint64_t started_ns;
	uint64_t last_ok_ns;
	uint64_t next_ns;	/* next timed refresh */
	uint64_t not_before_ns;	/* asked-for refreshes wait until then */
	uint64_t version;
	struct sg_timer timer;
	char last_error[160];
};

/* ------------------------------------------------------------------ */
/* Proxy and workers                                                   */
/* ------------------------------------------------------------------ */

#define PX_MAX_WORKERS RTE_MAX_LCORE

/* Old topologies and command tables wait here for an RCU grace period. */
struct deferred_free {
	struct deferred_free *next;
	uint64_t token;
	void *ptr;
	void (*free)(void *);
};

struct sg_proxy {
	const struct sg_config *cfg;
	unsigned nworkers;
	struct sg_proxy_worker *worker[PX_MAX_WORKERS];
	_Atomic(struct sg_cluster_topology *) topo;
	_Atomic(const struct sg_command_table *) cmds;
	_Atomic uint64_t topo_version;
	_Atomic uint64_t next_client_id;
	_Atomic uint32_t clients;	/* open client connections, all workers */
	_Atomic bool stop;
	_Atomic unsigned workers_out;	/* finished their shutdown (linger) */
	struct rte_rcu_qsbr *rcu;
	struct rte_ring *ctl;		/* workers -> worker 0: refresh asks */
	struct rte_ring *mail[PX_MAX_WORKERS];	/* cross-worker questions */
	struct sg_resp_limits limits;
	struct sockaddr_in *seeds;
	unsigned nseeds;
	char node_id[41];
	uint64_t start_ns;
	char server_version[32];	/* what backends report, for HELLO */
};

#define PX_MAX_LISTEN 16
#define PX_PUB_NODES 256

/* What a worker publishes for the telemetry thread (seqlock: seq is odd
 * while it writes). */
struct node_pub {
	uint32_t ipv4;
	uint16_t port;
	uint8_t down;
	uint8_t in_topology;
	uint8_t role;
	uint8_t health;
	uint32_t conns;
	uint32_t inflight;
	uint32_t slots;
};

struct worker_pub {
	_Atomic uint32_t seq;
	uint32_t count;
	uint32_t parked;
	uint64_t topo_version;
	/* worker 0 only */
	uint32_t topo_shards;
	uint32_t topo_nodes;
	uint32_t slots_served;
	uint64_t topo_built_ns;
	uint64_t refresh_ok_ns;
	char refresh_error[160];
	/* for <prefix>/workers */
	uint32_t lcore;
	struct sg_io_stats io;
	struct node_pub node[PX_PUB_NODES];
};

/* What a listener's accept callback gets. */
struct listen_ctx {
	struct sg_proxy_worker *w;
	const struct sg_config_listen *listen;
};

struct sg_proxy_worker {
	struct sg_proxy *p;
	const struct sg_config *cfg;
	unsigned index;
	struct sg_io_worker *io;
	struct sg_telemetry_worker *tm;
	struct sg_timer_wheel wheel;
	uint64_t now_ns;
	uint64_t iteration;		/* loop iterations so far */

	/* read once per iteration; stable until the next quiescent state */
	const struct sg_cluster_topology *topo;
	uint64_t topo_version;
	const struct sg_command_table *cmds;
	struct backend_node **node_of;	/* topology node -> our pool */
	uint16_t node_of_cap;
	struct backend_node *moved[SG_CLUSTER_SLOTS];	/* MOVED seen since */
	uint32_t nmoved;		/* entries set in moved[] */

	struct backend_node_list nodes;
	struct session_list sessions;
	uint32_t nsessions;
	struct req_list parked;
	uint32_t nparked;
	struct req_list gathers;	/* RQ_GATHER reqs asked by this worker */
	uint32_t ngathers;
	uint64_t parked_bytes;
	struct sg_timer retry_timer;	/* re-dispatch parked requests */
	struct sg_timer maint_timer;	/* timeouts, published status */
	struct worker_pub pub;
	struct req *free_reqs;
	uint32_t nfree_reqs;

	struct sg_io_listener *listener[PX_MAX_LISTEN];
	struct listen_ctx lctx[PX_MAX_LISTEN];
	unsigned nlisteners;
	bool draining;
	uint64_t drain_deadline_ns;

	/* split scratch: slot -> part, valid when stamp matches */
	uint32_t *slot_stamp;
	uint32_t *slot_part;
	uint32_t stamp;

	struct refresher rf;		/* worker 0 */
	struct deferred_free *deferred;	/* worker 0 */
};

/* proxy_inbuf.c: above */

/* proxy_gather.c */
#define GATHER_MAX_PENDING 32	/* questions a worker may have out */
#define GATHER_MAX_TEXT (16u << 20)	/* CLIENT LIST reply cap */
int gather_init(struct sg_proxy *p);
void gather_destroy(struct sg_proxy *p);
bool gather_client_list(struct session *sess);
void gather_tick(struct sg_proxy_worker *w);
void gather_fini(struct sg_proxy_worker *w);

/* proxy_local.c, for proxy_gather.c */
void proxy_client_list_text(struct sg_proxy_worker *w, struct sg_membuf *text);
void proxy_write_text(struct sg_sink *out, const struct session *sess, const char *s,
		      size_t len);

/* proxy_req.c */
struct req *req_new(struct sg_proxy_worker *w, enum req_kind kind);
void req_free(struct sg_proxy_worker *w, struct req *r);

/* proxy_session.c */
void session_accept(struct sg_io_listener *l, void *arg, struct sg_io_stream *s);
void session_reply_ready(struct sg_proxy_worker *w, struct req *r);
void session_deliver(struct sg_proxy_worker *w, struct req *r,
		     const struct inbuf *in, uint64_t size);
void session_complete(struct session *sess);
struct sg_sink *session_local_sink(struct session *sess, struct req **r);
void session_local_done(struct session *sess, struct req *r);
void session_drain_all(struct sg_proxy_worker *w, bool force);
void session_close_idle(struct session *sess);
void session_shed(struct session *sess);

/* proxy_worker.c */
void publish_status(struct sg_proxy_worker *w);

/* A parked request leaves for good (sent, or failed): its whole hold,
 * however many re-parks it took, is one sample. */
static inline void
req_hold_done(struct sg_proxy_worker *w, struct req *r)
{
	if (SG_UNLIKELY(r->held_since_ns != 0)) {
		sg_telemetry_hist_record(&w->tm->hold, w->now_ns - r->held_since_ns);
		r->held_since_ns = 0;
	}
}

/* proxy_route.c */
void route_request(struct session *sess, const struct sg_resp_request *rq);
void route_forward_any(struct session *sess, const struct sg_resp_request *rq,
		       const struct sg_command *cmd);
void route_forward_slot(struct session *sess, const struct sg_resp_request *rq,
			const struct sg_command *cmd, uint16_t slot);
void dispatch(struct sg_proxy_worker *w, struct req *r);
void part_done(struct req *part);
void req_fail(struct req *r, const char *msg);
void parked_redispatch(struct sg_proxy_worker *w);
void proxy_topology_changed(struct sg_proxy_worker *w);

/* proxy_backend.c */
struct backend_node *backend_node_get(struct sg_proxy_worker *w,
				      uint32_t ipv4, uint16_t port);
void backend_send(struct backend_node *n, struct req *r);
void backend_node_close(struct backend_node *n);
void backend_conn_abort(struct backend_conn *c);
void backend_close_all(struct sg_proxy_worker *w);
void backend_prune(struct sg_proxy_worker *w);

/* proxy_local.c */
void local_command(struct session *sess, const struct sg_command *cmd,
		   const struct sg_resp_request *rq);
void local_error(struct session *sess, const char *fmt, ...) SG_PRINTF(2, 3);
int proxy_info_text(struct sg_proxy_worker *w, struct session *sess,
		    struct sg_membuf *out, const char *section);

/* proxy_refresh.c */
void refresher_init(struct sg_proxy_worker *w);
void refresher_tick(struct sg_proxy_worker *w);
void refresher_fini(struct sg_proxy_worker *w);
void proxy_ask_refresh(struct sg_proxy_worker *w);
void deferred_reclaim(struct sg_proxy_worker *w, bool all);

/* A contiguous view of argument i of a request whose first byte is at
 * the start of `in`; copies into scratch (cap bytes) when it straddles
 * mbufs. ok=false when it does not fit. */
struct sg_span req_arg(const struct inbuf *in, const struct sg_arg *a,
		       char *scratch, size_t cap, bool *ok);

#endif /* PROXY_INTERNAL_H */
