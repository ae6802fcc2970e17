/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Keyed hashes and what is built on them: RFC 6528 initial sequence
 * numbers, per-connection timestamp offsets (RFC 7323 5.4), SYN cookies
 * and the RFC 6056 ephemeral port offset.
 *
 * SipHash-2-4 (Aumasson and Bernstein) is the keyed function: short
 * inputs, a 128-bit key, and no dependency on a crypto library.
 *
 * A SYN cookie is our ISN when the backlog is full, and it must let the
 * final ACK of the handshake rebuild the connection:
 *
 *    31      27 26  24 23                               0
 *   +----------+------+----------------------------------+
 *   | period   | mss  |  MAC(secret, 4-tuple, peer ISN,  |
 *   | (5 bits) | idx  |      period count, mss idx)      |
 *   +----------+------+----------------------------------+
 *
 * The period is 64 s; a cookie is accepted during the period it was made
 * in and the next one. The MSS is rounded down to one of 8 values.
 * When the SYN carried timestamps, the window scale and SACK-permitted
 * it offered travel in the low 5 bits of our TSval and come back in the
 * ACK's TSecr (tcp_output.c); without timestamps the cookie SYN-ACK
 * offers neither option, so nothing is lost.
 */
#include <string.h>

#include <rte_byteorder.h>

#include "tcp_internal.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static inline uint64_t
le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return rte_le_to_cpu_64(v);
}

#define SIPROUND                                                        \
	do {                                                            \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                  \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                  \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
	} while (0)

uint64_t
tcp_siphash(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *in = data;
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v0 = 0x736f6d6570736575ull ^ k0;
	uint64_t v1 = 0x646f72616e646f6dull ^ k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ k0;
	uint64_t v3 = 0x7465646279746573ull ^ k1;
	uint64_t b = (uint64_t)len << 56, m;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = le64(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* RFC 6528: ISN = M + F(4-tuple, secret), M a 4 microsecond clock. */
uint32_t
tcp_isn(struct sg_tcp_stack *s, const struct tcp_key *k)
{
	if (s->conf.isn_hook != NULL)
		return s->conf.isn_hook(s->conf.ctx, k->lip, k->lport, k->rip,
					k->rport);
	return (uint32_t)(s->now_ns / 4000) +
	       (uint32_t)tcp_siphash(s->conf.isn_secret, k, sizeof(*k));
}

uint32_t
tcp_ts_offset(struct sg_tcp_stack *s, const struct tcp_key *k)
{
	struct {
		struct tcp_key k;
		uint32_t tag;
	} in = { *k, 0x54535453 };

	return (uint32_t)tcp_siphash(s->conf.isn_secret, &in, sizeof(in));
}

static const uint16_t cookie_mss[8] = {
	216, 536, 1200, 1300, 1400, 1440, 1460, 8960
};

static uint32_t
cookie_mac(struct sg_tcp_stack *s, const struct tcp_key *k,
	   uint32_t peer_isn, uint64_t period, unsigned idx)
{
	struct {
		struct tcp_key k;
		uint32_t isn;
		uint64_t period;
		uint32_t idx;
	} in;

	memset(&in, 0, sizeof(in));
	in.k = *k;
	in.isn = peer_isn;
	in.period = period;
	in.idx = idx;
	return (uint32_t)tcp_siphash(s->conf.cookie_secret, &in, sizeof(in)) &
	       0xffffff;
}

uint32_t
tcp_cookie_make(struct sg_tcp_stack *s, const struct tcp_key *k,
		uint32_t peer_isn, uint16_t peer_mss, uint16_t *mss_out)
{
	uint64_t period = s->now_ns / TCP_COOKIE_PERIOD_NS;
	unsigned idx = 0;

	for (unsigned i = 0; i < SG_ARRAY_SIZE(cookie_mss); i++) {
		if (cookie_mss[i] <= peer_mss && cookie_mss[i] <= s->conf.mss)
			idx = i;
	}
	*mss_out = cookie_mss[idx];
	return ((uint32_t)(period & 0x1f) << 27) | ((uint32_t)idx << 24) |
	       cookie_mac(s, k, peer_isn, period, idx);
}

/* Returns 0 and the MSS the cookie encodes, or -EINVAL. */
int
tcp_cookie_check(struct sg_tcp_stack *s, const struct tcp_key *k,
		 uint32_t peer_isn, uint32_t cookie, uint16_t *mss_out)
{
	uint64_t now = s->now_ns / TCP_COOKIE_PERIOD_NS;
	unsigned idx = (cookie >> 24) & 7;

	/* This period or the one before. */
	for (uint64_t i = 0; i < 2 && i <= now; i++) {
		uint64_t p = now - i;

		if ((p & 0x1f) != (cookie >> 27))
			continue;
		if (cookie_mac(s, k, peer_isn, p, idx) == (cookie & 0xffffff)) {
			*mss_out = cookie_mss[idx];
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * RFC 6056 algorithm 3 (simple hash-based): the search starts at a
 * per-destination offset F(lip, rip, rport, secret) plus a counter, so
 * ports are hard to guess and a destination's ports are spread. Ports
 * the core does not own (port_owned) and 4-tuples in use (including
 * TIME_WAIT) are skipped. Fills k->lport; 0 or -EADDRNOTAVAIL.
 */
int
tcp_port_pick(struct sg_tcp_stack *s, struct tcp_key *k)
{
	uint32_t num = (uint32_t)s->conf.port_max - s->conf.port_min + 1;
	struct {
		uint32_t lip, rip;
		uint16_t rport, tag;
	} in = { k->lip, k->rip, k->rport, 0x5050 };
	uint32_t offset = (uint32_t)tcp_siphash(s->conf.isn_secret, &in,
						sizeof(in));

	for (uint32_t count = num; count > 0; count--) {
		uint16_t port = (uint16_t)(s->conf.port_min +
					   (s->next_ephemeral + offset) % num);
		uint16_t nport = rte_cpu_to_be_16(port);

		s->next_ephemeral++;
		if (s->conf.port_owned != NULL &&
		    !s->conf.port_owned(s->conf.ctx, k->lip, nport, k->rip,
					k->rport))
			continue;
		k->lport = nport;
		if (tcp_lookup(s, k) != NULL)
			continue;
		if (tcp_listener_find(s, k->lip, nport) != NULL)
			continue;
		return 0;
	}
	k->lport = 0;
	return -EADDRNOTAVAIL;
}
