/* SPDX-License-Identifier: BSD-3-Clause */
/* Sinks and bounded heap buffers. */
#include <errno.h>
#include <stdlib.h>

#include "sg_common.h"

void
sg_sink_write(struct sg_sink *s, const void *p, size_t n)
{
	const char *src = p;

	while (n > 0) {
		size_t room;

		if (sg_sink_reserve(s, 1) == NULL)
			return;
		room = (size_t)(s->end - s->pos);
		if (room > n)
			room = n;
		memcpy(s->pos, src, room);
		sg_sink_commit(s, s->pos + room);
		src += room;
		n -= room;
	}
}

void
sg_membuf_init(struct sg_membuf *b, size_t limit)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->limit = limit;
}

void
sg_membuf_free(struct sg_membuf *b)
{
	free(b->data);
	sg_membuf_init(b, b->limit);
}

int
sg_membuf_reserve(struct sg_membuf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX - b->len)
		return -ENOBUFS;
	need = b->len + extra;
	if (need <= b->cap)
		return 0;
	if (b->limit != 0 && need > b->limit)
		return -ENOBUFS;
	cap = b->cap != 0 ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (b->limit != 0 && cap > b->limit)
		cap = b->limit;
	p = realloc(b->data, cap);
	if (p == NULL)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int
sg_membuf_append(struct sg_membuf *b, const void *p, size_t n)
{
	int rc = sg_membuf_reserve(b, n);

	if (rc != 0)
		return rc;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static int
membuf_more(struct sg_sink *s, size_t min)
{
	struct sg_membuf *b = s->owner;
	size_t want;
	int rc;

	if (s->pos != NULL)
		b->len = (size_t)(s->pos - b->data);
	want = min < 4096 ? 4096 : min;
	rc = sg_membuf_reserve(b, want);
	if (rc != 0 && want > min)
		rc = sg_membuf_reserve(b, min);
	if (rc != 0)
		return rc;
	s->pos = b->data + b->len;
	s->end = b->data + b->cap;
	return 0;
}

void
sg_membuf_sink(struct sg_membuf *b, struct sg_sink *s)
{
	s->pos = b->data != NULL ? b->data + b->len : NULL;
	s->end = b->data != NULL ? b->data + b->cap : NULL;
	s->more = membuf_more;
	s->owner = b;
	s->written = 0;
	s->err = 0;
}

void
sg_membuf_sink_done(struct sg_membuf *b, struct sg_sink *s)
{
	if (s->pos != NULL)
		b->len = (size_t)(s->pos - b->data);
}
