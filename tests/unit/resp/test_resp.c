/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/resp: request parser, reply framer, writers.
 *
 * Parser and framer inputs are fed whole, byte by byte and split at every
 * offset into two (and, for short inputs, three) chunks, each chunk
 * copied against a guard page so an over-read crashes. Every feeding
 * writes a transcript (requests with their arguments, lead and size, or
 * the error text); all feedings must give the same transcript, and the
 * whole feed must give the one written in the test.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sg_common.h"
#include "sg_resp.h"
#include "sg_unit.h"

/* ------------------------------------------------------------------ */
/* Transcripts                                                         */
/* ------------------------------------------------------------------ */

struct tr {
	char *s;
	size_t len, cap;
};

static void
tr_add(struct tr *t, const char *p, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 256;

		while (cap < t->len + n + 1)
			cap *= 2;
		t->s = realloc(t->s, cap);
		if (t->s == NULL)
			abort();
		t->cap = cap;
	}
	memcpy(t->s + t->len, p, n);
	t->len += n;
	t->s[t->len] = '\0';
}

static void SG_PRINTF(2, 3)
tr_printf(struct tr *t, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	tr_add(t, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* Printable bytes as they are, others as \xHH; long runs shortened. */
static void
tr_bytes(struct tr *t, const char *p, size_t n)
{
	size_t i, shown = n > 80 ? 40 : n;

	for (i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			tr_add(t, (const char *)&c, 1);
		else
			tr_printf(t, "\\x%02x", c);
	}
	if (shown < n) {
		uint64_t sum = 0;

		for (i = 0; i < n; i++)
			sum = sum * 31 + (unsigned char)p[i];
		tr_printf(t, "...(%zu bytes, hash %016" PRIx64 ")", n, sum);
	}
}

static void
tr_free(struct tr *t)
{
	free(t->s);
	memset(t, 0, sizeof(*t));
}

/* ------------------------------------------------------------------ */
/* Request parser harness                                              */
/* ------------------------------------------------------------------ */

struct pcfg {
	struct sg_resp_limits limits;
	bool unauth;
};

static struct pcfg
cfg_default(void)
{
	struct pcfg c;

	sg_resp_limits_default(&c.limits);
	c.unauth = false;
	return c;
}

/* Where an argument's pointer points. */
enum arg_kind { K_CHUNK = 'c', K_COPY = 'p', K_NULL = 'n', K_EMPTY = 'e', K_BAD = '?' };

struct live_chunk {
	struct sg_guard g;
	size_t len;
};

struct feed {
	const char *in;
	size_t n;
	struct live_chunk *live;
	size_t nlive;
	char kinds[64];		/* kinds of the last request's first args */
	uint32_t max_argv_cap;	/* largest argv array seen */
};

static enum arg_kind
arg_kind(const struct feed *fd, const struct sg_resp_parser *p, const struct sg_arg *a)
{
	size_t i;

	if (a->ptr == NULL)
		return K_NULL;
	if (a->len == 0)
		return K_EMPTY;
	if (p->copy != NULL && a->ptr >= p->copy && a->ptr + a->len <= p->copy + p->copy_cap)
		return K_COPY;
	for (i = 0; i < fd->nlive; i++) {
		const char *c = fd->live[i].g.data;

		if (a->ptr >= c && a->ptr + a->len <= c + fd->live[i].len)
			return K_CHUNK;
	}
	return K_BAD;
}

static void
free_live(struct feed *fd, size_t keep_last)
{
	size_t i;

	for (i = 0; i + keep_last < fd->nlive; i++)
		sg_guard_free(&fd->live[i].g);
	if (keep_last && fd->nlive > 0) {
		fd->live[0] = fd->live[fd->nlive - 1];
		fd->nlive = 1;
	} else {
		fd->nlive = 0;
	}
}

/* Checks one request against the input and appends it to `t`. */
static void
record_request(struct feed *fd, const struct sg_resp_parser *p,
	       const struct sg_resp_request *r, uint64_t *prev_end,
	       uint64_t now, struct tr *t)
{
	uint64_t start = *prev_end + r->lead;
	uint32_t j;

	CU_ASSERT_EQUAL_FATAL(start + r->size, now);
	CU_ASSERT_TRUE_FATAL(start + r->size <= fd->n);
	*prev_end = now;
	tr_printf(t, "lead=%" PRIu64 " size=%" PRIu64 "%s argc=%u", r->lead, r->size,
		  r->is_inline ? " inline" : "", r->argc);
	if (p->argv_cap > fd->max_argv_cap)
		fd->max_argv_cap = p->argv_cap;
	for (j = 0; j < r->argc; j++) {
		const struct sg_arg *a = &r->argv[j];
		enum arg_kind k = arg_kind(fd, p, a);
		const char *bytes;

		if (j < sizeof(fd->kinds) - 1) {
			fd->kinds[j] = (char)k;
			fd->kinds[j + 1] = '\0';
		}
		CU_ASSERT_NOT_EQUAL(k, K_BAD);
		CU_ASSERT_TRUE_FATAL(a->off + a->len <= r->size);
		if (r->is_inline) {
			CU_ASSERT_EQUAL(k, a->len ? K_COPY : K_EMPTY);
			bytes = a->ptr;
		} else {
			bytes = fd->in + start + a->off;
			if (a->ptr == NULL) {
				CU_ASSERT_TRUE(a->len > p->limits->copy_max);
			} else {
				CU_ASSERT_EQUAL(memcmp(a->ptr, bytes, a->len), 0);
			}
			if (k == K_COPY)
				CU_ASSERT_TRUE(a->len <= p->limits->copy_max);
		}
		tr_printf(t, " [%zu]", a->len);
		tr_bytes(t, bytes, a->len);
	}
	tr_add(t, "\n", 1);
}

/*
 * Feeds in[0..n) cut at cuts[0..ncuts) (increasing), or byte by byte
 * when bytewise. Appends requests / the error to `t`; returns the
 * parser's idle state at the end (or false after an error).
 */
static bool
feed_requests(const char *in, size_t n, const size_t *cuts, size_t ncuts,
	      bool bytewise, const struct pcfg *cfg, struct tr *t, struct feed *fd)
{
	struct sg_resp_parser p;
	uint64_t prev_end = 0, base = 0;
	size_t c = 0, nchunks = bytewise ? n : ncuts + 1;
	bool idle, failed = false;

	memset(fd, 0, sizeof(*fd));
	fd->in = in;
	fd->n = n;
	fd->live = calloc(nchunks + 1, sizeof(*fd->live));
	sg_resp_parser_init(&p, &cfg->limits);
	p.authenticated = !cfg->unauth;
	for (c = 0; c < nchunks && !failed; c++) {
		size_t from = bytewise ? c : (c == 0 ? 0 : cuts[c - 1]);
		size_t to = bytewise ? c + 1 : (c == ncuts ? n : cuts[c]);
		size_t len = to - from, off = 0;
		const char *chunk;

		fd->live[fd->nlive].g = sg_guard_copy(in + from, len);
		fd->live[fd->nlive].len = len;
		chunk = fd->live[fd->nlive++].g.data;
		while (off < len) {
			const struct sg_resp_request *r = (void *)1;
			ssize_t rc = sg_resp_parse(&p, chunk + off, len - off, &r);

			if (rc < 0) {
				CU_ASSERT_EQUAL(rc, -EPROTO);
				CU_ASSERT_PTR_NOT_NULL_FATAL(sg_resp_parser_error(&p));
				tr_printf(t, "error: %s\n", sg_resp_parser_error(&p));
				/* sticky */
				CU_ASSERT_EQUAL(sg_resp_parse(&p, "*1\r\n", 4, &r), rc);
				failed = true;
				break;
			}
			CU_ASSERT_TRUE_FATAL((size_t)rc <= len - off);
			off += (size_t)rc;
			if (r == NULL) {
				CU_ASSERT_EQUAL_FATAL(off, len);
				continue;
			}
			CU_ASSERT_TRUE_FATAL(r == &p.req);
			record_request(fd, &p, r, &prev_end, base + off, t);
			/* chunks before this one are no longer referenced */
			free_live(fd, 1);
		}
		base += len;
	}
	idle = !failed && sg_resp_parser_idle(&p);
	if (!failed)
		tr_add(t, idle ? "idle\n" : "partial\n", idle ? 5 : 8);
	free_live(fd, 0);
	free(fd->live);
	sg_resp_parser_free(&p);
	return idle;
}

/* Whole, byte by byte, every 2-split and (short inputs) every 3-split
 * must agree; the whole feed must match `expect` when given. */
static void
check_requests_cfg(const char *in, size_t n, const struct pcfg *cfg, const char *expect)
{
	struct tr whole = { 0 }, t = { 0 };
	struct feed fd;
	size_t cuts[2];

	feed_requests(in, n, NULL, 0, false, cfg, &whole, &fd);
	if (expect != NULL && strcmp(whole.s, expect) != 0) {
		fprintf(stderr, "\n--- input: ");
		fwrite(in, 1, n > 200 ? 200 : n, stderr);
		fprintf(stderr, "\n--- got:\n%s--- expected:\n%s", whole.s, expect);
		CU_FAIL("whole-feed transcript differs");
	}
	feed_requests(in, n, NULL, 0, true, cfg, &t, &fd);
	CU_ASSERT_STRING_EQUAL(t.s, whole.s);
	tr_free(&t);
	for (cuts[0] = 1; cuts[0] < n; cuts[0]++) {
		feed_requests(in, n, cuts, 1, false, cfg, &t, &fd);
		if (strcmp(t.s, whole.s) != 0) {
			fprintf(stderr, "\nsplit at %zu:\n%s--- whole:\n%s", cuts[0], t.s, whole.s);
			CU_FAIL("2-split transcript differs");
		}
		tr_free(&t);
	}
	if (n <= 70) {
		for (cuts[0] = 1; cuts[0] < n; cuts[0]++) {
			for (cuts[1] = cuts[0] + 1; cuts[1] < n; cuts[1]++) {
				feed_requests(in, n, cuts, 2, false, cfg, &t, &fd);
				if (strcmp(t.s, whole.s) != 0) {
					fprintf(stderr, "\nsplit at %zu,%zu:\n%s", cuts[0], cuts[1], t.s);
					CU_FAIL("3-split transcript differs");
				}
				tr_free(&t);
			}
		}
	}
	tr_free(&whole);
}

static void
check_requests(const char *in, const char *expect)
{
	struct pcfg cfg = cfg_default();

	check_requests_cfg(in, strlen(in), &cfg, expect);
}

static void
check_requests_n(const char *in, size_t n, const char *expect)
{
	struct pcfg cfg = cfg_default();

	check_requests_cfg(in, n, &cfg, expect);
}

static void
check_unauth(const char *in, const char *expect)
{
	struct pcfg cfg = cfg_default();

	cfg.unauth = true;
	check_requests_cfg(in, strlen(in), &cfg, expect);
}

/* ------------------------------------------------------------------ */
/* Request parser tests                                                */
/* ------------------------------------------------------------------ */

static void
test_req_multibulk(void)
{
	check_requests("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n",
		       "lead=0 size=33 argc=3 [3]SET [3]key [5]value\nidle\n");
	check_requests("*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
		       "lead=0 size=14 argc=1 [4]PING\n"
		       "lead=0 size=20 argc=2 [3]GET [1]k\nidle\n");
	/* binary payloads, CRLF inside a payload, empty arguments */
	check_requests_n("*3\r\n$4\r\na\r\nb\r\n$0\r\n\r\n$2\r\n\0\xff\r\n", 28,
			 "lead=0 size=28 argc=3 [4]a\\x0d\\x0ab [0] [2]\\x00\\xff\nidle\n");
	/* incomplete at the end */
	check_requests("*2\r\n$3\r\nGET\r\n$1\r\n", "partial\n");
	check_requests("*2\r\n$3\r\nGET\r\n$1\r\nk\r", "partial\n");
}

static void
test_req_empty_skipped(void)
{
	/* "*0", "*-1", any negative count and blank inline lines are
	 * skipped and reported in the lead of the next request */
	check_requests("*0\r\n*-1\r\n\r\n\n  \t \r\n*1\r\n$4\r\nPING\r\n",
		       "lead=18 size=14 argc=1 [4]PING\nidle\n");
	check_requests("*-10\r\n*1\r\n$4\r\nPING\r\n",
		       "lead=6 size=14 argc=1 [4]PING\nidle\n");
	/* trailing blank lines are consumed; the parser is idle after */
	check_requests("*1\r\n$4\r\nPING\r\n\r\n*0\r\n",
		       "lead=0 size=14 argc=1 [4]PING\nidle\n");
	check_requests("\r\n\r\n", "idle\n");
	/* a bare '\n' first, before the parser has any buffer */
	check_requests("\nPING\n", "lead=1 size=5 inline argc=1 [4]PING\nidle\n");
}

static void
test_req_inline(void)
{
	check_requests("PING\r\n", "lead=0 size=6 inline argc=1 [4]PING\nidle\n");
	check_requests("set  k\tv\n", "lead=0 size=9 inline argc=3 [3]set [1]k [1]v\nidle\n");
	check_requests("\r\nGET k\r\nGET j\n",
		       "lead=2 size=7 inline argc=2 [3]GET [1]k\n"
		       "lead=0 size=6 inline argc=2 [3]GET [1]j\nidle\n");
	/* double quotes with every escape */
	check_requests("SET k \"a b\\n\\r\\t\\b\\a\\\\\\\"\\x41\\x7a\\q\"\r\n",
		       "lead=0 size=37 inline argc=3 [3]SET [1]k "
		       "[13]a b\\x0a\\x0d\\x09\\x08\\x07\\x5c\"Azq\nidle\n");
	/* \x without two hex digits is an x */
	check_requests("ECHO \"\\x4g\"\n", "lead=0 size=12 inline argc=2 [4]ECHO [3]x4g\nidle\n");
	/* single quotes know only \' */
	check_requests("ECHO 'it\\'s \\n'\n",
		       "lead=0 size=16 inline argc=2 [4]ECHO [7]it's \\x5cn\nidle\n");
	/* quotes in the middle of a word start a quoted part */
	check_requests("ECHO ab\"c d\"\n", "lead=0 size=13 inline argc=2 [4]ECHO [5]abc d\nidle\n");
	/* empty quoted arguments; a closing quote then a tab */
	check_requests("A \"\" ''\t\"x\"\t\n", "lead=0 size=13 inline argc=4 [1]A [0] [0] [1]x\nidle\n");
	/* \v and \f are blanks between words but not inside one */
	check_requests("A\vB \fC\x0b\n", "lead=0 size=8 inline argc=2 [3]A\\x0bB [2]C\\x0b\nidle\n");
	/* a NUL ends the line, as sdssplitargs reads a C string */
	check_requests_n("GET a\0b c\r\n", 11, "lead=0 size=11 inline argc=2 [3]GET [1]a\nidle\n");
	/* a '\r' alone inside the line separates words */
	check_requests("GET a\rb\r\r\n", "lead=0 size=10 inline argc=3 [3]GET [1]a [1]b\nidle\n");
	/* a line that starts with '$' is inline, as in Redis */
	check_requests("$3\r\n", "lead=0 size=4 inline argc=1 [2]$3\nidle\n");
	check_requests("PING", "partial\n");
}

static void
test_req_inline_errors(void)
{
	const char *bad[] = {
		"ECHO \"abc\n",
		"ECHO 'abc\r\n",
		"ECHO \"abc\"def\n",
		"ECHO 'abc'def\n",
		"ECHO \"abc\\\"\n",
		"ECHO \"abc\\\n",
	};
	size_t i;

	for (i = 0; i < SG_ARRAY_SIZE(bad); i++)
		check_requests(bad[i], "error: ERR Protocol error: unbalanced quotes in request\n");
	/* the error follows requests already returned */
	check_requests("PING\nECHO \"x\n",
		       "lead=0 size=5 inline argc=1 [4]PING\n"
		       "error: ERR Protocol error: unbalanced quotes in request\n");
}

static void
test_req_inline_limits(void)
{
	size_t max = 64 * 1024, n, cuts[3];
	char *buf = malloc(max + 16);
	struct pcfg cfg = cfg_default();
	struct tr t = { 0 }, w = { 0 };
	struct feed fd;
	size_t c;

	/* exactly max_inline bytes (plus CRLF) is fine */
	memset(buf, 'a', max);
	memcpy(buf + max, "\r\n", 2);
	n = max + 2;
	feed_requests(buf, n, NULL, 0, false, &cfg, &w, &fd);
	CU_ASSERT_PTR_NOT_NULL(strstr(w.s, "lead=0 size=65538 inline argc=1 [65536]aaaa"));
	CU_ASSERT_PTR_NOT_NULL(strstr(w.s, "...(65536 bytes, hash"));
	for (c = 1; c < n; c += 997) {
		cuts[0] = c;
		feed_requests(buf, n, cuts, 1, false, &cfg, &t, &fd);
		CU_ASSERT_STRING_EQUAL(t.s, w.s);
		tr_free(&t);
	}
	tr_free(&w);
	/* one byte more is too big, whether or not the end has come */
	buf[max] = 'a';
	memcpy(buf + max + 1, "\r\n", 2);
	for (n = max + 1; n <= max + 3; n++) {
		for (c = 0; c < 4; c++) {
			cuts[0] = c == 0 ? max - 5 : c == 1 ? max : c == 2 ? max + 1 : 1;
			cuts[1] = n - 1;
			feed_requests(buf, n, cuts, cuts[0] < cuts[1] ? 2 : 0, false, &cfg, &t, &fd);
			if (n == max + 1) { /* no verdict yet: could be "...\r" */
				CU_ASSERT_STRING_EQUAL(t.s, "partial\n");
			} else {
				CU_ASSERT_STRING_EQUAL(t.s, "error: ERR Protocol error: "
							    "too big inline request\n");
			}
			tr_free(&t);
		}
	}
	/* a much longer line fails as soon as the limit is passed */
	free(buf);
	buf = malloc(200000);
	memset(buf, 'b', 200000);
	feed_requests(buf, 200000, NULL, 0, false, &cfg, &t, &fd);
	CU_ASSERT_STRING_EQUAL(t.s, "error: ERR Protocol error: too big inline request\n");
	tr_free(&t);
	free(buf);
}

static void
test_req_multibulk_length_errors(void)
{
	const char *e = "error: ERR Protocol error: invalid multibulk length\n";
	const char *big = "error: ERR Protocol error: too big mbulk count string\n";

	check_requests("*abc\r\n", e);
	check_requests("*\r\n", e);
	check_requests("*+1\r\n", e);
	check_requests("* 1\r\n", e);
	check_requests("*1 \r\n", e);
	check_requests("*01\r\n", e);
	check_requests("*-0\r\n", e);
	check_requests("*1\rX$1\r\na\r\n", e);
	check_requests("*1048577\r\n", e);
	check_requests("*9223372036854775808\r\n", e);
	check_requests("*99999999999999999999999999999\r\n", e);	/* 30 bytes: not too big */
	check_requests("*999999999999999999999999999999\r\n", big);	/* 31 */
	check_requests("*xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", big);
	check_requests("*1", "partial\n");
	/* the first requests still come out */
	check_requests("*1\r\n$1\r\na\r\n*x\r\n", "lead=0 size=11 argc=1 [1]a\n"
		       "error: ERR Protocol error: invalid multibulk length\n");
}

static void
test_req_bulk_length_errors(void)
{
	const char *e = "error: ERR Protocol error: invalid bulk length\n";
	const char *big = "error: ERR Protocol error: too big bulk count string\n";

	check_requests("*1\r\n$-1\r\n", e);
	check_requests("*1\r\n$-5\r\n", e);
	check_requests("*1\r\n$abc\r\n", e);
	check_requests("*1\r\n$+3\r\nfoo\r\n", e);
	check_requests("*1\r\n$ 3\r\nfoo\r\n", e);
	check_requests("*1\r\n$3 \r\nfoo\r\n", e);
	check_requests("*1\r\n$03\r\nfoo\r\n", e);
	check_requests("*1\r\n$\r\n", e);
	check_requests("*1\r\n$3\rXfoo\r\n", e);
	check_requests("*1\r\n$536870913\r\n", e);	/* over 512 MiB */
	check_requests("*1\r\n$536870912\r\nabc", "partial\n");
	check_requests("*1\r\n$18446744073709551616\r\n", e);
	check_requests("*1\r\n$12345678901234567890123456789\r\n", e);
	check_requests("*1\r\n$123456789012345678901234567890\r\n", big);
	check_requests("*1\r\n$11111111111111111111111111111111111111111111111", big);
	/* missing CRLF after the payload: the length did not match */
	check_requests("*1\r\n$3\r\nfooXX", e);
	check_requests("*1\r\n$3\r\nfoo\rX", e);
	check_requests("*1\r\n$3\r\nfoo\n\r", e);
	check_requests("*2\r\n$3\r\nfoo\r\n$0\r\nX\r\n", e);
}

static void
test_req_expected_dollar(void)
{
	check_requests("*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n",
		       "error: ERR Protocol error: expected '$', got 'f'\n");
	check_requests("*1\r\n:1\r\n", "error: ERR Protocol error: expected '$', got ':'\n");
	check_requests("*1\r\n\r\n", "error: ERR Protocol error: expected '$', got ' '\n");
	/* the first byte decides, without waiting for the line end */
	check_requests("*1\r\nfoo", "error: ERR Protocol error: expected '$', got 'f'\n");
	check_requests("*1\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		       "error: ERR Protocol error: expected '$', got 'x'\n");
	check_requests("*2\r\n$1\r\na\r\n\r", "error: ERR Protocol error: expected '$', got ' '\n");
}

static void
test_req_unauth_limits(void)
{
	check_unauth("*11\r\n", "error: ERR Protocol error: unauthenticated multibulk length\n");
	check_unauth("*10\r\n$1\r\na\r\n", "partial\n");
	check_unauth("*1\r\n$16385\r\n", "error: ERR Protocol error: unauthenticated bulk length\n");
	check_unauth("*1\r\n$16384\r\n", "partial\n");
	/* the general limits come first, as in Valkey */
	check_unauth("*1048577\r\n", "error: ERR Protocol error: invalid multibulk length\n");
	check_unauth("*1\r\n$536870913\r\n", "error: ERR Protocol error: invalid bulk length\n");
	/* empty requests are fine before AUTH */
	check_unauth("*-1\r\n*1\r\n$4\r\nAUTH\r\n", "lead=5 size=14 argc=1 [4]AUTH\nidle\n");
	/* authenticated: the same requests pass */
	check_requests("*11\r\n", "partial\n");
	check_requests("*1\r\n$16385\r\n", "partial\n");
}

static void
test_req_unauth_then_auth(void)
{
	struct sg_resp_parser p;
	const struct sg_resp_request *r;
	ssize_t rc;

	sg_resp_parser_init(&p, NULL);
	CU_ASSERT_FALSE(p.authenticated);
	rc = sg_resp_parse(&p, "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n", 22, &r);
	CU_ASSERT_EQUAL(rc, 22);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->argc, 2);
	p.authenticated = true;
	rc = sg_resp_parse(&p, "*11\r\n", 5, &r);
	CU_ASSERT_EQUAL(rc, 5);
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT_FALSE(sg_resp_parser_idle(&p));
	sg_resp_parser_free(&p);
}

static void
test_req_max_request(void)
{
	struct pcfg cfg = cfg_default();

	cfg.limits.max_request = 39;
	/* 4 + 9 + 7 + 5 + 14 = 39 bytes: fits exactly */
	check_requests_cfg("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$12\r\n0123456789ab\r\n", 39, &cfg,
			   "lead=0 size=39 argc=3 [3]SET [1]k [12]0123456789ab\nidle\n");
	/* one more byte is refused as soon as its length is read */
	check_requests_cfg("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$13\r\n", 25, &cfg,
			   "error: ERR Protocol error: too big request\n");
	/* inline lines count too */
	check_requests_cfg("SET k 0123456789012345678901234567890123\r\n", 42, &cfg,
			   "error: ERR Protocol error: too big request\n");
	/* the bulk limit is its own error */
	cfg = cfg_default();
	cfg.limits.max_bulk = 10;
	check_requests_cfg("*1\r\n$11\r\n", 9, &cfg,
			   "error: ERR Protocol error: invalid bulk length\n");
	check_requests_cfg("*1\r\n$10\r\n0123456789\r\n", 21, &cfg,
			   "lead=0 size=21 argc=1 [10]0123456789\nidle\n");
	/* a lower max_args */
	cfg = cfg_default();
	cfg.limits.max_args = 2;
	check_requests_cfg("*3\r\n", 4, &cfg,
			   "error: ERR Protocol error: invalid multibulk length\n");
	check_requests_cfg("A B C\n", 6, &cfg,
			   "error: ERR Protocol error: invalid multibulk length\n");
	check_requests_cfg("A B\n", 4, &cfg, "lead=0 size=4 inline argc=2 [1]A [1]B\nidle\n");
}

/* Feeds chunks (each against a guard page) and returns the kinds of the
 * arguments of the single request they hold. */
static void
kinds_of(const char *in, const size_t *cuts, size_t ncuts, const struct pcfg *cfg,
	 char *kinds, struct tr *t)
{
	struct feed fd;

	feed_requests(in, strlen(in), cuts, ncuts, false, cfg, t, &fd);
	strcpy(kinds, fd.kinds);
}

static void
test_req_arg_pointers(void)
{
	/* *3  $3 SET  $3 key  $600 <600 x> */
	char in[700], kinds[64];
	struct pcfg cfg = cfg_default();
	struct tr t = { 0 };
	size_t cuts[3], hdr;

	hdr = (size_t)snprintf(in, sizeof(in), "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$600\r\n");
	memset(in + hdr, 'x', 600);
	strcpy(in + hdr + 600, "\r\n");
	/* whole: all in the chunk */
	kinds_of(in, NULL, 0, &cfg, kinds, &t);
	CU_ASSERT_STRING_EQUAL(kinds, "ccc");
	tr_free(&t);
	/* "key" cut in the middle: copied; the value is in the 2nd chunk */
	cuts[0] = 19;
	kinds_of(in, cuts, 1, &cfg, kinds, &t);
	CU_ASSERT_STRING_EQUAL(kinds, "cpc");
	tr_free(&t);
	/* the 600-byte value cut: too long to copy, NULL + off */
	cuts[0] = hdr + 100;
	kinds_of(in, cuts, 1, &cfg, kinds, &t);
	CU_ASSERT_STRING_EQUAL(kinds, "ccn");
	CU_ASSERT_PTR_NOT_NULL(strstr(t.s, "lead=0 size=630 argc=3"));
	tr_free(&t);
	/* with copy_max raised, it is copied */
	cfg.limits.copy_max = 600;
	kinds_of(in, cuts, 1, &cfg, kinds, &t);
	CU_ASSERT_STRING_EQUAL(kinds, "ccp");
	tr_free(&t);
	/* payload whole in one chunk, its CRLF in the next: still a
	 * pointer into the first chunk */
	cuts[0] = hdr + 600;
	kinds_of(in, cuts, 1, &cfg, kinds, &t);
	CU_ASSERT_STRING_EQUAL(kinds, "ccc");
	tr_free(&t);
	/* header straddles, payload whole in the second chunk */
	cuts[0] = hdr - 3;
	kinds_of(in, cuts, 1, &cfg, kinds, &t);
	CU_ASSERT_STRING_EQUAL(kinds, "ccc");
	tr_free(&t);
	/* empty arguments point at an empty string */
	kinds_of("*2\r\n$0\r\n\r\n$0\r\n\r\n", NULL, 0, &cfg, kinds, &t);
	CU_ASSERT_STRING_EQUAL(kinds, "ee");
	tr_free(&t);
}

static void
test_req_arg_offsets(void)
{
	const char *in = "\r\n*2\r\n$3\r\nGET\r\n$5\r\nhello\r\n";
	struct sg_resp_parser p;
	const struct sg_resp_request *r;
	ssize_t rc;

	sg_resp_parser_init(&p, NULL);
	p.authenticated = true;
	rc = sg_resp_parse(&p, in, strlen(in), &r);
	CU_ASSERT_EQUAL(rc, (ssize_t)strlen(in));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->lead, 2);
	CU_ASSERT_EQUAL(r->size, strlen(in) - 2);
	CU_ASSERT_EQUAL(r->argv[0].off, 8);
	CU_ASSERT_EQUAL(r->argv[0].len, 3);
	CU_ASSERT_PTR_EQUAL(r->argv[0].ptr, in + 2 + 8);
	CU_ASSERT_EQUAL(r->argv[1].off, 17);
	CU_ASSERT_PTR_EQUAL(r->argv[1].ptr, in + 2 + 17);
	CU_ASSERT_FALSE(r->is_inline);
	CU_ASSERT_TRUE(sg_resp_parser_idle(&p));
	sg_resp_parser_free(&p);
}

/* Many short arguments each cut across chunks: copy[] grows (moves)
 * while the request is read; every copied argument must still be right
 * when it is returned. */
static void
test_req_copies_survive_growth(void)
{
	char in[8192];
	size_t n, i, k, cuts[64], nc = 0;
	struct pcfg cfg = cfg_default();
	struct tr t = { 0 }, w = { 0 };
	struct feed fd;

	n = (size_t)snprintf(in, sizeof(in), "*40\r\n");
	for (i = 0; i < 40; i++) {
		n += (size_t)snprintf(in + n, sizeof(in) - n, "$100\r\n");
		for (k = 0; k < 100; k++)
			in[n++] = (char)('A' + (i + k) % 26);
		in[n++] = '\r';
		in[n++] = '\n';
		if (nc < SG_ARRAY_SIZE(cuts))
			cuts[nc++] = n - 50;
	}
	feed_requests(in, n, NULL, 0, false, &cfg, &w, &fd);
	CU_ASSERT_STRING_EQUAL(fd.kinds, "cccccccccccccccccccccccccccccccccccccccc");
	feed_requests(in, n, cuts, nc, false, &cfg, &t, &fd);
	CU_ASSERT_STRING_EQUAL(fd.kinds, "pppppppppppppppppppppppppppppppppppppppp");
	CU_ASSERT_STRING_EQUAL(t.s, w.s);
	tr_free(&t);
	feed_requests(in, n, NULL, 0, true, &cfg, &t, &fd);
	CU_ASSERT_STRING_EQUAL(t.s, w.s);
	tr_free(&t);
	tr_free(&w);
}

static char *
build_args(uint32_t argc, size_t *n)
{
	char *buf = malloc(32 + (size_t)argc * 7);
	size_t len = (size_t)sprintf(buf, "*%u\r\n", argc);
	uint32_t i;

	for (i = 0; i < argc; i++) {
		memcpy(buf + len, "$1\r\na\r\n", 7);
		buf[len + 4] = (char)('a' + i % 26);
		len += 7;
	}
	*n = len;
	return buf;
}

static void
test_req_million_args(void)
{
	struct pcfg cfg = cfg_default();
	struct tr t = { 0 }, w = { 0 };
	struct feed fd;
	size_t n, cuts[3];
	char *buf = build_args(1048576, &n);
	struct sg_resp_parser p;
	const struct sg_resp_request *r;
	ssize_t rc;

	feed_requests(buf, n, NULL, 0, false, &cfg, &w, &fd);
	CU_ASSERT_PTR_NOT_NULL(strstr(w.s, "lead=0 size=7340042 argc=1048576 [1]a [1]b"));
	cuts[0] = 5;
	cuts[1] = 3000001;
	cuts[2] = n - 3;
	feed_requests(buf, n, cuts, 3, false, &cfg, &t, &fd);
	CU_ASSERT_STRING_EQUAL(t.s, w.s);
	tr_free(&t);
	tr_free(&w);
	free(buf);

	/* one more is refused at the header, before anything is taken */
	buf = build_args(1048577, &n);
	feed_requests(buf, n, NULL, 0, false, &cfg, &t, &fd);
	CU_ASSERT_STRING_EQUAL(t.s, "error: ERR Protocol error: invalid multibulk length\n");
	tr_free(&t);
	free(buf);

	/* memory follows what arrived, not what the header claims */
	buf = build_args(1048576, &n);
	sg_resp_parser_init(&p, NULL);
	p.authenticated = true;
	rc = sg_resp_parse(&p, buf, 10 + 7 * 10, &r);
	CU_ASSERT_EQUAL(rc, 80);
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT_TRUE(p.argv_cap <= 16);
	rc = sg_resp_parse(&p, buf + 80, 7 * 1000, &r);
	CU_ASSERT_EQUAL(rc, 7000);
	CU_ASSERT_TRUE(p.argv_cap <= 2048);
	CU_ASSERT_EQUAL(p.req.argc, 1010);
	/* the rest, then a small request: the big argv is let go */
	rc = sg_resp_parse(&p, buf + 7080, n - 7080, &r);
	CU_ASSERT_EQUAL(rc, (ssize_t)(n - 7080));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->argc, 1048576);
	CU_ASSERT_TRUE(p.argv_cap >= 1048576);
	rc = sg_resp_parse(&p, "*1\r\n$1\r\nx\r\n", 11, &r);
	CU_ASSERT_EQUAL(rc, 11);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_TRUE(p.argv_cap <= 16);
	sg_resp_parser_free(&p);
	free(buf);
}

static void
test_req_huge_bulk_streams(void)
{
	/* a 1 MB value fed in 1000-byte chunks: never copied, NULL + off,
	 * and the parser holds no more than its small buffers */
	size_t vlen = 1 << 20, hdr, n, i, cuts[1100], nc = 0;
	char *buf = malloc(vlen + 64);
	struct pcfg cfg = cfg_default();
	struct tr t = { 0 };
	struct feed fd;

	hdr = (size_t)sprintf(buf, "*2\r\n$3\r\nSET\r\n$%zu\r\n", vlen);
	for (i = 0; i < vlen; i++)
		buf[hdr + i] = (char)('a' + i % 7);
	memcpy(buf + hdr + vlen, "\r\n", 2);
	n = hdr + vlen + 2;
	for (i = 1000; i < n && nc < SG_ARRAY_SIZE(cuts); i += 1000)
		cuts[nc++] = i;
	feed_requests(buf, n, cuts, nc, false, &cfg, &t, &fd);
	CU_ASSERT_STRING_EQUAL(fd.kinds, "cn");
	CU_ASSERT_PTR_NOT_NULL(strstr(t.s, "lead=0 size=1048601 argc=2 [3]SET [1048576]"));
	tr_free(&t);
	free(buf);
}

static void
test_req_sticky_and_idle(void)
{
	struct sg_resp_parser p;
	const struct sg_resp_request *r;

	sg_resp_parser_init(&p, NULL);
	CU_ASSERT_TRUE(sg_resp_parser_idle(&p));
	CU_ASSERT_PTR_NULL(sg_resp_parser_error(&p));
	CU_ASSERT_EQUAL(sg_resp_parse(&p, "*1\r", 3, &r), 3);
	CU_ASSERT_FALSE(sg_resp_parser_idle(&p));
	CU_ASSERT_EQUAL(sg_resp_parse(&p, "\n$x\r\n", 5, &r), -EPROTO);
	CU_ASSERT_STRING_EQUAL(sg_resp_parser_error(&p), "ERR Protocol error: invalid bulk length");
	CU_ASSERT_EQUAL(sg_resp_parse(&p, "PING\r\n", 6, &r), -EPROTO);
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT_FALSE(sg_resp_parser_idle(&p));
	CU_ASSERT_EQUAL(sg_resp_parse(&p, "", 0, &r), -EPROTO);
	sg_resp_parser_free(&p);

	sg_resp_parser_init(&p, NULL);
	CU_ASSERT_EQUAL(sg_resp_parse(&p, "", 0, &r), 0);
	CU_ASSERT_PTR_NULL(r);
	sg_resp_parser_free(&p);
}

static void
test_req_limits_default(void)
{
	struct sg_resp_limits l;

	sg_resp_limits_default(&l);
	CU_ASSERT_EQUAL(l.max_args, 1048576);
	CU_ASSERT_EQUAL(l.max_bulk, 512ull << 20);
	CU_ASSERT_EQUAL(l.max_request, (512ull << 20) + (64 << 10));
	CU_ASSERT_EQUAL(l.max_inline, 64 << 10);
	CU_ASSERT_EQUAL(l.unauth_max_args, 10);
	CU_ASSERT_EQUAL(l.unauth_max_bulk, 16384);
	CU_ASSERT_EQUAL(l.copy_max, 512);
}

/* ------------------------------------------------------------------ */
/* Reply framer harness                                                */
/* ------------------------------------------------------------------ */

static void
record_reply(const struct sg_resp_reply *r, struct tr *t)
{
	tr_printf(t, "%c size=%" PRIu64 " value=%" PRId64 "%s%s", (char)r->type, r->size,
		  r->value, r->is_null ? " null" : "", r->has_attribute ? " attr" : "");
	if (r->type == SG_RESP_SIMPLE || r->type == SG_RESP_ERROR ||
	    r->type == SG_RESP_BULK_ERROR) {
		tr_printf(t, " text[%zu]=", r->text_len);
		tr_bytes(t, r->text, SG_MIN(r->text_len, (size_t)SG_RESP_TEXT_MAX));
	}
	if (r->error != SG_RESP_ERR_NONE)
		tr_printf(t, " err=%d", (int)r->error);
	if (r->error == SG_RESP_ERR_MOVED || r->error == SG_RESP_ERR_ASK)
		tr_printf(t, " slot=%u host='%s' port=%u", r->slot, r->host, r->port);
	tr_add(t, "\n", 1);
}

struct fcfg {
	uint32_t max_depth;
	uint64_t max_bulk;
};

static void
feed_replies(const char *in, size_t n, const size_t *cuts, size_t ncuts, bool bytewise,
	     const struct fcfg *cfg, struct tr *t)
{
	struct sg_resp_framer f;
	struct sg_resp_reply r;
	size_t c, nchunks = bytewise ? n : ncuts + 1;
	uint64_t since = 0;
	bool failed = false;

	sg_resp_framer_init(&f);
	if (cfg != NULL) {
		f.max_depth = cfg->max_depth;
		f.max_bulk = cfg->max_bulk;
	}
	for (c = 0; c < nchunks && !failed; c++) {
		size_t from = bytewise ? c : (c == 0 ? 0 : cuts[c - 1]);
		size_t to = bytewise ? c + 1 : (c == ncuts ? n : cuts[c]);
		size_t len = to - from, off = 0;
		struct sg_guard g = sg_guard_copy(in + from, len);

		while (off < len) {
			bool done = true;
			ssize_t rc = sg_resp_frame(&f, g.data + off, len - off, &r, &done);

			if (rc < 0) {
				CU_ASSERT_EQUAL(rc, -EPROTO);
				CU_ASSERT_PTR_NOT_NULL_FATAL(sg_resp_framer_error(&f));
				tr_printf(t, "error: %s\n", sg_resp_framer_error(&f));
				CU_ASSERT_EQUAL(sg_resp_frame(&f, "+OK\r\n", 5, &r, &done), -EPROTO);
				failed = true;
				break;
			}
			CU_ASSERT_TRUE_FATAL((size_t)rc <= len - off);
			off += (size_t)rc;
			since += (uint64_t)rc;
			if (!done) {
				CU_ASSERT_EQUAL_FATAL(off, len);
				continue;
			}
			CU_ASSERT_EQUAL(r.size, since);
			since = 0;
			record_reply(&r, t);
		}
		sg_guard_free(&g);
	}
	if (!failed && since != 0)
		tr_add(t, "partial\n", 8);
}

static void
check_replies_cfg(const char *in, size_t n, const struct fcfg *cfg, const char *expect)
{
	struct tr whole = { 0 }, t = { 0 };
	size_t cuts[2];

	feed_replies(in, n, NULL, 0, false, cfg, &whole);
	if (expect != NULL && strcmp(whole.s ? whole.s : "", expect) != 0) {
		fprintf(stderr, "\n--- got:\n%s--- expected:\n%s", whole.s, expect);
		CU_FAIL("whole-feed reply transcript differs");
	}
	feed_replies(in, n, NULL, 0, true, cfg, &t);
	CU_ASSERT_STRING_EQUAL(t.s ? t.s : "", whole.s ? whole.s : "");
	tr_free(&t);
	for (cuts[0] = 1; cuts[0] < n; cuts[0]++) {
		feed_replies(in, n, cuts, 1, false, cfg, &t);
		if (strcmp(t.s ? t.s : "", whole.s ? whole.s : "") != 0) {
			fprintf(stderr, "\nsplit at %zu:\n%s", cuts[0], t.s);
			CU_FAIL("2-split reply transcript differs");
		}
		tr_free(&t);
	}
	if (n <= 70) {
		for (cuts[0] = 1; cuts[0] < n; cuts[0]++) {
			for (cuts[1] = cuts[0] + 1; cuts[1] < n; cuts[1]++) {
				feed_replies(in, n, cuts, 2, false, cfg, &t);
				CU_ASSERT_STRING_EQUAL(t.s ? t.s : "", whole.s ? whole.s : "");
				tr_free(&t);
			}
		}
	}
	tr_free(&whole);
}

static void
check_replies(const char *in, const char *expect)
{
	check_replies_cfg(in, strlen(in), NULL, expect);
}

/* ------------------------------------------------------------------ */
/* Reply framer tests                                                  */
/* ------------------------------------------------------------------ */

static void
test_reply_resp2_types(void)
{
	check_replies("+OK\r\n", "+ size=5 value=0 text[2]=OK\n");
	check_replies("-ERR unknown command\r\n",
		      "- size=22 value=0 text[19]=ERR unknown command err=1\n");
	check_replies(":123\r\n:-9223372036854775808\r\n",
		      ": size=6 value=123\n: size=23 value=-9223372036854775808\n");
	check_replies("$3\r\nfoo\r\n$0\r\n\r\n", "$ size=9 value=3\n$ size=6 value=0\n");
	check_replies("$-1\r\n*-1\r\n", "$ size=5 value=-1 null\n* size=5 value=-1 null\n");
	check_replies("*0\r\n", "* size=4 value=0\n");
	check_replies("*3\r\n$1\r\na\r\n:1\r\n*2\r\n+x\r\n$-1\r\n",
		      "* size=28 value=3\n");
	/* binary and CRLF inside a bulk are skipped by length */
	check_replies("$6\r\na\r\nb\r\n\r\n", "$ size=12 value=6\n");
	check_replies("$3\r\nfo", "partial\n");
}

static void
test_reply_resp3_types(void)
{
	check_replies("_\r\n", "_ size=3 value=0 null\n");
	check_replies("#t\r\n#f\r\n", "# size=4 value=1\n# size=4 value=0\n");
	check_replies(",3.14\r\n,-inf\r\n,nan\r\n",
		      ", size=7 value=0\n, size=7 value=0\n, size=6 value=0\n");
	check_replies("(3492890328409238509324850943850943825024385\r\n",
		      "( size=46 value=0\n");
	check_replies("!21\r\nSYNTAX invalid syntax\r\n",
		      "! size=28 value=21 text[21]=SYNTAX invalid syntax err=1\n");
	check_replies("=15\r\ntxt:Some string\r\n", "= size=22 value=15\n");
	check_replies("%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n", "% size=29 value=2\n");
	check_replies("~3\r\n+a\r\n+b\r\n+c\r\n", "~ size=16 value=3\n");
	check_replies(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
		      "> size=33 value=3\n");
	check_replies("%0\r\n~0\r\n>0\r\n",
		      "% size=4 value=0\n~ size=4 value=0\n> size=4 value=0\n");
	/* a null inside a map, a map inside an array */
	check_replies("*2\r\n%1\r\n$1\r\nk\r\n_\r\n#t\r\n", "* size=22 value=2\n");
}

static void
test_reply_attributes(void)
{
	/* the example of the RESP3 specification */
	check_replies("|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n"
		      ",0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n",
		      "* size=81 value=2 attr\n");
	/* an attribute before a simple reply, then a reply without one */
	check_replies("|1\r\n+a\r\n+b\r\n:7\r\n+OK\r\n",
		      ": size=16 value=7 attr\n+ size=5 value=0 text[2]=OK\n");
	/* inside an aggregate it is not an element */
	check_replies("*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n+next\r\n",
		      "* size=24 value=2\n+ size=7 value=0 text[4]=next\n");
	/* empty attributes, twice, and before the last element */
	check_replies("|0\r\n|0\r\n*1\r\n|0\r\n:5\r\n", "* size=20 value=1 attr\n");
	/* before an error: still classified */
	check_replies("|1\r\n+a\r\n+b\r\n-MOVED 1 h:2\r\n",
		      "- size=26 value=0 attr text[11]=MOVED 1 h:2 err=2 slot=1 host='h' port=2\n");
}

static void
test_reply_push(void)
{
	/* a push at the top level, then the normal reply after it */
	check_replies(">2\r\n+invalidate\r\n*1\r\n$3\r\nkey\r\n:1\r\n",
		      "> size=30 value=2\n: size=4 value=1\n");
}

static void
test_reply_nesting(void)
{
	char *buf;
	size_t i, n;
	struct tr t = { 0 };
	struct fcfg cfg = { 3, 1 << 20 };

	/* 64 levels are allowed */
	buf = malloc(100000 * 4 + 16);
	for (i = 0, n = 0; i < 64; i++, n += 4)
		memcpy(buf + n, "*1\r\n", 4);
	memcpy(buf + n, ":1\r\n", 4);
	n += 4;
	feed_replies(buf, n, NULL, 0, false, NULL, &t);
	CU_ASSERT_STRING_EQUAL(t.s, "* size=260 value=1\n");
	tr_free(&t);
	feed_replies(buf, n, NULL, 0, true, NULL, &t);
	CU_ASSERT_STRING_EQUAL(t.s, "* size=260 value=1\n");
	tr_free(&t);
	/* the depth bomb: *1 x 100000 */
	for (i = 0, n = 0; i < 100000; i++, n += 4)
		memcpy(buf + n, "*1\r\n", 4);
	feed_replies(buf, n, NULL, 0, false, NULL, &t);
	CU_ASSERT_STRING_EQUAL(t.s, "error: ERR Protocol error: reply nested too deep\n");
	tr_free(&t);
	feed_replies(buf, 2000, NULL, 0, true, NULL, &t);
	CU_ASSERT_STRING_EQUAL(t.s, "error: ERR Protocol error: reply nested too deep\n");
	tr_free(&t);
	free(buf);
	/* a lower max_depth; maps and attributes count as levels too */
	check_replies_cfg("*1\r\n*1\r\n*1\r\n:1\r\n", 16, &cfg, "* size=16 value=1\n");
	check_replies_cfg("*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", 20, &cfg,
			  "error: ERR Protocol error: reply nested too deep\n");
	check_replies_cfg("%1\r\n:1\r\n~1\r\n|1\r\n:1\r\n*1\r\n:1\r\n:1\r\n", 32, &cfg,
			  "error: ERR Protocol error: reply nested too deep\n");
	/* zero-length aggregates open no level */
	check_replies_cfg("*1\r\n*1\r\n*1\r\n*0\r\n", 16, &cfg, "* size=16 value=1\n");
}

static void
test_reply_errors(void)
{
	struct fcfg cfg = { SG_RESP_MAX_DEPTH, 10 };

	check_replies("?x\r\n", "error: ERR Protocol error: invalid reply type byte\n");
	check_replies("*1\r\n\r\n", "error: ERR Protocol error: invalid reply type byte\n");
	check_replies("$-2\r\n", "error: ERR Protocol error: invalid length in reply\n");
	check_replies("*-2\r\n", "error: ERR Protocol error: invalid length in reply\n");
	check_replies("%-1\r\n", "error: ERR Protocol error: invalid length in reply\n");
	check_replies("=-1\r\n", "error: ERR Protocol error: invalid length in reply\n");
	check_replies("$abc\r\n", "error: ERR Protocol error: invalid length in reply\n");
	check_replies(":1.5\r\n", "error: ERR Protocol error: invalid length in reply\n");
	check_replies(":+1\r\n", "error: ERR Protocol error: invalid length in reply\n");
	check_replies("$1\rX", "error: ERR Protocol error: invalid length in reply\n");
	check_replies(":111111111111111111111111111111111111",
		      "error: ERR Protocol error: too big length line in reply\n");
	check_replies("+OK\rX\r\n", "error: ERR Protocol error: CR without LF in reply\n");
	check_replies("$3\r\nfooXX", "error: ERR Protocol error: bulk data in reply not "
				      "followed by CRLF\n");
	check_replies("$3\r\nfoo\r\r", "error: ERR Protocol error: bulk data in reply not "
					"followed by CRLF\n");
	check_replies("_x\r\n", "error: ERR Protocol error: invalid null or boolean in reply\n");
	check_replies("#x\r\n", "error: ERR Protocol error: invalid null or boolean in reply\n");
	check_replies("#tt\r\n", "error: ERR Protocol error: invalid null or boolean in reply\n");
	check_replies("_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		      "error: ERR Protocol error: invalid null or boolean in reply\n");
	check_replies("*4294967296\r\n", "error: ERR Protocol error: too many elements in reply\n");
	check_replies("*4294967295\r\n", "partial\n");
	check_replies_cfg("$11\r\n", 5, &cfg,
			  "error: ERR Protocol error: bulk length in reply over the limit\n");
	check_replies_cfg("$10\r\n0123456789\r\n", 17, &cfg, "$ size=17 value=10\n");
	check_replies("+a\r\n$x\r\n", "+ size=4 value=0 text[1]=a\n"
					"error: ERR Protocol error: invalid length in reply\n");
}

static void
test_reply_long_text(void)
{
	char in[400];
	size_t i;

	in[0] = '-';
	for (i = 1; i <= 300; i++)
		in[i] = (char)('a' + i % 26);
	memcpy(in + 301, "\r\n", 3);
	{
		struct tr t = { 0 };
		struct sg_resp_framer f;
		struct sg_resp_reply r;
		bool done;

		feed_replies(in, 303, NULL, 0, true, NULL, &t);
		CU_ASSERT_PTR_NOT_NULL(strstr(t.s, "text[300]="));
		tr_free(&t);
		sg_resp_framer_init(&f);
		CU_ASSERT_EQUAL(sg_resp_frame(&f, in, 303, &r, &done), 303);
		CU_ASSERT_TRUE(done);
		CU_ASSERT_EQUAL(r.text_len, 300);
		CU_ASSERT_EQUAL(memcmp(r.text, in + 1, SG_RESP_TEXT_MAX), 0);
		CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_OTHER);
	}
	check_replies_cfg(in, 303, NULL, NULL);
}

static void
classify(const char *text, struct sg_resp_reply *r)
{
	memset(r, 0x55, sizeof(*r));
	sg_resp_classify_error(text, strlen(text), r);
}

static void
test_reply_classify(void)
{
	struct sg_resp_reply r;

	classify("MOVED 3999 127.0.0.1:6381", &r);
	CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_MOVED);
	CU_ASSERT_EQUAL(r.slot, 3999);
	CU_ASSERT_STRING_EQUAL(r.host, "127.0.0.1");
	CU_ASSERT_EQUAL(r.port, 6381);
	classify("ASK 16383 node-1.example.com:7000", &r);
	CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_ASK);
	CU_ASSERT_EQUAL(r.slot, 16383);
	CU_ASSERT_STRING_EQUAL(r.host, "node-1.example.com");
	CU_ASSERT_EQUAL(r.port, 7000);
	classify("MOVED 1 :6380", &r);
	CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_MOVED);
	CU_ASSERT_EQUAL(r.slot, 1);
	CU_ASSERT_STRING_EQUAL(r.host, "");
	CU_ASSERT_EQUAL(r.port, 6380);
	classify("MOVED 0 [::1]:6380", &r);
	CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_MOVED);
	CU_ASSERT_EQUAL(r.slot, 0);
	CU_ASSERT_STRING_EQUAL(r.host, "::1");
	CU_ASSERT_EQUAL(r.port, 6380);
	classify("ASK 12 fe80::1:2:65535", &r);
	CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_ASK);
	CU_ASSERT_STRING_EQUAL(r.host, "fe80::1:2");
	CU_ASSERT_EQUAL(r.port, 65535);

	/* malformed redirects are not acted on */
	classify("MOVED 16384 h:1", &r);
	CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_OTHER);
	CU_ASSERT_STRING_EQUAL(r.host, "");
	classify("MOVED 1 h", &r);
	CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_OTHER);
	classify("MOVED 1 h:", &r);
	CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_OTHER);
	classify("MOVED 1 h:65536", &r);
	CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_OTHER);
	classify("MOVED x h:1", &r);
	CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_OTHER);
	classify("MOVED", &r);
	CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_OTHER);
	classify("MOVED 1 "
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:1", &r);
	CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_OTHER);

	classify("TRYAGAIN Multiple keys request during rehashing of slot", &r);
	CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_TRYAGAIN);
	classify("CLUSTERDOWN The cluster is down", &r);
	CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_CLUSTERDOWN);
	classify("LOADING Redis is loading the dataset in memory", &r);
	CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_LOADING);
	classify("READONLY You can't write against a read only replica.", &r);
	CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_READONLY);
	classify("MASTERDOWN Link with MASTER is down", &r);
	CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_MASTERDOWN);
	classify("NOAUTH Authentication required.", &r);
	CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_NOAUTH);
	classify("TRYAGAIN", &r);
	CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_TRYAGAIN);
	classify("ERR unknown command", &r);
	CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_OTHER);
	classify("MOVEDX 1 h:1", &r);
	CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_OTHER);
	classify("moved 1 h:1", &r);
	CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_OTHER);
	classify("", &r);
	CU_ASSERT_EQUAL(r.error, SG_RESP_ERR_OTHER);
}

static void
test_reply_framed_errors(void)
{
	check_replies("-MOVED 3999 127.0.0.1:6381\r\n-ASK 5 [::1]:7001\r\n",
		      "- size=28 value=0 text[25]=MOVED 3999 127.0.0.1:6381 err=2 slot=3999 "
		      "host='127.0.0.1' port=6381\n"
		      "- size=19 value=0 text[16]=ASK 5 [::1]:7001 err=3 slot=5 host='::1' "
		      "port=7001\n");
	check_replies("-TRYAGAIN x\r\n-CLUSTERDOWN y\r\n-LOADING z\r\n",
		      "- size=13 value=0 text[10]=TRYAGAIN x err=4\n"
		      "- size=16 value=0 text[13]=CLUSTERDOWN y err=5\n"
		      "- size=12 value=0 text[9]=LOADING z err=6\n");
	check_replies("-READONLY a\r\n-MASTERDOWN b\r\n-NOAUTH c\r\n",
		      "- size=13 value=0 text[10]=READONLY a err=7\n"
		      "- size=15 value=0 text[12]=MASTERDOWN b err=8\n"
		      "- size=11 value=0 text[8]=NOAUTH c err=9\n");
	/* a bulk error is classified from its payload */
	check_replies("!15\r\nMOVED 12 :30001\r\n",
		      "! size=22 value=15 text[15]=MOVED 12 :30001 err=2 slot=12 host='' "
		      "port=30001\n");
	/* errors nested in an aggregate do not classify the reply */
	check_replies("*1\r\n-MOVED 1 h:1\r\n", "* size=18 value=1\n");
}

/* ------------------------------------------------------------------ */
/* Writers                                                             */
/* ------------------------------------------------------------------ */

/* A sink of small segments, to make writers span them. */
#define SEG 256
struct seg_owner {
	char buf[64 * 1024];
	size_t seg_start[256];
	size_t seg_used[256];
	size_t nseg;
};

static int
seg_more(struct sg_sink *s, size_t min)
{
	struct seg_owner *o = s->owner;
	size_t next;

	if (min > SEG)
		return -EINVAL;
	if (o->nseg > 0)
		o->seg_used[o->nseg - 1] = (size_t)(s->pos - (o->buf + o->seg_start[o->nseg - 1]));
	next = o->nseg * SEG;
	if (o->nseg == SG_ARRAY_SIZE(o->seg_start) || next + SEG > sizeof(o->buf))
		return -ENOBUFS;
	o->seg_start[o->nseg] = next;
	o->seg_used[o->nseg] = 0;
	o->nseg++;
	s->pos = o->buf + next;
	s->end = s->pos + SEG;
	return 0;
}

static void
seg_init(struct seg_owner *o, struct sg_sink *s)
{
	memset(s, 0, sizeof(*s));
	o->nseg = 0;
	s->more = seg_more;
	s->owner = o;
}

static size_t
seg_collect(struct seg_owner *o, struct sg_sink *s, char *out)
{
	size_t i, n = 0;

	if (o->nseg > 0)
		o->seg_used[o->nseg - 1] = (size_t)(s->pos - (o->buf + o->seg_start[o->nseg - 1]));
	for (i = 0; i < o->nseg; i++) {
		memcpy(out + n, o->buf + o->seg_start[i], o->seg_used[i]);
		n += o->seg_used[i];
	}
	return n;
}

/* Runs `fn` into a membuf sink and into a small-segment sink (after a
 * 250-byte pad, so elements straddle segments); both must give `expect`. */
#define CHECK_WRITE(expect, fn_body)                                              \
	do {                                                                      \
		struct sg_membuf mb_;                                             \
		struct sg_sink s_;                                                \
		struct seg_owner *o_ = malloc(sizeof(*o_));                       \
		char *out_ = malloc(sizeof(o_->buf));                             \
		size_t n_;                                                        \
		sg_membuf_init(&mb_, 0);                                          \
		sg_membuf_sink(&mb_, &s_);                                        \
		{                                                                 \
			struct sg_sink *s = &s_;                                  \
			fn_body;                                                  \
		}                                                                 \
		sg_membuf_sink_done(&mb_, &s_);                                   \
		CU_ASSERT_EQUAL(s_.err, 0);                                       \
		CU_ASSERT_EQUAL(mb_.len, sizeof(expect) - 1);                     \
		CU_ASSERT_EQUAL(s_.written, sizeof(expect) - 1);                  \
		CU_ASSERT_TRUE(mb_.len == sizeof(expect) - 1 &&                   \
			       memcmp(mb_.data, expect, mb_.len) == 0);           \
		sg_membuf_free(&mb_);                                             \
		seg_init(o_, &s_);                                                \
		{                                                                 \
			struct sg_sink *s = &s_;                                  \
			char pad_[250];                                           \
			memset(pad_, '.', sizeof(pad_));                          \
			sg_sink_write(s, pad_, sizeof(pad_));                     \
			fn_body;                                                  \
		}                                                                 \
		CU_ASSERT_EQUAL(s_.err, 0);                                       \
		n_ = seg_collect(o_, &s_, out_);                                  \
		CU_ASSERT_TRUE(n_ == 250 + sizeof(expect) - 1 &&                  \
			       memcmp(out_ + 250, expect, n_ - 250) == 0);        \
		free(out_);                                                       \
		free(o_);                                                         \
	} while (0)

static void
test_write_scalars(void)
{
	CHECK_WRITE("+OK\r\n", sg_resp_write_simple(s, "OK", 2));
	CHECK_WRITE("+a  b\r\n", sg_resp_write_simple(s, "a\r\nb", 4));
	CHECK_WRITE("-ERR bad\r\n", sg_resp_write_error(s, "ERR bad", 7));
	CHECK_WRITE("-ERR x  y\r\n", sg_resp_write_error(s, "ERR x\r\ny", 8));
	CHECK_WRITE("-ERR unknown command 'FOO', with args\r\n",
		    sg_resp_write_errorf(s, "ERR unknown command '%s', with args", "FOO"));
	CHECK_WRITE("-ERR a b\r\n", sg_resp_write_errorf(s, "ERR %s", "a\nb"));
	CHECK_WRITE(":0\r\n", sg_resp_write_integer(s, 0));
	CHECK_WRITE(":-42\r\n", sg_resp_write_integer(s, -42));
	CHECK_WRITE(":-9223372036854775808\r\n", sg_resp_write_integer(s, INT64_MIN));
	CHECK_WRITE(":9223372036854775807\r\n", sg_resp_write_integer(s, INT64_MAX));
	CHECK_WRITE("$3\r\nfoo\r\n", sg_resp_write_bulk(s, "foo", 3));
	CHECK_WRITE("$0\r\n\r\n", sg_resp_write_bulk(s, NULL, 0));
	CHECK_WRITE("$5\r\nhello\r\n", sg_resp_write_bulk_str(s, "hello"));
	CHECK_WRITE("$4\r\na\r\nb\r\n", sg_resp_write_bulk(s, "a\r\nb", 4));
}

static void
test_write_long(void)
{
	/* errors longer than the errorf stack buffer, bulks longer than a
	 * segment */
	char big[1200], expect_err[1300], expect_bulk[1300];
	size_t i;

	for (i = 0; i < 1000; i++)
		big[i] = (char)('a' + i % 26);
	big[1000] = '\0';
	snprintf(expect_err, sizeof(expect_err), "-ERR %s\r\n", big);
	snprintf(expect_bulk, sizeof(expect_bulk), "$1000\r\n%s\r\n", big);
	{
		struct sg_membuf mb;
		struct sg_sink s;

		sg_membuf_init(&mb, 0);
		sg_membuf_sink(&mb, &s);
		sg_resp_write_errorf(&s, "ERR %s", big);
		sg_resp_write_bulk(&s, big, 1000);
		sg_resp_write_simple(&s, big, 1000);
		sg_membuf_sink_done(&mb, &s);
		CU_ASSERT_EQUAL(s.err, 0);
		CU_ASSERT_EQUAL(mb.len, 1007 + 1009 + 1003);
		CU_ASSERT_EQUAL(memcmp(mb.data, expect_err, 1007), 0);
		CU_ASSERT_EQUAL(memcmp(mb.data + 1007, expect_bulk, 1009), 0);
		CU_ASSERT_EQUAL(mb.data[1007 + 1009], '+');
		sg_membuf_free(&mb);
	}
	{
		struct seg_owner *o = malloc(sizeof(*o));
		char *out = malloc(sizeof(o->buf));
		struct sg_sink s;
		size_t n;

		seg_init(o, &s);
		sg_resp_write_bulk(&s, big, 1000);
		sg_resp_write_errorf(&s, "ERR %s", big);
		n = seg_collect(o, &s, out);
		CU_ASSERT_EQUAL(s.err, 0);
		CU_ASSERT_EQUAL(n, 1009 + 1007);
		CU_ASSERT_EQUAL(memcmp(out, expect_bulk, 1009), 0);
		CU_ASSERT_EQUAL(memcmp(out + 1009, expect_err, 1007), 0);
		free(out);
		free(o);
	}
}

static void
test_write_resp3_and_fallbacks(void)
{
	CHECK_WRITE("*3\r\n", sg_resp_write_array(s, 3));
	CHECK_WRITE("*-1\r\n", sg_resp_write_array(s, -1));
	CHECK_WRITE("%2\r\n", sg_resp_write_map(s, 2, 3));
	CHECK_WRITE("*4\r\n", sg_resp_write_map(s, 2, 2));
	CHECK_WRITE("~5\r\n", sg_resp_write_set(s, 5, 3));
	CHECK_WRITE("*5\r\n", sg_resp_write_set(s, 5, 2));
	CHECK_WRITE(">3\r\n", sg_resp_write_push(s, 3, 3));
	CHECK_WRITE("*3\r\n", sg_resp_write_push(s, 3, 2));
	CHECK_WRITE("_\r\n", sg_resp_write_null(s, 3));
	CHECK_WRITE("$-1\r\n", sg_resp_write_null(s, 2));
	CHECK_WRITE("_\r\n", sg_resp_write_null_array(s, 3));
	CHECK_WRITE("*-1\r\n", sg_resp_write_null_array(s, 2));
	CHECK_WRITE("#t\r\n#f\r\n", sg_resp_write_bool(s, true, 3); sg_resp_write_bool(s, false, 3));
	CHECK_WRITE(":1\r\n:0\r\n", sg_resp_write_bool(s, true, 2); sg_resp_write_bool(s, false, 2));
	CHECK_WRITE(",3.14\r\n", sg_resp_write_double(s, 3.14, 3));
	CHECK_WRITE("$4\r\n3.14\r\n", sg_resp_write_double(s, 3.14, 2));
	CHECK_WRITE(",1\r\n,-0.5\r\n,1e+300\r\n",
		    sg_resp_write_double(s, 1.0, 3); sg_resp_write_double(s, -0.5, 3);
		    sg_resp_write_double(s, 1e300, 3));
	CHECK_WRITE(",0.1\r\n,0.30000000000000004\r\n",
		    sg_resp_write_double(s, 0.1, 3); sg_resp_write_double(s, 0.1 + 0.2, 3));
	CHECK_WRITE(",inf\r\n,-inf\r\n,nan\r\n",
		    sg_resp_write_double(s, INFINITY, 3); sg_resp_write_double(s, -INFINITY, 3);
		    sg_resp_write_double(s, NAN, 3));
	CHECK_WRITE("$3\r\ninf\r\n", sg_resp_write_double(s, INFINITY, 2));
	CHECK_WRITE("=9\r\ntxt:hello\r\n", sg_resp_write_verbatim(s, "txt", "hello", 5, 3));
	CHECK_WRITE("$5\r\nhello\r\n", sg_resp_write_verbatim(s, "txt", "hello", 5, 2));
}

static void
test_write_command(void)
{
	struct sg_span argv[3] = {
		SG_SPAN_LIT("SET"), SG_SPAN_LIT("key"), { "v\0\r\n", 4 },
	};

	CHECK_WRITE("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$4\r\nv\0\r\n\r\n",
		    sg_resp_write_command(s, 3, argv));
	CHECK_WRITE("*0\r\n", sg_resp_write_command(s, 0, argv));
}

static void
test_write_errors_sticky(void)
{
	struct sg_membuf mb;
	struct sg_sink s;

	/* a bounded membuf that runs out: the error sticks, later writes
	 * are no-ops */
	sg_membuf_init(&mb, 8);
	sg_membuf_sink(&mb, &s);
	sg_resp_write_bulk(&s, "0123456789", 10);
	CU_ASSERT_NOT_EQUAL(s.err, 0);
	sg_resp_write_simple(&s, "OK", 2);
	CU_ASSERT_EQUAL(s.written, 0);
	sg_membuf_sink_done(&mb, &s);
	sg_membuf_free(&mb);
	/* a bad verbatim format */
	sg_membuf_init(&mb, 0);
	sg_membuf_sink(&mb, &s);
	sg_resp_write_verbatim(&s, "markdown", "x", 1, 3);
	CU_ASSERT_EQUAL(s.err, -EINVAL);
	CU_ASSERT_EQUAL(s.written, 0);
	sg_membuf_sink_done(&mb, &s);
	sg_membuf_free(&mb);
}

/* What the writers produce, the framer and the parser read back. */
static void
test_write_round_trip(void)
{
	struct sg_membuf mb;
	struct sg_sink s;
	struct sg_span argv[2] = { SG_SPAN_LIT("GET"), SG_SPAN_LIT("k\r\n") };
	struct tr t = { 0 };
	struct feed fd;
	struct pcfg cfg = cfg_default();
	int proto;

	for (proto = 2; proto <= 3; proto++) {
		sg_membuf_init(&mb, 0);
		sg_membuf_sink(&mb, &s);
		sg_resp_write_map(&s, 2, proto);
		sg_resp_write_bulk_str(&s, "a");
		sg_resp_write_set(&s, 2, proto);
		sg_resp_write_double(&s, 2.5, proto);
		sg_resp_write_bool(&s, true, proto);
		sg_resp_write_bulk_str(&s, "b");
		sg_resp_write_push(&s, 2, proto);
		sg_resp_write_null(&s, proto);
		sg_resp_write_verbatim(&s, "txt", "v", 1, proto);
		sg_resp_write_null_array(&s, proto);
		sg_resp_write_errorf(&s, "MOVED %d %s:%d", 42, "10.0.0.1", 7000);
		sg_resp_write_integer(&s, -7);
		sg_membuf_sink_done(&mb, &s);
		CU_ASSERT_EQUAL(s.err, 0);
		if (proto == 2) {
			check_replies_cfg(mb.data, mb.len, NULL,
					  "* size=51 value=4\n* size=5 value=-1 null\n"
					  "- size=25 value=0 text[22]=MOVED 42 10.0.0.1:7000 "
					  "err=2 slot=42 host='10.0.0.1' port=7000\n"
					  ": size=5 value=-7\n");
		} else {
			check_replies_cfg(mb.data, mb.len, NULL,
					  "% size=50 value=2\n_ size=3 value=0 null\n"
					  "- size=25 value=0 text[22]=MOVED 42 10.0.0.1:7000 "
					  "err=2 slot=42 host='10.0.0.1' port=7000\n"
					  ": size=5 value=-7\n");
		}
		sg_membuf_free(&mb);
	}
	/* the push written as the top-level element of RESP3 */
	sg_membuf_init(&mb, 0);
	sg_membuf_sink(&mb, &s);
	sg_resp_write_push(&s, 1, 3);
	sg_resp_write_bulk_str(&s, "x");
	sg_resp_write_command(&s, 2, argv);
	sg_membuf_sink_done(&mb, &s);
	check_replies_cfg(mb.data, 11, NULL, "> size=11 value=1\n");
	/* a written command parses back to the same arguments */
	feed_requests(mb.data + 11, mb.len - 11, NULL, 0, false, &cfg, &t, &fd);
	CU_ASSERT_STRING_EQUAL(t.s, "lead=0 size=22 argc=2 [3]GET [3]k\\x0d\\x0a\nidle\n");
	tr_free(&t);
	sg_membuf_free(&mb);
}

static const struct sg_unit_test request_tests[] = {
	{ "multibulk", test_req_multibulk },
	{ "empty requests skipped", test_req_empty_skipped },
	{ "inline", test_req_inline },
	{ "inline errors", test_req_inline_errors },
	{ "inline limits", test_req_inline_limits },
	{ "multibulk length errors", test_req_multibulk_length_errors },
	{ "bulk length errors", test_req_bulk_length_errors },
	{ "expected dollar", test_req_expected_dollar },
	{ "unauthenticated limits", test_req_unauth_limits },
	{ "unauthenticated then auth", test_req_unauth_then_auth },
	{ "max request, bulk, args", test_req_max_request },
	{ "argument pointers", test_req_arg_pointers },
	{ "argument offsets", test_req_arg_offsets },
	{ "copies survive growth", test_req_copies_survive_growth },
	{ "million arguments", test_req_million_args },
	{ "huge bulk streams", test_req_huge_bulk_streams },
	{ "sticky errors and idle", test_req_sticky_and_idle },
	{ "default limits", test_req_limits_default },
	{ NULL, NULL },
};

static const struct sg_unit_test reply_tests[] = {
	{ "RESP2 types", test_reply_resp2_types },
	{ "RESP3 types", test_reply_resp3_types },
	{ "attributes", test_reply_attributes },
	{ "push", test_reply_push },
	{ "nesting and depth bomb", test_reply_nesting },
	{ "malformed replies", test_reply_errors },
	{ "long text", test_reply_long_text },
	{ "classify errors", test_reply_classify },
	{ "framed errors", test_reply_framed_errors },
	{ NULL, NULL },
};

static const struct sg_unit_test writer_tests[] = {
	{ "scalars", test_write_scalars },
	{ "long elements", test_write_long },
	{ "RESP3 and fallbacks", test_write_resp3_and_fallbacks },
	{ "command", test_write_command },
	{ "sticky errors", test_write_errors_sticky },
	{ "round trip", test_write_round_trip },
	{ NULL, NULL },
};

SG_UNIT_MAIN({ "resp request parser", request_tests }, { "resp reply framer", reply_tests },
	     { "resp writers", writer_tests })
