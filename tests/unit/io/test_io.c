/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/io, kernel transport: streams over real loopback sockets, driven by
 * one worker's poll/flush loop the way the proxy drives it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include "sg_io.h"
#include "sg_unit.h"

static struct rte_mempool *pool;

/* One end of a connection, recording what its callbacks saw. */
struct end {
	struct sg_io_stream *s;
	int connected;		/* 1 ok, <0 error, 0 not yet */
	int closed;		/* 1 when closed() ran */
	int close_status;
	int writable;
	bool echo;		/* write back what arrives */
	size_t received;
	unsigned char *buf;	/* what arrived, up to cap */
	size_t cap;
	unsigned data_calls;
};

static void
end_connected(struct sg_io_stream *s, void *arg, int status)
{
	struct end *e = arg;

	e->connected = status == 0 ? 1 : status;
	if (status != 0)
		e->s = NULL;
}

static void
end_data(struct sg_io_stream *s, void *arg, struct rte_mbuf *m)
{
	struct end *e = arg;

	e->data_calls++;
	CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), ({
		uint32_t sum = 0;
		for (struct rte_mbuf *x = m; x; x = x->next)
			sum += x->data_len;
		sum;
	}));
	for (struct rte_mbuf *x = m; x != NULL; x = x->next) {
		size_t n = x->data_len;

		if (e->buf != NULL && e->received + n <= e->cap)
			memcpy(e->buf + e->received, rte_pktmbuf_mtod(x, void *), n);
		if (e->echo)
			sg_sink_write(sg_io_out(s), rte_pktmbuf_mtod(x, void *), n);
		e->received += n;
	}
	rte_pktmbuf_free(m);
}

static void
end_writable(struct sg_io_stream *s, void *arg)
{
	((struct end *)arg)->writable++;
}

static void
end_closed(struct sg_io_stream *s, void *arg, int status)
{
	struct end *e = arg;

	e->closed = 1;
	e->close_status = status;
	e->s = NULL;
}

static const struct sg_io_stream_cbs end_cbs = {
	.connected = end_connected,
	.data = end_data,
	.writable = end_writable,
	.closed = end_closed,
};

/* The accepting side: the next accepted stream goes to `server`. */
struct acceptor {
	struct end *server;
	unsigned accepted;
};

static void
on_accept(struct sg_io_listener *l, void *arg, struct sg_io_stream *s)
{
	struct acceptor *a = arg;

	a->accepted++;
	if (a->server == NULL)
		return; /* no callbacks: lib/io closes it */
	a->server->s = s;
	sg_io_stream_set_cbs(s, &end_cbs, a->server);
}

static struct sg_io_worker *
make_worker(uint32_t max_streams)
{
	struct sg_io_worker_conf conf = {
		.mode = SG_IO_KERNEL,
		.pool = pool,
		.max_streams = max_streams,
		.read_burst = 8,
	};
	struct sg_io_worker *w = sg_io_worker_create(&conf);

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	return w;
}

static struct sg_io_listener *
make_listener(struct sg_io_worker *w, struct acceptor *a, struct sockaddr_in *addr)
{
	struct sockaddr_in any = { .sin_family = AF_INET };
	struct sg_io_listener *l = NULL;

	any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_EQUAL_FATAL(sg_io_listen(w, &any, 16, on_accept, a, &l), 0);
	sg_io_listener_addr(l, addr);
	CU_ASSERT_NOT_EQUAL(addr->sin_port, 0);
	return l;
}

/* Runs the loop until cond() holds or ~5 s pass. */
static bool
run_until(struct sg_io_worker *w, bool (*cond)(void *), void *arg)
{
	for (int i = 0; i < 5000; i++) {
		sg_io_worker_poll(w, SG_NS_PER_MS);
		sg_io_worker_flush(w);
		if (cond(arg))
			return true;
	}
	return false;
}

static bool
is_connected(void *arg)
{
	return ((struct end *)arg)->connected != 0;
}

static bool
is_closed(void *arg)
{
	return ((struct end *)arg)->closed;
}

struct want_bytes {
	struct end *e;
	size_t n;
};

static bool
has_bytes(void *arg)
{
	struct want_bytes *wb = arg;

	return wb->e->received >= wb->n;
}

static void
connect_pair(struct sg_io_worker *w, struct sockaddr_in *addr, struct end *client,
	     struct end *server, struct acceptor *a)
{
	a->server = server;
	CU_ASSERT_EQUAL_FATAL(sg_io_connect(w, addr, &end_cbs, client, &client->s), 0);
	CU_ASSERT_TRUE_FATAL(run_until(w, is_connected, client));
	CU_ASSERT_EQUAL_FATAL(client->connected, 1);
	for (int i = 0; i < 1000 && server->s == NULL; i++) {
		sg_io_worker_poll(w, SG_NS_PER_MS);
		sg_io_worker_flush(w);
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(server->s);
}

static void
test_echo_one_megabyte(void)
{
	struct sg_io_worker *w = make_worker(0);
	struct acceptor a = { 0 };
	struct sockaddr_in addr;
	struct sg_io_listener *l = make_listener(w, &a, &addr);
	size_t total = 1 << 20;
	unsigned char *msg = malloc(total);
	struct end client = { .buf = malloc(total), .cap = total };
	struct end server = { .echo = true };
	struct want_bytes wb = { &client, total };
	struct sockaddr_in local, peer;

	for (size_t i = 0; i < total; i++)
		msg[i] = (unsigned char)(i * 7 + (i >> 11));
	connect_pair(w, &addr, &client, &server, &a);
	sg_io_stream_addrs(client.s, &local, &peer);
	CU_ASSERT_EQUAL(peer.sin_port, addr.sin_port);
	CU_ASSERT_EQUAL(local.sin_addr.s_addr, htonl(INADDR_LOOPBACK));

	/* Written through the sink in uneven pieces. */
	for (size_t off = 0; off < total;) {
		size_t n = SG_MIN(total - off, 1000 + off % 3000);

		sg_sink_write(sg_io_out(client.s), msg + off, n);
		off += n;
	}
	CU_ASSERT_EQUAL(sg_io_out(client.s)->err, 0);
	CU_ASSERT_EQUAL(sg_io_backlog(client.s), total);
	CU_ASSERT_TRUE(run_until(w, has_bytes, &wb));
	CU_ASSERT_EQUAL(server.received, total);
	CU_ASSERT_EQUAL(client.received, total);
	CU_ASSERT_EQUAL(memcmp(client.buf, msg, total), 0);
	CU_ASSERT_EQUAL(sg_io_backlog(client.s), 0);

	sg_io_close(client.s);
	CU_ASSERT_TRUE(run_until(w, is_closed, &server));
	CU_ASSERT_EQUAL(server.close_status, 0);
	CU_ASSERT_FALSE(client.closed); /* no callbacks after sg_io_close */
	sg_io_listener_close(l);
	sg_io_worker_destroy(w);
	free(msg);
	free(client.buf);
}

static void
test_send_chain_and_sink_interleave(void)
{
	struct sg_io_worker *w = make_worker(0);
	struct acceptor a = { 0 };
	struct sockaddr_in addr;
	struct sg_io_listener *l = make_listener(w, &a, &addr);
	struct end client = { 0 };
	struct end server = { .buf = malloc(64), .cap = 64 };
	struct want_bytes wb = { &server, 11 };
	struct rte_mbuf *m;

	connect_pair(w, &addr, &client, &server, &a);
	sg_sink_write(sg_io_out(client.s), "abc", 3);
	m = rte_pktmbuf_alloc(pool);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	memcpy(rte_pktmbuf_append(m, 5), "DEFGH", 5);
	CU_ASSERT_EQUAL(sg_io_send(client.s, m), 0);
	sg_sink_write(sg_io_out(client.s), "xyz", 3);
	CU_ASSERT_EQUAL(sg_io_backlog(client.s), 11);
	CU_ASSERT_TRUE(run_until(w, has_bytes, &wb));
	CU_ASSERT_EQUAL(server.received, 11);
	CU_ASSERT_NSTRING_EQUAL(server.buf, "abcDEFGHxyz", 11);
	sg_io_abort(client.s);
	CU_ASSERT_TRUE(run_until(w, is_closed, &server));
	CU_ASSERT_EQUAL(server.close_status, -ECONNRESET);
	sg_io_listener_close(l);
	sg_io_worker_destroy(w);
	free(server.buf);
}

static void
test_connect_refused(void)
{
	struct sg_io_worker *w = make_worker(0);
	struct acceptor a = { 0 };
	struct sockaddr_in addr;
	struct sg_io_listener *l = make_listener(w, &a, &addr);
	struct end client = { 0 };
	struct sg_io_stream *s = NULL;

	/* A port that was just listening and is now closed. */
	sg_io_listener_close(l);
	CU_ASSERT_EQUAL_FATAL(sg_io_connect(w, &addr, &end_cbs, &client, &s), 0);
	CU_ASSERT_PTR_NOT_NULL(s);
	CU_ASSERT_TRUE(run_until(w, is_connected, &client));
	CU_ASSERT_EQUAL(client.connected, -ECONNREFUSED);
	sg_io_worker_destroy(w);
}

static void
test_graceful_close_delivers_pending_output(void)
{
	struct sg_io_worker *w = make_worker(0);
	struct acceptor a = { 0 };
	struct sockaddr_in addr;
	struct sg_io_listener *l = make_listener(w, &a, &addr);
	size_t total = 4 << 20;
	struct end client = { 0 };
	struct end server = { 0 };
	char chunk[4096];

	connect_pair(w, &addr, &client, &server, &a);
	memset(chunk, 'q', sizeof(chunk));
	/* More than the socket buffers hold: most stays queued at close. */
	for (size_t off = 0; off < total; off += sizeof(chunk))
		sg_sink_write(sg_io_out(server.s), chunk, sizeof(chunk));
	sg_io_close(server.s);
	CU_ASSERT_TRUE(run_until(w, is_closed, &client));
	CU_ASSERT_EQUAL(client.received, total);
	CU_ASSERT_EQUAL(client.close_status, 0);
	sg_io_listener_close(l);
	sg_io_worker_destroy(w);
}

static void
test_pause_read_and_watermarks(void)
{
	struct sg_io_worker *w = make_worker(0);
	struct acceptor a = { 0 };
	struct sockaddr_in addr;
	struct sg_io_listener *l = make_listener(w, &a, &addr);
	struct end client = { 0 };
	struct end server = { 0 };
	struct want_bytes wb = { &server, 0 };
	char chunk[4096];
	size_t sent = 0;

	connect_pair(w, &addr, &client, &server, &a);
	sg_io_pause_read(server.s, true);
	memset(chunk, 'p', sizeof(chunk));
	sg_io_set_watermarks(client.s, 0, 64 * 1024);
	/* Write until the kernel buffers are full and output queues up. */
	for (int round = 0; round < 2000 && sg_io_backlog(client.s) < 256 * 1024; round++) {
		sg_sink_write(sg_io_out(client.s), chunk, sizeof(chunk));
		sent += sizeof(chunk);
		sg_io_worker_poll(w, 0);
		sg_io_worker_flush(w);
	}
	CU_ASSERT_TRUE(sg_io_backlog(client.s) >= 256 * 1024);
	CU_ASSERT_EQUAL(server.received, 0); /* paused: nothing delivered */
	CU_ASSERT_EQUAL(client.writable, 0);

	sg_io_pause_read(server.s, false);
	wb.n = sent;
	CU_ASSERT_TRUE(run_until(w, has_bytes, &wb));
	CU_ASSERT_EQUAL(server.received, sent);
	CU_ASSERT_EQUAL(sg_io_backlog(client.s), 0);
	CU_ASSERT_EQUAL(client.writable, 1); /* once, after draining */
	sg_io_abort(client.s);
	sg_io_abort(server.s);
	sg_io_listener_close(l);
	sg_io_worker_destroy(w);
}

static void
test_max_streams(void)
{
	struct sg_io_worker *w = make_worker(3);
	struct acceptor a = { 0 };
	struct sockaddr_in addr;
	struct sg_io_listener *l = make_listener(w, &a, &addr);
	struct end client = { 0 }, server = { 0 }, extra = { 0 };
	struct sg_io_stream *s = NULL;
	struct sg_io_stats st;

	connect_pair(w, &addr, &client, &server, &a); /* 2 streams */
	/* The third stream is the connecting one; its accepted twin would be
	 * the fourth and is refused, so the connection is closed at once. */
	a.server = &server;
	CU_ASSERT_EQUAL_FATAL(sg_io_connect(w, &addr, &end_cbs, &extra, &s), 0);
	CU_ASSERT_TRUE(run_until(w, is_closed, &extra));
	sg_io_worker_stats(w, &st);
	CU_ASSERT_EQUAL(st.accepted, 1);
	CU_ASSERT_EQUAL(st.streams, 2);
	CU_ASSERT_EQUAL(sg_io_connect(w, &addr, &end_cbs, &extra, &s), 0);
	sg_io_worker_stats(w, &st);
	CU_ASSERT_EQUAL(st.streams, 3);
	CU_ASSERT_EQUAL(sg_io_connect(w, &addr, &end_cbs, &extra, &s), -EMFILE);
	sg_io_listener_close(l);
	sg_io_worker_destroy(w);
}

static void
test_unowned_accept_is_closed(void)
{
	struct sg_io_worker *w = make_worker(0);
	struct acceptor a = { 0 };
	struct sockaddr_in addr;
	struct sg_io_listener *l = make_listener(w, &a, &addr);
	struct end client = { 0 };
	struct sg_io_stream *s;

	a.server = NULL;
	CU_ASSERT_EQUAL_FATAL(sg_io_connect(w, &addr, &end_cbs, &client, &s), 0);
	CU_ASSERT_TRUE(run_until(w, is_closed, &client));
	CU_ASSERT_EQUAL(a.accepted, 1);
	sg_io_listener_close(l);
	sg_io_worker_destroy(w);
}

static const struct sg_unit_test io_tests[] = {
	{ "1 MiB echo through sink writes", test_echo_one_megabyte },
	{ "chains and sink writes keep their order", test_send_chain_and_sink_interleave },
	{ "connect refused reports through connected()", test_connect_refused },
	{ "graceful close delivers pending output", test_graceful_close_delivers_pending_output },
	{ "pause_read holds data; writable after drain", test_pause_read_and_watermarks },
	{ "max_streams refuses extra streams", test_max_streams },
	{ "an accepted stream nobody takes is closed", test_unowned_accept_is_closed },
	{ NULL, NULL },
};

int
main(void)
{
	char prefix[64];
	char *eal_argv[] = { "test_io", "--no-huge", "--no-pci", "-m", "256",
			     "--log-level=lib.eal:error", prefix, NULL };

	snprintf(prefix, sizeof(prefix), "--file-prefix=sgio-%d", (int)getpid());
	if (rte_eal_init(7, eal_argv) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	pool = rte_pktmbuf_pool_create("io_test", 8191, 256, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "mempool: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	{
		static const struct sg_unit_suite suites[] = { { "io-kernel", io_tests } };
		int rc = sg_unit_run(suites, 1);

		rte_mempool_free(pool);
		{
			char eal_dir[PATH_MAX];

			snprintf(eal_dir, sizeof(eal_dir), "%s", rte_eal_get_runtime_dir());
			rte_eal_cleanup();
			sg_unit_remove_dir(eal_dir);
		}
		return rc;
	}
}
