/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Routing: from a parsed request to backend requests.
 *
 *   route_request --> local_command            PROXY
 *                 --> one FORWARD req          KEY, ANY, SPLIT in one slot
 *                 --> PARENT + PARTs           SPLIT across slots, FANOUT
 *                 --> an error reply           unknown, arity, CROSSSLOT,
 *                                              REFUSE, not supported yet
 *   dispatch(req) --> backend_send(node)       the slot's primary (or a
 *                                              replica for READONLY reads)
 *                 --> park                     no primary / node down:
 *                                              wait for a topology or a
 *                                              reconnect, cluster.hold_ms
 *
 * Parts of a split keep request order inside each part, so a part's
 * reply lists its keys' answers in the order the part asked them;
 * key_part/key_pos map each key of the client's request to its answer.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "proxy_internal.h"

/* ---- error replies ---- */

/* Fails a request with an error line (without CRLF, with its code). */
void
req_fail(struct req *r, const char *msg)
{
	struct sg_sink sink;

	req_hold_done(r->w, r);
	r->reply.len = 0;
	sg_membuf_sink(&r->reply, &sink);
	sg_resp_write_error(&sink, msg, strlen(msg));
	sg_membuf_sink_done(&r->reply, &sink);
	r->flags |= RQ_F_ERROR;
	if (r->kind == REQ_PART) {
		r->state = RQ_DONE;
		part_done(r);
		return;
	}
	session_reply_ready(r->w, r);
}

/*
 * Appends at most `budget` bytes of a client-supplied argument to an
 * error message; CR and LF become spaces (an error is one line), as
 * Valkey does. Returns the bytes appended.
 */
static size_t
append_arg(char *dst, size_t cap, const struct session *sess, const struct sg_arg *a,
	   size_t budget)
{
	size_t n = SG_MIN(SG_MIN(a->len, budget), cap - 1);

	if (a->ptr != NULL)
		memcpy(dst, a->ptr, n);
	else
		inbuf_copy(&sess->in, a->off, n, dst);
	for (size_t i = 0; i < n; i++) {
		if (dst[i] == '\r' || dst[i] == '\n')
			dst[i] = ' ';
	}
	dst[n] = '\0';
	return n;
}

/* Valkey's wording: the name and the arguments share 128 characters each. */
static void
unknown_command(struct session *sess, const struct sg_resp_request *rq,
		const struct sg_command *container)
{
	char name[160], args[400];
	size_t n = 0;

	if (container != NULL && rq->argc > 1) {
		char upper[64];
		size_t i;

		append_arg(name, sizeof(name), sess, &rq->argv[1], 128);
		for (i = 0; container->name[i] != '\0' && i < sizeof(upper) - 1; i++)
			upper[i] = (char)toupper((unsigned char)container->name[i]);
		upper[i] = '\0';
		local_error(sess, "ERR unknown subcommand '%s'. Try %s HELP.", name, upper);
		return;
	}
	append_arg(name, sizeof(name), sess, &rq->argv[0], 128);
	args[0] = '\0';
	for (uint32_t i = 1; i < rq->argc && n < 128; i++) {
		args[n++] = '\'';
		n += append_arg(args + n, sizeof(args) - n, sess, &rq->argv[i], 128 - (n - 1));
		args[n++] = '\'';
		args[n++] = ' ';
		args[n] = '\0';
	}
	local_error(sess, "ERR unknown command '%s', with args beginning with: %s", name, args);
}

/* ---- slots ---- */

static uint16_t
arg_slot(const struct inbuf *in, const struct sg_arg *a)
{
	char small[512];
	uint16_t slot;
	char *big;

	if (a->ptr != NULL)
		return sg_cluster_slot(a->ptr, a->len);
	if (a->len <= sizeof(small)) {
		inbuf_copy(in, a->off, a->len, small);
		return sg_cluster_slot(small, a->len);
	}
	/* a huge key that straddles buffers: rare, worth one copy */
	big = malloc(a->len);
	if (big == NULL)
		return 0;
	inbuf_copy(in, a->off, a->len, big);
	slot = sg_cluster_slot(big, a->len);
	free(big);
	return slot;
}

static uint32_t *
key_scratch(struct sg_proxy_worker *w, uint32_t n)
{
	static __thread uint32_t *buf;
	static __thread uint32_t cap;

	if (n > cap) {
		uint32_t *b = realloc(buf, n * sizeof(*b));

		if (b == NULL)
			return NULL;
		buf = b;
		cap = n;
	}
	return buf;
}

/* ---- building requests ---- */

static void
classify(struct req *r, const struct sg_command *cmd)
{
	r->cmd = cmd;
	if (cmd->flags & SG_CMD_F_WRITE) {
		r->flags |= RQ_F_WRITE;
		r->cls = SG_TM_WRITE;
	} else if (cmd->flags & SG_CMD_F_READONLY) {
		r->flags |= RQ_F_READ;
		r->cls = SG_TM_READ;
	} else {
		r->cls = SG_TM_OTHER;
	}
}

/* The client's request bytes, as the backend must see them. */
static int
copy_wire(struct session *sess, const struct sg_resp_request *rq, struct sg_membuf *wire)
{
	if (rq->is_inline) {
		struct sg_span *argv = malloc(rq->argc * sizeof(*argv));
		struct sg_sink sink;

		if (argv == NULL)
			return -ENOMEM;
		for (uint32_t i = 0; i < rq->argc; i++)
			argv[i] = sg_arg_span(&rq->argv[i]);
		sg_membuf_sink(wire, &sink);
		sg_resp_write_command(&sink, rq->argc, argv);
		sg_membuf_sink_done(wire, &sink);
		free(argv);
		return sink.err;
	}
	return inbuf_to_membuf(&sess->in, 0, rq->size, wire);
}

static struct req *
top_req(struct session *sess, enum req_kind kind, const struct sg_command *cmd)
{
	struct req *r = req_new(sess->w, kind);

	if (r == NULL)
		return NULL;
	r->sess = sess;
	r->proto = sess->proto;
	classify(r, cmd);
	TAILQ_INSERT_TAIL(&sess->fifo, r, sess_link);
	sess->nfifo++;
	return r;
}

static void
forward(struct session *sess, const struct sg_resp_request *rq,
	const struct sg_command *cmd, uint16_t slot)
{
	struct sg_proxy_worker *w = sess->w;
	struct req *r = top_req(sess, REQ_FORWARD, cmd);

	if (r == NULL) {
		local_error(sess, "ERR shardgate: out of memory");
		return;
	}
	r->slot = slot;
	if (copy_wire(sess, rq, &r->wire) != 0) {
		req_fail(r, "ERR shardgate: out of memory copying the request");
		return;
	}
	sg_tm_inc(w->tm, SG_TM_commands_forwarded);
	dispatch(w, r);
}

void
route_forward_any(struct session *sess, const struct sg_resp_request *rq,
		  const struct sg_command *cmd)
{
	forward(sess, rq, cmd, (uint16_t)(sess->w->now_ns % SG_CLUSTER_SLOTS));
}

void
route_forward_slot(struct session *sess, const struct sg_resp_request *rq,
		   const struct sg_command *cmd, uint16_t slot)
{
	forward(sess, rq, cmd, slot);
}

/* ---- split and fan-out ---- */

static struct req *
new_part(struct req *parent, uint32_t index, uint16_t slot)
{
	struct req *part = req_new(parent->w, REQ_PART);

	if (part == NULL)
		return NULL;
	part->parent = parent;
	part->part_index = index;
	part->proto = parent->proto;
	part->slot = slot;
	part->flags = parent->flags & (RQ_F_READ | RQ_F_WRITE);
	part->cls = parent->cls;
	part->cmd = parent->cmd;
	parent->parts[index] = part;
	return part;
}

static void
write_arg(struct sg_sink *sink, const struct inbuf *in, const struct sg_arg *a)
{
	char hdr[32];
	size_t n;

	hdr[0] = '$';
	n = 1 + sg_u64_to_dec(hdr + 1, a->len);
	hdr[n++] = '\r';
	hdr[n++] = '\n';
	sg_sink_write(sink, hdr, n);
	if (a->ptr != NULL)
		sg_sink_write(sink, a->ptr, a->len);
	else
		inbuf_to_sink(in, a->off, a->len, sink);
	sg_sink_write(sink, "\r\n", 2);
}

static void
write_count(struct sg_sink *sink, char type, uint64_t n)
{
	char hdr[32];
	size_t len;

	hdr[0] = type;
	len = 1 + sg_u64_to_dec(hdr + 1, n);
	hdr[len++] = '\r';
	hdr[len++] = '\n';
	sg_sink_write(sink, hdr, len);
}

static void
parent_start(struct sg_proxy_worker *w, struct req *parent)
{
	sg_tm_add(w->tm, SG_TM_commands_forwarded, parent->nparts);
	for (uint32_t i = 0; i < parent->nparts; i++) {
		struct req *part = parent->parts[i];

		/* a part may finish at once (fail); the parent may then be done */
		if (part != NULL && part->state == RQ_NEW)
			dispatch(w, part);
	}
}

/*
 * Splits a multi-key request by slot. `keys` holds the argument index of
 * each key (ascending); `group` arguments travel with each key (MSET: 2).
 */
static void
split(struct session *sess, const struct sg_resp_request *rq,
      const struct sg_command *cmd, const uint32_t *keys, uint32_t nkeys,
      uint32_t first, uint32_t group)
{
	struct sg_proxy_worker *w = sess->w;
	struct req *parent = top_req(sess, REQ_PARENT, cmd);
	uint32_t *nk = NULL, nparts = 0;

	if (parent == NULL) {
		local_error(sess, "ERR shardgate: out of memory");
		return;
	}
	parent->nkeys = nkeys;
	parent->key_part = malloc(nkeys * sizeof(uint32_t));
	parent->key_pos = malloc(nkeys * sizeof(uint32_t));
	parent->parts = calloc(nkeys, sizeof(struct req *));
	nk = calloc(nkeys, sizeof(uint32_t));
	if (parent->key_part == NULL || parent->key_pos == NULL ||
	    parent->parts == NULL || nk == NULL)
		goto oom;

	/* Pass 1: a part per distinct slot, in order of first appearance. */
	if (++w->stamp == 0) {
		memset(w->slot_stamp, 0, SG_CLUSTER_SLOTS * sizeof(uint32_t));
		w->stamp = 1;
	}
	for (uint32_t k = 0; k < nkeys; k++) {
		uint16_t slot = arg_slot(&sess->in, &rq->argv[keys[k]]);
		uint32_t part;

		if (w->slot_stamp[slot] != w->stamp) {
			w->slot_stamp[slot] = w->stamp;
			w->slot_part[slot] = nparts;
			if (new_part(parent, nparts, slot) == NULL)
				goto oom;
			nparts++;
		}
		part = w->slot_part[slot];
		parent->key_part[k] = part;
		parent->key_pos[k] = nk[part]++;
	}
	parent->nparts = parent->parts_left = nparts;

	/* Pass 2: each part's header, then its keys (and values) in order. */
	{
		for (uint32_t p = 0; p < nparts; p++) {
			struct req *part = parent->parts[p];
			struct sg_sink sink;

			sg_membuf_sink(&part->wire, &sink);
			write_count(&sink, '*', (uint64_t)first + (uint64_t)nk[p] * group);
			for (uint32_t i = 0; i < first; i++)
				write_arg(&sink, &sess->in, &rq->argv[i]);
			sg_membuf_sink_done(&part->wire, &sink);
			if (sink.err != 0)
				goto oom;
		}
		for (uint32_t k = 0; k < nkeys; k++) {
			struct req *part = parent->parts[parent->key_part[k]];
			struct sg_sink sink;

			sg_membuf_sink(&part->wire, &sink);
			for (uint32_t g = 0; g < group; g++)
				write_arg(&sink, &sess->in, &rq->argv[keys[k] + g]);
			sg_membuf_sink_done(&part->wire, &sink);
			if (sink.err != 0)
				goto oom;
		}
	}
	free(nk);
	parent_start(w, parent);
	return;
oom:
	free(nk);
	for (uint32_t p = 0; p < nparts; p++) {
		req_free(w, parent->parts[p]);
		parent->parts[p] = NULL;
	}
	parent->nparts = parent->parts_left = 0;
	req_fail(parent, "ERR shardgate: out of memory splitting the request");
}

/* Sends the request to every shard that serves slots, merged by cmd. */
static void
fanout(struct session *sess, const struct sg_resp_request *rq,
       const struct sg_command *cmd)
{
	struct sg_proxy_worker *w = sess->w;
	const struct sg_cluster_topology *t = w->topo;
	struct req *parent;
	uint32_t nparts = 0;

	if (t == NULL || t->nshards == 0) {
		local_error(sess, "CLUSTERDOWN shardgate: the cluster topology is not known yet");
		return;
	}
	parent = top_req(sess, REQ_PARENT, cmd);
	if (parent == NULL) {
		local_error(sess, "ERR shardgate: out of memory");
		return;
	}
	parent->parts = calloc(t->nshards, sizeof(struct req *));
	if (parent->parts == NULL)
		goto oom;
	for (uint16_t sh = 0; sh < t->nshards; sh++) {
		struct req *part;
		uint16_t slot = SG_CLUSTER_NONE;

		if (t->shard[sh].nslots == 0)
			continue;
		/* a slot the shard serves: routing by slot survives changes */
		for (unsigned s = 0; s < SG_CLUSTER_SLOTS; s++) {
			if (t->slot_shard[s] == sh) {
				slot = (uint16_t)s;
				break;
			}
		}
		part = new_part(parent, nparts, slot);
		if (part == NULL || copy_wire(sess, rq, &part->wire) != 0)
			goto oom;
		nparts++;
	}
	parent->nparts = parent->parts_left = nparts;
	if (nparts == 0) {
		req_fail(parent, "CLUSTERDOWN shardgate: no shard serves any slot");
		return;
	}
	parent_start(w, parent);
	return;
oom:
	for (uint32_t p = 0; p < nparts + 1 && parent->parts != NULL; p++) {
		if (parent->parts[p] != NULL)
			req_free(w, parent->parts[p]);
		parent->parts[p] = NULL;
	}
	parent->nparts = parent->parts_left = 0;
	req_fail(parent, "ERR shardgate: out of memory");
}

/* ---- the entry point ---- */

void
route_request(struct session *sess, const struct sg_resp_request *rq)
{
	struct sg_proxy_worker *w = sess->w;
	const struct sg_command *container = NULL, *cmd;
	uint32_t *keys, first, group;
	int nkeys;

	cmd = sg_command_find(w->cmds, rq->argv, rq->argc, &container);
	if (cmd == NULL) {
		sg_tm_inc(w->tm, SG_TM_errors_unknown_command);
		unknown_command(sess, rq, container);
		return;
	}
	sess->last_cmd = cmd;
	if (!sg_command_arity_ok(cmd, rq->argc)) {
		sg_tm_inc(w->tm, SG_TM_errors_arity);
		local_error(sess, "ERR wrong number of arguments for '%s' command", cmd->name);
		return;
	}
	if (!sess->parser.authenticated && !(cmd->flags & SG_CMD_F_NO_AUTH)) {
		local_error(sess, "NOAUTH Authentication required.");
		return;
	}
	switch (cmd->route) {
	case SG_ROUTE_PROXY:
		local_command(sess, cmd, rq);
		return;
	case SG_ROUTE_REFUSE:
		sg_tm_inc(w->tm, SG_TM_errors_refused);
		local_error(sess, "ERR %s", cmd->refuse_reason != NULL ? cmd->refuse_reason :
			    "this command is not available through shardgate");
		return;
	case SG_ROUTE_PIN:
		sg_tm_inc(w->tm, SG_TM_errors_refused);
		local_error(sess, "ERR shardgate: '%s' needs a dedicated connection "
			    "(transactions, blocking and pub/sub commands), which is not "
			    "supported yet", cmd->name);
		return;
	case SG_ROUTE_FANOUT:
		if (cmd->merge == SG_MERGE_SPECIAL || cmd->merge == SG_MERGE_NONE) {
			sg_tm_inc(w->tm, SG_TM_errors_refused);
			local_error(sess, "ERR shardgate: '%s' across the cluster is not "
				    "supported yet", cmd->name);
			return;
		}
		fanout(sess, rq, cmd);
		return;
	case SG_ROUTE_ANY:
		forward(sess, rq, cmd, (uint16_t)(w->now_ns % SG_CLUSTER_SLOTS));
		return;
	default:
		break;
	}

	/* KEY and SPLIT: find the keys */
	keys = key_scratch(w, rq->argc);
	if (keys == NULL) {
		local_error(sess, "ERR shardgate: out of memory");
		return;
	}
	nkeys = sg_command_keys(cmd, rq->argv, rq->argc, keys, rq->argc);
	if (nkeys < 0) {
		sg_tm_inc(w->tm, SG_TM_errors_arity);
		local_error(sess, "ERR the arguments of '%s' do not name its keys as "
			    "the command requires (check numkeys)", cmd->name);
		return;
	}
	if (nkeys == 0) {
		/* keyless use of a keyed command (EVAL with numkeys 0): any shard */
		forward(sess, rq, cmd, (uint16_t)(w->now_ns % SG_CLUSTER_SLOTS));
		return;
	}
	{
		uint16_t slot = arg_slot(&sess->in, &rq->argv[keys[0]]);
		int k;

		for (k = 1; k < nkeys; k++) {
			if (arg_slot(&sess->in, &rq->argv[keys[k]]) != slot)
				break;
		}
		if (k == nkeys) {
			forward(sess, rq, cmd, slot);
			return;
		}
	}
	if (cmd->route != SG_ROUTE_SPLIT ||
	    sg_command_split_shape(cmd, &first, &group) != 0) {
		sg_tm_inc(w->tm, SG_TM_errors_crossslot);
		local_error(sess, "CROSSSLOT Keys in request don't hash to the same slot");
		return;
	}
	if ((rq->argc - first) % group != 0) {
		/* MSET a 1 b: the server would say so; parts must be whole */
		sg_tm_inc(w->tm, SG_TM_errors_arity);
		local_error(sess, "ERR wrong number of arguments for '%s' command", cmd->name);
		return;
	}
	split(sess, rq, cmd, keys, (uint32_t)nkeys, first, group);
}

/* ---- dispatch and parking ---- */

static bool
reads_from_replicas(const struct req *r)
{
	const struct session *sess = r->sess != NULL ? r->sess :
				     r->parent != NULL ? r->parent->sess : NULL;

	if (!(r->flags & RQ_F_READ) || sess == NULL)
		return false;
	if (sess->w->cfg->backend.read_policy == SG_CONFIG_READ_PRIMARY)
		return false;
	return sess->readonly ||
	       (sess->listen != NULL && sess->listen->role == SG_CONFIG_ROLE_READER);
}

static struct backend_node *
node_for(struct sg_proxy_worker *w, uint16_t idx)
{
	const struct sg_cluster_node *n = &w->topo->node[idx];

	if (w->node_of[idx] == NULL && n->ipv4 != 0)
		w->node_of[idx] = backend_node_get(w, n->ipv4, n->port);
	return w->node_of[idx];
}

/* A replica for a read when the policy allows and one is up. */
static struct backend_node *
pick_replica(struct sg_proxy_worker *w, const struct sg_cluster_shard *sh)
{
	const char *my_zone = w->cfg->backend.availability_zone != NULL ?
			      w->cfg->backend.availability_zone : "";
	bool local_only = w->cfg->backend.read_policy == SG_CONFIG_READ_LOCAL_AZ;
	struct backend_node *best = NULL;
	unsigned seen = 0;

	for (uint16_t i = 0; i < sh->nreplicas; i++) {
		uint16_t idx = sh->replica[(i + w->now_ns / 1000) % sh->nreplicas];
		const struct sg_cluster_node *n = &w->topo->node[idx];
		struct backend_node *bn;

		if (n->health != SG_CLUSTER_ONLINE)
			continue;
		if (local_only && my_zone[0] != '\0' && strcmp(n->zone, my_zone) != 0)
			continue;
		bn = node_for(w, idx);
		if (bn == NULL || bn->down)
			continue;
		best = bn;
		seen++;
		break;
	}
	(void)seen;
	return best;
}

static void hold_expired(struct sg_timer *t, void *arg);

static void
park(struct sg_proxy_worker *w, struct req *r)
{
	const struct sg_config *cfg = w->cfg;

	if (r->hold_deadline_ns == 0)
		r->hold_deadline_ns = w->now_ns + cfg->cluster.hold_ms * SG_NS_PER_MS;
	if (w->now_ns >= r->hold_deadline_ns) {
		sg_tm_inc(w->tm, SG_TM_parked_timeouts);
		sg_tm_inc(w->tm, SG_TM_errors_unavailable);
		req_fail(r, "CLUSTERDOWN shardgate: no primary serves this slot "
			    "(waited cluster.hold_ms)");
		return;
	}
	if (w->nparked >= cfg->cluster.max_parked ||
	    w->parked_bytes + r->wire.len > cfg->cluster.max_parked_bytes) {
		sg_tm_inc(w->tm, SG_TM_errors_unavailable);
		req_fail(r, "TRYAGAIN shardgate: too many requests are waiting for the "
			    "cluster (cluster.max_parked)");
		return;
	}
	r->state = RQ_PARKED;
	r->parked_ns = w->now_ns;
	TAILQ_INSERT_TAIL(&w->parked, r, link);
	w->nparked++;
	w->parked_bytes += r->wire.len;
	if (r->held_since_ns == 0) {
		/* counted once, however often it is retried and re-parked */
		r->held_since_ns = w->now_ns;
		sg_tm_inc(w->tm, SG_TM_parked);
	}
	sg_tm_gauge_add(w->tm, SG_TM_G_parked_now, 1);
	r->timer.cb = hold_expired;
	r->timer.arg = r;
	sg_timer_arm_at(&w->wheel, &r->timer, r->hold_deadline_ns);
	if (!sg_timer_armed(&w->retry_timer))
		sg_timer_arm_at(&w->wheel, &w->retry_timer,
				w->now_ns + cfg->cluster.retry_backoff_max_ns);
	proxy_ask_refresh(w);
}

static void
unpark(struct sg_proxy_worker *w, struct req *r)
{
	TAILQ_REMOVE(&w->parked, r, link);
	w->nparked--;
	w->parked_bytes -= r->wire.len;
	sg_tm_gauge_add(w->tm, SG_TM_G_parked_now, -1);
	sg_timer_cancel(&w->wheel, &r->timer);
	r->state = RQ_NEW;
}

static void
hold_expired(struct sg_timer *t, void *arg)
{
	struct req *r = arg;
	struct sg_proxy_worker *w = r->w;

	unpark(w, r);
	sg_tm_inc(w->tm, SG_TM_parked_timeouts);
	sg_tm_inc(w->tm, SG_TM_errors_unavailable);
	req_fail(r, "CLUSTERDOWN shardgate: no primary serves this slot "
		    "(waited cluster.hold_ms)");
}

/* Topology changed or a node came back: try every parked request. */
void
parked_redispatch(struct sg_proxy_worker *w)
{
	struct req_list again = TAILQ_HEAD_INITIALIZER(again);
	struct req *r;

	/* move them out first: dispatch may park some again */
	while ((r = TAILQ_FIRST(&w->parked)) != NULL) {
		unpark(w, r);
		TAILQ_INSERT_TAIL(&again, r, link);
	}
	while ((r = TAILQ_FIRST(&again)) != NULL) {
		TAILQ_REMOVE(&again, r, link);
		dispatch(w, r);
	}
}

void
dispatch(struct sg_proxy_worker *w, struct req *r)
{
	const struct sg_cluster_topology *t = w->topo;
	struct backend_node *n = NULL;

	if (r->ask_node != NULL) {
		n = r->ask_node;
		r->ask_node = NULL;
		r->flags |= RQ_F_ASKING;
	} else if (w->nmoved > 0 && w->moved[r->slot] != NULL) {
		/* nmoved first: the 128 KiB table stays out of the cache
		 * unless a MOVED was seen since the last topology */
		n = w->moved[r->slot];
	} else if (t != NULL) {
		uint16_t shard = t->slot_shard[r->slot];
		uint16_t primary = sg_cluster_slot_primary(t, r->slot);

		if (shard != SG_CLUSTER_NONE && reads_from_replicas(r))
			n = pick_replica(w, &t->shard[shard]);
		if (n == NULL && primary != SG_CLUSTER_NONE)
			n = node_for(w, primary);
	}
	if (n == NULL || (n->down && !(r->flags & RQ_F_ASKING))) {
		park(w, r);
		return;
	}
	backend_send(n, r);
}

/* ---- merging ---- */

/* Offsets of the elements of an array reply held in `b`. */
static int
array_elements(const struct sg_membuf *b, uint64_t *off, uint32_t want)
{
	struct sg_resp_framer f;
	size_t pos = 0;
	int64_t count;
	const char *nl;

	if (b->len < 4 || b->data[0] != '*')
		return -EPROTO;
	nl = memchr(b->data, '\n', b->len);
	if (nl == NULL || nl == b->data + 1 || nl[-1] != '\r')
		return -EPROTO;
	if (sg_span_to_i64(sg_span_make(b->data + 1, (size_t)(nl - 1 - (b->data + 1))), &count) != 0 ||
	    count != (int64_t)want)
		return -EPROTO;
	pos = (size_t)(nl + 1 - b->data);
	for (uint32_t i = 0; i <= want; i++) {
		struct sg_resp_reply info;
		bool done = false;
		ssize_t n;

		off[i] = pos;
		if (i == want)
			break;
		sg_resp_framer_init(&f);
		n = sg_resp_frame(&f, b->data + pos, b->len - pos, &info, &done);
		if (n <= 0 || !done)
			return -EPROTO;
		pos += (size_t)n;
	}
	return 0;
}

static void
merge_by_key(struct req *parent, struct sg_sink *sink)
{
	uint64_t **offs = calloc(parent->nparts, sizeof(uint64_t *));
	uint32_t *counts = calloc(parent->nparts, sizeof(uint32_t));
	bool ok = offs != NULL && counts != NULL;

	for (uint32_t k = 0; ok && k < parent->nkeys; k++)
		counts[parent->key_part[k]]++;
	for (uint32_t p = 0; ok && p < parent->nparts; p++) {
		offs[p] = malloc((counts[p] + 1) * sizeof(uint64_t));
		ok = offs[p] != NULL &&
		     array_elements(&parent->parts[p]->reply, offs[p], counts[p]) == 0;
	}
	if (ok) {
		write_count(sink, '*', parent->nkeys);
		for (uint32_t k = 0; k < parent->nkeys; k++) {
			const struct req *part = parent->parts[parent->key_part[k]];
			const uint64_t *o = offs[parent->key_part[k]];
			uint32_t i = parent->key_pos[k];

			sg_sink_write(sink, part->reply.data + o[i], o[i + 1] - o[i]);
		}
	} else {
		static const char bad[] = "-ERR shardgate: a backend answered a split "
					  "request with an unexpected reply\r\n";

		sg_sink_write(sink, bad, sizeof(bad) - 1);
	}
	for (uint32_t p = 0; offs != NULL && p < parent->nparts; p++)
		free(offs[p]);
	free(offs);
	free(counts);
}

static const char fanout_bad_reply[] = "ERR shardgate: unexpected reply to a fan-out request";

static void
merge_concat(struct req *parent, struct sg_sink *sink)
{
	uint64_t total = 0;

	for (uint32_t p = 0; p < parent->nparts; p++) {
		const struct req *part = parent->parts[p];

		if (part->reply.len < 4 || part->reply.data[0] != '*')
			goto bad;
		total += (uint64_t)(part->value > 0 ? part->value : 0);
	}
	write_count(sink, '*', total);
	for (uint32_t p = 0; p < parent->nparts; p++) {
		const struct sg_membuf *b = &parent->parts[p]->reply;
		const char *nl = memchr(b->data, '\n', b->len);

		sg_sink_write(sink, nl + 1, b->len - (size_t)(nl + 1 - b->data));
	}
	return;
bad:
	sg_resp_write_error(sink, fanout_bad_reply, sizeof(fanout_bad_reply) - 1);
}

static void
merge(struct req *parent)
{
	enum sg_command_merge how = parent->cmd->merge;
	struct sg_sink sink;

	parent->reply.len = 0;
	sg_membuf_sink(&parent->reply, &sink);
	/* an error from any part is the answer (the first, in part order) */
	for (uint32_t p = 0; p < parent->nparts; p++) {
		const struct req *part = parent->parts[p];

		if (part->flags & RQ_F_ERROR) {
			sg_sink_write(&sink, part->reply.data, part->reply.len);
			goto done;
		}
	}
	switch (how) {
	case SG_MERGE_BY_KEY:
		merge_by_key(parent, &sink);
		break;
	case SG_MERGE_SUM: {
		int64_t sum = 0;

		for (uint32_t p = 0; p < parent->nparts; p++)
			sum += parent->parts[p]->value;
		sg_resp_write_integer(&sink, sum);
		break;
	}
	case SG_MERGE_MIN:
	case SG_MERGE_MAX: {
		int64_t v = parent->parts[0]->value;

		for (uint32_t p = 1; p < parent->nparts; p++) {
			int64_t x = parent->parts[p]->value;

			v = how == SG_MERGE_MIN ? SG_MIN(v, x) : SG_MAX(v, x);
		}
		sg_resp_write_integer(&sink, v);
		break;
	}
	case SG_MERGE_ALL_OK:
		sg_resp_write_simple(&sink, "OK", 2);
		break;
	case SG_MERGE_CONCAT:
		merge_concat(parent, &sink);
		break;
	case SG_MERGE_AGREE:
		for (uint32_t p = 1; p < parent->nparts; p++) {
			const struct sg_membuf *a = &parent->parts[0]->reply;
			const struct sg_membuf *b = &parent->parts[p]->reply;

			if (a->len != b->len || memcmp(a->data, b->data, a->len) != 0) {
				sg_resp_write_errorf(&sink, "ERR shardgate: the shards gave "
					"different answers to '%s'", parent->cmd->name);
				goto done;
			}
		}
		/* fall through */
	case SG_MERGE_FIRST:
	default:
		sg_sink_write(&sink, parent->parts[0]->reply.data, parent->parts[0]->reply.len);
		break;
	case SG_MERGE_AND:
	case SG_MERGE_OR: {
		struct sg_resp_value **v = calloc(parent->nparts, sizeof(*v));
		bool ok = v != NULL;
		size_t n = 0;

		for (uint32_t p = 0; ok && p < parent->nparts; p++) {
			const struct sg_membuf *b = &parent->parts[p]->reply;

			ok = sg_resp_decode(b->data, b->len, &v[p], NULL) == 0 &&
			     v[p]->type == SG_RESP_ARRAY && (p == 0 || v[p]->nelem == n);
			if (ok)
				n = v[p]->nelem;
		}
		if (ok) {
			write_count(&sink, '*', n);
			for (size_t i = 0; i < n; i++) {
				bool bit = how == SG_MERGE_AND;

				for (uint32_t p = 0; p < parent->nparts; p++) {
					bool x = v[p]->elem[i].integer != 0;

					bit = how == SG_MERGE_AND ? bit && x : bit || x;
				}
				sg_resp_write_integer(&sink, bit);
			}
		} else {
			static const char bad[] = "ERR shardgate: unexpected reply to a "
						  "fan-out request";

			sg_resp_write_error(&sink, bad, sizeof(bad) - 1);
		}
		for (uint32_t p = 0; v != NULL && p < parent->nparts; p++)
			sg_resp_value_free(v[p]);
		free(v);
		break;
	}
	}
done:
	sg_membuf_sink_done(&parent->reply, &sink);
}

/* One part is done; the last one merges and completes the parent. */
void
part_done(struct req *part)
{
	struct req *parent = part->parent;
	struct sg_proxy_worker *w = parent->w;

	if (--parent->parts_left > 0)
		return;
	if (parent->sess == NULL) {
		/* the client left: nothing to merge for */
		for (uint32_t p = 0; p < parent->nparts; p++) {
			if (parent->parts[p] != NULL)
				req_free(w, parent->parts[p]);
		}
		parent->nparts = 0;
		req_free(w, parent);
		return;
	}
	merge(parent);
	for (uint32_t p = 0; p < parent->nparts; p++) {
		req_free(w, parent->parts[p]);
		parent->parts[p] = NULL;
	}
	session_reply_ready(w, parent);
}

/* ---- topology changes ---- */

void
proxy_topology_changed(struct sg_proxy_worker *w)
{
	if (w->nmoved > 0) {
		memset(w->moved, 0, sizeof(w->moved));
		w->nmoved = 0;
	}
	backend_prune(w);
	parked_redispatch(w);
}
