/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_load: a kernel-socket load generator for scripts/bench-tcp.sh,
 * aimed at an echo service (tests/dpdk/io_echo). One thread, epoll,
 * non-blocking sockets. Prints one "RESULT key=value ..." line.
 *
 *   tcp_load stream  --host IP --port P [--conns 1] [--size 262144]
 *       every connection writes --size bytes per write, continuously,
 *       and reads the echo: echoed bytes per second (Gbit/s);
 *   tcp_load rr      --host IP --port P [--conns 100] [--size 64]
 *       every connection sends one --size message and waits for its echo
 *       before the next: requests per second, latency p50/p99/p999;
 *   tcp_load connect --host IP --port P [--conns 32]
 *       --conns connections in flight, each: connect, 1 byte there and
 *       back, close: completed connections per second;
 *   tcp_load hold    --host IP --port P --conns N
 *       N connections, 1 byte echoed on each, then idle: prints
 *       "HELD N" and waits for SIGTERM (or --seconds).
 *
 * --seconds S (default 5) is the measured time, after --warmup W seconds
 * (default 1) that are not counted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define LAT_BUCKETS 200000	/* 1 us buckets up to 200 ms, then the tail */

static struct {
	const char *mode;
	struct sockaddr_in dst;
	unsigned conns;
	size_t size;
	double seconds, warmup;
} opt = { .conns = 0, .size = 0, .seconds = 5, .warmup = 1 };

static volatile sig_atomic_t stop;

struct lconn {
	int fd;
	size_t off;		/* rr: bytes of this message sent / received */
	size_t got;
	uint64_t t_sent;	/* rr: when the message started */
	int phase;		/* connect: 0 connecting, 1 sent, 2 done */
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int
new_socket(bool nonblock)
{
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);

	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int
connect_blocking(void)
{
	int fd = new_socket(false);

	if (connect(fd, (struct sockaddr *)&opt.dst, sizeof(opt.dst)) != 0) {
		perror("connect");
		exit(1);
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

static void
ep_add(int ep, int fd, uint32_t ev, void *p)
{
	struct epoll_event e = { .events = ev, .data.ptr = p };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) != 0) {
		perror("epoll_ctl");
		exit(1);
	}
}

static void
ep_mod(int ep, int fd, uint32_t ev, void *p)
{
	struct epoll_event e = { .events = ev, .data.ptr = p };

	epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
}

/* ---- stream ---- */

static int
run_stream(void)
{
	unsigned n = opt.conns ? opt.conns : 1;
	size_t size = opt.size ? opt.size : 262144;
	struct lconn *c = calloc(n, sizeof(*c));
	char *wbuf = malloc(size), *rbuf = malloc(1 << 20);
	struct epoll_event ev[MAX_EVENTS];
	uint64_t start = now_ns(), t_meas = start + (uint64_t)(opt.warmup * 1e9);
	uint64_t t_end = t_meas + (uint64_t)(opt.seconds * 1e9);
	uint64_t bytes = 0;
	int ep = epoll_create1(0);

	for (size_t i = 0; i < size; i++)
		wbuf[i] = (char)(i * 7);
	for (unsigned i = 0; i < n; i++) {
		c[i].fd = connect_blocking();
		ep_add(ep, c[i].fd, EPOLLIN | EPOLLOUT, &c[i]);
	}
	while (!stop) {
		uint64_t t = now_ns();
		int k;

		if (t >= t_end)
			break;
		k = epoll_wait(ep, ev, MAX_EVENTS, 100);
		for (int i = 0; i < k; i++) {
			struct lconn *x = ev[i].data.ptr;

			if (ev[i].events & EPOLLOUT) {
				ssize_t w = write(x->fd, wbuf + x->off, size - x->off);

				if (w > 0)
					x->off = (x->off + (size_t)w) % size;
			}
			if (ev[i].events & EPOLLIN) {
				ssize_t r = read(x->fd, rbuf, 1 << 20);

				if (r > 0 && now_ns() >= t_meas)
					bytes += (uint64_t)r;
				else if (r == 0) {
					fprintf(stderr, "stream: connection closed\n");
					return 1;
				}
			}
		}
	}
	printf("RESULT mode=stream conns=%u write=%zu seconds=%.1f bytes=%llu gbps=%.3f\n",
	       n, size, opt.seconds, (unsigned long long)bytes,
	       (double)bytes * 8 / opt.seconds / 1e9);
	return 0;
}

/* ---- request / response ---- */

static uint64_t lat[LAT_BUCKETS + 1];

static double
lat_quantile(uint64_t total, double q)
{
	uint64_t want = (uint64_t)((double)total * q), seen = 0;

	for (unsigned b = 0; b <= LAT_BUCKETS; b++) {
		seen += lat[b];
		if (seen > want)
			return b;
	}
	return LAT_BUCKETS;
}

static int
rr_send(struct lconn *x, const char *msg, size_t size)
{
	while (x->off < size) {
		ssize_t w = write(x->fd, msg + x->off, size - x->off);

		if (w < 0)
			return errno == EAGAIN ? 0 : -1;
		x->off += (size_t)w;
	}
	return 1;
}

static int
run_rr(void)
{
	unsigned n = opt.conns ? opt.conns : 100;
	size_t size = opt.size ? opt.size : 64;
	struct lconn *c = calloc(n, sizeof(*c));
	char *msg = malloc(size), rbuf[65536];
	struct epoll_event ev[MAX_EVENTS];
	uint64_t start = now_ns(), t_meas = start + (uint64_t)(opt.warmup * 1e9);
	uint64_t t_end = t_meas + (uint64_t)(opt.seconds * 1e9), done = 0;
	int ep = epoll_create1(0);

	memset(msg, 'r', size);
	for (unsigned i = 0; i < n; i++) {
		c[i].fd = connect_blocking();
		ep_add(ep, c[i].fd, EPOLLIN, &c[i]);
		c[i].t_sent = now_ns();
		if (rr_send(&c[i], msg, size) < 0)
			return 1;
	}
	while (!stop) {
		uint64_t t = now_ns();
		int k;

		if (t >= t_end)
			break;
		k = epoll_wait(ep, ev, MAX_EVENTS, 100);
		for (int i = 0; i < k; i++) {
			struct lconn *x = ev[i].data.ptr;
			ssize_t r;

			if (ev[i].events & EPOLLOUT) {
				if (rr_send(x, msg, size) > 0)
					ep_mod(ep, x->fd, EPOLLIN, x);
			}
			if (!(ev[i].events & EPOLLIN))
				continue;
			r = read(x->fd, rbuf, sizeof(rbuf));
			if (r <= 0) {
				if (r < 0 && errno == EAGAIN)
					continue;
				fprintf(stderr, "rr: connection lost\n");
				return 1;
			}
			x->got += (size_t)r;
			if (x->got < size)
				continue;
			t = now_ns();
			if (t >= t_meas && t < t_end) {
				uint64_t us = (t - x->t_sent) / 1000;

				lat[us < LAT_BUCKETS ? us : LAT_BUCKETS]++;
				done++;
			}
			x->got -= size;
			x->off = 0;
			x->t_sent = t;
			if (rr_send(x, msg, size) == 0)
				ep_mod(ep, x->fd, EPOLLIN | EPOLLOUT, x);
		}
	}
	printf("RESULT mode=rr conns=%u size=%zu seconds=%.1f requests=%llu rps=%.0f "
	       "p50_us=%.0f p99_us=%.0f p999_us=%.0f\n", n, size, opt.seconds,
	       (unsigned long long)done, (double)done / opt.seconds,
	       lat_quantile(done, 0.5), lat_quantile(done, 0.99), lat_quantile(done, 0.999));
	return 0;
}

/* ---- new connections ---- */

static void
conn_start(int ep, struct lconn *x)
{
	x->fd = new_socket(true);
	x->phase = 0;
	if (connect(x->fd, (struct sockaddr *)&opt.dst, sizeof(opt.dst)) != 0 &&
	    errno != EINPROGRESS) {
		close(x->fd);
		x->fd = -1;
		return;
	}
	ep_add(ep, x->fd, EPOLLOUT, x);
}

static int
run_connect(void)
{
	unsigned n = opt.conns ? opt.conns : 32;
	struct lconn *c = calloc(n, sizeof(*c));
	struct epoll_event ev[MAX_EVENTS];
	uint64_t start = now_ns(), t_meas = start + (uint64_t)(opt.warmup * 1e9);
	uint64_t t_end = t_meas + (uint64_t)(opt.seconds * 1e9), done = 0, errs = 0;
	int ep = epoll_create1(0);

	for (unsigned i = 0; i < n; i++)
		conn_start(ep, &c[i]);
	while (!stop) {
		uint64_t t = now_ns();
		int k;

		if (t >= t_end)
			break;
		k = epoll_wait(ep, ev, MAX_EVENTS, 100);
		for (int i = 0; i < k; i++) {
			struct lconn *x = ev[i].data.ptr;
			char b = 'c';
			int err = 0;
			socklen_t len = sizeof(err);

			if (x->phase == 0) {
				getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &err, &len);
				if (err == 0 && write(x->fd, &b, 1) == 1) {
					x->phase = 1;
					ep_mod(ep, x->fd, EPOLLIN, x);
					continue;
				}
			} else if (read(x->fd, &b, 1) == 1) {
				if (now_ns() >= t_meas)
					done++;
				close(x->fd);
				conn_start(ep, x);
				continue;
			}
			errs++;
			close(x->fd);
			conn_start(ep, x);
		}
		for (unsigned i = 0; i < n; i++)
			if (c[i].fd < 0)
				conn_start(ep, &c[i]);
	}
	printf("RESULT mode=connect inflight=%u seconds=%.1f conns=%llu errors=%llu cps=%.0f\n",
	       n, opt.seconds, (unsigned long long)done, (unsigned long long)errs,
	       (double)done / opt.seconds);
	return 0;
}

/* ---- idle connections ---- */

static int
run_hold(void)
{
	unsigned n = opt.conns ? opt.conns : 1000;
	int *fds = calloc(n, sizeof(*fds));
	uint64_t t_end = now_ns() + (uint64_t)(opt.seconds * 1e9);

	for (unsigned i = 0; i < n; i++) {
		char b = 'h';

		fds[i] = connect_blocking();
		fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) & ~O_NONBLOCK);
		if (write(fds[i], &b, 1) != 1 || read(fds[i], &b, 1) != 1) {
			fprintf(stderr, "hold: no echo on connection %u\n", i);
			return 1;
		}
	}
	printf("HELD %u\n", n);
	fflush(stdout);
	while (!stop && now_ns() < t_end)
		usleep(10000);
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "host", 1, NULL, 'h' }, { "port", 1, NULL, 'p' },
		{ "conns", 1, NULL, 'c' }, { "size", 1, NULL, 's' },
		{ "seconds", 1, NULL, 't' }, { "warmup", 1, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	if (argc < 2) {
		fprintf(stderr, "usage: tcp_load stream|rr|connect|hold --host IP --port P ...\n");
		return 2;
	}
	opt.mode = argv[1];
	opt.dst.sin_family = AF_INET;
	optind = 2;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'h':
			if (inet_pton(AF_INET, optarg, &opt.dst.sin_addr) != 1)
				return 2;
			break;
		case 'p': opt.dst.sin_port = htons((uint16_t)atoi(optarg)); break;
		case 'c': opt.conns = (unsigned)atoi(optarg); break;
		case 's': opt.size = strtoul(optarg, NULL, 10); break;
		case 't': opt.seconds = atof(optarg); break;
		case 'w': opt.warmup = atof(optarg); break;
		default: return 2;
		}
	}
	if (opt.dst.sin_port == 0 || opt.dst.sin_addr.s_addr == 0)
		return 2;
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(opt.mode, "stream") == 0)
		return run_stream();
	if (strcmp(opt.mode, "rr") == 0)
		return run_rr();
	if (strcmp(opt.mode, "connect") == 0)
		return run_connect();
	if (strcmp(opt.mode, "hold") == 0) {
		if (opt.seconds == 5)
			opt.seconds = 600;
		return run_hold();
	}
	fprintf(stderr, "unknown mode %s\n", opt.mode);
	return 2;
}
