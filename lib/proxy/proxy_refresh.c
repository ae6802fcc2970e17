/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Topology refresh, run by worker 0 over the stream interface (so it
 * never blocks the loop and, in DPDK mode, uses the userspace stack).
 *
 *   IDLE --(timer, or a worker asked)--> CONNECTING to the next candidate
 *     ^                                     | connected
 *     |                                     v
 *     |   [AUTH] CLUSTER SHARDS ---------> WAITING
 *     |          (CLUSTER SLOTS when SHARDS is unknown)
 *     |          (once: INFO server, COMMAND)
 *     +--- published / failed: next candidate, or back off
 *
 * Candidates are every node of the current topology, then every seed,
 * tried in turn: a seed that is down or has left the cluster does not
 * stop the refresh, and nodes that moved are found through the others.
 * A new topology is published by pointer swap; the old one is freed
 * after an RCU grace period (deferred_reclaim). An unchanged topology is
 * not republished, so workers are not disturbed for nothing.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#include "proxy_internal.h"

enum rf_step {
	RF_AUTH = 0,
	RF_SHARDS,
	RF_SLOTS,
	RF_VERSION,
	RF_COMMAND,
};

/* Shortest gap between refreshes that redirects ask for. */
#define RF_MIN_GAP_NS (50 * SG_NS_PER_MS)
/* Back-off after every candidate failed. */
#define RF_FAIL_BACKOFF_NS (200 * SG_NS_PER_MS)

static const struct sg_io_stream_cbs rf_cbs;

/* ---- RCU-deferred frees ---- */

static void
defer_free(struct sg_proxy_worker *w, void *ptr, void (*fn)(void *))
{
	struct deferred_free *d = malloc(sizeof(*d));

	if (d == NULL) {
		/* cannot wait for the grace period safely without memory: leak */
		return;
	}
	d->ptr = ptr;
	d->free = fn;
	d->token = rte_rcu_qsbr_start(w->p->rcu);
	d->next = w->deferred;
	w->deferred = d;
}

void
deferred_reclaim(struct sg_proxy_worker *w, bool all)
{
	struct deferred_free **pp = &w->deferred;

	while (*pp != NULL) {
		struct deferred_free *d = *pp;

		if (all || rte_rcu_qsbr_check(w->p->rcu, d->token, false) == 1) {
			*pp = d->next;
			d->free(d->ptr);
			free(d);
		} else {
			pp = &d->next;
		}
	}
}

static void
free_topology(void *p)
{
	sg_cluster_topology_free(p);
}

static void
free_commands(void *p)
{
	sg_command_table_free(p);
}

/* ---- asking ---- */

void
proxy_ask_refresh(struct sg_proxy_worker *w)
{
	static __thread uint64_t last_ns;

	if (w->index == 0) {
		w->rf.want = true;
		return;
	}
	if (w->now_ns - last_ns < RF_MIN_GAP_NS)
		return;
	last_ns = w->now_ns;
	/* a full ring already carries the message */
	rte_ring_mp_enqueue(w->p->ctl, (void *)(uintptr_t)(w->index + 1));
}

/* ---- candidates ---- */

static unsigned
candidates(const struct sg_proxy_worker *w)
{
	return (w->topo != NULL ? w->topo->nnodes : 0) + w->p->nseeds;
}

static bool
candidate(const struct sg_proxy_worker *w, unsigned i, struct sockaddr_in *out)
{
	unsigned nt = w->topo != NULL ? w->topo->nnodes : 0;

	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	if (i < nt) {
		const struct sg_cluster_node *n = &w->topo->node[i];

		if (n->ipv4 == 0 || n->health == SG_CLUSTER_FAILED)
			return false;
		out->sin_addr.s_addr = n->ipv4;
		out->sin_port = htons(n->port);
		return true;
	}
	*out = w->p->seeds[i - nt];
	return true;
}

/* ---- requests ---- */

static void
send_cmd(struct refresher *rf, uint32_t argc, const struct sg_span *argv)
{
	sg_resp_write_command(sg_io_out(rf->s), argc, argv);
}

static void
send_step(struct sg_proxy_worker *w, enum rf_step step)
{
	struct refresher *rf = &w->rf;
	struct sg_span argv[3];

	rf->step = (uint8_t)step;
	switch (step) {
	case RF_AUTH: {
		const char *user = w->cfg->backend.auth.username;
		const char *pass = w->cfg->backend.auth.password;
		uint32_t argc = 0;

		argv[argc++] = SG_SPAN_LIT("AUTH");
		if (user != NULL && user[0] != '\0')
			argv[argc++] = sg_span_make(user, strlen(user));
		argv[argc++] = sg_span_make(pass, strlen(pass));
		send_cmd(rf, argc, argv);
		return;
	}
	case RF_SHARDS:
		argv[0] = SG_SPAN_LIT("CLUSTER");
		argv[1] = SG_SPAN_LIT("SHARDS");
		send_cmd(rf, 2, argv);
		return;
	case RF_SLOTS:
		argv[0] = SG_SPAN_LIT("CLUSTER");
		argv[1] = SG_SPAN_LIT("SLOTS");
		send_cmd(rf, 2, argv);
		return;
	case RF_VERSION:
		argv[0] = SG_SPAN_LIT("INFO");
		argv[1] = SG_SPAN_LIT("server");
		send_cmd(rf, 2, argv);
		return;
	case RF_COMMAND:
		argv[0] = SG_SPAN_LIT("COMMAND");
		send_cmd(rf, 1, argv);
		return;
	}
}

static void
rf_close(struct sg_proxy_worker *w)
{
	struct refresher *rf = &w->rf;

	if (rf->s != NULL)
		sg_io_close(rf->s);
	rf->s = NULL;
	inbuf_free(&rf->in);
	rf->state = RF_IDLE;
}

static void rf_start(struct sg_proxy_worker *w);

/* This candidate did not work: the next one, or back off. */
static void
rf_fail(struct sg_proxy_worker *w, const char *why)
{
	struct refresher *rf = &w->rf;
	char addr[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &rf->addr.sin_addr, addr, sizeof(addr));
	snprintf(rf->last_error, sizeof(rf->last_error), "%s:%u: %s", addr,
		 ntohs(rf->addr.sin_port), why);
	rf_close(w);
	rf->target++;
	if (++rf->tried < candidates(w)) {
		rf_start(w);
		return;
	}
	sg_tm_inc(w->tm, SG_TM_topology_refresh_failures);
	PX_LOG(WARNING, "topology refresh failed on every node; last: %s\n", rf->last_error);
	rf->tried = 0;
	rf->next_ns = w->now_ns + RF_FAIL_BACKOFF_NS;
	rf->not_before_ns = rf->next_ns;
}

/* Same cluster, whatever order the answering node listed it in. */
static bool
topology_same(const struct sg_cluster_topology *a, const struct sg_cluster_topology *b)
{
	uint16_t *map;
	bool same = true;

	if (a == NULL || b == NULL || a->nnodes != b->nnodes || a->nshards != b->nshards ||
	    a->slots_served != b->slots_served)
		return false;
	map = malloc(a->nnodes * sizeof(*map));	/* a's node -> b's node */
	if (map == NULL)
		return false;
	for (uint16_t i = 0; i < a->nnodes && same; i++) {
		const struct sg_cluster_node *x = &a->node[i];

		map[i] = SG_CLUSTER_NONE;
		for (uint16_t k = 0; k < b->nnodes; k++) {
			if (strcmp(b->node[k].id, x->id) == 0) {
				map[i] = k;
				break;
			}
		}
		same = map[i] != SG_CLUSTER_NONE && x->ipv4 == b->node[map[i]].ipv4 &&
		       x->port == b->node[map[i]].port && x->role == b->node[map[i]].role &&
		       x->health == b->node[map[i]].health;
	}
	for (unsigned s = 0; s < SG_CLUSTER_SLOTS && same; s++) {
		uint16_t pa = sg_cluster_slot_primary(a, (uint16_t)s);
		uint16_t pb = sg_cluster_slot_primary(b, (uint16_t)s);

		same = pa == SG_CLUSTER_NONE ? pb == SG_CLUSTER_NONE : map[pa] == pb;
	}
	free(map);
	return same;
}

static const char *
zone_of(void *ctx, const char *ip, uint16_t port)
{
	const struct sg_config *cfg = ctx;

	for (size_t i = 0; i < cfg->backend.n_zones; i++) {
		const struct sg_config_zone *z = &cfg->backend.zones[i];

		if (z->node.port == port && strcmp(z->node.host, ip) == 0)
			return z->zone;
	}
	return "";
}

static void
publish_topology(struct sg_proxy_worker *w, struct sg_cluster_topology *t)
{
	struct sg_proxy *p = w->p;
	struct sg_cluster_topology *old = atomic_load(&p->topo);

	sg_tm_inc(w->tm, SG_TM_topology_refreshes);
	w->rf.last_ok_ns = w->now_ns;
	if (topology_same(old, t)) {
		/* confirmed: keep the published one (and the version) */
		old->built_ns = w->now_ns;
		sg_cluster_topology_free(t);
		return;
	}
	t->version = atomic_fetch_add(&p->topo_version, 1) + 1;
	t->built_ns = w->now_ns;
	atomic_store(&p->topo, t);
	PX_LOG(INFO, "topology v%llu: %u shards, %u nodes, %u slots served\n",
	       (unsigned long long)t->version, t->nshards, t->nnodes, t->slots_served);
	if (old != NULL)
		defer_free(w, old, free_topology);
}

/* A whole reply for the current step sits at the start of rf->in. */
static void
rf_reply(struct sg_proxy_worker *w, const struct sg_resp_reply *info)
{
	struct refresher *rf = &w->rf;
	struct sg_membuf buf;
	char err[160];
	int rc;

	if (info->type == SG_RESP_ERROR && rf->step == RF_SHARDS) {
		/* servers before 7.0 */
		send_step(w, RF_SLOTS);
		return;
	}
	if (info->type == SG_RESP_ERROR) {
		snprintf(err, sizeof(err), "%.*s", (int)SG_MIN(info->text_len, 120u), info->text);
		if (rf->step == RF_COMMAND || rf->step == RF_VERSION) {
			/* not fatal: keep the built-in table */
			rf->have_commands = true;
			rf_close(w);
			return;
		}
		rf_fail(w, err);
		return;
	}
	if (rf->step == RF_AUTH) {
		send_step(w, RF_SHARDS);
		return;
	}
	sg_membuf_init(&buf, 0);
	if (inbuf_to_membuf(&rf->in, 0, info->size, &buf) != 0) {
		rf_fail(w, "out of memory");
		return;
	}
	if (rf->step == RF_SHARDS || rf->step == RF_SLOTS) {
		struct sg_cluster_topology *t = NULL;
		struct sg_resp_value *v = NULL;

		rc = sg_resp_decode(buf.data, buf.len, &v, NULL);
		if (rc == 0) {
			rc = rf->step == RF_SHARDS ?
			     sg_cluster_topology_from_shards(v, zone_of, (void *)w->cfg, &t, err, sizeof(err)) :
			     sg_cluster_topology_from_slots(v, zone_of, (void *)w->cfg, &t, err, sizeof(err));
		} else {
			snprintf(err, sizeof(err), "the reply is not valid RESP");
		}
		sg_resp_value_free(v);
		sg_membuf_free(&buf);
		if (rc != 0) {
			rf_fail(w, err);
			return;
		}
		if (t->nshards == 0 || t->slots_served == 0) {
			sg_cluster_topology_free(t);
			rf_fail(w, "the node knows no shard serving slots");
			return;
		}
		publish_topology(w, t);
		rf->want = false;
		rf->tried = 0;
		rf->next_ns = w->now_ns + w->cfg->cluster.refresh_interval_ns;
		rf->not_before_ns = w->now_ns + RF_MIN_GAP_NS;
		if (!rf->have_commands) {
			send_step(w, RF_VERSION);
			return;
		}
		rf_close(w);
		return;
	}
	if (rf->step == RF_VERSION) {
		const char *v = memmem(buf.data, buf.len, "redis_version:", 14);

		if (v != NULL) {
			const char *end = v + 14;

			while (end < buf.data + buf.len && *end != '\r' && *end != '\n')
				end++;
			snprintf(w->p->server_version, sizeof(w->p->server_version), "%.*s",
				 (int)(end - v - 14), v + 14);
		}
		sg_membuf_free(&buf);
		send_step(w, RF_COMMAND);
		return;
	}
	/* RF_COMMAND */
	{
		struct sg_command_table *t = NULL;
		const struct sg_command_table *old;

		rc = sg_command_table_merge(buf.data, buf.len, &t, err, sizeof(err));
		sg_membuf_free(&buf);
		rf->have_commands = true;
		if (rc != 0) {
			PX_LOG(WARNING, "cannot use the backends' COMMAND reply (%s); keeping "
			       "the built-in command table\n", err);
		} else {
			old = atomic_exchange(&w->p->cmds, t);
			if (old != NULL && old != sg_command_builtin())
				defer_free(w, (void *)old, free_commands);
		}
		rf_close(w);
	}
}

/* ---- stream callbacks ---- */

static void
rf_connected(struct sg_io_stream *s, void *arg, int status)
{
	struct sg_proxy_worker *w = arg;
	struct refresher *rf = &w->rf;
	const char *pass = w->cfg->backend.auth.password;

	if (status != 0) {
		rf->s = NULL;
		rf_fail(w, strerror(-status));
		return;
	}
	rf->state = RF_WAITING;
	sg_resp_framer_init(&rf->framer);
	send_step(w, pass != NULL && pass[0] != '\0' ? RF_AUTH : RF_SHARDS);
}

static void
rf_data(struct sg_io_stream *s, void *arg, struct rte_mbuf *m)
{
	struct sg_proxy_worker *w = arg;
	struct refresher *rf = &w->rf;
	const char *p;
	size_t len;

	inbuf_append(&rf->in, m);
	while (rf->s == s && inbuf_chunk(&rf->in, &p, &len)) {
		struct sg_resp_reply info;
		bool done = false;
		ssize_t n = sg_resp_frame(&rf->framer, p, len, &info, &done);

		if (n < 0) {
			rf_fail(w, "the reply is not RESP");
			return;
		}
		inbuf_fed(&rf->in, (size_t)n);
		if (!done)
			continue;
		rf_reply(w, &info);
		if (rf->s != s)
			return;	/* closed or moved on */
		inbuf_consume(&rf->in, info.size);
	}
}

static void
rf_closed(struct sg_io_stream *s, void *arg, int status)
{
	struct sg_proxy_worker *w = arg;

	w->rf.s = NULL;
	rf_fail(w, status != 0 ? strerror(-status) : "closed by the node");
}

static const struct sg_io_stream_cbs rf_cbs = {
	.connected = rf_connected,
	.data = rf_data,
	.closed = rf_closed,
};

/* ---- the state machine ---- */

static void
rf_start(struct sg_proxy_worker *w)
{
	struct refresher *rf = &w->rf;
	unsigned n = candidates(w);
	int rc;

	if (n == 0)
		return;
	/* skip candidates that cannot be reached (failed nodes) */
	for (unsigned i = 0; i < n; i++, rf->target++) {
		if (candidate(w, rf->target % n, &rf->addr))
			break;
	}
	rf->started_ns = w->now_ns;
	rf->state = RF_CONNECTING;
	rc = sg_io_connect(w->io, &rf->addr, &rf_cbs, w, &rf->s);
	if (rc != 0) {
		rf->s = NULL;
		rf_fail(w, strerror(-rc));
	}
}

void
refresher_init(struct sg_proxy_worker *w)
{
	memset(&w->rf, 0, sizeof(w->rf));
	w->rf.want = true;
	sg_resp_framer_init(&w->rf.framer);
}

void
refresher_tick(struct sg_proxy_worker *w)
{
	struct refresher *rf = &w->rf;
	void *msg;
	uint64_t deadline;

	while (rte_ring_sc_dequeue(w->p->ctl, &msg) == 0)
		rf->want = true;
	if (rf->state == RF_IDLE) {
		if (w->p->stop)
			return;
		if ((rf->want && w->now_ns >= rf->not_before_ns) || w->now_ns >= rf->next_ns) {
			rf->tried = 0;
			rf_start(w);
		}
		return;
	}
	deadline = rf->started_ns + w->cfg->backend.connect_timeout_ns +
		   SG_MAX(w->cfg->backend.request_timeout_ns, SG_NS_PER_S);
	if (w->now_ns > deadline) {
		if (rf->s != NULL) {
			sg_io_abort(rf->s);
			rf->s = NULL;
		}
		rf_fail(w, "timed out");
	}
}

void
refresher_fini(struct sg_proxy_worker *w)
{
	rf_close(w);
}
