/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The transport-independent half of lib/io: workers, the stream object,
 * its output queue and sink, close/abort, and the flush loop. See
 * io_internal.h for the output queue picture.
 */
#include <errno.h>
#include <stdlib.h>

#include <rte_errno.h>
#include <rte_lcore.h>

#include "io_internal.h"

RTE_LOG_REGISTER_DEFAULT(sg_io_logtype, NOTICE);

/* A CLOSING stream whose peer does not read is aborted after this. */
#define IO_CLOSE_LINGER_NS (10 * SG_NS_PER_S)

struct sg_io_worker *
sg_io_worker_create(const struct sg_io_worker_conf *conf)
{
	struct sg_io_worker *w;
	int rc;

	if (conf == NULL || conf->pool == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	w->conf = *conf;
	if (w->conf.tx_pool == NULL)
		w->conf.tx_pool = w->conf.pool;
	if (w->conf.read_burst == 0)
		w->conf.read_burst = 16;
	if (w->conf.max_streams == 0)
		w->conf.max_streams = 65536;
	TAILQ_INIT(&w->streams);
	TAILQ_INIT(&w->flush_list);
	TAILQ_INIT(&w->graveyard);
	TAILQ_INIT(&w->completions);
	TAILQ_INIT(&w->closing);
	TAILQ_INIT(&w->listeners);
	w->now_ns = sg_clock_ns();

	switch (conf->mode) {
	case SG_IO_KERNEL:
		w->t = &io_kernel_transport;
		break;
	case SG_IO_DPDK:
		w->t = &io_dpdk_transport;
		break;
	default:
		free(w);
		rte_errno = EINVAL;
		return NULL;
	}
	rc = w->t->init(w);
	if (rc != 0) {
		free(w);
		rte_errno = -rc;
		return NULL;
	}
	return w;
}

void
sg_io_worker_destroy(struct sg_io_worker *w)
{
	struct sg_io_listener *l;
	struct sg_io_stream *s;

	if (w == NULL)
		return;
	while ((l = TAILQ_FIRST(&w->listeners)) != NULL)
		sg_io_listener_close(l);
	while ((s = TAILQ_FIRST(&w->completions)) != NULL) {
		TAILQ_REMOVE(&w->completions, s, comp_link);
		s->in_completions = false;
	}
	while ((s = TAILQ_FIRST(&w->streams)) != NULL)
		sg_io_abort(s);
	io_graveyard_flush(w);
	w->t->fini(w);
	free(w);
}

static int
sink_more(struct sg_sink *sink, size_t min)
{
	struct sg_io_stream *s = sink->owner;
	struct rte_mbuf *m;

	io_out_settle(s);
	m = rte_pktmbuf_alloc(s->w->conf.tx_pool);
	if (m == NULL) {
		s->w->stats.nombuf++;
		return -ENOMEM;
	}
	if (rte_pktmbuf_tailroom(m) < min) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	m->next = NULL;
	if (s->out_tail != NULL)
		s->out_tail->next = m;
	else
		s->out_head = m;
	s->out_tail = m;
	sink->pos = rte_pktmbuf_mtod(m, char *);
	sink->end = sink->pos + rte_pktmbuf_tailroom(m);
	s->sink_on_tail = true;
	return 0;
}

struct sg_io_stream *
io_stream_new(struct sg_io_worker *w)
{
	struct sg_io_stream *s;

	if (w->stats.streams >= w->conf.max_streams)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->w = w;
	s->fd = -1;
	s->state = IO_CONNECTING;
	s->sink.more = sink_more;
	s->sink.owner = s;
	s->low_mark = 0;
	s->high_mark = SIZE_MAX;
	TAILQ_INSERT_TAIL(&w->streams, s, link);
	w->stats.streams++;
	return s;
}

/* Takes the stream out of service; freed by io_graveyard_flush(). */
void
io_stream_bury(struct sg_io_stream *s)
{
	struct sg_io_worker *w = s->w;

	if (s->state == IO_DEAD)
		return;
	if (s->in_flush_list) {
		TAILQ_REMOVE(&w->flush_list, s, flush_link);
		s->in_flush_list = false;
	}
	if (s->in_completions) {
		TAILQ_REMOVE(&w->completions, s, comp_link);
		s->in_completions = false;
	}
	if (s->state == IO_CLOSING)
		TAILQ_REMOVE(&w->closing, s, comp_link);
	io_out_drop(s);
	TAILQ_REMOVE(&w->streams, s, link);
	s->state = IO_DEAD;
	s->owner_gone = true;
	TAILQ_INSERT_TAIL(&w->graveyard, s, link);
	w->stats.streams--;
	w->stats.closed++;
}

void
io_graveyard_flush(struct sg_io_worker *w)
{
	struct sg_io_stream *s;

	while ((s = TAILQ_FIRST(&w->graveyard)) != NULL) {
		TAILQ_REMOVE(&w->graveyard, s, link);
		free(s);
	}
}

/* Folds what the sink wrote into the tail mbuf's data_len. */
void
io_out_settle(struct sg_io_stream *s)
{
	struct rte_mbuf *t = s->out_tail;
	size_t n;

	if (!s->sink_on_tail || t == NULL)
		return;
	n = (size_t)(s->sink.pos - (rte_pktmbuf_mtod(t, char *) + t->data_len));
	t->data_len = (uint16_t)(t->data_len + n);
	s->backlog += n;
	/* the sink keeps pointing at the same room: later writes settle again */
	s->sink.pos = rte_pktmbuf_mtod(t, char *) + t->data_len;
}

/* `n` bytes from the front of the queue have been taken. */
void
io_out_consumed(struct sg_io_stream *s, size_t n)
{
	s->backlog -= n;
	n += s->out_off;
	while (s->out_head != NULL && n >= s->out_head->data_len) {
		struct rte_mbuf *m = s->out_head;

		/* keep the tail the sink writes into, even when drained */
		if (m == s->out_tail && s->sink_on_tail) {
			n -= m->data_len;
			m->data_off = (uint16_t)(m->data_off + m->data_len);
			m->data_len = 0;
			s->sink.pos = rte_pktmbuf_mtod(m, char *);
			break;
		}
		n -= m->data_len;
		s->out_head = m->next;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
	}
	if (s->out_head == NULL)
		s->out_tail = NULL;
	s->out_off = (uint32_t)n;
}

void
io_out_drop(struct sg_io_stream *s)
{
	struct rte_mbuf *m = s->out_head;

	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		rte_pktmbuf_free_seg(m);
		m = next;
	}
	s->out_head = s->out_tail = NULL;
	s->out_off = 0;
	s->backlog = 0;
	s->sink_on_tail = false;
	s->sink.pos = s->sink.end = NULL;
}

void
io_mark_flush(struct sg_io_stream *s)
{
	if (!s->in_flush_list && s->state != IO_DEAD && !s->in_closed_cb) {
		TAILQ_INSERT_TAIL(&s->w->flush_list, s, flush_link);
		s->in_flush_list = true;
	}
}

void
io_stream_closed(struct sg_io_stream *s, int status)
{
	const struct sg_io_stream_cbs *cbs = s->cbs;
	bool notify = !s->owner_gone && cbs != NULL && cbs->closed != NULL;

	if (s->state == IO_DEAD || s->in_closed_cb)
		return;
	s->w->t->release(s, false);
	if (notify) {
		/* The output is still queued during the callback, so the owner
		 * can tell (sg_io_backlog) what never left. */
		io_out_settle(s);
		s->in_closed_cb = true;
		s->owner_gone = true;
		cbs->closed(s, s->arg, status);
	}
	io_stream_bury(s);
}

void
io_stream_connected(struct sg_io_stream *s, int status)
{
	const struct sg_io_stream_cbs *cbs = s->cbs;

	if (s->state == IO_DEAD)
		return;
	if (status != 0) {
		s->w->stats.connect_failures++;
		s->w->t->release(s, false);
		io_stream_bury(s);
		if (cbs != NULL && cbs->connected != NULL)
			cbs->connected(s, s->arg, status);
		return;
	}
	s->state = IO_OPEN;
	if (s->out_head != NULL)
		io_mark_flush(s);
	if (cbs != NULL && cbs->connected != NULL)
		cbs->connected(s, s->arg, 0);
}

void
io_stream_complete_later(struct sg_io_stream *s, int status)
{
	s->pending_status = status;
	if (!s->in_completions) {
		TAILQ_INSERT_TAIL(&s->w->completions, s, comp_link);
		s->in_completions = true;
	}
}

void
io_stream_check_writable(struct sg_io_stream *s)
{
	if (s->above_high && s->backlog <= s->low_mark) {
		s->above_high = false;
		if (!s->owner_gone && s->cbs != NULL && s->cbs->writable != NULL)
			s->cbs->writable(s, s->arg);
	}
}

/* ---- public API ---- */

int
sg_io_listen(struct sg_io_worker *w, const struct sockaddr_in *addr,
	     int backlog, sg_io_accept_cb cb, void *arg,
	     struct sg_io_listener **out)
{
	struct sg_io_listener *l;
	int rc;

	if (addr == NULL || cb == NULL || out == NULL)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return -ENOMEM;
	l->w = w;
	l->cb = cb;
	l->arg = arg;
	l->fd = -1;
	l->addr = *addr;
	rc = w->t->listen(l, backlog > 0 ? backlog : 511);
	if (rc != 0) {
		free(l);
		return rc;
	}
	TAILQ_INSERT_TAIL(&w->listeners, l, link);
	*out = l;
	return 0;
}

void
sg_io_listener_close(struct sg_io_listener *l)
{
	if (l == NULL)
		return;
	l->w->t->listener_close(l);
	TAILQ_REMOVE(&l->w->listeners, l, link);
	free(l);
}

void
sg_io_listener_addr(const struct sg_io_listener *l, struct sockaddr_in *out)
{
	*out = l->addr;
}

int
sg_io_connect(struct sg_io_worker *w, const struct sockaddr_in *dst,
	      const struct sg_io_stream_cbs *cbs, void *arg,
	      struct sg_io_stream **out)
{
	struct sg_io_stream *s;
	int rc;

	if (dst == NULL || out == NULL)
		return -EINVAL;
	s = io_stream_new(w);
	if (s == NULL)
		return -EMFILE;
	s->cbs = cbs;
	s->arg = arg;
	s->peer = *dst;
	w->stats.connects++;
	rc = w->t->connect(s);
	if (rc != 0) {
		io_stream_bury(s);
		return rc;
	}
	*out = s;
	return 0;
}

void
sg_io_stream_set_cbs(struct sg_io_stream *s, const struct sg_io_stream_cbs *cbs,
		     void *arg)
{
	s->cbs = cbs;
	s->arg = arg;
}

struct sg_sink *
sg_io_out(struct sg_io_stream *s)
{
	if (s->state != IO_DEAD)
		io_mark_flush(s);
	return &s->sink;
}

int
sg_io_send(struct sg_io_stream *s, struct rte_mbuf *m)
{
	struct rte_mbuf *last;
	size_t n = 0;

	if (s->state == IO_DEAD || s->state == IO_CLOSING || s->in_closed_cb) {
		rte_pktmbuf_free(m);
		return -EPIPE;
	}
	io_out_settle(s);
	for (last = m;; last = last->next) {
		n += last->data_len;
		if (last->next == NULL)
			break;
	}
	if (s->out_tail != NULL)
		s->out_tail->next = m;
	else
		s->out_head = m;
	s->out_tail = last;
	/* the sink must not write into a chain it does not own */
	s->sink_on_tail = false;
	s->sink.pos = s->sink.end = NULL;
	s->backlog += n;
	io_mark_flush(s);
	return 0;
}

size_t
sg_io_backlog(const struct sg_io_stream *s)
{
	size_t pending = 0;

	if (s->sink_on_tail && s->out_tail != NULL)
		pending = (size_t)(s->sink.pos - (rte_pktmbuf_mtod(s->out_tail, char *) +
						  s->out_tail->data_len));
	return s->backlog + pending;
}

void
sg_io_set_watermarks(struct sg_io_stream *s, size_t low, size_t high)
{
	s->low_mark = low;
	s->high_mark = high;
}

void
sg_io_pause_read(struct sg_io_stream *s, bool pause)
{
	if (s->state == IO_DEAD || s->paused == pause)
		return;
	s->paused = pause;
	s->w->t->pause_read(s, pause);
}

void
sg_io_close(struct sg_io_stream *s)
{
	if (s->state == IO_DEAD || s->state == IO_CLOSING || s->in_closed_cb)
		return;
	s->owner_gone = true;
	io_out_settle(s);
	if (s->state == IO_OPEN && s->backlog > 0) {
		s->state = IO_CLOSING;
		s->close_deadline_ns = s->w->now_ns + IO_CLOSE_LINGER_NS;
		TAILQ_INSERT_TAIL(&s->w->closing, s, comp_link);
		if (s->w->t->pause_read != NULL)
			s->w->t->pause_read(s, true);
		io_mark_flush(s);
		return;
	}
	s->w->t->release(s, false);
	io_stream_bury(s);
}

void
sg_io_abort(struct sg_io_stream *s)
{
	if (s->state == IO_DEAD || s->in_closed_cb)
		return;
	s->owner_gone = true;
	s->w->t->release(s, true);
	io_stream_bury(s);
}

unsigned
sg_io_worker_unfinished(const struct sg_io_worker *w)
{
	const struct sg_io_stream *s;
	unsigned n = 0;

	if (w->t->unfinished != NULL)
		return w->t->unfinished(w);
	TAILQ_FOREACH(s, &w->streams, link)
		n++;
	return n;
}

void
sg_io_worker_abort_all(struct sg_io_worker *w)
{
	struct sg_io_stream *s;

	while ((s = TAILQ_FIRST(&w->streams)) != NULL)
		sg_io_abort(s);
	io_graveyard_flush(w);
	if (w->t->abort_all != NULL)
		w->t->abort_all(w);
}

void
sg_io_stream_addrs(const struct sg_io_stream *s, struct sockaddr_in *local,
		   struct sockaddr_in *peer)
{
	if (local != NULL)
		*local = s->local;
	if (peer != NULL)
		*peer = s->peer;
}

int
sg_io_worker_poll(struct sg_io_worker *w, uint64_t max_wait_ns)
{
	struct sg_io_stream *s;
	int n = 0, rc;

	w->now_ns = sg_clock_ns();
	/* connect results that were known at once: one path for callers */
	while ((s = TAILQ_FIRST(&w->completions)) != NULL) {
		TAILQ_REMOVE(&w->completions, s, comp_link);
		s->in_completions = false;
		io_stream_connected(s, s->pending_status);
		n++;
	}
	/* streams whose peer stopped reading while we were closing */
	while ((s = TAILQ_FIRST(&w->closing)) != NULL &&
	       s->close_deadline_ns < w->now_ns) {
		w->t->release(s, true);
		io_stream_bury(s);
	}
	rc = w->t->poll(w, n > 0 ? 0 : max_wait_ns);
	io_graveyard_flush(w);
	return rc < 0 ? rc : n + rc;
}

unsigned
sg_io_worker_flush(struct sg_io_worker *w)
{
	struct sg_io_stream *s;
	unsigned written = 0;

	while ((s = TAILQ_FIRST(&w->flush_list)) != NULL) {
		TAILQ_REMOVE(&w->flush_list, s, flush_link);
		s->in_flush_list = false;
		if (s->state == IO_CONNECTING || s->state == IO_DEAD)
			continue;
		io_out_settle(s);
		if (s->backlog > s->high_mark)
			s->above_high = true;
		if (s->backlog > 0 && w->t->write(s) > 0)
			written++;
		if (s->state == IO_DEAD)
			continue;
		if (s->state == IO_CLOSING) {
			if (s->backlog == 0 || w->now_ns > s->close_deadline_ns) {
				w->t->release(s, s->backlog != 0);
				io_stream_bury(s);
			}
			continue;
		}
		io_stream_check_writable(s);
	}
	if (w->t->flush != NULL)
		w->t->flush(w);
	io_graveyard_flush(w);
	return written;
}

void
sg_io_worker_mbufs(const struct sg_io_worker *w, unsigned *avail, unsigned *size)
{
	if (w->t->mbufs != NULL) {
		w->t->mbufs(w, avail, size);
		return;
	}
	*avail = rte_mempool_avail_count(w->conf.pool);
	*size = w->conf.pool->size;
}

uint64_t
sg_io_worker_now(const struct sg_io_worker *w)
{
	return w->now_ns;
}

void
sg_io_worker_stats(const struct sg_io_worker *w, struct sg_io_stats *st)
{
	*st = w->stats;
	if (w->t->link_stats != NULL)
		w->t->link_stats(w, st);
}

uint64_t
sg_io_worker_sleep_cycles(const struct sg_io_worker *w)
{
	return w->stats.sleep_cycles;
}
