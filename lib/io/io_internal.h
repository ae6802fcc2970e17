/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/io internals: the parts both transports share (the stream object,
 * its output queue and sink, the deferred-free list) and the vtable each
 * transport fills.
 *
 * Output queue of a stream:
 *
 *   out_head -> [mbuf] -> [mbuf] -> ... -> [out_tail]
 *                 ^ out_off: bytes of the head already written
 *                                          sink.pos/end point into the
 *                                          tail's tailroom while a writer
 *                                          appends; io_out_settle() folds
 *                                          them into tail->data_len
 *
 * The mbufs are linked through m->next but do not form one packet: only
 * data_len of each is meaningful (pkt_len/nb_segs of the head are not
 * kept), so appending is O(1).
 *
 * Streams are never freed inside a callback dispatch: a closed stream is
 * marked dead and parked on the worker's graveyard, freed at the end of
 * poll/flush, so an event for it later in the same batch is skipped
 * safely.
 */
#ifndef IO_INTERNAL_H
#define IO_INTERNAL_H

#include <sys/queue.h>

#include <rte_log.h>
#include <rte_mbuf.h>

#include "sg_io.h"

extern int sg_io_logtype;
#define IO_LOG(level, ...) \
	rte_log(RTE_LOG_##level, sg_io_logtype, "io: " __VA_ARGS__)

enum io_state {
	IO_CONNECTING = 0,
	IO_OPEN,
	IO_CLOSING,	/* owner closed: drain output, then close */
	IO_DEAD,	/* on the graveyard */
};

struct io_transport;

struct sg_io_stream {
	struct sg_io_worker *w;
	const struct sg_io_stream_cbs *cbs;
	void *arg;
	uint8_t state;
	bool paused;		/* owner asked for no data */
	bool in_flush_list;
	bool above_high;	/* passed high watermark, writable() owed */
	bool owner_gone;	/* no more callbacks */
	bool in_completions;
	bool in_closed_cb;	/* closed() is running: close/abort are no-ops */
	int pending_status;	/* connect result owed by the next poll */

	/* output queue (picture above) */
	struct rte_mbuf *out_head;
	struct rte_mbuf *out_tail;
	uint32_t out_off;
	size_t backlog;		/* settled bytes queued, out_off excluded */
	size_t low_mark;
	size_t high_mark;
	struct sg_sink sink;
	bool sink_on_tail;	/* sink.pos/end point into out_tail */
	uint64_t close_deadline_ns;

	TAILQ_ENTRY(sg_io_stream) flush_link;
	TAILQ_ENTRY(sg_io_stream) comp_link;
	TAILQ_ENTRY(sg_io_stream) link;	/* all streams / graveyard */

	struct sockaddr_in local;
	struct sockaddr_in peer;

	/* transport-specific */
	int fd;			/* kernel */
	uint32_t epoll_events;	/* kernel: what is registered */
	void *tconn;		/* dpdk: the TCP connection */
	bool in_retry;		/* dpdk: output waits for mbufs */
	TAILQ_ENTRY(sg_io_stream) retry_link; /* dpdk */
};

TAILQ_HEAD(io_stream_list, sg_io_stream);

struct sg_io_listener {
	struct sg_io_worker *w;
	sg_io_accept_cb cb;
	void *arg;
	int fd;			/* kernel */
	void *tlisten;		/* dpdk */
	struct sockaddr_in addr;
	TAILQ_ENTRY(sg_io_listener) link;
};

TAILQ_HEAD(io_listener_list, sg_io_listener);

struct io_transport {
	const char *name;
	int (*init)(struct sg_io_worker *w);
	void (*fini)(struct sg_io_worker *w);
	int (*poll)(struct sg_io_worker *w, uint64_t max_wait_ns);
	/* write the stream's queued output; returns 1 when written */
	int (*write)(struct sg_io_stream *s);
	int (*listen)(struct sg_io_listener *l, int backlog);
	void (*listener_close)(struct sg_io_listener *l);
	int (*connect)(struct sg_io_stream *s);
	/* release transport resources; abort: RST where possible */
	void (*release)(struct sg_io_stream *s, bool abort);
	void (*pause_read)(struct sg_io_stream *s, bool pause);
	/* optional: after every stream's write, once per flush */
	void (*flush)(struct sg_io_worker *w);
	/* optional: the pool figures sg_io_worker_mbufs() reports */
	void (*mbufs)(const struct sg_io_worker *w, unsigned *avail,
		      unsigned *size);
	/* optional: adds the link-level counters to sg_io_worker_stats() */
	void (*link_stats)(const struct sg_io_worker *w, struct sg_io_stats *st);
	/* optional: connections the transport still finishes on its own
	 * after their streams are gone (sg_io_worker_unfinished) */
	unsigned (*unfinished)(const struct sg_io_worker *w);
	/* optional: aborts those (sg_io_worker_abort_all) */
	void (*abort_all)(struct sg_io_worker *w);
};

struct sg_io_worker {
	struct sg_io_worker_conf conf;
	const struct io_transport *t;
	struct io_stream_list streams;	/* every live stream */
	struct io_stream_list flush_list;
	struct io_stream_list graveyard;
	struct io_stream_list completions; /* connect results owed */
	struct io_stream_list closing;	/* CLOSING, by deadline (comp_link) */
	struct io_listener_list listeners;
	struct sg_io_stats stats;
	uint64_t now_ns;		/* refreshed each poll */
	void *tw;			/* transport worker state */
};

/* io_stream.c */
struct sg_io_stream *io_stream_new(struct sg_io_worker *w);
void io_stream_bury(struct sg_io_stream *s);
void io_graveyard_flush(struct sg_io_worker *w);
void io_out_settle(struct sg_io_stream *s);
void io_out_consumed(struct sg_io_stream *s, size_t n);
void io_out_drop(struct sg_io_stream *s);
void io_mark_flush(struct sg_io_stream *s);
/* delivers closed() once (if the owner still listens) and buries */
void io_stream_closed(struct sg_io_stream *s, int status);
void io_stream_connected(struct sg_io_stream *s, int status);
void io_stream_check_writable(struct sg_io_stream *s);
/* reports a connect result on the next poll */
void io_stream_complete_later(struct sg_io_stream *s, int status);

extern const struct io_transport io_kernel_transport;
extern const struct io_transport io_dpdk_transport;

#endif /* IO_INTERNAL_H */
