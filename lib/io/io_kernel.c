/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel transport: one epoll instance per worker, level-triggered.
 *
 *   epoll_wait --> listener readable   accept4 up to ACCEPT_BURST, accept cb
 *              --> stream connecting   SO_ERROR -> connected(status)
 *              --> stream readable     one readv into spare mbufs -> data cb
 *              --> stream writable     back on the flush list (EPOLLOUT off)
 *   flush      --> one sendmsg (gathered) per stream with output;
 *                  a short write arms EPOLLOUT
 *
 * Level-triggered so that one readv per stream per iteration is fair:
 * a stream with more data is simply reported again next iteration.
 * Reads land in a small per-worker stock of spare mbufs; only the mbufs
 * a read filled leave the stock.
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "io_internal.h"

#define EVENT_BATCH 256
#define ACCEPT_BURST 32
#define MAX_READ_MBUFS 64
#define MAX_WRITE_IOV 64
#define LISTENER_TAG 1ul

struct kernel_worker {
	int epfd;
	unsigned nspare;
	struct rte_mbuf *spare[MAX_READ_MBUFS];
	struct epoll_event events[EVENT_BATCH];
};

static struct kernel_worker *
kw(struct sg_io_worker *w)
{
	return w->tw;
}

static int
kernel_init(struct sg_io_worker *w)
{
	struct kernel_worker *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return -ENOMEM;
	k->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (k->epfd < 0) {
		int rc = -errno;

		free(k);
		return rc;
	}
	if (w->conf.read_burst > MAX_READ_MBUFS)
		w->conf.read_burst = MAX_READ_MBUFS;
	w->tw = k;
	return 0;
}

static void
kernel_fini(struct sg_io_worker *w)
{
	struct kernel_worker *k = kw(w);

	rte_pktmbuf_free_bulk(k->spare, k->nspare);
	close(k->epfd);
	free(k);
}

static int
epoll_set(struct sg_io_stream *s, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };
	int op = s->epoll_events == UINT32_MAX ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;

	if (events == s->epoll_events)
		return 0;
	if (epoll_ctl(kw(s->w)->epfd, op, s->fd, &ev) != 0)
		return -errno;
	s->epoll_events = events;
	return 0;
}

/* What the stream wants from epoll now. */
static uint32_t
wanted_events(const struct sg_io_stream *s, bool want_out)
{
	uint32_t ev = 0;

	if (s->state == IO_CONNECTING)
		return EPOLLOUT;
	if (!s->paused && s->state == IO_OPEN)
		ev |= EPOLLIN | EPOLLRDHUP;
	if (want_out)
		ev |= EPOLLOUT;
	return ev;
}

static void
set_nodelay(int fd)
{
	int one = 1;

	/* Replies are coalesced by the loop itself; Nagle would only add
	 * delay to the last segment of each flush. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void
kernel_release(struct sg_io_stream *s, bool abort)
{
	if (s->fd < 0)
		return;
	if (abort) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	/* close() also removes the fd from the epoll set */
	close(s->fd);
	s->fd = -1;
}

static void
kernel_pause_read(struct sg_io_stream *s, bool pause)
{
	if (s->fd < 0 || s->state == IO_CONNECTING)
		return;
	epoll_set(s, wanted_events(s, (s->epoll_events & EPOLLOUT) != 0));
}

/* ---- reading ---- */

static void
kernel_read(struct sg_io_stream *s)
{
	struct sg_io_worker *w = s->w;
	struct kernel_worker *k = kw(w);
	struct iovec iov[MAX_READ_MBUFS];
	unsigned want = w->conf.read_burst, i, used;
	struct rte_mbuf *head;
	ssize_t n;
	size_t left;

	if (k->nspare < want) {
		unsigned need = want - k->nspare;

		if (rte_pktmbuf_alloc_bulk(w->conf.pool, k->spare + k->nspare, need) == 0)
			k->nspare += need;
		else
			w->stats.nombuf++;
		if (k->nspare == 0)
			return; /* try again next iteration */
		want = k->nspare;
	}
	for (i = 0; i < want; i++) {
		iov[i].iov_base = rte_pktmbuf_mtod(k->spare[i], void *);
		iov[i].iov_len = rte_pktmbuf_tailroom(k->spare[i]);
	}
	n = readv(s->fd, iov, (int)want);
	w->stats.reads++;
	if (n == 0) {
		io_stream_closed(s, 0);
		return;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		io_stream_closed(s, -errno);
		return;
	}
	w->stats.bytes_in += (uint64_t)n;

	/* The filled mbufs leave the stock as one packet chain. */
	left = (size_t)n;
	for (used = 0; left > 0; used++) {
		size_t len = SG_MIN(left, iov[used].iov_len);

		k->spare[used]->data_len = (uint16_t)len;
		k->spare[used]->next = used + 1 < want && left > len ? k->spare[used + 1] : NULL;
		left -= len;
	}
	head = k->spare[0];
	head->pkt_len = (uint32_t)n;
	head->nb_segs = (uint16_t)used;
	memmove(k->spare, k->spare + used, (k->nspare - used) * sizeof(k->spare[0]));
	k->nspare -= used;

	if (s->cbs != NULL && s->cbs->data != NULL && !s->owner_gone)
		s->cbs->data(s, s->arg, head);
	else
		rte_pktmbuf_free(head);
}

/* ---- writing ---- */

static int
kernel_write(struct sg_io_stream *s)
{
	struct iovec iov[MAX_WRITE_IOV];
	struct msghdr msg = { .msg_iov = iov };
	struct rte_mbuf *m;
	size_t off = s->out_off, offered = 0;
	int cnt = 0;
	ssize_t n;

	for (m = s->out_head; m != NULL && cnt < MAX_WRITE_IOV; m = m->next) {
		if (m->data_len > off) {
			iov[cnt].iov_base = rte_pktmbuf_mtod_offset(m, char *, off);
			iov[cnt].iov_len = m->data_len - off;
			offered += iov[cnt].iov_len;
			cnt++;
		}
		off = 0;
	}
	if (cnt == 0)
		return 0;
	msg.msg_iovlen = (size_t)cnt;
	n = sendmsg(s->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	s->w->stats.writes++;
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			epoll_set(s, wanted_events(s, true));
			return 0;
		}
		io_stream_closed(s, -errno);
		return 0;
	}
	s->w->stats.bytes_out += (uint64_t)n;
	io_out_consumed(s, (size_t)n);
	if (s->backlog > 0 && (size_t)n == offered) {
		/* more segments than one sendmsg takes: go on in this flush */
		io_mark_flush(s);
	} else if (s->backlog > 0) {
		epoll_set(s, wanted_events(s, true)); /* the socket is full */
	} else if (s->epoll_events & EPOLLOUT) {
		epoll_set(s, wanted_events(s, false));
	}
	return 1;
}

/* ---- connecting ---- */

static int
kernel_connect(struct sg_io_stream *s)
{
	int fd, rc;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	set_nodelay(fd);
	s->fd = fd;
	s->epoll_events = UINT32_MAX;
	rc = connect(fd, (const struct sockaddr *)&s->peer, sizeof(s->peer));
	if (rc == 0) {
		io_stream_complete_later(s, 0);
		return 0;
	}
	if (errno != EINPROGRESS) {
		io_stream_complete_later(s, -errno);
		return 0;
	}
	rc = epoll_set(s, EPOLLOUT);
	if (rc != 0)
		io_stream_complete_later(s, rc);
	return 0;
}

static void
kernel_connect_done(struct sg_io_stream *s)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err != 0) {
		io_stream_connected(s, -err);
		return;
	}
	len = sizeof(s->local);
	getsockname(s->fd, (struct sockaddr *)&s->local, &len);
	epoll_set(s, s->paused ? 0 : EPOLLIN | EPOLLRDHUP);
	io_stream_connected(s, 0);
}

/* ---- listening ---- */

static int
kernel_listen(struct sg_io_listener *l, int backlog)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd, one = 1, rc;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* SO_REUSEPORT: every worker listens on the same address and the
	 * kernel spreads new connections across them. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    bind(fd, (const struct sockaddr *)&l->addr, sizeof(l->addr)) != 0 ||
	    listen(fd, backlog) != 0)
		goto fail;
	{
		socklen_t alen = sizeof(l->addr);

		getsockname(fd, (struct sockaddr *)&l->addr, &alen);
	}
	ev.data.u64 = (uint64_t)(uintptr_t)l | LISTENER_TAG;
	if (epoll_ctl(kw(l->w)->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		goto fail;
	l->fd = fd;
	return 0;
fail:
	rc = -errno;
	close(fd);
	return rc;
}

static void
kernel_listener_close(struct sg_io_listener *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

static void
kernel_accept(struct sg_io_listener *l)
{
	struct sg_io_worker *w = l->w;

	for (int i = 0; i < ACCEPT_BURST; i++) {
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		struct sg_io_stream *s;
		int fd;

		fd = accept4(l->fd, (struct sockaddr *)&peer, &plen,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN, or EMFILE etc.: level-triggered retry */
		s = io_stream_new(w);
		if (s == NULL) {
			/* over max_streams: refuse rather than starve others */
			close(fd);
			continue;
		}
		set_nodelay(fd);
		s->fd = fd;
		s->state = IO_OPEN;
		s->peer = peer;
		plen = sizeof(s->local);
		getsockname(fd, (struct sockaddr *)&s->local, &plen);
		s->epoll_events = UINT32_MAX;
		if (epoll_set(s, wanted_events(s, false)) != 0) {
			kernel_release(s, true);
			io_stream_bury(s);
			continue;
		}
		w->stats.accepted++;
		l->cb(l, l->arg, s);
		if (s->state != IO_DEAD && s->cbs == NULL)
			sg_io_close(s);
	}
}

/* ---- the poll ---- */

static int
kernel_poll(struct sg_io_worker *w, uint64_t max_wait_ns)
{
	struct kernel_worker *k = kw(w);
	int timeout_ms = 0, n;

	if (max_wait_ns > 0)
		timeout_ms = (int)SG_MAX(1, SG_MIN(max_wait_ns / SG_NS_PER_MS, 1000));
	if (timeout_ms > 0) {
		uint64_t t0 = rte_rdtsc();

		n = epoll_wait(k->epfd, k->events, EVENT_BATCH, timeout_ms);
		w->stats.sleep_cycles += rte_rdtsc() - t0;
		w->now_ns = sg_clock_ns();
	} else {
		n = epoll_wait(k->epfd, k->events, EVENT_BATCH, 0);
	}
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		uint64_t tag = k->events[i].data.u64;
		uint32_t ev = k->events[i].events;
		struct sg_io_stream *s;

		if (tag & LISTENER_TAG) {
			kernel_accept((struct sg_io_listener *)(uintptr_t)(tag & ~LISTENER_TAG));
			continue;
		}
		s = k->events[i].data.ptr;
		if (s->state == IO_DEAD)
			continue; /* closed earlier in this batch */
		if (s->state == IO_CONNECTING) {
			kernel_connect_done(s);
			continue;
		}
		if (ev & EPOLLOUT) {
			io_mark_flush(s);
			if (s->state == IO_DEAD)
				continue;
		}
		if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
			if (s->state == IO_CLOSING) {
				/* the owner is gone; only drain output */
				if (ev & (EPOLLHUP | EPOLLERR)) {
					kernel_release(s, true);
					io_stream_bury(s);
				}
				continue;
			}
			if (!s->paused)
				kernel_read(s);
			else if (ev & (EPOLLHUP | EPOLLERR))
				/* cannot be masked: the connection is gone */
				io_stream_closed(s, -ECONNRESET);
		}
	}
	return n;
}

const struct io_transport io_kernel_transport = {
	.name = "kernel",
	.init = kernel_init,
	.fini = kernel_fini,
	.poll = kernel_poll,
	.write = kernel_write,
	.listen = kernel_listen,
	.listener_close = kernel_listener_close,
	.connect = kernel_connect,
	.release = kernel_release,
	.pause_read = kernel_pause_read,
};
