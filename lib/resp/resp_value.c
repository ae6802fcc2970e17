/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A decoder of whole replies into a tree, for the control path only
 * (CLUSTER SHARDS / SLOTS, COMMAND, INFO): the data path frames replies
 * and never decodes them.
 *
 * Two passes over bytes the framer already delimited:
 *   1. validate and count the values (explicit stack, depth-limited);
 *   2. allocate all values in one block and fill it: when an aggregate's
 *      header is read, its children take the next `count` free slots, so
 *      every aggregate's elements are contiguous and the tree is one
 *      allocation. Strings point into the caller's buffer.
 */
#include <errno.h>
#include <stdlib.h>

#include "sg_resp.h"

struct cursor {
	const char *p;
	const char *end;
};

/* Reads one line (without CRLF) into *line, *llen. */
static int
read_line(struct cursor *c, const char **line, size_t *llen)
{
	const char *q = c->p;

	while (q + 1 < c->end && !(q[0] == '\r' && q[1] == '\n'))
		q++;
	if (q + 1 >= c->end)
		return -EPROTO;
	*line = c->p;
	*llen = (size_t)(q - c->p);
	c->p = q + 2;
	return 0;
}

static int
line_int(const char *line, size_t len, int64_t *v)
{
	return sg_span_to_i64(sg_span_make(line, len), v) == 0 ? 0 : -EPROTO;
}

/*
 * Reads one value header at c. Fills v (type, scalars) and *children (how
 * many values follow as its elements; -1 for none). Bulk payloads are
 * consumed here.
 */
static int
read_value(struct cursor *c, struct sg_resp_value *v, int64_t *children)
{
	const char *line;
	size_t len;
	int64_t n;
	char type;

	if (c->p >= c->end)
		return -EPROTO;
	type = *c->p++;
	if (read_line(c, &line, &len) != 0)
		return -EPROTO;
	memset(v, 0, sizeof(*v));
	v->type = (enum sg_resp_type)type;
	*children = -1;
	switch (type) {
	case '+':
	case '-':
	case ',':
	case '(':
		v->str = line;
		v->len = len;
		return 0;
	case ':':
		return line_int(line, len, &v->integer);
	case '#':
		if (len != 1 || (line[0] != 't' && line[0] != 'f'))
			return -EPROTO;
		v->integer = line[0] == 't';
		return 0;
	case '_':
		if (len != 0)
			return -EPROTO;
		v->is_null = true;
		return 0;
	case '$':
	case '!':
	case '=':
		if (line_int(line, len, &n) != 0 || n < -1)
			return -EPROTO;
		if (n == -1) {
			v->is_null = true;
			return 0;
		}
		if ((uint64_t)n + 2 > (uint64_t)(c->end - c->p) ||
		    c->p[n] != '\r' || c->p[n + 1] != '\n')
			return -EPROTO;
		v->str = c->p;
		v->len = (size_t)n;
		v->integer = n;
		c->p += n + 2;
		return 0;
	case '*':
	case '~':
	case '>':
	case '%':
		if (line_int(line, len, &n) != 0 || n < -1)
			return -EPROTO;
		if (n == -1) {
			v->is_null = true;
			return 0;
		}
		v->integer = n;
		if (type == '%') {
			if (n > INT64_MAX / 2)
				return -EPROTO;
			n *= 2;
		}
		/* every element takes at least 3 bytes: cheap bound */
		if ((uint64_t)n > (uint64_t)(c->end - c->p) / 3)
			return -EPROTO;
		*children = n;
		return 0;
	default:
		return -EPROTO;	/* attributes included: not on the control path */
	}
}

/* Pass 1: counts values, checks structure. Returns the count or -errno. */
static int64_t
count_values(const char *buf, size_t len, size_t *used)
{
	struct cursor c = { buf, buf + len };
	int64_t pending[SG_RESP_MAX_DEPTH];
	int depth = 0;
	int64_t total = 0;

	pending[0] = 1;
	for (;;) {
		struct sg_resp_value v;
		int64_t kids;

		if (read_value(&c, &v, &kids) != 0)
			return -EPROTO;
		total++;
		pending[depth]--;
		if (kids > 0) {
			if (depth + 1 >= SG_RESP_MAX_DEPTH)
				return -E2BIG;
			pending[++depth] = kids;
		}
		while (pending[depth] == 0) {
			if (depth == 0) {
				*used = (size_t)(c.p - buf);
				return total;
			}
			depth--;
		}
	}
}

int
sg_resp_decode(const char *buf, size_t len, struct sg_resp_value **out,
	       size_t *used)
{
	struct cursor c = { buf, buf + len };
	struct sg_resp_value *vals, *slot[SG_RESP_MAX_DEPTH];
	int64_t pending[SG_RESP_MAX_DEPTH], total, next;
	size_t consumed = 0;
	int depth = 0;

	total = count_values(buf, len, &consumed);
	if (total < 0)
		return (int)total;
	vals = calloc((size_t)total, sizeof(*vals));
	if (vals == NULL)
		return -ENOMEM;
	slot[0] = &vals[0];
	pending[0] = 1;
	next = 1;
	for (;;) {
		struct sg_resp_value *v = slot[depth]++;
		int64_t kids;

		/* pass 1 validated the same bytes */
		read_value(&c, v, &kids);
		pending[depth]--;
		if (kids > 0) {
			v->elem = &vals[next];
			v->nelem = (size_t)kids;
			next += kids;
			depth++;
			slot[depth] = v->elem;
			pending[depth] = kids;
		}
		while (pending[depth] == 0) {
			if (depth == 0) {
				*out = vals;
				if (used != NULL)
					*used = consumed;
				return 0;
			}
			depth--;
		}
	}
}

void
sg_resp_value_free(struct sg_resp_value *v)
{
	free(v);
}

const struct sg_resp_value *
sg_resp_value_get(const struct sg_resp_value *map, const char *key)
{
	if (map->type != SG_RESP_MAP && map->type != SG_RESP_ARRAY)
		return NULL;
	/* RESP3 maps and RESP2 flat arrays of name/value pairs alike */
	for (size_t i = 0; i + 1 < map->nelem; i += 2) {
		const struct sg_resp_value *k = &map->elem[i];

		if ((k->type == SG_RESP_BULK || k->type == SG_RESP_SIMPLE) &&
		    sg_span_eq_nocase(sg_span_make(k->str, k->len), key))
			return &map->elem[i + 1];
	}
	return NULL;
}

bool
sg_resp_value_is_str(const struct sg_resp_value *v)
{
	return (v->type == SG_RESP_BULK || v->type == SG_RESP_SIMPLE ||
		v->type == SG_RESP_VERBATIM) && !v->is_null;
}
