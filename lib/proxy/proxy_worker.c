/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The proxy and its workers: creation, the poll loop, shutdown, and the
 * telemetry commands that describe them.
 *
 * One loop iteration (DESIGN.md section 3):
 *
 *   quiescent state (RCU) -> pick up a new topology / command table
 *   poll: accept, read, parse, route, write to backends, frame replies
 *         (sleeps in the poll only when the last iteration found nothing)
 *   timers: holds, retries, reconnects, maintenance
 *   worker 0: topology refresh, RCU-deferred frees
 *   flush: one write per connection with output
 *
 * Shutdown: sg_proxy_stop() sets a flag; each worker closes its
 * listeners, stops reading requests, lets what is in flight finish for at
 * most DRAIN_NS, then closes every connection and lingers (linger()
 * below) until what it wrote has been delivered, and returns.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "sg_build_config.h"
#include "proxy_internal.h"

RTE_LOG_REGISTER_DEFAULT(sg_proxy_logtype, NOTICE);

#define DRAIN_NS (3 * SG_NS_PER_S)
/* After a drain that used all of DRAIN_NS, this long for the closes. */
#define LINGER_NS (500 * SG_NS_PER_MS)
#define MAINTENANCE_NS (100 * SG_NS_PER_MS)

/* ---- the proxy ---- */

static struct sg_proxy *the_proxy;	/* for telemetry callbacks */
static pthread_mutex_t telemetry_lock = PTHREAD_MUTEX_INITIALIZER;

struct sg_proxy *
sg_proxy_create(const struct sg_config *cfg, unsigned nworkers,
		const struct sockaddr_in *seeds, unsigned nseeds)
{
	struct sg_proxy *p;
	size_t rcu_size;
	char name[RTE_RING_NAMESIZE];

	if (cfg == NULL || nworkers == 0 || nworkers >= PX_MAX_WORKERS) {
		rte_errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		goto nomem;
	p->cfg = cfg;
	p->nworkers = nworkers;
	p->start_ns = sg_clock_ns();
	snprintf(p->server_version, sizeof(p->server_version), "7.0.0");
	atomic_store(&p->next_client_id, 1);
	atomic_store(&p->cmds, sg_command_builtin());

	sg_resp_limits_default(&p->limits);
	p->limits.max_args = (uint32_t)SG_MIN(cfg->limits.max_args, UINT32_MAX);
	p->limits.max_bulk = cfg->limits.max_bulk;
	p->limits.max_request = cfg->limits.max_request;
	p->limits.max_inline = (uint32_t)SG_MIN(cfg->limits.max_inline, UINT32_MAX);
	p->limits.unauth_max_args = (uint32_t)SG_MIN(cfg->limits.unauth_max_args, UINT32_MAX);
	p->limits.unauth_max_bulk = cfg->limits.unauth_max_bulk;

	p->seeds = calloc(nseeds ? nseeds : 1, sizeof(*p->seeds));
	if (p->seeds == NULL)
		goto nomem;
	memcpy(p->seeds, seeds, nseeds * sizeof(*seeds));
	p->nseeds = nseeds;

	/* every worker reads the topology; nobody else does */
	rcu_size = rte_rcu_qsbr_get_memsize(nworkers);
	p->rcu = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(rcu_size, RTE_CACHE_LINE_SIZE));
	if (p->rcu == NULL || rte_rcu_qsbr_init(p->rcu, nworkers) != 0)
		goto nomem;
	snprintf(name, sizeof(name), "sg_ctl_%d", (int)getpid());
	p->ctl = rte_ring_create(name, 1024, SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (p->ctl == NULL || gather_init(p) != 0)
		goto nomem;
	the_proxy = p;
	return p;
nomem:
	if (p != NULL) {
		free(p->seeds);
		free(p->rcu);
		free(p);
	}
	rte_errno = ENOMEM;
	return NULL;
}

void
sg_proxy_destroy(struct sg_proxy *p)
{
	struct sg_cluster_topology *t;
	const struct sg_command_table *c;

	if (p == NULL)
		return;
	pthread_mutex_lock(&telemetry_lock);
	the_proxy = NULL;
	pthread_mutex_unlock(&telemetry_lock);
	t = atomic_exchange(&p->topo, NULL);
	sg_cluster_topology_free(t);
	c = atomic_exchange(&p->cmds, NULL);
	if (c != NULL && c != sg_command_builtin())
		sg_command_table_free((struct sg_command_table *)c);
	rte_ring_free(p->ctl);
	gather_destroy(p);
	free(p->rcu);
	free(p->seeds);
	free(p);
}

uint64_t
sg_proxy_set_input_budget(struct sg_proxy *p, uint64_t rx_bytes)
{
	uint64_t share = rx_bytes / 4;

	if (p->limits.max_request > share)
		p->limits.max_request = share;
	if (p->limits.max_bulk > share)
		p->limits.max_bulk = share;
	return p->limits.max_request;
}

void
sg_proxy_stop(struct sg_proxy *p)
{
	atomic_store(&p->stop, true);
}

/* ---- workers ---- */

static void
retry_parked(struct sg_timer *t, void *arg)
{
	struct sg_proxy_worker *w = arg;

	parked_redispatch(w);
	if (w->nparked > 0)
		sg_timer_arm_at(&w->wheel, t, w->now_ns + w->cfg->cluster.retry_backoff_max_ns);
}

/*
 * The mbuf pool is shared by every connection of the worker. When fewer
 * than 1/16 of it are free, the client holding the most unparsed input
 * (a huge or never-finished request) is told and closed, so the others
 * keep flowing instead of everyone stalling on an empty pool.
 */
static void
shed_if_starved(struct sg_proxy_worker *w)
{
	struct session *sess, *worst = NULL;
	unsigned avail, size;

	sg_io_worker_mbufs(w->io, &avail, &size);
	if (avail >= size / 16)
		return;
	TAILQ_FOREACH(sess, &w->sessions, link) {
		if (!sess->closing && (worst == NULL || sess->in.held > worst->in.held))
			worst = sess;
	}
	if (worst == NULL || worst->in.held < 64 * 1024)
		return;
	PX_LOG(WARNING, "mbuf pool low (%u of %u free): closing client %llu holding "
	       "%llu bytes of unfinished input\n", avail, size, (unsigned long long)worst->id,
	       (unsigned long long)worst->in.held);
	sg_tm_inc(w->tm, SG_TM_errors_starved);
	session_shed(worst);
}

/* Every MAINTENANCE_NS: stuck backends, idle clients, published status. */
static void
maintenance(struct sg_timer *t, void *arg)
{
	struct sg_proxy_worker *w = arg;
	const struct sg_config *cfg = w->cfg;
	struct backend_node *n;
	struct session *sess, *next;

	if (cfg->backend.request_timeout_ns > 0) {
		TAILQ_FOREACH(n, &w->nodes, link) {
			for (int p = 0; p < 2; p++) {
				for (uint32_t i = 0; i < n->nconns; i++) {
					struct backend_conn *c = &n->conn[p][i];
					struct req *head = TAILQ_FIRST(&c->inflight);

					if (c->state == BC_READY && head != NULL &&
					    head->kind != REQ_CONTROL &&
					    w->now_ns - head->sent_ns > cfg->backend.request_timeout_ns) {
						PX_LOG(WARNING, "%s did not answer for %llu ms; "
						       "reconnecting\n", n->name,
						       (unsigned long long)((w->now_ns - head->sent_ns) /
									    SG_NS_PER_MS));
						backend_conn_abort(c);
					}
				}
			}
		}
	}
	if (cfg->limits.idle_timeout_ns > 0) {
		for (sess = TAILQ_FIRST(&w->sessions); sess != NULL; sess = next) {
			next = TAILQ_NEXT(sess, link);
			if (sess->nfifo == 0 &&
			    w->now_ns - sess->last_active_ns > cfg->limits.idle_timeout_ns)
				session_close_idle(sess);
		}
	}
	shed_if_starved(w);
	backend_prune(w);
	publish_status(w);
	sg_timer_arm_at(&w->wheel, t, w->now_ns + MAINTENANCE_NS);
}

struct sg_proxy_worker *
sg_proxy_worker_create(struct sg_proxy *p, unsigned index, struct sg_io_worker *io)
{
	const struct sg_config *cfg = p->cfg;
	struct sg_proxy_worker *w;
	int rc = ENOMEM;

	if (index >= p->nworkers || io == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	w = rte_zmalloc("sg_proxy_worker", sizeof(*w), RTE_CACHE_LINE_SIZE);
	if (w == NULL)
		goto fail;
	w->p = p;
	w->cfg = cfg;
	w->index = index;
	w->io = io;
	w->now_ns = sg_clock_ns();
	w->tm = sg_telemetry_worker(index);
	if (w->tm == NULL) {
		rc = EINVAL;
		goto fail;
	}
	TAILQ_INIT(&w->nodes);
	TAILQ_INIT(&w->sessions);
	TAILQ_INIT(&w->parked);
	TAILQ_INIT(&w->gathers);
	sg_timer_wheel_init(&w->wheel, SG_NS_PER_MS, w->now_ns);
	sg_timer_init(&w->retry_timer, retry_parked, w);
	sg_timer_init(&w->maint_timer, maintenance, w);
	sg_timer_arm_at(&w->wheel, &w->maint_timer, w->now_ns + MAINTENANCE_NS);
	w->slot_stamp = calloc(SG_CLUSTER_SLOTS, sizeof(uint32_t));
	w->slot_part = calloc(SG_CLUSTER_SLOTS, sizeof(uint32_t));
	if (w->slot_stamp == NULL || w->slot_part == NULL)
		goto fail;

	for (unsigned i = 0; i < cfg->n_listen && i < PX_MAX_LISTEN; i++) {
		const struct sg_config_listen *l = &cfg->listen[i];
		struct sockaddr_in addr = {
			.sin_family = AF_INET,
			.sin_addr = l->address.addr,
			.sin_port = htons(l->port),
		};
		int lrc;

		w->lctx[i].w = w;
		w->lctx[i].listen = l;
		lrc = sg_io_listen(io, &addr, (int)l->backlog, session_accept, &w->lctx[i],
				   &w->listener[i]);
		if (lrc != 0) {
			PX_LOG(ERR, "cannot listen on %s:%u: %s\n", l->address.text, l->port,
			       strerror(-lrc));
			rc = -lrc;
			goto fail;
		}
		w->nlisteners++;
	}
	if (rte_rcu_qsbr_thread_register(p->rcu, index) != 0) {
		rc = EINVAL;
		goto fail;
	}
	rte_rcu_qsbr_thread_online(p->rcu, index);
	if (index == 0)
		refresher_init(w);
	p->worker[index] = w;
	return w;
fail:
	if (w != NULL) {
		for (unsigned i = 0; i < w->nlisteners; i++)
			sg_io_listener_close(w->listener[i]);
		free(w->slot_stamp);
		free(w->slot_part);
		rte_free(w);
	}
	rte_errno = rc;
	return NULL;
}

/* Picks up what worker 0 published since the last iteration. */
static void
load_shared(struct sg_proxy_worker *w)
{
	struct sg_cluster_topology *t = atomic_load_explicit(&w->p->topo, memory_order_acquire);

	w->cmds = atomic_load_explicit(&w->p->cmds, memory_order_acquire);
	if (t == w->topo)
		return;
	w->topo = t;
	if (t != NULL && t->nnodes > w->node_of_cap) {
		struct backend_node **a = realloc(w->node_of, t->nnodes * sizeof(*a));

		if (a == NULL) {
			/* keep the old topology view rather than index past the array */
			w->topo = NULL;
			return;
		}
		w->node_of = a;
		w->node_of_cap = t->nnodes;
	}
	if (t != NULL)
		memset(w->node_of, 0, t->nnodes * sizeof(*w->node_of));
	w->topo_version = t != NULL ? t->version : 0;
	proxy_topology_changed(w);
}

static void
start_drain(struct sg_proxy_worker *w)
{
	for (unsigned i = 0; i < w->nlisteners; i++)
		sg_io_listener_close(w->listener[i]);
	w->nlisteners = 0;
	w->draining = true;
	w->drain_deadline_ns = w->now_ns + DRAIN_NS;
}

/* One turn of the loop for linger(): the transport only. */
static void
linger_poll(struct sg_proxy_worker *w)
{
	sg_io_worker_poll(w->io, 0);
	w->now_ns = sg_io_worker_now(w->io);
	gather_tick(w);	/* other workers may still ask for CLIENT LIST */
	sg_io_worker_flush(w->io);
}

/*
 * The end of a worker, after its sessions are gone:
 *
 *   close backends and the refresher's connection
 *   linger: poll and flush until the transport has delivered everything
 *           (sg_io_worker_unfinished() == 0: output written, FINs
 *           acknowledged in DPDK mode) or the drain's deadline, at least
 *           LINGER_NS from now, passes; then reset what is left
 *   out:    count this worker out, poll until every worker is out (or
 *           the latest they can take has passed), then poll and flush
 *           once more
 *
 * The last step is for DPDK mode on a port with fewer queues than
 * workers: a worker without a TX queue hands its frames to the worker
 * that has one (lib/net), which must still poll after the last of them
 * was written, or the FINs and RSTs of the shutdown never leave and the
 * peers keep connections nobody answers. The timers of the proxy no
 * longer run here: what they would touch is closed.
 */
static void
linger(struct sg_proxy_worker *w)
{
	struct sg_proxy *p = w->p;
	uint64_t deadline = SG_MAX(w->drain_deadline_ns, w->now_ns + LINGER_NS);

	/* asleep or not, this worker holds no RCU-protected pointer now */
	rte_rcu_qsbr_thread_offline(p->rcu, w->index);
	backend_close_all(w);
	if (w->index == 0)
		refresher_fini(w);
	sg_io_worker_flush(w->io);
	while (sg_io_worker_unfinished(w->io) > 0 && w->now_ns < deadline)
		linger_poll(w);
	sg_io_worker_abort_all(w->io);
	sg_io_worker_flush(w->io);
	/* every worker comes out by its drain deadline plus LINGER_NS (they
	 * all started draining within an iteration of each other); bounded,
	 * since a worker that failed to start never comes out */
	deadline = SG_MAX(w->drain_deadline_ns, w->now_ns) + 2 * LINGER_NS;
	atomic_fetch_add(&p->workers_out, 1);
	while (atomic_load(&p->workers_out) < p->nworkers && w->now_ns < deadline)
		linger_poll(w);
	linger_poll(w);
}

int
sg_proxy_worker_run(struct sg_proxy_worker *w)
{
	struct sg_proxy *p = w->p;
	const struct sg_config *cfg = w->cfg;
	uint64_t idle_cap = cfg->io.busy_poll ? 0 : cfg->io.idle_sleep_ns;
	uint64_t tsc = rte_rdtsc(), slept = sg_io_worker_sleep_cycles(w->io);
	bool worked = true;

	/* readers see this worker's lcore before the first maintenance tick */
	publish_status(w);
	for (;;) {
		uint64_t wait = 0, tsc_end, slept_end;
		int n;

		w->iteration++;
		rte_rcu_qsbr_quiescent(p->rcu, w->index);
		load_shared(w);
		/*
		 * Everything this iteration produced has been flushed, so wait in
		 * the poll (bounded by the next timer): it returns at once when
		 * something is ready. A zero-timeout poll first would mostly find
		 * nothing and cost a system call per iteration.
		 *
		 * The worker stays online for RCU while it sleeps: the callbacks
		 * of the poll run when the sleep ends, on the slot table loaded
		 * above, so going offline here would let worker 0 free that
		 * table under them. Nothing waits for a grace period (worker 0
		 * polls for it in deferred_reclaim()), so a sleeper only delays
		 * a free by its sleep.
		 */
		if (idle_cap > 0)
			wait = sg_timer_wheel_idle_ns(&w->wheel, w->now_ns, idle_cap);
		n = sg_io_worker_poll(w->io, wait);
		w->now_ns = sg_io_worker_now(w->io);
		worked = n > 0;
		if (sg_timer_wheel_advance(&w->wheel, w->now_ns) > 0)
			worked = true;
		gather_tick(w);
		if (w->index == 0) {
			refresher_tick(w);
			deferred_reclaim(w, false);
		}
		if (sg_io_worker_flush(w->io) > 0)
			worked = true;
		/*
		 * Where the core's time goes (<prefix>/workers): awake cycles of
		 * this iteration as busy or idle, time blocked in the poll as
		 * asleep (the system call of a blocking poll included: it cannot
		 * be told apart from the wait).
		 */
		tsc_end = rte_rdtsc();
		slept_end = sg_io_worker_sleep_cycles(w->io);
		sg_tm_inc(w->tm, worked ? SG_TM_loop_busy : SG_TM_loop_idle);
		sg_tm_add(w->tm, worked ? SG_TM_cycles_busy : SG_TM_cycles_idle,
			  (tsc_end - tsc) - (slept_end - slept));
		sg_tm_add(w->tm, SG_TM_cycles_asleep, slept_end - slept);
		tsc = tsc_end;
		slept = slept_end;

		if (atomic_load_explicit(&p->stop, memory_order_relaxed) && !w->draining)
			start_drain(w);
		if (w->draining) {
			session_drain_all(w, w->now_ns > w->drain_deadline_ns);
			if (w->nsessions == 0)
				break;
		}
	}
	/* final flush of what the drain wrote */
	sg_io_worker_flush(w->io);
	linger(w);
	return 0;
}

void
sg_proxy_worker_destroy(struct sg_proxy_worker *w)
{
	struct sg_proxy *p;
	struct req *r;

	if (w == NULL)
		return;
	p = w->p;
	session_drain_all(w, true);
	backend_close_all(w);
	while ((r = TAILQ_FIRST(&w->parked)) != NULL) {
		TAILQ_REMOVE(&w->parked, r, link);
		req_free(w, r);
	}
	gather_fini(w);
	if (w->index == 0) {
		refresher_fini(w);
		/* every worker has stopped reading by now (the app joins them
		 * before destroying worker 0) */
		deferred_reclaim(w, true);
	}
	sg_io_worker_flush(w->io);
	for (unsigned i = 0; i < w->nlisteners; i++)
		sg_io_listener_close(w->listener[i]);
	rte_rcu_qsbr_thread_offline(p->rcu, w->index);
	rte_rcu_qsbr_thread_unregister(p->rcu, w->index);
	while ((r = w->free_reqs) != NULL) {
		w->free_reqs = r->free_next;
		sg_membuf_free(&r->wire);
		sg_membuf_free(&r->reply);
		free(r);
	}
	p->worker[w->index] = NULL;
	free(w->node_of);
	free(w->slot_stamp);
	free(w->slot_part);
	rte_free(w);
}

/* ---- status published for telemetry (seqlock per worker) ---- */

/* The entry for a node in the publication being written, added if new. */
static struct node_pub *
pub_node(struct worker_pub *pub, uint32_t ipv4, uint16_t port)
{
	for (uint32_t i = 0; i < pub->count; i++) {
		if (pub->node[i].ipv4 == ipv4 && pub->node[i].port == port)
			return &pub->node[i];
	}
	if (pub->count == PX_PUB_NODES)
		return NULL;
	memset(&pub->node[pub->count], 0, sizeof(pub->node[0]));
	pub->node[pub->count].ipv4 = ipv4;
	pub->node[pub->count].port = port;
	return &pub->node[pub->count++];
}

void
publish_status(struct sg_proxy_worker *w)
{
	const struct sg_cluster_topology *t = w->topo;
	struct worker_pub *pub = &w->pub;
	struct backend_node *n;

	atomic_fetch_add_explicit(&pub->seq, 1, memory_order_acq_rel);
	pub->lcore = rte_lcore_id();
	sg_io_worker_stats(w->io, &pub->io);
	pub->count = 0;
	/* every node the topology names, then pools of nodes it no longer does */
	for (uint16_t k = 0; t != NULL && k < t->nnodes; k++) {
		const struct sg_cluster_node *tn = &t->node[k];
		struct node_pub *np = pub_node(pub, tn->ipv4, tn->port);

		if (np == NULL)
			break;
		np->in_topology = 1;
		np->role = tn->role;
		np->health = tn->health;
		np->slots = tn->role == SG_CLUSTER_PRIMARY && tn->shard != SG_CLUSTER_NONE ?
			    t->shard[tn->shard].nslots : 0;
	}
	TAILQ_FOREACH(n, &w->nodes, link) {
		struct node_pub *np = pub_node(pub, n->addr.sin_addr.s_addr, ntohs(n->addr.sin_port));

		if (np == NULL)
			break;
		np->down = n->down;
		for (int p = 0; p < 2; p++) {
			for (uint32_t i = 0; i < n->nconns; i++) {
				np->conns += n->conn[p][i].state == BC_READY;
				np->inflight += n->conn[p][i].ninflight;
			}
		}
	}
	pub->parked = w->nparked;
	pub->topo_version = w->topo_version;
	pub->topo_shards = t != NULL ? t->nshards : 0;
	pub->topo_nodes = t != NULL ? t->nnodes : 0;
	pub->slots_served = t != NULL ? t->slots_served : 0;
	pub->topo_built_ns = t != NULL ? t->built_ns : 0;
	if (w->index == 0) {
		pub->refresh_ok_ns = w->rf.last_ok_ns;
		snprintf(pub->refresh_error, sizeof(pub->refresh_error), "%s", w->rf.last_error);
	}
	atomic_fetch_add_explicit(&pub->seq, 1, memory_order_acq_rel);
}

/* Copies a worker's published status; false when it kept changing. */
static bool
read_status(const struct sg_proxy_worker *w, struct worker_pub *out)
{
	for (int tries = 0; tries < 100; tries++) {
		uint32_t s1 = atomic_load_explicit(&w->pub.seq, memory_order_acquire), s2;

		if (s1 & 1)
			continue;
		memcpy((char *)out + sizeof(out->seq), (const char *)&w->pub + sizeof(out->seq),
		       sizeof(*out) - sizeof(out->seq));
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&w->pub.seq, memory_order_relaxed);
		if (s1 == s2)
			return true;
	}
	return false;
}

static int
cmd_nodes(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct worker_pub *pub = malloc(sizeof(*pub)), *w0 = malloc(sizeof(*w0));
	struct sg_proxy *p;
	int rc = 0;

	if (pub == NULL || w0 == NULL) {
		free(pub);
		free(w0);
		return -ENOMEM;
	}
	pthread_mutex_lock(&telemetry_lock);
	p = the_proxy;
	if (p == NULL || p->worker[0] == NULL || !read_status(p->worker[0], w0)) {
		rc = -EAGAIN;
		goto out;
	}
	rte_tel_data_start_dict(d);
	for (uint32_t i = 0; i < w0->count && i < 64; i++) {
		const struct node_pub *np = &w0->node[i];
		struct rte_tel_data *nd = rte_tel_data_alloc();
		char key[64], ip[INET_ADDRSTRLEN];
		struct in_addr a = { .s_addr = np->ipv4 };
		uint32_t down = np->down, conns = np->conns, inflight = np->inflight;

		if (nd == NULL)
			break;
		/* the other workers' views of the same node */
		for (unsigned k = 1; k < p->nworkers; k++) {
			if (p->worker[k] == NULL || !read_status(p->worker[k], pub))
				continue;
			for (uint32_t j = 0; j < pub->count; j++) {
				if (pub->node[j].ipv4 == np->ipv4 && pub->node[j].port == np->port) {
					down += pub->node[j].down;
					conns += pub->node[j].conns;
					inflight += pub->node[j].inflight;
				}
			}
		}
		inet_ntop(AF_INET, &a, ip, sizeof(ip));
		/* telemetry names allow [A-Za-z0-9_/] only: 127_0_0_1_7000 */
		snprintf(key, sizeof(key), "%s_%u", ip, np->port);
		for (char *c = key; *c != '\0'; c++) {
			if (*c == '.')
				*c = '_';
		}
		rte_tel_data_start_dict(nd);
		{
			char addr[32];

			snprintf(addr, sizeof(addr), "%s:%u", ip, np->port);
			rte_tel_data_add_dict_string(nd, "address", addr);
		}
		rte_tel_data_add_dict_string(nd, "state", down ? "down" : "up");
		rte_tel_data_add_dict_string(nd, "role", !np->in_topology ? "unknown" :
					     np->role == SG_CLUSTER_PRIMARY ? "primary" : "replica");
		rte_tel_data_add_dict_string(nd, "health", np->health == SG_CLUSTER_FAILED ? "failed" :
					     np->health == SG_CLUSTER_LOADING ? "loading" : "online");
		rte_tel_data_add_dict_u64(nd, "slots", np->slots);
		rte_tel_data_add_dict_u64(nd, "connections", conns);
		rte_tel_data_add_dict_u64(nd, "in_flight", inflight);
		rte_tel_data_add_dict_u64(nd, "workers_reporting_down", down);
		rte_tel_data_add_dict_container(d, key, nd, 0);
	}
out:
	pthread_mutex_unlock(&telemetry_lock);
	free(pub);
	free(w0);
	return rc;
}

static int
cmd_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct worker_pub *w0 = malloc(sizeof(*w0));
	struct sg_proxy *p;
	uint64_t now = sg_clock_ns(), parked = 0;
	int rc = 0;

	if (w0 == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&telemetry_lock);
	p = the_proxy;
	if (p == NULL || p->worker[0] == NULL || !read_status(p->worker[0], w0)) {
		rc = -EAGAIN;
		goto out;
	}
	for (unsigned k = 0; k < p->nworkers; k++) {
		struct worker_pub pub;

		if (p->worker[k] != NULL && read_status(p->worker[k], &pub))
			parked += pub.parked;
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "version", SG_VERSION);
	rte_tel_data_add_dict_string(d, "io_mode", p->cfg->io.mode == SG_CONFIG_IO_DPDK ? "dpdk" : "kernel");
	rte_tel_data_add_dict_u64(d, "workers", p->nworkers);
	rte_tel_data_add_dict_u64(d, "uptime_s", (now - p->start_ns) / SG_NS_PER_S);
	rte_tel_data_add_dict_u64(d, "clients", atomic_load(&p->clients));
	rte_tel_data_add_dict_string(d, "backend_version", p->server_version);
	rte_tel_data_add_dict_u64(d, "topology_version", w0->topo_version);
	rte_tel_data_add_dict_u64(d, "topology_age_ms",
				  w0->topo_built_ns ? (now - w0->topo_built_ns) / SG_NS_PER_MS : 0);
	rte_tel_data_add_dict_u64(d, "topology_shards", w0->topo_shards);
	rte_tel_data_add_dict_u64(d, "topology_nodes", w0->topo_nodes);
	rte_tel_data_add_dict_u64(d, "slots_served", w0->slots_served);
	rte_tel_data_add_dict_u64(d, "parked_requests", parked);
	rte_tel_data_add_dict_string(d, "last_refresh_error",
				     w0->refresh_error[0] ? w0->refresh_error : "none");
out:
	pthread_mutex_unlock(&telemetry_lock);
	free(w0);
	return rc;
}

/*
 * <prefix>/workers: one dict per worker ("0", "1", ...): where its core's
 * time goes (loop iterations and TSC cycles busy / idle / asleep), what
 * it handled (client commands, bytes), its queue's frames and the packets
 * steered between workers (DPDK mode), and cycles per request (busy
 * cycles / client commands).
 */
static int
cmd_workers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct worker_pub *pub = malloc(sizeof(*pub));
	uint64_t hz = rte_get_tsc_hz();
	struct sg_proxy *p;
	char key[16];
	int rc = 0;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (pub == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&telemetry_lock);
	p = the_proxy;
	if (p == NULL) {
		rc = -EAGAIN;
		goto out;
	}
	rte_tel_data_start_dict(d);
	for (unsigned k = 0; k < p->nworkers; k++) {
		const struct sg_telemetry_worker *tm = sg_telemetry_worker(k);
		struct rte_tel_data *wd;
		uint64_t c[SG_TM_NCOUNTERS];

		if (p->worker[k] == NULL || tm == NULL || !read_status(p->worker[k], pub))
			continue;
		wd = rte_tel_data_alloc();
		if (wd == NULL) {
			rc = -ENOMEM;
			break;
		}
		for (unsigned i = 0; i < SG_TM_NCOUNTERS; i++)
			c[i] = __atomic_load_n(&tm->counter[i], __ATOMIC_RELAXED);
		rte_tel_data_start_dict(wd);
		rte_tel_data_add_dict_u64(wd, "lcore", pub->lcore);
		rte_tel_data_add_dict_u64(wd, "loops_busy", c[SG_TM_loop_busy]);
		rte_tel_data_add_dict_u64(wd, "loops_idle", c[SG_TM_loop_idle]);
		rte_tel_data_add_dict_u64(wd, "busy_cycles", c[SG_TM_cycles_busy]);
		rte_tel_data_add_dict_u64(wd, "idle_cycles", c[SG_TM_cycles_idle]);
		rte_tel_data_add_dict_u64(wd, "asleep_cycles", c[SG_TM_cycles_asleep]);
		rte_tel_data_add_dict_u64(wd, "tsc_hz", hz);
		rte_tel_data_add_dict_u64(wd, "requests", c[SG_TM_commands]);
		rte_tel_data_add_dict_u64(wd, "cycles_per_request",
					  c[SG_TM_commands] ? c[SG_TM_cycles_busy] / c[SG_TM_commands] : 0);
		rte_tel_data_add_dict_u64(wd, "client_bytes_in", c[SG_TM_bytes_in]);
		rte_tel_data_add_dict_u64(wd, "client_bytes_out", c[SG_TM_bytes_out]);
		rte_tel_data_add_dict_u64(wd, "streams", pub->io.streams);
		rte_tel_data_add_dict_u64(wd, "rx_packets", pub->io.rx_packets);
		rte_tel_data_add_dict_u64(wd, "rx_bytes", pub->io.rx_bytes);
		rte_tel_data_add_dict_u64(wd, "tx_packets", pub->io.tx_packets);
		rte_tel_data_add_dict_u64(wd, "tx_bytes", pub->io.tx_bytes);
		rte_tel_data_add_dict_u64(wd, "steered_in", pub->io.steered_in);
		rte_tel_data_add_dict_u64(wd, "steered_out", pub->io.steered_out);
		snprintf(key, sizeof(key), "%u", k);
		rte_tel_data_add_dict_container(d, key, wd, 0);
	}
out:
	pthread_mutex_unlock(&telemetry_lock);
	free(pub);
	return rc;
}

int
sg_proxy_register_telemetry(struct sg_proxy *p, const char *prefix)
{
	int rc = sg_telemetry_register_builtin(prefix);

	if (rc == 0)
		rc = sg_telemetry_register(prefix, "/info", cmd_info,
					   "Version, mode, workers, topology. No parameters");
	if (rc == 0)
		rc = sg_telemetry_register(prefix, "/nodes", cmd_nodes,
					   "Backend nodes: up/down, role, slots, connections. No parameters");
	if (rc == 0)
		rc = sg_telemetry_register(prefix, "/workers", cmd_workers,
					   "Per worker: busy/idle loops and cycles, requests, "
					   "cycles per request, queue packets/bytes, steered packets. "
					   "No parameters");
	return rc;
}
