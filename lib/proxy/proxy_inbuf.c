/* SPDX-License-Identifier: BSD-3-Clause */
/* Retained input: see the picture in proxy_internal.h. */
#include "proxy_internal.h"

void
inbuf_append(struct inbuf *b, struct rte_mbuf *m)
{
	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		if (m->data_len == 0) {
			rte_pktmbuf_free_seg(m);
			m = next;
			continue;
		}
		b->held += m->data_len;
		if (b->tail != NULL)
			b->tail->next = m;
		else
			b->head = m;
		b->tail = m;
		if (b->cur == NULL) {
			b->cur = m;
			b->cur_off = 0;
		}
		m = next;
	}
}

bool
inbuf_chunk(struct inbuf *b, const char **p, size_t *len)
{
	/* a segment fed to its end stays current until more data follows */
	while (b->cur != NULL && b->cur_off >= b->cur->data_len) {
		if (b->cur->next == NULL)
			return false;
		b->cur = b->cur->next;
		b->cur_off = 0;
	}
	if (b->cur == NULL)
		return false;
	*p = rte_pktmbuf_mtod_offset(b->cur, const char *, b->cur_off);
	*len = b->cur->data_len - b->cur_off;
	return true;
}

void
inbuf_fed(struct inbuf *b, size_t n)
{
	b->cur_off += (uint32_t)n;
	if (b->cur_off >= b->cur->data_len && b->cur->next != NULL) {
		b->cur = b->cur->next;
		b->cur_off = 0;
	}
}

void
inbuf_consume(struct inbuf *b, uint64_t n)
{
	b->held -= n;
	n += b->start_off;
	while (b->head != NULL && n >= b->head->data_len) {
		struct rte_mbuf *m = b->head;

		/* keep the segment the parser stands in unless fully fed */
		if (m == b->cur && b->cur_off < m->data_len)
			break;
		n -= m->data_len;
		b->head = m->next;
		if (m == b->cur) {
			b->cur = b->head;
			b->cur_off = 0;
		}
		rte_pktmbuf_free_seg(m);
	}
	if (b->head == NULL) {
		b->tail = NULL;
		b->cur = NULL;
		b->cur_off = 0;
	}
	b->start_off = (uint32_t)n;
}

/* Walks `len` bytes at `off` from the start, calling fn on each piece. */
#define INBUF_WALK(b, off, len, piece, plen, body)                          \
	do {                                                                \
		const struct rte_mbuf *m_ = (b)->head;                      \
		uint64_t o_ = (off) + (b)->start_off, l_ = (len);           \
		while (m_ != NULL && o_ >= m_->data_len) {                  \
			o_ -= m_->data_len;                                 \
			m_ = m_->next;                                      \
		}                                                           \
		while (m_ != NULL && l_ > 0) {                              \
			const char *piece = rte_pktmbuf_mtod_offset(m_, const char *, o_); \
			size_t plen = SG_MIN((uint64_t)(m_->data_len - o_), l_); \
			body;                                               \
			l_ -= plen;                                         \
			o_ = 0;                                             \
			m_ = m_->next;                                      \
		}                                                           \
	} while (0)

void
inbuf_copy(const struct inbuf *b, uint64_t off, uint64_t len, char *dst)
{
	INBUF_WALK(b, off, len, piece, plen, {
		memcpy(dst, piece, plen);
		dst += plen;
	});
}

void
inbuf_to_sink(const struct inbuf *b, uint64_t off, uint64_t len, struct sg_sink *dst)
{
	INBUF_WALK(b, off, len, piece, plen, sg_sink_write(dst, piece, plen));
}

int
inbuf_to_membuf(const struct inbuf *b, uint64_t off, uint64_t len, struct sg_membuf *dst)
{
	int rc = sg_membuf_reserve(dst, len);

	if (rc != 0)
		return rc;
	inbuf_copy(b, off, len, dst->data + dst->len);
	dst->len += len;
	return 0;
}

void
inbuf_free(struct inbuf *b)
{
	struct rte_mbuf *m = b->head;

	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		rte_pktmbuf_free_seg(m);
		m = next;
	}
	memset(b, 0, sizeof(*b));
}

struct sg_span
req_arg(const struct inbuf *in, const struct sg_arg *a, char *scratch, size_t cap, bool *ok)
{
	*ok = true;
	if (a->ptr != NULL)
		return sg_span_make(a->ptr, a->len);
	if (a->len > cap) {
		*ok = false;
		return sg_span_make(NULL, 0);
	}
	inbuf_copy(in, a->off, a->len, scratch);
	return sg_span_make(scratch, a->len);
}
