/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Requests come from a per-worker free list. A recycled request keeps
 * its wire and reply buffers (up to REQ_KEEP_BYTES each), so the steady
 * state allocates nothing. The list is bounded (REQ_FREE_MAX): a burst of
 * requests (thousands of pipelined clients vanishing at once) returns its
 * memory instead of parking it here for good.
 */
#include <stdlib.h>

#include "proxy_internal.h"

#define REQ_KEEP_BYTES 1024
#define REQ_FREE_MAX 1024

static void
keep_or_free(struct sg_membuf *b)
{
	if (b->cap > REQ_KEEP_BYTES)
		sg_membuf_free(b);
	b->len = 0;
}

struct req *
req_new(struct sg_proxy_worker *w, enum req_kind kind)
{
	struct req *r = w->free_reqs;
	struct sg_membuf wire, reply;

	if (r != NULL) {
		w->free_reqs = r->free_next;
		w->nfree_reqs--;
		wire = r->wire;
		reply = r->reply;
	} else {
		r = malloc(sizeof(*r));
		if (r == NULL)
			return NULL;
		sg_membuf_init(&wire, 0);
		sg_membuf_init(&reply, 0);
	}
	memset(r, 0, sizeof(*r));
	r->wire = wire;
	r->reply = reply;
	r->w = w;
	r->kind = (uint8_t)kind;
	r->state = RQ_NEW;
	r->proto = 2;
	r->cls = SG_TM_OTHER;
	r->start_ns = w->now_ns;
	sg_timer_init(&r->timer, NULL, r);
	return r;
}

void
req_free(struct sg_proxy_worker *w, struct req *r)
{
	if (sg_timer_armed(&r->timer))
		sg_timer_cancel(&w->wheel, &r->timer);
	free(r->parts);
	free(r->key_part);
	free(r->key_pos);
	r->parts = NULL;
	r->key_part = r->key_pos = NULL;
	keep_or_free(&r->wire);
	keep_or_free(&r->reply);
	if (w->nfree_reqs >= REQ_FREE_MAX) {
		sg_membuf_free(&r->wire);
		sg_membuf_free(&r->reply);
		free(r);
		return;
	}
	r->free_next = w->free_reqs;
	w->free_reqs = r;
	w->nfree_reqs++;
}
