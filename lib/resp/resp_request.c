/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The request parser: RESP arrays of bulk strings and inline commands,
 * streamed chunk by chunk.
 *
 *            '*'                  count > 0
 *   START ---------> MB_HDR -----------------------> BULK_HDR <---------+
 *    ^ |               | count <= 0: skipped,           | "$n"          |
 *    | |               | bytes go to `lead`             v               |
 *    | |<--------------+                            BULK_DATA           |
 *    | | other byte                                     | n bytes       |
 *    | +-----> INLINE --(blank line: lead)--> START     v               |
 *    |           | '\n', words split                BULK_CR, BULK_LF ---+
 *    |           v                                      | last argument
 *    +------ request returned <-------------------------+
 *
 *   ERROR: entered from any state on a protocol error or ENOMEM; sticky.
 *
 * The common case never leaves BULK_HDR: the header line is read in
 * place from the chunk, the payload is skipped by its length and its
 * CRLF checked at the far end, and the next header follows. Only what
 * straddles chunks goes through line[] (header lines) or copy[] (short
 * arguments, inline lines). Arguments copied into copy[] are marked
 * with `copied_mark` while the request is being read and get their real
 * address when it ends, because copy[] may move as it grows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp_internal.h"
#include "sg_resp.h"

enum {
	ST_START,
	ST_MB_HDR,
	ST_BULK_HDR,
	ST_BULK_DATA,
	ST_BULK_CR,
	ST_BULK_LF,
	ST_INLINE,
	ST_ERROR,
};

/* argv starts this small and doubles as arguments arrive, so a header
 * claiming a million arguments costs nothing until they come. */
#define ARGV_MIN 16
/* Buffers grown past these by one big request are freed before the next,
 * so a connection does not keep its worst case forever. */
#define ARGV_KEEP 1024
#define COPY_KEEP (16 * 1024)
#define COPY_MIN 64

static const char E_MBULK[] = "ERR Protocol error: invalid multibulk length";
static const char E_BULK[] = "ERR Protocol error: invalid bulk length";
static const char E_QUOTES[] = "ERR Protocol error: unbalanced quotes in request";
static const char E_INLINE_BIG[] = "ERR Protocol error: too big inline request";
static const char E_MBULK_BIG[] = "ERR Protocol error: too big mbulk count string";
static const char E_BULK_BIG[] = "ERR Protocol error: too big bulk count string";
static const char E_MBULK_UNAUTH[] = "ERR Protocol error: unauthenticated multibulk length";
static const char E_BULK_UNAUTH[] = "ERR Protocol error: unauthenticated bulk length";
static const char E_REQ_BIG[] = "ERR Protocol error: too big request";
static const char E_NOMEM[] = "ERR out of memory";

static const char empty_arg[1] = "";
/* Placeholder ptr of an argument whose bytes are being copied. */
static const char copied_mark[1];

static const struct sg_resp_limits default_limits = {
	.max_args = 1048576,
	.max_bulk = 512ull << 20,
	.max_request = (512ull << 20) + (64u << 10),
	.max_inline = 64u << 10,
	.unauth_max_args = 10,
	.unauth_max_bulk = 16384,
	.copy_max = 512,
};

void
sg_resp_limits_default(struct sg_resp_limits *l)
{
	*l = default_limits;
}

void
sg_resp_parser_init(struct sg_resp_parser *p, const struct sg_resp_limits *limits)
{
	memset(p, 0, sizeof(*p));
	p->limits = limits != NULL ? limits : &default_limits;
	p->authenticated = false;
	p->state = ST_START;
}

void
sg_resp_parser_free(struct sg_resp_parser *p)
{
	free(p->req.argv);
	free(p->copy);
	p->req.argv = NULL;
	p->req.argc = 0;
	p->argv_cap = 0;
	p->copy = NULL;
	p->copy_len = 0;
	p->copy_cap = 0;
}

const char *
sg_resp_parser_error(const struct sg_resp_parser *p)
{
	return p->error;
}

bool
sg_resp_parser_idle(const struct sg_resp_parser *p)
{
	return p->state == ST_START;
}

static ssize_t
fail(struct sg_resp_parser *p, const char *text, int err)
{
	p->error = text;
	p->err = err;
	p->state = ST_ERROR;
	return err;
}

static ssize_t
fail_expected(struct sg_resp_parser *p, char got)
{
	/* Valkey turns CR and LF into spaces so the reply stays one line;
	 * a NUL would end our C string early, so it goes the same way. */
	if (got == '\r' || got == '\n' || got == '\0')
		got = ' ';
	snprintf(p->errbuf, sizeof(p->errbuf),
		 "ERR Protocol error: expected '$', got '%c'", got);
	return fail(p, p->errbuf, -EPROTO);
}

/* Room for one more argument; `want` is how many the request can still
 * use, so the array never outgrows what the header announced. */
static int
argv_grow(struct sg_resp_parser *p, uint64_t want)
{
	uint64_t cap = p->argv_cap != 0 ? (uint64_t)p->argv_cap * 2 : ARGV_MIN;
	struct sg_arg *a;

	if (cap > want)
		cap = want;
	if (cap <= p->req.argc)
		cap = (uint64_t)p->req.argc + 1;
	if (cap > UINT32_MAX || cap > SIZE_MAX / sizeof(*a))
		return -ENOMEM;
	a = realloc(p->req.argv, (size_t)cap * sizeof(*a));
	if (a == NULL)
		return -ENOMEM;
	p->req.argv = a;
	p->argv_cap = (uint32_t)cap;
	return 0;
}

static int
copy_reserve(struct sg_resp_parser *p, size_t extra)
{
	size_t need = p->copy_len + extra, cap;
	char *c;

	if (need <= p->copy_cap)
		return 0;
	cap = p->copy_cap != 0 ? p->copy_cap : COPY_MIN;
	while (cap < need)
		cap *= 2;
	c = realloc(p->copy, cap);
	if (c == NULL)
		return -ENOMEM;
	p->copy = c;
	p->copy_cap = cap;
	return 0;
}

/* Between requests: drop outsized buffers, snapshot the bulk limit. */
static void
request_begin(struct sg_resp_parser *p)
{
	const struct sg_resp_limits *l = p->limits;

	if (SG_UNLIKELY(p->argv_cap > ARGV_KEEP)) {
		free(p->req.argv);
		p->req.argv = NULL;
		p->argv_cap = 0;
	}
	if (SG_UNLIKELY(p->copy_cap > COPY_KEEP)) {
		free(p->copy);
		p->copy = NULL;
		p->copy_cap = 0;
	}
	p->req.argc = 0;
	p->req.is_inline = false;
	p->copy_len = 0;
	p->pos = 0;
	p->bulk_cap = l->max_bulk;
	if (!p->authenticated && l->unauth_max_bulk < l->max_bulk)
		p->bulk_cap = l->unauth_max_bulk;
}

static inline __attribute__((always_inline)) enum resp_hdr
header(struct sg_resp_parser *p, const char *s, size_t n, int64_t *v,
       size_t *used, char *type)
{
	return resp_hdr_read(p->line, &p->line_len, s, n, v, used, type);
}

/* Which limit a bulk length broke, in Valkey's order. */
static ssize_t
bulk_error(struct sg_resp_parser *p, int64_t v)
{
	if (v < 0 || (uint64_t)v > p->limits->max_bulk)
		return fail(p, E_BULK, -EPROTO);
	if ((uint64_t)v > p->bulk_cap)
		return fail(p, E_BULK_UNAUTH, -EPROTO);
	return fail(p, E_REQ_BIG, -EPROTO);
}

/* isspace() of the C locale, which sdssplitargs uses to skip blanks. */
static inline bool
is_blank(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static inline int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Splits the inline line in copy[0..copy_len) (its '\n' already dropped)
 * into arguments, decoding in place, with the rules of Valkey's
 * sdssplitargs: blanks separate words; "double quotes" know \n \r \t \b
 * \a, \xHH and \<any>; 'single quotes' know only \'; a closing quote must
 * be followed by a blank or the end; a NUL ends the line (sdssplitargs
 * reads a C string). Decoding never writes ahead of reading (w <= r).
 */
static ssize_t
inline_split(struct sg_resp_parser *p)
{
	const struct sg_resp_limits *l = p->limits;
	char *buf = p->copy;
	size_t n = p->copy_len, r = 0, w = 0;
	const char *nul;

	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n > l->max_inline)
		return fail(p, E_INLINE_BIG, -EPROTO);
	if (p->pos > l->max_request)
		return fail(p, E_REQ_BIG, -EPROTO);
	nul = n > 0 ? memchr(buf, '\0', n) : NULL;
	if (nul != NULL)
		n = (size_t)(nul - buf);

#define AT(k) ((k) < n ? buf[(k)] : '\0')
	for (;;) {
		size_t start_r, start_w;
		bool inq = false, insq = false, done = false;
		struct sg_arg *a;

		while (r < n && is_blank(buf[r]))
			r++;
		if (r == n)
			break;
		start_r = r;
		start_w = w;
		while (!done) {
			char c = AT(r), next = AT(r + 1);

			if (inq) {
				int hi, lo;

				if (c == '\\' && next == 'x' &&
				    (hi = hex_value(AT(r + 2))) >= 0 &&
				    (lo = hex_value(AT(r + 3))) >= 0) {
					buf[w++] = (char)(hi * 16 + lo);
					r += 4;
				} else if (c == '\\' && next != '\0') {
					switch (next) {
					case 'n': c = '\n'; break;
					case 'r': c = '\r'; break;
					case 't': c = '\t'; break;
					case 'b': c = '\b'; break;
					case 'a': c = '\a'; break;
					default: c = next; break;
					}
					buf[w++] = c;
					r += 2;
				} else if (c == '"') {
					if (next != '\0' && !is_blank(next))
						return fail(p, E_QUOTES, -EPROTO);
					done = true;
					r++;
				} else if (c == '\0') {
					return fail(p, E_QUOTES, -EPROTO);
				} else {
					buf[w++] = c;
					r++;
				}
			} else if (insq) {
				if (c == '\\' && next == '\'') {
					buf[w++] = '\'';
					r += 2;
				} else if (c == '\'') {
					if (next != '\0' && !is_blank(next))
						return fail(p, E_QUOTES, -EPROTO);
					done = true;
					r++;
				} else if (c == '\0') {
					return fail(p, E_QUOTES, -EPROTO);
				} else {
					buf[w++] = c;
					r++;
				}
			} else {
				switch (c) {
				case ' ':
				case '\n':
				case '\r':
				case '\t':
				case '\0':
					done = true;
					break;
				case '"':
					inq = true;
					break;
				case '\'':
					insq = true;
					break;
				default:
					buf[w++] = c;
					break;
				}
				if (c != '\0')
					r++;
			}
		}
		if (p->req.argc >= l->max_args)
			return fail(p, E_MBULK, -EPROTO);
		if (p->req.argc == p->argv_cap && argv_grow(p, l->max_args) != 0)
			return fail(p, E_NOMEM, -ENOMEM);
		a = &p->req.argv[p->req.argc++];
		a->ptr = buf + start_w;
		a->off = start_r;
		a->len = w - start_w;
	}
#undef AT
	return 0;
}

ssize_t
sg_resp_parse(struct sg_resp_parser *p, const char *chunk, size_t len,
	      const struct sg_resp_request **req)
{
	const struct sg_resp_limits *l = p->limits;
	size_t i = 0, used, avail, j, at;
	struct sg_arg *a;
	const char *nl;
	enum resp_hdr h;
	int64_t v;
	char type;

	*req = NULL;
	if (SG_UNLIKELY(p->state == ST_ERROR))
		return p->err;

	while (i < len) {
		switch (p->state) {
		case ST_START:
			request_begin(p);
			if (chunk[i] != '*') {
				p->state = ST_INLINE;
				continue;
			}
			p->state = ST_MB_HDR;
			/* fall through */
		case ST_MB_HDR:
			h = header(p, chunk + i, len - i, &v, &used, &type);
			i += used;
			p->pos += used;
			if (h == RESP_HDR_MORE)
				continue;
			if (h == RESP_HDR_BIG)
				return fail(p, E_MBULK_BIG, -EPROTO);
			if (h == RESP_HDR_BAD || v > (int64_t)l->max_args)
				return fail(p, E_MBULK, -EPROTO);
			if (!p->authenticated && v > (int64_t)l->unauth_max_args)
				return fail(p, E_MBULK_UNAUTH, -EPROTO);
			if (v <= 0) {
				/* "*0", "*-1": Redis skips them silently */
				p->lead += p->pos;
				p->pos = 0;
				p->state = ST_START;
				continue;
			}
			p->remaining = v;
			p->state = ST_BULK_HDR;
			continue;
		case ST_BULK_HDR:
			/* Valkey names a wrong first byte once the line is
			 * complete; the first byte decides it, so say it now
			 * (and the same for a line too long to complete) */
			type = p->line_len != 0 ? p->line[0] : chunk[i];
			if (SG_UNLIKELY(type != '$'))
				return fail_expected(p, type);
			h = header(p, chunk + i, len - i, &v, &used, &type);
			i += used;
			p->pos += used;
			if (SG_UNLIKELY(h != RESP_HDR_OK)) {
				if (h == RESP_HDR_MORE)
					continue;
				if (h == RESP_HDR_BIG)
					return fail(p, E_BULK_BIG, -EPROTO);
				return fail(p, E_BULK, -EPROTO);
			}
			if (SG_UNLIKELY((uint64_t)v > p->bulk_cap ||
					p->pos + (uint64_t)v + 2 > l->max_request))
				return bulk_error(p, v);
			if (SG_UNLIKELY(p->req.argc == p->argv_cap) &&
			    argv_grow(p, (uint64_t)p->req.argc + (uint64_t)p->remaining) != 0)
				return fail(p, E_NOMEM, -ENOMEM);
			a = &p->req.argv[p->req.argc++];
			a->off = p->pos;
			a->len = (size_t)v;
			p->remaining--;
			avail = len - i;
			if (SG_LIKELY(avail >= (uint64_t)v + 2 && chunk[i + v] == '\r' &&
				      chunk[i + v + 1] == '\n')) {
				/* the whole argument and its CRLF are here */
				a->ptr = v != 0 ? chunk + i : empty_arg;
				i += (size_t)v + 2;
				p->pos += (uint64_t)v + 2;
				if (p->remaining == 0)
					goto done;
				continue;
			}
			if (avail >= (uint64_t)v) {
				/* payload here, CRLF (or garbage) later */
				a->ptr = v != 0 ? chunk + i : empty_arg;
				i += (size_t)v;
				p->pos += (uint64_t)v;
				p->state = ST_BULK_CR;
				continue;
			}
			if ((uint64_t)v <= l->copy_max) {
				if (copy_reserve(p, (size_t)v) != 0)
					return fail(p, E_NOMEM, -ENOMEM);
				a->ptr = copied_mark;
				memcpy(p->copy + p->copy_len, chunk + i, avail);
				p->copy_len += avail;
			} else {
				a->ptr = NULL;
			}
			p->bulk_left = (uint64_t)v - avail;
			p->pos += avail;
			i = len;
			p->state = ST_BULK_DATA;
			continue;
		case ST_BULK_DATA:
			avail = (size_t)SG_MIN((uint64_t)(len - i), p->bulk_left);
			a = &p->req.argv[p->req.argc - 1];
			if (a->ptr == copied_mark) {
				memcpy(p->copy + p->copy_len, chunk + i, avail);
				p->copy_len += avail;
			}
			i += avail;
			p->pos += avail;
			p->bulk_left -= avail;
			if (p->bulk_left == 0)
				p->state = ST_BULK_CR;
			continue;
		case ST_BULK_CR:
			if (chunk[i] != '\r')
				return fail(p, E_BULK, -EPROTO);
			i++;
			p->pos++;
			p->state = ST_BULK_LF;
			continue;
		case ST_BULK_LF:
			if (chunk[i] != '\n')
				return fail(p, E_BULK, -EPROTO);
			i++;
			p->pos++;
			if (p->remaining == 0)
				goto done;
			p->state = ST_BULK_HDR;
			continue;
		case ST_INLINE:
			nl = memchr(chunk + i, '\n', len - i);
			avail = nl != NULL ? (size_t)(nl - (chunk + i)) : len - i;
			/* +1: the last byte may be the '\r' of the line end */
			if (p->copy_len + avail > (uint64_t)l->max_inline + 1)
				return fail(p, E_INLINE_BIG, -EPROTO);
			if (avail != 0) {
				if (copy_reserve(p, avail) != 0)
					return fail(p, E_NOMEM, -ENOMEM);
				memcpy(p->copy + p->copy_len, chunk + i, avail);
				p->copy_len += avail;
			}
			i += avail;
			p->pos += avail;
			if (nl == NULL)
				continue;
			i++;
			p->pos++;
			if (inline_split(p) != 0)
				return p->err;
			if (p->req.argc == 0) {
				/* blank line: skipped, as Redis does */
				p->lead += p->pos;
				p->pos = 0;
				p->copy_len = 0;
				p->state = ST_START;
				continue;
			}
			p->req.is_inline = true;
			goto done;
		}
	}
	return (ssize_t)i;

done:
	if (p->copy_len != 0 && !p->req.is_inline) {
		/* copy[] has stopped moving: give copied arguments their
		 * addresses, in order */
		at = 0;
		for (j = 0; j < p->req.argc; j++) {
			a = &p->req.argv[j];
			if (a->ptr == copied_mark) {
				a->ptr = p->copy + at;
				at += a->len;
			}
		}
	}
	p->req.lead = p->lead;
	p->req.size = p->pos;
	p->lead = 0;
	p->pos = 0;
	p->state = ST_START;
	*req = &p->req;
	return (ssize_t)i;
}
