/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reply framer: where does one RESP2/RESP3 reply end, and what kind
 * of reply is it. Nothing is decoded or copied but the first bytes of a
 * top-level error or status (for classification).
 *
 *            type byte
 *   TYPE --+-- + - , (  --> TEXT ..'\r'--> TEXT_LF --+
 *     ^    +-- : $ = ! * % ~ > |  --> NUM --+        |
 *     |    +-- _ #  --> SHORT ---------------+       |
 *     |                     $ = ! length n  |        |
 *     |      BULK (n bytes) <---------------+        |
 *     |        --> BULK_CR --> BULK_LF ---------------+--> element done
 *     |                       * % ~ > | count n > 0        |
 *     +---- push pending[depth++] = n (2n for % and |) <---+
 *     +---- element done: while a level is open, --pending; a level at
 *           0 closes and counts as one element of its parent; at depth 0
 *           the reply is complete, unless it was a top-level attribute,
 *           which only precedes the reply.
 *
 * An attribute inside an aggregate is not one of its elements: its
 * parent's count is raised by one so that the attribute and the element
 * after it use up one slot together. No recursion: the explicit stack
 * `pending` is bounded by max_depth.
 */
#include <errno.h>
#include <string.h>

#include "resp_internal.h"
#include "sg_resp.h"

enum {
	F_TYPE,
	F_NUM,
	F_SHORT,
	F_TEXT,
	F_TEXT_LF,
	F_BULK,
	F_BULK_CR,
	F_BULK_LF,
	F_ERROR,
};

static const char E_TYPE[] = "ERR Protocol error: invalid reply type byte";
static const char E_LEN[] = "ERR Protocol error: invalid length in reply";
static const char E_LINE_BIG[] = "ERR Protocol error: too big length line in reply";
static const char E_BULK_BIG[] = "ERR Protocol error: bulk length in reply over the limit";
static const char E_ELEMS[] = "ERR Protocol error: too many elements in reply";
static const char E_DEPTH[] = "ERR Protocol error: reply nested too deep";
static const char E_CRLF[] = "ERR Protocol error: CR without LF in reply";
static const char E_BULK_END[] = "ERR Protocol error: bulk data in reply not followed by CRLF";
static const char E_SHORT[] = "ERR Protocol error: invalid null or boolean in reply";

void
sg_resp_framer_init(struct sg_resp_framer *f)
{
	memset(f, 0, sizeof(*f));
	f->max_depth = SG_RESP_MAX_DEPTH;
	f->max_bulk = 512ull << 20;
	f->state = F_TYPE;
}

const char *
sg_resp_framer_error(const struct sg_resp_framer *f)
{
	return f->error;
}

static ssize_t
fail(struct sg_resp_framer *f, const char *text)
{
	f->error = text;
	f->state = F_ERROR;
	return -EPROTO;
}

static void
reply_begin(struct sg_resp_framer *f)
{
	struct sg_resp_reply *c = &f->cur;

	c->type = 0;
	c->size = 0;
	c->value = 0;
	c->is_null = false;
	c->has_attribute = false;
	c->text[0] = '\0';
	c->text_len = 0;
	c->error = SG_RESP_ERR_NONE;
	c->slot = 0;
	c->host[0] = '\0';
	c->port = 0;
	f->depth = 0;
	f->top_attr = false;
	f->busy = true;
}

/* Copies what the caller needs, not the whole 256-byte text area. */
static void
reply_out(const struct sg_resp_reply *c, struct sg_resp_reply *o)
{
	size_t n = SG_MIN(c->text_len, (size_t)SG_RESP_TEXT_MAX);

	o->type = c->type;
	o->size = c->size;
	o->value = c->value;
	o->is_null = c->is_null;
	o->has_attribute = c->has_attribute;
	memcpy(o->text, c->text, n);
	if (n < SG_RESP_TEXT_MAX)
		o->text[n] = '\0';
	o->text_len = c->text_len;
	o->error = c->error;
	o->slot = c->slot;
	memcpy(o->host, c->host, strlen(c->host) + 1);
	o->port = c->port;
}

/* Keeps the first SG_RESP_TEXT_MAX bytes of a top-level text. */
static inline void
capture(struct sg_resp_framer *f, const char *s, size_t n)
{
	struct sg_resp_reply *c = &f->cur;

	if (c->text_len < SG_RESP_TEXT_MAX) {
		size_t k = SG_MIN(n, SG_RESP_TEXT_MAX - c->text_len);

		memcpy(c->text + c->text_len, s, k);
	}
	c->text_len += n;
}

/* One element ended. Returns 1 when that completes the reply. */
static int
elem_done(struct sg_resp_framer *f)
{
	f->state = F_TYPE;
	while (f->depth > 0) {
		if (--f->pending[f->depth - 1] > 0)
			return 0;
		f->depth--;
	}
	if (f->top_attr) {
		/* the attribute is read; the reply itself comes next */
		f->top_attr = false;
		return 0;
	}
	return 1;
}

static void
classify_top(struct sg_resp_framer *f)
{
	struct sg_resp_reply *c = &f->cur;

	sg_resp_classify_error(c->text, SG_MIN(c->text_len, (size_t)SG_RESP_TEXT_MAX), c);
}

/* A length or count was read for the element f->elem. Returns 1 when
 * the reply is complete, 0 to go on, -EPROTO. */
static int
on_number(struct sg_resp_framer *f, int64_t v)
{
	struct sg_resp_reply *c = &f->cur;
	uint32_t max_depth;
	int64_t n;

	switch (f->elem) {
	case ':':
		if (f->elem_top)
			c->value = v;
		return elem_done(f);
	case '$':
	case '=':
	case '!':
		if (v == -1 && f->elem == '$') {
			if (f->elem_top) {
				c->is_null = true;
				c->value = -1;
			}
			return elem_done(f);
		}
		if (v < 0)
			return (int)fail(f, E_LEN);
		if ((uint64_t)v > f->max_bulk)
			return (int)fail(f, E_BULK_BIG);
		if (f->elem_top)
			c->value = v;
		f->bulk_left = v;
		f->state = F_BULK;
		return 0;
	default: /* * % ~ > | */
		if (v == -1 && f->elem == '*') {
			if (f->elem_top) {
				c->is_null = true;
				c->value = -1;
			}
			return elem_done(f);
		}
		if (v < 0)
			return (int)fail(f, E_LEN);
		if (v > SG_RESP_MAX_ELEMENTS)
			return (int)fail(f, E_ELEMS);
		n = (f->elem == '%' || f->elem == '|') ? v * 2 : v;
		if (f->elem == '|') {
			if (f->depth == 0) {
				c->has_attribute = true;
				f->top_attr = true;
			} else {
				f->pending[f->depth - 1]++;
			}
		} else if (f->elem_top) {
			c->value = v;
		}
		if (n == 0)
			return elem_done(f);
		max_depth = SG_MIN(f->max_depth, (uint32_t)SG_RESP_MAX_DEPTH);
		if (f->depth >= max_depth)
			return (int)fail(f, E_DEPTH);
		f->pending[f->depth++] = n;
		f->state = F_TYPE;
		return 0;
	}
}

/* '_' and '#' lines: gathered like a header line, then checked. */
static int
on_short(struct sg_resp_framer *f, const char *line, size_t cr)
{
	struct sg_resp_reply *c = &f->cur;

	if (f->elem == '_') {
		if (cr != 1)
			return (int)fail(f, E_SHORT);
		if (f->elem_top)
			c->is_null = true;
	} else {
		if (cr != 2 || (line[1] != 't' && line[1] != 'f'))
			return (int)fail(f, E_SHORT);
		if (f->elem_top)
			c->value = line[1] == 't';
	}
	return elem_done(f);
}

ssize_t
sg_resp_frame(struct sg_resp_framer *f, const char *chunk, size_t len,
	      struct sg_resp_reply *out, bool *done)
{
	size_t i = 0, used, k, cr = 0, old;
	const char *s, *c;
	enum resp_hdr h;
	int64_t v;
	char t;
	int rc;

	*done = false;
	if (SG_UNLIKELY(f->state == F_ERROR))
		return -EPROTO;

	while (i < len) {
		switch (f->state) {
		case F_TYPE:
			if (!f->busy)
				reply_begin(f);
			t = chunk[i];
			f->elem = (uint8_t)t;
			f->elem_top = f->depth == 0;
			if (f->elem_top && t != '|')
				f->cur.type = (enum sg_resp_type)t;
			switch (t) {
			case '+':
			case '-':
			case ',':
			case '(':
				f->state = F_TEXT;
				i++;
				break;
			case ':':
			case '$':
			case '=':
			case '!':
			case '*':
			case '%':
			case '~':
			case '>':
			case '|':
				f->line_len = 0;
				f->state = F_NUM;
				break;
			case '_':
			case '#':
				f->line_len = 0;
				f->state = F_SHORT;
				break;
			default:
				return fail(f, E_TYPE);
			}
			continue;
		case F_NUM:
			h = resp_hdr_read(f->line, &f->line_len, chunk + i, len - i,
					  &v, &used, &t);
			i += used;
			if (h == RESP_HDR_MORE)
				continue;
			if (h == RESP_HDR_BIG)
				return fail(f, E_LINE_BIG);
			if (h == RESP_HDR_BAD)
				return fail(f, E_LEN);
			rc = on_number(f, v);
			if (rc < 0)
				return rc;
			if (rc == 1)
				goto done;
			continue;
		case F_SHORT:
			old = f->line_len;
			if (old == 0) {
				s = chunk + i;
				k = len - i;
			} else {
				k = SG_MIN(len - i, (size_t)RESP_HDR_BUF - old);
				memcpy(f->line + old, chunk + i, k);
				s = f->line;
				k += old;
			}
			h = resp_hdr_find(s, k, &cr);
			if (h == RESP_HDR_MORE) {
				if (old == 0)
					memcpy(f->line, s, k);
				i += k - old;
				f->line_len = (uint8_t)k;
				continue;
			}
			if (h == RESP_HDR_BIG || h == RESP_HDR_BAD)
				return fail(f, E_SHORT);
			f->line_len = 0;
			i += cr + 2 - old;
			rc = on_short(f, s, cr);
			if (rc < 0)
				return rc;
			if (rc == 1)
				goto done;
			continue;
		case F_TEXT:
			s = chunk + i;
			c = memchr(s, '\r', len - i);
			k = c != NULL ? (size_t)(c - s) : len - i;
			if (f->elem_top && (f->elem == '+' || f->elem == '-'))
				capture(f, s, k);
			i += k;
			if (c == NULL)
				continue;
			i++;
			f->state = F_TEXT_LF;
			continue;
		case F_TEXT_LF:
			if (chunk[i] != '\n')
				return fail(f, E_CRLF);
			i++;
			if (f->elem_top && f->elem == '-')
				classify_top(f);
			if (elem_done(f) == 1)
				goto done;
			continue;
		case F_BULK:
			k = (size_t)SG_MIN((uint64_t)(len - i), (uint64_t)f->bulk_left);
			if (f->elem_top && f->elem == '!')
				capture(f, chunk + i, k);
			i += k;
			f->bulk_left -= (int64_t)k;
			if (f->bulk_left == 0)
				f->state = F_BULK_CR;
			continue;
		case F_BULK_CR:
			if (chunk[i] != '\r')
				return fail(f, E_BULK_END);
			i++;
			f->state = F_BULK_LF;
			continue;
		case F_BULK_LF:
			if (chunk[i] != '\n')
				return fail(f, E_BULK_END);
			i++;
			if (f->elem_top && f->elem == '!')
				classify_top(f);
			if (elem_done(f) == 1)
				goto done;
			continue;
		default:
			return fail(f, E_TYPE);
		}
	}
	f->cur.size += i;
	return (ssize_t)i;

done:
	f->cur.size += i;
	f->busy = false;
	f->state = F_TYPE;
	reply_out(&f->cur, out);
	*done = true;
	return (ssize_t)i;
}

/* ------------------------------------------------------------------ */
/* Error classification                                                */
/* ------------------------------------------------------------------ */

static const struct {
	const char *word;
	enum sg_resp_error_kind kind;
} error_words[] = {
	{ "MOVED", SG_RESP_ERR_MOVED },
	{ "ASK", SG_RESP_ERR_ASK },
	{ "TRYAGAIN", SG_RESP_ERR_TRYAGAIN },
	{ "CLUSTERDOWN", SG_RESP_ERR_CLUSTERDOWN },
	{ "LOADING", SG_RESP_ERR_LOADING },
	{ "READONLY", SG_RESP_ERR_READONLY },
	{ "MASTERDOWN", SG_RESP_ERR_MASTERDOWN },
	{ "NOAUTH", SG_RESP_ERR_NOAUTH },
};

/* Reads up to `max_digits` decimal digits at s[*i..n) into *v. */
static bool
read_dec(const char *s, size_t n, size_t *i, unsigned max_digits, uint32_t *v)
{
	size_t start = *i;
	uint32_t x = 0;

	while (*i < n && s[*i] >= '0' && s[*i] <= '9' && *i - start < max_digits) {
		x = x * 10 + (uint32_t)(s[*i] - '0');
		(*i)++;
	}
	*v = x;
	return *i > start && (*i == n || s[*i] < '0' || s[*i] > '9');
}

/* " <slot> <host>:<port>" after MOVED or ASK. */
static bool
parse_redirect(const char *s, size_t n, struct sg_resp_reply *r)
{
	size_t i = 0, tok, end, colon, hlen;
	uint32_t slot, port;
	const char *host;

	if (i >= n || s[i] != ' ')
		return false;
	i++;
	if (!read_dec(s, n, &i, 5, &slot) || slot > 16383)
		return false;
	if (i >= n || s[i] != ' ')
		return false;
	tok = ++i;
	while (i < n && s[i] != ' ')
		i++;
	end = i;
	colon = end;
	while (colon > tok && s[colon - 1] != ':')
		colon--;
	if (colon == tok)
		return false; /* no ':' */
	i = colon;
	if (!read_dec(s, end, &i, 5, &port) || i != end || port > 65535)
		return false;
	host = s + tok;
	hlen = colon - 1 - tok;
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host++;
		hlen -= 2;
	}
	if (hlen >= sizeof(r->host))
		return false;
	memcpy(r->host, host, hlen);
	r->host[hlen] = '\0';
	r->slot = (uint16_t)slot;
	r->port = (uint16_t)port;
	return true;
}

void
sg_resp_classify_error(const char *text, size_t len, struct sg_resp_reply *r)
{
	size_t w = 0, j;

	r->error = SG_RESP_ERR_OTHER;
	r->slot = 0;
	r->host[0] = '\0';
	r->port = 0;
	while (w < len && text[w] != ' ')
		w++;
	for (j = 0; j < SG_ARRAY_SIZE(error_words); j++) {
		if (strlen(error_words[j].word) == w &&
		    memcmp(text, error_words[j].word, w) == 0) {
			r->error = error_words[j].kind;
			break;
		}
	}
	if (r->error == SG_RESP_ERR_MOVED || r->error == SG_RESP_ERR_ASK) {
		if (!parse_redirect(text + w, len - w, r)) {
			r->error = SG_RESP_ERR_OTHER;
			r->slot = 0;
			r->host[0] = '\0';
			r->port = 0;
		}
	}
}
