/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A test application on top of sg_tcp: each endpoint sends a seeded byte
 * pattern and checks the pattern it receives, byte by byte, so loss,
 * duplication or reordering that leaks through shows as a mismatch.
 */
#ifndef TCP_APP_H
#define TCP_APP_H

#include "tcp_sim.h"

struct ep {
	struct sim *s;
	struct sg_tcp_conn *c;
	int side;
	uint64_t seed_tx, seed_rx;
	uint64_t to_send, sent;
	uint64_t expect, got;
	uint64_t data_calls;
	uint32_t chunk_max;		/* largest write */
	uint32_t backlog_limit;		/* write while backlog below */
	bool use_send;			/* mix sg_tcp_send with the sink */
	bool shut_when_done;		/* shutdown after the last byte */
	bool close_on_eof;		/* sg_tcp_close once EOF arrives */
	bool reply_echo;		/* write back what arrives */
	bool connected, eof, closed, shut, accepted, writable_seen;
	int connect_status, closed_status;
	uint64_t mismatches;
	uint64_t first_bad;
	uint64_t eof_at, closed_at, connected_at;
};

extern const struct sg_tcp_conn_cbs ep_cbs;

void ep_init(struct ep *e, struct sim *s, int side, uint64_t to_send,
	     uint64_t seed_tx, uint64_t seed_rx, uint64_t expect);
/* Accept callback: arg is the struct ep that takes the connection. */
void ep_accept(struct sg_tcp_listener *l, void *arg, struct sg_tcp_conn *c);
/* Writes what the endpoint may write now. */
void ep_pump(struct ep *e);
uint8_t ep_pattern(uint64_t seed, uint64_t i);

#endif /* TCP_APP_H */
