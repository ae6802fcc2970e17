/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Merging a backend's COMMAND reply into a new command table.
 *
 * The reply has a fixed shape (Redis 7 / Valkey 8), which we walk with a
 * small pull reader instead of building a tree:
 *
 *   COMMAND reply          array of entries
 *   entry                  array: name, arity, flags, first key, last
 *                          key, step, acl categories, tips, key specs,
 *                          subcommands (entries, one level only)
 *   key spec               map (RESP3) or flat name/value array (RESP2):
 *                          flags, begin_search, find_keys, [notes]
 *   begin_search           map: type index|keyword|unknown, spec map
 *   find_keys              map: type range|keynum|unknown, spec map
 *
 * Older servers send entries of 6 to 8 elements (no key specs); their
 * first/last/step become one index+range spec. Everything the shape does
 * not need (ACL categories, notes, fields we do not know) is skipped by
 * an iterative skipper. The only recursion is entry -> subcommand entry,
 * one level deep.
 *
 * Parse, then build:
 *
 *   reply --parse--> pcmd[] (scratch arena: spans into the reply)
 *   builtin + pcmd[] --build--> sg_command[] sorted, subs sorted,
 *                               index, by_id   (the table's arena)
 */
#include <errno.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sg_command.h"
#include "command_internal.h"

/* ------------------------------------------------------------------ */
/* Arena: many small allocations, one free                            */
/* ------------------------------------------------------------------ */

struct command_arena {
	struct command_arena *next;
	size_t used;
	size_t size;
	alignas(16) unsigned char data[];
};

#define ARENA_CHUNK (64u << 10)

static void *
arena_alloc(struct command_arena **a, size_t n)
{
	struct command_arena *c = *a;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (c == NULL || c->size - c->used < n) {
		size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;

		c = malloc(sizeof(*c) + size);
		if (c == NULL)
			return NULL;
		c->next = *a;
		c->used = 0;
		c->size = size;
		*a = c;
	}
	p = c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

static void
arena_free(struct command_arena *a)
{
	while (a != NULL) {
		struct command_arena *next = a->next;

		free(a);
		a = next;
	}
}

/* ------------------------------------------------------------------ */
/* RESP pull reader                                                    */
/* ------------------------------------------------------------------ */

struct rd {
	const char *start;
	const char *p;
	const char *end;
	char *err;
	size_t errlen;
	int rc;		/* first error, sticky */
};

#define RD_MAX_LINE 512	/* a header or simple string longer: malformed */
#define MAX_WORD 128	/* a flag, tip, field name or type */

static int SG_PRINTF(2, 3)
rd_fail(struct rd *r, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (r->rc != 0)
		return r->rc;
	r->rc = -EINVAL;
	if (r->err == NULL || r->errlen == 0)
		return r->rc;
	n = snprintf(r->err, r->errlen, "COMMAND reply, byte %zu: ",
		     (size_t)(r->p - r->start));
	if (n >= 0 && (size_t)n < r->errlen) {
		va_start(ap, fmt);
		vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return r->rc;
}

/* Reads one "<type><line>\r\n" header; *line is the text after the type. */
static int
rd_header(struct rd *r, char *type, struct sg_span *line)
{
	const char *s, *eol;
	size_t avail;

	if (r->rc != 0)
		return r->rc;
	if (r->p >= r->end)
		return rd_fail(r, "truncated");
	s = r->p + 1;
	avail = (size_t)(r->end - s);
	eol = memchr(s, '\r', avail < RD_MAX_LINE + 1 ? avail : RD_MAX_LINE + 1);
	if (eol == NULL)
		return rd_fail(r, avail <= RD_MAX_LINE ? "truncated" :
			       "line too long");
	if (eol + 1 >= r->end)
		return rd_fail(r, "truncated");
	if (eol[1] != '\n')
		return rd_fail(r, "CR without LF");
	*type = r->p[0];
	line->ptr = s;
	line->len = (size_t)(eol - s);
	r->p = eol + 2;
	return 0;
}

static int
rd_count(struct rd *r, struct sg_span line, int64_t *n)
{
	if (sg_span_to_i64(line, n) != 0)
		return rd_fail(r, "bad length");
	return 0;
}

static const char *
type_name(char t)
{
	switch (t) {
	case '*': return "array";
	case '%': return "map";
	case '~': return "set";
	case '$': return "bulk string";
	case '+': return "simple string";
	case ':': return "integer";
	case '-': return "error";
	case '_': return "null";
	default: return "unexpected type";
	}
}

/*
 * An aggregate: array, set or push gives its length, a map twice its
 * pair count (a map is read as its flat key/value sequence, the RESP2
 * form). Each element takes at least 3 bytes, so a count the remaining
 * input cannot hold is refused before anything is sized by it.
 */
static int
rd_agg(struct rd *r, uint32_t limit, uint32_t *out, const char *what)
{
	struct sg_span line;
	int64_t n;
	char t;

	if (rd_header(r, &t, &line) != 0)
		return r->rc;
	if (t != '*' && t != '~' && t != '>' && t != '%')
		return rd_fail(r, "%s: expected an array, got %s", what,
			       type_name(t));
	if (rd_count(r, line, &n) != 0)
		return r->rc;
	if (n < 0)
		return rd_fail(r, "%s: null array", what);
	if (t == '%')
		n *= 2;
	if (n > limit)
		return rd_fail(r, "%s: %lld elements, at most %u", what,
			       (long long)n, limit);
	if ((uint64_t)n * 3 > (uint64_t)(r->end - r->p))
		return rd_fail(r, "truncated");
	*out = (uint32_t)n;
	return 0;
}

static int
rd_str(struct rd *r, struct sg_span *s, size_t limit, const char *what)
{
	struct sg_span line;
	int64_t n;
	char t;

	if (rd_header(r, &t, &line) != 0)
		return r->rc;
	if (t == '+') {
		*s = line;
	} else if (t == '$' || t == '=') {
		if (rd_count(r, line, &n) != 0)
			return r->rc;
		if (n < 0)
			return rd_fail(r, "%s: null string", what);
		if ((uint64_t)n + 2 > (uint64_t)(r->end - r->p))
			return rd_fail(r, "truncated");
		if (r->p[n] != '\r' || r->p[n + 1] != '\n')
			return rd_fail(r, "bulk string not followed by CRLF");
		s->ptr = r->p;
		s->len = (size_t)n;
		r->p += n + 2;
		if (t == '=') {
			/* verbatim string: "txt:" then the text */
			if (s->len < 4 || s->ptr[3] != ':')
				return rd_fail(r, "bad verbatim string");
			s->ptr += 4;
			s->len -= 4;
		}
	} else {
		return rd_fail(r, "%s: expected a string, got %s", what,
			       type_name(t));
	}
	if (s->len > limit)
		return rd_fail(r, "%s: %zu bytes, at most %zu", what, s->len,
			       limit);
	return 0;
}

static int
rd_int(struct rd *r, int64_t lo, int64_t hi, int64_t *v, const char *what)
{
	struct sg_span line;
	char t;

	if (rd_header(r, &t, &line) != 0)
		return r->rc;
	if (t != ':')
		return rd_fail(r, "%s: expected an integer, got %s", what,
			       type_name(t));
	if (sg_span_to_i64(line, v) != 0)
		return rd_fail(r, "%s: bad integer", what);
	if (*v < lo || *v > hi)
		return rd_fail(r, "%s: %lld out of range [%lld, %lld]", what,
			       (long long)*v, (long long)lo, (long long)hi);
	return 0;
}

/* Skips `n` values of any type, without recursion: aggregates add their
 * element count to what is left to skip. */
static int
rd_skip(struct rd *r, uint64_t n)
{
	while (n > 0 && r->rc == 0) {
		struct sg_span line;
		int64_t len;
		char t;

		n--;
		if (rd_header(r, &t, &line) != 0)
			break;
		switch (t) {
		case '+': case ':': case '_': case ',': case '#': case '(':
			break;
		case '-':
			return rd_fail(r, "error inside the reply");
		case '$': case '=': case '!':
			if (rd_count(r, line, &len) != 0)
				break;
			if (len < 0)
				break;
			if ((uint64_t)len + 2 > (uint64_t)(r->end - r->p))
				return rd_fail(r, "truncated");
			r->p += len + 2;
			break;
		case '*': case '~': case '>': case '%':
			if (rd_count(r, line, &len) != 0)
				break;
			if (len < 0)
				break;
			if (t == '%')
				len *= 2;
			if ((uint64_t)len * 3 > (uint64_t)(r->end - r->p) ||
			    n + (uint64_t)len > (uint64_t)(r->end - r->p))
				return rd_fail(r, "truncated");
			n += (uint64_t)len;
			break;
		default:
			return rd_fail(r, "%s", type_name(t));
		}
	}
	return r->rc;
}

/* ------------------------------------------------------------------ */
/* Parse                                                               */
/* ------------------------------------------------------------------ */

#define MAX_FLAGS 64		/* flags, tips, key spec flags per entry */
#define MAX_SPEC_FIELDS 32	/* name/value pairs in a key spec map */
#define MAX_ENTRY_FIELDS 64	/* elements of one command entry */
#define MAX_REPLY_KEYSPECS 64	/* kept: SG_COMMAND_MAX_KEYSPECS */

struct pcmd {
	struct sg_span name;
	int32_t arity;
	uint64_t flags;
	uint8_t nkeyspecs;
	struct sg_command_keyspec keyspecs[SG_COMMAND_MAX_KEYSPECS];
	struct sg_span keywords[SG_COMMAND_MAX_KEYSPECS];
	struct pcmd *subs;
	uint32_t nsubs;
};

static const struct {
	const char *name;
	uint64_t flag;
} flag_names[] = {
	{ "write", SG_CMD_F_WRITE },
	{ "readonly", SG_CMD_F_READONLY },
	{ "denyoom", SG_CMD_F_DENYOOM },
	{ "admin", SG_CMD_F_ADMIN },
	{ "pubsub", SG_CMD_F_PUBSUB },
	{ "noscript", SG_CMD_F_NOSCRIPT },
	{ "blocking", SG_CMD_F_BLOCKING },
	{ "loading", SG_CMD_F_LOADING },
	{ "stale", SG_CMD_F_STALE },
	{ "skip_monitor", SG_CMD_F_SKIP_MONITOR },
	{ "skip_slowlog", SG_CMD_F_SKIP_SLOWLOG },
	{ "asking", SG_CMD_F_ASKING },
	{ "fast", SG_CMD_F_FAST },
	{ "no_auth", SG_CMD_F_NO_AUTH },
	{ "may_replicate", SG_CMD_F_MAY_REPLICATE },
	{ "no_mandatory_keys", SG_CMD_F_NO_MANDATORY_KEYS },
	{ "no_multi", SG_CMD_F_NO_MULTI },
	{ "movablekeys", SG_CMD_F_MOVABLE_KEYS },
	{ "allow_busy", SG_CMD_F_ALLOW_BUSY },
};

static uint64_t
flag_bit(struct sg_span s)
{
	for (size_t i = 0; i < SG_ARRAY_SIZE(flag_names); i++) {
		if (sg_span_eq_nocase(s, flag_names[i].name))
			return flag_names[i].flag;
	}
	return 0;	/* a flag we do not route by */
}

static bool
span_is(struct sg_span s, const char *lit)
{
	return sg_span_eq_nocase(s, lit);
}

/* The fields of a begin_search or find_keys "spec" map, any order. */
struct spec_fields {
	unsigned seen;
	int64_t v[8];
	struct sg_span keyword;
};

enum {
	F_INDEX, F_STARTFROM, F_LASTKEY, F_KEYSTEP, F_LIMIT, F_KEYNUMIDX,
	F_FIRSTKEY, F_KEYWORD,
};

static const char *const field_names[] = {
	[F_INDEX] = "index", [F_STARTFROM] = "startfrom",
	[F_LASTKEY] = "lastkey", [F_KEYSTEP] = "keystep",
	[F_LIMIT] = "limit", [F_KEYNUMIDX] = "keynumidx",
	[F_FIRSTKEY] = "firstkey", [F_KEYWORD] = "keyword",
};

static int
parse_spec_fields(struct rd *r, struct spec_fields *f)
{
	uint32_t n;

	if (rd_agg(r, MAX_SPEC_FIELDS, &n, "key spec fields") != 0)
		return r->rc;
	if (n % 2 != 0)
		return rd_fail(r, "key spec fields: odd map");
	for (uint32_t i = 0; i < n / 2; i++) {
		struct sg_span k;
		unsigned j;

		if (rd_str(r, &k, MAX_WORD, "key spec field") != 0)
			return r->rc;
		for (j = 0; j < SG_ARRAY_SIZE(field_names); j++) {
			if (span_is(k, field_names[j]))
				break;
		}
		if (j == F_KEYWORD) {
			if (rd_str(r, &f->keyword, SG_COMMAND_NAME_MAX,
				   "keyword") != 0)
				return r->rc;
			if (f->keyword.len == 0)
				return rd_fail(r, "empty keyword");
		} else if (j < SG_ARRAY_SIZE(field_names)) {
			if (rd_int(r, -SG_COMMAND_MAX_ARGPOS,
				   SG_COMMAND_MAX_ARGPOS, &f->v[j],
				   field_names[j]) != 0)
				return r->rc;
		} else if (rd_skip(r, 1) != 0) {
			return r->rc;
		}
		f->seen |= 1u << j;
	}
	return 0;
}

#define HAS(f, bit) (((f)->seen & (1u << (bit))) != 0)

/* begin_search or find_keys: {type: ..., spec: {...}}. */
static int
parse_search(struct rd *r, struct sg_span *type, struct spec_fields *f,
	     const char *what)
{
	uint32_t n;
	bool have_type = false;

	if (rd_agg(r, MAX_SPEC_FIELDS, &n, what) != 0)
		return r->rc;
	if (n % 2 != 0)
		return rd_fail(r, "%s: odd map", what);
	for (uint32_t i = 0; i < n / 2; i++) {
		struct sg_span k;

		if (rd_str(r, &k, MAX_WORD, what) != 0)
			return r->rc;
		if (span_is(k, "type")) {
			if (rd_str(r, type, MAX_WORD, what) != 0)
				return r->rc;
			have_type = true;
		} else if (span_is(k, "spec")) {
			if (parse_spec_fields(r, f) != 0)
				return r->rc;
		} else if (rd_skip(r, 1) != 0) {
			return r->rc;
		}
	}
	if (!have_type)
		return rd_fail(r, "%s without a type", what);
	return 0;
}

static int
parse_keyspec(struct rd *r, struct sg_command_keyspec *ks,
	      struct sg_span *keyword)
{
	struct spec_fields bf = { 0 }, ff = { 0 };
	struct sg_span bt = { 0 }, ft = { 0 };
	bool have_b = false, have_f = false;
	uint32_t n, m;

	memset(ks, 0, sizeof(*ks));
	if (rd_agg(r, MAX_SPEC_FIELDS, &n, "key spec") != 0)
		return r->rc;
	if (n % 2 != 0)
		return rd_fail(r, "key spec: odd map");
	for (uint32_t i = 0; i < n / 2; i++) {
		struct sg_span k;

		if (rd_str(r, &k, MAX_WORD, "key spec") != 0)
			return r->rc;
		if (span_is(k, "flags")) {
			if (rd_agg(r, MAX_FLAGS, &m, "key spec flags") != 0)
				return r->rc;
			for (uint32_t j = 0; j < m; j++) {
				struct sg_span fl;

				if (rd_str(r, &fl, MAX_WORD, "flag") != 0)
					return r->rc;
				if (span_is(fl, "RW") || span_is(fl, "OW") ||
				    span_is(fl, "RM") ||
				    span_is(fl, "insert") ||
				    span_is(fl, "delete") ||
				    span_is(fl, "update"))
					ks->flags |= SG_KS_F_WRITE;
				else if (span_is(fl, "incomplete"))
					ks->flags |= SG_KS_F_INCOMPLETE;
				else if (span_is(fl, "not_key"))
					ks->flags |= SG_KS_F_NOT_KEY;
			}
		} else if (span_is(k, "begin_search")) {
			if (parse_search(r, &bt, &bf, "begin_search") != 0)
				return r->rc;
			have_b = true;
		} else if (span_is(k, "find_keys")) {
			if (parse_search(r, &ft, &ff, "find_keys") != 0)
				return r->rc;
			have_f = true;
		} else if (rd_skip(r, 1) != 0) {
			return r->rc;
		}
	}
	if (!have_b || !have_f)
		return rd_fail(r, "key spec without begin_search/find_keys");

	if (span_is(bt, "index")) {
		if (!HAS(&bf, F_INDEX) || bf.v[F_INDEX] < 1)
			return rd_fail(r, "begin_search index: bad index");
		ks->begin = SG_KS_BEGIN_INDEX;
		ks->index = (int32_t)bf.v[F_INDEX];
	} else if (span_is(bt, "keyword")) {
		if (!HAS(&bf, F_KEYWORD) || !HAS(&bf, F_STARTFROM) ||
		    bf.v[F_STARTFROM] == 0)
			return rd_fail(r, "begin_search keyword: bad spec");
		ks->begin = SG_KS_BEGIN_KEYWORD;
		ks->index = (int32_t)bf.v[F_STARTFROM];
		*keyword = bf.keyword;
	} else if (span_is(bt, "unknown")) {
		ks->begin = SG_KS_BEGIN_NONE;
	} else {
		return rd_fail(r, "begin_search: unknown type");
	}

	if (span_is(ft, "range")) {
		if (!HAS(&ff, F_LASTKEY) || !HAS(&ff, F_KEYSTEP) ||
		    !HAS(&ff, F_LIMIT) || ff.v[F_KEYSTEP] < 1 ||
		    ff.v[F_LIMIT] < 0)
			return rd_fail(r, "find_keys range: bad spec");
		ks->find = SG_KS_FIND_RANGE;
		ks->lastkey = (int32_t)ff.v[F_LASTKEY];
		ks->keystep = (int32_t)ff.v[F_KEYSTEP];
		ks->limit = (int32_t)ff.v[F_LIMIT];
	} else if (span_is(ft, "keynum")) {
		if (!HAS(&ff, F_KEYNUMIDX) || !HAS(&ff, F_FIRSTKEY) ||
		    !HAS(&ff, F_KEYSTEP) || ff.v[F_KEYNUMIDX] < 0 ||
		    ff.v[F_FIRSTKEY] < 0 || ff.v[F_KEYSTEP] < 1)
			return rd_fail(r, "find_keys keynum: bad spec");
		ks->find = SG_KS_FIND_KEYNUM;
		ks->keynumidx = (int32_t)ff.v[F_KEYNUMIDX];
		ks->firstkey = (int32_t)ff.v[F_FIRSTKEY];
		ks->keystep = (int32_t)ff.v[F_KEYSTEP];
	} else if (span_is(ft, "unknown")) {
		ks->find = SG_KS_FIND_NONE;
	} else {
		return rd_fail(r, "find_keys: unknown type");
	}
	if (ks->begin == SG_KS_BEGIN_NONE || ks->find == SG_KS_FIND_NONE) {
		/* finds nothing: say so */
		ks->begin = SG_KS_BEGIN_NONE;
		ks->find = SG_KS_FIND_NONE;
		ks->flags |= SG_KS_F_INCOMPLETE;
	}
	return 0;
}

/* Names are printable ASCII without spaces; a subcommand's is
 * "<parent>|<sub>" and a top-level one has no '|'. */
static int
check_name(struct rd *r, struct sg_span name, const struct pcmd *parent)
{
	size_t plen = parent ? parent->name.len : 0;

	if (name.len == 0)
		return rd_fail(r, "empty command name");
	for (size_t i = 0; i < name.len; i++) {
		unsigned char c = (unsigned char)name.ptr[i];

		if (c <= 0x20 || c >= 0x7f)
			return rd_fail(r, "bad byte in a command name");
		if (c == '|' && (parent == NULL || i != plen))
			return rd_fail(r, "'|' in a command name");
	}
	if (parent != NULL) {
		if (name.len <= plen + 1 || name.ptr[plen] != '|')
			return rd_fail(r, "subcommand name without its parent");
		for (size_t i = 0; i < plen; i++) {
			if (command_lower(name.ptr[i]) !=
			    command_lower(parent->name.ptr[i]))
				return rd_fail(r, "subcommand of another "
					       "command");
		}
	}
	return 0;
}

static int parse_entry(struct rd *r, struct command_arena **scratch,
		       struct pcmd *pc, const struct pcmd *parent);

static int
parse_subs(struct rd *r, struct command_arena **scratch, struct pcmd *pc)
{
	uint32_t n;

	if (rd_agg(r, SG_COMMAND_MAX_SUBS, &n, "subcommands") != 0)
		return r->rc;
	if (n == 0)
		return 0;
	pc->subs = arena_alloc(scratch, n * sizeof(*pc->subs));
	if (pc->subs == NULL)
		return r->rc = -ENOMEM;
	pc->nsubs = n;
	for (uint32_t i = 0; i < n; i++) {
		if (parse_entry(r, scratch, &pc->subs[i], pc) != 0)
			return r->rc;
	}
	return 0;
}

static int
parse_entry(struct rd *r, struct command_arena **scratch, struct pcmd *pc,
	    const struct pcmd *parent)
{
	int64_t arity, first, last, step;
	uint32_t n, m;

	if (rd_agg(r, MAX_ENTRY_FIELDS, &n, "command entry") != 0)
		return r->rc;
	if (n < 6)
		return rd_fail(r, "command entry of %u elements, at least 6",
			       n);
	if (rd_str(r, &pc->name, SG_COMMAND_NAME_MAX, "command name") != 0 ||
	    check_name(r, pc->name, parent) != 0)
		return r->rc;
	if (rd_int(r, -SG_COMMAND_MAX_ARGPOS, SG_COMMAND_MAX_ARGPOS, &arity,
		   "arity") != 0)
		return r->rc;
	pc->arity = (int32_t)arity;
	if (rd_agg(r, MAX_FLAGS, &m, "flags") != 0)
		return r->rc;
	for (uint32_t i = 0; i < m; i++) {
		struct sg_span fl;

		if (rd_str(r, &fl, MAX_WORD, "flag") != 0)
			return r->rc;
		pc->flags |= flag_bit(fl);
	}
	if (rd_int(r, -SG_COMMAND_MAX_ARGPOS, SG_COMMAND_MAX_ARGPOS, &first,
		   "first key") != 0 ||
	    rd_int(r, -SG_COMMAND_MAX_ARGPOS, SG_COMMAND_MAX_ARGPOS, &last,
		   "last key") != 0 ||
	    rd_int(r, -SG_COMMAND_MAX_ARGPOS, SG_COMMAND_MAX_ARGPOS, &step,
		   "key step") != 0)
		return r->rc;
	if (n > 6 && rd_skip(r, 1) != 0)	/* ACL categories */
		return r->rc;
	if (n > 7) {
		if (rd_agg(r, MAX_FLAGS, &m, "tips") != 0)
			return r->rc;
		for (uint32_t i = 0; i < m; i++) {
			struct sg_span tip;

			if (rd_str(r, &tip, MAX_WORD, "tip") != 0)
				return r->rc;
			if (span_is(tip, "nondeterministic_output"))
				pc->flags |= SG_CMD_F_NONDETERMINISTIC;
		}
	}
	if (n > 8) {
		if (rd_agg(r, MAX_REPLY_KEYSPECS, &m, "key specs") != 0)
			return r->rc;
		for (uint32_t i = 0; i < m; i++) {
			struct sg_command_keyspec ks;
			struct sg_span kw = { 0 };

			if (parse_keyspec(r, &ks, &kw) != 0)
				return r->rc;
			if (i >= SG_COMMAND_MAX_KEYSPECS) {
				/* more than we keep: we may miss keys */
				pc->keyspecs[SG_COMMAND_MAX_KEYSPECS - 1].flags
					|= SG_KS_F_INCOMPLETE;
				continue;
			}
			pc->keyspecs[i] = ks;
			pc->keywords[i] = kw;
			pc->nkeyspecs = (uint8_t)(i + 1);
		}
	} else if (first > 0 && step > 0 && (last < 0 || last >= first)) {
		/* pre-7.0 reply: first/last/step make one spec */
		struct sg_command_keyspec *ks = &pc->keyspecs[0];

		ks->begin = SG_KS_BEGIN_INDEX;
		ks->index = (int32_t)first;
		ks->find = SG_KS_FIND_RANGE;
		ks->lastkey = (int32_t)(last < 0 ? last : last - first);
		ks->keystep = (int32_t)step;
		if (pc->flags & SG_CMD_F_MOVABLE_KEYS)
			ks->flags |= SG_KS_F_INCOMPLETE;
		if (pc->flags & SG_CMD_F_WRITE)
			ks->flags |= SG_KS_F_WRITE;
		pc->nkeyspecs = 1;
	}
	if (n > 9) {
		if (parent == NULL) {
			if (parse_subs(r, scratch, pc) != 0)
				return r->rc;
		} else if (rd_skip(r, 1) != 0) {
			/* subcommands of a subcommand: not a shape we know */
			return r->rc;
		}
	}
	if (n > 10 && rd_skip(r, n - 10) != 0)
		return r->rc;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Build                                                               */
/* ------------------------------------------------------------------ */

struct slot {
	struct sg_command c;
	const struct pcmd *p;		/* what the reply says, or NULL */
	const struct sg_command *b;	/* the built-in entry, or NULL */
};

struct build {
	struct command_arena **arena;
	struct command_arena **scratch;
	struct rd *r;
	const struct sg_command **by_id;
};

static int
slot_cmp(const void *a, const void *b)
{
	return strcmp(((const struct slot *)a)->c.name,
		      ((const struct slot *)b)->c.name);
}

static char *
copy_lower(struct command_arena **a, struct sg_span s)
{
	char *p = arena_alloc(a, s.len + 1);

	if (p == NULL)
		return NULL;
	for (size_t i = 0; i < s.len; i++)
		p[i] = command_lower(s.ptr[i]);
	p[s.len] = '\0';
	return p;
}

/* Lays the reply's description over slot `s` (built-in or new). */
static int
apply(struct build *bd, struct slot *s)
{
	const struct pcmd *p = s->p;
	struct sg_command *c = &s->c;

	c->arity = p->arity;
	c->flags = p->flags | (s->b == NULL ? SG_CMD_F_DYNAMIC : 0);
	c->nkeyspecs = p->nkeyspecs;
	for (unsigned i = 0; i < p->nkeyspecs; i++) {
		c->keyspecs[i] = p->keyspecs[i];
		c->keyspecs[i].keyword = NULL;
		if (p->keyspecs[i].begin == SG_KS_BEGIN_KEYWORD) {
			char *kw = copy_lower(bd->arena, p->keywords[i]);

			if (kw == NULL)
				return -ENOMEM;
			c->keyspecs[i].keyword = kw;
		}
	}
	if (s->b == NULL) {
		c->name = copy_lower(bd->arena, p->name);
		if (c->name == NULL)
			return -ENOMEM;
		c->id = SG_CMD_UNKNOWN;
		c->merge = SG_MERGE_NONE;
		if (c->flags & SG_CMD_F_BLOCKING)
			c->route = SG_ROUTE_PIN;
		else
			c->route = p->nkeyspecs > 0 ? SG_ROUTE_KEY :
						      SG_ROUTE_ANY;
	}
	return 0;
}

/*
 * Builds the sorted subcommand array of one container from its built-in
 * subcommands (b, may be NULL) and the reply's (p, may be NULL).
 */
static int
build_subs(struct build *bd, struct sg_command *parent,
	   const struct sg_command *b, const struct pcmd *p)
{
	size_t nb = b ? b->nsubs : 0, np = p ? p->nsubs : 0, n = nb;
	struct slot *slots;
	struct sg_command *subs;
	int rc;

	if (nb + np == 0)
		return 0;
	slots = arena_alloc(bd->scratch, (nb + np) * sizeof(*slots));
	if (slots == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < nb; i++) {
		slots[i].c = b->subs[i];
		slots[i].b = &b->subs[i];
	}
	for (size_t i = 0; i < np; i++) {
		const struct pcmd *ps = &p->subs[i];
		const struct sg_command *bs = NULL;
		struct slot *s;
		size_t plen = ps->name.len;

		/* the reply's name is "parent|sub"; find the built-in one */
		for (size_t j = 0; b != NULL && j < nb; j++) {
			if (strlen(b->subs[j].name) == plen &&
			    sg_span_eq_nocase(ps->name, b->subs[j].name)) {
				bs = &b->subs[j];
				break;
			}
		}
		if (bs != NULL) {
			s = &slots[bs - b->subs];
			if (s->p != NULL)
				return rd_fail(bd->r, "duplicate subcommand "
					       "%.*s", (int)plen, ps->name.ptr);
		} else {
			for (size_t j = nb; j < n; j++) {
				if (sg_span_eq_nocase(ps->name,
						      slots[j].c.name))
					return rd_fail(bd->r, "duplicate "
						       "subcommand %.*s",
						       (int)plen,
						       ps->name.ptr);
			}
			s = &slots[n++];
		}
		s->p = ps;
		rc = apply(bd, s);
		if (rc < 0)
			return rc;
	}
	qsort(slots, n, sizeof(*slots), slot_cmp);
	subs = arena_alloc(bd->arena, n * sizeof(*subs));
	if (subs == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		subs[i] = slots[i].c;
		subs[i].parent = parent;
		subs[i].subs = NULL;
		subs[i].nsubs = 0;
		subs[i].flags &= ~SG_CMD_F_CONTAINER;
		if (subs[i].id != SG_CMD_UNKNOWN)
			bd->by_id[subs[i].id] = &subs[i];
	}
	parent->subs = subs;
	parent->nsubs = (uint16_t)n;
	parent->flags |= SG_CMD_F_CONTAINER;
	return 0;
}

static int
build_table(struct build *bd, const struct pcmd *pcmds, size_t np,
	    struct sg_command_table *t)
{
	size_t nb, n, size;
	const struct sg_command *bcmds = command_builtin_cmds(&nb);
	const struct sg_command_table *builtin = sg_command_builtin();
	struct sg_command *cmds;
	struct slot *slots;
	uint16_t *index;
	int rc;

	slots = arena_alloc(bd->scratch, (nb + np) * sizeof(*slots));
	if (slots == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < nb; i++) {
		slots[i].c = bcmds[i];
		slots[i].b = &bcmds[i];
	}
	n = nb;
	for (size_t i = 0; i < np; i++) {
		const struct pcmd *p = &pcmds[i];
		const struct sg_command *b;
		struct slot *s;

		b = sg_command_lookup(builtin, p->name.ptr, p->name.len);
		if (b != NULL) {
			s = &slots[b - bcmds];
		} else {
			s = &slots[n++];	/* repeats show after sorting */
		}
		if (s->p != NULL)
			return rd_fail(bd->r, "duplicate command %.*s",
				       (int)p->name.len, p->name.ptr);
		s->p = p;
		rc = apply(bd, s);
		if (rc < 0)
			return rc;
	}
	qsort(slots, n, sizeof(*slots), slot_cmp);

	/* The index, at most half full; a repeated new name shows here. */
	for (size = 16; size < 2 * n; size *= 2)
		;
	cmds = arena_alloc(bd->arena, n * sizeof(*cmds));
	index = arena_alloc(bd->arena, size * sizeof(*index));
	if (cmds == NULL || index == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char low[SG_COMMAND_NAME_MAX];
		size_t len = strlen(slots[i].c.name);
		uint32_t h = 0, j;

		if (i > 0 && strcmp(slots[i - 1].c.name, slots[i].c.name) == 0)
			return rd_fail(bd->r, "duplicate command %s",
				       slots[i].c.name);
		cmds[i] = slots[i].c;
		cmds[i].subs = NULL;
		cmds[i].nsubs = 0;
		cmds[i].flags &= ~SG_CMD_F_CONTAINER;
		(void)command_hash_lower(cmds[i].name, len, low, &h);
		for (j = h & (size - 1); index[j] != 0; j = (j + 1) & (size - 1))
			;
		index[j] = (uint16_t)(i + 1);
		if (cmds[i].id != SG_CMD_UNKNOWN)
			bd->by_id[cmds[i].id] = &cmds[i];
		rc = build_subs(bd, &cmds[i], slots[i].b,
				slots[i].p);
		if (rc < 0)
			return rc;
	}
	t->cmds = cmds;
	t->ncmds = (uint32_t)n;
	t->index = index;
	t->index_mask = (uint32_t)size - 1;
	return 0;
}

int
sg_command_table_merge(const char *reply, size_t len,
		       struct sg_command_table **out, char *err, size_t errlen)
{
	struct command_arena *arena = NULL, *scratch = NULL;
	struct rd r = { reply, reply, reply + len, err, errlen, 0 };
	struct sg_command_table *t;
	struct build bd;
	struct pcmd *pcmds = NULL;
	uint32_t n;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	*out = NULL;
	if (reply == NULL || len > SG_COMMAND_MAX_REPLY) {
		rc = rd_fail(&r, "reply larger than %u bytes",
			     SG_COMMAND_MAX_REPLY);
		goto fail;
	}
	if (len > 0 && reply[0] == '-') {
		rc = rd_fail(&r, "the server answered with an error");
		goto fail;
	}
	if (rd_agg(&r, SG_COMMAND_MAX_COMMANDS, &n, "COMMAND") != 0) {
		rc = r.rc;
		goto fail;
	}
	if (n > 0) {
		pcmds = arena_alloc(&scratch, n * sizeof(*pcmds));
		if (pcmds == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		if (parse_entry(&r, &scratch, &pcmds[i], NULL) != 0) {
			rc = r.rc;
			goto fail;
		}
	}
	if (r.p != r.end) {
		rc = rd_fail(&r, "trailing bytes after the reply");
		goto fail;
	}

	t = arena_alloc(&arena, sizeof(*t));
	bd.by_id = arena_alloc(&arena, SG_CMD_ID_COUNT * sizeof(*bd.by_id));
	if (t == NULL || bd.by_id == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	bd.arena = &arena;
	bd.scratch = &scratch;
	bd.r = &r;
	rc = build_table(&bd, pcmds, n, t);
	if (rc < 0)
		goto fail;
	t->by_id = bd.by_id;
	t->arena = arena;
	arena_free(scratch);
	*out = t;
	return 0;
fail:
	if (rc == -ENOMEM && err != NULL && errlen > 0)
		snprintf(err, errlen, "out of memory");
	arena_free(scratch);
	arena_free(arena);
	return rc;
}

void
sg_command_table_free(struct sg_command_table *t)
{
	/* the table lives in its own arena */
	if (t != NULL && t->arena != NULL)
		arena_free(t->arena);
}
