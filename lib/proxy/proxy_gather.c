/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cross-worker questions: CLIENT LIST over every worker's sessions.
 *
 * Each worker owns its sessions and nobody else reads them, so a command
 * that must see all of them asks the other workers through their mail
 * rings and answers once every worker has replied:
 *
 *   asking worker A                          worker B (each other one)
 *   ---------------                          -------------------------
 *   CLIENT LIST arrives
 *   req (REQ_LOCAL, RQ_GATHER) joins the
 *   session fifo; A's own lines go in
 *   r->reply as the first part; waiting = n-1
 *          ---- GATHER_ASK {from A, r} ---->  gather_tick: writes its own
 *                                             lines into a fresh buffer
 *          <--- GATHER_ANSWER {r, text} ----
 *   gather_tick: appends text; --waiting;
 *   at 0 the text becomes the reply (RQ_DONE)
 *
 * The req pointer travels out and back but only A dereferences it. A client
 * that closes meanwhile orphans the req (sess = NULL); the last answer frees
 * it. A worker has at most GATHER_MAX_PENDING questions out (more get an
 * error), so a ring never holds more than the questions of every other
 * worker plus the answers to this one's: it is sized for that, and a post
 * cannot find it full, which would leave a question unanswered for good.
 * Rings live in struct sg_proxy, so they outlast any one worker; at worker
 * destruction its pending reqs are freed and answers still queued for it
 * are dropped with the rings.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy_internal.h"

enum gather_kind { GATHER_ASK, GATHER_ANSWER };

struct gather_msg {
	enum gather_kind kind;
	unsigned from;			/* the asking worker */
	struct req *r;			/* the asker's; opaque to the others */
	char *text;			/* ANSWER: this worker's lines (malloc) */
	size_t len;
};

static __thread struct sg_sink gather_sink;

int
gather_init(struct sg_proxy *p)
{
	char name[RTE_RING_NAMESIZE];

	/* asks from every other worker and answers from every other worker,
	 * GATHER_MAX_PENDING of each at most */
	unsigned size = 2u * GATHER_MAX_PENDING * p->nworkers;

	for (unsigned i = 0; i < p->nworkers; i++) {
		snprintf(name, sizeof(name), "sg_mail_%d_%u", (int)getpid(), i);
		p->mail[i] = rte_ring_create(name, size, SOCKET_ID_ANY,
					     RING_F_SC_DEQ | RING_F_EXACT_SZ);
		if (p->mail[i] == NULL)
			return -1;
	}
	return 0;
}

void
gather_destroy(struct sg_proxy *p)
{
	void *m;

	for (unsigned i = 0; i < p->nworkers; i++) {
		if (p->mail[i] == NULL)
			continue;
		while (rte_ring_sc_dequeue(p->mail[i], &m) == 0) {
			free(((struct gather_msg *)m)->text);
			free(m);
		}
		rte_ring_free(p->mail[i]);
		p->mail[i] = NULL;
	}
}

static bool
post(struct sg_proxy *p, unsigned to, struct gather_msg *m)
{
	if (to >= p->nworkers || p->mail[to] == NULL ||
	    rte_ring_mp_enqueue(p->mail[to], m) != 0) {
		free(m->text);
		free(m);
		return false;
	}
	return true;
}

/* The gathered lines become the reply of r, which is then done. */
static void
gather_finish(struct sg_proxy_worker *w, struct req *r)
{
	struct session *sess = r->sess;
	struct sg_membuf text = r->reply;

	TAILQ_REMOVE(&w->gathers, r, link);
	w->ngathers--;
	if (sess == NULL) {
		r->reply.limit = 0;
		req_free(w, r);
		return;
	}
	sg_membuf_init(&r->reply, 0);
	sg_membuf_sink(&r->reply, &gather_sink);
	proxy_write_text(&gather_sink, sess, text.data != NULL ? text.data : "", text.len);
	sg_membuf_sink_done(&r->reply, &gather_sink);
	sg_membuf_free(&text);
	session_reply_ready(w, r);
}

bool
gather_client_list(struct session *sess)
{
	struct sg_proxy_worker *w = sess->w;
	struct sg_proxy *p = w->p;
	struct req *r;

	if (p->nworkers < 2)
		return false;
	if (w->ngathers >= GATHER_MAX_PENDING) {
		local_error(sess, "ERR CLIENT LIST: %u listings are being gathered on this "
			    "worker already, try again", GATHER_MAX_PENDING);
		return true;
	}
	r = req_new(w, REQ_LOCAL);
	if (r == NULL) {
		local_error(sess, "ERR CLIENT LIST: out of memory");
		return true;
	}
	r->sess = sess;
	r->state = RQ_GATHER;
	r->parts_left = 0;
	TAILQ_INSERT_TAIL(&sess->fifo, r, sess_link);
	sess->nfifo++;
	TAILQ_INSERT_TAIL(&w->gathers, r, link);
	w->ngathers++;
	r->reply.limit = GATHER_MAX_TEXT;	/* reset by gather_finish */
	proxy_client_list_text(w, &r->reply);
	for (unsigned i = 0; i < p->nworkers; i++) {
		struct gather_msg *m;

		if (i == w->index)
			continue;
		m = calloc(1, sizeof(*m));
		if (m == NULL)
			continue;	/* that worker's lines are missing */
		m->kind = GATHER_ASK;
		m->from = w->index;
		m->r = r;
		if (post(p, i, m))
			r->parts_left++;
	}
	sg_tm_inc(w->tm, SG_TM_commands_local);
	if (r->parts_left == 0)
		gather_finish(w, r);
	return true;
}

void
gather_tick(struct sg_proxy_worker *w)
{
	struct sg_proxy *p = w->p;
	struct rte_ring *ring = p->mail[w->index];
	void *msgs[32];
	unsigned n;

	if (ring == NULL)
		return;
	while ((n = rte_ring_sc_dequeue_burst(ring, msgs, RTE_DIM(msgs), NULL)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			struct gather_msg *m = msgs[i];

			if (m->kind == GATHER_ASK) {
				struct sg_membuf text;

				sg_membuf_init(&text, GATHER_MAX_TEXT);
				proxy_client_list_text(w, &text);
				m->kind = GATHER_ANSWER;
				m->text = text.data;	/* handed over, freed by the asker */
				m->len = text.len;
				post(p, m->from, m);
				continue;
			}
			if (m->len > 0)
				(void)sg_membuf_append(&m->r->reply, m->text, m->len);
			if (--m->r->parts_left == 0)
				gather_finish(w, m->r);
			free(m->text);
			free(m);
		}
	}
}

void
gather_fini(struct sg_proxy_worker *w)
{
	struct req *r;

	while ((r = TAILQ_FIRST(&w->gathers)) != NULL) {
		/* the sessions are gone by now: every pending one is an orphan */
		TAILQ_REMOVE(&w->gathers, r, link);
		w->ngathers--;
		r->reply.limit = 0;
		req_free(w, r);
	}
}
